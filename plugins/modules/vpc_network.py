#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vpc_network
short_description: Converge a VPC's subnets, internet gateway, route tables, security groups and endpoints in one run
version_added: 0.2.0
description:
  - Converges the parts of one VPC network that are given, from one declarative spec -
    the VPC itself (O(vpc)), its O(subnets), its O(internet_gateway), O(route_tables)
    with their routes and subnet associations, O(security_groups) with their rules, and
    VPC O(endpoints). A part that is not given is not looked at.
  - Reads the current state with B(one describe call per kind of resource), filtered by
    the VPC, compares locally and calls a mutating API only for a real difference. A run
    that changes nothing over a whole VPC costs about seven calls.
  - Identities, so that a re-run or a run after an interruption never makes a duplicate
    - the VPC by its C(Name) tag and CIDR; a subnet by its CIDR; the internet gateway is the
    one attached to the VPC (an unattached one with the same C(Name) tag is attached
    rather than a second one made); a route table by its C(Name) tag; a security group by
    its name; an endpoint by its service name (endpoints that are deleted or failed are
    ignored). Endpoints are created with a deterministic C(ClientToken) (from the VPC, the
    service, the type and the endpoints of that service that have gone), so a repeated
    request is the same request to AWS. Create calls without an idempotency token are never
    retried blindly; after an error that may have hidden a success the resource is looked up
    first.
  - Resources are created with their tags in the same call, so nothing is ever untagged.
  - NAT gateways are not managed here (see M(honeyhive.platform.nat_gateway)); a route
    names its NAT gateway by id. O(report_nat_gateways) returns the VPC's NAT gateways.
  - O(state=absent) removes the parts given, in dependency order - endpoints (and waits
    until they are gone), route tables, security groups, the internet gateway, subnets
    and, when O(vpc) is given, the VPC.
options:
  vpc_id:
    description:
      - An existing VPC whose parts are converged; the VPC's own settings are not managed.
      - Exactly one of O(vpc_id) and O(vpc) is required.
    type: str
  vpc:
    description:
      - The VPC itself, found by its C(Name) tag and CIDR and created when missing.
      - More than one VPC with that name and CIDR is an error.
    type: dict
    suboptions:
      name:
        description: Value of the C(Name) tag (always set, whatever O(vpc.tags) says).
        type: str
        required: true
      cidr_block:
        description: The primary IPv4 CIDR. A VPC cannot change it.
        type: str
        required: true
      dns_support:
        description: Whether the Amazon DNS server resolves names in the VPC.
        type: bool
        default: true
      dns_hostnames:
        description: Whether instances get public DNS host names.
        type: bool
        default: true
      tags:
        description: Tags of the VPC. When omitted only the C(Name) tag is managed.
        type: dict
  subnets:
    description:
      - Subnets of the VPC, each identified by its CIDR. A subnet that exists in another
        availability zone is an error (a subnet cannot move).
      - The zone is given by its id (O(subnets[].az_id)) or by its name (O(subnets[].az)).
        A zone name maps to a different physical zone in each AWS account (us-east-1b of one
        account may be use1-az3 of another); an id is the same zone in every account.
      - Subnets of the VPC that are not listed are left alone.
    type: list
    elements: dict
    suboptions:
      cidr:
        description: IPv4 CIDR of the subnet, inside the VPC's CIDR.
        type: str
        required: true
      az:
        description:
          - Availability zone name of the subnet, as this account names it (C(us-west-2a)).
          - When O(state=present) exactly one of O(subnets[].az) and O(subnets[].az_id) is required.
        type: str
      az_id:
        description:
          - Availability zone id of the subnet (C(usw2-az1)), sent to C(CreateSubnet) as
            C(AvailabilityZoneId); the same physical zone in every account.
          - When O(state=present) exactly one of O(subnets[].az) and O(subnets[].az_id) is required.
        type: str
      map_public:
        description: Whether instances launched in the subnet get a public IPv4 address.
        type: bool
        default: false
      tags:
        description: Tags of the subnet (include C(Name)). When omitted tags are not managed.
        type: dict
  internet_gateway:
    description:
      - The VPC's internet gateway, created and attached when the VPC has none.
    type: dict
    suboptions:
      tags:
        description: Tags of the gateway (include C(Name)). When omitted tags are not managed.
        type: dict
  route_tables:
    description:
      - Route tables of the VPC, each identified by its C(Name) tag. Tables that are not
        listed (the VPC's main table among them) are left alone.
    type: list
    elements: dict
    suboptions:
      name:
        description: Value of the C(Name) tag (always set, whatever O(route_tables[].tags) says).
        type: str
        required: true
      subnet_ids:
        description:
          - Subnets associated with the table. A subnet associated with another table of
            the VPC is moved to this one (C(ReplaceRouteTableAssociation)).
          - When omitted the associations are not managed.
        type: list
        elements: str
      purge_subnets:
        description: Disassociate the subnets that are not in O(route_tables[].subnet_ids).
        type: bool
        default: true
      routes:
        description:
          - Routes of the table, each a destination and one target. A route to the same
            destination with another target (or a blackhole) is replaced.
        type: list
        elements: dict
        default: []
        suboptions:
          dest:
            description: Destination IPv4 CIDR, IPv6 CIDR or prefix list id (C(pl-...)).
            type: str
            required: true
          gateway_id:
            description:
              - An internet or virtual private gateway; a C(nat-...) id is taken as a NAT gateway.
            type: str
          nat_gateway_id:
            description: A NAT gateway.
            type: str
          transit_gateway_id:
            description: A transit gateway.
            type: str
          vpc_peering_connection_id:
            description: A VPC peering connection.
            type: str
          network_interface_id:
            description: A network interface.
            type: str
          egress_only_gateway_id:
            description: An egress-only internet gateway.
            type: str
      purge_routes:
        description:
          - Delete the routes that are not listed. The local route and the routes that
            gateway endpoints add (C(vpce-...) targets) are never deleted.
        type: bool
        default: false
      tags:
        description: Tags of the table. When omitted only the C(Name) tag is managed.
        type: dict
  security_groups:
    description:
      - Security groups of the VPC, each identified by its name. Rules may reference a
        group of this list or any group of the VPC by name (C(group_name)), itself
        included; all groups are created before any rule is written.
      - The description of an existing group cannot change (AWS has no API for it); a
        different one gives a warning.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the group.
        type: str
        required: true
      description:
        description: Description of the group. Required when O(state=present).
        type: str
      rules:
        description:
          - Ingress rules in the M(amazon.aws.ec2_security_group) format - C(proto) (C(tcp),
            C(udp), C(icmp), C(all) or a number), C(ports) (numbers or C(from-to) ranges) or
            C(from_port) and C(to_port), one or more of C(cidr_ip), C(cidr_ipv6),
            C(group_id), C(group_name), C(prefix_list_id), and C(rule_desc).
          - When omitted ingress is not managed.
        type: list
        elements: dict
      rules_egress:
        description:
          - Egress rules, in the same format. V([]) removes every egress rule, the
            allow-all rule AWS adds to a new group included.
          - When omitted egress is not managed.
        type: list
        elements: dict
      purge_rules:
        description: Revoke the ingress rules that are not listed.
        type: bool
        default: true
      purge_rules_egress:
        description: Revoke the egress rules that are not listed.
        type: bool
        default: true
      tags:
        description: Tags of the group (include C(Name)). When omitted tags are not managed.
        type: dict
  endpoints:
    description:
      - VPC endpoints, each identified by its service name.
    type: list
    elements: dict
    suboptions:
      service:
        description: Service name, for example C(com.amazonaws.us-west-2.s3).
        type: str
        required: true
      type:
        description: Endpoint type. An existing endpoint of another type is an error.
        type: str
        choices: ['Gateway', 'Interface']
        default: Gateway
      route_table_ids:
        description:
          - Route tables of a C(Gateway) endpoint. When omitted (and
            O(endpoints[].route_table_names) too) they are not managed.
        type: list
        elements: str
      route_table_names:
        description:
          - Route tables of a C(Gateway) endpoint given by their C(Name) tag, added to
            O(endpoints[].route_table_ids). A table of O(route_tables) may be named, so
            tables and their endpoint are converged in one run.
        type: list
        elements: str
      subnet_ids:
        description: Subnets of an C(Interface) endpoint. When omitted they are not managed.
        type: list
        elements: str
      security_group_ids:
        description: Security groups of an C(Interface) endpoint. When omitted they are not managed.
        type: list
        elements: str
      private_dns_enabled:
        description: Private DNS of an C(Interface) endpoint. When omitted the AWS default applies.
        type: bool
      tags:
        description: Tags of the endpoint (include C(Name)). When omitted tags are not managed.
        type: dict
  report_nat_gateways:
    description:
      - Also return the VPC's NAT gateways that are C(pending) or C(available) (one
        C(DescribeNatGateways) call).
    type: bool
    default: false
  purge_tags:
    description: Remove the tags that are not in a resource's C(tags) (C(aws:) tags are never removed).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for a new VPC or subnet to become available, for deleted endpoints
        to be gone, and for dependencies to clear while deleting.
    type: int
    default: 300
  state:
    description: V(present) converges the parts given, V(absent) removes them.
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - Supports check mode (no mutating call is made; C(actions) lists what would be done)
    and diff mode (C(before) and C(after) of every part given).
  - In check mode a resource that does not exist yet has C(id=null); rules that reference
    a group that does not exist yet name it C((new) <name>).
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: VPC, subnets, internet gateway and security groups
  honeyhive.platform.vpc_network:
    vpc:
      name: honeyhive-prod-usw2-vpc
      cidr_block: 10.10.0.0/16
      tags: "{{ platform_tags }}"
    subnets:
      - cidr: 10.10.0.0/20
        az_id: usw2-az1
        tags: "{{ platform_tags | combine({'Name': 'honeyhive-prod-usw2-public-az1'}) }}"
      - cidr: 10.10.128.0/20
        az_id: usw2-az1
        tags: "{{ platform_tags | combine({'Name': 'honeyhive-prod-usw2-private-az1'}) }}"
      - cidr: 10.10.144.0/20
        az: us-west-2b
        tags: "{{ platform_tags | combine({'Name': 'honeyhive-prod-usw2-private-b'}) }}"
    internet_gateway:
      tags: "{{ platform_tags | combine({'Name': 'honeyhive-prod-usw2-igw'}) }}"
    security_groups:
      - name: honeyhive-prod-usw2-web
        description: Web tier
        rules:
          - proto: tcp
            ports: [443]
            cidr_ip: 0.0.0.0/0
            rule_desc: HTTPS from clients
        rules_egress:
          - proto: tcp
            ports: ["0-65535"]
            cidr_ip: 10.10.0.0/16
      - name: honeyhive-prod-usw2-app
        description: Application tier
        rules:
          - proto: all
            group_name: [honeyhive-prod-usw2-web, honeyhive-prod-usw2-app]
        rules_egress: []
  register: network

- name: Route tables and endpoints, once the NAT gateway exists
  honeyhive.platform.vpc_network:
    vpc_id: "{{ network.vpc.id }}"
    route_tables:
      - name: honeyhive-prod-usw2-rt-private-az1
        subnet_ids: ["{{ network.subnets[1].id }}"]
        routes:
          - dest: 0.0.0.0/0
            nat_gateway_id: "{{ nat.nat_gateway_id }}"
    endpoints:
      - service: com.amazonaws.us-west-2.s3
        type: Gateway
        route_table_ids: []

- name: What would change, without changing anything
  honeyhive.platform.vpc_network:
    vpc_id: vpc-0123456789abcdef0
    security_groups:
      - name: honeyhive-prod-usw2-db
        description: Database tier
        rules: []
  check_mode: true
  register: plan

- name: Remove the parts (and the VPC)
  honeyhive.platform.vpc_network:
    vpc:
      name: honeyhive-prod-usw2-vpc
      cidr_block: 10.10.0.0/16
    route_tables:
      - name: honeyhive-prod-usw2-rt-private-az1
    security_groups:
      - name: honeyhive-prod-usw2-web
        description: Web tier
    internet_gateway: {}
    subnets:
      - cidr: 10.10.0.0/20
    state: absent
"""

RETURN = r"""
vpc:
  description: The VPC (only C(id) when O(vpc_id) is given). Empty when there is none.
  returned: always
  type: dict
  sample: {id: vpc-0123456789abcdef0, name: honeyhive-prod-usw2-vpc, cidr_block: 10.10.0.0/16,
           state: available, dns_support: true, dns_hostnames: true, tags: {Name: honeyhive-prod-usw2-vpc}}
subnets:
  description:
    - The subnets of O(subnets), in that order (C(id) null in check mode before they exist).
    - C(az) is the zone's name in this account, C(az_id) its id. In check mode a subnet that
      does not exist yet has only the one that was given (the other is null).
  returned: when O(subnets) is given and O(state=present)
  type: list
  elements: dict
  sample: [{id: subnet-0123456789abcdef0, name: honeyhive-prod-usw2-public-az1, cidr: 10.10.0.0/20,
            az: us-west-2b, az_id: usw2-az1, map_public: false, state: available, tags: {}}]
internet_gateway:
  description: The internet gateway attached to the VPC.
  returned: when O(internet_gateway) is given and O(state=present)
  type: dict
  sample: {id: igw-0123456789abcdef0, name: honeyhive-prod-usw2-igw, vpc_ids: [vpc-0123456789abcdef0], tags: {}}
route_tables:
  description: The route tables of O(route_tables), in that order, with their associated subnets and routes.
  returned: when O(route_tables) is given and O(state=present)
  type: list
  elements: dict
  sample: [{id: rtb-0123456789abcdef0, name: honeyhive-prod-usw2-rt-private-az1, main: false,
            subnet_ids: [subnet-0123456789abcdef0],
            routes: [{dest: 10.10.0.0/16, gateway_id: local, state: active, origin: CreateRouteTable},
                     {dest: 0.0.0.0/0, nat_gateway_id: nat-0123456789abcdef0, state: active, origin: CreateRoute}],
            tags: {}}]
security_groups:
  description: The security groups of O(security_groups), in that order, with their rules (one entry per port range and source).
  returned: when O(security_groups) is given and O(state=present)
  type: list
  elements: dict
  sample: [{id: sg-0123456789abcdef0, name: honeyhive-prod-usw2-web, description: Web tier,
            rules: [{proto: tcp, from_port: 443, to_port: 443, cidr_ip: 0.0.0.0/0, rule_desc: HTTPS from clients}],
            rules_egress: [], tags: {}}]
endpoints:
  description: The endpoints of O(endpoints), in that order.
  returned: when O(endpoints) is given and O(state=present)
  type: list
  elements: dict
  sample: [{id: vpce-0123456789abcdef0, service: com.amazonaws.us-west-2.s3, type: Gateway, state: available,
            route_table_ids: [rtb-0123456789abcdef0], subnet_ids: [], security_group_ids: [],
            private_dns_enabled: false, tags: {}}]
nat_gateways:
  description: The VPC's NAT gateways that are C(pending) or C(available).
  returned: when O(report_nat_gateways=true) and O(state=present)
  type: list
  elements: dict
  sample: [{id: nat-0123456789abcdef0, name: honeyhive-prod-usw2-nat-az1, subnet_id: subnet-0123456789abcdef0,
            state: available, public_ip: 203.0.113.10, allocation_id: eipalloc-0123456789abcdef0, tags: {}}]
actions:
  description: What was changed (in check mode, what would be), one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create subnet 10.10.0.0/20", "authorize 1 ingress rule(s) of security group honeyhive-prod-usw2-web"]
"""

import ipaddress
import re
from collections import OrderedDict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ModuleRun
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import client_token
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import create_or_recover
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ec2_tag_specifications
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ensure_ec2_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import error_code
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import single_attempt_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tag_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import wait_for
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import NOT_FOUND_CODES
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import ROUTE_TARGETS
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import RuleError
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import current_rules
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import default_egress_rules
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import describe
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import describe_network
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import endpoint_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import expand_rules
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import find_vpcs
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import internet_gateway_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import live_endpoints
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import name_of
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import active_nat_gateways
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import nat_gateway_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import route_destination
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import route_table_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import rule_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import rule_sort_key
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import rule_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import security_group_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import subnet_view
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import to_permission
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import vpc_filter
from ansible_collections.honeyhive.platform.plugins.module_utils.vpc_network import vpc_view

VPC_ID_RE = re.compile(r"^vpc-[0-9a-f]{8,17}$")
# A zone id (use1-az4, usw2-lax1-az1) and a zone name (us-east-1a, us-west-2-lax-1a): an id
# starts with the region's short form, a name with the region itself.
AZ_ID_RE = re.compile(r"^[a-z]+[0-9]+(-[a-z0-9]+)+$")
AZ_NAME_RE = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+$")
ID_RE = re.compile(r"^[a-z]+(-[a-z]+)?-[0-9a-f]{8,17}$")
POLL_DELAY = 5
ROUTE_TARGET_KEYS = dict((option, key) for key, option in ROUTE_TARGETS)
ROUTE_OPTIONS = ("gateway_id", "nat_gateway_id", "transit_gateway_id", "vpc_peering_connection_id",
                 "network_interface_id", "egress_only_gateway_id")
NEW_RESOURCE = "(new) %s"


def route_target(route_spec):
    """``(API key, id)`` of a route spec's one target."""
    for option in ROUTE_OPTIONS:
        value = route_spec.get(option)
        if value:
            if option == "gateway_id" and value.startswith("nat-"):
                return "NatGatewayId", value
            return ROUTE_TARGET_KEYS[option], value
    return None, None


def destination_key(dest):
    if dest.startswith("pl-"):
        return "DestinationPrefixListId"
    if ":" in dest:
        return "DestinationIpv6CidrBlock"
    return "DestinationCidrBlock"


def asked_zone(spec):
    """``(key, zone)`` of a subnet spec: by id (the same zone in every account) or by name."""
    if spec["az_id"]:
        return "AvailabilityZoneId", spec["az_id"]
    return "AvailabilityZone", spec["az"]


def zone_label(subnet):
    """A subnet's zone as an error names it: the id and this account's name for it."""
    zone_id, name = subnet.get("AvailabilityZoneId"), subnet.get("AvailabilityZone")
    if zone_id and name:
        return "%s (%s in this account)" % (zone_id, name)
    return zone_id or name


def plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


# ---------------------------------------------------------------- validation


def validate(module):
    params = module.params
    fail = module.fail_json
    if params["vpc_id"] is not None and not VPC_ID_RE.match(params["vpc_id"]):
        fail(msg=invalid_value("vpc_id", params["vpc_id"], "Allowed: a VPC ID such as vpc-0123456789abcdef0."))
    vpc_network = None
    if params["vpc"]:
        spec = params["vpc"]
        if not spec["name"] or len(spec["name"]) > 255:
            fail(msg=invalid_value("vpc.name", spec["name"], "Allowed: 1 to 255 characters."))
        try:
            vpc_network = ipaddress.IPv4Network(spec["cidr_block"])
        except ValueError:
            fail(msg=invalid_value("vpc.cidr_block", spec["cidr_block"], "Allowed: an IPv4 CIDR such as 10.10.0.0/16."))
        validate_tags(module, "vpc.tags", spec["tags"])
    if params["wait_timeout"] < 0:
        fail(msg=invalid_value("wait_timeout", params["wait_timeout"], "Allowed: an integer of at least 0."))

    seen = set()
    for index, spec in enumerate(params["subnets"] or []):
        option = "subnets[%d]" % index
        try:
            network = ipaddress.IPv4Network(spec["cidr"])
        except ValueError:
            fail(msg=invalid_value(option + ".cidr", spec["cidr"], "Allowed: an IPv4 CIDR such as 10.10.0.0/20."))
        if vpc_network is not None and not network.subnet_of(vpc_network):
            fail(msg=invalid_value(option + ".cidr", spec["cidr"], "Allowed: a CIDR inside vpc.cidr_block %s." % vpc_network))
        if spec["cidr"] in seen:
            fail(msg=invalid_value(option + ".cidr", spec["cidr"], "Allowed: each subnet CIDR once."))
        seen.add(spec["cidr"])
        if spec["az"] is not None and spec["az_id"] is not None:
            fail(msg=invalid_value(option + ".az_id", spec["az_id"],
                                   "Allowed: az or az_id, not both (the subnet's zone is given once)."))
        if spec["az_id"] is not None and not AZ_ID_RE.match(spec["az_id"]):
            fail(msg=invalid_value(option + ".az_id", spec["az_id"], "Allowed: an availability zone id such as usw2-az1."))
        if spec["az"] is not None and not AZ_NAME_RE.match(spec["az"]):
            fail(msg=invalid_value(option + ".az", spec["az"], "Allowed: an availability zone name such as us-west-2a "
                                   "(or give the zone's id as az_id, such as usw2-az1)."))
        if not spec["az"] and not spec["az_id"] and params["state"] == "present":
            fail(msg=invalid_value(option + ".az_id", spec["az_id"],
                                   "Allowed: an availability zone id such as usw2-az1 (or a zone name as az)."))
        validate_tags(module, option + ".tags", spec["tags"])

    if params["internet_gateway"] is not None:
        validate_tags(module, "internet_gateway.tags", params["internet_gateway"].get("tags"))

    seen = set()
    for index, spec in enumerate(params["route_tables"] or []):
        option = "route_tables[%d]" % index
        if not spec["name"] or spec["name"] in seen:
            fail(msg=invalid_value(option + ".name", spec["name"], "Allowed: a non-empty name, each table once."))
        seen.add(spec["name"])
        for subnet_id in spec["subnet_ids"] or []:
            if not subnet_id or not str(subnet_id).startswith("subnet-"):
                fail(msg=invalid_value(option + ".subnet_ids", subnet_id, "Allowed: subnet IDs such as subnet-0123456789abcdef0."))
        dests = set()
        for route_index, route in enumerate(spec["routes"] or []):
            route_option = "%s.routes[%d]" % (option, route_index)
            targets = [o for o in ROUTE_OPTIONS if route.get(o)]
            if len(targets) != 1:
                fail(msg=invalid_value(route_option, route, "Allowed: a dest and exactly one target (%s)." % ", ".join(ROUTE_OPTIONS)))
            if not route["dest"] or route["dest"] in dests:
                fail(msg=invalid_value(route_option + ".dest", route["dest"], "Allowed: a destination, each once per table."))
            dests.add(route["dest"])
        validate_tags(module, option + ".tags", spec["tags"])

    seen = set()
    for index, spec in enumerate(params["security_groups"] or []):
        option = "security_groups[%d]" % index
        if not spec["name"] or spec["name"] in seen:
            fail(msg=invalid_value(option + ".name", spec["name"], "Allowed: a non-empty name, each group once."))
        seen.add(spec["name"])
        if spec["description"] is None and params["state"] == "present":
            fail(msg="Option '%s.description' is required when state is 'present'." % option)
        for key in ("rules", "rules_egress"):
            try:
                # Every group name resolves here: only the shape of the rules is checked.
                expand_rules(spec[key], _AnyGroup())
            except (RuleError, TypeError, ValueError) as e:
                fail(msg="Invalid value for option '%s.%s': %s." % (option, key, e))
        validate_tags(module, option + ".tags", spec["tags"])

    seen = set()
    for index, spec in enumerate(params["endpoints"] or []):
        option = "endpoints[%d]" % index
        if not spec["service"] or spec["service"] in seen:
            fail(msg=invalid_value(option + ".service", spec["service"], "Allowed: a service name, each once."))
        seen.add(spec["service"])
        if spec["type"] == "Gateway" and (spec["subnet_ids"] or spec["security_group_ids"] or spec["private_dns_enabled"] is not None):
            fail(msg="Option '%s' is a Gateway endpoint: subnet_ids, security_group_ids and private_dns_enabled "
                     "are only for Interface endpoints." % option)
        if spec["type"] == "Interface" and (spec["route_table_ids"] or spec["route_table_names"]):
            fail(msg="Option '%s' is an Interface endpoint: route_table_ids and route_table_names are only for Gateway "
                     "endpoints." % option)
        for key in ("route_table_ids", "subnet_ids", "security_group_ids"):
            for value in spec[key] or []:
                if not value or not ID_RE.match(str(value)):
                    fail(msg=invalid_value("%s.%s" % (option, key), value, "Allowed: resource IDs."))
        validate_tags(module, option + ".tags", spec["tags"])


class _AnyGroup(dict):
    def __contains__(self, key):
        return True

    def __missing__(self, key):
        return NEW_RESOURCE % key


def validate_tags(module, option, tags):
    for key, value in (tags or {}).items():
        key = str(key)
        if not key or len(key) > 128 or key.lower().startswith("aws:"):
            module.fail_json(msg=invalid_value(option, key, "Allowed: tag keys of 1 to 128 characters, not starting with 'aws:'."))
        if isinstance(value, (dict, list)):
            module.fail_json(msg=invalid_value(option, {key: value}, "Allowed: string values (tags are a flat key/value mapping)."))


# ------------------------------------------------------------------ network


class Network(ModuleRun):
    """One run: the current state, the changes made and the views returned."""

    def __init__(self, module):
        # Calls on a resource made moments ago also retry its NotFound codes.
        super().__init__(module, "ec2", fresh_codes=NOT_FOUND_CODES)
        self.purge_tags = module.params["purge_tags"]
        self._once = None
        self.actions = []
        self.before = OrderedDict()
        self.after = OrderedDict()

    # -- helpers

    @property
    def once(self):
        """A client that never retries, for create calls without an idempotency token."""
        if self._once is None:
            self._once = single_attempt_client(self.module, "ec2")
        return self._once

    def read(self, what, method, key, **request):
        try:
            return describe(self.client, method, key, **request)
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to describe %s" % what)

    def create(self, what, create, recover, conflict_codes=()):
        """Run a create call without an idempotency token (``create_or_recover``).

        ``conflict_codes`` say that the resource exists already (a create that went
        through before its answer was lost): it is looked up instead.
        """
        try:
            result, _created = create_or_recover(create, recover)
            return result
        except boto_errors() as e:
            if error_code(e) in conflict_codes:
                found = recover()
                if found:
                    return found
            self.module.fail_json_aws(e, msg="Failed to %s" % what)

    def ensure_tags(self, what, resource_id, current, desired):
        if desired is None:
            return tags_to_dict(current)
        current = tags_to_dict(current)
        to_set, to_unset = tag_diff(current, desired, self.purge_tags)
        if not (to_set or to_unset):
            return current
        if self.act("update the tags of %s" % what) and resource_id:
            try:
                ensure_ec2_tags(self.client, resource_id, current, desired, self.purge_tags)
            except boto_errors() as e:
                self.module.fail_json_aws(e, msg="Failed to update the tags of %s" % what)
        result = dict(current)
        for key in to_unset:
            result.pop(key, None)
        result.update(to_set)
        return result

    def wait(self, what, fetch, done):
        result, problem = wait_for(fetch, done, timeout=self.params["wait_timeout"], delay=POLL_DELAY)
        if problem:
            self.module.fail_json(
                msg="Timed out after %d seconds (option 'wait_timeout') waiting for %s." % (self.params["wait_timeout"], what))
        return result

    # -- the VPC

    def ensure_vpc(self):
        if self.params["vpc_id"]:
            return self.params["vpc_id"], {"id": self.params["vpc_id"]}
        spec = self.params["vpc"]
        name, cidr = spec["name"], spec["cidr_block"]
        what = "VPC %s (%s)" % (name, cidr)
        tags = dict(stringify_tags(spec["tags"]), Name=name) if spec["tags"] is not None else {"Name": name}
        purge = self.purge_tags if spec["tags"] is not None else False
        found = self.find_vpcs(name, cidr)
        if len(found) > 1:
            self.module.fail_json(msg="More than one VPC is named %s with CIDR %s (%s); remove the extra ones first."
                                  % (name, cidr, ", ".join(v["VpcId"] for v in found)))
        vpc = found[0] if found else None
        self.before["vpc"] = vpc_view(vpc)
        if vpc is None:
            if not self.act("create %s" % what):
                view = dict(vpc_view({"CidrBlock": cidr}), name=name, tags=tags,
                            dns_support=spec["dns_support"], dns_hostnames=spec["dns_hostnames"])
                self.after["vpc"] = view
                return None, view
            vpc = self.create(
                "create %s" % what,
                lambda: self.once.create_vpc(CidrBlock=cidr, TagSpecifications=ec2_tag_specifications("vpc", tags))["Vpc"],
                lambda: (self.find_vpcs(name, cidr) or [None])[0],
            )
            if vpc.get("State") != "available":
                vpc = self.wait("%s to be available" % what,
                                lambda: (self.read(what, "describe_vpcs", "Vpcs", Filters=vpc_filter(vpc["VpcId"])) or [None])[0],
                                lambda v: v is not None and v.get("State") == "available")
            # The settings of a new VPC.
            dns_support, dns_hostnames = True, False
        else:
            dns_support = self.vpc_attribute(vpc["VpcId"], "enableDnsSupport")
            dns_hostnames = self.vpc_attribute(vpc["VpcId"], "enableDnsHostnames")
            self.before["vpc"] = vpc_view(vpc, dns_support, dns_hostnames)
        vpc_id = vpc["VpcId"]
        vpc_tags = self.ensure_tags(what, vpc_id, vpc.get("Tags"), tags if purge else dict(tags_to_dict(vpc.get("Tags")), **tags))
        for attribute, current, wanted in (("EnableDnsSupport", dns_support, spec["dns_support"]),
                                           ("EnableDnsHostnames", dns_hostnames, spec["dns_hostnames"])):
            if current != wanted and self.act("set %s of %s to %s" % (attribute, what, wanted)):
                self.call("set %s of %s" % (attribute, what), "modify_vpc_attribute",
                          VpcId=vpc_id, **{attribute: {"Value": wanted}})
        view = dict(vpc_view(vpc, spec["dns_support"], spec["dns_hostnames"]), tags=vpc_tags)
        self.after["vpc"] = view
        return vpc_id, view

    def find_vpcs(self, name, cidr):
        try:
            return find_vpcs(self.client, name=name, cidr_block=cidr)
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to describe the VPCs named %s" % name)

    def vpc_attribute(self, vpc_id, attribute):
        try:
            answer = self.client.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute, aws_retry=True)
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to read %s of %s" % (attribute, vpc_id))
        key = attribute[0].upper() + attribute[1:]
        return bool((answer.get(key) or {}).get("Value"))

    # -- subnets

    def ensure_subnets(self, vpc_id, current):
        by_cidr = dict((s.get("CidrBlock"), s) for s in current)
        # A subnet cannot move: every subnet in another zone than asked is named, before any change.
        moved = []
        for spec in self.params["subnets"]:
            subnet = by_cidr.get(spec["cidr"])
            key, zone = asked_zone(spec)
            if subnet is not None and subnet.get(key) != zone:
                moved.append("%s (%s) is in %s, not in %s" % (spec["cidr"], subnet["SubnetId"], zone_label(subnet), zone))
        if moved:
            self.module.fail_json(msg="Subnet %s: a subnet cannot move. Delete it first or change the plan."
                                  % "; subnet ".join(moved))
        views, created = [], []
        self.before["subnets"] = OrderedDict()
        self.after["subnets"] = OrderedDict()
        for spec in self.params["subnets"]:
            cidr = spec["cidr"]
            subnet = by_cidr.get(cidr)
            what = "subnet %s" % cidr
            tags = stringify_tags(spec["tags"]) if spec["tags"] is not None else None
            key, zone = asked_zone(spec)
            if subnet is not None:
                self.before["subnets"][cidr] = subnet_view(subnet)
                subnet_tags = self.ensure_tags(what, subnet["SubnetId"], subnet.get("Tags"), tags)
                subnet = dict(subnet, Tags=[{"Key": k, "Value": v} for k, v in subnet_tags.items()])
            elif not self.act("create %s in %s" % (what, zone)):
                subnet = {"CidrBlock": cidr, key: zone, "MapPublicIpOnLaunch": spec["map_public"],
                          "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}
            else:
                request = {"VpcId": vpc_id, "CidrBlock": cidr, key: zone}
                if tags:
                    request["TagSpecifications"] = ec2_tag_specifications("subnet", tags)
                subnet = self.create(
                    "create %s" % what,
                    lambda request=request: self.once.create_subnet(**request)["Subnet"],
                    lambda cidr=cidr: (self.read("the subnets of %s" % vpc_id, "describe_subnets", "Subnets", Filters=(
                        vpc_filter(vpc_id) + [{"Name": "cidr-block", "Values": [cidr]}])) or [None])[0],
                    conflict_codes=["InvalidSubnet.Conflict"],
                )
                created.append(subnet["SubnetId"])
            if subnet.get("SubnetId") and bool(subnet.get("MapPublicIpOnLaunch")) != spec["map_public"]:
                if self.act("set MapPublicIpOnLaunch of %s to %s" % (what, spec["map_public"])):
                    self.call("set MapPublicIpOnLaunch of %s" % what, "modify_subnet_attribute",
                              SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": spec["map_public"]})
                subnet = dict(subnet, MapPublicIpOnLaunch=spec["map_public"])
            view = subnet_view(subnet)
            views.append(view)
            self.after["subnets"][cidr] = view
        pending = [v["id"] for v in views if v["id"] in created and v["state"] != "available"]
        if pending:
            found = self.wait("subnets %s to be available" % ", ".join(pending),
                              lambda: self.read("the new subnets", "describe_subnets", "Subnets",
                                                Filters=[{"Name": "subnet-id", "Values": pending}]),
                              lambda subnets: len(subnets) == len(pending) and all(s.get("State") == "available" for s in subnets))
            states = dict((s["SubnetId"], s.get("State")) for s in found)
            for view in views:
                view["state"] = states.get(view["id"], view["state"])
        return views

    # -- internet gateway

    def ensure_internet_gateway(self, vpc_id, attached):
        spec = self.params["internet_gateway"]
        tags = stringify_tags(spec.get("tags")) if spec.get("tags") is not None else None
        name = (tags or {}).get("Name")
        gateway = attached[0] if attached else None
        self.before["internet_gateway"] = internet_gateway_view(gateway)
        what = "the internet gateway of %s" % (vpc_id or "the new VPC")
        if gateway is None:
            # A gateway left unattached by an interrupted run is attached, not duplicated.
            spare = [g for g in self.gateways_named(name) if not g.get("Attachments")] if name and vpc_id else []
            if spare:
                gateway = spare[0]
                if self.act("attach internet gateway %s to %s" % (gateway["InternetGatewayId"], vpc_id)):
                    self.call("attach %s" % gateway["InternetGatewayId"], "attach_internet_gateway",
                              InternetGatewayId=gateway["InternetGatewayId"], VpcId=vpc_id)
            elif not self.act("create and attach %s" % what):
                view = dict(internet_gateway_view({"Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}),
                            vpc_ids=[vpc_id] if vpc_id else [])
                self.after["internet_gateway"] = view
                return view
            else:
                request = {}
                if tags:
                    request["TagSpecifications"] = ec2_tag_specifications("internet-gateway", tags)
                gateway = self.create(
                    "create %s" % what,
                    lambda: self.once.create_internet_gateway(**request)["InternetGateway"],
                    lambda: next((g for g in self.gateways_named(name) if not g.get("Attachments")), None) if name else None,
                )
                self.call("attach %s" % gateway["InternetGatewayId"], "attach_internet_gateway",
                          InternetGatewayId=gateway["InternetGatewayId"], VpcId=vpc_id)
            gateway = dict(gateway, Attachments=[{"VpcId": vpc_id, "State": "available"}])
        gateway_tags = self.ensure_tags(what, gateway.get("InternetGatewayId"), gateway.get("Tags"), tags)
        view = dict(internet_gateway_view(gateway), tags=gateway_tags)
        self.after["internet_gateway"] = view
        return view

    def gateways_named(self, name):
        return self.read("the internet gateways named %s" % name, "describe_internet_gateways", "InternetGateways",
                         Filters=[{"Name": "tag:Name", "Values": [name]}])

    # -- security groups

    def ensure_security_groups(self, vpc_id, current):
        existing = dict((g.get("GroupName"), g) for g in current)
        group_ids = dict((name, g["GroupId"]) for name, g in existing.items())
        groups = OrderedDict()
        self.before["security_groups"] = OrderedDict()
        self.after["security_groups"] = OrderedDict()
        # Every group first, so that rules can reference any of them.
        for spec in self.params["security_groups"]:
            name = spec["name"]
            what = "security group %s" % name
            tags = stringify_tags(spec["tags"]) if spec["tags"] is not None else None
            group = existing.get(name)
            if group is not None:
                self.before["security_groups"][name] = security_group_view(group)
                if group.get("Description") != spec["description"]:
                    self.module.warn("The description of %s is %r, not %r. AWS cannot change a group's description: "
                                     "delete and re-create the group to change it." % (what, group.get("Description"), spec["description"]))
                group_tags = self.ensure_tags(what, group["GroupId"], group.get("Tags"), tags)
                groups[name] = dict(group, Tags=[{"Key": k, "Value": v} for k, v in group_tags.items()])
                continue
            new = {"GroupName": name, "Description": spec["description"], "IpPermissions": [],
                   "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}
            if not self.act("create %s" % what):
                group_ids[name] = NEW_RESOURCE % name
                groups[name] = dict(new, GroupId=None)
                continue
            request = dict(GroupName=name, Description=spec["description"], VpcId=vpc_id)
            if tags:
                request["TagSpecifications"] = ec2_tag_specifications("security-group", tags)
            created = self.create(
                "create %s" % what,
                lambda request=request: self.once.create_security_group(**request),
                lambda name=name: (self.read(what, "describe_security_groups", "SecurityGroups", Filters=(
                    vpc_filter(vpc_id) + [{"Name": "group-name", "Values": [name]}])) or [None])[0],
                conflict_codes=["InvalidGroup.Duplicate"],
            )
            group_ids[name] = created["GroupId"]
            if "IpPermissionsEgress" in created:  # found, not made: its real rules
                groups[name] = created
            else:
                groups[name] = dict(new, GroupId=created["GroupId"], IpPermissionsEgress=None, _new=True)

        views = []
        for spec in self.params["security_groups"]:
            group = groups[spec["name"]]
            view = security_group_view(group)
            for key, perms_key, direction in (("rules", "IpPermissions", "ingress"),
                                              ("rules_egress", "IpPermissionsEgress", "egress")):
                if group.get("_new") or group.get("GroupId") is None:
                    current = default_egress_rules() if direction == "egress" else set()
                else:
                    current = current_rules(group.get(perms_key))
                if spec[key] is None:
                    view[key] = [rule_view(r) for r in sorted(current, key=rule_sort_key)]
                    continue
                try:
                    desired = expand_rules(spec[key], group_ids)
                except RuleError as e:
                    self.module.fail_json(msg="Invalid value for option 'security_groups' (%s, %s): %s."
                                              % (spec["name"], key, e))
                purge = spec["purge_rules" if direction == "ingress" else "purge_rules_egress"]
                self.ensure_rules(spec["name"], group.get("GroupId"), direction, current, desired, purge)
                final = dict((r[:5], r) for r in current) if not purge else {}
                final.update((r[:5], r) for r in desired)
                view[key] = [rule_view(r) for r in sorted(final.values(), key=rule_sort_key)]
            view["id"] = group.get("GroupId")
            views.append(view)
            self.after["security_groups"][spec["name"]] = view
        return views

    def ensure_rules(self, name, group_id, direction, current, desired, purge):
        revoke, authorize, describe_only = rule_diff(current, desired, purge)
        what = "security group %s" % name
        if revoke and self.act("revoke %s of %s" % (plural(len(revoke), direction + " rule"), what)):
            try:
                self.fresh(getattr(self.client, "revoke_security_group_" + direction))(
                    GroupId=group_id, IpPermissions=[to_permission(r) for r in revoke])
            except is_boto3_error_code("InvalidPermission.NotFound"):
                pass
            except boto_errors() as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg="Failed to revoke %s rules of %s" % (direction, what))
        if authorize and self.act("authorize %s of %s" % (plural(len(authorize), direction + " rule"), what)):
            try:
                self.fresh(getattr(self.client, "authorize_security_group_" + direction))(
                    GroupId=group_id, IpPermissions=[to_permission(r) for r in authorize])
            except is_boto3_error_code("InvalidPermission.Duplicate"):
                # Some were there after all (a retried call): add them one by one.
                for rule in authorize:
                    try:
                        self.fresh(getattr(self.client, "authorize_security_group_" + direction))(
                            GroupId=group_id, IpPermissions=[to_permission(rule)])
                    except is_boto3_error_code("InvalidPermission.Duplicate"):
                        pass
                    except boto_errors() as e:  # pylint: disable=duplicate-except
                        self.module.fail_json_aws(e, msg="Failed to authorize %s rules of %s" % (direction, what))
            except boto_errors() as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg="Failed to authorize %s rules of %s" % (direction, what))
        if describe_only and self.act("update the descriptions of %s of %s" % (plural(len(describe_only), direction + " rule"), what)):
            self.call("update the rule descriptions of %s" % what,
                      "update_security_group_rule_descriptions_" + direction,
                      GroupId=group_id, IpPermissions=[to_permission(r) for r in describe_only])

    # -- route tables

    def ensure_route_tables(self, vpc_id, current):
        by_name = OrderedDict()
        for table in current:
            name = name_of(table)
            if name in by_name:
                self.module.warn("More than one route table of %s is named %s; managing %s."
                                 % (vpc_id, name, by_name[name]["RouteTableId"]))
                continue
            by_name[name] = table
        # Which table each subnet is explicitly associated with.
        associations = {}
        for table in current:
            for association in table.get("Associations") or []:
                if association.get("SubnetId") and not association.get("Main"):
                    associations[association["SubnetId"]] = (association["RouteTableAssociationId"], table["RouteTableId"])

        views = []
        self.before["route_tables"] = OrderedDict()
        self.after["route_tables"] = OrderedDict()
        for spec in self.params["route_tables"]:
            name = spec["name"]
            what = "route table %s" % name
            tags = dict(stringify_tags(spec["tags"]), Name=name) if spec["tags"] is not None else {"Name": name}
            purge = self.purge_tags if spec["tags"] is not None else False
            table = by_name.get(name)
            if table is not None:
                self.before["route_tables"][name] = route_table_view(table)
                table_tags = self.ensure_tags(what, table["RouteTableId"], table.get("Tags"),
                                              tags if purge else dict(tags_to_dict(table.get("Tags")), **tags))
                table = dict(table, Tags=[{"Key": k, "Value": v} for k, v in table_tags.items()])
            elif not self.act("create %s" % what):
                table = {"RouteTableId": None, "Routes": [], "Associations": [],
                         "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            else:
                table = self.create(
                    "create %s" % what,
                    lambda: self.once.create_route_table(
                        VpcId=vpc_id, TagSpecifications=ec2_tag_specifications("route-table", tags))["RouteTable"],
                    lambda name=name: (self.read(what, "describe_route_tables", "RouteTables", Filters=(
                        vpc_filter(vpc_id) + [{"Name": "tag:Name", "Values": [name]}])) or [None])[0],
                )
                table = dict(table, Associations=table.get("Associations") or [])
            table_id = table.get("RouteTableId")
            routes = self.ensure_routes(what, table_id, table.get("Routes") or [], spec["routes"], spec["purge_routes"])
            table = dict(table, Routes=routes)
            if spec["subnet_ids"] is not None:
                table = dict(table, Associations=self.ensure_associations(
                    what, table, spec["subnet_ids"], spec["purge_subnets"], associations))
            view = route_table_view(table)
            views.append(view)
            self.after["route_tables"][name] = view
        return views

    def ensure_routes(self, what, table_id, current, wanted, purge):
        by_dest = dict((route_destination(r), r) for r in current)
        result = list(current)
        for spec in wanted:
            dest = spec["dest"]
            key, target = route_target(spec)
            route = by_dest.get(dest)
            request = {"RouteTableId": table_id, destination_key(dest): dest, key: target}
            new_route = {destination_key(dest): dest, key: target, "State": "active", "Origin": "CreateRoute"}
            if route is not None and route.get(key) == target and route.get("State") != "blackhole":
                continue
            if route is not None:
                if self.act("replace the route to %s in %s (now %s)" % (dest, what, target)):
                    self.call("replace the route to %s in %s" % (dest, what), "replace_route", **request)
                result = [new_route if route_destination(r) == dest else r for r in result]
            else:
                if self.act("add a route to %s via %s in %s" % (dest, target, what)):
                    self.call("add the route to %s in %s" % (dest, what), "create_route", **request)
                result.append(new_route)
        if purge:
            wanted_dests = set(spec["dest"] for spec in wanted)
            for route in list(result):
                dest = route_destination(route)
                if (dest in wanted_dests or route.get("GatewayId") == "local" or route.get("Origin") != "CreateRoute"
                        or str(route.get("GatewayId", "")).startswith("vpce-")):
                    continue
                if self.act("delete the route to %s from %s" % (dest, what)):
                    self.call("delete the route to %s from %s" % (dest, what), "delete_route",
                              RouteTableId=table_id, **{destination_key(dest): dest})
                result.remove(route)
        return result

    def ensure_associations(self, what, table, subnet_ids, purge, associations):
        table_id = table.get("RouteTableId")
        # A subnet that an earlier table of this run took over is no longer this table's.
        mine = dict((a["SubnetId"], a) for a in table.get("Associations") or []
                    if a.get("SubnetId") and not a.get("Main") and (associations.get(a["SubnetId"]) or (None, table_id))[1] == table_id)
        result = [a for a in table.get("Associations") or [] if a.get("Main")]
        for subnet_id in subnet_ids:
            if subnet_id in mine:
                result.append(mine[subnet_id])
                continue
            elsewhere = associations.get(subnet_id)
            if elsewhere:
                if self.act("move subnet %s from route table %s to %s" % (subnet_id, elsewhere[1], what)):
                    answer = self.call("move subnet %s to %s" % (subnet_id, what), "replace_route_table_association",
                                       AssociationId=elsewhere[0], RouteTableId=table_id)
                    association_id = answer.get("NewAssociationId")
                else:
                    association_id = None
            else:
                if self.act("associate subnet %s with %s" % (subnet_id, what)):
                    answer = self.call("associate subnet %s with %s" % (subnet_id, what), "associate_route_table",
                                       RouteTableId=table_id, SubnetId=subnet_id)
                    association_id = answer.get("AssociationId")
                else:
                    association_id = None
            associations[subnet_id] = (association_id, table_id)
            result.append({"SubnetId": subnet_id, "RouteTableAssociationId": association_id, "Main": False})
        for subnet_id, association in mine.items():
            if subnet_id in subnet_ids:
                continue
            if not purge:
                result.append(association)
                continue
            if self.act("disassociate subnet %s from %s" % (subnet_id, what)):
                self.call("disassociate subnet %s from %s" % (subnet_id, what), "disassociate_route_table",
                          AssociationId=association["RouteTableAssociationId"])
            associations.pop(subnet_id, None)
        return result

    # -- endpoints

    def ensure_endpoints(self, vpc_id, current, tables):
        live = live_endpoints(current)
        # Route tables by name: as they are after this run, else as described.
        table_ids = dict((name_of(t), t["RouteTableId"]) for t in tables)
        for name, table in (self.after.get("route_tables") or {}).items():
            table_ids[name] = table["id"] or NEW_RESOURCE % name
        views = []
        self.before["endpoints"] = OrderedDict()
        self.after["endpoints"] = OrderedDict()
        for spec in self.params["endpoints"]:
            service = spec["service"]
            what = "the %s endpoint %s" % (spec["type"], service)
            tags = stringify_tags(spec["tags"]) if spec["tags"] is not None else None
            if spec["route_table_names"]:
                missing = [n for n in spec["route_table_names"] if n not in table_ids]
                if missing:
                    self.module.fail_json(msg="Option 'endpoints' (%s): %s has no route table named %s."
                                              % (service, vpc_id, ", ".join(missing)))
                spec = dict(spec, route_table_ids=list(spec["route_table_ids"] or [])
                            + [table_ids[n] for n in spec["route_table_names"]])
            matching = [e for e in live if e.get("ServiceName") == service]
            if len(matching) > 1:
                self.module.warn("%s has %d endpoints for %s; managing %s." % (vpc_id, len(matching), service,
                                                                               matching[0]["VpcEndpointId"]))
            endpoint = matching[0] if matching else None
            if endpoint is None:
                gone = sorted(e["VpcEndpointId"] for e in current
                              if e.get("ServiceName") == service and e not in live)
                endpoint = self.create_endpoint(vpc_id, spec, what, tags, gone)
            else:
                self.before["endpoints"][service] = endpoint_view(endpoint)
                if endpoint.get("VpcEndpointType") != spec["type"]:
                    self.module.fail_json(msg="The endpoint %s for %s is a %s endpoint, not %s; delete it first."
                                              % (endpoint["VpcEndpointId"], service, endpoint.get("VpcEndpointType"), spec["type"]))
                endpoint = self.update_endpoint(endpoint, spec, what)
                endpoint_tags = self.ensure_tags(what, endpoint["VpcEndpointId"], endpoint.get("Tags"), tags)
                endpoint = dict(endpoint, Tags=[{"Key": k, "Value": v} for k, v in endpoint_tags.items()])
            view = endpoint_view(endpoint)
            views.append(view)
            self.after["endpoints"][service] = view
        return views

    def create_endpoint(self, vpc_id, spec, what, tags, gone=()):
        # Retries and re-runs of one attempt share the token; it changes when an earlier
        # endpoint of the service in this VPC has gone (AWS lists deleted ones for a while).
        request = dict(VpcId=vpc_id, ServiceName=spec["service"], VpcEndpointType=spec["type"],
                       ClientToken=client_token("vpc_endpoint", vpc_id, spec["service"], spec["type"], *gone))
        for option, key in (("route_table_ids", "RouteTableIds"), ("subnet_ids", "SubnetIds"),
                            ("security_group_ids", "SecurityGroupIds")):
            if spec[option]:
                request[key] = list(spec[option])
        if spec["private_dns_enabled"] is not None:
            request["PrivateDnsEnabled"] = spec["private_dns_enabled"]
        if tags:
            request["TagSpecifications"] = ec2_tag_specifications("vpc-endpoint", tags)
        planned = {"ServiceName": spec["service"], "VpcEndpointType": spec["type"], "State": None,
                   "RouteTableIds": request.get("RouteTableIds", []), "SubnetIds": request.get("SubnetIds", []),
                   "Groups": [{"GroupId": g} for g in request.get("SecurityGroupIds", [])],
                   "PrivateDnsEnabled": spec["private_dns_enabled"],
                   "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}
        if not self.act("create %s" % what):
            return planned

        def recover():
            found = self.read(what, "describe_vpc_endpoints", "VpcEndpoints", Filters=(
                vpc_filter(vpc_id) + [{"Name": "service-name", "Values": [spec["service"]]}]))
            return (live_endpoints(found) or [None])[0]

        endpoint = self.create("create %s" % what, lambda: self.once.create_vpc_endpoint(**request)["VpcEndpoint"], recover)
        return dict(planned, **endpoint)

    def update_endpoint(self, endpoint, spec, what):
        request = {}
        changes = []
        for option, current, add_key, remove_key in (
                ("route_table_ids", endpoint.get("RouteTableIds") or [], "AddRouteTableIds", "RemoveRouteTableIds"),
                ("subnet_ids", endpoint.get("SubnetIds") or [], "AddSubnetIds", "RemoveSubnetIds"),
                ("security_group_ids", [g.get("GroupId") for g in endpoint.get("Groups") or []],
                 "AddSecurityGroupIds", "RemoveSecurityGroupIds")):
            if spec[option] is None:
                continue
            add = sorted(set(spec[option]) - set(current))
            remove = sorted(set(current) - set(spec[option]))
            if add:
                request[add_key] = add
                changes.append("add %s %s" % (option[:-4].replace("_", " "), ", ".join(add)))
            if remove:
                request[remove_key] = remove
                changes.append("remove %s %s" % (option[:-4].replace("_", " "), ", ".join(remove)))
        if spec["private_dns_enabled"] is not None and bool(endpoint.get("PrivateDnsEnabled")) != spec["private_dns_enabled"]:
            request["PrivateDnsEnabled"] = spec["private_dns_enabled"]
            changes.append("set private DNS to %s" % spec["private_dns_enabled"])
        if not changes:
            return endpoint
        if self.act("%s: %s" % (what, "; ".join(changes))):
            self.call("modify %s" % what, "modify_vpc_endpoint", VpcEndpointId=endpoint["VpcEndpointId"], **request)
        updated = dict(endpoint)
        if spec["route_table_ids"] is not None:
            updated["RouteTableIds"] = list(spec["route_table_ids"])
        if spec["subnet_ids"] is not None:
            updated["SubnetIds"] = list(spec["subnet_ids"])
        if spec["security_group_ids"] is not None:
            updated["Groups"] = [{"GroupId": g} for g in spec["security_group_ids"]]
        if "PrivateDnsEnabled" in request:
            updated["PrivateDnsEnabled"] = request["PrivateDnsEnabled"]
        return updated

    # -- present

    def present(self):
        params = self.params
        vpc_id, vpc = self.ensure_vpc()
        result = dict(vpc=vpc)
        kinds = set()
        for option, kind in (("subnets", "subnets"), ("internet_gateway", "internet_gateways"),
                             ("route_tables", "route_tables"), ("security_groups", "security_groups"),
                             ("endpoints", "endpoints")):
            if params[option] is not None:
                kinds.add(kind)
        if params["report_nat_gateways"]:
            kinds.add("nat_gateways")
        if any(spec["route_table_names"] for spec in params["endpoints"] or []):
            kinds.add("route_tables")
        if vpc_id:
            try:
                current = describe_network(self.client, vpc_id, kinds)
            except boto_errors() as e:
                self.module.fail_json_aws(e, msg="Failed to describe the network of %s" % vpc_id)
        else:
            current = dict((kind, []) for kind in kinds)
        if params["subnets"] is not None:
            result["subnets"] = self.ensure_subnets(vpc_id, current["subnets"])
        if params["internet_gateway"] is not None:
            result["internet_gateway"] = self.ensure_internet_gateway(vpc_id, current["internet_gateways"])
        if params["security_groups"] is not None:
            result["security_groups"] = self.ensure_security_groups(vpc_id, current["security_groups"])
        if params["route_tables"] is not None:
            result["route_tables"] = self.ensure_route_tables(vpc_id, current["route_tables"])
        if params["endpoints"] is not None:
            result["endpoints"] = self.ensure_endpoints(vpc_id, current["endpoints"], current.get("route_tables") or [])
        if params["report_nat_gateways"]:
            result["nat_gateways"] = [nat_gateway_view(g) for g in active_nat_gateways(current["nat_gateways"])]
        return result

    # -- absent

    def absent(self):
        params = self.params
        if params["vpc_id"]:
            vpc_id = params["vpc_id"]
        else:
            found = self.find_vpcs(params["vpc"]["name"], params["vpc"]["cidr_block"])
            vpc_id = found[0]["VpcId"] if found else None
            self.before["vpc"] = vpc_view(found[0]) if found else {}
            if len(found) > 1:
                self.module.fail_json(msg="More than one VPC is named %s with CIDR %s (%s); remove the extra ones first."
                                          % (params["vpc"]["name"], params["vpc"]["cidr_block"],
                                             ", ".join(v["VpcId"] for v in found)))
        kinds = set(["endpoints"] if params["endpoints"] else [])
        for option, kind in (("route_tables", "route_tables"), ("security_groups", "security_groups"),
                             ("internet_gateway", "internet_gateways"), ("subnets", "subnets")):
            if params[option]:
                kinds.add(kind)
        if params["internet_gateway"] is not None:
            kinds.add("internet_gateways")
        current = dict((kind, []) for kind in kinds)
        if vpc_id:
            try:
                current = describe_network(self.client, vpc_id, kinds)
            except boto_errors() as e:
                self.module.fail_json_aws(e, msg="Failed to describe the network of %s" % vpc_id)
        if params["endpoints"]:
            self.remove_endpoints(current["endpoints"])
        if params["route_tables"]:
            self.remove_route_tables(current["route_tables"])
        if params["security_groups"]:
            self.remove_security_groups(current["security_groups"])
        if params["internet_gateway"] is not None:
            self.remove_internet_gateways(vpc_id, current["internet_gateways"])
        if params["subnets"]:
            self.remove_subnets(current["subnets"])
        if params["vpc"] and vpc_id:
            if self.act("delete VPC %s (%s)" % (params["vpc"]["name"], vpc_id)):
                self.until_free("delete VPC %s" % vpc_id, "delete_vpc", VpcId=vpc_id)
            self.after["vpc"] = {}
        return dict(vpc={})

    def until_free(self, what, method, **request):
        """A delete call, repeated while something still depends on the resource."""
        def attempt():
            try:
                getattr(self.client, method)(aws_retry=True, **request)
                return True
            except is_boto3_error_code(["DependencyViolation", "InvalidDependency", "ResourceInUse"]):
                return False
            except is_boto3_error_code(NOT_FOUND_CODES + ["Gateway.NotAttached"]):  # pylint: disable=duplicate-except
                return True  # gone already
            except boto_errors() as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg="Failed to %s" % what)

        _result, problem = wait_for(attempt, bool, timeout=self.params["wait_timeout"], delay=POLL_DELAY)
        if problem:
            self.module.fail_json(msg="Could not %s within %d seconds (option 'wait_timeout'): something still depends on it."
                                      % (what, self.params["wait_timeout"]))

    def remove_endpoints(self, current):
        services = set(spec["service"] for spec in self.params["endpoints"])
        doomed = [e for e in live_endpoints(current) if e.get("ServiceName") in services]
        self.before["endpoints"] = OrderedDict((e["ServiceName"], endpoint_view(e)) for e in doomed)
        self.after["endpoints"] = OrderedDict()
        if not doomed:
            return
        ids = [e["VpcEndpointId"] for e in doomed]
        if not self.act("delete endpoints %s" % ", ".join(ids)):
            return
        answer = self.call("delete endpoints %s" % ", ".join(ids), "delete_vpc_endpoints", VpcEndpointIds=ids)
        failed = [u for u in answer.get("Unsuccessful") or []
                  if (u.get("Error") or {}).get("Code") != "InvalidVpcEndpoint.NotFound"]
        if failed:
            self.module.fail_json(msg="Failed to delete endpoints: %s" % failed)

        def fetch():
            try:
                return live_endpoints(describe(self.client, "describe_vpc_endpoints", "VpcEndpoints", VpcEndpointIds=ids))
            except is_boto3_error_code("InvalidVpcEndpointId.NotFound"):
                return []
            except boto_errors() as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg="Failed to describe the deleted endpoints")

        # Interface endpoints keep their network interfaces (and so the subnets and groups) busy until gone.
        self.wait("endpoints %s to be deleted" % ", ".join(ids), fetch, lambda left: not left)

    def remove_route_tables(self, current):
        names = [spec["name"] for spec in self.params["route_tables"]]
        self.before["route_tables"] = OrderedDict()
        self.after["route_tables"] = OrderedDict()
        for table in current:
            name = name_of(table)
            if name not in names:
                continue
            self.before["route_tables"][name] = route_table_view(table)
            if any(a.get("Main") for a in table.get("Associations") or []):
                self.module.warn("Route table %s (%s) is the VPC's main route table and is kept." % (name, table["RouteTableId"]))
                continue
            what = "route table %s (%s)" % (name, table["RouteTableId"])
            if not self.act("delete %s" % what):
                continue
            for association in table.get("Associations") or []:
                try:
                    self.client.disassociate_route_table(AssociationId=association["RouteTableAssociationId"], aws_retry=True)
                except is_boto3_error_code("InvalidAssociationID.NotFound"):
                    pass
                except boto_errors() as e:  # pylint: disable=duplicate-except
                    self.module.fail_json_aws(e, msg="Failed to disassociate %s" % what)
            self.until_free("delete %s" % what, "delete_route_table", RouteTableId=table["RouteTableId"])

    def remove_security_groups(self, current):
        names = [spec["name"] for spec in self.params["security_groups"]]
        doomed = [g for g in current if g.get("GroupName") in names and g.get("GroupName") != "default"]
        self.before["security_groups"] = OrderedDict((g["GroupName"], security_group_view(g)) for g in doomed)
        self.after["security_groups"] = OrderedDict()
        if not doomed:
            return
        if not self.act("delete security groups %s" % ", ".join(g["GroupName"] for g in doomed)):
            return
        # Rules that reference another group keep that group in use: revoke them first.
        for group in doomed:
            for direction, perms_key in (("ingress", "IpPermissions"), ("egress", "IpPermissionsEgress")):
                rules = [r for r in current_rules(group.get(perms_key)) if r[3] == "group_id" and r[4] != group["GroupId"]]
                if rules:
                    try:
                        getattr(self.client, "revoke_security_group_" + direction)(
                            GroupId=group["GroupId"], IpPermissions=[to_permission(r) for r in rules], aws_retry=True)
                    except is_boto3_error_code(["InvalidPermission.NotFound", "InvalidGroup.NotFound"]):
                        pass
                    except boto_errors() as e:  # pylint: disable=duplicate-except
                        self.module.fail_json_aws(e, msg="Failed to revoke the rules of %s" % group["GroupName"])
        for group in reversed(doomed):
            self.until_free("delete security group %s (%s)" % (group["GroupName"], group["GroupId"]),
                            "delete_security_group", GroupId=group["GroupId"])

    def remove_internet_gateways(self, vpc_id, attached):
        spec = self.params["internet_gateway"]
        name = stringify_tags(spec.get("tags") or {}).get("Name")
        gateways = list(attached)
        if name:
            known = set(g["InternetGatewayId"] for g in gateways)
            gateways += [g for g in self.gateways_named(name) if not g.get("Attachments") and g["InternetGatewayId"] not in known]
        self.before["internet_gateway"] = internet_gateway_view(gateways[0]) if gateways else {}
        self.after["internet_gateway"] = {}
        for gateway in gateways:
            gateway_id = gateway["InternetGatewayId"]
            if not self.act("delete internet gateway %s" % gateway_id):
                continue
            for attachment in gateway.get("Attachments") or []:
                self.until_free("detach internet gateway %s" % gateway_id, "detach_internet_gateway",
                                InternetGatewayId=gateway_id, VpcId=attachment["VpcId"])
            self.until_free("delete internet gateway %s" % gateway_id, "delete_internet_gateway", InternetGatewayId=gateway_id)

    def remove_subnets(self, current):
        cidrs = [spec["cidr"] for spec in self.params["subnets"]]
        doomed = [s for s in current if s.get("CidrBlock") in cidrs]
        self.before["subnets"] = OrderedDict((s["CidrBlock"], subnet_view(s)) for s in doomed)
        self.after["subnets"] = OrderedDict()
        for subnet in doomed:
            what = "subnet %s (%s)" % (subnet["CidrBlock"], subnet["SubnetId"])
            if self.act("delete %s" % what):
                self.until_free("delete %s" % what, "delete_subnet", SubnetId=subnet["SubnetId"])


def main():
    tags = dict(type="dict")
    argument_spec = dict(
        vpc_id=dict(type="str"),
        vpc=dict(type="dict", options=dict(
            name=dict(type="str", required=True),
            cidr_block=dict(type="str", required=True),
            dns_support=dict(type="bool", default=True),
            dns_hostnames=dict(type="bool", default=True),
            tags=tags,
        )),
        subnets=dict(type="list", elements="dict", options=dict(
            cidr=dict(type="str", required=True),
            az=dict(type="str"),
            az_id=dict(type="str"),
            map_public=dict(type="bool", default=False),
            tags=tags,
        )),
        internet_gateway=dict(type="dict", options=dict(tags=tags)),
        route_tables=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            subnet_ids=dict(type="list", elements="str"),
            purge_subnets=dict(type="bool", default=True),
            routes=dict(type="list", elements="dict", default=[], options=dict(
                dest=dict(type="str", required=True),
                gateway_id=dict(type="str"),
                nat_gateway_id=dict(type="str"),
                transit_gateway_id=dict(type="str"),
                vpc_peering_connection_id=dict(type="str"),
                network_interface_id=dict(type="str"),
                egress_only_gateway_id=dict(type="str"),
            )),
            purge_routes=dict(type="bool", default=False),
            tags=tags,
        )),
        security_groups=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            description=dict(type="str"),
            rules=dict(type="list", elements="dict"),
            rules_egress=dict(type="list", elements="dict"),
            purge_rules=dict(type="bool", default=True),
            purge_rules_egress=dict(type="bool", default=True),
            tags=tags,
        )),
        endpoints=dict(type="list", elements="dict", options=dict(
            service=dict(type="str", required=True),
            type=dict(type="str", choices=["Gateway", "Interface"], default="Gateway"),
            route_table_ids=dict(type="list", elements="str"),
            route_table_names=dict(type="list", elements="str"),
            subnet_ids=dict(type="list", elements="str"),
            security_group_ids=dict(type="list", elements="str"),
            private_dns_enabled=dict(type="bool"),
            tags=tags,
        )),
        report_nat_gateways=dict(type="bool", default=False),
        purge_tags=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["vpc_id", "vpc"]],
        required_one_of=[["vpc_id", "vpc"]],
    )
    validate(module)
    network = Network(module)
    if module.params["state"] == "absent":
        result = network.absent()
    else:
        result = network.present()
    result.update(changed=network.changed, actions=network.actions)
    exit_with_diff(module, result, network.before, network.after)


if __name__ == "__main__":
    main()
