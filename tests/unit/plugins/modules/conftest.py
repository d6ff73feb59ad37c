"""Fixtures shared by the module tests.

* ``moto_client``: boto3 clients of the moto server, to set up and read back what a
  module did;
* ``api_calls``: the name of every AWS API operation made through botocore;
* ``stub_client``: hands the module botocore Stubber-backed clients;
* ``no_sleep``: polling without waiting.
"""
from __future__ import annotations

import copy

import boto3
import botocore.client
import pytest
from botocore.stub import Stubber


@pytest.fixture
def moto_client(moto_endpoint, aws_env):
    """``moto_client("ec2")``: a boto3 client of the moto server (region us-west-2)."""

    def make(service):
        return boto3.client(service, endpoint_url=moto_endpoint, region_name="us-west-2")

    return make


@pytest.fixture
def api_calls(monkeypatch):
    """Records the name of every AWS API operation made through botocore."""
    calls = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


@pytest.fixture
def stub_client(monkeypatch, aws_env):
    """Hands the module a botocore Stubber-backed client; ``factory.sent``
    records (operation, params) of every call."""
    from ansible_collections.amazon.aws.plugins.module_utils import botocore as aws_botocore

    clients = {}
    sent = []

    def factory(service):
        client = boto3.client(service, region_name="us-west-2")

        def record(params, model, **kwargs):
            sent.append((model.name, copy.deepcopy(params)))

        client.meta.events.register("provide-client-params.%s.*" % service, record)
        clients[service] = client
        return Stubber(client)

    def fake_conn(conn_type, resource=None, region=None, endpoint=None, **params):
        return clients[resource]

    monkeypatch.setattr(aws_botocore, "_boto3_conn", fake_conn)
    factory.sent = sent
    return factory


@pytest.fixture
def no_sleep(monkeypatch):
    import time

    monkeypatch.setattr(time, "sleep", lambda seconds: None)
