"""scripts/policy_lint.py: how each kind of policy is read, what fails, and the suppressions.

The lint of the collection's own policies runs in `make lint` (scripts/lint-security.sh) over
what playbooks/render.yml renders for every inventory; these tests pin the linter's rules on
small documents and rendered trees made here."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("policy_lint", ROOT / "scripts" / "policy_lint.py")
policy_lint = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(policy_lint)

ROLE_ARN = "arn:aws:iam::111122223333:role/honeyhive-karpenter-controller-prod-us-west-2"
PROVIDER = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF"
ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF"


def identity(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def issues(findings):
    return sorted(f["issue"] for f in findings)


TERMINATE_OWNED = {
    "Sid": "AllowScopedDeletion", "Effect": "Allow", "Action": ["ec2:TerminateInstances"],
    "Resource": "arn:aws:ec2:us-west-2:*:instance/*",
    "Condition": {"StringEquals": {"aws:ResourceTag/kubernetes.io/cluster/prod": "owned"}},
}


def test_a_clean_identity_policy_has_no_finding():
    assert policy_lint.lint_document(identity(TERMINATE_OWNED), "identity") == []


def test_template_text_as_a_condition_key_fails_twice():
    statement = dict(TERMINATE_OWNED, Condition={"StringEquals": {"{{ __karpenter_owned }}": "owned"}})
    findings = policy_lint.lint_document(identity(statement), "identity")
    assert issues(findings) == ["TEMPLATE_TEXT", "UNKNOWN_CONDITION_FOR_ACTION"]
    unknown = [f for f in findings if f["issue"] == "UNKNOWN_CONDITION_FOR_ACTION"][0]
    assert unknown["sid"] == "AllowScopedDeletion"
    assert "{{ __karpenter_owned }}" in unknown["detail"] and "ec2:TerminateInstances" in unknown["detail"]


def test_template_text_in_a_value_is_found():
    statement = dict(TERMINATE_OWNED, Resource="arn:aws:ec2:{{ region }}:*:instance/*")
    assert "TEMPLATE_TEXT" in issues(policy_lint.lint_document(identity(statement), "identity"))
    assert policy_lint.template_text({"a": ["x", {"b": "}} y"}]}) == ['$["a"][1]["b"]']


def test_unknown_actions_and_global_keys_fail():
    statement = {"Effect": "Allow", "Action": ["ec2:LaunchEverything", "nosuchservice:Get"], "Resource": "*"}
    assert issues(policy_lint.lint_document(identity(statement), "identity")) == ["UNKNOWN_ACTION", "UNKNOWN_PREFIX"]
    statement = dict(TERMINATE_OWNED, Condition={"StringEquals": {"aws:RequestedRegionName": "us-west-2"}})
    assert issues(policy_lint.lint_document(identity(statement), "identity")) == ["UNKNOWN_CONDITION_FOR_ACTION"]


def test_an_identity_policy_names_no_principal():
    statement = dict(TERMINATE_OWNED, Principal={"AWS": "arn:aws:iam::111122223333:root"})
    assert "PRINCIPAL_IN_IDENTITY_POLICY" in issues(policy_lint.lint_document(identity(statement), "identity"))


def test_a_resource_policy_may_name_itself_as_star_but_needs_a_principal():
    statement = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                 "Action": "kms:Decrypt", "Resource": "*"}
    assert policy_lint.lint_document(identity(statement), "resource") == []
    assert issues(policy_lint.lint_document(identity(statement), "identity")) == [
        "PRINCIPAL_IN_IDENTITY_POLICY", "RESOURCE_STAR"]
    del statement["Principal"]
    assert issues(policy_lint.lint_document(identity(statement), "resource")) == ["NO_PRINCIPAL"]


def irsa_trust(**condition):
    return identity({"Sid": "ServiceAccounts", "Effect": "Allow", "Principal": {"Federated": PROVIDER},
                     "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": condition}})


def test_a_trust_policy_is_read_as_the_role_resource_with_its_provider_claims():
    trust = irsa_trust(**{ISSUER + ":sub": "system:serviceaccount:kube-system:karpenter", ISSUER + ":aud": "sts.amazonaws.com"})
    assert policy_lint.lint_document(trust, "trust", ROLE_ARN) == []
    # Read as an identity policy it has no Resource: malformed.
    assert "MALFORMED" in issues(policy_lint.lint_document(trust, "identity"))


def test_a_trust_policy_fails_on_an_unknown_claim_or_another_issuer():
    bad_claim = irsa_trust(**{ISSUER + ":subject": "system:serviceaccount:kube-system:karpenter"})
    assert issues(policy_lint.lint_document(bad_claim, "trust", ROLE_ARN)) == ["OIDC_UNKNOWN_CLAIM"]
    other_issuer = irsa_trust(**{"oidc.eks.us-east-1.amazonaws.com/id/FFFF:sub": "x"})
    assert issues(policy_lint.lint_document(other_issuer, "trust", ROLE_ARN)) == ["UNKNOWN_CONDITION_FOR_ACTION"]
    templated = irsa_trust(**{"{{ issuer }}:sub": "x"})
    assert "TEMPLATE_TEXT" in issues(policy_lint.lint_document(templated, "trust", ROLE_ARN))


def test_a_trust_policy_names_no_resource_and_has_a_role():
    trust = identity({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
                      "Resource": "*"})
    assert issues(policy_lint.lint_document(trust, "trust", ROLE_ARN)) == ["RESOURCE_IN_TRUST_POLICY"]
    with pytest.raises(ValueError):
        policy_lint.lint_document(trust, "trust")


def test_unknown_names_keeps_what_no_policy_may_hold():
    statement = dict(TERMINATE_OWNED, Resource="*", Condition={"StringEquals": {"{{ x }}": "owned"}})
    assert issues(policy_lint.unknown_names(identity(statement), "identity")) == [
        "TEMPLATE_TEXT", "UNKNOWN_CONDITION_FOR_ACTION"]


# ------------------------------------------------------------------ rendered trees


def write_rendered(tmp_path, policies, suppressions, deployments=("prod-us-west-2",)):
    for deployment in deployments:
        folder = tmp_path / deployment
        folder.mkdir(parents=True, exist_ok=True)
        data = {"deployment": deployment, "variant": "irsa",
                "roles": [{"role": "karpenter", "policies": policies, "suppressions": suppressions}]}
        (folder / "irsa.json").write_text(json.dumps(data))
    return tmp_path


STAR = {"id": "controller-policy", "kind": "identity", "arn": ROLE_ARN,
        "document": identity(dict(TERMINATE_OWNED, Sid="Deletion", Resource="*"))}


def test_a_finding_fails_the_tree_and_a_matching_suppression_clears_it(tmp_path):
    tree = write_rendered(tmp_path / "a", [STAR], [])
    _, failures, counts = policy_lint.lint_rendered(tree)
    assert len(failures) == 1 and "RESOURCE_STAR" in failures[0] and counts["findings"] == 1
    suppression = {"policy": "controller-policy", "finding": "RESOURCE_STAR", "sid": ["Other", "Deletion"],
                   "detail": "ec2:TerminateInstances", "reason": "because"}
    tree = write_rendered(tmp_path / "b", [STAR], [suppression], deployments=("prod-us-west-2", "test-us-east-1"))
    _, failures, counts = policy_lint.lint_rendered(tree)
    assert failures == [] and counts == {"files": 2, "policies": 2, "findings": 2, "suppressed": 2}


def test_a_suppression_that_matches_nothing_or_has_no_reason_fails(tmp_path):
    clean = dict(STAR, document=identity(TERMINATE_OWNED))
    stale = {"policy": "controller-policy", "finding": "RESOURCE_STAR", "reason": "no longer needed"}
    _, failures, _ = policy_lint.lint_rendered(write_rendered(tmp_path / "a", [clean], [stale]))
    assert len(failures) == 1 and "matches no finding" in failures[0]
    _, failures, _ = policy_lint.lint_rendered(
        write_rendered(tmp_path / "b", [STAR], [{"policy": "controller-policy", "finding": "RESOURCE_STAR"}]))
    assert any("lacks reason" in f for f in failures)
    # Another finding, another statement or another policy: not matched.
    wrong = {"policy": "controller-policy", "finding": "RESOURCE_STAR", "sid": "Other", "reason": "x"}
    _, failures, _ = policy_lint.lint_rendered(write_rendered(tmp_path / "c", [STAR], [wrong]))
    assert len(failures) == 2


def test_an_empty_tree_fails(tmp_path):
    _, failures, _ = policy_lint.lint_rendered(tmp_path)
    assert failures and "no rendered policy" in failures[0]
    assert policy_lint.main(["policy_lint.py", str(tmp_path)]) == 1
