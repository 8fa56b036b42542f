"""Process lifecycle: ctl up/down, restarts that keep state, and no orphan after SIGTERM, a crashed
starter, or a killed server."""

from __future__ import annotations

import json
import errno
import os
import signal
import socket
import subprocess
import sys
import textwrap

import requests

from conftest import TIME_SCALE, Api, wait_for
from localmarathon import testing
from localmarathon.procutil import alive, processes_using
from localmarathon.testing import LocalMarathon

PY = sys.executable
APP = {"id": "/sleeper", "cmd": "sleep 300", "instances": 2, "mem": 16}


def _ctl(*args, timeout=60):
    return subprocess.run([PY, "-m", "localmarathon.ctl", *args], capture_output=True, text=True, timeout=timeout)


def test_ctl_up_down(tmp_path):
    data = tmp_path / "lm"
    up = _ctl("up", "--data-dir", str(data), "--time-scale", "20")
    assert up.returncode == 0, up.stderr
    url = up.stdout.strip()
    assert url.startswith("http://127.0.0.1:")
    assert (data / "localmarathon.url").read_text().strip() == url
    pid = int((data / "localmarathon.pid").read_text())
    # up again is idempotent: same server
    again = _ctl("up", "--data-dir", str(data))
    assert again.returncode == 0 and again.stdout.strip() == url
    api = Api(url)
    api.post("/v2/apps", json=APP)
    api.wait_running("/sleeper", 2)
    assert len(processes_using(data)) >= 2
    assert "localmarathon ready" in (data / "localmarathon.log").read_text()
    down = _ctl("down", "--data-dir", str(data))
    assert down.returncode == 0, down.stderr
    assert not alive(pid) and processes_using(data) == []
    assert not (data / "localmarathon.pid").exists()
    assert _ctl("down", "--data-dir", str(data)).returncode == 0  # not running is fine
    assert _ctl("status", "--data-dir", str(data)).returncode == 3


def test_sigterm_stops_every_task(tmp_path):
    lm = LocalMarathon(tmp_path / "lm", time_scale=20).start()
    api = Api(lm.url)
    api.post("/v2/apps", json=APP)
    api.wait_running("/sleeper", 2)
    tasks = processes_using(lm.data_dir)
    assert tasks
    proc = lm.proc
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(30) == 0
    assert wait_for(lambda: not [p for p in tasks if alive(p)], 10, "tasks to exit")
    lm.stop()


def test_restart_keeps_apps_and_relaunches_tasks(lm, api):
    r = api.post("/v2/apps", json=APP)
    version = r.json()["version"]
    before = api.wait_running("/sleeper", 2)["tasks"]
    lm.restart()
    api = Api(lm.url)
    app = api.wait_running("/sleeper", 2)
    assert app["version"] == version
    after = app["tasks"]
    # the same instances, next incarnation
    assert sorted(t["id"].rsplit(".", 1)[0] for t in after) == sorted(t["id"].rsplit(".", 1)[0] for t in before)
    assert all(t["id"].endswith("._app.2") for t in after)
    assert api.get("/v2/apps/sleeper/versions").json()["versions"] == [version]


def test_crashed_starter_leaves_no_process(tmp_path):
    """The test process that started localmarathon is SIGKILLed: server and tasks must go."""
    data = tmp_path / "lm"
    script = textwrap.dedent(f"""
        import json, sys, time, requests
        from localmarathon.testing import LocalMarathon
        lm = LocalMarathon({str(data)!r}, time_scale=20).start()
        requests.post(lm.url + "/v2/apps", json={json.dumps(APP)})
        while requests.get(lm.url + "/v2/apps/sleeper").json()["app"]["tasksRunning"] < 2:
            time.sleep(0.05)
        print(lm.pid, flush=True)
        time.sleep(300)
    """)
    child = subprocess.Popen([PY, "-c", script], stdout=subprocess.PIPE, text=True)
    server_pid = int(child.stdout.readline())
    tasks = processes_using(data)
    assert len(tasks) >= 2
    child.kill()
    child.wait(10)
    assert wait_for(lambda: not alive(server_pid), 30, "server to exit")
    assert wait_for(lambda: not [p for p in tasks if alive(p)], 15, "tasks to exit")


def test_killed_server_leaves_no_task(tmp_path):
    with LocalMarathon(tmp_path / "lm", time_scale=20) as lm:
        api = Api(lm.url)
        api.post("/v2/apps", json=APP)
        api.wait_running("/sleeper", 2)
        tasks = processes_using(lm.data_dir)
        lm.kill()  # SIGKILL: no chance to clean up
        assert wait_for(lambda: not [p for p in tasks if alive(p)], 15, "tasks to die with the server")
        # and it comes back with its state
        lm.start()
        Api(lm.url).wait_running("/sleeper", 2)


def test_port_stays_reserved_while_the_server_is_down_between_stop_and_start(tmp_path):
    # A restart comes back on the same port: meanwhile no other process (another test's server on
    # port 0, an outgoing connection) may take it, yet clients are refused as by a stopped Marathon.
    with LocalMarathon(tmp_path / "lm", time_scale=20) as lm:
        port = lm.port
        for down in (lm.kill, lambda: lm.stop(keep_port=True)):
            down()
            other = socket.socket()
            try:
                try:
                    other.bind(("127.0.0.1", port))
                    raise AssertionError(f"port {port} was free for others while localmarathon was down")
                except OSError as err:
                    assert err.errno == errno.EADDRINUSE
            finally:
                other.close()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                raise AssertionError("a connection was accepted while localmarathon was down")
            except ConnectionRefusedError:
                pass
            lm.start()
            assert lm.port == port
            assert requests.get(lm.url + "/ping", timeout=10).text == "pong"


def test_bad_arguments_fail_cleanly(tmp_path):
    out = subprocess.run([PY, "-m", "localmarathon", "--data-dir", str(tmp_path), "--host", "0.0.0.0"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "127.0.0.1" in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run([PY, "-m", "localmarathon", "--data-dir", str(tmp_path), "--port", "0",
                          "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "TLS" in out.stderr and "Traceback" not in out.stderr
    up = _ctl("up", "--data-dir", str(tmp_path / "x"), "--auth-config", "/nonexistent.json", "--timeout", "10")
    assert up.returncode == 1 and "did not become ready" in up.stderr


def test_requests_log_and_stats(lm, api):
    api.post("/v2/apps", json={"id": "/w", "cmd": "sleep 100", "instances": 0})
    api.get("/v2/apps")
    api.post("/v2/apps", json={"id": "/w", "cmd": "sleep 100"})  # 409: not a write
    stats = requests.get(lm.url + "/_localmarathon/stats").json()
    recs = lm.requests()
    assert [(r["method"], r["path"], r["status"], r["write"]) for r in recs] == [
        ("POST", "/v2/apps", 201, True), ("GET", "/v2/apps", 200, False), ("POST", "/v2/apps", 409, False)]
    assert stats == {"requests": 3, "writes": 1}
    assert len(lm.writes()) == 1
    rec = recs[0]
    assert set(rec) == {"time", "method", "path", "query", "status", "duration_ms", "write", "admin", "fault"}
    assert rec["admin"] is False and rec["fault"] is None and rec["duration_ms"] >= 0
    admin = [r for r in lm.requests(include_admin=True) if r["admin"]]
    assert admin and admin[0]["path"] == "/_localmarathon/stats"
    json.dumps(recs)


def test_pytest_plugin_fixtures(localmarathon, lm, api):
    # The fixtures of localmarathon.pytest_plugin (registered by the package's pytest11 entry point),
    # shared with the reliability suite: one server at the time scale this suite's conftest sets,
    # ``lm`` its short name, ``api`` the shared client (here the suite's RAML-checking subclass) of it.
    assert lm is localmarathon and localmarathon.time_scale == TIME_SCALE
    assert isinstance(api, testing.Api) and isinstance(api, Api) and api.url == localmarathon.url
    assert requests.get(localmarathon.url + "/ping", timeout=10).text == "pong"
    assert localmarathon.data_dir.is_dir() and localmarathon.requests()[-1]["path"] == "/ping"


def test_ctl_down_spares_a_caller_inside_the_data_dir(tmp_path):
    # An Ansible worker may run `ctl down` with its cwd in the data dir: it must survive,
    # while the task processes are still killed.
    data = tmp_path / "lm"
    up = _ctl("up", "--data-dir", str(data), "--time-scale", "20")
    assert up.returncode == 0, up.stderr
    api = Api(up.stdout.strip())
    api.post("/v2/apps", json=APP)
    api.wait_running("/sleeper", 2)
    script = f"cd {data} && {PY} -m localmarathon.ctl down --data-dir {data} && echo caller-survived"
    down = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONSAFEPATH": "1"})
    assert down.returncode == 0, down.stderr
    assert "caller-survived" in down.stdout
    assert processes_using(data) == []
