# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared code of the ``vpc_network`` and ``vpc_network_info`` modules.

* one describe call per kind of resource, filtered by the VPC (``describe_network``);
* plain views of what AWS returns (``*_view``), the same in both modules, so that a role
  builds its outputs the same way from either;
* the security group rule model: rules in the ``amazon.aws.ec2_security_group`` format
  are expanded to one hashable entry per port range and source (``expand_rules``), the
  current permissions to the same entries (``current_rules``), and back
  (``to_permission``), so that a diff is two set differences.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import all_pages
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict

# Describing or changing a resource right after creating it may not find it yet.
NOT_FOUND_CODES = [
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidGroupId.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidVpcEndpointId.NotFound",
    "InvalidAssociationID.NotFound",
]

# Endpoints in these states are gone (or going) and never managed.
GONE_ENDPOINT_STATES = ("deleting", "deleted", "failed", "rejected", "expired")
ACTIVE_NAT_STATES = ("pending", "available")

# Route targets, in the order a route is checked for them.
ROUTE_TARGETS = (
    ("GatewayId", "gateway_id"),
    ("NatGatewayId", "nat_gateway_id"),
    ("TransitGatewayId", "transit_gateway_id"),
    ("VpcPeeringConnectionId", "vpc_peering_connection_id"),
    ("NetworkInterfaceId", "network_interface_id"),
    ("EgressOnlyInternetGatewayId", "egress_only_gateway_id"),
    ("InstanceId", "instance_id"),
    ("CarrierGatewayId", "carrier_gateway_id"),
    ("LocalGatewayId", "local_gateway_id"),
    ("CoreNetworkArn", "core_network_arn"),
)

PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1", "-1": "-1"}
PORTED_PROTOCOLS = ("tcp", "udp", "icmp", "icmpv6")
RULE_TARGETS = ("cidr_ip", "cidr_ipv6", "group_id", "group_name", "prefix_list_id")


class RuleError(ValueError):
    """A rule of the security group spec that cannot be understood."""


def describe(client, method, key, **request):
    """Every page of a describe call (retried with ``aws_retry``)."""
    return all_pages(getattr(client, method), key, request)


def vpc_filter(vpc_id, name="vpc-id"):
    return [{"Name": name, "Values": [vpc_id]}]


def name_of(resource):
    return tags_to_dict(resource.get("Tags")).get("Name")


# ------------------------------------------------------------------ describe


def find_vpcs(client, name=None, cidr_block=None, vpc_id=None):
    """VPCs by id, or by Name tag (and primary or associated IPv4 CIDR)."""
    if vpc_id:
        return describe(client, "describe_vpcs", "Vpcs", Filters=vpc_filter(vpc_id))
    filters = [{"Name": "tag:Name", "Values": [name]}]
    if cidr_block:
        filters.append({"Name": "cidr-block-association.cidr-block", "Values": [cidr_block]})
    found = describe(client, "describe_vpcs", "Vpcs", Filters=filters)
    # Filters are applied again: an emulator may ignore one, and it costs nothing on AWS.
    return [v for v in found if name_of(v) == name and (not cidr_block or cidr_block in vpc_cidrs(v))]


def vpc_cidrs(vpc):
    cidrs = [a.get("CidrBlock") for a in vpc.get("CidrBlockAssociationSet") or []
             if (a.get("CidrBlockState") or {}).get("State", "associated") == "associated"]
    return cidrs or [vpc.get("CidrBlock")]


def describe_network(client, vpc_id, kinds):
    """``{kind: [raw resources]}`` for the kinds asked, one describe call each."""
    found = {}
    if "subnets" in kinds:
        found["subnets"] = describe(client, "describe_subnets", "Subnets", Filters=vpc_filter(vpc_id))
    if "internet_gateways" in kinds:
        found["internet_gateways"] = describe(
            client, "describe_internet_gateways", "InternetGateways", Filters=vpc_filter(vpc_id, "attachment.vpc-id"))
    if "nat_gateways" in kinds:
        gateways = describe(client, "describe_nat_gateways", "NatGateways", Filter=vpc_filter(vpc_id))
        found["nat_gateways"] = [g for g in gateways if g.get("VpcId") == vpc_id]
    if "route_tables" in kinds:
        found["route_tables"] = describe(client, "describe_route_tables", "RouteTables", Filters=vpc_filter(vpc_id))
    if "security_groups" in kinds:
        found["security_groups"] = describe(
            client, "describe_security_groups", "SecurityGroups", Filters=vpc_filter(vpc_id))
    if "endpoints" in kinds:
        endpoints = describe(client, "describe_vpc_endpoints", "VpcEndpoints", Filters=vpc_filter(vpc_id))
        found["endpoints"] = [e for e in endpoints if e.get("VpcId") == vpc_id]
    return found


def live_endpoints(endpoints):
    return [e for e in endpoints if (e.get("State") or "").lower() not in GONE_ENDPOINT_STATES]


def active_nat_gateways(gateways):
    return [g for g in gateways if g.get("State") in ACTIVE_NAT_STATES]


# --------------------------------------------------------------------- views


def vpc_view(vpc, dns_support=None, dns_hostnames=None):
    if not vpc:
        return {}
    view = dict(
        id=vpc.get("VpcId"),
        name=name_of(vpc),
        cidr_block=vpc.get("CidrBlock"),
        state=vpc.get("State"),
        instance_tenancy=vpc.get("InstanceTenancy"),
        tags=tags_to_dict(vpc.get("Tags")),
    )
    if dns_support is not None:
        view["dns_support"] = dns_support
    if dns_hostnames is not None:
        view["dns_hostnames"] = dns_hostnames
    return view


def subnet_view(subnet):
    return dict(
        id=subnet.get("SubnetId"),
        name=name_of(subnet),
        cidr=subnet.get("CidrBlock"),
        az=subnet.get("AvailabilityZone"),
        az_id=subnet.get("AvailabilityZoneId"),
        map_public=bool(subnet.get("MapPublicIpOnLaunch")),
        state=subnet.get("State"),
        tags=tags_to_dict(subnet.get("Tags")),
    )


def internet_gateway_view(gateway):
    if not gateway:
        return {}
    return dict(
        id=gateway.get("InternetGatewayId"),
        name=name_of(gateway),
        vpc_ids=[a.get("VpcId") for a in gateway.get("Attachments") or []],
        tags=tags_to_dict(gateway.get("Tags")),
    )


def nat_gateway_view(gateway):
    first = (gateway.get("NatGatewayAddresses") or [{}])[0]
    return dict(
        id=gateway.get("NatGatewayId"),
        name=name_of(gateway),
        subnet_id=gateway.get("SubnetId"),
        state=gateway.get("State"),
        public_ip=first.get("PublicIp"),
        allocation_id=first.get("AllocationId"),
        tags=tags_to_dict(gateway.get("Tags")),
    )


def route_destination(route):
    return route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock") or route.get("DestinationPrefixListId")


def route_view(route):
    view = dict(dest=route_destination(route), state=route.get("State"), origin=route.get("Origin"))
    for key, option in ROUTE_TARGETS:
        if route.get(key):
            view[option] = route[key]
    return view


def route_table_view(table):
    associations = [a for a in table.get("Associations") or [] if not a.get("Main") and a.get("SubnetId")]
    return dict(
        id=table.get("RouteTableId"),
        name=name_of(table),
        main=any(a.get("Main") for a in table.get("Associations") or []),
        subnet_ids=[a["SubnetId"] for a in associations],
        routes=[route_view(r) for r in table.get("Routes") or []],
        tags=tags_to_dict(table.get("Tags")),
    )


def security_group_view(group):
    return dict(
        id=group.get("GroupId"),
        name=group.get("GroupName"),
        description=group.get("Description"),
        rules=[rule_view(r) for r in sorted(current_rules(group.get("IpPermissions")), key=rule_sort_key)],
        rules_egress=[rule_view(r) for r in sorted(current_rules(group.get("IpPermissionsEgress")), key=rule_sort_key)],
        tags=tags_to_dict(group.get("Tags")),
    )


def endpoint_view(endpoint):
    return dict(
        id=endpoint.get("VpcEndpointId"),
        service=endpoint.get("ServiceName"),
        type=endpoint.get("VpcEndpointType"),
        state=endpoint.get("State"),
        route_table_ids=sorted(endpoint.get("RouteTableIds") or []),
        subnet_ids=sorted(endpoint.get("SubnetIds") or []),
        security_group_ids=sorted(g.get("GroupId") for g in endpoint.get("Groups") or []),
        private_dns_enabled=endpoint.get("PrivateDnsEnabled"),
        tags=tags_to_dict(endpoint.get("Tags")),
    )


# ---------------------------------------------------------- security rules
#
# A rule is the tuple (protocol, from_port, to_port, target_type, target, description);
# its key (everything but the description) identifies it in a group.


def rule_key(rule):
    return rule[:5]


def rule_sort_key(rule):
    return tuple("" if v is None else str(v) for v in rule)


def rule_view(rule):
    protocol, from_port, to_port, target_type, target, description = rule
    view = dict(proto=protocol, from_port=from_port, to_port=to_port, rule_desc=description or None)
    view[target_type] = target
    return view


def normalize_protocol(proto):
    text = str(proto).strip().lower()
    return PROTOCOL_NAMES.get(text, text)


def current_rules(permissions):
    """The rules of ``IpPermissions`` (or ``IpPermissionsEgress``) as a set."""
    rules = set()
    for perm in permissions or []:
        protocol = normalize_protocol(perm.get("IpProtocol"))
        if protocol in PORTED_PROTOCOLS:
            from_port, to_port = perm.get("FromPort"), perm.get("ToPort")
        else:
            from_port = to_port = None
        for entry in perm.get("IpRanges") or []:
            rules.add((protocol, from_port, to_port, "cidr_ip", entry.get("CidrIp"), entry.get("Description") or ""))
        for entry in perm.get("Ipv6Ranges") or []:
            rules.add((protocol, from_port, to_port, "cidr_ipv6", entry.get("CidrIpv6"), entry.get("Description") or ""))
        for entry in perm.get("UserIdGroupPairs") or []:
            rules.add((protocol, from_port, to_port, "group_id", entry.get("GroupId"), entry.get("Description") or ""))
        for entry in perm.get("PrefixListIds") or []:
            rules.add((protocol, from_port, to_port, "prefix_list_id", entry.get("PrefixListId"),
                       entry.get("Description") or ""))
    return rules


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _port_ranges(rule, protocol):
    if protocol not in PORTED_PROTOCOLS:
        return [(None, None)]
    if rule.get("from_port") is not None or rule.get("to_port") is not None:
        from_port = rule.get("from_port")
        to_port = rule.get("to_port", from_port)
        if from_port is None or to_port is None:
            raise RuleError("from_port and to_port go together")
        return [(int(from_port), int(to_port))]
    ports = _as_list(rule.get("ports"))
    if not ports:
        raise RuleError("protocol %s needs ports (or from_port and to_port)" % protocol)
    ranges = []
    for port in ports:
        text = str(port).strip()
        try:
            if "-" in text.lstrip("-"):
                low, high = text.split("-", 1)
                low, high = int(low), int(high)
            else:
                low = high = int(text)
        except ValueError:
            raise RuleError("cannot read port %r (a number or a range such as 30000-31000)" % (port,))
        ranges.append((min(low, high), max(low, high)))
    return ranges


def expand_rules(rules, group_ids):
    """Rules in the ``ec2_security_group`` format -> a set of rule tuples.

    ``group_ids`` maps the names of the groups a rule may reference (``group_name``)
    to their ids; a group that is not created yet (check mode) maps to a placeholder.
    """
    expanded = set()
    for rule in rules or []:
        if rule.get("proto") is None:
            raise RuleError("every rule needs proto (tcp, udp, icmp, all or a protocol number)")
        protocol = normalize_protocol(rule["proto"])
        description = rule.get("rule_desc") or ""
        targets = []
        for target_type in RULE_TARGETS:
            for target in _as_list(rule.get(target_type)):
                if target_type == "group_name":
                    if target not in group_ids:
                        raise RuleError("security group %r is neither in security_groups nor in the VPC" % target)
                    targets.append(("group_id", group_ids[target]))
                else:
                    targets.append((target_type, target))
        if not targets:
            raise RuleError("every rule needs a source or destination: one of %s" % ", ".join(RULE_TARGETS))
        for from_port, to_port in _port_ranges(rule, protocol):
            for target_type, target in targets:
                expanded.add((protocol, from_port, to_port, target_type, target, description))
    return expanded


def to_permission(rule):
    """One rule tuple -> an ``IpPermissions`` entry."""
    protocol, from_port, to_port, target_type, target, description = rule
    perm = {"IpProtocol": protocol}
    if from_port is not None:
        perm["FromPort"] = from_port
        perm["ToPort"] = to_port
    entry_key, list_key = {
        "cidr_ip": ("CidrIp", "IpRanges"),
        "cidr_ipv6": ("CidrIpv6", "Ipv6Ranges"),
        "group_id": ("GroupId", "UserIdGroupPairs"),
        "prefix_list_id": ("PrefixListId", "PrefixListIds"),
    }[target_type]
    entry = {entry_key: target}
    if description:
        entry["Description"] = description
    perm[list_key] = [entry]
    return perm


def rule_diff(current, desired, purge=True):
    """``(to_revoke, to_authorize, to_describe)``: rules to remove, to add, and rules
    whose description alone differs (updated in place)."""
    current_by_key = dict((rule_key(r), r) for r in current)
    desired_by_key = dict((rule_key(r), r) for r in desired)
    to_revoke = [current_by_key[k] for k in current_by_key if k not in desired_by_key] if purge else []
    to_authorize = [desired_by_key[k] for k in desired_by_key if k not in current_by_key]
    to_describe = [desired_by_key[k] for k in desired_by_key
                   if k in current_by_key and current_by_key[k][5] != desired_by_key[k][5]]
    return (sorted(to_revoke, key=rule_sort_key), sorted(to_authorize, key=rule_sort_key),
            sorted(to_describe, key=rule_sort_key))


def default_egress_rules():
    """The allow-all egress rule AWS gives every new VPC security group."""
    return {("-1", None, None, "cidr_ip", "0.0.0.0/0", "")}
