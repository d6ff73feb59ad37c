"""Unit tests for plugins/module_utils/eks_token.py: the EKS token and the exec plugin.

The token is checked independently of botocore: the SigV4 signature is recomputed by hand
from the URL, the secret key and the ``x-k8s-aws-id`` header, so the header is proven to be
signed.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import io
import json
import urllib.parse

import boto3
import botocore.auth
import botocore.credentials
import botocore.exceptions
import botocore.session
import pytest

from ansible_collections.honeyhive.platform.plugins.module_utils import eks_token

FIXED = datetime.datetime(2025, 1, 2, 3, 4, 5)
UTC = datetime.timezone.utc


@pytest.fixture
def sts(aws_env):
    return boto3.client("sts", region_name="us-west-2")


def _sign(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def expected_signature(url, headers, secret):
    """SigV4 query signature of a GET ``url`` computed from first principles."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    params = [(k, v) for k, v in query if k != "X-Amz-Signature"]
    canonical_query = "&".join(
        "%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~")) for k, v in sorted(params)
    )
    values = dict(query)
    signed = values["X-Amz-SignedHeaders"].split(";")
    all_headers = dict(headers, host=parts.netloc)
    canonical_headers = "".join("%s:%s\n" % (h, all_headers[h].strip()) for h in signed)
    canonical_request = "\n".join([
        "GET", parts.path or "/", canonical_query, canonical_headers, ";".join(signed), hashlib.sha256(b"").hexdigest(),
    ])
    amz_date = values["X-Amz-Date"]
    scope = values["X-Amz-Credential"].split("/", 1)[1]
    date, region, service, _terminator = scope.split("/")
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = _sign(("AWS4" + secret).encode(), date)
    for part in (region, service, "aws4_request"):
        key = _sign(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def test_token_is_the_presigned_get_caller_identity_url(sts, monkeypatch):
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: FIXED)
    token = eks_token.presigned_token(sts, "honeyhive-prod-usw2")
    assert token.startswith("k8s-aws-v1.")
    body = token[len("k8s-aws-v1."):]
    assert "=" not in body and "+" not in body and "/" not in body  # base64url, no padding
    url = eks_token.token_url(token)
    assert url == base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()

    parts = urllib.parse.urlsplit(url)
    assert parts.scheme == "https"
    assert parts.netloc == "sts.us-west-2.amazonaws.com"
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert query["Action"] == "GetCallerIdentity"
    assert query["Version"] == "2011-06-15"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "60"
    assert query["X-Amz-Date"] == "20250102T030405Z"
    assert query["X-Amz-Credential"] == "testing/20250102/us-west-2/sts/aws4_request"
    assert query["X-Amz-SignedHeaders"].split(";") == ["host", "x-k8s-aws-id"]
    # the signature covers the header with the cluster name, and only that name
    assert query["X-Amz-Signature"] == expected_signature(url, {"x-k8s-aws-id": "honeyhive-prod-usw2"}, "testing")
    assert query["X-Amz-Signature"] != expected_signature(url, {"x-k8s-aws-id": "another-cluster"}, "testing")


def test_token_handlers_do_not_leak_into_other_calls(sts):
    eks_token.presigned_token(sts, "a")
    # without the handlers, x-k8s-aws-id is an unknown parameter again
    with pytest.raises(botocore.exceptions.ParamValidationError):
        sts.get_caller_identity(**{"x-k8s-aws-id": "a"})


def test_token_url_rejects_other_text():
    with pytest.raises(ValueError):
        eks_token.token_url("Bearer abc")


@pytest.mark.parametrize("credentials_left, expected", [
    (None, datetime.timedelta(minutes=14)),                       # static credentials: the CLI's 14 minutes
    (datetime.timedelta(hours=1), datetime.timedelta(minutes=14)),
    (datetime.timedelta(minutes=5), datetime.timedelta(minutes=4)),  # a session shorter than a token
    (datetime.timedelta(seconds=40), datetime.timedelta(seconds=30)),  # a quarter of a short rest
    (datetime.timedelta(seconds=-5), datetime.timedelta(0)),      # never before the signing
])
def test_token_expiry_is_the_earlier_of_the_token_and_the_credentials(credentials_left, expected):
    signed = FIXED.replace(tzinfo=UTC)
    credentials = None if credentials_left is None else signed + credentials_left
    assert eks_token.token_expiry(signed, credentials) == signed + expected


def test_exec_plugin_prints_an_exec_credential(aws_env, monkeypatch):
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: FIXED)
    signed = FIXED.replace(tzinfo=UTC)
    session = botocore.session.Session()
    refreshable = botocore.credentials.RefreshableCredentials.create_from_metadata(
        {"access_key": "ASIAEXAMPLE", "secret_key": "secret", "token": "session-token",
         "expiry_time": (signed + datetime.timedelta(minutes=20)).isoformat()},
        refresh_using=lambda: pytest.fail("no refresh: 20 minutes are left"), method="assume-role")
    monkeypatch.setattr(refreshable, "_seconds_remaining", lambda: 20 * 60)
    session._credentials = refreshable
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    assert eks_token.main(["--cluster-name", "hh-test", "--region", "eu-west-1"], session=session, now=signed) == 0
    credential = json.loads(out.getvalue())
    assert credential["kind"] == "ExecCredential"
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert credential["status"]["expirationTimestamp"] == "2025-01-02T03:18:05Z"
    url = eks_token.token_url(credential["status"]["token"])
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert urllib.parse.urlsplit(url).netloc == "sts.eu-west-1.amazonaws.com"
    assert query["X-Amz-Credential"].startswith("ASIAEXAMPLE/20250102/eu-west-1/sts/")
    assert query["X-Amz-Security-Token"] == "session-token"
    assert query["X-Amz-Signature"] == expected_signature(url, {"x-k8s-aws-id": "hh-test"}, "secret")


def test_exec_plugin_needs_the_cluster_and_region():
    with pytest.raises(SystemExit):
        eks_token.main(["--cluster-name", "x"])
