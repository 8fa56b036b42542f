"""Image table: real PostgreSQL, host-shell and web images, and the path/permission helpers."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from localmarathon import hostports, images
from localmarathon.agent import Agent, LaunchSpec
from localmarathon.health import HealthMonitor
from localmarathon.testing import wait_for
from test_agent import Recorder, marked_pids, wait_no_marked

PSQL = "/usr/bin/psql"
HAVE_POSTGRES = any(images.POSTGRES_ROOT.glob("*/bin/postgres")) and os.path.exists(PSQL)
needs_postgres = pytest.mark.skipif(not HAVE_POSTGRES, reason="Debian PostgreSQL server and psql not installed")


@pytest.fixture
def port():
    """A task host port nobody else gets while the test runs: reserved against every localmarathon on
    the machine and outside the ephemeral range (a port-0 number, closed and reused, can be taken by
    anyone, e.g. by a psql client's outgoing connection)."""
    reserved = hostports.reserve_free_port()
    yield int(reserved)
    reserved.release()


@pytest.fixture
def marker():
    return "LM_IMAGES_TEST_" + uuid.uuid4().hex


@pytest.fixture
def data_dir():
    # Not pytest's tmp_path: its parents are 0700 root, which the postgres user cannot traverse.
    path = Path(tempfile.mkdtemp(prefix="lm-images-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def agent(data_dir, marker):
    a = Agent(data_dir, "S0", time_scale=20)
    yield a
    a.shutdown(timeout=10)
    left = wait_no_marked(marker, root=data_dir)
    assert not left, f"task processes left behind: {left}"


def pg_app(**env):
    return {
        "id": "/db/postgres",
        "cpus": 1, "mem": 1024,
        "container": {
            "type": "DOCKER", "docker": {"image": "postgres:15"},
            "volumes": [{"containerPath": "pgdata", "mode": "RW", "persistent": {"size": 100}}],
            "portMappings": [{"containerPort": 5432, "hostPort": 0, "protocol": "tcp"}],
        },
        "networks": [{"mode": "container/bridge"}],
        "env": env,
    }


def launch(agent, app, marker, rec, host_ports=(), volumes=None, n=1, long_id=False):
    app = dict(app)
    app["env"] = {**(app.get("env") or {}), "LM_TEST_MARKER": marker}
    task_id = f"db_postgres.instance-{marker[-12:]}._app.{n}"
    if long_id:  # Marathon's real ids: instance-<uuid>, deep group paths
        task_id = f"prod_team_databases_postgres.instance-{uuid.uuid4()}._app.{n}"
    spec = LaunchSpec(task_id, task_id.rsplit("._app", 1)[0], app, "2026-01-01T00:00:00.000Z",
                      agent.data_dir / "sandboxes" / task_id, dict(volumes or {}), list(host_ports))
    agent.launch(spec, rec)
    return spec


def psql(port, sql, user="postgres", db="postgres", password=None, host="127.0.0.1", env=None):
    e = dict(env if env is not None else os.environ)
    e["PGCONNECT_TIMEOUT"] = "2"
    if password is not None:
        e["PGPASSWORD"] = password
    else:
        e.pop("PGPASSWORD", None)
    args = [PSQL, "-X", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", db, "-Atc", sql]
    if host is not None:
        args[1:1] = ["-h", host]
    if port is not None:
        args[1:1] = ["-p", str(port)]
    return subprocess.run(args, env=e, capture_output=True, text=True, timeout=20)


def wait_accepting(port, rec, task_id, timeout=30, **kw):
    deadline = time.monotonic() + timeout
    while True:
        r = psql(port, "select 1", **kw)
        if r.returncode == 0:
            return time.monotonic()
        states = rec.states(task_id)
        if states and states[-1] in ("TASK_FAILED", "TASK_FINISHED", "TASK_KILLED"):
            raise AssertionError(f"postgres task ended: {rec.events}")
        if time.monotonic() > deadline:
            raise AssertionError(f"postgres never accepted connections: {r.stderr}")
        time.sleep(0.02)


# ---- PostgreSQL -----------------------------------------------------------------------------------


@needs_postgres
def test_postgres_keeps_data_on_its_volume_across_relaunch(agent, marker, data_dir, port):
    rec = Recorder()
    volume = data_dir / "volumes" / "db_postgres#pgdata#1"
    volume.mkdir(parents=True)  # created by root, mode 0755 + root-owned, as the server does
    app = pg_app(POSTGRES_PASSWORD="DC/OS_ROCKS", PGDATA="/mnt/mesos/sandbox/pgdata")

    t0 = time.monotonic()
    first = launch(agent, app, marker, rec, [port], {"pgdata": volume}, n=1)
    rec.wait(first.task_id, "TASK_RUNNING")
    cold = wait_accepting(port, rec, first.task_id, password="DC/OS_ROCKS") - t0
    assert rec.states(first.task_id) == ["TASK_STAGING", "TASK_STARTING", "TASK_RUNNING"]

    r = psql(port, "create table kv (k text primary key, v text); insert into kv values ('answer', '42');"
                   "select current_setting('data_directory')", password="DC/OS_ROCKS")
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.split()[-1]).resolve() == volume.resolve()
    bad = psql(port, "select 1", password="wrong")
    assert bad.returncode != 0 and "password authentication failed" in bad.stderr

    pg_uid = pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid()
    # PostgreSQL starts and ends short-lived children (a backend of the psql above, an autovacuum
    # worker) at any time: one listed here may be gone when its status is read.
    checked = 0
    for pid in marked_pids(marker, root=volume):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        uids = status.split("Uid:")[1].split()[:2]
        assert {int(u) for u in uids} == {pg_uid}, f"process {pid} is not running as the postgres user"
        checked += 1
    assert checked >= 4  # postmaster, checkpointer, background writer, walwriter...
    assert stat.S_IMODE(volume.stat().st_mode) == 0o700 and volume.stat().st_uid == pg_uid
    assert not (first.sandbox_dir / ".lm-pgpass").exists()

    agent.kill(first.task_id)
    end = rec.final(first.task_id, timeout=15)
    assert end[2] == "TASK_KILLED"
    assert "database system is shut down" in (first.sandbox_dir / "stderr").read_text()
    assert wait_no_marked(marker, root=data_dir) == []

    t1 = time.monotonic()
    second = launch(agent, app, marker, rec, [port], {"pgdata": volume}, n=2)
    reuse = wait_accepting(port, rec, second.task_id, password="DC/OS_ROCKS") - t1
    r = psql(port, "select v from kv where k = 'answer'", password="DC/OS_ROCKS")
    assert r.stdout.strip() == "42", r.stderr
    # The second launch found the cluster on the volume: no initdb (not a timing: reuse is faster
    # only on an idle machine).
    assert "PostgreSQL init process complete" in (first.sandbox_dir / "stdout").read_text()
    second_stdout = (second.sandbox_dir / "stdout").read_text()
    assert "Skipping initialization" in second_stdout and "init process complete" not in second_stdout
    print(f"postgres launch->accepting connections: cold (initdb) {cold:.2f} s, reuse {reuse:.2f} s")


@needs_postgres
def test_postgres_user_db_socket_alias_and_command_health_check(agent, marker, data_dir, port):
    rec = Recorder()
    app = pg_app(POSTGRES_PASSWORD="pw", POSTGRES_USER="shop", POSTGRES_DB="orders",
                 PGDATA="/mnt/mesos/sandbox/pgdata/cluster")  # a subdirectory of the volume
    volume = data_dir / "volumes" / "db_postgres#pgdata#2"
    spec = launch(agent, app, marker, rec, [port], {"pgdata": volume}, long_id=True)
    wait_accepting(port, rec, spec.task_id, user="shop", db="orders", password="pw")
    assert psql(port, "select current_user", user="shop", db="orders", password="pw").stdout.strip() == "shop"
    assert (volume / "cluster" / "PG_VERSION").is_file()
    assert psql(port, "select 1", user="postgres", password="pw").returncode != 0  # no such role

    # Inside "the container" clients use the default port 5432 over the unix socket.
    info = agent.task_info(spec.task_id)
    sockdir = Path(info["env"]["PGHOST"])
    # the sandbox path is too long for a unix socket (107 bytes): a short private directory is used
    assert len(f"{spec.sandbox_dir}/.s.PGSQL.{port}") > 107 and sockdir.parent == data_dir / "run"
    assert (sockdir / f".s.PGSQL.{port}").is_socket()
    env = {**os.environ, **info["env"]}
    r = psql(None, "select current_database()", user="shop", db="orders", host=None, env=env)
    assert r.returncode == 0 and r.stdout.strip() == "orders", r.stderr

    results = []
    monitor = HealthMonitor({"protocol": "COMMAND", "command": {"value": "pg_isready -q -p 5432 -d orders -U shop"},
                             "gracePeriodSeconds": 0, "intervalSeconds": 1, "delaySeconds": 0,
                             "timeoutSeconds": 200},  # 10 s: the default 1 s (20 s / 20) is short on a busy machine
                            info, 20, on_result=results.append)
    monitor.start()
    try:
        wait_for(lambda: results, 30, "the first health check result")
        assert results[0]["alive"] is True, results
    finally:
        monitor.stop()
    agent.kill(spec.task_id)
    assert rec.final(spec.task_id, timeout=15)[2] == "TASK_KILLED"
    wait_for(lambda: not sockdir.exists(), 10, "the socket directory to be removed after the task ended")


@needs_postgres
def test_postgres_without_volume_uses_the_containers_own_layer(agent, marker, data_dir, port):
    rec = Recorder()
    app = pg_app()
    host_dir = data_dir / "host-config"  # a host path mounted into the container: never chowned
    host_dir.mkdir()
    app["container"] = {**app["container"], "volumes": [
        {"containerPath": "/etc/extra", "hostPath": str(host_dir), "mode": "RO"}]}
    spec = launch(agent, app, marker, rec, [port])
    wait_accepting(port, rec, spec.task_id)  # no password: trust, as POSTGRES_HOST_AUTH_METHOD=trust
    assert (spec.sandbox_dir / ".rootfs" / "var/lib/postgresql/data" / "PG_VERSION").is_file()
    assert host_dir.stat().st_uid == os.geteuid()
    agent.kill(spec.task_id)
    assert rec.final(spec.task_id, timeout=15)[2] == "TASK_KILLED"


@needs_postgres
@pytest.mark.skipif(os.geteuid() != 0, reason="the unprivileged-user check applies when running as root")
def test_postgres_data_dir_the_postgres_user_cannot_reach_fails_clearly(agent, marker, port):
    rec = Recorder()
    private = Path(tempfile.mkdtemp(prefix="lm-private-"))  # 0700 root, outside the agent's data dir
    try:
        volume = private / "vol"
        volume.mkdir()
        spec = launch(agent, pg_app(PGDATA="/mnt/mesos/sandbox/pgdata"), marker, rec, [port],
                      {"pgdata": volume})
        end = rec.final(spec.task_id)
        assert rec.states(spec.task_id) == ["TASK_STAGING", "TASK_FAILED"]
        assert end[3].startswith("Failed to launch container: PGDATA '/mnt/mesos/sandbox/pgdata' at")
        assert f"not reachable by the 'postgres' user" in end[3]
        assert f"directory {private} has mode 0700" in end[3]
        assert stat.S_IMODE(private.stat().st_mode) == 0o700  # outside our data dir: left alone
    finally:
        shutil.rmtree(private, ignore_errors=True)


HOST_SCRIPT = textwrap.dedent("""
    import sys, threading
    from pathlib import Path
    from localmarathon.agent import Agent, LaunchSpec
    data, marker, port = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    a = Agent(data, "S0")
    app = {"id": "/pg", "container": {"type": "DOCKER", "docker": {"image": "postgres:15"},
           "portMappings": [{"containerPort": 5432, "hostPort": 0}]},
           "networks": [{"mode": "container/bridge"}], "env": {"LM_TEST_MARKER": marker}}
    a.launch(LaunchSpec("pg.instance-1._app.1", "pg.instance-1", app, "v", data / "sb", {}, [port]),
             lambda *args, **kw: None)
    print("launched", flush=True)
    threading.Event().wait()
""")


@needs_postgres
def test_postgres_dies_with_a_sigkilled_agent(data_dir, marker, port):
    host = subprocess.Popen([sys.executable, "-c", HOST_SCRIPT, str(data_dir), marker, str(port)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert host.stdout.readline().strip() == "launched"
        deadline = time.monotonic() + 30
        while psql(port, "select 1").returncode != 0:
            assert time.monotonic() < deadline, "postgres did not start"
            time.sleep(0.05)
        conn = subprocess.Popen([PSQL, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c",
                                 "select pg_sleep(60)"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # postmaster, background workers, and the backend of the client, which takes a moment to connect
        wait_for(lambda: len(marked_pids(marker, data_dir)) >= 5, 30, "the client's backend to start")
        host.send_signal(signal.SIGKILL)
        host.wait(5)
        left = wait_no_marked(marker, timeout=5, root=data_dir)
        assert left == [], f"postgres processes survived the agent: {left}"
        conn.wait(10)
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
        for pid in marked_pids(marker, data_dir):
            os.kill(pid, signal.SIGKILL)


# ---- host-shell and web images --------------------------------------------------------------------


def test_shell_image_without_command_exits_like_the_images_default(agent, marker):
    rec = Recorder()
    spec = launch(agent, {"id": "/b", "container": {"type": "DOCKER", "docker": {"image": "docker.io/library/busybox"}}},
                  marker, rec)
    end = rec.final(spec.task_id)
    assert end[2] == "TASK_FINISHED" and end[3] == "Container exited with status 0"


def test_python_image_runs_the_apps_args(agent, marker):
    rec = Recorder()
    app = {"id": "/p", "args": ["python3", "-c", "import os; print(os.environ['MARATHON_APP_ID'])"],
           "container": {"type": "MESOS", "docker": {"image": "python:3.11-slim"}}}
    spec = launch(agent, app, marker, rec)
    assert rec.final(spec.task_id)[2] == "TASK_FINISHED"
    assert (spec.sandbox_dir / "stdout").read_text() == "/p\n"


def test_docker_app_failure_reports_the_container_exit(agent, marker):
    rec = Recorder()
    app = {"id": "/f", "cmd": "exit 3", "container": {"type": "DOCKER", "docker": {"image": "alpine:3.19"}}}
    spec = launch(agent, app, marker, rec)
    end = rec.final(spec.task_id)
    assert end[2] == "TASK_FAILED" and end[3] == "Container exited with status 3"


def test_nginx_image_serves_a_welcome_page_on_the_mapped_port(agent, marker, port):
    rec = Recorder()
    app = {"id": "/web", "container": {"type": "DOCKER", "docker": {"image": "nginx:1.25-alpine"},
                                       "portMappings": [{"containerPort": 80, "hostPort": 0}]},
           "networks": [{"mode": "container/bridge"}]}
    spec = launch(agent, app, marker, rec, [port])
    rec.wait(spec.task_id, "TASK_RUNNING")
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                assert b"Welcome to nginx!" in resp.read()
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    agent.kill(spec.task_id)
    assert rec.final(spec.task_id)[2] == "TASK_KILLED"


@needs_postgres
def test_pgbouncer_image_relays_sessions_to_the_database(agent, marker, data_dir, port):
    """A pgbouncer image is pooler.py: a client connects through its mapped port to PostgreSQL, and
    with DEFAULT_POOL_SIZE=1 a second session waits until the first one ends."""
    rec = Recorder()
    db = launch(agent, pg_app(POSTGRES_PASSWORD="pool-pw"), marker, rec, [port],
                {"pgdata": str(data_dir / "volumes" / "pool")})
    wait_accepting(port, rec, db.task_id, password="pool-pw")
    pooler_port = hostports.reserve_free_port()
    try:
        pooler = {"id": "/db/pooler", "container": {
                      "type": "DOCKER", "docker": {"image": "edoburu/pgbouncer:1.21.0"},
                      "portMappings": [{"containerPort": 5432, "hostPort": 0}]},
                  "networks": [{"mode": "container/bridge"}],
                  "env": {"DB_HOST": "127.0.0.1", "DB_PORT": str(port), "DEFAULT_POOL_SIZE": "1"}}
        spec = launch(agent, pooler, marker, rec, [int(pooler_port)], n=2)
        rec.wait(spec.task_id, "TASK_RUNNING")
        wait_accepting(int(pooler_port), rec, spec.task_id, password="pool-pw")
        r = psql(int(pooler_port), "select current_setting('port')", password="pool-pw")
        assert r.returncode == 0 and r.stdout.strip() == str(port), r.stderr
        # The pool holds one server connection: a second session starts only after the first ends.
        env = dict(os.environ, PGPASSWORD="pool-pw", PGCONNECT_TIMEOUT="10")
        first = subprocess.Popen([PSQL, "-X", "-h", "127.0.0.1", "-p", str(int(pooler_port)), "-U", "postgres",
                                  "-Atc", "select pg_sleep(1.5)"], env=env, stdout=subprocess.PIPE)
        time.sleep(0.3)
        started = time.monotonic()
        # psql() allows 2 s to connect; the wait for the pool needs more on a busy machine.
        second = subprocess.run([PSQL, "-X", "-h", "127.0.0.1", "-p", str(int(pooler_port)), "-U", "postgres",
                                 "-Atc", "select 2"], env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 0 and second.stdout.strip() == "2", second.stderr
        assert first.wait(timeout=20) == 0
        assert time.monotonic() - started >= 0.8  # it waited for the first session's server connection
        agent.kill(spec.task_id)
        assert rec.final(spec.task_id)[2] == "TASK_KILLED"
    finally:
        pooler_port.release()
    agent.kill(db.task_id)


# ---- helpers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref,expected", [
    ("postgres", ("postgres", "")),
    ("postgres:15", ("postgres", "15")),
    ("library/postgres:9.6-alpine", ("postgres", "9.6-alpine")),
    ("docker.io/library/postgres:15@sha256:abc", ("postgres", "15")),
    ("registry.example.com:5000/team/app:1", ("registry.example.com:5000/team/app", "1")),
    ("Busybox", ("busybox", "")),
])
def test_parse_image(ref, expected):
    assert images.parse_image(ref) == expected


def test_container_paths_map_to_the_sandbox_volumes_or_the_container_layer(tmp_path):
    sb = tmp_path / "sb"
    mounts = {"/var/lib/mysql": tmp_path / "vol", "/data": tmp_path / "d"}
    c2h = images.container_to_host
    assert c2h("/mnt/mesos/sandbox/pgdata", sb, mounts) == sb / "pgdata"
    assert c2h("/mnt/mesos/sandbox", sb, mounts) == sb
    assert c2h("$MESOS_SANDBOX/pgdata/x", sb, mounts) == sb / "pgdata/x"
    assert c2h("${MESOS_SANDBOX}/a", sb, mounts) == sb / "a"
    assert c2h("pgdata", sb, mounts) == sb / "pgdata"
    assert c2h("/var/lib/mysql/db", sb, mounts) == tmp_path / "vol" / "db"
    assert c2h("/database", sb, mounts) == sb / ".rootfs/database"
    assert c2h("/var/lib/postgresql/data", sb, mounts) == sb / ".rootfs/var/lib/postgresql/data"
    assert c2h(str(sb / "x"), sb, mounts) == sb / "x"


def test_host_volume_with_absolute_container_path_is_a_mount(tmp_path):
    sb = tmp_path / "sb"
    sb.mkdir()
    app = {"container": {"volumes": [
        {"containerPath": "data", "mode": "RW", "persistent": {"size": 1}},
        {"containerPath": "/var/lib/mysql", "hostPath": "data", "mode": "RW"},
    ]}}
    mounts = images.link_volumes(app, sb, {"data": tmp_path / "vol"})
    assert mounts == {"/var/lib/mysql": sb / "data"}
    assert os.readlink(sb / "data") == str(tmp_path / "vol")
    assert images.container_to_host("/var/lib/mysql/ibdata", sb, mounts).resolve() == (tmp_path / "vol" / "ibdata").resolve()


def test_missing_absolute_host_path_is_refused(tmp_path):
    app = {"container": {"volumes": [{"containerPath": "/x", "hostPath": str(tmp_path / "absent"), "mode": "RO"}]}}
    with pytest.raises(images.LaunchError, match="host path '.*absent' of volume '/x' does not exist"):
        images.link_volumes(app, tmp_path, {})


def test_postgres_bin_dir_prefers_cluster_then_tag_then_newest(tmp_path, monkeypatch):
    for v in ("9.6", "13", "15"):
        (tmp_path / v / "bin").mkdir(parents=True)
        for prog in ("postgres", "initdb"):
            (tmp_path / v / "bin" / prog).write_text("")
    monkeypatch.setattr(images, "POSTGRES_ROOT", tmp_path)
    assert images.postgres_bin_dir("9.5") == tmp_path / "15" / "bin"
    assert images.postgres_bin_dir("13.4-alpine") == tmp_path / "13" / "bin"
    assert images.postgres_bin_dir("9.6") == tmp_path / "9.6" / "bin"
    assert images.postgres_bin_dir("latest") == tmp_path / "15" / "bin"
    assert images.postgres_bin_dir("15", data_version="13") == tmp_path / "13" / "bin"


def test_postgres_bin_dir_missing_server_is_a_pull_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "POSTGRES_ROOT", tmp_path)
    with pytest.raises(images.LaunchError, match="Failed to pull image 'postgres:15': PostgreSQL server is not installed"):
        images.postgres_bin_dir("15")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to play another user")
def test_ensure_reachable_fixes_only_below_the_data_dir(tmp_path):
    nobody = pwd.getpwnam("nobody")
    outer = Path(tempfile.mkdtemp(prefix="lm-reach-"))
    try:
        os.chmod(outer, 0o755)
        data = outer / "data"
        (data / "volumes" / "v").mkdir(parents=True)
        os.chmod(data, 0o700)
        os.chmod(data / "volumes", 0o700)
        images.ensure_reachable(data / "volumes" / "v", nobody, data, "PGDATA")
        assert stat.S_IMODE(data.stat().st_mode) == 0o701
        assert stat.S_IMODE((data / "volumes").stat().st_mode) == 0o701
        os.chmod(outer, 0o700)
        with pytest.raises(images.LaunchError, match=rf"directory {outer} has mode 0700"):
            images.ensure_reachable(data / "volumes" / "v", nobody, data, "PGDATA")
    finally:
        shutil.rmtree(outer, ignore_errors=True)


def test_missing_postgres_user_fails_clearly(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("the postgres user is only needed when running as root")

    def no_user(name):
        raise KeyError(name)

    monkeypatch.setattr(images.pwd, "getpwnam", no_user)
    ctx = images.TaskContext(task_id="t", app={"container": {"docker": {"image": "postgres:15"}}},
                             sandbox=tmp_path, env={}, ports=[], volumes={}, mounts={})
    if not HAVE_POSTGRES:
        pytest.skip("no PostgreSQL installed")
    with pytest.raises(images.LaunchError, match="needs the 'postgres' OS user"):
        images.plan_for(ctx)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to play another user")
def test_allow_search_opens_every_blocking_directory_for_one_purpose(tmp_path):
    outer = Path(tempfile.mkdtemp(prefix="lm-allow-"))
    try:
        (outer / "a" / "b").mkdir(parents=True)
        os.chmod(outer, 0o700)
        os.chmod(outer / "a", 0o750)
        os.chmod(outer / "a" / "b", 0o700)
        images.allow_search(outer / "a" / "b", "nobody")
        assert [stat.S_IMODE(p.stat().st_mode) for p in (outer, outer / "a", outer / "a" / "b")] == [0o701, 0o751, 0o701]
        images.ensure_reachable(outer / "a" / "b" / "c", pwd.getpwnam("nobody"), None, "x")  # no error now
    finally:
        shutil.rmtree(outer, ignore_errors=True)


@needs_postgres
def test_postgres_image_of_another_major_refuses_the_data_directory(agent, marker, data_dir, port):
    """postgres:16 on a data directory postgres:15 initialized stops with PostgreSQL's own message and
    leaves the files alone; postgres:15 starts on them again with every row."""
    rec = Recorder()
    volume = data_dir / "volumes" / "db_postgres#pgdata#1"
    volume.mkdir(parents=True)
    app = pg_app(POSTGRES_PASSWORD="pw", PGDATA="/mnt/mesos/sandbox/pgdata")
    first = launch(agent, app, marker, rec, [port], {"pgdata": volume}, n=1)
    wait_accepting(port, rec, first.task_id, password="pw")
    r = psql(port, "create table t (n int); insert into t select generate_series(1, 25)", password="pw")
    assert r.returncode == 0, r.stderr
    agent.kill(first.task_id)
    assert rec.final(first.task_id, timeout=15)[2] == "TASK_KILLED"
    assert (volume / images.IMAGE_MAJOR_FILE).read_text().strip() == "15"
    files_before = sorted(p.name for p in volume.iterdir())

    newer = dict(app, container={**app["container"], "docker": {"image": "postgres:16"}})
    second = launch(agent, newer, marker, rec, [port], {"pgdata": volume}, n=2)
    end = rec.final(second.task_id, timeout=15)
    assert end[2] == "TASK_FAILED" and end[3] == "Container exited with status 1"
    stderr = (second.sandbox_dir / "stderr").read_text()
    assert "FATAL:  database files are incompatible with server" in stderr
    assert ("DETAIL:  The data directory was initialized by PostgreSQL version 15, "
            "which is not compatible with this version 16.") in stderr
    assert sorted(p.name for p in volume.iterdir()) == files_before
    assert (volume / images.IMAGE_MAJOR_FILE).read_text().strip() == "15"

    third = launch(agent, app, marker, rec, [port], {"pgdata": volume}, n=3)
    wait_accepting(port, rec, third.task_id, password="pw")
    assert psql(port, "select count(*) from t", password="pw").stdout.strip() == "25"


def test_initializing_major_is_the_recorded_image_major_else_pg_version(tmp_path):
    assert images._initializing_major(tmp_path, None) is None
    assert images._initializing_major(tmp_path, "15") == "15"
    (tmp_path / images.IMAGE_MAJOR_FILE).write_text("9.6\n")
    assert images._initializing_major(tmp_path, "15") == "9.6"
