#!/usr/bin/env bash
# Run one molecule scenario against its own emulators, stopped by PID when it ends.
#   scripts/molecule.sh SCENARIO
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scenario=${1:?usage: scripts/molecule.sh SCENARIO}
state="$ROOT/.local/molecule-$scenario"
# Every scenario gets the local Kubernetes control plane (built from its Go modules on first
# use, then cached) and the charts of the hosting phase (the chart mirror of
# HONEYHIVE_CHART_MIRROR, else their upstream repositories): teardown.yml covers that phase too.
export HONEYHIVE_LOCAL_KUBE=1
"$ROOT/scripts/local.sh" up "$state"
# shellcheck disable=SC1091
. "$state/env"
# After the converge and the teardown: what the deployment role used and what of its grants
# nothing used (the strict local AWS records every authorized request), then stop the stack.
# A request refused because the local AWS has no authorization rule for its operation fails
# the scenario: the emulator, not the role's policies, decided what the module saw.
finish() {
  local rc=$? usage_rc=0
  echo "----- the deployment role's use of its grants (scripts/iam_usage.py) -----"
  "$ROOT/.venv/bin/python" "$ROOT/scripts/iam_usage.py" --endpoint "$AWS_ENDPOINT_URL" --require-rules \
    | tee "$state/iam-usage.txt" || usage_rc=$?
  "$ROOT/scripts/local.sh" down "$state"
  if ((usage_rc == 3)); then
    echo "molecule.sh: $scenario made requests without an authorization rule in the local AWS (above)" >&2
    ((rc != 0)) || rc=1
  elif ((usage_rc != 0)); then
    echo "molecule.sh: the IAM usage could not be read" >&2
  fi
  exit "$rc"
}
trap finish EXIT
cd "$ROOT/extensions"
molecule test -s "$scenario"
