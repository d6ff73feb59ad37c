#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: twingate_connector
short_description: Manage a Twingate connector and keep its tokens in AWS Secrets Manager
version_added: "0.1.0"
author: HoneyHive platform engineering (@honeyhiveai)
description:
  - Creates or deletes a Twingate connector in a remote network through Twingate's GraphQL
    Admin API (C(connectors), C(connectorCreate), C(connectorDelete),
    C(connectorGenerateTokens)).
  - 'The connector''s access and refresh tokens go straight from the API into an AWS Secrets
    Manager secret as the JSON document C({"access_token": ..., "refresh_token": ...}), which
    an ECS task reads with a C(valueFrom) of C(<secret arn>:access_token::).'
  - The tokens are never returned, logged or shown in a diff.
  - Tokens are generated when the connector is created, when the secret is missing, has no
    current value or is scheduled for deletion (it is restored), and when
    O(rotate_tokens=true). Generating tokens invalidates the previous pair.
  - The secret's KMS key, description and tags are kept in line with the options.
  - The connector is found by its exact name. Connectors cannot move between remote
    networks, so a connector of that name in another remote network is an error.
  - Uses the standard AWS connection options, so the C(group/honeyhive.platform.aws)
    C(module_defaults) apply.
options:
  name:
    description: The connector's name, unique in the Twingate network.
    type: str
    required: true
  remote_network:
    description:
      - Name or id of the remote network the connector belongs to.
      - Required when O(state=present); with O(state=absent) it narrows the search.
    type: str
  tokens_secret_name:
    description:
      - Name of the Secrets Manager secret holding the connector's tokens.
      - Required when O(state=present). With O(state=absent) the secret is deleted too.
    type: str
  tokens_secret_kms_key_id:
    description: KMS key (id, ARN or alias) that encrypts the secret. The account's default
      C(aws/secretsmanager) key when omitted.
    type: str
  tokens_secret_description:
    description: Description of the secret. A description naming the connector when omitted.
    type: str
  tokens_secret_recovery_window:
    description:
      - Days Secrets Manager keeps the deleted secret recoverable (7-30), or V(0) to delete it
        at once without recovery. Only used with O(state=absent).
    type: int
    default: 30
  rotate_tokens:
    description: Generate a new token pair and overwrite the secret even when it is in place.
    type: bool
    default: false
  state:
    description: Whether the connector (and its tokens secret) should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - honeyhive.platform.twingate
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode no tokens are generated and the secret is not touched.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: The diff shows the connector's name and remote network and whether the secret exists, never its value.
"""

EXAMPLES = r"""
- name: Connector whose tokens land in Secrets Manager, encrypted with the platform key
  honeyhive.platform.twingate_connector:
    name: honeyhive-connector-prod-us-west-2
    remote_network: honeyhive-prod-us-west-2
    tokens_secret_name: honeyhive-twingate-connector-prod-us-west-2
    tokens_secret_kms_key_id: "{{ foundation_outputs.kms_key_arn }}"
    tags: "{{ platform_tags }}"
  register: connector
  no_log: true

- name: Rotate the tokens (the ECS service must be restarted to pick them up)
  honeyhive.platform.twingate_connector:
    name: honeyhive-connector-prod-us-west-2
    remote_network: honeyhive-prod-us-west-2
    tokens_secret_name: honeyhive-twingate-connector-prod-us-west-2
    rotate_tokens: true
  no_log: true

- name: Remove the connector and delete its secret at once
  honeyhive.platform.twingate_connector:
    name: honeyhive-connector-prod-us-west-2
    tokens_secret_name: honeyhive-twingate-connector-prod-us-west-2
    tokens_secret_recovery_window: 0
    state: absent
"""

RETURN = r"""
id:
  description: The connector's Twingate id; null when it does not exist.
  returned: always
  type: str
  sample: Q29ubmVjdG9yOjQxMjM0
name:
  description: The connector's name.
  returned: always
  type: str
  sample: honeyhive-connector-prod-us-west-2
remote_network_id:
  description: Id of the connector's remote network; null when unknown.
  returned: always
  type: str
  sample: UmVtb3RlTmV0d29yazo0MDEzOQ==
tokens_secret_arn:
  description: ARN of the Secrets Manager secret holding the tokens; null when it does not exist.
  returned: always
  type: str
  sample: arn:aws:secretsmanager:us-west-2:123456789012:secret:honeyhive-twingate-connector-prod-us-west-2-AbCdEf
tokens_generated:
  description: Whether a new token pair was generated and stored in this run (or would be, in check mode).
  returned: always
  type: bool
  sample: true
"""

import json

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule
    pass

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import client_token
from ansible_collections.honeyhive.platform.plugins.module_utils.twingate import (
    TwingateClient,
    TwingateError,
    by_name_query,
    fail_on_problems,
    one_named,
    resolve_remote_network,
    twingate_argument_spec,
    validate_common_params,
)

Q_BY_NAME = by_name_query("ConnectorsByName", "connectors", "id name remoteNetwork { id name }")

M_CREATE = """
mutation ConnectorCreate($remoteNetworkId: ID!, $name: String) {
  connectorCreate(remoteNetworkId: $remoteNetworkId, name: $name) {
    ok error entity { id name remoteNetwork { id name } }
  }
}
"""

M_DELETE = """
mutation ConnectorDelete($id: ID!) {
  connectorDelete(id: $id) { ok error }
}
"""

M_TOKENS = """
mutation ConnectorGenerateTokens($connectorId: ID!) {
  connectorGenerateTokens(connectorId: $connectorId) {
    ok error connectorTokens { accessToken refreshToken }
  }
}
"""


class SecretError(Exception):
    """A Secrets Manager call failed; carries the botocore exception."""

    def __init__(self, message, exc):
        super().__init__(message)
        self.exc = exc


def find_connector(client, name, network_id):
    return one_named(client.paginate(Q_BY_NAME, {"name": name}, ["connectors"]), name, "connector",
                     reason="names must be unique")


def same_kms_key(current, wanted):
    if not wanted:
        return True
    if not current:
        return wanted in ("alias/aws/secretsmanager",)
    if current == wanted:
        return True
    return current.endswith("/" + wanted) or wanted.endswith("/" + current) or current.endswith(":" + wanted) \
        or wanted.endswith(":" + current)


class Secrets:
    """The few Secrets Manager calls the module makes."""

    def __init__(self, module):
        self.module = module
        self.client = module.client("secretsmanager", retry_decorator=AWSRetry.jittered_backoff())

    def describe(self, name):
        try:
            return self.client.describe_secret(SecretId=name, aws_retry=True)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise SecretError("cannot describe secret %s" % name, exc)
        except BotoCoreError as exc:
            raise SecretError("cannot describe secret %s" % name, exc)

    def call(self, what, method, **kwargs):
        try:
            return getattr(self.client, method)(aws_retry=True, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise SecretError(what, exc)


def has_current_value(secret):
    return any("AWSCURRENT" in stages for stages in (secret.get("VersionIdsToStages") or {}).values())


def ensure_present(module, client, secrets, result):
    params = module.params
    name = params["name"]
    secret_name = params["tokens_secret_name"]
    description = params["tokens_secret_description"] or (
        "Twingate connector tokens (access_token, refresh_token) for connector %s" % name)

    network = resolve_remote_network(client, params["remote_network"])
    if network is None and not module.check_mode:
        raise TwingateError("remote_network: %r matches no Twingate remote network by name or id; create it first "
                            "(honeyhive.platform.twingate_remote_network)" % params["remote_network"])
    network_id = network["id"] if network else None

    connector = find_connector(client, name, network_id)
    if connector and network_id and connector["remoteNetwork"]["id"] != network_id:
        raise TwingateError(
            "connector %r belongs to remote network %r (%s), not %r; connectors cannot move between remote "
            "networks: delete it or choose another name" % (name, connector["remoteNetwork"]["name"],
                                                            connector["remoteNetwork"]["id"], params["remote_network"]))
    secret = secrets.describe(secret_name)
    before = {}
    if connector:
        before = {"name": name, "remote_network_id": connector["remoteNetwork"]["id"]}
    before["tokens_secret"] = ("scheduled for deletion" if secret and secret.get("DeletedDate")
                               else "present" if secret else "absent")

    created = False
    if connector is None:
        result["changed"] = created = True
        if not module.check_mode:
            connector = client.mutate(M_CREATE, {"remoteNetworkId": network_id, "name": name},
                                      "connectorCreate")["entity"]
    if connector:
        result["id"] = connector["id"]
        result["remote_network_id"] = connector["remoteNetwork"]["id"]
    else:
        result["remote_network_id"] = network_id

    pending_delete = bool(secret and secret.get("DeletedDate"))
    need_tokens = (created or secret is None or pending_delete or not has_current_value(secret)
                   or params["rotate_tokens"])
    result["tokens_generated"] = need_tokens

    if secret is not None and not module.check_mode and pending_delete:
        secrets.call("cannot restore secret %s" % secret_name, "restore_secret", SecretId=secret_name)
        result["changed"] = True

    # Converge the secret's metadata before any tokens are generated, so that a failure here
    # never leaves freshly invalidated tokens behind.
    if secret is not None:
        updates = {}
        if not same_kms_key(secret.get("KmsKeyId"), params["tokens_secret_kms_key_id"]):
            updates["KmsKeyId"] = params["tokens_secret_kms_key_id"]
        if (secret.get("Description") or "") != description:
            updates["Description"] = description
        if updates:
            result["changed"] = True
            if not module.check_mode:
                secrets.call("cannot update secret %s" % secret_name, "update_secret", SecretId=secret_name, **updates)
        if params["tags"] is not None:
            to_set, to_unset = compare_aws_tags(boto3_tag_list_to_ansible_dict(secret.get("Tags") or []),
                                                params["tags"], params["purge_tags"])
            if to_set or to_unset:
                result["changed"] = True
                if not module.check_mode:
                    if to_unset:
                        secrets.call("cannot untag secret %s" % secret_name, "untag_resource",
                                     SecretId=secret_name, TagKeys=to_unset)
                    if to_set:
                        secrets.call("cannot tag secret %s" % secret_name, "tag_resource", SecretId=secret_name,
                                     Tags=ansible_dict_to_boto3_tag_list(to_set))
        result["tokens_secret_arn"] = secret["ARN"]

    if need_tokens:
        result["changed"] = True
        if not module.check_mode:
            payload = client.mutate(M_TOKENS, {"connectorId": connector["id"]}, "connectorGenerateTokens")
            tokens = payload.get("connectorTokens") or {}
            access, refresh = tokens.get("accessToken"), tokens.get("refreshToken")
            if not access or not refresh:
                raise TwingateError("connectorGenerateTokens returned no tokens for connector %r" % name)
            # Belt and braces: Ansible masks these values wherever they might appear in output.
            module.no_log_values.update([access, refresh])
            value = json.dumps({"access_token": access, "refresh_token": refresh})
            # The version id is derived from the connector and a digest of these tokens, so a
            # write retried after a lost answer is the same request to Secrets Manager, not a
            # second version (or a "secret exists" error for a create that went through).
            version = client_token("twingate_tokens", connector["id"], secret_name, value)
            try:
                if secret is None:
                    kwargs = dict(Name=secret_name, SecretString=value, Description=description,
                                  ClientRequestToken=version)
                    if params["tokens_secret_kms_key_id"]:
                        kwargs["KmsKeyId"] = params["tokens_secret_kms_key_id"]
                    if params["tags"]:
                        kwargs["Tags"] = ansible_dict_to_boto3_tag_list(params["tags"])
                    created_secret = secrets.call("cannot create secret %s" % secret_name, "create_secret", **kwargs)
                    result["tokens_secret_arn"] = created_secret["ARN"]
                else:
                    secrets.call("cannot store the tokens in secret %s" % secret_name, "put_secret_value",
                                 SecretId=secret_name, SecretString=value, ClientRequestToken=version)
            except SecretError as exc:
                raise SecretError(
                    "%s; the connector's tokens were regenerated but not stored, so run again with "
                    "rotate_tokens=true" % exc, exc.exc)

    result["name"] = name
    after = {"name": name, "remote_network_id": result["remote_network_id"], "tokens_secret": "present"}
    if need_tokens:
        after["tokens"] = "regenerated"
    if module._diff:
        result["diff"] = {"before": before, "after": after}


def ensure_absent(module, client, secrets, result):
    params = module.params
    name = params["name"]
    network_id = None
    if params["remote_network"]:
        network = resolve_remote_network(client, params["remote_network"])
        network_id = network["id"] if network else None
    connector = find_connector(client, name, network_id)
    if connector and network_id and connector["remoteNetwork"]["id"] != network_id:
        connector = None  # a connector of that name elsewhere is not ours to delete
    before, after = {}, {}
    if connector:
        before.update(name=name, remote_network_id=connector["remoteNetwork"]["id"])
        result["changed"] = True
        if not module.check_mode:
            client.mutate(M_DELETE, {"id": connector["id"]}, "connectorDelete")

    secret_name = params["tokens_secret_name"]
    if secret_name:
        secret = secrets.describe(secret_name)
        window = params["tokens_secret_recovery_window"]
        if secret is not None:
            before["tokens_secret"] = "scheduled for deletion" if secret.get("DeletedDate") else "present"
            # A secret already scheduled for deletion is left alone unless it must go at once.
            if not secret.get("DeletedDate") or window == 0:
                result["changed"] = True
                if not module.check_mode:
                    kwargs = {"ForceDeleteWithoutRecovery": True} if window == 0 else {"RecoveryWindowInDays": window}
                    secrets.call("cannot delete secret %s" % secret_name, "delete_secret", SecretId=secret_name,
                                 **kwargs)
            after["tokens_secret"] = "absent" if window == 0 else "scheduled for deletion"
    if module._diff:
        result["diff"] = {"before": before, "after": after}


def main():
    module = AnsibleAWSModule(
        argument_spec=twingate_argument_spec(
            name=dict(type="str", required=True),
            remote_network=dict(type="str"),
            tokens_secret_name=dict(type="str", no_log=False),
            tokens_secret_kms_key_id=dict(type="str", no_log=False),
            tokens_secret_description=dict(type="str", no_log=False),
            tokens_secret_recovery_window=dict(type="int", default=30, no_log=False),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
            rotate_tokens=dict(type="bool", default=False, no_log=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_if=[("state", "present", ("remote_network", "tokens_secret_name"))],
        supports_check_mode=True,
    )
    params = module.params
    problems = validate_common_params(params)
    name = params["name"]
    secret_name = params["tokens_secret_name"]
    if secret_name is not None and (not secret_name or len(secret_name) > 512
                                    or any(not (c.isalnum() or c in "/_+=.@-") for c in secret_name)):
        problems.append("tokens_secret_name: %r; allowed: 1-512 letters, digits and /_+=.@-" % secret_name)
    window = params["tokens_secret_recovery_window"]
    if window != 0 and not 7 <= window <= 30:
        problems.append("tokens_secret_recovery_window: %r; allowed: 0 (delete at once) or 7-30 days" % window)
    if params["state"] == "present" and params["remote_network"] is not None and not params["remote_network"].strip():
        problems.append("remote_network: empty; allowed: a remote network name or id")
    for key, value in (params["tags"] or {}).items():
        if str(key).lower().startswith("aws:"):
            problems.append("tags: %r; allowed: tag names not starting with 'aws:'" % key)
    fail_on_problems(module, problems)

    client = TwingateClient.from_module(module)
    secrets = Secrets(module)
    result = {"changed": False, "id": None, "name": name, "remote_network_id": None, "tokens_secret_arn": None,
              "tokens_generated": False}
    try:
        if params["state"] == "present":
            ensure_present(module, client, secrets, result)
        else:
            ensure_absent(module, client, secrets, result)
    except TwingateError as exc:
        module.fail_json(msg=str(exc))
    except SecretError as exc:
        module.fail_json_aws(exc.exc, msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
