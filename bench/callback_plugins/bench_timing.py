# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Per-task wall times for the benchmarks (bench/bench.py), written as JSON.

Enabled by the benchmark only: ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=bench_timing, BENCH_TIMING_OUT=<file>. Each row has the
epoch times the controller started the task on a host and received its result,
so that the benchmark can match them with localmarathon's request log and events.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timing
type: aggregate
short_description: per-task start/end times as JSON (benchmarks only)
description: Writes one row per task and host to the file named by BENCH_TIMING_OUT.
"""

# Result keys worth keeping (small, no app bodies).
KEEP = ("changed", "deployment_id", "duration", "version", "status", "tasks_running", "failed", "msg")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.rows = []
        self.open = {}
        self.play_start = time.time()

    def v2_runner_on_start(self, host, task):
        self.open[(host.get_name(), task._uuid)] = time.time()

    def _end(self, result, outcome):
        now = time.time()
        host = result._host.get_name()
        task = result._task
        start = self.open.pop((host, task._uuid), None)
        res = result._result or {}
        row = {"task": task.get_name(), "action": task.action, "host": host, "start": start, "end": now,
               "outcome": outcome}
        for key in KEEP:
            if key in res and not isinstance(res[key], (dict, list)):
                row[key] = res[key]
        if "results" in res:
            row["items"] = len(res["results"])
            row["items_changed"] = sum(1 for r in res["results"] if isinstance(r, dict) and r.get("changed"))
        self.rows.append(row)

    def v2_runner_on_ok(self, result):
        self._end(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._end(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._end(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._end(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_TIMING_OUT")
        if not path:
            return
        with open(path, "w") as handle:
            json.dump({"play_start": self.play_start, "play_end": time.time(), "tasks": self.rows}, handle)
