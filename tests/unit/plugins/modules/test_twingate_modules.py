"""The twingate_* modules against the local Twingate test double (scripts/twingate_double.py,
started here as a process and stopped by its PID) and, for the connector's tokens secret,
the moto server. Every assertion reads state back through the API or boto3."""
from __future__ import annotations

import json
import urllib.request
import uuid

import boto3
import pytest

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import client_token
from ansible_collections.honeyhive.platform.plugins.modules import (
    twingate_connector,
    twingate_group,
    twingate_remote_network,
    twingate_resource,
)

TOKEN = "tg-test-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def double(tmp_path_factory, start_twingate_double):
    """The Twingate test double on a free port; yields {url, token, log}."""
    log = tmp_path_factory.mktemp("twingate") / "double.log"
    with open(log, "w", encoding="utf-8") as handle:
        proc, base = start_twingate_double(TOKEN, "--page-size", "2", stderr=handle)
    yield {"url": base + "/api/graphql/", "token": TOKEN, "log": log}
    start_twingate_double.stop(proc)


def gql(double, document, variables=None):
    request = urllib.request.Request(
        double["url"], data=json.dumps({"query": document, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json", "X-API-KEY": double["token"]}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.loads(response.read())
    assert not body.get("errors"), body
    return body["data"]


def tg(double, **extra):
    base = dict(api_url=double["url"], api_token=double["token"])
    base.update(extra)
    return base


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def networks_named(double, name):
    data = gql(double, "query($n: String!) { remoteNetworks(filter: {name: {eq: $n}}, first: 100) "
                       "{ edges { node { id name location } } } }", {"n": name})
    return [e["node"] for e in data["remoteNetworks"]["edges"]]


def connectors_named(double, name):
    data = gql(double, "query($n: String!) { connectors(filter: {name: {eq: $n}}, first: 100) "
                       "{ edges { node { id name remoteNetwork { id } } } } }", {"n": name})
    return [e["node"] for e in data["connectors"]["edges"]]


def groups_named(double, name):
    data = gql(double, "query($n: String!) { groups(filter: {name: {eq: $n}}, first: 100) "
                       "{ edges { node { id name } } } }", {"n": name})
    return [e["node"] for e in data["groups"]["edges"]]


def resources_named(double, name):
    data = gql(double, "query($n: String!) { resources(filter: {name: {eq: $n}}, first: 100) { edges { node { "
                       "id name address { value } remoteNetwork { id } "
                       "protocols { allowIcmp tcp { policy ports { start end } } udp { policy ports { start end } } } "
                       "groups(first: 100) { edges { node { id } } } } } } }", {"n": name})
    return [e["node"] for e in data["resources"]["edges"]]


# -- remote network ------------------------------------------------------------------------

def test_remote_network_lifecycle(run_module, double):
    name = unique("rn")
    checked = run_module(twingate_remote_network, tg(double, name=name, _ansible_check_mode=True, _ansible_diff=True))
    assert checked["changed"] and checked["id"] is None
    assert checked["diff"] == {"before": {}, "after": {"name": name, "location": "AWS"}}
    assert networks_named(double, name) == []

    created = run_module(twingate_remote_network, tg(double, name=name))
    assert created["changed"] and created["location"] == "AWS"
    assert networks_named(double, name) == [{"id": created["id"], "name": name, "location": "AWS"}]

    again = run_module(twingate_remote_network, tg(double, name=name))
    assert not again["changed"] and again["id"] == created["id"]
    checked = run_module(twingate_remote_network, tg(double, name=name, _ansible_check_mode=True))
    assert not checked["changed"]

    moved = run_module(twingate_remote_network, tg(double, name=name, location="OTHER", _ansible_diff=True))
    assert moved["changed"] and moved["diff"]["before"]["location"] == "AWS"
    assert networks_named(double, name)[0]["location"] == "OTHER"

    checked = run_module(twingate_remote_network, tg(double, name=name, state="absent", _ansible_check_mode=True))
    assert checked["changed"] and len(networks_named(double, name)) == 1
    gone = run_module(twingate_remote_network, tg(double, name=name, state="absent"))
    assert gone["changed"] and networks_named(double, name) == []
    assert not run_module(twingate_remote_network, tg(double, name=name, state="absent"))["changed"]


def test_remote_network_bad_input_fails_before_any_call(run_module, double, closed_twingate_url):
    closed = dict(api_url=closed_twingate_url, api_token="unused-test-token-0000", api_retries=0)
    result = run_module(twingate_remote_network, dict(closed, name="x", location="MARS"))
    assert result["failed"] and "location" in result["msg"] and "AWS" in result["msg"]
    result = run_module(twingate_remote_network, dict(closed, name=" x"))
    assert result["failed"] and result["msg"].startswith("name:")
    result = run_module(twingate_remote_network, tg(double, name="x", api_url="ftp://nowhere"))
    assert result["failed"] and "api_url" in result["msg"]


def test_wrong_api_key_is_rejected(run_module, double):
    result = run_module(twingate_remote_network, tg(double, name="x", api_token="not-the-key"))
    assert result["failed"]
    assert "rejected the API token (HTTP 401)" in result["msg"]
    assert "not-the-key" not in json.dumps(result)


def test_missing_api_token_names_the_env_var(run_module, double, monkeypatch):
    monkeypatch.delenv("TWINGATE_API_TOKEN", raising=False)
    result = run_module(twingate_remote_network, {"name": "x", "api_url": double["url"]})
    assert result["failed"] and "api_token" in result["msg"]


def test_connection_options_from_environment(run_module, double, monkeypatch):
    monkeypatch.setenv("TWINGATE_API_URL", double["url"])
    monkeypatch.setenv("TWINGATE_API_TOKEN", double["token"])
    name = unique("rn-env")
    assert run_module(twingate_remote_network, {"name": name})["changed"]
    assert networks_named(double, name)


def test_duplicate_names_are_an_error(run_module, double):
    name = unique("dup")
    for _ in range(2):
        gql(double, "mutation($n: String!) { groupCreate(name: $n) { ok } }", {"n": name})
    result = run_module(twingate_group, tg(double, name=name))
    assert result["failed"] and "2 Twingate groups are named" in result["msg"]


# -- group ---------------------------------------------------------------------------------

def test_group_lifecycle(run_module, double):
    name = unique("grp")
    checked = run_module(twingate_group, tg(double, name=name, _ansible_check_mode=True))
    assert checked["changed"] and checked["id"] is None and groups_named(double, name) == []
    created = run_module(twingate_group, tg(double, name=name, _ansible_diff=True))
    assert created["changed"] and created["diff"] == {"before": {}, "after": {"name": name}}
    assert groups_named(double, name) == [{"id": created["id"], "name": name}]
    again = run_module(twingate_group, tg(double, name=name))
    assert not again["changed"] and again["id"] == created["id"]
    assert not run_module(twingate_group, tg(double, name=name, _ansible_check_mode=True))["changed"]
    assert run_module(twingate_group, tg(double, name=name, state="absent", _ansible_check_mode=True))["changed"]
    assert groups_named(double, name)
    assert run_module(twingate_group, tg(double, name=name, state="absent"))["changed"]
    assert groups_named(double, name) == []
    assert not run_module(twingate_group, tg(double, name=name, state="absent"))["changed"]


def test_pagination_finds_objects_past_the_first_page(run_module, double):
    # The double serves pages of 2; make the group we look for the 5th of its name prefix.
    prefix = unique("page")
    for index in range(4):
        gql(double, "mutation($n: String!) { groupCreate(name: $n) { ok } }", {"n": "%s-%d" % (prefix, index)})
    target = prefix + "-x"
    run_module(twingate_group, tg(double, name=target))
    data = gql(double, "query($p: String!) { groups(filter: {name: {startsWith: $p}}) "
                       "{ pageInfo { hasNextPage } edges { node { name } } } }", {"p": prefix})
    assert data["groups"]["pageInfo"]["hasNextPage"] is True
    assert not run_module(twingate_group, tg(double, name=target))["changed"]


# -- resource ------------------------------------------------------------------------------

@pytest.fixture
def network(run_module, double):
    return run_module(twingate_remote_network, tg(double, name=unique("rn")))


def test_resource_lifecycle(run_module, double, network):
    g1 = run_module(twingate_group, tg(double, name=unique("g1")))
    g2 = run_module(twingate_group, tg(double, name=unique("g2")))
    name = unique("vpc")
    want = tg(double, name=name, address="10.20.0.0/16", remote_network=network["name"], groups=[g1["name"]])

    checked = run_module(twingate_resource, dict(want, _ansible_check_mode=True))
    assert checked["changed"] and checked["id"] is None and resources_named(double, name) == []

    created = run_module(twingate_resource, want)
    assert created["changed"]
    assert created["group_ids"] == [g1["id"]] and created["remote_network_id"] == network["id"]
    assert created["protocols"] == {"allow_icmp": True, "tcp": {"policy": "ALLOW_ALL", "ports": []},
                                    "udp": {"policy": "ALLOW_ALL", "ports": []}}
    [node] = resources_named(double, name)
    assert node["address"]["value"] == "10.20.0.0/16" and node["remoteNetwork"]["id"] == network["id"]
    assert [e["node"]["id"] for e in node["groups"]["edges"]] == [g1["id"]]

    again = run_module(twingate_resource, want)
    assert not again["changed"] and again["id"] == created["id"]
    assert not run_module(twingate_resource, dict(want, _ansible_check_mode=True))["changed"]

    # Update groups (purge), protocols and address in place.
    changed = run_module(twingate_resource, dict(
        want, address="10.30.0.0/16", groups=[g2["name"]], _ansible_diff=True,
        protocols={"allow_icmp": False, "tcp": {"policy": "RESTRICTED", "ports": ["443", "8000-8080", "444"]},
                   "udp": {"policy": "RESTRICTED"}}))
    assert changed["changed"] and changed["id"] == created["id"]
    assert changed["diff"]["before"]["group_ids"] == [g1["id"]]
    assert changed["diff"]["after"]["group_ids"] == [g2["id"]]
    [node] = resources_named(double, name)
    assert node["address"]["value"] == "10.30.0.0/16"
    assert node["protocols"] == {"allowIcmp": False,
                                 "tcp": {"policy": "RESTRICTED", "ports": [{"start": 443, "end": 444},
                                                                          {"start": 8000, "end": 8080}]},
                                 "udp": {"policy": "RESTRICTED", "ports": []}}
    assert [e["node"]["id"] for e in node["groups"]["edges"]] == [g2["id"]]
    same = run_module(twingate_resource, dict(
        want, address="10.30.0.0/16", groups=[g2["name"]],
        protocols={"allow_icmp": False, "tcp": {"policy": "RESTRICTED", "ports": ["8000-8080", "443-444"]},
                   "udp": {"policy": "RESTRICTED", "ports": []}}))
    assert not same["changed"]

    # Without purge, a listed group is added and the other kept.
    added = run_module(twingate_resource, dict(want, address="10.30.0.0/16", groups=[g1["name"]], purge_groups=False,
                                               protocols=same["protocols"]))
    assert added["changed"] and added["group_ids"] == sorted([g1["id"], g2["id"]])

    assert run_module(twingate_resource, tg(double, name=name, state="absent", _ansible_check_mode=True))["changed"]
    assert resources_named(double, name)
    assert run_module(twingate_resource, tg(double, name=name, state="absent"))["changed"]
    assert resources_named(double, name) == []
    assert not run_module(twingate_resource, tg(double, name=name, state="absent"))["changed"]


def test_resource_dns_address_and_remote_network_by_id(run_module, double, network):
    name = unique("dns")
    created = run_module(twingate_resource, tg(double, name=name, address="*.internal.example.com",
                                               remote_network=network["id"]))
    assert created["changed"] and created["remote_network_id"] == network["id"]
    assert not run_module(twingate_resource, tg(double, name=name, address="*.internal.example.com",
                                                remote_network=network["name"]))["changed"]


def test_resource_check_mode_on_fresh_account(run_module, double):
    # Nothing exists yet: the remote network and the group would be made earlier in the same run.
    result = run_module(twingate_resource, tg(double, name=unique("r"), address="10.0.0.0/16",
                                              remote_network=unique("nope"), groups=[unique("nogroup")],
                                              _ansible_check_mode=True))
    assert result["changed"] and not result.get("failed")


@pytest.mark.parametrize("extra,needle", [
    (dict(address="10.0.0.5/16"), "host bits set"),
    (dict(address="bad name!"), "not a valid DNS name"),
    (dict(address="300.1.2.3"), "not a valid CIDR range or IP address"),
    (dict(protocols={"tcp": {"policy": "ALLOW_ALL", "ports": ["443"]}}), "ports only with policy RESTRICTED"),
    (dict(protocols={"tcp": {"policy": "RESTRICTED", "ports": ["70000"]}}), "out of range"),
    (dict(protocols={"udp": {"policy": "RESTRICTED", "ports": ["9-1"]}}), "out of range"),
    (dict(protocols={"udp": {"policy": "RESTRICTED", "ports": ["http"]}}), "not a port or range"),
    (dict(address=None), "are missing: address"),
])
def test_resource_bad_input(run_module, extra, needle, closed_twingate_url):
    # Nothing listens on the API URL: the input must be rejected before any call.
    args = dict(api_url=closed_twingate_url, api_token="unused-test-token-0000", api_retries=0, name="r",
                address="10.0.0.0/16", remote_network="rn")
    args.update(extra)
    args = {k: v for k, v in args.items() if v is not None}
    result = run_module(twingate_resource, args)
    assert result["failed"] and needle in result["msg"], result["msg"]


def test_resource_missing_group_or_network_is_a_clear_error(run_module, double, network):
    result = run_module(twingate_resource, tg(double, name=unique("r"), address="10.0.0.0/16",
                                              remote_network=network["name"], groups=["no-such-group"]))
    assert result["failed"] and "'no-such-group' not found" in result["msg"]
    result = run_module(twingate_resource, tg(double, name=unique("r"), address="10.0.0.0/16",
                                              remote_network="no-such-network"))
    assert result["failed"] and "matches no Twingate remote network" in result["msg"]


# -- connector -----------------------------------------------------------------------------

@pytest.fixture
def secretsmanager(moto_endpoint, aws_env):
    return boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name="us-west-2")


@pytest.fixture
def kms_key(moto_endpoint, aws_env):
    kms = boto3.client("kms", endpoint_url=moto_endpoint, region_name="us-west-2")
    return kms.create_key(Description="twingate test")["KeyMetadata"]["Arn"]


def connector_args(double, moto_endpoint, **extra):
    base = tg(double, endpoint_url=moto_endpoint, region="us-west-2")
    base.update(extra)
    return base


def stored_tokens(secretsmanager, name):
    return json.loads(secretsmanager.get_secret_value(SecretId=name)["SecretString"])


def assert_no_tokens(result, tokens):
    text = json.dumps(result)
    for value in tokens.values():
        assert value not in text


def test_connector_lifecycle_tokens_land_in_the_secret_only(run_module, double, network, moto_endpoint,
                                                            secretsmanager, kms_key):
    name = unique("conn")
    secret = unique("tg-tokens")
    tags = {"Environment": "test", "ManagedBy": "honeyhive.platform"}
    want = connector_args(double, moto_endpoint, name=name, remote_network=network["name"], tokens_secret_name=secret,
                          tokens_secret_kms_key_id=kms_key, tags=tags)

    checked = run_module(twingate_connector, dict(want, _ansible_check_mode=True, _ansible_diff=True))
    assert checked["changed"] and checked["id"] is None and checked["tokens_generated"]
    assert connectors_named(double, name) == []
    with pytest.raises(secretsmanager.exceptions.ResourceNotFoundException):
        secretsmanager.describe_secret(SecretId=secret)

    created = run_module(twingate_connector, dict(want, _ansible_diff=True))
    assert created["changed"] and created["tokens_generated"]
    assert connectors_named(double, name) == [{"id": created["id"], "name": name,
                                               "remoteNetwork": {"id": network["id"]}}]
    assert created["remote_network_id"] == network["id"]
    described = secretsmanager.describe_secret(SecretId=secret)
    assert created["tokens_secret_arn"] == described["ARN"]
    assert described["KmsKeyId"] == kms_key
    assert {t["Key"]: t["Value"] for t in described["Tags"]} == tags
    tokens = stored_tokens(secretsmanager, secret)
    assert sorted(tokens) == ["access_token", "refresh_token"]
    assert all(len(v) > 20 for v in tokens.values())
    assert_no_tokens(created, tokens)
    assert "regenerated" in json.dumps(created["diff"])

    again = run_module(twingate_connector, want)
    assert not again["changed"] and not again["tokens_generated"] and again["id"] == created["id"]
    assert stored_tokens(secretsmanager, secret) == tokens
    assert not run_module(twingate_connector, dict(want, _ansible_check_mode=True))["changed"]

    rotated = run_module(twingate_connector, dict(want, rotate_tokens=True))
    assert rotated["changed"] and rotated["tokens_generated"]
    new_tokens = stored_tokens(secretsmanager, secret)
    assert new_tokens != tokens
    assert_no_tokens(rotated, new_tokens)
    # Each write of the tokens is a version whose id is derived from the connector and the
    # tokens (ClientRequestToken), so a retried write is the same request, not a new version.
    stages = secretsmanager.describe_secret(SecretId=secret)["VersionIdsToStages"]
    current = [version for version, labels in stages.items() if "AWSCURRENT" in labels]
    assert current == [client_token("twingate_tokens", created["id"], secret,
                                    json.dumps({"access_token": new_tokens["access_token"],
                                                "refresh_token": new_tokens["refresh_token"]}))]

    # Tags drift is corrected; the double's request log never holds a token.
    secretsmanager.tag_resource(SecretId=secret, Tags=[{"Key": "Stray", "Value": "x"}])
    retagged = run_module(twingate_connector, want)
    assert retagged["changed"] and not retagged["tokens_generated"]
    assert "Stray" not in {t["Key"] for t in secretsmanager.describe_secret(SecretId=secret)["Tags"]}
    log = double["log"].read_text()
    assert "connectorGenerateTokens" in log
    for value in list(tokens.values()) + list(new_tokens.values()) + [double["token"]]:
        assert value not in log

    # Delete: connector and secret (at once), then nothing to do.
    checked = run_module(twingate_connector, dict(want, state="absent", tokens_secret_recovery_window=0,
                                                  _ansible_check_mode=True))
    assert checked["changed"] and connectors_named(double, name)
    gone = run_module(twingate_connector, dict(want, state="absent", tokens_secret_recovery_window=0))
    assert gone["changed"] and connectors_named(double, name) == []
    with pytest.raises(secretsmanager.exceptions.ResourceNotFoundException):
        secretsmanager.describe_secret(SecretId=secret)
    assert not run_module(twingate_connector, dict(want, state="absent", tokens_secret_recovery_window=0))["changed"]


def test_connector_regenerates_tokens_when_the_secret_is_gone(run_module, double, network, moto_endpoint,
                                                              secretsmanager):
    name = unique("conn")
    secret = unique("tg-tokens")
    want = connector_args(double, moto_endpoint, name=name, remote_network=network["name"], tokens_secret_name=secret)
    first = run_module(twingate_connector, want)
    tokens = stored_tokens(secretsmanager, secret)

    secretsmanager.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)
    checked = run_module(twingate_connector, dict(want, _ansible_check_mode=True))
    assert checked["changed"] and checked["tokens_generated"]
    again = run_module(twingate_connector, want)
    assert again["changed"] and again["tokens_generated"] and again["id"] == first["id"]
    assert stored_tokens(secretsmanager, secret) != tokens

    # A secret scheduled for deletion is restored and refilled.
    secretsmanager.delete_secret(SecretId=secret, RecoveryWindowInDays=7)
    restored = run_module(twingate_connector, want)
    assert restored["changed"] and restored["tokens_generated"]
    assert "DeletedDate" not in secretsmanager.describe_secret(SecretId=secret)
    assert not run_module(twingate_connector, want)["changed"]
    run_module(twingate_connector, dict(want, state="absent", tokens_secret_recovery_window=0))


def test_connector_check_mode_on_fresh_account(run_module, double, moto_endpoint, secretsmanager):
    result = run_module(twingate_connector, connector_args(
        double, moto_endpoint, name=unique("conn"), remote_network=unique("not-yet"),
        tokens_secret_name=unique("s"), _ansible_check_mode=True))
    assert result["changed"] and not result.get("failed") and result["tokens_secret_arn"] is None


def test_connector_in_another_remote_network_is_an_error(run_module, double, network, moto_endpoint, secretsmanager):
    other = run_module(twingate_remote_network, tg(double, name=unique("rn-other")))
    name = unique("conn")
    run_module(twingate_connector, connector_args(double, moto_endpoint, name=name, remote_network=other["name"],
                                                  tokens_secret_name=unique("s")))
    result = run_module(twingate_connector, connector_args(double, moto_endpoint, name=name,
                                                           remote_network=network["name"],
                                                           tokens_secret_name=unique("s")))
    assert result["failed"] and "cannot move between remote networks" in result["msg"]


@pytest.mark.parametrize("extra,needle", [
    (dict(tokens_secret_name=None), "are missing: tokens_secret_name"),
    (dict(remote_network=None), "are missing: remote_network"),
    (dict(tokens_secret_name="bad name!"), "tokens_secret_name"),
    (dict(tokens_secret_recovery_window=3), "tokens_secret_recovery_window"),
    (dict(tags={"aws:x": "y"}), "aws:"),
    (dict(api_url="not a url"), "api_url"),
])
def test_connector_bad_input(run_module, moto_endpoint, aws_env, extra, needle, closed_twingate_url):
    # Nothing listens on the API URL: the input must be rejected before any call.
    args = dict(api_url=closed_twingate_url, api_token="unused-test-token-0000", api_retries=0,
                endpoint_url=moto_endpoint, region="us-west-2", name="c", remote_network="rn", tokens_secret_name="s")
    args.update(extra)
    args = {k: v for k, v in args.items() if v is not None}
    result = run_module(twingate_connector, args)
    assert result["failed"] and needle in result["msg"], result["msg"]


def test_connector_missing_remote_network_is_a_clear_error(run_module, double, moto_endpoint, secretsmanager):
    result = run_module(twingate_connector, connector_args(double, moto_endpoint, name=unique("c"),
                                                           remote_network="no-such-network",
                                                           tokens_secret_name=unique("s")))
    assert result["failed"] and "matches no Twingate remote network" in result["msg"]
