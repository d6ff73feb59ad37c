"""The local ElastiCache (scripts/local_aws/elasticache.py): cache parameter groups and engine
versions served, replication groups refused, answered and timed as AWS does.

boto3 clients talk to ``moto.mock_aws`` through the strict harness (strict_harness.py), each
request going through :class:`LocalElastiCache` first; the clock is the test's. Answers the
behaviour builds are checked against botocore's model (query_shapes.py).
"""
from __future__ import annotations

import botocore.exceptions
import pytest
from moto import mock_aws

from strict_harness import Clock, InProcess, REGION
from local_aws.elasticache import LocalElastiCache
from local_aws.timing import DURATIONS, Timing
from query_shapes import xml_problems

SCALE = 20.0
TOKEN = "Str0ng-token-0123456789"


@pytest.fixture
def env():
    with mock_aws():
        harness = InProcess("none,+timing")
        harness.strict.settings.scale = SCALE
        timing = harness.strict.add(Timing(harness.strict))
        harness.clock = Clock()
        harness.strict.add(LocalElastiCache(harness.strict, timing, harness.clock))
        harness.timing = timing
        harness.answers = []
        ec2 = harness.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i,
                                     AvailabilityZone=REGION + z)["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
        harness.sg = ec2.create_security_group(GroupName="redis", Description="r", VpcId=vpc)["GroupId"]
        harness.key = harness.client("kms").create_key()["KeyMetadata"]["Arn"]
        client = harness.client("elasticache")
        client.meta.events.register("after-call", lambda http_response=None, model=None, **_: harness.answers.append(
            (model.name, http_response.status_code, http_response.content)))
        client.create_cache_subnet_group(CacheSubnetGroupName="hh-redis", CacheSubnetGroupDescription="d",
                                         SubnetIds=subnets)
        harness.ec = client
        yield harness
        timing.stop()


def group(env, **overrides):
    params = dict(ReplicationGroupId="hh-redis", ReplicationGroupDescription="d", Engine="redis", EngineVersion="7.1",
                  CacheNodeType="cache.t4g.small", NumCacheClusters=2, AutomaticFailoverEnabled=True,
                  MultiAZEnabled=True, TransitEncryptionEnabled=True, AtRestEncryptionEnabled=True,
                  KmsKeyId=env.key, AuthToken=TOKEN, CacheSubnetGroupName="hh-redis", SecurityGroupIds=[env.sg],
                  SnapshotRetentionLimit=5, CacheParameterGroupName="default.redis7",
                  LogDeliveryConfigurations=[{"LogType": "slow-log", "DestinationType": "cloudwatch-logs",
                                              "DestinationDetails": {"CloudWatchLogsDetails": {"LogGroup": "/hh"}},
                                              "LogFormat": "json"}])
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def refused(call, code, message=None):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert error["Code"] == code, error
    if message:
        assert message in error["Message"], error


def described(env):
    return env.ec.describe_replication_groups(ReplicationGroupId="hh-redis")["ReplicationGroups"][0]


def no_problems(env):
    problems = [(op, xml_problems("elasticache", op, body)) for op, code, body in env.answers if code == 200]
    assert problems and all(not p for _, p in problems), problems


def test_parameter_groups_are_served_with_redis7_defaults(env):
    ec = env.ec
    created = ec.create_cache_parameter_group(CacheParameterGroupName="hh-redis7", CacheParameterGroupFamily="redis7",
                                              Description="d")["CacheParameterGroup"]
    assert created["CacheParameterGroupFamily"] == "redis7" and created["ARN"].endswith(":parametergroup:hh-redis7")
    refused(lambda: ec.create_cache_parameter_group(CacheParameterGroupName="hh-redis7",
                                                    CacheParameterGroupFamily="redis7", Description="d"),
            "CacheParameterGroupAlreadyExists")
    values = {p["ParameterName"]: p["ParameterValue"] for p in ec.describe_cache_parameters(
        CacheParameterGroupName="hh-redis7")["Parameters"]}
    assert values["maxmemory-policy"] == "volatile-lru" and values["cluster-enabled"] == "no"
    ec.modify_cache_parameter_group(CacheParameterGroupName="hh-redis7", ParameterNameValues=[
        {"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}])
    user = ec.describe_cache_parameters(CacheParameterGroupName="hh-redis7", Source="user")["Parameters"]
    assert [(p["ParameterName"], p["ParameterValue"]) for p in user] == [("maxmemory-policy", "allkeys-lru")]
    refused(lambda: ec.modify_cache_parameter_group(CacheParameterGroupName="hh-redis7", ParameterNameValues=[
        {"ParameterName": "maxmemory-policy", "ParameterValue": "sometimes"}]), "InvalidParameterValue")
    refused(lambda: ec.modify_cache_parameter_group(CacheParameterGroupName="default.redis7", ParameterNameValues=[
        {"ParameterName": "timeout", "ParameterValue": "30"}]), "InvalidParameterValue")
    names = [g["CacheParameterGroupName"] for g in ec.describe_cache_parameter_groups()["CacheParameterGroups"]]
    assert {"default.redis7", "default.redis7.cluster.on", "hh-redis7"} <= set(names)
    versions = ec.describe_cache_engine_versions(Engine="redis", DefaultOnly=True)["CacheEngineVersions"]
    assert [(v["EngineVersion"], v["CacheParameterGroupFamily"]) for v in versions] == [("7.1.0", "redis7")]
    ec.delete_cache_parameter_group(CacheParameterGroupName="hh-redis7")
    refused(lambda: ec.describe_cache_parameter_groups(CacheParameterGroupName="hh-redis7"),
            "CacheParameterGroupNotFound")
    no_problems(env)


@pytest.mark.parametrize("overrides,code,message", [
    ({"TransitEncryptionEnabled": False}, "InvalidParameterValue", "encryption-in-transit"),
    ({"AuthToken": "short-token"}, "InvalidParameterValue", "Invalid AuthToken provided."),
    ({"AuthToken": "x" * 129}, "InvalidParameterValue", "Invalid AuthToken provided."),
    ({"AuthToken": "has@forbidden/chars1234"}, "InvalidParameterValue", "Invalid AuthToken provided."),
    ({"NumCacheClusters": 1, "MultiAZEnabled": False}, "InvalidParameterCombination",
     "there must be at least 2 cache clusters"),
    ({"AutomaticFailoverEnabled": False}, "InvalidParameterCombination", "Multi-AZ"),
    ({"EngineVersion": "7.9"}, "InvalidParameterCombination", "7.9"),
    ({"CacheParameterGroupName": "missing"}, "CacheParameterGroupNotFound", None),
    ({"KmsKeyId": "alias/missing"}, "InvalidParameterValue", "alias/missing"),
    ({"SecurityGroupIds": ["sg-0000000000000dead"]}, "InvalidParameterValue", "sg-0000000000000dead"),
])
def test_create_refuses_what_aws_refuses(env, overrides, code, message):
    refused(lambda: env.ec.create_replication_group(**group(env, **overrides)), code, message)
    refused(lambda: env.ec.describe_replication_groups(ReplicationGroupId="hh-redis"), "ReplicationGroupNotFoundFault")


def test_a_replication_group_keeps_its_settings_and_goes_creating_then_available(env):
    env.ec.create_replication_group(**group(env))
    seen = described(env)
    assert seen["Status"] == "creating"
    assert (seen["AuthTokenEnabled"], seen["TransitEncryptionEnabled"], seen["AtRestEncryptionEnabled"]) == (
        True, True, True)
    assert seen["KmsKeyId"] == env.key and seen["MultiAZ"] == "enabled" and seen["AutomaticFailover"] == "enabled"
    assert [c["LogType"] for c in seen["LogDeliveryConfigurations"]] == ["slow-log"]
    assert TOKEN not in str(seen)
    members = seen["NodeGroups"][0]["NodeGroupMembers"]
    assert [m["PreferredAvailabilityZone"] for m in members] == [REGION + "a", REGION + "b"]
    assert seen["MemberClusters"] == ["hh-redis-001", "hh-redis-002"]
    assert ".usw2.cache.amazonaws.com" in seen["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
    assert ".usw2.cache.amazonaws.com" in seen["NodeGroups"][0]["ReaderEndpoint"]["Address"]
    refused(lambda: env.ec.modify_replication_group(ReplicationGroupId="hh-redis", AuthToken=TOKEN + "x",
                                                    AuthTokenUpdateStrategy="ROTATE", ApplyImmediately=True),
            "InvalidReplicationGroupState")
    refused(lambda: env.ec.delete_replication_group(ReplicationGroupId="hh-redis"), "InvalidReplicationGroupState")
    env.clock.now += DURATIONS["elasticache_replication_group_create"][0] / SCALE
    assert described(env)["Status"] == "available"
    assert [e["kind"] for e in env.timing.events if e["name"] == "hh-redis"] == ["elasticache_replication_group_create"]
    no_problems(env)


def test_auth_token_rotation_is_accepted_then_delete_is_timed(env):
    env.ec.create_replication_group(**group(env))
    env.clock.now += DURATIONS["elasticache_replication_group_create"][0] / SCALE
    refused(lambda: env.ec.modify_replication_group(ReplicationGroupId="hh-redis", AuthToken="short",
                                                    AuthTokenUpdateStrategy="ROTATE", ApplyImmediately=True),
            "InvalidParameterValue", "Invalid AuthToken provided.")
    refused(lambda: env.ec.modify_replication_group(ReplicationGroupId="hh-redis", AuthTokenUpdateStrategy="SET",
                                                    ApplyImmediately=True), "InvalidParameterCombination")
    env.ec.modify_replication_group(ReplicationGroupId="hh-redis", AuthToken=TOKEN + "-next",
                                    AuthTokenUpdateStrategy="ROTATE", ApplyImmediately=True)
    seen = described(env)
    assert seen["Status"] == "modifying" and seen["PendingModifiedValues"]["AuthTokenStatus"] == "ROTATING"
    env.clock.now += 60 / SCALE
    seen = described(env)
    assert seen["Status"] == "available" and seen["AuthTokenEnabled"] is True
    env.ec.delete_replication_group(ReplicationGroupId="hh-redis")
    assert described(env)["Status"] == "deleting"
    refused(lambda: env.ec.delete_replication_group(ReplicationGroupId="hh-redis"), "InvalidReplicationGroupState")
    env.clock.now += DURATIONS["elasticache_replication_group_delete"][0] / SCALE
    refused(lambda: described(env), "ReplicationGroupNotFoundFault")
    no_problems(env)
