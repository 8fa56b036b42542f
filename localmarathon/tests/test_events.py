"""Tests of localmarathon.events: fan-out, filters, slow consumers, SSE framing, payload shapes."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time

import pytest
import requests

from localmarathon import events as ev
from localmarathon.events import EventBus, SubscriptionClosed, sse_frame
from localmarathon.testing import wait_for
from localmarathon.timestamps import format_timestamp

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

PLAN = {
    "id": "5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43",
    "version": "2026-01-02T03:04:05.678Z",
    "steps": [
        [{"action": "StartApplication", "app": "/db"}],
        {"actions": [{"action": "ScaleApplication", "app": "/db"}]},
    ],
    "affectedApps": ["/db"],  # server-side extras are not written into events
    "currentStep": 1,
}
LIGHT_PLAN = {
    "id": PLAN["id"],
    "steps": [
        {"actions": [{"action": "StartApplication", "app": "/db"}]},
        {"actions": [{"action": "ScaleApplication", "app": "/db"}]},
    ],
    "version": PLAN["version"],
}


def test_timestamp_format():
    assert format_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert format_timestamp(1700000000.1239) == "2023-11-14T22:13:20.123Z"
    assert TS_RE.match(format_timestamp())


def test_sse_frame_exact_bytes():
    payload = {"remoteAddress": "127.0.0.1", "eventType": "event_stream_attached", "timestamp": "2026-01-01T00:00:00.000Z"}
    assert sse_frame(payload) == (
        b'event: event_stream_attached\n'
        b'data: {"remoteAddress":"127.0.0.1","eventType":"event_stream_attached","timestamp":"2026-01-01T00:00:00.000Z"}\n\n'
    )


def test_sse_frame_escapes_newlines_and_keeps_utf8():
    bus = EventBus()
    event = bus.publish("status_update_event", {"message": "line1\nline2 \u00e9"})
    frame = sse_frame(event)
    assert frame.count(b"\n") == 3  # event line, data line, blank line
    assert "\u00e9".encode() in frame
    assert json.loads(frame.split(b"data: ", 1)[1])["message"] == "line1\nline2 \u00e9"


def test_fan_out_and_filters():
    bus = EventBus()
    everything = bus.subscribe(None)
    only_deploy = bus.subscribe({"deployment_success", "deployment_failed"})
    bus.publish("status_update_event", {"taskId": "t1"})
    bus.publish("deployment_success", ev.deployment_success(PLAN))
    assert everything.get(0.1).event_type == "status_update_event"
    assert everything.get(0.1).event_type == "deployment_success"
    assert only_deploy.get(0.1).event_type == "deployment_success"
    assert only_deploy.get(0.05) is None
    assert everything.get(0.05) is None


def test_publish_adds_event_type_and_timestamp_and_checks_consistency():
    bus = EventBus()
    event = bus.publish("app_terminated_event", {"appId": "/x"})
    assert event.payload["eventType"] == "app_terminated_event"
    assert TS_RE.match(event.payload["timestamp"])
    with pytest.raises(ValueError, match="differs"):
        bus.publish("deployment_success", ev.app_terminated("/x"))
    with pytest.raises(ValueError, match="event_type"):
        bus.publish("", {})


def test_slow_consumer_is_dropped_others_keep_going():
    bus = EventBus(queue_size=3)
    slow = bus.subscribe(None)
    fast = bus.subscribe(None)
    got = []
    for i in range(5):
        bus.publish("status_update_event", {"n": i})
        got.append(fast.get(0.1).payload["n"])
    assert got == [0, 1, 2, 3, 4]
    assert slow.dropped and slow.closed
    with pytest.raises(SubscriptionClosed, match="too slow"):
        slow.get(0.1)
    assert bus.subscriber_count == 1


def test_close_wakes_a_blocked_reader():
    bus = EventBus()
    sub = bus.subscribe(None)
    outcome = []

    def reader():
        try:
            sub.get(timeout=5)
            outcome.append("event")
        except SubscriptionClosed:
            outcome.append("closed")

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.05)  # most likely blocked in get() by now; if not, get() sees the close at once
    sub.close()
    t.join(10)
    # Not woken, the reader would have returned from its 5 s wait with no event ("event").
    assert outcome == ["closed"]
    assert bus.subscriber_count == 0


def test_attach_sends_attached_first_and_detached_on_close():
    bus = EventBus()
    watcher = bus.subscribe({"event_stream_detached"})
    sub = bus.attach("127.0.0.1", None)
    first = sub.get(0.1)
    assert first.event_type == "event_stream_attached"
    assert first.payload["remoteAddress"] == "127.0.0.1"
    sub.close()
    sub.close()  # idempotent: detached published once
    assert watcher.get(0.1).payload == {
        "remoteAddress": "127.0.0.1", "eventType": "event_stream_detached",
        "timestamp": watcher_ts(bus),
    }
    assert watcher.get(0.05) is None


def watcher_ts(bus):
    return bus.recent("event_stream_detached")[-1].payload["timestamp"]


def test_filtered_attach_does_not_see_attached_event():
    bus = EventBus()
    sub = bus.attach("127.0.0.1", {"deployment_success"})
    assert sub.get(0.05) is None


def test_recent_ring_buffer_with_times():
    bus = EventBus(history=3)
    t0_wall, t0_mono = time.time(), time.monotonic()
    for i in range(5):
        bus.publish("deployment_info" if i % 2 else "status_update_event", {"n": i})
    recent = bus.recent()
    assert [e.payload["n"] for e in recent] == [2, 3, 4]
    assert [e.payload["n"] for e in bus.recent("deployment_info")] == [3]
    assert all(e.monotonic >= t0_mono and e.wall >= t0_wall - 0.001 for e in recent)
    assert [e.seq for e in recent] == sorted(e.seq for e in recent)


def test_concurrent_publishers_deliver_everything_once():
    bus = EventBus(queue_size=10000)
    sub = bus.subscribe(None)

    def publisher(k):
        for i in range(200):
            bus.publish("status_update_event", {"k": k, "i": i})

    threads = [threading.Thread(target=publisher, args=(k,)) for k in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = set()
    while (e := sub.get(0.01)) is not None:
        seen.add((e.payload["k"], e.payload["i"]))
    assert len(seen) == 1000


# -- payload shapes -------------------------------------------------------------------------------


def _assert_common(payload, event_type):
    assert payload["eventType"] == event_type
    assert TS_RE.match(payload["timestamp"])


def test_deployment_event_shapes():
    info = ev.deployment_info(PLAN, 2)
    _assert_common(info, "deployment_info")
    assert info["plan"] == LIGHT_PLAN
    assert info["currentStep"] == {"actions": [{"action": "ScaleApplication", "app": "/db"}]}
    assert set(info) == {"plan", "currentStep", "eventType", "timestamp"}

    step_ok = ev.deployment_step_success(PLAN, 1)
    _assert_common(step_ok, "deployment_step_success")
    assert step_ok["currentStep"]["actions"][0]["action"] == "StartApplication"
    _assert_common(ev.deployment_step_failure(PLAN, [{"action": "StopApplication", "app": "/db"}]), "deployment_step_failure")

    ok = ev.deployment_success(PLAN)
    _assert_common(ok, "deployment_success")
    assert set(ok) == {"id", "plan", "eventType", "timestamp"} and ok["id"] == PLAN["id"]
    assert ok["plan"] == LIGHT_PLAN

    failed = ev.deployment_failed(PLAN, "Deployment was cancelled")
    assert set(failed) == {"id", "plan", "reason", "eventType", "timestamp"}
    assert failed["reason"] == "Deployment was cancelled"


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "x", "version": "v"},
        {"id": "x", "version": "v", "steps": [[{"action": "Explode", "app": "/a"}]]},
        {"id": "x", "version": "v", "steps": [[{"action": "StartApplication"}]]},
        {"id": "x", "version": "v", "steps": ["StartApplication"]},
    ],
)
def test_bad_plans_are_rejected_clearly(bad):
    with pytest.raises(ValueError):
        ev.deployment_success(bad)


def test_current_step_out_of_range():
    with pytest.raises(ValueError, match="out of range"):
        ev.deployment_info(PLAN, 3)
    with pytest.raises(ValueError, match="out of range"):
        ev.deployment_info(PLAN, 0)


def test_status_update_shape():
    p = ev.status_update(
        slave_id="f-S0", task_id="db.instance-1._app.1", task_status="TASK_RUNNING", app_id="/db",
        host="127.0.0.1", ports=[31000], version="2026-01-02T03:04:05.678Z",
    )
    _assert_common(p, "status_update_event")
    assert list(p) == [
        "slaveId", "taskId", "taskStatus", "message", "appId", "host", "ipAddresses", "ports", "version",
        "eventType", "timestamp",
    ]
    assert p["ipAddresses"] == [{"ipAddress": "127.0.0.1", "protocol": "IPv4"}]
    assert p["message"] == ""
    assert ev.status_update(
        slave_id="s", task_id="t", task_status="TASK_FAILED", app_id="/a", host="agent1",
        ports=[], version="v", message="boom",
    )["ipAddresses"] == []
    with pytest.raises(ValueError, match="Mesos state"):
        ev.status_update(slave_id="s", task_id="t", task_status="RUNNING", app_id="/a", host="h", ports=[], version="v")


def test_instance_changed_shape_and_condition_mapping():
    p = ev.instance_changed(
        instance_id="db.instance-1", condition="TASK_RUNNING", run_spec_id="/db", agent_id="f-S0",
        host="127.0.0.1", run_spec_version="v1",
    )
    _assert_common(p, "instance_changed_event")
    assert p["condition"] == "Running"
    assert set(p) == {"instanceId", "condition", "runSpecId", "agentId", "host", "runSpecVersion", "eventType", "timestamp"}
    assert ev.condition_for_state("TASK_KILLED") == "Killed"
    with pytest.raises(ValueError):
        ev.instance_changed(instance_id="i", condition="Sleeping", run_spec_id="/a", agent_id="a", host="h", run_spec_version="v")
    with pytest.raises(ValueError):
        ev.condition_for_state("TASK_NAPPING")


def test_health_and_misc_shapes():
    h = ev.health_status_changed(app_id="/db", instance_id="db.instance-1", version="v", alive=False)
    _assert_common(h, "health_status_changed_event")
    assert {k: h[k] for k in ("appId", "instanceId", "version", "alive")} == {
        "appId": "/db", "instanceId": "db.instance-1", "version": "v", "alive": False,
    }
    ih = ev.instance_health_changed(instance_id="i", run_spec_id="/db", run_spec_version="v", healthy=None)
    _assert_common(ih, "instance_health_changed_event")
    assert ih["healthy"] is None and set(ih) == {"instanceId", "runSpecId", "healthy", "runSpecVersion", "eventType", "timestamp"}

    f = ev.failed_health_check(app_id="/db", task_id="i", health_check={"protocol": "TCP"})
    assert set(f) == {"appId", "healthCheck", "taskId", "eventType", "timestamp"}
    k = ev.unhealthy_instance_kill(app_id="/db", task_id="t", instance_id="i", version="v", reason="r", host="h", slave_id="s")
    _assert_common(k, "unhealthy_instance_kill_event")

    assert set(ev.app_terminated("/db")) == {"appId", "eventType", "timestamp"}
    post = ev.api_post(client_ip="127.0.0.1", uri="/v2/apps", app_definition={"id": "/db"})
    assert set(post) == {"clientIp", "uri", "appDefinition", "eventType", "timestamp"}
    g = ev.group_change_success("/", "v")
    assert (g["groupId"], g["version"], g["eventType"]) == ("/", "v", "group_change_success")
    gf = ev.group_change_failed("/", "v", "conflict")
    assert gf["reason"] == "conflict" and gf["eventType"] == "group_change_failed"
    a = ev.event_stream_attached("127.0.0.1")
    assert set(a) == {"remoteAddress", "eventType", "timestamp"}


def test_405_page():
    status, headers, body = ev.not_acceptable_response("/v2/events")
    assert status == 405 and headers["Content-Type"].startswith("text/html")
    assert b"HTTP ERROR 405" in body and b"Problem accessing /v2/events." in body


# -- over real HTTP -------------------------------------------------------------------------------


def _raw_lines(response):
    """Lines as they arrive (requests' iter_lines buffers and mangles empty lines with a delimiter)."""
    buf = b""
    while True:
        byte = response.raw.read(1)
        if not byte:
            return
        if byte == b"\n":
            yield buf
            buf = b""
        else:
            buf += byte


def _parse_sse(lines):
    """Minimal SSE client: yields (event, data) per blank-line-terminated block."""
    event, data = None, []
    for raw in lines:
        line = raw.decode("utf-8").rstrip("\r")
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = None, []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))


def test_stream_over_real_http():
    bus = EventBus()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            if "text/event-stream" not in self.headers.get("Accept", ""):
                status, headers, body = ev.not_acceptable_response(self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
                return
            types = {p.split("=", 1)[1] for p in self.path.partition("?")[2].split("&") if p.startswith("event_type=")}
            sub = bus.attach(self.client_address[0], types or None)
            self.send_response(200)
            self.send_header("Content-Type", ev.SSE_CONTENT_TYPE)
            self.end_headers()
            try:
                while True:
                    event = sub.get(timeout=0.2)
                    self.wfile.write(ev.SSE_HEARTBEAT if event is None else sse_frame(event))
                    self.wfile.flush()
            except (SubscriptionClosed, OSError):
                pass
            finally:
                sub.close()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert requests.get(base + "/v2/events", timeout=5).status_code == 405
        with requests.get(base + "/v2/events", headers={"Accept": "text/event-stream"}, stream=True, timeout=5) as r:
            assert r.headers["Content-Type"] == ev.SSE_CONTENT_TYPE
            frames = _parse_sse(_raw_lines(r))
            name, data = next(frames)
            assert name == "event_stream_attached"
            assert json.loads(data)["remoteAddress"] == "127.0.0.1"
            bus.publish("deployment_success", ev.deployment_success(PLAN))
            name, data = next(frames)
            assert name == "deployment_success" and json.loads(data)["plan"] == LIGHT_PLAN
        with requests.get(
            base + "/v2/events?event_type=app_terminated_event", headers={"Accept": "text/event-stream"},
            stream=True, timeout=5,
        ) as r:
            frames = _parse_sse(_raw_lines(r))
            # attach() publishes after subscribing: the second attached event means we are subscribed.
            wait_for(lambda: len(bus.recent("event_stream_attached")) >= 2, 10, "the second stream to attach")
            bus.publish("status_update_event", {"taskId": "ignored"})
            bus.publish("app_terminated_event", ev.app_terminated("/db"))
            name, data = next(frames)
            assert name == "app_terminated_event" and json.loads(data)["appId"] == "/db"
    finally:
        server.shutdown()
        server.server_close()
