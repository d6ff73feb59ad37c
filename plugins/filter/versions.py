# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Version filter: ``eks_version_problem(desired, current=None)``.

What is wrong with an EKS Kubernetes version, as the preflight role words it; the rule is
``module_utils/k8s_version.py``'s, which the EKS modules also apply. Documentation lives in
the sidecar ``eks_version_problem.yml``.
"""
from __future__ import annotations

from ansible_collections.honeyhive.platform.plugins.module_utils.k8s_version import format_version
from ansible_collections.honeyhive.platform.plugins.module_utils.k8s_version import parse_version
from ansible_collections.honeyhive.platform.plugins.module_utils.k8s_version import version_step


def eks_version_problem(desired, current=None):
    """'' when ``desired`` is a minor version a cluster at ``current`` (None: no cluster yet)
    can run after one upgrade; otherwise ``<problem>; allowed: <what is allowed>``."""
    if not isinstance(desired, str) or parse_version(desired) is None:
        return ('is not a Kubernetes minor version; allowed: a minor version such as "1.33", quoted '
                '(an unquoted 1.30 is the number 1.3)')
    if current is None or current == "":
        return ""
    problem = version_step(str(current), desired)
    if problem is None:
        return ""
    kind, nxt = problem
    if kind == "downgrade":
        have = parse_version(str(current))
        return ("is older than the Kubernetes %s the cluster runs, and EKS cannot downgrade; allowed: %s (no upgrade) "
                "or %s" % (current, current, format_version((have[0], have[1] + 1))))
    return ("skips a minor version: the cluster runs Kubernetes %s and EKS upgrades one minor version per run; "
            "allowed: %s (no upgrade) or %s, then the next in a later run" % (current, current, nxt))


class FilterModule:
    def filters(self):
        return {"eks_version_problem": eks_version_problem}
