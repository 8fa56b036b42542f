# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""rollout_summary callback fed with synthetic task results (no playbook run)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.dcos.marathon.plugins.callback import rollout_summary as rs


class FakeHost(object):
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class FakeTask(object):
    def __init__(self, action):
        self.action = action
        self.resolved_action = action


class FakeResult(object):
    """Shape of ansible-core's CallbackTaskResult as far as the callback reads it."""

    def __init__(self, host, action, data):
        self.host = FakeHost(host)
        self.task = FakeTask(action)
        self.result = data


class FakeStats(object):
    def __init__(self, custom=None, failures=None, rescued=None):
        self.custom = custom or {}
        self.failures = failures or {}
        self.rescued = rescued or {}
        self.dark = {}


class Clock(object):
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Display(object):
    verbosity = 0

    def __init__(self):
        self.lines = []
        self.warnings = []

    def display(self, msg, *args, **kwargs):
        self.lines.append(msg)

    def banner(self, msg, *args, **kwargs):
        self.lines.append("BANNER " + msg)

    def warning(self, msg, *args, **kwargs):
        self.warnings.append(msg)


def make_callback(tmp_path, **options):
    cb = rs.CallbackModule(display=Display())
    opts = {"show_table": True, "json_path": None, "markdown_path": None}
    opts.update(options)
    cb._plugin_options = opts
    cb._clock = Clock()
    return cb


APP_OK = {
    "changed": True,
    "app": {"id": "/postgres", "instances": 1, "tasksRunning": 1, "tasksHealthy": 1, "version": "2026-01-01T00:00:02.000Z"},
    "version": "2026-01-01T00:00:02.000Z",
    "tasks_running": 1,
    "tasks_healthy": 1,
}


def rows_by_cluster(summary):
    return dict((row["cluster"], row) for row in summary["clusters"])


def run(cb, stats):
    captured = {}
    cb.emit = lambda summary: captured.setdefault("summary", summary)
    cb.v2_playbook_on_stats(stats)
    return captured["summary"]


def test_changed_unchanged_not_reached_and_duration(tmp_path):
    cb = make_callback(tmp_path)
    cb.register_hosts(["canary", "eu1", "us1"])
    cb.v2_runner_on_start(FakeHost("canary"), FakeTask("dcos.marathon.marathon_app"))
    cb._clock.now += 12.34
    cb.v2_runner_on_ok(FakeResult("canary", "dcos.marathon.marathon_app", APP_OK))
    unchanged = dict(APP_OK, changed=False)
    cb.v2_runner_on_start(FakeHost("eu1"), FakeTask("dcos.marathon.marathon_app"))
    cb._clock.now += 1.0
    cb.v2_runner_on_ok(FakeResult("eu1", "dcos.marathon.marathon_app", unchanged))
    # A changed result of another module does not make the cluster "changed".
    cb.v2_runner_on_ok(FakeResult("eu1", "ansible.builtin.set_fact", {"changed": True}))

    summary = run(cb, FakeStats())
    rows = rows_by_cluster(summary)
    assert [r["cluster"] for r in summary["clusters"]] == ["canary", "eu1", "us1"]
    assert rows["canary"]["status"] == "changed"
    assert rows["canary"]["duration_s"] == 12.3
    assert rows["canary"]["healthy_instances"] == "1/1"
    assert rows["canary"]["version"] == "2026-01-01T00:00:02.000Z"
    assert rows["canary"]["app_id"] == "/postgres"
    assert rows["eu1"]["status"] == "unchanged"
    assert rows["us1"]["status"] == "not reached"
    assert rows["us1"]["duration_s"] is None
    assert summary["result"] == "failed"  # a cluster was not reached
    assert summary["counts"]["not reached"] == 1


def test_failure_keeps_message_and_last_app_state(tmp_path):
    cb = make_callback(tmp_path)
    cb.register_hosts(["canary", "eu1"])
    failed = {
        "failed": True,
        "msg": "Timed out after 30 s waiting for /postgres: 0 of 1 tasks healthy",
        "app": {"id": "/postgres", "instances": 1, "tasksHealthy": 0, "version": "2026-01-01T00:01:00.000Z"},
    }
    cb.v2_runner_on_failed(FakeResult("canary", "dcos.marathon.marathon_app", failed))
    summary = run(cb, FakeStats(failures={"canary": 1}))
    row = rows_by_cluster(summary)["canary"]
    assert row["status"] == "failed"
    assert row["healthy_instances"] == "0/1"
    assert "Timed out" in row["message"]
    assert rows_by_cluster(summary)["eu1"]["status"] == "not reached"


def test_a_deployment_that_cannot_finish_shows_its_cause_in_the_row(tmp_path):
    cb = make_callback(tmp_path)
    cb.register_hosts(["eu1"])
    reason = "every offer was declined for 30s: InsufficientCpus (2 of 2 last offers)"
    failed = {
        "failed": True,
        "msg": "Deployment of app '/postgres' cannot finish, stopped waiting: " + reason,
        "app": {"id": "/postgres", "instances": 1, "tasksHealthy": 0, "version": "2026-01-01T00:01:00.000Z"},
        "diagnosis": {"cause": "offers_declined", "reason": reason, "deployment_id": "dep-1", "current_step": 1},
    }
    cb.v2_runner_on_failed(FakeResult("eu1", "dcos.marathon.marathon_app", failed))
    # The rollout's own failure comes last with another message; the cause stays.
    cb.v2_runner_on_failed(FakeResult("eu1", "ansible.builtin.fail", {"failed": True, "msg": "Rollout failed on eu1."}))
    summary = run(cb, FakeStats(failures={"eu1": 1}))
    row = rows_by_cluster(summary)["eu1"]
    assert row["status"] == "failed" and row["cause"] == reason and row["message"] == "Rollout failed on eu1."
    assert "eu1: cause: " + reason in rs.render_table(summary["clusters"])
    assert "| cause | message |" in rs.render_markdown(summary) and reason in rs.render_markdown(summary)


def test_ignored_errors_do_not_fail_a_cluster(tmp_path):
    cb = make_callback(tmp_path)
    cb.v2_runner_on_failed(FakeResult("eu1", "ansible.builtin.command", {"failed": True, "msg": "x"}), ignore_errors=True)
    row = rows_by_cluster(run(cb, FakeStats()))["eu1"]
    assert row["status"] == "unchanged"


def test_rescued_failure_without_final_failure_is_not_failed(tmp_path):
    cb = make_callback(tmp_path)
    cb.v2_runner_on_failed(FakeResult("eu1", "dcos.marathon.marathon_app", {"failed": True, "msg": "boom"}))
    cb.v2_runner_on_ok(FakeResult("eu1", "dcos.marathon.marathon_app", APP_OK))
    row = rows_by_cluster(run(cb, FakeStats(rescued={"eu1": 1})))["eu1"]
    assert row["status"] == "changed"


def test_stats_from_playbook_win_and_mark_interrupted(tmp_path):
    cb = make_callback(tmp_path)
    cb.register_hosts(["canary", "eu1", "eu2"])
    for host in ("canary", "eu1", "eu2"):
        cb.v2_runner_on_ok(FakeResult(host, "dcos.marathon.marathon_app", APP_OK))
    custom = {
        "canary": {"rollout_summary": {"done": True, "previous_version": "2026-01-01T00:00:00.000Z", "rolled_back": False}},
        "eu1": {"rollout_summary": {"done": True, "version": "2026-01-01T00:00:09.000Z", "tasks_healthy": 2, "instances": 2}},
        # eu2 never reached the end of its tasks (its batch was stopped)
    }
    rows = rows_by_cluster(run(cb, FakeStats(custom=custom)))
    assert rows["canary"]["previous_version"] == "2026-01-01T00:00:00.000Z"
    assert rows["canary"]["rolled_back"] == "no"
    assert rows["eu1"]["version"] == "2026-01-01T00:00:09.000Z"
    assert rows["eu1"]["healthy_instances"] == "2/2"
    assert rows["eu2"]["status"] == "interrupted"


def test_rollback_row(tmp_path):
    cb = make_callback(tmp_path)
    cb.v2_runner_on_failed(FakeResult("canary", "ansible.builtin.fail", {"failed": True, "msg": "canary failed; rolled back"}))
    custom = {"canary": {"rollout_summary": {"rolled_back": True, "previous_version": "v0", "version": "v2"}}}
    row = rows_by_cluster(run(cb, FakeStats(custom=custom, failures={"canary": 1})))["canary"]
    assert row["status"] == "failed"
    assert row["rolled_back"] == "yes"
    assert row["version"] == "v2"


def test_unreachable_is_failed(tmp_path):
    cb = make_callback(tmp_path)
    cb.v2_runner_on_unreachable(FakeResult("eu1", "dcos.marathon.marathon_app", {"unreachable": True, "msg": "no route"}))
    row = rows_by_cluster(run(cb, FakeStats()))["eu1"]
    assert row["status"] == "failed"
    assert row["message"] == "no route"


def test_emit_writes_json_and_markdown_and_prints_table(tmp_path):
    json_path = tmp_path / "out" / "summary.json"
    md_path = tmp_path / "out" / "summary.md"
    cb = make_callback(tmp_path, json_path=str(json_path), markdown_path=str(md_path))
    cb.register_hosts(["a|b", "c"])
    cb.v2_runner_on_ok(FakeResult("a|b", "dcos.marathon.marathon_app", APP_OK))
    cb.v2_playbook_on_stats(FakeStats())

    data = json.loads(json_path.read_text())
    assert data["result"] == "failed"
    assert [r["cluster"] for r in data["clusters"]] == ["a|b", "c"]
    assert data["clusters"][0]["status"] == "changed"
    md = md_path.read_text()
    lines = [line for line in md.splitlines() if line.startswith("|")]
    assert len(lines) == 4  # header, rule, two rows
    assert "a\\|b" in lines[2]
    assert "not reached" in lines[3]
    printed = "\n".join(cb._display.lines)
    assert "BANNER ROLLOUT SUMMARY" in printed
    assert "healthy/instances" in printed
    assert "1/1" in printed


def test_extra_var_path_overrides_option(tmp_path):
    option_path = tmp_path / "option.json"
    extra_path = tmp_path / "extra.json"
    cb = make_callback(tmp_path, json_path=str(option_path), show_table=False)
    cb._extra_paths[rs._EXTRA_JSON] = str(extra_path)
    cb.v2_playbook_on_stats(FakeStats())
    assert extra_path.exists()
    assert not option_path.exists()
    assert cb._display.lines == ["rollout summary written to %s" % extra_path]


def test_unwritable_path_warns_instead_of_failing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cb = make_callback(tmp_path, json_path=str(blocker / "sub" / "s.json"), show_table=False)
    cb.v2_playbook_on_stats(FakeStats())
    assert cb._display.warnings and "cannot write" in cb._display.warnings[0]


@pytest.mark.parametrize(
    "result, expected",
    [
        ({"app": {"id": "/x", "instances": 0, "version": "v"}}, {"app_id": "/x", "instances": 0, "version": "v"}),
        ({"version": "v2", "tasks_healthy": 0, "app": {"version": "v1"}}, {"version": "v2", "tasks_healthy": 0}),
        ({}, {}),
    ],
)
def test_app_snapshot(result, expected):
    assert rs.app_snapshot(result) == expected


def test_table_has_one_line_per_row_plus_failure_notes():
    rows = [
        rs.build_row(rs.HostRecord("a"), None, False),
    ]
    rec = rs.HostRecord("b")
    rec.reached = True
    rec.failed = True
    rec.message = "health checks failing"
    rows.append(rs.build_row(rec, None, False))
    text = rs.render_table(rows).splitlines()
    assert text[0].startswith("cluster")
    assert text[2].startswith("a ")
    assert "not reached" in text[2]
    assert text[3].startswith("b ") and "failed" in text[3]
    assert text[4] == "b: health checks failing"


def test_play_start_lists_every_host_of_the_play_even_outside_the_batch(tmp_path):
    # Real inventory and play objects: the hosts of later batches must get rows too.
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.play import Play
    from ansible.vars.manager import VariableManager

    inventory_file = tmp_path / "hosts.yml"
    inventory_file.write_text(
        "all:\n  children:\n    clusters:\n      hosts:\n        eu: {}\n        us: {}\n        canary: {}\n"
        "    canary:\n      hosts:\n        canary: {}\n    other:\n      hosts:\n        not_a_cluster: {}\n"
    )
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(inventory_file)])
    variable_manager = VariableManager(loader=loader, inventory=inventory)
    play = Play.load(
        {"name": "p", "hosts": ["canary:&clusters", "clusters"], "gather_facts": False, "tasks": []},
        variable_manager=variable_manager,
        loader=loader,
    )
    # What PlaybookExecutor does for a serial batch.
    inventory.restrict_to_hosts([inventory.get_host("canary")])

    cb = make_callback(tmp_path)
    cb.v2_playbook_on_play_start(play)
    assert cb._order == ["canary", "eu", "us"]
    assert cb._display.warnings == []


@pytest.mark.parametrize("value, shown", [(True, "yes"), (False, "no"), ("failed", "failed"), (None, ""), ("", "")])
def test_rolled_back_column(value, shown):
    rec = rs.HostRecord("c")
    rec.reached = True
    stat = {} if value is None else {"rolled_back": value}
    assert rs.build_row(rec, stat, False)["rolled_back"] == shown


def test_set_stats_results_are_used_without_custom_stats(tmp_path):
    cb = make_callback(tmp_path)
    stat_result = {"ansible_stats": {"data": {"rollout_summary": {"done": True, "previous_version": "v1"}}, "per_host": True}}
    cb.v2_runner_on_ok(FakeResult("eu1", "ansible.builtin.set_stats", stat_result))
    row = rows_by_cluster(run(cb, FakeStats()))["eu1"]
    assert row["previous_version"] == "v1"
    assert row["status"] == "unchanged"


def test_interrupted_run_still_writes_the_summary_at_exit(tmp_path):
    json_path = tmp_path / "s.json"
    cb = make_callback(tmp_path, json_path=str(json_path), show_table=False)
    cb.register_hosts(["canary", "eu1", "us1"])
    cb.v2_runner_on_ok(FakeResult("canary", "ansible.builtin.set_stats", {"ansible_stats": {"data": {"rollout_summary": {"done": True}}}}))
    cb.v2_runner_on_ok(FakeResult("eu1", "dcos.marathon.marathon_app", APP_OK))  # still running when Ctrl-C came
    cb._emit_on_exit()
    data = json.loads(json_path.read_text())
    assert data["result"] == "interrupted"
    assert [r["status"] for r in data["clusters"]] == ["unchanged", "interrupted", "not reached"]
    # Once written, exiting does not write again.
    json_path.unlink()
    cb._emit_on_exit()
    assert not json_path.exists()


def test_normal_end_is_not_written_twice(tmp_path):
    json_path = tmp_path / "s.json"
    cb = make_callback(tmp_path, json_path=str(json_path), show_table=False)
    cb.register_hosts(["a"])
    cb.v2_playbook_on_stats(FakeStats())
    json_path.unlink()
    cb._emit_on_exit()
    assert not json_path.exists()
