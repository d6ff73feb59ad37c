# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Puts the strict local AWS together: moto in-process and the behaviours, in order.

Order matters. ``before`` runs top to bottom and the first behaviour that answers wins:
who signed (sessions), whether the session expired, the account's zones, which RDS-API
requests are DocumentDB's (docdb.py; before IAM, which judges them by DocumentDB's rules), IAM,
eventual consistency, ACM's view of public DNS, then the services served here (EKS,
DocumentDB, RDS, ElastiCache, AWS Backup). ``after`` runs
over every answer in the same order: sessions read AssumeRole answers, consistency and
timing note what was made.
"""
from __future__ import annotations

from .backup import LocalBackup
from .consistency import Consistency
from .core import Settings, Strict
from .dns import PublicDns
from .docdb import DocdbRequests, LocalDocdb
from .eks import LocalEks
from .elasticache import LocalElastiCache
from .eks_auth import EksAuth
from .eks_environment import MotoEksEnvironment
from .iam import IamEnforcement
from . import moto_fixes
from .moto_bridge import MotoBridge
from .rds import LocalRds
from .sessions import ExpiringCredentials, Sessions
from .timing import Timing
from .zones import AccountZones


def build(settings: Settings, bridge: MotoBridge, public_domains=(), local_hosts=(), state_dir=None):
    moto_fixes.apply()
    strict = Strict(settings, bridge, state_dir)
    strict.add(Sessions(strict))
    strict.add(ExpiringCredentials(strict))
    strict.add(AccountZones(strict))
    strict.add(DocdbRequests(strict))
    strict.add(IamEnforcement(strict))
    strict.add(Consistency(strict))
    dns = strict.add(PublicDns(strict, public_domains))
    timing = strict.add(Timing(strict))
    strict.add(LocalEks(strict, MotoEksEnvironment(strict, timing)))
    strict.add(LocalDocdb(strict, timing))
    strict.add(LocalRds(strict, timing))
    strict.add(LocalElastiCache(strict, timing))
    strict.add(LocalBackup(strict))
    strict.add(EksAuth(strict, local_hosts))
    dns.start()
    return strict
