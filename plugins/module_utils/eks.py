# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the honeyhive.platform EKS modules.

* an EKS client whose calls retry throttling and 5xx answers (EKS names its
  500 answer ``ServerException``, which the generic list does not know);
* ``clientRequestToken`` values derived from the resource name and the
  request (see ``request_token``);
* the one-minor-at-a-time upgrade rule as a module's failure message (the
  rule itself and version parsing are in ``k8s_version``);
* waiting for an EKS update (``DescribeUpdate``) or a resource status;
* what the resource modules do the same way: their common options, creating
  or adopting, deleting and waiting until gone, and calls that wait for a busy
  cluster;
* what an absent member of a Describe answer means (``current``): EKS leaves
  some members out when they are empty;
* EKS tag maps (``TagResource`` / ``UntagResource``);
* the kubeconfig of a cluster, whose exec plugin (``eks_token``) makes the
  EKS bearer tokens as they are needed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import all_pages
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import apply_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import client_token
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import error_code
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import wait_for
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import while_propagating
from ansible_collections.honeyhive.platform.plugins.module_utils.k8s_version import ALLOWED_VERSION
from ansible_collections.honeyhive.platform.plugins.module_utils.k8s_version import parse_version
from ansible_collections.honeyhive.platform.plugins.module_utils.k8s_version import version_step

# EKS answers HTTP 500 as ServerException; retried like every other 5xx.
EKS_RETRY_CODES = ["ServerException"]
NOT_FOUND = "ResourceNotFoundException"
IN_USE = "ResourceInUseException"
# Answers of a cluster that is being created or updated.
BUSY_CODES = (IN_USE, "InvalidRequestException")

CLUSTER_NAME_RE = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
NODEGROUP_NAME_RE = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,62}$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
PRINCIPAL_ARN_RE = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:(role|user|assumed-role)/[\w+=,.@/-]{1,512}$")
KMS_KEY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/+=,.@-]+$")
SUBNET_RE = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP_RE = re.compile(r"^sg-[0-9a-f]{8,17}$")
CIDR_RE = re.compile(r"^(\d{1,3}\.){3}\d{1,3}/\d{1,2}$")

# Members EKS leaves out of its Describe answers when they are empty (a node
# group without taints has no ``taints`` at all), as dotted paths, and the
# empty value such an absent member stands for. ``current`` reads them.
OMITTED_WHEN_EMPTY = {
    "taints": [],
    "labels": {},
    "tags": {},
    "kubernetesGroups": [],
    "encryptionConfig": [],
    "logging.clusterLogging": [],
    "resourcesVpcConfig.subnetIds": [],
    "resourcesVpcConfig.securityGroupIds": [],
    "resourcesVpcConfig.publicAccessCidrs": [],
    "serviceAccountRoleArn": "",
    "configurationValues": "",
    "podIdentityAssociations": [],
}

# Control plane log types in the order EKS lists them.
LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

ALLOWED_CLUSTER_NAME = "Allowed: 1 to 100 letters, digits, hyphens and underscores, starting with a letter or digit."


def eks_client(module):
    """An EKS client; call every method with ``aws_retry=True``."""
    return retrying_client(module, "eks", extra_codes=EKS_RETRY_CODES)


def resource_options(wait_timeout):
    """The options every EKS resource module ends with: ``tags``, ``purge_tags``,
    ``wait``, ``wait_timeout`` (default ``wait_timeout`` seconds) and ``state``."""
    return dict(
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=wait_timeout),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


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


def version_step_error(name, current, desired):
    """Why ``current`` -> ``desired`` is not one allowed EKS upgrade, or None.

    EKS upgrades the control plane one minor version at a time and never
    downgrades (``k8s_version.version_step``). Versions EKS reports in another
    form are compared as text.
    """
    problem = version_step(current, desired)
    if problem is None:
        return None
    kind, nxt = problem
    if kind == "downgrade":
        return (
            "Invalid value for option 'version': %r. Cluster %s runs Kubernetes %s and EKS cannot downgrade; "
            "allowed: %s or, one at a time, a later minor version." % (desired, name, current, current)
        )
    return (
        "Invalid value for option 'version': %r. Cluster %s runs Kubernetes %s and EKS upgrades one minor "
        "version at a time: %s -> %s is not allowed; the next allowed version is %s." % (desired, name, current, current, desired, nxt)
    )


def check_version(module, option="version"):
    value = module.params.get(option)
    if value is None:
        return
    if parse_version(value) is None:
        module.fail_json(msg=invalid_value(option, value, ALLOWED_VERSION))


# ------------------------------------------------------------ validation


def check_cluster_name(module, option="cluster_name"):
    """Fail (before any API call) when ``option`` is not an EKS cluster name."""
    if not CLUSTER_NAME_RE.match(module.params[option] or ""):
        module.fail_json(msg=invalid_value(option, module.params[option], ALLOWED_CLUSTER_NAME))


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
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to describe %s" % what)


def describe_cluster(module, client, name):
    """The cluster ``name`` (``DescribeCluster``), or None."""
    return describe_or_none(module, client.describe_cluster, "EKS cluster %s" % name, "cluster", name=name)


def paginate(module, call, key, what, **request):
    """All items of a paginated EKS list call (``nextToken``)."""
    try:
        return all_pages(call, key, request, token="nextToken")
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to list %s" % what)


def current(resource, path):
    """The value of member ``path`` (dotted, such as ``resourcesVpcConfig.subnetIds``)
    of an EKS Describe answer, to compare a desired value with.

    EKS leaves a member out of its answers when it is empty: a node group
    without taints has no ``taints``. Such a member (``OMITTED_WHEN_EMPTY``)
    counts as its empty value when absent, so that a desired value is compared
    with it and a change is made, never skipped as "not reported". Any other
    member that is absent is None: EKS always reports it, so an answer without
    it is not compared and nothing is updated blindly.
    """
    value = resource
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            break
    if value is None and path in OMITTED_WHEN_EMPTY:
        return copy.deepcopy(OMITTED_WHEN_EMPTY[path])
    return value


def vpc_config(cluster):
    return cluster.get("resourcesVpcConfig") or {}


def enabled_logs(cluster):
    """Sorted enabled log types (none when EKS leaves the setups out)."""
    setups = current(cluster, "logging.clusterLogging")
    enabled = set()
    for setup in setups:
        if setup.get("enabled"):
            enabled.update(setup.get("types") or [])
    return [t for t in LOG_TYPES if t in enabled] + sorted(t for t in enabled if t not in LOG_TYPES)


def secrets_key(cluster):
    for entry in cluster.get("encryptionConfig") or []:
        if "secrets" in (entry.get("resources") or []):
            return (entry.get("provider") or {}).get("keyArn")
    return None


def cluster_view(cluster, updates=None):
    """What eks_cluster and eks_cluster_info return of a cluster (DescribeCluster's ``cluster``)."""
    vpc = vpc_config(cluster)
    access = cluster.get("accessConfig") or {}
    access_view = {}
    if "authenticationMode" in access:
        access_view["authentication_mode"] = access["authenticationMode"]
    if "bootstrapClusterCreatorAdminPermissions" in access:
        access_view["bootstrap_cluster_creator_admin_permissions"] = access["bootstrapClusterCreatorAdminPermissions"]
    return dict(
        name=cluster.get("name"),
        arn=cluster.get("arn"),
        status=cluster.get("status"),
        version=cluster.get("version"),
        platform_version=cluster.get("platformVersion"),
        endpoint=cluster.get("endpoint"),
        certificate_authority_data=(cluster.get("certificateAuthority") or {}).get("data"),
        oidc_issuer=((cluster.get("identity") or {}).get("oidc") or {}).get("issuer"),
        role_arn=cluster.get("roleArn"),
        vpc_id=vpc.get("vpcId"),
        subnet_ids=list(vpc.get("subnetIds") or []),
        security_group_ids=list(vpc.get("securityGroupIds") or []),
        cluster_security_group_id=vpc.get("clusterSecurityGroupId"),
        endpoint_public_access=vpc.get("endpointPublicAccess"),
        endpoint_private_access=vpc.get("endpointPrivateAccess"),
        public_access_cidrs=list(vpc.get("publicAccessCidrs") or []),
        logging=enabled_logs(cluster),
        access_config=access_view,
        encryption_config=[
            dict(resources=list(e.get("resources") or []), key_arn=(e.get("provider") or {}).get("keyArn"))
            for e in cluster.get("encryptionConfig") or []
        ],
        secrets_encryption_kms_key_arn=secrets_key(cluster),
        upgrade_policy=(cluster.get("upgradePolicy") or {}).get("supportType"),
        tags=dict(cluster.get("tags") or {}),
        updates=list(updates or []),
    )


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
        except boto_errors() as e:
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


# ------------------------------------------------- create / delete / busy


def is_role_propagation(exc):
    """EKS's answer while a role it is passed (cluster, node, pod identity, add-on role) is new.

    EKS cannot assume a role IAM has not propagated to it yet and answers
    InvalidParameterException ("Role with arn: ..., could not be assumed because it does not
    exist or the trusted entity is not correct"); terraform-provider-aws retries exactly this.
    A role that does not exist at all, or does not trust EKS, gets the same answer for good:
    after the propagation timeout it is reported as it is.
    """
    if error_code(exc) != "InvalidParameterException":
        return False
    message = ((getattr(exc, "response", None) or {}).get("Error") or {}).get("Message") or ""
    return "could not be assumed" in message or ("role" in message.lower() and "does not exist" in message)


def create_or_adopt(module, call, key, describe, kind, failure, missing=None, **request):
    """``(call(**request)[key], True)`` for a Create* call.

    When EKS answers that the resource exists (a concurrent run, or a retried
    create whose first answer was lost) it is ``(describe(), False)`` instead,
    so that the existing one is converged. ``kind`` names the resource in the
    message when it cannot be described; ``missing`` is the message when the
    cluster does not exist (ResourceNotFoundException), ``failure`` that of
    any other error.
    """
    try:
        return while_propagating(lambda: call(aws_retry=True, **request), propagating=is_role_propagation)[key], True
    except is_boto3_error_code(IN_USE):
        found = describe()
        if found is None:
            module.fail_json(msg="EKS reports %s exists but it cannot be described" % kind)
        return found, False
    except boto_errors() as e:  # pylint: disable=duplicate-except
        if missing is not None and error_code(e) == NOT_FOUND:
            module.fail_json_aws(e, msg=missing)
        module.fail_json_aws(e, msg=failure)


def delete_and_wait(module, resource, call, fetch, what, delay, in_use=None, failed_status="DELETE_FAILED", **request):
    """Delete ``resource`` (as described) with ``call(**request)`` unless it is
    DELETING already and, with O(wait), wait until ``fetch()`` finds it gone.

    Nothing happens in check mode. ``what`` names the resource in messages;
    ``in_use`` is the message when EKS refuses with ResourceInUseException, and
    the status ``failed_status`` ends the wait as a failure.
    """
    if module.check_mode:
        return
    if resource.get("status") != "DELETING":
        try:
            call(aws_retry=True, **request)
        except is_boto3_error_code(NOT_FOUND):
            pass
        except boto_errors() as e:  # pylint: disable=duplicate-except
            if in_use is not None and error_code(e) == IN_USE:
                module.fail_json_aws(e, msg=in_use)
            module.fail_json_aws(e, msg="Failed to delete %s" % what)
    if not module.params["wait"]:
        return

    def failed(current):
        if current and current.get("status") == failed_status:
            return "could not be deleted: %s" % health_issues(current)
        return None

    wait_status(module, fetch, "%s to be deleted" % what, lambda r: r is None, failed=failed if failed_status else None,
                delay=delay)


def check_not_deleting(module, resource, what):
    """Fail when ``resource`` is being deleted: it can be converged once it is gone."""
    if resource is not None and resource.get("status") == "DELETING":
        module.fail_json(msg="%s is being deleted; run again once it is gone." % what)


def wait_cluster_ready(module, client, name, delay):
    """Wait until cluster ``name`` is ACTIVE (or gone)."""
    wait_status(
        module, lambda: describe_cluster(module, client, name), "EKS cluster %s to be ACTIVE" % name,
        lambda c: c is None or c.get("status") == "ACTIVE", delay=delay,
    )


def call_when_ready(module, client, call, what, missing=None, recover=None, not_found_ok=False, delay=15, **request):
    """One mutating call on a resource of cluster O(cluster_name).

    When EKS answers that the cluster is busy (being created or updated) and
    O(wait) is set, wait for the cluster to be ACTIVE and try once more. On
    ResourceInUseException ``recover()`` is asked first (a retried create
    whose first answer was lost); a truthy answer is returned instead. On
    ResourceNotFoundException the answer is None with ``not_found_ok``, else
    the module fails saying ``missing`` (by default: the cluster does not
    exist). A role EKS cannot assume yet (``is_role_propagation``) is tried
    again while IAM propagates it.
    """
    params = module.params
    for attempt in (1, 2):
        try:
            return while_propagating(lambda: call(aws_retry=True, **request), propagating=is_role_propagation)
        except boto_errors() as e:
            code = error_code(e)
            if code == NOT_FOUND:
                if not_found_ok:
                    return None
                if missing is None:
                    missing = "cluster_name %r does not exist" % params["cluster_name"]
                module.fail_json_aws(e, msg="Failed to %s: %s" % (what, missing))
            if code == IN_USE and recover is not None:
                found = recover()
                if found:
                    return found
            if attempt == 1 and params["wait"] and code in BUSY_CODES:
                wait_cluster_ready(module, client, params["cluster_name"], delay)
                continue
            module.fail_json_aws(e, msg="Failed to %s" % what)


# -------------------------------------------------------------- updates


def update_record(answer):
    """The entry of an update (the answer of an Update* call) in RV(updates)."""
    return dict(id=answer.get("id"), type=answer.get("type"), status=answer.get("status"))


def wait_update_record(module, client, record, answer, what, cluster_name, delay=10, **target):
    """``wait_update``, then the update's final status in ``record``."""
    final = wait_update(module, client, answer, what, cluster_name, delay=delay, **target)
    record["status"] = final.get("status") if final else "Successful"


def health_issues(resource):
    issues = ((resource or {}).get("health") or {}).get("issues") or []
    return "; ".join("%s: %s" % (i.get("code"), i.get("message")) for i in issues) or "no health issues reported"


# ------------------------------------------------------------------ tags


def ensure_tags(module, client, arn, current, desired, purge, what):
    """Bring the tags (EKS tag map) of ``arn`` to ``desired``.

    Returns ``(changed, tags after)``; honours check mode. No API call when
    nothing differs.
    """
    after, changed = apply_tags(
        module, current, desired, purge,
        lambda keys: client.untag_resource(resourceArn=arn, tagKeys=keys, aws_retry=True),
        lambda to_set: client.tag_resource(resourceArn=arn, tags=to_set, aws_retry=True),
        "Failed to update the tags of %s" % what,
    )
    return changed, after


def create_tags(tags):
    """Tags for a create call (None when there are none)."""
    tags = stringify_tags(tags)
    return tags or None


# ------------------------------------------------------ kubeconfig


def build_kubeconfig(name, endpoint, ca_data, exec_command, exec_env=None):
    """A kubeconfig with one cluster, user and context, all called ``name``.

    The user is an ``exec`` credential plugin (``client.authentication.k8s.io/v1beta1``):
    ``exec_command`` (argv) run with ``exec_env``, which prints an EKS token whenever the
    client needs one (plugins/module_utils/eks_token.py). No credential is in the file.
    """
    user = {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": exec_command[0],
        "args": list(exec_command[1:]),
        "env": [{"name": key, "value": str(value)} for key, value in sorted((exec_env or {}).items())] or None,
        "interactiveMode": "Never",
        "provideClusterInfo": False,
    }}
    if user["exec"]["env"] is None:
        del user["exec"]["env"]
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
