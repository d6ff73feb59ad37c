# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared code of the ``iam_role``, ``iam_roles`` and ``iam_managed_policy`` modules.

* policy documents: accepted as a dict or JSON text, compared by meaning
  (``amazon.aws``'s ``compare_policies``: statement and list order, a one-item
  list versus a string, the default ``Version``);
* IAM tags as dicts;
* the codes IAM answers while a resource made moments ago is not visible yet;
* ``IamRun``: what a run of either module does the same way (reads that find
  nothing, creates that were retried, deletes of what is gone already, tags);
* ``RoleRun``: one role with its trust policy, settings, tags, managed and inline
  policies (``iam_role`` runs one, ``iam_roles`` one per item of its list), and
  ``read_account_roles``: every role of the account with all of that in two paged
  reads (``iam_roles``), instead of three or more calls per role.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible.module_utils.six import string_types
from ansible.module_utils.six.moves.urllib.parse import unquote

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ModuleRun
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tag_map
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import while_propagating

# A role or policy made moments ago may not be visible yet to the next call.
FRESH_CODES = ["NoSuchEntity"]

PATH_RE = re.compile(r"^/([\x21-\x7e]{0,510}/)?$")
ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
POLICY_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
POLICY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,512}$")

# The options of one role: those of iam_role, and of each item of iam_roles' O(roles).
ROLE_OPTIONS = dict(
    name=dict(type="str", required=True),
    path=dict(type="str", default="/"),
    description=dict(type="str"),
    assume_role_policy_document=dict(type="json"),
    max_session_duration=dict(type="int"),
    managed_policy_arns=dict(type="list", elements="str"),
    purge_managed_policies=dict(type="bool", default=True),
    inline_policies=dict(type="dict"),
    purge_inline_policies=dict(type="bool", default=False),
    permissions_boundary=dict(type="str"),
    tags=dict(type="dict", aliases=["resource_tags"]),
)


class PolicyError(ValueError):
    """A policy document that is not a JSON object."""


def load_policy(document, option="policy"):
    """A policy document given as a dict or as JSON (or URL-encoded JSON) text -> dict."""
    if document is None:
        return None
    if isinstance(document, dict):
        return document
    if isinstance(document, string_types):
        text = document.strip()
        if text.startswith("%7B") or text.startswith("%7b"):
            text = unquote(text)
        try:
            loaded = json.loads(text)
        except ValueError as e:
            raise PolicyError("%s is not valid JSON: %s" % (option, e))
        if not isinstance(loaded, dict):
            raise PolicyError("%s must be a JSON object" % option)
        return loaded
    raise PolicyError("%s must be a JSON object or its text" % option)


def dump_policy(document):
    """The JSON text sent to IAM (compact, keys in a stable order)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def policies_differ(current, desired):
    """True when two policy documents mean different things."""
    if current is None or desired is None:
        return current is not desired
    return compare_policies(load_policy(current), load_policy(desired))


def load_policy_option(module, document, option):
    """``load_policy``; fails the module on a document that is not a JSON object."""
    try:
        return load_policy(document, option)
    except PolicyError as e:
        module.fail_json(msg="Invalid value: %s." % e)


def check_path(module, params=None, option="path"):
    """Fail (before any API call) when O(path) is not an IAM path."""
    path = (module.params if params is None else params)["path"]
    if not PATH_RE.match(path or ""):
        module.fail_json(msg=invalid_value(option, path, "Allowed: a path that starts and ends with /."))


def check_role(module, params, prefix=""):
    """Fail (before any API call) on a role whose options (``params``, the options of
    ``iam_role`` or one item of ``iam_roles``) AWS would reject; ``prefix`` (such as
    ``roles[2].``) names the item in the message. Loads the policy documents given as
    JSON text into dicts, in place."""
    if not ROLE_NAME_RE.match(params["name"] or ""):
        module.fail_json(msg=invalid_value(prefix + "name", params["name"],
                                           "Allowed: 1 to 64 letters, digits and + = , . @ _ -."))
    check_path(module, params, prefix + "path")
    duration = params["max_session_duration"]
    if duration is not None and not 3600 <= duration <= 43200:
        module.fail_json(msg=invalid_value(prefix + "max_session_duration", duration, "Allowed: 3600 to 43200 seconds."))
    for arn in params["managed_policy_arns"] or []:
        if not POLICY_ARN_RE.match(arn or ""):
            module.fail_json(msg=invalid_value(prefix + "managed_policy_arns", arn, "Allowed: managed policy ARNs."))
    boundary = params["permissions_boundary"]
    if boundary is not None and not POLICY_ARN_RE.match(boundary):
        module.fail_json(msg=invalid_value(prefix + "permissions_boundary", boundary,
                                           "Allowed: the ARN of a managed policy."))
    check_tag_map(module, prefix + "tags", params["tags"])
    params["assume_role_policy_document"] = load_policy_option(
        module, params["assume_role_policy_document"], prefix + "assume_role_policy_document")
    if params["inline_policies"] is not None:
        for name, document in params["inline_policies"].items():
            if not POLICY_NAME_RE.match(str(name)):
                module.fail_json(msg=invalid_value(
                    prefix + "inline_policies", name, "Allowed: policy names of 1 to 128 characters."))
            params["inline_policies"][name] = load_policy_option(module, document,
                                                                 "%sinline_policies.%s" % (prefix, name))


def iam_tags(tag_list):
    return tags_to_dict(tag_list, "Key", "Value")


class IamRun(ModuleRun):
    """A run of ``iam_role`` or ``iam_managed_policy`` on the entity O(name).

    Its calls right after a create also retry while the new entity is not
    visible yet; ``subject`` (``role <name>``, ``policy <name>``) names the
    entity in actions and failures.
    """

    def __init__(self, module, kind, params=None, client=None):
        super().__init__(module, "iam", fresh_codes=FRESH_CODES, params=params, client=client)
        self.name = self.params["name"]
        self.subject = "%s %s" % (kind, self.name)

    def get(self):
        raise NotImplementedError

    def read(self, failure, method, key, **request):
        """``method(**request)[key]``, or None when the entity does not exist."""
        try:
            return getattr(self.client, method)(aws_retry=True, **request)[key]
        except is_boto3_error_code("NoSuchEntity"):
            return None
        except boto_errors() as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=failure)

    def create(self, method, key, **request):
        """A create call; when the entity exists already (a retried create whose
        first attempt went through) it is read instead (``get``). A trust policy whose
        principal is not known yet is sent again while it propagates."""
        try:
            return while_propagating(
                lambda: getattr(self.client, method)(aws_retry=True, **request))[key]
        except is_boto3_error_code("EntityAlreadyExists"):
            return self.get()
        except boto_errors() as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Failed to create %s" % self.subject)

    def remove(self, failure, method, **request):
        """A delete or detach call; what is gone already is no error."""
        try:
            getattr(self.client, method)(aws_retry=True, **request)
        except is_boto3_error_code("NoSuchEntity"):
            pass
        except boto_errors() as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=failure)

    def ensure_tags(self, current, untag, tag, **target):
        """Bring the tags to O(tags) (see ``ModuleRun.sync_tags``)."""
        desired = self.params["tags"]
        return self.sync_tags(self.subject, current, desired, untag, tag, **target)


# ------------------------------------------------------------------ roles

# ``RoleRun(known=...)``: the role was not read in advance (read it with GetRole and friends).
UNKNOWN = object()


def read_account_roles(module, client, names):
    """The roles ``names`` as ``RoleRun`` knows them:
    ``{name: {"role": <GetRole's Role, with Tags>, "attached": [ARNs], "inline": {name: document}}}``.

    Two paged reads of the account's roles whatever the number of names:
    GetAccountAuthorizationDetails (trust policy, tags, managed and inline policies) and
    ListRoles (description and maximum session duration, which the first does not return).
    A name missing from the answer is a role that does not exist.
    """
    wanted = set(names)
    details, settings = {}, {}
    try:
        for page in client.get_paginator("get_account_authorization_details").paginate(Filter=["Role"]):
            details.update((r["RoleName"], r) for r in page.get("RoleDetailList") or [] if r["RoleName"] in wanted)
        for page in client.get_paginator("list_roles").paginate():
            settings.update((r["RoleName"], r) for r in page.get("Roles") or [] if r["RoleName"] in wanted)
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to read the roles of the account")
    known = {}
    for name, detail in details.items():
        listed = settings.get(name, {})
        role = dict((key, detail.get(key)) for key in ("Path", "RoleName", "RoleId", "Arn", "CreateDate",
                                                         "AssumeRolePolicyDocument", "Tags", "PermissionsBoundary"))
        role["Description"] = listed.get("Description")
        role["MaxSessionDuration"] = listed.get("MaxSessionDuration")
        known[name] = {
            "role": role,
            "attached": [p["PolicyArn"] for p in detail.get("AttachedManagedPolicies") or []],
            "inline": dict((p["PolicyName"], p.get("PolicyDocument")) for p in detail.get("RolePolicyList") or []),
        }
    return known


def boundary_of(role):
    """The ARN of the role's permissions boundary, or None."""
    return ((role or {}).get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") or None


def role_view(role, attached, inline):
    """What ``iam_role`` and ``iam_roles`` return of a role."""
    if not role:
        return {}
    result = dict(
        arn=role.get("Arn"),
        role_name=role.get("RoleName"),
        role_id=role.get("RoleId"),
        path=role.get("Path"),
        description=role.get("Description"),
        max_session_duration=role.get("MaxSessionDuration"),
        assume_role_policy_document=load_policy(role.get("AssumeRolePolicyDocument")),
        permissions_boundary=boundary_of(role),
        tags=iam_tags(role.get("Tags")),
    )
    if attached is not None:
        result["managed_policy_arns"] = attached
    if inline is not None:
        result["inline_policy_names"] = inline
    return result


class RoleRun(IamRun):
    """One role: its trust policy, description, maximum session duration, permissions
    boundary, tags, managed policies and inline policies, as ``params`` (the options of
    ``iam_role``, or one item of ``iam_roles``) want them.

    The boundary is set at creation and, on an existing role, before any policy is put or
    attached: a principal that may grant only to roles with the boundary
    (``iam:PermissionsBoundary``) can then converge a role that lacked it.

    ``known`` is what ``read_account_roles`` found of the role (None: it does not exist);
    left UNKNOWN, the role is read with GetRole, ListAttachedRolePolicies and GetRolePolicy.
    Everything read after a change (a create that was retried) is read from AWS.
    """

    def __init__(self, module, params=None, client=None, known=UNKNOWN):
        super().__init__(module, "role", params=params, client=client)
        self.known = known

    def get(self):
        return self.read("Failed to read role %s" % self.name, "get_role", "Role", RoleName=self.name)

    def current(self):
        if self.known is UNKNOWN:
            return self.get()
        return None if self.known is None else self.known["role"]

    def attached(self):
        if self.known is not UNKNOWN and self.known is not None:
            return list(self.known["attached"])
        arns = []
        try:
            for page in self.client.get_paginator("list_attached_role_policies").paginate(RoleName=self.name):
                arns.extend(p["PolicyArn"] for p in page.get("AttachedPolicies") or [])
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to list the managed policies of role %s" % self.name)
        return arns

    def inline_names(self):
        if self.known is not UNKNOWN and self.known is not None:
            return sorted(self.known["inline"])
        names = []
        try:
            for page in self.client.get_paginator("list_role_policies").paginate(RoleName=self.name):
                names.extend(page.get("PolicyNames") or [])
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to list the inline policies of role %s" % self.name)
        return names

    def inline_document(self, policy_name):
        if self.known is not UNKNOWN and self.known is not None:
            return self.known["inline"].get(policy_name)
        return self.read("Failed to read inline policy %s of role %s" % (policy_name, self.name), "get_role_policy",
                         "PolicyDocument", RoleName=self.name, PolicyName=policy_name)

    # -- present

    def present(self):
        """Create or update the role; returns ``(after, before)`` (``role_view``)."""
        params = self.params
        role = self.current()
        created = role is None
        tags = stringify_tags(params["tags"]) if params["tags"] is not None else None
        before = role_view(role, None, None) if role else {}
        if created:
            if params["assume_role_policy_document"] is None:
                self.module.fail_json(msg="Option 'assume_role_policy_document' is required to create role %s." % self.name)
            request = dict(RoleName=self.name, Path=params["path"],
                           AssumeRolePolicyDocument=dump_policy(params["assume_role_policy_document"]))
            if params["description"] is not None:
                request["Description"] = params["description"]
            if params["max_session_duration"] is not None:
                request["MaxSessionDuration"] = params["max_session_duration"]
            if params["permissions_boundary"] is not None:
                request["PermissionsBoundary"] = params["permissions_boundary"]
            if tags:
                request["Tags"] = tags_to_list(tags)
            if self.act("create role %s" % self.name):
                self.known = UNKNOWN  # what a retried create finds is read from AWS
                role = self.create("create_role", "Role", **request)
            else:
                role = {"RoleName": self.name, "Path": params["path"], "Arn": None, "RoleId": None,
                        "AssumeRolePolicyDocument": params["assume_role_policy_document"],
                        "Description": params["description"], "MaxSessionDuration": params["max_session_duration"] or 3600}
                if params["permissions_boundary"] is not None:
                    role["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                                   "PermissionsBoundaryArn": params["permissions_boundary"]}
            role = dict(role, Tags=tags_to_list(tags or {}))
        else:
            role = self.update_settings(role)

        attached = None
        if params["managed_policy_arns"] is not None:
            attached = self.ensure_attached([] if created else self.attached())
        inline = None
        if params["inline_policies"] is not None:
            inline = self.ensure_inline(created)
        return role_view(role, attached, inline), before

    def update_settings(self, role):
        params = self.params
        boundary = params["permissions_boundary"]
        if boundary is not None and boundary_of(role) != boundary:
            if self.act("set the permissions boundary of role %s to %s" % (self.name, boundary)):
                self.call("set the permissions boundary", "put_role_permissions_boundary",
                          RoleName=self.name, PermissionsBoundary=boundary)
            role = dict(role, PermissionsBoundary={"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary})
        trust = params["assume_role_policy_document"]
        if trust is not None and policies_differ(load_policy(role.get("AssumeRolePolicyDocument")), trust):
            if self.act("update the trust policy of role %s" % self.name):
                self.call("update the trust policy", "update_assume_role_policy",
                          RoleName=self.name, PolicyDocument=dump_policy(trust))
            role = dict(role, AssumeRolePolicyDocument=trust)
        update = {}
        if params["description"] is not None and (role.get("Description") or "") != params["description"]:
            update["Description"] = params["description"]
        if params["max_session_duration"] is not None and role.get("MaxSessionDuration") != params["max_session_duration"]:
            update["MaxSessionDuration"] = params["max_session_duration"]
        if update:
            if self.act("update %s of role %s" % (" and ".join(sorted(update)), self.name)):
                self.call("update the settings", "update_role", RoleName=self.name, **update)
            role = dict(role, **update)
        final, changed = self.ensure_tags(iam_tags(role.get("Tags")), "untag_role", "tag_role", RoleName=self.name)
        if changed:
            role = dict(role, Tags=tags_to_list(final))
        return role

    def ensure_attached(self, current):
        wanted = self.params["managed_policy_arns"]
        for arn in wanted:
            if arn not in current and self.act("attach %s to role %s" % (arn, self.name)):
                self.call("attach %s" % arn, "attach_role_policy", RoleName=self.name, PolicyArn=arn)
        result = list(wanted)
        for arn in current:
            if arn in wanted:
                continue
            if not self.params["purge_managed_policies"]:
                result.append(arn)
                continue
            if self.act("detach %s from role %s" % (arn, self.name)):
                self.remove("Failed to detach %s from role %s" % (arn, self.name), "detach_role_policy",
                            RoleName=self.name, PolicyArn=arn)
        return sorted(result)

    def ensure_inline(self, created):
        wanted = self.params["inline_policies"]
        for policy_name in sorted(wanted):
            document = wanted[policy_name]
            current = None if created else self.inline_document(policy_name)
            if current is not None and not policies_differ(load_policy(current), document):
                continue
            verb = "put" if current is None else "update"
            if self.act("%s inline policy %s of role %s" % (verb, policy_name, self.name)):
                self.call("put inline policy %s" % policy_name, "put_role_policy", RoleName=self.name,
                          PolicyName=policy_name, PolicyDocument=dump_policy(document))
        names = sorted(wanted)
        if self.params["purge_inline_policies"] and not created:
            for policy_name in self.inline_names():
                if policy_name in wanted:
                    continue
                if self.act("delete inline policy %s of role %s" % (policy_name, self.name)):
                    self.delete_inline(policy_name)
        return names

    def delete_inline(self, policy_name):
        self.remove("Failed to delete inline policy %s of role %s" % (policy_name, self.name), "delete_role_policy",
                    RoleName=self.name, PolicyName=policy_name)

    # -- absent

    def absent(self):
        """Delete the role (out of its instance profiles, its policies first); returns ``before``."""
        role = self.current()
        if role is None:
            return {}
        before = role_view(role, None, None)
        if not self.act("delete role %s" % self.name):
            return before
        self.known = UNKNOWN  # list what is attached now, not what was read before
        try:
            profiles = []
            for page in self.client.get_paginator("list_instance_profiles_for_role").paginate(RoleName=self.name):
                profiles.extend(p["InstanceProfileName"] for p in page.get("InstanceProfiles") or [])
            for profile in profiles:
                self.client.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=self.name, aws_retry=True)
            for arn in self.attached():
                self.client.detach_role_policy(RoleName=self.name, PolicyArn=arn, aws_retry=True)
            for policy_name in self.inline_names():
                self.delete_inline(policy_name)
            self.client.delete_role(RoleName=self.name, aws_retry=True)
        except is_boto3_error_code("NoSuchEntity"):
            pass  # deleted meanwhile
        except boto_errors() as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Failed to delete role %s" % self.name)
        return before
