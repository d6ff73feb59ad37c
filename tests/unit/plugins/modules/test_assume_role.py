"""honeyhive.platform.assume_role against the moto server.

The module writes a profile that assumes the role and checks it once; what it writes is
then used the way every later module uses it (botocore, AWS_CONFIG_FILE and the profile),
and whatever that session creates is read back in the target account. moto runs without
MOTO_ACCOUNT_ID, so resources made through the profile land in the role's account.
(Refusals - trust policy, ExternalId, a role that does not exist - need the strict local
AWS and are tested in the integration tier.)
"""
from __future__ import annotations

import configparser
import json
import os
import stat

import boto3
import botocore.credentials
import pytest

from ansible_collections.honeyhive.platform.plugins.modules import assume_role

ROLE_ARN = "arn:aws:iam::111122223333:role/honeyhive-deployment"
EXTERNAL_ID = "honeyhive-ext-1234"


@pytest.fixture
def no_caller_config(monkeypatch, tmp_path):
    """The caller has no config file of their own (AWS_CONFIG_FILE names a missing file)."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-caller-config"))


def base_args(moto_endpoint, path, **extra):
    args = dict(role_arn=ROLE_ARN, external_id=EXTERNAL_ID, endpoint_url=moto_endpoint, region="us-west-2",
                config_file=str(path), role_profile="deploy")
    args.update(extra)
    return args


def read_config(path):
    parser = configparser.ConfigParser()
    parser.read(path)
    return parser


def session_of(result, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", result["config_file"])
    return boto3.Session(profile_name=result["role_profile"])


def test_profile_assumes_the_role_and_works_in_the_target_account(run_module, aws_env, no_caller_config,
                                                                  moto_endpoint, tmp_path, monkeypatch):
    path = tmp_path / "sessions" / "prod.config"
    result = run_module(assume_role, base_args(moto_endpoint, path))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["account_id"] == "111122223333"
    assert result["assumed_role_arn"].startswith("arn:aws:sts::111122223333:assumed-role/honeyhive-deployment/")
    assert result["config_file"] == str(path) and result["role_profile"] == "deploy"
    assert result["source"] == "credential_source = Environment"
    # nothing secret comes back: no credential, no ExternalId
    assert "credentials" not in result
    assert EXTERNAL_ID not in json.dumps(result)

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    profile = read_config(path)["profile deploy"]
    assert profile["role_arn"] == ROLE_ARN
    assert profile["external_id"] == EXTERNAL_ID
    assert profile["duration_seconds"] == "3600"
    assert profile["role_session_name"] == "honeyhive-platform-honeyhive-deployment"
    assert profile["credential_source"] == "Environment"
    assert profile["endpoint_url"] == moto_endpoint
    assert (profile["retry_mode"], profile["max_attempts"]) == ("standard", "10")

    # the profile is what later modules use: botocore assumes the role itself, refreshably
    session = session_of(result, monkeypatch)
    # with the profile's retries, also the STS client that assumes the role (made by the session)
    sts = session._session.create_client("sts", region_name="us-west-2", endpoint_url=moto_endpoint)
    assert sts.meta.config.retries == {"mode": "standard", "total_max_attempts": 10}
    credentials = session.get_credentials()
    assert isinstance(credentials, botocore.credentials.DeferredRefreshableCredentials)
    assert credentials.method == "assume-role"
    ec2 = session.client("ec2", endpoint_url=moto_endpoint, region_name="us-west-2")
    vpc_id = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["OwnerId"] == "111122223333"


def test_rewrites_nothing_when_the_profile_is_unchanged(run_module, aws_env, no_caller_config, moto_endpoint, tmp_path):
    path = tmp_path / "prod.config"
    run_module(assume_role, base_args(moto_endpoint, path))
    os.utime(path, (1000, 1000))
    again = run_module(assume_role, base_args(moto_endpoint, path))
    assert again["changed"] is False
    assert os.stat(path).st_mtime == 1000
    run_module(assume_role, base_args(moto_endpoint, path, duration_seconds=7200))
    assert os.stat(path).st_mtime != 1000
    assert read_config(path)["profile deploy"]["duration_seconds"] == "7200"


def test_check_mode_writes_the_profile_too(run_module, aws_env, no_caller_config, moto_endpoint, tmp_path):
    path = tmp_path / "check.config"
    result = run_module(assume_role, base_args(moto_endpoint, path, _ansible_check_mode=True))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert path.exists()


def test_a_named_caller_profile_is_the_source(run_module, aws_env, moto_endpoint, tmp_path, monkeypatch):
    caller_config = tmp_path / "caller.config"
    caller_config.write_text("[profile orchestration]\nregion = us-west-2\n[profile deploy]\nregion = stale\n")
    credentials = tmp_path / "caller.credentials"
    credentials.write_text("[orchestration]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(caller_config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_PROFILE", "orchestration")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    path = tmp_path / "prod.config"
    result = run_module(assume_role, base_args(moto_endpoint, path))
    assert not result.get("failed"), result
    assert result["source"] == "source_profile = orchestration"
    config = read_config(path)
    assert config["profile deploy"]["source_profile"] == "orchestration"
    assert config["profile deploy"]["role_arn"] == ROLE_ARN  # the caller's own "deploy" section is left out
    assert config["profile orchestration"]["region"] == "us-west-2"
    monkeypatch.delenv("AWS_PROFILE")
    ec2 = session_of(result, monkeypatch).client("ec2", endpoint_url=moto_endpoint, region_name="us-west-2")
    assert ec2.describe_vpcs()["Vpcs"] is not None


def test_a_web_identity_token_is_the_source(run_module, aws_env, no_caller_config, moto_endpoint, tmp_path, monkeypatch):
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.sig")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/github-deploy")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    path = tmp_path / "prod.config"
    result = run_module(assume_role, base_args(moto_endpoint, path))
    assert not result.get("failed"), result
    config = read_config(path)
    assert config["profile deploy"]["source_profile"] == "deploy-source"
    assert config["profile deploy-source"]["role_arn"] == "arn:aws:iam::123456789012:role/github-deploy"
    assert config["profile deploy-source"]["web_identity_token_file"] == str(token)


def test_keys_given_as_options_are_refused(run_module, aws_env, no_caller_config, moto_endpoint, api_calls, tmp_path):
    result = run_module(assume_role, base_args(moto_endpoint, tmp_path / "c", access_key="AKIAOTHEROTHEROTHER1",
                                               secret_key="other"))
    assert result["failed"] is True
    assert "given as module options" in result["msg"]
    assert api_calls == []


@pytest.mark.parametrize(
    "args, fragment",
    [
        (dict(role_arn="honeyhive-deployment"), "Invalid value for option 'role_arn': 'honeyhive-deployment'"),
        (dict(role_arn="arn:aws:iam::12345:role/x"), "Invalid value for option 'role_arn'"),
        (dict(external_id=None), "Option 'external_id' is required because 'require_external_id' is true"),
        (dict(session_name="x"), "Invalid value for option 'session_name': 'x'"),
        (dict(session_name="has space"), "Invalid value for option 'session_name': 'has space'"),
        (dict(duration_seconds=899), "Invalid value for option 'duration_seconds': 899"),
        (dict(duration_seconds=43201), "Invalid value for option 'duration_seconds': 43201"),
        (dict(role_profile="has space"), "Invalid value for option 'role_profile': 'has space'"),
        (dict(max_attempts=0), "Invalid value for option 'max_attempts': 0"),
        (dict(max_attempts=21), "Invalid value for option 'max_attempts': 21"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, aws_env, moto_endpoint, api_calls, tmp_path, args, fragment):
    path = tmp_path / "bad.config"
    result = run_module(assume_role, base_args(moto_endpoint, path, **args))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
    assert not path.exists()


def test_bad_external_id_is_not_echoed(run_module, aws_env, moto_endpoint, api_calls, tmp_path):
    result = run_module(assume_role, base_args(moto_endpoint, tmp_path / "c", external_id="bad value with spaces!"))
    assert result["failed"] is True
    assert "value hidden" in result["msg"]
    assert "bad value with spaces" not in json.dumps(result)
    assert api_calls == []


def test_external_id_may_be_omitted_when_not_required(run_module, aws_env, no_caller_config, moto_endpoint, tmp_path):
    path = tmp_path / "no-id.config"
    result = run_module(assume_role, base_args(moto_endpoint, path, external_id=None, require_external_id=False))
    assert not result.get("failed"), result
    assert "external_id" not in read_config(path)["profile deploy"]
