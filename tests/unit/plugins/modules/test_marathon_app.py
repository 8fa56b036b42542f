# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""marathon_app.main() end to end against a scripted Marathon on 127.0.0.1.

The module runs as Ansible runs it (arguments in, JSON out, exit code); the
server's canned answers pin down which requests it sends in each case.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.dcos.marathon.plugins.modules import marathon_app
from ansible_collections.dcos.marathon.tests.unit.plugins.module_utils.scripted_http import ScriptedServer

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    import contextlib

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        old = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old


@pytest.fixture
def server():
    with ScriptedServer() as script:
        yield script


@pytest.fixture
def run(capsys):
    def _run(args):
        # The version as the action plugin passes it once cached; marathon_version=None reads it.
        args = dict(args)
        args.setdefault("marathon_version", "1.10.26")
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc:
                marathon_app.main()
        out = json.loads(capsys.readouterr().out)
        return exc.value.code, out

    return _run


LIVE = {
    "id": "/web", "cmd": "exec sleep 3600", "cpus": 0.1, "mem": 32.0, "instances": 1, "disk": 0.0, "gpus": 0,
    "env": {"DB_PASSWORD": "pw-live-1"}, "labels": {}, "networks": [{"mode": "host"}],
    "portDefinitions": [{"port": 10000, "name": "default", "protocol": "tcp"}],
    "version": "2026-11-25T12:00:00.000Z", "tasksRunning": 1, "tasksHealthy": 0, "tasksStaged": 0,
    "deployments": [], "tasks": [], "role": "*",
}
RESIDENT_CONTAINER = {"type": "MESOS", "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}
DESIRED = {"id": "web", "cmd": "exec sleep 3600", "cpus": 0.1, "mem": 32, "env": {"DB_PASSWORD": "pw-live-1"}}


def live(**changes):
    app = dict(LIVE)
    app.update(changes)
    return {"app": app}


@pytest.mark.parametrize(
    "args,expected",
    [
        ({"definition": {"id": "/x", "cpus": "many"}}, "definition.cpus must be a number"),
        ({"definition": {"id": "/x", "env": {"N": 1}}}, "definition.env.N must be a string"),
        ({"app_id": "Bad Id"}, "app_id 'Bad Id'"),
        ({"app_id": "/a", "definition": {"id": "/b"}}, "name different apps"),
        ({"app_id": "/a", "state": "absent", "instances": 1}, "instances cannot be used with state=absent"),
        ({"app_id": "/a", "wait_timeout": -5}, "wait_timeout must be greater than 0"),
        ({"app_id": "/a", "fail_after_task_failures": -1}, "fail_after_task_failures must be 0 (off) or more"),
        ({"app_id": "/a", "offer_decline_grace": -2}, "offer_decline_grace must be 0 (off) or more"),
        ({"src": "/nonexistent/file.yml"}, "is not a readable file"),
        ({"app_id": "/a", "request_timeout": 0}, "request_timeout must be greater than 0"),
        ({"app_id": "/a", "dcos_service_account": "sa", "dcos_private_key": "nope"}, "dcos_private_key"),
        ({"app_id": "/a", "dcos_acs_token": "tok-123", "dcos_username": "ops", "dcos_password": "pw-456"},
         "mutually exclusive"),
    ],
)
def test_bad_input_fails_before_any_request(server, run, args, expected):
    args = dict(args, marathon_url=server.url)
    code, out = run(args)
    assert code == 1 and out["failed"]
    assert expected in out["msg"]
    assert server.seen == []


def test_src_yaml_and_json(server, run, tmp_path):
    server.add("GET", "/v2/apps/web", 200, live())
    path = tmp_path / "web.yml"
    path.write_text("id: /web\ncmd: exec sleep 3600\ncpus: 0.1\nmem: 32\nenv:\n  DB_PASSWORD: pw-live-1\n")
    code, out = run({"marathon_url": server.url, "src": str(path)})
    assert code == 0 and out["changed"] is False
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, out = run({"marathon_url": server.url, "src": str(bad)})
    assert code == 1 and "is not valid JSON" in out["msg"]


def test_yaml_in_a_file_named_json_is_read(server, run, tmp_path):
    server.add("GET", "/v2/apps/web", 200, live())
    path = tmp_path / "web.json"
    path.write_text("id: /web\ncmd: exec sleep 3600\ncpus: 0.1\nmem: 32\nenv:\n  DB_PASSWORD: pw-live-1\n")
    code, out = run({"marathon_url": server.url, "src": str(path)})
    assert code == 0 and out["changed"] is False, out.get("msg")
    path.write_text("id: [unclosed\n")
    code, out = run({"marathon_url": server.url, "src": str(path)})
    assert code == 1 and "nor valid YAML" in out["msg"] and "either format is accepted" in out["msg"]


def test_relative_src_not_found_shows_the_resolved_path(server, run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = run({"marathon_url": server.url, "src": "files/web.json"})
    assert code == 1
    assert "src 'files/web.json' (resolved to '%s/files/web.json') is not a readable file" % tmp_path in out["msg"]
    assert server.seen == []


def test_no_change_is_one_get_and_masks_secrets(server, run):
    server.add("GET", "/v2/apps/web", 200, live())
    code, out = run({"marathon_url": server.url, "definition": DESIRED})
    assert code == 0 and out["changed"] is False
    assert [(s["method"], s["path"]) for s in server.seen] == [("GET", "/v2/apps/web")]
    assert "pw-live-1" not in json.dumps(out)
    assert out["app"]["env"]["DB_PASSWORD"] == "********"
    assert out["tasks_running"] == 1 and out["deployment_id"] is None


def test_no_change_still_waits_for_a_deployment_in_progress_and_the_condition(server, run):
    server.add("GET", "/v2/apps/web", 200, live(deployments=[{"id": "earlier"}], tasksRunning=0))
    server.add("GET", "/v2/deployments", 200, [{"id": "earlier", "currentStep": 1, "totalSteps": 1}])
    server.add("GET", "/v2/deployments", 200, [])
    server.add("GET", "/v2/apps/web", 200, live(tasksRunning=0))
    server.add("GET", "/v2/apps/web", 200, live(tasksRunning=1))
    code, out = run({"marathon_url": server.url, "definition": DESIRED})
    assert code == 0 and out["changed"] is False, out
    assert server.writes() == []
    assert [s["path"] for s in server.seen].count("/v2/deployments") == 2
    assert out["tasks_running"] == 1 and "duration" in out


def test_no_change_fails_when_the_asked_condition_never_comes(server, run):
    hc = [{"protocol": "COMMAND", "command": {"value": "true"}}]
    server.add("GET", "/v2/apps/web", 200, live(healthChecks=hc, tasksRunning=1, tasksHealthy=0), sticky=True)
    server.add("GET", "/v2/deployments", 200, [], sticky=True)
    code, out = run({"marathon_url": server.url, "definition": dict(DESIRED, healthChecks=hc),
                     "wait_for": "healthy", "wait_timeout": 1})
    assert code == 1 and out["changed"] is False
    assert "Timed out after 1s waiting for app '/web' to be healthy" in out["msg"]
    assert "1 running, 0 healthy" in out["msg"]
    assert out["app"]["id"] == "/web" and out["tasks_running"] == 1
    assert server.writes() == []


def test_check_mode_create_sends_no_write(server, run):
    server.add("GET", "/v2/apps/web", 404, {"message": "App '/web' does not exist", "details": []})
    code, out = run({"marathon_url": server.url, "definition": DESIRED, "_ansible_check_mode": True,
                     "_ansible_diff": True})
    assert code == 0 and out["changed"] is True
    assert server.writes() == []
    assert out["diff"]["before"] == {} and out["diff"]["after"]["id"] == "/web"
    assert out["changes"] == ["app (created)"]
    assert "pw-live-1" not in json.dumps(out)


def test_update_sends_full_put_and_waits(server, run):
    server.add("GET", "/v2/apps/web", 200, live())
    server.add("PUT", "/v2/apps/web", 200, {"deploymentId": "dep-1", "version": "v2"},
               {"Marathon-Deployment-Id": "dep-1"})
    server.add("GET", "/v2/deployments", 200, [{"id": "dep-1", "currentStep": 1, "totalSteps": 1,
                                                "currentActions": []}])
    server.add("GET", "/v2/deployments", 200, [])
    server.add("GET", "/v2/apps/web", 200, live(mem=64.0, version="v2"))
    code, out = run({"marathon_url": server.url, "definition": dict(DESIRED, mem=64)})
    assert code == 0 and out["changed"] is True, out
    put = [s for s in server.seen if s["method"] == "PUT"][0]
    assert "partialUpdate=false" in put["path"] and "force" not in put["path"]
    assert put["body"]["id"] == "/web" and put["body"]["mem"] == 64
    assert out["deployment_id"] == "dep-1" and out["version"] == "v2" and out["changes"] == ["mem"]


def test_locked_app_times_out_listing_blockers_without_writing(server, run):
    server.add("GET", "/v2/apps/web", 200, live(deployments=[{"id": "blocker-1"}]), sticky=True)
    server.add("GET", "/v2/deployments", 200, [{"id": "blocker-1", "currentStep": 1, "totalSteps": 1,
                                                "currentActions": [{"action": "ScaleApplication", "app": "/web"}]}],
               sticky=True)
    code, out = run({"marathon_url": server.url, "definition": dict(DESIRED, mem=64), "wait_timeout": 1})
    assert code == 1
    assert "blocker-1" in out["msg"] and "force=true" in out["msg"]
    assert out["blocking_deployments"] == ["blocker-1"]
    assert server.writes() == []


def test_conflict_409_waits_then_applies(server, run):
    locked = {"message": "App is locked by one or more deployments.", "deployments": [{"id": "other"}]}
    server.add("GET", "/v2/apps/web", 200, live())
    server.add("PUT", "/v2/apps/web", 409, locked)
    server.add("GET", "/v2/deployments", 200, [{"id": "other"}])
    server.add("GET", "/v2/deployments", 200, [])
    server.add("GET", "/v2/apps/web", 200, live())
    server.add("PUT", "/v2/apps/web", 200, {"deploymentId": "mine", "version": "v3"})
    server.add("GET", "/v2/deployments", 200, [])
    server.add("GET", "/v2/apps/web", 200, live(instances=3, tasksRunning=3))
    code, out = run({"marathon_url": server.url, "app_id": "/web", "instances": 3})
    assert code == 0, out
    assert [s["method"] for s in server.writes()] == ["PUT", "PUT"]
    assert out["deployment_id"] == "mine" and out["tasks_running"] == 3


def test_force_skips_the_lock_wait(server, run):
    server.add("GET", "/v2/apps/web", 200, live(deployments=[{"id": "blocker-1"}]))
    server.add("PUT", "/v2/apps/web", 200, {"deploymentId": "forced", "version": "v4"})
    server.add("GET", "/v2/apps/web", 200, live(instances=0))
    code, out = run({"marathon_url": server.url, "app_id": "/web", "state": "stopped", "force": True,
                     "wait": False})
    assert code == 0, out
    put = server.writes()[0]
    assert "force=true" in put["path"] and put["body"] == {"instances": 0}


def test_resident_absent_refused_without_request(server, run):
    resident = live(container=RESIDENT_CONTAINER)
    server.add("GET", "/v2/apps/web", 200, resident)
    code, out = run({"marathon_url": server.url, "app_id": "/web", "state": "absent"})
    assert code == 1 and "allow_data_loss=true" in out["msg"] and "persistent volumes (data)" in out["msg"]
    assert server.writes() == []


def test_started_counts_suspended_instances(server, run):
    suspended = {"id": "web.instance-a._app.1", "state": "TASK_KILLED", "localVolumes": [{"persistenceId": "p"}]}
    resident = live(instances=0, tasksRunning=0, tasks=[suspended, dict(suspended, id="web.instance-b._app.1")],
                    container=RESIDENT_CONTAINER)
    server.add("GET", "/v2/apps/web", 200, resident)
    server.add("PUT", "/v2/apps/web", 200, {"deploymentId": "d", "version": "v"})
    server.add("GET", "/v2/apps/web", 200, live(instances=2))
    code, out = run({"marathon_url": server.url, "app_id": "/web", "state": "started", "wait": False})
    assert code == 0, out
    assert server.writes()[0]["body"] == {"instances": 2}


def test_restart_on_zero_instances_fails_clearly(server, run):
    server.add("GET", "/v2/apps/web", 200, live(instances=0))
    code, out = run({"marathon_url": server.url, "app_id": "/web", "state": "restarted"})
    assert code == 1 and "0 instances" in out["msg"] and "state=started" in out["msg"]
    assert server.writes() == []


def test_restart_of_a_stopped_app_with_a_definition_is_one_start(server, run):
    server.add("GET", "/v2/apps/web", 200, live(instances=0, tasksRunning=0))
    server.add("PUT", "/v2/apps/web", 200, {"deploymentId": "start", "version": "v5"})
    server.add("GET", "/v2/apps/web", 200, live(version="v5"))
    code, out = run({"marathon_url": server.url, "definition": DESIRED, "state": "restarted", "wait": False})
    assert code == 0 and out["changed"] is True, out
    assert [(w["method"], w["path"].split("?")[0]) for w in server.writes()] == [("PUT", "/v2/apps/web")]
    assert out["changes"] == ["instances"] and out["deployment_id"] == "start"


def test_restart_of_a_stopped_app_with_instances_is_one_start(server, run):
    server.add("GET", "/v2/apps/web", 200, live(instances=0, tasksRunning=0))
    server.add("PUT", "/v2/apps/web", 200, {"deploymentId": "start", "version": "v5"})
    server.add("GET", "/v2/apps/web", 200, live(instances=2, version="v5"))
    code, out = run({"marathon_url": server.url, "app_id": "/web", "instances": 2, "state": "restarted",
                     "wait": False})
    assert code == 0 and out["changed"] is True, out
    assert [w["body"] for w in server.writes()] == [{"instances": 2}]


def test_create_meeting_an_app_created_meanwhile_converges(server, run):
    server.add("GET", "/v2/apps/web", 404, {"message": "App '/web' does not exist"})
    server.add("POST", "/v2/apps", 409, {"message": "An app with id [/web] already exists."})
    server.add("GET", "/v2/apps/web", 200, live())
    code, out = run({"marathon_url": server.url, "definition": DESIRED})
    assert code == 0 and out["changed"] is False, out
    assert [w["method"] for w in server.writes()] == ["POST"]
    assert out["tasks_running"] == 1 and out["app"]["id"] == "/web"


def test_create_meeting_a_different_app_created_meanwhile_updates_it(server, run):
    server.add("GET", "/v2/apps/web", 404, {"message": "App '/web' does not exist"})
    server.add("POST", "/v2/apps", 409, {"message": "An app with id [/web] already exists."})
    server.add("GET", "/v2/apps/web", 200, live(mem=16.0))
    server.add("PUT", "/v2/apps/web", 200, {"deploymentId": "upd", "version": "v6"})
    server.add("GET", "/v2/apps/web", 200, live(version="v6"))
    code, out = run({"marathon_url": server.url, "definition": DESIRED, "wait": False})
    assert code == 0 and out["changed"] is True, out
    assert [w["method"] for w in server.writes()] == ["POST", "PUT"]
    assert out["changes"] == ["mem"]


def test_a_refused_change_returns_the_live_app(server, run):
    resident = live(container=RESIDENT_CONTAINER, tasksRunning=1, tasksHealthy=1)
    server.add("GET", "/v2/apps/web", 200, resident)
    desired = dict(DESIRED, cpus=2, container=RESIDENT_CONTAINER)
    code, out = run({"marathon_url": server.url, "definition": desired})
    assert code == 1 and "cpus (0.1 -> 2)" in out["msg"]
    assert out["app"]["id"] == "/web" and out["tasks_running"] == 1 and out["tasks_healthy"] == 1
    assert out["app"]["env"]["DB_PASSWORD"] == "********" and "pw-live-1" not in json.dumps(out)
    assert server.writes() == []


def test_a_wait_timeout_returns_the_app_as_last_seen(server, run):
    server.add("GET", "/v2/apps/web", 200, live())
    server.add("PUT", "/v2/apps/web", 200, {"deploymentId": "dep-9", "version": "v9"})
    server.add("GET", "/v2/deployments", 200, [], sticky=True)
    server.add("GET", "/v2/apps/web", 200, live(mem=64.0, version="v9", instances=2, tasksRunning=1),
               sticky=True)
    code, out = run({"marathon_url": server.url, "definition": dict(DESIRED, mem=64, instances=2),
                     "wait_timeout": 1})
    assert code == 1 and "Timed out" in out["msg"], out
    assert out["app"]["version"] == "v9" and out["app"]["instances"] == 2 and out["tasks_running"] == 1
    assert "pw-live-1" not in json.dumps(out)


def test_marathon_error_is_one_readable_line(server, run):
    server.add("GET", "/v2/apps/web", 404, {"message": "App '/web' does not exist"})
    server.add("POST", "/v2/apps", 422, {"message": "Object is not valid", "details": [
        {"path": "/upgradeStrategy/maximumOverCapacity", "errors": ["got 1.0, expected 0.0"]}]})
    code, out = run({"marathon_url": server.url, "definition": DESIRED})
    assert code == 1
    assert out["msg"].startswith("POST %s/v2/apps failed with HTTP 422: Object is not valid" % server.url)
    assert "/upgradeStrategy/maximumOverCapacity: got 1.0, expected 0.0" in out["msg"]
    assert out["status"] == 422 and "pw-live-1" not in json.dumps(out)


# ---- secret names recorded in the app label ------------------------------------------

LABEL = "DCOS_MARATHON_SECRET_ENV"


def test_secret_env_is_recorded_in_a_label_on_create(server, run):
    server.add("GET", "/v2/apps/web", 404, {"message": "App '/web' does not exist"})
    server.add("POST", "/v2/apps", 201, {"id": "/web", "deployments": [{"id": "d1"}]},
               {"Marathon-Deployment-Id": "d1"})
    server.add("GET", "/v2/apps/web", 200, live(env={"DSN": "dsn-value-1"}, labels={LABEL: "DSN"}))
    code, out = run({"marathon_url": server.url, "definition": dict(DESIRED, env={"DSN": "dsn-value-1"}),
                     "secret_env": ["DSN"], "wait": False})
    assert code == 0, out
    assert server.writes()[0]["body"]["labels"] == {LABEL: "DSN"}
    assert "dsn-value-1" not in json.dumps(out)


def test_label_masks_a_later_task_without_secret_env(server, run):
    labelled = live(env={"DSN": "dsn-value-2"}, labels={LABEL: "DSN", "team": "data"})
    server.add("GET", "/v2/apps/web", 200, labelled, sticky=True)
    # By app_id only, and with the definition but no secret_env: both mask, neither writes.
    code, out = run({"marathon_url": server.url, "app_id": "/web"})
    assert code == 0 and out["app"]["env"]["DSN"] == "********"
    defn = dict(DESIRED, env={"DSN": "dsn-value-2"}, labels={"team": "data"})
    code, out = run({"marathon_url": server.url, "definition": defn, "_ansible_diff": True})
    assert code == 0 and out["changed"] is False, out
    assert server.writes() == []
    assert "dsn-value-2" not in json.dumps(out)


def test_new_secret_name_is_added_to_the_live_label(server, run):
    server.add("GET", "/v2/apps/web", 200, live(env={"DSN": "d", "URL": "u"}, labels={LABEL: "DSN"}))
    server.add("PUT", "/v2/apps/web", 200, {"deploymentId": "d2", "version": "v2"})
    server.add("GET", "/v2/apps/web", 200, live())
    defn = dict(DESIRED, env={"DSN": "d", "URL": "u"})
    code, out = run({"marathon_url": server.url, "definition": defn, "partial": True, "secret_env": ["URL"],
                     "wait": False})
    assert code == 0 and out["changes"] == ["labels"], out
    assert server.writes()[0]["body"]["labels"] == {LABEL: "DSN,URL"}


def test_bad_secret_env_fails_before_any_request(server, run):
    code, out = run({"marathon_url": server.url, "app_id": "/web", "secret_env": ["A,B"]})
    assert code == 1 and "secret_env[0]" in out["msg"]
    assert server.seen == []


# ---- rollback_to ---------------------------------------------------------------------

V_OLD = "2026-11-25T10:00:00.000Z"
VERSIONS = {"versions": [LIVE["version"], V_OLD]}


def old_version(**changes):
    status = ("tasksRunning", "tasksHealthy", "tasksStaged", "deployments", "tasks")
    app = {k: v for k, v in LIVE.items() if k not in status}
    app.update(version=V_OLD, mem=16.0)
    app.update(changes)
    return app


@pytest.mark.parametrize("args,expected", [
    ({"rollback_to": "v", "definition": DESIRED}, "rollback_to cannot be combined with definition"),
    ({"app_id": "/web", "rollback_to": "v", "instances": 2}, "rollback_to cannot be combined with instances"),
    ({"app_id": "/web", "rollback_to": "v", "state": "stopped"}, "rollback_to needs state=present"),
    ({"app_id": "/web", "rollback_to": " "}, "rollback_to must be a version"),
])
def test_rollback_bad_input_fails_before_any_request(server, run, args, expected):
    code, out = run(dict(args, marathon_url=server.url))
    assert code == 1 and expected in out["msg"], out
    assert server.seen == []


def test_rollback_sends_the_version_put(server, run):
    server.add("GET", "/v2/apps/web/versions/", 200, old_version())
    server.add("GET", "/v2/apps/web/versions", 200, VERSIONS)
    server.add("GET", "/v2/apps/web", 200, live())
    server.add("PUT", "/v2/apps/web", 200, {"deploymentId": "rb-1", "version": "v9"})
    server.add("GET", "/v2/apps/web", 200, live(mem=16.0, version="v9"))
    code, out = run({"marathon_url": server.url, "app_id": "/web", "rollback_to": V_OLD, "force": True,
                     "wait": False})
    assert code == 0 and out["changed"] is True, out
    put = server.writes()[0]
    assert put["body"] == {"version": V_OLD}
    assert "force=true" in put["path"] and "partialUpdate" not in put["path"]
    assert out["changes"] == ["mem"] and out["rollback_to"] == V_OLD and out["version"] == "v9"
    assert "pw-live-1" not in json.dumps(out)


def test_rollback_to_the_live_definition_sends_nothing(server, run):
    server.add("GET", "/v2/apps/web/versions/", 200, old_version(mem=32.0))
    server.add("GET", "/v2/apps/web/versions", 200, VERSIONS)
    server.add("GET", "/v2/apps/web", 200, live())
    code, out = run({"marathon_url": server.url, "app_id": "/web", "rollback_to": V_OLD})
    assert code == 0 and out["changed"] is False, out
    assert server.writes() == []


def test_rollback_to_an_unknown_version_is_refused(server, run):
    server.add("GET", "/v2/apps/web/versions", 200, VERSIONS)
    server.add("GET", "/v2/apps/web", 200, live())
    code, out = run({"marathon_url": server.url, "app_id": "/web", "rollback_to": "2020-01-01T00:00:00.000Z"})
    assert code == 1 and "is not a stored version" in out["msg"] and V_OLD in out["msg"]
    assert server.writes() == [] and not any("/versions/" in s["path"] for s in server.seen)


def test_rollback_refused_on_a_resident_resource_change(server, run):
    server.add("GET", "/v2/apps/web/versions/", 200, old_version(container=RESIDENT_CONTAINER))
    server.add("GET", "/v2/apps/web/versions", 200, VERSIONS)
    server.add("GET", "/v2/apps/web", 200, live(container=RESIDENT_CONTAINER))
    code, out = run({"marathon_url": server.url, "app_id": "/web", "rollback_to": V_OLD, "force": True})
    assert code == 1 and "mem (32 -> 16)" in out["msg"] and "Nothing was sent" in out["msg"], out
    assert server.writes() == []


def test_rollback_check_mode_sends_no_write(server, run):
    server.add("GET", "/v2/apps/web/versions/", 200, old_version())
    server.add("GET", "/v2/apps/web/versions", 200, VERSIONS)
    server.add("GET", "/v2/apps/web", 200, live())
    code, out = run({"marathon_url": server.url, "app_id": "/web", "rollback_to": V_OLD,
                     "_ansible_check_mode": True})
    assert code == 0 and out["changed"] is True and out["changes"] == ["mem"]
    assert server.writes() == []


# ---- the Marathon version ----------------------------------------------------------------


def test_a_no_change_task_needs_no_version(server, run):
    # Old defaults left stored (3600) are no change on any version, so the exact one is not read.
    server.add("GET", "/v2/apps/web", 200, live(maxLaunchDelaySeconds=3600))
    code, out = run({"marathon_url": server.url + "/", "definition": DESIRED, "marathon_version": None})
    assert code == 0 and out["changed"] is False, out
    assert [(s["method"], s["path"]) for s in server.seen] == [("GET", "/v2/apps/web")]
    assert "marathon_version" not in out and "ansible_facts" not in out


def test_version_read_once_with_v2_info_and_returned_as_fact(server, run):
    # tty is unknown before 1.5: the version is read before anything else.
    server.add("GET", "/v2/info", 200, {"name": "marathon", "version": "1.6.585"})
    server.add("GET", "/v2/apps/web", 200, live(maxLaunchDelaySeconds=3600, tty=True))
    code, out = run({"marathon_url": server.url + "/", "definition": dict(DESIRED, tty=True),
                     "marathon_version": None})
    assert code == 0 and out["changed"] is False, out
    assert [(s["method"], s["path"]) for s in server.seen] == [("GET", "/v2/info"), ("GET", "/v2/apps/web")]
    assert out["marathon_version"] == "1.6.585"
    assert out["ansible_facts"] == {"marathon_versions": {server.url: "1.6.585"}}


def test_a_write_reads_the_version_before_sending(server, run):
    server.add("GET", "/v2/apps/web", 200, live())
    server.add("GET", "/v2/info", 200, {"name": "marathon", "version": "1.10.26"})
    server.add("PUT", "/v2/apps/web", 200, {"deploymentId": "d1", "version": "2026-12-03T00:00:00.000Z"})
    server.add("GET", "/v2/apps/web", 200, live(mem=64.0), sticky=True)
    code, out = run({"marathon_url": server.url, "definition": dict(DESIRED, mem=64), "marathon_version": None,
                     "wait": False})
    assert code == 0 and out["changed"] is True, out
    assert [(s["method"], s["path"]) for s in server.seen][:3] == [
        ("GET", "/v2/apps/web"), ("GET", "/v2/info"), ("PUT", "/v2/apps/web?partialUpdate=false")]
    assert out["marathon_version"] == "1.10.26"


def test_a_given_version_sends_no_v2_info_and_no_fact(server, run):
    server.add("GET", "/v2/apps/web", 200, live())
    code, out = run({"marathon_url": server.url, "definition": DESIRED, "marathon_version": "1.10.26"})
    assert code == 0 and out["changed"] is False
    assert [s["path"] for s in server.seen] == ["/v2/apps/web"]
    assert out["marathon_version"] == "1.10.26" and "ansible_facts" not in out


def test_a_forbidden_v2_info_assumes_1_10_with_a_warning(server, run, monkeypatch):
    # Once controller code is imported (the callback's tests), warnings go to the display instead.
    # ansible-core < 2.19 has no such switch (2.18 has the package without it, 2.17 not even that).
    try:
        from ansible.module_utils import _internal
    except ImportError:
        _internal = None
    if hasattr(_internal, "is_controller"):
        monkeypatch.setattr(_internal, "is_controller", False)
    server.add("GET", "/v2/info", 403, {"message": "forbidden"})
    server.add("GET", "/v2/apps/web", 200, live(tty=True))
    code, out = run({"marathon_url": server.url, "definition": dict(DESIRED, tty=True), "marathon_version": None})
    assert code == 0 and out["changed"] is False
    assert "ansible_facts" not in out and out["marathon_version"] == "1.10.26"
    assert "Set marathon_version" in json.dumps(out.get("warnings")), out.get("warnings")


@pytest.mark.parametrize("pinned,fragment", [("latest", "is not a Marathon version"), ("1.3.14", "older than 1.4")])
def test_a_bad_version_fails_before_any_request(server, run, pinned, fragment):
    code, out = run({"marathon_url": server.url, "definition": DESIRED, "marathon_version": pinned})
    assert code == 1 and fragment in out["msg"] and "marathon_version" in out["msg"]
    assert server.seen == []


def test_a_field_the_version_does_not_know_is_refused_before_any_request(server, run):
    code, out = run({"marathon_url": server.url, "definition": dict(DESIRED, tty=True), "marathon_version": "1.4"})
    assert code == 1 and "definition.tty needs Marathon 1.5.0 or newer" in out["msg"]
    assert server.seen == []


def test_marathon_1_4_is_sent_the_old_networking_form(server, run):
    server.add("GET", "/v2/apps/db", 404, {"message": "App '/db' does not exist"})
    server.add("POST", "/v2/apps", 201, {"id": "/db", "deployments": [{"id": "dep-1"}], "version": "v1"})
    definition = {"id": "/db", "networks": [{"mode": "container/bridge"}],
                  "container": {"type": "DOCKER", "docker": {"image": "postgres:16"},
                                "portMappings": [{"containerPort": 5432, "hostPort": 0}]}}
    code, out = run({"marathon_url": server.url, "definition": definition, "marathon_version": "1.4.12",
                     "wait": False})
    posted = [s for s in server.seen if s["method"] == "POST"][0]["body"]
    assert "networks" not in posted and "portMappings" not in posted["container"]
    assert posted["container"]["docker"] == {"image": "postgres:16", "network": "BRIDGE",
                                             "portMappings": [{"containerPort": 5432, "hostPort": 0}]}
