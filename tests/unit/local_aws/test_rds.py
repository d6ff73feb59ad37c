"""The local RDS (scripts/local_aws/rds.py): PostgreSQL engine versions and option groups,
CreateDBInstance / ModifyDBInstance refused as AWS refuses them, Performance Insights kept,
and an instance's time (creating, backing-up, available; modifying; deleting, then gone).

boto3 clients talk to ``moto.mock_aws`` through the strict harness (strict_harness.py): each
request goes through :class:`LocalRds` before moto. The clock is the test's, so transitions
are exact. An answer the behaviour builds itself is checked against botocore's model.
"""
from __future__ import annotations

import json

import botocore.exceptions
import pytest
from moto import mock_aws

from strict_harness import Clock, InProcess, REGION
from local_aws.rds import LocalRds, POSTGRES_VERSIONS
from local_aws.timing import DURATIONS, Timing
from query_shapes import xml_problems

ACCOUNT = "123456789012"
SCALE = 20.0
MONITORING_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture
def env():
    with mock_aws():
        harness = InProcess("none,+timing")
        harness.strict.settings.scale = SCALE
        timing = harness.strict.add(Timing(harness.strict))
        clock = Clock()
        harness.rds = harness.strict.add(LocalRds(harness.strict, timing, clock))
        harness.clock, harness.timing = clock, timing
        harness.answers = []
        yield harness
        timing.stop()


def rds(env):
    client = env.client("rds")
    client.meta.events.register("after-call", lambda http_response=None, model=None, **_: env.answers.append(
        (model.name, http_response.status_code, http_response.content)))
    return client


@pytest.fixture
def network(env):
    ec2 = env.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i, AvailabilityZone=REGION + z)["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    group = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    client = env.client("rds")
    client.create_db_subnet_group(DBSubnetGroupName="hh-db", DBSubnetGroupDescription="d", SubnetIds=subnets)
    client.create_db_subnet_group(DBSubnetGroupName="hh-one-zone", DBSubnetGroupDescription="d",
                                  SubnetIds=subnets[:1])
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_security_group(GroupName="other", Description="o", VpcId=other)["GroupId"]
    iam = env.client("iam")
    role = iam.create_role(RoleName="rds-monitoring", AssumeRolePolicyDocument=json.dumps(MONITORING_TRUST))
    wrong = iam.create_role(RoleName="not-monitoring", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    kms = env.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    disabled = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=disabled)
    client.create_db_parameter_group(DBParameterGroupName="hh-pg16", DBParameterGroupFamily="postgres16",
                                     Description="d")
    client.create_db_parameter_group(DBParameterGroupName="hh-pg15", DBParameterGroupFamily="postgres15",
                                     Description="d")
    return {"vpc": vpc, "subnets": subnets, "sg": group, "foreign_sg": foreign, "role": role["Role"]["Arn"],
            "wrong_role": wrong["Role"]["Arn"], "key": key, "disabled_key": disabled}


def instance(network, **overrides):
    params = dict(DBInstanceIdentifier="hh-pg", DBInstanceClass="db.t4g.small", Engine="postgres",
                  EngineVersion="16.4", MasterUsername="honeyhive", ManageMasterUserPassword=True,
                  MasterUserSecretKmsKeyId=network["key"], AllocatedStorage=20, MaxAllocatedStorage=100,
                  StorageType="gp3", StorageEncrypted=True, KmsKeyId=network["key"],
                  EnablePerformanceInsights=True, PerformanceInsightsKMSKeyId=network["key"],
                  PerformanceInsightsRetentionPeriod=7, MonitoringInterval=60, MonitoringRoleArn=network["role"],
                  EnableCloudwatchLogsExports=["postgresql", "upgrade"], DeletionProtection=False,
                  BackupRetentionPeriod=7, MultiAZ=True, DBSubnetGroupName="hh-db",
                  VpcSecurityGroupIds=[network["sg"]], DBParameterGroupName="hh-pg16")
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def refused(call, code, message=None):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert error["Code"] == code, error
    if message:
        assert message in error["Message"], error
    return error


def status(client, identifier="hh-pg"):
    return client.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["DBInstanceStatus"]


# -- engine versions and option groups ---------------------------------------------------------


def test_engine_versions_come_from_the_table_and_parse(env):
    client = rds(env)
    exact = client.describe_db_engine_versions(Engine="postgres", EngineVersion="16.4")["DBEngineVersions"]
    assert [(v["EngineVersion"], v["DBParameterGroupFamily"]) for v in exact] == [("16.4", "postgres16")]
    major = client.describe_db_engine_versions(Engine="postgres", EngineVersion="16")["DBEngineVersions"]
    assert [v["EngineVersion"] for v in major] == list(POSTGRES_VERSIONS["16"]["versions"])
    default = client.describe_db_engine_versions(Engine="postgres", EngineVersion="15", DefaultOnly=True)
    assert [v["EngineVersion"] for v in default["DBEngineVersions"]] == [POSTGRES_VERSIONS["15"]["default"]]
    family = client.describe_db_engine_versions(Engine="postgres", DBParameterGroupFamily="postgres17")
    assert {v["DBParameterGroupFamily"] for v in family["DBEngineVersions"]} == {"postgres17"}
    assert client.describe_db_engine_versions(Engine="postgres", EngineVersion="16.99")["DBEngineVersions"] == []
    assert all(not xml_problems("rds", op, body) for op, code, body in env.answers), [
        xml_problems("rds", op, body) for op, code, body in env.answers]


@pytest.mark.parametrize("major", ["15", "16", "17"])
def test_postgres_option_groups_of_current_majors_are_accepted(env, major):
    client = rds(env)
    group = client.create_option_group(OptionGroupName="hh-og-%s" % major, EngineName="postgres",
                                       MajorEngineVersion=major, OptionGroupDescription="d")["OptionGroup"]
    assert (group["EngineName"], group["MajorEngineVersion"]) == ("postgres", major)
    listed = client.describe_option_groups(OptionGroupName="hh-og-%s" % major)["OptionGroupsList"]
    assert [g["MajorEngineVersion"] for g in listed] == [major]
    refused(lambda: client.create_option_group(OptionGroupName="hh-og-%s" % major, EngineName="postgres",
                                               MajorEngineVersion=major, OptionGroupDescription="d"),
            "OptionGroupAlreadyExistsFault")
    assert not xml_problems("rds", "CreateOptionGroup", env.answers[0][2])


def test_an_unknown_postgres_major_is_still_refused(env):
    refused(lambda: env.client("rds").create_option_group(OptionGroupName="hh", EngineName="postgres",
                                                          MajorEngineVersion="99", OptionGroupDescription="d"),
            "InvalidParameterCombination", "Cannot find major version 99 for postgres")


# -- CreateDBInstance refusals -----------------------------------------------------------------


@pytest.mark.parametrize("overrides,code,message", [
    ({"EngineVersion": "16.99"}, "InvalidParameterCombination", "Cannot find version 16.99 for postgres"),
    ({"DBParameterGroupName": "hh-pg15"}, "InvalidParameterCombination",
     "with DBParameterGroupFamily postgres15 cannot be used for this instance"),
    ({"MonitoringRoleArn": None}, "InvalidParameterCombination", "A MonitoringRoleARN value is required"),
    ({"MonitoringRoleArn": "arn:aws:iam::123456789012:role/missing"}, "InvalidParameterValue",
     "ENHANCED_MONITORING"),
    ({"MonitoringInterval": 7}, "InvalidParameterValue", "MonitoringInterval"),
    ({"KmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/0000aaaa-0000-0000-0000-000000000000"},
     "KMSKeyNotAccessibleFault", "does not exist, is not enabled"),
    ({"MasterUserSecretKmsKeyId": "alias/missing"}, "KMSKeyNotAccessibleFault", "alias/missing"),
    ({"PerformanceInsightsKMSKeyId": "alias/missing"}, "KMSKeyNotAccessibleFault", "alias/missing"),
    ({"PerformanceInsightsRetentionPeriod": 30}, "InvalidParameterValue", "retention period"),
    ({"DBSubnetGroupName": "hh-one-zone"}, "DBSubnetGroupDoesNotCoverEnoughAZs", "Current coverage: 1"),
    ({"AllocatedStorage": 10}, "InvalidParameterCombination",
     "Invalid storage size for engine name postgres and storage type gp3: 10"),
    ({"MaxAllocatedStorage": 19}, "InvalidParameterCombination", "Max storage size must be greater"),
    ({"EnableCloudwatchLogsExports": ["audit"]}, "InvalidParameterCombination", "log types 'audit'"),
    ({"VpcSecurityGroupIds": ["sg-0000000000000dead"]}, "InvalidParameterValue", "sg-0000000000000dead"),
])
def test_create_refuses_what_aws_refuses(env, network, overrides, code, message):
    client = rds(env)
    refused(lambda: client.create_db_instance(**instance(network, **overrides)), code, message)
    refused(lambda: client.describe_db_instances(DBInstanceIdentifier="hh-pg"), "DBInstanceNotFound")


def test_create_refuses_a_disabled_key_a_foreign_group_and_an_untrusting_role(env, network):
    client = rds(env)
    refused(lambda: client.create_db_instance(**instance(network, KmsKeyId=network["disabled_key"])),
            "KMSKeyNotAccessibleFault")
    refused(lambda: client.create_db_instance(**instance(network, VpcSecurityGroupIds=[network["foreign_sg"]])),
            "InvalidParameterCombination", "different VPCs")
    refused(lambda: client.create_db_instance(**instance(network, MonitoringRoleArn=network["wrong_role"])),
            "InvalidParameterValue", "ENHANCED_MONITORING")


# -- Performance Insights and time ------------------------------------------------------------


def test_create_goes_creating_backing_up_available_with_performance_insights(env, network):
    client = rds(env)
    client.create_db_instance(**instance(network))
    seconds = DURATIONS["rds_instance_create_multi_az"][0] / SCALE
    described = client.describe_db_instances(DBInstanceIdentifier="hh-pg")["DBInstances"][0]
    assert described["DBInstanceStatus"] == "creating"
    assert described["PerformanceInsightsEnabled"] is True
    assert described["PerformanceInsightsKMSKeyId"] == network["key"]
    assert described["PerformanceInsightsRetentionPeriod"] == 7
    assert described["KmsKeyId"] == network["key"] and described["EngineVersion"] == "16.4"
    env.clock.now += seconds * 0.85
    assert status(client) == "backing-up"
    env.clock.now += seconds * 0.2
    assert status(client) == "available"
    events = [e for e in env.timing.events if e["name"] == "hh-pg"]
    assert [(e["kind"], round(e["end"] - e["start"], 3)) for e in events] == [
        ("rds_instance_create_multi_az", round(seconds, 3))]


def test_single_az_without_backups_is_available_after_the_single_az_time(env, network):
    client = rds(env)
    client.create_db_instance(**instance(network, MultiAZ=False, BackupRetentionPeriod=0,
                                         EnablePerformanceInsights=False, PerformanceInsightsKMSKeyId=None,
                                         PerformanceInsightsRetentionPeriod=None, StorageEncrypted=True,
                                         KmsKeyId=None))
    described = client.describe_db_instances(DBInstanceIdentifier="hh-pg")["DBInstances"][0]
    assert described["PerformanceInsightsEnabled"] is False and "PerformanceInsightsKMSKeyId" not in described
    assert described["KmsKeyId"].startswith("arn:aws:kms:%s:%s:key/" % (REGION, ACCOUNT))
    env.clock.now += DURATIONS["rds_instance_create"][0] / SCALE - 0.01
    assert status(client) == "creating"
    env.clock.now += 0.02
    assert status(client) == "available"


def test_modify_and_delete_wait_for_available_then_modifying_deleting_and_gone(env, network):
    client = rds(env)
    client.create_db_instance(**instance(network))
    refused(lambda: client.modify_db_instance(DBInstanceIdentifier="hh-pg", PerformanceInsightsRetentionPeriod=31,
                                              ApplyImmediately=True), "InvalidDBInstanceState")
    refused(lambda: client.delete_db_instance(DBInstanceIdentifier="hh-pg", SkipFinalSnapshot=True),
            "InvalidDBInstanceState")
    refused(lambda: client.delete_db_instance(DBInstanceIdentifier="hh-pg", FinalDBSnapshotIdentifier="hh-final"),
            "InvalidDBInstanceState", "a final snapshot cannot be taken")
    env.clock.now += DURATIONS["rds_instance_create_multi_az"][0] / SCALE
    refused(lambda: client.modify_db_instance(DBInstanceIdentifier="hh-pg", PerformanceInsightsRetentionPeriod=30,
                                              ApplyImmediately=True), "InvalidParameterValue")
    client.modify_db_instance(DBInstanceIdentifier="hh-pg", PerformanceInsightsRetentionPeriod=731,
                              ApplyImmediately=True)
    described = client.describe_db_instances(DBInstanceIdentifier="hh-pg")["DBInstances"][0]
    assert (described["DBInstanceStatus"], described["PerformanceInsightsRetentionPeriod"]) == ("modifying", 731)
    env.clock.now += 60 / SCALE
    assert status(client) == "available"
    refused(lambda: client.delete_db_instance(DBInstanceIdentifier="hh-pg"), "InvalidParameterCombination",
            "FinalDBSnapshotIdentifier is required")
    client.delete_db_instance(DBInstanceIdentifier="hh-pg", FinalDBSnapshotIdentifier="hh-final")
    assert status(client) == "deleting"
    refused(lambda: client.delete_db_instance(DBInstanceIdentifier="hh-pg", SkipFinalSnapshot=True),
            "InvalidDBInstanceState", "already being deleted")
    assert client.describe_db_snapshots(DBSnapshotIdentifier="hh-final")["DBSnapshots"]
    env.clock.now += DURATIONS["rds_instance_delete"][0] / SCALE
    refused(lambda: client.describe_db_instances(DBInstanceIdentifier="hh-pg"), "DBInstanceNotFound")


def test_a_restored_instance_is_creating_first(env, network):
    client = rds(env)
    client.create_db_instance(**instance(network))
    env.clock.now += DURATIONS["rds_instance_create_multi_az"][0] / SCALE
    client.delete_db_instance(DBInstanceIdentifier="hh-pg", FinalDBSnapshotIdentifier="hh-final")
    env.clock.now += DURATIONS["rds_instance_delete"][0] / SCALE
    client.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="hh-restored", DBSnapshotIdentifier="hh-final",
                                                DBSubnetGroupName="hh-db")
    assert status(client, "hh-restored") == "creating"
    env.clock.now += DURATIONS["rds_instance_create_multi_az"][0] / SCALE
    assert status(client, "hh-restored") == "available"


def test_every_answer_parses_with_the_rds_model(env, network):
    client = rds(env)
    client.create_db_instance(**instance(network))
    client.describe_db_instances(DBInstanceIdentifier="hh-pg")
    problems = [(op, xml_problems("rds", op, body)) for op, code, body in env.answers if code == 200]
    assert problems and all(not p for _, p in problems), problems


def test_the_managed_master_secret_holds_the_master_user_and_a_generated_password(env, network):
    from local_aws import moto_fixes

    moto_fixes.apply()
    client = rds(env)
    created = client.create_db_instance(**instance(network))["DBInstance"]
    secret = created["MasterUserSecret"]
    value = json.loads(env.client("secretsmanager").get_secret_value(SecretId=secret["SecretArn"])["SecretString"])
    assert value["username"] == "honeyhive"
    assert len(value["password"]) == 28 and value["password"] != "P@55w0rd!"
    client.create_db_instance(**instance(network, DBInstanceIdentifier="hh-pg-2"))
    other = client.describe_db_instances(DBInstanceIdentifier="hh-pg-2")["DBInstances"][0]["MasterUserSecret"]
    second = json.loads(env.client("secretsmanager").get_secret_value(SecretId=other["SecretArn"])["SecretString"])
    assert second["password"] != value["password"]
