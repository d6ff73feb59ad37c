# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Places where moto 5.2 answers otherwise than AWS, put right in the local AWS's moto.

Each fix makes moto do what AWS's API reference says; none makes it more lenient. They are
applied once, when the local AWS starts (assemble.py).

* KMS ``ScheduleKeyDeletion`` takes ``KeyId`` as a key id or a key ARN ("KeyId: Specify the
  key ID or key ARN of the KMS key", KMS API reference); moto looks the ARN up as an id and
  fails with a KeyError (HTTP 500).
"""
from __future__ import annotations

import functools

_APPLIED = set()


def fix_kms_schedule_key_deletion():
    from moto.kms.models import KmsBackend

    original = KmsBackend.schedule_key_deletion

    @functools.wraps(original)
    def schedule_key_deletion(self, key_id, pending_window_in_days):
        return original(self, self.get_key_id(key_id), pending_window_in_days)

    KmsBackend.schedule_key_deletion = schedule_key_deletion


FIXES = (fix_kms_schedule_key_deletion,)


def apply():
    for fix in FIXES:
        if fix.__name__ not in _APPLIED:
            fix()
            _APPLIED.add(fix.__name__)
