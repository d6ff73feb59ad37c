"""Every invalid input stops the run in the preflight role, before any AWS call.

The cases live in ``bad_inputs.yml`` (one per invalid input: how it is given, the variable,
the bad value as the message shows it, and a fragment of what is allowed). Each case runs
``ansible-playbook site.yml -i inventories/local`` as a user would, against one emulator
stack shared by the module, and asserts that

* the run fails (rc != 0);
* every failed task belongs to the role ``honeyhive.platform.preflight`` (recorded by the
  test-only callback ``plugins/callback/record_failures.py``);
* the failure message names the variable, the bad value and what is allowed, and the user
  sees the variable and the value in the run's output;
* no secret listed under ``hidden`` appears anywhere in the output;
* the AWS proxy logged no AWS request at all (so certainly no mutating one), and the
  Twingate double received no mutation (the request log is reset before each case).

A few inputs are valid on their own and wrong only for what the account holds (a
Kubernetes version skip for the cluster that exists): such a case names the state it needs
(``existing_cluster_version``, made without a line in the request log) and the
exact read-only operations (``reads``) the preflight role makes before it stops the run; no
other operation, and no mutating one, may appear.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import readback

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV_BIN = ROOT / ".venv" / "bin"

CATALOGUE = yaml.safe_load((HERE / "bad_inputs.yml").read_text(encoding="utf-8"))
CASES = CATALOGUE["cases"]
INPUT_KINDS = ("extra_vars", "env", "inventory")
PREFLIGHT = "honeyhive.platform.preflight"


def _flat(text: str) -> str:
    """Collapse whitespace, so a message wrapped by the YAML result format still matches."""
    return re.sub(r"\s+", " ", text)


def test_catalogue_is_well_formed():
    ids = [case["id"] for case in CASES]
    assert len(ids) >= 40, f"only {len(ids)} cases"
    assert len(set(ids)) == len(ids), "duplicate case ids"
    for case in CASES:
        kinds = [kind for kind in INPUT_KINDS if kind in case]
        assert len(kinds) == 1, f"{case['id']}: give the input one way, as one of {INPUT_KINDS}"
        for field in ("category", "variable", "value", "allowed"):
            assert str(case.get(field, "")).strip(), f"{case['id']}: {field} is missing"
        assert ("existing_cluster_version" in case) == ("reads" in case), (
            f"{case['id']}: a case that needs existing state lists the reads it allows, and only such a case")


def _inventory_vars() -> dict:
    """The local host's variables as a run sees them (inventory and the root group_vars)."""
    out = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", "inventories/local", "--playbook-dir", ".",
                          "--host", "local-us-west-2"], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _cluster_name(variables: dict) -> str:
    sys.path.insert(0, str(ROOT / "plugins" / "filter"))
    from naming import resource_name  # noqa: PLC0415  (the collection's own naming filter)

    context = {"prefix": variables["platform_name_prefix"], "environment": variables["platform_environment"],
               "region": variables["platform_region"]}
    return resource_name("eks", context, kind="eks_cluster")


EKS_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture
def existing_cluster(emulators):
    """``make(version)``: the platform's EKS cluster at ``version`` in the target account, made
    by the local AWS's EKS service with requests that the request log does not show (its role,
    VPC and subnets directly in moto; the cluster through the proxy as an observer); deleted
    again, with what it needed, after the case."""
    made = []
    variables = _inventory_vars()
    account, region = str(variables["platform_target_account_id"]), variables["platform_region"]
    session = readback.target_session(emulators.env, account, region)
    moto = emulators.env["HONEYHIVE_MOTO_URL"]
    iam = session.client("iam", endpoint_url=moto, region_name=region)
    ec2 = session.client("ec2", endpoint_url=moto, region_name=region)
    eks = readback.observer_client(emulators.env, "eks", region)
    fast = {"Delay": 1, "MaxAttempts": 120}

    def make(version):
        role = iam.create_role(RoleName="preexisting-eks-cluster", AssumeRolePolicyDocument=json.dumps(EKS_TRUST))
        vpc = ec2.create_vpc(CidrBlock="10.250.0.0/16")["Vpc"]["VpcId"]
        zones = [zone["ZoneId"] for zone in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.250.{index}.0/24", AvailabilityZoneId=zone)["Subnet"]["SubnetId"]
                   for index, zone in enumerate(zones)]
        name = _cluster_name(variables)
        eks.create_cluster(name=name, version=version, roleArn=role["Role"]["Arn"],
                           resourcesVpcConfig={"subnetIds": subnets})
        made.append((name, vpc, subnets))
        return name

    yield make
    for name, vpc, subnets in made:
        eks.delete_cluster(name=name)
        eks.get_waiter("cluster_deleted").wait(name=name, WaiterConfig=fast)
        for subnet in subnets:
            ec2.delete_subnet(SubnetId=subnet)
        ec2.delete_vpc(VpcId=vpc)
        iam.delete_role(RoleName="preexisting-eks-cluster")


def _run_case(case: dict, stack, tmp_path: Path) -> tuple[subprocess.CompletedProcess, list]:
    record = tmp_path / "failures.json"
    env = dict(
        stack.env,
        ANSIBLE_CALLBACKS_ENABLED="record_failures",
        ANSIBLE_CALLBACK_PLUGINS=str(HERE / "plugins" / "callback"),
        HONEYHIVE_FAILURE_RECORD=str(record),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    env.update({key: str(value) for key, value in case.get("env", {}).items()})
    command = [str(VENV_BIN / "ansible-playbook"), "site.yml", "-i", "inventories/local"]
    if "inventory" in case:
        hosts = {name: dict(CATALOGUE["extra_host_defaults"], **(hostvars or {}))
                 for name, hostvars in case["inventory"].items()}
        inventory = tmp_path / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}), encoding="utf-8")
        command += ["-i", str(inventory)]
    if "extra_vars" in case:
        command += ["-e", json.dumps(case["extra_vars"])]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    failures = json.loads(record.read_text(encoding="utf-8")) if record.exists() else []
    return proc, failures


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_bad_input_stops_in_preflight(case, emulators, existing_cluster, tmp_path):
    if "existing_cluster_version" in case:
        existing_cluster(case["existing_cluster_version"])
    twingate_log = emulators.logs_dir / "twingate.log"
    twingate_offset = twingate_log.stat().st_size if twingate_log.exists() else 0
    emulators.reset_request_log()

    proc, failures = _run_case(case, emulators, tmp_path)
    output = proc.stdout + proc.stderr
    context = f"\n--- output of {case['id']} (last 4000 characters) ---\n{output[-4000:]}"

    assert proc.returncode != 0, "the run did not fail" + context
    assert failures, "no failed task was recorded" + context
    roles = sorted({str(failure["role"]) for failure in failures})
    tasks = sorted({failure["task"] for failure in failures})
    assert roles == [PREFLIGHT], f"failed outside {PREFLIGHT}: roles {roles}, tasks {tasks}" + context

    message = _flat(" ".join(text for failure in failures for text in failure["messages"]))
    for field in ("variable", "value", "allowed"):
        assert _flat(str(case[field])) in message, (
            f"the message does not name the {field} {case[field]!r}:\n{message}")
    shown = _flat(output)
    for field in ("variable", "value"):
        text = _flat(str(case[field]))
        # As printed raw, or inside a YAML single- or double-quoted scalar of the result.
        variants = {text, text.replace("'", "''"), text.replace('"', '\\"')}
        assert any(variant in shown for variant in variants), (
            f"the output does not show the {field} {case[field]!r}" + context)
    for secret in case.get("hidden", []):
        assert secret not in output, "a secret value appears in the output" + context
        assert secret not in json.dumps(failures), "a secret value appears in the failure message"

    requests = emulators.requests()
    mutating = [f"{r['service']}:{r['operation']}" for r in requests if r.get("mutating")]
    assert not mutating, f"mutating AWS calls before preflight failed: {mutating}"
    # Which operations, not how often: botocore assumes the role again whenever a session is
    # near its end, which at the local AWS's time scale is at every new client.
    calls = sorted({f"{r['service']}:{r['operation']}" for r in requests})
    assert calls == sorted(case.get("reads", [])), f"AWS calls before preflight failed: {calls}"
    twingate_calls = twingate_log.read_text(encoding="utf-8")[twingate_offset:] if twingate_log.exists() else ""
    assert " mutation " not in twingate_calls, f"Twingate mutations before preflight failed:\n{twingate_calls}"
