# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Sizing filter: ``sizing(preset, overrides)``.

The presets live in ``data/sizing.yml``; this file holds the rules every key must follow,
so an override is checked exactly like a preset value. Documentation lives in the sidecar
``sizing.yml``.
"""
from __future__ import annotations

import copy
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.honeyhive.platform.plugins.module_utils.platform_data import (
    PlatformDataError,
    load_data,
)

OVERRIDES = "platform_sizing_overrides"

# An instance size: nano ... xlarge, Nxlarge, metal, metal-Nxl
_SIZE = r"(?:nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal(?:-[1-9][0-9]*xl)?)"
# An instance family: letters, a generation digit, optional attribute letters, optional -flex
_FAMILY = r"[a-z]+[1-9][a-z]*(?:-flex)?"
EC2_TYPE_RE = re.compile(rf"^{_FAMILY}\.{_SIZE}$")
RDS_CLASS_RE = re.compile(rf"^db\.{_FAMILY}\.{_SIZE}$")
CACHE_TYPE_RE = re.compile(rf"^cache\.{_FAMILY}\.{_SIZE}$")
FAMILY_RE = re.compile(rf"^{_FAMILY}$")

CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)
# Fargate CPU units -> allowed memory (MiB)
FARGATE_MEMORY = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}


def _int(low, high=None):
    return {"type": "int", "min": low, "max": high}


def _str(pattern, example):
    return {"type": "str", "pattern": pattern, "example": example}


def _choice(*choices):
    return {"type": "choice", "choices": choices}


def _list(choices=None, pattern=None, example=None):
    return {"type": "list", "choices": choices, "pattern": pattern, "example": example}


# The rules for every key. data/sizing.yml must define exactly these keys in each preset.
SCHEMA = {
    "eks_node_instance_type": _str(EC2_TYPE_RE, "an EC2 instance type such as 't3.large' or 'm6i.2xlarge'"),
    "eks_node_min_size": _int(1, 450),
    "eks_node_desired_size": _int(1, 450),
    "eks_node_max_size": _int(1, 450),
    "eks_node_volume_size_gb": _int(20, 16384),
    "eks_node_capacity_type": _choice("ON_DEMAND", "SPOT"),
    "karpenter_min_nodes": _int(1, 1000),
    "karpenter_max_nodes": _int(1, 1000),
    "karpenter_cpu_limit": _int(1, 100000),
    "karpenter_memory_limit_gib": _int(1, 1000000),
    "karpenter_capacity_types": _list(choices=("on-demand", "spot")),
    "karpenter_instance_families": _list(pattern=FAMILY_RE, example="instance families such as 't3' or 'm6i'"),
    "rds_instance_class": _str(RDS_CLASS_RE, "an RDS instance class such as 'db.t3.medium' or 'db.m6i.large'"),
    "rds_allocated_storage_gb": _int(20, 65536),
    "rds_max_allocated_storage_gb": _int(20, 65536),
    "rds_backup_retention_days": _int(1, 35),
    "rds_multi_az": {"type": "bool"},
    "redis_node_type": _str(CACHE_TYPE_RE, "an ElastiCache node type such as 'cache.t3.small' or 'cache.m5.large'"),
    "redis_replicas": _int(0, 5),
    "docdb_instance_class": _str(RDS_CLASS_RE, "a DocumentDB instance class such as 'db.t3.medium' or 'db.r5.large'"),
    "docdb_instance_count": _int(1, 16),
    "s3_metrics_initial_gb": _int(1),
    "s3_logs_initial_gb": _int(1),
    "s3_backups_initial_gb": _int(1),
    "s3_retention_days": _int(1, 36500),
    "cloudwatch_log_retention_days": _choice(*CLOUDWATCH_RETENTION_DAYS),
    "twingate_connector_cpu": _choice(*FARGATE_MEMORY),
    "twingate_connector_memory": _int(512, 122880),
    "twingate_connector_count": _int(1, 10),
    "nat_gateway_mode": _choice("single", "per_az"),
}


def _fail(key, value, allowed, problem="is not valid"):
    label = f"{OVERRIDES}.{key}" if key else OVERRIDES
    raise AnsibleFilterError(f"{label}: {value!r} {problem}; allowed: {allowed}")


def _check_value(key, value):
    rule = SCHEMA[key]
    kind = rule["type"]
    if kind == "int":
        low, high = rule["min"], rule["max"]
        allowed = f"an integer from {low} to {high}" if high is not None else f"an integer of at least {low}"
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(key, value, allowed, "is not an integer")
        if value < low or (high is not None and value > high):
            if value <= 0 < low:
                problem = "is zero or negative"
            elif value < 0:
                problem = "is negative"
            else:
                problem = "is out of range"
            _fail(key, value, allowed, problem)
        return int(value)
    if kind == "bool":
        if not isinstance(value, bool):
            _fail(key, value, "true or false", "is not a boolean")
        return bool(value)
    if kind == "choice":
        choices = rule["choices"]
        numeric = isinstance(choices[0], int)
        wrong_type = isinstance(value, bool) or not isinstance(value, int if numeric else str)
        if wrong_type or value not in choices:
            problem = "is not one of the values AWS accepts" if numeric and not wrong_type else "is not valid"
            _fail(key, value, ", ".join(str(c) for c in choices), problem)
        return int(value) if numeric else str(value)
    if kind == "str":
        if not isinstance(value, str) or not rule["pattern"].match(value):
            _fail(key, value, rule["example"], "is not a known instance type shape")
        return str(value)
    if kind == "list":
        if rule["choices"]:
            allowed = "a non-empty list of " + ", ".join(rule["choices"])
        else:
            allowed = "a non-empty list of " + rule["example"]
        if not isinstance(value, (list, tuple)) or not value:
            _fail(key, value, allowed, "is not a non-empty list")
        for item in value:
            ok = isinstance(item, str) and (
                item in rule["choices"] if rule["choices"] else bool(rule["pattern"].match(item))
            )
            if not ok:
                _fail(key, value, allowed, f"contains {item!r}, which is not valid")
        if len(set(value)) != len(value):
            _fail(key, value, allowed, "lists a value twice")
        return [str(item) for item in value]
    raise AssertionError(f"unknown rule type {kind}")  # pragma: no cover


def _blame(first, second, overridden):
    """The key to name in a cross-field error: an overridden one if there is one."""
    if second in overridden and first not in overridden:
        return second
    return first


def _check_relations(result, overridden):
    def order(low_key, high_key, allowed):
        if result[low_key] > result[high_key]:
            key = _blame(low_key, high_key, overridden)
            other = high_key if key == low_key else low_key
            relation = "is greater than" if key == low_key else "is less than"
            _fail(key, result[key], allowed, f"{relation} {other} ({result[other]})")

    order("eks_node_min_size", "eks_node_desired_size", "eks_node_min_size <= eks_node_desired_size <= eks_node_max_size")
    order("eks_node_desired_size", "eks_node_max_size", "eks_node_min_size <= eks_node_desired_size <= eks_node_max_size")
    order("eks_node_min_size", "eks_node_max_size", "eks_node_min_size <= eks_node_desired_size <= eks_node_max_size")
    order("karpenter_min_nodes", "karpenter_max_nodes", "karpenter_min_nodes <= karpenter_max_nodes")
    order("eks_node_desired_size", "karpenter_max_nodes",
          "eks_node_desired_size <= karpenter_max_nodes (the node group counts towards the cluster's node total)")
    order("rds_allocated_storage_gb", "rds_max_allocated_storage_gb",
          "rds_allocated_storage_gb <= rds_max_allocated_storage_gb")
    cpu, memory = result["twingate_connector_cpu"], result["twingate_connector_memory"]
    if memory not in FARGATE_MEMORY[cpu]:
        key = _blame("twingate_connector_memory", "twingate_connector_cpu", overridden)
        choices = FARGATE_MEMORY[cpu]
        _fail(
            key, result[key],
            f"for {cpu} CPU units, memory of {choices[0]} to {choices[-1]} MiB in steps of "
            f"{choices[1] - choices[0]}" if len(choices) > 1 else f"{choices[0]} MiB",
            f"does not fit Fargate (cpu {cpu}, memory {memory})",
        )


def _presets() -> dict:
    try:
        presets = load_data("sizing")["presets"]
    except (PlatformDataError, KeyError) as exc:
        raise AnsibleFilterError(f"data/sizing.yml: cannot load the size presets: {exc}") from exc
    for name, values in presets.items():
        if set(values) != set(SCHEMA):
            missing = sorted(set(SCHEMA) - set(values))
            extra = sorted(set(values) - set(SCHEMA))
            raise AnsibleFilterError(
                f"data/sizing.yml: preset {name!r} does not match the sizing keys (missing: {missing}, unknown: {extra})"
            )
    return presets


def sizing(preset, overrides=None):
    """Return the size preset ``preset`` merged with ``overrides``, every value checked."""
    presets = _presets()
    if not isinstance(preset, str) or preset not in presets:
        raise AnsibleFilterError(
            f"platform_size: {preset!r} is not a known size; allowed: {', '.join(sorted(presets))}"
        )
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        raise AnsibleFilterError(
            f"{OVERRIDES}: {overrides!r} is not a dict; allowed: a dict of sizing keys to values "
            f"({', '.join(sorted(SCHEMA))})"
        )
    for key in overrides:
        if key not in SCHEMA:
            raise AnsibleFilterError(
                f"{OVERRIDES}: unknown key {key!r}; allowed: {', '.join(sorted(SCHEMA))}"
            )
    values = copy.deepcopy(presets[preset])
    values.update(copy.deepcopy(dict(overrides)))
    result = {"preset": preset}
    for key in SCHEMA:
        result[key] = _check_value(key, values[key])
    _check_relations(result, set(overrides))
    return result


class FilterModule:
    """Sizing filter."""

    def filters(self):
        return {"sizing": sizing}
