"""Every policy document an account holds, read back the way any AWS client reads it, and the
check that none holds template text and that every name in it is in the IAM catalogue.

``read_policies(session)`` reads, with ordinary list/get calls of the AWS API:

* each role's trust policy and inline policies (service-linked roles, whose documents AWS
  writes, are left out);
* each customer managed policy's default version;
* each customer managed KMS key's policies;
* each SQS queue's policy.

Documents come back as IAM returns them (a dict, JSON text or URL-encoded JSON text: clients
and servers differ) and are parsed the same way whatever the form.

``problems(policies, allowed)`` runs ``scripts/policy_lint.py``'s catalogue check on each
document in the mode of its kind (identity, resource, trust as the role's resource policy)
and returns what no policy may hold: template text (``{{``, ``{%``, ``}}``) in any key or
value (not in the JSON text, whose nested objects end in ``}}``), and any
action, condition key, operator or principal unknown to the catalogue - except the catalogue
findings the roles' own ``__<role>_policy_lint_suppressions`` accept (``allowed``), where a
name is newer than parliament's data.
"""
from __future__ import annotations

import importlib.util
import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("policy_lint", ROOT / "scripts" / "policy_lint.py")
policy_lint = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(policy_lint)


@dataclass
class LivePolicy:
    where: str  # e.g. "role honeyhive-eks-node-test-us-west-2 trust"
    kind: str  # identity, resource or trust
    arn: str  # the role of a trust policy, the policy or resource otherwise
    text: str  # the document as the API returned it, as text
    document: object  # parsed (None when it is not JSON)


def parse_document(raw):
    """(text, document) of a policy as an API returned it."""
    if isinstance(raw, dict):
        return json.dumps(raw, sort_keys=True), raw
    text = str(raw)
    candidate = text.strip()
    if candidate[:3].lower() == "%7b":
        candidate = urllib.parse.unquote(candidate)
    try:
        return text, json.loads(candidate)
    except ValueError:
        return text, None


def _pages(client, operation, key, **kwargs):
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key) or []
    else:
        yield from getattr(client, operation)(**kwargs).get(key) or []


def _live(where, kind, arn, raw):
    text, document = parse_document(raw)
    return LivePolicy(where=where, kind=kind, arn=arn, text=text, document=document)


def read_policies(session, endpoint_url=None) -> list:
    """Every policy document of the session's account and region (see the module's doc)."""
    def client(service):
        return session.client(service, endpoint_url=endpoint_url)

    found = []
    iam = client("iam")
    for role in _pages(iam, "list_roles", "Roles"):
        if (role.get("Path") or "/").startswith("/aws-service-role/"):
            continue
        name, arn = role["RoleName"], role["Arn"]
        trust = role.get("AssumeRolePolicyDocument")
        if trust is None:
            trust = iam.get_role(RoleName=name)["Role"].get("AssumeRolePolicyDocument")
        found.append(_live("role %s trust" % name, "trust", arn, trust))
        for policy_name in _pages(iam, "list_role_policies", "PolicyNames", RoleName=name):
            document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            found.append(_live("role %s inline policy %s" % (name, policy_name), "identity", arn, document))
    for policy in _pages(iam, "list_policies", "Policies", Scope="Local"):
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        found.append(_live("managed policy %s (%s)" % (policy["PolicyName"], policy["DefaultVersionId"]), "identity",
                           policy["Arn"], version["PolicyVersion"]["Document"]))
    kms = client("kms")
    for key in _pages(kms, "list_keys", "Keys"):
        metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if metadata.get("KeyManager") != "CUSTOMER":
            continue
        for policy_name in _pages(kms, "list_key_policies", "PolicyNames", KeyId=key["KeyId"]):
            document = kms.get_key_policy(KeyId=key["KeyId"], PolicyName=policy_name)["Policy"]
            found.append(_live("KMS key %s policy %s" % (metadata["Arn"], policy_name), "resource",
                               metadata["Arn"], document))
    sqs = client("sqs")
    for url in sqs.list_queues().get("QueueUrls") or []:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "QueueArn"]).get("Attributes") or {}
        if attributes.get("Policy"):
            found.append(_live("SQS queue %s policy" % url.rsplit("/", 1)[-1], "resource",
                               attributes.get("QueueArn", url), attributes["Policy"]))
    return found


def accepted_catalogue_findings(roles_dir=ROOT / "roles") -> list:
    """The suppressions of every role that accept a name the catalogue lacks (findings of
    ``policy_lint.CATALOGUE_ISSUES``), as written next to the roles' policies."""
    accepted = []
    for path in sorted(Path(roles_dir).glob("*/vars/main.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, value in data.items():
            if not name.endswith("_policy_lint_suppressions"):
                continue
            accepted.extend(item for item in value or [] if item.get("finding") in policy_lint.CATALOGUE_ISSUES)
    return accepted


def _accepted(finding, accepted) -> bool:
    return any(item["finding"] == finding["issue"]
               and (not item.get("sid") or finding["sid"] in policy_lint.as_list(item["sid"]))
               and (not item.get("detail") or item["detail"] in finding["detail"]) for item in accepted)


def problems(policies, accepted=()) -> list:
    """``"<where>: <problem>"`` for each document with template text or an unknown name. A
    problem names where it is (a JSON path, a statement, an action, a key), never a value: a
    trust policy may hold a secret (an ExternalId)."""
    out = []
    for policy in policies:
        if not isinstance(policy.document, dict):
            marks = [mark for mark in policy_lint.TEMPLATE_MARKS if mark in policy.text]
            out.append("%s: not a JSON object (%d characters%s)" % (
                policy.where, len(policy.text), ", template text " + " ".join(marks) if marks else ""))
            continue
        for where in policy_lint.template_text(policy.document):
            out.append("%s: template text at %s" % (policy.where, where))
        for finding in policy_lint.unknown_names(policy.document, policy.kind, policy.arn):
            if finding["issue"] == "TEMPLATE_TEXT":
                continue  # said above
            if not _accepted(finding, accepted):
                out.append("%s: %s [%s] %s" % (policy.where, finding["issue"], finding["sid"] or "-", finding["detail"]))
    return out
