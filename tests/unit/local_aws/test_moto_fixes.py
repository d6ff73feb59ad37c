"""moto_fixes' bucket-policy conditions, judged one statement at a time as moto's S3 does:
a condition that does not hold makes its statement neutral, Allow or Deny; an operator the fix
does not evaluate fails closed (it holds in a Deny, not in an Allow)."""
from __future__ import annotations

import pytest
from moto.iam.access_control import IAMPolicyStatement, PermissionResult

import strict_harness  # noqa: F401 - puts scripts/ (local_aws) on the path
from local_aws import moto_fixes

BUCKET = "arn:aws:s3:::honeyhive-logs-test-us-west-2"
KEY = "arn:aws:kms:us-west-2:111122223333:key/platform"


@pytest.fixture(autouse=True, scope="module")
def fixed():
    moto_fixes.apply()


def judge(effect, condition, context=None, action="s3:PutObject"):
    statement = IAMPolicyStatement({"Effect": effect, "Principal": "*", "Action": "s3:*",
                                    "Resource": [BUCKET, BUCKET + "/*"], "Condition": condition})
    return statement.is_action_permitted(action, BUCKET + "/object", incoming_condition_values=context or {})


def test_the_tls_only_deny_does_not_apply_to_requests_over_tls():
    assert judge("Deny", {"Bool": {"aws:SecureTransport": "false"}}) == PermissionResult.NEUTRAL


def test_an_upload_naming_another_key_is_denied_and_one_relying_on_the_default_is_not():
    condition = {"Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
                 "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY}}
    other = {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY.replace("platform", "other")}
    assert judge("Deny", condition, other) == PermissionResult.DENIED
    assert judge("Deny", condition, {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY}) == PermissionResult.NEUTRAL
    assert judge("Deny", condition) == PermissionResult.NEUTRAL


def test_an_operator_the_fix_does_not_evaluate_fails_closed():
    unknown, context = {"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "5"}
    assert judge("Deny", unknown, context) == PermissionResult.DENIED
    assert judge("Allow", unknown, context) == PermissionResult.NEUTRAL
    # as for any operator without IfExists, a key the request lacks makes the condition false
    assert judge("Deny", unknown) == PermissionResult.NEUTRAL
