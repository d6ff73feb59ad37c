"""honeyhive.platform.eks_kubeconfig against the local EKS service (scripts/local_aws/eks.py:
DescribeCluster gives the endpoint and CA data). The kubeconfig's user is the exec plugin eks_token.py; the kubernetes
Python client loads the file and runs the plugin for real, so the token it would send is
checked too."""
from __future__ import annotations

import base64
import json
import os
import stat
import sys
import urllib.parse
import uuid
from pathlib import Path

import pytest
import yaml

from ansible_collections.honeyhive.platform.plugins.module_utils import eks_token
from ansible_collections.honeyhive.platform.plugins.modules import eks_kubeconfig

ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
ENDPOINT = "https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com"
PLUGIN = str(Path(eks_token.__file__).resolve())


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


def args(moto_endpoint, name, **extra):
    base = dict(cluster_name=name, endpoint_url=moto_endpoint, region="us-west-2",
                exec_command=[sys.executable, PLUGIN])
    base.update(extra)
    return base


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_kubeconfig_from_describe_cluster(run_module, cluster, eks_url, tmp_path, api_calls):
    dest = tmp_path / "kube" / "config"
    result = run_module(eks_kubeconfig, args(eks_url, cluster["name"], dest=str(dest),
                                             exec_env={"AWS_PROFILE": "deploy"}))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert api_calls == ["DescribeCluster"]
    assert result["path"] == str(dest)
    assert result["endpoint"] == cluster["endpoint"]
    assert result["certificate_authority_data"] == cluster["certificateAuthority"]["data"]

    # the file: 0600, in a directory created 0700; its user is the exec plugin, no credential
    assert mode(dest) == 0o600
    assert mode(dest.parent) == 0o700
    written = yaml.safe_load(dest.read_text())
    assert written == result["kubeconfig"]
    assert written["clusters"] == [{"name": cluster["name"], "cluster": {
        "server": cluster["endpoint"], "certificate-authority-data": cluster["certificateAuthority"]["data"]}}]
    user = written["users"][0]["user"]
    assert set(user) == {"exec"}
    assert user["exec"]["command"] == sys.executable
    assert user["exec"]["args"] == [PLUGIN, "--cluster-name", cluster["name"], "--region", "us-west-2"]
    assert user["exec"]["env"] == [{"name": "AWS_PROFILE", "value": "deploy"}]
    assert user["exec"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert written["current-context"] == result["context"] == cluster["name"]

    again = run_module(eks_kubeconfig, args(eks_url, cluster["name"], dest=str(dest),
                                            exec_env={"AWS_PROFILE": "deploy"}))
    assert again["changed"] is False


def test_the_kubernetes_client_runs_the_plugin_for_a_token(run_module, moto_endpoint, aws_env, tmp_path):
    dest = tmp_path / "config"
    result = run_module(eks_kubeconfig, args(moto_endpoint, "hh-exec", dest=str(dest), endpoint=ENDPOINT, ca_data=CA))
    assert result["changed"] is True
    from kubernetes import config as kube_config

    api = kube_config.new_client_from_config(config_file=str(dest))
    assert api.configuration.host == ENDPOINT
    token = api.configuration.api_key["BearerToken"].removeprefix("Bearer ")
    url = urllib.parse.urlsplit(eks_token.token_url(token))
    signed = dict(urllib.parse.parse_qsl(url.query))
    assert signed["Action"] == "GetCallerIdentity"
    assert "x-k8s-aws-id" in signed["X-Amz-SignedHeaders"].split(";")
    assert signed["X-Amz-Credential"].split("/")[2] == "us-west-2"


def test_content_or_mode_changes_are_changes(run_module, moto_endpoint, aws_env, tmp_path):
    dest = tmp_path / "config"
    options = dict(dest=str(dest), endpoint=ENDPOINT, ca_data=CA)
    run_module(eks_kubeconfig, args(moto_endpoint, "hh-mode", **options))
    os.chmod(dest, 0o644)
    result = run_module(eks_kubeconfig, args(moto_endpoint, "hh-mode", **options))
    assert result["changed"] is True
    assert mode(dest) == 0o600
    result = run_module(eks_kubeconfig, args(moto_endpoint, "hh-mode", context_name="prod", _ansible_diff=True, **options))
    assert result["changed"] is True
    assert "prod" in result["diff"]["after"] and "prod" not in result["diff"]["before"]
    assert yaml.safe_load(dest.read_text())["current-context"] == "prod"


def test_check_mode_writes_nothing(run_module, moto_endpoint, aws_env, tmp_path):
    dest = tmp_path / "config"
    result = run_module(eks_kubeconfig, args(moto_endpoint, "hh-check", dest=str(dest), endpoint=ENDPOINT, ca_data=CA,
                                             _ansible_check_mode=True))
    assert result["changed"] is True
    assert not dest.exists()


def test_absent_removes_dest(run_module, moto_endpoint, aws_env, tmp_path, api_calls):
    dest = tmp_path / "config"
    run_module(eks_kubeconfig, args(moto_endpoint, "hh-gone", dest=str(dest), endpoint=ENDPOINT, ca_data=CA))
    result = run_module(eks_kubeconfig, args(moto_endpoint, "hh-gone", dest=str(dest), state="absent"))
    assert result["changed"] is True
    assert not dest.exists()
    again = run_module(eks_kubeconfig, args(moto_endpoint, "hh-gone", dest=str(dest), state="absent"))
    assert again["changed"] is False
    assert api_calls == []


def test_unknown_cluster_is_named(run_module, eks_url, aws_env, tmp_path):
    result = run_module(eks_kubeconfig, args(eks_url, "hh-no-such-cluster", dest=str(tmp_path / "c")))
    assert result["failed"] is True
    assert "Invalid value for option 'cluster_name': 'hh-no-such-cluster'" in result["msg"]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(cluster_name="bad name"), "Invalid value for option 'cluster_name': 'bad name'"),
        (dict(endpoint="http://insecure", ca_data=CA), "Invalid value for option 'endpoint': 'http://insecure'"),
        (dict(endpoint=ENDPOINT), "parameters are required together: endpoint, ca_data"),
        (dict(exec_command=[]), "Option 'exec_command' is required when state is 'present'"),
        (dict(dest="/tmp"), "Invalid value for option 'dest': '/tmp'. Allowed: a file path, not a directory."),
        (dict(wait_timeout=-1), "Invalid value for option 'wait_timeout': -1"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, aws_env, moto_endpoint, api_calls, tmp_path, extra, fragment):
    base = args(moto_endpoint, "hh-bad", dest=str(tmp_path / "config"))
    base.update(extra)
    result = run_module(eks_kubeconfig, base)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
    assert json.dumps(result)
