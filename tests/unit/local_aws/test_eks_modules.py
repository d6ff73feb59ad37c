"""The collection's EKS modules against the local EKS service (scripts/local_aws/eks.py).

The modules run as Ansible runs them (``main()``), with real boto3 clients talking to
LocalEks behind a local HTTP server (eks_harness), so what they read back is what EKS
answers, shapes included: a node group without taints has no ``taints`` member at all.
Waiting happens on the fake clock: each of the modules' sleeps moves it on.
"""
from __future__ import annotations

import time

import pytest

import eks_harness as h
from ansible_collections.honeyhive.platform.plugins.modules import eks_nodegroup


@pytest.fixture
def server(aws_env):
    srv = h.LocalEksServer(h.FakeEnvironment()).start()
    yield srv
    srv.stop()
    problems = srv.problems()
    assert problems == [], "answers that do not fit botocore's EKS model:\n" + "\n".join(problems)


@pytest.fixture
def clock(monkeypatch, server):
    """The modules' polling sleeps move the fake clock instead of waiting."""
    monkeypatch.setattr(time, "sleep", server.env.advance)


@pytest.fixture
def cluster(server, clock):
    eks = server.client()
    eks.create_cluster(name="hh", version="1.33", roleArn=h.CLUSTER_ROLE,
                       resourcesVpcConfig={"subnetIds": server.env.subnet_ids("vpc-0aaaaaaaaaaaaaaa1")})
    eks.get_waiter("cluster_active").wait(name="hh", WaiterConfig={"Delay": 30, "MaxAttempts": 40})
    return "hh"


def nodegroup_args(server, **extra):
    args = dict(cluster_name="hh", name="system", node_role_arn=h.NODE_ROLE,
                subnet_ids=server.env.subnet_ids("vpc-0aaaaaaaaaaaaaaa1"), endpoint_url=server.url, region=h.REGION)
    args.update(extra)
    return args


def described(server):
    return server.client().describe_nodegroup(clusterName="hh", nodegroupName="system")["nodegroup"]


def test_a_taint_added_to_a_node_group_without_taints_is_applied(run_module, server, cluster):
    first = run_module(eks_nodegroup, nodegroup_args(server, labels={"pool": "system"}))
    assert not first.get("failed"), first
    assert first["status"] == "ACTIVE"
    assert "taints" not in described(server)  # EKS leaves the member out when there are none

    taint = {"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}
    second = run_module(eks_nodegroup, nodegroup_args(server, labels={"pool": "system"}, taints=[taint],
                                                      _ansible_diff=True))
    assert not second.get("failed"), second
    assert second["changed"] is True
    assert [u["type"] for u in second["updates"]] == ["ConfigUpdate"]
    assert described(server)["taints"] == [taint]
    assert second["diff"]["before"]["taints"] == []
    assert second["taints"] == [taint]

    again = run_module(eks_nodegroup, nodegroup_args(server, labels={"pool": "system"}, taints=[taint]))
    assert again["changed"] is False


def test_a_label_and_the_last_taint_removed_are_removed(run_module, server, cluster):
    taint = {"key": "dedicated", "value": "system", "effect": "NO_EXECUTE"}
    run_module(eks_nodegroup, nodegroup_args(server, labels={"pool": "system", "tier": "a"}, taints=[taint]))
    result = run_module(eks_nodegroup, nodegroup_args(server, labels={"pool": "system"}, taints=[]))
    assert not result.get("failed"), result
    assert result["changed"] is True
    group = described(server)
    assert group["labels"] == {"pool": "system"}
    assert "taints" not in group
    again = run_module(eks_nodegroup, nodegroup_args(server, labels={"pool": "system"}, taints=[]))
    assert again["changed"] is False


def test_create_then_a_no_op_run_costs_one_describe(run_module, server, cluster, api_calls):
    options = dict(instance_types=["m6i.large"], ami_type="AL2023_x86_64_STANDARD", capacity_type="ON_DEMAND",
                   disk_size=50, scaling=dict(min_size=2, max_size=4, desired_size=2), labels={"pool": "system"},
                   taints=[dict(key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE")],
                   update_config=dict(max_unavailable=1), version="1.33", tags={"Name": "system"})
    first = run_module(eks_nodegroup, nodegroup_args(server, **options))
    assert not first.get("failed"), first
    assert first["update_config"] == {"max_unavailable": 1}
    assert first["autoscaling_groups"] == ["eks-system-%s" % first["arn"].rsplit("/", 1)[1]]
    api_calls.clear()
    second = run_module(eks_nodegroup, nodegroup_args(server, **options))
    assert second["changed"] is False
    assert api_calls == ["DescribeNodegroup"]
    # EKS reports updateConfig, so a change to it is made
    third = run_module(eks_nodegroup, nodegroup_args(server, **dict(options, update_config=dict(max_unavailable=2))))
    assert third["changed"] is True
    assert described(server)["updateConfig"] == {"maxUnavailable": 2}
