#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kms_key
short_description: Manage a customer-managed KMS key found by its alias, with its policy, rotation, tags and aliases
version_added: 0.2.0
description:
  - Creates or updates one symmetric or asymmetric customer-managed KMS key, identified by
    its alias O(alias), together with its key policy, automatic rotation, tags, state
    (enabled, or pending deletion, which is cancelled) and further aliases.
  - Reads the key once - C(DescribeKey) by alias, then C(GetKeyRotationStatus),
    C(GetKeyPolicy) and C(ListResourceTags) for what is managed, and C(ListAliases) of the
    key when O(extra_aliases) is given. Policies are compared by meaning, not by text. A
    run that changes nothing costs four or five calls.
  - O(state=absent) schedules the deletion of the key after O(pending_window) days and
    deletes its aliases.
  - >-
    KMS has no client token for C(CreateKey), and the alias can only be created after the
    key. So that a run stopped between the two does not make a second key, a key that is
    not found by its alias is looked for among the account's keys without any alias
    (C(ListAliases), C(ListKeys), then C(ListResourceTags) of each key without an alias):
    an enabled or disabled key whose tags include every one of O(tags) (given with
    C(CreateKey), so present from its first moment) is adopted - it gets the alias and the
    rest of the settings - instead of creating another. With several such keys the oldest
    is adopted and a warning names the others. This search runs only when the alias is not
    found, never on a run that finds the key, and not when O(tags) is empty.
options:
  alias:
    description:
      - The alias that identifies the key, with or without the C(alias/) prefix.
    type: str
    required: true
  extra_aliases:
    description:
      - Further aliases of the key (with or without C(alias/)), created when missing (an
        alias that names another key is moved to this one). When omitted they are not managed.
    type: list
    elements: str
  purge_aliases:
    description:
      - With O(extra_aliases), also delete the aliases of the key that are not listed
        (O(alias) excepted).
    type: bool
    default: false
  description:
    description: Description of the key. When omitted it is not managed.
    type: str
  key_spec:
    description: Key spec of a new key. The spec of an existing key cannot change.
    type: str
    default: SYMMETRIC_DEFAULT
    choices: [SYMMETRIC_DEFAULT, RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1]
  key_usage:
    description: Usage of a new key. The usage of an existing key cannot change.
    type: str
    default: ENCRYPT_DECRYPT
    choices: [ENCRYPT_DECRYPT, SIGN_VERIFY]
  enable_key_rotation:
    description: Automatic yearly rotation of the key material. When omitted it is not managed.
    type: bool
  policy:
    description: The key policy, as a dict or JSON text. When omitted it is not managed (AWS's default policy for a new key).
    type: json
  enabled:
    description: Whether the key is enabled.
    type: bool
    default: true
  pending_window:
    description: Days (7 to 30) before a key scheduled for deletion with O(state=absent) is deleted.
    type: int
    default: 30
  state:
    description:
      - V(present) creates or updates the key (a key pending deletion is brought back),
        V(absent) schedules its deletion.
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - Supports check mode and diff mode. In check mode a key that does not exist yet has C(key_arn=null).
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The platform key
  honeyhive.platform.kms_key:
    alias: alias/honeyhive-prod-usw2-platform
    description: HoneyHive platform key
    enable_key_rotation: true
    policy: "{{ key_policy }}"
    tags: "{{ platform_tags }}"
  register: platform_key

- name: Schedule its deletion in 30 days
  honeyhive.platform.kms_key:
    alias: honeyhive-prod-usw2-platform
    pending_window: 30
    state: absent
"""

RETURN = r"""
key_arn:
  description: ARN of the key (null in check mode before it exists).
  returned: always
  type: str
  sample: arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
key_id:
  description: Id of the key (null in check mode before it exists).
  returned: always
  type: str
  sample: 1234abcd-12ab-34cd-56ef-1234567890ab
key_state:
  description: State of the key.
  returned: when O(state=present)
  type: str
  sample: Enabled
description:
  description: Description of the key.
  returned: when O(state=present)
  type: str
  sample: HoneyHive platform key
aliases:
  description: Aliases of the key, without the C(alias/) prefix (O(alias) first).
  returned: when O(state=present)
  type: list
  elements: str
  sample: [honeyhive-prod-usw2-platform]
enable_key_rotation:
  description: Whether automatic rotation is on (when O(enable_key_rotation) is given).
  returned: when O(state=present)
  type: bool
  sample: true
key_policy:
  description: The key policy (when O(policy) is given).
  returned: when O(state=present)
  type: dict
  sample: {Version: "2012-10-17", Statement: []}
tags:
  description: Tags of the key (when O(tags) is given).
  returned: when O(state=present)
  type: dict
  sample: {Name: honeyhive-prod-usw2-platform}
actions:
  description: What was changed (in check mode, what would be), one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create the key", "create alias honeyhive-prod-usw2-platform", "enable key rotation"]
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ModuleRun
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import dump_policy
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import load_policy_option
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import policies_differ

# A key made moments ago may not be visible yet to the next call.
FRESH_CODES = ["NotFoundException"]


def alias_name(alias):
    """``alias/x`` or ``x`` -> ``x``."""
    return alias[len("alias/"):] if alias.startswith("alias/") else alias


def validate(module):
    params = module.params
    names = [params["alias"]] + list(params["extra_aliases"] or [])
    for option, name in zip(["alias"] + ["extra_aliases"] * (len(names) - 1), names):
        bare = alias_name(name or "")
        if not bare or len(bare) > 250 or bare.startswith("aws/"):
            module.fail_json(msg=invalid_value(option, name, "Allowed: an alias name of 1 to 250 characters, not under aws/."))
    if not 7 <= params["pending_window"] <= 30:
        module.fail_json(msg=invalid_value("pending_window", params["pending_window"], "Allowed: 7 to 30 days."))
    check_tags(module)
    params["policy"] = load_policy_option(module, params["policy"], "policy")


class Key(ModuleRun):
    def __init__(self, module):
        super().__init__(module, "kms", fresh_codes=FRESH_CODES)
        self.alias = alias_name(module.params["alias"])
        self.subject = "key alias/%s" % self.alias

    def describe(self):
        try:
            return self.client.describe_key(KeyId="alias/" + self.alias, aws_retry=True)["KeyMetadata"]
        except is_boto3_error_code("NotFoundException"):
            return None
        except boto_errors() as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Failed to describe key alias/%s" % self.alias)

    def read(self, what, method, **request):
        try:
            return getattr(self.client, method)(aws_retry=True, **request)
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to read the %s of key alias/%s" % (what, self.alias))

    def read_all(self, what, method, key, **request):
        """Every item under ``key`` of all the pages (``Truncated`` / ``NextMarker``)."""
        items = []
        while True:
            page = self.read(what, method, **request)
            items.extend(page.get(key) or [])
            if not page.get("Truncated"):
                return items
            request["Marker"] = page["NextMarker"]

    def key_aliases(self, key_id):
        return [alias_name(a["AliasName"]) for a in self.read_all("aliases", "list_aliases", "Aliases", KeyId=key_id)]

    def key_tags(self, key_id):
        return tags_to_dict(self.read_all("tags", "list_resource_tags", "Tags", KeyId=key_id), "TagKey", "TagValue")

    # -- present

    def present(self):
        params = self.params
        tags = stringify_tags(params["tags"]) if params["tags"] is not None else None
        key = self.describe()
        adopted = False
        if key is None:
            key = self.orphan(tags)
            if key is None:
                return self.create(tags), {}
            adopted = True
        key_id = key["KeyId"]
        before = dict(key_arn=key["Arn"], key_id=key_id, key_state=key.get("KeyState"), description=key.get("Description"))
        after = dict(before)
        if key.get("KeySpec", params["key_spec"]) != params["key_spec"] or key.get("KeyUsage", params["key_usage"]) != params["key_usage"]:
            self.module.warn("Key alias/%s is %s for %s, not %s for %s; a key's spec and usage cannot change."
                             % (self.alias, key.get("KeySpec"), key.get("KeyUsage"), params["key_spec"], params["key_usage"]))

        state = key.get("KeyState")
        if state == "PendingDeletion":
            if self.act("cancel the scheduled deletion of the key"):
                self.call("cancel the deletion", "cancel_key_deletion", KeyId=key_id)
            state = "Disabled"  # a cancelled deletion leaves the key disabled
        if params["enabled"] and state == "Disabled":
            if self.act("enable the key"):
                self.call("enable", "enable_key", KeyId=key_id)
            state = "Enabled"
        elif not params["enabled"] and state == "Enabled":
            if self.act("disable the key"):
                self.call("disable", "disable_key", KeyId=key_id)
            state = "Disabled"
        after["key_state"] = state

        if params["description"] is not None and (key.get("Description") or "") != params["description"]:
            if self.act("update the description of the key"):
                self.call("update the description", "update_key_description", KeyId=key_id, Description=params["description"])
            after["description"] = params["description"]

        if params["policy"] is not None:
            current = self.read("policy", "get_key_policy", KeyId=key_id, PolicyName="default").get("Policy")
            current = json.loads(current) if current else None
            before["key_policy"] = current
            if policies_differ(current, params["policy"]):
                if self.act("update the key policy"):
                    self.call("update the policy", "put_key_policy", KeyId=key_id, PolicyName="default",
                              Policy=dump_policy(params["policy"]))
            after["key_policy"] = params["policy"]

        if params["enable_key_rotation"] is not None:
            try:
                rotation = self.client.get_key_rotation_status(KeyId=key_id, aws_retry=True).get("KeyRotationEnabled")
            except is_boto3_error_code("UnsupportedOperationException"):
                rotation = None  # asymmetric keys do not rotate
            except boto_errors() as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg="Failed to read the rotation of key alias/%s" % self.alias)
            before["enable_key_rotation"] = rotation
            if rotation is not None and rotation != params["enable_key_rotation"]:
                verb = "enable" if params["enable_key_rotation"] else "disable"
                if self.act("%s key rotation" % verb):
                    self.call("%s rotation" % verb, "%s_key_rotation" % verb, KeyId=key_id)
                rotation = params["enable_key_rotation"]
            after["enable_key_rotation"] = rotation

        if tags is not None:
            current_tags = self.key_tags(key_id)
            before["tags"] = current_tags
            after["tags"], _changed = self.sync_tags("the key", current_tags, tags, "untag_resource", "tag_resource",
                                                     "TagKey", "TagValue", KeyId=key_id)

        after["aliases"] = self.ensure_aliases(key_id, adopted=adopted)
        if adopted:
            before["aliases"] = []
        return after, before

    def orphan(self, tags):
        """The key a stopped run created without its alias (see the description), or None."""
        if not tags:
            return None
        aliases = self.read_all("aliases", "list_aliases", "Aliases")
        aliased = set(a["TargetKeyId"] for a in aliases if a.get("TargetKeyId"))
        candidates = [k["KeyId"] for k in self.read_all("keys", "list_keys", "Keys") if k["KeyId"] not in aliased]
        found = []
        for key_id in candidates:
            try:
                listed = self.client.list_resource_tags(KeyId=key_id, Limit=50, aws_retry=True)
            except is_boto3_error_code(["AccessDeniedException", "NotFoundException", "KMSInvalidStateException"]):
                continue  # a key this role may not read is not one it created
            except boto_errors() as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg="Failed to read the tags of key %s" % key_id)
            current = tags_to_dict(listed.get("Tags") or [], "TagKey", "TagValue")
            if any(current.get(k) != v for k, v in tags.items()):
                continue
            key = self.read("metadata", "describe_key", KeyId=key_id)["KeyMetadata"]
            if key.get("KeyManager", "CUSTOMER") == "CUSTOMER" and key.get("KeyState") in ("Enabled", "Disabled"):
                found.append(key)
        if not found:
            return None
        found.sort(key=lambda k: (str(k.get("CreationDate") or ""), k["KeyId"]))
        if len(found) > 1:
            self.module.warn("Keys %s also carry the tags of alias/%s and have no alias; key %s, the oldest, gets the alias."
                             % (", ".join(k["KeyId"] for k in found[1:]), self.alias, found[0]["KeyId"]))
        return found[0]

    def ensure_aliases(self, key_id, created=False, adopted=False):
        """O(alias) on a new or adopted key, and O(extra_aliases) when given. A key found
        by its alias has that alias already."""
        extra = self.params["extra_aliases"]
        wanted = [self.alias] + [alias_name(a) for a in extra or [] if alias_name(a) != self.alias]
        if extra is None and not created and not adopted:
            return wanted
        current = self.key_aliases(key_id) if key_id and not created else []
        for name in wanted:
            if name in current:
                continue
            if self.act("create alias %s" % name):
                try:
                    self.fresh(self.client.create_alias)(AliasName="alias/" + name, TargetKeyId=key_id)
                except is_boto3_error_code("AlreadyExistsException"):
                    # The alias names another key: point it at this one.
                    self.call("move alias %s" % name, "update_alias", AliasName="alias/" + name, TargetKeyId=key_id)
                except boto_errors() as e:  # pylint: disable=duplicate-except
                    self.module.fail_json_aws(e, msg="Failed to create alias %s" % name)
        for name in current if extra is not None and self.params["purge_aliases"] else []:
            if name not in wanted and self.act("delete alias %s" % name):
                self.call("delete alias %s" % name, "delete_alias", AliasName="alias/" + name)
        return wanted

    def create(self, tags):
        params = self.params
        request = dict(KeyUsage=params["key_usage"], KeySpec=params["key_spec"])
        if params["description"] is not None:
            request["Description"] = params["description"]
        if params["policy"] is not None:
            request["Policy"] = dump_policy(params["policy"])
        if tags:
            request["Tags"] = tags_to_list(tags, "TagKey", "TagValue")
        after = dict(key_arn=None, key_id=None, key_state="Enabled" if params["enabled"] else "Disabled",
                     description=params["description"])
        if params["policy"] is not None:
            after["key_policy"] = params["policy"]
        if tags is not None:
            after["tags"] = tags
        if not self.act("create the key"):
            if params["enable_key_rotation"]:
                self.act("enable key rotation")
            after["enable_key_rotation"] = params["enable_key_rotation"]
            after["aliases"] = self.ensure_aliases(None, created=True)
            return after
        key = self.call("create", "create_key", **request)["KeyMetadata"]
        key_id = after["key_id"] = key["KeyId"]
        after["key_arn"] = key["Arn"]
        after["aliases"] = self.ensure_aliases(key_id, created=True)
        if params["enable_key_rotation"] and params["key_spec"] == "SYMMETRIC_DEFAULT":
            self.act("enable key rotation")
            self.call("enable rotation", "enable_key_rotation", KeyId=key_id)
        after["enable_key_rotation"] = params["enable_key_rotation"]
        if not params["enabled"]:
            self.act("disable the key")
            self.call("disable", "disable_key", KeyId=key_id)
        return after

    # -- absent

    def absent(self):
        key = self.describe()
        if key is None or key.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
            return {}, dict(key_arn=key and key["Arn"], key_id=key and key["KeyId"])
        before = dict(key_arn=key["Arn"], key_id=key["KeyId"], key_state=key.get("KeyState"))
        if self.act("schedule the deletion of the key in %d days" % self.params["pending_window"]):
            for name in self.key_aliases(key["KeyId"]):
                self.call("delete alias %s" % name, "delete_alias", AliasName="alias/" + name)
            self.call("schedule the deletion", "schedule_key_deletion", KeyId=key["KeyId"],
                      PendingWindowInDays=self.params["pending_window"])
        return before, dict(key_arn=key["Arn"], key_id=key["KeyId"])


def main():
    argument_spec = dict(
        alias=dict(type="str", required=True),
        extra_aliases=dict(type="list", elements="str"),
        purge_aliases=dict(type="bool", default=False),
        description=dict(type="str"),
        key_spec=dict(type="str", default="SYMMETRIC_DEFAULT", choices=[
            "SYMMETRIC_DEFAULT", "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384",
            "ECC_NIST_P521", "ECC_SECG_P256K1"]),
        key_usage=dict(type="str", default="ENCRYPT_DECRYPT", choices=["ENCRYPT_DECRYPT", "SIGN_VERIFY"]),
        enable_key_rotation=dict(type="bool"),
        policy=dict(type="json"),
        enabled=dict(type="bool", default=True),
        pending_window=dict(type="int", default=30),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    key = Key(module)
    if module.params["state"] == "absent":
        before, ids = key.absent()
        exit_with_diff(module, key.result(**ids), before, {})
    after, before = key.present()
    exit_with_diff(module, key.result(**after), before, after)


if __name__ == "__main__":
    main()
