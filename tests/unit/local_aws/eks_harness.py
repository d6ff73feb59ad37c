"""The local EKS service (scripts/local_aws/eks.py) served for tests.

* :class:`FakeEnvironment`: an ``EksEnvironment`` of subnets, security groups, roles, users
  and KMS keys kept in dicts, with a clock the test moves (``advance``) and the real-AWS
  durations of ``eks.DURATIONS`` (``scale`` divides them; ``timing=False`` makes them 0).
* :class:`LocalEksServer`: a small HTTP server on 127.0.0.1 that reads each request the way
  the AWS proxy does (``aws_proxy.Classifier``, a ``core.Call`` with the signer's principal)
  and hands it to the behaviour pipeline (``core.Strict``) holding a ``LocalEks``. boto3
  clients talk to it through ``endpoint_url``, so requests are exactly what botocore sends.
  Every answer is recorded, body included.
* :func:`shape_problems`: an answer checked against botocore's service model: the output
  shape for a success (no member the model lacks, the right types, enums, required members),
  the declared error shapes and HTTP status for an error.
"""
from __future__ import annotations

import importlib.util
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

from local_aws import core  # noqa: E402
from local_aws import eks as local_eks  # noqa: E402


def _load_proxy():
    spec = importlib.util.spec_from_file_location("aws_proxy_for_eks_tests", ROOT / "scripts" / "aws_proxy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


aws_proxy = _load_proxy()
CLASSIFIER = aws_proxy.Classifier()
MODEL = botocore.session.get_session().get_service_model("eks")

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "us-west-2"
START = 1_800_000_000.0

CLUSTER_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
NODE_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
POD_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
NODE_POLICIES = ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                 "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"]


def role_arn(name, account=ACCOUNT, path=""):
    return "arn:aws:iam::%s:role/%s%s" % (account, path, name)


CLUSTER_ROLE = role_arn("eks-cluster")
NODE_ROLE = role_arn("eks-node")
POD_ROLE = role_arn("external-secrets")
ADMIN_ROLE = role_arn("platform-admin", path="teams/")
DEPLOY_ROLE = role_arn("deployer")
USER = "arn:aws:iam::%s:user/alice" % ACCOUNT
KEY = "arn:aws:kms:%s:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab" % (REGION, ACCOUNT)

# access key -> the principal that signs with it
PRINCIPALS = {
    "testing": core.Principal("assumed-role", ACCOUNT, "arn:aws:sts::%s:assumed-role/deployer/ansible" % ACCOUNT,
                              "testing", role_arn=DEPLOY_ROLE, session_name="ansible"),
    "AKIDUSER": core.Principal("user", ACCOUNT, USER, "AKIDUSER"),
    "AKIDOTHER": core.Principal("assumed-role", OTHER_ACCOUNT,
                                "arn:aws:sts::%s:assumed-role/deployer/ansible" % OTHER_ACCOUNT, "AKIDOTHER",
                                role_arn=role_arn("deployer", OTHER_ACCOUNT), session_name="ansible"),
}

# (name, id) of the zones per region; ids differ from letters per account in AWS.
ZONES = {
    "us-west-2": [("us-west-2a", "usw2-az2"), ("us-west-2b", "usw2-az1"), ("us-west-2c", "usw2-az3")],
    "us-east-1": [("us-east-1a", "use1-az6"), ("us-east-1b", "use1-az1"), ("us-east-1c", "use1-az2"),
                  ("us-east-1d", "use1-az4"), ("us-east-1e", "use1-az3"), ("us-east-1f", "use1-az5")],
}


class FakeEnvironment(local_eks.EksEnvironment):
    """Dict-backed subnets, security groups, roles, users and keys; a clock the test moves."""

    def __init__(self, scale=1.0, timing=True, kube=None):
        self.clock = START
        self.scale = scale
        self.timing = timing
        self.kube = kube
        self.zones = {region: [{"ZoneName": n, "ZoneId": i} for n, i in zones] for region, zones in ZONES.items()}
        self.subnet_table = {}
        self.group_table = {}
        self.roles = {}
        self.users = {USER: {"Arn": USER}}
        self.keys = {KEY: {"Arn": KEY, "KeyState": "Enabled", "KeySpec": "SYMMETRIC_DEFAULT",
                           "KeyUsage": "ENCRYPT_DECRYPT"}}
        self.unpropagated = set()
        self.created_groups = []
        self.deleted_groups = []
        self.lock = threading.Lock()
        self.add_vpc(REGION, "vpc-0aaaaaaaaaaaaaaa1", "10.0", 3)
        self.add_vpc(REGION, "vpc-0bbbbbbbbbbbbbbb2", "192.168", 2)
        self.add_vpc("us-east-1", "vpc-0ccccccccccccccc3", "10.1", 6)
        # the subnet and group ids the module tests have always used
        self.add_vpc(REGION, "vpc-0123456789abcdef0", "10.2", 3,
                     ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
                     ["sg-0aaaaaaaaaaaaaaaa", "sg-0bbbbbbbbbbbbbbbb"])
        self.add_role(CLUSTER_ROLE, CLUSTER_TRUST, ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"])
        self.add_role(NODE_ROLE, NODE_TRUST, NODE_POLICIES)
        self.add_role(POD_ROLE, POD_TRUST)
        self.add_role(ADMIN_ROLE, CLUSTER_TRUST)
        self.add_role(DEPLOY_ROLE, CLUSTER_TRUST)

    # -- set-up helpers --------------------------------------------------------------------

    def add_vpc(self, region, vpc_id, prefix, zones, subnet_ids=None, group_ids=None):
        """A VPC with one subnet in each of its first ``zones`` zones and a default group."""
        for index, (zone, zone_id) in enumerate(ZONES[region][:zones]):
            subnet_id = subnet_ids[index] if subnet_ids else "subnet-%s%02d" % (vpc_id[4:19], index)
            self.subnet_table[subnet_id] = {"SubnetId": subnet_id, "VpcId": vpc_id, "AvailabilityZone": zone,
                                            "AvailabilityZoneId": zone_id, "CidrBlock": "%s.%d.0/24" % (prefix, index),
                                            "region": region}
        for index, group_id in enumerate(group_ids or ["sg-%s" % vpc_id[4:21]]):
            self.group_table[group_id] = {"GroupId": group_id, "VpcId": vpc_id,
                                          "GroupName": "default" if index == 0 else "group-%d" % index, "region": region}

    def subnet_ids(self, vpc_id):
        return sorted(s for s, v in self.subnet_table.items() if v["VpcId"] == vpc_id)

    def group_id(self, vpc_id):
        return next(g for g, v in self.group_table.items() if v["VpcId"] == vpc_id)

    def add_role(self, arn, trust, policies=()):
        self.roles[arn] = {"Arn": arn, "AssumeRolePolicyDocument": trust, "AttachedPolicyArns": list(policies)}

    def advance(self, seconds):
        with self.lock:
            self.clock += seconds

    # -- EksEnvironment -----------------------------------------------------------------------

    def now(self):
        with self.lock:
            return self.clock

    def duration(self, kind):
        return local_eks.real_seconds(kind) / self.scale if self.timing else 0.0

    def availability_zones(self, account, region):
        return [dict(z) for z in self.zones.get(region, [])]

    def subnets(self, account, region, ids):
        missing = [i for i in ids if i not in self.subnet_table or self.subnet_table[i]["region"] != region]
        if missing:
            raise local_eks.NotFound("subnet", missing)
        return [{k: v for k, v in self.subnet_table[i].items() if k != "region"} for i in ids]

    def security_groups(self, account, region, ids):
        missing = [i for i in ids if i not in self.group_table or self.group_table[i]["region"] != region]
        if missing:
            raise local_eks.NotFound("security-group", missing)
        return [{k: v for k, v in self.group_table[i].items() if k != "region"} for i in ids]

    def create_cluster_security_group(self, account, region, vpc_id, cluster_name, tags):
        group_id = "sg-0%016x" % (len(self.group_table) + 1)
        name = "eks-cluster-sg-%s-%010d" % (cluster_name, 1234567890 + len(self.created_groups))
        self.group_table[group_id] = {"GroupId": group_id, "VpcId": vpc_id, "GroupName": name, "region": region,
                                      "Tags": dict(tags, **{"aws:eks:cluster-name": cluster_name})}
        self.created_groups.append((group_id, name))
        return group_id

    def delete_security_group(self, account, region, group_id):
        self.group_table.pop(group_id, None)
        self.deleted_groups.append(group_id)

    def role(self, account, role_arn):
        return self.roles.get(role_arn)

    def role_usable(self, account, role_arn):
        return role_arn not in self.unpropagated

    def user(self, account, user_arn):
        return self.users.get(user_arn)

    def kms_key(self, account, region, key_arn):
        return self.keys.get(key_arn)

    def kube_endpoint(self):
        return self.kube


# ---------------------------------------------------------------------------------------------
# HTTP


def _region_of(headers):
    auth = headers.get("Authorization") or ""
    marker = "Credential="
    if marker not in auth:
        return REGION
    scope = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
    return scope[2] if len(scope) >= 5 else REGION


def _access_key(headers):
    auth = headers.get("Authorization") or ""
    if "Credential=" not in auth:
        return ""
    return auth.split("Credential=", 1)[1].split("/", 1)[0]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK hold the body back ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server = self.server
        info = CLASSIFIER.classify(self.command, self.path, self.headers, body)
        key = _access_key(self.headers)
        call = core.Call(self.command, self.path, self.headers, body, info.service, info.operation, info.kind,
                         model=info.model, region=_region_of(self.headers), access_key=key,
                         principal=PRINCIPALS.get(key), received=server.env.now())
        answer = server.strict.before(call)
        if answer is None:
            answer = core.Answer(404, [("Content-Type", "application/json")], b'{"message": "not EKS"}')
        server.record(info.operation, urlsplit(self.path).path, answer)
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


class LocalEksServer(ThreadingHTTPServer):
    """LocalEks behind an HTTP server on 127.0.0.1 (any free port)."""

    daemon_threads = True

    def __init__(self, env):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.env = env
        self.strict = core.Strict(core.Settings("none", seed=1), moto=None)
        self.service = self.strict.add(local_eks.LocalEks(self.strict, env))
        self.exchanges = []
        self.exchange_lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def record(self, operation, path, answer):
        with self.exchange_lock:
            self.exchanges.append({"operation": operation, "path": path, "status": answer.status,
                                   "code": answer.header("x-amzn-ErrorType"), "body": answer.body})

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()
        self.thread.join(5)

    def client(self, access_key="testing", region=REGION, validate=True):
        return boto3.client(
            "eks", endpoint_url=self.url, region_name=region, aws_access_key_id=access_key,
            aws_secret_access_key="secret", aws_session_token=None,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=validate))

    def problems(self):
        """Every shape problem of every recorded answer."""
        found = []
        with self.exchange_lock:
            exchanges = list(self.exchanges)
        for exchange in exchanges:
            for problem in shape_problems(exchange):
                found.append("%s %s: %s" % (exchange["operation"], exchange["status"], problem))
        return found


# ---------------------------------------------------------------------------------------------
# Shapes

PROTOCOL_CODES = ("UnknownOperationException", "SerializationException")
# Errors AWS answers that the model does not declare: CreateNodegroup for a cluster that does
# not exist answers ResourceNotFoundException "No cluster found for name: X." (quoted in
# terraform-aws-modules/terraform-aws-eks issue 793).
UNDECLARED = {"CreateNodegroup": ("ResourceNotFoundException",)}


def _check(shape, value, path, problems):
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append("%s: expected an object, got %r" % (path, value))
            return
        by_wire = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()}
        for key, item in value.items():
            if key not in by_wire:
                problems.append("%s: member %r is not in shape %s" % (path, key, shape.name))
                continue
            _check(by_wire[key][1], item, "%s.%s" % (path, key), problems)
        for member in shape.required_members:
            wire_name = shape.members[member].serialization.get("name", member)
            if wire_name not in value:
                problems.append("%s: required member %r missing" % (path, member))
    elif kind == "list":
        if not isinstance(value, list):
            problems.append("%s: expected a list, got %r" % (path, value))
            return
        for index, item in enumerate(value):
            _check(shape.member, item, "%s[%d]" % (path, index), problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append("%s: expected a map, got %r" % (path, value))
            return
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append("%s: map key %r is not a string" % (path, key))
            _check(shape.value, item, "%s[%s]" % (path, key), problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append("%s: expected a string, got %r" % (path, value))
        elif getattr(shape, "enum", None) and value not in shape.enum:
            problems.append("%s: %r is not one of %s" % (path, value, shape.enum))
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append("%s: expected an integer, got %r" % (path, value))
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append("%s: expected a boolean, got %r" % (path, value))
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append("%s: expected epoch seconds, got %r" % (path, value))
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append("%s: expected a number, got %r" % (path, value))


def shape_problems(exchange):
    """Problems of one recorded answer against the EKS model (empty when it fits)."""
    operation = exchange["operation"]
    if operation not in MODEL.operation_names:
        return ["the request matched no EKS operation"]
    op_model = MODEL.operation_model(operation)
    try:
        data = json.loads(exchange["body"].decode() or "{}")
    except ValueError:
        return ["the body is not JSON: %r" % exchange["body"][:200]]
    problems = []
    if exchange["status"] < 300:
        if op_model.output_shape is not None:
            _check(op_model.output_shape, data, "output", problems)
        elif data:
            problems.append("the operation has no output, got %r" % data)
        return problems
    code = exchange["code"]
    if code in PROTOCOL_CODES:
        if set(data) != {"message"}:
            problems.append("a protocol error carries only a message, got %r" % data)
        return problems
    declared = {s.name: s for s in op_model.error_shapes}
    for extra in UNDECLARED.get(operation, ()):
        declared[extra] = MODEL.shape_for(extra)
    if code == "InvalidParameterException" and not declared.keys() & set(local_eks.VALIDATION_CODES):
        # an operation that declares no client error still refuses a malformed request
        declared[code] = MODEL.shape_for(code)
    if code not in declared:
        return ["error code %r is not declared for %s (%s)" % (code, operation, ", ".join(sorted(declared)))]
    shape = declared[code]
    status = shape.metadata.get("error", {}).get("httpStatusCode")
    if status != exchange["status"]:
        problems.append("%s has HTTP status %s in the model, answered %s" % (code, status, exchange["status"]))
    if not isinstance(data.get("message"), str):
        problems.append("the error has no message")
    _check(shape, data, code, problems)
    return problems


def implemented_operations():
    """The EKS operations LocalEks answers (its ``_op_*`` handlers)."""
    names = {}
    for operation in MODEL.operation_names:
        snake = local_eks._snake(operation)
        if hasattr(local_eks.LocalEks, "_op_" + snake):
            names[operation] = snake
    return names
