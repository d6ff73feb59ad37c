"""honeyhive.platform.iam_role and iam_managed_policy against the moto server (IAM is
global); every assertion reads the role or policy back through boto3, and the no-op runs
assert the exact calls."""
from __future__ import annotations

import json
import uuid

import pytest

from ansible_collections.honeyhive.platform.plugins.modules import iam_managed_policy
from ansible_collections.honeyhive.platform.plugins.modules import iam_role

ACCOUNT = "123456789012"  # moto's default account, where these credentials land
MUTATING_PREFIXES = ("Create", "Delete", "Put", "Attach", "Detach", "Tag", "Untag", "Update", "Set", "Remove")

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
READ_SECRETS = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                   "Resource": ["arn:aws:secretsmanager:us-west-2:123456789012:secret:honeyhive/*"]}],
}
READONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.fixture(autouse=True)
def _credentials(aws_env):
    """Every test runs with the fake credentials of ``aws_env``."""


@pytest.fixture
def iam(moto_client):
    return moto_client("iam")


@pytest.fixture
def name():
    return "hh-test-%s" % uuid.uuid4().hex[:10]


def base(moto_endpoint, **extra):
    args = dict(endpoint_url=moto_endpoint, region="us-west-2")
    args.update(extra)
    return args


def role_args(moto_endpoint, name, **extra):
    args = base(moto_endpoint, name=name, description="Runs the connectors", assume_role_policy_document=TRUST,
                managed_policy_arns=[READONLY], inline_policies={name + "-read": READ_SECRETS},
                max_session_duration=3600, tags={"Environment": "test", "Name": name})
    args.update(extra)
    return args


def mutating(calls):
    return [c for c in calls if c.startswith(MUTATING_PREFIXES)]


def tags_of(tag_list):
    return {t["Key"]: t["Value"] for t in tag_list or []}


# ------------------------------------------------------------------ iam_role


def test_role_create_then_no_op(run_module, iam, moto_endpoint, name, api_calls):
    first = run_module(iam_role, role_args(moto_endpoint, name, _ansible_diff=True))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["actions"] == ["create role %s" % name, "attach %s to role %s" % (READONLY, name),
                                "put inline policy %s-read of role %s" % (name, name)]
    role = iam.get_role(RoleName=name)["Role"]
    assert first["arn"] == role["Arn"] == first["iam_role"]["arn"]
    assert role["AssumeRolePolicyDocument"] == TRUST
    assert role["Description"] == "Runs the connectors"
    assert tags_of(role["Tags"]) == {"Environment": "test", "Name": name}
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]] == [READONLY]
    assert iam.get_role_policy(RoleName=name, PolicyName=name + "-read")["PolicyDocument"] == READ_SECRETS
    assert first["diff"]["before"] == {}

    api_calls.clear()
    # The same policies written another way (JSON text, one-item lists as strings) are no change.
    again = run_module(iam_role, role_args(
        moto_endpoint, name, assume_role_policy_document=json.dumps(TRUST),
        inline_policies={name + "-read": dict(READ_SECRETS, Statement=[dict(READ_SECRETS["Statement"][0],
                                                                           Action="secretsmanager:GetSecretValue")])}))
    assert again["changed"] is False, again["actions"]
    assert api_calls == ["GetRole", "ListAttachedRolePolicies", "GetRolePolicy"]
    assert again["iam_role"]["inline_policy_names"] == [name + "-read"]


def test_role_updates_only_what_differs(run_module, iam, moto_endpoint, name, api_calls):
    run_module(iam_role, role_args(moto_endpoint, name))
    iam.put_role_policy(RoleName=name, PolicyName="stray", PolicyDocument=json.dumps(READ_SECRETS))
    trust = dict(TRUST, Statement=[dict(TRUST["Statement"][0], Principal={"Service": "ecs.amazonaws.com"})])
    api_calls.clear()
    result = run_module(iam_role, role_args(moto_endpoint, name, assume_role_policy_document=trust,
                                            description="Runs the connectors v2", max_session_duration=7200,
                                            managed_policy_arns=[], tags={"Name": name, "Owner": "platform"},
                                            purge_inline_policies=True, _ansible_diff=True))
    assert not result.get("failed"), result
    assert sorted(mutating(api_calls)) == sorted(["UpdateAssumeRolePolicy", "UpdateRole", "UntagRole", "TagRole",
                                                  "DetachRolePolicy", "DeleteRolePolicy"])
    role = iam.get_role(RoleName=name)["Role"]
    assert role["AssumeRolePolicyDocument"] == trust
    assert role["Description"] == "Runs the connectors v2"
    assert role["MaxSessionDuration"] == 7200
    assert tags_of(role["Tags"]) == {"Name": name, "Owner": "platform"}
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == [name + "-read"]
    assert result["diff"]["before"]["description"] == "Runs the connectors"
    assert result["diff"]["after"]["description"] == "Runs the connectors v2"


def test_role_check_mode(run_module, iam, moto_endpoint, name, api_calls):
    result = run_module(iam_role, role_args(moto_endpoint, name, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["arn"] is None
    assert len(result["actions"]) == 3
    assert mutating(api_calls) == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=name)

    run_module(iam_role, role_args(moto_endpoint, name))
    api_calls.clear()
    result = run_module(iam_role, role_args(moto_endpoint, name, inline_policies={name + "-read": TRUST},
                                            _ansible_check_mode=True))
    assert result["actions"] == ["update inline policy %s-read of role %s" % (name, name)]
    assert mutating(api_calls) == []
    assert iam.get_role_policy(RoleName=name, PolicyName=name + "-read")["PolicyDocument"] == READ_SECRETS


def test_role_delete(run_module, iam, moto_endpoint, name):
    run_module(iam_role, role_args(moto_endpoint, name))
    check = run_module(iam_role, base(moto_endpoint, name=name, state="absent", _ansible_check_mode=True))
    assert check["changed"] is True
    assert iam.get_role(RoleName=name)
    result = run_module(iam_role, base(moto_endpoint, name=name, state="absent"))
    assert result["changed"] is True
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=name)
    assert run_module(iam_role, base(moto_endpoint, name=name, state="absent"))["changed"] is False


@pytest.mark.parametrize("extra, fragment", [
    (dict(max_session_duration=60), "Allowed: 3600 to 43200 seconds"),
    (dict(managed_policy_arns=["ReadOnlyAccess"]), "Allowed: managed policy ARNs"),
    (dict(inline_policies={"p": "not json"}), "inline_policies.p is not valid JSON"),
    (dict(tags={"aws:x": "y"}), "reserved by AWS"),
])
def test_role_bad_input_fails_before_any_call(run_module, moto_endpoint, name, api_calls, extra, fragment):
    result = run_module(iam_role, role_args(moto_endpoint, name, **extra))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []


# -------------------------------------------------------- iam_managed_policy


def policy_args(moto_endpoint, name, **extra):
    args = base(moto_endpoint, name=name, account_id=ACCOUNT, description="Read the platform secrets",
                policy=READ_SECRETS, only_version=True, tags={"Name": name})
    args.update(extra)
    return args


def test_policy_create_then_no_op_reads_by_arn(run_module, iam, moto_endpoint, name, api_calls):
    first = run_module(iam_managed_policy, policy_args(moto_endpoint, name))
    assert not first.get("failed"), first
    assert first["changed"] is True
    arn = "arn:aws:iam::%s:policy/%s" % (ACCOUNT, name)
    assert first["arn"] == first["policy"]["arn"] == arn
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["Description"] == "Read the platform secrets"
    assert tags_of(policy["Tags"]) == {"Name": name}

    api_calls.clear()
    again = run_module(iam_managed_policy, policy_args(moto_endpoint, name, policy=json.dumps(READ_SECRETS)))
    assert again["changed"] is False, again["actions"]
    assert api_calls == ["GetPolicy", "GetPolicyVersion", "ListPolicyVersions"]
    assert "ListPolicies" not in api_calls

    # without account_id one STS call finds the account
    api_calls.clear()
    again = run_module(iam_managed_policy, policy_args(moto_endpoint, name, account_id=None))
    assert again["changed"] is False
    assert again["arn"] == arn
    assert api_calls[0] == "GetCallerIdentity"


def test_policy_new_document_becomes_the_only_version(run_module, iam, moto_endpoint, name, api_calls):
    run_module(iam_managed_policy, policy_args(moto_endpoint, name))
    arn = "arn:aws:iam::%s:policy/%s" % (ACCOUNT, name)
    changed = dict(READ_SECRETS, Statement=[dict(READ_SECRETS["Statement"][0], Action=["secretsmanager:DescribeSecret"])])
    check = run_module(iam_managed_policy, policy_args(moto_endpoint, name, policy=changed, _ansible_check_mode=True))
    assert check["changed"] is True
    assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 1
    api_calls.clear()
    result = run_module(iam_managed_policy, policy_args(moto_endpoint, name, policy=changed, tags={"Name": name, "x": "y"},
                                                        _ansible_diff=True))
    assert result["changed"] is True
    assert sorted(mutating(api_calls)) == ["CreatePolicyVersion", "DeletePolicyVersion", "TagPolicy"]
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert len(versions) == 1 and versions[0]["IsDefaultVersion"]
    assert iam.get_policy_version(PolicyArn=arn, VersionId=versions[0]["VersionId"])["PolicyVersion"]["Document"] == changed
    assert result["diff"]["before"]["document"] == READ_SECRETS
    assert result["diff"]["after"]["document"] == changed


def test_policy_delete_detaches_first(run_module, iam, moto_endpoint, name):
    created = run_module(iam_managed_policy, policy_args(moto_endpoint, name))
    run_module(iam_role, role_args(moto_endpoint, name, managed_policy_arns=[created["arn"]]))
    assert run_module(iam_managed_policy, policy_args(moto_endpoint, name, state="absent", _ansible_check_mode=True))["changed"]
    result = run_module(iam_managed_policy, policy_args(moto_endpoint, name, state="absent"))
    assert result["changed"] is True
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_policy(PolicyArn=created["arn"])
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    assert run_module(iam_managed_policy, policy_args(moto_endpoint, name, state="absent"))["changed"] is False


def test_policy_check_mode_create_makes_nothing(run_module, iam, moto_endpoint, name, api_calls):
    result = run_module(iam_managed_policy, policy_args(moto_endpoint, name, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["policy"]["arn"] == "arn:aws:iam::%s:policy/%s" % (ACCOUNT, name)
    assert mutating(api_calls) == []
