#!/usr/bin/env bash
# Stop the control plane that up.sh started in STATE_DIR.
#
# Usage: down.sh STATE_DIR
#
# Environment:
#   LOCAL_KUBE_STOP_TIMEOUT  seconds to wait after SIGTERM before SIGKILL (default: 15)
#
# Stops the processes of STATE_DIR/pids/*.pid (clients first, then
# kube-apiserver, then etcd), each with SIGTERM and, after the timeout, SIGKILL,
# and removes the pid files. A pid whose process no longer belongs to
# STATE_DIR is left alone. Safe to run twice; exits 0 when nothing runs.
# The state (certificates, logs, kubeconfig) stays; delete STATE_DIR to drop it.
set -euo pipefail

log() { printf '[local-kube] %s\n' "$*" >&2; }

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
  [[ $# -eq 1 ]] && exit 0
  exit 2
fi
if [[ ! -d $1/pids ]]; then
  log "nothing to stop in $1"
  exit 0
fi
STATE=$(cd "$1" && pwd)
PIDS=$STATE/pids
timeout=${LOCAL_KUBE_STOP_TIMEOUT:-15}

# running PID: the process exists, is not a zombie and was started for STATE
# (its command line names a file under STATE, so a reused pid is never hit).
running() {
  local pid=$1 stat
  [[ -r /proc/$pid/stat ]] || return 1
  stat=$(cut -d' ' -f3 <"/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $stat != Z ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$STATE/"
}

# stop NAME...: TERM the named processes together, wait, KILL what is left.
stop() {
  local name pid f pids=() deadline left
  for name in "$@"; do
    f=$PIDS/$name.pid
    [[ -f $f ]] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && running "$pid"; then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  deadline=$(($(date +%s) + timeout))
  while :; do
    left=()
    for pid in "${pids[@]}"; do
      running "$pid" && left+=("$pid")
    done
    ((${#left[@]} == 0)) && break
    if (($(date +%s) >= deadline)); then
      log "killing ${left[*]} after ${timeout}s"
      kill -KILL "${left[@]}" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  for name in "$@"; do
    rm -f "$PIDS/$name.pid"
  done
}

stop kwok kube-scheduler kube-controller-manager
stop kube-apiserver
stop etcd
rm -f "$STATE/cluster-egress.sock"
log "stopped $STATE"
