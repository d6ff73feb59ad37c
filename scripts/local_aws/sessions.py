# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Who signed each request, and credentials that expire.

:class:`Sessions` (always on) finds the principal of every request from the access key of its
SigV4 signature: a key an ``AssumeRole`` answer handed out is that role's session, in the
role's account; any other key is the administrator (root) of the account moto files it under
(the harness's static keys, ``testing``, or the account of ``x-moto-account-id``). It reads
every successful ``AssumeRole`` / ``AssumeRoleWithWebIdentity`` answer for the new session.

:class:`ExpiringCredentials` (switch ``credentials``) makes those sessions last what they
last on AWS, divided by the session scale (``Settings.session_scale``): the answer's ``Expiration`` says the scaled time
(so botocore, which refreshes credentials before they expire, sees the truth), and a request
signed with the session after it gets AWS's ``ExpiredToken`` answer in its wire format.
With the switch off, sessions last their full duration and nothing is refused.
"""
from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timezone

from . import wire
from .core import Behaviour, Principal

_CREDENTIAL = re.compile(r"Credential=([^,\s/]+)/")
_ASSUME = ("AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")


def access_key_of(call):
    auth = call.header("Authorization") or ""
    match = _CREDENTIAL.search(auth)
    if match:
        return match.group(1)
    credential = call.query.get("X-Amz-Credential")
    if credential:
        return credential.split("/", 1)[0]
    return ""


def iso(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Sessions(Behaviour):
    """The principal of every request; the sessions AssumeRole handed out."""

    name = ""

    def __init__(self, strict):
        super().__init__(strict)
        self.lock = threading.Lock()
        self.sessions = {}  # access key -> Principal
        self.secrets = {}   # access key -> (secret key, session token)

    def principal_for(self, access_key, account_header=None):
        with self.lock:
            found = self.sessions.get(access_key)
        if found is not None:
            return found
        assumed = self.strict.moto.assumed_role(access_key) if access_key else None
        if assumed is not None:  # made through moto directly (a test's set-up)
            principal = Principal(kind="assumed-role", account=assumed.account_id, arn=assumed.arn,
                                  access_key=access_key, role_arn=assumed.role_arn,
                                  session_name=assumed.session_name,
                                  expires=assumed.expiration.replace(tzinfo=timezone.utc).timestamp(),
                                  issued=time.time())
            with self.lock:
                self.sessions[access_key] = principal
            return principal
        account = account_header or self.strict.moto.account_of_access_key(access_key)
        return Principal(kind="root", account=account, arn="arn:aws:iam::%s:root" % account,
                         access_key=access_key)

    def before(self, call):
        call.access_key = access_key_of(call)
        call.principal = self.principal_for(call.access_key, call.header("x-moto-account-id"))
        return None

    def after(self, call, answer):
        if call.service != "sts" or call.operation not in _ASSUME or answer.status != 200:
            return answer
        text = answer.body.decode("utf-8", "replace")
        key = _tag(text, "AccessKeyId")
        arn = _tag(text, "Arn")
        with self.lock:
            # For the harness's secrets suite (/_aws/sessions?secrets=1), never logged.
            self.secrets[key] = (_tag(text, "SecretAccessKey"), _tag(text, "SessionToken"))
        params = call.params
        duration = int(params.get("DurationSeconds") or 3600)
        role_arn = params.get("RoleArn", "")
        issued = time.time()
        behaviour = self.strict.find(ExpiringCredentials)
        scaled = behaviour is not None and self.settings.on(behaviour.name)
        lifetime = self.settings.scaled_session(duration) if scaled else duration
        # Whole seconds, as the answer says it: the session ends exactly when the client is told.
        principal = Principal(kind="assumed-role", account=_account_of(role_arn), arn=arn, access_key=key,
                              role_arn=role_arn, session_name=params.get("RoleSessionName", ""),
                              expires=float(int(issued + lifetime)), issued=issued)
        with self.lock:
            self.sessions[key] = principal
        if scaled:
            text = re.sub(r"<Expiration>[^<]*</Expiration>", "<Expiration>%s</Expiration>" % iso(principal.expires),
                          text, count=1)
            answer.body = text.encode("utf-8")
        return answer

    def control(self, method, path, body):
        if path == "/_aws/sessions" and method == "GET":
            now = time.time()
            with self.lock:
                return 200, {"sessions": [
                    {"arn": p.arn, "role_arn": p.role_arn, "issued": p.issued, "expires": p.expires,
                     "expired": p.expires is not None and now >= p.expires}
                    for p in self.sessions.values()]}
        if path == "/_aws/sessions/secrets" and method == "GET":
            # The local harness's secrets suite looks for these in every output of a run.
            with self.lock:
                return 200, {"sessions": [{"access_key": key, "secret_key": secret, "session_token": token}
                                          for key, (secret, token) in self.secrets.items()]}
        return None


class ExpiringCredentials(Behaviour):
    """Refuses requests signed with an assumed-role session after it expired."""

    name = "credentials"

    def before(self, call):
        principal = call.principal
        if principal is None or principal.expires is None:
            return None
        if call.received >= principal.expires:
            status, headers, body = wire.expired_token(call.kind, call.model)
            from .core import Answer

            call.notes["expired"] = True
            return Answer(status, headers, body)
        return None


def _tag(text, name):
    match = re.search(r"<%s>([^<]*)</%s>" % (name, name), text)
    return match.group(1) if match else ""


def _account_of(arn):
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""
