"""Copy CRD files out of upstream Go modules, fetched through the Go module proxy.

The module zip that ``go mod download`` verified (go.sum / checksum database) is read
directly, so nothing is built and no file of the module cache is touched.

    python tests/crds/modfiles.py kustomize MODULE VERSION DIR OUT_DIR
        the files listed under ``resources`` of DIR/kustomization.yaml in the module
        (argo-cd: manifests/crds; external-secrets: config/crds/bases)
    python tests/crds/modfiles.py embedded MODULE VERSION PKG OUT_DIR
        the files that package PKG embeds with //go:embed, plus those of an imported
        ``apis`` package whose CRDs it appends (``append(apis.CRDs, ...)``, as
        karpenter-provider-aws did up to v1.1), at the version the module's go.mod requires

Environment: GOFLAGS, GOTOOLCHAIN, GOPROXY and the rest are passed on to ``go``. Prints
the names written, one a line.
"""
from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml


def download(module: str, version: str) -> Path:
    """The verified zip of MODULE@VERSION. ``go mod download`` also reports an error when
    the module needs a newer Go than the local toolchain (GOTOOLCHAIN=local); the zip it
    downloaded and verified is still there and is all this needs."""
    out = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"],
                         capture_output=True, text=True, check=False)
    try:
        info = json.loads(out.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"modfiles: go mod download {module}@{version} failed:\n{out.stderr}") from None
    zip_path = info.get("Zip")
    if not zip_path or not info.get("Sum") or not Path(zip_path).is_file():
        raise SystemExit(f"modfiles: cannot download {module}@{version}: {info.get('Error') or out.stderr}")
    return Path(zip_path)


class Module:
    def __init__(self, module: str, version: str):
        self.module, self.version = module, version
        self.zip = zipfile.ZipFile(download(module, version))
        self.prefix = f"{module}@{version}/"

    def read(self, path: str) -> str:
        try:
            return self.zip.read(self.prefix + path).decode("utf-8")
        except KeyError:
            raise SystemExit(f"modfiles: {self.module}@{self.version} has no {path}") from None

    def requirement(self, dependency: str) -> str:
        for line in self.read("go.mod").splitlines():
            match = re.match(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)", line)
            if match and match.group(1) == dependency:
                return match.group(2)
        raise SystemExit(f"modfiles: {self.module}@{self.version} does not require {dependency}")


def write(out_dir: Path, name: str, source: str, text: str) -> None:
    """One CRD file that starts with a document separator, as controller-gen writes them:
    `helm show crds` joins the files of a chart's crds/ directory without one."""
    out_dir.mkdir(parents=True, exist_ok=True)
    body = text if text.endswith("\n") else text + "\n"
    if body.startswith("---"):
        body = body.split("\n", 1)[1]
    (out_dir / name).write_text(f"---\n# {source}\n{body}", encoding="utf-8")
    print(name)


def kustomize(module: str, version: str, directory: str, out_dir: Path) -> int:
    mod = Module(module, version)
    kustomization = yaml.safe_load(mod.read(f"{directory}/kustomization.yaml")) or {}
    resources = kustomization.get("resources") or []
    if not resources:
        raise SystemExit(f"modfiles: {module}@{version} {directory}/kustomization.yaml lists no resources")
    for resource in resources:
        path = posixpath.normpath(f"{directory}/{resource}")
        write(out_dir, posixpath.basename(path), f"{module}@{version} {path}", mod.read(path))
    return 0


EMBED = re.compile(r"^\s*//go:embed\s+(.+?)\s*$", re.M)


def embedded(module: str, version: str, package: str, out_dir: Path) -> int:
    mod = Module(module, version)
    found = 0
    names = sorted(n[len(mod.prefix):] for n in mod.zip.namelist()
                   if n.startswith(f"{mod.prefix}{package}/") and n.endswith(".go")
                   and "/" not in n[len(mod.prefix) + len(package) + 1:] and not n.endswith("_test.go"))
    for source_file in names:
        source = mod.read(source_file)
        for patterns in EMBED.findall(source):
            for pattern in patterns.split():
                wanted = posixpath.normpath(f"{package}/{pattern.strip(chr(34))}")
                paths = sorted(n[len(mod.prefix):] for n in mod.zip.namelist()
                               if fnmatch.fnmatchcase(n[len(mod.prefix):], wanted))
                if not paths:
                    raise SystemExit(f"modfiles: {module}@{version} has no file for //go:embed {pattern} in {source_file}")
                for path in paths:
                    write(out_dir, posixpath.basename(path), f"{module}@{version} {path} (//go:embed)", mod.read(path))
                    found += 1
        # Older providers append the CRDs of sigs.k8s.io/karpenter/pkg/apis.
        if re.search(r'"sigs\.k8s\.io/karpenter/pkg/apis"', source) and "apis.CRDs" in source:
            dependency = "sigs.k8s.io/karpenter"
            found += embedded(dependency, mod.requirement(dependency), "pkg/apis", out_dir)
    if not found:
        raise SystemExit(f"modfiles: {module}@{version} {package} embeds no file")
    return found


def main(argv: list[str]) -> int:
    if len(argv) == 6 and argv[1] == "kustomize":
        return kustomize(argv[2], argv[3], argv[4], Path(argv[5]))
    if len(argv) == 6 and argv[1] == "embedded":
        embedded(argv[2], argv[3], argv[4], Path(argv[5]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
