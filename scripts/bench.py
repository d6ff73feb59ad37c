#!/usr/bin/env python3
# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Converge benchmark against the local emulators (``make bench``; not part of ``make test``).

On its own emulators (``scripts/local.sh up STATE_DIR`` with the local Kubernetes control
plane, stopped by PID at the end) it runs ``ansible-playbook site.yml -i inventories/local``,
the whole platform (``--playbook`` names another, such as ``playbooks/substrate.yml``), and
measures:

* the first converge: wall time, and per phase (play) and role from a task timeline
  (``scripts/ansible_callbacks/bench_timeline.py``);
* the CPU seconds of each run (``ansible-playbook`` and every module process it ran, not the
  emulators), which a machine shared with other work disturbs far less than wall time;
* the no-op re-run: wall time and its ratio to the first converge, every AWS request it makes
  (the proxy's request log, reset before it) per managed AWS resource, by operation and by
  role/task (requests are matched to the task running when the proxy logged them);
* the managed AWS resources, counted from the emulator in the target account: tagged
  ``ManagedBy=honeyhive.platform`` or named with the prefix;
* the tasks run, and tasks per managed resource;
* real AWS timing: the same first converge on fresh emulators with the local AWS's creation
  times off (``HONEYHIVE_AWS_STRICT=all,-timing``); the difference of the two wall times is
  what AWS's asynchronous creations add at the local AWS's time scale, reported beside the
  critical path (the longest chain of dependent creations of the timed run, from the local
  AWS's ``/_aws/timing`` record) and the sum of all creation times: a run that waits for
  every creation in turn pays the sum, one that overlaps independent creations gets close
  to the critical path;
* three regions in one run: three throwaway inventories shaped like ``inventories/local``
  (distinct hosts and accounts, us-west-2 / us-east-1 / eu-west-1, non-overlapping CIDRs,
  one emulator) converged with ``-i a -i b -i c`` on fresh emulators, against one region of
  the same playbook on fresh emulators. That playbook is ``--three-region-playbook``, by
  default the substrate phase: the one local control plane can stand in for one cluster, not
  for three (three regions' releases of the same names would share it).

Prints one table and writes ``.local/bench.json``. Exits 1 when a playbook run fails (the JSON
then has ``error``); missed goals are reported, not failed.

Usage: .venv/bin/python scripts/bench.py [--state-dir .local/bench] [--output .local/bench.json]
                                         [--playbook site.yml]
                                         [--three-region-playbook playbooks/substrate.yml]
                                         [--skip-three-region] [--measure-single-region]
                                         [--strategy linear]

``--strategy`` runs every playbook with that Ansible strategy (``ANSIBLE_STRATEGY``) instead of
the one ansible.cfg names (Mitogen's ``mitogen_linear``), for example ``linear`` to measure
Ansible's own. The strategy used is in the table and the JSON (``strategy``).
"""
from __future__ import annotations

import argparse
import bisect
import json
import os
import resource
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import boto3
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "plugins" / "filter"))
import aws_requestlog  # noqa: E402  (scripts/)
import naming  # noqa: E402  (plugins/filter/: the collection's resource_name)

VENV_BIN = Path(sys.executable).parent
CALLBACK_DIR = ROOT / "scripts" / "ansible_callbacks"
MANAGED_BY = naming.MANAGED_BY
GOALS = {
    "noop_ratio": ("<", 0.33),
    "noop_api_calls_per_resource": ("<=", 1.5),
    "three_region_ratio": ("<=", 1.4),
    "aws_timing_vs_critical_path": ("<=", 1.15),
}
# A timed creation waits for what it needs: (kind, the kinds it depends on). Kinds are those
# of the local AWS's timing table (scripts/local_aws/timing.py).
CREATION_DEPENDS_ON = {
    "eks_cluster_create": (),
    "eks_addon_create": ("eks_cluster_create", "eks_nodegroup_create"),
    "eks_nodegroup_create": ("eks_cluster_create", "eks_addon_create", "nat_gateway_create"),
    "nat_gateway_create": (),
    "vpc_endpoint_create": (),
    "acm_dns_validation": (),
}
THREE_REGIONS = [  # region, group name, CIDR, account (each bootstrapped, with a registered domain of its own)
    ("us-west-2", "us_west_2", "10.11.0.0/16", "111122220001"),
    ("us-east-1", "us_east_1", "10.12.0.0/16", "111122220002"),
    ("eu-west-1", "eu_west_1", "10.13.0.0/16", "111122220003"),
]
RUN_STATUSES = ("ok", "failed", "ignored", "unreachable")
# Actions that run inside the controller: no module process is started for them.
CONTROLLER_ACTIONS = frozenset(f"ansible.builtin.{name}" for name in (
    "set_fact", "assert", "debug", "fail", "meta", "include_role", "include_tasks", "import_role",
    "import_tasks", "validate_argument_spec", "add_host", "group_by", "set_stats", "include_vars", "pause"))


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Emulators and playbook runs


def local_sh(action, state, kube=True, **extra):
    env = {k: v for k, v in os.environ.items() if k != "HONEYHIVE_FAULTS"}
    env["HONEYHIVE_LOCAL_KUBE"] = "1" if kube else "0"
    env.update(extra)
    subprocess.run([str(ROOT / "scripts" / "local.sh"), action, str(state)], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def read_env(state):
    """The environment that ``. STATE/env`` gives."""
    out = subprocess.run(["bash", "-c", 'set -a; . "$1"; env -0', "_", str(state / "env")],
                         check=True, capture_output=True, env=os.environ.copy()).stdout
    return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)


def configured_strategy(env):
    """The strategy the playbooks run with: ANSIBLE_STRATEGY, or what ansible.cfg sets."""
    out = subprocess.run([str(VENV_BIN / "ansible-config"), "dump"], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("DEFAULT_STRATEGY("):
            return line.split("=", 1)[1].strip()
    return "linear"


def reset_request_log(env):
    request = urllib.request.Request(env["AWS_ENDPOINT_URL"] + "/_proxy/reset-log", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def aws_requests(env, keep=None):
    """The AWS requests logged since the last reset (a copy is kept in ``keep``)."""
    log = Path(env["HONEYHIVE_AWS_REQUEST_LOG"])
    if keep is not None:
        keep.write_bytes(log.read_bytes())
    entries = aws_requestlog.load(log)
    return [e for e in entries if e.get("service") not in aws_requestlog.HARNESS_SERVICES]


def aws_seconds(entries):
    """Seconds the emulator spent answering ``entries`` (their ``ms``, one request after another)."""
    return round(sum(e.get("ms") or 0 for e in entries) / 1000, 1)


def child_cpu_seconds():
    """User and system CPU seconds of every child process waited for so far (and their children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_playbook(env, inventories, name, state, playbook):
    """Run the playbook; returns (wall seconds, CPU seconds, timeline path). Raises BenchError when
    it fails."""
    timeline = state / f"timeline-{name}.jsonl"
    log = state / "logs" / f"ansible-{name}.log"
    timeline.unlink(missing_ok=True)
    run_env = dict(env)
    run_env.update({
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
        "ANSIBLE_CALLBACKS_ENABLED": "bench_timeline",
        "HONEYHIVE_BENCH_TIMELINE": str(timeline),
        "ANSIBLE_NOCOLOR": "1",
    })
    cmd = [str(VENV_BIN / "ansible-playbook"), playbook]
    for inventory in inventories:
        cmd += ["-i", str(inventory)]
    shown = log.relative_to(ROOT) if log.is_relative_to(ROOT) else log
    print(f"bench: {name}: {' '.join(cmd[1:])} (log {shown})", flush=True)
    start, cpu_start = time.monotonic(), child_cpu_seconds()
    with open(log, "w", encoding="utf-8") as handle:
        rc = subprocess.run(cmd, cwd=ROOT, env=run_env, stdout=handle, stderr=subprocess.STDOUT).returncode
    wall, cpu = time.monotonic() - start, child_cpu_seconds() - cpu_start
    if rc != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
        raise BenchError(f"{name}: ansible-playbook exited {rc} after {wall:.0f} s:\n" + "\n".join(tail))
    print(f"bench: {name}: {wall:.1f} s ({cpu:.1f} CPU s)", flush=True)
    return wall, cpu, timeline


# --------------------------------------------------------------------------------------------
# Timeline


def load_timeline(path):
    """Tasks in start order: {seq, play, role, task, action, start, end, results}."""
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    tasks, by_seq, boundaries = [], {}, []
    for event in events:
        if event["event"] == "task":
            # "honeyhive.platform.vpc : Create the VPC" -> "Create the VPC" (the role is its own field)
            name = event["task"].split(" : ", 1)[1] if event["role"] and " : " in event["task"] else event["task"]
            task = dict(event, task=name, start=event["ts"], results=[])
            tasks.append(task)
            by_seq[event["seq"]] = task
        elif event["event"] == "result" and event["seq"] in by_seq:
            by_seq[event["seq"]]["results"].append(event)
        if event["event"] in ("task", "play", "end"):
            boundaries.append(event["ts"])
    boundaries.sort()
    for task in tasks:
        # A task lasts until the next task, play or the end of the run starts.
        index = bisect.bisect_right(boundaries, task["start"])
        task["end"] = boundaries[index] if index < len(boundaries) else task["start"]
    return tasks


def timeline_summary(tasks):
    per_phase = defaultdict(lambda: {"seconds": 0.0, "roles": defaultdict(float)})
    run = skipped = changed = module_runs = 0
    module_seconds = 0.0
    for task in tasks:
        seconds = task["end"] - task["start"]
        phase = per_phase[task["play"] or "(none)"]
        phase["seconds"] += seconds
        phase["roles"][task["role"] or "(play)"] += seconds
        ran = [r for r in task["results"] if r["status"] in RUN_STATUSES]
        run += len(ran)
        changed += sum(r["changed"] for r in ran)
        skipped += len(task["results"]) - len(ran)
        if ran and task["action"] not in CONTROLLER_ACTIONS:
            # one module process per loop item (or per host without a loop)
            module_runs += sum(max(r["items"], 1) for r in ran)
            module_seconds += seconds
    phases = {name: {"seconds": round(p["seconds"], 2),
                     "roles": {r: round(s, 2) for r, s in sorted(p["roles"].items(), key=lambda kv: -kv[1])}}
              for name, p in per_phase.items()}
    return {"per_phase": phases, "tasks_run": run, "tasks_skipped": skipped, "tasks_changed": changed,
            "task_starts": len(tasks), "module_runs": module_runs, "module_seconds": round(module_seconds, 1)}


def top_tasks(tasks, requests, limit=12):
    """Slowest tasks (summed over repeats) with the AWS requests made while each ran."""
    starts = [t["start"] for t in tasks]
    calls = defaultdict(Counter)
    for entry in requests:
        ts = datetime.fromisoformat(entry["ts"].replace("Z", "+00:00")).timestamp()
        index = bisect.bisect_right(starts, ts) - 1
        key = (tasks[index]["role"] or "(play)", tasks[index]["task"]) if index >= 0 else ("(before)", "")
        calls[key]["%s:%s" % (entry.get("service"), entry.get("operation"))] += 1
    seconds, runs = defaultdict(float), Counter()
    for task in tasks:
        key = (task["role"] or "(play)", task["task"])
        seconds[key] += task["end"] - task["start"]
        runs[key] += 1
    rows = []
    for key in set(seconds) | set(calls):
        rows.append({"role": key[0], "task": key[1], "seconds": round(seconds.get(key, 0.0), 2),
                     "starts": runs.get(key, 0), "api_calls": sum(calls[key].values()),
                     "by_operation": dict(calls[key].most_common())})
    by_time = sorted(rows, key=lambda r: -r["seconds"])[:limit]
    by_calls = sorted(rows, key=lambda r: -r["api_calls"])[:limit]
    return by_time, by_calls


# --------------------------------------------------------------------------------------------
# Managed resources, counted from the emulator


def inventory_host(inventory):
    """(host, merged variables) of a one-host inventory laid out like inventories/local."""
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    groups = hosts["all"]["children"]
    host = next(iter(next(iter(groups.values()))["hosts"]))
    merged = {}
    for path in sorted((ROOT / "group_vars" / "all").glob("*.yml")):
        merged.update(yaml.safe_load(path.read_text()) or {})
    for group, body in groups.items():
        path = inventory / "group_vars" / f"{group}.yml"
        if host in (body.get("hosts") or {}) and path.exists():
            merged.update(yaml.safe_load(path.read_text()) or {})
    merged.update(yaml.safe_load((inventory / "host_vars" / f"{host}.yml").read_text()) or {})
    return host, merged


def target_session(env, variables):
    """boto3 keyword arguments for the target account, straight to moto (not logged)."""
    context = {"prefix": variables["platform_name_prefix"], "environment": variables["platform_environment"],
               "region": variables["platform_region"]}
    role = naming.resource_name("deployment", context, kind="iam_role")
    account = str(variables["platform_target_account_id"])
    base = {"endpoint_url": env["HONEYHIVE_MOTO_URL"], "region_name": context["region"],
            "aws_access_key_id": env["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}
    creds = boto3.client("sts", **base).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="bench",
        ExternalId=env["HONEYHIVE_EXTERNAL_ID"])["Credentials"]
    return dict(base, aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"])


def count_resources(session, prefix):
    """{kind: count} of the managed resources, and {kind: error} for kinds that could not be read."""
    client = lambda name: boto3.client(name, **session)  # noqa: E731
    counts, errors = {}, {}
    ours_tags = lambda tags: any(t.get("Key", t.get("TagKey")) == "ManagedBy"  # noqa: E731
                                 and t.get("Value", t.get("TagValue")) == MANAGED_BY for t in tags or [])
    named = lambda name: name.startswith((prefix + "-", prefix + "/", "/" + prefix, "alias/" + prefix))  # noqa: E731
    ours_filter = [{"Name": "tag:ManagedBy", "Values": [MANAGED_BY]}]

    def count(kind, fn):
        try:
            counts[kind] = fn()
        except Exception as exc:  # pylint: disable=broad-except
            errors[kind] = f"{type(exc).__name__}: {exc}"[:200]

    def pages(cli, method, key, **kwargs):
        return [item for page in cli.get_paginator(method).paginate(**kwargs) for item in page[key]]

    ec2 = client("ec2")
    vpc_ids = [v["VpcId"] for v in ec2.describe_vpcs(Filters=ours_filter)["Vpcs"]]
    count("vpc", lambda: len(vpc_ids))
    count("subnet", lambda: len(ec2.describe_subnets(Filters=ours_filter)["Subnets"]))
    count("route_table", lambda: len(ec2.describe_route_tables(Filters=ours_filter)["RouteTables"]))
    count("internet_gateway", lambda: len(ec2.describe_internet_gateways(Filters=ours_filter)["InternetGateways"]))
    count("nat_gateway", lambda: sum(n["State"] in ("pending", "available")
                                     for n in ec2.describe_nat_gateways(Filters=ours_filter)["NatGateways"]))
    count("elastic_ip", lambda: len(ec2.describe_addresses(Filters=ours_filter)["Addresses"]))
    count("security_group", lambda: len(ec2.describe_security_groups(Filters=ours_filter)["SecurityGroups"]))
    if vpc_ids:
        vpc_filter = [{"Name": "vpc-id", "Values": vpc_ids}]
        count("vpc_endpoint", lambda: sum(e["State"].lower() not in ("deleted", "deleting")
                                          for e in ec2.describe_vpc_endpoints(Filters=vpc_filter)["VpcEndpoints"]))
        count("flow_log", lambda: len(ec2.describe_flow_logs(
            Filters=[{"Name": "resource-id", "Values": vpc_ids}])["FlowLogs"]))

    logs = client("logs")
    count("log_group", lambda: sum(
        named(g["logGroupName"].lstrip("/")) or named(g["logGroupName"])
        or logs.list_tags_log_group(logGroupName=g["logGroupName"]).get("tags", {}).get("ManagedBy") == MANAGED_BY
        for g in pages(logs, "describe_log_groups", "logGroups")))

    kms = client("kms")
    count("kms_key", lambda: sum(
        kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
        and ours_tags(kms.list_resource_tags(KeyId=k["KeyId"]).get("Tags"))
        for k in pages(kms, "list_keys", "Keys")))
    count("kms_alias", lambda: sum(named(a["AliasName"]) for a in pages(kms, "list_aliases", "Aliases")))

    iam = client("iam")
    roles = [r["RoleName"] for r in pages(iam, "list_roles", "Roles") if named(r["RoleName"])]
    count("iam_role", lambda: len(roles))
    count("iam_inline_policy", lambda: sum(len(iam.list_role_policies(RoleName=r)["PolicyNames"]) for r in roles))
    count("iam_managed_policy", lambda: sum(named(p["PolicyName"])
                                            for p in pages(iam, "list_policies", "Policies", Scope="Local")))
    count("iam_oidc_provider", lambda: sum(
        ours_tags(iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=p["Arn"]).get("Tags"))
        for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]))

    secrets = client("secretsmanager")
    count("secret", lambda: sum(named(s["Name"]) or ours_tags(s.get("Tags"))
                                for s in pages(secrets, "list_secrets", "SecretList")))

    route53 = client("route53")
    zones = [z for z in pages(route53, "list_hosted_zones", "HostedZones")
             if ours_tags(route53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=z["Id"].split("/")[-1])
                          ["ResourceTagSet"].get("Tags"))]
    count("route53_zone", lambda: len(zones))
    count("route53_record", lambda: sum(
        r["Type"] not in ("SOA", "NS") for z in zones
        for r in pages(route53, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=z["Id"])))

    acm = client("acm")
    count("acm_certificate", lambda: sum(
        ours_tags(acm.list_tags_for_certificate(CertificateArn=c["CertificateArn"]).get("Tags"))
        for c in pages(acm, "list_certificates", "CertificateSummaryList")))

    ecs = client("ecs")
    clusters = [arn for arn in pages(ecs, "list_clusters", "clusterArns") if named(arn.split("/")[-1])]
    count("ecs_cluster", lambda: len(clusters))
    count("ecs_service", lambda: sum(len(pages(ecs, "list_services", "serviceArns", cluster=c)) for c in clusters))
    count("ecs_task_definition", lambda: len(pages(ecs, "list_task_definition_families", "families",
                                                   familyPrefix=prefix, status="ACTIVE")))

    sqs = client("sqs")
    count("sqs_queue", lambda: sum(named(url.rsplit("/", 1)[-1])
                                   for url in sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])))
    events = client("events")
    count("event_rule", lambda: sum(named(r["Name"]) for r in pages(events, "list_rules", "Rules", NamePrefix=prefix)))

    eks = client("eks")
    eks_clusters = [c for c in eks.list_clusters().get("clusters", []) if named(c)]
    if eks_clusters:
        count("eks_cluster", lambda: len(eks_clusters))
        count("eks_nodegroup", lambda: sum(len(eks.list_nodegroups(clusterName=c)["nodegroups"]) for c in eks_clusters))
        count("eks_addon", lambda: sum(len(eks.list_addons(clusterName=c)["addons"]) for c in eks_clusters))
    return {k: v for k, v in counts.items() if v}, errors


# --------------------------------------------------------------------------------------------
# Real AWS timing


def timing_events(env):
    """The local AWS's record of every timed transition (``/_aws/timing``)."""
    with urllib.request.urlopen(env["AWS_ENDPOINT_URL"] + "/_aws/timing", timeout=10) as answer:
        data = json.loads(answer.read())
    return data["scale"], data["events"]


def creation_paths(events):
    """``(critical path seconds, sum seconds)`` of the creations among ``events``.

    An edge runs from one creation to a later one when the later one's kind depends on the
    earlier one's (CREATION_DEPENDS_ON) and it started once the earlier one had ended. The
    critical path is the heaviest chain of that graph; the sum counts every creation.
    """
    creations = sorted((e for e in events if e["kind"] in CREATION_DEPENDS_ON), key=lambda e: e["start"])
    longest = []
    for index, event in enumerate(creations):
        seconds = event["end"] - event["start"]
        before = [longest[i] for i, earlier in enumerate(creations[:index])
                  if earlier["kind"] in CREATION_DEPENDS_ON[event["kind"]] and earlier["end"] <= event["start"] + 0.05]
        longest.append(seconds + max(before, default=0.0))
    return round(max(longest, default=0.0), 1), round(sum(e["end"] - e["start"] for e in creations), 1)


def bootstrap_account(env, inventory, account, state):
    """An administrator of ``account`` (made directly in moto) runs bootstrap.yml for
    ``inventory``, as scripts/local.sh does for the local inventory's account."""
    iam = boto3.client("iam", endpoint_url=env["HONEYHIVE_MOTO_URL"], region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    iam.meta.events.register("before-sign",
                             lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    iam.create_user(UserName="account-administrator")
    iam.attach_user_policy(UserName="account-administrator", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="account-administrator")["AccessKey"]
    run_env = dict(env, AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    with open(state / "logs" / f"bootstrap-{inventory.name}.log", "wb") as log:
        subprocess.run([str(VENV_BIN / "ansible-playbook"), "bootstrap.yml", "-i", str(inventory)], cwd=ROOT,
                       env=run_env, stdout=log, stderr=subprocess.STDOUT, check=True)


# --------------------------------------------------------------------------------------------
# Three regions


def write_region_inventories(state):
    """Inventories shaped like inventories/local, one per region, all on the same emulator."""
    local = ROOT / "inventories" / "local"
    out = []
    for region, group, cidr, account in THREE_REGIONS:
        inventory = state / "inventories" / f"bench-{region}"
        host = f"bench-{region}"
        (inventory / "group_vars").mkdir(parents=True, exist_ok=True)
        (inventory / "host_vars").mkdir(parents=True, exist_ok=True)
        host_vars = yaml.safe_load((local / "host_vars" / "local-us-west-2.yml").read_text())
        host_vars.update({"platform_target_account_id": account, "vpc_cidr": cidr,
                          "dns_public_zone_name": f"honeyhive.{host}.example.org"})
        (inventory / "host_vars" / f"{host}.yml").write_text(
            "---\n# Written by scripts/bench.py: a throwaway copy of inventories/local for one region.\n"
            + yaml.safe_dump(host_vars, sort_keys=False))
        for name in ("emulator.yml", "test.yml"):
            (inventory / "group_vars" / name).write_text((local / "group_vars" / name).read_text())
        (inventory / "group_vars" / f"{group}.yml").write_text(f"---\nplatform_region: {region}\n")
        hosts = {"all": {"children": {"test": {"hosts": {host: None}}, group: {"hosts": {host: None}},
                                      "emulator": {"hosts": {host: None}}}}}
        (inventory / "hosts.yml").write_text("---\n" + yaml.safe_dump(hosts, sort_keys=False))
        out.append((inventory, account, f"{host}.example.org@{account}"))
    return out


# --------------------------------------------------------------------------------------------
# Report


def goal(name, value):
    op, target = GOALS[name]
    met = value is not None and (value < target if op == "<" else value <= target)
    return {"target": f"{op} {target}", "value": value, "met": met}


def print_table(result):
    def num(key, fmt="{:.2f}", unit=""):
        return "-" if result.get(key) is None else fmt.format(result[key]) + unit

    rows = [
        ("Ansible strategy", str(result.get("strategy")), ""),
        ("first converge", num("first_converge_s", "{:.1f}", " s"), ""),
        ("no-op re-run", num("noop_rerun_s", "{:.1f}", " s"), ""),
        ("no-op ratio", num("noop_ratio"), "noop_ratio"),
        ("CPU: first converge / no-op", num("first_converge_cpu_s", "{:.1f}", " s") + " / "
         + num("noop_rerun_cpu_s", "{:.1f}", " s"), ""),
        ("managed AWS resources", num("managed_resources", "{}"), ""),
        ("no-op AWS calls (and AssumeRole)", num("noop_api_calls", "{}") + " (" + num("noop_assume_role_calls", "{}")
         + ")", ""),
        ("no-op AWS calls / resource", num("noop_api_calls_per_resource"), "noop_api_calls_per_resource"),
        ("emulator answer time: first / no-op", num("first_aws_seconds", "{:.1f}", " s") + " / "
         + num("noop_aws_seconds", "{:.1f}", " s"), ""),
        ("tasks run (first converge)", num("tasks", "{}"), ""),
        ("tasks / resource", num("tasks_per_resource"), ""),
        ("no-op module runs (loop items)",
         num("noop_module_runs", "{}") + " in " + num("noop_module_seconds", "{:.0f}", " s"), ""),
        ("real AWS timing: scale", num("aws_timing_scale", "{:g}"), ""),
        ("real AWS timing: wall time added", num("aws_timing_added_s", "{:.1f}", " s"), ""),
        ("real AWS timing: critical path / sum", num("aws_timing_critical_path_s", "{:.1f}", " s") + " / "
         + num("aws_timing_sum_s", "{:.1f}", " s"), ""),
        ("real AWS timing: added / critical path", num("aws_timing_vs_critical_path"), "aws_timing_vs_critical_path"),
        ("three regions, one run", num("three_region_s", "{:.1f}", " s"), ""),
        ("three regions / one", num("three_region_ratio"), "three_region_ratio"),
        ("CPU: three regions", num("three_region_cpu_s", "{:.1f}", " s"), ""),
        ("mean emulator answer: first / three regions", num("first_aws_ms_mean", "{:.1f}", " ms") + " / "
         + num("three_region_aws_ms_mean", "{:.1f}", " ms"), ""),
        ("load average, start / end", f"{result['loadavg_start']:.1f} / {result['loadavg_end']:.1f}", ""),
    ]
    noop_roles = result.get("noop_per_role", {})
    for phase, data in result.get("per_phase", {}).items():
        rows.append((f"first: {phase[:40]}", f"{data['seconds']:.1f} s", ""))
        for role, seconds in data["roles"].items():
            rows.append((f"  role {role}", f"{seconds:.1f} s  (no-op {noop_roles.get(role, 0):.1f} s)", ""))
    for op, count in list(result.get("noop_calls_by_operation", {}).items())[:8]:
        rows.append((f"no-op calls {op}", str(count), ""))
    for task in result.get("noop_top_tasks_by_time", [])[:6]:
        rows.append((f"no-op {task['role']}: {task['task'][:42]}",
                     f"{task['seconds']:.1f} s, {task['api_calls']} calls", ""))
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(f"\n{'metric':<{width}}  {'value':<{vwidth}}  goal")
    print(f"{'-' * width}  {'-' * vwidth}  {'-' * 16}")
    for label, value, goal_key in rows:
        mark = ""
        if goal_key:
            met = result["goals"][goal_key]
            mark = f"{met['target']:<7} {'met' if met['met'] else 'MISSED'}"
        print(f"{label:<{width}}  {value:<{vwidth}}  {mark}")
    print()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", default=str(ROOT / ".local" / "bench"), help="emulator state and run logs")
    parser.add_argument("--output", default=str(ROOT / ".local" / "bench.json"), help="JSON report")
    parser.add_argument("--playbook", default="site.yml",
                        help="playbook to converge, relative to the repository (default: the whole platform)")
    parser.add_argument("--three-region-playbook", default="playbooks/substrate.yml",
                        help="playbook of the three-region run (default: the substrate phase; one local "
                             "control plane cannot stand in for three clusters)")
    parser.add_argument("--skip-three-region", action="store_true", help="skip the three-region run")
    parser.add_argument("--skip-aws-timing", action="store_true",
                        help="skip the converge with the local AWS's creation times off")
    parser.add_argument("--strategy", help="Ansible strategy of every run (default: ansible.cfg's)")
    parser.add_argument("--measure-single-region", action="store_true",
                        help="measure the one-region baseline on fresh emulators with the first generated "
                             "inventory instead of reusing the first converge")
    args = parser.parse_args(argv)
    state = Path(args.state_dir).resolve()
    (state / "logs").mkdir(parents=True, exist_ok=True)
    output = Path(args.output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    local_inventory = ROOT / "inventories" / "local"
    if args.strategy:
        os.environ["ANSIBLE_STRATEGY"] = args.strategy

    result = {"started": datetime.now().isoformat(timespec="seconds"), "playbook": args.playbook,
              "strategy": configured_strategy(dict(os.environ)),
              "loadavg_start": os.getloadavg()[0],
              "first_converge_s": None, "noop_rerun_s": None, "noop_ratio": None,
              "noop_api_calls_per_resource": None, "managed_resources": None, "tasks": None,
              "three_region_ratio": None, "three_region_s": None}
    emulators_up = False
    try:
        local_sh("down", state)  # leftovers of an interrupted run
        local_sh("up", state)
        emulators_up = True
        env = read_env(state)

        reset_request_log(env)
        first_s, first_cpu, first_timeline = run_playbook(env, [local_inventory], "first", state, args.playbook)
        first_requests = aws_requests(env, state / "requests-first.jsonl")
        first_tasks = load_timeline(first_timeline)
        first = timeline_summary(first_tasks)
        timing_scale, timing_record = timing_events(env)

        reset_request_log(env)
        noop_s, noop_cpu, noop_timeline = run_playbook(env, [local_inventory], "noop", state, args.playbook)
        noop_requests = aws_requests(env, state / "requests-noop.jsonl")
        noop_tasks = load_timeline(noop_timeline)
        noop = timeline_summary(noop_tasks)
        by_time, by_calls = top_tasks(noop_tasks, noop_requests)
        first_by_time, _ = top_tasks(first_tasks, first_requests)

        _, variables = inventory_host(local_inventory)
        counts, count_errors = count_resources(target_session(env, variables), variables["platform_name_prefix"])
        managed = sum(counts.values())

        noop_roles = defaultdict(float)
        for phase in noop["per_phase"].values():
            for role, seconds in phase["roles"].items():
                noop_roles[role] += seconds
        noop_calls = [e for e in noop_requests if (e.get("service"), e.get("operation")) != ("sts", "AssumeRole")]
        by_operation = Counter("%s:%s" % (e.get("service"), e.get("operation")) for e in noop_calls)
        result.update({
            "first_converge_s": round(first_s, 1),
            "noop_rerun_s": round(noop_s, 1),
            "noop_ratio": round(noop_s / first_s, 3),
            "first_converge_cpu_s": round(first_cpu, 1),
            "noop_rerun_cpu_s": round(noop_cpu, 1),
            "noop_cpu_ratio": round(noop_cpu / first_cpu, 3) if first_cpu else None,
            "noop_api_calls": len(noop_calls),
            # botocore assumes the deployment role again whenever its session nears its end (the
            # last 15 minutes); at the local AWS's time scale a session is always that near, so
            # AssumeRole precedes nearly every call. Counted apart: on AWS it is once an hour.
            "noop_assume_role_calls": len(noop_requests) - len(noop_calls),
            "noop_mutating_calls": sum(aws_requestlog.is_mutating(e) for e in noop_calls),
            "noop_changed_tasks": noop["tasks_changed"],
            "noop_api_calls_per_resource": round(len(noop_calls) / managed, 2) if managed else None,
            "first_api_calls": len(first_requests),
            # Time the emulator took to answer (the proxy's "ms"), summed: what of a run is AWS.
            "first_aws_seconds": aws_seconds(first_requests),
            "noop_aws_seconds": aws_seconds(noop_requests),
            "first_aws_ms_mean": round(sum(e.get("ms") or 0 for e in first_requests) / max(len(first_requests), 1), 1),
            "managed_resources": managed,
            "managed_resources_by_kind": counts,
            "managed_resources_errors": count_errors,
            "tasks": first["tasks_run"],
            "tasks_skipped": first["tasks_skipped"],
            "tasks_per_resource": round(first["tasks_run"] / managed, 2) if managed else None,
            "noop_tasks": noop["tasks_run"],
            "per_phase": first["per_phase"],
            "noop_per_phase": noop["per_phase"],
            "noop_per_role": {r: round(s, 2) for r, s in sorted(noop_roles.items(), key=lambda kv: -kv[1])},
            "noop_calls_by_operation": dict(by_operation.most_common()),
            "first_calls_by_operation": dict(Counter("%s:%s" % (e.get("service"), e.get("operation"))
                                                     for e in first_requests).most_common()),
            "first_module_runs": first["module_runs"],
            "noop_module_runs": noop["module_runs"],
            "noop_module_seconds": noop["module_seconds"],
            "first_top_tasks_by_time": first_by_time,
            "noop_top_tasks_by_time": by_time,
            "noop_top_tasks_by_calls": by_calls,
        })

        if not args.skip_aws_timing:
            critical, total = creation_paths(timing_record)
            local_sh("down", state)
            local_sh("up", state, HONEYHIVE_AWS_STRICT="all,-timing")
            env = read_env(state)
            untimed_s, _, _ = run_playbook(env, [local_inventory], "untimed", state, args.playbook)
            added = round(first_s - untimed_s, 1)
            result.update({
                "aws_timing_scale": timing_scale,
                "aws_timing_untimed_converge_s": round(untimed_s, 1),
                "aws_timing_added_s": added,
                "aws_timing_critical_path_s": critical,
                "aws_timing_sum_s": total,
                "aws_timing_vs_critical_path": round(added / critical, 3) if critical else None,
                "aws_timing_creations": Counter(e["kind"] for e in timing_record
                                                if e["kind"] in CREATION_DEPENDS_ON),
            })

        if not args.skip_three_region:
            regions = write_region_inventories(state)
            inventories = [inventory for inventory, _, _ in regions]
            domains = " ".join(domain for _, _, domain in regions)
            regional = args.three_region_playbook
            kube = regional not in ("playbooks/substrate.yml",)
            result["three_region_playbook"] = regional
            baseline = first_s
            result["three_region_baseline"] = "first_converge_s"
            if args.measure_single_region or regional != args.playbook:
                local_sh("down", state)
                local_sh("up", state, kube=kube, HONEYHIVE_AWS_PUBLIC_DOMAINS=domains)
                env = read_env(state)
                bootstrap_account(env, *regions[0][:2], state)
                baseline, _, _ = run_playbook(env, inventories[:1], "one-region", state, regional)
                result["three_region_baseline"] = "one_region_s"
                result["one_region_s"] = round(baseline, 1)
            local_sh("down", state)  # fresh emulators: every region converges from nothing
            local_sh("up", state, kube=kube, HONEYHIVE_AWS_PUBLIC_DOMAINS=domains)
            env = read_env(state)
            for inventory, account, _ in regions:
                bootstrap_account(env, inventory, account, state)
            reset_request_log(env)
            three_s, three_cpu, three_timeline = run_playbook(env, inventories, "three-region", state, regional)
            three_requests = aws_requests(env, state / "requests-three-region.jsonl")
            result["three_region_api_calls"] = len(three_requests)
            result["three_region_aws_ms_mean"] = round(
                sum(e.get("ms") or 0 for e in three_requests) / max(len(three_requests), 1), 1)
            result["three_region_s"] = round(three_s, 1)
            result["three_region_cpu_s"] = round(three_cpu, 1)
            result["three_region_ratio"] = round(three_s / baseline, 3)
            result["three_region_hosts"] = sorted({r["host"] for t in load_timeline(three_timeline)
                                                   for r in t["results"]})
    except (BenchError, subprocess.CalledProcessError, OSError) as exc:
        result["error"] = str(exc)
    finally:
        if emulators_up:
            local_sh("down", state)
        result["loadavg_end"] = os.getloadavg()[0]
        result["goals"] = {name: goal(name, result.get(name)) for name in GOALS}
        output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    if "error" in result:
        print(f"bench: FAILED: {result['error']}", file=sys.stderr)
        print(f"bench: partial results in {output}", file=sys.stderr)
        return 1
    print_table(result)
    print(f"bench: wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
