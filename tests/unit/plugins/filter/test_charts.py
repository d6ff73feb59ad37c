"""Unit tests for the helm_chart filter and the workload_trust_policy filter."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.honeyhive.platform.plugins.filter.charts import chart_source_error, helm_chart
from ansible_collections.honeyhive.platform.plugins.filter.iam import workload_trust_policy

KARPENTER = {"chart": "karpenter", "version": "1.14.1", "app_version": "1.14.1",
             "repository": "oci://public.ecr.aws/karpenter", "crds": "explicit"}
ARGO = {"chart": "argo-cd", "version": "10.1.1", "app_version": "v3.4.4",
        "repository": "https://argoproj.github.io/argo-helm", "crds": "templates"}
PROVIDER = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC123"


def test_upstream_oci_chart():
    chart = helm_chart(KARPENTER)
    assert chart["chart_ref"] == "oci://public.ecr.aws/karpenter/karpenter"
    assert chart["chart_repo_url"] is None
    assert chart["chart_version"] == "1.14.1"
    assert chart["show_crds_args"] == ["show", "crds", "oci://public.ecr.aws/karpenter/karpenter", "--version", "1.14.1"]


def test_upstream_https_chart_uses_the_repository():
    chart = helm_chart(ARGO, "upstream")
    assert chart["chart_ref"] == "argo-cd"
    assert chart["chart_repo_url"] == "https://argoproj.github.io/argo-helm"
    assert chart["show_crds_args"][-2:] == ["--repo", "https://argoproj.github.io/argo-helm"]


def test_oci_mirror_holds_every_chart_under_its_name():
    chart = helm_chart(ARGO, "oci://111122223333.dkr.ecr.us-west-2.amazonaws.com/helm/")
    assert chart["chart_ref"] == "oci://111122223333.dkr.ecr.us-west-2.amazonaws.com/helm/argo-cd"
    assert chart["chart_repo_url"] is None


def test_directory_of_packaged_charts():
    chart = helm_chart(KARPENTER, "/srv/charts")
    assert chart["chart_ref"] == "/srv/charts/karpenter-1.14.1.tgz"
    assert chart["crds"] == "explicit"


@pytest.mark.parametrize("source", ["", "charts", "https://example.com/charts", "oci://", "relative/dir", None])
def test_bad_source_is_named(source):
    assert "allowed: upstream, an oci:// registry URL" in chart_source_error(source)
    with pytest.raises(AnsibleFilterError, match="platform_chart_source"):
        helm_chart(KARPENTER, source)


@pytest.mark.parametrize("version", ["v1.14.1", "1.15", "latest", "1.14.1.2", "01.2.3"])
def test_malformed_chart_version_is_named(version):
    with pytest.raises(AnsibleFilterError) as err:
        helm_chart(dict(KARPENTER, version=version))
    assert "platform_charts.karpenter.version: %r is not a chart version" % version in str(err.value)


def test_unknown_crds_mode_and_repository():
    with pytest.raises(AnsibleFilterError, match="crds: 'always' is invalid"):
        helm_chart(dict(KARPENTER, crds="always"))
    with pytest.raises(AnsibleFilterError, match="repository: 'http://x' is invalid"):
        helm_chart(dict(ARGO, repository="http://x"))
    with pytest.raises(AnsibleFilterError, match="lacks repository"):
        helm_chart({"chart": "x", "version": "1.0.0", "crds": "none"})


def test_irsa_trust_names_exactly_the_service_accounts():
    doc = workload_trust_policy(["kube-system:karpenter"], "irsa", PROVIDER)
    statement = doc["Statement"][0]
    assert statement["Principal"] == {"Federated": PROVIDER}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        "oidc.eks.us-west-2.amazonaws.com/id/ABC123:sub": ["system:serviceaccount:kube-system:karpenter"],
        "oidc.eks.us-west-2.amazonaws.com/id/ABC123:aud": "sts.amazonaws.com",
    }


def test_pod_identity_trust():
    doc = workload_trust_policy("external-secrets:external-secrets", "pod_identity")
    assert doc["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert doc["Statement"][0]["Action"] == ["sts:AssumeRole", "sts:TagSession"]


@pytest.mark.parametrize("args,message", [
    ((["karpenter"], "irsa", PROVIDER), "'karpenter' is not a service account"),
    ((["kube-system:karpenter"], "web", PROVIDER), "mode 'web' is invalid"),
    ((["kube-system:karpenter"], "irsa", ""), "oidc_provider_arn '' is not the ARN"),
    (([], "irsa", PROVIDER), "list of namespace:name"),
])
def test_trust_errors_name_the_input(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        workload_trust_policy(*args)


def test_catalogue_errors_lists_every_problem():
    from ansible_collections.honeyhive.platform.plugins.filter.charts import chart_catalogue_errors
    catalogue = {"karpenter": dict(KARPENTER, version="v1.14.1"), "argo-cd": ARGO}
    errors = chart_catalogue_errors(catalogue, "nowhere", "1.0")
    assert errors == [
        "platform_chart_source: 'nowhere' is not a chart source; allowed: upstream, an oci:// registry URL (a mirror), "
        "or the absolute path of a directory of packaged charts",
        "platform_charts.karpenter.version: 'v1.14.1' is not a chart version; allowed: a semantic version such as "
        "1.2.3 (no leading v)",
        "platform_honeyhive_chart_version: '1.0' is not a chart version; allowed: a semantic version such as 1.2.3 "
        "(no leading v)",
    ]
    assert chart_catalogue_errors({"karpenter": KARPENTER, "argo-cd": ARGO}, "upstream", "1.0.0") == []
