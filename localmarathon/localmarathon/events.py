"""Marathon's event bus and the ``GET /v2/events`` SSE stream.

Interface used by the server:

* ``EventBus(queue_size=1000, history=10000)``
  - ``publish(event_type, payload) -> Event``: ``payload`` is a dict (normally built by the helpers
    below, which already carry ``eventType`` and ``timestamp``; both are added if missing). Fan-out is
    thread-safe and never blocks: a subscriber whose queue is full is dropped (Marathon 1.8+ closes
    slow event consumers), its ``get`` then raises ``SubscriptionClosed``.
  - ``subscribe(event_types: set | None) -> Subscription``; ``None``/empty = every event type
    (``event_type`` query parameters, 1.3.7+).
  - ``attach(remote_addr, event_types) -> Subscription``: subscribe, then publish
    ``event_stream_attached`` so the new stream sees it first (if its filter lets it through);
    closing such a subscription publishes ``event_stream_detached``.
  - ``recent(event_type=None) -> list[Event]``: ring buffer of the last ``history`` events, each with
    ``monotonic`` and ``wall`` publish times (for benchmarks: when did the deployment finish?).
* ``Subscription.get(timeout=None) -> Event | None`` (``None`` on timeout; ``SubscriptionClosed`` once
  closed or dropped), ``.close()``, ``.dropped``, ``.closed``.
* ``sse_frame(event) -> bytes``: ``event: <type>\\ndata: <compact json>\\n\\n`` (Event or payload dict).
  ``SSE_HEARTBEAT`` is what Jetty's EventSourceServlet writes to idle streams; ``SSE_CONTENT_TYPE`` the
  response type; ``not_acceptable_response(path)`` the 405 Jetty page sent without
  ``Accept: text/event-stream`` (``R/v2/events.raml``).

Payload helpers return dicts with the shapes of Marathon 1.10; ``plan`` arguments are the server's
deployment dicts with ``id``, ``version`` and ``steps`` (a list of steps, each a list of actions or
``{"actions": [...]}``, each action ``{"action": ..., "app": ...}``); only those keys are written, as
1.8+ always uses the "light" plan format.
"""

from __future__ import annotations

import collections
import ipaddress
import json
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable

from .timestamps import format_timestamp

SSE_CONTENT_TYPE = "text/event-stream;charset=utf-8"
SSE_HEARTBEAT = b"\r\n"

# Mesos task state -> Marathon instance condition (instance_changed_event.condition).
CONDITIONS = {
    "TASK_STAGING": "Staging",
    "TASK_STARTING": "Starting",
    "TASK_RUNNING": "Running",
    "TASK_KILLING": "Killing",
    "TASK_KILLED": "Killed",
    "TASK_FAILED": "Failed",
    "TASK_FINISHED": "Finished",
    "TASK_ERROR": "Error",
    "TASK_GONE": "Gone",
    "TASK_GONE_BY_OPERATOR": "Gone",
    "TASK_DROPPED": "Dropped",
    "TASK_UNREACHABLE": "Unreachable",
    "TASK_LOST": "Unreachable",
    "TASK_UNKNOWN": "Unknown",
}
_VALID_CONDITIONS = set(CONDITIONS.values()) | {
    "Provisioned", "Scheduled", "Reserved", "UnreachableInactive",
}
DEPLOYMENT_ACTIONS = {
    "StartApplication", "StopApplication", "ScaleApplication", "RestartApplication",
    "StartPod", "StopPod", "ScalePod", "RestartPod", "ResolveArtifacts",
}


class SubscriptionClosed(Exception):
    """The subscription was closed, or dropped because its consumer was too slow."""


@dataclass(frozen=True)
class Event:
    seq: int
    event_type: str
    payload: dict
    monotonic: float
    wall: float

    def to_json(self) -> str:
        return json.dumps(self.payload, separators=(",", ":"), ensure_ascii=False)


def sse_frame(event: Event | dict) -> bytes:
    if isinstance(event, Event):
        event_type, data = event.event_type, event.to_json()
    else:
        event_type = event["eventType"]
        data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    # Compact JSON has no raw newlines (they are escaped inside strings), so one data: line suffices.
    return f"event: {event_type}\ndata: {data}\n\n".encode("utf-8")


def not_acceptable_response(path: str):
    """405 that Jetty's EventSourceServlet sends without ``Accept: text/event-stream``."""
    esc = path.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = (
        "<html>\n<head>\n"
        '<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>\n'
        "<title>Error 405 HTTP method GET is not supported by this URL</title>\n"
        "</head>\n<body><h2>HTTP ERROR 405</h2>\n"
        f"<p>Problem accessing {esc}. Reason:\n"
        "<pre>    HTTP method GET is not supported by this URL</pre></p>\n"
        "</body>\n</html>\n"
    )
    return 405, {"Content-Type": "text/html;charset=iso-8859-1"}, body.encode("latin-1", "replace")


class Subscription:
    def __init__(self, bus: "EventBus", event_types: frozenset | None, maxsize: int, on_close=None):
        self._bus = bus
        self.event_types = event_types
        self._queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._on_close = on_close
        self.closed = False
        self.dropped = False

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def _offer(self, event: Event) -> bool:
        """Called by the bus with its lock held; False means the consumer is too slow."""
        try:
            self._queue.put_nowait(event)
            return True
        except queue.Full:
            return False

    def _wake(self) -> None:
        # A sentinel unblocks a reader waiting in get(); a full queue is drained by the reader anyway.
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass

    def get(self, timeout: float | None = None) -> Event | None:
        if self.closed:
            raise SubscriptionClosed("dropped: consumer too slow" if self.dropped else "closed")
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is None or self.closed:
            raise SubscriptionClosed("dropped: consumer too slow" if self.dropped else "closed")
        return item

    def close(self) -> None:
        """Idempotent; also call it after a drop so ``event_stream_detached`` is published once."""
        self._bus._unsubscribe(self)
        self.closed = True
        self._wake()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class EventBus:
    def __init__(self, queue_size: int = 1000, history: int = 10000):
        if queue_size < 1 or history < 1:
            raise ValueError("EventBus: queue_size and history must be at least 1")
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._history: collections.deque[Event] = collections.deque(maxlen=history)
        self._queue_size = queue_size
        self._seq = 0

    def subscribe(self, event_types: Iterable[str] | None = None, *, _on_close=None) -> Subscription:
        types = frozenset(event_types) if event_types else None
        sub = Subscription(self, types, self._queue_size, _on_close)
        with self._lock:
            self._subs.append(sub)
        return sub

    def attach(self, remote_addr: str, event_types: Iterable[str] | None = None) -> Subscription:
        sub = self.subscribe(
            event_types, _on_close=lambda: self.publish("event_stream_detached", event_stream_detached(remote_addr))
        )
        self.publish("event_stream_attached", event_stream_attached(remote_addr))
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, event_type: str, payload: dict | None = None) -> Event:
        if not isinstance(event_type, str) or not event_type:
            raise ValueError("publish: event_type must be a non-empty string")
        data = dict(payload or {})
        if data.setdefault("eventType", event_type) != event_type:
            raise ValueError(f"publish: payload eventType {data['eventType']!r} differs from {event_type!r}")
        wall = time.time()
        data.setdefault("timestamp", format_timestamp(wall))
        dropped: list[Subscription] = []
        with self._lock:
            self._seq += 1
            event = Event(self._seq, event_type, data, time.monotonic(), wall)
            self._history.append(event)
            for sub in self._subs:
                if sub.wants(event_type) and not sub._offer(event):
                    dropped.append(sub)
            for sub in dropped:
                self._subs.remove(sub)
        for sub in dropped:
            sub.dropped = True
            sub.closed = True
            sub._wake()
        return event

    def recent(self, event_type: str | None = None) -> list[Event]:
        with self._lock:
            events = list(self._history)
        if event_type is not None:
            events = [e for e in events if e.event_type == event_type]
        return events


# -- payload helpers -------------------------------------------------------------------------------


def _stamp(event_type: str, body: dict, timestamp: str | None = None) -> dict:
    body["eventType"] = event_type
    body["timestamp"] = timestamp or format_timestamp()
    return body


def _action(action: Any) -> dict:
    if not isinstance(action, dict) or action.get("action") not in DEPLOYMENT_ACTIONS:
        raise ValueError(f"deployment action must be a dict with 'action' in {sorted(DEPLOYMENT_ACTIONS)}; got {action!r}")
    out = {"action": action["action"]}
    for key in ("app", "pod"):
        if key in action:
            out[key] = action[key]
    if "app" not in out and "pod" not in out:
        raise ValueError(f"deployment action needs 'app' or 'pod': {action!r}")
    return out


def _step(step: Any) -> dict:
    actions = step.get("actions") if isinstance(step, dict) else step
    if not isinstance(actions, list):
        raise ValueError(f"deployment step must be a list of actions or {{'actions': [...]}}; got {step!r}")
    return {"actions": [_action(a) for a in actions]}


def plan_json(plan: dict) -> dict:
    """The light plan ``{"id","steps","version"}`` written into deployment events (1.8+)."""
    for key in ("id", "version", "steps"):
        if key not in plan:
            raise ValueError(f"deployment plan lacks '{key}'")
    return {"id": plan["id"], "steps": [_step(s) for s in plan["steps"]], "version": plan["version"]}


def _current_step(plan: dict, current_step: int | list | dict) -> dict:
    if isinstance(current_step, bool):
        raise ValueError("current_step must be a 1-based step number or a step")
    if isinstance(current_step, int):
        steps = plan["steps"]
        if not 1 <= current_step <= len(steps):
            raise ValueError(f"current_step {current_step} out of range 1..{len(steps)}")
        return _step(steps[current_step - 1])
    return _step(current_step)


def deployment_info(plan: dict, current_step: int | list | dict) -> dict:
    """Step started. ``current_step`` is 1-based like /v2/deployments' currentStep, or the step itself."""
    return _stamp("deployment_info", {"plan": plan_json(plan), "currentStep": _current_step(plan, current_step)})


def deployment_step_success(plan: dict, current_step: int | list | dict) -> dict:
    return _stamp("deployment_step_success", {"plan": plan_json(plan), "currentStep": _current_step(plan, current_step)})


def deployment_step_failure(plan: dict, current_step: int | list | dict) -> dict:
    return _stamp("deployment_step_failure", {"plan": plan_json(plan), "currentStep": _current_step(plan, current_step)})


def deployment_success(plan: dict) -> dict:
    return _stamp("deployment_success", {"id": plan["id"], "plan": plan_json(plan)})


def deployment_failed(plan: dict, reason: str) -> dict:
    return _stamp("deployment_failed", {"id": plan["id"], "plan": plan_json(plan), "reason": reason})


def _default_ip_addresses(host: str) -> list[dict]:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return []
    return [{"ipAddress": str(ip), "protocol": "IPv4" if ip.version == 4 else "IPv6"}]


def status_update(
    *,
    slave_id: str,
    task_id: str,
    task_status: str,
    app_id: str,
    host: str,
    ports: list[int],
    version: str,
    message: str = "",
    ip_addresses: list[dict] | None = None,
) -> dict:
    """``status_update_event``; ``ip_addresses`` default to the agent address when ``host`` is an IP."""
    if not task_status.startswith("TASK_"):
        raise ValueError(f"task_status must be a Mesos state like TASK_RUNNING; got {task_status!r}")
    return _stamp(
        "status_update_event",
        {
            "slaveId": slave_id,
            "taskId": task_id,
            "taskStatus": task_status,
            "message": message,
            "appId": app_id,
            "host": host,
            "ipAddresses": _default_ip_addresses(host) if ip_addresses is None else list(ip_addresses),
            "ports": list(ports),
            "version": version,
        },
    )


def condition_for_state(task_status: str) -> str:
    try:
        return CONDITIONS[task_status]
    except KeyError:
        raise ValueError(f"unknown Mesos task state {task_status!r}") from None


def instance_changed(
    *, instance_id: str, condition: str, run_spec_id: str, agent_id: str, host: str, run_spec_version: str
) -> dict:
    """``instance_changed_event``; ``condition`` is a Marathon condition ("Running") or a Mesos state."""
    if condition in CONDITIONS:
        condition = CONDITIONS[condition]
    if condition not in _VALID_CONDITIONS:
        raise ValueError(f"unknown instance condition {condition!r}")
    return _stamp(
        "instance_changed_event",
        {
            "instanceId": instance_id,
            "condition": condition,
            "runSpecId": run_spec_id,
            "agentId": agent_id,
            "host": host,
            "runSpecVersion": run_spec_version,
        },
    )


def health_status_changed(*, app_id: str, instance_id: str, version: str, alive: bool) -> dict:
    return _stamp(
        "health_status_changed_event",
        {"appId": app_id, "instanceId": instance_id, "version": version, "alive": bool(alive)},
    )


def instance_health_changed(*, instance_id: str, run_spec_id: str, run_spec_version: str, healthy: bool | None) -> dict:
    return _stamp(
        "instance_health_changed_event",
        {"instanceId": instance_id, "runSpecId": run_spec_id, "healthy": healthy, "runSpecVersion": run_spec_version},
    )


def failed_health_check(*, app_id: str, task_id: str, health_check: dict) -> dict:
    """``taskId`` carries the instance id in 1.4+."""
    return _stamp("failed_health_check_event", {"appId": app_id, "healthCheck": health_check, "taskId": task_id})


def unhealthy_instance_kill(
    *, app_id: str, task_id: str, instance_id: str, version: str, reason: str, host: str, slave_id: str
) -> dict:
    return _stamp(
        "unhealthy_instance_kill_event",
        {
            "appId": app_id,
            "taskId": task_id,
            "instanceId": instance_id,
            "version": version,
            "reason": reason,
            "host": host,
            "slaveId": slave_id,
        },
    )


def app_terminated(app_id: str) -> dict:
    return _stamp("app_terminated_event", {"appId": app_id})


def api_post(*, client_ip: str, uri: str, app_definition: dict) -> dict:
    return _stamp("api_post_event", {"clientIp": client_ip, "uri": uri, "appDefinition": app_definition})


def group_change_success(group_id: str, version: str) -> dict:
    return _stamp("group_change_success", {"groupId": group_id, "version": version})


def group_change_failed(group_id: str, version: str, reason: str) -> dict:
    return _stamp("group_change_failed", {"groupId": group_id, "version": version, "reason": reason})


def event_stream_attached(remote_addr: str) -> dict:
    return _stamp("event_stream_attached", {"remoteAddress": remote_addr})


def event_stream_detached(remote_addr: str) -> dict:
    return _stamp("event_stream_detached", {"remoteAddress": remote_addr})
