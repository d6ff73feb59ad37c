#!/usr/bin/env bash
# Local emulators for honeyhive.platform: the strict local AWS (moto inside the AWS proxy,
# scripts/aws_proxy.py and scripts/local_aws) and the Twingate API double, on 127.0.0.1
# only. State (pid files, logs, the env file) lives in STATE_DIR.
#
#   scripts/local.sh up   [STATE_DIR]   start them and write STATE_DIR/env
#   scripts/local.sh down [STATE_DIR]   stop them by PID
#   scripts/local.sh status [STATE_DIR]
#
# Fault injection of the AWS proxy (scripts/aws_proxy.py), for the reliability tests: set
# HONEYHIVE_FAULT_SEED, HONEYHIVE_FAULT_THROTTLE_RATE (e.g. 0.10), HONEYHIVE_FAULT_ERROR_RATE
# (500/503, e.g. 0.05) and HONEYHIVE_FAULT_AFTER (requests let through first) for `up`; they
# become the proxy's --seed, --throttle-rate, --error-rate and --fault-after. HONEYHIVE_FAULTS
# passes further proxy options as they are. Faults can also be changed at run time through
# the proxy's /_proxy/config endpoint.
#
# The strict behaviours of the local AWS (docs/emulator.md) are all on; HONEYHIVE_AWS_STRICT
# (e.g. all,-timing), HONEYHIVE_AWS_TIME_SCALE (default 20: AWS durations divided by it),
# HONEYHIVE_AWS_SESSION_SCALE (default 2: role sessions' lifetimes divided by it),
# HONEYHIVE_AWS_CONSISTENCY_WINDOWS (e.g. iam=4-10: seconds a new role stays unusable) and
# HONEYHIVE_AWS_SEED (eventual consistency draws) change them for `up`.
# HONEYHIVE_AWS_PUBLIC_DOMAINS lists the registered domains (NAME@ACCOUNT) whose public zones
# exist from the start (default: honeyhive.example.com in the local target account).
#
# With HONEYHIVE_LOCAL_KUBE=1, `up` also starts a local Kubernetes control plane
# (tools/local-kube, state in STATE_DIR/kube) for the hosting phase and exports its
# kubeconfig as HONEYHIVE_LOCAL_KUBECONFIG; when KUBECONFIG is already set, that cluster
# is used instead and nothing is started. `down` stops the control plane it started.
# Either way it puts the helm of tools/local-kube first on PATH and picks the charts of the
# hosting phase: with HONEYHIVE_CHART_MIRROR set (a directory of packaged charts named
# <chart>-<version>.tgz with its index.yaml, such as the chart mirror .ci/run uses), that
# directory, exported as HONEYHIVE_CHART_DIR, is the chart source of the local inventory and
# must hold every chart of platform_charts at its pinned version; without it the local
# inventory pulls the same charts from their upstream repositories (internet access needed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
# The target account of the local inventory (inventories/local).
LOCAL_ACCOUNT=${HONEYHIVE_LOCAL_ACCOUNT:-111122223333}
cmd=${1:-}
STATE=${2:-$ROOT/.local}
mkdir -p "$STATE/pids" "$STATE/logs"
STATE=$(cd "$STATE" && pwd)

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_http() { # url seconds
  local url=$1 deadline=$((SECONDS + $2))
  until "$VENV/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url" 2>/dev/null; do
    if ((SECONDS > deadline)); then echo "local.sh: $url did not answer in $2 s" >&2; return 1; fi
    sleep 0.2
  done
}

secret() { "$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(16))'; }

# The helm the roles run and the charts of the hosting phase. Sets helm_dir (the directory of
# the helm to put first on PATH; empty when the helm already on PATH is used) and chart_dir
# (the chart mirror, or empty for the upstream repositories).
charts() {
  local catalogue chart version missing=()
  helm_dir=$("$ROOT/tools/local-kube/build.sh" --print-bin-dir) || return 1
  if [[ ! -x $helm_dir/helm ]]; then
    if command -v helm >/dev/null 2>&1; then
      helm_dir=""
    else
      "$ROOT/tools/local-kube/build.sh" >/dev/null || return 1
    fi
  fi
  chart_dir=""
  if [[ -z ${HONEYHIVE_CHART_MIRROR:-} ]]; then
    echo "local.sh: HONEYHIVE_CHART_MIRROR is not set: the charts come from their upstream repositories"
    return 0
  fi
  if [[ ! -d $HONEYHIVE_CHART_MIRROR ]]; then
    echo "local.sh: HONEYHIVE_CHART_MIRROR=$HONEYHIVE_CHART_MIRROR is not a directory" >&2
    return 1
  fi
  chart_dir=$(cd "$HONEYHIVE_CHART_MIRROR" && pwd)
  catalogue=$("$VENV/bin/python" "$ROOT/tests/charts/catalogue.py" charts) || return 1
  while IFS=$'\t' read -r chart version _; do
    [[ -f $chart_dir/$chart-$version.tgz ]] || missing+=("$chart-$version.tgz")
  done <<<"$catalogue"
  if ((${#missing[@]})); then
    echo "local.sh: the chart mirror $chart_dir lacks ${missing[*]} (platform_charts in group_vars/all/versions.yml)" >&2
    return 1
  fi
  echo "local.sh: charts from the mirror $chart_dir"
}

# bootstrap PROXY_PORT EXTERNAL_ID: bootstrap.yml as the target account's administrator.
bootstrap() {
  (
    set -a
    # shellcheck disable=SC1091  # written by up
    . "$STATE/bootstrap.env"
    set +a
    export AWS_ENDPOINT_URL="http://127.0.0.1:$1" AWS_DEFAULT_REGION=us-west-2 HONEYHIVE_EXTERNAL_ID="$2" \
      HONEYHIVE_SESSION_DIR="$STATE/sessions" ANSIBLE_CONFIG="$ROOT/ansible.cfg" PATH="$VENV/bin:$PATH"
    unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE
    cd "$ROOT" && ansible-playbook bootstrap.yml -i inventories/local
  )
}

up() {
  if alive "$STATE/pids/aws-proxy.pid"; then
    echo "local.sh: already running (state in $STATE)"; return 0
  fi
  local proxy_port twingate_port twingate_token external_id moto_url
  proxy_port=$(free_port)
  twingate_port=$(free_port)
  twingate_token=$(secret)
  external_id=$(secret)

  # The local AWS: moto in the proxy's own process, behind the strict behaviours
  # (scripts/local_aws: IAM enforced, expiring credentials, eventual consistency, creation
  # times, zone ids per account, public DNS for ACM, the local EKS); HONEYHIVE_AWS_STRICT,
  # HONEYHIVE_AWS_TIME_SCALE, HONEYHIVE_AWS_SESSION_SCALE and HONEYHIVE_AWS_SEED tune them (docs/emulator.md). The proxy logs
  # each request's operation (never bodies or credentials) and, when the reliability tests ask
  # it to, injects throttling and 5xx. MOTO_ACCOUNT_ID stays unset: moto keeps accounts apart,
  # so resources made with the assumed role's credentials land in the target account.
  local faults=()
  [[ -z ${HONEYHIVE_FAULT_SEED:-} ]] || faults+=(--seed "$HONEYHIVE_FAULT_SEED")
  [[ -z ${HONEYHIVE_FAULT_THROTTLE_RATE:-} ]] || faults+=(--throttle-rate "$HONEYHIVE_FAULT_THROTTLE_RATE")
  [[ -z ${HONEYHIVE_FAULT_ERROR_RATE:-} ]] || faults+=(--error-rate "$HONEYHIVE_FAULT_ERROR_RATE")
  [[ -z ${HONEYHIVE_FAULT_AFTER:-} ]] || faults+=(--fault-after "$HONEYHIVE_FAULT_AFTER")
  local domains=()
  for domain in ${HONEYHIVE_AWS_PUBLIC_DOMAINS-honeyhive.example.com@$LOCAL_ACCOUNT}; do
    domains+=(--public-domain "$domain")
  done
  rm -f "$STATE/moto.url"
  # shellcheck disable=SC2086  # HONEYHIVE_FAULTS is a list of options, split on purpose
  env -u MOTO_ACCOUNT_ID MOTO_IAM_LOAD_MANAGED_POLICIES=true \
    "$VENV/bin/python" "$ROOT/scripts/aws_proxy.py" --port "$proxy_port" \
    --moto-url-file "$STATE/moto.url" --log "$STATE/logs/aws-requests.jsonl" \
    ${domains[@]+"${domains[@]}"} ${faults[@]+"${faults[@]}"} ${HONEYHIVE_FAULTS:+$HONEYHIVE_FAULTS} \
    >"$STATE/logs/aws-proxy.log" 2>&1 &
  echo $! >"$STATE/pids/aws-proxy.pid"

  TWINGATE_DOUBLE_TOKEN=$twingate_token "$VENV/bin/python" "$ROOT/scripts/twingate_double.py" \
    --port "$twingate_port" >"$STATE/logs/twingate.log" 2>&1 &
  echo $! >"$STATE/pids/twingate.pid"

  wait_http "http://127.0.0.1:$proxy_port/_proxy/health" 60
  moto_url=$(cat "$STATE/moto.url")
  wait_http "http://127.0.0.1:$twingate_port/healthz" 30

  # The target account as an organisation has it before the platform: an administrator (an
  # IAM user with AdministratorAccess, made directly in moto) who runs bootstrap.yml once,
  # which makes the deployment role every later run assumes. The administrator's keys stay
  # in STATE/bootstrap.env (0600) for a later bootstrap run (HONEYHIVE_LOCAL_BOOTSTRAP=0: make
  # the administrator but leave bootstrap.yml to the caller).
  if ! "$VENV/bin/python" - "$moto_url" "$LOCAL_ACCOUNT" "$STATE/bootstrap.env" <<'PY'
import os, sys
import boto3
moto_url, account, path = sys.argv[1:4]
iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
iam.meta.events.register("before-sign", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
iam.create_user(UserName="account-administrator")
iam.attach_user_policy(UserName="account-administrator", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
key = iam.create_access_key(UserName="account-administrator")["AccessKey"]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w", encoding="utf-8") as out:
    out.write("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n" % (key["AccessKeyId"], key["SecretAccessKey"]))
PY
  then
    echo "local.sh: could not make the target account's administrator" >&2
    down >/dev/null
    return 1
  fi
  if [[ ${HONEYHIVE_LOCAL_BOOTSTRAP:-1} == 1 ]] && ! bootstrap "$proxy_port" "$external_id" >"$STATE/logs/bootstrap.log" 2>&1; then
    echo "local.sh: bootstrap.yml failed (see $STATE/logs/bootstrap.log)" >&2
    down >/dev/null
    return 1
  fi

  local kubeconfig="" helm_dir="" chart_dir=""
  if [[ ${HONEYHIVE_LOCAL_KUBE:-} == 1 ]]; then
    if [[ -n ${KUBECONFIG:-} ]]; then
      kubeconfig=$KUBECONFIG
      echo "local.sh: KUBECONFIG is set; the hosting phase uses that cluster ($kubeconfig)"
    elif ! kubeconfig=$(LOCAL_KUBE_AWS_WEBHOOK="http://127.0.0.1:$proxy_port/_aws/eks" \
      "$ROOT/tools/local-kube/up.sh" "$STATE/kube" 2>"$STATE/logs/local-kube.log"); then
      echo "local.sh: the local control plane did not start (see $STATE/logs/local-kube.log)" >&2
      down >/dev/null
      return 1
    fi
    # Every cluster the local EKS makes answers with this API server's endpoint and CA.
    if ! "$VENV/bin/python" - "http://127.0.0.1:$proxy_port/_aws/config" "$kubeconfig" <<'PY'
import base64, json, sys, urllib.request
import yaml
config = yaml.safe_load(open(sys.argv[2], encoding="utf-8"))
cluster = config["clusters"][0]["cluster"]
body = json.dumps({"kube": {"endpoint": cluster["server"],
                            "ca_data": cluster["certificate-authority-data"]}}).encode()
request = urllib.request.Request(sys.argv[1], data=body, headers={"Content-Type": "application/json"})
urllib.request.urlopen(request, timeout=10).read()
PY
    then
      echo "local.sh: could not give the local AWS the control plane's endpoint" >&2
      down >/dev/null
      return 1
    fi
    if ! charts >"$STATE/logs/charts.log" 2>&1; then
      echo "local.sh: helm or the charts are not there (see $STATE/logs/charts.log)" >&2
      down >/dev/null
      return 1
    fi
  fi

  umask 077
  cat >"$STATE/env" <<ENV
# Written by scripts/local.sh for the emulators in $STATE. Source it: . $STATE/env
export PATH="$VENV/bin:\$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
export AWS_ENDPOINT_URL="http://127.0.0.1:$proxy_port"
export HONEYHIVE_MOTO_URL="$moto_url"
export HONEYHIVE_AWS_REQUEST_LOG="$STATE/logs/aws-requests.jsonl"
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_DEFAULT_REGION=us-west-2
unset AWS_PROFILE AWS_SESSION_TOKEN
export HONEYHIVE_EXTERNAL_ID="$external_id"
export TWINGATE_API_URL="http://127.0.0.1:$twingate_port/api/graphql/"
export TWINGATE_API_TOKEN="$twingate_token"
export HONEYHIVE_LOCAL_STATE="$STATE"
export HONEYHIVE_SESSION_DIR="$STATE/sessions"
ENV
  if [[ -n $kubeconfig ]]; then
    {
      printf 'export HONEYHIVE_LOCAL_KUBECONFIG=%q\n' "$kubeconfig"
      # The chart source of the local inventory: the mirror, else (unset) the upstream repositories.
      if [[ -n $chart_dir ]]; then printf 'export HONEYHIVE_CHART_DIR=%q\n' "$chart_dir"; else echo 'unset HONEYHIVE_CHART_DIR'; fi
      # helm (tools/local-kube) first on PATH; $PATH stays for the shell that sources this.
      # shellcheck disable=SC2016
      if [[ -n $helm_dir ]]; then printf 'export PATH=%q:"$PATH"\n' "$helm_dir"; fi
    } >>"$STATE/env"
  fi
  echo "local.sh: the local AWS on 127.0.0.1:$proxy_port (moto inside: $moto_url), Twingate double on 127.0.0.1:$twingate_port; env in $STATE/env"
}

down() {
  local pidfile pid
  # The local control plane keeps its own pid files; down.sh stops only those processes.
  if [[ -d $STATE/kube/pids ]]; then
    "$ROOT/tools/local-kube/down.sh" "$STATE/kube" 2>>"$STATE/logs/local-kube.log" || true
  fi
  for pidfile in "$STATE"/pids/*.pid; do
    [[ -f $pidfile ]] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  rm -f "$STATE/env"
  echo "local.sh: stopped (state in $STATE)"
}

status() {
  local pidfile
  for pidfile in "$STATE"/pids/*.pid; do
    [[ -f $pidfile ]] || continue
    if alive "$pidfile"; then echo "$(basename "$pidfile" .pid): running ($(cat "$pidfile"))"; else echo "$(basename "$pidfile" .pid): dead"; fi
  done
  for pidfile in "$STATE"/kube/pids/*.pid; do
    [[ -f $pidfile ]] || continue
    if alive "$pidfile"; then echo "kube/$(basename "$pidfile" .pid): running ($(cat "$pidfile"))"; else echo "kube/$(basename "$pidfile" .pid): dead"; fi
  done
}

case $cmd in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status [STATE_DIR]" >&2; exit 2 ;;
esac
