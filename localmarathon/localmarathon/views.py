"""The JSON shapes clients read: tasks, task counts, apps with their embeds, the launch queue.

Read-only functions of the cluster; callers hold the cluster lock.
"""

from __future__ import annotations

import math
import time

from .appdef.normalize import app_for_output
from .instances import HOST, is_active
from .timestamps import format_timestamp


def task_json(cluster, inst: dict, service_ports: list | None = None) -> dict:
    """A task object as ``cluster.marathon`` writes it. The task of a stopped resident instance is
    TASK_STAGING without timestamps on <=1.7 (its condition is Reserved) and keeps its last terminal
    state on 1.8+."""
    marathon = cluster.marathon
    task = inst.get("task") or {}
    app = cluster.app_definition(inst["appId"], inst["runVersion"]) or {}
    role = (inst.get("reservation") or {}).get("role") or app.get("role", cluster.mesos_role)
    active = is_active(task)
    if active:
        state = task.get("state")
    elif marathon.stopped_resident_task_staging:
        state = "TASK_STAGING"
    else:
        state = inst.get("lastState") or task.get("state", "TASK_KILLED")
    health = [dict(h) for h in (inst.get("health") or []) if h] if active else []
    for h in health:
        if "instanceId" in h:
            h["instanceId"] = marathon.health_instance_id(h["instanceId"])
    out = {"appId": inst["appId"],
           "healthCheckResults": health,
           "host": HOST, "id": task.get("id", f"{inst['id']}._app.{inst['incarnation']}"),
           "ipAddresses": [{"ipAddress": HOST, "protocol": "IPv4"}],
           "ports": list(task.get("ports", [])) if active else [],
           "servicePorts": list(service_ports or []),
           "slaveId": inst["agentId"],
           "state": state}
    if active:
        out["stagedAt"] = task["stagedAt"]
        if task.get("startedAt"):
            out["startedAt"] = task["startedAt"]
        out["version"] = task["version"]
    out["localVolumes"] = [dict(v) for v in (inst.get("reservation") or {}).get("volumes", [])]
    if marathon.task_has_role:
        out["role"] = role
    if marathon.legacy_task_writer:
        return _legacy_task_json(out, active)
    return out


_LEGACY_HEALTH_OPTIONALS = ("firstSuccess", "lastSuccess", "lastFailure", "lastFailureCause")


def _legacy_task_json(task: dict, active: bool) -> dict:
    """1.4/1.5's hand-written task writer: id and state first; timestamps, ports and version only for
    an active task (startedAt may be null); arrays only when non-empty, ``localVolumes`` only with a
    reservation; health results carry null for what has not happened yet."""
    out = {"id": task["id"], "state": task["state"]}
    if active:
        out["startedAt"] = task.get("startedAt")
        out["stagedAt"] = task["stagedAt"]
        out["ports"] = task["ports"]
        out["version"] = task["version"]
    if active and task["ipAddresses"]:
        out["ipAddresses"] = task["ipAddresses"]
    if task["localVolumes"]:
        out["localVolumes"] = task["localVolumes"]
    out.update(appId=task["appId"], slaveId=task["slaveId"], host=task["host"])
    if task["servicePorts"]:
        out["servicePorts"] = task["servicePorts"]
    if task["healthCheckResults"]:
        out["healthCheckResults"] = [{**{k: None for k in _LEGACY_HEALTH_OPTIONALS}, **h}
                                     for h in task["healthCheckResults"]]
    return out


def visible_instances(cluster, app_id: str) -> list[dict]:
    """Instances listed in task lists: active tasks, plus resident instances with a reservation
    whose task ended (suspended)."""
    out = []
    for inst in cluster.tracker.app_instances(app_id):
        task = inst.get("task")
        if is_active(task) or (inst.get("reservation") and task):
            out.append(inst)
    return sorted(out, key=lambda i: i["createdAt"])


def app_tasks(cluster, app_id: str, service_ports: list | None = None) -> list[dict]:
    return [task_json(cluster, i, service_ports) for i in visible_instances(cluster, app_id)]


def counts(cluster, app_id: str) -> dict:
    # staged/running by Mesos state; healthy/unhealthy by health results; other states count nowhere
    staged = running = healthy = unhealthy = 0
    for inst in cluster.tracker.app_instances(app_id):
        task = inst.get("task")
        if not is_active(task):
            continue
        if task["state"] == "TASK_RUNNING":
            running += 1
        elif task["state"] == "TASK_STAGING":
            staged += 1
        results = [h for h in (inst.get("health") or []) if h]
        if results and all(h.get("alive") for h in results):
            healthy += 1
        elif any(not h.get("alive") for h in results):
            unhealthy += 1
    return {"tasksStaged": staged, "tasksRunning": running, "tasksHealthy": healthy,
            "tasksUnhealthy": unhealthy}


def app_info(cluster, app_id: str, embed: set[str], *, tasks_default: bool = False) -> dict:
    """An app with its counts and deployments, plus the embeds asked for."""
    rec = cluster.apps[app_id]
    out = app_for_output(rec["app"], rec["version"], rec["versionInfo"], cluster.marathon)
    out.update(counts(cluster, app_id))
    out["deployments"] = [{"id": d.id} for d in cluster.executor.deployments.values() if app_id in d.affected_apps]
    if "readiness" in embed:
        out["readinessCheckResults"] = []
    if tasks_default or "tasks" in embed:
        out["tasks"] = app_tasks(cluster, app_id)
    last_failure = cluster.tracker.last_failure
    if (tasks_default or "lastTaskFailure" in embed) and app_id in last_failure:
        out["lastTaskFailure"] = dict(last_failure[app_id])
    return out


def queue_json(cluster) -> list[dict]:
    """GET /v2/queue: apps with instances waiting to launch, their backoff and declined offers."""
    tracker = cluster.tracker
    now = time.time()
    out = []
    for app_id, rec in cluster.apps.items():
        waiting = [i for i in tracker.app_instances(app_id)
                   if i["goal"] == "Running" and not is_active(i.get("task"))]
        if not waiting:
            continue
        b = tracker.backoff.get(app_id)
        left = max(0.0, (b["until"] - now) * cluster.time_scale) if b else 0.0
        stats = tracker.declined.get(app_id)
        offers = stats.summary(format_timestamp) if stats else {"processedOffersCount": 0, "unusedOffersCount": 0}
        out.append({"count": len(waiting), "role": rec["app"].get("role", cluster.mesos_role),
                    "delay": {"timeLeftSeconds": int(math.ceil(left)), "overdue": left <= 0},
                    "since": tracker.queue_since.get(app_id, format_timestamp(now)),
                    "processedOffersSummary": offers,
                    "app": app_for_output(rec["app"], rec["version"], rec["versionInfo"], cluster.marathon)})
    return out
