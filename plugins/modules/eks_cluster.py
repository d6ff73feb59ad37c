#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_cluster
short_description: Manage an EKS cluster, its configuration and its Kubernetes version
version_added: 0.1.0
description:
  - Creates, updates and deletes an Amazon EKS control plane. Unlike
    C(community.aws.eks_cluster), which only creates and deletes, it also
    converges an existing cluster - endpoint access, control plane logging,
    subnets and security groups, authentication mode, upgrade policy, secrets
    encryption, tags - and upgrades its Kubernetes version.
  - A run that changes nothing costs one C(DescribeCluster) call. A list
    EKS leaves out of its answer when it is empty (security groups, public
    access CIDRs, enabled log types) counts as empty. A field EKS always
    reports (C(accessConfig), C(upgradePolicy), the endpoint flags) is
    compared only when the answer has it, never updated blindly.
  - EKS accepts one update of a cluster at a time. Changes are made one
    update per kind (encryption, subnets/security groups, endpoint access,
    logging, authentication mode, upgrade policy, version, in this order) and
    the module waits for each update to finish before it starts the next,
    whatever O(wait) says.
  - Every create and update call carries a C(clientRequestToken) derived from
    the cluster name and the request, so a retried call is one request to
    EKS. Throttling and 5xx answers are retried.
  - All checks that can refuse a change (version skip or downgrade, role
    change, encryption key change, authentication mode going back) run before
    the first update call, so a refused run changes nothing.
options:
  name:
    description:
      - Name of the cluster. 1 to 100 letters, digits, hyphens and
        underscores, starting with a letter or digit.
    type: str
    required: true
  version:
    description:
      - Kubernetes minor version, such as V(1.33). Quote it in YAML.
      - When omitted, a new cluster gets the EKS default version and the
        version of an existing cluster is left alone.
      - On an existing cluster the version may only move up by exactly one
        minor version per run (V(1.32) to V(1.33)); a skip such as V(1.31) to
        V(1.33) or a downgrade is refused before any change, naming the next
        allowed version. The module waits for the upgrade to finish; it
        takes EKS 20 to 40 minutes, so raise O(wait_timeout) accordingly.
      - Upgrade node groups and add-ons afterwards (M(honeyhive.platform.eks_nodegroup),
        M(honeyhive.platform.eks_addon)).
    type: str
  role_arn:
    description:
      - ARN of the IAM role the control plane uses. Required when
        O(state=present). It cannot be changed on an existing cluster; a
        different value is an error.
    type: str
  subnet_ids:
    description:
      - Subnets of the control plane network interfaces, at least two in
        different availability zones. Required when O(state=present).
      - On an existing cluster a different set is applied with a
        C(VpcConfigUpdate); the subnets must stay in the cluster's VPC.
    type: list
    elements: str
  security_group_ids:
    description:
      - Additional security groups for the control plane network interfaces.
        When omitted they are not managed.
    type: list
    elements: str
  endpoint_private_access:
    description:
      - Whether the API server endpoint is reachable from within the VPC.
        When omitted it is not managed (EKS default V(false)).
    type: bool
  endpoint_public_access:
    description:
      - Whether the API server endpoint is reachable from the internet.
        When omitted it is not managed (EKS default V(true)).
      - O(endpoint_private_access) and O(endpoint_public_access) cannot both
        be V(false).
    type: bool
  public_access_cidrs:
    description:
      - IPv4 CIDR blocks allowed to reach the public endpoint. When omitted
        they are not managed (EKS default V(0.0.0.0/0)).
    type: list
    elements: str
  logging:
    description:
      - Control plane log types exported to CloudWatch Logs; the cluster ends
        up with exactly these enabled and the others disabled. An empty list
        disables them all; when omitted logging is not managed.
    type: list
    elements: str
    choices: [api, audit, authenticator, controllerManager, scheduler]
  secrets_encryption_kms_key_arn:
    description:
      - ARN of the KMS key (not an alias) used for envelope encryption of
        Kubernetes secrets.
      - A new cluster is created with it. On an existing cluster without
        secrets encryption it is associated with C(AssociateEncryptionConfig)
        (an update of about 20 minutes).
      - Secrets encryption cannot be removed or moved to another key once it
        is enabled (EKS does not allow either); a different key is an error.
        Omitting the option leaves the cluster as it is.
    type: str
  authentication_mode:
    description:
      - Where the cluster takes its IAM principals from. V(API) uses EKS
        access entries only (see M(honeyhive.platform.eks_access_entry));
        V(API_AND_CONFIG_MAP) also reads the C(aws-auth) ConfigMap.
      - The mode can only move towards V(API) (C(CONFIG_MAP) to
        V(API_AND_CONFIG_MAP) to V(API)), as EKS allows; moving back is an
        error. A cluster still in C(CONFIG_MAP) mode asked for V(API) goes
        through V(API_AND_CONFIG_MAP) first (two updates).
      - When omitted, a new cluster gets the EKS default and an existing one
        is left alone.
    type: str
    choices: [API, API_AND_CONFIG_MAP]
  bootstrap_cluster_creator_admin_permissions:
    description:
      - Whether the IAM principal that creates the cluster gets a cluster
        admin access entry. Used only when the cluster is created (EKS
        cannot change it later).
    type: bool
  bootstrap_self_managed_addons:
    description:
      - Whether EKS installs the self-managed C(vpc-cni), C(coredns) and
        C(kube-proxy) into a new cluster (EKS default V(true)). Set V(false)
        when M(honeyhive.platform.eks_addon) installs them as managed
        add-ons. Used only when the cluster is created.
    type: bool
  upgrade_policy:
    description:
      - Support type of the cluster once its version leaves standard support.
        V(EXTENDED) keeps it running (at extra cost); V(STANDARD) upgrades it
        automatically at the end of standard support. When omitted it is not
        managed.
    type: str
    choices: [STANDARD, EXTENDED]
  wait:
    description:
      - Wait until a new or updated cluster is C(ACTIVE), and until a deleted
        one is gone. Between two updates of one run the module always
        waits.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each step (creation, each update, deletion).
        Creation takes about 10 minutes, a version upgrade up to 40.
    type: int
    default: 2700
  state:
    description:
      - V(present) creates or updates the cluster, V(absent) deletes it.
      - A cluster with node groups cannot be deleted; delete them first.
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
- name: EKS control plane
  honeyhive.platform.eks_cluster:
    name: honeyhive-prod-usw2
    version: "1.33"
    role_arn: "{{ foundation_outputs.eks_cluster_role_arn }}"
    subnet_ids: "{{ vpc_outputs.private_subnet_ids }}"
    endpoint_private_access: true
    endpoint_public_access: false
    logging: [api, audit, authenticator]
    secrets_encryption_kms_key_arn: "{{ foundation_outputs.kms_key_arn }}"
    authentication_mode: API
    bootstrap_cluster_creator_admin_permissions: false
    upgrade_policy: STANDARD
    tags: "{{ platform_tags | combine({'Name': 'honeyhive-prod-usw2'}) }}"
  register: eks_cluster

- name: Upgrade by one minor version
  honeyhive.platform.eks_cluster:
    name: honeyhive-prod-usw2
    version: "1.34"
    role_arn: "{{ foundation_outputs.eks_cluster_role_arn }}"
    subnet_ids: "{{ vpc_outputs.private_subnet_ids }}"
    wait_timeout: 3600

- name: Delete the cluster (its node groups must be gone)
  honeyhive.platform.eks_cluster:
    name: honeyhive-prod-usw2
    state: absent
"""

RETURN = r"""
name:
  description: Name of the cluster.
  returned: always
  type: str
  sample: honeyhive-prod-usw2
arn:
  description: ARN of the cluster (null in check mode before it exists, and after deletion).
  returned: always
  type: str
  sample: arn:aws:eks:us-west-2:111122223333:cluster/honeyhive-prod-usw2
status:
  description: Status of the cluster (C(CREATING), C(ACTIVE), C(UPDATING), C(DELETING)); null once deleted.
  returned: always
  type: str
  sample: ACTIVE
version:
  description: Kubernetes version of the control plane.
  returned: when O(state=present)
  type: str
  sample: "1.33"
platform_version:
  description: EKS platform version.
  returned: when O(state=present)
  type: str
  sample: eks.5
endpoint:
  description: URL of the Kubernetes API server.
  returned: when O(state=present)
  type: str
  sample: https://0123456789ABCDEF0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com
certificate_authority_data:
  description: Base64 encoded certificate authority data of the API server.
  returned: when O(state=present)
  type: str
oidc_issuer:
  description: OpenID Connect issuer URL of the cluster (for IAM roles for service accounts).
  returned: when O(state=present)
  type: str
  sample: https://oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF
role_arn:
  description: IAM role of the control plane.
  returned: when O(state=present)
  type: str
vpc_id:
  description: VPC of the cluster.
  returned: when O(state=present)
  type: str
subnet_ids:
  description: Subnets of the control plane network interfaces.
  returned: when O(state=present)
  type: list
  elements: str
security_group_ids:
  description: Additional security groups of the control plane.
  returned: when O(state=present)
  type: list
  elements: str
cluster_security_group_id:
  description: The security group EKS created for the cluster.
  returned: when O(state=present)
  type: str
  sample: sg-0123456789abcdef0
endpoint_public_access:
  description: Whether the public endpoint is enabled (null when the API does not report it).
  returned: when O(state=present)
  type: bool
endpoint_private_access:
  description: Whether the private endpoint is enabled (null when the API does not report it).
  returned: when O(state=present)
  type: bool
public_access_cidrs:
  description: CIDR blocks allowed to reach the public endpoint.
  returned: when O(state=present)
  type: list
  elements: str
logging:
  description: Enabled control plane log types.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [api, audit]
access_config:
  description: Access configuration as the API reports it; empty when it does not.
  returned: when O(state=present)
  type: dict
  contains:
    authentication_mode:
      description: C(API), C(API_AND_CONFIG_MAP) or C(CONFIG_MAP).
      type: str
    bootstrap_cluster_creator_admin_permissions:
      description: Whether the creator got an admin access entry.
      type: bool
encryption_config:
  description: Envelope encryption configuration.
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    resources:
      description: Encrypted resources (C(secrets)).
      type: list
      elements: str
    key_arn:
      description: KMS key ARN.
      type: str
secrets_encryption_kms_key_arn:
  description: KMS key encrypting the secrets, or null.
  returned: when O(state=present)
  type: str
upgrade_policy:
  description: Support type (C(STANDARD) or C(EXTENDED)); null when the API does not report it.
  returned: when O(state=present)
  type: str
tags:
  description: Tags of the cluster.
  returned: when O(state=present)
  type: dict
updates:
  description: The EKS updates this run started, in order.
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{id: 0b1c2d3e-1111-2222-3333-444455556666, type: VersionUpdate, status: Successful}]
"""

import copy

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import CIDR_RE
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import KMS_KEY_ARN_RE
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import LOG_TYPES
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import ROLE_ARN_RE
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import SECURITY_GROUP_RE
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import SUBNET_RE
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_cluster_name
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_not_deleting
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_regex
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_required
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_unique
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_version
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import cluster_view
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import create_or_adopt
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import create_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import current
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import delete_and_wait
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import describe_cluster
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import eks_client
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import enabled_logs
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import ensure_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import health_issues
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import request_token
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import resource_options
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import secrets_key
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import update_record
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import version_step_error
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import vpc_config
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import wait_status
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import wait_update_record

# Authentication modes in the only order EKS lets a cluster move through.
AUTH_ORDER = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]
TRANSITIONAL = ("CREATING", "UPDATING", "PENDING")
POLL_DELAY = 15


def validate(module):
    params = module.params
    check_cluster_name(module, "name")
    check_range(module, "wait_timeout", 0, 86400)
    if params["state"] == "absent":
        return
    check_required(module, ["role_arn", "subnet_ids"], "when state is 'present'")
    check_version(module)
    check_regex(module, "role_arn", ROLE_ARN_RE, "Allowed: an IAM role ARN such as arn:aws:iam::111122223333:role/eks-cluster.")
    check_regex(module, "subnet_ids", SUBNET_RE, "Allowed: subnet IDs such as subnet-0123456789abcdef0.")
    check_unique(module, "subnet_ids")
    if len(params["subnet_ids"]) < 2:
        module.fail_json(msg=invalid_value(
            "subnet_ids", params["subnet_ids"], "Allowed: at least two subnets in different availability zones."))
    check_regex(module, "security_group_ids", SECURITY_GROUP_RE, "Allowed: security group IDs such as sg-0123456789abcdef0.")
    check_unique(module, "security_group_ids")
    check_regex(module, "public_access_cidrs", CIDR_RE, "Allowed: IPv4 CIDR blocks such as 203.0.113.0/24.")
    if params["endpoint_private_access"] is False and params["endpoint_public_access"] is False:
        module.fail_json(msg=invalid_value(
            "endpoint_public_access", False,
            "Allowed: true, or endpoint_private_access true: a cluster needs at least one API server endpoint."))
    check_regex(
        module, "secrets_encryption_kms_key_arn", KMS_KEY_ARN_RE,
        "Allowed: a KMS key ARN such as arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab "
        "(not an alias: EKS reports the key ARN).")
    if params["secrets_encryption_kms_key_arn"] and ":alias/" in params["secrets_encryption_kms_key_arn"]:
        module.fail_json(msg=invalid_value(
            "secrets_encryption_kms_key_arn", params["secrets_encryption_kms_key_arn"],
            "Allowed: a KMS key ARN, not an alias ARN (EKS reports the key ARN, so an alias could never match)."))
    check_tags(module)


# ------------------------------------------------------------ reading


DIFF_KEYS = (
    "version", "role_arn", "subnet_ids", "security_group_ids", "endpoint_public_access", "endpoint_private_access",
    "public_access_cidrs", "logging", "access_config", "secrets_encryption_kms_key_arn", "upgrade_policy", "tags",
)


def state_view(result):
    if not result or not result.get("name"):
        return {}
    return dict((k, result.get(k)) for k in DIFF_KEYS)


def wait_active(module, client, name):
    def failed(cluster):
        if cluster and cluster.get("status") == "FAILED":
            return "failed: %s" % health_issues(cluster)
        if cluster and cluster.get("status") == "DELETING":
            return "is being deleted"
        return None

    return wait_status(
        module, lambda: describe_cluster(module, client, name), "EKS cluster %s to be ACTIVE" % name,
        lambda c: c is not None and c.get("status") == "ACTIVE", failed=failed, delay=POLL_DELAY,
    )


# ------------------------------------------------------------- creating


def logging_request(enabled):
    setups = []
    if enabled:
        setups.append({"types": [t for t in LOG_TYPES if t in enabled], "enabled": True})
    disabled = [t for t in LOG_TYPES if t not in enabled]
    if disabled:
        setups.append({"types": disabled, "enabled": False})
    return {"clusterLogging": setups}


def create_request(module):
    params = module.params
    vpc = {"subnetIds": list(params["subnet_ids"])}
    if params["security_group_ids"] is not None:
        vpc["securityGroupIds"] = list(params["security_group_ids"])
    if params["endpoint_public_access"] is not None:
        vpc["endpointPublicAccess"] = params["endpoint_public_access"]
    if params["endpoint_private_access"] is not None:
        vpc["endpointPrivateAccess"] = params["endpoint_private_access"]
    if params["public_access_cidrs"] is not None:
        vpc["publicAccessCidrs"] = list(params["public_access_cidrs"])
    request = dict(name=params["name"], roleArn=params["role_arn"], resourcesVpcConfig=vpc)
    if params["version"]:
        request["version"] = params["version"]
    if params["logging"] is not None:
        request["logging"] = logging_request(params["logging"])
    if params["secrets_encryption_kms_key_arn"]:
        request["encryptionConfig"] = [
            {"resources": ["secrets"], "provider": {"keyArn": params["secrets_encryption_kms_key_arn"]}}
        ]
    access = {}
    if params["authentication_mode"]:
        access["authenticationMode"] = params["authentication_mode"]
    if params["bootstrap_cluster_creator_admin_permissions"] is not None:
        access["bootstrapClusterCreatorAdminPermissions"] = params["bootstrap_cluster_creator_admin_permissions"]
    if access:
        request["accessConfig"] = access
    if params["bootstrap_self_managed_addons"] is not None:
        request["bootstrapSelfManagedAddons"] = params["bootstrap_self_managed_addons"]
    if params["upgrade_policy"]:
        request["upgradePolicy"] = {"supportType": params["upgrade_policy"]}
    tags = create_tags(params["tags"])
    if tags:
        request["tags"] = tags
    request["clientRequestToken"] = request_token("CreateCluster", params["name"], request)
    return request


def planned_cluster(request):
    """What a new cluster looks like, for check mode and the diff."""
    cluster = dict(
        name=request["name"],
        arn=None,
        status="CREATING",
        version=request.get("version"),
        roleArn=request["roleArn"],
        resourcesVpcConfig=dict(request["resourcesVpcConfig"]),
        tags=dict(request.get("tags") or {}),
    )
    for key in ("logging", "encryptionConfig", "accessConfig", "upgradePolicy"):
        if key in request:
            cluster[key] = copy.deepcopy(request[key])
    return cluster


def create(module, client):
    request = create_request(module)
    if module.check_mode:
        return planned_cluster(request), True
    name = request["name"]
    cluster, created = create_or_adopt(
        module, client.create_cluster, "cluster", lambda: describe_cluster(module, client, name), "cluster %s" % name,
        "Failed to create EKS cluster %s" % name, **request)
    if not created:
        return cluster, False
    if module.params["wait"]:
        cluster = wait_active(module, client, name)
    return cluster, True


# ------------------------------------------------------------- updating


def plan(module, cluster):
    """The updates an existing cluster needs, as (kind, operation, request)
    tuples in the order they run. Fails, before anything changes, on a
    change EKS cannot make."""
    params = module.params
    name = params["name"]
    vpc = vpc_config(cluster)
    steps = []

    role = cluster.get("roleArn")
    if params["role_arn"] and role and role != params["role_arn"]:
        module.fail_json(msg=invalid_value(
            "role_arn", params["role_arn"],
            "The role of an existing cluster cannot be changed: cluster %s uses %s. Recreate the cluster to change it."
            % (name, role)))

    key = params["secrets_encryption_kms_key_arn"]
    current_key = secrets_key(cluster)
    if key and current_key and current_key != key:
        module.fail_json(msg=invalid_value(
            "secrets_encryption_kms_key_arn", key,
            "Cluster %s already encrypts its secrets with %s; EKS cannot change or remove secrets encryption once "
            "it is enabled." % (name, current_key)))
    if key and not current_key:
        config = [{"resources": ["secrets"], "provider": {"keyArn": key}}]
        steps.append(("encryption", "AssociateEncryptionConfig", {"encryptionConfig": config}))

    version = params["version"]
    if version and cluster.get("version") and version != cluster["version"]:
        problem = version_step_error(name, cluster["version"], version)
        if problem:
            module.fail_json(msg=problem, current_version=cluster["version"])

    # subnets and security groups (VpcConfigUpdate)
    vpc_request = {}
    subnets = current(cluster, "resourcesVpcConfig.subnetIds")
    groups = current(cluster, "resourcesVpcConfig.securityGroupIds")
    if set(subnets) != set(params["subnet_ids"]):
        vpc_request["subnetIds"] = list(params["subnet_ids"])
    if params["security_group_ids"] is not None and set(groups) != set(params["security_group_ids"]):
        vpc_request["securityGroupIds"] = list(params["security_group_ids"])
    if vpc_request:
        # EKS replaces both lists in one update: send the one not changing too.
        vpc_request.setdefault("subnetIds", list(subnets))
        if "securityGroupIds" not in vpc_request and groups:
            vpc_request["securityGroupIds"] = list(groups)
        steps.append(("vpc", "UpdateClusterConfig", {"resourcesVpcConfig": vpc_request}))

    # endpoint access (EndpointAccessUpdate)
    endpoint_request = {}
    for option, field in (("endpoint_public_access", "endpointPublicAccess"), ("endpoint_private_access", "endpointPrivateAccess")):
        if params[option] is not None and field in vpc and vpc[field] != params[option]:
            endpoint_request[field] = params[option]
    cidrs = params["public_access_cidrs"]
    if cidrs is not None and set(current(cluster, "resourcesVpcConfig.publicAccessCidrs")) != set(cidrs):
        endpoint_request["publicAccessCidrs"] = list(cidrs)
    if endpoint_request:
        steps.append(("endpoint", "UpdateClusterConfig", {"resourcesVpcConfig": endpoint_request}))

    # control plane logging (LoggingUpdate)
    if params["logging"] is not None and set(enabled_logs(cluster)) != set(params["logging"]):
        steps.append(("logging", "UpdateClusterConfig", {"logging": logging_request(params["logging"])}))

    # authentication mode (AccessConfigUpdate), only towards API
    mode = params["authentication_mode"]
    current_mode = (cluster.get("accessConfig") or {}).get("authenticationMode")
    if mode and current_mode and mode != current_mode:
        if current_mode in AUTH_ORDER and AUTH_ORDER.index(mode) < AUTH_ORDER.index(current_mode):
            module.fail_json(msg=invalid_value(
                "authentication_mode", mode,
                "Cluster %s uses %s and EKS only moves the authentication mode towards API (CONFIG_MAP -> "
                "API_AND_CONFIG_MAP -> API), never back; allowed: %s."
                % (name, current_mode, " or ".join(AUTH_ORDER[AUTH_ORDER.index(current_mode):]))))
        start = AUTH_ORDER.index(current_mode) + 1 if current_mode in AUTH_ORDER else AUTH_ORDER.index(mode)
        for step_mode in AUTH_ORDER[start:AUTH_ORDER.index(mode) + 1]:
            steps.append(("access", "UpdateClusterConfig", {"accessConfig": {"authenticationMode": step_mode}}))

    # upgrade policy (UpgradePolicyUpdate)
    policy = params["upgrade_policy"]
    current_policy = (cluster.get("upgradePolicy") or {}).get("supportType")
    if policy and current_policy and policy != current_policy:
        steps.append(("upgrade_policy", "UpdateClusterConfig", {"upgradePolicy": {"supportType": policy}}))

    # Kubernetes version (VersionUpdate), last
    if version and cluster.get("version") and version != cluster["version"]:
        steps.append(("version", "UpdateClusterVersion", {"version": version}))
    return steps


def apply_step(cluster, kind, request):
    """Apply a planned update to a DescribeCluster answer (check mode, diff,
    and the result when the module does not wait)."""
    request = copy.deepcopy(request)
    if kind == "encryption":
        cluster["encryptionConfig"] = request["encryptionConfig"]
    elif kind in ("vpc", "endpoint"):
        cluster.setdefault("resourcesVpcConfig", {}).update(request["resourcesVpcConfig"])
    elif kind == "logging":
        cluster["logging"] = request["logging"]
    elif kind == "access":
        cluster.setdefault("accessConfig", {}).update(request["accessConfig"])
    elif kind == "upgrade_policy":
        cluster.setdefault("upgradePolicy", {}).update(request["upgradePolicy"])
    elif kind == "version":
        cluster["version"] = request["version"]


def run_step(module, client, name, operation, request, before):
    request = dict(request)
    token_request = dict(request, name=name)
    if operation == "AssociateEncryptionConfig":
        request["clusterName"] = name
        call = client.associate_encryption_config
    else:
        request["name"] = name
        call = client.update_cluster_version if operation == "UpdateClusterVersion" else client.update_cluster_config
    request["clientRequestToken"] = request_token(operation, name, token_request, before)
    try:
        return call(aws_retry=True, **request).get("update")
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to %s EKS cluster %s (%s)" % (
            "upgrade" if operation == "UpdateClusterVersion" else "update", name, ", ".join(sorted(request))))


def update(module, client, cluster):
    """Converge an existing cluster. Returns (cluster after, changed, updates)."""
    params = module.params
    name = params["name"]
    steps = plan(module, cluster)
    if steps and cluster.get("status") in TRANSITIONAL and not module.check_mode:
        # EKS takes one update at a time and reports the old values until an
        # update in progress has finished: wait, then plan again.
        cluster = wait_active(module, client, name)
        steps = plan(module, cluster)

    original_tags = dict(cluster.get("tags") or {})
    after = copy.deepcopy(cluster)
    updates = []
    for index, (kind, operation, request) in enumerate(steps):
        apply_step(after, kind, request)
        if module.check_mode:
            continue
        answer = run_step(module, client, name, operation, request, state_view(cluster_view(cluster))) or {}
        record = update_record(answer)
        if index < len(steps) - 1 or params["wait"]:
            wait_update_record(module, client, record, answer, "EKS cluster %s" % name, name, delay=POLL_DELAY)
            # The cluster may stay UPDATING for a moment after its update has
            # finished (and an answer without an update id leaves only the
            # cluster status to wait on).
            cluster = wait_active(module, client, name)
        updates.append(record)
    if updates and params["wait"]:
        after = copy.deepcopy(cluster)

    tags_changed, tags = ensure_tags(
        module, client, cluster.get("arn"), original_tags, params["tags"], params["purge_tags"], "EKS cluster %s" % name
    )
    after["tags"] = tags
    return after, bool(steps) or tags_changed, updates


# ---------------------------------------------------------------- main


def ensure_absent(module, client):
    name = module.params["name"]
    cluster = describe_cluster(module, client, name)
    if cluster is None:
        module.exit_json(changed=False, name=name, arn=None, status=None)
    before = state_view(cluster_view(cluster))
    delete_and_wait(
        module, cluster, client.delete_cluster, lambda: describe_cluster(module, client, name), "EKS cluster %s" % name,
        POLL_DELAY, failed_status=None,
        in_use="EKS cluster %s cannot be deleted while it has node groups or is being updated: delete its "
        "node groups first (honeyhive.platform.eks_nodegroup with state absent)" % name,
        name=name)
    result = dict(changed=True, name=name, arn=cluster.get("arn"), status=None if module.params["wait"] else "DELETING")
    exit_with_diff(module, result, before, {})


def ensure_present(module, client):
    params = module.params
    name = params["name"]
    cluster = describe_cluster(module, client, name)
    check_not_deleting(module, cluster, "EKS cluster %s" % name)
    if cluster is not None and cluster.get("status") == "FAILED":
        module.fail_json(msg="EKS cluster %s is in status FAILED (%s); delete it (state: absent) and create it again."
                         % (name, health_issues(cluster)))
    updates = []
    if cluster is None:
        before = None
        cluster, created = create(module, client)
        if created:
            return cluster, True, before, updates
    before = copy.deepcopy(cluster)
    after, changed, updates = update(module, client, cluster)
    if not changed and params["wait"] and after.get("status") in TRANSITIONAL and not module.check_mode:
        after = wait_active(module, client, name)
    return after, changed, before, updates


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        version=dict(type="str"),
        role_arn=dict(type="str"),
        subnet_ids=dict(type="list", elements="str"),
        security_group_ids=dict(type="list", elements="str"),
        endpoint_private_access=dict(type="bool"),
        endpoint_public_access=dict(type="bool"),
        public_access_cidrs=dict(type="list", elements="str"),
        logging=dict(type="list", elements="str", choices=LOG_TYPES),
        secrets_encryption_kms_key_arn=dict(type="str", no_log=False),
        authentication_mode=dict(type="str", choices=["API", "API_AND_CONFIG_MAP"]),
        bootstrap_cluster_creator_admin_permissions=dict(type="bool"),
        bootstrap_self_managed_addons=dict(type="bool"),
        upgrade_policy=dict(type="str", choices=["STANDARD", "EXTENDED"]),
        **resource_options(wait_timeout=2700)
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    client = eks_client(module)

    if module.params["state"] == "absent":
        ensure_absent(module, client)

    after, changed, before, updates = ensure_present(module, client)
    result = dict(changed=changed, **cluster_view(after, updates))
    exit_with_diff(module, result, state_view(cluster_view(before)) if before else {}, state_view(result))


if __name__ == "__main__":
    main()
