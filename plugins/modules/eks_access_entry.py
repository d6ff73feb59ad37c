#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_access_entry
short_description: Manage an EKS access entry and its access policy associations
version_added: 0.1.0
description:
  - Creates, updates and deletes the access entry of an IAM principal in an
    Amazon EKS cluster (clusters whose authentication mode includes C(API),
    see M(honeyhive.platform.eks_cluster)), and associates or disassociates
    EKS access policies so that the entry ends up with exactly
    O(access_policies).
  - Kubernetes groups and the username are updated in place with
    C(UpdateAccessEntry); create and update calls carry a
    C(clientRequestToken) derived from the cluster and principal and the
    request. Throttling and 5xx answers are retried.
  - A run that changes nothing costs one C(DescribeAccessEntry) call, plus
    one C(ListAssociatedAccessPolicies) when O(access_policies) is given.
options:
  cluster_name:
    description:
      - Name of the EKS cluster.
    type: str
    required: true
  principal_arn:
    description:
      - ARN of the IAM role or user the entry is for; the identity of the
        entry.
    type: str
    required: true
  type:
    description:
      - Type of the entry. V(STANDARD) for people and workloads; the others
        for nodes (EKS gives them their Kubernetes permissions itself, so they
        take no O(kubernetes_groups) and no O(access_policies)).
      - Cannot be changed on an existing entry.
    type: str
    choices: [STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, EC2, HYBRID_LINUX, HYPERPOD_LINUX]
    default: STANDARD
  kubernetes_groups:
    description:
      - Kubernetes groups of the principal, for Kubernetes RBAC bindings. The
        entry ends up with exactly these; when omitted they are not managed.
    type: list
    elements: str
  username:
    description:
      - Kubernetes username of the principal. When omitted EKS generates one
        on create and it is not managed afterwards. It cannot start with
        C(system:), C(eks:), C(aws:), C(amazon:) or C(iam:).
    type: str
  access_policies:
    description:
      - EKS access policies associated with the entry; the entry ends up with
        exactly these (an empty list disassociates all). When omitted they are
        not managed.
    type: list
    elements: dict
    suboptions:
      policy_arn:
        description:
          - ARN of the access policy, such as
            C(arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy),
            or only its name (V(AmazonEKSClusterAdminPolicy)), which is
            expanded in the partition of O(principal_arn).
        type: str
        required: true
      access_scope:
        description:
          - Where the policy applies. Default the whole cluster.
        type: dict
        suboptions:
          type:
            description: V(cluster) or V(namespace).
            type: str
            choices: [cluster, namespace]
            default: cluster
          namespaces:
            description:
              - Namespaces (a trailing C(*) is a wildcard). Required with
                O(access_policies[].access_scope.type=namespace), not allowed
                with V(cluster).
            type: list
            elements: str
  wait:
    description:
      - When EKS answers that the cluster is busy (still being created or
        updated), wait until it is C(ACTIVE) and try again instead of
        failing.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the cluster.
    type: int
    default: 1800
  state:
    description:
      - V(present) creates or updates the entry, V(absent) deletes it (with
        its access policy associations).
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - Supports check mode and diff mode.
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Platform administrators
  honeyhive.platform.eks_access_entry:
    cluster_name: honeyhive-prod-usw2
    principal_arn: arn:aws:iam::111122223333:role/honeyhive-platform-admin
    access_policies:
      - policy_arn: AmazonEKSClusterAdminPolicy
    tags: "{{ platform_tags }}"

- name: Read-only access to two namespaces for the support team
  honeyhive.platform.eks_access_entry:
    cluster_name: honeyhive-prod-usw2
    principal_arn: arn:aws:iam::111122223333:role/honeyhive-support
    kubernetes_groups: [support]
    access_policies:
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
        access_scope:
          type: namespace
          namespaces: [honeyhive, observability]

- name: Karpenter nodes
  honeyhive.platform.eks_access_entry:
    cluster_name: honeyhive-prod-usw2
    principal_arn: "{{ karpenter_node_role_arn }}"
    type: EC2_LINUX
"""

RETURN = r"""
cluster_name:
  description: Name of the cluster.
  returned: always
  type: str
principal_arn:
  description: The principal of the entry.
  returned: always
  type: str
arn:
  description: ARN of the access entry (null in check mode before it exists, and after deletion).
  returned: always
  type: str
type:
  description: Type of the entry.
  returned: when O(state=present)
  type: str
username:
  description: Kubernetes username.
  returned: when O(state=present)
  type: str
kubernetes_groups:
  description: Kubernetes groups.
  returned: when O(state=present)
  type: list
  elements: str
access_policies:
  description: Associated access policies (only when O(access_policies) is given).
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", access_scope: {type: namespace, namespaces: [honeyhive]}}]
tags:
  description: Tags of the entry.
  returned: when O(state=present)
  type: dict
"""

import copy
import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import call_when_ready as eks_call_when_ready
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_cluster_name
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import create_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import current
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import describe_or_none
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import eks_client
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import ensure_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import paginate
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import request_token
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import resource_options

ENTRY_TYPES = ["STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX"]
PRINCIPAL_RE = re.compile(r"^arn:(aws[a-z-]*):iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
POLICY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:eks::aws:cluster-access-policy/[A-Za-z0-9]+$")
POLICY_NAME_RE = re.compile(r"^[A-Za-z0-9]+$")
NAMESPACE_RE = re.compile(r"^[a-z0-9*]([-a-z0-9*]{0,61}[a-z0-9*])?$")
RESERVED_USER_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
POLL_DELAY = 15


def validate(module):
    params = module.params
    check_cluster_name(module)
    if not PRINCIPAL_RE.match(params["principal_arn"] or ""):
        module.fail_json(msg=invalid_value(
            "principal_arn", params["principal_arn"],
            "Allowed: an IAM role or user ARN such as arn:aws:iam::111122223333:role/platform-admin."))
    check_range(module, "wait_timeout", 0, 86400)
    if params["state"] == "absent":
        return
    username = params["username"]
    if username is not None and (not username or username.startswith(RESERVED_USER_PREFIXES)):
        module.fail_json(msg=invalid_value(
            "username", username, "Allowed: a non-empty name that does not start with %s." % ", ".join(RESERVED_USER_PREFIXES)))
    for group in params["kubernetes_groups"] or []:
        if not group:
            module.fail_json(msg=invalid_value("kubernetes_groups", group, "Allowed: non-empty group names."))
    if params["type"] != "STANDARD":
        for option in ("kubernetes_groups", "access_policies"):
            if params[option]:
                module.fail_json(msg=invalid_value(
                    option, params[option], "Not allowed with type %s: EKS gives node entries their permissions itself; "
                    "use type STANDARD." % params["type"]))
    seen = set()
    for entry in params["access_policies"] or []:
        arn = policy_arn(module, entry["policy_arn"])
        scope = entry.get("access_scope") or {}
        kind = scope.get("type") or "cluster"
        namespaces = scope.get("namespaces") or []
        if kind == "namespace" and not namespaces:
            module.fail_json(msg=invalid_value(
                "access_policies.access_scope.namespaces", namespaces, "Required (at least one) when access_scope.type is namespace."))
        if kind == "cluster" and namespaces:
            module.fail_json(msg=invalid_value(
                "access_policies.access_scope.namespaces", namespaces, "Not allowed when access_scope.type is cluster."))
        for namespace in namespaces:
            if not NAMESPACE_RE.match(namespace or ""):
                module.fail_json(msg=invalid_value(
                    "access_policies.access_scope.namespaces", namespace,
                    "Allowed: Kubernetes namespace names (a trailing * is a wildcard)."))
        if arn in seen:
            module.fail_json(msg=invalid_value("access_policies", entry["policy_arn"], "Allowed: each policy once."))
        seen.add(arn)
    check_tags(module)


def partition(module):
    return PRINCIPAL_RE.match(module.params["principal_arn"]).group(1)


def policy_arn(module, value):
    """A full access policy ARN; a bare name is expanded in the principal's partition."""
    if value and POLICY_NAME_RE.match(value):
        return "arn:%s:eks::aws:cluster-access-policy/%s" % (partition(module), value)
    if not POLICY_ARN_RE.match(value or ""):
        module.fail_json(msg=invalid_value(
            "access_policies.policy_arn", value,
            "Allowed: an EKS access policy ARN such as arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy, or its name."))
    return value


def wanted_policies(module):
    result = {}
    for entry in module.params["access_policies"] or []:
        scope = entry.get("access_scope") or {}
        kind = scope.get("type") or "cluster"
        result[policy_arn(module, entry["policy_arn"])] = dict(
            type=kind, namespaces=sorted(set(scope.get("namespaces") or [])) if kind == "namespace" else [])
    return result


# ------------------------------------------------------------ reading


def describe(module, client):
    params = module.params
    return describe_or_none(
        module, client.describe_access_entry, "EKS access entry of %s in cluster %s" % (params["principal_arn"], params["cluster_name"]),
        "accessEntry", clusterName=params["cluster_name"], principalArn=params["principal_arn"],
    )


def list_policies(module, client):
    params = module.params
    found = paginate(
        module, client.list_associated_access_policies, "associatedAccessPolicies",
        "access policies of %s in cluster %s" % (params["principal_arn"], params["cluster_name"]),
        clusterName=params["cluster_name"], principalArn=params["principal_arn"],
    )
    result = {}
    for entry in found:
        scope = entry.get("accessScope") or {}
        result[entry["policyArn"]] = dict(type=scope.get("type") or "cluster", namespaces=sorted(set(scope.get("namespaces") or [])))
    return result


def policies_view(policies):
    if policies is None:
        return None
    return [dict(policy_arn=arn, access_scope=dict(scope)) for arn, scope in sorted(policies.items())]


def view(module, entry, policies=None):
    entry = entry or {}
    params = module.params
    result = dict(
        cluster_name=params["cluster_name"],
        principal_arn=params["principal_arn"],
        arn=entry.get("accessEntryArn"),
        type=entry.get("type"),
        username=entry.get("username"),
        kubernetes_groups=sorted(entry.get("kubernetesGroups") or []),
        tags=dict(entry.get("tags") or {}),
    )
    if policies is not None:
        result["access_policies"] = policies_view(policies)
    return result


DIFF_KEYS = ("type", "username", "kubernetes_groups", "access_policies", "tags")


def state_view(result):
    if not result:
        return {}
    return dict((k, result[k]) for k in DIFF_KEYS if k in result)


# ------------------------------------------------------------ changing


def call_when_ready(module, client, call, what, **request):
    """``call_when_ready`` of the EKS helpers; a missing cluster or entry fails."""
    missing = "cluster_name %r or the entry does not exist" % module.params["cluster_name"]
    return eks_call_when_ready(module, client, call, what, missing=missing, delay=POLL_DELAY, **request)


def create(module, client):
    params = module.params
    request = dict(clusterName=params["cluster_name"], principalArn=params["principal_arn"], type=params["type"])
    if params["kubernetes_groups"]:
        request["kubernetesGroups"] = sorted(set(params["kubernetes_groups"]))
    if params["username"]:
        request["username"] = params["username"]
    tags = create_tags(params["tags"])
    if tags:
        request["tags"] = tags
    request["clientRequestToken"] = request_token("CreateAccessEntry", "%s/%s" % (params["cluster_name"], params["principal_arn"]), request)
    if module.check_mode:
        return dict(type=params["type"], username=params["username"], kubernetesGroups=request.get("kubernetesGroups", []),
                    tags=dict(tags or {}), accessEntryArn=None)
    answer = call_when_ready(
        module, client, client.create_access_entry,
        "create the EKS access entry of %s in cluster %s" % (params["principal_arn"], params["cluster_name"]),
        recover=lambda: describe(module, client), **request)
    return answer.get("accessEntry", answer)


def update_entry(module, client, entry):
    params = module.params
    request = {}
    if params["kubernetes_groups"] is not None and set(current(entry, "kubernetesGroups")) != set(params["kubernetes_groups"]):
        request["kubernetesGroups"] = sorted(set(params["kubernetes_groups"]))
    if params["username"] is not None and entry.get("username") != params["username"]:
        request["username"] = params["username"]
    if not request:
        return entry, False
    after = dict(entry)
    if "kubernetesGroups" in request:
        after["kubernetesGroups"] = request["kubernetesGroups"]
    if "username" in request:
        after["username"] = request["username"]
    if module.check_mode:
        return after, True
    full = dict(request, clusterName=params["cluster_name"], principalArn=params["principal_arn"])
    full["clientRequestToken"] = request_token(
        "UpdateAccessEntry", "%s/%s" % (params["cluster_name"], params["principal_arn"]), full, entry.get("modifiedAt"))
    answer = call_when_ready(
        module, client, client.update_access_entry,
        "update the EKS access entry of %s in cluster %s" % (params["principal_arn"], params["cluster_name"]), **full)
    return answer.get("accessEntry") or after, True


def sync_policies(module, client, current, wanted):
    params = module.params
    changed = False
    for arn, scope in sorted(wanted.items()):
        if current.get(arn) == scope:
            continue
        changed = True
        if module.check_mode:
            continue
        access_scope = {"type": scope["type"]}
        if scope["type"] == "namespace":
            access_scope["namespaces"] = list(scope["namespaces"])
        call_when_ready(
            module, client, client.associate_access_policy, "associate access policy %s with %s" % (arn, params["principal_arn"]),
            clusterName=params["cluster_name"], principalArn=params["principal_arn"], policyArn=arn, accessScope=access_scope)
    for arn in sorted(set(current) - set(wanted)):
        changed = True
        if module.check_mode:
            continue
        call_when_ready(
            module, client, client.disassociate_access_policy, "disassociate access policy %s from %s" % (arn, params["principal_arn"]),
            not_found_ok=True, clusterName=params["cluster_name"], principalArn=params["principal_arn"], policyArn=arn)
    return changed


# ---------------------------------------------------------------- main


def ensure_absent(module, client):
    params = module.params
    entry = describe(module, client)
    if entry is None:
        module.exit_json(changed=False, cluster_name=params["cluster_name"], principal_arn=params["principal_arn"], arn=None)
    before = state_view(view(module, entry))
    if not module.check_mode:
        call_when_ready(
            module, client, client.delete_access_entry,
            "delete the EKS access entry of %s in cluster %s" % (params["principal_arn"], params["cluster_name"]),
            not_found_ok=True, clusterName=params["cluster_name"], principalArn=params["principal_arn"])
    result = dict(changed=True, cluster_name=params["cluster_name"], principal_arn=params["principal_arn"], arn=None)
    exit_with_diff(module, result, before, {})


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        principal_arn=dict(type="str", required=True),
        type=dict(type="str", choices=ENTRY_TYPES, default="STANDARD"),
        kubernetes_groups=dict(type="list", elements="str"),
        username=dict(type="str"),
        access_policies=dict(type="list", elements="dict", options=dict(
            policy_arn=dict(type="str", required=True),
            access_scope=dict(type="dict", options=dict(
                type=dict(type="str", choices=["cluster", "namespace"], default="cluster"),
                namespaces=dict(type="list", elements="str"),
            )),
        )),
        **resource_options(wait_timeout=1800)
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    params = module.params
    client = eks_client(module)

    if params["state"] == "absent":
        ensure_absent(module, client)

    entry = describe(module, client)
    before = None
    if entry is None:
        after = create(module, client)
        changed = True
        current_policies = {}
    else:
        if entry.get("type") and entry["type"] != params["type"]:
            module.fail_json(msg=invalid_value(
                "type", params["type"], "EKS cannot change the type of an access entry: the entry of %s in cluster %s is %s. "
                "Delete it (state: absent) first." % (params["principal_arn"], params["cluster_name"], entry["type"])))
        current_policies = list_policies(module, client) if params["access_policies"] is not None else None
        before = view(module, entry, current_policies)
        after, changed = update_entry(module, client, copy.deepcopy(entry))

    after_policies = None
    if params["access_policies"] is not None:
        wanted = wanted_policies(module)
        if sync_policies(module, client, current_policies or {}, wanted):
            changed = True
        after_policies = wanted

    arn = after.get("accessEntryArn") or (entry or {}).get("accessEntryArn")
    if entry is not None:
        tags_changed, tags = ensure_tags(
            module, client, arn, entry.get("tags"), params["tags"], params["purge_tags"],
            "EKS access entry of %s" % params["principal_arn"])
        after["tags"] = tags
        changed = changed or tags_changed

    result = dict(changed=changed, **view(module, after, after_policies))
    exit_with_diff(module, result, state_view(before), state_view(result))


if __name__ == "__main__":
    main()
