"""honeyhive.platform.vpc_flow_log against the moto server; every assertion
reads the flow log back with DescribeFlowLogs."""
from __future__ import annotations

import uuid

import pytest

from ansible_collections.honeyhive.platform.plugins.modules import vpc_flow_log

ROLE = "arn:aws:iam::123456789012:role/honeyhive-flow-logs"
OTHER_ROLE = "arn:aws:iam::123456789012:role/honeyhive-flow-logs-v2"


@pytest.fixture
def ec2(moto_client):
    return moto_client("ec2")


@pytest.fixture
def vpc(ec2):
    return ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]


@pytest.fixture
def group():
    return "/honeyhive/test/%s" % uuid.uuid4().hex[:10]


def args(moto_endpoint, vpc, group, **extra):
    base = dict(
        name="flow-" + group.rsplit("/", 1)[-1],
        vpc_id=vpc,
        log_group_name=group,
        deliver_logs_permission_arn=ROLE,
        endpoint_url=moto_endpoint,
        region="us-west-2",
    )
    base.update(extra)
    return base


def flow_logs(ec2, vpc):
    return [f for f in ec2.describe_flow_logs()["FlowLogs"] if f["ResourceId"] == vpc]


def tags_of(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def test_create_then_idempotent(run_module, ec2, vpc, group, moto_endpoint, api_calls):
    first = run_module(
        vpc_flow_log,
        args(moto_endpoint, vpc, group, traffic_type="REJECT", max_aggregation_interval=60, tags={"Env": "test"}, _ansible_diff=True),
    )
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["diff"]["before"] == {}
    [flow_log] = flow_logs(ec2, vpc)
    assert flow_log["FlowLogId"] == first["flow_log_id"]
    assert flow_log["LogGroupName"] == group
    assert flow_log["TrafficType"] == "REJECT"
    assert flow_log["MaxAggregationInterval"] == 60
    assert flow_log["DeliverLogsPermissionArn"] == ROLE
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"
    name = "flow-" + group.rsplit("/", 1)[-1]
    assert tags_of(flow_log) == {"Name": name, "Env": "test"}

    api_calls.clear()
    second = run_module(
        vpc_flow_log, args(moto_endpoint, vpc, group, traffic_type="REJECT", max_aggregation_interval=60, tags={"Env": "test"})
    )
    assert second["changed"] is False
    assert second["flow_log_id"] == first["flow_log_id"]
    assert second["status"] == "ACTIVE"
    assert api_calls == ["DescribeFlowLogs"]
    assert len(flow_logs(ec2, vpc)) == 1


def test_changed_settings_replace_the_flow_log(run_module, ec2, vpc, group, moto_endpoint):
    first = run_module(vpc_flow_log, args(moto_endpoint, vpc, group))
    result = run_module(
        vpc_flow_log,
        args(moto_endpoint, vpc, group, traffic_type="ACCEPT", deliver_logs_permission_arn=OTHER_ROLE, _ansible_diff=True),
    )
    assert result["changed"] is True
    assert result["replaced_flow_log_ids"] == [first["flow_log_id"]]
    assert result["diff"]["before"]["traffic_type"] == "ALL"
    assert result["diff"]["after"]["traffic_type"] == "ACCEPT"
    [flow_log] = flow_logs(ec2, vpc)
    assert flow_log["FlowLogId"] == result["flow_log_id"] != first["flow_log_id"]
    assert flow_log["TrafficType"] == "ACCEPT"
    assert flow_log["DeliverLogsPermissionArn"] == OTHER_ROLE
    again = run_module(vpc_flow_log, args(moto_endpoint, vpc, group, traffic_type="ACCEPT", deliver_logs_permission_arn=OTHER_ROLE))
    assert again["changed"] is False


def test_tags_updated_in_place(run_module, ec2, vpc, group, moto_endpoint):
    first = run_module(vpc_flow_log, args(moto_endpoint, vpc, group, tags={"Old": "1"}))
    result = run_module(vpc_flow_log, args(moto_endpoint, vpc, group, tags={"New": "2"}))
    assert result["changed"] is True
    assert result["flow_log_id"] == first["flow_log_id"]
    [flow_log] = flow_logs(ec2, vpc)
    assert tags_of(flow_log) == {"Name": result["tags"]["Name"], "New": "2"}


def test_check_mode(run_module, ec2, vpc, group, moto_endpoint):
    result = run_module(vpc_flow_log, args(moto_endpoint, vpc, group, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["flow_log_id"] is None
    assert flow_logs(ec2, vpc) == []

    created = run_module(vpc_flow_log, args(moto_endpoint, vpc, group))
    result = run_module(vpc_flow_log, args(moto_endpoint, vpc, group, traffic_type="REJECT", _ansible_check_mode=True))
    assert result["changed"] is True
    assert flow_logs(ec2, vpc)[0]["TrafficType"] == "ALL"

    result = run_module(vpc_flow_log, args(moto_endpoint, vpc, group, state="absent", _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["deleted_flow_log_ids"] == [created["flow_log_id"]]
    assert len(flow_logs(ec2, vpc)) == 1


def test_delete(run_module, ec2, vpc, group, moto_endpoint):
    created = run_module(vpc_flow_log, args(moto_endpoint, vpc, group))
    result = run_module(vpc_flow_log, args(moto_endpoint, vpc, group, state="absent", _ansible_diff=True))
    assert result["changed"] is True
    assert result["deleted_flow_log_ids"] == [created["flow_log_id"]]
    assert result["diff"]["before"]["flow_log_id"] == created["flow_log_id"]
    assert flow_logs(ec2, vpc) == []
    again = run_module(vpc_flow_log, args(moto_endpoint, vpc, group, state="absent"))
    assert again["changed"] is False


def test_flow_log_with_another_name_is_left_alone(run_module, ec2, vpc, group, moto_endpoint):
    """moto (like AWS for an identical configuration) refuses a second flow log
    of one VPC to one log group; the module names the flow log in the way and
    neither adopts nor deletes it."""
    other = run_module(vpc_flow_log, args(moto_endpoint, vpc, group, name="someone-else"))
    mine = run_module(vpc_flow_log, args(moto_endpoint, vpc, group, name="mine"))
    assert mine["failed"] is True
    assert other["flow_log_id"] in mine["msg"]
    assert "Name=someone-else" in mine["msg"]
    gone = run_module(vpc_flow_log, args(moto_endpoint, vpc, group, name="mine", state="absent"))
    assert gone["changed"] is False
    [flow_log] = flow_logs(ec2, vpc)
    assert flow_log["FlowLogId"] == other["flow_log_id"]
    assert tags_of(flow_log) == {"Name": "someone-else"}


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(vpc_id="vpc-xyz"), "Invalid value for option 'vpc_id': 'vpc-xyz'"),
        (dict(log_group_name="bad group!"), "Invalid value for option 'log_group_name': 'bad group!'"),
        (dict(deliver_logs_permission_arn=None), "Option 'deliver_logs_permission_arn' is required when state is 'present'"),
        (dict(deliver_logs_permission_arn="flow-logs"), "Invalid value for option 'deliver_logs_permission_arn': 'flow-logs'"),
        (dict(traffic_type="SOME"), "traffic_type"),
        (dict(max_aggregation_interval=30), "max_aggregation_interval"),
        (dict(name=""), "Invalid value for option 'name'"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, aws_env, moto_endpoint, api_calls, extra, fragment):
    result = run_module(vpc_flow_log, args(moto_endpoint, "vpc-0123456789abcdef0", "/g", **extra))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
