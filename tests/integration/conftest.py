"""Fixtures of the integration tier (the helpers they use are in harness.py).

* ``emulators``: one stack of the local emulators per test module, for suites that never
  converge (bad input).
* ``reference_converge`` / ``reference``: the session's one clean converge of ``site.yml`` at
  -vvv through ansible-runner, the way AWX runs playbooks, with the run's secrets passed the
  way users pass them, in an extra-vars file. The secrets suite inspects its output; the fault and
  interruption suites compare their read-back with its read-back
  (``tests/integration/readback.py``) and pick their kill points from its request log.
* ``early_jobs``: a suite whose module defines ``start_early`` runs its converges in a thread
  from the start of the session, beside the bad-input cases (``harness.Job``).
* ``integration_notes``: lines printed at the end of the session (seeds, fault counts, wall
  times).

The converging suites carry the marker ``converge``; when ``site.yml`` runs a phase that needs
the local Kubernetes control plane they also get ``kube`` (``make test`` runs those after the
control plane is built). The tier runs whole playbooks, so it is run on its own:
``.venv/bin/pytest -q tests/integration -x``.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import readback
from harness import ROOT, SECRET_VARIABLES, Job, Stack, site_needs_kube, start_stack, stop_stack

# Variables of the invoking shell that must not reach the clean converge (credentials, secrets).
CLEAN_ENVIRONMENT = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "MOTO_ACCOUNT_ID",
                     "AWS_SHARED_CREDENTIALS_FILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", *SECRET_VARIABLES)


def pytest_configure(config):
    config.addinivalue_line("markers", "converge: converges site.yml against the local emulators")
    config.addinivalue_line("markers", "kube: needs the local Kubernetes control plane")


_NOTES: list = []


@pytest.fixture(scope="session")
def integration_notes():
    """Lines for the end of the session's report (seeds, fault counts, wall times)."""
    return _NOTES


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _NOTES:
        terminalreporter.section("integration runs")
        for line in _NOTES:
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(config, items):
    if not site_needs_kube():
        return
    for item in items:
        if item.get_closest_marker("converge") and not item.get_closest_marker("kube"):
            item.add_marker(pytest.mark.kube)


@pytest.fixture(scope="module")
def emulators(tmp_path_factory):
    """The local emulators (no control plane) for one test module; stopped by PID at its end."""
    state = tmp_path_factory.mktemp("emulators")
    try:
        yield start_stack(state, kube=False)
    finally:
        stop_stack(state)


@pytest.fixture(scope="session", autouse=True)
def early_jobs(request, tmp_path_factory, integration_notes):
    """``{name: Job}``: the session's clean converge (``reference``) when a selected test uses
    it, and the converges of every selected module that defines ``start_early``, all started
    now, side by side; each stack is stopped by PID when its job or the session ends."""
    jobs = {}
    items = request.session.items
    wanted = [("reference", _reference_job)] if any(
        {"reference", "reference_converge"} & set(getattr(item, "fixturenames", ())) for item in items) else []
    modules = {item.module for item in items if getattr(item, "module", None) is not None}
    for module in sorted(modules, key=lambda m: m.__name__):
        target = getattr(module, "start_early", None)
        if target is not None:
            wanted.append((module.__name__.rpartition(".")[2], target))
    with pytest.MonkeyPatch.context() as patch:
        # Nothing of the invoking shell may reach a run: no credentials, no secrets.
        for name in CLEAN_ENVIRONMENT:
            patch.delenv(name, raising=False)
        for name, target in wanted:
            job = Job(name, target, tmp_path_factory.mktemp(name), integration_notes)
            jobs[name] = job if os.environ.get("HONEYHIVE_IT_SERIAL") == "1" else job.start()
        yield jobs
        for job in jobs.values():
            job.cancel()
        for job in jobs.values():
            job.join(timeout=300)
        if "reference" in jobs:
            stop_stack(jobs["reference"].base / "emulators")


# --------------------------------------------------------------------------------------------
# The session's clean converge


@dataclass
class ReferenceConverge:
    stack: Stack
    result: object
    stdout: str
    artifacts: Path
    home: Path
    scratch: Path
    requests: list
    seconds: float
    _snapshot: object = None

    def snapshot(self):
        """The read-back of the clean converge (taken once; nothing changes the stack after it)."""
        if self._snapshot is None:
            self._snapshot = readback.take(self.stack.env)
        return self._snapshot


CONVERGE_PLAYBOOK = "site.yml"


def _reference_job(base: Path, notes: list, job: Job) -> ReferenceConverge:
    """One clean converge of site.yml at -vvv through ansible-runner, shared by the session;
    its emulators stay up for the read-back and are stopped by ``early_jobs``.

    AWX writes a job's inputs into a private data dir: the environment (``env/envvars``), the
    extra vars (``env/extravars``, which holds the run's secrets, as a vault or vars file of a
    user would) and the inventory; the project is this checkout. ``early_jobs`` has removed
    the invoking shell's credentials and secrets (``CLEAN_ENVIRONMENT``) from the environment
    that ansible-runner passes on.
    """
    import ansible_runner  # pylint: disable=import-outside-toplevel

    state = base / "emulators"
    stack = start_stack(state)
    try:
        private, home = base / "private", base / "home"
        (private / "env").mkdir(parents=True)
        home.mkdir()
        shutil.copytree(ROOT / "inventories" / "local", private / "inventory")
        envvars = {key: value for key, value in stack.exports.items() if key not in SECRET_VARIABLES}
        envvars.update(
            PATH=stack.env["PATH"],
            # A home of its own, so ~/.ansible/tmp holds only what this run left behind.
            HOME=str(home),
            ANSIBLE_NOCOLOR="1",
        )
        (private / "env" / "envvars").write_text(yaml.safe_dump(envvars), encoding="utf-8")
        extravars = private / "env" / "extravars"
        extravars.write_text(yaml.safe_dump(stack.secret_vars()), encoding="utf-8")
        extravars.chmod(0o600)

        stack.reset_request_log()
        started = time.monotonic()
        result = ansible_runner.run(
            private_data_dir=str(private),
            project_dir=str(ROOT),
            playbook=CONVERGE_PLAYBOOK,
            verbosity=3,
            quiet=True,
            ident="converge",
            cancel_callback=job.cancelled.is_set,
        )
        seconds = round(time.monotonic() - started, 1)
        notes.append(f"reference converge (-vvv, ansible-runner; shared by the session): {seconds} s, "
                     f"status {result.status}")
        return ReferenceConverge(
            stack=stack, result=result, stdout=result.stdout.read(), artifacts=Path(result.config.artifact_dir),
            home=home, scratch=base / "scratch", requests=stack.requests(),
            seconds=seconds,
        )
    except BaseException:
        stop_stack(state)
        raise


@pytest.fixture(scope="session")
def reference_converge(early_jobs):
    """The session's clean converge (``_reference_job``), started with the session."""
    pytest.importorskip("ansible_runner")
    return early_jobs["reference"].result()


@pytest.fixture(scope="session")
def reference(reference_converge):
    """The clean converge, checked: it succeeded and its read-back covers every kind it made."""
    result = reference_converge.result
    if result.rc != 0 or result.status != "successful":
        pytest.fail(f"the clean reference converge failed (status {result.status}, rc {result.rc}):\n"
                    f"{reference_converge.stdout[-6000:]}")
    snapshot = reference_converge.snapshot()
    made, unknown = readback.covered_kinds(reference_converge.requests)
    assert not unknown, (
        f"site.yml now makes resources with {unknown}, which tests/integration/readback.py cannot read back: "
        "add them to its CREATE_KINDS and to the Reader")
    empty = sorted(kind for kind in made if not snapshot.kinds.get(kind) and kind not in snapshot.unavailable)
    assert not empty, f"the clean converge made {empty}, but the read-back found none of them"
    return reference_converge


@pytest.fixture(scope="session")
def helm_bin() -> str:
    """The helm binary of the chart tests (tests/charts/mirror.py), or the reason there is none."""
    sys.path.insert(0, str(ROOT / "tests" / "charts"))
    import mirror  # pylint: disable=import-outside-toplevel

    try:
        return mirror.helm()
    except mirror.ChartsUnavailable as err:
        pytest.fail(str(err))
