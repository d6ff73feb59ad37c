#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: assume_role
short_description: Write a profile that assumes the deployment role, and check that it works
version_added: 0.1.0
description:
  - Writes an AWS config file (O(config_file), mode 0600, its directory 0700) whose profile
    O(role_profile) assumes O(role_arn) with O(external_id), O(session_name) and
    O(duration_seconds) from the caller's own credentials (the orchestration account), the
    way the AWS CLI and SDKs configure role assumption (C(role_arn), C(external_id),
    C(credential_source) or C(source_profile)). Every AWS client that uses the profile
    (C(AWS_CONFIG_FILE) naming the file) gets credentials that botocore assumes when they
    are first needed and assumes again before they expire, so a run longer than one session
    never works with expired credentials and no credential ever passes through Ansible.
  - Then assumes the role once through the profile (C(GetCallerIdentity)) so that a refused
    role (trust policy, ExternalId, a missing role) stops the run here, with AWS's message,
    and returns the account the role belongs to. No credential is returned.
  - Where the caller's credentials come from decides how the profile finds them
    (O(source)). With V(auto), the source botocore resolves for the module is used -
    environment variables (C(credential_source = Environment)), the EC2 instance profile
    (C(Ec2InstanceMetadata)), ECS or EKS Pod Identity container credentials
    (C(EcsContainer)), a web identity token from the environment (a source profile with
    C(role_arn) and C(web_identity_token_file)), or a named profile of the caller's config
    and credentials files (C(source_profile); the caller's config file is copied into
    O(config_file) for that, the credentials file stays where it is). Credentials given as
    module options cannot be refreshed by anybody and are refused.
  - The module changes nothing in AWS, so it always reports C(changed=false); the file is
    private to the controller and replaced only when its content would change. It runs in
    check mode too, because later tasks need the profile.
  - The task that assumes the role must run with the caller's credentials, not with a
    profile of the role itself, otherwise STS sees role chaining, which AWS limits to one
    hour.
options:
  role_arn:
    description:
      - ARN of the role to assume, for example
        V(arn:aws:iam::111122223333:role/honeyhive-deployment).
    type: str
    required: true
  external_id:
    description:
      - The external ID the role's trust policy requires. Written into O(config_file) (which
        only its owner can read), never returned.
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
      - Lifetime of each set of credentials, from 900 to 43200 seconds. Values above 3600 need
        a matching maximum session duration on the role, and role chaining allows at most
        3600.
    type: int
    default: 3600
  max_attempts:
    description:
      - Attempts of each request of every client that uses the profile, in botocore's
        C(standard) retry mode (throttling and transient errors are retried with backoff), from 1
        to 20. This includes the STS client botocore assumes the role with, which no module's own
        retry settings reach, so a throttled C(AssumeRole) during a credential refresh is
        retried too.
    type: int
    default: 10
  config_file:
    description:
      - The AWS config file to write. Its directory is created with mode 0700 when missing
        and must belong to the user; the file gets mode 0600.
      - The file holds only what this module writes (and, for O(source=profile), a copy of
        the caller's config file); whatever it held before is replaced.
    type: path
    required: true
  role_profile:
    description:
      - Name of the profile of O(config_file) that assumes the role; letters, digits and
        C(+=,.@_-), 1 to 64 characters. (O(profile) is the caller's own profile, if any.)
    type: str
    default: honeyhive-platform
  source:
    description:
      - Where the profile takes the caller's credentials from; see the description.
    type: str
    choices: [auto, environment, instance, container, profile]
    default: auto
  source_profile:
    description:
      - The caller's profile to start from with O(source=profile) (default C(AWS_PROFILE), or
        V(default)).
    type: str
seealso:
  - name: AssumeRole API
    description: STS API reference.
    link: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
  - name: Assume role credential provider
    description: The config file settings of role assumption shared by the AWS SDKs and tools.
    link: https://docs.aws.amazon.com/sdkref/latest/guide/feature-assume-role-credentials.html
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A profile that assumes the deployment role in the target account
  honeyhive.platform.assume_role:
    role_arn: "arn:aws:iam::{{ platform_target_account_id }}:role/honeyhive-deployment"
    external_id: "{{ platform_external_id }}"
    config_file: "~/.cache/honeyhive-platform/sessions/{{ inventory_hostname }}.config"
    role_profile: "honeyhive-platform-{{ inventory_hostname }}"
  register: session
  no_log: true

- name: Work in the target account through the profile (botocore renews the credentials)
  module_defaults:
    group/honeyhive.platform.aws:
      region: "{{ platform_region }}"
      profile: "{{ session.role_profile }}"
  environment:
    AWS_CONFIG_FILE: "{{ session.config_file }}"
  block:
    - name: Create the VPC
      amazon.aws.ec2_vpc_net:
        name: honeyhive-prod
        cidr_block: 10.40.0.0/16
"""

RETURN = r"""
account_id:
  description: The account the assumed role belongs to.
  returned: success
  type: str
  sample: "111122223333"
assumed_role_arn:
  description: The STS ARN of the role session the check made.
  returned: success
  type: str
  sample: arn:aws:sts::111122223333:assumed-role/honeyhive-deployment/honeyhive-platform-honeyhive-deployment
config_file:
  description: The config file written (absolute path).
  returned: success
  type: str
  sample: /home/deploy/.cache/honeyhive-platform/sessions/prod-us-west-2.config
role_profile:
  description: The profile of RV(config_file) that assumes the role.
  returned: success
  type: str
  sample: honeyhive-platform-prod-us-west-2
source:
  description: How the profile finds the caller's credentials.
  returned: success
  type: str
  sample: credential_source = Environment
"""

import os
import re
import stat
import tempfile

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value

try:
    import botocore.session
except ImportError:  # handled by AnsibleAWSModule
    pass

ROLE_ARN_RE = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})$")
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
PROFILE_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
# botocore's name of where credentials came from -> the profile setting that finds them again.
CREDENTIAL_SOURCES = {"env": "environment", "iam-role": "instance", "container-role": "container",
                      "assume-role-with-web-identity": "web-identity"}
PROFILE_METHODS = ("shared-credentials-file", "config-file", "sso", "assume-role", "custom-process",
                   "login")


def default_session_name(role_name):
    name = re.sub(r"[^\w+=,.@-]", "-", "honeyhive-platform-" + role_name)
    return name[:64]


def validate(module):
    params = module.params
    match = ROLE_ARN_RE.match(params["role_arn"] or "")
    if not match:
        module.fail_json(
            msg=invalid_value(
                "role_arn",
                params["role_arn"],
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
    for option in ("role_profile", "source_profile"):
        if params[option] is not None and not PROFILE_RE.match(params[option]):
            module.fail_json(msg=invalid_value(option, params[option], "Allowed: 1 to 64 letters, digits and +=,.@_-."))
    check_range(module, "duration_seconds", 900, 43200)
    check_range(module, "max_attempts", 1, 20)
    return match


def caller_source(module):
    """``(kind, detail)``: where the module's own credentials come from."""
    params = module.params
    if params["source"] != "auto":
        return params["source"], None
    ambient = [os.environ.get(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "EC2_ACCESS_KEY")]
    if params.get("access_key") and params["access_key"] not in ambient:
        module.fail_json(
            msg="The caller's credentials are given as module options (access_key/secret_key), which nothing could "
            "use again to renew the role's credentials. Allowed: credentials from the environment, an instance or "
            "container role, or a profile (source, source_profile)."
        )
    session = botocore.session.Session(profile=params.get("profile") or None)
    try:
        credentials = session.get_credentials()
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Cannot read the caller's credentials")
    if credentials is None:
        module.fail_json(msg="No AWS credentials found for the caller (the orchestration account): set them in the "
                         "environment, a profile, or an instance or container role.")
    method = credentials.method
    if method in CREDENTIAL_SOURCES:
        return CREDENTIAL_SOURCES[method], None
    if method in PROFILE_METHODS:
        return "profile", session.get_config_variable("profile") or "default"
    module.fail_json(
        msg="The caller's credentials come from %r, which a profile cannot name as its source. Allowed: credentials "
        "from the environment, an instance or container role, a web identity token, or a profile." % method
    )


def config_text(module, role_arn, session_name, source, source_detail):
    params = module.params
    own = "profile %s" % params["role_profile"]
    lines = ["# Written by honeyhive.platform.assume_role: the profile assumes %s;" % role_arn,
             "# botocore assumes it again before the credentials expire.", "[%s]" % own,
             "role_arn = %s" % role_arn, "role_session_name = %s" % session_name,
             "duration_seconds = %d" % params["duration_seconds"],
             "retry_mode = standard", "max_attempts = %d" % params["max_attempts"]]
    if params["external_id"] is not None:
        lines.append("external_id = %s" % params["external_id"])
    if params.get("region"):
        lines.append("region = %s" % params["region"])
    if params.get("endpoint_url"):
        lines.append("endpoint_url = %s" % params["endpoint_url"])
    extra = []
    if source == "environment":
        lines.append("credential_source = Environment")
    elif source == "instance":
        lines.append("credential_source = Ec2InstanceMetadata")
    elif source == "container":
        lines.append("credential_source = EcsContainer")
    elif source == "web-identity":
        token_file = os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE")
        web_role = os.environ.get("AWS_ROLE_ARN")
        if not token_file or not web_role:
            module.fail_json(msg="Web identity credentials need AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE in the "
                             "environment.")
        source_name = params["role_profile"] + "-source"
        lines.append("source_profile = %s" % source_name)
        extra = ["[profile %s]" % source_name, "role_arn = %s" % web_role,
                 "web_identity_token_file = %s" % token_file]
        if os.environ.get("AWS_ROLE_SESSION_NAME"):
            extra.append("role_session_name = %s" % os.environ["AWS_ROLE_SESSION_NAME"])
    else:  # profile: the caller's config file comes along, so its profiles resolve
        name = params["source_profile"] or source_detail or os.environ.get("AWS_PROFILE") or "default"
        lines.append("source_profile = %s" % name)
        extra = [caller_config(module, own)]
    return "\n".join(lines + [""] + extra) + "\n"


def caller_config(module, own):
    path = os.path.expanduser(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config")
    if os.path.abspath(path) == os.path.abspath(os.path.expanduser(module.params["config_file"])):
        module.fail_json(msg="AWS_CONFIG_FILE names config_file itself; run the module with the caller's own "
                         "AWS_CONFIG_FILE (or none).")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return ""
    # Leave out a section of the same name as ours (a profile written by an earlier run).
    kept, skip = [], False
    for line in text.splitlines():
        header = re.match(r"^\s*\[(.+)\]\s*$", line)
        if header:
            skip = header.group(1).strip() == own
        if not skip:
            kept.append(line)
    return "# The caller's config file (%s):\n%s" % (path, "\n".join(kept))


def private_directory(module, path):
    """Create ``path`` (mode 0700) when missing; refuse a directory others may use."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.stat(path)
        if info.st_uid != os.geteuid():
            module.fail_json(msg=invalid_value("config_file", path,
                                               "Allowed: a file in a directory of the user running the module."))
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(path, 0o700)
    except OSError as e:
        module.fail_json(msg="Cannot prepare the directory %s of config_file: %s" % (path, e))


def write_private(module, path, text):
    """Replace ``path`` atomically (mode 0600) unless it already holds ``text``."""
    private_directory(module, os.path.dirname(path))
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text and stat.S_IMODE(os.stat(path).st_mode) == 0o600:
                return False
    except OSError:
        pass
    handle, temporary = tempfile.mkstemp(prefix=".config-", dir=os.path.dirname(path))
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
        module.fail_json(msg="Cannot write config_file %s: %s" % (path, e))
    return True


def check_profile(module, path, partition, role_account):
    """Assume the role through the written profile once; the identity it gives."""
    params = module.params
    session = botocore.session.Session()
    session.set_config_variable("config_file", path)
    session.set_config_variable("profile", params["role_profile"])
    try:
        client = session.create_client("sts", region_name=params.get("region") or None,
                                       endpoint_url=params.get("endpoint_url") or None)
        identity = client.get_caller_identity()
    except boto_errors() as e:
        code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
        if code in ("AccessDenied", "AccessDeniedException"):
            module.fail_json_aws(
                e,
                msg="Access denied assuming %s: check that the caller may call sts:AssumeRole on it and that the "
                "role's trust policy allows the caller and the external_id." % params["role_arn"],
            )
        module.fail_json_aws(e, msg="Failed to assume %s through the profile %s"
                             % (params["role_arn"], params["role_profile"]))
    account = identity.get("Account") or role_account
    return account, identity.get("Arn", "")


def main():
    argument_spec = dict(
        role_arn=dict(type="str", required=True),
        external_id=dict(type="str", no_log=True),
        require_external_id=dict(type="bool", default=True),
        session_name=dict(type="str"),
        duration_seconds=dict(type="int", default=3600),
        max_attempts=dict(type="int", default=10),
        config_file=dict(type="path", required=True),
        role_profile=dict(type="str", default="honeyhive-platform"),
        source=dict(type="str", default="auto", choices=["auto", "environment", "instance", "container", "profile"]),
        source_profile=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    match = validate(module)
    partition, role_account, _path, role_name = match.groups()
    params = module.params
    session_name = params["session_name"] or default_session_name(role_name)
    source, detail = caller_source(module)
    path = os.path.abspath(os.path.expanduser(params["config_file"]))
    write_private(module, path, config_text(module, params["role_arn"], session_name, source, detail))
    account, assumed_arn = check_profile(module, path, partition, role_account)
    described = {"environment": "credential_source = Environment", "instance": "credential_source = Ec2InstanceMetadata",
                 "container": "credential_source = EcsContainer", "web-identity": "web identity token (source profile)",
                 "profile": "source_profile = %s" % (params["source_profile"] or detail or "default")}[source]
    module.exit_json(changed=False, account_id=account, assumed_role_arn=assumed_arn, config_file=path,
                     role_profile=params["role_profile"], source=described)


if __name__ == "__main__":
    main()
