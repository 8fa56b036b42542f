# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Waiter: adaptive polling, timeouts with what was last seen, lock waits.

The client is a stand-in that answers from lists, and time is a fake clock that
advances when the waiter sleeps, so these tests take no real time.
"""

from __future__ import annotations

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._wait import (
    FIRST_INTERVAL,
    MAX_INTERVAL,
    WaitTimeout,
    Waiter,
    app_condition_met,
    condition_met,
    describe_deployment,
    describe_tasks,
    intervals,
)


class Clock(object):
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class Client(object):
    """Returns deployments/apps from queues; the last answer repeats."""

    def __init__(self, deployments=None, apps=None):
        self.deployments = list(deployments or [[]])
        self.apps = list(apps or [None])
        self.calls = []

    def get_deployments(self):
        self.calls.append("deployments")
        return self.deployments.pop(0) if len(self.deployments) > 1 else self.deployments[0]

    def get_app(self, app_id):
        self.calls.append("app")
        return self.apps.pop(0) if len(self.apps) > 1 else self.apps[0]


DEP = {"id": "dep-1", "affectedApps": ["/db"], "currentStep": 2, "totalSteps": 2,
       "currentActions": [{"action": "ScaleApplication", "app": "/db", "readinessCheckResults": []}]}
APP_STAGING = {
    "id": "/db", "instances": 1, "tasksRunning": 0, "tasksHealthy": 0, "tasksStaged": 1,
    "healthChecks": [{"protocol": "TCP"}],
    "tasks": [{"id": "db.instance-1._app.3", "state": "TASK_STAGING", "healthCheckResults": []}],
    "lastTaskFailure": {"taskId": "db.instance-1._app.2", "state": "TASK_FAILED",
                        "timestamp": "2026-11-25T12:00:00.000Z", "message": "Failed to launch container: image"},
}
APP_HEALTHY = dict(APP_STAGING, tasksRunning=1, tasksHealthy=1, tasksStaged=0)


def waiter(client, timeout=10):
    clock = Clock()
    return Waiter(client, timeout, sleep=clock.sleep, clock=clock), clock


def test_intervals_start_short_and_are_capped():
    gen = intervals()
    values = [next(gen) for _i in range(12)]
    assert values[0] == FIRST_INTERVAL <= 0.05
    assert max(values) == MAX_INTERVAL <= 0.25
    assert values == sorted(values)


def test_deployment_noticed_on_the_poll_after_it_ends():
    client = Client(deployments=[[DEP], [DEP], [DEP], []])
    w, clock = waiter(client)
    w.wait_deployment("dep-1", "/db")
    assert client.calls == ["deployments"] * 4
    # Every pause is within the quarter second bound.
    assert all(s <= 0.25 for s in clock.sleeps) and len(clock.sleeps) == 3


def test_no_deployment_id_means_no_wait():
    client = Client()
    w, _clock = waiter(client)
    w.wait_deployment(None, "/db")
    assert client.calls == []


def test_deployment_timeout_reports_step_actions_tasks_and_last_failure():
    client = Client(deployments=[[DEP]], apps=[APP_STAGING])
    w, clock = waiter(client, timeout=3)
    with pytest.raises(WaitTimeout) as e:
        w.wait_deployment("dep-1", "/db")
    msg = str(e.value)
    assert "Timed out after 3s waiting for deployment dep-1 of app '/db'" in msg
    assert "step 2/2, current actions: ScaleApplication /db" in msg
    assert "db.instance-1._app.3 TASK_STAGING" in msg
    assert "last task failure: db.instance-1._app.2 TASK_FAILED" in msg and "Failed to launch container" in msg
    details = e.value.to_result()
    assert details["deployment"]["id"] == "dep-1" and details["deployment_id"] == "dep-1"
    assert details["last_task_failure"]["state"] == "TASK_FAILED"
    assert 3 <= clock.now - 100.0 < 3.3


def test_wait_app_healthy():
    client = Client(apps=[APP_STAGING, APP_STAGING, APP_HEALTHY])
    w, _clock = waiter(client)
    assert w.wait_app("/db", "healthy", 1) == APP_HEALTHY
    assert client.calls == ["app"] * 3


def test_wait_app_timeout_names_condition_and_deployment():
    client = Client(deployments=[[DEP]], apps=[APP_STAGING])
    w, _clock = waiter(client, timeout=1)
    with pytest.raises(WaitTimeout) as e:
        w.wait_app("/db", "healthy", 1)
    msg = str(e.value)
    assert "waiting for app '/db' to be healthy" in msg and "0 running, 0 healthy" in msg
    assert "deployment dep-1: step 2/2" in msg


def test_wait_app_that_disappears_fails_clearly():
    w, _clock = waiter(Client(apps=[None]))
    with pytest.raises(Exception) as e:
        w.wait_app("/db", "running", 1)
    assert "disappeared" in str(e.value)


def test_wait_unlocked_returns_when_blockers_end():
    other = dict(DEP, id="other")
    client = Client(deployments=[[DEP, other], [other]])
    w, _clock = waiter(client)
    w.wait_unlocked("/db", ["dep-1"])
    assert client.calls == ["deployments", "deployments"]


def test_wait_unlocked_timeout_lists_blocking_ids():
    client = Client(deployments=[[DEP, dict(DEP, id="dep-2")]])
    w, _clock = waiter(client, timeout=2)
    with pytest.raises(WaitTimeout) as e:
        w.wait_unlocked("/db", ["dep-2", "dep-1"])
    assert "dep-1 (step 2/2" in str(e.value) and "dep-2 (" in str(e.value) and "force=true" in str(e.value)
    assert e.value.to_result()["blocking_deployments"] == ["dep-1", "dep-2"]


def test_wait_absent():
    client = Client(apps=[APP_HEALTHY, None])
    w, _clock = waiter(client)
    w.wait_absent("/db")
    assert client.calls == ["app", "app"]


def test_one_deadline_for_all_phases():
    client = Client(deployments=[[DEP]] * 5 + [[]], apps=[APP_STAGING])
    w, _clock = waiter(client, timeout=2)
    w.wait_deployment("dep-1", "/db")  # uses part of the budget
    with pytest.raises(WaitTimeout):
        w.wait_app("/db", "healthy", 1)


@pytest.mark.parametrize(
    "app,wait_for,instances,met",
    [
        (APP_HEALTHY, "healthy", 1, True),
        (dict(APP_HEALTHY, tasksHealthy=0), "healthy", 1, False),
        (dict(APP_HEALTHY, tasksHealthy=0), "running", 1, True),
        (dict(APP_HEALTHY, healthChecks=[], tasksHealthy=0), "healthy", 1, True),  # no checks: healthy = running
        (dict(APP_HEALTHY, instances=0, tasksRunning=0, tasksStaged=0), "healthy", 0, True),
        (dict(APP_HEALTHY, instances=0, tasksRunning=1), "running", 0, False),
        (dict(APP_HEALTHY, tasksRunning=1, tasksHealthy=1), "healthy", 2, False),
        (None, "running", 1, False),
    ],
)
def test_app_condition_met(app, wait_for, instances, met):
    assert app_condition_met(app, wait_for, instances) is met


def test_describe_helpers():
    assert describe_deployment(dict(DEP, currentStep=0, currentActions=[])) == "step 0/2, current actions: none yet"
    unhealthy = dict(APP_STAGING, tasks=[{"id": "t", "state": "TASK_RUNNING", "healthCheckResults": [
        {"alive": False, "lastFailureCause": "connection refused"}]}])
    assert "t TASK_RUNNING unhealthy (connection refused)" in describe_tasks(unhealthy)
    assert describe_tasks(None) == "app not found"


@pytest.mark.parametrize(
    "wait_for, count, expected",
    [
        ("running", 1, True),
        ("running", 2, False),
        ("healthy", 1, False),
        ("suspended", 1, True),
        ("suspended", 0, True),
        ("suspended", 2, False),
        ("running", 0, False),  # 0: nothing may run any more
    ],
)
def test_condition_met(wait_for, count, expected):
    counts = {"total": 2, "running": 1, "staged": 0, "healthy": 0, "unhealthy": 0, "suspended": 1}
    assert condition_met(counts, wait_for, count) is expected


def test_condition_rejects_unknown_condition():
    with pytest.raises(ValueError, match="wait_for must be one of running, healthy, suspended"):
        condition_met({}, "deployed", 1)


RESERVED_RUNNING = {"id": "r", "state": "TASK_RUNNING", "startedAt": "2026-11-25T12:00:00.000Z",
                    "localVolumes": [{"persistenceId": "a"}]}
RESERVED_IDLE = {"id": "s", "state": "TASK_KILLED", "localVolumes": [{"persistenceId": "b"}]}


@pytest.mark.parametrize(
    "instances,tasks,running,met",
    [
        (0, [RESERVED_IDLE], 0, True),  # stopped: the reservation kept, no task
        (0, [RESERVED_RUNNING], 1, False),  # still running
        (1, [RESERVED_RUNNING, RESERVED_IDLE], 1, True),  # scaled 2 -> 1
        (0, [], 0, True),  # created stopped: nothing reserved
    ],
)
def test_app_suspended_condition(instances, tasks, running, met):
    app = {"id": "/db", "instances": instances, "tasks": tasks, "tasksRunning": running, "tasksStaged": 0}
    assert app_condition_met(app, "suspended") is met
