"""Every subnet lands in the zone id the plan names, whatever the account calls its zones.

AWS maps availability zone names to physical zones independently in each account, and the
strict local AWS does too (``scripts/local_aws/zones.py``: an account sees the ids of a region
rotated by ``int(account) % number of zones``). The local target account sees us-east-1b as
use1-az3, the zone in which EKS refuses control-plane subnets in us-east-1 (Amazon EKS User
Guide, "View Amazon EKS networking requirements for VPC and subnets"), so a plan by zone
letter (a, b, c) puts a subnet there.

The substrate phase (``playbooks/substrate.yml``) of the local inventory converges in us-east-1
(``-e platform_region=us-east-1``, with a VPC CIDR of its own) on emulators of their own,
without the Kubernetes control plane. ``local.sh up`` bootstraps the account for the
inventory's region; the deployment role is named per region, so ``bootstrap.yml`` runs once
more for us-east-1, with the account administrator's keys, as a user adding a region would.
Then the subnets are read back from the emulator: each is in the zone id that
``honeyhive.platform.subnet_plan`` planned for its CIDR, and none is in use1-az3; and a second
run finds the network it made as its own and changes nothing. The runs start with the
session, beside the bad-input cases (``start_early``, see conftest.Job).
"""
from __future__ import annotations

import sys

import boto3
import pytest

import readback
from harness import ROOT, read_env_file, run_playbook, start_stack, stop_stack

REGION = "us-east-1"
VPC_CIDR = "10.30.0.0/16"
# EKS refuses control-plane subnets in this zone id of us-east-1 (data/regions.yml leaves it out).
REFUSED = "use1-az3"
# The local target account's name for it: a letter the plan by letter used (a, b, c).
REFUSED_NAME_HERE = "us-east-1b"
REGION_VARS = ("-e", f"platform_region={REGION}", "-e", f"vpc_cidr={VPC_CIDR}")


def planned(vpc_cidr: str, region: str) -> dict:
    """{cidr: zone id} of the collection's own plan for ``region`` (the filters preflight runs)."""
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # noqa: PLC0415

    site = [p for p in sys.path if p.endswith("site-packages")]
    _AnsibleCollectionFinder(paths=[str(ROOT / ".local" / "collections")] + site)._install()
    from ansible_collections.honeyhive.platform.plugins.filter import network  # noqa: PLC0415

    return {entry["cidr"]: entry["az_id"] for entry in network.subnet_plan(vpc_cidr, network.availability_zones(region))}


def stack_client(stack, keys: dict):
    """An EC2 client of the local AWS in us-east-1 with the account administrator's keys."""
    return boto3.client("ec2", endpoint_url=stack.env["AWS_ENDPOINT_URL"], region_name=REGION,
                        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"], aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"])


def start_early(base, notes, job):
    """One converge of the substrate in us-east-1 and its read-back, on emulators of their own."""
    state = base / "emulators"
    stack = start_stack(state, kube=False)
    try:
        administrator = read_env_file(state / "bootstrap.env")
        keys = {name: administrator[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        bootstrap = run_playbook(stack, "bootstrap.yml", *REGION_VARS, log=base / "bootstrap.log", temp=base / "tmp",
                                 extra_env=keys, job=job)
        notes.append(f"zone ids, bootstrap for {REGION}: {bootstrap.seconds} s, rc {bootstrap.rc}")
        run = run_playbook(stack, "playbooks/substrate.yml", *REGION_VARS, log=base / "substrate.log",
                           temp=base / "tmp", job=job) if bootstrap.rc == 0 else bootstrap
        notes.append(f"zone ids, substrate in {REGION}: {run.seconds} s, rc {run.rc}")
        again = run_playbook(stack, "playbooks/substrate.yml", *REGION_VARS, log=base / "again.log",
                             temp=base / "tmp", job=job) if run.rc == 0 else None
        if again is not None:
            notes.append(f"zone ids, substrate again: {again.seconds} s, rc {again.rc}, changed {again.changed}")
        # The zones as the account sees them: through the local AWS, whose zones behaviour maps them.
        zones = {z["ZoneName"]: z["ZoneId"] for z in stack_client(stack, keys).describe_availability_zones()[
            "AvailabilityZones"]}
        # What the converge made, straight from the emulator (no proxy, nothing logged).
        account, _region = readback.local_inventory()
        ec2 = readback.target_session(stack.env, account, REGION).client(
            "ec2", endpoint_url=stack.env["HONEYHIVE_MOTO_URL"], region_name=REGION)
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "cidr-block-association.cidr-block", "Values": [VPC_CIDR]}])["Vpcs"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [v["VpcId"] for v in vpcs]}])["Subnets"] \
            if vpcs else []
        return {"run": run, "again": again, "zones": zones, "vpcs": vpcs, "subnets": subnets}
    finally:
        stop_stack(state)


@pytest.fixture(scope="module")
def converged(early_jobs):
    return early_jobs["test_zone_ids"].result()


def test_the_account_names_the_refused_zone_by_a_planned_letter(converged):
    """The precondition: this account calls use1-az3 us-east-1b, unlike another account would."""
    assert converged["zones"].get(REFUSED_NAME_HERE) == REFUSED, converged["zones"]


def test_the_substrate_converges_in_us_east_1(converged):
    run = converged["run"]
    assert run.rc == 0 and run.failed == 0, f"recap {run.recap}\n{run.tail()}"
    assert len(converged["vpcs"]) == 1, converged["vpcs"]


def test_no_subnet_is_in_a_zone_eks_refuses(converged):
    subnets = converged["subnets"]
    assert len(subnets) == 6, [s["CidrBlock"] for s in subnets]
    refused = sorted(f"{s['CidrBlock']} ({s['AvailabilityZone']})" for s in subnets if s["AvailabilityZoneId"] == REFUSED)
    assert not refused, f"subnets in {REFUSED}, where EKS refuses control-plane subnets: {refused}"


def test_every_subnet_is_in_its_planned_zone_id(converged):
    plan = planned(VPC_CIDR, REGION)
    found = {s["CidrBlock"]: s["AvailabilityZoneId"] for s in converged["subnets"]}
    assert found == plan
    # the Name tag carries the zone id's number: private-az4 is in use1-az4
    for subnet in converged["subnets"]:
        name = {t["Key"]: t["Value"] for t in subnet.get("Tags", [])}.get("Name", "")
        number = subnet["AvailabilityZoneId"].rsplit("-az", 1)[1]
        assert f"-az{number}-" in name, (name, subnet["AvailabilityZoneId"])


def test_a_second_run_changes_nothing(converged):
    again = converged["again"]
    assert again is not None, "the first run failed"
    assert again.rc == 0 and again.failed == 0, f"recap {again.recap}\n{again.tail()}"
    assert again.changed == 0, f"changed tasks: {again.changed_tasks()}"
