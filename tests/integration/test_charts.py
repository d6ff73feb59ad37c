"""The platform's upstream Helm charts, with the values the roles pass, on a real control plane.

The charts are the upstream ones at the versions of ``platform_charts``
(group_vars/all/versions.yml), from the chart mirror (``HONEYHIVE_CHART_MIRROR``) or else their
upstream repositories (tests/charts/mirror.py). The values are what the karpenter and addons
roles pass, rendered by ``scripts/render-manifests.sh`` for every inventory without any AWS or
Kubernetes call; the installs use the local inventory's (with its overrides for simulated pods).

* every package carries the pinned name, version and app version; its CRDs are where its
  catalogue entry says (``explicit``: crds/, ``templates``, ``none``); ``helm lint --strict``
  passes, with the roles' values for every inventory;
* ``helm template`` with those values renders the objects the platform relies on: every
  workload on the system nodes, the controllers' settings and arguments, the ingress class and
  its parameters, Argo CD's configuration; a missing required value fails with its message;
* the local inventory's chart values remove exactly what simulated pods cannot serve: the
  ``failurePolicy: Fail`` webhooks on the kinds the platform writes, the aggregated API and
  the Helm hook Job;
* on one local control plane (``scripts/local.sh up STATE`` with ``HONEYHIVE_LOCAL_KUBE=1``,
  stopped by PID): the CRDs of ``crds: explicit`` charts applied server-side and each release
  installed with real helm, as roles/helm_release does; every Deployment and StatefulSet
  becomes ready on the kwok nodes; Services, Ingresses and the secret store pass admission, and
  the webhooks that stay refuse what they guard;
* the charts' CRDs judge objects: valid NodePool, EC2NodeClass, Application,
  ClusterSecretStore and IngressClassParams are accepted (server-side dry run), invalid ones
  rejected with the API server's message.

A chart or a control plane that cannot be had fails the tests; nothing is skipped.
Run: ``.venv/bin/pytest tests/integration/test_charts.py``.
"""
from __future__ import annotations

import copy
import json
import os
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
import mirror  # noqa: E402  (tests/charts/mirror.py: the chart mirror or the upstream charts)

pytestmark = pytest.mark.kube

LOCAL = "local-us-west-2"  # the deployment of inventories/local
load_all = mirror.load_all
CATALOGUE = mirror.entries()
# Values a chart of a later phase needs before it renders at all (no role installs it yet).
REQUIRED = {"opentelemetry-collector": {"mode": "deployment", "image": {"repository": "otel/opentelemetry-collector-k8s"}}}
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")


# --- charts, helm and the values the roles pass -----------------------------------------------------

@pytest.fixture(scope="module")
def packages() -> dict:
    """Every chart of the catalogue: name -> its package at the pinned version."""
    try:
        return {name: mirror.package(name) for name in CATALOGUE}
    except mirror.ChartsUnavailable as err:
        pytest.fail(str(err))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    """deployment -> release name -> {release, namespace, chart, version, values, overrides, file}."""
    out = tmp_path_factory.mktemp("rendered")
    env = dict(os.environ, PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}")
    proc = subprocess.run([str(ROOT / "scripts" / "render-manifests.sh"), str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    releases = {}
    for path in sorted(out.glob("*/releases/*.yaml")):
        release = yaml.safe_load(path.read_text(encoding="utf-8"))
        release["file"] = path.with_suffix(".values.yaml")
        release["file"].write_text(yaml.safe_dump(release["values"]), encoding="utf-8")
        releases.setdefault(path.parts[-3], {})[release["release"]] = release
    assert LOCAL in releases, sorted(releases)
    return releases


def by_chart(rendered: dict, deployment: str = LOCAL) -> dict:
    return {release["chart"]: release for release in rendered[deployment].values()}


def run_helm(helm_bin: str, *args: str, check: bool = True, env: dict | None = None, timeout: int = 300):
    out = subprocess.run([helm_bin, *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert out.returncode == 0, f"helm {' '.join(args)}:\n{out.stdout}\n{out.stderr}"
    return out


def values_with(release: dict, tmp_path: Path, changes: dict | None = None, without: dict | None = None) -> Path:
    """A values file of ``release``: its values, ``changes`` set (dotted paths) and the key paths
    of ``without`` removed."""
    values = copy.deepcopy(release["values"])

    def remove(target: dict, spec: dict):
        for key, value in spec.items():
            if isinstance(value, dict) and value and isinstance(target.get(key), dict):
                remove(target[key], value)
                if not target[key]:
                    del target[key]
            else:
                target.pop(key, None)

    remove(values, without or {})
    for key, value in (changes or {}).items():
        target = values
        *parents, last = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
    path = tmp_path / f"{release['release']}-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def template(helm_bin: str, packages: dict, release: dict, values_file: Path | None = None, check: bool = True):
    out = run_helm(helm_bin, "template", release["release"], str(packages[release["chart"]]), "-n", release["namespace"],
                   "--kube-version", mirror.kube_version(), "-f", str(values_file or release["file"]), check=check)
    return load_all(out.stdout) if check else out


def workloads(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] in WORKLOADS]


def find(docs: list[dict], kind: str, name: str) -> dict:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert matches, f"no {kind}/{name} in {sorted((d['kind'], d['metadata']['name']) for d in docs)}"
    return matches[0]


# --- the packages ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_package_carries_the_pinned_versions_and_its_crds_where_the_catalogue_says(helm_bin, packages, tmp_path, name):
    entry = CATALOGUE[name]
    chart = yaml.safe_load(run_helm(helm_bin, "show", "chart", str(packages[name])).stdout)
    assert (chart["name"], chart["version"], str(chart["appVersion"])) == (entry["chart"], entry["version"], entry["app_version"])
    shown = [d for d in load_all(run_helm(helm_bin, "show", "crds", str(packages[name])).stdout)
             if d.get("kind") == "CustomResourceDefinition"]
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(REQUIRED.get(name, {})), encoding="utf-8")
    args = ["template", "t", str(packages[name]), "--kube-version", mirror.kube_version(), "-f", str(values)]
    if name == "karpenter":
        args += ["--set", "settings.clusterName=t"]
    if name == "aws-load-balancer-controller":
        args += ["--set", "clusterName=t"]
    templated = [d for d in load_all(run_helm(helm_bin, *args).stdout) if d["kind"] == "CustomResourceDefinition"]
    found = {"explicit": bool(shown) and not templated, "templates": bool(templated) and not shown,
             "none": not shown and not templated}
    assert found[entry["crds"]], (f"{name}: catalogue says crds: {entry['crds']}, but crds/ holds {len(shown)} "
                                  f"CRDs and the templates render {len(templated)}")


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_lint_strict_with_the_values_of_every_inventory(helm_bin, packages, rendered, tmp_path, name):
    files = [by_chart(rendered, d)[name]["file"] for d in sorted(rendered) if name in by_chart(rendered, d)]
    if not files:  # a chart of a later phase: no role passes values yet
        files = [tmp_path / "values.yaml"]
        files[0].write_text(yaml.safe_dump(REQUIRED.get(name, {})), encoding="utf-8")
    for values in files:
        out = run_helm(helm_bin, "lint", "--strict", str(packages[name]), "--kube-version", mirror.kube_version(),
                       "-f", str(values), check=False)
        assert out.returncode == 0 and "0 chart(s) failed" in out.stdout, f"{values}:\n{out.stdout}{out.stderr}"


# --- what the roles' values render ------------------------------------------------------------------

def test_every_workload_runs_on_the_system_nodes_with_the_standard_labels(helm_bin, packages, rendered):
    for deployment in sorted(rendered):
        for release in rendered[deployment].values():
            docs = template(helm_bin, packages, release)
            assert workloads(docs), f"{deployment}/{release['release']}: no workload"
            for doc in workloads(docs):
                where = f"{deployment}/{release['release']}: {doc['kind']}/{doc['metadata']['name']}"
                labels = doc["metadata"].get("labels") or {}
                assert labels.get("app.kubernetes.io/instance") == release["release"], where
                assert labels.get("app.kubernetes.io/version") == CATALOGUE[release["chart"]]["app_version"], where
                assert (doc["spec"]["template"]["spec"].get("nodeSelector") or {}).get("role") == "system", where


def test_karpenter_settings_become_the_controller_environment(helm_bin, packages, rendered, tmp_path):
    release = by_chart(rendered)["karpenter"]
    docs = template(helm_bin, packages, release)
    deployment = find(docs, "Deployment", "karpenter")
    pod = deployment["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    settings = release["values"]["settings"]
    assert env["CLUSTER_NAME"] == settings["clusterName"]
    assert env["CLUSTER_ENDPOINT"] == settings["clusterEndpoint"]
    assert env["INTERRUPTION_QUEUE"] == settings["interruptionQueue"]
    assert deployment["spec"]["replicas"] == release["values"]["replicas"] and pod["dnsPolicy"] == "Default"
    assert pod["containers"][0]["resources"] == release["values"]["controller"]["resources"]
    account = find(docs, "ServiceAccount", release["values"]["serviceAccount"]["name"])
    assert account["metadata"]["annotations"] == release["values"]["serviceAccount"]["annotations"]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(":role/honeyhive-karpenter-controller-test-us-west-2")
    assert find(docs, "PodDisruptionBudget", "karpenter")["spec"]["maxUnavailable"] == 1
    # Without an interruption queue there is no INTERRUPTION_QUEUE (interruption handling off).
    docs = template(helm_bin, packages, release, values_with(release, tmp_path, {"settings.interruptionQueue": ""}))
    names = [e["name"] for e in find(docs, "Deployment", "karpenter")["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert "INTERRUPTION_QUEUE" not in names


def test_load_balancer_controller_arguments_and_ingress_class(helm_bin, packages, rendered):
    for deployment in sorted(rendered):
        release = by_chart(rendered, deployment)["aws-load-balancer-controller"]
        values = release["values"]
        docs = template(helm_bin, packages, release)
        args = find(docs, "Deployment", "aws-load-balancer-controller")["spec"]["template"]["spec"]["containers"][0]["args"]
        assert {f"--cluster-name={values['clusterName']}", f"--aws-region={values['region']}",
                f"--aws-vpc-id={values['vpcId']}", f"--ingress-class={values['ingressClass']}"} <= set(args), deployment
        ingress_class = find(docs, "IngressClass", values["ingressClass"])
        assert ingress_class["spec"] == {"controller": "ingress.k8s.aws/alb", "parameters": {
            "apiGroup": "elbv2.k8s.aws", "kind": "IngressClassParams", "name": values["ingressClass"]}}, deployment
        params = find(docs, "IngressClassParams", values["ingressClass"])
        assert params["spec"] == values["ingressClassParams"]["spec"], deployment
        assert params["spec"]["scheme"] == "internal" and {"key": "ManagedBy", "value": "honeyhive.platform"} in params["spec"]["tags"]


def test_crds_follow_the_install_switches(helm_bin, packages, rendered, tmp_path):
    def crds(chart, changes):
        release = by_chart(rendered)[chart]
        return [d for d in template(helm_bin, packages, release, values_with(release, tmp_path, changes))
                if d["kind"] == "CustomResourceDefinition"]

    argo = crds("argo-cd", {})
    assert sorted(d["metadata"]["name"] for d in argo) == [
        "applications.argoproj.io", "applicationsets.argoproj.io", "appprojects.argoproj.io"]
    assert all(d["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep" for d in argo)
    assert crds("argo-cd", {"crds.install": False}) == []
    eso = crds("external-secrets", {})
    assert {"clustersecretstores.external-secrets.io", "externalsecrets.external-secrets.io",
            "secretstores.external-secrets.io"} <= {d["metadata"]["name"] for d in eso}
    assert crds("external-secrets", {"installCRDs": False}) == []


def test_argocd_configuration(helm_bin, packages, rendered):
    release = by_chart(rendered)["argo-cd"]
    docs = template(helm_bin, packages, release)
    config = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d["kind"] == "ConfigMap"}
    assert config["argocd-cm"]["url"] == f"https://{release['values']['global']['domain']}"
    assert config["argocd-cmd-params-cm"]["application.namespaces"] == ""
    assert find(docs, "Deployment", "argocd-server")["spec"]["replicas"] == 2
    assert find(docs, "Deployment", "argocd-repo-server")["spec"]["replicas"] == 2


@pytest.mark.parametrize("chart,changes,message", [
    ("karpenter", {"settings.clusterName": ""}, "Chart cannot be installed without a valid settings.clusterName!"),
    ("aws-load-balancer-controller", {"clusterName": ""}, "Chart cannot be installed without a valid clusterName!"),
])
def test_required_values(helm_bin, packages, rendered, tmp_path, chart, changes, message):
    release = by_chart(rendered)[chart]
    out = template(helm_bin, packages, release, values_with(release, tmp_path, changes), check=False)
    assert out.returncode != 0 and message in out.stderr, out.stderr


# --- what simulated pods cannot serve ----------------------------------------------------------------

# Kinds the platform writes once the add-ons run: the LoadBalancer Services and Ingresses of the
# HoneyHive services (Argo CD Applications) and the secret store with its ExternalSecrets.
WRITTEN = {"services", "ingresses", "secretstores", "clustersecretstores", "externalsecrets"}


def unservable(docs: list[dict]) -> set[str]:
    """What nothing answers on simulated nodes and that blocks a write or an install: webhooks
    with failurePolicy Fail on the kinds the platform writes, aggregated APIs, Helm hook Jobs."""
    found = set()
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        if kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            for hook in doc["webhooks"]:
                resources = {r for rule in hook.get("rules") or [] for r in rule.get("resources") or []}
                if hook.get("failurePolicy", "Fail") == "Fail" and resources & WRITTEN:
                    found.add(f"{kind} {name}: {hook['name']} (Fail)")
        elif kind == "APIService" and doc["spec"].get("service"):
            found.add(f"APIService {name}")
        elif kind == "Job" and "helm.sh/hook" in (doc["metadata"].get("annotations") or {}):
            found.add(f"hook Job {name}")
    return found


def test_the_local_overrides_turn_off_exactly_what_simulated_pods_cannot_serve(helm_bin, packages, rendered, tmp_path):
    without, with_overrides = {}, {}
    for name, release in rendered[LOCAL].items():
        without[name] = unservable(template(helm_bin, packages, release, values_with(release, tmp_path, without=release["overrides"])))
        with_overrides[name] = unservable(template(helm_bin, packages, release))
    assert with_overrides == {name: set() for name in rendered[LOCAL]}, with_overrides
    assert without == {
        "karpenter": set(),
        "metrics-server": {"APIService v1beta1.metrics.k8s.io"},
        "aws-load-balancer-controller": {
            "MutatingWebhookConfiguration aws-load-balancer-webhook: mservice.elbv2.k8s.aws (Fail)",
            "ValidatingWebhookConfiguration aws-load-balancer-webhook: vingress.elbv2.k8s.aws (Fail)"},
        "external-secrets": {
            "ValidatingWebhookConfiguration secretstore-validate: validate.secretstore.external-secrets.io (Fail)",
            "ValidatingWebhookConfiguration secretstore-validate: validate.clustersecretstore.external-secrets.io (Fail)",
            "ValidatingWebhookConfiguration externalsecret-validate: validate.externalsecret.external-secrets.io (Fail)"},
        "argocd": {"hook Job argocd-redis-secret-init"},
    }, without
    # Every other inventory keeps the charts' own webhooks, APIService and hooks.
    for deployment in sorted(set(rendered) - {LOCAL}):
        assert all(not release["overrides"] for release in rendered[deployment].values()), deployment


# --- install on the control plane --------------------------------------------------------------------

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
        """Create ``obj`` with dryRun=All and fieldValidation=Strict: (status, message). Admission
        webhooks are called as for a real create (they declare no side effects)."""
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
           "IngressClassParams": "ingressclassparams", "TargetGroupBinding": "targetgroupbindings",
           "Service": "services", "Ingress": "ingresses"}


@dataclass
class Cluster:
    state: Path
    env: dict
    kube: Kube

    def helm(self, *args: str, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
        env = dict(self.env, KUBECONFIG=self.env["HONEYHIVE_LOCAL_KUBECONFIG"])
        out = subprocess.run(["helm", *args], env=env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert out.returncode == 0, f"helm {' '.join(args)}:\n{out.stdout}\n{out.stderr}"
        return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    build = subprocess.run([str(BUILD_SH)], capture_output=True, text=True)
    if build.returncode != 0:
        pytest.fail("the local control plane could not be built (tools/local-kube/build.sh):\n" + build.stderr[-3000:])
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
        print(f"\ncontrol plane ready in {time.monotonic() - started:.1f}s", file=sys.stderr)
        cluster_env = read_env_file(state / "env")
        yield Cluster(state=state, env=cluster_env, kube=Kube(Path(cluster_env["HONEYHIVE_LOCAL_KUBECONFIG"])))
    finally:
        subprocess.run([str(LOCAL_SH), "down", str(state)], env=env, capture_output=True, text=True)


def test_the_local_inventory_takes_the_charts_from_the_mirror_or_upstream(cluster):
    source = mirror.mirror()
    if source is None:
        assert "HONEYHIVE_CHART_DIR" not in cluster.env  # platform_chart_source: upstream
    else:
        assert Path(cluster.env["HONEYHIVE_CHART_DIR"]) == source


# Install order of the roles: karpenter, then the addons role's releases in its order.
ORDER = ("karpenter", "metrics-server", "aws-load-balancer-controller", "external-secrets", "argocd")


@pytest.fixture(scope="module")
def releases(cluster, packages, rendered):
    """Every release of the local inventory installed the way roles/helm_release installs it;
    returns the install times."""
    local = rendered[LOCAL]
    assert sorted(local) == sorted(ORDER)
    timings = {}
    for name in ORDER:
        release = local[name]
        started = time.monotonic()
        args = []
        if CATALOGUE[release["chart"]]["crds"] == "explicit":
            crds = load_all(cluster.helm("show", "crds", str(packages[release["chart"]])).stdout)
            assert crds, f"{name}: the package has no CRDs"
            for crd in crds:
                cluster.kube.apply(crd, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}")
            for crd in crds:
                wait_established(cluster.kube, crd["metadata"]["name"])
            args.append("--skip-crds")
        out = cluster.helm("upgrade", "--install", name, str(packages[release["chart"]]), "-n", release["namespace"],
                           "--create-namespace", "-f", str(release["file"]), "--wait", "--timeout", "300s", *args,
                           check=False, timeout=400)
        assert out.returncode == 0, f"helm install {name}:\n{out.stdout}\n{out.stderr}\n{diagnose(cluster, release['namespace'])}"
        timings[name] = round(time.monotonic() - started, 1)
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


def test_every_crd_of_the_hosting_charts_is_established(cluster, releases, helm_bin, rendered):
    names = []
    for chart, release in by_chart(rendered).items():
        try:
            names += [crd["metadata"]["name"] for crd in mirror.crds(chart, helm_bin, release["file"])]
        except mirror.ChartsUnavailable as err:
            pytest.fail(str(err))
    assert {"nodepools.karpenter.sh", "ec2nodeclasses.karpenter.k8s.aws", "ingressclassparams.elbv2.k8s.aws",
            "applications.argoproj.io", "clustersecretstores.external-secrets.io"} <= set(names)
    for name in names:
        wait_established(cluster.kube, name, timeout=10)


def workload_problems(cluster: Cluster, rendered: dict) -> list[str]:
    """Why each release's Deployments and StatefulSets are not (yet) all ready: [] when they are."""
    problems = []
    for name, release in rendered[LOCAL].items():
        namespace, selector = release["namespace"], f"app.kubernetes.io/instance={name}"
        found = [("Deployment", d) for d in cluster.kube.get(
            f"/apis/apps/v1/namespaces/{namespace}/deployments", labelSelector=selector)["items"]]
        found += [("StatefulSet", s) for s in cluster.kube.get(
            f"/apis/apps/v1/namespaces/{namespace}/statefulsets", labelSelector=selector)["items"]]
        if not found:
            problems.append(f"{name}: no Deployment or StatefulSet")
        for kind, workload in found:
            workload_name, status = workload["metadata"]["name"], workload["status"]
            conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
            if kind == "Deployment" and conditions.get("Available") != "True":
                problems.append(f"{name}: Deployment {workload_name} not Available: {status}")
            elif status.get("readyReplicas", 0) != workload["spec"]["replicas"]:
                problems.append(f"{name}: {kind} {workload_name} not ready: {status}")
    return problems


def test_deployments_become_available_on_the_system_nodes(cluster, releases, rendered):
    # helm --wait returned once each workload had its minimum of ready pods; give the rest (and
    # the controller manager's status updates) a moment on a busy machine.
    deadline = time.monotonic() + 90
    while (problems := workload_problems(cluster, rendered)) and time.monotonic() < deadline:
        time.sleep(1)
    nodes = cluster.kube.get("/api/v1/nodes")["items"]
    assert not problems, "\n".join(problems) + "\n" + "\n".join(
        diagnose(cluster, ns) for ns in sorted({r["namespace"] for r in rendered[LOCAL].values()}))
    labels = {n["metadata"]["name"]: n["metadata"]["labels"] for n in nodes}
    for name, release in rendered[LOCAL].items():
        pods = cluster.kube.get(f"/api/v1/namespaces/{release['namespace']}/pods",
                                labelSelector=f"app.kubernetes.io/instance={name}")["items"]
        assert pods, name
        for pod in pods:
            assert labels[pod["spec"]["nodeName"]].get("role") == "system", pod["metadata"]["name"]


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "default"},
           "spec": {"type": "LoadBalancer", "selector": {"app": "api"}, "ports": [{"port": 443, "targetPort": 8443}]}}
INGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "api", "namespace": "default"},
           "spec": {"ingressClassName": "alb", "rules": [{"host": "api.test.internal", "http": {"paths": [
               {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"number": 443}}}}]}}]}}


def test_what_the_platform_writes_passes_admission(cluster, releases):
    """With the releases installed, Services, Ingresses and the secret store are admitted: the
    webhooks in their way are off (or Ignore) in the local inventory."""
    for obj in (SERVICE, INGRESS, SECRET_STORE):
        status, text = cluster.kube.dry_run_create(obj)
        assert status == 201, f"{obj['kind']}: {status} {text}"


def test_the_webhooks_that_stay_refuse_what_they_guard(cluster, releases):
    """The load balancer controller's own kinds keep their webhooks (failurePolicy Fail): with no
    pod to answer, the API server refuses them. Its IngressClassParams therefore come from the
    chart, whose own objects the webhook lets through (objectSelector on the chart's name label)."""
    params = cluster.kube.get("/apis/elbv2.k8s.aws/v1beta1/ingressclassparams/alb")
    assert params["metadata"]["labels"]["app.kubernetes.io/name"] == "aws-load-balancer-controller"
    assert params["spec"]["scheme"] == "internal" and params["spec"]["group"] == {"name": "honeyhive"}
    ingress_class = cluster.kube.get("/apis/networking.k8s.io/v1/ingressclasses/alb")
    assert ingress_class["spec"]["parameters"]["name"] == "alb"
    for obj, hook in ((changed(INGRESS_CLASS_PARAMS, "metadata.labels", {}), "vingressclassparams.elbv2.k8s.aws"),
                      (TARGET_GROUP_BINDING, "mtargetgroupbinding.elbv2.k8s.aws")):
        status, text = cluster.kube.dry_run_create(obj)
        assert status == 500 and f'failed calling webhook "{hook}"' in text, f"{obj['kind']}: {status} {text}"


def test_no_aggregated_api_without_a_server(cluster, releases):
    services = [a["metadata"]["name"] for a in cluster.kube.get("/apis/apiregistration.k8s.io/v1/apiservices")["items"]
                if a["spec"].get("service")]
    assert services == []


# --- the CRDs judge objects --------------------------------------------------------------------------

CLUSTER = "honeyhive-eks-test-us-west-2"
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
        "role": "honeyhive-karpenter-node-test-us-west-2",
        "amiSelectorTerms": [{"alias": mirror.catalogue.load()["platform_versions"]["karpenter_ami_alias"]}],
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
# The chart's name label lets it past the controller's webhook as the chart's own IngressClassParams
# (see test_the_webhooks_that_stay_refuse_what_they_guard), so the CRD's schema judges it.
INGRESS_CLASS_PARAMS = {
    "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams",
    "metadata": {"name": "alb-test", "labels": {"app.kubernetes.io/name": "aws-load-balancer-controller"}},
    "spec": {"scheme": "internal", "group": {"name": "honeyhive"}, "tags": [{"key": "Environment", "value": "test"}]},
}
TARGET_GROUP_BINDING = {
    "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding", "metadata": {"name": "api", "namespace": "default"},
    "spec": {"serviceRef": {"name": "api", "port": 80}, "targetType": "ip",
             "targetGroupARN": "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/api/0123456789abcdef"},
}


def changed(obj: dict, path: str, value=None, delete: bool = False) -> dict:
    """A deep copy of ``obj`` with the dotted ``path`` set to ``value`` (or deleted)."""
    copy_ = json.loads(json.dumps(obj))
    target = copy_
    *parents, last = path.split(".")
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if delete:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return copy_


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
    ("ec2nodeclass-bad-alias", changed(EC2NODECLASS, "spec.amiSelectorTerms.0.alias", "al2023"), 422,
     "'alias' is improperly formatted, must match the format 'family@version'"),
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
    ("ingressclassparams", INGRESS_CLASS_PARAMS, 201, ""),
    ("ingressclassparams-bad-scheme", changed(INGRESS_CLASS_PARAMS, "spec.scheme", "public"), 422,
     'spec.scheme: Unsupported value: "public"'),
    ("ingressclassparams-unknown-field", changed(INGRESS_CLASS_PARAMS, "spec.bogus", 1), 400,
     'unknown field "spec.bogus"'),
]


@pytest.mark.parametrize("obj,status,message", [pytest.param(o, s, m, id=i) for i, o, s, m in JUDGEMENTS])
def test_crds_judge_objects(cluster, releases, obj, status, message):
    got, text = cluster.kube.dry_run_create(obj)
    assert got == status, f"{obj['kind']}: {got} {text}"
    assert message in text, text


def test_external_secrets_serves_only_v1(cluster, releases):
    """External Secrets stores v1 and does not serve v1beta1: manifests must say external-secrets.io/v1."""
    status, text = cluster.kube.dry_run_create(changed(SECRET_STORE, "apiVersion", "external-secrets.io/v1beta1"))
    assert status == 404, text
