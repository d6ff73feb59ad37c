"""Unit tests for the cost_estimate and cost_table filters and data/prices.yml."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.honeyhive.platform.plugins.filter.cost import FilterModule, cost_estimate, cost_table
from ansible_collections.honeyhive.platform.plugins.filter.sizing import sizing

ROOT = Path(__file__).resolve().parents[4]
PRICES = yaml.safe_load((ROOT / "data" / "prices.yml").read_text())
SEED_COMPONENTS = [
    "EKS Cluster", "Worker Nodes", "ECS Services", "S3 Storage",
    "RDS Database", "Load Balancer", "NAT Gateway", "Data Transfer",
]
PRESETS = ["small", "medium", "large"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


def expected_components(s: dict, region: str) -> dict:
    """Monthly cost per component, straight from the price file."""
    p = PRICES["regions"][region]
    u = PRICES["usage"][s["preset"]]
    h = PRICES["hours_per_month"]
    mode = "multi_az" if s["rds_multi_az"] else "single"
    nat_count = 1 if s["nat_gateway_mode"] == "single" else 3
    return {
        "EKS Cluster": p["eks_cluster_hour"] * h,
        "Worker Nodes": s["eks_node_desired_size"] * (
            p["ec2_hour"][s["eks_node_instance_type"]] * h + s["eks_node_volume_size_gb"] * p["ebs_gp3_gb_month"]),
        "ECS Services": s["twingate_connector_count"] * h * (
            s["twingate_connector_cpu"] / 1024 * p["fargate_vcpu_hour"]
            + s["twingate_connector_memory"] / 1024 * p["fargate_gb_hour"]),
        "S3 Storage": (s["s3_metrics_initial_gb"] + s["s3_logs_initial_gb"] + s["s3_backups_initial_gb"])
        * p["s3_standard_gb_month"],
        "RDS Database": p["rds_hour"][s["rds_instance_class"]][mode] * h
        + s["rds_allocated_storage_gb"] * p["rds_gp3_gb_month"][mode],
        "Load Balancer": (p["alb_hour"] + u["alb_lcu"] * p["alb_lcu_hour"]) * h,
        "NAT Gateway": nat_count * p["nat_gateway_hour"] * h + u["nat_processed_gb"] * p["nat_gateway_gb"],
        "Data Transfer": u["data_transfer_out_gb"] * p["data_transfer_out_gb"],
        "ElastiCache Redis": (1 + s["redis_replicas"]) * p["elasticache_hour"][s["redis_node_type"]] * h,
        "DocumentDB": s["docdb_instance_count"] * p["docdb_hour"][s["docdb_instance_class"]] * h,
    }


def by_name(estimate):
    return {c["component"]: c for c in estimate["components"]}


def test_filters_registered():
    assert set(FilterModule().filters()) == {"cost_estimate", "cost_table"}


def test_price_file_has_what_the_presets_use():
    assert PRICES["hours_per_month"] == 730
    assert PRICES["price_date"]
    for region in REGIONS:
        p = PRICES["regions"][region]
        for preset in PRESETS:
            s = sizing(preset)
            assert s["eks_node_instance_type"] in p["ec2_hour"]
            assert s["rds_instance_class"] in p["rds_hour"]
            assert s["redis_node_type"] in p["elasticache_hour"]
            assert s["docdb_instance_class"] in p["docdb_hour"]


def test_seed_figures():
    # seed 002 lines 209-275
    assert PRICES["seed_totals"] == {"small": 458, "medium": 1008, "large": 2038}
    for preset in PRESETS:
        assert list(PRICES["seed_costs"][preset]) == SEED_COMPONENTS
        assert sum(PRICES["seed_costs"][preset].values()) == PRICES["seed_totals"][preset]
    assert PRICES["seed_costs"]["small"]["Worker Nodes"] == 150
    assert PRICES["seed_costs"]["large"]["S3 Storage"] == 400


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("preset", PRESETS)
def test_totals_from_price_file(preset, region):
    s = sizing(preset)
    est = cost_estimate(s, region)
    expected = expected_components(s, region)
    comps = by_name(est)
    assert list(comps) == SEED_COMPONENTS + ["ElastiCache Redis", "DocumentDB"]
    for name, value in expected.items():
        assert comps[name]["monthly"] == pytest.approx(round(value, 2), abs=0.005), name
    assert est["total"] == pytest.approx(sum(expected.values()), abs=0.05)
    assert est["seed_components_total"] == pytest.approx(sum(expected[n] for n in SEED_COMPONENTS), abs=0.05)
    assert est["seed_total"] == PRICES["seed_totals"][preset]
    assert (est["preset"], est["region"], est["currency"]) == (preset, region, "USD")
    assert est["unpriced"] == []


def test_known_totals_us_west_2():
    totals = {p: cost_estimate(sizing(p), "us-west-2") for p in PRESETS}
    assert totals["small"]["seed_components_total"] == pytest.approx(501.65, abs=0.01)
    assert totals["small"]["total"] == pytest.approx(583.41, abs=0.01)
    assert totals["medium"]["seed_components_total"] == pytest.approx(1189.89, abs=0.01)
    assert totals["large"]["seed_components_total"] == pytest.approx(4431.95, abs=0.01)
    # seed 001 lines 227-243: small ~$500-1000, medium ~$1000-3000, large $3000+
    assert 500 <= totals["small"]["total"] <= 1000
    assert 1000 <= totals["medium"]["total"] <= 3000
    assert totals["large"]["total"] >= 3000


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("preset", PRESETS)
def test_explanation_exactly_when_delta_above_ten_percent(preset, region):
    est = cost_estimate(sizing(preset), region)
    for comp in est["components"]:
        if comp["seed"] is None:
            assert comp["delta_pct"] is None
            assert "not in the seed's cost table" in comp["explanation"]
            continue
        expected_delta = round((comp["monthly"] - comp["seed"]) / comp["seed"] * 100, 1)
        assert comp["delta_pct"] == expected_delta
        if abs(comp["delta_pct"]) > 10:
            assert comp["explanation"], comp
            assert f"the seed's ${comp['seed']:,}" in comp["explanation"] or "within 10%" in comp["explanation"]
        else:
            assert comp["explanation"] == "", comp


def test_worker_nodes_explanation_uses_the_numbers():
    comp = by_name(cost_estimate(sizing("small"), "us-east-1"))["Worker Nodes"]
    assert comp["monthly"] == 206.21
    assert comp["delta_pct"] == 37.5
    assert comp["explanation"].startswith(
        "3 x t3.large at $0.0832/h x 730 h = $182.21 plus 3 x 100 GB gp3 at $0.08/GB-month = $24.00; "
        "the seed's $150 prices about 2.2 such nodes"
    )


def test_within_ten_percent_has_no_explanation():
    comps = by_name(cost_estimate(sizing("small"), "us-east-1"))
    assert comps["EKS Cluster"] == {
        "component": "EKS Cluster", "monthly": 73.0, "seed": 73, "delta_pct": 0.0, "explanation": "",
    }
    assert comps["S3 Storage"]["monthly"] == 39.1 and comps["S3 Storage"]["explanation"] == ""


def test_regional_difference_is_explained():
    rds = by_name(cost_estimate(sizing("small"), "eu-west-1"))["RDS Database"]
    assert rds["delta_pct"] > 10
    assert "eu-west-1 list prices differ from us-east-1's, where this comes to $64.06" in rds["explanation"]


def test_multi_az_and_per_az_nat():
    s = sizing("small", {"rds_multi_az": True, "nat_gateway_mode": "per_az"})
    comps = by_name(cost_estimate(s, "us-east-1"))
    assert comps["RDS Database"]["monthly"] == round(0.144 * 730 + 100 * 0.23, 2)
    assert comps["RDS Database"]["explanation"].startswith("db.t3.medium Multi-AZ at $0.144/h x 730 h = $105.12")
    assert comps["NAT Gateway"]["monthly"] == round(3 * 0.045 * 730 + 250 * 0.045, 2)
    assert comps["NAT Gateway"]["explanation"].startswith("3 NAT gateways (one per zone) at $0.045/h")


def test_unpriced_instance_type_is_reported_not_counted():
    s = sizing("small", {"eks_node_instance_type": "c7g.large"})
    est = cost_estimate(s, "us-west-2")
    workers = by_name(est)["Worker Nodes"]
    assert workers["monthly"] is None and workers["delta_pct"] is None
    assert workers["explanation"].startswith("no us-west-2 EC2 price for 'c7g.large' in data/prices.yml")
    assert est["unpriced"] == ["Worker Nodes"]
    assert est["total"] == pytest.approx(583.41 - 206.21, abs=0.01)


def test_errors():
    with pytest.raises(AnsibleFilterError) as err:
        cost_estimate(sizing("small"), "ap-south-1")
    assert str(err.value) == (
        "platform_region: 'ap-south-1' has no price list in data/prices.yml; allowed: eu-west-1, us-east-1, us-west-2"
    )
    s = sizing("small")
    del s["rds_instance_class"]
    with pytest.raises(AnsibleFilterError) as err:
        cost_estimate(s, "us-east-1")
    assert str(err.value) == (
        "sizing.rds_instance_class: missing; allowed: the result of honeyhive.platform.sizing, which has it"
    )
    with pytest.raises(AnsibleFilterError, match=r"^sizing.preset: 'huge' has no seed figures"):
        cost_estimate(dict(sizing("small"), preset="huge"), "us-east-1")
    with pytest.raises(AnsibleFilterError, match=r"^sizing: 'small' is not a dict"):
        cost_estimate("small", "us-east-1")
    with pytest.raises(AnsibleFilterError, match=r"^estimate: 3 is not a cost estimate"):
        cost_table(3)


def test_cost_table():
    est = cost_estimate(sizing("small"), "us-west-2")
    table = cost_table(est)
    lines = table.splitlines()
    assert lines[0] == "Estimated monthly AWS cost: small in us-west-2 (USD, list prices of 2025-01, 730 h/month)"
    assert lines[1].split()[:5] == ["Component", "Ours", "Seed", "Delta", "Explanation"]
    rows = {line.split("  ")[0].strip(): line for line in lines[3:]}
    assert rows["EKS Cluster"].split() == ["EKS", "Cluster", "$73.00", "$73.00", "+0.0%"]
    assert "$206.21" in rows["Worker Nodes"] and "+37.5%" in rows["Worker Nodes"]
    assert "3 x t3.large at $0.0832/h" in rows["Worker Nodes"]
    assert rows["ElastiCache Redis"].split()[2:5] == ["$24.82", "-", "-"]
    assert rows["Seed components"].split()[2:5] == ["$501.65", "$458.00", "+9.5%"]
    assert rows["Total"].split()[1:4] == ["$583.41", "$458.00", "+27.4%"]
    # columns line up
    width = len(lines[2])
    assert set(lines[2]) == {"-"}
    for line in lines[1:2] + lines[3:]:
        if set(line) != {"-"}:
            assert line[width - 1] != " " and (len(line) == width or line[width] == " "), line


def test_cost_table_lists_unpriced():
    est = cost_estimate(sizing("small", {"rds_instance_class": "db.x2g.large"}), "us-west-2")
    assert cost_table(est).splitlines()[-1] == "Not priced: RDS Database"
