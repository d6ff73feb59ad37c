"""playbooks/restore.yml on the strict local AWS: a point-in-time restore of the platform's
PostgreSQL into a new instance, and the connection secret switched to it.

On a stack of its own (no Kubernetes control plane, the suites' time scale), the runs make only
what a restore needs: the substrate's foundation and vpc roles, then the application phase with
the databases role and only PostgreSQL. Then:

* a restore with a restore_time in the future stops before any AWS call (the proxy's request
  log shows none), naming the variable, the value and what is allowed;
* a restore to the latest restorable time, under the default name
  (``<source>-restored-<UTC yyyymmddhhmm>``): the new instance has the source's settings (class,
  storage key, subnet, parameter and option groups, security groups, a managed master secret of
  its own with the platform key, backups, Performance Insights, monitoring, deletion
  protection), the connection secret names its endpoint and its secret, the source is kept;
* the same restore again with ``-e restore_target=<that name>`` changes nothing.
"""
from __future__ import annotations

import json

import pytest

import readback
from harness import run_playbook, start_stack, stop_stack

pytestmark = pytest.mark.converge

REGION = "us-west-2"
DEPLOYMENT = "local-us-west-2"
SOURCE = "honeyhive-postgres-test-us-west-2"
CONNECTION_SECRET = "honeyhive/test/us-west-2/postgres-connection"
PLATFORM_KEY_ALIAS = "alias/honeyhive-platform-test-us-west-2"
POSTGRES_ONLY = json.dumps({
    "platform_phase_roles": {"substrate": ["foundation", "vpc"], "hosting": [], "application": ["databases"]},
    "databases_docdb_enabled": False,
    "databases_redis_enabled": False,
})
CONFIRM = f"restore_confirm={DEPLOYMENT}"
FUTURE = "2999-01-01T00:00:00Z"


def _read(stack) -> dict:
    """The PostgreSQL instances and the connection secret, read as the account's administrator."""
    rds = readback.observer_client(stack.env, "rds", REGION)
    secrets = readback.observer_client(stack.env, "secretsmanager", REGION)
    kms = readback.observer_client(stack.env, "kms", REGION)
    instances = {i["DBInstanceIdentifier"]: i for i in rds.describe_db_instances()["DBInstances"]}
    secret = json.loads(secrets.get_secret_value(SecretId=CONNECTION_SECRET)["SecretString"])
    key = kms.describe_key(KeyId=PLATFORM_KEY_ALIAS)["KeyMetadata"]["Arn"]
    return {"instances": instances, "secret": secret, "platform_key": key}


def restore_runs(base, notes, job=None):
    """The data tier, a bad restore, a restore and the same restore again, on a stack of its own.

    Not a ``start_early`` suite: it runs when its tests do, after the session's first minutes,
    whose parallel converges the access suite's timing-sensitive bootstrap shares the machine
    with."""
    state = base / "emulators"
    stack = start_stack(state, kube=False)
    try:
        runs = {}

        def run(name, playbook, *args):
            offset = len(stack.requests())
            result = run_playbook(stack, playbook, *args, log=base / f"{name}.log", temp=base / "tmp", job=job)
            runs[name] = {"run": result, "requests": stack.requests()[offset:]}
            notes.append(f"restore suite, {name}: {result.seconds} s, rc {result.rc}, changed {result.changed}")
            return result

        for name, playbook in (("substrate", "playbooks/substrate.yml"), ("databases", "playbooks/application.yml")):
            if run(name, playbook, "-e", POSTGRES_ONLY).rc != 0:
                return runs
        runs["before"] = _read(stack)
        run("future", "playbooks/restore.yml", "-e", CONFIRM, "-e", f"restore_time={FUTURE}")
        run("restore", "playbooks/restore.yml", "-e", CONFIRM)
        runs["after"] = _read(stack)
        restored = [name for name in runs["after"]["instances"] if name.startswith(SOURCE + "-restored-")]
        runs["target"] = restored[0] if len(restored) == 1 else None
        if runs["target"]:
            run("again", "playbooks/restore.yml", "-e", CONFIRM, "-e", f"restore_target={runs['target']}")
            runs["final"] = _read(stack)
        return runs
    finally:
        stop_stack(state)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, integration_notes):
    found = restore_runs(tmp_path_factory.mktemp("restore"), integration_notes)
    for name in ("substrate", "databases"):
        result = found[name]["run"]
        assert result.rc == 0, f"{name} run failed:\n{result.tail()}"
    return found


@pytest.fixture(scope="module")
def restored(runs):
    result = runs["restore"]["run"]
    assert result.rc == 0 and result.failed == 0, f"recap {result.recap}\n{result.tail()}"
    assert runs["target"], f"no single {SOURCE}-restored-<time> instance: {sorted(runs['after']['instances'])}"
    return runs["after"]["instances"][runs["target"]]


def test_a_restore_time_in_the_future_stops_before_any_aws_call(runs):
    future = runs["future"]
    assert future["run"].rc != 0
    assert f'restore_time: "{FUTURE}" is in the future' in future["run"].output
    assert "allowed: a past point in time in UTC, YYYY-MM-DDThh:mm:ssZ" in future["run"].output
    calls = [f"{e.get('service')}:{e.get('operation')}" for e in future["requests"]]
    assert calls == [], f"the run called AWS before stopping: {calls}"


def test_the_new_instance_is_named_by_default_and_available(runs, restored):
    target = runs["target"]
    assert len(target) == len(SOURCE + "-restored-") + 12 and target[-12:].isdigit(), target
    assert restored["DBInstanceStatus"] == "available"
    assert restored["Endpoint"]["Address"]


def test_the_new_instance_has_the_source_settings(runs, restored):
    source = runs["after"]["instances"][SOURCE]
    key = runs["after"]["platform_key"]
    assert restored["DBInstanceClass"] == source["DBInstanceClass"]
    assert restored["KmsKeyId"] == source["KmsKeyId"] == key
    assert restored["StorageEncrypted"] is True
    assert restored["DBSubnetGroup"]["DBSubnetGroupName"] == source["DBSubnetGroup"]["DBSubnetGroupName"] == SOURCE
    assert [g["DBParameterGroupName"] for g in restored["DBParameterGroups"]] == [SOURCE]
    assert [g["OptionGroupName"] for g in restored["OptionGroupMemberships"]] == [SOURCE]
    assert sorted(g["VpcSecurityGroupId"] for g in restored["VpcSecurityGroups"]) == sorted(
        g["VpcSecurityGroupId"] for g in source["VpcSecurityGroups"])
    for member in ("Engine", "MasterUsername", "DBName", "BackupRetentionPeriod", "PreferredBackupWindow",
                   "PreferredMaintenanceWindow", "MultiAZ", "DeletionProtection", "MonitoringInterval",
                   "MonitoringRoleArn", "PerformanceInsightsEnabled", "PerformanceInsightsKMSKeyId",
                   "PerformanceInsightsRetentionPeriod", "StorageType"):
        assert restored.get(member) == source.get(member), f"{member}: {restored.get(member)!r} != {source.get(member)!r}"
    secret, source_secret = restored.get("MasterUserSecret") or {}, source.get("MasterUserSecret") or {}
    assert secret.get("SecretArn") and secret["SecretArn"] != source_secret.get("SecretArn"), (secret, source_secret)
    assert secret.get("KmsKeyId") == key
    tags = {t["Key"]: t["Value"] for t in restored.get("TagList") or []}
    assert tags.get("Name") == runs["target"]


def test_the_connection_secret_names_the_new_instance(runs, restored):
    before, after = runs["before"]["secret"], runs["after"]["secret"]
    assert before["identifier"] == SOURCE
    assert after["identifier"] == runs["target"]
    assert after["host"] == restored["Endpoint"]["Address"] != before["host"]
    assert after["credentials_secret_arn"] == restored["MasterUserSecret"]["SecretArn"]
    assert after["credentials_secret_arn"] != before["credentials_secret_arn"]
    unchanged = {k: v for k, v in before.items() if k not in ("identifier", "host", "credentials_secret_arn")}
    assert {k: after.get(k) for k in unchanged} == unchanged
    assert "password" not in json.dumps(after).lower()


def test_the_source_instance_is_kept(runs, restored):
    source = runs["after"]["instances"].get(SOURCE)
    assert source is not None and source["DBInstanceStatus"] == "available"
    assert source["Endpoint"]["Address"] == runs["before"]["secret"]["host"]


def test_the_same_restore_again_changes_nothing(runs, restored):
    again = runs["again"]["run"]
    assert again.rc == 0 and again.failed == 0, f"recap {again.recap}\n{again.tail()}"
    assert again.changed == 0, f"changed {again.changed}: {again.changed_tasks()}"
    mutating = [f"{e['service']}:{e['operation']}" for e in runs["again"]["requests"]
                if e.get("mutating") and e.get("service") not in ("moto", "sts")]
    assert mutating == [], mutating
    assert runs["final"]["secret"] == runs["after"]["secret"]
    assert sorted(runs["final"]["instances"]) == sorted(runs["after"]["instances"])
