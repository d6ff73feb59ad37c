#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: rds_db_instance
short_description: Manage an encrypted RDS for PostgreSQL DB instance whose master password RDS keeps in Secrets Manager
version_added: 0.1.0
description:
  - Creates, updates and deletes one Amazon RDS DB instance, identified by O(name).
  - The storage is always encrypted (C(StorageEncrypted)), with O(kms_key_id) or the
    account's C(aws/rds) key. RDS always manages the master user password
    (C(ManageMasterUserPassword)) in a Secrets Manager secret of its own, encrypted with
    O(master_user_secret_kms_key_id); no password is ever an option, a request of this
    module or a part of its result. An existing instance that does not manage its
    password yet (for example one restored from an older snapshot) is switched to it.
  - The instance is always private (C(PubliclyAccessible=false)).
  - A run that changes nothing costs one C(DescribeDBInstances) call (plus one
    C(DescribeKey) per KMS key given as an alias). A difference of a setting RDS can change
    in place is applied with one C(ModifyDBInstance) call; tags with
    C(AddTagsToResource) / C(RemoveTagsFromResource).
  - Settings RDS cannot change on an existing instance (O(engine), O(master_username),
    O(db_name), O(kms_key_id) and the storage encryption, the key of the managed secret,
    the key of Performance Insights once it is on, a smaller O(allocated_storage_gb)) are
    compared too, and a difference fails with a message naming the option instead of
    being ignored.
  - Without O(apply_immediately) RDS applies most changes (instance class, storage,
    Multi-AZ, engine version, CA certificate, subnet group ...) in the next maintenance
    window (O(preferred_maintenance_window)); until then they are listed in the result's
    C(instance.pending_modified_values), and a run that asks for them again changes
    nothing. Some settings are always applied at once (backup retention, deletion
    protection, security groups, monitoring, Performance Insights, log exports, port).
  - A new parameter group (O(parameter_group_name)) takes effect after a reboot, which
    this module does not do; C(instance.parameter_apply_status) shows C(pending-reboot)
    until then.
  - When the instance does not exist and O(restore_from) is given, it is created by a
    point-in-time restore or a snapshot restore with the same settings; what a restore
    cannot set (Performance Insights, enhanced monitoring, the maintenance window, the
    engine version, the storage autoscaling ceiling of a snapshot restore) is applied with
    C(ModifyDBInstance) once the restored instance is available - in the same run when
    O(wait=true), otherwise by the next run.
  - O(state=absent) deletes the instance, after a final snapshot unless
    O(skip_final_snapshot=true), and waits until it is gone (O(wait)).
options:
  name:
    description:
      - DB instance identifier. 1 to 63 lowercase letters, digits and hyphens, starting
        with a letter, without two hyphens in a row or one at the end.
    type: str
    required: true
  state:
    description:
      - V(present) creates (or restores) and updates the instance, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  engine:
    description:
      - Database engine. Cannot be changed.
    type: str
    choices: [postgres]
    default: postgres
  engine_version:
    description:
      - Engine version, pinned to a minor version such as V(16.4). Required to create an
        instance.
      - A newer minor version of the same major version is applied with
        C(ModifyDBInstance); a newer major version only with
        O(allow_major_version_upgrade=true) (give the O(parameter_group_name) of the new
        family with it when the instance uses a custom one).
      - RDS cannot downgrade. An instance that runs a newer minor version (after an
        automatic minor version upgrade) is left as it is, with a warning; an older major
        version than the instance runs is an error.
    type: str
  allow_major_version_upgrade:
    description:
      - Allow O(engine_version) to name a newer major version than the instance runs.
    type: bool
    default: false
  instance_class:
    description:
      - DB instance class, such as V(db.r7g.large). Required to create an instance.
    type: str
  allocated_storage_gb:
    description:
      - Allocated storage in GiB, 20 to 65536. Required to create an instance.
      - RDS cannot shrink storage. When storage autoscaling is on
        (O(max_allocated_storage_gb)), storage RDS has grown beyond this value is left as
        it is; without autoscaling a smaller value than the instance has is an error.
    type: int
  max_allocated_storage_gb:
    description:
      - Ceiling of storage autoscaling in GiB, at least O(allocated_storage_gb) and at
        most 65536. The value of O(allocated_storage_gb) turns autoscaling off. When
        omitted it is not managed.
    type: int
  storage_type:
    description:
      - Storage type.
    type: str
    choices: [gp2, gp3]
    default: gp3
  kms_key_id:
    description:
      - KMS key (ID, ARN or alias) that encrypts the storage. When omitted RDS uses the
        account's C(aws/rds) key. Cannot be changed; an existing instance whose storage is
        not encrypted or is encrypted with another key is an error.
    type: str
  master_username:
    description:
      - Master user name, 1 to 63 letters, digits and underscores starting with a letter.
        Required to create an instance. Cannot be changed.
    type: str
  master_user_secret_kms_key_id:
    description:
      - KMS key (ID, ARN or alias) of the Secrets Manager secret that holds the master
        user password. When omitted Secrets Manager uses the account's
        C(aws/secretsmanager) key. Cannot be changed once the instance manages its
        password.
    type: str
  db_name:
    description:
      - Name of the database RDS creates with the instance, 1 to 63 letters, digits and
        underscores starting with a letter. Cannot be changed.
    type: str
  port:
    description:
      - Port of the database, 1150 to 65535. Changing it restarts the database at once.
    type: int
    default: 5432
  subnet_group_name:
    description:
      - DB subnet group. When omitted it is not managed.
    type: str
  security_group_ids:
    description:
      - VPC security groups of the instance. When omitted they are not managed.
    type: list
    elements: str
  parameter_group_name:
    description:
      - DB parameter group. When omitted it is not managed.
    type: str
  option_group_name:
    description:
      - Option group. When omitted it is not managed.
    type: str
  backup_retention_days:
    description:
      - Days automated backups are kept, 1 to 35. When omitted it is not managed (RDS
        keeps 1 day for a new instance).
    type: int
  preferred_backup_window:
    description:
      - Daily backup window in UTC, C(hh24:mi-hh24:mi), at least 30 minutes, such as
        V(03:00-03:30). When omitted it is not managed.
    type: str
  preferred_maintenance_window:
    description:
      - Weekly maintenance window in UTC, C(ddd:hh24:mi-ddd:hh24:mi), at least 30 minutes,
        such as V(sun:05:00-sun:06:00). When omitted it is not managed.
    type: str
  multi_az:
    description:
      - Run a standby in another availability zone. When omitted a new instance is
        Single-AZ and an existing one is left alone.
    type: bool
  deletion_protection:
    description:
      - Refuse deletion. When omitted a new instance is unprotected and an existing one
        is left alone. See O(remove_deletion_protection).
    type: bool
  performance_insights:
    description:
      - Turn Performance Insights on or off. When omitted it is not managed.
    type: bool
  performance_insights_kms_key_id:
    description:
      - KMS key (ID, ARN or alias) of the Performance Insights data. Needs
        O(performance_insights=true). Cannot be changed once Performance Insights is on.
    type: str
  performance_insights_retention_days:
    description:
      - Days Performance Insights data are kept - V(7), a multiple of 31 up to V(713)
        (months), or V(731). Needs O(performance_insights=true). When omitted RDS keeps 7
        days for a new instance and an existing one is left alone.
    type: int
  monitoring_interval:
    description:
      - Seconds between two enhanced monitoring samples; V(0) turns enhanced monitoring
        off. When omitted it is not managed.
    type: int
    choices: [0, 1, 5, 10, 15, 30, 60]
  monitoring_role_arn:
    description:
      - IAM role RDS uses to send enhanced monitoring metrics to CloudWatch Logs.
        Required when O(monitoring_interval) is more than 0, not allowed otherwise.
    type: str
  cloudwatch_logs_exports:
    description:
      - Logs exported to CloudWatch Logs; the instance ends up with exactly these. When
        omitted they are not managed.
    type: list
    elements: str
    choices: [postgresql, upgrade]
  auto_minor_version_upgrade:
    description:
      - Let RDS apply minor engine upgrades in the maintenance window.
    type: bool
    default: true
  copy_tags_to_snapshot:
    description:
      - Copy the instance's tags to its snapshots.
    type: bool
    default: true
  ca_certificate_identifier:
    description:
      - Certificate authority of the server certificate, such as V(rds-ca-rsa2048-g1).
        When omitted it is not managed.
    type: str
  apply_immediately:
    description:
      - Apply changes at once instead of in the next maintenance window. Changes of the
        instance class, storage or Multi-AZ then cause downtime or degraded performance
        right away.
    type: bool
    default: false
  restore_from:
    description:
      - Where a new instance comes from. Used only when the instance does not exist;
        ignored otherwise.
      - Give O(restore_from.source_instance) with O(restore_from.restore_time) or
        O(restore_from.use_latest_restorable_time) for a point-in-time restore
        (C(RestoreDBInstanceToPointInTime)), or O(restore_from.snapshot_identifier) for a
        snapshot restore (C(RestoreDBInstanceFromDBSnapshot)).
      - The engine, the master user name, the database name and the storage encryption
        key come from the source; a difference with the options given is an error before
        anything is restored.
    type: dict
    suboptions:
      source_instance:
        description: Identifier of the DB instance whose backups are restored.
        type: str
      restore_time:
        description:
          - Point in time (ISO 8601, such as V(2025-06-01T12:00:00Z)); naive values are
            taken as UTC.
        type: str
      use_latest_restorable_time:
        description: Restore to the latest restorable time of the source.
        type: bool
        default: false
      snapshot_identifier:
        description: Identifier or ARN of the DB snapshot that is restored.
        type: str
  wait:
    description:
      - Wait until the instance is C(available) after a create, restore or change (with
        O(apply_immediately=true), until RDS has no change pending), and until it is gone
        after a delete.
      - With V(false) the module returns right after its create, restore, modify or delete
        call, so a playbook can start several long operations and wait for them later by
        running the module again with V(true), which then changes nothing and only waits.
      - A change to an instance that is not available (still creating, modifying ...)
        always waits for it first, since RDS refuses it until then.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each step.
    type: int
    default: 2400
  skip_final_snapshot:
    description:
      - With O(state=absent), delete without a final snapshot.
    type: bool
    default: false
  final_snapshot_identifier:
    description:
      - With O(state=absent), identifier of the final snapshot. Default
        C(<name>-final-<UTC yyyymmddhhmmss>).
    type: str
  remove_deletion_protection:
    description:
      - With O(state=absent), turn deletion protection off before deleting. Without it a
        protected instance is an error.
    type: bool
    default: false
notes:
  - Supports check mode and diff mode.
  - RDS lowercases identifiers; O(name) must be given in lowercase.
  - A KMS key given as an alias is resolved with C(kms:DescribeKey) to compare it with the
    key ARN RDS reports; give key ARNs to avoid the call.
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Start the platform database without waiting for it
  honeyhive.platform.rds_db_instance:
    name: honeyhive-prod-usw2-pg
    engine_version: "16.4"
    instance_class: db.r7g.large
    allocated_storage_gb: 100
    max_allocated_storage_gb: 500
    kms_key_id: "{{ kms_outputs.rds_key_arn }}"
    master_username: honeyhive
    master_user_secret_kms_key_id: "{{ kms_outputs.secrets_key_arn }}"
    db_name: honeyhive
    subnet_group_name: honeyhive-prod-usw2-db
    security_group_ids: ["{{ db_security_group_id }}"]
    parameter_group_name: honeyhive-prod-usw2-pg16
    backup_retention_days: 14
    preferred_backup_window: "03:00-03:30"
    preferred_maintenance_window: "sun:05:00-sun:06:00"
    multi_az: true
    deletion_protection: true
    performance_insights: true
    performance_insights_retention_days: 7
    monitoring_interval: 60
    monitoring_role_arn: "{{ rds_monitoring_role_arn }}"
    cloudwatch_logs_exports: [postgresql, upgrade]
    tags: "{{ platform_tags }}"
    wait: false

- name: Wait for it (changes nothing)
  honeyhive.platform.rds_db_instance:
    name: honeyhive-prod-usw2-pg
    engine_version: "16.4"
    instance_class: db.r7g.large
    allocated_storage_gb: 100
    master_username: honeyhive
  register: database

- name: Restore yesterday's state under a new name
  honeyhive.platform.rds_db_instance:
    name: honeyhive-prod-usw2-pg-restored
    engine_version: "16.4"
    instance_class: db.r7g.large
    allocated_storage_gb: 100
    master_user_secret_kms_key_id: "{{ kms_outputs.secrets_key_arn }}"
    subnet_group_name: honeyhive-prod-usw2-db
    security_group_ids: ["{{ db_security_group_id }}"]
    restore_from:
      source_instance: honeyhive-prod-usw2-pg
      restore_time: "2025-06-01T12:00:00Z"

- name: Delete it, after a final snapshot
  honeyhive.platform.rds_db_instance:
    name: honeyhive-prod-usw2-pg-restored
    state: absent
    remove_deletion_protection: true
"""

RETURN = r"""
instance:
  description:
    - The DB instance (planned values in check mode before it exists; empty after a
      deletion). No password or secret value is ever part of it.
  returned: always
  type: dict
  contains:
    identifier:
      description: DB instance identifier.
      type: str
      sample: honeyhive-prod-usw2-pg
    arn:
      description: ARN of the instance (null in check mode before it exists).
      type: str
      sample: arn:aws:rds:us-west-2:111122223333:db:honeyhive-prod-usw2-pg
    status:
      description: Status (C(creating), C(available), C(modifying), C(deleting) ...).
      type: str
      sample: available
    endpoint:
      description: Address and port of the database (address null until RDS has made it).
      type: dict
      sample: {address: honeyhive-prod-usw2-pg.abc123.us-west-2.rds.amazonaws.com, port: 5432}
    engine:
      description: Engine.
      type: str
      sample: postgres
    engine_version:
      description: Engine version.
      type: str
      sample: "16.4"
    instance_class:
      description: Instance class.
      type: str
    allocated_storage:
      description: Allocated storage in GiB.
      type: int
    max_allocated_storage:
      description: Ceiling of storage autoscaling in GiB (null when autoscaling is off).
      type: int
    storage_type:
      description: Storage type.
      type: str
    storage_encrypted:
      description: Whether the storage is encrypted.
      type: bool
    kms_key_id:
      description: ARN of the key of the storage.
      type: str
    master_username:
      description: Master user name.
      type: str
    db_name:
      description: Name of the database created with the instance.
      type: str
    multi_az:
      description: Whether a standby runs in another availability zone.
      type: bool
    availability_zone:
      description: Availability zone of the primary.
      type: str
    backup_retention_period:
      description: Days automated backups are kept.
      type: int
    preferred_backup_window:
      description: Daily backup window (UTC).
      type: str
    preferred_maintenance_window:
      description: Weekly maintenance window (UTC).
      type: str
    deletion_protection:
      description: Whether deletion protection is on.
      type: bool
    performance_insights_enabled:
      description: Whether Performance Insights is on (null when RDS does not report it).
      type: bool
    performance_insights_kms_key_id:
      description: Key of the Performance Insights data.
      type: str
    performance_insights_retention_period:
      description: Days Performance Insights data are kept.
      type: int
    monitoring_interval:
      description: Seconds between enhanced monitoring samples (0 is off).
      type: int
    monitoring_role_arn:
      description: Role of enhanced monitoring.
      type: str
    enabled_cloudwatch_logs_exports:
      description: Logs exported to CloudWatch Logs.
      type: list
      elements: str
    db_subnet_group:
      description: Name of the DB subnet group.
      type: str
    vpc_security_group_ids:
      description: VPC security groups.
      type: list
      elements: str
    parameter_group:
      description: Name of the DB parameter group.
      type: str
    parameter_apply_status:
      description: C(in-sync), or C(pending-reboot) when a reboot is needed to apply it.
      type: str
    option_group:
      description: Name of the option group.
      type: str
    auto_minor_version_upgrade:
      description: Whether RDS applies minor upgrades itself.
      type: bool
    copy_tags_to_snapshot:
      description: Whether tags are copied to snapshots.
      type: bool
    ca_certificate_identifier:
      description: Certificate authority of the server certificate.
      type: str
    publicly_accessible:
      description: Whether the instance has a public address (never, with this module).
      type: bool
    dbi_resource_id:
      description: Resource ID of the instance (used in IAM policies for C(rds-db:connect)).
      type: str
    master_user_secret:
      description: The Secrets Manager secret RDS keeps the master password in (its ARN, not its value).
      type: dict
      sample:
        secret_arn: arn:aws:secretsmanager:us-west-2:111122223333:secret:rds!db-0123-AbCdEf
        secret_status: active
        kms_key_id: arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    pending_modified_values:
      description: Changes RDS applies in the next maintenance window (or is applying), snake_case.
      type: dict
      sample: {db_instance_class: db.r7g.xlarge}
    latest_restorable_time:
      description: Latest time a point-in-time restore can go back to (ISO 8601, UTC).
      type: str
      sample: "2025-06-01T12:05:00Z"
    tags:
      description: Tags of the instance.
      type: dict
final_snapshot_identifier:
  description: Identifier of the final snapshot taken before the deletion.
  returned: when O(state=absent), the instance was deleted and O(skip_final_snapshot=false)
  type: str
  sample: honeyhive-prod-usw2-pg-final-20250601120000
actions:
  description: The changes this run made (in check mode, would make).
  returned: always
  type: list
  elements: str
  sample: ["modify backup_retention_days (7 -> 14)"]
"""

import copy
import re

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import ModuleRun
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import error_code
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import iso8601
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import parse_iso8601
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import utcnow
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import wait_for
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import while_propagating

IDENTIFIER_RE = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")
SNAPSHOT_RE = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}(?<!-)$")
SNAPSHOT_ARN_RE = re.compile(r"^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:[A-Za-z0-9:-]{1,255}$")
USER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
INSTANCE_CLASS_RE = re.compile(r"^db\.[a-z0-9-]+\.[a-z0-9-]+$")
ENGINE_VERSION_RE = re.compile(r"^\d+(\.\d+){1,2}$")
KMS_KEY_RE = re.compile(
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/+=,.@-]+|alias/[\w/+=,.@-]+|(mrk-)?[0-9a-f-]{32,36})$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
SECURITY_GROUP_RE = re.compile(r"^sg-[0-9a-f]{8,17}$")
GROUP_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,254}$")
BACKUP_WINDOW_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAINTENANCE_WINDOW_RE = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$")

MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60]
PI_RETENTION = [7] + [31 * months for months in range(1, 24)] + [731]
LOG_EXPORTS = ["postgresql", "upgrade"]
POLL_DELAY = 30
# Statuses in which RDS accepts a ModifyDBInstance call.
READY = ("available", "storage-optimization")
# Statuses an instance does not leave by itself to become available.
STUCK = (
    "failed", "incompatible-network", "incompatible-option-group", "incompatible-parameters", "incompatible-restore",
    "incompatible-credentials", "inaccessible-encryption-credentials", "inaccessible-encryption-credentials-recoverable",
    "restore-error", "storage-full", "insufficient-capacity", "stopped", "stopping",
)
NOT_FOUND = "DBInstanceNotFound"
# Pending values (PendingModifiedValues member) that overlay the current ones (instance view key).
PENDING = (
    ("DBInstanceClass", "instance_class"),
    ("AllocatedStorage", "allocated_storage"),
    ("StorageType", "storage_type"),
    ("MultiAZ", "multi_az"),
    ("EngineVersion", "engine_version"),
    ("BackupRetentionPeriod", "backup_retention_period"),
    ("CACertificateIdentifier", "ca_certificate_identifier"),
    ("DBSubnetGroupName", "db_subnet_group"),
    ("Port", "port"),
)
# option, instance view key, ModifyDBInstance member; compared as plain values when the option is given.
SIMPLE = (
    ("instance_class", "instance_class", "DBInstanceClass"),
    ("storage_type", "storage_type", "StorageType"),
    ("port", "port", "DBPortNumber"),
    ("subnet_group_name", "db_subnet_group", "DBSubnetGroupName"),
    ("parameter_group_name", "parameter_group", "DBParameterGroupName"),
    ("option_group_name", "option_group", "OptionGroupName"),
    ("backup_retention_days", "backup_retention_period", "BackupRetentionPeriod"),
    ("preferred_backup_window", "preferred_backup_window", "PreferredBackupWindow"),
    ("preferred_maintenance_window", "preferred_maintenance_window", "PreferredMaintenanceWindow"),
    ("multi_az", "multi_az", "MultiAZ"),
    ("deletion_protection", "deletion_protection", "DeletionProtection"),
    ("auto_minor_version_upgrade", "auto_minor_version_upgrade", "AutoMinorVersionUpgrade"),
    ("copy_tags_to_snapshot", "copy_tags_to_snapshot", "CopyTagsToSnapshot"),
    ("ca_certificate_identifier", "ca_certificate_identifier", "CACertificateIdentifier"),
)


# ---------------------------------------------------------------- validation


def check_regex(module, option, regex, allowed, value=None):
    value = module.params.get(option) if value is None else value
    if value is None:
        return
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, str) or not regex.match(item):
            module.fail_json(msg=invalid_value(option, item, allowed))


def check_backup_window(module):
    value = module.params["preferred_backup_window"]
    if value is None:
        return
    match = BACKUP_WINDOW_RE.match(value)
    allowed = "Allowed: a daily window in UTC as hh24:mi-hh24:mi of at least 30 minutes, such as 03:00-03:30."
    if not match:
        module.fail_json(msg=invalid_value("preferred_backup_window", value, allowed))
    start = int(match.group(1)) * 60 + int(match.group(2))
    end = int(match.group(3)) * 60 + int(match.group(4))
    if (end - start) % 1440 < 30:
        module.fail_json(msg=invalid_value("preferred_backup_window", value, allowed))


def check_maintenance_window(module):
    value = module.params["preferred_maintenance_window"]
    if value is None:
        return
    allowed = "Allowed: a weekly window in UTC as ddd:hh24:mi-ddd:hh24:mi of at least 30 minutes, such as sun:05:00-sun:06:00."
    match = MAINTENANCE_WINDOW_RE.match(value.lower())
    if not match:
        module.fail_json(msg=invalid_value("preferred_maintenance_window", value, allowed))
    start = DAYS.index(match.group(1)) * 1440 + int(match.group(2)) * 60 + int(match.group(3))
    end = DAYS.index(match.group(4)) * 1440 + int(match.group(5)) * 60 + int(match.group(6))
    if (end - start) % (7 * 1440) < 30:
        module.fail_json(msg=invalid_value("preferred_maintenance_window", value, allowed))


def check_restore(module):
    restore = module.params["restore_from"]
    if restore is None:
        return
    source, snapshot = restore.get("source_instance"), restore.get("snapshot_identifier")
    if bool(source) == bool(snapshot):
        module.fail_json(msg=invalid_value(
            "restore_from", restore, "Allowed: exactly one of source_instance (a point-in-time restore) and "
            "snapshot_identifier (a snapshot restore)."))
    if snapshot:
        if restore.get("restore_time") or restore.get("use_latest_restorable_time"):
            module.fail_json(msg=invalid_value(
                "restore_from", restore, "Allowed: restore_time and use_latest_restorable_time only with source_instance."))
        if not (SNAPSHOT_RE.match(snapshot) or SNAPSHOT_ARN_RE.match(snapshot)):
            module.fail_json(msg=invalid_value(
                "restore_from.snapshot_identifier", snapshot, "Allowed: a DB snapshot identifier (1 to 255 letters, digits "
                "and hyphens starting with a letter) or a DB snapshot ARN."))
        return
    if not IDENTIFIER_RE.match(source):
        module.fail_json(msg=invalid_value(
            "restore_from.source_instance", source, "Allowed: a DB instance identifier (lowercase letters, digits and "
            "hyphens, starting with a letter)."))
    if source == module.params["name"]:
        module.fail_json(msg=invalid_value(
            "restore_from.source_instance", source, "Allowed: another DB instance than name (%s)." % module.params["name"]))
    if bool(restore.get("restore_time")) == bool(restore.get("use_latest_restorable_time")):
        module.fail_json(msg=invalid_value(
            "restore_from", restore, "Allowed: with source_instance, exactly one of restore_time and "
            "use_latest_restorable_time: true."))
    if restore.get("restore_time"):
        try:
            parse_iso8601(restore["restore_time"])
        except ValueError:
            module.fail_json(msg=invalid_value(
                "restore_from.restore_time", restore["restore_time"], "Allowed: an ISO 8601 time such as 2025-06-01T12:00:00Z."))


def validate(module):
    params = module.params
    check_regex(module, "name", IDENTIFIER_RE, "Allowed: 1 to 63 lowercase letters, digits and hyphens, starting with a "
                "letter, without two hyphens in a row or one at the end.")
    check_range(module, "wait_timeout", 0, 86400)
    if params["state"] == "absent":
        if params["final_snapshot_identifier"] is not None:
            if params["skip_final_snapshot"]:
                module.fail_json(msg="Options 'final_snapshot_identifier' and 'skip_final_snapshot: true' exclude each other.")
            check_regex(module, "final_snapshot_identifier", SNAPSHOT_RE, "Allowed: 1 to 255 letters, digits and hyphens, "
                        "starting with a letter, without two hyphens in a row or one at the end.")
        return
    check_regex(module, "engine_version", ENGINE_VERSION_RE, "Allowed: a pinned engine version such as 16.4.")
    check_regex(module, "instance_class", INSTANCE_CLASS_RE, "Allowed: a DB instance class such as db.r7g.large.")
    check_range(module, "allocated_storage_gb", 20, 65536)
    check_range(module, "max_allocated_storage_gb", 20, 65536)
    allocated, ceiling = params["allocated_storage_gb"], params["max_allocated_storage_gb"]
    if allocated is not None and ceiling is not None and ceiling < allocated:
        module.fail_json(msg=invalid_value(
            "max_allocated_storage_gb", ceiling, "Allowed: at least allocated_storage_gb (%d); equal to it turns storage "
            "autoscaling off." % allocated))
    for option in ("kms_key_id", "master_user_secret_kms_key_id", "performance_insights_kms_key_id"):
        check_regex(module, option, KMS_KEY_RE, "Allowed: a KMS key ID, key ARN, alias (alias/name) or alias ARN.")
    for option in ("master_username", "db_name"):
        check_regex(module, option, USER_RE, "Allowed: 1 to 63 letters, digits and underscores, starting with a letter.")
    check_range(module, "port", 1150, 65535)
    for option in ("subnet_group_name", "parameter_group_name", "option_group_name"):
        check_regex(module, option, GROUP_NAME_RE, "Allowed: 1 to 255 letters, digits, spaces, periods, colons, "
                    "underscores and hyphens, starting with a letter or digit.")
    check_regex(module, "security_group_ids", SECURITY_GROUP_RE, "Allowed: security group IDs such as sg-0123456789abcdef0.")
    groups = params["security_group_ids"]
    if groups is not None and (not groups or len(set(groups)) != len(groups)):
        module.fail_json(msg=invalid_value("security_group_ids", groups, "Allowed: one or more IDs, each once."))
    check_range(module, "backup_retention_days", 1, 35)
    check_backup_window(module)
    check_maintenance_window(module)
    retention = params["performance_insights_retention_days"]
    if retention is not None and retention not in PI_RETENTION:
        module.fail_json(msg=invalid_value(
            "performance_insights_retention_days", retention, "Allowed: 7, a multiple of 31 up to 713 (months), or 731."))
    for option in ("performance_insights_kms_key_id", "performance_insights_retention_days"):
        if params[option] is not None and params["performance_insights"] is not True:
            module.fail_json(msg="Option '%s' needs 'performance_insights: true' (here %r)."
                             % (option, params["performance_insights"]))
    interval, role = params["monitoring_interval"], params["monitoring_role_arn"]
    check_regex(module, "monitoring_role_arn", ROLE_ARN_RE,
                "Allowed: an IAM role ARN such as arn:aws:iam::111122223333:role/rds-monitoring.")
    if interval and not role:
        module.fail_json(msg="Option 'monitoring_role_arn' is required when monitoring_interval is %d (enhanced monitoring "
                         "sends its metrics with that role)." % interval)
    if role and not interval:
        module.fail_json(msg=invalid_value(
            "monitoring_interval", interval, "Allowed with monitoring_role_arn: one of %s (seconds); 0 or none turns "
            "enhanced monitoring off and takes no role." % ", ".join(str(i) for i in MONITORING_INTERVALS[1:])))
    logs = params["cloudwatch_logs_exports"]
    if logs is not None and len(set(logs)) != len(logs):
        module.fail_json(msg=invalid_value("cloudwatch_logs_exports", logs, "Allowed: each log once."))
    check_restore(module)
    check_tags(module)


# ---------------------------------------------------------------- reading


def describe(module, client, name):
    try:
        found = client.describe_db_instances(DBInstanceIdentifier=name, aws_retry=True).get("DBInstances") or []
    except is_boto3_error_code(NOT_FOUND):
        return None
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to describe RDS DB instance %s" % name)
    return found[0] if found else None


def first(items, key):
    for item in items or []:
        if item.get(key):
            return item[key]
    return None


def secret_view(instance):
    secret = instance.get("MasterUserSecret")
    if not secret:
        return None
    return dict(secret_arn=secret.get("SecretArn"), secret_status=secret.get("SecretStatus"), kms_key_id=secret.get("KmsKeyId"))


def pending_view(instance):
    pending = copy.deepcopy(instance.get("PendingModifiedValues") or {})
    # RDS masks a pending password change; nothing of a password is ever returned.
    pending.pop("MasterUserPassword", None)
    return camel_dict_to_snake_dict(pending)


def view(instance):
    """The snake_case result of an instance (DescribeDBInstances shape)."""
    endpoint = instance.get("Endpoint") or {}
    port = endpoint.get("Port") or instance.get("DbInstancePort") or None
    return dict(
        identifier=instance.get("DBInstanceIdentifier"),
        arn=instance.get("DBInstanceArn"),
        status=instance.get("DBInstanceStatus"),
        endpoint=dict(address=endpoint.get("Address"), port=port),
        engine=instance.get("Engine"),
        engine_version=instance.get("EngineVersion"),
        instance_class=instance.get("DBInstanceClass"),
        allocated_storage=instance.get("AllocatedStorage"),
        max_allocated_storage=instance.get("MaxAllocatedStorage"),
        storage_type=instance.get("StorageType"),
        storage_encrypted=instance.get("StorageEncrypted"),
        kms_key_id=instance.get("KmsKeyId"),
        master_username=instance.get("MasterUsername"),
        db_name=instance.get("DBName"),
        port=port,
        multi_az=instance.get("MultiAZ"),
        availability_zone=instance.get("AvailabilityZone"),
        backup_retention_period=instance.get("BackupRetentionPeriod"),
        preferred_backup_window=instance.get("PreferredBackupWindow"),
        preferred_maintenance_window=instance.get("PreferredMaintenanceWindow"),
        deletion_protection=instance.get("DeletionProtection"),
        performance_insights_enabled=instance.get("PerformanceInsightsEnabled"),
        performance_insights_kms_key_id=instance.get("PerformanceInsightsKMSKeyId"),
        performance_insights_retention_period=instance.get("PerformanceInsightsRetentionPeriod"),
        monitoring_interval=instance.get("MonitoringInterval"),
        monitoring_role_arn=instance.get("MonitoringRoleArn"),
        enabled_cloudwatch_logs_exports=sorted(instance.get("EnabledCloudwatchLogsExports") or []),
        db_subnet_group=(instance.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
        vpc_security_group_ids=sorted(g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups") or []
                                      if g.get("VpcSecurityGroupId")),
        parameter_group=first(instance.get("DBParameterGroups"), "DBParameterGroupName"),
        parameter_apply_status=first(instance.get("DBParameterGroups"), "ParameterApplyStatus"),
        option_group=first(instance.get("OptionGroupMemberships"), "OptionGroupName"),
        auto_minor_version_upgrade=instance.get("AutoMinorVersionUpgrade"),
        copy_tags_to_snapshot=instance.get("CopyTagsToSnapshot"),
        ca_certificate_identifier=instance.get("CACertificateIdentifier"),
        publicly_accessible=instance.get("PubliclyAccessible"),
        dbi_resource_id=instance.get("DbiResourceId"),
        master_user_secret=secret_view(instance),
        pending_modified_values=pending_view(instance),
        latest_restorable_time=iso8601(instance.get("LatestRestorableTime")),
        tags=tags_to_dict(instance.get("TagList")),
    )


def settings(instance):
    """The instance view with the changes RDS has pending laid over it: what the instance
    will be, and what the options are compared with."""
    result = view(instance)
    pending = instance.get("PendingModifiedValues") or {}
    for member, key in PENDING:
        if pending.get(member) is not None:
            result[key] = pending[member]
    logs = pending.get("PendingCloudwatchLogsExports") or {}
    exports = set(result["enabled_cloudwatch_logs_exports"]) | set(logs.get("LogTypesToEnable") or [])
    result["enabled_cloudwatch_logs_exports"] = sorted(exports - set(logs.get("LogTypesToDisable") or []))
    if result["preferred_maintenance_window"]:
        result["preferred_maintenance_window"] = result["preferred_maintenance_window"].lower()
    return result


def diff_view(instance_view):
    """What ``--diff`` shows: the settings, without what changes by itself."""
    if not instance_view:
        return {}
    shown = dict((k, v) for k, v in instance_view.items()
                 if k not in ("status", "latest_restorable_time", "pending_modified_values", "endpoint", "availability_zone"))
    if shown.get("master_user_secret"):
        shown["master_user_secret"] = dict((k, v) for k, v in shown["master_user_secret"].items() if k != "secret_status")
    return shown


# ------------------------------------------------------------------ KMS keys


class Keys:
    """Compares KMS keys the way RDS reports them (key ARNs) with the options (ID, ARN or
    alias); an alias is resolved with one DescribeKey call."""

    def __init__(self, module):
        self.module = module
        self.client = None
        self.resolved = {}

    @staticmethod
    def key_id(value):
        if value and ":key/" in value:
            return value.split(":key/", 1)[1]
        return value

    def resolve(self, value):
        if "alias/" not in value:
            return self.key_id(value)
        if value not in self.resolved:
            if self.client is None:
                self.client = retrying_client(self.module, "kms")
            try:
                arn = self.client.describe_key(KeyId=value, aws_retry=True)["KeyMetadata"]["Arn"]
            except is_boto3_error_code("NotFoundException"):
                self.module.fail_json(msg="KMS key %s does not exist in this region and account." % value)
            except boto_errors() as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg="Failed to describe KMS key %s" % value)
            self.resolved[value] = self.key_id(arn)
        return self.resolved[value]

    def same(self, wanted, have):
        if not have:
            return False
        return self.resolve(wanted) == self.resolve(have)


# ------------------------------------------------------------------ waiting


def wait_instance(module, client, name, ready_only=False, settled=False):
    """Wait until the instance is available (``settled``: and has no change pending)."""

    def done(instance):
        if instance is None or instance.get("DBInstanceStatus") not in READY:
            return False
        if ready_only:
            return True
        if instance.get("DBInstanceStatus") != "available":
            return False
        return not (settled and pending_view(instance))

    def failed(instance):
        if instance is None:
            return "is gone"
        if instance.get("DBInstanceStatus") in STUCK:
            return "is %s" % instance["DBInstanceStatus"]
        if instance.get("DBInstanceStatus") == "deleting":
            return "is being deleted"
        return None

    timeout = module.params["wait_timeout"]
    instance, problem = wait_for(lambda: describe(module, client, name), done, timeout=timeout, delay=POLL_DELAY, failed=failed)
    if problem == "timeout":
        module.fail_json(
            msg="Timed out after %d seconds (option 'wait_timeout') waiting for RDS DB instance %s to be available%s; "
            "last status %s." % (timeout, name, " with no change pending" if settled else "",
                                 (instance or {}).get("DBInstanceStatus")),
            instance=view(instance) if instance else {})
    if problem:
        module.fail_json(msg="RDS DB instance %s %s; it does not become available by itself." % (name, problem),
                         instance=view(instance) if instance else {})
    return instance


def wait_gone(module, client, name):
    timeout = module.params["wait_timeout"]
    instance, problem = wait_for(lambda: describe(module, client, name), lambda i: i is None, timeout=timeout, delay=POLL_DELAY)
    if problem:
        module.fail_json(msg="Timed out after %d seconds (option 'wait_timeout') waiting for RDS DB instance %s to be "
                         "deleted; last status %s." % (timeout, name, (instance or {}).get("DBInstanceStatus")))


# ---------------------------------------------------------------- comparing


def version_tuple(version):
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def major(version):
    parts = version_tuple(version)
    # PostgreSQL numbers its major versions 9.6, 10, 11 ...
    return parts[:1] if parts and parts[0] >= 10 else parts[:2]


def check_immutable(module, keys, instance, what, skip=()):
    """Fail naming the option when a setting RDS cannot change in place differs.
    ``instance`` is a DescribeDBInstances entry (or a snapshot made to look like one)."""
    params = module.params
    name = params["name"]

    def refuse(option, value, have, how):
        if skip:  # the source of a restore
            module.fail_json(msg=invalid_value(option, value, "A restored DB instance takes %s from its source, and %s has %r; "
                                               "omit the option or give that value." % (option, what, have)))
        module.fail_json(msg=invalid_value(option, value, "RDS cannot change %s of an existing DB instance: %s has %r. %s"
                                           % (option, what, have, how)))

    recreate = "Restore a snapshot into a new instance with the wanted value instead."
    if instance.get("Engine") and instance["Engine"] != params["engine"]:
        refuse("engine", params["engine"], instance["Engine"], recreate)
    if params["master_username"] is not None and instance.get("MasterUsername") not in (None, params["master_username"]):
        refuse("master_username", params["master_username"], instance["MasterUsername"], recreate)
    if "db_name" not in skip and params["db_name"] is not None and instance.get("DBName") != params["db_name"]:
        refuse("db_name", params["db_name"], instance.get("DBName"), "Create the database in the instance instead.")
    if instance.get("StorageEncrypted") is False:
        module.fail_json(msg="RDS DB instance %s: %s is not encrypted, and RDS cannot encrypt the storage of an existing DB "
                         "instance (option 'kms_key_id'); restore an encrypted copy of a snapshot into a new instance."
                         % (name, what))
    if params["kms_key_id"] is not None and instance.get("KmsKeyId") and not keys.same(params["kms_key_id"], instance["KmsKeyId"]):
        refuse("kms_key_id", params["kms_key_id"], instance["KmsKeyId"], recreate)
    secret = instance.get("MasterUserSecret") or {}
    wanted = params["master_user_secret_kms_key_id"]
    if ("master_user_secret_kms_key_id" not in skip and wanted is not None and secret.get("KmsKeyId")
            and not keys.same(wanted, secret["KmsKeyId"])):
        refuse("master_user_secret_kms_key_id", wanted, secret["KmsKeyId"],
               "The key of a secret RDS already manages is fixed.")
    wanted = params["performance_insights_kms_key_id"]
    if ("performance_insights_kms_key_id" not in skip and wanted is not None and instance.get("PerformanceInsightsEnabled")
            and instance.get("PerformanceInsightsKMSKeyId") and not keys.same(wanted, instance["PerformanceInsightsKMSKeyId"])):
        refuse("performance_insights_kms_key_id", wanted, instance["PerformanceInsightsKMSKeyId"],
               "The key of Performance Insights is fixed once it is on.")
    version, have = params["engine_version"], instance.get("EngineVersion")
    if version and have and major(version) < major(have):
        module.fail_json(msg=invalid_value(
            "engine_version", version, "RDS cannot downgrade: %s runs %s; allowed: %s or a later version."
            % (what, have, have)))


def engine_version_change(module, have):
    """(EngineVersion to request or None, whether it is a major upgrade)."""
    params = module.params
    version = params["engine_version"]
    if not version or not have or version_tuple(version) == version_tuple(have):
        return None, False
    if version_tuple(version) < version_tuple(have):
        # same major version (an older major one fails in check_immutable): RDS upgraded the
        # minor version itself (auto_minor_version_upgrade)
        module.warn("RDS DB instance %s runs engine version %s, newer than engine_version %s (RDS cannot downgrade; "
                    "auto_minor_version_upgrade may have applied it). It is left as it is; pin %s to silence this."
                    % (params["name"], have, version, have))
        return None, False
    if major(version) != major(have):
        if not params["allow_major_version_upgrade"]:
            module.fail_json(msg=invalid_value(
                "engine_version", version, "RDS DB instance %s runs %s; a new major version needs "
                "'allow_major_version_upgrade: true' (and a parameter_group_name of the new family when the instance "
                "uses a custom one). Allowed without it: a %s.x minor version." % (params["name"], have, ".".join(
                    str(p) for p in major(have)))))
        return version, True
    return version, False


def plan_modify(module, keys, instance):
    """The ModifyDBInstance request (without identifier and ApplyImmediately) bringing the
    instance to the options, the names of the changes, and the view after them."""
    params = module.params
    have = settings(instance)
    after = copy.deepcopy(have)
    request, changes = {}, []

    def change(option, key, member, value, shown=None):
        request[member] = value
        changes.append("%s (%s -> %s)" % (option, have.get(key), value if shown is None else shown))
        if key:
            after[key] = value

    for option, key, member in SIMPLE:
        wanted = params[option]
        if wanted is None or have.get(key) is None and key not in ("parameter_group", "option_group", "db_subnet_group"):
            continue
        if option == "preferred_maintenance_window":
            wanted = wanted.lower()
        if wanted != have.get(key):
            change(option, key, member, wanted)
    if have.get("publicly_accessible"):
        change("publicly_accessible", "publicly_accessible", "PubliclyAccessible", False)

    wanted = params["security_group_ids"]
    if wanted is not None and set(wanted) != set(have["vpc_security_group_ids"]):
        change("security_group_ids", "vpc_security_group_ids", "VpcSecurityGroupIds", sorted(wanted))

    # storage
    allocated, current = params["allocated_storage_gb"], have.get("allocated_storage")
    autoscaling = bool(have.get("max_allocated_storage")) or bool(
        params["max_allocated_storage_gb"] and allocated and params["max_allocated_storage_gb"] > allocated)
    if allocated is not None and current is not None:
        if allocated > current:
            change("allocated_storage_gb", "allocated_storage", "AllocatedStorage", allocated)
        elif allocated < current and not autoscaling:
            module.fail_json(msg=invalid_value(
                "allocated_storage_gb", allocated, "RDS cannot shrink storage: RDS DB instance %s has %d GiB; allowed: %d "
                "or more." % (params["name"], current, current)))
    ceiling = params["max_allocated_storage_gb"]
    if ceiling is not None and after.get("allocated_storage") is not None:
        size = after["allocated_storage"]
        if ceiling > size:
            if have.get("max_allocated_storage") != ceiling:
                change("max_allocated_storage_gb", "max_allocated_storage", "MaxAllocatedStorage", ceiling)
        elif have.get("max_allocated_storage"):
            if ceiling < size:
                module.warn("max_allocated_storage_gb %d is below the %d GiB RDS DB instance %s has; storage autoscaling "
                            "is turned off." % (ceiling, size, params["name"]))
            change("max_allocated_storage_gb", "max_allocated_storage", "MaxAllocatedStorage", size, shown="off")
            after["max_allocated_storage"] = None

    version, major_step = engine_version_change(module, have.get("engine_version"))
    if version:
        change("engine_version", "engine_version", "EngineVersion", version)
        if major_step:
            request["AllowMajorVersionUpgrade"] = True

    # enhanced monitoring
    interval, role = params["monitoring_interval"], params["monitoring_role_arn"]
    have_interval = have.get("monitoring_interval") or 0
    if interval is not None and (interval != have_interval or interval and role != have.get("monitoring_role_arn")):
        change("monitoring_interval", "monitoring_interval", "MonitoringInterval", interval)
        if interval:
            request["MonitoringRoleArn"] = role
            after["monitoring_role_arn"] = role

    # Performance Insights (compared only when RDS reports it)
    enabled = params["performance_insights"]
    have_enabled = instance.get("PerformanceInsightsEnabled")
    if enabled is not None and have_enabled is not None:
        retention = params["performance_insights_retention_days"]
        if enabled and not have_enabled:
            change("performance_insights", "performance_insights_enabled", "EnablePerformanceInsights", True)
            if params["performance_insights_kms_key_id"]:
                request["PerformanceInsightsKMSKeyId"] = params["performance_insights_kms_key_id"]
                after["performance_insights_kms_key_id"] = params["performance_insights_kms_key_id"]
            if retention:
                request["PerformanceInsightsRetentionPeriod"] = retention
                after["performance_insights_retention_period"] = retention
        elif enabled and retention and retention != have.get("performance_insights_retention_period"):
            request["EnablePerformanceInsights"] = True
            change("performance_insights_retention_days", "performance_insights_retention_period",
                   "PerformanceInsightsRetentionPeriod", retention)
        elif not enabled and have_enabled:
            change("performance_insights", "performance_insights_enabled", "EnablePerformanceInsights", False)

    # log exports
    logs = params["cloudwatch_logs_exports"]
    if logs is not None:
        enable = sorted(set(logs) - set(have["enabled_cloudwatch_logs_exports"]))
        disable = sorted(set(have["enabled_cloudwatch_logs_exports"]) - set(logs))
        if enable or disable:
            config = {}
            if enable:
                config["EnableLogTypes"] = enable
            if disable:
                config["DisableLogTypes"] = disable
            change("cloudwatch_logs_exports", "enabled_cloudwatch_logs_exports", "CloudwatchLogsExportConfiguration", config,
                   shown=sorted(logs))
            after["enabled_cloudwatch_logs_exports"] = sorted(logs)

    # the master password: always managed by RDS
    if not instance.get("MasterUserSecret"):
        request["ManageMasterUserPassword"] = True
        changes.append("manage the master user password in Secrets Manager")
        if params["master_user_secret_kms_key_id"]:
            request["MasterUserSecretKmsKeyId"] = params["master_user_secret_kms_key_id"]
        after["master_user_secret"] = dict(secret_arn=None, secret_status="creating",
                                           kms_key_id=params["master_user_secret_kms_key_id"])
    return request, changes, after


# ------------------------------------------------------------- creating


def shared_request(module):
    """Members CreateDBInstance and both restore calls take alike."""
    params = module.params
    request = dict(
        DBInstanceClass=params["instance_class"],
        Port=params["port"],
        StorageType=params["storage_type"],
        AutoMinorVersionUpgrade=params["auto_minor_version_upgrade"],
        CopyTagsToSnapshot=params["copy_tags_to_snapshot"],
        PubliclyAccessible=False,
        ManageMasterUserPassword=True,
        DBSubnetGroupName=params["subnet_group_name"],
        DBParameterGroupName=params["parameter_group_name"],
        OptionGroupName=params["option_group_name"],
        MultiAZ=params["multi_az"],
        DeletionProtection=params["deletion_protection"],
        BackupRetentionPeriod=params["backup_retention_days"],
        PreferredBackupWindow=params["preferred_backup_window"],
        CACertificateIdentifier=params["ca_certificate_identifier"],
        MasterUserSecretKmsKeyId=params["master_user_secret_kms_key_id"],
    )
    if params["security_group_ids"] is not None:
        request["VpcSecurityGroupIds"] = list(params["security_group_ids"])
    if params["cloudwatch_logs_exports"]:
        request["EnableCloudwatchLogsExports"] = sorted(params["cloudwatch_logs_exports"])
    tags = tags_to_list(stringify_tags(params["tags"]))
    if tags:
        request["Tags"] = tags
    return dict((k, v) for k, v in request.items() if v is not None)


def create_request(module):
    params = module.params
    request = shared_request(module)
    request.update(
        DBInstanceIdentifier=params["name"],
        Engine=params["engine"],
        EngineVersion=params["engine_version"],
        AllocatedStorage=params["allocated_storage_gb"],
        StorageEncrypted=True,
        MasterUsername=params["master_username"],
    )
    optional = dict(
        MaxAllocatedStorage=params["max_allocated_storage_gb"],
        KmsKeyId=params["kms_key_id"],
        DBName=params["db_name"],
        PreferredMaintenanceWindow=params["preferred_maintenance_window"],
        MonitoringInterval=params["monitoring_interval"],
        MonitoringRoleArn=params["monitoring_role_arn"] if params["monitoring_interval"] else None,
        EnablePerformanceInsights=params["performance_insights"],
        PerformanceInsightsKMSKeyId=params["performance_insights_kms_key_id"],
        PerformanceInsightsRetentionPeriod=params["performance_insights_retention_days"],
    )
    # a ceiling equal to the allocated storage means no autoscaling
    if optional["MaxAllocatedStorage"] is not None and optional["MaxAllocatedStorage"] <= request["AllocatedStorage"]:
        optional.pop("MaxAllocatedStorage")
    request.update((k, v) for k, v in optional.items() if v is not None)
    return request


def planned(module, request, source=None):
    """The view of an instance a create or restore request would make (check mode)."""
    params = module.params
    source = source or {}
    instance = dict(source)
    instance.update(
        DBInstanceIdentifier=params["name"], DBInstanceArn=None, DBInstanceStatus="creating",
        DBInstanceClass=request.get("DBInstanceClass"), Engine=params["engine"],
        EngineVersion=request.get("EngineVersion") or source.get("EngineVersion"),
        AllocatedStorage=request.get("AllocatedStorage") or source.get("AllocatedStorage"),
        MaxAllocatedStorage=request.get("MaxAllocatedStorage"), StorageType=request.get("StorageType"),
        StorageEncrypted=True, KmsKeyId=request.get("KmsKeyId") or source.get("KmsKeyId"),
        MasterUsername=request.get("MasterUsername") or source.get("MasterUsername"),
        DBName=request.get("DBName") or source.get("DBName"),
        Endpoint={"Port": request.get("Port")}, MultiAZ=request.get("MultiAZ", False),
        BackupRetentionPeriod=request.get("BackupRetentionPeriod"),
        PreferredBackupWindow=request.get("PreferredBackupWindow"),
        PreferredMaintenanceWindow=request.get("PreferredMaintenanceWindow"),
        DeletionProtection=request.get("DeletionProtection", False),
        PerformanceInsightsEnabled=request.get("EnablePerformanceInsights"),
        PerformanceInsightsKMSKeyId=request.get("PerformanceInsightsKMSKeyId"),
        PerformanceInsightsRetentionPeriod=request.get("PerformanceInsightsRetentionPeriod"),
        MonitoringInterval=request.get("MonitoringInterval"), MonitoringRoleArn=request.get("MonitoringRoleArn"),
        EnabledCloudwatchLogsExports=request.get("EnableCloudwatchLogsExports") or [],
        DBSubnetGroup={"DBSubnetGroupName": request["DBSubnetGroupName"]} if request.get("DBSubnetGroupName") else None,
        VpcSecurityGroups=[{"VpcSecurityGroupId": g} for g in request.get("VpcSecurityGroupIds") or []],
        DBParameterGroups=[{"DBParameterGroupName": request["DBParameterGroupName"]}] if request.get("DBParameterGroupName") else [],
        OptionGroupMemberships=[{"OptionGroupName": request["OptionGroupName"]}] if request.get("OptionGroupName") else [],
        AutoMinorVersionUpgrade=request.get("AutoMinorVersionUpgrade"), CopyTagsToSnapshot=request.get("CopyTagsToSnapshot"),
        CACertificateIdentifier=request.get("CACertificateIdentifier"), PubliclyAccessible=False,
        MasterUserSecret={"SecretStatus": "creating", "KmsKeyId": request.get("MasterUserSecretKmsKeyId")},
        TagList=request.get("Tags") or [],
    )
    for member in ("PendingModifiedValues", "LatestRestorableTime", "DbiResourceId", "DBInstanceArn"):
        instance.pop(member, None)
    return instance


def describe_source(module, client, restore):
    """The source of a restore, as a DescribeDBInstances entry (a snapshot is made to look like one)."""
    if restore.get("source_instance"):
        source = describe(module, client, restore["source_instance"])
        if source is None:
            module.fail_json(msg=invalid_value("restore_from.source_instance", restore["source_instance"],
                                               "The DB instance does not exist in this region and account."))
        return source, "source instance %s" % restore["source_instance"]
    snapshot_id = restore["snapshot_identifier"]
    try:
        found = client.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id, aws_retry=True).get("DBSnapshots") or []
    except is_boto3_error_code("DBSnapshotNotFound"):
        found = []
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to describe DB snapshot %s" % snapshot_id)
    if not found:
        module.fail_json(msg=invalid_value("restore_from.snapshot_identifier", snapshot_id,
                                           "The DB snapshot does not exist in this region and account."))
    snapshot = found[0]
    if snapshot.get("Status") not in (None, "available"):
        module.fail_json(msg="DB snapshot %s is %s; it can be restored once it is available." % (snapshot_id, snapshot["Status"]))
    source = dict(Engine=snapshot.get("Engine"), EngineVersion=snapshot.get("EngineVersion"),
                  MasterUsername=snapshot.get("MasterUsername"), StorageEncrypted=snapshot.get("Encrypted"),
                  KmsKeyId=snapshot.get("KmsKeyId"), AllocatedStorage=snapshot.get("AllocatedStorage"))
    return source, "snapshot %s" % snapshot_id


def restore_request(module, source):
    params = module.params
    restore = params["restore_from"]
    request = shared_request(module)
    if not request.get("DBInstanceClass"):
        request.pop("DBInstanceClass", None)
    if restore.get("source_instance"):
        request.update(SourceDBInstanceIdentifier=restore["source_instance"], TargetDBInstanceIdentifier=params["name"])
        if restore.get("restore_time"):
            request["RestoreTime"] = parse_iso8601(restore["restore_time"])
        else:
            request["UseLatestRestorableTime"] = True
        ceiling = params["max_allocated_storage_gb"]
        if ceiling and ceiling > max(params["allocated_storage_gb"] or 0, source.get("AllocatedStorage") or 0):
            request["MaxAllocatedStorage"] = ceiling
        return "restore_db_instance_to_point_in_time", request
    request.update(DBInstanceIdentifier=params["name"], DBSnapshotIdentifier=restore["snapshot_identifier"])
    return "restore_db_instance_from_db_snapshot", request


def role_propagating(exc):
    """RDS refuses a monitoring role made moments ago until IAM has propagated it."""
    message = ((getattr(exc, "response", None) or {}).get("Error") or {}).get("Message") or ""
    return error_code(exc) == "InvalidParameterValue" and "IAM role ARN value is invalid" in message


def rds_call(run, method, **request):
    """A mutating call: retried (``ModuleRun.fresh``), also while a monitoring role is not
    known to RDS yet."""
    return while_propagating(lambda: run.fresh(getattr(run.client, method))(**request), propagating=role_propagating)


def create_call(run, method, what, **request):
    """A create or restore call; an instance that exists already (a retried call whose first
    attempt went through, or one made meanwhile) is taken instead."""
    module, client, name = run.module, run.client, run.params["name"]
    try:
        return rds_call(run, method, **request)["DBInstance"]
    except is_boto3_error_code("DBInstanceAlreadyExists"):
        instance = describe(module, client, name)
        if instance is None:
            module.fail_json(msg="Failed to %s: RDS answered that it exists, but it cannot be found." % what)
        return instance
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to %s" % what)


def create(module, run, keys):
    params = module.params
    name = params["name"]
    restore = params["restore_from"]
    if restore:
        source, what = describe_source(module, run.client, restore)
        # the restored instance gets a secret and Performance Insights of its own
        skip = ("master_user_secret_kms_key_id", "performance_insights_kms_key_id")
        if restore.get("snapshot_identifier"):
            skip += ("db_name",)  # a snapshot does not report it
        check_immutable(module, keys, source, what, skip=skip)
        method, request = restore_request(module, source)
        description = "restore RDS DB instance %s from %s" % (name, what)
        if restore.get("restore_time"):
            description += " at %s" % iso8601(request["RestoreTime"])
        elif restore.get("source_instance"):
            description += " at its latest restorable time"
    else:
        missing = [o for o in ("engine_version", "instance_class", "allocated_storage_gb", "master_username") if params[o] is None]
        if missing:
            module.fail_json(msg="Option%s %s required to create RDS DB instance %s." % (
                "s" if len(missing) > 1 else "", ", ".join("'%s'" % o for o in missing) + (" are" if len(missing) > 1 else " is"),
                name))
        source, method, request = None, "create_db_instance", create_request(module)
        description = "create RDS DB instance %s" % name
    if not run.act(description):
        return view(planned(module, request, source))
    instance = create_call(run, method, description, **request)
    if not params["wait"]:
        return view(instance)
    instance = wait_instance(module, run.client, name)
    if restore:
        # what a restore call cannot set
        return update(module, run, keys, instance, restored=True)
    return view(instance)


# -------------------------------------------------------------- updating


def update(module, run, keys, instance, restored=False):
    """Bring an existing instance to the options; returns its view."""
    params = module.params
    name = params["name"]
    status = instance.get("DBInstanceStatus")
    if params["wait"] and status not in READY and status not in STUCK:
        instance = wait_instance(module, run.client, name)
    check_immutable(module, keys, instance, "RDS DB instance %s" % name)
    request, changes, after = plan_modify(module, keys, instance)
    if request and instance.get("DBInstanceStatus") not in READY and not run.check:
        # RDS takes no change until the instance is available
        instance = wait_instance(module, run.client, name)
        request, changes, after = plan_modify(module, keys, instance)
    deferred = "" if params["apply_immediately"] else " (RDS defers some to the next maintenance window)"
    if request and run.act("modify %s of RDS DB instance %s%s" % (", ".join(changes), name, deferred)):
        what = "modify RDS DB instance %s" % name
        try:
            answer = rds_call(run, "modify_db_instance", DBInstanceIdentifier=name,
                              ApplyImmediately=params["apply_immediately"], **request)
        except boto_errors() as e:
            module.fail_json_aws(e, msg="Failed to %s (%s)" % (what, ", ".join(sorted(request))))
        instance = answer.get("DBInstance") or instance
    tags, _changed = run.sync_tags("RDS DB instance %s" % name, tags_to_dict(instance.get("TagList")), params["tags"],
                                   "remove_tags_from_resource", "add_tags_to_resource", ResourceName=instance.get("DBInstanceArn"))
    if run.check:
        result = view(instance)
        result.update((k, v) for k, v in after.items() if k not in ("status", "pending_modified_values", "tags"))
        result["tags"] = tags
        return result
    if params["wait"] and (request or restored):
        instance = wait_instance(module, run.client, name, settled=params["apply_immediately"])
    result = view(instance)
    result["tags"] = tags
    return result


def ensure_present(module, run, keys):
    name = module.params["name"]
    instance = describe(module, run.client, name)
    if instance is not None and instance.get("DBInstanceStatus") == "deleting":
        module.fail_json(msg="RDS DB instance %s is being deleted; run again once it is gone." % name)
    if instance is None:
        return {}, create(module, run, keys)
    return view(instance), update(module, run, keys, instance)


# -------------------------------------------------------------- deleting


def ensure_absent(module, run):
    params = module.params
    name = params["name"]
    instance = describe(module, run.client, name)
    if instance is None:
        module.exit_json(**run.result(instance={}))
    before = view(instance)
    snapshot = None
    if instance.get("DBInstanceStatus") != "deleting":
        if instance.get("DeletionProtection"):
            if not params["remove_deletion_protection"]:
                module.fail_json(msg="RDS DB instance %s has deletion protection; set 'remove_deletion_protection: true' to "
                                 "turn it off and delete the instance." % name, instance=before)
            if instance.get("DBInstanceStatus") not in READY and not run.check:
                instance = wait_instance(module, run.client, name)
            if run.act("turn off deletion protection of RDS DB instance %s" % name):
                run.call("turn off deletion protection of RDS DB instance %s" % name, "modify_db_instance",
                         DBInstanceIdentifier=name, DeletionProtection=False, ApplyImmediately=True)
        request = dict(DBInstanceIdentifier=name)
        if params["skip_final_snapshot"]:
            request["SkipFinalSnapshot"] = True
            description = "delete RDS DB instance %s without a final snapshot" % name
        else:
            snapshot = params["final_snapshot_identifier"] or "%s-final-%s" % (name, utcnow().strftime("%Y%m%d%H%M%S"))
            request.update(SkipFinalSnapshot=False, FinalDBSnapshotIdentifier=snapshot)
            description = "delete RDS DB instance %s after final snapshot %s" % (name, snapshot)
        if run.act(description):
            delete(module, run, request, description)
    remaining = {}
    if params["wait"] and not run.check:
        wait_gone(module, run.client, name)
    elif not run.check:
        remaining = describe(module, run.client, name)
    result = run.result(instance=view(remaining) if remaining else {})
    if snapshot:
        result["final_snapshot_identifier"] = snapshot
    exit_with_diff(module, result, diff_view(before) if run.actions else {}, {})


def delete(module, run, request, description):
    name = request["DBInstanceIdentifier"]
    for attempt in (1, 2):
        try:
            return run.fresh(run.client.delete_db_instance)(**request)
        except is_boto3_error_code("InvalidDBInstanceState") as e:
            current = describe(module, run.client, name)
            if current is None or current.get("DBInstanceStatus") == "deleting":
                # a retried call whose first attempt went through
                return None
            if attempt == 2:
                module.fail_json_aws(e, msg="Failed to %s" % description)
            # creating, modifying, backing-up ...: RDS deletes it once it is available
            wait_instance(module, run.client, name, ready_only=True)
        except is_boto3_error_code(NOT_FOUND):  # pylint: disable=duplicate-except
            return None
        except boto_errors() as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg="Failed to %s" % description)
    return None


# ------------------------------------------------------------------ main


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        engine=dict(type="str", choices=["postgres"], default="postgres"),
        engine_version=dict(type="str"),
        allow_major_version_upgrade=dict(type="bool", default=False),
        instance_class=dict(type="str"),
        allocated_storage_gb=dict(type="int"),
        max_allocated_storage_gb=dict(type="int"),
        storage_type=dict(type="str", choices=["gp2", "gp3"], default="gp3"),
        kms_key_id=dict(type="str"),
        master_username=dict(type="str"),
        master_user_secret_kms_key_id=dict(type="str"),
        db_name=dict(type="str"),
        port=dict(type="int", default=5432),
        subnet_group_name=dict(type="str"),
        security_group_ids=dict(type="list", elements="str"),
        parameter_group_name=dict(type="str"),
        option_group_name=dict(type="str"),
        backup_retention_days=dict(type="int"),
        preferred_backup_window=dict(type="str"),
        preferred_maintenance_window=dict(type="str"),
        multi_az=dict(type="bool"),
        deletion_protection=dict(type="bool"),
        performance_insights=dict(type="bool"),
        performance_insights_kms_key_id=dict(type="str"),
        performance_insights_retention_days=dict(type="int"),
        monitoring_interval=dict(type="int", choices=MONITORING_INTERVALS),
        monitoring_role_arn=dict(type="str"),
        cloudwatch_logs_exports=dict(type="list", elements="str", choices=LOG_EXPORTS),
        auto_minor_version_upgrade=dict(type="bool", default=True),
        copy_tags_to_snapshot=dict(type="bool", default=True),
        ca_certificate_identifier=dict(type="str"),
        apply_immediately=dict(type="bool", default=False),
        restore_from=dict(type="dict", options=dict(
            source_instance=dict(type="str"),
            restore_time=dict(type="str"),
            use_latest_restorable_time=dict(type="bool", default=False),
            snapshot_identifier=dict(type="str"),
        )),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=2400),
        skip_final_snapshot=dict(type="bool", default=False),
        final_snapshot_identifier=dict(type="str"),
        remove_deletion_protection=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    run = ModuleRun(module, "rds")

    if module.params["state"] == "absent":
        ensure_absent(module, run)

    before, after = ensure_present(module, run, Keys(module))
    exit_with_diff(module, run.result(instance=after), diff_view(before), diff_view(after))


if __name__ == "__main__":
    main()
