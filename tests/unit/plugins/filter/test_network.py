"""Unit tests for the availability_zones, subnet_plan and cidrs_overlap filters."""
from __future__ import annotations

import ipaddress

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.honeyhive.platform.plugins.filter.network import (
    FilterModule,
    availability_zones,
    cidrs_overlap,
    subnet_plan,
)

AZS = ["us-west-2a", "us-west-2b", "us-west-2c"]
ALLOWED_REGIONS = "ap-southeast-1, ca-central-1, eu-central-1, eu-west-1, us-east-1, us-east-2, us-west-1, us-west-2"


def cidrs(plan, tier):
    return [s["cidr"] for s in plan if s["tier"] == tier]


def test_filters_registered():
    assert set(FilterModule().filters()) == {"availability_zones", "subnet_plan", "cidrs_overlap"}


# --- availability_zones -------------------------------------------------------------


@pytest.mark.parametrize("region, expected", [
    ("us-west-2", ["us-west-2a", "us-west-2b", "us-west-2c"]),
    ("us-east-1", ["us-east-1a", "us-east-1b", "us-east-1c"]),
    ("us-east-2", ["us-east-2a", "us-east-2b", "us-east-2c"]),
    ("eu-west-1", ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    ("eu-central-1", ["eu-central-1a", "eu-central-1b", "eu-central-1c"]),
    ("ap-southeast-1", ["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"]),
    ("ca-central-1", ["ca-central-1a", "ca-central-1b", "ca-central-1d"]),
])
def test_availability_zones_default_three(region, expected):
    assert availability_zones(region) == expected


def test_availability_zones_count():
    assert availability_zones("us-east-1", 6) == [f"us-east-1{c}" for c in "abcdef"]
    assert availability_zones("us-west-2", count=4)[-1] == "us-west-2d"
    assert availability_zones("us-west-1", 2) == ["us-west-1a", "us-west-1c"]


def test_availability_zones_unknown_region():
    with pytest.raises(AnsibleFilterError) as err:
        availability_zones("mars-east-1")
    assert str(err.value) == f"platform_region: 'mars-east-1' is not a supported region; allowed: {ALLOWED_REGIONS}"


def test_availability_zones_too_few():
    with pytest.raises(AnsibleFilterError) as err:
        availability_zones("us-west-1")
    assert str(err.value) == (
        "platform_region: 'us-west-1' has only 2 availability zones (us-west-1a, us-west-1c) and the plan "
        "needs 3; allowed: a region with at least 3 zones, or fewer zones"
    )
    with pytest.raises(AnsibleFilterError, match=r"^platform_region: 'eu-west-1' has only 3 availability zones"):
        availability_zones("eu-west-1", 4)


@pytest.mark.parametrize("count", [0, 7, "3", True, None])
def test_availability_zones_bad_count(count):
    with pytest.raises(AnsibleFilterError, match=r"^count: .* allowed: an integer from 1 to 6$"):
        availability_zones("us-east-1", count)


# --- subnet_plan --------------------------------------------------------------------


def test_subnet_plan_slash_16():
    plan = subnet_plan("10.20.0.0/16", AZS)
    assert plan == [
        {"tier": "public", "az": "us-west-2a", "cidr": "10.20.224.0/22", "index": 0, "name": "public-a"},
        {"tier": "public", "az": "us-west-2b", "cidr": "10.20.228.0/22", "index": 1, "name": "public-b"},
        {"tier": "public", "az": "us-west-2c", "cidr": "10.20.232.0/22", "index": 2, "name": "public-c"},
        {"tier": "private", "az": "us-west-2a", "cidr": "10.20.0.0/19", "index": 0, "name": "private-a"},
        {"tier": "private", "az": "us-west-2b", "cidr": "10.20.32.0/19", "index": 1, "name": "private-b"},
        {"tier": "private", "az": "us-west-2c", "cidr": "10.20.64.0/19", "index": 2, "name": "private-c"},
    ]


def test_subnet_plan_slash_20():
    plan = subnet_plan("10.30.16.0/20", AZS)
    assert cidrs(plan, "private") == ["10.30.16.0/23", "10.30.18.0/23", "10.30.20.0/23"]
    assert cidrs(plan, "public") == ["10.30.30.0/26", "10.30.30.64/26", "10.30.30.128/26"]


def test_subnet_plan_slash_22_public_stays_28():
    plan = subnet_plan("192.168.4.0/22", AZS)
    assert cidrs(plan, "private") == ["192.168.4.0/25", "192.168.4.128/25", "192.168.5.0/25"]
    assert cidrs(plan, "public") == ["192.168.7.128/28", "192.168.7.144/28", "192.168.7.160/28"]


def test_subnet_plan_stable_when_a_zone_is_added():
    three = subnet_plan("10.20.0.0/16", AZS)
    four = subnet_plan("10.20.0.0/16", AZS + ["us-west-2d"])
    assert [s for s in four if s["index"] < 3] == three
    added = [s for s in four if s["az"] == "us-west-2d"]
    assert added == [
        {"tier": "public", "az": "us-west-2d", "cidr": "10.20.236.0/22", "index": 3, "name": "public-d"},
        {"tier": "private", "az": "us-west-2d", "cidr": "10.20.96.0/19", "index": 3, "name": "private-d"},
    ]


def test_subnet_plan_index_from_letter_not_position():
    plan = subnet_plan("10.20.0.0/16", ["ca-central-1a", "ca-central-1b", "ca-central-1d"])
    assert [s["index"] for s in plan if s["tier"] == "private"] == [0, 1, 3]
    assert cidrs(plan, "private")[-1] == "10.20.96.0/19"
    # the same subnets whatever order the zones come in
    assert subnet_plan("10.20.0.0/16", ["us-west-2c", "us-west-2a", "us-west-2b"]) == subnet_plan("10.20.0.0/16", AZS)


@pytest.mark.parametrize("vpc", ["10.0.0.0/16", "172.16.0.0/18", "192.168.0.0/22"])
def test_subnet_plan_six_zones_never_overlap(vpc):
    zones = [f"us-east-1{c}" for c in "abcdef"]
    plan = subnet_plan(vpc, zones)
    nets = [ipaddress.ip_network(s["cidr"]) for s in plan]
    net = ipaddress.ip_network(vpc)
    reserved = list(net.subnets(prefixlen_diff=3))[6]
    assert all(n.subnet_of(net) and not n.overlaps(reserved) for n in nets)
    assert cidrs_overlap([s["cidr"] for s in plan]) == []
    assert min(n.prefixlen for n in nets if nets) >= net.prefixlen + 3
    assert max(n.prefixlen for n in nets) <= 28


@pytest.mark.parametrize("value, message", [
    ("10.0.0.0/24", "vpc_cidr: '10.0.0.0/24' is too small for the subnet plan; allowed: a /16 to /22 IPv4 network"),
    ("10.0.0.0/8", "vpc_cidr: '10.0.0.0/8' is too large for the subnet plan; allowed: a /16 to /22 IPv4 network"),
    ("10.20.1.0/16", "vpc_cidr: '10.20.1.0/16' has host bits set; allowed: the network address, e.g. '10.20.0.0/16'"),
    ("8.8.0.0/16", "vpc_cidr: '8.8.0.0/16' is not a private (RFC 1918) range; allowed: a /16 to /22 IPv4 network "
                   "inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"),
    ("100.64.0.0/16", "vpc_cidr: '100.64.0.0/16' is not a private (RFC 1918) range; allowed: a /16 to /22 IPv4 "
                      "network inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"),
    ("10.0.0.0", "vpc_cidr: '10.0.0.0' has no prefix length; allowed: a /16 to /22 IPv4 network in CIDR notation, "
                 "e.g. '10.20.0.0/16'"),
    ("10.0.0.300/16", "vpc_cidr: '10.0.0.300/16' is not an IPv4 network; allowed: a /16 to /22 IPv4 network in CIDR "
                      "notation, e.g. '10.20.0.0/16'"),
    ("fd00::/48", "vpc_cidr: 'fd00::/48' is not an IPv4 network; allowed: a /16 to /22 IPv4 network"),
    (167772160, "vpc_cidr: 167772160 is not a string; allowed: a /16 to /22 IPv4 network in CIDR notation, "
                "e.g. '10.20.0.0/16'"),
])
def test_subnet_plan_bad_vpc_cidr(value, message):
    with pytest.raises(AnsibleFilterError) as err:
        subnet_plan(value, AZS)
    assert str(err.value) == message


@pytest.mark.parametrize("azs, message", [
    (["us-west-2a", "us-east-1b"], "platform_availability_zones: ['us-west-2a', 'us-east-1b'] mixes regions "
                                   "(us-east-1, us-west-2); allowed: zones of one region"),
    (["us-west-2a", "us-west-2a"], "platform_availability_zones: ['us-west-2a', 'us-west-2a'] lists 'us-west-2a' "
                                   "twice; allowed: each zone once"),
    (["us-west-2a", "us-west-2g"], "platform_availability_zones: 'us-west-2g' has zone letter 'g'; allowed: zone "
                                   "letters a-f"),
    (["us-west-2a", "usw2-az1"], "platform_availability_zones: 'usw2-az1' is not an availability zone name; "
                                 "allowed: a region name followed by one letter a-f, e.g. 'us-west-2a'"),
    (["us-west-2a"], "platform_availability_zones: ['us-west-2a'] has 1 zone; allowed: 2 to 6 zones (EKS and the "
                     "load balancer need subnets in at least two)"),
    ("us-west-2a", "platform_availability_zones: 'us-west-2a' is not a list; allowed: a list of 2 to 6 zone names "
                   "of one region, e.g. ['us-west-2a', 'us-west-2b', 'us-west-2c']"),
])
def test_subnet_plan_bad_zones(azs, message):
    with pytest.raises(AnsibleFilterError) as err:
        subnet_plan("10.20.0.0/16", azs)
    assert str(err.value) == message


# --- cidrs_overlap ------------------------------------------------------------------


def test_cidrs_overlap():
    assert cidrs_overlap(["10.0.0.0/16", "10.0.128.0/17", "10.1.0.0/16", "10.0.0.0/8"]) == [
        ["10.0.0.0/16", "10.0.128.0/17"],
        ["10.0.0.0/16", "10.0.0.0/8"],
        ["10.0.128.0/17", "10.0.0.0/8"],
        ["10.1.0.0/16", "10.0.0.0/8"],
    ]
    assert cidrs_overlap(["10.0.0.0/16", "10.1.0.0/16", "fd00::/8"]) == []
    assert cidrs_overlap([]) == []


def test_cidrs_overlap_errors():
    with pytest.raises(AnsibleFilterError) as err:
        cidrs_overlap(["10.0.0.0/16", "10.1.0.1/16"])
    assert str(err.value) == (
        "cidr_list[1]: '10.1.0.1/16' is not a network; allowed: a network in CIDR notation with host bits zero, "
        "e.g. '10.20.0.0/16'"
    )
    with pytest.raises(AnsibleFilterError, match=r"^cidr_list: '10.0.0.0/16' is not a list"):
        cidrs_overlap("10.0.0.0/16")
