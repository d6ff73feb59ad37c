# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Network planning filters: ``availability_zones``, ``subnet_plan`` and ``cidrs_overlap``.

Documentation for each filter lives in the sidecar ``<filter>.yml`` files.
"""
from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.honeyhive.platform.plugins.module_utils.platform_data import (
    PlatformDataError,
    load_data,
)

MIN_PREFIX = 16
MAX_PREFIX = 22
# The plan has room for six zones a region (subnet blocks 0 to 5), numbered by their ids az1 to az6.
MAX_ZONES = 6
# An availability zone id: the region's short form (use1 for us-east-1), "-az" and a number.
AZ_ID_RE = re.compile(r"^(?P<prefix>[a-z]+[0-9]+)-az(?P<number>[0-9]+)$")
AZ_ID_EXAMPLE = "['usw2-az1', 'usw2-az2', 'usw2-az3']"
PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
CIDR_ALLOWED = f"a /{MIN_PREFIX} to /{MAX_PREFIX} IPv4 network"


def _regions() -> dict:
    try:
        return load_data("regions")["regions"]
    except (PlatformDataError, KeyError) as exc:
        raise AnsibleFilterError(f"data/regions.yml: cannot load the region list: {exc}") from exc


def _zone_ids(regions: dict, region: str) -> list:
    try:
        return list(regions[region]["availability_zone_ids"])
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"data/regions.yml: {region} has no availability_zone_ids list: {exc}") from exc


def availability_zones(region, count=3):
    """Return the first ``count`` availability zone ids of ``region``."""
    regions = _regions()
    allowed = ", ".join(sorted(regions))
    if not isinstance(region, str) or region not in regions:
        raise AnsibleFilterError(f"platform_region: {region!r} is not a supported region; allowed: {allowed}")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_ZONES:
        raise AnsibleFilterError(
            f"count: {count!r} is not a valid number of availability zones; allowed: an integer from 1 to "
            f"{MAX_ZONES}"
        )
    zones = _zone_ids(regions, region)
    if len(zones) < count:
        raise AnsibleFilterError(
            f"platform_region: {region!r} has only {len(zones)} availability zones ({', '.join(zones)}) and "
            f"the plan needs {count}; allowed: a region with at least {count} zones, or fewer zones"
        )
    return zones[:count]


def _parse_vpc_cidr(vpc_cidr) -> ipaddress.IPv4Network:
    if not isinstance(vpc_cidr, str):
        raise AnsibleFilterError(
            f"vpc_cidr: {vpc_cidr!r} is not a string; allowed: {CIDR_ALLOWED} in CIDR notation, e.g. '10.20.0.0/16'"
        )
    text = vpc_cidr.strip()
    if "/" not in text:
        raise AnsibleFilterError(
            f"vpc_cidr: {vpc_cidr!r} has no prefix length; allowed: {CIDR_ALLOWED} in CIDR notation, "
            "e.g. '10.20.0.0/16'"
        )
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise AnsibleFilterError(
            f"vpc_cidr: {vpc_cidr!r} is not an IPv4 network; allowed: {CIDR_ALLOWED} in CIDR notation, "
            "e.g. '10.20.0.0/16'"
        ) from None
    if net.version != 4:
        raise AnsibleFilterError(f"vpc_cidr: {vpc_cidr!r} is not an IPv4 network; allowed: {CIDR_ALLOWED}")
    if ipaddress.ip_network(text, strict=False).network_address != ipaddress.ip_interface(text).ip:
        raise AnsibleFilterError(
            f"vpc_cidr: {vpc_cidr!r} has host bits set; allowed: the network address, e.g. '{net}'"
        )
    if net.prefixlen > MAX_PREFIX:
        raise AnsibleFilterError(f"vpc_cidr: {vpc_cidr!r} is too small for the subnet plan; allowed: {CIDR_ALLOWED}")
    if net.prefixlen < MIN_PREFIX:
        raise AnsibleFilterError(f"vpc_cidr: {vpc_cidr!r} is too large for the subnet plan; allowed: {CIDR_ALLOWED}")
    if not any(net.subnet_of(rng) for rng in PRIVATE_RANGES):
        raise AnsibleFilterError(
            f"vpc_cidr: {vpc_cidr!r} is not a private (RFC 1918) range; allowed: {CIDR_ALLOWED} inside "
            "10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"
        )
    return net


def _region_of_prefix(regions: dict) -> dict:
    """The region of each zone id prefix of data/regions.yml (use1 -> us-east-1)."""
    out = {}
    for region in regions:
        for zone in _zone_ids(regions, region):
            match = AZ_ID_RE.match(str(zone))
            if match:
                out[match.group("prefix")] = region
    return out


def _parse_azs(azs) -> list:
    label = "platform_availability_zones"
    if not isinstance(azs, (list, tuple)):
        raise AnsibleFilterError(
            f"{label}: {azs!r} is not a list; allowed: a list of 2 to {MAX_ZONES} availability zone ids of one "
            f"region, e.g. {AZ_ID_EXAMPLE}"
        )
    if not 2 <= len(azs) <= MAX_ZONES:
        raise AnsibleFilterError(
            f"{label}: {list(azs)!r} has {len(azs)} zone{'' if len(azs) == 1 else 's'}; allowed: 2 to "
            f"{MAX_ZONES} zones "
            "(EKS and the load balancer need subnets in at least two)"
        )
    regions = _regions()
    by_prefix = _region_of_prefix(regions)
    parsed = []
    prefixes = set()
    for az in azs:
        match = AZ_ID_RE.match(az) if isinstance(az, str) else None
        if not match:
            raise AnsibleFilterError(
                f"{label}: {az!r} is not an availability zone id; allowed: a zone id such as 'usw2-az1' "
                "(zone names such as 'us-west-2a' map to different zones in each account)"
            )
        number = int(match.group("number"))
        if not 1 <= number <= MAX_ZONES:
            raise AnsibleFilterError(
                f"{label}: {az!r} has zone number {number}; allowed: zone numbers 1 to {MAX_ZONES} (az1 to "
                f"az{MAX_ZONES})"
            )
        prefixes.add(match.group("prefix"))
        parsed.append((number - 1, number, az))
    if len(prefixes) > 1:
        named = sorted(by_prefix.get(prefix, prefix) for prefix in prefixes)
        raise AnsibleFilterError(
            f"{label}: {list(azs)!r} mixes regions ({', '.join(named)}); allowed: zones of one region"
        )
    seen = set()
    for _index, _number, az in parsed:
        if az in seen:
            raise AnsibleFilterError(f"{label}: {list(azs)!r} lists {az!r} twice; allowed: each zone once")
        seen.add(az)
    prefix = prefixes.pop()
    region = by_prefix.get(prefix)
    if region is None:
        raise AnsibleFilterError(
            f"{label}: {list(azs)!r} are not zones of a supported region; allowed: the zone ids of "
            f"{', '.join(sorted(regions))} in data/regions.yml"
        )
    usable = _zone_ids(regions, region)
    for _index, _number, az in parsed:
        if az not in usable:
            raise AnsibleFilterError(
                f"{label}: {az!r} is not a zone the platform uses in {region}; allowed: {', '.join(usable)} "
                "(data/regions.yml says why a zone is left out)"
            )
    return sorted(parsed)


def subnet_plan(vpc_cidr, azs):
    """Return the public and private subnets of ``vpc_cidr`` for the zone ids ``azs``."""
    net = _parse_vpc_cidr(vpc_cidr)
    zones = _parse_azs(azs)
    private_blocks = list(net.subnets(prefixlen_diff=3))  # 8 blocks: 0-5 private, 6 reserved, 7 public
    public_blocks = list(private_blocks[7].subnets(prefixlen_diff=3))  # 8 blocks: 0-5 public
    plan = []
    for tier, blocks in (("public", public_blocks), ("private", private_blocks)):
        for index, number, az_id in zones:
            plan.append({
                "tier": tier,
                "az_id": az_id,
                "cidr": str(blocks[index]),
                "index": index,
                "name": f"{tier}-az{number}",
            })
    return plan


def cidrs_overlap(cidr_list):
    """Return every pair of networks in ``cidr_list`` that overlap, as ``[a, b]`` lists."""
    if not isinstance(cidr_list, (list, tuple)):
        raise AnsibleFilterError(
            f"cidr_list: {cidr_list!r} is not a list; allowed: a list of networks in CIDR notation"
        )
    nets = []
    for position, cidr in enumerate(cidr_list):
        try:
            if not isinstance(cidr, str) or "/" not in cidr:
                raise ValueError
            nets.append((cidr, ipaddress.ip_network(cidr.strip(), strict=True)))
        except ValueError:
            raise AnsibleFilterError(
                f"cidr_list[{position}]: {cidr!r} is not a network; allowed: a network in CIDR notation with "
                "host bits zero, e.g. '10.20.0.0/16'"
            ) from None
    pairs = []
    for i, (cidr_a, net_a) in enumerate(nets):
        for cidr_b, net_b in nets[i + 1:]:
            if net_a.version == net_b.version and net_a.overlaps(net_b):
                pairs.append([cidr_a, cidr_b])
    return pairs


class FilterModule:
    """Network planning filters."""

    def filters(self):
        return {
            "availability_zones": availability_zones,
            "subnet_plan": subnet_plan,
            "cidrs_overlap": cidrs_overlap,
        }
