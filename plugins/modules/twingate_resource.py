#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: twingate_resource
short_description: Manage a Twingate resource and the groups that may reach it
version_added: "0.1.0"
author: HoneyHive platform engineering (@honeyhiveai)
description:
  - Creates, updates or deletes a Twingate resource (a CIDR range, an IP address or a DNS
    name reachable through a remote network's connectors) through Twingate's GraphQL Admin
    API (C(resources), C(resourceCreate), C(resourceUpdate), C(resourceDelete)).
  - The resource is found by its exact name, preferring one in O(remote_network). A resource
    of that name in another remote network is moved to O(remote_network).
  - Group access is set with the resource's C(groupIds) on creation and
    C(addedGroupIds) / C(removedGroupIds) afterwards.
options:
  name:
    description: The resource's name.
    type: str
    required: true
  address:
    description:
      - What the resource covers. A CIDR range (V(10.20.0.0/16)), an IP address, or a DNS
        name, optionally with C(*) / C(?) wildcards (V(*.internal.example.com)).
      - A CIDR range must not have host bits set.
      - Required when O(state=present).
    type: str
  remote_network:
    description:
      - Name or id of the remote network whose connectors serve the resource.
      - Required when O(state=present); with O(state=absent) it narrows the search.
    type: str
  groups:
    description:
      - Names of the Twingate groups that may reach the resource. Each must exist (see
        M(honeyhive.platform.twingate_group)).
      - When omitted, group access is left as it is (and is empty on creation).
    type: list
    elements: str
  purge_groups:
    description: Remove groups not listed in O(groups). Only used when O(groups) is given.
    type: bool
    default: true
  protocols:
    description:
      - Which protocols and ports the resource allows. When omitted, everything is allowed
        (ICMP, and TCP and UDP with policy V(ALLOW_ALL)).
    type: dict
    suboptions:
      allow_icmp:
        description: Allow ICMP (ping).
        type: bool
        default: true
      tcp:
        description: TCP policy.
        type: dict
        suboptions:
          policy:
            description: V(ALLOW_ALL) allows every port; V(RESTRICTED) allows only O(protocols.tcp.ports) (none if empty).
            type: str
            choices: [ALLOW_ALL, RESTRICTED]
            default: ALLOW_ALL
          ports:
            description: Ports or ranges such as V(443) or V(8000-8080); only with V(RESTRICTED).
            type: list
            elements: str
            default: []
      udp:
        description: UDP policy, as O(protocols.tcp).
        type: dict
        suboptions:
          policy:
            description: V(ALLOW_ALL) or V(RESTRICTED).
            type: str
            choices: [ALLOW_ALL, RESTRICTED]
            default: ALLOW_ALL
          ports:
            description: Ports or ranges; only with V(RESTRICTED).
            type: list
            elements: str
            default: []
  state:
    description: Whether the resource should exist.
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
- name: The whole VPC, reachable by platform engineers
  honeyhive.platform.twingate_resource:
    name: honeyhive-vpc-prod-us-west-2
    address: 10.20.0.0/16
    remote_network: honeyhive-prod-us-west-2
    groups: [honeyhive-platform-engineers]
  no_log: true

- name: Only HTTPS to the internal API name
  honeyhive.platform.twingate_resource:
    name: honeyhive-api-internal
    address: api.internal.example.com
    remote_network: honeyhive-prod-us-west-2
    groups: [honeyhive-platform-engineers]
    protocols:
      allow_icmp: false
      tcp: {policy: RESTRICTED, ports: ["443"]}
      udp: {policy: RESTRICTED, ports: []}

- name: Remove it
  honeyhive.platform.twingate_resource:
    name: honeyhive-api-internal
    state: absent
"""

RETURN = r"""
id:
  description: The resource's Twingate id; null when it does not exist.
  returned: always
  type: str
  sample: UmVzb3VyY2U6OTM3Mzc=
name:
  description: The resource's name.
  returned: always
  type: str
  sample: honeyhive-vpc-prod-us-west-2
address:
  description: The resource's address; null when it does not exist.
  returned: always
  type: str
  sample: 10.20.0.0/16
remote_network_id:
  description: Id of the remote network serving the resource; null when unknown.
  returned: always
  type: str
  sample: UmVtb3RlTmV0d29yazo0MDEzOQ==
group_ids:
  description: Sorted ids of the groups that may reach the resource (names not yet created in check mode are left out).
  returned: always
  type: list
  elements: str
  sample: [R3JvdXA6MzQ4OTE=]
protocols:
  description: The allowed protocols, in the shape of O(protocols); null when the resource does not exist.
  returned: always
  type: dict
  sample: {allow_icmp: true, tcp: {policy: ALLOW_ALL, ports: []}, udp: {policy: ALLOW_ALL, ports: []}}
"""

import ipaddress
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.honeyhive.platform.plugins.module_utils.twingate import (
    TwingateError,
    by_name_query,
    fail_on_problems,
    find_group,
    one_named,
    resolve_remote_network,
    run_ensure,
    twingate_argument_spec,
    validate_common_params,
)

RESOURCE_FIELDS = """
id name address { value } remoteNetwork { id name }
protocols { allowIcmp tcp { policy ports { start end } } udp { policy ports { start end } } }
"""

Q_BY_NAME = by_name_query("ResourcesByName", "resources", RESOURCE_FIELDS)

Q_GROUPS = """
query ResourceGroups($id: ID!, $first: Int, $after: String) {
  resource(id: $id) {
    id
    groups(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { id name } }
    }
  }
}
"""

M_CREATE = """
mutation ResourceCreate($name: String!, $address: String!, $remoteNetworkId: ID!, $groupIds: [ID],
                        $protocols: ProtocolsInput) {
  resourceCreate(name: $name, address: $address, remoteNetworkId: $remoteNetworkId, groupIds: $groupIds,
                 protocols: $protocols) {
    ok error entity { %s }
  }
}
""" % RESOURCE_FIELDS

M_DELETE = """
mutation ResourceDelete($id: ID!) {
  resourceDelete(id: $id) { ok error }
}
"""

UPDATE_ARG_TYPES = {
    "address": "String",
    "remoteNetworkId": "ID",
    "protocols": "ProtocolsInput",
    "addedGroupIds": "[ID]",
    "removedGroupIds": "[ID]",
}

_DNS_LABEL = re.compile(r"^[A-Za-z0-9_*?]([A-Za-z0-9_*?-]{0,61}[A-Za-z0-9_*?])?$")
_PORT = re.compile(r"^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$")


def update_mutation(args):
    """``resourceUpdate`` naming only the arguments that change."""
    names = sorted(args)
    decl = ", ".join("$%s: %s" % (n, UPDATE_ARG_TYPES[n]) for n in names)
    call = ", ".join("%s: $%s" % (n, n) for n in names)
    return (
        "mutation ResourceUpdate($id: ID!, %s) {\n  resourceUpdate(id: $id, %s) {\n    ok error entity { %s }\n  }\n}\n"
        % (decl, call, RESOURCE_FIELDS)
    )


def check_address(address):
    """Return a problem string or None."""
    if not address or address != address.strip():
        return "address: %r; allowed: a CIDR range, an IP address or a DNS name without spaces" % address
    if "/" in address or re.match(r"^[0-9.]+$", address) or ":" in address:
        try:
            ipaddress.ip_network(address, strict=True)
            return None
        except ValueError as exc:
            return "address: %r is not a valid CIDR range or IP address (%s); allowed: e.g. 10.20.0.0/16" % (
                address, exc)
    name = address[:-1] if address.endswith(".") else address
    if len(name) > 253 or not all(_DNS_LABEL.match(label) for label in name.split(".")):
        return ("address: %r is not a valid DNS name; allowed: labels of letters, digits, hyphens, '_' and the "
                "wildcards '*' and '?', at most 63 characters each and 253 in all" % address)
    return None


def parse_ports(label, ports):
    """Turn ['443', '8000-8080'] into sorted, merged [{'start', 'end'}]; raise ValueError."""
    ranges = []
    for item in ports or []:
        match = _PORT.match(str(item))
        if not match:
            raise ValueError("%s: %r is not a port or range; allowed: '443' or '8000-8080'" % (label, item))
        start = int(match.group(1))
        end = int(match.group(2) or start)
        if not (1 <= start <= 65535 and 1 <= end <= 65535) or start > end:
            raise ValueError("%s: %r is out of range; allowed: ports 1-65535, start <= end" % (label, item))
        ranges.append((start, end))
    merged = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [{"start": s, "end": e} for s, e in merged]


def desired_protocols(spec):
    """The ProtocolsInput for the module's ``protocols`` option; raise ValueError."""
    spec = spec or {}
    out = {"allowIcmp": spec.get("allow_icmp") is not False}
    for key in ("tcp", "udp"):
        proto = spec.get(key) or {}
        policy = proto.get("policy") or "ALLOW_ALL"
        ports = parse_ports("protocols.%s.ports" % key, proto.get("ports"))
        if policy == "ALLOW_ALL" and ports:
            raise ValueError("protocols.%s.ports: given with policy ALLOW_ALL; allowed: ports only with "
                             "policy RESTRICTED" % key)
        out[key] = {"policy": policy, "ports": ports}
    return out


def normalise_protocols(api):
    """Protocols as the API returned them, in the canonical form of ``desired_protocols``."""
    if not api:  # upstream may omit protocols for an allow-all resource
        return desired_protocols(None)
    out = {"allowIcmp": bool(api.get("allowIcmp"))}
    for key in ("tcp", "udp"):
        proto = api.get(key) or {}
        ports = ["%d-%d" % (p["start"], p["end"]) for p in proto.get("ports") or []]
        out[key] = {"policy": proto.get("policy") or "ALLOW_ALL", "ports": parse_ports(key, ports)}
    return out


def protocols_view(protocols):
    def fmt(rng):
        return str(rng["start"]) if rng["start"] == rng["end"] else "%d-%d" % (rng["start"], rng["end"])

    return {
        "allow_icmp": protocols["allowIcmp"],
        "tcp": {"policy": protocols["tcp"]["policy"], "ports": [fmt(r) for r in protocols["tcp"]["ports"]]},
        "udp": {"policy": protocols["udp"]["policy"], "ports": [fmt(r) for r in protocols["udp"]["ports"]]},
    }


def find_resource(client, name, network_id):
    nodes = [n for n in client.paginate(Q_BY_NAME, {"name": name}, ["resources"]) or [] if n["name"] == name]
    if network_id:
        local = [n for n in nodes if (n.get("remoteNetwork") or {}).get("id") == network_id]
        if local:
            nodes = local
    return one_named(nodes, name, "resource")


def resource_group_ids(client, resource_id):
    nodes = client.paginate(Q_GROUPS, {"id": resource_id}, ["resource", "groups"])
    return sorted(n["id"] for n in nodes or [])


def ensure(module, client):
    params = module.params
    name = params["name"]
    result = {"changed": False, "id": None, "name": name, "address": None, "remote_network_id": None,
              "group_ids": [], "protocols": None}

    network = None
    if params["remote_network"]:
        network = resolve_remote_network(client, params["remote_network"])
        if network is None and params["state"] == "present" and not module.check_mode:
            raise TwingateError("remote_network: %r matches no Twingate remote network by name or id; create it "
                                "first (honeyhive.platform.twingate_remote_network)" % params["remote_network"])
    network_id = network["id"] if network else None

    current = find_resource(client, name, network_id)
    current_groups = resource_group_ids(client, current["id"]) if current else []
    before = {}
    if current:
        before = {
            "name": current["name"],
            "address": current["address"]["value"],
            "remote_network_id": current["remoteNetwork"]["id"],
            "group_ids": current_groups,
            "protocols": protocols_view(normalise_protocols(current.get("protocols"))),
        }

    if params["state"] == "absent":
        if current:
            result["changed"] = True
            if not module.check_mode:
                client.mutate(M_DELETE, {"id": current["id"]}, "resourceDelete")
        if module._diff:
            result["diff"] = {"before": before, "after": {}}
        return result

    want_protocols = desired_protocols(params["protocols"])
    want_group_ids = None
    missing_groups = []
    if params["groups"] is not None:
        want_group_ids = []
        for group_name in params["groups"]:
            group = find_group(client, group_name)
            if group is None:
                missing_groups.append(group_name)
            else:
                want_group_ids.append(group["id"])
        if missing_groups and not module.check_mode:
            raise TwingateError("groups: %s not found among active manual Twingate groups; create them first "
                                "(honeyhive.platform.twingate_group)" % ", ".join(repr(g) for g in missing_groups))
        want_group_ids = sorted(set(want_group_ids))

    if current is None:
        result["changed"] = True
        group_ids = want_group_ids or []
        if not module.check_mode:
            entity = client.mutate(M_CREATE, {
                "name": name, "address": params["address"], "remoteNetworkId": network_id,
                "groupIds": group_ids, "protocols": want_protocols,
            }, "resourceCreate")["entity"]
            result["id"] = entity["id"]
            group_ids = resource_group_ids(client, entity["id"])
        final = {"address": params["address"], "remote_network_id": network_id, "group_ids": group_ids,
                 "protocols": protocols_view(want_protocols)}
    else:
        changes = {}
        if current["address"]["value"] != params["address"]:
            changes["address"] = params["address"]
        if network_id and current["remoteNetwork"]["id"] != network_id:
            changes["remoteNetworkId"] = network_id
        if normalise_protocols(current.get("protocols")) != want_protocols:
            changes["protocols"] = want_protocols
        group_ids = current_groups
        if want_group_ids is not None:
            added = sorted(set(want_group_ids) - set(current_groups))
            removed = sorted(set(current_groups) - set(want_group_ids)) if params["purge_groups"] else []
            if added:
                changes["addedGroupIds"] = added
            if removed:
                changes["removedGroupIds"] = removed
            group_ids = sorted((set(current_groups) | set(added)) - set(removed))
        if missing_groups:
            result["changed"] = True  # check mode only: the groups would be created earlier in the run
        result["id"] = current["id"]
        if changes:
            result["changed"] = True
            if not module.check_mode:
                variables = dict(changes, id=current["id"])
                client.mutate(update_mutation(changes), variables, "resourceUpdate")
                group_ids = resource_group_ids(client, current["id"])
        final = {
            "address": params["address"],
            "remote_network_id": network_id or current["remoteNetwork"]["id"],
            "group_ids": group_ids,
            "protocols": protocols_view(want_protocols),
        }

    result.update(final)
    if module._diff:
        result["diff"] = {"before": before, "after": dict(final, name=name)}
    return result


def main():
    port_spec = dict(
        policy=dict(type="str", default="ALLOW_ALL", choices=["ALLOW_ALL", "RESTRICTED"]),
        ports=dict(type="list", elements="str", default=[]),
    )
    module = AnsibleModule(
        argument_spec=twingate_argument_spec(
            name=dict(type="str", required=True),
            address=dict(type="str"),
            remote_network=dict(type="str"),
            groups=dict(type="list", elements="str"),
            purge_groups=dict(type="bool", default=True),
            protocols=dict(
                type="dict",
                options=dict(
                    allow_icmp=dict(type="bool", default=True),
                    tcp=dict(type="dict", options=port_spec),
                    udp=dict(type="dict", options=port_spec),
                ),
            ),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_if=[("state", "present", ("address", "remote_network"))],
        supports_check_mode=True,
    )
    params = module.params
    problems = validate_common_params(params)
    if params["state"] == "present":
        problem = check_address(params["address"])
        if problem:
            problems.append(problem)
        if not params["remote_network"].strip():
            problems.append("remote_network: empty; allowed: a remote network name or id")
        try:
            desired_protocols(params["protocols"])
        except ValueError as exc:
            problems.append(str(exc))
        for group in params["groups"] or []:
            if not group.strip():
                problems.append("groups: contains an empty name; allowed: group names")
    fail_on_problems(module, problems)
    run_ensure(module, ensure)


if __name__ == "__main__":
    main()
