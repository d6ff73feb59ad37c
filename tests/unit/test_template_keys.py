"""No mapping key of the collection's YAML holds template text.

Ansible templates the values of variables, task options and vars files, never the keys of a
mapping: ``{"{{ key_var }}": owned}`` reaches AWS (a policy's condition key, a tag, a chart
value) as the literal text ``{{ key_var }}``. Such a mapping is built with a Jinja expression
instead, ``"{{ {key_var: 'owned'} }}"``."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Ansible content: roles, playbooks, inventories, group variables, molecule scenarios and the
# root playbooks (Helm chart templates under tests/charts are Go templates, not YAML).
SCANNED = ["roles", "playbooks", "inventories", "group_vars", "extensions", "site.yml", "teardown.yml"]
MARKS = ("{{", "{%")


def yaml_files():
    for entry in SCANNED:
        path = ROOT / entry
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))


def templated_keys(node, trail=()):
    """(line, key path, key) of every mapping key that holds template text."""
    found = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            if isinstance(key, yaml.ScalarNode) and any(mark in key.value for mark in MARKS):
                found.append((key.start_mark.line + 1, ".".join(map(str, trail + (name,))), key.value))
            found.extend(templated_keys(value, trail + (name,)))
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            found.extend(templated_keys(value, trail + (index,)))
    return found


def test_the_scan_sees_the_collection():
    files = list(yaml_files())
    assert ROOT / "roles" / "karpenter" / "vars" / "main.yml" in files
    assert len(files) > 50


def test_a_templated_key_is_found():
    node = yaml.compose('Condition:\n  StringEquals:\n    "{{ __owned }}": owned\n')
    assert templated_keys(node) == [(3, "Condition.StringEquals.{{ __owned }}", "{{ __owned }}")]
    assert templated_keys(yaml.compose("StringEquals: \"{{ {__owned: 'owned'} }}\"\n")) == []


@pytest.mark.parametrize("path", list(yaml_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_mapping_key_holds_template_text(path):
    found = []
    with open(path, encoding="utf-8") as handle:
        for document in yaml.compose_all(handle, Loader=yaml.SafeLoader):
            found.extend(templated_keys(document))
    assert not found, "\n".join(
        "%s:%d: the key %r of %s is never templated by Ansible; build the mapping with a Jinja expression"
        % (path.relative_to(ROOT), line, key, trail) for line, trail, key in found)
