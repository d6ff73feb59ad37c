#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: iam_oidc_provider
short_description: Manage an IAM OpenID Connect identity provider
version_added: 0.1.0
description:
  - Creates, updates or deletes an IAM OIDC identity provider, such as the
    GitHub Actions token issuer or the OIDC issuer of an EKS cluster.
  - The provider is found by its URL (one C(ListOpenIDConnectProviders) and
    one C(GetOpenIDConnectProvider) call); audiences, thumbprints and tags are
    updated in place.
options:
  url:
    description:
      - Issuer URL of the identity provider. Must start with C(https://) and
        have no query string or fragment, at most 255 characters.
    type: str
    required: true
  client_ids:
    description:
      - Audiences (client IDs) the provider accepts. The provider ends up with
        exactly this list.
      - At least one is needed when O(state=present).
    type: list
    elements: str
    default: ["sts.amazonaws.com"]
    aliases: ['audiences']
  thumbprints:
    description:
      - Server certificate thumbprints (40 hexadecimal characters each, at
        most 5).
      - When omitted, thumbprints are not managed. New providers are then
        created without any and IAM validates the issuer with its own trusted
        root certificate authorities.
      - An empty list removes the thumbprints of an existing provider.
    type: list
    elements: str
  state:
    description:
      - V(present) creates or updates the provider, V(absent) deletes it.
    type: str
    choices: ['present', 'absent']
    default: present
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Trust GitHub Actions tokens
  honeyhive.platform.iam_oidc_provider:
    url: https://token.actions.githubusercontent.com
    client_ids:
      - sts.amazonaws.com
    tags: "{{ platform_tags | combine({'Name': 'github-actions'}) }}"

- name: OIDC provider of an EKS cluster, pinned to a thumbprint
  honeyhive.platform.iam_oidc_provider:
    url: "{{ eks_outputs.oidc_issuer_url }}"
    client_ids: [sts.amazonaws.com]
    thumbprints: [9e99a48a9960b14926bb7f3b02e22da2b0ab7280]

- name: Remove the provider
  honeyhive.platform.iam_oidc_provider:
    url: https://token.actions.githubusercontent.com
    state: absent
"""

RETURN = r"""
arn:
  description: ARN of the provider (null once deleted, or in check mode before it exists).
  returned: always
  type: str
  sample: arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com
url:
  description: Issuer URL, with its C(https://) prefix.
  returned: always
  type: str
  sample: https://token.actions.githubusercontent.com
client_ids:
  description: Audiences of the provider.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [sts.amazonaws.com]
thumbprints:
  description: Thumbprints of the provider.
  returned: when O(state=present)
  type: list
  elements: str
  sample: []
tags:
  description: Tags of the provider.
  returned: when O(state=present)
  type: dict
  sample: {Name: github-actions}
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import apply_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list

URL_RE = re.compile(r"^https://[^\s/?#]+(/[^\s?#]*)?$")
THUMBPRINT_RE = re.compile(r"^[0-9a-fA-F]{40}$")


def url_key(url):
    """The form IAM stores (no scheme, no trailing slash), host lower-cased."""
    rest = url[len("https://"):] if url.lower().startswith("https://") else url
    rest = rest.rstrip("/")
    host, sep, path = rest.partition("/")
    return host.lower() + sep + path


def validate(module):
    params = module.params
    url = params["url"]
    if not URL_RE.match(url or "") or len(url) > 255:
        module.fail_json(
            msg=invalid_value(
                "url", url, "Allowed: an https:// URL of at most 255 characters without query string or fragment, "
                "for example https://token.actions.githubusercontent.com."
            )
        )
    if params["state"] == "absent":
        return
    client_ids = params["client_ids"] or []
    if not client_ids:
        module.fail_json(msg=invalid_value("client_ids", client_ids, "Allowed: a list of 1 to 100 audiences, "
                                           "for example [sts.amazonaws.com]."))
    if len(client_ids) > 100:
        module.fail_json(msg=invalid_value("client_ids", "%d entries" % len(client_ids), "Allowed: at most 100 audiences."))
    for client_id in client_ids:
        if not client_id or len(client_id) > 255:
            module.fail_json(msg=invalid_value("client_ids", client_id, "Allowed: audiences of 1 to 255 characters."))
    thumbprints = params["thumbprints"]
    if thumbprints is not None:
        if len(thumbprints) > 5:
            module.fail_json(msg=invalid_value("thumbprints", "%d entries" % len(thumbprints), "Allowed: at most 5 thumbprints."))
        for thumbprint in thumbprints:
            if not THUMBPRINT_RE.match(thumbprint or ""):
                module.fail_json(
                    msg=invalid_value("thumbprints", thumbprint, "Allowed: SHA-1 thumbprints of 40 hexadecimal characters.")
                )
    check_tags(module)


def find_provider(module, client, url):
    """(arn, description) of the provider for ``url``, or (None, None)."""
    key = url_key(url)
    try:
        providers = client.list_open_id_connect_providers(aws_retry=True)["OpenIDConnectProviderList"]
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to list IAM OIDC providers")
    for provider in providers:
        arn = provider["Arn"]
        resource = arn.partition(":oidc-provider/")[2]
        if url_key("https://" + resource) != key:
            continue
        try:
            described = client.get_open_id_connect_provider(OpenIDConnectProviderArn=arn, aws_retry=True)
        except is_boto3_error_code("NoSuchEntity"):
            return None, None
        except boto_errors() as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg="Failed to describe IAM OIDC provider %s" % arn)
        return arn, described
    return None, None


def normalize(arn, url, described):
    return dict(
        arn=arn,
        url="https://" + described.get("Url", url_key(url)) if described else url,
        client_ids=list(described.get("ClientIDList") or []),
        thumbprints=list(described.get("ThumbprintList") or []),
        tags=tags_to_dict(described.get("Tags")),
    )


def state_view(result):
    if not result:
        return {}
    return {k: result[k] for k in ("url", "client_ids", "thumbprints", "tags")}


def create(module, client, url):
    params = module.params
    request = dict(Url=url.rstrip("/"), ClientIDList=list(params["client_ids"]))
    if params["thumbprints"]:
        request["ThumbprintList"] = [t.lower() for t in params["thumbprints"]]
    tags = stringify_tags(params["tags"])
    if tags:
        request["Tags"] = tags_to_list(tags)
    planned = dict(
        arn=None,
        url=request["Url"],
        client_ids=list(request["ClientIDList"]),
        thumbprints=list(request.get("ThumbprintList", [])),
        tags=tags,
    )
    if module.check_mode:
        return planned
    try:
        arn = client.create_open_id_connect_provider(aws_retry=True, **request)["OpenIDConnectProviderArn"]
    except is_boto3_error_code("EntityAlreadyExists"):
        # A retried call whose first attempt went through, or a concurrent run:
        # pick the provider up and converge it instead of failing.
        arn, described = find_provider(module, client, url)
        if not arn:
            module.fail_json(msg="IAM reports an OIDC provider for %s exists but it cannot be found" % url)
        return update(module, client, normalize(arn, url, described))[0]
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to create IAM OIDC provider for %s" % url)
    planned["arn"] = arn
    return planned


def update(module, client, current):
    params = module.params
    arn = current["arn"]
    changed = False
    after = dict(current)

    wanted_ids = list(dict.fromkeys(params["client_ids"]))
    to_add = [c for c in wanted_ids if c not in current["client_ids"]]
    to_remove = [c for c in current["client_ids"] if c not in wanted_ids]
    if to_add or to_remove:
        changed = True
        after["client_ids"] = [c for c in current["client_ids"] if c in wanted_ids] + to_add
        if not module.check_mode:
            try:
                for client_id in to_add:
                    client.add_client_id_to_open_id_connect_provider(
                        OpenIDConnectProviderArn=arn, ClientID=client_id, aws_retry=True
                    )
                for client_id in to_remove:
                    client.remove_client_id_from_open_id_connect_provider(
                        OpenIDConnectProviderArn=arn, ClientID=client_id, aws_retry=True
                    )
            except boto_errors() as e:
                module.fail_json_aws(e, msg="Failed to update the audiences of %s" % arn)

    if params["thumbprints"] is not None:
        wanted = [t.lower() for t in dict.fromkeys(params["thumbprints"])]
        if sorted(wanted) != sorted(t.lower() for t in current["thumbprints"]):
            changed = True
            after["thumbprints"] = wanted
            if not module.check_mode:
                try:
                    client.update_open_id_connect_provider_thumbprint(
                        OpenIDConnectProviderArn=arn, ThumbprintList=wanted, aws_retry=True
                    )
                except boto_errors() as e:
                    module.fail_json_aws(e, msg="Failed to update the thumbprints of %s" % arn)

    def untag(keys):
        client.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=keys, aws_retry=True)

    def tag(to_set):
        client.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=tags_to_list(to_set), aws_retry=True)

    tags, tags_changed = apply_tags(module, current["tags"], params["tags"], params["purge_tags"], untag, tag,
                                    "Failed to update the tags of %s" % arn)
    if tags_changed:
        changed = True
        after["tags"] = tags
    return after, changed


def main():
    argument_spec = dict(
        url=dict(type="str", required=True),
        client_ids=dict(type="list", elements="str", default=["sts.amazonaws.com"], aliases=["audiences"]),
        thumbprints=dict(type="list", elements="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    params = module.params
    url = params["url"]

    client = retrying_client(module, "iam")
    arn, described = find_provider(module, client, url)
    current = normalize(arn, url, described) if arn else None

    if params["state"] == "absent":
        if not current:
            module.exit_json(changed=False, arn=None, url=url)
        if not module.check_mode:
            try:
                client.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn, aws_retry=True)
            except is_boto3_error_code("NoSuchEntity"):
                pass
            except boto_errors() as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg="Failed to delete IAM OIDC provider %s" % arn)
        exit_with_diff(module, dict(changed=True, arn=None, url=current["url"]), state_view(current), {})

    if current:
        after, changed = update(module, client, current)
    else:
        after, changed = create(module, client, url), True

    exit_with_diff(module, dict(changed=changed, **after), state_view(current), state_view(after))


if __name__ == "__main__":
    main()
