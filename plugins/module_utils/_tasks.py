# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Turn Marathon task JSON into the summary that marathon_task_info returns.

Pure functions, no I/O, so they are unit tested on plain dicts shaped like
Marathon 1.1 to 1.10 output.
"""

from __future__ import annotations

from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import canonical_app_id

# Mesos states after which the task process is gone for good.
TERMINAL_STATES = frozenset([
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_ERROR",
    "TASK_LOST",
    "TASK_GONE",
    "TASK_GONE_BY_OPERATOR",
    "TASK_DROPPED",
])


def _health_results(task):
    # 1.4 and 1.5 omit the key when empty; a null entry carries no result.
    return [r for r in (task.get("healthCheckResults") or []) if isinstance(r, dict)]


def task_healthy(task):
    """True, False or None for one task.

    The rule of the HEALTHY column of ``dcos marathon task list``: every
    health check result is alive. A task without any result yet (no health
    checks, not checked yet, or suspended) is None, where the CLI would print
    a vacuous True; this is also how Marathon counts tasksHealthy and
    tasksUnhealthy (neither for a task without results).
    """
    results = _health_results(task)
    if not results:
        return None
    return all(bool(r.get("alive")) for r in results)


def has_idle_reservation(task):
    """A reserved (resident) instance whose task is not running.

    It keeps its local volumes but has no startedAt. Marathon 1.8+ shows the
    last terminal state, 1.4 to 1.7 show TASK_STAGING without stagedAt, 1.1
    shows no state at all. This alone does not make it suspended: see
    suspended_tasks.
    """
    if not task.get("localVolumes"):
        return False
    if task.get("startedAt"):
        return False
    state = task.get("state")
    if state is None or state in TERMINAL_STATES:
        return True
    return state == "TASK_STAGING" and not task.get("stagedAt")


def suspended_tasks(tasks, instances):
    """The suspended tasks among ``tasks``, all of one app that has ``instances`` instances.

    Suspended means stopped with the reservation kept: the app was scaled down, Marathon gave the
    instance the goal Stopped and killed its task. A reserved instance whose task failed and waits
    to be relaunched (goal Running, a crash loop) looks the same in the task list, which does not
    carry the goal of app instances. So only the reserved instances
    beyond the app's instance count are suspended, and only those without a running task.
    """
    reserved = [t for t in tasks if isinstance(t, dict) and t.get("localVolumes")]
    stopped = max(0, len(reserved) - (instances or 0))
    idle = [t for t in reserved if has_idle_reservation(t)]
    # When not all idle ones can be stopped ones, prefer those with the marks of a kill.
    idle.sort(key=lambda t: (t.get("state") not in (None, "TASK_KILLED", "TASK_STAGING"), t.get("id") or ""))
    return idle[:stopped]


def needs_instance_counts(tasks):
    """Whether deciding which tasks are suspended needs the apps' instance counts."""
    return any(isinstance(t, dict) and has_idle_reservation(t) for t in tasks)


def _health_result_summary(result):
    return {
        "alive": bool(result.get("alive")),
        "consecutive_failures": result.get("consecutiveFailures", 0),
        "first_success": result.get("firstSuccess"),
        "last_success": result.get("lastSuccess"),
        "last_failure": result.get("lastFailure"),
        "last_failure_cause": result.get("lastFailureCause"),
        # 1.1 to 1.3 name it taskId.
        "instance_id": result.get("instanceId", result.get("taskId")),
    }


def summarize_task(task, suspended=False):
    """One Marathon task as the snake_case dict the module returns; ``suspended`` comes from
    suspended_tasks."""
    return {
        "app_id": task.get("appId"),
        "id": task.get("id"),
        "host": task.get("host"),
        "agent_id": task.get("slaveId"),
        "state": task.get("state"),
        "healthy": task_healthy(task),
        "suspended": suspended,
        # A suspended instance has no running task, so no start time even if
        # an old serializer left one behind.
        "started_at": None if suspended else task.get("startedAt"),
        "staged_at": None if suspended else task.get("stagedAt"),
        "ports": list(task.get("ports") or []),
        "service_ports": list(task.get("servicePorts") or []),
        "ip_addresses": [a.get("ipAddress") for a in (task.get("ipAddresses") or []) if isinstance(a, dict)],
        "version": task.get("version"),
        "local_volumes": [
            {"container_path": v.get("containerPath"), "persistence_id": v.get("persistenceId")}
            for v in (task.get("localVolumes") or [])
            if isinstance(v, dict)
        ],
        "health_check_results": [_health_result_summary(r) for r in _health_results(task)],
    }


def summarize_tasks(tasks, instances_by_app):
    """Summaries of Marathon tasks of any apps, sorted by app and task id.

    ``instances_by_app`` maps a canonical app id to its instance count; an app missing from it
    counts as having none (it is being removed).
    """
    by_app = {}
    for t in tasks:
        by_app.setdefault(canonical_app_id(t.get("appId", "")), []).append(t)
    suspended = set()
    for app_id, app_tasks in by_app.items():
        suspended.update(id(t) for t in suspended_tasks(app_tasks, instances_by_app.get(app_id, 0)))
    out = [summarize_task(t, suspended=id(t) in suspended) for t in tasks]
    return sorted(out, key=lambda t: (t["app_id"] or "", t["id"] or ""))


def summarize_counts(tasks):
    """Counters over summarized tasks (the output of summarize_task)."""
    counts = {"total": len(tasks), "running": 0, "staged": 0, "healthy": 0, "unhealthy": 0, "suspended": 0}
    for t in tasks:
        if t["suspended"]:
            counts["suspended"] += 1
            continue
        running = t["state"] == "TASK_RUNNING"
        if running:
            counts["running"] += 1
        elif t["state"] in (None, "TASK_STAGING"):
            counts["staged"] += 1
        # Only a running task counts as healthy: a task being killed can
        # still carry its last passing result.
        if t["healthy"] is True and running:
            counts["healthy"] += 1
        elif t["healthy"] is False:
            counts["unhealthy"] += 1
    return counts


def filter_tasks(tasks, app_id=None):
    """Tasks of one app (exact id), as `dcos marathon task list <app-id>` does."""
    if app_id is None:
        return list(tasks)
    wanted = canonical_app_id(app_id)
    return [t for t in tasks if canonical_app_id(t.get("appId", "")) == wanted]
