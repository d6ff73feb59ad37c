#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: s3_bucket_logging
short_description: Server access logging of an S3 bucket, without ACLs
version_added: 0.1.0
description:
  - Turns the server access logging of an S3 bucket on (into O(target_bucket) under
    O(target_prefix)) or off.
  - It never changes an ACL. On a destination bucket with object ownership
    C(BucketOwnerEnforced) (ACLs disabled, as AWS recommends and as the collection's buckets
    have) S3 refuses any ACL grant with C(AccessControlListNotSupported); the logging service
    is then allowed by the destination's bucket policy (principal C(logging.s3.amazonaws.com),
    C(s3:PutObject)). C(community.aws.s3_logging) grants the LogDelivery group through the
    destination's ACL and so fails there.
  - One C(GetBucketLogging) call; C(PutBucketLogging) only when the setting differs. In check
    mode a bucket that does not exist yet counts as not logging.
options:
  name:
    description: The bucket whose requests are logged.
    type: str
    required: true
  target_bucket:
    description:
      - The bucket that receives the log objects; required with O(state=present).
      - S3 delivers server access logs only to a bucket in the same region and account whose
        default encryption is SSE-S3.
    type: str
  target_prefix:
    description: Prefix of the log objects' keys.
    type: str
    default: ""
  state:
    description: V(present) turns logging on, V(absent) off.
    type: str
    choices: [present, absent]
    default: present
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Log a bucket's requests into the access logs bucket
  honeyhive.platform.s3_bucket_logging:
    name: hh-metrics-prod-us-west-2
    target_bucket: hh-access-logs-prod-us-west-2
    target_prefix: metrics/

- name: Stop logging
  honeyhive.platform.s3_bucket_logging:
    name: hh-metrics-prod-us-west-2
    state: absent
"""

RETURN = r"""
logging:
  description: The bucket's logging after the run; empty when logging is off.
  returned: always
  type: dict
  contains:
    target_bucket:
      description: The destination bucket.
      type: str
      sample: hh-access-logs-prod-us-west-2
    target_prefix:
      description: The prefix of the log objects.
      type: str
      sample: metrics/
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client


def current_logging(module, client):
    try:
        enabled = client.get_bucket_logging(aws_retry=True, Bucket=module.params["name"]).get("LoggingEnabled")
    except is_boto3_error_code("NoSuchBucket") as e:
        # A check run before the bucket exists: nothing is logged yet.
        if not module.check_mode:
            module.fail_json_aws(e, msg="Cannot read the logging of bucket %s" % module.params["name"])
        return {}
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Cannot read the logging of bucket %s" % module.params["name"])
    if not enabled:
        return {}
    return {"target_bucket": enabled.get("TargetBucket"), "target_prefix": enabled.get("TargetPrefix", "")}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            target_bucket=dict(type="str"),
            target_prefix=dict(type="str", default=""),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        required_if=[("state", "present", ["target_bucket"])],
        supports_check_mode=True,
    )
    client = retrying_client(module, "s3")
    before = current_logging(module, client)
    if module.params["state"] == "present":
        after = {"target_bucket": module.params["target_bucket"], "target_prefix": module.params["target_prefix"]}
        status = {"LoggingEnabled": {"TargetBucket": after["target_bucket"], "TargetPrefix": after["target_prefix"]}}
    else:
        after = {}
        status = {}
    changed = before != after
    if changed and not module.check_mode:
        try:
            client.put_bucket_logging(aws_retry=True, Bucket=module.params["name"], BucketLoggingStatus=status)
        except boto_errors() as e:
            module.fail_json_aws(e, msg="Cannot set the logging of bucket %s" % module.params["name"])
    exit_with_diff(module, dict(changed=changed, logging=after), before, after)


if __name__ == "__main__":
    main()
