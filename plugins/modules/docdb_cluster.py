#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: docdb_cluster
short_description: Manage an Amazon DocumentDB cluster, its instances and its cluster parameter group
version_added: 0.1.0
description:
  - Creates, updates and deletes an Amazon DocumentDB (with MongoDB compatibility) cluster
    and its instances, named C(<name>-1) to C(<name>-<instance_count>), through the C(docdb)
    API. The C(amazon.aws) RDS modules take DocumentDB clusters for RDS ones; this module
    only ever looks at clusters of the engine C(docdb).
  - The master password is managed by AWS in Secrets Manager (C(ManageMasterUserPassword)),
    encrypted with O(master_user_secret_kms_key_id); it never passes through Ansible. The
    secret's ARN is returned as RV(cluster.master_user_secret_arn).
  - With O(cluster_parameter_group_name) and O(cluster_parameters), the module creates the
    cluster parameter group (family C(docdb<major>.<minor>) of O(engine_version)) when it is
    missing and sets the parameters; a static parameter such as C(tls) is applied at the
    next reboot of the instances, as AWS applies it.
  - Settings AWS changes in place (backup retention and window, maintenance window,
    deletion protection, security groups, cluster parameter group, log exports, the key of
    the password's secret) are changed with one C(ModifyDBCluster) call, applied
    immediately. Settings AWS cannot change on an existing cluster (O(kms_key_id),
    O(master_username), O(subnet_group_name), O(engine_version)) are compared too, and a
    difference fails with a message naming the option.
  - O(instance_count) grows the cluster by creating the missing instances and shrinks it by
    deleting the highest-numbered ones.
  - A run that changes nothing costs C(DescribeDBClusters), C(DescribeDBInstances),
    C(ListTagsForResource) and, with O(cluster_parameters), C(DescribeDBClusterParameters).
options:
  name:
    description:
      - Identifier of the cluster. 1 to 63 letters, digits and hyphens, starting with a letter,
        not ending with a hyphen and without two consecutive hyphens; AWS stores it in
        lowercase.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the cluster, V(absent) deletes its instances and the
        cluster.
    type: str
    choices: [present, absent]
    default: present
  engine_version:
    description:
      - DocumentDB engine version, such as V(5.0.0) or V(4.0.0). Required to create the
        cluster. An existing cluster of another version is an error (upgrades are not made
        by this module).
    type: str
  instance_class:
    description:
      - Instance class of the cluster's instances, such as V(db.t3.medium), V(db.r5.large)
        or V(db.r6g.large). Required when instances are to be created.
    type: str
  instance_count:
    description:
      - Number of instances, 1 to 16 (one writer and up to 15 replicas).
    type: int
    default: 1
  master_username:
    description:
      - Name of the master user, 1 to 63 letters or digits starting with a letter. Required
        to create the cluster; cannot be changed.
    type: str
  master_user_secret_kms_key_id:
    description:
      - KMS key (ID, ARN or alias) that encrypts the Secrets Manager secret holding the master
        password. When omitted AWS uses C(aws/secretsmanager).
    type: str
  kms_key_id:
    description:
      - KMS key (ID, ARN or alias) that encrypts the cluster's storage. Storage is always
        encrypted; when omitted AWS uses C(aws/rds). Cannot be changed.
    type: str
  subnet_group_name:
    description:
      - DB subnet group of the cluster (an RDS DB subnet group covering at least two
        availability zones). Required to create the cluster; cannot be changed.
    type: str
  security_group_ids:
    description:
      - VPC security groups of the cluster. When omitted they are left as they are (the
        VPC's default group on creation).
    type: list
    elements: str
  cluster_parameter_group_name:
    description:
      - Cluster parameter group of the cluster. When omitted the cluster uses the default
        group of its family (C(default.docdb5.0)).
    type: str
  cluster_parameters:
    description:
      - "Parameters to set in O(cluster_parameter_group_name), such as C({tls: enabled,
        audit_logs: enabled}). Parameters not named keep their values; a boolean is written
        as V(enabled) or V(disabled)."
    type: dict
  backup_retention_days:
    description:
      - Days automated backups are kept, 1 to 35.
    type: int
  preferred_backup_window:
    description:
      - Daily backup window in UTC, C(hh24:mi-hh24:mi), at least 30 minutes.
    type: str
  preferred_maintenance_window:
    description:
      - Weekly maintenance window in UTC, C(ddd:hh24:mi-ddd:hh24:mi), at least 30 minutes.
    type: str
  deletion_protection:
    description:
      - Whether the cluster is protected from deletion.
    type: bool
  cloudwatch_logs_exports:
    description:
      - Logs exported to CloudWatch Logs. The profiler and audit logs are written only when
        the C(profiler) and C(audit_logs) cluster parameters enable them.
    type: list
    elements: str
    choices: [audit, profiler]
  wait:
    description:
      - Wait until the cluster and every instance are C(available) (or, with O(state=absent),
        gone). With V(false) the module returns right after its create or delete calls, so a
        playbook can start several long creations and wait for them with a second run.
      - Changing settings of a cluster that is not C(available) yet always waits for it.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait.
    type: int
    default: 1800
  skip_final_snapshot:
    description:
      - With O(state=absent), delete the cluster without a final snapshot.
    type: bool
    default: false
  final_snapshot_identifier:
    description:
      - With O(state=absent), identifier of the final cluster snapshot. Required unless
        O(skip_final_snapshot=true).
    type: str
  remove_deletion_protection:
    description:
      - With O(state=absent), turn off the deletion protection of a protected cluster before
        deleting it. Without it a protected cluster is an error.
    type: bool
    default: false
notes:
  - The cluster parameter group is not deleted with the cluster; it may be shared.
  - Changing the instance class of existing instances is not made by this module; a
    difference is an error naming O(instance_class).
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: DocumentDB cluster with two instances and TLS enforced
  honeyhive.platform.docdb_cluster:
    name: honeyhive-prod-docs
    engine_version: "5.0.0"
    instance_class: db.r6g.large
    instance_count: 2
    master_username: honeyhive
    master_user_secret_kms_key_id: alias/honeyhive-prod
    kms_key_id: alias/honeyhive-prod
    subnet_group_name: honeyhive-prod-data
    security_group_ids: ["{{ docdb_security_group_id }}"]
    cluster_parameter_group_name: honeyhive-prod-docdb5
    cluster_parameters:
      tls: enabled
      audit_logs: enabled
    backup_retention_days: 7
    preferred_backup_window: "03:00-04:00"
    preferred_maintenance_window: "sun:05:00-sun:06:00"
    deletion_protection: true
    cloudwatch_logs_exports: [audit]
    tags: "{{ platform_tags }}"
  register: docdb

- name: Start the creation and wait for it later
  honeyhive.platform.docdb_cluster:
    name: honeyhive-prod-docs
    engine_version: "5.0.0"
    instance_class: db.r6g.large
    master_username: honeyhive
    subnet_group_name: honeyhive-prod-data
    wait: false

- name: Delete it with a final snapshot
  honeyhive.platform.docdb_cluster:
    name: honeyhive-prod-docs
    state: absent
    final_snapshot_identifier: honeyhive-prod-docs-final
    remove_deletion_protection: true
"""

RETURN = r"""
cluster:
  description: The cluster as AWS describes it (null after O(state=absent), and in check mode before it exists).
  returned: always
  type: dict
  contains:
    name:
      description: Identifier of the cluster.
      type: str
      sample: honeyhive-prod-docs
    arn:
      description: ARN of the cluster.
      type: str
      sample: arn:aws:rds:us-west-2:111122223333:cluster:honeyhive-prod-docs
    status:
      description: Status (C(creating), C(available), C(modifying), C(deleting) ...).
      type: str
      sample: available
    engine_version:
      description: Engine version.
      type: str
      sample: 5.0.0
    endpoint:
      description: Cluster (writer) endpoint.
      type: str
      sample: honeyhive-prod-docs.cluster-c0example.us-west-2.docdb.amazonaws.com
    reader_endpoint:
      description: Reader endpoint.
      type: str
      sample: honeyhive-prod-docs.cluster-ro-c0example.us-west-2.docdb.amazonaws.com
    port:
      description: Port of the endpoints.
      type: int
      sample: 27017
    master_username:
      description: Name of the master user.
      type: str
      sample: honeyhive
    master_user_secret_arn:
      description: ARN of the Secrets Manager secret holding the master password.
      type: str
      sample: arn:aws:secretsmanager:us-west-2:111122223333:secret:rds!cluster-0123-AbCdEf
    master_user_secret_kms_key_id:
      description: KMS key of that secret.
      type: str
    storage_encrypted:
      description: Whether storage is encrypted.
      type: bool
      sample: true
    kms_key_id:
      description: ARN of the KMS key that encrypts storage.
      type: str
    subnet_group_name:
      description: DB subnet group.
      type: str
    security_group_ids:
      description: VPC security groups.
      type: list
      elements: str
    cluster_parameter_group_name:
      description: Cluster parameter group.
      type: str
    backup_retention_period:
      description: Days automated backups are kept.
      type: int
      sample: 7
    preferred_backup_window:
      description: Daily backup window (UTC).
      type: str
    preferred_maintenance_window:
      description: Weekly maintenance window (UTC).
      type: str
    deletion_protection:
      description: Whether deletion protection is on.
      type: bool
    cloudwatch_logs_exports:
      description: Logs exported to CloudWatch Logs.
      type: list
      elements: str
    resource_id:
      description: The cluster's resource id (C(cluster-...)).
      type: str
    tags:
      description: Tags of the cluster.
      type: dict
    instances:
      description: The cluster's instances.
      type: list
      elements: dict
      contains:
        name:
          description: Identifier of the instance.
          type: str
        instance_class:
          description: Instance class.
          type: str
        status:
          description: Status of the instance.
          type: str
        availability_zone:
          description: Availability zone.
          type: str
        endpoint:
          description: Endpoint address (once available).
          type: str
        is_writer:
          description: Whether it is the cluster's writer.
          type: bool
actions:
  description: The changes made (in check mode, the changes that would be made).
  returned: always
  type: list
  elements: str
  sample: ["create the cluster", "create instance honeyhive-prod-docs-1"]
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ModuleRun
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import desired_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tag_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import wait_for

POLL_DELAY = 15
ENGINE = [{"Name": "engine", "Values": ["docdb"]}]
ID_RE = re.compile(r"^[a-zA-Z](?:[a-zA-Z0-9]|-(?!-)){0,62}$")
VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.\d+$")
CLASS_RE = re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$")
USER_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9]{0,62}$")
WINDOW_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
MAINTENANCE_RE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):"
                            r"([01]\d|2[0-3]):[0-5]\d$")
SG_RE = re.compile(r"^sg-[0-9a-f]{8,17}$")
MAX_INSTANCES = 16
GONE = ("deleting", "deleted")


def family_of(version):
    """``5.0.0`` -> ``docdb5.0``."""
    major, minor = VERSION_RE.match(version).groups()
    return "docdb%s.%s" % (major, minor)


def validate(module):
    params = module.params
    name = params["name"] or ""
    if not ID_RE.match(name) or name.endswith("-"):
        module.fail_json(msg=invalid_value(
            "name", name, "Allowed: 1 to 63 letters, digits and hyphens, starting with a letter, not ending with a "
            "hyphen and without two consecutive hyphens."))
    check_range(module, "wait_timeout", 0, 86400)
    if params["state"] == "absent":
        if not params["skip_final_snapshot"]:
            final = params["final_snapshot_identifier"]
            if not final:
                module.fail_json(msg="Option 'final_snapshot_identifier' is required to delete cluster %s unless "
                                 "skip_final_snapshot is true." % name)
            if not ID_RE.match(final) or final.endswith("-"):
                module.fail_json(msg=invalid_value("final_snapshot_identifier", final, "Allowed: 1 to 63 letters, "
                                                   "digits and hyphens, starting with a letter."))
        elif params["final_snapshot_identifier"]:
            module.fail_json(msg="Options 'final_snapshot_identifier' and 'skip_final_snapshot' exclude each other.")
        return
    check_range(module, "instance_count", 1, MAX_INSTANCES)
    check_range(module, "backup_retention_days", 1, 35)
    if params["engine_version"] is not None and not VERSION_RE.match(params["engine_version"]):
        module.fail_json(msg=invalid_value("engine_version", params["engine_version"],
                                           "Allowed: a DocumentDB engine version such as 5.0.0 or 4.0.0."))
    if params["instance_class"] is not None and not CLASS_RE.match(params["instance_class"]):
        module.fail_json(msg=invalid_value("instance_class", params["instance_class"],
                                           "Allowed: an instance class such as db.t3.medium or db.r6g.large."))
    if params["master_username"] is not None and not USER_RE.match(params["master_username"]):
        module.fail_json(msg=invalid_value("master_username", params["master_username"],
                                           "Allowed: 1 to 63 letters or digits, starting with a letter."))
    if params["preferred_backup_window"] is not None and not WINDOW_RE.match(params["preferred_backup_window"]):
        module.fail_json(msg=invalid_value("preferred_backup_window", params["preferred_backup_window"],
                                           "Allowed: hh24:mi-hh24:mi in UTC, such as 03:00-04:00."))
    window = params["preferred_maintenance_window"]
    if window is not None and not MAINTENANCE_RE.match(window.lower()):
        module.fail_json(msg=invalid_value("preferred_maintenance_window", window,
                                           "Allowed: ddd:hh24:mi-ddd:hh24:mi in UTC, such as sun:05:00-sun:06:00."))
    for group_id in params["security_group_ids"] or []:
        if not SG_RE.match(group_id):
            module.fail_json(msg=invalid_value("security_group_ids", group_id,
                                               "Allowed: security group IDs such as sg-0123456789abcdef0."))
    if params["cluster_parameters"] is not None:
        group = params["cluster_parameter_group_name"]
        if not group:
            module.fail_json(msg="Option 'cluster_parameters' needs 'cluster_parameter_group_name' (the default "
                             "groups cannot be changed).")
        if group.startswith("default."):
            module.fail_json(msg=invalid_value("cluster_parameter_group_name", group,
                                               "Allowed: a group of your own; default groups cannot be changed."))
        for key, value in params["cluster_parameters"].items():
            if isinstance(value, (dict, list)) or value is None:
                module.fail_json(msg=invalid_value("cluster_parameters", {key: value},
                                                   "Allowed: string, number or boolean values."))
    check_tags(module)


def parameter_text(value):
    if isinstance(value, bool):
        return "enabled" if value else "disabled"
    return str(value)


def view(cluster, instances, tags):
    if not cluster:
        return None
    secret = cluster.get("MasterUserSecret") or {}
    return dict(
        name=cluster.get("DBClusterIdentifier"),
        arn=cluster.get("DBClusterArn"),
        status=cluster.get("Status"),
        engine=cluster.get("Engine"),
        engine_version=cluster.get("EngineVersion"),
        endpoint=cluster.get("Endpoint"),
        reader_endpoint=cluster.get("ReaderEndpoint"),
        port=cluster.get("Port"),
        master_username=cluster.get("MasterUsername"),
        master_user_secret_arn=secret.get("SecretArn"),
        master_user_secret_kms_key_id=secret.get("KmsKeyId"),
        storage_encrypted=cluster.get("StorageEncrypted"),
        kms_key_id=cluster.get("KmsKeyId"),
        subnet_group_name=cluster.get("DBSubnetGroup"),
        security_group_ids=sorted(g.get("VpcSecurityGroupId") for g in cluster.get("VpcSecurityGroups") or []),
        cluster_parameter_group_name=cluster.get("DBClusterParameterGroup"),
        backup_retention_period=cluster.get("BackupRetentionPeriod"),
        preferred_backup_window=cluster.get("PreferredBackupWindow"),
        preferred_maintenance_window=cluster.get("PreferredMaintenanceWindow"),
        deletion_protection=cluster.get("DeletionProtection"),
        cloudwatch_logs_exports=sorted(cluster.get("EnabledCloudwatchLogsExports") or []),
        resource_id=cluster.get("DbClusterResourceId"),
        tags=dict(tags or {}),
        instances=[instance_view(cluster, i) for i in instances],
    )


def instance_view(cluster, instance):
    writers = set(m.get("DBInstanceIdentifier") for m in cluster.get("DBClusterMembers") or [] if m.get("IsClusterWriter"))
    return dict(
        name=instance.get("DBInstanceIdentifier"),
        instance_class=instance.get("DBInstanceClass"),
        status=instance.get("DBInstanceStatus"),
        availability_zone=instance.get("AvailabilityZone"),
        endpoint=(instance.get("Endpoint") or {}).get("Address"),
        is_writer=instance.get("DBInstanceIdentifier") in writers,
    )


DIFF_KEYS = ("engine_version", "master_username", "kms_key_id", "subnet_group_name", "security_group_ids",
             "cluster_parameter_group_name", "backup_retention_period", "preferred_backup_window",
             "preferred_maintenance_window", "deletion_protection", "cloudwatch_logs_exports",
             "master_user_secret_kms_key_id", "tags")


def diff_view(result, instances=None):
    if not result:
        return {}
    out = dict((k, result.get(k)) for k in DIFF_KEYS)
    out["instances"] = sorted(i["name"] for i in result.get("instances") or []) if instances is None else instances
    return out


class Cluster(ModuleRun):
    """One run of the module for cluster ``name``."""

    def __init__(self, module):
        super().__init__(module, "docdb")
        self.name = self.params["name"].lower()
        self.subject = "DocumentDB cluster %s" % self.name
        self._kms = None

    # -- reading ---------------------------------------------------------------------------------

    def describe(self):
        try:
            found = self.client.describe_db_clusters(DBClusterIdentifier=self.name, Filters=ENGINE,
                                                     aws_retry=True)["DBClusters"]
        except is_boto3_error_code("DBClusterNotFoundFault"):
            return None
        except boto_errors() as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=self.failure("describe"))
        found = [c for c in found if c.get("Engine") == "docdb"]
        return found[0] if found else None

    def instances(self):
        try:
            found = self.client.describe_db_instances(
                Filters=[{"Name": "db-cluster-id", "Values": [self.name]}] + ENGINE, aws_retry=True)["DBInstances"]
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg=self.failure("describe the instances"))
        return sorted(found, key=lambda i: i.get("DBInstanceIdentifier"))

    def tags(self, cluster):
        try:
            return tags_to_dict(self.client.list_tags_for_resource(
                ResourceName=cluster["DBClusterArn"], aws_retry=True).get("TagList"))
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg=self.failure("list the tags"))

    def wait(self, what, done, fetch=None):
        fetch = fetch or (lambda: (self.describe(), self.instances()))
        timeout = self.params["wait_timeout"]
        result, problem = wait_for(fetch, done, timeout=timeout, delay=POLL_DELAY)
        if problem:
            cluster = result[0] if isinstance(result, tuple) else result
            self.module.fail_json(msg="Timed out after %d seconds (option 'wait_timeout') waiting for %s %s; last "
                                  "status %s." % (timeout, self.subject, what, (cluster or {}).get("Status", "not found")))
        return result

    def wait_available(self):
        def done(result):
            cluster, instances = result
            return cluster is not None and cluster.get("Status") == "available"

        return self.wait("to be available", done)[0]

    # -- the cluster parameter group ---------------------------------------------------------------

    def ensure_parameter_group(self, version):
        params = self.params
        name = params["cluster_parameter_group_name"]
        if not name or params["cluster_parameters"] is None:
            return
        family = family_of(version)
        try:
            group = self.client.describe_db_cluster_parameter_groups(
                DBClusterParameterGroupName=name, aws_retry=True)["DBClusterParameterGroups"][0]
        except is_boto3_error_code("DBParameterGroupNotFound"):
            group = None
        except boto_errors() as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Failed to describe cluster parameter group %s" % name)
        if group is not None and group.get("DBParameterGroupFamily") != family:
            self.module.fail_json(msg=invalid_value(
                "cluster_parameter_group_name", name, "The group is of family %s; engine_version %s needs %s."
                % (group.get("DBParameterGroupFamily"), version, family)))
        wanted = dict((k, parameter_text(v)) for k, v in params["cluster_parameters"].items())
        if group is None:
            if self.act("create cluster parameter group %s (%s)" % (name, family)):
                self.call("create cluster parameter group %s" % name, "create_db_cluster_parameter_group",
                          DBClusterParameterGroupName=name, DBParameterGroupFamily=family,
                          Description="Cluster parameters of DocumentDB cluster %s" % self.name,
                          Tags=tags_to_list(stringify_tags(params["tags"])))
            elif wanted:
                self.act("set parameters %s of cluster parameter group %s" % (", ".join(sorted(wanted)), name))
                return
        current = {}
        if not self.check or group is not None:
            try:
                pages = self.client.get_paginator("describe_db_cluster_parameters").paginate(
                    DBClusterParameterGroupName=name)
                for page in pages:
                    for parameter in page.get("Parameters") or []:
                        current[parameter["ParameterName"]] = parameter
            except boto_errors() as e:
                self.module.fail_json_aws(e, msg="Failed to describe the parameters of cluster parameter group %s"
                                          % name)
        unknown = sorted(set(wanted) - set(current))
        if unknown and current:
            self.module.fail_json(msg=invalid_value("cluster_parameters", unknown, "Allowed: the parameters of family "
                                                    "%s: %s." % (family, ", ".join(sorted(current)))))
        changes = [
            {"ParameterName": key, "ParameterValue": value,
             "ApplyMethod": "pending-reboot" if current[key].get("ApplyType") == "static" else "immediate"}
            for key, value in sorted(wanted.items()) if key in current and current[key].get("ParameterValue") != value]
        if changes and self.act("set parameters %s of cluster parameter group %s"
                                % (", ".join(c["ParameterName"] for c in changes), name)):
            for start in range(0, len(changes), 20):
                self.call("set the parameters of cluster parameter group %s" % name,
                          "modify_db_cluster_parameter_group", DBClusterParameterGroupName=name,
                          Parameters=changes[start:start + 20])

    # -- present -----------------------------------------------------------------------------------

    def create(self):
        params = self.params
        for option in ("engine_version", "master_username", "subnet_group_name"):
            if not params[option]:
                self.module.fail_json(msg="Option '%s' is required to create %s." % (option, self.subject))
        request = dict(
            DBClusterIdentifier=self.name, Engine="docdb", EngineVersion=params["engine_version"],
            MasterUsername=params["master_username"], ManageMasterUserPassword=True,
            StorageEncrypted=True, DBSubnetGroupName=params["subnet_group_name"],
        )
        optional = dict(
            MasterUserSecretKmsKeyId=params["master_user_secret_kms_key_id"], KmsKeyId=params["kms_key_id"],
            VpcSecurityGroupIds=params["security_group_ids"],
            DBClusterParameterGroupName=params["cluster_parameter_group_name"],
            BackupRetentionPeriod=params["backup_retention_days"],
            PreferredBackupWindow=params["preferred_backup_window"],
            PreferredMaintenanceWindow=(params["preferred_maintenance_window"] or "").lower() or None,
            DeletionProtection=params["deletion_protection"],
            EnableCloudwatchLogsExports=sorted(set(params["cloudwatch_logs_exports"] or [])) or None,
            Tags=tags_to_list(stringify_tags(params["tags"])) or None,
        )
        request.update(dict((k, v) for k, v in optional.items() if v is not None))
        if not self.act("create the cluster"):
            return None
        return self.call("create", "create_db_cluster", **request)["DBCluster"]

    def kms_arn(self, key_id):
        """The ARN of the key ``key_id`` (an ID, ARN, alias name or alias ARN) names."""
        if key_id.startswith("arn:") and ":key/" in key_id:
            return key_id
        if self._kms is None:
            self._kms = retrying_client(self.module, "kms")
        try:
            return self._kms.describe_key(KeyId=key_id, aws_retry=True)["KeyMetadata"]["Arn"]
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg="Failed to describe KMS key %s" % key_id)

    def check_immutable(self, cluster):
        params = self.params
        name = self.name
        if params["engine_version"] and params["engine_version"] != cluster.get("EngineVersion"):
            self.module.fail_json(msg=invalid_value(
                "engine_version", params["engine_version"], "%s runs %s; this module does not upgrade engines."
                % (self.subject, cluster.get("EngineVersion"))))
        if params["master_username"] and params["master_username"] != cluster.get("MasterUsername"):
            self.module.fail_json(msg=invalid_value(
                "master_username", params["master_username"], "The master user of %s is %s and cannot be changed."
                % (self.subject, cluster.get("MasterUsername"))))
        if params["subnet_group_name"] and params["subnet_group_name"].lower() != (cluster.get("DBSubnetGroup") or ""):
            self.module.fail_json(msg=invalid_value(
                "subnet_group_name", params["subnet_group_name"], "%s is in subnet group %s; AWS cannot move a "
                "cluster to another subnet group (delete it first)." % (self.subject, cluster.get("DBSubnetGroup"))))
        if params["kms_key_id"]:
            if not cluster.get("StorageEncrypted"):
                self.module.fail_json(msg=invalid_value("kms_key_id", params["kms_key_id"], "%s is not encrypted; "
                                                        "AWS cannot encrypt an existing cluster." % name))
            if self.kms_arn(params["kms_key_id"]) != cluster.get("KmsKeyId"):
                self.module.fail_json(msg=invalid_value(
                    "kms_key_id", params["kms_key_id"], "%s is encrypted with %s; AWS cannot change the key of a "
                    "cluster." % (self.subject, cluster.get("KmsKeyId"))))

    def modify_request(self, cluster):
        params = self.params
        request = {}
        if params["backup_retention_days"] is not None and params["backup_retention_days"] != cluster.get(
                "BackupRetentionPeriod"):
            request["BackupRetentionPeriod"] = params["backup_retention_days"]
        if params["preferred_backup_window"] and params["preferred_backup_window"] != cluster.get(
                "PreferredBackupWindow"):
            request["PreferredBackupWindow"] = params["preferred_backup_window"]
        window = (params["preferred_maintenance_window"] or "").lower()
        if window and window != (cluster.get("PreferredMaintenanceWindow") or "").lower():
            request["PreferredMaintenanceWindow"] = window
        if params["deletion_protection"] is not None and params["deletion_protection"] != cluster.get(
                "DeletionProtection"):
            request["DeletionProtection"] = params["deletion_protection"]
        if params["security_group_ids"] is not None:
            current = sorted(g.get("VpcSecurityGroupId") for g in cluster.get("VpcSecurityGroups") or [])
            if sorted(set(params["security_group_ids"])) != current:
                request["VpcSecurityGroupIds"] = sorted(set(params["security_group_ids"]))
        group = params["cluster_parameter_group_name"]
        if group and group.lower() != (cluster.get("DBClusterParameterGroup") or "").lower():
            request["DBClusterParameterGroupName"] = group
        if params["cloudwatch_logs_exports"] is not None:
            current = set(cluster.get("EnabledCloudwatchLogsExports") or [])
            wanted = set(params["cloudwatch_logs_exports"])
            if current != wanted:
                request["CloudwatchLogsExportConfiguration"] = dict(
                    EnableLogTypes=sorted(wanted - current), DisableLogTypes=sorted(current - wanted))
        key = params["master_user_secret_kms_key_id"]
        secret = cluster.get("MasterUserSecret") or {}
        if key and secret and self.kms_arn(key) != secret.get("KmsKeyId"):
            request["MasterUserSecretKmsKeyId"] = key
        return request

    def modify(self, cluster):
        request = self.modify_request(cluster)
        if not request:
            return cluster
        if not self.act("change %s" % ", ".join(sorted(request))):
            return apply_request(cluster, request)
        if cluster.get("Status") != "available":
            cluster = self.wait_available()
            request = self.modify_request(cluster)
            if not request:
                return cluster
        return self.call("change %s" % ", ".join(sorted(request)), "modify_db_cluster",
                         DBClusterIdentifier=self.name, ApplyImmediately=True, **request)["DBCluster"]

    def sync_cluster_tags(self, cluster, current):
        """Bring the cluster's tags to O(tags) (AddTagsToResource / RemoveTagsFromResource)."""
        params = self.params
        if params["tags"] is None:
            return current
        arn = cluster["DBClusterArn"]
        desired = stringify_tags(params["tags"])
        to_set, to_unset = tag_diff(current, desired, params["purge_tags"])
        if to_unset and self.act("remove tags %s of the cluster" % ", ".join(to_unset)):
            self.guarded("untag", lambda: self.client.remove_tags_from_resource(ResourceName=arn, TagKeys=to_unset))
        if to_set and self.act("set tags %s of the cluster" % ", ".join(sorted(to_set))):
            self.guarded("tag", lambda: self.client.add_tags_to_resource(ResourceName=arn, Tags=tags_to_list(to_set)))
        return desired_tags(current, desired, params["purge_tags"])

    def guarded(self, what, call):
        try:
            return self.fresh(call)()
        except boto_errors() as e:
            self.module.fail_json_aws(e, msg=self.failure(what))

    def sync_instances(self, cluster, instances):
        params = self.params
        count = params["instance_count"]
        wanted = ["%s-%d" % (self.name, n) for n in range(1, count + 1)]
        live = [i for i in instances if i.get("DBInstanceStatus") not in GONE]
        names = set(i["DBInstanceIdentifier"] for i in live)
        klass = params["instance_class"]
        for instance in live:
            if klass and instance["DBInstanceIdentifier"] in wanted and instance.get("DBInstanceClass") != klass:
                self.module.fail_json(msg=invalid_value(
                    "instance_class", klass, "Instance %s is a %s; this module does not change the class of an "
                    "existing instance." % (instance["DBInstanceIdentifier"], instance.get("DBInstanceClass"))))
        missing = [n for n in wanted if n not in names]
        if missing and not klass:
            self.module.fail_json(msg="Option 'instance_class' is required to create instances %s of %s."
                                  % (", ".join(missing), self.subject))
        pattern = re.compile(r"^%s-(\d+)$" % re.escape(self.name))
        extra = sorted((i for i in live if pattern.match(i["DBInstanceIdentifier"])
                        and i["DBInstanceIdentifier"] not in wanted),
                       key=lambda i: -int(pattern.match(i["DBInstanceIdentifier"]).group(1)))
        for other in live:
            if not pattern.match(other["DBInstanceIdentifier"]):
                self.module.warn("Instance %s of %s is not named <name>-<n>; it was left alone."
                                 % (other["DBInstanceIdentifier"], self.subject))
        planned = [i for i in live if i not in extra]
        for name in missing:
            if self.act("create instance %s" % name):
                request = dict(DBInstanceIdentifier=name, DBInstanceClass=klass, Engine="docdb",
                               DBClusterIdentifier=self.name)
                tags = tags_to_list(stringify_tags(params["tags"]))
                if tags:
                    request["Tags"] = tags
                if params["preferred_maintenance_window"]:
                    request["PreferredMaintenanceWindow"] = params["preferred_maintenance_window"].lower()
                planned.append(self.call("create instance %s" % name, "create_db_instance", **request)["DBInstance"])
            else:
                planned.append(dict(DBInstanceIdentifier=name, DBInstanceClass=klass, DBInstanceStatus="creating"))
        for instance in extra:
            name = instance["DBInstanceIdentifier"]
            if self.act("delete instance %s" % name):
                try:
                    self.fresh(self.client.delete_db_instance)(DBInstanceIdentifier=name)
                except is_boto3_error_code("DBInstanceNotFound"):
                    pass
                except boto_errors() as e:  # pylint: disable=duplicate-except
                    self.module.fail_json_aws(e, msg=self.failure("delete instance %s" % name))
        return sorted(planned, key=lambda i: i.get("DBInstanceIdentifier")), [i["DBInstanceIdentifier"] for i in extra]

    def wait_ready(self, removed):
        count = self.params["instance_count"]
        wanted = set("%s-%d" % (self.name, n) for n in range(1, count + 1))

        def done(result):
            cluster, instances = result
            if cluster is None or cluster.get("Status") != "available":
                return False
            status = dict((i["DBInstanceIdentifier"], i.get("DBInstanceStatus")) for i in instances)
            return all(status.get(n) == "available" for n in wanted) and not any(n in status for n in removed)

        return self.wait("and its instances to be available", done)

    def present(self):
        params = self.params
        cluster = self.describe()
        if cluster is not None and cluster.get("Status") in GONE:
            self.module.fail_json(msg="%s is being deleted; run again once it is gone." % self.subject)
        version = params["engine_version"] or (cluster or {}).get("EngineVersion") or "5.0.0"
        if cluster is not None:
            self.check_immutable(cluster)
        self.ensure_parameter_group(version)
        if cluster is None:
            before = None
            instances, tags = [], {}
            cluster = self.create()
            if cluster is None:  # check mode
                planned = dict(DBClusterIdentifier=self.name, Status="creating", EngineVersion=version,
                               MasterUsername=params["master_username"], StorageEncrypted=True,
                               DBSubnetGroup=(params["subnet_group_name"] or "").lower(),
                               DBClusterParameterGroup=params["cluster_parameter_group_name"] or
                               "default." + family_of(version), Engine="docdb",
                               BackupRetentionPeriod=params["backup_retention_days"] or 1,
                               PreferredBackupWindow=params["preferred_backup_window"],
                               PreferredMaintenanceWindow=(params["preferred_maintenance_window"] or "").lower() or None,
                               DeletionProtection=bool(params["deletion_protection"]),
                               EnabledCloudwatchLogsExports=params["cloudwatch_logs_exports"] or [],
                               VpcSecurityGroups=[{"VpcSecurityGroupId": g} for g in params["security_group_ids"] or []])
                instances, _removed = self.sync_instances(planned, [])
                return view(planned, instances, desired_tags({}, params["tags"], True)), before
            tags = tags_to_dict(cluster.get("TagList")) or stringify_tags(params["tags"])
        else:
            instances = self.instances()
            tags = self.tags(cluster)
            before = view(cluster, instances, tags)
            cluster = self.modify(cluster)
            tags = self.sync_cluster_tags(cluster, tags)
        instances, removed = self.sync_instances(cluster, instances)
        if params["wait"] and not self.check:
            cluster, instances = self.wait_ready(removed)
        elif self.changed and not self.check:
            cluster, instances = self.describe() or cluster, self.instances()
        return view(cluster, instances, tags), before

    # -- absent ------------------------------------------------------------------------------------

    def absent(self):
        params = self.params
        cluster = self.describe()
        if cluster is None:
            return None
        instances = self.instances()
        before = view(cluster, instances, self.tags(cluster))
        if cluster.get("Status") == "deleting":
            if params["wait"] and not self.check:
                self.wait("to be deleted", lambda result: result[0] is None)
            return before
        if cluster.get("DeletionProtection"):
            if not params["remove_deletion_protection"]:
                self.module.fail_json(msg="%s has deletion protection; set remove_deletion_protection to delete it."
                                      % self.subject)
            if self.act("turn off deletion protection"):
                if cluster.get("Status") != "available":
                    self.wait_available()
                self.call("turn off deletion protection", "modify_db_cluster", DBClusterIdentifier=self.name,
                          DeletionProtection=False, ApplyImmediately=True)
        for instance in instances:
            name = instance["DBInstanceIdentifier"]
            if instance.get("DBInstanceStatus") not in GONE and self.act("delete instance %s" % name):
                try:
                    self.fresh(self.client.delete_db_instance)(DBInstanceIdentifier=name)
                except is_boto3_error_code("DBInstanceNotFound"):
                    pass
                except boto_errors() as e:  # pylint: disable=duplicate-except
                    self.module.fail_json_aws(e, msg=self.failure("delete instance %s" % name))
        if self.act("delete the cluster"):
            if cluster.get("Status") != "available":
                self.wait_available()
            request = dict(DBClusterIdentifier=self.name)
            if params["skip_final_snapshot"]:
                request["SkipFinalSnapshot"] = True
            else:
                request["FinalDBSnapshotIdentifier"] = params["final_snapshot_identifier"]
            self.call("delete", "delete_db_cluster", **request)
            if params["wait"]:
                self.wait("to be deleted", lambda result: result[0] is None)
        return before


def apply_request(cluster, request):
    """The cluster as ``ModifyDBCluster`` with ``request`` will leave it (for check mode)."""
    after = dict(cluster)
    for key, field in (("BackupRetentionPeriod", "BackupRetentionPeriod"), ("PreferredBackupWindow",
                       "PreferredBackupWindow"), ("PreferredMaintenanceWindow", "PreferredMaintenanceWindow"),
                       ("DeletionProtection", "DeletionProtection"), ("DBClusterParameterGroupName",
                       "DBClusterParameterGroup")):
        if key in request:
            after[field] = request[key]
    if "VpcSecurityGroupIds" in request:
        after["VpcSecurityGroups"] = [{"VpcSecurityGroupId": g} for g in request["VpcSecurityGroupIds"]]
    if "CloudwatchLogsExportConfiguration" in request:
        config = request["CloudwatchLogsExportConfiguration"]
        current = set(cluster.get("EnabledCloudwatchLogsExports") or [])
        after["EnabledCloudwatchLogsExports"] = sorted((current | set(config["EnableLogTypes"]))
                                                       - set(config["DisableLogTypes"]))
    if "MasterUserSecretKmsKeyId" in request:
        after["MasterUserSecret"] = dict(cluster.get("MasterUserSecret") or {}, KmsKeyId=request["MasterUserSecretKmsKeyId"])
    return after


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        engine_version=dict(type="str"),
        instance_class=dict(type="str"),
        instance_count=dict(type="int", default=1),
        master_username=dict(type="str"),
        master_user_secret_kms_key_id=dict(type="str"),
        kms_key_id=dict(type="str"),
        subnet_group_name=dict(type="str"),
        security_group_ids=dict(type="list", elements="str"),
        cluster_parameter_group_name=dict(type="str"),
        cluster_parameters=dict(type="dict"),
        backup_retention_days=dict(type="int"),
        preferred_backup_window=dict(type="str"),
        preferred_maintenance_window=dict(type="str"),
        deletion_protection=dict(type="bool"),
        cloudwatch_logs_exports=dict(type="list", elements="str", choices=["audit", "profiler"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        skip_final_snapshot=dict(type="bool", default=False),
        final_snapshot_identifier=dict(type="str"),
        remove_deletion_protection=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    run = Cluster(module)
    if module.params["state"] == "absent":
        before = run.absent()
        exit_with_diff(module, run.result(cluster=None), diff_view(before), {})
    after, before = run.present()
    exit_with_diff(module, run.result(cluster=after), diff_view(before), diff_view(after))


if __name__ == "__main__":
    main()
