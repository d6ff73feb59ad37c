#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vpc_flow_log
short_description: Manage the flow log of a VPC to a CloudWatch Logs group
version_added: 0.1.0
description:
  - Creates, updates or deletes the flow log that sends the traffic records of
    a VPC to a CloudWatch Logs log group.
  - The flow log is found by its VPC and log group (one
    C(DescribeFlowLogs) call, which also returns its tags).
  - Flow logs cannot be modified. When O(traffic_type),
    O(max_aggregation_interval) or O(deliver_logs_permission_arn) differ, the
    flow log is deleted and created again.
  - The create call carries a C(ClientToken) derived from O(name) and the
    settings, so a retried request does not create a second flow log.
options:
  name:
    description:
      - Value of the C(Name) tag, also the seed of the client token. 1 to 255
        characters.
      - When given, a flow log of the same VPC and log group with a different
        C(Name) tag is left alone.
    type: str
  vpc_id:
    description:
      - The VPC whose traffic is logged.
    type: str
    required: true
  log_group_name:
    description:
      - The CloudWatch Logs log group that receives the records. It does not
        have to exist; AWS creates it on first delivery if the role allows.
    type: str
    required: true
  deliver_logs_permission_arn:
    description:
      - ARN of the IAM role that allows the flow logs service to publish to
        the log group. Required when O(state=present).
    type: str
  traffic_type:
    description:
      - Which traffic to log.
    type: str
    choices: ['ALL', 'ACCEPT', 'REJECT']
    default: ALL
  max_aggregation_interval:
    description:
      - Seconds over which a flow is aggregated into one record.
    type: int
    choices: [60, 600]
    default: 600
  state:
    description:
      - V(present) creates or replaces the flow log, V(absent) deletes it.
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - When O(name) is given the C(Name) tag is always set to it.
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Log all VPC traffic
  honeyhive.platform.vpc_flow_log:
    name: honeyhive-prod-vpc-flow-log
    vpc_id: "{{ vpc_outputs.vpc_id }}"
    log_group_name: /honeyhive/prod/vpc-flow-logs
    deliver_logs_permission_arn: "{{ foundation_outputs.flow_log_role_arn }}"
    traffic_type: ALL
    max_aggregation_interval: 60
    tags: "{{ platform_tags }}"

- name: Stop logging
  honeyhive.platform.vpc_flow_log:
    name: honeyhive-prod-vpc-flow-log
    vpc_id: "{{ vpc_outputs.vpc_id }}"
    log_group_name: /honeyhive/prod/vpc-flow-logs
    state: absent
"""

RETURN = r"""
flow_log_id:
  description: ID of the flow log (null in check mode before it exists, and after deletion).
  returned: always
  type: str
  sample: fl-0123456789abcdef0
vpc_id:
  description: The VPC.
  returned: when O(state=present)
  type: str
  sample: vpc-0123456789abcdef0
log_group_name:
  description: The log group.
  returned: when O(state=present)
  type: str
  sample: /honeyhive/prod/vpc-flow-logs
deliver_logs_permission_arn:
  description: The delivery role.
  returned: when O(state=present)
  type: str
  sample: arn:aws:iam::111122223333:role/honeyhive-prod-flow-logs
traffic_type:
  description: Logged traffic.
  returned: when O(state=present)
  type: str
  sample: ALL
max_aggregation_interval:
  description: Aggregation interval in seconds.
  returned: when O(state=present)
  type: int
  sample: 600
status:
  description: C(FlowLogStatus) of the flow log.
  returned: when O(state=present) and the flow log exists
  type: str
  sample: ACTIVE
tags:
  description: Tags of the flow log.
  returned: when O(state=present)
  type: dict
  sample: {Name: honeyhive-prod-vpc-flow-log}
replaced_flow_log_ids:
  description: Flow logs deleted because their settings could not be changed in place.
  returned: when O(state=present)
  type: list
  elements: str
  sample: []
deleted_flow_log_ids:
  description: Flow logs deleted by O(state=absent).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: [fl-0123456789abcdef0]
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import all_pages
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import client_token
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import desired_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ec2_tag_list
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ec2_tag_specifications
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import update_ec2_tags

VPC_RE = re.compile(r"^vpc-[0-9a-f]{8,17}$")
LOG_GROUP_RE = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
SETTINGS = ("traffic_type", "max_aggregation_interval", "deliver_logs_permission_arn")


def validate(module):
    params = module.params
    name = params["name"]
    if name is not None and (not name or len(name) > 255):
        module.fail_json(msg=invalid_value("name", name, "Allowed: 1 to 255 characters."))
    if not VPC_RE.match(params["vpc_id"] or ""):
        module.fail_json(msg=invalid_value("vpc_id", params["vpc_id"], "Allowed: a VPC ID such as vpc-0123456789abcdef0."))
    if not LOG_GROUP_RE.match(params["log_group_name"] or ""):
        module.fail_json(
            msg=invalid_value(
                "log_group_name",
                params["log_group_name"],
                "Allowed: 1 to 512 characters of letters, digits and . - _ / #.",
            )
        )
    role = params["deliver_logs_permission_arn"]
    if params["state"] == "present" and not role:
        module.fail_json(msg="Option 'deliver_logs_permission_arn' is required when state is 'present'.")
    if role is not None and not ROLE_ARN_RE.match(role):
        module.fail_json(
            msg=invalid_value(
                "deliver_logs_permission_arn", role, "Allowed: an IAM role ARN such as arn:aws:iam::111122223333:role/flow-logs."
            )
        )
    check_tags(module)


def wanted_tags(module):
    params = module.params
    if params["tags"] is None:
        if params["name"] is None:
            return None, False
        return {"Name": params["name"]}, False
    tags = stringify_tags(params["tags"])
    if params["name"] is not None:
        tags["Name"] = params["name"]
    return tags, params["purge_tags"]


def find_flow_logs(module, client, any_name=False):
    """Flow logs of the VPC into the log group (and with our Name, if any)."""
    params = module.params
    request = dict(
        Filters=[
            {"Name": "resource-id", "Values": [params["vpc_id"]]},
            {"Name": "log-group-name", "Values": [params["log_group_name"]]},
        ]
    )
    try:
        flow_logs = all_pages(client.describe_flow_logs, "FlowLogs", request)
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to describe the flow logs of %s" % params["vpc_id"])
    found = []
    for flow_log in flow_logs:
        if flow_log.get("ResourceId") != params["vpc_id"] or flow_log.get("LogGroupName") != params["log_group_name"]:
            continue
        if flow_log.get("LogDestinationType", "cloud-watch-logs") != "cloud-watch-logs":
            continue
        other_name = tags_to_dict(flow_log.get("Tags")).get("Name")
        if not any_name and params["name"] is not None and other_name not in (None, params["name"]):
            continue
        found.append(flow_log)
    return found


def settings_of(flow_log):
    return dict(
        traffic_type=flow_log.get("TrafficType"),
        max_aggregation_interval=flow_log.get("MaxAggregationInterval", 600),
        deliver_logs_permission_arn=flow_log.get("DeliverLogsPermissionArn"),
    )


def wanted_settings(module):
    return {key: module.params[key] for key in SETTINGS}


def view(flow_log):
    if not flow_log:
        return {}
    return dict(
        flow_log_id=flow_log.get("FlowLogId"),
        vpc_id=flow_log.get("ResourceId"),
        log_group_name=flow_log.get("LogGroupName"),
        status=flow_log.get("FlowLogStatus"),
        tags=tags_to_dict(flow_log.get("Tags")),
        **settings_of(flow_log)
    )


def diff_view(flow_log_view):
    return {k: v for k, v in flow_log_view.items() if k != "status"}


def delete_flow_logs(module, client, ids):
    if not ids or module.check_mode:
        return
    try:
        response = client.delete_flow_logs(FlowLogIds=ids, aws_retry=True)
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to delete flow logs %s" % ", ".join(ids))
    problems = [
        u for u in response.get("Unsuccessful", [])
        if (u.get("Error") or {}).get("Code") not in ("InvalidFlowLogId.NotFound",)
    ]
    if problems:
        module.fail_json(msg="Failed to delete flow logs: %s" % problems)


def create_flow_log(module, client, tags, replaced):
    params = module.params
    token = client_token(
        "vpc_flow_log",
        params["name"],
        params["vpc_id"],
        params["log_group_name"],
        *[params[key] for key in SETTINGS] + sorted(replaced)
    )
    request = dict(
        ResourceIds=[params["vpc_id"]],
        ResourceType="VPC",
        TrafficType=params["traffic_type"],
        LogDestinationType="cloud-watch-logs",
        LogGroupName=params["log_group_name"],
        DeliverLogsPermissionArn=params["deliver_logs_permission_arn"],
        MaxAggregationInterval=params["max_aggregation_interval"],
        ClientToken=token,
    )
    specifications = ec2_tag_specifications("vpc-flow-log", tags)
    if specifications:
        request["TagSpecifications"] = specifications
    try:
        response = client.create_flow_logs(aws_retry=True, **request)
    except is_boto3_error_code("FlowLogAlreadyExists"):
        response = {"FlowLogIds": [], "Unsuccessful": [{"Error": {"Code": "FlowLogAlreadyExists"}}]}
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to create the flow log of %s" % params["vpc_id"])
    unsuccessful = response.get("Unsuccessful") or []
    if unsuccessful and all((u.get("Error") or {}).get("Code") == "FlowLogAlreadyExists" for u in unsuccessful):
        # A retried create whose first attempt went through: use that one.
        for flow_log in find_flow_logs(module, client):
            if settings_of(flow_log) == wanted_settings(module):
                return flow_log
        others = [
            "%s (Name=%s)" % (f["FlowLogId"], tags_to_dict(f.get("Tags")).get("Name"))
            for f in find_flow_logs(module, client, any_name=True)
        ]
        module.fail_json(
            msg="AWS refused a second flow log of %s to log group %s: %s already delivers there. Give it the Name %r, "
            "delete it, or use another log group." % (params["vpc_id"], params["log_group_name"], ", ".join(others) or "another one",
                                                      params["name"])
        )
    if unsuccessful or not response.get("FlowLogIds"):
        module.fail_json(msg="Failed to create the flow log of %s: %s" % (params["vpc_id"], unsuccessful))
    return dict(
        FlowLogId=response["FlowLogIds"][0],
        ResourceId=params["vpc_id"],
        LogGroupName=params["log_group_name"],
        LogDestinationType="cloud-watch-logs",
        TrafficType=params["traffic_type"],
        MaxAggregationInterval=params["max_aggregation_interval"],
        DeliverLogsPermissionArn=params["deliver_logs_permission_arn"],
        FlowLogStatus="ACTIVE",
        Tags=tags_to_list(tags),
    )


def ensure_absent(module, client):
    flow_logs = find_flow_logs(module, client)
    ids = [f["FlowLogId"] for f in flow_logs]
    delete_flow_logs(module, client, ids)
    result = dict(changed=bool(ids), flow_log_id=None, deleted_flow_log_ids=ids)
    exit_with_diff(module, result, diff_view(view(flow_logs[0])) if flow_logs else {}, {})


def ensure_present(module, client):
    tags, purge = wanted_tags(module)
    flow_logs = find_flow_logs(module, client)
    wanted = wanted_settings(module)
    # Prefer one whose settings already match; the rest of ours are replaced.
    flow_logs.sort(key=lambda f: settings_of(f) != wanted)
    current = flow_logs[0] if flow_logs else None
    before = view(current)
    changed = False
    replaced = []

    if current is not None and settings_of(current) != wanted:
        replaced = [current["FlowLogId"]]
        current = None
    if current is not None and len(flow_logs) > 1:
        module.warn(
            "Other flow logs of %s also deliver to %s: %s; they were left alone."
            % (module.params["vpc_id"], module.params["log_group_name"], ", ".join(f["FlowLogId"] for f in flow_logs[1:]))
        )

    if current is None:
        changed = True
        planned_tags = desired_tags({}, tags, purge) if tags else {}
        if module.check_mode:
            after = dict(
                flow_log_id=None,
                vpc_id=module.params["vpc_id"],
                log_group_name=module.params["log_group_name"],
                status=None,
                tags=planned_tags,
                **wanted
            )
            return changed, after, before, replaced
        delete_flow_logs(module, client, replaced)
        current = create_flow_log(module, client, planned_tags, replaced)
        # A flow log picked up after FlowLogAlreadyExists may need its tags.
        flow_log_id = current["FlowLogId"]
        current_tags = update_ec2_tags(module, client, flow_log_id, tags_to_dict(current.get("Tags")), tags, purge,
                                       "Failed to tag flow log %s" % flow_log_id)
        if current_tags is not None:
            current["Tags"] = ec2_tag_list(current_tags)
    else:
        flow_log_id = current["FlowLogId"]
        current_tags = update_ec2_tags(module, client, flow_log_id, tags_to_dict(current.get("Tags")), tags, purge,
                                       "Failed to update the tags of flow log %s" % flow_log_id)
        if current_tags is not None:
            changed = True
            current = dict(current, Tags=ec2_tag_list(current_tags))
    return changed, view(current), before, replaced


def main():
    argument_spec = dict(
        name=dict(type="str"),
        vpc_id=dict(type="str", required=True),
        log_group_name=dict(type="str", required=True),
        deliver_logs_permission_arn=dict(type="str"),
        traffic_type=dict(type="str", choices=["ALL", "ACCEPT", "REJECT"], default="ALL"),
        max_aggregation_interval=dict(type="int", choices=[60, 600], default=600),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    client = retrying_client(module, "ec2")

    if module.params["state"] == "absent":
        ensure_absent(module, client)

    changed, after, before, replaced = ensure_present(module, client)
    result = dict(changed=changed, replaced_flow_log_ids=replaced, **after)
    exit_with_diff(module, result, diff_view(before), diff_view(after))


if __name__ == "__main__":
    main()
