#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nat_gateway
short_description: Manage one named public NAT gateway and its Elastic IP
version_added: 0.1.0
description:
  - Manages one public NAT gateway, identified by its C(Name) tag (O(name))
    in O(subnet_id), together with an Elastic IP the module allocates for it.
  - Safe under interrupted runs and retries. It first looks up the gateway
    (states C(pending) and C(available)) and the Elastic IP by their C(Name)
    tag; the Elastic IP is allocated with its tags in the same call, so there
    is never an untagged address; the gateway is created with a deterministic
    C(ClientToken) and its tags. A run interrupted after the allocation
    reuses the address instead of allocating a second one.
  - A run that changes nothing costs two API calls
    (C(DescribeNatGateways) and C(DescribeAddresses)).
  - Tags of the gateway and the Elastic IP are kept in sync with O(tags).
  - O(state=absent) deletes the gateway, waits until it is deleted and then
    releases the tagged Elastic IP.
options:
  name:
    description:
      - Value of the C(Name) tag of the gateway and its Elastic IP; the
        identity of the gateway. 1 to 255 characters.
    type: str
    required: true
  subnet_id:
    description:
      - Public subnet of the gateway. Required when O(state=present).
      - A gateway with the same O(name) in another subnet is an error (it
        cannot be moved; delete it first).
    type: str
  wait:
    description:
      - Wait until a new gateway is C(available). Deleting always waits,
        because the Elastic IP can only be released afterwards.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the gateway to become available or deleted.
    type: int
    default: 600
  state:
    description:
      - V(present) creates the gateway, V(absent) deletes it and releases its
        Elastic IP.
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - The C(Name) tag is always set to O(name), whatever O(tags) says.
  - When O(tags) is omitted only the C(Name) tag is managed.
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: NAT gateway for the first availability zone
  honeyhive.platform.nat_gateway:
    name: honeyhive-prod-nat-a
    subnet_id: "{{ vpc_public_subnet_ids[0] }}"
    tags: "{{ platform_tags }}"
  register: nat_a

- name: Delete it and release its Elastic IP
  honeyhive.platform.nat_gateway:
    name: honeyhive-prod-nat-a
    state: absent
"""

RETURN = r"""
nat_gateway_id:
  description: ID of the gateway (null in check mode before it exists, and after deletion).
  returned: always
  type: str
  sample: nat-0123456789abcdef0
allocation_id:
  description: Allocation ID of the Elastic IP.
  returned: when O(state=present)
  type: str
  sample: eipalloc-0123456789abcdef0
public_ip:
  description: The Elastic IP address.
  returned: when O(state=present)
  type: str
  sample: 203.0.113.10
subnet_id:
  description: Subnet of the gateway.
  returned: when O(state=present)
  type: str
  sample: subnet-0123456789abcdef0
vpc_id:
  description: VPC of the gateway.
  returned: when O(state=present) and the gateway exists
  type: str
  sample: vpc-0123456789abcdef0
state:
  description: State of the gateway (C(pending), C(available), or C(deleted) after O(state=absent)).
  returned: always
  type: str
  sample: available
tags:
  description: Tags of the gateway.
  returned: when O(state=present)
  type: dict
  sample: {Name: honeyhive-prod-nat-a, Environment: prod}
released_allocation_ids:
  description: Elastic IPs released by O(state=absent).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: [eipalloc-0123456789abcdef0]
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import all_pages
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import client_token
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import create_or_recover
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import desired_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ec2_tag_filters
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ec2_tag_list
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ec2_tag_specifications
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import error_code
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retry_decorator
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import single_attempt_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import update_ec2_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import wait_for
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import while_propagating

SUBNET_RE = re.compile(r"^subnet-[0-9a-f]{8,17}$")
ACTIVE = ("pending", "available")
POLL_DELAY = 5
# Codes AWS returns while a deletion has not fully propagated yet.
RELEASE_RETRY_CODES = ["InvalidIPAddress.InUse", "AuthFailure"]
# Describing a gateway right after creating it may not find it yet.
DESCRIBE_RETRY_CODES = ["NatGatewayNotFound", "InvalidNatGatewayID.NotFound"]


def validate(module):
    params = module.params
    name = params["name"]
    if not name or len(name) > 255:
        module.fail_json(msg=invalid_value("name", name, "Allowed: 1 to 255 characters."))
    subnet_id = params["subnet_id"]
    if params["state"] == "present" and not subnet_id:
        module.fail_json(msg="Option 'subnet_id' is required when state is 'present'.")
    if subnet_id is not None and not SUBNET_RE.match(subnet_id):
        module.fail_json(msg=invalid_value("subnet_id", subnet_id, "Allowed: a subnet ID such as subnet-0123456789abcdef0."))
    check_range(module, "wait_timeout", 0, 86400)
    check_tags(module)


def wanted_tags(module):
    """(desired tags, purge) with the Name tag forced to ``name``."""
    params = module.params
    if params["tags"] is None:
        return {"Name": params["name"]}, False
    tags = stringify_tags(params["tags"])
    tags["Name"] = params["name"]
    return tags, params["purge_tags"]


def describe_gateways(module, client, **request):
    try:
        return all_pages(client.describe_nat_gateways, "NatGateways", request)
    except is_boto3_error_code(DESCRIBE_RETRY_CODES):
        return []
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to describe NAT gateways")


def has_name(resource, name):
    return tags_to_dict(resource.get("Tags")).get("Name") == name


def find_gateways(module, client, name):
    """All gateways with the Name tag, any state, newest first.

    The tag filter is applied again to the answer: moto ignores ``tag:``
    filters on DescribeNatGateways, and the check costs nothing on AWS.
    """
    gateways = describe_gateways(module, client, Filters=ec2_tag_filters({"Name": name}))
    gateways = [g for g in gateways if has_name(g, name)]
    return sorted(gateways, key=lambda g: str(g.get("CreateTime", "")), reverse=True)


def find_addresses(module, client, name):
    try:
        addresses = client.describe_addresses(Filters=ec2_tag_filters({"Name": name}), aws_retry=True).get("Addresses", [])
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to describe Elastic IPs tagged Name=%s" % name)
    return [a for a in addresses if has_name(a, name)]


def gateway_addresses(gateway):
    return gateway.get("NatGatewayAddresses") or []


def result_view(gateway, address, tags, subnet_id=None):
    gateway = gateway or {}
    address = address or {}
    first = (gateway_addresses(gateway) or [{}])[0]
    return dict(
        nat_gateway_id=gateway.get("NatGatewayId"),
        allocation_id=first.get("AllocationId") or address.get("AllocationId"),
        public_ip=first.get("PublicIp") or address.get("PublicIp"),
        subnet_id=gateway.get("SubnetId") or subnet_id,
        vpc_id=gateway.get("VpcId"),
        state=gateway.get("State"),
        tags=tags,
    )


def diff_view(view):
    if not view or not view.get("nat_gateway_id") and not view.get("allocation_id"):
        return {}
    return {k: view.get(k) for k in ("nat_gateway_id", "subnet_id", "allocation_id", "tags")}


def wait_gateway(module, client, gateway_id, target):
    def fetch():
        found = describe_gateways(module, client, NatGatewayIds=[gateway_id])
        return found[0] if found else None

    def failed(gateway):
        if gateway and gateway.get("State") == "failed" and target != "deleted":
            return "it failed: %s %s" % (gateway.get("FailureCode", ""), gateway.get("FailureMessage", ""))
        return None

    def done(gateway):
        if target == "deleted":
            return gateway is None or gateway.get("State") in ("deleted", "failed")
        return gateway is not None and gateway.get("State") == target

    gateway, problem = wait_for(fetch, done, timeout=module.params["wait_timeout"], delay=POLL_DELAY, failed=failed)
    if problem == "timeout":
        module.fail_json(
            msg="Timed out after %d seconds (option 'wait_timeout') waiting for NAT gateway %s to be %s; last state %s."
            % (module.params["wait_timeout"], gateway_id, target, (gateway or {}).get("State")),
            nat_gateway_id=gateway_id,
        )
    if problem:
        module.fail_json(msg="NAT gateway %s (%s) %s" % (gateway_id, module.params["name"], problem), nat_gateway_id=gateway_id)
    return gateway


# EC2 is eventually consistent: a subnet made moments ago may not be found by id yet.
SUBNET_VISIBLE_TIMEOUT = 30


def check_subnet(module, client, subnet_id):
    try:
        while_propagating(lambda: client.describe_subnets(SubnetIds=[subnet_id], aws_retry=True),
                          timeout=SUBNET_VISIBLE_TIMEOUT,
                          propagating=lambda e: error_code(e) == "InvalidSubnetID.NotFound")
    except is_boto3_error_code("InvalidSubnetID.NotFound"):
        module.fail_json(msg=invalid_value("subnet_id", subnet_id, "The subnet does not exist in this region and account."))
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to describe subnet %s" % subnet_id)


def allocate_address(module, client, name, tags):
    """Allocate the Elastic IP with its tags in the same call.

    AllocateAddress has no idempotency token: a retry after a lost answer
    could allocate a second address, so on a retryable error the address is
    looked up by its Name tag before trying again (``create_or_recover``).
    """
    once = single_attempt_client(module, "ec2")

    def create():
        return once.allocate_address(Domain="vpc", TagSpecifications=ec2_tag_specifications("elastic-ip", tags))

    def recover():
        for address in find_addresses(module, client, name):
            if not address.get("AssociationId"):
                return address
        return None

    try:
        address, _created = create_or_recover(create, recover)
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to allocate an Elastic IP for NAT gateway %s" % name)
    address = dict(address)
    address.pop("ResponseMetadata", None)
    address["Tags"] = tags_to_list(tags)
    return address


def create_gateway(module, client, name, subnet_id, allocation_id, tags, previous_ids):
    # The token changes only when an earlier gateway of this name has gone
    # (deleted or failed), so retries and re-runs of one attempt share it.
    token = client_token("nat_gateway", name, subnet_id, allocation_id, *sorted(previous_ids))
    try:
        return client.create_nat_gateway(
            SubnetId=subnet_id,
            AllocationId=allocation_id,
            ClientToken=token,
            TagSpecifications=ec2_tag_specifications("natgateway", tags),
            aws_retry=True,
        )["NatGateway"]
    except is_boto3_error_code("Resource.AlreadyAssociated") as e:
        # A retried create whose first attempt went through: the address is now
        # used by our own gateway. Pick that up; anything else is an error.
        for gateway in find_gateways(module, client, name):
            if gateway.get("State") in ACTIVE and gateway.get("SubnetId") == subnet_id:
                return gateway
        module.fail_json_aws(e, msg="Elastic IP %s is already associated with another resource" % allocation_id)
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to create NAT gateway %s in %s" % (name, subnet_id))


def ensure_present(module, client):
    params = module.params
    name = params["name"]
    subnet_id = params["subnet_id"]
    tags, purge = wanted_tags(module)

    gateways = find_gateways(module, client, name)
    active = [g for g in gateways if g.get("State") in ACTIVE]
    elsewhere = [g for g in active if g.get("SubnetId") != subnet_id]
    if elsewhere:
        module.fail_json(
            msg="NAT gateway named %r already exists as %s in subnet %s, not in subnet_id %s. A NAT gateway cannot move: "
            "delete it first (state: absent) or use another name."
            % (name, elsewhere[0]["NatGatewayId"], elsewhere[0].get("SubnetId"), subnet_id)
        )
    gateway = active[0] if active else None
    for extra in active[1:]:
        module.warn("More than one NAT gateway is named %r (%s); managing %s." % (name, extra["NatGatewayId"], gateway["NatGatewayId"]))

    addresses = find_addresses(module, client, name)
    changed = False
    before = result_view(gateway, None, tags_to_dict(gateway.get("Tags"))) if gateway else None

    if gateway:
        used = set(a.get("AllocationId") for a in gateway_addresses(gateway))
        address = next((a for a in addresses if a.get("AllocationId") in used), None)
    else:
        address = next((a for a in addresses if not a.get("AssociationId")), None)

    if gateway is None:
        changed = True
        if module.check_mode:
            return changed, result_view(None, address, desired_tags({}, tags, purge), subnet_id), before
        check_subnet(module, client, subnet_id)
        if address is None:
            address = allocate_address(module, client, name, tags)
        previous = [g["NatGatewayId"] for g in gateways if g.get("State") not in ACTIVE]
        gateway = create_gateway(module, client, name, subnet_id, address["AllocationId"], tags, previous)
        gateway_tags = tags_to_dict(gateway.get("Tags")) or dict(tags)
        if params["wait"] and gateway.get("State") != "available":
            gateway = wait_gateway(module, client, gateway["NatGatewayId"], "available")
        if not gateway.get("Tags"):
            gateway["Tags"] = ec2_tag_list(gateway_tags)
    else:
        gateway_id = gateway["NatGatewayId"]
        gateway_tags = update_ec2_tags(module, client, gateway_id, tags_to_dict(gateway.get("Tags")), tags, purge,
                                       "Failed to update the tags of NAT gateway %s" % gateway_id)
        if gateway_tags is not None:
            changed = True
            gateway["Tags"] = ec2_tag_list(gateway_tags)

    # Keep the Elastic IP's tags in step with the gateway's.
    if address is not None and address.get("AllocationId"):
        if update_ec2_tags(module, client, address["AllocationId"], tags_to_dict(address.get("Tags")), tags, purge,
                           "Failed to update the tags of Elastic IP %s" % address["AllocationId"]) is not None:
            changed = True

    return changed, result_view(gateway, address, tags_to_dict(gateway.get("Tags")), subnet_id), before


def ensure_absent(module, client):
    params = module.params
    name = params["name"]
    subnet_id = params["subnet_id"]
    gateways = [
        g for g in find_gateways(module, client, name)
        if g.get("State") in ACTIVE + ("deleting",) and (subnet_id is None or g.get("SubnetId") == subnet_id)
    ]
    addresses = find_addresses(module, client, name)
    interfaces = set()
    for gateway in gateways:
        for entry in gateway_addresses(gateway):
            if entry.get("NetworkInterfaceId"):
                interfaces.add(entry["NetworkInterfaceId"])
    releasable = []
    for address in addresses:
        if not address.get("AssociationId") or address.get("NetworkInterfaceId") in interfaces:
            releasable.append(address)
        else:
            module.warn(
                "Elastic IP %s is tagged Name=%s but associated with %s, not with this NAT gateway; it was kept."
                % (address.get("AllocationId"), name, address.get("NetworkInterfaceId") or address.get("InstanceId"))
            )
    changed = bool(gateways or releasable)
    before = {}
    if gateways:
        before = result_view(gateways[0], None, tags_to_dict(gateways[0].get("Tags")))
    elif releasable:
        before = {"allocation_id": releasable[0].get("AllocationId")}

    if not module.check_mode:
        for gateway in gateways:
            if gateway.get("State") in ACTIVE:
                try:
                    client.delete_nat_gateway(NatGatewayId=gateway["NatGatewayId"], aws_retry=True)
                except is_boto3_error_code(DESCRIBE_RETRY_CODES):
                    pass
                except boto_errors() as e:  # pylint: disable=duplicate-except
                    module.fail_json_aws(e, msg="Failed to delete NAT gateway %s" % gateway["NatGatewayId"])
        for gateway in gateways:
            wait_gateway(module, client, gateway["NatGatewayId"], "deleted")
        # Right after a deletion AWS may still see the address in use for a
        # moment: retry those answers too, for this call only.
        release = retry_decorator(extra_codes=RELEASE_RETRY_CODES)(client.client.release_address)
        for address in releasable:
            try:
                release(AllocationId=address["AllocationId"])
            except is_boto3_error_code("InvalidAllocationID.NotFound"):
                pass
            except boto_errors() as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg="Failed to release Elastic IP %s" % address["AllocationId"])

    result = dict(
        changed=changed,
        nat_gateway_id=None,
        state="deleted" if gateways else None,
        released_allocation_ids=[a["AllocationId"] for a in releasable],
    )
    if gateways:
        result["deleted_nat_gateway_ids"] = [g["NatGatewayId"] for g in gateways]
    exit_with_diff(module, result, diff_view(before) if gateways else before, {})


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        subnet_id=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    client = retrying_client(module, "ec2", extra_codes=DESCRIBE_RETRY_CODES)

    if module.params["state"] == "absent":
        ensure_absent(module, client)

    changed, view, before = ensure_present(module, client)
    exit_with_diff(module, dict(changed=changed, **view), diff_view(before), diff_view(view))


if __name__ == "__main__":
    main()
