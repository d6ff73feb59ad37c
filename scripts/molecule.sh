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
trap '"$ROOT/scripts/local.sh" down "$state"' EXIT
# shellcheck disable=SC1091
. "$state/env"
cd "$ROOT/extensions"
molecule test -s "$scenario"
