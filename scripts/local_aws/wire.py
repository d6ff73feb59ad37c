# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""AWS error answers in each wire format, as botocore parses them.

:func:`error_response` builds ``(status, headers, body)`` for an error code and message in the
format of a request's protocol: ``ec2``, ``query`` (IAM, STS, ELB, RDS ...), ``rest-xml``
(Route 53), ``s3``, ``json`` (KMS, Logs, SQS ...), ``rest-json`` (EKS) and ``cbor``
(CloudWatch). botocore reads the code from each the way it reads AWS's own answers, so a
client sees ``ClientError`` with ``Error.Code`` and ``Error.Message`` exactly as from AWS.

:func:`access_denied` and :func:`expired_token` pick the code each service uses for those
two answers: the service model's own error shape where it has one (SNS answers
``AuthorizationError``, EC2 ``UnauthorizedOperation``), the protocol's usual code otherwise.
"""
from __future__ import annotations

import json
import uuid

# Protocol family of a request (see aws_proxy.Classifier._kind) -> usual codes.
_DENIED_BY_KIND = {"ec2": ("UnauthorizedOperation", 403), "query": ("AccessDenied", 403),
                   "rest-xml": ("AccessDenied", 403), "s3": ("AccessDenied", 403),
                   "json": ("AccessDeniedException", 400), "rest-json": ("AccessDeniedException", 403),
                   "cbor": ("AccessDenied", 400)}
_EXPIRED_BY_KIND = {"ec2": ("RequestExpired", 400), "query": ("ExpiredToken", 403),
                    "rest-xml": ("ExpiredToken", 403), "s3": ("ExpiredToken", 400),
                    "json": ("ExpiredTokenException", 400), "rest-json": ("ExpiredTokenException", 403),
                    "cbor": ("ExpiredTokenException", 400)}
_DENIED_SHAPES = ("AccessDeniedException", "AccessDenied", "AuthorizationErrorException",
                  "AuthorizationError", "UnauthorizedOperation")


def _xml_escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def xml_text(text, tag):
    """The text of the first ``<tag>`` element of an XML answer ("" when there is none)."""
    start = text.find("<%s>" % tag)
    if start < 0:
        return ""
    start += len(tag) + 2
    return text[start:text.find("</%s>" % tag, start)]


def _cbor_text(text):
    data = text.encode("utf-8")
    size = len(data)
    if size < 24:
        head = bytes([0x60 | size])
    elif size < 0x100:
        head = bytes([0x78, size])
    elif size < 0x10000:
        head = bytes([0x79]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x7A]) + size.to_bytes(4, "big")
    return head + data


def _cbor_map(pairs):
    out = bytes([0xA0 | len(pairs)])
    for key, value in pairs:
        out += _cbor_text(key) + _cbor_text(value)
    return out


def error_response(kind, status, code, message, model=None, sender=True, query_code=None):
    """``(status, headers, body)`` of an AWS error in the wire format ``kind``.

    ``model`` is the compact service model of aws_proxy (namespace, JSON version, whether the
    service is query-compatible); ``query_code`` is the code a query-compatible JSON service
    also reports in ``x-amzn-query-error`` (defaults to ``code``).
    """
    request_id = str(uuid.uuid4())
    error_type = "Sender" if sender else "Receiver"
    headers = []
    if kind == "ec2":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
                '<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>'
                % (code, _xml_escape(message), request_id)).encode()
        headers.append(("Content-Type", "text/xml;charset=UTF-8"))
    elif kind == "s3":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
                '<RequestId>%s</RequestId><HostId>%s</HostId></Error>'
                % (code, _xml_escape(message), request_id, request_id)).encode()
        headers += [("Content-Type", "application/xml"), ("x-amz-request-id", request_id),
                    ("x-amz-id-2", request_id)]
    elif kind in ("query", "rest-xml"):
        namespace = (getattr(model, "xml_namespace", None) or "https://%s.amazonaws.com/doc/%s/" % (
            getattr(model, "name", "aws"), getattr(model, "api_version", "") or ""))
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="%s"><Error><Type>%s</Type>'
                '<Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>'
                % (namespace, error_type, code, _xml_escape(message), request_id)).encode()
        headers += [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    elif kind == "rest-json":
        body = json.dumps({"message": message}).encode()
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code),
                    ("x-amzn-RequestId", request_id)]
    elif kind == "cbor":
        body = _cbor_map([("__type", code), ("message", message)])
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                    ("x-amzn-RequestId", request_id)]
    else:  # json
        body = json.dumps({"__type": code, "message": message}).encode()
        headers += [("Content-Type", "application/x-amz-json-%s" % (getattr(model, "json_version", None) or "1.1")),
                    ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)]
    if kind in ("json", "cbor") and model is not None and getattr(model, "query_compatible", False):
        headers.append(("x-amzn-query-error", "%s;%s" % (query_code or code, error_type)))
    return status, headers, body


def _model_code(model, candidates):
    """The wire code of the first of ``candidates`` the service model declares, else None."""
    shapes = getattr(model, "error_codes", None) or {}
    for name in candidates:
        if name in shapes:
            return shapes[name]
    return None


def access_denied(kind, model, message):
    code, status = _DENIED_BY_KIND.get(kind, ("AccessDeniedException", 400))
    declared = _model_code(model, _DENIED_SHAPES)
    if declared:
        code, status = declared
    return error_response(kind, status, code, message, model, query_code="AccessDenied")


def expired_token(kind, model):
    code, status = _EXPIRED_BY_KIND.get(kind, ("ExpiredTokenException", 400))
    message = ("Request has expired." if kind == "ec2"
               else "The provided token has expired." if kind == "s3"
               else "The security token included in the request is expired")
    return error_response(kind, status, code, message, model, query_code="ExpiredToken")


def invalid_token(kind, model):
    code = "AuthFailure" if kind == "ec2" else "InvalidClientTokenId" if kind in (
        "query", "rest-xml", "s3") else "UnrecognizedClientException"
    message = ("AWS was not able to validate the provided access credentials" if kind == "ec2"
               else "The security token included in the request is invalid.")
    return error_response(kind, 401 if kind == "ec2" else 403, code, message, model)
