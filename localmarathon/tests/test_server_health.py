"""Health checks through the whole server: HTTP on a host port, HTTP on a bridge port mapping,
TCP, and results/counters as §7 and §6.4 say."""

from __future__ import annotations

from conftest import wait_for


def test_http_health_check_on_host_port(api):
    r = api.post("/v2/apps", json={
        "id": "/web", "cmd": "exec python3 -m http.server --bind 127.0.0.1 $PORT0", "instances": 1,
        "healthChecks": [{"protocol": "HTTP", "path": "/", "gracePeriodSeconds": 60, "intervalSeconds": 2,
                          "timeoutSeconds": 2}]})
    assert r.status_code == 201
    app = api.wait_running("/web", healthy=True, timeout=20)
    (result,) = app["tasks"][0]["healthCheckResults"]
    assert result["alive"] is True and result["consecutiveFailures"] == 0
    assert result["instanceId"] == app["tasks"][0]["id"].rsplit("._app.", 1)[0]
    assert "lastSuccess" in result and "lastFailure" not in result


def test_http_health_check_on_bridge_mapping_and_tcp(api):
    r = api.post("/v2/apps", json={
        "id": "/nginx", "instances": 1, "networks": [{"mode": "container/bridge"}],
        "container": {"type": "DOCKER", "docker": {"image": "nginx:1.19"},
                      "portMappings": [{"containerPort": 80, "hostPort": 0}]},
        "healthChecks": [{"protocol": "MESOS_HTTP", "path": "/", "portIndex": 0, "gracePeriodSeconds": 60,
                          "intervalSeconds": 2, "delaySeconds": 0},
                         {"protocol": "TCP", "portIndex": 0, "gracePeriodSeconds": 60, "intervalSeconds": 2}]})
    assert r.status_code == 201, r.text
    app = api.wait_running("/nginx", healthy=True, timeout=20)
    task = app["tasks"][0]
    assert len(task["healthCheckResults"]) == 2 and all(h["alive"] for h in task["healthCheckResults"])
    assert app["container"]["portMappings"][0]["servicePort"] >= 10000
    assert task["ports"][0] >= 31000


def test_failing_check_inside_grace_counts_unhealthy(api):
    api.post("/v2/apps", json={"id": "/slow", "cmd": "sleep 100", "instances": 1, "portDefinitions": [{"port": 0}],
                               "healthChecks": [{"protocol": "TCP", "gracePeriodSeconds": 600,
                                                 "intervalSeconds": 1}]})
    # nothing listens on the port: inside the grace period the task is unhealthy, not killed (§7)
    app = wait_for(lambda: (a := api.app("/slow"))["tasksUnhealthy"] == 1 and a, 10, "unhealthy")
    assert app["tasksHealthy"] == 0 and app["tasksRunning"] == 1
    assert app["tasks"][0]["healthCheckResults"][0]["alive"] is False
    assert [d["id"] for d in api.deployments()] == [d["id"] for d in app["deployments"]]  # still deploying
