# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Helm chart filter: ``helm_chart(entry, source)``.

Turns one entry of ``platform_charts`` (group_vars/all/versions.yml) and the one setting
``platform_chart_source`` into what ``kubernetes.core.helm`` and ``helm show crds`` need.
Documentation lives in the sidecar ``helm_chart.yml``.
"""
from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Semantic version, as Helm requires of chart versions (a leading v is not allowed here:
# the catalogue writes chart versions the way the chart repositories publish them).
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
_CRDS = ("explicit", "templates", "none")
SOURCE_ALLOWED = "upstream, an oci:// registry URL (a mirror), or the absolute path of a directory of packaged charts"


def chart_source_error(source):
    """Return why ``source`` is not a chart source, or None."""
    if not isinstance(source, str) or not source:
        return "%r is not a chart source; allowed: %s" % (source, SOURCE_ALLOWED)
    if source == "upstream":
        return None
    if source.startswith("oci://"):
        if re.match(r"^oci://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._/-]+)?/?$", source):
            return None
        return "%r is not an OCI registry URL; allowed: %s" % (source, SOURCE_ALLOWED)
    if source.startswith("/") and "\n" not in source:
        return None
    return "%r is not a chart source; allowed: %s" % (source, SOURCE_ALLOWED)


def chart_entry_error(name, entry):
    """Return why catalogue entry ``name`` is malformed, or None."""
    if not isinstance(entry, dict):
        return "platform_charts.%s must be a dict with chart, version, repository and crds" % name
    missing = [k for k in ("chart", "version", "repository", "crds") if not entry.get(k)]
    if missing:
        return "platform_charts.%s lacks %s" % (name, ", ".join(missing))
    version = str(entry["version"])
    if not _SEMVER.match(version):
        return ("platform_charts.%s.version: %r is not a chart version; allowed: a semantic version such as "
                "1.2.3 (no leading v)" % (name, version))
    if entry["crds"] not in _CRDS:
        return "platform_charts.%s.crds: %r is invalid; allowed: %s" % (name, entry["crds"], ", ".join(_CRDS))
    repo = str(entry["repository"])
    if not (repo.startswith("oci://") or repo.startswith("https://")):
        return ("platform_charts.%s.repository: %r is invalid; allowed: an https:// chart repository or an "
                "oci:// registry" % (name, repo))
    return None


def helm_chart(entry, source="upstream"):
    """Return chart_ref, chart_repo_url, chart_version, release-independent facts of one chart."""
    if not isinstance(entry, dict):
        raise AnsibleFilterError("helm_chart: the input must be an entry of platform_charts, got %r" % (entry,))
    error = chart_entry_error(entry.get("chart", "?"), entry)
    if error:
        raise AnsibleFilterError("helm_chart: " + error)
    error = chart_source_error(source)
    if error:
        raise AnsibleFilterError("helm_chart: platform_chart_source: " + error)
    name = entry["chart"]
    version = str(entry["version"])
    repo_url = None
    if source == "upstream":
        repo = str(entry["repository"]).rstrip("/")
        if repo.startswith("oci://"):
            ref = "%s/%s" % (repo, name)
        else:
            ref, repo_url = name, repo
    elif source.startswith("oci://"):
        ref = "%s/%s" % (source.rstrip("/"), name)
    else:
        ref = "%s/%s-%s.tgz" % (source.rstrip("/"), name, version)
    show_crds = ["show", "crds", ref, "--version", version] + (["--repo", repo_url] if repo_url else [])
    return {
        "name": name,
        "chart_ref": ref,
        "chart_repo_url": repo_url,
        "chart_version": version,
        "app_version": str(entry.get("app_version") or ""),
        "crds": entry["crds"],
        "show_crds_args": show_crds,
    }


def chart_catalogue_errors(catalogue, source="upstream", honeyhive_version=None):
    """Return every problem of the chart catalogue and the chart source, as preflight messages."""
    out = []
    error = chart_source_error(source)
    if error:
        out.append("platform_chart_source: " + error)
    if not isinstance(catalogue, dict) or not catalogue:
        return out + ["platform_charts: %r is not the chart catalogue; allowed: a dict of charts (group_vars/all/versions.yml)"
                      % (catalogue,)]
    for name in sorted(catalogue):
        error = chart_entry_error(name, catalogue[name])
        if error:
            out.append(error)
    if honeyhive_version is not None and not _SEMVER.match(str(honeyhive_version)):
        out.append("platform_honeyhive_chart_version: %r is not a chart version; allowed: a semantic version such as "
                   "1.2.3 (no leading v)" % (honeyhive_version,))
    return out


class FilterModule:
    """Helm chart filters."""

    def filters(self):
        return {"helm_chart": helm_chart, "chart_catalogue_errors": chart_catalogue_errors}
