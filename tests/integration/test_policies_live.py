"""No policy in the account after a converge holds template text, and every action and
condition key in it is one IAM knows.

The session's clean converge (``reference`` in conftest.py) leaves the target account of the
local inventory in the emulator; ``policies.read_policies`` reads back every role's trust and
inline policies, every customer managed policy's default version, the KMS key policies and
the SQS queue policies with ordinary AWS calls, and ``policies.problems`` checks each with the
policy lint's catalogue in the mode of its kind. The suppressions the roles keep next to their
policies for names newer than the catalogue apply here as well.

A self-check first writes broken documents of each kind into an emulator of its own and
proves that the check finds each of them.
"""
from __future__ import annotations

import json
import uuid

import pytest

import policies
import readback

TEMPLATED_KEY = "{{ __karpenter_owned }}"


def _target(env):
    account, region = readback.local_inventory()
    return readback.target_session(env, account, region), env["HONEYHIVE_MOTO_URL"], account, region


def test_the_check_finds_template_text_and_unknown_names(emulators):
    session, endpoint, account, region = _target(emulators.env)
    iam = session.client("iam", endpoint_url=endpoint)
    suffix = uuid.uuid4().hex[:8]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "{{ platform_target_account_id }}"}}}]}
    role = "selfcheck-%s" % suffix
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    inline = {"Version": "2012-10-17", "Statement": [{
        "Sid": "Deletion", "Effect": "Allow", "Action": "ec2:TerminateInstances",
        "Resource": "arn:aws:ec2:%s:%s:instance/*" % (region, account),
        "Condition": {"StringEquals": {TEMPLATED_KEY: "owned"}}}]}
    iam.put_role_policy(RoleName=role, PolicyName="templated-key", PolicyDocument=json.dumps(inline))
    managed = {"Version": "2012-10-17", "Statement": [{
        "Sid": "Launch", "Effect": "Allow", "Action": "ec2:LaunchEverything", "Resource": "*"}]}
    iam.create_policy(PolicyName="selfcheck-%s" % suffix, PolicyDocument=json.dumps(managed))
    sqs = session.client("sqs", endpoint_url=endpoint)
    queue_url = sqs.create_queue(QueueName="selfcheck-%s" % suffix)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "Send", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArnn": "arn:aws:events:%s:%s:rule/x" % (region, account)}}}]}
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(queue_policy)})

    found = policies.read_policies(session, endpoint)
    kinds = {(p.kind, p.where.split()[0]) for p in found}
    assert {("trust", "role"), ("identity", "role"), ("identity", "managed"), ("resource", "SQS")} <= kinds
    text = "\n".join(policies.problems(found))
    assert 'role %s trust: template text at $["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"]' % role in text
    assert ('role %s inline policy templated-key: template text at $["Statement"][0]["Condition"]["StringEquals"]["%s"] (key)'
            % (role, TEMPLATED_KEY)) in text
    # Nested objects end in "}}" in JSON text: that is no template text.
    assert "}}" in json.dumps(queue_policy)
    assert not any("SQS queue selfcheck-%s policy: template text" % suffix in line for line in text.splitlines())
    assert "UNKNOWN_CONDITION_FOR_ACTION [Deletion] Unknown condition %s for action ec2:TerminateInstances" % TEMPLATED_KEY in text
    assert "managed policy selfcheck-%s (v1): UNKNOWN_ACTION [Launch]" % suffix in text
    assert "SQS queue selfcheck-%s policy: UNKNOWN_CONDITION_FOR_ACTION [Send] Unknown condition aws:SourceArnn" % suffix in text
    # The roles' accepted catalogue gaps apply, and only to what they name.
    accepted = policies.accepted_catalogue_findings()
    assert accepted and all(item["reason"].strip() for item in accepted)
    assert "ec2:LaunchEverything" in "\n".join(policies.problems(found, accepted))


def test_policy_documents_parse_in_every_form():
    document = {"Version": "2012-10-17", "Statement": []}
    text = json.dumps(document)
    for raw in (document, text, "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"):
        assert policies.parse_document(raw)[1] == document
    assert policies.parse_document("not json")[1] is None


@pytest.mark.converge
def test_no_policy_after_the_converge_holds_template_text_or_unknown_names(reference):
    session, endpoint, _, _ = _target(reference.stack.env)
    found = policies.read_policies(session, endpoint)
    kinds = {(p.kind, p.where.split()[0]) for p in found}
    # The platform writes trust, inline and managed identity policies and a key policy (and, with
    # the hosting phase, the interruption queue's policy): a read-back that finds none of a kind
    # read nothing.
    assert {("trust", "role"), ("identity", "role"), ("identity", "managed"), ("resource", "KMS")} <= kinds, kinds
    if any(p.where.startswith("role honeyhive-karpenter-controller") for p in found):
        assert ("resource", "SQS") in kinds
    bad = policies.problems(found, policies.accepted_catalogue_findings())
    assert not bad, "%d problems in the %d policies of the account:\n%s" % (len(bad), len(found), "\n".join(bad))

