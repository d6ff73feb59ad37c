#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: acm_dns_certificate
short_description: Request a public ACM certificate validated through DNS
version_added: 0.1.0
description:
  - Requests a public AWS Certificate Manager certificate with DNS validation
    and returns the DNS records that prove domain ownership.
  - The certificate is found again by its C(Name) tag when O(tags) has one,
    otherwise by its domain name and subject alternative names, among
    certificates that are pending validation or issued.
  - The request carries an C(IdempotencyToken) derived from the name, domain
    and alternative names, so a retried request does not create a second
    certificate.
  - AWS fills in the validation records a few seconds after the request; the
    module polls until every domain has its record.
  - Certificates cannot be changed. A different O(domain_name) or
    O(subject_alternative_names) requests a new certificate; the old one is
    kept (it may still be attached to a load balancer) and a warning names it.
    Remove it with O(state=absent) once nothing uses it.
  - Typical use is two tasks, with the DNS records created in between, see
    the examples.
options:
  domain_name:
    description:
      - Fully qualified domain name of the certificate, for example
        V(app.example.com) or V(*.example.com).
      - Required when O(state=present). With O(state=absent) it narrows the
        search; without it every certificate with the C(Name) tag is deleted.
    type: str
  subject_alternative_names:
    description:
      - Additional names for the certificate, at most 99 (the domain name
        itself is always included).
    type: list
    elements: str
    default: []
    aliases: ['sans']
  wait:
    description:
      - Wait until the certificate is C(ISSUED). This only happens once the
        validation records exist in DNS.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the validation records to appear and, with
        O(wait=true), for the certificate to be issued.
    type: int
    default: 600
  state:
    description:
      - V(present) requests the certificate, V(absent) deletes it.
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - Tag the certificate with a C(Name) tag (see O(tags)); it is how the
    module recognises the certificate on later runs and in teardown.
author:
  - HoneyHive platform engineering (@honeyhiveai)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Request the certificate
  honeyhive.platform.acm_dns_certificate:
    domain_name: app.example.com
    subject_alternative_names:
      - api.example.com
    tags: "{{ platform_tags | combine({'Name': 'honeyhive-prod-app'}) }}"
  register: certificate

- name: Publish the validation records
  amazon.aws.route53:
    zone: example.com
    record: "{{ item.name }}"
    type: "{{ item.type }}"
    value: "{{ item.value }}"
    ttl: 300
    overwrite: true
    region: null
  loop: "{{ certificate.validation_records }}"

- name: Wait until ACM has issued it
  honeyhive.platform.acm_dns_certificate:
    domain_name: app.example.com
    subject_alternative_names:
      - api.example.com
    tags: "{{ platform_tags | combine({'Name': 'honeyhive-prod-app'}) }}"
    wait: true
    wait_timeout: 1800

- name: Delete it
  honeyhive.platform.acm_dns_certificate:
    tags:
      Name: honeyhive-prod-app
    state: absent
"""

RETURN = r"""
certificate_arn:
  description: ARN of the certificate (null in check mode before it exists, and after deletion).
  returned: always
  type: str
  sample: arn:aws:acm:us-west-2:111122223333:certificate/0f7a1c5e-1111-2222-3333-444455556666
status:
  description: Status of the certificate, such as C(PENDING_VALIDATION) or C(ISSUED).
  returned: when O(state=present)
  type: str
  sample: PENDING_VALIDATION
domain_name:
  description: Domain name of the certificate.
  returned: when O(state=present)
  type: str
  sample: app.example.com
subject_alternative_names:
  description: All names of the certificate, the domain name included.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [app.example.com, api.example.com]
validation_records:
  description:
    - DNS records to create for validation, one per distinct record (a
      wildcard and its apex share one).
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    domain_name:
      description: The name being validated.
      type: str
      sample: app.example.com
    name:
      description: Record name.
      type: str
      sample: _3b1a0d6f1c1e3f5a.app.example.com.
    type:
      description: Record type.
      type: str
      sample: CNAME
    value:
      description: Record value.
      type: str
      sample: _8f1b0c2a.abcdefghij.acm-validations.aws.
tags:
  description: Tags of the certificate.
  returned: when O(state=present)
  type: dict
  sample: {Name: honeyhive-prod-app}
deleted_certificate_arns:
  description: Certificates deleted by O(state=absent).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: []
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.honeyhive.platform.plugins.module_utils.aws import all_pages
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import apply_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import boto_errors
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_range
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import check_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import client_token
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import exit_with_diff
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import invalid_value
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import retrying_client
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import stringify_tags
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_dict
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import tags_to_list
from ansible_collections.honeyhive.platform.plugins.module_utils.aws import wait_for

DOMAIN_RE = re.compile(r"^(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$")
ACTIVE_STATUSES = ["PENDING_VALIDATION", "ISSUED"]
FAILED_STATUSES = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")
POLL_DELAY = 5


def validate(module):
    params = module.params
    check_tags(module)
    check_range(module, "wait_timeout", 0, 86400)
    domain = params["domain_name"]
    if params["state"] == "present" and not domain:
        module.fail_json(msg="Option 'domain_name' is required when state is 'present'.")
    if params["state"] == "absent" and not domain and not (params["tags"] or {}).get("Name"):
        module.fail_json(
            msg="With state 'absent', give 'domain_name' or a 'Name' tag in 'tags' so the certificate can be found."
        )
    allowed = "Allowed: a fully qualified domain name of at most 253 characters, optionally starting with '*.'."
    if domain is not None and (len(domain) > 253 or not DOMAIN_RE.match(domain)):
        module.fail_json(msg=invalid_value("domain_name", domain, allowed))
    sans = params["subject_alternative_names"] or []
    for name in sans:
        if len(name) > 253 or not DOMAIN_RE.match(name):
            module.fail_json(msg=invalid_value("subject_alternative_names", name, allowed))
    if len(wanted_names(domain, sans)) > 100:
        module.fail_json(
            msg=invalid_value(
                "subject_alternative_names", "%d names" % len(sans), "Allowed: at most 100 names, the domain name included."
            )
        )


def wanted_names(domain, sans):
    names = [domain.lower()] if domain else []
    for name in sans or []:
        if name.lower() not in names:
            names.append(name.lower())
    return names


def list_certificates(module, client, statuses=None):
    request = {}
    if statuses:
        request["CertificateStatuses"] = statuses
    try:
        return all_pages(client.list_certificates, "CertificateSummaryList", request)
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to list ACM certificates")


def get_tags(module, client, arn):
    try:
        return tags_to_dict(client.list_tags_for_certificate(CertificateArn=arn, aws_retry=True).get("Tags"))
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read the tags of %s" % arn)


def describe(module, client, arn):
    try:
        return client.describe_certificate(CertificateArn=arn, aws_retry=True)["Certificate"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except boto_errors() as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to describe certificate %s" % arn)


def summary_names(summary):
    """All names of a list entry, or None when the summary does not have them all."""
    if "SubjectAlternativeNameSummaries" not in summary or summary.get("HasAdditionalSubjectAlternativeNames"):
        return None
    return set(n.lower() for n in summary["SubjectAlternativeNameSummaries"]) | {summary["DomainName"].lower()}


def find_present(module, client, name, domain, names):
    """(certificate, tags, stale) for state=present.

    ``certificate`` is the pending or issued certificate for exactly these
    names (and this Name tag when there is one); ``stale`` lists certificates
    with the same Name tag for other names.
    """
    wanted = set(names)
    found = []
    stale = []
    # Issued first, so an issued certificate wins over a pending duplicate.
    summaries = sorted(list_certificates(module, client, ACTIVE_STATUSES), key=lambda s: s.get("Status") != "ISSUED")
    for summary in summaries:
        if summary.get("DomainName", "").lower() != domain.lower():
            continue
        listed = summary_names(summary)
        if listed is not None and listed != wanted and not name:
            continue
        tags = None
        if name:
            tags = get_tags(module, client, summary["CertificateArn"])
            if tags is None or tags.get("Name") != name:
                continue
            if listed is not None and listed != wanted:
                stale.append(summary["CertificateArn"])
                continue
        certificate = describe(module, client, summary["CertificateArn"])
        if certificate is None:
            continue
        if set(n.lower() for n in certificate.get("SubjectAlternativeNames", [])) | {domain.lower()} != wanted:
            if name:
                stale.append(summary["CertificateArn"])
            continue
        found.append((certificate, tags))
        break
    if not found:
        return None, None, stale
    certificate, tags = found[0]
    if tags is None:
        tags = get_tags(module, client, certificate["CertificateArn"]) or {}
    return certificate, tags, stale


def find_absent(module, client, name, domain, names):
    """ARNs of every certificate (any status) this task describes."""
    arns = []
    wanted = set(names) if domain else None
    for summary in list_certificates(module, client):
        if domain and summary.get("DomainName", "").lower() != domain.lower():
            continue
        if name:
            tags = get_tags(module, client, summary["CertificateArn"])
            if tags is None or tags.get("Name") != name:
                continue
            arns.append(summary["CertificateArn"])
            continue
        listed = summary_names(summary)
        if listed is None:
            certificate = describe(module, client, summary["CertificateArn"])
            if certificate is None:
                continue
            listed = set(n.lower() for n in certificate.get("SubjectAlternativeNames", [])) | {domain.lower()}
        if listed == wanted:
            arns.append(summary["CertificateArn"])
    return arns


def validation_records(certificate):
    records = []
    seen = set()
    for option in (certificate or {}).get("DomainValidationOptions", []):
        record = option.get("ResourceRecord")
        if not record:
            continue
        key = (record.get("Name"), record.get("Type"), record.get("Value"))
        if key in seen:
            continue
        seen.add(key)
        records.append(dict(domain_name=option.get("DomainName"), name=record.get("Name"), type=record.get("Type"),
                            value=record.get("Value")))
    return records


def records_complete(certificate):
    if certificate is None:
        return False
    if certificate.get("Status") == "ISSUED":
        return True
    options = certificate.get("DomainValidationOptions") or []
    return bool(options) and all(option.get("ResourceRecord") for option in options)


def certificate_failed(certificate):
    if certificate is None:
        return "the certificate disappeared"
    status = certificate.get("Status")
    if status in FAILED_STATUSES:
        reason = certificate.get("FailureReason")
        return "status %s%s" % (status, " (%s)" % reason if reason else "")
    return None


def wait_until(module, client, arn, done, what):
    certificate, problem = wait_for(
        lambda: describe(module, client, arn),
        done,
        timeout=module.params["wait_timeout"],
        delay=POLL_DELAY,
        failed=certificate_failed,
    )
    if problem == "timeout":
        module.fail_json(
            msg="Timed out after %d seconds (option 'wait_timeout') waiting for %s of %s; last status %s."
            % (module.params["wait_timeout"], what, arn, (certificate or {}).get("Status")),
            certificate_arn=arn,
            validation_records=validation_records(certificate),
        )
    if problem:
        module.fail_json(msg="Certificate %s cannot be issued: %s." % (arn, problem), certificate_arn=arn)
    return certificate


def request(module, client, name, domain, names, tags):
    params = dict(
        DomainName=domain,
        ValidationMethod="DNS",
        IdempotencyToken=client_token(name or "", *names, length=32),
    )
    if len(names) > 1:
        params["SubjectAlternativeNames"] = names
    if tags:
        params["Tags"] = tags_to_list(tags)
    try:
        return client.request_certificate(aws_retry=True, **params)["CertificateArn"]
    except boto_errors() as e:
        module.fail_json_aws(e, msg="Failed to request a certificate for %s" % ", ".join(names))


def update_tags(module, client, arn, current):
    params = module.params

    def untag(keys):
        client.remove_tags_from_certificate(
            CertificateArn=arn, Tags=[{"Key": key, "Value": current[key]} for key in keys], aws_retry=True
        )

    def tag(to_set):
        client.add_tags_to_certificate(CertificateArn=arn, Tags=tags_to_list(to_set), aws_retry=True)

    return apply_tags(module, current, params["tags"], params["purge_tags"], untag, tag,
                      "Failed to update the tags of %s" % arn)


def view(certificate, tags):
    if not certificate:
        return {}
    return dict(
        certificate_arn=certificate.get("CertificateArn"),
        domain_name=certificate.get("DomainName"),
        subject_alternative_names=list(certificate.get("SubjectAlternativeNames") or []),
        tags=tags or {},
    )


def ensure_absent(module, client, name, domain, names):
    arns = find_absent(module, client, name, domain, names)
    deleted = []
    for arn in arns:
        if not module.check_mode:
            try:
                client.delete_certificate(CertificateArn=arn, aws_retry=True)
            except is_boto3_error_code("ResourceNotFoundException"):
                continue
            except is_boto3_error_code("ResourceInUseException") as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(
                    e,
                    msg="Certificate %s is still in use (by a load balancer or CloudFront); detach it before deleting."
                    % arn,
                    deleted_certificate_arns=deleted,
                )
            except boto_errors() as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg="Failed to delete certificate %s" % arn, deleted_certificate_arns=deleted)
        deleted.append(arn)
    result = dict(changed=bool(deleted), certificate_arn=None, deleted_certificate_arns=deleted)
    exit_with_diff(module, result, {"certificate_arns": arns} if arns else {}, {})


def main():
    argument_spec = dict(
        domain_name=dict(type="str"),
        subject_alternative_names=dict(type="list", elements="str", default=[], aliases=["sans"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=600),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    params = module.params
    tags = stringify_tags(params["tags"]) if params["tags"] is not None else None
    name = (tags or {}).get("Name")
    domain = params["domain_name"]
    names = wanted_names(domain, params["subject_alternative_names"])

    client = retrying_client(module, "acm")

    if params["state"] == "absent":
        ensure_absent(module, client, name, domain, names)

    certificate, current_tags, stale = find_present(module, client, name, domain, names)
    changed = False
    before = view(certificate, current_tags)

    if certificate is None:
        changed = True
        if module.check_mode:
            result = dict(
                changed=True,
                certificate_arn=None,
                status=None,
                domain_name=domain,
                subject_alternative_names=names,
                validation_records=[],
                tags=tags or {},
            )
            planned = dict(domain_name=domain, subject_alternative_names=names, tags=tags or {})
            exit_with_diff(module, result, {}, planned)
        arn = request(module, client, name, domain, names, tags)
        current_tags = dict(tags or {})
        certificate = {"CertificateArn": arn}
    else:
        arn = certificate["CertificateArn"]
        current_tags, tags_changed = update_tags(module, client, arn, current_tags)
        changed = changed or tags_changed

    for stale_arn in stale:
        module.warn(
            "Certificate %s has the Name tag %r but other names; it was kept because it may still be in use. "
            "Delete it once nothing uses it." % (stale_arn, name)
        )

    if not module.check_mode:
        if not records_complete(certificate) or certificate_failed(certificate):
            certificate = wait_until(module, client, arn, records_complete, "the DNS validation records")
        if params["wait"] and certificate.get("Status") != "ISSUED":
            certificate = wait_until(module, client, arn, lambda c: c.get("Status") == "ISSUED", "issuance")

    result = dict(
        changed=changed,
        certificate_arn=arn,
        status=certificate.get("Status"),
        domain_name=certificate.get("DomainName", domain),
        subject_alternative_names=list(certificate.get("SubjectAlternativeNames") or names),
        validation_records=validation_records(certificate),
        tags=current_tags,
    )
    exit_with_diff(module, result, before, view(dict(certificate, CertificateArn=arn), current_tags))


if __name__ == "__main__":
    main()
