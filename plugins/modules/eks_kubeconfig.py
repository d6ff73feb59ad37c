#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_kubeconfig
short_description: Write a kubeconfig whose exec plugin makes fresh EKS tokens
version_added: 0.1.0
description:
  - Writes a kubeconfig for an Amazon EKS cluster (API server endpoint and certificate authority
    from C(DescribeCluster), or from O(endpoint) and O(ca_data)) to O(dest), mode C(0600), whose
    user is an C(exec) credential plugin - O(exec_command) followed by
    C(--cluster-name <name> --region <region>), run with O(exec_env) - that prints an EKS bearer
    token as a C(client.authentication.k8s.io/v1beta1) C(ExecCredential).
  - client-go (kubectl, helm) and the kubernetes Python client (C(kubernetes.core)) run the plugin
    whenever the token they hold has expired, so a long C(helm --wait) or a long wait for a
    resource never works with an expired token. The collection's plugin is
    C(plugins/module_utils/eks_token.py) of this collection (botocore only), which presigns STS
    C(GetCallerIdentity) as C(aws eks get-token) does; C(aws eks get-token) itself works as well.
  - The file holds no credential, so it stays the same from run to run and the module reports
    C(changed) only when its content or mode changes.
options:
  cluster_name:
    description:
      - Name of the EKS cluster; the plugin signs it as the C(x-k8s-aws-id) header of the token.
    type: str
    required: true
  dest:
    description:
      - File to write the kubeconfig to (mode C(0600), missing parent directories are created
        with mode C(0700)). With O(state=absent) the file is removed.
    type: path
    required: true
  endpoint:
    description:
      - API server URL of the cluster. Given together with O(ca_data), the C(DescribeCluster)
        call is skipped.
    type: str
  ca_data:
    description:
      - Base64 encoded certificate authority data of the API server. Given together with O(endpoint).
    type: str
  context_name:
    description:
      - Name of the cluster, user and context entries of the kubeconfig. Default O(cluster_name).
    type: str
  exec_command:
    description:
      - The plugin's command line before C(--cluster-name) and C(--region), for example
        C([python3, /path/to/eks_token.py]) or C([aws, eks, get-token]).
      - Required with O(state=present).
    type: list
    elements: str
  exec_env:
    description:
      - Environment of the plugin (the kubeconfig's C(exec.env)), for example C(AWS_CONFIG_FILE) and
        C(AWS_PROFILE) of the deployment role's profile. The plugin also inherits the environment of
        the program that runs it.
    type: dict
    default: {}
  wait:
    description:
      - Wait until a cluster that is still being created or updated is C(ACTIVE) before reading its
        endpoint.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the cluster.
    type: int
    default: 1800
  state:
    description:
      - V(present) writes the kubeconfig, V(absent) removes O(dest).
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - Supports check mode and diff mode.
  - The IAM principal of the plugin's credentials needs an access entry in the cluster; see
    M(honeyhive.platform.eks_access_entry).
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Kubeconfig of the cluster; its exec plugin assumes the deployment role's profile
  honeyhive.platform.eks_kubeconfig:
    cluster_name: honeyhive-prod-usw2
    dest: "{{ platform_work_dir }}/kubeconfig"
    exec_command:
      - "{{ ansible_playbook_python }}"
      - "{{ collection_path }}/plugins/module_utils/eks_token.py"
    exec_env:
      AWS_CONFIG_FILE: "{{ session_config_file }}"
      AWS_PROFILE: honeyhive-platform-prod-us-west-2
  register: eks_kube

- name: Use it with kubernetes.core (tokens are made as they are needed)
  kubernetes.core.k8s:
    kubeconfig: "{{ eks_kube.path }}"
    state: present
    definition:
      apiVersion: v1
      kind: Namespace
      metadata:
        name: honeyhive

- name: The same with the AWS CLI as the plugin
  honeyhive.platform.eks_kubeconfig:
    cluster_name: honeyhive-prod-usw2
    dest: "{{ platform_work_dir }}/kubeconfig-cli"
    exec_command: [aws, eks, get-token, --output, json]
"""

RETURN = r"""
cluster_name:
  description: Name of the cluster.
  returned: always
  type: str
path:
  description: The kubeconfig file (O(dest)); null after O(state=absent).
  returned: always
  type: str
  sample: /home/runner/.honeyhive/kubeconfig
endpoint:
  description: API server URL.
  returned: when O(state=present)
  type: str
certificate_authority_data:
  description: Base64 encoded certificate authority data.
  returned: when O(state=present)
  type: str
context:
  description: Name of the kubeconfig context.
  returned: when O(state=present)
  type: str
kubeconfig:
  description: The kubeconfig as data (it holds no credential).
  returned: when O(state=present)
  type: dict
"""

import os
import tempfile

try:
    import yaml
except ImportError:
    yaml = None

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import build_kubeconfig
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_cluster_name
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import describe_cluster
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import eks_client
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import wait_status

FILE_MODE = 0o600
POLL_DELAY = 15


def validate(module):
    params = module.params
    check_cluster_name(module)
    check_range(module, "wait_timeout", 0, 86400)
    if os.path.isdir(params["dest"]):
        module.fail_json(msg=invalid_value("dest", params["dest"], "Allowed: a file path, not a directory."))
    if params["state"] == "absent":
        return
    endpoint = params["endpoint"]
    if endpoint is not None and not endpoint.startswith("https://"):
        module.fail_json(msg=invalid_value("endpoint", endpoint, "Allowed: the https:// URL of the API server."))
    if not params["exec_command"]:
        module.fail_json(msg="Option 'exec_command' is required when state is 'present': the command that prints "
                         "the EKS token, such as [python3, .../plugins/module_utils/eks_token.py].")
    if not params.get("region"):
        module.fail_json(msg="Option 'region' is required: the plugin signs the token for the cluster's region.")
    if yaml is None:
        module.fail_json(msg="The Python module yaml (PyYAML) is required on the host that runs this module.")


def dump(config):
    return yaml.safe_dump(config, default_flow_style=False, sort_keys=False)


def read_text(path):
    try:
        with open(path, "r") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def file_mode(path):
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


def write_file(module, path, text):
    """Write ``text`` to ``path`` atomically, mode 0600 from the start."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        handle, tmp = tempfile.mkstemp(prefix=".kubeconfig-", dir=directory)
        try:
            os.chmod(tmp, FILE_MODE)
            with os.fdopen(handle, "w") as out:
                out.write(text)
            os.replace(tmp, path)
        except Exception:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        os.chmod(path, FILE_MODE)
    except (IOError, OSError) as e:
        module.fail_json(msg="Failed to write the kubeconfig to %s (option 'dest'): %s" % (path, to_native(e)))


def cluster_endpoint(module):
    """(endpoint, ca data) from the options or from DescribeCluster."""
    params = module.params
    if params["endpoint"] and params["ca_data"]:
        return params["endpoint"], params["ca_data"]
    name = params["cluster_name"]
    client = eks_client(module)

    def fetch():
        return describe_cluster(module, client, name)

    cluster = fetch()
    if cluster is None:
        module.fail_json(msg=invalid_value("cluster_name", name, "The cluster does not exist in this region and account."))
    if cluster.get("status") in ("CREATING", "UPDATING", "PENDING") and params["wait"]:
        cluster = wait_status(module, fetch, "EKS cluster %s to be ACTIVE" % name,
                              lambda c: c is not None and c.get("status") == "ACTIVE", delay=POLL_DELAY)
    endpoint = cluster.get("endpoint")
    ca_data = (cluster.get("certificateAuthority") or {}).get("data")
    if not endpoint or not ca_data:
        module.fail_json(msg="EKS cluster %s (status %s) reports no API server endpoint or certificate authority yet; "
                         "run again with wait: true." % (name, cluster.get("status")))
    return endpoint, ca_data


def ensure_absent(module):
    path = module.params["dest"]
    exists = os.path.exists(path)
    if exists and not module.check_mode:
        try:
            os.unlink(path)
        except OSError as e:
            module.fail_json(msg="Failed to remove %s (option 'dest'): %s" % (path, to_native(e)))
    result = dict(changed=exists, cluster_name=module.params["cluster_name"], path=None)
    if module._diff:
        result["diff"] = dict(before={"path": path} if exists else {}, after={})
    module.exit_json(**result)


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        dest=dict(type="path", required=True),
        endpoint=dict(type="str"),
        ca_data=dict(type="str"),
        context_name=dict(type="str"),
        exec_command=dict(type="list", elements="str"),
        exec_env=dict(type="dict", default={}),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                              required_together=[("endpoint", "ca_data")])
    validate(module)
    params = module.params
    if params["state"] == "absent":
        ensure_absent(module)

    endpoint, ca_data = cluster_endpoint(module)
    context = params["context_name"] or params["cluster_name"]
    command = list(params["exec_command"]) + ["--cluster-name", params["cluster_name"], "--region", params["region"]]
    config = build_kubeconfig(context, endpoint, ca_data, command, params["exec_env"])
    text = dump(config)
    path = params["dest"]
    old = read_text(path)
    changed = old != text or file_mode(path) != FILE_MODE
    if changed and not module.check_mode:
        write_file(module, path, text)
    result = dict(changed=changed, cluster_name=params["cluster_name"], path=path, endpoint=endpoint,
                  certificate_authority_data=ca_data, context=context, kubeconfig=config)
    if module._diff:
        result["diff"] = dict(before=old or "", after=text, before_header=path, after_header=path) if changed \
            else dict(before="", after="")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
