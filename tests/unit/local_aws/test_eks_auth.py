"""EKS token checks of the local AWS (scripts/local_aws/eks_auth.py), on tokens the
collection's own exec plugin makes (plugins/module_utils/eks_token.py)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from local_aws import eks_auth  # noqa: E402

from ansible_collections.honeyhive.platform.plugins.module_utils import eks_token  # noqa: E402

LOCAL = "127.0.0.1:4566"


def token_for(cluster, secret="secret", endpoint="http://" + LOCAL, region="us-west-2"):
    sts = boto3.client("sts", region_name=region, endpoint_url=endpoint, aws_access_key_id="ASIAEXAMPLE",
                       aws_secret_access_key=secret, aws_session_token="session")
    return eks_token.presigned_token(sts, cluster)


def test_a_token_names_its_cluster_through_the_signature():
    token = token_for("hh-test")
    url, query = eks_auth.parse_token(token, local_hosts={LOCAL})
    signed = query["x-amz-signature"]
    for payload in ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "UNSIGNED-PAYLOAD"):
        if eks_auth.signature("secret", url, "hh-test", payload) == signed:
            break
    else:
        pytest.fail("the signature does not verify for the cluster it was made for")
    assert all(eks_auth.signature("secret", url, "hh-other", p) != signed
               for p in ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "UNSIGNED-PAYLOAD"))
    assert all(eks_auth.signature("wrong", url, "hh-test", p) != signed
               for p in ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "UNSIGNED-PAYLOAD"))


def test_an_aws_token_is_accepted_from_the_sts_hosts():
    url, _ = eks_auth.parse_token(token_for("hh-test", endpoint=None, region="eu-west-1"))
    assert url.startswith("https://sts.eu-west-1.amazonaws.com/")


@pytest.mark.parametrize("mangle, message", [
    (lambda t: "Bearer " + t, 'token is missing expected "k8s-aws-v1." prefix'),
    (lambda t: t, 'unexpected hostname "127.0.0.1:4566" in pre-signed URL'),  # not a host of this local AWS
])
def test_refused_tokens(mangle, message):
    with pytest.raises(eks_auth.TokenError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        eks_auth.parse_token(mangle(token_for("hh-test")), local_hosts=set())


def test_a_token_older_than_fifteen_minutes_is_refused():
    token = token_for("hh-test")
    eks_auth.parse_token(token, now=time.time() + 14 * 60, local_hosts={LOCAL})
    with pytest.raises(eks_auth.TokenError, match="X-Amz-Date parameter is expired"):
        eks_auth.parse_token(token, now=time.time() + 15 * 60 + 5, local_hosts={LOCAL})


def test_a_long_presign_is_refused():
    sts = boto3.client("sts", region_name="us-west-2", endpoint_url="http://" + LOCAL,
                       aws_access_key_id="ASIAEXAMPLE", aws_secret_access_key="s")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=3600, HttpMethod="GET")
    import base64

    token = "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    with pytest.raises(eks_auth.TokenError, match="client did not sign the x-k8s-aws-id header"):
        eks_auth.parse_token(token, local_hosts={LOCAL})


def test_access_policies_authorize_as_eks_documents():
    class FakeEks:
        def access_for(self, account, region, cluster, arn):
            return {"policies": [{"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
                                  "accessScope": {"type": "namespace", "namespaces": ["honeyhive"]}}]}

    class Strict:
        settings = None

        def find(self, cls):
            return FakeEks()

    auth = eks_auth.EksAuth.__new__(eks_auth.EksAuth)
    auth.strict = Strict()
    auth._eks = lambda: FakeEks()

    def review(verb, resource, namespace):
        return {"spec": {"extra": {"eks.local/cluster": ["1/us-west-2/hh"], "arn": ["arn:aws:sts::1:assumed-role/r/s"]},
                         "resourceAttributes": {"verb": verb, "resource": resource, "namespace": namespace}}}

    assert auth.authorize(review("list", "pods", "honeyhive"))
    assert not auth.authorize(review("delete", "pods", "honeyhive"))      # view only
    assert not auth.authorize(review("get", "secrets", "honeyhive"))      # not secrets
    assert not auth.authorize(review("list", "pods", "kube-system"))      # outside its namespaces
