"""Where the tests get the platform's Helm charts: the chart mirror, or the upstream repositories.

``HONEYHIVE_CHART_MIRROR`` is the one setting (``.ci/run`` sets it when ``../shared/charts``
exists): a directory of packaged charts ``<chart>-<version>.tgz`` with its ``index.yaml``.
Without it, each chart of ``platform_charts`` (group_vars/all/versions.yml) is pulled with
helm from its upstream repository at the pinned version, the way the roles reference it with
``platform_chart_source: upstream`` (the ``helm_chart`` filter of plugins/filter/charts.py),
into ``${HONEYHIVE_CACHE:-~/.cache/honeyhive-platform}/charts``; that needs internet access.
When neither gives a chart, :class:`ChartsUnavailable` says why; the tests fail on it, they
never skip.
"""
from __future__ import annotations

import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import catalogue  # noqa: E402  (the reader of versions.yml)

VARIABLE = "HONEYHIVE_CHART_MIRROR"
BUILD_SH = ROOT / "tools" / "local-kube" / "build.sh"


class ChartsUnavailable(Exception):
    """No chart mirror is set and the upstream repository could not be reached."""


def _filter():
    spec = importlib.util.spec_from_file_location("honeyhive_platform_charts_filter", ROOT / "plugins" / "filter" / "charts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def entries() -> dict:
    """``platform_charts``, rendered the way Ansible renders versions.yml."""
    return catalogue.load()["platform_charts"]


def kube_version() -> str:
    """The Kubernetes version the charts render for (``helm template``/``lint --kube-version``;
    helm's own default is far older): the platform's EKS minor version."""
    return f"v{catalogue.load()['platform_versions']['eks_kubernetes']}.0"


def mirror() -> Path | None:
    """The chart mirror named by HONEYHIVE_CHART_MIRROR, or None when it is not set."""
    value = os.environ.get(VARIABLE, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ChartsUnavailable(f"{VARIABLE}={value} is not a directory")
    return path.resolve()


def helm() -> str:
    """The helm binary: $HELM, the one tools/local-kube builds, else helm on PATH."""
    if os.environ.get("HELM"):
        return os.environ["HELM"]
    out = subprocess.run([str(BUILD_SH), "--print-bin-dir"], capture_output=True, text=True, check=False)
    built = Path(out.stdout.strip()) / "helm"
    if out.returncode == 0 and built.is_file():
        return str(built)
    found = shutil.which("helm")
    if not found:
        raise ChartsUnavailable("no helm to pull the charts with: run tools/local-kube/build.sh, put helm on PATH "
                                f"or set {VARIABLE} to a chart mirror")
    return found


def _cache() -> Path:
    return Path(os.environ.get("HONEYHIVE_CACHE") or Path.home() / ".cache" / "honeyhive-platform") / "charts"


def package(name: str) -> Path:
    """The packaged chart ``name`` of the catalogue at its pinned version."""
    entry = entries()[name]
    file_name = f"{entry['chart']}-{entry['version']}.tgz"
    source = mirror()
    if source is not None:
        path = source / file_name
        if not path.is_file():
            raise ChartsUnavailable(f"the chart mirror {source} ({VARIABLE}) has no {file_name} "
                                    "(platform_charts in group_vars/all/versions.yml)")
        return path
    cached = _cache() / file_name
    if cached.is_file():
        return cached
    chart = _filter().helm_chart(entry, "upstream")
    command = [helm(), "pull", chart["chart_ref"], "--version", chart["chart_version"]]
    if chart["chart_repo_url"]:
        command += ["--repo", chart["chart_repo_url"]]
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cached.parent) as scratch:
        out = subprocess.run(command + ["--destination", scratch], capture_output=True, text=True, timeout=300, check=False)
        pulled = Path(scratch) / file_name
        if out.returncode != 0 or not pulled.is_file():
            raise ChartsUnavailable(
                f"{VARIABLE} is not set and `{' '.join(command)}` could not pull {file_name} from its upstream "
                f"repository (internet access needed; or set {VARIABLE} to a chart mirror):\n{out.stderr.strip()}")
        pulled.replace(cached)
    return cached


def chart_file(path: Path, name: str) -> str:
    """The text of ``name`` (such as values.yaml) in the packaged chart ``path``: the file of
    the chart's single top directory."""
    with tarfile.open(path, "r:gz") as archive:
        tops = {member.name.split("/", 1)[0] for member in archive.getmembers()}
        if len(tops) != 1:
            raise ChartsUnavailable(f"{path}: not a packaged chart (top directories {sorted(tops)})")
        member = archive.extractfile(f"{tops.pop()}/{name}")
        return io.TextIOWrapper(member, encoding="utf-8").read()


def values(name: str) -> dict:
    """The default values of chart ``name`` (its values.yaml) at the pinned version."""
    return yaml.safe_load(chart_file(package(name), "values.yaml")) or {}


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml's safe loader when there is one (CRDs are megabytes of YAML), reading a plain
    ``=`` as the string it is (YAML 1.1's "value" tag, which PyYAML's safe loader refuses; the
    Prometheus operator's CRDs have one in an enum)."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def load_all(text: str) -> list:
    """The objects of a YAML stream, without empty documents; a ``kind: List`` gives its items,
    as Helm installs them."""
    out = []
    for doc in yaml.load_all(text, Loader=_Loader):
        if doc and doc.get("kind") == "List" and doc.get("apiVersion") == "v1":
            out += [item for item in doc.get("items") or [] if item]
        elif doc:
            out.append(doc)
    return out


def crds(name: str, helm_binary: str, values_file: Path | None = None) -> list[dict]:
    """The CRDs chart ``name`` brings, the way its catalogue entry says it brings them:
    ``explicit`` from its crds/ directories (``helm show crds``, what roles/helm_release applies),
    ``templates`` as its templates render them (with ``values_file``, else its defaults)."""
    mode = entries()[name]["crds"]
    path = str(package(name))
    if mode == "explicit":
        command = [helm_binary, "show", "crds", path]
    elif mode == "templates":
        command = [helm_binary, "template", name, path, "--kube-version", kube_version()]
        command += ["-f", str(values_file)] if values_file else []
    else:
        return []
    out = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if out.returncode != 0:
        raise ChartsUnavailable(f"`{' '.join(command)}` failed:\n{out.stderr.strip()}")
    return [doc for doc in load_all(out.stdout) if doc.get("kind") == "CustomResourceDefinition"]
