"""module_utils/twingate.py: the GraphQL client against the local Twingate test double
(retries on injected 429 / 503, GraphQL and mutation errors, pagination), started as a
process per test module and stopped by its PID."""
from __future__ import annotations

import uuid

import pytest

from ansible_collections.honeyhive.platform.plugins.module_utils import twingate as tgmod
from ansible_collections.honeyhive.platform.plugins.module_utils.twingate import (
    TwingateClient,
    TwingateError,
    validate_connection_params,
)

TOKEN = "tg-client-" + uuid.uuid4().hex


@pytest.fixture(scope="session")
def start_double(start_twingate_double):
    """``start_double(*options)`` -> (process, GraphQL URL) of a double that takes TOKEN."""

    def start(*options):
        proc, base = start_twingate_double(TOKEN, *options)
        return proc, base + "/api/graphql/"

    start.stop = start_twingate_double.stop
    return start


@pytest.fixture(scope="module")
def api(start_double):
    proc, url = start_double("--page-size", "3")
    yield url
    start_double.stop(proc)


def client(url, **kwargs):
    delays = []
    kwargs.setdefault("retries", 3)
    made = TwingateClient(url, TOKEN, timeout=5, sleep=delays.append, **kwargs)
    made.delays = delays
    return made


CREATE_GROUP = "mutation GroupCreate($name: String!) { groupCreate(name: $name) { ok error entity { id name } } }"
LIST_GROUPS = """
query Groups($p: String!, $first: Int, $after: String) {
  groups(filter: {name: {startsWith: $p}}, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { id name } }
  }
}
"""


def test_pagination_collects_every_page(api):
    c = client(api)
    prefix = "p-%s-" % uuid.uuid4().hex[:6]
    for index in range(7):
        c.mutate(CREATE_GROUP, {"name": prefix + str(index)}, "groupCreate")
    calls = c.calls
    nodes = c.paginate(LIST_GROUPS, {"p": prefix}, ["groups"], page_size=3)
    assert sorted(n["name"] for n in nodes) == [prefix + str(i) for i in range(7)]
    assert c.calls - calls == 3


def test_graphql_validation_error_is_reported_not_retried(api):
    c = client(api)
    with pytest.raises(TwingateError) as info:
        c.query("query Broken { groups { edges { node { nmae } } } }")
    assert "Broken" in str(info.value) and "Cannot query field 'nmae'" in str(info.value)
    assert info.value.status == 400 and c.delays == []


def test_mutation_ok_false_is_an_error(api):
    c = client(api)
    with pytest.raises(TwingateError) as info:
        c.mutate("mutation D($id: ID!) { groupDelete(id: $id) { ok error } }", {"id": "R3JvdXA6OTk5OTk="},
                 "groupDelete")
    assert "groupDelete failed" in str(info.value) and "does not exist" in str(info.value)


def test_wrong_token_is_not_retried(api):
    c = TwingateClient(api, "wrong", sleep=lambda s: None)
    with pytest.raises(TwingateError) as info:
        c.query("query Q { groups { edges { node { id } } } }")
    assert info.value.status == 401 and c.calls == 1
    assert "wrong" not in str(info.value)


@pytest.mark.parametrize("status", [503, 429])
def test_retries_with_backoff_on_throttling_and_5xx(status, start_double):
    proc, url = start_double("--fail-first", "2", "--fail-status", str(status))
    try:
        c = client(url)
        data = c.query("query Q { groups { edges { node { id } } } }")
        assert data == {"groups": {"edges": []}}
        assert c.calls == 3 and len(c.delays) == 2
        if status == 429:
            assert c.delays == [0.0, 0.0]  # the double sends Retry-After: 0
        else:
            assert c.delays[0] < c.delays[1]
    finally:
        start_double.stop(proc)


def test_gives_up_after_the_retry_budget(start_double):
    proc, url = start_double("--fail-first", "10", "--fail-status", "502")
    try:
        c = client(url, retries=2)
        with pytest.raises(TwingateError) as info:
            c.query("query Q { groups { edges { node { id } } } }")
        assert "HTTP 502" in str(info.value) and "after 3 attempts" in str(info.value)
        assert c.calls == 3
    finally:
        start_double.stop(proc)


def test_connection_refused_is_retried_then_reported(closed_twingate_url):
    c = client(closed_twingate_url, retries=2)
    with pytest.raises(TwingateError) as info:
        c.query("query Q { groups { edges { node { id } } } }")
    assert "cannot reach the Twingate API" in str(info.value) and c.calls == 3


def test_backoff_is_capped():
    c = TwingateClient("http://x", "t")
    assert c._delay(20) == tgmod.MAX_BACKOFF
    assert c._delay(0, retry_after="7") == 7.0


def test_connection_params_validation():
    assert validate_connection_params({"api_url": "https://x.twingate.com/api/graphql/", "api_token": "t",
                                       "api_timeout": 30, "api_retries": 5}) == []
    problems = validate_connection_params({"api_url": "x.twingate.com", "api_token": " ", "api_timeout": 0,
                                           "api_retries": -1})
    assert [p.split(":")[0] for p in problems] == ["api_url", "api_token", "api_timeout", "api_retries"]


def test_common_params_and_unique_names():
    params = {"api_url": "https://x.twingate.com/api/graphql/", "api_token": "t", "api_timeout": 30,
              "api_retries": 5, "name": " padded"}
    assert [p.split(":")[0] for p in tgmod.validate_common_params(params)] == ["name"]
    nodes = [{"id": "b", "name": "n"}, {"id": "a", "name": "n"}, {"id": "c", "name": "other"}]
    assert tgmod.one_named(nodes[1:], "n", "group") == nodes[1]
    assert tgmod.one_named(None, "n", "group") is None
    with pytest.raises(TwingateError, match=r"^2 Twingate groups are named 'n' \(ids a, b\); names must be unique$"):
        tgmod.one_named(nodes, "n", "group", reason="names must be unique")
    assert "query GroupsByName($name: String!, $first: Int, $after: String)" in tgmod.by_name_query(
        "GroupsByName", "groups", "id")
