#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_cluster_info
short_description: Read an EKS cluster, or learn that it does not exist
version_added: 0.2.0
description:
  - Reads one Amazon EKS cluster with one C(DescribeCluster) call and returns it in the
    shape M(honeyhive.platform.eks_cluster) returns it. A cluster that does not exist is
    no error - O(name) is then simply absent (RV(exists=false)).
  - The preflight role reads the cluster this way before a run changes anything, to refuse
    a Kubernetes version skip or downgrade up front.
  - Throttling and 5xx answers are retried. Changes nothing; supports check mode.
options:
  name:
    description:
      - Name of the cluster. 1 to 100 letters, digits, hyphens and underscores, starting with
        a letter or digit.
    type: str
    required: true
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the platform cluster
  honeyhive.platform.eks_cluster_info:
    name: honeyhive-prod-usw2-eks
  register: cluster

- name: Show the version it runs
  ansible.builtin.debug:
    msg: "{{ cluster.cluster.version if cluster.exists else 'no cluster yet' }}"
"""

RETURN = r"""
exists:
  description: Whether the cluster exists.
  returned: always
  type: bool
  sample: true
cluster:
  description:
    - The cluster, as M(honeyhive.platform.eks_cluster) returns it (name, arn, status,
      version, platform_version, endpoint, certificate_authority_data, oidc_issuer,
      role_arn, vpc_id, subnet_ids, security_group_ids, cluster_security_group_id,
      endpoint_public_access, endpoint_private_access, public_access_cidrs, logging,
      access_config, encryption_config, secrets_encryption_kms_key_arn, upgrade_policy,
      tags); empty when it does not exist.
  returned: always
  type: dict
  sample: {name: honeyhive-prod-usw2-eks, status: ACTIVE, version: "1.33"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_cluster_name
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import cluster_view
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import describe_cluster
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import eks_client


def main():
    module = AnsibleAWSModule(argument_spec=dict(name=dict(type="str", required=True)), supports_check_mode=True)
    check_cluster_name(module, "name")
    cluster = describe_cluster(module, eks_client(module), module.params["name"])
    module.exit_json(changed=False, exists=cluster is not None, cluster=cluster_view(cluster) if cluster else {})


if __name__ == "__main__":
    main()
