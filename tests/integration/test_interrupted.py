"""Runs killed in the middle of a create leave nothing that a re-run duplicates.

On one stack of emulators, ``site.yml -i inventories/local`` is run and killed again and
again, each time a little further into the converge, at the kill points below that the
session's clean converge reaches (its request log says which calls it makes, in which order):
right after the platform KMS key is created, after an IAM role, after the VPC, between the
NAT gateway's Elastic IP and the gateway, between the gateway's creation and the module
seeing it (with its tags), after a bucket, after a connector's token secret or its ECS
service. A kill point is the n-th successful call of an operation in the proxy's request log;
the proxy holds back the answer to that call (``hold`` of ``/_proxy/config``), so the call is
done in the emulator but the run never sees its answer, the worst moment for an interruption
and the same moment every time. Then the run's whole process tree is killed with SIGKILL
(ansible-playbook's group, and its workers and modules, which leave that group), as a lost
CI runner or machine would stop it.

After the last kill a full run converges, the read-back of the emulators must equal that of
the session's clean converge (no duplicate VPC, subnet, NAT gateway, Elastic IP, security
group, bucket, role, key, secret, connector or anything else, nothing missing), and one more
run must report no change.
"""
from __future__ import annotations

import pytest

import readback
from harness import run_playbook, start_stack, stop_stack

# (group, service, operation, occurrence, where the run stops). One point per group: the
# first of its candidates that the clean converge makes.
KILL_POINTS = [
    ("kms", "kms", "CreateKey", 1, "the platform KMS key is created, its alias not yet"),
    ("iam", "iam", "CreateRole", 1, "the first IAM role is created, its policies not yet"),
    ("vpc", "ec2", "CreateVpc", 1, "the VPC is created"),
    ("eip", "ec2", "AllocateAddress", 1, "the NAT gateway's Elastic IP is allocated, the gateway not yet"),
    ("nat", "ec2", "CreateNatGateway", 1, "the NAT gateway is created, the module has not seen it or its tags"),
    ("bucket", "s3", "CreateBucket", 1, "a bucket is created, its settings not yet"),
    ("late", "secretsmanager", "CreateSecret", 1, "a Twingate connector's token secret is created"),
    ("late", "ecs", "CreateService", 1, "an ECS service is created"),
]
MIN_POINTS = 5
HOLD_SECONDS = 120

pytestmark = pytest.mark.converge


def plan(requests: list) -> list:
    """The kill points the clean converge reaches, in the order it reaches them."""
    positions, counts = {}, {}
    for index, entry in enumerate(requests):
        if entry.get("injected") or not 200 <= int(entry.get("status") or 0) < 300:
            continue
        key = (entry.get("service"), entry.get("operation"))
        counts[key] = counts.get(key, 0) + 1
        positions.setdefault((*key, counts[key]), index)
    chosen, groups = [], set()
    for group, service, operation, occurrence, what in KILL_POINTS:
        if group in groups or (service, operation, occurrence) not in positions:
            continue
        groups.add(group)
        chosen.append((positions[(service, operation, occurrence)], service, operation, occurrence, what))
    return [point[1:] for point in sorted(chosen)]


@pytest.fixture(scope="module")
def chain(reference, tmp_path_factory, integration_notes):
    """Kill at every point in turn, then converge, read back and run once more."""
    points = plan(reference.requests)
    assert len(points) >= MIN_POINTS, f"only {len(points)} kill points are reached by the converge: {points}"
    base = tmp_path_factory.mktemp("interrupted")
    state = base / "emulators"
    stack = start_stack(state)
    try:
        kills = []
        for number, (service, operation, occurrence, what) in enumerate(points, 1):
            stack.proxy_config(hold={"service": service, "operation": operation, "occurrence": occurrence,
                                     "seconds": HOLD_SECONDS})
            start = len(stack.requests())
            try:
                run = run_playbook(stack, "site.yml", log=base / f"kill-{number}.log", temp=base / "tmp",
                                   kill_at=(service, operation, occurrence))
            finally:
                stack.proxy_config(hold=None)
            after = [f"{e['service']}:{e['operation']}" for e in stack.requests()[start:]]
            kills.append({"point": f"{service}:{operation} #{occurrence}", "what": what, "run": run,
                          "calls": len(after), "last_calls": after[-4:]})
            integration_notes.append(
                f"interrupted, run {number} killed at {service}:{operation} #{occurrence} after {run.seconds} s "
                f"({len(after)} AWS calls; the last {after[-3:]})" if run.killed_at else
                f"interrupted, run {number} ended (rc {run.rc}) before {service}:{operation} #{occurrence}")
        full = run_playbook(stack, "site.yml", log=base / "full.log", temp=base / "tmp")
        integration_notes.append(f"interrupted, full run after the kills: {full.seconds} s, rc {full.rc}, "
                                 f"changed {full.changed}")
        snapshot = readback.take(stack.env) if full.rc == 0 else None
        again = run_playbook(stack, "site.yml", log=base / "again.log", temp=base / "tmp") if full.rc == 0 else None
        if again is not None:
            integration_notes.append(f"interrupted, run after that: {again.seconds} s, rc {again.rc}, "
                                     f"changed {again.changed}")
        yield {"points": points, "kills": kills, "full": full, "snapshot": snapshot, "again": again}
    finally:
        stop_stack(state)


def test_every_kill_point_was_reached_and_killed(chain):
    missed = [kill["point"] for kill in chain["kills"] if not kill["run"].killed_at]
    assert not missed, f"runs that ended before their kill point: {missed}"
    for kill in chain["kills"]:
        assert kill["run"].killed_at["processes_killed"] >= 1
        assert kill["run"].rc is not None and kill["run"].rc < 0, f"{kill['point']}: rc {kill['run'].rc}"


def test_the_run_after_the_kills_converges(chain):
    full = chain["full"]
    assert full.rc == 0 and full.failed == 0, f"recap {full.recap}\n{full.tail()}"


def differences(chain, reference) -> list:
    """``(kind, "missing" | "extra", entry)`` for every difference from the clean run's read-back."""
    if chain["snapshot"] is None:
        pytest.fail("the run after the kills failed")
    found = []
    for kind, parts in readback.difference(reference.snapshot(), chain["snapshot"]).items():
        for side in ("missing", "extra"):
            found.extend((kind, side, entry) for entry in parts[side])
    return found


def test_no_duplicate_and_nothing_missing_after_the_kills(chain, reference):
    found = differences(chain, reference)
    killed = ", ".join(kill["point"] for kill in chain["kills"])
    assert not found, (
        f"after runs killed at {killed} and a full run, the read-back differs from the clean run's:\n"
        + "\n".join(f"{kind}: {side} {entry}" for kind, side, entry in found))
    assert not chain["snapshot"].duplicates(), f"resources of one name more than once: {chain['snapshot'].duplicates()}"


def test_a_further_run_changes_nothing(chain):
    again = chain["again"]
    if again is None:
        pytest.fail("the run after the kills failed")
    assert again.rc == 0 and again.failed == 0, f"recap {again.recap}\n{again.tail()}"
    assert again.recap and again.changed == 0, (
        f"changed {again.changed}: {again.changed_tasks()}; recap {again.recap}")
