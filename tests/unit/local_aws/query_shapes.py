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
        names = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        for child in element:
            tag = _local(child.tag)
            if tag not in names:
                problems.append("%s: %s is no member of %s" % (path, tag, shape.name))
                continue
            _check(names[tag], child, "%s.%s" % (path, tag), problems)
    elif kind == "list":
        item = shape.member.serialization.get("name", "member")
        for child in element:
            if _local(child.tag) != item:
                problems.append("%s: list item %s, expected %s" % (path, _local(child.tag), item))
                continue
            _check(shape.member, child, path + "[]", problems)
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


def xml_problems(service, operation, body):
    """Problems of one successful answer of ``operation`` (empty when it fits the model)."""
    op_model = SESSION.get_service_model(service).operation_model(operation)
    root = ET.fromstring(body)
    if _local(root.tag) != operation + "Response":
        return ["the root is %s, not %sResponse" % (_local(root.tag), operation)]
    problems = []
    result = next((c for c in root if _local(c.tag) == operation + "Result"), None)
    if op_model.output_shape is None:
        return problems if result is None or not list(result) else ["%s has no output" % operation]
    if result is None:
        return ["no %sResult" % operation]
    _check(op_model.output_shape, result, operation, problems)
    return problems
