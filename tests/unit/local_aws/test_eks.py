"""scripts/local_aws/eks.py: the EKS service of the strict local AWS.

boto3 clients talk to LocalEks behind a small HTTP server (eks_harness.LocalEksServer), so
every request is what botocore sends and every answer is parsed as botocore parses AWS's.
Every answer of every test is also checked, raw, against botocore's EKS model (output
shapes, declared error shapes and their HTTP status) when the test ends. Time is the fake
environment's clock: a test moves it with ``env.advance(seconds)``; durations are the
real-AWS figures of ``eks.DURATIONS``.
"""
from __future__ import annotations

import json
import re
import threading
import types

import botocore.waiter
import pytest
from botocore.exceptions import ClientError, WaiterError

import eks_harness as h
from eks_harness import local_eks


@pytest.fixture
def server():
    env = h.FakeEnvironment()
    srv = h.LocalEksServer(env).start()
    yield srv
    srv.stop()
    problems = srv.problems()
    assert problems == [], "answers that do not fit botocore's EKS model:\n" + "\n".join(problems)


@pytest.fixture
def env(server):
    return server.env


@pytest.fixture
def eks(server):
    return server.client()


def subnets(env, vpc="vpc-0aaaaaaaaaaaaaaa1"):
    return env.subnet_ids(vpc)


def error(excinfo):
    err = excinfo.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err


def create_cluster(eks, env, name="hh", wait=True, **extra):
    request = dict(name=name, roleArn=h.CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": subnets(env)})
    request.update(extra)
    cluster = eks.create_cluster(**request)["cluster"]
    if wait:
        env.advance(local_eks.real_seconds("cluster_create"))
    return cluster


def api_cluster(eks, env, name="hh", **extra):
    """An ACTIVE cluster in API authentication mode."""
    extra.setdefault("accessConfig", {"authenticationMode": "API"})
    return create_cluster(eks, env, name, **extra)


def create_nodegroup(eks, env, cluster="hh", name="system", wait=True, **extra):
    request = dict(clusterName=cluster, nodegroupName=name, nodeRole=h.NODE_ROLE, subnets=subnets(env))
    request.update(extra)
    group = eks.create_nodegroup(**request)["nodegroup"]
    if wait:
        env.advance(local_eks.real_seconds("nodegroup_create"))
    return group


def finish(env, kind):
    env.advance(local_eks.real_seconds(kind))


# ------------------------------------------------------------------------ every operation


def test_every_operation_answers_in_the_model_shapes(server, env, eks):
    """One pass through every operation LocalEks implements; the fixture checks each raw
    answer against the model, and this test that none was left out."""
    user = server.client("AKIDUSER")
    eks.create_cluster(name="hh", roleArn=h.CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": subnets(env)},
                       accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"}, tags={"team": "platform"},
                       logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    eks.describe_cluster(name="hh")
    finish(env, "cluster_create")
    eks.list_clusters(maxResults=1)
    arn = eks.describe_cluster(name="hh")["cluster"]["arn"]
    update = eks.update_cluster_config(name="hh", logging={"clusterLogging": [{"types": ["audit"], "enabled": True}]})
    eks.describe_update(name="hh", updateId=update["update"]["id"])
    finish(env, "cluster_config_update")
    eks.list_updates(name="hh")
    eks.update_cluster_version(name="hh", version="1.35")
    finish(env, "cluster_version_update")
    eks.associate_encryption_config(clusterName="hh", encryptionConfig=[{"resources": ["secrets"],
                                                                         "provider": {"keyArn": h.KEY}}])
    finish(env, "cluster_encryption")
    create_nodegroup(eks, env, labels={"pool": "system"}, taints=[{"key": "a", "value": "b", "effect": "NO_SCHEDULE"}])
    eks.list_nodegroups(clusterName="hh")
    eks.list_fargate_profiles(clusterName="hh")
    group = eks.describe_nodegroup(clusterName="hh", nodegroupName="system")["nodegroup"]
    eks.update_nodegroup_config(clusterName="hh", nodegroupName="system", labels={"addOrUpdateLabels": {"x": "y"}})
    finish(env, "nodegroup_config_update")
    eks.update_nodegroup_version(clusterName="hh", nodegroupName="system", releaseVersion="1.35.0-20260101")
    finish(env, "nodegroup_version_update")
    eks.describe_addon_versions(kubernetesVersion="1.35", addonName="vpc-cni")
    eks.create_addon(clusterName="hh", addonName="eks-pod-identity-agent")
    eks.create_addon(clusterName="hh", addonName="aws-ebs-csi-driver", resolveConflicts="OVERWRITE",
                     podIdentityAssociations=[{"serviceAccount": "ebs-csi-controller-sa", "roleArn": h.POD_ROLE}])
    finish(env, "addon_create")
    eks.describe_addon(clusterName="hh", addonName="aws-ebs-csi-driver")
    eks.list_addons(clusterName="hh")
    eks.update_addon(clusterName="hh", addonName="eks-pod-identity-agent", addonVersion="v1.3.9-eksbuild.3")
    finish(env, "addon_update")
    eks.create_access_entry(clusterName="hh", principalArn=h.ADMIN_ROLE, kubernetesGroups=["admins"])
    eks.describe_access_entry(clusterName="hh", principalArn=h.ADMIN_ROLE)
    eks.update_access_entry(clusterName="hh", principalArn=h.ADMIN_ROLE, username="admin:{{SessionName}}")
    eks.list_access_entries(clusterName="hh")
    eks.list_access_policies()
    eks.associate_access_policy(clusterName="hh", principalArn=h.ADMIN_ROLE,
                                policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
                                accessScope={"type": "namespace", "namespaces": ["honeyhive"]})
    eks.list_associated_access_policies(clusterName="hh", principalArn=h.ADMIN_ROLE)
    eks.disassociate_access_policy(clusterName="hh", principalArn=h.ADMIN_ROLE,
                                   policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy")
    association = eks.create_pod_identity_association(clusterName="hh", namespace="ns", serviceAccount="sa",
                                                      roleArn=h.POD_ROLE)["association"]
    eks.describe_pod_identity_association(clusterName="hh", associationId=association["associationId"])
    eks.update_pod_identity_association(clusterName="hh", associationId=association["associationId"],
                                        roleArn=h.POD_ROLE)
    eks.list_pod_identity_associations(clusterName="hh")
    eks.tag_resource(resourceArn=arn, tags={"a": "b"})
    eks.untag_resource(resourceArn=arn, tagKeys=["a"])
    eks.list_tags_for_resource(resourceArn=group["nodegroupArn"])
    eks.delete_pod_identity_association(clusterName="hh", associationId=association["associationId"])
    user.delete_access_entry(clusterName="hh", principalArn=h.ADMIN_ROLE)
    eks.delete_addon(clusterName="hh", addonName="aws-ebs-csi-driver")
    eks.delete_nodegroup(clusterName="hh", nodegroupName="system")
    finish(env, "nodegroup_delete")
    eks.delete_cluster(name="hh")

    seen = {e["operation"] for e in server.exchanges if e["status"] == 200}
    assert set(h.implemented_operations()) - seen == set()
    assert server.problems() == []


def test_an_operation_not_implemented_is_refused_naming_it(eks):
    with pytest.raises(ClientError) as excinfo:
        eks.describe_fargate_profile(clusterName="hh", fargateProfileName="fp")
    code, message, err = error(excinfo)
    assert code == "UnknownOperationException"
    assert "DescribeFargateProfile" in message
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_request_member_not_implemented_is_refused_not_ignored(env, eks):
    with pytest.raises(ClientError) as excinfo:
        eks.create_cluster(name="hh", roleArn=h.CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": subnets(env)},
                           computeConfig={"enabled": True})
    code, message, _ = error(excinfo)
    assert code == "InvalidParameterException"  # CreateCluster does not declare InvalidRequestException
    assert "computeConfig" in message and "not implemented" in message


def test_the_pipeline_always_runs_it_and_leaves_other_services_alone(env):
    strict = h.core.Strict(h.core.Settings("none", seed=1), moto=None)
    strict.add(local_eks.LocalEks(strict, env))
    assert len(strict.active()) == 1
    call = h.core.Call("GET", "/", {}, b"", "sts", "GetCallerIdentity", "query")
    assert strict.before(call) is None


# ------------------------------------------------------------------------ input validation


def test_inputs_are_checked_against_the_model(server, env):
    raw = server.client(validate=False)
    with pytest.raises(ClientError) as excinfo:
        raw.create_cluster(name="hh", roleArn=h.CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": subnets(env)},
                           upgradePolicy={"supportType": "FOREVER"})
    code, message, _ = error(excinfo)
    assert code == "InvalidParameterException"
    assert message == ("1 validation error detected: Value 'FOREVER' at 'upgradePolicy.supportType' failed to "
                       "satisfy constraint: Member must satisfy enum value set: [STANDARD, EXTENDED]")
    with pytest.raises(ClientError) as excinfo:
        raw.list_clusters(maxResults=101)
    assert "Member must have value less than or equal to 100" in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        raw.create_cluster(name="bad name", roleArn=h.CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": subnets(env)})
    assert "regular expression pattern" in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        raw.create_cluster(name="hh", roleArn=h.CLUSTER_ROLE, version="1.29", resourcesVpcConfig={"subnetIds": subnets(env)})
    assert error(excinfo)[1] == "unsupported Kubernetes version"
    with pytest.raises(ClientError) as excinfo:
        raw.create_cluster(name="hh", resourcesVpcConfig={"subnetIds": subnets(env)})
    assert "Value null at 'roleArn' failed to satisfy constraint: Member must not be null" in error(excinfo)[1]


# ------------------------------------------------------------------------ clusters


def test_cluster_stays_creating_for_its_duration_then_is_active(env, eks):
    created = create_cluster(eks, env, wait=False, tags={"Name": "hh"})
    assert created["status"] == "CREATING"
    assert "endpoint" not in created and created["certificateAuthority"] == {}
    assert "identity" not in created
    assert "clusterSecurityGroupId" not in created["resourcesVpcConfig"]
    env.advance(local_eks.real_seconds("cluster_create") - 1)
    assert eks.describe_cluster(name="hh")["cluster"]["status"] == "CREATING"
    env.advance(1)
    cluster = eks.describe_cluster(name="hh")["cluster"]
    assert cluster["status"] == "ACTIVE"
    assert cluster["arn"] == "arn:aws:eks:us-west-2:%s:cluster/hh" % h.ACCOUNT
    assert cluster["version"] == local_eks.DEFAULT_VERSION
    assert cluster["platformVersion"] == local_eks.KUBERNETES_VERSIONS[local_eks.DEFAULT_VERSION]["platform"]
    match = re.match(r"^https://([0-9A-F]{32})\.gr7\.us-west-2\.eks\.amazonaws\.com$", cluster["endpoint"])
    assert match, cluster["endpoint"]
    assert cluster["identity"]["oidc"]["issuer"] == "https://oidc.eks.us-west-2.amazonaws.com/id/%s" % match.group(1)
    assert cluster["certificateAuthority"]["data"].startswith("LS0tLS1CRUdJTi")
    [(group_id, group_name)] = env.created_groups
    assert cluster["resourcesVpcConfig"]["clusterSecurityGroupId"] == group_id
    assert re.match(r"^eks-cluster-sg-hh-\d{10}$", group_name)
    assert cluster["resourcesVpcConfig"]["vpcId"] == "vpc-0aaaaaaaaaaaaaaa1"
    assert cluster["resourcesVpcConfig"]["securityGroupIds"] == []
    assert cluster["resourcesVpcConfig"]["endpointPublicAccess"] is True
    assert cluster["resourcesVpcConfig"]["endpointPrivateAccess"] is False
    assert cluster["resourcesVpcConfig"]["publicAccessCidrs"] == ["0.0.0.0/0"]
    # subnets in 10.0.0.0/8: the service range moves out of the way
    assert cluster["kubernetesNetworkConfig"] == {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"}
    assert cluster["logging"] == {"clusterLogging": [{"types": list(local_eks.LOG_TYPES), "enabled": False}]}
    assert cluster["accessConfig"] == {"bootstrapClusterCreatorAdminPermissions": True, "authenticationMode": "CONFIG_MAP"}
    assert cluster["upgradePolicy"] == {"supportType": "EXTENDED"}
    assert cluster["health"] == {"issues": []}
    assert cluster["tags"] == {"Name": "hh"}
    assert "encryptionConfig" not in cluster


def test_cluster_endpoint_is_the_local_control_plane_when_one_runs(server, env, eks):
    env.kube = ("https://127.0.0.1:6443", "Q0EtREFUQQ==")
    create_cluster(eks, env, resourcesVpcConfig={"subnetIds": subnets(env, "vpc-0bbbbbbbbbbbbbbb2")})
    cluster = eks.describe_cluster(name="hh")["cluster"]
    assert cluster["endpoint"] == "https://127.0.0.1:6443"
    assert cluster["certificateAuthority"] == {"data": "Q0EtREFUQQ=="}
    assert cluster["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "10.100.0.0/16"
    assert server.service.cluster(h.ACCOUNT, h.REGION, "hh")["endpoint"] == "https://127.0.0.1:6443"
    assert server.service.cluster(h.ACCOUNT, h.REGION, "nope") is None


def test_cluster_role_must_exist_be_propagated_and_trust_eks(env, eks):
    expected = ("Role with arn: %s, could not be assumed because it does not exist or the trusted entity is not "
                "correct")
    for role in (h.role_arn("missing"), h.NODE_ROLE):
        with pytest.raises(ClientError) as excinfo:
            create_cluster(eks, env, roleArn=role)
        assert error(excinfo)[:2] == ("InvalidParameterException", expected % role)
    env.unpropagated.add(h.CLUSTER_ROLE)
    with pytest.raises(ClientError) as excinfo:
        create_cluster(eks, env)
    assert error(excinfo)[1] == expected % h.CLUSTER_ROLE
    env.unpropagated.clear()
    assert create_cluster(eks, env)["status"] == "CREATING"


def test_cluster_subnets_and_security_groups_are_checked(env, eks):
    a, b = subnets(env)[:2], subnets(env, "vpc-0bbbbbbbbbbbbbbb2")
    cases = [
        ({"subnetIds": ["subnet-0fffffffffffffff0", a[0]]}, "The subnet ID 'subnet-0fffffffffffffff0' does not exist"),
        ({"subnetIds": [a[0]]}, "Subnets specified must be in at least two different AZs"),
        ({"subnetIds": [a[0], a[0]]}, "Subnets specified must be in at least two different AZs"),
        ({"subnetIds": [a[0], b[1]]}, "Subnets specified must belong to the same VPC"),
        ({"subnetIds": a, "securityGroupIds": ["sg-0000000000000dead"]},
         "The security group 'sg-0000000000000dead' does not exist"),
        ({"subnetIds": a, "securityGroupIds": [env.group_id("vpc-0bbbbbbbbbbbbbbb2")]},
         "are not in the same VPC as the subnets"),
        ({"subnetIds": a, "endpointPublicAccess": False}, "cannot both be disabled"),
        ({"subnetIds": a, "publicAccessCidrs": ["10.0.0.1/8"]}, "The following CIDRs are invalid in publicAccessCidrs"),
    ]
    for vpc, fragment in cases:
        with pytest.raises(ClientError) as excinfo:
            create_cluster(eks, env, resourcesVpcConfig=vpc)
        code, message, _ = error(excinfo)
        assert code == "InvalidParameterException" and fragment in message, (vpc, message)
    assert env.created_groups == []


def test_a_control_plane_subnet_in_an_unsupported_zone_id_is_refused(server, env):
    east = server.client(region="us-east-1")
    ids = subnets(env, "vpc-0ccccccccccccccc3")  # zones a-f; us-east-1e is use1-az3 in this account
    with pytest.raises(ClientError) as excinfo:
        east.create_cluster(name="east", roleArn=h.CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": ids[3:5]})
    code, message, err = error(excinfo)
    assert code == "UnsupportedAvailabilityZoneException"
    assert message == ("Cannot create cluster 'east' because us-east-1e, the targeted availability zone, does not "
                       "currently have sufficient capacity to support the cluster. Retry and choose from these "
                       "availability zones: us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f")
    assert err["validZones"] == ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"]
    assert err["clusterName"] == "east"
    # Letters map to ids per account: the zone id decides, not the name.
    env.subnet_table[ids[4]]["AvailabilityZoneId"] = "use1-az1"
    env.subnet_table[ids[0]]["AvailabilityZoneId"] = "use1-az3"
    assert east.create_cluster(name="east", roleArn=h.CLUSTER_ROLE,
                               resourcesVpcConfig={"subnetIds": ids[3:5]})["cluster"]["status"] == "CREATING"
    assert set(local_eks.UNSUPPORTED_ZONE_IDS) == {"us-east-1", "us-west-1", "ca-central-1"}


def test_cluster_encryption_key_must_exist(env, eks):
    bad = h.KEY.replace("1234abcd", "99999999")
    with pytest.raises(ClientError) as excinfo:
        create_cluster(eks, env, encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": bad}}])
    assert error(excinfo)[:2] == ("InvalidParameterException", "KMS key %s does not exist" % bad)
    cluster = create_cluster(eks, env, encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": h.KEY}}])
    assert cluster["encryptionConfig"] == [{"resources": ["secrets"], "provider": {"keyArn": h.KEY}}]


def test_a_second_cluster_of_the_same_name_is_refused_unless_it_is_the_same_request(env, eks):
    first = create_cluster(eks, env, clientRequestToken="token-1")
    again = eks.create_cluster(name="hh", roleArn=h.CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": subnets(env)},
                               clientRequestToken="token-1")["cluster"]
    assert again["arn"] == first["arn"]
    with pytest.raises(ClientError) as excinfo:
        create_cluster(eks, env, clientRequestToken="token-2")
    code, message, err = error(excinfo)
    assert (code, message, err["clusterName"]) == ("ResourceInUseException", "Cluster already exists with name: hh", "hh")
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_quotas_are_enforced(monkeypatch, env, eks):
    monkeypatch.setattr(local_eks, "MAX_CLUSTERS", 1)
    monkeypatch.setattr(local_eks, "MAX_NODEGROUPS", 1)
    create_cluster(eks, env)
    with pytest.raises(ClientError) as excinfo:
        create_cluster(eks, env, "second")
    code, _, err = error(excinfo)
    assert (code, err["clusterName"]) == ("ResourceLimitExceededException", "second")
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    create_nodegroup(eks, env)
    with pytest.raises(ClientError) as excinfo:
        create_nodegroup(eks, env, name="second")
    assert error(excinfo)[0] == "ResourceLimitExceededException"


def test_unknown_cluster_is_named_as_aws_does(eks):
    with pytest.raises(ClientError) as excinfo:
        eks.describe_cluster(name="nope")
    code, message, err = error(excinfo)
    assert (code, message, err["clusterName"]) == ("ResourceNotFoundException", "No cluster found for name: nope.", "nope")
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_config_map_mode_needs_the_creator_admin(env, eks):
    with pytest.raises(ClientError) as excinfo:
        create_cluster(eks, env, accessConfig={"authenticationMode": "CONFIG_MAP",
                                               "bootstrapClusterCreatorAdminPermissions": False})
    assert error(excinfo)[1] == ("bootstrapClusterCreatorAdminPermissions must be true if cluster authentication "
                                 "mode is set to CONFIG_MAP")


def test_the_creator_gets_a_cluster_admin_entry(server, env, eks):
    create_cluster(eks, env)
    # CONFIG_MAP: the access entry API is closed, the creator is admin all the same
    with pytest.raises(ClientError) as excinfo:
        eks.list_access_entries(clusterName="hh")
    assert error(excinfo)[:2] == ("InvalidRequestException", "The cluster's authentication mode must be set to one "
                                  "of [API, API_AND_CONFIG_MAP] to perform this operation.")
    assumed = "arn:aws:sts::%s:assumed-role/deployer/ansible@ci" % h.ACCOUNT
    access = server.service.access_for(h.ACCOUNT, h.REGION, "hh", assumed)
    assert access == {"username": "arn:aws:sts::%s:assumed-role/deployer/ansible-ci" % h.ACCOUNT, "groups": [],
                      "type": "STANDARD", "policies": [{
                          "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                          "accessScope": {"type": "cluster", "namespaces": []}}]}
    eks.update_cluster_config(name="hh", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    finish(env, "cluster_config_update")
    assert eks.list_access_entries(clusterName="hh")["accessEntries"] == [h.DEPLOY_ROLE]
    entry = eks.describe_access_entry(clusterName="hh", principalArn=h.DEPLOY_ROLE)["accessEntry"]
    assert entry["username"] == "arn:aws:sts::%s:assumed-role/deployer/{{SessionName}}" % h.ACCOUNT
    assert entry["type"] == "STANDARD" and entry["kubernetesGroups"] == []
    assert re.match(r"^arn:aws:eks:us-west-2:%s:access-entry/hh/role/%s/deployer/[0-9a-f-]{36}$"
                    % (h.ACCOUNT, h.ACCOUNT), entry["accessEntryArn"])
    [policy] = eks.list_associated_access_policies(clusterName="hh", principalArn=h.DEPLOY_ROLE)["associatedAccessPolicies"]
    assert policy["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")
    assert policy["accessScope"] == {"type": "cluster", "namespaces": []}
    with pytest.raises(ClientError) as excinfo:
        eks.create_access_entry(clusterName="hh", principalArn=h.DEPLOY_ROLE)
    assert error(excinfo)[:2] == ("ResourceInUseException",
                                  "The specified access entry resource is already in use on this cluster.")
    # without bootstrap, no entry; an IAM user creator gets one under its own ARN
    api_cluster(server.client("AKIDUSER"), env, "by-user")
    assert eks.list_access_entries(clusterName="by-user")["accessEntries"] == [h.USER]
    api_cluster(eks, env, "none", accessConfig={"authenticationMode": "API",
                                                "bootstrapClusterCreatorAdminPermissions": False})
    assert eks.list_access_entries(clusterName="none")["accessEntries"] == []
    assert server.service.access_for(h.ACCOUNT, h.REGION, "none", assumed) is None


def test_cluster_config_update_runs_for_its_duration_one_at_a_time(env, eks):
    create_cluster(eks, env)
    logging = {"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]}
    update = eks.update_cluster_config(name="hh", logging=logging)["update"]
    assert update["status"] == "InProgress" and update["type"] == "LoggingUpdate"
    assert update["params"] == [{"type": "ClusterLogging", "value": json.dumps(logging["clusterLogging"],
                                                                              separators=(",", ":"))}]
    assert update["errors"] == []
    cluster = eks.describe_cluster(name="hh")["cluster"]
    assert cluster["status"] == "UPDATING"
    # the old value until the update is done
    assert cluster["logging"]["clusterLogging"] == [{"types": list(local_eks.LOG_TYPES), "enabled": False}]
    with pytest.raises(ClientError) as excinfo:
        eks.update_cluster_config(name="hh", upgradePolicy={"supportType": "STANDARD"})
    code, message, _ = error(excinfo)
    assert code == "ResourceInUseException"
    assert message == "Cannot UpgradePolicyUpdate because cluster hh currently has update %s in progress" % update["id"]
    with pytest.raises(ClientError) as excinfo:
        eks.update_cluster_version(name="hh", version="1.35")
    assert error(excinfo)[0] == "ResourceInUseException"
    env.advance(local_eks.real_seconds("cluster_config_update") - 1)
    assert eks.describe_update(name="hh", updateId=update["id"])["update"]["status"] == "InProgress"
    env.advance(1)
    assert eks.describe_update(name="hh", updateId=update["id"])["update"]["status"] == "Successful"
    cluster = eks.describe_cluster(name="hh")["cluster"]
    assert cluster["status"] == "ACTIVE"
    assert cluster["logging"]["clusterLogging"] == [
        {"types": ["api", "audit"], "enabled": True},
        {"types": ["authenticator", "controllerManager", "scheduler"], "enabled": False}]
    assert eks.list_updates(name="hh")["updateIds"] == [update["id"]]
    with pytest.raises(ClientError) as excinfo:
        eks.update_cluster_config(name="hh", logging=logging)
    assert error(excinfo)[:2] == ("InvalidParameterException", "No changes needed for the logging config provided")
    with pytest.raises(ClientError) as excinfo:
        eks.update_cluster_config(name="hh", logging={"clusterLogging": []}, upgradePolicy={"supportType": "STANDARD"})
    assert error(excinfo)[1] == "Only one type of update can be allowed."
    with pytest.raises(ClientError) as excinfo:
        eks.describe_update(name="hh", updateId="0b1c2d3e-1111-2222-3333-444455556666")
    assert error(excinfo)[0] == "ResourceNotFoundException"


def test_endpoint_subnet_and_upgrade_policy_updates(env, eks):
    create_cluster(eks, env)
    update = eks.update_cluster_config(name="hh", resourcesVpcConfig={
        "endpointPublicAccess": True, "endpointPrivateAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]})["update"]
    assert update["type"] == "EndpointAccessUpdate"
    assert {p["type"] for p in update["params"]} == {"EndpointPublicAccess", "EndpointPrivateAccess", "PublicAccessCidrs"}
    finish(env, "cluster_config_update")
    vpc = eks.describe_cluster(name="hh")["cluster"]["resourcesVpcConfig"]
    assert (vpc["endpointPrivateAccess"], vpc["publicAccessCidrs"]) == (True, ["203.0.113.0/24"])
    with pytest.raises(ClientError) as excinfo:
        eks.update_cluster_config(name="hh", resourcesVpcConfig={"endpointPrivateAccess": True})
    assert error(excinfo)[1].startswith("Cluster is already at the desired configuration")
    group = env.group_id("vpc-0aaaaaaaaaaaaaaa1")
    update = eks.update_cluster_config(name="hh", resourcesVpcConfig={"subnetIds": subnets(env)[:2],
                                                                      "securityGroupIds": [group]})["update"]
    assert update["type"] == "VpcConfigUpdate"
    finish(env, "cluster_config_update")
    vpc = eks.describe_cluster(name="hh")["cluster"]["resourcesVpcConfig"]
    assert (vpc["subnetIds"], vpc["securityGroupIds"]) == (subnets(env)[:2], [group])
    with pytest.raises(ClientError) as excinfo:
        eks.update_cluster_config(name="hh", resourcesVpcConfig={"subnetIds": subnets(env, "vpc-0bbbbbbbbbbbbbbb2")})
    assert error(excinfo)[0] == "InvalidParameterException"
    assert eks.update_cluster_config(name="hh", upgradePolicy={"supportType": "STANDARD"})["update"]["type"] == \
        "UpgradePolicyUpdate"
    finish(env, "cluster_config_update")
    assert eks.describe_cluster(name="hh")["cluster"]["upgradePolicy"] == {"supportType": "STANDARD"}


def test_authentication_mode_only_moves_one_step_towards_api(env, eks):
    create_cluster(eks, env)
    for mode in ("API", "CONFIG_MAP"):
        with pytest.raises(ClientError) as excinfo:
            eks.update_cluster_config(name="hh", accessConfig={"authenticationMode": mode})
        assert error(excinfo)[:2] == ("InvalidParameterException",
                                      "Unsupported authentication mode update from CONFIG_MAP to %s" % mode)
    for mode in ("API_AND_CONFIG_MAP", "API"):
        update = eks.update_cluster_config(name="hh", accessConfig={"authenticationMode": mode})["update"]
        assert update["type"] == "AccessConfigUpdate"
        assert update["params"] == [{"type": "AuthenticationMode", "value": mode}]
        finish(env, "cluster_config_update")
        assert eks.describe_cluster(name="hh")["cluster"]["accessConfig"]["authenticationMode"] == mode
    with pytest.raises(ClientError) as excinfo:
        eks.update_cluster_config(name="hh", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    assert error(excinfo)[1] == "Unsupported authentication mode update from API to API_AND_CONFIG_MAP"


def test_version_update_is_one_minor_step_up_when_active(env, eks):
    create_cluster(eks, env, version="1.33", wait=False)
    with pytest.raises(ClientError) as excinfo:
        eks.update_cluster_version(name="hh", version="1.34")
    assert error(excinfo)[0] == "ResourceInUseException"  # still CREATING
    finish(env, "cluster_create")
    for version in ("1.35", "1.32", "1.33"):  # a skip, a downgrade, the same version
        with pytest.raises(ClientError) as excinfo:
            eks.update_cluster_version(name="hh", version=version)
        assert error(excinfo)[:2] == ("InvalidParameterException",
                                      "Unsupported Kubernetes minor version update from 1.33 to %s" % version)
    update = eks.update_cluster_version(name="hh", version="1.34", clientRequestToken="up-1")["update"]
    assert update["type"] == "VersionUpdate"
    assert update["params"] == [{"type": "Version", "value": "1.34"},
                                {"type": "PlatformVersion", "value": local_eks.KUBERNETES_VERSIONS["1.34"]["platform"]}]
    # the same request again (a retry, a re-run) is the same update
    assert eks.update_cluster_version(name="hh", version="1.34", clientRequestToken="up-1")["update"]["id"] == update["id"]
    env.advance(local_eks.real_seconds("cluster_version_update") - 1)
    assert eks.describe_cluster(name="hh")["cluster"]["version"] == "1.33"
    env.advance(1)
    cluster = eks.describe_cluster(name="hh")["cluster"]
    assert (cluster["version"], cluster["status"]) == ("1.34", "ACTIVE")
    assert cluster["platformVersion"] == local_eks.KUBERNETES_VERSIONS["1.34"]["platform"]


def test_encryption_is_associated_once(env, eks):
    create_cluster(eks, env)
    config = [{"resources": ["secrets"], "provider": {"keyArn": h.KEY}}]
    update = eks.associate_encryption_config(clusterName="hh", encryptionConfig=config)["update"]
    assert update["type"] == "AssociateEncryptionConfig"
    assert update["params"] == [{"type": "EncryptionConfig", "value": json.dumps(config, separators=(",", ":"))}]
    assert "encryptionConfig" not in eks.describe_cluster(name="hh")["cluster"]
    finish(env, "cluster_encryption")
    assert eks.describe_cluster(name="hh")["cluster"]["encryptionConfig"] == config
    with pytest.raises(ClientError) as excinfo:
        eks.associate_encryption_config(clusterName="hh", encryptionConfig=config)
    assert error(excinfo)[0] == "InvalidRequestException"


def test_cluster_deletion(env, eks):
    create_cluster(eks, env)
    create_nodegroup(eks, env)
    with pytest.raises(ClientError) as excinfo:
        eks.delete_cluster(name="hh")
    code, message, err = error(excinfo)
    assert (code, message) == ("ResourceInUseException", "Cluster has nodegroups attached")
    assert (err["clusterName"], err["nodegroupName"]) == ("hh", "system")
    eks.delete_nodegroup(clusterName="hh", nodegroupName="system")
    finish(env, "nodegroup_delete")
    deleting = eks.delete_cluster(name="hh")["cluster"]
    assert deleting["status"] == "DELETING"
    assert eks.describe_cluster(name="hh")["cluster"]["status"] == "DELETING"
    finish(env, "cluster_delete")
    with pytest.raises(ClientError):
        eks.describe_cluster(name="hh")
    assert env.deleted_groups == [env.created_groups[0][0]]


# ------------------------------------------------------------------------ node groups


def test_nodegroup_transitions_and_aws_shapes(env, eks):
    create_cluster(eks, env)
    created = create_nodegroup(eks, env, wait=False, tags={"Name": "system"})
    assert created["status"] == "CREATING"
    assert "resources" not in created
    env.advance(local_eks.real_seconds("nodegroup_create") - 1)
    assert eks.describe_nodegroup(clusterName="hh", nodegroupName="system")["nodegroup"]["status"] == "CREATING"
    env.advance(1)
    group = eks.describe_nodegroup(clusterName="hh", nodegroupName="system")["nodegroup"]
    assert group["status"] == "ACTIVE"
    assert "taints" not in group  # AWS leaves out taints when there are none
    assert group["labels"] == {} and group["tags"] == {"Name": "system"}
    assert group["updateConfig"] == {"maxUnavailable": 1}
    assert group["scalingConfig"] == {"minSize": 1, "maxSize": 2, "desiredSize": 2}
    assert group["instanceTypes"] == ["t3.medium"] and group["diskSize"] == 20
    assert group["amiType"] == "AL2023_x86_64_STANDARD" and group["capacityType"] == "ON_DEMAND"
    assert group["version"] == local_eks.DEFAULT_VERSION
    assert re.match(r"^%s\.\d+-\d{8}$" % re.escape(local_eks.DEFAULT_VERSION), group["releaseVersion"])
    uid = group["nodegroupArn"].rsplit("/", 1)[1]
    assert group["nodegroupArn"] == "arn:aws:eks:us-west-2:%s:nodegroup/hh/system/%s" % (h.ACCOUNT, uid)
    assert group["resources"] == {"autoScalingGroups": [{"name": "eks-system-%s" % uid}]}
    assert group["health"] == {"issues": []}
    assert "launchTemplate" not in group and "remoteAccess" not in group


def test_nodegroup_with_a_launch_template_has_no_disk_size(env, eks):
    create_cluster(eks, env)
    template = {"name": "system-lt", "version": "1"}
    with pytest.raises(ClientError) as excinfo:
        create_nodegroup(eks, env, launchTemplate=template, diskSize=50)
    assert error(excinfo)[1] == "Disk size must be specified within the launch template."
    group = create_nodegroup(eks, env, launchTemplate=template, amiType="BOTTLEROCKET_x86_64")
    assert "diskSize" not in group and "instanceTypes" not in group
    assert group["launchTemplate"] == template
    assert group["releaseVersion"] == local_eks.KUBERNETES_VERSIONS[local_eks.DEFAULT_VERSION]["bottlerocket"]


def test_nodegroup_creation_is_checked(env, eks):
    create_cluster(eks, env, wait=False, version="1.33")
    with pytest.raises(ClientError) as excinfo:
        create_nodegroup(eks, env)
    assert error(excinfo)[:2] == ("InvalidRequestException", "Cluster 'hh' is not in ACTIVE status")
    finish(env, "cluster_create")
    env.add_role(h.role_arn("bare-node"), h.NODE_TRUST, ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"])
    cases = [
        (dict(nodeRole=h.CLUSTER_ROLE), "Following required service principals [ec2.amazonaws.com] were not found"),
        (dict(nodeRole=h.role_arn("gone")), "could not be assumed"),
        (dict(nodeRole=h.role_arn("bare-node")), "AmazonEC2ContainerRegistryReadOnly"),
        (dict(version="1.34"), "must not be newer than the cluster's version 1.33"),
        (dict(amiType="AL2_x86_64"), "AMI Type AL2_x86_64 is only supported for kubernetes versions 1.32 or earlier"),
        (dict(scalingConfig={"minSize": 3, "maxSize": 4, "desiredSize": 2}),
         "Minimum capacity 3 can't be greater than desired size 2"),
        (dict(scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 3}),
         "Desired capacity 3 can't be greater than max size 2"),
        (dict(updateConfig={"maxUnavailable": 1, "maxUnavailablePercentage": 10}),
         "Exactly one of maxUnavailable and maxUnavailablePercentage"),
        (dict(subnets=subnets(env, "vpc-0bbbbbbbbbbbbbbb2")), "are not in the VPC"),
    ]
    for extra, fragment in cases:
        with pytest.raises(ClientError) as excinfo:
            create_nodegroup(eks, env, **extra)
        code, message, err = error(excinfo)
        assert code == "InvalidParameterException" and fragment in message, (extra, message)
        assert err["nodegroupName"] == "system"
    create_nodegroup(eks, env)
    with pytest.raises(ClientError) as excinfo:
        create_nodegroup(eks, env)
    assert error(excinfo)[:2] == ("ResourceInUseException", "NodeGroup already exists with name system and cluster "
                                  "name hh")
    with pytest.raises(ClientError) as excinfo:
        eks.describe_nodegroup(clusterName="hh", nodegroupName="nope")
    assert error(excinfo)[:2] == ("ResourceNotFoundException", "No node group found for name: nope.")


def test_nodegroup_config_update_labels_taints_scaling_update_config(env, eks):
    create_cluster(eks, env)
    create_nodegroup(eks, env, labels={"pool": "system", "old": "1"})
    update = eks.update_nodegroup_config(
        clusterName="hh", nodegroupName="system",
        labels={"addOrUpdateLabels": {"tier": "a"}, "removeLabels": ["old"]},
        taints={"addOrUpdateTaints": [{"key": "dedicated", "value": "system", "effect": "NO_SCHEDULE"}]},
        scalingConfig={"minSize": 2, "maxSize": 4, "desiredSize": 3},
        updateConfig={"maxUnavailablePercentage": 25})["update"]
    assert update["type"] == "ConfigUpdate"
    assert {p["type"] for p in update["params"]} == {"LabelsToAdd", "LabelsToRemove", "TaintsToAdd", "MinSize",
                                                      "MaxSize", "DesiredSize", "MaxUnavailablePercentage"}
    group = eks.describe_nodegroup(clusterName="hh", nodegroupName="system")["nodegroup"]
    assert group["status"] == "UPDATING" and "taints" not in group
    with pytest.raises(ClientError) as excinfo:
        eks.update_nodegroup_config(clusterName="hh", nodegroupName="system", labels={"addOrUpdateLabels": {"x": "y"}})
    assert error(excinfo)[0] == "ResourceInUseException"
    assert eks.describe_update(name="hh", updateId=update["id"], nodegroupName="system")["update"]["status"] == "InProgress"
    finish(env, "nodegroup_config_update")
    assert eks.describe_update(name="hh", updateId=update["id"], nodegroupName="system")["update"]["status"] == "Successful"
    assert eks.list_updates(name="hh", nodegroupName="system")["updateIds"] == [update["id"]]
    assert eks.list_updates(name="hh")["updateIds"] == []
    group = eks.describe_nodegroup(clusterName="hh", nodegroupName="system")["nodegroup"]
    assert group["status"] == "ACTIVE"
    assert group["labels"] == {"pool": "system", "tier": "a"}
    assert group["taints"] == [{"key": "dedicated", "value": "system", "effect": "NO_SCHEDULE"}]
    assert group["scalingConfig"] == {"minSize": 2, "maxSize": 4, "desiredSize": 3}
    assert group["updateConfig"] == {"maxUnavailablePercentage": 25}
    eks.update_nodegroup_config(clusterName="hh", nodegroupName="system",
                                taints={"removeTaints": [{"key": "dedicated", "value": "system", "effect": "NO_SCHEDULE"}]})
    finish(env, "nodegroup_config_update")
    assert "taints" not in eks.describe_nodegroup(clusterName="hh", nodegroupName="system")["nodegroup"]
    with pytest.raises(ClientError) as excinfo:
        eks.update_nodegroup_config(clusterName="hh", nodegroupName="system", scalingConfig={"maxSize": 2})
    assert error(excinfo)[1] == "Desired capacity 3 can't be greater than max size 2"
    with pytest.raises(ClientError) as excinfo:
        eks.update_nodegroup_config(clusterName="hh", nodegroupName="system")
    assert error(excinfo)[0] == "InvalidParameterException"


def test_nodegroup_version_update(env, eks):
    create_cluster(eks, env, version="1.33")
    create_nodegroup(eks, env)
    eks.update_cluster_version(name="hh", version="1.34")
    finish(env, "cluster_version_update")
    with pytest.raises(ClientError) as excinfo:
        eks.update_nodegroup_version(clusterName="hh", nodegroupName="system", version="1.35")
    assert error(excinfo)[0] == "InvalidParameterException"
    update = eks.update_nodegroup_version(clusterName="hh", nodegroupName="system", version="1.34")["update"]
    assert update["type"] == "VersionUpdate"
    assert [p["type"] for p in update["params"]] == ["Version", "ReleaseVersion"]
    assert eks.describe_nodegroup(clusterName="hh", nodegroupName="system")["nodegroup"]["version"] == "1.33"
    finish(env, "nodegroup_version_update")
    group = eks.describe_nodegroup(clusterName="hh", nodegroupName="system")["nodegroup"]
    assert (group["version"], group["status"]) == ("1.34", "ACTIVE")
    assert group["releaseVersion"].startswith(local_eks.KUBERNETES_VERSIONS["1.34"]["patch"])


def test_nodegroup_deletion(env, eks):
    create_cluster(eks, env)
    create_nodegroup(eks, env)
    assert eks.delete_nodegroup(clusterName="hh", nodegroupName="system")["nodegroup"]["status"] == "DELETING"
    assert eks.list_nodegroups(clusterName="hh")["nodegroups"] == ["system"]
    finish(env, "nodegroup_delete")
    assert eks.list_nodegroups(clusterName="hh")["nodegroups"] == []


def test_a_cluster_has_no_fargate_profiles_and_an_unknown_one_is_not_found(env, eks):
    create_cluster(eks, env)
    assert eks.list_fargate_profiles(clusterName="hh")["fargateProfileNames"] == []
    with pytest.raises(ClientError) as error:
        eks.list_fargate_profiles(clusterName="nope")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


# ------------------------------------------------------------------------ add-ons


def test_addon_versions_catalogue(eks):
    pages = list(eks.get_paginator("describe_addon_versions").paginate(kubernetesVersion="1.34",
                                                                       PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    addons = [a for page in pages for a in page["addons"]]
    assert sorted(a["addonName"] for a in addons) == sorted(local_eks.ADDON_CATALOGUE)
    for addon in addons:
        defaults = [v["addonVersion"] for v in addon["addonVersions"]
                    for c in v["compatibilities"] if c["defaultVersion"]]
        assert len(defaults) == 1, addon["addonName"]
        assert all(c["clusterVersion"] == "1.34" for v in addon["addonVersions"] for c in v["compatibilities"])
        assert (addon["owner"], addon["publisher"]) == ("aws", "eks")
    [proxy] = eks.describe_addon_versions(kubernetesVersion="1.33", addonName="kube-proxy")["addons"]
    assert [v["addonVersion"] for v in proxy["addonVersions"]] == ["v1.33.5-eksbuild.2", "v1.33.3-eksbuild.4"]
    assert proxy["type"] == "networking"
    for k8s in local_eks.KUBERNETES_VERSIONS:
        for name in local_eks.ADDON_CATALOGUE:
            found = eks.describe_addon_versions(kubernetesVersion=k8s, addonName=name)["addons"]
            flags = [c["defaultVersion"] for v in found[0]["addonVersions"] for c in v["compatibilities"]]
            assert flags.count(True) == 1, (k8s, name)
    assert eks.describe_addon_versions(addonName="no-such-addon")["addons"] == []


def test_addon_lifecycle(server, env, eks):
    create_cluster(eks, env, version="1.33", bootstrapSelfManagedAddons=False)
    with pytest.raises(ClientError) as excinfo:
        eks.create_addon(clusterName="hh", addonName="coredns", addonVersion="v1.13.1-eksbuild.1")
    assert error(excinfo)[:2] == ("InvalidParameterException", "Addon version specified is not supported")
    with pytest.raises(ClientError) as excinfo:
        eks.create_addon(clusterName="hh", addonName="coredns", configurationValues="[1, 2]")
    assert error(excinfo)[1].startswith("ConfigurationValue provided in request is not supported")
    addon = eks.create_addon(clusterName="hh", addonName="coredns", configurationValues="replicaCount: 3\n")["addon"]
    assert addon["status"] == "CREATING"
    assert addon["addonVersion"] == local_eks.DEFAULT_ADDON_VERSIONS["coredns"]["1.33"]
    assert addon["configurationValues"] == "replicaCount: 3\n"
    assert re.match(r"^arn:aws:eks:us-west-2:%s:addon/hh/coredns/[0-9a-f-]{36}$" % h.ACCOUNT, addon["addonArn"])
    assert addon["tags"] == {} and addon["health"] == {"issues": []} and "serviceAccountRoleArn" not in addon
    with pytest.raises(ClientError) as excinfo:
        eks.create_addon(clusterName="hh", addonName="coredns")
    assert error(excinfo)[0] == "ResourceInUseException"
    finish(env, "addon_create")
    assert eks.describe_addon(clusterName="hh", addonName="coredns")["addon"]["status"] == "ACTIVE"
    update = eks.update_addon(clusterName="hh", addonName="coredns", addonVersion="v1.12.2-eksbuild.4",
                              configurationValues="", resolveConflicts="OVERWRITE")["update"]
    assert update["type"] == "AddonUpdate"
    assert [p["type"] for p in update["params"]] == ["AddonVersion", "ResolveConflicts", "ConfigurationValues"]
    assert eks.describe_addon(clusterName="hh", addonName="coredns")["addon"]["status"] == "UPDATING"
    finish(env, "addon_update")
    assert eks.describe_update(name="hh", updateId=update["id"], addonName="coredns")["update"]["status"] == "Successful"
    addon = eks.describe_addon(clusterName="hh", addonName="coredns")["addon"]
    assert (addon["status"], addon["addonVersion"]) == ("ACTIVE", "v1.12.2-eksbuild.4")
    assert "configurationValues" not in addon
    with pytest.raises(ClientError) as excinfo:
        eks.update_addon(clusterName="hh", addonName="coredns", addonVersion="v1.11.4-eksbuild.24")
    assert error(excinfo)[0] == "InvalidParameterException"  # no downgrade
    assert eks.delete_addon(clusterName="hh", addonName="coredns")["addon"]["status"] == "DELETING"
    finish(env, "addon_delete")
    with pytest.raises(ClientError) as excinfo:
        eks.describe_addon(clusterName="hh", addonName="coredns")
    assert error(excinfo)[:2] == ("ResourceNotFoundException", "No addon: coredns found in cluster: hh")


def test_addon_over_a_self_managed_one_fails_without_overwrite(env, eks):
    create_cluster(eks, env)  # bootstrapSelfManagedAddons defaults to true
    eks.create_addon(clusterName="hh", addonName="vpc-cni")
    eks.create_addon(clusterName="hh", addonName="kube-proxy", resolveConflicts="OVERWRITE")
    finish(env, "addon_create")
    failed = eks.describe_addon(clusterName="hh", addonName="vpc-cni")["addon"]
    assert failed["status"] == "CREATE_FAILED"
    assert failed["health"]["issues"][0]["code"] == "ConfigurationConflict"
    assert eks.describe_addon(clusterName="hh", addonName="kube-proxy")["addon"]["status"] == "ACTIVE"


def test_addon_pod_identity_associations(env, eks):
    create_cluster(eks, env)
    other = h.role_arn("ebs-csi-2")
    env.add_role(other, h.POD_TRUST)
    addon = eks.create_addon(clusterName="hh", addonName="aws-ebs-csi-driver", podIdentityAssociations=[
        {"serviceAccount": "ebs-csi-controller-sa", "roleArn": h.POD_ROLE}])["addon"]
    [arn] = addon["podIdentityAssociations"]
    [summary] = eks.list_pod_identity_associations(clusterName="hh")["associations"]
    assert summary["associationArn"] == arn and summary["ownerArn"] == addon["addonArn"]
    assert (summary["namespace"], summary["serviceAccount"]) == ("kube-system", "ebs-csi-controller-sa")
    with pytest.raises(ClientError) as excinfo:
        eks.delete_pod_identity_association(clusterName="hh", associationId=summary["associationId"])
    assert error(excinfo)[0] == "InvalidRequestException"
    finish(env, "addon_create")
    eks.update_addon(clusterName="hh", addonName="aws-ebs-csi-driver", podIdentityAssociations=[
        {"serviceAccount": "ebs-csi-controller-sa", "roleArn": other}])
    finish(env, "addon_update")
    found = eks.describe_pod_identity_association(clusterName="hh", associationId=summary["associationId"])["association"]
    assert found["roleArn"] == other
    eks.delete_addon(clusterName="hh", addonName="aws-ebs-csi-driver")
    finish(env, "addon_delete")
    assert eks.list_pod_identity_associations(clusterName="hh")["associations"] == []


# ------------------------------------------------------------------------ access entries


def test_access_entries_need_an_api_mode_and_an_existing_principal(env, eks):
    api_cluster(eks, env)
    cases = [
        (dict(principalArn=h.role_arn("nobody")), "does not exist"),
        (dict(principalArn="arn:aws:sts::%s:assumed-role/deployer/s" % h.ACCOUNT), "is invalid"),
        (dict(principalArn=h.NODE_ROLE, type="EC2_LINUX", kubernetesGroups=["x"]), "only be specified"),
        (dict(principalArn=h.NODE_ROLE, type="LINUX"), "The type LINUX is invalid"),
        (dict(principalArn=h.ADMIN_ROLE, username="system:admin"), "username cannot"),
        (dict(principalArn=h.ADMIN_ROLE, username="admin{{SessionName}}"), "colon before"),
    ]
    for extra, fragment in cases:
        with pytest.raises(ClientError) as excinfo:
            eks.create_access_entry(clusterName="hh", **extra)
        code, message, _ = error(excinfo)
        assert code == "InvalidParameterException" and fragment in message, (extra, message)
    with pytest.raises(ClientError) as excinfo:
        eks.describe_access_entry(clusterName="hh", principalArn=h.ADMIN_ROLE)
    assert error(excinfo)[:2] == ("ResourceNotFoundException", "The specified principalArn could not be found. You can "
                                  "view your available access entries with 'list-access-entries'.")


def test_access_entry_types_usernames_and_policies(server, env, eks):
    api_cluster(eks, env)
    admin = eks.create_access_entry(clusterName="hh", principalArn=h.ADMIN_ROLE, kubernetesGroups=["b", "a"],
                                    tags={"team": "platform"})["accessEntry"]
    # the role's path is not part of the username
    assert admin["username"] == "arn:aws:sts::%s:assumed-role/platform-admin/{{SessionName}}" % h.ACCOUNT
    assert admin["kubernetesGroups"] == ["a", "b"] and admin["type"] == "STANDARD"
    user = eks.create_access_entry(clusterName="hh", principalArn=h.USER)["accessEntry"]
    assert user["username"] == h.USER and "/user/%s/alice/" % h.ACCOUNT in user["accessEntryArn"]
    node_role = h.role_arn("karpenter-node")
    env.add_role(node_role, h.NODE_TRUST, h.NODE_POLICIES)
    node = eks.create_access_entry(clusterName="hh", principalArn=node_role, type="EC2_LINUX")["accessEntry"]
    assert node["username"] == "system:node:{{EC2PrivateDNSName}}" and node["kubernetesGroups"] == ["system:nodes"]
    view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    with pytest.raises(ClientError) as excinfo:
        eks.associate_access_policy(clusterName="hh", principalArn=node_role, policyArn=view,
                                    accessScope={"type": "cluster"})
    assert error(excinfo)[1] == 'This operation can only be performed on Access Entries with a type of "STANDARD".'
    for scope, fragment in (({"type": "namespace"}, "namespaces must be specified"),
                            ({"type": "cluster", "namespaces": ["a"]}, "namespaces cannot be specified")):
        with pytest.raises(ClientError) as excinfo:
            eks.associate_access_policy(clusterName="hh", principalArn=h.ADMIN_ROLE, policyArn=view, accessScope=scope)
        assert fragment in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        eks.associate_access_policy(clusterName="hh", principalArn=h.ADMIN_ROLE, accessScope={"type": "cluster"},
                                    policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSGodPolicy")
    assert error(excinfo)[0] == "InvalidParameterException"
    answer = eks.associate_access_policy(clusterName="hh", principalArn=h.ADMIN_ROLE, policyArn=view,
                                         accessScope={"type": "namespace", "namespaces": ["honeyhive"]})
    assert answer["associatedAccessPolicy"]["accessScope"] == {"type": "namespace", "namespaces": ["honeyhive"]}
    # associating again changes the scope
    eks.associate_access_policy(clusterName="hh", principalArn=h.ADMIN_ROLE, policyArn=view,
                                accessScope={"type": "cluster"})
    [policy] = eks.list_associated_access_policies(clusterName="hh", principalArn=h.ADMIN_ROLE)["associatedAccessPolicies"]
    assert policy["accessScope"] == {"type": "cluster", "namespaces": []}
    assert eks.list_access_entries(clusterName="hh", associatedPolicyArn=view)["accessEntries"] == [h.ADMIN_ROLE]
    access = server.service.access_for(h.ACCOUNT, h.REGION, "hh",
                                       "arn:aws:sts::%s:assumed-role/platform-admin/alice@example.com" % h.ACCOUNT)
    assert access["username"] == "arn:aws:sts::%s:assumed-role/platform-admin/alice-example.com" % h.ACCOUNT
    assert access["groups"] == ["a", "b"] and access["policies"][0]["policyArn"] == view
    eks.update_access_entry(clusterName="hh", principalArn=h.ADMIN_ROLE, username="admin:{{SessionNameRaw}}",
                            kubernetesGroups=[])
    access = server.service.access_for(h.ACCOUNT, h.REGION, "hh",
                                       "arn:aws:sts::%s:assumed-role/platform-admin/alice@example.com" % h.ACCOUNT)
    assert (access["username"], access["groups"]) == ("admin:alice@example.com", [])
    with pytest.raises(ClientError) as excinfo:
        eks.update_access_entry(clusterName="hh", principalArn=node_role, username="x:y")
    assert error(excinfo)[0] == "InvalidParameterException"
    eks.disassociate_access_policy(clusterName="hh", principalArn=h.ADMIN_ROLE, policyArn=view)
    with pytest.raises(ClientError) as excinfo:
        eks.disassociate_access_policy(clusterName="hh", principalArn=h.ADMIN_ROLE, policyArn=view)
    assert error(excinfo)[0] == "ResourceNotFoundException"
    eks.delete_access_entry(clusterName="hh", principalArn=h.ADMIN_ROLE)
    assert h.ADMIN_ROLE not in eks.list_access_entries(clusterName="hh")["accessEntries"]
    names = [p["name"] for p in eks.list_access_policies()["accessPolicies"]]
    for name in ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSEditPolicy", "AmazonEKSViewPolicy"):
        assert name in names


def test_a_managed_nodegroup_role_gets_its_node_entry(env, eks):
    api_cluster(eks, env)
    create_nodegroup(eks, env)
    entry = eks.describe_access_entry(clusterName="hh", principalArn=h.NODE_ROLE)["accessEntry"]
    assert (entry["type"], entry["username"]) == ("EC2_LINUX", "system:node:{{EC2PrivateDNSName}}")


# ------------------------------------------------------------------------ pod identity


def test_pod_identity_associations(env, eks):
    create_cluster(eks, env)
    association = eks.create_pod_identity_association(clusterName="hh", namespace="external-secrets",
                                                      serviceAccount="external-secrets", roleArn=h.POD_ROLE,
                                                      tags={"team": "platform"})["association"]
    assert re.match(r"^a-[a-z0-9]{17}$", association["associationId"])
    assert association["associationArn"] == "arn:aws:eks:us-west-2:%s:podidentityassociation/hh/%s" % (
        h.ACCOUNT, association["associationId"])
    assert "ownerArn" not in association and association["tags"] == {"team": "platform"}
    with pytest.raises(ClientError) as excinfo:
        eks.create_pod_identity_association(clusterName="hh", namespace="external-secrets",
                                            serviceAccount="external-secrets", roleArn=h.POD_ROLE)
    assert error(excinfo)[0] == "ResourceInUseException"
    with pytest.raises(ClientError) as excinfo:
        eks.create_pod_identity_association(clusterName="hh", namespace="a", serviceAccount="b",
                                            roleArn=h.role_arn("nobody"))
    assert error(excinfo)[0] == "InvalidParameterException"
    eks.create_pod_identity_association(clusterName="hh", namespace="karpenter", serviceAccount="karpenter",
                                        roleArn=h.POD_ROLE)
    listed = eks.list_pod_identity_associations(clusterName="hh", namespace="karpenter")["associations"]
    assert [a["serviceAccount"] for a in listed] == ["karpenter"]
    assert eks.list_pod_identity_associations(clusterName="hh", serviceAccount="nope")["associations"] == []
    other = h.role_arn("external-secrets-2")
    env.add_role(other, h.POD_TRUST)
    updated = eks.update_pod_identity_association(clusterName="hh", associationId=association["associationId"],
                                                  roleArn=other)["association"]
    assert updated["roleArn"] == other
    eks.delete_pod_identity_association(clusterName="hh", associationId=association["associationId"])
    with pytest.raises(ClientError) as excinfo:
        eks.describe_pod_identity_association(clusterName="hh", associationId=association["associationId"])
    assert error(excinfo)[0] == "ResourceNotFoundException"


def test_only_one_of_concurrent_creates_wins(server, env):
    create_cluster(server.client(), env)
    results = []

    def create():
        try:
            server.client().create_pod_identity_association(clusterName="hh", namespace="ns", serviceAccount="sa",
                                                            roleArn=h.POD_ROLE)
            results.append("created")
        except ClientError as exc:
            results.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == ["ResourceInUseException"] * 5 + ["created"]


# ------------------------------------------------------------------------ pagination, tags, accounts


def test_lists_paginate(server, env, eks):
    for index in range(5):
        create_cluster(eks, env, "c%d" % index, wait=False)
    pages = list(eks.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 2}))
    assert [p["clusters"] for p in pages] == [["c0", "c1"], ["c2", "c3"], ["c4"]]
    assert "nextToken" not in pages[-1]
    with pytest.raises(ClientError) as excinfo:
        eks.list_clusters(nextToken="garbage")
    assert error(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        eks.list_access_policies(nextToken="garbage")
    assert error(excinfo)[0] == "InvalidParameterException"
    policies = [p for page in eks.get_paginator("list_access_policies").paginate(PaginationConfig={"PageSize": 5})
                for p in page["accessPolicies"]]
    assert len(policies) == len(local_eks.ACCESS_POLICIES)
    # accounts and regions are apart
    assert server.client("AKIDOTHER").list_clusters()["clusters"] == []
    assert server.client(region="eu-west-1").list_clusters()["clusters"] == []


def test_tags_on_every_taggable_resource(env, eks):
    api_cluster(eks, env)
    group = create_nodegroup(eks, env)
    addon = eks.create_addon(clusterName="hh", addonName="eks-pod-identity-agent")["addon"]
    entry = eks.create_access_entry(clusterName="hh", principalArn=h.ADMIN_ROLE)["accessEntry"]
    association = eks.create_pod_identity_association(clusterName="hh", namespace="n", serviceAccount="s",
                                                      roleArn=h.POD_ROLE)["association"]
    arns = [eks.describe_cluster(name="hh")["cluster"]["arn"], group["nodegroupArn"], addon["addonArn"],
            entry["accessEntryArn"], association["associationArn"]]
    for arn in arns:
        eks.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
        eks.untag_resource(resourceArn=arn, tagKeys=["a"])
        assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}, arn
    assert eks.describe_nodegroup(clusterName="hh", nodegroupName="system")["nodegroup"]["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as excinfo:
        eks.tag_resource(resourceArn=arns[0], tags={"aws:x": "y"})
    assert error(excinfo)[0] == "BadRequestException"
    with pytest.raises(ClientError) as excinfo:
        eks.list_tags_for_resource(resourceArn=arns[0].replace("cluster/hh", "cluster/nope"))
    code, _, err = error(excinfo)
    assert code == "NotFoundException" and err["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as excinfo:
        eks.list_tags_for_resource(resourceArn="not-an-arn")
    assert error(excinfo)[0] == "BadRequestException"
    # tags can change while the cluster is updating
    eks.update_cluster_config(name="hh", upgradePolicy={"supportType": "STANDARD"})
    eks.tag_resource(resourceArn=arns[0], tags={"c": "3"})


# ------------------------------------------------------------------------ waiters


@pytest.fixture
def waiter_clock(monkeypatch, env):
    """botocore's waiters sleep on the fake clock: a poll interval passes in no time."""
    monkeypatch.setattr(botocore.waiter, "time", types.SimpleNamespace(sleep=env.advance))


def test_waiters(waiter_clock, env, eks):
    create_cluster(eks, env, wait=False)
    start = env.now()
    eks.get_waiter("cluster_active").wait(name="hh")
    assert local_eks.real_seconds("cluster_create") <= env.now() - start < local_eks.real_seconds("cluster_create") + 31
    create_nodegroup(eks, env, wait=False)
    eks.get_waiter("nodegroup_active").wait(clusterName="hh", nodegroupName="system")
    eks.create_addon(clusterName="hh", addonName="eks-pod-identity-agent")
    eks.get_waiter("addon_active").wait(clusterName="hh", addonName="eks-pod-identity-agent")
    eks.delete_addon(clusterName="hh", addonName="eks-pod-identity-agent")
    eks.get_waiter("addon_deleted").wait(clusterName="hh", addonName="eks-pod-identity-agent")
    eks.delete_nodegroup(clusterName="hh", nodegroupName="system")
    eks.get_waiter("nodegroup_deleted").wait(clusterName="hh", nodegroupName="system")
    eks.delete_cluster(name="hh")
    eks.get_waiter("cluster_deleted").wait(name="hh")


def test_a_waiter_gives_up_as_it_would_on_aws(waiter_clock, env, eks):
    """cluster_active polls 40 times every 30 s: a cluster that takes longer times it out."""
    env.scale = 0.5  # creation takes twice the real figure: 1200 s
    create_cluster(eks, env, wait=False)
    with pytest.raises(WaiterError):
        eks.get_waiter("cluster_active").wait(name="hh", WaiterConfig={"Delay": 30, "MaxAttempts": 10})
    eks.get_waiter("cluster_active").wait(name="hh")


def test_the_shape_check_catches_answers_outside_the_model():
    """The check every test ends with can fail: members, types, enums and undeclared errors."""
    def exchange(operation, status, body, code=None):
        return {"operation": operation, "status": status, "code": code, "body": json.dumps(body).encode()}

    assert h.shape_problems(exchange("DescribeCluster", 200, {"cluster": {"name": "hh", "status": "ACTIVE"}})) == []
    problems = h.shape_problems(exchange("DescribeCluster", 200, {"cluster": {
        "name": 7, "status": "RUNNING", "nodes": 3, "createdAt": "yesterday", "tags": {"a": 1}}}))
    assert len(problems) == 5, problems
    assert h.shape_problems(exchange("DescribeCluster", 400, {"message": "x"}, "ResourceInUseException")) == [
        "error code 'ResourceInUseException' is not declared for DescribeCluster (ClientException, "
        "ResourceNotFoundException, ServerException, ServiceUnavailableException)"]
    assert h.shape_problems(exchange("DescribeCluster", 400, {"message": "x"}, "ResourceNotFoundException")) == [
        "ResourceNotFoundException has HTTP status 404 in the model, answered 400"]
