"""Shared fixtures of the integration tier.

* ``emulators``: one stack of the local emulators (moto behind ``scripts/aws_proxy.py``,
  and ``scripts/twingate_double.py``) per test module, started with
  ``scripts/local.sh up STATE_DIR`` in a temporary directory and stopped by PID with
  ``scripts/local.sh down STATE_DIR``. It yields a :class:`Stack` with the environment that
  ``STATE_DIR/env`` exports, plus helpers for the proxy's request log.

The tier runs whole playbooks, so it is run on its own:
``.venv/bin/pytest -q tests/integration -x``.
"""
from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LOCAL_SH = ROOT / "scripts" / "local.sh"
VENV_BIN = ROOT / ".venv" / "bin"


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


@dataclass
class Stack:
    state_dir: Path
    env: dict

    @property
    def request_log(self) -> Path:
        return Path(self.env["HONEYHIVE_AWS_REQUEST_LOG"])

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    def reset_request_log(self) -> None:
        request = urllib.request.Request(
            self.env["AWS_ENDPOINT_URL"] + "/_proxy/reset-log", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200

    def requests(self) -> list:
        if not self.request_log.exists():
            return []
        lines = self.request_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def emulators(tmp_path_factory):
    """The local emulators for one test module; stopped by PID at its end."""
    _ensure_collection_link()
    state = tmp_path_factory.mktemp("emulators")
    env = dict(os.environ, VENV=str(ROOT / ".venv"))
    env.pop("HONEYHIVE_FAULTS", None)
    up = subprocess.run([str(LOCAL_SH), "up", str(state)], env=env, capture_output=True, text=True)
    try:
        assert up.returncode == 0, f"local.sh up failed:\n{up.stdout}\n{up.stderr}"
        yield Stack(state_dir=state, env=read_env_file(state / "env"))
    finally:
        subprocess.run([str(LOCAL_SH), "down", str(state)], env=env, capture_output=True, text=True)
