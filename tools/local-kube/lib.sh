# shellcheck shell=bash
# Helpers shared by build.sh, up.sh and down.sh. Sourced, never run.

LOCAL_KUBE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Bump when the build recipe changes in a way that changes the binaries
# (flags, tags, module layout). It is part of the cache hash.
LOCAL_KUBE_RECIPE=1

# Every binary build.sh produces, in the order up.sh starts them.
LOCAL_KUBE_BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok helm)

# Print the comment block at the top of a script (its usage text).
lk_usage() { awk 'NR > 1 && /^#/ { if ($0 !~ /^# shellcheck/) { sub(/^# ?/, ""); print } next } NR > 1 { exit }' "$1"; }

lk_log() { printf '[local-kube] %s\n' "$*" >&2; }
lk_die() {
  lk_log "error: $*"
  exit 1
}

# Read versions.env as data (KEY=value lines only, nothing is executed).
lk_load_versions() {
  local f="$LOCAL_KUBE_DIR/versions.env" line key
  [[ -r $f ]] || lk_die "missing $f"
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%%#*}
    line=${line//[[:space:]]/}
    [[ -z $line ]] && continue
    [[ $line =~ ^([A-Z][A-Z0-9_]*)=([A-Za-z0-9._+-]+)$ ]] || lk_die "versions.env: cannot read line: $line"
    key=${BASH_REMATCH[1]}
    printf -v "$key" '%s' "${BASH_REMATCH[2]}"
  done <"$f"
  for key in KUBERNETES_VERSION ETCD_VERSION KWOK_VERSION HELM_VERSION; do
    [[ -n ${!key:-} ]] || lk_die "versions.env: $key is not set"
  done
  [[ $KUBERNETES_VERSION =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || lk_die "KUBERNETES_VERSION must look like v1.33.13"
  # shellcheck disable=SC2034 # used by the scripts that source this file
  KUBERNETES_MINOR=${BASH_REMATCH[1]}
  # The staging modules (k8s.io/api, k8s.io/client-go, ...) are tagged v0.<minor>.<patch>.
  # shellcheck disable=SC2034
  KUBERNETES_STAGING_VERSION="v0.${KUBERNETES_VERSION#v1.}"
}

# Short content hash of the pinned versions, the recipe and the platform.
lk_versions_hash() {
  {
    sed -e 's/#.*//' -e 's/[[:space:]]//g' "$LOCAL_KUBE_DIR/versions.env" | grep -E '^[A-Z]' | LC_ALL=C sort
    echo "recipe=$LOCAL_KUBE_RECIPE"
    uname -sm
  } | sha256sum | cut -c1-12
}

# Sets LOCAL_KUBE_CACHE, LOCAL_KUBE_HASH, LOCAL_KUBE_ROOT and LOCAL_KUBE_BIN_DIR
# (the last one is kept when the caller already set it).
lk_paths() {
  LOCAL_KUBE_CACHE=${HONEYHIVE_CACHE:-$HOME/.cache/honeyhive-platform}/local-kube
  LOCAL_KUBE_HASH=$(lk_versions_hash)
  LOCAL_KUBE_ROOT=$LOCAL_KUBE_CACHE/$LOCAL_KUBE_HASH
  LOCAL_KUBE_BIN_DIR=${LOCAL_KUBE_BIN_DIR:-$LOCAL_KUBE_ROOT/bin}
}

# True when every binary is present in LOCAL_KUBE_BIN_DIR.
lk_have_binaries() {
  local b
  for b in "${LOCAL_KUBE_BINARIES[@]}"; do
    [[ -x $LOCAL_KUBE_BIN_DIR/$b ]] || return 1
  done
}

# Install Debian packages when a command is missing (root or sudo needed).
# Usage: lk_need_command COMMAND PACKAGE
lk_need_command() {
  command -v "$1" >/dev/null 2>&1 && return 0
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || lk_die "$1 is missing; install the Debian package $2"
    sudo=(sudo)
  fi
  lk_log "installing Debian package $2 (for $1)"
  command -v apt-get >/dev/null 2>&1 || lk_die "$1 is missing and apt-get is not available; install $2"
  "${sudo[@]}" apt-get install -y -qq "$2" >/dev/null 2>&1 ||
    { "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 && "${sudo[@]}" apt-get install -y -qq "$2" >/dev/null; } ||
    lk_die "could not install $2"
  command -v "$1" >/dev/null 2>&1 || lk_die "$1 still missing after installing $2"
}

lk_now() { date +%s.%N; }
lk_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
