# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""AWS Backup in the strict local AWS: what moto 5.2 lacks (backup selections, plan updates,
recovery points) and what it accepts that AWS refuses.

moto keeps the vaults and plans (``backup`` backend); :class:`LocalBackup` stands before and
after it:

* ``DescribeBackupVault`` of a vault that does not exist answers ``AccessDeniedException``
  ("Insufficient privileges to perform this action.", AWS), as AWS does; moto answers
  ``ResourceNotFoundException``.
* Backup selections (``CreateBackupSelection``, ``GetBackupSelection``,
  ``ListBackupSelections``, ``DeleteBackupSelection``) are served here (moto lacks them): a
  selection names a plan that exists and is not deleted, a name unique in the plan, and an
  IAM role that exists and trusts ``backup.amazonaws.com``; ``GetBackupSelection`` answers
  the empty ``ListOfTags``, ``NotResources`` and ``Conditions`` AWS answers for a selection by
  ARN.
* ``UpdateBackupPlan`` (moto lacks it) replaces the plan's rules and gives it a new
  ``VersionId``, as AWS does.
* ``CreateBackupPlan`` and ``UpdateBackupPlan`` are refused as AWS refuses them: a rule whose
  target vault does not exist in the region, a lifecycle that deletes before day 1 or within
  90 days of the move to cold storage, a continuous backup rule kept more than 35 days (point
  in time recovery lasts 1 to 35 days), a copy action whose destination is not a backup vault
  ARN.
* ``CreateBackupVault`` with an ``EncryptionKeyArn`` of a key that does not exist, is not
  enabled or is in another region is refused (moto accepts any string).
* Recovery points: nothing makes backup jobs here, so a vault holds only the recovery points a
  test puts in with :meth:`LocalBackup.add_recovery_point`. ``ListRecoveryPointsByBackupVault``
  (moto answers 404 "Not yet implemented") lists them, ``DescribeBackupVault`` and
  ``ListBackupVaults`` count them (``NumberOfRecoveryPoints``; moto leaves it out of the one and
  answers 0 in the other) and ``DeleteBackupVault`` of a vault that holds any is refused (moto
  deletes it, and answers success for a vault that does not exist).
* ``DeleteBackupPlan`` of a plan that still has selections is refused (moto deletes it).

Messages marked (AWS) are quoted from AWS answers seen in public issue reports; the others
follow AWS's style and are marked (unconfirmed).
"""
from __future__ import annotations

import json
import re
import threading
import time
import uuid

from . import core, protocol, wire
from .iam import resolve_principal
from .moto_bridge import MotoBridge

SERVICE = "backup"
# Point-in-time recovery (continuous backups) keeps 1 to 35 days (AWS Backup developer guide,
# "Continuous backups and point-in-time recovery (PITR)").
CONTINUOUS_MAX_DAYS = 35
# A recovery point stays in cold storage 90 days at least (CreateBackupPlan API reference,
# Lifecycle).
COLD_MINIMUM_DAYS = 90
MAX_RESOURCES = 500
_VAULT_ARN = re.compile(r"^arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")


class BackupError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message):
    return BackupError("InvalidParameterValueException", message)


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _serialize(shape, value):
    """``value`` in the rest-json wire form of ``shape``."""
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        return {shape.members[m].serialization.get("name", m): _serialize(shape.members[m], v)
                for m, v in value.items() if v is not None and m in shape.members}
    if kind == "list":
        return [_serialize(shape.member, item) for item in value]
    if kind == "map":
        return {k: _serialize(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return round(float(value), 3)
    return value


class LocalBackup(core.Behaviour):
    """The AWS Backup side of the local AWS (see the module docstring). Always on: the
    refusals are AWS's."""

    name = ""

    def __init__(self, strict, clock=time.time):
        super().__init__(strict)
        self.clock = clock
        self.lock = threading.RLock()
        self.selections = {}        # (account, region, plan id) -> {selection id: selection}
        self.recovery_points = {}   # (account, region, vault name) -> [recovery point]
        self._model = None

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def model(self):
        if self._model is None:
            import botocore.session

            self._model = botocore.session.get_session().get_service_model(SERVICE)
        return self._model

    @staticmethod
    def backend(account, region, service=SERVICE):
        return MotoBridge.backend(service, account, region)

    def before(self, call):
        if call.service != SERVICE or not call.operation:
            return None
        handler = getattr(self, "before_" + _snake(call.operation), None)
        if handler is None:
            return None
        principal = resolve_principal(call)
        account = principal.account if principal else ""
        try:
            params = call.params
        except protocol.ProtocolError:
            return None  # moto answers a malformed request
        with self.lock:
            try:
                return handler(call, account, params)
            except BackupError as exc:
                return self.error(call, exc)

    def after(self, call, answer):
        if call.service != SERVICE or answer.status != 200 or not call.operation:
            return answer
        handler = getattr(self, "after_" + _snake(call.operation), None)
        if handler is None:
            return answer
        principal = resolve_principal(call)
        with self.lock:
            return handler(call, principal.account if principal else "", call.params, answer) or answer

    def error(self, call, exc):
        if exc.code == "AccessDeniedException":
            status, headers, body = wire.error_response(call.kind or "rest-json", 403, exc.code, exc.message,
                                                        call.model)
            return core.Answer(status, headers, body)
        status = 400
        try:
            status = self.model.shape_for(exc.code).metadata.get("error", {}).get("httpStatusCode", 400)
        except Exception:  # noqa: BLE001 - a code the model does not declare
            status = 400
        status, headers, body = wire.error_response(call.kind or "rest-json", status, exc.code, exc.message,
                                                    call.model)
        return core.Answer(status, headers, body)

    def answer(self, operation, result):
        shape = self.model.operation_model(operation).output_shape
        body = json.dumps(_serialize(shape, result or {})).encode()
        return core.Answer(200, [("Content-Type", "application/json"), ("x-amzn-RequestId", str(uuid.uuid4()))],
                           body)

    def _plan(self, account, region, plan_id):
        plan = self.backend(account, region).plans.get(plan_id)
        if plan is None or plan.deletion_date is not None:
            return None
        return plan

    def _vault(self, account, region, name):
        return self.backend(account, region).vaults.get(name)

    # -- recovery points (tests) ---------------------------------------------------------------

    def add_recovery_point(self, account, region, vault_name, resource_arn, resource_type="RDS"):
        """Put a completed recovery point of ``resource_arn`` into a vault (nothing runs backup
        jobs here); returns its ARN."""
        with self.lock:
            vault = self._vault(account, region, vault_name)
            if vault is None:
                raise KeyError(vault_name)
            arn = "arn:aws:backup:%s:%s:recovery-point:%s" % (region, account, uuid.uuid4())
            now = self.clock()
            self.recovery_points.setdefault((account, region, vault_name), []).append({
                "RecoveryPointArn": arn, "BackupVaultName": vault_name, "BackupVaultArn": vault.backup_vault_arn,
                "ResourceArn": resource_arn, "ResourceType": resource_type, "Status": "COMPLETED",
                "CreationDate": now, "CompletionDate": now, "EncryptionKeyArn": vault.encryption_key_arn,
                "IsEncrypted": True})
            return arn

    # -- vaults --------------------------------------------------------------------------------

    def before_create_backup_vault(self, call, account, params):
        ref = params.get("EncryptionKeyArn")
        if not ref:
            return None
        parts = ref.split(":")
        region = parts[3] if ref.startswith("arn:") and len(parts) > 5 else call.region
        key_account = parts[4] if ref.startswith("arn:") and len(parts) > 5 else account
        if region != call.region:
            raise _invalid("Invalid encryption key %s: the key must be in the vault's region %s (unconfirmed)"
                           % (ref, call.region))
        try:
            key = self.backend(key_account, region, "kms").describe_key(ref)
        except Exception:  # noqa: BLE001 - moto's NotFoundException
            key = None
        if key is None:
            raise _invalid("Invalid encryption key %s: the key does not exist (unconfirmed)" % ref)
        if getattr(key, "key_state", "Enabled") != "Enabled":
            raise _invalid("Invalid encryption key %s: the key is %s (unconfirmed)" % (ref, key.key_state))
        return None

    def _vault_row(self, account, region, vault):
        row = {"BackupVaultName": vault.backup_vault_name, "BackupVaultArn": vault.backup_vault_arn,
               "VaultType": "BACKUP_VAULT", "VaultState": "AVAILABLE",
               "EncryptionKeyArn": vault.encryption_key_arn, "CreationDate": vault.creation_date,
               "CreatorRequestId": vault.creator_request_id, "Locked": bool(vault.locked),
               "NumberOfRecoveryPoints": len(self.recovery_points.get((account, region, vault.backup_vault_name), [])),
               "EncryptionKeyType": "CUSTOMER_MANAGED_KMS_KEY" if vault.encryption_key_arn else "AWS_OWNED_KMS_KEY"}
        return {k: v for k, v in row.items() if v is not None}

    def before_describe_backup_vault(self, call, account, params):
        name = params.get("BackupVaultName")
        vault = self._vault(account, call.region, name)
        if vault is None:
            # AWS answers a vault that does not exist with AccessDeniedException, not the
            # ResourceNotFoundException its model declares (amazon.aws's backup_vault module
            # and Terraform's AWS provider take it for "no such vault").
            raise BackupError("AccessDeniedException", "Insufficient privileges to perform this action.")
        return self.answer("DescribeBackupVault", self._vault_row(account, call.region, vault))

    def before_list_backup_vaults(self, call, account, params):
        vaults = self.backend(account, call.region).vaults.values()
        return self.answer("ListBackupVaults", {"BackupVaultList": [
            self._vault_row(account, call.region, v) for v in vaults]})

    def before_delete_backup_vault(self, call, account, params):
        name = params.get("BackupVaultName")
        if self._vault(account, call.region, name) is None:
            raise BackupError("ResourceNotFoundException", "Backup vault %s does not exist (unconfirmed)" % name)
        points = self.recovery_points.get((account, call.region, name), [])
        if points:
            raise BackupError("InvalidRequestException",
                              "Backup vault cannot be deleted (contains %d recovery points)" % len(points))
        return None

    def before_list_recovery_points_by_backup_vault(self, call, account, params):
        name = params.get("BackupVaultName")
        if self._vault(account, call.region, name) is None:
            raise BackupError("ResourceNotFoundException", "Backup vault %s does not exist (unconfirmed)" % name)
        points = self.recovery_points.get((account, call.region, name), [])
        if params.get("ByResourceArn"):
            points = [p for p in points if p["ResourceArn"] == params["ByResourceArn"]]
        return self.answer("ListRecoveryPointsByBackupVault", {"RecoveryPoints": points})

    # -- plans ---------------------------------------------------------------------------------

    def _check_plan(self, account, region, document):
        if not _NAME.match(document.get("BackupPlanName") or ""):
            raise _invalid("BackupPlanName must be 1 to 50 letters, digits or -_. (unconfirmed)")
        for rule in document.get("Rules") or []:
            vault = rule.get("TargetBackupVaultName")
            if self._vault(account, region, vault) is None:
                raise _invalid("Backup vault %s does not exist in %s (unconfirmed)" % (vault, region))
            self._check_lifecycle(rule.get("RuleName"), rule.get("Lifecycle"), rule.get("EnableContinuousBackup"))
            for action in rule.get("CopyActions") or []:
                target = action.get("DestinationBackupVaultArn") or ""
                if not _VAULT_ARN.match(target):
                    raise _invalid("Invalid DestinationBackupVaultArn %s (unconfirmed)" % target)
                self._check_lifecycle(rule.get("RuleName"), action.get("Lifecycle"), False)

    @staticmethod
    def _check_lifecycle(rule, lifecycle, continuous):
        lifecycle = lifecycle or {}
        delete = lifecycle.get("DeleteAfterDays")
        cold = lifecycle.get("MoveToColdStorageAfterDays")
        if delete is not None and delete < 1:
            raise _invalid("Rule %s: DeleteAfterDays must be at least 1 (unconfirmed)" % rule)
        if delete is not None and cold is not None and delete < cold + COLD_MINIMUM_DAYS:
            raise _invalid("Rule %s: DeleteAfterDays must be at least %d days after MoveToColdStorageAfterDays"
                           " (unconfirmed)" % (rule, COLD_MINIMUM_DAYS))
        if continuous and (delete is None or delete > CONTINUOUS_MAX_DAYS):
            raise _invalid("Rule %s: the retention of continuous backups must be between 1 and %d days"
                           " (unconfirmed)" % (rule, CONTINUOUS_MAX_DAYS))

    def before_create_backup_plan(self, call, account, params):
        self._check_plan(account, call.region, params.get("BackupPlan") or {})
        return None

    def before_update_backup_plan(self, call, account, params):
        plan = self._plan(account, call.region, params.get("BackupPlanId"))
        if plan is None:
            raise BackupError("ResourceNotFoundException", "Failed reading Backup plan with provided version")
        document = dict(params.get("BackupPlan") or {})
        self._check_plan(account, call.region, document)
        if document.get("BackupPlanName") != plan.backup_plan.get("BackupPlanName"):
            raise _invalid("A backup plan's name cannot be changed (unconfirmed)")
        previous = {r.get("RuleName"): r.get("RuleId") for r in plan.backup_plan.get("Rules") or []}
        rules = []
        for rule in document.get("Rules") or []:
            rule = dict(rule)
            rule.setdefault("ScheduleExpression", "cron(0 5 ? * * *)")
            rule.setdefault("StartWindowMinutes", 480)
            rule.setdefault("CompletionWindowMinutes", 10080)
            rule.setdefault("ScheduleExpressionTimezone", "Etc/UTC")
            rule["RuleId"] = previous.get(rule.get("RuleName")) or str(uuid.uuid4())
            rules.append(rule)
        document["Rules"] = rules
        plan.backup_plan = document
        plan.advanced_backup_settings = document.get("AdvancedBackupSettings") or []
        plan.version_id = uuid.uuid4().hex + uuid.uuid4().hex[:16]
        return self.answer("UpdateBackupPlan", {
            "BackupPlanId": plan.backup_plan_id, "BackupPlanArn": plan.backup_plan_arn,
            "CreationDate": plan.creation_date, "VersionId": plan.version_id,
            "AdvancedBackupSettings": plan.advanced_backup_settings or None})

    def before_delete_backup_plan(self, call, account, params):
        plan_id = params.get("BackupPlanId")
        if self.selections.get((account, call.region, plan_id)):
            raise BackupError("InvalidRequestException",
                              "Related backup plan selections must be deleted prior to backup plan deletion")
        return None

    # -- selections ----------------------------------------------------------------------------

    def _selections(self, call, account, plan_id):
        if self._plan(account, call.region, plan_id) is None:
            raise BackupError("ResourceNotFoundException", "Failed reading Backup plan with provided version")
        return self.selections.setdefault((account, call.region, plan_id), {})

    def _check_role(self, account, arn):
        name = arn.rsplit("/", 1)[-1] if ":role/" in arn else ""
        role = None
        if name:
            try:
                role = self.backend(account, "aws", "iam").get_role(name)
            except Exception:  # noqa: BLE001 - moto's NoSuchEntity
                role = None
        if role is None:
            raise _invalid("IAM Role %s does not exist (unconfirmed)" % arn)
        trust = role.assume_role_policy_document
        trust = json.loads(trust) if isinstance(trust, str) else trust
        statements = trust.get("Statement") or []
        statements = statements if isinstance(statements, list) else [statements]
        for statement in statements:
            services = (statement.get("Principal") or {}).get("Service") if isinstance(
                statement.get("Principal"), dict) else None
            services = services if isinstance(services, list) else [services]
            if statement.get("Effect") == "Allow" and "backup.amazonaws.com" in services:
                return
        raise _invalid("IAM Role %s cannot be assumed by AWS Backup: its trust policy does not name"
                       " backup.amazonaws.com (unconfirmed)" % arn)

    def before_create_backup_selection(self, call, account, params):
        plan_id = params.get("BackupPlanId")
        if self._plan(account, call.region, plan_id) is None:
            raise _invalid("Backup plan %s does not exist (unconfirmed)" % plan_id)
        selections = self.selections.setdefault((account, call.region, plan_id), {})
        body = params.get("BackupSelection") or {}
        name = body.get("SelectionName") or ""
        if not _NAME.match(name):
            raise _invalid("SelectionName must be 1 to 50 letters, digits or -_. (unconfirmed)")
        if any(s["BackupSelection"]["SelectionName"] == name for s in selections.values()):
            raise BackupError("AlreadyExistsException", "Backup selection with the same name already exists"
                                                        " (unconfirmed)")
        self._check_role(account, body.get("IamRoleArn") or "")
        resources = list(body.get("Resources") or [])
        if len(resources) > MAX_RESOURCES:
            raise _invalid("A selection names at most %d resources (unconfirmed)" % MAX_RESOURCES)
        for arn in resources + list(body.get("NotResources") or []):
            if not arn.startswith("arn:") or len(arn.split(":")) < 6:
                raise _invalid("Invalid resource ARN %s (unconfirmed)" % arn)
        if not resources and not body.get("ListOfTags") and not body.get("Conditions"):
            raise _invalid("A selection needs Resources, ListOfTags or Conditions (unconfirmed)")
        selection_id = str(uuid.uuid4())
        now = self.clock()
        request_id = params.get("CreatorRequestId") or str(uuid.uuid4())
        selections[selection_id] = {
            "SelectionId": selection_id, "BackupPlanId": plan_id, "CreationDate": now,
            "CreatorRequestId": request_id,
            "BackupSelection": {
                "SelectionName": name, "IamRoleArn": body.get("IamRoleArn"), "Resources": resources,
                "ListOfTags": list(body.get("ListOfTags") or []), "NotResources": list(body.get("NotResources") or []),
                "Conditions": body.get("Conditions") or {"StringEquals": [], "StringNotEquals": [],
                                                         "StringLike": [], "StringNotLike": []}}}
        return self.answer("CreateBackupSelection", {"SelectionId": selection_id, "BackupPlanId": plan_id,
                                                     "CreationDate": now})

    def before_get_backup_selection(self, call, account, params):
        selection = self._selections(call, account, params.get("BackupPlanId")).get(params.get("SelectionId"))
        if selection is None:
            raise BackupError("ResourceNotFoundException", "Failed reading Backup selection %s (unconfirmed)"
                              % params.get("SelectionId"))
        return self.answer("GetBackupSelection", selection)

    def before_list_backup_selections(self, call, account, params):
        rows = [{"SelectionId": s["SelectionId"], "SelectionName": s["BackupSelection"]["SelectionName"],
                 "BackupPlanId": s["BackupPlanId"], "CreationDate": s["CreationDate"],
                 "CreatorRequestId": s["CreatorRequestId"], "IamRoleArn": s["BackupSelection"]["IamRoleArn"]}
                for s in self._selections(call, account, params.get("BackupPlanId")).values()]
        return self.answer("ListBackupSelections", {"BackupSelectionsList": rows})

    def before_delete_backup_selection(self, call, account, params):
        selections = self._selections(call, account, params.get("BackupPlanId"))
        if selections.pop(params.get("SelectionId"), None) is None:
            raise BackupError("ResourceNotFoundException", "Failed reading Backup selection %s (unconfirmed)"
                              % params.get("SelectionId"))
        return core.Answer(200, [("Content-Type", "application/json"), ("x-amzn-RequestId", str(uuid.uuid4()))],
                           b"")
