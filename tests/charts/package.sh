#!/usr/bin/env bash
# Package the test stand-in charts of tests/charts at the versions of group_vars/all/versions.yml
# (platform_charts: version and app_version), with the upstream CRDs of tests/crds/export.sh.
#
# Usage: tests/charts/package.sh OUT_DIR [CRD_DIR]
#
# For each chart of platform_charts with a directory tests/charts/<chart>: copies it to a
# scratch directory, adds the CRDs of CRD_DIR/<chart>/ (CRD_DIR defaults to a fresh
# tests/crds/export.sh run) where the chart's `crds` entry says, as upstream ships them:
#   explicit   crds/        (karpenter, aws-load-balancer-controller: helm installs them once)
#   templates  files/crds/  (argo-cd, external-secrets: rendered by templates/crds.yaml when
#                            crds.install / installCRDs is true)
#   none       nothing
# then runs `helm package --version VERSION --app-version APP_VERSION` into
# OUT_DIR/<chart>-<version>.tgz, the layout platform_chart_source expects of a directory.
# Older packages of the same chart in OUT_DIR are removed. Prints the packages written.
#
# helm: $HELM, else the one tools/local-kube builds (tools/local-kube/build.sh --print-bin-dir),
# else helm on PATH.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${VENV:-$ROOT/.venv}

log() { printf '[charts] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

if [[ $# -lt 1 || $# -gt 2 || $1 == -h || $1 == --help ]]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
  [[ $# -ge 1 && ($1 == -h || $1 == --help) ]] && exit 0
  exit 2
fi
start=$(date +%s.%N)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)

helm=${HELM:-}
if [[ -z $helm ]]; then
  helm="$("$ROOT/tools/local-kube/build.sh" --print-bin-dir)/helm"
  if [[ ! -x $helm ]]; then
    helm=$(command -v helm || true)
    [[ -n $helm ]] || die "no helm: run tools/local-kube/build.sh, put helm on PATH or set HELM"
  fi
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

if [[ $# -eq 2 ]]; then
  [[ -d $2 ]] || die "no CRD directory $2"
  CRDS=$(cd "$2" && pwd)
else
  CRDS=$scratch/crds
  "$HERE/../crds/export.sh" "$CRDS"
fi

catalogue=$("$VENV/bin/python" "$HERE/catalogue.py" charts) || die "cannot read the chart catalogue"
while IFS=$'\t' read -r chart version app_version crds; do
  if [[ ! -f $HERE/$chart/Chart.yaml ]]; then
    log "warning: platform_charts has $chart but tests/charts has no stand-in for it; not packaged"
    continue
  fi
  build=$scratch/build/$chart
  mkdir -p "$scratch/build"
  cp -R "$HERE/$chart" "$build"
  case $crds in
    explicit) target=$build/crds ;;
    templates) target=$build/files/crds ;;
    *) target="" ;;
  esac
  if [[ -n $target ]]; then
    compgen -G "$CRDS/$chart/*.yaml" >/dev/null || die "$chart: no CRDs in $CRDS/$chart (crds: $crds)"
    mkdir -p "$target"
    cp "$CRDS/$chart"/*.yaml "$target/"
  fi
  rm -f "$OUT/$chart"-[0-9]*.tgz
  "$helm" package "$build" --version "$version" --app-version "$app_version" --destination "$OUT" >/dev/null ||
    die "$chart: helm package failed"
  [[ -f $OUT/$chart-$version.tgz ]] || die "$chart: helm did not write $OUT/$chart-$version.tgz"
  echo "$OUT/$chart-$version.tgz"
done <<<"$catalogue"
log "packaged into $OUT in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')s"
