"""The local AWS Backup (scripts/local_aws/backup.py, and moto_fixes' plan-name fix): backup
selections and plan updates served, recovery points kept and counted, and what AWS refuses
refused.

boto3 clients talk to ``moto.mock_aws`` through the strict harness (strict_harness.py), each
request going through :class:`LocalBackup` first; the authorization rules of the operations
(authz.py) are checked against the IAM catalogue beside them.
"""
from __future__ import annotations

import json

import botocore.exceptions
import pytest
from moto import mock_aws

from strict_harness import InProcess, REGION
from local_aws import authz, moto_fixes
from local_aws.backup import LocalBackup
from local_aws.policy import Caller

ACCOUNT = "123456789012"  # moto's default account: the harness's static keys
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                                                  "Action": "sts:AssumeRole"}]}
VAULT = "hh-backups-test-us-west-2"
BUCKET = "arn:aws:s3:::hh-logs-test-us-west-2"
DB = "arn:aws:rds:%s:%s:db:hh-postgres-test-us-west-2" % (REGION, ACCOUNT)


@pytest.fixture
def env():
    moto_fixes.apply()
    with mock_aws():
        harness = InProcess("none")
        harness.backup_behaviour = harness.strict.add(LocalBackup(harness.strict))
        harness.key = harness.client("kms").create_key()["KeyMetadata"]["Arn"]
        iam = harness.client("iam")
        harness.role = iam.create_role(RoleName="hh-backup", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        harness.other_role = iam.create_role(RoleName="hh-other", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        harness.backup = harness.client("backup")
        harness.backup.create_backup_vault(BackupVaultName=VAULT, EncryptionKeyArn=harness.key)
        yield harness


def rule(**overrides):
    out = {"RuleName": "daily", "TargetBackupVaultName": VAULT, "ScheduleExpression": "cron(0 5 ? * * *)",
           "StartWindowMinutes": 60, "CompletionWindowMinutes": 1440, "Lifecycle": {"DeleteAfterDays": 35}}
    out.update(overrides)
    return out


def plan(env, name="hh-backups", **overrides):
    return env.backup.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": [rule(**overrides)]})["BackupPlanId"]


def select(env, plan_id, name="platform-data", role=None, resources=(DB, BUCKET)):
    return env.backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": name, "IamRoleArn": role or env.role, "Resources": list(resources)})["SelectionId"]


def refused(call, code, message=None):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert error["Code"] == code, error
    if message:
        assert message in error["Message"], error


def test_a_selection_is_made_read_listed_and_deleted(env):
    plan_id = plan(env)
    selection_id = select(env, plan_id)
    got = env.backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert got["BackupSelection"]["Resources"] == [DB, BUCKET]
    assert got["BackupSelection"]["IamRoleArn"] == env.role
    assert got["BackupSelection"]["ListOfTags"] == [] and got["BackupSelection"]["NotResources"] == []
    assert got["BackupSelection"]["Conditions"] == {"StringEquals": [], "StringNotEquals": [], "StringLike": [],
                                                    "StringNotLike": []}
    listed = env.backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert [(s["SelectionId"], s["SelectionName"], s["IamRoleArn"]) for s in listed] == [
        (selection_id, "platform-data", env.role)]
    refused(lambda: select(env, plan_id), "AlreadyExistsException")
    env.backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert env.backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    refused(lambda: env.backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id),
            "ResourceNotFoundException")


def test_a_selection_needs_a_plan_and_a_role_that_aws_backup_may_assume(env):
    refused(lambda: select(env, "no-such-plan"), "InvalidParameterValueException", "no-such-plan")
    plan_id = plan(env)
    refused(lambda: select(env, plan_id, role="arn:aws:iam::%s:role/missing" % ACCOUNT),
            "InvalidParameterValueException", "does not exist")
    refused(lambda: select(env, plan_id, role=env.other_role), "InvalidParameterValueException",
            "backup.amazonaws.com")
    refused(lambda: select(env, plan_id, resources=("not-an-arn",)), "InvalidParameterValueException")


def test_a_plan_with_selections_is_not_deleted(env):
    plan_id = plan(env)
    selection_id = select(env, plan_id)
    refused(lambda: env.backup.delete_backup_plan(BackupPlanId=plan_id), "InvalidRequestException",
            "Related backup plan selections must be deleted prior to backup plan deletion")
    env.backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    env.backup.delete_backup_plan(BackupPlanId=plan_id)
    assert env.backup.list_backup_plans()["BackupPlansList"] == []
    # AWS frees the name of a deleted plan (moto kept it)
    assert plan(env) != plan_id


def test_update_replaces_the_rules_keeps_the_rule_id_and_gives_a_new_version(env):
    plan_id = plan(env)
    before = env.backup.get_backup_plan(BackupPlanId=plan_id)
    copy = "arn:aws:backup:us-east-1:%s:backup-vault:%s" % (ACCOUNT, VAULT)
    env.backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan={"BackupPlanName": "hh-backups", "Rules": [rule(
        Lifecycle={"DeleteAfterDays": 60}, CopyActions=[{"DestinationBackupVaultArn": copy,
                                                         "Lifecycle": {"DeleteAfterDays": 30}}])]})
    after = env.backup.get_backup_plan(BackupPlanId=plan_id)
    got = after["BackupPlan"]["Rules"][0]
    assert got["Lifecycle"] == {"DeleteAfterDays": 60}
    assert got["CopyActions"] == [{"DestinationBackupVaultArn": copy, "Lifecycle": {"DeleteAfterDays": 30}}]
    assert got["RuleId"] == before["BackupPlan"]["Rules"][0]["RuleId"]
    assert after["VersionId"] != before["VersionId"]
    refused(lambda: env.backup.update_backup_plan(BackupPlanId="missing", BackupPlan={
        "BackupPlanName": "hh-backups", "Rules": [rule()]}), "ResourceNotFoundException")


@pytest.mark.parametrize("overrides,text", [
    ({"TargetBackupVaultName": "missing"}, "missing does not exist"),
    ({"Lifecycle": {"DeleteAfterDays": 0}}, "at least 1"),
    ({"Lifecycle": {"DeleteAfterDays": 100, "MoveToColdStorageAfterDays": 30}}, "90 days"),
    ({"EnableContinuousBackup": True, "Lifecycle": {"DeleteAfterDays": 36}}, "35 days"),
    ({"CopyActions": [{"DestinationBackupVaultArn": "arn:aws:s3:::not-a-vault"}]}, "DestinationBackupVaultArn"),
])
def test_plans_aws_refuses_are_refused(env, overrides, text):
    refused(lambda: plan(env, **overrides), "InvalidParameterValueException", text)


def test_continuous_backup_within_35_days_is_taken(env):
    plan_id = plan(env, EnableContinuousBackup=True, Lifecycle={"DeleteAfterDays": 35})
    assert env.backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"][0]["EnableContinuousBackup"]


def test_a_vault_needs_an_enabled_key_of_its_region(env):
    refused(lambda: env.backup.create_backup_vault(
        BackupVaultName="v2", EncryptionKeyArn="arn:aws:kms:%s:%s:key/0000" % (REGION, ACCOUNT)),
        "InvalidParameterValueException", "does not exist")
    other = env.client("kms", region="us-east-1").create_key()["KeyMetadata"]["Arn"]
    refused(lambda: env.backup.create_backup_vault(BackupVaultName="v2", EncryptionKeyArn=other),
            "InvalidParameterValueException", "region")
    env.client("kms").disable_key(KeyId=env.key.rsplit("/", 1)[-1])
    refused(lambda: env.backup.create_backup_vault(BackupVaultName="v2", EncryptionKeyArn=env.key),
            "InvalidParameterValueException", "Disabled")
    described = env.backup.describe_backup_vault(BackupVaultName=VAULT)
    assert described["EncryptionKeyArn"] == env.key and described["NumberOfRecoveryPoints"] == 0


def test_a_vault_with_recovery_points_is_kept(env):
    assert env.backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)["RecoveryPoints"] == []
    point = env.backup_behaviour.add_recovery_point(ACCOUNT, REGION, VAULT, DB)
    listed = env.backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)["RecoveryPoints"]
    assert [(p["RecoveryPointArn"], p["ResourceArn"], p["Status"]) for p in listed] == [(point, DB, "COMPLETED")]
    assert env.backup.describe_backup_vault(BackupVaultName=VAULT)["NumberOfRecoveryPoints"] == 1
    assert [v["NumberOfRecoveryPoints"] for v in env.backup.list_backup_vaults()["BackupVaultList"]] == [1]
    refused(lambda: env.backup.delete_backup_vault(BackupVaultName=VAULT), "InvalidRequestException",
            "contains 1 recovery points")
    env.backup_behaviour.recovery_points.clear()
    env.backup.delete_backup_vault(BackupVaultName=VAULT)
    # AWS answers a vault that does not exist so (amazon.aws's backup_vault relies on it)
    refused(lambda: env.backup.describe_backup_vault(BackupVaultName=VAULT), "AccessDeniedException",
            "Insufficient privileges")
    refused(lambda: env.backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT),
            "ResourceNotFoundException")


# -- authorization ------------------------------------------------------------------------------

ROLE = "arn:aws:iam::%s:role/hh-deployment" % ACCOUNT
CALLER = Caller(kind="assumed-role", account=ACCOUNT, arn="arn:aws:sts::%s:assumed-role/hh-deployment/run" % ACCOUNT,
                role_arn=ROLE, session_name="run")


class _State(authz.State):
    def tags(self, arn):
        return {}

    def kms_key(self, account, region, ref):
        return {"arn": "arn:aws:kms:%s:%s:key/k-1" % (region, account), "policy": "{}", "tags": {}}


def _checks(operation, params):
    return [(c.action, c.resource) for c in authz.checks("backup", operation, params, REGION, CALLER, _State())]


def test_backup_requests_are_authorized_on_the_vault_the_plan_and_the_passed_role():
    vault = "arn:aws:backup:%s:%s:backup-vault:%s" % (REGION, ACCOUNT, VAULT)
    plan_arn = "arn:aws:backup:%s:%s:backup-plan:p-1" % (REGION, ACCOUNT)
    assert _checks("CreateBackupVault", {"BackupVaultName": VAULT, "EncryptionKeyArn": "k-1"}) == [
        ("backup:CreateBackupVault", vault), ("kms:CreateGrant", "arn:aws:kms:%s:%s:key/k-1" % (REGION, ACCOUNT)),
        ("kms:DescribeKey", "arn:aws:kms:%s:%s:key/k-1" % (REGION, ACCOUNT))]
    assert _checks("CreateBackupPlan", {"BackupPlan": {}}) == [
        ("backup:CreateBackupPlan", "arn:aws:backup:%s:%s:backup-plan:*" % (REGION, ACCOUNT))]
    assert _checks("CreateBackupSelection", {"BackupPlanId": "p-1", "BackupSelection": {
        "SelectionName": "s", "IamRoleArn": ROLE}}) == [("backup:CreateBackupSelection", plan_arn),
                                                       ("iam:PassRole", ROLE)]
    passed = authz.checks("backup", "CreateBackupSelection", {"BackupPlanId": "p-1", "BackupSelection": {
        "SelectionName": "s", "IamRoleArn": ROLE}}, REGION, CALLER, _State())[1]
    assert passed.context["iam:PassedToService"] == "backup.amazonaws.com"
    assert _checks("ListRecoveryPointsByBackupVault", {"BackupVaultName": VAULT}) == [
        ("backup:ListRecoveryPointsByBackupVault", vault)]
    assert _checks("ListTags", {"ResourceArn": plan_arn}) == [("backup:ListTags", plan_arn)]
    assert _checks("ListBackupPlans", {}) == [("backup:ListBackupPlans", "*")]
