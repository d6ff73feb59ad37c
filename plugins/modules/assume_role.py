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
refreshed:
  description: Whether new credentials were obtained (false when O(current) was still valid).
  returned: success
  type: bool
  sample: true
"""

import datetime
import re

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.parameters import remove_values

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import iso8601
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import parse_iso8601
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import utcnow

ROLE_ARN_RE = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})$")
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
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
    module.exit_json(
        changed=False,
        refreshed=refreshed,
        credentials=credentials,
        account_id=account_id,
        assumed_role_arn=assumed_role_arn,
        invocation=invocation,
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
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
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
