"""Health checks against real sockets, HTTP(S) servers and commands."""

from __future__ import annotations

import datetime as dt
import http.server
import os
import re
import socket
import ssl
import threading
import time
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from localmarathon.health import FORCED_FAILURE_CAUSE, HealthMonitor
from localmarathon.timestamps import format_timestamp
from localmarathon.testing import wait_for

SCALE = 20.0  # 1 s of configuration = 50 ms
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.paths.append(self.path)
        body = b"ok"
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class WebServer:
    def __init__(self, tls_context=None):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.status = 200
        self.httpd.paths = []
        if tls_context is not None:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def status(self):
        return self.httpd.status

    @status.setter
    def status(self, value):
        self.httpd.status = value

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def web():
    server = WebServer()
    yield server
    server.close()


@pytest.fixture
def tls_web(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not-this-host.example")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = WebServer(ctx)
    yield server
    server.close()


@pytest.fixture
def closed_port():
    """A port that refuses connections for the whole test: bound but not listening. (A port-0 number,
    closed and reused, may meanwhile be bound by anyone.)"""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


class Collector:
    def __init__(self):
        self.results = []
        self.kills = []
        self.cond = threading.Condition()

    def on_result(self, result):
        with self.cond:
            self.results.append((time.monotonic(), result))
            self.cond.notify_all()

    def on_kill(self):
        with self.cond:
            self.kills.append((time.monotonic(), self.results[-1][1] if self.results else None))
            self.cond.notify_all()

    def wait_for(self, predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for _, r in self.results:
                    if predicate(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching result; got {[r for _, r in self.results]}")
                self.cond.wait(left)


monitors = []


@pytest.fixture(autouse=True)
def stop_monitors():
    yield
    while monitors:
        monitors.pop().stop()


def monitor(check, ports, collector, scale=SCALE, **info):
    task_info = {"instance_id": "app.instance-1", "host": "127.0.0.1", "ports": ports, **info}
    m = HealthMonitor(check, task_info, scale, on_result=collector.on_result, on_kill_needed=collector.on_kill)
    monitors.append(m)
    m.start()
    return m


# -------------------------------------------------------------------------------------------------


def test_http_healthy_result_has_marathons_shape(web):
    c = Collector()
    monitor({"protocol": "HTTP", "path": "/health", "portIndex": 0, "gracePeriodSeconds": 300,
             "intervalSeconds": 1, "timeoutSeconds": 1}, [web.port], c)
    r = c.wait_for(lambda r: r["alive"])
    assert list(r) == ["alive", "consecutiveFailures", "firstSuccess", "lastSuccess", "instanceId"]
    assert r["consecutiveFailures"] == 0 and r["instanceId"] == "app.instance-1"
    assert TS.match(r["firstSuccess"]) and TS.match(r["lastSuccess"])
    assert web.httpd.paths[0] == "/health"


def test_http_failures_after_grace_kill_when_exceeding_max(web):
    web.status = 503
    c = Collector()
    monitor({"protocol": "HTTP", "gracePeriodSeconds": 0, "intervalSeconds": 1, "maxConsecutiveFailures": 2},
            [web.port], c)
    r = c.wait_for(lambda r: r["consecutiveFailures"] >= 3)
    assert r["alive"] is False
    assert r["lastFailureCause"] == "503 Service Unavailable"
    assert TS.match(r["lastFailure"]) and "lastSuccess" not in r
    with c.cond:
        counts = [res["consecutiveFailures"] for _, res in c.results]
        assert counts[:3] == [1, 2, 3]
        # Marathon kills when a failure arrives with consecutiveFailures already at the maximum
        assert len(c.kills) == 1 and c.kills[0][1]["consecutiveFailures"] == 3
    time.sleep(0.2)
    assert len(c.kills) == 1  # asked once only


def test_http_failures_in_grace_store_an_empty_unhealthy_entry(web):
    web.status = 500
    c = Collector()
    monitor({"protocol": "HTTP", "gracePeriodSeconds": 300, "intervalSeconds": 1, "maxConsecutiveFailures": 1},
            [web.port], c)
    wait_for(lambda: len(c.results) >= 3, 10, "three results")
    for _, r in c.results:
        assert r == {"alive": False, "consecutiveFailures": 0, "instanceId": "app.instance-1"}
    assert c.kills == []


def test_grace_ends_with_the_first_success(web):
    c = Collector()
    monitor({"protocol": "HTTP", "gracePeriodSeconds": 300, "intervalSeconds": 1, "maxConsecutiveFailures": 1},
            [web.port], c)
    c.wait_for(lambda r: r["alive"])
    web.status = 404
    r = c.wait_for(lambda r: r["consecutiveFailures"] == 2)
    assert r["alive"] is False and r["lastFailureCause"] == "404 Not Found"
    assert "firstSuccess" in r and "lastSuccess" in r
    c.wait_for(lambda r: True)
    wait_for(lambda: c.kills, 10, "the kill request")
    assert len(c.kills) == 1
    web.status = 302  # redirects count as healthy
    r = c.wait_for(lambda r: r["alive"] and r["consecutiveFailures"] == 0 and "lastFailure" in r)
    assert r["lastFailureCause"] == "404 Not Found"


def test_max_consecutive_failures_zero_never_kills_marathon_checks(web):
    web.status = 500
    c = Collector()
    monitor({"protocol": "HTTP", "gracePeriodSeconds": 0, "intervalSeconds": 1, "maxConsecutiveFailures": 0},
            [web.port], c)
    c.wait_for(lambda r: r["consecutiveFailures"] >= 4)
    assert c.kills == []


def test_tcp_check_against_listener_and_closed_port(closed_port):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        ok, bad = Collector(), Collector()
        monitor({"protocol": "TCP", "gracePeriodSeconds": 0, "intervalSeconds": 1}, [listener.getsockname()[1]], ok)
        monitor({"protocol": "TCP", "gracePeriodSeconds": 0, "intervalSeconds": 1}, [closed_port], bad)
        assert ok.wait_for(lambda r: True)["alive"] is True
        r = bad.wait_for(lambda r: True)
        assert r["alive"] is False and "Connection refused" in r["lastFailureCause"]
    finally:
        listener.close()


def test_https_check_does_not_verify_certificates(tls_web):
    c = Collector()
    monitor({"protocol": "HTTPS", "path": "/", "gracePeriodSeconds": 0, "intervalSeconds": 1}, [tls_web.port], c)
    assert c.wait_for(lambda r: True)["alive"] is True


def test_http_check_against_tls_server_fails(tls_web):
    c = Collector()
    monitor({"protocol": "HTTP", "gracePeriodSeconds": 0, "intervalSeconds": 1}, [tls_web.port], c)
    assert c.wait_for(lambda r: True)["alive"] is False


def test_mesos_checks_honour_delay_and_marathon_checks_do_not(web):
    early, delayed = Collector(), Collector()
    started = time.monotonic()
    monitor({"protocol": "HTTP", "intervalSeconds": 1, "delaySeconds": 30}, [web.port], early)
    monitor({"protocol": "MESOS_HTTP", "intervalSeconds": 1, "delaySeconds": 30}, [web.port], delayed)
    first_early = early.wait_for(lambda r: True) and early.results[0][0] - started
    first_delayed = delayed.wait_for(lambda r: True, timeout=20) and delayed.results[0][0] - started
    # The bounds that tell the behaviours apart, not how fast this machine is: the HTTP check ran
    # before the delay (30 s / 20 = 1.5 s) was over, the MESOS_HTTP one not before; and its delay
    # was scaled (an unscaled one would have made wait_for give up after 20 s).
    assert first_early < 1.5 <= first_delayed


def test_mesos_check_kills_when_failures_reach_the_maximum(web):
    web.status = 503
    c = Collector()
    monitor({"protocol": "MESOS_HTTP", "gracePeriodSeconds": 0, "intervalSeconds": 1, "delaySeconds": 0,
             "maxConsecutiveFailures": 2}, [web.port], c)
    c.wait_for(lambda r: r["consecutiveFailures"] >= 2)
    wait_for(lambda: c.kills, 10, "the kill request")
    assert len(c.kills) == 1 and c.kills[0][1]["consecutiveFailures"] == 2


def test_mesos_check_with_zero_max_kills_on_first_failure(closed_port):
    c = Collector()
    monitor({"protocol": "MESOS_TCP", "gracePeriodSeconds": 0, "intervalSeconds": 1, "delaySeconds": 0,
             "maxConsecutiveFailures": 0}, [closed_port], c)
    c.wait_for(lambda r: r["consecutiveFailures"] == 1)
    wait_for(lambda: c.kills, 10, "the kill request")
    assert len(c.kills) == 1 and c.kills[0][1]["consecutiveFailures"] == 1


def test_grace_counts_from_the_tasks_start(web):
    web.status = 500
    c = Collector()
    # started 20 s ago (1 s real at scale 20) with a 10 s grace: failures count at once
    monitor({"protocol": "HTTP", "gracePeriodSeconds": 10, "intervalSeconds": 1, "maxConsecutiveFailures": 0},
            [web.port], c, started_at=time.time() - 1.0)
    assert c.wait_for(lambda r: True)["consecutiveFailures"] == 1


def test_mesos_check_reports_nothing_during_grace(closed_port):
    c = Collector()
    monitor({"protocol": "MESOS_TCP", "gracePeriodSeconds": 300, "intervalSeconds": 1, "delaySeconds": 0,
             "maxConsecutiveFailures": 1}, [closed_port], c)
    time.sleep(0.3)
    assert c.results == [] and c.kills == []


def test_mesos_check_port_means_container_port(web):
    c = Collector()
    monitor({"protocol": "MESOS_TCP", "port": 8080, "gracePeriodSeconds": 0, "intervalSeconds": 1,
             "delaySeconds": 0}, [], c, container_ports={8080: web.port})
    assert c.wait_for(lambda r: True)["alive"] is True


def test_port_index_selects_the_host_port(web, closed_port):
    c = Collector()
    monitor({"protocol": "TCP", "portIndex": 1, "gracePeriodSeconds": 0, "intervalSeconds": 1},
            [closed_port, web.port], c)
    assert c.wait_for(lambda r: True)["alive"] is True


def test_port_index_out_of_range_is_a_failure_with_a_cause():
    c = Collector()
    monitor({"protocol": "TCP", "portIndex": 2, "gracePeriodSeconds": 0, "intervalSeconds": 1}, [1, 2], c)
    r = c.wait_for(lambda r: True)
    assert r["alive"] is False
    assert r["lastFailureCause"] == "portIndex 2 is out of range: the task has 2 port(s)"


def test_force_unhealthy_and_back(web):
    c = Collector()
    m = monitor({"protocol": "HTTP", "gracePeriodSeconds": 0, "intervalSeconds": 1, "maxConsecutiveFailures": 0},
                [web.port], c)
    c.wait_for(lambda r: r["alive"])
    m.force_unhealthy(True)
    r = c.wait_for(lambda r: not r["alive"])
    assert r["lastFailureCause"] == FORCED_FAILURE_CAUSE
    assert m.result()["alive"] is False
    m.force_unhealthy(False)
    assert c.wait_for(lambda r: r["alive"] and "lastFailure" in r)["lastFailureCause"] == FORCED_FAILURE_CAUSE


def test_interval_is_scaled(web):
    c = Collector()
    started = time.monotonic()
    monitor({"protocol": "TCP", "gracePeriodSeconds": 0, "intervalSeconds": 4}, [web.port], c)  # 0.2 s
    # An unscaled interval (4 s) would need 12 s for four results.
    wait_for(lambda: len(c.results) >= 4, 10, "four results")
    with c.cond:
        stamps = [at - started for at, _ in c.results]
    # Check k starts no earlier than (k - 1) intervals after the first: with no interval it would
    # run dozens of times in that time. (A small allowance for the clock's granularity.)
    for k, at in enumerate(stamps):
        assert at >= k * 0.2 - 0.005, stamps


def test_command_check_runs_in_sandbox_with_task_env(tmp_path):
    (tmp_path / "ready").write_text("")
    c = Collector()
    marker = "LM_HEALTH_TEST_" + uuid.uuid4().hex
    m = monitor({"protocol": "COMMAND", "command": {"value": 'test -f ready && test "$DB_NAME" = orders'},
                 "gracePeriodSeconds": 0, "intervalSeconds": 1, "delaySeconds": 0}, [], c,
                sandbox=str(tmp_path), env={"DB_NAME": "orders", "LM_TEST_MARKER": marker})
    c.wait_for(lambda r: r["alive"])
    (tmp_path / "ready").unlink()
    r = c.wait_for(lambda r: not r["alive"])
    assert r["lastFailureCause"] == "Command exited with status 1"
    m.stop()


def test_command_check_times_out_and_leaves_no_process(tmp_path):
    c = Collector()
    marker = "LM_HEALTH_TEST_" + uuid.uuid4().hex
    m = monitor({"protocol": "COMMAND", "command": {"value": "sleep 30 & sleep 30"},
                 "gracePeriodSeconds": 0, "intervalSeconds": 10, "timeoutSeconds": 4, "delaySeconds": 0},
                [], c, sandbox=str(tmp_path), env={"LM_TEST_MARKER": marker})
    r = c.wait_for(lambda r: True, timeout=3)
    assert r["lastFailureCause"] == "Command timed out after 0.2s"
    m.stop()
    needle = marker.encode()

    def survivors():
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/environ", "rb") as fh:
                        if needle in fh.read():
                            found.append(entry)
                except OSError:
                    pass
        return found

    # SIGKILL delivery is asynchronous
    wait_for(lambda: not survivors(), 10, "the health check commands to be gone")


def test_stop_ends_checking(web):
    c = Collector()
    m = monitor({"protocol": "TCP", "gracePeriodSeconds": 0, "intervalSeconds": 1}, [web.port], c)
    c.wait_for(lambda r: True)
    m.stop()
    n = len(c.results)
    time.sleep(0.2)
    assert len(c.results) == n


def test_result_is_none_before_the_first_check():
    m = HealthMonitor({"protocol": "TCP"}, {"instance_id": "a.instance-1", "ports": [1]}, 1.0)
    assert m.result() is None


def test_bad_definitions_are_refused_with_the_field_named():
    with pytest.raises(ValueError, match="protocol 'UDP'"):
        HealthMonitor({"protocol": "UDP"}, {}, 1.0)
    with pytest.raises(ValueError, match="intervalSeconds"):
        HealthMonitor({"protocol": "TCP", "intervalSeconds": "often"}, {}, 1.0)


def test_timestamp_format():
    assert format_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert format_timestamp(1700000000.1239) == "2023-11-14T22:13:20.123Z"
