"""The DC/OS tutorial's stateful PostgreSQL app, run for real: healthy, and a row written with psql
survives stop/start (scale 0 → 1) and a restart of localmarathon."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import Api, wait_for
from localmarathon.testing import LocalMarathon

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
TIME_SCALE = 60.0  # intervalSeconds 60 → 1 s, gracePeriodSeconds 300 → 5 s


def _psql(port: int, sql: str) -> str:
    env = dict(os.environ, PGPASSWORD="DC/OS_ROCKS", PGCONNECT_TIMEOUT="5")
    out = subprocess.run([f"{PG_BIN[-1]}/psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                          "-d", "postgres", "-tAc", sql], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture
def tutorial_app(reference_dir):
    path = reference_dir / "marathon-api/dcos-docs-site/2.2/tutorials/stateful-services/postgres.marathon.json"
    return json.loads(path.read_text())


@pytest.fixture
def pg_data_dir():
    # PostgreSQL runs as the unprivileged postgres user, which must reach PGDATA: pytest's tmp_path
    # sits below a 0700 directory, so use a world-searchable one of our own.
    path = Path(tempfile.mkdtemp(prefix="lm-pg-test-"))
    os.chmod(path, 0o755)
    yield path / "lm"
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(not PG_BIN, reason="PostgreSQL server binaries not installed")
def test_tutorial_postgres_healthy_and_data_survives(pg_data_dir, tutorial_app):
    with LocalMarathon(pg_data_dir, time_scale=TIME_SCALE) as lm:
        api = Api(lm.url)
        r = api.post("/v2/apps", json=tutorial_app)
        assert r.status_code == 201, r.text
        app = api.wait_running("/postgres", healthy=True, timeout=60)
        task = app["tasks"][0]
        assert task["healthCheckResults"][0]["alive"] is True
        assert task["localVolumes"][0]["containerPath"] == "pgdata"
        port = task["ports"][0]
        _psql(port, "CREATE TABLE t (v text); INSERT INTO t VALUES ('kept');")
        # stop/start: the instance is suspended, then relaunched on its volume
        r = api.put("/v2/apps/postgres", json={"instances": 0})
        api.wait_deployment(r.json()["deploymentId"], timeout=60)
        assert api.get("/v2/apps/postgres/tasks").json()["tasks"][0]["state"] == "TASK_KILLED"
        r = api.put("/v2/apps/postgres", json={"instances": 1})
        api.wait_deployment(r.json()["deploymentId"], timeout=60)
        task2 = api.wait_running("/postgres", healthy=True, timeout=60)["tasks"][0]
        assert task2["localVolumes"] == task["localVolumes"] and task2["ports"] == [port]
        assert _psql(port, "SELECT v FROM t") == "kept"
        # a restart of localmarathon keeps the app and the volume and relaunches the task
        lm.restart()
        api = Api(lm.url)
        task3 = api.wait_running("/postgres", healthy=True, timeout=60)["tasks"][0]
        assert task3["localVolumes"] == task["localVolumes"]
        assert _psql(task3["ports"][0], "SELECT v FROM t") == "kept"
        pg_pids = wait_for(lambda: [p for p in _pids_of("postgres") if _in_dir(p, lm.data_dir)], 5, "pg pids")
    # after the fixture stopped the server no PostgreSQL of this data dir is left
    assert wait_for(lambda: not [p for p in pg_pids if os.path.exists(f"/proc/{p}")], 10, "postgres to exit")


def _pids_of(name: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() == name:
                        out.append(int(entry))
            except OSError:
                pass
    return out


def _in_dir(pid: int, data_dir) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/cwd").startswith(str(data_dir.resolve()))
    except OSError:
        return False
