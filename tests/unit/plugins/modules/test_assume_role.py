"""honeyhive.platform.assume_role against the moto server.

moto runs without MOTO_ACCOUNT_ID, so whatever is created with the assumed
credentials lands in the assumed role's account: the cross-account flow is
checked by reading resources back, not by trusting the module's output.
"""
from __future__ import annotations

import configparser
import datetime

import boto3
import pytest

from ansible_collections.honeyhive.platform.plugins.modules import assume_role

ROLE_ARN = "arn:aws:iam::111122223333:role/honeyhive-deployment"
CALLER_ACCOUNT = "123456789012"


def base_args(moto_endpoint, **extra):
    args = dict(
        role_arn=ROLE_ARN,
        external_id="honeyhive-ext-1234",
        endpoint_url=moto_endpoint,
        region="us-west-2",
    )
    args.update(extra)
    return args


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_assumed_credentials_work_in_the_target_account(run_module, aws_env, moto_endpoint):
    result = run_module(assume_role, base_args(moto_endpoint))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["refreshed"] is True
    assert result["account_id"] == "111122223333"
    assert result["assumed_role_arn"].startswith("arn:aws:sts::111122223333:assumed-role/honeyhive-deployment/")
    creds = result["credentials"]
    assert set(creds) == {"access_key", "secret_key", "session_token", "expiration"}
    expiration = datetime.datetime.strptime(creds["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc
    )
    assert expiration > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=50)
    # no secret is echoed back through the invocation
    assert result["invocation"]["module_args"]["external_id"] != "honeyhive-ext-1234"

    ec2 = boto3.client(
        "ec2",
        endpoint_url=moto_endpoint,
        region_name="us-west-2",
        aws_access_key_id=creds["access_key"],
        aws_secret_access_key=creds["secret_key"],
        aws_session_token=creds["session_token"],
    )
    vpc_id = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert vpc["OwnerId"] == "111122223333"
    assert vpc["OwnerId"] != CALLER_ACCOUNT

    caller_ec2 = boto3.client("ec2", endpoint_url=moto_endpoint, region_name="us-west-2")
    caller_vpcs = caller_ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"]
    assert caller_vpcs == []


def test_current_far_from_expiry_is_returned_without_any_api_call(run_module, aws_env, moto_endpoint, api_calls):
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    current = dict(
        access_key="ASIACURRENTKEY000001",
        secret_key="current-secret",
        session_token="current-token",
        expiration=iso(expiration),
    )
    result = run_module(assume_role, base_args(moto_endpoint, current=current))
    assert not result.get("failed"), result
    assert api_calls == []
    assert result["changed"] is False
    assert result["refreshed"] is False
    assert result["credentials"] == current
    assert result["account_id"] == "111122223333"
    assert result["assumed_role_arn"] == (
        "arn:aws:sts::111122223333:assumed-role/honeyhive-deployment/honeyhive-platform-honeyhive-deployment"
    )
    assert "current-secret" not in str(result["invocation"])


def test_current_within_margin_is_replaced(run_module, aws_env, moto_endpoint, api_calls):
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    current = dict(
        access_key="ASIACURRENTKEY000002",
        secret_key="old-secret",
        session_token="old-token",
        expiration=iso(expiration),
    )
    result = run_module(assume_role, base_args(moto_endpoint, current=current, refresh_margin_seconds=600))
    assert not result.get("failed"), result
    assert api_calls == ["AssumeRole"]
    assert result["refreshed"] is True
    assert result["changed"] is False
    assert result["credentials"]["access_key"] != current["access_key"]
    assert result["credentials"]["secret_key"] != current["secret_key"]

    sts = boto3.client(
        "sts",
        endpoint_url=moto_endpoint,
        region_name="us-west-2",
        aws_access_key_id=result["credentials"]["access_key"],
        aws_secret_access_key=result["credentials"]["secret_key"],
        aws_session_token=result["credentials"]["session_token"],
    )
    assert sts.get_caller_identity()["Account"] == "111122223333"


def test_expired_current_is_replaced(run_module, aws_env, moto_endpoint):
    current = dict(
        access_key="ASIACURRENTKEY000003",
        secret_key="old-secret",
        session_token="old-token",
        expiration="2020-01-01T00:00:00+00:00",
    )
    result = run_module(assume_role, base_args(moto_endpoint, current=current))
    assert result["refreshed"] is True
    assert result["credentials"]["access_key"] != current["access_key"]


def test_check_mode_still_assumes(run_module, aws_env, moto_endpoint):
    result = run_module(assume_role, base_args(moto_endpoint, _ansible_check_mode=True))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["credentials"]["access_key"].startswith("ASIA")


def test_custom_session_name_and_duration(run_module, aws_env, moto_endpoint):
    result = run_module(
        assume_role, base_args(moto_endpoint, session_name="ci-run-42", duration_seconds=900, refresh_margin_seconds=60)
    )
    assert result["assumed_role_arn"].endswith("/honeyhive-deployment/ci-run-42")
    expiration = datetime.datetime.strptime(result["credentials"]["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc
    )
    assert expiration < datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=16)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (dict(role_arn="arn:aws:iam::1111:role/x"), "Invalid value for option 'role_arn'"),
        (dict(role_arn="honeyhive-deployment"), "Invalid value for option 'role_arn'"),
        (dict(external_id=None), "Option 'external_id' is required because 'require_external_id' is true"),
        (dict(session_name="has space"), "Invalid value for option 'session_name'"),
        (dict(session_name="x"), "Invalid value for option 'session_name'"),
        (dict(duration_seconds=60), "Invalid value for option 'duration_seconds': 60. Allowed: an integer from 900 to 43200"),
        (dict(duration_seconds=50000), "Invalid value for option 'duration_seconds'"),
        (dict(refresh_margin_seconds=-1), "Invalid value for option 'refresh_margin_seconds'"),
        (dict(refresh_margin_seconds=3600), "Allowed: less than duration_seconds"),
        (dict(current={"access_key": "ASIAEXAMPLEKEY"}), "missing secret_key, session_token, expiration"),
        (
            dict(
                current={
                    "access_key": "ASIAEXAMPLEKEY",
                    "secret_key": "example-secret",
                    "session_token": "example-token",
                    "expiration": "tomorrow",
                }
            ),
            "Invalid value for option 'current.expiration'",
        ),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, aws_env, moto_endpoint, api_calls, args, fragment):
    result = run_module(assume_role, base_args(moto_endpoint, **args))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []


def test_bad_external_id_is_not_echoed(run_module, aws_env, moto_endpoint, api_calls):
    result = run_module(assume_role, base_args(moto_endpoint, external_id="bad id with spaces"))
    assert result["failed"] is True
    assert "Invalid value for option 'external_id'" in result["msg"]
    assert "bad id with spaces" not in str(result)
    assert api_calls == []


def test_external_id_may_be_omitted_when_not_required(run_module, aws_env, moto_endpoint):
    result = run_module(assume_role, base_args(moto_endpoint, external_id=None, require_external_id=False))
    assert not result.get("failed"), result
    assert result["account_id"] == "111122223333"


def test_short_external_id_does_not_corrupt_returned_credentials(run_module, aws_env, moto_endpoint):
    """A 2-character no_log value would otherwise be masked inside the token."""
    result = run_module(assume_role, base_args(moto_endpoint, external_id="A1"))
    token = result["credentials"]["session_token"]
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" not in str(result["credentials"])
    sts = boto3.client(
        "sts",
        endpoint_url=moto_endpoint,
        region_name="us-west-2",
        aws_access_key_id=result["credentials"]["access_key"],
        aws_secret_access_key=result["credentials"]["secret_key"],
        aws_session_token=token,
    )
    assert sts.get_caller_identity()["Account"] == "111122223333"


def _mode(path):
    return oct(path.stat().st_mode & 0o777)


def test_credentials_file_holds_a_private_profile_that_works(run_module, aws_env, moto_endpoint, tmp_path, monkeypatch):
    path = tmp_path / "sessions" / "deploy.credentials"
    result = run_module(assume_role, base_args(moto_endpoint, credentials_file=str(path), credentials_profile="hh-test"))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["credentials_file"] == str(path) and result["credentials_profile"] == "hh-test"
    assert _mode(path) == "0o600" and _mode(path.parent) == "0o700"
    creds = result["credentials"]
    parser = configparser.ConfigParser()
    parser.read(path)
    assert parser.sections() == ["hh-test"]
    assert dict(parser["hh-test"]) == {"aws_access_key_id": creds["access_key"], "aws_secret_access_key": creds["secret_key"],
                                       "aws_session_token": creds["session_token"]}

    # The profile alone (no keys as options, none in the environment) reaches the target account.
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(path))
    session = boto3.Session(profile_name="hh-test", region_name="us-west-2")
    assert session.client("sts", endpoint_url=moto_endpoint).get_caller_identity()["Account"] == "111122223333"


def test_credentials_file_is_replaced_on_refresh_and_left_alone_otherwise(run_module, aws_env, moto_endpoint, tmp_path):
    path = tmp_path / "deploy.credentials"
    first = run_module(assume_role, base_args(moto_endpoint, credentials_file=str(path)))
    written = path.stat().st_mtime_ns
    inode = path.stat().st_ino
    again = run_module(assume_role, base_args(moto_endpoint, credentials_file=str(path), current=first["credentials"]))
    assert again["refreshed"] is False
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == (written, inode)

    soon = dict(first["credentials"], expiration=iso(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)))
    renewed = run_module(assume_role, base_args(moto_endpoint, credentials_file=str(path), current=soon))
    assert renewed["refreshed"] is True
    text = path.read_text(encoding="utf-8")
    assert renewed["credentials"]["session_token"] in text
    assert first["credentials"]["session_token"] not in text
    assert _mode(path) == "0o600"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy.credentials"]  # no temporary file left


def test_credentials_directory_is_made_private(run_module, aws_env, moto_endpoint, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    result = run_module(assume_role, base_args(moto_endpoint, credentials_file=str(shared / "c")))
    assert not result.get("failed"), result
    assert _mode(shared) == "0o700"


def test_bad_credentials_profile_fails_before_any_api_call(run_module, aws_env, moto_endpoint, api_calls, tmp_path):
    result = run_module(assume_role, base_args(moto_endpoint, credentials_file=str(tmp_path / "c"),
                                               credentials_profile="has space"))
    assert result["failed"] and "credentials_profile" in result["msg"]
    assert api_calls == []
    assert not (tmp_path / "c").exists()
