"""honeyhive.platform.iam_oidc_provider against the moto server (IAM is global;
every assertion reads the provider back through boto3)."""
from __future__ import annotations

import uuid

import pytest

from ansible_collections.honeyhive.platform.plugins.modules import iam_oidc_provider

THUMB_A = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
THUMB_B = "a031c46782e6e6c662c2c87c76da9aa62ccabd8e"


@pytest.fixture
def iam(moto_client):
    return moto_client("iam")


@pytest.fixture
def url():
    return "https://oidc.eks.us-west-2.amazonaws.com/id/%s" % uuid.uuid4().hex.upper()


def args(moto_endpoint, url, **extra):
    base = dict(url=url, endpoint_url=moto_endpoint, region="us-west-2")
    base.update(extra)
    return base


def read_back(iam, url):
    key = url[len("https://"):]
    for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        if provider["Arn"].endswith(":oidc-provider/" + key):
            described = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])
            described["Arn"] = provider["Arn"]
            return described
    return None


def tags_of(described):
    return {t["Key"]: t["Value"] for t in described.get("Tags", [])}


def test_create_then_idempotent(run_module, iam, moto_endpoint, url, api_calls):
    tags = {"Name": "eks-oidc", "Environment": "test"}
    first = run_module(iam_oidc_provider, args(moto_endpoint, url, client_ids=["sts.amazonaws.com"], tags=tags, _ansible_diff=True))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["diff"]["before"] == {}
    assert first["diff"]["after"]["client_ids"] == ["sts.amazonaws.com"]

    described = read_back(iam, url)
    assert described is not None
    assert first["arn"] == described["Arn"]
    assert described["ClientIDList"] == ["sts.amazonaws.com"]
    assert described["ThumbprintList"] == []
    assert tags_of(described) == tags

    api_calls.clear()
    second = run_module(iam_oidc_provider, args(moto_endpoint, url, client_ids=["sts.amazonaws.com"], tags=tags))
    assert second["changed"] is False
    assert second["arn"] == first["arn"]
    assert second["url"] == url
    assert second["tags"] == tags
    # a no-op costs one list and one get
    assert api_calls == ["ListOpenIDConnectProviders", "GetOpenIDConnectProvider"]


def test_update_thumbprints_and_tags(run_module, iam, moto_endpoint, url):
    run_module(iam_oidc_provider, args(moto_endpoint, url, tags={"Name": "a", "Old": "x"}))
    result = run_module(
        iam_oidc_provider,
        args(moto_endpoint, url, thumbprints=[THUMB_A], tags={"Name": "a", "New": "y"}, _ansible_diff=True),
    )
    assert result["changed"] is True
    assert result["diff"]["before"]["thumbprints"] == []
    assert result["diff"]["after"]["thumbprints"] == [THUMB_A]
    assert result["diff"]["after"]["tags"] == {"Name": "a", "New": "y"}
    described = read_back(iam, url)
    assert described["ClientIDList"] == ["sts.amazonaws.com"]
    assert described["ThumbprintList"] == [THUMB_A]
    assert tags_of(described) == {"Name": "a", "New": "y"}

    # replace the thumbprint; upper case input is the same thumbprint
    result = run_module(iam_oidc_provider, args(moto_endpoint, url, thumbprints=[THUMB_B.upper()], tags={"Name": "a", "New": "y"}))
    assert result["changed"] is True
    assert read_back(iam, url)["ThumbprintList"] == [THUMB_B]
    again = run_module(iam_oidc_provider, args(moto_endpoint, url, thumbprints=[THUMB_B.upper()], tags={"Name": "a", "New": "y"}))
    assert again["changed"] is False

    # thumbprints and tags omitted: both left alone
    again = run_module(iam_oidc_provider, args(moto_endpoint, url))
    assert again["changed"] is False
    assert again["thumbprints"] == [THUMB_B]
    assert again["tags"] == {"Name": "a", "New": "y"}

    # purge_tags false only adds
    again = run_module(iam_oidc_provider, args(moto_endpoint, url, tags={"Extra": "z"}, purge_tags=False))
    assert again["changed"] is True
    assert tags_of(read_back(iam, url)) == {"Name": "a", "New": "y", "Extra": "z"}


def test_update_audiences_in_check_mode_against_moto(run_module, iam, moto_endpoint, url):
    run_module(iam_oidc_provider, args(moto_endpoint, url))
    result = run_module(
        iam_oidc_provider,
        args(moto_endpoint, url, client_ids=["sts.amazonaws.com", "honeyhive-ci"], _ansible_check_mode=True, _ansible_diff=True),
    )
    assert result["changed"] is True
    assert result["client_ids"] == ["sts.amazonaws.com", "honeyhive-ci"]
    assert result["diff"]["before"]["client_ids"] == ["sts.amazonaws.com"]
    assert read_back(iam, url)["ClientIDList"] == ["sts.amazonaws.com"]


def test_update_audiences_uses_add_and_remove_client_id(run_module, stub_client):
    """Stubber (botocore's IAM service model): moto 5.2 does not implement
    AddClientIDToOpenIDConnectProvider / RemoveClientIDFromOpenIDConnectProvider
    (it answers HTTP 500 NotImplementedError), so the in-place audience update
    is checked against the real API shapes instead."""
    arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
    stubber = stub_client("iam")
    stubber.add_response("list_open_id_connect_providers", {"OpenIDConnectProviderList": [{"Arn": arn}]}, {})
    stubber.add_response(
        "get_open_id_connect_provider",
        {
            "Url": "token.actions.githubusercontent.com",
            "ClientIDList": ["sts.amazonaws.com", "old-audience"],
            "ThumbprintList": [],
            "Tags": [{"Key": "Name", "Value": "github"}],
        },
        {"OpenIDConnectProviderArn": arn},
    )
    stubber.add_response(
        "add_client_id_to_open_id_connect_provider", {}, {"OpenIDConnectProviderArn": arn, "ClientID": "honeyhive-ci"}
    )
    stubber.add_response(
        "remove_client_id_from_open_id_connect_provider", {}, {"OpenIDConnectProviderArn": arn, "ClientID": "old-audience"}
    )
    stubber.activate()
    result = run_module(
        iam_oidc_provider,
        dict(url="https://token.actions.githubusercontent.com", client_ids=["sts.amazonaws.com", "honeyhive-ci"], region="us-west-2"),
    )
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["arn"] == arn
    assert result["client_ids"] == ["sts.amazonaws.com", "honeyhive-ci"]
    assert result["tags"] == {"Name": "github"}
    stubber.assert_no_pending_responses()


def test_check_mode_changes_nothing(run_module, iam, moto_endpoint, url):
    result = run_module(iam_oidc_provider, args(moto_endpoint, url, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["arn"] is None
    assert read_back(iam, url) is None

    run_module(iam_oidc_provider, args(moto_endpoint, url))
    result = run_module(iam_oidc_provider, args(moto_endpoint, url, client_ids=["other"], _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["client_ids"] == ["other"]
    assert read_back(iam, url)["ClientIDList"] == ["sts.amazonaws.com"]

    result = run_module(iam_oidc_provider, args(moto_endpoint, url, state="absent", _ansible_check_mode=True))
    assert result["changed"] is True
    assert read_back(iam, url) is not None


def test_delete(run_module, iam, moto_endpoint, url):
    run_module(iam_oidc_provider, args(moto_endpoint, url))
    assert read_back(iam, url) is not None
    result = run_module(iam_oidc_provider, args(moto_endpoint, url, state="absent", _ansible_diff=True))
    assert result["changed"] is True
    assert result["diff"]["after"] == {}
    assert read_back(iam, url) is None
    again = run_module(iam_oidc_provider, args(moto_endpoint, url, state="absent"))
    assert again["changed"] is False


def test_trailing_slash_finds_the_same_provider(run_module, iam, moto_endpoint, url):
    first = run_module(iam_oidc_provider, args(moto_endpoint, url))
    second = run_module(iam_oidc_provider, args(moto_endpoint, url + "/"))
    assert second["changed"] is False
    assert second["arn"] == first["arn"]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(url="http://insecure.example.com"), "Invalid value for option 'url': 'http://insecure.example.com'"),
        (dict(url="https://example.com/?a=b"), "Invalid value for option 'url'"),
        (dict(client_ids=[]), "Invalid value for option 'client_ids': []. Allowed: a list of 1 to 100 audiences"),
        (dict(thumbprints=["abc"]), "Invalid value for option 'thumbprints': 'abc'. Allowed: SHA-1 thumbprints"),
        (dict(thumbprints=[THUMB_A] * 6), "Allowed: at most 5 thumbprints"),
        (dict(tags={"aws:reserved": "x"}), "Invalid value for option 'tags': 'aws:reserved'"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, aws_env, moto_endpoint, url, api_calls, extra, fragment):
    base = args(moto_endpoint, url)
    base.update(extra)
    result = run_module(iam_oidc_provider, base)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
