#!/usr/bin/env python3
# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Read and summarise the request log written by ``scripts/aws_proxy.py``.

Each line of the log is one AWS request::

    {"ts", "service", "operation", "mutating": bool, "status", "injected": null|"throttle"|"500"|"503",
     "ms": milliseconds from the request's arrival to its answer's status (the emulator's time)}

``summarise`` counts every line in ``total`` and ``by_operation`` (``"service:Operation"``,
requests answered with an injected fault included) and the injected faults in ``injected``.
``mutating`` counts AWS requests that change state; requests to the emulator's own
``/moto-api/`` (service ``moto``) are harness traffic and never count as mutating.

Usage: python scripts/aws_requestlog.py FILE [--mutating]

``--mutating`` restricts the summary to the mutating AWS requests (an idempotent second run
of a playbook should show ``"total": 0``).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

HARNESS_SERVICES = frozenset({"moto"})


def load(path):
    """The log's entries in order; blank or partly written lines are skipped."""
    entries = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


def is_mutating(entry):
    return bool(entry.get("mutating")) and entry.get("service") not in HARNESS_SERVICES


def summarise(entries):
    """``{"total", "mutating", "by_operation": {"service:Operation": n}, "injected"}``."""
    entries = list(entries)
    by_operation = Counter("%s:%s" % (e.get("service") or "unknown", e.get("operation") or "unknown")
                           for e in entries)
    return {
        "total": len(entries),
        "mutating": sum(1 for e in entries if is_mutating(e)),
        "by_operation": dict(sorted(by_operation.items())),
        "injected": sum(1 for e in entries if e.get("injected")),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description="Summarise an aws_proxy.py request log as JSON.")
    parser.add_argument("log", help="request log file (JSON lines)")
    parser.add_argument("--mutating", action="store_true", help="only the mutating AWS requests")
    args = parser.parse_args(argv)
    try:
        entries = load(args.log)
    except OSError as exc:
        parser.exit(2, "aws_requestlog: %s\n" % exc)
    if args.mutating:
        entries = [e for e in entries if is_mutating(e)]
    json.dump(summarise(entries), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
