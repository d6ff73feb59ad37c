#!/usr/bin/env python3
# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Logging and fault-injecting HTTP reverse proxy in front of the local AWS emulator (moto).

Every AWS client of the local harness (boto3 through ``AWS_ENDPOINT_URL`` / ``endpoint_url``)
talks to this proxy, which forwards each request unchanged to the moto server and streams the
answer back. On the way it

* appends one JSON line per request to a request log (``--log FILE``)::

    {"ts": "2025-01-01T00:00:00.000Z", "service": "ec2", "operation": "CreateVpc",
     "mutating": true, "status": 200, "injected": null, "ms": 4.2}

  ``ms`` is the time from the request's arrival to its answer's status line (the emulator's
  time; for an injected fault, the proxy's own). ``service`` is the botocore service (boto3 client)
  name found from the SigV4 credential
  scope (``Credential=AKID/DATE/REGION/SERVICE/aws4_request``, in the Authorization header or
  in ``X-Amz-Credential`` of a presigned URL); ``operation`` is found per wire protocol:
  ``Action`` for query/ec2, ``X-Amz-Target`` for json, the ``/service/S/operation/O`` path for
  rpc-v2-cbor, and for rest-json/rest-xml the method and path matched against the operations'
  ``http.method``/``http.requestUri`` templates of botocore's service model (s3 path style and
  virtual-host style, with the query-string subresources such as ``?tagging``). ``mutating``
  is false for Describe*, List*, Get*, Head*, Lookup*, Search*, Check*, BatchGet*, Scan*,
  Query*, Select* and the read-only sts calls (AssumeRole*, GetCallerIdentity, ...), true
  otherwise. ``status`` is the HTTP status sent to the client; ``injected`` is null or the
  fault the proxy answered with (``"throttle"``, ``"500"``, ``"503"``); ``strict`` is null or the
  strict behaviour that answered instead of moto (``"iam"``, ``"credentials"``,
  ``"consistency"``, the local EKS ...). Bodies, headers and credentials are never logged. Requests to moto's own ``/moto-api/`` are logged with service
  ``moto`` and the path below ``/moto-api/`` as operation.

* optionally injects faults (``--throttle-rate``, ``--error-rate``): before forwarding, a
  ``random.Random(seed)`` draw per request decides whether to answer a throttling error in the
  exact wire format of the request's protocol (so botocore's retry handlers classify it as
  throttling and retry), or a 500/503 (half each) that botocore parses as ``InternalError`` /
  ``ServiceUnavailable``. Injected requests are never forwarded, so the emulator does not see
  them. ``--fault-after N`` lets the first N AWS requests through untouched. With a fixed
  ``--seed`` and a sequential client the faults are replayable (:class:`FaultInjector`);
  without one a seed is chosen and reported on stderr and by ``/_proxy/health``.

A request with the header ``x-local-aws-observer: 1`` (the tests' read-backs, which look at
what a run made) gets no fault and no line in the request log and is not counted; the local
AWS answers it as any other.

Control endpoints (answered by the proxy itself, never forwarded or logged):

* ``GET /_proxy/health`` -> ``{"status": "ok", "upstream", "config", "requests", "injected"}``
* ``POST /_proxy/config`` with JSON ``{"throttle_rate", "error_rate", "seed", "fault_after"}``
  (any subset): changes the fault settings at run time; ``seed`` re-seeds the generator (and
  restarts the injected counts), ``fault_after`` restarts the clean-request count. Answers the
  new config.
* ``POST /_proxy/reset-log`` truncates the request log.
* ``POST /_proxy/config`` with ``{"hold": {"operation", "service", "occurrence", "seconds"}}``
  holds back the answer of the ``occurrence``-th request (counted from this call, default 1)
  of ``operation`` (of ``service``, when given): the request is forwarded (or answered by the
  strict local AWS, as EKS requests are) and logged with its status, but its answer reaches the
  client only after ``seconds`` (default 60) or when the hold is changed or cleared
  (``{"hold": null}``). The interrupted-run tests use it
  to stop a run at the worst moment of a create call: done in the emulator, its answer not yet
  seen by the client. ``/_proxy/health`` reports the hold and how many answers it held.

The ``Host`` header is passed through as the client sent it: it is part of the SigV4
signature, and moto builds URLs from it (SQS queue URLs, S3 locations), which then point back
at the proxy. Hop-by-hop headers are not forwarded; a chunked request body is forwarded with a
Content-Length. Binds 127.0.0.1 only.

Usage::

    python scripts/aws_proxy.py --port P --upstream http://127.0.0.1:M --log FILE \\
        [--seed N] [--throttle-rate 0.10] [--error-rate 0.05] [--fault-after N] \\
        [--host-header keep|upstream] [--pidfile F]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from local_aws import assemble, consistency, core, wire  # noqa: E402  (scripts/local_aws, beside this file)
from local_aws.core import Answer, Call  # noqa: E402
from local_aws.moto_bridge import MotoBridge  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Mutating / read-only classification

READ_PREFIXES = ("Describe", "List", "Get", "Head", "Lookup", "Search", "Check", "BatchGet",
                 "Scan", "Query", "Select")
STS_READ_OPERATIONS = frozenset({"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity",
                                 "AssumeRoot", "DecodeAuthorizationMessage", "GetCallerIdentity",
                                 "GetSessionToken", "GetFederationToken", "GetAccessKeyInfo"})
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def is_mutating(service, operation, method="POST"):
    """True unless ``operation`` is a read (by name prefix, or one of sts's read calls).

    A prefix only counts at a word boundary of the CamelCase name (``GetObject`` reads,
    ``Getaway`` would not). Without an operation the HTTP method decides.
    """
    if not operation:
        return method.upper() not in SAFE_METHODS
    if service == "sts" and operation in STS_READ_OPERATIONS:
        return False
    for prefix in READ_PREFIXES:
        if operation.startswith(prefix):
            rest = operation[len(prefix):]
            if not rest or rest[0].isupper() or rest[0].isdigit():
                return False
    return True


# ---------------------------------------------------------------------------------------------
# Service models

# Signing names whose service models are not (only) the service of the same name. Everything
# else is looked up as "service named like the signing name", and failing that by scanning the
# metadata of every model botocore ships (once, cached).
SIGNING_NAME_ALIASES = {
    "monitoring": ("cloudwatch",),
    "elasticloadbalancing": ("elbv2", "elb"),
    "ses": ("ses", "sesv2"),
    "es": ("opensearch", "es"),
    "states": ("stepfunctions",),
    "elasticfilesystem": ("efs",),
    "elasticmapreduce": ("emr",),
    "rds": ("rds", "docdb", "neptune"),
    "dynamodb": ("dynamodb", "dynamodbstreams"),
    "apigateway": ("apigateway", "apigatewayv2"),
    "execute-api": ("apigatewaymanagementapi",),
    "s3": ("s3", "s3control"),
    "tagging": ("resourcegroupstaggingapi",),
    "servicequotas": ("service-quotas",),
    "access-analyzer": ("accessanalyzer",),
    "cloudcontrolapi": ("cloudcontrol",),
    "aps": ("amp",),
    "geo": ("location",),
    "mobiletargeting": ("pinpoint",),
    "sso": ("sso-admin",),
    "awsssoportal": ("sso",),
    "sso-oauth": ("sso-oidc",),
    "appconfig": ("appconfig", "appconfigdata"),
    "iotdata": ("iot-data",),
    "events": ("events",),
    "lambda": ("lambda",),
    "iam": ("iam",),
}

_S3_VHOST = re.compile(
    r"^(?P<bucket>.+?)\.(?:s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?|localhost(?:\.localstack\.cloud)?)$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_LABEL = re.compile(r"\{([^}]+)\}")
_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")
_CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/?]+)")


class RestMatcher:
    """Finds the operation of a rest-json/rest-xml request from the model's URI templates."""

    def __init__(self, operations, shapes):
        self.routes = {}
        for name, op in operations.items():
            http_trait = op.get("http") or {}
            method = http_trait.get("method", "POST").upper()
            path, _, query = http_trait.get("requestUri", "/").partition("?")
            literal_query = []
            for part in filter(None, query.split("&")):
                key, eq, value = part.partition("=")
                literal_query.append((key, value if eq else None))
            # Required input members bound to the query string or a header tell apart
            # operations sharing a URI (s3 PutObject / CopyObject / UploadPart / ListParts).
            required_query, required_headers = [], []
            shape = shapes.get((op.get("input") or {}).get("shape"), {})
            for member in shape.get("required", ()):
                spec = shape.get("members", {}).get(member, {})
                if spec.get("location") == "querystring":
                    required_query.append((spec.get("locationName", member), None))
                elif spec.get("location") == "header":
                    required_headers.append(spec.get("locationName", member).lower())
            regex, literal, greedy = self._compile(path)
            # Last: a deprecated operation loses to the current one on the same URI (s3
            # GetBucketLifecycle / GetBucketLifecycleConfiguration), as botocore sends the latter.
            score = (literal, len(literal_query), len(required_query) + len(required_headers), -greedy,
                     not op.get("deprecated", False))
            self.routes.setdefault(method, []).append(
                (regex, tuple(literal_query + required_query), tuple(required_headers), score, name))

    @staticmethod
    def _compile(path):
        if len(path) > 1:
            path = path.rstrip("/")
        pattern, literal, greedy, pos = ["^"], 0, 0, 0
        for label in _LABEL.finditer(path):
            text = path[pos:label.start()]
            pattern.append(re.escape(text))
            literal += len(text.replace("/", ""))
            if label.group(1).endswith("+"):
                pattern.append(".+")
                greedy += 1
            else:
                pattern.append("[^/]+")
            pos = label.end()
        text = path[pos:]
        if text == "/":
            text = ""
        pattern.append(re.escape(text))
        literal += len(text.replace("/", ""))
        pattern.append("/?$")
        return re.compile("".join(pattern)), literal, greedy

    def match(self, method, path, query, headers=()):
        """Best ``(operation, score)`` for the request, or None."""
        present = {key.lower() for key, _ in (headers.items() if hasattr(headers, "items") else headers)}
        best = None
        for regex, required, required_headers, score, name in self.routes.get(method.upper(), ()):
            if not regex.match(path):
                continue
            if any(key not in query or (value is not None and query[key] != value)
                   for key, value in required):
                continue
            if any(header not in present for header in required_headers):
                continue
            if best is None or score > best[1]:
                best = (name, score)
        return best


class ServiceModel:
    """The parts of one botocore service model the proxy needs."""

    def __init__(self, name, model):
        meta = model.get("metadata", {})
        self.name = name
        self.signing_name = meta.get("signingName") or meta.get("endpointPrefix") or name
        self.protocols = tuple(meta.get("protocols") or (meta.get("protocol"),))
        self.protocol = meta.get("protocol")
        self.target_prefix = meta.get("targetPrefix")
        self.api_version = meta.get("apiVersion")
        self.json_version = meta.get("jsonVersion", "1.0")
        self.query_compatible = "awsQueryCompatible" in meta
        self.xml_namespace = (meta.get("xmlNamespace") or {}).get("uri") if isinstance(
            meta.get("xmlNamespace"), dict) else meta.get("xmlNamespace")
        self.operations = frozenset(model.get("operations", {}))
        shapes = model.get("shapes", {})
        if "ThrottlingException" in shapes or "TooManyRequestsException" not in shapes:
            self.throttle_code = "ThrottlingException"
        else:
            self.throttle_code = "TooManyRequestsException"
        # Wire code and HTTP status of each error shape (what AWS answers for it).
        self.error_codes = {}
        for shape_name, shape in shapes.items():
            if shape.get("exception"):
                error = shape.get("error") or {}
                self.error_codes[shape_name] = (error.get("code", shape_name), error.get("httpStatusCode", 400))
        self.rest = None
        if self.protocol in ("rest-json", "rest-xml"):
            self.rest = RestMatcher(model.get("operations", {}), shapes)


class ModelRegistry:
    """Loads and caches botocore service models; maps SigV4 signing names to services."""

    def __init__(self):
        import botocore.loaders

        # botocore's loader caches every model it parses; a throw-away loader per load keeps
        # only the compact ServiceModel around.
        self._new_loader = botocore.loaders.create_loader
        self._loader = self._new_loader()
        self._lock = threading.RLock()
        self._models = {}
        self._candidates = {}
        self._available = None
        self._by_signing_name = None

    def available(self):
        with self._lock:
            if self._available is None:
                self._available = frozenset(self._loader.list_available_services("service-2"))
            return self._available

    def model(self, name):
        with self._lock:
            if name not in self._models:
                self._models[name] = ServiceModel(
                    name, self._new_loader().load_service_model(name, "service-2"))
            return self._models[name]

    def _scan(self):
        if self._by_signing_name is None:
            table = {}
            for name in sorted(self.available()):
                meta = self._new_loader().load_service_model(name, "service-2").get("metadata", {})
                signing = meta.get("signingName") or meta.get("endpointPrefix") or name
                table.setdefault(signing, []).append(name)
            self._by_signing_name = table
        return self._by_signing_name

    def candidates(self, signing_name):
        """Service models signed as ``signing_name``, most likely first."""
        with self._lock:
            if signing_name not in self._candidates:
                names = []
                for name in SIGNING_NAME_ALIASES.get(signing_name, ()) + (signing_name,):
                    if name in self.available() and name not in names:
                        names.append(name)
                models = [self.model(n) for n in names]
                models = [m for m in models if m.signing_name == signing_name]
                if not models:
                    models = [self.model(n) for n in self._scan().get(signing_name, ())]
                self._candidates[signing_name] = models
            return self._candidates[signing_name]


# ---------------------------------------------------------------------------------------------
# Request classification


class RequestInfo:
    __slots__ = ("service", "operation", "mutating", "kind", "model", "moto")

    def __init__(self, service, operation, mutating, kind, model=None, moto=False):
        self.service = service
        self.operation = operation
        self.mutating = mutating
        self.kind = kind          # wire format for injected errors
        self.model = model
        self.moto = moto

    def __repr__(self):
        return "RequestInfo(%r, %r, mutating=%r, kind=%r)" % (
            self.service, self.operation, self.mutating, self.kind)


def _header(headers, name):
    """Case-insensitive header lookup for a dict, list of pairs or email.message.Message."""
    if hasattr(headers, "get_all"):
        return headers.get(name)
    items = headers.items() if hasattr(headers, "items") else headers
    lname = name.lower()
    for key, value in items:
        if key.lower() == lname:
            return value
    return None


def signing_service(headers, query):
    """The service of the SigV4(a) credential scope, or None for an unsigned request."""
    credential = None
    auth = _header(headers, "Authorization") or ""
    match = _CREDENTIAL.search(auth)
    if match:
        credential = match.group(1)
    elif "X-Amz-Credential" in query:
        credential = query["X-Amz-Credential"]
    elif auth.startswith("AWS ") or "AWSAccessKeyId" in query:
        return "s3"  # SigV2 is only still spoken by s3
    if not credential:
        return None
    parts = credential.split("/")
    # SigV4: AKID/DATE/REGION/SERVICE/aws4_request; SigV4a: AKID/DATE/SERVICE/aws4_request
    return parts[-2] if len(parts) >= 4 else None


class Classifier:
    def __init__(self, registry=None):
        self.registry = registry or ModelRegistry()

    def classify(self, method, target, headers, body=b""):
        """Describe one request: service, operation, mutating, error wire format."""
        split = urlsplit(target)
        path = split.path or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        if path == "/moto-api" or path.startswith("/moto-api/"):
            operation = path[len("/moto-api/"):].strip("/") or "index"
            return RequestInfo("moto", operation, method.upper() not in SAFE_METHODS, None, moto=True)

        # What the request looks like on the wire.
        smithy = (_header(headers, "smithy-protocol") or "").lower()
        target_header = _header(headers, "X-Amz-Target")
        action = query.get("Action")
        version = query.get("Version")
        if action is None and body:
            ctype = (_header(headers, "Content-Type") or "").lower()
            if ctype.startswith("application/x-www-form-urlencoded"):
                form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                action, version = form.get("Action"), form.get("Version")
        cbor = _CBOR_PATH.match(path) if smithy == "rpc-v2-cbor" else None
        if cbor:
            wire, prefix, name = "cbor", cbor.group(1), cbor.group(2)
        elif target_header:
            prefix, _, name = target_header.rpartition(".")
            wire = "json"
        elif action:
            wire, prefix, name = "query", None, action
        else:
            wire, prefix, name = "rest", None, None

        signing = signing_service(headers, query)
        if signing is None and wire == "query" and action in ("AssumeRoleWithWebIdentity",
                                                              "AssumeRoleWithSAML"):
            signing = "sts"
        models = self.registry.candidates(signing) if signing else []

        best, best_score, operation = None, None, None
        for model in models:
            found, score = self._identify(model, wire, method, path, query, headers,
                                          prefix, name, version)
            if found and (best_score is None or score > best_score):
                best, best_score, operation = model, score, found
        if best is None:
            best = models[0] if models else None
            operation = name
        service = best.name if best else (signing or "unknown")
        return RequestInfo(service, operation, is_mutating(service, operation, method),
                           self._kind(wire, best), best)

    @staticmethod
    def _identify(model, wire, method, path, query, headers, prefix, name, version):
        if wire in ("cbor", "json"):
            if name in model.operations:
                return name, (1 if prefix == model.target_prefix else 0,)
            return None, None
        if wire == "query":
            if name in model.operations and set(model.protocols) & {"query", "ec2"}:
                return name, (1 if version == model.api_version else 0,)
            return None, None
        if model.protocol not in ("rest-json", "rest-xml"):
            return None, None
        if model.name == "s3":
            host = (_header(headers, "Host") or "").rsplit(":", 1)[0].lower()
            vhost = _S3_VHOST.match(host) if host and not _IPV4.match(host) else None
            if vhost:
                path = "/" + vhost.group("bucket") + (path if path != "/" else "")
        found = model.rest.match(method, path, query, headers)
        return found if found else (None, None)

    @staticmethod
    def _kind(wire, model):
        if wire in ("cbor", "json"):
            return wire
        if model is None:
            return "query" if wire == "query" else "rest-json"
        if wire == "query":
            return "ec2" if model.protocol == "ec2" or "ec2" in model.protocols else "query"
        if model.name == "s3":
            return "s3"
        return model.protocol if model.protocol in ("rest-json", "rest-xml") else "rest-json"


# ---------------------------------------------------------------------------------------------
# Fault injection


class FaultInjector:
    """Seeded fault decisions: one ``random()`` draw per AWS request after ``fault_after``.

    A draw below ``throttle_rate`` throttles; below ``throttle_rate + error_rate`` it is an
    error, 500 in the lower half of that band and 503 in the upper. Re-creating the injector
    with the same settings and calling :meth:`decide` in the same order replays the faults.
    """

    def __init__(self, throttle_rate=0.0, error_rate=0.0, seed=None, fault_after=0):
        self.lock = threading.Lock()
        self.throttle_rate = float(throttle_rate)
        self.error_rate = float(error_rate)
        self.fault_after = int(fault_after)
        self.seed = seed if seed is not None else int.from_bytes(os.urandom(4), "big")
        self.rng = random.Random(self.seed)
        self.seen = 0
        self.counts = {"throttle": 0, "500": 0, "503": 0}

    def configure(self, throttle_rate=None, error_rate=None, seed=None, fault_after=None):
        with self.lock:
            if throttle_rate is not None:
                self.throttle_rate = _rate(throttle_rate, "throttle_rate")
            if error_rate is not None:
                self.error_rate = _rate(error_rate, "error_rate")
            if seed is not None:  # a new fault sequence: counts start again
                self.seed = int(seed)
                self.rng = random.Random(self.seed)
                self.counts = {"throttle": 0, "500": 0, "503": 0}
            if fault_after is not None:
                self.fault_after = int(fault_after)
                self.seen = 0
            return self.config()

    def config(self):
        return {"throttle_rate": self.throttle_rate, "error_rate": self.error_rate,
                "seed": self.seed, "fault_after": self.fault_after}

    def decide(self):
        """None, ``"throttle"``, ``"500"`` or ``"503"`` for the next request."""
        with self.lock:
            self.seen += 1
            if self.seen <= self.fault_after:
                return None
            draw = self.rng.random()
            if draw < self.throttle_rate:
                fault = "throttle"
            elif draw < self.throttle_rate + self.error_rate:
                fault = "500" if draw < self.throttle_rate + self.error_rate / 2 else "503"
            else:
                return None
            self.counts[fault] += 1
            return fault


class Hold:
    """Holds back the answer of the N-th request of one operation (``/_proxy/config`` ``hold``)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.spec = None
        self.seen = 0
        self.held = 0
        self.release = threading.Event()

    def configure(self, spec):
        """Set (a dict) or clear (None) the hold; answers held so far are let go."""
        if spec is not None:
            if not isinstance(spec, dict):
                raise ValueError("hold: expected an object or null")
            unknown = set(spec) - {"operation", "service", "occurrence", "seconds"}
            if unknown:
                raise ValueError("hold: unknown settings: %s" % ", ".join(sorted(unknown)))
            operation = spec.get("operation")
            if not isinstance(operation, str) or not operation:
                raise ValueError("hold: operation must be an operation name such as CreateVpc")
            service = spec.get("service")
            if service is not None and not isinstance(service, str):
                raise ValueError("hold: service must be a service name such as ec2")
            occurrence = int(spec.get("occurrence", 1))
            seconds = float(spec.get("seconds", 60))
            if occurrence < 1 or not 0 < seconds <= 3600:
                raise ValueError("hold: occurrence must be at least 1 and seconds from 0 to 3600")
            spec = {"operation": operation, "service": service, "occurrence": occurrence, "seconds": seconds}
        with self.lock:
            self.release.set()
            self.release = threading.Event()
            self.spec = spec
            self.seen = 0
            return self.config()

    def config(self):
        return {"spec": self.spec, "seen": self.seen, "held": self.held}

    def match(self, info):
        """``(event, seconds)`` when the answer to this request is to be held, else None."""
        with self.lock:
            spec = self.spec
            if spec is None or info.moto or info.operation != spec["operation"]:
                return None
            if spec["service"] and info.service != spec["service"]:
                return None
            self.seen += 1
            if self.seen != spec["occurrence"]:
                return None
            self.held += 1
            return self.release, spec["seconds"]


def _rate(value, name):
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError("%s must be between 0 and 1" % name)
    return value


FAULTS = {
    # fault: (status, code, message, sender/receiver)
    "throttle": (None, None, "Rate exceeded", "Sender"),
    "500": (500, "InternalError", "We encountered an internal error. Please try again.", "Receiver"),
    "503": (503, "ServiceUnavailable", "Service is unable to handle the request.", "Receiver"),
}


def fault_response(fault, kind, model=None):
    """``(status, headers, body)`` of an injected fault in the wire format ``kind``.

    ``kind`` is one of ``ec2``, ``query``, ``json``, ``cbor``, ``rest-json``, ``rest-xml``
    and ``s3``.
    """
    status, code, message, error_type = FAULTS[fault]
    if fault == "throttle":
        status, code = {
            "ec2": (503, "RequestLimitExceeded"),
            "query": (400, "Throttling"),
            "rest-xml": (400, "Throttling"),
            "s3": (503, "SlowDown"),
            "rest-json": (429, model.throttle_code if model else "ThrottlingException"),
        }.get(kind, (400, "ThrottlingException"))
        if kind == "ec2":
            message = "Request limit exceeded."
        elif kind == "s3":
            message = "Please reduce your request rate."
    return wire.error_response(kind, status, code, message, model, sender=error_type == "Sender",
                               query_code="Throttling" if fault == "throttle" else code)


# ---------------------------------------------------------------------------------------------
# Request log


class RequestLog:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        with open(self.path, "a", encoding="utf-8"):
            pass

    def write(self, ts, info, status, injected, ms=None, strict=None):
        line = json.dumps({
            "ts": ts, "service": info.service, "operation": info.operation,
            "mutating": bool(info.mutating), "status": status, "injected": injected, "ms": ms,
            "strict": strict,
        }, separators=(", ", ": "))
        with self.lock:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def reset(self):
        with self.lock:
            with open(self.path, "w", encoding="utf-8"):
                pass


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------
# HTTP

# A read-back of what a run made: no fault, no log line (see the module docstring).
OBSERVER_HEADER = "x-local-aws-observer"
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "proxy-connection", "te", "trailer", "trailers", "transfer-encoding",
                        "upgrade"})
NO_BODY_STATUSES = frozenset({204, 304})
CHUNK = 64 * 1024


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aws-proxy"
    timeout = 300  # idle keep-alive connections

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm
        # and the client's delayed ACK hold the body back ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # quiet: the request log is the record
        pass

    def _dispatch(self):
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _dispatch

    # -- request ---------------------------------------------------------------------------

    def _quickack(self):
        # Clients (botocore) send the headers and the body of a request in separate writes:
        # acknowledge the headers at once instead of after the delayed-ACK timeout (~40 ms on
        # a kept-alive connection), which the client's Nagle algorithm waits for. Where the
        # socket option does not exist, connections are not kept alive (as moto does).
        if hasattr(socket, "TCP_QUICKACK"):
            try:
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                return
            except OSError:
                pass
        self.close_connection = True

    def _read_body(self):
        self._quickack()
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts), True
                parts.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = self.headers.get("Content-Length")
        if length is None:
            return b"", False
        return self.rfile.read(int(length)), True

    def _target(self):
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute-form
            split = urlsplit(target)
            target = (split.path or "/") + ("?" + split.query if split.query else "")
        return target

    def _handle(self):
        srv = self.server
        started = now_iso()
        clock = time.monotonic()
        target = self._target()
        try:
            body, has_body = self._read_body()
        except ValueError:  # malformed Content-Length or chunk size
            self.close_connection = True
            self.send_error(400, "malformed request body")
            return
        if target.startswith("/_proxy/") or target == "/_proxy":
            self._control(target, body)
            return
        if target.startswith("/_aws/"):
            self._strict_control(target, body)
            return
        try:
            info = srv.classifier.classify(self.command, target, self.headers, body)
        except Exception as exc:  # never let the log's bookkeeping stop a request
            sys.stderr.write("aws-proxy: cannot classify %s %s: %r\n"
                             % (self.command, target.split("?", 1)[0], exc))
            info = RequestInfo("unknown", None, is_mutating(None, None, self.command), "rest-json")
        observer = self.headers.get(OBSERVER_HEADER) == "1"
        fault = None if info.moto or observer else srv.injector.decide()
        if not observer:
            with srv.stats_lock:
                srv.requests += 1
        call = None
        if srv.strict is not None and not info.moto and not fault:
            call = srv.strict_call(self.command, target, self.headers, body, info)

        # The log line is written as soon as the status is known, before the client can have
        # read the whole answer, so a client that got its response always finds it logged.
        def record(status):
            if observer:
                return
            srv.log.write(started, info, status, fault, round((time.monotonic() - clock) * 1000, 1),
                          strict=call.notes.get("answered_by") if call is not None else None)

        if fault:
            status, headers, payload = fault_response(fault, info.kind, info.model)
            record(status)
            self._send_simple(status, headers, payload)
            return
        if call is not None:
            try:
                answer = srv.strict.before(call)
            except Exception as exc:  # a request the strict behaviours cannot read: AWS refuses it too
                import traceback

                sys.stderr.write("aws-proxy: strict behaviours failed on %s %s: %r\n%s"
                                 % (info.service, info.operation, exc, traceback.format_exc()))
                call.notes["answered_by"] = "error"
                status, headers, payload = wire.error_response(
                    info.kind, 400, "ValidationError", "local AWS: %s" % exc, info.model)
                answer = Answer(status, headers, payload)
            if answer is not None:  # answered here (the local EKS, a refusal): held like the others
                hold = None if observer else srv.hold.match(info)
                answer = srv.strict.after(call, answer)
                record(answer.status)
                if hold is not None:
                    release, seconds = hold
                    release.wait(seconds)
                self._send_simple(answer.status, answer.headers, answer.body)
                return
        self._forward(target, body, has_body, record, None if observer else srv.hold.match(info), call)

    def _forward(self, target, body, has_body, record, hold=None, call=None):
        srv = self.server
        conn_cls = http.client.HTTPSConnection if srv.upstream_scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(srv.upstream_host, srv.upstream_port, timeout=srv.upstream_timeout)
        try:
            try:
                conn.connect()
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
                host_sent = False
                for key, value in self.headers.items():
                    lkey = key.lower()
                    if lkey in HOP_BY_HOP or lkey in ("content-length", "expect"):
                        continue
                    if lkey == "host":
                        if srv.rewrite_host:
                            continue
                        host_sent = True
                    conn.putheader(key, value)
                if not host_sent:
                    conn.putheader("Host", srv.upstream_netloc)
                if has_body or body:
                    conn.putheader("Content-Length", str(len(body)))
                conn.putheader("Connection", "close")
                conn.endheaders(body if body else None)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                sys.stderr.write("aws-proxy: upstream error for %s %s: %s\n"
                                 % (self.command, target.split("?", 1)[0], exc))
                record(502)
                payload = json.dumps({"message": "upstream unavailable"}).encode()
                self._send_simple(502, [("Content-Type", "application/json")], payload)
                return
            if call is None:
                self._relay(resp, record, hold)
                return
            # The strict behaviours read (and may change) the whole answer.
            payload = resp.read()
            headers = [(k, v) for k, v in resp.getheaders()
                       if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
            answer = srv.strict.after(call, Answer(resp.status, headers, payload))
            record(answer.status)
            if hold is not None:
                release, seconds = hold
                release.wait(seconds)
            self._send_simple(answer.status, answer.headers, answer.body, keep_date=True)
        finally:
            conn.close()

    def _relay(self, resp, record, hold=None):
        status = resp.status
        record(status)
        if hold is not None:  # done upstream and logged; the client waits for the answer
            release, seconds = hold
            release.wait(seconds)
        no_body = self.command == "HEAD" or status in NO_BODY_STATUSES or 100 <= status < 200
        length = resp.getheader("Content-Length")
        self.send_response_only(status, resp.reason)
        for key, value in resp.getheaders():
            lkey = key.lower()
            if lkey in HOP_BY_HOP or lkey == "content-length":
                continue
            self.send_header(key, value)
        if no_body:
            if length is not None and self.command == "HEAD":
                self.send_header("Content-Length", length)
            self._finish_headers()
            return
        if length is not None and not resp.chunked:
            self.send_header("Content-Length", length)
            self._finish_headers()
            remaining = int(length)
            while remaining > 0:
                data = resp.read(min(CHUNK, remaining))
                if not data:
                    self.close_connection = True  # upstream cut the body short
                    break
                self.wfile.write(data)
                remaining -= len(data)
            return
        chunked = self.request_version == "HTTP/1.1"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True  # the end of the body is the end of the connection
        self._finish_headers()
        while True:
            data = resp.read1(CHUNK) if hasattr(resp, "read1") else resp.read(CHUNK)
            if not data:
                break
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _finish_headers(self):
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _send_simple(self, status, headers, payload, keep_date=False):
        self.send_response_only(status)
        for key, value in headers:
            self.send_header(key, value)
        if not (keep_date and any(key.lower() == "date" for key, _ in headers)):
            self.send_header("Date", self.date_time_string())
        if self.command == "HEAD":
            payload = b""
        self.send_header("Content-Length", str(len(payload)))
        self._finish_headers()
        if payload:
            self.wfile.write(payload)

    # -- control ---------------------------------------------------------------------------

    def _control(self, target, body):
        srv = self.server
        path = urlsplit(target).path.rstrip("/")
        if path == "/_proxy/health" and self.command in ("GET", "HEAD"):
            with srv.stats_lock:
                requests = srv.requests
            self._json(200, {"status": "ok", "upstream": srv.upstream_url,
                             "config": srv.injector.config(), "requests": requests,
                             "injected": dict(srv.injector.counts), "log": srv.log.path,
                             "hold": srv.hold.config()})
        elif path == "/_proxy/config" and self.command == "POST":
            try:
                settings = json.loads(body.decode("utf-8") or "{}")
                if not isinstance(settings, dict):
                    raise ValueError("expected a JSON object")
                unknown = set(settings) - {"throttle_rate", "error_rate", "seed", "fault_after", "hold"}
                if unknown:
                    raise ValueError("unknown settings: %s" % ", ".join(sorted(unknown)))
                hold = "hold" in settings
                spec = settings.pop("hold", None)
                if hold:
                    srv.hold.configure(spec)
                config = srv.injector.configure(**settings)
            except (ValueError, TypeError) as exc:
                self._json(400, {"error": str(exc)})
                return
            self._json(200, {"status": "ok", "config": config, "hold": srv.hold.config()})
        elif path == "/_proxy/reset-log" and self.command == "POST":
            srv.log.reset()
            self._json(200, {"status": "ok"})
        else:
            self._json(404, {"error": "unknown proxy endpoint"})

    def _strict_control(self, target, body):
        srv = self.server
        path = urlsplit(target).path.rstrip("/")
        if srv.strict is None:
            self._json(404, {"error": "the strict behaviours are not running"})
            return
        if path == "/_aws/config" and self.command == "POST":
            try:
                settings = json.loads(body.decode("utf-8") or "{}")
                self._json(200, srv.configure_strict(settings))
            except (ValueError, TypeError) as exc:
                self._json(400, {"error": str(exc)})
            return
        if path == "/_aws/config" and self.command == "GET":
            self._json(200, srv.strict_config())
            return
        try:
            found = srv.strict.control(self.command, path, body)
        except (ValueError, TypeError) as exc:
            self._json(400, {"error": str(exc)})
            return
        if found is None:
            self._json(404, {"error": "unknown endpoint of the local AWS"})
            return
        if isinstance(found, Answer):
            self._send_simple(found.status, found.headers, found.body)
            return
        self._json(*found)

    def _json(self, status, payload):
        self._send_simple(status, [("Content-Type", "application/json")],
                          json.dumps(payload).encode())


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, upstream, log_path, injector, rewrite_host=False, upstream_timeout=600,
                 strict=None):
        split = urlsplit(upstream)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ValueError("--upstream must be an http(s) URL, got %r" % upstream)
        super().__init__(("127.0.0.1", port), ProxyHandler)
        self.upstream_url = upstream.rstrip("/")
        self.upstream_scheme = split.scheme
        self.upstream_host = split.hostname
        self.upstream_port = split.port or (443 if split.scheme == "https" else 80)
        self.upstream_netloc = split.netloc
        self.upstream_timeout = upstream_timeout
        self.rewrite_host = rewrite_host
        self.log = RequestLog(log_path)
        self.injector = injector
        self.hold = Hold()
        self.classifier = Classifier()
        self.stats_lock = threading.Lock()
        self.requests = 0
        self.strict = strict

    # -- the strict local AWS (scripts/local_aws) ------------------------------------------

    def strict_call(self, method, target, headers, body, info):
        scope = _CREDENTIAL.search(headers.get("Authorization") or "")
        credential = scope.group(1) if scope else dict(parse_qsl(urlsplit(target).query)).get("X-Amz-Credential", "")
        parts = credential.split("/")
        region = parts[2] if len(parts) >= 5 else ""
        return Call(method=method, target=target, headers=headers, body=body, service=info.service,
                    operation=info.operation, kind=info.kind, model=info.model, region=region)

    def strict_config(self):
        return {"settings": self.strict.settings.as_dict(), "kube": dict(self.strict.kube)}

    def configure_strict(self, settings):
        if not isinstance(settings, dict):
            raise ValueError("expected a JSON object")
        unknown = set(settings) - {"kube", "strict", "time_scale", "session_scale", "consistency_windows"}
        if unknown:
            raise ValueError("unknown settings: %s" % ", ".join(sorted(unknown)))
        if "kube" in settings:
            kube = settings["kube"] or {}
            if set(kube) - {"endpoint", "ca_data"}:
                raise ValueError("kube: expected endpoint and ca_data")
            self.strict.kube = dict(kube)
        if "strict" in settings:
            self.strict.settings.enabled = core.Settings.parse(settings["strict"])
        if "time_scale" in settings:
            self.strict.settings.scale = core.positive("time_scale", settings["time_scale"])
        if "session_scale" in settings:
            value = settings["session_scale"]
            self.strict.settings.session_scale = None if value is None else core.positive("session_scale", value)
        if "consistency_windows" in settings:
            self.strict.settings.windows = consistency_windows(settings["consistency_windows"] or {})
        return self.strict_config()


def consistency_windows(windows):
    """``{family: (low, high)}`` from ``{"iam": [4, 10]}`` or the text ``iam=4-10,ec2=0.2-1``."""
    if isinstance(windows, str):
        pairs = [item.split("=", 1) for item in windows.split(",") if item.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError("consistency windows: expected FAMILY=LOW-HIGH[,...], got %r" % windows)
        windows = {family.strip(): window.split("-", 1) for family, window in pairs}
    out = {}
    for family, window in windows.items():
        if family not in consistency.WINDOWS:
            raise ValueError("consistency windows: unknown family %r; allowed: %s"
                             % (family, ", ".join(consistency.WINDOWS)))
        low, high = (float(value) for value in window)
        if not 0 <= low <= high:
            raise ValueError("consistency windows: %s needs 0 <= low <= high, got %r" % (family, window))
        out[family] = (low, high)
    return out


def serve(args):
    injector = FaultInjector(args.throttle_rate, args.error_rate, args.seed, args.fault_after)
    bridge = strict = None
    upstream = args.upstream
    if not upstream:  # moto in this process, behind the strict behaviours
        bridge = MotoBridge()
        upstream = bridge.start(args.moto_port)
        settings = core.Settings(args.strict, args.time_scale, args.strict_seed, args.session_scale)
        settings.windows = consistency_windows(args.consistency_windows)
        strict = assemble.build(settings, bridge, public_domains=args.public_domain,
                                local_hosts=["127.0.0.1:%d" % args.port] if args.port else [])
        if args.moto_url_file:
            with open(args.moto_url_file, "w", encoding="utf-8") as handle:
                handle.write(upstream + "\n")
    httpd = ProxyServer(args.port, upstream, args.log, injector,
                        rewrite_host=args.host_header == "upstream", strict=strict)
    if strict is not None:
        from local_aws.eks_auth import EksAuth

        strict.find(EksAuth).local_hosts.add("127.0.0.1:%d" % httpd.server_address[1])
    if args.pidfile:
        with open(args.pidfile, "w", encoding="utf-8") as handle:
            handle.write("%d\n" % os.getpid())

    def stop(signum, frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write("aws-proxy listening on http://127.0.0.1:%d -> %s (pid %d, seed %d, throttle %.3f, "
                     "errors %.3f, fault-after %d, log %s, strict %s)\n"
                     % (httpd.server_address[1], httpd.upstream_url, os.getpid(), injector.seed,
                        injector.throttle_rate, injector.error_rate, injector.fault_after, args.log,
                        json.dumps(strict.settings.as_dict()) if strict is not None else "off (external upstream)"))
    sys.stderr.flush()
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()
        if bridge is not None:
            bridge.stop()
        if args.pidfile and os.path.exists(args.pidfile):
            os.unlink(args.pidfile)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Logging, fault-injecting reverse proxy in front of the local AWS emulator.")
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--upstream", help="an emulator of its own, e.g. http://127.0.0.1:5000 (no strict "
                                           "behaviours); default: moto in this process, behind them")
    parser.add_argument("--moto-port", type=int, default=0, help="port of the in-process moto (0: any free port)")
    parser.add_argument("--moto-url-file", help="write the in-process moto's URL here")
    parser.add_argument("--strict", default=os.environ.get("HONEYHIVE_AWS_STRICT", "all"),
                        help="strict behaviours: all (default), none, or e.g. all,-timing (%s)"
                             % ", ".join(core.BEHAVIOURS))
    parser.add_argument("--time-scale", type=float,
                        default=float(os.environ.get("HONEYHIVE_AWS_TIME_SCALE") or core.DEFAULT_SCALE),
                        help="AWS durations are divided by this (default %g)" % core.DEFAULT_SCALE)
    parser.add_argument("--session-scale", type=float,
                        default=float(os.environ.get("HONEYHIVE_AWS_SESSION_SCALE") or core.DEFAULT_SESSION_SCALE),
                        help="role sessions' AWS lifetimes are divided by this (default %g)"
                             % core.DEFAULT_SESSION_SCALE)
    parser.add_argument("--consistency-windows", default=os.environ.get("HONEYHIVE_AWS_CONSISTENCY_WINDOWS", ""),
                        help="eventual consistency windows in seconds that replace the defaults, "
                             "e.g. iam=4-10 (default iam=1-4, ec2=0.2-1.5)")
    parser.add_argument("--strict-seed", type=int, default=os.environ.get("HONEYHIVE_AWS_SEED") or None,
                        help="seed of the eventual-consistency draws (default: random, reported)")
    parser.add_argument("--public-domain", action="append", default=[],
                        help="NAME@ACCOUNT: a registered domain whose public zone exists in ACCOUNT")
    parser.add_argument("--log", required=True, help="request log (JSON lines, appended)")
    parser.add_argument("--seed", type=int, help="seed of the fault generator (default: random, reported)")
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="probability of a throttling answer")
    parser.add_argument("--error-rate", type=float, default=0.0, help="probability of a 500/503 answer")
    parser.add_argument("--fault-after", type=int, default=0, help="let the first N AWS requests through")
    parser.add_argument("--host-header", choices=("keep", "upstream"), default="keep",
                        help="forward the client's Host (default, keeps the signature valid) or the upstream's")
    parser.add_argument("--pidfile", help="write the process id here; removed on exit")
    args = parser.parse_args(argv)
    for name in ("throttle_rate", "error_rate"):
        try:
            _rate(getattr(args, name), name)
        except ValueError as exc:
            parser.error(str(exc))
    serve(args)


if __name__ == "__main__":
    main()
