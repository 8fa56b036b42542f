"""Resident apps (§8): reservations and volumes that survive scale down, restarts and config
changes; wipe and delete destroy them."""

from __future__ import annotations

import re

from conftest import wait_for

APP = {"id": "/store", "instances": 1, "cpus": 0.1, "mem": 32,
       "cmd": 'echo "$MESOS_TASK_ID" >> data/log; sleep 100',
       "container": {"type": "MESOS", "volumes": [
           {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}}


def _task(api):
    (task,) = api.get("/v2/apps/store/tasks").json()["tasks"]
    return task


def _log_lines(lm, task):
    path = lm.data_dir / "volumes" / task["localVolumes"][0]["persistenceId"] / "log"
    return path.read_text().split() if path.exists() else []


def _instance(task_id):
    return task_id.rsplit("._app.", 1)[0]


def test_scale_down_keeps_suspended_instance_and_scale_up_reuses_it(api, lm):
    r = api.post("/v2/apps", json=APP)
    api.wait_running("/store")
    t1 = _task(api)
    wait_for(lambda: _log_lines(lm, t1) == [t1["id"]], 10, "first task to write its log")
    r = api.put("/v2/apps/store", json={"instances": 0})
    api.wait_deployment(r.json()["deploymentId"])
    # §8.5 (1.8–1.10): terminal state, no stagedAt/startedAt/version, ports [], localVolumes kept
    suspended = _task(api)
    assert suspended == {"appId": "/store", "healthCheckResults": [], "host": "127.0.0.1", "id": t1["id"],
                         "ipAddresses": [{"ipAddress": "127.0.0.1", "protocol": "IPv4"}], "ports": [],
                         "servicePorts": [], "slaveId": t1["slaveId"], "state": "TASK_KILLED",
                         "localVolumes": t1["localVolumes"], "role": "slave_public"}
    app = api.app("/store")
    assert app["instances"] == 0 and app["tasksRunning"] == 0 and app["tasksStaged"] == 0
    assert app["versionInfo"]["lastConfigChangeAt"] != app["version"]
    r = api.put("/v2/apps/store", json={"instances": 1})
    api.wait_deployment(r.json()["deploymentId"])
    api.wait_running("/store")
    t2 = _task(api)
    assert _instance(t2["id"]) == _instance(t1["id"]) and t2["id"].endswith("._app.2")
    assert t2["localVolumes"] == t1["localVolumes"] and t2["slaveId"] == t1["slaveId"]
    assert t2["ports"] == t1["ports"]  # host ports belong to the reservation
    wait_for(lambda: _log_lines(lm, t2) == [t1["id"], t2["id"]], 10, "second task to append")


def test_restart_and_config_change_relaunch_on_the_same_volume(api, lm):
    api.post("/v2/apps", json=APP)
    api.wait_running("/store")
    t1 = _task(api)
    r = api.post("/v2/apps/store/restart")
    api.wait_deployment(r.json()["deploymentId"])
    t2 = api.wait_running("/store")["tasks"][0]
    assert _instance(t2["id"]) == _instance(t1["id"]) and t2["id"] != t1["id"]
    assert t2["localVolumes"] == t1["localVolumes"]
    r = api.put("/v2/apps/store", json={"env": {"X": "1"}})
    assert r.status_code == 200
    api.wait_deployment(r.json()["deploymentId"])
    t3 = api.wait_running("/store")["tasks"][0]
    assert t3["localVolumes"] == t1["localVolumes"] and t3["version"] == r.json()["version"]
    wait_for(lambda: _log_lines(lm, t3) == [t1["id"], t2["id"], t3["id"]], 10, "three incarnations")


def test_kill_without_wipe_relaunches_on_same_volume(api):
    api.post("/v2/apps", json=APP)
    t1 = api.wait_running("/store")["tasks"][0]
    r = api.delete(f"/v2/apps/store/tasks/{t1['id']}")
    assert r.status_code == 200 and r.json()["task"]["id"] == t1["id"]
    t2 = wait_for(lambda: (t := _task(api))["id"] != t1["id"] and t["state"] == "TASK_RUNNING" and t, 10,
                  "relaunch")
    assert t2["localVolumes"] == t1["localVolumes"] and _instance(t2["id"]) == _instance(t1["id"])


def test_wipe_expunges_and_launches_fresh_volume(api, lm):
    api.post("/v2/apps", json=APP)
    t1 = api.wait_running("/store")["tasks"][0]
    old_dir = lm.data_dir / "volumes" / t1["localVolumes"][0]["persistenceId"]
    assert old_dir.is_dir()
    r = api.post("/v2/tasks/delete?wipe=true", json={"ids": [t1["id"]]})
    assert r.status_code == 200 and [t["id"] for t in r.json()["tasks"]] == [t1["id"]]
    t2 = wait_for(lambda: (ts := api.get("/v2/apps/store/tasks").json()["tasks"]) and
                  ts[0]["state"] == "TASK_RUNNING" and ts[0], 10, "fresh instance")
    assert _instance(t2["id"]) != _instance(t1["id"]) and t2["id"].endswith("._app.1")
    assert t2["localVolumes"][0]["persistenceId"] != t1["localVolumes"][0]["persistenceId"]
    wait_for(lambda: not old_dir.exists(), 10, "old volume to be destroyed")
    assert api.post("/v2/tasks/delete?wipe=true&scale=true", json={"ids": [t2["id"]]}).status_code == 400


def test_delete_app_destroys_reservations_and_volumes(api, lm):
    api.post("/v2/apps", json=dict(APP, instances=2))
    app = api.wait_running("/store", 2)
    dirs = [lm.data_dir / "volumes" / t["localVolumes"][0]["persistenceId"] for t in app["tasks"]]
    assert all(d.is_dir() for d in dirs) and dirs[0] != dirs[1]
    r = api.put("/v2/apps/store", json={"instances": 0})
    api.wait_deployment(r.json()["deploymentId"])
    assert all(d.is_dir() for d in dirs)  # suspended, not destroyed
    r = api.delete("/v2/apps/store")
    api.wait_deployment(r.json()["deploymentId"])
    assert not any(d.exists() for d in dirs)
    assert api.get("/v2/tasks").json()["tasks"] == []


def test_kill_and_scale_lowers_instances(api):
    api.post("/v2/apps", json=dict(APP, instances=2))
    app = api.wait_running("/store", 2)
    victim = app["tasks"][0]["id"]
    r = api.delete(f"/v2/apps/store/tasks/{victim}?scale=true")
    assert r.status_code == 200 and set(r.json()) == {"deploymentId", "version"}
    api.wait_deployment(r.json()["deploymentId"])
    app = api.app("/store")
    assert app["instances"] == 1 and app["tasksRunning"] == 1
    states = {t["id"]: t["state"] for t in app["tasks"]}
    assert states[victim] == "TASK_KILLED"  # resident: stays listed, suspended


def test_two_agents_spread_reservations(tmp_path):
    from localmarathon.testing import LocalMarathon
    from conftest import Api
    with LocalMarathon(tmp_path / "lm", agents=2, time_scale=20) as lm:
        api = Api(lm.url)
        api.post("/v2/apps", json=dict(APP, instances=2))
        app = api.wait_running("/store", 2)
        agents = {t["slaveId"] for t in app["tasks"]}
        assert len(agents) == 2 and all(re.search(r"-S[01]$", a) for a in agents)


def test_wipe_frees_suspended_reservations(api, lm):
    api.post("/v2/apps", json=dict(APP, instances=2))
    app = api.wait_running("/store", 2)
    dirs = [lm.data_dir / "volumes" / t["localVolumes"][0]["persistenceId"] for t in app["tasks"]]
    r = api.put("/v2/apps/store", json={"instances": 0})
    api.wait_deployment(r.json()["deploymentId"])
    r = api.delete("/v2/apps/store/tasks?wipe=true")
    assert sorted(t["id"] for t in r.json()["tasks"]) == sorted(t["id"] for t in app["tasks"])
    wait_for(lambda: api.get("/v2/apps/store/tasks").json()["tasks"] == [], 10, "instances expunged")
    wait_for(lambda: not any(d.exists() for d in dirs), 10, "volumes destroyed")
    assert api.app("/store")["instances"] == 0
