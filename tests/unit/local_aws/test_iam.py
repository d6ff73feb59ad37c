"""IAM enforced (scripts/local_aws/iam.py) with moto in this process: the deployment role
with the project's own trust and policies, rendered by Ansible from
roles/foundation/vars/main.yml, assumed the way the session role assumes it."""
from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from strict_harness import InProcess, render_foundation

SERVICE_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"


@pytest.fixture(scope="module")
def rendered():
    return render_foundation()


@pytest.fixture(scope="module")
def world(rendered):
    """moto, for this module, with the deployment role made by the administrator (static
    keys) as the foundation role makes it: trust, inline IAM policy, PowerUserAccess. Loading
    AWS's managed policies into moto takes seconds, so the tests share one moto and make
    their own names."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        patch.delenv("MOTO_ACCOUNT_ID", raising=False)
        with mock_aws():
            env = InProcess()
            admin = env.client("iam", account=rendered["target_account"])
            admin.create_role(RoleName=rendered["deployment_role_name"], MaxSessionDuration=3600,
                              AssumeRolePolicyDocument=json.dumps(rendered["deployment_trust"]))
            admin.put_role_policy(RoleName=rendered["deployment_role_name"],
                                  PolicyName=rendered["deployment_policy_name"],
                                  PolicyDocument=json.dumps(rendered["deployment_policy"]))
            admin.attach_role_policy(RoleName=rendered["deployment_role_name"], PolicyArn=rendered["power_user_arn"])
            env.admin = admin
            yield env


@pytest.fixture()
def aws(world):
    world.iam.usage.reset()
    behaviours = list(world.strict.behaviours)
    yield world
    world.strict.behaviours[:] = behaviours


def account_trust(account):
    """A trust policy that delegates to the account (its root)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::%s:root" % account}}]})


def assume(env, rendered, external_id="__right__", account=None, role_arn=None, **extra):
    sts = env.client("sts", account=account or rendered["orchestration_account"])
    if external_id == "__right__":
        external_id = rendered["external_id"]
    kwargs = dict(extra)
    if external_id is not None:
        kwargs["ExternalId"] = external_id
    return sts.assume_role(RoleArn=role_arn or rendered["deployment_role_arn"], RoleSessionName="unit",
                           **kwargs)["Credentials"]


def session_arn(rendered, role_name=None, session="unit"):
    return "arn:aws:sts::%s:assumed-role/%s/%s" % (rendered["target_account"],
                                                   role_name or rendered["deployment_role_name"], session)


def denied(excinfo):
    error = excinfo.value.response["Error"]
    return error["Code"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Message"]


# -- the deployment role's own policies ----------------------------------------------------------


def boundary(aws, rendered):
    """The platform's permissions boundary, as bootstrap.yml makes it."""
    try:
        aws.admin.create_policy(PolicyName=rendered["boundary_name"],
                                PolicyDocument=json.dumps(rendered["boundary_policy"]))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    return rendered["boundary_arn"]


def test_a_request_the_policy_allows_is_allowed(aws, rendered):
    creds = assume(aws, rendered)
    iam = aws.assumed("iam", creds)
    name = "%s-node-test" % rendered["prefix"]
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST),
                    PermissionsBoundary=boundary(aws, rendered), Tags=[{"Key": "team", "Value": "obs"}])
    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    assert aws.admin.get_role(RoleName=name)["Role"]["RoleName"] == name
    vpc = aws.assumed("ec2", creds).create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    assert vpc.startswith("vpc-")
    assert aws.calls[-1].notes["iam"] == "allowed"


def test_a_role_without_the_platform_boundary_is_refused(aws, rendered):
    """Defect 10: the deployment role could make itself an administrator through a role of its
    prefix without a boundary; it may create roles and grant them policies only with the
    platform's boundary, and may not change or remove the boundary."""
    arn = boundary(aws, rendered)
    creds = assume(aws, rendered)
    iam = aws.assumed("iam", creds)
    name = "%s-unbounded" % rendered["prefix"]
    with pytest.raises(ClientError) as unbounded:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST))
    assert unbounded.value.response["Error"]["Code"] == "AccessDenied"
    assert "iam:CreateRole on resource: arn:aws:iam::%s:role/%s" % (rendered["target_account"], name) \
        in unbounded.value.response["Error"]["Message"]
    other = "arn:aws:iam::%s:policy/%s-wider" % (rendered["target_account"], rendered["prefix"])
    with pytest.raises(ClientError, match="not authorized to perform: iam:CreateRole"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST), PermissionsBoundary=other)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST), PermissionsBoundary=arn)
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    iam.attach_role_policy(RoleName=name, PolicyArn=admin)  # granted, but the boundary caps it
    for forbidden in (lambda: iam.delete_role_permissions_boundary(RoleName=name),
                      lambda: iam.create_policy_version(PolicyArn=arn, SetAsDefault=True, PolicyDocument=json.dumps(
                          {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})),
                      lambda: iam.delete_policy(PolicyArn=arn)):
        with pytest.raises(ClientError) as denied:
            forbidden()
        assert "with an explicit deny in an identity-based policy" in denied.value.response["Error"]["Message"]


def test_a_role_outside_the_prefix_is_denied_with_the_exact_wire_error(aws, rendered):
    creds = assume(aws, rendered)
    iam = aws.assumed("iam", creds)
    with pytest.raises(ClientError) as excinfo:
        iam.create_role(RoleName="other-team-role", AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST))
    assert denied(excinfo) == ("AccessDenied", 403, (
        "User: %s is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::%s:role/other-team-role "
        "because no identity-based policy allows the iam:CreateRole action"
        % (session_arn(rendered), rendered["target_account"])))
    assert excinfo.value.response["Error"]["Type"] == "Sender"
    # refused before moto: the role does not exist
    with pytest.raises(ClientError, match="NoSuchEntity"):
        aws.admin.get_role(RoleName="other-team-role")


def test_the_explicit_deny_on_the_deployment_role_itself_wins(aws, rendered):
    """Defect 1: a run under the deployment role cannot update that role (KeepTheAccessRolesFixed),
    though ManagePlatformRoles allows iam:PutRolePolicy on <prefix>-* roles."""
    creds = assume(aws, rendered)
    iam = aws.assumed("iam", creds)
    with pytest.raises(ClientError) as excinfo:
        iam.put_role_policy(RoleName=rendered["deployment_role_name"], PolicyName=rendered["deployment_policy_name"],
                            PolicyDocument=json.dumps(rendered["deployment_policy"]))
    assert denied(excinfo) == ("AccessDenied", 403, (
        "User: %s is not authorized to perform: iam:PutRolePolicy on resource: %s with an explicit deny in an "
        "identity-based policy" % (session_arn(rendered), rendered["deployment_role_arn"])))
    for call in (lambda: iam.tag_role(RoleName=rendered["deployment_role_name"], Tags=[{"Key": "a", "Value": "b"}]),
                 lambda: iam.detach_role_policy(RoleName=rendered["deployment_role_name"], PolicyArn=POWER_USER)):
        with pytest.raises(ClientError, match="explicit deny"):
            call()
    usage = aws.iam.usage.as_dict()["roles"][rendered["deployment_role_arn"]]
    assert usage["statements"]["%s/KeepTheAccessRolesFixed" % rendered["deployment_policy_name"]] == {
        "iam:PutRolePolicy": 1, "iam:TagRole": 1, "iam:DetachRolePolicy": 1}
    # reading the role stays allowed
    assert iam.get_role(RoleName=rendered["deployment_role_name"])["Role"]["Arn"] == rendered["deployment_role_arn"]


def test_an_operation_without_a_rule_is_refused_by_name(aws, rendered):
    iam = aws.assumed("iam", assume(aws, rendered))
    with pytest.raises(ClientError) as excinfo:
        iam.create_user(UserName="%s-ci" % rendered["prefix"])
    code, status, message = denied(excinfo)
    assert (code, status) == ("AccessDenied", 403)
    assert "no IAM authorization rule for iam CreateUser" in message


def test_static_keys_are_not_restricted(aws, rendered):
    aws.admin.create_user(UserName="anyone")
    assert aws.calls[-1].notes.get("iam") is None


def test_policy_changes_take_effect_on_the_next_request(aws, rendered):
    creds = assume(aws, rendered)
    ec2 = aws.assumed("ec2", creds)
    ec2.describe_vpcs()
    aws.admin.detach_role_policy(RoleName=rendered["deployment_role_name"], PolicyArn=POWER_USER)
    try:
        with pytest.raises(ClientError) as excinfo:
            ec2.describe_vpcs()
        assert denied(excinfo)[:2] == ("UnauthorizedOperation", 403)
    finally:
        aws.admin.attach_role_policy(RoleName=rendered["deployment_role_name"], PolicyArn=POWER_USER)
    ec2.describe_vpcs()


def test_a_condition_key_that_cannot_be_evaluated_denies_loudly(aws, rendered):
    name = "%s-odd" % rendered["prefix"]
    aws.admin.create_role(RoleName=name, AssumeRolePolicyDocument=account_trust(rendered["target_account"]))
    aws.admin.put_role_policy(RoleName=name, PolicyName="odd", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Sid": "Odd", "Effect": "Allow", "Action": "ec2:DescribeVpcs", "Resource": "*",
            "Condition": {"StringEquals": {"aws:FutureKey": "x"}}}]}))
    creds = assume(aws, rendered, None, account=rendered["target_account"],
                   role_arn="arn:aws:iam::%s:role/%s" % (rendered["target_account"], name))
    with pytest.raises(ClientError) as excinfo:
        aws.assumed("ec2", creds).describe_vpcs()
    assert "cannot evaluate the condition key aws:FutureKey of odd statement Odd" in denied(excinfo)[2]


# -- KMS: the key policy as well ----------------------------------------------------------------


def test_kms_use_through_a_service_is_checked_against_the_key_policy(aws, rendered):
    creds = assume(aws, rendered)
    kms = aws.assumed("kms", creds)
    platform_key = kms.create_key(Policy=json.dumps(rendered["kms_policy"]))["KeyMetadata"]["Arn"]
    secrets = aws.assumed("secretsmanager", creds)
    secrets.create_secret(Name="honeyhive/test/kms-a", SecretString="s", KmsKeyId=platform_key)
    assert ("kms:GenerateDataKey" in aws.iam.usage.as_dict()["roles"][rendered["deployment_role_arn"]]["actions"])
    # a key whose policy trusts neither the account nor the role: PowerUserAccess does not help
    closed = aws.client("kms", account=rendered["target_account"]).create_key(Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                                "Principal": {"AWS": "arn:aws:iam::444455556666:root"}}]}))
    closed_arn = closed["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as excinfo:
        secrets.create_secret(Name="honeyhive/test/kms-b", SecretString="s", KmsKeyId=closed_arn)
    assert denied(excinfo) == ("AccessDeniedException", 400, (
        "User: %s is not authorized to perform: kms:GenerateDataKey on resource: %s because no resource-based "
        "policy allows the kms:GenerateDataKey action (needed by secretsmanager:CreateSecret: kms-via-secretsmanager)"
        % (session_arn(rendered), closed_arn)))
    with pytest.raises(ClientError, match="kms:DescribeKey on resource: %s because no resource-based" % closed_arn):
        kms.describe_key(KeyId=closed_arn)


# -- sts:AssumeRole -----------------------------------------------------------------------------


def test_assume_role_needs_the_right_external_id(aws, rendered):
    expected = ("AccessDenied", 403, "User: arn:aws:iam::%s:root is not authorized to perform: sts:AssumeRole on "
                "resource: %s" % (rendered["orchestration_account"], rendered["deployment_role_arn"]))
    for external_id in (None, "wrong-external-id"):
        with pytest.raises(ClientError) as excinfo:
            assume(aws, rendered, external_id)
        assert denied(excinfo) == expected, external_id
    assert assume(aws, rendered)["AccessKeyId"]


def test_assume_role_checks_the_trust_policy_principal(aws, rendered):
    # the right ExternalId from an account the trust does not name
    with pytest.raises(ClientError) as excinfo:
        assume(aws, rendered, account="999988887777")
    assert denied(excinfo)[2].startswith("User: arn:aws:iam::999988887777:root is not authorized")
    # a role only EC2 may assume
    name = "%s-node" % rendered["prefix"]
    aws.admin.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST))
    with pytest.raises(ClientError, match="not authorized to perform: sts:AssumeRole"):
        assume(aws, rendered, None, account=rendered["target_account"],
               role_arn="arn:aws:iam::%s:role/%s" % (rendered["target_account"], name))
    # a role that does not exist
    with pytest.raises(ClientError, match="not authorized to perform: sts:AssumeRole"):
        assume(aws, rendered, role_arn="arn:aws:iam::%s:role/%s-nothing" % (rendered["target_account"],
                                                                            rendered["prefix"]))


def test_assume_role_durations(aws, rendered):
    with pytest.raises(ClientError) as excinfo:
        assume(aws, rendered, DurationSeconds=7200)
    assert denied(excinfo) == ("ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration "
                                                       "set for this role.")
    # role chaining: from the deployment role's session into a role that allows 4 hours
    name = "%s-chained" % rendered["prefix"]
    aws.admin.create_role(RoleName=name, MaxSessionDuration=14400, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": rendered["deployment_role_arn"]}}]}))
    sts = aws.assumed("sts", assume(aws, rendered))
    target = "arn:aws:iam::%s:role/%s" % (rendered["target_account"], name)
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=target, RoleSessionName="hop", DurationSeconds=7200)
    assert denied(excinfo)[2] == ("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed "
                                  "by role chaining.")
    assert sts.assume_role(RoleArn=target, RoleSessionName="hop", DurationSeconds=3600)["Credentials"]


# -- the wire format of each protocol --------------------------------------------------------------


def test_access_denied_in_each_services_wire_format(aws, rendered):
    name = "%s-nothing-allowed" % rendered["prefix"]
    aws.admin.create_role(RoleName=name, AssumeRolePolicyDocument=account_trust(rendered["target_account"]))
    creds = assume(aws, rendered, None, account=rendered["target_account"],
                   role_arn="arn:aws:iam::%s:role/%s" % (rendered["target_account"], name))
    cases = [
        ("ec2", lambda c: c.describe_vpcs(), "UnauthorizedOperation", 403, "ec2:DescribeVpcs"),
        ("iam", lambda c: c.list_roles(), "AccessDenied", 403, "iam:ListRoles"),
        ("route53", lambda c: c.list_hosted_zones(), "AccessDenied", 403, "route53:ListHostedZones"),
        ("kms", lambda c: c.list_keys(), "AccessDeniedException", 400, "kms:ListKeys"),
        ("eks", lambda c: c.list_clusters(), "AccessDeniedException", 403, "eks:ListClusters"),
        ("sqs", lambda c: c.list_queues(), "AccessDenied", 400, "sqs:ListQueues"),
        ("s3", lambda c: c.list_buckets(), "AccessDenied", 403, "s3:ListAllMyBuckets"),
    ]
    for service, call, code, status, action in cases:
        with pytest.raises(ClientError) as excinfo:
            call(aws.assumed(service, creds))
        got = denied(excinfo)
        assert got[:2] == (code, status), (service, got)
        assert got[2] == ("User: %s is not authorized to perform: %s on resource: * because no identity-based policy "
                          "allows the %s action" % (session_arn(rendered, name), action, action)), service


def test_the_usage_endpoint_reports_actions_and_statements(aws, rendered):
    creds = assume(aws, rendered)
    ec2 = aws.assumed("ec2", creds)
    ec2.describe_vpcs()
    ec2.describe_vpcs()
    answer = aws.strict.control("GET", "/_aws/iam/usage", b"")
    data = json.loads(answer.body)
    role = data["roles"][rendered["deployment_role_arn"]]
    assert role["actions"]["ec2:DescribeVpcs"] == 2
    assert role["statements"]["PowerUserAccess/#0"]["ec2:DescribeVpcs"] == 2
    assert rendered["deployment_policy_name"] in role["policies"] and "PowerUserAccess" in role["policies"]
    assert data["requests"] == 3 and data["ms_per_request"] > 0
    assert aws.strict.control("POST", "/_aws/iam/usage/reset", b"").status == 200
    assert json.loads(aws.strict.control("GET", "/_aws/iam/usage", b"").body)["roles"] == {}


def test_the_usage_report_names_used_actions_and_unused_grants(aws, rendered):
    from local_aws.iam import usage_report

    creds = assume(aws, rendered)
    iam = aws.assumed("iam", creds)
    name = "%s-report" % rendered["prefix"]
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST),
                    PermissionsBoundary=boundary(aws, rendered))
    iam.get_role(RoleName=name)
    iam.get_role(RoleName=name)
    aws.assumed("ec2", creds).describe_vpcs()
    with pytest.raises(ClientError):
        iam.delete_role(RoleName=rendered["deployment_role_name"])
    for _ in range(6):  # the caller that assumes the role makes more requests than the role does
        assume(aws, rendered)
    report = usage_report(json.loads(aws.strict.control("GET", "/_aws/iam/usage", b"").body))
    lines = report.splitlines()
    assert lines[0].startswith("IAM usage of %s: " % rendered["deployment_role_arn"])
    assert re.search(r"^  iam:GetRole +2$", report, re.M) and re.search(r"^  ec2:DescribeVpcs +1$", report, re.M)
    policy = rendered["deployment_policy_name"]
    roles_line = next(line for line in lines if line.startswith("  %s/ManagePlatformRoles: " % policy))
    assert roles_line.startswith("  %s/ManagePlatformRoles: 1 of 13 actions used (iam:GetRole); "
                                 "unused: iam:DeleteRole, " % policy)
    create_line = next(line for line in lines if line.startswith("  %s/CreateAndGrantOnlyWithTheBoundary: " % policy))
    assert create_line.startswith("  %s/CreateAndGrantOnlyWithTheBoundary: 1 of 6 actions used (iam:CreateRole); "
                                  % policy)
    assert "iam:CreateRole" not in create_line.split("unused:")[1]
    assert "  %s/KeepTheAccessRolesFixed (Deny): denied 1 request: iam:DeleteRole" % policy in lines
    assert "  PowerUserAccess/#0 (NotAction iam:*, organizations:*, account:*): a wildcard grant; used ec2 (1 action)" \
        in lines
    assert any(line.startswith("  User: %s is not authorized to perform: iam:DeleteRole" % session_arn(rendered))
               for line in lines)


def test_the_usage_script_fails_on_a_request_the_local_aws_had_no_rule_for(aws, rendered, tmp_path, capsys):
    import iam_usage
    from local_aws import authz

    creds = assume(aws, rendered)
    aws.assumed("ec2", creds).describe_vpcs()
    saved = tmp_path / "usage.json"
    saved.write_text(aws.strict.control("GET", "/_aws/iam/usage", b"").body.decode(), encoding="utf-8")
    assert iam_usage.main(["--file", str(saved), "--require-rules"]) == 0
    data = json.loads(saved.read_text(encoding="utf-8"))
    role = next(arn for arn in data["roles"] if ":role/" in arn)
    data["roles"][role]["denied"].append({"action": "kms:ListKeyPolicies", "resource": "*",
                                          "message": str(authz.NoRule("kms", "ListKeyPolicies"))})
    saved.write_text(json.dumps(data), encoding="utf-8")
    assert iam_usage.main(["--file", str(saved)]) == 0
    assert iam_usage.main(["--file", str(saved), "--require-rules"]) == 3
    assert "no IAM authorization rule for kms ListKeyPolicies" in capsys.readouterr().err


def test_resource_tags_come_from_the_emulators_state(aws, rendered):
    name = "%s-tag-scoped" % rendered["prefix"]
    account = rendered["target_account"]
    aws.admin.create_role(RoleName=name, AssumeRolePolicyDocument=account_trust(account))
    aws.admin.put_role_policy(RoleName=name, PolicyName="team", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Sid": "OwnSubnets", "Effect": "Allow", "Action": "ec2:ModifySubnetAttribute", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}]}))
    aws.admin.tag_role(RoleName=name, Tags=[{"Key": "team", "Value": "obs"}])
    admin_ec2 = aws.client("ec2", account=account)
    vpc = admin_ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ours = admin_ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", TagSpecifications=[
        {"ResourceType": "subnet", "Tags": [{"Key": "team", "Value": "obs"}]}])["Subnet"]["SubnetId"]
    theirs = admin_ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.2.0/24")["Subnet"]["SubnetId"]
    creds = assume(aws, rendered, None, account=account, role_arn="arn:aws:iam::%s:role/%s" % (account, name))
    ec2 = aws.assumed("ec2", creds)
    ec2.modify_subnet_attribute(SubnetId=ours, MapPublicIpOnLaunch={"Value": False})
    with pytest.raises(ClientError) as excinfo:
        ec2.modify_subnet_attribute(SubnetId=theirs, MapPublicIpOnLaunch={"Value": False})
    assert denied(excinfo)[:2] == ("UnauthorizedOperation", 403)
    assert ":subnet/%s because no identity-based policy allows" % theirs in denied(excinfo)[2]
    # the tag changes, the decision follows
    admin_ec2.create_tags(Resources=[theirs], Tags=[{"Key": "team", "Value": "obs"}])
    ec2.modify_subnet_attribute(SubnetId=theirs, MapPublicIpOnLaunch={"Value": False})


def test_a_permissions_boundary_limits_the_role_and_conditions_on_it_hold(aws, rendered):
    account = rendered["target_account"]
    prefix = rendered["prefix"]
    boundary = aws.admin.create_policy(PolicyName="%s-boundary" % prefix, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:Describe*", "iam:*"],
                                                "Resource": "*"}]}))["Policy"]["Arn"]
    name = "%s-bounded" % prefix
    aws.admin.create_role(RoleName=name, AssumeRolePolicyDocument=account_trust(account), PermissionsBoundary=boundary)
    aws.admin.put_role_policy(RoleName=name, PolicyName="wide", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            {"Sid": "OnlyBoundedRoles", "Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*",
             "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}}]}))
    creds = assume(aws, rendered, None, account=account, role_arn="arn:aws:iam::%s:role/%s" % (account, name))
    ec2 = aws.assumed("ec2", creds)
    ec2.describe_vpcs()
    with pytest.raises(ClientError) as excinfo:
        ec2.create_vpc(CidrBlock="10.8.0.0/16")
    assert denied(excinfo)[2].endswith("because no permissions boundary allows the ec2:CreateVpc action")
    iam = aws.assumed("iam", creds)
    with pytest.raises(ClientError, match="no identity-based policy allows the iam:CreateRole action"):
        iam.create_role(RoleName="%s-unbounded" % prefix, AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST))
    iam.create_role(RoleName="%s-also-bounded" % prefix, AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST),
                    PermissionsBoundary=boundary)
    usage = aws.iam.usage.as_dict()["roles"]["arn:aws:iam::%s:role/%s" % (account, name)]
    assert usage["statements"]["wide/OnlyBoundedRoles"] == {"iam:CreateRole": 1}
    assert "boundary %s-boundary" % prefix in usage["policies"]
