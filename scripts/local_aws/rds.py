# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""RDS for PostgreSQL in the strict local AWS: what moto 5.2 accepts and AWS refuses, the
engine versions AWS offers, Performance Insights, and the time an instance takes.

moto keeps the DB instances (``rds`` backend); :class:`LocalRds` stands before and after it:

* ``DescribeDBEngineVersions`` (moto lacks it) is answered from :data:`POSTGRES_VERSIONS`;
  ``CreateOptionGroup`` accepts PostgreSQL majors moto does not know (moto stops at 13).
* ``CreateDBInstance`` / ``ModifyDBInstance`` are refused as AWS refuses them: an engine
  version AWS does not offer, a parameter group of another family, a monitoring role that
  does not exist or does not trust ``monitoring.rds.amazonaws.com``, a KMS key that does not
  exist or is not enabled, security groups that do not exist or sit in another VPC, a
  subnet group in one zone for Multi-AZ, gp2/gp3 storage outside 20-65536 GiB, a storage
  autoscaling ceiling below the storage, log types PostgreSQL does not export, a Performance
  Insights retention AWS does not offer.
* Performance Insights (``PerformanceInsightsEnabled``, ``...KMSKeyId``, ``...RetentionPeriod``)
  is kept on moto's instance and answered; moto drops it. KMS keys are answered as key ARNs,
  the AWS managed ``aws/rds`` key where none was given (moto answers ``default_kms_key_id``).
* Time: an instance is ``creating`` then ``backing-up`` (its first automated backup, when
  backups are on) then ``available``; a modification applied immediately is ``modifying``; a
  deleted instance is ``deleting``, then gone. Durations are timing.DURATIONS' (scaled; 0 with
  the ``timing`` switch off), each recorded for ``make bench``. Transitions happen lazily: each
  RDS request first settles what has come due. While an instance is not ``available``, AWS
  refuses to modify or delete it (``InvalidDBInstanceState``), and so does this.

Messages quoted from AWS answers seen in public issue reports are marked (AWS); the others
follow AWS's style and are marked (unconfirmed).
"""
from __future__ import annotations

import json
import re
import threading
import time
from urllib.parse import unquote

from . import core, protocol, wire
from .iam import resolve_principal
from .moto_bridge import MotoBridge

# PostgreSQL versions AWS offers, by major: the parameter group family, the minor versions and
# the default one. From the Amazon RDS for PostgreSQL release notes ("Supported PostgreSQL
# versions", docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes) and
# `aws rds describe-db-engine-versions --engine postgres` as of mid-2025; the defaults move.
POSTGRES_VERSIONS = {
    "15": {"family": "postgres15", "versions": ("15.7", "15.8", "15.10", "15.12", "15.13"), "default": "15.12"},
    "16": {"family": "postgres16", "versions": ("16.3", "16.4", "16.6", "16.8", "16.9"), "default": "16.8"},
    "17": {"family": "postgres17", "versions": ("17.2", "17.4", "17.5"), "default": "17.4"},
}
DEFAULT_POSTGRES_MAJOR = "17"
# Log types RDS for PostgreSQL publishes to CloudWatch Logs (RDS user guide,
# USER_LogAccess.Concepts.PostgreSQL.PublishtoCloudWatchLogs).
POSTGRES_LOG_TYPES = ("postgresql", "upgrade", "iam-db-auth-error")
# Enhanced Monitoring intervals (CreateDBInstance API reference, MonitoringInterval).
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
# Performance Insights retention: 7 days (free tier), 31 * months (1-23) or 731 days
# (CreateDBInstance API reference, PerformanceInsightsRetentionPeriod).
PI_RETENTION = frozenset([7, 731] + [31 * month for month in range(1, 24)])
# gp2 and gp3 sizes for PostgreSQL (RDS user guide, CHAP_Storage: 20 GiB to 64 TiB).
GENERAL_PURPOSE_STORAGE = (20, 65536)
# A modification applied immediately: no figure in timing.DURATIONS; AWS shows ``modifying``
# for about a minute for a parameter, monitoring or Performance Insights change (RDS user
# guide, Overview.DBInstance.Modifying; unconfirmed figure).
MODIFY_SECONDS = 60
# The share of an instance's creation spent backing up (its first automated backup).
BACKUP_SHARE = 0.2
MANAGED_KEY_DESCRIPTION = "Default key that protects my RDS database volumes when no other key is defined"


class ServiceError(Exception):
    """An error answer: the wire code and message (HTTP 400 unless ``status``)."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def invalid_value(message):
    return ServiceError("InvalidParameterValue", message)


def invalid_combination(message):
    return ServiceError("InvalidParameterCombination", message)


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)).lower()


class LocalService(core.Behaviour):
    """What the local RDS and ElastiCache share: moto's backend, the lazy timers, answers in
    the query protocol (moto's own serializer, from botocore's output shape) and errors.

    Always on (``name`` is empty): the refusals are AWS's. The time each transition takes
    comes from :class:`timing.Timing` (0 with its switch off); ``clock`` is the wall clock,
    replaceable in tests.
    """

    name = ""
    service = ""

    def __init__(self, strict, timing, clock=time.time):
        super().__init__(strict)
        self.timing = timing
        self.clock = clock
        self.lock = threading.RLock()
        self.timers = {}  # (account, region, id) -> {"obj", "steps": [(when, status or None)]}

    # -- plumbing ------------------------------------------------------------------------------

    def backend(self, account, region, service=None):
        return MotoBridge.backend(service or self.service, account, region)

    def seconds(self, kind, real_seconds=None):
        """Wall seconds of ``kind`` (timing.DURATIONS), or of ``real_seconds`` at the same scale."""
        if real_seconds is None:
            return self.timing.duration(kind)
        return self.timing.settings.scaled(real_seconds) if self.timing.settings.on(self.timing.name) else 0.0

    def schedule(self, account, region, key, obj, kind, steps):
        """Put ``obj`` through ``steps`` ([(share of the duration, status or None to remove)])
        over ``kind``'s duration, recorded for the bench."""
        seconds = self.seconds(kind) if isinstance(kind, str) else self.seconds(kind[0], kind[1])
        name = kind if isinstance(kind, str) else kind[0]
        start = self.clock()
        self.timing.record(name, key, start, seconds)
        at, plan = start, []
        for share, status in steps:
            at += seconds * share
            plan.append((at, status))
        self.timers[(account, region, key)] = {"obj": obj, "steps": plan}

    def settle(self, account, region):
        now = self.clock()
        for (acc, reg, key), timer in list(self.timers.items()):
            if (acc, reg) != (account, region):
                continue
            while timer["steps"] and timer["steps"][0][0] <= now:
                _, status = timer["steps"].pop(0)
                self.apply(account, region, key, timer["obj"], status)
            if not timer["steps"]:
                del self.timers[(acc, reg, key)]

    def apply(self, account, region, key, obj, status):
        """Move ``obj`` to ``status`` (None: it is gone)."""
        raise NotImplementedError

    def before(self, call):
        if call.service != self.service or not call.operation:
            return None
        principal = resolve_principal(call)
        account = principal.account if principal else ""
        try:
            params = call.params
        except protocol.ProtocolError:
            return None  # moto answers a malformed request
        with self.lock:
            self.settle(account, call.region)
            handler = getattr(self, "before_" + _snake(call.operation), None)
            if handler is None:
                return None
            try:
                return handler(call, account, params)
            except ServiceError as exc:
                return self.error(call, exc)

    def after(self, call, answer):
        if call.service != self.service or answer.status != 200 or not call.operation:
            return answer
        handler = getattr(self, "after_" + _snake(call.operation), None)
        if handler is None:
            return answer
        principal = resolve_principal(call)
        with self.lock:
            return handler(call, principal.account if principal else "", call.params, answer) or answer

    def error(self, call, exc):
        status, headers, body = wire.error_response(call.kind or "query", exc.status, exc.code, exc.message,
                                                    call.model)
        return core.Answer(status, headers, body)

    def answer(self, operation, result):
        """``result`` (a dict or moto's objects) in ``operation``'s output shape, as XML."""
        from moto.core.serialize import QuerySerializer, XFormedAttributePicker
        from moto.core.utils import get_service_model

        op_model = get_service_model(self.service).operation_model(operation)
        out = QuerySerializer(operation_model=op_model, value_picker=XFormedAttributePicker()).serialize(result)
        body = out["body"]
        return core.Answer(out["status_code"], list(out["headers"].items()),
                           body.encode("utf-8") if isinstance(body, str) else body)

    # -- other services' state -----------------------------------------------------------------

    def kms_key(self, account, region, ref):
        """moto's KMS key ``ref`` names (id, ARN, alias or alias ARN), or None."""
        try:
            return self.backend(account, region, "kms").describe_key(ref)
        except Exception:  # noqa: BLE001 - moto's NotFoundException, an unknown alias
            return None

    def managed_key(self, account, region, alias):
        """The AWS managed key ``alias`` (``alias/aws/rds``): AWS makes it on first use."""
        kms = self.backend(account, region, "kms")
        key = self.kms_key(account, region, alias)
        if key is None:
            key = kms.create_key(policy=None, key_usage="ENCRYPT_DECRYPT", key_spec="SYMMETRIC_DEFAULT",
                                 description=MANAGED_KEY_DESCRIPTION, tags=None)
            key.key_manager = "AWS"
            kms.add_alias(key.id, alias)
        return key

    def usable_key(self, account, region, ref, member):
        """The ARN of the enabled symmetric key ``ref``; AWS refuses any other."""
        if ref.startswith("alias/aws/"):
            return self.managed_key(account, region, ref).arn
        key = self.kms_key(account, region, ref)
        if key is None or key.key_state != "Enabled" or key.key_spec != "SYMMETRIC_DEFAULT":
            raise self.key_error(ref, member)
        return key.arn

    def key_error(self, ref, member):
        return ServiceError("KMSKeyNotAccessibleFault", "The specified KMS key [%s] does not exist, is not enabled or "
                            "you do not have permissions to access it." % ref)  # (AWS)

    def security_groups(self, account, region, ids):
        """``{id: vpc id}`` of ``ids``; raises InvalidParameterValue for one EC2 does not know."""
        ec2 = self.backend(account, region, "ec2")
        found = {}
        for group_id in ids or ():
            group = ec2.get_security_group_from_id(group_id)
            if group is None:
                raise invalid_value("Invalid security group , groupId= %s, groupName=." % group_id)  # (unconfirmed)
            found[group_id] = group.vpc_id
        return found


def _trust_document(role):
    document = role.assume_role_policy_document
    if isinstance(document, str):
        try:
            document = json.loads(unquote(document) if document.startswith("%7B") else document)
        except ValueError:
            return {}
    return document or {}


def _trusts(role, service):
    statements = _trust_document(role).get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal") or {}
        services = principal.get("Service") if isinstance(principal, dict) else None
        services = [services] if isinstance(services, str) else services or []
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") == "Allow" and service in services and (
                "sts:AssumeRole" in actions or "sts:*" in actions or "*" in actions):
            return True
    return False


def postgres_version(requested):
    """``(version, major)`` AWS would create for ``requested`` ("16", "16.4" or None), or
    ``(requested, None)`` when AWS offers no such version."""
    if not requested:
        major = DEFAULT_POSTGRES_MAJOR
        return POSTGRES_VERSIONS[major]["default"], major
    major = requested.split(".")[0]
    entry = POSTGRES_VERSIONS.get(major)
    if entry is None:
        return requested, None
    if requested == major:
        return entry["default"], major
    return (requested, major) if requested in entry["versions"] else (requested, None)


class LocalRds(LocalService):
    """The RDS side of the local AWS (see the module docstring)."""

    service = "rds"

    def apply(self, account, region, key, obj, status):
        databases = self.backend(account, region).databases
        if status is None:
            if databases.get(key) is obj:
                del databases[key]
        else:
            obj.status = status

    # -- engine versions and option groups ------------------------------------------------------

    def before_describe_db_engine_versions(self, call, account, params):
        engine = params.get("Engine")
        filters = {f.get("Name"): f.get("Values") or [] for f in params.get("Filters") or []}
        unknown = set(filters) - {"engine", "engine-version", "db-parameter-group-family", "status"}
        if unknown:
            raise invalid_value("Unrecognized filter name: %s" % sorted(unknown)[0])  # (unconfirmed)
        if engine not in (None, "postgres") or (filters.get("engine") and "postgres" not in filters["engine"]):
            return None  # another engine: not in this table
        wanted = params.get("EngineVersion")
        family = params.get("DBParameterGroupFamily")
        versions = []
        for major, entry in POSTGRES_VERSIONS.items():
            if family and entry["family"] != family:
                continue
            if filters.get("db-parameter-group-family") and entry["family"] not in filters["db-parameter-group-family"]:
                continue
            for version in entry["versions"]:
                if wanted and not (version == wanted or version.startswith(wanted + ".")):
                    continue
                if filters.get("engine-version") and version not in filters["engine-version"]:
                    continue
                if params.get("DefaultOnly") and version != entry["default"]:
                    continue
                versions.append(self._engine_version(major, version))
        if params.get("DefaultOnly") and not wanted and not family:
            default = POSTGRES_VERSIONS[DEFAULT_POSTGRES_MAJOR]["default"]
            versions = [v for v in versions if v["EngineVersion"] == default]
        if filters.get("status") and "available" not in filters["status"]:
            versions = []
        return self.answer("DescribeDBEngineVersions", {"DBEngineVersions": versions})

    @staticmethod
    def _engine_version(major, version):
        later = [(m, v) for m, e in POSTGRES_VERSIONS.items() for v in e["versions"]
                 if (int(m), [int(p) for p in v.split(".")]) > (int(major), [int(p) for p in version.split(".")])]
        return {
            "Engine": "postgres", "EngineVersion": version, "DBParameterGroupFamily": POSTGRES_VERSIONS[major]["family"],
            "DBEngineDescription": "PostgreSQL", "DBEngineVersionDescription": "PostgreSQL %s-R1" % version,
            "ValidUpgradeTarget": [{"Engine": "postgres", "EngineVersion": v, "Description": "PostgreSQL %s-R1" % v,
                                    "AutoUpgrade": False, "IsMajorVersionUpgrade": m != major}
                                   for m, v in later],
            "ExportableLogTypes": list(POSTGRES_LOG_TYPES), "SupportsLogExportsToCloudwatchLogs": True,
            "SupportsReadReplica": True, "SupportedEngineModes": ["provisioned"], "Status": "available",
            "SupportsParallelQuery": False, "SupportsGlobalDatabases": False, "SupportsBabelfish": False,
            "SupportsCertificateRotationWithoutRestart": True, "SupportsLimitlessDatabase": False,
            "SupportsIntegrations": False,
        }

    def before_create_option_group(self, call, account, params):
        if params.get("EngineName") != "postgres":
            return None
        major = params.get("MajorEngineVersion") or ""
        if major not in POSTGRES_VERSIONS:
            return None  # moto refuses it as AWS does
        backend = self.backend(account, call.region)
        name = (params.get("OptionGroupName") or "").lower()
        if name in backend.option_groups:
            raise ServiceError("OptionGroupAlreadyExistsFault", "An option group named %s already exists." % name)
        if not params.get("OptionGroupDescription"):
            raise invalid_value("The parameter OptionGroupDescription must be provided and must not be blank.")
        from moto.rds.models import OptionGroup

        group = OptionGroup(backend, name, "postgres", major, params["OptionGroupDescription"],
                            params.get("Tags") or [])
        backend.option_groups[name] = group
        return self.answer("CreateOptionGroup", {"OptionGroup": group})

    # -- instances ------------------------------------------------------------------------------

    def _instance(self, account, region, identifier):
        database = self.backend(account, region).databases.get((identifier or "").lower())
        if database is None:
            raise ServiceError("DBInstanceNotFound", "DBInstance %s not found." % identifier, 404)
        return database

    def _check_monitoring(self, account, params):
        interval = params.get("MonitoringInterval")
        if interval is not None and interval not in MONITORING_INTERVALS:
            raise invalid_value("Unsupported MonitoringInterval value %s; supported values: %s"  # (unconfirmed)
                                % (interval, ", ".join(map(str, MONITORING_INTERVALS))))
        arn = params.get("MonitoringRoleArn")
        if not arn:
            return
        denied = invalid_value("IAM role ARN value is invalid or does not include the required permissions for: "
                               "ENHANCED_MONITORING")  # (AWS)
        owner = arn.split(":")[4] if arn.count(":") >= 5 else account
        try:
            role = MotoBridge.backend("iam", owner, "aws").get_role_by_arn(arn)
        except Exception:  # noqa: BLE001 - moto's NoSuchEntity
            raise denied from None
        from .consistency import Consistency

        consistency = self.strict.find(Consistency)
        if not _trusts(role, "monitoring.rds.amazonaws.com") or (
                consistency is not None and not consistency.visible("iam_role", arn, owner)):
            raise denied

    def _check_storage(self, params, current=None):
        storage_type = params.get("StorageType") or (current.storage_type if current else "gp2")
        allocated = params.get("AllocatedStorage") or (current.allocated_storage if current else None)
        low, high = GENERAL_PURPOSE_STORAGE
        if storage_type in ("gp2", "gp3") and allocated is not None and not low <= allocated <= high:
            raise invalid_combination("Invalid storage size for engine name postgres and storage type %s: %s"
                                      % (storage_type, allocated))  # (AWS)
        ceiling = params.get("MaxAllocatedStorage")
        if ceiling is not None and allocated is not None and ceiling < allocated:
            raise invalid_combination("Max storage size must be greater than storage size")  # (AWS)

    def _check_performance_insights(self, params):
        retention = params.get("PerformanceInsightsRetentionPeriod")
        if retention is not None and retention not in PI_RETENTION:
            raise invalid_value("Invalid Performance Insights retention period. Valid values are: [7, month * 31, "
                                "where month is a number of months from 1-23, 731]")  # (unconfirmed)

    def _keys(self, account, region, params):
        """The key ARNs of the request's KMS members (all must be usable)."""
        return {member: self.usable_key(account, region, params[member], member)
                for member in ("KmsKeyId", "MasterUserSecretKmsKeyId", "PerformanceInsightsKMSKeyId")
                if params.get(member)}

    def _check_network(self, account, region, params, multi_az):
        backend = self.backend(account, region)
        group_name = params.get("DBSubnetGroupName")
        group = backend.subnet_groups.get(group_name) if group_name else None
        groups = self.security_groups(account, region, params.get("VpcSecurityGroupIds"))
        if group is None:
            return
        zones = {subnet.availability_zone for subnet in group._subnets}
        if multi_az and len(zones) < 2:
            raise ServiceError("DBSubnetGroupDoesNotCoverEnoughAZs",
                               "DB Subnet Group doesn't meet availability zone coverage requirement. Please add "
                               "subnets to cover at least 2 availability zones. Current coverage: %d"
                               % len(zones))  # (AWS)
        for group_id, vpc_id in groups.items():
            if vpc_id != group.vpc_id:
                raise invalid_combination("The DB instance and EC2 security group are in different VPCs. The DB "
                                          "instance is in %s and the EC2 security group is in %s"
                                          % (group.vpc_id, vpc_id))  # (AWS)

    def _check_parameter_group(self, account, region, name, family):
        if not name:
            return
        if name.startswith("default."):
            group_family = name[len("default."):]
        else:
            group = self.backend(account, region).db_parameter_groups.get(name)
            if group is None:
                return  # moto answers DBParameterGroupNotFound
            group_family = group.family
        if group_family != family:
            raise invalid_combination("The parameter group %s with DBParameterGroupFamily %s cannot be used for this "
                                      "instance. Please use a Parameter Group with DBParameterGroupFamily %s"
                                      % (name, group_family, family))  # (AWS)

    def _check_option_group(self, account, region, name, major):
        group = self.backend(account, region).option_groups.get((name or "").lower())
        if group is not None and (group.engine_name != "postgres" or group.major_engine_version != major):
            raise invalid_combination("The option group %s is for %s %s and cannot be used with postgres %s"
                                      % (name, group.engine_name, group.major_engine_version, major))  # (unconfirmed)

    def _check_logs(self, exports, version):
        wrong = [t for t in exports or () if t not in POSTGRES_LOG_TYPES]
        if wrong:
            raise invalid_combination("You cannot use the log types '%s' with engine version postgres %s. For "
                                      "supported log types, see the documentation." % (", ".join(wrong), version))

    def before_create_db_instance(self, call, account, params):
        region = call.region
        postgres = params.get("Engine") == "postgres"
        if postgres:
            version, major = postgres_version(params.get("EngineVersion"))
            if major is None:
                raise invalid_combination("Cannot find version %s for postgres" % version)  # (AWS)
            self._check_parameter_group(account, region, params.get("DBParameterGroupName"),
                                        POSTGRES_VERSIONS[major]["family"])
            self._check_option_group(account, region, params.get("OptionGroupName"), major)
            self._check_logs(params.get("EnableCloudwatchLogsExports"), version)
            self._check_storage(params)
        self._check_monitoring(account, params)
        self._check_performance_insights(params)
        self._keys(account, region, params)
        self._check_network(account, region, params, params.get("MultiAZ"))
        return None

    def _keep(self, account, region, database, params, created):
        """What moto drops: Performance Insights, key ARNs, the resolved engine version."""
        keys = self._keys(account, region, params)
        if created and database.engine == "postgres":
            database.engine_version = postgres_version(database.engine_version)[0]
        if created and database.storage_encrypted:
            database.kms_key_id = keys.get("KmsKeyId") or self.managed_key(account, region, "alias/aws/rds").arn
        enabled = params.get("EnablePerformanceInsights")
        if enabled is None and not created:
            enabled = getattr(database, "performance_insights_enabled", False)
            if params.get("PerformanceInsightsRetentionPeriod") and enabled:
                database.performance_insights_retention_period = params["PerformanceInsightsRetentionPeriod"]
            return
        database.performance_insights_enabled = bool(enabled)
        if enabled:
            database.performance_insights_kms_key_id = (
                keys.get("PerformanceInsightsKMSKeyId") or getattr(database, "performance_insights_kms_key_id", None)
                or self.managed_key(account, region, "alias/aws/rds").arn)
            database.performance_insights_retention_period = (
                params.get("PerformanceInsightsRetentionPeriod")
                or getattr(database, "performance_insights_retention_period", None) or 7)
        else:
            database.performance_insights_kms_key_id = None
            database.performance_insights_retention_period = None

    def _creating(self, call, account, database, multi_az):
        steps = [(1.0, "available")]
        if database.backup_retention_period:
            steps = [(1 - BACKUP_SHARE, "backing-up"), (BACKUP_SHARE, "available")]
        database.status = "creating"
        self.schedule(account, call.region, database.db_instance_identifier, database,
                      "rds_instance_create_multi_az" if multi_az else "rds_instance_create", steps)

    def after_create_db_instance(self, call, account, params, answer):
        database = self._instance(account, call.region, params.get("DBInstanceIdentifier"))
        self._keep(account, call.region, database, params, created=True)
        self._creating(call, account, database, database.multi_az)
        return self.answer("CreateDBInstance", {"DBInstance": database})

    def _restored(self, call, account, params, operation, member):
        database = self._instance(account, call.region, params.get(member))
        # A restore keeps its source's storage key (neither restore call takes a KmsKeyId);
        # moto copied it from the source, and _keep would put the default key in its place.
        source_key = database.kms_key_id
        self._keep(account, call.region, database, params, created=True)
        if source_key and database.storage_encrypted:
            database.kms_key_id = source_key
        self._creating(call, account, database, database.multi_az)
        return self.answer(operation, {"DBInstance": database})

    def after_restore_db_instance_from_db_snapshot(self, call, account, params, answer):
        return self._restored(call, account, params, "RestoreDBInstanceFromDBSnapshot", "DBInstanceIdentifier")

    def after_restore_db_instance_to_point_in_time(self, call, account, params, answer):
        return self._restored(call, account, params, "RestoreDBInstanceToPointInTime", "TargetDBInstanceIdentifier")

    @staticmethod
    def _available(database):
        if database.status != "available":
            raise ServiceError("InvalidDBInstanceState", "Database instance is not in available state.")  # (AWS)

    def before_modify_db_instance(self, call, account, params):
        database = self._instance(account, call.region, params.get("DBInstanceIdentifier"))
        self._available(database)
        if database.engine == "postgres":
            version = params.get("EngineVersion")
            if version and postgres_version(version)[1] is None:
                raise invalid_combination("Cannot find version %s for postgres" % version)  # (AWS)
            family = POSTGRES_VERSIONS[postgres_version(version or database.engine_version)[1] or
                                       DEFAULT_POSTGRES_MAJOR]["family"]
            self._check_parameter_group(account, call.region, params.get("DBParameterGroupName"), family)
            self._check_logs((params.get("CloudwatchLogsExportConfiguration") or {}).get("EnableLogTypes"),
                             database.engine_version)
            self._check_storage(params, database)
        monitoring = dict(params)
        if params.get("MonitoringInterval") and not params.get("MonitoringRoleArn"):
            monitoring["MonitoringRoleArn"] = database.monitoring_role_arn
        self._check_monitoring(account, monitoring)
        self._check_performance_insights(params)
        self._keys(account, call.region, params)
        self.security_groups(account, call.region, params.get("VpcSecurityGroupIds"))
        return None

    def after_modify_db_instance(self, call, account, params, answer):
        identifier = params.get("NewDBInstanceIdentifier") or params.get("DBInstanceIdentifier")
        database = self._instance(account, call.region, identifier)
        self._keep(account, call.region, database, params, created=False)
        if params.get("ApplyImmediately"):
            database.status = "modifying"
            self.schedule(account, call.region, database.db_instance_identifier, database,
                          ("rds_instance_modify", MODIFY_SECONDS), [(1.0, "available")])
        return self.answer("ModifyDBInstance", {"DBInstance": database})

    def before_delete_db_instance(self, call, account, params):
        identifier = params.get("DBInstanceIdentifier")
        database = self._instance(account, call.region, identifier)
        if database.status == "deleting":
            raise ServiceError("InvalidDBInstanceState", "Instance %s is already being deleted." % identifier)
        if not params.get("SkipFinalSnapshot") and not params.get("FinalDBSnapshotIdentifier"):
            raise invalid_combination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is "
                                      "specified.")  # (AWS)
        if database.status != "available":
            if not params.get("SkipFinalSnapshot"):
                raise ServiceError("InvalidDBInstanceState", "Instance %s is currently %s - a final snapshot cannot "
                                   "be taken." % (identifier, database.status))  # (AWS)
            raise ServiceError("InvalidDBInstanceState", "Instance %s is not in available state."  # (unconfirmed)
                               % identifier)
        call.notes["rds_instance"] = database
        return None

    def after_delete_db_instance(self, call, account, params, answer):
        database = call.notes.get("rds_instance")
        if database is None:
            return answer
        key = database.db_instance_identifier
        self.backend(account, call.region).databases[key] = database
        database.status = "deleting"
        self.schedule(account, call.region, key, database, "rds_instance_delete", [(1.0, None)])
        return answer
