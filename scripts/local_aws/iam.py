# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""IAM enforced: every request of a role session is evaluated as AWS evaluates it.

:class:`IamEnforcement` is the strict behaviour ``iam``. For each request signed by an
assumed-role session it asks authz.py what AWS authorizes (actions, resource ARNs, condition
keys, the implicit ``iam:PassRole`` and KMS checks), reads the role's identity policies (its
inline policies and the default versions of its attached managed policies) and permissions
boundary from moto's IAM backend in this process, and evaluates them with policy.py,
together with a KMS key policy where the resource is a key. A request that is not allowed is
answered, instead of moto, with the service's own access-denied error in its wire format::

    User: arn:aws:sts::111122223333:assumed-role/R/S is not authorized to perform:
    iam:PutRolePolicy on resource: arn:aws:iam::111122223333:role/R with an explicit deny
    in an identity-based policy

Requests made with static keys (the harness's administrator, kind ``root``) are not
restricted, except ``sts:AssumeRole``, which is checked for every caller: the target role's
trust policy must allow the caller (a trust in the caller's account root also needs the
caller's own identity policy to allow ``sts:AssumeRole``), with ``sts:ExternalId``,
``sts:RoleSessionName``, ``DurationSeconds`` within the role's ``MaxSessionDuration`` and one
hour for role chaining. (A role made moments ago that STS cannot see yet is refused by the
eventual-consistency behaviour, consistency.py, with the same AccessDenied.)

Usage: every decision is recorded per role (action, resource, the statements that allowed
or denied it). ``GET /_aws/iam/usage`` answers it as JSON (see :meth:`IamEnforcement.usage`),
``POST /_aws/iam/usage/reset`` clears it; ``scripts/iam_usage.py`` prints the report.

Nothing is ignored silently: an operation with no rule in authz.py, a condition key that
cannot be evaluated, or a policy that cannot be parsed denies the request with a message
that names the cause.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, defaultdict

from . import authz, core, wire
from .policy import Caller, PolicyError, Request, UnevaluableCondition, evaluate, parse_policy

DEFAULT_ACCOUNT = "123456789012"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_IAM_READ = re.compile(r"^(Get|List|Describe|Generate|Simulate)")


# ---------------------------------------------------------------------------------------------
# moto's state


def _backend(backends, account, region):
    try:
        return backends[account][region]
    except KeyError:
        return None


def _partition(region):
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


class MotoState(authz.State):
    """authz.State over moto's backends in this process."""

    def iam(self, account, partition="aws"):
        from moto.iam.models import iam_backends

        accounts = iam_backends[account]
        for name in (partition, "global"):
            try:
                return accounts[name]
            except KeyError:
                continue
        return None

    def role_object(self, account, name, partition="aws"):
        backend = self.iam(account, partition)
        if backend is None:
            return None
        for role in list(backend.roles.values()):
            if role.name == name:
                return role
        return None

    def role(self, account, name):
        role = self.role_object(account, name)
        if role is None:
            return None
        return {"arn": role.arn, "boundary": role.permissions_boundary_arn or "",
                "tags": {t["Key"]: t["Value"] for t in role.tags or []},
                "trust": role.assume_role_policy_document,
                "max_session": int(role.max_session_duration or 3600), "id": role.id}

    def kms_key(self, account, region, ref):
        from moto.kms.models import kms_backends

        if isinstance(ref, str) and ref.startswith("arn:"):
            parts = ref.split(":")
            account, region = parts[4] or account, parts[3] or region
        backend = _backend(kms_backends, account, region)
        if backend is None:
            return None
        try:
            key_id = backend.any_id_to_key_id(ref)
        except Exception:  # an alias that names no key
            return None
        key = backend.keys.get(key_id)
        if key is None:
            return None
        tags = {t["TagKey"]: t["TagValue"] for t in backend.tagger.list_tags_for_resource(key_id).get("Tags", [])}
        return {"arn": key.arn, "policy": key.policy, "tags": tags,
                "aws_managed": getattr(key, "key_manager", "CUSTOMER") == "AWS"}

    def secret(self, account, region, ref):
        from moto.secretsmanager.models import secretsmanager_backends

        backend = _backend(secretsmanager_backends, account, region)
        if backend is None or not ref:
            return None
        secret = backend.secrets.get(ref)
        if secret is None:
            return None
        return {"arn": secret.arn, "kms_key_id": getattr(secret, "kms_key_id", None),
                "tags": {t["Key"]: t["Value"] for t in getattr(secret, "tags", None) or []}}

    def tags(self, arn):
        parts = arn.split(":", 5)
        if len(parts) < 6:
            return None
        _, partition, service, region, account, resource = parts
        try:
            if service == "iam":
                kind, _, rest = resource.partition("/")
                if kind == "role":
                    role = self.role_object(account, rest.rsplit("/", 1)[-1], partition)
                    return {} if role is None else {t["Key"]: t["Value"] for t in role.tags or []}
                if kind == "policy":
                    backend = self.iam(account, partition)
                    policy = backend.managed_policies.get(arn) if backend else None
                    return {} if policy is None else {k: v["Value"] if isinstance(v, dict) else v
                                                      for k, v in (policy.tags or {}).items()}
                return None
            if service == "ec2":
                from moto.ec2.models import ec2_backends

                backend = _backend(ec2_backends, account, region)
                resource_id = resource.rsplit("/", 1)[-1]
                if resource_id == "*":
                    return {}
                return dict(backend.tags.get(resource_id, {})) if backend else {}
            if service == "kms" and "key/" in resource:
                key = self.kms_key(account, region, arn)
                return {} if key is None else key["tags"]
            if service == "secretsmanager":
                found = self.secret(account, region, arn)
                return {} if found is None else found["tags"]
        except Exception:  # state not readable: the key cannot be told
            return None
        return None

    def lookup(self, kind, account, region, ref):
        try:
            if kind == "route-table-of-association":
                from moto.ec2.models import ec2_backends

                backend = _backend(ec2_backends, account, region)
                for table in list(backend.route_tables.values()):
                    if ref in getattr(table, "_associations", {}):
                        return table.id
                return None
            if kind == "security-group-by-name":
                from moto.ec2.models import ec2_backends

                backend = _backend(ec2_backends, account, region)
                for group in backend.describe_security_groups(filters={"group-name": [ref]}):
                    return group.id
                return None
        except Exception:
            return None
        return None


# ---------------------------------------------------------------------------------------------
# Principals


_PRINCIPALS = {}


def resolve_principal(call):
    """``call.principal`` when the credentials behaviour set it; otherwise found from the
    access key of the signature in moto's STS state (static keys: the default account's root,
    or the account moto's ``x-moto-account-id`` names). Role sessions are remembered by key."""
    if call.principal is not None:
        return call.principal
    key = call.access_key
    if not key:
        match = _CREDENTIAL.search(call.header("Authorization") or "")
        key = match.group(1) if match else ""
    if not key:
        return None
    found = _PRINCIPALS.get(key)
    if found is not None:
        return found
    if key.startswith("ASIA"):  # temporary credentials: a role session of moto's STS
        principal = _session_of(key, _partition(call.region or "us-east-1"))
        if principal is not None:
            if len(_PRINCIPALS) > 10000:
                _PRINCIPALS.clear()
            _PRINCIPALS[key] = principal
            return principal
    account = call.header("x-moto-account-id") or DEFAULT_ACCOUNT
    return core.Principal(kind="root", account=account, arn="arn:aws:iam::%s:root" % account, access_key=key)


def _session_of(key, partition):
    """The role session of temporary access key ``key`` in moto's STS state, or None. Only
    backends that exist are read: touching an account's IAM backend makes moto load every
    AWS managed policy for it, for every partition."""
    try:
        from moto.sts.models import sts_backends
    except ImportError:  # pragma: no cover - moto is a requirement
        return None
    for account, backends in list(sts_backends.items()):
        backend = dict.get(backends, partition)
        if backend is None:
            continue
        for assumed in list(backend.assumed_roles):
            if assumed.access_key_id == key:
                role_account = assumed.role_arn.split(":")[4] or account
                name = assumed.role_arn.rsplit("/", 1)[-1]
                return core.Principal(kind="assumed-role", account=role_account,
                                      arn="arn:%s:sts::%s:assumed-role/%s/%s" % (
                                          partition, role_account, name, assumed.session_name),
                                      access_key=key, role_arn=assumed.role_arn, session_name=assumed.session_name)
    return None


def caller_of(principal, state):
    """The policy.Caller of a core.Principal (role tags become principal tags)."""
    if principal.kind == "assumed-role":
        tags = {}
        role = state.role(principal.account, principal.role_name) if principal.role_arn else None
        if role:
            tags = dict(role.get("tags") or {})
            tags["__role_id__"] = role.get("id", "AROA")
        return Caller(kind="assumed-role", account=principal.account, arn=principal.arn,
                      role_arn=role["arn"] if role else principal.role_arn,
                      session_name=principal.session_name, tags=tags)
    return Caller(kind=principal.kind, account=principal.account, arn=principal.arn)


# ---------------------------------------------------------------------------------------------
# Usage


class Usage:
    """What each role's requests needed, and which statements decided."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.actions = defaultdict(Counter)          # role -> action -> count
            self.resources = defaultdict(lambda: defaultdict(set))  # role -> action -> {arn}
            self.statements = defaultdict(lambda: defaultdict(Counter))  # role -> "policy/sid" -> action
            self.denied = defaultdict(list)              # role -> [{action, resource, message}]
            self.policies = {}                           # role -> {policy name: raw document}
            self.requests = 0
            self.evaluations = 0
            self.seconds = 0.0
            self.durations = []                          # seconds of the last 10000 evaluations
            self.slowest = []                            # [(seconds, "service Operation")], 5 at most

    def record(self, role, decisions):
        """One request's ``[(check, decision)]``: each action counts once per request."""
        with self.lock:
            self.evaluations += len(decisions)
            counted = set()
            for check, decision in decisions:
                if decision.allowed:
                    if check.action not in counted:
                        self.actions[role][check.action] += 1
                        counted.add(check.action)
                    if len(self.resources[role][check.action]) < 50:
                        self.resources[role][check.action].add(check.resource)
                for policy, sid in (decision.allowed_by if decision.allowed else decision.denied_by):
                    self.statements[role]["%s/%s" % (policy, sid)][check.action] += 1

    def deny(self, role, action, resource, message):
        with self.lock:
            if len(self.denied[role]) < 200:
                self.denied[role].append({"action": action, "resource": resource, "message": message})

    def as_dict(self):
        with self.lock:
            roles = set(self.actions) | set(self.denied) | set(self.policies)
            ordered = sorted(self.durations)

            def quantile(q):
                return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3) if ordered else 0.0

            return {
                "requests": self.requests, "evaluations": self.evaluations,
                "ms_per_request": round(self.seconds * 1000 / self.requests, 3) if self.requests else 0.0,
                "ms_p50": quantile(0.5), "ms_p95": quantile(0.95), "ms_max": quantile(1.0),
                "slowest": [{"ms": round(sec * 1000, 3), "request": what} for sec, what in self.slowest],
                "roles": {role: {
                    "actions": dict(sorted(self.actions[role].items())),
                    "resources": {a: sorted(r) for a, r in sorted(self.resources[role].items())},
                    "statements": {k: dict(v) for k, v in sorted(self.statements[role].items())},
                    "denied": list(self.denied[role]),
                    "policies": self.policies.get(role, {}),
                } for role in sorted(roles)},
            }


# ---------------------------------------------------------------------------------------------
# The behaviour


class IamEnforcement(core.Behaviour):
    """The strict behaviour ``iam`` (see the module docstring)."""

    name = "iam"

    def __init__(self, strict, state=None):
        super().__init__(strict)
        self.state = state or MotoState()
        self.usage = Usage()
        self._lock = threading.Lock()
        self._generation = 0
        self._roles = {}       # (account, role name) -> (generation, identity, boundary, raw)
        self._parsed = {}      # (name, kind, document) -> Policy
        self._callers = {}     # (session arn, role arn) -> (generation, policy.Caller)
        # The IAM catalogue takes a fraction of a second to load: not on the first request.
        threading.Thread(target=lambda: authz.CATALOGUE.data, name="iam-catalogue", daemon=True).start()

    # -- policies ------------------------------------------------------------------------------

    def _parse(self, document, name, kind):
        token = (name, kind, document if isinstance(document, str) else json.dumps(document, sort_keys=True))
        found = self._parsed.get(token)
        if found is None:
            found = parse_policy(document, name, kind)
            if len(self._parsed) > 2000:
                self._parsed.clear()
            self._parsed[token] = found
        return found

    def role_policies(self, account, role_name, partition="aws"):
        """``(identity policies, boundary or None, {name: document})`` of a role, cached until
        the next IAM write."""
        key = (account, role_name)
        with self._lock:
            cached = self._roles.get(key)
            if cached and cached[0] == self._generation:
                return cached[1], cached[2], cached[3]
            generation = self._generation
        role = self.state.role_object(account, role_name, partition) if hasattr(self.state, "role_object") else None
        identity, raw, boundary = [], {}, None
        if role is not None:
            for name, document in sorted(role.policies.items()):
                raw[name] = document
                identity.append(self._parse(document, name, "identity"))
            for arn, policy in sorted(role.managed_policies.items()):
                document = _default_document(policy)
                label = arn.rsplit("/", 1)[-1] if ":aws:policy/" in arn else arn.rsplit(":policy/", 1)[-1]
                raw[label] = document
                identity.append(self._parse(document, label, "identity"))
            if role.permissions_boundary_arn:
                backend = self.state.iam(account, partition)
                policy = backend.managed_policies.get(role.permissions_boundary_arn) if backend else None
                if policy is None:
                    raise PolicyError("the permissions boundary %s of role %s does not exist"
                                      % (role.permissions_boundary_arn, role_name))
                label = "boundary " + role.permissions_boundary_arn.rsplit("/", 1)[-1]
                raw[label] = _default_document(policy)
                boundary = self._parse(raw[label], label, "boundary")
        with self._lock:
            self._roles[key] = (generation, identity, boundary, raw)
        return identity, boundary, raw

    def invalidate(self):
        with self._lock:
            self._generation += 1

    # -- hooks ---------------------------------------------------------------------------------

    def before(self, call):
        if not call.operation or call.service in ("moto", "unknown"):
            return None
        started = time.perf_counter()
        try:
            if call.service == "sts" and call.operation == "AssumeRole":
                return self._assume_role(call)
            principal = resolve_principal(call)
            if principal is None or principal.kind != "assumed-role":
                return None
            return self._authorize(call, principal)
        finally:
            elapsed = time.perf_counter() - started
            with self.usage.lock:
                self.usage.requests += 1
                self.usage.seconds += elapsed
                if len(self.usage.durations) >= 10000:
                    del self.usage.durations[:5000]
                self.usage.durations.append(elapsed)
                slowest = self.usage.slowest
                if len(slowest) < 5 or elapsed > slowest[-1][0]:
                    slowest.append((elapsed, "%s %s" % (call.service, call.operation)))
                    slowest.sort(reverse=True)
                    del slowest[5:]

    def after(self, call, answer):
        if call.service == "moto":  # moto's own API (a reset): nothing remembered holds
            _PRINCIPALS.clear()
            self.invalidate()
        elif call.service == "iam" and call.operation and not _IAM_READ.match(call.operation) and answer.status < 400:
            self.invalidate()
        return answer

    def control(self, method, path, body):
        if path.rstrip("/") == "/_aws/iam/usage" and method in ("GET", "HEAD"):
            return _json_answer(200, self.usage.as_dict())
        if path.rstrip("/") == "/_aws/iam/usage/reset" and method == "POST":
            self.usage.reset()
            return _json_answer(200, {"status": "ok"})
        return None

    # -- evaluation ----------------------------------------------------------------------------

    def _deny(self, call, message, role=""):
        self.usage.deny(role, "%s:%s" % (authz.iam_prefix(call.service), call.operation), "", message)
        call.notes["iam"] = message
        status, headers, body = wire.access_denied(call.kind, call.model, message)
        return core.Answer(status, headers, body)

    def caller(self, principal):
        """caller_of, cached per role session until the next IAM write."""
        key = (principal.arn, principal.role_arn)
        with self._lock:
            cached = self._callers.get(key)
            if cached and cached[0] == self._generation:
                return cached[1]
            generation = self._generation
        caller = caller_of(principal, self.state)
        with self._lock:
            if len(self._callers) > 5000:
                self._callers.clear()
            self._callers[key] = (generation, caller)
        return caller

    def _authorize(self, call, principal):
        caller = self.caller(principal)
        role_key = caller.role_arn or principal.role_arn
        subject = "User: %s is not authorized to perform: %s:%s" % (
            caller.arn, authz.iam_prefix(call.service), call.operation)
        try:
            params = call.params
            checks = authz.checks(call.service, call.operation, params, call.region, caller, self.state)
        except authz.NoRule as exc:
            return self._deny(call, "%s because %s" % (subject, exc), role_key)
        except authz.Absent as exc:
            call.notes["iam"] = "not evaluated: %s" % exc
            return None
        except (authz.AuthzError, ValueError) as exc:
            return self._deny(call, "%s because the strict local AWS cannot tell what AWS authorizes: %s"
                              % (subject, exc), role_key)
        try:
            identity, boundary, raw = self.role_policies(principal.account, principal.role_name,
                                                        _partition(call.region or "us-east-1"))
        except PolicyError as exc:
            return self._deny(call, "%s because a policy of the role cannot be evaluated: %s" % (subject, exc),
                              role_key)
        with self.usage.lock:
            self.usage.policies[role_key] = raw
        decisions = []
        for check in checks:
            decision = self._evaluate(check, caller, identity, boundary)
            if isinstance(decision, str):
                return self._deny(call, decision, role_key)
            decisions.append((check, decision))
        self.usage.record(role_key, decisions)
        for check, decision in decisions:
            if not decision.allowed:
                message = decision.message()
                if check.implicit:
                    message += " (needed by %s:%s: %s)" % (authz.iam_prefix(call.service), call.operation,
                                                           check.implicit)
                self.usage.deny(role_key, check.action, check.resource, message)
                call.notes["iam"] = message
                status, headers, body = wire.access_denied(call.kind, call.model, message)
                return core.Answer(status, headers, body)
        call.notes["iam"] = "allowed"
        return None

    def _evaluate(self, check, caller, identity, boundary, caller_is_root=None):
        """A policy.Decision, or the message of a deny for a check that cannot be evaluated."""
        request = Request(check.action, check.resource, caller, check.context, check.resolvable, check.lazy)
        resource_policy = None
        try:
            if check.resource_policy is not None:
                resource_policy = self._parse(check.resource_policy, check.resource_policy_name or "resource policy",
                                              "resource")
            return evaluate(request, identity, boundary, resource_policy, check.resource_account,
                            check.resource_required, caller_is_root=caller_is_root)
        except UnevaluableCondition as exc:
            return ("User: %s is not authorized to perform: %s on resource: %s because the strict local AWS "
                    "cannot evaluate %s" % (caller.arn, check.action, check.resource, exc))
        except PolicyError as exc:
            return ("User: %s is not authorized to perform: %s on resource: %s because a policy cannot be "
                    "evaluated: %s" % (caller.arn, check.action, check.resource, exc))

    # -- sts:AssumeRole --------------------------------------------------------------------------

    def _assume_role(self, call):
        principal = resolve_principal(call)
        if principal is None:
            return None
        params = call.params
        role_arn = params.get("RoleArn") or ""
        caller = self.caller(principal)
        denied = "User: %s is not authorized to perform: sts:AssumeRole on resource: %s" % (caller.arn, role_arn)
        parts = role_arn.split(":", 5)
        if len(parts) < 6 or not parts[5].startswith("role/"):
            return self._validation(call, "%s is invalid" % role_arn)
        account, role_name = parts[4], parts[5].rsplit("/", 1)[-1]
        role = self.state.role(account, role_name)
        if role is None or role["arn"] != role_arn:
            return self._deny(call, denied, caller.role_arn or caller.arn)
        duration = params.get("DurationSeconds")
        if duration is not None:
            if duration < 900 or duration > 43200:
                return self._validation(call, "1 validation error detected: Value '%d' at 'durationSeconds' failed to "
                                        "satisfy constraint: Member must have value %s" % (
                                            duration, "greater than or equal to 900" if duration < 900
                                            else "less than or equal to 43200"))
            if caller.kind == "assumed-role" and duration > 3600:
                return self._validation(call, "The requested DurationSeconds exceeds the 1 hour session limit "
                                        "for roles assumed by role chaining.")
            if duration > role["max_session"]:
                return self._validation(call, "The requested DurationSeconds exceeds the MaxSessionDuration set "
                                        "for this role.")
        try:
            checks = authz.checks("sts", "AssumeRole", params, call.region, caller, self.state)
        except authz.AuthzError as exc:
            return self._deny(call, "%s because %s" % (denied, exc), caller.role_arn or caller.arn)
        identity, boundary = [], None
        if caller.kind == "assumed-role":
            try:
                identity, boundary, raw = self.role_policies(principal.account, principal.role_name,
                                                            _partition(call.region or "us-east-1"))
            except PolicyError as exc:
                return self._deny(call, "%s because a policy of the role cannot be evaluated: %s" % (denied, exc),
                                  caller.role_arn)
            with self.usage.lock:
                self.usage.policies[caller.role_arn] = raw
        for check in checks:
            if check.action == "sts:AssumeRole":
                check.resource_policy = role["trust"]
                check.resource_policy_name = "trust policy of %s" % role_arn
                check.resource_required = True
                check.resource_account = account
            decision = self._evaluate(check, caller, identity, boundary)
            if isinstance(decision, str):
                return self._deny(call, decision, caller.role_arn or caller.arn)
            self.usage.record(caller.role_arn or caller.arn, [(check, decision)])
            if not decision.allowed:
                message = denied if check.action == "sts:AssumeRole" else decision.message()
                self.usage.deny(caller.role_arn or caller.arn, check.action, check.resource, message)
                return self._deny(call, message, caller.role_arn or caller.arn)
        call.notes["iam"] = "allowed"
        return None

    @staticmethod
    def _validation(call, message):
        status, headers, body = wire.error_response(call.kind, 400, "ValidationError", message, call.model)
        return core.Answer(status, headers, body)


def _default_document(policy):
    for version in policy.versions:
        if version.version_id == policy.default_version_id:
            return version.document
    return policy.versions[0].document if policy.versions else "{}"


def _json_answer(status, payload):
    body = json.dumps(payload, default=str).encode()
    return core.Answer(status, [("Content-Type", "application/json")], body)


# ---------------------------------------------------------------------------------------------
# The usage report


def _statement_label(policy_name, statement):
    return "%s/%s" % (policy_name, statement.label)


def unjudged_requests(data):
    """The messages of the requests in a usage answer that were refused because the local AWS
    has no authorization rule for their operation (the emulator decided, not the policies)."""
    return sorted({entry["message"] for info in (data.get("roles") or {}).values()
                   for entry in info.get("denied") or [] if authz.NO_RULE in entry["message"]})


def usage_report(data, role=None):
    """The text report of a usage answer (``GET /_aws/iam/usage``) for one role: the actions
    its requests used, with counts; what was denied; and per statement of its policies the
    granted actions nothing used (for an action list), or the services used (for a wildcard
    or NotAction grant). ``role``: an ARN or a part of one; default: the role with the most
    requests among the roles (the root or user that assumes the deployment role is left out)."""
    roles = data.get("roles") or {}
    if not roles:
        return "IAM usage: no request of a role session was evaluated."
    if role:
        matches = [r for r in roles if role in r]
        if not matches:
            return "IAM usage: no role matches %r (roles seen: %s)" % (role, ", ".join(sorted(roles)))
        name = matches[0]
    else:
        candidates = [r for r in roles if ":role/" in r] or list(roles)
        name = max(candidates, key=lambda r: sum(roles[r]["actions"].values()))
    info = roles[name]
    actions = info["actions"]
    lines = ["IAM usage of %s: %d evaluations in %d requests, %.3f ms per request (p50 %.3f, p95 %.3f, "
             "max %.1f)" % (name, data.get("evaluations", 0), data.get("requests", 0), data.get("ms_per_request", 0.0),
                            data.get("ms_p50", 0.0), data.get("ms_p95", 0.0), data.get("ms_max", 0.0)),
        "", "Actions used (%d actions, %d authorizations):" % (len(actions), sum(actions.values()))]
    width = max((len(a) for a in actions), default=10)
    for action, count in sorted(actions.items()):
        lines.append("  %-*s %5d" % (width, action, count))
    denied = info.get("denied") or []
    lines += ["", "Denied (%d):" % len(denied)]
    for entry in denied[:50]:
        lines.append("  " + entry["message"])
    if not denied:
        lines.append("  none")
    lines += ["", "Grants nothing used, per statement:"]
    used_by = info.get("statements") or {}
    for policy_name, document in sorted((info.get("policies") or {}).items()):
        kind = "boundary" if policy_name.startswith("boundary ") else "identity"
        try:
            parsed = parse_policy(document, policy_name, kind)
        except PolicyError as exc:
            lines.append("  %s: cannot be read (%s)" % (policy_name, exc))
            continue
        for statement in parsed.statements:
            lines.append("  " + _statement_line(_statement_label(policy_name, statement), statement,
                                                used_by.get(_statement_label(policy_name, statement), {})))
    return "\n".join(lines)


def _statement_line(label, statement, used):
    if statement.effect == "Deny":
        total = sum(used.values())
        return "%s (Deny): denied %d request%s%s" % (label, total, "" if total == 1 else "s",
                                                    (": " + ", ".join(sorted(used))) if used else "")
    used_lower = {a.lower() for a in used}
    if statement.not_actions:
        services = Counter(a.split(":")[0] for a in used)
        return "%s (NotAction %s): a wildcard grant; used %s" % (
            label, ", ".join(statement.not_actions),
            ", ".join("%s (%d action%s)" % (s, n, "" if n == 1 else "s") for s, n in sorted(services.items()))
            or "nothing")
    literal = [a for a in statement.actions if "*" not in a and "?" not in a]
    wild = [a for a in statement.actions if a not in literal]
    parts = []
    if literal:
        unused = [a for a in literal if a.lower() not in used_lower]
        used_here = [a for a in literal if a.lower() in used_lower]
        parts.append("%d of %d actions used%s; unused: %s" % (
            len(used_here), len(literal), " (%s)" % ", ".join(used_here) if 0 < len(used_here) <= 3 else "",
            ", ".join(unused) if unused else "none"))
    for pattern in wild:
        from .policy import action_matches

        hits = sorted(a for a in used if action_matches(pattern, a))
        services = Counter(a.split(":")[0] for a in hits)
        parts.append("wildcard %s: used %s" % (pattern, ", ".join(
            "%s (%d action%s)" % (s, n, "" if n == 1 else "s") for s, n in sorted(services.items())) or "nothing"))
    return "%s: %s" % (label, "; ".join(parts))
