#!/usr/bin/env python3
"""Lint every IAM policy document the collection writes, as AWS will read it.

``playbooks/render.yml`` renders each role's policies (``__<role>_policies`` in the role's
``vars/main.yml``) for every inventory and every setting of the switches that change them,
without any AWS call, as ``<dir>/<deployment>/<variant>.json``::

    {"deployment": "prod-us-west-2", "variant": "irsa", "roles": [
      {"role": "karpenter",
       "policies": [{"id": "controller-policy", "kind": "identity", "arn": "...", "document": {...}}],
       "suppressions": [{"policy": "...", "finding": "...", "sid": "...", "detail": "...", "reason": "..."}]}]}

Each document goes through parliament (its bundled IAM catalogue: every action, resource
type and condition key of every service) in the mode of its kind:

* ``identity`` (inline and managed identity policies, the permissions boundary): as written;
  a statement may not name a Principal.
* ``resource`` (key, queue, bucket policies): every statement names a Principal; ``"*"`` as
  the Resource is the resource the policy is attached to, so parliament's RESOURCE_STAR does
  not apply.
* ``trust`` (a role's trust policy): IAM evaluates it as the resource policy of the role, so
  each statement gets the role's ARN (``arn``) as its Resource before parliament reads it.
  parliament knows neither IAM OIDC providers as federated principals nor their claim keys:
  this module checks those itself (the provider ARN's shape; the keys ``<issuer>:aud``,
  ``:sub``, ``:amr``, ``:azp``, ``:oaud`` of that statement's own provider, with any other
  key of that form being unknown) and hands parliament the rest.

Besides parliament's findings, template text (``{{``, ``{%``, ``}}``) anywhere in a document,
key or value, is the finding TEMPLATE_TEXT: Ansible never templates a mapping key, so such a
key reaches IAM as written.

Every finding fails the lint unless a suppression of the same role matches it (same policy
id and finding, and, when given, the statement's Sid (or one of a list of Sids) and a piece of
the finding's detail);
each suppression gives its reason, and a suppression that matches nothing in any rendered
file fails the lint as well.

    python scripts/policy_lint.py DIR        # exit 0: clean; 1: findings or stale suppressions
"""
from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

TEMPLATE_MARKS = ("{{", "{%", "}}")
KINDS = ("identity", "resource", "trust")
# Claims IAM offers as condition keys of an OIDC provider (<issuer>:<claim>).
OIDC_CLAIMS = ("aud", "sub", "amr", "azp", "oaud")
OIDC_PROVIDER_RE = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:oidc-provider/(?P<issuer>[A-Za-z0-9.-]+(/[A-Za-z0-9._/-]+)?)$")
# Findings of parliament that say a name is not in the IAM catalogue.
CATALOGUE_ISSUES = ("UNKNOWN_ACTION", "UNKNOWN_PREFIX", "UNKNOWN_CONDITION_FOR_ACTION", "UNKNOWN_OPERATOR",
                    "UNKNOWN_PRINCIPAL", "UNKNOWN_FEDERATION_SOURCE", "OIDC_UNKNOWN_CLAIM", "TEMPLATE_TEXT")


def _parliament():
    # Imported late: the module is also read for its helpers where parliament is not needed.
    import parliament  # pylint: disable=import-outside-toplevel
    return parliament


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def template_text(node, path="$"):
    """Where a document holds template text: a list of JSON paths (keys and values)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = "%s[%s]" % (path, json.dumps(key))
            if isinstance(key, str) and any(mark in key for mark in TEMPLATE_MARKS):
                found.append(here + " (key)")
            found.extend(template_text(value, here))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(template_text(value, "%s[%d]" % (path, index)))
    elif isinstance(node, str) and any(mark in node for mark in TEMPLATE_MARKS):
        found.append(path)
    return found


def condition_keys(document):
    """Every (Sid, operator, key) of the document's conditions."""
    out = []
    for statement in as_list((document or {}).get("Statement")):
        if not isinstance(statement, dict):
            continue
        for operator, block in (statement.get("Condition") or {}).items():
            for key in (block or {}) if isinstance(block, dict) else []:
                out.append((statement.get("Sid"), operator, key))
    return out


def _finding(issue, detail, sid=None):
    return {"issue": issue, "detail": detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True),
            "sid": sid}


def _oidc_issuer(statement):
    """The issuer of the statement's IAM OIDC provider, or None."""
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return None
    for federated in as_list(principal.get("Federated")):
        match = OIDC_PROVIDER_RE.match(federated or "")
        if match:
            return match.group("issuer")
    return None


def prepare(document, kind, arn=None):
    """The document parliament reads for this kind, and the findings of the checks made here.

    ``kind`` is identity, resource or trust; ``arn`` is the role's ARN for a trust policy."""
    if kind not in KINDS:
        raise ValueError("kind %r is not one of %s" % (kind, ", ".join(KINDS)))
    findings = [_finding("TEMPLATE_TEXT", "template text at " + where) for where in template_text(document)]
    if not isinstance(document, dict):
        return None, findings + [_finding("MALFORMED", "the policy is not a JSON object")]
    lintable = copy.deepcopy(document)
    for statement in as_list(lintable.get("Statement")):
        if not isinstance(statement, dict):
            continue
        sid = statement.get("Sid")
        has_principal = "Principal" in statement or "NotPrincipal" in statement
        if kind == "identity" and has_principal:
            findings.append(_finding("PRINCIPAL_IN_IDENTITY_POLICY", "an identity policy names no Principal", sid))
        if kind in ("resource", "trust") and not has_principal:
            findings.append(_finding("NO_PRINCIPAL", "a %s policy statement needs a Principal" % kind, sid))
        if kind != "trust":
            continue
        if "Resource" in statement or "NotResource" in statement:
            findings.append(_finding("RESOURCE_IN_TRUST_POLICY", "a trust policy names no Resource", sid))
        if not arn:
            raise ValueError("a trust policy is linted with the ARN of its role")
        statement["Resource"] = arn
        issuer = _oidc_issuer(statement)
        principal = statement.get("Principal")
        if isinstance(principal, dict) and "Federated" in principal:
            federated = [f for f in as_list(principal["Federated"]) if not OIDC_PROVIDER_RE.match(f or "")]
            oidc_arns = [f for f in as_list(principal["Federated"]) if OIDC_PROVIDER_RE.match(f or "")]
            if oidc_arns:
                # Checked here; parliament knows only SAML and the four web identity providers.
                if federated:
                    principal["Federated"] = federated
                else:
                    del principal["Federated"]
                    if not principal:
                        statement["Principal"] = {}
        for operator, block in list((statement.get("Condition") or {}).items()):
            if not isinstance(block, dict):
                continue
            for key in list(block):
                head, _, claim = key.rpartition(":")
                if issuer is not None and head == issuer:
                    if claim not in OIDC_CLAIMS:
                        findings.append(_finding("OIDC_UNKNOWN_CLAIM", "Unknown condition %s: %s is not a claim IAM "
                                                 "offers for OIDC providers (%s)" % (key, claim, ", ".join(OIDC_CLAIMS)),
                                                 sid))
                    del block[key]
            if not block:
                del statement["Condition"][operator]
        if statement.get("Condition") == {}:
            del statement["Condition"]
    return lintable, findings


def lint_document(document, kind, arn=None):
    """Every finding of one policy document: ``[{issue, detail, sid}]``."""
    lintable, findings = prepare(document, kind, arn)
    if lintable is None:
        return findings
    parliament = _parliament()
    policy = parliament.analyze_policy_string(json.dumps(lintable), ignore_private_auditors=True)
    for finding in policy._findings:  # pylint: disable=protected-access
        findings.append(_finding(finding.issue, finding.detail))
    for statement in policy.statements:
        for finding in statement.findings:
            if kind == "resource" and finding.issue == "RESOURCE_STAR":
                continue  # in a resource policy "*" is the resource the policy is attached to
            findings.append(_finding(finding.issue, finding.detail, statement.sid))
    return findings


def unknown_names(document, kind, arn=None):
    """The findings that name something outside the IAM catalogue (actions, condition keys,
    operators, principals, OIDC claims) or template text: what no policy may hold."""
    return [f for f in lint_document(document, kind, arn) if f["issue"] in CATALOGUE_ISSUES]


# ------------------------------------------------------------------ rendered files


def load_rendered(directory):
    """Every role of every rendered file under ``directory`` (``<deployment>/<variant>.json``),
    as ``{"role", "deployment", "variant", "policies", "suppressions"}``."""
    out = []
    for path in sorted(Path(directory).glob("*/*.json")):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        for role in data.get("roles") or []:
            out.append(dict(role, deployment=data.get("deployment"), variant=data.get("variant"), path=str(path)))
    return out


def suppression_errors(role, suppressions):
    errors = []
    for index, item in enumerate(suppressions):
        missing = [key for key in ("policy", "finding", "reason") if not str(item.get(key) or "").strip()]
        if missing:
            errors.append("%s: suppression %d lacks %s" % (role, index, ", ".join(missing)))
    return errors


def matches(suppression, policy_id, finding):
    return (suppression["policy"] == policy_id and suppression["finding"] == finding["issue"]
            and (not suppression.get("sid") or finding["sid"] in as_list(suppression["sid"]))
            and (not suppression.get("detail") or suppression["detail"] in finding["detail"]))


def lint_rendered(directory):
    """Lint every rendered file; returns (report lines, failures, counts)."""
    files = load_rendered(directory)
    lines, failures = [], []
    counts = {"files": len({data["path"] for data in files}), "policies": 0, "findings": 0, "suppressed": 0}
    # Suppressions per role (the same list in every file of the role) and whether each matched.
    used = {}
    cache = {}
    for data in files:
        role = data["role"]
        suppressions = data.get("suppressions") or []
        if role not in used:
            used[role] = [False] * len(suppressions)
            failures.extend(suppression_errors(role, suppressions))
        where = "%s %s %s" % (data.get("deployment"), data.get("variant"), role)
        for policy in data.get("policies") or []:
            counts["policies"] += 1
            key = json.dumps([policy["document"], policy["kind"], policy.get("arn")], sort_keys=True)
            if key not in cache:
                cache[key] = lint_document(policy["document"], policy["kind"], policy.get("arn"))
            for finding in cache[key]:
                counts["findings"] += 1
                hits = [i for i, s in enumerate(suppressions) if matches(s, policy["id"], finding)]
                text = "%s %s [%s] %s: %s" % (where, policy["id"], finding["sid"] or "-", finding["issue"], finding["detail"])
                if hits:
                    counts["suppressed"] += 1
                    for index in hits:
                        used[role][index] = True
                else:
                    failures.append(text)
    for data in files:
        role = data["role"]
        for index, item in enumerate(data.get("suppressions") or []):
            if role in used and not used[role][index]:
                failures.append("%s: suppression %s %s%s matches no finding in any inventory; remove it" % (
                    role, item.get("policy"), item.get("finding"),
                    (" " + ",".join(as_list(item["sid"]))) if item.get("sid") else ""))
                used[role][index] = True  # said once
    lines.append("policy lint: %(policies)d policy documents in %(files)d files, %(findings)d findings, "
                 "%(suppressed)d suppressed" % counts)
    if counts["policies"] == 0:
        failures.append("no rendered policy found under %s" % directory)
    return lines, failures, counts


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    lines, failures, _ = lint_rendered(argv[1])
    for failure in failures:
        print("  FAILED " + failure)
    for line in lines:
        print(line, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
