"""honeyhive.platform.eks_pod_identity_association.

Create, no-op, role change and delete run against the local EKS service
(scripts/local_aws/eks.py, the ``local_eks`` fixture), with an add-on's own association
refused; the exact requests and answers in other states are checked with botocore's
Stubber on the real EKS service model. Bad input is checked against an endpoint, to show
that no request is made."""
from __future__ import annotations

import datetime

import pytest
from botocore.stub import ANY

from ansible_collections.honeyhive.platform.plugins.modules import eks_pod_identity_association as module_under_test

ROLE = "arn:aws:iam::111122223333:role/external-secrets"
OTHER_ROLE = "arn:aws:iam::111122223333:role/external-secrets-v2"
ASSOC_ID = "a-abcdefghijklmnop1"
ASSOC_ARN = "arn:aws:eks:us-west-2:111122223333:podidentityassociation/hh/%s" % ASSOC_ID
WHEN = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
LIST = {"clusterName": "hh", "namespace": "external-secrets", "serviceAccount": "external-secrets"}


CLUSTER_ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
POD_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                                                     "Action": ["sts:AssumeRole", "sts:TagSession"]}]}


@pytest.fixture
def local_cluster(local_eks, eks_clock):
    eks = local_eks.client()
    eks.create_cluster(name="hh", roleArn=CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": SUBNETS})
    eks.get_waiter("cluster_active").wait(name="hh")
    for role in (ROLE, OTHER_ROLE):
        local_eks.env.add_role(role, POD_TRUST)
    return eks


def test_association_against_local_eks(run_module, local_eks, local_cluster, api_calls):
    eks = local_cluster
    options = stub_args(endpoint_url=local_eks.url, tags={"team": "platform"})
    first = run_module(module_under_test, options)
    assert not first.get("failed"), first
    assert first["changed"] is True
    [found] = eks.list_pod_identity_associations(clusterName="hh")["associations"]
    assert found["associationId"] == first["association_id"]
    assert first["association_id"].startswith("a-") and len(first["association_id"]) == 19

    api_calls.clear()
    assert run_module(module_under_test, options)["changed"] is False
    assert api_calls == ["ListPodIdentityAssociations", "DescribePodIdentityAssociation"]

    moved = run_module(module_under_test, dict(options, role_arn=OTHER_ROLE))
    assert moved["changed"] is True
    assert eks.describe_pod_identity_association(clusterName="hh", associationId=first["association_id"])[
        "association"]["roleArn"] == OTHER_ROLE

    gone = run_module(module_under_test, dict(options, state="absent"))
    assert gone["changed"] is True
    assert eks.list_pod_identity_associations(clusterName="hh")["associations"] == []


def test_an_add_on_association_is_left_to_the_add_on(run_module, local_eks, local_cluster):
    local_cluster.create_addon(clusterName="hh", addonName="aws-ebs-csi-driver", podIdentityAssociations=[
        {"serviceAccount": "ebs-csi-controller-sa", "roleArn": ROLE}])
    result = run_module(module_under_test, stub_args(namespace="kube-system", service_account="ebs-csi-controller-sa",
                                                     role_arn=OTHER_ROLE, endpoint_url=local_eks.url))
    assert result["failed"] is True
    assert "is owned by arn:aws:eks:us-west-2:123456789012:addon/hh/aws-ebs-csi-driver/" in result["msg"]


def stub_args(**extra):
    base = dict(cluster_name="hh", namespace="external-secrets", service_account="external-secrets", role_arn=ROLE,
                region="us-west-2")
    base.update(extra)
    return base


def summary(**overrides):
    value = {"clusterName": "hh", "namespace": "external-secrets", "serviceAccount": "external-secrets",
             "associationArn": ASSOC_ARN, "associationId": ASSOC_ID}
    value.update(overrides)
    return value


def association(**overrides):
    value = dict(summary(), roleArn=ROLE, tags={}, createdAt=WHEN, modifiedAt=WHEN)
    value.update(overrides)
    return {"association": value}


def test_create_then_no_op(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("list_pod_identity_associations", {"associations": []}, LIST)
    stubber.add_response(
        "create_pod_identity_association", association(tags={"Team": "platform"}),
        dict(LIST, roleArn=ROLE, tags={"Team": "platform"}, clientRequestToken=ANY),
    )
    stubber.add_response("list_pod_identity_associations", {"associations": [summary()]}, LIST)
    stubber.add_response("describe_pod_identity_association", association(tags={"Team": "platform"}),
                         {"clusterName": "hh", "associationId": ASSOC_ID})
    stubber.activate()
    first = run_module(module_under_test, stub_args(tags={"Team": "platform"}, _ansible_diff=True))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["association_id"] == ASSOC_ID
    assert first["role_arn"] == ROLE
    assert first["diff"] == {"before": {}, "after": {"role_arn": ROLE, "tags": {"Team": "platform"}}}
    [token] = [p["clientRequestToken"] for op, p in stub_client.sent if op == "CreatePodIdentityAssociation"]
    assert token.startswith("hh") and len(token) == 64

    del stub_client.sent[:]
    second = run_module(module_under_test, stub_args(tags={"Team": "platform"}))
    assert not second.get("failed"), second
    assert second["changed"] is False
    assert [op for op, _params in stub_client.sent] == ["ListPodIdentityAssociations", "DescribePodIdentityAssociation"]
    stubber.assert_no_pending_responses()


def test_role_updated_in_place(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("list_pod_identity_associations", {"associations": [summary()]}, LIST)
    stubber.add_response("describe_pod_identity_association", association(), {"clusterName": "hh", "associationId": ASSOC_ID})
    stubber.add_response(
        "update_pod_identity_association", association(roleArn=OTHER_ROLE),
        {"clusterName": "hh", "associationId": ASSOC_ID, "roleArn": OTHER_ROLE, "clientRequestToken": ANY},
    )
    stubber.activate()
    result = run_module(module_under_test, stub_args(role_arn=OTHER_ROLE, _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["role_arn"] == OTHER_ROLE
    assert result["association_id"] == ASSOC_ID
    assert result["diff"]["before"]["role_arn"] == ROLE
    stubber.assert_no_pending_responses()


def test_check_mode(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("list_pod_identity_associations", {"associations": []}, LIST)
    stubber.add_response("list_pod_identity_associations", {"associations": [summary()]}, LIST)
    stubber.add_response("describe_pod_identity_association", association(), {"clusterName": "hh", "associationId": ASSOC_ID})
    stubber.activate()
    result = run_module(module_under_test, stub_args(_ansible_check_mode=True))
    assert result["changed"] is True
    assert result["association_id"] is None
    result = run_module(module_under_test, stub_args(role_arn=OTHER_ROLE, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["role_arn"] == OTHER_ROLE
    assert [op for op, _params in stub_client.sent].count("UpdatePodIdentityAssociation") == 0
    stubber.assert_no_pending_responses()


def test_association_owned_by_an_addon_is_not_touched(run_module, stub_client):
    owner = "arn:aws:eks:us-west-2:111122223333:addon/hh/aws-ebs-csi-driver/0123"
    stubber = stub_client("eks")
    stubber.add_response("list_pod_identity_associations", {"associations": [summary(ownerArn=owner)]}, LIST)
    stubber.add_response("describe_pod_identity_association", association(ownerArn=owner), {"clusterName": "hh", "associationId": ASSOC_ID})
    stubber.activate()
    result = run_module(module_under_test, stub_args(role_arn=OTHER_ROLE))
    assert result["failed"] is True
    assert "owned by %s" % owner in result["msg"]
    assert "eks_addon" in result["msg"]


def test_retried_create_picks_up_the_association(run_module, stub_client):
    """A create whose first answer was lost is answered ResourceInUseException on
    the retry: the association made by the first attempt is picked up."""
    stubber = stub_client("eks")
    stubber.add_response("list_pod_identity_associations", {"associations": []}, LIST)
    stubber.add_client_error("create_pod_identity_association", "ResourceInUseException", "Association already exists", 409)
    stubber.add_response("list_pod_identity_associations", {"associations": [summary()]}, LIST)
    stubber.add_response("describe_pod_identity_association", association(), {"clusterName": "hh", "associationId": ASSOC_ID})
    stubber.activate()
    result = run_module(module_under_test, stub_args())
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["association_id"] == ASSOC_ID
    stubber.assert_no_pending_responses()


def test_throttled_list_is_retried(run_module, stub_client, no_sleep):
    stubber = stub_client("eks")
    stubber.add_client_error("list_pod_identity_associations", "ThrottlingException", "Rate exceeded", 429)
    stubber.add_client_error("list_pod_identity_associations", "ServiceUnavailableException", "try again", 503)
    stubber.add_response("list_pod_identity_associations", {"associations": [summary()]}, LIST)
    stubber.add_response("describe_pod_identity_association", association(), {"clusterName": "hh", "associationId": ASSOC_ID})
    stubber.activate()
    result = run_module(module_under_test, stub_args())
    assert not result.get("failed"), result
    assert result["changed"] is False


def test_delete(run_module, stub_client):
    stubber = stub_client("eks")
    stubber.add_response("list_pod_identity_associations", {"associations": [summary()]}, LIST)
    stubber.add_response("describe_pod_identity_association", association(), {"clusterName": "hh", "associationId": ASSOC_ID})
    stubber.add_response("delete_pod_identity_association", association(), {"clusterName": "hh", "associationId": ASSOC_ID})
    stubber.add_response("list_pod_identity_associations", {"associations": []}, LIST)
    stubber.activate()
    result = run_module(module_under_test, stub_args(state="absent", role_arn=None, _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["association_id"] is None
    assert result["diff"]["after"] == {}
    again = run_module(module_under_test, stub_args(state="absent"))
    assert again["changed"] is False
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(namespace="External_Secrets"), "Invalid value for option 'namespace': 'External_Secrets'"),
        (dict(service_account="SA"), "Invalid value for option 'service_account': 'SA'"),
        (dict(role_arn=None), "Option 'role_arn' is required when state is 'present'"),
        (dict(role_arn="arn:aws:iam::111122223333:user/bob"), "Invalid value for option 'role_arn': 'arn:aws:iam::111122223333:user/bob'"),
        (dict(cluster_name="a b"), "Invalid value for option 'cluster_name': 'a b'"),
        (dict(wait_timeout=-1), "Invalid value for option 'wait_timeout': -1"),
        (dict(tags={"aws:x": "1"}), "Invalid value for option 'tags': 'aws:x'"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, local_eks, api_calls, extra, fragment):
    base = stub_args(endpoint_url=local_eks.url, **extra)
    base = {k: v for k, v in base.items() if v is not None}
    result = run_module(module_under_test, base)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
