"""A check run on a fresh account succeeds, reports what it would do and changes nothing.

``site.yml -i inventories/local --check --diff`` on emulators of its own, before anything
exists: every phase must get through (a resource that does not exist yet has no id, so the
tasks that need it are skipped, never failed), report changes, and make no mutating AWS call
(the proxy's request log) and no object in the Kubernetes API. The run starts with the
session, beside the other converging suites (``start_early``).
"""
from __future__ import annotations

import pytest
from kubernetes import client as kube_client
from kubernetes import config as kube_config

from harness import run_playbook, start_stack, stop_stack

pytestmark = pytest.mark.converge


def kube_objects(stack) -> dict | None:
    """Namespaces, CRDs and Helm release secrets of the stack's control plane."""
    kubeconfig = stack.env.get("HONEYHIVE_LOCAL_KUBECONFIG")
    if not kubeconfig:
        return None
    api = kube_config.new_client_from_config(config_file=kubeconfig)
    core = kube_client.CoreV1Api(api)
    return {
        "namespaces": sorted(n.metadata.name for n in core.list_namespace().items),
        "crds": sorted(c.metadata.name for c in kube_client.ApiextensionsV1Api(api).list_custom_resource_definition().items),
        "helm releases": sorted(s.metadata.name for s in core.list_secret_for_all_namespaces(
            label_selector="owner=helm").items),
    }


def start_early(base, notes, job):
    state = base / "emulators"
    stack = start_stack(state)
    try:
        before = kube_objects(stack)
        stack.reset_request_log()  # the stack's own bootstrap made the access path
        run = run_playbook(stack, "site.yml", "--check", "--diff", log=base / "check.log", temp=base / "tmp", job=job)
        notes.append(f"check mode on a fresh account: {run.seconds} s, rc {run.rc}, changed {run.changed}")
        return {"run": run, "requests": stack.requests(), "before": before, "after": kube_objects(stack)}
    finally:
        stop_stack(state)


@pytest.fixture(scope="module")
def check(early_jobs):
    return early_jobs["test_check_mode"].result()


def test_the_check_run_succeeds_and_reports_changes(check):
    run = check["run"]
    assert run.rc == 0 and run.failed == 0, f"recap {run.recap}\n{run.tail()}"
    assert run.changed > 0, f"a check run on a fresh account reported no change: recap {run.recap}"


def test_the_check_run_makes_no_mutating_aws_call(check):
    mutating = [f"{e['service']}:{e['operation']}" for e in check["requests"]
                if e.get("mutating") and e.get("service") != "moto"]
    assert check["requests"], "the check run made no AWS call at all"
    assert not mutating, f"mutating AWS calls in check mode: {mutating}"


def test_the_check_run_creates_nothing_in_kubernetes(check):
    before, after = check["before"], check["after"]
    if before is None:
        pytest.fail("the stack has no local control plane (HONEYHIVE_LOCAL_KUBECONFIG)")
    assert "kube-system" in before["namespaces"]
    assert after == before, f"the check run changed the cluster: before {before}, after {after}"
