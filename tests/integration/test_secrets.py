"""No secret the collection generates or receives reaches any output of a run.

The session's clean converge (``reference_converge`` in conftest.py): the whole platform
(``site.yml``) at -vvv through ansible-runner, the way AWX runs playbooks. The run gets its
secrets the way users pass them, in an extra-vars file (AWX's ``env/extravars``; a vault works
the same), never in its environment. Then every secret is collected:

* the deployment role's ExternalId and the Twingate API token, which the run received;
* the access key id, secret key and session token of every role session the local AWS handed
  out during the run (botocore assumed the role through the session's profile, again whenever
  a session neared its end), and every EKS token the local API server was shown;
* the target account administrator's keys, with which the stack ran bootstrap.yml;
* each Twingate connector's access and refresh token, read back from Secrets Manager in the
  target account (moto keeps accounts apart) with the deployment role's credentials;
* the Redis auth token the elasticache_replication_group module generated, and the master
  passwords RDS and DocumentDB keep in their managed secrets, read back the same way;

and none of them, raw, JSON-escaped or URL-encoded, may appear in the runner's stdout, in
any file of its artifacts (job events and the ``command`` file included), in any log of the
emulators, or in any file under ~/.ansible/tmp (which must be empty after the run). A
self-check first proves that the scan finds a secret planted in a scratch copy of the
artifacts. No credential is ever on disk: the session's private config file (0600 in a 0700
directory) holds the profile that assumes the role, with the ExternalId.
"""
from __future__ import annotations

import json
import os
import shutil
import urllib.parse
import urllib.request
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]

ansible_runner = pytest.importorskip("ansible_runner")

TARGET_ACCOUNT = "111122223333"
DEPLOYMENT_ROLE_ARN = f"arn:aws:iam::{TARGET_ACCOUNT}:role/honeyhive-deployment-test-us-west-2"
REGION = "us-west-2"
EXTERNAL_ID_LABEL = "ExternalId (platform_external_id)"
TWINGATE_TOKEN_LABEL = "Twingate API token (twingate_api_token)"

pytestmark = pytest.mark.converge


def variants(secret: str) -> set[bytes]:
    """The forms a secret takes in text: raw, inside a JSON string, URL-encoded."""
    forms = {secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe=""),
             urllib.parse.quote_plus(secret)}
    return {form.encode() for form in forms}


def files_under(*roots: Path) -> list[Path]:
    found = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            # os.walk passes over a directory removed while it walks (molecule runs beside this
            # suite and cleans up its own temporary files in the invoking user's ~/.ansible/tmp).
            for folder, _, names in os.walk(root):
                found.extend(Path(folder) / name for name in names)
    return sorted(path for path in found if not path.is_symlink())


def scan(paths: list[Path], secrets: dict[str, str]) -> list[tuple[str, str]]:
    """``(file, secret label)`` for every secret found in one of ``paths``."""
    patterns = {label: variants(value) for label, value in secrets.items()}
    hits = []
    for path in paths:
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # a file another run (molecule, beside this suite) just removed
            continue
        for label, forms in patterns.items():
            if any(form in data for form in forms):
                hits.append((str(path), label))
    return hits


def report(hits: list[tuple[str, str]]) -> str:
    return "\n".join(f"{where}: {label}" for where, label in hits)


@pytest.fixture(scope="module")
def run(reference_converge):
    """The session's clean converge at -vvv; what the tests inspect."""
    ref = reference_converge
    return {
        "result": ref.result,
        "stdout": ref.stdout,
        "artifacts": ref.artifacts,
        "home": ref.home,
        "stack": ref.stack,
        "scratch": ref.scratch,
    }


@pytest.fixture(scope="module")
def secrets(run):
    """Every secret of the run, by label."""
    stack = run["stack"]
    external_id = stack.env["HONEYHIVE_EXTERNAL_ID"]
    found = {
        EXTERNAL_ID_LABEL: external_id,
        TWINGATE_TOKEN_LABEL: stack.env["TWINGATE_API_TOKEN"],
    }
    endpoint = stack.env["AWS_ENDPOINT_URL"]
    sessions = json.loads(urllib.request.urlopen(endpoint + "/_aws/sessions/secrets", timeout=10).read())["sessions"]
    for number, session in enumerate(sessions):
        for key in ("access_key", "secret_key", "session_token"):
            found[f"role session {number}: {key}"] = session[key]
    tokens = json.loads(urllib.request.urlopen(endpoint + "/_aws/eks/tokens", timeout=10).read())["tokens"]
    for number, token in enumerate(tokens):
        found[f"EKS token {number}"] = token
    admin = dict(line.split("=", 1) for line in (stack.state_dir / "bootstrap.env").read_text().split())
    found["administrator access key id"] = admin["AWS_ACCESS_KEY_ID"]
    found["administrator secret key"] = admin["AWS_SECRET_ACCESS_KEY"]

    client_args = dict(region_name=REGION, endpoint_url=stack.env["AWS_ENDPOINT_URL"])
    sts = boto3.client("sts", aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=stack.env["AWS_SECRET_ACCESS_KEY"], **client_args)
    assumed = sts.assume_role(RoleArn=DEPLOYMENT_ROLE_ARN, RoleSessionName="secrets-test",
                              ExternalId=external_id)["Credentials"]
    secretsmanager = boto3.client(
        "secretsmanager", aws_access_key_id=assumed["AccessKeyId"],
        aws_secret_access_key=assumed["SecretAccessKey"], aws_session_token=assumed["SessionToken"],
        **client_args)
    names = [entry["Name"] for page in secretsmanager.get_paginator("list_secrets").paginate()
             for entry in page["SecretList"] if "twingate-connector" in entry["Name"]]
    for name in sorted(names):
        tokens = json.loads(secretsmanager.get_secret_value(SecretId=name)["SecretString"])
        for key in ("access_token", "refresh_token"):
            found[f"connector token {name}: {key}"] = tokens[key]
    # The data tier's credentials: the Redis auth token (the bare token) and the managed master
    # secrets of RDS and DocumentDB (JSON with a password), which no run ever reads.
    for page in secretsmanager.get_paginator("list_secrets").paginate():
        for entry in page["SecretList"]:
            name = entry["Name"]
            if name.endswith("redis-auth-token"):
                found[f"Redis auth token {name}"] = secretsmanager.get_secret_value(SecretId=name)["SecretString"]
            elif name.startswith("rds!"):
                value = json.loads(secretsmanager.get_secret_value(SecretId=entry["ARN"])["SecretString"])
                found[f"managed master password {name}"] = value["password"]
    return found


def test_the_converge_succeeded(run):
    result = run["result"]
    assert result.rc == 0 and result.status == "successful", (
        f"status {result.status}, rc {result.rc}\n{run['stdout'][-6000:]}")
    assert list((run["artifacts"] / "job_events").glob("*.json")), "no job events were written"
    # Lines Ansible prints only at -vvv: the connection's (Ansible's own strategy) or the
    # inventory plugins' (any strategy; Mitogen's prints no connection lines).
    vvv_lines = ("<127.0.0.1>", "ESTABLISH LOCAL CONNECTION", "did not pass its verify_file() method")
    assert any(line in run["stdout"] for line in vvv_lines), "the run was not verbose (-vvv)"


def test_every_secret_was_collected(secrets):
    tokens = [label for label in secrets if label.startswith("connector token")]
    assert len(tokens) >= 2, f"no connector tokens were read back from Secrets Manager: {sorted(secrets)}"
    assert any(label.startswith("Redis auth token") for label in secrets), f"no Redis auth token: {sorted(secrets)}"
    managed = [label for label in secrets if label.startswith("managed master password")]
    assert len(managed) >= 2, f"the RDS and DocumentDB managed secrets were not read back: {sorted(secrets)}"
    assert any(label.startswith("role session") for label in secrets), "the local AWS handed out no role session"
    assert any(label.startswith("EKS token") for label in secrets), "the local API server was shown no EKS token"
    for label, value in secrets.items():
        assert isinstance(value, str) and len(value) >= 16, f"{label} is too short to look for"
        assert value.strip() == value, label


def test_the_scan_finds_a_planted_secret(run, secrets):
    """Self-check: a secret planted in a scratch copy of the artifacts is found, in each form."""
    scratch = run["scratch"]
    shutil.copytree(run["artifacts"], scratch)
    before = scan(files_under(scratch), secrets)
    label, value = sorted(secrets.items())[0]
    planted = scratch / "job_events" / "planted" / "9999-planted.json"
    planted.parent.mkdir(parents=True)
    planted.write_text(json.dumps({"event_data": {"res": {"stdout": f"token={value} end"}}}), encoding="utf-8")
    escaped = scratch / "planted-escaped.txt"
    escaped.write_text(f"line one\nAuthorization: {json.dumps(value + '/')[1:-1]}\n", encoding="utf-8")
    encoded = scratch / "planted-encoded.txt"
    encoded.write_text("GET /?ExternalId=" + urllib.parse.quote(value, safe="") + " HTTP/1.1\n", encoding="utf-8")
    after = scan(files_under(scratch), secrets)
    assert sorted(set(after) - set(before)) == sorted((str(path), label) for path in (encoded, escaped, planted))


def runner_output_hits(run, secrets: dict) -> list[tuple[str, str]]:
    stdout = run["stdout"].encode()
    hits = [("runner stdout", label) for label, value in secrets.items()
            if any(form in stdout for form in variants(value))]
    return hits + scan(files_under(run["artifacts"]), secrets)


def test_no_secret_in_the_runner_output_or_artifacts(run, secrets):
    hits = runner_output_hits(run, secrets)
    assert not hits, "secrets in the run's output:\n" + report(hits)


def test_the_secrets_went_in_through_the_extra_vars_file(run, secrets):
    """The job's command names the extra-vars file; its environment holds no secret."""
    command = json.loads((run["artifacts"] / "command").read_text(encoding="utf-8"))
    assert any(str(arg).startswith("@") and str(arg).endswith("env/extravars") for arg in command["command"]), command["command"]
    for name in ("HONEYHIVE_EXTERNAL_ID", "TWINGATE_API_TOKEN"):
        assert name not in command.get("env", {}), f"{name} is in the job's environment"


def test_no_credential_on_disk_only_the_private_profile(run, secrets):
    """The AWS modules and the EKS exec plugin use the profile of the session's private config
    file, which holds the ExternalId and no credential."""
    sessions = Path(run["stack"].env["HONEYHIVE_SESSION_DIR"])
    files = sorted(sessions.iterdir())
    assert [path.name for path in files] == ["local-us-west-2.config"], files
    assert oct(sessions.stat().st_mode & 0o777) == "0o700"
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    text = files[0].read_text(encoding="utf-8")
    assert secrets[EXTERNAL_ID_LABEL] in text
    assert "role_arn = " + DEPLOYMENT_ROLE_ARN in text
    leaked = [label for label, value in secrets.items() if label != EXTERNAL_ID_LABEL and value in text]
    assert not leaked, f"{leaked} in the session's config file"
    assert "profile: honeyhive-platform-local-us-west-2" in run["stdout"], "the AWS modules did not use the profile"
    kubeconfig = next(run["stack"].state_dir.glob("honeyhive-*.kubeconfig"))
    assert not scan([kubeconfig], secrets), "a secret in the kubeconfig"


def test_no_secret_in_the_emulator_logs(run, secrets):
    logs = files_under(run["stack"].logs_dir)
    assert {path.name for path in logs} >= {"aws-proxy.log", "aws-requests.jsonl", "twingate.log", "bootstrap.log"}
    hits = scan(logs, secrets)
    assert not hits, "secrets in the emulator logs:\n" + report(hits)


def test_ansible_tmp_is_empty_and_holds_no_secret(run, secrets):
    tmp = run["home"] / ".ansible" / "tmp"
    assert tmp.is_dir(), "the run did not use its own home (no ~/.ansible/tmp was made there)"
    left = sorted(str(path.relative_to(tmp)) for path in tmp.rglob("*")) if tmp.exists() else []
    hits = scan(files_under(tmp), secrets)
    # The invoking user's own ~/.ansible/tmp, in case anything ignored HOME.
    hits += scan(files_under(Path(os.path.expanduser("~")) / ".ansible" / "tmp"), secrets)
    assert not hits, "secrets in ansible's temporary files:\n" + report(hits)
    assert not left, f"the run left files in ~/.ansible/tmp: {left}"
