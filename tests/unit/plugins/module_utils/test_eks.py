"""Unit tests for plugins/module_utils/eks.py (the token itself: test_eks_token.py)."""
from __future__ import annotations

import time

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.honeyhive.platform.plugins.module_utils import eks

class FakeModule:
    def __init__(self, check_mode=False, **params):
        self.params = dict(wait_timeout=30)
        self.params.update(params)
        self.check_mode = check_mode

    def fail_json(self, **kwargs):
        raise RuntimeError(kwargs["msg"])

    def fail_json_aws(self, exc, msg):
        raise RuntimeError("%s: %s" % (msg, exc))


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda seconds: None)


# ------------------------------------------------------------- kubeconfig


def test_build_kubeconfig_with_an_exec_plugin_and_no_credential():
    config = eks.build_kubeconfig("hh", "https://example.eks.amazonaws.com", "Q0E=",
                                  ["/usr/bin/python3", "/c/eks_token.py", "--cluster-name", "hh", "--region", "us-west-2"],
                                  {"AWS_PROFILE": "p", "AWS_CONFIG_FILE": "/s/hh.config"})
    assert config["apiVersion"] == "v1" and config["kind"] == "Config"
    assert config["clusters"] == [{"name": "hh", "cluster": {"server": "https://example.eks.amazonaws.com",
                                                             "certificate-authority-data": "Q0E="}}]
    assert config["users"] == [{"name": "hh", "user": {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "/usr/bin/python3",
        "args": ["/c/eks_token.py", "--cluster-name", "hh", "--region", "us-west-2"],
        "env": [{"name": "AWS_CONFIG_FILE", "value": "/s/hh.config"}, {"name": "AWS_PROFILE", "value": "p"}],
        "interactiveMode": "Never", "provideClusterInfo": False}}}]
    assert config["contexts"] == [{"name": "hh", "context": {"cluster": "hh", "user": "hh"}}]
    assert config["current-context"] == "hh"
    assert "env" not in eks.build_kubeconfig("hh", "https://e", "Q0E=", ["aws", "eks", "get-token"])["users"][0]["user"]["exec"]


# --------------------------------------------------------------- versions


@pytest.mark.parametrize("text, parsed", [("1.33", (1, 33)), ("1.9", None), ("1.3", None), ("1.33.0", None), ("2.0", None), (None, None)])
def test_parse_version(text, parsed):
    assert eks.parse_version(text) == parsed


def test_version_steps():
    assert eks.version_step_error("c", "1.32", "1.33") is None
    assert eks.version_step_error("c", "1.33", "1.33") is None
    skip = eks.version_step_error("c", "1.31", "1.33")
    assert "1.31 -> 1.33 is not allowed" in skip and "next allowed version is 1.32" in skip
    assert "cannot downgrade" in eks.version_step_error("c", "1.33", "1.32")
    assert eks.version_step_error("c", "1.99", "1.100") is None  # unknown forms are left to EKS


def test_check_version_message():
    with pytest.raises(RuntimeError) as err:
        eks.check_version(FakeModule(version="1.3"))
    assert "Invalid value for option 'version': '1.3'" in str(err.value)
    assert "quote it in YAML" in str(err.value)


# ----------------------------------------------------------------- tokens


def test_request_token_is_deterministic_and_ignores_the_token_field():
    a = eks.request_token("UpdateClusterConfig", "hh", {"logging": {"x": 1}}, {"before": 1})
    assert a == eks.request_token("UpdateClusterConfig", "hh", {"logging": {"x": 1}, "clientRequestToken": "zzz"}, {"before": 1})
    assert a != eks.request_token("UpdateClusterConfig", "hh", {"logging": {"x": 2}}, {"before": 1})
    assert a != eks.request_token("UpdateClusterConfig", "hh", {"logging": {"x": 1}}, {"before": 2})
    assert a != eks.request_token("UpdateClusterConfig", "other", {"logging": {"x": 1}}, {"before": 1})
    assert len(a) == 64


# --------------------------------------------------------- waits and tags


def _update(status, errors=None):
    return {"update": {"id": "u-1", "status": status, "type": "VersionUpdate", "errors": errors or []}}


def test_wait_update_polls_until_successful(aws_env, no_sleep):
    from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
    from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retry_decorator

    raw = boto3.client("eks", region_name="us-west-2")
    stubber = Stubber(raw)
    stubber.add_response("describe_update", _update("InProgress"), {"name": "c", "updateId": "u-1"})
    stubber.add_client_error("describe_update", "ServerException", http_status_code=500)
    stubber.add_response("describe_update", _update("Successful"), {"name": "c", "updateId": "u-1"})
    stubber.activate()
    client = RetryingBotoClientWrapper(raw, retry_decorator(extra_codes=eks.EKS_RETRY_CODES))
    final = eks.wait_update(FakeModule(), client, _update("InProgress")["update"], "cluster c", "c")
    assert final["status"] == "Successful"
    stubber.assert_no_pending_responses()
    # no update id: nothing to wait on here
    assert eks.wait_update(FakeModule(), client, {}, "cluster c", "c") is None
    # an answer that is already final costs no call
    assert eks.wait_update(FakeModule(), client, _update("Successful")["update"], "cluster c", "c")["status"] == "Successful"


def test_wait_update_failure_names_the_errors(aws_env, no_sleep):
    raw = boto3.client("eks", region_name="us-west-2")
    failed = _update("Failed", [{"errorCode": "AccessDenied", "errorMessage": "no", "resourceIds": []}])["update"]
    with pytest.raises(RuntimeError) as err:
        eks.wait_update(FakeModule(), raw, failed, "cluster c", "c")
    assert "ended Failed: AccessDenied: no" in str(err.value)


def test_wait_status_timeout_names_the_option(no_sleep):
    with pytest.raises(RuntimeError) as err:
        eks.wait_status(FakeModule(wait_timeout=0), lambda: {"status": "CREATING"}, "cluster c to be ACTIVE",
                        lambda c: c["status"] == "ACTIVE")
    assert "option 'wait_timeout'" in str(err.value)
    assert "last status CREATING" in str(err.value)


def test_ensure_tags(aws_env):
    from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
    from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retry_decorator

    raw = boto3.client("eks", region_name="us-west-2")
    client = RetryingBotoClientWrapper(raw, retry_decorator())
    stubber = Stubber(raw)
    stubber.add_response("untag_resource", {}, {"resourceArn": "arn", "tagKeys": ["Old"]})
    stubber.add_response("tag_resource", {}, {"resourceArn": "arn", "tags": {"New": "1"}})
    stubber.activate()
    changed, tags = eks.ensure_tags(FakeModule(), client, "arn", {"Old": "x", "Keep": "k"}, {"Keep": "k", "New": 1}, True, "thing")
    assert changed is True and tags == {"Keep": "k", "New": "1"}
    stubber.assert_no_pending_responses()
    # nothing to do, no call; check mode, no call; tags not managed, no call
    assert eks.ensure_tags(FakeModule(), client, "arn", {"A": "1"}, {"A": "1"}, True, "thing") == (False, {"A": "1"})
    assert eks.ensure_tags(FakeModule(check_mode=True), client, "arn", {}, {"A": "1"}, True, "thing") == (True, {"A": "1"})
    assert eks.ensure_tags(FakeModule(), client, "arn", {"A": "1"}, None, True, "thing") == (False, {"A": "1"})
    assert eks.ensure_tags(FakeModule(check_mode=True), client, "arn", {"A": "1"}, {"B": "2"}, False, "thing")[1] == {"A": "1", "B": "2"}


@pytest.fixture
def stubbed_eks(aws_env):
    from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
    from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retry_decorator

    raw = boto3.client("eks", region_name="us-west-2")
    stubber = Stubber(raw)
    stubber.activate()
    yield RetryingBotoClientWrapper(raw, retry_decorator(extra_codes=eks.EKS_RETRY_CODES)), stubber
    stubber.assert_no_pending_responses()


def _cluster(status):
    return {"cluster": {"name": "hh", "status": status}}


def test_call_when_ready_waits_once_for_a_busy_cluster(stubbed_eks, no_sleep):
    client, stubber = stubbed_eks
    request = {"clusterName": "hh", "principalArn": "arn:aws:iam::111122223333:role/x"}
    stubber.add_client_error("delete_access_entry", "ResourceInUseException", "busy", 409, expected_params=request)
    stubber.add_response("describe_cluster", _cluster("UPDATING"), {"name": "hh"})
    stubber.add_response("describe_cluster", _cluster("ACTIVE"), {"name": "hh"})
    stubber.add_response("delete_access_entry", {}, request)
    module = FakeModule(cluster_name="hh", wait=True)
    assert eks.call_when_ready(module, client, client.delete_access_entry, "delete it", **request) == {}


def test_call_when_ready_not_found_and_recover(stubbed_eks):
    client, stubber = stubbed_eks
    request = {"clusterName": "hh", "principalArn": "arn:aws:iam::111122223333:role/x"}
    module = FakeModule(cluster_name="hh", wait=False)
    stubber.add_client_error("delete_access_entry", "ResourceNotFoundException", "gone", 404, expected_params=request)
    gone = eks.call_when_ready(module, client, client.delete_access_entry, "delete it", not_found_ok=True, **request)
    assert gone is None
    stubber.add_client_error("delete_access_entry", "ResourceNotFoundException", "gone", 404, expected_params=request)
    with pytest.raises(RuntimeError, match="^Failed to delete it: cluster_name 'hh' does not exist: "):
        eks.call_when_ready(module, client, client.delete_access_entry, "delete it", **request)
    stubber.add_client_error("delete_access_entry", "ResourceInUseException", "exists", 409, expected_params=request)
    found = eks.call_when_ready(module, client, client.delete_access_entry, "delete it", recover=lambda: {"found": 1},
                                **request)
    assert found == {"found": 1}


def test_create_or_adopt(stubbed_eks):
    client, stubber = stubbed_eks
    request = {"clusterName": "hh", "addonName": "vpc-cni"}
    stubber.add_response("create_addon", {"addon": {"addonName": "vpc-cni"}}, request)
    adopted = {"addonName": "vpc-cni", "status": "ACTIVE"}
    assert eks.create_or_adopt(FakeModule(), client.create_addon, "addon", lambda: adopted, "add-on vpc-cni", "failed",
                               **request) == ({"addonName": "vpc-cni"}, True)
    stubber.add_client_error("create_addon", "ResourceInUseException", "exists", 409, expected_params=request)
    assert eks.create_or_adopt(FakeModule(), client.create_addon, "addon", lambda: adopted, "add-on vpc-cni", "failed",
                               **request) == (adopted, False)
    stubber.add_client_error("create_addon", "ResourceInUseException", "exists", 409, expected_params=request)
    with pytest.raises(RuntimeError, match="^EKS reports add-on vpc-cni exists but it cannot be described$"):
        eks.create_or_adopt(FakeModule(), client.create_addon, "addon", lambda: None, "add-on vpc-cni", "failed",
                            **request)
    stubber.add_client_error("create_addon", "ResourceNotFoundException", "no cluster", 404, expected_params=request)
    with pytest.raises(RuntimeError, match="^no cluster hh: "):
        eks.create_or_adopt(FakeModule(), client.create_addon, "addon", lambda: None, "add-on vpc-cni", "failed",
                            missing="no cluster hh", **request)


def test_delete_and_wait(stubbed_eks, no_sleep):
    client, stubber = stubbed_eks
    request = {"clusterName": "hh", "nodegroupName": "system"}
    answers = [{"status": "DELETING"}, None]
    stubber.add_response("delete_nodegroup", {}, request)
    eks.delete_and_wait(FakeModule(wait=True), {"status": "ACTIVE"}, client.delete_nodegroup, lambda: answers.pop(0),
                        "node group system", 1, **request)
    assert answers == []
    # already DELETING: no delete call; a failed deletion ends the wait
    with pytest.raises(RuntimeError, match="^node group system to be deleted could not be deleted: "):
        eks.delete_and_wait(FakeModule(wait=True), {"status": "DELETING"}, client.delete_nodegroup,
                            lambda: {"status": "DELETE_FAILED"}, "node group system", 1, **request)
    # check mode: nothing at all
    eks.delete_and_wait(FakeModule(check_mode=True, wait=True), {"status": "ACTIVE"}, client.delete_nodegroup,
                        lambda: 1 / 0, "node group system", 1, **request)
    stubber.add_client_error("delete_cluster", "ResourceInUseException", "has node groups", 409,
                             expected_params={"name": "hh"})
    with pytest.raises(RuntimeError, match="^cluster hh is in use: "):
        eks.delete_and_wait(FakeModule(wait=True), {"status": "ACTIVE"}, client.delete_cluster, lambda: None,
                            "cluster hh", 1, in_use="cluster hh is in use", failed_status=None, name="hh")


def test_current_reads_members_eks_leaves_out_as_empty():
    group = {"nodegroupName": "system", "labels": {"a": "b"}, "resourcesVpcConfig": {"subnetIds": ["s-1"]}}
    assert eks.current(group, "taints") == []
    assert eks.current(group, "labels") == {"a": "b"}
    assert eks.current(group, "resourcesVpcConfig.subnetIds") == ["s-1"]
    assert eks.current(group, "resourcesVpcConfig.securityGroupIds") == []
    assert eks.current({}, "logging.clusterLogging") == []
    assert eks.current({}, "serviceAccountRoleArn") == ""
    # members EKS always reports: absent means not reported, so not compared
    assert eks.current(group, "updateConfig") is None
    assert eks.current(group, "accessConfig.authenticationMode") is None
    # the empty value is a fresh copy each time
    eks.current({}, "taints").append("x")
    assert eks.current({}, "taints") == []


def test_enabled_logs_of_an_answer_without_log_setups_is_none_enabled():
    assert eks.enabled_logs({}) == []
    assert eks.enabled_logs({"logging": {"clusterLogging": [{"types": ["audit", "api"], "enabled": True},
                                                            {"types": ["scheduler"], "enabled": False}]}}) == ["api", "audit"]
