#!/usr/bin/env python3
# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Print what the deployment role used, and what of its grants nothing used.

The strict local AWS records, for every request of a role session, the actions and
resources AWS authorizes and the statements that allowed or denied them (the ``iam``
behaviour, scripts/local_aws/iam.py). After a converge and a teardown this prints, for the
role with the most requests (or ``--role``): the actions used with their counts, what was
denied, and per statement of the role's policies the granted actions nothing used, so the
deployment role can stay least-privilege.

Usage::

    scripts/iam_usage.py [--endpoint URL] [--role ARN-OR-PART] [--json] [--file USAGE.json]
                         [--require-rules]

``--endpoint`` defaults to ``AWS_ENDPOINT_URL`` (the AWS proxy); ``--file`` reads a saved
answer of ``GET /_aws/iam/usage`` instead. Exits 1 when the endpoint cannot be read; with
``--require-rules``, 3 when a request of any role was refused because the local AWS has no
authorization rule for its operation (then the emulator, not the role's policies, decided it).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from local_aws.iam import unjudged_requests, usage_report  # noqa: E402


def fetch(endpoint):
    url = endpoint.rstrip("/") + "/_aws/iam/usage"
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - the local proxy
        return json.loads(answer.read().decode("utf-8"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL", ""),
                        help="the AWS proxy (default: AWS_ENDPOINT_URL)")
    parser.add_argument("--file", help="a saved /_aws/iam/usage answer instead of the endpoint")
    parser.add_argument("--role", help="the role (ARN or a part of it); default: the one with most requests")
    parser.add_argument("--json", action="store_true", help="print the usage answer as JSON")
    parser.add_argument("--require-rules", action="store_true",
                        help="exit 3 when a request was refused for want of an authorization rule")
    args = parser.parse_args(argv)
    try:
        if args.file:
            with open(args.file, encoding="utf-8") as handle:
                data = json.load(handle)
        elif args.endpoint:
            data = fetch(args.endpoint)
        else:
            parser.error("give --endpoint (or set AWS_ENDPOINT_URL) or --file")
    except (OSError, urllib.error.URLError, ValueError) as exc:
        sys.stderr.write("iam_usage: cannot read the usage: %s\n" % exc)
        return 1
    if args.json:
        json.dump(data, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(usage_report(data, args.role) + "\n")
    unjudged = unjudged_requests(data)
    if args.require_rules and unjudged:
        sys.stderr.write("iam_usage: %d requests were refused for want of an authorization rule (add one to "
                         "scripts/local_aws/authz.py and operations.yml):\n  %s\n" % (len(unjudged), "\n  ".join(unjudged)))
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
