"""Apps API over real HTTP: CRUD, defaults on read, versions, rollback, validation, headers."""

from __future__ import annotations

import re

from conftest import wait_for

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

WORKED_EXAMPLE = {"id": "db", "cmd": "sleep 3600", "cpus": 0.5, "mem": 64, "instances": 1,
                  "container": {"type": "MESOS",
                                "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}}


def test_worked_example_end_to_end(api, lm):
    """§4.4: the resident app as DC/OS Marathon (mesos_role slave_public) shows it once running."""
    r = api.post("/v2/apps", json=WORKED_EXAMPLE)
    assert r.status_code == 201, r.text
    created = r.json()
    assert "versionInfo" not in created and "tasks" not in created
    assert created["deployments"] == [{"id": r.headers["Marathon-Deployment-Id"]}]
    assert r.headers["Location"].endswith("/db")
    app = api.wait_running("/db")
    expected_keys = ["id", "backoffFactor", "backoffSeconds", "cmd", "container", "cpus", "disk", "executor",
                     "instances", "labels", "maxLaunchDelaySeconds", "mem", "gpus", "networks", "portDefinitions",
                     "residency", "requirePorts", "upgradeStrategy", "version", "versionInfo", "killSelection",
                     "unreachableStrategy", "role", "tasksStaged", "tasksRunning", "tasksHealthy",
                     "tasksUnhealthy", "deployments", "tasks"]
    assert list(app) == expected_keys
    assert app["container"] == {"type": "MESOS", "volumes": [
        {"containerPath": "data", "persistent": {"type": "root", "size": 10, "constraints": []}, "mode": "RW"}]}
    assert app["portDefinitions"] == [{"port": 10000, "name": "default", "protocol": "tcp"}]
    assert app["upgradeStrategy"] == {"maximumOverCapacity": 0.0, "minimumHealthCapacity": 0.5}
    assert app["unreachableStrategy"] == "disabled" and app["role"] == "slave_public"
    assert app["residency"] == {"relaunchEscalationTimeoutSeconds": 3600, "taskLostBehavior": "WAIT_FOREVER"}
    assert app["versionInfo"] == {"lastScalingAt": app["version"], "lastConfigChangeAt": app["version"]}
    assert TS_RE.match(app["version"])
    (task,) = app["tasks"]
    assert list(task) == ["appId", "healthCheckResults", "host", "id", "ipAddresses", "ports", "servicePorts",
                          "slaveId", "state", "stagedAt", "startedAt", "version", "localVolumes", "role"]
    assert re.fullmatch(r"db\.instance-[0-9a-f-]{36}\._app\.1", task["id"])
    assert task["state"] == "TASK_RUNNING" and task["host"] == "127.0.0.1"
    assert task["ipAddresses"] == [{"ipAddress": "127.0.0.1", "protocol": "IPv4"}]
    assert len(task["ports"]) == 1 and 31000 <= task["ports"][0] <= 32000
    assert re.fullmatch(r"[0-9a-f-]{36}-0000-S0", task["slaveId"])
    (vol,) = task["localVolumes"]
    assert vol["runSpecId"] == "/db" and vol["containerPath"] == "data"
    assert vol["persistenceId"] == f"db#data#{vol['uuid']}"
    assert (lm.data_dir / "volumes" / vol["persistenceId"]).is_dir()


def test_crud_and_headers(api):
    r = api.post("/v2/apps", json={"id": "/web", "cmd": "sleep 100", "instances": 1, "mem": 32})
    assert r.status_code == 201
    for k, v in {"X-Frame-Options": "DENY", "X-XSS-Protection": "1; mode=block",
                 "Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache",
                 "Expires": "0", "Content-Type": "application/json"}.items():
        assert r.headers[k] == v
    assert r.headers["X-Marathon-Leader"] == api.url
    dup = api.post("/v2/apps", json={"id": "/web", "cmd": "sleep 100"})
    assert dup.status_code == 409
    assert dup.json() == {"message": "An app with id [/web] already exists."}
    api.wait_running("/web")
    # PUT (partial by default) keeps the other fields and returns a deploymentResult
    r = api.put("/v2/apps/web", json={"mem": 48})
    assert r.status_code == 200 and set(r.json()) == {"deploymentId", "version"}
    assert r.headers["Marathon-Deployment-Id"] == r.json()["deploymentId"]
    api.wait_deployment(r.json()["deploymentId"])
    app = api.app("/web")
    assert app["mem"] == 48.0 and app["cmd"] == "sleep 100"
    # PATCH on an unknown app is 404 without details; PUT creates (201)
    r = api.patch("/v2/apps/nothere", json={"mem": 48})
    assert r.status_code == 404 and r.json() == {"message": "App '/nothere' does not exist"}
    r = api.put("/v2/apps/made-by-put", json={"cmd": "sleep 100", "instances": 0})
    assert r.status_code == 201
    # partialUpdate=false replaces everything: cmd is required again, mem back to default
    r = api.put("/v2/apps/web?partialUpdate=false", json={"cmd": "sleep 200"})
    assert r.status_code == 200
    api.wait_deployment(r.json()["deploymentId"])
    assert api.app("/web")["mem"] == 128.0
    r = api.delete("/v2/apps/web")
    assert r.status_code == 200 and r.headers["Marathon-Deployment-Id"]
    api.wait_deployment(r.json()["deploymentId"])
    r = api.get("/v2/apps/web")
    assert r.status_code == 404 and r.json() == {"message": "App '/web' does not exist", "details": []}
    r = api.delete("/v2/apps/web")
    assert r.status_code == 404 and r.json() == {"message": "App '/web' does not exist"}


def test_list_filters_and_embed(api):
    api.post("/v2/apps", json={"id": "/a/one", "cmd": "sleep 100", "instances": 0, "labels": {"tier": "db"}})
    api.post("/v2/apps", json={"id": "/b/two", "cmd": "python3 -m http.server", "instances": 0,
                               "labels": {"tier": "web", "x": "1"}})
    ids = lambda q: [a["id"] for a in api.get("/v2/apps" + q).json()["apps"]]  # noqa: E731
    assert ids("") == ["/a/one", "/b/two"]
    assert ids("?id=ONE") == ["/a/one"]
    assert ids("?cmd=HTTP.server") == ["/b/two"]
    assert ids("?label=tier==db") == ["/a/one"]
    assert ids("?label=tier!=db") == ["/b/two"]
    assert ids("?label=tier%20in%20(db,web),x") == ["/b/two"]
    assert ids("?label=tier%20notin%20(web)") == ["/a/one"]
    apps = api.get("/v2/apps").json()["apps"]
    assert "tasks" not in apps[0] and "tasksRunning" in apps[0] and "deployments" in apps[0]
    apps = api.get("/v2/apps?embed=apps.tasks&embed=apps.lastTaskFailure").json()["apps"]
    assert apps[0]["tasks"] == []
    group = api.get("/v2/apps/a/*").json()
    assert [a["id"] for a in group["*"]] == ["/a/one"]


def test_versions_and_rollback(api):
    r = api.post("/v2/apps", json={"id": "/v", "cmd": "sleep 100", "instances": 1, "mem": 32})
    v1 = r.json()["version"]
    api.wait_running("/v")
    r = api.put("/v2/apps/v", json={"instances": 2})
    api.wait_deployment(r.json()["deploymentId"])
    app = api.app("/v")
    # scale-only: version and lastScalingAt move, lastConfigChangeAt does not (§5.2)
    assert app["version"] == r.json()["version"] and app["versionInfo"]["lastConfigChangeAt"] == v1
    r = api.put("/v2/apps/v", json={"cmd": "sleep 101"})
    v3 = r.json()["version"]
    api.wait_deployment(r.json()["deploymentId"], timeout=60)
    versions = api.get("/v2/apps/v/versions").json()["versions"]
    assert versions[0] == v3 and versions[-1] == v1 and len(versions) == 3
    old = api.get(f"/v2/apps/v/versions/{v1}").json()
    assert old["cmd"] == "sleep 100" and old["version"] == v1 and "tasks" not in old
    assert api.get("/v2/apps/v/versions/2015-02-11T09:31:21.245Z").status_code == 404
    assert api.get("/v2/apps/v/versions/notatime").status_code == 422
    # rollback: the old definition under a new version
    r = api.put("/v2/apps/v", json={"version": v1})
    assert r.status_code == 200
    api.wait_deployment(r.json()["deploymentId"], timeout=60)
    app = api.app("/v")
    assert app["cmd"] == "sleep 100" and app["instances"] == 1 and app["version"] not in (v1, v3)
    bad = api.put("/v2/apps/v", json={"version": v1, "cmd": "x"})
    assert bad.status_code == 422
    assert bad.json()["details"] == [{"path": "/", "errors": ["The 'version' field may only be combined with the 'id' field."]}]
    assert api.put("/v2/apps/v", json={"version": "2015-02-11T09:31:21.245Z"}).status_code == 404


def test_validation_errors(api):
    r = api.post("/v2/apps", data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["message"] == "Invalid JSON"
    r = api.post("/v2/apps", data=b"", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["message"] == "Please specify data in JSON format"
    r = api.post("/v2/apps", json={"id": "My App", "cmd": "x"})
    assert r.status_code == 422 and r.json()["message"] == "Invalid JSON"
    assert r.json()["details"][0]["path"] == "/id"
    r = api.post("/v2/apps", json={"id": "/nocmd"})
    assert r.status_code == 422 and r.json()["message"] == "Object is not valid"
    # (both upgradeStrategy fields: the RAML type requires them)
    r = api.post("/v2/apps", json={"id": "/res", "cmd": "x",
                                   "upgradeStrategy": {"maximumOverCapacity": 1, "minimumHealthCapacity": 0.5},
                                   "container": {"type": "MESOS", "volumes": [
                                       {"containerPath": "data", "mode": "RW", "persistent": {"size": 1}}]}})
    assert r.status_code == 422
    assert {"path": "/upgradeStrategy/maximumOverCapacity", "errors": ["got 1.0, expected 0.0"]} in r.json()["details"]
    # resident apps may not change resources (§8.3)
    api.post("/v2/apps", json=dict(WORKED_EXAMPLE, instances=0))
    r = api.put("/v2/apps/db", json={"cpus": 1})
    assert r.status_code == 422
    assert r.json()["details"][0]["path"] == "/app(0)/cpus"
    # nothing of this was stored
    assert [a["id"] for a in api.get("/v2/apps").json()["apps"]] == ["/db"]


def test_zero_step_deployment_for_noop_put(api):
    r = api.post("/v2/apps", json={"id": "/z", "cmd": "sleep 100", "instances": 0})
    version = r.json()["version"]
    api.wait_deployment(r.headers["Marathon-Deployment-Id"])
    r = api.put("/v2/apps/z", json={"instances": 0})
    assert r.status_code == 200
    body = r.json()
    assert body["version"] > version and body["deploymentId"] != ""
    assert api.deployments() == []
    assert api.app("/z")["version"] == version  # the app's version does not move (§4.3)


def test_app_with_port_zero_gets_service_port_kept_across_updates(api):
    api.post("/v2/apps", json={"id": "/p1", "cmd": "sleep 100", "instances": 0})
    r = api.post("/v2/apps", json={"id": "/p2", "cmd": "sleep 100", "instances": 0,
                                   "portDefinitions": [{"port": 0}, {"port": 0, "name": "admin"}]})
    assert [p["port"] for p in r.json()["portDefinitions"]] == [10001, 10002]
    api.wait_deployment(r.headers["Marathon-Deployment-Id"])
    r = api.put("/v2/apps/p2", json={"cmd": "sleep 200", "portDefinitions": [{"port": 0}, {"port": 0}]})
    api.wait_deployment(r.json()["deploymentId"])
    assert [p["port"] for p in api.app("/p2")["portDefinitions"]] == [10001, 10002]


def test_restart_relaunches_with_new_version(api):
    r = api.post("/v2/apps", json={"id": "/r", "cmd": "sleep 100", "instances": 1})
    app = api.wait_running("/r")
    old_task = app["tasks"][0]["id"]
    r = api.post("/v2/apps/r/restart")
    assert r.status_code == 200 and r.headers["Marathon-Deployment-Id"] == r.json()["deploymentId"]
    api.wait_deployment(r.json()["deploymentId"])
    app = api.wait_running("/r")
    assert app["tasks"][0]["id"] != old_task
    assert app["versionInfo"]["lastConfigChangeAt"] != app["version"]
    assert api.post("/v2/apps/nope/restart").json() == {"message": "App '/nope' does not exist"}


def test_cmd_task_env_and_ports(api, lm):
    cmd = ('env | grep -E "^(MESOS_SANDBOX|HOST|PORT0|PORT1|PORTS|PORT_HTTP|MARATHON_APP_ID|'
           'MARATHON_APP_VERSION|FOO)=" | sort > env.txt; sleep 100')
    r = api.post("/v2/apps", json={"id": "/envy", "cmd": cmd, "env": {"FOO": "bar"},
                                   "portDefinitions": [{"port": 0, "name": "http"}, {"port": 0}]})
    version = r.json()["version"]
    app = api.wait_running("/envy")
    task = app["tasks"][0]
    env_file = lm.data_dir / "sandboxes" / task["id"] / "env.txt"
    text = wait_for(lambda: env_file.exists() and env_file.read_text(), 10, "env.txt")
    env = dict(line.split("=", 1) for line in text.splitlines())
    p0, p1 = task["ports"]
    assert env["PORT0"] == str(p0) and env["PORT1"] == str(p1) and env["PORTS"] == f"{p0},{p1}"
    assert env["PORT_HTTP"] == str(p0)
    assert env["HOST"] == "127.0.0.1" and env["FOO"] == "bar"
    assert env["MARATHON_APP_ID"] == "/envy" and env["MARATHON_APP_VERSION"] == version
    assert env["MESOS_SANDBOX"] == str(lm.data_dir / "sandboxes" / task["id"])
    # /v2/tasks fills servicePorts, the app's task list does not (§3.2)
    all_tasks = api.get("/v2/tasks").json()["tasks"]
    assert all_tasks[0]["servicePorts"] == [p["port"] for p in app["portDefinitions"]]
    assert api.get("/v2/apps/envy/tasks").json()["tasks"][0]["servicePorts"] == []
