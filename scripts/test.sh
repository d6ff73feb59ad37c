#!/usr/bin/env bash
# `make test`: every tier, in an order that hides the one slow step. The local Kubernetes
# control plane is built from its Go modules (about 15-20 minutes of compiling on two idle
# cores the first time, seconds once cached) in the background, at low priority, while the
# tiers that need only the AWS emulator run; the tiers that need the control plane run
# once it is there. Any failure stops the run with a non-zero exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SCENARIOS=${SCENARIOS:-hosting}
# The fault-injection and interrupted-run suites (make reliability) converge the whole
# platform several times (about 25 minutes on two shared cores); they run on their own.
RELIABILITY=(--ignore=tests/integration/test_faults.py --ignore=tests/integration/test_interrupted.py)
mkdir -p .local/logs
build_log=.local/logs/local-kube-build.log

# Its own process group, so that stopping it also stops the compilers it started. The CRD
# export (tests/crds/export.sh, a Go program against Karpenter's module) warms its cache too.
setsid bash -c 'tools/local-kube/build.sh && tests/crds/export.sh .local/crds-warm' >"$build_log" 2>&1 &
build_pid=$!
stop_build() {
  if kill -0 "$build_pid" 2>/dev/null; then
    kill -TERM -- "-$build_pid" 2>/dev/null || true
  fi
}
trap stop_build EXIT

make --no-print-directory unit
make --no-print-directory lint
.venv/bin/pytest tests/integration "${RELIABILITY[@]}" -m "not kube and not converge"

echo "test.sh: waiting for the local control plane and CRD export builds (log: $build_log)"
if ! wait "$build_pid"; then
  tail -n 40 "$build_log" >&2
  echo "test.sh: building the local control plane failed (log: $build_log)" >&2
  exit 1
fi
grep -E 'built in|up to date|done in' "$build_log" || true

.venv/bin/pytest tests/integration "${RELIABILITY[@]}" -m "kube or converge"
for scenario in $SCENARIOS; do
  scripts/molecule.sh "$scenario"
done
