"""eks_version_problem: the preflight's wording of EKS's version rule."""
from __future__ import annotations

import pytest

from ansible_collections.honeyhive.platform.plugins.filter.versions import eks_version_problem


@pytest.mark.parametrize("desired, current", [("1.33", None), ("1.33", ""), ("1.33", "1.33"), ("1.34", "1.33")])
def test_allowed(desired, current):
    assert eks_version_problem(desired, current) == ""


@pytest.mark.parametrize("desired", ["1.3", 1.3, "1.33.1", "v1.33", "2.0", None, ["1.33"]])
def test_not_a_minor_version(desired):
    assert eks_version_problem(desired).startswith("is not a Kubernetes minor version; allowed: a minor version")


def test_skip_names_the_running_version_and_the_next_one():
    assert eks_version_problem("1.35", "1.33") == (
        "skips a minor version: the cluster runs Kubernetes 1.33 and EKS upgrades one minor version per run; "
        "allowed: 1.33 (no upgrade) or 1.34, then the next in a later run")


def test_downgrade():
    assert eks_version_problem("1.32", "1.33") == (
        "is older than the Kubernetes 1.33 the cluster runs, and EKS cannot downgrade; allowed: 1.33 (no upgrade) or 1.34")


def test_a_form_eks_does_not_use_is_left_to_eks():
    assert eks_version_problem("1.33", "1.33-eks") == ""
