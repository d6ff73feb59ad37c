# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""IAM filter: ``workload_trust_policy(service_accounts, mode, oidc_provider_arn)``.

The trust policy of a role that Kubernetes service accounts assume, through IRSA (the
cluster's IAM OIDC provider) or EKS Pod Identity. Documentation lives in the sidecar
``workload_trust_policy.yml``.
"""
from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

_SA = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_PROVIDER = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::\d{12}:oidc-provider/(?P<issuer>.+)$")


def workload_trust_policy(service_accounts, mode="irsa", oidc_provider_arn=""):
    """Return the trust policy (a dict) for ``namespace:name`` service accounts."""
    if isinstance(service_accounts, str):
        service_accounts = [service_accounts]
    if not isinstance(service_accounts, list) or not service_accounts:
        raise AnsibleFilterError("workload_trust_policy: the input must be a list of namespace:name service accounts")
    for sa in service_accounts:
        if not isinstance(sa, str) or not _SA.match(sa):
            raise AnsibleFilterError(
                "workload_trust_policy: %r is not a service account; allowed: namespace:name in lowercase" % (sa,))
    if mode == "pod_identity":
        return {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "EksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }],
        }
    if mode != "irsa":
        raise AnsibleFilterError("workload_trust_policy: mode %r is invalid; allowed: irsa, pod_identity" % (mode,))
    match = _PROVIDER.match(oidc_provider_arn or "")
    if not match:
        raise AnsibleFilterError(
            "workload_trust_policy: oidc_provider_arn %r is not the ARN of an IAM OIDC provider; allowed: "
            "arn:aws:iam::<account>:oidc-provider/<issuer> (the eks role's eks_outputs.oidc_provider_arn)"
            % (oidc_provider_arn,))
    issuer = match.group("issuer")
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ServiceAccounts",
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    issuer + ":sub": ["system:serviceaccount:" + sa for sa in service_accounts],
                    issuer + ":aud": "sts.amazonaws.com",
                },
            },
        }],
    }


class FilterModule:
    """IAM filters."""

    def filters(self):
        return {"workload_trust_policy": workload_trust_policy}
