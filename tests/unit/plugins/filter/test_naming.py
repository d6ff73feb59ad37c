"""Unit tests for the resource_name and resource_tags filters."""
from __future__ import annotations

import hashlib
import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.honeyhive.platform.plugins.filter.naming import (
    KINDS,
    FilterModule,
    resource_name,
    resource_tags,
)

CTX = {
    "prefix": "honeyhive",
    "environment": "prod",
    "region": "us-west-2",
    "deployment_type": "full_stack",
    "cost_center": "platform",
}

LIMITS = {
    "s3": 63, "iam_role": 64, "iam_policy": 128, "instance_profile": 128, "alb": 32, "target_group": 32,
    "rds": 63, "docdb": 63, "elasticache": 40, "security_group": 255, "log_group": 512, "secret": 512,
    "kms_alias": 250, "eks_cluster": 100, "sqs": 80, "eventbridge_rule": 64, "ecs": 255, "generic": 255,
}


def test_filters_registered():
    assert set(FilterModule().filters()) == {"resource_name", "resource_tags"}


@pytest.mark.parametrize("component", ["metrics", "logs", "backups", "config", "artifacts"])
def test_seed_bucket_names(component):
    # seed 002: honeyhive-{metrics,logs,backups,config,artifacts}-{env}-{region}
    assert resource_name(component, CTX, kind="s3") == f"honeyhive-{component}-prod-us-west-2"


def test_default_kind_is_generic():
    assert resource_name("api", CTX) == "honeyhive-api-prod-us-west-2"


def test_every_limit_is_covered():
    assert set(LIMITS) == set(KINDS)
    for kind, limit in LIMITS.items():
        assert KINDS[kind]["max"] == limit, kind


@pytest.mark.parametrize("kind", sorted(LIMITS))
def test_short_name_unchanged(kind):
    assert resource_name("api", CTX, kind=kind) == "honeyhive-api-prod-us-west-2"


@pytest.mark.parametrize("kind", sorted(LIMITS))
def test_long_component_truncated_to_limit(kind):
    limit = LIMITS[kind]
    component = "x" * 600
    full = f"honeyhive-{component}-prod-us-west-2"
    name = resource_name(component, CTX, kind=kind)
    digest = hashlib.sha256(full.encode()).hexdigest()[:6]
    assert len(name) == limit
    assert name == full[: limit - 7] + "-" + digest
    assert re.fullmatch(f"[{KINDS[kind]['chars']}]+", name)
    # deterministic
    assert resource_name(component, CTX, kind=kind) == name
    # a different long name gives a different result
    assert resource_name("y" + component, CTX, kind=kind) != name
    other = resource_name(component + "z", CTX, kind=kind)
    assert other != name and len(other) == limit


@pytest.mark.parametrize("kind", ["rds", "docdb", "elasticache"])
def test_truncation_keeps_database_rules(kind):
    limit = LIMITS[kind]
    # put a hyphen exactly where the name is cut, so it must be stripped
    head = limit - 7 - len("honeyhive-")
    component = "a" * (head - 1) + "-" + "b" * 100
    name = resource_name(component, CTX, kind=kind)
    assert len(name) == limit - 1
    assert "--" not in name
    assert name[0].isalpha() and name[-1].isalnum()
    assert name.startswith("honeyhive-" + "a" * (head - 1) + "-")


def test_lowercase_kinds_are_lowercased():
    ctx = dict(CTX, prefix="HoneyHive", environment="Prod")
    assert resource_name("Metrics", ctx, kind="s3") == "honeyhive-metrics-prod-us-west-2"
    assert resource_name("API", ctx, kind="rds") == "honeyhive-api-prod-us-west-2"
    assert resource_name("Cache", ctx, kind="elasticache") == "honeyhive-cache-prod-us-west-2"
    assert resource_name("Docs", ctx, kind="docdb") == "honeyhive-docs-prod-us-west-2"


def test_case_kept_where_allowed():
    assert resource_name("EksCluster", CTX, kind="iam_role") == "honeyhive-EksCluster-prod-us-west-2"


def test_kms_alias_has_no_alias_prefix():
    name = resource_name("rds", CTX, kind="kms_alias")
    assert name == "honeyhive-rds-prod-us-west-2"
    assert not name.startswith("alias/")


def test_slashes_only_for_log_groups_and_secrets():
    assert resource_name("eks/cluster", CTX, kind="log_group") == "honeyhive-eks/cluster-prod-us-west-2"
    assert resource_name("rds/master", CTX, kind="secret") == "honeyhive-rds/master-prod-us-west-2"
    with pytest.raises(AnsibleFilterError) as err:
        resource_name("eks/cluster", CTX, kind="s3")
    assert str(err.value) == (
        "component: 'eks/cluster' contains '/'; allowed: lowercase letters, digits and hyphens "
        "(slashes only for the log_group and secret kinds)"
    )


def test_bad_characters_name_the_argument():
    with pytest.raises(AnsibleFilterError) as err:
        resource_name("my_bucket", CTX, kind="s3")
    assert str(err.value) == "component: 'my_bucket' contains '_'; allowed: lowercase letters, digits and hyphens"
    with pytest.raises(AnsibleFilterError) as err:
        resource_name("api", dict(CTX, environment="prod!"), kind="alb")
    assert str(err.value) == "context.environment: 'prod!' contains '!'; allowed: letters, digits and hyphens"


def test_empty_component():
    with pytest.raises(AnsibleFilterError) as err:
        resource_name("", CTX, kind="s3")
    assert str(err.value) == "component: '' is not valid; allowed: a non-empty string of lowercase letters, digits and hyphens"
    with pytest.raises(AnsibleFilterError, match=r"^component: None is not valid"):
        resource_name(None, CTX)


def test_unknown_kind():
    with pytest.raises(AnsibleFilterError) as err:
        resource_name("api", CTX, kind="lambda")
    assert str(err.value).startswith("kind: 'lambda' is not a known resource kind; allowed: alb, docdb, ecs,")


def test_missing_context_key():
    ctx = {k: v for k, v in CTX.items() if k != "region"}
    with pytest.raises(AnsibleFilterError) as err:
        resource_name("api", ctx)
    assert str(err.value) == "context.region: missing; allowed: a dict with keys prefix, environment, region"
    with pytest.raises(AnsibleFilterError, match=r"^context: 'prod' is not a dict"):
        resource_name("api", "prod")


def test_database_rules():
    with pytest.raises(AnsibleFilterError) as err:
        resource_name("api", dict(CTX, prefix="1hh"), kind="rds")
    assert str(err.value) == (
        "context.prefix: '1hh' does not start with a letter, which rds names must; "
        "allowed: a prefix starting with a letter"
    )
    with pytest.raises(AnsibleFilterError, match=r"^component: 'a--b' would put two hyphens in a row"):
        resource_name("a--b", CTX, kind="docdb")
    with pytest.raises(AnsibleFilterError, match=r"^component: 'cache-' would put two hyphens"):
        resource_name("cache-", CTX, kind="elasticache")
    with pytest.raises(AnsibleFilterError, match=r"^context.prefix: '9x' does not start with a letter"):
        resource_name("api", dict(CTX, prefix="9x"), kind="eks_cluster")
    # allowed for kinds without the rule
    assert resource_name("api", dict(CTX, prefix="9x"), kind="s3") == "9x-api-prod-us-west-2"


def test_alb_edges():
    with pytest.raises(AnsibleFilterError, match=r"^context.prefix: '-hh' does not start with a letter or digit"):
        resource_name("api", dict(CTX, prefix="-hh"), kind="alb")
    with pytest.raises(AnsibleFilterError, match=r"^context.prefix: 'internal' makes the load balancer name"):
        resource_name("api", dict(CTX, prefix="internal"), kind="alb")


def test_resource_tags():
    assert resource_tags(CTX) == {
        "Environment": "prod",
        "Region": "us-west-2",
        "DeploymentType": "full_stack",
        "ManagedBy": "honeyhive.platform",
        "CostCenter": "platform",
    }


def test_resource_tags_extra():
    tags = resource_tags(CTX, {"Name": "honeyhive-metrics-prod-us-west-2", "Tier": 3, "Public": False})
    assert tags["Name"] == "honeyhive-metrics-prod-us-west-2"
    assert tags["Tier"] == "3"
    assert tags["Public"] == "false"
    assert tags["ManagedBy"] == "honeyhive.platform"
    # repeating a standard tag with the same value is fine
    assert resource_tags(CTX, {"Environment": "prod"})["Environment"] == "prod"


def test_resource_tags_errors():
    ctx = {k: v for k, v in CTX.items() if k != "cost_center"}
    with pytest.raises(AnsibleFilterError) as err:
        resource_tags(ctx)
    assert str(err.value) == (
        "context.cost_center: missing; allowed: a dict with keys environment, region, deployment_type, cost_center"
    )
    with pytest.raises(AnsibleFilterError) as err:
        resource_tags(CTX, {"ManagedBy": "terraform"})
    assert str(err.value).startswith("extra.ManagedBy: 'terraform' would replace the standard tag value")
    with pytest.raises(AnsibleFilterError, match=r"^extra: tag name 'aws:foo' is not allowed"):
        resource_tags(CTX, {"aws:foo": "x"})
    with pytest.raises(AnsibleFilterError, match=r"^extra.Big: 'x+' is 257 characters long"):
        resource_tags(CTX, {"Big": "x" * 257})
    with pytest.raises(AnsibleFilterError, match=r"^extra: \['a'\] is not a dict"):
        resource_tags(CTX, ["a"])
    with pytest.raises(AnsibleFilterError, match=r"^context.environment: '' is not valid"):
        resource_tags(dict(CTX, environment=""))
