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
* RDS ``DescribeOptionGroups`` without ``OptionGroupName`` lists the account's option groups,
  an empty list when there are none; moto fails with a KeyError (HTTP 500) without the name and
  answers ``OptionGroupNotFoundFault`` for an empty list.
* S3 ``PutBucketAcl`` on a bucket whose object ownership is ``BucketOwnerEnforced`` (ACLs
  disabled) is refused with ``AccessControlListNotSupported`` ("The bucket does not allow
  ACLs") when the ACL grants anything to a group such as LogDelivery (Amazon S3 User Guide,
  "Controlling ownership of objects and disabling ACLs"); moto applies it.
* S3 bucket policies: moto's statement evaluation answers "denied" for any statement whose
  condition does not hold, Allow or Deny, and takes every condition operator but
  StringEquals as holding. So a TLS-only bucket policy (Deny when ``aws:SecureTransport`` is
  false) or a Deny of uploads naming another KMS key denies every request. IAM's rule is that
  a statement whose condition does not hold does not apply ("IAM JSON policy elements:
  Condition"). The fix: such a statement is neutral; Bool, Null and the String/Arn operators
  (with IfExists and negation as IAM defines them: a negated operator or IfExists holds when
  the key is absent) are evaluated, any other operator fails closed (it holds in a Deny, not
  in an Allow); the request context has ``aws:SecureTransport`` true, as
  every request to AWS's endpoints made by botocore is (the local endpoint stands for them).
* AWS Backup ``CreateBackupPlan`` refuses the name of a plan that was deleted
  (``AlreadyExistsException``); AWS frees a plan's name when the plan is deleted (a deleted
  plan is only listed with ``IncludeDeleted``), so a teardown followed by a converge could not
  make the plan again. The uniqueness check only counts plans that are not deleted.
* RDS ``ManageMasterUserPassword``: the secret RDS makes holds the instance's (or cluster's)
  master user name and a password RDS generates (RDS user guide, "Password management with
  Amazon RDS and AWS Secrets Manager"); moto writes ``admin`` and the fixed ``P@55w0rd!``
  into every such secret. The fix writes the master user name and a random 28-character
  password, so that nothing can rely on knowing it.
"""
from __future__ import annotations

import functools
import json
import secrets
import string

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


def fix_rds_describe_option_groups_unnamed():
    from moto.rds.exceptions import OptionGroupNotFoundFaultError
    from moto.rds.models import RDSBackend

    original = RDSBackend.describe_option_groups

    @functools.wraps(original)
    def describe_option_groups(self, option_group_kwargs):
        kwargs = dict(option_group_kwargs)
        kwargs.setdefault("option_group_name", None)
        try:
            return original(self, kwargs)
        except OptionGroupNotFoundFaultError:
            if kwargs["option_group_name"]:
                raise
            return []

    RDSBackend.describe_option_groups = describe_option_groups


def fix_s3_acls_disabled_by_ownership():
    import json

    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import S3Backend

    original = S3Backend.put_bucket_acl

    @functools.wraps(original)
    def put_bucket_acl(self, bucket_name, acl):
        bucket = self.get_bucket(bucket_name)
        enforced = "BucketOwnerEnforced" in json.dumps(bucket.ownership_rule or {}, default=str)
        groups = [grantee for grant in (acl.grants if acl else []) for grantee in grant.grantees
                  if getattr(grantee, "uri", None)]
        if enforced and groups:
            raise S3ClientError("AccessControlListNotSupported", "The bucket does not allow ACLs")
        return original(self, bucket_name, acl)

    S3Backend.put_bucket_acl = put_bucket_acl


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
            if value is None:
                # An operator this does not evaluate fails closed: it holds for a bucket policy's
                # Deny (the request is denied) and not for its Allow (nothing is granted).
                if getattr(self, "_deny", None) is False:
                    return False
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
        deny = self._statement.get("Effect") == "Deny"
        for condition in policy_conditions.TrustRelationShipConditions(expected):
            condition._context = context
            condition._deny = deny
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


def fix_backup_plan_name_of_a_deleted_plan():
    from moto.backup.models import BackupBackend

    original = BackupBackend.create_backup_plan

    @functools.wraps(original)
    def create_backup_plan(self, backup_plan, backup_plan_tags, creator_request_id):
        deleted = {key: plan for key, plan in self.plans.items() if plan.deletion_date is not None}
        for key in deleted:
            del self.plans[key]
        try:
            return original(self, backup_plan, backup_plan_tags, creator_request_id)
        finally:
            self.plans.update(deleted)

    BackupBackend.create_backup_plan = create_backup_plan


def fix_rds_managed_master_secret():
    from moto.rds.models import MasterUserSecret

    alphabet = string.ascii_letters + string.digits + "!#$%^&*()_+-="

    def _generate_secret_string(self):
        password = "".join(secrets.choice(alphabet) for _ in range(28))
        return json.dumps({"username": getattr(self.resource, "master_username", None) or "postgres",
                           "password": password})

    MasterUserSecret._generate_secret_string = _generate_secret_string


FIXES = (fix_kms_schedule_key_deletion, fix_s3_logging_policy_principal, fix_rds_describe_missing_parameter_group,
         fix_rds_describe_option_groups_unnamed, fix_s3_acls_disabled_by_ownership, fix_bucket_policy_conditions, fix_backup_plan_name_of_a_deleted_plan,
         fix_rds_managed_master_secret)


def apply():
    for fix in FIXES:
        if fix.__name__ not in _APPLIED:
            fix()
            _APPLIED.add(fix.__name__)
