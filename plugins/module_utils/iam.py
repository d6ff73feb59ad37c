# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared code of the ``iam_role`` and ``iam_managed_policy`` modules.

* policy documents: accepted as a dict or JSON text, compared by meaning
  (``amazon.aws``'s ``compare_policies``: statement and list order, a one-item
  list versus a string, the default ``Version``);
* IAM tags as dicts, and their diff;
* the codes IAM answers while a resource made moments ago is not visible yet.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.six import string_types
from ansible.module_utils.six.moves.urllib.parse import unquote

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tag_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list

# A role or policy made moments ago may not be visible yet to the next call.
FRESH_CODES = ["NoSuchEntity"]


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


def iam_tags(tag_list):
    return tags_to_dict(tag_list, "Key", "Value")


def iam_tag_changes(current, desired, purge):
    """``(to_set as a tag list, keys to unset)``; nothing when ``desired`` is None."""
    to_set, to_unset = tag_diff(current, desired, purge)
    return tags_to_list(to_set), to_unset
