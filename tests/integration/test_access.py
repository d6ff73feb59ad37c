"""The access path, the deployment role's sessions and the public zone, on the strict local AWS.

One stack of the local AWS of its own (no Kubernetes control plane; AWS durations divided by
200, so a one-hour role session lasts 18 s), its account bootstrapped as ``scripts/local.sh up``
does (bootstrap.yml with the target account's administrator). The runs converge only what each
case needs (``platform_phase_roles`` narrows the substrate phase):

* the bootstrap itself: the deployment role trusts the GitHub deploy role, which IAM refuses as
  a principal for a few seconds after it is made (``MalformedPolicyDocument: Invalid
  principal``); the trust is sent again until IAM takes it;
* a run as the deployment role that the inventory wants to change the access path in (the
  GitHub subjects) stops in the foundation role before any mutating call, naming the change
  and bootstrap.yml; after bootstrap.yml applies it, the same run changes nothing;
* a run longer than one role session: botocore assumes the role again through the session's
  profile whenever a session nears its end, so no request is refused as expired;
* a public zone whose parent zone is not in the account: the dns role stops before waiting for
  the certificate (which could only time out) and names the NS records to add.
"""
from __future__ import annotations

import json
import time
import urllib.request

import pytest

from harness import run_playbook, start_stack, stop_stack

pytestmark = pytest.mark.converge

SCALE = 200
IAM_PROPAGATION = "iam=4-10"
FOUNDATION_ONLY = json.dumps({"platform_phase_roles": {"substrate": ["foundation"], "hosting": []}})
DNS_ONLY = json.dumps({"platform_phase_roles": {"substrate": ["foundation", "vpc", "dns"], "hosting": []}})
NEW_SUBJECTS = json.dumps({"foundation_github_subjects": ["ref:refs/heads/release"]})
UNDELEGATED = "platform.unregistered.example"


def start_early(base, notes, job):
    state = base / "emulators"
    # A new role propagates for 4-10 s here (1-4 s by default; both are real-world figures):
    # the bootstrap's next role names it as a principal about 2 s later on an idle machine, and
    # the suite starts beside the session's other converges, which can slow that down past 4 s.
    stack = start_stack(state, kube=False, faults={"HONEYHIVE_AWS_TIME_SCALE": str(SCALE),
                                                   "HONEYHIVE_AWS_SESSION_SCALE": str(SCALE),
                                                   "HONEYHIVE_AWS_CONSISTENCY_WINDOWS": IAM_PROPAGATION})
    try:
        runs = {"bootstrap_requests": stack.requests()}

        def run(name, playbook, *args, **options):
            offset = len(stack.requests())
            started = time.time()
            result = run_playbook(stack, playbook, *args, log=base / f"{name}.log", temp=base / "tmp", job=job,
                                  **options)
            runs[name] = {"run": result, "requests": stack.requests()[offset:], "started": started,
                          "ended": time.time()}
            notes.append(f"access suite, {name}: {result.seconds} s, rc {result.rc}, changed {result.changed}")
            return result

        run("first", "playbooks/substrate.yml", "-e", FOUNDATION_ONLY)
        run("drift", "playbooks/substrate.yml", "-e", FOUNDATION_ONLY, "-e", NEW_SUBJECTS)
        run("bootstrap", "bootstrap.yml", "-e", NEW_SUBJECTS, administrator=True)
        run("after", "playbooks/substrate.yml", "-e", FOUNDATION_ONLY, "-e", NEW_SUBJECTS)
        run("undelegated", "playbooks/substrate.yml", "-e", DNS_ONLY, "-e", NEW_SUBJECTS,
            "-e", f"dns_public_zone_name={UNDELEGATED}")
        with urllib.request.urlopen(stack.env["AWS_ENDPOINT_URL"] + "/_aws/sessions", timeout=10) as answer:
            runs["sessions"] = json.loads(answer.read())["sessions"]
        return runs
    finally:
        stop_stack(state)


@pytest.fixture(scope="module")
def runs(early_jobs):
    return early_jobs["test_access"].result()


def mutating(requests):
    return [f"{e['service']}:{e['operation']}" for e in requests if e.get("mutating") and e.get("service") != "moto"]


def test_the_bootstrap_sends_a_trust_again_while_its_principal_propagates(runs):
    creates = [(e["status"], e.get("strict")) for e in runs["bootstrap_requests"]
               if (e["service"], e["operation"]) == ("iam", "CreateRole")]
    refused = [c for c in creates if c == (400, "consistency")]
    assert refused, f"IAM never refused a new principal during the bootstrap: {creates}"
    assert creates[-1] == (200, None), f"the last CreateRole did not succeed: {creates}"


def test_a_run_as_the_deployment_role_converges(runs):
    first = runs["first"]["run"]
    assert first.rc == 0, first.tail()


def test_a_change_of_the_access_path_stops_before_anything_changes(runs):
    drift = runs["drift"]["run"]
    assert drift.rc != 0, "the run changed the access path as the deployment role"
    assert "may not change it: update the trust policy of role honeyhive-github-deploy-test-us-west-2" in drift.output
    assert "ansible-playbook bootstrap.yml" in drift.output
    assert "AccessDenied" not in drift.output
    assert mutating(runs["drift"]["requests"]) == []
    denied = [e for e in runs["drift"]["requests"] if e.get("strict") == "iam"]
    assert denied == [], f"the run made calls the deployment role may not make: {denied}"


def test_the_bootstrap_applies_it_and_the_run_then_changes_nothing(runs):
    assert runs["bootstrap"]["run"].rc == 0, runs["bootstrap"]["run"].tail()
    assert "iam:UpdateAssumeRolePolicy" in mutating(runs["bootstrap"]["requests"])
    after = runs["after"]["run"]
    assert after.rc == 0 and after.changed == 0, f"recap {after.recap}\n{after.tail()}"


def test_runs_outlive_their_role_sessions(runs):
    lifetime = 3600 / SCALE
    longest = max(r["ended"] - r["started"] for k, r in runs.items() if isinstance(r, dict) and "run" in r)
    assert longest > lifetime, f"no run lasted longer than one session ({lifetime} s)"
    deployment = [s for s in runs["sessions"] if s["role_arn"].endswith(":role/honeyhive-deployment-test-us-west-2")]
    assert len(deployment) >= 2, "the deployment role was assumed only once"
    expired = [e for r in runs.values() if isinstance(r, dict) and "requests" in r
               for e in r["requests"] if e.get("strict") == "credentials"]
    assert expired == [], f"requests refused as expired: {expired[:5]}"


def test_an_undelegated_public_zone_stops_before_the_certificate_wait(runs):
    run = runs["undelegated"]["run"]
    assert run.rc != 0
    assert f"dns: {UNDELEGATED} is a new public zone that nothing delegates yet" in run.output
    assert f"Add these records to the parent zone unregistered.example" in run.output
    assert "dns_public_zone_delegated: true" in run.output
    assert "Wait until ACM has issued the certificate" not in run.output
    assert run.seconds < 600
