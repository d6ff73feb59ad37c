"""honeyhive.platform.eks_addon.

The whole life of an add-on (version resolved from DescribeAddonVersions, pod identity
associations, configuration values, an update, removal) runs against the local EKS
service (scripts/local_aws/eks.py, the ``local_eks`` fixture). The exact requests, answers
in other states and failures are checked with botocore's Stubber on the real EKS service
model. Bad input is checked against an endpoint, to show that no request is made at all."""
from __future__ import annotations

import copy
import datetime
import json

import pytest
from botocore.stub import ANY

from ansible_collections.honeyhive.platform.plugins.modules import eks_addon

ROLE = "arn:aws:iam::111122223333:role/vpc-cni"
EBS_ROLE = "arn:aws:iam::111122223333:role/ebs-csi"
ARN = "arn:aws:eks:us-west-2:111122223333:addon/hh/vpc-cni/0123"
WHEN = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)


CLUSTER_ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
POD_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                                                     "Action": ["sts:AssumeRole", "sts:TagSession"]}]}


@pytest.fixture
def local_cluster(local_eks, eks_clock):
    eks = local_eks.client()
    eks.create_cluster(name="hh", version="1.33", roleArn=CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": SUBNETS},
                       bootstrapSelfManagedAddons=False)
    eks.get_waiter("cluster_active").wait(name="hh")
    local_eks.env.add_role(EBS_ROLE, POD_TRUST)
    return eks


def test_the_life_of_an_add_on_against_local_eks(run_module, local_eks, local_cluster, api_calls):
    eks = local_cluster
    options = dict(cluster_name="hh", name="aws-ebs-csi-driver", version="default", endpoint_url=local_eks.url,
                   region="us-west-2", configuration_values={"controller": {"replicaCount": 1}},
                   pod_identity_associations=[dict(service_account="ebs-csi-controller-sa", role_arn=EBS_ROLE)])
    [catalogue] = eks.describe_addon_versions(kubernetesVersion="1.33", addonName="aws-ebs-csi-driver")["addons"]
    default = [v["addonVersion"] for v in catalogue["addonVersions"] if v["compatibilities"][0]["defaultVersion"]][0]
    first = run_module(eks_addon, options)
    assert not first.get("failed"), first
    assert first["changed"] is True and first["status"] == "ACTIVE"
    assert first["resolved_version"] == first["addon_version"] == default
    assert first["kubernetes_version"] == "1.33"
    [association] = first["pod_identity_associations"]
    assert (association["service_account"], association["role_arn"]) == ("ebs-csi-controller-sa", EBS_ROLE)
    addon = eks.describe_addon(clusterName="hh", addonName="aws-ebs-csi-driver")["addon"]
    assert json.loads(addon["configurationValues"]) == {"controller": {"replicaCount": 1}}
    assert addon["podIdentityAssociations"] == [association["association_arn"]]

    api_calls.clear()
    again = run_module(eks_addon, options)
    assert again["changed"] is False
    assert sorted(api_calls) == sorted(["DescribeCluster", "DescribeAddonVersions", "DescribeAddon",
                                        "DescribePodIdentityAssociation"])

    latest = run_module(eks_addon, dict(options, version="latest", configuration_values={}))
    assert not latest.get("failed"), latest
    assert latest["changed"] is True
    assert [(u["type"], u["status"]) for u in latest["updates"]] == [("AddonUpdate", "Successful")]
    addon = eks.describe_addon(clusterName="hh", addonName="aws-ebs-csi-driver")["addon"]
    assert addon["addonVersion"] == latest["addon_version"] != default
    assert "configurationValues" not in addon

    gone = run_module(eks_addon, dict(cluster_name="hh", name="aws-ebs-csi-driver", state="absent",
                                      endpoint_url=local_eks.url, region="us-west-2"))
    assert gone["changed"] is True
    assert eks.list_addons(clusterName="hh")["addons"] == []
    assert eks.list_pod_identity_associations(clusterName="hh")["associations"] == []


def test_an_incompatible_version_fails_with_eks_answer(run_module, local_eks, local_cluster):
    result = run_module(eks_addon, dict(cluster_name="hh", name="coredns", version="v1.13.1-eksbuild.1",
                                        endpoint_url=local_eks.url, region="us-west-2"))
    assert result["failed"] is True
    assert "Addon version specified is not supported" in result["msg"]


def stub_args(**extra):
    base = dict(cluster_name="hh", name="vpc-cni", region="us-west-2")
    base.update(extra)
    return base


def described(name="vpc-cni", **overrides):
    addon = {
        "addonName": name,
        "clusterName": "hh",
        "status": "ACTIVE",
        "addonVersion": "v1.18.0-eksbuild.1",
        "health": {"issues": []},
        "addonArn": ARN.replace("vpc-cni", name),
        "createdAt": WHEN,
        "modifiedAt": WHEN,
        "tags": {},
    }
    for key, value in overrides.items():
        if value is None:
            addon.pop(key, None)
        else:
            addon[key] = value
    return {"addon": addon}


def update_answer(update_id, status="InProgress"):
    return {"update": {"id": update_id, "type": "AddonUpdate", "status": status, "params": [], "errors": [], "createdAt": WHEN}}


def cluster_answer(version="1.33"):
    return {"cluster": {"name": "hh", "arn": "arn:aws:eks:us-west-2:111122223333:cluster/hh", "version": version, "status": "ACTIVE"}}


def versions_answer(name="vpc-cni", next_token=None, versions=None):
    versions = versions or [
        ("v1.19.2-eksbuild.1", False), ("v1.19.0-eksbuild.1", True), ("v1.18.0-eksbuild.1", False),
    ]
    answer = {"addons": [{
        "addonName": name, "type": "networking", "owner": "aws", "publisher": "eks",
        "addonVersions": [
            {"addonVersion": v, "architecture": ["amd64", "arm64"],
             "compatibilities": [{"clusterVersion": "1.33", "platformVersions": ["*"], "defaultVersion": d}],
             "requiresConfiguration": False}
            for v, d in versions
        ],
    }]}
    if next_token:
        answer["nextToken"] = next_token
    return answer


def not_found(stubber, operation):
    stubber.add_client_error(operation, "ResourceNotFoundException", "No addon: vpc-cni found in cluster: hh", 404)


def test_create_with_explicit_version_then_no_op(run_module, stub_client, no_sleep):
    stubber = stub_client("eks")
    not_found(stubber, "describe_addon")
    stubber.add_response(
        "create_addon", described(status="CREATING", addonVersion="v1.19.0-eksbuild.1"),
        {
            "clusterName": "hh", "addonName": "vpc-cni", "addonVersion": "v1.19.0-eksbuild.1", "resolveConflicts": "OVERWRITE",
            "serviceAccountRoleArn": ROLE, "configurationValues": '{"env":{"ENABLE_PREFIX_DELEGATION":"true"}}',
            "tags": {"Name": "vpc-cni"}, "clientRequestToken": ANY,
        },
    )
    stubber.add_response("describe_addon", described(status="CREATING", addonVersion="v1.19.0-eksbuild.1"),
                         {"clusterName": "hh", "addonName": "vpc-cni"})
    active = described(addonVersion="v1.19.0-eksbuild.1", serviceAccountRoleArn=ROLE,
                       configurationValues='{"env":{"ENABLE_PREFIX_DELEGATION":"true"}}', tags={"Name": "vpc-cni"})
    stubber.add_response("describe_addon", active, {"clusterName": "hh", "addonName": "vpc-cni"})
    # second run: the configuration comes back formatted differently; still a no-op
    second = copy.deepcopy(active)
    second["addon"]["configurationValues"] = '{\n  "env": {"ENABLE_PREFIX_DELEGATION": "true"}\n}'
    stubber.add_response("describe_addon", second, {"clusterName": "hh", "addonName": "vpc-cni"})
    stubber.activate()
    options = dict(version="v1.19.0-eksbuild.1", service_account_role_arn=ROLE,
                   configuration_values={"env": {"ENABLE_PREFIX_DELEGATION": "true"}}, tags={"Name": "vpc-cni"})
    first = run_module(eks_addon, stub_args(_ansible_diff=True, **options))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["status"] == "ACTIVE"
    assert first["addon_version"] == first["resolved_version"] == "v1.19.0-eksbuild.1"
    assert first["configuration_values"] == {"env": {"ENABLE_PREFIX_DELEGATION": "true"}}
    assert first["diff"]["before"] == {}
    [token] = [p["clientRequestToken"] for op, p in stub_client.sent if op == "CreateAddon"]
    assert token.startswith("hh") and len(token) == 64

    del stub_client.sent[:]
    again = run_module(eks_addon, stub_args(**options))
    assert not again.get("failed"), again
    assert again["changed"] is False
    assert [op for op, _params in stub_client.sent] == ["DescribeAddon"]
    stubber.assert_no_pending_responses()


def test_default_version_resolved_for_the_cluster_and_upgraded(run_module, stub_client, no_sleep):
    """DescribeCluster gives the Kubernetes version; DescribeAddonVersions (two
    pages) the version EKS marks default for it; UpdateAddon moves to it."""
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", cluster_answer(), {"name": "hh"})
    stubber.add_response(
        "describe_addon_versions", versions_answer(next_token="page2", versions=[("v1.19.2-eksbuild.1", False)]),
        {"addonName": "vpc-cni", "kubernetesVersion": "1.33"},
    )
    stubber.add_response(
        "describe_addon_versions", versions_answer(versions=[("v1.19.0-eksbuild.1", True), ("v1.18.0-eksbuild.1", False)]),
        {"addonName": "vpc-cni", "kubernetesVersion": "1.33", "nextToken": "page2"},
    )
    stubber.add_response("describe_addon", described(), {"clusterName": "hh", "addonName": "vpc-cni"})
    stubber.add_response(
        "update_addon", update_answer("u-1"),
        {"clusterName": "hh", "addonName": "vpc-cni", "addonVersion": "v1.19.0-eksbuild.1", "resolveConflicts": "OVERWRITE",
         "clientRequestToken": ANY},
    )
    stubber.add_response("describe_update", update_answer("u-1", "Successful"), {"name": "hh", "updateId": "u-1", "addonName": "vpc-cni"})
    stubber.add_response("describe_addon", described(addonVersion="v1.19.0-eksbuild.1"), {"clusterName": "hh", "addonName": "vpc-cni"})
    stubber.activate()
    result = run_module(eks_addon, stub_args(version="default", _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["resolved_version"] == result["addon_version"] == "v1.19.0-eksbuild.1"
    assert result["kubernetes_version"] == "1.33"
    assert result["updates"] == [{"id": "u-1", "type": "AddonUpdate", "status": "Successful"}]
    assert result["diff"]["before"]["addon_version"] == "v1.18.0-eksbuild.1"
    stubber.assert_no_pending_responses()


def test_latest_picks_the_highest_version(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", cluster_answer(), {"name": "hh"})
    stubber.add_response(
        "describe_addon_versions",
        versions_answer(versions=[("v1.9.0-eksbuild.3", False), ("v1.19.0-eksbuild.1", True), ("v1.19.0-eksbuild.12", False)]),
        {"addonName": "vpc-cni", "kubernetesVersion": "1.33"},
    )
    not_found(stubber, "describe_addon")
    stubber.activate()
    result = run_module(eks_addon, stub_args(version="latest", _ansible_check_mode=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["resolved_version"] == "v1.19.0-eksbuild.12"
    assert result["arn"] is None
    assert "CreateAddon" not in [op for op, _params in stub_client.sent]
    stubber.assert_no_pending_responses()


def test_alias_never_downgrades_a_newer_install(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", cluster_answer(), {"name": "hh"})
    stubber.add_response("describe_addon_versions", versions_answer(), {"addonName": "vpc-cni", "kubernetesVersion": "1.33"})
    stubber.add_response("describe_addon", described(addonVersion="v1.19.2-eksbuild.1"), {"clusterName": "hh", "addonName": "vpc-cni"})
    stubber.activate()
    result = run_module(eks_addon, stub_args(version="default"))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["addon_version"] == "v1.19.2-eksbuild.1"
    assert result["resolved_version"] == "v1.19.0-eksbuild.1"


def test_explicit_downgrade_refused(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("describe_addon", described(addonVersion="v1.19.2-eksbuild.1"), {"clusterName": "hh", "addonName": "vpc-cni"})
    stubber.activate()
    result = run_module(eks_addon, stub_args(version="v1.18.0-eksbuild.1"))
    assert result["failed"] is True
    assert "Invalid value for option 'version': 'v1.18.0-eksbuild.1'" in result["msg"]
    assert "cannot downgrade" in result["msg"]
    stubber.assert_no_pending_responses()


def test_no_version_for_the_cluster_is_a_clear_error(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", cluster_answer("1.20"), {"name": "hh"})
    stubber.add_response("describe_addon_versions", {"addons": []}, {"addonName": "vpc-cni", "kubernetesVersion": "1.20"})
    stubber.activate()
    result = run_module(eks_addon, stub_args(version="latest"))
    assert result["failed"] is True
    assert "EKS lists no version of this add-on for Kubernetes 1.20" in result["msg"]


def test_pod_identity_associations_and_configuration_update(run_module, stub_client, no_sleep):
    """The add-on reports association ARNs only: each is described to compare
    service account and role; one UpdateAddon changes role and configuration."""
    name = "aws-ebs-csi-driver"
    assoc_arn = "arn:aws:eks:us-west-2:111122223333:podidentityassociation/hh/a-abcdefghijklmnop1"
    stubber = stub_client("eks")
    current = described(name, podIdentityAssociations=[assoc_arn], configurationValues='{"controller":{"replicaCount":2}}')
    stubber.add_response("describe_addon", current, {"clusterName": "hh", "addonName": name})
    stubber.add_response(
        "describe_pod_identity_association",
        {"association": {"clusterName": "hh", "namespace": "kube-system", "serviceAccount": "ebs-csi-controller-sa",
                         "roleArn": "arn:aws:iam::111122223333:role/old", "associationArn": assoc_arn,
                         "associationId": "a-abcdefghijklmnop1", "ownerArn": current["addon"]["addonArn"]}},
        {"clusterName": "hh", "associationId": "a-abcdefghijklmnop1"},
    )
    stubber.add_response(
        "update_addon", update_answer("u-1"),
        {"clusterName": "hh", "addonName": name, "resolveConflicts": "PRESERVE", "clientRequestToken": ANY,
         "podIdentityAssociations": [{"serviceAccount": "ebs-csi-controller-sa", "roleArn": EBS_ROLE}],
         "configurationValues": '{"controller":{"replicaCount":3}}'},
    )
    stubber.activate()
    result = run_module(
        eks_addon,
        stub_args(name=name, resolve_conflicts="PRESERVE", wait=False, _ansible_diff=True,
                  pod_identity_associations=[dict(service_account="ebs-csi-controller-sa", role_arn=EBS_ROLE)],
                  configuration_values={"controller": {"replicaCount": 3}}),
    )
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["pod_identity_associations"] == [
        {"service_account": "ebs-csi-controller-sa", "role_arn": EBS_ROLE, "association_arn": None}
    ]
    assert result["diff"]["before"]["pod_identity_associations"] == [
        {"service_account": "ebs-csi-controller-sa", "role_arn": "arn:aws:iam::111122223333:role/old"}
    ]
    assert result["configuration_values"] == {"controller": {"replicaCount": 3}}
    assert result["updates"] == [{"id": "u-1", "type": "AddonUpdate", "status": "InProgress"}]
    stubber.assert_no_pending_responses()


def test_degraded_addon_ends_the_wait_with_a_warning(run_module, stub_client, no_sleep):
    stubber = stub_client("eks")
    not_found(stubber, "describe_addon")
    stubber.add_response("create_addon", described("coredns", status="CREATING"),
                         {"clusterName": "hh", "addonName": "coredns", "resolveConflicts": "OVERWRITE", "clientRequestToken": ANY})
    degraded = described("coredns", status="DEGRADED")
    degraded["addon"]["health"] = {"issues": [{"code": "InsufficientNumberOfReplicas", "message": "no nodes", "resourceIds": []}]}
    stubber.add_response("describe_addon", degraded, {"clusterName": "hh", "addonName": "coredns"})
    stubber.activate()
    result = run_module(eks_addon, stub_args(name="coredns"))
    assert not result.get("failed"), result
    assert result["status"] == "DEGRADED"
    # ansible-core 2.19 returns warnings as structured summaries
    assert "InsufficientNumberOfReplicas: no nodes" in json.dumps(result["warnings"])


def test_tags_updated_in_place(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("describe_addon", described(tags={"Old": "1"}), {"clusterName": "hh", "addonName": "vpc-cni"})
    stubber.add_response("untag_resource", {}, {"resourceArn": ARN, "tagKeys": ["Old"]})
    stubber.add_response("tag_resource", {}, {"resourceArn": ARN, "tags": {"New": "2"}})
    stubber.activate()
    result = run_module(eks_addon, stub_args(tags={"New": "2"}))
    assert result["changed"] is True
    assert result["tags"] == {"New": "2"}
    stubber.assert_no_pending_responses()


def test_delete_with_preserve(run_module, stub_client, no_sleep):
    stubber = stub_client("eks")
    stubber.add_response("describe_addon", described(), {"clusterName": "hh", "addonName": "vpc-cni"})
    stubber.add_response("delete_addon", described(status="DELETING"), {"clusterName": "hh", "addonName": "vpc-cni", "preserve": True})
    stubber.add_response("describe_addon", described(status="DELETING"), {"clusterName": "hh", "addonName": "vpc-cni"})
    not_found(stubber, "describe_addon")
    not_found(stubber, "describe_addon")
    stubber.activate()
    result = run_module(eks_addon, stub_args(state="absent", preserve=True, _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["status"] is None
    assert result["diff"]["after"] == {}
    again = run_module(eks_addon, stub_args(state="absent"))
    assert again["changed"] is False
    stubber.assert_no_pending_responses()


def test_failed_update_reports_errors(run_module, stub_client, no_sleep):
    stubber = stub_client("eks")
    stubber.add_response("describe_addon", described(), {"clusterName": "hh", "addonName": "vpc-cni"})
    stubber.add_response("update_addon", update_answer("u-9"),
                         {"clusterName": "hh", "addonName": "vpc-cni", "addonVersion": "v1.19.0-eksbuild.1",
                          "resolveConflicts": "OVERWRITE", "clientRequestToken": ANY})
    failed = update_answer("u-9", "Failed")
    failed["update"]["errors"] = [{"errorCode": "ConfigurationConflict", "errorMessage": "field managed elsewhere", "resourceIds": []}]
    stubber.add_response("describe_update", failed, {"name": "hh", "updateId": "u-9", "addonName": "vpc-cni"})
    stubber.activate()
    result = run_module(eks_addon, stub_args(version="v1.19.0-eksbuild.1"))
    assert result["failed"] is True
    assert "ConfigurationConflict: field managed elsewhere" in result["msg"]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(name="VPC CNI"), "Invalid value for option 'name': 'VPC CNI'"),
        (dict(version="newest"), "Invalid value for option 'version': 'newest'. Allowed: 'default', 'latest' or an add-on version"),
        (dict(service_account_role_arn="role"), "Invalid value for option 'service_account_role_arn': 'role'"),
        (dict(pod_identity_associations=[dict(service_account="Bad_SA", role_arn=EBS_ROLE)]),
         "Invalid value for option 'pod_identity_associations.service_account': 'Bad_SA'"),
        (dict(pod_identity_associations=[dict(service_account="sa", role_arn="x")]),
         "Invalid value for option 'pod_identity_associations.role_arn': 'x'"),
        (dict(pod_identity_associations=[dict(service_account="sa", role_arn=EBS_ROLE)] * 2),
         "Allowed: one association per service account"),
        (dict(resolve_conflicts="overwrite"), "resolve_conflicts"),
        (dict(wait_timeout=-1), "Invalid value for option 'wait_timeout': -1"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, local_eks, api_calls, extra, fragment):
    base = stub_args(endpoint_url=local_eks.url, **extra)
    result = run_module(eks_addon, base)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []


def test_configuration_values_helpers():
    assert eks_addon.parse_configuration("") == {}
    assert eks_addon.parse_configuration('{"a": 1}') == {"a": 1}
    assert eks_addon.parse_configuration("a: 1\nb: [x]\n") == {"a": 1, "b": ["x"]}
    assert json.loads(eks_addon.config_text({"b": 1, "a": 2})) == {"a": 2, "b": 1}
    assert eks_addon.version_key("v1.19.0-eksbuild.12") > eks_addon.version_key("v1.19.0-eksbuild.2")


def test_created_without_waiting_then_awaited_by_a_second_pass(run_module, local_eks, local_cluster):
    """The role creates every add-on with wait=false, so EKS makes them side by side, then
    runs the module again with wait=true: that pass changes nothing and ends when they are
    ACTIVE."""
    names = ["vpc-cni", "kube-proxy"]
    options = dict(cluster_name="hh", version="default", endpoint_url=local_eks.url, region="us-west-2")
    started = [run_module(eks_addon, dict(options, name=name, wait=False)) for name in names]
    assert [(r["changed"], r["status"]) for r in started] == [(True, "CREATING")] * 2
    awaited = [run_module(eks_addon, dict(options, name=name, wait=True)) for name in names]
    assert [(r["changed"], r["status"]) for r in awaited] == [(False, "ACTIVE")] * 2
    statuses = {name: local_cluster.describe_addon(clusterName="hh", addonName=name)["addon"]["status"] for name in names}
    assert statuses == {"vpc-cni": "ACTIVE", "kube-proxy": "ACTIVE"}
