"""honeyhive.platform.eks_access_entry.

Entries and their access policies run against the local EKS service
(scripts/local_aws/eks.py, the ``local_eks`` fixture); the exact requests and answers in
other states are checked with botocore's Stubber on the real EKS service model. Bad input
is checked against an endpoint, to show that no request is made at all."""
from __future__ import annotations

import datetime

import pytest
from botocore.stub import ANY

from ansible_collections.honeyhive.platform.plugins.modules import eks_access_entry

PRINCIPAL = "arn:aws:iam::111122223333:role/platform-admin"
ENTRY_ARN = "arn:aws:eks:us-west-2:111122223333:access-entry/hh/role/111122223333/platform-admin/0123"
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
EDIT = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
WHEN = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
KEY = {"clusterName": "hh", "principalArn": PRINCIPAL}


CLUSTER_ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]


@pytest.fixture
def local_cluster(local_eks, eks_clock):
    """An ACTIVE cluster ``hh`` (authentication mode API) and ``new`` (CONFIG_MAP)."""
    eks = local_eks.client()
    for name, mode in (("hh", "API"), ("new", "CONFIG_MAP")):
        eks.create_cluster(name=name, roleArn=CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": SUBNETS},
                           accessConfig={"authenticationMode": mode})
        eks.get_waiter("cluster_active").wait(name=name)
    local_eks.env.add_role(PRINCIPAL, {"Version": "2012-10-17", "Statement": []})
    return eks


def test_entry_and_policies_against_local_eks(run_module, local_eks, local_cluster, api_calls):
    eks = local_cluster
    options = dict(cluster_name="hh", principal_arn=PRINCIPAL, kubernetes_groups=["platform-admins"],
                   access_policies=[dict(policy_arn="AmazonEKSClusterAdminPolicy"),
                                    dict(policy_arn=VIEW, access_scope=dict(type="namespace", namespaces=["honeyhive"]))],
                   tags={"team": "platform"}, endpoint_url=local_eks.url, region="us-west-2")
    first = run_module(eks_access_entry, options)
    assert not first.get("failed"), first
    assert first["changed"] is True
    entry_now = eks.describe_access_entry(clusterName="hh", principalArn=PRINCIPAL)["accessEntry"]
    assert first["arn"] == entry_now["accessEntryArn"]
    assert entry_now["kubernetesGroups"] == ["platform-admins"]
    assert entry_now["username"] == "arn:aws:sts::111122223333:assumed-role/platform-admin/{{SessionName}}"
    assert entry_now["tags"] == {"team": "platform"}
    policies = eks.list_associated_access_policies(clusterName="hh", principalArn=PRINCIPAL)["associatedAccessPolicies"]
    assert {(p["policyArn"], p["accessScope"]["type"]) for p in policies} == {(ADMIN, "cluster"), (VIEW, "namespace")}

    api_calls.clear()
    again = run_module(eks_access_entry, options)
    assert again["changed"] is False
    assert api_calls == ["DescribeAccessEntry", "ListAssociatedAccessPolicies"]

    fewer = run_module(eks_access_entry, dict(options, access_policies=[dict(policy_arn=EDIT)], kubernetes_groups=[]))
    assert fewer["changed"] is True
    policies = eks.list_associated_access_policies(clusterName="hh", principalArn=PRINCIPAL)["associatedAccessPolicies"]
    assert [p["policyArn"] for p in policies] == [EDIT]
    assert eks.describe_access_entry(clusterName="hh", principalArn=PRINCIPAL)["accessEntry"]["kubernetesGroups"] == []

    gone = run_module(eks_access_entry, dict(cluster_name="hh", principal_arn=PRINCIPAL, state="absent",
                                             endpoint_url=local_eks.url, region="us-west-2"))
    assert gone["changed"] is True
    assert PRINCIPAL not in eks.list_access_entries(clusterName="hh")["accessEntries"]


def test_a_config_map_cluster_refuses_entries_with_eks_answer(run_module, local_eks, local_cluster):
    result = run_module(eks_access_entry, dict(cluster_name="new", principal_arn=PRINCIPAL, endpoint_url=local_eks.url,
                                               region="us-west-2", wait_timeout=60))
    assert result["failed"] is True
    assert "authentication mode must be set to one of [API, API_AND_CONFIG_MAP]" in result["msg"]


def stub_args(**extra):
    base = dict(cluster_name="hh", principal_arn=PRINCIPAL, region="us-west-2")
    base.update(extra)
    return base


def entry(**overrides):
    value = {
        "clusterName": "hh", "principalArn": PRINCIPAL, "kubernetesGroups": [], "accessEntryArn": ENTRY_ARN,
        "createdAt": WHEN, "modifiedAt": WHEN, "tags": {}, "username": PRINCIPAL, "type": "STANDARD",
    }
    value.update(overrides)
    return {"accessEntry": value}


def associated(*policies):
    return {
        "clusterName": "hh", "principalArn": PRINCIPAL,
        "associatedAccessPolicies": [
            {"policyArn": arn, "accessScope": scope, "associatedAt": WHEN, "modifiedAt": WHEN} for arn, scope in policies
        ],
    }


def not_found(stubber, operation="describe_access_entry"):
    stubber.add_client_error(operation, "ResourceNotFoundException", "not found", 404)


def test_create_with_policies_then_no_op(run_module, stub_client):
    stubber = stub_client("eks")
    not_found(stubber)
    stubber.add_response(
        "create_access_entry", entry(kubernetesGroups=["platform"], tags={"Team": "platform"}),
        dict(KEY, type="STANDARD", kubernetesGroups=["platform"], tags={"Team": "platform"}, clientRequestToken=ANY),
    )
    stubber.add_response("associate_access_policy", {"clusterName": "hh", "principalArn": PRINCIPAL},
                         dict(KEY, policyArn=ADMIN, accessScope={"type": "cluster"}))
    stubber.add_response("associate_access_policy", {"clusterName": "hh", "principalArn": PRINCIPAL},
                         dict(KEY, policyArn=VIEW, accessScope={"type": "namespace", "namespaces": ["a", "b"]}))
    # second run
    stubber.add_response("describe_access_entry", entry(kubernetesGroups=["platform"], tags={"Team": "platform"}), KEY)
    stubber.add_response("list_associated_access_policies",
                         associated((VIEW, {"type": "namespace", "namespaces": ["b", "a"]}), (ADMIN, {"type": "cluster", "namespaces": []})),
                         KEY)
    stubber.activate()
    options = dict(
        kubernetes_groups=["platform"], tags={"Team": "platform"},
        access_policies=[dict(policy_arn="AmazonEKSClusterAdminPolicy"),
                         dict(policy_arn=VIEW, access_scope=dict(type="namespace", namespaces=["b", "a"]))],
    )
    first = run_module(eks_access_entry, stub_args(_ansible_diff=True, **options))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["arn"] == ENTRY_ARN
    assert first["access_policies"] == [
        {"policy_arn": ADMIN, "access_scope": {"type": "cluster", "namespaces": []}},
        {"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["a", "b"]}},
    ]
    assert first["diff"]["before"] == {}
    [token] = [p["clientRequestToken"] for op, p in stub_client.sent if op == "CreateAccessEntry"]
    assert token.startswith("hh") and len(token) == 64

    del stub_client.sent[:]
    second = run_module(eks_access_entry, stub_args(**options))
    assert not second.get("failed"), second
    assert second["changed"] is False
    assert [op for op, _params in stub_client.sent] == ["DescribeAccessEntry", "ListAssociatedAccessPolicies"]
    stubber.assert_no_pending_responses()


def test_policies_associated_and_disassociated_to_match(run_module, stub_client):
    """A changed scope is associated again (EKS replaces the scope), an extra
    policy is disassociated, and groups are updated in place."""
    stubber = stub_client("eks")
    stubber.add_response("describe_access_entry", entry(kubernetesGroups=["old"]), KEY)
    stubber.add_response("list_associated_access_policies",
                         associated((VIEW, {"type": "cluster", "namespaces": []}), (EDIT, {"type": "cluster", "namespaces": []})), KEY)
    stubber.add_response("update_access_entry", entry(kubernetesGroups=["new"]),
                         dict(KEY, kubernetesGroups=["new"], clientRequestToken=ANY))
    stubber.add_response("associate_access_policy", {"clusterName": "hh", "principalArn": PRINCIPAL},
                         dict(KEY, policyArn=VIEW, accessScope={"type": "namespace", "namespaces": ["honeyhive"]}))
    stubber.add_response("disassociate_access_policy", {}, dict(KEY, policyArn=EDIT))
    stubber.activate()
    result = run_module(
        eks_access_entry,
        stub_args(kubernetes_groups=["new"], _ansible_diff=True,
                  access_policies=[dict(policy_arn=VIEW, access_scope=dict(type="namespace", namespaces=["honeyhive"]))]),
    )
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["kubernetes_groups"] == ["new"]
    assert result["diff"]["before"]["kubernetes_groups"] == ["old"]
    assert [p["policy_arn"] for p in result["diff"]["before"]["access_policies"]] == [EDIT, VIEW]
    assert result["access_policies"] == [{"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["honeyhive"]}}]
    stubber.assert_no_pending_responses()


def test_check_mode_changes_nothing(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("describe_access_entry", entry(), KEY)
    stubber.add_response("list_associated_access_policies", associated(), KEY)
    stubber.activate()
    result = run_module(eks_access_entry, stub_args(username="admin", access_policies=[dict(policy_arn=ADMIN)], tags={"A": "b"},
                                                    _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["username"] == "admin"
    assert result["tags"] == {"A": "b"}
    assert [op for op, _params in stub_client.sent] == ["DescribeAccessEntry", "ListAssociatedAccessPolicies"]
    stubber.assert_no_pending_responses()


def test_type_change_refused(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("describe_access_entry", entry(type="EC2_LINUX"), KEY)
    stubber.activate()
    result = run_module(eks_access_entry, stub_args())
    assert result["failed"] is True
    assert "Invalid value for option 'type': 'STANDARD'" in result["msg"]
    assert "is EC2_LINUX" in result["msg"]


def test_busy_cluster_is_waited_for(run_module, stub_client, no_sleep):
    """A cluster still being updated answers ResourceInUseException: with wait
    the module waits for ACTIVE and tries again."""
    stubber = stub_client("eks")
    not_found(stubber)
    stubber.add_client_error("create_access_entry", "ResourceInUseException", "Cluster is being updated", 409)
    not_found(stubber)  # not created by the refused call
    stubber.add_response("describe_cluster", {"cluster": {"name": "hh", "status": "UPDATING"}}, {"name": "hh"})
    stubber.add_response("describe_cluster", {"cluster": {"name": "hh", "status": "ACTIVE"}}, {"name": "hh"})
    stubber.add_response("create_access_entry", entry(type="EC2_LINUX"), dict(KEY, type="EC2_LINUX", clientRequestToken=ANY))
    stubber.activate()
    result = run_module(eks_access_entry, stub_args(type="EC2_LINUX"))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["type"] == "EC2_LINUX"
    tokens = [p["clientRequestToken"] for op, p in stub_client.sent if op == "CreateAccessEntry"]
    assert len(tokens) == 2 and tokens[0] == tokens[1]
    stubber.assert_no_pending_responses()


def test_tags_updated_in_place(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("describe_access_entry", entry(tags={"Old": "1"}), KEY)
    stubber.add_response("untag_resource", {}, {"resourceArn": ENTRY_ARN, "tagKeys": ["Old"]})
    stubber.add_response("tag_resource", {}, {"resourceArn": ENTRY_ARN, "tags": {"New": "2"}})
    stubber.activate()
    result = run_module(eks_access_entry, stub_args(tags={"New": "2"}))
    assert result["changed"] is True
    assert result["tags"] == {"New": "2"}
    stubber.assert_no_pending_responses()


def test_delete(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("describe_access_entry", entry(), KEY)
    stubber.add_response("delete_access_entry", {}, KEY)
    not_found(stubber)
    stubber.activate()
    result = run_module(eks_access_entry, stub_args(state="absent", _ansible_diff=True))
    assert result["changed"] is True
    assert result["diff"]["after"] == {}
    again = run_module(eks_access_entry, stub_args(state="absent"))
    assert again["changed"] is False
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(principal_arn="platform-admin"), "Invalid value for option 'principal_arn': 'platform-admin'"),
        (dict(principal_arn="arn:aws:sts::111122223333:assumed-role/a/b"), "Allowed: an IAM role or user ARN"),
        (dict(username="system:admin"), "Invalid value for option 'username': 'system:admin'"),
        (dict(type="EC2_LINUX", kubernetes_groups=["x"]), "Invalid value for option 'kubernetes_groups': ['x']. Not allowed with type EC2_LINUX"),
        (dict(access_policies=[dict(policy_arn="arn:aws:iam::aws:policy/Admin")]),
         "Invalid value for option 'access_policies.policy_arn': 'arn:aws:iam::aws:policy/Admin'"),
        (dict(access_policies=[dict(policy_arn=VIEW, access_scope=dict(type="namespace"))]),
         "Invalid value for option 'access_policies.access_scope.namespaces': []. Required"),
        (dict(access_policies=[dict(policy_arn=VIEW, access_scope=dict(type="cluster", namespaces=["a"]))]),
         "Not allowed when access_scope.type is cluster"),
        (dict(access_policies=[dict(policy_arn=VIEW, access_scope=dict(type="namespace", namespaces=["Bad_NS"]))]),
         "Invalid value for option 'access_policies.access_scope.namespaces': 'Bad_NS'"),
        (dict(access_policies=[dict(policy_arn=VIEW), dict(policy_arn="AmazonEKSViewPolicy")]), "Allowed: each policy once"),
        (dict(type="NODE"), "type"),
        (dict(wait_timeout=-1), "Invalid value for option 'wait_timeout': -1"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, local_eks, api_calls, extra, fragment):
    result = run_module(eks_access_entry, stub_args(endpoint_url=local_eks.url, **extra))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
