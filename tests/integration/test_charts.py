"""The test charts (tests/charts) and the upstream CRDs (tests/crds) on a real control plane.

One local control plane for the module: ``scripts/local.sh up STATE`` with
``HONEYHIVE_LOCAL_KUBE=1`` starts it (tools/local-kube: etcd, kube-apiserver, controller
manager, scheduler, kwok nodes), exports the CRDs at the pinned versions into STATE/crds and
packages the charts into STATE/charts (HONEYHIVE_CHART_DIR); ``scripts/local.sh down STATE``
stops it by PID.

* every package is at the version and app version of group_vars/all/versions.yml;
* ``helm lint --strict`` and ``helm template`` with the values the roles pass; a missing
  required value fails with its message; no chart renders a webhook or an APIService;
* the CRDs of ``crds: explicit`` charts are applied server-side (as roles/helm_release does)
  and the releases installed with real helm; every Deployment becomes Available on the kwok
  nodes the roles select (``role: system``);
* the exported CRDs judge objects: valid NodePool, EC2NodeClass, Application,
  ClusterSecretStore, ... are accepted (server-side dry run), invalid ones are rejected with
  the API server's message (schema, CEL rules, unknown fields).

Skipped, with the reason, only when Go is missing or the control plane cannot be built.
Run: ``.venv/bin/pytest tests/integration/test_charts.py``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LOCAL_SH = ROOT / "scripts" / "local.sh"
BUILD_SH = ROOT / "tools" / "local-kube" / "build.sh"
sys.path.insert(0, str(ROOT / "tests" / "charts"))
import catalogue  # noqa: E402  (tests/charts/catalogue.py, the reader of versions.yml)

pytestmark = pytest.mark.kube

CLUSTER = "hh-test-usw2"
SYSTEM = {"role": "system"}

# What the karpenter and addons roles pass to each chart (roles/*/vars/main.yml), plus a few
# values upstream defaults that the roles may set.
RELEASES = {
    "karpenter": {
        "release": "karpenter",
        "namespace": "kube-system",
        "values": {
            "settings": {
                "clusterName": CLUSTER,
                "clusterEndpoint": "https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com",
                "interruptionQueue": f"{CLUSTER}-karpenter",
            },
            "serviceAccount": {"create": True, "name": "karpenter",
                               "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/hh-karpenter"}},
            "replicas": 2,
            "nodeSelector": SYSTEM,
            "dnsPolicy": "Default",
            "controller": {"resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}}},
            "podDisruptionBudget": {"name": "karpenter", "maxUnavailable": 1},
        },
    },
    "metrics-server": {
        "release": "metrics-server",
        "namespace": "kube-system",
        "values": {"replicas": 2, "nodeSelector": SYSTEM, "args": ["--kubelet-insecure-tls"]},
    },
    "aws-load-balancer-controller": {
        "release": "aws-load-balancer-controller",
        "namespace": "kube-system",
        "values": {
            "clusterName": CLUSTER,
            "region": "us-west-2",
            "vpcId": "vpc-0123456789abcdef0",
            "replicaCount": 2,
            "serviceAccount": {"create": True, "name": "aws-load-balancer-controller", "annotations": {}},
            "createIngressClassResource": True,
            "ingressClass": "alb",
            "ingressClassParams": {"create": True, "spec": {"scheme": "internal", "group": {"name": "honeyhive"}}},
            "enableServiceMutatorWebhook": False,
            "nodeSelector": SYSTEM,
        },
    },
    "external-secrets": {
        "release": "external-secrets",
        "namespace": "external-secrets",
        "values": {
            "installCRDs": True,
            "replicaCount": 2,
            "serviceAccount": {"create": True, "name": "external-secrets", "annotations": {}},
            "webhook": {"create": True},
            "certController": {"create": True},
            "nodeSelector": SYSTEM,
            "global": {"nodeSelector": SYSTEM},
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
        },
    },
    "argo-cd": {
        "release": "argocd",
        "namespace": "argocd",
        "values": {
            "crds": {"install": True, "keep": True},
            "global": {"domain": "argocd.hh.internal", "nodeSelector": SYSTEM},
            "server": {"replicas": 2},
            "repoServer": {"replicas": 2},
            "controller": {"replicas": 1},
            "configs": {
                "params": {"application.namespaces": "", "server.insecure": True},
                "cm": {"admin.enabled": False},
                "repositories": {"honeyhive": {"url": "https://charts.honeyhive.test", "type": "helm", "name": "honeyhive"}},
            },
        },
    },
}

# Objects each chart must create for the release above: (kind, name).
EXPECTED = {
    "karpenter": [("ServiceAccount", "karpenter"), ("Deployment", "karpenter"), ("PodDisruptionBudget", "karpenter"),
                  ("ClusterRole", "karpenter"), ("ClusterRoleBinding", "karpenter"), ("Service", "karpenter")],
    "metrics-server": [("Deployment", "metrics-server"), ("ServiceAccount", "metrics-server"),
                       ("ClusterRole", "system:metrics-server"), ("ClusterRoleBinding", "system:metrics-server"),
                       ("Service", "metrics-server")],
    "aws-load-balancer-controller": [("Deployment", "aws-load-balancer-controller"),
                                     ("ServiceAccount", "aws-load-balancer-controller"),
                                     ("ClusterRole", "aws-load-balancer-controller-role"),
                                     ("ClusterRoleBinding", "aws-load-balancer-controller-rolebinding"),
                                     ("Service", "aws-load-balancer-webhook-service"), ("IngressClass", "alb"),
                                     ("IngressClassParams", "alb")],
    "external-secrets": [("Deployment", "external-secrets"), ("ServiceAccount", "external-secrets"),
                         ("ClusterRole", "external-secrets-controller"),
                         ("ClusterRoleBinding", "external-secrets-controller"),
                         ("Deployment", "external-secrets-webhook"), ("Deployment", "external-secrets-cert-controller"),
                         ("CustomResourceDefinition", "clustersecretstores.external-secrets.io")],
    "argo-cd": [("Deployment", "argocd-server"), ("Deployment", "argocd-repo-server"), ("Deployment", "argocd-redis"),
                ("StatefulSet", "argocd-application-controller"), ("ConfigMap", "argocd-cm"),
                ("ConfigMap", "argocd-cmd-params-cm"), ("ServiceAccount", "argocd-server"),
                ("Service", "argocd-server"), ("Secret", "argocd-repo-honeyhive"),
                ("CustomResourceDefinition", "applications.argoproj.io")],
}
# Kinds no stand-in may render: the local API server cannot reach a webhook or an aggregated API.
FORBIDDEN_KINDS = {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService"}
# libyaml's loader: the CRDs are megabytes of YAML (the pure-Python loader takes ten times longer).
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_all(text: str) -> list:
    return [doc for doc in yaml.load_all(text, Loader=LOADER) if doc]


LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
          "app.kubernetes.io/managed-by")


# --- the control plane ---------------------------------------------------------------------------

def read_env_file(path: Path) -> dict:
    out = subprocess.run(["bash", "-c", 'set -a; . "$1"; env -0', "read_env_file", str(path)],
                         check=True, capture_output=True, env=dict(os.environ))
    return dict(e.split("=", 1) for e in out.stdout.decode().split("\0") if "=" in e)


class Kube:
    """Plain REST calls with the kubeconfig's credentials (the responses stay JSON)."""

    def __init__(self, kubeconfig: Path):
        from kubernetes import config as kube_config

        self.client = kube_config.new_client_from_config(config_file=str(kubeconfig))
        self.host = self.client.configuration.host.rstrip("/")
        self.pool = self.client.rest_client.pool_manager

    def request(self, method: str, path: str, body=None, content_type: str = "application/json", **query):
        url = self.host + path + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = {"Accept": "application/json", "Content-Type": content_type}
        token = self.client.configuration.api_key.get("authorization")
        if token:
            headers["Authorization"] = token
        answer = self.pool.request(method, url, body=None if body is None else json.dumps(body),
                                   headers=headers, timeout=60)
        try:
            data = json.loads(answer.data) if answer.data else {}
        except ValueError:  # "404 page not found" for an API version nobody serves
            data = {"message": answer.data.decode(errors="replace").strip()}
        return answer.status, data

    def get(self, path: str, **query) -> dict:
        status, data = self.request("GET", path, **query)
        assert status == 200, f"GET {path}: {status} {data.get('message')}"
        return data

    def apply(self, obj: dict, path: str) -> None:
        """Server-side apply (force), as roles/helm_release applies explicit CRDs."""
        status, data = self.request("PATCH", path, body=obj, content_type="application/apply-patch+yaml",
                                    fieldManager="honeyhive-platform-tests", force="true")
        assert status in (200, 201), f"apply {path}: {status} {data.get('message')}"

    def dry_run_create(self, obj: dict) -> tuple[int, str]:
        """Create ``obj`` with dryRun=All and fieldValidation=Strict: (status, message)."""
        group_version = obj["apiVersion"]
        plural = PLURALS[obj["kind"]]
        namespace = obj["metadata"].get("namespace")
        prefix = f"/apis/{group_version}" if "/" in group_version else f"/api/{group_version}"
        path = f"{prefix}/namespaces/{namespace}/{plural}" if namespace else f"{prefix}/{plural}"
        status, data = self.request("POST", path, body=obj, dryRun="All", fieldValidation="Strict")
        return status, data.get("message", "")


PLURALS = {"NodePool": "nodepools", "EC2NodeClass": "ec2nodeclasses", "NodeClaim": "nodeclaims",
           "Application": "applications", "AppProject": "appprojects", "ApplicationSet": "applicationsets",
           "ClusterSecretStore": "clustersecretstores", "ExternalSecret": "externalsecrets",
           "IngressClassParams": "ingressclassparams", "TargetGroupBinding": "targetgroupbindings"}


@dataclass
class Cluster:
    state: Path
    env: dict
    kube: Kube

    @property
    def charts(self) -> Path:
        return Path(self.env["HONEYHIVE_CHART_DIR"])

    @property
    def crds(self) -> Path:
        return Path(self.env["HONEYHIVE_CRD_DIR"])

    def package(self, chart: str) -> Path:
        version = catalogue.load()["platform_charts"][chart]["version"]
        return self.charts / f"{chart}-{version}.tgz"

    def helm(self, *args: str, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
        env = dict(self.env, KUBECONFIG=self.env["HONEYHIVE_LOCAL_KUBECONFIG"])
        out = subprocess.run(["helm", *args], env=env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert out.returncode == 0, f"helm {' '.join(args)}:\n{out.stdout}\n{out.stderr}"
        return out


def _skip(reason: str) -> None:
    # Printed as well as reported by -ra: a skip here is a gap in the coverage, never a pass.
    print(f"\nSKIPPED test_charts: {reason}", file=sys.stderr)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if shutil.which("go") is None:
        _skip("the Go toolchain (go) is not installed: the CRDs and the control plane come from Go modules")
    build = subprocess.run([str(BUILD_SH)], capture_output=True, text=True)
    if build.returncode != 0:
        _skip("the local control plane could not be built (tools/local-kube/build.sh):\n" + build.stderr[-2000:])

    state = tmp_path_factory.mktemp("charts")
    env = dict(os.environ, VENV=str(ROOT / ".venv"), HONEYHIVE_LOCAL_KUBE="1")
    env.pop("KUBECONFIG", None)  # always a cluster of our own, never the user's
    for key in [k for k in env if k.startswith("HONEYHIVE_FAULT")]:
        env.pop(key)
    started = time.monotonic()
    up = subprocess.run([str(LOCAL_SH), "up", str(state)], env=env, capture_output=True, text=True)
    try:
        if up.returncode != 0:
            logs = "".join(f"\n--- {p.name}\n{p.read_text()[-3000:]}"
                           for p in (state / "logs").glob("*.log") if p.name in ("local-kube.log", "charts.log"))
            pytest.fail(f"local.sh up failed:\n{up.stdout}\n{up.stderr}{logs}")
        print(f"\ncontrol plane, CRDs and charts ready in {time.monotonic() - started:.1f}s", file=sys.stderr)
        cluster_env = read_env_file(state / "env")
        yield Cluster(state=state, env=cluster_env, kube=Kube(Path(cluster_env["HONEYHIVE_LOCAL_KUBECONFIG"])))
    finally:
        subprocess.run([str(LOCAL_SH), "down", str(state)], env=env, capture_output=True, text=True)


def values_file(tmp_path: Path, chart: str, overrides: dict | None = None) -> Path:
    values = json.loads(json.dumps(RELEASES[chart]["values"]))
    for key, value in (overrides or {}).items():
        target = values
        *parents, last = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
    path = tmp_path / f"{chart}-values.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def render(cluster: Cluster, tmp_path: Path, chart: str, overrides: dict | None = None) -> list[dict]:
    spec = RELEASES[chart]
    out = cluster.helm("template", spec["release"], str(cluster.package(chart)), "-n", spec["namespace"],
                       "-f", str(values_file(tmp_path, chart, overrides)))
    return load_all(out.stdout)


# --- packages, lint, templates ---------------------------------------------------------------------

def test_packages_carry_the_pinned_versions(cluster):
    for name, entry in catalogue.load()["platform_charts"].items():
        package = cluster.package(name)
        assert package.is_file(), f"{package.name} missing from {cluster.charts}"
        chart = yaml.safe_load(cluster.helm("show", "chart", str(package)).stdout)
        assert (chart["name"], chart["version"], chart["appVersion"]) == (name, entry["version"], entry["app_version"])


def test_exported_crds(cluster):
    names = {chart: sorted(p.name for p in (cluster.crds / chart).glob("*.yaml")) for chart in RELEASES
             if (cluster.crds / chart).is_dir()}
    assert {"karpenter.sh_nodepools.yaml", "karpenter.sh_nodeclaims.yaml",
            "karpenter.k8s.aws_ec2nodeclasses.yaml"} <= set(names["karpenter"])
    assert names["argo-cd"] == ["application-crd.yaml", "applicationset-crd.yaml", "appproject-crd.yaml"]
    assert {"external-secrets.io_clustersecretstores.yaml", "external-secrets.io_externalsecrets.yaml",
            "external-secrets.io_secretstores.yaml", "external-secrets.io_pushsecrets.yaml",
            "external-secrets.io_clusterexternalsecrets.yaml"} <= set(names["external-secrets"])
    assert names["aws-load-balancer-controller"] == ["elbv2.k8s.aws_ingressclassparams.yaml",
                                                     "elbv2.k8s.aws_targetgroupbindings.yaml"]
    for chart, files in names.items():
        for name in files:
            docs = load_all((cluster.crds / chart / name).read_text())
            assert [d["kind"] for d in docs] == ["CustomResourceDefinition"], f"{chart}/{name}"
    # `helm show crds` (what roles/helm_release applies for `crds: explicit`) joins the files of
    # crds/ without a separator: every CRD must still come out as a document of its own.
    for chart, entry in catalogue.load()["platform_charts"].items():
        if entry["crds"] != "explicit":
            continue
        shown = load_all(cluster.helm("show", "crds", str(cluster.package(chart))).stdout)
        exported = sorted(load_all(p.read_text())[0]["metadata"]["name"] for p in (cluster.crds / chart).glob("*.yaml"))
        assert sorted(d["metadata"]["name"] for d in shown) == exported, chart


@pytest.mark.parametrize("chart", sorted(RELEASES))
def test_lint_strict(cluster, tmp_path, chart):
    out = cluster.helm("lint", "--strict", str(cluster.package(chart)), "-f", str(values_file(tmp_path, chart)),
                       check=False)
    assert out.returncode == 0 and "0 chart(s) failed" in out.stdout, out.stdout + out.stderr


@pytest.mark.parametrize("chart", sorted(RELEASES))
def test_template_renders_the_upstream_objects(cluster, tmp_path, chart):
    docs = render(cluster, tmp_path, chart)
    kinds_names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    missing = [o for o in EXPECTED[chart] if o not in kinds_names]
    assert not missing, f"{chart}: missing {missing}; rendered {sorted(kinds_names)}"
    assert not {d["kind"] for d in docs} & FORBIDDEN_KINDS
    app_version = catalogue.load()["platform_charts"][chart]["app_version"]
    for doc in docs:
        if doc["kind"] == "CustomResourceDefinition":
            continue
        labels = doc["metadata"].get("labels") or {}
        assert all(labels.get(k) for k in LABELS), f"{chart}: {doc['kind']}/{doc['metadata']['name']} labels {labels}"
        assert labels["app.kubernetes.io/version"] == app_version
        assert labels["app.kubernetes.io/instance"] == RELEASES[chart]["release"]
        if doc["kind"] in ("Deployment", "StatefulSet"):
            assert doc["spec"]["template"]["spec"]["nodeSelector"]["role"] == "system", doc["metadata"]["name"]


def _deployment(docs: list[dict], name: str) -> dict:
    return next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def test_karpenter_settings_become_the_controller_environment(cluster, tmp_path):
    docs = render(cluster, tmp_path, "karpenter")
    deployment = _deployment(docs, "karpenter")
    pod = deployment["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    settings = RELEASES["karpenter"]["values"]["settings"]
    assert env["CLUSTER_NAME"] == settings["clusterName"]
    assert env["CLUSTER_ENDPOINT"] == settings["clusterEndpoint"]
    assert env["INTERRUPTION_QUEUE"] == settings["interruptionQueue"]
    assert deployment["spec"]["replicas"] == 2 and pod["dnsPolicy"] == "Default"
    assert pod["containers"][0]["resources"]["limits"]["memory"] == "256Mi"
    account = next(d for d in docs if d["kind"] == "ServiceAccount")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith("role/hh-karpenter")
    anti = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert anti["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] == "karpenter"
    # Without an interruption queue there is no INTERRUPTION_QUEUE (interruption handling off).
    docs = render(cluster, tmp_path, "karpenter", {"settings.interruptionQueue": ""})
    names = [e["name"] for e in _deployment(docs, "karpenter")["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert "INTERRUPTION_QUEUE" not in names


def test_crds_follow_the_install_switches(cluster, tmp_path):
    def crds(chart, overrides):
        return [d for d in render(cluster, tmp_path, chart, overrides) if d["kind"] == "CustomResourceDefinition"]

    argo = crds("argo-cd", {})
    assert sorted(d["metadata"]["name"] for d in argo) == [
        "applications.argoproj.io", "applicationsets.argoproj.io", "appprojects.argoproj.io"]
    assert all(d["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep" for d in argo)
    assert all("helm.sh/resource-policy" not in (d["metadata"].get("annotations") or {})
               for d in crds("argo-cd", {"crds.keep": False}))
    assert crds("argo-cd", {"crds.install": False}) == []
    assert len(crds("external-secrets", {})) == len(list((cluster.crds / "external-secrets").glob("*.yaml")))
    assert crds("external-secrets", {"installCRDs": False}) == []


def test_ingress_class_only_when_asked(cluster, tmp_path):
    docs = render(cluster, tmp_path, "aws-load-balancer-controller", {"createIngressClassResource": False})
    assert "IngressClass" not in {d["kind"] for d in docs}
    args = _deployment(docs, "aws-load-balancer-controller")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert {f"--cluster-name={CLUSTER}", "--aws-region=us-west-2", "--aws-vpc-id=vpc-0123456789abcdef0",
            "--ingress-class=alb"} <= set(args)
    ingress_class = next(d for d in render(cluster, tmp_path, "aws-load-balancer-controller") if d["kind"] == "IngressClass")
    assert ingress_class["spec"]["controller"] == "ingress.k8s.aws/alb"


def test_argocd_configuration(cluster, tmp_path):
    docs = render(cluster, tmp_path, "argo-cd")
    config = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d["kind"] == "ConfigMap"}
    assert config["argocd-cm"]["url"] == "https://argocd.hh.internal"
    assert config["argocd-cm"]["admin.enabled"] == "false"
    assert config["argocd-cmd-params-cm"]["server.insecure"] == "true"
    assert config["argocd-cmd-params-cm"]["application.namespaces"] == ""
    assert _deployment(docs, "argocd-server")["spec"]["replicas"] == 2
    assert _deployment(docs, "argocd-repo-server")["spec"]["replicas"] == 2


@pytest.mark.parametrize("chart,overrides,message", [
    ("karpenter", {"settings.clusterName": ""}, "settings.clusterName is required"),
    ("aws-load-balancer-controller", {"clusterName": ""}, "clusterName is required"),
])
def test_required_values(cluster, tmp_path, chart, overrides, message):
    spec = RELEASES[chart]
    out = cluster.helm("template", spec["release"], str(cluster.package(chart)), "-n", spec["namespace"],
                       "-f", str(values_file(tmp_path, chart, overrides)), check=False)
    assert out.returncode != 0 and message in out.stderr, out.stderr


# --- install on the control plane ------------------------------------------------------------------

@pytest.fixture(scope="module")
def releases(cluster, tmp_path_factory):
    """Every chart installed the way roles/helm_release installs it; returns install times."""
    charts = catalogue.load()["platform_charts"]
    work = tmp_path_factory.mktemp("values")
    timings = {}
    for chart in ("karpenter", "metrics-server", "aws-load-balancer-controller", "external-secrets", "argo-cd"):
        spec = RELEASES[chart]
        started = time.monotonic()
        args = []
        if charts[chart]["crds"] == "explicit":
            crds = load_all(cluster.helm("show", "crds", str(cluster.package(chart))).stdout)
            assert crds, f"{chart}: the package has no CRDs"
            for crd in crds:
                cluster.kube.apply(crd, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}")
            for crd in crds:
                wait_established(cluster.kube, crd["metadata"]["name"])
            args.append("--skip-crds")
        out = cluster.helm("upgrade", "--install", spec["release"], str(cluster.package(chart)), "-n", spec["namespace"],
                           "--create-namespace", "-f", str(values_file(work, chart)), "--wait", "--timeout", "180s", *args,
                           check=False)
        assert out.returncode == 0, f"helm install {chart}:\n{out.stdout}\n{out.stderr}\n{diagnose(cluster, spec['namespace'])}"
        timings[chart] = round(time.monotonic() - started, 1)
    print(f"\nhelm install times (s): {timings}", file=sys.stderr)
    return timings


def diagnose(cluster: Cluster, namespace: str) -> str:
    """Pods, nodes and recent events, for a failure message."""
    lines = []
    for pod in cluster.kube.get(f"/api/v1/namespaces/{namespace}/pods")["items"]:
        conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions") or []}
        lines.append(f"pod {pod['metadata']['name']}: {pod['status'].get('phase')} on {pod['spec'].get('nodeName')} {conditions}")
    for node in cluster.kube.get("/api/v1/nodes")["items"]:
        conditions = {c["type"]: c["status"] for c in node["status"].get("conditions") or []}
        lines.append(f"node {node['metadata']['name']}: Ready={conditions.get('Ready')} taints={node['spec'].get('taints')}")
    events = cluster.kube.get(f"/api/v1/namespaces/{namespace}/events")["items"][-15:]
    lines += [f"event {e['involvedObject']['kind']}/{e['involvedObject']['name']}: {e['reason']} {e.get('message', '')}"
              for e in events]
    return "\n".join(lines)


def wait_established(kube: Kube, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        crd = kube.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        conditions = {c["type"]: c["status"] for c in (crd.get("status") or {}).get("conditions") or []}
        if conditions.get("Established") == "True":
            return
        assert time.monotonic() < deadline, f"CRD {name} not Established: {conditions}"
        time.sleep(0.2)


def test_every_exported_crd_is_established(cluster, releases):
    for path in sorted(cluster.crds.glob("*/*.yaml")):
        for crd in load_all(path.read_text()):
            wait_established(cluster.kube, crd["metadata"]["name"], timeout=10)


def workload_problems(cluster: Cluster) -> list[str]:
    """Why each release's Deployments and StatefulSets are not (yet) all ready: [] when they are."""
    problems = []
    for chart, spec in RELEASES.items():
        namespace, selector = spec["namespace"], f"app.kubernetes.io/instance={spec['release']}"
        workloads = [("Deployment", d) for d in cluster.kube.get(
            f"/apis/apps/v1/namespaces/{namespace}/deployments", labelSelector=selector)["items"]]
        workloads += [("StatefulSet", s) for s in cluster.kube.get(
            f"/apis/apps/v1/namespaces/{namespace}/statefulsets", labelSelector=selector)["items"]]
        if not workloads:
            problems.append(f"{chart}: no Deployment or StatefulSet")
        for kind, workload in workloads:
            name, status = workload["metadata"]["name"], workload["status"]
            conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
            if kind == "Deployment" and conditions.get("Available") != "True":
                problems.append(f"{chart}: Deployment {name} not Available: {status}")
            elif status.get("readyReplicas", 0) != workload["spec"]["replicas"]:
                problems.append(f"{chart}: {kind} {name} not ready: {status}")
    return problems


def test_deployments_become_available_on_the_system_nodes(cluster, releases):
    # helm --wait returned once each Deployment had its minimum of ready pods; give the rest
    # (and the controller manager's status updates) a moment on a busy machine.
    deadline = time.monotonic() + 90
    while (problems := workload_problems(cluster)) and time.monotonic() < deadline:
        time.sleep(1)
    nodes = cluster.kube.get("/api/v1/nodes")["items"]
    node_state = {n["metadata"]["name"]: ({c["type"]: c["status"] for c in n["status"].get("conditions") or []},
                                          n["spec"].get("taints", [])) for n in nodes}
    assert not problems, "\n".join(problems) + f"\nnodes: {node_state}\n" + "\n".join(
        diagnose(cluster, ns) for ns in sorted({spec["namespace"] for spec in RELEASES.values()}))
    labels = {n["metadata"]["name"]: n["metadata"]["labels"] for n in nodes}
    for chart, spec in RELEASES.items():
        pods = cluster.kube.get(f"/api/v1/namespaces/{spec['namespace']}/pods",
                                labelSelector=f"app.kubernetes.io/instance={spec['release']}")["items"]
        assert pods, chart
        for pod in pods:
            assert labels[pod["spec"]["nodeName"]].get("role") == "system", pod["metadata"]["name"]


def test_no_webhook_or_apiservice_was_installed(cluster, releases):
    for path in ("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
                 "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"):
        assert cluster.kube.get(path)["items"] == []
    services = [a["metadata"]["name"] for a in cluster.kube.get("/apis/apiregistration.k8s.io/v1/apiservices")["items"]
                if a["spec"].get("service")]
    assert services == []


# --- the CRDs judge objects ------------------------------------------------------------------------

NODEPOOL = {
    "apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "default"},
    "spec": {
        "template": {"spec": {
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
            "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand", "spot"]},
                             {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}],
            "expireAfter": "720h",
        }},
        "limits": {"cpu": "1000", "memory": "1000Gi"},
        "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"},
    },
}
EC2NODECLASS = {
    "apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": "default"},
    "spec": {
        "role": "hh-test-usw2-karpenter-node",
        "amiSelectorTerms": [{"alias": "al2023@latest"}],
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": CLUSTER}}],
        "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": CLUSTER}}],
        "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda",
                                 "ebs": {"volumeSize": "50Gi", "volumeType": "gp3", "encrypted": True}}],
    },
}
APPLICATION = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "honeyhive-api", "namespace": "argocd"},
    "spec": {
        "project": "default",
        "source": {"repoURL": "https://charts.honeyhive.test", "chart": "api", "targetRevision": "1.0.0",
                   "helm": {"releaseName": "honeyhive-api", "valuesObject": {"replicaCount": 2}}},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "honeyhive"},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["ServerSideApply=true"]},
    },
}
SECRET_STORE = {
    "apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore", "metadata": {"name": "aws-secrets-manager"},
    "spec": {"provider": {"aws": {"service": "SecretsManager", "region": "us-west-2"}},
             "conditions": [{"namespaces": ["honeyhive"]}]},
}
TARGET_GROUP_BINDING = {
    "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding", "metadata": {"name": "api", "namespace": "default"},
    "spec": {"serviceRef": {"name": "api", "port": 80}, "targetType": "ip",
             "targetGroupARN": "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/api/0123456789abcdef"},
}


def changed(obj: dict, path: str, value=None, delete: bool = False) -> dict:
    """A deep copy of ``obj`` with the dotted ``path`` set to ``value`` (or deleted)."""
    copy = json.loads(json.dumps(obj))
    target = copy
    *parents, last = path.split(".")
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if delete:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return copy


JUDGEMENTS = [
    # (id, object, expected status, a piece of the API server's message)
    ("nodepool", NODEPOOL, 201, ""),
    ("nodepool-unknown-field", changed(NODEPOOL, "spec.template.spec.bogusField", 1), 400,
     'unknown field "spec.template.spec.bogusField"'),
    ("nodepool-restricted-label", changed(NODEPOOL, "spec.template.spec.requirements.0.key", "karpenter.sh/nodepool"), 422,
     'label "karpenter.sh/nodepool" is restricted'),
    ("nodepool-bad-policy", changed(NODEPOOL, "spec.disruption.consolidationPolicy", "Sometimes"), 422,
     'Unsupported value: "Sometimes"'),
    ("ec2nodeclass", EC2NODECLASS, 201, ""),
    ("ec2nodeclass-without-ami", changed(EC2NODECLASS, "spec.amiSelectorTerms", delete=True), 422,
     "spec.amiSelectorTerms: Required value"),
    ("ec2nodeclass-role-and-profile", changed(EC2NODECLASS, "spec.instanceProfile", "hh-profile"), 422,
     "must specify exactly one of ['role', 'instanceProfile']"),
    ("application", APPLICATION, 201, ""),
    ("application-without-destination", changed(APPLICATION, "spec.destination", delete=True), 422,
     "spec.destination: Required value"),
    ("application-wrong-type", changed(APPLICATION, "spec.syncPolicy.automated.prune", "yes"), 422,
     "spec.syncPolicy.automated.prune: Invalid value"),
    ("clustersecretstore", SECRET_STORE, 201, ""),
    ("clustersecretstore-bad-service", changed(SECRET_STORE, "spec.provider.aws.service", "KeyVault"), 422,
     'spec.provider.aws.service: Unsupported value: "KeyVault"'),
    ("clustersecretstore-unknown-field", changed(SECRET_STORE, "spec.provider.aws.bogus", True), 400,
     'unknown field "spec.provider.aws.bogus"'),
    ("targetgroupbinding", TARGET_GROUP_BINDING, 201, ""),
    ("targetgroupbinding-bad-type", changed(TARGET_GROUP_BINDING, "spec.targetType", "lambda"), 422,
     'spec.targetType: Unsupported value: "lambda"'),
]


@pytest.mark.parametrize("obj,status,message", [pytest.param(o, s, m, id=i) for i, o, s, m in JUDGEMENTS])
def test_crds_judge_objects(cluster, releases, obj, status, message):
    got, text = cluster.kube.dry_run_create(obj)
    assert got == status, f"{obj['kind']}: {got} {text}"
    assert message in text, text


def test_external_secrets_serves_only_v1(cluster, releases):
    """ESO 1.x stores v1 and no longer serves v1beta1: manifests must say external-secrets.io/v1."""
    status, text = cluster.kube.dry_run_create(changed(SECRET_STORE, "apiVersion", "external-secrets.io/v1beta1"))
    assert status == 404, text
