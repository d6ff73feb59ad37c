# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Amazon EKS bearer tokens, and the kubeconfig exec plugin that hands them out.

An EKS token is what ``aws eks get-token`` prints: a SigV4 presigned URL (GET) for STS
``GetCallerIdentity`` with the header ``x-k8s-aws-id: <cluster name>`` among the signed
headers, base64url encoded without padding and prefixed with ``k8s-aws-v1.``. EKS accepts it
for 15 minutes after signing, and only while the credentials that signed it are valid.

The kubeconfig the eks role writes names this file as its ``exec`` credential plugin
(``python eks_token.py --cluster-name NAME --region REGION``, with the deployment role's
profile in its environment: ``AWS_CONFIG_FILE`` and ``AWS_PROFILE``, which the plugin uses as
an explicit profile, so credentials in the environment do not take its place). client-go (kubectl, helm) and the kubernetes Python client run it
whenever their token has expired, so a long Helm ``--wait`` never outlives its token. It
prints an ``ExecCredential`` whose ``expirationTimestamp`` is the earlier of 14 minutes after
signing (as the AWS CLI) and a minute (or a quarter of what is left of a shorter session)
before the signing credentials expire: botocore renews
the deployment role's credentials before signing when they are near their end, but a session
may be shorter than a token.

The file depends on botocore and the standard library only, so the plugin runs on any
controller that runs the collection's modules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import base64
import datetime
import json
import os
import sys

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
# Seconds the presigned URL itself is valid (aws-iam-authenticator ignores it: 15 minutes
# after signing is what counts; the CLI signs for 60).
URL_TIMEOUT = 60
TOKEN_LIFETIME = datetime.timedelta(minutes=14)
# How long before the signing credentials expire a token is given up: a minute, or a quarter
# of what is left of a shorter session.
BEFORE_CREDENTIALS_EXPIRE = datetime.timedelta(minutes=1)
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


def _retrieve_cluster(params, context, **kwargs):
    if CLUSTER_HEADER in params:
        context[CLUSTER_HEADER] = params.pop(CLUSTER_HEADER)


def _inject_cluster_header(request, **kwargs):
    if CLUSTER_HEADER in request.context:
        request.headers[CLUSTER_HEADER] = request.context[CLUSTER_HEADER]


def presigned_token(sts_client, cluster_name):
    """The EKS bearer token for ``cluster_name``, signed with ``sts_client``'s credentials."""
    events = sts_client.meta.events
    events.register("provide-client-params.sts.GetCallerIdentity", _retrieve_cluster)
    events.register("before-sign.sts.GetCallerIdentity", _inject_cluster_header)
    try:
        url = sts_client.generate_presigned_url(
            "get_caller_identity", Params={CLUSTER_HEADER: cluster_name}, ExpiresIn=URL_TIMEOUT, HttpMethod="GET")
    finally:
        events.unregister("provide-client-params.sts.GetCallerIdentity", _retrieve_cluster)
        events.unregister("before-sign.sts.GetCallerIdentity", _inject_cluster_header)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode("utf-8")).decode("utf-8").rstrip("=")


def token_url(token):
    """The presigned URL inside an EKS token (for checks and tests)."""
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError("not an EKS token")
    body = token[len(TOKEN_PREFIX):]
    body += "=" * (-len(body) % 4)
    return base64.urlsafe_b64decode(body.encode("ascii")).decode("utf-8")


def token_expiry(signed_at, credentials_expiry=None):
    """When a client should ask for a new token (both datetimes aware, UTC)."""
    expiry = signed_at + TOKEN_LIFETIME
    if credentials_expiry is not None:
        margin = min(BEFORE_CREDENTIALS_EXPIRE, (credentials_expiry - signed_at) / 4)
        expiry = min(expiry, credentials_expiry - margin)
    return max(expiry, signed_at)


def credentials_expiry(credentials):
    """The expiry of botocore credentials, or None for credentials that do not expire.

    botocore keeps it on its refreshable credentials (``_expiry_time``) without a public
    accessor; static credentials have none.
    """
    expiry = getattr(credentials, "_expiry_time", None)
    if expiry is None:
        return None
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=datetime.timezone.utc)
    return expiry


def exec_credential(token, expiry):
    return {
        "kind": "ExecCredential",
        "apiVersion": EXEC_API_VERSION,
        "spec": {},
        "status": {"expirationTimestamp": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"), "token": token},
    }


def main(argv=None, session=None, now=None):
    """The exec plugin: print an ``ExecCredential`` for the cluster."""
    parser = argparse.ArgumentParser(description="Print an EKS token as a Kubernetes ExecCredential.")
    parser.add_argument("--cluster-name", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--profile", default=os.environ.get("AWS_PROFILE"),
                        help="profile of the credentials (default AWS_PROFILE)")
    args = parser.parse_args(argv)
    if session is None:
        import botocore.session

        # An explicit profile: otherwise credentials in the environment (the orchestration
        # account's) would win over AWS_PROFILE, as they do in every botocore session.
        session = botocore.session.Session(profile=args.profile or None)
    sts = session.create_client("sts", region_name=args.region)
    # Signing resolves (and, near their end, renews) the credentials first.
    token = presigned_token(sts, args.cluster_name)
    signed_at = now or datetime.datetime.now(datetime.timezone.utc)
    expiry = token_expiry(signed_at, credentials_expiry(session.get_credentials()))
    json.dump(exec_credential(token, expiry), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
