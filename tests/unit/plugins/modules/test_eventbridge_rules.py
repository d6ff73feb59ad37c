"""honeyhive.platform.eventbridge_rules against the moto server; every assertion reads the rules
back through boto3, and the no-op run asserts the exact calls. moto answers ListRules with
NamePrefix, ListTargetsByRule, ListTagsForResource and PutRule with Tags; what moto never
answers (failed entries of PutTargets, a paginated ListRules) is played with botocore's Stubber."""
from __future__ import annotations

import json
import uuid

import pytest

from ansible_collections.honeyhive.platform.plugins.modules import eventbridge_rules

MUTATING_PREFIXES = ("Put", "Remove", "Delete", "Tag", "Untag", "Enable", "Disable")
QUEUE = "arn:aws:sqs:us-west-2:123456789012:hh-test-karpenter"
KINDS = {
    "health": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    "spot": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "state": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
}


@pytest.fixture(autouse=True)
def _credentials(aws_env):
    """Every test runs with the fake credentials of ``aws_env``."""


@pytest.fixture
def events(moto_client):
    return moto_client("events")


@pytest.fixture
def prefix():
    return "hh-test-%s-karpenter-" % uuid.uuid4().hex[:8]


def specs(prefix, kinds=KINDS, **extra):
    rules = []
    for kind, pattern in kinds.items():
        rule = dict(name=prefix + kind, description="%s events for Karpenter" % kind, event_pattern=pattern,
                    targets=[dict(id="KarpenterInterruptionQueue", arn=QUEUE)],
                    tags={"Environment": "test", "Name": prefix + kind})
        rule.update(extra)
        rules.append(rule)
    return rules


def args(moto_endpoint, rules, **extra):
    base = dict(endpoint_url=moto_endpoint, region="us-west-2", rules=rules)
    base.update(extra)
    return base


def mutating(calls):
    return [c for c in calls if c.startswith(MUTATING_PREFIXES)]


def rule_of(events, name):
    return events.describe_rule(Name=name)


def targets_of(events, name):
    return [(t["Id"], t["Arn"]) for t in events.list_targets_by_rule(Rule=name)["Targets"]]


def tags_of(events, name):
    arn = rule_of(events, name)["Arn"]
    return {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=arn)["Tags"]}


def names(events, prefix):
    return sorted(r["Name"] for r in events.list_rules(NamePrefix=prefix)["Rules"])


def test_create_then_no_op(run_module, events, moto_endpoint, prefix, api_calls):
    first = run_module(eventbridge_rules, args(moto_endpoint, specs(prefix)))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert names(events, prefix) == sorted(prefix + kind for kind in KINDS)
    assert mutating(api_calls) == ["PutRule", "PutTargets"] * 4
    for result, (kind, pattern) in zip(first["rules"], KINDS.items()):
        rule = rule_of(events, prefix + kind)
        assert result["arn"] == rule["Arn"]
        assert json.loads(rule["EventPattern"]) == pattern
        assert rule["Description"] == "%s events for Karpenter" % kind
        assert rule["State"] == "ENABLED"
        assert targets_of(events, prefix + kind) == [("KarpenterInterruptionQueue", QUEUE)]
        assert tags_of(events, prefix + kind) == {"Environment": "test", "Name": prefix + kind}
    assert first["actions"][:2] == ["create rule %shealth" % prefix,
                                    "add targets KarpenterInterruptionQueue to rule %shealth" % prefix]

    # the same rules again, the patterns as JSON text in another key and value order
    again_specs = specs(prefix)
    for rule in again_specs:
        pattern = rule["event_pattern"]
        rule["event_pattern"] = json.dumps({"detail-type": pattern["detail-type"], "source": list(reversed(pattern["source"]))},
                                           indent=2)
    api_calls.clear()
    again = run_module(eventbridge_rules, args(moto_endpoint, again_specs, _ansible_diff=True))
    assert not again.get("failed"), again
    assert again["changed"] is False, again["actions"]
    assert again["actions"] == []
    assert api_calls == ["ListRules"] + ["ListTargetsByRule", "ListTagsForResource"] * 4
    assert [r["arn"] for r in again["rules"]] == [r["arn"] for r in first["rules"]]
    assert again["rules"][1]["event_pattern"] == KINDS["spot"]
    assert again["diff"]["before"] == again["diff"]["after"]


def test_list_rules_asks_for_the_common_prefix(run_module, events, moto_endpoint, prefix, monkeypatch):
    import botocore.client

    sent = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        sent.append((operation_name, dict(api_params)))
        return original(self, operation_name, api_params)

    events.put_rule(Name=prefix + "other", EventPattern=json.dumps({"source": ["aws.s3"]}))
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    result = run_module(eventbridge_rules, args(moto_endpoint, specs(prefix)))
    assert not result.get("failed"), result
    assert sent[0] == ("ListRules", {"NamePrefix": prefix})
    # a rule of the bus that is not listed is left alone
    assert prefix + "other" in names(events, prefix)


def test_updates_only_what_differs(run_module, events, moto_endpoint, prefix, api_calls):
    run_module(eventbridge_rules, args(moto_endpoint, specs(prefix)))
    other_queue = QUEUE + "-2"
    changed = specs(prefix)
    changed[0]["description"] = "AWS Health scheduled changes"
    changed[1]["event_pattern"] = {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning", "x"]}
    changed[2]["targets"] = [dict(id="KarpenterInterruptionQueue", arn=other_queue), dict(id="Audit", arn=QUEUE)]
    changed[3]["tags"] = {"Name": prefix + "state", "Owner": "platform"}
    changed[3]["state"] = "DISABLED"
    events.put_targets(Rule=prefix + "health", Targets=[{"Id": "Stray", "Arn": QUEUE + "-stray"}])

    api_calls.clear()
    result = run_module(eventbridge_rules, args(moto_endpoint, changed, _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["actions"] == [
        "update the description of rule %shealth" % prefix,
        "remove targets Stray from rule %shealth" % prefix,
        "update the event pattern of rule %sspot" % prefix,
        "set targets KarpenterInterruptionQueue, Audit of rule %srebalance" % prefix,
        "update the state (DISABLED) of rule %sstate" % prefix,
        "remove tags Environment of rule %sstate" % prefix,
        "set tags Owner of rule %sstate" % prefix,
    ]
    assert sorted(mutating(api_calls)) == sorted(["PutRule", "RemoveTargets", "PutRule", "PutTargets", "PutRule",
                                                  "UntagResource", "TagResource"])

    health = rule_of(events, prefix + "health")
    assert health["Description"] == "AWS Health scheduled changes"
    assert json.loads(health["EventPattern"]) == KINDS["health"]
    assert targets_of(events, prefix + "health") == [("KarpenterInterruptionQueue", QUEUE)]
    spot = rule_of(events, prefix + "spot")
    assert json.loads(spot["EventPattern"]) == changed[1]["event_pattern"]
    assert spot["Description"] == "spot events for Karpenter"
    assert sorted(targets_of(events, prefix + "rebalance")) == sorted(
        [("KarpenterInterruptionQueue", other_queue), ("Audit", QUEUE)])
    assert rule_of(events, prefix + "state")["State"] == "DISABLED"
    assert tags_of(events, prefix + "state") == {"Name": prefix + "state", "Owner": "platform"}
    # the tags of the other rules are untouched
    assert tags_of(events, prefix + "spot") == {"Environment": "test", "Name": prefix + "spot"}
    assert result["diff"]["before"]["rules"][prefix + "health"]["description"] == "health events for Karpenter"
    assert result["diff"]["after"]["rules"][prefix + "health"]["description"] == "AWS Health scheduled changes"

    assert run_module(eventbridge_rules, args(moto_endpoint, changed))["changed"] is False


def test_tags_kept_without_purge_and_unmanaged_when_omitted(run_module, events, moto_endpoint, prefix, api_calls):
    rules = specs(prefix, {"spot": KINDS["spot"]})
    run_module(eventbridge_rules, args(moto_endpoint, rules))
    rules[0]["tags"] = {"Owner": "platform"}
    result = run_module(eventbridge_rules, args(moto_endpoint, rules, purge_tags=False))
    assert result["actions"] == ["set tags Owner of rule %sspot" % prefix]
    assert tags_of(events, prefix + "spot") == {"Environment": "test", "Name": prefix + "spot", "Owner": "platform"}

    # tags and targets omitted: not read, not changed
    del rules[0]["tags"]
    del rules[0]["targets"]
    api_calls.clear()
    result = run_module(eventbridge_rules, args(moto_endpoint, rules))
    assert result["changed"] is False
    assert api_calls == ["ListRules"]


def test_check_mode(run_module, events, moto_endpoint, prefix, api_calls):
    result = run_module(eventbridge_rules, args(moto_endpoint, specs(prefix), _ansible_check_mode=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert mutating(api_calls) == []
    assert api_calls == ["ListRules"]
    assert names(events, prefix) == []
    assert [r["arn"] for r in result["rules"]] == [None] * 4
    assert result["actions"] == [line for kind in KINDS for line in (
        "create rule %s%s" % (prefix, kind), "add targets KarpenterInterruptionQueue to rule %s%s" % (prefix, kind))]

    run_module(eventbridge_rules, args(moto_endpoint, specs(prefix)))
    changed = specs(prefix)
    changed[0]["event_pattern"] = {"source": ["aws.health"]}
    changed[1]["targets"] = []
    changed[2]["tags"] = {}
    api_calls.clear()
    result = run_module(eventbridge_rules, args(moto_endpoint, changed, _ansible_check_mode=True))
    assert result["actions"] == [
        "update the event pattern of rule %shealth" % prefix,
        "remove targets KarpenterInterruptionQueue from rule %sspot" % prefix,
        "remove tags Environment, Name of rule %srebalance" % prefix,
    ]
    assert mutating(api_calls) == []
    assert json.loads(rule_of(events, prefix + "health")["EventPattern"]) == KINDS["health"]
    assert targets_of(events, prefix + "spot") == [("KarpenterInterruptionQueue", QUEUE)]
    assert tags_of(events, prefix + "rebalance") == {"Environment": "test", "Name": prefix + "rebalance"}

    result = run_module(eventbridge_rules, args(moto_endpoint, changed, state="absent", _ansible_check_mode=True))
    assert result["changed"] is True
    assert mutating(api_calls) == []
    assert len(names(events, prefix)) == 4


def test_absent_then_absent_again(run_module, events, moto_endpoint, prefix, api_calls):
    run_module(eventbridge_rules, args(moto_endpoint, specs(prefix)))
    events.put_rule(Name=prefix + "kept", EventPattern=json.dumps({"source": ["aws.s3"]}))
    api_calls.clear()
    # only the names matter for state=absent
    result = run_module(eventbridge_rules, args(moto_endpoint, [dict(name=prefix + k) for k in KINDS] + [
        dict(name=prefix + "never-made")], state="absent", _ansible_diff=True))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert api_calls == ["ListRules"] + ["ListTargetsByRule", "RemoveTargets", "DeleteRule"] * 4
    assert names(events, prefix) == [prefix + "kept"]
    assert result["actions"][:2] == ["remove targets KarpenterInterruptionQueue from rule %shealth" % prefix,
                                     "delete rule %shealth" % prefix]
    assert result["rules"][-1] == dict(name=prefix + "never-made", arn=None)
    assert result["diff"]["after"] == {"rules": {}}
    assert set(result["diff"]["before"]["rules"]) == set(prefix + k for k in KINDS)

    api_calls.clear()
    again = run_module(eventbridge_rules, args(moto_endpoint, specs(prefix), state="absent"))
    assert again["changed"] is False
    assert again["actions"] == []
    assert api_calls == ["ListRules"]


@pytest.mark.parametrize("change, fragment", [
    (dict(name="bad name"), "Invalid value for option 'rules[0].name': 'bad name'. Allowed: 1 to 64 characters"),
    (dict(name="x" * 65), "rules[0].name"),
    (dict(event_pattern="{not json"), "Invalid value for option 'rules[0].event_pattern': '{not json'. Allowed: a dict"),
    (dict(event_pattern='["aws.ec2"]'), "Allowed: a dict or the JSON text of a non-empty object"),
    (dict(event_pattern=None), "rules[0].event_pattern': None. Allowed: a dict or JSON text; required with state=present"),
    (dict(targets=[dict(id="has space", arn=QUEUE)]), "Invalid value for option 'rules[0].targets[0].id': 'has space'"),
    (dict(targets=[dict(id="q", arn=QUEUE), dict(id="q", arn=QUEUE)]), "rules[0].targets[1].id': 'q'. Allowed: target ids that are unique"),
    (dict(targets=[dict(id="q", arn="queue")]), "rules[0].targets[0].arn': 'queue'. Allowed: an ARN"),
    (dict(targets=[dict(id="q%d" % i, arn=QUEUE) for i in range(6)]), "Allowed: at most 5 targets per rule"),
    (dict(tags={"aws:x": "y"}), "rules[0].tags': 'aws:x'"),
    (dict(description="d" * 513), "rules[0].description"),
])
def test_bad_input_fails_before_any_call(run_module, moto_endpoint, prefix, api_calls, change, fragment):
    rules = specs(prefix, {"spot": KINDS["spot"]})
    rules[0].update(change)
    result = run_module(eventbridge_rules, args(moto_endpoint, rules))
    assert result["failed"] is True
    assert fragment in result["msg"], result["msg"]
    assert api_calls == []


def test_duplicate_names_fail_before_any_call(run_module, moto_endpoint, prefix, api_calls):
    rules = specs(prefix, {"spot": KINDS["spot"]}) * 2
    result = run_module(eventbridge_rules, args(moto_endpoint, rules, state="absent"))
    assert result["failed"] is True
    assert "rules[1].name" in result["msg"] and "listed once" in result["msg"]
    assert api_calls == []


def test_paginated_rules_and_failed_targets(run_module, stub_client):
    """Stubber (EventBridge service model): moto answers ListRules in one page and PutTargets
    without failed entries; real EventBridge pages and can refuse a target in a 200 answer."""
    stubber = stub_client("events")
    arn = "arn:aws:events:us-west-2:111122223333:rule/"
    stubber.add_response("list_rules", {"Rules": [{"Name": "hh-a-x", "Arn": arn + "hh-a-x"}], "NextToken": "t1"},
                         {"NamePrefix": "hh-a-"})
    stubber.add_response("list_rules", {"Rules": [{"Name": "hh-a-y", "Arn": arn + "hh-a-y", "State": "ENABLED",
                                                   "EventPattern": '{"source":["aws.ec2"]}'}]},
                         {"NamePrefix": "hh-a-", "NextToken": "t1"})
    # hh-a-x exists without a pattern: written again
    stubber.add_response("put_rule", {"RuleArn": arn + "hh-a-x"},
                         {"Name": "hh-a-x", "EventPattern": '{"source":["aws.health"]}', "State": "ENABLED"})
    stubber.add_response("list_targets_by_rule", {}, {"Rule": "hh-a-x"})
    stubber.add_response("put_targets", {"FailedEntryCount": 1, "FailedEntries": [
        {"TargetId": "q", "ErrorCode": "ValidationException", "ErrorMessage": "queue policy"}]},
        {"Rule": "hh-a-x", "Targets": [{"Id": "q", "Arn": QUEUE}]})
    stubber.activate()
    result = run_module(eventbridge_rules, dict(region="us-west-2", rules=[
        dict(name="hh-a-x", event_pattern={"source": ["aws.health"]}, targets=[dict(id="q", arn=QUEUE)]),
        dict(name="hh-a-y", event_pattern={"source": ["aws.ec2"]})]))
    assert result["failed"] is True
    assert result["msg"] == "Failed to set targets of rule hh-a-x: q: queue policy"
    stubber.assert_no_pending_responses()
