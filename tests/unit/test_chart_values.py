"""Every value the roles pass to a chart is one the chart has.

Helm ignores a value key its chart does not know, silently: a key renamed upstream, or a typo
in ``roles/*/vars/main.yml`` or an inventory's ``karpenter_values`` / ``addons_*_values``,
would leave the chart on its default without a word. ``scripts/render-manifests.sh`` renders
the Helm releases of the karpenter and addons roles for all six inventories, values included
and without any AWS or Kubernetes call; every key path of those values must exist in the
``values.yaml`` of the chart at its pinned version, recursing into maps. Below the maps listed
in ``FREE_FORM`` any key is allowed: the charts pass them on as Kubernetes fields or config
entries of their own.

The charts come from the chart mirror (``HONEYHIVE_CHART_MIRROR``) or, without it, from their
upstream repositories (tests/charts/mirror.py); when neither can be read the tests fail.
"""
from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "charts"))
import mirror  # noqa: E402  (tests/charts/mirror.py: the chart mirror or the upstream charts)

# Keys whose value is a map the charts document as free-form, wherever they appear: the chart
# copies the map into a Kubernetes object as it is (toYaml), so its keys are the user's.
FREE_FORM_KEYS = {
    "nodeSelector": "node labels of a Pod spec",
    "annotations": "annotations of an object (a service account's IRSA role ARN)",
    "podAnnotations": "annotations of a Pod template",
    "podLabels": "labels of a Pod template",
    "additionalLabels": "labels added to every object",
    "resources": "a container's requests and limits (Kubernetes ResourceRequirements)",
}
# Maps of one chart documented as free-form, by chart and key path.
FREE_FORM_PATHS = {
    # values.yaml: "You can customize parameters by adding parameters here"; each entry becomes a
    # key of the argocd-cmd-params-cm ConfigMap.
    "argo-cd": {("configs", "params"): "entries of the argocd-cmd-params-cm ConfigMap"},
    # values.yaml: `spec: {}`, rendered with toYaml as the IngressClassParams' spec, which the
    # CRD's schema judges (tests/integration/test_charts.py).
    "aws-load-balancer-controller": {("ingressClassParams", "spec"): "the spec of the chart's IngressClassParams"},
}


def key_path(path: tuple) -> str:
    return "".join(f"[{key!r}]" if "." in str(key) else f".{key}" for key in path).lstrip(".")


def free_form(chart: str, path: tuple) -> bool:
    return path[-1] in FREE_FORM_KEYS or path in FREE_FORM_PATHS.get(chart, {})


def unknown_keys(chart: str, given: dict, defaults, path: tuple = ()) -> list[str]:
    """The key paths of ``given`` that the chart's values ``defaults`` lack, with why."""
    problems = []
    for key, value in given.items():
        here = path + (key,)
        if not isinstance(defaults, dict) or key not in defaults:
            problems.append(f"{key_path(here)}: not a value of the chart")
            continue
        default = defaults[key]
        if free_form(chart, here):
            if value is not None and not isinstance(value, dict):
                problems.append(f"{key_path(here)}: {type(value).__name__} where the chart takes a map")
            continue
        if isinstance(value, dict):
            if isinstance(default, dict):
                problems += unknown_keys(chart, value, default, here)
            elif default is None:
                problems.append(f"{key_path(here)}: a map where the chart's default is null, so its keys cannot be "
                                "checked; if the chart documents the map as free-form, add it to FREE_FORM_PATHS")
            else:
                problems.append(f"{key_path(here)}: a map where the chart has {type(default).__name__} {default!r}")
        elif isinstance(default, dict) and value is not None:
            problems.append(f"{key_path(here)}: {type(value).__name__} {value!r} where the chart has a map")
    return problems


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> list[tuple[str, dict]]:
    """(deployment, release) for every Helm release of every inventory, as the roles pass them."""
    out = tmp_path_factory.mktemp("rendered")
    env = dict(os.environ, PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}")
    proc = subprocess.run([str(ROOT / "scripts" / "render-manifests.sh"), str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = [(path.parts[-3], yaml.safe_load(path.read_text(encoding="utf-8")))
             for path in sorted(out.glob("*/releases/*.yaml"))]
    assert found, f"render-manifests.sh wrote no release into {out}"
    return found


@pytest.fixture(scope="module")
def chart_values():
    """chart name -> its values.yaml at the pinned version (read once per chart)."""
    cache = {}

    def get(chart: str) -> dict:
        if chart not in cache:
            try:
                cache[chart] = mirror.values(chart)
            except mirror.ChartsUnavailable as err:
                pytest.fail(f"cannot read the values of chart {chart}: {err}")
        return cache[chart]

    return get


def test_every_inventory_renders_the_same_releases_at_the_pinned_versions(releases):
    catalogue = mirror.entries()
    by_deployment = {}
    for deployment, release in releases:
        by_deployment.setdefault(deployment, set()).add((release["release"], release["chart"]))
        assert release["chart"] in catalogue, release["chart"]
        assert str(release["version"]) == catalogue[release["chart"]]["version"], (deployment, release["release"])
        assert isinstance(release["values"], dict) and release["values"], (deployment, release["release"])
    assert len(by_deployment) == len(list((ROOT / "inventories").iterdir())), sorted(by_deployment)
    assert len({frozenset(names) for names in by_deployment.values()}) == 1, by_deployment
    assert {chart for names in by_deployment.values() for _, chart in names} == {
        "karpenter", "metrics-server", "aws-load-balancer-controller", "external-secrets", "argo-cd"}


def test_every_value_the_roles_pass_exists_in_the_chart(releases, chart_values):
    problems = [f"{deployment}: release {release['release']} (chart {release['chart']} {release['version']}): {problem}"
                for deployment, release in releases
                for problem in unknown_keys(release["chart"], release["values"], chart_values(release["chart"]))]
    assert not problems, "values the charts do not have (Helm would ignore them):\n" + "\n".join(problems)


def test_the_check_names_a_wrong_key(releases, chart_values):
    """The check bites: keys the chart lacks, a map where it has a scalar and a scalar where it has a map."""
    values = copy.deepcopy(next(r["values"] for d, r in releases if d.startswith("local-") and r["chart"] == "karpenter"))
    values["settings"]["clusterNmae"] = "typo"
    values["controller"]["resoures"] = {"limits": {"cpu": "1"}}
    values["logLevel"] = {"level": "debug"}
    values["podDisruptionBudget"] = 1
    values["nodeSelector"]["any/label"] = "free-form below nodeSelector"
    assert sorted(unknown_keys("karpenter", values, chart_values("karpenter"))) == [
        "controller.resoures: not a value of the chart",
        "logLevel: a map where the chart has str 'info'",
        "podDisruptionBudget: int 1 where the chart has a map",
        "settings.clusterNmae: not a value of the chart",
    ]


@pytest.mark.parametrize("chart,path", [(chart, path) for chart, paths in FREE_FORM_PATHS.items() for path in paths])
def test_the_free_form_maps_are_maps_of_the_chart(chart_values, chart, path):
    value = chart_values(chart)
    for key in path:
        assert isinstance(value, dict) and key in value, f"{chart}: no {key_path(path)}"
        value = value[key]
    assert isinstance(value, dict), f"{chart}: {key_path(path)} is {value!r}, not a map"
