#!/usr/bin/env python3
# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Local test double of Twingate's GraphQL Admin API.

This is NOT Twingate. It is a small in-memory stand-in for Twingate's SaaS API, used by the
local inventory, the molecule scenarios and the unit tests, so that the collection's
``twingate_*`` modules can run without a Twingate account or network access.

It serves exactly the GraphQL operations the modules call, from a real GraphQL schema
(graphql-core) written after Twingate's public API reference for the fields we use, so a
malformed or misspelt query fails validation the way it would upstream:

* queries: ``remoteNetworks``, ``remoteNetwork``, ``connectors``, ``connector``, ``groups``,
  ``group``, ``resources``, ``resource`` (list queries take ``filter``, ``first``, ``after``
  and return Relay connections with ``pageInfo``/``edges``/``node``);
* mutations: ``remoteNetworkCreate/Update/Delete``, ``connectorCreate/Delete``,
  ``connectorGenerateTokens``, ``groupCreate/Delete``, ``resourceCreate/Update/Delete``;
  each returns ``{ok, error, entity}`` (``connectorTokens`` for token generation).

HTTP: ``POST /api/graphql/`` with header ``X-API-KEY`` equal to ``--token`` (or the
``TWINGATE_DOUBLE_TOKEN`` / ``TWINGATE_API_TOKEN`` environment variable), else 401.
Validation errors answer 400, resolver errors 200 with ``errors``, like a graphene server.
``GET /healthz`` answers ``ok``. ``--fail-first N --fail-status S`` answers the first N
GraphQL requests with status S (503 by default, 429 with ``Retry-After: 0``) to exercise
client retries. Requests are logged to stderr by operation name only, never with bodies or
keys. State lives in memory and is lost when the process stops.

Usage: python scripts/twingate_double.py --port P --token T [--pidfile F] [--page-size N]
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from graphql import GraphQLError, build_schema, graphql_sync, parse
from graphql.language import OperationDefinitionNode

SDL = """
scalar DateTime

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

enum RemoteNetworkLocation { AWS AZURE GOOGLE_CLOUD ON_PREMISE OTHER }
enum RemoteNetworkType { REGULAR EXIT }
enum ConnectorState { ALIVE DEAD_NO_HEARTBEAT DEAD_HEARTBEAT_TOO_OLD DEAD_NO_RELAYS }
enum GroupType { MANUAL SYNCED SYSTEM }
enum AddressType { IP DNS }
enum ProtocolPolicy { ALLOW_ALL RESTRICTED }

input StringFilterOperationInput {
  eq: String
  ne: String
  startsWith: String
  endsWith: String
  regexp: String
  in: [String!]
}
input BooleanFilterOperatorInput { eq: Boolean }
input GroupTypeFilterOperatorInput { in: [GroupType!] }
input RemoteNetworkTypeFilterOperatorInput { in: [RemoteNetworkType!] }
input RemoteNetworkFilterInput {
  name: StringFilterOperationInput
  networkType: RemoteNetworkTypeFilterOperatorInput
}
input ConnectorFilterInput { name: StringFilterOperationInput }
input GroupFilterInput {
  name: StringFilterOperationInput
  type: GroupTypeFilterOperatorInput
  isActive: BooleanFilterOperatorInput
}
input ResourceFilterInput { name: StringFilterOperationInput }

input PortRangeInput { start: Int!, end: Int! }
input ProtocolInput { policy: ProtocolPolicy!, ports: [PortRangeInput!]! }
input ProtocolsInput { allowIcmp: Boolean!, tcp: ProtocolInput!, udp: ProtocolInput! }

type PortRange { start: Int!, end: Int! }
type Protocol { policy: ProtocolPolicy!, ports: [PortRange!]! }
type Protocols { allowIcmp: Boolean!, tcp: Protocol!, udp: Protocol! }
type ResourceAddress { type: AddressType!, value: String! }

type RemoteNetwork {
  id: ID!
  name: String!
  location: RemoteNetworkLocation!
  networkType: RemoteNetworkType!
  isActive: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  connectors(after: String, first: Int): ConnectorConnection!
  resources(after: String, first: Int): ResourceConnection!
}
type RemoteNetworkEdge { node: RemoteNetwork!, cursor: String! }
type RemoteNetworkConnection { pageInfo: PageInfo!, edges: [RemoteNetworkEdge!]!, totalCount: Int! }

type Connector {
  id: ID!
  name: String!
  state: ConnectorState!
  remoteNetwork: RemoteNetwork!
  hasStatusNotificationsEnabled: Boolean!
  lastHeartbeatAt: DateTime
  hostname: String
  version: String
  createdAt: DateTime!
  updatedAt: DateTime!
}
type ConnectorEdge { node: Connector!, cursor: String! }
type ConnectorConnection { pageInfo: PageInfo!, edges: [ConnectorEdge!]!, totalCount: Int! }
type ConnectorTokens { accessToken: String!, refreshToken: String! }

type Group {
  id: ID!
  name: String!
  type: GroupType!
  isActive: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  resources(after: String, first: Int): ResourceConnection!
}
type GroupEdge { node: Group!, cursor: String! }
type GroupConnection { pageInfo: PageInfo!, edges: [GroupEdge!]!, totalCount: Int! }

type Resource {
  id: ID!
  name: String!
  address: ResourceAddress!
  alias: String
  remoteNetwork: RemoteNetwork!
  protocols: Protocols
  isActive: Boolean!
  isVisible: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  groups(after: String, first: Int): GroupConnection!
}
type ResourceEdge { node: Resource!, cursor: String! }
type ResourceConnection { pageInfo: PageInfo!, edges: [ResourceEdge!]!, totalCount: Int! }

type RemoteNetworkPayload { ok: Boolean!, error: String, entity: RemoteNetwork }
type ConnectorPayload { ok: Boolean!, error: String, entity: Connector }
type ConnectorTokensPayload { ok: Boolean!, error: String, connectorTokens: ConnectorTokens }
type GroupPayload { ok: Boolean!, error: String, entity: Group }
type ResourcePayload { ok: Boolean!, error: String, entity: Resource }
type DeleteResultPayload { ok: Boolean!, error: String }

type Query {
  remoteNetworks(filter: RemoteNetworkFilterInput, after: String, first: Int): RemoteNetworkConnection!
  remoteNetwork(id: ID, name: String): RemoteNetwork
  connectors(filter: ConnectorFilterInput, after: String, first: Int): ConnectorConnection!
  connector(id: ID!): Connector
  groups(filter: GroupFilterInput, after: String, first: Int): GroupConnection!
  group(id: ID!): Group
  resources(filter: ResourceFilterInput, after: String, first: Int): ResourceConnection!
  resource(id: ID!): Resource
}

type Mutation {
  remoteNetworkCreate(name: String!, isActive: Boolean, location: RemoteNetworkLocation,
                      networkType: RemoteNetworkType): RemoteNetworkPayload!
  remoteNetworkUpdate(id: ID!, name: String, isActive: Boolean,
                      location: RemoteNetworkLocation): RemoteNetworkPayload!
  remoteNetworkDelete(id: ID!): DeleteResultPayload!
  connectorCreate(remoteNetworkId: ID!, name: String,
                  hasStatusNotificationsEnabled: Boolean): ConnectorPayload!
  connectorDelete(id: ID!): DeleteResultPayload!
  connectorGenerateTokens(connectorId: ID!): ConnectorTokensPayload!
  groupCreate(name: String!, resourceIds: [ID], userIds: [ID]): GroupPayload!
  groupDelete(id: ID!): DeleteResultPayload!
  resourceCreate(name: String!, address: String!, remoteNetworkId: ID!, groupIds: [ID],
                 protocols: ProtocolsInput, alias: String, isVisible: Boolean): ResourcePayload!
  resourceUpdate(id: ID!, name: String, address: String, remoteNetworkId: ID, groupIds: [ID],
                 addedGroupIds: [ID], removedGroupIds: [ID], protocols: ProtocolsInput,
                 alias: String, isActive: Boolean, isVisible: Boolean): ResourcePayload!
  resourceDelete(id: ID!): DeleteResultPayload!
}
"""

DEFAULT_PROTOCOLS = {
    "allowIcmp": True,
    "tcp": {"policy": "ALLOW_ALL", "ports": []},
    "udp": {"policy": "ALLOW_ALL", "ports": []},
}

ADJECTIVES = ["amber", "brisk", "calm", "daring", "eager", "fuzzy", "gentle", "humble"]
ANIMALS = ["otter", "heron", "lynx", "marten", "osprey", "panda", "quail", "raven"]


def _now():
    return datetime.now(timezone.utc).isoformat()


def _encode_id(kind, number):
    return base64.b64encode(("%s:%d" % (kind, number)).encode()).decode()


def _cursor(index):
    return base64.b64encode(("cursor:%d" % index).encode()).decode()


def _decode_cursor(cursor):
    try:
        kind, _, number = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        if kind != "cursor":
            raise ValueError(cursor)
        return int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GraphQLError("Invalid cursor: %r" % cursor) from exc


def _match_string(value, flt):
    if not flt:
        return True
    import re

    checks = {
        "eq": lambda f: value == f,
        "ne": lambda f: value != f,
        "startsWith": lambda f: value.startswith(f),
        "endsWith": lambda f: value.endswith(f),
        "regexp": lambda f: re.search(f, value) is not None,
        "in": lambda f: value in f,
    }
    return all(checks[key](arg) for key, arg in flt.items() if arg is not None)


class Store:
    """The in-memory state: plain dicts keyed by opaque base64 ids, like Twingate's."""

    def __init__(self, page_size=50):
        self.lock = threading.RLock()
        self.page_size = page_size
        self.counter = 0
        self.networks = {}
        self.connectors = {}
        self.groups = {}
        self.resources = {}
        self.tokens = {}

    def _new_id(self, kind):
        self.counter += 1
        return _encode_id(kind, self.counter)

    # -- connections -----------------------------------------------------------------
    def connection(self, items, after=None, first=None):
        if first is not None and (first < 1 or first > 100):
            raise GraphQLError("first must be between 1 and 100")
        size = first or self.page_size
        start = _decode_cursor(after) + 1 if after else 0
        page = items[start:start + size]
        edges = [{"node": node, "cursor": _cursor(start + i)} for i, node in enumerate(page)]
        return {
            "pageInfo": {
                "hasNextPage": start + size < len(items),
                "hasPreviousPage": start > 0,
                "startCursor": edges[0]["cursor"] if edges else None,
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
            "edges": edges,
            "totalCount": len(items),
        }

    # -- views: dicts graphql-core's default resolver can walk -------------------------
    def network_view(self, rec):
        nid = rec["id"]
        return dict(
            rec,
            connectors=lambda info, after=None, first=None: self.connection(
                [self.connector_view(c) for c in self.connectors.values() if c["remoteNetworkId"] == nid],
                after, first),
            resources=lambda info, after=None, first=None: self.connection(
                [self.resource_view(r) for r in self.resources.values() if r["remoteNetworkId"] == nid],
                after, first),
        )

    def connector_view(self, rec):
        return dict(rec, remoteNetwork=lambda info: self.network_view(self.networks[rec["remoteNetworkId"]]))

    def group_view(self, rec):
        gid = rec["id"]
        return dict(
            rec,
            resources=lambda info, after=None, first=None: self.connection(
                [self.resource_view(r) for r in self.resources.values() if gid in r["groupIds"]], after, first),
        )

    def resource_view(self, rec):
        return dict(
            rec,
            remoteNetwork=lambda info: self.network_view(self.networks[rec["remoteNetworkId"]]),
            groups=lambda info, after=None, first=None: self.connection(
                [self.group_view(self.groups[g]) for g in rec["groupIds"] if g in self.groups], after, first),
        )

    # -- queries ---------------------------------------------------------------------
    def q_remote_networks(self, info, filter=None, after=None, first=None):  # noqa: A002
        flt = filter or {}
        items = [
            self.network_view(n) for n in self.networks.values()
            if _match_string(n["name"], flt.get("name"))
            and (not (flt.get("networkType") or {}).get("in") or n["networkType"] in flt["networkType"]["in"])
        ]
        return self.connection(items, after, first)

    def q_remote_network(self, info, id=None, name=None):  # noqa: A002
        if id is None and name is None:
            raise GraphQLError("Provide id or name")
        for rec in self.networks.values():
            if (id is not None and rec["id"] == id) or (name is not None and rec["name"] == name):
                return self.network_view(rec)
        return None

    def q_connectors(self, info, filter=None, after=None, first=None):  # noqa: A002
        flt = filter or {}
        items = [self.connector_view(c) for c in self.connectors.values() if _match_string(c["name"], flt.get("name"))]
        return self.connection(items, after, first)

    def q_connector(self, info, id):  # noqa: A002
        rec = self.connectors.get(id)
        return self.connector_view(rec) if rec else None

    def q_groups(self, info, filter=None, after=None, first=None):  # noqa: A002
        flt = filter or {}
        items = [
            self.group_view(g) for g in self.groups.values()
            if _match_string(g["name"], flt.get("name"))
            and (not (flt.get("type") or {}).get("in") or g["type"] in flt["type"]["in"])
            and ((flt.get("isActive") or {}).get("eq") is None or g["isActive"] == flt["isActive"]["eq"])
        ]
        return self.connection(items, after, first)

    def q_group(self, info, id):  # noqa: A002
        rec = self.groups.get(id)
        return self.group_view(rec) if rec else None

    def q_resources(self, info, filter=None, after=None, first=None):  # noqa: A002
        flt = filter or {}
        items = [self.resource_view(r) for r in self.resources.values() if _match_string(r["name"], flt.get("name"))]
        return self.connection(items, after, first)

    def q_resource(self, info, id):  # noqa: A002
        rec = self.resources.get(id)
        return self.resource_view(rec) if rec else None

    # -- mutations -------------------------------------------------------------------
    @staticmethod
    def _fail(message, key="entity"):
        return {"ok": False, "error": message, key: None}

    def m_remote_network_create(self, info, name, isActive=True, location=None, networkType=None):
        if not name.strip():
            return self._fail("Remote network name must not be empty")
        if any(n["name"] == name for n in self.networks.values()):
            return self._fail("A remote network named %r already exists" % name)
        now = _now()
        rec = {
            "id": self._new_id("RemoteNetwork"), "name": name, "location": location or "OTHER",
            "networkType": networkType or "REGULAR", "isActive": True if isActive is None else isActive,
            "createdAt": now, "updatedAt": now,
        }
        self.networks[rec["id"]] = rec
        return {"ok": True, "error": None, "entity": self.network_view(rec)}

    def m_remote_network_update(self, info, id, name=None, isActive=None, location=None):  # noqa: A002
        rec = self.networks.get(id)
        if rec is None:
            return self._fail("Remote network %s does not exist" % id)
        if name is not None and any(n["name"] == name and n["id"] != id for n in self.networks.values()):
            return self._fail("A remote network named %r already exists" % name)
        for key, value in (("name", name), ("isActive", isActive), ("location", location)):
            if value is not None:
                rec[key] = value
        rec["updatedAt"] = _now()
        return {"ok": True, "error": None, "entity": self.network_view(rec)}

    def m_remote_network_delete(self, info, id):  # noqa: A002
        if self.networks.pop(id, None) is None:
            return {"ok": False, "error": "Remote network %s does not exist" % id}
        for store in (self.connectors, self.resources):
            for key in [k for k, v in store.items() if v["remoteNetworkId"] == id]:
                del store[key]
                self.tokens.pop(key, None)
        return {"ok": True, "error": None}

    def m_connector_create(self, info, remoteNetworkId, name=None, hasStatusNotificationsEnabled=True):
        if remoteNetworkId not in self.networks:
            return self._fail("Remote network %s does not exist" % remoteNetworkId)
        if name is None:
            name = "%s-%s" % (ADJECTIVES[self.counter % len(ADJECTIVES)], ANIMALS[(self.counter // 8) % len(ANIMALS)])
        if any(c["name"] == name for c in self.connectors.values()):
            return self._fail("A connector named %r already exists" % name)
        now = _now()
        rec = {
            "id": self._new_id("Connector"), "name": name, "state": "DEAD_NO_HEARTBEAT",
            "remoteNetworkId": remoteNetworkId,
            "hasStatusNotificationsEnabled": True if hasStatusNotificationsEnabled is None
            else hasStatusNotificationsEnabled,
            "lastHeartbeatAt": None, "hostname": None, "version": None, "createdAt": now, "updatedAt": now,
        }
        self.connectors[rec["id"]] = rec
        return {"ok": True, "error": None, "entity": self.connector_view(rec)}

    def m_connector_delete(self, info, id):  # noqa: A002
        if self.connectors.pop(id, None) is None:
            return {"ok": False, "error": "Connector %s does not exist" % id}
        self.tokens.pop(id, None)
        return {"ok": True, "error": None}

    def m_connector_generate_tokens(self, info, connectorId):
        if connectorId not in self.connectors:
            return self._fail("Connector %s does not exist" % connectorId, key="connectorTokens")
        tokens = {"accessToken": secrets.token_urlsafe(48), "refreshToken": secrets.token_urlsafe(48)}
        # Generating tokens invalidates the previous pair, as upstream does.
        self.tokens[connectorId] = tokens
        return {"ok": True, "error": None, "connectorTokens": dict(tokens)}

    def m_group_create(self, info, name, resourceIds=None, userIds=None):
        if not name.strip():
            return self._fail("Group name must not be empty")
        for rid in resourceIds or []:
            if rid not in self.resources:
                return self._fail("Resource %s does not exist" % rid)
        now = _now()
        rec = {"id": self._new_id("Group"), "name": name, "type": "MANUAL", "isActive": True,
               "createdAt": now, "updatedAt": now}
        self.groups[rec["id"]] = rec
        for rid in resourceIds or []:
            self.resources[rid]["groupIds"].append(rec["id"])
        return {"ok": True, "error": None, "entity": self.group_view(rec)}

    def m_group_delete(self, info, id):  # noqa: A002
        rec = self.groups.get(id)
        if rec is None:
            return {"ok": False, "error": "Group %s does not exist" % id}
        if rec["type"] != "MANUAL":
            return {"ok": False, "error": "Only manual groups can be deleted"}
        del self.groups[id]
        for res in self.resources.values():
            if id in res["groupIds"]:
                res["groupIds"].remove(id)
        return {"ok": True, "error": None}

    @staticmethod
    def _check_protocols(protocols):
        for key in ("tcp", "udp"):
            proto = protocols[key]
            for rng in proto["ports"]:
                if not (1 <= rng["start"] <= rng["end"] <= 65535):
                    return "Invalid %s port range %d-%d" % (key, rng["start"], rng["end"])
            if proto["policy"] == "ALLOW_ALL" and proto["ports"]:
                return "%s policy ALLOW_ALL does not take ports" % key
        return None

    @staticmethod
    def _address_type(address):
        import ipaddress

        try:
            ipaddress.ip_network(address, strict=False)
            return "IP"
        except ValueError:
            return "DNS"

    def _check_groups(self, ids):
        for gid in ids or []:
            if gid not in self.groups:
                return "Group %s does not exist" % gid
        return None

    def m_resource_create(self, info, name, address, remoteNetworkId, groupIds=None, protocols=None,
                          alias=None, isVisible=True):
        if remoteNetworkId not in self.networks:
            return self._fail("Remote network %s does not exist" % remoteNetworkId)
        if not address.strip():
            return self._fail("Resource address must not be empty")
        problem = self._check_groups(groupIds) or (protocols and self._check_protocols(protocols))
        if problem:
            return self._fail(problem)
        now = _now()
        rec = {
            "id": self._new_id("Resource"), "name": name,
            "address": {"type": self._address_type(address), "value": address}, "alias": alias,
            "remoteNetworkId": remoteNetworkId, "protocols": protocols or json.loads(json.dumps(DEFAULT_PROTOCOLS)),
            "isActive": True, "isVisible": True if isVisible is None else isVisible,
            "createdAt": now, "updatedAt": now, "groupIds": list(dict.fromkeys(groupIds or [])),
        }
        self.resources[rec["id"]] = rec
        return {"ok": True, "error": None, "entity": self.resource_view(rec)}

    def m_resource_update(self, info, id, name=None, address=None, remoteNetworkId=None, groupIds=None,  # noqa: A002
                          addedGroupIds=None, removedGroupIds=None, protocols=None, alias=None,
                          isActive=None, isVisible=None):
        rec = self.resources.get(id)
        if rec is None:
            return self._fail("Resource %s does not exist" % id)
        if remoteNetworkId is not None and remoteNetworkId not in self.networks:
            return self._fail("Remote network %s does not exist" % remoteNetworkId)
        problem = (self._check_groups(groupIds) or self._check_groups(addedGroupIds)
                   or (protocols and self._check_protocols(protocols)))
        if problem:
            return self._fail(problem)
        if name is not None:
            rec["name"] = name
        if address is not None:
            rec["address"] = {"type": self._address_type(address), "value": address}
        for key, value in (("remoteNetworkId", remoteNetworkId), ("protocols", protocols), ("alias", alias),
                           ("isActive", isActive), ("isVisible", isVisible)):
            if value is not None:
                rec[key] = value
        if groupIds is not None:
            rec["groupIds"] = list(dict.fromkeys(groupIds))
        for gid in addedGroupIds or []:
            if gid not in rec["groupIds"]:
                rec["groupIds"].append(gid)
        for gid in removedGroupIds or []:
            if gid in rec["groupIds"]:
                rec["groupIds"].remove(gid)
        rec["updatedAt"] = _now()
        return {"ok": True, "error": None, "entity": self.resource_view(rec)}

    def m_resource_delete(self, info, id):  # noqa: A002
        if self.resources.pop(id, None) is None:
            return {"ok": False, "error": "Resource %s does not exist" % id}
        return {"ok": True, "error": None}

    def root(self):
        def locked(func):
            def call(info, **kwargs):
                with self.lock:
                    return func(info, **kwargs)
            return call

        fields = {
            "remoteNetworks": self.q_remote_networks, "remoteNetwork": self.q_remote_network,
            "connectors": self.q_connectors, "connector": self.q_connector,
            "groups": self.q_groups, "group": self.q_group,
            "resources": self.q_resources, "resource": self.q_resource,
            "remoteNetworkCreate": self.m_remote_network_create,
            "remoteNetworkUpdate": self.m_remote_network_update,
            "remoteNetworkDelete": self.m_remote_network_delete,
            "connectorCreate": self.m_connector_create, "connectorDelete": self.m_connector_delete,
            "connectorGenerateTokens": self.m_connector_generate_tokens,
            "groupCreate": self.m_group_create, "groupDelete": self.m_group_delete,
            "resourceCreate": self.m_resource_create, "resourceUpdate": self.m_resource_update,
            "resourceDelete": self.m_resource_delete,
        }
        return {name: locked(func) for name, func in fields.items()}


SCHEMA = build_schema(SDL)


def describe(document):
    """``OperationName(field, field)`` for the log; never arguments or variables."""
    try:
        ast = parse(document)
    except GraphQLError:
        return "unparseable"
    parts = []
    for definition in ast.definitions:
        if isinstance(definition, OperationDefinitionNode):
            name = definition.name.value if definition.name else "anonymous"
            fields = [sel.name.value for sel in definition.selection_set.selections if hasattr(sel, "name")]
            parts.append("%s %s(%s)" % (definition.operation.value, name, ", ".join(fields)))
    return "; ".join(parts) or "no operation"


class Handler(BaseHTTPRequestHandler):
    server_version = "twingate-double/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # the default log line is replaced by log_request below
        pass

    def _log(self, text):
        sys.stderr.write("twingate-double %s %s\n" % (datetime.now().strftime("%H:%M:%S"), text))
        sys.stderr.flush()

    def _send(self, status, body, extra_headers=None):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(body, bytes) else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra_headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        if self.path.rstrip("/") == "/healthz":
            self._send(200, b"ok\n")
            return
        self._send(404, {"errors": [{"message": "Not found"}]})

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?")[0].rstrip("/") != "/api/graphql":
            self._send(404, {"errors": [{"message": "Not found"}]})
            return
        srv = self.server
        with srv.fault_lock:
            if srv.fail_remaining > 0:
                srv.fail_remaining -= 1
                self._log("POST /api/graphql/ injected HTTP %d" % srv.fail_status)
                headers = {"Retry-After": "0"} if srv.fail_status == 429 else {}
                self._send(srv.fail_status, {"errors": [{"message": "injected failure"}]}, headers)
                return
        key = self.headers.get("X-API-KEY")
        if not key or not secrets.compare_digest(key.encode(), srv.token.encode()):
            self._log("POST /api/graphql/ 401 (missing or wrong X-API-KEY)")
            self._send(401, {"errors": [{"message": "Unauthorized: a valid X-API-KEY header is required"}]})
            return
        try:
            request = json.loads(raw.decode("utf-8"))
            document = request["query"]
            variables = request.get("variables") or {}
            op_name = request.get("operationName")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            self._log("POST /api/graphql/ 400 (body is not a GraphQL request)")
            self._send(400, {"errors": [{"message": "Body must be JSON with a 'query' string"}]})
            return
        result = graphql_sync(SCHEMA, document, root_value=srv.store.root(), variable_values=variables,
                              operation_name=op_name)
        body = {"data": result.data}
        status = 200
        if result.errors:
            body["errors"] = [err.formatted for err in result.errors]
            if any(not err.path for err in result.errors):
                status = 400
        self._log("POST /api/graphql/ %d %s" % (status, describe(document)))
        self._send(status, body)


def serve(port, token, pidfile=None, page_size=50, fail_first=0, fail_status=503):
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    httpd.token = token
    httpd.store = Store(page_size=page_size)
    httpd.fail_remaining = fail_first
    httpd.fail_status = fail_status
    httpd.fault_lock = threading.Lock()
    if pidfile:
        with open(pidfile, "w", encoding="utf-8") as handle:
            handle.write("%d\n" % os.getpid())

    def stop(signum, frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write("twingate-double listening on http://127.0.0.1:%d/api/graphql/ (pid %d)\n"
                     % (httpd.server_address[1], os.getpid()))
    sys.stderr.flush()
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()
        if pidfile and os.path.exists(pidfile):
            os.unlink(pidfile)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Local test double of Twingate's GraphQL Admin API (not Twingate).")
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--token", default=os.environ.get("TWINGATE_DOUBLE_TOKEN") or os.environ.get("TWINGATE_API_TOKEN"),
                        help="the API key clients must send in X-API-KEY (default: $TWINGATE_DOUBLE_TOKEN, "
                             "then $TWINGATE_API_TOKEN)")
    parser.add_argument("--pidfile", help="write the process id here; removed on exit")
    parser.add_argument("--page-size", type=int, default=50, help="default page size of list queries")
    parser.add_argument("--fail-first", type=int, default=0, help="answer the first N GraphQL requests with an error")
    parser.add_argument("--fail-status", type=int, default=503, help="HTTP status for --fail-first (503, 429, ...)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or TWINGATE_DOUBLE_TOKEN / TWINGATE_API_TOKEN) is required")
    serve(args.port, args.token, args.pidfile, args.page_size, args.fail_first, args.fail_status)


if __name__ == "__main__":
    main()
