"""honeyhive.platform.eks_kubeconfig against the local EKS service (scripts/local_aws/eks.py:
DescribeCluster gives the endpoint and CA data; the token is presigned locally, which needs
no AWS call).
The kubeconfig written is also loaded with the kubernetes Python client."""
from __future__ import annotations

import base64
import json
import os
import stat
import urllib.parse
import uuid

import pytest
import yaml

from ansible_collections.honeyhive.platform.plugins.module_utils import eks
from ansible_collections.honeyhive.platform.plugins.modules import eks_kubeconfig

ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
ENDPOINT = "https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com"


@pytest.fixture
def eks_api(local_eks):
    return local_eks.client()


@pytest.fixture
def cluster(eks_api, eks_clock):
    name = "hh-kc-%s" % uuid.uuid4().hex[:10]
    eks_api.create_cluster(name=name, version="1.33", roleArn=ROLE, resourcesVpcConfig={"subnetIds": SUBNETS})
    eks_api.get_waiter("cluster_active").wait(name=name)
    return eks_api.describe_cluster(name=name)["cluster"]


@pytest.fixture
def eks_url(local_eks):
    return local_eks.url


def args(eks_url, name, **extra):
    base = dict(cluster_name=name, endpoint_url=eks_url, region="us-west-2")
    base.update(extra)
    return base


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def query(token):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(eks.token_url(token)).query))


def test_kubeconfig_from_describe_cluster(run_module, cluster, eks_url, tmp_path, api_calls):
    dest = tmp_path / "kube" / "config"
    result = run_module(eks_kubeconfig, args(eks_url, cluster["name"], dest=str(dest)))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert api_calls == ["DescribeCluster"]  # presigning the token is no API call
    assert result["path"] == str(dest)
    assert result["endpoint"] == cluster["endpoint"]
    assert result["certificate_authority_data"] == cluster["certificateAuthority"]["data"]

    # the token: a presigned GetCallerIdentity for this cluster, 60 s, header signed
    token = result["token"]
    assert token.startswith("k8s-aws-v1.") and "=" not in token
    signed = query(token)
    assert signed["Action"] == "GetCallerIdentity"
    assert signed["X-Amz-Expires"] == "60"
    assert "x-k8s-aws-id" in signed["X-Amz-SignedHeaders"].split(";")
    assert result["expiration"].endswith("Z")

    # the file: 0600, in a directory created 0700, without the token
    assert mode(dest) == 0o600
    assert mode(dest.parent) == 0o700
    written = yaml.safe_load(dest.read_text())
    assert written == result["kubeconfig"]
    assert written["clusters"] == [{"name": cluster["name"], "cluster": {
        "server": cluster["endpoint"], "certificate-authority-data": cluster["certificateAuthority"]["data"]}}]
    assert written["users"] == [{"name": cluster["name"], "user": {}}]
    assert written["current-context"] == result["context"] == cluster["name"]
    assert token not in dest.read_text()
    assert token not in json.dumps(result["kubeconfig"])

    again = run_module(eks_kubeconfig, args(eks_url, cluster["name"], dest=str(dest)))
    assert again["changed"] is False


def test_no_token_outside_the_token_key(run_module, cluster, eks_url, tmp_path, monkeypatch):
    # ansible-core keeps warnings for the whole process: start from none
    from ansible.module_utils.common import warnings

    monkeypatch.setattr(warnings, "_global_warnings", {})
    quiet = run_module(eks_kubeconfig, args(eks_url, cluster["name"], _ansible_no_log=True))
    assert not quiet.get("warnings")
    dest = tmp_path / "config"
    result = run_module(eks_kubeconfig, args(eks_url, cluster["name"], dest=str(dest), embed_token=True, _ansible_diff=True))
    token = result.pop("token")
    assert token not in json.dumps(result)  # not in kubeconfig, diff or warnings
    assert "set no_log: true on this task" in json.dumps(result["warnings"])


def test_embedded_token_is_refreshed_without_reporting_a_change(run_module, eks_url, aws_env, tmp_path, api_calls):
    dest = tmp_path / "config"
    options = dict(dest=str(dest), endpoint=ENDPOINT, ca_data=CA, embed_token=True)
    first = run_module(eks_kubeconfig, args(eks_url, "hh-embed", **options))
    assert first["changed"] is True
    assert api_calls == []  # endpoint and ca_data given: no DescribeCluster
    written = yaml.safe_load(dest.read_text())
    assert written["users"][0]["user"] == {"token": first["token"]}

    # an old token in the file is replaced, and that alone is no change
    written["users"][0]["user"]["token"] = "k8s-aws-v1.stale"
    dest.write_text(yaml.safe_dump(written))
    os.chmod(dest, 0o600)
    second = run_module(eks_kubeconfig, args(eks_url, "hh-embed", **options))
    assert second["changed"] is False
    assert yaml.safe_load(dest.read_text())["users"][0]["user"]["token"] == second["token"] != "k8s-aws-v1.stale"

    # the kubernetes client reads the file as a bearer-token kubeconfig
    from kubernetes import config as kube_config

    api = kube_config.new_client_from_config(config_file=str(dest))
    assert api.configuration.host == ENDPOINT
    assert api.configuration.api_key["BearerToken"] == "Bearer " + second["token"]


def test_content_or_mode_changes_are_changes(run_module, eks_url, aws_env, tmp_path):
    dest = tmp_path / "config"
    options = dict(dest=str(dest), endpoint=ENDPOINT, ca_data=CA)
    run_module(eks_kubeconfig, args(eks_url, "hh-mode", **options))
    os.chmod(dest, 0o644)
    result = run_module(eks_kubeconfig, args(eks_url, "hh-mode", **options))
    assert result["changed"] is True
    assert mode(dest) == 0o600
    result = run_module(eks_kubeconfig, args(eks_url, "hh-mode", context_name="prod", _ansible_diff=True, **options))
    assert result["changed"] is True
    assert "prod" in result["diff"]["after"] and "prod" not in result["diff"]["before"]
    assert yaml.safe_load(dest.read_text())["current-context"] == "prod"


def test_check_mode_writes_nothing(run_module, eks_url, aws_env, tmp_path):
    dest = tmp_path / "config"
    result = run_module(eks_kubeconfig, args(eks_url, "hh-check", dest=str(dest), endpoint=ENDPOINT, ca_data=CA,
                                             _ansible_check_mode=True))
    assert result["changed"] is True
    assert not dest.exists()


def test_without_dest_only_returns(run_module, eks_url, aws_env):
    result = run_module(eks_kubeconfig, args(eks_url, "hh-ret", endpoint=ENDPOINT, ca_data=CA))
    assert result["changed"] is False
    assert result["path"] is None
    assert result["kubeconfig"]["clusters"][0]["cluster"]["server"] == ENDPOINT


def test_local_kubeconfig_for_a_local_control_plane(run_module, eks_url, aws_env, tmp_path, api_calls):
    source = tmp_path / "local.kubeconfig"
    local = {
        "apiVersion": "v1", "kind": "Config", "current-context": "local",
        "clusters": [{"name": "local", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data": CA}}],
        "users": [{"name": "admin", "user": {"client-key-data": "c2VjcmV0"}}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
    }
    source.write_text(yaml.safe_dump(local))
    result = run_module(eks_kubeconfig, args(eks_url, "hh-local", local_kubeconfig=str(source)))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["path"] == str(source)
    assert result["endpoint"] == "https://127.0.0.1:6443"
    assert result["context"] == "local"
    assert "token" not in result and "kubeconfig" not in result
    assert api_calls == []

    dest = tmp_path / "copy"
    copied = run_module(eks_kubeconfig, args(eks_url, "hh-local", local_kubeconfig=str(source), dest=str(dest), _ansible_diff=True))
    assert copied["changed"] is True
    assert copied["path"] == str(dest)
    assert dest.read_text() == source.read_text()
    assert mode(dest) == 0o600
    assert "c2VjcmV0" not in json.dumps(copied)
    again = run_module(eks_kubeconfig, args(eks_url, "hh-local", local_kubeconfig=str(source), dest=str(dest)))
    assert again["changed"] is False


def test_absent_removes_dest(run_module, eks_url, aws_env, tmp_path, api_calls):
    dest = tmp_path / "config"
    run_module(eks_kubeconfig, args(eks_url, "hh-gone", dest=str(dest), endpoint=ENDPOINT, ca_data=CA))
    result = run_module(eks_kubeconfig, args(eks_url, "hh-gone", dest=str(dest), state="absent"))
    assert result["changed"] is True
    assert not dest.exists()
    again = run_module(eks_kubeconfig, args(eks_url, "hh-gone", dest=str(dest), state="absent"))
    assert again["changed"] is False
    assert api_calls == []


def test_unknown_cluster_is_named(run_module, eks_url, aws_env):
    result = run_module(eks_kubeconfig, args(eks_url, "hh-no-such-cluster"))
    assert result["failed"] is True
    assert "Invalid value for option 'cluster_name': 'hh-no-such-cluster'" in result["msg"]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(cluster_name="bad name"), "Invalid value for option 'cluster_name': 'bad name'"),
        (dict(endpoint="http://insecure", ca_data=CA), "Invalid value for option 'endpoint': 'http://insecure'"),
        (dict(endpoint=ENDPOINT), "parameters are required together: endpoint, ca_data"),
        (dict(local_kubeconfig="/nonexistent/kubeconfig"), "Invalid value for option 'local_kubeconfig': '/nonexistent/kubeconfig'"),
        (dict(local_kubeconfig="/etc/hostname", embed_token=True), "mutually exclusive: local_kubeconfig|embed_token"),
        (dict(state="absent"), "Option 'dest' is required when state is 'absent'"),
        (dict(dest="/tmp"), "Invalid value for option 'dest': '/tmp'. Allowed: a file path, not a directory."),
        (dict(wait_timeout=-1), "Invalid value for option 'wait_timeout': -1"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, aws_env, eks_url, api_calls, extra, fragment):
    base = args(eks_url, "hh-bad")
    base.update(extra)
    result = run_module(eks_kubeconfig, base)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
