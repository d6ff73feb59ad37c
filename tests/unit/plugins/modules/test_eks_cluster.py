"""honeyhive.platform.eks_cluster.

Create, describe, idempotence, updates (logging, authentication mode, version,
encryption), tags and deletion run against the local EKS service
(scripts/local_aws/eks.py, the ``local_eks`` fixture), which answers as EKS does: a
cluster stays CREATING, and each update InProgress, for its duration on its clock. The
exact requests, updates that fail and answers EKS gives in other states are checked
with botocore's Stubber on the real EKS service model.
"""
from __future__ import annotations

import datetime
import uuid

import pytest
from botocore.stub import ANY

from ansible_collections.honeyhive.platform.plugins.modules import eks_cluster

ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
NODE_ROLE = "arn:aws:iam::123456789012:role/eks-node"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "arn:aws:kms:us-west-2:123456789012:key/99999999-12ab-34cd-56ef-1234567890ab"
MUTATING = ("Create", "Update", "Delete", "Associate", "Tag", "Untag")


@pytest.fixture
def eks(local_eks, eks_clock):
    return local_eks.client()


@pytest.fixture
def name():
    return "hh-test-%s" % uuid.uuid4().hex[:10]


def args(local_eks, name, **extra):
    base = dict(name=name, role_arn=ROLE, subnet_ids=list(SUBNETS), endpoint_url=local_eks.url, region="us-west-2")
    base.update(extra)
    return base


def stub_args(name, **extra):
    base = dict(name=name, role_arn=ROLE, subnet_ids=list(SUBNETS), region="us-west-2")
    base.update(extra)
    return base


def described(name, **overrides):
    """A DescribeCluster answer as real EKS gives it (all fields reported)."""
    cluster = {
        "name": name,
        "arn": "arn:aws:eks:us-west-2:111122223333:cluster/%s" % name,
        "createdAt": datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc),
        "version": "1.32",
        "endpoint": "https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com",
        "roleArn": ROLE,
        "resourcesVpcConfig": {
            "subnetIds": list(SUBNETS),
            "securityGroupIds": [],
            "clusterSecurityGroupId": "sg-0aaaaaaaaaaaaaaaa",
            "vpcId": "vpc-0123456789abcdef0",
            "endpointPublicAccess": True,
            "endpointPrivateAccess": False,
            "publicAccessCidrs": ["0.0.0.0/0"],
        },
        "logging": {"clusterLogging": [{"types": ["api", "audit", "authenticator", "controllerManager", "scheduler"], "enabled": False}]},
        "identity": {"oidc": {"issuer": "https://oidc.eks.us-west-2.amazonaws.com/id/ABCDEF0123456789"}},
        "status": "ACTIVE",
        "certificateAuthority": {"data": "LS0tLS1CRUdJTi0tLS0t"},
        "platformVersion": "eks.5",
        "tags": {"Name": name},
        "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": False},
        "upgradePolicy": {"supportType": "STANDARD"},
    }
    for key, value in overrides.items():
        if value is None:
            cluster.pop(key, None)
        else:
            cluster[key] = value
    return {"cluster": cluster}


def update_answer(update_id, kind, status="InProgress"):
    return {"update": {"id": update_id, "type": kind, "status": status, "params": [], "errors": [],
                       "createdAt": datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)}}


def tokens(sent, operation):
    return [params["clientRequestToken"] for op, params in sent if op == operation]


# ------------------------------------------------------------ local EKS


def test_create_then_idempotent(run_module, eks, local_eks, name, api_calls):
    tags = {"Name": name, "Environment": "test"}
    extra = dict(
        version="1.32", endpoint_public_access=True, endpoint_private_access=True, logging=["api", "audit"],
        secrets_encryption_kms_key_arn=KEY, authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False,
        bootstrap_self_managed_addons=False, upgrade_policy="STANDARD", tags=tags,
    )
    first = run_module(eks_cluster, args(local_eks, name, _ansible_diff=True, **extra))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["diff"]["before"] == {}
    assert first["diff"]["after"]["version"] == "1.32"

    cluster = eks.describe_cluster(name=name)["cluster"]
    assert first["arn"] == cluster["arn"]
    assert first["status"] == "ACTIVE"
    assert first["version"] == cluster["version"] == "1.32"
    assert first["endpoint"] == cluster["endpoint"]
    assert first["certificate_authority_data"] == cluster["certificateAuthority"]["data"]
    assert first["oidc_issuer"] == cluster["identity"]["oidc"]["issuer"]
    assert first["cluster_security_group_id"] == cluster["resourcesVpcConfig"]["clusterSecurityGroupId"]
    assert cluster["resourcesVpcConfig"]["subnetIds"] == SUBNETS
    assert cluster["encryptionConfig"] == [{"resources": ["secrets"], "provider": {"keyArn": KEY}}]
    assert first["secrets_encryption_kms_key_arn"] == KEY
    assert first["logging"] == ["api", "audit"]
    assert first["access_config"] == {"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False}
    assert first["upgrade_policy"] == "STANDARD"
    assert cluster["tags"] == tags
    # the create call carried a token derived from the name
    assert cluster["clientRequestToken"].startswith("hh") and len(cluster["clientRequestToken"]) == 64
    # no creator access entry was asked for
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == []

    api_calls.clear()
    second = run_module(eks_cluster, args(local_eks, name, **extra))
    assert not second.get("failed"), second
    assert second["changed"] is False
    assert second["updates"] == []
    assert api_calls == ["DescribeCluster"]


def test_logging_and_tags_update(run_module, eks, local_eks, name):
    run_module(eks_cluster, args(local_eks, name, logging=["api"], tags={"Old": "1"}))
    result = run_module(
        eks_cluster, args(local_eks, name, logging=["audit", "scheduler"], tags={"New": "2"}, _ansible_diff=True)
    )
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["diff"]["before"]["logging"] == ["api"]
    assert result["diff"]["after"]["logging"] == ["audit", "scheduler"]
    assert result["tags"] == {"New": "2"}
    [update] = result["updates"]
    assert (update["type"], update["status"]) == ("LoggingUpdate", "Successful")
    assert eks.describe_update(name=name, updateId=update["id"])["update"]["status"] == "Successful"
    cluster = eks.describe_cluster(name=name)["cluster"]
    assert cluster["tags"] == {"New": "2"}
    enabled = [t for s in cluster["logging"]["clusterLogging"] if s["enabled"] for t in s["types"]]
    assert sorted(enabled) == ["audit", "scheduler"]
    again = run_module(eks_cluster, args(local_eks, name, logging=["scheduler", "audit"], tags={"New": "2"}))
    assert again["changed"] is False


def test_authentication_mode_and_version_steps(run_module, eks, local_eks, name):
    """CONFIG_MAP -> API is two AccessConfigUpdates, then the version one minor up: each
    update waited for before the next, as EKS takes one at a time."""
    run_module(eks_cluster, args(local_eks, name, version="1.32"))
    result = run_module(eks_cluster, args(local_eks, name, version="1.33", authentication_mode="API",
                                          upgrade_policy="STANDARD", secrets_encryption_kms_key_arn=KEY))
    assert not result.get("failed"), result
    assert [u["type"] for u in result["updates"]] == [
        "AssociateEncryptionConfig", "AccessConfigUpdate", "AccessConfigUpdate", "UpgradePolicyUpdate", "VersionUpdate"]
    assert all(u["status"] == "Successful" for u in result["updates"])
    cluster = eks.describe_cluster(name=name)["cluster"]
    assert (cluster["version"], cluster["status"]) == ("1.33", "ACTIVE")
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    assert cluster["encryptionConfig"][0]["provider"]["keyArn"] == KEY
    assert result["version"] == "1.33" and result["upgrade_policy"] == "STANDARD"
    # the creator's admin entry, made at creation, shows once access entries are on
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == ["arn:aws:iam::123456789012:role/deployer"]


def test_check_mode(run_module, eks, local_eks, name, api_calls):
    result = run_module(eks_cluster, args(local_eks, name, version="1.32", _ansible_check_mode=True, _ansible_diff=True))
    assert result["changed"] is True
    assert result["arn"] is None
    assert result["diff"]["after"]["subnet_ids"] == SUBNETS
    assert not any(call.startswith(MUTATING) for call in api_calls)
    assert name not in eks.list_clusters()["clusters"]

    run_module(eks_cluster, args(local_eks, name, logging=[]))
    api_calls.clear()
    result = run_module(eks_cluster, args(local_eks, name, logging=["api"], tags={"A": "b"}, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["logging"] == ["api"]
    assert result["tags"] == {"A": "b"}
    assert api_calls == ["DescribeCluster"]
    cluster = eks.describe_cluster(name=name)["cluster"]
    assert cluster["tags"] == {}

    result = run_module(eks_cluster, args(local_eks, name, state="absent", _ansible_check_mode=True))
    assert result["changed"] is True
    assert name in eks.list_clusters()["clusters"]


def test_delete(run_module, eks, local_eks, name):
    run_module(eks_cluster, args(local_eks, name))
    result = run_module(eks_cluster, dict(name=name, state="absent", endpoint_url=local_eks.url, region="us-west-2", _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["status"] is None
    assert result["diff"]["after"] == {}
    assert name not in eks.list_clusters()["clusters"]
    again = run_module(eks_cluster, dict(name=name, state="absent", endpoint_url=local_eks.url, region="us-west-2"))
    assert again["changed"] is False


def test_delete_with_node_groups_names_the_way_out(run_module, eks, local_eks, name):
    run_module(eks_cluster, args(local_eks, name))
    eks.create_nodegroup(clusterName=name, nodegroupName="ng", nodeRole=NODE_ROLE, subnets=SUBNETS)
    result = run_module(eks_cluster, dict(name=name, state="absent", endpoint_url=local_eks.url, region="us-west-2"))
    assert result["failed"] is True
    assert "delete its node groups first" in result["msg"]
    assert "Cluster has nodegroups attached" in result["msg"]


def test_a_control_plane_subnet_eks_refuses_fails_with_eks_message(run_module, local_eks, name):
    result = run_module(eks_cluster, args(local_eks, name, subnet_ids=[SUBNETS[0], "subnet-0fffffffffffffff0"]))
    assert result["failed"] is True
    assert "The subnet ID 'subnet-0fffffffffffffff0' does not exist" in result["msg"]


# -------------------------------------------------------------- Stubber


def test_create_request_on_the_real_model_then_wait_for_active(run_module, stub_client, no_sleep):
    """Stubber: the full CreateCluster request (accessConfig, upgradePolicy,
    bootstrapSelfManagedAddons), then DescribeCluster until ACTIVE."""
    name = "hh-create"
    stubber = stub_client("eks")
    stubber.add_client_error("describe_cluster", "ResourceNotFoundException", "No cluster found", 404)
    stubber.add_response(
        "create_cluster", described(name, status="CREATING"),
        {
            "name": name, "version": "1.33", "roleArn": ROLE, "clientRequestToken": ANY,
            "resourcesVpcConfig": {"subnetIds": SUBNETS, "endpointPublicAccess": False, "endpointPrivateAccess": True},
            "logging": {"clusterLogging": [{"types": ["api", "audit"], "enabled": True},
                                           {"types": ["authenticator", "controllerManager", "scheduler"], "enabled": False}]},
            "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": KEY}}],
            "accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False},
            "bootstrapSelfManagedAddons": False,
            "upgradePolicy": {"supportType": "STANDARD"},
            "tags": {"Name": name},
        },
    )
    stubber.add_response("describe_cluster", described(name, status="CREATING"), {"name": name})
    stubber.add_response("describe_cluster", described(name, version="1.33", accessConfig={"authenticationMode": "API"}), {"name": name})
    stubber.activate()
    result = run_module(eks_cluster, stub_args(
        name, version="1.33", endpoint_public_access=False, endpoint_private_access=True, logging=["api", "audit"],
        secrets_encryption_kms_key_arn=KEY, authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False,
        bootstrap_self_managed_addons=False, upgrade_policy="STANDARD", tags={"Name": name},
    ))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["status"] == "ACTIVE"
    assert result["access_config"] == {"authentication_mode": "API"}
    assert result["cluster_security_group_id"] == "sg-0aaaaaaaaaaaaaaaa"
    stubber.assert_no_pending_responses()


def test_version_upgrade_one_minor_waits_for_the_update(run_module, stub_client, no_sleep):
    """Stubber (EKS service model): 1.32 -> 1.33 is one UpdateClusterVersion
    with a token derived from the name, then DescribeUpdate until Successful."""
    name = "hh-upgrade"
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", described(name), {"name": name})
    stubber.add_response(
        "update_cluster_version", update_answer("u-1", "VersionUpdate"),
        {"name": name, "version": "1.33", "clientRequestToken": ANY},
    )
    stubber.add_response("describe_update", update_answer("u-1", "VersionUpdate"), {"name": name, "updateId": "u-1"})
    stubber.add_response("describe_update", update_answer("u-1", "VersionUpdate", "Successful"), {"name": name, "updateId": "u-1"})
    stubber.add_response("describe_cluster", described(name, version="1.33", platformVersion="eks.1"), {"name": name})
    stubber.activate()
    result = run_module(eks_cluster, stub_args(name, version="1.33", _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["version"] == "1.33"
    assert result["platform_version"] == "eks.1"
    assert result["updates"] == [{"id": "u-1", "type": "VersionUpdate", "status": "Successful"}]
    assert result["diff"]["before"]["version"] == "1.32"
    assert result["diff"]["after"]["version"] == "1.33"
    stubber.assert_no_pending_responses()
    [token] = tokens(stub_client.sent, "UpdateClusterVersion")
    assert token.startswith("hh") and len(token) == 64


def test_version_update_token_is_stable_across_runs(run_module, stub_client, no_sleep):
    """Stubber: a re-run of an interrupted upgrade sends the same token."""
    name = "hh-token"
    stubber = stub_client("eks")
    for _attempt in range(2):
        stubber.add_response("describe_cluster", described(name), {"name": name})
        stubber.add_response(
            "update_cluster_version", update_answer("u-1", "VersionUpdate"),
            {"name": name, "version": "1.33", "clientRequestToken": ANY},
        )
    stubber.activate()
    for _attempt in range(2):
        result = run_module(eks_cluster, stub_args(name, version="1.33", wait=False))
        assert result["changed"] is True
        assert result["updates"] == [{"id": "u-1", "type": "VersionUpdate", "status": "InProgress"}]
    first, second = tokens(stub_client.sent, "UpdateClusterVersion")
    assert first == second
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "current, wanted, fragments",
    [
        ("1.31", "1.33", ["'1.33'", "runs Kubernetes 1.31", "1.31 -> 1.33 is not allowed", "next allowed version is 1.32"]),
        ("1.33", "1.32", ["'1.32'", "runs Kubernetes 1.33", "cannot downgrade"]),
    ],
)
def test_version_skip_or_downgrade_refused_before_any_update(run_module, stub_client, current, wanted, fragments):
    """Stubber: only DescribeCluster is answered, so any update call would fail
    the test; the refusal names both versions and the next allowed one."""
    name = "hh-skip"
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", described(name, version=current), {"name": name})
    stubber.activate()
    # logging would change too: the refusal still comes before any update
    result = run_module(eks_cluster, stub_args(name, version=wanted, logging=["api"]))
    assert result["failed"] is True
    for fragment in fragments:
        assert fragment in result["msg"]
    stubber.assert_no_pending_responses()
    assert [op for op, _params in stub_client.sent] == ["DescribeCluster"]


def test_config_updates_run_one_at_a_time(run_module, stub_client, no_sleep):
    """Stubber: endpoint access, logging, authentication mode and upgrade policy
    drift are four UpdateClusterConfig calls (EKS takes one kind per update),
    each waited for before the next; the version upgrade comes last."""
    name = "hh-config"
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", described(name), {"name": name})
    expected = [
        ({"resourcesVpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True}}, "EndpointAccessUpdate"),
        ({"logging": {"clusterLogging": [{"types": ["api", "audit"], "enabled": True},
                                         {"types": ["authenticator", "controllerManager", "scheduler"], "enabled": False}]}},
         "LoggingUpdate"),
        ({"accessConfig": {"authenticationMode": "API"}}, "AccessConfigUpdate"),
        ({"upgradePolicy": {"supportType": "EXTENDED"}}, "UpgradePolicyUpdate"),
    ]
    for index, (request, kind) in enumerate(expected):
        update_id = "u-%d" % index
        stubber.add_response(
            "update_cluster_config", update_answer(update_id, kind), dict(request, name=name, clientRequestToken=ANY)
        )
        stubber.add_response("describe_update", update_answer(update_id, kind, "Successful"), {"name": name, "updateId": update_id})
        stubber.add_response("describe_cluster", described(name), {"name": name})
    stubber.add_response(
        "update_cluster_version", update_answer("u-v", "VersionUpdate"), {"name": name, "version": "1.33", "clientRequestToken": ANY}
    )
    stubber.add_response("describe_update", update_answer("u-v", "VersionUpdate", "Successful"), {"name": name, "updateId": "u-v"})
    final = described(
        name, version="1.33", logging={"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]},
        accessConfig={"authenticationMode": "API"}, upgradePolicy={"supportType": "EXTENDED"},
    )
    final["cluster"]["resourcesVpcConfig"].update(endpointPublicAccess=False, endpointPrivateAccess=True)
    stubber.add_response("describe_cluster", final, {"name": name})
    stubber.activate()
    result = run_module(
        eks_cluster,
        stub_args(
            name, version="1.33", endpoint_public_access=False, endpoint_private_access=True, public_access_cidrs=["0.0.0.0/0"],
            logging=["audit", "api"], authentication_mode="API", upgrade_policy="EXTENDED", tags={"Name": name},
        ),
    )
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert [u["type"] for u in result["updates"]] == [kind for _request, kind in expected] + ["VersionUpdate"]
    assert result["access_config"]["authentication_mode"] == "API"
    assert result["endpoint_public_access"] is False
    assert result["logging"] == ["api", "audit"]
    stubber.assert_no_pending_responses()
    assert len(set(tokens(stub_client.sent, "UpdateClusterConfig"))) == 4


def test_subnets_and_security_groups_are_one_vpc_update(run_module, stub_client, no_sleep):
    """Stubber: new subnets are sent together with the current security groups."""
    name = "hh-vpc"
    stubber = stub_client("eks")
    current = described(name)
    current["cluster"]["resourcesVpcConfig"]["securityGroupIds"] = ["sg-0bbbbbbbbbbbbbbbb"]
    stubber.add_response("describe_cluster", current, {"name": name})
    new_subnets = SUBNETS + ["subnet-0123456789abcdef2"]
    stubber.add_response(
        "update_cluster_config", update_answer("u-1", "VpcConfigUpdate"),
        {"name": name, "clientRequestToken": ANY,
         "resourcesVpcConfig": {"subnetIds": new_subnets, "securityGroupIds": ["sg-0bbbbbbbbbbbbbbbb"]}},
    )
    stubber.activate()
    result = run_module(eks_cluster, stub_args(name, subnet_ids=new_subnets, wait=False))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["subnet_ids"] == new_subnets
    stubber.assert_no_pending_responses()


def test_lists_left_out_of_the_answer_count_as_empty(run_module, stub_client, no_sleep):
    """Stubber: security groups, public access CIDRs and log setups EKS leaves out are
    compared as empty lists, so the requested ones are applied."""
    name = "hh-absent"
    current = described(name, logging=None)
    for key in ("securityGroupIds", "publicAccessCidrs"):
        del current["cluster"]["resourcesVpcConfig"][key]
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", current, {"name": name})
    for index, (request, kind) in enumerate([
        ({"resourcesVpcConfig": {"subnetIds": SUBNETS, "securityGroupIds": ["sg-0bbbbbbbbbbbbbbbb"]}}, "VpcConfigUpdate"),
        ({"resourcesVpcConfig": {"publicAccessCidrs": ["203.0.113.0/24"]}}, "EndpointAccessUpdate"),
        ({"logging": {"clusterLogging": [{"types": ["api"], "enabled": True},
                                         {"types": ["audit", "authenticator", "controllerManager", "scheduler"],
                                          "enabled": False}]}}, "LoggingUpdate"),
    ]):
        update_id = "u-%d" % index
        stubber.add_response("update_cluster_config", update_answer(update_id, kind),
                             dict(request, name=name, clientRequestToken=ANY))
        stubber.add_response("describe_update", update_answer(update_id, kind, "Successful"),
                             {"name": name, "updateId": update_id})
        stubber.add_response("describe_cluster", current, {"name": name})
    stubber.activate()
    result = run_module(eks_cluster, stub_args(name, security_group_ids=["sg-0bbbbbbbbbbbbbbbb"],
                                               public_access_cidrs=["203.0.113.0/24"], logging=["api"]))
    assert not result.get("failed"), result
    assert [u["type"] for u in result["updates"]] == ["VpcConfigUpdate", "EndpointAccessUpdate", "LoggingUpdate"]
    stubber.assert_no_pending_responses()


def test_encryption_associated_on_existing_cluster(run_module, stub_client, no_sleep):
    """Stubber: the AssociateEncryptionConfig request, then DescribeUpdate."""
    name = "hh-encrypt"
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", described(name), {"name": name})
    stubber.add_response(
        "associate_encryption_config", update_answer("u-e", "AssociateEncryptionConfig"),
        {"clusterName": name, "clientRequestToken": ANY,
         "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": KEY}}]},
    )
    stubber.add_response("describe_update", update_answer("u-e", "AssociateEncryptionConfig", "Successful"), {"name": name, "updateId": "u-e"})
    stubber.add_response(
        "describe_cluster", described(name, encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": KEY}}]), {"name": name}
    )
    stubber.activate()
    result = run_module(eks_cluster, stub_args(name, secrets_encryption_kms_key_arn=KEY))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["secrets_encryption_kms_key_arn"] == KEY
    assert result["encryption_config"] == [{"resources": ["secrets"], "key_arn": KEY}]
    stubber.assert_no_pending_responses()


def test_encryption_key_change_refused(run_module, stub_client):
    """Stubber: EKS cannot change or remove secrets encryption; say so."""
    name = "hh-encrypt2"
    stubber = stub_client("eks")
    stubber.add_response(
        "describe_cluster", described(name, encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": KEY}}]), {"name": name}
    )
    stubber.activate()
    result = run_module(eks_cluster, stub_args(name, secrets_encryption_kms_key_arn=OTHER_KEY))
    assert result["failed"] is True
    assert "Invalid value for option 'secrets_encryption_kms_key_arn'" in result["msg"]
    assert KEY in result["msg"]
    assert "cannot change or remove" in result["msg"]
    stubber.assert_no_pending_responses()


def test_authentication_mode_only_moves_towards_api(run_module, stub_client):
    """Stubber: API -> API_AND_CONFIG_MAP is refused before any call."""
    name = "hh-auth"
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", described(name, accessConfig={"authenticationMode": "API"}), {"name": name})
    stubber.activate()
    result = run_module(eks_cluster, stub_args(name, authentication_mode="API_AND_CONFIG_MAP"))
    assert result["failed"] is True
    assert "Invalid value for option 'authentication_mode': 'API_AND_CONFIG_MAP'" in result["msg"]
    assert "never back" in result["msg"]
    stubber.assert_no_pending_responses()


def test_config_map_cluster_steps_through_api_and_config_map(run_module, stub_client, no_sleep):
    """Stubber: CONFIG_MAP -> API is two updates, in the order EKS allows."""
    name = "hh-auth2"
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", described(name, accessConfig={"authenticationMode": "CONFIG_MAP"}), {"name": name})
    stubber.add_response(
        "update_cluster_config", update_answer("u-1", "AccessConfigUpdate"),
        {"name": name, "clientRequestToken": ANY, "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"}},
    )
    stubber.add_response("describe_update", update_answer("u-1", "AccessConfigUpdate", "Successful"), {"name": name, "updateId": "u-1"})
    stubber.add_response("describe_cluster", described(name), {"name": name})
    stubber.add_response(
        "update_cluster_config", update_answer("u-2", "AccessConfigUpdate"),
        {"name": name, "clientRequestToken": ANY, "accessConfig": {"authenticationMode": "API"}},
    )
    stubber.activate()
    result = run_module(eks_cluster, stub_args(name, authentication_mode="API", wait=False))
    assert not result.get("failed"), result
    assert [u["id"] for u in result["updates"]] == ["u-1", "u-2"]
    assert result["access_config"]["authentication_mode"] == "API"
    stubber.assert_no_pending_responses()


def test_role_change_refused(run_module, stub_client):
    name = "hh-role"
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", described(name), {"name": name})
    stubber.activate()
    result = run_module(eks_cluster, stub_args(name, role_arn="arn:aws:iam::123456789012:role/other"))
    assert result["failed"] is True
    assert "Invalid value for option 'role_arn'" in result["msg"]
    assert ROLE in result["msg"]


def test_failed_update_reports_the_eks_errors(run_module, stub_client, no_sleep):
    name = "hh-fail"
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", described(name), {"name": name})
    stubber.add_response(
        "update_cluster_version", update_answer("u-1", "VersionUpdate"), {"name": name, "version": "1.33", "clientRequestToken": ANY}
    )
    failed = update_answer("u-1", "VersionUpdate", "Failed")
    failed["update"]["errors"] = [{"errorCode": "AccessDenied", "errorMessage": "role cannot be assumed", "resourceIds": []}]
    stubber.add_response("describe_update", failed, {"name": name, "updateId": "u-1"})
    stubber.activate()
    result = run_module(eks_cluster, stub_args(name, version="1.33"))
    assert result["failed"] is True
    assert "u-1" in result["msg"] and "Failed" in result["msg"]
    assert "AccessDenied: role cannot be assumed" in result["msg"]


def test_update_waits_for_an_update_in_progress_first(run_module, stub_client, no_sleep):
    """Stubber: a cluster still UPDATING is waited for, then planned again (the
    finished update already made the change, so nothing is sent)."""
    name = "hh-busy"
    stubber = stub_client("eks")
    stubber.add_response("describe_cluster", described(name, status="UPDATING"), {"name": name})
    stubber.add_response("describe_cluster", described(name, status="UPDATING"), {"name": name})
    stubber.add_response("describe_cluster", described(name, version="1.33"), {"name": name})
    stubber.activate()
    result = run_module(eks_cluster, stub_args(name, version="1.33"))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["version"] == "1.33"
    stubber.assert_no_pending_responses()


def test_throttling_and_server_errors_are_retried(run_module, stub_client, no_sleep):
    """Stubber: ThrottlingException and EKS's ServerException (HTTP 500) are retried."""
    name = "hh-retry"
    stubber = stub_client("eks")
    stubber.add_client_error("describe_cluster", "ThrottlingException", http_status_code=429)
    stubber.add_client_error("describe_cluster", "ServerException", http_status_code=500)
    stubber.add_response("describe_cluster", described(name), {"name": name})
    stubber.activate()
    result = run_module(eks_cluster, stub_args(name, version="1.32"))
    assert not result.get("failed"), result
    assert result["changed"] is False
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(name="-bad"), "Invalid value for option 'name': '-bad'"),
        (dict(version="1.3"), "Invalid value for option 'version': '1.3'. Allowed: a Kubernetes minor version such as '1.33'"),
        (dict(version="1.33.1"), "Invalid value for option 'version': '1.33.1'"),
        (dict(role_arn=None), "Option 'role_arn' is required when state is 'present'"),
        (dict(role_arn="eks-role"), "Invalid value for option 'role_arn': 'eks-role'"),
        (dict(subnet_ids=["subnet-0123456789abcdef0"]), "Allowed: at least two subnets in different availability zones"),
        (dict(subnet_ids=["subnet-1", "subnet-2"]), "Invalid value for option 'subnet_ids': 'subnet-1'"),
        (dict(security_group_ids=["default"]), "Invalid value for option 'security_group_ids': 'default'"),
        (dict(public_access_cidrs=["10.0.0.0"]), "Invalid value for option 'public_access_cidrs': '10.0.0.0'"),
        (dict(endpoint_public_access=False, endpoint_private_access=False), "Invalid value for option 'endpoint_public_access': False"),
        (dict(secrets_encryption_kms_key_arn="arn:aws:kms:us-west-2:123456789012:alias/eks"), "not an alias"),
        (dict(logging=["api", "kubelet"]), "logging"),
        (dict(authentication_mode="CONFIG_MAP"), "authentication_mode"),
        (dict(wait_timeout=-1), "Invalid value for option 'wait_timeout': -1"),
        (dict(tags={"aws:x": "y"}), "Invalid value for option 'tags': 'aws:x'"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, local_eks, api_calls, extra, fragment):
    base = args(local_eks, "hh-bad")
    base.update(extra)
    base = {k: v for k, v in base.items() if v is not None}
    result = run_module(eks_cluster, base)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
