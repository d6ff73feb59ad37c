"""ansible-doc renders every module, filter and role of the collection."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_DOC = str(Path(sys.executable).parent / "ansible-doc")

MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
FILTERS = sorted(p.stem for p in (ROOT / "plugins" / "filter").glob("*.yml"))
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())


def doc(kind: str, names: list[str]) -> dict:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    out = subprocess.run(
        [ANSIBLE_DOC, "-t", kind, "--json"] + [f"honeyhive.platform.{n}" for n in names],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("kind,names", [("module", MODULES), ("filter", FILTERS)])
def test_plugins_render(kind, names):
    assert names, f"no {kind} plugins found"
    docs = doc(kind, names)
    for name in names:
        entry = docs[f"honeyhive.platform.{name}"]
        assert entry["doc"]["short_description"], name
        assert entry["examples"], f"{name}: no EXAMPLES"
        assert entry["return"], f"{name}: no RETURN"


def test_every_filter_has_its_documentation():
    from ansible_collections.honeyhive.platform.plugins.filter import charts, cost, iam, naming, network, sizing, versions

    registered = sorted(name for m in (naming, network, sizing, cost, charts, iam, versions)
                        for name in m.FilterModule().filters())
    assert registered == FILTERS


def test_every_role_has_an_argument_spec_that_renders():
    assert ROLES
    for role in ROLES:
        assert (ROOT / "roles" / role / "meta" / "argument_specs.yml").is_file(), role
        assert (ROOT / "roles" / role / "defaults" / "main.yml").is_file(), role
    docs = doc("role", ROLES)
    for role in ROLES:
        assert docs[f"honeyhive.platform.{role}"]["entry_points"]["main"]["short_description"], role
