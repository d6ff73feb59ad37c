# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Places where moto 5.2 answers otherwise than AWS, put right in the local AWS's moto.

Each fix makes moto do what AWS's API reference says; none makes it more lenient. They are
applied once, when the local AWS starts (assemble.py).

* KMS ``ScheduleKeyDeletion`` takes ``KeyId`` as a key id or a key ARN ("KeyId: Specify the
  key ID or key ARN of the KMS key", KMS API reference); moto looks the ARN up as an id and
  fails with a KeyError (HTTP 500).
* S3 ``PutBucketLogging`` reads the target bucket's policy for the logging service's grant and
  fails with an AttributeError (HTTP 500) on any statement whose ``Principal`` is ``"*"``
  (a string, as in every TLS-only bucket policy; IAM policy grammar allows it). Such a
  statement never grants the logging service, so the check skips it.
* RDS ``DescribeDBParameterGroups`` with a ``DBParameterGroupName`` that does not exist answers
  ``DBParameterGroupNotFound`` ("DBParameterGroupName: The name of a specific DB parameter
  group to return details for. Constraints: If supplied, must match the name of an existing
  DBClusterParameterGroup", RDS API reference); moto answers an empty list, which
  amazon.aws's rds_instance_param_group takes for a group and fails on (IndexError).
* S3 bucket policies: moto's statement evaluation answers "denied" for any statement whose
  condition does not hold, Allow or Deny, and takes every condition operator but
  StringEquals as holding. So a TLS-only bucket policy (Deny when ``aws:SecureTransport`` is
  false) or a Deny of uploads naming another KMS key denies every request. IAM's rule is that
  a statement whose condition does not hold does not apply ("IAM JSON policy elements:
  Condition"). The fix: such a statement is neutral; Bool, Null and the String/Arn operators
  (with IfExists and negation as IAM defines them: a negated operator or IfExists holds when
  the key is absent) are evaluated; the request context has ``aws:SecureTransport`` true, as
  every request to AWS's endpoints made by botocore is (the local endpoint stands for them).
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


def fix_s3_logging_policy_principal():
    import json
    import types

    from moto.s3.models import FakeBucket

    original = FakeBucket._log_permissions_enabled_policy

    def _log_permissions_enabled_policy(target_bucket, target_prefix):
        if not target_bucket.policy:
            return original(target_bucket, target_prefix)
        document = json.loads(target_bucket.policy.decode())
        statements = document.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        document["Statement"] = [s for s in statements if isinstance(s.get("Principal", {}), dict)]
        view = types.SimpleNamespace(policy=json.dumps(document).encode(), partition=target_bucket.partition,
                                     name=target_bucket.name)
        return original(view, target_prefix)

    FakeBucket._log_permissions_enabled_policy = staticmethod(_log_permissions_enabled_policy)


def fix_rds_describe_missing_parameter_group():
    from moto.rds.exceptions import DBParameterGroupNotFoundError
    from moto.rds.models import RDSBackend

    original = RDSBackend.describe_db_parameter_groups

    @functools.wraps(original)
    def describe_db_parameter_groups(self, db_parameter_group_kwargs):
        found = original(self, db_parameter_group_kwargs)
        name = db_parameter_group_kwargs.get("db_parameter_group_name")
        if name and not found:
            raise DBParameterGroupNotFoundError(name)
        return found

    RDSBackend.describe_db_parameter_groups = describe_db_parameter_groups


def fix_bucket_policy_conditions():
    import fnmatch

    from moto.iam import access_control, policy_conditions

    def holds(operator, expected, actual):
        if operator.endswith("IfExists"):
            if actual is None:
                return True
            operator = operator[:-len("IfExists")]
        expected = expected if isinstance(expected, list) else [expected]
        expected = [str(e) for e in expected]
        if operator == "Null":
            return (actual is None) == (expected[0].lower() == "true")
        negated = "Not" in operator
        if actual is None:
            return negated
        base = operator.replace("Not", "")
        if base == "Bool":
            match = str(actual).lower() in [e.lower() for e in expected]
        elif base == "StringEquals":
            match = actual in expected
        elif base == "StringEqualsIgnoreCase":
            match = actual.lower() in [e.lower() for e in expected]
        elif base in ("StringLike", "ArnLike", "ArnEquals"):
            match = any(fnmatch.fnmatchcase(actual, e) for e in expected)
        else:
            return None
        return not match if negated else match

    def verify_condition(self, actual_values):
        context = dict(getattr(self, "_context", {}) or {})
        for index, key in enumerate(self._expected_value_source):
            value = holds(self._condition, self._expected_value[index], context.get(key))
            if value is None:  # an operator this does not know: as before, taken as holding
                continue
            if not value:
                return False
        return True

    policy_conditions.TrustCondition.verify_condition = verify_condition

    def _check_conditions(self, incoming_condition_values):
        expected = self._statement.get("Condition")
        if not expected:
            return True
        context = {"aws:SecureTransport": "true"}
        context.update(incoming_condition_values or {})
        for condition in policy_conditions.TrustRelationShipConditions(expected):
            condition._context = context
            if not condition.verify_condition([]):
                return False
        return True

    original = access_control.IAMPolicyStatement.is_action_permitted

    @functools.wraps(original)
    def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        if not _check_conditions(self, incoming_condition_values):
            return access_control.PermissionResult.NEUTRAL
        statement = self._statement
        self._statement = {k: v for k, v in statement.items() if k != "Condition"}
        try:
            return original(self, action, resource, principal, incoming_condition_values)
        finally:
            self._statement = statement

    access_control.IAMPolicyStatement.is_action_permitted = is_action_permitted


FIXES = (fix_kms_schedule_key_deletion, fix_s3_logging_policy_principal, fix_rds_describe_missing_parameter_group,
         fix_bucket_policy_conditions)


def apply():
    for fix in FIXES:
        if fix.__name__ not in _APPLIED:
            fix()
            _APPLIED.add(fix.__name__)
