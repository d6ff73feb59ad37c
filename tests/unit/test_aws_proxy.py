"""scripts/aws_proxy.py and scripts/aws_requestlog.py: the request-logging, fault-injecting
proxy between AWS clients and the moto server.

The proxy runs as a process (stopped by its PID) in front of the session's moto server, or in
front of a small in-test HTTP server for the framing checks. boto3 talks to it as it would to
AWS; the tests read its request log, its control endpoints and moto directly."""
from __future__ import annotations

import http.client
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import botocore.endpoint
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from botocore.retries.standard import (RetryContext, RetryEventAdapter, ThrottlingErrorDetector,
                                       TransientRetryableChecker)

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / "scripts" / "aws_proxy.py"
REQUESTLOG = ROOT / "scripts" / "aws_requestlog.py"
REGION = "us-west-2"
# moto keeps accounts apart: this module works in its own account (moto's x-moto-account-id
# header), so the resources it makes and counts do not meet those of other tests.
ACCOUNT = "424242424242"


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


aws_proxy = _load(PROXY, "aws_proxy_under_test")
aws_requestlog = _load(REQUESTLOG, "aws_requestlog_under_test")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proxy:
    def __init__(self, upstream, log, *extra):
        self.port = _free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = log
        self.stderr = open(str(log) + ".stderr", "w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, str(PROXY), "--port", str(self.port), "--upstream", upstream,
             "--log", str(log), *extra],
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.time() + 30
        while True:
            try:
                self.health()
                break
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("the AWS proxy did not start")
                time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.stderr.close()

    def _call(self, method, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def health(self):
        return self._call("GET", "/_proxy/health")[1]

    def config(self, **settings):
        status, body = self._call("POST", "/_proxy/config", settings)
        assert status == 200, body
        return body["config"]

    def reset_log(self):
        assert self._call("POST", "/_proxy/reset-log", {})[0] == 200

    def entries(self):
        return aws_requestlog.load(self.log)

    def client(self, service, region=REGION, **retries):
        retries = retries or {"mode": "standard", "total_max_attempts": 1}
        return in_account(boto3.client(service, endpoint_url=self.url, region_name=region,
                                       aws_access_key_id="testing", aws_secret_access_key="testing",
                                       config=Config(retries=retries)))


def in_account(client):
    def add_header(request, **kwargs):
        request.headers["x-moto-account-id"] = ACCOUNT

    client.meta.events.register("before-sign", add_header)
    return client


def moto_client(moto_endpoint, service, region=REGION):
    return in_account(boto3.client(service, endpoint_url=moto_endpoint, region_name=region,
                                   aws_access_key_id="testing", aws_secret_access_key="testing"))


@pytest.fixture(scope="module")
def proxy_server(moto_endpoint, tmp_path_factory):
    proxy = Proxy(moto_endpoint, tmp_path_factory.mktemp("aws-proxy") / "requests.jsonl")
    yield proxy
    proxy.stop()


@pytest.fixture
def proxy(proxy_server):
    """The module's proxy with faults off and an empty log."""
    proxy_server.config(throttle_rate=0, error_rate=0, fault_after=0, seed=1)
    proxy_server.reset_log()
    yield proxy_server
    proxy_server.config(throttle_rate=0, error_rate=0, fault_after=0)


@pytest.fixture
def no_sleep(monkeypatch):
    """botocore's retry back-off sleeps recorded instead of slept."""
    delays = []
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=delays.append))
    return delays


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def logged(proxy):
    return [(e["service"], e["operation"], e["mutating"]) for e in proxy.entries()]


# ---------------------------------------------------------------------------------------------
# Forwarding and the request log


def test_forwards_and_logs_service_and_operation(proxy):
    ec2 = proxy.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    assert vpc in [v["VpcId"] for v in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]]

    kms = proxy.client("kms")
    key = kms.create_key(Description="proxy test")["KeyMetadata"]["KeyId"]
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] == key

    iam = proxy.client("iam")
    role = unique("proxy-role")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    assert iam.get_role(RoleName=role)["Role"]["RoleName"] == role

    route53 = proxy.client("route53")
    name = unique("zone") + ".example.com"
    zone = route53.create_hosted_zone(Name=name, CallerReference=unique("ref"))["HostedZone"]["Id"]
    assert route53.list_hosted_zones_by_name(DNSName=name)["HostedZones"][0]["Id"] == zone
    assert route53.get_hosted_zone(Id=zone)["HostedZone"]["Name"] == name + "."

    s3 = proxy.client("s3")
    bucket = unique("proxy-bucket")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "platform"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "platform"}]
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    eks = proxy.client("eks")
    cluster = unique("cluster")
    eks.create_cluster(name=cluster, roleArn="arn:aws:iam::%s:role/%s" % (ACCOUNT, role),
                       resourcesVpcConfig={"subnetIds": []})
    assert eks.describe_cluster(name=cluster)["cluster"]["name"] == cluster

    assert proxy.client("sts").get_caller_identity()["Account"] == ACCOUNT
    proxy.client("elbv2").describe_load_balancers()
    proxy.client("cloudwatch").describe_alarms()
    proxy.client("logs").create_log_group(logGroupName=unique("/proxy/group"))
    proxy.client("lambda").list_functions()

    assert logged(proxy) == [
        ("ec2", "CreateVpc", True), ("ec2", "DescribeVpcs", False),
        ("kms", "CreateKey", True), ("kms", "DescribeKey", False),
        ("iam", "CreateRole", True), ("iam", "GetRole", False),
        ("route53", "CreateHostedZone", True), ("route53", "ListHostedZonesByName", False),
        ("route53", "GetHostedZone", False),
        ("s3", "CreateBucket", True), ("s3", "PutBucketTagging", True), ("s3", "GetBucketTagging", False),
        ("s3", "PutBucketEncryption", True), ("s3", "GetBucketEncryption", False),
        ("s3", "PutPublicAccessBlock", True), ("s3", "PutBucketVersioning", True),
        ("s3", "GetBucketVersioning", False),
        ("eks", "CreateCluster", True), ("eks", "DescribeCluster", False),
        ("sts", "GetCallerIdentity", False), ("elbv2", "DescribeLoadBalancers", False),
        ("cloudwatch", "DescribeAlarms", False), ("logs", "CreateLogGroup", True),
        ("lambda", "ListFunctions", False),
    ]
    entries = proxy.entries()
    assert all(e["injected"] is None and 200 <= e["status"] < 300 for e in entries)
    assert [e["status"] for e in entries if e["operation"] == "CreateHostedZone"] == [201]
    assert set(entries[0]) == {"ts", "service", "operation", "mutating", "status", "injected", "ms", "strict"}
    assert all(e["strict"] is None for e in entries)  # an emulator of its own (--upstream): no strict behaviour
    assert entries[0]["ts"].endswith("Z")
    assert all(isinstance(e["ms"], float) and 0 <= e["ms"] < 60000 for e in entries)


def test_log_holds_no_bodies_headers_or_credentials(proxy):
    secret = "sekrit-" + uuid.uuid4().hex
    sm = proxy.client("secretsmanager")
    sm.create_secret(Name=unique("proxy-secret"), SecretString=secret)
    text = Path(proxy.log).read_text()
    for needle in (secret, "testing", "AWS4-HMAC-SHA256", "Credential", "Signature"):
        assert needle not in text
    assert logged(proxy) == [("secretsmanager", "CreateSecret", True)]


def test_s3_objects_stream_through(proxy):
    s3 = proxy.client("s3")
    bucket = unique("proxy-objects")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    payload = os.urandom(3 * 1024 * 1024 + 7)  # large enough for botocore's Expect: 100-continue
    s3.put_object(Bucket=bucket, Key="dir/blob.bin", Body=payload)
    assert s3.get_object(Bucket=bucket, Key="dir/blob.bin")["Body"].read() == payload
    head = s3.head_object(Bucket=bucket, Key="dir/blob.bin")
    assert head["ContentLength"] == len(payload)
    ranged = s3.get_object(Bucket=bucket, Key="dir/blob.bin", Range="bytes=10-19")
    assert ranged["Body"].read() == payload[10:20]
    s3.copy_object(Bucket=bucket, Key="copy.bin", CopySource={"Bucket": bucket, "Key": "dir/blob.bin"})
    s3.put_object_tagging(Bucket=bucket, Key="copy.bin", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="copy.bin")["TagSet"] == [{"Key": "k", "Value": "v"}]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="multi.bin")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="multi.bin", UploadId=upload, PartNumber=1, Body=b"abc")
    assert s3.list_parts(Bucket=bucket, Key="multi.bin", UploadId=upload)["Parts"][0]["PartNumber"] == 1
    s3.complete_multipart_upload(Bucket=bucket, Key="multi.bin", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == ["copy.bin", "dir/blob.bin", "multi.bin"]
    assert s3.delete_object(Bucket=bucket, Key="copy.bin")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert [op for _, op, _ in logged(proxy)] == [
        "CreateBucket", "PutObject", "GetObject", "HeadObject", "GetObject", "CopyObject",
        "PutObjectTagging", "GetObjectTagging", "CreateMultipartUpload", "UploadPart", "ListParts",
        "CompleteMultipartUpload", "ListObjectsV2", "DeleteObject"]


def test_urls_built_by_moto_point_back_at_the_proxy(proxy):
    sqs = proxy.client("sqs")
    url = sqs.create_queue(QueueName=unique("proxy-queue"))["QueueUrl"]
    assert url.startswith(proxy.url + "/")
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hello"
    assert logged(proxy) == [("sqs", "CreateQueue", True), ("sqs", "SendMessage", True),
                             ("sqs", "ReceiveMessage", True)]


def test_moto_api_is_forwarded_without_faults(proxy):
    proxy.config(throttle_rate=1.0)
    with urllib.request.urlopen(proxy.url + "/moto-api/", timeout=30) as response:
        assert response.status == 200
    request = urllib.request.Request(proxy.url + "/moto-api/seed?a=42", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    entries = proxy.entries()
    assert [(e["service"], e["operation"], e["mutating"], e["injected"], e["status"]) for e in entries] == [
        ("moto", "index", False, None, 200), ("moto", "seed", True, None, 200)]
    assert aws_requestlog.summarise(entries)["mutating"] == 0
    assert proxy.health()["injected"] == {"throttle": 0, "500": 0, "503": 0}


def test_control_endpoints(proxy):
    health = proxy.health()
    assert health["status"] == "ok" and health["upstream"].startswith("http://127.0.0.1:")
    assert health["config"] == {"throttle_rate": 0.0, "error_rate": 0.0, "seed": 1, "fault_after": 0}
    assert proxy.config(throttle_rate=0.25, error_rate=0.5, seed=7, fault_after=3) == {
        "throttle_rate": 0.25, "error_rate": 0.5, "seed": 7, "fault_after": 3}
    assert proxy.health()["config"]["seed"] == 7
    for bad in ({"throttle_rate": 1.5}, {"error_rate": -0.1}, {"colour": "red"}):
        status, body = proxy._call("POST", "/_proxy/config", bad)
        assert status == 400 and body["error"]
    assert proxy._call("GET", "/_proxy/nothing")[0] == 404
    proxy.client("sts").get_caller_identity()
    assert len(proxy.entries()) == 1  # control requests are not logged
    proxy.reset_log()
    assert proxy.entries() == [] and Path(proxy.log).exists()


def test_fault_after_lets_the_setup_phase_through(proxy):
    proxy.config(throttle_rate=1.0, fault_after=3)
    sts = proxy.client("sts")
    for _ in range(3):
        sts.get_caller_identity()
    with pytest.raises(ClientError) as err:
        sts.get_caller_identity()
    assert err.value.response["Error"]["Code"] == "Throttling"
    assert [e["injected"] for e in proxy.entries()] == [None, None, None, "throttle"]


def test_hold_keeps_the_answer_of_the_nth_call_until_released(proxy, moto_endpoint):
    """The second CreateVpc is done in moto and logged, but its answer waits for the release."""
    body = proxy._call("POST", "/_proxy/config", {"hold": {"service": "ec2", "operation": "CreateVpc",
                                                           "occurrence": 2, "seconds": 30}})[1]
    assert body["hold"]["spec"] == {"service": "ec2", "operation": "CreateVpc", "occurrence": 2, "seconds": 30.0}
    ec2 = proxy.client("ec2")
    name = unique("held")
    tags = [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}]
    ec2.create_vpc(CidrBlock="10.71.0.0/16", TagSpecifications=tags)
    answers = []
    thread = threading.Thread(target=lambda: answers.append(
        ec2.create_vpc(CidrBlock="10.72.0.0/16", TagSpecifications=tags)["Vpc"]["VpcId"]))
    thread.start()
    try:
        deadline = time.time() + 10
        while len([e for e in proxy.entries() if e["operation"] == "CreateVpc"]) < 2 and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        assert not answers, "the held answer reached the client"
        found = moto_client(moto_endpoint, "ec2").describe_vpcs(
            Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
        assert sorted(v["CidrBlock"] for v in found) == ["10.71.0.0/16", "10.72.0.0/16"]
        assert proxy.health()["hold"]["held"] >= 1
    finally:
        assert proxy._call("POST", "/_proxy/config", {"hold": None})[0] == 200
        thread.join(timeout=10)
    assert answers and answers[0].startswith("vpc-")
    for bad in ({"hold": "CreateVpc"}, {"hold": {"service": "ec2"}}, {"hold": {"operation": "CreateVpc", "occurrence": 0}},
                {"hold": {"operation": "CreateVpc", "colour": "red"}}):
        status, body = proxy._call("POST", "/_proxy/config", bad)
        assert status == 400 and body["error"].startswith("hold")


# ---------------------------------------------------------------------------------------------
# Fault injection per protocol

PROTOCOLS = {
    # protocol: (service, read call, throttling code, status)
    "ec2": ("ec2", lambda c: c.describe_vpcs(), "RequestLimitExceeded", 503),
    "query": ("iam", lambda c: c.list_roles(), "Throttling", 400),
    "json": ("kms", lambda c: c.list_keys(), "ThrottlingException", 400),
    "rest-json": ("eks", lambda c: c.list_clusters(), "ThrottlingException", 429),
    "rest-json-lambda": ("lambda", lambda c: c.list_functions(), "TooManyRequestsException", 429),
    "rest-xml": ("route53", lambda c: c.list_hosted_zones(), "Throttling", 400),
    "s3": ("s3", lambda c: c.list_buckets(), "SlowDown", 503),
    "json-query-compatible": ("cloudwatch", lambda c: c.describe_alarms(), "Throttling", 400),
}


class RetryWatcher:
    """Records, for each retry decision botocore makes, whether it classed the error as
    throttling (the same check standard mode uses for its back-off and retry quota)."""

    def __init__(self, client):
        self.detector = ThrottlingErrorDetector(RetryEventAdapter())
        self.seen = []
        client.meta.events.register("needs-retry", self)

    def __call__(self, **kwargs):
        if kwargs.get("response") is not None:
            status = kwargs["response"][0].status_code
            if status >= 400:
                self.seen.append((status, self.detector.is_throttling_error(**kwargs)))
        return None


def seed_for(pattern, throttle_rate=0.0, error_rate=0.0):
    """A seed whose first decisions are ``pattern`` (replayed with FaultInjector)."""
    for seed in range(10000):
        injector = aws_proxy.FaultInjector(throttle_rate, error_rate, seed)
        if [injector.decide() for _ in pattern] == list(pattern):
            return seed
    raise AssertionError("no seed for %r" % (pattern,))


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_throttling_in_each_protocol_is_seen_as_throttling(proxy, protocol):
    service, call, code, status = PROTOCOLS[protocol]
    proxy.config(throttle_rate=1.0)
    client = proxy.client(service)
    watcher = RetryWatcher(client)
    with pytest.raises(ClientError) as err:
        call(client)
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert watcher.seen == [(status, True)]
    entry = proxy.entries()[-1]
    assert (entry["service"], entry["status"], entry["injected"]) == (service, status, "throttle")


@pytest.mark.parametrize("mode", ["standard", "legacy"])
@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_throttled_calls_are_retried_until_they_succeed(proxy, no_sleep, protocol, mode):
    service, call, _, status = PROTOCOLS[protocol]
    seed = seed_for(["throttle", "throttle", None], throttle_rate=0.5)
    proxy.config(throttle_rate=0.5, seed=seed)
    client = proxy.client(service, mode=mode, total_max_attempts=3)
    watcher = RetryWatcher(client)
    result = call(client)
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert result["ResponseMetadata"]["RetryAttempts"] == 2
    assert watcher.seen == [(status, True), (status, True)]
    assert len(no_sleep) == 2
    assert [(e["injected"], e["status"]) for e in proxy.entries()] == [
        ("throttle", status), ("throttle", status), (None, 200)]


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_server_errors_in_each_protocol_are_retryable(proxy, protocol):
    service, call, _, _ = PROTOCOLS[protocol]
    seed = seed_for(["500", "503"], error_rate=1.0)
    proxy.config(error_rate=1.0, seed=seed)
    client = proxy.client(service)
    got = []
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            call(client)
        got.append((err.value.response["ResponseMetadata"]["HTTPStatusCode"],
                    err.value.response["Error"]["Code"]))
        context = RetryContext(attempt_number=1, http_response=types.SimpleNamespace(status_code=got[-1][0]),
                               parsed_response=err.value.response)
        assert TransientRetryableChecker().is_retryable(context)
    assert got == [(500, "InternalError"), (503, "ServiceUnavailable")]
    assert [(e["injected"], e["status"]) for e in proxy.entries()] == [("500", 500), ("503", 503)]


def test_injected_requests_never_reach_moto(proxy, moto_endpoint):
    region = "ca-central-1"
    direct = moto_client(moto_endpoint, "ec2", region)
    before = len(direct.describe_vpcs()["Vpcs"])
    proxy.config(throttle_rate=0.5, error_rate=0.5)
    bucket, role = unique("never-made"), unique("never-made")
    calls = [
        lambda: proxy.client("ec2", region).create_vpc(CidrBlock="10.9.0.0/16"),
        lambda: proxy.client("s3").create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}),
        lambda: proxy.client("iam").create_role(RoleName=role, AssumeRolePolicyDocument="{}"),
    ]
    for make in calls:
        for _ in range(3):
            with pytest.raises(ClientError):
                make()
    assert len(direct.describe_vpcs()["Vpcs"]) == before
    with pytest.raises(ClientError):
        moto_client(moto_endpoint, "s3").head_bucket(Bucket=bucket)
    with pytest.raises(ClientError):
        moto_client(moto_endpoint, "iam").get_role(RoleName=role)
    assert all(e["injected"] for e in proxy.entries()) and len(proxy.entries()) == 9


def test_seeded_faults_are_survived_and_replayable(proxy, moto_endpoint, no_sleep):
    seed, throttle_rate, error_rate, calls = 20240611, 0.10, 0.05, 100
    region = "eu-north-1"
    direct = moto_client(moto_endpoint, "ec2", region)
    vpcs_before = len(direct.describe_vpcs()["Vpcs"])
    proxy.config(throttle_rate=throttle_rate, error_rate=error_rate, seed=seed, fault_after=0)
    retries = {"mode": "standard", "max_attempts": 10}
    ec2 = proxy.client("ec2", region, **retries)
    clients = [
        lambda: ec2.create_vpc(CidrBlock="10.77.0.0/16"),
        lambda: ec2.describe_vpcs(),
        lambda: kms.list_keys(),
        lambda: iam.list_roles(MaxItems=5),
        lambda: s3.list_buckets(),
    ]
    kms = proxy.client("kms", **retries)
    iam = proxy.client("iam", **retries)
    s3 = proxy.client("s3", **retries)
    for number in range(calls):
        result = clients[number % len(clients)]()
        assert result["ResponseMetadata"]["HTTPStatusCode"] == 200

    # Replay the seed: every injected answer costs one more request of the same call.
    replay = aws_proxy.FaultInjector(throttle_rate, error_rate, seed)
    expected = {"throttle": 0, "500": 0, "503": 0}
    for _ in range(calls):
        while True:
            fault = replay.decide()
            if fault is None:
                break
            expected[fault] += 1
    assert expected["throttle"] > 0 and expected["500"] + expected["503"] > 0

    entries = proxy.entries()
    injected = [e["injected"] for e in entries if e["injected"]]
    assert {kind: injected.count(kind) for kind in expected} == expected
    assert len(entries) == calls + sum(expected.values())
    assert proxy.health()["injected"] == expected
    summary = aws_requestlog.summarise(entries)
    assert summary["injected"] == sum(expected.values())
    assert summary["total"] == len(entries)
    # Every CreateVpc that was answered by the proxy was retried, and moto saw each call once.
    assert len(direct.describe_vpcs()["Vpcs"]) == vpcs_before + calls // len(clients)
    forwarded = [e for e in entries if e["operation"] == "CreateVpc" and not e["injected"]]
    assert len(forwarded) == calls // len(clients)


# ---------------------------------------------------------------------------------------------
# Wire formats (parsed by botocore's own parsers) and request classification


@pytest.fixture(scope="module")
def classifier():
    return aws_proxy.Classifier()


@pytest.mark.parametrize("kind, protocol, service", [
    ("ec2", "ec2", "ec2"), ("query", "query", "iam"), ("json", "json", "kms"),
    ("rest-json", "rest-json", "eks"), ("rest-xml", "rest-xml", "route53"), ("s3", "rest-xml", "s3"),
    ("cbor", "smithy-rpc-v2-cbor", "cloudwatch"),
])
@pytest.mark.parametrize("fault, codes", [
    ("throttle", None), ("500", ("InternalError", 500)), ("503", ("ServiceUnavailable", 503))])
def test_fault_bodies_parse_as_the_intended_errors(classifier, kind, protocol, service, fault, codes):
    model = classifier.registry.model(service)
    status, headers, body = aws_proxy.fault_response(fault, kind, model)
    parsed = create_parser(protocol).parse(
        {"status_code": status, "headers": {k.lower(): v for k, v in headers}, "body": body}, None)
    if fault == "throttle":
        expected = {"ec2": "RequestLimitExceeded", "query": "Throttling", "json": "ThrottlingException",
                    "rest-json": "ThrottlingException", "rest-xml": "Throttling", "s3": "SlowDown",
                    "cbor": "Throttling"}[kind]  # cloudwatch is query-compatible
        context = RetryContext(attempt_number=1, parsed_response=parsed,
                               http_response=types.SimpleNamespace(status_code=status, headers={}))
        assert ThrottlingErrorDetector(RetryEventAdapter()).is_throttling_error_from_context(context)
    else:
        expected, expected_status = codes
        assert status == expected_status
    assert parsed["Error"]["Code"] == expected


def _signed(service, region=REGION, **headers):
    auth = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/%s/%s/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=abc" % (region, service))
    return dict(headers, Authorization=auth, Host=headers.get("Host", "127.0.0.1:4566"))


FORM = "application/x-www-form-urlencoded; charset=utf-8"


@pytest.mark.parametrize("method, target, headers, body, expected", [
    # s3 path style, subresources and operations sharing a URI
    ("GET", "/bkt?tagging", _signed("s3"), b"", ("s3", "GetBucketTagging", False)),
    ("PUT", "/bkt?versioning", _signed("s3"), b"x", ("s3", "PutBucketVersioning", True)),
    ("DELETE", "/bkt?policy", _signed("s3"), b"", ("s3", "DeleteBucketPolicy", True)),
    ("PUT", "/bkt?publicAccessBlock", _signed("s3"), b"x", ("s3", "PutPublicAccessBlock", True)),
    ("GET", "/bkt?encryption", _signed("s3"), b"", ("s3", "GetBucketEncryption", False)),
    ("GET", "/bkt?list-type=2&prefix=a", _signed("s3"), b"", ("s3", "ListObjectsV2", False)),
    ("GET", "/bkt?prefix=a", _signed("s3"), b"", ("s3", "ListObjects", False)),
    ("GET", "/", _signed("s3"), b"", ("s3", "ListBuckets", False)),
    ("HEAD", "/bkt", _signed("s3"), b"", ("s3", "HeadBucket", False)),
    ("GET", "/bkt/a/b/c.txt?tagging", _signed("s3"), b"", ("s3", "GetObjectTagging", False)),
    ("PUT", "/bkt/a/b.txt", _signed("s3"), b"x", ("s3", "PutObject", True)),
    ("PUT", "/bkt/a/b.txt", _signed("s3", **{"x-amz-copy-source": "src/k"}), b"", ("s3", "CopyObject", True)),
    ("PUT", "/bkt/a/b.txt?partNumber=1&uploadId=u", _signed("s3"), b"x", ("s3", "UploadPart", True)),
    ("PUT", "/bkt/a/b.txt?partNumber=1&uploadId=u", _signed("s3", **{"x-amz-copy-source": "s/k"}), b"",
     ("s3", "UploadPartCopy", True)),
    ("POST", "/bkt?delete", _signed("s3"), b"x", ("s3", "DeleteObjects", True)),
    # s3 virtual-host style and a presigned URL
    ("GET", "/?tagging", _signed("s3", Host="my.bkt.s3.us-west-2.amazonaws.com"), b"",
     ("s3", "GetBucketTagging", False)),
    ("PUT", "/key.txt", _signed("s3", Host="bkt.localhost:4566"), b"x", ("s3", "PutObject", True)),
    ("GET", "/bkt/key.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20250101%2Fus-west-2%2Fs3%2Faws4_request"
     "&X-Amz-Signature=abc", {"Host": "127.0.0.1:4566"}, b"", ("s3", "GetObject", False)),
    # rest-json / rest-xml templates, trailing slashes
    ("GET", "/2015-03-31/functions/", _signed("lambda"), b"", ("lambda", "ListFunctions", False)),
    ("GET", "/2015-03-31/functions/fn/configuration", _signed("lambda"), b"",
     ("lambda", "GetFunctionConfiguration", False)),
    ("POST", "/2013-04-01/hostedzone/Z1/rrset/", _signed("route53", "us-east-1"), b"x",
     ("route53", "ChangeResourceRecordSets", True)),
    ("GET", "/2013-04-01/hostedzonecount", _signed("route53", "us-east-1"), b"",
     ("route53", "GetHostedZoneCount", False)),
    ("POST", "/clusters/c1/node-groups", _signed("eks"), b"{}", ("eks", "CreateNodegroup", True)),
    ("GET", "/clusters/c1/node-groups/ng", _signed("eks"), b"", ("eks", "DescribeNodegroup", False)),
    ("POST", "/v2/email/identities", _signed("ses"), b"{}", ("sesv2", "CreateEmailIdentity", True)),
    # query / ec2 / json / cbor
    ("POST", "/", _signed("ec2", **{"Content-Type": FORM}), b"Action=CreateVpc&Version=2016-11-15",
     ("ec2", "CreateVpc", True)),
    ("POST", "/", _signed("elasticloadbalancing", **{"Content-Type": FORM}),
     b"Action=DescribeLoadBalancers&Version=2012-06-01", ("elb", "DescribeLoadBalancers", False)),
    ("POST", "/", _signed("elasticloadbalancing", **{"Content-Type": FORM}),
     b"Action=DescribeLoadBalancers&Version=2015-12-01", ("elbv2", "DescribeLoadBalancers", False)),
    ("POST", "/", _signed("ses", **{"Content-Type": FORM}), b"Action=SendEmail&Version=2010-12-01",
     ("ses", "SendEmail", True)),
    ("POST", "/", _signed("sts", "us-east-1", **{"Content-Type": FORM}), b"Action=AssumeRole&Version=2011-06-15",
     ("sts", "AssumeRole", False)),
    ("POST", "/", {"Content-Type": FORM}, b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15",
     ("sts", "AssumeRoleWithWebIdentity", False)),
    ("GET", "/?Action=ListUsers&Version=2010-05-08", _signed("iam", "us-east-1"), b"", ("iam", "ListUsers", False)),
    ("POST", "/", _signed("kms", **{"X-Amz-Target": "TrentService.ScheduleKeyDeletion"}), b"{}",
     ("kms", "ScheduleKeyDeletion", True)),
    ("POST", "/", _signed("dynamodb", **{"X-Amz-Target": "DynamoDB_20120810.BatchGetItem"}), b"{}",
     ("dynamodb", "BatchGetItem", False)),
    ("POST", "/", _signed("monitoring", **{"X-Amz-Target": "GraniteServiceVersion20100801.PutMetricAlarm"}),
     b"{}", ("cloudwatch", "PutMetricAlarm", True)),
    ("POST", "/service/GraniteServiceVersion20100801/operation/GetMetricData",
     _signed("monitoring", **{"smithy-protocol": "rpc-v2-cbor"}), b"\xa0", ("cloudwatch", "GetMetricData", False)),
    # SigV4a scope (no region)
    ("GET", "/bkt?tagging", {"Authorization": "AWS4-ECDSA-P256-SHA256 Credential=AK/20250101/s3/aws4_request, "
                                              "SignedHeaders=host, Signature=abc", "Host": "127.0.0.1"}, b"",
     ("s3", "GetBucketTagging", False)),
    # moto's own API
    ("POST", "/moto-api/reset", {}, b"", ("moto", "reset", True)),
    ("GET", "/moto-api/data.json", {}, b"", ("moto", "data.json", False)),
])
def test_classifies_requests(classifier, method, target, headers, body, expected):
    info = classifier.classify(method, target, headers, body)
    assert (info.service, info.operation, info.mutating) == expected


def test_unsigned_unknown_requests_are_logged_as_unknown(classifier):
    info = classifier.classify("GET", "/whatever", {"Host": "127.0.0.1"}, b"")
    assert (info.service, info.operation, info.mutating) == ("unknown", None, False)
    info = classifier.classify("POST", "/whatever", {"Host": "127.0.0.1"}, b"")
    assert info.mutating is True


@pytest.mark.parametrize("service, operation, mutating", [
    ("ec2", "DescribeVpcs", False), ("ec2", "CreateVpc", True), ("s3", "HeadObject", False),
    ("dynamodb", "BatchGetItem", False), ("dynamodb", "BatchWriteItem", True), ("dynamodb", "Query", False),
    ("dynamodb", "Scan", False), ("s3", "SelectObjectContent", False), ("route53", "ListHostedZones", False),
    ("sts", "AssumeRole", False), ("sts", "GetCallerIdentity", False), ("sts", "GetSessionToken", False),
    ("iam", "AssumeRole", True), ("kms", "Encrypt", True), ("acm", "RequestCertificate", True),
    ("route53domains", "CheckDomainAvailability", False), ("cloudsearch", "SearchThings", False),
    ("ec2", "Getaway", True), ("servicediscovery", "LookupThings", False),
])
def test_mutating_rule(service, operation, mutating):
    assert aws_proxy.is_mutating(service, operation) is mutating


def test_fault_injector_is_seeded_and_counts():
    a = aws_proxy.FaultInjector(0.3, 0.2, seed=99, fault_after=5)
    b = aws_proxy.FaultInjector(0.3, 0.2, seed=99, fault_after=5)
    first = [a.decide() for _ in range(200)]
    assert first == [b.decide() for _ in range(200)]
    assert first[:5] == [None] * 5
    assert set(first) == {None, "throttle", "500", "503"}
    assert a.counts == {kind: first.count(kind) for kind in ("throttle", "500", "503")}
    a.configure(seed=99, fault_after=5)
    assert [a.decide() for _ in range(200)] == first


# ---------------------------------------------------------------------------------------------
# HTTP framing, against a scripted upstream


class ScriptedUpstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        ScriptedUpstream.seen.append((self.command, self.path, self.headers.get("Host"),
                                      self.headers.get("Transfer-Encoding"), body))
        route = self.path.split("?")[0]
        if route == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif route == "/empty":
            self.send_response(204)
            self.end_headers()
        elif route == "/not-modified":
            self.send_response(304)
            self.send_header("ETag", '"abc"')
            self.end_headers()
        elif route == "/until-close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x" * 100000)
            self.close_connection = True
        else:
            payload = b"echo:" + body
            self.send_response(200)
            self.send_header("Content-Length", "12345" if self.command == "HEAD" else str(len(payload)))
            self.send_header("X-Custom", "kept")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _answer


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedUpstream)
    upstream.daemon_threads = True
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    proxy = Proxy("http://127.0.0.1:%d" % upstream.server_address[1],
                  tmp_path_factory.mktemp("aws-proxy-framing") / "requests.jsonl")
    yield proxy
    proxy.stop()
    upstream.shutdown()
    upstream.server_close()


def test_framing_over_one_keep_alive_connection(scripted):
    ScriptedUpstream.seen.clear()
    conn = http.client.HTTPConnection("127.0.0.1", scripted.port, timeout=10)
    try:
        conn.request("GET", "/chunked", headers=_signed("eks"))
        response = conn.getresponse()
        assert response.status == 200 and response.read() == b"hello chunked world"
        conn.request("GET", "/empty", headers=_signed("eks"))
        response = conn.getresponse()
        assert response.status == 204 and response.read() == b""
        conn.request("GET", "/not-modified", headers=_signed("eks"))
        response = conn.getresponse()
        assert response.status == 304 and response.read() == b"" and response.getheader("ETag") == '"abc"'
        conn.request("HEAD", "/echo", headers=_signed("eks"))
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("Content-Length") == "12345"
        assert response.read() == b""
        conn.request("PUT", "/echo?x=1", body=b"payload", headers=_signed("eks", Host="client.example:1"))
        response = conn.getresponse()
        assert response.read() == b"echo:payload" and response.getheader("X-Custom") == "kept"
        conn.request("GET", "/until-close", headers=_signed("eks"))
        response = conn.getresponse()
        assert response.read() == b"x" * 100000
    finally:
        conn.close()
    assert ScriptedUpstream.seen[4][:3] == ("PUT", "/echo?x=1", "client.example:1")  # Host kept as signed


def test_chunked_request_bodies_are_forwarded(scripted):
    ScriptedUpstream.seen.clear()
    conn = http.client.HTTPConnection("127.0.0.1", scripted.port, timeout=10)
    try:
        conn.request("POST", "/echo", body=iter([b"abc", b"defg"]), headers=_signed("eks"), encode_chunked=True)
        response = conn.getresponse()
        assert response.read() == b"echo:abcdefg"
    finally:
        conn.close()
    method, _, _, transfer_encoding, body = ScriptedUpstream.seen[-1]
    assert (method, transfer_encoding, body) == ("POST", None, b"abcdefg")


def test_malformed_request_bodies_get_400(scripted):
    with socket.create_connection(("127.0.0.1", scripted.port), timeout=10) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")


def test_cli_pidfile_and_rate_checks(tmp_path):
    pidfile = tmp_path / "proxy.pid"
    proxy = Proxy("http://127.0.0.1:9", tmp_path / "requests.jsonl", "--pidfile", str(pidfile), "--seed", "5")
    try:
        assert int(pidfile.read_text()) == proxy.proc.pid
        assert proxy.health()["config"]["seed"] == 5
    finally:
        proxy.stop()
    assert not pidfile.exists()
    done = subprocess.run([sys.executable, str(PROXY), "--port", "0", "--upstream", "http://127.0.0.1:9",
                           "--log", str(tmp_path / "x.jsonl"), "--throttle-rate", "2"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "throttle_rate" in done.stderr


def test_upstream_down_answers_502(tmp_path):
    proxy = Proxy("http://127.0.0.1:%d" % _free_port(), tmp_path / "requests.jsonl")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        conn.request("GET", "/clusters", headers=_signed("eks"))
        assert conn.getresponse().status == 502
        conn.close()
        assert [(e["service"], e["operation"], e["status"]) for e in proxy.entries()] == [
            ("eks", "ListClusters", 502)]
    finally:
        proxy.stop()


# ---------------------------------------------------------------------------------------------
# scripts/aws_requestlog.py


def test_requestlog_summary_and_cli(tmp_path):
    log = tmp_path / "requests.jsonl"
    rows = [
        {"service": "ec2", "operation": "CreateVpc", "mutating": True, "status": 200, "injected": None},
        {"service": "ec2", "operation": "CreateVpc", "mutating": True, "status": 503, "injected": "throttle"},
        {"service": "ec2", "operation": "DescribeVpcs", "mutating": False, "status": 200, "injected": None},
        {"service": "moto", "operation": "reset", "mutating": True, "status": 200, "injected": None},
    ]
    log.write_text("".join(json.dumps(dict(r, ts="2025-01-01T00:00:00.000Z")) + "\n" for r in rows)
                   + "\n{not json\n")
    entries = aws_requestlog.load(log)
    assert len(entries) == 4
    assert aws_requestlog.summarise(entries) == {
        "total": 4, "mutating": 2, "injected": 1,
        "by_operation": {"ec2:CreateVpc": 2, "ec2:DescribeVpcs": 1, "moto:reset": 1}}
    out = subprocess.run([sys.executable, str(REQUESTLOG), str(log), "--mutating"],
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"total": 2, "mutating": 2, "injected": 1, "by_operation": {"ec2:CreateVpc": 2}}
    out = subprocess.run([sys.executable, str(REQUESTLOG), str(log)], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out)["total"] == 4
