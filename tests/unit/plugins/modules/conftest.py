"""Fixtures shared by the module tests.

* ``moto_client``: boto3 clients of the moto server, to set up and read back what a
  module did;
* ``stub_client``: hands the module botocore Stubber-backed clients;
* ``no_sleep``: polling without waiting;
* ``local_eks``: the local EKS service (scripts/local_aws/eks.py) behind a 127.0.0.1 HTTP
  server (tests/unit/local_aws/eks_harness.py), with its fake environment
  (``local_eks.env``) and every answer checked against botocore's EKS model at the end;
  ``eks_clock``: the modules' polling sleeps move that environment's clock on instead.
"""
from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber


@pytest.fixture
def moto_client(moto_endpoint, aws_env):
    """``moto_client("ec2")``: a boto3 client of the moto server (region us-west-2)."""

    def make(service):
        return boto3.client(service, endpoint_url=moto_endpoint, region_name="us-west-2")

    return make


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


@pytest.fixture
def local_eks(aws_env):
    """The local EKS service behind a local HTTP server; yields the server (``.url``,
    ``.env``, ``.client()``)."""
    harness_dir = str(Path(__file__).resolve().parents[2] / "local_aws")
    if harness_dir not in sys.path:
        sys.path.insert(0, harness_dir)
    import eks_harness

    # real-AWS durations at the local runs' scale, so polling loops stay short
    server = eks_harness.LocalEksServer(eks_harness.FakeEnvironment(scale=eks_harness.core.DEFAULT_SCALE)).start()
    yield server
    server.stop()
    problems = server.problems()
    assert problems == [], "answers that do not fit botocore's EKS model:\n" + "\n".join(problems)


@pytest.fixture
def eks_clock(monkeypatch, local_eks):
    """Waiting takes no time: every sleep moves the local EKS clock on by as much."""
    monkeypatch.setattr(time, "sleep", local_eks.env.advance)
