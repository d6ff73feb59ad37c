# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The local EKS service's view of the rest of the local AWS (eks.EksEnvironment over moto).

EKS reads and makes things in other services: the subnets and security groups of a cluster
(EC2), the cluster security group it makes, the roles it is passed (IAM, and whether a new
role has propagated yet), the key it encrypts secrets with (KMS). Here each of those comes
from moto's state in this process, so the local EKS refuses what AWS's would: a subnet that
does not exist, a role that does not trust EKS or was made a moment ago.
"""
from __future__ import annotations

import json
import random
import time
from urllib.parse import unquote

from .consistency import Consistency
from .eks import EksEnvironment, NotFound


class MotoEksEnvironment(EksEnvironment):
    def __init__(self, strict, timing):
        self.strict = strict
        self.timing = timing
        self.rng = random.Random(strict.settings.seed)

    def now(self):
        return time.time()

    def duration(self, kind):
        seconds = self.timing.duration("eks_" + kind)
        self.timing.record("eks_" + kind, "", time.time(), seconds)
        return seconds

    # -- EC2 ----------------------------------------------------------------------------------

    def _ec2(self, account, region):
        return self.strict.moto.ec2(account, region)

    def availability_zones(self, account, region):
        return [{"ZoneName": z.name, "ZoneId": z.zone_id}
                for z in self._ec2(account, region).describe_availability_zones()]

    def subnets(self, account, region, ids):
        backend = self._ec2(account, region)
        found, missing = [], []
        for subnet_id in ids:
            try:
                subnet = backend.get_subnet(subnet_id)
            except Exception:  # moto's InvalidSubnetIdError
                missing.append(subnet_id)
                continue
            found.append({"SubnetId": subnet.id, "VpcId": subnet.vpc_id, "CidrBlock": subnet.cidr_block,
                          "AvailabilityZone": subnet.availability_zone,
                          "AvailabilityZoneId": subnet.availability_zone_id})
        if missing:
            raise NotFound("subnet", missing)
        return found

    def security_groups(self, account, region, ids):
        backend = self._ec2(account, region)
        found, missing = [], []
        for group_id in ids:
            group = backend.get_security_group_from_id(group_id)
            if group is None:
                missing.append(group_id)
            else:
                found.append({"GroupId": group.id, "VpcId": group.vpc_id, "GroupName": group.name})
        if missing:
            raise NotFound("security-group", missing)
        return found

    def create_cluster_security_group(self, account, region, vpc_id, cluster_name, tags):
        name = "eks-cluster-sg-%s-%010d" % (cluster_name, self.rng.randrange(10 ** 10))
        group = self._ec2(account, region).create_security_group(
            name, "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, "
            "as well as any managed workloads.", vpc_id=vpc_id, tags=dict(tags or {}))
        return group.id

    def delete_security_group(self, account, region, group_id):
        try:
            self._ec2(account, region).delete_security_group(group_id=group_id)
        except Exception:  # gone already
            pass

    # -- IAM and KMS --------------------------------------------------------------------------

    def _iam(self, account):
        return self.strict.moto.iam(account)

    def role(self, account, role_arn):
        owner = role_arn.split(":")[4] if role_arn.count(":") >= 5 else account
        try:
            role = self._iam(owner).get_role_by_arn(role_arn)
        except Exception:
            return None
        document = role.assume_role_policy_document
        if isinstance(document, str):
            try:
                document = json.loads(unquote(document) if document.startswith("%7B") else document)
            except ValueError:
                document = {}
        return {"Arn": role.arn, "AssumeRolePolicyDocument": document,
                "AttachedPolicyArns": sorted(role.managed_policies)}

    def role_usable(self, account, role_arn):
        consistency = self.strict.find(Consistency)
        owner = role_arn.split(":")[4] if role_arn.count(":") >= 5 else account
        return consistency is None or consistency.visible("iam_role", role_arn, owner)

    def user(self, account, user_arn):
        owner = user_arn.split(":")[4] if user_arn.count(":") >= 5 else account
        try:
            user = self._iam(owner).get_user(user_arn.rsplit("/", 1)[-1])
        except Exception:
            return None
        return {"Arn": user.arn} if user.arn == user_arn else None

    def kms_key(self, account, region, key_arn):
        try:
            key = self.strict.moto.backend("kms", account, region).describe_key(key_arn)
        except Exception:
            return None
        return {"Arn": key.arn, "KeyState": key.key_state, "KeySpec": key.key_spec, "KeyUsage": key.key_usage}

    # -- Kubernetes ---------------------------------------------------------------------------

    def kube_endpoint(self):
        kube = self.strict.kube or {}
        if kube.get("endpoint") and kube.get("ca_data"):
            return kube["endpoint"], kube["ca_data"]
        return None
