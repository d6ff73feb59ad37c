"""Shared fixtures for the unit tier.

* Installs Ansible's collection loader so ``ansible_collections.honeyhive.platform``
  (this repository, linked under .local/collections) and the bundled
  ``amazon.aws`` / ``community.aws`` collections import as they do at run time.
* ``moto_endpoint``: a real moto server on a free 127.0.0.1 port for the session,
  stopped by its PID at the end.
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


@pytest.fixture(scope="session")
def moto_endpoint():
    """A moto server for the whole test session; yields its endpoint URL."""
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_ACM_VALIDATION_WAIT="0")
    env.pop("MOTO_ACCOUNT_ID", None)
    moto = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("moto server did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


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
