#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: twingate_remote_network
short_description: Manage a Twingate remote network
version_added: "0.1.0"
author: HoneyHive platform engineering (@honeyhiveai)
description:
  - Creates, updates or deletes a Twingate remote network through Twingate's GraphQL Admin API
    (C(remoteNetworks), C(remoteNetworkCreate), C(remoteNetworkUpdate), C(remoteNetworkDelete)).
  - The remote network is found by its exact name; nothing is matched by id.
  - Deleting a remote network also removes its connectors and resources in Twingate.
options:
  name:
    description: The remote network's name, unique in the Twingate network.
    type: str
    required: true
  location:
    description: Where the network lives. Updated in place when it differs.
    type: str
    choices: [AWS, AZURE, GOOGLE_CLOUD, ON_PREMISE, OTHER]
    default: AWS
  state:
    description: Whether the remote network should exist.
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
- name: Create the platform's remote network
  honeyhive.platform.twingate_remote_network:
    name: honeyhive-prod-us-west-2
    location: AWS
    api_url: https://example.twingate.com/api/graphql/
    api_token: "{{ twingate_api_token }}"
  register: remote_network
  no_log: true

- name: Remove it (uses TWINGATE_API_URL / TWINGATE_API_TOKEN from the environment)
  honeyhive.platform.twingate_remote_network:
    name: honeyhive-prod-us-west-2
    state: absent
"""

RETURN = r"""
id:
  description: The remote network's Twingate id; null when it does not exist (absent, or check mode before creation).
  returned: always
  type: str
  sample: UmVtb3RlTmV0d29yazo0MDEzOQ==
name:
  description: The remote network's name.
  returned: always
  type: str
  sample: honeyhive-prod-us-west-2
location:
  description: The remote network's location; null when it does not exist.
  returned: always
  type: str
  sample: AWS
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.honeyhive.platform.plugins.module_utils.twingate import (
    LOCATIONS,
    fail_on_problems,
    find_remote_network,
    run_ensure,
    twingate_argument_spec,
    validate_common_params,
)

M_CREATE = """
mutation RemoteNetworkCreate($name: String!, $location: RemoteNetworkLocation) {
  remoteNetworkCreate(name: $name, location: $location) {
    ok error entity { id name location isActive }
  }
}
"""

M_UPDATE = """
mutation RemoteNetworkUpdate($id: ID!, $location: RemoteNetworkLocation) {
  remoteNetworkUpdate(id: $id, location: $location) {
    ok error entity { id name location isActive }
  }
}
"""

M_DELETE = """
mutation RemoteNetworkDelete($id: ID!) {
  remoteNetworkDelete(id: $id) { ok error }
}
"""


def _view(node):
    return {"name": node["name"], "location": node["location"]} if node else {}


def ensure(module, client):
    name = module.params["name"]
    location = module.params["location"]
    current = find_remote_network(client, name)
    result = {"changed": False, "id": None, "name": name, "location": None}
    before = _view(current)

    if module.params["state"] == "absent":
        if current:
            result["changed"] = True
            if not module.check_mode:
                client.mutate(M_DELETE, {"id": current["id"]}, "remoteNetworkDelete")
        after = {}
    elif current is None:
        result["changed"] = True
        after = {"name": name, "location": location}
        if not module.check_mode:
            current = client.mutate(M_CREATE, {"name": name, "location": location}, "remoteNetworkCreate")["entity"]
    else:
        if current["location"] != location:
            result["changed"] = True
            if not module.check_mode:
                current = client.mutate(M_UPDATE, {"id": current["id"], "location": location},
                                        "remoteNetworkUpdate")["entity"]
            else:
                current = dict(current, location=location)
        after = _view(current)

    if module.params["state"] == "present" and current:
        result.update(id=current["id"], name=current["name"], location=current["location"])
    elif module.params["state"] == "present":
        result["location"] = location
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    return result


def main():
    module = AnsibleModule(
        argument_spec=twingate_argument_spec(
            name=dict(type="str", required=True),
            location=dict(type="str", default="AWS", choices=LOCATIONS),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    fail_on_problems(module, validate_common_params(module.params))
    run_ensure(module, ensure)


if __name__ == "__main__":
    main()
