"""The IAM policy evaluator (scripts/local_aws/policy.py) against AWS's documented evaluation
logic: explicit deny, default deny, NotAction/NotResource, the condition operators with
missing and multi-valued keys, IfExists, set operators, policy variables, permissions
boundaries, and resource-based policies within and across accounts."""
from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from local_aws.policy import (Caller, PolicyError, Request, UnevaluableCondition,  # noqa: E402
                              action_matches, evaluate, parse_policy, resource_matches)

ACCOUNT = "111122223333"
OTHER = "444455556666"
ROLE = "arn:aws:iam::%s:role/deploy" % ACCOUNT
SESSION = "arn:aws:sts::%s:assumed-role/deploy/run" % ACCOUNT
CALLER = Caller(kind="assumed-role", account=ACCOUNT, arn=SESSION, role_arn=ROLE, session_name="run")


def policy(*statements, name="p", kind="identity", version="2012-10-17"):
    return parse_policy({"Version": version, "Statement": list(statements)}, name, kind)


def allow(action="*", resource="*", **extra):
    return dict({"Effect": "Allow", "Action": action, "Resource": resource}, **extra)


def deny(action="*", resource="*", **extra):
    return dict({"Effect": "Deny", "Action": action, "Resource": resource}, **extra)


def ask(action, resource="*", context=None, caller=CALLER, resolvable=None):
    return Request(action, resource, caller, context or {}, resolvable)


def decide(req, *policies, **kwargs):
    return evaluate(req, list(policies), **kwargs)


# -- matching -------------------------------------------------------------------------------


def test_action_matching_is_case_insensitive_with_wildcards():
    assert action_matches("iam:Get*", "iam:GetRole")
    assert action_matches("IAM:getrole", "iam:GetRole")
    assert action_matches("iam:?etRole", "iam:GetRole")
    assert not action_matches("iam:Get*", "iam:ListRoles")
    assert not action_matches("iam:GetRol", "iam:GetRole")


def test_resource_matching_is_case_sensitive_and_per_arn_part():
    arn = "arn:aws:iam::111122223333:role/honeyhive-x"
    assert resource_matches("arn:aws:iam::*:role/honeyhive-*", arn)
    assert not resource_matches("arn:aws:iam::*:role/HoneyHive-*", arn)
    assert resource_matches("arn:aws:iam::111122223333:role/honeyhive-?", arn)
    # a wildcard stays inside its part: "*" in the service part cannot swallow the colons
    assert not resource_matches("arn:aws:*:role/honeyhive-x", arn)
    assert resource_matches("*", arn)
    # the resource part may itself hold colons (log groups)
    assert resource_matches("arn:aws:logs:us-west-2:1:log-group:/aws/eks/*",
                            "arn:aws:logs:us-west-2:1:log-group:/aws/eks/c:*")


# -- the evaluation logic --------------------------------------------------------------------


def test_default_deny_and_the_message_names_action_and_resource():
    result = decide(ask("iam:CreateRole", ROLE), policy(allow("ec2:*")))
    assert not result.allowed and result.reason == "implicit-deny"
    assert result.message() == (
        "User: %s is not authorized to perform: iam:CreateRole on resource: %s because no identity-based "
        "policy allows the iam:CreateRole action" % (SESSION, ROLE))


def test_explicit_deny_wins_over_any_allow():
    result = decide(ask("iam:PutRolePolicy", ROLE), policy(allow("iam:*"), name="a"),
                    policy(deny("iam:PutRolePolicy", ROLE, Sid="Fixed"), name="b"))
    assert not result.allowed and result.reason == "explicit-deny"
    assert result.denied_by == [("b", "Fixed")]
    assert result.message().endswith("with an explicit deny in an identity-based policy")


def test_allow_names_the_deciding_statements():
    result = decide(ask("iam:GetRole", ROLE), policy(allow("iam:GetRole", ROLE, Sid="Read"), name="inline"))
    assert result.allowed and result.allowed_by == [("inline", "Read")]


def test_not_action_allow_covers_everything_else():
    power_user = policy({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})
    assert decide(ask("ec2:CreateVpc"), power_user).allowed
    assert not decide(ask("iam:CreateRole", ROLE), power_user).allowed
    assert not decide(ask("IAM:CreateRole", ROLE), power_user).allowed


def test_not_action_with_deny_denies_everything_but_the_listed_actions():
    only_reads = policy(allow("*"), {"Effect": "Deny", "NotAction": ["ec2:Describe*"], "Resource": "*"})
    assert decide(ask("ec2:DescribeVpcs"), only_reads).allowed
    result = decide(ask("ec2:CreateVpc"), only_reads)
    assert result.reason == "explicit-deny"


def test_not_resource():
    doc = policy({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret*"})
    assert decide(ask("s3:GetObject", "arn:aws:s3:::public/x"), doc).allowed
    assert not decide(ask("s3:GetObject", "arn:aws:s3:::secret/x"), doc).allowed


def test_permissions_boundary_intersects_with_identity_policies():
    identity = policy(allow("iam:*"), allow("ec2:*"))
    boundary = policy(allow("ec2:*"), name="boundary", kind="boundary")
    assert decide(ask("ec2:CreateVpc"), identity, boundary=boundary).allowed
    result = decide(ask("iam:CreateRole", ROLE), identity, boundary=boundary)
    assert not result.allowed and result.source == "boundary"
    assert result.message().endswith("because no permissions boundary allows the iam:CreateRole action")
    # the boundary grants nothing on its own
    assert not decide(ask("ec2:CreateVpc"), boundary=boundary).allowed
    # a deny in the boundary is an explicit deny
    fenced = policy(allow("*"), deny("ec2:DeleteVpc"), kind="boundary", name="fence")
    result = decide(ask("ec2:DeleteVpc"), identity, boundary=fenced)
    assert result.reason == "explicit-deny" and result.message().endswith("an explicit deny in a permissions boundary")


# -- conditions ------------------------------------------------------------------------------


def test_missing_key_fails_positive_operators_and_passes_negated_ones():
    pos = policy(allow("sts:AssumeRole", Condition={"StringEquals": {"sts:ExternalId": "abc"}}))
    neg = policy(allow("sts:AssumeRole", Condition={"StringNotEquals": {"sts:ExternalId": "abc"}}))
    assert not decide(ask("sts:AssumeRole"), pos).allowed
    assert decide(ask("sts:AssumeRole", context={"sts:ExternalId": "abc"}), pos).allowed
    assert not decide(ask("sts:AssumeRole", context={"sts:ExternalId": "xyz"}), pos).allowed
    assert decide(ask("sts:AssumeRole"), neg).allowed
    assert not decide(ask("sts:AssumeRole", context={"sts:ExternalId": "abc"}), neg).allowed


def test_if_exists_passes_a_missing_key_and_checks_a_present_one():
    doc = policy(allow("ec2:RunInstances", Condition={"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}}))
    assert decide(ask("ec2:RunInstances"), doc).allowed
    assert decide(ask("ec2:RunInstances", context={"ec2:InstanceType": "t3.micro"}), doc).allowed
    assert not decide(ask("ec2:RunInstances", context={"ec2:InstanceType": "m5.large"}), doc).allowed


def test_condition_key_names_are_case_insensitive_values_are_not():
    doc = policy(allow("s3:*", Condition={"StringEquals": {"AWS:REQUESTEDREGION": "us-west-2"}}))
    assert decide(ask("s3:ListBucket", context={"aws:RequestedRegion": "us-west-2"}), doc).allowed
    assert not decide(ask("s3:ListBucket", context={"aws:RequestedRegion": "US-WEST-2"}), doc).allowed
    ignore = policy(allow("s3:*", Condition={"StringEqualsIgnoreCase": {"aws:RequestedRegion": "US-West-2"}}))
    assert decide(ask("s3:ListBucket", context={"aws:RequestedRegion": "us-west-2"}), ignore).allowed


def test_several_values_are_ored_and_several_keys_anded():
    doc = policy(allow("kms:Decrypt", Condition={
        "StringEquals": {"kms:ViaService": ["secretsmanager.us-west-2.amazonaws.com", "s3.us-west-2.amazonaws.com"],
                         "kms:CallerAccount": ACCOUNT}}))
    ctx = {"kms:ViaService": "s3.us-west-2.amazonaws.com", "kms:CallerAccount": ACCOUNT}
    assert decide(ask("kms:Decrypt", context=ctx), doc).allowed
    assert not decide(ask("kms:Decrypt", context=dict(ctx, **{"kms:CallerAccount": OTHER})), doc).allowed
    assert not decide(ask("kms:Decrypt", context={"kms:CallerAccount": ACCOUNT}), doc).allowed


def test_for_all_values_is_true_on_a_missing_or_empty_key():
    doc = policy(allow("iam:TagRole", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}))
    assert decide(ask("iam:TagRole"), doc).allowed
    assert decide(ask("iam:TagRole", context={"aws:TagKeys": []}), doc).allowed
    assert decide(ask("iam:TagRole", context={"aws:TagKeys": ["team"]}), doc).allowed
    assert not decide(ask("iam:TagRole", context={"aws:TagKeys": ["team", "owner"]}), doc).allowed


def test_for_any_value_is_false_on_a_missing_or_empty_key():
    doc = policy(allow("iam:TagRole", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}))
    assert not decide(ask("iam:TagRole"), doc).allowed
    assert not decide(ask("iam:TagRole", context={"aws:TagKeys": []}), doc).allowed
    assert decide(ask("iam:TagRole", context={"aws:TagKeys": ["owner", "team"]}), doc).allowed


def test_for_all_values_with_a_negated_operator():
    doc = policy(allow("iam:TagRole", Condition={"ForAllValues:StringNotLike": {"aws:TagKeys": ["aws:*"]}}))
    assert decide(ask("iam:TagRole", context={"aws:TagKeys": ["team"]}), doc).allowed
    assert not decide(ask("iam:TagRole", context={"aws:TagKeys": ["team", "aws:x"]}), doc).allowed


def test_string_like_arn_like_bool_null_numeric_date_ip_binary():
    cases = [
        ({"StringLike": {"k:s": "repo:org/name:*"}}, {"k:s": "repo:org/name:ref:refs/heads/main"}, True),
        ({"StringNotLike": {"k:s": "repo:*"}}, {"k:s": "repo:x"}, False),
        ({"ArnLike": {"k:a": "arn:aws:iam::*:role/honeyhive-*"}}, {"k:a": "arn:aws:iam::1:role/honeyhive-x"}, True),
        ({"ArnEquals": {"k:a": "arn:aws:iam::1:role/x"}}, {"k:a": "arn:aws:iam::1:role/y"}, False),
        ({"ArnNotLike": {"k:a": "arn:aws:iam::*:role/x"}}, {"k:a": "arn:aws:iam::1:role/y"}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": True}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": True}, False),
        ({"Null": {"k:n": "true"}}, {}, True),
        ({"Null": {"k:n": "true"}}, {"k:n": "x"}, False),
        ({"Null": {"k:n": "false"}}, {"k:n": "x"}, True),
        ({"NumericLessThanEquals": {"k:d": "3600"}}, {"k:d": 3600}, True),
        ({"NumericGreaterThan": {"k:d": "3600"}}, {"k:d": "3600"}, False),
        ({"NumericNotEquals": {"k:d": "1"}}, {"k:d": 2}, True),
        ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
         {"aws:CurrentTime": datetime(2026, 12, 7, tzinfo=timezone.utc)}, True),
        ({"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
         {"aws:CurrentTime": datetime(2026, 12, 7, tzinfo=timezone.utc)}, False),
        ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, {"aws:SourceIp": "127.0.0.1"}, True),
        ({"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}}, {"aws:SourceIp": "192.0.2.7"}, False),
        ({"BinaryEquals": {"k:b": "QmluYXJ5"}}, {"k:b": b"Binary"}, True),
    ]
    for condition, context, expected in cases:
        doc = policy(allow("x:Y", Condition=condition))
        assert decide(ask("x:Y", context=context), doc).allowed is expected, (condition, context)


def test_a_single_valued_operator_on_a_multi_valued_key():
    doc = policy(allow("x:Y", Condition={"StringEquals": {"aws:TagKeys": "team"}}))
    assert decide(ask("x:Y", context={"aws:TagKeys": ["env", "team"]}), doc).allowed
    negated = policy(allow("x:Y", Condition={"StringNotEquals": {"aws:TagKeys": "team"}}))
    assert not decide(ask("x:Y", context={"aws:TagKeys": ["env", "team"]}), negated).allowed


def test_an_unknown_operator_is_refused_when_parsed():
    with pytest.raises(PolicyError, match="StringSortOfEquals"):
        policy(allow("x:Y", Condition={"StringSortOfEquals": {"k:s": "a"}}))
    with pytest.raises(PolicyError, match="set operator"):
        policy(allow("x:Y", Condition={"ForSomeValues:StringEquals": {"k:s": "a"}}))


def test_a_key_that_cannot_be_evaluated_fails_closed_and_loudly():
    doc = policy(allow("eks:CreateCluster", Sid="Odd", Condition={"Bool": {"eks:computeConfigEnabled": "false"}}))
    with pytest.raises(UnevaluableCondition, match="eks:computeConfigEnabled of p statement Odd"):
        decide(ask("eks:CreateCluster", resolvable=lambda key: False), doc)
    # a key the request truly lacks is simply absent
    assert not decide(ask("eks:CreateCluster", resolvable=lambda key: True), doc).allowed


def test_policy_variables_in_resource_and_conditions_with_defaults_and_escapes():
    tagged = Caller(kind="assumed-role", account=ACCOUNT, arn=SESSION, role_arn=ROLE, session_name="run")
    ctx = {"aws:PrincipalTag/team": "obs", "aws:username": "alice"}
    doc = policy(allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*"))
    assert decide(ask("s3:GetObject", "arn:aws:s3:::bucket/obs/x", ctx, tagged), doc).allowed
    assert not decide(ask("s3:GetObject", "arn:aws:s3:::bucket/dev/x", ctx, tagged), doc).allowed
    # no value and no default: the element matches nothing
    assert not decide(ask("s3:GetObject", "arn:aws:s3:::bucket/obs/x", {}, tagged), doc).allowed
    with_default = policy(allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'shared'}/*"))
    assert decide(ask("s3:GetObject", "arn:aws:s3:::bucket/shared/x", {}, tagged), with_default).allowed
    # ${*} is a literal star
    literal = policy(allow("s3:GetObject", "arn:aws:s3:::bucket/${*}"))
    assert decide(ask("s3:GetObject", "arn:aws:s3:::bucket/*"), literal).allowed
    assert not decide(ask("s3:GetObject", "arn:aws:s3:::bucket/x"), literal).allowed
    in_condition = policy(allow("x:Y", Condition={"StringEquals": {"k:owner": "${aws:username}"}}))
    assert decide(ask("x:Y", context=dict(ctx, **{"k:owner": "alice"})), in_condition).allowed
    assert not decide(ask("x:Y", context=dict(ctx, **{"k:owner": "bob"})), in_condition).allowed


def test_variables_are_literal_in_a_2008_policy():
    doc = policy(allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:username}"), version="2008-10-17")
    assert decide(ask("s3:GetObject", "arn:aws:s3:::bucket/${aws:username}", {"aws:username": "a"}), doc).allowed
    assert not decide(ask("s3:GetObject", "arn:aws:s3:::bucket/a", {"aws:username": "a"}), doc).allowed


# -- resource-based policies: trust policies, key policies ---------------------------------------

TARGET_ROLE = "arn:aws:iam::%s:role/target" % OTHER


def trust(principal, condition=None):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return policy(statement, name="trust", kind="resource")


def test_trust_in_an_account_root_needs_the_callers_own_allow_across_accounts():
    doc = trust({"AWS": "arn:aws:iam::%s:root" % ACCOUNT})
    req = ask("sts:AssumeRole", TARGET_ROLE)
    assert not decide(req, resource_policy=doc, resource_account=OTHER, resource_required=True).allowed
    own = policy(allow("sts:AssumeRole", TARGET_ROLE, Sid="Hop"), name="hop")
    result = decide(req, own, resource_policy=doc, resource_account=OTHER, resource_required=True)
    assert result.allowed and ("hop", "Hop") in result.allowed_by
    # the account's own credentials (root) carry that allow themselves
    root = Caller(kind="root", account=ACCOUNT, arn="arn:aws:iam::%s:root" % ACCOUNT)
    assert decide(ask("sts:AssumeRole", TARGET_ROLE, caller=root), resource_policy=doc, resource_account=OTHER,
                  resource_required=True).allowed


def test_trust_by_account_id_equals_trust_by_root_arn():
    doc = trust({"AWS": ACCOUNT})
    own = policy(allow("sts:AssumeRole"))
    assert decide(ask("sts:AssumeRole", TARGET_ROLE), own, resource_policy=doc, resource_account=OTHER,
                  resource_required=True).allowed


def test_trust_of_another_principal_or_account_denies():
    own = policy(allow("sts:AssumeRole"))
    for principal in ({"AWS": "arn:aws:iam::%s:root" % OTHER}, {"AWS": OTHER},
                      {"AWS": "arn:aws:iam::%s:role/other" % ACCOUNT},
                      {"Service": "ec2.amazonaws.com"}):
        result = decide(ask("sts:AssumeRole", TARGET_ROLE), own, resource_policy=trust(principal),
                        resource_account=OTHER, resource_required=True)
        assert not result.allowed and result.source == "resource", principal
        assert "because no resource-based policy allows the sts:AssumeRole action" in result.message()


def test_trust_of_the_role_or_the_session_names_the_caller():
    own = policy(allow("sts:AssumeRole"))
    for principal in ({"AWS": ROLE}, {"AWS": SESSION}, {"AWS": "*"}, "*"):
        assert decide(ask("sts:AssumeRole", TARGET_ROLE), own, resource_policy=trust(principal),
                      resource_account=OTHER, resource_required=True).allowed, principal


def test_cross_account_trust_of_the_role_still_needs_the_callers_allow():
    for principal in ({"AWS": ROLE}, {"AWS": SESSION}):
        result = decide(ask("sts:AssumeRole", TARGET_ROLE), policy(allow("ec2:*")), resource_policy=trust(principal),
                        resource_account=OTHER, resource_required=True)
        assert not result.allowed and result.source == "identity", principal


def test_same_account_trust_of_the_role_needs_no_identity_allow():
    same = "arn:aws:iam::%s:role/target" % ACCOUNT
    doc = trust({"AWS": ROLE})
    assert decide(ask("sts:AssumeRole", same), resource_policy=doc, resource_account=ACCOUNT,
                  resource_required=True).allowed
    # ...but an implicit deny of a boundary still limits a grant to the role ARN
    boundary = policy(allow("ec2:*"), kind="boundary", name="b")
    assert not decide(ask("sts:AssumeRole", same), boundary=boundary, resource_policy=doc, resource_account=ACCOUNT,
                      resource_required=True).allowed
    # ...and not one to the session ARN
    assert decide(ask("sts:AssumeRole", same), boundary=boundary, resource_policy=trust({"AWS": SESSION}),
                  resource_account=ACCOUNT, resource_required=True).allowed


def test_external_id_condition_of_a_trust_policy():
    doc = trust({"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, {"StringEquals": {"sts:ExternalId": "s3cret"}})
    own = policy(allow("sts:AssumeRole"))
    for context, expected in (({}, False), ({"sts:ExternalId": "wrong"}, False), ({"sts:ExternalId": "s3cret"}, True)):
        result = decide(ask("sts:AssumeRole", TARGET_ROLE, context), own, resource_policy=doc, resource_account=OTHER,
                        resource_required=True)
        assert result.allowed is expected, context


def test_not_principal_with_deny():
    doc = policy({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
                 {"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "kms:ScheduleKeyDeletion",
                  "Resource": "*"}, name="key", kind="resource")
    other = Caller(kind="assumed-role", account=ACCOUNT, arn="arn:aws:sts::%s:assumed-role/x/s" % ACCOUNT,
                   role_arn="arn:aws:iam::%s:role/x" % ACCOUNT)
    assert decide(ask("kms:ScheduleKeyDeletion"), resource_policy=doc, resource_required=True).allowed
    assert decide(ask("kms:ScheduleKeyDeletion", caller=other), resource_policy=doc,
                  resource_required=True).reason == "explicit-deny"


def test_key_policy_delegating_to_the_account_needs_the_identity_allow():
    key = "arn:aws:kms:us-west-2:%s:key/k" % ACCOUNT
    doc = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "Action": "kms:*",
                  "Resource": "*"}, name="key", kind="resource")
    assert not decide(ask("kms:Decrypt", key), resource_policy=doc, resource_required=True).allowed
    assert decide(ask("kms:Decrypt", key), policy(allow("kms:Decrypt")), resource_policy=doc,
                  resource_required=True).allowed
    # a key policy that does not name the account: no identity policy helps
    closed = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % OTHER}, "Action": "kms:*",
                     "Resource": "*"}, name="key", kind="resource")
    result = decide(ask("kms:Decrypt", key), policy(allow("*")), resource_policy=closed, resource_required=True)
    assert not result.allowed and result.source == "resource"


def test_a_resource_policy_alone_allows_within_the_account_not_across():
    bucket = "arn:aws:s3:::b"
    doc = policy({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": "*"},
                 name="bucket", kind="resource")
    assert decide(ask("s3:GetObject", bucket), resource_policy=doc, resource_account=ACCOUNT).allowed
    assert not decide(ask("s3:GetObject", bucket), resource_policy=doc, resource_account=OTHER).allowed
    assert decide(ask("s3:GetObject", bucket), policy(allow("s3:*")), resource_policy=doc,
                  resource_account=OTHER).allowed
    # across accounts without a resource policy: denied whatever the identity policy says
    assert not decide(ask("s3:GetObject", bucket), policy(allow("*")), resource_account=OTHER).allowed


def test_malformed_policies_are_refused():
    for document in ({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]},
                     {"Statement": [{"Effect": "Allow", "Resource": "*"}]},
                     {"Statement": [{"Effect": "Allow", "Action": "*"}]},
                     {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}]},
                     {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Sid": "x", "Extra": 1}]},
                     "not json"):
        with pytest.raises(PolicyError):
            parse_policy(document, "bad")
    # IAM answers documents URL-encoded: they parse as well
    assert parse_policy("%7B%22Statement%22%3A%20%5B%5D%7D", "encoded").statements == []
