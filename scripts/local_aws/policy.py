# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""AWS's policy evaluation logic, as a pure function of policies and one request.

Nothing here talks to an emulator: :func:`evaluate` takes parsed :class:`Policy` objects
(identity policies, an optional permissions boundary, an optional resource-based policy such
as a KMS key policy or a role's trust policy) and a :class:`Request` (action, resource ARN,
caller, condition context) and answers a :class:`Decision`, the way AWS documents it
("Policy evaluation logic" of the IAM user guide):

1. an explicit ``Deny`` in any of the policies wins;
2. a resource-based policy that names the caller (its role session, its role, or ``*``)
   allows on its own within one account; a permissions boundary still limits a grant to the
   role ARN or ``*``, not one to the session ARN;
3. where the resource policy must allow (``resource_required``: KMS key policies, trust
   policies) and it only names the caller's account (``arn:aws:iam::ACCOUNT:root``, or the
   account id), the caller's identity policies must allow as well; across accounts both
   sides must always allow;
4. otherwise an identity policy must allow, and, when the caller has a permissions
   boundary, the boundary must allow too;
5. anything else is an implicit deny.

Statement elements: ``Action``/``NotAction`` (case-insensitive, ``*`` and ``?``),
``Resource``/``NotResource`` (case-sensitive, matched per ARN segment like ``ArnLike``),
``Principal``/``NotPrincipal`` (account ids, ``arn:...:root``, role ARNs, assumed-role session
ARNs, ``Service``, ``Federated``, ``CanonicalUser`` and ``*``), and ``Condition`` with every
operator AWS has, their ``...IfExists`` forms and the ``ForAnyValue:``/``ForAllValues:`` set
operators. Policy variables (``${aws:username}``, ``${aws:PrincipalTag/team}``, defaults as in
``${aws:PrincipalTag/team, 'none'}``, and the escapes ``${*}``, ``${?}``, ``${$}``) are filled
in ``Resource`` and in condition values of ``Version: 2012-10-17`` policies.

A policy this module cannot evaluate never passes silently: an unknown condition operator
raises :class:`PolicyError` when the policy is parsed, and a condition key the caller of
:func:`evaluate` has not said how to answer (see :attr:`Request.resolvable`) raises
:class:`UnevaluableCondition` the moment a statement that needs it is evaluated. Both are
meant to end in an access-denied answer that names them.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

__all__ = ["PolicyError", "UnevaluableCondition", "Caller", "Request", "Statement", "Policy",
           "Decision", "evaluate", "action_matches", "resource_matches", "parse_policy"]


class PolicyError(ValueError):
    """A policy document this evaluator cannot read (malformed, or an unknown operator)."""


class UnevaluableCondition(PolicyError):
    """A statement needs a condition key whose value this request cannot give."""

    def __init__(self, key, policy="", sid=""):
        self.key = key
        self.policy = policy
        self.sid = sid
        where = "%s%s" % (policy or "a policy", " statement %s" % sid if sid else "")
        super().__init__("the condition key %s of %s cannot be evaluated locally for this request; "
                         "denied rather than ignored" % (key, where))


# ---------------------------------------------------------------------------------------------
# Wildcards


@lru_cache(maxsize=8192)
def _glob(pattern, ignore_case=False):
    """A compiled full-match regex of an IAM wildcard pattern (``*`` any run, ``?`` one)."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts) + r"\Z", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def action_matches(pattern, action):
    """``pattern`` (``iam:Get*``) matches ``action`` (``iam:GetRole``), case-insensitively."""
    if pattern == "*":
        return True
    return _glob(pattern, True).match(action) is not None


@lru_cache(maxsize=8192)
def _arn_pattern(pattern):
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        return None
    return tuple(_glob(p) for p in parts)


def resource_matches(pattern, arn):
    """``pattern`` matches ``arn`` as AWS matches a ``Resource`` or ``ArnLike``: each of the six
    colon-separated parts on its own, case-sensitively, ``*`` and ``?`` within a part (the last
    part, the resource, may itself hold colons)."""
    if pattern == "*":
        return True
    compiled = _arn_pattern(pattern)
    if compiled is None:
        # Not an ARN (IAM refuses such a Resource): it matches nothing, not even by a
        # wildcard that would span the ARN's parts.
        return False
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return False
    return all(c.match(p) is not None for c, p in zip(compiled, parts))


# ---------------------------------------------------------------------------------------------
# Caller and request


@dataclass
class Caller:
    """Who makes the request.

    ``kind``: ``root`` (the account's own credentials), ``assumed-role`` (a role session),
    ``user``, ``service`` (a service principal such as ``ec2.amazonaws.com``) or
    ``federated`` (a web identity or SAML provider ARN). ``arn`` is the ARN AWS reports in
    messages (the session ARN for a role session), ``role_arn`` the role behind a session.
    """

    kind: str
    account: str = ""
    arn: str = ""
    role_arn: str = ""
    session_name: str = ""
    service: str = ""
    tags: dict = field(default_factory=dict)

    @property
    def partition(self):
        parts = self.arn.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else "aws"


@dataclass
class Request:
    """One authorization question: may ``caller`` do ``action`` on ``resource``?

    ``context`` maps condition keys to values (a string, bool, number, datetime, or a
    list/tuple for a multi-valued key such as ``aws:TagKeys``); keys are matched
    case-insensitively; ``lazy`` may supply keys on demand (see :meth:`value`).
    ``resolvable(key)`` says whether a key absent from ``context`` is
    truly absent from the request (AWS's "key not present") or one this evaluator cannot
    answer; the default answers that every absent key is truly absent. Pass a stricter one
    (authz.py does) so that unknown keys fail closed.
    """

    action: str
    resource: str
    caller: Caller
    context: dict = field(default_factory=dict)
    resolvable: object = None
    lazy: object = None

    def __post_init__(self):
        self._lower = {k.lower(): v for k, v in self.context.items()}

    def value(self, key):
        """``(present, value)`` of a condition key. Keys not in ``context`` are asked of
        ``lazy(key)`` (``(present, value)``, or None when it does not know the key), which
        reads costly keys such as resource tags only when a statement needs them."""
        lkey = key.lower()
        if lkey in self._lower:
            return True, self._lower[lkey]
        if self.lazy is not None:
            found = self.lazy(key)
            if found is not None:
                if found[0]:
                    self._lower[lkey] = found[1]
                return found
        if self.resolvable is not None and not self.resolvable(key):
            raise UnevaluableCondition(key)
        return False, None

    def variable(self, name):
        """The value of a policy variable (``aws:username``), or None when it has none."""
        present, value = self.value(name)
        if not present or isinstance(value, (list, tuple, set, frozenset)):
            return None  # a multi-valued key cannot be a policy variable
        return _text(value)


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


# ---------------------------------------------------------------------------------------------
# Policy variables

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class _Unresolved(Exception):
    """A policy variable with no value and no default: the element does not match."""


def _substitute(text, request, wildcard_escape):
    """``text`` with ``${...}`` filled from ``request``.

    ``wildcard_escape`` says what ``${*}``/``${?}`` become: in a pattern (Resource, StringLike)
    an escaped, literal ``*``/``?``; elsewhere the character itself. Raises
    :class:`_Unresolved` when a variable has no value and no default.
    """
    if "${" not in text:
        return text, False

    def fill(match):
        body = match.group(1)
        if body in _ESCAPES:
            return wildcard_escape(body)
        default = _DEFAULT.match(body)
        name, fallback = (default.group(1), default.group(2)) if default else (body.strip(), None)
        value = request.variable(name)
        if value is None:
            if fallback is None:
                raise _Unresolved(name)
            value = fallback
        return wildcard_escape(value) if wildcard_escape is _LITERAL_IN_PATTERN else value

    return _VARIABLE.sub(fill, text), True


def _literal(value):
    return value


_SENTINEL_STAR = "\x00STAR\x00"
_SENTINEL_QMARK = "\x00QMARK\x00"


def _LITERAL_IN_PATTERN(value):  # noqa: N802 - used as a marker as well as a function
    return value.replace("*", _SENTINEL_STAR).replace("?", _SENTINEL_QMARK)


def _pattern_match(pattern, value, ignore_case=False, arn=False):
    """Wildcard match where ``pattern`` may carry escaped literal ``*``/``?`` sentinels."""
    if _SENTINEL_STAR not in pattern and _SENTINEL_QMARK not in pattern:
        if arn:
            return resource_matches(pattern, value)
        return _glob(pattern, ignore_case).match(value) is not None
    regex = []
    i = 0
    while i < len(pattern):
        if pattern.startswith(_SENTINEL_STAR, i):
            regex.append(re.escape("*"))
            i += len(_SENTINEL_STAR)
        elif pattern.startswith(_SENTINEL_QMARK, i):
            regex.append(re.escape("?"))
            i += len(_SENTINEL_QMARK)
        else:
            char = pattern[i]
            regex.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
            i += 1
    return re.fullmatch("".join(regex), value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


# ---------------------------------------------------------------------------------------------
# Conditions


def _num(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _date(value):
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return datetime.fromtimestamp(int(text), timezone.utc)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _ip(value, network=False):
    try:
        return ipaddress.ip_network(str(value), strict=False) if network else ipaddress.ip_address(str(value))
    except ValueError:
        return None


def _bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    return True if text == "true" else False if text == "false" else None


def _binary(value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    try:
        return base64.b64decode(str(value), validate=True)
    except (ValueError, TypeError):
        return str(value).encode()


def _cmp_string(req, pol, op):
    req = _text(req)
    if op == "StringEquals":
        return req == pol
    if op == "StringEqualsIgnoreCase":
        return req.lower() == pol.lower()
    if op == "StringLike":
        return _pattern_match(pol, req)
    raise AssertionError(op)


def _cmp_numeric(req, pol, op):
    a, b = _num(req), _num(pol)
    if a is None or b is None:
        return False
    return {"NumericEquals": a == b, "NumericLessThan": a < b, "NumericLessThanEquals": a <= b,
            "NumericGreaterThan": a > b, "NumericGreaterThanEquals": a >= b}[op]


def _cmp_date(req, pol, op):
    a, b = _date(req), _date(pol)
    if a is None or b is None:
        return False
    return {"DateEquals": a == b, "DateLessThan": a < b, "DateLessThanEquals": a <= b,
            "DateGreaterThan": a > b, "DateGreaterThanEquals": a >= b}[op]


def _cmp_arn(req, pol, op):
    # ArnEquals and ArnLike both compare each of the six parts, wildcards allowed (AWS
    # documents them alike).
    return _pattern_match(pol, _text(req), arn=True)


def _cmp_bool(req, pol, op):
    a, b = _bool(req), _bool(pol)
    return a is not None and a == b


def _cmp_ip(req, pol, op):
    address, network = _ip(req), _ip(pol, network=True)
    return address is not None and network is not None and address in network


def _cmp_binary(req, pol, op):
    return _binary(req) == _binary(pol)


# base operator -> (comparison, the positive operator it negates or None, pattern-valued)
_OPERATORS = {
    "StringEquals": (_cmp_string, None, False),
    "StringNotEquals": (_cmp_string, "StringEquals", False),
    "StringEqualsIgnoreCase": (_cmp_string, None, False),
    "StringNotEqualsIgnoreCase": (_cmp_string, "StringEqualsIgnoreCase", False),
    "StringLike": (_cmp_string, None, True),
    "StringNotLike": (_cmp_string, "StringLike", True),
    "NumericEquals": (_cmp_numeric, None, False),
    "NumericNotEquals": (_cmp_numeric, "NumericEquals", False),
    "NumericLessThan": (_cmp_numeric, None, False),
    "NumericLessThanEquals": (_cmp_numeric, None, False),
    "NumericGreaterThan": (_cmp_numeric, None, False),
    "NumericGreaterThanEquals": (_cmp_numeric, None, False),
    "DateEquals": (_cmp_date, None, False),
    "DateNotEquals": (_cmp_date, "DateEquals", False),
    "DateLessThan": (_cmp_date, None, False),
    "DateLessThanEquals": (_cmp_date, None, False),
    "DateGreaterThan": (_cmp_date, None, False),
    "DateGreaterThanEquals": (_cmp_date, None, False),
    "Bool": (_cmp_bool, None, False),
    "BinaryEquals": (_cmp_binary, None, False),
    "IpAddress": (_cmp_ip, None, False),
    "NotIpAddress": (_cmp_ip, "IpAddress", False),
    "ArnEquals": (_cmp_arn, None, True),
    "ArnLike": (_cmp_arn, None, True),
    "ArnNotEquals": (_cmp_arn, "ArnEquals", True),
    "ArnNotLike": (_cmp_arn, "ArnLike", True),
}


@dataclass(frozen=True)
class Condition:
    """One ``operator: {key: values}`` entry of a statement's ``Condition``, for one key."""

    operator: str          # as written, e.g. "ForAllValues:StringLikeIfExists"
    base: str              # StringLike
    set_op: str            # "", "ForAnyValue", "ForAllValues"
    if_exists: bool
    key: str
    values: tuple          # policy values, as strings

    @classmethod
    def parse(cls, operator, key, values):
        set_op, _, rest = operator.rpartition(":")
        if set_op not in ("", "ForAnyValue", "ForAllValues"):
            raise PolicyError("unknown condition set operator %r in %r" % (set_op, operator))
        if_exists = rest.endswith("IfExists") and rest != "IfExists"
        base = rest[: -len("IfExists")] if if_exists else rest
        if base != "Null" and base not in _OPERATORS:
            raise PolicyError("unknown condition operator %r; this evaluator knows %s"
                              % (operator, ", ".join(sorted(list(_OPERATORS) + ["Null"]))))
        if base == "Null" and (if_exists or set_op):
            raise PolicyError("%r: Null takes no IfExists or set operator" % operator)
        if not isinstance(values, list):
            values = [values]
        out = []
        for value in values:
            if isinstance(value, (dict, list)) or value is None:
                raise PolicyError("condition %s %s: a value must be a string, number or boolean, got %r"
                                  % (operator, key, value))
            out.append(_text(value))
        return cls(operator, base, set_op, if_exists, key, tuple(out))

    def holds(self, request, variables):
        present, value = request.value(self.key)
        if self.base == "Null":
            want_absent = any(v.lower() == "true" for v in self.values)
            absent = (not present) or value in ((), [])
            return absent if want_absent else not absent
        compare, negates, pattern = _OPERATORS[self.base]
        positive = negates or self.base
        policy_values = self._policy_values(request, variables, pattern)
        multi = isinstance(value, (list, tuple, set, frozenset))
        if self.set_op == "ForAllValues":
            if not present or (multi and not value):
                return True
            items = list(value) if multi else [value]
            return all(self._one(item, policy_values, compare, positive, negates) for item in items)
        if self.set_op == "ForAnyValue":
            if not present or (multi and not value):
                return False
            items = list(value) if multi else [value]
            return any(self._one(item, policy_values, compare, positive, negates) for item in items)
        if not present:
            # AWS: a missing key does not match; a negated operator (StringNotEquals,
            # ArnNotLike, NotIpAddress ...) is then true; ...IfExists is true either way.
            return True if self.if_exists else bool(negates)
        if multi:
            # A single-valued operator on a multi-valued key: true when any value matches
            # (for a negated operator: when no value matches any policy value).
            if negates:
                return not any(any(compare(item, pv, positive) for pv in policy_values) for item in value)
            return any(any(compare(item, pv, positive) for pv in policy_values) for item in value)
        return self._one(value, policy_values, compare, positive, negates)

    @staticmethod
    def _one(item, policy_values, compare, positive, negates):
        matched = any(compare(item, pv, positive) for pv in policy_values)
        return not matched if negates else matched

    def _policy_values(self, request, variables, pattern):
        if not variables:
            return self.values
        out = []
        for raw in self.values:
            try:
                value, _ = _substitute(raw, request, _LITERAL_IN_PATTERN if pattern else _literal)
            except _Unresolved:
                continue  # a variable without a value matches nothing
            out.append(value)
        return tuple(out)


# ---------------------------------------------------------------------------------------------
# Principals


@dataclass(frozen=True)
class PrincipalSpec:
    """The ``Principal`` (or ``NotPrincipal``) element of a resource-based policy statement."""

    any: bool = False
    aws: tuple = ()
    service: tuple = ()
    federated: tuple = ()
    canonical: tuple = ()

    @classmethod
    def parse(cls, element):
        if element == "*":
            return cls(any=True)
        if not isinstance(element, dict):
            raise PolicyError("Principal must be \"*\" or an object, got %r" % (element,))
        kinds = {}
        for kind, values in element.items():
            if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
                raise PolicyError("unknown principal type %r" % kind)
            values = values if isinstance(values, list) else [values]
            kinds[kind] = tuple(str(v) for v in values)
        aws = kinds.get("AWS", ())
        return cls(any="*" in aws, aws=aws, service=kinds.get("Service", ()),
                   federated=kinds.get("Federated", ()), canonical=kinds.get("CanonicalUser", ()))

    def match(self, caller):
        """How this element names ``caller``: ``"any"``, ``"account"``, ``"role"``,
        ``"session"``, ``"principal"`` (a user, service or provider by name), or None."""
        if self.any:
            return "any"
        if caller.kind == "service":
            return "principal" if caller.service in self.service else None
        if caller.kind == "federated":
            return "principal" if caller.arn in self.federated else None
        best = None
        for value in self.aws:
            kind = _principal_kind(value, caller)
            if kind == "session":
                return kind
            if kind == "role" or (kind and best is None):
                best = kind
        return best


def _principal_kind(value, caller):
    if re.fullmatch(r"\d{12}", value):
        return "account" if value == caller.account else None
    parts = value.split(":", 5)
    if len(parts) < 6:
        return None
    account, resource = parts[4], parts[5]
    if resource == "root":
        return "account" if account == caller.account else None
    if caller.kind == "assumed-role":
        if value == caller.arn:
            return "session"
        if caller.role_arn and value == caller.role_arn:
            return "role"
        return None
    if value == caller.arn:
        return "principal" if caller.kind != "root" else "account"
    return None


# ---------------------------------------------------------------------------------------------
# Statements and policies


def _as_list(value, what):
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise PolicyError("%s must be a string or a list of strings, got %r" % (what, value))


@dataclass
class Statement:
    """One parsed statement."""

    sid: str
    effect: str
    actions: tuple = ()
    not_actions: tuple = ()
    resources: tuple = ()
    not_resources: tuple = ()
    principal: PrincipalSpec | None = None
    not_principal: PrincipalSpec | None = None
    conditions: tuple = ()
    variables: bool = False
    index: int = 0

    @classmethod
    def parse(cls, raw, index, variables, resource_policy):
        if not isinstance(raw, dict):
            raise PolicyError("a statement must be an object, got %r" % (raw,))
        known = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
                 "NotPrincipal", "Condition"}
        unknown = set(raw) - known
        if unknown:
            raise PolicyError("statement %s has unknown elements: %s"
                              % (raw.get("Sid", index), ", ".join(sorted(unknown))))
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError("statement %s: Effect must be Allow or Deny, got %r" % (raw.get("Sid", index), effect))
        if ("Action" in raw) == ("NotAction" in raw):
            raise PolicyError("statement %s needs exactly one of Action and NotAction" % raw.get("Sid", index))
        if "Resource" in raw and "NotResource" in raw:
            raise PolicyError("statement %s has both Resource and NotResource" % raw.get("Sid", index))
        if not resource_policy and ("Principal" in raw or "NotPrincipal" in raw):
            raise PolicyError("statement %s: an identity policy has no Principal" % raw.get("Sid", index))
        if not resource_policy and "Resource" not in raw and "NotResource" not in raw:
            raise PolicyError("statement %s needs Resource or NotResource" % raw.get("Sid", index))
        conditions = []
        for operator, block in (raw.get("Condition") or {}).items():
            if not isinstance(block, dict):
                raise PolicyError("condition %s must map keys to values" % operator)
            for key, values in block.items():
                conditions.append(Condition.parse(operator, key, values))
        return cls(
            sid=str(raw.get("Sid", "")), effect=effect,
            actions=tuple(_as_list(raw["Action"], "Action")) if "Action" in raw else (),
            not_actions=tuple(_as_list(raw["NotAction"], "NotAction")) if "NotAction" in raw else (),
            resources=tuple(_as_list(raw["Resource"], "Resource")) if "Resource" in raw else (
                () if "NotResource" in raw else ("*",)),
            not_resources=tuple(_as_list(raw["NotResource"], "NotResource")) if "NotResource" in raw else (),
            principal=PrincipalSpec.parse(raw["Principal"]) if "Principal" in raw else None,
            not_principal=PrincipalSpec.parse(raw["NotPrincipal"]) if "NotPrincipal" in raw else None,
            conditions=tuple(conditions), variables=variables, index=index)

    @property
    def label(self):
        return self.sid or "#%d" % self.index

    def _compiled_actions(self):
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            patterns = self.actions or self.not_actions
            literal = frozenset(p.lower() for p in patterns if "*" not in p and "?" not in p)
            wild = [p for p in patterns if "*" in p or "?" in p]
            regex = None
            if wild:
                # one regex for all wildcard patterns: (?:a|b)\Z, each as _glob compiles it
                bodies = "|".join(_glob(p, True).pattern[:-len(r"\Z")] for p in wild)
                regex = re.compile("(?:%s)\\Z" % bodies, re.IGNORECASE | re.DOTALL)
            compiled = self.__dict__["_compiled"] = (literal, regex, "*" in patterns)
        return compiled

    def matches_action(self, action):
        literal, regex, everything = self._compiled_actions()
        hit = everything or action.lower() in literal or (regex is not None and regex.match(action) is not None)
        return hit if self.actions else not hit

    def _resource_in(self, patterns, request):
        for pattern in patterns:
            if self.variables and "${" in pattern:
                try:
                    pattern, _ = _substitute(pattern, request, _LITERAL_IN_PATTERN)
                except _Unresolved:
                    continue
                if _pattern_match(pattern, request.resource, arn=True):
                    return True
            elif resource_matches(pattern, request.resource):
                return True
        return False

    def matches_resource(self, request):
        if self.not_resources:
            return not self._resource_in(self.not_resources, request)
        return self._resource_in(self.resources, request)

    def principal_match(self, caller):
        """How this statement names ``caller`` (see :meth:`PrincipalSpec.match`), or None."""
        if self.principal is not None:
            return self.principal.match(caller)
        if self.not_principal is not None:
            return None if self.not_principal.match(caller) else "any"
        return None

    def conditions_hold(self, request, policy_name):
        for condition in self.conditions:
            try:
                if not condition.holds(request, self.variables):
                    return False
            except UnevaluableCondition as exc:
                raise UnevaluableCondition(exc.key, policy_name, self.sid) from None
        return True


@dataclass
class Policy:
    """A parsed policy document; ``name`` identifies it in decisions and usage reports."""

    name: str
    statements: list
    version: str = "2008-10-17"
    kind: str = "identity"   # identity, boundary, resource

    def applicable(self, request):
        """``(statement, principal_match)`` of the statements whose action, resource,
        principal (resource policies) and conditions all match the request."""
        out = []
        for statement in self.statements:
            if not statement.matches_action(request.action):
                continue
            match = None
            if self.kind == "resource":
                match = statement.principal_match(request.caller)
                if match is None:
                    continue
            if not statement.matches_resource(request):
                continue
            if not statement.conditions_hold(request, self.name):
                continue
            out.append((statement, match))
        return out


def parse_policy(document, name="policy", kind="identity"):
    """A :class:`Policy` from a JSON string (URL-encoded as IAM returns it, or not) or a dict."""
    if isinstance(document, Policy):
        return document
    if isinstance(document, (str, bytes)):
        text = document.decode("utf-8") if isinstance(document, bytes) else document
        text = text.strip()
        if text.startswith("%7B") or text.startswith("%7b"):
            from urllib.parse import unquote

            text = unquote(text)
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise PolicyError("%s is not JSON: %s" % (name, exc)) from exc
    if not isinstance(document, dict):
        raise PolicyError("%s must be a JSON object" % name)
    version = str(document.get("Version", "2008-10-17"))
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyError("%s has no Statement list" % name)
    variables = version == "2012-10-17"
    parsed = [Statement.parse(raw, i, variables, kind == "resource") for i, raw in enumerate(statements)]
    return Policy(name=name, statements=parsed, version=version, kind=kind)


# ---------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class Decision:
    """The answer to one :class:`Request`.

    ``allowed``; ``reason``: ``allowed``, ``explicit-deny`` or ``implicit-deny``; ``source``: the
    kind of policy that decided (``identity``, ``boundary``, ``resource``), ``allowed_by`` and
    ``denied_by``: ``(policy name, statement label)`` pairs of the statements that decided.
    """

    allowed: bool
    reason: str
    source: str = ""
    allowed_by: list = field(default_factory=list)
    denied_by: list = field(default_factory=list)
    request: Request | None = None

    @property
    def statements(self):
        return self.denied_by if not self.allowed else self.allowed_by

    def message(self, with_reason=True):
        """AWS's message: ``User: <arn> is not authorized to perform: <action> on resource:
        <arn> because no identity-based policy allows the <action> action`` (and its other
        forms); empty when allowed."""
        if self.allowed:
            return ""
        request = self.request
        text = "User: %s is not authorized to perform: %s on resource: %s" % (
            request.caller.arn, request.action, request.resource)
        if not with_reason:
            return text
        policy = {"identity": "an identity-based policy", "boundary": "a permissions boundary",
                  "resource": "a resource-based policy"}.get(self.source, "an identity-based policy")
        if self.reason == "explicit-deny":
            return "%s with an explicit deny in %s" % (text, policy)
        what = {"identity": "identity-based policy", "boundary": "permissions boundary",
                "resource": "resource-based policy"}.get(self.source, "identity-based policy")
        return "%s because no %s allows the %s action" % (text, what, request.action)


def _collect(policies, request, source):
    allows, denies = [], []
    for policy in policies:
        for statement, match in policy.applicable(request):
            entry = (policy.name, statement.label, match)
            (allows if statement.effect == "Allow" else denies).append(entry)
    return allows, denies


def evaluate(request, identity=(), boundary=None, resource_policy=None, resource_account="",
             resource_required=False, caller_is_root=None):
    """The :class:`Decision` of AWS's evaluation logic for ``request``.

    ``identity``: the caller's identity policies; ``boundary``: its permissions boundary
    (a :class:`Policy`) or None; ``resource_policy``: the resource's policy or None;
    ``resource_account``: the account that owns the resource (defaults to the caller's);
    ``resource_required``: the resource policy must allow (directly or by naming the
    caller's account), as for KMS key policies and role trust policies.
    ``caller_is_root``: the account's own credentials, allowed everything in their account
    by identity (defaults to ``request.caller.kind == "root"``).
    """
    caller = request.caller
    if caller_is_root is None:
        caller_is_root = caller.kind == "root"
    same_account = not resource_account or resource_account == caller.account
    identity_allows, identity_denies = _collect(identity, request, "identity")
    boundary_allows, boundary_denies = ([], []) if boundary is None else _collect([boundary], request, "boundary")
    resource_allows, resource_denies = ([], []) if resource_policy is None else _collect(
        [resource_policy], request, "resource")

    def strip(entries):
        return [(name, sid) for name, sid, _ in entries]

    for entries, source in ((identity_denies, "identity"), (boundary_denies, "boundary"),
                            (resource_denies, "resource")):
        if entries:
            return Decision(False, "explicit-deny", source, denied_by=strip(entries), request=request)

    identity_ok = caller_is_root or bool(identity_allows)
    boundary_ok = boundary is None or caller_is_root or bool(boundary_allows)
    direct = [e for e in resource_allows if e[2] != "account"]
    via_account = [e for e in resource_allows if e[2] == "account"]
    # A grant to the session ARN is not limited by the boundary; one to the role or "*" is.
    session_direct = [e for e in direct if e[2] in ("session", "principal")]
    allowed_by_identity = strip(identity_allows) + strip(boundary_allows)

    if resource_required:
        if not resource_allows:
            return Decision(False, "implicit-deny", "resource", request=request)
        if same_account and direct and (session_direct or boundary_ok):
            return Decision(True, "allowed", "resource", allowed_by=strip(direct), request=request)
        # Named only through the account, or across accounts: the caller's side must allow.
        if not identity_ok:
            return Decision(False, "implicit-deny", "identity", request=request)
        if not boundary_ok:
            return Decision(False, "implicit-deny", "boundary", request=request)
        return Decision(True, "allowed", "identity",
                        allowed_by=strip(direct or via_account) + allowed_by_identity, request=request)

    if same_account and direct and (session_direct or boundary_ok):
        return Decision(True, "allowed", "resource", allowed_by=strip(direct), request=request)
    if not same_account:
        if not (direct or via_account):
            return Decision(False, "implicit-deny", "resource", request=request)
    if not identity_ok:
        return Decision(False, "implicit-deny", "identity", request=request)
    if not boundary_ok:
        return Decision(False, "implicit-deny", "boundary", request=request)
    by = allowed_by_identity + ([] if same_account else strip(direct or via_account))
    return Decision(True, "allowed", "identity", allowed_by=by, request=request)
