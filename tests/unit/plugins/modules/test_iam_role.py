"""honeyhive.platform.iam_role, iam_roles and iam_managed_policy against the moto server
(IAM is global); every assertion reads the role or policy back through boto3, and the no-op
runs assert the exact calls."""
from __future__ import annotations

import json
import uuid

import pytest

from ansible_collections.honeyhive.platform.plugins.modules import iam_managed_policy
from ansible_collections.honeyhive.platform.plugins.modules import iam_role
from ansible_collections.honeyhive.platform.plugins.modules import iam_roles

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


# ------------------------------------------------------------------ iam_roles


def roles_args(moto_endpoint, names, **extra):
    roles = [dict(name=n, description="Role %s" % n, assume_role_policy_document=TRUST, managed_policy_arns=[READONLY],
                  inline_policies={n + "-read": READ_SECRETS}, tags={"Environment": "test", "Name": n})
             for n in names]
    args = base(moto_endpoint, roles=roles)
    args.update(extra)
    return args


def test_roles_create_then_no_op_in_two_reads(run_module, iam, moto_endpoint, name, api_calls):
    names = [name + "-a", name + "-b", name + "-c"]
    first = run_module(iam_roles, roles_args(moto_endpoint, names, _ansible_diff=True))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert [a for a in first["actions"] if a.startswith("create role")] == ["create role %s" % n for n in names]
    for n in names:
        role = iam.get_role(RoleName=n)["Role"]
        assert first["arns"][n] == role["Arn"]
        assert role["AssumeRolePolicyDocument"] == TRUST
        assert role["Description"] == "Role %s" % n
        assert tags_of(role["Tags"]) == {"Environment": "test", "Name": n}
        assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=n)["AttachedPolicies"]] == [READONLY]
        assert iam.get_role_policy(RoleName=n, PolicyName=n + "-read")["PolicyDocument"] == READ_SECRETS
    assert [r["role_name"] for r in first["roles"]] == names

    api_calls.clear()
    again = run_module(iam_roles, roles_args(moto_endpoint, names))
    assert again["changed"] is False, again["actions"]
    # Three roles, each with a trust policy, tags, a managed and an inline policy: two reads.
    assert api_calls == ["GetAccountAuthorizationDetails", "ListRoles"]
    assert again["arns"] == first["arns"]
    assert [r["inline_policy_names"] for r in again["roles"]] == [[n + "-read"] for n in names]


def test_roles_change_only_the_role_that_differs(run_module, iam, moto_endpoint, name, api_calls):
    names = [name + "-a", name + "-b"]
    run_module(iam_roles, roles_args(moto_endpoint, names))
    iam.tag_role(RoleName=names[1], Tags=[{"Key": "Stray", "Value": "x"}])
    drifted = dict(READ_SECRETS, Statement=[dict(READ_SECRETS["Statement"][0], Action=["secretsmanager:*"])])
    iam.put_role_policy(RoleName=names[1], PolicyName=names[1] + "-read", PolicyDocument=json.dumps(drifted))
    iam.update_role(RoleName=names[1], MaxSessionDuration=7200)
    args = roles_args(moto_endpoint, names)
    args["roles"][1]["max_session_duration"] = 3600
    api_calls.clear()
    result = run_module(iam_roles, args)
    assert sorted(mutating(api_calls)) == ["PutRolePolicy", "UntagRole", "UpdateRole"]
    assert all(names[1] in action for action in result["actions"]), result["actions"]
    assert tags_of(iam.get_role(RoleName=names[1])["Role"]["Tags"]) == {"Environment": "test", "Name": names[1]}
    assert iam.get_role(RoleName=names[1])["Role"]["MaxSessionDuration"] == 3600
    assert iam.get_role_policy(RoleName=names[1], PolicyName=names[1] + "-read")["PolicyDocument"] == READ_SECRETS


def test_roles_check_mode_and_delete(run_module, iam, moto_endpoint, name, api_calls):
    names = [name + "-a", name + "-b"]
    check = run_module(iam_roles, roles_args(moto_endpoint, names, _ansible_check_mode=True))
    assert check["changed"] is True
    assert check["arns"] == {n: None for n in names}
    assert mutating(api_calls) == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=names[0])

    run_module(iam_roles, roles_args(moto_endpoint, names))
    gone = dict(roles=[{"name": n} for n in names], state="absent")
    assert run_module(iam_roles, base(moto_endpoint, _ansible_check_mode=True, **gone))["changed"] is True
    assert iam.get_role(RoleName=names[0])
    deleted = run_module(iam_roles, base(moto_endpoint, **gone))
    assert deleted["changed"] is True
    for n in names:
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            iam.get_role(RoleName=n)
    api_calls.clear()
    assert run_module(iam_roles, base(moto_endpoint, **gone))["changed"] is False
    assert mutating(api_calls) == []


@pytest.mark.parametrize("item, fragment", [
    (dict(max_session_duration=60), "'roles[1].max_session_duration': 60. Allowed: 3600 to 43200 seconds"),
    (dict(name="has space"), "'roles[1].name': 'has space'"),
    (dict(inline_policies={"p": "not json"}), "roles[1].inline_policies.p is not valid JSON"),
    (dict(tags={"aws:x": "y"}), "'roles[1].tags': 'aws:x'"),
])
def test_roles_bad_input_fails_before_any_call(run_module, moto_endpoint, name, api_calls, item, fragment):
    args = roles_args(moto_endpoint, [name + "-a", name + "-b"])
    args["roles"][1].update(item)
    result = run_module(iam_roles, args)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []


def test_roles_same_name_twice_is_refused(run_module, moto_endpoint, name, api_calls):
    result = run_module(iam_roles, roles_args(moto_endpoint, [name, name]))
    assert result["failed"] is True
    assert "'roles[1].name'" in result["msg"] and "each role name once" in result["msg"]
    assert api_calls == []


def test_roles_follow_every_page_of_a_large_account(run_module, stub_client):
    """Stubber (botocore's IAM service model): moto answers GetAccountAuthorizationDetails and
    ListRoles in one page, AWS in pages of 100 roles; the roles wanted are on the second ones."""
    account = "111122223333"

    def detail(n):
        return {"Path": "/", "RoleName": n, "RoleId": "AROA%016d" % len(n), "Arn": "arn:aws:iam::%s:role/%s" % (account, n),
                "AssumeRolePolicyDocument": json.dumps(TRUST), "RolePolicyList": [],
                "AttachedManagedPolicies": [{"PolicyName": "ReadOnlyAccess", "PolicyArn": READONLY}],
                "Tags": [{"Key": "Name", "Value": n}]}

    def listed(n):
        return {"Path": "/", "RoleName": n, "RoleId": "AROA%016d" % len(n), "Arn": "arn:aws:iam::%s:role/%s" % (account, n),
                "CreateDate": "2026-01-01T00:00:00Z", "Description": "Role %s" % n, "MaxSessionDuration": 3600}

    stubber = stub_client("iam")
    stubber.add_response("get_account_authorization_details",
                         {"RoleDetailList": [detail("other")], "IsTruncated": True, "Marker": "m1"}, {"Filter": ["Role"]})
    stubber.add_response("get_account_authorization_details",
                         {"RoleDetailList": [detail("wanted")], "IsTruncated": False}, {"Filter": ["Role"], "Marker": "m1"})
    stubber.add_response("list_roles", {"Roles": [listed("other")], "IsTruncated": True, "Marker": "r1"}, {})
    stubber.add_response("list_roles", {"Roles": [listed("wanted")], "IsTruncated": False}, {"Marker": "r1"})
    stubber.activate()
    result = run_module(iam_roles, dict(region="us-west-2", roles=[dict(
        name="wanted", description="Role wanted", assume_role_policy_document=TRUST, max_session_duration=3600,
        managed_policy_arns=[READONLY], inline_policies={}, tags={"Name": "wanted"})]))
    assert not result.get("failed"), result
    assert result["changed"] is False, result["actions"]
    assert result["arns"] == {"wanted": "arn:aws:iam::%s:role/wanted" % account}
    stubber.assert_no_pending_responses()


# ------------------------------------------------------- permissions boundary


@pytest.fixture
def boundary(iam, name):
    """A managed policy to bound the roles with (IAM wants the boundary to exist)."""
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}
    return iam.create_policy(PolicyName=name + "-boundary", PolicyDocument=json.dumps(document))["Policy"]["Arn"]


def boundary_of(iam, role_name):
    return iam.get_role(RoleName=role_name)["Role"].get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")


def test_role_created_with_its_boundary_then_no_op(run_module, iam, moto_endpoint, name, boundary, api_calls):
    first = run_module(iam_role, role_args(moto_endpoint, name, permissions_boundary=boundary))
    assert not first.get("failed"), first
    assert first["actions"][0] == "create role %s" % name
    assert not any("boundary" in action for action in first["actions"]), "the boundary comes with CreateRole"
    assert boundary_of(iam, name) == boundary
    assert first["iam_role"]["permissions_boundary"] == boundary
    api_calls.clear()
    again = run_module(iam_role, role_args(moto_endpoint, name, permissions_boundary=boundary))
    assert again["changed"] is False, again["actions"]
    assert api_calls == ["GetRole", "ListAttachedRolePolicies", "GetRolePolicy"]
    assert again["iam_role"]["permissions_boundary"] == boundary
    # Left out, the boundary is not managed: not reported as a change, not removed.
    assert run_module(iam_role, role_args(moto_endpoint, name))["changed"] is False
    assert boundary_of(iam, name) == boundary


def test_role_gets_its_boundary_before_any_policy(run_module, iam, moto_endpoint, name, boundary, api_calls):
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    check = run_module(iam_role, role_args(moto_endpoint, name, permissions_boundary=boundary, _ansible_check_mode=True))
    assert "set the permissions boundary of role %s to %s" % (name, boundary) in check["actions"]
    assert check["iam_role"]["permissions_boundary"] == boundary
    assert boundary_of(iam, name) is None
    api_calls.clear()
    result = run_module(iam_role, role_args(moto_endpoint, name, permissions_boundary=boundary, _ansible_diff=True))
    assert not result.get("failed"), result
    assert boundary_of(iam, name) == boundary
    # A principal that may grant only to roles with the boundary needs it on the role first.
    changes = mutating(api_calls)
    assert changes.index("PutRolePermissionsBoundary") < changes.index("AttachRolePolicy")
    assert changes.index("PutRolePermissionsBoundary") < changes.index("PutRolePolicy")
    assert result["diff"]["before"]["permissions_boundary"] is None
    assert result["diff"]["after"]["permissions_boundary"] == boundary
    other = iam.create_policy(PolicyName=name + "-other", PolicyDocument=json.dumps(READ_SECRETS))["Policy"]["Arn"]
    moved = run_module(iam_role, role_args(moto_endpoint, name, permissions_boundary=other))
    assert moved["actions"] == ["set the permissions boundary of role %s to %s" % (name, other)]
    assert boundary_of(iam, name) == other


def test_role_boundary_must_be_a_policy_arn(run_module, moto_endpoint, name, api_calls):
    result = run_module(iam_role, role_args(moto_endpoint, name, permissions_boundary="platform-boundary"))
    assert result["failed"] is True
    assert "permissions_boundary" in result["msg"] and "Allowed: the ARN of a managed policy" in result["msg"]
    assert api_calls == []


def test_roles_with_boundaries_in_two_reads(run_module, iam, moto_endpoint, name, boundary, api_calls):
    names = [name + "-a", name + "-b"]
    iam.create_role(RoleName=names[1], AssumeRolePolicyDocument=json.dumps(TRUST))
    args = roles_args(moto_endpoint, names)
    for role in args["roles"]:
        role["permissions_boundary"] = boundary
    first = run_module(iam_roles, args)
    assert not first.get("failed"), first
    assert [boundary_of(iam, n) for n in names] == [boundary, boundary]
    assert "set the permissions boundary of role %s to %s" % (names[1], boundary) in first["actions"]
    assert "set the permissions boundary of role %s to %s" % (names[0], boundary) not in first["actions"]
    assert [r["permissions_boundary"] for r in first["roles"]] == [boundary, boundary]
    api_calls.clear()
    again = run_module(iam_roles, args)
    assert again["changed"] is False, again["actions"]
    assert api_calls == ["GetAccountAuthorizationDetails", "ListRoles"]
    assert [r["permissions_boundary"] for r in again["roles"]] == [boundary, boundary]
    args["roles"][0]["permissions_boundary"] = "arn:aws:iam::123456789012:role/not-a-policy"
    refused = run_module(iam_roles, args)
    assert refused["failed"] is True and "roles[0].permissions_boundary" in refused["msg"]


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
