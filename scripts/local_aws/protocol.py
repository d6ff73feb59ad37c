# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Read an AWS request back into the parameters the client passed, from botocore's model.

botocore serialises an operation's input per wire protocol (``query``, ``ec2``, ``json``,
``rest-json``, ``rest-xml``, ``smithy-rpc-v2-cbor``); :func:`parse_request` undoes that, so
the strict local AWS can look at a request the way AWS does (which role a ``CreateRole``
names, which VPC a ``CreateSubnet`` goes into, which tags come with it) whatever the service
speaks. The answer uses the model's member names (``RoleName``, ``TagSpecifications``),
the names boto3 takes, with integers, booleans and timestamps converted.

Only what a request carries is returned; a member the client left out is absent. A request
that does not fit its model (a malformed form key, a body that is not JSON) raises
:class:`ProtocolError`.
"""
from __future__ import annotations

import io
import json
import re
import threading
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from urllib.parse import parse_qsl, unquote

_LABEL = re.compile(r"\{([^}]+)\}")


class ProtocolError(ValueError):
    """The request does not match its operation's model."""


# ---------------------------------------------------------------------------------------------
# Models


class Models:
    """botocore service models, loaded once each (thread-safe)."""

    def __init__(self):
        import botocore.session

        self._session = botocore.session.get_session()
        self._lock = threading.Lock()
        self._models = {}

    def service(self, name):
        with self._lock:
            if name not in self._models:
                self._models[name] = self._session.get_service_model(name)
            return self._models[name]

    def operation(self, service, operation):
        model = self.service(service)
        if operation not in model.operation_names:
            raise ProtocolError("%s has no operation %s" % (service, operation))
        return model.operation_model(operation)


MODELS = Models()


# ---------------------------------------------------------------------------------------------
# Scalars


def _scalar(shape, value):
    kind = shape.type_name
    if value is None:
        return None
    if kind in ("integer", "long"):
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ProtocolError("%s: %r is not an integer" % (shape.name, value)) from exc
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        return str(value).lower() == "true"
    if kind == "timestamp":
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, timezone.utc)
        text = str(value)
        try:
            return datetime.fromtimestamp(float(text), timezone.utc)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if kind == "blob":
        return value
    return value


# ---------------------------------------------------------------------------------------------
# query and ec2: form keys such as Tags.member.1.Key or TagSpecification.1.Tag.1.Key


def _query_name(shape, default, ec2):
    if ec2:
        if "queryName" in shape.serialization:
            return shape.serialization["queryName"]
        if "name" in shape.serialization:
            name = shape.serialization["name"]
            return name[0].upper() + name[1:]
        return default
    return shape.serialization.get("name", default)


def _form_value(form, shape, prefix, ec2):
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for member, member_shape in shape.members.items():
            name = _query_name(member_shape, member, ec2)
            key = "%s.%s" % (prefix, name) if prefix else name
            value = _form_value(form, member_shape, key, ec2)
            if value is not None:
                out[member] = value
        return out if (out or not prefix) else None
    if kind == "list":
        if ec2:
            list_prefix = prefix
        elif shape.serialization.get("flattened"):
            list_prefix = prefix
            if shape.member.serialization.get("name"):
                list_prefix = ".".join(prefix.split(".")[:-1] + [shape.member.serialization["name"]])
        else:
            list_prefix = "%s.%s" % (prefix, shape.member.serialization.get("name", "member"))
        if form.get(prefix) == "" and not ec2:
            return []  # the query protocol sends an empty list as "Name="
        items, index = [], 1
        while True:
            value = _form_value(form, shape.member, "%s.%d" % (list_prefix, index), ec2)
            if value is None:
                break
            items.append(value)
            index += 1
        return items if items else None
    if kind == "map":
        full = prefix if shape.serialization.get("flattened") else prefix + ".entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        out, index = {}, 1
        while "%s.%d.%s" % (full, index, key_name) in form:
            key = form["%s.%d.%s" % (full, index, key_name)]
            out[key] = _form_value(form, shape.value, "%s.%d.%s" % (full, index, value_name), ec2)
            index += 1
        return out if out else None
    if prefix in form:
        return _scalar(shape, form[prefix])
    return None


def parse_form(operation_model, form, ec2=False):
    shape = operation_model.input_shape
    if shape is None:
        return {}
    return _form_value(form, shape, "", ec2) or {}


# ---------------------------------------------------------------------------------------------
# json, rest-json bodies and cbor


def _from_json(shape, value):
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ProtocolError("%s: expected an object, got %r" % (shape.name, value))
        by_wire = {member_shape.serialization.get("name", member): (member, member_shape)
                   for member, member_shape in shape.members.items()}
        out = {}
        for key, item in value.items():
            member, member_shape = by_wire.get(key, (key, None))
            out[member] = _from_json(member_shape, item)
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise ProtocolError("%s: expected a list, got %r" % (shape.name, value))
        return [_from_json(shape.member, item) for item in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise ProtocolError("%s: expected a map, got %r" % (shape.name, value))
        return {key: _from_json(shape.value, item) for key, item in value.items()}
    return _scalar(shape, value)


def _cbor(body):
    from botocore.parsers import RpcV2CBORParser

    parser = RpcV2CBORParser()
    return parser.parse_data_item(parser.get_peekable_stream_from_bytes(body))


def parse_json_body(operation_model, body, cbor=False):
    if not body:
        return {}
    try:
        data = _cbor(body) if cbor else json.loads(body.decode("utf-8"))
    except Exception as exc:  # a body the service would refuse as well
        raise ProtocolError("the body is not %s: %s" % ("CBOR" if cbor else "JSON", exc)) from exc
    return _from_json(operation_model.input_shape, data) or {}


# ---------------------------------------------------------------------------------------------
# rest-json and rest-xml: URI labels, query string, headers, body


def uri_labels(request_uri, path):
    """``{label: value}`` of ``path`` matched against the model's ``requestUri`` template."""
    template = request_uri.partition("?")[0]
    if len(template) > 1:
        template = template.rstrip("/")
    pattern, names, pos = ["^"], [], 0
    for index, label in enumerate(_LABEL.finditer(template)):
        pattern.append(re.escape(template[pos:label.start()]))
        name = label.group(1)
        greedy = name.endswith("+")
        names.append(name.rstrip("+"))
        pattern.append("(?P<g%d>%s)" % (index, ".+" if greedy else "[^/]+"))
        pos = label.end()
    rest = template[pos:]
    pattern.append(re.escape("" if rest == "/" else rest))
    pattern.append("/?$")
    match = re.match("".join(pattern), path)
    if not match:
        raise ProtocolError("%s does not match %s" % (path, template))
    return {name: unquote(match.group("g%d" % i)) for i, name in enumerate(names)}


def _xml_value(shape, element):
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for member, member_shape in shape.members.items():
            name = member_shape.serialization.get("name", member)
            if member_shape.type_name == "list" and member_shape.serialization.get("flattened"):
                children = [c for c in element if _local(c.tag) == name]
                if children:
                    out[member] = [_xml_value(member_shape.member, c) for c in children]
                continue
            child = next((c for c in element if _local(c.tag) == name), None)
            if child is not None:
                out[member] = _xml_value(member_shape, child)
        return out
    if kind == "list":
        name = shape.member.serialization.get("name", "member")
        return [_xml_value(shape.member, c) for c in element if _local(c.tag) == name]
    if kind == "map":
        out = {}
        for entry in element:
            key = next((c.text for c in entry if _local(c.tag) == shape.key.serialization.get("name", "key")), None)
            value = next((c for c in entry if _local(c.tag) == shape.value.serialization.get("name", "value")), None)
            out[key] = _xml_value(shape.value, value) if value is not None else None
        return out
    return _scalar(shape, element.text or "")


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def parse_rest(operation_model, protocol, path, query, headers, body):
    shape = operation_model.input_shape
    if shape is None:
        return {}
    http = operation_model.http
    labels = uri_labels(http.get("requestUri", "/"), path)
    lower_headers = {k.lower(): v for k, v in headers.items()}
    out, body_members = {}, {}
    payload = shape.serialization.get("payload")
    for member, member_shape in shape.members.items():
        location = member_shape.serialization.get("location")
        name = member_shape.serialization.get("name", member)
        if location == "uri":
            if name in labels:
                out[member] = _scalar(member_shape, labels[name])
        elif location == "querystring":
            if member_shape.type_name == "list":
                values = [v for k, v in query if k == name]
                if values:
                    out[member] = [_scalar(member_shape.member, v) for v in values]
            elif member_shape.type_name == "map":
                out[member] = {k: v for k, v in query}
            else:
                values = [v for k, v in query if k == name]
                if values:
                    out[member] = _scalar(member_shape, values[0])
        elif location == "header":
            if name.lower() in lower_headers:
                out[member] = _scalar(member_shape, lower_headers[name.lower()])
        elif location == "headers":
            prefix = name.lower()
            found = {k[len(prefix):]: v for k, v in lower_headers.items() if k.startswith(prefix)}
            if found:
                out[member] = found
        else:
            body_members[member] = member_shape
    if not body:
        return out
    if payload:
        member_shape = shape.members[payload]
        if member_shape.type_name == "blob":
            out[payload] = body
            return out
        if member_shape.type_name == "string":
            out[payload] = body.decode("utf-8")
            return out
        if protocol == "rest-xml":
            out[payload] = _xml_value(member_shape, _xml_root(body))
        else:
            out[payload] = _from_json(member_shape, json.loads(body.decode("utf-8")))
        return out
    if protocol == "rest-xml":
        root = _xml_root(body)
        for member, member_shape in body_members.items():
            name = member_shape.serialization.get("name", member)
            child = next((c for c in root if _local(c.tag) == name), None)
            if child is not None:
                out[member] = _xml_value(member_shape, child)
        return out
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise ProtocolError("the body is not JSON: %s" % exc) from exc
    parsed = _from_json(shape, data) or {}
    for member in body_members:
        if member in parsed:
            out[member] = parsed[member]
    return out


def _xml_root(body):
    try:
        return ET.parse(io.BytesIO(body)).getroot()
    except ET.ParseError as exc:
        raise ProtocolError("the body is not XML: %s" % exc) from exc


# ---------------------------------------------------------------------------------------------
# Entry point


def parse_request(service, operation, method, path, query_string, headers, body, content_type=""):
    """The input parameters of one request, by the model of ``service``'s ``operation``.

    ``query_string`` is the raw query (without ``?``); ``headers`` a mapping; ``body`` bytes.
    """
    model = MODELS.service(service)
    op = MODELS.operation(service, operation)
    protocol = model.protocol
    query = parse_qsl(query_string, keep_blank_values=True)
    ctype = (content_type or "").lower()
    if ctype.startswith("application/x-www-form-urlencoded") or (
            protocol in ("query", "ec2") and not ctype.startswith(("application/json", "application/x-amz-json",
                                                                   "application/cbor"))):
        form = dict(query)
        if body:
            form.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        form.pop("Action", None)
        form.pop("Version", None)
        return parse_form(op, form, ec2=(protocol == "ec2"))
    if ctype.startswith("application/cbor") or "smithy-rpc-v2-cbor" in str(
            headers.get("smithy-protocol", "")).lower():
        return parse_json_body(op, body, cbor=True)
    if protocol in ("json",) or ctype.startswith("application/x-amz-json"):
        return parse_json_body(op, body)
    if protocol in ("rest-json", "rest-xml"):
        return parse_rest(op, protocol, path, query, headers, body)
    return parse_json_body(op, body)
