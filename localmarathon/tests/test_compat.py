"""What other Marathon clients rely on: /ping, /v2/info, /v2/leader, unknown routes, `//` in
paths, booleans in any case, the DC/OS layout, and robustness against malformed requests."""

from __future__ import annotations

import socket
import threading

import requests

from conftest import Api, wait_for
from localmarathon.timestamps import parse_timestamp


def test_ping_content_negotiation(api):
    r = api.get("/ping")
    assert r.status_code == 200 and r.text == "pong" and r.headers["Content-Type"].startswith("text/plain")
    r = api.get("/ping", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json() == "pong"
    assert api.get("/ping", headers={"Accept": "image/png"}).status_code == 204
    assert api.get("/service/marathon/ping").text == "pong"


def test_info_and_leader(api):
    info = api.get("/v2/info").json()
    assert info["name"] == "marathon" and info["version"] == "1.10.26" and info["elected"] is True
    assert info["marathon_config"]["mesos_role"] == "slave_public"
    assert info["leader"] == api.url.split("://")[1]
    assert api.get("/v2/leader").json() == {"leader": info["leader"]}
    r = api.delete("/v2/leader")
    assert r.status_code == 200 and r.json() == {"message": "Leadership abdicated", "details": []}
    # an election gap follows, then the leader answers again
    wait_for(lambda: api.get("/v2/leader", check=False).status_code == 200, 10, "re-election")


def test_unknown_route_and_method(api):
    r = api.get("/v2/nothing")
    assert r.status_code == 500 and r.json() == {"message": "URI not found"}
    assert api.get("/v3/apps").status_code == 500
    assert api.request("POST", "/v2/info").status_code == 405


def test_double_slashes_dcos_prefix_and_boolean_case(api):
    assert api.post("//v2//apps", json={"id": "/c", "cmd": "sleep 100", "instances": 0}).status_code == 201
    assert api.get("/v2/apps//c").json()["app"]["id"] == "/c"
    assert api.get("/service/marathon/v2/apps/c").json()["app"]["id"] == "/c"
    assert api.get("/v2/apps/%2Fc").status_code == 200  # url-encoded ids (Python CLI quotes them)
    r = api.put("/v2/apps/c?force=TRUE&partialUpdate=False", json={"cmd": "sleep 200", "instances": 0})
    assert r.status_code == 200
    api.wait_deployment(r.json()["deploymentId"])
    assert api.app("/c")["mem"] == 128.0
    r = api.delete("/service/marathon/v2/apps/c?force=True")
    assert r.status_code == 200


def _raw(lm, payload: bytes) -> bytes:
    host, port = lm.url.split("://")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
        return data


def test_malformed_requests_never_crash_it(lm, api):
    assert b"400" in _raw(lm, b"\x00\x01\x02garbage\r\n\r\n")
    assert b" 400 " in _raw(lm, b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
    assert b" 400 " in _raw(lm, b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n")
    assert b" 400 " in _raw(lm, b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    _raw(lm, b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"id\":")  # truncated body
    for body in (b"[]", b"123", b'"x"', b"null", b'{"id": 5}', b'{"id":"/u","cmd":"x","instances":"many"}',
                 b'{"id":"/u","cmd":"x","container":{"volumes":"no"}}', b"\xff\xfe", b'{"id":"/u","cmd":"x","env":[1]}'):
        r = api.post("/v2/apps", data=body, headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 422), (body, r.status_code, r.text)
        assert "message" in r.json()
    assert api.post("/v2/tasks/delete", json={"ids": "x"}).status_code == 422
    assert api.post("/v2/tasks/delete", json={"ids": ["nodots"]}).status_code == 400
    assert api.post("/v2/tasks/delete", json={"ids": ["a.instance-0"]}).json() == {"tasks": []}
    assert api.get("/v2/apps?label=(((").status_code == 422
    assert api.get("/v2/apps/x/versions/yesterday").status_code == 404
    assert api.get("/v2/apps").status_code == 200  # still serving


def test_requests_are_served_concurrently(lm, api):
    # one request held for 5 s by a delay fault must not block others: they all finish while it waits
    requests.post(lm.url + "/_localmarathon/faults",
                  json={"kind": "delay", "seconds": 5, "count": 1, "path": "^/v2/info$"}).raise_for_status()
    slow = threading.Thread(target=lambda: api.get("/v2/info"))
    slow.start()
    wait_for(lambda: requests.get(lm.url + "/_localmarathon/faults").json()["faults"] == [], 5, "delay to start")
    for _ in range(20):
        assert api.get("/v2/apps").status_code == 200
    assert slow.is_alive()
    slow.join()
    assert [r["fault"] for r in lm.requests() if r["path"] == "/v2/info"] == ["delay:5s"]


def test_failing_task_backoff_and_last_failure(api):
    r = api.post("/v2/apps", json={"id": "/crash", "cmd": "echo boom >&2; exit 3", "instances": 1,
                                   "backoffSeconds": 100, "backoffFactor": 2, "maxLaunchDelaySeconds": 3600})
    assert r.status_code == 201
    app = wait_for(lambda: (a := api.app("/crash")).get("lastTaskFailure") and a, 10, "a failure")
    failure = app["lastTaskFailure"]
    assert failure["state"] == "TASK_FAILED" and failure["appId"] == "/crash" and failure["host"] == "127.0.0.1"
    # backoffSeconds 100 at time scale 20 → 5 s before the second launch (long enough for the queue
    # to be looked at while the delay runs, on a busy machine too), then 10 s
    queue = api.get("/v2/queue").json()["queue"]
    assert queue and queue[0]["app"]["id"] == "/crash" and queue[0]["count"] == 1
    assert queue[0]["delay"]["overdue"] is False and queue[0]["delay"]["timeLeftSeconds"] > 0
    first = failure["taskId"]
    second = wait_for(lambda: (f := api.app("/crash")["lastTaskFailure"])["taskId"] != first and f, 30, "relaunch")
    # Judged by the server's own failure times, not by when this test happened to look: the second
    # launch waited out the 5 s backoff (timestamps have millisecond precision).
    assert parse_timestamp(second["timestamp"]) - parse_timestamp(failure["timestamp"]) >= 5.0 - 0.001
    assert second["taskId"].rsplit(".", 1)[0] == first.rsplit(".", 1)[0]  # same instance, next incarnation
    # DELETE /v2/queue/{id}/delay resets the backoff
    assert api.delete("/v2/queue/crash/delay").status_code in (204, 404)
    assert api.delete("/v2/queue/nothere/delay").status_code == 404


def test_health_driven_kill_and_relaunch(api):
    r = api.post("/v2/apps", json={"id": "/sick", "cmd": "sleep 100", "instances": 1, "healthChecks": [
        {"protocol": "COMMAND", "command": {"value": "false"}, "gracePeriodSeconds": 0, "intervalSeconds": 2,
         "timeoutSeconds": 2, "maxConsecutiveFailures": 1, "delaySeconds": 0}]})
    assert r.status_code == 201
    first = wait_for(lambda: (ts := api.get("/v2/apps/sick/tasks").json()["tasks"]) and ts[0]["id"], 10, "task")
    wait_for(lambda: any(t["id"] != first for t in api.get("/v2/apps/sick/tasks").json()["tasks"]), 20,
             "unhealthy task to be replaced")
    failure = api.app("/sick")["lastTaskFailure"]
    assert failure["state"] == "TASK_KILLED"
    assert failure["taskId"].rsplit(".", 1)[0] == first.rsplit(".", 1)[0]  # relaunched as the same instance


def test_tasks_endpoints(api):
    api.post("/v2/apps", json={"id": "/t", "cmd": "sleep 100", "instances": 2})
    app = api.wait_running("/t", 2)
    ids = sorted(t["id"] for t in app["tasks"])
    assert sorted(t["id"] for t in api.get("/v2/tasks?status=running").json()["tasks"]) == ids
    assert api.get("/v2/tasks?status=staging").json()["tasks"] == []
    assert api.get("/v2/tasks?status=bogus").json()["tasks"] != []  # unknown values are ignored
    assert api.delete("/v2/apps/t/tasks/t.instance-x._app.1").status_code == 404
    r = api.delete("/v2/apps/t/tasks?host=127.0.0.1")
    assert sorted(t["id"] for t in r.json()["tasks"]) == ids
    # killed without scale: relaunched, instances unchanged
    app = wait_for(lambda: (a := api.app("/t"))["tasksRunning"] == 2 and
                   sorted(t["id"] for t in a["tasks"]) != ids and a, 20, "relaunch")
    assert app["instances"] == 2
    r = api.post("/v2/tasks/delete?scale=true", json={"ids": [app["tasks"][0]["id"]]})
    assert set(r.json()) == {"deploymentId", "version"}
    api.wait_deployment(r.json()["deploymentId"])
    assert api.app("/t")["instances"] == 1
    assert api.delete("/v2/apps/t/tasks?scale=true&wipe=true").status_code == 400
    assert api.get("/v2/apps/nope/tasks").json() == {"message": "App '/nope' does not exist", "details": []}


def test_service_prefix_client(lm):
    api = Api(lm.url + "/service/marathon")
    assert api.post("/v2/apps", json={"id": "/sp", "cmd": "sleep 100", "instances": 0}).status_code == 201
    assert [a["id"] for a in api.get("/v2/apps").json()["apps"]] == ["/sp"]


def test_unsupported_image_fails_the_task_clearly(api):
    r = api.post("/v2/apps", json={"id": "/img", "instances": 1, "backoffSeconds": 600,
                                   "container": {"type": "DOCKER", "docker": {"image": "example/nothing:1.0"}}})
    assert r.status_code == 201
    failure = wait_for(lambda: api.app("/img").get("lastTaskFailure"), 10, "launch failure")
    assert failure["state"] == "TASK_FAILED"
    assert "example/nothing:1.0" in failure["message"] and "not supported by localmarathon" in failure["message"]
    queue = api.get("/v2/queue").json()["queue"]
    assert queue[0]["app"]["id"] == "/img" and queue[0]["delay"]["overdue"] is False


def test_groups_implied_by_app_ids(api):
    for app_id in ("/top", "/prod/db", "/prod/web/front"):
        api.post("/v2/apps", json={"id": app_id, "cmd": "sleep 100", "instances": 0})
    root = api.get("/v2/groups").json()
    assert root["id"] == "/" and [a["id"] for a in root["apps"]] == ["/top"]
    (prod,) = root["groups"]
    assert prod["id"] == "/prod" and [a["id"] for a in prod["apps"]] == ["/prod/db"]
    assert prod["groups"][0]["id"] == "/prod/web" and prod["groups"][0]["apps"][0]["id"] == "/prod/web/front"
    assert api.get("/v2/groups/prod/web").json()["apps"][0]["id"] == "/prod/web/front"
    assert api.get("/v2/groups/nope").json() == {"message": "Group '/nope' does not exist", "details": []}
    # PUT, POST and DELETE are served too (test_groups.py)
    assert api.put("/v2/groups/prod/web/front/x", json={"id": "x"}, check=False).status_code != 405
