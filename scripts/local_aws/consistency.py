# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Eventual consistency, seeded and replayable (switch ``consistency``).

AWS answers a create at once, but what it made is not usable everywhere at once:

* IAM: a new role or OIDC provider is not yet a valid principal in another policy (``CreateRole``
  or ``UpdateAssumeRolePolicy`` answer ``MalformedPolicyDocument: Invalid principal in
  policy``; a KMS key policy ``MalformedPolicyDocumentException``), cannot be assumed
  (``AccessDenied``) or passed to a service (the local EKS refuses it, see eks.py); a new
  managed policy cannot be attached (``NoSuchEntity``). terraform-provider-aws retries exactly
  these answers for up to two minutes (its ``PropagationTimeout``).
* EC2: a describe by id of a VPC, subnet, security group, Elastic IP allocation, NAT gateway,
  route table, internet gateway or VPC endpoint made a moment ago answers ``...NotFound``
  (AWS: "EC2 API eventual consistency", which asks clients to retry with back-off).

How long each resource stays invisible is drawn, when it is made, from a ``random.Random``
seeded with the strict settings' seed, in the order the creates arrive: with the same seed
and a sequential client the same requests fail again (like the fault injection of
aws_proxy.py). The windows are real seconds, not scaled: they are how long AWS takes to
propagate, which does not shrink with the creation times. ``POST /_aws/config`` with
``consistency_windows`` (``{"iam": [low, high]}``) replaces a family's window for the resources
made after it.
"""
from __future__ import annotations

import json
import random
import threading
import time
from urllib.parse import unquote

from . import wire
from .wire import xml_text
from .core import Answer, Behaviour

# Seconds a new resource stays invisible: (low, high) of a uniform draw.
WINDOWS = {"iam": (1.0, 4.0), "ec2": (0.2, 1.5)}

# EC2 describe operation -> (id list parameter, error code, message template).
EC2_DESCRIBES = {
    "DescribeVpcs": ("VpcIds", "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist"),
    "DescribeSubnets": ("SubnetIds", "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist"),
    "DescribeSecurityGroups": ("GroupIds", "InvalidGroup.NotFound", "The security group '%s' does not exist"),
    "DescribeAddresses": ("AllocationIds", "InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist"),
    "DescribeNatGateways": ("NatGatewayIds", "NatGatewayNotFound", "NAT gateway %s was not found"),
    "DescribeRouteTables": ("RouteTableIds", "InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist"),
    "DescribeInternetGateways": ("InternetGatewayIds", "InvalidInternetGatewayID.NotFound",
                                 "The internetGateway ID '%s' does not exist"),
    "DescribeVpcEndpoints": ("VpcEndpointIds", "InvalidVpcEndpointId.NotFound", "The Vpc Endpoint Id '%s' does not exist"),
}
# EC2 create operation -> where the new id is in the answer (XML tag).
EC2_CREATES = {
    "CreateVpc": "vpcId", "CreateSubnet": "subnetId", "CreateSecurityGroup": "groupId",
    "AllocateAddress": "allocationId", "CreateNatGateway": "natGatewayId", "CreateRouteTable": "routeTableId",
    "CreateInternetGateway": "internetGatewayId", "CreateVpcEndpoint": "vpcEndpointId",
}


class Consistency(Behaviour):
    name = "consistency"

    def __init__(self, strict):
        super().__init__(strict)
        self.lock = threading.Lock()
        self.rng = random.Random(strict.settings.seed)
        self.until = {}     # (account, kind, key) -> epoch seconds when it becomes visible
        self.refused = []   # what was refused, for the tests and the summary

    # -- bookkeeping -----------------------------------------------------------------------

    def _record(self, account, kind, key, family):
        low, high = self.settings.windows.get(family) or WINDOWS[family]
        with self.lock:
            self.until[(account, kind, key)] = time.time() + self.rng.uniform(low, high)

    def visible(self, kind, key, account):
        """False while the resource ``key`` of ``kind`` made in ``account`` has not propagated."""
        if not self.settings.on(self.name):
            return True
        with self.lock:
            until = self.until.get((account, kind, key))
        return until is None or time.time() >= until

    def _refuse(self, call, status, code, message):
        with self.lock:
            self.refused.append({"operation": "%s:%s" % (call.service, call.operation), "code": code,
                                 "at": time.time()})
        call.notes["consistency"] = code
        return Answer(*wire.error_response(call.kind, status, code, message, call.model))

    # -- before ----------------------------------------------------------------------------

    def before(self, call):
        service, operation = call.service, call.operation
        if service == "iam":
            return self._iam_before(call)
        if service == "sts" and operation == "AssumeRole":
            role = call.params.get("RoleArn", "")
            if not self.visible("iam_role", role, _account_of(role)):
                return self._refuse(call, 403, "AccessDenied",
                                    "User: %s is not authorized to perform: sts:AssumeRole on resource: %s"
                                    % (call.principal.arn, role))
        if service == "kms" and operation in ("CreateKey", "PutKeyPolicy"):
            for principal in _principals(call.params.get("Policy")):
                if not self._principal_visible(principal, call.account):
                    return self._refuse(call, 400, "MalformedPolicyDocumentException",
                                        "Policy contains a statement with one or more invalid principals.")
        if service == "ec2" and operation in EC2_DESCRIBES:
            param, code, message = EC2_DESCRIBES[operation]
            for key in call.params.get(param) or ():
                if not self.visible("ec2", key, call.account):
                    return self._refuse(call, 400, code, message % key)
        return None

    def _iam_before(self, call):
        operation, params = call.operation, call.params
        if operation in ("CreateRole", "UpdateAssumeRolePolicy"):
            document = params.get("AssumeRolePolicyDocument") or params.get("PolicyDocument")
            for kind, principal in _principals(document, with_kind=True):
                if not self._principal_visible(principal, call.account):
                    return self._refuse(call, 400, "MalformedPolicyDocument",
                                        'Invalid principal in policy: "%s":"%s"' % (kind, principal))
        if operation in ("AttachRolePolicy", "AttachUserPolicy", "AttachGroupPolicy"):
            arn = params.get("PolicyArn", "")
            if not self.visible("iam_policy", arn, _account_of(arn)):
                return self._refuse(call, 404, "NoSuchEntity",
                                    "Policy %s does not exist or is not attachable." % arn)
        return None

    def _principal_visible(self, principal, account):
        if not isinstance(principal, str) or not principal.startswith("arn:"):
            return True
        owner = _account_of(principal)
        resource = principal.split(":", 5)[-1]
        if resource.startswith("role/"):
            return self.visible("iam_role", principal, owner)
        if resource.startswith("oidc-provider/"):
            return self.visible("iam_oidc_provider", principal, owner)
        return True

    # -- after -----------------------------------------------------------------------------

    def after(self, call, answer):
        if answer.status != 200 or call.principal is None:
            return answer
        service, operation = call.service, call.operation
        account = call.account
        if service == "iam":
            text = answer.body.decode("utf-8", "replace")
            if operation == "CreateRole":
                self._record(account, "iam_role", xml_text(text, "Arn"), "iam")
            elif operation == "CreatePolicy":
                self._record(account, "iam_policy", xml_text(text, "Arn"), "iam")
            elif operation == "CreateOpenIDConnectProvider":
                self._record(account, "iam_oidc_provider", xml_text(text, "OpenIDConnectProviderArn"), "iam")
        elif service == "ec2" and operation in EC2_CREATES:
            key = xml_text(answer.body.decode("utf-8", "replace"), EC2_CREATES[operation])
            if key:
                self._record(account, "ec2", key, "ec2")
        return answer

    def control(self, method, path, body):
        if path == "/_aws/consistency" and method == "GET":
            with self.lock:
                return 200, {"refused": list(self.refused), "tracked": len(self.until)}
        return None


def _account_of(arn):
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 4 else ""


def _principals(document, with_kind=False):
    """The AWS and Federated principals a policy document (JSON text) names."""
    if not document:
        return []
    if isinstance(document, str):
        try:
            document = json.loads(unquote(document) if document.startswith("%7B") else document)
        except ValueError:
            return []
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    found = []
    for statement in statements:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        if not isinstance(principal, dict):
            continue
        for kind in ("AWS", "Federated"):
            values = principal.get(kind, [])
            for value in [values] if isinstance(values, str) else values:
                found.append((kind, value) if with_kind else value)
    return found
