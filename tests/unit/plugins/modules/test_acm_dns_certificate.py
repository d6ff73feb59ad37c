"""honeyhive.platform.acm_dns_certificate against the moto server.

The moto fixture sets MOTO_ACM_VALIDATION_WAIT=0, so moto issues a DNS
certificate at once and fills in ResourceRecord immediately. Real ACM answers
first with PENDING_VALIDATION and no ResourceRecord; that shape is covered with
botocore's Stubber (ACM service model) below.
"""
from __future__ import annotations

import datetime
import uuid

import pytest
from botocore.stub import ANY

from ansible_collections.honeyhive.platform.plugins.modules import acm_dns_certificate


@pytest.fixture
def acm(moto_client):
    return moto_client("acm")


@pytest.fixture
def zone():
    return "%s.example.com" % uuid.uuid4().hex[:12]


def args(moto_endpoint, **extra):
    base = dict(endpoint_url=moto_endpoint, region="us-west-2")
    base.update(extra)
    return base


def certificates_for(acm, domain):
    arns = [
        c["CertificateArn"]
        for c in acm.list_certificates()["CertificateSummaryList"]
        if c["DomainName"] == domain
    ]
    return [acm.describe_certificate(CertificateArn=arn)["Certificate"] for arn in arns]


def tags_of(acm, arn):
    return {t["Key"]: t["Value"] for t in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]}


def test_request_with_name_tag_then_idempotent(run_module, acm, moto_endpoint, zone, api_calls):
    domain = "app." + zone
    tags = {"Name": "cert-" + zone, "Environment": "test"}
    first = run_module(
        acm_dns_certificate,
        args(moto_endpoint, domain_name=domain, subject_alternative_names=["api." + zone], tags=tags, _ansible_diff=True),
    )
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["diff"]["before"] == {}

    [certificate] = certificates_for(acm, domain)
    assert first["certificate_arn"] == certificate["CertificateArn"]
    assert first["status"] == certificate["Status"]
    assert sorted(certificate["SubjectAlternativeNames"]) == sorted([domain, "api." + zone])
    assert tags_of(acm, certificate["CertificateArn"]) == tags
    expected_records = {
        (o["DomainName"], o["ResourceRecord"]["Name"], o["ResourceRecord"]["Type"], o["ResourceRecord"]["Value"])
        for o in certificate["DomainValidationOptions"]
    }
    assert {(r["domain_name"], r["name"], r["type"], r["value"]) for r in first["validation_records"]} == expected_records
    assert all(r["type"] == "CNAME" for r in first["validation_records"])

    api_calls.clear()
    second = run_module(
        acm_dns_certificate, args(moto_endpoint, domain_name=domain, subject_alternative_names=["api." + zone], tags=tags)
    )
    assert second["changed"] is False
    assert second["certificate_arn"] == first["certificate_arn"]
    assert second["validation_records"] == first["validation_records"]
    assert api_calls == ["ListCertificates", "ListTagsForCertificate", "DescribeCertificate"]
    assert len(certificates_for(acm, domain)) == 1


def test_wait_until_issued(run_module, acm, moto_endpoint, zone):
    domain = "wait." + zone
    result = run_module(acm_dns_certificate, args(moto_endpoint, domain_name=domain, tags={"Name": zone}, wait=True))
    assert result["status"] == "ISSUED"
    assert acm.describe_certificate(CertificateArn=result["certificate_arn"])["Certificate"]["Status"] == "ISSUED"


def test_found_by_domain_and_sans_without_name_tag(run_module, acm, moto_endpoint, zone):
    domain = "noname." + zone
    first = run_module(acm_dns_certificate, args(moto_endpoint, domain_name=domain, subject_alternative_names=["b." + zone]))
    assert first["changed"] is True
    second = run_module(acm_dns_certificate, args(moto_endpoint, domain_name=domain, subject_alternative_names=["b." + zone]))
    assert second["changed"] is False
    assert second["certificate_arn"] == first["certificate_arn"]
    # other SANs: another certificate
    third = run_module(acm_dns_certificate, args(moto_endpoint, domain_name=domain, subject_alternative_names=["c." + zone]))
    assert third["changed"] is True
    assert third["certificate_arn"] != first["certificate_arn"]
    assert len(certificates_for(acm, domain)) == 2


def test_changed_names_request_a_new_certificate_and_warn(run_module, acm, moto_endpoint, zone):
    domain = "multi." + zone
    tags = {"Name": "multi-" + zone}
    first = run_module(acm_dns_certificate, args(moto_endpoint, domain_name=domain, tags=tags))
    second = run_module(
        acm_dns_certificate, args(moto_endpoint, domain_name=domain, subject_alternative_names=["extra." + zone], tags=tags)
    )
    assert second["changed"] is True
    assert second["certificate_arn"] != first["certificate_arn"]
    assert first["certificate_arn"] in str(second.get("warnings"))
    assert len(certificates_for(acm, domain)) == 2
    # both are removed by the Name tag
    gone = run_module(acm_dns_certificate, args(moto_endpoint, tags=tags, state="absent"))
    assert sorted(gone["deleted_certificate_arns"]) == sorted([first["certificate_arn"], second["certificate_arn"]])
    assert certificates_for(acm, domain) == []


def test_tags_updated_in_place(run_module, acm, moto_endpoint, zone):
    domain = "tags." + zone
    first = run_module(acm_dns_certificate, args(moto_endpoint, domain_name=domain, tags={"Name": zone, "Old": "1"}))
    result = run_module(
        acm_dns_certificate,
        args(moto_endpoint, domain_name=domain, tags={"Name": zone, "New": "2"}, _ansible_diff=True),
    )
    assert result["changed"] is True
    assert result["certificate_arn"] == first["certificate_arn"]
    assert result["diff"]["before"]["tags"] == {"Name": zone, "Old": "1"}
    assert result["diff"]["after"]["tags"] == {"Name": zone, "New": "2"}
    assert tags_of(acm, first["certificate_arn"]) == {"Name": zone, "New": "2"}


def test_check_mode(run_module, acm, moto_endpoint, zone):
    domain = "check." + zone
    result = run_module(acm_dns_certificate, args(moto_endpoint, domain_name=domain, tags={"Name": zone}, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["certificate_arn"] is None
    assert certificates_for(acm, domain) == []

    created = run_module(acm_dns_certificate, args(moto_endpoint, domain_name=domain, tags={"Name": zone}))
    result = run_module(
        acm_dns_certificate, args(moto_endpoint, domain_name=domain, tags={"Name": zone, "X": "y"}, _ansible_check_mode=True)
    )
    assert result["changed"] is True
    assert tags_of(acm, created["certificate_arn"]) == {"Name": zone}

    result = run_module(acm_dns_certificate, args(moto_endpoint, tags={"Name": zone}, state="absent", _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["deleted_certificate_arns"] == [created["certificate_arn"]]
    assert len(certificates_for(acm, domain)) == 1


def test_delete_by_domain(run_module, acm, moto_endpoint, zone):
    domain = "del." + zone
    created = run_module(acm_dns_certificate, args(moto_endpoint, domain_name=domain))
    result = run_module(acm_dns_certificate, args(moto_endpoint, domain_name=domain, state="absent"))
    assert result["changed"] is True
    assert result["deleted_certificate_arns"] == [created["certificate_arn"]]
    assert certificates_for(acm, domain) == []
    again = run_module(acm_dns_certificate, args(moto_endpoint, domain_name=domain, state="absent"))
    assert again["changed"] is False


def _pending(arn, domain, with_record):
    option = {
        "DomainName": domain,
        "ValidationDomain": domain,
        "ValidationStatus": "PENDING_VALIDATION",
        "ValidationMethod": "DNS",
    }
    if with_record:
        option["ResourceRecord"] = {
            "Name": "_0123456789abcdef.%s." % domain,
            "Type": "CNAME",
            "Value": "_fedcba9876543210.abcdefghij.acm-validations.aws.",
        }
    return {
        "Certificate": {
            "CertificateArn": arn,
            "DomainName": domain,
            "SubjectAlternativeNames": [domain, "*." + domain],
            "DomainValidationOptions": [option, dict(option, DomainName="*." + domain)],
            "Status": "PENDING_VALIDATION",
            "Type": "AMAZON_ISSUED",
            "CreatedAt": datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc),
        }
    }


def test_real_acm_polls_until_resource_records_appear(run_module, stub_client, no_sleep):
    """Stubber (botocore's ACM service model): real ACM returns
    DomainValidationOptions without ResourceRecord for a few seconds after
    RequestCertificate; moto fills it in at once. The module must poll
    DescribeCertificate, and a wildcard shares the apex's record (one entry)."""
    arn = "arn:aws:acm:us-west-2:111122223333:certificate/11111111-2222-3333-4444-555555555555"
    domain = "example.org"
    stubber = stub_client("acm")
    stubber.add_response(
        "list_certificates", {"CertificateSummaryList": []}, {"CertificateStatuses": ["PENDING_VALIDATION", "ISSUED"]}
    )
    stubber.add_response(
        "request_certificate",
        {"CertificateArn": arn},
        {
            "DomainName": domain,
            "ValidationMethod": "DNS",
            "SubjectAlternativeNames": [domain, "*." + domain],
            "IdempotencyToken": ANY,
            "Tags": [{"Key": "Name", "Value": "org"}],
        },
    )
    stubber.add_response("describe_certificate", _pending(arn, domain, False), {"CertificateArn": arn})
    stubber.add_response("describe_certificate", _pending(arn, domain, True), {"CertificateArn": arn})
    stubber.activate()
    result = run_module(
        acm_dns_certificate,
        dict(domain_name=domain, subject_alternative_names=["*." + domain], tags={"Name": "org"}, region="us-west-2"),
    )
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["status"] == "PENDING_VALIDATION"
    assert result["validation_records"] == [
        {
            "domain_name": domain,
            "name": "_0123456789abcdef.example.org.",
            "type": "CNAME",
            "value": "_fedcba9876543210.abcdefghij.acm-validations.aws.",
        }
    ]
    stubber.assert_no_pending_responses()


def test_real_acm_wait_timeout_names_the_option(run_module, stub_client, no_sleep):
    """Stubber (ACM service model): a certificate that stays PENDING_VALIDATION
    (records not published) makes wait=true fail with a clear timeout."""
    arn = "arn:aws:acm:us-west-2:111122223333:certificate/66666666-2222-3333-4444-555555555555"
    domain = "example.net"
    stubber = stub_client("acm")
    stubber.add_response(
        "list_certificates",
        {"CertificateSummaryList": [{"CertificateArn": arn, "DomainName": domain, "Status": "PENDING_VALIDATION"}]},
        {"CertificateStatuses": ["PENDING_VALIDATION", "ISSUED"]},
    )
    stubber.add_response("list_tags_for_certificate", {"Tags": [{"Key": "Name", "Value": "net"}]}, {"CertificateArn": arn})
    pending = _pending(arn, domain, True)
    pending["Certificate"]["SubjectAlternativeNames"] = [domain]
    pending["Certificate"]["DomainValidationOptions"] = pending["Certificate"]["DomainValidationOptions"][:1]
    stubber.add_response("describe_certificate", pending, {"CertificateArn": arn})
    stubber.add_response("describe_certificate", pending, {"CertificateArn": arn})
    stubber.activate()
    result = run_module(
        acm_dns_certificate,
        dict(domain_name=domain, tags={"Name": "net"}, wait=True, wait_timeout=0, region="us-west-2"),
    )
    assert result["failed"] is True
    assert "wait_timeout" in result["msg"]
    assert "PENDING_VALIDATION" in result["msg"]
    assert result["validation_records"][0]["name"] == "_0123456789abcdef.example.net."


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (dict(), "Option 'domain_name' is required when state is 'present'"),
        (dict(domain_name="not a domain"), "Invalid value for option 'domain_name': 'not a domain'"),
        (dict(domain_name="a.example.com", subject_alternative_names=["bad_name"]), "Invalid value for option 'subject_alternative_names': 'bad_name'"),
        (dict(domain_name="a.example.com", wait_timeout=-5), "Invalid value for option 'wait_timeout': -5"),
        (dict(state="absent"), "give 'domain_name' or a 'Name' tag"),
    ],
)
def test_bad_input_fails_before_any_api_call(run_module, aws_env, moto_endpoint, api_calls, extra, fragment):
    result = run_module(acm_dns_certificate, args(moto_endpoint, **extra))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert api_calls == []
