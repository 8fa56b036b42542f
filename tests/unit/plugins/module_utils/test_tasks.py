# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Task summarizing on task dicts shaped like Marathon's own output."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils import _tasks

VOLUME = {
    "runSpecId": "/db",
    "containerPath": "data",
    "uuid": "5a1de3f8-a3e4-11ea-8d8f-0242ac110002",
    "persistenceId": "db#data#5a1de3f8-a3e4-11ea-8d8f-0242ac110002",
}

# Marathon 1.10, running resident task (marathon-api.md 4.4).
RUNNING = {
    "appId": "/db",
    "healthCheckResults": [],
    "host": "10.0.1.23",
    "id": "db.instance-5a1e0c1c-a3e4-11ea-8d8f-0242ac110002._app.1",
    "ipAddresses": [{"ipAddress": "10.0.1.23", "protocol": "IPv4"}],
    "ports": [31234],
    "servicePorts": [],
    "slaveId": "c5b4e7a2-0e8f-4c1e-9d1f-0b6a4f1d2e3a-S2",
    "state": "TASK_RUNNING",
    "stagedAt": "2020-06-01T12:00:02.114Z",
    "startedAt": "2020-06-01T12:00:03.520Z",
    "version": "2020-06-01T12:00:00.000Z",
    "localVolumes": [VOLUME],
    "role": "slave_public",
}

# Marathon 1.10, the same instance after scaling to 0 (marathon-api.md 4.4, 8.5).
SUSPENDED_110 = {
    "appId": "/db",
    "healthCheckResults": [],
    "host": "10.0.1.23",
    "id": "db.instance-5a1e0c1c-a3e4-11ea-8d8f-0242ac110002._app.1",
    "ipAddresses": [{"ipAddress": "10.0.1.23", "protocol": "IPv4"}],
    "ports": [],
    "servicePorts": [],
    "slaveId": "c5b4e7a2-0e8f-4c1e-9d1f-0b6a4f1d2e3a-S2",
    "state": "TASK_KILLED",
    "localVolumes": [VOLUME],
    "role": "slave_public",
}

# Marathon 1.4 to 1.7: reserved task rendered as TASK_STAGING without timestamps.
SUSPENDED_14 = {
    "appId": "/db",
    "host": "10.0.1.23",
    "id": "db.4f0b5c2e-0a2d-11e7-93ae-92361f002671",
    "slaveId": "agent-S2",
    "state": "TASK_STAGING",
    "localVolumes": [VOLUME],
}

# Marathon 1.1: no state at all.
SUSPENDED_11 = {
    "id": "db.4f0b5c2e-0a2d-11e7-93ae-92361f002671",
    "slaveId": "agent-S2",
    "host": "10.0.1.23",
    "appId": "/db",
    "localVolumes": [{"containerPath": "data", "persistenceId": "db#data#4f0b5c2e"}],
}

ALIVE = {
    "alive": True,
    "consecutiveFailures": 0,
    "firstSuccess": "2020-06-01T12:00:10.000Z",
    "lastSuccess": "2020-06-01T12:01:10.000Z",
    "instanceId": "db.instance-5a1e0c1c-a3e4-11ea-8d8f-0242ac110002",
}
DEAD = {
    "alive": False,
    "consecutiveFailures": 2,
    "firstSuccess": "2020-06-01T12:00:10.000Z",
    "lastSuccess": "2020-06-01T12:01:10.000Z",
    "lastFailure": "2020-06-01T12:03:10.000Z",
    "lastFailureCause": "Connection refused",
    "instanceId": "db.instance-5a1e0c1c-a3e4-11ea-8d8f-0242ac110002",
}


def with_results(task, *results):
    t = copy.deepcopy(task)
    t["healthCheckResults"] = list(results)
    return t


@pytest.mark.parametrize(
    "results, expected",
    [
        ([], None),
        ([ALIVE], True),
        ([ALIVE, ALIVE], True),
        ([DEAD], False),
        ([ALIVE, DEAD], False),
        # Marathon's grace-period entry: alive false, no failures counted yet.
        ([{"alive": False, "consecutiveFailures": 0, "instanceId": "x"}], False),
    ],
)
def test_healthy_follows_all_alive(results, expected):
    assert _tasks.task_healthy(with_results(RUNNING, *results)) is expected


def test_healthy_without_key_is_none():
    # 1.4/1.5 omit healthCheckResults when empty.
    t = copy.deepcopy(RUNNING)
    del t["healthCheckResults"]
    assert _tasks.task_healthy(t) is None


def test_healthy_ignores_null_entries():
    assert _tasks.task_healthy(with_results(RUNNING, None)) is None
    assert _tasks.task_healthy(with_results(RUNNING, None, ALIVE)) is True


@pytest.mark.parametrize("task", [SUSPENDED_110, SUSPENDED_14, SUSPENDED_11], ids=["1.10", "1.4", "1.1"])
def test_suspended_shapes(task):
    assert _tasks.has_idle_reservation(task) is True
    # The app was scaled to 0: its reserved instance is suspended.
    assert _tasks.suspended_tasks([task], 0) == [task]
    (s,) = _tasks.summarize_tasks([task], {"/db": 0})
    assert s["suspended"] is True
    assert s["started_at"] is None
    assert s["healthy"] is None
    assert s["local_volumes"][0]["container_path"] == "data"


def test_running_resident_task_is_not_suspended():
    assert _tasks.has_idle_reservation(RUNNING) is False
    assert _tasks.suspended_tasks([RUNNING], 0) == []


def test_staging_with_staged_at_is_not_suspended():
    t = copy.deepcopy(RUNNING)
    t["state"] = "TASK_STAGING"
    del t["startedAt"]
    assert _tasks.has_idle_reservation(t) is False


def test_killed_task_without_volumes_is_not_suspended():
    t = copy.deepcopy(SUSPENDED_110)
    t["localVolumes"] = []
    assert _tasks.has_idle_reservation(t) is False
    assert _tasks.suspended_tasks([t], 0) == []


def crash_looping(state="TASK_FAILED"):
    # A reserved instance of a running app whose task died and waits for its relaunch: on the wire it
    # looks like a stopped one (marathon-api.md 8.5), only the app's instance count tells them apart.
    t = copy.deepcopy(SUSPENDED_110)
    t["state"] = state
    return t


@pytest.mark.parametrize("state", ["TASK_FAILED", "TASK_KILLED", "TASK_ERROR"])
def test_crash_looping_instance_of_a_running_app_is_not_suspended(state):
    task = crash_looping(state)
    assert _tasks.suspended_tasks([task], 1) == []
    (s,) = _tasks.summarize_tasks([task], {"/db": 1})
    assert s["suspended"] is False
    assert _tasks.summarize_counts([s])["suspended"] == 0


def test_only_instances_beyond_the_count_are_suspended():
    # Scaled 2 -> 1: one reserved instance is stopped; the other crash-loops.
    stopped = dict(copy.deepcopy(SUSPENDED_110), id="db.instance-b._app.1")
    failed = dict(crash_looping(), id="db.instance-a._app.3")
    assert _tasks.suspended_tasks([failed, stopped], 1) == [stopped]
    # Scaled 2 -> 1 and the remaining one runs.
    assert _tasks.suspended_tasks([RUNNING, stopped], 1) == [stopped]
    # Scaled to 0 but the task is still being killed: not suspended yet.
    assert _tasks.suspended_tasks([RUNNING], 0) == []


def test_an_app_not_in_the_counts_has_no_instances():
    (s,) = _tasks.summarize_tasks([SUSPENDED_110], {})
    assert s["suspended"] is True


def test_instance_counts_are_needed_only_for_idle_reservations():
    assert _tasks.needs_instance_counts([RUNNING]) is False
    assert _tasks.needs_instance_counts([RUNNING, crash_looping()]) is True


def test_summary_of_running_task():
    s = _tasks.summarize_task(with_results(RUNNING, ALIVE))
    assert s == {
        "app_id": "/db",
        "id": "db.instance-5a1e0c1c-a3e4-11ea-8d8f-0242ac110002._app.1",
        "host": "10.0.1.23",
        "agent_id": "c5b4e7a2-0e8f-4c1e-9d1f-0b6a4f1d2e3a-S2",
        "state": "TASK_RUNNING",
        "healthy": True,
        "suspended": False,
        "started_at": "2020-06-01T12:00:03.520Z",
        "staged_at": "2020-06-01T12:00:02.114Z",
        "ports": [31234],
        "service_ports": [],
        "ip_addresses": ["10.0.1.23"],
        "version": "2020-06-01T12:00:00.000Z",
        "local_volumes": [
            {"container_path": "data", "persistence_id": "db#data#5a1de3f8-a3e4-11ea-8d8f-0242ac110002"}
        ],
        "health_check_results": [
            {
                "alive": True,
                "consecutive_failures": 0,
                "first_success": "2020-06-01T12:00:10.000Z",
                "last_success": "2020-06-01T12:01:10.000Z",
                "last_failure": None,
                "last_failure_cause": None,
                "instance_id": "db.instance-5a1e0c1c-a3e4-11ea-8d8f-0242ac110002",
            }
        ],
    }


def test_old_health_result_uses_task_id():
    old = {"alive": False, "consecutiveFailures": 1, "taskId": "db.1234"}
    s = _tasks.summarize_task(with_results(RUNNING, old))
    assert s["health_check_results"][0]["instance_id"] == "db.1234"
    assert s["healthy"] is False


def test_persistence_id_is_the_same_running_and_suspended():
    before = _tasks.summarize_task(RUNNING)["local_volumes"]
    after = _tasks.summarize_task(SUSPENDED_110)["local_volumes"]
    assert before == after


def test_counts():
    staging = copy.deepcopy(RUNNING)
    staging["state"] = "TASK_STAGING"
    del staging["startedAt"]
    killing_healthy = with_results(RUNNING, ALIVE)
    killing_healthy["state"] = "TASK_KILLING"
    stopped_14 = dict(SUSPENDED_14, id="db.instance-other._app.1")
    tasks = _tasks.summarize_tasks(
        [with_results(RUNNING, ALIVE), with_results(RUNNING, DEAD), RUNNING, SUSPENDED_110, stopped_14, staging,
         killing_healthy],
        {"/db": 5},
    )
    assert _tasks.summarize_counts(tasks) == {
        "total": 7,
        "running": 3,
        "staged": 1,
        "healthy": 1,
        "unhealthy": 1,
        "suspended": 2,
    }


def test_counts_empty():
    assert _tasks.summarize_counts([]) == {
        "total": 0, "running": 0, "staged": 0, "healthy": 0, "unhealthy": 0, "suspended": 0,
    }


def test_filter_tasks_exact_app_only():
    other = copy.deepcopy(RUNNING)
    other["appId"] = "/db2"
    nested = copy.deepcopy(RUNNING)
    nested["appId"] = "/db/replica"
    tasks = [RUNNING, other, nested]
    assert _tasks.filter_tasks(tasks, "db") == [RUNNING]
    assert _tasks.filter_tasks(tasks, "//db/") == [RUNNING]
    assert _tasks.filter_tasks(tasks, None) == tasks
    assert _tasks.filter_tasks(tasks, "/nothing") == []
