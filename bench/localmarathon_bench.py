"""Figures for localmarathon (not a timed test): prints one JSON object.

    .venv/bin/python bench/localmarathon_bench.py [--gets 200] [--launches 5] [--pg-time-scale 60]

* get_app_ms: latency of GET /v2/apps/{id} (one keep-alive session, app with one running task);
* cmd_post_to_running_s: POST /v2/apps of a `cmd` app → its status_update_event TASK_RUNNING on
  /v2/events, at time scale 1;
* postgres: the DC/OS tutorial app (reference tree) POST → TASK_RUNNING, → PostgreSQL accepting TCP
  connections, → health_status_changed_event alive=true; its health interval is 60 s divided by
  --pg-time-scale. Goal: healthy within PostgreSQL's start plus one scaled interval.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "localmarathon"))
sys.path.insert(0, str(REPO / "localmarathon" / "tests"))  # the test-support package (reference files)

from localmarathon.testing import LocalMarathon  # noqa: E402
from support.reference import reference_dir  # noqa: E402

TUTORIAL = "marathon-api/dcos-docs-site/2.2/tutorials/stateful-services/postgres.marathon.json"


class Events:
    """SSE reader stamping each event with the monotonic time it arrived."""

    def __init__(self, url: str, types: list[str]):
        query = "&".join(f"event_type={t}" for t in types)
        self.q: queue.Queue = queue.Queue()
        self.resp = requests.get(f"{url}/v2/events?{query}", headers={"Accept": "text/event-stream"},
                                 stream=True, timeout=120)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for line in self.resp.iter_lines(chunk_size=1, decode_unicode=True):
                if line.startswith("data: "):
                    self.q.put((time.monotonic(), json.loads(line[6:])))
        except Exception:
            pass

    def wait(self, pred, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                at, data = self.q.get(timeout=0.5)
            except queue.Empty:
                continue
            if pred(data):
                return at
        raise TimeoutError("event not seen")

    def close(self):
        self.resp.close()


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def bench_get_and_cmd(base: Path, gets: int, launches: int) -> dict:
    with LocalMarathon(base / "cmd", time_scale=1.0) as lm:
        s = requests.Session()
        s.post(lm.url + "/v2/apps", json={"id": "/bench/get", "cmd": "sleep 600", "mem": 16}).raise_for_status()
        while s.get(lm.url + "/v2/apps/bench/get").json()["app"]["tasksRunning"] != 1:
            time.sleep(0.02)
        for _ in range(20):  # warm-up
            s.get(lm.url + "/v2/apps/bench/get")
        lat = []
        for _ in range(gets):
            t0 = time.perf_counter()
            r = s.get(lm.url + "/v2/apps/bench/get")
            lat.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
        ev = Events(lm.url, ["status_update_event"])
        time.sleep(0.2)
        starts = []
        for i in range(launches):
            app_id = f"/bench/cmd{i}"
            t0 = time.monotonic()
            s.post(lm.url + "/v2/apps", json={"id": app_id, "cmd": "sleep 600", "mem": 16}).raise_for_status()
            at = ev.wait(lambda d, a=app_id: d.get("appId") == a and d.get("taskStatus") == "TASK_RUNNING", 30)
            starts.append(at - t0)
        ev.close()
    return {
        "get_app_ms": {"n": gets, "p50": round(pct(lat, 0.5), 3), "p95": round(pct(lat, 0.95), 3),
                       "max": round(max(lat), 3)},
        "cmd_post_to_running_s": {"n": launches, "median": round(statistics.median(starts), 4),
                                  "max": round(max(starts), 4)},
    }


def bench_postgres(base: Path, time_scale: float) -> dict:
    path = reference_dir() / TUTORIAL
    if not path.exists():
        return {"skipped": f"{path} not found"}
    app = json.loads(path.read_text())
    with LocalMarathon(base / "pg", time_scale=time_scale) as lm:
        ev = Events(lm.url, ["status_update_event", "health_status_changed_event"])
        time.sleep(0.2)
        t0 = time.monotonic()
        requests.post(lm.url + "/v2/apps", json=app).raise_for_status()
        running = ev.wait(lambda d: d.get("taskStatus") == "TASK_RUNNING")
        port = None
        while port is None:
            tasks = requests.get(lm.url + "/v2/apps/postgres/tasks").json()["tasks"]
            port = tasks[0]["ports"][0] if tasks and tasks[0]["ports"] else None
        accepting = None
        while accepting is None and time.monotonic() - t0 < 120:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                accepting = time.monotonic()
            except OSError:
                time.sleep(0.01)
        healthy = ev.wait(lambda d: d.get("eventType") == "health_status_changed_event" and d.get("alive"))
        ev.close()
    interval = app["healthChecks"][0]["intervalSeconds"] / time_scale
    return {
        "time_scale": time_scale, "health_interval_s": interval,
        "post_to_running_s": round(running - t0, 3),
        "post_to_accepting_s": round(accepting - t0, 3) if accepting else None,
        "post_to_healthy_s": round(healthy - t0, 3),
        "within_goal": bool(accepting) and healthy - t0 <= (accepting - t0) + interval + 0.1,
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--gets", type=int, default=200)
    p.add_argument("--launches", type=int, default=5)
    p.add_argument("--pg-time-scale", type=float, default=60.0)
    args = p.parse_args()
    base = Path(tempfile.mkdtemp(prefix="lm-bench-"))
    os.chmod(base, 0o755)  # the postgres task user must reach its data dir
    try:
        out = bench_get_and_cmd(base, args.gets, args.launches)
        out["postgres"] = bench_postgres(base, args.pg_time_scale)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
