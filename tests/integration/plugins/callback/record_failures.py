# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Test-only callback: writes every failed task of a run to a JSON file.

Enabled by the integration tests with ``ANSIBLE_CALLBACKS_ENABLED=record_failures`` and
``ANSIBLE_CALLBACK_PLUGINS=tests/integration/plugins/callback``; the file is named by
``HONEYHIVE_FAILURE_RECORD``. One entry per failure: host, the task's role (its fully
qualified name, or null for a play-level task), task name, action and the failure messages
(the task's own and those of its failed loop items). The default stdout callback still
prints everything the user sees.
"""
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: record_failures
type: aggregate
short_description: Record failed tasks (host, role, task, messages) as JSON for the integration tests
description:
  - Writes the failures of the run to the file named by the HONEYHIVE_FAILURE_RECORD environment variable.
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED=record_failures
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record_failures"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._path = os.environ.get("HONEYHIVE_FAILURE_RECORD")
        self._failures = []

    @staticmethod
    def _text(value):
        return value if isinstance(value, str) else json.dumps(value, default=str)

    def _record(self, result, kind):
        task = result._task
        res = result._result if isinstance(result._result, dict) else {}
        messages = []
        if res.get("msg") is not None:
            messages.append(self._text(res["msg"]))
        for item in res.get("results") or []:
            if isinstance(item, dict) and item.get("failed") and item.get("msg") is not None:
                messages.append(self._text(item["msg"]))
        role = task._role.get_name() if getattr(task, "_role", None) else None
        self._failures.append({
            "kind": kind,
            "host": result._host.get_name(),
            "role": role,
            "task": task.get_name(),
            "action": task.action,
            "messages": messages,
        })
        self._write()

    def _write(self):
        if not self._path:
            return
        with open(self._path, "w", encoding="utf-8") as handle:
            json.dump(self._failures, handle, indent=1)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self._write()
