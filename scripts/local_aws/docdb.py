# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Amazon DocumentDB in the strict local AWS: clusters, their instances, cluster parameter
groups, engine versions, final snapshots and tags, with state, served here instead of moto.

moto 5.2 refuses the ``docdb`` engine (``CreateDBCluster`` and ``CreateDBInstance`` with
``Engine=docdb`` fail "Engine 'docdb' is not supported"), so a collection that manages
DocumentDB could not run locally at all.

Which requests are DocumentDB's
    Nothing on the wire tells a ``docdb`` client's request from an ``rds`` client's: botocore's
    ``docdb`` model has the endpoint prefix ``rds``, the signing name ``rds`` (the SigV4
    credential scope says ``rds``), the API version ``2014-10-31``, the XML namespace
    ``http://rds.amazonaws.com/doc/2014-10-31/`` and the same ``Action`` names as RDS's, and the
    User-Agent names no service. AWS serves both from one API: DocumentDB clusters show up in
    RDS's ``DescribeDBClusters`` (the docdb reference says to filter ``engine=docdb``). The proxy
    therefore classifies every such request as ``rds``. What tells them apart is the request's
    content, and :class:`DocdbRequests` reads it:

    * a create with ``Engine=docdb`` (clusters, instances), a cluster parameter group of a
      ``docdb*`` family, ``DescribeDBEngineVersions`` for ``Engine=docdb`` or a ``docdb*`` family;
    * a request naming a DocumentDB resource kept here (cluster, instance, cluster parameter
      group, final snapshot, or its ARN), or filtering ``engine=docdb`` or ``db-cluster-id`` of
      a DocumentDB cluster;
    * a request naming a cluster (or its ARN) or cluster parameter group that neither moto's
      RDS nor this service has (its not-found answer is the same for both engines).

    Such a call's ``service`` becomes ``docdb`` before IAM looks at it (the IAM actions are the
    same ``rds:*`` either way; authz.py keys DocumentDB's rules under ``docdb``) and
    :class:`LocalDocdb` answers it. Anything else stays RDS's and goes to moto; the unfiltered
    lists (``DescribeDBClusters``, ``DescribeDBInstances``, ``DescribeDBClusterParameterGroups``
    with no name or filter) get this service's items added to moto's answer, as AWS lists both.

Time
    A cluster and each instance are ``creating`` for ``docdb_cluster_create`` and ``deleting``
    for ``docdb_cluster_delete`` (timing.py's table, divided by the time scale; 0 with the
    ``timing`` switch off, though a create answer still says ``creating``). Every transition is
    recorded with :meth:`timing.Timing.record`; states settle from timestamps when read.

What is checked (as DocumentDB does)
    engine versions of :data:`ENGINE_VERSIONS`; instance classes of :data:`INSTANCE_CLASSES`;
    a master user name and exactly one of ``MasterUserPassword`` / ``ManageMasterUserPassword``;
    the subnet group exists in moto's RDS and covers two zones; the security groups exist and
    are in its VPC; the KMS keys exist and are enabled (``KmsKeyId`` only with
    ``StorageEncrypted``); the cluster parameter group exists and is of the version's family;
    backup retention 1-35; windows well formed and at least 30 minutes; log exports ``audit``
    and ``profiler``; a cluster is changed only while ``available`` and deleted only without
    live instances, without deletion protection and with a final snapshot or
    ``SkipFinalSnapshot``. A managed master password is a Secrets Manager secret made in moto
    as RDS makes it (``rds!cluster-<uuid>``, owned by ``rds``, tagged with the cluster's ARN),
    answered as ``MasterUserSecret`` and deleted with the cluster.

Messages
    Marked "(AWS)" where seen in AWS answers quoted in public issue reports or AWS's
    documentation, "(unconfirmed)" where they follow AWS's style only. A request member this
    service does not implement (global clusters, serverless, restores, renames) is refused
    with ``InvalidParameterCombination`` naming it, never ignored.
"""
from __future__ import annotations

import copy
import json
import re
import secrets
import string
import threading
import time
import uuid
from datetime import datetime, timezone

from . import core, protocol, wire

# ---------------------------------------------------------------------------------------------
# Tables

# Engine version -> cluster parameter group family (DocumentDB Developer Guide, "Engine
# versions"; 3.6 is past its end of support and left out).
ENGINE_VERSIONS = {"4.0.0": "docdb4.0", "5.0.0": "docdb5.0"}
DEFAULT_VERSION = "5.0.0"
PORT = 27017
LOG_TYPES = ("audit", "profiler")
MAX_INSTANCES = 16

# Instance classes DocumentDB offers (DocumentDB Developer Guide, "Supported instance classes").
INSTANCE_CLASSES = tuple(
    ["db.t3.medium", "db.t4g.medium"]
    + ["db.r5.%s" % s for s in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")]
    + ["db.r6g.%s" % s for s in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")]
    + ["db.r6gd.%s" % s for s in ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")]
    + ["db.r8g.%s" % s for s in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")])


def _parameter(name, value, description, allowed, data_type="string", apply_type="dynamic"):
    return {"ParameterName": name, "ParameterValue": value, "Description": description, "Source": "system",
            "ApplyType": apply_type, "DataType": data_type, "AllowedValues": allowed, "IsModifiable": True,
            "ApplyMethod": "pending-reboot"}


# The cluster parameters of each family and their defaults (DocumentDB Developer Guide,
# "Managing cluster parameter groups": the parameters reference).
_COMMON = [
    _parameter("audit_logs", "disabled", "Enables auditing on cluster.",
               "enabled,disabled,ddl,dml_read,dml_write,all,none"),
    _parameter("change_stream_log_retention_duration", "10800",
               "Duration of time in seconds that the change stream log is retained and can be consumed.",
               "3600-604800", "integer"),
    _parameter("profiler", "disabled", "Enables profiling for slow operations.", "enabled,disabled"),
    _parameter("profiler_sampling_rate", "1.0", "Rate for sampling profiled operations.", "0.0-1.0", "float"),
    _parameter("profiler_threshold_ms", "100", "Operations longer than profiler_threshold_ms will be logged.",
               "50-2147483646", "integer"),
    _parameter("ttl_monitor", "enabled", "Enables TTL Monitoring", "disabled,enabled"),
]
FAMILY_PARAMETERS = {
    "docdb4.0": _COMMON + [_parameter("tls", "enabled", "Config to enable/disable TLS", "disabled,enabled",
                                      apply_type="static")],
    "docdb5.0": _COMMON + [_parameter("tls", "enabled", "Config to enable/disable TLS",
                                      "disabled,enabled,fips-140-3,tls1.2+,tls1.3+", apply_type="static")],
}
for _family in FAMILY_PARAMETERS:
    FAMILY_PARAMETERS[_family].sort(key=lambda p: p["ParameterName"])

_ID_RE = re.compile(r"^[a-zA-Z](?:[a-zA-Z0-9]|-(?!-))*$")
_USER_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9]{0,62}$")
_WINDOW_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_MAINTENANCE_RE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-"
                             r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):rds:([a-z0-9-]+):(\d{12}):(cluster|db|cluster-pg|cluster-snapshot):(.+)$")
_ALNUM = string.ascii_lowercase + string.digits
_UPPER = string.ascii_uppercase + string.digits

# Errors AWS answers with codes the docdb model does not declare (RDS's common errors).
COMMON_ERRORS = {"InvalidParameterValue": 400, "InvalidParameterCombination": 400, "MissingParameter": 400,
                 "InvalidAction": 400}


class DocdbError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message):
    return DocdbError("InvalidParameterValue", message)


def _combination(message):
    return DocdbError("InvalidParameterCombination", message)


def _unsupported(operation, member):
    return _combination("%s: %s is not implemented by the local DocumentDB service" % (operation, member))


# ---------------------------------------------------------------------------------------------
# Answers in the query protocol


def _timestamp(value):
    return datetime.fromtimestamp(float(value), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        "%03dZ" % int((float(value) % 1) * 1000)


def _escape(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def to_xml(shape, value, name):
    """``value`` as the XML element ``name`` of ``shape`` (botocore's query protocol)."""
    kind = shape.type_name
    if kind == "structure":
        inner = []
        for member, member_shape in shape.members.items():
            if value.get(member) is None:
                continue
            inner.append(to_xml(member_shape, value[member], member_shape.serialization.get("name", member)))
        return "<%s>%s</%s>" % (name, "".join(inner), name)
    if kind == "list":
        item = shape.member.serialization.get("name", "member")
        return "<%s>%s</%s>" % (name, "".join(to_xml(shape.member, v, item) for v in value), name)
    if kind == "timestamp":
        text = _timestamp(value)
    elif kind == "boolean":
        text = "true" if value else "false"
    else:
        text = _escape(value)
    return "<%s>%s</%s>" % (name, text, name)


def answer(op_model, result):
    operation = op_model.name
    body = ['<%sResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">' % operation]
    shape = op_model.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", operation + "Result")
        body.append(to_xml(shape, result or {}, wrapper))
    body.append("<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>"
                % (uuid.uuid4(), operation))
    return core.Answer(200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", str(uuid.uuid4()))],
                       "".join(body).encode())


# ---------------------------------------------------------------------------------------------
# State


class _Region:
    def __init__(self):
        self.clusters = {}      # id -> record
        self.instances = {}     # id -> record
        self.groups = {}        # cluster parameter group name -> record
        self.snapshots = {}     # cluster snapshot id -> public record


def _default_group_name(family):
    return "default." + family


def _filters(params):
    return {f.get("Name"): list(f.get("Values") or []) for f in params.get("Filters") or []}


class DocdbRequests(core.Behaviour):
    """Marks the requests that are DocumentDB's (see the module docstring) as service ``docdb``.

    Always on; it runs before IAM, so IAM evaluates DocumentDB's rules, and reads the state
    of the :class:`LocalDocdb` that serves them."""

    name = ""

    def before(self, call):
        if call.service == "rds" and call.operation in LocalDocdb.OPERATIONS:
            service = self.strict.find(LocalDocdb)
            if service is None:
                return None
            try:
                mine = service.recognise(call)
            except protocol.ProtocolError:
                mine = False
            if mine:
                call.service = "docdb"
                call._params = None  # read again by the docdb model
                call.notes["docdb"] = True
        return None


class LocalDocdb(core.Behaviour):
    """The local DocumentDB service (always on). See the module docstring."""

    name = ""
    OPERATIONS = frozenset((
        "CreateDBCluster", "DescribeDBClusters", "ModifyDBCluster", "DeleteDBCluster",
        "CreateDBInstance", "DescribeDBInstances", "DeleteDBInstance", "DescribeDBEngineVersions",
        "CreateDBClusterParameterGroup", "DescribeDBClusterParameterGroups", "ModifyDBClusterParameterGroup",
        "DeleteDBClusterParameterGroup", "DescribeDBClusterParameters", "DescribeDBClusterSnapshots",
        "DeleteDBClusterSnapshot", "ListTagsForResource", "AddTagsToResource", "RemoveTagsFromResource"))
    LISTS = {"DescribeDBClusters": ("DBClusters", "DBCluster"),
             "DescribeDBInstances": ("DBInstances", "DBInstance"),
             "DescribeDBClusterParameterGroups": ("DBClusterParameterGroups", "DBClusterParameterGroup")}

    def __init__(self, strict, timing):
        super().__init__(strict)
        self.timing = timing
        self.lock = threading.RLock()
        self.state = {}
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = protocol.MODELS.service("docdb")
        return self._model

    # -- moto and the clock ---------------------------------------------------------------------

    def _backend(self, service, call):
        return self.strict.moto.backend(service, self._account(call), call.region)

    @staticmethod
    def _account(call):
        if call.principal is None:
            from .iam import resolve_principal

            call.principal = resolve_principal(call)
        return call.account

    @staticmethod
    def _now():
        return time.time()

    def _until(self, kind, name):
        now = self._now()
        seconds = self.timing.duration(kind) if self.timing is not None else 0.0
        if self.timing is not None:
            self.timing.record(kind, name, now, seconds)
        return now + seconds

    def _region(self, call):
        return self.state.setdefault((self._account(call), call.region), _Region())

    def _arn(self, call, kind, name):
        return "arn:%s:rds:%s:%s:%s:%s" % (call.partition, call.region, self._account(call), kind, name)

    # -- which requests ---------------------------------------------------------------------------

    def _moto_rds(self, call, attribute, name):
        try:
            return name in getattr(self._backend("rds", call), attribute)
        except Exception:  # noqa: BLE001 - no RDS backend state yet
            return False

    def recognise(self, call):
        """True when ``call`` (an ``rds`` request) is DocumentDB's."""
        params = call.params
        operation = call.operation
        with self.lock:
            state = self.state.get((self._account(call), call.region)) or _Region()
            filters = _filters(params)
            if "docdb" in filters.get("engine", []):
                return True
            if any(c.lower() in state.clusters for c in filters.get("db-cluster-id", [])):
                return True
            if operation in ("CreateDBCluster", "CreateDBInstance"):
                return str(params.get("Engine", "")).lower() == "docdb"
            if operation == "DescribeDBEngineVersions":
                return params.get("Engine") == "docdb" or str(params.get("DBParameterGroupFamily", "")).startswith(
                    "docdb")
            if operation == "CreateDBClusterParameterGroup":
                return str(params.get("DBParameterGroupFamily", "")).lower().startswith("docdb")
            if operation in ("ListTagsForResource", "AddTagsToResource", "RemoveTagsFromResource"):
                arn = params.get("ResourceName") or ""
                if self._tagged(call, state, arn, quiet=True) is not None:
                    return True
                match = _ARN_RE.match(arn)
                return bool(match and match.group(4) == "cluster"
                            and not self._moto_rds(call, "clusters", match.group(5)))
            cluster = params.get("DBClusterIdentifier")
            if operation in ("DescribeDBClusters", "ModifyDBCluster", "DeleteDBCluster") and cluster:
                return cluster.lower() in state.clusters or not self._moto_rds(call, "clusters", cluster)
            instance = params.get("DBInstanceIdentifier")
            if operation in ("DescribeDBInstances", "DeleteDBInstance") and instance:
                return instance.lower() in state.instances
            group = params.get("DBClusterParameterGroupName")
            if group and operation in ("DescribeDBClusterParameterGroups", "ModifyDBClusterParameterGroup",
                                       "DeleteDBClusterParameterGroup", "DescribeDBClusterParameters"):
                return (group.lower() in state.groups or group.startswith("default.docdb")
                        or not self._moto_rds(call, "db_cluster_parameter_groups", group))
            if operation in ("DescribeDBClusterSnapshots", "DeleteDBClusterSnapshot"):
                snapshot = (params.get("DBClusterSnapshotIdentifier") or "").lower()
                return (snapshot in state.snapshots or (cluster or "").lower() in state.clusters
                        or any(s["DBClusterIdentifier"] == (cluster or "").lower() for s in state.snapshots.values()))
        return False

    # -- hooks --------------------------------------------------------------------------------------

    def before(self, call):
        if call.service != "docdb":
            return None
        operation = call.operation
        handler = getattr(self, "_op_" + _snake(operation or ""), None) if operation else None
        if handler is None:
            return self._error(call, DocdbError("InvalidAction", "%s is not implemented by the local DocumentDB service"
                                                % operation))
        try:
            params = call.params
        except protocol.ProtocolError as exc:
            return self._error(call, _invalid(str(exc)))
        op_model = self.model.operation_model(operation)
        try:
            for member in op_model.input_shape.required_members:
                if params.get(member) in (None, ""):
                    raise DocdbError("MissingParameter", "The request must contain the parameter %s" % member)  # (AWS)
            with self.lock:
                region = self._region(call)
                self._settle(call, region)
                result = handler(call, region, params)
        except DocdbError as exc:
            return self._error(call, exc)
        return answer(op_model, result)

    def after(self, call, answer_):
        """Add DocumentDB's items to moto's answer of an unfiltered RDS list."""
        if call.service != "rds" or call.operation not in self.LISTS or answer_.status != 200:
            return answer_
        params = call.params
        if any(params.get(k) for k in ("DBClusterIdentifier", "DBInstanceIdentifier", "DBClusterParameterGroupName",
                                       "Filters", "Marker")):
            return answer_
        with self.lock:
            state = self.state.get((self._account(call), call.region))
            if state is None:
                return answer_
            self._settle(call, state)
            items = self._list(call, state, call.operation, {})
        if not items:
            return answer_
        key, member = self.LISTS[call.operation]
        shape = self.model.operation_model(call.operation).output_shape.members[key]
        inner = "".join(to_xml(shape.member, item, member) for item in items)
        text = answer_.body.decode("utf-8")
        if "<%s/>" % key in text:
            text = text.replace("<%s/>" % key, "<%s>%s</%s>" % (key, inner, key), 1)
        elif "</%s>" % key in text:
            text = text.replace("</%s>" % key, inner + "</%s>" % key, 1)
        else:
            return answer_
        answer_.body = text.encode("utf-8")
        answer_.headers = [(k, v) for k, v in answer_.headers if k.lower() != "content-length"]
        return answer_

    def _list(self, call, state, operation, params):
        if operation == "DescribeDBClusters":
            return self._op_describe_db_clusters(call, state, params)["DBClusters"]
        if operation == "DescribeDBInstances":
            return self._op_describe_db_instances(call, state, params)["DBInstances"]
        return [g["pub"] for g in state.groups.values()]

    def _error(self, call, exc):
        status = COMMON_ERRORS.get(exc.code)
        if status is None:
            status = 400
            for shape in self.model.error_shapes:
                error = shape.metadata.get("error") or {}
                if error.get("code", shape.name) == exc.code:
                    status = error.get("httpStatusCode", 400)
                    break
        status, headers, body = wire.error_response("query", status, exc.code, exc.message, call.model)
        return core.Answer(status, headers, body)

    # -- time -----------------------------------------------------------------------------------------

    def _settle(self, call, state):
        now = self._now()
        for key, instance in list(state.instances.items()):
            if now < instance["until"]:
                continue
            if instance["pub"]["DBInstanceStatus"] == "creating":
                instance["pub"]["DBInstanceStatus"] = "available"
                instance["pub"]["Endpoint"] = instance["endpoint"]
            elif instance["pub"]["DBInstanceStatus"] == "deleting":
                del state.instances[key]
        for key, cluster in list(state.clusters.items()):
            if now < cluster["until"]:
                continue
            pub = cluster["pub"]
            if pub["Status"] == "creating":
                pub["Status"] = "available"
                if pub.get("MasterUserSecret"):
                    pub["MasterUserSecret"]["SecretStatus"] = "active"
            elif pub["Status"] == "deleting":
                del state.clusters[key]

    # -- checks ---------------------------------------------------------------------------------------

    @staticmethod
    def _identifier(value, member):
        if not value or len(value) > 63 or not _ID_RE.match(value) or value.endswith("-"):
            raise _invalid("The parameter %s is not a valid identifier. Identifiers must begin with a letter; must "
                           "contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or "
                           "contain two consecutive hyphens." % member)  # (AWS)
        return value.lower()

    def _kms_key(self, call, key_id, member):
        try:
            key = self._backend("kms", call).describe_key(key_id)
        except Exception:  # noqa: BLE001 - moto's NotFoundException
            key = None
        if key is None or key.key_state != "Enabled":
            raise DocdbError("KMSKeyNotAccessibleFault", "The specified KMS key %s (%s) does not exist, is not "
                             "enabled or you do not have permissions to access it." % (key_id, member))  # (unconfirmed)
        return key.arn

    def _subnet_group(self, call, name):
        group = self._backend("rds", call).subnet_groups.get(name) if name else None
        if group is None:
            raise DocdbError("DBSubnetGroupNotFoundFault", "DB subnet group '%s' does not exist." % name)  # (AWS)
        subnets = group.subnets
        zones = sorted({s["SubnetAvailabilityZone"]["Name"] for s in subnets})
        if len(zones) < 2:
            raise DocdbError("DBSubnetGroupDoesNotCoverEnoughAZs",
                             "DB Subnet Group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ "
                             "coverage: %s. Add subnets to cover at least 2 AZs." % ", ".join(zones))  # (AWS)
        return {"name": group.name, "vpc": group.vpc_id, "zones": zones, "pub": {
            "DBSubnetGroupName": group.name, "DBSubnetGroupDescription": group.description, "VpcId": group.vpc_id,
            "SubnetGroupStatus": "Complete", "DBSubnetGroupArn": self._arn(call, "subgrp", group.name),
            "Subnets": [{"SubnetIdentifier": s["SubnetIdentifier"], "SubnetStatus": "Active",
                         "SubnetAvailabilityZone": {"Name": s["SubnetAvailabilityZone"]["Name"]}} for s in subnets]}}

    def _security_groups(self, call, ids, vpc_id):
        ec2 = self._backend("ec2", call)
        out = []
        for group_id in ids:
            group = ec2.get_security_group_from_id(group_id)
            if group is None:
                raise _invalid("Invalid security group , groupId= %s , groupName=." % group_id)  # (AWS)
            if vpc_id and group.vpc_id != vpc_id:
                raise _combination("The DB instance and EC2 security group are in different VPCs. The DB instance is "
                                   "in %s and the EC2 security group is in %s" % (vpc_id, group.vpc_id))  # (AWS)
            out.append({"VpcSecurityGroupId": group_id, "Status": "active"})
        return out

    def _default_security_group(self, call, vpc_id):
        ec2 = self._backend("ec2", call)
        group = ec2.get_security_group_from_name("default", vpc_id) if vpc_id else None
        return [{"VpcSecurityGroupId": group.id, "Status": "active"}] if group is not None else []

    @staticmethod
    def _retention(value):
        if value is not None and not 1 <= value <= 35:
            raise _invalid("Invalid backup retention period: %s. Valid values are 1 to 35." % value)  # (unconfirmed)

    @staticmethod
    def _minutes(day, hour, minute):
        return (_DAYS.index(day) if day else 0) * 1440 + int(hour) * 60 + int(minute)

    def _backup_window(self, value):
        match = _WINDOW_RE.match(value or "")
        if not match:
            raise _invalid("The backup window must be in the format hh24:mi-hh24:mi: %s" % value)  # (unconfirmed)
        start, end = self._minutes(None, *match.group(1, 2)), self._minutes(None, *match.group(3, 4))
        if (end - start) % 1440 < 30:
            raise _invalid("The backup window must be at least 30 minutes.")  # (unconfirmed)
        return value

    def _maintenance_window(self, value):
        match = _MAINTENANCE_RE.match((value or "").lower())
        if not match:
            raise _invalid("Invalid maintenance window format: %s. Use ddd:hh24:mi-ddd:hh24:mi." % value)  # (unconfirmed)
        start, end = self._minutes(*match.group(1, 2, 3)), self._minutes(*match.group(4, 5, 6))
        if (end - start) % (7 * 1440) < 30:
            raise _invalid("The maintenance window must be at least 30 minutes.")  # (unconfirmed)
        return value.lower()

    @staticmethod
    def _log_types(types, version):
        for log_type in types or []:
            if log_type not in LOG_TYPES:
                raise _invalid("You cannot use the log type %s with engine version docdb %s. Use audit or profiler."
                               % (log_type, version))  # (unconfirmed)
        return sorted(set(types or []))

    def _group(self, call, state, name):
        """The cluster parameter group ``name`` (a default one is made on first use)."""
        key = (name or "").lower()
        if key in state.groups:
            return state.groups[key]
        for family in FAMILY_PARAMETERS:
            if key == _default_group_name(family):
                state.groups[key] = {"pub": {
                    "DBClusterParameterGroupName": key, "DBParameterGroupFamily": family,
                    "Description": "Default cluster parameter group for %s" % family,
                    "DBClusterParameterGroupArn": self._arn(call, "cluster-pg", key)},
                    "values": {}, "tags": [], "default": True}
                return state.groups[key]
        return None

    @staticmethod
    def _tags(tags):
        out = []
        for tag in tags or []:
            if str(tag.get("Key", "")).lower().startswith("aws:"):
                raise _invalid("Tag keys cannot start with 'aws:'")  # (unconfirmed)
            out = [t for t in out if t["Key"] != tag["Key"]] + [{"Key": tag["Key"], "Value": tag.get("Value", "")}]
        return out

    # -- clusters -------------------------------------------------------------------------------------

    def _cluster(self, state, name):
        cluster = state.clusters.get((name or "").lower())
        if cluster is None:
            raise DocdbError("DBClusterNotFoundFault", "DBCluster %s not found." % name)  # (AWS)
        return cluster

    def _cluster_view(self, state, cluster):
        pub = copy.deepcopy(cluster["pub"])
        members = [i for i in state.instances.values() if i["pub"]["DBClusterIdentifier"] == pub["DBClusterIdentifier"]
                   and i["pub"]["DBInstanceStatus"] != "deleting"]
        members.sort(key=lambda i: (i["pub"]["InstanceCreateTime"], i["pub"]["DBInstanceIdentifier"]))
        pub["DBClusterMembers"] = [{"DBInstanceIdentifier": i["pub"]["DBInstanceIdentifier"],
                                    "IsClusterWriter": index == 0, "DBClusterParameterGroupStatus": "in-sync",
                                    "PromotionTier": i["pub"]["PromotionTier"]} for index, i in enumerate(members)]
        if pub["Status"] == "available":
            pub["EarliestRestorableTime"] = pub["ClusterCreateTime"]
            pub["LatestRestorableTime"] = self._now()
        return pub

    def _op_create_db_cluster(self, call, state, params):
        name = self._identifier(params["DBClusterIdentifier"], "DBClusterIdentifier")
        for member in ("GlobalClusterIdentifier", "ServerlessV2ScalingConfiguration", "PreSignedUrl", "SourceRegion"):
            if params.get(member) is not None:
                raise _unsupported("CreateDBCluster", member)
        if params.get("StorageType") not in (None, "standard"):
            raise _unsupported("CreateDBCluster", "StorageType %s" % params["StorageType"])
        if params.get("NetworkType") not in (None, "IPV4"):
            raise _unsupported("CreateDBCluster", "NetworkType %s" % params["NetworkType"])
        if name in state.clusters or self._moto_rds(call, "clusters", name):
            raise DocdbError("DBClusterAlreadyExistsFault", "DB Cluster already exists")  # (AWS)
        version = params.get("EngineVersion") or DEFAULT_VERSION
        if version not in ENGINE_VERSIONS:
            raise _combination("Cannot find version %s for docdb" % version)  # (AWS)
        family = ENGINE_VERSIONS[version]
        username = params.get("MasterUsername")
        if not username:
            raise _invalid("The parameter MasterUsername must be provided and must not be blank.")  # (AWS)
        if not _USER_RE.match(username):
            raise _invalid("MasterUsername %s is not valid: 1 to 63 letters or digits, starting with a letter."
                           % username)  # (unconfirmed)
        managed = bool(params.get("ManageMasterUserPassword"))
        if managed and params.get("MasterUserPassword"):
            raise _combination("You can't specify both MasterUserPassword and ManageMasterUserPassword.")  # (unconfirmed)
        if not managed and not params.get("MasterUserPassword"):
            raise _invalid("The parameter MasterUserPassword must be provided and must not be blank.")  # (AWS)
        if params.get("MasterUserSecretKmsKeyId") and not managed:
            raise _combination("MasterUserSecretKmsKeyId requires ManageMasterUserPassword.")  # (unconfirmed)
        if params.get("MasterUserPassword") and len(params["MasterUserPassword"]) < 8:
            raise _invalid("The parameter MasterUserPassword is not a valid password because it is shorter than 8 "
                           "characters.")  # (AWS)
        encrypted = bool(params.get("StorageEncrypted"))
        if params.get("KmsKeyId") and not encrypted:
            raise _combination("The parameter KmsKeyId requires StorageEncrypted to be true.")  # (unconfirmed)
        kms_key = self._kms_key(call, params.get("KmsKeyId") or "alias/aws/rds", "KmsKeyId") if encrypted else None
        secret_key = None
        if managed:
            secret_key = self._kms_key(call, params.get("MasterUserSecretKmsKeyId") or "alias/aws/secretsmanager",
                                       "MasterUserSecretKmsKeyId")
        if params.get("DBSubnetGroupName"):
            subnets = self._subnet_group(call, params["DBSubnetGroupName"].lower())
        else:
            subnets = self._default_subnets(call)
        if params.get("VpcSecurityGroupIds"):
            groups = self._security_groups(call, params["VpcSecurityGroupIds"], subnets["vpc"])
        else:
            groups = self._default_security_group(call, subnets["vpc"])
        group_name = params.get("DBClusterParameterGroupName") or _default_group_name(family)
        group = self._group(call, state, group_name)
        if group is None:
            raise DocdbError("DBClusterParameterGroupNotFound",
                             "DBClusterParameterGroup not found: %s" % group_name)  # (AWS)
        if group["pub"]["DBParameterGroupFamily"] != family:
            raise _combination("The Parameter Group %s with DBParameterGroupFamily %s cannot be used for this "
                               "instance. Please use a Parameter Group with DBParameterGroupFamily %s"
                               % (group_name, group["pub"]["DBParameterGroupFamily"], family))  # (AWS)
        self._retention(params.get("BackupRetentionPeriod"))
        backup = self._backup_window(params["PreferredBackupWindow"]) if params.get("PreferredBackupWindow") \
            else "07:00-07:30"
        maintenance = self._maintenance_window(params["PreferredMaintenanceWindow"]) \
            if params.get("PreferredMaintenanceWindow") else "sun:08:00-sun:08:30"
        logs = self._log_types(params.get("EnableCloudwatchLogsExports"), version)
        tags = self._tags(params.get("Tags"))
        if params.get("AvailabilityZones"):
            unknown = [z for z in params["AvailabilityZones"] if z not in subnets["zones"]]
            if unknown:
                raise _invalid("Availability zones %s are not in the DB subnet group." % ", ".join(unknown))  # (unconfirmed)
        arn = self._arn(call, "cluster", name)
        suffix = "".join(secrets.choice(_ALNUM) for _ in range(12))
        host = "%s.%s.docdb.amazonaws.com" % (suffix, call.region)
        now = self._now()
        pub = {
            "AvailabilityZones": list(params.get("AvailabilityZones") or subnets["zones"][:3]),
            "BackupRetentionPeriod": params.get("BackupRetentionPeriod") or 1,
            "DBClusterIdentifier": name, "DBClusterParameterGroup": group["pub"]["DBClusterParameterGroupName"],
            "DBSubnetGroup": subnets["name"], "Status": "creating",
            "Endpoint": "%s.cluster-%s" % (name, host), "ReaderEndpoint": "%s.cluster-ro-%s" % (name, host),
            "MultiAZ": False, "Engine": "docdb", "EngineVersion": version, "Port": params.get("Port") or PORT,
            "MasterUsername": username, "PreferredBackupWindow": backup, "PreferredMaintenanceWindow": maintenance,
            "ReadReplicaIdentifiers": [], "VpcSecurityGroups": groups, "HostedZoneId": _hosted_zone(call.region),
            "StorageEncrypted": encrypted, "DbClusterResourceId": "cluster-" + "".join(
                secrets.choice(_UPPER) for _ in range(26)), "DBClusterArn": arn, "AssociatedRoles": [],
            "ClusterCreateTime": now, "DeletionProtection": bool(params.get("DeletionProtection")),
            "CopyTagsToSnapshot": bool(params.get("CopyTagsToSnapshot")),
        }
        if kms_key:
            pub["KmsKeyId"] = kms_key
        if logs:
            pub["EnabledCloudwatchLogsExports"] = logs
        if managed:
            pub["MasterUserSecret"] = self._make_secret(call, arn, username, secret_key)
        state.clusters[name] = {"pub": pub, "tags": tags, "subnets": subnets,
                                "until": self._until("docdb_cluster_create", name)}
        return {"DBCluster": self._cluster_view(state, state.clusters[name])}

    def _default_subnets(self, call):
        ec2 = self._backend("ec2", call)
        vpc = next((v for v in ec2.vpcs.values() if getattr(v, "is_default", False)), None)
        if vpc is None:
            raise DocdbError("DBSubnetGroupNotFoundFault", "DB subnet group 'default' does not exist.")  # (AWS)
        zones = sorted({s.availability_zone for s in ec2.get_all_subnets() if s.vpc_id == vpc.id})
        return {"name": "default", "vpc": vpc.id, "zones": zones, "pub": None}

    def _make_secret(self, call, arn, username, kms_key):
        backend = self._backend("secretsmanager", call)
        value = json.dumps({"username": username, "password": "".join(
            secrets.choice(string.ascii_letters + string.digits + "!#$%^&*()_+-=") for _ in range(28))})
        secret = backend.create_managed_secret(
            service_name="rds", secret_id="rds!cluster-%s" % uuid.uuid4(), secret_string=value,
            description="The secret associated with the primary RDS DB cluster: %s" % arn, kms_key_id=kms_key,
            tags=[{"Key": "aws:rds:primaryDBClusterArn", "Value": arn}])
        return {"SecretArn": secret.arn, "SecretStatus": "creating", "KmsKeyId": kms_key}

    def _drop_secret(self, call, pub):
        secret = pub.get("MasterUserSecret")
        if secret:
            try:
                self._backend("secretsmanager", call).delete_secret(
                    secret["SecretArn"], recovery_window_in_days=None, force_delete_without_recovery=True)
            except Exception:  # noqa: BLE001 - gone already
                pass

    def _op_describe_db_clusters(self, call, state, params):
        for member in ("MaxRecords",):
            value = params.get(member)
            if value is not None and not 20 <= value <= 100:
                raise _invalid("MaxRecords must be from 20 to 100.")  # (unconfirmed)
        if params.get("DBClusterIdentifier"):
            clusters = [self._cluster(state, params["DBClusterIdentifier"])]
        else:
            clusters = sorted(state.clusters.values(), key=lambda c: c["pub"]["DBClusterIdentifier"])
        filters = _filters(params)
        for name, values in filters.items():
            if name not in ("db-cluster-id", "engine"):
                raise _invalid("Unrecognized filter name: %s" % name)  # (unconfirmed)
        wanted = {v.lower() for v in filters.get("db-cluster-id", [])}
        if wanted:
            clusters = [c for c in clusters if c["pub"]["DBClusterIdentifier"] in wanted
                        or c["pub"]["DBClusterArn"] in wanted]
        if "engine" in filters and "docdb" not in filters["engine"]:
            clusters = []
        return {"DBClusters": [self._cluster_view(state, c) for c in clusters]}

    def _usable(self, cluster, verb):
        status = cluster["pub"]["Status"]
        if status != "available":
            raise DocdbError("InvalidDBClusterStateFault", "DB cluster %s is not in the available state (it is %s) and "
                             "cannot be %s." % (cluster["pub"]["DBClusterIdentifier"], status, verb))  # (unconfirmed)

    def _op_modify_db_cluster(self, call, state, params):
        cluster = self._cluster(state, params["DBClusterIdentifier"])
        for member in ("NewDBClusterIdentifier", "ServerlessV2ScalingConfiguration", "AllowMajorVersionUpgrade",
                       "RotateMasterUserPassword", "NetworkType", "StorageType"):
            if params.get(member) is not None:
                raise _unsupported("ModifyDBCluster", member)
        self._usable(cluster, "modified")
        pub = cluster["pub"]
        if params.get("EngineVersion") not in (None, pub["EngineVersion"]):
            raise _unsupported("ModifyDBCluster", "EngineVersion (an engine upgrade)")
        if params.get("ManageMasterUserPassword") is False or (
                params.get("ManageMasterUserPassword") and not pub.get("MasterUserSecret")):
            raise _unsupported("ModifyDBCluster", "ManageMasterUserPassword (switching how the password is managed)")
        self._retention(params.get("BackupRetentionPeriod"))
        changes = {}
        if params.get("BackupRetentionPeriod") is not None:
            changes["BackupRetentionPeriod"] = params["BackupRetentionPeriod"]
        if params.get("PreferredBackupWindow"):
            changes["PreferredBackupWindow"] = self._backup_window(params["PreferredBackupWindow"])
        if params.get("PreferredMaintenanceWindow"):
            changes["PreferredMaintenanceWindow"] = self._maintenance_window(params["PreferredMaintenanceWindow"])
        if params.get("DBClusterParameterGroupName"):
            group = self._group(call, state, params["DBClusterParameterGroupName"])
            if group is None:
                raise DocdbError("DBClusterParameterGroupNotFound", "DBClusterParameterGroup not found: %s"
                                 % params["DBClusterParameterGroupName"])  # (AWS)
            family = ENGINE_VERSIONS[pub["EngineVersion"]]
            if group["pub"]["DBParameterGroupFamily"] != family:
                raise _combination("The Parameter Group %s with DBParameterGroupFamily %s cannot be used for this "
                                   "instance. Please use a Parameter Group with DBParameterGroupFamily %s"
                                   % (params["DBClusterParameterGroupName"], group["pub"]["DBParameterGroupFamily"],
                                      family))  # (AWS)
            changes["DBClusterParameterGroup"] = group["pub"]["DBClusterParameterGroupName"]
        if params.get("VpcSecurityGroupIds"):
            changes["VpcSecurityGroups"] = self._security_groups(call, params["VpcSecurityGroupIds"],
                                                                 cluster["subnets"]["vpc"])
        if params.get("Port") is not None:
            changes["Port"] = params["Port"]
        if params.get("DeletionProtection") is not None:
            changes["DeletionProtection"] = params["DeletionProtection"]
        if params.get("CopyTagsToSnapshot") is not None:
            changes["CopyTagsToSnapshot"] = params["CopyTagsToSnapshot"]
        exports = params.get("CloudwatchLogsExportConfiguration")
        if exports:
            enable = self._log_types(exports.get("EnableLogTypes"), pub["EngineVersion"])
            disable = self._log_types(exports.get("DisableLogTypes"), pub["EngineVersion"])
            if set(enable) & set(disable):
                raise _combination("A log type cannot be both enabled and disabled.")  # (unconfirmed)
            logs = sorted((set(pub.get("EnabledCloudwatchLogsExports") or []) | set(enable)) - set(disable))
            changes["EnabledCloudwatchLogsExports"] = logs
        if params.get("MasterUserSecretKmsKeyId"):
            key = self._kms_key(call, params["MasterUserSecretKmsKeyId"], "MasterUserSecretKmsKeyId")
            secret = dict(pub["MasterUserSecret"], KmsKeyId=key)
            self._backend("secretsmanager", call).secrets[secret["SecretArn"]].kms_key_id = key
            changes["MasterUserSecret"] = secret
        pub.update(changes)
        if "EnabledCloudwatchLogsExports" in changes and not changes["EnabledCloudwatchLogsExports"]:
            pub.pop("EnabledCloudwatchLogsExports")
        return {"DBCluster": self._cluster_view(state, cluster)}

    def _op_delete_db_cluster(self, call, state, params):
        cluster = self._cluster(state, params["DBClusterIdentifier"])
        pub = cluster["pub"]
        name = pub["DBClusterIdentifier"]
        if pub["DeletionProtection"]:
            raise _combination("Cannot delete protected Cluster, please disable deletion protection and try "
                               "again.")  # (AWS)
        self._usable(cluster, "deleted")
        live = [i for i in state.instances.values()
                if i["pub"]["DBClusterIdentifier"] == name and i["pub"]["DBInstanceStatus"] != "deleting"]
        if live:
            raise DocdbError("InvalidDBClusterStateFault", "Cluster cannot be deleted, it still contains DB instances "
                             "in non-deleting state.")  # (AWS)
        final = params.get("FinalDBSnapshotIdentifier")
        if params.get("SkipFinalSnapshot"):
            if final:
                raise _combination("FinalDBSnapshotIdentifier can not be specified when deleting a cluster with "
                                   "SkipFinalSnapshot set to true.")  # (unconfirmed)
        else:
            if not final:
                raise _combination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is "
                                   "specified.")  # (AWS)
            snapshot = self._identifier(final, "FinalDBSnapshotIdentifier")
            if snapshot in state.snapshots:
                raise DocdbError("DBClusterSnapshotAlreadyExistsFault", "Cannot create the cluster snapshot because "
                                 "one with the identifier %s already exists." % final)  # (AWS)
            state.snapshots[snapshot] = {
                "AvailabilityZones": list(pub["AvailabilityZones"]), "DBClusterSnapshotIdentifier": snapshot,
                "DBClusterIdentifier": name, "SnapshotCreateTime": self._now(), "Engine": "docdb",
                "Status": "available", "Port": pub["Port"], "VpcId": cluster["subnets"]["vpc"],
                "ClusterCreateTime": pub["ClusterCreateTime"], "MasterUsername": pub["MasterUsername"],
                "EngineVersion": pub["EngineVersion"], "SnapshotType": "manual", "PercentProgress": 100,
                "StorageEncrypted": pub["StorageEncrypted"], "DBClusterSnapshotArn": self._arn(
                    call, "cluster-snapshot", snapshot), "StorageType": "standard"}
            if pub.get("KmsKeyId"):
                state.snapshots[snapshot]["KmsKeyId"] = pub["KmsKeyId"]
            state.snapshots[snapshot]["tags"] = list(cluster["tags"]) if pub.get("CopyTagsToSnapshot") else []
        pub["Status"] = "deleting"
        cluster["until"] = self._until("docdb_cluster_delete", name)
        self._drop_secret(call, pub)
        return {"DBCluster": self._cluster_view(state, cluster)}

    # -- instances ------------------------------------------------------------------------------------

    def _instance(self, state, name):
        instance = state.instances.get((name or "").lower())
        if instance is None:
            raise DocdbError("DBInstanceNotFound", "DBInstance %s not found." % name)  # (AWS)
        return instance

    def _op_create_db_instance(self, call, state, params):
        name = self._identifier(params["DBInstanceIdentifier"], "DBInstanceIdentifier")
        for member in ("EnablePerformanceInsights", "PerformanceInsightsKMSKeyId"):
            if params.get(member):
                raise _unsupported("CreateDBInstance", member)
        if str(params["Engine"]).lower() != "docdb":
            raise _combination("The engine %s does not match the engine docdb of the DB cluster."
                               % params["Engine"])  # (unconfirmed)
        cluster = self._cluster(state, params["DBClusterIdentifier"])
        pub = cluster["pub"]
        if pub["Status"] not in ("creating", "available"):
            raise DocdbError("InvalidDBClusterStateFault", "DB cluster %s is %s; instances cannot be added."
                             % (pub["DBClusterIdentifier"], pub["Status"]))  # (unconfirmed)
        if name in state.instances or self._moto_rds(call, "databases", name):
            raise DocdbError("DBInstanceAlreadyExists", "DB instance already exists")  # (AWS)
        klass = params["DBInstanceClass"]
        if klass not in INSTANCE_CLASSES:
            raise _combination("RDS does not support creating a DB instance with the following combination: "
                               "DBInstanceClass=%s, Engine=docdb, EngineVersion=%s, LicenseModel=na. For supported "
                               "combinations of instance class and database engine version, see the documentation."
                               % (klass, pub["EngineVersion"]))  # (AWS)
        members = [i for i in state.instances.values() if i["pub"]["DBClusterIdentifier"] == pub["DBClusterIdentifier"]
                   and i["pub"]["DBInstanceStatus"] != "deleting"]
        if len(members) >= MAX_INSTANCES:
            raise DocdbError("InstanceQuotaExceeded", "A DocumentDB cluster has at most %d instances."
                             % MAX_INSTANCES)  # (unconfirmed)
        zones = cluster["subnets"]["zones"] or ["%sa" % call.region]
        zone = params.get("AvailabilityZone") or zones[len(members) % len(zones)]
        if zone not in zones:
            raise _invalid("Availability zone %s is not in the DB subnet group of the cluster." % zone)  # (unconfirmed)
        tier = params.get("PromotionTier")
        if tier is not None and not 0 <= tier <= 15:
            raise _invalid("PromotionTier must be from 0 to 15.")  # (unconfirmed)
        maintenance = self._maintenance_window(params["PreferredMaintenanceWindow"]) \
            if params.get("PreferredMaintenanceWindow") else pub["PreferredMaintenanceWindow"]
        suffix = "".join(secrets.choice(_ALNUM) for _ in range(12))
        instance_pub = {
            "DBInstanceIdentifier": name, "DBInstanceClass": klass, "Engine": "docdb",
            "DBInstanceStatus": "creating", "InstanceCreateTime": self._now(),
            "PreferredBackupWindow": pub["PreferredBackupWindow"], "BackupRetentionPeriod": pub["BackupRetentionPeriod"],
            "VpcSecurityGroups": copy.deepcopy(pub["VpcSecurityGroups"]), "AvailabilityZone": zone,
            "PreferredMaintenanceWindow": maintenance, "PendingModifiedValues": {},
            "EngineVersion": pub["EngineVersion"],
            "AutoMinorVersionUpgrade": params.get("AutoMinorVersionUpgrade", True), "PubliclyAccessible": False,
            "DBClusterIdentifier": pub["DBClusterIdentifier"], "StorageEncrypted": pub["StorageEncrypted"],
            "DbiResourceId": "db-" + "".join(secrets.choice(_UPPER) for _ in range(26)),
            "CACertificateIdentifier": params.get("CACertificateIdentifier") or "rds-ca-rsa2048-g1",
            "CopyTagsToSnapshot": bool(params.get("CopyTagsToSnapshot")),
            "PromotionTier": 1 if tier is None else tier, "DBInstanceArn": self._arn(call, "db", name),
            "PerformanceInsightsEnabled": False,
        }
        if cluster["subnets"].get("pub"):
            instance_pub["DBSubnetGroup"] = copy.deepcopy(cluster["subnets"]["pub"])
        if pub.get("KmsKeyId"):
            instance_pub["KmsKeyId"] = pub["KmsKeyId"]
        if pub.get("EnabledCloudwatchLogsExports"):
            instance_pub["EnabledCloudwatchLogsExports"] = list(pub["EnabledCloudwatchLogsExports"])
        endpoint = {"Address": "%s.%s.%s.docdb.amazonaws.com" % (name, suffix, call.region), "Port": pub["Port"],
                    "HostedZoneId": pub["HostedZoneId"]}
        state.instances[name] = {"pub": instance_pub, "endpoint": endpoint, "tags": self._tags(params.get("Tags")),
                                 "until": self._until("docdb_cluster_create", name)}
        return {"DBInstance": copy.deepcopy(instance_pub)}

    def _op_describe_db_instances(self, call, state, params):
        if params.get("DBInstanceIdentifier"):
            instances = [self._instance(state, params["DBInstanceIdentifier"])]
        else:
            instances = sorted(state.instances.values(), key=lambda i: i["pub"]["DBInstanceIdentifier"])
        filters = _filters(params)
        for name in filters:
            if name not in ("db-cluster-id", "db-instance-id", "engine"):
                raise _invalid("Unrecognized filter name: %s" % name)  # (unconfirmed)
        clusters = {v.lower() for v in filters.get("db-cluster-id", [])}
        if clusters:
            instances = [i for i in instances if i["pub"]["DBClusterIdentifier"] in clusters
                         or self._arn(call, "cluster", i["pub"]["DBClusterIdentifier"]) in clusters]
        ids = {v.lower() for v in filters.get("db-instance-id", [])}
        if ids:
            instances = [i for i in instances if i["pub"]["DBInstanceIdentifier"] in ids
                         or i["pub"]["DBInstanceArn"] in ids]
        if "engine" in filters and "docdb" not in filters["engine"]:
            instances = []
        return {"DBInstances": [copy.deepcopy(i["pub"]) for i in instances]}

    def _op_delete_db_instance(self, call, state, params):
        instance = self._instance(state, params["DBInstanceIdentifier"])
        pub = instance["pub"]
        if pub["DBInstanceStatus"] == "deleting":
            raise DocdbError("InvalidDBInstanceState", "Instance %s is already being deleted."
                             % pub["DBInstanceIdentifier"])  # (unconfirmed)
        pub["DBInstanceStatus"] = "deleting"
        instance["until"] = self._until("docdb_cluster_delete", pub["DBInstanceIdentifier"])
        return {"DBInstance": copy.deepcopy(pub)}

    # -- engine versions ----------------------------------------------------------------------------

    def _op_describe_db_engine_versions(self, call, state, params):
        if params.get("Engine") not in (None, "docdb"):
            return {"DBEngineVersions": []}
        out = []
        for version, family in sorted(ENGINE_VERSIONS.items()):
            if params.get("EngineVersion") and params["EngineVersion"] != version:
                continue
            if params.get("DBParameterGroupFamily") and params["DBParameterGroupFamily"] != family:
                continue
            if params.get("DefaultOnly") and version != DEFAULT_VERSION:
                continue
            out.append({"Engine": "docdb", "EngineVersion": version, "DBParameterGroupFamily": family,
                        "DBEngineDescription": "Amazon DocumentDB (with MongoDB compatibility)",
                        "DBEngineVersionDescription": "docdb %s" % version,
                        "ValidUpgradeTarget": [{"Engine": "docdb", "EngineVersion": v, "Description": "docdb %s" % v,
                                                "AutoUpgrade": False, "IsMajorVersionUpgrade": True}
                                               for v in sorted(ENGINE_VERSIONS) if v > version],
                        "ExportableLogTypes": list(LOG_TYPES), "SupportsLogExportsToCloudwatchLogs": True,
                        "SupportedCACertificateIdentifiers": ["rds-ca-2019", "rds-ca-ecc384-g1", "rds-ca-rsa2048-g1",
                                                              "rds-ca-rsa4096-g1"],
                        "SupportsCertificateRotationWithoutRestart": True})
        return {"DBEngineVersions": out}

    # -- cluster parameter groups -------------------------------------------------------------------

    def _existing_group(self, call, state, name):
        group = self._group(call, state, name)
        if group is None:
            raise DocdbError("DBParameterGroupNotFound", "DBClusterParameterGroup not found: %s" % name)  # (AWS)
        return group

    def _op_create_db_cluster_parameter_group(self, call, state, params):
        name = self._identifier(params["DBClusterParameterGroupName"], "DBClusterParameterGroupName")
        family = params["DBParameterGroupFamily"]
        if family not in FAMILY_PARAMETERS:
            raise _invalid("DBParameterGroupFamily %s is not supported for docdb; supported: %s"
                           % (family, ", ".join(sorted(FAMILY_PARAMETERS))))  # (unconfirmed)
        if name.startswith("default."):
            raise _invalid("Parameter group names cannot start with 'default.'")  # (unconfirmed)
        if name in state.groups or self._moto_rds(call, "db_cluster_parameter_groups", name):
            raise DocdbError("DBParameterGroupAlreadyExists", "Parameter group %s already exists" % name)  # (AWS)
        state.groups[name] = {"pub": {
            "DBClusterParameterGroupName": name, "DBParameterGroupFamily": family,
            "Description": params["Description"],
            "DBClusterParameterGroupArn": self._arn(call, "cluster-pg", name)},
            "values": {}, "tags": self._tags(params.get("Tags")), "default": False}
        return {"DBClusterParameterGroup": copy.deepcopy(state.groups[name]["pub"])}

    def _op_describe_db_cluster_parameter_groups(self, call, state, params):
        if params.get("DBClusterParameterGroupName"):
            return {"DBClusterParameterGroups": [copy.deepcopy(self._existing_group(
                call, state, params["DBClusterParameterGroupName"])["pub"])]}
        for family in FAMILY_PARAMETERS:
            self._group(call, state, _default_group_name(family))
        return {"DBClusterParameterGroups": [copy.deepcopy(g["pub"]) for _, g in sorted(state.groups.items())]}

    def _op_describe_db_cluster_parameters(self, call, state, params):
        group = self._existing_group(call, state, params["DBClusterParameterGroupName"])
        out = []
        for parameter in FAMILY_PARAMETERS[group["pub"]["DBParameterGroupFamily"]]:
            item = dict(parameter)
            if parameter["ParameterName"] in group["values"]:
                item["ParameterValue"], item["ApplyMethod"] = group["values"][parameter["ParameterName"]]
                item["Source"] = "user"
            elif not group["default"]:
                item["Source"] = "engine-default"
            if params.get("Source") and item["Source"] != params["Source"]:
                continue
            out.append(item)
        return {"Parameters": out}

    def _op_modify_db_cluster_parameter_group(self, call, state, params):
        group = self._existing_group(call, state, params["DBClusterParameterGroupName"])
        if group["default"]:
            raise _invalid("Default parameter groups cannot be modified: %s"
                           % group["pub"]["DBClusterParameterGroupName"])  # (unconfirmed)
        if not 1 <= len(params["Parameters"]) <= 20:
            raise _invalid("Specify from 1 to 20 parameters.")  # (unconfirmed)
        known = {p["ParameterName"]: p for p in FAMILY_PARAMETERS[group["pub"]["DBParameterGroupFamily"]]}
        changes = {}
        for parameter in params["Parameters"]:
            name, value = parameter.get("ParameterName"), parameter.get("ParameterValue")
            if name not in known:
                raise _invalid("Could not find parameter with name: %s" % name)  # (AWS)
            if value is None:
                raise _invalid("The parameter value of %s must not be empty." % name)  # (unconfirmed)
            allowed = known[name]["AllowedValues"]
            if known[name]["DataType"] == "string" and value not in allowed.split(","):
                raise _invalid("Value: %s is not allowed for %s. Allowed values: %s" % (value, name, allowed))  # (unconfirmed)
            if known[name]["DataType"] in ("integer", "float"):
                low, high = (float(x) for x in allowed.split("-"))
                try:
                    number = float(value)
                except ValueError:
                    number = None
                if number is None or not low <= number <= high:
                    raise _invalid("Value: %s is not allowed for %s. Allowed values: %s" % (value, name, allowed))  # (unconfirmed)
            method = parameter.get("ApplyMethod") or "pending-reboot"
            if method == "immediate" and known[name]["ApplyType"] == "static":
                raise _combination("cannot use immediate apply method for static parameter")  # (AWS)
            changes[name] = (value, method)
        group["values"].update(changes)
        return {"DBClusterParameterGroupName": group["pub"]["DBClusterParameterGroupName"]}

    def _op_delete_db_cluster_parameter_group(self, call, state, params):
        group = self._existing_group(call, state, params["DBClusterParameterGroupName"])
        name = group["pub"]["DBClusterParameterGroupName"]
        if group["default"]:
            raise _invalid("Default DBClusterParameterGroup cannot be deleted: %s" % name)  # (unconfirmed)
        if any(c["pub"]["DBClusterParameterGroup"] == name for c in state.clusters.values()):
            raise DocdbError("InvalidDBParameterGroupState", "One or more database instances are still members of "
                             "this parameter group %s, so the group cannot be deleted" % name)  # (AWS)
        del state.groups[name]
        return {}

    # -- final snapshots ------------------------------------------------------------------------------

    def _op_describe_db_cluster_snapshots(self, call, state, params):
        snapshots = sorted(state.snapshots.values(), key=lambda s: s["DBClusterSnapshotIdentifier"])
        if params.get("DBClusterSnapshotIdentifier"):
            wanted = params["DBClusterSnapshotIdentifier"].lower()
            snapshots = [s for s in snapshots if s["DBClusterSnapshotIdentifier"] == wanted]
            if not snapshots:
                raise DocdbError("DBClusterSnapshotNotFoundFault", "DBClusterSnapshot %s not found."
                                 % params["DBClusterSnapshotIdentifier"])  # (AWS)
        if params.get("DBClusterIdentifier"):
            snapshots = [s for s in snapshots if s["DBClusterIdentifier"] == params["DBClusterIdentifier"].lower()]
        if params.get("SnapshotType") not in (None, "manual"):
            snapshots = []
        return {"DBClusterSnapshots": [{k: v for k, v in s.items() if k != "tags"} for s in snapshots]}

    def _op_delete_db_cluster_snapshot(self, call, state, params):
        snapshot = state.snapshots.pop(params["DBClusterSnapshotIdentifier"].lower(), None)
        if snapshot is None:
            raise DocdbError("DBClusterSnapshotNotFoundFault", "DBClusterSnapshot %s not found."
                             % params["DBClusterSnapshotIdentifier"])  # (AWS)
        snapshot = {k: v for k, v in snapshot.items() if k != "tags"}
        snapshot["Status"] = "deleted"
        return {"DBClusterSnapshot": snapshot}

    # -- tags -------------------------------------------------------------------------------------------

    def _tagged(self, call, state, arn, quiet=False):
        """The record (with ``tags``) ``arn`` names, None (``quiet``) or the not-found error."""
        match = _ARN_RE.match(arn or "")
        record = None
        kind = match.group(4) if match else ""
        if match and match.group(3) == self._account(call) and match.group(2) == call.region:
            name = match.group(5).lower()
            record = {"cluster": state.clusters, "db": state.instances, "cluster-pg": state.groups,
                      "cluster-snapshot": state.snapshots}[kind].get(name)
        if record is not None or quiet:
            return record
        if kind == "db":
            raise DocdbError("DBInstanceNotFound", "DBInstance %s not found." % arn)  # (AWS)
        if kind == "cluster-snapshot":
            raise DocdbError("DBSnapshotNotFound", "DBClusterSnapshot %s not found." % arn)  # (unconfirmed)
        raise DocdbError("DBClusterNotFoundFault", "DBCluster %s not found." % arn)  # (AWS)

    def _op_list_tags_for_resource(self, call, state, params):
        record = self._tagged(call, state, params["ResourceName"])
        return {"TagList": [dict(t) for t in record.get("tags") or []]}

    def _op_add_tags_to_resource(self, call, state, params):
        record = self._tagged(call, state, params["ResourceName"])
        tags = list(record.get("tags") or [])
        for tag in self._tags(params["Tags"]):
            tags = [t for t in tags if t["Key"] != tag["Key"]] + [tag]
        if len(tags) > 50:
            raise DocdbError("TagQuotaPerResourceExceeded", "A resource can have at most 50 tags.")  # (unconfirmed)
        record["tags"] = tags
        return {}

    def _op_remove_tags_from_resource(self, call, state, params):
        record = self._tagged(call, state, params["ResourceName"])
        record["tags"] = [t for t in record.get("tags") or [] if t["Key"] not in set(params["TagKeys"])]
        return {}


def _hosted_zone(region):
    """A Route 53 hosted zone id for the region's endpoints (invented, stable per region)."""
    digest = uuid.uuid5(uuid.NAMESPACE_DNS, "docdb." + region).hex.upper()
    return "Z" + digest[:13]


def _snake(name):
    """``CreateDBCluster`` -> ``create_db_cluster``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
