# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The strict local AWS: the pieces every behaviour shares.

The AWS proxy (``scripts/aws_proxy.py``) runs moto in its own process and hands each request
to :class:`Strict` before and after moto answers. Each behaviour (IAM enforcement, expiring
credentials, eventual consistency, creation times, zone ids, the local EKS) is a
:class:`Behaviour` with ``before(call)`` (may answer instead of moto) and ``after(call,
answer)`` (may change moto's answer). :class:`Settings` says which behaviours are on, the
time scale factor of creations and deletions, and the scale of role sessions' lifetimes.

Switches, for debugging (``HONEYHIVE_AWS_STRICT``, ``--strict``): ``all`` (the default),
``none``, or a comma list that starts from ``all`` or ``none`` and adds or removes names
(``all,-timing``; ``none,+iam``). Names: :data:`BEHAVIOURS`.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from . import protocol

BEHAVIOURS = ("credentials", "iam", "consistency", "timing", "zones", "dns", "eks_auth")
DEFAULT_SCALE = 20.0
# Role sessions last half their AWS lifetime (an hour's session 30 minutes): still shorter than
# on AWS, and long enough that botocore and the Kubernetes client renew them as often as they
# do on AWS (see Settings). The suites that test expiry shorten them (test_access, test_eks_tokens).
DEFAULT_SESSION_SCALE = 2.0


def positive(name, value):
    """``value`` as a float greater than 0, else a ValueError naming ``name``."""
    value = float(value)
    if value <= 0:
        raise ValueError("%s must be greater than 0, got %r" % (name, value))
    return value


class Settings:
    """Which strict behaviours are on, the time scale factor, the session scale and the seed.

    ``session_scale`` divides role sessions' lifetimes only (``None``: the time scale). It is
    its own factor because the clients decide by real minutes when to renew: botocore
    refreshes assumed-role credentials 15 minutes before they end, and the Kubernetes Python
    client runs its exec plugin again for a token that ends within 5 minutes. An hour's
    session at the time scale (3 minutes at 20) is always "about to end" for both, so every AWS
    request would be preceded by an AssumeRole and every Kubernetes request by a new token,
    which AWS never sees.
    """

    def __init__(self, spec="all", scale=DEFAULT_SCALE, seed=None, session_scale=None):
        self.enabled = self.parse(spec)
        self.scale = positive("scale", scale)
        self.session_scale = None if session_scale is None else positive("session_scale", session_scale)
        self.seed = int(seed) if seed is not None else random.SystemRandom().randrange(1 << 31)
        # Eventual consistency windows by family ("iam", "ec2") that replace consistency.WINDOWS'.
        self.windows = {}

    @staticmethod
    def parse(spec):
        spec = (spec or "all").strip()
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        enabled = set(BEHAVIOURS)
        if parts and parts[0] in ("all", "none"):
            enabled = set(BEHAVIOURS) if parts.pop(0) == "all" else set()
        for part in parts:
            sign, name = ("-", part[1:]) if part.startswith("-") else ("+", part.lstrip("+"))
            if name not in BEHAVIOURS:
                raise ValueError("unknown strict behaviour %r; allowed: %s" % (name, ", ".join(BEHAVIOURS)))
            (enabled.discard if sign == "-" else enabled.add)(name)
        return enabled

    def on(self, name):
        return name in self.enabled

    def scaled(self, seconds):
        """Real-AWS seconds as wall seconds at this scale."""
        return seconds / self.scale

    def scaled_session(self, seconds):
        """A role session's lifetime on AWS as wall seconds at the session scale."""
        return seconds / (self.session_scale or self.scale)

    def as_dict(self):
        return {"enabled": sorted(self.enabled), "scale": self.scale, "session_scale": self.session_scale,
                "seed": self.seed, "consistency_windows": {k: list(v) for k, v in self.windows.items()}}


@dataclass
class Principal:
    """Who signed a request."""

    kind: str                      # "root" (static keys), "assumed-role"
    account: str
    arn: str
    access_key: str = ""
    role_arn: str = ""             # the role behind an assumed-role session
    session_name: str = ""
    expires: float | None = None   # epoch seconds (scaled), None for static keys
    issued: float = 0.0

    @property
    def role_name(self):
        return self.role_arn.rsplit("/", 1)[-1] if self.role_arn else ""


@dataclass
class Answer:
    status: int
    headers: list
    body: bytes

    def header(self, name):
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


@dataclass
class Call:
    """One AWS request as the behaviours see it."""

    method: str
    target: str
    headers: object
    body: bytes
    service: str
    operation: str | None
    kind: str
    model: object = None           # aws_proxy.ServiceModel (compact)
    region: str = ""
    access_key: str = ""
    principal: Principal | None = None
    received: float = field(default_factory=time.time)
    _params: dict | None = None
    notes: dict = field(default_factory=dict)

    @property
    def path(self):
        return urlsplit(self.target).path or "/"

    @property
    def query_string(self):
        return urlsplit(self.target).query

    @property
    def query(self):
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    def header(self, name):
        getter = getattr(self.headers, "get", None)
        if getter is not None:
            value = getter(name)
            if value is not None:
                return value
        items = self.headers.items() if hasattr(self.headers, "items") else self.headers
        lname = name.lower()
        for key, value in items:
            if key.lower() == lname:
                return value
        return None

    @property
    def params(self):
        """The request's input parameters by the operation's model (see protocol.py)."""
        if self._params is None:
            if not self.operation or self.service in ("moto", "unknown"):
                self._params = {}
            else:
                headers = dict(self.headers.items()) if hasattr(self.headers, "items") else dict(self.headers)
                self._params = protocol.parse_request(
                    self.service, self.operation, self.method, self.path, self.query_string,
                    headers, self.body, self.header("Content-Type") or "")
        return self._params

    @property
    def account(self):
        return self.principal.account if self.principal else ""

    @property
    def partition(self):
        region = self.region or ""
        return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


class Behaviour:
    """One strict behaviour; ``name`` is its switch in :class:`Settings`."""

    name = ""

    def __init__(self, strict):
        self.strict = strict

    @property
    def settings(self):
        return self.strict.settings

    def before(self, call):  # noqa: D401 - hook
        """An :class:`Answer` to send instead of moto's, or None."""
        return None

    def after(self, call, answer):
        """The answer to send (``answer`` itself, or a changed one)."""
        return answer

    def control(self, method, path, body):
        """Answer a ``/_aws/...`` control request, or None when it is not this behaviour's."""
        return None


class Strict:
    """Runs the behaviours that are switched on, in order, around each forwarded request."""

    def __init__(self, settings, moto, state_dir=None):
        self.settings = settings
        self.moto = moto
        self.state_dir = state_dir
        self.lock = threading.RLock()
        self.behaviours = []
        self.rng = random.Random(settings.seed)
        self.kube = {}  # the local Kubernetes API server standing in for EKS clusters

    def add(self, behaviour):
        self.behaviours.append(behaviour)
        return behaviour

    def active(self):
        # A behaviour with an empty name (bookkeeping every run needs) is always on.
        return [b for b in self.behaviours if not b.name or self.settings.on(b.name)]

    def before(self, call):
        for behaviour in self.active():
            answer = behaviour.before(call)
            if answer is not None:
                call.notes["answered_by"] = behaviour.name or type(behaviour).__name__
                return answer
        return None

    def after(self, call, answer):
        for behaviour in self.active():
            answer = behaviour.after(call, answer)
        return answer

    def control(self, method, path, body):
        for behaviour in self.behaviours:
            answer = behaviour.control(method, path, body)
            if answer is not None:
                return answer
        return None

    def find(self, cls):
        for behaviour in self.behaviours:
            if isinstance(behaviour, cls):
                return behaviour
        return None
