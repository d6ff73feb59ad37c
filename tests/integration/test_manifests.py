"""The hosting roles' Kubernetes objects, rendered for every inventory, against the schemas.

``scripts/render-manifests.sh`` renders what the karpenter and addons roles apply (NodePool,
EC2NodeClass, ClusterSecretStore, Namespace, AppProject, Applications) and the Helm releases
they install, for all six inventories, without any AWS or Kubernetes call. Then:

* the custom resources go to a real local API server with the CRDs of the pinned charts
  installed (from the chart mirror or the upstream charts, tests/charts/mirror.py: Karpenter's
  and the load balancer controller's crds/, Argo CD's and External Secrets' as their templates
  render them), as a server-side dry run - the CRDs' OpenAPI schemas and CEL rules judge every
  object, the ingress class and IngressClassParams the load balancer controller's chart makes
  from the roles' values included, and mutated copies that break a rule are rejected with the
  API server's message;
* the built-in kinds are checked with ``kubernetes-validate --strict`` against the schemas of
  the cluster's Kubernetes version.
"""
from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
KUBE = ROOT / "tools" / "local-kube"
BUILT_IN = {"Namespace"}
sys.path.insert(0, str(ROOT / "tests" / "charts"))
import mirror  # noqa: E402  (tests/charts/mirror.py: the chart mirror or the upstream charts)


def _k8s_minor():
    versions = yaml.safe_load((ROOT / "group_vars" / "all" / "versions.yml").read_text(encoding="utf-8"))
    return versions["platform_versions"]["eks_kubernetes"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("rendered")
    subprocess.run([str(ROOT / "scripts" / "render-manifests.sh"), str(out)], cwd=ROOT, check=True,
                   env=dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}"), timeout=600)
    docs = []
    for path in sorted(out.glob("*/*/*.yaml")):
        if path.parent.name == "releases":  # the Helm releases and their values, not objects
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        docs.append((path.relative_to(out), doc))
    deployments = {str(p.parts[0]) for p, _ in docs}
    assert len(deployments) == len(list((ROOT / "inventories").iterdir())), deployments
    return out, docs


def releases(out: Path, deployment: str) -> dict:
    """chart -> the release the roles render for ``deployment``, with its values in a file."""
    found = {}
    for path in sorted((out / deployment / "releases").glob("*.yaml")):
        if path.name.endswith(".values.yaml"):
            continue
        release = yaml.safe_load(path.read_text(encoding="utf-8"))
        release["file"] = path.with_suffix(".values.yaml")
        release["file"].write_text(yaml.safe_dump(release["values"]), encoding="utf-8")
        found[release["chart"]] = release
    assert found, f"no Helm release rendered for {deployment}"
    return found


def test_every_deployment_renders_every_object(rendered):
    _, docs = rendered
    kinds = {}
    for path, doc in docs:
        kinds.setdefault(str(path.parts[0]), []).append(doc["kind"])
    for deployment, found in kinds.items():
        assert sorted(set(found)) == sorted({
            "NodePool", "EC2NodeClass", "ClusterSecretStore", "Namespace", "AppProject", "Application",
            "ExternalSecret"}), deployment
        assert found.count("ExternalSecret") == 3, deployment
        assert found.count("Application") == 4, deployment


def test_built_in_kinds_validate_strictly(rendered):
    out, docs = rendered
    files = [str(out / path) for path, doc in docs if doc["kind"] in BUILT_IN]
    assert files
    proc = subprocess.run([str(VENV_BIN / "kubernetes-validate"), "--strict", "-k", _k8s_minor() + ".0", *files],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_strict_validation_rejects_an_unknown_field(rendered, tmp_path):
    _, docs = rendered
    doc = copy.deepcopy(next(d for _, d in docs if d["kind"] == "Namespace"))
    doc["metadata"]["labelz"] = doc["metadata"]["labels"]
    path = tmp_path / "namespace.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    proc = subprocess.run([str(VENV_BIN / "kubernetes-validate"), "--strict", "-k", _k8s_minor() + ".0", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "'labelz' was unexpected" in proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def chart_objects(rendered, helm_bin):
    """(path, object) of what the load balancer controller's chart makes from the roles' values
    of every deployment: the ingress class and its IngressClassParams."""
    out, docs = rendered
    found = []
    for deployment in sorted({str(p.parts[0]) for p, _ in docs}):
        release = releases(out, deployment)["aws-load-balancer-controller"]
        try:
            package = mirror.package(release["chart"])
        except mirror.ChartsUnavailable as err:
            pytest.fail(str(err))
        proc = subprocess.run([helm_bin, "template", release["release"], str(package), "-n", release["namespace"],
                               "--kube-version", mirror.kube_version(), "-f", str(release["file"])],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        for doc in mirror.load_all(proc.stdout):
            if doc["kind"] in ("IngressClass", "IngressClassParams"):
                found.append((Path(deployment) / "aws-load-balancer-controller" / f"{doc['kind'].lower()}.yaml", doc))
    assert sorted({doc["kind"] for _, doc in found}) == ["IngressClass", "IngressClassParams"], found
    return found


@pytest.fixture(scope="module")
def api(tmp_path_factory, rendered, helm_bin):
    """A local API server with the CRDs of the hosting phase's charts installed (the local
    inventory's releases); stopped by PID at the end."""
    out, _ = rendered
    crds = []
    try:
        for chart, release in releases(out, "local-us-west-2").items():
            crds += mirror.crds(chart, helm_bin, release["file"])
    except mirror.ChartsUnavailable as err:
        pytest.fail(str(err))
    assert crds, "the hosting phase's charts bring no CRD"
    state = tmp_path_factory.mktemp("kube")
    up = subprocess.run([str(KUBE / "up.sh"), str(state)], capture_output=True, text=True, timeout=900)
    if up.returncode != 0:
        subprocess.run([str(KUBE / "down.sh"), str(state)], check=False)
        pytest.fail("the local control plane did not start:\n" + up.stderr[-3000:])
    try:
        from kubernetes import client, config
        from kubernetes.dynamic import DynamicClient

        config.load_kube_config(up.stdout.strip().splitlines()[-1])
        dyn = DynamicClient(client.ApiClient())
        crd_api = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
        for doc in crds:
            crd_api.server_side_apply(body=doc, field_manager="honeyhive-tests", force_conflicts=True)
        # The CRDs must be established before their kinds are served.
        dyn = DynamicClient(client.ApiClient())
        yield dyn
    finally:
        subprocess.run([str(KUBE / "down.sh"), str(state)], check=False, capture_output=True)


def _apply(dyn, doc):
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    for _ in range(30):
        try:
            resource = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
            break
        except ResourceNotFoundError:
            time.sleep(1)
            dyn.resources.invalidate_cache()
    return resource.server_side_apply(body=doc, namespace=doc["metadata"].get("namespace"),
                                      field_manager="honeyhive-tests", dry_run="All")


@pytest.mark.kube
def test_the_upstream_crds_accept_every_rendered_object(api, rendered, chart_objects):
    _, docs = rendered
    # The namespaces the roles make before they apply into them (argocd, the services' one):
    # a dry run into a namespace that does not exist is refused before the object is judged.
    namespaces = api.resources.get(api_version="v1", kind="Namespace")
    for name in sorted({doc["metadata"].get("namespace") for _, doc in docs + chart_objects} - {None}):
        namespaces.server_side_apply(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                                     field_manager="honeyhive-tests")
    rejected = []
    for path, doc in docs + chart_objects:
        try:
            _apply(api, doc)
        except Exception as err:  # the API server's answer names the field
            rejected.append(f"{path}: {getattr(err, 'body', err)}")
    assert not rejected, "\n".join(rejected)


@pytest.mark.kube
@pytest.mark.parametrize("kind,mutate,message", [
    ("NodePool", lambda d: d["spec"]["disruption"].update(consolidateAfter="soon"),
     "spec.disruption.consolidateAfter in body should match"),
    ("NodePool", lambda d: d["spec"]["template"]["spec"]["requirements"].append(
        {"key": "karpenter.sh/nodepool", "operator": "In", "values": ["x"]}),
     "karpenter.sh/nodepool"),
    ("EC2NodeClass", lambda d: d["spec"].pop("amiSelectorTerms"), "amiSelectorTerms"),
    ("EC2NodeClass", lambda d: d["spec"]["metadataOptions"].update(httpTokens="sometimes"), "httpTokens"),
    ("ClusterSecretStore", lambda d: d["spec"]["provider"]["aws"].update(service="Vault"), "spec.provider.aws.service"),
    ("Application", lambda d: d["spec"].pop("destination"), "destination"),
    ("IngressClassParams", lambda d: d["spec"].update(scheme="public"), "spec.scheme"),
])
def test_the_upstream_crds_reject_a_broken_object(api, rendered, chart_objects, kind, mutate, message):
    _, docs = rendered
    doc = copy.deepcopy(next(d for p, d in docs + chart_objects if d["kind"] == kind and str(p).startswith("local-")))
    mutate(doc)
    with pytest.raises(Exception) as err:
        _apply(api, doc)
    assert message in str(getattr(err.value, "body", err.value)), getattr(err.value, "body", err.value)
