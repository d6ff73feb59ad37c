"""honeyhive.platform.nat_gateway against the moto server.

moto records NAT gateway tags under a wrong resource type (DESIGN.md), which
makes amazon.aws.ec2_vpc_nat_gateway report changed on every run; these tests
read the gateway and its Elastic IP back through boto3 and check that the
second run reports no change.
"""
from __future__ import annotations

import uuid

import pytest

from ansible_collections.honeyhive.platform.plugins.modules import nat_gateway


@pytest.fixture
def ec2(moto_client):
    return moto_client("ec2")


@pytest.fixture
def subnet(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    return subnet_id


@pytest.fixture
def name():
    return "nat-%s" % uuid.uuid4().hex[:10]


def args(moto_endpoint, **extra):
    base = dict(endpoint_url=moto_endpoint, region="us-west-2")
    base.update(extra)
    return base


def tagged_addresses(ec2, name):
    return [a for a in ec2.describe_addresses()["Addresses"] if tags_of(a).get("Name") == name]


def tagged_gateways(ec2, name, states=("pending", "available")):
    # moto ignores tag: filters on DescribeNatGateways, so filter here
    gateways = ec2.describe_nat_gateways(Filters=[{"Name": "state", "Values": list(states)}])["NatGateways"]
    return [g for g in gateways if tags_of(g).get("Name") == name]


def tags_of(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def test_create_then_second_run_unchanged(run_module, ec2, subnet, name, moto_endpoint, api_calls):
    tags = {"Environment": "test", "Owner": "platform"}
    first = run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet, tags=tags, _ansible_diff=True))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["diff"]["before"] == {}
    assert first["diff"]["after"]["nat_gateway_id"] == first["nat_gateway_id"]

    [gateway] = tagged_gateways(ec2, name)
    assert gateway["NatGatewayId"] == first["nat_gateway_id"]
    assert gateway["State"] == "available" == first["state"]
    assert gateway["SubnetId"] == subnet == first["subnet_id"]
    assert tags_of(gateway) == dict(tags, Name=name)
    assert gateway["NatGatewayAddresses"][0]["AllocationId"] == first["allocation_id"]

    [address] = tagged_addresses(ec2, name)
    assert address["AllocationId"] == first["allocation_id"]
    assert address["PublicIp"] == first["public_ip"]
    assert tags_of(address) == dict(tags, Name=name)

    api_calls.clear()
    second = run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet, tags=tags))
    assert second["changed"] is False
    assert second["nat_gateway_id"] == first["nat_gateway_id"]
    assert second["allocation_id"] == first["allocation_id"]
    assert second["tags"] == dict(tags, Name=name)
    assert api_calls == ["DescribeNatGateways", "DescribeAddresses"]
    assert len(tagged_gateways(ec2, name)) == 1
    assert len(tagged_addresses(ec2, name)) == 1


def test_interrupted_create_reuses_the_tagged_eip(run_module, ec2, subnet, name, moto_endpoint):
    """A run killed after AllocateAddress left a tagged EIP and no gateway."""
    leftover = ec2.allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": name}]}]
    )
    result = run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["allocation_id"] == leftover["AllocationId"]
    [address] = tagged_addresses(ec2, name)
    assert address["AllocationId"] == leftover["AllocationId"]
    [gateway] = tagged_gateways(ec2, name)
    assert gateway["NatGatewayAddresses"][0]["AllocationId"] == leftover["AllocationId"]


def test_tags_kept_in_sync_on_gateway_and_eip(run_module, ec2, subnet, name, moto_endpoint):
    run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet, tags={"Old": "1", "Keep": "k"}))
    result = run_module(
        nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet, tags={"Keep": "k", "New": "2"}, _ansible_diff=True)
    )
    assert result["changed"] is True
    assert result["diff"]["before"]["tags"] == {"Name": name, "Old": "1", "Keep": "k"}
    assert result["diff"]["after"]["tags"] == {"Name": name, "Keep": "k", "New": "2"}
    [gateway] = tagged_gateways(ec2, name)
    [address] = tagged_addresses(ec2, name)
    assert tags_of(gateway) == {"Name": name, "Keep": "k", "New": "2"}
    assert tags_of(address) == {"Name": name, "Keep": "k", "New": "2"}
    again = run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet, tags={"Keep": "k", "New": "2"}))
    assert again["changed"] is False
    # tags omitted: only Name is managed, nothing is purged
    again = run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet))
    assert again["changed"] is False
    assert tags_of(tagged_gateways(ec2, name)[0]) == {"Name": name, "Keep": "k", "New": "2"}


def test_check_mode_creates_nothing(run_module, ec2, subnet, name, moto_endpoint, api_calls):
    result = run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["nat_gateway_id"] is None
    assert not any(call.startswith(("Create", "Allocate", "Delete", "Release")) for call in api_calls)
    assert tagged_gateways(ec2, name) == []
    assert tagged_addresses(ec2, name) == []

    created = run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet))
    result = run_module(nat_gateway, args(moto_endpoint, name=name, state="absent", _ansible_check_mode=True))
    assert result["changed"] is True
    assert tagged_gateways(ec2, name)[0]["NatGatewayId"] == created["nat_gateway_id"]
    assert len(tagged_addresses(ec2, name)) == 1


def test_delete_releases_the_eip(run_module, ec2, subnet, name, moto_endpoint):
    created = run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet))
    result = run_module(nat_gateway, args(moto_endpoint, name=name, state="absent", _ansible_diff=True))
    assert result["changed"] is True
    assert result["state"] == "deleted"
    assert result["released_allocation_ids"] == [created["allocation_id"]]
    assert result["diff"]["before"]["nat_gateway_id"] == created["nat_gateway_id"]
    described = ec2.describe_nat_gateways(NatGatewayIds=[created["nat_gateway_id"]])["NatGateways"][0]
    assert described["State"] == "deleted"
    assert tagged_addresses(ec2, name) == []
    assert all(a["AllocationId"] != created["allocation_id"] for a in ec2.describe_addresses()["Addresses"])

    again = run_module(nat_gateway, args(moto_endpoint, name=name, state="absent"))
    assert again["changed"] is False

    # and it can be created again with a fresh EIP
    recreated = run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet))
    assert recreated["changed"] is True
    assert recreated["nat_gateway_id"] != created["nat_gateway_id"]
    assert len(tagged_gateways(ec2, name)) == 1


def test_delete_after_interrupted_create_releases_the_lone_eip(run_module, ec2, name, moto_endpoint):
    ec2.allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": name}]}]
    )
    result = run_module(nat_gateway, args(moto_endpoint, name=name, state="absent"))
    assert result["changed"] is True
    assert tagged_addresses(ec2, name) == []


def test_same_name_in_another_subnet_is_an_error(run_module, ec2, subnet, name, moto_endpoint):
    run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=subnet))
    vpc_id = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
    other = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.2.0/24")["Subnet"]["SubnetId"]
    result = run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id=other))
    assert result["failed"] is True
    assert "cannot move" in result["msg"]
    assert len(tagged_gateways(ec2, name)) == 1


def test_unknown_subnet_fails_before_allocating(run_module, ec2, name, moto_endpoint):
    result = run_module(nat_gateway, args(moto_endpoint, name=name, subnet_id="subnet-0123456789abcdef0"))
    assert result["failed"] is True
    assert "Invalid value for option 'subnet_id': 'subnet-0123456789abcdef0'" in result["msg"]
    assert tagged_addresses(ec2, name) == []


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(name="n"), "Option 'subnet_id' is required when state is 'present'"),
        (dict(name="n", subnet_id="sub-123"), "Invalid value for option 'subnet_id': 'sub-123'"),
        (dict(name="x" * 256, subnet_id="subnet-12345678"), "Invalid value for option 'name'"),
        (dict(name="n", subnet_id="subnet-12345678", wait_timeout=-1), "Invalid value for option 'wait_timeout': -1"),
        (dict(name="n", subnet_id="subnet-12345678", tags={"aws:x": "y"}), "Invalid value for option 'tags'"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, aws_env, moto_endpoint, api_calls, extra, fragment):
    result = run_module(nat_gateway, args(moto_endpoint, **extra))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
