# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Public DNS as the internet sees it, and ACM DNS validation that depends on it (switch ``dns``).

ACM issues a DNS-validated certificate only when its validation CNAME records resolve on the
public internet. A record in a new public hosted zone resolves only once the zone is
delegated: its parent zone holds an NS record set for the zone's name (or a registrar points
the registered domain at the zone). moto issues every certificate after a fixed wait whatever
DNS says; here a certificate stays ``PENDING_VALIDATION`` until each of its validation records
resolves through a chain of delegations from a registered domain, and is issued the ACM
validation time of timing.py after that (``FAILED`` never: ACM keeps trying for 72 hours).

Registered domains (``--public-domain NAME@ACCOUNT``, ``HONEYHIVE_AWS_PUBLIC_DOMAINS``) are the
domains an organisation already owns: at start, the local AWS makes a public hosted zone of
that name in that account, as a registrar would point the domain at it. With the switch off,
certificates are issued the validation time after the request, as moto would.
"""
from __future__ import annotations

import threading
import time

from .core import Behaviour

_ACM_READS = ("DescribeCertificate", "ListCertificates", "GetCertificate", "ExportCertificate")


def _fqdn(name):
    name = (name or "").lower()
    return name if name.endswith(".") else name + "."


class PublicDns(Behaviour):
    # Always runs (it is what issues certificates); the switch ``dns`` decides whether the
    # validation records must resolve first.
    name = ""
    switch = "dns"

    def __init__(self, strict, registered=()):
        super().__init__(strict)
        self.lock = threading.Lock()
        self.registered = {}          # fqdn -> (account, zone id)
        self.resolvable_since = {}    # certificate ARN -> epoch seconds
        self.requested = {}           # certificate ARN -> epoch seconds
        self.pending = list(registered)

    def start(self):
        """Make the registered domains' zones (once moto runs)."""
        for spec in self.pending:
            name, _, account = spec.partition("@")
            backend = self.strict.moto.backend("route53", account, "aws")
            existing = [z for z in backend.zones.values()
                        if _fqdn(z.name) == _fqdn(name) and not z.private_zone]
            zone = existing[0] if existing else backend.create_hosted_zone(
                _fqdn(name), private_zone=False, comment="Registered domain of the organisation")
            self.registered[_fqdn(name)] = (account, zone.id)
        self.pending = []
        import moto.settings

        moto.settings.ACM_VALIDATION_WAIT = 10 ** 9  # issuing is decided here

    # -- the public DNS --------------------------------------------------------------------

    def _public_zones(self):
        from moto.backends import get_backend

        zones = []
        for account, partitions in list(get_backend("route53").items()):
            backend = partitions["aws"]  # Route 53 is global: one backend per partition
            for zone in list(backend.zones.values()):
                if not zone.private_zone:
                    zones.append((account, zone))
        return zones

    def _delegated(self, zone, zones, depth=0):
        name = _fqdn(zone.name)
        if self.registered.get(name, (None, None))[1] == zone.id:
            return True
        if depth > 10 or name.count(".") <= 1:
            return False
        parent = name.split(".", 1)[1]
        for _account, candidate in zones:
            if _fqdn(candidate.name) != parent:
                continue
            for rrset in candidate.rrsets:
                if (rrset.type == "NS" and _fqdn(rrset.name) == name and _values(rrset)
                        and {_fqdn(v) for v in _values(rrset)} >= {_fqdn(ns) for ns in zone.delegation_set.name_servers}
                        and self._delegated(candidate, zones, depth + 1)):
                    return True
        return False

    def resolves(self, record_name, record_type, value):
        """Whether ``record_name`` answers ``value`` on the public internet."""
        record_name, value = _fqdn(record_name), _fqdn(value)
        zones = self._public_zones()
        # The closest enclosing delegated zone is authoritative for the name.
        best = None
        for _account, zone in zones:
            zone_name = _fqdn(zone.name)
            if (record_name == zone_name or record_name.endswith("." + zone_name)) and self._delegated(zone, zones):
                if best is None or len(zone_name) > len(_fqdn(best.name)):
                    best = zone
        if best is None:
            return False
        return any(rrset.type == record_type and _fqdn(rrset.name) == record_name
                   and value in {_fqdn(v) for v in _values(rrset)} for rrset in best.rrsets)

    # -- ACM -------------------------------------------------------------------------------

    def _timing(self, kind):
        from .timing import Timing

        timing = self.strict.find(Timing)
        return timing.duration(kind) if timing is not None else 0.0

    def refresh(self, account, region):
        """Issue the pending certificates whose validation records have resolved long enough."""
        backend = self.strict.moto.backend("acm", account, region)
        now = time.time()
        for arn, cert in list(backend._certificates.items()):
            if cert.type != "AMAZON_ISSUED" or cert.status != "PENDING_VALIDATION":
                continue
            with self.lock:
                requested = self.requested.setdefault(arn, now)
            if self.settings.on(self.switch):
                options = cert.describe()["Certificate"].get("DomainValidationOptions", [])
                ok = options and all(self.resolves(o["ResourceRecord"]["Name"], o["ResourceRecord"]["Type"],
                                                   o["ResourceRecord"]["Value"]) for o in options)
                if not ok:
                    with self.lock:
                        self.resolvable_since.pop(arn, None)
                    continue
                with self.lock:
                    since = self.resolvable_since.setdefault(arn, now)
            else:
                since = requested
            wait = self._timing("acm_dns_validation")
            if now >= since + wait:
                cert.status = "ISSUED"
                from .timing import Timing

                timing = self.strict.find(Timing)
                if timing is not None:
                    timing.record("acm_dns_validation", arn, since, wait)

    def before(self, call):
        if call.service == "acm" and call.operation in _ACM_READS and call.principal is not None:
            self.refresh(call.account, call.region)
        return None

    def control(self, method, path, body):
        if path == "/_aws/dns/resolve" and method == "POST":
            import json

            query = json.loads(body or b"{}")
            return 200, {"resolves": self.resolves(query.get("name", ""), query.get("type", "A"),
                                                   query.get("value", ""))}
        return None


def _values(rrset):
    out = []
    for record in rrset.records or []:
        out.append(record.get("Value") if isinstance(record, dict) else record)
    return [v for v in out if v]
