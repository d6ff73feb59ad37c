#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_pod_identity_association
short_description: Manage an EKS Pod Identity association of a service account
version_added: 0.1.0
description:
  - Associates an IAM role with a Kubernetes service account of an Amazon EKS
    cluster (EKS Pod Identity; the cluster needs the
    C(eks-pod-identity-agent) add-on, see M(honeyhive.platform.eks_addon)).
  - The association is found by O(namespace) and O(service_account) with
    C(ListPodIdentityAssociations) and read with
    C(DescribePodIdentityAssociation); a different O(role_arn) is changed in
    place with C(UpdatePodIdentityAssociation). A run that changes nothing
    costs these two calls.
  - Create and update calls carry a C(clientRequestToken) derived from the
    cluster, namespace and service account and the request. Throttling and
    5xx answers are retried.
  - Associations created by an add-on (for its own service account) are
    owned by it; change those with the add-on's
    O(honeyhive.platform.eks_addon#module:pod_identity_associations) instead.
options:
  cluster_name:
    description:
      - Name of the EKS cluster.
    type: str
    required: true
  namespace:
    description:
      - Kubernetes namespace of the service account.
    type: str
    required: true
  service_account:
    description:
      - Name of the Kubernetes service account. It does not need to exist
        yet.
    type: str
    required: true
  role_arn:
    description:
      - IAM role the pods of the service account get credentials for. Its
        trust policy must allow C(pods.eks.amazonaws.com) to
        C(sts:AssumeRole) and C(sts:TagSession). Required when
        O(state=present).
    type: str
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
      - V(present) creates or updates the association, V(absent) deletes it.
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
- name: External Secrets reads Secrets Manager
  honeyhive.platform.eks_pod_identity_association:
    cluster_name: honeyhive-prod-usw2
    namespace: external-secrets
    service_account: external-secrets
    role_arn: "{{ addons_external_secrets_role_arn }}"
    tags: "{{ platform_tags }}"

- name: Remove it
  honeyhive.platform.eks_pod_identity_association:
    cluster_name: honeyhive-prod-usw2
    namespace: external-secrets
    service_account: external-secrets
    state: absent
"""

RETURN = r"""
cluster_name:
  description: Name of the cluster.
  returned: always
  type: str
namespace:
  description: Namespace of the service account.
  returned: always
  type: str
service_account:
  description: The service account.
  returned: always
  type: str
association_id:
  description: ID of the association (null in check mode before it exists, and after deletion).
  returned: always
  type: str
  sample: a-0123456789abcdef0
association_arn:
  description: ARN of the association.
  returned: always
  type: str
role_arn:
  description: IAM role of the service account.
  returned: when O(state=present)
  type: str
owner_arn:
  description: ARN of the add-on that owns the association, or null.
  returned: when O(state=present)
  type: str
tags:
  description: Tags of the association.
  returned: when O(state=present)
  type: dict
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import ROLE_ARN_RE
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import call_when_ready
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_cluster_name
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import create_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import describe_or_none
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import eks_client
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import ensure_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import paginate
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import request_token
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import resource_options

NAMESPACE_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
SERVICE_ACCOUNT_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
POLL_DELAY = 15


def validate(module):
    params = module.params
    check_cluster_name(module)
    if not NAMESPACE_RE.match(params["namespace"] or ""):
        module.fail_json(msg=invalid_value(
            "namespace", params["namespace"], "Allowed: a Kubernetes namespace name (1 to 63 lower case letters, digits and '-')."))
    if not SERVICE_ACCOUNT_RE.match(params["service_account"] or ""):
        module.fail_json(msg=invalid_value(
            "service_account", params["service_account"],
            "Allowed: a Kubernetes service account name (lower case letters, digits, '-' and '.', at most 253)."))
    check_range(module, "wait_timeout", 0, 86400)
    if params["state"] == "absent":
        return
    if not params["role_arn"]:
        module.fail_json(msg="Option 'role_arn' is required when state is 'present'.")
    if not ROLE_ARN_RE.match(params["role_arn"]):
        module.fail_json(msg=invalid_value(
            "role_arn", params["role_arn"], "Allowed: an IAM role ARN such as arn:aws:iam::111122223333:role/external-secrets."))
    check_tags(module)


def identity(module):
    params = module.params
    return "%s/%s/%s" % (params["cluster_name"], params["namespace"], params["service_account"])


def find(module, client):
    """The full association of the service account, or None."""
    params = module.params
    summaries = paginate(
        module, client.list_pod_identity_associations, "associations", "pod identity associations of %s" % identity(module),
        clusterName=params["cluster_name"], namespace=params["namespace"], serviceAccount=params["service_account"],
    )
    summaries = [s for s in summaries
                 if s.get("namespace") == params["namespace"] and s.get("serviceAccount") == params["service_account"]]
    if not summaries:
        return None
    if len(summaries) > 1:
        module.warn("More than one pod identity association for %s (%s); managing %s."
                    % (identity(module), ", ".join(s["associationId"] for s in summaries), summaries[0]["associationId"]))
    return describe_or_none(
        module, client.describe_pod_identity_association, "pod identity association %s" % summaries[0]["associationId"],
        "association", clusterName=params["cluster_name"], associationId=summaries[0]["associationId"],
    )


def view(module, association):
    association = association or {}
    params = module.params
    return dict(
        cluster_name=params["cluster_name"],
        namespace=params["namespace"],
        service_account=params["service_account"],
        association_id=association.get("associationId"),
        association_arn=association.get("associationArn"),
        role_arn=association.get("roleArn"),
        owner_arn=association.get("ownerArn"),
        tags=dict(association.get("tags") or {}),
    )


def state_view(result):
    if not result:
        return {}
    return dict((k, result.get(k)) for k in ("role_arn", "tags"))


def create(module, client):
    params = module.params
    request = dict(
        clusterName=params["cluster_name"], namespace=params["namespace"], serviceAccount=params["service_account"],
        roleArn=params["role_arn"],
    )
    tags = create_tags(params["tags"])
    if tags:
        request["tags"] = tags
    request["clientRequestToken"] = request_token("CreatePodIdentityAssociation", identity(module), request)
    if module.check_mode:
        return dict(roleArn=params["role_arn"], tags=dict(tags or {}))
    answer = call_when_ready(
        module, client, client.create_pod_identity_association, "create the pod identity association of %s" % identity(module),
        recover=lambda: find(module, client), delay=POLL_DELAY, **request)
    association = answer.get("association", answer)
    if association.get("roleArn") != params["role_arn"]:
        # picked up an association a concurrent run made with another role
        association = update(module, client, association)[0]
    return association


def update(module, client, association):
    params = module.params
    if association.get("roleArn") == params["role_arn"]:
        return association, False
    if association.get("ownerArn"):
        module.fail_json(msg=invalid_value(
            "role_arn", params["role_arn"], "The association of %s is owned by %s and uses %s; change it with that add-on's "
            "pod_identity_associations (honeyhive.platform.eks_addon)." % (identity(module), association["ownerArn"], association.get("roleArn"))))
    after = dict(association, roleArn=params["role_arn"])
    if module.check_mode:
        return after, True
    request = dict(clusterName=params["cluster_name"], associationId=association["associationId"], roleArn=params["role_arn"])
    request["clientRequestToken"] = request_token(
        "UpdatePodIdentityAssociation", identity(module), request, association.get("modifiedAt"))
    answer = call_when_ready(
        module, client, client.update_pod_identity_association, "update the pod identity association of %s" % identity(module),
        delay=POLL_DELAY, **request)
    return answer.get("association") or after, True


def ensure_absent(module, client):
    params = module.params
    association = find(module, client)
    if association is None:
        module.exit_json(changed=False, **dict(view(module, None), association_id=None, association_arn=None))
    if association.get("ownerArn"):
        module.fail_json(msg="The pod identity association of %s is owned by %s; remove it with that add-on's "
                         "pod_identity_associations (honeyhive.platform.eks_addon)." % (identity(module), association["ownerArn"]))
    before = state_view(view(module, association))
    if not module.check_mode:
        try:
            client.delete_pod_identity_association(
                clusterName=params["cluster_name"], associationId=association["associationId"], aws_retry=True)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass
        except boto_errors() as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg="Failed to delete the pod identity association of %s" % identity(module))
    result = dict(view(module, None), changed=True, association_id=None, association_arn=None)
    for key in ("role_arn", "owner_arn", "tags"):
        result.pop(key)
    exit_with_diff(module, result, before, {})


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        service_account=dict(type="str", required=True),
        role_arn=dict(type="str"),
        **resource_options(wait_timeout=1800)
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    params = module.params
    client = eks_client(module)

    if params["state"] == "absent":
        ensure_absent(module, client)

    association = find(module, client)
    before = None
    if association is None:
        after, changed = create(module, client), True
    else:
        before = view(module, association)
        after, changed = update(module, client, dict(association))
        tags_changed, tags = ensure_tags(
            module, client, association.get("associationArn"), association.get("tags"), params["tags"], params["purge_tags"],
            "the pod identity association of %s" % identity(module))
        after["tags"] = tags
        changed = changed or tags_changed

    result = dict(changed=changed, **view(module, after))
    exit_with_diff(module, result, state_view(before), state_view(result))


if __name__ == "__main__":
    main()
