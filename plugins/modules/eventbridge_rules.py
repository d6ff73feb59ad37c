#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eventbridge_rules
short_description: Manage a list of EventBridge rules of the default event bus, with their targets and tags, in one run
version_added: 0.2.0
description:
  - Creates, updates or deletes several EventBridge rules of the default event bus at once,
    each with its description, event pattern, state, targets and tags.
  - Reads them all with one C(ListRules) (paginated) whose C(NamePrefix) is the longest
    common prefix of the rule names, then C(ListTargetsByRule) and C(ListTagsForResource)
    of each rule that exists (only for what is managed). Event patterns are compared by
    meaning, not by text (key order, spacing, and the order of the values of a list do
    not matter). A run that changes nothing costs one call plus two per rule.
  - A new rule is made with C(PutRule), its tags given with it, then C(PutTargets). A rule
    whose description, pattern or state differs is written again with C(PutRule); targets
    are added or changed with C(PutTargets) and the ones not listed removed with
    C(RemoveTargets); tags are brought to O(rules[].tags) with C(TagResource) and
    C(UntagResource).
  - O(state=absent) removes the targets of each listed rule that exists (C(RemoveTargets))
    and deletes it (C(DeleteRule)).
  - Every rule is checked before the first call (names, target ids, event patterns and tags).
options:
  rules:
    description:
      - The rules, each identified by its name. Rules of the bus that are not listed are left alone.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the rule, 1 to 64 characters among C(A-Z a-z 0-9 . - _).
        type: str
        required: true
      description:
        description: Description of the rule (at most 512 characters). When omitted it is not managed.
        type: str
      event_pattern:
        description:
          - The event pattern, as a dict or JSON text of an object. Required with O(state=present).
        type: json
      state:
        description: Whether the rule is enabled.
        type: str
        choices: [ENABLED, DISABLED]
        default: ENABLED
      targets:
        description:
          - Targets of the rule (at most 5). Targets of the rule that are not listed are removed.
            When omitted they are not managed.
        type: list
        elements: dict
        suboptions:
          id:
            description: Id of the target in the rule, 1 to 64 characters among C(A-Z a-z 0-9 . - _).
            type: str
            required: true
          arn:
            description: ARN of the target (an SQS queue, an SNS topic, a Lambda function...).
            type: str
            required: true
      tags:
        description:
          - Tags of the rule. When omitted they are not managed. See O(purge_tags).
        type: dict
  purge_tags:
    description:
      - Remove the tags of a rule that are not in its O(rules[].tags). Reserved C(aws:) tags are never removed.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the rules, V(absent) removes their targets and deletes them.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports check mode and diff mode. In check mode a rule that does not exist yet has C(arn=null).
  - Only the default event bus. Targets are managed by id and ARN; further settings of a target
    (input, role, dead-letter queue) are not managed.
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Send interruption events to the queue
  honeyhive.platform.eventbridge_rules:
    rules:
      - name: honeyhive-prod-usw2-karpenter-spot
        description: Spot interruption warnings for Karpenter
        event_pattern:
          source: [aws.ec2]
          detail-type: [EC2 Spot Instance Interruption Warning]
        targets:
          - id: KarpenterInterruptionQueue
            arn: arn:aws:sqs:us-west-2:111122223333:honeyhive-prod-usw2-karpenter
        tags: "{{ platform_tags | combine({'Name': 'honeyhive-prod-usw2-karpenter-spot'}) }}"
      - name: honeyhive-prod-usw2-karpenter-health
        description: AWS Health scheduled changes for Karpenter
        event_pattern: '{"source": ["aws.health"], "detail-type": ["AWS Health Event"]}'
        targets:
          - id: KarpenterInterruptionQueue
            arn: arn:aws:sqs:us-west-2:111122223333:honeyhive-prod-usw2-karpenter

- name: Delete them (their targets first)
  honeyhive.platform.eventbridge_rules:
    rules:
      - name: honeyhive-prod-usw2-karpenter-spot
      - name: honeyhive-prod-usw2-karpenter-health
    state: absent
"""

RETURN = r"""
rules:
  description:
    - The listed rules, in the order given. With O(state=absent) only C(name) and C(arn) (the
      ARN the rule had, null when it did not exist).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the rule.
      type: str
      sample: honeyhive-prod-usw2-karpenter-spot
    arn:
      description: ARN of the rule (null in check mode before it exists).
      type: str
      sample: arn:aws:events:us-west-2:111122223333:rule/honeyhive-prod-usw2-karpenter-spot
    description:
      description: Description of the rule.
      type: str
      sample: Spot interruption warnings for Karpenter
    event_pattern:
      description: The event pattern.
      type: dict
      sample: {source: [aws.ec2], detail-type: [EC2 Spot Instance Interruption Warning]}
    state:
      description: V(ENABLED) or V(DISABLED).
      type: str
      sample: ENABLED
    targets:
      description: Targets of the rule (when O(rules[].targets) is given).
      type: list
      elements: dict
      sample: [{id: KarpenterInterruptionQueue, arn: "arn:aws:sqs:us-west-2:111122223333:honeyhive-prod-usw2-karpenter"}]
    tags:
      description: Tags of the rule (when O(rules[].tags) is given).
      type: dict
      sample: {Name: honeyhive-prod-usw2-karpenter-spot}
  sample:
    - name: honeyhive-prod-usw2-karpenter-spot
      arn: arn:aws:events:us-west-2:111122223333:rule/honeyhive-prod-usw2-karpenter-spot
      description: Spot interruption warnings for Karpenter
      event_pattern: {source: [aws.ec2], detail-type: [EC2 Spot Instance Interruption Warning]}
      state: ENABLED
      targets: [{id: KarpenterInterruptionQueue, arn: "arn:aws:sqs:us-west-2:111122223333:honeyhive-prod-usw2-karpenter"}]
      tags: {Name: honeyhive-prod-usw2-karpenter-spot}
actions:
  description: What was changed (in check mode, what would be), one line per change.
  returned: always
  type: list
  elements: str
  sample:
    - create rule honeyhive-prod-usw2-karpenter-spot
    - add targets KarpenterInterruptionQueue to rule honeyhive-prod-usw2-karpenter-spot
    - update the event pattern of rule honeyhive-prod-usw2-karpenter-health
"""

import json
import os
import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ModuleRun
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import all_pages
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list

NAME_RE = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
NAME_ALLOWED = "Allowed: 1 to 64 characters among A-Z, a-z, 0-9, '.', '-' and '_'."
MAX_TARGETS = 5
MAX_DESCRIPTION = 512
MAX_PATTERN = 4096

# A rule made moments ago may not be visible yet to PutTargets / TagResource.
FRESH_CODES = ["ResourceNotFoundException"]


# ------------------------------------------------------------- validation


def load_pattern(option, value):
    """An event pattern option (JSON text, or a dict made JSON by the argument spec) -> dict,
    or an error message."""
    if isinstance(value, dict):
        return value, None
    try:
        pattern = json.loads(value)
    except ValueError as e:
        return None, invalid_value(option, value, "Allowed: a dict or the JSON text of an object (%s)." % e)
    if not isinstance(pattern, dict) or not pattern:
        return None, invalid_value(option, value, "Allowed: a dict or the JSON text of a non-empty object.")
    if len(json.dumps(pattern, separators=(",", ":"))) > MAX_PATTERN:
        return None, invalid_value(option, value, "Allowed: a pattern of at most %d characters of JSON." % MAX_PATTERN)
    return pattern, None


def tag_errors(option, tags):
    for key, value in tags.items():
        key = str(key)
        if not key or len(key) > 128:
            return invalid_value(option, key, "Allowed: tag keys of 1 to 128 characters.")
        if key.lower().startswith("aws:"):
            return invalid_value(option, key, "Allowed: tag keys that do not start with 'aws:' (reserved by AWS).")
        if isinstance(value, (dict, list)):
            return invalid_value(option, {key: value}, "Allowed: string values (tags are a flat key/value mapping).")
        if value is not None and len(str(value)) > 256:
            return invalid_value(option, key, "Allowed: tag values of at most 256 characters.")
    return None


def rule_errors(index, rule, present):
    """The first problem of ``rules[index]``, or None. Loads its event pattern into a dict."""
    where = "rules[%d]" % index
    if not NAME_RE.match(rule["name"] or ""):
        return invalid_value(where + ".name", rule["name"], NAME_ALLOWED)
    if not present:
        return None
    if rule["event_pattern"] is None:
        return invalid_value(where + ".event_pattern", None, "Allowed: a dict or JSON text; required with state=present.")
    rule["event_pattern"], message = load_pattern(where + ".event_pattern", rule["event_pattern"])
    if message:
        return message
    if rule["description"] is not None and len(rule["description"]) > MAX_DESCRIPTION:
        return invalid_value(where + ".description", rule["description"],
                             "Allowed: at most %d characters." % MAX_DESCRIPTION)
    targets = rule["targets"]
    if targets is not None:
        if len(targets) > MAX_TARGETS:
            return invalid_value(where + ".targets", [t["id"] for t in targets],
                                 "Allowed: at most %d targets per rule." % MAX_TARGETS)
        seen = set()
        for position, target in enumerate(targets):
            option = "%s.targets[%d]" % (where, position)
            if not NAME_RE.match(target["id"] or ""):
                return invalid_value(option + ".id", target["id"], NAME_ALLOWED)
            if target["id"] in seen:
                return invalid_value(option + ".id", target["id"], "Allowed: target ids that are unique within a rule.")
            seen.add(target["id"])
            if not (target["arn"] or "").startswith("arn:") or len(target["arn"]) > 1600:
                return invalid_value(option + ".arn", target["arn"], "Allowed: an ARN (arn:...) of at most 1600 characters.")
    if rule["tags"]:
        return tag_errors(where + ".tags", rule["tags"])
    return None


def validate(module):
    present = module.params["state"] == "present"
    rules = module.params["rules"]
    if not rules:
        module.fail_json(msg=invalid_value("rules", rules, "Allowed: a list of at least one rule."))
    seen = set()
    for index, rule in enumerate(rules):
        message = rule_errors(index, rule, present)
        if message:
            module.fail_json(msg=message)
        if rule["name"] in seen:
            module.fail_json(msg=invalid_value("rules[%d].name" % index, rule["name"], "Allowed: rule names that are listed once."))
        seen.add(rule["name"])


# ------------------------------------------------------------ comparison


def canonical(value):
    """A pattern in a form where equal meaning is equal value: lists of alternatives are
    sorted (their order does not matter to EventBridge)."""
    if isinstance(value, dict):
        return dict((k, canonical(v)) for k, v in value.items())
    if isinstance(value, list):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def patterns_differ(current, desired):
    if current is None:
        return True
    return canonical(current) != canonical(desired)


def dump_pattern(pattern):
    return json.dumps(pattern, separators=(",", ":"))


def parse_pattern(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


# ------------------------------------------------------------------- run


class Rules(ModuleRun):
    def __init__(self, module):
        super().__init__(module, "events", fresh_codes=FRESH_CODES)
        self.wanted = module.params["rules"]

    def read(self, what, method, key, **request):
        try:
            return all_pages(getattr(self.client, method), key, request)
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to read %s" % what)

    def existing(self):
        """The listed rules that exist, by name (one paginated ListRules)."""
        names = [rule["name"] for rule in self.wanted]
        request = {}
        prefix = os.path.commonprefix(names)
        if prefix:
            request["NamePrefix"] = prefix
        found = self.read("the rules of the default event bus", "list_rules", "Rules", **request)
        wanted = set(names)
        return dict((r["Name"], r) for r in found if r["Name"] in wanted)

    def targets_of(self, name):
        try:
            return all_pages(self.client.list_targets_by_rule, "Targets", dict(Rule=name))
        except is_boto3_error_code("ResourceNotFoundException"):
            return []
        except boto_errors() as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Failed to read the targets of rule %s" % name)

    def tags_of(self, name, arn):
        try:
            listed = self.client.list_tags_for_resource(ResourceARN=arn, aws_retry=True)
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to read the tags of rule %s" % name)
        return tags_to_dict(listed.get("Tags") or [])

    def check_entries(self, what, answer):
        failed = (answer or {}).get("FailedEntries") or []
        if failed:
            details = "; ".join("%s: %s" % (f.get("TargetId"), f.get("ErrorMessage") or f.get("ErrorCode")) for f in failed)
            self.module.fail_json(msg="%s: %s" % (self.failure(what), details), failed_entries=failed)

    # -- present

    def present(self):
        current = self.existing()
        before, after = {}, {}
        results = []
        for rule in self.wanted:
            name = rule["name"]
            self.subject = "rule %s" % name
            found = current.get(name)
            if found is None:
                result = self.create(rule)
            else:
                result, before[name] = self.update(rule, found)
            after[name] = dict(result)
            results.append(result)
        self.subject = None
        return results, dict(rules=before), dict(rules=after)

    def desired_targets(self, rule):
        return [dict(Id=t["id"], Arn=t["arn"]) for t in rule["targets"]]

    def create(self, rule):
        name = rule["name"]
        tags = stringify_tags(rule["tags"]) if rule["tags"] is not None else None
        result = dict(name=name, arn=None, description=rule["description"], event_pattern=rule["event_pattern"],
                      state=rule["state"])
        if rule["targets"] is not None:
            result["targets"] = [dict(id=t["id"], arn=t["arn"]) for t in rule["targets"]]
        if tags is not None:
            result["tags"] = tags
        request = dict(Name=name, EventPattern=dump_pattern(rule["event_pattern"]), State=rule["state"])
        if rule["description"] is not None:
            request["Description"] = rule["description"]
        if tags:
            request["Tags"] = tags_to_list(tags)
        if self.act("create rule %s" % name):
            result["arn"] = self.call("create", "put_rule", **request)["RuleArn"]
        if rule["targets"]:
            ids = ", ".join(t["id"] for t in rule["targets"])
            if self.act("add targets %s to rule %s" % (ids, name)):
                self.check_entries("add targets", self.call("add targets", "put_targets", Rule=name,
                                                            Targets=self.desired_targets(rule)))
        return result

    def update(self, rule, found):
        name = rule["name"]
        arn = found["Arn"]
        pattern = parse_pattern(found.get("EventPattern"))
        before = dict(name=name, arn=arn, description=found.get("Description"), event_pattern=pattern,
                      state=found.get("State"))
        after = dict(before)

        changes = []
        if rule["description"] is not None and (found.get("Description") or "") != rule["description"]:
            changes.append("description")
            after["description"] = rule["description"]
        if patterns_differ(pattern, rule["event_pattern"]):
            changes.append("event pattern")
            after["event_pattern"] = rule["event_pattern"]
        if found.get("State") != rule["state"]:
            changes.append("state (%s)" % rule["state"])
            after["state"] = rule["state"]
        if changes and self.act("update the %s of rule %s" % (", ".join(changes), name)):
            # PutRule replaces the whole rule: send every setting, the unmanaged ones as they are.
            request = dict(Name=name, EventPattern=dump_pattern(after["event_pattern"]), State=after["state"])
            if after["description"] is not None:
                request["Description"] = after["description"]
            if found.get("RoleArn"):
                request["RoleArn"] = found["RoleArn"]
            self.call("update", "put_rule", **request)

        if rule["targets"] is not None:
            current = self.targets_of(name)
            before["targets"] = [dict(id=t["Id"], arn=t["Arn"]) for t in current]
            after["targets"] = [dict(id=t["id"], arn=t["arn"]) for t in rule["targets"]]
            arns = dict((t["Id"], t["Arn"]) for t in current)
            wanted = set(t["id"] for t in rule["targets"])
            stale = [t["Id"] for t in current if t["Id"] not in wanted]
            put = [t for t in self.desired_targets(rule) if arns.get(t["Id"]) != t["Arn"]]
            if stale and self.act("remove targets %s from rule %s" % (", ".join(stale), name)):
                self.check_entries("remove targets", self.call("remove targets", "remove_targets", Rule=name, Ids=stale))
            if put and self.act("%s targets %s of rule %s" % (
                    "set" if any(t["Id"] in arns for t in put) else "add", ", ".join(t["Id"] for t in put), name)):
                self.check_entries("set targets", self.call("set targets", "put_targets", Rule=name, Targets=put))

        if rule["tags"] is not None:
            current_tags = self.tags_of(name, arn)
            before["tags"] = current_tags
            after["tags"], _changed = self.sync_tags("rule %s" % name, current_tags, stringify_tags(rule["tags"]),
                                                     "untag_resource", "tag_resource", ResourceARN=arn)
        return after, before

    # -- absent

    def absent(self):
        current = self.existing()
        before, results = {}, []
        for rule in self.wanted:
            name = rule["name"]
            found = current.get(name)
            results.append(dict(name=name, arn=found["Arn"] if found else None))
            if found is None:
                continue
            self.subject = "rule %s" % name
            before[name] = dict(name=name, arn=found["Arn"], description=found.get("Description"),
                                event_pattern=parse_pattern(found.get("EventPattern")), state=found.get("State"))
            listed = self.targets_of(name)
            before[name]["targets"] = [dict(id=t["Id"], arn=t["Arn"]) for t in listed]
            targets = [t["Id"] for t in listed]
            if targets and self.act("remove targets %s from rule %s" % (", ".join(targets), name)):
                for start in range(0, len(targets), 100):
                    self.check_entries("remove targets", self.call("remove targets", "remove_targets", Rule=name,
                                                                   Ids=targets[start:start + 100]))
            if self.act("delete rule %s" % name):
                self.call("delete", "delete_rule", Name=name)
        self.subject = None
        return results, dict(rules=before)


def main():
    target_spec = dict(
        id=dict(type="str", required=True),
        arn=dict(type="str", required=True),
    )
    rule_spec = dict(
        name=dict(type="str", required=True),
        description=dict(type="str"),
        event_pattern=dict(type="json"),
        state=dict(type="str", choices=["ENABLED", "DISABLED"], default="ENABLED"),
        targets=dict(type="list", elements="dict", options=target_spec),
        tags=dict(type="dict"),
    )
    argument_spec = dict(
        rules=dict(type="list", elements="dict", required=True, options=rule_spec),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    run = Rules(module)
    if module.params["state"] == "absent":
        results, before = run.absent()
        exit_with_diff(module, run.result(rules=results), before, dict(rules={}))
    results, before, after = run.present()
    exit_with_diff(module, run.result(rules=results), before, after)


if __name__ == "__main__":
    main()
