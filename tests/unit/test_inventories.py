"""Every inventory is one deployment with a unique, non-overlapping 10.x.0.0/16 VPC."""
from __future__ import annotations

import ipaddress
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVENTORIES = sorted(p.name for p in (ROOT / "inventories").iterdir() if p.is_dir())
EXPECTED = {"local", "test-us-east-1", "stage-us-west-2", "prod-us-west-2", "prod-us-east-1", "prod-eu-west-1"}


def load(name: str) -> dict:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    out = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", f"inventories/{name}",
         "--playbook-dir", str(ROOT), "--list"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def inventories() -> dict:
    return {name: load(name) for name in INVENTORIES}


def only_host(inv: dict) -> tuple[str, dict]:
    hosts = inv["_meta"]["hostvars"]
    assert len(hosts) == 1, f"one logical host per deployment, got {sorted(hosts)}"
    return next(iter(hosts.items()))


def test_the_six_deployments_exist():
    assert set(INVENTORIES) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_one_host_in_its_environment_and_region_groups(inventories, name):
    host, hostvars = only_host(inventories[name])
    env, region = hostvars["platform_environment"], hostvars["platform_region"]
    assert host in inventories[name][env]["hosts"]
    assert host in inventories[name][region.replace("-", "_")]["hosts"]
    if name != "local":
        assert name == f"{env}-{region}" == host
    assert hostvars["platform_target_account_id"].isdigit() and len(hostvars["platform_target_account_id"]) == 12
    # organisation-wide settings come from the root group_vars
    assert hostvars["platform_name_prefix"] == "honeyhive"
    assert "platform_versions" in hostvars


def test_vpc_cidrs_are_unique_and_do_not_overlap(inventories):
    cidrs = {name: ipaddress.ip_network(only_host(inv)[1]["vpc_cidr"]) for name, inv in inventories.items()}
    for net in cidrs.values():
        assert net.prefixlen == 16 and net.subnet_of(ipaddress.ip_network("10.0.0.0/8")), net
    for (a, na), (b, nb) in itertools.combinations(cidrs.items(), 2):
        assert not na.overlaps(nb), f"{a} {na} overlaps {b} {nb}"


def test_only_the_local_inventory_talks_to_emulators(inventories):
    for name, inv in inventories.items():
        hostvars = only_host(inv)[1]
        assert bool(hostvars.get("platform_emulator")) is (name == "local"), name
        assert ("platform_aws_endpoint_url" in hostvars) is (name == "local"), name
