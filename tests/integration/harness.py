"""Emulator stacks, playbook runs and kills for the integration suites (their fixtures are in
conftest.py).

* :func:`start_stack` / :func:`stop_stack`: one stack of the local emulators (moto behind
  ``scripts/aws_proxy.py``, ``scripts/twingate_double.py`` and, when ``site.yml`` runs a phase
  that needs it, the local Kubernetes control plane), started with ``scripts/local.sh up
  STATE_DIR`` and stopped by PID with ``scripts/local.sh down STATE_DIR``. Options of the
  proxy (faults) go in through local.sh's environment variables.
* :func:`run_playbook`: one ``ansible-playbook`` run in its own process group, with the run's
  secrets in an extra-vars file, optionally killed (SIGKILL to the whole process tree, see
  :func:`kill_tree`) when the proxy's request log shows a given call.
* :class:`Job`: a suite's converges in a thread beside the session's other tests.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
LOCAL_SH = ROOT / "scripts" / "local.sh"
VENV_BIN = ROOT / ".venv" / "bin"
SITE = ROOT / "playbooks" / "site.yml"
# Phase playbooks that need the local Kubernetes control plane.
KUBE_PHASES = frozenset({"hosting.yml"})
# Environment of local.sh that must not leak into a stack started by the tests.
FAULT_VARIABLES = ("HONEYHIVE_FAULTS", "HONEYHIVE_FAULT_SEED", "HONEYHIVE_FAULT_THROTTLE_RATE",
                   "HONEYHIVE_FAULT_ERROR_RATE", "HONEYHIVE_FAULT_AFTER", "HONEYHIVE_AWS_STRICT",
                   "HONEYHIVE_AWS_TIME_SCALE", "HONEYHIVE_AWS_SESSION_SCALE", "HONEYHIVE_AWS_CONSISTENCY_WINDOWS",
                   "HONEYHIVE_AWS_SEED")
# The integration suites' stacks run every strict behaviour with AWS durations divided by this
# (an EKS cluster takes 6 s); the molecule scenario and `make bench` run at the local AWS's
# default, 20. Role sessions last half an hour (the local AWS's session scale, 2): the suites
# that test their end shorten them (test_access, test_eks_tokens).
SUITE_TIME_SCALE = 100
# Secrets the stack's env file exports; runs get them through an extra-vars file instead.
SECRET_VARIABLES = {"HONEYHIVE_EXTERNAL_ID": "platform_external_id", "TWINGATE_API_TOKEN": "twingate_api_token"}
RECAP_RE = re.compile(r"^(\S+)\s*:\s*((?:\w+=\d+\s*)+)$", re.MULTILINE)


def _ensure_collection_link() -> None:
    """``make venv`` links the checkout into .local/collections; do the same for a bare clone."""
    link = ROOT / ".local" / "collections" / "ansible_collections" / "honeyhive" / "platform"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("../../../.."))


def read_env_file(path: Path) -> dict:
    """The environment after sourcing ``path`` (as ``. STATE_DIR/env`` would give a shell)."""
    out = subprocess.run(
        ["bash", "-c", 'set -a; . "$1"; env -0', "read_env_file", str(path)],
        check=True, capture_output=True, env=dict(os.environ),
    )
    env = {}
    for entry in out.stdout.decode().split("\0"):
        if "=" in entry:
            key, _, value = entry.partition("=")
            env[key] = value
    return env


def site_phases() -> list[str]:
    """The phase playbooks ``site.yml`` imports, in order."""
    plays = yaml.safe_load(SITE.read_text(encoding="utf-8")) or []
    return [Path(play["ansible.builtin.import_playbook"]).name for play in plays
            if "ansible.builtin.import_playbook" in play]


def site_needs_kube() -> bool:
    return bool(KUBE_PHASES & set(site_phases()))


# --------------------------------------------------------------------------------------------
# Emulator stacks


@dataclass
class Stack:
    state_dir: Path
    env: dict
    exports: dict = field(default_factory=dict)

    @property
    def request_log(self) -> Path:
        return Path(self.env["HONEYHIVE_AWS_REQUEST_LOG"])

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    def _proxy(self, path: str, payload=None) -> dict:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.env["AWS_ENDPOINT_URL"] + path, data=data,
                                         method="GET" if data is None else "POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
            return json.loads(answer.read().decode() or "{}")

    def reset_request_log(self) -> None:
        self._proxy("/_proxy/reset-log", {})

    def proxy_health(self) -> dict:
        return self._proxy("/_proxy/health")

    def proxy_config(self, **settings) -> dict:
        return self._proxy("/_proxy/config", settings)

    def strict_config(self, **settings) -> dict:
        """The local AWS's strict settings (``/_aws/config``), changed first when given."""
        return self._proxy("/_aws/config", settings or None)["settings"]

    def iam_usage(self) -> dict:
        """What the local AWS's IAM evaluated, per role (``GET /_aws/iam/usage``)."""
        return self._proxy("/_aws/iam/usage")

    def requests(self) -> list:
        if not self.request_log.exists():
            return []
        entries = []
        for line in self.request_log.read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue  # a line being written
        return entries

    def run_env(self, **extra) -> dict:
        """The environment of a run against this stack, without the secrets of the env file."""
        env = {k: v for k, v in self.env.items() if k not in SECRET_VARIABLES}
        env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        env.update(extra)
        return env

    def administrator_env(self) -> dict:
        """The target account administrator's keys (STATE/bootstrap.env), for bootstrap.yml runs."""
        text = (self.state_dir / "bootstrap.env").read_text(encoding="utf-8")
        return dict(line.split("=", 1) for line in text.split())

    def secret_vars(self) -> dict:
        """The run's secrets as the extra vars a user would keep in a vault or vars file."""
        return {variable: self.env[name] for name, variable in SECRET_VARIABLES.items() if name in self.env}


def start_stack(state: Path, faults: dict | None = None, kube: bool | None = None) -> Stack:
    """``scripts/local.sh up STATE`` (with the control plane when ``site.yml`` needs it)."""
    _ensure_collection_link()
    env = dict(os.environ, VENV=str(ROOT / ".venv"))
    for name in FAULT_VARIABLES:
        env.pop(name, None)
    if kube is None:
        kube = site_needs_kube()
    if kube:
        env["HONEYHIVE_LOCAL_KUBE"] = "1"
    else:
        env.pop("HONEYHIVE_LOCAL_KUBE", None)
    env["HONEYHIVE_AWS_TIME_SCALE"] = str(SUITE_TIME_SCALE)
    env.update({key: str(value) for key, value in (faults or {}).items()})
    up = subprocess.run([str(LOCAL_SH), "up", str(state)], env=env, capture_output=True, text=True)
    if up.returncode != 0:
        stop_stack(state)
        raise AssertionError(f"local.sh up failed:\n{up.stdout}\n{up.stderr}")
    full = read_env_file(state / "env")
    exports = {key: value for key, value in full.items() if os.environ.get(key) != value}
    return Stack(state_dir=state, env=full, exports=exports)


def stop_stack(state: Path) -> None:
    """``scripts/local.sh down STATE``: every server of the stack, by PID."""
    subprocess.run([str(LOCAL_SH), "down", str(state)], env=dict(os.environ, VENV=str(ROOT / ".venv")),
                   capture_output=True, text=True)


# --------------------------------------------------------------------------------------------
# Playbook runs


def parse_recap(output: str) -> dict:
    """``{host: {"ok": n, "changed": n, "failed": n, ...}}`` from the PLAY RECAP of a run."""
    recap = {}
    _, marker, tail = output.rpartition("PLAY RECAP")
    if not marker:
        return recap
    for host, counts in RECAP_RE.findall(tail):
        recap[host] = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", counts)}
    return recap


@dataclass
class Run:
    command: list
    rc: int | None
    output: str
    seconds: float
    recap: dict
    killed_at: dict | None = None

    @property
    def changed(self) -> int:
        return sum(host.get("changed", 0) for host in self.recap.values())

    @property
    def failed(self) -> int:
        return sum(host.get("failed", 0) + host.get("unreachable", 0) for host in self.recap.values())

    def tail(self, chars: int = 6000) -> str:
        return self.output[-chars:]

    def changed_tasks(self) -> list:
        """The tasks (with their role) that reported a change, in order."""
        out, task = [], None
        for line in self.output.splitlines():
            if line.startswith("TASK ["):
                task = line[6:line.rindex("]")] if "]" in line else line
            elif line.startswith("changed:") and task and (not out or out[-1] != task):
                out.append(task)
        return out


def _children() -> dict:
    """pid -> parent pid of every process."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
    return parents


def process_tree(root: int) -> set:
    """``root`` and all its descendants."""
    parents = _children()
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return tree


def kill_tree(root: int) -> int:
    """SIGKILL ``root`` and every process it started, the way a lost machine stops a run.

    ansible-playbook's workers leave its process group (``setsid``), and the modules they run
    would finish what they were doing, so the whole tree is frozen first (SIGSTOP, until no
    new process appears) and then killed, each process by its PID, and the group as well.
    Returns the number of processes killed.
    """
    frozen = set()
    while True:
        new = process_tree(root) - frozen
        if not new:
            break
        for pid in new:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        frozen |= new
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.killpg(root, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return len(frozen)


def run_playbook(stack: Stack, playbook: str = "site.yml", *args: str, log: Path, temp: Path | None = None,
                 extra_env: dict | None = None, kill_at: tuple | None = None, timeout: int = 1800,
                 callback_dir: Path | None = None, job: "Job | None" = None, administrator: bool = False) -> Run:
    """``ansible-playbook PLAYBOOK -i inventories/local -e @secrets`` against ``stack``.

    The secrets go in through an extra-vars file next to ``log``, as a user passes them.
    ``administrator``: the run has the target account administrator's keys instead of the
    orchestration account's (a bootstrap.yml run).
    ``temp``: ansible's temporary directories (a killed run leaves its module files there).
    ``kill_at = (service, operation, n)``: the run is killed (:func:`kill_tree`) as soon as the
    proxy's request log shows the n-th successful ``service:operation`` since the run began.
    """
    secrets = log.with_suffix(".vars.json")
    secrets.write_text(json.dumps(stack.secret_vars()), encoding="utf-8")
    secrets.chmod(0o600)
    command = [str(VENV_BIN / "ansible-playbook"), playbook, "-i", "inventories/local", "-e", f"@{secrets}", *args]
    env = stack.run_env(**(extra_env or {}))
    if administrator:
        env.update(stack.administrator_env())
    if callback_dir is not None:
        env["ANSIBLE_CALLBACK_PLUGINS"] = str(callback_dir)
    if temp is not None:
        temp.mkdir(parents=True, exist_ok=True)
        env.update(ANSIBLE_LOCAL_TEMP=str(temp / "local"), ANSIBLE_REMOTE_TEMP=str(temp / "remote"))
    offset = stack.request_log.stat().st_size if stack.request_log.exists() else 0
    started = time.monotonic()
    killed_at = None
    with open(log, "wb") as out:
        if job is not None and job.cancelled.is_set():
            raise RuntimeError("cancelled")
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        if job is not None:
            job.proc = proc
        try:
            if kill_at is None:
                proc.wait(timeout=timeout)
            else:
                killed_at = _kill_when_seen(proc, stack, kill_at, offset, started + timeout)
        except BaseException:
            kill_tree(proc.pid)
            proc.wait()
            raise
    output = log.read_text(encoding="utf-8", errors="replace")
    return Run(command=command, rc=proc.returncode, output=output, seconds=round(time.monotonic() - started, 1),
               recap=parse_recap(output), killed_at=killed_at)


def _kill_when_seen(proc, stack: Stack, kill_at: tuple, offset: int, deadline: float) -> dict | None:
    service, operation, wanted = kill_at
    seen, buffer = 0, b""
    with open(stack.request_log, "rb") as handle:
        handle.seek(offset)
        while True:
            chunk = handle.read()
            if chunk:
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue
                    if (entry.get("service"), entry.get("operation")) == (service, operation) \
                            and not entry.get("injected") and 200 <= int(entry.get("status") or 0) < 300:
                        seen += 1
                        if seen == wanted:
                            killed = kill_tree(proc.pid)
                            proc.wait()
                            return {"service": service, "operation": operation, "occurrence": wanted,
                                    "processes_killed": killed, "log_line": entry}
            elif proc.poll() is not None:
                return None
            elif time.monotonic() > deadline:
                raise TimeoutError(f"the run neither reached {service}:{operation} #{wanted} nor ended")
            else:
                time.sleep(0.002)


# --------------------------------------------------------------------------------------------
# Suites that start early


class Job:
    """A suite's own converges, run in a thread beside the session's other tests.

    A test module that defines ``start_early(base_dir, notes, job)`` (its runs, on emulators
    of its own) has it started when the session begins (conftest's ``early_jobs``), so that
    its converges overlap the bad-input cases, which stop before any AWS call; its fixtures
    then wait for the result. ``HONEYHIVE_IT_SERIAL=1`` runs it only when its first test needs
    it. A session that ends early kills the running playbook (its whole process tree) and
    waits for the thread.
    """

    def __init__(self, name: str, target, base: Path, notes: list):
        self.name = name
        self.base = base
        self.proc = None
        self.cancelled = threading.Event()
        self._result = None
        self._error = None
        self._thread = threading.Thread(target=self._run, args=(target, base, notes), name=name, daemon=True)

    def _run(self, target, base, notes):
        try:
            self._result = target(base, notes, self)
        except BaseException as exc:  # handed to the test that asks for the result
            self._error = exc

    def start(self) -> "Job":
        self._thread.start()
        return self

    def result(self):
        if not self._thread.is_alive() and self._thread.ident is None:
            self.start()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result

    def join(self, timeout: float | None = None) -> None:
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def cancel(self) -> None:
        self.cancelled.set()
        if self.proc is not None and self.proc.poll() is None:
            kill_tree(self.proc.pid)
        if self._thread.ident is not None:
            self._thread.join(timeout=120)
