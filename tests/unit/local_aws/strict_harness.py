"""In-process strict local AWS for unit tests: boto3 clients whose every request is read the
way the AWS proxy reads it (scripts/aws_proxy.py's Classifier, a core.Call) and handed to
the strict behaviours before moto (``moto.mock_aws``) answers it.

A behaviour's answer goes back to botocore as the HTTP response, so a test sees exactly the
``ClientError`` a client of the proxy would; moto's answers pass through ``Strict.after``.
Also: ``render_foundation()`` renders the foundation role's policies through Ansible
(render_foundation.yml beside this file), once per test session.
"""
from __future__ import annotations

import functools
import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from local_aws import core  # noqa: E402
from local_aws.iam import IamEnforcement  # noqa: E402

REGION = "us-west-2"


def _load_proxy():
    spec = importlib.util.spec_from_file_location("aws_proxy_for_strict_tests", ROOT / "scripts" / "aws_proxy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


aws_proxy = _load_proxy()
_CLASSIFIER = aws_proxy.Classifier()


class Clock:
    """A clock for the timed behaviours that moves only when a test sets ``now``."""

    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


class _Raw(io.BytesIO):
    def stream(self, **_kwargs):
        data = self.read()
        while data:
            yield data
            data = self.read()


class InProcess:
    """The strict behaviours (``spec``, as HONEYHIVE_AWS_STRICT) in front of ``mock_aws``."""

    def __init__(self, spec="none,+iam"):
        self.strict = core.Strict(core.Settings(spec, seed=1), moto=None)
        self.iam = self.strict.add(IamEnforcement(self.strict))
        self.local = threading.local()
        self.calls = []

    def client(self, service, region=REGION, account=None, **credentials):
        """A client with static keys (the harness's administrator; of ``account`` through
        moto's ``x-moto-account-id``) or the given credentials."""
        credentials.setdefault("aws_access_key_id", "testing")
        credentials.setdefault("aws_secret_access_key", "testing")
        client = boto3.client(service, region_name=region, **credentials)
        if account:
            def add_account(request, **_kwargs):
                request.headers["x-moto-account-id"] = account

            client.meta.events.register_first("before-sign", add_account)
        client.meta.events.register_first("before-send", functools.partial(self._before_send, region))
        client.meta.events.register("after-call", self._after_call)
        return client

    def assumed(self, service, creds, region=REGION):
        return self.client(service, region, aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])

    def _before_send(self, region, request, **_kwargs):
        split = urlsplit(request.url)
        target = (split.path or "/") + ("?" + split.query if split.query else "")
        headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        headers.setdefault("Host", split.netloc)
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
            request.body = body
        if isinstance(body, str):
            body = body.encode()
        info = _CLASSIFIER.classify(request.method, target, headers, body)
        call = core.Call(method=request.method, target=target, headers=headers, body=body,
                         service=info.service, operation=info.operation, kind=info.kind, model=info.model,
                         region=region)
        self.local.call = call
        self.calls.append(call)
        answer = self.strict.before(call)
        if answer is None:
            return None
        self.local.call = None
        response = AWSResponse(request.url, answer.status, dict(answer.headers), _Raw(answer.body))
        # botocore runs every before-send handler and takes the first answer: moto's would
        # still carry the request out. Aimed at an address moto does not serve, it does not.
        request.url = "http://127.0.0.1:9/answered-by-a-strict-behaviour"
        return response

    def _after_call(self, http_response=None, **_kwargs):
        call = getattr(self.local, "call", None)
        if call is None or http_response is None:
            return
        self.local.call = None
        answer = core.Answer(http_response.status_code, list(http_response.headers.items()), http_response.content)
        self.strict.after(call, answer)


@functools.lru_cache(maxsize=1)
def render_foundation():
    """The foundation role's deployment role trust and policies for the local inventory,
    rendered by Ansible (the ExternalId is this fixture's)."""
    out = Path(tempfile.mkdtemp(prefix="render-foundation-")) / "rendered.json"
    env = dict(os.environ, HONEYHIVE_EXTERNAL_ID="ext-unit-0123456789", AWS_ENDPOINT_URL="http://127.0.0.1:9",
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    bindir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bindir / "ansible-playbook"), "-i", str(ROOT / "inventories" / "local"),
         str(Path(__file__).with_name("render_foundation.yml")), "-e", "render_out=%s" % out],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError("rendering the foundation policies failed:\n%s\n%s" % (result.stdout[-3000:],
                                                                                   result.stderr[-2000:]))
    data = json.loads(out.read_text())
    out.unlink()
    data["external_id"] = "ext-unit-0123456789"
    return data
