#!/usr/bin/env bash
# Export the upstream CRDs of the hosting phase's charts, at the versions pinned in
# group_vars/all/versions.yml (read there, never repeated), for the test charts and tests.
# Nothing upstream is committed: everything comes through the Go module proxy.
#
# Usage: tests/crds/export.sh OUT_DIR
#
# Writes OUT_DIR/<chart>/<file>.yaml, one CRD a file:
#   karpenter                     apis.CRDs of github.com/aws/karpenter-provider-aws/pkg/apis at
#                                 v<platform_versions.karpenter>: tests/crds/main.go, built in a
#                                 generated module. When the module needs a newer Go than the
#                                 local toolchain, the go command fetches the toolchain its go
#                                 line names through the module proxy (golang.org/toolchain).
#   argo-cd                       manifests/crds of github.com/argoproj/argo-cd/v<major> at
#                                 platform_charts['argo-cd'].app_version (no Go package embeds them)
#   external-secrets              config/crds/bases of github.com/external-secrets/external-secrets
#                                 at platform_charts['external-secrets'].app_version
#   aws-load-balancer-controller  the minimal CRDs of tests/crds/aws-load-balancer-controller: the
#                                 proxy has no v2 of sigs.k8s.io/aws-load-balancer-controller (see there)
#
# The result is cached under ${HONEYHIVE_CACHE:-$HOME/.cache/honeyhive-platform}/crds/<hash>,
# the hash of the versions, the Go toolchain and the sources of this directory, so a warm run
# only copies files. Go runs with GOFLAGS=-mod=mod, CGO_ENABLED=0 (GOTOOLCHAIN as above), under
# nice -n ${HONEYHIVE_NICE:-10}. Progress and timings go to stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PY=$VENV/bin/python
niceness=${HONEYHIVE_NICE:-10}

log() { printf '[crds] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
names() { (cd "$1" && printf '%s ' *.yaml); }

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
  [[ $# -eq 1 ]] && exit 0
  exit 2
fi
start=$(now)
[[ -x $PY ]] || die "$PY is missing; run make venv"
command -v go >/dev/null 2>&1 || die "the Go toolchain (go) is required; see tools/local-kube/README.md"
command -v flock >/dev/null 2>&1 || die "flock is missing (Debian package util-linux)"
mkdir -p "$1"
OUT=$(cd "$1" && pwd)

export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0

# --- versions ---------------------------------------------------------------------------------
declare -A app_version=()
while IFS=$'\t' read -r name _ app _; do
  app_version[$name]=$app
done < <("$PY" "$ROOT/tests/charts/catalogue.py" charts)
karpenter_version=v$("$PY" "$ROOT/tests/charts/catalogue.py" get platform_versions.karpenter)
for chart in argo-cd external-secrets aws-load-balancer-controller; do
  [[ -n ${app_version[$chart]:-} ]] || die "platform_charts has no $chart"
done

# module_path BASE VERSION: BASE with the /vN suffix Go requires from major version 2 on.
module_path() {
  local major=${2#v}
  major=${major%%.*}
  if ((major >= 2)); then echo "$1/v$major"; else echo "$1"; fi
}
argo_module=$(module_path github.com/argoproj/argo-cd "${app_version[argo-cd]}")
eso_module=$(module_path github.com/external-secrets/external-secrets "${app_version[external-secrets]}")
go_version=$(go env GOVERSION)

key=$(
  {
    echo "karpenter=$karpenter_version argo-cd=$argo_module@${app_version[argo-cd]}"
    echo "external-secrets=$eso_module@${app_version[external-secrets]}"
    echo "aws-load-balancer-controller=${app_version[aws-load-balancer-controller]} $go_version $(uname -sm)"
    cat "$HERE/export.sh" "$HERE/main.go" "$HERE/modfiles.py" "$HERE"/aws-load-balancer-controller/*.yaml
  } | sha256sum | cut -c1-12
)
CACHE=${HONEYHIVE_CACHE:-$HOME/.cache/honeyhive-platform}/crds/$key
mkdir -p "$CACHE"

copy_out() {
  local dir
  for dir in "$CACHE"/out/*/; do
    dir=${dir%/}
    rm -rf "${OUT:?}/$(basename "$dir")"
    cp -R "$dir" "$OUT/"
  done
}

exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  log "another export of $key is running; waiting for it"
  flock 9
fi
if [[ -f $CACHE/complete ]]; then
  copy_out
  log "cached ($key): $(find "$OUT" -name '*.yaml' | wc -l) CRD files in $OUT ($(since "$start")s)"
  exit 0
fi

log "exporting into $CACHE ($go_version, nice $niceness)"
rm -rf "$CACHE/out.tmp"
mkdir -p "$CACHE/out.tmp"

# --- karpenter ------------------------------------------------------------------------------
step=$(now)
karpenter_module=github.com/aws/karpenter-provider-aws
gomod=$(cd "$CACHE" && nice -n "$niceness" go list -m -json "$karpenter_module@$karpenter_version" |
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p') || true
[[ -f $gomod ]] || die "cannot download $karpenter_module@$karpenter_version through the module proxy"
needs_go=$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' "$gomod" | head -n1)
have_go=${go_version#go}
have_go=${have_go%% *}
# The Go program runs with the local toolchain when it is new enough for the module's go line
# (go1.26.8 >= 1.26), else with the toolchain that line names, which the go command fetches
# through the module proxy (golang.org/toolchain) and caches.
toolchain=local
if [[ -n $needs_go && $(printf '%s\n%s\n' "$needs_go" "$have_go" | sort -V | head -n1) != "$needs_go" ]]; then
  toolchain=go$needs_go
  log "karpenter: $karpenter_module@$karpenter_version needs go >= $needs_go and the local toolchain is" \
    "$go_version: building with $toolchain from the module proxy"
fi
src=$CACHE/src
mkdir -p "$src"
cp "$HERE/main.go" "$src/main.go"
if [[ ! -f $src/go.mod ]]; then
  printf 'module honeyhive.test/karpenter-crds\n\ngo %s\n\nrequire %s %s\n' \
    "${needs_go:-1.24}" "$karpenter_module" "$karpenter_version" >"$src/go.mod"
fi
log "karpenter: go build (tests/crds/main.go against $karpenter_module@$karpenter_version)"
if (cd "$src" && GOTOOLCHAIN=$toolchain nice -n "$niceness" go build -trimpath -ldflags '-s -w' -o "$CACHE/karpenter-crds" .); then
  "$CACHE/karpenter-crds" "$CACHE/out.tmp/karpenter" >/dev/null || die "karpenter: the export failed"
  method="apis.CRDs of tests/crds/main.go, built with $toolchain"
elif [[ $toolchain != local ]]; then
  # Only when the toolchain cannot be fetched: the same files, from the checksum-verified zip.
  log "karpenter: WARNING: building with $toolchain failed; reading the files its pkg/apis embeds" \
    "from the verified module zip instead"
  (cd "$CACHE" && nice -n "$niceness" "$PY" "$HERE/modfiles.py" embedded \
    "$karpenter_module" "$karpenter_version" pkg/apis "$CACHE/out.tmp/karpenter" >/dev/null) ||
    die "karpenter: cannot read the embedded CRDs"
  method="pkg/apis //go:embed files, read from the module zip"
else
  die "karpenter: the build failed"
fi
log "karpenter: $(names "$CACHE/out.tmp/karpenter")($method, $(since "$step")s)"

# --- argo-cd, external-secrets ----------------------------------------------------------------
step=$(now)
(cd "$CACHE" && nice -n "$niceness" "$PY" "$HERE/modfiles.py" kustomize \
  "$argo_module" "${app_version[argo-cd]}" manifests/crds "$CACHE/out.tmp/argo-cd" >/dev/null) ||
  die "argo-cd: cannot read the CRDs of $argo_module@${app_version[argo-cd]}"
log "argo-cd: $(names "$CACHE/out.tmp/argo-cd")($argo_module@${app_version[argo-cd]}, $(since "$step")s)"

step=$(now)
(cd "$CACHE" && nice -n "$niceness" "$PY" "$HERE/modfiles.py" kustomize \
  "$eso_module" "${app_version[external-secrets]}" config/crds/bases "$CACHE/out.tmp/external-secrets" >/dev/null) ||
  die "external-secrets: cannot read the CRDs of $eso_module@${app_version[external-secrets]}"
log "external-secrets: $(find "$CACHE/out.tmp/external-secrets" -name '*.yaml' | wc -l) CRDs" \
  "($eso_module@${app_version[external-secrets]}, $(since "$step")s)"

# --- aws-load-balancer-controller --------------------------------------------------------------
mkdir -p "$CACHE/out.tmp/aws-load-balancer-controller"
cp "$HERE"/aws-load-balancer-controller/*.yaml "$CACHE/out.tmp/aws-load-balancer-controller/"
log "aws-load-balancer-controller: minimal test CRDs (tests/crds/aws-load-balancer-controller), not upstream's"

rm -rf "$CACHE/out"
mv "$CACHE/out.tmp" "$CACHE/out"
date -u +%Y-%m-%dT%H:%M:%SZ >"$CACHE/complete"
copy_out
log "done in $(since "$start")s: $(find "$OUT" -name '*.yaml' | wc -l) CRD files in $OUT"
