# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Naming and tagging filters: ``resource_name`` and ``resource_tags``.

Every AWS resource the collection creates gets its name from ``resource_name`` and its
tags from ``resource_tags``, so teardown can find resources by name and tag alone.
Documentation for each filter lives in the sidecar ``<filter>.yml`` files.
"""
from __future__ import annotations

import hashlib
import re

from ansible.errors import AnsibleFilterError

HASH_LEN = 6
MANAGED_BY = "honeyhive.platform"

# Per-kind naming rules.
#   max:        maximum length of the result
#   min:        minimum length of the result
#   lower:      the service requires (or stores) lowercase names; the name is lowercased
#   chars:      regex character class of the allowed characters (after lowercasing)
#   allowed:    plain-words description of the charset for error messages
#   start:      'letter' | 'alnum' | None  -- rule for the first character
#   end_alnum:  the last character must be a letter or digit
#   no_double_hyphen: '--' is not allowed anywhere
#   slash:      components may contain '/'
_ALNUM_HYPHEN = "letters, digits and hyphens"
KINDS = {
    "s3": dict(max=63, min=3, lower=True, chars=r"a-z0-9\-", allowed="lowercase " + _ALNUM_HYPHEN,
               start="alnum", end_alnum=True, no_double_hyphen=False, slash=False),
    "iam_role": dict(max=64, min=1, lower=False, chars=r"A-Za-z0-9+=,.@_\-",
                     allowed="letters, digits and +=,.@_-", start=None, end_alnum=False,
                     no_double_hyphen=False, slash=False),
    "iam_policy": dict(max=128, min=1, lower=False, chars=r"A-Za-z0-9+=,.@_\-",
                       allowed="letters, digits and +=,.@_-", start=None, end_alnum=False,
                       no_double_hyphen=False, slash=False),
    "instance_profile": dict(max=128, min=1, lower=False, chars=r"A-Za-z0-9+=,.@_\-",
                             allowed="letters, digits and +=,.@_-", start=None, end_alnum=False,
                             no_double_hyphen=False, slash=False),
    "alb": dict(max=32, min=1, lower=False, chars=r"A-Za-z0-9\-", allowed=_ALNUM_HYPHEN,
                start="alnum", end_alnum=True, no_double_hyphen=False, slash=False),
    "target_group": dict(max=32, min=1, lower=False, chars=r"A-Za-z0-9\-", allowed=_ALNUM_HYPHEN,
                         start="alnum", end_alnum=True, no_double_hyphen=False, slash=False),
    "rds": dict(max=63, min=1, lower=True, chars=r"a-z0-9\-", allowed="lowercase " + _ALNUM_HYPHEN,
                start="letter", end_alnum=True, no_double_hyphen=True, slash=False),
    "docdb": dict(max=63, min=1, lower=True, chars=r"a-z0-9\-", allowed="lowercase " + _ALNUM_HYPHEN,
                  start="letter", end_alnum=True, no_double_hyphen=True, slash=False),
    "elasticache": dict(max=40, min=1, lower=True, chars=r"a-z0-9\-",
                        allowed="lowercase " + _ALNUM_HYPHEN, start="letter", end_alnum=True,
                        no_double_hyphen=True, slash=False),
    "security_group": dict(max=255, min=1, lower=False, chars=r"A-Za-z0-9 ._\-:()#,@\[\]+=&;{}!$*",
                           allowed="letters, digits, spaces and ._-:()#,@[]+=&;{}!$*", start=None,
                           end_alnum=False, no_double_hyphen=False, slash=False),
    "log_group": dict(max=512, min=1, lower=False, chars=r"A-Za-z0-9._\-/#",
                      allowed="letters, digits and ._-/#", start=None, end_alnum=False,
                      no_double_hyphen=False, slash=True),
    "secret": dict(max=512, min=1, lower=False, chars=r"A-Za-z0-9/_+=.@\-",
                   allowed="letters, digits and /_+=.@-", start=None, end_alnum=False,
                   no_double_hyphen=False, slash=True),
    "kms_alias": dict(max=250, min=1, lower=False, chars=r"A-Za-z0-9_\-",
                      allowed="letters, digits, underscores and hyphens", start=None, end_alnum=False,
                      no_double_hyphen=False, slash=False),
    "eks_cluster": dict(max=100, min=1, lower=False, chars=r"A-Za-z0-9_\-",
                        allowed="letters, digits, underscores and hyphens", start="letter",
                        end_alnum=False, no_double_hyphen=False, slash=False),
    "sqs": dict(max=80, min=1, lower=False, chars=r"A-Za-z0-9_\-",
                allowed="letters, digits, underscores and hyphens", start=None, end_alnum=False,
                no_double_hyphen=False, slash=False),
    "eventbridge_rule": dict(max=64, min=1, lower=False, chars=r"A-Za-z0-9._\-",
                             allowed="letters, digits and ._-", start=None, end_alnum=False,
                             no_double_hyphen=False, slash=False),
    "ecs": dict(max=255, min=1, lower=False, chars=r"A-Za-z0-9_\-",
                allowed="letters, digits, underscores and hyphens", start=None, end_alnum=False,
                no_double_hyphen=False, slash=False),
    "generic": dict(max=255, min=1, lower=False, chars=r"A-Za-z0-9._\-",
                    allowed="letters, digits and ._-", start=None, end_alnum=False,
                    no_double_hyphen=False, slash=False),
}

NAME_CONTEXT_KEYS = ("prefix", "environment", "region")
TAG_CONTEXT_KEYS = ("environment", "region", "deployment_type", "cost_center")


def _kinds_allowed() -> str:
    return ", ".join(sorted(KINDS))


def _check_part(label: str, value, rules: dict) -> str:
    """Validate one part of the name (component or a context value); return it normalised."""
    if not isinstance(value, str) or not value.strip():
        raise AnsibleFilterError(
            f"{label}: {value!r} is not valid; allowed: a non-empty string of {rules['allowed']}"
        )
    text = value.lower() if rules["lower"] else value
    if "/" in text and not rules["slash"]:
        raise AnsibleFilterError(
            f"{label}: {value!r} contains '/'; allowed: {rules['allowed']} "
            "(slashes only for the log_group and secret kinds)"
        )
    bad = sorted(set(re.sub(f"[{rules['chars']}]", "", text)))
    if bad:
        raise AnsibleFilterError(
            f"{label}: {value!r} contains {''.join(bad)!r}; allowed: {rules['allowed']}"
        )
    if rules["no_double_hyphen"] and ("--" in text or text.startswith("-") or text.endswith("-")):
        raise AnsibleFilterError(
            f"{label}: {value!r} would put two hyphens in a row or a hyphen at an end; allowed: "
            f"{rules['allowed']} without consecutive, leading or trailing hyphens"
        )
    return text


def _truncate(name: str, limit: int) -> str:
    """Cut ``name`` to ``limit`` characters, deterministically, with a hash of the full name."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:HASH_LEN]
    head = name[: limit - HASH_LEN - 1].rstrip("-_./ ")
    return f"{head}-{digest}"


def resource_name(component, context, kind="generic"):
    """Return ``{prefix}-{component}-{environment}-{region}`` fitted to ``kind``'s rules."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise AnsibleFilterError(f"kind: {kind!r} is not a known resource kind; allowed: {_kinds_allowed()}")
    rules = KINDS[kind]
    if not isinstance(context, dict):
        raise AnsibleFilterError(
            f"context: {context!r} is not a dict; allowed: a dict with keys {', '.join(NAME_CONTEXT_KEYS)}"
        )
    for key in NAME_CONTEXT_KEYS:
        if key not in context:
            raise AnsibleFilterError(
                f"context.{key}: missing; allowed: a dict with keys {', '.join(NAME_CONTEXT_KEYS)}"
            )
    prefix = _check_part("context.prefix", context["prefix"], rules)
    comp = _check_part("component", component, rules)
    env = _check_part("context.environment", context["environment"], rules)
    region = _check_part("context.region", context["region"], rules)

    name = "-".join((prefix, comp, env, region))

    if rules["start"] == "letter" and not name[0].isalpha():
        raise AnsibleFilterError(
            f"context.prefix: {context['prefix']!r} does not start with a letter, which {kind} names "
            "must; allowed: a prefix starting with a letter"
        )
    if rules["start"] == "alnum" and not name[0].isalnum():
        raise AnsibleFilterError(
            f"context.prefix: {context['prefix']!r} does not start with a letter or digit, which {kind} "
            "names must; allowed: a prefix starting with a letter or digit"
        )
    if rules["end_alnum"] and not name[-1].isalnum():
        raise AnsibleFilterError(
            f"context.region: {context['region']!r} does not end with a letter or digit, which {kind} "
            "names must; allowed: a region name such as 'us-west-2'"
        )
    if kind == "alb" and name.startswith("internal-"):
        raise AnsibleFilterError(
            f"context.prefix: {context['prefix']!r} makes the load balancer name start with 'internal-'; "
            "allowed: any other prefix"
        )

    if len(name) > rules["max"]:
        name = _truncate(name, rules["max"])
    if len(name) < rules["min"]:
        raise AnsibleFilterError(
            f"component: {component!r} gives the name {name!r}, shorter than the {rules['min']} characters "
            f"{kind} names need; allowed: a longer component"
        )
    return name


def _tag_text(label: str, value, limit: int) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    if isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        raise AnsibleFilterError(
            f"{label}: {value!r} is not a string; allowed: a string of at most {limit} characters"
        )
    if len(value) > limit:
        raise AnsibleFilterError(
            f"{label}: {value!r} is {len(value)} characters long; allowed: at most {limit} characters"
        )
    return value


def resource_tags(context, extra=None):
    """Return the standard tag dict for ``context`` merged with ``extra``."""
    if not isinstance(context, dict):
        raise AnsibleFilterError(
            f"context: {context!r} is not a dict; allowed: a dict with keys {', '.join(TAG_CONTEXT_KEYS)}"
        )
    for key in TAG_CONTEXT_KEYS:
        if key not in context:
            raise AnsibleFilterError(
                f"context.{key}: missing; allowed: a dict with keys {', '.join(TAG_CONTEXT_KEYS)}"
            )
        value = context[key]
        if not isinstance(value, str) or not value.strip():
            raise AnsibleFilterError(f"context.{key}: {value!r} is not valid; allowed: a non-empty string")
    tags = {
        "Environment": _tag_text("context.environment", context["environment"], 256),
        "Region": _tag_text("context.region", context["region"], 256),
        "DeploymentType": _tag_text("context.deployment_type", context["deployment_type"], 256),
        "ManagedBy": MANAGED_BY,
        "CostCenter": _tag_text("context.cost_center", context["cost_center"], 256),
    }
    if extra is None:
        return tags
    if not isinstance(extra, dict):
        raise AnsibleFilterError(f"extra: {extra!r} is not a dict; allowed: a dict of tag names to values")
    merged = dict(tags)
    for key, value in extra.items():
        key = _tag_text("extra", key, 128)
        if not key or key.lower().startswith("aws:"):
            raise AnsibleFilterError(
                f"extra: tag name {key!r} is not allowed; allowed: a non-empty name not starting with 'aws:'"
            )
        value = _tag_text(f"extra.{key}", value, 256)
        if key in tags and value != tags[key]:
            raise AnsibleFilterError(
                f"extra.{key}: {value!r} would replace the standard tag value {tags[key]!r}, which teardown "
                "relies on; allowed: any tag other than " + ", ".join(tags)
            )
        merged[key] = value
    if len(merged) > 50:
        raise AnsibleFilterError(f"extra: {len(merged)} tags in total; allowed: at most 50 tags per resource")
    return merged


class FilterModule:
    """Naming and tagging filters."""

    def filters(self):
        return {
            "resource_name": resource_name,
            "resource_tags": resource_tags,
        }
