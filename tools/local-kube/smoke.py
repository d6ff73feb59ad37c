"""Smoke check of a running local-kube cluster.

Usage: .venv/bin/python tools/local-kube/smoke.py [--kubeconfig PATH] [--helm PATH] [--nodes N]

Creates a throw-away namespace and checks that
  * a Deployment with 2 replicas becomes Available,
  * a DaemonSet gets one Ready pod on each of the N simulated nodes,
  * `helm install --wait` of a tiny chart (written to a temporary dir) succeeds,
  * a CRD with a CEL validation rule, applied server-side, rejects a bad
    custom resource and accepts a good one,
  * a Service-backed admission webhook fails at once (no packet leaves the
    machine: the apiserver's cluster egress goes to a Unix socket),
then deletes what it made. Needs the `kubernetes` Python package.
Prints one line per check and "N passed, N failed" at the end; exit 1 on a failure.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException

TIMEOUT = 90


def wait(what, fn, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def labels(app):
    return {"app": app}


def pod_template(app):
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels(app)),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(
                    name="main",
                    image="registry.invalid/smoke/pause:1",
                    resources=client.V1ResourceRequirements(
                        requests={"cpu": "100m", "memory": "64Mi"}
                    ),
                )
            ]
        ),
    )


def check_deployment(apps, ns):
    apps.create_namespaced_deployment(
        ns,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1DeploymentSpec(
                replicas=2,
                selector=client.V1LabelSelector(match_labels=labels("web")),
                template=pod_template("web"),
            ),
        ),
    )

    def available():
        d = apps.read_namespaced_deployment_status("web", ns)
        conds = {c.type: c.status for c in (d.status.conditions or [])}
        return (
            conds.get("Available") == "True" and d.status.available_replicas == 2 and d
        )

    d = wait("Deployment web Available", available)
    return f"Deployment web Available with {d.status.available_replicas}/2 replicas"


def check_daemonset(apps, core, ns, nodes):
    apps.create_namespaced_daemon_set(
        ns,
        client.V1DaemonSet(
            metadata=client.V1ObjectMeta(name="agent"),
            spec=client.V1DaemonSetSpec(
                selector=client.V1LabelSelector(match_labels=labels("agent")),
                template=pod_template("agent"),
            ),
        ),
    )

    def ready():
        s = apps.read_namespaced_daemon_set_status("agent", ns).status
        return s.desired_number_scheduled == nodes and s.number_ready == nodes and s

    wait(f"DaemonSet agent with {nodes} ready pods", ready)
    pods = core.list_namespaced_pod(ns, label_selector="app=agent").items
    placed = sorted(p.spec.node_name for p in pods if p.status.phase == "Running")
    zones = {
        n.metadata.name: n.metadata.labels.get("topology.kubernetes.io/zone")
        for n in core.list_node(label_selector="type=kwok").items
    }
    assert len(set(placed)) == nodes, f"pods not spread over {nodes} nodes: {placed}"
    where = ", ".join(f"{n} ({zones.get(n)})" for n in placed)
    return f"DaemonSet agent has {nodes} ready pods on {where}"


CHART = {
    "Chart.yaml": 'apiVersion: v2\nname: smoke\nversion: 0.1.0\nappVersion: "1"\n',
    "values.yaml": "replicas: 2\n",
    "templates/deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      containers:
      - name: main
        image: registry.invalid/smoke/pause:1
""",
    "templates/service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector: {app: {{ .Release.Name }}}
  ports:
  - port: 80
""",
    "templates/configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  greeting: hello
""",
}


def check_helm(helm, kubeconfig, ns):
    chart_dir = tempfile.mkdtemp(prefix="local-kube-chart-")
    try:
        for rel, text in CHART.items():
            path = os.path.join(chart_dir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        env = dict(
            os.environ,
            KUBECONFIG=kubeconfig,
            HELM_CACHE_HOME=os.path.join(chart_dir, ".cache"),
            HELM_CONFIG_HOME=os.path.join(chart_dir, ".config"),
            HELM_DATA_HOME=os.path.join(chart_dir, ".data"),
        )
        start = time.monotonic()
        out = subprocess.run(
            [
                helm,
                "install",
                "smoke",
                chart_dir,
                "--namespace",
                ns,
                "--wait",
                "--timeout",
                f"{TIMEOUT}s",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, f"helm install failed: {out.stderr.strip()}"
        status = subprocess.run(
            [helm, "status", "smoke", "--namespace", ns, "-o", "json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert '"status":"deployed"' in status.replace(" ", ""), status
        return f"helm install --wait of a local chart: deployed in {time.monotonic() - start:.1f}s"
    finally:
        shutil.rmtree(chart_dir, ignore_errors=True)


CRD_GROUP = "smoke.local-kube.test"


def crd_manifest():
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"scalers.{CRD_GROUP}"},
        "spec": {
            "group": CRD_GROUP,
            "scope": "Namespaced",
            "names": {"plural": "scalers", "singular": "scaler", "kind": "Scaler"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["minReplicas", "maxReplicas"],
                                    "properties": {
                                        "minReplicas": {"type": "integer"},
                                        "maxReplicas": {"type": "integer"},
                                    },
                                    "x-kubernetes-validations": [
                                        {
                                            "rule": "self.minReplicas <= self.maxReplicas",
                                            "message": "minReplicas must not exceed maxReplicas",
                                        }
                                    ],
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


def scaler(name, lo, hi):
    return {
        "apiVersion": f"{CRD_GROUP}/v1",
        "kind": "Scaler",
        "metadata": {"name": name},
        "spec": {"minReplicas": lo, "maxReplicas": hi},
    }


def check_crd(dyn, ns):
    crds = dyn.resources.get(
        api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
    )
    name = f"scalers.{CRD_GROUP}"
    crds.server_side_apply(
        body=crd_manifest(),
        name=name,
        field_manager="local-kube-smoke",
        force_conflicts=True,
    )

    def established():
        c = crds.get(name=name)
        return any(
            x["type"] == "Established" and x["status"] == "True"
            for x in (c.status.conditions or [])
        )

    wait("CRD Established", established)
    scalers = wait("Scaler in discovery", lambda: _find_scalers(dyn))
    scalers.server_side_apply(
        body=scaler("good", 1, 3),
        name="good",
        namespace=ns,
        field_manager="local-kube-smoke",
    )
    try:
        scalers.server_side_apply(
            body=scaler("bad", 5, 2),
            name="bad",
            namespace=ns,
            field_manager="local-kube-smoke",
        )
    except ApiException as e:
        assert (
            e.status == 422 and "minReplicas must not exceed maxReplicas" in e.body
        ), e.body
        return "CRD with a CEL rule (server-side apply): good Scaler accepted, bad one rejected with 422"
    raise AssertionError("the bad Scaler was accepted")


def _find_scalers(dyn):
    try:
        dyn.resources.invalidate_cache()
        return dyn.resources.get(api_version=f"{CRD_GROUP}/v1", kind="Scaler")
    except Exception:  # discovery lags behind Established for a moment
        return None


def check_webhook(adm, core, ns):
    name = f"smoke-{ns}"
    hook = client.V1ValidatingWebhookConfiguration(
        metadata=client.V1ObjectMeta(name=name),
        webhooks=[
            client.V1ValidatingWebhook(
                name="deny.smoke.local-kube.test",
                admission_review_versions=["v1"],
                side_effects="None",
                failure_policy="Fail",
                timeout_seconds=10,
                namespace_selector=client.V1LabelSelector(
                    match_labels={"kubernetes.io/metadata.name": ns}
                ),
                rules=[
                    client.V1RuleWithOperations(
                        api_groups=[""],
                        api_versions=["v1"],
                        operations=["CREATE"],
                        resources=["configmaps"],
                    )
                ],
                client_config=client.AdmissionregistrationV1WebhookClientConfig(
                    service=client.AdmissionregistrationV1ServiceReference(
                        namespace=ns, name="nowhere", port=443
                    )
                ),
            )
        ],
    )
    # A Service with no server behind it: the apiserver resolves it to its
    # ClusterIP and dials through the cluster egress.
    core.create_namespaced_service(
        ns,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="nowhere"),
            spec=client.V1ServiceSpec(
                selector={"app": "nowhere"}, ports=[client.V1ServicePort(port=443)]
            ),
        ),
    )
    adm.create_validating_webhook_configuration(hook)
    try:
        cm = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="probe"), data={"a": "b"}
        )
        deadline = time.monotonic() + TIMEOUT
        while True:
            start = time.monotonic()
            try:
                core.create_namespaced_config_map(ns, cm)
            except ApiException as e:
                took = time.monotonic() - start
                if "failed calling webhook" in e.body:
                    assert took < 5, f"webhook call took {took:.1f}s"
                    assert (
                        "cluster-egress.sock" in e.body or "no such file" in e.body
                    ), e.body
                    return f"Service-backed webhook fails in {took:.2f}s through the egress socket"
                raise
            # The webhook configuration is picked up asynchronously.
            core.delete_namespaced_config_map("probe", ns)
            if time.monotonic() > deadline:
                raise AssertionError("the webhook was never called")
            time.sleep(0.3)
    finally:
        adm.delete_validating_webhook_configuration(name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    parser.add_argument(
        "--helm", default=os.path.join(os.environ.get("LOCAL_KUBE_BIN_DIR", ""), "helm")
    )
    parser.add_argument("--nodes", type=int, default=3)
    args = parser.parse_args()
    if not args.kubeconfig:
        parser.error("set KUBECONFIG or pass --kubeconfig")

    config.load_kube_config(config_file=args.kubeconfig)
    api = client.ApiClient()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    adm = client.AdmissionregistrationV1Api(api)
    dyn = dynamic.DynamicClient(api)
    ns = f"smoke-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    # Pods need the namespace's default service account.
    wait("default service account", lambda: _has_sa(core, ns))

    checks = [
        ("deployment", lambda: check_deployment(apps, ns)),
        ("daemonset", lambda: check_daemonset(apps, core, ns, args.nodes)),
        ("helm", lambda: check_helm(args.helm, args.kubeconfig, ns)),
        ("crd-cel", lambda: check_crd(dyn, ns)),
        ("webhook-egress", lambda: check_webhook(adm, core, ns)),
    ]
    passed = failed = 0
    try:
        for name, fn in checks:
            start = time.monotonic()
            try:
                msg = fn()
                passed += 1
                print(
                    f"PASS {name}: {msg} [{time.monotonic() - start:.1f}s]", flush=True
                )
            except Exception as e:  # report every check, then fail
                failed += 1
                print(f"FAIL {name}: {e}", flush=True)
    finally:
        core.delete_namespace(ns)
        try:
            client.ApiextensionsV1Api(api).delete_custom_resource_definition(
                f"scalers.{CRD_GROUP}"
            )
        except ApiException:
            pass
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def _has_sa(core, ns):
    try:
        return core.read_namespaced_service_account("default", ns)
    except ApiException:
        return None


if __name__ == "__main__":
    sys.exit(main())
