#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: assume_role
short_description: Assume the deployment role in a target AWS account
version_added: 0.1.0
description:
  - From the credentials of the caller (the orchestration account), calls STS
    C(AssumeRole) for the deployment role of the target account and returns
    temporary credentials for it.
  - Pass the credentials a previous run returned as O(current); while they are
    valid for longer than O(refresh_margin_seconds) they are returned as they
    are, without any API call. Otherwise the role is assumed again.
  - The module creates nothing, so it always reports C(changed=false). It runs
    in check mode too, because later tasks need the credentials.
  - The result holds secrets. Always set C(no_log=true) on the task, and pass
    the credentials on through C(module_defaults) for the action group
    C(group/honeyhive.platform.aws).
  - With O(credentials_file), the credentials are also written into that file
    as the profile O(credentials_profile), in the AWS shared-credentials
    format, so that other modules can use them through their C(profile)
    option (with C(AWS_SHARED_CREDENTIALS_FILE) naming the file) instead of
    taking the keys as module options, which would show the access key id in
    every task result. The file is private to the user (mode 0600, its
    directory 0700) and replaced atomically whenever its content would change;
    it is written in check mode too, and does not count as a change.
  - The task that assumes the role must run with the caller's credentials.
    Run it outside the C(module_defaults) block that carries the assumed
    credentials (or pass the caller's credentials to it explicitly), otherwise
    STS sees a role-chaining call, which AWS limits to one hour.
options:
  role_arn:
    description:
      - ARN of the role to assume, for example
        V(arn:aws:iam::111122223333:role/honeyhive-deployment).
    type: str
    required: true
  external_id:
    description:
      - The external ID the role's trust policy requires.
      - Required while O(require_external_id=true).
      - 2 to 1224 characters of letters, digits and C(+=,.@:/-_).
    type: str
  require_external_id:
    description:
      - Fail before any API call when O(external_id) is not given.
      - Set to V(false) only for roles whose trust policy has no
        C(sts:ExternalId) condition.
    type: bool
    default: true
  session_name:
    description:
      - Role session name recorded in CloudTrail, 2 to 64 characters of
        letters, digits and C(+=,.@-_).
      - Defaults to C(honeyhive-platform-) followed by the role name.
    type: str
  duration_seconds:
    description:
      - Lifetime of the credentials, from 900 to 43200 seconds. Values above
        3600 need a matching maximum session duration on the role.
    type: int
    default: 3600
  refresh_margin_seconds:
    description:
      - Credentials in O(current) that expire within this many seconds are
        replaced by new ones. Must be less than O(duration_seconds).
    type: int
    default: 600
  current:
    description:
      - Credentials returned by an earlier run of this module (its
        RV(credentials)), with the keys C(access_key), C(secret_key),
        C(session_token) and C(expiration).
      - They must belong to O(role_arn); the module cannot check that without
        an API call.
      - When omitted or empty the role is always assumed.
    type: dict
  credentials_file:
    description:
      - Also write the credentials into this file as the profile
        O(credentials_profile) (see the description). Its directory is
        created with mode 0700 when missing, and must belong to the user.
      - The file holds only that profile; whatever it held before is replaced.
    type: path
  credentials_profile:
    description:
      - Name of the profile written into O(credentials_file).
      - Letters, digits and C(+=,.@_-), 1 to 64 characters.
    type: str
    default: honeyhive-platform
seealso:
  - name: AssumeRole API
    description: STS API reference.
    link: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Assume the deployment role in the target account
  honeyhive.platform.assume_role:
    role_arn: "arn:aws:iam::{{ platform_account_id }}:role/honeyhive-deployment"
    external_id: "{{ platform_external_id }}"
    duration_seconds: 3600
  register: creds
  no_log: true

- name: Work in the target account with the assumed credentials
  module_defaults:
    group/honeyhive.platform.aws:
      region: "{{ platform_region }}"
      access_key: "{{ creds.credentials.access_key }}"
      secret_key: "{{ creds.credentials.secret_key }}"
      session_token: "{{ creds.credentials.session_token }}"
  block:
    - name: Create the VPC
      amazon.aws.ec2_vpc_net:
        name: honeyhive-prod
        cidr_block: 10.40.0.0/16

- name: Assume the role and keep the credentials in a private profile file
  honeyhive.platform.assume_role:
    role_arn: "arn:aws:iam::{{ platform_account_id }}:role/honeyhive-deployment"
    external_id: "{{ platform_external_id }}"
    credentials_file: "~/.cache/honeyhive-platform/sessions/{{ inventory_hostname }}.credentials"
    credentials_profile: "honeyhive-platform-{{ inventory_hostname }}"
  register: creds
  no_log: true

- name: Work in the target account through the profile (no keys in any task result)
  module_defaults:
    group/honeyhive.platform.aws:
      region: "{{ platform_region }}"
      profile: "{{ creds.credentials_profile }}"
  environment:
    AWS_SHARED_CREDENTIALS_FILE: "{{ creds.credentials_file }}"
  block:
    - name: Create the VPC
      amazon.aws.ec2_vpc_net:
        name: honeyhive-prod
        cidr_block: 10.40.0.0/16

- name: Refresh the credentials only when they expire within 10 minutes
  honeyhive.platform.assume_role:
    role_arn: "arn:aws:iam::{{ platform_account_id }}:role/honeyhive-deployment"
    external_id: "{{ platform_external_id }}"
    current: "{{ creds.credentials }}"
    refresh_margin_seconds: 600
  register: creds
  no_log: true
"""

RETURN = r"""
credentials:
  description:
    - Temporary credentials of the assumed role. Secret; register the result
      only on tasks with C(no_log=true).
  returned: success
  type: dict
  contains:
    access_key:
      description: Access key ID.
      type: str
      sample: ASIAEXAMPLEEXAMPLE
    secret_key:
      description: Secret access key.
      type: str
      sample: VALUE_HIDDEN
    session_token:
      description: Session token.
      type: str
      sample: VALUE_HIDDEN
    expiration:
      description: When the credentials expire, ISO 8601 in UTC.
      type: str
      sample: "2025-01-31T12:00:00Z"
account_id:
  description: The account the assumed role belongs to.
  returned: success
  type: str
  sample: "111122223333"
assumed_role_arn:
  description: The STS ARN of the assumed role session.
  returned: success
  type: str
  sample: arn:aws:sts::111122223333:assumed-role/honeyhive-deployment/honeyhive-platform-honeyhive-deployment
credentials_file:
  description: The file the credentials were written into (absolute path).
  returned: when O(credentials_file) is set
  type: str
  sample: /home/deploy/.cache/honeyhive-platform/sessions/prod-us-west-2.credentials
credentials_profile:
  description: The profile of O(credentials_file) that holds the credentials.
  returned: when O(credentials_file) is set
  type: str
  sample: honeyhive-platform-prod-us-west-2
refreshed:
  description: Whether new credentials were obtained (false when O(current) was still valid).
  returned: success
  type: bool
  sample: true
"""

import datetime
import os
import re
import stat
import tempfile

from ansible.module_utils.common.parameters import remove_values

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import iso8601
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import parse_iso8601
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import utcnow

ROLE_ARN_RE = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})$")
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
PROFILE_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
CREDENTIAL_KEYS = ("access_key", "secret_key", "session_token", "expiration")


def default_session_name(role_name):
    name = re.sub(r"[^\w+=,.@-]", "-", "honeyhive-platform-" + role_name)
    return name[:64]


def validate(module):
    params = module.params
    role_arn = params["role_arn"]
    match = ROLE_ARN_RE.match(role_arn or "")
    if not match:
        module.fail_json(
            msg=invalid_value(
                "role_arn",
                role_arn,
                "Allowed: an IAM role ARN such as arn:aws:iam::111122223333:role/honeyhive-deployment "
                "(12-digit account id, role name of up to 64 letters, digits and +=,.@-_).",
            )
        )
    if params["external_id"] is None:
        if params["require_external_id"]:
            module.fail_json(
                msg="Option 'external_id' is required because 'require_external_id' is true: the deployment role's "
                "trust policy expects an sts:ExternalId. Pass external_id, or set require_external_id: false for a role "
                "without that condition."
            )
    elif not EXTERNAL_ID_RE.match(params["external_id"]):
        # never echo the value: it is a secret
        module.fail_json(
            msg="Invalid value for option 'external_id' (value hidden). Allowed: 2 to 1224 characters of letters, "
            "digits and +=,.@:/-_."
        )
    if params["session_name"] is not None and not SESSION_NAME_RE.match(params["session_name"]):
        module.fail_json(
            msg=invalid_value(
                "session_name", params["session_name"], "Allowed: 2 to 64 characters of letters, digits and +=,.@-_."
            )
        )
    if params["credentials_file"] is not None and not PROFILE_RE.match(params["credentials_profile"] or ""):
        module.fail_json(
            msg=invalid_value(
                "credentials_profile", params["credentials_profile"], "Allowed: 1 to 64 letters, digits and +=,.@_-."
            )
        )
    check_range(module, "duration_seconds", 900, 43200)
    check_range(module, "refresh_margin_seconds", 0)
    if params["refresh_margin_seconds"] >= params["duration_seconds"]:
        module.fail_json(
            msg=invalid_value(
                "refresh_margin_seconds",
                params["refresh_margin_seconds"],
                "Allowed: less than duration_seconds (%d), or every run would assume the role again."
                % params["duration_seconds"],
            )
        )
    current = params["current"]
    expiration = None
    if current:
        missing = [key for key in CREDENTIAL_KEYS if not current.get(key)]
        if missing:
            module.fail_json(
                msg="Invalid value for option 'current' (values hidden): missing %s. Allowed: the 'credentials' "
                "dict returned by an earlier run, with keys %s." % (", ".join(missing), ", ".join(CREDENTIAL_KEYS))
            )
        try:
            expiration = parse_iso8601(current["expiration"])
        except (TypeError, ValueError):
            module.fail_json(
                msg="Invalid value for option 'current.expiration' (value hidden). Allowed: an ISO 8601 timestamp "
                "such as 2025-01-31T12:00:00Z."
            )
    return match, expiration


def profile_text(profile, credentials, role_arn):
    return (
        "# Temporary credentials of %s, written by honeyhive.platform.assume_role;\n"
        "# valid until %s and replaced whenever they are renewed.\n"
        "[%s]\n"
        "aws_access_key_id = %s\n"
        "aws_secret_access_key = %s\n"
        "aws_session_token = %s\n"
        % (role_arn, credentials["expiration"], profile, credentials["access_key"], credentials["secret_key"],
           credentials["session_token"])
    )


def private_directory(module, path):
    """Create ``path`` (mode 0700) when missing; refuse a directory others may use."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.stat(path)
        if info.st_uid != os.geteuid():
            module.fail_json(
                msg=invalid_value(
                    "credentials_file", path, "Allowed: a file in a directory of the user running the module."
                )
            )
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(path, 0o700)
    except OSError as e:
        module.fail_json(msg="Cannot prepare the directory %s of credentials_file: %s" % (path, e))


def write_credentials_file(module, path, profile, credentials, role_arn):
    """Replace ``path`` atomically (mode 0600) unless it already holds exactly this profile."""
    text = profile_text(profile, credentials, role_arn)
    private_directory(module, os.path.dirname(path))
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text and stat.S_IMODE(os.stat(path).st_mode) == 0o600:
                return
    except OSError:
        pass
    handle, temporary = tempfile.mkstemp(prefix=".credentials-", dir=os.path.dirname(path))
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as e:
        if os.path.exists(temporary):
            os.unlink(temporary)
        module.fail_json(msg="Cannot write credentials_file %s: %s" % (path, e))


def exit_with_credentials(module, credentials, account_id, assumed_role_arn, refreshed):
    """Return the credentials without Ansible's no_log masking mangling them.

    ``current`` and the connection options are no_log, so their values are
    masked everywhere in the result. When the same credentials come back (or
    the module itself ran with them) they would turn into placeholders, so the
    invocation is masked here and the returned values are then taken off the
    mask list. Secrets are only ever returned under ``credentials``.
    """
    invocation = {"module_args": remove_values(module.params, module.no_log_values)}
    returned = list(credentials.values()) + [account_id, assumed_role_arn]
    # Masking also replaces substrings, so a short no_log value (an external
    # id, say) could corrupt a session token: unmask every value that occurs in
    # what is returned. The invocation above is already masked.
    for value in list(module.no_log_values):
        if any(value in text for text in returned):
            module.no_log_values.discard(value)
    extra = {}
    if module.params["credentials_file"] is not None:
        path = os.path.abspath(os.path.expanduser(module.params["credentials_file"]))
        write_credentials_file(module, path, module.params["credentials_profile"], credentials, module.params["role_arn"])
        extra = dict(credentials_file=path, credentials_profile=module.params["credentials_profile"])
    module.exit_json(
        changed=False,
        refreshed=refreshed,
        credentials=credentials,
        account_id=account_id,
        assumed_role_arn=assumed_role_arn,
        invocation=invocation,
        **extra
    )


def main():
    argument_spec = dict(
        role_arn=dict(type="str", required=True),
        external_id=dict(type="str", no_log=True),
        require_external_id=dict(type="bool", default=True),
        session_name=dict(type="str"),
        duration_seconds=dict(type="int", default=3600),
        refresh_margin_seconds=dict(type="int", default=600),
        current=dict(type="dict", no_log=True),
        credentials_file=dict(type="path"),
        credentials_profile=dict(type="str", default="honeyhive-platform"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    match, expiration = validate(module)
    partition, role_account, _path, role_name = match.groups()
    params = module.params
    session_name = params["session_name"] or default_session_name(role_name)

    if expiration is not None:
        margin = datetime.timedelta(seconds=params["refresh_margin_seconds"])
        if expiration > utcnow() + margin:
            current = params["current"]
            credentials = {
                "access_key": current["access_key"],
                "secret_key": current["secret_key"],
                "session_token": current["session_token"],
                "expiration": iso8601(expiration),
            }
            assumed = "arn:%s:sts::%s:assumed-role/%s/%s" % (partition, role_account, role_name, session_name)
            exit_with_credentials(module, credentials, role_account, assumed, refreshed=False)

    request = dict(
        RoleArn=params["role_arn"],
        RoleSessionName=session_name,
        DurationSeconds=params["duration_seconds"],
    )
    if params["external_id"] is not None:
        request["ExternalId"] = params["external_id"]

    client = retrying_client(module, "sts")
    try:
        response = client.assume_role(aws_retry=True, **request)
    except is_boto3_error_code("AccessDenied") as e:
        module.fail_json_aws(
            e,
            msg="Access denied assuming %s: check that the caller may call sts:AssumeRole on it and that the role's "
            "trust policy allows the caller and the external_id." % params["role_arn"],
        )
    except is_boto3_error_code("ValidationError") as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="STS rejected the request to assume %s" % params["role_arn"])
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to assume %s" % params["role_arn"])

    creds = response["Credentials"]
    assumed_arn = response["AssumedRoleUser"]["Arn"]
    arn_parts = assumed_arn.split(":")
    account_id = arn_parts[4] if len(arn_parts) > 4 and arn_parts[4] else role_account
    credentials = {
        "access_key": creds["AccessKeyId"],
        "secret_key": creds["SecretAccessKey"],
        "session_token": creds["SessionToken"],
        "expiration": iso8601(creds["Expiration"]),
    }
    exit_with_credentials(module, credentials, account_id, assumed_arn, refreshed=True)


if __name__ == "__main__":
    main()
