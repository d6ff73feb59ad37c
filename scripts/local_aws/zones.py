# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Availability zone names per account (switch ``zones``).

On AWS a zone name (``us-east-1a``) is an alias that maps to a physical zone, whose id
(``use1-az4``) is the same for every account, independently in each account: ``us-east-1a``
of one account may be ``use1-az4`` and of another ``use1-az6`` ("Availability Zone IDs for
your AWS resources", AWS RAM User Guide). moto maps names to ids the same way for every
account, so a collection that plans subnets by letter looks right locally.

Here each account sees the ids of a region rotated by an offset derived from the account id
(``int(account) % number of zones``): ``DescribeAvailabilityZones``, ``CreateSubnet`` (by
``AvailabilityZone`` or ``AvailabilityZoneId``) and the subnets' ``AvailabilityZone`` /
``AvailabilityZoneId`` all agree, per account. The mapping is fixed, so a test can know
it: :func:`account_zones`.
"""
from __future__ import annotations

import threading

from .core import Behaviour

_LOCK = threading.Lock()
_PATCHED = {"done": False}


def _base_zones(region):
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    return sorted(RegionsAndZonesBackend.zones.get(region, []), key=lambda z: z.name)


def account_zones(account, region):
    """The zones ``account`` sees in ``region``: moto's names in order, ids rotated."""
    from moto.ec2.models.availability_zones_and_regions import Zone

    base = _base_zones(region)
    if not base:
        return []
    offset = int(account) % len(base) if str(account).isdigit() else 0
    ids = [z.zone_id for z in base]
    return [Zone(region_name=region, name=z.name, zone_id=ids[(i + offset) % len(ids)], zone_type=z.zone_type)
            for i, z in enumerate(base)]


def _install_patch():
    """moto's create_subnet looks zones up in its class-wide table; use the account's."""
    with _LOCK:
        if _PATCHED["done"]:
            return
        from moto.ec2.exceptions import InvalidAvailabilityZoneError
        from moto.ec2.models.subnets import SubnetBackend

        original = SubnetBackend.create_subnet

        def create_subnet(self, vpc_id, cidr_block, ipv6_cidr_block=None, availability_zone=None,
                          availability_zone_id=None, **rest):
            zones = getattr(self, "_account_zones", None)
            if zones is None:
                return original(self, vpc_id, cidr_block, ipv6_cidr_block=ipv6_cidr_block,
                                availability_zone=availability_zone, availability_zone_id=availability_zone_id,
                                **rest)
            if availability_zone:
                zone = next((z for z in zones if z.name == availability_zone), None)
            elif availability_zone_id:
                zone = next((z for z in zones if z.zone_id == availability_zone_id), None)
            else:
                zone = zones[0]
            if zone is None:
                raise InvalidAvailabilityZoneError(availability_zone or availability_zone_id,
                                                   ", ".join(z.name for z in zones))
            # moto files the subnet under its own zone of that id; then it gets the account's zone.
            subnet = original(self, vpc_id, cidr_block, ipv6_cidr_block=ipv6_cidr_block,
                              availability_zone=None, availability_zone_id=zone.zone_id, **rest)
            subnet._availability_zone = zone
            return subnet

        SubnetBackend.create_subnet = create_subnet
        _PATCHED["done"] = True


class AccountZones(Behaviour):
    name = "zones"

    def __init__(self, strict):
        super().__init__(strict)
        self.seen = set()
        if strict.settings.on(self.name):
            _install_patch()

    def before(self, call):
        if call.service != "ec2" or call.principal is None or not call.region:
            return None
        key = (call.account, call.region)
        if key not in self.seen:
            backend = self.strict.moto.ec2(call.account, call.region)
            zones = account_zones(call.account, call.region)
            backend.zones = {call.region: zones}
            backend._account_zones = zones
            self.seen.add(key)
        return None
