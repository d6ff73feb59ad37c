"""honeyhive.platform.eks_cluster_info against the local EKS service (scripts/local_aws/eks.py):
one DescribeCluster, the shape of eks_cluster's result, and no error for a cluster that does
not exist."""
from __future__ import annotations

import uuid

import pytest

from ansible_collections.honeyhive.platform.plugins.modules import eks_cluster
from ansible_collections.honeyhive.platform.plugins.modules import eks_cluster_info

ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]


@pytest.fixture(autouse=True)
def _credentials(aws_env):
    """Every test runs with the fake credentials of ``aws_env``."""


@pytest.fixture
def name():
    return "hh-test-%s" % uuid.uuid4().hex[:10]


def test_reads_the_cluster_as_eks_cluster_returns_it(run_module, local_eks, eks_clock, name, api_calls):
    made = run_module(eks_cluster, dict(name=name, version="1.32", role_arn=ROLE, subnet_ids=list(SUBNETS),
                                        tags={"Name": name}, endpoint_url=local_eks.url, region="us-west-2"))
    assert not made.get("failed"), made
    api_calls.clear()
    result = run_module(eks_cluster_info, dict(name=name, endpoint_url=local_eks.url, region="us-west-2"))
    assert api_calls == ["DescribeCluster"]
    assert result["changed"] is False and result["exists"] is True
    assert result["cluster"]["version"] == "1.32" == local_eks.client().describe_cluster(name=name)["cluster"]["version"]
    for key in ("name", "arn", "status", "version", "endpoint", "role_arn", "subnet_ids", "tags", "access_config",
                "upgrade_policy", "logging", "oidc_issuer", "cluster_security_group_id"):
        assert result["cluster"][key] == made[key], key


def test_a_missing_cluster_is_no_error(run_module, local_eks, name, api_calls):
    result = run_module(eks_cluster_info, dict(name=name, endpoint_url=local_eks.url, region="us-west-2"))
    assert not result.get("failed"), result
    assert result == dict(changed=False, exists=False, cluster={}, **{k: v for k, v in result.items()
                                                                      if k not in ("changed", "exists", "cluster")})
    assert api_calls == ["DescribeCluster"]


def test_a_bad_name_fails_before_any_call(run_module, local_eks, api_calls):
    result = run_module(eks_cluster_info, dict(name="no spaces", endpoint_url=local_eks.url, region="us-west-2"))
    assert result["failed"] is True and "'name': 'no spaces'" in result["msg"]
    assert api_calls == []
