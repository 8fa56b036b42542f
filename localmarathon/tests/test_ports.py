"""Fixed host ports: Mesos never offers a port a task holds, so a second task that needs the same
host port is not placed; its instance waits in the launch queue until the port is free."""

from __future__ import annotations

import socket

from conftest import wait_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bridge_app(app_id: str, host_port: int, instances: int, resident: bool = False) -> dict:
    container = {"type": "MESOS", "volumes": [],
                 "portMappings": [{"containerPort": 5432, "hostPort": host_port, "name": "pg"}]}
    if resident:
        container["volumes"] = [{"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]
    return {"id": app_id, "cmd": "sleep 100", "cpus": 0.1, "mem": 32, "instances": instances,
            "networks": [{"mode": "container/bridge"}], "container": container}


def _tasks(api, app_id):
    return api.get(f"/v2/apps{app_id}/tasks").json()["tasks"]


def _declined_for_ports(api, app_id):
    """The queue entry of app_id once an offer was declined for its ports, else None."""
    for entry in api.get("/v2/queue").json()["queue"]:
        if entry["app"]["id"] != app_id:
            continue
        summary = entry["processedOffersSummary"]
        reasons = {r["reason"]: r["declined"] for r in summary.get("rejectSummaryLaunchAttempt", [])}
        if summary["unusedOffersCount"] >= 1 and reasons.get("InsufficientPorts", 0) >= 1:
            return entry
    return None


def test_two_instances_of_one_app_never_share_a_fixed_host_port(api):
    port = _free_port()
    r = api.post("/v2/apps", json=_bridge_app("/pinned", port, 2, resident=True))
    assert r.status_code == 201, r.text
    wait_for(lambda: api.app("/pinned")["tasksRunning"] == 1, 30, "the first instance to run")
    entry = wait_for(lambda: _declined_for_ports(api, "/pinned"), 30, "an offer declined for its ports")
    assert entry["count"] == 1
    tasks = _tasks(api, "/pinned")
    # The second instance was never launched: one task, on the port, and the deployment still waits.
    assert [t["ports"] for t in tasks] == [[port]] and tasks[0]["state"] == "TASK_RUNNING"
    app = api.app("/pinned")
    assert app["tasksRunning"] == 1 and app["deployments"] and "lastTaskFailure" not in app


def test_an_app_waits_for_a_fixed_host_port_held_by_another_app(api):
    port = _free_port()
    api.post("/v2/apps", json=_bridge_app("/first", port, 1))
    api.wait_running("/first")
    r = api.post("/v2/apps", json=_bridge_app("/second", port, 1))
    assert r.status_code == 201, r.text
    wait_for(lambda: _declined_for_ports(api, "/second"), 30, "an offer declined for its ports")
    assert _tasks(api, "/second") == []
    # Once /first is gone its port is offered again and /second gets it.
    api.wait_deployment(api.delete("/v2/apps/first").json()["deploymentId"])
    app = api.wait_running("/second")
    assert app["tasks"][0]["ports"] == [port]
    assert all(e["app"]["id"] != "/second" for e in api.get("/v2/queue").json()["queue"])
