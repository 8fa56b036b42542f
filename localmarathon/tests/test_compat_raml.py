"""Every answer the suite's Api client receives is checked against the RAML types (conftest.Api);
this test walks every endpoint once in one server so that each response type is covered here, and
shows that the check does catch an invented or missing field."""

from __future__ import annotations

import requests

from conftest import CHECKED, Api, raml_problems, wait_for

RESIDENT = {"id": "/g/db", "cmd": "sleep 100", "instances": 1, "mem": 16,
            "container": {"type": "MESOS", "volumes": [{"containerPath": "d", "mode": "RW", "persistent": {"size": 1}}]},
            "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"}, "intervalSeconds": 1,
                              "delaySeconds": 0}]}


def test_every_endpoint_answers_in_raml_types(lm):
    api = Api(lm.url)
    CHECKED.clear()
    requests.post(lm.url + "/_localmarathon/faults", json={"kind": "stall_deployment", "app_id": "/g/web"})
    api.post("/v2/apps", json={"id": "/g/web", "cmd": "sleep 100", "instances": 1, "labels": {"a": "b"}})
    assert len(api.get("/v2/deployments").json()) == 1
    requests.delete(lm.url + "/_localmarathon/faults")
    r = api.post("/v2/apps", json=RESIDENT)
    api.wait_running("/g/db", healthy=True)
    api.wait_running("/g/web")
    api.post("/v2/apps", json={"id": "/g/bad", "cmd": "exit 1", "instances": 1, "backoffSeconds": 60})
    wait_for(lambda: api.get("/v2/queue").json()["queue"], 10, "queue entry")
    api.get("/v2/apps?embed=apps.tasks&embed=apps.lastTaskFailure&embed=apps.readiness")
    api.get("/v2/apps/g/db?embed=app.readiness")
    api.get("/v2/apps/g/*")
    version = api.get("/v2/apps/g/db/versions").json()["versions"][0]
    api.get(f"/v2/apps/g/db/versions/{version}")
    task = api.get("/v2/apps/g/db/tasks").json()["tasks"][0]
    assert task["healthCheckResults"]
    api.get("/v2/tasks")
    api.put("/v2/apps/g/web", json={"instances": 2})
    api.patch("/v2/apps/g/web", json={"labels": {}})
    api.post("/v2/apps/g/web/restart?force=true")
    api.delete(f"/v2/apps/g/db/tasks/{task['id']}")
    api.delete("/v2/apps/g/web/tasks?scale=true")
    api.post("/v2/tasks/delete", json={"ids": [task["id"]]})
    api.put("/v2/apps/g/db", json={"instances": 0})
    wait_for(lambda: api.get("/v2/apps/g/db/tasks").json()["tasks"][0]["state"] == "TASK_KILLED", 10, "suspended")
    api.get("/v2/tasks")
    # The writes to /g/web above start deployments of their own; a PUT while one still runs is refused
    # with 409 (the app is locked), so the stalled one starts only once they are done.
    wait_for(lambda: not [d for d in api.get("/v2/deployments").json() if "/g/web" in d["affectedApps"]], 10,
             "the deployments of /g/web to finish")
    requests.post(lm.url + "/_localmarathon/faults", json={"kind": "stall_deployment", "app_id": "/g/web"})
    dep = api.put("/v2/apps/g/web", json={"instances": 3}).json()["deploymentId"]
    api.get("/v2/deployments")
    api.delete(f"/v2/deployments/{dep}")
    api.get("/v2/info")
    api.get("/v2/leader")
    api.get("/v2/apps/nothere")
    api.post("/v2/apps", json={"id": "/g/x"})
    api.put("/v2/apps/g/web", json={"instances": 1})  # 409
    api.delete("/v2/apps/g/db")
    covered = {t for _, _, t in CHECKED}
    for type_name in ("app.AppList", "app.AppInfo", "app.VersionList", "app.App", "task.TaskList",
                      "task.TaskSingle | deploymentResult.DeploymentResult",
                      "task.TaskList | deploymentResult.DeploymentResult", "deploymentResult.DeploymentResult",
                      "deploymentInfo.DeploymentStepInfo[]", "queue.Queue", "info.MarathonInfo", "info.LeaderInfo",
                      "error.Error"):
        assert type_name in covered, type_name


def test_the_check_catches_invented_and_missing_fields():
    good = {"tasks": [{"appId": "/a", "host": "h", "id": "a.instance-1._app.1", "state": "TASK_RUNNING",
                       "role": "*"}]}
    assert raml_problems("GET", "/v2/tasks", 200, good) == []
    invented = {"tasks": [dict(good["tasks"][0], agentId="x")]}
    assert raml_problems("GET", "/v2/tasks", 200, invented)
    missing = {"tasks": [{k: v for k, v in good["tasks"][0].items() if k != "state"}]}
    assert raml_problems("GET", "/v2/tasks", 200, missing)
