# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client for Twingate's GraphQL Admin API, shared by the twingate_* modules.

* ``TWINGATE_ARGUMENT_SPEC``: the connection options every module accepts
  (``api_url``, ``api_token``, ``api_timeout``, ``api_retries``, ``validate_certs``),
  documented by the ``honeyhive.platform.twingate`` doc fragment.
* ``TwingateClient``: POSTs a GraphQL document with the ``X-API-KEY`` header through
  ``ansible.module_utils.urls`` (``Request``, the object behind ``open_url``, with one TLS
  context per client instead of one per call); retries with exponential backoff on HTTP 429
  (honouring ``Retry-After``), 5xx and connection errors; turns GraphQL ``errors`` and
  mutation payloads with ``ok: false`` into ``TwingateError``; follows cursor pagination.

Nothing here logs request or response bodies: connector tokens pass through this client.
"""
from __future__ import annotations

import json
import random
import re
import ssl
import time
from urllib.error import HTTPError, URLError

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.urls import Request, make_context

try:  # socket.timeout is an alias of TimeoutError on 3.10+
    from socket import timeout as _SocketTimeout
except ImportError:  # pragma: no cover
    _SocketTimeout = TimeoutError

TWINGATE_ARGUMENT_SPEC = dict(
    api_url=dict(type="str", required=True, fallback=(env_fallback, ["TWINGATE_API_URL"])),
    api_token=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["TWINGATE_API_TOKEN"])),
    api_timeout=dict(type="int", default=30),
    api_retries=dict(type="int", default=5),
    validate_certs=dict(type="bool", default=True),
)

PAGE_SIZE = 50
RETRY_STATUSES = frozenset([429, 500, 502, 503, 504])
MAX_BACKOFF = 30.0
LOCATIONS = ["AWS", "AZURE", "GOOGLE_CLOUD", "ON_PREMISE", "OTHER"]

_URL_RE = re.compile(r"^https?://[^/\s]+(/\S*)?$")


class TwingateError(Exception):
    """A failed Twingate API call; the message is safe to show (it never holds a token)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def twingate_argument_spec(**extra):
    """The shared connection options merged with a module's own options."""
    spec = {key: dict(value) for key, value in TWINGATE_ARGUMENT_SPEC.items()}
    spec.update(extra)
    return spec


def validate_connection_params(params):
    """Return a list of problems with the connection options (checked before any call).

    ``validate_common_params`` adds the check of ``name`` every module makes.
    """
    problems = []
    url = params.get("api_url") or ""
    if not _URL_RE.match(url):
        problems.append(
            "api_url: %r is not an http(s) URL; allowed: the GraphQL endpoint, "
            "for example https://<network>.twingate.com/api/graphql/" % url
        )
    if not (params.get("api_token") or "").strip():
        problems.append("api_token: empty; allowed: a Twingate API token (or set TWINGATE_API_TOKEN)")
    if (params.get("api_timeout") or 0) < 1:
        problems.append("api_timeout: %r; allowed: at least 1 second" % params.get("api_timeout"))
    if params.get("api_retries") is not None and params["api_retries"] < 0:
        problems.append("api_retries: %r; allowed: 0 or more" % params["api_retries"])
    return problems


def validate_common_params(params):
    """The problems with the connection options and with ``name`` (the name of the managed object)."""
    problems = validate_connection_params(params)
    name = params["name"]
    if not name.strip() or name != name.strip():
        problems.append("name: %r; allowed: a non-empty name without leading or trailing spaces" % name)
    return problems


def fail_on_problems(module, problems):
    """Fail with every problem found in the options, before any call."""
    if problems:
        module.fail_json(msg="; ".join(problems))


def operation_name(document):
    """The operation name of a GraphQL document (``query Name(...)`` / ``mutation Name``)."""
    match = re.search(r"\b(query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)", document)
    return match.group(2) if match else "anonymous"


def _graphql_messages(errors):
    messages = []
    for error in errors or []:
        if isinstance(error, dict):
            text = error.get("message") or json.dumps(error, sort_keys=True)
            path = error.get("path")
            if path:
                text = "%s (at %s)" % (text, ".".join(str(p) for p in path))
            messages.append(text)
        else:
            messages.append(str(error))
    return "; ".join(messages) or "unknown error"


def _dig(data, path):
    for key in path:
        if data is None:
            return None
        data = data.get(key)
    return data


class TwingateClient:
    """GraphQL over HTTP with retries; one instance per module run."""

    def __init__(self, api_url, api_token, timeout=30, retries=5, validate_certs=True,
                 backoff_base=1.0, sleep=time.sleep):
        self.api_url = api_url
        self._token = api_token
        self.timeout = timeout
        self.retries = retries
        self.validate_certs = validate_certs
        self.backoff_base = backoff_base
        self._sleep = sleep
        self.calls = 0
        self._request = Request()
        self._ssl_context = None

    @classmethod
    def from_module(cls, module):
        params = module.params
        return cls(
            params["api_url"],
            params["api_token"],
            timeout=params.get("api_timeout") or 30,
            retries=params.get("api_retries") if params.get("api_retries") is not None else 5,
            validate_certs=params.get("validate_certs", True),
        )

    # -- transport ---------------------------------------------------------------------
    def _delay(self, attempt, retry_after=None):
        if retry_after:
            try:
                return min(float(retry_after), MAX_BACKOFF)
            except ValueError:
                pass
        base = self.backoff_base * (2 ** attempt)
        return min(base + random.uniform(0, base / 2), MAX_BACKOFF)

    def _context(self):
        if self._ssl_context is None:
            if self.api_url.lower().startswith("https:"):
                self._ssl_context = make_context(validate_certs=self.validate_certs)
            else:  # plain http (the local test double): never used for a handshake
                self._ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return self._ssl_context

    def execute(self, document, variables=None):
        """Run one GraphQL document; return its ``data`` or raise ``TwingateError``."""
        op = operation_name(document)
        body = json.dumps({"query": document, "variables": variables or {}, "operationName": op})
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-API-KEY": self._token,
        }
        attempt = 0
        while True:
            self.calls += 1
            status = None
            retry_after = None
            try:
                response = self._request.open(
                    "POST",
                    self.api_url,
                    data=body,
                    headers=headers,
                    timeout=self.timeout,
                    validate_certs=self.validate_certs,
                    http_agent="honeyhive.platform",
                    context=self._context(),
                )
                raw = response.read()
                status = response.getcode() if hasattr(response, "getcode") else 200
            except HTTPError as exc:
                status = exc.code
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                try:
                    raw = exc.read()
                except Exception:  # pylint: disable=broad-except
                    raw = b""
                if status in RETRY_STATUSES and attempt < self.retries:
                    self._sleep(self._delay(attempt, retry_after))
                    attempt += 1
                    continue
                if status in (401, 403):
                    raise TwingateError(
                        "Twingate API at %s rejected the API token (HTTP %d) in %s; check api_token "
                        "(TWINGATE_API_TOKEN) and its permissions" % (self.api_url, status, op),
                        status=status,
                    )
                parsed = self._parse(raw)
                detail = ""
                if isinstance(parsed, dict) and parsed.get("errors"):
                    detail = ": " + _graphql_messages(parsed["errors"])
                if status in RETRY_STATUSES:
                    raise TwingateError(
                        "Twingate API at %s answered HTTP %d to %s after %d attempts%s"
                        % (self.api_url, status, op, attempt + 1, detail),
                        status=status,
                    )
                if detail:
                    raise TwingateError("Twingate API error in %s (HTTP %d)%s" % (op, status, detail), status=status)
                raise TwingateError("Twingate API at %s answered HTTP %d to %s" % (self.api_url, status, op),
                                    status=status)
            except (URLError, _SocketTimeout, ConnectionError) as exc:
                if attempt < self.retries:
                    self._sleep(self._delay(attempt))
                    attempt += 1
                    continue
                reason = getattr(exc, "reason", exc)
                raise TwingateError(
                    "cannot reach the Twingate API at %s for %s after %d attempts: %s"
                    % (self.api_url, op, attempt + 1, reason)
                )
            parsed = self._parse(raw)
            if not isinstance(parsed, dict):
                raise TwingateError(
                    "Twingate API at %s answered %s with a body that is not a JSON object" % (self.api_url, op),
                    status=status,
                )
            if parsed.get("errors"):
                raise TwingateError(
                    "Twingate API error in %s: %s" % (op, _graphql_messages(parsed["errors"])), status=status
                )
            return parsed.get("data") or {}

    def _parse(self, raw):
        try:
            return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
        except (ValueError, UnicodeDecodeError):
            return None

    # -- helpers -----------------------------------------------------------------------
    def query(self, document, variables=None):
        return self.execute(document, variables)

    def mutate(self, document, variables, field):
        """Run a mutation and check its payload's ``ok`` / ``error``; return the payload."""
        data = self.execute(document, variables)
        payload = data.get(field)
        if payload is None:
            raise TwingateError("Twingate API returned no %s payload" % field)
        if not payload.get("ok", False):
            raise TwingateError(
                "Twingate %s failed: %s" % (field, payload.get("error") or "ok is false and no error was given")
            )
        return payload

    def paginate(self, document, variables, path, page_size=PAGE_SIZE, max_pages=1000):
        """Collect the ``node`` of every edge of the connection at ``path``.

        The document must take ``$first: Int`` and ``$after: String`` and select
        ``pageInfo { hasNextPage endCursor } edges { node { ... } }`` on the connection.
        Returns ``None`` when an object on the path is missing (for example an unknown id).
        """
        nodes = []
        after = None
        for _page in range(max_pages):
            page_vars = dict(variables or {})
            page_vars.update({"first": page_size, "after": after})
            data = self.execute(document, page_vars)
            connection = _dig(data, path)
            if connection is None:
                return None if not nodes else nodes
            nodes.extend(edge["node"] for edge in connection.get("edges") or [] if edge and edge.get("node"))
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return nodes
            after = info.get("endCursor")
            if not after:
                raise TwingateError("Twingate API said there is a next page of %s without a cursor" % ".".join(path))
        raise TwingateError("more than %d pages of %s; refusing to continue" % (max_pages, ".".join(path)))


# -- lookups shared by several modules ------------------------------------------------------


def by_name_query(operation, connection, fields):
    """A query named ``operation`` for the ``fields`` of every node of ``connection``
    with a given ``$name``, one page (``$first`` / ``$after``) at a time."""
    return """
query %s($name: String!, $first: Int, $after: String) {
  %s(filter: {name: {eq: $name}}, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { %s } }
  }
}
""" % (operation, connection, fields)


REMOTE_NETWORK_FIELDS = "id name location isActive"

Q_REMOTE_NETWORKS_BY_NAME = by_name_query("RemoteNetworksByName", "remoteNetworks", REMOTE_NETWORK_FIELDS)

Q_REMOTE_NETWORK_BY_ID = """
query RemoteNetworkById($id: ID!) {
  remoteNetwork(id: $id) { %s }
}
""" % REMOTE_NETWORK_FIELDS

Q_GROUPS_BY_NAME = """
query GroupsByName($name: String!, $first: Int, $after: String) {
  groups(filter: {name: {eq: $name}, type: {in: [MANUAL]}, isActive: {eq: true}}, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id name type isActive } }
  }
}
"""


def one_named(nodes, name, what, reason="names must be unique for this module to manage them"):
    """The node of ``nodes`` named exactly ``name``, or None; more than one is an error (``reason``)."""
    matches = [node for node in nodes or [] if node.get("name") == name]
    if len(matches) > 1:
        raise TwingateError(
            "%d Twingate %ss are named %r (ids %s); %s"
            % (len(matches), what, name, ", ".join(sorted(n["id"] for n in matches)), reason)
        )
    return matches[0] if matches else None


def find_remote_network(client, name):
    return one_named(client.paginate(Q_REMOTE_NETWORKS_BY_NAME, {"name": name}, ["remoteNetworks"]), name,
                     "remote network")


def resolve_remote_network(client, name_or_id):
    """Find a remote network by name, then by id; ``None`` when neither matches."""
    found = find_remote_network(client, name_or_id)
    if found:
        return found
    try:
        return client.query(Q_REMOTE_NETWORK_BY_ID, {"id": name_or_id}).get("remoteNetwork")
    except TwingateError:
        # An arbitrary name is not a valid id: upstream may answer with an error, not null.
        return None


def find_group(client, name):
    return one_named(client.paginate(Q_GROUPS_BY_NAME, {"name": name}, ["groups"]), name, "group")


def fail_on_error(module, func, *args, **kwargs):
    """Call ``func``; turn a ``TwingateError`` into ``fail_json`` with its message."""
    try:
        return func(*args, **kwargs)
    except TwingateError as exc:
        module.fail_json(msg=str(exc))


def run_ensure(module, ensure):
    """Exit with the result of ``ensure(module, client)``, ``client`` being a
    ``TwingateClient`` for the module's connection options."""
    client = TwingateClient.from_module(module)
    module.exit_json(**fail_on_error(module, ensure, module, client))
