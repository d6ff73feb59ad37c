"""The chart catalogue of group_vars/all/versions.yml, for scripts/local.sh and the tests.

versions.yml is the only place a version lives; its values may be Jinja expressions over
the file itself (``version: "{{ platform_versions.karpenter }}"``), which this renders the
way Ansible would for these simple references.

    python tests/charts/catalogue.py charts
        one line per chart of platform_charts: NAME VERSION APP_VERSION CRDS (tab-separated;
        CRDS is the chart's `crds` entry: explicit, templates or none); local.sh checks the
        chart mirror with it
"""
from __future__ import annotations

import sys
from pathlib import Path

import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ROOT / "group_vars" / "all" / "versions.yml"


def load(path: Path = VERSIONS) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)

    def render(value, depth=0):
        if isinstance(value, dict):
            return {k: render(v, depth) for k, v in value.items()}
        if isinstance(value, list):
            return [render(v, depth) for v in value]
        if isinstance(value, str) and "{{" in value:
            if depth > 10:
                raise ValueError(f"{path}: templates nest too deep in {value!r}")
            return render(env.from_string(value).render(**data), depth + 1)
        return value

    return render(data)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[1] == "charts":
        for name, chart in load()["platform_charts"].items():
            for key in ("version", "app_version"):
                if not str(chart.get(key) or "").strip():
                    raise SystemExit(f"catalogue: platform_charts[{name!r}] has no {key}")
            crds = chart.get("crds") or "none"
            if crds not in ("explicit", "templates", "none"):
                raise SystemExit(f"catalogue: platform_charts[{name!r}].crds is {crds!r}, not explicit, templates or none")
            print(f"{name}\t{chart['version']}\t{chart['app_version']}\t{crds}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
