"""The platform converges under throttling and server errors, to exactly what a clean run makes.

The emulators of this module start with the AWS proxy injecting seeded faults (local.sh's
HONEYHIVE_FAULT_* variables): 12 % of the AWS requests are answered with a throttling error
and 6 % with a 500 or 503, each in its protocol's wire format, before they reach moto.
Injected requests never reach the emulator, so a retry is always safe: a run that fails or
leaves a duplicate here lacks retries, or treats an error as "not found".

* ``site.yml -i inventories/local`` converges (the same command a user runs);
* the read-back of moto (directly, not through the proxy) and of the Twingate double equals
  the read-back of the session's clean converge: the same resources of every kind, none twice;
* a second run, under faults again (the generator re-seeded), reports no change.

Both runs start with the session, beside the bad-input cases (``start_early``, see
conftest.Job); ``HONEYHIVE_IT_SERIAL=1`` runs them when the first test here needs them.

They run with Ansible's own linear strategy (``ANSIBLE_STRATEGY=linear``: a Python process per
module, as in an execution environment without mitogen), every other converge of the session
with ansible.cfg's Mitogen strategy: the comparison with the clean run's read-back also shows
that both strategies build the same platform.

The seed (``HONEYHIVE_FAULT_SEED``, default below) and the faults injected per kind and run
are printed in the summary of the test session and in every failure message; the AWS
requests are sequential, so a run with the same seed meets the same faults, up to the
polling of waits whose length depends on timing:
``HONEYHIVE_FAULT_SEED=<seed> .venv/bin/pytest tests/integration/test_faults.py``.
"""
from __future__ import annotations

import os
from collections import Counter

import pytest

import readback
from harness import run_playbook, start_stack, stop_stack

SEED = int(os.environ.get("HONEYHIVE_FAULT_SEED") or 20251123)
STRATEGY = {"ANSIBLE_STRATEGY": "linear"}
THROTTLE_RATE = 0.12
ERROR_RATE = 0.06

pytestmark = pytest.mark.converge


def injected(stack, start: int = 0) -> dict:
    """Faults injected since request ``start`` of the stack's log, by kind and by operation."""
    entries = stack.requests()[start:]
    kinds = Counter(entry["injected"] for entry in entries if entry.get("injected"))
    operations = Counter(f"{e['service']}:{e['operation']}" for e in entries if e.get("injected"))
    return {"requests": len(entries), "throttle": kinds.get("throttle", 0), "500": kinds.get("500", 0),
            "503": kinds.get("503", 0), "top_operations": dict(operations.most_common(5))}


def replay_note(seed: int, faults: dict) -> str:
    return (f"seed {seed}: {faults['requests']} AWS requests, injected {faults['throttle']} throttling, "
            f"{faults['500']} x 500, {faults['503']} x 503 (most hit: {faults['top_operations']}); replay with "
            f"HONEYHIVE_FAULT_SEED={SEED} .venv/bin/pytest tests/integration/test_faults.py")


def start_early(base, notes, job):
    """Both runs on emulators of their own (started with the session, see conftest.Job)."""
    state = base / "emulators"
    stack = start_stack(state, faults={"HONEYHIVE_FAULT_SEED": SEED, "HONEYHIVE_FAULT_THROTTLE_RATE": THROTTLE_RATE,
                                       "HONEYHIVE_FAULT_ERROR_RATE": ERROR_RATE})
    try:
        config = stack.proxy_health()["config"]
        assert config == {"throttle_rate": THROTTLE_RATE, "error_rate": ERROR_RATE, "seed": SEED, "fault_after": 0}
        first = run_playbook(stack, "site.yml", log=base / "first.log", temp=base / "tmp", extra_env=STRATEGY, job=job)
        first.faults = injected(stack)
        first.note = replay_note(SEED, first.faults)
        notes.append(f"faults, converge: {first.seconds} s, rc {first.rc}, {first.note}")
        if first.rc != 0:
            return {"first": first, "snapshot": None, "second": None}
        try:
            snapshot = readback.take(stack.env)
        except Exception as exc:  # reported by the test that compares it, not by every test here
            snapshot = exc
        stack.proxy_config(seed=SEED + 1)
        start = len(stack.requests())
        second = run_playbook(stack, "site.yml", log=base / "second.log", temp=base / "tmp", extra_env=STRATEGY,
                              job=job)
        second.faults = injected(stack, start)
        second.note = replay_note(SEED + 1, second.faults)
        notes.append(f"faults, second run: {second.seconds} s, rc {second.rc}, changed {second.changed}, {second.note}")
        return {"first": first, "snapshot": snapshot, "second": second}
    finally:
        stop_stack(state)


@pytest.fixture(scope="module")
def runs(early_jobs):
    return early_jobs["test_faults"].result()


@pytest.fixture(scope="module")
def first(runs):
    return runs["first"]


@pytest.fixture(scope="module")
def second(runs):
    if runs["second"] is None:
        pytest.skip("the converge under faults failed")
    return runs["second"]


def test_the_converge_succeeds_under_faults(first):
    assert first.rc == 0 and first.recap and first.failed == 0, (
        f"the converge failed under faults ({first.note}); recap {first.recap}\n{first.tail()}")


def test_faults_of_every_kind_were_injected(first):
    faults = first.faults
    assert faults["throttle"] and faults["500"] and faults["503"], f"not every kind of fault was injected: {faults}"
    share = (faults["throttle"] + faults["500"] + faults["503"]) / max(faults["requests"], 1)
    assert share >= (THROTTLE_RATE + ERROR_RATE) / 2, f"only {share:.1%} of the requests were faulted: {faults}"


def test_the_resources_are_exactly_those_of_a_clean_run(runs, reference):
    first, snapshot = runs["first"], runs["snapshot"]
    if snapshot is None:
        pytest.fail(f"the converge under faults failed ({first.note})")
    if isinstance(snapshot, Exception):
        raise snapshot
    difference = readback.difference(reference.snapshot(), snapshot)
    assert not difference, (
        f"the read-back after the converge under faults differs from the clean run's ({first.note}):\n"
        + readback.describe_difference(difference))
    assert not snapshot.duplicates(), snapshot.duplicates()


def test_a_second_run_under_faults_changes_nothing(second):
    assert second.rc == 0 and second.failed == 0, (
        f"the second run failed under faults ({second.note}); recap {second.recap}\n{second.tail()}")
    assert second.recap and second.changed == 0, (
        f"the second run under faults changed {second.changed} things ({second.note}): {second.changed_tasks()}")
