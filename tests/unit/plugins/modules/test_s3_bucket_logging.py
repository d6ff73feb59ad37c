"""honeyhive.platform.s3_bucket_logging against the moto server: logging on and off without any
ACL change, the second run unchanged, check mode without a call that changes anything."""
from __future__ import annotations

import json
import uuid

import pytest

from ansible_collections.honeyhive.platform.plugins.modules import s3_bucket_logging


@pytest.fixture
def buckets(moto_client):
    s3 = moto_client("s3")
    source, target = "src-%s" % uuid.uuid4().hex[:8], "logs-%s" % uuid.uuid4().hex[:8]
    for name in (source, target):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.put_bucket_ownership_controls(Bucket=target, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_bucket_policy(Bucket=target, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "S3ServerAccessLogs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::%s/*" % target}]}))
    return s3, source, target


def args(moto_endpoint, **extra):
    return dict(endpoint_url=moto_endpoint, region="us-west-2", **extra)


def test_logging_on_then_unchanged_then_off_without_acl_changes(run_module, buckets, moto_endpoint):
    s3, source, target = buckets
    acl_before = s3.get_bucket_acl(Bucket=target)["Grants"]
    first = run_module(s3_bucket_logging, args(moto_endpoint, name=source, target_bucket=target, target_prefix="src/",
                                                _ansible_diff=True))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["diff"] == {"before": {}, "after": {"target_bucket": target, "target_prefix": "src/"}}
    enabled = s3.get_bucket_logging(Bucket=source)["LoggingEnabled"]
    assert (enabled["TargetBucket"], enabled["TargetPrefix"]) == (target, "src/")
    assert s3.get_bucket_acl(Bucket=target)["Grants"] == acl_before

    second = run_module(s3_bucket_logging, args(moto_endpoint, name=source, target_bucket=target, target_prefix="src/"))
    assert second["changed"] is False

    off = run_module(s3_bucket_logging, args(moto_endpoint, name=source, state="absent"))
    assert off["changed"] is True and off["logging"] == {}
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=source)


def test_check_mode_changes_nothing(run_module, buckets, moto_endpoint):
    s3, source, target = buckets
    result = run_module(s3_bucket_logging, args(moto_endpoint, name=source, target_bucket=target, _ansible_check_mode=True))
    assert result["changed"] is True
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=source)


def test_present_needs_a_target(run_module, buckets, moto_endpoint):
    _, source, _ = buckets
    result = run_module(s3_bucket_logging, args(moto_endpoint, name=source))
    assert result["failed"] and "target_bucket" in result["msg"]


def test_check_mode_before_the_bucket_exists(run_module, buckets, moto_endpoint):
    _, _, target = buckets
    result = run_module(s3_bucket_logging, args(moto_endpoint, name="not-yet-%s" % uuid.uuid4().hex[:6],
                                                target_bucket=target, _ansible_check_mode=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    missing = run_module(s3_bucket_logging, args(moto_endpoint, name="not-yet-%s" % uuid.uuid4().hex[:6],
                                                 target_bucket=target))
    assert missing["failed"] and "NoSuchBucket" in missing["msg"]
