"""honeyhive.platform.kms_key against the moto server; every assertion reads the key back
through boto3, and the no-op run asserts the exact calls."""
from __future__ import annotations

import json
import uuid

import pytest

from ansible_collections.honeyhive.platform.plugins.modules import kms_key

MUTATING_PREFIXES = ("Create", "Delete", "Put", "Enable", "Disable", "Tag", "Untag", "Update", "Schedule", "Cancel")


def policy(account="123456789012", sid="Admin"):
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % account}, "Action": "kms:*",
         "Resource": "*"}]}


@pytest.fixture(autouse=True)
def _credentials(aws_env):
    """Every test runs with the fake credentials of ``aws_env``."""


@pytest.fixture
def kms(moto_client):
    return moto_client("kms")


@pytest.fixture
def alias():
    return "hh-test-%s" % uuid.uuid4().hex[:10]


def args(moto_endpoint, alias, **extra):
    base = dict(endpoint_url=moto_endpoint, region="us-west-2", alias="alias/" + alias, description="Platform key",
                enable_key_rotation=True, policy=policy(), tags={"Name": alias, "Environment": "test"})
    base.update(extra)
    return base


def mutating(calls):
    return [c for c in calls if c.startswith(MUTATING_PREFIXES)]


def key_tags(kms, key_id):
    return {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key_id)["Tags"]}


def test_create_then_no_op(run_module, kms, moto_endpoint, alias, api_calls):
    first = run_module(kms_key, args(moto_endpoint, alias))
    assert not first.get("failed"), first
    assert first["changed"] is True
    meta = kms.describe_key(KeyId="alias/" + alias)["KeyMetadata"]
    assert first["key_arn"] == meta["Arn"] and first["key_id"] == meta["KeyId"]
    assert meta["Description"] == "Platform key"
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"] is True
    assert json.loads(kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"]) == policy()
    assert key_tags(kms, meta["KeyId"]) == {"Name": alias, "Environment": "test"}

    api_calls.clear()
    again = run_module(kms_key, args(moto_endpoint, alias, policy=json.dumps(policy())))
    assert again["changed"] is False, again["actions"]
    assert api_calls == ["DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags"]
    assert again["key_arn"] == first["key_arn"]
    assert again["aliases"] == [alias]


def test_updates_only_what_differs(run_module, kms, moto_endpoint, alias, api_calls):
    first = run_module(kms_key, args(moto_endpoint, alias))
    kms.disable_key_rotation(KeyId=first["key_id"])
    api_calls.clear()
    result = run_module(kms_key, args(moto_endpoint, alias, description="Platform key v2", policy=policy(sid="Admins"),
                                      tags={"Name": alias}, extra_aliases=[alias + "-extra"], _ansible_diff=True))
    assert not result.get("failed"), result
    assert sorted(mutating(api_calls)) == sorted(["UpdateKeyDescription", "PutKeyPolicy", "EnableKeyRotation",
                                                  "UntagResource", "CreateAlias"])
    assert kms.describe_key(KeyId="alias/" + alias + "-extra")["KeyMetadata"]["KeyId"] == first["key_id"]
    assert kms.get_key_rotation_status(KeyId=first["key_id"])["KeyRotationEnabled"] is True
    assert key_tags(kms, first["key_id"]) == {"Name": alias}
    assert result["diff"]["before"]["description"] == "Platform key"
    assert result["diff"]["after"]["description"] == "Platform key v2"
    assert result["aliases"] == [alias, alias + "-extra"]

    # an alias of the key that is no longer listed stays, unless purge_aliases says otherwise
    same = dict(description="Platform key v2", policy=policy(sid="Admins"), tags={"Name": alias}, extra_aliases=[])
    assert run_module(kms_key, args(moto_endpoint, alias, **same))["changed"] is False
    result = run_module(kms_key, args(moto_endpoint, alias, purge_aliases=True, **same))
    assert result["actions"] == ["delete alias %s-extra" % alias]
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId="alias/" + alias + "-extra")


def test_check_mode(run_module, kms, moto_endpoint, alias, api_calls):
    result = run_module(kms_key, args(moto_endpoint, alias, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["key_arn"] is None
    assert mutating(api_calls) == []
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId="alias/" + alias)

    created = run_module(kms_key, args(moto_endpoint, alias))
    api_calls.clear()
    result = run_module(kms_key, args(moto_endpoint, alias, enable_key_rotation=False, _ansible_check_mode=True))
    assert result["actions"] == ["disable key rotation"]
    assert mutating(api_calls) == []
    assert kms.get_key_rotation_status(KeyId=created["key_id"])["KeyRotationEnabled"] is True


def test_delete_schedules_and_present_brings_it_back(run_module, kms, moto_endpoint, alias):
    created = run_module(kms_key, args(moto_endpoint, alias))
    # moto cannot schedule the deletion of a key it was given by ARN; the module uses the key id.
    result = run_module(kms_key, args(moto_endpoint, alias, state="absent", pending_window=7))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert kms.describe_key(KeyId=created["key_id"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert run_module(kms_key, args(moto_endpoint, alias, state="absent"))["changed"] is False


def test_a_pending_deletion_is_cancelled(run_module, kms, moto_endpoint, alias):
    created = run_module(kms_key, args(moto_endpoint, alias))
    kms.schedule_key_deletion(KeyId=created["key_id"], PendingWindowInDays=7)
    result = run_module(kms_key, args(moto_endpoint, alias))
    assert result["actions"] == ["cancel the scheduled deletion of the key", "enable the key"]
    assert kms.describe_key(KeyId=created["key_id"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_a_key_left_without_its_alias_is_adopted_not_duplicated(run_module, kms, moto_endpoint, alias, api_calls):
    """A run stopped between CreateKey and CreateAlias left a key with the tags and no alias."""
    tags = [{"TagKey": "Name", "TagValue": alias}, {"TagKey": "Environment", "TagValue": "test"}]
    orphan = kms.create_key(Description="Platform key", Tags=tags)["KeyMetadata"]
    # keys that must not be taken: one pending deletion, one whose tags differ, one with an alias
    gone = kms.create_key(Tags=tags)["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=gone, PendingWindowInDays=7)
    kms.create_key(Tags=[{"TagKey": "Name", "TagValue": alias + "-other"}])
    aliased = kms.create_key(Tags=tags)["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/" + alias + "-taken", TargetKeyId=aliased)
    before = {k["KeyId"] for k in kms.list_keys()["Keys"]}

    api_calls.clear()
    result = run_module(kms_key, args(moto_endpoint, alias, _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert "CreateKey" not in api_calls
    assert result["key_id"] == orphan["KeyId"]
    assert kms.describe_key(KeyId="alias/" + alias)["KeyMetadata"]["KeyId"] == orphan["KeyId"]
    assert {k["KeyId"] for k in kms.list_keys()["Keys"]} == before
    assert "create alias %s" % alias in result["actions"]
    assert result["diff"]["before"]["aliases"] == [] and result["diff"]["after"]["aliases"] == [alias]
    assert kms.get_key_rotation_status(KeyId=orphan["KeyId"])["KeyRotationEnabled"] is True

    api_calls.clear()
    assert run_module(kms_key, args(moto_endpoint, alias))["changed"] is False
    assert "ListKeys" not in api_calls


def test_no_key_is_adopted_without_tags(run_module, kms, moto_endpoint, alias, api_calls):
    kms.create_key(Description="Platform key")
    api_calls.clear()
    result = run_module(kms_key, args(moto_endpoint, alias, tags={}))
    assert not result.get("failed"), result
    assert "ListKeys" not in api_calls and "CreateKey" in api_calls


@pytest.mark.parametrize("extra, fragment", [
    (dict(alias="alias/aws/s3"), "not under aws/"),
    (dict(pending_window=3), "Allowed: 7 to 30 days"),
    (dict(policy="{"), "policy is not valid JSON"),
])
def test_bad_input_fails_before_any_call(run_module, moto_endpoint, alias, api_calls, extra, fragment):
    params = args(moto_endpoint, alias)
    params.update(extra)
    result = run_module(kms_key, params)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
