"""Read back everything a converge made, straight from the emulators, without ids.

``take(stack)`` reads the target account from moto directly (``HONEYHIVE_MOTO_URL``, not
through the AWS proxy, so no fault is injected and nothing is logged), and EKS, which the local
AWS serves itself, through the proxy as an observer (no fault, no log line) with the account administrator's
keys; moto with credentials of the target account, and the Twingate double through its API, and returns a
:class:`Snapshot`: for each kind of resource the list of its resources, each one reduced to
what identifies it and what a converge sets on it, with every generated id replaced by the
name of what it points at (a route's NAT gateway by its Name tag, a secret's KMS key by its
alias). Two converges of the same inventory on fresh emulators give equal snapshots, so a
comparison finds duplicates (a kind holding the same entry twice), leftovers and misses
without knowing how many resources a phase makes.

``covered_kinds(requests)`` maps the create calls of a run (the proxy's request log) to the
kinds they make, and names the create calls the read-back does not know: a phase that
starts making a new kind of resource must teach this module to read it back, or the
comparison would silently ignore it.

Run on its own it prints the snapshot of a running stack as JSON:
``python tests/integration/readback.py STATE_DIR``.
"""
from __future__ import annotations

import json
import re
import sys
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.exceptions
import yaml

ROOT = Path(__file__).resolve().parents[2]
LOCAL_HOST_VARS = ROOT / "inventories" / "local" / "host_vars" / "local-us-west-2.yml"
LOCAL_REGION_VARS = ROOT / "inventories" / "local" / "group_vars" / "us_west_2.yml"

# Create calls, by "service:Operation", and the kind of resource each makes.
CREATE_KINDS = {
    "ec2:CreateVpc": "vpc",
    "ec2:CreateSubnet": "subnet",
    "ec2:CreateInternetGateway": "internet_gateway",
    "ec2:AllocateAddress": "elastic_ip",
    "ec2:CreateNatGateway": "nat_gateway",
    "ec2:CreateRouteTable": "route_table",
    "ec2:CreateSecurityGroup": "security_group",
    "ec2:CreateVpcEndpoint": "vpc_endpoint",
    "ec2:CreateFlowLogs": "flow_log",
    "ec2:CreateLaunchTemplate": "launch_template",
    "ec2:CreateNetworkAcl": "network_acl",
    "iam:CreateRole": "iam_role",
    "iam:CreatePolicy": "iam_managed_policy",
    "iam:CreateOpenIDConnectProvider": "iam_oidc_provider",
    "iam:CreateInstanceProfile": "iam_instance_profile",
    "kms:CreateKey": "kms_key",
    "kms:CreateAlias": "kms_alias",
    "secretsmanager:CreateSecret": "secret",
    "logs:CreateLogGroup": "log_group",
    "route53:CreateHostedZone": "hosted_zone",
    "route53:ChangeResourceRecordSets": "dns_record",
    "acm:RequestCertificate": "acm_certificate",
    "ecs:CreateCluster": "ecs_cluster",
    "ecs:CreateService": "ecs_service",
    "ecs:RegisterTaskDefinition": "ecs_task_definition",
    "s3:CreateBucket": "s3_bucket",
    "eks:CreateCluster": "eks_cluster",
    "eks:CreateNodegroup": "eks_nodegroup",
    "eks:CreateAddon": "eks_addon",
    "eks:CreateFargateProfile": "eks_fargate_profile",
    "sqs:CreateQueue": "sqs_queue",
    "events:PutRule": "event_rule",
    "ecr:CreateRepository": "ecr_repository",
    "rds:CreateDBInstance": "db_instance",
    "rds:CreateDBCluster": "db_cluster",
    "rds:CreateDBParameterGroup": "db_parameter_group",
    "rds:CreateDBClusterParameterGroup": "db_cluster_parameter_group",
    "rds:CreateOptionGroup": "db_option_group",
    "rds:CreateDBSubnetGroup": "db_subnet_group",
    "docdb:CreateDBInstance": "db_instance",
    "docdb:CreateDBCluster": "db_cluster",
    "docdb:CreateDBClusterParameterGroup": "db_cluster_parameter_group",
    "docdb:CreateDBSubnetGroup": "db_subnet_group",
    "elasticache:CreateReplicationGroup": "cache_replication_group",
    "elasticache:CreateCacheSubnetGroup": "cache_subnet_group",
    "elasticache:CreateCacheParameterGroup": "cache_parameter_group",
    "backup:CreateBackupVault": "backup_vault",
    "backup:CreateBackupPlan": "backup_plan",
    "backup:CreateBackupSelection": "backup_selection",
}
# Create calls that make a part of a resource read back with its parent (a route is part of
# its route table, an inline policy part of its role).
PART_OF = {
    "ec2:CreateRoute": "route_table",
    "ec2:CreateTags": None,
    "iam:CreatePolicyVersion": "iam_managed_policy",
    "logs:CreateLogStream": "log_group",
    "eks:CreateAccessEntry": "eks_access_entry",
    "eks:CreatePodIdentityAssociation": "eks_pod_identity_association",
}
# Operation name prefixes that make something.
CREATE_PREFIXES = ("Create", "Allocate", "Register", "Request", "Run", "Import", "Issue")

# A random label of a DNS name (ACM validation records): _<32 hex digits>.
_RANDOM_LABEL = re.compile(r"_[0-9a-f]{16,}")
# The issuer of an EKS cluster's OIDC provider ends in an id made when the cluster is created.
_EKS_ISSUER = re.compile(r"^((?:https://)?oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/id/)[A-Za-z0-9]+$")


@dataclass
class Snapshot:
    """``kinds``: kind -> sorted list of entries (JSON strings); ``unavailable``: kind -> why."""

    kinds: dict = field(default_factory=dict)
    unavailable: dict = field(default_factory=dict)

    def counts(self) -> dict:
        return {kind: len(entries) for kind, entries in sorted(self.kinds.items())}

    def duplicates(self) -> dict:
        """kind -> {identity: count} for resources whose identity (name and scope) occurs twice.

        Two entries of one name count even when they differ otherwise: a KMS key left without
        its alias by an interrupted run beside the key a re-run made is a duplicate.
        """
        out = {}
        for kind, entries in self.kinds.items():
            counts = Counter(identity(json.loads(entry)) for entry in entries)
            dupes = {key: n for key, n in counts.items() if n > 1}
            if dupes:
                out[kind] = dupes
        return out

    def to_json(self) -> dict:
        return {"kinds": self.kinds, "unavailable": self.unavailable}


IDENTITY_FIELDS = ("name", "family", "domain", "url", "service", "type", "zone", "cluster", "vpc")


def identity(entry: dict) -> str:
    """What names one resource of a kind: its name and the scope the name is unique in."""
    return " ".join(f"{key}={entry[key]}" for key in IDENTITY_FIELDS if entry.get(key) is not None)


def difference(expected: Snapshot, actual: Snapshot) -> dict:
    """kind -> {"missing": [...], "extra": [...]} (multiset difference, so duplicates count)."""
    out = {}
    for kind in sorted(set(expected.kinds) | set(actual.kinds)):
        want, have = Counter(expected.kinds.get(kind, [])), Counter(actual.kinds.get(kind, []))
        missing = sorted((want - have).elements())
        extra = sorted((have - want).elements())
        if missing or extra:
            out[kind] = {"missing": missing, "extra": extra}
    return out


def describe_difference(diff: dict, limit: int = 12) -> str:
    lines = []
    for kind, parts in diff.items():
        for label in ("missing", "extra"):
            entries = parts[label]
            if not entries:
                continue
            lines.append(f"{kind}: {len(entries)} {label}")
            lines.extend(f"    {entry}" for entry in entries[:limit])
            if len(entries) > limit:
                lines.append(f"    ... {len(entries) - limit} more")
    return "\n".join(lines)


def covered_kinds(requests: list) -> tuple[set, list]:
    """(kinds the run's create calls made, create calls this module cannot read back)."""
    kinds, unknown = set(), []
    for request in requests:
        if not request.get("mutating") or request.get("injected") or request.get("service") == "moto":
            continue
        if not 200 <= int(request.get("status") or 0) < 300:
            continue
        op = f"{request.get('service')}:{request.get('operation')}"
        if op in CREATE_KINDS:
            kinds.add(CREATE_KINDS[op])
        elif op in PART_OF:
            continue
        elif str(request.get("operation") or "").startswith(CREATE_PREFIXES) and op not in unknown:
            unknown.append(op)
    return kinds, unknown


# ------------------------------------------------------------------------------- helpers


def _canon(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _tags(items, key="Key", value="Value") -> dict:
    return {tag[key]: tag[value] for tag in items or []}


def _name(tags: dict, fallback: str = "(no Name tag)") -> str:
    return tags.get("Name", fallback)


def _pages(client, operation, key, **kwargs):
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
    else:
        yield from getattr(client, operation)(**kwargs).get(key, [])


def _dns(name: str) -> str:
    if name.rstrip(".").endswith(".acm-validations.aws"):
        return "(an ACM validation target)"
    return _RANDOM_LABEL.sub("_<token>", name)


def _arn_name(arn: str) -> str:
    """The last path element of an ARN (role/x -> x, log-group:x:* -> x)."""
    if not arn:
        return arn
    if ":log-group:" in arn:
        return arn.split(":log-group:", 1)[1].rstrip("*").rstrip(":")
    return re.split(r"[:/]", arn)[-1]


# Services the local AWS serves itself (not moto): read through the proxy as an observer.
# Services the local AWS serves or completes itself (EKS, DocumentDB, RDS and ElastiCache's
# states and settings): read through the proxy, not from moto directly.
LOCAL_SERVICES = ("eks", "rds", "docdb", "elasticache", "backup")
OBSERVER_HEADER = "x-local-aws-observer"


def administrator_session(env: dict, region: str) -> boto3.Session:
    """The target account administrator's keys (``STATE/bootstrap.env``, which local.sh writes):
    the proxy enforces IAM, and the administrator may read everything."""
    path = Path(env["HONEYHIVE_LOCAL_STATE"]) / "bootstrap.env"
    keys = dict(line.split("=", 1) for line in path.read_text(encoding="utf-8").split())
    return boto3.Session(aws_access_key_id=keys["AWS_ACCESS_KEY_ID"], aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                         region_name=region)


def observer_client(env: dict, service: str, region: str):
    """A client of the AWS proxy, as the target account's administrator, whose requests get no
    fault and no request-log line."""
    client = administrator_session(env, region).client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name=region)
    client.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__(OBSERVER_HEADER, "1"))
    return client


class Reader:
    """Reads one account and region of moto (and the services the local AWS serves itself,
    through the proxy as an observer); ``names`` maps ids to names as they are learned."""

    def __init__(self, session: boto3.Session, endpoint: str, region: str, account: str, env: dict | None = None):
        self.session = session
        self.endpoint = endpoint
        self.env = env
        self.region = region
        self.account = account
        self.names: dict = {}
        self.snapshot = Snapshot()

    def client(self, service: str):
        if service in LOCAL_SERVICES and self.env:
            return observer_client(self.env, service, self.region)
        return self.session.client(service, endpoint_url=self.endpoint, region_name=self.region)

    def ref(self, value):
        """An id or ARN replaced by the name of what it points at."""
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            return sorted(str(self.ref(item)) for item in value)
        text = str(value)
        if text in self.names:
            return self.names[text]
        return text.replace(self.account, "<account>")

    def add(self, kind: str, entry: dict) -> None:
        self.snapshot.kinds.setdefault(kind, []).append(_canon(entry))

    def kind(self, kind: str, read) -> None:
        """Run ``read()``; an API the emulator lacks makes the kind unavailable, not an error."""
        self.snapshot.kinds.setdefault(kind, [])
        try:
            read()
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            # moto answers an API it lacks with 501, or with a bare 404 page (no error code).
            if code in ("NotImplemented", "InvalidAction", "UnknownOperationException") or status == 501 \
                    or (status == 404 and code == "404"):
                self.snapshot.unavailable[kind] = f"{code or status}: {exc}"
                return
            raise
        except NotImplementedError as exc:
            self.snapshot.unavailable[kind] = f"not implemented: {exc}"

    def done(self) -> Snapshot:
        for kind in self.snapshot.kinds:
            self.snapshot.kinds[kind].sort()
        return self.snapshot

    # --------------------------------------------------------------------------- EC2

    def ec2(self) -> None:
        ec2 = self.client("ec2")
        vpcs = [v for v in _pages(ec2, "describe_vpcs", "Vpcs") if not v.get("IsDefault")]
        ours = {v["VpcId"] for v in vpcs}
        for vpc in vpcs:
            self.names[vpc["VpcId"]] = _name(_tags(vpc.get("Tags")))
        subnets = [s for s in _pages(ec2, "describe_subnets", "Subnets") if s["VpcId"] in ours]
        for subnet in subnets:
            self.names[subnet["SubnetId"]] = _name(_tags(subnet.get("Tags")))
        groups = [g for g in _pages(ec2, "describe_security_groups", "SecurityGroups") if g.get("VpcId") in ours]
        for group in groups:
            # EKS names the cluster security group it makes with a number of its own choosing.
            self.names[group["GroupId"]] = re.sub(r"^(eks-cluster-sg-.+)-\d{10}$", r"\1-<n>", group["GroupName"])
        igws = list(_pages(ec2, "describe_internet_gateways", "InternetGateways"))
        for igw in igws:
            self.names[igw["InternetGatewayId"]] = _name(_tags(igw.get("Tags")))
        nats = list(_pages(ec2, "describe_nat_gateways", "NatGateways"))
        for nat in nats:
            self.names[nat["NatGatewayId"]] = _name(_tags(nat.get("Tags")))
        addresses = ec2.describe_addresses().get("Addresses", [])
        for address in addresses:
            self.names[address["AllocationId"]] = _name(_tags(address.get("Tags")))
        tables = [t for t in _pages(ec2, "describe_route_tables", "RouteTables") if t["VpcId"] in ours]
        for table in tables:
            main = any(a.get("Main") for a in table.get("Associations", []))
            self.names[table["RouteTableId"]] = _name(_tags(table.get("Tags")),
                                                      "(main table of %s)" % self.ref(table["VpcId"]) if main
                                                      else "(no Name tag)")
        endpoints = [e for e in _pages(ec2, "describe_vpc_endpoints", "VpcEndpoints") if e["VpcId"] in ours]
        for endpoint in endpoints:
            self.names[endpoint["VpcEndpointId"]] = _name(_tags(endpoint.get("Tags")), endpoint["ServiceName"])

        for vpc in vpcs:
            self.add("vpc", {"name": self.ref(vpc["VpcId"]), "cidr": vpc["CidrBlock"], "state": vpc.get("State")})
        for subnet in subnets:
            self.add("subnet", {"name": self.ref(subnet["SubnetId"]), "vpc": self.ref(subnet["VpcId"]),
                                "cidr": subnet["CidrBlock"], "az": subnet["AvailabilityZone"],
                                "az_id": subnet.get("AvailabilityZoneId"),
                                "public_ip_on_launch": subnet.get("MapPublicIpOnLaunch", False)})
        for igw in igws:
            self.add("internet_gateway", {"name": self.ref(igw["InternetGatewayId"]),
                                          "vpcs": self.ref([a["VpcId"] for a in igw.get("Attachments", [])])})
        for nat in nats:
            self.add("nat_gateway", {"name": self.ref(nat["NatGatewayId"]), "state": nat.get("State"),
                                     "subnet": self.ref(nat.get("SubnetId")),
                                     "addresses": self.ref([a.get("AllocationId") for a in nat.get("NatGatewayAddresses", [])])})
        for address in addresses:
            self.add("elastic_ip", {"name": self.ref(address["AllocationId"]), "domain": address.get("Domain"),
                                    "associated": bool(address.get("AssociationId"))})
        for table in tables:
            routes = []
            for route in table.get("Routes", []):
                destination = route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock") \
                    or ("prefix list of a gateway endpoint" if route.get("DestinationPrefixListId") else None)
                target = route.get("GatewayId") or route.get("NatGatewayId") or route.get("TransitGatewayId") \
                    or route.get("NetworkInterfaceId") or route.get("VpcPeeringConnectionId") or route.get("InstanceId")
                routes.append(f"{destination} -> {self.ref(target)} ({route.get('State', '')})")
            self.add("route_table", {
                "name": self.ref(table["RouteTableId"]), "vpc": self.ref(table["VpcId"]), "routes": sorted(routes),
                "subnets": self.ref([a["SubnetId"] for a in table.get("Associations", []) if a.get("SubnetId")]),
            })
        for group in groups:
            self.add("security_group", {
                "name": self.ref(group["GroupId"]), "vpc": self.ref(group["VpcId"]), "description": group.get("Description"),
                "tags_name": _tags(group.get("Tags")).get("Name"),
                "ingress": self._rules(group.get("IpPermissions", [])),
                "egress": self._rules(group.get("IpPermissionsEgress", [])),
            })
        for endpoint in endpoints:
            self.add("vpc_endpoint", {
                "name": self.ref(endpoint["VpcEndpointId"]), "service": endpoint["ServiceName"],
                "type": endpoint.get("VpcEndpointType"), "vpc": self.ref(endpoint["VpcId"]),
                "state": str(endpoint.get("State", "")).lower(),
                "route_tables": self.ref(endpoint.get("RouteTableIds", [])),
                "subnets": self.ref(endpoint.get("SubnetIds", [])),
                "security_groups": self.ref([g["GroupId"] for g in endpoint.get("Groups", [])]),
            })

        def flow_logs():
            for flow in _pages(ec2, "describe_flow_logs", "FlowLogs"):
                if flow.get("ResourceId") not in ours:
                    continue
                self.add("flow_log", {
                    "name": _name(_tags(flow.get("Tags"))), "vpc": self.ref(flow.get("ResourceId")),
                    "traffic": flow.get("TrafficType"), "destination": flow.get("LogGroupName") or self.ref(flow.get("LogDestination")),
                    "role": _arn_name(flow.get("DeliverLogsPermissionArn", "")),
                })
        self.kind("flow_log", flow_logs)

        def launch_templates():
            for template in _pages(ec2, "describe_launch_templates", "LaunchTemplates"):
                self.add("launch_template", {"name": template["LaunchTemplateName"],
                                             "versions": template.get("LatestVersionNumber")})
        self.kind("launch_template", launch_templates)

    def _rules(self, permissions) -> list:
        rules = []
        for perm in permissions:
            sources = [r["CidrIp"] for r in perm.get("IpRanges", [])] + [r["CidrIpv6"] for r in perm.get("Ipv6Ranges", [])] \
                + [str(self.ref(p["GroupId"])) for p in perm.get("UserIdGroupPairs", [])] \
                + [str(self.ref(p["PrefixListId"])) for p in perm.get("PrefixListIds", [])]
            for source in sources:
                rules.append(f"{perm.get('IpProtocol')} {perm.get('FromPort', 'all')}-{perm.get('ToPort', 'all')} {source}")
        return sorted(rules)

    # --------------------------------------------------------------------------- KMS

    def kms(self) -> None:
        kms = self.client("kms")
        aliases = [a for a in _pages(kms, "list_aliases", "Aliases") if not a["AliasName"].startswith("alias/aws/")]
        by_key = {}
        for alias in aliases:
            by_key.setdefault(alias.get("TargetKeyId"), []).append(alias["AliasName"])
        for key in _pages(kms, "list_keys", "Keys"):
            meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if meta.get("KeyManager") != "CUSTOMER":
                continue
            tags = _tags(kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags"), "TagKey", "TagValue")
            name = tags.get("Name") or (sorted(by_key.get(key["KeyId"], [])) or ["(no Name tag)"])[0]
            self.names[key["KeyId"]] = name
            self.names[meta["Arn"]] = name
            try:
                rotation = kms.get_key_rotation_status(KeyId=key["KeyId"]).get("KeyRotationEnabled")
            except botocore.exceptions.ClientError:
                rotation = None
            self.add("kms_key", {"name": name, "state": meta.get("KeyState"), "description": meta.get("Description"),
                                 "usage": meta.get("KeyUsage"), "rotation": rotation,
                                 "aliases": sorted(by_key.get(key["KeyId"], []))})
        for alias in aliases:
            self.names[alias["AliasArn"]] = alias["AliasName"]
            self.names[alias["AliasName"]] = alias["AliasName"]
            self.add("kms_alias", {"name": alias["AliasName"], "key": self.ref(alias.get("TargetKeyId"))})

    # --------------------------------------------------------------------------- IAM

    def iam(self) -> None:
        iam = self.client("iam")
        for policy in _pages(iam, "list_policies", "Policies", Scope="Local"):
            self.names[policy["Arn"]] = policy["PolicyName"]
            self.add("iam_managed_policy", {"name": policy["PolicyName"], "path": policy.get("Path"),
                                            "default_version": policy.get("DefaultVersionId"),
                                            "attachments": policy.get("AttachmentCount")})
        for role in _pages(iam, "list_roles", "Roles"):
            name = role["RoleName"]
            self.names[role["Arn"]] = name
            if role.get("Path", "/").startswith("/aws-service-role/"):
                continue
            attached = [p["PolicyName"] for p in _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)]
            inline = list(_pages(iam, "list_role_policies", "PolicyNames", RoleName=name))
            tags = _tags(iam.list_role_tags(RoleName=name).get("Tags"))
            self.add("iam_role", {"name": name, "path": role.get("Path"), "attached": sorted(attached),
                                  "inline": sorted(inline), "max_session": role.get("MaxSessionDuration"),
                                  "tags_name": tags.get("Name")})
        for profile in _pages(iam, "list_instance_profiles", "InstanceProfiles"):
            self.add("iam_instance_profile", {"name": profile["InstanceProfileName"],
                                              "roles": sorted(r["RoleName"] for r in profile.get("Roles", []))})
        for provider in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", []):
            detail = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])
            url = _EKS_ISSUER.sub(r"\1(the id of an EKS cluster's issuer)", detail.get("Url") or "")
            self.add("iam_oidc_provider", {"url": url, "client_ids": sorted(detail.get("ClientIDList", [])),
                                           "tags_name": _tags(detail.get("Tags")).get("Name")})

    # --------------------------------------------------------------------------- the rest

    def secrets(self) -> None:
        client = self.client("secretsmanager")
        for secret in _pages(client, "list_secrets", "SecretList"):
            tags = _tags(secret.get("Tags"))
            # A secret RDS manages (ManageMasterUserPassword) is named rds!db-<random id> or
            # rds!cluster-<random id>; it is known by the instance or cluster it belongs to.
            owner = tags.get("aws:rds:primaryDBInstanceArn") or tags.get("aws:rds:primaryDBClusterArn")
            name = "(the master user secret of %s)" % owner.split(":", 5)[5] if owner else secret["Name"]
            self.names[secret["ARN"]] = name
            self.add("secret", {"name": name, "kms_key": self.ref(secret.get("KmsKeyId")),
                                "tags_name": _tags(secret.get("Tags")).get("Name"),
                                "deleted": bool(secret.get("DeletedDate"))})

    def logs(self) -> None:
        client = self.client("logs")
        for group in _pages(client, "describe_log_groups", "logGroups"):
            self.add("log_group", {"name": group["logGroupName"], "retention": group.get("retentionInDays"),
                                   "kms_key": self.ref(group.get("kmsKeyId"))})

    def route53(self) -> None:
        client = self.client("route53")
        for zone in _pages(client, "list_hosted_zones", "HostedZones"):
            zone_id = zone["Id"].split("/")[-1]
            detail = client.get_hosted_zone(Id=zone_id)
            tags = _tags(client.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)
                         .get("ResourceTagSet", {}).get("Tags"))
            self.add("hosted_zone", {"name": zone["Name"], "private": zone.get("Config", {}).get("PrivateZone", False),
                                     "comment": zone.get("Config", {}).get("Comment"), "tags_name": tags.get("Name"),
                                     "vpcs": self.ref([v["VPCId"] for v in detail.get("VPCs") or []])})
            for record in _pages(client, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=zone_id):
                if record["Type"] in ("SOA", "NS") and record["Name"] == zone["Name"]:
                    continue
                values = sorted(_dns(r["Value"]) for r in record.get("ResourceRecords", []))
                self.add("dns_record", {"zone": zone["Name"], "name": _dns(record["Name"]), "type": record["Type"],
                                        "values": values, "alias": (record.get("AliasTarget") or {}).get("DNSName")})

    def acm(self) -> None:
        client = self.client("acm")
        for summary in _pages(client, "list_certificates", "CertificateSummaryList"):
            arn = summary["CertificateArn"]
            detail = client.describe_certificate(CertificateArn=arn)["Certificate"]
            tags = _tags(client.list_tags_for_certificate(CertificateArn=arn).get("Tags"))
            self.names[arn] = tags.get("Name", detail.get("DomainName"))
            self.add("acm_certificate", {"domain": detail.get("DomainName"), "status": detail.get("Status"),
                                         "sans": sorted(detail.get("SubjectAlternativeNames", [])),
                                         "tags_name": tags.get("Name")})

    def ecs(self) -> None:
        client = self.client("ecs")
        families = set()
        for family in _pages(client, "list_task_definition_families", "families", status="ACTIVE"):
            families.add(family)
            revisions = list(_pages(client, "list_task_definitions", "taskDefinitionArns",
                                    familyPrefix=family, status="ACTIVE"))
            revisions = [arn for arn in revisions if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]
            self.add("ecs_task_definition", {"family": family, "active_revisions": len(revisions)})
        arns = list(_pages(client, "list_clusters", "clusterArns"))
        for start in range(0, len(arns), 100):
            for cluster in client.describe_clusters(clusters=arns[start:start + 100])["clusters"]:
                self.add("ecs_cluster", {"name": cluster["clusterName"], "status": cluster.get("status"),
                                         "capacity_providers": sorted(cluster.get("capacityProviders") or [])})
                services = list(_pages(client, "list_services", "serviceArns", cluster=cluster["clusterArn"]))
                for offset in range(0, len(services), 10):
                    for service in client.describe_services(cluster=cluster["clusterArn"],
                                                            services=services[offset:offset + 10])["services"]:
                        if service.get("status") == "INACTIVE":
                            continue
                        self.add("ecs_service", {
                            "name": service["serviceName"], "cluster": cluster["clusterName"],
                            "status": service.get("status"), "desired": service.get("desiredCount"),
                            "task_definition": service.get("taskDefinition", "").rsplit("/", 1)[-1],
                            "subnets": self.ref(((service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {})
                                                .get("subnets", [])),
                        })

    def s3(self) -> None:
        client = self.client("s3")
        for bucket in client.list_buckets().get("Buckets", []):
            name = bucket["Name"]
            entry = {"name": name}
            try:
                rules = client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
                entry["encryption"] = sorted(
                    f"{r['ApplyServerSideEncryptionByDefault'].get('SSEAlgorithm')} "
                    f"{self.ref(r['ApplyServerSideEncryptionByDefault'].get('KMSMasterKeyID'))}"
                    for r in rules if "ApplyServerSideEncryptionByDefault" in r)
            except botocore.exceptions.ClientError:
                entry["encryption"] = None
            try:
                entry["public_access_block"] = client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
            except botocore.exceptions.ClientError:
                entry["public_access_block"] = None
            entry["versioning"] = client.get_bucket_versioning(Bucket=name).get("Status")
            self.add("s3_bucket", entry)

    def databases(self) -> None:
        rds = self.client("rds")

        def instances():
            for db in _pages(rds, "describe_db_instances", "DBInstances"):
                self.add("db_instance", {
                    "name": db["DBInstanceIdentifier"], "engine": db.get("Engine"), "class": db.get("DBInstanceClass"),
                    "cluster": db.get("DBClusterIdentifier"), "encrypted": db.get("StorageEncrypted"),
                    "key": self.ref(db.get("KmsKeyId")), "multi_az": db.get("MultiAZ"),
                    "subnet_group": (db.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
                    "security_groups": self.ref([g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups", [])]),
                    "secret": bool(db.get("MasterUserSecret"))})
        self.kind("db_instance", instances)

        def clusters():
            for cluster in _pages(rds, "describe_db_clusters", "DBClusters"):
                self.add("db_cluster", {
                    "name": cluster["DBClusterIdentifier"], "engine": cluster.get("Engine"),
                    "encrypted": cluster.get("StorageEncrypted"), "key": self.ref(cluster.get("KmsKeyId")),
                    "members": sorted(m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", [])),
                    "parameter_group": cluster.get("DBClusterParameterGroup"), "secret": bool(cluster.get("MasterUserSecret"))})
        self.kind("db_cluster", clusters)

        def parameter_groups():
            for group in _pages(rds, "describe_db_parameter_groups", "DBParameterGroups"):
                if not group["DBParameterGroupName"].startswith("default."):
                    self.add("db_parameter_group", {"name": group["DBParameterGroupName"],
                                                    "family": group.get("DBParameterGroupFamily")})
        self.kind("db_parameter_group", parameter_groups)

        def cluster_parameter_groups():
            for group in _pages(rds, "describe_db_cluster_parameter_groups", "DBClusterParameterGroups"):
                if not group["DBClusterParameterGroupName"].startswith("default."):
                    self.add("db_cluster_parameter_group", {"name": group["DBClusterParameterGroupName"],
                                                            "family": group.get("DBParameterGroupFamily")})
        self.kind("db_cluster_parameter_group", cluster_parameter_groups)

        def option_groups():
            for group in _pages(rds, "describe_option_groups", "OptionGroupsList"):
                if not group["OptionGroupName"].startswith("default:"):
                    self.add("db_option_group", {"name": group["OptionGroupName"], "engine": group.get("EngineName"),
                                                 "major": group.get("MajorEngineVersion")})
        self.kind("db_option_group", option_groups)

        def subnet_groups():
            for group in _pages(rds, "describe_db_subnet_groups", "DBSubnetGroups"):
                self.add("db_subnet_group", {"name": group["DBSubnetGroupName"],
                                             "subnets": self.ref([x["SubnetIdentifier"] for x in group.get("Subnets", [])])})
        self.kind("db_subnet_group", subnet_groups)

        cache = self.client("elasticache")

        def replication_groups():
            for group in _pages(cache, "describe_replication_groups", "ReplicationGroups"):
                self.add("cache_replication_group", {
                    "name": group["ReplicationGroupId"], "members": len(group.get("MemberClusters", [])),
                    "transit": group.get("TransitEncryptionEnabled"), "at_rest": group.get("AtRestEncryptionEnabled"),
                    "auth_token": group.get("AuthTokenEnabled"), "key": self.ref(group.get("KmsKeyId"))})
        self.kind("cache_replication_group", replication_groups)

        def cache_subnet_groups():
            for group in _pages(cache, "describe_cache_subnet_groups", "CacheSubnetGroups"):
                self.add("cache_subnet_group", {"name": group["CacheSubnetGroupName"],
                                                "subnets": self.ref([x["SubnetIdentifier"] for x in group.get("Subnets", [])])})
        self.kind("cache_subnet_group", cache_subnet_groups)

        def cache_parameter_groups():
            for group in _pages(cache, "describe_cache_parameter_groups", "CacheParameterGroups"):
                if not group["CacheParameterGroupName"].startswith("default."):
                    self.add("cache_parameter_group", {"name": group["CacheParameterGroupName"],
                                                       "family": group.get("CacheParameterGroupFamily")})
        self.kind("cache_parameter_group", cache_parameter_groups)

    def backup(self) -> None:
        client = self.client("backup")

        def vaults():
            for vault in _pages(client, "list_backup_vaults", "BackupVaultList"):
                if vault["BackupVaultName"].startswith(("Default", "aws/")):
                    continue
                self.add("backup_vault", {"name": vault["BackupVaultName"], "key": self.ref(vault.get("EncryptionKeyArn"))})
        self.kind("backup_vault", vaults)

        def plans():
            for plan in _pages(client, "list_backup_plans", "BackupPlansList"):
                self.add("backup_plan", {"name": plan["BackupPlanName"]})
                for selection in _pages(client, "list_backup_selections", "BackupSelectionsList",
                                        BackupPlanId=plan["BackupPlanId"]):
                    self.add("backup_selection", {"plan": plan["BackupPlanName"], "name": selection["SelectionName"],
                                                  "role": _arn_name(selection.get("IamRoleArn", ""))})
        self.kind("backup_plan", plans)
        self.snapshot.kinds.setdefault("backup_selection", [])

    def eks(self) -> None:
        client = self.client("eks")
        for name in _pages(client, "list_clusters", "clusters"):
            cluster = client.describe_cluster(name=name)["cluster"]
            self.add("eks_cluster", {"name": name, "version": cluster.get("version"), "status": cluster.get("status"),
                                     "role": _arn_name(cluster.get("roleArn", ""))})
            for group in _pages(client, "list_nodegroups", "nodegroups", clusterName=name):
                detail = client.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"]
                self.add("eks_nodegroup", {"cluster": name, "name": group, "status": detail.get("status"),
                                           "subnets": self.ref(detail.get("subnets", []))})
            def profiles(cluster_name=name):
                for profile in _pages(client, "list_fargate_profiles", "fargateProfileNames", clusterName=cluster_name):
                    self.add("eks_fargate_profile", {"cluster": cluster_name, "name": profile})
            self.kind("eks_fargate_profile", profiles)

            def addons(cluster_name=name):
                for addon in _pages(client, "list_addons", "addons", clusterName=cluster_name):
                    detail = client.describe_addon(clusterName=cluster_name, addonName=addon)["addon"]
                    self.add("eks_addon", {"cluster": cluster_name, "name": addon, "status": detail.get("status"),
                                           "role": _arn_name(detail.get("serviceAccountRoleArn") or "")})
            self.kind("eks_addon", addons)

            def access_entries(cluster_name=name):
                for principal in _pages(client, "list_access_entries", "accessEntries", clusterName=cluster_name):
                    entry = client.describe_access_entry(clusterName=cluster_name, principalArn=principal)["accessEntry"]
                    policies = [p["policyArn"].rsplit("/", 1)[-1] for p in _pages(
                        client, "list_associated_access_policies", "associatedAccessPolicies",
                        clusterName=cluster_name, principalArn=principal)]
                    self.add("eks_access_entry", {"cluster": cluster_name, "name": _arn_name(principal),
                                                  "type": entry.get("type"), "policies": sorted(policies)})
            self.kind("eks_access_entry", access_entries)

            def pod_identities(cluster_name=name):
                for summary in _pages(client, "list_pod_identity_associations", "associations", clusterName=cluster_name):
                    detail = client.describe_pod_identity_association(
                        clusterName=cluster_name, associationId=summary["associationId"])["association"]
                    self.add("eks_pod_identity_association", {
                        "cluster": cluster_name, "name": "%s/%s" % (detail["namespace"], detail["serviceAccount"]),
                        "role": _arn_name(detail["roleArn"])})
            self.kind("eks_pod_identity_association", pod_identities)

    def misc(self) -> None:
        def queues():
            for url in self.client("sqs").list_queues().get("QueueUrls", []):
                self.add("sqs_queue", {"name": url.rsplit("/", 1)[-1]})
        self.kind("sqs_queue", queues)

        def rules():
            for rule in _pages(self.client("events"), "list_rules", "Rules"):
                self.add("event_rule", {"name": rule["Name"], "bus": rule.get("EventBusName"), "state": rule.get("State")})
        self.kind("event_rule", rules)

        def repositories():
            for repo in _pages(self.client("ecr"), "describe_repositories", "repositories"):
                self.add("ecr_repository", {"name": repo["repositoryName"]})
        self.kind("ecr_repository", repositories)


# ------------------------------------------------------------------------------- Twingate

TWINGATE_LISTS = {
    "twingate_remote_network": ("remoteNetworks", "id name location"),
    "twingate_connector": ("connectors", "id name remoteNetwork { name }"),
    "twingate_group": ("groups", "id name"),
    "twingate_resource": ("resources", "id name address { value } remoteNetwork { name } groups { edges { node { name } } }"),
}


def _twingate(url: str, token: str, query: str, variables: dict) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "X-API-KEY": token})
    with urllib.request.urlopen(request, timeout=30) as answer:
        payload = json.loads(answer.read().decode())
    if payload.get("errors"):
        raise RuntimeError(f"Twingate double: {payload['errors']}")
    return payload["data"]


def read_twingate(snapshot: Snapshot, url: str, token: str) -> None:
    for kind, (field_name, selection) in TWINGATE_LISTS.items():
        query = ("query List($after: String) { %s(after: $after) { pageInfo { hasNextPage endCursor } "
                 "edges { node { %s } } } }" % (field_name, selection))
        entries, after = [], None
        while True:
            data = _twingate(url, token, query, {"after": after})[field_name]
            for edge in data["edges"]:
                node = edge["node"]
                entry = {"name": node["name"]}
                if "location" in node:
                    entry["location"] = node["location"]
                if "remoteNetwork" in node:
                    entry["remote_network"] = (node["remoteNetwork"] or {}).get("name")
                if "address" in node:
                    entry["address"] = (node["address"] or {}).get("value")
                if "groups" in node:
                    entry["groups"] = sorted(e["node"]["name"] for e in node["groups"]["edges"])
                entries.append(_canon(entry))
            if not data["pageInfo"]["hasNextPage"]:
                break
            after = data["pageInfo"]["endCursor"]
        snapshot.kinds[kind] = sorted(entries)


# ------------------------------------------------------------------------------- entry points


def local_inventory() -> tuple[str, str]:
    """(target account id, region) of the local inventory."""
    host = yaml.safe_load(LOCAL_HOST_VARS.read_text(encoding="utf-8"))
    region = yaml.safe_load(LOCAL_REGION_VARS.read_text(encoding="utf-8"))
    return str(host["platform_target_account_id"]), region["platform_region"]


def target_session(env: dict, account: str, region: str) -> boto3.Session:
    """Credentials of the target account, from moto's STS directly (moto keeps accounts apart)."""
    sts = boto3.client("sts", endpoint_url=env["HONEYHIVE_MOTO_URL"], region_name=region,
                       aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/readback", RoleSessionName="readback",
                                  ExternalId="readback")["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name=region)


def take(env: dict) -> Snapshot:
    """The snapshot of the emulators whose environment (``STATE_DIR/env``) is ``env``."""
    account, region = local_inventory()
    reader = Reader(target_session(env, account, region), env["HONEYHIVE_MOTO_URL"], region, account, env=env)
    # Order matters only for names: KMS keys and IAM ARNs first, so later kinds refer to them.
    reader.kms()
    reader.iam()
    reader.ec2()
    reader.secrets()
    reader.logs()
    reader.route53()
    reader.acm()
    reader.ecs()
    reader.s3()
    reader.databases()
    reader.backup()
    reader.eks()
    reader.misc()
    snapshot = reader.done()
    if env.get("TWINGATE_API_URL") and env.get("TWINGATE_API_TOKEN"):
        read_twingate(snapshot, env["TWINGATE_API_URL"], env["TWINGATE_API_TOKEN"])
    return snapshot


def main(argv: list) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from harness import read_env_file  # noqa: PLC0415  (the helpers of the integration tier)

    if len(argv) != 2:
        print("usage: readback.py STATE_DIR", file=sys.stderr)
        return 2
    snapshot = take(read_env_file(Path(argv[1]) / "env"))
    json.dump({"counts": snapshot.counts(), "duplicates": snapshot.duplicates(), **snapshot.to_json()},
              sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
