# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""ElastiCache for Redis OSS in the strict local AWS: cache parameter groups and engine
versions (moto lacks them), replication groups refused, answered and timed as AWS does.

moto keeps the replication groups; :class:`LocalElastiCache` stands before and after it:

* Cache parameter groups (Create, Describe, Modify, DescribeCacheParameters, Delete) and
  ``DescribeCacheEngineVersions`` are served here, from :data:`ENGINE_VERSIONS` and
  :data:`REDIS7_PARAMETERS` (the redis7 family's defaults the collection touches).
* ``CreateReplicationGroup`` is refused as AWS refuses it: an ``AuthToken`` without
  in-transit encryption or outside AWS's rules (16 to 128 printable characters, the only
  symbols ``!&#$^<>-``), automatic failover with fewer than two cache clusters, Multi-AZ
  without automatic failover, an engine version or parameter group AWS does not have or of
  another family, a KMS key that does not exist or is not enabled, a security group EC2 does
  not know. ``ModifyReplicationGroup`` takes ``AuthToken`` with ``AuthTokenUpdateStrategy``
  ``ROTATE`` or ``SET`` (moto ignores both).
* A replication group has ``NumCacheClusters`` members (moto makes one), spread over the
  subnet group's zones, with endpoints in the request's region (moto says ``use1`` and
  ``us-east-1a`` everywhere); the token is never answered, only ``AuthTokenEnabled``.
* Time: ``creating`` then ``available``; ``modifying`` for a change applied immediately
  (``PendingModifiedValues.AuthTokenStatus`` says ``ROTATING`` / ``SETTING`` meanwhile);
  ``deleting``, then gone (moto keeps it ``deleting`` for ever). While not ``available`` a
  modify or delete is refused with ``InvalidReplicationGroupState``.

Messages marked (AWS) are quoted from AWS answers seen in public issue reports; the others
follow AWS's style and are marked (unconfirmed).
"""
from __future__ import annotations

import random
import string
import time

from .rds import MODIFY_SECONDS, LocalService, ServiceError, invalid_combination, invalid_value

# Engine versions ElastiCache offers for the families the collection uses: (engine, version,
# family, default). From the ElastiCache user guide, "Supported engines and versions"
# (docs.aws.amazon.com/AmazonElastiCache/latest/dg/supported-engine-versions.html).
ENGINE_VERSIONS = (
    ("redis", "7.0.7", "redis7", False),
    ("redis", "7.1.0", "redis7", True),
    ("valkey", "7.2.6", "valkey7", False),
    ("valkey", "8.0.1", "valkey8", True),
)
FAMILY_DESCRIPTIONS = {"redis": "Redis", "valkey": "Valkey"}
# redis7 parameters: name -> (default, data type, allowed values, modifiable, change type).
# From the ElastiCache user guide, "Redis OSS 7 parameter changes" and "Redis OSS-specific
# parameters" (ParameterGroups.Engine); the ones the collection sets, and their neighbours.
REDIS7_PARAMETERS = {
    "activedefrag": ("no", "string", "yes,no", True, "immediate"),
    "appendfsync": ("everysec", "string", "always,everysec,no", True, "immediate"),
    "appendonly": ("no", "string", "yes,no", True, "immediate"),
    "close-on-replica-write": ("yes", "string", "yes,no", True, "immediate"),
    "cluster-enabled": ("no", "string", "yes,no", True, "requires-reboot"),
    "databases": ("16", "integer", "1-1200000", True, "requires-reboot"),
    "lazyfree-lazy-eviction": ("no", "string", "yes,no", True, "immediate"),
    "lua-time-limit": ("5000", "integer", "5000", False, "immediate"),
    "maxclients": ("65000", "integer", "1-65000", False, "immediate"),
    "maxmemory-policy": ("volatile-lru", "string", "volatile-lru,allkeys-lru,volatile-lfu,allkeys-lfu,"
                         "volatile-random,allkeys-random,volatile-ttl,noeviction", True, "immediate"),
    "maxmemory-samples": ("3", "integer", "1-64", True, "immediate"),
    "notify-keyspace-events": ("", "string", None, True, "immediate"),
    "reserved-memory-percent": ("25", "integer", "0-100", True, "immediate"),
    "slowlog-log-slower-than": ("10000", "integer", "0-", True, "immediate"),
    "slowlog-max-len": ("128", "integer", "0-", True, "immediate"),
    "tcp-keepalive": ("300", "integer", "0-", True, "immediate"),
    "timeout": ("0", "integer", "0,20-", True, "immediate"),
}
FAMILY_PARAMETERS = {"redis7": REDIS7_PARAMETERS, "valkey7": REDIS7_PARAMETERS, "valkey8": REDIS7_PARAMETERS}
# The AUTH token (ElastiCache user guide, auth.html): printable ASCII, 16 to 128 characters,
# letters, digits and only these symbols.
TOKEN_SYMBOLS = "!&#$^<>-"
TOKEN_LENGTH = (16, 128)
# Region name -> the short code of ElastiCache endpoints (``usw2`` for us-west-2).
_DIRECTIONS = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "northeast": "ne",
               "southeast": "se", "northwest": "nw", "southwest": "sw"}


def region_code(region):
    parts = region.split("-")
    if len(parts) == 3 and parts[1] in _DIRECTIONS:
        return parts[0] + _DIRECTIONS[parts[1]] + parts[2]
    return region.replace("-", "")


def _family(engine, version):
    for name, known, family, _default in ENGINE_VERSIONS:
        if name == engine and (known == version or known.startswith(version + ".")):
            return family
    return None


def _valid_token(token):
    return (TOKEN_LENGTH[0] <= len(token) <= TOKEN_LENGTH[1]
            and all(c in string.ascii_letters or c in string.digits or c in TOKEN_SYMBOLS for c in token))


def _allowed(value, allowed, data_type):
    """Whether ``value`` is within a parameter's AllowedValues ("a,b", "1-64", "0,20-")."""
    if not allowed:
        return True
    if data_type != "integer":
        return value in allowed.split(",")
    if not value.isdigit():
        return False
    number = int(value)
    for part in allowed.split(","):
        low, dash, high = part.partition("-")
        if number == int(low) or (dash and number >= int(low) and (not high or number <= int(high))):
            return True
    return False


class LocalElastiCache(LocalService):
    """The ElastiCache side of the local AWS (see the module docstring)."""

    service = "elasticache"

    def __init__(self, strict, timing, clock=time.time):
        super().__init__(strict, timing, clock)
        self.parameter_groups = {}  # (account, region) -> {name: group}

    def apply(self, account, region, key, obj, status):
        groups = self.backend(account, region).replication_groups
        if status is None:
            if groups.get(key) is obj:
                del groups[key]
            return
        obj.status = status
        for group in obj.node_groups:
            group["status"] = status
        obj.pending_modified_values = None

    # -- engine versions and parameter groups ---------------------------------------------------

    def before_describe_cache_engine_versions(self, call, account, params):
        rows = []
        for engine, version, family, default in ENGINE_VERSIONS:
            if params.get("Engine") and params["Engine"] != engine:
                continue
            if params.get("EngineVersion") and not (version == params["EngineVersion"]
                                                    or version.startswith(params["EngineVersion"] + ".")):
                continue
            if params.get("CacheParameterGroupFamily") and params["CacheParameterGroupFamily"] != family:
                continue
            if params.get("DefaultOnly") and not default:
                continue
            rows.append({"Engine": engine, "EngineVersion": version, "CacheParameterGroupFamily": family,
                         "CacheEngineDescription": FAMILY_DESCRIPTIONS[engine],
                         "CacheEngineVersionDescription": "%s version %s" % (engine, version)})
        return self.answer("DescribeCacheEngineVersions", {"CacheEngineVersions": rows})

    def _groups(self, account, region):
        groups = self.parameter_groups.setdefault((account, region), {})
        for _engine, _version, family, _default in ENGINE_VERSIONS:
            for name in ("default." + family, "default.%s.cluster.on" % family):
                if name not in groups:
                    groups[name] = self._new_group(account, region, name, family, "Default parameter group for "
                                                   + family, default=True)
                    if name.endswith(".cluster.on"):
                        groups[name]["values"]["cluster-enabled"] = "yes"
        return groups

    @staticmethod
    def _new_group(account, region, name, family, description, default=False):
        return {"CacheParameterGroupName": name, "CacheParameterGroupFamily": family, "Description": description,
                "IsGlobal": False, "ARN": "arn:aws:elasticache:%s:%s:parametergroup:%s" % (region, account, name),
                "default": default, "values": {}}

    def _group(self, account, region, name):
        group = self._groups(account, region).get(name)
        if group is None:
            raise ServiceError("CacheParameterGroupNotFound", "CacheParameterGroup %s not found." % name, 404)
        return group

    @staticmethod
    def _view(group):
        return {k: v for k, v in group.items() if k not in ("default", "values")}

    def before_create_cache_parameter_group(self, call, account, params):
        name, family = params.get("CacheParameterGroupName"), params.get("CacheParameterGroupFamily")
        groups = self._groups(account, call.region)
        if family not in FAMILY_PARAMETERS:
            raise invalid_value("The parameter CacheParameterGroupFamily %s is not a valid value." % family)
        if name in groups:
            raise ServiceError("CacheParameterGroupAlreadyExists",
                               "Cache parameter group %s already exists." % name)  # (unconfirmed)
        group = groups[name] = self._new_group(account, call.region, name, family, params.get("Description") or "")
        if params.get("Tags"):
            self.backend(account, call.region).tagging_service.tag_resource(group["ARN"], params["Tags"])
        return self.answer("CreateCacheParameterGroup", {"CacheParameterGroup": self._view(group)})

    def before_describe_cache_parameter_groups(self, call, account, params):
        name = params.get("CacheParameterGroupName")
        groups = [self._group(account, call.region, name)] if name else list(self._groups(account, call.region).values())
        return self.answer("DescribeCacheParameterGroups", {"CacheParameterGroups": [self._view(g) for g in groups]})

    def before_modify_cache_parameter_group(self, call, account, params):
        group = self._group(account, call.region, params.get("CacheParameterGroupName"))
        if group["default"]:
            raise invalid_value("Default parameter group %s cannot be modified."  # (unconfirmed)
                                % group["CacheParameterGroupName"])
        table = FAMILY_PARAMETERS[group["CacheParameterGroupFamily"]]
        changes = {}
        for item in params.get("ParameterNameValues") or ():
            name, value = item.get("ParameterName"), item.get("ParameterValue")
            spec = table.get(name)
            if spec is None or not spec[3]:
                raise invalid_value("Parameter %s is not modifiable or does not exist." % name)  # (unconfirmed)
            if value is None or not _allowed(value, spec[2], spec[1]):
                raise invalid_value("Invalid value for parameter %s: %s" % (name, value))  # (unconfirmed)
            changes[name] = value
        group["values"].update(changes)
        return self.answer("ModifyCacheParameterGroup", {"CacheParameterGroupName": group["CacheParameterGroupName"]})

    def before_describe_cache_parameters(self, call, account, params):
        group = self._group(account, call.region, params.get("CacheParameterGroupName"))
        rows = []
        for name, (default, data_type, allowed, modifiable, change) in sorted(
                FAMILY_PARAMETERS[group["CacheParameterGroupFamily"]].items()):
            source = "user" if name in group["values"] else "system"
            if params.get("Source") and params["Source"] != source:
                continue
            row = {"ParameterName": name, "ParameterValue": group["values"].get(name, default), "Source": source,
                   "DataType": data_type, "IsModifiable": modifiable, "MinimumEngineVersion": "7.0.0",
                   "ChangeType": change, "Description": name}
            if allowed:
                row["AllowedValues"] = allowed
            rows.append(row)
        return self.answer("DescribeCacheParameters", {"Parameters": rows, "CacheNodeTypeSpecificParameters": []})

    def before_delete_cache_parameter_group(self, call, account, params):
        name = params.get("CacheParameterGroupName")
        group = self._group(account, call.region, name)
        if group["default"]:
            raise ServiceError("InvalidCacheParameterGroupState",
                               "Default parameter group %s cannot be deleted." % name)  # (unconfirmed)
        for replication_group in self.backend(account, call.region).replication_groups.values():
            if replication_group.cache_parameter_group_name == name:
                raise ServiceError("InvalidCacheParameterGroupState",
                                   "One or more cache clusters are still members of parameter group %s, so the "
                                   "group cannot be deleted." % name)  # (unconfirmed)
        del self._groups(account, call.region)[name]
        return self.answer("DeleteCacheParameterGroup", {})

    # -- subnet groups (moto has no DeleteCacheSubnetGroup) --------------------------------------

    def before_delete_cache_subnet_group(self, call, account, params):
        name = params.get("CacheSubnetGroupName")
        backend = self.backend(account, call.region)
        if name not in backend.cache_subnet_groups:
            raise ServiceError("CacheSubnetGroupNotFoundFault",
                               "Cache subnet group %s not found." % name, status=404)  # (unconfirmed)
        for replication_group in backend.replication_groups.values():
            if getattr(replication_group, "cache_subnet_group_name", None) == name:
                raise ServiceError("CacheSubnetGroupInUse",
                                   "Cache subnet group %s is currently in use by a cache cluster." % name)  # (unconfirmed)
        del backend.cache_subnet_groups[name]
        return self.answer("DeleteCacheSubnetGroup", {})

    # -- replication groups ---------------------------------------------------------------------

    def _check_token(self, token, transit):
        if not transit:
            raise invalid_value("The AUTH token is only supported when encryption-in-transit is enabled")  # (AWS)
        if not _valid_token(token):
            raise invalid_value("Invalid AuthToken provided.")  # (AWS)

    def key_error(self, ref, member):
        return ServiceError("InvalidParameterValue", "Invalid %s: the KMS key %s does not exist or is not "
                            "enabled" % (member, ref))  # (unconfirmed)

    def before_create_replication_group(self, call, account, params):
        region = call.region
        if params.get("AuthToken") is not None:
            self._check_token(params["AuthToken"], params.get("TransitEncryptionEnabled"))
        clusters = params.get("NumCacheClusters") or 1 + (params.get("ReplicasPerNodeGroup") or 0)
        cluster_mode = params.get("ClusterMode") == "enabled" or (params.get("NumNodeGroups") or 1) > 1
        if params.get("AutomaticFailoverEnabled") and not cluster_mode and clusters < 2:
            raise invalid_combination("When using automatic failover, there must be at least 2 cache clusters in "
                                      "the replication group.")  # (AWS)
        if params.get("MultiAZEnabled") and not params.get("AutomaticFailoverEnabled"):
            raise invalid_combination("Multi-AZ cannot be enabled without automatic failover.")  # (unconfirmed)
        engine = (params.get("Engine") or "redis").lower()
        family = _family(engine, params.get("EngineVersion") or "7.1")
        if family is None:
            raise invalid_combination("Cannot find version %s for %s" % (params.get("EngineVersion"), engine))
        if params.get("CacheParameterGroupName"):
            group = self._group(account, region, params["CacheParameterGroupName"])
            if group["CacheParameterGroupFamily"] != family:
                raise invalid_combination("The parameter group %s has family %s, which does not match the engine "
                                          "version's family %s." % (group["CacheParameterGroupName"],
                                                                    group["CacheParameterGroupFamily"],
                                                                    family))  # (unconfirmed)
        if params.get("KmsKeyId"):
            if not params.get("AtRestEncryptionEnabled"):
                raise invalid_combination("A KMS key can only be specified with at-rest encryption "
                                          "enabled.")  # (unconfirmed)
            self.usable_key(account, region, params["KmsKeyId"], "KmsKeyId")
        self.security_groups(account, region, params.get("SecurityGroupIds"))
        return None

    def _members(self, account, region, group, params):
        """NumCacheClusters members over the subnet group's zones, endpoints in ``region``."""
        zones = list(params.get("PreferredCacheClusterAZs") or ())
        subnet_group = self.backend(account, region).cache_subnet_groups.get(params.get("CacheSubnetGroupName"))
        if not zones and subnet_group is not None:
            ec2 = self.backend(account, region, "ec2")
            zones = sorted({ec2.get_subnet(s).availability_zone for s in subnet_group.subnet_ids})
        zones = zones or [region + "a"]
        suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
        domain = "%s.%s.%s.cache.amazonaws.com" % (group.replication_group_id, suffix, region_code(region))
        count = params.get("NumCacheClusters") or 1 + (params.get("ReplicasPerNodeGroup") or 0)
        for node_group in group.node_groups:
            if "primary_endpoint" not in node_group:
                continue  # cluster mode: moto's own layout
            for stale in ("primary_endpoint_address", "reader_endpoint_address"):
                node_group.pop(stale, None)
            node_group["primary_endpoint"] = {"address": "master." + domain, "port": group.port}
            node_group["reader_endpoint"] = {"address": "replica." + domain, "port": group.port}
            members = []
            for index in range(count):
                cluster_id = "%s-%03d" % (group.replication_group_id, index + 1)
                members.append({"cache_cluster_id": cluster_id, "cache_node_id": "0001",
                                "read_endpoint": {"address": "%s.%s" % (cluster_id, domain), "port": group.port},
                                "preferred_availability_zone": zones[index % len(zones)],
                                "current_role": "primary" if index == 0 else "replica"})
            node_group["node_group_members"] = members
            group.member_clusters = [m["cache_cluster_id"] for m in members]

    def after_create_replication_group(self, call, account, params, answer):
        region = call.region
        group = self.backend(account, region).replication_groups[params["ReplicationGroupId"]]
        self._members(account, region, group, params)
        if params.get("KmsKeyId"):
            group.kms_key_id = self.usable_key(account, region, params["KmsKeyId"], "KmsKeyId")
        group.engine_version = group.engine_version or "7.1"
        group.status = "creating"
        for node_group in group.node_groups:
            node_group["status"] = "creating"
        self.schedule(account, region, group.replication_group_id, group, "elasticache_replication_group_create",
                      [(1.0, "available")])
        return self.answer("CreateReplicationGroup", {"ReplicationGroup": group})

    def _replication_group(self, account, region, group_id):
        group = self.backend(account, region).replication_groups.get(group_id)
        if group is None:
            raise ServiceError("ReplicationGroupNotFoundFault", "ReplicationGroup %s not found." % group_id, 404)
        return group

    def before_modify_replication_group(self, call, account, params):
        group = self._replication_group(account, call.region, params.get("ReplicationGroupId"))
        if group.status != "available":
            raise ServiceError("InvalidReplicationGroupState", "Replication group %s is not in available state, "
                               "it is %s." % (group.replication_group_id, group.status))  # (unconfirmed)
        strategy = params.get("AuthTokenUpdateStrategy")
        if params.get("AuthToken") is not None:
            self._check_token(params["AuthToken"], group.transit_encryption_enabled)
            if strategy not in (None, "ROTATE", "SET"):
                raise invalid_combination("AuthTokenUpdateStrategy %s cannot be used with an AuthToken."  # (unconfirmed)
                                          % strategy)
        elif strategy in ("ROTATE", "SET"):
            raise invalid_combination("AuthTokenUpdateStrategy %s requires an AuthToken." % strategy)  # (unconfirmed)
        return None

    def after_modify_replication_group(self, call, account, params, answer):
        region = call.region
        group = self._replication_group(account, region, params["ReplicationGroupId"])
        token = params.get("AuthToken")
        if token is not None:
            strategy = params.get("AuthTokenUpdateStrategy") or "ROTATE"
            group.auth_token_enabled = True
            from moto.core.utils import utcnow

            group.auth_token_last_modified_date = utcnow()
            group.pending_modified_values = {"auth_token_status": "ROTATING" if strategy == "ROTATE" else "SETTING"}
        if params.get("ApplyImmediately") or token is not None:
            group.status = "modifying"
            self.schedule(account, region, group.replication_group_id, group,
                          ("elasticache_replication_group_modify", MODIFY_SECONDS), [(1.0, "available")])
        return self.answer("ModifyReplicationGroup", {"ReplicationGroup": group})

    def before_delete_replication_group(self, call, account, params):
        group = self._replication_group(account, call.region, params.get("ReplicationGroupId"))
        if group.status != "available":
            raise ServiceError("InvalidReplicationGroupState", "Replication group %s has status %s which is not "
                               "valid for deletion." % (group.replication_group_id, group.status))  # (unconfirmed)
        return None

    def after_delete_replication_group(self, call, account, params, answer):
        region = call.region
        group = self._replication_group(account, region, params["ReplicationGroupId"])
        for node_group in group.node_groups:
            node_group["status"] = "deleting"
        self.schedule(account, region, group.replication_group_id, group, "elasticache_replication_group_delete",
                      [(1.0, None)])
        return answer
