"""honeyhive.platform.vpc_network and vpc_network_info against the moto server.

Every assertion reads the network back through boto3. The no-op runs also assert the
exact AWS calls: one describe per kind of resource and no mutating call.
"""
from __future__ import annotations

import copy
import uuid

import pytest

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import client_token
from ansible_collections.honeyhive.platform.plugins.modules import vpc_network
from ansible_collections.honeyhive.platform.plugins.modules import vpc_network_info

REGION = "us-west-2"
MUTATING_PREFIXES = ("Create", "Delete", "Modify", "Associate", "Disassociate", "Replace", "Attach", "Detach",
                     "Authorize", "Revoke", "Update", "Allocate", "Release")


@pytest.fixture(autouse=True)
def _credentials(aws_env):
    """Every test runs with the fake credentials of ``aws_env``."""


@pytest.fixture
def ec2(moto_client):
    return moto_client("ec2")


@pytest.fixture
def names():
    """Unique names, so that the tests share one moto server without meeting."""
    suffix = uuid.uuid4().hex[:8]
    return {key: "%s-%s" % (key, suffix) for key in ("vpc", "igw", "web", "app", "db", "rt-public", "rt-private")}


@pytest.fixture
def cidr():
    # A distinct /16 per test (VPC CIDRs may repeat, but this keeps the reads obvious).
    return "10.%d.0.0/16" % (100 + uuid.uuid4().int % 150)


def base(moto_endpoint, **extra):
    args = dict(endpoint_url=moto_endpoint, region=REGION)
    args.update(extra)
    return args


def tags_of(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags") or []}


def mutating(calls):
    return [c for c in calls if c.startswith(MUTATING_PREFIXES)]


def network_spec(names, cidr, tags=None):
    """Part one of the vpc role's network: the VPC, subnets, gateway and groups."""
    tags = tags if tags is not None else {"Environment": "test", "ManagedBy": "honeyhive.platform"}
    prefix = cidr.rsplit(".", 2)[0]
    return dict(
        vpc=dict(name=names["vpc"], cidr_block=cidr, tags=tags),
        # Two subnets by zone id, as the vpc role gives them, and one by zone name.
        subnets=[
            dict(cidr=prefix + ".0.0/20", az_id="usw2-az1", tags=dict(tags, Name="public-az1", tier="public")),
            dict(cidr=prefix + ".128.0/20", az_id="usw2-az1", tags=dict(tags, Name="private-az1", tier="private")),
            dict(cidr=prefix + ".144.0/20", az="us-west-2a", tags=dict(tags, Name="private-a", tier="private")),
        ],
        internet_gateway=dict(tags=dict(tags, Name=names["igw"])),
        security_groups=[
            dict(name=names["web"], description="Web tier", tags=dict(tags, Name=names["web"]),
                 rules=[dict(proto="tcp", ports=[443], cidr_ip=["0.0.0.0/0"], rule_desc="HTTPS from clients")],
                 rules_egress=[dict(proto="tcp", ports=["0-65535"], cidr_ip=[cidr], rule_desc="To targets in the VPC")]),
            dict(name=names["app"], description="Application tier", tags=dict(tags, Name=names["app"]),
                 rules=[dict(proto="all", group_name=[names["web"]], rule_desc="From the web tier"),
                        dict(proto="all", group_name=[names["app"]], rule_desc="Within the tier")],
                 rules_egress=[dict(proto="all", cidr_ip=[cidr], rule_desc="Within the VPC"),
                               dict(proto="tcp", ports=[443], cidr_ip=["0.0.0.0/0"], rule_desc="Outbound HTTPS")]),
            dict(name=names["db"], description="Database tier", tags=dict(tags, Name=names["db"]),
                 rules=[dict(proto="tcp", ports=[5432, "6379", "9000-9100"], group_name=[names["app"]], rule_desc="From app")],
                 rules_egress=[]),
        ],
    )


def routing_spec(names, first, tags=None):
    """Part two: route tables and endpoints, from the ids part one returned."""
    tags = tags if tags is not None else {"Environment": "test"}
    subnets = first["subnets"]
    groups = {g["name"]: g["id"] for g in first["security_groups"]}
    return dict(
        vpc_id=first["vpc"]["id"],
        route_tables=[
            dict(name=names["rt-public"], tags=tags, subnet_ids=[subnets[0]["id"]],
                 routes=[dict(dest="0.0.0.0/0", gateway_id=first["internet_gateway"]["id"])]),
            dict(name=names["rt-private"], tags=tags, subnet_ids=[subnets[1]["id"], subnets[2]["id"]], routes=[]),
        ],
        endpoints=[
            dict(service="com.amazonaws.us-west-2.s3", type="Gateway", route_table_names=[names["rt-private"]],
                 tags=dict(tags, Name="vpce-s3")),
            dict(service="com.amazonaws.us-west-2.sts", type="Interface", subnet_ids=[subnets[1]["id"], subnets[2]["id"]],
                 security_group_ids=[groups[names["app"]]], tags=dict(tags, Name="vpce-sts")),
        ],
    )


def build(run_module, moto_endpoint, names, cidr):
    first = run_module(vpc_network, base(moto_endpoint, **network_spec(names, cidr)))
    assert not first.get("failed"), first
    second = run_module(vpc_network, base(moto_endpoint, **routing_spec(names, first)))
    assert not second.get("failed"), second
    return first, second


def group_named(ec2, vpc_id, name):
    [group] = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                    {"Name": "group-name", "Values": [name]}])["SecurityGroups"]
    return group


def test_create_reads_back_as_specified(run_module, ec2, moto_endpoint, names, cidr):
    first, second = build(run_module, moto_endpoint, names, cidr)
    assert first["changed"] and second["changed"]
    vpc_id = first["vpc"]["id"]
    [vpc] = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert vpc["CidrBlock"] == cidr
    assert tags_of(vpc) == {"Environment": "test", "ManagedBy": "honeyhive.platform", "Name": names["vpc"]}
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] is True
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")["EnableDnsSupport"]["Value"] is True

    subnets = {s["CidrBlock"]: s for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]}
    assert sorted(subnets) == sorted(s["cidr"] for s in first["subnets"])
    for view in first["subnets"]:
        subnet = subnets[view["cidr"]]
        assert subnet["SubnetId"] == view["id"]
        assert subnet["AvailabilityZone"] == view["az"]
        assert subnet["AvailabilityZoneId"] == view["az_id"]
        assert subnet["MapPublicIpOnLaunch"] is False
        assert tags_of(subnet)["Name"] == view["name"]

    [igw] = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
    assert igw["InternetGatewayId"] == first["internet_gateway"]["id"]
    assert tags_of(igw)["Name"] == names["igw"]

    web = group_named(ec2, vpc_id, names["web"])
    assert web["Description"] == "Web tier"
    assert tags_of(web)["Name"] == names["web"]
    assert [(p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), p["IpRanges"]) for p in web["IpPermissions"]] == [
        ("tcp", 443, 443, [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS from clients"}])]
    # the allow-all egress rule AWS adds to a new group is gone
    assert [(p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), p["IpRanges"]) for p in web["IpPermissionsEgress"]] == [
        ("tcp", 0, 65535, [{"CidrIp": cidr, "Description": "To targets in the VPC"}])]
    app = group_named(ec2, vpc_id, names["app"])
    sources = sorted((pair["GroupId"], pair.get("Description")) for p in app["IpPermissions"] for pair in p["UserIdGroupPairs"])
    assert sources == sorted([(web["GroupId"], "From the web tier"), (app["GroupId"], "Within the tier")])
    db = group_named(ec2, vpc_id, names["db"])
    assert sorted((p["FromPort"], p["ToPort"]) for p in db["IpPermissions"]) == [(5432, 5432), (6379, 6379), (9000, 9100)]
    assert db["IpPermissionsEgress"] == []

    tables = {tags_of(t).get("Name"): t for t in ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]}
    public = tables[names["rt-public"]]
    assert [a["SubnetId"] for a in public["Associations"]] == [first["subnets"][0]["id"]]
    assert {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw["InternetGatewayId"]}.items() <= [
        r for r in public["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"][0].items()
    private = tables[names["rt-private"]]
    assert sorted(a["SubnetId"] for a in private["Associations"]) == sorted(s["id"] for s in first["subnets"][1:])
    assert tags_of(private) == {"Environment": "test", "Name": names["rt-private"]}

    endpoints = {e["ServiceName"]: e for e in ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]}
    assert endpoints["com.amazonaws.us-west-2.s3"]["VpcEndpointType"] == "Gateway"
    # a table made in the same run, named by the endpoint
    assert endpoints["com.amazonaws.us-west-2.s3"]["RouteTableIds"] == [private["RouteTableId"]]
    sts = endpoints["com.amazonaws.us-west-2.sts"]
    assert sts["VpcEndpointType"] == "Interface"
    assert sorted(sts["SubnetIds"]) == sorted(s["id"] for s in first["subnets"][1:])
    assert [g["GroupId"] for g in sts["Groups"]] == [app["GroupId"]]
    assert [e["id"] for e in second["endpoints"]] == [endpoints[e["service"]]["VpcEndpointId"] for e in second["endpoints"]]


def test_second_run_changes_nothing_with_one_describe_per_kind(run_module, moto_endpoint, names, cidr, api_calls):
    first, second = build(run_module, moto_endpoint, names, cidr)
    api_calls.clear()
    again = run_module(vpc_network, base(moto_endpoint, **network_spec(names, cidr)))
    assert again["changed"] is False, again["actions"]
    assert again["actions"] == []
    assert sorted(api_calls) == sorted(["DescribeVpcs", "DescribeVpcAttribute", "DescribeVpcAttribute", "DescribeSubnets",
                                        "DescribeInternetGateways", "DescribeSecurityGroups"])
    assert [s["id"] for s in again["subnets"]] == [s["id"] for s in first["subnets"]]
    assert [g["id"] for g in again["security_groups"]] == [g["id"] for g in first["security_groups"]]

    api_calls.clear()
    routing = run_module(vpc_network, base(moto_endpoint, **routing_spec(names, first)))
    assert routing["changed"] is False, routing["actions"]
    assert sorted(api_calls) == ["DescribeRouteTables", "DescribeVpcEndpoints"]
    assert [t["id"] for t in routing["route_tables"]] == [t["id"] for t in second["route_tables"]]
    assert mutating(api_calls) == []


def test_check_mode_on_a_fresh_account_makes_nothing(run_module, ec2, moto_endpoint, names, cidr, api_calls):
    result = run_module(vpc_network, base(moto_endpoint, _ansible_check_mode=True, _ansible_diff=True,
                                          **network_spec(names, cidr)))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert mutating(api_calls) == []
    assert result["vpc"]["id"] is None
    assert [s["id"] for s in result["subnets"]] == [None, None, None]
    assert "create VPC %s (%s)" % (names["vpc"], cidr) in result["actions"]
    # a rule that references a group that does not exist yet names it
    app = result["security_groups"][1]
    assert {"proto": "-1", "from_port": None, "to_port": None, "group_id": "(new) %s" % names["web"],
            "rule_desc": "From the web tier"} in app["rules"]
    assert result["diff"]["before"]["vpc"] == {}
    assert result["diff"]["after"]["vpc"]["name"] == names["vpc"]
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [names["vpc"]]}])["Vpcs"] == []


def test_check_mode_reports_drift_without_fixing_it(run_module, ec2, moto_endpoint, names, cidr, api_calls):
    first, _second = build(run_module, moto_endpoint, names, cidr)
    vpc_id = first["vpc"]["id"]
    web = group_named(ec2, vpc_id, names["web"])
    ec2.authorize_security_group_ingress(GroupId=web["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.delete_tags(Resources=[first["subnets"][0]["id"]], Tags=[{"Key": "tier"}])
    api_calls.clear()
    result = run_module(vpc_network, base(moto_endpoint, _ansible_check_mode=True, _ansible_diff=True,
                                          **network_spec(names, cidr)))
    assert result["changed"] is True
    assert mutating(api_calls) == []
    assert sorted(result["actions"]) == sorted([
        "update the tags of subnet %s" % first["subnets"][0]["cidr"],
        "revoke 1 ingress rule of security group %s" % names["web"],
    ])
    before = result["diff"]["before"]["security_groups"][names["web"]]["rules"]
    after = result["diff"]["after"]["security_groups"][names["web"]]["rules"]
    assert len(before) == 2 and len(after) == 1
    assert len(group_named(ec2, vpc_id, names["web"])["IpPermissions"]) == 2


def test_updates_only_what_differs(run_module, ec2, moto_endpoint, names, cidr, api_calls):
    first, second = build(run_module, moto_endpoint, names, cidr)
    vpc_id = first["vpc"]["id"]
    spec = network_spec(names, cidr, tags={"Environment": "stage"})
    spec["vpc"]["dns_hostnames"] = False
    spec["subnets"][0]["map_public"] = True
    spec["security_groups"][0]["rules"][0]["rule_desc"] = "HTTPS from anywhere"
    spec["security_groups"][2]["rules"] = [dict(proto="tcp", ports=[5432], group_name=names["app"], rule_desc="From app")]
    api_calls.clear()
    result = run_module(vpc_network, base(moto_endpoint, _ansible_diff=True, **spec))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert "set EnableDnsHostnames of VPC %s (%s) to False" % (names["vpc"], cidr) in result["actions"]
    assert "revoke 2 ingress rules of security group %s" % names["db"] in result["actions"]
    assert "update the descriptions of 1 ingress rule of security group %s" % names["web"] in result["actions"]
    assert "CreateSecurityGroup" not in api_calls and "CreateSubnet" not in api_calls
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] is False
    [subnet] = ec2.describe_subnets(SubnetIds=[first["subnets"][0]["id"]])["Subnets"]
    assert subnet["MapPublicIpOnLaunch"] is True
    assert tags_of(subnet)["Environment"] == "stage"
    web = group_named(ec2, vpc_id, names["web"])
    assert web["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS from anywhere"}]
    db = group_named(ec2, vpc_id, names["db"])
    assert [(p["FromPort"], p["ToPort"]) for p in db["IpPermissions"]] == [(5432, 5432)]
    assert run_module(vpc_network, base(moto_endpoint, **spec))["changed"] is False

    # Routing: a new default route target, a subnet moved between tables, an endpoint's subnets.
    routing = routing_spec(names, first)
    subnets = first["subnets"]
    routing["route_tables"][0]["subnet_ids"] = [subnets[0]["id"], subnets[1]["id"]]
    routing["route_tables"][1]["subnet_ids"] = [subnets[2]["id"]]
    routing["route_tables"][1]["routes"] = [dict(dest="0.0.0.0/0", gateway_id=first["internet_gateway"]["id"])]
    routing["endpoints"][1]["subnet_ids"] = [subnets[2]["id"]]
    routing["endpoints"][0]["route_table_names"] = [names["rt-public"]]
    api_calls.clear()
    result = run_module(vpc_network, base(moto_endpoint, **routing))
    assert not result.get("failed"), result
    assert sorted(c for c in mutating(api_calls)) == sorted(
        ["ReplaceRouteTableAssociation", "CreateRoute", "ModifyVpcEndpoint", "ModifyVpcEndpoint"])
    tables = {t["RouteTableId"]: t for t in ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]}
    public = tables[second["route_tables"][0]["id"]]
    assert sorted(a["SubnetId"] for a in public["Associations"]) == sorted([subnets[0]["id"], subnets[1]["id"]])
    private = tables[second["route_tables"][1]["id"]]
    assert [a["SubnetId"] for a in private["Associations"]] == [subnets[2]["id"]]
    assert any(r.get("GatewayId") == first["internet_gateway"]["id"] for r in private["Routes"])
    [sts] = ec2.describe_vpc_endpoints(VpcEndpointIds=[second["endpoints"][1]["id"]])["VpcEndpoints"]
    assert sts["SubnetIds"] == [subnets[2]["id"]]
    [s3] = ec2.describe_vpc_endpoints(VpcEndpointIds=[second["endpoints"][0]["id"]])["VpcEndpoints"]
    assert s3["RouteTableIds"] == [second["route_tables"][0]["id"]]
    assert run_module(vpc_network, base(moto_endpoint, **routing))["changed"] is False


def test_a_route_to_another_target_is_replaced(run_module, ec2, moto_endpoint, names, cidr):
    first, second = build(run_module, moto_endpoint, names, cidr)
    other = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    routing = routing_spec(names, first)
    routing["route_tables"][0]["routes"] = [dict(dest="0.0.0.0/0", gateway_id=other)]
    result = run_module(vpc_network, base(moto_endpoint, **routing))
    assert result["actions"] == ["replace the route to 0.0.0.0/0 in route table %s (now %s)" % (names["rt-public"], other)]
    [table] = ec2.describe_route_tables(RouteTableIds=[second["route_tables"][0]["id"]])["RouteTables"]
    assert [r.get("GatewayId") for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"] == [other]


def test_an_interrupted_run_adopts_what_it_made(run_module, ec2, moto_endpoint, names, cidr):
    """A gateway made but not attached, a subnet made without tags: adopted, not duplicated."""
    spec = network_spec(names, cidr)
    vpc = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": names["vpc"]}]}])["Vpc"]
    lone = ec2.create_internet_gateway(TagSpecifications=[
        {"ResourceType": "internet-gateway", "Tags": [{"Key": "Name", "Value": names["igw"]}]}])["InternetGateway"]
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=spec["subnets"][0]["cidr"], AvailabilityZoneId="usw2-az1")["Subnet"]
    result = run_module(vpc_network, base(moto_endpoint, **spec))
    assert not result.get("failed"), result
    assert result["vpc"]["id"] == vpc["VpcId"]
    assert result["internet_gateway"]["id"] == lone["InternetGatewayId"]
    assert result["subnets"][0]["id"] == subnet["SubnetId"]
    assert len(ec2.describe_internet_gateways(Filters=[{"Name": "tag:Name", "Values": [names["igw"]]}])["InternetGateways"]) == 1
    assert len(ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [names["vpc"]]}])["Vpcs"]) == 1


def test_endpoints_are_created_with_a_client_token(run_module, moto_endpoint, names, cidr, monkeypatch):
    """The same endpoint request carries the same token; another service another one."""
    import botocore.client

    sent = []
    original = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        if operation == "CreateVpcEndpoint":
            sent.append((params["ServiceName"], params.get("ClientToken")))
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    first, _second = build(run_module, moto_endpoint, names, cidr)
    tokens = dict(sent)
    assert sorted(tokens) == ["com.amazonaws.us-west-2.s3", "com.amazonaws.us-west-2.sts"]
    assert all(token and len(token) <= 64 for token in tokens.values())
    assert len(set(tokens.values())) == 2
    assert tokens["com.amazonaws.us-west-2.s3"] == client_token(
        "vpc_endpoint", first["vpc"]["id"], "com.amazonaws.us-west-2.s3", "Gateway")


def test_delete_removes_every_part_and_a_second_delete_is_a_no_op(run_module, ec2, moto_endpoint, names, cidr, api_calls):
    first, second = build(run_module, moto_endpoint, names, cidr)
    vpc_id = first["vpc"]["id"]
    spec = network_spec(names, cidr)
    spec.update(route_tables=[dict(name=names["rt-public"]), dict(name=names["rt-private"])],
                endpoints=[dict(service="com.amazonaws.us-west-2.s3"), dict(service="com.amazonaws.us-west-2.sts", type="Interface")])

    check = run_module(vpc_network, base(moto_endpoint, state="absent", _ansible_check_mode=True, **spec))
    assert check["changed"] is True
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]

    api_calls.clear()
    result = run_module(vpc_network, base(moto_endpoint, state="absent", _ansible_diff=True, **spec))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["diff"]["before"]["vpc"]["id"] == vpc_id
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"] == []
    assert ec2.describe_internet_gateways(Filters=[{"Name": "tag:Name", "Values": [names["igw"]]}])["InternetGateways"] == []
    assert [e["State"].lower() for e in ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
            if e["State"].lower() not in ("deleted", "deleting")] == []

    again = run_module(vpc_network, base(moto_endpoint, state="absent", **spec))
    assert again["changed"] is False
    assert again["actions"] == []


@pytest.mark.parametrize("change, fragment", [
    (lambda s: s["subnets"][0].update(cidr="10.250.0.0/24"), "Allowed: a CIDR inside vpc.cidr_block"),
    (lambda s: s["subnets"].append(dict(s["subnets"][0])), "each subnet CIDR once"),
    (lambda s: s["vpc"].update(cidr_block="10.0.0.0/33"), "Invalid value for option 'vpc.cidr_block'"),
    (lambda s: s["security_groups"][0]["rules"].append(dict(proto="tcp", cidr_ip="10.0.0.0/8")), "needs ports"),
    (lambda s: s["security_groups"][0]["rules"].append(dict(proto="tcp", ports=["x"], cidr_ip="10.0.0.0/8")), "cannot read port"),
    (lambda s: s["security_groups"][0]["rules"].append(dict(proto="tcp", ports=[1])), "needs a source or destination"),
    (lambda s: s["subnets"][0]["tags"].update({"aws:x": "y"}), "not starting with 'aws:'"),
    (lambda s: s["subnets"][0].update(az="us-west-2b"),
     "Invalid value for option 'subnets[0].az_id': 'usw2-az1'. Allowed: az or az_id, not both"),
    (lambda s: s["subnets"][0].update(az_id="us-west-2b"),
     "Invalid value for option 'subnets[0].az_id': 'us-west-2b'. Allowed: an availability zone id such as usw2-az1."),
    (lambda s: s["subnets"][2].update(az="usw2-az2"),
     "Invalid value for option 'subnets[2].az': 'usw2-az2'. Allowed: an availability zone name such as us-west-2a "
     "(or give the zone's id as az_id, such as usw2-az1)."),
    (lambda s: s["subnets"][0].pop("az_id"),
     "Invalid value for option 'subnets[0].az_id': None. Allowed: an availability zone id such as usw2-az1 (or a zone "
     "name as az)."),
])
def test_bad_input_fails_before_any_call(run_module, moto_endpoint, names, cidr, api_calls, change, fragment):
    spec = copy.deepcopy(network_spec(names, cidr))
    change(spec)
    result = run_module(vpc_network, base(moto_endpoint, **spec))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []


def test_subnets_by_zone_id_are_created_with_the_id(run_module, ec2, moto_endpoint, names, cidr, monkeypatch):
    """CreateSubnet gets AvailabilityZoneId for a subnet given by id, AvailabilityZone for one given by name."""
    import botocore.client

    sent = []
    original = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        if operation == "CreateSubnet":
            sent.append({k: v for k, v in params.items() if k.startswith("AvailabilityZone")})
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    first, _second = build(run_module, moto_endpoint, names, cidr)
    assert sent == [{"AvailabilityZoneId": "usw2-az1"}, {"AvailabilityZoneId": "usw2-az1"},
                    {"AvailabilityZone": "us-west-2a"}]
    # both are reported: the account's name of the zone and its id
    by_cidr = {s["cidr"]: s for s in first["subnets"]}
    [subnet] = ec2.describe_subnets(SubnetIds=[first["subnets"][0]["id"]])["Subnets"]
    assert (by_cidr[subnet["CidrBlock"]]["az"], by_cidr[subnet["CidrBlock"]]["az_id"]) == (
        subnet["AvailabilityZone"], "usw2-az1")
    assert first["subnets"][2]["az"] == "us-west-2a" and first["subnets"][2]["az_id"]


def test_a_subnet_in_another_zone_id_is_an_error(run_module, ec2, moto_endpoint, names, cidr, api_calls):
    """A subnet of the plan's CIDR in another zone (by id) cannot move: the run names both and changes nothing."""
    spec = network_spec(names, cidr)
    first = run_module(vpc_network, base(moto_endpoint, **spec))
    assert not first.get("failed"), first
    [made] = ec2.describe_subnets(SubnetIds=[first["subnets"][0]["id"]])["Subnets"]
    [by_name] = ec2.describe_subnets(SubnetIds=[first["subnets"][2]["id"]])["Subnets"]
    moved = copy.deepcopy(spec)
    moved["subnets"][0]["az_id"] = "usw2-az3"
    moved["subnets"][2]["az"] = "us-west-2c"
    # a tag change that must not be made: the run stops before touching any subnet
    moved["subnets"][1]["tags"]["tier"] = "changed"
    api_calls.clear()
    result = run_module(vpc_network, base(moto_endpoint, **moved))
    assert result["failed"] is True
    assert result["msg"] == (
        "Subnet %s (%s) is in usw2-az1 (%s in this account), not in usw2-az3; subnet %s (%s) is in %s (us-west-2a in "
        "this account), not in us-west-2c: a subnet cannot move. Delete it first or change the plan."
        % (spec["subnets"][0]["cidr"], made["SubnetId"], made["AvailabilityZone"],
           spec["subnets"][2]["cidr"], by_name["SubnetId"], by_name["AvailabilityZoneId"]))
    assert mutating(api_calls) == []
    # the same zone by its name is the same zone
    same = copy.deepcopy(spec)
    same["subnets"][0].pop("az_id")
    same["subnets"][0]["az"] = made["AvailabilityZone"]
    again = run_module(vpc_network, base(moto_endpoint, **same))
    assert not again.get("failed"), again
    assert again["changed"] is False, again["actions"]


def test_zone_ids_of_an_account_that_names_its_zones_its_own_way(run_module, stub_client):
    """Stubber (botocore's EC2 service model): an account whose us-west-2a is usw2-az3, not moto's usw2-az2.

    The module compares and creates by id and never derives an id from a name: a subnet of the
    plan's CIDR in the right id passes whatever the account calls it, one in another id is an
    error naming the id and the account's name for it, and a new subnet is created with
    AvailabilityZoneId alone.
    """
    vpc_id = "vpc-0123456789abcdef0"
    existing = {"SubnetId": "subnet-0aaaaaaaaaaaaaaaa", "VpcId": vpc_id, "CidrBlock": "10.20.0.0/19",
                "AvailabilityZone": "us-west-2a", "AvailabilityZoneId": "usw2-az3", "State": "available",
                "MapPublicIpOnLaunch": False, "Tags": [{"Key": "Name", "Value": "private-az3"}]}
    created = {"SubnetId": "subnet-0bbbbbbbbbbbbbbbb", "VpcId": vpc_id, "CidrBlock": "10.20.32.0/19",
               "AvailabilityZone": "us-west-2c", "AvailabilityZoneId": "usw2-az2", "State": "available",
               "MapPublicIpOnLaunch": False, "Tags": [{"Key": "Name", "Value": "private-az2"}]}
    stubber = stub_client("ec2")
    stubber.add_response("describe_subnets", {"Subnets": [existing]},
                         {"Filters": [{"Name": "vpc-id", "Values": [vpc_id]}]})
    stubber.add_response("create_subnet", {"Subnet": created}, {
        "VpcId": vpc_id, "CidrBlock": "10.20.32.0/19", "AvailabilityZoneId": "usw2-az2",
        "TagSpecifications": [{"ResourceType": "subnet", "Tags": [{"Key": "Name", "Value": "private-az2"}]}]})
    stubber.activate()
    result = run_module(vpc_network, dict(vpc_id=vpc_id, region=REGION, subnets=[
        dict(cidr="10.20.0.0/19", az_id="usw2-az3", tags={"Name": "private-az3"}),
        dict(cidr="10.20.32.0/19", az_id="usw2-az2", tags={"Name": "private-az2"}),
    ]))
    assert not result.get("failed"), result
    stubber.assert_no_pending_responses()
    assert [(s["id"], s["az"], s["az_id"]) for s in result["subnets"]] == [
        ("subnet-0aaaaaaaaaaaaaaaa", "us-west-2a", "usw2-az3"), ("subnet-0bbbbbbbbbbbbbbbb", "us-west-2c", "usw2-az2")]
    assert result["actions"] == ["create subnet 10.20.32.0/19 in usw2-az2"]


def test_a_subnet_by_name_in_another_zone_id_is_named_by_both(run_module, stub_client):
    """Stubber: the plan asks for usw2-az1; the account's subnet of that CIDR was made as us-west-2a, which
    this account maps to usw2-az3. The error names the id and the name; nothing is changed."""
    vpc_id = "vpc-0123456789abcdef0"
    existing = {"SubnetId": "subnet-0aaaaaaaaaaaaaaaa", "VpcId": vpc_id, "CidrBlock": "10.20.0.0/19",
                "AvailabilityZone": "us-west-2a", "AvailabilityZoneId": "usw2-az3", "State": "available"}
    stubber = stub_client("ec2")
    stubber.add_response("describe_subnets", {"Subnets": [existing]},
                         {"Filters": [{"Name": "vpc-id", "Values": [vpc_id]}]})
    stubber.activate()
    result = run_module(vpc_network, dict(vpc_id=vpc_id, region=REGION, subnets=[
        dict(cidr="10.20.0.0/19", az_id="usw2-az1")]))
    assert result["failed"] is True
    assert result["msg"] == ("Subnet 10.20.0.0/19 (subnet-0aaaaaaaaaaaaaaaa) is in usw2-az3 (us-west-2a in this account), "
                             "not in usw2-az1: a subnet cannot move. Delete it first or change the plan.")
    stubber.assert_no_pending_responses()


def test_check_mode_reports_the_zone_that_was_given(run_module, moto_endpoint, names, cidr, api_calls):
    result = run_module(vpc_network, base(moto_endpoint, _ansible_check_mode=True, **network_spec(names, cidr)))
    assert not result.get("failed"), result
    assert mutating(api_calls) == []
    assert [(s["az"], s["az_id"]) for s in result["subnets"]] == [
        (None, "usw2-az1"), (None, "usw2-az1"), ("us-west-2a", None)]
    assert "create subnet %s in usw2-az1" % result["subnets"][0]["cidr"] in result["actions"]


def test_a_rule_naming_an_unknown_group_fails(run_module, moto_endpoint, names, cidr):
    spec = network_spec(names, cidr)
    spec["security_groups"][2]["rules"] = [dict(proto="tcp", ports=[5432], group_name="nope", rule_desc="x")]
    result = run_module(vpc_network, base(moto_endpoint, **spec))
    assert result["failed"] is True
    assert "'nope' is neither in security_groups nor in the VPC" in result["msg"]


def test_info_reads_the_network_back_the_same_way(run_module, moto_endpoint, names, cidr, api_calls):
    first, second = build(run_module, moto_endpoint, names, cidr)
    api_calls.clear()
    info = run_module(vpc_network_info, base(moto_endpoint, name=names["vpc"], cidr_block=cidr))
    assert not info.get("failed"), info
    assert info["changed"] is False
    assert mutating(api_calls) == []
    assert len(api_calls) == 7
    assert info["vpc"]["id"] == first["vpc"]["id"]
    assert sorted(s["id"] for s in info["subnets"]) == sorted(s["id"] for s in first["subnets"])
    assert sorted((s["az"], s["az_id"]) for s in info["subnets"]) == sorted((s["az"], s["az_id"]) for s in first["subnets"])
    assert {s["az_id"] for s in info["subnets"] if s["id"] != first["subnets"][2]["id"]} == {"usw2-az1"}
    assert info["internet_gateway"]["id"] == first["internet_gateway"]["id"]
    ours = {g["name"]: g["id"] for g in info["security_groups"]}
    assert {g["name"]: g["id"] for g in first["security_groups"]}.items() <= ours.items()
    assert {t["name"]: t["id"] for t in second["route_tables"]}.items() <= {t["name"]: t["id"] for t in info["route_tables"]}.items()
    assert sorted(e["id"] for e in info["endpoints"]) == sorted(e["id"] for e in second["endpoints"])
    assert info["nat_gateways"] == []

    by_id = run_module(vpc_network_info, base(moto_endpoint, vpc_id=first["vpc"]["id"]))
    assert by_id["vpc"]["id"] == first["vpc"]["id"]

    missing = run_module(vpc_network_info, base(moto_endpoint, name="no-such-vpc-" + names["vpc"]))
    assert missing["vpc"] == {}
    assert missing["subnets"] == []
