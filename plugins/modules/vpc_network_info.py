#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vpc_network_info
short_description: Read a VPC and everything in it with one describe call per kind of resource
version_added: 0.2.0
description:
  - Finds one VPC, by id (O(vpc_id)) or by its C(Name) tag and optionally its CIDR, and
    returns its subnets, internet gateway, NAT gateways, route tables, security groups
    and endpoints, in the shape M(honeyhive.platform.vpc_network) returns them.
  - Seven read-only calls in all (C(DescribeVpcs) and one describe per kind, filtered by
    the VPC). NAT gateways that are not C(pending) or C(available) and endpoints that are
    deleted, deleting or failed are left out.
options:
  vpc_id:
    description: The VPC. Exactly one of O(vpc_id) and O(name) is required.
    type: str
  name:
    description: The VPC's C(Name) tag. More than one match is an error.
    type: str
  cidr_block:
    description: With O(name), the VPC's CIDR (primary or associated).
    type: str
notes:
  - Supports check mode (it never changes anything).
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the platform network
  honeyhive.platform.vpc_network_info:
    name: honeyhive-prod-usw2-vpc
    cidr_block: 10.10.0.0/16
  register: network

- name: Ids of the subnets by CIDR
  ansible.builtin.debug:
    msg: "{{ network.subnets | items2dict(key_name='cidr', value_name='id') }}"
"""

RETURN = r"""
vpc:
  description: The VPC; empty when there is none.
  returned: always
  type: dict
  sample: {id: vpc-0123456789abcdef0, name: honeyhive-prod-usw2-vpc, cidr_block: 10.10.0.0/16, state: available,
           instance_tenancy: default, tags: {Name: honeyhive-prod-usw2-vpc}}
subnets:
  description:
    - Every subnet of the VPC.
    - C(az) is the zone's name in this account, C(az_id) its id (the same zone in every account).
  returned: always
  type: list
  elements: dict
  sample: [{id: subnet-0123456789abcdef0, name: honeyhive-prod-usw2-public-az1, cidr: 10.10.0.0/20,
            az: us-west-2b, az_id: usw2-az1, map_public: false, state: available, tags: {}}]
internet_gateway:
  description: The internet gateway attached to the VPC; empty when there is none.
  returned: always
  type: dict
  sample: {id: igw-0123456789abcdef0, name: honeyhive-prod-usw2-igw, vpc_ids: [vpc-0123456789abcdef0], tags: {}}
nat_gateways:
  description: The NAT gateways of the VPC that are C(pending) or C(available).
  returned: always
  type: list
  elements: dict
  sample: [{id: nat-0123456789abcdef0, name: honeyhive-prod-usw2-nat-az1, subnet_id: subnet-0123456789abcdef0,
            state: available, public_ip: 203.0.113.10, allocation_id: eipalloc-0123456789abcdef0, tags: {}}]
route_tables:
  description: Every route table of the VPC (the main table included, with C(main=true)).
  returned: always
  type: list
  elements: dict
  sample: [{id: rtb-0123456789abcdef0, name: honeyhive-prod-usw2-rt-public-az1, main: false,
            subnet_ids: [subnet-0123456789abcdef0],
            routes: [{dest: 0.0.0.0/0, gateway_id: igw-0123456789abcdef0, state: active, origin: CreateRoute}], tags: {}}]
security_groups:
  description: Every security group of the VPC (the default group included), with its rules.
  returned: always
  type: list
  elements: dict
  sample: [{id: sg-0123456789abcdef0, name: honeyhive-prod-usw2-web, description: Web tier,
            rules: [{proto: tcp, from_port: 443, to_port: 443, cidr_ip: 0.0.0.0/0, rule_desc: HTTPS from clients}],
            rules_egress: [], tags: {}}]
endpoints:
  description: The VPC's endpoints that are not deleted, deleting or failed.
  returned: always
  type: list
  elements: dict
  sample: [{id: vpce-0123456789abcdef0, service: com.amazonaws.us-west-2.s3, type: Gateway, state: available,
            route_table_ids: [rtb-0123456789abcdef0], subnet_ids: [], security_group_ids: [],
            private_dns_enabled: false, tags: {}}]
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import active_nat_gateways
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import describe_network
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import endpoint_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import find_vpcs
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import internet_gateway_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import live_endpoints
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import nat_gateway_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import route_table_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import security_group_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import subnet_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import vpc_view

VPC_ID_RE = re.compile(r"^vpc-[0-9a-f]{8,17}$")
KINDS = ("subnets", "internet_gateways", "nat_gateways", "route_tables", "security_groups", "endpoints")


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            vpc_id=dict(type="str"),
            name=dict(type="str"),
            cidr_block=dict(type="str"),
        ),
        supports_check_mode=True,
        mutually_exclusive=[["vpc_id", "name"], ["vpc_id", "cidr_block"]],
        required_one_of=[["vpc_id", "name"]],
    )
    params = module.params
    if params["vpc_id"] is not None and not VPC_ID_RE.match(params["vpc_id"]):
        module.fail_json(msg=invalid_value("vpc_id", params["vpc_id"], "Allowed: a VPC ID such as vpc-0123456789abcdef0."))
    client = retrying_client(module, "ec2")
    try:
        vpcs = find_vpcs(client, name=params["name"], cidr_block=params["cidr_block"], vpc_id=params["vpc_id"])
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to describe the VPC")
    if len(vpcs) > 1:
        module.fail_json(msg="More than one VPC matches (%s); give vpc_id or cidr_block." % ", ".join(v["VpcId"] for v in vpcs))
    result = dict(changed=False, vpc={}, subnets=[], internet_gateway={}, nat_gateways=[], route_tables=[],
                  security_groups=[], endpoints=[])
    if not vpcs:
        module.exit_json(**result)
    vpc = vpcs[0]
    try:
        found = describe_network(client, vpc["VpcId"], KINDS)
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to describe the network of %s" % vpc["VpcId"])
    result.update(
        vpc=vpc_view(vpc),
        subnets=[subnet_view(s) for s in found["subnets"]],
        internet_gateway=internet_gateway_view((found["internet_gateways"] or [None])[0]),
        nat_gateways=[nat_gateway_view(g) for g in active_nat_gateways(found["nat_gateways"])],
        route_tables=[route_table_view(t) for t in found["route_tables"]],
        security_groups=[security_group_view(g) for g in found["security_groups"]],
        endpoints=[endpoint_view(e) for e in live_endpoints(found["endpoints"])],
    )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
