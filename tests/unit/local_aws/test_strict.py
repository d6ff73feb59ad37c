"""The strict behaviours of the local AWS (scripts/local_aws) through a real proxy.

One proxy per module runs moto in its own process (``scripts/aws_proxy.py`` without
``--upstream``), as ``scripts/local.sh`` starts it, at a high time scale so the tests are
quick; boto3 clients talk to it, so every answer is what botocore parses. Static keys
(``testing``) are the administrator of the account ``x-moto-account-id`` names; sessions
come from AssumeRole.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[3]
PROXY = ROOT / "scripts" / "aws_proxy.py"
sys.path.insert(0, str(ROOT / "scripts"))

from local_aws import zones  # noqa: E402

ACCOUNT = "111122223333"
OTHER = "444455556666"
REGION = "us-west-2"
SCALE = 300.0
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
ONE_TRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalAws:
    def __init__(self, tmp, *options):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
        env.pop("MOTO_ACCOUNT_ID", None)
        self.proc = subprocess.Popen(
            [sys.executable, str(PROXY), "--port", str(self.port), "--log", str(tmp / "requests.jsonl"),
             "--time-scale", str(SCALE), "--session-scale", str(SCALE), "--strict-seed", "7",
             "--public-domain", "example.org@%s" % ACCOUNT, *options],
            env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "proxy.log", "w"))
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/_proxy/health", timeout=1)
                break
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.proc.kill()
                    raise RuntimeError("the local AWS did not start: %s" % (tmp / "proxy.log").read_text())
                time.sleep(0.2)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def control(self, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method="GET" if data is None else "POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def admin(self, service, account=ACCOUNT, region=REGION):
        client = boto3.client(service, endpoint_url=self.url, region_name=region, aws_access_key_id="testing",
                              aws_secret_access_key="testing", config=ONE_TRY)
        client.meta.events.register("before-sign",
                                    lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
        return client

    def caller(self, service, region=REGION):
        """The orchestration account's administrator (moto's default account)."""
        return boto3.client(service, endpoint_url=self.url, region_name=region, aws_access_key_id="testing",
                            aws_secret_access_key="testing", config=ONE_TRY)

    def session(self, credentials, service, region=REGION):
        return boto3.client(service, endpoint_url=self.url, region_name=region, config=ONE_TRY,
                            aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"])


@pytest.fixture(scope="module")
def local_aws(tmp_path_factory):
    server = LocalAws(tmp_path_factory.mktemp("local-aws"))
    yield server
    server.stop()


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def wait_until(check, seconds=15):
    deadline = time.time() + seconds
    while True:
        try:
            return check()
        except botocore.exceptions.ClientError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def allowed_role(local_aws, name, **extra):
    """A role the tests may assume, allowed everything (IAM is enforced)."""
    iam = local_aws.admin("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), **extra)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="everything", PolicyDocument=json.dumps(EVERYTHING))
    return arn


def assumable_role(local_aws, name=None, duration=3600):
    name = name or unique("deploy")
    arn = allowed_role(local_aws, name, MaxSessionDuration=max(3600, duration))
    return wait_until(lambda: local_aws.caller("sts").assume_role(
        RoleArn=arn, RoleSessionName="tests", DurationSeconds=duration))["Credentials"]


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value.response["Error"]


# ---------------------------------------------------------------------------------------------
# Credentials


def test_sessions_expire_after_their_duration_divided_by_the_scale(local_aws):
    credentials = assumable_role(local_aws, duration=900)
    issued = time.time()
    lifetime = credentials["Expiration"].timestamp() - issued
    assert 900 / SCALE - 2 <= lifetime <= 900 / SCALE + 1  # the answer says the scaled expiry
    local_aws.session(credentials, "ec2").describe_vpcs()
    time.sleep(max(0.0, credentials["Expiration"].timestamp() - time.time()) + 0.3)
    for service, call, code in (
            ("ec2", lambda c: c.describe_vpcs(), "RequestExpired"),
            ("iam", lambda c: c.list_roles(), "ExpiredToken"),
            ("kms", lambda c: c.list_keys(), "ExpiredTokenException"),
            ("eks", lambda c: c.list_clusters(), "ExpiredTokenException"),
            ("route53", lambda c: c.list_hosted_zones(), "ExpiredToken")):
        assert error_of(lambda: call(local_aws.session(credentials, service)))["Code"] == code, service


def test_a_refreshing_profile_outlives_its_sessions(local_aws, tmp_path, monkeypatch):
    name = unique("deploy")
    allowed_role(local_aws, name)
    config = tmp_path / "config"
    config.write_text("[profile deploy]\nrole_arn = arn:aws:iam::%s:role/%s\nduration_seconds = 900\n"
                      "credential_source = Environment\n" % (ACCOUNT, name))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_aws.url)
    time.sleep(4.1)  # the new role propagates
    ec2 = boto3.Session(profile_name="deploy", region_name=REGION).client("ec2", config=ONE_TRY)
    ec2.describe_vpcs()
    time.sleep(900 / SCALE + 0.5)  # longer than one session
    ec2.describe_vpcs()  # botocore assumed the role again by itself


# ---------------------------------------------------------------------------------------------
# Eventual consistency


def test_a_new_role_is_not_yet_a_principal_nor_assumable(local_aws):
    iam = local_aws.admin("iam")
    first = iam.create_role(RoleName=unique("first"), AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": first}, "Action": "sts:AssumeRole"}]}
    refused = error_of(lambda: iam.create_role(RoleName=unique("second"), AssumeRolePolicyDocument=json.dumps(trust)))
    assert refused["Code"] == "MalformedPolicyDocument"
    assert refused["Message"] == 'Invalid principal in policy: "AWS":"%s"' % first
    denied = error_of(lambda: local_aws.caller("sts").assume_role(RoleArn=first, RoleSessionName="tests"))
    assert denied["Code"] == "AccessDenied"
    wait_until(lambda: iam.create_role(RoleName=unique("second"), AssumeRolePolicyDocument=json.dumps(trust)))
    wait_until(lambda: local_aws.caller("sts").assume_role(RoleArn=first, RoleSessionName="tests"))


def test_a_consistency_window_can_be_set_wider_or_shut(local_aws, tmp_path):
    assert local_aws.control("/_aws/config")["settings"]["consistency_windows"] == {}
    try:
        settings = local_aws.control("/_aws/config", {"consistency_windows": {"iam": [0, 0]}})["settings"]
        assert settings["consistency_windows"] == {"iam": [0.0, 0.0]}
        arn = allowed_role(local_aws, unique("at-once"))
        local_aws.caller("sts").assume_role(RoleArn=arn, RoleSessionName="tests")  # no window: at once
        with pytest.raises(urllib.error.HTTPError) as refused:
            local_aws.control("/_aws/config", {"consistency_windows": {"s3": [1, 2]}})
        assert refused.value.code == 400
    finally:
        local_aws.control("/_aws/config", {"consistency_windows": {}})
    # from the environment (local.sh passes it on): a window of 30 s still refuses after 3 s
    server = LocalAws(tmp_path, "--consistency-windows", "iam=30-30")
    try:
        assert server.control("/_aws/config")["settings"]["consistency_windows"] == {"iam": [30.0, 30.0]}
        arn = allowed_role(server, unique("slow"))
        time.sleep(3)
        assert error_of(lambda: server.caller("sts").assume_role(RoleArn=arn, RoleSessionName="tests"))["Code"] == "AccessDenied"
    finally:
        server.stop()


def test_ec2_describes_by_id_answer_not_found_for_a_moment(local_aws):
    ec2 = local_aws.admin("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    error = error_of(lambda: ec2.describe_vpcs(VpcIds=[vpc]))
    assert (error["Code"], error["Message"]) == ("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist" % vpc)
    ec2.describe_vpcs()  # a describe without ids does not fail
    assert wait_until(lambda: ec2.describe_vpcs(VpcIds=[vpc]))["Vpcs"][0]["VpcId"] == vpc
    group = wait_until(lambda: ec2.create_security_group(GroupName=unique("sg"), Description="d", VpcId=vpc))["GroupId"]
    assert error_of(lambda: ec2.describe_security_groups(GroupIds=[group]))["Code"] == "InvalidGroup.NotFound"


# ---------------------------------------------------------------------------------------------
# Creation and deletion times


def test_nat_gateways_are_pending_then_available_then_deleting(local_aws):
    ec2 = local_aws.admin("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet = wait_until(lambda: ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.1.0/24",
                                                  AvailabilityZone="us-west-2a"))["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = wait_until(lambda: ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation))["NatGateway"]
    assert nat["State"] == "pending"
    seconds = 90 / SCALE

    def state():  # a describe without ids: no eventual-consistency window
        return next(n["State"] for n in ec2.describe_nat_gateways()["NatGateways"]
                    if n["NatGatewayId"] == nat["NatGatewayId"])

    assert state() == "pending"
    time.sleep(seconds + 0.3)
    assert state() == "available"
    ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
    assert state() == "deleting"
    time.sleep(60 / SCALE + 0.3)
    assert state() == "deleted"
    events = [e for e in local_aws.control("/_aws/timing")["events"] if e["name"] == nat["NatGatewayId"]]
    assert [e["kind"] for e in events] == ["nat_gateway_create", "nat_gateway_delete"]
    assert abs(events[0]["end"] - events[0]["start"] - seconds) < 0.01


# ---------------------------------------------------------------------------------------------
# Zones per account


def test_zone_names_map_to_ids_per_account(local_aws):
    seen = {}
    for account in (ACCOUNT, OTHER):
        answer = local_aws.admin("ec2", account).describe_availability_zones()["AvailabilityZones"]
        seen[account] = {z["ZoneName"]: z["ZoneId"] for z in answer}
        assert seen[account] == {z.name: z.zone_id for z in zones.account_zones(account, REGION)}
    assert set(seen[ACCOUNT].values()) == set(seen[OTHER].values())  # the same physical zones ...
    assert seen[ACCOUNT] != seen[OTHER]                               # ... under other names
    ec2 = local_aws.admin("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    by_id = wait_until(lambda: ec2.create_subnet(VpcId=vpc, CidrBlock="10.3.1.0/24",
                                                 AvailabilityZoneId="usw2-az1"))["Subnet"]
    assert (by_id["AvailabilityZoneId"], by_id["AvailabilityZone"]) == (
        "usw2-az1", next(name for name, zone_id in seen[ACCOUNT].items() if zone_id == "usw2-az1"))
    by_name = ec2.create_subnet(VpcId=vpc, CidrBlock="10.3.2.0/24", AvailabilityZone="us-west-2a")["Subnet"]
    assert by_name["AvailabilityZoneId"] == seen[ACCOUNT]["us-west-2a"]
    described = wait_until(lambda: ec2.describe_subnets(SubnetIds=[by_name["SubnetId"]]))["Subnets"][0]
    assert described["AvailabilityZone"] == "us-west-2a"
    assert described["AvailabilityZoneId"] == seen[ACCOUNT]["us-west-2a"]


# ---------------------------------------------------------------------------------------------
# Public DNS and ACM


def test_a_certificate_waits_for_a_delegated_validation_record(local_aws):
    route53, acm = local_aws.admin("route53"), local_aws.admin("acm")
    zone_name = unique("app") + ".example.org"
    zone = route53.create_hosted_zone(Name=zone_name, CallerReference=unique("ref"))
    arn = acm.request_certificate(DomainName=zone_name, ValidationMethod="DNS")["CertificateArn"]
    record = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"][0]["ResourceRecord"]
    upsert = {"Action": "UPSERT", "ResourceRecordSet": {"Name": record["Name"], "Type": record["Type"], "TTL": 300,
                                                         "ResourceRecords": [{"Value": record["Value"]}]}}
    route53.change_resource_record_sets(HostedZoneId=zone["HostedZone"]["Id"], ChangeBatch={"Changes": [upsert]})
    time.sleep(180 / SCALE + 0.5)
    # the record is in the zone, but nothing delegates the zone: it does not resolve
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "PENDING_VALIDATION"
    assert local_aws.control("/_aws/dns/resolve", {"name": record["Name"], "type": "CNAME",
                                                   "value": record["Value"]})["resolves"] is False
    parent = next(z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == "example.org.")
    servers = zone["DelegationSet"]["NameServers"]
    route53.change_resource_record_sets(HostedZoneId=parent["Id"], ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {"Name": zone_name, "Type": "NS", "TTL": 172800,
                                                  "ResourceRecords": [{"Value": s} for s in servers]}}]})
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "PENDING_VALIDATION"
    time.sleep(180 / SCALE + 0.5)  # ACM's validation time, counted from when the record resolves
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"


def test_the_session_scale_is_its_own_and_changes_at_run_time(local_aws):
    assert local_aws.control("/_aws/config")["settings"]["session_scale"] == SCALE
    try:
        settings = local_aws.control("/_aws/config", {"session_scale": 2})["settings"]
        assert (settings["scale"], settings["session_scale"]) == (SCALE, 2)
        credentials = assumable_role(local_aws, duration=900)
        lifetime = credentials["Expiration"].timestamp() - time.time()
        assert 450 - 3 <= lifetime <= 450 + 1  # half of AWS's 15 minutes, whatever the time scale
        with pytest.raises(urllib.error.HTTPError) as refused:
            local_aws.control("/_aws/config", {"session_scale": 0})
        assert refused.value.code == 400
    finally:
        local_aws.control("/_aws/config", {"session_scale": SCALE})


# ---------------------------------------------------------------------------------------------
# Switches


def test_switches_turn_behaviours_off(tmp_path):
    server = LocalAws(tmp_path, "--strict", "none,+credentials")
    try:
        assert server.control("/_aws/config")["settings"]["enabled"] == ["credentials"]
        ec2 = server.admin("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
        assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]  # no consistency window
        iam = server.admin("iam")
        arn = iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        server.caller("sts").assume_role(RoleArn=arn, RoleSessionName="tests")
        zones_seen = {z["ZoneName"]: z["ZoneId"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}
        assert zones_seen["us-west-2a"] == "usw2-az2"  # moto's own names
    finally:
        server.stop()


def test_an_unknown_switch_is_refused():
    from local_aws import core

    with pytest.raises(ValueError, match="unknown strict behaviour 'iamm'"):
        core.Settings("all,-iamm")
