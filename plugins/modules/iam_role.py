#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: iam_role
short_description: Manage an IAM role with its trust policy, managed policies and inline policies in one run
version_added: 0.2.0
description:
  - Creates, updates or deletes one IAM role together with what makes it useful - its
    trust policy, description, maximum session duration, tags, the managed policies
    attached to it and its inline policies.
  - A run that changes nothing costs C(GetRole) (which returns the trust policy, the
    settings and the tags), C(ListAttachedRolePolicies) when O(managed_policy_arns) is
    given and one C(GetRolePolicy) per inline policy (plus C(ListRolePolicies) with
    O(purge_inline_policies)). Policies are compared by meaning, not by text.
  - Instance profiles are never created. O(state=absent) removes the role from its
    instance profiles (which are kept), detaches its managed policies, deletes its
    inline policies and then the role.
options:
  name:
    description: Name of the role.
    type: str
    required: true
  path:
    description: Path of a new role. The path of an existing role cannot change.
    type: str
    default: /
  description:
    description: Description of the role. When omitted it is not managed.
    type: str
  assume_role_policy_document:
    description:
      - The trust policy, as a dict or JSON text. Required when O(state=present) and the
        role does not exist.
    type: json
  max_session_duration:
    description: Maximum session duration in seconds (3600 to 43200). When omitted it is not managed.
    type: int
  managed_policy_arns:
    description:
      - ARNs of the managed policies attached to the role. When omitted they are not managed.
    type: list
    elements: str
  purge_managed_policies:
    description: Detach the managed policies that are not in O(managed_policy_arns).
    type: bool
    default: true
  inline_policies:
    description:
      - Inline policies of the role, C(name) to document (a dict or JSON text). When
        omitted they are not managed.
    type: dict
  purge_inline_policies:
    description: Delete the inline policies that are not in O(inline_policies).
    type: bool
    default: false
  state:
    description: V(present) creates or updates the role, V(absent) deletes it.
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - Supports check mode and diff mode. In check mode a role that does not exist yet has
    C(arn=null); the inline policies and attachments it would get are reported as changes.
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: ECS task execution role that reads only its secrets
  honeyhive.platform.iam_role:
    name: honeyhive-prod-usw2-twingate-execution
    description: Starts the Twingate connector tasks
    assume_role_policy_document:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: {Service: ecs-tasks.amazonaws.com}
          Action: sts:AssumeRole
    managed_policy_arns: []
    inline_policies:
      honeyhive-prod-usw2-twingate-execution:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: secretsmanager:GetSecretValue
            Resource: arn:aws:secretsmanager:us-west-2:111122223333:secret:honeyhive/*
    tags: "{{ platform_tags }}"
  register: role

- name: Delete it with its policies
  honeyhive.platform.iam_role:
    name: honeyhive-prod-usw2-twingate-execution
    state: absent
"""

RETURN = r"""
arn:
  description: ARN of the role (null in check mode before it exists, and after deletion).
  returned: always
  type: str
  sample: arn:aws:iam::111122223333:role/honeyhive-prod-usw2-twingate-execution
iam_role:
  description: The role as it is after the run.
  returned: when O(state=present)
  type: dict
  contains:
    arn:
      description: ARN of the role.
      type: str
      sample: arn:aws:iam::111122223333:role/honeyhive-prod-usw2-twingate-execution
    role_name:
      description: Name of the role.
      type: str
      sample: honeyhive-prod-usw2-twingate-execution
    role_id:
      description: Unique id of the role.
      type: str
      sample: AROA0123456789EXAMPLE
    path:
      description: Path of the role.
      type: str
      sample: /
    description:
      description: Description of the role.
      type: str
      sample: Starts the Twingate connector tasks
    max_session_duration:
      description: Maximum session duration in seconds.
      type: int
      sample: 3600
    assume_role_policy_document:
      description: The trust policy.
      type: dict
      sample: {Version: "2012-10-17", Statement: []}
    managed_policy_arns:
      description: ARNs of the attached managed policies (when O(managed_policy_arns) is given).
      type: list
      elements: str
      sample: []
    inline_policy_names:
      description: Names of the inline policies the module manages (all of them with O(purge_inline_policies)).
      type: list
      elements: str
      sample: [honeyhive-prod-usw2-twingate-execution]
    tags:
      description: Tags of the role.
      type: dict
      sample: {Name: honeyhive-prod-usw2-twingate-execution}
actions:
  description: What was changed (in check mode, what would be), one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create role honeyhive-prod-usw2-twingate-execution", "put inline policy honeyhive-prod-usw2-twingate-execution"]
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import IamRun
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import check_path
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import dump_policy
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import iam_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import load_policy
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import load_policy_option
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import policies_differ

NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
POLICY_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,512}$")


def validate(module):
    params = module.params
    if not NAME_RE.match(params["name"] or ""):
        module.fail_json(msg=invalid_value("name", params["name"], "Allowed: 1 to 64 letters, digits and + = , . @ _ -."))
    check_path(module)
    duration = params["max_session_duration"]
    if duration is not None and not 3600 <= duration <= 43200:
        module.fail_json(msg=invalid_value("max_session_duration", duration, "Allowed: 3600 to 43200 seconds."))
    for arn in params["managed_policy_arns"] or []:
        if not ARN_RE.match(arn or ""):
            module.fail_json(msg=invalid_value("managed_policy_arns", arn, "Allowed: managed policy ARNs."))
    check_tags(module)
    params["assume_role_policy_document"] = load_policy_option(
        module, params["assume_role_policy_document"], "assume_role_policy_document")
    if params["inline_policies"] is not None:
        for name, document in params["inline_policies"].items():
            if not POLICY_NAME_RE.match(str(name)):
                module.fail_json(msg=invalid_value(
                    "inline_policies", name, "Allowed: policy names of 1 to 128 characters."))
            params["inline_policies"][name] = load_policy_option(module, document, "inline_policies.%s" % name)


class Role(IamRun):
    def __init__(self, module):
        super().__init__(module, "role")

    def get(self):
        return self.read("Failed to read role %s" % self.name, "get_role", "Role", RoleName=self.name)

    def attached(self):
        arns = []
        try:
            for page in self.client.get_paginator("list_attached_role_policies").paginate(RoleName=self.name):
                arns.extend(p["PolicyArn"] for p in page.get("AttachedPolicies") or [])
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to list the managed policies of role %s" % self.name)
        return arns

    def inline_names(self):
        names = []
        try:
            for page in self.client.get_paginator("list_role_policies").paginate(RoleName=self.name):
                names.extend(page.get("PolicyNames") or [])
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to list the inline policies of role %s" % self.name)
        return names

    def inline_document(self, policy_name):
        return self.read("Failed to read inline policy %s of role %s" % (policy_name, self.name), "get_role_policy",
                         "PolicyDocument", RoleName=self.name, PolicyName=policy_name)

    # -- present

    def present(self):
        params = self.params
        role = self.get()
        created = role is None
        tags = stringify_tags(params["tags"]) if params["tags"] is not None else None
        before = view(role, None, None) if role else {}
        if created:
            if params["assume_role_policy_document"] is None:
                self.module.fail_json(msg="Option 'assume_role_policy_document' is required to create role %s." % self.name)
            request = dict(RoleName=self.name, Path=params["path"],
                           AssumeRolePolicyDocument=dump_policy(params["assume_role_policy_document"]))
            if params["description"] is not None:
                request["Description"] = params["description"]
            if params["max_session_duration"] is not None:
                request["MaxSessionDuration"] = params["max_session_duration"]
            if tags:
                request["Tags"] = tags_to_list(tags)
            if self.act("create role %s" % self.name):
                role = self.create("create_role", "Role", **request)
            else:
                role = {"RoleName": self.name, "Path": params["path"], "Arn": None, "RoleId": None,
                        "AssumeRolePolicyDocument": params["assume_role_policy_document"],
                        "Description": params["description"], "MaxSessionDuration": params["max_session_duration"] or 3600}
            role = dict(role, Tags=tags_to_list(tags or {}))
        else:
            role = self.update_settings(role)

        attached = None
        if params["managed_policy_arns"] is not None:
            attached = self.ensure_attached([] if created else self.attached())
        inline = None
        if params["inline_policies"] is not None:
            inline = self.ensure_inline(created)
        after = view(role, attached, inline)
        return after, before

    def update_settings(self, role):
        params = self.params
        trust = params["assume_role_policy_document"]
        if trust is not None and policies_differ(load_policy(role.get("AssumeRolePolicyDocument")), trust):
            if self.act("update the trust policy of role %s" % self.name):
                self.call("update the trust policy", "update_assume_role_policy",
                          RoleName=self.name, PolicyDocument=dump_policy(trust))
            role = dict(role, AssumeRolePolicyDocument=trust)
        update = {}
        if params["description"] is not None and (role.get("Description") or "") != params["description"]:
            update["Description"] = params["description"]
        if params["max_session_duration"] is not None and role.get("MaxSessionDuration") != params["max_session_duration"]:
            update["MaxSessionDuration"] = params["max_session_duration"]
        if update:
            if self.act("update %s of role %s" % (" and ".join(sorted(update)), self.name)):
                self.call("update the settings", "update_role", RoleName=self.name, **update)
            role = dict(role, **update)
        final, changed = self.ensure_tags(iam_tags(role.get("Tags")), "untag_role", "tag_role", RoleName=self.name)
        if changed:
            role = dict(role, Tags=tags_to_list(final))
        return role

    def ensure_attached(self, current):
        wanted = self.params["managed_policy_arns"]
        for arn in wanted:
            if arn not in current and self.act("attach %s to role %s" % (arn, self.name)):
                self.call("attach %s" % arn, "attach_role_policy", RoleName=self.name, PolicyArn=arn)
        result = list(wanted)
        for arn in current:
            if arn in wanted:
                continue
            if not self.params["purge_managed_policies"]:
                result.append(arn)
                continue
            if self.act("detach %s from role %s" % (arn, self.name)):
                self.remove("Failed to detach %s from role %s" % (arn, self.name), "detach_role_policy",
                            RoleName=self.name, PolicyArn=arn)
        return sorted(result)

    def ensure_inline(self, created):
        wanted = self.params["inline_policies"]
        for policy_name in sorted(wanted):
            document = wanted[policy_name]
            current = None if created else self.inline_document(policy_name)
            if current is not None and not policies_differ(load_policy(current), document):
                continue
            verb = "put" if current is None else "update"
            if self.act("%s inline policy %s of role %s" % (verb, policy_name, self.name)):
                self.call("put inline policy %s" % policy_name, "put_role_policy", RoleName=self.name,
                          PolicyName=policy_name, PolicyDocument=dump_policy(document))
        names = sorted(wanted)
        if self.params["purge_inline_policies"] and not created:
            for policy_name in self.inline_names():
                if policy_name in wanted:
                    continue
                if self.act("delete inline policy %s of role %s" % (policy_name, self.name)):
                    self.delete_inline(policy_name)
        return names

    def delete_inline(self, policy_name):
        self.remove("Failed to delete inline policy %s of role %s" % (policy_name, self.name), "delete_role_policy",
                    RoleName=self.name, PolicyName=policy_name)

    # -- absent

    def absent(self):
        role = self.get()
        if role is None:
            return {}
        before = view(role, None, None)
        if not self.act("delete role %s" % self.name):
            return before
        try:
            profiles = []
            for page in self.client.get_paginator("list_instance_profiles_for_role").paginate(RoleName=self.name):
                profiles.extend(p["InstanceProfileName"] for p in page.get("InstanceProfiles") or [])
            for profile in profiles:
                self.client.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=self.name, aws_retry=True)
            for arn in self.attached():
                self.client.detach_role_policy(RoleName=self.name, PolicyArn=arn, aws_retry=True)
            for policy_name in self.inline_names():
                self.delete_inline(policy_name)
            self.client.delete_role(RoleName=self.name, aws_retry=True)
        except is_boto3_error_code("NoSuchEntity"):
            pass  # deleted meanwhile
        except boto_errors() as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Failed to delete role %s" % self.name)
        return before


def view(role, attached, inline):
    if not role:
        return {}
    result = dict(
        arn=role.get("Arn"),
        role_name=role.get("RoleName"),
        role_id=role.get("RoleId"),
        path=role.get("Path"),
        description=role.get("Description"),
        max_session_duration=role.get("MaxSessionDuration"),
        assume_role_policy_document=load_policy(role.get("AssumeRolePolicyDocument")),
        tags=iam_tags(role.get("Tags")),
    )
    if attached is not None:
        result["managed_policy_arns"] = attached
    if inline is not None:
        result["inline_policy_names"] = inline
    return result


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        path=dict(type="str", default="/"),
        description=dict(type="str"),
        assume_role_policy_document=dict(type="json"),
        max_session_duration=dict(type="int"),
        managed_policy_arns=dict(type="list", elements="str"),
        purge_managed_policies=dict(type="bool", default=True),
        inline_policies=dict(type="dict"),
        purge_inline_policies=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    role = Role(module)
    if module.params["state"] == "absent":
        before = role.absent()
        exit_with_diff(module, role.result(arn=None), before, {})
    after, before = role.present()
    exit_with_diff(module, role.result(arn=after.get("arn"), iam_role=after), before, after)


if __name__ == "__main__":
    main()
