#!/usr/bin/env bash
# Security lint of the collection, part of `make lint`; exits non-zero on any finding.
#   1. shellcheck on every shell script of the repository (Debian's shellcheck, installed
#      with apt-get when missing);
#   2. checkov --framework ansible on the collection (roles, playbooks, molecule scenarios);
#   3. checkov --framework kubernetes on every manifest the roles render, for every inventory
#      (scripts/render-manifests.sh into $HONEYHIVE_RENDERED_DIR, default .local/rendered);
#   4. parliament, through scripts/policy_lint.py, on every IAM policy document the roles write,
#      rendered in the same run for every inventory and every setting of the switches that
#      change them (into $HONEYHIVE_RENDERED_POLICY_DIR, default .local/rendered-policies).
# checkov runs offline (--skip-download) from its own virtualenv, .venv-checkov, built from
# the pinned requirements-checkov.txt when missing or outdated (checkov pins an older boto3
# than the collection's .venv).
#
# Usage: scripts/lint-security.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
CHECKOV_VENV=${CHECKOV_VENV:-$ROOT/.venv-checkov}
CHECKOV_REQUIREMENTS=$ROOT/requirements-checkov.txt
RENDERED_DIR=${HONEYHIVE_RENDERED_DIR:-$ROOT/.local/rendered}
POLICY_DIR=${HONEYHIVE_RENDERED_POLICY_DIR:-$ROOT/.local/rendered-policies}
failed=0

say() { printf 'lint-security: %s\n' "$*"; }
fail() { say "FAILED: $*" >&2; failed=1; }

# --- 1. shellcheck -----------------------------------------------------------------------------
if ! command -v shellcheck >/dev/null 2>&1; then
  say "shellcheck is missing; installing Debian's package"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq shellcheck >/dev/null
fi

# A shell script: *.sh or *.bash, a sh/bash/dash/ksh shebang, or a `# shellcheck shell=` directive.
shell_scripts=()
while IFS= read -r -d '' file; do
  first=$(head -n 1 "$file" 2>/dev/null || true)
  if [[ $file == *.sh || $file == *.bash || $first =~ ^\#!.*[/[:space:]](ba|da|k)?sh([[:space:]]|$) \
        || $first =~ ^\#[[:space:]]*shellcheck[[:space:]]+shell= ]]; then
    shell_scripts+=("${file#./}")
  fi
done < <(find . \( -name .git -o -name '.venv*' -o -name .local -o -name node_modules -o -name .cache \
                   -o -name .pytest_cache -o -path ./tests/output \) -prune -o -type f -print0 | sort -z)

if ((${#shell_scripts[@]} == 0)); then
  fail "shellcheck: found no shell script to check"
elif shellcheck --external-sources --source-path=SCRIPTDIR "${shell_scripts[@]}"; then
  say "shellcheck: ${#shell_scripts[@]} scripts clean (${shell_scripts[*]})"
else
  fail "shellcheck found problems (above)"
fi

# --- checkov's virtualenv -------------------------------------------------------------------------
stamp=$CHECKOV_VENV/.requirements.sha256
wanted=$(sha256sum "$CHECKOV_REQUIREMENTS" | cut -d' ' -f1)
if [[ ! -x $CHECKOV_VENV/bin/checkov || ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
  say "building $CHECKOV_VENV from requirements-checkov.txt"
  [[ -x $CHECKOV_VENV/bin/python ]] || "$PYTHON" -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$CHECKOV_REQUIREMENTS"
  echo "$wanted" >"$stamp"
fi

# checkov's JSON report(s) on stdin -> one line per finding that counts, a summary on stderr;
# exits 1 on findings, parse errors or (with --expect-resources) a scan that saw nothing.
# checkov 3.3 drops inline `# checkov:skip=ID: reason` comments on Ansible blocks (the block's
# context key and its graph id differ, bridgecrewio/checkov#7501), so a block's failure is
# taken as skipped here when such a comment, with a reason, sits between the block's
# `- name:` line and its `block:` key - where checkov itself would read it.
read -r -d '' GATE_PY <<'PY' || true
import json
import re
import sys

label = sys.argv[1]
expect_resources = "--expect-resources" in sys.argv[2:]
reports = json.load(sys.stdin)
reports = reports if isinstance(reports, list) else [reports]
skip_re = re.compile(r"#\s*checkov:skip=([A-Za-z0-9_,-]+)\s*:\s*(\S.*)$")

def block_skip(finding):
    if not finding["resource"].startswith("block.") or "file_abs_path" not in finding:
        return None
    with open(finding["file_abs_path"], encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    start, end = finding["file_line_range"]
    for line in lines[start - 1:end]:
        match = skip_re.search(line)
        if match and finding["check_id"] in match.group(1).split(","):
            return match.group(2).strip()
        if re.match(r"^\s*block:\s*(#.*)?$", line):
            return None
    return None

counts = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resources": 0}
for report in reports:
    summary = report.get("summary", report)
    counts["parsing_errors"] += summary.get("parsing_errors", 0)
    counts["resources"] += summary.get("resource_count", 0)
    results = report.get("results", {})
    counts["passed"] += summary.get("passed", 0)  # --quiet leaves the passed checks out of results
    counts["skipped"] += len(results.get("skipped_checks", []))
    for finding in results.get("failed_checks", []):
        where = "%s:%s-%s" % (finding["file_path"].lstrip("/"), *finding["file_line_range"])
        reason = block_skip(finding)
        if reason:
            counts["skipped"] += 1
            print("  skipped %s %s (%s): %s" % (finding["check_id"], finding["resource"], where, reason), file=sys.stderr)
        else:
            counts["failed"] += 1
            print("  FAILED %s %s: %s (%s)" % (finding["check_id"], finding["check_name"], finding["resource"], where))
    for path in results.get("parsing_errors", []) if isinstance(results.get("parsing_errors"), list) else []:
        print("  PARSE ERROR %s" % path)
print("%s: %d passed, %d failed, %d skipped, %d parse errors" % (
    label, counts["passed"], counts["failed"], counts["skipped"], counts["parsing_errors"]), file=sys.stderr)
if expect_resources and counts["resources"] == 0 and counts["parsing_errors"] == 0:
    print("  FAILED: checkov found no resource in the manifests", file=sys.stdout)
    sys.exit(1)
sys.exit(1 if counts["failed"] or counts["parsing_errors"] else 0)
PY
gate() { "$CHECKOV_VENV/bin/python" -c "$GATE_PY" "$@"; }

# checkov exits 1 on findings: its JSON goes through gate(), which decides.
run_checkov() { "$CHECKOV_VENV/bin/checkov" --skip-download --quiet --output json "$@" || true; }

# --- 2. checkov, Ansible -------------------------------------------------------------------------
# From the root: checkov skips directories whose path has a hidden component (.venv*, .local).
if ! run_checkov --framework ansible --directory . | gate "checkov ansible (roles, playbooks)"; then
  fail "checkov found problems in the Ansible content (above)"
fi

# --- 3. checkov, Kubernetes manifests the roles render -------------------------------------------
if ! scripts/render-manifests.sh "$RENDERED_DIR" "$POLICY_DIR"; then
  fail "rendering the hosting roles' manifests and the roles' IAM policies failed"
fi
manifests=()
if [[ -d $RENDERED_DIR ]]; then
  while IFS= read -r -d '' file; do manifests+=("$file"); done \
    < <(find "$RENDERED_DIR" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -not -path '*/releases/*' -print0 | sort -z)
fi
if ((${#manifests[@]} == 0)); then
  fail "checkov kubernetes: no rendered manifests in ${RENDERED_DIR#"$ROOT"/}"
else
  say "checkov kubernetes: ${#manifests[@]} manifests in ${RENDERED_DIR#"$ROOT"/}"
  # Run from inside the directory: checkov ignores a --directory below a hidden one (.local).
  # The roles render Namespaces and custom resources (NodePool, EC2NodeClass,
  # ClusterSecretStore, AppProject, Application): checkov has checks for none of those kinds
  # today, so it may count no resource; their schemas are judged by kubernetes-validate and by
  # the API server with the charts' CRDs (tests/integration). releases/ holds the Helm values
  # the roles pass, not manifests.
  if ! (cd "$RENDERED_DIR" && run_checkov --framework kubernetes --directory . --skip-path releases) \
       | gate "checkov kubernetes (${RENDERED_DIR#"$ROOT"/})"; then
    fail "checkov found problems in the rendered manifests (above)"
  fi
fi

# --- 4. parliament, IAM policies the roles write -------------------------------------------------
# Unknown actions and condition keys, template text, malformed statements: every finding fails
# unless a suppression next to the policy (__<role>_policy_lint_suppressions) gives its reason;
# a suppression that no longer matches anything fails too.
policy_started=$(date +%s)
if .venv/bin/python scripts/policy_lint.py "$POLICY_DIR"; then
  say "policy lint: clean ($(($(date +%s) - policy_started)) s)"
else
  fail "the policy lint found problems in the IAM policies (above)"
fi

if ((failed)); then
  say "security lint failed"
  exit 1
fi
say "security lint passed"
