#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Start a local Kubernetes control plane: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok with simulated nodes, all
# on 127.0.0.1, with every file under STATE_DIR.
#
# Usage: up.sh STATE_DIR
#
# Environment:
#   LOCAL_KUBE_BIN_DIR        binaries to run (default: the cache dir of build.sh;
#                             build.sh runs first when a binary is missing)
#   LOCAL_KUBE_ZONES          one simulated node per zone
#                             (default: "us-west-2a us-west-2b us-west-2c")
#   LOCAL_KUBE_INSTANCE_TYPE  node.kubernetes.io/instance-type label (default: t3.large)
#   LOCAL_KUBE_NODE_CPU       allocatable cpu per node (default: 32)
#   LOCAL_KUBE_NODE_MEMORY    allocatable memory per node (default: 128Gi)
#   LOCAL_KUBE_NODE_PODS      allocatable pods per node (default: 250)
#   LOCAL_KUBE_TIMEOUT        seconds to wait for each component (default: 90)
#   LOCAL_KUBE_VERBOSITY      --v of the Kubernetes components (default: 0)
#   LOCAL_KUBE_AWS_WEBHOOK    base URL of the local AWS's EKS webhooks (for example
#                             http://127.0.0.1:PORT/_aws/eks): bearer tokens are then
#                             authenticated by its /authenticate (EKS tokens, mapped through
#                             the cluster's access entries) and requests RBAC does not allow
#                             are authorized by its /authorize (EKS access policies), as on
#                             EKS. Unset: client certificates and RBAC only.
#
# Writes STATE_DIR/kubeconfig (admin, group system:masters), STATE_DIR/env
# (KEY=value lines: KUBECONFIG, LOCAL_KUBE_API_SERVER, LOCAL_KUBE_BIN_DIR, ...),
# STATE_DIR/pids/*.pid, STATE_DIR/logs/*.log and STATE_DIR/pki/. Progress goes
# to stderr; the kubeconfig path is the only line on stdout, so
# export KUBECONFIG=$(tools/local-kube/up.sh /tmp/kube) works.
# Every start is a fresh cluster: the etcd data of an earlier run is removed.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  lk_usage "${BASH_SOURCE[0]}" >&2
  [[ $# -eq 1 ]] && exit 0
  exit 2
fi

start_time=$(lk_now)
# step MESSAGE: log with the seconds since the start.
step() { lk_log "+$(lk_since "$start_time")s $*"; }
mkdir -p "$1"
STATE=$(cd "$1" && pwd)
PKI=$STATE/pki
LOGS=$STATE/logs
PIDS=$STATE/pids
zones=${LOCAL_KUBE_ZONES:-us-west-2a us-west-2b us-west-2c}
instance_type=${LOCAL_KUBE_INSTANCE_TYPE:-t3.large}
node_cpu=${LOCAL_KUBE_NODE_CPU:-32}
node_memory=${LOCAL_KUBE_NODE_MEMORY:-128Gi}
node_pods=${LOCAL_KUBE_NODE_PODS:-250}
timeout=${LOCAL_KUBE_TIMEOUT:-90}
verbosity=${LOCAL_KUBE_VERBOSITY:-0}
# Address ranges the cluster hands out. Nothing on this machine serves them;
# see "Traffic" in README.md for why no packet is sent to them.
service_cidr=10.96.0.0/16
pod_cidr=10.244.0.1/16

lk_load_versions
lk_paths
if ! lk_have_binaries; then
  lk_log "binaries missing in $LOCAL_KUBE_BIN_DIR; running build.sh"
  LOCAL_KUBE_BIN_DIR=$LOCAL_KUBE_BIN_DIR "$LOCAL_KUBE_DIR/build.sh" >/dev/null
fi
BIN=$LOCAL_KUBE_BIN_DIR

lk_need_command openssl openssl
lk_need_command curl curl
# The system interpreter starts fastest (a version-manager shim costs ~0.4 s a call).
if [[ -x /usr/bin/python3 ]]; then
  PY=/usr/bin/python3
else
  lk_need_command python3 python3-minimal
  PY=python3
fi

# Refuse to start twice on one state dir.
if compgen -G "$PIDS/*.pid" >/dev/null; then
  for f in "$PIDS"/*.pid; do
    pid=$(cat "$f" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      lk_die "a control plane is already running in $STATE (pid $pid); run down.sh $STATE first"
    fi
  done
  rm -f "$PIDS"/*.pid
fi
mkdir -p "$PKI" "$LOGS" "$PIDS" "$STATE/kwok"
rm -rf "$STATE/etcd" "$STATE/cluster-egress.sock"
rm -f "$LOGS"/*.log

fail() {
  lk_log "error: $*"
  local f
  for f in "$LOGS"/*.log; do
    [[ -s $f ]] || continue
    lk_log "--- last lines of $f"
    tail -n 15 "$f" >&2
  done
  "$LOCAL_KUBE_DIR/down.sh" "$STATE" >&2 || true
  exit 1
}

# --- certificates -------------------------------------------------------
# Kept across restarts of the same state dir (they do not depend on ports).
new_ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign NAME SUBJECT EXTENSIONS: key NAME.key and certificate NAME.crt signed by the CA.
sign() {
  new_ec_key "$PKI/$1.key"
  openssl req -new -key "$PKI/$1.key" -subj "$2" -out "$PKI/$1.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 3650 -sha256 -extfile <(printf '%b' "$3") -out "$PKI/$1.crt" 2>/dev/null
  rm -f "$PKI/$1.csr"
}

client_ext='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n'
# Bump pki_version when the set or the subjects of the certificates change.
pki_version=2
if [[ $(cat "$PKI/done" 2>/dev/null) != "$pki_version" ]]; then
  lk_log "generating certificates in $PKI"
  (
    umask 077
    new_ec_key "$PKI/ca.key"
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=local-kube-ca" -days 3650 -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$PKI/ca.crt" 2>/dev/null
    sign apiserver "/CN=kube-apiserver" \
      "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,IP:${service_cidr%.0/*}.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n"
    sign admin "/O=system:masters/CN=local-kube-admin" "$client_ext"
    # In system:masters: the controllers share this identity instead of one
    # service account token each (--use-service-account-credentials), which
    # would add about 5 s to every start.
    sign kube-controller-manager "/O=system:masters/CN=system:kube-controller-manager" "$client_ext"
    sign kube-scheduler "/CN=system:kube-scheduler" "$client_ext"
    sign kwok "/O=system:masters/CN=kwok-controller" "$client_ext"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
    openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
    echo "$pki_version" >"$PKI/done"
  ) || fail "certificate generation failed"
fi

# --- ports --------------------------------------------------------------
read -r etcd_port etcd_peer_port api_port kcm_port sched_port kwok_port < <(
  "$PY" -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
'
)
[[ -n ${kwok_port:-} ]] || fail "could not pick free ports"
server=https://127.0.0.1:$api_port

# kubeconfig FILE USER: a kubeconfig with the certificates embedded.
kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local-kube
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$2.crt")
    client-key-data: $(base64 -w0 <"$PKI/$2.key")
contexts:
- name: local-kube
  context:
    cluster: local-kube
    user: $2
current-context: local-kube
EOF
  chmod 600 "$1"
}
for u in kube-controller-manager kube-scheduler kwok; do
  kubeconfig "$PKI/$u.kubeconfig" "$u"
done

# Dials from the apiserver into the cluster network (Service-backed webhooks
# and APIServices, pod/service proxy, logs/exec) go through this Unix socket.
# Nothing listens on it, so they fail at once instead of sending packets to
# addresses that do not exist here; a test may serve the socket (HTTP CONNECT).
cat >"$STATE/egress-selector.yaml" <<EOF
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: $STATE/cluster-egress.sock
EOF

# EKS authentication and access policies, served by the local AWS (scripts/local_aws/eks_auth.py).
# No webhook caching: an access entry that stops being valid stops working at once, and a token
# 10 s after it does (kube-apiserver keeps a successful token review that long, whatever the flags).
webhook_flags=()
if [[ -n ${LOCAL_KUBE_AWS_WEBHOOK:-} ]]; then
  for hook in authenticate authorize; do
    cat >"$STATE/webhook-$hook.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local-aws
  cluster:
    server: ${LOCAL_KUBE_AWS_WEBHOOK%/}/$hook
users:
- name: kube-apiserver
  user: {}
contexts:
- name: local-aws
  context:
    cluster: local-aws
    user: kube-apiserver
current-context: local-aws
EOF
  done
  webhook_flags=(
    --authentication-token-webhook-config-file="$STATE/webhook-authenticate.kubeconfig"
    --authentication-token-webhook-version=v1
    --authentication-token-webhook-cache-ttl=0s
    --authorization-webhook-config-file="$STATE/webhook-authorize.kubeconfig"
    --authorization-webhook-version=v1
    --authorization-webhook-cache-authorized-ttl=0s
    --authorization-webhook-cache-unauthorized-ttl=0s
  )
fi

# --- processes ----------------------------------------------------------
# start NAME ARGS...: run a binary detached, its pid in pids/NAME.pid.
start() {
  local name=$1
  shift
  rm -f "$PIDS/$name.pid"
  # shellcheck disable=SC2016 # $$ and $@ expand in the child shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDS/$name.pid" "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
  local i
  for i in $(seq 50); do
    [[ -s $PIDS/$name.pid ]] && return 0
    sleep 0.02
  done
  fail "$name did not start"
}

# alive NAME: the process of pids/NAME.pid runs.
alive() { kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

# wait_for WHAT NAME... -- COMMAND...: poll COMMAND until it succeeds, while
# the processes NAME... are alive.
wait_for() {
  local what=$1 names=() deadline n
  shift
  while [[ $1 != -- ]]; do
    names+=("$1")
    shift
  done
  shift
  deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    for n in "${names[@]}"; do
      alive "$n" || fail "$n exited while waiting for $what"
    done
    (($(date +%s) < deadline)) || fail "timed out after ${timeout}s waiting for $what"
    sleep 0.1
  done
}

api() {
  curl -sS --fail --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$@"
}

step "starting etcd ($ETCD_VERSION) on 127.0.0.1:$etcd_port"
start etcd "$BIN/etcd" \
  --name=local-kube \
  --data-dir="$STATE/etcd" \
  --listen-client-urls="http://127.0.0.1:$etcd_port" \
  --advertise-client-urls="http://127.0.0.1:$etcd_port" \
  --listen-peer-urls="http://127.0.0.1:$etcd_peer_port" \
  --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster="local-kube=http://127.0.0.1:$etcd_peer_port" \
  --unsafe-no-fsync \
  --heartbeat-interval=20 \
  --election-timeout=200 \
  --log-level=warn
wait_for "etcd health" etcd -- curl -sf --max-time 2 "http://127.0.0.1:$etcd_port/health"

step "starting kube-apiserver ($KUBERNETES_VERSION) on $server"
start kube-apiserver "$BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$etcd_port" \
  --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 \
  --secure-port="$api_port" \
  --tls-cert-file="$PKI/apiserver.crt" \
  --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  --api-audiences=https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range="$service_cidr" \
  --authorization-mode="RBAC${LOCAL_KUBE_AWS_WEBHOOK:+,Webhook}" \
  ${webhook_flags[@]+"${webhook_flags[@]}"} \
  --endpoint-reconciler-type=none \
  --allow-privileged=true \
  --egress-selector-config-file="$STATE/egress-selector.yaml" \
  --profiling=false \
  --v="$verbosity"
wait_for "kube-apiserver /readyz" kube-apiserver etcd -- api "$server/readyz"

step "starting kube-controller-manager, kube-scheduler and kwok ($KWOK_VERSION)"
# kwok renews the simulated nodes' heartbeats only as often as it gets CPU: a long grace period
# keeps a busy machine from marking the nodes, and with them every pod, not ready.
start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig="$PKI/kube-controller-manager.kubeconfig" \
  --leader-elect=false \
  --bind-address=127.0.0.1 \
  --secure-port="$kcm_port" \
  --service-account-private-key-file="$PKI/sa.key" \
  --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" \
  --cluster-signing-key-file="$PKI/ca.key" \
  --controllers='*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route' \
  --node-monitor-period=2s \
  --node-monitor-grace-period=1h \
  --profiling=false \
  --v="$verbosity"
start kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig="$PKI/kube-scheduler.kubeconfig" \
  --leader-elect=false \
  --bind-address=127.0.0.1 \
  --secure-port="$sched_port" \
  --profiling=false \
  --v="$verbosity"
KWOK_WORKDIR=$STATE/kwok start kwok "$BIN/kwok" \
  --kubeconfig="$PKI/kwok.kubeconfig" \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --cidr="$pod_cidr" \
  --node-ip=127.0.0.1 \
  --node-lease-duration-seconds=40 \
  --server-address="127.0.0.1:$kwok_port" \
  --v="$([[ $verbosity -gt 0 ]] && echo INFO || echo WARN)"

# --- simulated nodes ----------------------------------------------------
i=0
node_names=()
for zone in $zones; do
  name=kwok-node-$i
  node_names+=("$name")
  region=${zone%[a-z]}
  api -X POST -H 'Content-Type: application/json' "$server/api/v1/nodes" -o /dev/null -d @- <<EOF || fail "could not create node $name"
{
  "apiVersion": "v1",
  "kind": "Node",
  "metadata": {
    "name": "$name",
    "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
    "labels": {
      "type": "kwok",
      "role": "system",
      "kubernetes.io/hostname": "$name",
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "node.kubernetes.io/instance-type": "$instance_type",
      "topology.kubernetes.io/region": "$region",
      "topology.kubernetes.io/zone": "$zone"
    }
  },
  "status": {
    "allocatable": {"cpu": "$node_cpu", "memory": "$node_memory", "pods": "$node_pods", "ephemeral-storage": "200Gi"},
    "capacity": {"cpu": "$node_cpu", "memory": "$node_memory", "pods": "$node_pods", "ephemeral-storage": "200Gi"},
    "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": "$name"}],
    "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": "$KUBERNETES_VERSION"}
  }
}
EOF
  i=$((i + 1))
done

step "created ${#node_names[@]} nodes; waiting for them to be Ready"
nodes_ready() {
  api "$server/api/v1/nodes?labelSelector=type%3Dkwok" | "$PY" -c '
import json, sys
items = json.load(sys.stdin)["items"]
# Ready, and the not-ready taint that admission put on the new node is gone
# (the node lifecycle controller removes it once kwok reports Ready).
ready = [n["metadata"]["name"] for n in items
         if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
         and not any(t["key"].startswith("node.kubernetes.io/") for t in n["spec"].get("taints", []))]
sys.exit(0 if len(ready) >= int(sys.argv[1]) else 1)
' "${#node_names[@]}"
}
wait_for "kwok health" kwok -- curl -sf --max-time 2 "http://127.0.0.1:$kwok_port/healthz"
wait_for "${#node_names[@]} Ready, untainted nodes" kwok kube-apiserver kube-controller-manager -- nodes_ready
step "nodes Ready"
wait_for "kube-scheduler /healthz" kube-scheduler -- curl -skf --max-time 2 "https://127.0.0.1:$sched_port/healthz"
wait_for "kube-controller-manager /healthz" kube-controller-manager -- curl -skf --max-time 2 "https://127.0.0.1:$kcm_port/healthz"
# Pods can be created once the service account controller made "default".
wait_for "the default service account" kube-controller-manager -- api "$server/api/v1/namespaces/default/serviceaccounts/default"

kubeconfig "$STATE/kubeconfig" admin
nodes_csv=$(IFS=,; echo "${node_names[*]}")
# KEY=value lines that both a shell and a plain KEY=value reader take as is
# (values are quoted only when they hold other characters).
env_lines() {
  while (($#)); do
    if [[ $2 =~ ^[A-Za-z0-9._/:,@+=-]*$ ]]; then
      printf '%s=%s\n' "$1" "$2"
    else
      printf '%s=%q\n' "$1" "$2"
    fi
    shift 2
  done
}
env_lines \
  KUBECONFIG "$STATE/kubeconfig" \
  LOCAL_KUBE_API_SERVER "$server" \
  LOCAL_KUBE_BIN_DIR "$BIN" \
  LOCAL_KUBE_ETCD "http://127.0.0.1:$etcd_port" \
  LOCAL_KUBE_KUBERNETES_VERSION "$KUBERNETES_VERSION" \
  LOCAL_KUBE_NODES "$nodes_csv" \
  LOCAL_KUBE_EGRESS_SOCKET "$STATE/cluster-egress.sock" >"$STATE/env"

lk_log "control plane ready in $(lk_since "$start_time")s: ${#node_names[@]} nodes, API $server"
lk_log "export KUBECONFIG=$STATE/kubeconfig; stop with: $LOCAL_KUBE_DIR/down.sh $STATE"
echo "$STATE/kubeconfig"
