"""honeyhive.platform.eks_nodegroup.

Create, describe, idempotence, in-place config updates (scaling, labels, taints, update
config) and deletion run against the local EKS service (scripts/local_aws/eks.py, the
``local_eks`` fixture), which answers as EKS does: node groups stay CREATING for their
duration on its clock, updates run InProgress then Successful, and a node group without
taints has no ``taints`` member. Updates that stay InProgress, failures EKS reports and the
exact requests sent are also checked with botocore's Stubber on the real EKS service model.
"""
from __future__ import annotations

import copy
import datetime

import pytest
from botocore.stub import ANY

from ansible_collections.honeyhive.platform.plugins.modules import eks_nodegroup

CLUSTER_ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
NODE_ROLE = "arn:aws:iam::123456789012:role/eks-node"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
MUTATING = ("Create", "Update", "Delete", "Tag", "Untag")


@pytest.fixture
def eks(local_eks):
    return local_eks.client()


@pytest.fixture
def cluster(local_eks, eks, eks_clock):
    eks.create_cluster(name="hh", version="1.33", roleArn=CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": SUBNETS})
    eks.get_waiter("cluster_active").wait(name="hh")
    return "hh"


def args(local_eks, cluster, **extra):
    base = dict(
        cluster_name=cluster, name="system", node_role_arn=NODE_ROLE, subnet_ids=list(SUBNETS),
        endpoint_url=local_eks.url, region="us-west-2",
    )
    base.update(extra)
    return base


def stub_args(**extra):
    base = dict(cluster_name="hh", name="system", node_role_arn=NODE_ROLE, subnet_ids=list(SUBNETS), region="us-west-2")
    base.update(extra)
    return base


FULL = dict(
    instance_types=["m6i.large"], ami_type="AL2023_x86_64_STANDARD", capacity_type="ON_DEMAND", disk_size=50,
    scaling=dict(min_size=2, max_size=4, desired_size=2), labels={"pool": "system"},
    taints=[dict(key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE")], update_config=dict(max_unavailable=1),
    version="1.33", tags={"Name": "system", "Environment": "test"},
)


def full(**overrides):
    """FULL with some options replaced."""
    options = copy.deepcopy(FULL)
    options.update(overrides)
    return options


def described(**overrides):
    """A DescribeNodegroup answer as EKS gives it: no ``taints`` member when there are none."""
    group = {
        "nodegroupName": "system",
        "nodegroupArn": "arn:aws:eks:us-west-2:111122223333:nodegroup/hh/system/0123",
        "clusterName": "hh",
        "version": "1.32",
        "releaseVersion": "1.32.3-20250519",
        "createdAt": datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc),
        "modifiedAt": datetime.datetime(2025, 1, 2, tzinfo=datetime.timezone.utc),
        "status": "ACTIVE",
        "capacityType": "ON_DEMAND",
        "scalingConfig": {"minSize": 2, "maxSize": 4, "desiredSize": 2},
        "instanceTypes": ["m6i.large"],
        "subnets": list(SUBNETS),
        "amiType": "AL2023_x86_64_STANDARD",
        "nodeRole": NODE_ROLE,
        "labels": {"pool": "system"},
        "diskSize": 50,
        "health": {"issues": []},
        "updateConfig": {"maxUnavailable": 1},
        "tags": {"Name": "system"},
    }
    group.update(overrides)
    return {"nodegroup": group}


def update_answer(update_id, kind="ConfigUpdate", status="InProgress"):
    return {"update": {"id": update_id, "type": kind, "status": status, "params": [], "errors": [],
                       "createdAt": datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)}}


# ------------------------------------------------------------ local EKS


def test_create_then_idempotent(run_module, eks, cluster, local_eks, api_calls):
    first = run_module(eks_nodegroup, args(local_eks, cluster, _ansible_diff=True, **FULL))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["diff"]["before"] == {}
    group = eks.describe_nodegroup(clusterName=cluster, nodegroupName="system")["nodegroup"]
    assert first["arn"] == group["nodegroupArn"]
    assert first["status"] == group["status"] == "ACTIVE"
    assert group["scalingConfig"] == {"minSize": 2, "maxSize": 4, "desiredSize": 2}
    assert group["labels"] == {"pool": "system"}
    assert group["taints"] == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group["instanceTypes"] == ["m6i.large"]
    assert group["diskSize"] == 50
    assert group["updateConfig"] == {"maxUnavailable": 1}
    assert group["tags"] == {"Name": "system", "Environment": "test"}
    assert first["scaling"] == {"min_size": 2, "max_size": 4, "desired_size": 2}
    assert first["update_config"] == {"max_unavailable": 1}
    assert first["autoscaling_groups"] == [g["name"] for g in group["resources"]["autoScalingGroups"]]

    api_calls.clear()
    second = run_module(eks_nodegroup, args(local_eks, cluster, **FULL))
    assert not second.get("failed"), second
    assert second["changed"] is False
    assert api_calls == ["DescribeNodegroup"]


def test_config_update_in_place(run_module, eks, cluster, local_eks):
    run_module(eks_nodegroup, args(local_eks, cluster, **FULL))
    changed = full(scaling=dict(min_size=1, max_size=6, desired_size=3), labels={"pool": "system", "tier": "a"},
                   taints=[dict(key="dedicated", value="system", effect="NO_EXECUTE")],
                   update_config=dict(max_unavailable_percentage=25))
    result = run_module(eks_nodegroup, args(local_eks, cluster, _ansible_diff=True, **changed))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["diff"]["before"]["scaling"] == {"min_size": 2, "max_size": 4, "desired_size": 2}
    assert result["diff"]["after"]["scaling"] == {"min_size": 1, "max_size": 6, "desired_size": 3}
    [update] = result["updates"]
    assert (update["type"], update["status"]) == ("ConfigUpdate", "Successful")
    assert eks.list_updates(name=cluster, nodegroupName="system")["updateIds"] == [update["id"]]
    group = eks.describe_nodegroup(clusterName=cluster, nodegroupName="system")["nodegroup"]
    assert group["scalingConfig"] == {"minSize": 1, "maxSize": 6, "desiredSize": 3}
    assert group["labels"] == {"pool": "system", "tier": "a"}
    assert group["taints"] == [{"key": "dedicated", "value": "system", "effect": "NO_EXECUTE"}]
    assert group["updateConfig"] == {"maxUnavailablePercentage": 25}
    again = run_module(eks_nodegroup, args(local_eks, cluster, **changed))
    assert again["changed"] is False


def test_desired_size_omitted_is_left_to_the_autoscaler(run_module, eks, cluster, local_eks):
    run_module(eks_nodegroup, args(local_eks, cluster, **FULL))
    eks.update_nodegroup_config(clusterName=cluster, nodegroupName="system", scalingConfig={"minSize": 2, "maxSize": 4, "desiredSize": 4})
    result = run_module(eks_nodegroup, args(local_eks, cluster, **full(scaling=dict(min_size=2, max_size=4))))
    assert result["changed"] is False
    # the module waited for the update in progress and reports its outcome
    assert result["status"] == "ACTIVE"
    assert result["scaling"]["desired_size"] == 4
    # a max below the current desired size is refused before any update
    result = run_module(eks_nodegroup, args(local_eks, cluster, **full(scaling=dict(min_size=2, max_size=3))))
    assert result["failed"] is True
    assert "min_size <= desired_size <= max_size (here 2, 4, 3 with the node group's current values)" in result["msg"]


def test_immutable_field_change_names_the_field(run_module, cluster, local_eks, api_calls):
    run_module(eks_nodegroup, args(local_eks, cluster, **FULL))
    api_calls.clear()
    result = run_module(eks_nodegroup, args(local_eks, cluster, **full(instance_types=["m7i.large"])))
    assert result["failed"] is True
    assert "Invalid value for option 'instance_types': ['m7i.large']" in result["msg"]
    assert "EKS cannot change instance_types of an existing node group" in result["msg"]
    assert api_calls == ["DescribeNodegroup"]
    result = run_module(eks_nodegroup, args(local_eks, cluster, **full(disk_size=100)))
    assert "EKS cannot change disk_size" in result["msg"]


def test_check_mode(run_module, eks, cluster, local_eks, api_calls):
    result = run_module(eks_nodegroup, args(local_eks, cluster, _ansible_check_mode=True, **FULL))
    assert result["changed"] is True
    assert result["arn"] is None
    assert result["scaling"] == {"min_size": 2, "max_size": 4, "desired_size": 2}
    assert not any(call.startswith(MUTATING) for call in api_calls)
    assert eks.list_nodegroups(clusterName=cluster)["nodegroups"] == []

    run_module(eks_nodegroup, args(local_eks, cluster, **FULL))
    api_calls.clear()
    result = run_module(
        eks_nodegroup, args(local_eks, cluster, _ansible_check_mode=True, **full(labels={"x": "y"}))
    )
    assert result["changed"] is True
    assert result["labels"] == {"x": "y"}
    assert api_calls == ["DescribeNodegroup"]
    assert eks.describe_nodegroup(clusterName=cluster, nodegroupName="system")["nodegroup"]["labels"] == {"pool": "system"}


def test_delete(run_module, eks, cluster, local_eks):
    run_module(eks_nodegroup, args(local_eks, cluster, **FULL))
    result = run_module(eks_nodegroup, dict(cluster_name=cluster, name="system", state="absent", endpoint_url=local_eks.url,
                                            region="us-west-2", _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["diff"]["after"] == {}
    assert eks.list_nodegroups(clusterName=cluster)["nodegroups"] == []
    again = run_module(eks_nodegroup, dict(cluster_name=cluster, name="system", state="absent", endpoint_url=local_eks.url,
                                           region="us-west-2"))
    assert again["changed"] is False


def test_unknown_cluster_is_named(run_module, local_eks):
    result = run_module(eks_nodegroup, args(local_eks, "hh-no-such-cluster"))
    assert result["failed"] is True
    assert "cluster_name 'hh-no-such-cluster' does not exist" in result["msg"]


def test_a_refused_node_role_is_reported_with_eks_message(run_module, cluster, local_eks):
    result = run_module(eks_nodegroup, args(local_eks, cluster, node_role_arn=CLUSTER_ROLE))
    assert result["failed"] is True
    assert "Failed to create EKS node group system in cluster hh" in result["msg"]
    assert "Following required service principals [ec2.amazonaws.com] were not found" in result["msg"]


# -------------------------------------------------------------- Stubber


def test_update_config_scaling_labels_taints_in_one_call(run_module, stub_client, no_sleep):
    """Stubber (EKS service model): one UpdateNodegroupConfig with every change,
    the exact request, then DescribeUpdate until Successful."""
    stubber = stub_client("eks")
    current = described(taints=[{"key": "old", "value": "1", "effect": "NO_SCHEDULE"}], labels={"pool": "system", "gone": "x"})
    stubber.add_response("describe_nodegroup", current, {"clusterName": "hh", "nodegroupName": "system"})
    stubber.add_response(
        "update_nodegroup_config", update_answer("u-1"),
        {
            "clusterName": "hh", "nodegroupName": "system", "clientRequestToken": ANY,
            "scalingConfig": {"minSize": 3, "maxSize": 6, "desiredSize": 3},
            "labels": {"addOrUpdateLabels": {"tier": "a"}, "removeLabels": ["gone"]},
            "taints": {"addOrUpdateTaints": [{"key": "new", "value": "2", "effect": "NO_EXECUTE"}],
                       "removeTaints": [{"key": "old", "value": "1", "effect": "NO_SCHEDULE"}]},
            "updateConfig": {"maxUnavailablePercentage": 25},
        },
    )
    stubber.add_response("describe_update", update_answer("u-1"), {"name": "hh", "updateId": "u-1", "nodegroupName": "system"})
    stubber.add_response("describe_update", update_answer("u-1", status="Successful"), {"name": "hh", "updateId": "u-1", "nodegroupName": "system"})
    final = described(scalingConfig={"minSize": 3, "maxSize": 6, "desiredSize": 3}, labels={"pool": "system", "tier": "a"},
                      taints=[{"key": "new", "value": "2", "effect": "NO_EXECUTE"}], updateConfig={"maxUnavailablePercentage": 25})
    stubber.add_response("describe_nodegroup", final, {"clusterName": "hh", "nodegroupName": "system"})
    stubber.activate()
    result = run_module(
        eks_nodegroup,
        stub_args(scaling=dict(min_size=3, max_size=6, desired_size=3), labels={"pool": "system", "tier": "a"},
                  taints=[dict(key="new", value="2", effect="NO_EXECUTE")], update_config=dict(max_unavailable_percentage=25)),
    )
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["updates"] == [{"id": "u-1", "type": "ConfigUpdate", "status": "Successful"}]
    assert result["update_config"] == {"max_unavailable_percentage": 25}
    stubber.assert_no_pending_responses()


def test_version_update_after_config_update(run_module, stub_client, no_sleep):
    """Stubber: config first, waited for, then the version, each with its own
    token derived from the name and the node group's modifiedAt."""
    stubber = stub_client("eks")
    stubber.add_response("describe_nodegroup", described(), {"clusterName": "hh", "nodegroupName": "system"})
    stubber.add_response(
        "update_nodegroup_config", update_answer("u-1"),
        {"clusterName": "hh", "nodegroupName": "system", "clientRequestToken": ANY, "labels": {"addOrUpdateLabels": {"pool": "core"}}},
    )
    stubber.add_response("describe_update", update_answer("u-1", status="Successful"), {"name": "hh", "updateId": "u-1", "nodegroupName": "system"})
    stubber.add_response("describe_nodegroup", described(labels={"pool": "core"}), {"clusterName": "hh", "nodegroupName": "system"})
    stubber.add_response(
        "update_nodegroup_version", update_answer("u-2", "VersionUpdate"),
        {"clusterName": "hh", "nodegroupName": "system", "clientRequestToken": ANY, "version": "1.33", "force": True},
    )
    stubber.add_response("describe_update", update_answer("u-2", "VersionUpdate", "Successful"),
                         {"name": "hh", "updateId": "u-2", "nodegroupName": "system"})
    stubber.add_response("describe_nodegroup", described(labels={"pool": "core"}, version="1.33", releaseVersion="1.33.0-20250601"),
                         {"clusterName": "hh", "nodegroupName": "system"})
    stubber.activate()
    result = run_module(eks_nodegroup, stub_args(labels={"pool": "core"}, version="1.33", force_update=True))
    assert not result.get("failed"), result
    assert [u["type"] for u in result["updates"]] == ["ConfigUpdate", "VersionUpdate"]
    assert result["version"] == "1.33"
    assert result["release_version"] == "1.33.0-20250601"
    stubber.assert_no_pending_responses()
    token_a = [p["clientRequestToken"] for op, p in stub_client.sent if op == "UpdateNodegroupConfig"][0]
    token_b = [p["clientRequestToken"] for op, p in stub_client.sent if op == "UpdateNodegroupVersion"][0]
    assert token_a != token_b and token_a.startswith("hh") and len(token_b) == 64


def test_version_downgrade_refused(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("describe_nodegroup", described(version="1.33"), {"clusterName": "hh", "nodegroupName": "system"})
    stubber.activate()
    result = run_module(eks_nodegroup, stub_args(version="1.32", labels={"changed": "too"}))
    assert result["failed"] is True
    assert "Invalid value for option 'version': '1.32'" in result["msg"]
    assert "cannot downgrade" in result["msg"]
    stubber.assert_no_pending_responses()


def test_tags_updated_in_place(run_module, stub_client):
    """Stubber: tags change with TagResource / UntagResource, not as an update."""
    arn = described()["nodegroup"]["nodegroupArn"]
    stubber = stub_client("eks")
    stubber.add_response("describe_nodegroup", described(tags={"Name": "system", "Old": "1"}),
                         {"clusterName": "hh", "nodegroupName": "system"})
    stubber.add_response("untag_resource", {}, {"resourceArn": arn, "tagKeys": ["Old"]})
    stubber.add_response("tag_resource", {}, {"resourceArn": arn, "tags": {"New": "2"}})
    stubber.activate()
    result = run_module(eks_nodegroup, stub_args(tags={"Name": "system", "New": "2"}))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["updates"] == []
    assert result["tags"] == {"Name": "system", "New": "2"}
    stubber.assert_no_pending_responses()


def test_taints_and_labels_left_out_of_the_answer_count_as_empty(run_module, stub_client, no_sleep):
    """Stubber: EKS leaves ``taints`` out when a node group has none (and an answer may lack
    ``labels``): requested ones are added, not skipped as "not reported"."""
    group = described()
    del group["nodegroup"]["labels"]
    stubber = stub_client("eks")
    stubber.add_response("describe_nodegroup", group, {"clusterName": "hh", "nodegroupName": "system"})
    stubber.add_response(
        "update_nodegroup_config", update_answer("u-1"),
        {"clusterName": "hh", "nodegroupName": "system", "clientRequestToken": ANY,
         "labels": {"addOrUpdateLabels": {"pool": "system"}},
         "taints": {"addOrUpdateTaints": [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]}},
    )
    stubber.activate()
    result = run_module(eks_nodegroup, stub_args(
        labels={"pool": "system"}, taints=[dict(key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE")], wait=False))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["taints"] == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
    stubber.assert_no_pending_responses()


def test_no_taints_asked_for_a_node_group_without_taints_is_no_change(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("describe_nodegroup", described(), {"clusterName": "hh", "nodegroupName": "system"})
    stubber.activate()
    result = run_module(eks_nodegroup, stub_args(taints=[], labels={"pool": "system"}))
    assert not result.get("failed"), result
    assert result["changed"] is False
    stubber.assert_no_pending_responses()


def test_update_config_not_reported_is_not_updated(run_module, stub_client):
    """Stubber: EKS always reports updateConfig; an answer without it is not compared, so
    nothing is updated blindly."""
    group = described()
    del group["nodegroup"]["updateConfig"]
    stubber = stub_client("eks")
    stubber.add_response("describe_nodegroup", group, {"clusterName": "hh", "nodegroupName": "system"})
    stubber.activate()
    result = run_module(eks_nodegroup, stub_args(update_config=dict(max_unavailable=2)))
    assert not result.get("failed"), result
    assert result["changed"] is False
    stubber.assert_no_pending_responses()


def test_create_failure_reports_health(run_module, stub_client, no_sleep):
    stubber = stub_client("eks")
    stubber.add_client_error("describe_nodegroup", "ResourceNotFoundException", http_status_code=404)
    stubber.add_response("create_nodegroup", described(status="CREATING"),
                         {"clusterName": "hh", "nodegroupName": "system", "nodeRole": NODE_ROLE, "subnets": SUBNETS,
                          "clientRequestToken": ANY})
    failed = described(status="CREATE_FAILED")
    failed["nodegroup"]["health"] = {"issues": [{"code": "NodeCreationFailure", "message": "Instances failed to join", "resourceIds": []}]}
    stubber.add_response("describe_nodegroup", failed, {"clusterName": "hh", "nodegroupName": "system"})
    stubber.activate()
    result = run_module(eks_nodegroup, stub_args())
    assert result["failed"] is True
    assert "CREATE_FAILED" in result["msg"]
    assert "NodeCreationFailure: Instances failed to join" in result["msg"]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(name="bad name"), "Invalid value for option 'name': 'bad name'"),
        (dict(cluster_name=""), "Invalid value for option 'cluster_name': ''"),
        (dict(node_role_arn="node"), "Invalid value for option 'node_role_arn': 'node'"),
        (dict(subnet_ids=["sub"]), "Invalid value for option 'subnet_ids': 'sub'"),
        (dict(scaling=dict(min_size=-1)), "Invalid value for option 'scaling.min_size': -1. Allowed: an integer of at least 0."),
        (dict(scaling=dict(max_size=0)), "Invalid value for option 'scaling.max_size': 0. Allowed: an integer of at least 1."),
        (dict(scaling=dict(min_size=3, max_size=2)), "Allowed: min_size <= max_size (here 3 > 2)"),
        (dict(scaling=dict(min_size=1, max_size=2, desired_size=5)), "Allowed: min_size <= desired_size <= max_size (here 1, 5, 2)"),
        (dict(update_config=dict(max_unavailable=1, max_unavailable_percentage=10)), "exactly one of max_unavailable"),
        (dict(update_config=dict(max_unavailable=0)), "Invalid value for option 'update_config.max_unavailable': 0"),
        (dict(disk_size=0), "Invalid value for option 'disk_size': 0"),
        (dict(version="1.3"), "Invalid value for option 'version': '1.3'"),
        (dict(ami_type="AL1"), "ami_type"),
        (dict(taints=[dict(key="a", effect="NoSchedule")]), "effect"),
        (dict(taints=[dict(key="a", effect="NO_SCHEDULE"), dict(key="a", value="b", effect="NO_SCHEDULE")]),
         "Allowed: at most one taint per key and effect"),
        (dict(wait_timeout=-5), "Invalid value for option 'wait_timeout': -5"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, local_eks, api_calls, extra, fragment):
    result = run_module(eks_nodegroup, args(local_eks, "hh", **extra))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
