#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: iam_managed_policy
short_description: Manage a customer-managed IAM policy, read by its ARN
version_added: 0.2.0
description:
  - Creates, updates or deletes one customer-managed IAM policy of the account.
  - The policy is read by its ARN (C(GetPolicy) and C(GetPolicyVersion) of the default
    version, plus C(ListPolicyVersions) with O(only_version)), never by listing every
    policy of the account. The ARN is built from O(name), O(path) and O(account_id);
    without O(account_id) one C(GetCallerIdentity) call finds the account.
  - A new document becomes a new default version; the oldest non-default version is
    deleted first when the account's limit of versions is reached. Documents are
    compared by meaning, not by text.
  - The description of an existing policy cannot change (AWS has no API for it); a
    different one gives a warning.
  - O(state=absent) detaches the policy from every role, user and group, deletes its
    non-default versions and then the policy.
options:
  name:
    description: Name of the policy.
    type: str
    required: true
  path:
    description: Path of the policy.
    type: str
    default: /
  account_id:
    description: The AWS account the policy belongs to (12 digits). Saves one STS call.
    type: str
  description:
    description: Description of a new policy.
    type: str
  policy:
    description: The policy document, as a dict or JSON text. Required when O(state=present).
    type: json
  only_version:
    description: Delete every version but the default one.
    type: bool
    default: false
  state:
    description: V(present) creates or updates the policy, V(absent) deletes it.
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - Supports check mode and diff mode.
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Policy that reads the platform secrets
  honeyhive.platform.iam_managed_policy:
    name: honeyhive-prod-usw2-secrets-read
    account_id: "111122223333"
    description: Read the platform secrets
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: secretsmanager:GetSecretValue
          Resource: arn:aws:secretsmanager:us-west-2:111122223333:secret:honeyhive/prod/us-west-2/*
    only_version: true
    tags: "{{ platform_tags }}"
  register: secrets_read

- name: Delete it
  honeyhive.platform.iam_managed_policy:
    name: honeyhive-prod-usw2-secrets-read
    account_id: "111122223333"
    state: absent
"""

RETURN = r"""
policy:
  description: The policy as it is after the run (C(arn) is known in check mode too).
  returned: when O(state=present)
  type: dict
  contains:
    arn:
      description: ARN of the policy.
      type: str
      sample: arn:aws:iam::111122223333:policy/honeyhive-prod-usw2-secrets-read
    policy_name:
      description: Name of the policy.
      type: str
      sample: honeyhive-prod-usw2-secrets-read
    policy_id:
      description: Unique id of the policy (null in check mode before it exists).
      type: str
      sample: ANPA0123456789EXAMPLE
    path:
      description: Path of the policy.
      type: str
      sample: /
    description:
      description: Description of the policy.
      type: str
      sample: Read the platform secrets
    default_version_id:
      description: The default version.
      type: str
      sample: v1
    document:
      description: The document of the default version.
      type: dict
      sample: {Version: "2012-10-17", Statement: []}
    tags:
      description: Tags of the policy.
      type: dict
      sample: {Name: honeyhive-prod-usw2-secrets-read}
arn:
  description: ARN of the policy.
  returned: always
  type: str
  sample: arn:aws:iam::111122223333:policy/honeyhive-prod-usw2-secrets-read
actions:
  description: What was changed (in check mode, what would be), one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create policy honeyhive-prod-usw2-secrets-read"]
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import IamRun
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import check_path
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import dump_policy
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import iam_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import load_policy
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import load_policy_option
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import policies_differ

NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
ACCOUNT_RE = re.compile(r"^\d{12}$")


def validate(module):
    params = module.params
    if not NAME_RE.match(params["name"] or ""):
        module.fail_json(msg=invalid_value("name", params["name"], "Allowed: 1 to 128 letters, digits and + = , . @ _ -."))
    check_path(module)
    if params["account_id"] is not None and not ACCOUNT_RE.match(params["account_id"]):
        module.fail_json(msg=invalid_value("account_id", params["account_id"], "Allowed: a 12-digit AWS account id."))
    if params["state"] == "present" and params["policy"] is None:
        module.fail_json(msg="Option 'policy' is required when state is 'present'.")
    check_tags(module)
    params["policy"] = load_policy_option(module, params["policy"], "policy")


class Policy(IamRun):
    def __init__(self, module):
        super().__init__(module, "policy")
        self.arn = self.policy_arn()

    def policy_arn(self):
        account = self.params["account_id"]
        partition = "aws"
        if account is None:
            try:
                caller = retrying_client(self.module, "sts").get_caller_identity(aws_retry=True)
            except boto_errors() as e:
                self.module.fail_json_aws(e, msg="Failed to find the account (set account_id to skip this call)")
            account = caller["Account"]
            partition = caller["Arn"].split(":")[1]
        else:
            region = self.module.region or ""
            partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
        return "arn:%s:iam::%s:policy%s%s" % (partition, account, self.params["path"], self.name)

    def get(self):
        return self.read("Failed to read policy %s" % self.arn, "get_policy", "Policy", PolicyArn=self.arn)

    def document(self, version_id):
        try:
            return self.client.get_policy_version(PolicyArn=self.arn, VersionId=version_id, aws_retry=True)["PolicyVersion"]["Document"]
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to read version %s of policy %s" % (version_id, self.arn))

    def versions(self):
        try:
            return self.client.list_policy_versions(PolicyArn=self.arn, aws_retry=True)["Versions"]
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to list the versions of policy %s" % self.arn)

    def present(self):
        params = self.params
        tags = stringify_tags(params["tags"]) if params["tags"] is not None else None
        policy = self.get()
        if policy is None:
            request = dict(PolicyName=self.name, Path=params["path"], PolicyDocument=dump_policy(params["policy"]))
            if params["description"]:
                request["Description"] = params["description"]
            if tags:
                request["Tags"] = tags_to_list(tags)
            if self.act("create policy %s" % self.name):
                policy = self.create("create_policy", "Policy", **request)
            else:
                policy = {"Arn": self.arn, "PolicyName": self.name, "Path": params["path"],
                          "Description": params["description"], "DefaultVersionId": None}
            policy = dict(policy, Tags=tags_to_list(tags or {}))
            return view(policy, params["policy"]), {}

        current = load_policy(self.document(policy["DefaultVersionId"]))
        before = view(policy, current)
        if params["description"] is not None and (policy.get("Description") or "") != params["description"]:
            self.module.warn("The description of policy %s is %r, not %r. AWS cannot change a policy's description."
                             % (self.name, policy.get("Description"), params["description"]))
        if policies_differ(current, params["policy"]):
            if self.act("set a new default version of policy %s" % self.name):
                policy = dict(policy, DefaultVersionId=self.new_version())
            current = params["policy"]
        if params["only_version"]:
            for version in self.versions():
                if version["IsDefaultVersion"] or version["VersionId"] == policy["DefaultVersionId"]:
                    continue
                if self.act("delete version %s of policy %s" % (version["VersionId"], self.name)):
                    self.delete_version(version["VersionId"])
        final, _changed = self.ensure_tags(iam_tags(policy.get("Tags")), "untag_policy", "tag_policy",
                                           PolicyArn=self.arn)
        return view(dict(policy, Tags=tags_to_list(final)), current), before

    def new_version(self):
        document = dump_policy(self.params["policy"])
        try:
            return self.client.create_policy_version(
                PolicyArn=self.arn, PolicyDocument=document, SetAsDefault=True, aws_retry=True)["PolicyVersion"]["VersionId"]
        except is_boto3_error_code("LimitExceeded"):
            oldest = sorted((v for v in self.versions() if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
            if oldest:
                self.delete_version(oldest[0]["VersionId"])
            return self.call("create a version", "create_policy_version", PolicyArn=self.arn,
                             PolicyDocument=document, SetAsDefault=True)["PolicyVersion"]["VersionId"]
        except boto_errors() as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Failed to create a version of policy %s" % self.name)

    def delete_version(self, version_id):
        self.remove("Failed to delete version %s of policy %s" % (version_id, self.name), "delete_policy_version",
                    PolicyArn=self.arn, VersionId=version_id)

    def absent(self):
        policy = self.get()
        if policy is None:
            return {}
        before = view(policy, None)
        if not self.act("delete policy %s" % self.name):
            return before
        try:
            for page in self.client.get_paginator("list_entities_for_policy").paginate(PolicyArn=self.arn):
                for role in page.get("PolicyRoles") or []:
                    self.client.detach_role_policy(RoleName=role["RoleName"], PolicyArn=self.arn, aws_retry=True)
                for user in page.get("PolicyUsers") or []:
                    self.client.detach_user_policy(UserName=user["UserName"], PolicyArn=self.arn, aws_retry=True)
                for group in page.get("PolicyGroups") or []:
                    self.client.detach_group_policy(GroupName=group["GroupName"], PolicyArn=self.arn, aws_retry=True)
            for version in self.versions():
                if not version["IsDefaultVersion"]:
                    self.delete_version(version["VersionId"])
            self.client.delete_policy(PolicyArn=self.arn, aws_retry=True)
        except is_boto3_error_code("NoSuchEntity"):
            pass  # deleted meanwhile
        except boto_errors() as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Failed to delete policy %s" % self.name)
        return before


def view(policy, document):
    if not policy:
        return {}
    result = dict(
        arn=policy.get("Arn"),
        policy_name=policy.get("PolicyName"),
        policy_id=policy.get("PolicyId"),
        path=policy.get("Path"),
        description=policy.get("Description"),
        default_version_id=policy.get("DefaultVersionId"),
        tags=iam_tags(policy.get("Tags")),
    )
    if document is not None:
        result["document"] = document
    return result


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        path=dict(type="str", default="/"),
        account_id=dict(type="str"),
        description=dict(type="str"),
        policy=dict(type="json"),
        only_version=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    policy = Policy(module)
    if module.params["state"] == "absent":
        before = policy.absent()
        exit_with_diff(module, policy.result(arn=policy.arn), before, {})
    after, before = policy.present()
    exit_with_diff(module, policy.result(arn=policy.arn, policy=after), before, after)


if __name__ == "__main__":
    main()
