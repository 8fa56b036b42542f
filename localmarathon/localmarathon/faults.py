"""Fault injection for localmarathon (admin API ``/_localmarathon/faults``).

Interface used by the server:

* ``FaultInjector()``; ``add(spec) -> Fault`` validates ``spec`` (``ValueError`` naming the field) and
  activates it; ``clear()``; ``remove(fault_id) -> bool``; ``list() -> list[dict]`` (active faults with
  remaining counts, JSON-ready).
* ``before_request(method, path) -> Fault | None`` -- call once per non-admin request (path without the
  query string). Consumes one count of the first matching counted fault, thread-safely. The returned
  fault tells the server what to do:
  - ``kind == "status"`` or ``"leader_change"``: answer ``fault.response(path)`` = (status, headers, body)
    instead of handling the request;
  - ``kind == "drop"``: close the connection without writing anything;
  - ``kind == "delay"``: sleep ``fault.seconds``, then handle the request normally.
  ``fault.label`` is the short string for the ``fault`` column of requests.jsonl.
* Queries: ``deployment_stalled(app_id) -> bool``, ``app_unhealthy(app_id) -> bool``,
  ``leader_unknown() -> bool``.
* Callbacks the server registers with ``register_callback(kind, fn)``; ``add`` calls ``fn(fault)``
  synchronously and fails with ``ValueError`` if none is registered:
  - ``kill_task`` (spec ``task_id``, optional ``wipe``): kill that task as Mesos would (task lost/killed);
    ``fn`` may raise ``LookupError`` for an unknown task, which ``add`` re-raises as ``ValueError``;
  - ``leader_change``: a new leader is elected; ``fn`` should give /v2/leader and /v2/info a new leader id.
    For ``duration`` seconds (default 1.0) after the call ``before_request`` answers every request with
    502 "Could not determine the current leader" (the election gap), like Marathon's LeaderProxyFilter;
  - ``expire_tokens``: e.g. ``Authenticator.expire_all``.
  Extra: ``on_change(fn)`` registers ``fn(action, fault)`` with action "added"/"removed" for every fault,
  so the server can push ``unhealthy``/``stall_deployment`` state to running monitors.

Spec kinds (JSON):
  {"kind":"status","status":502|503|500|504,"count":N=1,"method":"GET","path":"^/v2/apps","message":"..."}
  {"kind":"drop","count":N=1, "method", "path"}
  {"kind":"delay","seconds":S,"count":N=1, "method", "path"}
  {"kind":"stall_deployment","app_id":"/x"}   (deployments touching /x never finish until cleared)
  {"kind":"unhealthy","app_id":"/x"}          (health checks of /x fail until cleared)
  {"kind":"kill_task","task_id":"...","wipe":false}
  {"kind":"leader_change","duration":1.0}
  {"kind":"expire_tokens"}
Counted faults without a ``path`` do not touch the DC/OS login path ``/acs/...`` (Admin Router serves
it, not Marathon); give ``path`` explicitly to target it. Admin paths (``/_localmarathon``) are never
affected.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

ADMIN_PREFIX = "/_localmarathon"
KINDS = (
    "status", "drop", "delay", "stall_deployment", "unhealthy", "kill_task", "leader_change", "expire_tokens",
)
COUNTED = ("status", "drop", "delay")
ONE_SHOT = ("kill_task", "leader_change", "expire_tokens")
STATUSES = (500, 502, 503, 504)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
LEADER_UNKNOWN = "Could not determine the current leader"
DEFAULT_LEADER_GAP_SECONDS = 1.0

# Allowed spec fields per kind; anything else is rejected so typos do not silently widen a fault.
_FIELDS = {
    "status": {"status", "count", "method", "path", "message"},
    "drop": {"count", "method", "path"},
    "delay": {"seconds", "count", "method", "path"},
    "stall_deployment": {"app_id"},
    "unhealthy": {"app_id"},
    "kill_task": {"task_id", "wipe"},
    "leader_change": {"duration"},
    "expire_tokens": set(),
}


def jetty_error_page(status: int, reason: str, path: str) -> bytes:
    """Jetty 9's default error page, which is what Marathon's servlet filters produce."""
    esc = _html_escape
    return (
        "<html>\n<head>\n"
        '<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>\n'
        f"<title>Error {status} {esc(reason)}</title>\n"
        "</head>\n"
        f"<body><h2>HTTP ERROR {status}</h2>\n"
        f"<p>Problem accessing {esc(path)}. Reason:\n"
        f"<pre>    {esc(reason)}</pre></p>\n"
        "</body>\n</html>\n"
    ).encode("latin-1", "replace")


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _nginx_page(status: int, reason: str) -> bytes:
    # 504 never comes from Marathon itself; on DC/OS it is Admin Router (nginx) timing out upstream.
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n"
        f"<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n"
        "<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


# Marathon maps a TimeoutException to 503 {"message": e.getMessage}; Await's text is this.
_DEFAULT_MESSAGES = {
    503: "Futures timed out after [10 seconds]",
    500: "Internal server error",
}


def status_response(status: int, path: str, message: str | None = None):
    """(status, headers, body) as Marathon (or Admin Router for 504) would send it."""
    if status == 502:
        return 502, {"Content-Type": "text/html;charset=iso-8859-1"}, jetty_error_page(502, message or LEADER_UNKNOWN, path)
    if status == 504:
        return 504, {"Content-Type": "text/html"}, _nginx_page(504, "Gateway Time-out")
    body = {"message": message or _DEFAULT_MESSAGES.get(status, "Error")}
    # Jackson writes compact JSON.
    return status, {"Content-Type": "application/json"}, json.dumps(body, separators=(",", ":")).encode()


@dataclass
class Fault:
    id: int
    kind: str
    spec: dict
    remaining: int | None = None  # counted kinds
    seconds: float = 0.0  # delay
    status: int | None = None
    method: str | None = None
    path_re: re.Pattern | None = None
    app_id: str | None = None
    until: float | None = None  # leader_change window end (monotonic)
    created: float = field(default_factory=time.time)

    @property
    def label(self) -> str:
        if self.kind == "status":
            return f"status:{self.status}"
        if self.kind == "delay":
            return f"delay:{self.seconds:g}s"
        if self.kind in ("stall_deployment", "unhealthy"):
            return f"{self.kind}:{self.app_id}"
        return self.kind

    def response(self, path: str, no_leader_status: int = 502):
        """``no_leader_status``: 502 (Marathon 1.7+) or 503 (before), the same Jetty page."""
        if self.kind == "leader_change":
            if no_leader_status != 502:
                return (no_leader_status, {"Content-Type": "text/html;charset=iso-8859-1"},
                        jetty_error_page(no_leader_status, LEADER_UNKNOWN, path))
            return status_response(502, path)
        if self.kind == "status":
            return status_response(self.status, path, self.spec.get("message"))
        raise ValueError(f"fault kind {self.kind!r} has no HTTP response")

    def to_dict(self) -> dict:
        out = {"id": self.id, **self.spec, "kind": self.kind}
        if self.remaining is not None:
            out["remaining"] = self.remaining
        if self.until is not None:
            out["remaining_seconds"] = round(max(0.0, self.until - time.monotonic()), 3)
        out["label"] = self.label
        return out

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and method.upper() != self.method:
            return False
        if self.path_re is not None:
            return self.path_re.search(path) is not None
        return not path.startswith("/acs/")


def _canonical_app_id(raw: str) -> str:
    parts = [p for p in raw.strip().split("/") if p]
    return "/" + "/".join(parts)


def _number(spec: dict, name: str, *, minimum: float, maximum: float, integer: bool, default=None):
    if name not in spec:
        if default is None:
            raise ValueError(f"fault field '{name}' is required for kind {spec['kind']!r}")
        return default
    value = spec[name]
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise ValueError(f"fault field '{name}': expected {kind}, got {json.dumps(value)}")
    if not minimum <= value <= maximum:
        raise ValueError(f"fault field '{name}': must be between {minimum:g} and {maximum:g}, got {value}")
    return value


def _string(spec: dict, name: str) -> str:
    value = spec.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"fault field '{name}' is required for kind {spec['kind']!r} and must be a non-empty string")
    return value.strip()


def parse_spec(spec: Any, fault_id: int = 0) -> Fault:
    """Validate a fault spec and build the Fault (no side effects)."""
    if not isinstance(spec, dict):
        raise ValueError("fault spec must be a JSON object with a 'kind' field")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"fault field 'kind': expected one of {', '.join(KINDS)}; got {json.dumps(kind)}")
    unknown = set(spec) - _FIELDS[kind] - {"kind"}
    if unknown:
        raise ValueError(
            f"fault field(s) {', '.join(sorted(unknown))} not allowed for kind {kind!r}"
            f" (allowed: {', '.join(sorted(_FIELDS[kind])) or 'none'})"
        )
    fault = Fault(id=fault_id, kind=kind, spec=dict(spec))

    if kind in COUNTED:
        fault.remaining = _number(spec, "count", minimum=1, maximum=1_000_000, integer=True, default=1)
        if "method" in spec:
            method = spec["method"]
            if not isinstance(method, str) or method.upper() not in METHODS:
                raise ValueError(f"fault field 'method': expected one of {', '.join(METHODS)}; got {json.dumps(method)}")
            fault.method = method.upper()
        if "path" in spec:
            pattern = spec["path"]
            if not isinstance(pattern, str):
                raise ValueError("fault field 'path': expected a regular expression string")
            try:
                fault.path_re = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"fault field 'path': invalid regular expression ({exc})") from None
    if kind == "status":
        status = spec.get("status")
        if isinstance(status, bool) or status not in STATUSES:
            raise ValueError(f"fault field 'status': expected one of {', '.join(map(str, STATUSES))}; got {json.dumps(status)}")
        fault.status = status
        if "message" in spec and not isinstance(spec["message"], str):
            raise ValueError("fault field 'message': expected a string")
    elif kind == "delay":
        fault.seconds = float(_number(spec, "seconds", minimum=0, maximum=600, integer=False))
    elif kind in ("stall_deployment", "unhealthy"):
        fault.app_id = _canonical_app_id(_string(spec, "app_id"))
        if fault.app_id == "/":
            raise ValueError("fault field 'app_id': must name an app, got '/'")
        fault.spec["app_id"] = fault.app_id
    elif kind == "kill_task":
        _string(spec, "task_id")
        if "wipe" in spec and not isinstance(spec["wipe"], bool):
            raise ValueError("fault field 'wipe': expected true or false")
    elif kind == "leader_change":
        fault.spec["duration"] = float(
            _number(spec, "duration", minimum=0, maximum=120, integer=False, default=DEFAULT_LEADER_GAP_SECONDS)
        )
    return fault


class FaultInjector:
    """Active faults; every method is thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._callbacks: dict[str, Callable[[Fault], Any]] = {}
        self._listeners: list[Callable[[str, Fault], Any]] = []

    def register_callback(self, kind: str, fn: Callable[[Fault], Any]) -> None:
        if kind not in ONE_SHOT:
            raise ValueError(f"callbacks exist only for {', '.join(ONE_SHOT)}; got {kind!r}")
        self._callbacks[kind] = fn

    def on_change(self, fn: Callable[[str, Fault], Any]) -> None:
        self._listeners.append(fn)

    def _notify(self, action: str, faults: list[Fault]) -> None:
        for fault in faults:
            for fn in list(self._listeners):
                fn(action, fault)

    def add(self, spec: dict) -> Fault:
        fault = parse_spec(spec, next(self._ids))
        if fault.kind in ONE_SHOT:
            fn = self._callbacks.get(fault.kind)
            if fn is None:
                raise ValueError(f"fault kind {fault.kind!r} is not available on this server")
            if fault.kind == "leader_change":
                # Open the election gap before the callback so no request sees the new leader early.
                fault.until = time.monotonic() + fault.spec["duration"]
                with self._lock:
                    self._faults.append(fault)
            try:
                fn(fault)
            except Exception as exc:
                if fault.kind == "leader_change":
                    with self._lock:
                        self._faults = [f for f in self._faults if f is not fault]
                if isinstance(exc, LookupError) and fault.kind == "kill_task":
                    raise ValueError(f"fault field 'task_id': unknown task {fault.spec['task_id']!r}") from None
                if isinstance(exc, LookupError):
                    raise ValueError(str(exc)) from None
                raise
            self._notify("added", [fault])
            return fault
        with self._lock:
            self._faults.append(fault)
        self._notify("added", [fault])
        return fault

    def clear(self) -> int:
        with self._lock:
            removed, self._faults = self._faults, []
        self._notify("removed", removed)
        return len(removed)

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            found = [f for f in self._faults if f.id == fault_id]
            self._faults = [f for f in self._faults if f.id != fault_id]
        self._notify("removed", found)
        return bool(found)

    def _expire_locked(self, now: float) -> list[Fault]:
        gone = [f for f in self._faults if (f.until is not None and f.until <= now) or f.remaining == 0]
        if gone:
            self._faults = [f for f in self._faults if f not in gone]
        return gone

    def list(self) -> list[dict]:
        with self._lock:
            gone = self._expire_locked(time.monotonic())
            out = [f.to_dict() for f in self._faults]
        self._notify("removed", gone)
        return out

    def before_request(self, method: str, path: str) -> Fault | None:
        if path.startswith(ADMIN_PREFIX):
            return None
        hit = None
        with self._lock:
            gone = self._expire_locked(time.monotonic())
            for fault in self._faults:
                if fault.kind == "leader_change" and not path.startswith("/acs/"):
                    hit = fault
                    break
            if hit is None:
                for fault in self._faults:
                    if fault.kind in COUNTED and fault.remaining > 0 and fault.matches(method, path):
                        fault.remaining -= 1
                        hit = fault
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                            gone.append(fault)
                        break
        self._notify("removed", gone)
        return hit

    def _active(self, kind: str, app_id: str) -> bool:
        wanted = _canonical_app_id(app_id)
        with self._lock:
            return any(f.kind == kind and f.app_id == wanted for f in self._faults)

    def deployment_stalled(self, app_id: str) -> bool:
        return self._active("stall_deployment", app_id)

    def app_unhealthy(self, app_id: str) -> bool:
        return self._active("unhealthy", app_id)

    def leader_unknown(self) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(f.kind == "leader_change" and f.until is not None and f.until > now for f in self._faults)
