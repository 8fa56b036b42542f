"""Marathon timestamps: ``yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`` in UTC, and the ISO-8601 texts clients send."""

from __future__ import annotations

import datetime as _dt
import threading
import time

from .errors import ApiError


def format_timestamp(epoch: float | None = None) -> str:
    """Epoch seconds (default: now) in UTC with exactly three fractional digits."""
    if epoch is None:
        epoch = time.time()
    d = _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def parse_timestamp(text) -> float:
    """Any ISO-8601 date-time with an offset → epoch seconds; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(text)
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    d = _dt.datetime.fromisoformat(t)
    if d.tzinfo is None:
        raise ValueError(text)
    return d.timestamp()


def parse_api_timestamp(text) -> float:
    """parse_timestamp for a timestamp of a request: 422 with Marathon's text when it is not one."""
    try:
        return parse_timestamp(text)
    except ValueError:
        raise ApiError(422, {"message": f"Invalid timestamp provided '{text}'. "
                                        "Expecting ISO-8601 datetime string."}) from None


class VersionClock:
    """Strictly increasing Marathon timestamps: two changes in the same millisecond must not share a
    version, or /versions/{v} could not tell them apart."""

    def __init__(self):
        self._lock = threading.Lock()
        self._last_ms = 0

    def observe(self, ts: str) -> None:
        try:
            ms = int(round(parse_timestamp(ts) * 1000))
        except ValueError:
            return
        with self._lock:
            self._last_ms = max(self._last_ms, ms)

    def next(self) -> str:
        with self._lock:
            ms = max(int(time.time() * 1000), self._last_ms + 1)
            self._last_ms = ms
        return format_timestamp(ms / 1000.0)
