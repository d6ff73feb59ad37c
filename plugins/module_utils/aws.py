# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the honeyhive.platform AWS modules.

* retrying clients: every call made with ``aws_retry=True`` goes through
  ``AWSRetry.jittered_backoff`` and retries throttling and 5xx answers;
* deterministic client / idempotency tokens derived from a resource name;
* tag dict <-> list conversion, tag diffs and EC2 tag filters;
* polling with a timeout (``wait_for``) and safe creation of resources whose
  create call has no idempotency token (``create_or_recover``);
* every page of a call paginated with ``NextToken`` (``all_pages``);
* ``ModuleRun``: the run of a module that lists its changes as ``actions``
  (check mode makes no mutating call) and words its failed calls the same way;
* small validation and formatting helpers so every module words its errors
  the same way;
* one botocore data loader per Python process (``share_botocore_data``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import functools
import hashlib
import random
import re
import time

try:
    import botocore
    import botocore.exceptions
    import botocore.parsers
    from botocore.config import Config
except ImportError:  # handled by AnsibleAWSModule
    botocore = None
    Config = None

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

def share_botocore_data():
    """Let every botocore session of this Python process use one data loader.

    Each module builds its clients through a new boto3 session, and a new session parses
    botocore's JSON data files again: the endpoint rules and each service's model, about
    0.1 s per client. Where one interpreter runs many modules (Mitogen, which the phase
    playbooks use), a loader per process parses each file once. The loader only caches the
    files as botocore ships them, as it already does for the clients of one session; the
    data path (``AWS_DATA_PATH``) keys the cache, so a different path gets its own loader.
    Called once, when this file is imported; harmless where a process runs one module.
    """
    if botocore is None:
        return
    from botocore import session as botocore_session

    if getattr(botocore_session.create_loader, "shared_per_process", False):
        return
    create = botocore_session.create_loader
    loaders = {}

    @functools.wraps(create)
    def create_loader(search_path_string=None):
        if search_path_string not in loaders:
            loaders[search_path_string] = create(search_path_string)
        return loaders[search_path_string]

    create_loader.shared_per_process = True
    botocore_session.create_loader = create_loader


share_botocore_data()


def share_assumed_credentials():
    """Let the botocore sessions of this Python process share the credentials of a role profile.

    The phase playbooks hand every module a profile that assumes the deployment role
    (honeyhive.platform.assume_role); botocore assumes it once per session and keeps the result
    in a cache it is given, or in a dict of that one session. Where one interpreter runs many
    modules (Mitogen), one dict per process lets them all use the same credentials until
    botocore's own refresh window (the last 15 minutes of a session) instead of calling
    AssumeRole once per module. The cache lives in memory only and goes with the process.
    """
    if botocore is None:
        return
    from botocore import credentials as botocore_credentials

    if getattr(botocore_credentials.create_credential_resolver, "shared_per_process", False):
        return
    create = botocore_credentials.create_credential_resolver
    shared = {}

    @functools.wraps(create)
    def create_credential_resolver(session, cache=None, region_name=None):
        return create(session, cache=shared if cache is None else cache, region_name=region_name)

    create_credential_resolver.shared_per_process = True
    botocore_credentials.create_credential_resolver = create_credential_resolver


share_assumed_credentials()

# Error codes retried on top of the ones AWSRetry already knows (throttling
# spellings of the different services, and the bare HTTP status botocore
# reports when a 5xx answer has no parsable body).
RETRY_EXTRA_CODES = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "EC2ThrottledException",
    "SlowDown",
    "PriorRequestNotComplete",
    "ServiceFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "InternalServiceError",
    "InternalServiceErrorException",
    "ConcurrentModification",
    "ConcurrentModificationException",
    "ResponseParserError",
    "ConnectionError",
    "500",
    "502",
    "503",
    "504",
]

RETRY_DEFAULTS = dict(retries=8, delay=1, backoff=2, max_delay=20)

TOKEN_ALPHABET_RE = re.compile(r"^[0-9a-f]+$")


def _transport_errors():
    if botocore is None:
        return ()
    return (
        botocore.parsers.ResponseParserError,
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectionClosedError,
        botocore.exceptions.ReadTimeoutError,
        botocore.exceptions.ConnectTimeoutError,
    )


def _as_client_error(func):
    """Turn errors AWSRetry cannot see into retryable ``ClientError``s.

    A 5xx answer whose body is not the service's XML/JSON (a proxy or load
    balancer page) makes botocore raise ``ResponseParserError``, and dropped
    connections raise connection errors once botocore's own retries are
    spent. ``AWSRetry`` only looks at ``ClientError`` codes, so these are
    re-raised as ``ClientError`` with the code ``ResponseParserError`` or
    ``ConnectionError`` (both in ``RETRY_EXTRA_CODES``).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except _transport_errors() as exc:
            code = "ResponseParserError" if isinstance(exc, botocore.parsers.ResponseParserError) else "ConnectionError"
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": code, "Message": str(exc)}, "ResponseMetadata": {}},
                getattr(func, "__name__", "request"),
            ) from exc

    return wrapper


def retry_decorator(extra_codes=None, **overrides):
    """``AWSRetry.jittered_backoff`` with our defaults and extra error codes.

    Retries throttling, 5xx answers (with or without a parsable body) and
    dropped connections.
    """
    settings = dict(RETRY_DEFAULTS)
    settings.update(overrides)
    codes = list(RETRY_EXTRA_CODES)
    if extra_codes:
        codes.extend(extra_codes)
    backoff = AWSRetry.jittered_backoff(catch_extra_error_codes=codes, **settings)

    def decorator(func):
        return backoff(_as_client_error(func))

    return decorator


def retrying_client(module, service, extra_codes=None, **extra_params):
    """A client whose calls retry with ``aws_retry=True`` (use it on every call)."""
    return module.client(service, retry_decorator=retry_decorator(extra_codes=extra_codes), **extra_params)


def single_attempt_client(module, service):
    """A client on which botocore itself never retries.

    Used only for create calls that have no idempotency token (for example
    ``AllocateAddress``): a blind retry after an answer that was lost could
    create a second resource, so ``create_or_recover`` looks the resource up
    before it tries again.

    The single attempt wins over the retries of the module's ``aws_config``
    (the phase playbooks set botocore's retries for every AWS module), which
    would otherwise be merged over it.
    """
    return module.client(service, aws_config=single_attempt_config(module.params.get("aws_config")))


def single_attempt_config(aws_config=None):
    """``aws_config`` (a dict of botocore ``Config`` options, or None) with botocore's retries off."""
    single = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    if not aws_config:
        return single
    return Config(**aws_config).merge(single)


def boto_errors():
    """The botocore exceptions a failed AWS call raises."""
    return (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)


def error_code(exc):
    """The AWS error code of a botocore exception, or None."""
    response = getattr(exc, "response", None) or {}
    return (response.get("Error") or {}).get("Code")


def is_retryable_error(exc, extra_codes=None):
    """True when ``exc`` is throttling, a 5xx or a dropped connection."""
    if isinstance(exc, _transport_errors()):
        return True
    code = error_code(exc)
    if code is None:
        return False
    status = (getattr(exc, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    if isinstance(status, int) and status >= 500:
        return True
    if AWSRetry.found(code, RETRY_EXTRA_CODES + list(extra_codes or [])):
        return True
    return False


# How long a policy that names a principal made moments ago is retried (IAM propagates a new
# role or OIDC provider to the policy engines of IAM, KMS, S3 ... within seconds, at times
# minutes; terraform-provider-aws waits up to 2 minutes, its PropagationTimeout).
PROPAGATION_TIMEOUT = 120
# The answers AWS gives meanwhile: IAM (CreateRole, UpdateAssumeRolePolicy), KMS (CreateKey,
# PutKeyPolicy) and S3 (PutBucketPolicy) respectively.
PRINCIPAL_PROPAGATION = {
    "MalformedPolicyDocument": "invalid principal",
    "MalformedPolicyDocumentException": "invalid principal",
    "MalformedPolicy": "invalid principal",
}


def is_principal_propagation(exc):
    """True when AWS refused a policy because a principal it names is not (yet) known."""
    code = error_code(exc)
    if code not in PRINCIPAL_PROPAGATION:
        return False
    message = ((getattr(exc, "response", None) or {}).get("Error") or {}).get("Message") or ""
    return PRINCIPAL_PROPAGATION[code] in message.lower()


def while_propagating(call, timeout=PROPAGATION_TIMEOUT, sleep=None, clock=None, propagating=None):
    """``call()``, again while AWS answers that something it names is not known yet (by
    default: a principal of its policy).

    A principal made moments ago (the GitHub deploy role the deployment role trusts, a
    cluster's OIDC provider an IRSA role trusts) is refused for a while; a principal that
    does not exist at all is refused the same way, and after ``timeout`` seconds that answer
    is raised. Any other error is raised at once. ``propagating(exc)`` recognises the answer
    (default ``is_principal_propagation``; a service that is passed a role words it its own way).
    """
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    propagating = propagating or is_principal_propagation
    deadline = clock() + timeout
    delay = 1.0
    while True:
        try:
            return call()
        except Exception as exc:  # pylint: disable=broad-except
            if not propagating(exc) or clock() >= deadline:
                raise
            sleep(min(delay, max(0.0, deadline - clock())))
            delay = min(delay * 2, 10.0)


def create_or_recover(create, recover, attempts=6, delay=1.0, max_delay=15.0, sleep=None):
    """Run a create call that has no idempotency token, without duplicates.

    ``create()`` is tried once per attempt. When it fails with a retryable
    error the request may still have been applied, so ``recover()`` (a lookup
    by the resource's tags) runs before the next attempt; whatever it finds is
    returned instead of creating again. Returns ``(result, created)``.
    """
    sleep = sleep or time.sleep
    last = None
    for attempt in range(attempts):
        if attempt:
            sleep(random.uniform(0, min(max_delay, delay * (2 ** attempt))))
            found = recover()
            if found:
                return found, False
        try:
            return create(), True
        except Exception as exc:  # pylint: disable=broad-except
            if not is_retryable_error(exc):
                raise
            last = exc
    raise last


def all_pages(call, key, request, token="NextToken"):
    """Every item under ``key`` of all the pages of ``call(**request)``.

    The call is made with ``aws_retry=True``; the next page is asked for with
    the ``token`` (``NextToken``, or ``nextToken`` for EKS) of the one before.
    """
    request = dict(request)
    items = []
    while True:
        page = call(aws_retry=True, **request)
        items.extend(page.get(key) or [])
        if not page.get(token):
            return items
        request[token] = page[token]


# ---------------------------------------------------------------- tokens


def client_token(*parts, **kwargs):
    """Deterministic token for ``ClientToken`` / ``IdempotencyToken``.

    The same parts always give the same token, so a retried or re-run create
    call is recognised by AWS as the same request. ``length`` (default 64, the
    EC2 limit) trims the hex digest; ACM's IdempotencyToken allows 32.
    """
    length = kwargs.pop("length", 64)
    prefix = kwargs.pop("prefix", "hh")
    if kwargs:
        raise TypeError("unexpected arguments: %s" % ", ".join(sorted(kwargs)))
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return (prefix + digest)[:length]


# ------------------------------------------------------------------ tags


def tags_to_dict(tag_list, key_name=None, value_name=None):
    """``[{'Key': k, 'Value': v}]`` (any key spelling) -> ``{k: v}``."""
    if not tag_list:
        return {}
    return boto3_tag_list_to_ansible_dict(tag_list, key_name, value_name)


def tags_to_list(tags, key_name="Key", value_name="Value"):
    """``{k: v}`` -> ``[{'Key': k, 'Value': v}]`` sorted by key."""
    if not tags:
        return []
    return sorted(ansible_dict_to_boto3_tag_list(tags, key_name, value_name), key=lambda t: t[key_name])


def tag_diff(current, desired, purge=True):
    """What to set and unset to go from ``current`` to ``desired`` tags.

    ``desired=None`` means tags are not managed: nothing to do. Reserved
    ``aws:`` keys are never purged. Returns ``(to_set: dict, to_unset: list)``.
    """
    if desired is None:
        return {}, []
    to_set, to_unset = compare_aws_tags(current or {}, stringify_tags(desired), purge_tags=purge)
    return to_set, sorted(to_unset)


def desired_tags(current, desired, purge=True):
    """The tag dict a resource ends up with after ``tag_diff`` is applied."""
    to_set, to_unset = tag_diff(current, desired, purge)
    result = dict(current or {})
    for key in to_unset:
        result.pop(key, None)
    result.update(to_set)
    return result


def stringify_tags(tags):
    """Tag values as AWS stores them (strings)."""
    if not tags:
        return {}
    return {str(k): "" if v is None else str(v) for k, v in tags.items()}


def ec2_tag_filters(tags):
    """EC2 ``Filters`` entries matching every tag in ``tags``."""
    return [{"Name": "tag:%s" % key, "Values": [value]} for key, value in sorted(stringify_tags(tags).items())]


def ec2_tag_specifications(resource_type, tags):
    """``TagSpecifications`` for a create call (None when there are no tags)."""
    tag_list = tags_to_list(stringify_tags(tags))
    if not tag_list:
        return None
    return [{"ResourceType": resource_type, "Tags": tag_list}]


def ensure_ec2_tags(client, resource_id, current, desired, purge=True):
    """Bring the EC2 tags of ``resource_id`` to ``desired``. Returns changed.

    Works from the tags the describe call already returned, so it costs no
    extra API call when nothing has to change.
    """
    to_set, to_unset = tag_diff(current, desired, purge)
    if to_unset:
        client.delete_tags(Resources=[resource_id], Tags=[{"Key": k} for k in to_unset], aws_retry=True)
    if to_set:
        client.create_tags(Resources=[resource_id], Tags=tags_to_list(to_set), aws_retry=True)
    return bool(to_set or to_unset)


def apply_tags(module, current, desired, purge, untag, tag, failure):
    """Bring a resource's tags from ``current`` to ``desired`` (see ``tag_diff``).

    ``untag(keys)`` and ``tag(to_set)`` make the service's calls; none is made
    in check mode or when nothing differs, and a failed one fails the module
    with ``failure``. Returns ``(tags after, changed)``.
    """
    current = current or {}
    to_set, to_unset = tag_diff(current, desired, purge)
    if not (to_set or to_unset):
        return dict(current), False
    if not module.check_mode:
        try:
            if to_unset:
                untag(to_unset)
            if to_set:
                tag(to_set)
        except boto_errors() as e:
            module.fail_json_aws(e, msg=failure)
    return desired_tags(current, desired, purge), True


def update_ec2_tags(module, client, resource_id, current, desired, purge, failure):
    """``ensure_ec2_tags`` for a module: no call in check mode, ``failure`` as the
    message of a failed call. Returns the tags after, or None when nothing differs."""
    if tag_diff(current, desired, purge) == ({}, []):
        return None
    if not module.check_mode:
        try:
            ensure_ec2_tags(client, resource_id, current, desired, purge)
        except boto_errors() as e:
            module.fail_json_aws(e, msg=failure)
    return desired_tags(current, desired, purge)


def ec2_tag_list(tags):
    """``{k: v}`` -> ``[{'Key': k, 'Value': v}]`` in the order of ``tags``."""
    return [{"Key": k, "Value": v} for k, v in tags.items()]


# --------------------------------------------------------------- waiting


def wait_for(fetch, done, timeout, delay=5, failed=None, sleep=None, clock=None):
    """Poll ``fetch()`` until ``done(result)`` is true.

    ``failed(result)`` may return a message to stop early (terminal failure
    states). Returns ``(result, None)`` on success or ``(last_result, reason)``
    where reason is ``'timeout'`` or the failure message; callers turn it into
    a ``fail_json`` naming what they waited for.
    """
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = clock() + max(0, timeout)
    while True:
        result = fetch()
        if failed is not None:
            message = failed(result)
            if message:
                return result, message
        if done(result):
            return result, None
        remaining = deadline - clock()
        if remaining <= 0:
            return result, "timeout"
        sleep(min(delay, remaining))


# ----------------------------------------------------- validation / output


def invalid_value(option, value, allowed):
    """The standard wording for a rejected option value."""
    return "Invalid value for option '%s': %r. %s" % (option, value, allowed)


def check_range(module, option, minimum=None, maximum=None):
    """Fail (before any API call) when an int option is outside its range."""
    value = module.params.get(option)
    if value is None:
        return
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if maximum is None:
            allowed = "Allowed: an integer of at least %d." % minimum
        elif minimum is None:
            allowed = "Allowed: an integer of at most %d." % maximum
        else:
            allowed = "Allowed: an integer from %d to %d." % (minimum, maximum)
        module.fail_json(msg=invalid_value(option, value, allowed))


def check_pattern(module, option, pattern, allowed):
    """Fail (before any API call) when a str option does not match ``pattern``."""
    value = module.params.get(option)
    if value is None:
        return
    if not re.match(pattern, value):
        module.fail_json(msg=invalid_value(option, value, allowed))


def check_tags(module, option="tags"):
    """Tags must be a flat mapping of non-empty keys (max 128) to values (max 256)."""
    check_tag_map(module, option, module.params.get(option))


def check_tag_map(module, option, tags):
    """``check_tags`` for a tag map that is not a top-level option (``option`` names it)."""
    if not tags:
        return
    for key, value in tags.items():
        key = str(key)
        if not key or len(key) > 128:
            module.fail_json(msg=invalid_value(option, key, "Allowed: tag keys of 1 to 128 characters."))
        if key.lower().startswith("aws:"):
            module.fail_json(msg=invalid_value(option, key, "Allowed: tag keys that do not start with 'aws:' (reserved by AWS)."))
        if isinstance(value, (dict, list)):
            module.fail_json(
                msg=invalid_value(option, {key: value}, "Allowed: string values (tags are a flat key/value mapping).")
            )
        if value is not None and len(str(value)) > 256:
            module.fail_json(msg=invalid_value(option, key, "Allowed: tag values of at most 256 characters."))


def iso8601(value):
    """A datetime (or ISO 8601 string) as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime.datetime):
        value = parse_iso8601(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso8601(text):
    """Parse an ISO 8601 timestamp; naive values are taken as UTC. Raises ValueError."""
    if isinstance(text, datetime.datetime):
        value = text
    else:
        text = str(text).strip()
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def scrub_none(params):
    """A copy of ``params`` without the keys whose value is None."""
    return {k: v for k, v in params.items() if v is not None}


def diff(before, after):
    """A ``diff`` result entry (``before``/``after``) for ``--diff`` runs."""
    return {"before": before if before is not None else {}, "after": after if after is not None else {}}


def exit_with_diff(module, result, before, after):
    """``exit_json`` with ``result``, plus its ``diff`` in diff mode."""
    if module._diff:
        result["diff"] = diff(before, after)
    module.exit_json(**result)


# ------------------------------------------------------------------ runs


class ModuleRun:
    """One run of a module that converges a resource.

    Every change is named in ``actions`` (``act``); in check mode it is only
    named. Mutating calls go through ``call``: retried, also on ``fresh_codes``
    (the answers while a resource made moments ago is not visible yet), and a
    failure is reported as ``Failed to <what> of <subject>`` (``Failed to
    <what>`` without a subject).
    """

    subject = None

    def __init__(self, module, service, fresh_codes=None, params=None, client=None):
        self.module = module
        # A module that converges a list of resources runs one ModuleRun per item, each with
        # the item's options as ``params`` and all of them on one ``client``.
        self.params = module.params if params is None else params
        self.check = module.check_mode
        self.client = retrying_client(module, service) if client is None else client
        self.fresh = retry_decorator(extra_codes=fresh_codes)
        self.actions = []

    @property
    def changed(self):
        return bool(self.actions)

    def act(self, message):
        """Name a change; True when it is to be made (not in check mode)."""
        self.actions.append(message)
        return not self.check

    def failure(self, what):
        if self.subject is None:
            return "Failed to %s" % what
        return "Failed to %s of %s" % (what, self.subject)

    def call(self, what, method, **request):
        """A mutating call; retried, also while the resource is not visible yet, and while a
        principal its policy names is not known yet (``while_propagating``)."""
        try:
            return while_propagating(lambda: self.fresh(getattr(self.client, method))(**request))
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg=self.failure(what))

    def result(self, **values):
        """The module result: ``changed``, ``actions`` and ``values``."""
        return dict(changed=self.changed, actions=self.actions, **values)

    def sync_tags(self, what, current, desired, untag, tag, key_name="Key", value_name="Value", **target):
        """Bring the tags of the resource ``target`` names to ``desired`` with the
        ``untag`` and ``tag`` methods (``TagKeys`` / ``Tags`` requests). ``current``
        is the tag dict; ``desired`` None leaves the tags alone. Returns
        ``(tags after, changed)``."""
        to_set, to_unset = tag_diff(current, desired, self.params["purge_tags"])
        if to_unset and self.act("remove tags %s of %s" % (", ".join(to_unset), what)):
            self.call("untag", untag, TagKeys=to_unset, **target)
        if to_set and self.act("set tags %s of %s" % (", ".join(sorted(to_set)), what)):
            self.call("tag", tag, Tags=tags_to_list(to_set, key_name, value_name), **target)
        final = dict((k, v) for k, v in current.items() if k not in to_unset)
        final.update(to_set)
        return final, bool(to_set or to_unset)
