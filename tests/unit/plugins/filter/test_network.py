"""Unit tests for the availability_zones, subnet_plan and cidrs_overlap filters."""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.honeyhive.platform.plugins.filter.network import (
    FilterModule,
    availability_zones,
    cidrs_overlap,
    subnet_plan,
)

AZS = ["usw2-az1", "usw2-az2", "usw2-az3"]
ALLOWED_REGIONS = "ap-southeast-1, ca-central-1, eu-central-1, eu-west-1, us-east-1, us-east-2, us-west-1, us-west-2"
REGIONS_FILE = Path(__file__).resolve().parents[4] / "data" / "regions.yml"
# Zone ids in which EKS refuses control-plane subnets (Amazon EKS User Guide, "View Amazon EKS
# networking requirements for VPC and subnets").
EKS_UNSUPPORTED = {"us-east-1": "use1-az3", "us-west-1": "usw1-az2", "ca-central-1": "cac1-az3"}


def cidrs(plan, tier):
    return [s["cidr"] for s in plan if s["tier"] == tier]


def test_filters_registered():
    assert set(FilterModule().filters()) == {"availability_zones", "subnet_plan", "cidrs_overlap"}


# --- data/regions.yml ---------------------------------------------------------------


def test_regions_list_zone_ids_of_their_own_region_only():
    regions = yaml.safe_load(REGIONS_FILE.read_text(encoding="utf-8"))["regions"]
    prefixes = {}
    for region, spec in regions.items():
        ids = spec["availability_zone_ids"]
        assert len(ids) == len(set(ids)), f"{region} lists a zone twice"
        assert all(re.fullmatch(r"[a-z]+[0-9]+-az[1-6]", z) for z in ids), f"{region}: {ids}"
        own = {z.split("-az")[0] for z in ids}
        assert len(own) == 1, f"{region} mixes zone id prefixes: {ids}"
        prefixes[region] = own.pop()
    # each region has its own prefix, so an id names its region
    assert len(set(prefixes.values())) == len(prefixes)


@pytest.mark.parametrize("region, refused", sorted(EKS_UNSUPPORTED.items()))
def test_regions_leave_out_the_zones_eks_refuses(region, refused):
    regions = yaml.safe_load(REGIONS_FILE.read_text(encoding="utf-8"))["regions"]
    assert refused not in regions[region]["availability_zone_ids"]
    assert refused not in availability_zones(region, len(regions[region]["availability_zone_ids"]))
    with pytest.raises(AnsibleFilterError) as err:
        subnet_plan("10.20.0.0/16", availability_zones(region, 1) + [refused])
    assert str(err.value).startswith(
        f"platform_availability_zones: {refused!r} is not a zone the platform uses in {region}; allowed: ")


# --- availability_zones -------------------------------------------------------------


@pytest.mark.parametrize("region, expected", [
    ("us-west-2", ["usw2-az1", "usw2-az2", "usw2-az3"]),
    ("us-east-1", ["use1-az1", "use1-az2", "use1-az4"]),
    ("us-east-2", ["use2-az1", "use2-az2", "use2-az3"]),
    ("eu-west-1", ["euw1-az1", "euw1-az2", "euw1-az3"]),
    ("eu-central-1", ["euc1-az1", "euc1-az2", "euc1-az3"]),
    ("ap-southeast-1", ["apse1-az1", "apse1-az2", "apse1-az3"]),
    ("ca-central-1", ["cac1-az1", "cac1-az2", "cac1-az4"]),
])
def test_availability_zones_default_three(region, expected):
    assert availability_zones(region) == expected


def test_availability_zones_count():
    assert availability_zones("us-east-1", 5) == ["use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"]
    assert availability_zones("us-west-2", count=4)[-1] == "usw2-az4"
    assert availability_zones("us-west-1", 2) == ["usw1-az1", "usw1-az3"]


def test_availability_zones_unknown_region():
    with pytest.raises(AnsibleFilterError) as err:
        availability_zones("mars-east-1")
    assert str(err.value) == f"platform_region: 'mars-east-1' is not a supported region; allowed: {ALLOWED_REGIONS}"


def test_availability_zones_too_few():
    with pytest.raises(AnsibleFilterError) as err:
        availability_zones("us-west-1")
    assert str(err.value) == (
        "platform_region: 'us-west-1' has only 2 availability zones (usw1-az1, usw1-az3) and the plan "
        "needs 3; allowed: a region with at least 3 zones, or fewer zones"
    )
    with pytest.raises(AnsibleFilterError, match=r"^platform_region: 'eu-west-1' has only 3 availability zones"):
        availability_zones("eu-west-1", 4)
    with pytest.raises(AnsibleFilterError, match=r"^platform_region: 'us-east-1' has only 5 availability zones"):
        availability_zones("us-east-1", 6)


@pytest.mark.parametrize("count", [0, 7, "3", True, None])
def test_availability_zones_bad_count(count):
    with pytest.raises(AnsibleFilterError, match=r"^count: .* allowed: an integer from 1 to 6$"):
        availability_zones("us-east-1", count)


# --- subnet_plan --------------------------------------------------------------------


def test_subnet_plan_slash_16():
    plan = subnet_plan("10.20.0.0/16", AZS)
    assert plan == [
        {"tier": "public", "az_id": "usw2-az1", "cidr": "10.20.224.0/22", "index": 0, "name": "public-az1"},
        {"tier": "public", "az_id": "usw2-az2", "cidr": "10.20.228.0/22", "index": 1, "name": "public-az2"},
        {"tier": "public", "az_id": "usw2-az3", "cidr": "10.20.232.0/22", "index": 2, "name": "public-az3"},
        {"tier": "private", "az_id": "usw2-az1", "cidr": "10.20.0.0/19", "index": 0, "name": "private-az1"},
        {"tier": "private", "az_id": "usw2-az2", "cidr": "10.20.32.0/19", "index": 1, "name": "private-az2"},
        {"tier": "private", "az_id": "usw2-az3", "cidr": "10.20.64.0/19", "index": 2, "name": "private-az3"},
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
    four = subnet_plan("10.20.0.0/16", AZS + ["usw2-az4"])
    assert [s for s in four if s["index"] < 3] == three
    added = [s for s in four if s["az_id"] == "usw2-az4"]
    assert added == [
        {"tier": "public", "az_id": "usw2-az4", "cidr": "10.20.236.0/22", "index": 3, "name": "public-az4"},
        {"tier": "private", "az_id": "usw2-az4", "cidr": "10.20.96.0/19", "index": 3, "name": "private-az4"},
    ]


def test_subnet_plan_index_from_zone_id_not_position():
    plan = subnet_plan("10.20.0.0/16", ["cac1-az1", "cac1-az2", "cac1-az4"])
    assert [s["index"] for s in plan if s["tier"] == "private"] == [0, 1, 3]
    assert [s["name"] for s in plan if s["tier"] == "private"] == ["private-az1", "private-az2", "private-az4"]
    assert cidrs(plan, "private")[-1] == "10.20.96.0/19"
    # use1-az4 is block 3 whatever zones come before it
    [az4] = [s for s in subnet_plan("10.20.0.0/16", availability_zones("us-east-1")) if s["name"] == "private-az4"]
    assert (az4["az_id"], az4["index"], az4["cidr"]) == ("use1-az4", 3, "10.20.96.0/19")
    # the same subnets whatever order the zones come in
    assert subnet_plan("10.20.0.0/16", ["usw2-az3", "usw2-az1", "usw2-az2"]) == subnet_plan("10.20.0.0/16", AZS)


def test_subnet_plan_is_the_same_for_every_account():
    """The plan holds zone ids only: nothing in it depends on how an account names its zones."""
    plan = subnet_plan("10.20.0.0/16", availability_zones("us-east-1"))
    assert all(set(s) == {"tier", "az_id", "cidr", "index", "name"} for s in plan)
    assert sorted({s["az_id"] for s in plan}) == ["use1-az1", "use1-az2", "use1-az4"]


@pytest.mark.parametrize("vpc", ["10.0.0.0/16", "172.16.0.0/18", "192.168.0.0/22"])
def test_subnet_plan_all_zones_never_overlap(vpc):
    zones = availability_zones("us-east-1", 5)
    plan = subnet_plan(vpc, zones)
    nets = [ipaddress.ip_network(s["cidr"]) for s in plan]
    net = ipaddress.ip_network(vpc)
    reserved = list(net.subnets(prefixlen_diff=3))[6]
    assert len(nets) == 10
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
    (["usw2-az1", "use1-az2"], "platform_availability_zones: ['usw2-az1', 'use1-az2'] mixes regions "
                               "(us-east-1, us-west-2); allowed: zones of one region"),
    (["usw2-az1", "usw2-az1"], "platform_availability_zones: ['usw2-az1', 'usw2-az1'] lists 'usw2-az1' "
                               "twice; allowed: each zone once"),
    (["usw2-az1", "usw2-az7"], "platform_availability_zones: 'usw2-az7' has zone number 7; allowed: zone "
                               "numbers 1 to 6 (az1 to az6)"),
    (["usw2-az1", "usw2-az0"], "platform_availability_zones: 'usw2-az0' has zone number 0; allowed: zone "
                               "numbers 1 to 6 (az1 to az6)"),
    (["usw2-az1", "us-west-2b"], "platform_availability_zones: 'us-west-2b' is not an availability zone id; "
                                 "allowed: a zone id such as 'usw2-az1' (zone names such as 'us-west-2a' map to "
                                 "different zones in each account)"),
    (["usw2-az1", None], "platform_availability_zones: None is not an availability zone id; allowed: a zone id "
                         "such as 'usw2-az1' (zone names such as 'us-west-2a' map to different zones in each "
                         "account)"),
    (["usw2-az1"], "platform_availability_zones: ['usw2-az1'] has 1 zone; allowed: 2 to 6 zones (EKS and the "
                   "load balancer need subnets in at least two)"),
    ("usw2-az1", "platform_availability_zones: 'usw2-az1' is not a list; allowed: a list of 2 to 6 availability "
                 "zone ids of one region, e.g. ['usw2-az1', 'usw2-az2', 'usw2-az3']"),
    (["mars1-az1", "mars1-az2"], "platform_availability_zones: ['mars1-az1', 'mars1-az2'] are not zones of a "
                                 f"supported region; allowed: the zone ids of {ALLOWED_REGIONS} in data/regions.yml"),
    (["use1-az1", "use1-az3"], "platform_availability_zones: 'use1-az3' is not a zone the platform uses in "
                               "us-east-1; allowed: use1-az1, use1-az2, use1-az4, use1-az5, use1-az6 "
                               "(data/regions.yml says why a zone is left out)"),
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
