#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_addon
short_description: Manage an EKS add-on (vpc-cni, coredns, kube-proxy, ...)
version_added: 0.1.0
description:
  - Installs, updates and removes an Amazon EKS add-on such as C(vpc-cni),
    C(coredns), C(kube-proxy), C(eks-pod-identity-agent) or
    C(aws-ebs-csi-driver).
  - The version can be pinned (V(v1.19.0-eksbuild.1)) or resolved for the
    cluster's Kubernetes version with C(DescribeAddonVersions) -
    V(default) (the version EKS marks as default) or V(latest). The resolved
    version is returned in RV(addon_version) and RV(resolved_version).
  - Version, IAM role, pod identity associations and configuration values
    are changed in place with one C(UpdateAddon) call, which carries a
    C(clientRequestToken) derived from the add-on and cluster names, the
    request and the add-on's C(modifiedAt). Throttling and 5xx answers are
    retried.
  - A run that changes nothing costs one C(DescribeAddon) call, plus
    C(DescribeCluster) and C(DescribeAddonVersions) when O(version) is
    V(default) or V(latest), plus one C(DescribePodIdentityAssociation) per
    association when O(pod_identity_associations) is given.
options:
  cluster_name:
    description:
      - Name of the EKS cluster.
    type: str
    required: true
  name:
    description:
      - Name of the add-on, such as V(vpc-cni), V(coredns), V(kube-proxy),
        V(eks-pod-identity-agent) or V(aws-ebs-csi-driver).
    type: str
    required: true
  version:
    description:
      - Add-on version. An explicit version such as V(v1.19.0-eksbuild.1),
        or V(default) / V(latest) to resolve it for the cluster's Kubernetes
        version.
      - When omitted, a new add-on gets the EKS default and an existing one
        keeps its version.
      - Add-ons are never downgraded. An explicit version older than the
        installed one is an error; with V(default) or V(latest) an installed
        version newer than the resolved one is kept.
    type: str
  service_account_role_arn:
    description:
      - IAM role for the add-on's service account (IAM roles for service
        accounts). An empty string removes it. When omitted it is not
        managed.
    type: str
  pod_identity_associations:
    description:
      - EKS Pod Identity associations the add-on creates and owns; the add-on
        ends up with exactly these. An empty list removes them all. When
        omitted they are not managed.
    type: list
    elements: dict
    suboptions:
      service_account:
        description: Kubernetes service account of the add-on.
        type: str
        required: true
      role_arn:
        description: IAM role the service account assumes.
        type: str
        required: true
  configuration_values:
    description:
      - Add-on configuration, as a mapping; sent as JSON. Compared as data,
        so key order and formatting do not matter. An empty mapping removes
        the configuration. When omitted it is not managed.
    type: dict
  resolve_conflicts:
    description:
      - What EKS does when a field it manages was changed in the cluster.
        V(OVERWRITE) restores the add-on's values, V(PRESERVE) keeps the
        cluster's (on update), V(NONE) fails on a conflict.
    type: str
    choices: [OVERWRITE, PRESERVE, NONE]
    default: OVERWRITE
  preserve:
    description:
      - With O(state=absent), keep the add-on's Kubernetes resources in the
        cluster and only stop EKS managing them.
    type: bool
    default: false
  wait:
    description:
      - Wait until the add-on is C(ACTIVE) after a create or an update, or
        when it is still being created or updated (a C(DEGRADED) add-on, such
        as coredns on a cluster without nodes yet, ends the wait with a
        warning), and until it is gone after a delete.
      - With V(false) for several add-ons and then V(true) for the same ones,
        EKS creates them side by side and the second pass waits for them.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait.
    type: int
    default: 900
  state:
    description:
      - V(present) installs or updates the add-on, V(absent) removes it.
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
- name: VPC CNI with prefix delegation, pinned
  honeyhive.platform.eks_addon:
    cluster_name: honeyhive-prod-usw2
    name: vpc-cni
    version: v1.19.0-eksbuild.1
    service_account_role_arn: "{{ eks_vpc_cni_role_arn }}"
    configuration_values:
      env:
        ENABLE_PREFIX_DELEGATION: "true"
    tags: "{{ platform_tags }}"

- name: Pod Identity agent at the default version for the cluster
  honeyhive.platform.eks_addon:
    cluster_name: honeyhive-prod-usw2
    name: eks-pod-identity-agent
    version: default

- name: EBS CSI driver with a pod identity association
  honeyhive.platform.eks_addon:
    cluster_name: honeyhive-prod-usw2
    name: aws-ebs-csi-driver
    version: latest
    pod_identity_associations:
      - service_account: ebs-csi-controller-sa
        role_arn: "{{ eks_ebs_csi_role_arn }}"

- name: Remove an add-on but keep its resources in the cluster
  honeyhive.platform.eks_addon:
    cluster_name: honeyhive-prod-usw2
    name: kube-proxy
    preserve: true
    state: absent
"""

RETURN = r"""
name:
  description: Name of the add-on.
  returned: always
  type: str
  sample: vpc-cni
cluster_name:
  description: Name of the cluster.
  returned: always
  type: str
arn:
  description: ARN of the add-on (null in check mode before it exists, and after removal).
  returned: always
  type: str
status:
  description: Status (C(CREATING), C(ACTIVE), C(DEGRADED), C(UPDATING), ...); null once removed.
  returned: always
  type: str
addon_version:
  description: Version of the add-on (the planned one in check mode).
  returned: when O(state=present)
  type: str
  sample: v1.19.0-eksbuild.1
resolved_version:
  description: The version O(version) resolved to (V(default) and V(latest) resolved; an explicit version as given; null when O(version) is omitted).
  returned: when O(state=present)
  type: str
  sample: v1.19.0-eksbuild.1
kubernetes_version:
  description: Kubernetes version of the cluster, when it was looked up to resolve O(version).
  returned: when O(version) is V(default) or V(latest)
  type: str
service_account_role_arn:
  description: IAM role of the add-on's service account, or null.
  returned: when O(state=present)
  type: str
pod_identity_associations:
  description: Pod identity associations owned by the add-on.
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    service_account:
      description: Service account.
      type: str
    role_arn:
      description: IAM role.
      type: str
    association_arn:
      description: ARN of the association (only when O(pod_identity_associations) was given).
      type: str
configuration_values:
  description: Add-on configuration as data (empty when there is none).
  returned: when O(state=present)
  type: dict
health_issues:
  description: Health issues EKS reports for the add-on.
  returned: when O(state=present)
  type: list
  elements: dict
tags:
  description: Tags of the add-on.
  returned: when O(state=present)
  type: dict
updates:
  description: The EKS updates this run started.
  returned: when O(state=present)
  type: list
  elements: dict
"""

import copy
import json
import re

try:
    import yaml
except ImportError:
    yaml = None

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import ROLE_ARN_RE
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_cluster_name
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_not_deleting
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_regex
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import create_or_adopt
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import create_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import current
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import delete_and_wait
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import describe_cluster
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import describe_or_none
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import eks_client
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import ensure_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import health_issues
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import paginate
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import request_token
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import resource_options
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import update_record
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import wait_status
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import wait_update_record

ADDON_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
ADDON_VERSION_RE = re.compile(r"^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$")
SERVICE_ACCOUNT_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
ALIASES = ("default", "latest")
FAILED = ("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED")
TRANSITIONAL = ("CREATING", "UPDATING")
POLL_DELAY = 10


def validate(module):
    params = module.params
    check_cluster_name(module)
    if not ADDON_NAME_RE.match(params["name"] or ""):
        module.fail_json(msg=invalid_value(
            "name", params["name"], "Allowed: an EKS add-on name such as vpc-cni, coredns, kube-proxy, eks-pod-identity-agent "
            "or aws-ebs-csi-driver."))
    check_range(module, "wait_timeout", 0, 86400)
    if params["state"] == "absent":
        return
    version = params["version"]
    if version is not None and version not in ALIASES and not ADDON_VERSION_RE.match(version):
        module.fail_json(msg=invalid_value(
            "version", version, "Allowed: 'default', 'latest' or an add-on version such as v1.19.0-eksbuild.1."))
    if params["service_account_role_arn"]:
        check_regex(module, "service_account_role_arn", ROLE_ARN_RE,
                    "Allowed: an IAM role ARN such as arn:aws:iam::111122223333:role/vpc-cni, or '' to remove it.")
    seen = set()
    for entry in params["pod_identity_associations"] or []:
        if not SERVICE_ACCOUNT_RE.match(entry["service_account"] or ""):
            module.fail_json(msg=invalid_value(
                "pod_identity_associations.service_account", entry["service_account"],
                "Allowed: a Kubernetes service account name (lower case letters, digits, '-' and '.')."))
        check_regex(module, "pod_identity_associations.role_arn", ROLE_ARN_RE,
                    "Allowed: an IAM role ARN such as arn:aws:iam::111122223333:role/ebs-csi.", value=entry["role_arn"])
        if entry["service_account"] in seen:
            module.fail_json(msg=invalid_value(
                "pod_identity_associations", entry["service_account"], "Allowed: one association per service account."))
        seen.add(entry["service_account"])
    if params["configuration_values"] is not None:
        try:
            json.dumps(params["configuration_values"])
        except (TypeError, ValueError):
            module.fail_json(msg=invalid_value(
                "configuration_values", params["configuration_values"], "Allowed: a mapping that can be written as JSON."))
    check_tags(module)


# ------------------------------------------------------------- versions


def version_key(text):
    """Sort key for add-on versions such as v1.19.0-eksbuild.1."""
    numbers = [int(n) for n in re.findall(r"\d+", text or "")]
    return numbers


def resolve_version(module, client):
    """(resolved version, kubernetes version) for O(version)."""
    params = module.params
    version = params["version"]
    if version not in ALIASES:
        return version, None
    cluster_name = params["cluster_name"]
    cluster = describe_cluster(module, client, cluster_name)
    if cluster is None:
        module.fail_json(msg=invalid_value("cluster_name", cluster_name, "The cluster does not exist in this region and account."))
    kubernetes = cluster.get("version")
    addons = paginate(module, client.describe_addon_versions, "addons", "versions of EKS add-on %s" % params["name"],
                      addonName=params["name"], kubernetesVersion=kubernetes)
    candidates = []
    default = None
    for addon in addons:
        if addon.get("addonName") != params["name"]:
            continue
        for info in addon.get("addonVersions") or []:
            for compat in info.get("compatibilities") or []:
                if compat.get("clusterVersion") == kubernetes:
                    candidates.append(info["addonVersion"])
                    if compat.get("defaultVersion"):
                        default = info["addonVersion"]
    if not candidates:
        module.fail_json(msg=invalid_value(
            "name", params["name"], "EKS lists no version of this add-on for Kubernetes %s (cluster %s)." % (kubernetes, cluster_name)))
    if version == "default" and default is None:
        module.fail_json(msg=invalid_value(
            "version", version, "EKS marks no default version of %s for Kubernetes %s; give 'latest' or one of: %s."
            % (params["name"], kubernetes, ", ".join(sorted(set(candidates), key=version_key, reverse=True)))))
    if version == "default":
        return default, kubernetes
    return max(candidates, key=version_key), kubernetes


# ------------------------------------------------------------ reading


def describe(module, client, cluster_name, name):
    return describe_or_none(
        module, client.describe_addon, "EKS add-on %s of cluster %s" % (name, cluster_name), "addon",
        clusterName=cluster_name, addonName=name,
    )


def parse_configuration(text):
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        pass
    if yaml is not None:
        try:
            return yaml.safe_load(text) or {}
        except yaml.YAMLError:
            pass
    return text


def association_id(arn):
    return (arn or "").rsplit("/", 1)[-1]


def describe_associations(module, client, cluster_name, arns):
    """[{service_account, role_arn, association_arn}] for the add-on's associations."""
    result = []
    for arn in arns or []:
        found = describe_or_none(
            module, client.describe_pod_identity_association, "pod identity association %s" % arn, "association",
            clusterName=cluster_name, associationId=association_id(arn),
        )
        if found is not None:
            result.append(dict(service_account=found.get("serviceAccount"), role_arn=found.get("roleArn"), association_arn=arn))
    return sorted(result, key=lambda a: a["service_account"] or "")


def view(addon, associations=None, resolved=None, kubernetes=None, updates=None):
    addon = addon or {}
    if associations is None:
        associations = [dict(association_arn=arn) for arn in addon.get("podIdentityAssociations") or []]
    result = dict(
        name=addon.get("addonName"),
        cluster_name=addon.get("clusterName"),
        arn=addon.get("addonArn"),
        status=addon.get("status"),
        addon_version=addon.get("addonVersion"),
        resolved_version=resolved,
        service_account_role_arn=addon.get("serviceAccountRoleArn"),
        pod_identity_associations=associations,
        configuration_values=parse_configuration(addon.get("configurationValues")),
        health_issues=list((addon.get("health") or {}).get("issues") or []),
        tags=dict(addon.get("tags") or {}),
        updates=list(updates or []),
    )
    if kubernetes:
        result["kubernetes_version"] = kubernetes
    return result


DIFF_KEYS = ("addon_version", "service_account_role_arn", "pod_identity_associations", "configuration_values", "tags")


def state_view(result):
    if not result or not result.get("name"):
        return {}
    out = dict((k, result.get(k)) for k in DIFF_KEYS)
    out["pod_identity_associations"] = [
        dict((k, v) for k, v in a.items() if k != "association_arn") for a in out["pod_identity_associations"] or []
    ]
    return out


def wait_ready(module, client, cluster_name, name):
    def failed(addon):
        if addon and addon.get("status") in FAILED + ("DELETING",):
            return "is %s: %s" % (addon["status"], health_issues(addon))
        return None

    addon = wait_status(
        module, lambda: describe(module, client, cluster_name, name), "EKS add-on %s of cluster %s to be ACTIVE" % (name, cluster_name),
        lambda a: a is not None and a.get("status") in ("ACTIVE", "DEGRADED"), failed=failed, delay=POLL_DELAY,
    )
    if addon.get("status") == "DEGRADED":
        module.warn("EKS add-on %s of cluster %s is DEGRADED: %s" % (name, cluster_name, health_issues(addon)))
    return addon


# ------------------------------------------------------- create / update


def associations_request(entries):
    return [{"serviceAccount": e["service_account"], "roleArn": e["role_arn"]} for e in entries or []]


def config_text(values):
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def create(module, client, resolved):
    params = module.params
    cluster_name, name = params["cluster_name"], params["name"]
    request = dict(clusterName=cluster_name, addonName=name, resolveConflicts=params["resolve_conflicts"])
    if resolved:
        request["addonVersion"] = resolved
    if params["service_account_role_arn"]:
        request["serviceAccountRoleArn"] = params["service_account_role_arn"]
    if params["pod_identity_associations"]:
        request["podIdentityAssociations"] = associations_request(params["pod_identity_associations"])
    if params["configuration_values"]:
        request["configurationValues"] = config_text(params["configuration_values"])
    tags = create_tags(params["tags"])
    if tags:
        request["tags"] = tags
    request["clientRequestToken"] = request_token("CreateAddon", "%s/%s" % (cluster_name, name), request)
    planned = dict(
        addonName=name, clusterName=cluster_name, addonArn=None, status="CREATING", addonVersion=resolved,
        serviceAccountRoleArn=request.get("serviceAccountRoleArn"), configurationValues=request.get("configurationValues"),
        tags=dict(tags or {}),
    )
    planned_associations = [dict(service_account=e["service_account"], role_arn=e["role_arn"], association_arn=None)
                            for e in params["pod_identity_associations"] or []]
    if module.check_mode:
        return planned, planned_associations, True
    addon, created = create_or_adopt(
        module, client.create_addon, "addon", lambda: describe(module, client, cluster_name, name), "add-on %s" % name,
        "Failed to create EKS add-on %s in cluster %s" % (name, cluster_name),
        missing="Cannot install add-on %s: cluster_name %r does not exist" % (name, cluster_name), **request)
    if not created:
        return addon, None, False
    if params["wait"]:
        addon = wait_ready(module, client, cluster_name, name)
    associations = None
    if params["pod_identity_associations"] is not None:
        associations = describe_associations(module, client, cluster_name, addon.get("podIdentityAssociations"))
    return addon, associations, True


def update_request(module, addon, resolved, associations):
    """The UpdateAddon fields that differ (without names, token and resolveConflicts)."""
    params = module.params
    request = {}
    have = addon.get("addonVersion")
    if resolved and have and resolved != have:
        if version_key(resolved) < version_key(have):
            if params["version"] not in ALIASES:
                module.fail_json(msg=invalid_value(
                    "version", resolved, "Add-on %s of cluster %s runs %s and EKS cannot downgrade an add-on; allowed: %s or later."
                    % (params["name"], params["cluster_name"], have, have)))
        else:
            request["addonVersion"] = resolved
    role = params["service_account_role_arn"]
    if role is not None and current(addon, "serviceAccountRoleArn") != role:
        request["serviceAccountRoleArn"] = role
    wanted = params["pod_identity_associations"]
    if wanted is not None:
        have_pairs = sorted((a["service_account"], a["role_arn"]) for a in associations or [])
        want_pairs = sorted((e["service_account"], e["role_arn"]) for e in wanted)
        if have_pairs != want_pairs:
            request["podIdentityAssociations"] = associations_request(wanted)
    values = params["configuration_values"]
    if values is not None and parse_configuration(current(addon, "configurationValues")) != values:
        request["configurationValues"] = config_text(values) if values else "{}"
    return request


def apply_update(addon, associations, request):
    after = copy.deepcopy(addon)
    if "addonVersion" in request:
        after["addonVersion"] = request["addonVersion"]
    if "serviceAccountRoleArn" in request:
        after["serviceAccountRoleArn"] = request["serviceAccountRoleArn"] or None
    if "configurationValues" in request:
        after["configurationValues"] = request["configurationValues"]
    if "podIdentityAssociations" in request:
        associations = [dict(service_account=a["serviceAccount"], role_arn=a["roleArn"], association_arn=None)
                        for a in request["podIdentityAssociations"]]
    return after, associations


def update(module, client, addon, resolved):
    params = module.params
    cluster_name, name = params["cluster_name"], params["name"]
    associations = None
    if params["pod_identity_associations"] is not None:
        associations = describe_associations(module, client, cluster_name, addon.get("podIdentityAssociations"))
    request = update_request(module, addon, resolved, associations)
    if request and addon.get("status") in TRANSITIONAL and not module.check_mode:
        addon = wait_ready(module, client, cluster_name, name)
        if params["pod_identity_associations"] is not None:
            associations = describe_associations(module, client, cluster_name, addon.get("podIdentityAssociations"))
        request = update_request(module, addon, resolved, associations)

    original_tags = dict(addon.get("tags") or {})
    after, after_associations = apply_update(addon, associations, request)
    updates = []
    if request and not module.check_mode:
        full = dict(request, clusterName=cluster_name, addonName=name, resolveConflicts=params["resolve_conflicts"])
        full["clientRequestToken"] = request_token("UpdateAddon", "%s/%s" % (cluster_name, name), full, addon.get("modifiedAt"))
        try:
            answer = client.update_addon(aws_retry=True, **full).get("update") or {}
        except boto_errors() as e:
            module.fail_json_aws(e, msg="Failed to update EKS add-on %s of cluster %s (%s)" % (name, cluster_name, ", ".join(sorted(request))))
        record = update_record(answer)
        if params["wait"]:
            wait_update_record(module, client, record, answer, "EKS add-on %s" % name, cluster_name, delay=POLL_DELAY,
                               addonName=name)
            after = wait_ready(module, client, cluster_name, name)
            if params["pod_identity_associations"] is not None:
                after_associations = describe_associations(module, client, cluster_name, after.get("podIdentityAssociations"))
        updates.append(record)

    tags_changed, tags = ensure_tags(
        module, client, addon.get("addonArn"), original_tags, params["tags"], params["purge_tags"],
        "EKS add-on %s of cluster %s" % (name, cluster_name),
    )
    after["tags"] = tags
    if params["wait"] and not updates and not module.check_mode and addon.get("status") in TRANSITIONAL:
        # Still being made (by this run's create without wait, or by a run that stopped): wait too.
        after = dict(wait_ready(module, client, cluster_name, name), tags=tags)
    return after, after_associations, associations, bool(request) or tags_changed, updates


# ---------------------------------------------------------------- main


def ensure_absent(module, client):
    params = module.params
    cluster_name, name = params["cluster_name"], params["name"]
    addon = describe(module, client, cluster_name, name)
    if addon is None:
        module.exit_json(changed=False, name=name, cluster_name=cluster_name, arn=None, status=None)
    before = state_view(view(addon))
    delete_and_wait(
        module, addon, client.delete_addon, lambda: describe(module, client, cluster_name, name),
        "EKS add-on %s of cluster %s" % (name, cluster_name), POLL_DELAY, clusterName=cluster_name, addonName=name,
        preserve=params["preserve"])
    result = dict(changed=True, name=name, cluster_name=cluster_name, arn=addon.get("addonArn"),
                  status=None if params["wait"] else "DELETING")
    exit_with_diff(module, result, before, {})


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        name=dict(type="str", required=True),
        version=dict(type="str"),
        service_account_role_arn=dict(type="str"),
        pod_identity_associations=dict(type="list", elements="dict", options=dict(
            service_account=dict(type="str", required=True),
            role_arn=dict(type="str", required=True),
        )),
        configuration_values=dict(type="dict"),
        resolve_conflicts=dict(type="str", choices=["OVERWRITE", "PRESERVE", "NONE"], default="OVERWRITE"),
        preserve=dict(type="bool", default=False),
        **resource_options(wait_timeout=900)
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    params = module.params
    client = eks_client(module)

    if params["state"] == "absent":
        ensure_absent(module, client)

    cluster_name, name = params["cluster_name"], params["name"]
    resolved, kubernetes = resolve_version(module, client) if params["version"] else (None, None)
    addon = describe(module, client, cluster_name, name)
    check_not_deleting(module, addon, "EKS add-on %s of cluster %s" % (name, cluster_name))
    before = None
    updates = []
    if addon is None:
        after, associations, created = create(module, client, resolved)
        changed = True
        if not created:
            before = copy.deepcopy(after)
            after, associations, before_associations, changed, updates = update(module, client, after, resolved)
            before = view(before, before_associations)
    else:
        after, associations, before_associations, changed, updates = update(module, client, addon, resolved)
        before = view(addon, before_associations)

    result = dict(changed=changed, **view(after, associations, resolved, kubernetes, updates))
    result["name"] = result["name"] or name
    result["cluster_name"] = result["cluster_name"] or cluster_name
    exit_with_diff(module, result, state_view(before), state_view(result))


if __name__ == "__main__":
    main()
