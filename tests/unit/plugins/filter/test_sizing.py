"""Unit tests for the sizing filter and data/sizing.yml."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.honeyhive.platform.plugins.filter.sizing import SCHEMA, FilterModule, sizing
from ansible_collections.honeyhive.platform.plugins.module_utils import platform_data

ALLOWED_KEYS = ", ".join(sorted(SCHEMA))


def test_filters_registered():
    assert set(FilterModule().filters()) == {"sizing"}


@pytest.mark.parametrize("preset", ["small", "medium", "large"])
def test_presets_are_complete_and_valid(preset):
    result = sizing(preset)
    assert set(result) == set(SCHEMA) | {"preset"}
    assert result["preset"] == preset


def test_small_is_the_seed_default():
    s = sizing("small")
    # seed 001 lines 207-223 and seed 002 lines 167-193
    assert s["eks_node_instance_type"] == "t3.large"
    assert (s["eks_node_min_size"], s["eks_node_desired_size"]) == (3, 3)
    assert s["eks_node_volume_size_gb"] == 100
    assert (s["karpenter_min_nodes"], s["karpenter_max_nodes"]) == (3, 10)
    assert s["rds_instance_class"] == "db.t3.medium"
    assert (s["rds_allocated_storage_gb"], s["rds_max_allocated_storage_gb"]) == (100, 1000)
    assert s["rds_backup_retention_days"] == 7
    assert s["rds_multi_az"] is False
    assert (s["s3_metrics_initial_gb"], s["s3_logs_initial_gb"], s["s3_backups_initial_gb"]) == (1000, 500, 200)
    assert s["s3_retention_days"] == 30
    assert (s["twingate_connector_cpu"], s["twingate_connector_memory"]) == (512, 1024)
    assert s["nat_gateway_mode"] == "single"


def test_node_ranges_follow_seed_001():
    # seed 001 lines 227-243: small 3-10, medium 10-50, large 50+
    assert (sizing("medium")["karpenter_min_nodes"], sizing("medium")["karpenter_max_nodes"]) == (10, 50)
    assert sizing("medium")["eks_node_desired_size"] == 10
    assert sizing("large")["karpenter_min_nodes"] == 50
    assert sizing("large")["karpenter_max_nodes"] > 50
    for preset in ("small", "medium", "large"):
        s = sizing(preset)
        assert s["eks_node_desired_size"] == s["karpenter_min_nodes"]
        assert s["nat_gateway_mode"] == "single"  # seed 002: one NAT gateway, $45 in every size


def test_overrides_apply():
    s = sizing("small", {"rds_multi_az": True, "eks_node_desired_size": 3, "karpenter_capacity_types": ["spot"]})
    assert s["rds_multi_az"] is True
    assert s["karpenter_capacity_types"] == ["spot"]
    assert sizing("small", None) == sizing("small") == sizing("small", {})


def test_results_do_not_share_the_cache():
    first = sizing("small")
    first["karpenter_instance_families"].append("x9")
    first["eks_node_min_size"] = 99
    assert sizing("small")["karpenter_instance_families"] == ["t3", "m5"]
    assert sizing("small")["eks_node_min_size"] == 3


def test_data_loaded_once():
    platform_data._load.cache_clear()
    sizing("small")
    sizing("medium")
    sizing("large", {"rds_backup_retention_days": 35})
    info = platform_data._load.cache_info()
    assert info.misses == 1 and info.hits >= 2


def test_unknown_preset():
    with pytest.raises(AnsibleFilterError) as err:
        sizing("xlarge")
    assert str(err.value) == "platform_size: 'xlarge' is not a known size; allowed: large, medium, small"


def test_unknown_key():
    with pytest.raises(AnsibleFilterError) as err:
        sizing("small", {"node_count": 3})
    assert str(err.value) == f"platform_sizing_overrides: unknown key 'node_count'; allowed: {ALLOWED_KEYS}"


def test_overrides_not_a_dict():
    with pytest.raises(AnsibleFilterError, match=r"^platform_sizing_overrides: \['x'\] is not a dict"):
        sizing("small", ["x"])


@pytest.mark.parametrize("overrides, message", [
    ({"eks_node_min_size": 0},
     "platform_sizing_overrides.eks_node_min_size: 0 is zero or negative; allowed: an integer from 1 to 450"),
    ({"karpenter_max_nodes": -5},
     "platform_sizing_overrides.karpenter_max_nodes: -5 is zero or negative; allowed: an integer from 1 to 1000"),
    ({"eks_node_desired_size": "3"},
     "platform_sizing_overrides.eks_node_desired_size: '3' is not an integer; allowed: an integer from 1 to 450"),
    ({"eks_node_desired_size": True},
     "platform_sizing_overrides.eks_node_desired_size: True is not an integer; allowed: an integer from 1 to 450"),
    ({"rds_backup_retention_days": 0},
     "platform_sizing_overrides.rds_backup_retention_days: 0 is zero or negative; allowed: an integer from 1 to 35"),
    ({"rds_backup_retention_days": 36},
     "platform_sizing_overrides.rds_backup_retention_days: 36 is out of range; allowed: an integer from 1 to 35"),
    ({"redis_replicas": -1},
     "platform_sizing_overrides.redis_replicas: -1 is negative; allowed: an integer from 0 to 5"),
    ({"cloudwatch_log_retention_days": 45},
     "platform_sizing_overrides.cloudwatch_log_retention_days: 45 is not one of the values AWS accepts; allowed: "
     "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"),
    ({"cloudwatch_log_retention_days": "30"},
     "platform_sizing_overrides.cloudwatch_log_retention_days: '30' is not valid; allowed: "
     "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"),
    ({"eks_node_instance_type": "t3-large"},
     "platform_sizing_overrides.eks_node_instance_type: 't3-large' is not a known instance type shape; allowed: "
     "an EC2 instance type such as 't3.large' or 'm6i.2xlarge'"),
    ({"rds_instance_class": "t3.medium"},
     "platform_sizing_overrides.rds_instance_class: 't3.medium' is not a known instance type shape; allowed: "
     "an RDS instance class such as 'db.t3.medium' or 'db.m6i.large'"),
    ({"redis_node_type": "cache.t3.huge"},
     "platform_sizing_overrides.redis_node_type: 'cache.t3.huge' is not a known instance type shape; allowed: "
     "an ElastiCache node type such as 'cache.t3.small' or 'cache.m5.large'"),
    ({"rds_multi_az": "yes"},
     "platform_sizing_overrides.rds_multi_az: 'yes' is not a boolean; allowed: true or false"),
    ({"nat_gateway_mode": "three"},
     "platform_sizing_overrides.nat_gateway_mode: 'three' is not valid; allowed: single, per_az"),
    ({"karpenter_capacity_types": []},
     "platform_sizing_overrides.karpenter_capacity_types: [] is not a non-empty list; allowed: a non-empty list "
     "of on-demand, spot"),
    ({"karpenter_capacity_types": ["spot", "spot"]},
     "platform_sizing_overrides.karpenter_capacity_types: ['spot', 'spot'] lists a value twice; allowed: a "
     "non-empty list of on-demand, spot"),
    ({"karpenter_instance_families": ["m5", "M5.large"]},
     "platform_sizing_overrides.karpenter_instance_families: ['m5', 'M5.large'] contains 'M5.large', which is not "
     "valid; allowed: a non-empty list of instance families such as 't3' or 'm6i'"),
    ({"twingate_connector_cpu": 500},
     "platform_sizing_overrides.twingate_connector_cpu: 500 is not one of the values AWS accepts; allowed: "
     "256, 512, 1024, 2048, 4096, 8192, 16384"),
])
def test_bad_override_values(overrides, message):
    with pytest.raises(AnsibleFilterError) as err:
        sizing("small", overrides)
    assert str(err.value) == message


@pytest.mark.parametrize("preset, overrides, message", [
    ("small", {"eks_node_min_size": 4},
     "platform_sizing_overrides.eks_node_min_size: 4 is greater than eks_node_desired_size (3); allowed: "
     "eks_node_min_size <= eks_node_desired_size <= eks_node_max_size"),
    ("small", {"eks_node_max_size": 2},
     "platform_sizing_overrides.eks_node_max_size: 2 is less than eks_node_desired_size (3); allowed: "
     "eks_node_min_size <= eks_node_desired_size <= eks_node_max_size"),
    ("medium", {"karpenter_min_nodes": 60},
     "platform_sizing_overrides.karpenter_min_nodes: 60 is greater than karpenter_max_nodes (50); allowed: "
     "karpenter_min_nodes <= karpenter_max_nodes"),
    ("small", {"eks_node_desired_size": 12, "eks_node_max_size": 12},
     "platform_sizing_overrides.eks_node_desired_size: 12 is greater than karpenter_max_nodes (10); allowed: "
     "eks_node_desired_size <= karpenter_max_nodes (the node group counts towards the cluster's node total)"),
    ("small", {"rds_max_allocated_storage_gb": 50},
     "platform_sizing_overrides.rds_max_allocated_storage_gb: 50 is less than rds_allocated_storage_gb (100); "
     "allowed: rds_allocated_storage_gb <= rds_max_allocated_storage_gb"),
    ("small", {"twingate_connector_memory": 8192},
     "platform_sizing_overrides.twingate_connector_memory: 8192 does not fit Fargate (cpu 512, memory 8192); "
     "allowed: for 512 CPU units, memory of 1024 to 4096 MiB in steps of 1024"),
    ("small", {"twingate_connector_cpu": 2048},
     "platform_sizing_overrides.twingate_connector_cpu: 2048 does not fit Fargate (cpu 2048, memory 1024); "
     "allowed: for 2048 CPU units, memory of 4096 to 16384 MiB in steps of 1024"),
])
def test_cross_field_checks(preset, overrides, message):
    with pytest.raises(AnsibleFilterError) as err:
        sizing(preset, overrides)
    assert str(err.value) == message


def test_valid_cross_field_overrides():
    s = sizing("small", {"eks_node_min_size": 2, "eks_node_desired_size": 4, "eks_node_max_size": 6,
                         "twingate_connector_cpu": 1024, "twingate_connector_memory": 2048})
    assert (s["eks_node_min_size"], s["eks_node_desired_size"], s["eks_node_max_size"]) == (2, 4, 6)
    assert sizing("small", {"twingate_connector_cpu": 256, "twingate_connector_memory": 1024})[
        "twingate_connector_cpu"] == 256


def test_data_files_are_read_from_the_collection_root():
    root = platform_data.DATA_DIR
    assert root.endswith("/data")
    assert platform_data.data_path("sizing") == f"{root}/sizing.yml"
    with pytest.raises(platform_data.PlatformDataError, match=r"cannot read the collection data file .*/nope.yml"):
        platform_data.load_data("nope")
    copy = platform_data.load_data_copy("sizing")
    copy["presets"]["small"]["eks_node_min_size"] = 99
    assert platform_data.load_data("sizing")["presets"]["small"]["eks_node_min_size"] == 3
