# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The EKS service of the strict local AWS: clusters, node groups, add-ons, access entries,
pod identity associations, updates and tags, with state, served here instead of moto.

moto lacks most of what the collection calls (access entries, add-ons, pod identity
associations, ``UpdateClusterVersion``, ``DescribeUpdate``, ``AssociateEncryptionConfig``),
makes everything ACTIVE at once and answers in shapes of its own. :class:`LocalEks` answers
every request whose service is ``eks`` (moto's EKS is never reached) from the parameters
botocore's model reads out of the request (``call.params``), checks them against the
operation's input shape (required members, enums, lengths and ranges) and answers in the
operation's output shape, with EKS's own error codes and, where known, its messages.

It talks to the rest of the emulator only through an :class:`EksEnvironment` (subnets,
security groups, IAM roles, KMS keys, the clock, the durations, the local Kubernetes control
plane); the AWS proxy implements it against moto, the unit tests with a fake.

Time
    A resource AWS makes asynchronously stays in its transitional state (``CREATING``,
    ``UPDATING``, ``DELETING``; an update ``InProgress``) for ``env.duration(kind)`` wall
    seconds, one of the kinds of :data:`DURATIONS` (real-AWS figures, scaled by the
    environment; 0 when creation times are off). Nothing runs in the background: every request
    first settles, under the one lock, whatever has come due by ``env.now()``. Even with a
    duration of 0 the answer to a create call says ``CREATING``, as AWS's does; the next read
    finds the resource ``ACTIVE``.

Shapes (what the answers leave out, and when)
    The answers follow AWS's as the AWS CLI reference examples and the EKS user guide show
    them (aws-cli ``awscli/examples/eks/*.rst``):

    * ``DescribeNodegroup``: ``taints`` is left out when the node group has none; ``labels`` and
      ``tags`` are always there, ``{}`` when empty; ``updateConfig`` is always there
      (``{"maxUnavailable": 1}`` unless set); ``diskSize`` only without a launch template
      (20 by default), ``launchTemplate`` only with one; ``instanceTypes`` defaults to
      ``["t3.medium"]`` without a launch template and is left out with one when not given;
      ``releaseVersion`` follows the AMI type (``1.33.5-20251117`` for Amazon Linux and
      Windows, ``1.51.0-5f21a3b8`` for Bottlerocket, none for ``CUSTOM``);
      ``resources.autoScalingGroups`` (``eks-<node group>-<uuid>``) appears once the node
      group is ACTIVE; ``health.issues`` is always there. ``remoteAccess``, ``nodeRepairConfig``
      and ``warmPoolConfig`` only when given.
    * ``DescribeCluster``: while CREATING there is no ``endpoint``, ``identity`` or
      ``resourcesVpcConfig.clusterSecurityGroupId`` and ``certificateAuthority`` is ``{}``;
      ``tags`` is ``{}`` when empty; ``encryptionConfig`` only when set; ``logging`` always (one
      setup per enabled/disabled group, all five types disabled by default);
      ``resourcesVpcConfig`` always has ``subnetIds``, ``securityGroupIds`` (``[]`` when none),
      ``vpcId``, both endpoint flags and ``publicAccessCidrs`` (``["0.0.0.0/0"]`` by default,
      ``[]`` when the public endpoint is off and none were given); ``accessConfig`` always
      (``CONFIG_MAP`` and ``bootstrapClusterCreatorAdminPermissions: true`` by default, as the
      API does), ``upgradePolicy`` always (``EXTENDED`` by default), ``health.issues`` always.
      ``clientRequestToken`` only when the create call had one.
    * ``DescribeAddon``: ``serviceAccountRoleArn``, ``configurationValues`` (as sent) and
      ``podIdentityAssociations`` only when set; ``tags`` ``{}`` and ``health.issues`` ``[]``.
    * ``DescribeAccessEntry``: ``kubernetesGroups`` ``[]`` and ``tags`` ``{}`` when empty;
      ``username`` always (EKS's default when none was given).
    * Pod identity associations: ``ownerArn`` only for one an add-on made; ``tags`` ``{}``.
    * Updates: ``params`` as AWS lists them (values are strings, JSON for lists and maps),
      ``errors`` ``[]``.

Errors
    The codes are the ones the EKS model declares for each operation, with the model's HTTP
    status and the members its error shapes carry (``clusterName``, ``nodegroupName``,
    ``addonName``, ``validZones``). Messages quoted from AWS answers seen in public issue
    reports are marked "(AWS)" below, the others follow AWS's style but could not be
    confirmed and are marked "(unconfirmed)". An operation this service does not implement
    is answered ``UnknownOperationException`` (HTTP 400, so no client retries it) naming the
    operation; a request member it does not implement (Outposts, Auto Mode, hybrid nodes ...)
    is refused the same way, never ignored.

    (AWS), seen in AWS answers quoted in public issue reports: "No cluster found for name:
    X."; "Cluster already exists with name: X"; "NodeGroup already exists with name N and
    cluster name C"; "Cannot <UpdateType> because cluster C currently has update U in
    progress"; "Cluster has nodegroups attached" (with clusterName and nodegroupName);
    "Subnets specified must be in at least two different AZs"; "unsupported Kubernetes
    version"; "Unsupported Kubernetes minor version update from A to B"; the
    UnsupportedAvailabilityZoneException text with clusterName and validZones; "The
    cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform
    this operation."; "bootstrapClusterCreatorAdminPermissions must be true if cluster
    authentication mode is set to CONFIG_MAP"; "The specified access entry resource is
    already in use on this cluster."; "The specified principalArn could not be found. You can
    view your available access entries with 'list-access-entries'."; 'This operation can
    only be performed on Access Entries with a type of "STANDARD".'. Given as AWS's in the
    project's issue: "Role with arn: R, could not be assumed because it does not exist or the
    trusted entity is not correct". Recalled from AWS answers but not re-checked: "No changes
    needed for the logging config provided"; "Only one type of update can be allowed.";
    "Addon version specified is not supported"; "Disk size must be specified within the
    launch template."; "The subnet ID 'S' does not exist (Service: AmazonEC2 ...)"; "No node
    group found for name: N."; "No addon: A found in cluster: C"; "Minimum capacity M can't
    be greater than desired size D"; "ConfigurationValue provided in request is not
    supported: ...". Everything else is marked (unconfirmed) where it is raised.

Availability zones
    EKS refuses control plane subnets in a few zones, by zone id (letters map to ids per
    account, so the id decides): :data:`UNSUPPORTED_ZONE_IDS`, from the EKS user guide
    ("View Amazon EKS networking requirements for VPC and subnets", networking/network-reqs).

Catalogues
    :data:`KUBERNETES_VERSIONS` (1.31 to 1.35, platform versions and the AMI release of each),
    :data:`ADDON_CATALOGUE` (a sample catalogue of the five add-ons the collection installs:
    realistic version strings per Kubernetes version, one default each, not AWS's full list)
    and :data:`ACCESS_POLICIES` (the standard access policies of the user guide's "Review
    access policy permissions").

Thread safety
    One lock guards all state; state is kept per account and region. The environment is
    called with the lock held and must not call back into this object.
"""
from __future__ import annotations

import base64
import copy
import ipaddress
import json
import re
import secrets
import string
import threading
import uuid

from . import core, protocol, timing, wire

# ---------------------------------------------------------------------------------------------
# Tables

# kind -> (real-AWS seconds, source), from timing.py's one table of durations ("eks_<kind>").
# The environment scales these (duration(kind)).
DURATIONS = {kind[len("eks_"):]: value for kind, value in timing.DURATIONS.items() if kind.startswith("eks_")}

# Zone ids whose subnets EKS refuses for a control plane (EKS user guide, network-reqs:
# "The subnets can't reside in the following Availability Zones").
UNSUPPORTED_ZONE_IDS = {
    "us-east-1": ("use1-az3",),
    "us-west-1": ("usw1-az2",),
    "ca-central-1": ("cac1-az3",),
}

# Kubernetes versions: EKS platform version, the patch release and AMI build date the node
# AMIs of that version carry (releaseVersion), Bottlerocket's release.
KUBERNETES_VERSIONS = {
    "1.31": {"platform": "eks.44", "patch": "1.31.13", "ami": "20251117", "bottlerocket": "1.51.0-5f21a3b8"},
    "1.32": {"platform": "eks.27", "patch": "1.32.9", "ami": "20251117", "bottlerocket": "1.51.0-5f21a3b8"},
    "1.33": {"platform": "eks.20", "patch": "1.33.5", "ami": "20251117", "bottlerocket": "1.51.0-5f21a3b8"},
    "1.34": {"platform": "eks.9", "patch": "1.34.2", "ami": "20251117", "bottlerocket": "1.51.0-5f21a3b8"},
    "1.35": {"platform": "eks.3", "patch": "1.35.0", "ami": "20251117", "bottlerocket": "1.51.0-5f21a3b8"},
}
DEFAULT_VERSION = "1.34"
# Amazon Linux 2 AMIs end with Kubernetes 1.32 (EKS user guide, eks-ami-deprecation-faqs).
AL2_LAST_VERSION = "1.32"

# Sample add-on catalogue: name -> type, whether it needs IAM permissions, and its versions
# (version -> Kubernetes versions it is compatible with); DEFAULT_ADDON_VERSIONS names the
# one default per Kubernetes version.
ADDON_CATALOGUE = {
    "vpc-cni": {"type": "networking", "iam": True, "versions": {
        "v1.19.6-eksbuild.7": ("1.31", "1.32", "1.33", "1.34"),
        "v1.20.4-eksbuild.1": ("1.31", "1.32", "1.33", "1.34", "1.35"),
        "v1.20.5-eksbuild.1": ("1.32", "1.33", "1.34", "1.35"),
    }},
    "kube-proxy": {"type": "networking", "iam": False, "versions": {
        "v1.31.10-eksbuild.8": ("1.31",), "v1.31.13-eksbuild.2": ("1.31",),
        "v1.32.6-eksbuild.8": ("1.32",), "v1.32.9-eksbuild.2": ("1.32",),
        "v1.33.3-eksbuild.4": ("1.33",), "v1.33.5-eksbuild.2": ("1.33",),
        "v1.34.0-eksbuild.2": ("1.34",), "v1.34.2-eksbuild.1": ("1.34",),
        "v1.35.0-eksbuild.2": ("1.35",),
    }},
    "coredns": {"type": "networking", "iam": False, "versions": {
        "v1.11.4-eksbuild.24": ("1.31", "1.32", "1.33"),
        "v1.12.2-eksbuild.4": ("1.33", "1.34"),
        "v1.12.4-eksbuild.1": ("1.34", "1.35"),
        "v1.13.1-eksbuild.1": ("1.35",),
    }},
    "eks-pod-identity-agent": {"type": "security", "iam": False, "versions": {
        "v1.3.8-eksbuild.2": ("1.31", "1.32", "1.33", "1.34", "1.35"),
        "v1.3.9-eksbuild.3": ("1.31", "1.32", "1.33", "1.34", "1.35"),
    }},
    "aws-ebs-csi-driver": {"type": "storage", "iam": True, "versions": {
        "v1.48.0-eksbuild.2": ("1.31", "1.32", "1.33", "1.34", "1.35"),
        "v1.50.1-eksbuild.1": ("1.31", "1.32", "1.33", "1.34", "1.35"),
    }},
}
DEFAULT_ADDON_VERSIONS = {
    "vpc-cni": {"1.31": "v1.20.4-eksbuild.1", "1.32": "v1.20.4-eksbuild.1", "1.33": "v1.20.4-eksbuild.1",
                "1.34": "v1.20.4-eksbuild.1", "1.35": "v1.20.4-eksbuild.1"},
    "kube-proxy": {"1.31": "v1.31.13-eksbuild.2", "1.32": "v1.32.9-eksbuild.2", "1.33": "v1.33.5-eksbuild.2",
                   "1.34": "v1.34.2-eksbuild.1", "1.35": "v1.35.0-eksbuild.2"},
    "coredns": {"1.31": "v1.11.4-eksbuild.24", "1.32": "v1.11.4-eksbuild.24", "1.33": "v1.12.2-eksbuild.4",
                "1.34": "v1.12.4-eksbuild.1", "1.35": "v1.13.1-eksbuild.1"},
    "eks-pod-identity-agent": {v: "v1.3.8-eksbuild.2" for v in KUBERNETES_VERSIONS},
    "aws-ebs-csi-driver": {v: "v1.48.0-eksbuild.2" for v in KUBERNETES_VERSIONS},
}
# The add-ons EKS installs itself, self-managed, unless bootstrapSelfManagedAddons is false.
SELF_MANAGED_ADDONS = ("vpc-cni", "kube-proxy", "coredns")

# Access policies (EKS user guide, access-policy-reference); arn:<partition>:eks::aws:...
ACCESS_POLICIES = (
    "AmazonAIOpsAssistantPolicy", "AmazonARCRegionSwitchScalingPolicy", "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy", "AmazonEKSAutoNodePolicy", "AmazonEKSBlockStoragePolicy",
    "AmazonEKSClusterAdminPolicy", "AmazonEKSEditPolicy", "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy", "AmazonEKSSecretReaderPolicy", "AmazonEKSViewPolicy",
)
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"

# Managed policies EKS wants on a managed node group's role (either ECR policy will do).
NODE_ROLE_POLICIES = (("AmazonEKSWorkerNodePolicy",),
                      ("AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPullOnly"))

# Client-error codes in the order an undeclared one is replaced by a declared one.
VALIDATION_CODES = ("InvalidParameterException", "InvalidRequestException", "BadRequestException", "ClientException")
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
AUTH_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
ACCESS_ENTRY_TYPES = ("STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "EC2", "HYBRID_LINUX",
                      "HYPERPOD_LINUX")
RESERVED_USERNAME_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
# Service quotas (EKS user guide, service-quotas): clusters per region, managed node groups
# per cluster.
MAX_CLUSTERS = 100
MAX_NODEGROUPS = 30

_NAME_RE = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]*$")
_ROLE_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]+)$")
_USER_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):user/((?:[\w+=,.@-]+/)*)([\w+=,.@-]+)$")
_ASSUMED_RE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/(.+)$")
_POLICY_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):eks::aws:cluster-access-policy/([A-Za-z0-9]+)$")
_EKS_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):eks:([a-z0-9-]+):(\d{12}):(.+)$")
_ALNUM = string.ascii_lowercase + string.digits


# ---------------------------------------------------------------------------------------------
# The environment


class NotFound(LookupError):
    """What an :class:`EksEnvironment` raises for ids it does not know.

    ``kind`` is ``"subnet"`` or ``"security-group"``, ``ids`` the unknown ones in request order.
    """

    def __init__(self, kind, ids):
        self.kind = kind
        self.ids = list(ids)
        super().__init__("%s not found: %s" % (kind, ", ".join(self.ids)))


class EksEnvironment:
    """What :class:`LocalEks` needs from the rest of the local AWS. Every method is called
    with LocalEks's lock held; none may call back into LocalEks.

    Times are epoch seconds (float). Accounts are 12-digit ids, regions AWS region names.
    """

    def now(self):
        """The current time, epoch seconds (the clock every timestamp and transition uses)."""
        raise NotImplementedError

    def duration(self, kind):
        """Wall seconds a resource of ``kind`` (a key of :data:`DURATIONS`) stays in its
        transitional state: ``real_seconds(kind)`` divided by the time scale factor, 0 when
        creation times are off."""
        raise NotImplementedError

    def availability_zones(self, account, region):
        """The region's zones as the account sees them:
        ``[{"ZoneName": "us-east-1a", "ZoneId": "use1-az6"}, ...]``."""
        raise NotImplementedError

    def subnets(self, account, region, ids):
        """``[{"SubnetId", "VpcId", "AvailabilityZone", "AvailabilityZoneId", "CidrBlock"}]`` for
        ``ids``, in their order; raises ``NotFound("subnet", unknown ids)``."""
        raise NotImplementedError

    def security_groups(self, account, region, ids):
        """``[{"GroupId", "VpcId", "GroupName"}]`` for ``ids``, in their order; raises
        ``NotFound("security-group", unknown ids)``."""
        raise NotImplementedError

    def create_cluster_security_group(self, account, region, vpc_id, cluster_name, tags):
        """Create the security group EKS makes for a cluster in ``vpc_id`` and return its id.

        As EKS makes it: named ``eks-cluster-sg-<cluster name>-<10 digits>``, described "EKS
        created security group applied to ENI that is attached to EKS Control Plane master
        nodes, as well as any managed workloads.", tagged with the cluster's ``tags`` plus
        ``aws:eks:cluster-name: <name>`` and ``kubernetes.io/cluster/<name>: owned``, with a
        rule admitting all traffic from itself."""
        raise NotImplementedError

    def delete_security_group(self, account, region, group_id):
        """Delete a group made by :meth:`create_cluster_security_group` (gone already: no error)."""
        raise NotImplementedError

    def role(self, account, role_arn):
        """``{"Arn", "AssumeRolePolicyDocument": dict, "AttachedPolicyArns": [...]}`` of the IAM
        role ``role_arn`` (of whichever account it names), or None when it does not exist."""
        raise NotImplementedError

    def role_usable(self, account, role_arn):
        """False while a just-created role has not propagated through IAM yet (AWS's eventual
        consistency), True otherwise."""
        raise NotImplementedError

    def user(self, account, user_arn):
        """``{"Arn"}`` of the IAM user ``user_arn``, or None when it does not exist."""
        raise NotImplementedError

    def kms_key(self, account, region, key_arn):
        """``{"Arn", "KeyState", "KeySpec", "KeyUsage"}`` of a KMS key given by key ARN or alias
        ARN, or None when there is none. ``Arn`` is the key's ARN."""
        raise NotImplementedError

    def kube_endpoint(self):
        """``(url, certificate_authority_data_base64)`` of the local Kubernetes control plane
        standing in for every cluster, or None when none runs (each cluster then gets an
        invented endpoint and CA, as AWS would give)."""
        raise NotImplementedError


def real_seconds(kind):
    """Real-AWS seconds of a :data:`DURATIONS` kind."""
    return DURATIONS[kind][0]


# ---------------------------------------------------------------------------------------------
# Errors and input checks


class EksError(Exception):
    """An error answer: code (an error shape of the EKS model), message, extra members."""

    def __init__(self, code, message, **members):
        super().__init__(message)
        self.code = code
        self.message = message
        self.members = {k: v for k, v in members.items() if v is not None}


def _invalid(message, **members):
    return EksError("InvalidParameterException", message, **members)


def _request(message, **members):
    return EksError("InvalidRequestException", message, **members)


def _in_use(message, **members):
    return EksError("ResourceInUseException", message, **members)


def _not_found(message, **members):
    return EksError("ResourceNotFoundException", message, **members)


def _unsupported(operation, member):
    return EksError("InvalidRequestException",
                    "%s: %s is not implemented by the local EKS service" % (operation, member))


def _check_input(shape, value, path, errors):
    """Collect constraint violations of ``value`` against ``shape`` (Coral's wording)."""
    if value is None:
        return
    kind = shape.type_name
    meta = shape.metadata
    where = path or shape.name
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append("Value at '%s' failed to satisfy constraint: Member must be a structure" % where)
            return
        for member in shape.required_members:
            if value.get(member) is None:
                errors.append("Value null at '%s' failed to satisfy constraint: Member must not be null"
                              % (path + "." + member if path else member))
        for member, item in value.items():
            if member not in shape.members:
                errors.append("Unknown member '%s' at '%s'" % (member, where))
                continue
            _check_input(shape.members[member], item, path + "." + member if path else member, errors)
        return
    if kind == "list":
        if not isinstance(value, list):
            errors.append("Value at '%s' failed to satisfy constraint: Member must be a list" % where)
            return
        _check_length(meta, len(value), value, where, errors)
        for index, item in enumerate(value):
            _check_input(shape.member, item, "%s.%d.member" % (where, index + 1), errors)
        return
    if kind == "map":
        if not isinstance(value, dict):
            errors.append("Value at '%s' failed to satisfy constraint: Member must be a map" % where)
            return
        _check_length(meta, len(value), value, where, errors)
        for key, item in value.items():
            _check_input(shape.key, key, "%s.key" % where, errors)
            _check_input(shape.value, item, "%s.%s" % (where, key), errors)
        return
    if kind == "string":
        if not isinstance(value, str):
            errors.append("Value at '%s' failed to satisfy constraint: Member must be a string" % where)
            return
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: "
                          "[%s]" % (value, where, ", ".join(enum)))
        _check_length(meta, len(value), value, where, errors, what="length")
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append("Value at '%s' failed to satisfy constraint: Member must be an integer" % where)
            return
        if meta.get("min") is not None and value < meta["min"]:
            errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must have value greater than "
                          "or equal to %s" % (value, where, meta["min"]))
        if meta.get("max") is not None and value > meta["max"]:
            errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must have value less than or "
                          "equal to %s" % (value, where, meta["max"]))
        return
    if kind == "boolean" and not isinstance(value, bool):
        errors.append("Value at '%s' failed to satisfy constraint: Member must be a boolean" % where)


def _check_length(meta, size, value, where, errors, what="length"):
    shown = value if isinstance(value, str) else None
    if meta.get("min") is not None and size < meta["min"]:
        errors.append("Value %sat '%s' failed to satisfy constraint: Member must have %s greater than or equal to %s"
                      % ("'%s' " % shown if shown is not None else "", where, what, meta["min"]))
    if meta.get("max") is not None and size > meta["max"]:
        errors.append("Value %sat '%s' failed to satisfy constraint: Member must have %s less than or equal to %s"
                      % ("'%s' " % shown if shown is not None else "", where, what, meta["max"]))


def validate_input(operation_model, params):
    """Raise InvalidParameterException when ``params`` break ``operation_model``'s input shape."""
    shape = operation_model.input_shape
    if shape is None:
        return
    errors = []
    _check_input(shape, params, "", errors)
    if errors:
        count = len(errors)
        raise _invalid("%d validation error%s detected: %s" % (count, "" if count == 1 else "s", "; ".join(errors)))


def _serialize(shape, value):
    """A value in the wire form of rest-json (member names per locationName)."""
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for member, item in value.items():
            if item is None or member not in shape.members:
                continue
            member_shape = shape.members[member]
            out[member_shape.serialization.get("name", member)] = _serialize(member_shape, item)
        return out
    if kind == "list":
        return [_serialize(shape.member, item) for item in value]
    if kind == "map":
        return {key: _serialize(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        return round(float(value), 3)
    return value


# ---------------------------------------------------------------------------------------------
# Small helpers


def _association_id():
    return "a-" + "".join(secrets.choice(_ALNUM) for _ in range(17))


def _hex_id():
    return secrets.token_hex(16).upper()


def _invented_ca():
    body = base64.b64encode(secrets.token_bytes(540)).decode()
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    pem = "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % lines
    return base64.b64encode(pem.encode()).decode()


def _trusts(document, service):
    """Whether a trust policy lets ``service`` call sts:AssumeRole (Allow, and no Deny)."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return False
    statements = (document or {}).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        principal = statement.get("Principal") or {}
        services = principal.get("Service") if isinstance(principal, dict) else None
        if isinstance(services, str):
            services = [services]
        if principal != "*" and service not in (services or []):
            continue
        actions = statement.get("Action") or []
        if isinstance(actions, str):
            actions = [actions]
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _policy_name(arn):
    return (arn or "").rsplit("/", 1)[-1]


def _version_key(text):
    numbers = re.findall(r"\d+", text or "")
    return tuple(int(n) for n in numbers)


def _minor(version):
    try:
        major, minor = version.split(".")
        return int(major), int(minor)
    except (AttributeError, ValueError):
        return None


def _logging_setups(enabled):
    on = [t for t in LOG_TYPES if t in enabled]
    off = [t for t in LOG_TYPES if t not in enabled]
    setups = []
    if on:
        setups.append({"types": on, "enabled": True})
    if off:
        setups.append({"types": off, "enabled": False})
    return setups


def _compact(value):
    return json.dumps(value, separators=(",", ":"))


def _parse_configuration(text):
    """Add-on configuration values as a mapping (JSON or YAML); raises ValueError."""
    try:
        value = json.loads(text)
    except ValueError:
        import yaml  # PyYAML comes with ansible-core

        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError("Invalid JSON or YAML: %s" % str(exc).splitlines()[0]) from exc
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ValueError("Json schema validation failed with error: [$: %s found, object expected]"
                         % type(value).__name__)
    return value


# ---------------------------------------------------------------------------------------------
# The service


class _Region:
    """The EKS state of one account in one region."""

    def __init__(self):
        self.clusters = {}


class LocalEks(core.Behaviour):
    """The local EKS service (always on: ``name`` is empty). See the module docstring."""

    name = ""

    def __init__(self, strict, env):
        super().__init__(strict)
        self.env = env
        self.lock = threading.RLock()
        self.state = {}
        self._model = None

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def model(self):
        if self._model is None:
            self._model = protocol.MODELS.service("eks")
        return self._model

    def _region(self, account, region):
        return self.state.setdefault((account, region), _Region())

    def before(self, call):
        if call.service != "eks":
            return None
        operation = call.operation
        handler = getattr(self, "_op_" + _snake(operation or ""), None) if operation else None
        if handler is None:
            return self._error(call, EksError(
                "UnknownOperationException",
                "Operation %s is not implemented by the local EKS service" % (operation or call.method + " " + call.path)))
        try:
            params = call.params
        except protocol.ProtocolError as exc:
            return self._error(call, EksError("SerializationException", str(exc)))
        op_model = self.model.operation_model(operation)
        try:
            validate_input(op_model, params)
            with self.lock:
                self._settle_all(call.account, call.region)
                result = handler(call, params)
        except EksError as exc:
            return self._error(call, self._named(params, self._declared(op_model, exc)))
        body = json.dumps(_serialize(op_model.output_shape, result or {})).encode()
        return core.Answer(200, [("Content-Type", "application/json"),
                                 ("x-amzn-RequestId", str(uuid.uuid4()))], body)

    @staticmethod
    def _declared(op_model, exc):
        """``exc`` with a client-error code the operation's model declares: EKS answers a bad
        request with whichever of these codes the operation has."""
        declared = [shape.name for shape in op_model.error_shapes]
        if exc.code in VALIDATION_CODES and exc.code not in declared:
            for code in VALIDATION_CODES:
                if code in declared:
                    exc.code = code
                    break
        return exc

    def _named(self, params, exc):
        """``exc`` with the names of the request's cluster, node group and add-on, as EKS's error
        answers carry them (where the error shape has the member)."""
        try:
            members = self.model.shape_for(exc.code).members
        except Exception:  # noqa: BLE001 - a code the model does not declare
            return exc
        names = {"clusterName": params.get("clusterName") or params.get("name"),
                 "nodegroupName": params.get("nodegroupName"), "addonName": params.get("addonName")}
        for member, value in names.items():
            if member in members and value and member not in exc.members:
                exc.members[member] = value
        return exc

    def _error(self, call, exc):
        status = 400
        try:
            status = self.model.shape_for(exc.code).metadata.get("error", {}).get("httpStatusCode", 400)
        except Exception:  # noqa: BLE001 - a code the model does not declare
            status = 400
        status, headers, body = wire.error_response(call.kind or "rest-json", status, exc.code, exc.message, call.model)
        if exc.members:
            payload = json.loads(body.decode())
            payload.update(exc.members)
            body = json.dumps(payload).encode()
        return core.Answer(status, headers, body)

    def _now(self):
        return float(self.env.now())

    def _until(self, kind):
        return self._now() + max(0.0, float(self.env.duration(kind)))

    # -- lazy transitions --------------------------------------------------------------------

    def _settle_all(self, account, region):
        state = self.state.get((account, region))
        if state is None:
            return
        now = self._now()
        for name in list(state.clusters):
            self._settle_cluster(account, region, state, state.clusters[name], now)

    def _settle_cluster(self, account, region, state, cluster, now):
        pub = cluster["pub"]
        if pub["status"] == "CREATING" and now >= cluster["until"]:
            self._activate_cluster(cluster)
        for update in cluster["updates"]:
            if update["status"] == "InProgress" and now >= update["until"]:
                self._finish_update(cluster, update, now)
        for name in list(cluster["nodegroups"]):
            group = cluster["nodegroups"][name]
            status = group["pub"]["status"]
            if status == "CREATING" and now >= group["until"]:
                group["pub"]["status"] = "ACTIVE"
                group["pub"]["modifiedAt"] = group["until"]
                group["pub"]["resources"] = {"autoScalingGroups": [{"name": "eks-%s-%s" % (name, group["uuid"])}]}
            elif status == "DELETING" and now >= group["until"]:
                del cluster["nodegroups"][name]
        for name in list(cluster["addons"]):
            addon = cluster["addons"][name]
            status = addon["pub"]["status"]
            if status == "CREATING" and now >= addon["until"]:
                addon["pub"]["modifiedAt"] = addon["until"]
                if addon.get("conflict"):
                    addon["pub"]["status"] = "CREATE_FAILED"
                    addon["pub"]["health"] = {"issues": [{
                        "code": "ConfigurationConflict",
                        "message": "Conflicts found when trying to apply. Will not continue due to resolve conflicts "
                                   "mode. Conflicts:\n%s" % addon["conflict"],
                        "resourceIds": [addon["conflict"]]}]}
                else:
                    addon["pub"]["status"] = "ACTIVE"
            elif status == "DELETING" and now >= addon["until"]:
                self._drop_addon(cluster, name)
        if pub["status"] == "DELETING" and now >= cluster["until"]:
            group_id = pub["resourcesVpcConfig"].get("clusterSecurityGroupId") or cluster.get("security_group")
            del state.clusters[pub["name"]]
            if group_id:
                self.env.delete_security_group(account, region, group_id)

    def _activate_cluster(self, cluster):
        pub = cluster["pub"]
        pub["status"] = "ACTIVE"
        endpoint = self.env.kube_endpoint()
        if endpoint:
            url, ca = endpoint
        else:
            url, ca = "https://%s.gr7.%s.eks.amazonaws.com" % (cluster["hex"], cluster["region"]), _invented_ca()
        pub["endpoint"] = url
        pub["certificateAuthority"] = {"data": ca}
        pub["identity"] = {"oidc": {"issuer": "https://oidc.eks.%s.amazonaws.com/id/%s" % (cluster["region"], cluster["hex"])}}
        pub["resourcesVpcConfig"]["clusterSecurityGroupId"] = cluster["security_group"]

    def _finish_update(self, cluster, update, now):
        update["status"] = "Successful"
        apply = update.pop("apply", None)
        if apply is not None:
            apply()
        target = update.get("target")
        if target is None:
            if cluster["pub"]["status"] == "UPDATING" and not self._cluster_update(cluster):
                cluster["pub"]["status"] = "ACTIVE"
            return
        kind, name = target
        resource = cluster["nodegroups" if kind == "nodegroup" else "addons"].get(name)
        if resource is not None:
            resource["pub"]["modifiedAt"] = update["until"]
            if resource["pub"]["status"] == "UPDATING":
                resource["pub"]["status"] = "ACTIVE"

    @staticmethod
    def _cluster_update(cluster, target=None):
        for update in cluster["updates"]:
            if update["status"] == "InProgress" and update.get("target") == target:
                return update
        return None

    # -- lookups -----------------------------------------------------------------------------

    def _cluster(self, call, name):
        cluster = self._region(call.account, call.region).clusters.get(name)
        if cluster is None:
            raise _not_found("No cluster found for name: %s." % name, clusterName=name)
        return cluster

    def _usable_cluster(self, call, name):
        """A cluster sub-resources can be made in (ACTIVE or UPDATING)."""
        cluster = self._cluster(call, name)
        if cluster["pub"]["status"] not in ("ACTIVE", "UPDATING"):
            raise _request("Cluster '%s' is not in ACTIVE status" % name, clusterName=name)  # (unconfirmed)
        return cluster

    def _nodegroup(self, cluster, name):
        group = cluster["nodegroups"].get(name)
        if group is None:
            raise _not_found("No node group found for name: %s." % name,
                             clusterName=cluster["pub"]["name"], nodegroupName=name)
        return group

    def _addon(self, cluster, name):
        addon = cluster["addons"].get(name)
        if addon is None:
            raise _not_found("No addon: %s found in cluster: %s" % (name, cluster["pub"]["name"]),
                             clusterName=cluster["pub"]["name"], addonName=name)
        return addon

    def _entries_open(self, cluster):
        if cluster["pub"]["accessConfig"]["authenticationMode"] == "CONFIG_MAP":
            raise _request("The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to "
                           "perform this operation.")

    def _entry(self, cluster, principal_arn):
        self._entries_open(cluster)
        entry = cluster["entries"].get(principal_arn)
        if entry is None:
            raise _not_found("The specified principalArn could not be found. You can view your available access "
                             "entries with 'list-access-entries'.")
        return entry

    def _arn(self, call, resource):
        return "arn:%s:eks:%s:%s:%s" % (call.partition, call.region, call.account, resource)

    def _check_role(self, call, role_arn, service):
        role = self.env.role(call.account, role_arn) if _ROLE_ARN_RE.match(role_arn or "") else None
        if role is None or not _trusts(role.get("AssumeRolePolicyDocument"), service) \
                or not self.env.role_usable(call.account, role_arn):
            raise _invalid("Role with arn: %s, could not be assumed because it does not exist or the trusted "
                           "entity is not correct" % role_arn)
        return role

    def _existing_role(self, call, role_arn, member):
        if not _ROLE_ARN_RE.match(role_arn or "") or self.env.role(call.account, role_arn) is None:
            raise _invalid("The %s %s does not exist" % (member, role_arn))  # (unconfirmed)

    def _subnets(self, call, ids):
        try:
            return self.env.subnets(call.account, call.region, list(ids))
        except NotFound as exc:
            raise _invalid("The subnet ID '%s' does not exist (Service: AmazonEC2; Status Code: 400; Error Code: "
                           "InvalidSubnetID.NotFound; Request ID: %s; Proxy: null)" % (exc.ids[0], uuid.uuid4())) from exc

    def _security_groups(self, call, ids, vpc_id):
        if not ids:
            return []
        if len(ids) > 5:
            raise _invalid("The maximum number of security groups is 5")  # (unconfirmed)
        try:
            groups = self.env.security_groups(call.account, call.region, list(ids))
        except NotFound as exc:
            raise _invalid("The security group '%s' does not exist (Service: AmazonEC2; Status Code: 400; Error Code: "
                           "InvalidGroup.NotFound; Request ID: %s; Proxy: null)" % (exc.ids[0], uuid.uuid4())) from exc
        other = [g["GroupId"] for g in groups if g.get("VpcId") != vpc_id]
        if other:
            raise _invalid("Security group(s) [%s] are not in the same VPC as the subnets"  # (unconfirmed)
                           % ", ".join(other))
        return groups

    def _paginate(self, items, params, operation):
        size = params.get("maxResults") or 100
        start = 0
        token = params.get("nextToken")
        if token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
                start, op = int(decoded["o"]), decoded["op"]
            except (ValueError, KeyError, TypeError) as exc:
                raise _invalid("The nextToken provided is invalid") from exc
            if op != operation or start < 0:
                raise _invalid("The nextToken provided is invalid")
        page = items[start:start + size]
        nxt = None
        if start + size < len(items):
            nxt = base64.urlsafe_b64encode(json.dumps({"o": start + size, "op": operation}).encode()).decode()
        return page, nxt

    # -- updates -----------------------------------------------------------------------------

    def _start_update(self, cluster, kind, update_type, params, apply, token, target=None):
        """Record an update InProgress for ``kind``'s duration; ``apply()`` runs when it ends."""
        if token:
            for update in cluster["updates"]:
                if update.get("token") == token and update.get("target") == target:
                    return update
        update = {"id": str(uuid.uuid4()), "status": "InProgress", "type": update_type,
                  "params": [{"type": t, "value": v} for t, v in params], "createdAt": self._now(),
                  "errors": [], "until": self._until(kind), "apply": apply, "token": token, "target": target}
        cluster["updates"].append(update)
        return update

    @staticmethod
    def _update_view(update):
        return {k: copy.deepcopy(update[k]) for k in ("id", "status", "type", "params", "createdAt", "errors")}

    def _cluster_busy(self, cluster, update_type):
        pub = cluster["pub"]
        running = self._cluster_update(cluster)
        if running is not None:
            raise _in_use("Cannot %s because cluster %s currently has update %s in progress"
                          % (update_type, pub["name"], running["id"]), clusterName=pub["name"])
        if pub["status"] != "ACTIVE":
            raise _in_use("Cannot %s because cluster %s is in %s status" % (update_type, pub["name"], pub["status"]),
                          clusterName=pub["name"])  # (unconfirmed)

    def _token_update(self, cluster, token, target=None):
        if not token:
            return None
        for update in cluster["updates"]:
            if update.get("token") == token and update.get("target") == target:
                return update
        return None

    # =========================================================================================
    # Clusters

    def _op_create_cluster(self, call, params):
        name = params["name"]
        for member in ("outpostConfig", "remoteNetworkConfig", "computeConfig", "storageConfig", "zonalShiftConfig",
                       "controlPlaneScalingConfig", "kubeApiServerConfig", "kubeSchedulerConfig",
                       "kubeControllerManagerConfig", "deletionProtection"):
            if member in params:
                raise _unsupported("CreateCluster", member)
        if not _NAME_RE.match(name):
            raise _invalid("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member "
                           "must satisfy regular expression pattern: ^[0-9A-Za-z][A-Za-z0-9\\-_]*" % name)
        version = params.get("version") or DEFAULT_VERSION
        if version not in KUBERNETES_VERSIONS:
            raise _invalid("unsupported Kubernetes version", clusterName=name)
        state = self._region(call.account, call.region)
        existing = state.clusters.get(name)
        if existing is not None:
            token = params.get("clientRequestToken")
            if token and existing["pub"].get("clientRequestToken") == token:
                return {"cluster": self._cluster_view(existing)}
            raise _in_use("Cluster already exists with name: %s" % name, clusterName=name)
        if len(state.clusters) >= MAX_CLUSTERS:
            raise EksError("ResourceLimitExceededException", "Cluster limit exceeded for account.",  # (unconfirmed)
                           clusterName=name)
        self._check_role(call, params["roleArn"], "eks.amazonaws.com")
        vpc_request = params["resourcesVpcConfig"]
        if "controlPlaneEgressMode" in vpc_request:
            raise _unsupported("CreateCluster", "resourcesVpcConfig.controlPlaneEgressMode")
        subnet_ids = list(vpc_request.get("subnetIds") or [])
        if not subnet_ids:
            raise _invalid("Subnets specified must be in at least two different AZs", clusterName=name)
        subnets = self._subnets(call, subnet_ids)
        vpc_ids = sorted({s["VpcId"] for s in subnets})
        if len(vpc_ids) > 1:
            raise _invalid("Subnets specified must belong to the same VPC", clusterName=name)  # (unconfirmed)
        if len({s["AvailabilityZoneId"] for s in subnets}) < 2:
            raise _invalid("Subnets specified must be in at least two different AZs", clusterName=name)
        refused = UNSUPPORTED_ZONE_IDS.get(call.region, ())
        bad = [s for s in subnets if s["AvailabilityZoneId"] in refused]
        if bad:
            zones = self.env.availability_zones(call.account, call.region)
            valid = sorted(z["ZoneName"] for z in zones if z["ZoneId"] not in refused)
            raise EksError(
                "UnsupportedAvailabilityZoneException",
                "Cannot create cluster '%s' because %s, the targeted availability zone, does not currently have "
                "sufficient capacity to support the cluster. Retry and choose from these availability zones: %s"
                % (name, bad[0]["AvailabilityZone"], ", ".join(valid)),
                clusterName=name, validZones=valid)
        vpc_id = vpc_ids[0]
        group_ids = list(vpc_request.get("securityGroupIds") or [])
        self._security_groups(call, group_ids, vpc_id)
        public = vpc_request.get("endpointPublicAccess")
        public = True if public is None else public
        private = bool(vpc_request.get("endpointPrivateAccess"))
        if not public and not private:
            raise _invalid("Private and public endpoint access cannot both be disabled",  # (unconfirmed)
                           clusterName=name)
        cidrs = vpc_request.get("publicAccessCidrs")
        if cidrs is None:
            cidrs = ["0.0.0.0/0"] if public else []
        self._check_cidrs(cidrs)
        encryption = params.get("encryptionConfig")
        if encryption:
            encryption = self._encryption(call, encryption, name)
        access = params.get("accessConfig") or {}
        mode = access.get("authenticationMode") or "CONFIG_MAP"
        bootstrap = access.get("bootstrapClusterCreatorAdminPermissions")
        bootstrap = True if bootstrap is None else bootstrap
        if mode == "CONFIG_MAP" and not bootstrap:
            raise _invalid("bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is "
                           "set to CONFIG_MAP", clusterName=name)
        network = self._network_config(params.get("kubernetesNetworkConfig") or {}, subnets)
        logging = self._logging(set(), params.get("logging"))
        tags = dict(params.get("tags") or {})
        self._check_tags(tags)
        security_group = self.env.create_cluster_security_group(
            call.account, call.region, vpc_id, name, dict(tags))
        now = self._now()
        pub = {
            "name": name,
            "arn": self._arn(call, "cluster/%s" % name),
            "createdAt": now,
            "version": version,
            "roleArn": params["roleArn"],
            "resourcesVpcConfig": {
                "subnetIds": subnet_ids, "securityGroupIds": group_ids, "vpcId": vpc_id,
                "endpointPublicAccess": public, "endpointPrivateAccess": private, "publicAccessCidrs": list(cidrs),
            },
            "kubernetesNetworkConfig": network,
            "logging": {"clusterLogging": logging},
            "status": "CREATING",
            "certificateAuthority": {},
            "platformVersion": KUBERNETES_VERSIONS[version]["platform"],
            "tags": tags,
            "health": {"issues": []},
            "accessConfig": {"bootstrapClusterCreatorAdminPermissions": bootstrap, "authenticationMode": mode},
            "upgradePolicy": {"supportType": (params.get("upgradePolicy") or {}).get("supportType") or "EXTENDED"},
        }
        if encryption:
            pub["encryptionConfig"] = encryption
        if params.get("clientRequestToken"):
            pub["clientRequestToken"] = params["clientRequestToken"]
        cluster = {"pub": pub, "until": self._until("cluster_create"), "region": call.region, "account": call.account,
                   "partition": call.partition, "hex": _hex_id(), "security_group": security_group, "updates": [],
                   "nodegroups": {}, "addons": {}, "entries": {}, "associations": {},
                   "self_managed": params.get("bootstrapSelfManagedAddons") is not False}
        state.clusters[name] = cluster
        if bootstrap:
            creator = self._creator_arn(call)
            if creator:
                entry = self._new_entry(call, cluster, creator, "STANDARD", None, [], {})
                entry["policies"][self._policy_arn(call.partition, CLUSTER_ADMIN_POLICY)] = {
                    "accessScope": {"type": "cluster", "namespaces": []}, "associatedAt": now, "modifiedAt": now}
                entry["creator"] = True
        return {"cluster": self._cluster_view(cluster)}

    @staticmethod
    def _creator_arn(call):
        principal = call.principal
        if principal is None:
            return None
        if principal.kind == "assumed-role" and principal.role_arn:
            return principal.role_arn
        return principal.arn

    @staticmethod
    def _check_cidrs(cidrs):
        for cidr in cidrs:
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                raise _invalid("The following CIDRs are invalid in publicAccessCidrs: [%s]"  # (unconfirmed)
                               % cidr) from exc
            if network.version != 4:
                raise _invalid("The following CIDRs are invalid in publicAccessCidrs: [%s]" % cidr)

    def _encryption(self, call, encryption, name):
        entry = encryption[0]
        resources = entry.get("resources") or []
        if resources != ["secrets"]:
            raise _invalid("Encryption resources must be [secrets]", clusterName=name)  # (unconfirmed)
        key_arn = (entry.get("provider") or {}).get("keyArn")
        key = self.env.kms_key(call.account, call.region, key_arn) if key_arn else None
        if key is None:
            raise _invalid("KMS key %s does not exist" % key_arn, clusterName=name)  # (unconfirmed)
        if key.get("KeyState", "Enabled") != "Enabled" or key.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
            raise _invalid("KMS key %s must be an enabled symmetric encryption key" % key_arn,  # (unconfirmed)
                           clusterName=name)
        return [{"resources": ["secrets"], "provider": {"keyArn": key_arn}}]

    @staticmethod
    def _network_config(request, subnets):
        for member in ("elasticLoadBalancing",):
            if member in request:
                raise _unsupported("CreateCluster", "kubernetesNetworkConfig.%s" % member)
        family = request.get("ipFamily") or "ipv4"
        if family == "ipv6":
            return {"serviceIpv6Cidr": "fd%02x:%04x:%04x::/108" % (secrets.randbelow(256), secrets.randbelow(65536),
                                                                   secrets.randbelow(65536)), "ipFamily": "ipv6"}
        cidr = request.get("serviceIpv4Cidr")
        if cidr is None:
            ten = ipaddress.ip_network("10.0.0.0/8")
            in_ten = any(s.get("CidrBlock") and ipaddress.ip_network(s["CidrBlock"], strict=False).subnet_of(ten)
                         for s in subnets)
            cidr = "172.20.0.0/16" if in_ten else "10.100.0.0/16"
        else:
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                raise _invalid("serviceIpv4Cidr %s is not a valid CIDR block" % cidr) from exc  # (unconfirmed)
            if not network.is_private or not 12 <= network.prefixlen <= 24:
                raise _invalid("serviceIpv4Cidr must be a private block between /12 and /24")  # (unconfirmed)
        return {"serviceIpv4Cidr": cidr, "ipFamily": "ipv4"}

    @staticmethod
    def _enabled_logs(cluster):
        enabled = set()
        for setup in cluster["pub"]["logging"]["clusterLogging"]:
            if setup.get("enabled"):
                enabled.update(setup.get("types") or [])
        return enabled

    @staticmethod
    def _logging(enabled, request):
        enabled = set(enabled)
        for setup in (request or {}).get("clusterLogging") or []:
            for log_type in setup.get("types") or []:
                if setup.get("enabled"):
                    enabled.add(log_type)
                else:
                    enabled.discard(log_type)
        return _logging_setups(enabled)

    def _cluster_view(self, cluster):
        pub = copy.deepcopy(cluster["pub"])
        if pub["status"] in ("CREATING",):
            pub["resourcesVpcConfig"].pop("clusterSecurityGroupId", None)
        return pub

    def _op_describe_cluster(self, call, params):
        return {"cluster": self._cluster_view(self._cluster(call, params["name"]))}

    def _op_list_clusters(self, call, params):
        names = sorted(self._region(call.account, call.region).clusters)
        page, nxt = self._paginate(names, params, "ListClusters")
        return {"clusters": page, "nextToken": nxt}

    def _op_delete_cluster(self, call, params):
        cluster = self._cluster(call, params["name"])
        pub = cluster["pub"]
        if pub["status"] == "DELETING":
            return {"cluster": self._cluster_view(cluster)}
        if cluster["nodegroups"]:
            raise _in_use("Cluster has nodegroups attached", clusterName=pub["name"],
                          nodegroupName=sorted(cluster["nodegroups"])[0])
        running = self._cluster_update(cluster)
        if running is not None:
            raise _in_use("Cannot delete because cluster %s currently has update %s in progress"
                          % (pub["name"], running["id"]), clusterName=pub["name"])
        pub["status"] = "DELETING"
        cluster["until"] = self._until("cluster_delete")
        for name, addon in cluster["addons"].items():
            addon["pub"]["status"] = "DELETING"
        return {"cluster": self._cluster_view(cluster)}

    # -- cluster updates ---------------------------------------------------------------------

    def _op_update_cluster_config(self, call, params):
        cluster = self._cluster(call, params["name"])
        pub = cluster["pub"]
        name = pub["name"]
        for member in ("zonalShiftConfig", "computeConfig", "kubernetesNetworkConfig", "storageConfig",
                       "remoteNetworkConfig", "deletionProtection", "controlPlaneScalingConfig", "kubeApiServerConfig",
                       "kubeSchedulerConfig", "kubeControllerManagerConfig"):
            if member in params:
                raise _unsupported("UpdateClusterConfig", member)
        kinds = []
        vpc = params.get("resourcesVpcConfig") or {}
        if "controlPlaneEgressMode" in vpc:
            raise _unsupported("UpdateClusterConfig", "resourcesVpcConfig.controlPlaneEgressMode")
        endpoint_members = {"endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs"} & set(vpc)
        network_members = {"subnetIds", "securityGroupIds"} & set(vpc)
        if endpoint_members:
            kinds.append("EndpointAccessUpdate")
        if network_members:
            kinds.append("VpcConfigUpdate")
        if "logging" in params:
            kinds.append("LoggingUpdate")
        if "accessConfig" in params:
            kinds.append("AccessConfigUpdate")
        if "upgradePolicy" in params:
            kinds.append("UpgradePolicyUpdate")
        if not kinds:
            raise _invalid("The type for cluster update was not provided.", clusterName=name)  # (unconfirmed)
        if len(kinds) > 1:
            raise _invalid("Only one type of update can be allowed.", clusterName=name)
        kind = kinds[0]
        existing = self._token_update(cluster, params.get("clientRequestToken"))
        if existing is not None:
            return {"update": self._update_view(existing)}
        self._cluster_busy(cluster, kind)
        current = pub["resourcesVpcConfig"]
        if kind == "EndpointAccessUpdate":
            public = vpc.get("endpointPublicAccess", current["endpointPublicAccess"])
            private = vpc.get("endpointPrivateAccess", current["endpointPrivateAccess"])
            cidrs = vpc.get("publicAccessCidrs")
            if cidrs is None:
                cidrs = current["publicAccessCidrs"] or (["0.0.0.0/0"] if public else [])
            self._check_cidrs(cidrs)
            if not public and not private:
                raise _invalid("Private and public endpoint access cannot both be disabled",  # (unconfirmed)
                               clusterName=name)
            if (public, private, sorted(cidrs)) == (current["endpointPublicAccess"], current["endpointPrivateAccess"],
                                                    sorted(current["publicAccessCidrs"])):
                raise _invalid("Cluster is already at the desired configuration with endpointPrivateAccess: %s , "
                               "endpointPublicAccess: %s, and Public Endpoint Restrictions: %s"  # (unconfirmed)
                               % (str(private).lower(), str(public).lower(), ", ".join(cidrs)), clusterName=name)
            update_params = [("EndpointPublicAccess", str(public).lower()), ("EndpointPrivateAccess", str(private).lower())]
            if "publicAccessCidrs" in vpc:
                update_params.append(("PublicAccessCidrs", _compact(list(cidrs))))

            def apply():
                current.update(endpointPublicAccess=public, endpointPrivateAccess=private, publicAccessCidrs=list(cidrs))
            duration = "cluster_config_update"
        elif kind == "VpcConfigUpdate":
            subnet_ids = list(vpc.get("subnetIds") or current["subnetIds"])
            subnets = self._subnets(call, subnet_ids)
            if any(s["VpcId"] != current["vpcId"] for s in subnets):
                raise _invalid("Subnets specified must belong to the cluster's VPC %s" % current["vpcId"],  # (unconfirmed)
                               clusterName=name)
            if len({s["AvailabilityZoneId"] for s in subnets}) < 2:
                raise _invalid("Subnets specified must be in at least two different AZs", clusterName=name)
            group_ids = list(vpc["securityGroupIds"]) if "securityGroupIds" in vpc else list(current["securityGroupIds"])
            self._security_groups(call, group_ids, current["vpcId"])
            update_params = []
            if "subnetIds" in vpc:
                update_params.append(("Subnets", _compact(subnet_ids)))
            if "securityGroupIds" in vpc:
                update_params.append(("SecurityGroups", _compact(group_ids)))

            def apply():
                current.update(subnetIds=subnet_ids, securityGroupIds=group_ids)
            duration = "cluster_config_update"
        elif kind == "LoggingUpdate":
            before = self._enabled_logs(cluster)
            setups = self._logging(before, params["logging"])
            after = {t for s in setups if s["enabled"] for t in s["types"]}
            if after == before:
                raise _invalid("No changes needed for the logging config provided", clusterName=name)
            update_params = [("ClusterLogging", _compact(params["logging"]["clusterLogging"]))]

            def apply():
                pub["logging"] = {"clusterLogging": setups}
            duration = "cluster_config_update"
        elif kind == "AccessConfigUpdate":
            mode = params["accessConfig"].get("authenticationMode")
            have = pub["accessConfig"]["authenticationMode"]
            if mode is None or AUTH_MODES.index(mode) != AUTH_MODES.index(have) + 1:
                raise _invalid("Unsupported authentication mode update from %s to %s" % (have, mode),  # (unconfirmed)
                               clusterName=name)
            update_params = [("AuthenticationMode", mode)]

            def apply():
                pub["accessConfig"]["authenticationMode"] = mode
                for group in cluster["nodegroups"].values():
                    self._node_entry(call, cluster, group["pub"]["nodeRole"], group["pub"].get("amiType"))
            duration = "cluster_config_update"
        else:
            support = params["upgradePolicy"].get("supportType")
            if support is None or support == pub["upgradePolicy"]["supportType"]:
                raise _invalid("Cluster is already in upgradePolicy %s" % pub["upgradePolicy"]["supportType"],  # (unconfirmed)
                               clusterName=name)
            update_params = [("UpgradePolicy", support)]

            def apply():
                pub["upgradePolicy"] = {"supportType": support}
            duration = "cluster_config_update"
        update = self._start_update(cluster, duration, kind, update_params, apply, params.get("clientRequestToken"))
        pub["status"] = "UPDATING"
        return {"update": self._update_view(update)}

    def _op_update_cluster_version(self, call, params):
        cluster = self._cluster(call, params["name"])
        pub = cluster["pub"]
        if "rollbackConfig" in params:
            raise _unsupported("UpdateClusterVersion", "rollbackConfig")
        existing = self._token_update(cluster, params.get("clientRequestToken"))
        if existing is not None:
            return {"update": self._update_view(existing)}
        self._cluster_busy(cluster, "VersionUpdate")
        version = params["version"]
        have, want = _minor(pub["version"]), _minor(version)
        if version not in KUBERNETES_VERSIONS or have is None or want != (have[0], have[1] + 1):
            raise _invalid("Unsupported Kubernetes minor version update from %s to %s" % (pub["version"], version),
                           clusterName=pub["name"])
        platform = KUBERNETES_VERSIONS[version]["platform"]

        def apply():
            pub["version"] = version
            pub["platformVersion"] = platform
        update = self._start_update(cluster, "cluster_version_update", "VersionUpdate",
                                    [("Version", version), ("PlatformVersion", platform)], apply,
                                    params.get("clientRequestToken"))
        pub["status"] = "UPDATING"
        return {"update": self._update_view(update)}

    def _op_associate_encryption_config(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        pub = cluster["pub"]
        existing = self._token_update(cluster, params.get("clientRequestToken"))
        if existing is not None:
            return {"update": self._update_view(existing)}
        if pub.get("encryptionConfig"):
            raise _request("Encryption is already enabled on the cluster", clusterName=pub["name"])  # (unconfirmed)
        self._cluster_busy(cluster, "AssociateEncryptionConfig")
        if not params["encryptionConfig"]:
            raise _invalid("encryptionConfig must not be empty", clusterName=pub["name"])  # (unconfirmed)
        encryption = self._encryption(call, params["encryptionConfig"], pub["name"])

        def apply():
            pub["encryptionConfig"] = encryption
        update = self._start_update(cluster, "cluster_encryption", "AssociateEncryptionConfig",
                                    [("EncryptionConfig", _compact(encryption))], apply, params.get("clientRequestToken"))
        pub["status"] = "UPDATING"
        return {"update": self._update_view(update)}

    def _op_describe_update(self, call, params):
        cluster = self._cluster(call, params["name"])
        target = None
        if params.get("nodegroupName"):
            self._nodegroup(cluster, params["nodegroupName"])
            target = ("nodegroup", params["nodegroupName"])
        elif params.get("addonName"):
            self._addon(cluster, params["addonName"])
            target = ("addon", params["addonName"])
        for update in cluster["updates"]:
            if update["id"] == params["updateId"] and update.get("target") == target:
                return {"update": self._update_view(update)}
        raise _not_found("No update found for ID: %s" % params["updateId"],  # (unconfirmed)
                         clusterName=cluster["pub"]["name"], nodegroupName=params.get("nodegroupName"),
                         addonName=params.get("addonName"))

    def _op_list_updates(self, call, params):
        cluster = self._cluster(call, params["name"])
        target = None
        if params.get("nodegroupName"):
            self._nodegroup(cluster, params["nodegroupName"])
            target = ("nodegroup", params["nodegroupName"])
        elif params.get("addonName"):
            self._addon(cluster, params["addonName"])
            target = ("addon", params["addonName"])
        ids = [u["id"] for u in cluster["updates"] if u.get("target") == target]
        page, nxt = self._paginate(ids, params, "ListUpdates")
        return {"updateIds": page, "nextToken": nxt}

    # =========================================================================================
    # Node groups

    def _release_version(self, version, ami_type):
        info = KUBERNETES_VERSIONS[version]
        if ami_type == "CUSTOM":
            return None
        if ami_type.startswith("BOTTLEROCKET"):
            return info["bottlerocket"]
        return "%s-%s" % (info["patch"], info["ami"])

    def _check_node_role(self, call, role_arn):
        role = self.env.role(call.account, role_arn) if _ROLE_ARN_RE.match(role_arn or "") else None
        if role is None or not self.env.role_usable(call.account, role_arn):
            raise _invalid("Role with arn: %s, could not be assumed because it does not exist or the trusted entity "
                           "is not correct" % role_arn)
        if not _trusts(role.get("AssumeRolePolicyDocument"), "ec2.amazonaws.com"):
            raise _invalid("Following required service principals [ec2.amazonaws.com] were not found in the trust "
                           "relationships of nodeRole %s" % role_arn)  # (unconfirmed)
        attached = {_policy_name(p) for p in role.get("AttachedPolicyArns") or []}
        missing = [names[0] for names in NODE_ROLE_POLICIES if not attached & set(names)]
        if missing:
            partition = _ROLE_ARN_RE.match(role_arn).group(1)
            raise _invalid("The provided role doesn't have the Amazon EKS Managed Policies associated with it. Please "
                           "ensure the following policies [%s] are attached"  # (unconfirmed)
                           % ", ".join("arn:%s:iam::aws:policy/%s" % (partition, n) for n in missing))

    @staticmethod
    def _check_scaling(scaling, name, cluster_name):
        low, high, desired = scaling.get("minSize"), scaling.get("maxSize"), scaling.get("desiredSize")
        if low is not None and desired is not None and low > desired:
            raise _invalid("Minimum capacity %d can't be greater than desired size %d" % (low, desired),
                           clusterName=cluster_name, nodegroupName=name)
        if desired is not None and high is not None and desired > high:
            raise _invalid("Desired capacity %d can't be greater than max size %d" % (desired, high),
                           clusterName=cluster_name, nodegroupName=name)
        if low is not None and high is not None and low > high:
            raise _invalid("Minimum capacity %d can't be greater than max size %d" % (low, high),
                           clusterName=cluster_name, nodegroupName=name)

    @staticmethod
    def _check_update_config(config, name, cluster_name):
        given = [k for k in ("maxUnavailable", "maxUnavailablePercentage") if config.get(k) is not None]
        if len(given) != 1:
            raise _invalid("Exactly one of maxUnavailable and maxUnavailablePercentage must be specified",  # (unconfirmed)
                           clusterName=cluster_name, nodegroupName=name)
        if config.get("maxUnavailable") is not None and config["maxUnavailable"] > 100:
            raise _invalid("maxUnavailable must be at most 100", clusterName=cluster_name,  # (unconfirmed)
                           nodegroupName=name)
        if "updateStrategy" in config:
            raise _unsupported("UpdateNodegroupConfig", "updateConfig.updateStrategy")

    def _op_create_nodegroup(self, call, params):
        cluster = self._usable_cluster(call, params["clusterName"])
        pub = cluster["pub"]
        cluster_name = pub["name"]
        name = params["nodegroupName"]
        for member in ("remoteAccess", "warmPoolConfig"):
            if member in params:
                raise _unsupported("CreateNodegroup", member)
        if not _NAME_RE.match(name) or len(name) > 63:
            raise _invalid("1 validation error detected: Value '%s' at 'nodegroupName' failed to satisfy constraint: "
                           "Member must satisfy regular expression pattern: ^[0-9A-Za-z][A-Za-z0-9\\-_]*" % name)
        existing = cluster["nodegroups"].get(name)
        if existing is not None:
            token = params.get("clientRequestToken")
            if token and existing.get("token") == token:
                return {"nodegroup": copy.deepcopy(existing["pub"])}
            raise _in_use("NodeGroup already exists with name %s and cluster name %s" % (name, cluster_name),
                          clusterName=cluster_name, nodegroupName=name)
        if len(cluster["nodegroups"]) >= MAX_NODEGROUPS:
            raise EksError("ResourceLimitExceededException", "Nodegroups limit exceeded for cluster %s" % cluster_name,
                           clusterName=cluster_name, nodegroupName=name)  # (unconfirmed)
        version = params.get("version") or pub["version"]
        if version not in KUBERNETES_VERSIONS or _minor(version) > _minor(pub["version"]):
            raise _invalid("Requested Nodegroup version %s is invalid: it must not be newer than the cluster's version "
                           "%s" % (version, pub["version"]), clusterName=cluster_name,  # (unconfirmed)
                           nodegroupName=name)
        template = params.get("launchTemplate")
        ami_type = params.get("amiType") or "AL2023_x86_64_STANDARD"
        if ami_type.startswith("AL2_") and _minor(version) > _minor(AL2_LAST_VERSION):
            raise _invalid("AMI Type %s is only supported for kubernetes versions %s or earlier"  # (unconfirmed)
                           % (ami_type, AL2_LAST_VERSION), clusterName=cluster_name, nodegroupName=name)
        if ami_type == "CUSTOM" and not template:
            raise _invalid("amiType CUSTOM requires a launch template", clusterName=cluster_name,  # (unconfirmed)
                           nodegroupName=name)
        if template and "diskSize" in params:
            raise _invalid("Disk size must be specified within the launch template.", clusterName=cluster_name,
                           nodegroupName=name)
        if template and not (template.get("id") or template.get("name")):
            raise _invalid("Either launch template ID or name must be specified", clusterName=cluster_name,  # (unconfirmed)
                           nodegroupName=name)
        release = params.get("releaseVersion") or self._release_version(version, ami_type)
        if params.get("releaseVersion") and not (release.startswith(version + ".") or ami_type.startswith("BOTTLEROCKET")):
            raise _invalid("Requested release version %s is not valid for kubernetes version %s"  # (unconfirmed)
                           % (release, version), clusterName=cluster_name, nodegroupName=name)
        self._check_node_role(call, params["nodeRole"])
        subnets = self._subnets(call, params["subnets"])
        if not subnets:
            raise _invalid("Subnets are required", clusterName=cluster_name, nodegroupName=name)  # (unconfirmed)
        outside = [s["SubnetId"] for s in subnets if s["VpcId"] != pub["resourcesVpcConfig"]["vpcId"]]
        if outside:
            raise _invalid("Subnets %s are not in the VPC %s of cluster %s"  # (unconfirmed)
                           % (", ".join(outside), pub["resourcesVpcConfig"]["vpcId"], cluster_name),
                           clusterName=cluster_name, nodegroupName=name)
        scaling = {"minSize": 1, "maxSize": 2, "desiredSize": 2}
        scaling.update({k: v for k, v in (params.get("scalingConfig") or {}).items() if v is not None})
        self._check_scaling(scaling, name, cluster_name)
        update_config = params.get("updateConfig") or {"maxUnavailable": 1}
        self._check_update_config(update_config, name, cluster_name)
        taints = self._taints(params.get("taints") or [], name, cluster_name)
        labels = dict(params.get("labels") or {})
        tags = dict(params.get("tags") or {})
        self._check_tags(tags)
        now = self._now()
        group_uuid = str(uuid.uuid4())
        group = {
            "nodegroupName": name,
            "nodegroupArn": self._arn(call, "nodegroup/%s/%s/%s" % (cluster_name, name, group_uuid)),
            "clusterName": cluster_name,
            "version": version,
            "createdAt": now,
            "modifiedAt": now,
            "status": "CREATING",
            "capacityType": params.get("capacityType") or "ON_DEMAND",
            "scalingConfig": scaling,
            "subnets": list(params["subnets"]),
            "amiType": ami_type,
            "nodeRole": params["nodeRole"],
            "labels": labels,
            "health": {"issues": []},
            "updateConfig": dict(update_config),
            "tags": tags,
        }
        if release:
            group["releaseVersion"] = release
        if params.get("instanceTypes"):
            group["instanceTypes"] = list(params["instanceTypes"])
        elif not template:
            group["instanceTypes"] = ["t3.medium"]
        if template:
            group["launchTemplate"] = dict(template)
        else:
            group["diskSize"] = params.get("diskSize") or 20
        if taints:
            group["taints"] = taints
        if "nodeRepairConfig" in params:
            group["nodeRepairConfig"] = dict(params["nodeRepairConfig"])
        cluster["nodegroups"][name] = {"pub": group, "until": self._until("nodegroup_create"), "uuid": group_uuid,
                                       "token": params.get("clientRequestToken")}
        self._node_entry(call, cluster, params["nodeRole"], ami_type)
        return {"nodegroup": copy.deepcopy(group)}

    @staticmethod
    def _taints(taints, name, cluster_name):
        seen = set()
        result = []
        for taint in taints:
            key = (taint.get("key"), taint.get("effect"))
            if key in seen:
                raise _invalid("Duplicate taint key %s with effect %s" % key,  # (unconfirmed)
                               clusterName=cluster_name, nodegroupName=name)
            seen.add(key)
            entry = {"key": taint["key"], "effect": taint["effect"]}
            if taint.get("value") is not None:
                entry["value"] = taint["value"]
            result.append(entry)
        return result

    def _node_entry(self, call, cluster, role_arn, ami_type):
        """The access entry EKS makes for a managed node group's role (API modes only)."""
        if cluster["pub"]["accessConfig"]["authenticationMode"] == "CONFIG_MAP" or role_arn in cluster["entries"]:
            return
        kind = "EC2_WINDOWS" if (ami_type or "").startswith("WINDOWS") else "EC2_LINUX"
        self._new_entry(call, cluster, role_arn, kind, None, [], {})

    def _op_describe_nodegroup(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        return {"nodegroup": copy.deepcopy(self._nodegroup(cluster, params["nodegroupName"])["pub"])}

    def _op_list_nodegroups(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        page, nxt = self._paginate(sorted(cluster["nodegroups"]), params, "ListNodegroups")
        return {"nodegroups": page, "nextToken": nxt}

    def _op_list_fargate_profiles(self, call, params):
        # CreateFargateProfile is not served (the platform runs no Fargate profiles), so a
        # cluster here never has one; listing them is how a read-back proves it.
        self._cluster(call, params["clusterName"])
        page, nxt = self._paginate([], params, "ListFargateProfiles")
        return {"fargateProfileNames": page, "nextToken": nxt}

    def _op_delete_nodegroup(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        group = self._nodegroup(cluster, params["nodegroupName"])
        pub = group["pub"]
        if pub["status"] != "DELETING":
            running = self._cluster_update(cluster, ("nodegroup", pub["nodegroupName"]))
            if running is not None:
                raise _in_use("Nodegroup %s cannot be deleted because it has update %s in progress"  # (unconfirmed)
                              % (pub["nodegroupName"], running["id"]), clusterName=cluster["pub"]["name"],
                              nodegroupName=pub["nodegroupName"])
            pub["status"] = "DELETING"
            pub["modifiedAt"] = self._now()
            group["until"] = self._until("nodegroup_delete")
        return {"nodegroup": copy.deepcopy(pub)}

    def _nodegroup_busy(self, cluster, group):
        pub = group["pub"]
        if pub["status"] not in ("ACTIVE", "DEGRADED"):
            raise _in_use("Nodegroup cannot be updated as it is currently not in Active State",  # (unconfirmed)
                          clusterName=cluster["pub"]["name"], nodegroupName=pub["nodegroupName"])

    def _op_update_nodegroup_config(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        group = self._nodegroup(cluster, params["nodegroupName"])
        pub = group["pub"]
        name, cluster_name = pub["nodegroupName"], cluster["pub"]["name"]
        target = ("nodegroup", name)
        for member in ("nodeRepairConfig", "warmPoolConfig"):
            if member in params:
                raise _unsupported("UpdateNodegroupConfig", member)
        existing = self._token_update(cluster, params.get("clientRequestToken"), target)
        if existing is not None:
            return {"update": self._update_view(existing)}
        self._nodegroup_busy(cluster, group)
        update_params = []
        labels = dict(pub["labels"])
        label_request = params.get("labels") or {}
        add_labels = label_request.get("addOrUpdateLabels") or {}
        remove_labels = label_request.get("removeLabels") or []
        both = sorted(set(add_labels) & set(remove_labels))
        if both:
            raise _invalid("Labels %s cannot be added and removed in the same request" % both,  # (unconfirmed)
                           clusterName=cluster_name, nodegroupName=name)
        for key in remove_labels:
            labels.pop(key, None)
        labels.update(add_labels)
        if add_labels:
            update_params.append(("LabelsToAdd", _compact(add_labels)))
        if remove_labels:
            update_params.append(("LabelsToRemove", _compact(remove_labels)))
        taints = [dict(t) for t in pub.get("taints") or []]
        taint_request = params.get("taints") or {}
        add_taints = self._taints(taint_request.get("addOrUpdateTaints") or [], name, cluster_name)
        remove_taints = taint_request.get("removeTaints") or []
        drop = {(t.get("key"), t.get("effect")) for t in remove_taints} | {(t["key"], t["effect"]) for t in add_taints}
        taints = [t for t in taints if (t["key"], t["effect"]) not in drop] + add_taints
        if len(taints) > 50:
            raise _invalid("A node group can have at most 50 taints", clusterName=cluster_name,  # (unconfirmed)
                           nodegroupName=name)
        if add_taints:
            update_params.append(("TaintsToAdd", _compact(add_taints)))
        if remove_taints:
            update_params.append(("TaintsToRemove", _compact(remove_taints)))
        scaling = dict(pub["scalingConfig"])
        for key, value in (params.get("scalingConfig") or {}).items():
            if value is not None:
                scaling[key] = value
        self._check_scaling(scaling, name, cluster_name)
        for key, kind in (("minSize", "MinSize"), ("maxSize", "MaxSize"), ("desiredSize", "DesiredSize")):
            if (params.get("scalingConfig") or {}).get(key) is not None:
                update_params.append((kind, str(scaling[key])))
        update_config = pub["updateConfig"]
        if "updateConfig" in params:
            self._check_update_config(params["updateConfig"], name, cluster_name)
            update_config = dict(params["updateConfig"])
            for key, kind in (("maxUnavailable", "MaxUnavailable"), ("maxUnavailablePercentage", "MaxUnavailablePercentage")):
                if update_config.get(key) is not None:
                    update_params.append((kind, str(update_config[key])))
        if not update_params:
            raise _invalid("No changes needed for the nodegroup config provided",  # (unconfirmed)
                           clusterName=cluster_name, nodegroupName=name)

        def apply():
            pub["labels"] = labels
            if taints:
                pub["taints"] = taints
            else:
                pub.pop("taints", None)
            pub["scalingConfig"] = scaling
            pub["updateConfig"] = update_config
        update = self._start_update(cluster, "nodegroup_config_update", "ConfigUpdate", update_params, apply,
                                    params.get("clientRequestToken"), target)
        pub["status"] = "UPDATING"
        return {"update": self._update_view(update)}

    def _op_update_nodegroup_version(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        group = self._nodegroup(cluster, params["nodegroupName"])
        pub = group["pub"]
        name, cluster_name = pub["nodegroupName"], cluster["pub"]["name"]
        target = ("nodegroup", name)
        if "launchTemplate" in params:
            raise _unsupported("UpdateNodegroupVersion", "launchTemplate")
        existing = self._token_update(cluster, params.get("clientRequestToken"), target)
        if existing is not None:
            return {"update": self._update_view(existing)}
        self._nodegroup_busy(cluster, group)
        version = params.get("version") or pub["version"]
        if version not in KUBERNETES_VERSIONS or _minor(version) > _minor(cluster["pub"]["version"]):
            raise _invalid("Requested Nodegroup version %s is invalid: it must not be newer than the cluster's version "
                           "%s" % (version, cluster["pub"]["version"]), clusterName=cluster_name,  # (unconfirmed)
                           nodegroupName=name)
        if _minor(version) < _minor(pub["version"]):
            raise _invalid("Requested Nodegroup version %s is lower than the current version %s"  # (unconfirmed)
                           % (version, pub["version"]), clusterName=cluster_name, nodegroupName=name)
        release = params.get("releaseVersion") or self._release_version(version, pub["amiType"])
        if version == pub["version"] and release == pub.get("releaseVersion"):
            raise _invalid("Nodegroup %s is already at version %s and release %s"  # (unconfirmed)
                           % (name, version, release), clusterName=cluster_name, nodegroupName=name)
        update_params = [("Version", version)]
        if release:
            update_params.append(("ReleaseVersion", release))

        def apply():
            pub["version"] = version
            if release:
                pub["releaseVersion"] = release
        update = self._start_update(cluster, "nodegroup_version_update", "VersionUpdate", update_params, apply,
                                    params.get("clientRequestToken"), target)
        pub["status"] = "UPDATING"
        return {"update": self._update_view(update)}

    # =========================================================================================
    # Add-ons

    def _op_describe_addon_versions(self, call, params):
        k8s = params.get("kubernetesVersion")
        name = params.get("addonName")
        types = set(params.get("types") or [])
        publishers = set(params.get("publishers") or [])
        owners = set(params.get("owners") or [])
        addons = []
        for addon_name, info in sorted(ADDON_CATALOGUE.items()):
            if name and addon_name != name:
                continue
            if (types and info["type"] not in types) or (publishers and "eks" not in publishers) \
                    or (owners and "aws" not in owners):
                continue
            versions = []
            for version, k8s_versions in sorted(info["versions"].items(), key=lambda i: _version_key(i[0]),
                                                reverse=True):
                compatible = [v for v in k8s_versions if not k8s or v == k8s]
                if not compatible:
                    continue
                versions.append({
                    "addonVersion": version,
                    "architecture": ["amd64", "arm64"],
                    "computeTypes": ["ec2"],
                    "compatibilities": [{"clusterVersion": v, "platformVersions": ["*"],
                                         "defaultVersion": DEFAULT_ADDON_VERSIONS[addon_name].get(v) == version}
                                        for v in compatible],
                    "requiresConfiguration": False,
                    "requiresIamPermissions": info["iam"],
                })
            if versions:
                addons.append({"addonName": addon_name, "type": info["type"], "addonVersions": versions,
                               "publisher": "eks", "owner": "aws", "defaultNamespace": "kube-system"})
        page, nxt = self._paginate(addons, params, "DescribeAddonVersions")
        return {"addons": page, "nextToken": nxt}

    def _addon_version(self, cluster, name, version):
        k8s = cluster["pub"]["version"]
        info = ADDON_CATALOGUE.get(name)
        if info is None or not any(k8s in v for v in info["versions"].values()):
            raise _invalid("Addon %s specified is not supported in %s kubernetes version" % (name, k8s),  # (unconfirmed)
                           clusterName=cluster["pub"]["name"], addonName=name)
        if version is None:
            return DEFAULT_ADDON_VERSIONS[name][k8s]
        if k8s not in info["versions"].get(version, ()):
            raise _invalid("Addon version specified is not supported", clusterName=cluster["pub"]["name"], addonName=name)
        return version

    def _check_addon_associations(self, call, cluster, addon_name, arn, entries):
        """Refuse pod identity associations an add-on cannot own (duplicates, unknown roles, a
        service account another association already has)."""
        seen = set()
        for entry in entries:
            if entry["serviceAccount"] in seen:
                raise _invalid("Duplicate service account %s in podIdentityAssociations"  # (unconfirmed)
                               % entry["serviceAccount"], clusterName=cluster["pub"]["name"], addonName=addon_name)
            seen.add(entry["serviceAccount"])
            self._existing_role(call, entry["roleArn"], "roleArn")
            clash = self._find_association(cluster, "kube-system", entry["serviceAccount"])
            if clash is not None and (arn is None or clash.get("ownerArn") != arn):
                raise _in_use("Association already exists: %s" % clash["associationId"],  # (unconfirmed)
                              clusterName=cluster["pub"]["name"], addonName=addon_name)

    def _make_addon_associations(self, call, cluster, arn, entries):
        """Bring the associations add-on ``arn`` owns to ``entries``; returns their ARNs."""
        keep = {e["serviceAccount"] for e in entries}
        for association in list(cluster["associations"].values()):
            if association.get("ownerArn") == arn and association["serviceAccount"] not in keep:
                del cluster["associations"][association["associationId"]]
        result = []
        for entry in entries:
            found = self._find_association(cluster, "kube-system", entry["serviceAccount"])
            if found is None:
                found = self._new_association(call, cluster, "kube-system", entry["serviceAccount"], entry["roleArn"],
                                              {}, owner=arn)
            elif found["roleArn"] != entry["roleArn"]:
                found["roleArn"] = entry["roleArn"]
                found["modifiedAt"] = self._now()
            result.append(found["associationArn"])
        return result

    def _op_create_addon(self, call, params):
        cluster = self._usable_cluster(call, params["clusterName"])
        cluster_name = cluster["pub"]["name"]
        name = params["addonName"]
        if "namespaceConfig" in params:
            raise _unsupported("CreateAddon", "namespaceConfig")
        existing = cluster["addons"].get(name)
        if existing is not None:
            token = params.get("clientRequestToken")
            if token and existing.get("token") == token:
                return {"addon": copy.deepcopy(existing["pub"])}
            raise _in_use("Addon already exists.", clusterName=cluster_name, addonName=name)  # (unconfirmed)
        version = self._addon_version(cluster, name, params.get("addonVersion"))
        values = params.get("configurationValues")
        if values is not None:
            try:
                _parse_configuration(values)
            except ValueError as exc:
                raise _invalid("ConfigurationValue provided in request is not supported: %s" % exc,
                               clusterName=cluster_name, addonName=name) from exc
        if params.get("serviceAccountRoleArn"):
            self._existing_role(call, params["serviceAccountRoleArn"], "serviceAccountRoleArn")
        tags = dict(params.get("tags") or {})
        self._check_tags(tags)
        now = self._now()
        arn = self._arn(call, "addon/%s/%s/%s" % (cluster_name, name, uuid.uuid4()))
        wanted = params.get("podIdentityAssociations") or []
        self._check_addon_associations(call, cluster, name, None, wanted)
        associations = self._make_addon_associations(call, cluster, arn, wanted)
        addon = {"addonName": name, "clusterName": cluster_name, "status": "CREATING", "addonVersion": version,
                 "health": {"issues": []}, "addonArn": arn, "createdAt": now, "modifiedAt": now, "tags": tags}
        if params.get("serviceAccountRoleArn"):
            addon["serviceAccountRoleArn"] = params["serviceAccountRoleArn"]
        if values:
            addon["configurationValues"] = values
        if associations:
            addon["podIdentityAssociations"] = associations
        conflict = None
        if cluster["self_managed"] and name in SELF_MANAGED_ADDONS and params.get("resolveConflicts") in (None, "NONE"):
            conflict = {"vpc-cni": "DaemonSet.apps aws-node", "kube-proxy": "DaemonSet.apps kube-proxy",
                        "coredns": "Deployment.apps coredns"}[name]
        cluster["addons"][name] = {"pub": addon, "until": self._until("addon_create"), "conflict": conflict,
                                   "token": params.get("clientRequestToken")}
        return {"addon": copy.deepcopy(addon)}

    def _op_describe_addon(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        return {"addon": copy.deepcopy(self._addon(cluster, params["addonName"])["pub"])}

    def _op_list_addons(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        page, nxt = self._paginate(sorted(cluster["addons"]), params, "ListAddons")
        return {"addons": page, "nextToken": nxt}

    def _op_update_addon(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        addon = self._addon(cluster, params["addonName"])
        pub = addon["pub"]
        name, cluster_name = pub["addonName"], cluster["pub"]["name"]
        target = ("addon", name)
        existing = self._token_update(cluster, params.get("clientRequestToken"), target)
        if existing is not None:
            return {"update": self._update_view(existing)}
        if pub["status"] not in ("ACTIVE", "DEGRADED", "UPDATE_FAILED", "CREATE_FAILED"):
            raise _in_use("Addon %s cannot be updated as it is currently in %s status"  # (unconfirmed)
                          % (name, pub["status"]), clusterName=cluster_name, addonName=name)
        update_params = []
        version = pub["addonVersion"]
        if params.get("addonVersion"):
            version = self._addon_version(cluster, name, params["addonVersion"])
            if _version_key(version) < _version_key(pub["addonVersion"]):
                raise _invalid("Updating addon %s from %s to %s is not supported: add-ons cannot be downgraded"  # (unconfirmed)
                               % (name, pub["addonVersion"], version), clusterName=cluster_name, addonName=name)
            update_params.append(("AddonVersion", version))
        role = pub.get("serviceAccountRoleArn")
        if "serviceAccountRoleArn" in params:
            role = params["serviceAccountRoleArn"] or None
            if role:
                self._existing_role(call, role, "serviceAccountRoleArn")
            update_params.append(("ServiceAccountRoleArn", params["serviceAccountRoleArn"]))
        if params.get("resolveConflicts"):
            update_params.append(("ResolveConflicts", params["resolveConflicts"]))
        values = pub.get("configurationValues")
        if "configurationValues" in params:
            values = params["configurationValues"]
            try:
                parsed = _parse_configuration(values) if values else {}
            except ValueError as exc:
                raise _invalid("ConfigurationValue provided in request is not supported: %s" % exc,
                               clusterName=cluster_name, addonName=name) from exc
            if not parsed:
                values = None
            update_params.append(("ConfigurationValues", params["configurationValues"]))
        wanted = params.get("podIdentityAssociations")
        if wanted is not None:
            self._check_addon_associations(call, cluster, name, pub["addonArn"], wanted)
            update_params.append(("PodIdentityAssociations", _compact(wanted)))

        def apply():
            pub["addonVersion"] = version
            if role:
                pub["serviceAccountRoleArn"] = role
            else:
                pub.pop("serviceAccountRoleArn", None)
            if values:
                pub["configurationValues"] = values
            else:
                pub.pop("configurationValues", None)
            if wanted is not None:
                arns = self._make_addon_associations(call, cluster, pub["addonArn"], wanted)
                if arns:
                    pub["podIdentityAssociations"] = arns
                else:
                    pub.pop("podIdentityAssociations", None)
        update = self._start_update(cluster, "addon_update", "AddonUpdate", update_params, apply,
                                    params.get("clientRequestToken"), target)
        pub["status"] = "UPDATING"
        return {"update": self._update_view(update)}

    def _op_delete_addon(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        addon = self._addon(cluster, params["addonName"])
        pub = addon["pub"]
        if pub["status"] != "DELETING":
            running = self._cluster_update(cluster, ("addon", pub["addonName"]))
            if running is not None:
                raise _request("Addon %s cannot be deleted because it has update %s in progress"  # (unconfirmed)
                              % (pub["addonName"], running["id"]), clusterName=cluster["pub"]["name"],
                              addonName=pub["addonName"])
            pub["status"] = "DELETING"
            pub["modifiedAt"] = self._now()
            addon["until"] = self._until("addon_delete")
        return {"addon": copy.deepcopy(pub)}

    def _drop_addon(self, cluster, name):
        arn = cluster["addons"].pop(name)["pub"]["addonArn"]
        for association_id, association in list(cluster["associations"].items()):
            if association.get("ownerArn") == arn:
                del cluster["associations"][association_id]

    # =========================================================================================
    # Access entries

    @staticmethod
    def _policy_arn(partition, name):
        return "arn:%s:eks::aws:cluster-access-policy/%s" % (partition, name)

    def _default_username(self, principal_arn, kind):
        if kind in ("EC2_LINUX", "EC2_WINDOWS", "EC2"):
            return "system:node:{{EC2PrivateDNSName}}"
        if kind in ("FARGATE_LINUX", "HYBRID_LINUX", "HYPERPOD_LINUX"):
            return "system:node:{{SessionName}}"
        role = _ROLE_ARN_RE.match(principal_arn)
        if role:
            partition, account, _path, name = role.groups()
            return "arn:%s:sts::%s:assumed-role/%s/{{SessionName}}" % (partition, account, name)
        return principal_arn

    def _new_entry(self, call, cluster, principal_arn, kind, username, groups, tags):
        now = self._now()
        role = _ROLE_ARN_RE.match(principal_arn)
        user = _USER_ARN_RE.match(principal_arn)
        match = role or user
        if match:
            resource = "%s/%s/%s" % ("role" if role else "user", match.group(2), match.group(4))
        else:
            resource = "root/%s" % principal_arn.split(":")[4]
        if kind != "STANDARD":
            groups = ["system:nodes"]
        entry = {"pub": {
            "clusterName": cluster["pub"]["name"], "principalArn": principal_arn,
            "kubernetesGroups": list(groups),
            "accessEntryArn": "arn:%s:eks:%s:%s:access-entry/%s/%s/%s" % (
                cluster["partition"], cluster["region"], cluster["account"], cluster["pub"]["name"], resource,
                uuid.uuid4()),
            "createdAt": now, "modifiedAt": now, "tags": dict(tags),
            "username": username or self._default_username(principal_arn, kind), "type": kind,
        }, "policies": {}}
        cluster["entries"][principal_arn] = entry
        return entry

    def _op_create_access_entry(self, call, params):
        cluster = self._usable_cluster(call, params["clusterName"])
        self._entries_open(cluster)
        principal = params["principalArn"]
        kind = params.get("type") or "STANDARD"
        if kind not in ACCESS_ENTRY_TYPES:
            raise _invalid("The type %s is invalid; allowed: %s" % (kind, ", ".join(ACCESS_ENTRY_TYPES)))  # (unconfirmed)
        role, user = _ROLE_ARN_RE.match(principal), _USER_ARN_RE.match(principal)
        if not (role or user):
            raise _invalid("The specified principalArn %s is invalid: it must be the ARN of an IAM role or user"  # (unconfirmed)
                           % principal)
        if role and role.group(3).startswith("aws-service-role/"):
            raise _invalid("Access entries do not support service linked roles: %s" % principal)  # (unconfirmed)
        exists = self.env.role(call.account, principal) if role else self.env.user(call.account, principal)
        if exists is None:
            raise _invalid("The specified principalArn %s does not exist" % principal)  # (unconfirmed)
        if kind != "STANDARD":
            if params.get("kubernetesGroups") or params.get("username"):
                raise _invalid("kubernetesGroups and username can only be specified for access entries of type "  # (unconfirmed)
                               "STANDARD")
            if (role or user).group(2) != call.account:
                raise _invalid("The principalArn of an access entry of type %s must be in the cluster's account"  # (unconfirmed)
                               % kind)
        username = params.get("username")
        if username is not None:
            self._check_username(username, bool(role))
        if principal in cluster["entries"]:
            raise _in_use("The specified access entry resource is already in use on this cluster.")
        tags = dict(params.get("tags") or {})
        self._check_tags(tags)
        entry = self._new_entry(call, cluster, principal, kind, username, sorted(set(params.get("kubernetesGroups") or [])),
                                tags)
        return {"accessEntry": copy.deepcopy(entry["pub"])}

    @staticmethod
    def _check_username(username, is_role):
        if not username or username.startswith(RESERVED_USERNAME_PREFIXES):
            raise _invalid("username cannot be empty or start with %s" % ", ".join(RESERVED_USERNAME_PREFIXES))  # (unconfirmed)
        for marker in ("{{SessionName}}", "{{SessionNameRaw}}"):
            index = username.find(marker)
            if index >= 0 and ":" not in username[:index]:
                raise _invalid("username must contain a colon before %s" % marker)  # (unconfirmed)

    def _op_describe_access_entry(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        return {"accessEntry": copy.deepcopy(self._entry(cluster, params["principalArn"])["pub"])}

    def _op_list_access_entries(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        self._entries_open(cluster)
        policy = params.get("associatedPolicyArn")
        if policy and not self._known_policy(policy):
            raise _invalid("The specified policyArn %s is invalid" % policy)  # (unconfirmed)
        arns = sorted(arn for arn, entry in cluster["entries"].items() if not policy or policy in entry["policies"])
        page, nxt = self._paginate(arns, params, "ListAccessEntries")
        return {"accessEntries": page, "nextToken": nxt}

    def _op_update_access_entry(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        entry = self._entry(cluster, params["principalArn"])
        pub = entry["pub"]
        if pub["type"] != "STANDARD":
            raise _invalid('This operation can only be performed on Access Entries with a type of "STANDARD".')
        if "username" in params:
            self._check_username(params["username"], bool(_ROLE_ARN_RE.match(pub["principalArn"])))
            pub["username"] = params["username"]
        if "kubernetesGroups" in params:
            pub["kubernetesGroups"] = sorted(set(params["kubernetesGroups"]))
        pub["modifiedAt"] = self._now()
        return {"accessEntry": copy.deepcopy(pub)}

    def _op_delete_access_entry(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        self._entry(cluster, params["principalArn"])
        del cluster["entries"][params["principalArn"]]
        return {}

    def _known_policy(self, arn):
        match = _POLICY_ARN_RE.match(arn or "")
        return bool(match) and match.group(2) in ACCESS_POLICIES

    def _op_list_access_policies(self, call, params):
        policies = [{"name": n, "arn": self._policy_arn(call.partition, n)} for n in sorted(ACCESS_POLICIES)]
        page, nxt = self._paginate(policies, params, "ListAccessPolicies")
        return {"accessPolicies": page, "nextToken": nxt}

    def _op_associate_access_policy(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        entry = self._entry(cluster, params["principalArn"])
        if entry["pub"]["type"] != "STANDARD":
            raise _invalid('This operation can only be performed on Access Entries with a type of "STANDARD".')
        policy = params["policyArn"]
        if not self._known_policy(policy):
            raise _invalid("The specified policyArn %s is invalid" % policy)  # (unconfirmed)
        scope = params["accessScope"]
        kind = scope.get("type")
        namespaces = list(scope.get("namespaces") or [])
        if kind is None:
            raise _invalid("accessScope type must be specified")  # (unconfirmed)
        if kind == "namespace" and not namespaces:
            raise _invalid("namespaces must be specified when the accessScope type is namespace")  # (unconfirmed)
        if kind == "cluster" and namespaces:
            raise _invalid("namespaces cannot be specified when the accessScope type is cluster")  # (unconfirmed)
        now = self._now()
        association = entry["policies"].get(policy)
        if association is None:
            association = entry["policies"][policy] = {"associatedAt": now}
        association["accessScope"] = {"type": kind, "namespaces": namespaces}
        association["modifiedAt"] = now
        return {"clusterName": cluster["pub"]["name"], "principalArn": params["principalArn"],
                "associatedAccessPolicy": self._policy_view(policy, association)}

    @staticmethod
    def _policy_view(arn, association):
        return {"policyArn": arn, "accessScope": copy.deepcopy(association["accessScope"]),
                "associatedAt": association["associatedAt"], "modifiedAt": association["modifiedAt"]}

    def _op_disassociate_access_policy(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        entry = self._entry(cluster, params["principalArn"])
        if params["policyArn"] not in entry["policies"]:
            raise _not_found("The specified policyArn %s is not associated with the access entry"  # (unconfirmed)
                             % params["policyArn"])
        del entry["policies"][params["policyArn"]]
        return {}

    def _op_list_associated_access_policies(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        entry = self._entry(cluster, params["principalArn"])
        items = [self._policy_view(arn, a) for arn, a in sorted(entry["policies"].items())]
        page, nxt = self._paginate(items, params, "ListAssociatedAccessPolicies")
        return {"clusterName": cluster["pub"]["name"], "principalArn": params["principalArn"],
                "associatedAccessPolicies": page, "nextToken": nxt}

    # =========================================================================================
    # Pod identity associations

    @staticmethod
    def _find_association(cluster, namespace, service_account):
        for association in cluster["associations"].values():
            if association["namespace"] == namespace and association["serviceAccount"] == service_account:
                return association
        return None

    def _new_association(self, call, cluster, namespace, service_account, role_arn, tags, owner=None, target=None):
        now = self._now()
        association_id = _association_id()
        association = {
            "clusterName": cluster["pub"]["name"], "namespace": namespace, "serviceAccount": service_account,
            "roleArn": role_arn,
            "associationArn": "arn:%s:eks:%s:%s:podidentityassociation/%s/%s" % (
                cluster["partition"], cluster["region"], cluster["account"], cluster["pub"]["name"], association_id),
            "associationId": association_id, "tags": dict(tags), "createdAt": now, "modifiedAt": now,
        }
        if owner:
            association["ownerArn"] = owner
        if target:
            association["targetRoleArn"] = target
            association["externalId"] = str(uuid.uuid4())
        cluster["associations"][association_id] = association
        return association

    def _association(self, cluster, association_id):
        association = cluster["associations"].get(association_id)
        if association is None:
            raise _not_found("No Pod Identity Association found for id: %s" % association_id,  # (unconfirmed)
                             clusterName=cluster["pub"]["name"])
        return association

    def _op_create_pod_identity_association(self, call, params):
        cluster = self._usable_cluster(call, params["clusterName"])
        if "policy" in params:
            raise _unsupported("CreatePodIdentityAssociation", "policy")
        self._existing_role(call, params["roleArn"], "roleArn")
        if params.get("targetRoleArn"):
            self._existing_role(call, params["targetRoleArn"], "targetRoleArn")
        clash = self._find_association(cluster, params["namespace"], params["serviceAccount"])
        if clash is not None:
            raise _in_use("Association already exists: %s" % clash["associationId"],  # (unconfirmed)
                          clusterName=cluster["pub"]["name"])
        tags = dict(params.get("tags") or {})
        self._check_tags(tags)
        association = self._new_association(call, cluster, params["namespace"], params["serviceAccount"],
                                            params["roleArn"], tags, target=params.get("targetRoleArn"))
        if params.get("disableSessionTags") is not None:
            association["disableSessionTags"] = params["disableSessionTags"]
        return {"association": copy.deepcopy(association)}

    def _op_describe_pod_identity_association(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        return {"association": copy.deepcopy(self._association(cluster, params["associationId"]))}

    def _op_update_pod_identity_association(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        association = self._association(cluster, params["associationId"])
        if "policy" in params:
            raise _unsupported("UpdatePodIdentityAssociation", "policy")
        if association.get("ownerArn"):
            raise _request("Pod Identity Association %s is owned by %s and can only be changed through it"  # (unconfirmed)
                           % (association["associationId"], association["ownerArn"]), clusterName=cluster["pub"]["name"])
        if params.get("roleArn"):
            self._existing_role(call, params["roleArn"], "roleArn")
            association["roleArn"] = params["roleArn"]
        if "targetRoleArn" in params:
            if params["targetRoleArn"]:
                self._existing_role(call, params["targetRoleArn"], "targetRoleArn")
                association["targetRoleArn"] = params["targetRoleArn"]
                association.setdefault("externalId", str(uuid.uuid4()))
            else:
                association.pop("targetRoleArn", None)
                association.pop("externalId", None)
        if params.get("disableSessionTags") is not None:
            association["disableSessionTags"] = params["disableSessionTags"]
        association["modifiedAt"] = self._now()
        return {"association": copy.deepcopy(association)}

    def _op_delete_pod_identity_association(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        association = self._association(cluster, params["associationId"])
        if association.get("ownerArn"):
            raise _request("Pod Identity Association %s is owned by %s and can only be deleted through it"  # (unconfirmed)
                           % (association["associationId"], association["ownerArn"]), clusterName=cluster["pub"]["name"])
        del cluster["associations"][association["associationId"]]
        return {"association": copy.deepcopy(association)}

    def _op_list_pod_identity_associations(self, call, params):
        cluster = self._cluster(call, params["clusterName"])
        items = []
        for association in sorted(cluster["associations"].values(), key=lambda a: (a["createdAt"], a["associationId"])):
            if params.get("namespace") and association["namespace"] != params["namespace"]:
                continue
            if params.get("serviceAccount") and association["serviceAccount"] != params["serviceAccount"]:
                continue
            items.append({k: association[k] for k in ("clusterName", "namespace", "serviceAccount", "associationArn",
                                                      "associationId", "ownerArn") if k in association})
        page, nxt = self._paginate(items, params, "ListPodIdentityAssociations")
        return {"associations": page, "nextToken": nxt}

    # =========================================================================================
    # Tags

    @staticmethod
    def _check_tags(tags):
        for key in tags:
            if key.lower().startswith("aws:"):
                raise _invalid("Tag keys cannot start with 'aws:'")  # (unconfirmed)

    def _tagged(self, call, arn):
        """The public record (with its ``tags``) that ``arn`` names."""
        match = _EKS_ARN_RE.match(arn or "")
        if not match:
            raise EksError("BadRequestException", "Invalid ARN: %s" % arn)  # (unconfirmed)
        _partition, region, account, resource = match.groups()
        state = self.state.get((account, region))
        self._settle_all(account, region)
        parts = resource.split("/")
        missing = EksError("NotFoundException", "Resource %s not found" % arn)  # (unconfirmed)
        if state is None or account != call.account:
            raise missing
        cluster = state.clusters.get(parts[1]) if len(parts) > 1 else None
        if cluster is None:
            raise missing
        if parts[0] == "cluster" and len(parts) == 2:
            return cluster["pub"]
        for kind, key in (("nodegroup", "nodegroups"), ("addon", "addons")):
            if parts[0] == kind and len(parts) == 4:
                found = cluster[key].get(parts[2])
                if found is not None and found["pub"].get(kind + "Arn") == arn:
                    return found["pub"]
        if parts[0] == "access-entry":
            for entry in cluster["entries"].values():
                if entry["pub"]["accessEntryArn"] == arn:
                    return entry["pub"]
        if parts[0] == "podidentityassociation" and len(parts) == 3:
            found = cluster["associations"].get(parts[2])
            if found is not None:
                return found
        raise missing

    def _op_tag_resource(self, call, params):
        record = self._tagged(call, params["resourceArn"])
        tags = dict(record.get("tags") or {})
        for key in params["tags"]:
            if key.lower().startswith("aws:"):
                raise EksError("BadRequestException", "Tag keys cannot start with 'aws:'")  # (unconfirmed)
        tags.update(params["tags"])
        if len(tags) > 50:
            raise EksError("BadRequestException", "A resource can have at most 50 tags")  # (unconfirmed)
        record["tags"] = tags
        return {}

    def _op_untag_resource(self, call, params):
        record = self._tagged(call, params["resourceArn"])
        tags = dict(record.get("tags") or {})
        for key in params["tagKeys"]:
            tags.pop(key, None)
        record["tags"] = tags
        return {}

    def _op_list_tags_for_resource(self, call, params):
        record = self._tagged(call, params["resourceArn"])
        return {"tags": dict(record.get("tags") or {})}

    # =========================================================================================
    # For the rest of the local AWS (the EKS authentication webhook, the proxy)

    def cluster(self, account, region, name):
        """The public description of cluster ``name`` (as DescribeCluster gives it), or None."""
        with self.lock:
            self._settle_all(account, region)
            state = self.state.get((account, region))
            cluster = state.clusters.get(name) if state else None
            return self._cluster_view(cluster) if cluster else None

    def clusters(self):
        """Every cluster that is not being deleted: ``[{"account", "region", "name"}]``."""
        with self.lock:
            out = []
            for (account, region), state in list(self.state.items()):
                self._settle_all(account, region)
                for name, cluster in state.clusters.items():
                    if cluster["pub"]["status"] != "DELETING":
                        out.append({"account": account, "region": region, "name": name})
            return out

    def access_for(self, account, region, cluster_name, principal_arn):
        """What the cluster's access entries give ``principal_arn`` (an IAM role or user ARN, or
        an STS assumed-role ARN), or None when nothing does.

        ``{"username", "groups": [...], "policies": [{"policyArn", "accessScope": {"type",
        "namespaces"}}], "type"}``. The username has ``{{SessionName}}`` (``@`` replaced by
        ``-``) and ``{{SessionNameRaw}}`` filled in for an assumed-role ARN; other
        placeholders (``{{EC2PrivateDNSName}}``) are left for the caller. Entries count only
        in the API modes, except the cluster creator's, which EKS honours in every mode.
        """
        with self.lock:
            self._settle_all(account, region)
            state = self.state.get((account, region))
            cluster = state.clusters.get(cluster_name) if state else None
            if cluster is None or cluster["pub"]["status"] == "DELETING":
                return None
            session = None
            assumed = _ASSUMED_RE.match(principal_arn or "")
            if assumed:
                _partition, principal_account, role_name, session = assumed.groups()
                candidates = []
                for arn in cluster["entries"]:
                    role = _ROLE_ARN_RE.match(arn)
                    if role and role.group(2) == principal_account and role.group(4) == role_name:
                        candidates.append(arn)
            else:
                candidates = [principal_arn] if principal_arn in cluster["entries"] else []
            if not candidates:
                return None
            entry = cluster["entries"][candidates[0]]
            if cluster["pub"]["accessConfig"]["authenticationMode"] == "CONFIG_MAP" and not entry.get("creator"):
                return None
            pub = entry["pub"]
            username = pub["username"]
            if session is not None:
                username = username.replace("{{SessionNameRaw}}", session)
                username = username.replace("{{SessionName}}", session.replace("@", "-"))
            return {"username": username, "groups": list(pub["kubernetesGroups"]), "type": pub["type"],
                    "policies": [{"policyArn": arn, "accessScope": copy.deepcopy(a["accessScope"])}
                                 for arn, a in sorted(entry["policies"].items())]}


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
