#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_nodegroup
short_description: Manage an EKS managed node group
version_added: 0.1.0
description:
  - Creates, updates and deletes an Amazon EKS managed node group.
  - Scaling, labels, taints and the update configuration are changed in
    place with one C(UpdateNodegroupConfig) call; the Kubernetes or AMI
    release version with C(UpdateNodegroupVersion). Fields EKS cannot change
    on an existing node group (role, subnets, instance types, AMI type,
    capacity type, disk size) are compared too, and a difference fails with
    a message naming the field instead of being ignored.
  - A run that changes nothing costs one C(DescribeNodegroup) call. EKS
    leaves C(taints) out of its answer when the node group has none; a
    member left out like that counts as empty, so requested taints are
    added. A member EKS always reports (C(updateConfig), C(scalingConfig))
    is compared only when the answer has it.
  - Create and update calls carry a C(clientRequestToken) derived from the
    node group name, the request and the node group's C(modifiedAt), so a
    retried call is one request to EKS. Throttling and 5xx answers are
    retried.
options:
  cluster_name:
    description:
      - Name of the EKS cluster.
    type: str
    required: true
  name:
    description:
      - Name of the node group. 1 to 63 letters, digits, hyphens and
        underscores, starting with a letter or digit.
    type: str
    required: true
  node_role_arn:
    description:
      - IAM role of the nodes. Required when O(state=present) and the node
        group does not exist yet. Cannot be changed.
    type: str
  subnet_ids:
    description:
      - Subnets of the nodes. Required when O(state=present) and the node
        group does not exist yet. Cannot be changed.
    type: list
    elements: str
  instance_types:
    description:
      - EC2 instance types. When omitted EKS picks C(t3.medium). Cannot be
        changed.
    type: list
    elements: str
  ami_type:
    description:
      - AMI type of the nodes. When omitted EKS picks one for the cluster
        version. Cannot be changed.
    type: str
    choices:
      - AL2_x86_64
      - AL2_x86_64_GPU
      - AL2_ARM_64
      - CUSTOM
      - BOTTLEROCKET_ARM_64
      - BOTTLEROCKET_x86_64
      - BOTTLEROCKET_ARM_64_FIPS
      - BOTTLEROCKET_x86_64_FIPS
      - BOTTLEROCKET_ARM_64_NVIDIA
      - BOTTLEROCKET_x86_64_NVIDIA
      - WINDOWS_CORE_2019_x86_64
      - WINDOWS_FULL_2019_x86_64
      - WINDOWS_CORE_2022_x86_64
      - WINDOWS_FULL_2022_x86_64
      - AL2023_x86_64_STANDARD
      - AL2023_ARM_64_STANDARD
      - AL2023_x86_64_NEURON
      - AL2023_x86_64_NVIDIA
      - AL2023_ARM_64_NVIDIA
  capacity_type:
    description:
      - Capacity type of the nodes. When omitted EKS uses V(ON_DEMAND).
        Cannot be changed.
    type: str
    choices: [ON_DEMAND, SPOT, CAPACITY_BLOCK]
  disk_size:
    description:
      - Root volume size of the nodes in GiB (1 to 16384). When omitted EKS
        uses 20. Cannot be changed.
    type: int
  scaling:
    description:
      - Size of the node group. Each value that is given is managed.
      - O(scaling.min_size) <= O(scaling.desired_size) <= O(scaling.max_size)
        must hold, also together with the values the node group already has
        for the ones omitted.
      - Omit O(scaling.desired_size) when an autoscaler changes it.
    type: dict
    suboptions:
      min_size:
        description: Minimum number of nodes, at least 0.
        type: int
      max_size:
        description: Maximum number of nodes, at least 1.
        type: int
      desired_size:
        description: Current number of nodes, at least 0.
        type: int
  labels:
    description:
      - Kubernetes labels of the nodes; the node group ends up with exactly
        these. When omitted they are not managed.
    type: dict
  taints:
    description:
      - Kubernetes taints of the nodes; the node group ends up with exactly
        these. When omitted they are not managed.
    type: list
    elements: dict
    suboptions:
      key:
        description: Taint key.
        type: str
        required: true
      value:
        description: Taint value.
        type: str
      effect:
        description: Taint effect.
        type: str
        required: true
        choices: [NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE]
  update_config:
    description:
      - How many nodes may be unavailable during a version update. Give one
        of the two suboptions. When omitted it is not managed.
    type: dict
    suboptions:
      max_unavailable:
        description: Number of nodes, 1 to 100.
        type: int
      max_unavailable_percentage:
        description: Percentage of nodes, 1 to 100.
        type: int
  version:
    description:
      - Kubernetes version of the nodes, such as V(1.33). When omitted a new
        node group gets the cluster's version and an existing one is left
        alone. A newer version than the node group has is applied with
        C(UpdateNodegroupVersion); a lower one is an error.
    type: str
  release_version:
    description:
      - AMI release version, such as V(1.33.0-20250519). When omitted the
        latest release for the version is used on create and an existing
        node group is left alone.
    type: str
  force_update:
    description:
      - Passed as C(force) to C(UpdateNodegroupVersion) - update even when
        pods cannot be drained because of a pod disruption budget.
    type: bool
    default: false
  wait:
    description:
      - Wait until the node group is C(ACTIVE) after a create or an update,
        and until it is gone after a delete. Between two updates of one run
        the module always waits.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each step.
    type: int
    default: 1800
  state:
    description:
      - V(present) creates or updates the node group, V(absent) deletes it.
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
- name: System node group (Karpenter runs here, it provisions the rest)
  honeyhive.platform.eks_nodegroup:
    cluster_name: honeyhive-prod-usw2
    name: system
    node_role_arn: "{{ foundation_outputs.eks_node_role_arn }}"
    subnet_ids: "{{ vpc_outputs.private_subnet_ids }}"
    instance_types: [m6i.large]
    ami_type: AL2023_x86_64_STANDARD
    capacity_type: ON_DEMAND
    disk_size: 50
    scaling:
      min_size: 2
      max_size: 4
      desired_size: 2
    labels:
      honeyhive.ai/pool: system
    taints:
      - key: CriticalAddonsOnly
        value: "true"
        effect: NO_SCHEDULE
    update_config:
      max_unavailable: 1
    tags: "{{ platform_tags }}"

- name: Remove it
  honeyhive.platform.eks_nodegroup:
    cluster_name: honeyhive-prod-usw2
    name: system
    state: absent
"""

RETURN = r"""
name:
  description: Name of the node group.
  returned: always
  type: str
  sample: system
cluster_name:
  description: Name of the cluster.
  returned: always
  type: str
arn:
  description: ARN of the node group (null in check mode before it exists, and after deletion).
  returned: always
  type: str
status:
  description: Status (C(CREATING), C(ACTIVE), C(UPDATING), C(DELETING), ...); null once deleted.
  returned: always
  type: str
  sample: ACTIVE
version:
  description: Kubernetes version of the nodes.
  returned: when O(state=present)
  type: str
release_version:
  description: AMI release version of the nodes.
  returned: when O(state=present)
  type: str
node_role_arn:
  description: IAM role of the nodes.
  returned: when O(state=present)
  type: str
subnet_ids:
  description: Subnets of the nodes.
  returned: when O(state=present)
  type: list
  elements: str
instance_types:
  description: Instance types.
  returned: when O(state=present)
  type: list
  elements: str
ami_type:
  description: AMI type.
  returned: when O(state=present)
  type: str
capacity_type:
  description: Capacity type.
  returned: when O(state=present)
  type: str
disk_size:
  description: Root volume size in GiB.
  returned: when O(state=present)
  type: int
scaling:
  description: Scaling configuration.
  returned: when O(state=present)
  type: dict
  sample: {min_size: 2, max_size: 4, desired_size: 2}
labels:
  description: Kubernetes labels.
  returned: when O(state=present)
  type: dict
taints:
  description: Kubernetes taints.
  returned: when O(state=present)
  type: list
  elements: dict
update_config:
  description: Update configuration as the API reports it (empty when it does not).
  returned: when O(state=present)
  type: dict
  sample: {max_unavailable: 1}
autoscaling_groups:
  description: Names of the Auto Scaling groups behind the node group.
  returned: when O(state=present)
  type: list
  elements: str
tags:
  description: Tags of the node group.
  returned: when O(state=present)
  type: dict
updates:
  description: The EKS updates this run started.
  returned: when O(state=present)
  type: list
  elements: dict
"""

import copy

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import NODEGROUP_NAME_RE
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import ROLE_ARN_RE
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import SUBNET_RE
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_cluster_name
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_not_deleting
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_regex
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_unique
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_version
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import create_or_adopt
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import create_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import current
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import delete_and_wait
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import describe_or_none
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import eks_client
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import ensure_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import health_issues
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import parse_version
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import request_token
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import resource_options
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import update_record
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import wait_status
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import wait_update_record

AMI_TYPES = [
    "AL2_x86_64", "AL2_x86_64_GPU", "AL2_ARM_64", "CUSTOM", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_ARM_64_FIPS", "BOTTLEROCKET_x86_64_FIPS", "BOTTLEROCKET_ARM_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA",
    "WINDOWS_CORE_2019_x86_64", "WINDOWS_FULL_2019_x86_64", "WINDOWS_CORE_2022_x86_64", "WINDOWS_FULL_2022_x86_64",
    "AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NEURON", "AL2023_x86_64_NVIDIA", "AL2023_ARM_64_NVIDIA",
]
TAINT_EFFECTS = ["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]
FAILED = ("CREATE_FAILED", "DELETE_FAILED")
TRANSITIONAL = ("CREATING", "UPDATING")
POLL_DELAY = 15
SCALING_FIELDS = (("min_size", "minSize"), ("max_size", "maxSize"), ("desired_size", "desiredSize"))


def validate(module):
    params = module.params
    check_cluster_name(module)
    if not NODEGROUP_NAME_RE.match(params["name"] or ""):
        module.fail_json(msg=invalid_value(
            "name", params["name"], "Allowed: 1 to 63 letters, digits, hyphens and underscores, starting with a letter or digit."))
    check_range(module, "wait_timeout", 0, 86400)
    if params["state"] == "absent":
        return
    check_regex(module, "node_role_arn", ROLE_ARN_RE, "Allowed: an IAM role ARN such as arn:aws:iam::111122223333:role/eks-node.")
    check_regex(module, "subnet_ids", SUBNET_RE, "Allowed: subnet IDs such as subnet-0123456789abcdef0.")
    check_unique(module, "subnet_ids")
    if params["subnet_ids"] == []:
        module.fail_json(msg=invalid_value("subnet_ids", [], "Allowed: at least one subnet ID."))
    if params["instance_types"] == []:
        module.fail_json(msg=invalid_value("instance_types", [], "Allowed: at least one instance type, such as m6i.large."))
    check_range(module, "disk_size", 1, 16384)
    check_version(module)
    scaling = params["scaling"] or {}
    for option, minimum in (("min_size", 0), ("max_size", 1), ("desired_size", 0)):
        value = scaling.get(option)
        if value is not None and value < minimum:
            module.fail_json(msg=invalid_value(
                "scaling.%s" % option, value, "Allowed: an integer of at least %d." % minimum))
    check_scaling(module, scaling)
    update_config = params["update_config"]
    if update_config is not None:
        given = [k for k in ("max_unavailable", "max_unavailable_percentage") if update_config.get(k) is not None]
        if len(given) != 1:
            module.fail_json(msg=invalid_value(
                "update_config", update_config, "Allowed: exactly one of max_unavailable and max_unavailable_percentage."))
        value = update_config[given[0]]
        if not 1 <= value <= 100:
            module.fail_json(msg=invalid_value("update_config.%s" % given[0], value, "Allowed: an integer from 1 to 100."))
    for taint in params["taints"] or []:
        if not taint.get("key"):
            module.fail_json(msg=invalid_value("taints", taint, "Allowed: taints with a non-empty key."))
    seen = set()
    for taint in params["taints"] or []:
        if (taint["key"], taint["effect"]) in seen:
            module.fail_json(msg=invalid_value(
                "taints", taint, "Allowed: at most one taint per key and effect."))
        seen.add((taint["key"], taint["effect"]))
    check_tags(module)


def check_scaling(module, scaling, current=None):
    """min <= desired <= max, with ``current`` (the node group's values) for
    the ones not given."""
    merged = dict(current or {})
    merged.update(dict((k, v) for k, v in scaling.items() if v is not None))
    low, high, desired = merged.get("min_size"), merged.get("max_size"), merged.get("desired_size")
    if low is not None and high is not None and low > high:
        module.fail_json(msg=invalid_value(
            "scaling", scaling, "Allowed: min_size <= max_size (here %s > %s%s)." % (low, high, " with the node group's current values" if current else "")))
    if desired is not None:
        if low is not None and desired < low or high is not None and desired > high:
            module.fail_json(msg=invalid_value(
                "scaling", scaling, "Allowed: min_size <= desired_size <= max_size (here %s, %s, %s%s)."
                % (low, desired, high, " with the node group's current values" if current else "")))


# ------------------------------------------------------------ reading


def describe(module, client, cluster_name, name):
    return describe_or_none(
        module, client.describe_nodegroup, "EKS node group %s of cluster %s" % (name, cluster_name), "nodegroup",
        clusterName=cluster_name, nodegroupName=name,
    )


def taint_set(taints):
    return set((t.get("key"), t.get("value") or "", t.get("effect")) for t in taints or [])


def as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def view(group, updates=None):
    group = group or {}
    scaling = group.get("scalingConfig") or {}
    update_config = group.get("updateConfig") or {}
    return dict(
        name=group.get("nodegroupName"),
        cluster_name=group.get("clusterName"),
        arn=group.get("nodegroupArn"),
        status=group.get("status"),
        version=group.get("version"),
        release_version=group.get("releaseVersion"),
        node_role_arn=group.get("nodeRole"),
        subnet_ids=list(group.get("subnets") or []),
        instance_types=list(group.get("instanceTypes") or []),
        ami_type=group.get("amiType"),
        capacity_type=group.get("capacityType"),
        disk_size=as_int(group.get("diskSize")),
        scaling=dict((option, scaling.get(field)) for option, field in SCALING_FIELDS if field in scaling),
        labels=dict(group.get("labels") or {}),
        taints=[dict(key=t.get("key"), value=t.get("value"), effect=t.get("effect")) for t in group.get("taints") or []],
        update_config=dict(
            (option, update_config[field])
            for option, field in (("max_unavailable", "maxUnavailable"), ("max_unavailable_percentage", "maxUnavailablePercentage"))
            if update_config.get(field) is not None
        ),
        autoscaling_groups=[g.get("name") for g in (group.get("resources") or {}).get("autoScalingGroups") or []],
        tags=dict(group.get("tags") or {}),
        updates=list(updates or []),
    )


DIFF_KEYS = (
    "version", "release_version", "node_role_arn", "subnet_ids", "instance_types", "ami_type", "capacity_type", "disk_size",
    "scaling", "labels", "taints", "update_config", "tags",
)


def state_view(result):
    if not result or not result.get("name"):
        return {}
    return dict((k, result.get(k)) for k in DIFF_KEYS)


def wait_active(module, client, cluster_name, name):
    def failed(group):
        if group and group.get("status") in FAILED + ("DELETING",):
            return "is %s: %s" % (group["status"], health_issues(group))
        return None

    return wait_status(
        module, lambda: describe(module, client, cluster_name, name),
        "EKS node group %s of cluster %s to be ACTIVE" % (name, cluster_name),
        lambda g: g is not None and g.get("status") in ("ACTIVE", "DEGRADED"), failed=failed, delay=POLL_DELAY,
    )


# ------------------------------------------------------------ creating


def taints_request(taints):
    result = []
    for taint in taints or []:
        entry = {"key": taint["key"], "effect": taint["effect"]}
        if taint.get("value") is not None:
            entry["value"] = str(taint["value"])
        result.append(entry)
    return result


def update_config_request(update_config):
    if update_config.get("max_unavailable") is not None:
        return {"maxUnavailable": update_config["max_unavailable"]}
    return {"maxUnavailablePercentage": update_config["max_unavailable_percentage"]}


def create_request(module):
    params = module.params
    request = dict(
        clusterName=params["cluster_name"], nodegroupName=params["name"], nodeRole=params["node_role_arn"],
        subnets=list(params["subnet_ids"]),
    )
    scaling = dict((field, (params["scaling"] or {}).get(option)) for option, field in SCALING_FIELDS
                   if (params["scaling"] or {}).get(option) is not None)
    if scaling:
        request["scalingConfig"] = scaling
    if params["instance_types"]:
        request["instanceTypes"] = list(params["instance_types"])
    for option, field in (("ami_type", "amiType"), ("capacity_type", "capacityType"), ("disk_size", "diskSize"),
                          ("version", "version"), ("release_version", "releaseVersion")):
        if params[option] is not None:
            request[field] = params[option]
    if params["labels"] is not None:
        request["labels"] = stringify_tags(params["labels"])
    if params["taints"] is not None:
        request["taints"] = taints_request(params["taints"])
    if params["update_config"] is not None:
        request["updateConfig"] = update_config_request(params["update_config"])
    tags = create_tags(params["tags"])
    if tags:
        request["tags"] = tags
    request["clientRequestToken"] = request_token("CreateNodegroup", "%s/%s" % (params["cluster_name"], params["name"]), request)
    return request


def planned_group(request):
    group = dict(
        nodegroupName=request["nodegroupName"], clusterName=request["clusterName"], nodegroupArn=None, status="CREATING",
        nodeRole=request["nodeRole"], subnets=list(request["subnets"]), tags=dict(request.get("tags") or {}),
    )
    for key in ("scalingConfig", "instanceTypes", "amiType", "capacityType", "diskSize", "version", "releaseVersion", "labels",
                "taints", "updateConfig"):
        if key in request:
            group[key] = copy.deepcopy(request[key])
    return group


def create(module, client):
    params = module.params
    cluster_name, name = params["cluster_name"], params["name"]
    request = create_request(module)
    if module.check_mode:
        return planned_group(request), True
    group, created = create_or_adopt(
        module, client.create_nodegroup, "nodegroup", lambda: describe(module, client, cluster_name, name),
        "node group %s" % name, "Failed to create EKS node group %s in cluster %s" % (name, cluster_name),
        missing="Cannot create node group %s: cluster_name %r does not exist" % (name, cluster_name), **request)
    if not created:
        return group, False
    if params["wait"]:
        group = wait_active(module, client, cluster_name, name)
    return group, True


# ------------------------------------------------------------ updating


IMMUTABLE = (
    # option, API field, compare as
    ("node_role_arn", "nodeRole", "value"),
    ("subnet_ids", "subnets", "set"),
    ("instance_types", "instanceTypes", "set"),
    ("ami_type", "amiType", "value"),
    ("capacity_type", "capacityType", "value"),
    ("disk_size", "diskSize", "int"),
)


def check_immutable(module, group):
    params = module.params
    for option, field, kind in IMMUTABLE:
        wanted = params[option]
        if wanted is None or field not in group or group[field] is None:
            continue
        have = group[field]
        if kind == "set":
            same = set(have) == set(wanted)
        elif kind == "int":
            same = as_int(have) == wanted
        else:
            same = have == wanted
        if not same:
            module.fail_json(msg=invalid_value(
                option, wanted,
                "EKS cannot change %s of an existing node group: %s of cluster %s has %r. Create a node group under a new "
                "name and delete this one instead." % (option, params["name"], params["cluster_name"], have)))


def config_request(module, group):
    """The UpdateNodegroupConfig request (without names and token), or {}."""
    params = module.params
    request = {}
    scaling = params["scaling"]
    have_scaling = current(group, "scalingConfig")
    if scaling and have_scaling is not None:
        wanted = dict(have_scaling)
        for option, field in SCALING_FIELDS:
            if scaling.get(option) is not None:
                wanted[field] = scaling[option]
        if wanted != have_scaling:
            check_scaling(module, scaling, dict((o, have_scaling.get(f)) for o, f in SCALING_FIELDS))
            request["scalingConfig"] = wanted

    labels = params["labels"]
    if labels is not None:
        have = current(group, "labels")
        wanted = stringify_tags(labels)
        add = dict((k, v) for k, v in wanted.items() if have.get(k) != v)
        remove = sorted(k for k in have if k not in wanted)
        payload = {}
        if add:
            payload["addOrUpdateLabels"] = add
        if remove:
            payload["removeLabels"] = remove
        if payload:
            request["labels"] = payload

    taints = params["taints"]
    if taints is not None:
        have = current(group, "taints")
        wanted = taints_request(taints)
        have_set, wanted_set = taint_set(have), taint_set(wanted)
        add = [t for t in wanted if (t["key"], t.get("value") or "", t["effect"]) not in have_set]
        wanted_keys = set((t["key"], t["effect"]) for t in wanted)
        # a taint whose value changes is replaced by addOrUpdateTaints
        remove = [dict((k, v) for k, v in t.items() if k in ("key", "value", "effect") and v is not None)
                  for t in have if (t.get("key"), t.get("effect")) not in wanted_keys]
        payload = {}
        if add:
            payload["addOrUpdateTaints"] = add
        if remove:
            payload["removeTaints"] = remove
        if payload and wanted_set != have_set:
            request["taints"] = payload

    update_config = params["update_config"]
    have_config = current(group, "updateConfig")
    if update_config is not None and have_config is not None:
        wanted = update_config_request(update_config)
        if dict((k, v) for k, v in have_config.items() if k in ("maxUnavailable", "maxUnavailablePercentage") and v is not None) != wanted:
            request["updateConfig"] = wanted
    return request


def apply_config(group, request):
    if "scalingConfig" in request:
        group["scalingConfig"] = dict(request["scalingConfig"])
    if "labels" in request:
        labels = dict(group.get("labels") or {})
        for key in request["labels"].get("removeLabels", []):
            labels.pop(key, None)
        labels.update(request["labels"].get("addOrUpdateLabels", {}))
        group["labels"] = labels
    if "taints" in request:
        removed = set((t["key"], t["effect"]) for t in request["taints"].get("removeTaints", []))
        added = request["taints"].get("addOrUpdateTaints", [])
        replaced = set((t["key"], t["effect"]) for t in added)
        group["taints"] = [t for t in group.get("taints") or [] if (t.get("key"), t.get("effect")) not in removed | replaced] + added
    if "updateConfig" in request:
        group["updateConfig"] = dict(request["updateConfig"])


def version_request(module, group):
    params = module.params
    request = {}
    version, have = params["version"], group.get("version")
    if version and have and version != have:
        if parse_version(have) and parse_version(version) < parse_version(have):
            module.fail_json(msg=invalid_value(
                "version", version, "Node group %s runs Kubernetes %s and EKS cannot downgrade it; allowed: %s or later (up to the "
                "cluster's version)." % (params["name"], have, have)))
        request["version"] = version
    release = params["release_version"]
    if release and group.get("releaseVersion") and release != group["releaseVersion"]:
        request["releaseVersion"] = release
        if version:
            request["version"] = version
    if request and params["force_update"]:
        request["force"] = True
    return request


def update(module, client, group):
    params = module.params
    cluster_name, name = params["cluster_name"], params["name"]
    check_immutable(module, group)
    config = config_request(module, group)
    version = version_request(module, group)
    steps = [s for s in (("UpdateNodegroupConfig", config), ("UpdateNodegroupVersion", version)) if s[1]]
    if steps and group.get("status") in TRANSITIONAL and not module.check_mode:
        group = wait_active(module, client, cluster_name, name)
        check_immutable(module, group)
        config, version = config_request(module, group), version_request(module, group)
        steps = [s for s in (("UpdateNodegroupConfig", config), ("UpdateNodegroupVersion", version)) if s[1]]

    original_tags = dict(group.get("tags") or {})
    after = copy.deepcopy(group)
    updates = []
    for index, (operation, request) in enumerate(steps):
        if operation == "UpdateNodegroupConfig":
            apply_config(after, request)
        else:
            after.update(dict((k, v) for k, v in request.items() if k in ("version", "releaseVersion")))
        if module.check_mode:
            continue
        full = dict(request, clusterName=cluster_name, nodegroupName=name)
        full["clientRequestToken"] = request_token(operation, "%s/%s" % (cluster_name, name), full, group.get("modifiedAt"))
        call = client.update_nodegroup_config if operation == "UpdateNodegroupConfig" else client.update_nodegroup_version
        try:
            answer = call(aws_retry=True, **full).get("update") or {}
        except boto_errors() as e:
            module.fail_json_aws(e, msg="Failed to update EKS node group %s of cluster %s (%s)" % (name, cluster_name, ", ".join(sorted(request))))
        record = update_record(answer)
        if index < len(steps) - 1 or params["wait"]:
            wait_update_record(module, client, record, answer, "EKS node group %s" % name, cluster_name,
                               delay=POLL_DELAY, nodegroupName=name)
            group = wait_active(module, client, cluster_name, name)
        updates.append(record)
    if updates and params["wait"]:
        after = copy.deepcopy(group)

    tags_changed, tags = ensure_tags(
        module, client, group.get("nodegroupArn"), original_tags, params["tags"], params["purge_tags"],
        "EKS node group %s of cluster %s" % (name, cluster_name),
    )
    after["tags"] = tags
    return after, bool(steps) or tags_changed, updates


# ---------------------------------------------------------------- main


def ensure_absent(module, client):
    params = module.params
    cluster_name, name = params["cluster_name"], params["name"]
    group = describe(module, client, cluster_name, name)
    if group is None:
        module.exit_json(changed=False, name=name, cluster_name=cluster_name, arn=None, status=None)
    before = state_view(view(group))
    delete_and_wait(
        module, group, client.delete_nodegroup, lambda: describe(module, client, cluster_name, name),
        "EKS node group %s of cluster %s" % (name, cluster_name), POLL_DELAY,
        clusterName=cluster_name, nodegroupName=name)
    result = dict(changed=True, name=name, cluster_name=cluster_name, arn=group.get("nodegroupArn"),
                  status=None if params["wait"] else "DELETING")
    exit_with_diff(module, result, before, {})


def ensure_present(module, client):
    params = module.params
    cluster_name, name = params["cluster_name"], params["name"]
    group = describe(module, client, cluster_name, name)
    check_not_deleting(module, group, "EKS node group %s of cluster %s" % (name, cluster_name))
    if group is not None and group.get("status") in FAILED:
        module.fail_json(msg="EKS node group %s of cluster %s is %s (%s); delete it (state: absent) and create it again."
                         % (name, cluster_name, group["status"], health_issues(group)))
    if group is None:
        for option in ("node_role_arn", "subnet_ids"):
            if not params[option]:
                module.fail_json(msg="Option '%s' is required to create node group %s." % (option, name))
        group, created = create(module, client)
        if created:
            return group, True, None, []
    before = copy.deepcopy(group)
    after, changed, updates = update(module, client, group)
    if not changed and params["wait"] and after.get("status") in TRANSITIONAL and not module.check_mode:
        after = wait_active(module, client, cluster_name, name)
    return after, changed, before, updates


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        name=dict(type="str", required=True),
        node_role_arn=dict(type="str"),
        subnet_ids=dict(type="list", elements="str"),
        instance_types=dict(type="list", elements="str"),
        ami_type=dict(type="str", choices=AMI_TYPES),
        capacity_type=dict(type="str", choices=["ON_DEMAND", "SPOT", "CAPACITY_BLOCK"]),
        disk_size=dict(type="int"),
        scaling=dict(type="dict", options=dict(
            min_size=dict(type="int"), max_size=dict(type="int"), desired_size=dict(type="int"),
        )),
        labels=dict(type="dict"),
        taints=dict(type="list", elements="dict", options=dict(
            key=dict(type="str", required=True, no_log=False),
            value=dict(type="str"),
            effect=dict(type="str", required=True, choices=TAINT_EFFECTS),
        )),
        update_config=dict(type="dict", options=dict(
            max_unavailable=dict(type="int"), max_unavailable_percentage=dict(type="int"),
        )),
        version=dict(type="str"),
        release_version=dict(type="str"),
        force_update=dict(type="bool", default=False),
        **resource_options(wait_timeout=1800)
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    client = eks_client(module)

    if module.params["state"] == "absent":
        ensure_absent(module, client)

    after, changed, before, updates = ensure_present(module, client)
    result = dict(changed=changed, **view(after, updates))
    result["name"] = result["name"] or module.params["name"]
    result["cluster_name"] = result["cluster_name"] or module.params["cluster_name"]
    exit_with_diff(module, result, state_view(view(before)) if before else {}, state_view(result))


if __name__ == "__main__":
    main()
