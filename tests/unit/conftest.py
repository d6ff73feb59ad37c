"""Shared fixtures for the unit tier.

* Installs Ansible's collection loader so ``ansible_collections.honeyhive.platform``
  (this repository, linked under .local/collections) and the bundled
  ``amazon.aws`` / ``community.aws`` collections import as they do at run time.
* ``moto_endpoint``: a real moto server on a free 127.0.0.1 port for the session,
  stopped by its PID at the end.
* ``api_calls``: the name of every AWS API operation made through botocore.
* ``start_twingate_double``: starts the local Twingate test double
  (scripts/twingate_double.py) on a free port; ``closed_twingate_url``: a GraphQL URL
  on a port nothing listens on.
* ``run_module``: runs one of our modules' ``main()`` with given arguments and
  returns its JSON result (``failed`` set when it called ``fail_json``).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from botocore.client import BaseClient

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".local" / "collections"


def _ensure_collection_link() -> None:
    link = COLLECTIONS / "ansible_collections" / "honeyhive" / "platform"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("../../../.."))


_ensure_collection_link()

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # noqa: E402

_site_collections = [p for p in sys.path if p.endswith("site-packages")]
_AnsibleCollectionFinder(paths=[str(COLLECTIONS)] + _site_collections)._install()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_process(command, ready_url, what, timeout, interval, **popen):
    """Start ``command`` and return the process once ``ready_url`` answers.

    Raises RuntimeError (and kills the process) when it exits or does not answer
    within ``timeout`` seconds."""
    proc = subprocess.Popen(command, **popen)
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(ready_url, timeout=1)
            return proc
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"{what} did not start")
            time.sleep(interval)


def stop_process(proc) -> None:
    """Stop a process started by ``start_process`` by its PID (SIGKILL after 10 s)."""
    os.kill(proc.pid, 15)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, 9)


@pytest.fixture(scope="session")
def moto_endpoint():
    """A moto server for the whole test session; yields its endpoint URL."""
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_ACM_VALIDATION_WAIT="0")
    env.pop("MOTO_ACCOUNT_ID", None)
    moto = Path(sys.executable).parent / "moto_server"
    url = f"http://127.0.0.1:{port}"
    proc = start_process(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], url + "/moto-api/", "moto server", 30, 0.2,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    yield url
    stop_process(proc)


@pytest.fixture(scope="session")
def start_twingate_double():
    """``start_twingate_double(token, *options, stderr=...)`` starts the Twingate test
    double (scripts/twingate_double.py) on a free port and returns ``(process, base
    URL)`` once it answers; ``start_twingate_double.stop(process)`` stops it by its PID."""

    def start(token, *options, stderr=subprocess.DEVNULL):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, str(ROOT / "scripts" / "twingate_double.py"), "--port", str(port), "--token", token]
        proc = start_process(command + list(options), base + "/healthz", "the Twingate double", 20, 0.1,
                             stdout=subprocess.DEVNULL, stderr=stderr)
        return proc, base

    start.stop = stop_process
    return start


@pytest.fixture
def closed_twingate_url():
    """A Twingate API URL on a 127.0.0.1 port nothing listens on."""
    return f"http://127.0.0.1:{free_port()}/api/graphql/"


@pytest.fixture
def api_calls(monkeypatch):
    """Records the name of every AWS API operation made through botocore."""
    calls = []
    original = BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


@pytest.fixture
def aws_env(monkeypatch):
    """Static fake credentials so nothing can ever reach a real account."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def run_module(capsys):
    """Run ``module.main()`` with ``args`` and return the parsed JSON result."""
    from ansible.module_utils.testing import patch_module_args

    def _run(module, args: dict) -> dict:
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                module.main()
        out = capsys.readouterr().out
        return json.loads(out.strip().splitlines()[-1])

    return _run
