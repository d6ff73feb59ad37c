"""Runs killed in the middle of a create leave nothing that a re-run duplicates.

On emulators of its own, ``site.yml -i inventories/local`` is run and killed again and
again, each time a little further into the converge, at the kill points below, across both
phases: right after the platform KMS key is created (before its alias), after the VPC,
between the NAT gateway's Elastic IP and the gateway, between the gateway's creation and the
module seeing it (with its tags), after the first IAM role, after a Twingate connector's ECS
service, between the PostgreSQL instance's creation and its wait, between the Redis group's
auth token secret and the module seeing the group, after the EKS cluster and after Karpenter's
interruption queue. A kill point is
the n-th successful call of an operation in the proxy's request log; the proxy holds back the
answer to that call (``hold`` of ``/_proxy/config``), so the call is done in the emulator but
the run never sees its answer, the worst moment for an interruption and the same moment every
time. Then the run's whole process tree is killed with SIGKILL (ansible-playbook's group, and
its workers and modules, which leave that group), as a lost CI runner or machine would stop it.

After the last kill a full run converges, the read-back of the emulators must equal that of
the session's clean converge (no duplicate VPC, subnet, NAT gateway, Elastic IP, security
group, role, key, secret, connector, cluster, queue or anything else, nothing missing), and
one more run must report no change. The runs start with the session (``start_early``), beside
the clean converge and the fault suite.
"""
from __future__ import annotations

import pytest

import readback
from harness import run_playbook, start_stack, stop_stack

# (service, operation, occurrence, where the run stops), in the order site.yml reaches them:
# foundation, vpc, twingate (substrate), the databases' start, then eks and karpenter (hosting). The deployment
# and GitHub deploy roles are bootstrap.yml's, so site.yml's first role is a later one. A change of
# site.yml that no longer reaches one, or reaches them in another order, fails
# test_every_kill_point_was_reached_and_killed: update the list.
KILL_POINTS = [
    ("kms", "CreateKey", 1, "the platform KMS key is created, its alias not yet"),
    ("ec2", "CreateVpc", 1, "the VPC is created, its subnets not yet"),
    ("ec2", "AllocateAddress", 1, "the NAT gateway's Elastic IP is allocated, the gateway not yet"),
    ("ec2", "CreateNatGateway", 1, "the NAT gateway is created, the module has not seen it or its tags"),
    ("iam", "CreateRole", 1, "the first IAM role site.yml creates, its policies not yet"),
    ("ecs", "CreateService", 1, "the first Twingate connector's ECS service is created"),
    ("rds", "CreateDBInstance", 1, "the PostgreSQL instance is created, the run has not seen it nor waited for it"),
    ("elasticache", "CreateReplicationGroup", 1,
     "the Redis group is created after its auth token secret, the module has not seen it"),
    ("eks", "CreateCluster", 1, "the EKS cluster is created (by the local EKS), the module has not seen it"),
    ("sqs", "CreateQueue", 1, "Karpenter's interruption queue is created, its rules not yet"),
]
MIN_POINTS = 5
NO_RULE = "no IAM authorization rule for"  # how the local AWS refuses an operation it has no rule for (authz.NO_RULE)
HOLD_SECONDS = 120

pytestmark = pytest.mark.converge


def start_early(base, notes, job):
    """Kill at every point in turn, then converge, read back and run once more, on emulators
    of its own (started with the session, beside the other suites; see conftest.Job)."""
    state = base / "emulators"
    stack = start_stack(state)
    try:
        kills = []
        for number, (service, operation, occurrence, what) in enumerate(KILL_POINTS, 1):
            stack.proxy_config(hold={"service": service, "operation": operation, "occurrence": occurrence,
                                     "seconds": HOLD_SECONDS})
            start = len(stack.requests())
            try:
                run = run_playbook(stack, "site.yml", log=base / f"kill-{number}.log", temp=base / "tmp",
                                   kill_at=(service, operation, occurrence), job=job)
            finally:
                stack.proxy_config(hold=None)
            after = [f"{e['service']}:{e['operation']}" for e in stack.requests()[start:]]
            kills.append({"point": f"{service}:{operation} #{occurrence}", "what": what, "run": run,
                          "calls": len(after), "last_calls": after[-4:]})
            notes.append(
                f"interrupted, run {number} killed at {service}:{operation} #{occurrence} after {run.seconds} s "
                f"({len(after)} AWS calls; the last {after[-3:]})" if run.killed_at else
                f"interrupted, run {number} ended (rc {run.rc}) before {service}:{operation} #{occurrence}")
        full = run_playbook(stack, "site.yml", log=base / "full.log", temp=base / "tmp", job=job)
        notes.append(f"interrupted, full run after the kills: {full.seconds} s, rc {full.rc}, changed {full.changed}")
        snapshot = readback.take(stack.env) if full.rc == 0 else None
        again = run_playbook(stack, "site.yml", log=base / "again.log", temp=base / "tmp",
                             job=job) if full.rc == 0 else None
        if again is not None:
            notes.append(f"interrupted, run after that: {again.seconds} s, rc {again.rc}, changed {again.changed}")
        return {"kills": kills, "full": full, "snapshot": snapshot, "again": again, "usage": stack.iam_usage()}
    finally:
        stop_stack(state)


@pytest.fixture(scope="module")
def chain(early_jobs):
    return early_jobs["test_interrupted"].result()


def test_every_kill_point_was_reached_and_killed(chain):
    assert len(chain["kills"]) >= MIN_POINTS
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


def test_every_request_was_judged_by_the_deployment_roles_policies(chain):
    """The local AWS decides a request by the role's policies only for an operation it has an
    authorization rule for, and refuses any other in words of its own: such a refusal means the
    emulator, not AWS's rules, decided what a module saw. These runs resume from every kill
    point, so they take paths a clean converge does not (molecule's scenarios check the same
    for their converge, idempotence, verify and teardown: scripts/molecule.sh)."""
    roles = chain["usage"]["roles"]
    deployment = [arn for arn in roles if ":role/honeyhive-deployment-" in arn]
    assert deployment, f"no request of the deployment role was evaluated (roles seen: {sorted(roles)})"
    unjudged = sorted({entry["message"] for arn in deployment for entry in roles[arn].get("denied") or []
                       if NO_RULE in entry["message"]})
    assert not unjudged, "requests no authorization rule covers:\n" + "\n".join(unjudged)
