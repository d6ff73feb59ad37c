"""scripts/twingate_double.py: the local stand-in for Twingate's GraphQL API (not Twingate).
Started as a process, stopped by its PID; checks auth, health, schema validation, the
mutation payload shape and that its log holds operation names only."""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "twingate_double.py"
TOKEN = "double-test-token-0123456789"


@pytest.fixture(scope="module")
def double(tmp_path_factory, start_twingate_double):
    tmp = tmp_path_factory.mktemp("double")
    pidfile, log = tmp / "double.pid", tmp / "double.log"
    with open(log, "w", encoding="utf-8") as handle:
        proc, base = start_twingate_double(TOKEN, "--pidfile", str(pidfile), stderr=handle)
    yield {"base": base, "pidfile": pidfile, "log": log, "proc": proc}
    os.kill(proc.pid, 15)
    proc.wait(timeout=10)
    assert not pidfile.exists()


def post(double, query, variables=None, key=TOKEN, path="/api/graphql/"):
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-API-KEY"] = key
    request = urllib.request.Request(double["base"] + path, method="POST", headers=headers,
                                     data=json.dumps({"query": query, "variables": variables or {}}).encode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_docstring_says_it_is_a_stand_in():
    doc = SCRIPT.read_text().split('"""')[1]
    assert "NOT Twingate" in doc and "stand-in" in doc


def test_healthz_and_pidfile(double):
    with urllib.request.urlopen(double["base"] + "/healthz", timeout=5) as response:
        assert response.status == 200 and response.read() == b"ok\n"
    assert int(double["pidfile"].read_text()) == double["proc"].pid


@pytest.mark.parametrize("key", [None, "wrong", TOKEN + "x"])
def test_requires_the_api_key(double, key):
    status, body = post(double, "query { groups { edges { node { id } } } }", key=key)
    assert status == 401 and "X-API-KEY" in body["errors"][0]["message"]


def test_unknown_fields_and_arguments_fail_validation(double):
    status, body = post(double, "query { remoteNetworks { edges { node { id nam } } } }")
    assert status == 400 and "Cannot query field 'nam'" in body["errors"][0]["message"]
    status, body = post(double, "mutation { remoteNetworkCreate(name: \"x\", location: MARS) { ok } }")
    assert status == 400 and "MARS" in body["errors"][0]["message"]
    status, body = post(double, "mutation { connectorCreate(remoteNetwork: \"x\") { ok } }")
    assert status == 400


def test_payload_shape_and_ok_false(double):
    status, body = post(double, "mutation M($n: String!) { remoteNetworkCreate(name: $n, location: AWS) "
                                "{ ok error entity { id name location } } }", {"n": "net-shape"})
    payload = body["data"]["remoteNetworkCreate"]
    assert status == 200 and payload["ok"] and payload["error"] is None
    network_id = payload["entity"]["id"]
    status, body = post(double, "mutation M($n: String!) { remoteNetworkCreate(name: $n) { ok error entity { id } } }",
                        {"n": "net-shape"})
    assert body["data"]["remoteNetworkCreate"] == {"ok": False, "error": "A remote network named 'net-shape' "
                                                   "already exists", "entity": None}
    status, body = post(double, "mutation M($id: ID!) { connectorCreate(remoteNetworkId: $id, name: \"c-shape\") "
                                "{ ok entity { id remoteNetwork { id } } } }", {"id": network_id})
    connector = body["data"]["connectorCreate"]["entity"]
    assert connector["remoteNetwork"]["id"] == network_id
    status, body = post(double, "mutation M($id: ID!) { connectorGenerateTokens(connectorId: $id) "
                                "{ ok error connectorTokens { accessToken refreshToken } } }", {"id": connector["id"]})
    tokens = body["data"]["connectorGenerateTokens"]["connectorTokens"]
    assert tokens["accessToken"] and tokens["refreshToken"]
    log = double["log"].read_text()
    assert "mutation M(connectorGenerateTokens)" in log
    assert tokens["accessToken"] not in log and TOKEN not in log


def test_cascading_delete_of_a_remote_network(double):
    _, body = post(double, "mutation { remoteNetworkCreate(name: \"net-cascade\") { entity { id } } }")
    network_id = body["data"]["remoteNetworkCreate"]["entity"]["id"]
    post(double, "mutation M($id: ID!) { resourceCreate(name: \"r-cascade\", address: \"10.0.0.0/8\", "
                 "remoteNetworkId: $id) { ok } }", {"id": network_id})
    _, body = post(double, "mutation M($id: ID!) { remoteNetworkDelete(id: $id) { ok error } }", {"id": network_id})
    assert body["data"]["remoteNetworkDelete"] == {"ok": True, "error": None}
    _, body = post(double, "query { resources(filter: {name: {eq: \"r-cascade\"}}) { edges { node { id } } } }")
    assert body["data"]["resources"]["edges"] == []


def test_unknown_path_is_404(double):
    status, _ = post(double, "query { groups { edges { node { id } } } }", path="/graphql")
    assert status == 404
