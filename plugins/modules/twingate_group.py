#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: twingate_group
short_description: Manage a Twingate access group
version_added: "0.1.0"
author: HoneyHive platform engineering (@honeyhiveai)
description:
  - Creates or deletes a manual Twingate group through Twingate's GraphQL Admin API
    (C(groups), C(groupCreate), C(groupDelete)).
  - The group is found by its exact name among active manual groups; synced (SCIM) and
    system groups are never created, changed or deleted.
  - Which resources a group reaches is managed by M(honeyhive.platform.twingate_resource)
    (its O(honeyhive.platform.twingate_resource#module:groups) option), and users are left
    to the identity provider, so this module neither adds nor removes members.
options:
  name:
    description: The group's name.
    type: str
    required: true
  state:
    description: Whether the group should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - honeyhive.platform.twingate
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
"""

EXAMPLES = r"""
- name: Group of platform engineers who may reach the VPC
  honeyhive.platform.twingate_group:
    name: honeyhive-platform-engineers
  no_log: true

- name: Remove the group
  honeyhive.platform.twingate_group:
    name: honeyhive-platform-engineers
    state: absent
"""

RETURN = r"""
id:
  description: The group's Twingate id; null when it does not exist (absent, or check mode before creation).
  returned: always
  type: str
  sample: R3JvdXA6MzQ4OTE=
name:
  description: The group's name.
  returned: always
  type: str
  sample: honeyhive-platform-engineers
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.honeyhive.platform.plugins.module_utils.twingate import (
    fail_on_problems,
    find_group,
    run_ensure,
    twingate_argument_spec,
    validate_common_params,
)

M_CREATE = """
mutation GroupCreate($name: String!) {
  groupCreate(name: $name) { ok error entity { id name type isActive } }
}
"""

M_DELETE = """
mutation GroupDelete($id: ID!) {
  groupDelete(id: $id) { ok error }
}
"""


def ensure(module, client):
    name = module.params["name"]
    current = find_group(client, name)
    result = {"changed": False, "id": None, "name": name}
    before = {"name": current["name"]} if current else {}
    after = {}
    if module.params["state"] == "absent":
        if current:
            result["changed"] = True
            if not module.check_mode:
                client.mutate(M_DELETE, {"id": current["id"]}, "groupDelete")
    else:
        after = {"name": name}
        if current is None:
            result["changed"] = True
            if not module.check_mode:
                current = client.mutate(M_CREATE, {"name": name}, "groupCreate")["entity"]
        if current:
            result["id"] = current["id"]
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    return result


def main():
    module = AnsibleModule(
        argument_spec=twingate_argument_spec(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    fail_on_problems(module, validate_common_params(module.params))
    run_ensure(module, ensure)


if __name__ == "__main__":
    main()
