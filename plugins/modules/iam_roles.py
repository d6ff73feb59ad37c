#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: iam_roles
short_description: Manage several IAM roles, each with its policies, reading them all in two calls
version_added: 0.2.0
description:
  - Creates, updates or deletes a list of IAM roles, each together with its trust policy,
    description, maximum session duration, tags, attached managed policies and inline
    policies - what M(honeyhive.platform.iam_role) does for one role, for all the roles
    a role of the platform owns (the controllers of the EKS add-ons, the Twingate tasks),
    each with its permissions boundary.
  - The roles are read once, whatever their number - C(GetAccountAuthorizationDetails)
    (trust policies, tags, managed and inline policies) and C(ListRoles) (descriptions
    and maximum session durations), both paged over every role of the account - and only
    a real difference leads to a call that changes something. A run that changes nothing
    makes those two calls (more pages in an account with more than 100 roles), where
    M(honeyhive.platform.iam_role) makes three or more per role. In an account with
    thousands of roles, M(honeyhive.platform.iam_role) per role reads less.
  - The roles are converged in the order of the list. Policies are compared by meaning,
    not by text. Instance profiles are never created. O(state=absent) removes each role
    from its instance profiles (which are kept), detaches its managed policies, deletes
    its inline policies and then the role.
options:
  roles:
    description: The roles, each with the options of M(honeyhive.platform.iam_role).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the role.
        type: str
        required: true
      path:
        description: As O(honeyhive.platform.iam_role#module:path).
        type: str
        default: /
      description:
        description: As O(honeyhive.platform.iam_role#module:description).
        type: str
      assume_role_policy_document:
        description: As O(honeyhive.platform.iam_role#module:assume_role_policy_document).
        type: json
      max_session_duration:
        description: As O(honeyhive.platform.iam_role#module:max_session_duration).
        type: int
      managed_policy_arns:
        description: As O(honeyhive.platform.iam_role#module:managed_policy_arns).
        type: list
        elements: str
      purge_managed_policies:
        description: As O(honeyhive.platform.iam_role#module:purge_managed_policies).
        type: bool
        default: true
      inline_policies:
        description: As O(honeyhive.platform.iam_role#module:inline_policies).
        type: dict
      purge_inline_policies:
        description: As O(honeyhive.platform.iam_role#module:purge_inline_policies).
        type: bool
        default: false
      permissions_boundary:
        description:
          - As O(honeyhive.platform.iam_role#module:permissions_boundary) - the role is created with
            it, and an existing role gets it before any of its policies is put or attached.
        type: str
      tags:
        description: Tags of the role. When omitted they are not managed.
        type: dict
        aliases: [resource_tags]
  purge_tags:
    description: Remove the tags of a role that are not in its O(roles[].tags).
    type: bool
    default: true
  state:
    description: V(present) creates or updates every role, V(absent) deletes them.
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - Supports check mode and diff mode. In check mode a role that does not exist yet has
    C(arn=null); the inline policies and attachments it would get are reported as changes.
  - A role whose trust policy names another role of the same list must come after it; AWS
    may take a few seconds before a new role can be named as a principal, so such pairs are
    better kept in two tasks.
  - Needs C(iam:GetAccountAuthorizationDetails) and C(iam:ListRoles) besides the calls that
    change roles.
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The roles of two controllers, trusted through IRSA
  honeyhive.platform.iam_roles:
    roles:
      - name: honeyhive-prod-usw2-external-secrets
        description: External Secrets of the prod cluster
        assume_role_policy_document: "{{ external_secrets_trust }}"
        managed_policy_arns: ["arn:aws:iam::111122223333:policy/honeyhive-prod-usw2-secrets-read"]
        permissions_boundary: "{{ foundation_outputs.permissions_boundary_arn }}"
        tags: "{{ platform_tags | combine({'Name': 'honeyhive-prod-usw2-external-secrets'}) }}"
      - name: honeyhive-prod-usw2-aws-load-balancer-controller
        description: AWS Load Balancer Controller of the prod cluster
        assume_role_policy_document: "{{ load_balancer_controller_trust }}"
        managed_policy_arns: []
        inline_policies:
          honeyhive-prod-usw2-aws-load-balancer-controller: "{{ load_balancer_controller_policy }}"
        permissions_boundary: "{{ foundation_outputs.permissions_boundary_arn }}"
        tags: "{{ platform_tags | combine({'Name': 'honeyhive-prod-usw2-aws-load-balancer-controller'}) }}"
  register: controller_roles

- name: Use an ARN
  ansible.builtin.debug:
    msg: "{{ controller_roles.arns['honeyhive-prod-usw2-external-secrets'] }}"

- name: Delete them with their policies
  honeyhive.platform.iam_roles:
    roles:
      - name: honeyhive-prod-usw2-external-secrets
      - name: honeyhive-prod-usw2-aws-load-balancer-controller
    state: absent
"""

RETURN = r"""
arns:
  description:
    - ARN of each role by name (null in check mode before the role exists, and after deletion).
  returned: always
  type: dict
  sample: {honeyhive-prod-usw2-external-secrets: "arn:aws:iam::111122223333:role/honeyhive-prod-usw2-external-secrets"}
roles:
  description:
    - Each role as it is after the run, in the order of O(roles), as
      M(honeyhive.platform.iam_role) returns it in C(iam_role).
  returned: when O(state=present)
  type: list
  elements: dict
  sample:
    - arn: arn:aws:iam::111122223333:role/honeyhive-prod-usw2-external-secrets
      role_name: honeyhive-prod-usw2-external-secrets
      role_id: AROA0123456789EXAMPLE
      path: /
      description: External Secrets of the prod cluster
      max_session_duration: 3600
      assume_role_policy_document: {Version: "2012-10-17", Statement: []}
      permissions_boundary: arn:aws:iam::111122223333:policy/honeyhive-permissions-boundary-prod-us-west-2
      managed_policy_arns: []
      inline_policy_names: []
      tags: {Name: honeyhive-prod-usw2-external-secrets}
actions:
  description: What was changed (in check mode, what would be), one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create role honeyhive-prod-usw2-external-secrets", "attach arn:aws:iam::111122223333:policy/x to role y"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import ROLE_OPTIONS
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import RoleRun
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import check_role
from ansible_collections.honeyhive.platform.plugins.module_utils.iam import read_account_roles


def validate(module):
    """Every role's options, before any API call."""
    names = set()
    for index, role in enumerate(module.params["roles"]):
        check_role(module, role, "roles[%d]." % index)
        if role["name"] in names:
            module.fail_json(msg=invalid_value("roles[%d].name" % index, role["name"],
                                               "Allowed: each role name once in the list."))
        names.add(role["name"])
        role["purge_tags"] = module.params["purge_tags"]


def main():
    argument_spec = dict(
        roles=dict(type="list", elements="dict", required=True, options=ROLE_OPTIONS),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    specs = module.params["roles"]
    # The client RoleRun would make for itself: reads return None on NoSuchEntity at once;
    # only its mutating calls also retry while a new role is not visible yet.
    client = retrying_client(module, "iam")
    known = read_account_roles(module, client, [spec["name"] for spec in specs]) if specs else {}
    runs = [RoleRun(module, params=spec, client=client, known=known.get(spec["name"])) for spec in specs]

    actions, befores, afters, arns = [], {}, {}, {}
    views = []
    for run in runs:
        if module.params["state"] == "absent":
            before, after = run.absent(), {}
        else:
            after, before = run.present()
            views.append(after)
        actions.extend(run.actions)
        befores[run.name] = before
        afters[run.name] = after
        arns[run.name] = after.get("arn")
    result = dict(changed=bool(actions), actions=actions, arns=arns)
    if module.params["state"] == "present":
        result["roles"] = views
    exit_with_diff(module, result, {"roles": befores}, {"roles": afters})


if __name__ == "__main__":
    main()
