# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes minor versions as EKS names them, and EKS's upgrade rule.

One place for both: the EKS modules (``module_utils/eks.py``) refuse a version skip or a
downgrade before they change a cluster, and the preflight role refuses it before the run
changes anything (the ``eks_version_problem`` filter). Standard library only, so the
controller-side filter can import it.

EKS moves a control plane up exactly one minor version per upgrade and never down.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

VERSION_RE = re.compile(r"^1\.([1-9][0-9])$")
ALLOWED_VERSION = "Allowed: a Kubernetes minor version such as '1.33' (quote it in YAML: an unquoted 1.30 is the number 1.3)."


def parse_version(text):
    """``"1.33"`` -> ``(1, 33)``; None when the text is not such a version."""
    match = VERSION_RE.match(str(text or ""))
    if not match:
        return None
    return 1, int(match.group(1))


def format_version(version):
    return "%d.%d" % version


def version_step(current, desired):
    """Why a cluster at ``current`` cannot go to ``desired`` in one EKS upgrade:
    ``("downgrade", None)``, ``("skip", <the next allowed version>)``, or None when it can
    (the same version, the next one, or a form this module does not know, left to EKS)."""
    if current == desired:
        return None
    have = parse_version(current)
    want = parse_version(desired)
    if have is None or want is None:
        return None
    if want < have:
        return "downgrade", None
    nxt = (have[0], have[1] + 1)
    if want != nxt:
        return "skip", format_version(nxt)
    return None
