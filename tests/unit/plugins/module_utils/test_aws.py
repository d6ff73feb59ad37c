"""Unit tests for plugins/module_utils/aws.py (no AWS endpoint needed; the
retry tests drive a real botocore client through botocore's Stubber)."""
from __future__ import annotations

import datetime
import time

import boto3
import botocore.exceptions
import botocore.parsers
import pytest
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.honeyhive.platform.plugins.module_utils import aws


class FakeModule:
    def __init__(self, **params):
        self.params = params

    def fail_json(self, **kwargs):
        raise RuntimeError(kwargs["msg"])


@pytest.fixture
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def client_error(code, status=400, operation="Op"):
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


# ------------------------------------------------------------------ tokens


def test_client_token_is_deterministic_and_bounded():
    a = aws.client_token("nat_gateway", "honeyhive-prod-nat-a", "subnet-1")
    assert a == aws.client_token("nat_gateway", "honeyhive-prod-nat-a", "subnet-1")
    assert a != aws.client_token("nat_gateway", "honeyhive-prod-nat-b", "subnet-1")
    assert len(a) == 64
    # parts are separated, so shifting text between parts changes the token
    assert aws.client_token("ab", "c") != aws.client_token("a", "bc")
    short = aws.client_token("cert", "app.example.com", length=32)
    assert len(short) == 32
    assert short.isalnum()  # ACM IdempotencyToken pattern \w+
    assert aws.client_token("x", None) == aws.client_token("x", "")
    with pytest.raises(TypeError):
        aws.client_token("x", bogus=1)


# -------------------------------------------------------------------- tags


def test_tag_conversions_round_trip():
    tags = {"Name": "n", "Env": "prod"}
    as_list = aws.tags_to_list(tags)
    assert as_list == [{"Key": "Env", "Value": "prod"}, {"Key": "Name", "Value": "n"}]
    assert aws.tags_to_dict(as_list) == tags
    assert aws.tags_to_dict(None) == {}
    assert aws.tags_to_list(None) == []
    assert aws.tags_to_dict([{"key": "a", "value": "b"}], "key", "value") == {"a": "b"}
    assert aws.tags_to_list({"a": "b"}, "TagKey", "TagValue") == [{"TagKey": "a", "TagValue": "b"}]


def test_tag_diff():
    current = {"Name": "n", "Old": "1", "aws:cloudformation:stack-name": "s"}
    assert aws.tag_diff(current, None) == ({}, [])
    to_set, to_unset = aws.tag_diff(current, {"Name": "n", "New": 2})
    assert to_set == {"New": "2"}
    assert to_unset == ["Old"]  # aws: keys are never purged
    assert aws.tag_diff(current, {"New": "2"}, purge=False) == ({"New": "2"}, [])
    assert aws.tag_diff({"A": "1"}, {"A": "1"}) == ({}, [])
    assert aws.desired_tags(current, {"Name": "n", "New": 2}) == {
        "Name": "n",
        "New": "2",
        "aws:cloudformation:stack-name": "s",
    }


def test_ec2_tag_helpers():
    assert aws.ec2_tag_filters({"Name": "x", "Env": 1}) == [
        {"Name": "tag:Env", "Values": ["1"]},
        {"Name": "tag:Name", "Values": ["x"]},
    ]
    assert aws.ec2_tag_specifications("elastic-ip", {"Name": "x"}) == [
        {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "x"}]}
    ]
    assert aws.ec2_tag_specifications("elastic-ip", {}) is None
    assert aws.stringify_tags({"a": None, "b": 1}) == {"a": "", "b": "1"}


def test_ensure_ec2_tags_only_calls_what_is_needed():
    calls = []

    class Client:
        def create_tags(self, **kwargs):
            calls.append(("create", kwargs))

        def delete_tags(self, **kwargs):
            calls.append(("delete", kwargs))

    assert aws.ensure_ec2_tags(Client(), "nat-1", {"Name": "a"}, {"Name": "a"}) is False
    assert calls == []
    assert aws.ensure_ec2_tags(Client(), "nat-1", {"Name": "a", "X": "1"}, {"Name": "b"}) is True
    assert calls == [
        ("delete", {"Resources": ["nat-1"], "Tags": [{"Key": "X"}], "aws_retry": True}),
        ("create", {"Resources": ["nat-1"], "Tags": [{"Key": "Name", "Value": "b"}], "aws_retry": True}),
    ]


# ----------------------------------------------------------------- waiting


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_for_returns_when_done():
    clock = FakeClock()
    states = iter(["pending", "pending", "available"])
    result, problem = aws.wait_for(lambda: next(states), lambda s: s == "available", timeout=60, delay=5,
                                   sleep=clock.sleep, clock=clock)
    assert (result, problem) == ("available", None)
    assert clock.now == 10


def test_wait_for_times_out():
    clock = FakeClock()
    fetched = []

    def fetch():
        fetched.append(clock.now)
        return "pending"

    result, problem = aws.wait_for(fetch, lambda s: False, timeout=12, delay=5, sleep=clock.sleep, clock=clock)
    assert (result, problem) == ("pending", "timeout")
    assert fetched == [0, 5, 10, 12]


def test_wait_for_stops_on_failure():
    clock = FakeClock()
    result, problem = aws.wait_for(
        lambda: "failed", lambda s: s == "available", timeout=60, failed=lambda s: "it failed" if s == "failed" else None,
        sleep=clock.sleep, clock=clock,
    )
    assert problem == "it failed"
    assert clock.now == 0


# ------------------------------------------------------------------ retries


def test_is_retryable_error():
    assert aws.is_retryable_error(client_error("Throttling"))
    assert aws.is_retryable_error(client_error("RequestLimitExceeded"))
    assert aws.is_retryable_error(client_error("SomethingNew", status=503))
    assert aws.is_retryable_error(client_error("502"))
    assert aws.is_retryable_error(botocore.parsers.ResponseParserError("bad body"))
    assert aws.is_retryable_error(botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"))
    assert not aws.is_retryable_error(client_error("InvalidSubnetID.NotFound"))
    assert not aws.is_retryable_error(ValueError("x"))
    assert aws.is_retryable_error(client_error("InvalidIPAddress.InUse"), extra_codes=["InvalidIPAddress.InUse"])


def test_create_or_recover_looks_up_before_retrying():
    """The first create went through but its answer was lost (a 500)."""
    created = []

    def create():
        created.append(1)
        raise client_error("InternalError", status=500)

    result, was_created = aws.create_or_recover(create, lambda: {"AllocationId": "eipalloc-1"}, sleep=lambda s: None)
    assert result == {"AllocationId": "eipalloc-1"}
    assert was_created is False
    assert len(created) == 1


def test_create_or_recover_retries_until_created():
    answers = [client_error("Throttling"), client_error("503", status=503), {"AllocationId": "eipalloc-2"}]

    def create():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    result, was_created = aws.create_or_recover(create, lambda: None, sleep=lambda s: None)
    assert result == {"AllocationId": "eipalloc-2"}
    assert was_created is True


def test_create_or_recover_raises_other_errors_and_gives_up():
    def bad():
        raise client_error("AddressLimitExceeded")

    with pytest.raises(botocore.exceptions.ClientError):
        aws.create_or_recover(bad, lambda: None, sleep=lambda s: None)

    def flaky():
        raise client_error("Throttling")

    with pytest.raises(botocore.exceptions.ClientError):
        aws.create_or_recover(flaky, lambda: None, attempts=3, sleep=lambda s: None)


@pytest.fixture
def stubbed_ec2(aws_env):
    client = boto3.client("ec2", region_name="us-west-2")
    stubber = Stubber(client)
    return client, stubber


def test_retry_decorator_retries_throttling_and_5xx(stubbed_ec2, no_sleep):
    """Stubber (EC2 service model): throttling and a 500 are retried, then the call succeeds."""
    client, stubber = stubbed_ec2
    stubber.add_client_error("describe_vpcs", service_error_code="Throttling", http_status_code=400)
    stubber.add_client_error("describe_vpcs", service_error_code="InternalError", http_status_code=500)
    stubber.add_client_error("describe_vpcs", service_error_code="EC2ThrottledException", http_status_code=503)
    stubber.add_response("describe_vpcs", {"Vpcs": [{"VpcId": "vpc-12345678"}]})
    stubber.activate()
    wrapped = RetryingBotoClientWrapper(client, aws.retry_decorator())
    assert wrapped.describe_vpcs(aws_retry=True)["Vpcs"][0]["VpcId"] == "vpc-12345678"
    assert len(no_sleep) == 3
    stubber.assert_no_pending_responses()


def test_retry_decorator_does_not_retry_client_errors(stubbed_ec2, no_sleep):
    client, stubber = stubbed_ec2
    stubber.add_client_error("describe_vpcs", service_error_code="InvalidVpcID.NotFound", http_status_code=400)
    stubber.activate()
    wrapped = RetryingBotoClientWrapper(client, aws.retry_decorator())
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        wrapped.describe_vpcs(aws_retry=True)
    assert caught.value.response["Error"]["Code"] == "InvalidVpcID.NotFound"
    assert no_sleep == []


def test_retry_decorator_retries_unparsable_5xx_bodies(no_sleep):
    """A proxy's HTML error page makes botocore raise ResponseParserError."""
    attempts = []

    def call():
        attempts.append(1)
        if len(attempts) < 3:
            raise botocore.parsers.ResponseParserError("Unable to parse response (<html>500</html>)")
        return "ok"

    assert aws.retry_decorator()(call)() == "ok"
    assert len(attempts) == 3

    def always():
        raise botocore.parsers.ResponseParserError("still broken")

    with pytest.raises(botocore.exceptions.ClientError) as caught:
        aws.retry_decorator(retries=2)(always)()
    assert caught.value.response["Error"]["Code"] == "ResponseParserError"


def test_retry_decorator_extra_codes(no_sleep):
    answers = [client_error("InvalidIPAddress.InUse"), "released"]

    def release():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert aws.retry_decorator(extra_codes=["InvalidIPAddress.InUse"])(release)() == "released"


# --------------------------------------------------------- validation / misc


def test_check_range_and_pattern():
    module = FakeModule(duration_seconds=60, name="ok-name", missing=None)
    with pytest.raises(RuntimeError, match=r"Invalid value for option 'duration_seconds': 60\. Allowed: an integer from 900 to 43200\."):
        aws.check_range(module, "duration_seconds", 900, 43200)
    aws.check_range(module, "missing", 0, 1)
    with pytest.raises(RuntimeError, match=r"at least 100"):
        aws.check_range(module, "duration_seconds", 100)
    aws.check_pattern(module, "name", r"^[a-z-]+$", "Allowed: lower case.")
    with pytest.raises(RuntimeError, match=r"Invalid value for option 'name': 'ok-name'\. Allowed: digits\."):
        aws.check_pattern(module, "name", r"^\d+$", "Allowed: digits.")


def test_check_tags():
    aws.check_tags(FakeModule(tags={"Name": "x", "Env": 1}))
    aws.check_tags(FakeModule(tags=None))
    with pytest.raises(RuntimeError, match="reserved"):
        aws.check_tags(FakeModule(tags={"aws:x": "y"}))
    with pytest.raises(RuntimeError, match="flat key/value"):
        aws.check_tags(FakeModule(tags={"a": {"b": "c"}}))
    with pytest.raises(RuntimeError, match="at most 256"):
        aws.check_tags(FakeModule(tags={"a": "v" * 257}))
    with pytest.raises(RuntimeError, match="1 to 128"):
        aws.check_tags(FakeModule(tags={"k" * 129: "v"}))


def test_iso8601():
    moment = datetime.datetime(2025, 1, 31, 12, 0, 5, 123, tzinfo=datetime.timezone.utc)
    assert aws.iso8601(moment) == "2025-01-31T12:00:05Z"
    assert aws.iso8601(datetime.datetime(2025, 1, 31, 13, 0, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))) == (
        "2025-01-31T12:00:05Z"
    )
    assert aws.iso8601("2025-01-31T12:00:05+00:00") == "2025-01-31T12:00:05Z"
    assert aws.iso8601(None) is None
    assert aws.parse_iso8601("2025-01-31T12:00:05Z") == datetime.datetime(2025, 1, 31, 12, 0, 5, tzinfo=datetime.timezone.utc)
    assert aws.parse_iso8601("2025-01-31T12:00:05").tzinfo is not None
    with pytest.raises(ValueError):
        aws.parse_iso8601("tomorrow")


def test_diff_and_scrub():
    assert aws.diff(None, {"a": 1}) == {"before": {}, "after": {"a": 1}}
    assert aws.scrub_none({"a": None, "b": 0}) == {"b": 0}
    assert aws.invalid_value("x", "y", "Allowed: z.") == "Invalid value for option 'x': 'y'. Allowed: z."


def test_single_attempt_config_wins_over_the_configured_retries():
    config = aws.single_attempt_config({"retries": {"mode": "standard", "total_max_attempts": 10},
                                        "connect_timeout": 7})
    assert config.retries == {"total_max_attempts": 1, "mode": "standard"}
    assert config.connect_timeout == 7
    assert aws.single_attempt_config(None).retries == {"total_max_attempts": 1, "mode": "standard"}


def test_single_attempt_client_makes_one_attempt_despite_aws_config(monkeypatch):
    """The module's aws_config (retries on) is merged after `config`: the single attempt must survive it."""
    from ansible_collections.amazon.aws.plugins.module_utils import botocore as aws_botocore

    made = {}

    def fake_conn(conn_type, resource=None, region=None, endpoint=None, **params):
        made.update(params)
        return object()

    monkeypatch.setattr(aws_botocore, "_boto3_conn", fake_conn)

    class Module:
        params = {"aws_config": {"retries": {"mode": "standard", "total_max_attempts": 10}}, "region": "us-west-2",
                  "endpoint_url": None, "access_key": None, "secret_key": None, "session_token": None,
                  "profile": None, "validate_certs": True, "aws_ca_bundle": None}

        def client(self, service, retry_decorator=None, **extra):
            from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
            return AnsibleAWSModule.client(self, service, retry_decorator, **extra)

    aws.single_attempt_client(Module(), "ec2")
    final = aws_botocore.botocore.config.Config(user_agent="x")
    for key in ("config", "aws_config"):
        if made.get(key) is not None:
            final = final.merge(made[key])
    assert final.retries["total_max_attempts"] == 1


# ------------------------------------------------------- shared module helpers


class Recorder:
    """A module with check mode and diff mode, whose exit and failure are recorded."""

    def __init__(self, check_mode=False, diff=False, **params):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.exited = None

    def exit_json(self, **result):
        self.exited = result

    def fail_json_aws(self, exc, msg):
        raise RuntimeError(msg)


def test_all_pages_follows_the_token_without_changing_the_request():
    pages = [{"Items": [1, 2], "NextToken": "a"}, {"Items": None, "NextToken": "b"}, {"Items": [3]}]
    seen = []

    def call(**request):
        seen.append(request)
        return pages[len(seen) - 1]

    request = {"Filters": ["f"]}
    assert aws.all_pages(call, "Items", request) == [1, 2, 3]
    assert request == {"Filters": ["f"]}
    assert [r.get("NextToken") for r in seen] == [None, "a", "b"]
    assert all(r["aws_retry"] is True for r in seen)
    assert aws.all_pages(lambda **r: {"items": [r.get("nextToken")]}, "items", {}, token="nextToken") == [None]


def test_apply_tags_calls_only_what_differs_and_nothing_in_check_mode():
    calls = []
    after, changed = aws.apply_tags(Recorder(), {"a": "1", "b": "2"}, {"a": 1, "c": "3"}, True,
                                    lambda keys: calls.append(("untag", keys)),
                                    lambda tags: calls.append(("tag", tags)), "failed")
    assert changed and after == {"a": "1", "c": "3"}
    assert calls == [("untag", ["b"]), ("tag", {"c": "3"})]
    calls[:] = []
    in_check_mode = Recorder(check_mode=True)
    assert aws.apply_tags(in_check_mode, {"a": "1"}, {}, True, calls.append, calls.append, "x") == ({}, True)
    assert aws.apply_tags(Recorder(), {"a": "1"}, None, True, calls.append, calls.append, "x") == ({"a": "1"}, False)
    assert calls == []

    def fail(keys):
        raise client_error("AccessDenied")

    with pytest.raises(RuntimeError, match="^no tags for you$"):
        aws.apply_tags(Recorder(), {"a": "1"}, {}, True, fail, fail, "no tags for you")


def test_exit_with_diff():
    module = Recorder()
    aws.exit_with_diff(module, {"changed": True}, {"a": 1}, None)
    assert module.exited == {"changed": True}
    module = Recorder(diff=True)
    aws.exit_with_diff(module, {"changed": True}, {"a": 1}, None)
    assert module.exited == {"changed": True, "diff": {"before": {"a": 1}, "after": {}}}


def test_module_run_names_its_changes_and_words_its_failures():
    run = aws.ModuleRun.__new__(aws.ModuleRun)
    run.module, run.params, run.check, run.actions = Recorder(), {"purge_tags": True}, False, []
    run.fresh = lambda method: method
    made = []

    class Client:
        def untag_it(self, **request):
            made.append(("untag", request))

        def tag_it(self, **request):
            made.append(("tag", request))

        def broken(self, **request):
            raise client_error("Nope")

    run.client = Client()
    final, changed = run.sync_tags("the thing", {"a": "1", "b": "2"}, {"a": "1", "c": 3}, "untag_it", "tag_it",
                                   "TagKey", "TagValue", Id="x")
    assert changed and final == {"a": "1", "c": "3"}
    assert run.actions == ["remove tags b of the thing", "set tags c of the thing"]
    assert made == [("untag", {"TagKeys": ["b"], "Id": "x"}),
                    ("tag", {"Tags": [{"TagKey": "c", "TagValue": "3"}], "Id": "x"})]
    assert run.result(arn="a") == {"changed": True, "actions": run.actions, "arn": "a"}
    with pytest.raises(RuntimeError, match="^Failed to break$"):
        run.call("break", "broken")
    run.subject = "key alias/x"
    with pytest.raises(RuntimeError, match="^Failed to break of key alias/x$"):
        run.call("break", "broken")
    run.check, run.actions, made[:] = True, [], []
    assert run.sync_tags("it", {"a": "1"}, {}, "untag_it", "tag_it") == ({}, True)
    assert run.actions == ["remove tags a of it"] and made == []


# ------------------------------------------------------------ botocore data


def test_sessions_of_one_process_share_one_data_loader():
    """Importing module_utils/aws.py makes every new botocore session of the process use the
    same loader (each model parsed once), still one per data path, and clients still work."""
    import botocore.session

    aws.share_botocore_data()  # a second call changes nothing
    assert botocore.session.create_loader.shared_per_process is True
    first, second = boto3.session.Session(), boto3.session.Session()
    loader = first._session.get_component("data_loader")
    assert second._session.get_component("data_loader") is loader
    assert botocore.session.create_loader("/nonexistent-data-path") is not loader
    ec2 = second.client("ec2", region_name="us-west-2", aws_access_key_id="a", aws_secret_access_key="b")
    assert ec2.meta.service_model.service_name == "ec2"
