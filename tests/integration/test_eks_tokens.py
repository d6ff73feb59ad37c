"""EKS authentication as EKS does it, on the session's reference stack after its converge.

The local API server stands in for the cluster; its token webhook is the local AWS
(scripts/local_aws/eks_auth.py). What the collection wrote must be what lets it in, and only
while the credentials behind a token are valid:

* the kubeconfig the eks role wrote (its user an exec plugin that makes EKS tokens with the
  deployment role's profile) reaches the API server, also after any one role session has
  ended: the plugin makes a new token when the last one expires;
* a token signed with a deployment-role session is accepted while the session lasts and
  refused once it has expired (the token the eks role used to keep for ten minutes);
* a role without an access entry in the cluster is refused, however valid its token.
"""
from __future__ import annotations

import importlib.util
import json
import os
import time
import urllib.request
from unittest import mock

import boto3
import pytest
from kubernetes import client as kube_client
from kubernetes import config as kube_config

from harness import ROOT

# The exec plugin's own code (it imports nothing of Ansible), loaded from the checkout.
_SPEC = importlib.util.spec_from_file_location("eks_token", ROOT / "plugins" / "module_utils" / "eks_token.py")
eks_token = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(eks_token)

pytestmark = [pytest.mark.converge, pytest.mark.kube]

TARGET = "111122223333"
REGION = "us-west-2"
CLUSTER = "honeyhive-eks-test-us-west-2"
DEPLOYMENT_ROLE = f"arn:aws:iam::{TARGET}:role/honeyhive-deployment-test-us-west-2"
API_SERVER_TOKEN_CACHE = 10.0
SHORT_SESSION_SCALE = 100
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture(scope="module")
def stack(reference):
    return reference.stack


def api_server(stack):
    admin = kube_config.new_client_from_config(config_file=stack.env["HONEYHIVE_LOCAL_KUBECONFIG"])
    return admin.configuration.host, admin.configuration.ssl_ca_cert


def status_with(stack, token):
    """The API server's HTTP status for GET /api/v1/namespaces with ``token``."""
    host, ca = api_server(stack)
    configuration = kube_client.Configuration()
    configuration.host = host
    configuration.ssl_ca_cert = ca
    configuration.api_key = {"authorization": "Bearer " + token}
    try:
        kube_client.CoreV1Api(kube_client.ApiClient(configuration)).list_namespace()
        return 200
    except kube_client.ApiException as exc:
        return exc.status


@pytest.fixture
def short_sessions(stack):
    """Role sessions of a hundredth of their AWS lifetime (a 15-minute one 9 s) while the test
    runs: the stack's own last half their lifetime, so none ends during a converge."""
    before = stack.strict_config()["session_scale"]
    assert stack.strict_config(session_scale=SHORT_SESSION_SCALE)["session_scale"] == SHORT_SESSION_SCALE
    try:
        yield
    finally:
        stack.strict_config(session_scale=before)


def session(stack, role_arn, duration=900, **extra):
    sts = boto3.client("sts", region_name=REGION, endpoint_url=stack.env["AWS_ENDPOINT_URL"],
                       aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=stack.env["AWS_SECRET_ACCESS_KEY"])
    return sts.assume_role(RoleArn=role_arn, RoleSessionName="token-test", DurationSeconds=duration, **extra)["Credentials"]


def token_of(stack, credentials):
    sts = boto3.client("sts", region_name=REGION, endpoint_url=stack.env["AWS_ENDPOINT_URL"],
                       aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                       aws_session_token=credentials["SessionToken"])
    return eks_token.presigned_token(sts, CLUSTER)


def refused(stack):
    with urllib.request.urlopen(stack.env["AWS_ENDPOINT_URL"] + "/_aws/eks/refused", timeout=10) as answer:
        return [r["reason"] for r in json.loads(answer.read())["refused"]]


def review(stack, token):
    body = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}})
    request = urllib.request.Request(stack.env["AWS_ENDPOINT_URL"] + "/_aws/eks/authenticate", data=body.encode(),
                                     method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())["status"]


def sessions(stack):
    with urllib.request.urlopen(stack.env["AWS_ENDPOINT_URL"] + "/_aws/sessions", timeout=10) as answer:
        return [s for s in json.loads(answer.read())["sessions"] if s["arn"].endswith("/token-test")]


def namespaces_through_the_collections_kubeconfig(stack):
    """As kubectl or helm would list them in the shell the converge ran in: the plugin inherits
    its environment (the source credentials its profile's credential_source names)."""
    shell = {k: v for k, v in stack.env.items() if k.startswith("AWS_")}
    with mock.patch.dict(os.environ, shell):
        api = kube_config.new_client_from_config(config_file=str(stack.state_dir / f"honeyhive-{CLUSTER}.kubeconfig"))
        return [n.metadata.name for n in kube_client.CoreV1Api(api).list_namespace().items]


def test_tokens_live_as_long_as_their_session_and_the_collection_makes_new_ones(stack, short_sessions):
    assert "kube-system" in namespaces_through_the_collections_kubeconfig(stack)
    credentials = session(stack, DEPLOYMENT_ROLE, ExternalId=stack.env["HONEYHIVE_EXTERNAL_ID"])
    token = token_of(stack, credentials)
    assert status_with(stack, token) == 200
    # kube-apiserver keeps a successful token review for 10 s (TokenSuccessCacheTTL, which no
    # flag sets; an EKS API server does the same), so the refusal shows after that.
    time.sleep(max(0.0, credentials["Expiration"].timestamp() - time.time()) + API_SERVER_TOKEN_CACHE + 1.0)
    assert status_with(stack, token) == 401, (
        f"a token of a session that expired at {credentials['Expiration']} was accepted at {time.time()}; "
        f"sessions {sessions(stack)}; the webhook says {review(stack, token)}")
    assert any("ExpiredToken" in reason for reason in refused(stack))
    # the kubeconfig's plugin made (and keeps making) tokens of fresh sessions
    assert "kube-system" in namespaces_through_the_collections_kubeconfig(stack)


def test_a_role_without_an_access_entry_is_refused(stack):
    iam = boto3.client("iam", region_name=REGION, endpoint_url=stack.env["AWS_ENDPOINT_URL"],
                       **dict(zip(("aws_access_key_id", "aws_secret_access_key"),
                                  (stack.administrator_env()["AWS_ACCESS_KEY_ID"],
                                   stack.administrator_env()["AWS_SECRET_ACCESS_KEY"]))))
    arn = iam.create_role(RoleName="honeyhive-no-access-entry", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    deadline = time.time() + 30
    while True:  # the new role propagates to STS
        try:
            credentials = session(stack, arn)
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    assert status_with(stack, token_of(stack, credentials)) == 401
    assert any("no access entry" in reason and arn in reason for reason in refused(stack))
