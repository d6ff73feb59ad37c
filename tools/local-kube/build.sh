#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build the local Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok, helm) from their Go modules
# into the cache directory named after the versions in versions.env.
#
# Usage: build.sh [--force] [--print-bin-dir]
#   --force          rebuild every binary even when it is already in the cache
#   --print-bin-dir  print the binary directory and exit without building
#
# Environment:
#   HONEYHIVE_CACHE        cache root (default: $HOME/.cache/honeyhive-platform)
#   LOCAL_KUBE_BIN_DIR     put the binaries here instead of <cache>/local-kube/<hash>/bin
#   LOCAL_KUBE_BUILD_JOBS  go build -p (default: 2)
#   LOCAL_KUBE_NICE        niceness of the compiler (default: 10)
#
# Progress and timings go to stderr; the binary directory is the only line
# printed on stdout, so BIN=$(tools/local-kube/build.sh) works.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

force=0
print_only=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    --print-bin-dir) print_only=1 ;;
    -h | --help)
      lk_usage "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) lk_die "unknown argument: $arg (see --help)" ;;
  esac
done

lk_load_versions
lk_paths
if [[ $print_only == 1 ]]; then
  echo "$LOCAL_KUBE_BIN_DIR"
  exit 0
fi

total_start=$(lk_now)
mkdir -p "$LOCAL_KUBE_ROOT" "$LOCAL_KUBE_BIN_DIR"

# One build per cache directory at a time (another shell or CI job may be
# building the same versions).
lk_need_command flock util-linux
exec 9>"$LOCAL_KUBE_ROOT/.build.lock"
if ! flock -n 9; then
  lk_log "another build of $LOCAL_KUBE_HASH is running; waiting for it"
  flock 9
fi

if [[ $force == 0 ]] && lk_have_binaries; then
  lk_log "binaries for $LOCAL_KUBE_HASH are up to date ($(lk_since "$total_start")s)"
  echo "$LOCAL_KUBE_BIN_DIR"
  exit 0
fi

command -v go >/dev/null 2>&1 || lk_die "the Go toolchain (go) is required to build; see tools/local-kube/README.md"
lk_need_command sha256sum coreutils
# GNU time reports the peak memory of each build step.
( lk_need_command /usr/bin/time time ) || lk_log "continuing without peak memory figures"

export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0
jobs=${LOCAL_KUBE_BUILD_JOBS:-2}
niceness=${LOCAL_KUBE_NICE:-10}
src=$LOCAL_KUBE_ROOT/src
report=$LOCAL_KUBE_ROOT/build-report.txt
cp "$LOCAL_KUBE_DIR/versions.env" "$LOCAL_KUBE_ROOT/versions.env"
lk_log "building into $LOCAL_KUBE_BIN_DIR ($(go env GOVERSION), -p $jobs, nice $niceness)"

# go mod download -json MODULE@VERSION, then print the value of one JSON key.
mod_field() {
  local json
  json=$(cd "$LOCAL_KUBE_ROOT" && go mod download -json "$1") || lk_die "cannot download $1"
  sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}$/\1/p" <<<"$json" | head -n1
}

# The go (and godebug) lines of a dependency's own go.mod, so the generated
# module builds with the language version and GODEBUG defaults upstream uses.
go_lines() {
  grep -E '^(go|godebug) ' "$1" || echo "go 1.24.0"
}

# write_module NAME CONTENT: the generated module directory for one tool.
# go build (-mod=mod) adds the indirect requirements to go.mod, so the
# generated text is kept in go.mod.in; go.mod and go.sum start over only
# when that text changes.
write_module() {
  mkdir -p "$src/$1"
  if [[ ! -f $src/$1/go.mod || ! -f $src/$1/go.mod.in || $(cat "$src/$1/go.mod.in") != "$2" ]]; then
    printf '%s\n' "$2" >"$src/$1/go.mod.in"
    cp "$src/$1/go.mod.in" "$src/$1/go.mod"
    rm -f "$src/$1/go.sum"
  fi
}

# build_one BINARY MODULE_DIR PACKAGE TAGS LDFLAGS
build_one() {
  local name=$1 dir=$2 pkg=$3 tags=$4 ldflags=$5 start secs rss="" cpu="" out tmp
  if [[ $force == 0 && -x $LOCAL_KUBE_BIN_DIR/$name ]]; then
    lk_log "$name: cached"
    return 0
  fi
  lk_log "$name: go build $pkg"
  start=$(lk_now)
  tmp=$LOCAL_KUBE_BIN_DIR/.$name.tmp
  out=$(mktemp)
  local cmd=(nice -n "$niceness" go build -p "$jobs" -trimpath -tags "$tags" -ldflags "-s -w $ldflags" -o "$tmp" "$pkg")
  if [[ -x /usr/bin/time ]]; then
    cmd=(/usr/bin/time -f '%M %U %S' -o "$out" "${cmd[@]}")
  fi
  if ! (cd "$dir" && "${cmd[@]}"); then
    rm -f "$tmp" "$out"
    lk_die "$name: build failed"
  fi
  mv -f "$tmp" "$LOCAL_KUBE_BIN_DIR/$name"
  secs=$(lk_since "$start")
  if [[ -s $out ]]; then
    rss=$(awk 'END { printf "%d", $1 / 1024 }' "$out")
    cpu=$(awk 'END { printf "%.0f", $2 + $3 }' "$out")
  fi
  rm -f "$out"
  lk_log "$name: built in ${secs}s${rss:+ (CPU ${cpu}s, peak RSS ${rss} MiB)}"
  printf '%s\t%ss wall\t%ss CPU\t%s MiB\n' "$name" "$secs" "${cpu:-?}" "${rss:-?}" >>"$report"
}

{
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(go env GOVERSION) -p $jobs (binary, wall time, CPU time, peak RSS of the largest build process)"
} >>"$report"

# --- Kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler ----
# A module that requires k8s.io/kubernetes and pins each staging module
# (replaced by ./staging/src/... upstream, which does not apply to a
# dependency) to the matching published v0.X.Y.
k8s_gomod=$(mod_field "k8s.io/kubernetes@$KUBERNETES_VERSION" GoMod)
k8s_info=$(mod_field "k8s.io/kubernetes@$KUBERNETES_VERSION" Info)
[[ -f $k8s_gomod ]] || lk_die "cannot read the go.mod of k8s.io/kubernetes@$KUBERNETES_VERSION"
staging=$(sed -n 's|^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*$|\1|p' "$k8s_gomod")
[[ -n $staging ]] || lk_die "no staging modules found in the go.mod of k8s.io/kubernetes"
k8s_mod="module local-kube/kubernetes

$(go_lines "$k8s_gomod")

require k8s.io/kubernetes $KUBERNETES_VERSION

replace (
$(for m in $staging; do printf '\t%s => %s %s\n' "$m" "$m" "$KUBERNETES_STAGING_VERSION"; done)
)"
write_module kubernetes "$k8s_mod"

build_date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$k8s_info")
build_date=${build_date:-1970-01-01T00:00:00Z}
k8s_ldflags=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$KUBERNETES_MINOR"
  k8s_ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$build_date"
done
# providerless drops the in-tree cloud provider and volume plugin code.
for b in kube-apiserver kube-controller-manager kube-scheduler; do
  build_one "$b" "$src/kubernetes" "k8s.io/kubernetes/cmd/$b" providerless "$k8s_ldflags"
done

# --- etcd -----------------------------------------------------------------
etcd_gomod=$(mod_field "go.etcd.io/etcd/server/v3@$ETCD_VERSION" GoMod)
write_module etcd "module local-kube/etcd

$(go_lines "$etcd_gomod")

require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
build_one etcd "$src/etcd" go.etcd.io/etcd/server/v3 "" ""

# --- kwok -----------------------------------------------------------------
kwok_gomod=$(mod_field "sigs.k8s.io/kwok@$KWOK_VERSION" GoMod)
write_module kwok "module local-kube/kwok

$(go_lines "$kwok_gomod")

require sigs.k8s.io/kwok $KWOK_VERSION"
build_one kwok "$src/kwok" sigs.k8s.io/kwok/cmd/kwok "" \
  "-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBERNETES_VERSION#v}"

# --- helm -----------------------------------------------------------------
helm_gomod=$(mod_field "helm.sh/helm/v3@$HELM_VERSION" GoMod)
write_module helm "module local-kube/helm

$(go_lines "$helm_gomod")

require helm.sh/helm/v3 $HELM_VERSION"
build_one helm "$src/helm" helm.sh/helm/v3/cmd/helm "" \
  "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"

lk_have_binaries || lk_die "some binaries are missing after the build"
lk_log "done in $(lk_since "$total_start")s: $LOCAL_KUBE_BIN_DIR"
echo "$LOCAL_KUBE_BIN_DIR"
