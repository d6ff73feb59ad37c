"""scripts/local_aws/docdb.py: DocumentDB served by the strict local AWS.

One proxy per module (``scripts/aws_proxy.py`` with moto inside, as ``scripts/local.sh``
starts it) at a high time scale; a boto3 ``docdb`` client talks to it, so every request is what
botocore sends and every answer is parsed as botocore parses AWS's. Every raw answer is also
checked against botocore's docdb model (members, types, declared error codes and their HTTP
status) when the test ends. The subnet group, security group and KMS keys are made in moto
with the ordinary clients, as the collection's roles make them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from query_shapes import answer_problems

ROOT = Path(__file__).resolve().parents[3]
PROXY = ROOT / "scripts" / "aws_proxy.py"
REGION = "us-west-2"
ACCOUNT = "123456789012"
SCALE = 500.0   # a cluster is creating for 1.5 s, deleting for 0.84 s
ONE_TRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
MODEL = botocore.session.get_session().get_service_model("docdb")


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalAws:
    """The strict local AWS in its own process; ``answers`` holds every raw docdb answer."""

    def __init__(self, tmp, scale=SCALE):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.answers = []
        env = dict(os.environ)
        env.pop("MOTO_ACCOUNT_ID", None)
        self.proc = subprocess.Popen(
            [sys.executable, str(PROXY), "--port", str(self.port), "--log", str(tmp / "requests.jsonl"),
             "--time-scale", str(scale), "--strict-seed", "7"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "proxy.log", "w"))
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/_proxy/health", timeout=1)
                break
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.proc.kill()
                    raise RuntimeError("the local AWS did not start: %s" % (tmp / "proxy.log").read_text())
                time.sleep(0.2)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def control(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as answer:
            return json.loads(answer.read())

    def client(self, service, record=True):
        client = boto3.client(service, endpoint_url=self.url, region_name=REGION, aws_access_key_id="testing",
                              aws_secret_access_key="testing", config=ONE_TRY)
        if record and service in ("docdb", "rds"):
            def keep(operation_model=None, response_dict=None, **_kwargs):
                self.answers.append((operation_model.name, response_dict["status_code"], response_dict["body"]))

            client.meta.events.register("before-parse", keep)
        return client

    def problems(self):
        found = []
        for operation, status, body in self.answers:
            for problem in answer_problems("docdb", operation, status, body):
                found.append("%s %s: %s" % (operation, status, problem))
        return found


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def local_aws(tmp_path_factory):
    server = LocalAws(tmp_path_factory.mktemp("local-aws-docdb"))
    yield server
    server.stop()


@pytest.fixture
def docdb(local_aws):
    local_aws.answers.clear()
    yield local_aws.client("docdb")
    problems = local_aws.problems()
    assert problems == [], "answers that do not fit botocore's docdb model:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def network(local_aws):
    """A VPC with subnets in two zones (and one in a single zone), a security group, RDS
    subnet groups and KMS keys, made in moto with the ordinary clients."""
    ec2, rds, kms = local_aws.client("ec2"), local_aws.client("rds", record=False), local_aws.client("kms")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.%d.0/24" % i, AvailabilityZone=REGION + zone)["Subnet"]
               ["SubnetId"] for i, zone in enumerate("abc")]
    group = ec2.create_security_group(VpcId=vpc, GroupName="docdb", Description="docdb")["GroupId"]
    other_vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    stranger = ec2.create_security_group(VpcId=other_vpc, GroupName="other", Description="other")["GroupId"]
    rds.create_db_subnet_group(DBSubnetGroupName="docdb-subnets", DBSubnetGroupDescription="docdb",
                               SubnetIds=subnets)
    rds.create_db_subnet_group(DBSubnetGroupName="one-zone", DBSubnetGroupDescription="one zone",
                               SubnetIds=subnets[:1])
    key = kms.create_key(Description="docdb storage")["KeyMetadata"]["Arn"]
    secret_key = kms.create_key(Description="docdb secret")["KeyMetadata"]["Arn"]
    disabled = kms.create_key(Description="disabled")["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=disabled)
    return dict(vpc=vpc, subnets=subnets, group=group, stranger=stranger, key=key, secret_key=secret_key,
                disabled=disabled)


def unique(prefix="docs"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def cluster_request(network, name, **extra):
    request = dict(DBClusterIdentifier=name, Engine="docdb", EngineVersion="5.0.0", MasterUsername="hhadmin",
                   ManageMasterUserPassword=True, MasterUserSecretKmsKeyId=network["secret_key"],
                   StorageEncrypted=True, KmsKeyId=network["key"], DBSubnetGroupName="docdb-subnets",
                   VpcSecurityGroupIds=[network["group"]], BackupRetentionPeriod=7,
                   PreferredBackupWindow="03:00-04:00", PreferredMaintenanceWindow="sun:05:00-sun:06:00",
                   EnableCloudwatchLogsExports=["audit"], Tags=[{"Key": "team", "Value": "platform"}])
    request.update(extra)
    return {k: v for k, v in request.items() if v is not None}


def wait_status(read, wanted, seconds=20):
    deadline = time.time() + seconds
    while True:
        value = read()
        if value == wanted:
            return value
        if time.time() > deadline:
            raise AssertionError("still %r, not %r" % (value, wanted))
        time.sleep(0.1)


def cluster_status(docdb, name):
    try:
        return docdb.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["Status"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "DBClusterNotFoundFault":
            return None
        raise


def instance_status(docdb, name):
    try:
        return docdb.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]["DBInstanceStatus"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "DBInstanceNotFound":
            return None
        raise


def refused(call, **request):
    with pytest.raises(ClientError) as excinfo:
        call(**request)
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


# ---------------------------------------------------------------------------------------------
# Clusters and instances


def test_cluster_life_creating_available_modified_deleted(local_aws, docdb, network):
    name = unique()
    created = docdb.create_db_cluster(**cluster_request(network, name))["DBCluster"]
    assert created["Status"] == "creating"
    assert created["Engine"] == "docdb" and created["EngineVersion"] == "5.0.0"
    assert created["Port"] == 27017 and created["MasterUsername"] == "hhadmin"
    assert created["StorageEncrypted"] is True and created["KmsKeyId"] == network["key"]
    assert created["DBSubnetGroup"] == "docdb-subnets"
    assert created["VpcSecurityGroups"] == [{"VpcSecurityGroupId": network["group"], "Status": "active"}]
    assert created["DBClusterParameterGroup"] == "default.docdb5.0"
    assert created["BackupRetentionPeriod"] == 7 and created["PreferredBackupWindow"] == "03:00-04:00"
    assert created["EnabledCloudwatchLogsExports"] == ["audit"] and created["DeletionProtection"] is False
    assert created["Endpoint"].startswith(name + ".cluster-") and ".cluster-ro-" in created["ReaderEndpoint"]
    assert created["DBClusterArn"] == "arn:aws:rds:%s:%s:cluster:%s" % (REGION, ACCOUNT, name)
    secret = created["MasterUserSecret"]
    assert secret["KmsKeyId"] == network["secret_key"] and secret["SecretStatus"] == "creating"
    assert "MasterUserPassword" not in json.dumps(created, default=str)

    # the managed password is a Secrets Manager secret, as RDS makes it
    sm = local_aws.client("secretsmanager")
    described = sm.describe_secret(SecretId=secret["SecretArn"])
    assert described["Name"].startswith("rds!cluster-")
    assert described["KmsKeyId"] == network["secret_key"]
    assert described["OwningService"] == "rds" if "OwningService" in described else True
    assert {"Key": "aws:rds:primaryDBClusterArn", "Value": created["DBClusterArn"]} in described["Tags"]
    value = json.loads(sm.get_secret_value(SecretId=secret["SecretArn"])["SecretString"])
    assert value["username"] == "hhadmin" and len(value["password"]) >= 8

    # not available yet: no change, no deletion
    code, message = refused(docdb.modify_db_cluster, DBClusterIdentifier=name, BackupRetentionPeriod=3,
                            ApplyImmediately=True)
    assert code == "InvalidDBClusterStateFault" and "creating" in message
    assert refused(docdb.delete_db_cluster, DBClusterIdentifier=name, SkipFinalSnapshot=True)[0] == \
        "InvalidDBClusterStateFault"

    instance = docdb.create_db_instance(DBInstanceIdentifier=name + "-1", DBInstanceClass="db.t3.medium",
                                        Engine="docdb", DBClusterIdentifier=name)["DBInstance"]
    assert instance["DBInstanceStatus"] == "creating" and "Endpoint" not in instance
    assert instance["DBSubnetGroup"]["VpcId"] == network["vpc"]
    wait_status(lambda: cluster_status(docdb, name), "available")
    wait_status(lambda: instance_status(docdb, name + "-1"), "available")
    cluster = docdb.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
    assert cluster["MasterUserSecret"]["SecretStatus"] == "active"
    assert cluster["DBClusterMembers"] == [{"DBInstanceIdentifier": name + "-1", "IsClusterWriter": True,
                                            "DBClusterParameterGroupStatus": "in-sync", "PromotionTier": 1}]
    described = docdb.describe_db_instances(DBInstanceIdentifier=name + "-1")["DBInstances"][0]
    assert described["Endpoint"]["Port"] == 27017 and described["KmsKeyId"] == network["key"]

    # every transition was timed
    events = [(e["kind"], e["name"]) for e in local_aws.control("/_aws/timing")["events"]]
    assert ("docdb_cluster_create", name) in events and ("docdb_cluster_create", name + "-1") in events

    modified = docdb.modify_db_cluster(
        DBClusterIdentifier=name, ApplyImmediately=True, BackupRetentionPeriod=14, DeletionProtection=True,
        PreferredBackupWindow="01:00-01:30",
        CloudwatchLogsExportConfiguration={"EnableLogTypes": ["profiler"], "DisableLogTypes": ["audit"]})["DBCluster"]
    assert modified["BackupRetentionPeriod"] == 14 and modified["DeletionProtection"] is True
    assert modified["EnabledCloudwatchLogsExports"] == ["profiler"]
    assert modified["PreferredBackupWindow"] == "01:00-01:30"

    # instances first, then protection, then a final snapshot or SkipFinalSnapshot
    code, message = refused(docdb.delete_db_cluster, DBClusterIdentifier=name, SkipFinalSnapshot=True)
    assert code == "InvalidParameterCombination" and "deletion protection" in message
    docdb.modify_db_cluster(DBClusterIdentifier=name, DeletionProtection=False, ApplyImmediately=True)
    code, message = refused(docdb.delete_db_cluster, DBClusterIdentifier=name, SkipFinalSnapshot=True)
    assert code == "InvalidDBClusterStateFault" and "still contains DB instances" in message
    assert docdb.delete_db_instance(DBInstanceIdentifier=name + "-1")["DBInstance"]["DBInstanceStatus"] == "deleting"
    assert refused(docdb.delete_db_instance, DBInstanceIdentifier=name + "-1")[0] == "InvalidDBInstanceState"
    code, message = refused(docdb.delete_db_cluster, DBClusterIdentifier=name)
    assert code == "InvalidParameterCombination" and "FinalDBSnapshotIdentifier" in message
    deleted = docdb.delete_db_cluster(DBClusterIdentifier=name, FinalDBSnapshotIdentifier=name + "-final")
    assert deleted["DBCluster"]["Status"] == "deleting"
    assert refused(docdb.modify_db_cluster, DBClusterIdentifier=name, BackupRetentionPeriod=2)[0] == \
        "InvalidDBClusterStateFault"
    snapshot = docdb.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name + "-final")
    assert snapshot["DBClusterSnapshots"][0]["DBClusterIdentifier"] == name
    with pytest.raises(ClientError):
        sm.describe_secret(SecretId=secret["SecretArn"])
    wait_status(lambda: instance_status(docdb, name + "-1"), None)
    wait_status(lambda: cluster_status(docdb, name), None)
    events = [(e["kind"], e["name"]) for e in local_aws.control("/_aws/timing")["events"]]
    assert ("docdb_cluster_delete", name) in events and ("docdb_cluster_delete", name + "-1") in events
    assert refused(docdb.describe_db_clusters, DBClusterIdentifier=name) == (
        "DBClusterNotFoundFault", "DBCluster %s not found." % name)
    docdb.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=name + "-final")


def test_create_cluster_refusals_with_aws_codes(docdb, network):
    name = unique()
    cases = [
        (dict(EngineVersion="3.6.0"), "InvalidParameterCombination", "Cannot find version 3.6.0 for docdb"),
        (dict(MasterUsername=None), "InvalidParameterValue", "MasterUsername"),
        (dict(ManageMasterUserPassword=None, MasterUserSecretKmsKeyId=None), "InvalidParameterValue",
         "MasterUserPassword"),
        (dict(MasterUserPassword="long-enough-1"), "InvalidParameterCombination", "MasterUserPassword"),
        (dict(DBSubnetGroupName="missing"), "DBSubnetGroupNotFoundFault", "missing"),
        (dict(DBSubnetGroupName="one-zone"), "DBSubnetGroupDoesNotCoverEnoughAZs", "at least 2"),
        (dict(VpcSecurityGroupIds=["sg-0123456789abcdef0"]), "InvalidParameterValue", "sg-0123456789abcdef0"),
        (dict(VpcSecurityGroupIds=[network["stranger"]]), "InvalidParameterCombination", "different VPCs"),
        (dict(KmsKeyId="arn:aws:kms:%s:%s:key/00000000-0000-0000-0000-000000000000" % (REGION, ACCOUNT)),
         "KMSKeyNotAccessibleFault", "KmsKeyId"),
        (dict(KmsKeyId=network["disabled"]), "KMSKeyNotAccessibleFault", "KmsKeyId"),
        (dict(StorageEncrypted=False), "InvalidParameterCombination", "StorageEncrypted"),
        (dict(MasterUserSecretKmsKeyId="alias/missing"), "KMSKeyNotAccessibleFault", "MasterUserSecretKmsKeyId"),
        (dict(DBClusterParameterGroupName="missing"), "DBClusterParameterGroupNotFound", "missing"),
        (dict(DBClusterParameterGroupName="default.docdb4.0"), "InvalidParameterCombination", "docdb5.0"),
        (dict(BackupRetentionPeriod=36), "InvalidParameterValue", "36"),
        (dict(PreferredBackupWindow="03:00-03:10"), "InvalidParameterValue", "30 minutes"),
        (dict(PreferredMaintenanceWindow="sunday"), "InvalidParameterValue", "sunday"),
        (dict(EnableCloudwatchLogsExports=["slowquery"]), "InvalidParameterValue", "slowquery"),
        (dict(DBClusterIdentifier="1bad--name"), "InvalidParameterValue", "not a valid identifier"),
        (dict(GlobalClusterIdentifier="g"), "InvalidParameterCombination", "not implemented"),
    ]
    for change, code, text in cases:
        request = cluster_request(network, name, **change)
        got_code, message = refused(docdb.create_db_cluster, **request)
        assert (got_code, text in message) == (code, True), (change, got_code, message)
    assert cluster_status(docdb, name) is None


def test_instances_need_a_docdb_cluster_and_a_docdb_class(docdb, network):
    name = unique()
    docdb.create_db_cluster(**cluster_request(network, name, ManageMasterUserPassword=None,
                                              MasterUserSecretKmsKeyId=None, MasterUserPassword="s3cret-pass"))
    assert refused(docdb.create_db_cluster, **cluster_request(network, name))[0] == "DBClusterAlreadyExistsFault"
    code, message = refused(docdb.create_db_instance, DBInstanceIdentifier=name + "-1", DBInstanceClass="db.t2.micro",
                            Engine="docdb", DBClusterIdentifier=name)
    assert code == "InvalidParameterCombination" and "DBInstanceClass=db.t2.micro" in message
    assert refused(docdb.create_db_instance, DBInstanceIdentifier=name + "-1", DBInstanceClass="db.r6g.large",
                   Engine="docdb", DBClusterIdentifier="nothing-here")[0] == "DBClusterNotFoundFault"
    docdb.create_db_instance(DBInstanceIdentifier=name + "-1", DBInstanceClass="db.r6g.large", Engine="docdb",
                             DBClusterIdentifier=name)
    assert refused(docdb.create_db_instance, DBInstanceIdentifier=name + "-1", DBInstanceClass="db.r5.large",
                   Engine="docdb", DBClusterIdentifier=name)[0] == "DBInstanceAlreadyExists"
    assert refused(docdb.describe_db_instances, DBInstanceIdentifier="nothing-here")[0] == "DBInstanceNotFound"
    listed = docdb.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [name]}])["DBInstances"]
    assert [i["DBInstanceIdentifier"] for i in listed] == [name + "-1"]
    # the cluster's password is never in an answer
    assert "s3cret-pass" not in json.dumps(docdb.describe_db_clusters(DBClusterIdentifier=name), default=str)
    wait_status(lambda: instance_status(docdb, name + "-1"), "available")
    docdb.delete_db_instance(DBInstanceIdentifier=name + "-1")
    wait_status(lambda: cluster_status(docdb, name), "available")
    docdb.delete_db_cluster(DBClusterIdentifier=name, SkipFinalSnapshot=True)


def test_lists_engine_versions_and_rds_sees_documentdb_too(local_aws, docdb, network):
    versions = docdb.describe_db_engine_versions(Engine="docdb")["DBEngineVersions"]
    assert [(v["EngineVersion"], v["DBParameterGroupFamily"]) for v in versions] == [
        ("4.0.0", "docdb4.0"), ("5.0.0", "docdb5.0")]
    assert docdb.describe_db_engine_versions(Engine="docdb", DefaultOnly=True)["DBEngineVersions"][0][
        "EngineVersion"] == "5.0.0"
    name = unique()
    docdb.create_db_cluster(**cluster_request(network, name, Tags=[]))
    only = docdb.describe_db_clusters(Filters=[{"Name": "engine", "Values": ["docdb"]}])["DBClusters"]
    assert name in [c["DBClusterIdentifier"] for c in only]
    # without a filter AWS lists every engine's clusters: moto's and this service's
    rds = local_aws.client("rds")
    assert name in [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]]
    wait_status(lambda: cluster_status(docdb, name), "available")
    docdb.delete_db_cluster(DBClusterIdentifier=name, SkipFinalSnapshot=True)


# ---------------------------------------------------------------------------------------------
# Cluster parameter groups and tags


def test_cluster_parameter_groups(docdb, network):
    name = unique("docdb-params")
    group = docdb.create_db_cluster_parameter_group(DBClusterParameterGroupName=name, DBParameterGroupFamily="docdb5.0",
                                                    Description="HoneyHive")["DBClusterParameterGroup"]
    assert group["DBClusterParameterGroupArn"].endswith(":cluster-pg:" + name)
    assert refused(docdb.create_db_cluster_parameter_group, DBClusterParameterGroupName=name,
                   DBParameterGroupFamily="docdb5.0", Description="again")[0] == "DBParameterGroupAlreadyExists"
    parameters = {p["ParameterName"]: p for p in docdb.describe_db_cluster_parameters(
        DBClusterParameterGroupName=name)["Parameters"]}
    assert parameters["tls"]["ParameterValue"] == "enabled" and parameters["tls"]["ApplyType"] == "static"
    assert parameters["audit_logs"]["ParameterValue"] == "disabled"
    assert parameters["profiler"]["ParameterValue"] == "disabled"
    assert refused(docdb.modify_db_cluster_parameter_group, DBClusterParameterGroupName=name, Parameters=[
        {"ParameterName": "tls", "ParameterValue": "disabled", "ApplyMethod": "immediate"}])[0] == \
        "InvalidParameterCombination"
    assert refused(docdb.modify_db_cluster_parameter_group, DBClusterParameterGroupName=name, Parameters=[
        {"ParameterName": "tls", "ParameterValue": "maybe", "ApplyMethod": "pending-reboot"}])[0] == \
        "InvalidParameterValue"
    assert refused(docdb.modify_db_cluster_parameter_group, DBClusterParameterGroupName=name, Parameters=[
        {"ParameterName": "nope", "ParameterValue": "1", "ApplyMethod": "pending-reboot"}])[0] == \
        "InvalidParameterValue"
    docdb.modify_db_cluster_parameter_group(DBClusterParameterGroupName=name, Parameters=[
        {"ParameterName": "tls", "ParameterValue": "disabled", "ApplyMethod": "pending-reboot"},
        {"ParameterName": "audit_logs", "ParameterValue": "enabled", "ApplyMethod": "immediate"}])
    user = docdb.describe_db_cluster_parameters(DBClusterParameterGroupName=name, Source="user")["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in user} == {"tls": "disabled", "audit_logs": "enabled"}
    assert refused(docdb.describe_db_cluster_parameters, DBClusterParameterGroupName="missing-group")[0] == \
        "DBParameterGroupNotFound"
    assert refused(docdb.modify_db_cluster_parameter_group, DBClusterParameterGroupName="default.docdb5.0",
                   Parameters=[{"ParameterName": "tls", "ParameterValue": "disabled",
                                "ApplyMethod": "pending-reboot"}])[0] == "InvalidParameterValue"

    cluster = unique()
    docdb.create_db_cluster(**cluster_request(network, cluster, DBClusterParameterGroupName=name))
    assert refused(docdb.delete_db_cluster_parameter_group, DBClusterParameterGroupName=name)[0] == \
        "InvalidDBParameterGroupState"
    wait_status(lambda: cluster_status(docdb, cluster), "available")
    docdb.delete_db_cluster(DBClusterIdentifier=cluster, SkipFinalSnapshot=True)
    wait_status(lambda: cluster_status(docdb, cluster), None)
    docdb.delete_db_cluster_parameter_group(DBClusterParameterGroupName=name)
    assert refused(docdb.describe_db_cluster_parameter_groups, DBClusterParameterGroupName=name)[0] == \
        "DBParameterGroupNotFound"


def test_tags_on_docdb_arns(docdb, network):
    name = unique()
    arn = docdb.create_db_cluster(**cluster_request(network, name))["DBCluster"]["DBClusterArn"]
    assert docdb.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "team", "Value": "platform"}]
    docdb.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "env", "Value": "test"},
                                                       {"Key": "team", "Value": "data"}])
    docdb.remove_tags_from_resource(ResourceName=arn, TagKeys=["env"])
    assert docdb.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "team", "Value": "data"}]
    missing = "arn:aws:rds:%s:%s:cluster:%s" % (REGION, ACCOUNT, unique())
    assert refused(docdb.list_tags_for_resource, ResourceName=missing)[0] == "DBClusterNotFoundFault"
    wait_status(lambda: cluster_status(docdb, name), "available")
    docdb.delete_db_cluster(DBClusterIdentifier=name, SkipFinalSnapshot=True)


def test_recognising_documentdb_requests():
    """The rds/docdb wire is one: what the recogniser reads to tell them apart."""
    session = botocore.session.get_session()
    docdb_meta, rds_meta = session.get_service_model("docdb").metadata, session.get_service_model("rds").metadata
    for key in ("signingName", "endpointPrefix", "apiVersion", "protocol", "xmlNamespace"):
        assert docdb_meta[key] == rds_meta[key], key
    sys.path.insert(0, str(ROOT / "scripts"))
    from local_aws import docdb as local_docdb

    assert local_docdb._snake("DescribeDBClusterParameterGroups") == "describe_db_cluster_parameter_groups"
    for operation in local_docdb.LocalDocdb.OPERATIONS:
        assert operation in MODEL.operation_names
        assert hasattr(local_docdb.LocalDocdb, "_op_" + local_docdb._snake(operation)), operation
