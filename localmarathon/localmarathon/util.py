"""Small shared helpers: Marathon timestamps, ids, API errors."""

from __future__ import annotations

import datetime as _dt
import threading
import time
import uuid


class ApiError(Exception):
    """An HTTP error answered with Marathon's JSON body (§2)."""

    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(body.get("message") if isinstance(body, dict) else str(body))
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found_app(app_id: str, details: bool = True) -> ApiError:
    # §2: resource helpers add "details": [], exception paths (PATCH, DELETE, restart) do not.
    body = {"message": f"App '{app_id}' does not exist"}
    if details:
        body["details"] = []
    return ApiError(404, body)


def format_ts(epoch: float) -> str:
    """yyyy-MM-dd'T'HH:mm:ss.SSS'Z' in UTC, exactly three fractional digits (§1)."""
    d = _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def parse_ts(text: str) -> float:
    """Any ISO-8601 timestamp with an offset → epoch seconds; ValueError otherwise."""
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    d = _dt.datetime.fromisoformat(t)
    if d.tzinfo is None:
        raise ValueError(text)
    return d.timestamp()


def now_ts() -> str:
    return format_ts(time.time())


class VersionClock:
    """Strictly increasing Marathon timestamps: two changes in the same millisecond must not share a
    version, or /versions/{v} could not tell them apart."""

    def __init__(self):
        self._lock = threading.Lock()
        self._last_ms = 0

    def observe(self, ts: str) -> None:
        try:
            ms = int(round(parse_ts(ts) * 1000))
        except ValueError:
            return
        with self._lock:
            self._last_ms = max(self._last_ms, ms)

    def next(self) -> str:
        with self._lock:
            ms = max(int(time.time() * 1000), self._last_ms + 1)
            self._last_ms = ms
        return format_ts(ms / 1000.0)


def safe_app_id(app_id: str) -> str:
    """'/prod/db' → 'prod_db', the form embedded in task and instance ids (§6.2, §9)."""
    return app_id.strip("/").replace("/", "_")


def new_uuid() -> str:
    return str(uuid.uuid4())


def parse_bool(value: str | None, default: bool = False) -> bool:
    """Jersey's Boolean.valueOf: 'true' in any case is true, anything else false."""
    if value is None:
        return default
    return value.strip().lower() == "true"
