"""Deployments: visible plans, 409 lock with Marathon's body, force, rollback/stop via DELETE."""

from __future__ import annotations

import requests

from conftest import wait_for

LOCK_MSG = ("App is locked by one or more deployments. Override with the option '?force=true'. "
            "View details at '/v2/deployments/<DEPLOYMENT_ID>'.")


def _stall(lm, app_id):
    r = requests.post(lm.url + "/_localmarathon/faults", json={"kind": "stall_deployment", "app_id": app_id})
    assert r.status_code == 201, r.text


def _unstall(lm):
    assert requests.delete(lm.url + "/_localmarathon/faults").status_code == 200


def test_deployment_visible_with_steps_then_gone(api, lm):
    _stall(lm, "/d")
    r = api.post("/v2/apps", json={"id": "/d", "cmd": "sleep 100", "instances": 1})
    dep_id = r.headers["Marathon-Deployment-Id"]
    # a stalled plan runs up to its last step and stays there
    dep = wait_for(lambda: next((d for d in api.deployments() if d["currentStep"] == 2), None), 10, "step 2")
    assert dep["id"] == dep_id and dep["affectedApps"] == ["/d"] and dep["affectedPods"] == []
    assert dep["steps"] == [{"actions": [{"action": "StartApplication", "app": "/d"}]},
                            {"actions": [{"action": "ScaleApplication", "app": "/d"}]}]
    assert dep["currentActions"] == [{"action": "ScaleApplication", "app": "/d", "readinessCheckResults": []}]
    assert dep["totalSteps"] == 2
    wait_for(lambda: api.app("/d")["tasksRunning"] == 1, 10, "task")
    assert [d["id"] for d in api.deployments()] == [dep_id]
    assert dep["version"] == r.json()["version"]
    assert api.app("/d")["deployments"] == [{"id": dep_id}]
    _unstall(lm)
    api.wait_deployment(dep_id)
    assert api.app("/d")["deployments"] == []
    # a scale shows one ScaleApplication step, current while it runs
    _stall(lm, "/d")
    r = api.put("/v2/apps/d", json={"instances": 2})
    (dep,) = api.deployments()
    assert dep["steps"] == [{"actions": [{"action": "ScaleApplication", "app": "/d"}]}]
    _unstall(lm)
    api.wait_deployment(r.json()["deploymentId"])
    api.wait_running("/d", 2)


def test_current_step_while_waiting_for_health(api):
    # The health check fails until the file appears: the ScaleApplication step stays current.
    r = api.post("/v2/apps", json={"id": "/h", "cmd": "sleep 100", "instances": 1, "healthChecks": [
        {"protocol": "COMMAND", "command": {"value": "test -f ready"}, "gracePeriodSeconds": 60,
         "intervalSeconds": 1, "delaySeconds": 0}]})
    dep_id = r.headers["Marathon-Deployment-Id"]
    dep = wait_for(lambda: next((d for d in api.deployments() if d["currentStep"] == 2), None), 10, "step 2")
    assert dep["id"] == dep_id
    assert dep["currentActions"] == [{"action": "ScaleApplication", "app": "/h", "readinessCheckResults": []}]
    app = wait_for(lambda: (a := api.app("/h"))["tasksRunning"] == 1 and a, 10, "running")
    assert app["tasksHealthy"] == 0


def test_locked_409_and_force(api, lm):
    _stall(lm, "/l")
    r = api.post("/v2/apps", json={"id": "/l", "cmd": "sleep 100", "instances": 1})
    first = r.headers["Marathon-Deployment-Id"]
    r = api.put("/v2/apps/l", json={"instances": 2})
    assert r.status_code == 409
    assert r.json() == {"message": LOCK_MSG, "deployments": [{"id": first}]}
    assert api.post("/v2/apps/l/restart").status_code == 409
    assert api.delete("/v2/apps/l?force=false").status_code == 409
    # force=True (any case) takes over and cancels the first one
    r = api.put("/v2/apps/l?force=True", json={"instances": 2})
    assert r.status_code == 200
    second = r.json()["deploymentId"]
    ids = [d["id"] for d in api.deployments()]
    assert first not in ids and second in ids
    _unstall(lm)
    api.wait_deployment(second)
    api.wait_running("/l", 2)


def test_delete_deployment_force_stops_and_plain_rolls_back(api, lm):
    r = api.post("/v2/apps", json={"id": "/rb", "cmd": "sleep 100", "instances": 1})
    api.wait_deployment(r.headers["Marathon-Deployment-Id"])
    _stall(lm, "/rb")
    r = api.put("/v2/apps/rb", json={"instances": 3})
    dep_id = r.json()["deploymentId"]
    # rollback: a new (forced) deployment back to 1 instance, 200 + deploymentResult
    r = api.delete(f"/v2/deployments/{dep_id}")
    assert r.status_code == 200 and r.headers["Marathon-Deployment-Id"] == r.json()["deploymentId"]
    revert = r.json()["deploymentId"]
    assert api.app("/rb")["instances"] == 1
    ids = [d["id"] for d in api.deployments()]
    assert dep_id not in ids and revert in ids
    # force=true only cancels: 202, no body
    r = api.delete(f"/v2/deployments/{revert}?force=true")
    assert r.status_code == 202 and r.content == b""
    assert api.deployments() == []
    r = api.delete("/v2/deployments/nothere")
    assert r.status_code == 404
    assert r.json() == {"message": "DeploymentPlan nothere does not exist", "details": []}
    _unstall(lm)


def test_delete_app_default_force_cancels_running_deployment(api, lm):
    _stall(lm, "/x")
    r = api.post("/v2/apps", json={"id": "/x", "cmd": "sleep 100", "instances": 1})
    first = r.headers["Marathon-Deployment-Id"]
    r = api.delete("/v2/apps/x")  # §3.1.7: force defaults to true
    assert r.status_code == 200
    (dep,) = api.deployments()
    assert dep["id"] != first and dep["steps"] == [{"actions": [{"action": "StopApplication", "app": "/x"}]}]
    _unstall(lm)
    api.wait_deployment(dep["id"])
    assert api.get("/v2/tasks").json()["tasks"] == []


def test_multi_app_put(api):
    r = api.put("/v2/apps", json=[{"id": "/m1", "cmd": "sleep 100", "instances": 0},
                                  {"id": "/m2", "cmd": "sleep 100", "instances": 0}])
    assert r.status_code == 200
    api.wait_deployment(r.json()["deploymentId"])
    assert [a["id"] for a in api.get("/v2/apps").json()["apps"]] == ["/m1", "/m2"]
    r = api.put("/v2/apps", json=[{"cmd": "sleep 1"}])
    assert r.status_code == 422
    assert r.json() == {"message": "requirement failed: App Update must have app id set"}


def test_deployment_survives_a_restart(lm, api, tmp_path):
    flag = tmp_path / "go"
    r = api.post("/v2/apps", json={"id": "/p", "cmd": "sleep 100", "instances": 1, "healthChecks": [
        {"protocol": "COMMAND", "command": {"value": f"test -f {flag}"}, "gracePeriodSeconds": 600,
         "intervalSeconds": 1, "delaySeconds": 0}]})
    dep_id = r.headers["Marathon-Deployment-Id"]
    wait_for(lambda: api.app("/p")["tasksRunning"] == 1, 10, "task running")
    lm.restart()
    api = type(api)(lm.url)
    (dep,) = api.deployments()
    assert dep["id"] == dep_id and dep["currentStep"] == 2
    flag.write_text("")
    api.wait_deployment(dep_id)
    assert api.wait_running("/p", healthy=True)["tasks"][0]["id"].endswith("._app.2")
