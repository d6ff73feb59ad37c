# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Timeline of a playbook run for ``scripts/bench.py``: one JSON line per event.

Enabled by ``ANSIBLE_CALLBACK_PLUGINS=scripts/ansible_callbacks`` and
``ANSIBLE_CALLBACKS_ENABLED=bench_timeline``; writes to the file named by
``HONEYHIVE_BENCH_TIMELINE`` (appends; nothing is written without it)::

    {"event": "play", "ts": 1700000000.1, "play": "Substrate phase - ..."}
    {"event": "task", "ts": ..., "seq": 7, "play": ..., "role": "vpc", "task": "Create the VPC",
     "action": "amazon.aws.ec2_vpc_net"}
    {"event": "result", "ts": ..., "seq": 7, "host": "local-us-west-2", "status": "ok",
     "changed": false, "items": 0}
    {"event": "end", "ts": ...}

``seq`` numbers the task starts in order; a result belongs to the task start with its seq.
``status`` is ok, failed, skipped or unreachable; ``items`` is the number of loop items.
Only names, roles and outcomes are written, never task arguments or results.
"""
from __future__ import annotations

DOCUMENTATION = r"""
name: bench_timeline
type: aggregate
short_description: Record task starts, roles and outcomes as JSON lines for the benchmark
description:
  - Writes one JSON line per play start, task start and task result, with wall-clock
    timestamps, to the file named by the environment variable HONEYHIVE_BENCH_TIMELINE.
  - Task arguments and results are never written.
requirements:
  - enabled in callbacks_enabled (ANSIBLE_CALLBACKS_ENABLED=bench_timeline)
"""

import json
import os
import threading
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timeline"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._path = os.environ.get("HONEYHIVE_BENCH_TIMELINE")
        self._lock = threading.Lock()
        self._play = None
        self._seq = 0
        self._seq_by_task = {}

    def _write(self, record):
        if not self._path:
            return
        record["ts"] = time.time()
        with self._lock, open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()
        self._write({"event": "play", "play": self._play})

    def _task_start(self, task):
        self._seq += 1
        self._seq_by_task[task._uuid] = self._seq
        role = task._role.get_name(include_role_fqcn=False) if task._role else None
        self._write({"event": "task", "seq": self._seq, "play": self._play, "role": role,
                     "task": task.get_name(), "action": task.action})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task)

    def _result(self, result, status):
        outcome = result._result if isinstance(result._result, dict) else {}
        items = outcome.get("results")
        self._write({"event": "result", "seq": self._seq_by_task.get(result._task._uuid, self._seq),
                     "host": result._host.get_name(), "status": status,
                     "changed": bool(outcome.get("changed")),
                     "items": len(items) if isinstance(items, list) else 0})

    def v2_runner_on_ok(self, result):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self._write({"event": "end"})
