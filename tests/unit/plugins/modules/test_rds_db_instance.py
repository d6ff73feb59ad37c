"""honeyhive.platform.rds_db_instance.

Create (without and with waiting), read back, idempotence, check mode, in-place changes,
refused changes, snapshot restore and deletion run against the moto server, which keeps
the master password in a Secrets Manager secret of its own (ManageMasterUserPassword) and
answers every call at once with the instance ``available``. moto does not keep Performance
Insights, so Performance Insights, the point-in-time restore followed by ModifyDBInstance,
pending changes and waiting on an instance that is still creating are checked with
botocore's Stubber on the real RDS service model.
"""
from __future__ import annotations

import datetime
import itertools
import json
import uuid

import pytest
from botocore.stub import ANY

from ansible_collections.honeyhive.platform.plugins.modules import rds_db_instance

MUTATING = ("Create", "Modify", "Delete", "Restore", "AddTags", "RemoveTags", "Reboot")
MONITORING_ROLE = "arn:aws:iam::123456789012:role/rds-monitoring"


@pytest.fixture
def rds(moto_client):
    return moto_client("rds")


@pytest.fixture
def kms(moto_client):
    return moto_client("kms")


@pytest.fixture
def secretsmanager(moto_client):
    return moto_client("secretsmanager")


@pytest.fixture
def name():
    return "pg-%s" % uuid.uuid4().hex[:10]


@pytest.fixture
def network(moto_client, rds):
    """A DB subnet group of two subnets, a security group, a parameter group and an option group."""
    ec2 = moto_client("ec2")
    suffix = uuid.uuid4().hex[:8]
    vpc_id = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.30.%d.0/24" % index, AvailabilityZone="us-west-2" + zone)["Subnet"]["SubnetId"]
        for index, zone in ((1, "a"), (2, "b"))
    ]
    security_groups = [
        ec2.create_security_group(GroupName="db-%s-%d" % (suffix, i), Description="db", VpcId=vpc_id)["GroupId"] for i in (1, 2)
    ]
    rds.create_db_subnet_group(DBSubnetGroupName="db-" + suffix, DBSubnetGroupDescription="db", SubnetIds=subnets)
    rds.create_db_parameter_group(DBParameterGroupName="pg16-" + suffix, DBParameterGroupFamily="postgres16", Description="pg")
    # moto knows PostgreSQL option groups up to major version 13 only, and does not match them to the engine version
    rds.create_option_group(OptionGroupName="og16-" + suffix, EngineName="postgres", MajorEngineVersion="13",
                            OptionGroupDescription="og")
    return dict(subnet_group="db-" + suffix, security_groups=security_groups, parameter_group="pg16-" + suffix,
                option_group="og16-" + suffix)


@pytest.fixture
def keys(kms):
    """Three KMS keys: storage, secret, another."""
    return [kms.create_key(Description="rds test %d" % i)["KeyMetadata"] for i in range(3)]


def args(moto_endpoint, **extra):
    base = dict(endpoint_url=moto_endpoint, region="us-west-2")
    base.update(extra)
    return base


def full(name, network, keys, **overrides):
    options = dict(
        name=name,
        engine_version="16.4",
        instance_class="db.t4g.medium",
        allocated_storage_gb=20,
        max_allocated_storage_gb=100,
        storage_type="gp3",
        kms_key_id=keys[0]["Arn"],
        master_username="honeyhive",
        master_user_secret_kms_key_id=keys[1]["Arn"],
        db_name="honeyhive",
        port=5432,
        subnet_group_name=network["subnet_group"],
        security_group_ids=[network["security_groups"][0]],
        parameter_group_name=network["parameter_group"],
        option_group_name=network["option_group"],
        backup_retention_days=7,
        preferred_backup_window="03:00-03:30",
        preferred_maintenance_window="sun:05:00-sun:06:00",
        multi_az=True,
        deletion_protection=False,
        monitoring_interval=60,
        monitoring_role_arn=MONITORING_ROLE,
        cloudwatch_logs_exports=["postgresql", "upgrade"],
        auto_minor_version_upgrade=True,
        copy_tags_to_snapshot=True,
        ca_certificate_identifier="rds-ca-rsa2048-g1",
        tags={"Environment": "test", "Owner": "platform"},
    )
    options.update(overrides)
    return options


def described(rds, name):
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def mutating(api_calls):
    return [call for call in api_calls if call.startswith(MUTATING)]


# ------------------------------------------------------------------ moto


def test_create_without_waiting_then_wait_reads_back_every_setting(
        run_module, rds, secretsmanager, network, keys, name, moto_endpoint, api_calls):
    options = full(name, network, keys)
    first = run_module(rds_db_instance, args(moto_endpoint, wait=False, _ansible_diff=True, **options))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["actions"] == ["create RDS DB instance %s" % name]
    assert first["diff"]["before"] == {}
    assert mutating(api_calls) == ["CreateDBInstance"]
    assert first["instance"]["identifier"] == name

    api_calls.clear()
    second = run_module(rds_db_instance, args(moto_endpoint, wait=True, **options))
    assert not second.get("failed"), second
    assert second["changed"] is False
    assert second["actions"] == []
    assert api_calls == ["DescribeDBInstances"]

    db = described(rds, name)
    assert db["DBInstanceStatus"] == "available" == second["instance"]["status"]
    assert db["Engine"] == "postgres"
    assert db["EngineVersion"] == "16.4"
    assert db["DBInstanceClass"] == "db.t4g.medium"
    assert db["AllocatedStorage"] == 20
    assert db["MaxAllocatedStorage"] == 100
    assert db["StorageType"] == "gp3"
    assert db["StorageEncrypted"] is True
    assert db["KmsKeyId"] == keys[0]["Arn"]
    assert db["MasterUsername"] == "honeyhive"
    assert db["DBName"] == "honeyhive"
    assert db["Endpoint"]["Port"] == 5432
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == network["subnet_group"]
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == [network["security_groups"][0]]
    assert db["DBParameterGroups"][0]["DBParameterGroupName"] == network["parameter_group"]
    assert db["OptionGroupMemberships"][0]["OptionGroupName"] == network["option_group"]
    assert db["BackupRetentionPeriod"] == 7
    assert db["PreferredBackupWindow"] == "03:00-03:30"
    assert db["PreferredMaintenanceWindow"] == "sun:05:00-sun:06:00"
    assert db["MultiAZ"] is True
    assert db["DeletionProtection"] is False
    assert db["MonitoringInterval"] == 60
    assert db["MonitoringRoleArn"] == MONITORING_ROLE
    assert sorted(db["EnabledCloudwatchLogsExports"]) == ["postgresql", "upgrade"]
    assert db["AutoMinorVersionUpgrade"] is True
    assert db["CopyTagsToSnapshot"] is True
    assert db["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert db["PubliclyAccessible"] is False
    assert {t["Key"]: t["Value"] for t in db["TagList"]} == {"Environment": "test", "Owner": "platform"}

    # the result mirrors it, in snake_case
    instance = second["instance"]
    assert instance["arn"] == db["DBInstanceArn"]
    assert instance["endpoint"] == {"address": db["Endpoint"]["Address"], "port": 5432}
    assert (instance["allocated_storage"], instance["max_allocated_storage"]) == (20, 100)
    assert instance["kms_key_id"] == keys[0]["Arn"]
    assert instance["db_subnet_group"] == network["subnet_group"]
    assert instance["vpc_security_group_ids"] == [network["security_groups"][0]]
    assert instance["parameter_group"] == network["parameter_group"]
    assert instance["option_group"] == network["option_group"]
    assert instance["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
    assert instance["backup_retention_period"] == 7
    assert instance["latest_restorable_time"].endswith("Z")
    assert instance["tags"] == {"Environment": "test", "Owner": "platform"}

    # RDS keeps the password in a secret of its own, encrypted with the given key
    secret = db["MasterUserSecret"]
    assert instance["master_user_secret"]["secret_arn"] == secret["SecretArn"]
    assert instance["master_user_secret"]["kms_key_id"] == keys[1]["Arn"] == secret["KmsKeyId"]
    stored = secretsmanager.describe_secret(SecretId=secret["SecretArn"])
    assert stored["OwningService"] == "rds"
    assert stored["KmsKeyId"] in (keys[1]["KeyId"], keys[1]["Arn"])
    # and nothing of it is in the results
    for result in (first, second):
        assert "password" not in json.dumps(result).lower()


def test_check_mode_makes_no_mutating_call(run_module, rds, network, keys, name, moto_endpoint, api_calls):
    options = full(name, network, keys)
    result = run_module(rds_db_instance, args(moto_endpoint, _ansible_check_mode=True, **options))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["actions"] == ["create RDS DB instance %s" % name]
    assert result["instance"]["arn"] is None
    assert result["instance"]["instance_class"] == "db.t4g.medium"
    assert result["instance"]["storage_encrypted"] is True
    assert mutating(api_calls) == []
    assert not [d for d in rds.describe_db_instances()["DBInstances"] if d["DBInstanceIdentifier"] == name]

    run_module(rds_db_instance, args(moto_endpoint, **options))
    api_calls.clear()
    changed = dict(options, backup_retention_days=14, instance_class="db.t4g.large", tags={"Environment": "prod"})
    result = run_module(rds_db_instance, args(moto_endpoint, _ansible_check_mode=True, _ansible_diff=True, **changed))
    assert result["changed"] is True
    assert result["instance"]["backup_retention_period"] == 14
    assert result["instance"]["instance_class"] == "db.t4g.large"
    assert result["instance"]["tags"] == {"Environment": "prod"}
    assert result["diff"]["before"]["backup_retention_period"] == 7
    assert result["diff"]["after"]["backup_retention_period"] == 14
    assert api_calls == ["DescribeDBInstances"]
    db = described(rds, name)
    assert (db["BackupRetentionPeriod"], db["DBInstanceClass"]) == (7, "db.t4g.medium")
    assert len(db["TagList"]) == 2


def test_modify_backup_days_and_tags(run_module, rds, network, keys, name, moto_endpoint, api_calls):
    options = full(name, network, keys)
    run_module(rds_db_instance, args(moto_endpoint, **options))
    api_calls.clear()
    changed = dict(options, backup_retention_days=14, security_group_ids=network["security_groups"],
                   tags={"Environment": "test", "Team": "db"})
    result = run_module(rds_db_instance, args(moto_endpoint, _ansible_diff=True, **changed))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert mutating(api_calls) == ["ModifyDBInstance", "RemoveTagsFromResource", "AddTagsToResource"]
    assert "backup_retention_days (7 -> 14)" in result["actions"][0]
    assert result["diff"]["before"]["backup_retention_period"] == 7
    assert result["diff"]["after"]["backup_retention_period"] == 14
    db = described(rds, name)
    assert db["BackupRetentionPeriod"] == 14 == result["instance"]["backup_retention_period"]
    assert sorted(g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]) == sorted(network["security_groups"])
    assert {t["Key"]: t["Value"] for t in db["TagList"]} == {"Environment": "test", "Team": "db"}
    assert result["instance"]["tags"] == {"Environment": "test", "Team": "db"}

    again = run_module(rds_db_instance, args(moto_endpoint, **changed))
    assert again["changed"] is False


def test_minor_engine_upgrade_and_storage_growth(run_module, rds, network, keys, name, moto_endpoint, api_calls):
    options = full(name, network, keys)
    run_module(rds_db_instance, args(moto_endpoint, **options))
    api_calls.clear()
    result = run_module(rds_db_instance, args(moto_endpoint, apply_immediately=True,
                                              **dict(options, engine_version="16.6", allocated_storage_gb=40)))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert mutating(api_calls) == ["ModifyDBInstance"]
    db = described(rds, name)
    assert (db["EngineVersion"], db["AllocatedStorage"]) == ("16.6", 40)

    # a newer minor version (an automatic upgrade) is left alone; an older major one is refused
    result = run_module(rds_db_instance, args(moto_endpoint, **dict(options, allocated_storage_gb=40)))
    assert result["changed"] is False
    # ansible-core 2.19 returns warnings as structured summaries
    assert "runs engine version 16.6, newer than engine_version 16.4" in json.dumps(result.get("warnings"))
    result = run_module(rds_db_instance, args(moto_endpoint, **dict(options, engine_version="15.8", allocated_storage_gb=40)))
    assert result["failed"] is True
    assert "Invalid value for option 'engine_version': '15.8'. RDS cannot downgrade" in result["msg"]


def test_major_engine_upgrade_needs_the_option(run_module, rds, network, keys, name, moto_endpoint, api_calls):
    options = full(name, network, keys)
    run_module(rds_db_instance, args(moto_endpoint, **options))
    api_calls.clear()
    result = run_module(rds_db_instance, args(moto_endpoint, **dict(options, engine_version="17.2")))
    assert result["failed"] is True
    assert "Invalid value for option 'engine_version': '17.2'" in result["msg"]
    assert "allow_major_version_upgrade: true" in result["msg"]
    assert mutating(api_calls) == []

    result = run_module(rds_db_instance, args(moto_endpoint, allow_major_version_upgrade=True, apply_immediately=True,
                                              **dict(options, engine_version="17.2")))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert described(rds, name)["EngineVersion"] == "17.2"


@pytest.mark.parametrize("option, value_of, fragment", [
    ("kms_key_id", lambda keys: keys[2]["Arn"], "RDS cannot change kms_key_id of an existing DB instance"),
    ("master_user_secret_kms_key_id", lambda keys: keys[2]["KeyId"], "The key of a secret RDS already manages is fixed"),
    ("master_username", lambda keys: "other", "RDS cannot change master_username"),
    ("db_name", lambda keys: "other", "RDS cannot change db_name"),
    ("allocated_storage_gb", lambda keys: 10, None),
])
def test_changes_rds_cannot_make_in_place_are_refused(
        run_module, rds, network, keys, name, moto_endpoint, api_calls, option, value_of, fragment):
    options = full(name, network, keys, allocated_storage_gb=30, max_allocated_storage_gb=None)
    run_module(rds_db_instance, args(moto_endpoint, **options))
    api_calls.clear()
    value = value_of(keys)
    if option == "allocated_storage_gb":
        value, fragment = 25, "RDS cannot shrink storage: RDS DB instance %s has 30 GiB" % name
    result = run_module(rds_db_instance, args(moto_endpoint, **dict(options, backup_retention_days=9, **{option: value})))
    assert result["failed"] is True
    assert ("Invalid value for option '%s': %r" % (option, value)) in result["msg"]
    assert fragment in result["msg"]
    assert api_calls == ["DescribeDBInstances"]
    assert described(rds, name)["BackupRetentionPeriod"] == 7


def test_unencrypted_instance_is_refused(run_module, rds, name, moto_endpoint, api_calls):
    rds.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.t4g.micro", Engine="postgres", EngineVersion="16.4",
                           AllocatedStorage=20, MasterUsername="honeyhive", MasterUserPassword="not-used-by-the-module")
    api_calls.clear()
    result = run_module(rds_db_instance, args(moto_endpoint, name=name, backup_retention_days=3))
    assert result["failed"] is True
    assert "is not encrypted" in result["msg"] and "'kms_key_id'" in result["msg"]
    assert mutating(api_calls) == []


def test_delete_with_final_snapshot(run_module, rds, secretsmanager, network, keys, name, moto_endpoint):
    created = run_module(rds_db_instance, args(moto_endpoint, **full(name, network, keys)))
    secret_arn = created["instance"]["master_user_secret"]["secret_arn"]
    result = run_module(rds_db_instance, args(moto_endpoint, name=name, state="absent", _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    snapshot = result["final_snapshot_identifier"]
    assert snapshot.startswith(name + "-final-") and len(snapshot) == len(name) + len("-final-") + 14
    assert result["actions"] == ["delete RDS DB instance %s after final snapshot %s" % (name, snapshot)]
    assert result["instance"] == {}
    assert result["diff"]["before"]["identifier"] == name
    assert result["diff"]["after"] == {}
    [described_snapshot] = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"]
    assert described_snapshot["DBInstanceIdentifier"] == name
    assert not [d for d in rds.describe_db_instances()["DBInstances"] if d["DBInstanceIdentifier"] == name]
    with pytest.raises(secretsmanager.exceptions.ResourceNotFoundException):
        secretsmanager.describe_secret(SecretId=secret_arn)

    again = run_module(rds_db_instance, args(moto_endpoint, name=name, state="absent"))
    assert again["changed"] is False
    assert again["instance"] == {}


def test_protected_instance_needs_remove_deletion_protection(run_module, rds, network, keys, name, moto_endpoint, api_calls):
    run_module(rds_db_instance, args(moto_endpoint, **full(name, network, keys, deletion_protection=True)))
    api_calls.clear()
    result = run_module(rds_db_instance, args(moto_endpoint, name=name, state="absent", skip_final_snapshot=True))
    assert result["failed"] is True
    assert "remove_deletion_protection" in result["msg"]
    assert mutating(api_calls) == []
    assert described(rds, name)["DeletionProtection"] is True

    api_calls.clear()
    result = run_module(rds_db_instance, args(moto_endpoint, name=name, state="absent", skip_final_snapshot=True,
                                              remove_deletion_protection=True, _ansible_check_mode=True))
    assert result["changed"] is True
    assert len(result["actions"]) == 2
    assert mutating(api_calls) == []

    result = run_module(rds_db_instance, args(moto_endpoint, name=name, state="absent", skip_final_snapshot=True,
                                              remove_deletion_protection=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert "final_snapshot_identifier" not in result
    assert not [d for d in rds.describe_db_instances()["DBInstances"] if d["DBInstanceIdentifier"] == name]
    assert not [s for s in rds.describe_db_snapshots()["DBSnapshots"] if s["DBInstanceIdentifier"] == name]


def test_restore_from_snapshot(run_module, rds, secretsmanager, network, keys, name, moto_endpoint, api_calls):
    options = full(name, network, keys)
    run_module(rds_db_instance, args(moto_endpoint, **options))
    rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=name + "-snap")
    target = name + "-restored"
    api_calls.clear()
    restore = dict(options, name=target, backup_retention_days=3, master_user_secret_kms_key_id=keys[2]["Arn"],
                   restore_from=dict(snapshot_identifier=name + "-snap"))
    result = run_module(rds_db_instance, args(moto_endpoint, **restore))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["actions"][0] == "restore RDS DB instance %s from snapshot %s-snap" % (target, name)
    assert "RestoreDBInstanceFromDBSnapshot" in api_calls and "CreateDBInstance" not in api_calls
    db = described(rds, target)
    assert db["BackupRetentionPeriod"] == 3
    assert db["StorageEncrypted"] is True and db["KmsKeyId"] == keys[0]["Arn"]
    assert db["MasterUserSecret"]["KmsKeyId"] == keys[2]["Arn"]
    assert db["MasterUserSecret"]["SecretArn"] != described(rds, name)["MasterUserSecret"]["SecretArn"]
    assert secretsmanager.describe_secret(SecretId=db["MasterUserSecret"]["SecretArn"])["KmsKeyId"] in (keys[2]["KeyId"], keys[2]["Arn"])

    again = run_module(rds_db_instance, args(moto_endpoint, **restore))
    assert again["changed"] is False, again["actions"]


def test_restore_source_with_another_master_username_is_refused_before_restoring(
        run_module, rds, network, keys, name, moto_endpoint, api_calls):
    run_module(rds_db_instance, args(moto_endpoint, **full(name, network, keys)))
    api_calls.clear()
    result = run_module(rds_db_instance, args(moto_endpoint, **full(
        name + "-restored", network, keys, master_username="someone", restore_from=dict(source_instance=name,
                                                                                          use_latest_restorable_time=True))))
    assert result["failed"] is True
    assert "Invalid value for option 'master_username': 'someone'" in result["msg"]
    assert "A restored DB instance takes master_username from its source, and source instance %s has 'honeyhive'" % name in result["msg"]
    assert mutating(api_calls) == []


def test_create_needs_the_settings_of_a_new_instance(run_module, aws_env, name, moto_endpoint, api_calls):
    result = run_module(rds_db_instance, args(moto_endpoint, name=name, instance_class="db.t4g.micro"))
    assert result["failed"] is True
    assert "Options 'engine_version', 'allocated_storage_gb', 'master_username' are required to create" in result["msg"]
    assert mutating(api_calls) == []


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(name="Bad_Name"), "Invalid value for option 'name': 'Bad_Name'"),
        (dict(name="a--b"), "Invalid value for option 'name': 'a--b'"),
        (dict(backup_retention_days=0), "Invalid value for option 'backup_retention_days': 0. Allowed: an integer from 1 to 35."),
        (dict(backup_retention_days=36), "Invalid value for option 'backup_retention_days': 36"),
        (dict(performance_insights=True, performance_insights_retention_days=30),
         "Invalid value for option 'performance_insights_retention_days': 30. Allowed: 7, a multiple of 31 up to 713"),
        (dict(performance_insights_retention_days=7), "Option 'performance_insights_retention_days' needs 'performance_insights: true'"),
        (dict(monitoring_interval=60), "Option 'monitoring_role_arn' is required when monitoring_interval is 60"),
        (dict(monitoring_interval=2, monitoring_role_arn=MONITORING_ROLE),
         "monitoring_interval must be one of: 0, 1, 5, 10, 15, 30, 60, got: 2"),
        (dict(security_group_ids=[]), "Invalid value for option 'security_group_ids': []"),
        (dict(monitoring_role_arn=MONITORING_ROLE), "Invalid value for option 'monitoring_interval': None"),
        (dict(monitoring_interval=30, monitoring_role_arn="role"), "Invalid value for option 'monitoring_role_arn': 'role'"),
        (dict(allocated_storage_gb=100, max_allocated_storage_gb=50),
         "Invalid value for option 'max_allocated_storage_gb': 50. Allowed: at least allocated_storage_gb (100)"),
        (dict(allocated_storage_gb=10), "Invalid value for option 'allocated_storage_gb': 10. Allowed: an integer from 20 to 65536."),
        (dict(engine_version="16"), "Invalid value for option 'engine_version': '16'"),
        (dict(instance_class="t3.micro"), "Invalid value for option 'instance_class': 't3.micro'"),
        (dict(preferred_backup_window="03:00-03:10"), "Invalid value for option 'preferred_backup_window': '03:00-03:10'"),
        (dict(preferred_maintenance_window="sunday:05:00-sun:06:00"), "Invalid value for option 'preferred_maintenance_window'"),
        (dict(security_group_ids=["default"]), "Invalid value for option 'security_group_ids': 'default'"),
        (dict(kms_key_id="my key"), "Invalid value for option 'kms_key_id': 'my key'"),
        (dict(cloudwatch_logs_exports=["error"]), "cloudwatch_logs_exports"),
        (dict(engine="mysql"), "engine"),
        (dict(storage_type="io1"), "storage_type"),
        (dict(restore_from=dict(source_instance="src")), "exactly one of restore_time and use_latest_restorable_time"),
        (dict(restore_from=dict(source_instance="src", snapshot_identifier="snap")), "exactly one of source_instance"),
        (dict(restore_from=dict(source_instance="src", restore_time="yesterday")),
         "Invalid value for option 'restore_from.restore_time': 'yesterday'"),
        (dict(tags={"aws:x": "y"}), "Invalid value for option 'tags'"),
        (dict(state="absent", final_snapshot_identifier="1-bad"), "Invalid value for option 'final_snapshot_identifier': '1-bad'"),
        (dict(wait_timeout=-1), "Invalid value for option 'wait_timeout': -1"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, aws_env, moto_endpoint, api_calls, extra, fragment):
    options = dict(name="pg-bad")
    options.update(extra)
    result = run_module(rds_db_instance, args(moto_endpoint, **options))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []


# -------------------------------------------------------------- Stubber


ARN = "arn:aws:rds:us-west-2:111122223333:db:pg"
KEY = "arn:aws:kms:us-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"
PI_KEY = "arn:aws:kms:us-west-2:111122223333:key/66666666-7777-8888-9999-000000000000"
SECRET = "arn:aws:secretsmanager:us-west-2:111122223333:secret:rds!db-0123-AbCdEf"


def db_instance(**overrides):
    """A DescribeDBInstances entry as RDS gives it."""
    instance = {
        "DBInstanceIdentifier": "pg",
        "DBInstanceArn": ARN,
        "DBInstanceClass": "db.r7g.large",
        "Engine": "postgres",
        "EngineVersion": "16.4",
        "DBInstanceStatus": "available",
        "MasterUsername": "honeyhive",
        "DBName": "honeyhive",
        "Endpoint": {"Address": "pg.abc.us-west-2.rds.amazonaws.com", "Port": 5432},
        "AllocatedStorage": 100,
        "StorageType": "gp3",
        "StorageEncrypted": True,
        "KmsKeyId": KEY,
        "BackupRetentionPeriod": 7,
        "PreferredBackupWindow": "03:00-03:30",
        "PreferredMaintenanceWindow": "wed:06:00-wed:06:30",
        "MultiAZ": False,
        "AutoMinorVersionUpgrade": True,
        "CopyTagsToSnapshot": True,
        "PubliclyAccessible": False,
        "DeletionProtection": False,
        "PerformanceInsightsEnabled": False,
        "MonitoringInterval": 0,
        "EnabledCloudwatchLogsExports": [],
        "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-0123456789abcdef0", "Status": "active"}],
        "DBParameterGroups": [{"DBParameterGroupName": "default.postgres16", "ParameterApplyStatus": "in-sync"}],
        "PendingModifiedValues": {},
        "MasterUserSecret": {"SecretArn": SECRET, "SecretStatus": "active", "KmsKeyId": KEY},
        "LatestRestorableTime": datetime.datetime(2025, 6, 1, 12, 5, tzinfo=datetime.timezone.utc),
        "TagList": [],
    }
    instance.update(overrides)
    return instance


def answer(**overrides):
    return {"DBInstances": [db_instance(**overrides)]}


def stub_args(**extra):
    base = dict(name="pg", engine_version="16.4", instance_class="db.r7g.large", allocated_storage_gb=100,
                master_username="honeyhive", region="us-west-2")
    base.update(extra)
    return base


def test_performance_insights_turned_on(run_module, stub_client, no_sleep):
    stubber = stub_client("rds")
    stubber.add_response("describe_db_instances", answer(), {"DBInstanceIdentifier": "pg"})
    pi_on = dict(PerformanceInsightsEnabled=True, PerformanceInsightsKMSKeyId=PI_KEY, PerformanceInsightsRetentionPeriod=31)
    stubber.add_response(
        "modify_db_instance", {"DBInstance": db_instance(**pi_on)},
        {"DBInstanceIdentifier": "pg", "ApplyImmediately": False, "EnablePerformanceInsights": True,
         "PerformanceInsightsKMSKeyId": PI_KEY, "PerformanceInsightsRetentionPeriod": 31},
    )
    stubber.add_response("describe_db_instances", answer(**pi_on), {"DBInstanceIdentifier": "pg"})
    stubber.activate()
    options = stub_args(performance_insights=True, performance_insights_kms_key_id=PI_KEY, performance_insights_retention_days=31)
    result = run_module(rds_db_instance, options)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["instance"]["performance_insights_enabled"] is True
    assert result["instance"]["performance_insights_retention_period"] == 31
    stubber.assert_no_pending_responses()

    # on with another key: refused
    stubber = stub_client("rds")
    stubber.add_response("describe_db_instances", answer(**pi_on), {"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, dict(options, performance_insights_kms_key_id=KEY))
    assert result["failed"] is True
    assert "Invalid value for option 'performance_insights_kms_key_id'" in result["msg"]
    assert "fixed once it is on" in result["msg"]


def test_performance_insights_retention_and_off(run_module, stub_client, no_sleep):
    pi_on = dict(PerformanceInsightsEnabled=True, PerformanceInsightsKMSKeyId=PI_KEY, PerformanceInsightsRetentionPeriod=7)
    stubber = stub_client("rds")
    stubber.add_response("describe_db_instances", answer(**pi_on), {"DBInstanceIdentifier": "pg"})
    stubber.add_response(
        "modify_db_instance", {"DBInstance": db_instance(**dict(pi_on, PerformanceInsightsRetentionPeriod=731))},
        {"DBInstanceIdentifier": "pg", "ApplyImmediately": True, "EnablePerformanceInsights": True,
         "PerformanceInsightsRetentionPeriod": 731},
    )
    stubber.add_response("describe_db_instances", answer(**dict(pi_on, PerformanceInsightsRetentionPeriod=731)),
                         {"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, stub_args(performance_insights=True, performance_insights_retention_days=731,
                                                   apply_immediately=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    stubber.assert_no_pending_responses()

    stubber = stub_client("rds")
    stubber.add_response("describe_db_instances", answer(**pi_on), {"DBInstanceIdentifier": "pg"})
    stubber.add_response("modify_db_instance", {"DBInstance": db_instance()},
                         {"DBInstanceIdentifier": "pg", "ApplyImmediately": False, "EnablePerformanceInsights": False})
    stubber.activate()
    result = run_module(rds_db_instance, stub_args(performance_insights=False, wait=False))
    assert not result.get("failed"), result
    assert result["changed"] is True
    stubber.assert_no_pending_responses()

    # an answer without PerformanceInsightsEnabled is not compared
    stubber = stub_client("rds")
    unreported = answer()
    del unreported["DBInstances"][0]["PerformanceInsightsEnabled"]
    stubber.add_response("describe_db_instances", unreported, {"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, stub_args(performance_insights=True))
    assert result["changed"] is False
    stubber.assert_no_pending_responses()


def test_pending_changes_count_as_made(run_module, stub_client):
    """Changes deferred to the maintenance window are in PendingModifiedValues: asking for
    them again changes nothing, and they are returned."""
    stubber = stub_client("rds")
    pending = {"DBInstanceClass": "db.r7g.xlarge", "AllocatedStorage": 200, "MultiAZ": True,
               "PendingCloudwatchLogsExports": {"LogTypesToEnable": ["postgresql"]}, "MasterUserPassword": "****"}
    stubber.add_response("describe_db_instances", answer(PendingModifiedValues=pending), {"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, stub_args(instance_class="db.r7g.xlarge", allocated_storage_gb=200, multi_az=True,
                                                   cloudwatch_logs_exports=["postgresql"]))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["instance"]["instance_class"] == "db.r7g.large"
    assert result["instance"]["pending_modified_values"] == {
        "db_instance_class": "db.r7g.xlarge", "allocated_storage": 200, "multi_az": True,
        "pending_cloudwatch_logs_exports": {"log_types_to_enable": ["postgresql"]}}
    stubber.assert_no_pending_responses()


def test_modify_deferred_without_apply_immediately(run_module, stub_client, no_sleep):
    stubber = stub_client("rds")
    stubber.add_response("describe_db_instances", answer(), {"DBInstanceIdentifier": "pg"})
    deferred = db_instance(PendingModifiedValues={"DBInstanceClass": "db.r7g.xlarge"})
    stubber.add_response(
        "modify_db_instance", {"DBInstance": deferred},
        {"DBInstanceIdentifier": "pg", "ApplyImmediately": False, "DBInstanceClass": "db.r7g.xlarge",
         "MonitoringInterval": 30, "MonitoringRoleArn": MONITORING_ROLE,
         "CloudwatchLogsExportConfiguration": {"EnableLogTypes": ["postgresql", "upgrade"]}},
    )
    stubber.add_response("describe_db_instances", {"DBInstances": [deferred]}, {"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, stub_args(instance_class="db.r7g.xlarge", monitoring_interval=30,
                                                   monitoring_role_arn=MONITORING_ROLE,
                                                   cloudwatch_logs_exports=["upgrade", "postgresql"]))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["instance"]["pending_modified_values"] == {"db_instance_class": "db.r7g.xlarge"}
    assert "next maintenance window" in result["actions"][0]
    stubber.assert_no_pending_responses()


def test_apply_immediately_waits_until_nothing_is_pending(run_module, stub_client, no_sleep):
    """Right after ModifyDBInstance RDS may still say ``available`` with the change pending:
    with apply_immediately the module waits until the change is made."""
    stubber = stub_client("rds")
    stubber.add_response("describe_db_instances", answer(), {"DBInstanceIdentifier": "pg"})
    pending = db_instance(PendingModifiedValues={"DBInstanceClass": "db.r7g.xlarge"})
    stubber.add_response("modify_db_instance", {"DBInstance": pending},
                         {"DBInstanceIdentifier": "pg", "ApplyImmediately": True, "DBInstanceClass": "db.r7g.xlarge"})
    stubber.add_response("describe_db_instances", {"DBInstances": [pending]}, {"DBInstanceIdentifier": "pg"})
    stubber.add_response("describe_db_instances", {"DBInstances": [dict(pending, DBInstanceStatus="modifying")]},
                         {"DBInstanceIdentifier": "pg"})
    stubber.add_response("describe_db_instances", answer(DBInstanceClass="db.r7g.xlarge"), {"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, stub_args(instance_class="db.r7g.xlarge", apply_immediately=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["instance"]["instance_class"] == "db.r7g.xlarge"
    assert result["instance"]["pending_modified_values"] == {}
    stubber.assert_no_pending_responses()


def test_waits_for_a_creating_instance_and_changes_nothing(run_module, stub_client, no_sleep):
    stubber = stub_client("rds")
    creating = db_instance(DBInstanceStatus="creating", Endpoint=None, LatestRestorableTime=None)
    creating = dict((k, v) for k, v in creating.items() if v is not None)
    for status in ("creating", "creating", "backing-up"):
        stubber.add_response("describe_db_instances", {"DBInstances": [dict(creating, DBInstanceStatus=status)]},
                             {"DBInstanceIdentifier": "pg"})
    stubber.add_response("describe_db_instances", answer(), {"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, stub_args())
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["instance"]["status"] == "available"
    assert result["instance"]["endpoint"]["address"] == "pg.abc.us-west-2.rds.amazonaws.com"
    stubber.assert_no_pending_responses()


def test_wait_timeout_names_the_option(run_module, stub_client, no_sleep, monkeypatch):
    from ansible_collections.honeyhive.platform.plugins.module_utils import aws as aws_utils

    ticks = itertools.count(0, 1000)
    monkeypatch.setattr(aws_utils.time, "monotonic", lambda: next(ticks))
    stubber = stub_client("rds")
    for _ in range(5):
        stubber.add_response("describe_db_instances", answer(DBInstanceStatus="creating"), {"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, stub_args(wait_timeout=3000))
    assert result["failed"] is True
    assert "Timed out after 3000 seconds (option 'wait_timeout') waiting for RDS DB instance pg" in result["msg"]


def test_point_in_time_restore_then_modify_what_restore_cannot_set(run_module, stub_client, no_sleep):
    """RestoreDBInstanceToPointInTime with the settings it takes, then one ModifyDBInstance
    for Performance Insights, monitoring and the maintenance window."""
    stubber = stub_client("rds")
    stubber.add_client_error("describe_db_instances", "DBInstanceNotFound", http_status_code=404,
                             expected_params={"DBInstanceIdentifier": "pg-restored"})
    source = db_instance(MasterUserSecret={"SecretArn": SECRET, "SecretStatus": "active", "KmsKeyId": PI_KEY})
    stubber.add_response("describe_db_instances", {"DBInstances": [source]}, {"DBInstanceIdentifier": "pg"})
    restored = db_instance(DBInstanceIdentifier="pg-restored", DBInstanceArn=ARN + "-restored", DBInstanceStatus="creating",
                           MasterUserSecret=None)
    restored = dict((k, v) for k, v in restored.items() if v is not None)
    stubber.add_response(
        "restore_db_instance_to_point_in_time", {"DBInstance": restored},
        {"SourceDBInstanceIdentifier": "pg", "TargetDBInstanceIdentifier": "pg-restored",
         "RestoreTime": datetime.datetime(2025, 6, 1, 12, 0, tzinfo=datetime.timezone.utc),
         "DBInstanceClass": "db.r7g.large", "Port": 5432, "StorageType": "gp3", "AutoMinorVersionUpgrade": True,
         "CopyTagsToSnapshot": True, "PubliclyAccessible": False, "ManageMasterUserPassword": True,
         "MasterUserSecretKmsKeyId": KEY, "DBSubnetGroupName": "db", "VpcSecurityGroupIds": ["sg-0123456789abcdef0"],
         "BackupRetentionPeriod": 14, "DeletionProtection": True, "MaxAllocatedStorage": 500,
         "Tags": [{"Key": "Environment", "Value": "restore"}]},
    )
    available = dict(restored, DBInstanceStatus="available",
                     MasterUserSecret={"SecretArn": SECRET + "2", "SecretStatus": "active", "KmsKeyId": KEY},
                     BackupRetentionPeriod=14, DeletionProtection=True, MaxAllocatedStorage=500,
                     DBSubnetGroup={"DBSubnetGroupName": "db"}, TagList=[{"Key": "Environment", "Value": "restore"}])
    stubber.add_response("describe_db_instances", {"DBInstances": [available]}, {"DBInstanceIdentifier": "pg-restored"})
    stubber.add_response(
        "modify_db_instance", {"DBInstance": dict(available, DBInstanceStatus="modifying")},
        {"DBInstanceIdentifier": "pg-restored", "ApplyImmediately": True,
         "PreferredMaintenanceWindow": "sun:05:00-sun:06:00", "MonitoringInterval": 60, "MonitoringRoleArn": MONITORING_ROLE,
         "EnablePerformanceInsights": True, "PerformanceInsightsKMSKeyId": PI_KEY},
    )
    final = dict(available, PreferredMaintenanceWindow="sun:05:00-sun:06:00", MonitoringInterval=60,
                 MonitoringRoleArn=MONITORING_ROLE, PerformanceInsightsEnabled=True, PerformanceInsightsKMSKeyId=PI_KEY)
    stubber.add_response("describe_db_instances", {"DBInstances": [dict(final, DBInstanceStatus="modifying")]},
                         {"DBInstanceIdentifier": "pg-restored"})
    stubber.add_response("describe_db_instances", {"DBInstances": [final]}, {"DBInstanceIdentifier": "pg-restored"})
    stubber.activate()
    result = run_module(rds_db_instance, stub_args(
        name="pg-restored", kms_key_id=KEY, master_user_secret_kms_key_id=KEY, subnet_group_name="db",
        security_group_ids=["sg-0123456789abcdef0"], backup_retention_days=14, deletion_protection=True,
        max_allocated_storage_gb=500, preferred_maintenance_window="Sun:05:00-Sun:06:00", monitoring_interval=60,
        monitoring_role_arn=MONITORING_ROLE, performance_insights=True, performance_insights_kms_key_id=PI_KEY,
        apply_immediately=True, tags={"Environment": "restore"},
        restore_from=dict(source_instance="pg", restore_time="2025-06-01T12:00:00Z")))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["actions"][0] == "restore RDS DB instance pg-restored from source instance pg at 2025-06-01T12:00:00Z"
    assert result["actions"][1].startswith("modify preferred_maintenance_window")
    assert result["instance"]["performance_insights_enabled"] is True
    assert result["instance"]["master_user_secret"]["secret_arn"] == SECRET + "2"
    stubber.assert_no_pending_responses()


def test_restore_is_ignored_once_the_instance_exists(run_module, stub_client):
    stubber = stub_client("rds")
    stubber.add_response("describe_db_instances", answer(), {"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, stub_args(restore_from=dict(snapshot_identifier="snap-1")))
    assert not result.get("failed"), result
    assert result["changed"] is False
    stubber.assert_no_pending_responses()


def test_an_instance_without_a_managed_password_is_switched_to_it(run_module, stub_client, no_sleep):
    stubber = stub_client("rds")
    unmanaged = answer()
    del unmanaged["DBInstances"][0]["MasterUserSecret"]
    stubber.add_response("describe_db_instances", unmanaged, {"DBInstanceIdentifier": "pg"})
    stubber.add_response("modify_db_instance", {"DBInstance": db_instance()},
                         {"DBInstanceIdentifier": "pg", "ApplyImmediately": False, "ManageMasterUserPassword": True,
                          "MasterUserSecretKmsKeyId": KEY})
    stubber.activate()
    result = run_module(rds_db_instance, stub_args(master_user_secret_kms_key_id=KEY, wait=False))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert "manage the master user password in Secrets Manager" in result["actions"][0]
    assert result["instance"]["master_user_secret"]["secret_arn"] == SECRET
    stubber.assert_no_pending_responses()


def test_create_sends_every_setting_and_no_password(run_module, stub_client):
    stubber = stub_client("rds")
    stubber.add_client_error("describe_db_instances", "DBInstanceNotFound", http_status_code=404,
                             expected_params={"DBInstanceIdentifier": "pg"})
    stubber.add_response("create_db_instance", {"DBInstance": db_instance(DBInstanceStatus="creating")}, {
        "DBInstanceIdentifier": "pg", "Engine": "postgres", "EngineVersion": "16.4", "DBInstanceClass": "db.r7g.large",
        "AllocatedStorage": 100, "MaxAllocatedStorage": 200, "StorageType": "gp3", "StorageEncrypted": True, "KmsKeyId": KEY,
        "MasterUsername": "honeyhive", "ManageMasterUserPassword": True, "MasterUserSecretKmsKeyId": KEY, "DBName": "app",
        "Port": 5432, "PubliclyAccessible": False, "AutoMinorVersionUpgrade": True, "CopyTagsToSnapshot": True,
        "EnablePerformanceInsights": True, "PerformanceInsightsRetentionPeriod": 93, "MultiAZ": True,
        "EnableCloudwatchLogsExports": ["postgresql"], "MonitoringInterval": 0,
    })
    stubber.activate()
    result = run_module(rds_db_instance, stub_args(
        max_allocated_storage_gb=200, kms_key_id=KEY, master_user_secret_kms_key_id=KEY, db_name="app", multi_az=True,
        performance_insights=True, performance_insights_retention_days=93, cloudwatch_logs_exports=["postgresql"],
        monitoring_interval=0, wait=False))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["instance"]["status"] == "creating"
    [(operation, request)] = [s for s in stub_client.sent if s[0] == "CreateDBInstance"]
    assert not [k for k in request if "Password" in k and k != "ManageMasterUserPassword"]
    stubber.assert_no_pending_responses()


def test_delete_waits_for_a_busy_instance_then_deletes(run_module, stub_client, no_sleep):
    stubber = stub_client("rds")
    stubber.add_response("describe_db_instances", answer(DBInstanceStatus="modifying"), {"DBInstanceIdentifier": "pg"})
    stubber.add_client_error("delete_db_instance", "InvalidDBInstanceState", http_status_code=400,
                             expected_params={"DBInstanceIdentifier": "pg", "SkipFinalSnapshot": False,
                                              "FinalDBSnapshotIdentifier": "pg-last"})
    stubber.add_response("describe_db_instances", answer(DBInstanceStatus="modifying"), {"DBInstanceIdentifier": "pg"})
    stubber.add_response("describe_db_instances", answer(DBInstanceStatus="modifying"), {"DBInstanceIdentifier": "pg"})
    stubber.add_response("describe_db_instances", answer(), {"DBInstanceIdentifier": "pg"})
    stubber.add_response("delete_db_instance", {"DBInstance": db_instance(DBInstanceStatus="deleting")},
                         {"DBInstanceIdentifier": "pg", "SkipFinalSnapshot": False, "FinalDBSnapshotIdentifier": "pg-last"})
    stubber.add_response("describe_db_instances", answer(DBInstanceStatus="deleting"), {"DBInstanceIdentifier": "pg"})
    stubber.add_client_error("describe_db_instances", "DBInstanceNotFound", http_status_code=404,
                             expected_params={"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, dict(name="pg", state="absent", final_snapshot_identifier="pg-last", region="us-west-2"))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["final_snapshot_identifier"] == "pg-last"
    stubber.assert_no_pending_responses()


def test_delete_without_waiting_returns_the_deleting_instance(run_module, stub_client):
    stubber = stub_client("rds")
    stubber.add_response("describe_db_instances", answer(), {"DBInstanceIdentifier": "pg"})
    stubber.add_response("delete_db_instance", {"DBInstance": db_instance(DBInstanceStatus="deleting")},
                         {"DBInstanceIdentifier": "pg", "SkipFinalSnapshot": True})
    stubber.add_response("describe_db_instances", answer(DBInstanceStatus="deleting"), {"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, dict(name="pg", state="absent", skip_final_snapshot=True, wait=False, region="us-west-2"))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["instance"]["status"] == "deleting"
    stubber.assert_no_pending_responses()

    # a second run finds it deleting: nothing to do but wait
    stubber = stub_client("rds")
    stubber.add_response("describe_db_instances", answer(DBInstanceStatus="deleting"), {"DBInstanceIdentifier": "pg"})
    stubber.add_client_error("describe_db_instances", "DBInstanceNotFound", http_status_code=404,
                             expected_params={"DBInstanceIdentifier": "pg"})
    stubber.activate()
    result = run_module(rds_db_instance, dict(name="pg", state="absent", skip_final_snapshot=True, region="us-west-2"))
    assert result["changed"] is False
    stubber.assert_no_pending_responses()


def test_alias_keys_are_resolved_once(run_module, stub_client):
    rds_stub = stub_client("rds")
    kms_stub = stub_client("kms")
    rds_stub.add_response("describe_db_instances", answer(), {"DBInstanceIdentifier": "pg"})
    kms_stub.add_response("describe_key", {"KeyMetadata": {"KeyId": KEY.split("/")[-1], "Arn": KEY}},
                          {"KeyId": "alias/honeyhive-rds"})
    rds_stub.activate()
    kms_stub.activate()
    result = run_module(rds_db_instance, stub_args(kms_key_id="alias/honeyhive-rds", master_user_secret_kms_key_id="alias/honeyhive-rds"))
    assert not result.get("failed"), result
    assert result["changed"] is False
    rds_stub.assert_no_pending_responses()
    kms_stub.assert_no_pending_responses()
