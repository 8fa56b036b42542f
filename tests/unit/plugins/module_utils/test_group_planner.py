# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""plan_group, table-driven over plain dicts: what one marathon_group task sends for each live
situation, and what it refuses before any write."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._app_request import Refusal
from ansible_collections.dcos.marathon.plugins.module_utils._group import GroupRequest, plan_group

WEB = {"id": "web", "cmd": "sleep 100", "cpus": 0.1, "mem": 32, "instances": 2, "dependencies": ["db"]}
DB = {"id": "db", "cmd": "sleep 100", "cpus": 0.5, "mem": 64, "instances": 1,
      "container": {"type": "MESOS", "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}}
JOB = {"id": "job", "cmd": "sleep 100", "cpus": 0.1, "mem": 32, "instances": 1}


def live_app(defn, group="/s", **changes):
    app = copy.deepcopy(defn)
    app["id"] = "%s/%s" % (group, defn["id"])
    if "dependencies" in app:
        app["dependencies"] = ["/s/" + d for d in app["dependencies"]]
    app.update(version="2026-12-01T00:00:00.000Z", tasksRunning=app.get("instances", 1), tasksHealthy=0,
               tasksStaged=0, deployments=[], tasks=[])
    app.update(changes)
    return app


def live_group(*apps, groups=(), deps=()):
    return {"id": "/s", "apps": list(apps), "groups": list(groups), "dependencies": list(deps),
            "version": "2026-12-01T00:00:00.000Z"}


def request(definition=None, **params):
    base = dict(group_id="/s", definition=copy.deepcopy(definition), src=None, state="present", prune=False,
                allow_data_loss=False, force=False, wait=True, wait_timeout=600)
    base.update(params)
    return GroupRequest(base, set())


def actions(plan):
    return dict((a, s.action) for a, s in plan.steps.items())


def test_nothing_differs_no_write():
    plan = plan_group(request({"apps": [DB, WEB]}), live_group(live_app(DB), live_app(WEB)))
    assert not plan.writes and plan.body is None
    assert actions(plan) == {"/s/db": "nothing", "/s/web": "nothing"}


def test_one_app_differs_the_others_are_sent_as_marathon_shows_them():
    live_db = live_app(DB)
    plan = plan_group(request({"apps": [DB, dict(WEB, cmd="sleep 200")]}), live_group(live_db, live_app(WEB)))
    assert actions(plan) == {"/s/db": "nothing", "/s/web": "update"}
    sent = dict((a["id"], a) for a in plan.body["apps"])
    assert sent["/s/web"]["cmd"] == "sleep 200" and sent["/s/web"]["dependencies"] == ["/s/db"]
    # The unchanged app is the live one without its read-only fields, so Marathon sees no change.
    assert sent["/s/db"]["cmd"] == "sleep 100" and "version" not in sent["/s/db"] and "tasks" not in sent["/s/db"]
    assert plan.landed(live_group(live_db, live_app(WEB, cmd="sleep 200")))
    assert not plan.landed(live_group(live_db, live_app(WEB)))


def test_missing_group_creates_every_app_with_nested_groups_and_dependencies():
    plan = plan_group(request({"apps": [DB], "groups": [{"id": "jobs", "apps": [JOB], "dependencies": ["/s/db"]}]}),
                      None)
    assert actions(plan) == {"/s/db": "create", "/s/jobs/job": "create"}
    assert plan.body["id"] == "/s" and [a["id"] for a in plan.body["apps"]] == ["/s/db"]
    (jobs,) = plan.body["groups"]
    assert jobs["id"] == "/s/jobs" and jobs["dependencies"] == ["/s/db"] and jobs["apps"][0]["id"] == "/s/jobs/job"


def test_unlisted_apps_are_kept_without_prune_and_removed_with_it():
    live = live_group(live_app(WEB), live_app(JOB))
    kept = plan_group(request({"apps": [dict(WEB, cmd="sleep 300")]}), live)
    assert actions(kept) == {"/s/web": "update", "/s/job": "nothing"}
    assert sorted(a["id"] for a in kept.body["apps"]) == ["/s/job", "/s/web"]
    pruned = plan_group(request({"apps": [WEB]}, prune=True), live)
    assert actions(pruned) == {"/s/web": "nothing", "/s/job": "delete"}
    assert [a["id"] for a in pruned.body["apps"]] == ["/s/web"]


def test_prune_of_a_resident_app_needs_allow_data_loss():
    live = live_group(live_app(WEB), live_app(DB))
    refused = plan_group(request({"apps": [WEB]}, prune=True), live)
    assert refused.msg and "allow_data_loss" in refused.msg and "/s/db: data" in refused.msg and not refused.writes
    allowed = plan_group(request({"apps": [WEB]}, prune=True, allow_data_loss=True), live)
    assert actions(allowed)["/s/db"] == "delete"


def test_resident_violations_of_any_app_refuse_the_whole_write():
    plan = plan_group(request({"apps": [dict(DB, mem=128), dict(WEB, cmd="sleep 200")]}),
                      live_group(live_app(DB), live_app(WEB)))
    assert plan.msg and "/s/db" in plan.msg and "mem" in plan.msg and not plan.writes


# Without a definition, started starts a stopped app with one instance, as marathon_app does (a
# stopped app without volumes leaves no trace of its former count).
@pytest.mark.parametrize("state,counts", [("stopped", {"/s/db": 0, "/s/web": 0}), ("started", {"/s/db": 1, "/s/web": 1})])
def test_stopped_and_started_scale_every_app(state, counts):
    live = live_group(live_app(DB, instances=0 if state == "started" else 1),
                      live_app(WEB, instances=0 if state == "started" else 2))
    plan = plan_group(request(None, state=state), live)
    assert actions(plan) == {"/s/db": "scale", "/s/web": "scale"}
    assert dict((a["id"], a["instances"]) for a in plan.body["apps"]) == counts


def test_absent_refuses_resident_apps_without_allow_data_loss():
    live = live_group(live_app(DB), live_app(WEB))
    assert "allow_data_loss" in plan_group(request(None, state="absent"), live).msg
    plan = plan_group(request(None, state="absent", allow_data_loss=True), live)
    assert plan.delete and plan.writes
    assert not plan_group(request(None, state="absent"), None).writes


def test_dependencies_of_a_group_alone_are_a_change():
    plan = plan_group(request({"apps": [JOB], "dependencies": ["/other"]}), live_group(live_app(JOB)))
    assert plan.writes and plan.dependency_changes == ["/s"] and plan.body["dependencies"] == ["/other"]
    assert not plan.landed(live_group(live_app(JOB)))
    assert plan.landed(live_group(live_app(JOB), deps=["/other"]))


def test_marathon_1_4_echoes_are_not_sent_back_beside_the_new_forms():
    old = live_app(dict(JOB, portDefinitions=[{"port": 10000, "protocol": "tcp"}], fetch=[{"uri": "http://x/a"}]),
                   ports=[10000], uris=["http://x/a"])
    plan = plan_group(request({"apps": [dict(WEB, id="web")]}), live_group(old))
    (kept,) = [a for a in plan.body["apps"] if a["id"] == "/s/job"]
    assert "ports" not in kept and "uris" not in kept and kept["portDefinitions"][0]["port"] == 10000


@pytest.mark.parametrize("definition,message", [
    ({"apps": [{"id": "/elsewhere/x", "cmd": "sleep 1"}]}, "definition.apps[0].id '/elsewhere/x' is not inside group '/s'"),
    ({"apps": [{"cmd": "sleep 1"}]}, "definition.apps[0].id is required"),
    ({"apps": [JOB, JOB]}, "definition.apps[1].id '/s/job' names the same app as definition.apps[0]"),
    ({"apps": [dict(JOB, cpus="lots")]}, "definition.apps[0].cpus"),
    ({"apps": [], "scaleBy": 2}, "unsupported key(s) scaleBy"),
    ({"id": "/other", "apps": []}, "name different groups"),
    ({"groups": [{"id": "/x"}]}, "definition.groups[0].id '/x' is not inside group '/s'"),
])
def test_bad_definitions_name_the_field(definition, message):
    with pytest.raises(Refusal) as err:
        request(definition)
    assert message in err.value.msg


def test_started_takes_the_definitions_count():
    plan = plan_group(request({"apps": [WEB]}, state="started"), live_group(live_app(WEB, instances=0)))
    assert plan.body["apps"][0]["instances"] == 2


def test_present_needs_a_definition():
    with pytest.raises(Refusal, match="state=present needs definition or src"):
        request(None)
