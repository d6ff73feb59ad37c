# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Cost filters: ``cost_estimate(sizing, region)`` and ``cost_table(estimate)``.

Prices, traffic assumptions and the seed's per-component figures live in
``data/prices.yml``. Documentation lives in the sidecar ``<filter>.yml`` files.
"""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.honeyhive.platform.plugins.module_utils.platform_data import (
    PlatformDataError,
    load_data,
)

EXPLAIN_ABOVE_PCT = 10.0
BASE_REGION = "us-east-1"  # the region whose list prices the seed's figures match
PER_AZ_NAT_GATEWAYS = 3  # nat_gateway_mode per_az: one gateway in each of the plan's three zones

SIZING_KEYS = (
    "preset", "eks_node_instance_type", "eks_node_desired_size", "eks_node_volume_size_gb",
    "twingate_connector_cpu", "twingate_connector_memory", "twingate_connector_count",
    "s3_metrics_initial_gb", "s3_logs_initial_gb", "s3_backups_initial_gb",
    "rds_instance_class", "rds_multi_az", "rds_allocated_storage_gb",
    "nat_gateway_mode", "redis_node_type", "redis_replicas",
    "docdb_instance_class", "docdb_instance_count",
)


def _prices() -> dict:
    try:
        data = load_data("prices")
    except PlatformDataError as exc:
        raise AnsibleFilterError(f"data/prices.yml: cannot load the price list: {exc}") from exc
    missing = [k for k in ("regions", "usage", "seed_costs", "seed_totals", "hours_per_month", "price_date")
               if k not in data]
    if missing:
        raise AnsibleFilterError(f"data/prices.yml: missing {', '.join(missing)}")
    return data


def _rate(value) -> str:
    """A unit price as written in the price list: $0.0832, $0.10, $0.004445."""
    text = f"{value:.6f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def _usd(value) -> str:
    return f"${value:,.2f}"


def _seed_usd(value) -> str:
    return f"${value:,.0f}" if float(value).is_integer() else f"${value:,.2f}"


def _num(value) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".")


class _Unpriced(Exception):
    pass


def _lookup(table: dict, key: str, what: str, region: str):
    if key not in table:
        raise _Unpriced(
            f"no {region} {what} price for {key!r} in data/prices.yml (priced: {', '.join(sorted(table))}); "
            "not counted in the total"
        )
    return table[key]


def _components(sizing: dict, region: str, p: dict, usage: dict, hours: int) -> list:
    """Return (component, function) pairs; each function returns (monthly, detail, note), where
    note(seed) explains a difference from the seed figure, or is None."""

    def eks():
        rate = p["eks_cluster_hour"]
        monthly = rate * hours
        return monthly, f"1 cluster at {_rate(rate)}/h x {hours} h = {_usd(monthly)}", None

    def workers():
        itype = sizing["eks_node_instance_type"]
        nodes = sizing["eks_node_desired_size"]
        disk = sizing["eks_node_volume_size_gb"]
        rate = _lookup(p["ec2_hour"], itype, "EC2", region)
        compute = nodes * rate * hours
        storage = nodes * disk * p["ebs_gp3_gb_month"]
        per_node = rate * hours + disk * p["ebs_gp3_gb_month"]
        detail = (
            f"{nodes} x {itype} at {_rate(rate)}/h x {hours} h = {_usd(compute)} plus {nodes} x {disk} GB gp3 "
            f"at {_rate(p['ebs_gp3_gb_month'])}/GB-month = {_usd(storage)}"
        )

        def note(seed):
            text = f"the seed's {_seed_usd(seed)} prices about {_num(seed / per_node)} such nodes"
            if seed < compute + storage:
                text += (
                    f", while the node group keeps {nodes} nodes always on (Karpenter adds more only under load)"
                )
            return text

        return compute + storage, detail, note

    def ecs():
        count = sizing["twingate_connector_count"]
        vcpu = sizing["twingate_connector_cpu"] / 1024
        mem_gb = sizing["twingate_connector_memory"] / 1024
        per_task = (vcpu * p["fargate_vcpu_hour"] + mem_gb * p["fargate_gb_hour"]) * hours
        monthly = count * per_task
        detail = (
            f"{count} x Twingate connector ({vcpu:g} vCPU, {mem_gb:g} GB) on Fargate at "
            f"{_rate(p['fargate_vcpu_hour'])}/vCPU-h and {_rate(p['fargate_gb_hour'])}/GB-h x {hours} h = "
            f"{_usd(monthly)}"
        )

        def note(seed):
            if seed > monthly:
                return (
                    f"the seed's {_seed_usd(seed)} also counts API and background worker services on ECS; "
                    "here those run on the EKS worker nodes and only the Twingate connectors use Fargate"
                )
            return f"the seed's {_seed_usd(seed)} prices about {_num(seed / per_task)} connectors"

        return monthly, detail, note

    def s3():
        parts = {
            "metrics": sizing["s3_metrics_initial_gb"],
            "logs": sizing["s3_logs_initial_gb"],
            "backups": sizing["s3_backups_initial_gb"],
        }
        total_gb = sum(parts.values())
        rate = p["s3_standard_gb_month"]
        monthly = total_gb * rate
        listed = ", ".join(f"{name} {gb:,}" for name, gb in parts.items())
        detail = f"{total_gb:,} GB S3 Standard ({listed}) at {_rate(rate)}/GB-month = {_usd(monthly)}"
        return monthly, detail, lambda seed: f"the seed's {_seed_usd(seed)} prices about {seed / rate:,.0f} GB"

    def rds():
        cls = sizing["rds_instance_class"]
        mode = "multi_az" if sizing["rds_multi_az"] else "single"
        label = "Multi-AZ" if sizing["rds_multi_az"] else "single-AZ"
        rate = _lookup(p["rds_hour"], cls, "RDS PostgreSQL", region)[mode]
        gb = sizing["rds_allocated_storage_gb"]
        gb_rate = p["rds_gp3_gb_month"][mode]
        compute, storage = rate * hours, gb * gb_rate
        detail = (
            f"{cls} {label} at {_rate(rate)}/h x {hours} h = {_usd(compute)} plus {gb} GB gp3 at "
            f"{_rate(gb_rate)}/GB-month = {_usd(storage)}"
        )

        def note(seed):
            ours = compute + storage
            single = _lookup(p["rds_hour"], cls, "RDS PostgreSQL", region)["single"] * hours
            single += gb * p["rds_gp3_gb_month"]["single"]
            if mode == "multi_az" and abs(single - seed) <= seed * EXPLAIN_ABOVE_PCT / 100:
                return (
                    f"the seed's {_seed_usd(seed)} matches this database single-AZ ({_usd(single)}); "
                    "Multi-AZ runs a standby and stores the data twice"
                )
            side = "below" if seed < ours else "above"
            text = f"the seed's {_seed_usd(seed)} is {abs(seed - ours) / ours * 100:.0f}% {side} this"
            if mode == "multi_az":
                text += f"; the same database single-AZ would cost {_usd(single)}"
            return text

        return compute + storage, detail, note

    def alb():
        rate, lcu_rate, lcu = p["alb_hour"], p["alb_lcu_hour"], usage["alb_lcu"]
        fixed, lcus = rate * hours, lcu * lcu_rate * hours
        detail = (
            f"1 ALB at {_rate(rate)}/h x {hours} h = {_usd(fixed)} plus {lcu:g} LCU at {_rate(lcu_rate)}/LCU-h "
            f"x {hours} h = {_usd(lcus)}"
        )

        def note(seed):
            if seed > fixed:
                return (
                    f"the seed's {_seed_usd(seed)} covers the hourly charge and about "
                    f"{_num((seed - fixed) / (lcu_rate * hours))} LCU"
                )
            return f"the seed's {_seed_usd(seed)} is below the hourly charge alone"

        return fixed + lcus, detail, note

    def nat():
        count = 1 if sizing["nat_gateway_mode"] == "single" else PER_AZ_NAT_GATEWAYS
        rate, gb_rate, gb = p["nat_gateway_hour"], p["nat_gateway_gb"], usage["nat_processed_gb"]
        fixed, processed = count * rate * hours, gb * gb_rate
        what = "1 NAT gateway" if count == 1 else f"{count} NAT gateways (one per zone)"
        detail = (
            f"{what} at {_rate(rate)}/h x {hours} h = {_usd(fixed)} plus {gb:,} GB processed at "
            f"{_rate(gb_rate)}/GB = {_usd(processed)}"
        )

        def note(seed):
            one = rate * hours
            if seed > one:
                return (
                    f"the seed's {_seed_usd(seed)} prices one gateway and about {(seed - one) / gb_rate:,.0f} GB "
                    "processed"
                )
            return f"the seed's {_seed_usd(seed)} is below one gateway's hourly charge"

        return fixed + processed, detail, note

    def transfer():
        gb, rate = usage["data_transfer_out_gb"], p["data_transfer_out_gb"]
        monthly = gb * rate
        detail = f"{gb:,} GB out to the internet at {_rate(rate)}/GB = {_usd(monthly)} (traffic assumed for the preset)"
        return monthly, detail, lambda seed: f"the seed's {_seed_usd(seed)} prices about {seed / rate:,.0f} GB"

    def redis():
        ntype = sizing["redis_node_type"]
        nodes = 1 + sizing["redis_replicas"]
        rate = _lookup(p["elasticache_hour"], ntype, "ElastiCache", region)
        monthly = nodes * rate * hours
        return monthly, f"{nodes} x {ntype} at {_rate(rate)}/h x {hours} h = {_usd(monthly)}", None

    def docdb():
        cls = sizing["docdb_instance_class"]
        count = sizing["docdb_instance_count"]
        rate = _lookup(p["docdb_hour"], cls, "DocumentDB", region)
        monthly = count * rate * hours
        detail = (
            f"{count} x {cls} at {_rate(rate)}/h x {hours} h = {_usd(monthly)} for the instances "
            "(storage and I/O are billed by use)"
        )
        return monthly, detail, None

    return [
        ("EKS Cluster", eks),
        ("Worker Nodes", workers),
        ("ECS Services", ecs),
        ("S3 Storage", s3),
        ("RDS Database", rds),
        ("Load Balancer", alb),
        ("NAT Gateway", nat),
        ("Data Transfer", transfer),
        ("ElastiCache Redis", redis),
        ("DocumentDB", docdb),
    ]


def cost_estimate(sizing, region):
    """Estimate the monthly AWS cost of ``sizing`` in ``region`` next to the seed's figures."""
    prices = _prices()
    if not isinstance(sizing, dict):
        raise AnsibleFilterError(
            f"sizing: {sizing!r} is not a dict; allowed: the result of honeyhive.platform.sizing"
        )
    for key in SIZING_KEYS:
        if key not in sizing:
            raise AnsibleFilterError(
                f"sizing.{key}: missing; allowed: the result of honeyhive.platform.sizing, which has it"
            )
    preset = sizing["preset"]
    if preset not in prices["seed_costs"] or preset not in prices["usage"]:
        raise AnsibleFilterError(
            f"sizing.preset: {preset!r} has no seed figures in data/prices.yml; allowed: "
            f"{', '.join(sorted(prices['seed_costs']))}"
        )
    regions = prices["regions"]
    if not isinstance(region, str) or region not in regions:
        raise AnsibleFilterError(
            f"platform_region: {region!r} has no price list in data/prices.yml; allowed: {', '.join(sorted(regions))}"
        )
    hours = prices["hours_per_month"]
    seeds = prices["seed_costs"][preset]
    usage = prices["usage"][preset]
    components = []
    unpriced = []
    base = {}
    if region != BASE_REGION and BASE_REGION in regions:
        for name, compute in _components(sizing, BASE_REGION, regions[BASE_REGION], usage, hours):
            try:
                base[name] = round(compute()[0], 2)
            except _Unpriced:
                pass
    for name, compute in _components(sizing, region, regions[region], usage, hours):
        seed = seeds.get(name)
        try:
            monthly, detail, note = compute()
        except _Unpriced as exc:
            unpriced.append(name)
            components.append({
                "component": name, "monthly": None, "seed": seed, "delta_pct": None, "explanation": str(exc),
            })
            continue
        monthly = round(monthly, 2)
        if seed is None:
            delta = None
            explanation = f"{detail}; not in the seed's cost table"
        else:
            delta = round((monthly - seed) / seed * 100, 1)
            explanation = ""
            if abs(delta) > EXPLAIN_ABOVE_PCT:
                at_base = base.get(name)
                if at_base is not None and abs(at_base - seed) <= seed * EXPLAIN_ABOVE_PCT / 100:
                    reason = (
                        f"{region} list prices differ from {BASE_REGION}'s, where this comes to {_usd(at_base)}, "
                        f"within {EXPLAIN_ABOVE_PCT:g}% of the seed's {_seed_usd(seed)}"
                    )
                else:
                    reason = note(seed) if note else f"the seed gives {_seed_usd(seed)}"
                explanation = f"{detail}; {reason}"
        components.append({
            "component": name, "monthly": monthly, "seed": seed, "delta_pct": delta, "explanation": explanation,
        })
    priced = [c for c in components if c["monthly"] is not None]
    return {
        "preset": preset,
        "region": region,
        "currency": prices.get("currency", "USD"),
        "price_date": str(prices["price_date"]),
        "hours_per_month": hours,
        "components": components,
        "total": round(sum(c["monthly"] for c in priced), 2),
        "seed_components_total": round(sum(c["monthly"] for c in priced if c["seed"] is not None), 2),
        "seed_total": prices["seed_totals"][preset],
        "unpriced": unpriced,
    }


def cost_table(estimate):
    """Render a ``cost_estimate`` result as a plain-text table."""
    if not isinstance(estimate, dict) or not isinstance(estimate.get("components"), list):
        raise AnsibleFilterError(
            f"estimate: {estimate!r} is not a cost estimate; allowed: the result of honeyhive.platform.cost_estimate"
        )
    for key in ("preset", "region", "total", "seed_total"):
        if key not in estimate:
            raise AnsibleFilterError(
                f"estimate.{key}: missing; allowed: the result of honeyhive.platform.cost_estimate"
            )

    def money(value):
        return "-" if value is None else _usd(value)

    def pct(value):
        return "-" if value is None else f"{value:+.1f}%"

    rows = [("Component", "Ours", "Seed", "Delta", "Explanation")]
    for comp in estimate["components"]:
        rows.append((
            str(comp.get("component", "")), money(comp.get("monthly")), money(comp.get("seed")),
            pct(comp.get("delta_pct")), str(comp.get("explanation") or ""),
        ))
    footer = []
    seed_total = estimate["seed_total"]
    if "seed_components_total" in estimate:
        ours = estimate["seed_components_total"]
        footer.append(("Seed components", money(ours), money(seed_total),
                       pct(round((ours - seed_total) / seed_total * 100, 1)) if seed_total else "-", ""))
    total = estimate["total"]
    footer.append(("Total", money(total), money(seed_total),
                   pct(round((total - seed_total) / seed_total * 100, 1)) if seed_total else "-",
                   "includes components the seed does not price" if "seed_components_total" in estimate
                   and estimate["seed_components_total"] != total else ""))
    widths = [max(len(r[i]) for r in rows + footer) for i in range(4)]

    def line(row):
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in (1, 2, 3)]
        return ("  ".join(cells) + ("  " + row[4] if row[4] else "")).rstrip()

    title = (
        f"Estimated monthly AWS cost: {estimate['preset']} in {estimate['region']} "
        f"({estimate.get('currency', 'USD')}, list prices of {estimate.get('price_date', 'unknown date')}, "
        f"{estimate.get('hours_per_month', 730)} h/month)"
    )
    rule = "-" * (sum(widths) + 6)
    out = [title, line(rows[0]), rule] + [line(r) for r in rows[1:]] + [rule] + [line(r) for r in footer]
    if estimate.get("unpriced"):
        out.append("Not priced: " + ", ".join(estimate["unpriced"]))
    return "\n".join(out)


class FilterModule:
    """Cost filters."""

    def filters(self):
        return {
            "cost_estimate": cost_estimate,
            "cost_table": cost_table,
        }
