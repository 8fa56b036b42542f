# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""The planner, table-driven: every state against every live situation (missing, running,
suspended, locked, resident or not, equal or different definition). Pure function, plain dicts."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._app_request import AppRequest, Refusal
from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import image_major
from ansible_collections.dcos.marathon.plugins.module_utils._planner import RollbackTarget, plan_app

WEB = {"id": "/web", "cmd": "sleep 100", "cpus": 0.1, "mem": 32, "instances": 2}
DB = {"id": "/db", "cmd": "sleep 100", "cpus": 0.5, "mem": 64, "instances": 1,
      "container": {"type": "MESOS", "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}}
RUNNING_TASK = {"id": "t1", "state": "TASK_RUNNING", "startedAt": "2026-12-01T00:00:00.000Z"}
SUSPENDED_TASK = {"id": "t2", "state": "TASK_KILLED", "localVolumes": [{"containerPath": "data", "persistenceId": "p"}]}
RESIDENT_RUNNING_TASK = dict(RUNNING_TASK, localVolumes=[{"containerPath": "data", "persistenceId": "q"}])


def live_app(defn, instances=None, tasks=(), deployments=()):
    """The app as GET /v2/apps/{id} shows it for ``defn``: read-only fields added."""
    app = copy.deepcopy(defn)
    if instances is not None:
        app["instances"] = instances
    app.update(version="2026-12-01T00:00:00.000Z", tasks=list(tasks), deployments=[{"id": d} for d in deployments],
               tasksRunning=len([t for t in tasks if t.get("state") == "TASK_RUNNING"]), tasksHealthy=0, tasksStaged=0)
    return app


LIVE = {
    "missing": None,
    "web running": live_app(WEB, tasks=[RUNNING_TASK, RUNNING_TASK]),
    "web locked": live_app(WEB, tasks=[RUNNING_TASK, RUNNING_TASK], deployments=["dep-1"]),
    "web stopped": live_app(WEB, instances=0),
    "db running": live_app(DB, tasks=[RESIDENT_RUNNING_TASK]),
    "db suspended": live_app(DB, instances=0, tasks=[SUSPENDED_TASK]),
    "db locked": live_app(DB, tasks=[RESIDENT_RUNNING_TASK], deployments=["dep-2"]),
}


def request(defn=None, **params):
    base = dict(app_id=None, definition=copy.deepcopy(defn), src=None, state="present", instances=None,
                keep_instances=False, partial=False, force=False, allow_data_loss=False, rollback_to=None,
                wait=True, wait_timeout=600, wait_for=None, secret_env=[], init_env=[], allow_init_env_change=False)
    base.update(params)
    if defn is None and base["app_id"] is None:
        base["app_id"] = "/web"
    return AppRequest(base, set())


def changed(defn, **fields):
    out = copy.deepcopy(defn)
    out.update(fields)
    return out


# (case, live, definition, extra params) -> (action, changes, instances to wait for, restart)
TABLE = [
    # present
    ("present creates", "missing", WEB, {}, ("create", ["app (created)"], 2, False)),
    ("present without definition cannot create", "missing", None, {}, ("refuse", [], None, False)),
    ("present equal is nothing", "web running", WEB, {}, ("nothing", [], None, False)),
    ("present equal while locked is nothing", "web locked", WEB, {}, ("nothing", [], None, False)),
    ("present different updates", "web running", changed(WEB, cmd="sleep 200"), {}, ("update", ["cmd"], 2, False)),
    ("present different while locked still plans the update", "web locked", changed(WEB, cmd="sleep 200"), {},
     ("update", ["cmd"], 2, False)),
    ("present only the count differs scales", "web running", changed(WEB, instances=3), {},
     ("scale", ["instances"], 3, False)),
    ("present keep_instances keeps a stopped app stopped", "web stopped", WEB, {"keep_instances": True},
     ("nothing", [], None, False)),
    ("present keep_instances still applies other fields", "web stopped", changed(WEB, cmd="x"),
     {"keep_instances": True}, ("update", ["cmd"], 0, False)),
    ("present instances wins over keep_instances", "web stopped", WEB, {"keep_instances": True, "instances": 2},
     ("scale", ["instances"], 2, False)),
    ("present app_id only is nothing", "web running", None, {}, ("nothing", [], None, False)),
    ("present app_id with instances scales", "web running", None, {"instances": 5}, ("scale", ["instances"], 5, False)),
    ("present resident equal", "db running", DB, {}, ("nothing", [], None, False)),
    ("present resident resource change refused", "db running", changed(DB, mem=128), {},
     ("refuse", [], None, False)),
    ("present resident cmd change updates", "db running", changed(DB, cmd="sleep 1"), {},
     ("update", ["cmd"], 1, False)),
    # stopped
    ("stopped creates with 0", "missing", WEB, {"state": "stopped"}, ("create", ["app (created)"], 0, False)),
    ("stopped scales a running app to 0", "web running", None, {"state": "stopped", "app_id": "/web"},
     ("scale", ["instances"], 0, False)),
    ("stopped with definition scales to 0", "web running", WEB, {"state": "stopped"},
     ("scale", ["instances"], 0, False)),
    ("stopped is nothing when stopped", "web stopped", WEB, {"state": "stopped"}, ("nothing", [], None, False)),
    ("stopped resident suspended is nothing", "db suspended", DB, {"state": "stopped"}, ("nothing", [], None, False)),
    ("stopped resident running scales to 0", "db running", DB, {"state": "stopped"},
     ("scale", ["instances"], 0, False)),
    # started
    ("started creates with the definition's count", "missing", WEB, {"state": "started"},
     ("create", ["app (created)"], 2, False)),
    ("started brings suspended instances back", "db suspended", None, {"state": "started", "app_id": "/db"},
     ("scale", ["instances"], 1, False)),
    ("started running is nothing", "web running", WEB, {"state": "started"}, ("nothing", [], None, False)),
    ("started stopped non-resident uses the definition's count", "web stopped", WEB, {"state": "started"},
     ("scale", ["instances"], 2, False)),
    ("started without definition on a missing app", "missing", None, {"state": "started"}, ("refuse", [], None, False)),
    # restarted
    ("restarted equal restarts", "web running", WEB, {"state": "restarted"}, ("restart", [], 2, False)),
    ("restarted locked still plans the restart", "web locked", WEB, {"state": "restarted"}, ("restart", [], 2, False)),
    ("restarted config change replaces the tasks once", "web running", changed(WEB, cmd="x"),
     {"state": "restarted"}, ("update", ["cmd"], 2, False)),
    ("restarted count change on a running app scales then restarts", "web running", changed(WEB, instances=3),
     {"state": "restarted"}, ("scale", ["instances"], 3, True)),
    ("restarted stopped app with definition is one start", "web stopped", WEB, {"state": "restarted"},
     ("scale", ["instances"], 2, False)),
    ("restarted stopped app without anything refused", "web stopped", None, {"state": "restarted"},
     ("refuse", [], None, False)),
    ("restarted missing app is created", "missing", WEB, {"state": "restarted"}, ("create", ["app (created)"], 2, False)),
    ("restarted resident suspended with instances", "db suspended", None,
     {"state": "restarted", "app_id": "/db", "instances": 1}, ("scale", ["instances"], 1, False)),
    # absent
    ("absent missing is nothing", "missing", None, {"state": "absent"}, ("nothing", [], None, False)),
    ("absent removes", "web running", None, {"state": "absent"}, ("delete", ["app (removed)"], None, False)),
    ("absent removes while locked", "web locked", None, {"state": "absent"}, ("delete", ["app (removed)"], None, False)),
    ("absent resident refused", "db suspended", None, {"state": "absent", "app_id": "/db"}, ("refuse", [], None, False)),
    ("absent resident with allow_data_loss", "db running", None,
     {"state": "absent", "app_id": "/db", "allow_data_loss": True}, ("delete", ["app (removed)"], None, False)),
]


@pytest.mark.parametrize("case,live,defn,params,expected", TABLE, ids=[row[0] for row in TABLE])
def test_plan_table(case, live, defn, params, expected):
    plan = plan_app(request(defn, **params), copy.deepcopy(LIVE[live]))
    action, changes, instances, restart = expected
    assert (plan.action, plan.changes if plan.action != "refuse" else [], plan.restart) == (action, changes, restart)
    if instances is not None:
        assert plan.instances == instances
    if plan.action in ("create", "update") and instances is not None:
        assert plan.body["instances"] == instances


def test_a_resident_refusal_names_the_fields_and_the_values():
    plan = plan_app(request(changed(DB, mem=128)), LIVE["db running"])
    assert plan.extra["changes"] == ["mem"]
    assert "mem (64 -> 128)" in plan.msg and "Nothing was sent" in plan.msg


def test_keep_instances_warns_when_the_definition_asks_for_another_count():
    plan = plan_app(request(WEB, keep_instances=True), LIVE["web stopped"])
    assert plan.action == "nothing"
    assert plan.warnings and "has 0 instance(s) and the definition asks for 2" in plan.warnings[0]


def test_init_env_change_is_refused_unless_allowed():
    live = live_app(changed(WEB, env={"POSTGRES_PASSWORD": "pw-old-8431"}), tasks=[RUNNING_TASK, RUNNING_TASK])
    new = changed(WEB, env={"POSTGRES_PASSWORD": "pw-new-9752"})
    plan = plan_app(request(new, init_env=["POSTGRES_PASSWORD"]), live)
    assert plan.action == "refuse" and plan.extra["refused_init_env"] == ["POSTGRES_PASSWORD"]
    assert "pw-old-8431" not in plan.msg and "pw-new-9752" not in plan.msg
    allowed = plan_app(request(new, init_env=["POSTGRES_PASSWORD"], allow_init_env_change=True), live)
    assert allowed.action == "update" and allowed.changes == ["env"]
    # A secret reference is not a value to compare.
    ref = changed(WEB, env={"POSTGRES_PASSWORD": {"secret": "pw"}}, secrets={"pw": {"source": "db/pw"}})
    assert plan_app(request(ref, init_env=["POSTGRES_PASSWORD"]), live).action != "refuse"


def docker_db(image):
    return changed(DB, container={"type": "DOCKER", "docker": {"image": image},
                                  "volumes": DB["container"]["volumes"]})


def test_a_major_change_of_a_resident_apps_image_is_refused_with_fixed_image_major():
    live = live_app(docker_db("postgres:15"), tasks=[RESIDENT_RUNNING_TASK])
    plan = plan_app(request(docker_db("postgres:16"), fixed_image_major=True), live)
    assert plan.action == "refuse" and plan.extra["refused_image_major"] == {"live": "15", "desired": "16"}
    assert "moves from major version 15 to 16" in plan.msg and "Nothing was sent" in plan.msg
    # Without the option, and for a minor change, an update as before.
    assert plan_app(request(docker_db("postgres:16")), live).action == "update"
    assert plan_app(request(docker_db("postgres:15.8"), fixed_image_major=True), live).action == "update"
    # Stopped (suspended) too: the next start would find the old files.
    suspended = live_app(docker_db("postgres:15"), instances=0, tasks=[SUSPENDED_TASK])
    assert plan_app(request(docker_db("postgres:16"), fixed_image_major=True), suspended).action == "refuse"
    # No volume, no old files.
    web = live_app(changed(WEB, container={"type": "DOCKER", "docker": {"image": "postgres:15"}}))
    web_new = changed(WEB, container={"type": "DOCKER", "docker": {"image": "postgres:16"}})
    assert plan_app(request(web_new, fixed_image_major=True), web).action == "update"


@pytest.mark.parametrize("image, major", [
    ("postgres:16", "16"), ("postgres:16.2-alpine", "16"), ("docker.io/library/postgres:9.6", "9.6"),
    ("registry:5000/postgres:15@sha256:ab", "15"), ("registry:5000/postgres", None), ("postgres:latest", None),
    ("postgres", None), ("", None), ("postgres:9", "9"),
])
def test_image_major(image, major):
    assert image_major(image) == major


def test_the_landed_check_is_the_plan_comparison():
    plan = plan_app(request(changed(WEB, cmd="sleep 200")), LIVE["web running"])
    assert not plan.landed(LIVE["web running"])
    assert plan.landed(live_app(changed(WEB, cmd="sleep 200")))
    scale = plan_app(request(None, instances=5), LIVE["web running"])
    assert scale.landed(dict(LIVE["web running"], instances=5)) and not scale.landed(LIVE["web running"])


def test_rollback_plans():
    old = changed(WEB, cmd="sleep 50")
    target = RollbackTarget(["v2", "v1"], old)
    req = request(None, rollback_to="v1")
    assert plan_app(req, LIVE["web running"], target).action == "rollback"
    assert plan_app(req, live_app(old), target).action == "nothing"
    assert plan_app(req, None, None).action == "refuse"
    unknown = plan_app(request(None, rollback_to="v9"), LIVE["web running"], RollbackTarget(["v2", "v1"], None))
    assert unknown.action == "refuse" and "Newest versions: v2, v1" in unknown.msg
    resident = plan_app(request(None, app_id="/db", rollback_to="v1"), LIVE["db running"],
                        RollbackTarget(["v1"], changed(DB, cpus=2)))
    assert resident.action == "refuse" and resident.msg.startswith("rollback_to 'v1': ")


SUSPENDED = {"id": "t", "state": "TASK_KILLED", "localVolumes": [{"persistenceId": "p"}]}
RUNNING = {"id": "r", "state": "TASK_RUNNING", "startedAt": "2026-11-25T12:00:00.000Z",
           "localVolumes": [{"persistenceId": "q"}]}


@pytest.mark.parametrize(
    "instances,defn,live,expected",
    [
        (4, {"instances": 2}, {"instances": 0, "tasks": [SUSPENDED]}, 4),  # the option wins
        (None, None, {"instances": 0, "tasks": [SUSPENDED, SUSPENDED, SUSPENDED]}, 3),  # suspended ones
        (None, {"instances": 5}, {"instances": 0, "tasks": [SUSPENDED, SUSPENDED]}, 2),  # suspended before definition
        (None, {"instances": 5}, {"instances": 0, "tasks": []}, 5),  # then the definition
        (None, None, {"instances": 0, "tasks": []}, 1),  # else one
        (None, {"cmd": "x"}, None, 1),  # missing app, definition without a count
        (None, None, {"instances": 2, "tasks": [RUNNING, RUNNING, SUSPENDED]}, 2),  # running: keep its count
        (None, {"instances": 3}, {"instances": 2, "tasks": [RUNNING, RUNNING]}, 3),  # running: definition's count
    ],
)
def test_started_count_precedence(instances, defn, live, expected):
    defn = dict(defn, id="/web", cmd="sleep 1") if defn is not None else None
    if live is not None:
        live = live_app(dict(WEB, instances=live["instances"]), tasks=live["tasks"])
    plan = plan_app(request(defn, state="started", instances=instances), live)
    wanted = plan.instances if plan.instances is not None else (live or {}).get("instances")
    assert wanted == expected


def test_bad_options_are_refused_naming_the_option():
    with pytest.raises(Refusal, match="instances cannot be used with state=stopped"):
        request(WEB, state="stopped", instances=1)
    with pytest.raises(Refusal, match=r"init_env\[0\] must be an environment variable name"):
        request(WEB, init_env=["A,B"])
    with pytest.raises(Refusal, match="wait_for=suspended needs state=stopped"):
        request(WEB, state="restarted", wait_for="suspended")
