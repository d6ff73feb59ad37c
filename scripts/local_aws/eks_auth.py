# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""EKS authentication and access policies for the local Kubernetes API server (switch ``eks_auth``).

An EKS cluster's API server accepts a bearer token ``k8s-aws-v1.<base64url of a presigned STS
GetCallerIdentity URL>`` (aws-iam-authenticator's format, what ``aws eks get-token`` prints):
the server checks the URL (the STS endpoint, ``Action=GetCallerIdentity``, the signed
``x-k8s-aws-id`` header naming the cluster, ``X-Amz-Expires`` at most 900, and no more than 15
minutes since ``X-Amz-Date``), lets STS check the signature and the credentials, and maps the
principal to a Kubernetes user and groups through the cluster's access entries; the access
policies associated with the entry authorize requests (AmazonEKSClusterAdminPolicy: anything).

The local API server (tools/local-kube) calls this module as its token webhook
(``/_aws/eks/authenticate``, a TokenReview) and as an authorization webhook after RBAC
(``/_aws/eks/authorize``, a SubjectAccessReview). STS's part is done here, in the same
process as the local STS: the SigV4 signature is checked with the session's secret key, and a
session that has expired (sessions.py) is refused exactly as STS refuses it. So a token of an
expired session, a token older than 15 minutes, or a principal without an access entry is
refused, and the access entries the collection writes are what let it in.

Access policies are mapped to permissions as EKS documents them ("Associate access policies
with access entries", the permissions of each policy): ClusterAdmin allows everything in its
scope; Admin, Edit and View follow the Kubernetes ``admin``, ``edit`` and ``view`` roles
coarsely (see :data:`POLICY_VERBS`). Locally one API server stands in for every emulated
cluster; the token says which cluster's entries apply. Its scheme is ``http`` and its host
the local endpoint, where AWS would require ``https`` and an STS host name.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, urlsplit

from .core import Behaviour

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
MAX_AGE = 15 * 60
ALLOWED_PARAMETERS = frozenset({"action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
                                "x-amz-expires", "x-amz-security-token", "x-amz-signature",
                                "x-amz-signedheaders"})
_POLICY = "arn:aws:eks::aws:cluster-access-policy/"
READ = frozenset({"get", "list", "watch"})
# Access policy -> (verbs, whether secrets / RBAC objects / cluster-scoped objects are in).
POLICY_VERBS = {
    "AmazonEKSClusterAdminPolicy": {"verbs": "*", "secrets": True, "rbac": True, "cluster": True},
    "AmazonEKSAdminPolicy": {"verbs": "*", "secrets": True, "rbac": True, "cluster": False},
    "AmazonEKSEditPolicy": {"verbs": "*", "secrets": True, "rbac": False, "cluster": False},
    "AmazonEKSViewPolicy": {"verbs": READ, "secrets": False, "rbac": False, "cluster": False},
    "AmazonEKSAdminViewPolicy": {"verbs": READ, "secrets": True, "rbac": True, "cluster": True},
}


class TokenError(ValueError):
    """A token EKS would refuse; the message says why."""


def _uri_encode(text):
    return quote(text, safe="-_.~")


def _sign(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signature(secret, url, cluster, payload_hash):
    """The SigV4 signature of the presigned GET ``url`` with the cluster header signed."""
    split = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(split.query, keep_blank_values=True) if k != "X-Amz-Signature"]
    query = dict(params)
    canonical_query = "&".join("%s=%s" % (_uri_encode(k), _uri_encode(v)) for k, v in sorted(params))
    headers = {"host": split.netloc, CLUSTER_HEADER: cluster}
    signed = query.get("X-Amz-SignedHeaders", "").lower().split(";")
    canonical_headers = "".join("%s:%s\n" % (h, headers.get(h, "").strip()) for h in signed)
    canonical = "\n".join(["GET", split.path or "/", canonical_query, canonical_headers, ";".join(signed),
                           payload_hash])
    scope = query["X-Amz-Credential"].split("/", 1)[1]
    date, region, service, _ = scope.split("/")
    to_sign = "\n".join(["AWS4-HMAC-SHA256", query["X-Amz-Date"], scope,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _sign(("AWS4" + secret).encode("utf-8"), date)
    key = _sign(_sign(_sign(key, region), service), "aws4_request")
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_token(token, now=None, local_hosts=()):
    """The presigned URL and its parameters; raises :class:`TokenError` as EKS would."""
    if not token.startswith(TOKEN_PREFIX):
        raise TokenError('token is missing expected "%s" prefix' % TOKEN_PREFIX)
    encoded = token[len(TOKEN_PREFIX):]
    try:
        url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError(str(exc)) from exc
    split = urlsplit(url)
    host = split.netloc.lower()
    sts_host = host == "sts.amazonaws.com" or (host.startswith("sts.") and ".amazonaws.com" in host)
    if not (sts_host and split.scheme == "https") and host not in local_hosts:
        raise TokenError('unexpected hostname "%s" in pre-signed URL' % host)
    if (split.path or "/") != "/":
        raise TokenError("unexpected path in pre-signed URL")
    pairs = parse_qsl(split.query, keep_blank_values=True)
    lower = {}
    for key, value in pairs:
        if key.lower() not in ALLOWED_PARAMETERS:
            raise TokenError('non-whitelisted query parameter "%s"' % key)
        if key.lower() in lower:
            raise TokenError("query parameter with multiple values not supported")
        lower[key.lower()] = value
    if lower.get("action") != "GetCallerIdentity":
        raise TokenError("unexpected action parameter in pre-signed URL")
    if CLUSTER_HEADER not in lower.get("x-amz-signedheaders", "").lower().split(";"):
        raise TokenError("client did not sign the %s header in the pre-signed URL" % CLUSTER_HEADER)
    try:
        expires = int(lower.get("x-amz-expires", ""))
    except ValueError:
        expires = -1
    if not 0 <= expires <= 900:
        raise TokenError("invalid X-Amz-Expires parameter in pre-signed URL: %d" % expires)
    try:
        date = datetime.strptime(lower.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError as exc:
        raise TokenError("X-Amz-Date parameter must be present in pre-signed URL") from exc
    if (now if now is not None else time.time()) > date.timestamp() + MAX_AGE:
        raise TokenError("X-Amz-Date parameter is expired (15 minute expiration) %s" % date)
    return url, lower


class EksAuth(Behaviour):
    """The token and authorization webhooks of the local API server."""

    name = "eks_auth"

    def __init__(self, strict, local_hosts=()):
        super().__init__(strict)
        self.local_hosts = set(local_hosts)
        self.refused = []
        self.tokens = set()  # every token reviewed, for the harness's secrets suite

    def _eks(self):
        from .eks import LocalEks

        return self.strict.find(LocalEks)

    def _sessions(self):
        from .sessions import Sessions

        return self.strict.find(Sessions)

    def authenticate(self, token, now=None):
        """``(user, groups, extra)`` of a token, or raises :class:`TokenError`."""
        now = time.time() if now is None else now
        url, query = parse_token(token, now, self.local_hosts)
        access_key = query["x-amz-credential"].split("/", 1)[0]
        principal = self._sessions().principal_for(access_key)
        if principal.kind != "assumed-role":
            raise TokenError("error from AWS (expected 200, got 403): the credentials are not a role session")
        if self.settings.on("credentials") and principal.expires is not None and now >= principal.expires:
            raise TokenError("error from AWS (expected 200, got 403). Body: ExpiredToken: "
                             "The security token included in the request is expired")
        assumed = self.strict.moto.assumed_role(access_key)
        if assumed is None:
            raise TokenError("error from AWS (expected 200, got 403): InvalidClientTokenId")
        if query.get("x-amz-security-token") != assumed.session_token:
            raise TokenError("error from AWS (expected 200, got 403): the security token is invalid")
        eks = self._eks()
        given = query["x-amz-signature"]
        for cluster in eks.clusters() if eks is not None else ():
            if cluster["account"] != principal.account:
                continue
            for payload in (hashlib.sha256(b"").hexdigest(), "UNSIGNED-PAYLOAD"):
                if hmac.compare_digest(signature(assumed.secret_access_key, url, cluster["name"], payload), given):
                    return self._identity(eks, cluster, principal)
        raise TokenError("error from AWS (expected 200, got 403): SignatureDoesNotMatch for every cluster "
                         "of account %s" % principal.account)

    def _identity(self, eks, cluster, principal):
        access = eks.access_for(cluster["account"], cluster["region"], cluster["name"], principal.arn)
        if access is None:
            raise TokenError("no access entry of cluster %s for %s" % (cluster["name"], principal.role_arn))
        username = (access.get("username") or principal.arn).replace("{{AccountID}}", principal.account)
        extra = {"arn": [principal.arn], "canonicalArn": [principal.role_arn],
                 "sessionName": [principal.session_name], "accessKeyId": [principal.access_key],
                 "eks.local/cluster": ["%s/%s/%s" % (cluster["account"], cluster["region"], cluster["name"])]}
        return username, list(access.get("groups") or []), extra

    def authorize(self, review):
        """Allowed by the access policies of the user's access entry? (None: no opinion)."""
        spec = review.get("spec", {})
        extra = spec.get("extra") or {}
        where = (extra.get("eks.local/cluster") or [""])[0].split("/")
        arn = (extra.get("arn") or [""])[0]
        eks = self._eks()
        if len(where) != 3 or not arn or eks is None:
            return None
        access = eks.access_for(where[0], where[1], where[2], arn)
        if access is None:
            return None
        attributes = spec.get("resourceAttributes")
        for policy in access.get("policies") or ():
            name = policy.get("policyArn", "").replace(_POLICY, "")
            rules = POLICY_VERBS.get(name)
            if rules is None:
                continue
            scope = policy.get("accessScope") or {"type": "cluster"}
            if attributes is None:  # non-resource URLs (/healthz, /version, /api discovery)
                if rules["verbs"] == "*" or spec.get("nonResourceAttributes", {}).get("verb") == "get":
                    return "%s allows it" % name
                continue
            namespace = attributes.get("namespace", "")
            if scope.get("type") == "namespace":
                if not namespace or namespace not in (scope.get("namespaces") or ()):
                    continue
            elif not namespace and not rules["cluster"] and attributes.get("resource") != "namespaces":
                continue
            verb = attributes.get("verb", "")
            if rules["verbs"] != "*" and verb not in rules["verbs"]:
                continue
            if attributes.get("resource") == "secrets" and not rules["secrets"]:
                continue
            if attributes.get("group") == "rbac.authorization.k8s.io" and verb not in READ and not rules["rbac"]:
                continue
            return "%s allows it" % name
        return None

    # -- the webhooks ----------------------------------------------------------------------

    def control(self, method, path, body):
        if path == "/_aws/eks/authenticate" and method == "POST":
            review = json.loads(body or b"{}")
            status = {"authenticated": False}
            token = review.get("spec", {}).get("token", "")
            if token:
                self.tokens.add(token)
            if not self.settings.on(self.name):
                # Switched off (for debugging): any EKS-shaped token is an administrator.
                if token.startswith(TOKEN_PREFIX):
                    status = {"authenticated": True, "user": {"username": "local-aws-unchecked",
                                                              "groups": ["system:masters"]}}
            else:
                try:
                    user, groups, extra = self.authenticate(token)
                    status = {"authenticated": True,
                              "user": {"username": user, "uid": "aws-iam-authenticator:" + extra["accessKeyId"][0],
                                       "groups": groups, "extra": extra}}
                except TokenError as exc:
                    self.refused.append({"at": time.time(), "reason": str(exc)})
                    status = {"authenticated": False, "error": str(exc)}
            return 200, {"apiVersion": review.get("apiVersion", "authentication.k8s.io/v1"),
                         "kind": "TokenReview", "status": status}
        if path == "/_aws/eks/authorize" and method == "POST":
            review = json.loads(body or b"{}")
            reason = self.authorize(review) if self.settings.on(self.name) else None
            status = {"allowed": bool(reason), "reason": reason or "no access policy of the access entry allows it"}
            return 200, {"apiVersion": review.get("apiVersion", "authorization.k8s.io/v1"),
                         "kind": "SubjectAccessReview", "status": status}
        if path == "/_aws/eks/refused" and method == "GET":
            return 200, {"refused": list(self.refused)}
        if path == "/_aws/eks/tokens" and method == "GET":
            return 200, {"tokens": sorted(self.tokens)}
        return None
