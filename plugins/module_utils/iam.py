# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared code of the ``iam_role`` and ``iam_managed_policy`` modules.

* policy documents: accepted as a dict or JSON text, compared by meaning
  (``amazon.aws``'s ``compare_policies``: statement and list order, a one-item
  list versus a string, the default ``Version``);
* IAM tags as dicts;
* the codes IAM answers while a resource made moments ago is not visible yet;
* ``IamRun``: what a run of either module does the same way (reads that find
  nothing, creates that were retried, deletes of what is gone already, tags).
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
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict

# A role or policy made moments ago may not be visible yet to the next call.
FRESH_CODES = ["NoSuchEntity"]

PATH_RE = re.compile(r"^/([\x21-\x7e]{0,510}/)?$")


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


def check_path(module):
    """Fail (before any API call) when O(path) is not an IAM path."""
    path = module.params["path"]
    if not PATH_RE.match(path or ""):
        module.fail_json(msg=invalid_value("path", path, "Allowed: a path that starts and ends with /."))


def iam_tags(tag_list):
    return tags_to_dict(tag_list, "Key", "Value")


class IamRun(ModuleRun):
    """A run of ``iam_role`` or ``iam_managed_policy`` on the entity O(name).

    Its calls right after a create also retry while the new entity is not
    visible yet; ``subject`` (``role <name>``, ``policy <name>``) names the
    entity in actions and failures.
    """

    def __init__(self, module, kind):
        super().__init__(module, "iam", fresh_codes=FRESH_CODES)
        self.name = module.params["name"]
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
        first attempt went through) it is read instead (``get``)."""
        try:
            return getattr(self.client, method)(aws_retry=True, **request)[key]
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
