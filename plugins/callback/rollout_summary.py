# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_summary
type: aggregate
short_description: Per-cluster summary of a Marathon rollout, printed and written as JSON and Markdown
version_added: 0.1.0
author: dcos.marathon maintainers (@dcos-marathon)
description:
  - At the end of every playbook run, also after a failure or an interruption (Ctrl-C), prints one row
    per inventory host (one host is one Marathon cluster) with its outcome, app version,
    healthy/instances and duration.
  - "Outcome is one of V(changed), V(unchanged), V(failed), V(interrupted) (the host started but
    did not finish the playbook's tasks, for example when C(any_errors_fatal) stopped its batch) and V(not reached)
    (the rollout stopped before this cluster's batch)."
  - App version and counts come from the last result of a M(dcos.marathon.marathon_app) task of the host,
    or from the per-host custom stat C(rollout_summary) that the playbook C(dcos.marathon.rollout) sets with
    M(ansible.builtin.set_stats) (which also records the previous version and rollbacks).
  - Every host matched by a play of the run gets a row, so a host that was never reached is listed too.
  - The row of a failed cluster also shows its cause when a M(dcos.marathon.marathon_app) task stopped waiting
    because the deployment could not finish (the reason in its RV(dcos.marathon.marathon_app#module:diagnosis),
    for example the last task failure's message or the reasons offers were declined).
  - The same rows are written as JSON and as a Markdown table when O(json_path) or O(markdown_path) is set,
    for CI pipelines.
  - This is an aggregate callback; enable it with C(callbacks_enabled = dcos.marathon.rollout_summary)
    in the C([defaults]) section of C(ansible.cfg) or with
    E(ANSIBLE_CALLBACKS_ENABLED=dcos.marathon.rollout_summary).
options:
  json_path:
    description:
      - File to write the summary to as JSON. Parent directories are created.
      - The extra variable C(rollout_summary_json) (C(-e rollout_summary_json=PATH)) takes precedence.
      - Nothing is written when unset.
    type: path
    env:
      - name: DCOS_MARATHON_ROLLOUT_SUMMARY_JSON
    ini:
      - section: callback_rollout_summary
        key: json_path
  markdown_path:
    description:
      - File to write the summary to as a Markdown table. Parent directories are created.
      - The extra variable C(rollout_summary_markdown) takes precedence.
      - Nothing is written when unset.
    type: path
    env:
      - name: DCOS_MARATHON_ROLLOUT_SUMMARY_MARKDOWN
    ini:
      - section: callback_rollout_summary
        key: markdown_path
  show_table:
    description: Print the table on the console at the end of the run.
    type: bool
    default: true
    env:
      - name: DCOS_MARATHON_ROLLOUT_SUMMARY_SHOW
    ini:
      - section: callback_rollout_summary
        key: show_table
"""

import atexit
import datetime
import json
import os
import time

from ansible.plugins.callback import CallbackBase

# Results of these modules carry the app state shown in the summary.
_APP_MODULES = ("dcos.marathon.marathon_app",)
_STAT_KEY = "rollout_summary"
_EXTRA_JSON = "rollout_summary_json"
_EXTRA_MARKDOWN = "rollout_summary_markdown"
_MESSAGE_LIMIT = 300

STATUS_CHANGED = "changed"
STATUS_UNCHANGED = "unchanged"
STATUS_FAILED = "failed"
STATUS_INTERRUPTED = "interrupted"
STATUS_NOT_REACHED = "not reached"

COLUMNS = (
    ("cluster", "cluster"),
    ("status", "status"),
    ("app_id", "app"),
    ("version", "version"),
    ("healthy_instances", "healthy/instances"),
    ("previous_version", "previous version"),
    ("rolled_back", "rolled back"),
    ("duration_s", "duration (s)"),
)


def _result_of(task_result):
    # ansible-core 2.19 exposes .result; 2.18 only ._result.
    data = getattr(task_result, "result", None)
    if data is None:
        data = getattr(task_result, "_result", None)
    return data if isinstance(data, dict) else {}


def _task_of(task_result):
    return getattr(task_result, "task", None) or getattr(task_result, "_task", None)


def _host_name(task_result):
    host = getattr(task_result, "host", None) or getattr(task_result, "_host", None)
    return host.get_name()


def _action_of(task):
    # resolved_action is only valid in runner_on_ok/failed; fall back to the raw action.
    name = None
    try:
        name = task.resolved_action
    except Exception:  # pylint: disable=broad-exception-caught
        name = None
    return name or getattr(task, "action", None) or ""


def _is_app_module(action):
    return action in _APP_MODULES or action == "marathon_app" or action.endswith(".marathon_app")


def _short(text, limit=_MESSAGE_LIMIT):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def app_snapshot(result):
    """Version/instance/health numbers from a marathon_app result (missing keys stay None)."""
    app = result.get("app") if isinstance(result.get("app"), dict) else {}
    snap = {
        "app_id": app.get("id") or result.get("id"),
        "version": result.get("version") or app.get("version"),
        "instances": app.get("instances"),
        "tasks_running": result.get("tasks_running", app.get("tasksRunning")),
        "tasks_healthy": result.get("tasks_healthy", app.get("tasksHealthy")),
    }
    return {key: value for key, value in snap.items() if value is not None}


class HostRecord(object):
    """What the callback saw for one host during the run."""

    def __init__(self, name):
        self.name = name
        self.started = None
        self.ended = None
        self.reached = False
        self.failed = False
        self.changed = False
        self.message = None
        # Why a deployment could not finish (the diagnosis of a marathon_app that failed early).
        self.cause = None
        self.app = {}
        # What the playbook reported with set_stats, seen in the task results.
        self.stat = {}

    def touch(self, now):
        if self.started is None:
            self.started = now
        self.ended = now

    @property
    def duration(self):
        if self.started is None or self.ended is None:
            return None
        return round(self.ended - self.started, 1)


def build_row(record, stat, done_marker_used):
    """One summary row from a HostRecord and the host's custom stat (dict or None)."""
    stat = stat if isinstance(stat, dict) else {}
    app = dict(record.app)
    # The playbook's own stat wins: it is set after the role's wait said healthy, or after a rollback.
    for key in ("app_id", "version", "instances", "tasks_running", "tasks_healthy"):
        if stat.get(key) is not None:
            app[key] = stat[key]

    if record.failed:
        status = STATUS_FAILED
    elif not record.reached:
        status = STATUS_NOT_REACHED
    elif done_marker_used and not stat.get("done"):
        status = STATUS_INTERRUPTED
    elif record.changed or stat.get("changed"):
        status = STATUS_CHANGED
    else:
        status = STATUS_UNCHANGED

    instances = app.get("instances")
    healthy = app.get("tasks_healthy")
    if instances is None:
        healthy_instances = ""
    else:
        healthy_instances = "%s/%s" % ("?" if healthy is None else healthy, instances)

    rolled_back = stat.get("rolled_back")
    return {
        "cluster": record.name,
        "status": status,
        "app_id": app.get("app_id") or stat.get("app_id") or "",
        "version": app.get("version") or "",
        "instances": instances,
        "tasks_running": app.get("tasks_running"),
        "tasks_healthy": healthy,
        "healthy_instances": healthy_instances,
        "previous_version": stat.get("previous_version") or "",
        "rolled_back": _yes_no(rolled_back),
        "duration_s": record.duration,
        "message": record.message or stat.get("message") or "",
        "cause": record.cause or "",
    }


def _yes_no(value):
    # The playbook sets true/false, or a word such as "failed" for an attempted rollback.
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _cell(row, key):
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, float):
        return "%.1f" % value
    return str(value)


def render_table(rows):
    """Plain-text table for the console."""
    headers = [title for _key, title in COLUMNS]
    body = [[_cell(row, key) for key, _title in COLUMNS] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    out = [line, rule]
    out.extend("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in body)
    for row in rows:
        if row["status"] not in (STATUS_FAILED, STATUS_INTERRUPTED):
            continue
        if row.get("cause"):
            out.append("%s: cause: %s" % (row["cluster"], row["cause"]))
        if row.get("message"):
            out.append("%s: %s" % (row["cluster"], row["message"]))
    return "\n".join(out)


def _md_escape(text):
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(summary):
    """Markdown document: one-line verdict, then the table."""
    rows = summary["clusters"]
    counts = ", ".join("%s %d" % (k, v) for k, v in summary["counts"].items() if v)
    out = [
        "# Rollout summary",
        "",
        "Result: **%s** (%s). Finished %s." % (summary["result"], counts or "no clusters", summary["finished"]),
        "",
    ]
    titles = [title for _key, title in COLUMNS] + ["cause", "message"]
    keys = [key for key, _title in COLUMNS] + ["cause", "message"]
    out.append("| " + " | ".join(titles) + " |")
    out.append("|" + "|".join("---" for _k in keys) + "|")
    for row in rows:
        out.append("| " + " | ".join(_md_escape(_cell(row, k)) for k in keys) + " |")
    return "\n".join(out) + "\n"


def summarize(rows, started, finished):
    counts = dict((s, 0) for s in (STATUS_CHANGED, STATUS_UNCHANGED, STATUS_FAILED, STATUS_INTERRUPTED, STATUS_NOT_REACHED))
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    ok = counts[STATUS_FAILED] == 0 and counts[STATUS_INTERRUPTED] == 0 and counts[STATUS_NOT_REACHED] == 0
    return {
        "result": "success" if ok else "failed",
        "started": started,
        "finished": finished,
        "counts": counts,
        "clusters": rows,
    }


def _write_file(path, text):
    path = os.path.expanduser(path)
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory)
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _iso_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "dcos.marathon.rollout_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._emitted = False
        self._pid = os.getpid()
        # Ctrl-C skips v2_playbook_on_stats; still write what is known, in this process only.
        atexit.register(self._emit_on_exit)
        self._hosts = {}
        self._order = []
        self._started = _iso_now()
        self._extra_paths = {}
        self._clock = time.monotonic

    # ---- bookkeeping -------------------------------------------------------------------

    def _record(self, name):
        if name not in self._hosts:
            self._hosts[name] = HostRecord(name)
            self._order.append(name)
        return self._hosts[name]

    def register_hosts(self, names):
        for name in names:
            self._record(name)

    def v2_playbook_on_play_start(self, play):
        # Register every host of the play now: later batches may never start.
        try:
            inventory = play.get_variable_manager()._inventory
            hosts = inventory.get_hosts(play.hosts, ignore_restrictions=True, order=play.order)
            self.register_hosts(h.get_name() for h in hosts)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            self._display.warning("rollout_summary: could not list the hosts of play %r: %s" % (play.get_name(), exc))
        try:
            extra = play.get_variable_manager().extra_vars
            for key in (_EXTRA_JSON, _EXTRA_MARKDOWN):
                if extra.get(key):
                    self._extra_paths[key] = str(extra[key])
        except Exception:  # pylint: disable=broad-exception-caught
            pass

    def v2_runner_on_start(self, host, task):
        self._record(host.get_name()).touch(self._clock())

    def _on_result(self, task_result, failed=False, unreachable=False):
        record = self._record(_host_name(task_result))
        record.touch(self._clock())
        record.reached = True
        result = _result_of(task_result)
        action = _action_of(_task_of(task_result))
        if _is_app_module(action):
            snap = app_snapshot(result)
            if snap:
                record.app.update(snap)
            if result.get("changed") and not failed:
                record.changed = True
        stats = result.get("ansible_stats")
        if isinstance(stats, dict) and isinstance(stats.get("data"), dict) and isinstance(stats["data"].get(_STAT_KEY), dict):
            record.stat.update(stats["data"][_STAT_KEY])
        if failed or unreachable:
            record.failed = True
            msg = result.get("msg") or result.get("message") or ("unreachable" if unreachable else "failed")
            record.message = _short(msg)
            diagnosis = result.get("diagnosis")
            if isinstance(diagnosis, dict) and (diagnosis.get("reason") or diagnosis.get("cause")):
                record.cause = _short(diagnosis.get("reason") or diagnosis.get("cause"))

    def v2_runner_on_ok(self, result):
        self._on_result(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors:
            self._on_result(result)
        else:
            self._on_result(result, failed=True)

    def v2_runner_on_unreachable(self, result):
        self._on_result(result, unreachable=True)

    def v2_runner_on_skipped(self, result):
        record = self._record(_host_name(result))
        record.touch(self._clock())
        record.reached = True

    def v2_playbook_on_stats(self, stats):
        custom = getattr(stats, "custom", {}) or {}
        # A rescued task still reported failed; the stats say whether the host ended failed.
        failures = getattr(stats, "failures", {}) or {}
        dark = getattr(stats, "dark", {}) or {}
        rescued = getattr(stats, "rescued", {}) or {}
        for name in self._order:
            record = self._hosts[name]
            if record.failed and rescued.get(name) and not failures.get(name) and not dark.get(name):
                record.failed = False
        rows = self.rows(custom)
        summary = summarize(rows, self._started, _iso_now())
        self.emit(summary)

    def _stat(self, custom, name):
        stat = custom.get(name, {}).get(_STAT_KEY)
        return stat if isinstance(stat, dict) else self._hosts[name].stat

    def rows(self, custom, done_marker_used=None):
        if done_marker_used is None:
            done_marker_used = any("done" in self._stat(custom, n) for n in self._order)
        return [build_row(self._hosts[n], self._stat(custom, n), done_marker_used) for n in self._order]

    def _emit_on_exit(self):
        if self._emitted or not self._hosts or os.getpid() != self._pid:
            return
        # Interrupted run: a cluster that started and did not report done is interrupted.
        summary = summarize(self.rows({}, done_marker_used=True), self._started, _iso_now())
        summary["result"] = "interrupted"
        try:
            self.emit(summary)
        except Exception:  # pylint: disable=broad-exception-caught
            pass  # never turn an interrupted run into a traceback at exit

    def emit(self, summary):
        self._emitted = True
        if self.get_option("show_table"):
            self._display.banner("ROLLOUT SUMMARY")
            self._display.display(render_table(summary["clusters"]) if summary["clusters"] else "no clusters")
        targets = (
            (self._extra_paths.get(_EXTRA_JSON) or self.get_option("json_path"), json.dumps(summary, indent=2, sort_keys=True) + "\n"),
            (self._extra_paths.get(_EXTRA_MARKDOWN) or self.get_option("markdown_path"), render_markdown(summary)),
        )
        for path, text in targets:
            if not path:
                continue
            try:
                _write_file(path, text)
                self._display.display("rollout summary written to %s" % path)
            except (IOError, OSError) as exc:
                self._display.warning("rollout_summary: cannot write %s: %s" % (path, exc))
