#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_kubeconfig
short_description: Make an EKS bearer token and a kubeconfig without the AWS CLI
version_added: 0.1.0
description:
  - Produces the bearer token of an Amazon EKS cluster exactly as
    C(aws eks get-token) does - a SigV4 presigned URL (60 seconds) for STS
    C(GetCallerIdentity) with the header C(x-k8s-aws-id) set to the cluster
    name among the signed headers, base64url encoded without padding and
    prefixed with C(k8s-aws-v1.) - using the module's AWS credentials, so no
    AWS CLI or exec plugin is needed. Presigning makes no request to AWS.
  - Builds a kubeconfig for the cluster (API server endpoint and certificate
    authority from C(DescribeCluster), or from O(endpoint) and O(ca_data)),
    returned as RV(kubeconfig) and, with O(dest), written to a file with mode
    C(0600).
  - The token changes on every run and is valid for 15 minutes. By default it
    is not written to the file, which then stays the same from run to run
    (the module reports changed only when the file's content or mode
    changes); pass RV(token) to C(kubernetes.core) modules as C(api_key)
    together with C(kubeconfig=dest). With O(embed_token=true) the token is
    written into the user entry for tools that read only the file (kubectl,
    helm); the file is then rewritten on every run with a fresh token, but
    changed is still reported only when anything other than the token
    differs.
  - O(local_kubeconfig) is for local control planes only - the local
    inventory maps the emulated cluster, which has no real API server, to a
    real local control plane this way. The given kubeconfig is used as it is
    (copied to O(dest) when given), no token is made and no AWS call is
    made.
options:
  cluster_name:
    description:
      - Name of the EKS cluster; also the value of the C(x-k8s-aws-id) header
        of the token.
    type: str
    required: true
  dest:
    description:
      - File to write the kubeconfig to (mode C(0600), missing parent
        directories are created with mode C(0700)). When omitted the
        kubeconfig is only returned.
      - With O(state=absent) the file is removed.
    type: path
  endpoint:
    description:
      - API server URL of the cluster. Given together with O(ca_data), the
        C(DescribeCluster) call is skipped.
    type: str
  ca_data:
    description:
      - Base64 encoded certificate authority data of the API server. Given
        together with O(endpoint).
    type: str
  context_name:
    description:
      - Name of the cluster, user and context entries of the kubeconfig.
        Default O(cluster_name).
    type: str
  embed_token:
    description:
      - Write the token into the kubeconfig's user entry (C(token) field).
        See the description for what this does to idempotence.
    type: bool
    default: false
  local_kubeconfig:
    description:
      - For local control planes only. Path of an existing kubeconfig to use
        instead of the EKS cluster's API server. No token is made and no AWS
        call is made.
    type: path
  wait:
    description:
      - Wait until a cluster that is still being created or updated is
        C(ACTIVE) before reading its endpoint.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the cluster.
    type: int
    default: 1800
  state:
    description:
      - V(present) makes the token and kubeconfig, V(absent) removes O(dest).
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - Supports check mode and diff mode (the token is never shown in a diff).
  - RV(token) is a credential. Use C(no_log=true) on the task (the module
    warns when it is not set); the registered result still holds the token
    for later tasks.
  - The IAM principal of the module's credentials needs an access entry (or
    an C(aws-auth) mapping) in the cluster; see
    M(honeyhive.platform.eks_access_entry).
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Kubeconfig and token for the cluster
  honeyhive.platform.eks_kubeconfig:
    cluster_name: honeyhive-prod-usw2
    dest: "{{ platform_work_dir }}/kubeconfig"
  register: eks_kube
  no_log: true

- name: Use them with kubernetes.core
  kubernetes.core.k8s:
    kubeconfig: "{{ eks_kube.path }}"
    api_key: "{{ eks_kube.token }}"
    state: present
    definition:
      apiVersion: v1
      kind: Namespace
      metadata:
        name: honeyhive

- name: A self-contained kubeconfig for kubectl and helm (valid 15 minutes)
  honeyhive.platform.eks_kubeconfig:
    cluster_name: honeyhive-prod-usw2
    endpoint: "{{ eks_outputs.endpoint }}"
    ca_data: "{{ eks_outputs.certificate_authority_data }}"
    dest: "{{ platform_work_dir }}/kubeconfig-embedded"
    embed_token: true
  no_log: true

- name: Local runs - the emulated cluster maps to a local control plane
  honeyhive.platform.eks_kubeconfig:
    cluster_name: honeyhive-local
    local_kubeconfig: "{{ platform_local_kubeconfig }}"
  register: eks_kube
"""

RETURN = r"""
cluster_name:
  description: Name of the cluster.
  returned: always
  type: str
path:
  description: The kubeconfig file to use - O(dest), or O(local_kubeconfig) when no O(dest) is given; null when nothing was written.
  returned: always
  type: str
  sample: /home/runner/.honeyhive/kubeconfig
endpoint:
  description: API server URL.
  returned: when O(state=present)
  type: str
certificate_authority_data:
  description: Base64 encoded certificate authority data (null with O(local_kubeconfig)).
  returned: when O(state=present)
  type: str
context:
  description: Name of the kubeconfig context.
  returned: when O(state=present)
  type: str
kubeconfig:
  description:
    - The kubeconfig as data, always without the token (with O(embed_token)
      the file has it in the user entry). Not returned with
      O(local_kubeconfig), whose file may hold client keys.
  returned: when O(state=present) and O(local_kubeconfig) is not given
  type: dict
token:
  description:
    - Sensitive. The EKS bearer token (C(k8s-aws-v1.)...), valid for 15
      minutes. Never shown in a diff or in any other key. Register the
      result of a task with C(no_log=true).
  returned: when O(state=present) and O(local_kubeconfig) is not given
  type: str
expiration:
  description: When the token expires (UTC), as C(aws eks get-token) reports it.
  returned: when RV(token) is returned
  type: str
  sample: "2025-01-01T12:14:00Z"
"""

import os
import tempfile

try:
    import yaml
except ImportError:
    yaml = None

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import build_kubeconfig
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import check_cluster_name
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import describe_cluster
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import eks_client
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import get_token
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import wait_status
from ansible_collections.honeyhive.platform.plugins.module_utils.eks import without_tokens

FILE_MODE = 0o600
POLL_DELAY = 15


def validate(module):
    params = module.params
    check_cluster_name(module)
    check_range(module, "wait_timeout", 0, 86400)
    if params["state"] == "absent":
        if not params["dest"]:
            module.fail_json(msg="Option 'dest' is required when state is 'absent'.")
        return
    endpoint = params["endpoint"]
    if endpoint is not None and not endpoint.startswith("https://"):
        module.fail_json(msg=invalid_value("endpoint", endpoint, "Allowed: the https:// URL of the API server."))
    if params["local_kubeconfig"]:
        path = params["local_kubeconfig"]
        if not os.path.isfile(path):
            module.fail_json(msg=invalid_value("local_kubeconfig", path, "Allowed: the path of an existing kubeconfig file."))
    if params["dest"] and os.path.isdir(params["dest"]):
        module.fail_json(msg=invalid_value("dest", params["dest"], "Allowed: a file path, not a directory."))
    if yaml is None:
        module.fail_json(msg="The Python module yaml (PyYAML) is required on the host that runs this module.")


# ---------------------------------------------------------------- files


def dump(config):
    return yaml.safe_dump(config, default_flow_style=False, sort_keys=False)


def read_text(path):
    try:
        with open(path, "r") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def load(text):
    if text is None:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


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


def sync_file(module, path, text, compare, always_write=False):
    """Make ``path`` hold ``text`` with mode 0600.

    ``compare(old_text)`` says whether the file already has the wanted
    content (ignoring what may differ between runs). Returns (changed,
    before text). ``always_write`` rewrites an equal file anyway (a fresh
    token) without reporting a change.
    """
    old = read_text(path)
    same = old is not None and compare(old)
    changed = not same or file_mode(path) != FILE_MODE
    if not module.check_mode and (changed or always_write):
        write_file(module, path, text)
    return changed, old


# ---------------------------------------------------------------- cluster


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
    return params["endpoint"] or endpoint, params["ca_data"] or ca_data


def make_token(module):
    sts = module.client("sts")
    try:
        return get_token(sts, module.params["cluster_name"])
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to sign the EKS token for cluster %s (check the AWS credentials)" % module.params["cluster_name"])


# ------------------------------------------------------------------ main


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


def local(module):
    """Use a local control plane's kubeconfig (local runs only)."""
    params = module.params
    source = params["local_kubeconfig"]
    text = read_text(source)
    config = load(text)
    if not isinstance(config, dict) or not config.get("clusters"):
        module.fail_json(msg=invalid_value("local_kubeconfig", source, "Allowed: a kubeconfig file (YAML with a clusters list)."))
    current = config.get("current-context")
    context = next((c for c in config.get("contexts") or [] if c.get("name") == current), None) or \
        ((config.get("contexts") or [None])[0]) or {}
    cluster_entry = (context.get("context") or {}).get("cluster")
    cluster = next((c for c in config["clusters"] if c.get("name") == cluster_entry), config["clusters"][0])
    result = dict(
        changed=False, cluster_name=params["cluster_name"], path=source, endpoint=(cluster.get("cluster") or {}).get("server"),
        certificate_authority_data=None, context=context.get("name"),
    )
    if params["dest"] and os.path.abspath(params["dest"]) != os.path.abspath(source):
        changed, old = sync_file(module, params["dest"], text, lambda old: old == text)
        result.update(changed=changed, path=params["dest"])
        if module._diff:
            # the file may hold client keys: the diff names files, never content
            before = {"path": params["dest"], "copy_of": "(other content)"} if old is not None else {}
            result["diff"] = diff(before, {"path": params["dest"], "copy_of": source}) if changed else diff({}, {})
    module.exit_json(**result)


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        dest=dict(type="path"),
        endpoint=dict(type="str"),
        ca_data=dict(type="str"),
        context_name=dict(type="str"),
        embed_token=dict(type="bool", default=False),
        local_kubeconfig=dict(type="path"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_together=[("endpoint", "ca_data")],
        mutually_exclusive=[("local_kubeconfig", "endpoint"), ("local_kubeconfig", "ca_data"), ("local_kubeconfig", "embed_token")],
    )
    validate(module)
    params = module.params

    if params["state"] == "absent":
        ensure_absent(module)
    if params["local_kubeconfig"]:
        local(module)

    endpoint, ca_data = cluster_endpoint(module)
    token, expiration = make_token(module)
    context = params["context_name"] or params["cluster_name"]
    plain = build_kubeconfig(context, endpoint, ca_data)
    written = build_kubeconfig(context, endpoint, ca_data, token if params["embed_token"] else None)

    changed = False
    before = None
    if params["dest"]:
        wanted = without_tokens(written)
        changed, old = sync_file(
            module, params["dest"], dump(written), lambda text: without_tokens(load(text)) == wanted,
            always_write=params["embed_token"],
        )
        before = without_tokens(load(old)) if old is not None else None

    if not module.no_log:
        module.warn("The result holds an EKS bearer token in 'token'; set no_log: true on this task.")
    result = dict(
        changed=changed,
        cluster_name=params["cluster_name"],
        path=params["dest"],
        endpoint=endpoint,
        certificate_authority_data=ca_data,
        context=context,
        kubeconfig=plain,
        token=token,
        expiration=expiration,
    )
    if module._diff:
        # kubeconfig text without any token; unchanged files show no diff
        result["diff"] = dict(before="", after="")
        if changed:
            result["diff"] = dict(
                before=dump(before) if isinstance(before, dict) else "",
                after=dump(without_tokens(written)),
                before_header=params["dest"],
                after_header=params["dest"],
            )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
