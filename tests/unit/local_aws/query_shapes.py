"""An XML answer of a query-protocol service (RDS, ElastiCache) checked against botocore's
output shape: every element is a member the model declares, lists hold their member element,
and integers, booleans and timestamps read as such. botocore's own parser skips what it does
not know, so an answer with a misspelt or invented element would pass unnoticed without this."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import botocore.session

SESSION = botocore.session.get_session()


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _check(shape, element, path, problems):
    kind = shape.type_name
    if kind == "structure":
        by_wire = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()}
        seen = set()
        for child in element:
            name = _local(child.tag)
            if name not in by_wire:
                problems.append("%s: %s is no member of %s" % (path, name, shape.name))
                continue
            seen.add(by_wire[name][0])
            _check(by_wire[name][1], child, "%s.%s" % (path, name), problems)
        for member in shape.required_members:
            if member not in seen:
                problems.append("%s: required member %r missing" % (path, member))
    elif kind == "list":
        item = shape.member.serialization.get("name", "member")
        for index, child in enumerate(element):
            if _local(child.tag) != item:
                problems.append("%s: list item %s, expected %s" % (path, _local(child.tag), item))
                continue
            _check(shape.member, child, "%s[%d]" % (path, index), problems)
    elif len(element):
        problems.append("%s: a %s with child elements" % (path, kind))
    elif kind in ("integer", "long"):
        if not (element.text or "").lstrip("-").isdigit():
            problems.append("%s: %r is not an integer" % (path, element.text))
    elif kind == "boolean":
        if element.text not in ("true", "false"):
            problems.append("%s: %r is not a boolean" % (path, element.text))
    elif kind == "timestamp":
        try:
            datetime.fromisoformat((element.text or "").replace("Z", "+00:00"))
        except ValueError:
            problems.append("%s: %r is not a timestamp" % (path, element.text))
    elif kind == "string" and shape.enum and (element.text or "") not in shape.enum:
        problems.append("%s: %r is not one of %s" % (path, element.text, shape.enum))


# Error codes every query operation may answer besides the ones its model declares.
COMMON_ERRORS = {"InvalidParameterValue": 400, "InvalidParameterCombination": 400, "MissingParameter": 400}


def answer_problems(service, operation, status, body):
    """Problems of one answer of ``operation``, success or error (empty when it fits the model):
    a success's root, namespace, result wrapper and members; an error's code, which the model
    must declare for the operation with that HTTP status, and its message."""
    model = SESSION.get_service_model(service)
    op_model = model.operation_model(operation)
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return ["the body is not XML: %r" % body[:200]]
    if status >= 300:
        code = root.findtext("{*}Error/{*}Code")
        declared = {s.metadata.get("error", {}).get("code", s.name): s.metadata.get("error", {}).get("httpStatusCode")
                    for s in op_model.error_shapes}
        declared.update(COMMON_ERRORS)
        problems = []
        if code not in declared:
            problems.append("error code %r is not declared for %s (%s)" % (code, operation, ", ".join(sorted(declared))))
        elif declared[code] != status:
            problems.append("%s has HTTP status %s in the model, answered %s" % (code, declared[code], status))
        if not root.findtext("{*}Error/{*}Message"):
            problems.append("the error has no message")
        return problems
    if _local(root.tag) != operation + "Response":
        return ["the root is %s, not %sResponse" % (_local(root.tag), operation)]
    namespace = model.metadata.get("xmlNamespace")
    problems = [] if not namespace or root.tag.startswith("{%s}" % namespace) else ["namespace of %s" % root.tag]
    result = next((c for c in root if _local(c.tag) == operation + "Result"), None)
    if op_model.output_shape is None:
        return problems if result is None or not list(result) else problems + ["%s has no output" % operation]
    if result is None:
        return problems + ["no %sResult" % operation]
    _check(op_model.output_shape, result, operation, problems)
    return problems


def xml_problems(service, operation, body):
    """Problems of one successful answer of ``operation`` (empty when it fits the model)."""
    return answer_problems(service, operation, 200, body)
