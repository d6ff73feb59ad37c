#!/usr/bin/env bash
# `make test`: every tier, ordered so that the long steps overlap. The local Kubernetes control
# plane is compiled from its Go modules (about 1,250 CPU-seconds the first time, seconds once
# cached) at normal priority. The molecule scenarios, the longest tier, start at once and wait
# for that build. The four tiers that need only the AWS emulator (unit, lint, the bad-input
# catalogue, the other integration cases that converge nothing) run side by side at low
# priority. The Helm charts come from the chart mirror (HONEYHIVE_CHART_MIRROR, which .ci/run
# sets when ../shared/charts exists) or else from their upstream repositories. Then the
# converging integration suites run (charts, manifests, the clean converge and its secrets, the
# converge under faults, the interrupted runs, each on emulators of its own) beside molecule.
# Any failure stops the run with a non-zero exit, and everything started here is stopped when
# it ends.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SCENARIOS=${SCENARIOS:-hosting}
LOW=(nice -n 10)
mkdir -p .local/logs
build_log=.local/logs/local-kube-build.log
molecule_log=.local/logs/molecule.log
started=$(date +%s)
stamp() { echo "test.sh: $* ($(($(date +%s) - started)) s)"; }

pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || true
    fi
  done
}
trap stop_all EXIT
# In a process group of its own, so that stopping it stops what it started.
background() {
  local log=$1
  shift
  setsid "$@" >"$log" 2>&1 &
  pids+=("$!")
}
await() {
  local pid=$1 log=$2 what=$3
  if ! wait "$pid"; then
    tail -n 60 "$log" >&2
    echo "test.sh: $what failed (log: $log)" >&2
    exit 1
  fi
}

background "$build_log" env LOCAL_KUBE_NICE=0 tools/local-kube/build.sh
build_pid=$!
make --no-print-directory venv
if [[ -n ${HONEYHIVE_CHART_MIRROR:-} ]]; then
  echo "test.sh: charts from the mirror $HONEYHIVE_CHART_MIRROR"
else
  echo "test.sh: HONEYHIVE_CHART_MIRROR is not set: the charts come from their upstream repositories"
fi

# The molecule scenarios are the longest tier: they start now, at normal priority. Their
# control plane waits for the build above (build.sh holds a lock; a cached build returns at once).
background "$molecule_log" make --no-print-directory molecule SCENARIOS="$SCENARIOS"
molecule_pid=$!

# The tiers that need no control plane side by side: each keeps about one core busy, so run in
# turn they would leave the second idle once the build is done (or cached).
aws_only=(unit lint bad-input integration-aws)
declare -A tier_pid
for tier in "${aws_only[@]}"; do
  case $tier in
    unit) command=(make --no-print-directory unit) ;;
    lint) command=(make --no-print-directory lint) ;;
    # The bad-input catalogue (a run per case) is as long as the other integration cases together.
    bad-input) command=(.venv/bin/pytest tests/integration/test_bad_input.py -m "not kube and not converge") ;;
    integration-aws)
      command=(.venv/bin/pytest tests/integration -m "not kube and not converge" --ignore tests/integration/test_bad_input.py)
      ;;
  esac
  background ".local/logs/$tier.log" "${LOW[@]}" "${command[@]}"
  tier_pid[$tier]=$!
done
aws_only_failed=()
for tier in "${aws_only[@]}"; do
  rc=0
  wait "${tier_pid[$tier]}" || rc=$?
  echo "----- $tier (rc $rc), log: .local/logs/$tier.log -----"
  if ((rc == 0)); then tail -n 15 ".local/logs/$tier.log"; else cat ".local/logs/$tier.log"; aws_only_failed+=("$tier"); fi
  stamp "$tier ended (rc $rc)"
done
if ((${#aws_only_failed[@]})); then
  echo "test.sh: failed: ${aws_only_failed[*]}" >&2
  exit 1
fi
stamp "the AWS-only tiers passed"

echo "test.sh: waiting for the control plane build (log: $build_log)"
await "$build_pid" "$build_log" "building the local control plane"
grep -hE 'built in|done in|cached' "$build_log" || true
stamp "the control plane build is done"

integration_rc=0
.venv/bin/pytest tests/integration -m "kube or converge" || integration_rc=$?
stamp "integration suites ended (rc $integration_rc); waiting for molecule ($SCENARIOS)"
molecule_rc=0
wait "$molecule_pid" || molecule_rc=$?
echo "----- molecule ($SCENARIOS), log: $molecule_log -----"
cat "$molecule_log"
stamp "molecule ended (rc $molecule_rc)"
if ((integration_rc != 0 || molecule_rc != 0)); then
  echo "test.sh: failed: integration rc $integration_rc, molecule rc $molecule_rc" >&2
  exit 1
fi
stamp "every tier passed"
