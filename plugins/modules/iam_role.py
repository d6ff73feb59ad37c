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
    trust policy, description, maximum session duration, permissions boundary, tags, the
    managed policies attached to it and its inline policies.
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
  permissions_boundary:
    description:
      - ARN of the managed policy that bounds the role's permissions (its permissions boundary).
        A new role is created with it; an existing role gets it with C(PutRolePermissionsBoundary)
        before any of its policies is put or attached, so a principal that may only grant to roles
        carrying that boundary (the C(iam:PermissionsBoundary) condition) can converge the role.
      - When omitted the boundary is not managed. The module never removes a boundary.
    type: str
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

- name: A role the deployment role may create only with the platform's permissions boundary
  honeyhive.platform.iam_role:
    name: honeyhive-prod-usw2-vpc-flow-logs
    assume_role_policy_document: "{{ flow_log_trust }}"
    inline_policies:
      honeyhive-prod-usw2-vpc-flow-logs-delivery: "{{ flow_log_delivery_policy }}"
    permissions_boundary: "{{ foundation_outputs.permissions_boundary_arn }}"

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
    permissions_boundary:
      description: ARN of the role's permissions boundary (null when it has none).
      type: str
      sample: arn:aws:iam::111122223333:policy/honeyhive-permissions-boundary-prod-us-west-2
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
  sample: ["create role honeyhive-prod-usw2-twingate-execution", "put inline policy honeyhive-prod-usw2-twingate-execution",
           "set the permissions boundary of role x to arn:aws:iam::111122223333:policy/y"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import ROLE_OPTIONS
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import RoleRun
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import check_role


def main():
    argument_spec = dict(ROLE_OPTIONS)
    argument_spec.update(
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    check_role(module, module.params)
    role = RoleRun(module)
    if module.params["state"] == "absent":
        before = role.absent()
        exit_with_diff(module, role.result(arn=None), before, {})
    after, before = role.present()
    exit_with_diff(module, role.result(arn=after.get("arn"), iam_role=after), before, after)


if __name__ == "__main__":
    main()
