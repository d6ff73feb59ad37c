#!/usr/bin/env bash
# Render the hosting roles' Kubernetes objects for every inventory into OUT_DIR
# (OUT_DIR/<deployment>/<role>/<kind>-<name>.yaml), their Helm releases with the values they
# pass (OUT_DIR/<deployment>/releases/<release>.yaml: release, namespace, chart, version,
# values) and, with POLICY_DIR, every IAM policy document the roles write
# (POLICY_DIR/<deployment>/<variant>.json, for scripts/policy_lint.py), in one run without any
# AWS or Kubernetes call.
#   scripts/render-manifests.sh [OUT_DIR [POLICY_DIR]]   (default .local/rendered, no policies)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$ROOT/.local/rendered}
policies=${2:-}
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
policy_args=()
if [[ -n $policies ]]; then
  rm -rf "$policies"
  mkdir -p "$policies"
  policies=$(cd "$policies" && pwd)
  policy_args=(-e platform_policy_render_dir="$policies")
fi
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
inventories=()
for inventory in "$ROOT"/inventories/*/; do
  inventories+=(-i "$inventory")
done
# One run over every inventory (their VPC networks never overlap, which preflight checks).
# Rendering needs neither the deployment role nor the chart source.
"$ROOT/.venv/bin/ansible-playbook" "$ROOT/playbooks/render.yml" "${inventories[@]}" \
  -e platform_render_dir="$out" "${policy_args[@]}" -e platform_assume_role=false -e platform_chart_source=upstream \
  >/dev/null
printf 'render-manifests: %s manifests and %s Helm releases in %s\n' \
  "$(find "$out" -name '*.yaml' -not -path '*/releases/*' | wc -l)" "$(find "$out" -path '*/releases/*.yaml' | wc -l)" "$out" >&2
if [[ -n $policies ]]; then
  printf 'render-manifests: %s policy files in %s\n' "$(find "$policies" -name '*.json' | wc -l)" "$policies" >&2
fi
