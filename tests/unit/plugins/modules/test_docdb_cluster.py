"""honeyhive.platform.docdb_cluster against the strict local AWS.

The module runs against the local AWS's DocumentDB (scripts/local_aws/docdb.py) behind the
AWS proxy with moto inside (the ``local_docdb`` fixture, one process for this file, at a high
time scale so a cluster is ``creating`` for a second or two): the subnet group, security
groups and KMS keys are made in moto first, and every setting the module makes is read back
with a boto3 ``docdb`` client. Every raw DocumentDB answer is checked against botocore's docdb
model when the file's tests end.
"""
from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from ansible_collections.honeyhive.platform.plugins.modules import docdb_cluster

HARNESS = Path(__file__).resolve().parents[2] / "local_aws"
if str(HARNESS) not in sys.path:
    sys.path.insert(0, str(HARNESS))

import test_docdb as harness  # noqa: E402  (tests/unit/local_aws/test_docdb.py: the proxy and the model check)

MUTATING = ("Create", "Modify", "Delete", "AddTags", "RemoveTags")


@pytest.fixture(scope="module")
def local_docdb(tmp_path_factory):
    server = harness.LocalAws(tmp_path_factory.mktemp("local-aws-docdb-module"))
    yield server
    server.stop()
    problems = server.problems()
    assert problems == [], "answers that do not fit botocore's docdb model:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def network(local_docdb):
    return _network(local_docdb)


def _network(local):
    ec2, rds, kms = local.client("ec2"), local.client("rds", record=False), local.client("kms")
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.50.%d.0/24" % i, AvailabilityZone="us-west-2" + z)["Subnet"]
               ["SubnetId"] for i, z in enumerate("ab")]
    groups = [ec2.create_security_group(VpcId=vpc, GroupName="docdb-%d" % i, Description="d")["GroupId"]
              for i in range(2)]
    rds.create_db_subnet_group(DBSubnetGroupName="honeyhive-data", DBSubnetGroupDescription="d", SubnetIds=subnets)
    rds.create_db_subnet_group(DBSubnetGroupName="other-data", DBSubnetGroupDescription="d", SubnetIds=subnets)
    key = kms.create_key(Description="storage")["KeyMetadata"]["Arn"]
    other_key = kms.create_key(Description="other")["KeyMetadata"]["Arn"]
    secret_key = kms.create_key(Description="secret")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/honeyhive-docdb", TargetKeyId=key)
    return dict(vpc=vpc, groups=groups, key=key, other_key=other_key, secret_key=secret_key)


@pytest.fixture
def docdb(local_docdb, aws_env, monkeypatch):
    monkeypatch.setattr(docdb_cluster, "POLL_DELAY", 0.2)
    return local_docdb.client("docdb")


def args(local, network, name, **extra):
    base = dict(
        name=name, engine_version="5.0.0", instance_class="db.t3.medium", instance_count=1,
        master_username="honeyhive", master_user_secret_kms_key_id=network["secret_key"],
        kms_key_id="alias/honeyhive-docdb", subnet_group_name="honeyhive-data",
        security_group_ids=[network["groups"][0]], cluster_parameter_group_name=name + "-params",
        cluster_parameters={"tls": "enabled", "audit_logs": "enabled"}, backup_retention_days=7,
        preferred_backup_window="03:00-04:00", preferred_maintenance_window="sun:05:00-sun:06:00",
        deletion_protection=False, cloudwatch_logs_exports=["audit"], tags={"team": "platform"},
        endpoint_url=local.url, region="us-west-2", wait_timeout=120,
    )
    base.update(extra)
    return base


def unique():
    return "docs-%s" % uuid.uuid4().hex[:8]


def mutating(calls):
    return [c for c in calls if c.startswith(MUTATING)]


def test_create_without_waiting_then_wait_and_read_everything_back(local_docdb, docdb, network, run_module, api_calls):
    name = unique()
    started = run_module(docdb_cluster, args(local_docdb, network, name, instance_count=2, wait=False))
    assert started["changed"] is True, started
    assert started["cluster"]["status"] == "creating"
    assert [i["status"] for i in started["cluster"]["instances"]] == ["creating", "creating"]
    assert started["actions"][:3] == ["create cluster parameter group %s-params (docdb5.0)" % name,
                                      "set parameters audit_logs of cluster parameter group %s-params" % name,
                                      "create the cluster"]

    done = run_module(docdb_cluster, args(local_docdb, network, name, instance_count=2))
    assert done["changed"] is False, done
    cluster = done["cluster"]
    assert cluster["status"] == "available"
    assert [(i["name"], i["status"]) for i in cluster["instances"]] == [(name + "-1", "available"),
                                                                         (name + "-2", "available")]
    assert sum(i["is_writer"] for i in cluster["instances"]) == 1
    assert cluster["port"] == 27017 and cluster["endpoint"].startswith(name + ".cluster-")
    assert cluster["storage_encrypted"] is True and cluster["kms_key_id"] == network["key"]

    # read back through the docdb API
    described = docdb.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
    assert described["EngineVersion"] == "5.0.0" and described["MasterUsername"] == "honeyhive"
    assert described["DBSubnetGroup"] == "honeyhive-data"
    assert [g["VpcSecurityGroupId"] for g in described["VpcSecurityGroups"]] == [network["groups"][0]]
    assert described["DBClusterParameterGroup"] == name + "-params"
    assert described["BackupRetentionPeriod"] == 7 and described["PreferredBackupWindow"] == "03:00-04:00"
    assert described["PreferredMaintenanceWindow"] == "sun:05:00-sun:06:00"
    assert described["DeletionProtection"] is False and described["EnabledCloudwatchLogsExports"] == ["audit"]
    assert described["MasterUserSecret"]["KmsKeyId"] == network["secret_key"]
    assert cluster["master_user_secret_arn"] == described["MasterUserSecret"]["SecretArn"]
    assert docdb.list_tags_for_resource(ResourceName=described["DBClusterArn"])["TagList"] == [
        {"Key": "team", "Value": "platform"}]
    instances = docdb.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [name]}])["DBInstances"]
    assert [(i["DBInstanceIdentifier"], i["DBInstanceClass"]) for i in instances] == [
        (name + "-1", "db.t3.medium"), (name + "-2", "db.t3.medium")]
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in docdb.describe_db_cluster_parameters(
        DBClusterParameterGroupName=name + "-params")["Parameters"]}
    assert parameters["tls"] == "enabled" and parameters["audit_logs"] == "enabled"
    # the managed password exists in Secrets Manager
    secrets = local_docdb.client("secretsmanager")
    assert secrets.describe_secret(SecretId=cluster["master_user_secret_arn"])["Name"].startswith("rds!cluster-")
    password = json.loads(secrets.get_secret_value(SecretId=cluster["master_user_secret_arn"])["SecretString"])[
        "password"]
    assert password not in json.dumps(started) + json.dumps(done)

    # a second run changes nothing and makes no mutating call
    api_calls.clear()
    again = run_module(docdb_cluster, args(local_docdb, network, name, instance_count=2))
    assert again["changed"] is False and again["actions"] == []
    assert mutating(api_calls) == []

    # check mode names the changes and makes no mutating call
    api_calls.clear()
    checked = run_module(docdb_cluster, dict(args(local_docdb, network, name, instance_count=3, backup_retention_days=9,
                                                  cluster_parameters={"tls": "disabled"}), _ansible_check_mode=True,
                                             _ansible_diff=True))
    assert checked["changed"] is True
    assert "change BackupRetentionPeriod" in checked["actions"] and "create instance %s-3" % name in checked["actions"]
    assert "set parameters tls of cluster parameter group %s-params" % name in checked["actions"]
    assert checked["diff"]["before"]["backup_retention_period"] == 7
    assert checked["diff"]["after"]["backup_retention_period"] == 9
    assert mutating(api_calls) == []
    assert docdb.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["BackupRetentionPeriod"] == 7

    # in-place changes, tags, the tls parameter, and a shrink
    changed = run_module(docdb_cluster, args(
        local_docdb, network, name, instance_count=1, backup_retention_days=14, deletion_protection=True,
        security_group_ids=network["groups"], cloudwatch_logs_exports=["audit", "profiler"],
        cluster_parameters={"tls": "disabled"}, tags={"team": "data", "env": "test"}))
    assert changed["changed"] is True, changed
    described = docdb.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
    assert described["BackupRetentionPeriod"] == 14 and described["DeletionProtection"] is True
    assert sorted(g["VpcSecurityGroupId"] for g in described["VpcSecurityGroups"]) == sorted(network["groups"])
    assert described["EnabledCloudwatchLogsExports"] == ["audit", "profiler"]
    assert {t["Key"]: t["Value"] for t in docdb.list_tags_for_resource(
        ResourceName=described["DBClusterArn"])["TagList"]} == {"team": "data", "env": "test"}
    parameters = {p["ParameterName"]: p for p in docdb.describe_db_cluster_parameters(
        DBClusterParameterGroupName=name + "-params")["Parameters"]}
    assert parameters["tls"]["ParameterValue"] == "disabled" and parameters["tls"]["ApplyMethod"] == "pending-reboot"
    assert [i["name"] for i in changed["cluster"]["instances"]] == [name + "-1"]

    # a protected cluster is not deleted without remove_deletion_protection
    absent = dict(name=name, state="absent", final_snapshot_identifier=name + "-final", endpoint_url=local_docdb.url,
                  region="us-west-2", wait_timeout=120)
    refused = run_module(docdb_cluster, absent)
    assert refused.get("failed") and "remove_deletion_protection" in refused["msg"]
    assert docdb.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["Status"] == "available"

    gone = run_module(docdb_cluster, dict(absent, remove_deletion_protection=True))
    assert gone["changed"] is True and gone["cluster"] is None
    with pytest.raises(ClientError) as excinfo:
        docdb.describe_db_clusters(DBClusterIdentifier=name)
    assert excinfo.value.response["Error"]["Code"] == "DBClusterNotFoundFault"
    snapshot = docdb.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name + "-final")["DBClusterSnapshots"]
    assert snapshot[0]["DBClusterIdentifier"] == name
    assert run_module(docdb_cluster, dict(absent, remove_deletion_protection=True))["changed"] is False


def test_settings_aws_cannot_change_are_errors_naming_the_option(local_docdb, docdb, network, run_module):
    name = unique()
    created = run_module(docdb_cluster, args(local_docdb, network, name, cluster_parameters=None,
                                             cluster_parameter_group_name=None))
    assert created["changed"] is True and created["cluster"]["status"] == "available", created
    assert created["cluster"]["cluster_parameter_group_name"] == "default.docdb5.0"
    for option, value in (("master_username", "someoneelse"), ("subnet_group_name", "other-data"),
                          ("kms_key_id", network["other_key"]), ("engine_version", "4.0.0"),
                          ("instance_class", "db.r6g.large")):
        result = run_module(docdb_cluster, args(local_docdb, network, name, cluster_parameters=None,
                                                cluster_parameter_group_name=None, **{option: value}))
        assert result.get("failed"), (option, result)
        assert "'%s'" % option in result["msg"], (option, result["msg"])
    result = run_module(docdb_cluster, dict(name=name, state="absent", skip_final_snapshot=True,
                                            endpoint_url=local_docdb.url, region="us-west-2", wait_timeout=120))
    assert result["changed"] is True


@pytest.mark.parametrize("extra,option", [
    (dict(name="1-bad"), "name"),
    (dict(name="two--hyphens"), "name"),
    (dict(instance_count=17), "instance_count"),
    (dict(instance_count=0), "instance_count"),
    (dict(backup_retention_days=0), "backup_retention_days"),
    (dict(backup_retention_days=36), "backup_retention_days"),
    (dict(engine_version="five"), "engine_version"),
    (dict(instance_class="t3.medium"), "instance_class"),
    (dict(preferred_backup_window="3am"), "preferred_backup_window"),
    (dict(preferred_maintenance_window="sunday"), "preferred_maintenance_window"),
    (dict(security_group_ids=["default"]), "security_group_ids"),
    (dict(cluster_parameter_group_name=None), "cluster_parameter_group_name"),
    (dict(cluster_parameter_group_name="default.docdb5.0"), "cluster_parameter_group_name"),
    (dict(tags={"aws:reserved": "x"}), "tags"),
    (dict(state="absent"), "final_snapshot_identifier"),
    (dict(state="absent", skip_final_snapshot=True, final_snapshot_identifier="x"), "final_snapshot_identifier"),
])
def test_bad_input_fails_before_any_call(local_docdb, docdb, network, run_module, api_calls, extra, option):
    options = args(local_docdb, network, "docs-bad")
    options.update(extra)
    if options.get("state") == "absent":
        options = dict((k, v) for k, v in options.items() if k in ("name", "state", "skip_final_snapshot",
                                                                   "final_snapshot_identifier", "endpoint_url",
                                                                   "region"))
    result = run_module(docdb_cluster, options)
    assert result.get("failed"), result
    assert option in result["msg"], result["msg"]
    assert api_calls == []


def test_creation_needs_the_options_aws_needs(local_docdb, docdb, network, run_module):
    result = run_module(docdb_cluster, args(local_docdb, network, unique(), master_username=None))
    assert result.get("failed") and "'master_username' is required" in result["msg"]
    result = run_module(docdb_cluster, args(local_docdb, network, unique(), subnet_group_name="missing-group"))
    assert result.get("failed") and "DBSubnetGroupNotFoundFault" in json.dumps(result)
