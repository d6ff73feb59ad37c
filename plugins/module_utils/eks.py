# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the honeyhive.platform EKS modules.

* an EKS client whose calls retry throttling and 5xx answers (EKS names its
  500 answer ``ServerException``, which the generic list does not know);
* ``clientRequestToken`` values derived from the resource name and the
  request (see ``request_token``);
* Kubernetes version parsing and the one-minor-at-a-time upgrade rule;
* waiting for an EKS update (``DescribeUpdate``) or a resource status;
* EKS tag maps (``TagResource`` / ``UntagResource``);
* the EKS bearer token, made exactly as ``aws eks get-token`` makes it, and
  the kubeconfig built around it, so no AWS CLI is needed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import json
import re

try:
    import botocore
except ImportError:  # handled by AnsibleAWSModule
    botocore = None

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import client_token
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tag_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import wait_for

# EKS answers HTTP 500 as ServerException; retried like every other 5xx.
EKS_RETRY_CODES = ["ServerException"]
NOT_FOUND = "ResourceNotFoundException"

CLUSTER_NAME_RE = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
NODEGROUP_NAME_RE = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,62}$")
# Kubernetes minor versions as EKS names them ("1.33"). Two-digit minors
# only: an unquoted 1.30 in YAML is the number 1.3, which must not pass.
VERSION_RE = re.compile(r"^1\.([1-9][0-9])$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
PRINCIPAL_ARN_RE = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:(role|user|assumed-role)/[\w+=,.@/-]{1,512}$")
KMS_KEY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/+=,.@-]+$")
SUBNET_RE = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP_RE = re.compile(r"^sg-[0-9a-f]{8,17}$")
CIDR_RE = re.compile(r"^(\d{1,3}\.){3}\d{1,3}/\d{1,2}$")

ALLOWED_VERSION = "Allowed: a Kubernetes minor version such as '1.33' (quote it in YAML: an unquoted 1.30 is the number 1.3)."

# aws eks get-token (awscli/customizations/eks/get_token.py)
TOKEN_PREFIX = "k8s-aws-v1."
K8S_AWS_ID_HEADER = "x-k8s-aws-id"
URL_TIMEOUT = 60
TOKEN_EXPIRATION_MINUTES = 14


def eks_client(module):
    """An EKS client; call every method with ``aws_retry=True``."""
    return retrying_client(module, "eks", extra_codes=EKS_RETRY_CODES)


# ---------------------------------------------------------------- tokens


def request_token(operation, name, request, *state):
    """``clientRequestToken`` for one EKS create or update call.

    Derived from the resource name, the operation and the request itself
    (without the token), plus ``state`` (what the resource looked like before:
    its ``modifiedAt`` or the values being changed). A retried call, or a
    re-run of a run that was interrupted before the answer arrived, sends the
    same token, so EKS sees one request; a later, different change to the
    same resource gets a new token, because either the request or the state
    before it differs.
    """
    body = dict((k, v) for k, v in request.items() if k != "clientRequestToken")
    text = json.dumps(body, sort_keys=True, default=str)
    return client_token("eks", operation, name, text, *[json.dumps(s, sort_keys=True, default=str) for s in state])


# -------------------------------------------------------------- versions


def parse_version(text):
    """``"1.33"`` -> ``(1, 33)``; None when the text is not such a version."""
    match = VERSION_RE.match(str(text or ""))
    if not match:
        return None
    return 1, int(match.group(1))


def format_version(version):
    return "%d.%d" % version


def version_step_error(name, current, desired):
    """Why ``current`` -> ``desired`` is not one allowed EKS upgrade, or None.

    EKS upgrades the control plane one minor version at a time and never
    downgrades. Versions EKS reports in another form are compared as text.
    """
    if current == desired:
        return None
    have = parse_version(current)
    want = parse_version(desired)
    if have is None or want is None:
        return None
    if want < have:
        return (
            "Invalid value for option 'version': %r. Cluster %s runs Kubernetes %s and EKS cannot downgrade; "
            "allowed: %s or, one at a time, a later minor version." % (desired, name, current, current)
        )
    nxt = format_version((have[0], have[1] + 1))
    if want != (have[0], have[1] + 1):
        return (
            "Invalid value for option 'version': %r. Cluster %s runs Kubernetes %s and EKS upgrades one minor "
            "version at a time: %s -> %s is not allowed; the next allowed version is %s." % (desired, name, current, current, desired, nxt)
        )
    return None


def check_version(module, option="version"):
    value = module.params.get(option)
    if value is None:
        return
    if parse_version(value) is None:
        module.fail_json(msg=invalid_value(option, value, ALLOWED_VERSION))


# ------------------------------------------------------------ validation


def check_regex(module, option, regex, allowed, value=None):
    """Fail (before any API call) when a str option, or each element of a list
    option, does not match ``regex``."""
    value = module.params.get(option) if value is None else value
    if value is None:
        return
    values = value if isinstance(value, list) else [value]
    for item in values:
        if not regex.match(str(item)):
            module.fail_json(msg=invalid_value(option, item, allowed))


def check_required(module, options, when):
    for option in options:
        value = module.params.get(option)
        if value is None or value == [] or value == "":
            module.fail_json(msg="Option '%s' is required %s." % (option, when))


def check_unique(module, option):
    value = module.params.get(option)
    if value and len(set(value)) != len(value):
        module.fail_json(msg=invalid_value(option, value, "Allowed: a list without duplicates."))


# ------------------------------------------------------------ describing


def describe_or_none(module, call, what, key, **request):
    """``call(**request)[key]`` or None when EKS answers ResourceNotFound."""
    try:
        return call(aws_retry=True, **request)[key]
    except is_boto3_error_code(NOT_FOUND):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to describe %s" % what)


def paginate(module, call, key, what, **request):
    """All items of a paginated EKS list call (``nextToken``)."""
    items = []
    try:
        while True:
            page = call(aws_retry=True, **request)
            items.extend(page.get(key) or [])
            if not page.get("nextToken"):
                return items
            request["nextToken"] = page["nextToken"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list %s" % what)


# --------------------------------------------------------------- waiting


def update_errors(update):
    errors = (update or {}).get("errors") or []
    return "; ".join("%s: %s" % (e.get("errorCode"), e.get("errorMessage")) for e in errors) or "no error details"


def wait_update(module, client, update, what, cluster_name, delay=10, **target):
    """Wait until an EKS update (from an Update* call) has finished.

    ``target`` names the update's resource for ``DescribeUpdate``
    (``nodegroupName`` or ``addonName``). Returns the final update, or None
    when the answer carried no update id (then the caller waits on the
    resource's status instead). A failed or cancelled update fails the module
    with the errors EKS reports.
    """
    if not update or not update.get("id"):
        return None
    update_id = update["id"]

    def fetch():
        if fetch.first is not None:
            answer, fetch.first = fetch.first, None
            return answer
        try:
            return client.describe_update(name=cluster_name, updateId=update_id, aws_retry=True, **target)["update"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Failed to describe update %s of %s" % (update_id, what))

    fetch.first = update

    def failed(current):
        if current.get("status") in ("Failed", "Cancelled"):
            return "update %s (%s) of %s ended %s: %s" % (
                update_id, current.get("type"), what, current.get("status"), update_errors(current))
        return None

    final, problem = wait_for(
        fetch, lambda u: u.get("status") == "Successful", timeout=module.params["wait_timeout"], delay=delay, failed=failed
    )
    if problem == "timeout":
        module.fail_json(
            msg="Timed out after %d seconds (option 'wait_timeout') waiting for update %s (%s) of %s; last status %s."
            % (module.params["wait_timeout"], update_id, final.get("type"), what, final.get("status")),
            update_id=update_id,
        )
    if problem:
        module.fail_json(msg="EKS %s" % problem, update_id=update_id, update_errors=final.get("errors") or [])
    return final


def wait_status(module, fetch, what, done, failed=None, delay=10, timeout=None):
    """Poll ``fetch()`` (a describe returning the resource or None) until
    ``done(resource)``; fail with a message naming ``wait_timeout`` on time out."""
    timeout = module.params["wait_timeout"] if timeout is None else timeout
    resource, problem = wait_for(fetch, done, timeout=timeout, delay=delay, failed=failed)
    if problem == "timeout":
        module.fail_json(
            msg="Timed out after %d seconds (option 'wait_timeout') waiting for %s; last status %s."
            % (timeout, what, (resource or {}).get("status", "not found") if resource is not None else "not found")
        )
    if problem:
        module.fail_json(msg="%s %s" % (what, problem))
    return resource


def health_issues(resource):
    issues = ((resource or {}).get("health") or {}).get("issues") or []
    return "; ".join("%s: %s" % (i.get("code"), i.get("message")) for i in issues) or "no health issues reported"


# ------------------------------------------------------------------ tags


def ensure_tags(module, client, arn, current, desired, purge, what):
    """Bring the tags (EKS tag map) of ``arn`` to ``desired``.

    Returns ``(changed, tags after)``; honours check mode. No API call when
    nothing differs.
    """
    current = current or {}
    to_set, to_unset = tag_diff(current, desired, purge)
    after = dict(current)
    for key in to_unset:
        after.pop(key, None)
    after.update(to_set)
    if not (to_set or to_unset):
        return False, after
    if not module.check_mode:
        try:
            if to_unset:
                client.untag_resource(resourceArn=arn, tagKeys=to_unset, aws_retry=True)
            if to_set:
                client.tag_resource(resourceArn=arn, tags=to_set, aws_retry=True)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Failed to update the tags of %s" % what)
    return True, after


def create_tags(tags):
    """Tags for a create call (None when there are none)."""
    tags = stringify_tags(tags)
    return tags or None


# ------------------------------------------------------ token / kubeconfig


def _retrieve_k8s_aws_id(params, context, **kwargs):
    if K8S_AWS_ID_HEADER in params:
        context[K8S_AWS_ID_HEADER] = params.pop(K8S_AWS_ID_HEADER)


def _inject_k8s_aws_id_header(request, **kwargs):
    if K8S_AWS_ID_HEADER in request.context:
        request.headers[K8S_AWS_ID_HEADER] = request.context[K8S_AWS_ID_HEADER]


def get_token(sts_client, cluster_name, now=None):
    """The EKS bearer token for ``cluster_name``, as ``aws eks get-token`` makes it.

    A SigV4 presigned URL (GET, 60 seconds) for STS ``GetCallerIdentity``
    with the header ``x-k8s-aws-id: <cluster name>`` among the signed
    headers, base64url encoded without padding and prefixed with
    ``k8s-aws-v1.``. Nothing is sent to AWS. Returns ``(token, expiration)``;
    the expiration is the one the CLI reports (14 minutes; EKS accepts a token
    for 15 minutes after signing).
    """
    events = sts_client.meta.events
    events.register("provide-client-params.sts.GetCallerIdentity", _retrieve_k8s_aws_id)
    events.register("before-sign.sts.GetCallerIdentity", _inject_k8s_aws_id_header)
    try:
        url = sts_client.generate_presigned_url(
            "get_caller_identity",
            Params={K8S_AWS_ID_HEADER: cluster_name},
            ExpiresIn=URL_TIMEOUT,
            HttpMethod="GET",
        )
    finally:
        events.unregister("provide-client-params.sts.GetCallerIdentity", _retrieve_k8s_aws_id)
        events.unregister("before-sign.sts.GetCallerIdentity", _inject_k8s_aws_id_header)
    token = TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode("utf-8")).decode("utf-8").rstrip("=")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    expiration = (now + datetime.timedelta(minutes=TOKEN_EXPIRATION_MINUTES)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return token, expiration


def token_url(token):
    """The presigned URL inside an EKS token (for checks and tests)."""
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError("not an EKS token")
    body = token[len(TOKEN_PREFIX):]
    body += "=" * (-len(body) % 4)
    return base64.urlsafe_b64decode(body.encode("ascii")).decode("utf-8")


def build_kubeconfig(name, endpoint, ca_data, token=None):
    """A kubeconfig with one cluster, user and context, all called ``name``.

    The user carries ``token`` when given, and no credentials otherwise.
    """
    user = {"token": token} if token else {}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }


def without_tokens(config):
    """A copy of a kubeconfig dict with every user's ``token`` removed."""
    if not isinstance(config, dict):
        return config
    copy = dict(config)
    users = []
    for entry in config.get("users") or []:
        if isinstance(entry, dict) and isinstance(entry.get("user"), dict):
            entry = dict(entry, user=dict((k, v) for k, v in entry["user"].items() if k != "token"))
        users.append(entry)
    if "users" in config:
        copy["users"] = users
    return copy
