"""honeyhive.platform.elasticache_replication_group.

Against the moto server: the secret is written before the group is created and its value is the
token the group is created with, the token appears in no result, a second run reads no secret
value, check mode makes no mutating call, rotation, a run killed between the two creations, the
settings moto keeps (read back through boto3), in-place modifications and immutable settings.

What moto 5.2 does not keep (the number of member clusters - it reports one whatever
NumCacheClusters says -, the member clusters' settings - DescribeCacheClusters does not know
them -, and finished deletions - a deleted group stays ``deleting``) is checked on the request
the module sent, or with botocore's Stubber on the real ElastiCache service model: the no-change
run of a group with replicas and member clusters, replica and engine changes, waiting for a
group created with ``wait: false``, and a deletion that waits and deletes the secret.
"""
from __future__ import annotations

import copy
import datetime
import json
import uuid

import pytest
from botocore.client import BaseClient
from botocore.stub import ANY

from ansible_collections.honeyhive.platform.plugins.modules import elasticache_replication_group as module_under_test

KMS_ARN = "arn:aws:kms:us-west-2:123456789012:key/0b7d7e3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
SECRET_KMS = "alias/platform-secrets"
VERSION = "0" * 8 + "-1111-2222-3333-" + "4" * 12

pytestmark = pytest.mark.usefixtures("aws_env")

MUTATING = ("Create", "Modify", "Delete", "Put", "Add", "Remove", "Tag", "Untag", "Restore", "Increase", "Decrease",
            "Update")


@pytest.fixture
def requests(monkeypatch):
    """(operation, params) of every AWS call made through botocore, in order."""
    sent = []
    original = BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        sent.append((operation_name, copy.deepcopy(api_params)))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return sent


@pytest.fixture
def elasticache(moto_client):
    return moto_client("elasticache")


@pytest.fixture
def secretsmanager(moto_client):
    return moto_client("secretsmanager")


@pytest.fixture
def name():
    return "hh-%s" % uuid.uuid4().hex[:10]


def args(moto_endpoint, name, **extra):
    base = dict(name=name, node_type="cache.t4g.small", auth_token_secret_name="%s/auth-token" % name,
                endpoint_url=moto_endpoint, region="us-west-2")
    base.update(extra)
    return base


FULL = dict(
    description="platform cache", engine_version="7.1", replicas=2, automatic_failover=True, multi_az=True,
    port=6380, subnet_group_name="hh-cache", security_group_ids=["sg-0123456789abcdef0"],
    parameter_group_name="hh-redis7", kms_key_id=KMS_ARN, auth_token_secret_kms_key_id=SECRET_KMS,
    snapshot_retention_days=7, snapshot_window="03:00-04:00", maintenance_window="Sun:05:00-sun:06:30",
    slow_log_group="/hh/redis/slow-log", auto_minor_version_upgrade=False, tags={"Environment": "test", "Owner": "platform"},
)


def only(requests, operation):
    found = [params for op, params in requests if op == operation]
    assert len(found) == 1, (operation, [op for op, _ in requests])
    return found[0]


def operations(requests):
    return [op for op, _ in requests]


def mutating(requests):
    return [op for op in operations(requests) if op.startswith(MUTATING)]


def secret_value(secretsmanager, secret_name):
    return secretsmanager.get_secret_value(SecretId=secret_name)["SecretString"]


def assert_not_in_result(result, token):
    text = json.dumps(result)
    assert token not in text
    # nothing had to be masked either (Ansible replaces a no_log value with the marker, and
    # masks it inside a longer string): the module never tried to return the token. The
    # invocation's own no_log options (the AWS keys) carry the marker and are left out.
    returned = json.dumps(dict((k, v) for k, v in result.items() if k != "invocation"))
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" not in returned
    assert "********" not in text


# ------------------------------------------------------------------ moto


def test_create_stores_the_token_first_and_reads_back_every_setting(
        run_module, elasticache, secretsmanager, name, moto_endpoint, requests):
    result = run_module(module_under_test, args(moto_endpoint, name, _ansible_diff=True, **FULL))
    assert not result.get("failed"), result
    assert result["changed"] is True
    secret_name = "%s/auth-token" % name

    # the secret is written before the group is created, and nothing reads it back
    ops = operations(requests)
    assert ops.index("CreateSecret") < ops.index("CreateReplicationGroup")
    assert "GetSecretValue" not in ops and "PutSecretValue" not in ops

    # the token: Secrets Manager -> CreateReplicationGroup, and in no result
    token = secret_value(secretsmanager, secret_name)
    create = only(requests, "CreateReplicationGroup")
    assert create["AuthToken"] == token
    assert len(token) == 64
    assert module_under_test.TOKEN_RE.match(token)
    assert not set(token) & set('@"/ ')
    assert_not_in_result(result, token)

    # what moto keeps, read back
    group = elasticache.describe_replication_groups(ReplicationGroupId=name)["ReplicationGroups"][0]
    assert group["Description"] == "platform cache"
    assert group["CacheNodeType"] == "cache.t4g.small"
    assert group["AutomaticFailover"] == "enabled"
    assert group["MultiAZ"] == "enabled"
    assert group["TransitEncryptionEnabled"] is True
    assert group["AtRestEncryptionEnabled"] is True
    assert group["AuthTokenEnabled"] is True
    assert group["KmsKeyId"] == KMS_ARN
    assert group["SnapshotRetentionLimit"] == 7
    assert group["SnapshotWindow"] == "03:00-04:00"
    assert group["AutoMinorVersionUpgrade"] is False
    assert group["NodeGroups"][0]["PrimaryEndpoint"]["Port"] == 6380
    [log] = group["LogDeliveryConfigurations"]
    assert (log["LogType"], log["DestinationType"], log["LogFormat"]) == ("slow-log", "cloudwatch-logs", "json")
    assert log["DestinationDetails"]["CloudWatchLogsDetails"]["LogGroup"] == "/hh/redis/slow-log"
    tags = elasticache.list_tags_for_resource(ResourceName=group["ARN"])["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == FULL["tags"]

    # what moto does not keep, on the request
    assert create["Engine"] == "redis"
    assert create["EngineVersion"] == "7.1"
    assert create["NumCacheClusters"] == 3
    assert create["CacheSubnetGroupName"] == "hh-cache"
    assert create["SecurityGroupIds"] == ["sg-0123456789abcdef0"]
    assert create["CacheParameterGroupName"] == "hh-redis7"
    assert create["PreferredMaintenanceWindow"] == "sun:05:00-sun:06:30"

    # the secret: encrypted with its key, tagged
    secret = secretsmanager.describe_secret(SecretId=secret_name)
    assert secret["KmsKeyId"] == SECRET_KMS
    assert {t["Key"]: t["Value"] for t in secret["Tags"]} == FULL["tags"]

    # the result
    assert result["auth_token_secret_arn"] == secret["ARN"]
    view = result["replication_group"]
    assert view["id"] == name and view["arn"] == group["ARN"]
    assert view["status"] == "available"
    assert view["primary_endpoint"] == {"address": group["NodeGroups"][0]["PrimaryEndpoint"]["Address"], "port": 6380}
    assert view["transit_encryption_enabled"] is True and view["at_rest_encryption_enabled"] is True
    assert view["auth_token_enabled"] is True
    assert view["kms_key_id"] == KMS_ARN
    assert view["snapshot_retention_limit"] == 7
    assert view["log_delivery_configurations"][0]["log_group"] == "/hh/redis/slow-log"
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["auth_token_secret"] == "present"


def test_second_run_changes_nothing_and_reads_no_secret_value(
        run_module, secretsmanager, name, moto_endpoint, requests):
    # moto reports one member cluster whatever NumCacheClusters says: no replicas here
    options = dict(FULL, replicas=0, automatic_failover=False, multi_az=False)
    first = run_module(module_under_test, args(moto_endpoint, name, **options))
    assert first["changed"] is True, first
    version = secretsmanager.describe_secret(SecretId="%s/auth-token" % name)["VersionIdsToStages"]

    requests.clear()
    second = run_module(module_under_test, args(moto_endpoint, name, _ansible_diff=True, **options))
    assert not second.get("failed"), second
    assert second["changed"] is False
    assert second["actions"] == []
    assert "GetSecretValue" not in operations(requests)
    assert mutating(requests) == []
    assert second["diff"]["before"] == second["diff"]["after"]
    assert second["auth_token_secret_arn"] == first["auth_token_secret_arn"]
    assert secretsmanager.describe_secret(SecretId="%s/auth-token" % name)["VersionIdsToStages"] == version


def test_check_mode_makes_no_mutating_call(run_module, elasticache, secretsmanager, name, moto_endpoint, requests):
    result = run_module(module_under_test, args(moto_endpoint, name, _ansible_check_mode=True, _ansible_diff=True, **FULL))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert mutating(requests) == []
    assert "GetSecretValue" not in operations(requests)
    assert result["replication_group"]["arn"] is None
    assert result["replication_group"]["replicas"] == 2
    assert result["diff"]["after"]["engine_version"] == "7.1"
    assert [g for g in elasticache.describe_replication_groups()["ReplicationGroups"] if g["ReplicationGroupId"] == name] == []
    with pytest.raises(secretsmanager.exceptions.ResourceNotFoundException):
        secretsmanager.describe_secret(SecretId="%s/auth-token" % name)

    options = dict(FULL, replicas=0, automatic_failover=False, multi_az=False)
    run_module(module_under_test, args(moto_endpoint, name, **options))
    requests.clear()
    changed = dict(options, description="other", snapshot_retention_days=3, tags={"Environment": "prod"},
                   rotate_auth_token=True)
    result = run_module(module_under_test, args(moto_endpoint, name, _ansible_check_mode=True, **changed))
    assert result["changed"] is True
    assert any("modify" in a for a in result["actions"]) and any("rotate" in a for a in result["actions"])
    assert mutating(requests) == []
    assert "GetSecretValue" not in operations(requests)
    assert elasticache.describe_replication_groups(ReplicationGroupId=name)["ReplicationGroups"][0]["Description"] == "platform cache"


def test_rotate_modifies_with_rotate_then_stores_a_new_version(
        run_module, secretsmanager, name, moto_endpoint, requests):
    options = dict(FULL, replicas=0, automatic_failover=False, multi_az=False)
    run_module(module_under_test, args(moto_endpoint, name, **options))
    secret_name = "%s/auth-token" % name
    old_token = secret_value(secretsmanager, secret_name)
    old_version = secretsmanager.get_secret_value(SecretId=secret_name)["VersionId"]

    requests.clear()
    result = run_module(module_under_test, args(moto_endpoint, name, rotate_auth_token=True, _ansible_diff=True, **options))
    assert not result.get("failed"), result
    ops = operations(requests)  # the module's calls only
    assert result["changed"] is True
    assert result["auth_token_rotated"] is True
    new = secretsmanager.get_secret_value(SecretId=secret_name)
    assert new["VersionId"] != old_version
    assert new["SecretString"] != old_token
    assert module_under_test.TOKEN_RE.match(new["SecretString"])
    modify = only(requests, "ModifyReplicationGroup")
    assert modify == {"ReplicationGroupId": name, "AuthToken": new["SecretString"], "AuthTokenUpdateStrategy": "ROTATE",
                      "ApplyImmediately": True}
    assert ops.index("ModifyReplicationGroup") < ops.index("PutSecretValue")
    assert "GetSecretValue" not in ops
    assert result["diff"]["after"]["auth_token"] == "rotated"
    assert_not_in_result(result, new["SecretString"])
    assert_not_in_result(result, old_token)


def test_run_killed_between_secret_and_group_reuses_the_token(
        run_module, secretsmanager, name, moto_endpoint, requests):
    secret_name = "%s/auth-token" % name
    token = "Kept-token-from-an-earlier-run-0123456789abcdefABCDEF!&#$^<>"
    secretsmanager.create_secret(Name=secret_name, SecretString=token)
    requests.clear()
    result = run_module(module_under_test, args(moto_endpoint, name))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert only(requests, "CreateReplicationGroup")["AuthToken"] == token
    assert "CreateSecret" not in operations(requests) and "PutSecretValue" not in operations(requests)
    assert operations(requests).index("GetSecretValue") < operations(requests).index("CreateReplicationGroup")
    assert secret_value(secretsmanager, secret_name) == token
    assert_not_in_result(result, token)


def test_secret_not_holding_a_token_is_refused_without_showing_it(run_module, secretsmanager, name, moto_endpoint, requests):
    value = '{"password": "not/a@token"}'
    secretsmanager.create_secret(Name="%s/auth-token" % name, SecretString=value)
    requests.clear()
    result = run_module(module_under_test, args(moto_endpoint, name))
    assert result["failed"] is True
    assert "does not hold a usable auth token" in result["msg"]
    assert value not in json.dumps(result)
    assert "CreateReplicationGroup" not in operations(requests)


def test_modifiable_settings_change_in_place(run_module, elasticache, name, moto_endpoint, requests):
    options = dict(FULL, replicas=0, automatic_failover=False, multi_az=False)
    run_module(module_under_test, args(moto_endpoint, name, **options))
    requests.clear()
    changed = dict(options, description="bigger cache", node_type="cache.r7g.large", snapshot_retention_days=14,
                   slow_log_group="", apply_immediately=False)
    result = run_module(module_under_test, args(moto_endpoint, name, _ansible_diff=True, **changed))
    assert not result.get("failed"), result
    assert result["changed"] is True
    modify = only(requests, "ModifyReplicationGroup")
    assert modify == {
        "ReplicationGroupId": name, "ApplyImmediately": False, "ReplicationGroupDescription": "bigger cache",
        "CacheNodeType": "cache.r7g.large", "SnapshotRetentionLimit": 14,
        "LogDeliveryConfigurations": [{"LogType": "slow-log", "Enabled": False}],
    }
    group = elasticache.describe_replication_groups(ReplicationGroupId=name)["ReplicationGroups"][0]
    assert group["Description"] == "bigger cache"
    assert group["CacheNodeType"] == "cache.r7g.large"
    assert group["SnapshotRetentionLimit"] == 14
    assert result["diff"]["before"]["description"] == "platform cache"
    assert result["diff"]["after"]["description"] == "bigger cache"
    assert "AuthToken" not in modify


def test_tags_kept_in_sync_on_group_and_secret(run_module, elasticache, secretsmanager, name, moto_endpoint):
    first = run_module(module_under_test, args(moto_endpoint, name, tags={"Old": "1", "Keep": "k"}))
    result = run_module(module_under_test, args(moto_endpoint, name, tags={"Keep": "k", "New": "2"}))
    assert result["changed"] is True
    assert result["replication_group"]["tags"] == {"Keep": "k", "New": "2"}
    listed = elasticache.list_tags_for_resource(ResourceName=first["replication_group"]["arn"])["TagList"]
    assert {t["Key"]: t["Value"] for t in listed} == {"Keep": "k", "New": "2"}
    secret = secretsmanager.describe_secret(SecretId="%s/auth-token" % name)
    assert {t["Key"]: t["Value"] for t in secret["Tags"]} == {"Keep": "k", "New": "2"}
    again = run_module(module_under_test, args(moto_endpoint, name, tags={"Keep": "k", "New": "2"}))
    assert again["changed"] is False, again["actions"]


@pytest.mark.parametrize("option, value, have", [("port", 6379, 6380), ("kms_key_id", "0b7d7e3a-1c2d-4e5f-8a9b-000000000000", KMS_ARN)])
def test_settings_that_cannot_change_in_place_are_errors(run_module, name, moto_endpoint, requests, option, value, have):
    run_module(module_under_test, args(moto_endpoint, name, port=6380, kms_key_id=KMS_ARN))
    requests.clear()
    result = run_module(module_under_test, args(moto_endpoint, name, **dict(dict(port=6380, kms_key_id=KMS_ARN), **{option: value})))
    assert result["failed"] is True
    assert "Invalid value for option '%s'" % option in result["msg"]
    assert "cannot change %s" % option in result["msg"]
    assert repr(have) in result["msg"]
    assert mutating(requests) == []


def test_existing_group_without_its_secret_asks_for_a_rotation(run_module, secretsmanager, name, moto_endpoint, requests):
    run_module(module_under_test, args(moto_endpoint, name))
    secretsmanager.delete_secret(SecretId="%s/auth-token" % name, ForceDeleteWithoutRecovery=True)
    requests.clear()
    result = run_module(module_under_test, args(moto_endpoint, name))
    assert result["failed"] is True
    assert "rotate_auth_token: true" in result["msg"]
    assert mutating(requests) == []

    # and the rotation puts a new token in a new secret
    result = run_module(module_under_test, args(moto_endpoint, name, rotate_auth_token=True))
    assert not result.get("failed"), result
    token = secret_value(secretsmanager, "%s/auth-token" % name)
    assert only(requests, "ModifyReplicationGroup")["AuthToken"] == token
    assert result["auth_token_secret_arn"]
    assert_not_in_result(result, token)


def test_wait_false_returns_right_after_the_create(run_module, name, moto_endpoint, requests):
    result = run_module(module_under_test, args(moto_endpoint, name, wait=False))
    assert not result.get("failed"), result
    assert operations(requests)[-1] == "CreateReplicationGroup"
    assert result["replication_group"]["id"] == name


def test_absent_deletes_with_a_final_snapshot(run_module, elasticache, name, moto_endpoint, requests):
    run_module(module_under_test, args(moto_endpoint, name))
    requests.clear()
    # moto never finishes a deletion (the group stays "deleting"): no waiting here
    result = run_module(module_under_test, args(moto_endpoint, name, state="absent", wait=False,
                                                final_snapshot_identifier="%s-final" % name, _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert only(requests, "DeleteReplicationGroup") == {"ReplicationGroupId": name, "FinalSnapshotIdentifier": "%s-final" % name}
    assert "DeleteSecret" not in operations(requests)
    assert result["diff"]["before"]["auth_token_secret"] == "present"
    assert result["replication_group"] == {}
    assert elasticache.describe_replication_groups(ReplicationGroupId=name)["ReplicationGroups"][0]["Status"] == "deleting"

    requests.clear()
    again = run_module(module_under_test, args(moto_endpoint, name, state="absent", wait=False))
    assert again["changed"] is False
    assert mutating(requests) == []


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(replicas=0, automatic_failover=True), "Invalid value for option 'automatic_failover'"),
        (dict(replicas=0, multi_az=True), "Invalid value for option 'multi_az'"),
        (dict(replicas=1, multi_az=True, automatic_failover=False), "multi_az requires automatic_failover"),
        (dict(name="Upper-case"), "Invalid value for option 'name'"),
        (dict(name="1starts-with-digit"), "Invalid value for option 'name'"),
        (dict(name="double--hyphen"), "Invalid value for option 'name'"),
        (dict(name="trailing-"), "Invalid value for option 'name'"),
        (dict(name="a" * 41), "Invalid value for option 'name'"),
        (dict(replicas=6), "Invalid value for option 'replicas': 6"),
        (dict(snapshot_retention_days=36), "Invalid value for option 'snapshot_retention_days': 36"),
        (dict(snapshot_window="03:00-03:30"), "Invalid value for option 'snapshot_window'"),
        (dict(maintenance_window="sun:05:00-sun:05:30"), "Invalid value for option 'maintenance_window'"),
        (dict(maintenance_window="sunday:05:00-sunday:07:00"), "Invalid value for option 'maintenance_window'"),
        (dict(kms_key_id="alias/redis"), "Invalid value for option 'kms_key_id'"),
        (dict(security_group_ids=["default"]), "Invalid value for option 'security_group_ids'"),
        (dict(node_type="r7g.large"), "Invalid value for option 'node_type'"),
        (dict(engine_version="seven"), "Invalid value for option 'engine_version'"),
        (dict(auth_token_secret_name=None), "Option 'auth_token_secret_name' is required"),
        (dict(tags={"aws:x": "y"}), "Invalid value for option 'tags'"),
        (dict(state="absent", final_snapshot_identifier="bad--name"), "Invalid value for option 'final_snapshot_identifier'"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, aws_env, moto_endpoint, api_calls, extra, fragment):
    options = args(moto_endpoint, "hh-cache")
    options.update(extra)
    options = dict((k, v) for k, v in options.items() if v is not None)
    result = run_module(module_under_test, options)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []


# -------------------------------------------------------------- Stubber

GROUP_ARN = "arn:aws:elasticache:us-west-2:123456789012:replicationgroup:hh-cache"
SECRET_ARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:hh-cache/auth-token-AbCdEf"
NOW = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)


def group_answer(status="available", replicas=2, **overrides):
    members = ["hh-cache-%03d" % (i + 1) for i in range(replicas + 1)]
    group = {
        "ReplicationGroupId": "hh-cache", "Description": "platform cache", "Status": status,
        "MemberClusters": members,
        "NodeGroups": [{
            "NodeGroupId": "0001", "Status": status,
            "PrimaryEndpoint": {"Address": "master.hh-cache.abc123.usw2.cache.amazonaws.com", "Port": 6380},
            "ReaderEndpoint": {"Address": "replica.hh-cache.abc123.usw2.cache.amazonaws.com", "Port": 6380},
            "NodeGroupMembers": [{"CacheClusterId": m, "CurrentRole": "primary" if i == 0 else "replica"}
                                 for i, m in enumerate(members)],
        }],
        "AutomaticFailover": "enabled", "MultiAZ": "enabled", "SnapshotRetentionLimit": 7,
        "SnapshotWindow": "03:00-04:00", "ClusterEnabled": False, "CacheNodeType": "cache.t4g.small",
        "AuthTokenEnabled": True, "TransitEncryptionEnabled": True, "AtRestEncryptionEnabled": True,
        "KmsKeyId": KMS_ARN, "ARN": GROUP_ARN,
        "LogDeliveryConfigurations": [{
            "LogType": "slow-log", "DestinationType": "cloudwatch-logs",
            "DestinationDetails": {"CloudWatchLogsDetails": {"LogGroup": "/hh/redis/slow-log"}},
            "LogFormat": "json", "Status": "active"}],
        "AutoMinorVersionUpgrade": False, "Engine": "redis",
    }
    group.update(overrides)
    return {"ReplicationGroups": [group]}


def cluster_answer(**overrides):
    cluster = {
        "CacheClusterId": "hh-cache-001", "CacheNodeType": "cache.t4g.small", "Engine": "redis",
        "EngineVersion": "7.1.0", "CacheClusterStatus": "available", "PreferredMaintenanceWindow": "sun:05:00-sun:06:30",
        "CacheParameterGroup": {"CacheParameterGroupName": "hh-redis7", "ParameterApplyStatus": "in-sync"},
        "CacheSubnetGroupName": "hh-cache", "SecurityGroups": [{"SecurityGroupId": "sg-0123456789abcdef0", "Status": "active"}],
        "ReplicationGroupId": "hh-cache", "AutoMinorVersionUpgrade": False,
    }
    cluster.update(overrides)
    return {"CacheClusters": [cluster]}


def secret_answer(**overrides):
    secret = {"ARN": SECRET_ARN, "Name": "hh-cache/auth-token", "KmsKeyId": SECRET_KMS,
              "Tags": [{"Key": "Environment", "Value": "test"}, {"Key": "Owner", "Value": "platform"}],
              "VersionIdsToStages": {VERSION: ["AWSCURRENT"]}}
    secret.update(overrides)
    return secret


def stub_args(**extra):
    base = dict(FULL, name="hh-cache", node_type="cache.t4g.small", auth_token_secret_name="hh-cache/auth-token",
                region="us-west-2")
    base.update(extra)
    return base


DESCRIBE = {"ReplicationGroupId": "hh-cache"}
DESCRIBE_CLUSTER = {"CacheClusterId": "hh-cache-001"}
LIST_TAGS = {"ResourceName": GROUP_ARN}
DESCRIBE_SECRET = {"SecretId": "hh-cache/auth-token"}
TAGS = {"TagList": [{"Key": "Environment", "Value": "test"}, {"Key": "Owner", "Value": "platform"}]}


def not_found(stubber):
    stubber.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", http_status_code=404,
                             expected_params=DESCRIBE)


def test_stub_no_change_with_replicas_and_member_cluster(run_module, stub_client):
    """Stubber: a group with two replicas whose member cluster reports every setting; the run
    costs four describe calls and reads no secret value."""
    cache, sm = stub_client("elasticache"), stub_client("secretsmanager")
    cache.add_response("describe_replication_groups", group_answer(), DESCRIBE)
    sm.add_response("describe_secret", secret_answer(), DESCRIBE_SECRET)
    cache.add_response("describe_cache_clusters", cluster_answer(), DESCRIBE_CLUSTER)
    cache.add_response("list_tags_for_resource", TAGS, LIST_TAGS)
    cache.activate()
    sm.activate()
    result = run_module(module_under_test, stub_args())
    assert not result.get("failed"), result
    assert result["changed"] is False, result["actions"]
    assert [op for op, _ in stub_client.sent] == [
        "DescribeReplicationGroups", "DescribeSecret", "DescribeCacheClusters", "ListTagsForResource"]
    view = result["replication_group"]
    assert view["replicas"] == 2
    assert view["engine_version"] == "7.1.0"
    assert view["security_group_ids"] == ["sg-0123456789abcdef0"]
    assert view["reader_endpoint"]["port"] == 6380
    cache.assert_no_pending_responses()
    sm.assert_no_pending_responses()


def test_stub_more_replicas_then_a_newer_engine_and_other_security_groups(run_module, stub_client, no_sleep):
    """Stubber: IncreaseReplicaCount first (before failover could need it), waited for, then one
    ModifyReplicationGroup with the member clusters' settings."""
    cache, sm = stub_client("elasticache"), stub_client("secretsmanager")
    cache.add_response("describe_replication_groups", group_answer(replicas=1), DESCRIBE)
    sm.add_response("describe_secret", secret_answer(), DESCRIBE_SECRET)
    cache.add_response("describe_cache_clusters", cluster_answer(), DESCRIBE_CLUSTER)
    cache.add_response("list_tags_for_resource", TAGS, LIST_TAGS)
    cache.add_response("increase_replica_count", {"ReplicationGroup": group_answer("modifying")["ReplicationGroups"][0]},
                       {"ReplicationGroupId": "hh-cache", "NewReplicaCount": 2, "ApplyImmediately": True})
    cache.add_response("describe_replication_groups", group_answer("modifying"), DESCRIBE)
    cache.add_response("describe_replication_groups", group_answer(), DESCRIBE)
    cache.add_response("modify_replication_group", {"ReplicationGroup": group_answer("modifying")["ReplicationGroups"][0]},
                       {"ReplicationGroupId": "hh-cache", "ApplyImmediately": True, "EngineVersion": "7.2",
                        "SecurityGroupIds": ["sg-0123456789abcdef1"], "PreferredMaintenanceWindow": "mon:05:00-mon:06:00"})
    cache.add_response("describe_replication_groups", group_answer(), DESCRIBE)
    cache.add_response("describe_cache_clusters", cluster_answer(EngineVersion="7.2.4"), DESCRIBE_CLUSTER)
    cache.activate()
    sm.activate()
    result = run_module(module_under_test, stub_args(engine_version="7.2", security_group_ids=["sg-0123456789abcdef1"],
                                                     maintenance_window="mon:05:00-mon:06:00"))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["replication_group"]["engine_version"] == "7.2.4"
    assert len(result["actions"]) == 2
    cache.assert_no_pending_responses()


def test_stub_engine_downgrade_and_subnet_group_are_refused(run_module, stub_client):
    for extra, fragment in ((dict(engine_version="7.0"), "cannot downgrade"),
                            (dict(subnet_group_name="other"), "cannot change subnet_group_name")):
        cache, sm = stub_client("elasticache"), stub_client("secretsmanager")
        cache.add_response("describe_replication_groups", group_answer(), DESCRIBE)
        sm.add_response("describe_secret", secret_answer(), DESCRIBE_SECRET)
        cache.add_response("describe_cache_clusters", cluster_answer(), DESCRIBE_CLUSTER)
        cache.activate()
        sm.activate()
        result = run_module(module_under_test, stub_args(**extra))
        assert result["failed"] is True
        assert fragment in result["msg"]
        cache.assert_no_pending_responses()


def test_stub_decreasing_to_no_replicas_needs_failover_off(run_module, stub_client):
    cache, sm = stub_client("elasticache"), stub_client("secretsmanager")
    cache.add_response("describe_replication_groups", group_answer(), DESCRIBE)
    sm.add_response("describe_secret", secret_answer(), DESCRIBE_SECRET)
    cache.add_response("describe_cache_clusters", cluster_answer(), DESCRIBE_CLUSTER)
    cache.activate()
    sm.activate()
    result = run_module(module_under_test, stub_args(replicas=0, automatic_failover=None, multi_az=None))
    assert result["failed"] is True
    assert "automatic_failover requires at least one replica" in result["msg"]


def test_stub_failover_off_is_modified_before_the_replicas_go(run_module, stub_client, no_sleep):
    cache, sm = stub_client("elasticache"), stub_client("secretsmanager")
    cache.add_response("describe_replication_groups", group_answer(), DESCRIBE)
    sm.add_response("describe_secret", secret_answer(), DESCRIBE_SECRET)
    cache.add_response("describe_cache_clusters", cluster_answer(), DESCRIBE_CLUSTER)
    cache.add_response("list_tags_for_resource", TAGS, LIST_TAGS)
    cache.add_response("modify_replication_group", {"ReplicationGroup": group_answer("modifying")["ReplicationGroups"][0]},
                       {"ReplicationGroupId": "hh-cache", "ApplyImmediately": True, "AutomaticFailoverEnabled": False,
                        "MultiAZEnabled": False})
    cache.add_response("describe_replication_groups", group_answer(), DESCRIBE)
    cache.add_response("decrease_replica_count", {"ReplicationGroup": group_answer("modifying")["ReplicationGroups"][0]},
                       {"ReplicationGroupId": "hh-cache", "NewReplicaCount": 0, "ApplyImmediately": True})
    cache.add_response("describe_replication_groups", group_answer(replicas=0, AutomaticFailover="disabled",
                                                                   MultiAZ="disabled"), DESCRIBE)
    cache.add_response("describe_cache_clusters", cluster_answer(), DESCRIBE_CLUSTER)
    cache.activate()
    sm.activate()
    result = run_module(module_under_test, stub_args(replicas=0, automatic_failover=False, multi_az=False))
    assert not result.get("failed"), result
    assert result["replication_group"]["replicas"] == 0
    cache.assert_no_pending_responses()


def test_stub_wait_true_after_wait_false_only_waits(run_module, stub_client, no_sleep):
    cache, sm = stub_client("elasticache"), stub_client("secretsmanager")
    cache.add_response("describe_replication_groups", group_answer("creating"), DESCRIBE)
    sm.add_response("describe_secret", secret_answer(), DESCRIBE_SECRET)
    cache.add_response("describe_replication_groups", group_answer("creating"), DESCRIBE)
    cache.add_response("describe_replication_groups", group_answer(), DESCRIBE)
    cache.add_response("describe_cache_clusters", cluster_answer(), DESCRIBE_CLUSTER)
    cache.add_response("list_tags_for_resource", TAGS, LIST_TAGS)
    cache.activate()
    sm.activate()
    result = run_module(module_under_test, stub_args())
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["replication_group"]["status"] == "available"
    assert not [op for op, _ in stub_client.sent if op.startswith(MUTATING)]
    cache.assert_no_pending_responses()


def test_stub_wait_times_out_naming_the_option(run_module, stub_client, no_sleep):
    cache, sm = stub_client("elasticache"), stub_client("secretsmanager")
    cache.add_response("describe_replication_groups", group_answer("creating"), DESCRIBE)
    sm.add_response("describe_secret", secret_answer(), DESCRIBE_SECRET)
    cache.add_response("describe_replication_groups", group_answer("creating"), DESCRIBE)
    cache.activate()
    sm.activate()
    result = run_module(module_under_test, stub_args(wait_timeout=0))
    assert result["failed"] is True
    assert "Timed out after 0 seconds (option 'wait_timeout')" in result["msg"]
    assert "last status creating" in result["msg"]


def test_stub_absent_waits_then_deletes_the_secret(run_module, stub_client, no_sleep):
    cache, sm = stub_client("elasticache"), stub_client("secretsmanager")
    cache.add_response("describe_replication_groups", group_answer(), DESCRIBE)
    cache.add_response("delete_replication_group", {"ReplicationGroup": group_answer("deleting")["ReplicationGroups"][0]},
                       {"ReplicationGroupId": "hh-cache"})
    cache.add_response("describe_replication_groups", group_answer("deleting"), DESCRIBE)
    not_found(cache)
    sm.add_response("describe_secret", secret_answer(), DESCRIBE_SECRET)
    sm.add_response("delete_secret", {"ARN": SECRET_ARN, "Name": "hh-cache/auth-token", "DeletionDate": NOW},
                    {"SecretId": "hh-cache/auth-token"})
    cache.activate()
    sm.activate()
    result = run_module(module_under_test, dict(name="hh-cache", state="absent", auth_token_secret_name="hh-cache/auth-token",
                                                delete_auth_token_secret=True, wait=False, region="us-west-2"))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["actions"] == ["delete replication group hh-cache", "delete secret hh-cache/auth-token"]
    cache.assert_no_pending_responses()
    sm.assert_no_pending_responses()


def test_stub_create_failure_keeps_the_token_out_of_the_error(run_module, stub_client):
    cache, sm = stub_client("elasticache"), stub_client("secretsmanager")
    not_found(cache)
    sm.add_client_error("describe_secret", "ResourceNotFoundException", http_status_code=400, expected_params=DESCRIBE_SECRET)
    sm.add_response("create_secret", {"ARN": SECRET_ARN, "Name": "hh-cache/auth-token", "VersionId": VERSION},
                    {"Name": "hh-cache/auth-token", "SecretString": ANY, "ClientRequestToken": ANY, "Description": ANY,
                     "KmsKeyId": SECRET_KMS, "Tags": ANY})
    cache.add_client_error("create_replication_group", "InvalidParameterValue", http_status_code=400,
                           service_message="The parameter CacheSubnetGroupName is not valid.")
    cache.activate()
    sm.activate()
    result = run_module(module_under_test, stub_args())
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to create ElastiCache replication group hh-cache")
    [token] = [p["SecretString"] for op, p in stub_client.sent if op == "CreateSecret"]
    assert [p["AuthToken"] for op, p in stub_client.sent if op == "CreateReplicationGroup"] == [token]
    assert token not in json.dumps(result)
