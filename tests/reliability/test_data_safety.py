"""Category 3: data safety of resident apps (issue 8, item 3).

* 20 stop/start cycles of the DC/OS tutorial's PostgreSQL app, driven by marathon_app, with a row
  written through psql before each stop: every row is read back after every start, and the
  instance always comes back on the same persistent volume;
* state=absent on a resident app is refused without allow_data_loss (through the module and the
  stateful_postgres role), and nothing ever asks Marathon to wipe a reservation;
* changes Marathon forbids on a resident app are refused before any write request;
* the stateful_postgres role's backups: repeated backup -> remove (allow_data_loss) -> restore cycles
  lose no row, a backup that fails blocks the removal, and a PostgreSQL major change of the image is
  refused before any write, or moved by dump and restore with every row.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from localmarathon.testing import LocalMarathon

from conftest import REPO, log_since, volumes, writes_since

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
TUTORIAL = REPO / "tests/reference/marathon-api/dcos-docs-site/2.2/tutorials/stateful-services/postgres.marathon.json"
CYCLES = 20
PG_TIME_SCALE = 60.0  # the tutorial's health check: interval 60 s -> 1 s, grace 300 s -> 5 s


@pytest.fixture
def pg_dir():
    # PostgreSQL runs as the unprivileged postgres user, which must reach PGDATA; pytest's
    # tmp_path sits below a 0700 directory.
    path = Path(tempfile.mkdtemp(prefix="rel-pg-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def psql(port, password, sql):
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
    out = subprocess.run([f"{PG_BIN[-1]}/psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres",
                          "-X", "-v", "ON_ERROR_STOP=1", "-tAc", sql], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.skipif(not PG_BIN, reason="PostgreSQL server binaries not installed")
def test_stop_start_cycles_keep_every_row(pg_dir, module_runner, record_property):
    record_property("case", f"{CYCLES} stop/start cycles of the tutorial PostgreSQL app with psql writes")
    assert TUTORIAL.is_file(), f"reference data missing: {TUTORIAL} (the vendored reference files, tests/reference)"
    password = "pg-" + secrets.token_hex(12)
    definition = json.loads(TUTORIAL.read_text())
    definition["env"]["POSTGRES_PASSWORD"] = password
    definition.update(cpus=0.2, mem=256)
    lost, row_counts = [], []
    with LocalMarathon(pg_dir / "lm", time_scale=PG_TIME_SCALE) as lm:
        base = {"marathon_url": lm.url, "app_id": "/postgres", "wait_timeout": 120}

        def apply(state, **extra):
            since = time.time()
            run = module_runner.run("marathon_app", dict(base, state=state, **extra))
            run.assert_clean()
            assert not run.failed, run.msg
            writes = writes_since(lm, since)
            assert len(writes) == 1, f"{state}: {len(writes)} writes"
            return run.result

        result = apply("present", definition=definition, wait_for="healthy")
        task = result["app"]["tasks"][0]
        volume = task["localVolumes"][0]["persistenceId"]
        assert list(volumes(lm)) == [volume]
        psql(task["ports"][0], password, "CREATE TABLE kept (n int PRIMARY KEY, at timestamptz DEFAULT now())")
        for n in range(1, CYCLES + 1):
            port = task["ports"][0]
            psql(port, password, f"INSERT INTO kept (n) VALUES ({n})")
            stopped = apply("stopped")
            assert stopped["tasks_running"] == 0 and stopped["app"]["instances"] == 0
            (suspended,) = stopped["app"]["tasks"]
            if suspended["localVolumes"][0]["persistenceId"] != volume:
                lost.append(f"cycle {n}: the suspended instance has another volume")
            started = apply("started", wait_for="healthy")
            assert started["tasks_healthy"] == 1, started
            (task,) = started["app"]["tasks"]
            if task["localVolumes"][0]["persistenceId"] != volume:
                lost.append(f"cycle {n}: the instance came back on another volume")
            rows = [int(x) for x in psql(task["ports"][0], password, "SELECT n FROM kept ORDER BY n").split()]
            row_counts.append(len(rows))
            missing = sorted(set(range(1, n + 1)) - set(rows))
            if missing:
                lost.append(f"cycle {n}: rows {missing} lost")
        if list(volumes(lm)) != [volume]:
            lost.append(f"volumes on disk: {list(volumes(lm))}, expected only {volume}")
        wiped = [r for r in lm.requests() if "wipe" in r["query"]]
        assert not wiped, wiped
    record_property("cycles", CYCLES)
    record_property("rows_written", CYCLES)
    record_property("rows_read_back", row_counts[-1] if row_counts else 0)
    record_property("lost", lost)
    assert not lost, lost
    assert row_counts == list(range(1, CYCLES + 1))


RESIDENT = {"id": "/safe/db", "cmd": "sleep 100000", "cpus": 0.1, "mem": 32, "disk": 0, "instances": 1,
            "container": {"type": "MESOS", "volumes": [
                {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]},
            "portDefinitions": [{"port": 0, "name": "pg"}],
            "upgradeStrategy": {"minimumHealthCapacity": 0, "maximumOverCapacity": 0}}


@pytest.fixture
def resident(lm, api):
    r = api.request("POST", "/v2/apps", json=RESIDENT)
    assert r.status_code == 201, r.text
    api.wait_running(RESIDENT["id"], 1)
    (pid, path), = volumes(lm).items()
    (path / "marker").write_text(pid)
    # The server logs a request after answering it; let the setup settle before counting.
    time.sleep(0.05)
    return pid


def volume_intact(lm, pid):
    path = volumes(lm).get(pid)
    return [] if path is not None and (path / "marker").is_file() else [f"volume {pid} lost"]


@pytest.mark.parametrize("check", [False, True], ids=["run", "check_mode"])
def test_absent_refused_without_allow_data_loss(check, lm, api, resident, module_runner, record_property):
    record_property("case", "state=absent without allow_data_loss" + (" (check mode)" if check else ""))
    since = time.time()
    run = module_runner.run("marathon_app", {"marathon_url": lm.url, "app_id": RESIDENT["id"], "state": "absent"},
                            check=check)
    run.assert_clean()
    assert run.failed, run.result
    assert "allow_data_loss" in run.msg and "persistent volumes" in run.msg and "data" in run.msg, run.msg
    assert [r["method"] for r in log_since(lm, since)] == ["GET"], "only the app was read"
    lost = volume_intact(lm, resident) + ([] if api.app(RESIDENT["id"]) else ["the app was removed"])
    record_property("lost", lost)
    assert not lost


def test_role_absent_refused_without_allow_data_loss(lm, api, playbook_runner, record_property):
    """The stateful_postgres role passes allow_data_loss through; without it the app and volume stay."""
    record_property("case", "stateful_postgres role, state absent without allow_data_loss")
    r = api.request("POST", "/v2/apps", json=dict(RESIDENT, id="/pgrole"))
    assert r.status_code == 201, r.text
    api.wait_running("/pgrole", 1)
    time.sleep(0.05)
    before = dict(volumes(lm))
    since = time.time()
    out = playbook_runner.run([{
        "hosts": "localhost", "gather_facts": False,
        "roles": [{"role": "dcos.marathon.stateful_postgres", "stateful_postgres_state": "absent",
                   "stateful_postgres_app_id": "/pgrole", "stateful_postgres_marathon_url": lm.url}],
    }])
    text = out.stdout + out.stderr
    assert out.returncode != 0, text
    assert "has persistent volumes" in text and "allow_data_loss" in text and "Traceback" not in text, text[-3000:]
    assert writes_since(lm, since) == []
    lost = [] if volumes(lm) == before and api.app("/pgrole") else ["the app or its volume was removed"]
    record_property("lost", lost)
    assert not lost


FORBIDDEN = {
    "cpus": lambda d: d.update(cpus=0.2),
    "mem": lambda d: d.update(mem=64),
    "disk": lambda d: d.update(disk=5),
    "volume size": lambda d: d["container"]["volumes"][0]["persistent"].update(size=20),
    "volume containerPath": lambda d: d["container"]["volumes"][0].update(containerPath="other"),
    "volume removed": lambda d: d["container"].update(volumes=[]),
    "second volume": lambda d: d["container"]["volumes"].append(
        {"containerPath": "more", "mode": "RW", "persistent": {"size": 5}}),
    "host port fixed": lambda d: d.update(portDefinitions=[{"port": 0, "name": "pg"}], requirePorts=True),
}
EXPECT = {"volume size": "container.volumes", "volume containerPath": "container.volumes",
          "volume removed": "container.volumes", "second volume": "container.volumes", "host port fixed": "requirePorts"}


@pytest.mark.parametrize("change", list(FORBIDDEN))
def test_forbidden_resident_change_refused_before_any_write(change, lm, api, resident, module_runner, record_property):
    record_property("case", f"forbidden change on a resident app: {change}")
    desired = json.loads(json.dumps(RESIDENT))
    FORBIDDEN[change](desired)
    since = time.time()
    run = module_runner.run("marathon_app", {"marathon_url": lm.url, "definition": desired})
    run.assert_clean()
    assert run.failed, f"the module accepted a forbidden change: {run.result.get('changes')}"
    assert EXPECT.get(change, change) in run.msg and "Nothing was sent" in run.msg, run.msg
    assert [r["method"] for r in log_since(lm, since)] == ["GET"], log_since(lm, since)
    live = api.app(RESIDENT["id"])
    lost = volume_intact(lm, resident)
    if live["tasksRunning"] != 1:
        lost.append("the task stopped")
    record_property("lost", lost)
    assert not lost


# ---- backups of the stateful_postgres role (issue 16) ----------------------------------------------

BACKUP_CYCLES = 5


def role_task(name, variables, tasks_from=None):
    include = {"name": "dcos.marathon.stateful_postgres", **({"tasks_from": tasks_from} if tasks_from else {})}
    return {"name": name, "ansible.builtin.include_role": include, "vars": variables}


def role_vars(lm, password, backup_dir, **extra):
    return dict({"stateful_postgres_marathon_url": lm.url, "stateful_postgres_password": password,
                 "stateful_postgres_cpus": 0.2, "stateful_postgres_mem": 256, "stateful_postgres_image": "postgres:15",
                 "stateful_postgres_wait_timeout": 120, "stateful_postgres_backup_dir": str(backup_dir),
                 "stateful_postgres_backup_keep": 3}, **extra)


def run_role(playbook_runner, *tasks):
    out = playbook_runner.run([{"hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}], timeout=600)
    return out, out.stdout + out.stderr


def pg_task(lm):
    """The one running task of /postgres (host port, persistence id)."""
    with urllib.request.urlopen(lm.url + "/v2/apps/postgres?embed=app.tasks", timeout=10) as response:
        (task,) = [t for t in json.load(response)["app"]["tasks"] if t["state"] == "TASK_RUNNING"]
    return task["ports"][0], task["localVolumes"][0]["persistenceId"]


@pytest.mark.skipif(not PG_BIN, reason="PostgreSQL server binaries not installed")
def test_backup_remove_restore_cycles_keep_every_row(pg_dir, playbook_runner, record_property):
    """Each cycle writes rows, removes the app with allow_data_loss (the role backs up first) and
    restores the newest backup onto a new app and volume; every row written so far must be back."""
    record_property("case", f"{BACKUP_CYCLES} backup, remove (allow_data_loss) and restore cycles of the role's "
                            f"PostgreSQL with psql writes")
    password = "pg-" + secrets.token_hex(12)
    backup_dir = pg_dir / "backups"
    lost, rows_read, volumes_seen = [], [], []
    with LocalMarathon(pg_dir / "lm", time_scale=PG_TIME_SCALE) as lm:
        common = role_vars(lm, password, backup_dir)
        out, text = run_role(playbook_runner, role_task("deploy", dict(common, stateful_postgres_state="started")))
        assert out.returncode == 0, text[-3000:]
        port, volume = pg_task(lm)
        psql(port, password, "CREATE TABLE kept (n int PRIMARY KEY, note text)")
        for cycle in range(1, BACKUP_CYCLES + 1):
            psql(port, password, f"INSERT INTO kept SELECT g, 'cycle {cycle}' FROM generate_series({cycle * 100 - 99}, "
                                 f"{cycle * 100}) g")
            volumes_seen.append(volume)
            out, text = run_role(
                playbook_runner,
                role_task("remove", dict(common, stateful_postgres_state="absent", stateful_postgres_allow_data_loss=True)),
                role_task("restore", common, tasks_from="restore"))
            assert out.returncode == 0, text[-3000:]
            assert password not in text
            port, volume = pg_task(lm)
            if volume in volumes_seen:
                lost.append(f"cycle {cycle}: the app was not removed (same volume {volume})")
            if any(v in volumes(lm) for v in volumes_seen):
                lost.append(f"cycle {cycle}: an old volume is still on disk")
            rows = [int(x) for x in psql(port, password, "SELECT n FROM kept ORDER BY n").split()]
            rows_read.append(len(rows))
            missing = sorted(set(range(1, cycle * 100 + 1)) - set(rows))
            if missing:
                lost.append(f"cycle {cycle}: {len(missing)} rows lost (first {missing[:5]})")
        kept = sorted(p.name for p in backup_dir.glob("localhost_postgres_*.pgc"))
        assert len(kept) == 3, kept
    record_property("cycles", BACKUP_CYCLES)
    record_property("rows_written", BACKUP_CYCLES * 100)
    record_property("rows_read_back", rows_read[-1] if rows_read else 0)
    record_property("lost", lost)
    assert not lost, lost
    assert rows_read == [cycle * 100 for cycle in range(1, BACKUP_CYCLES + 1)]


@pytest.mark.skipif(not PG_BIN, reason="PostgreSQL server binaries not installed")
def test_failed_backup_blocks_the_removal(pg_dir, playbook_runner, record_property):
    record_property("case", "stateful_postgres role, absent with allow_data_loss whose backup fails "
                            "(backup dir below a file): nothing removed")
    password = "pg-" + secrets.token_hex(12)
    (pg_dir / "a-file").write_text("not a directory\n")
    with LocalMarathon(pg_dir / "lm", time_scale=PG_TIME_SCALE) as lm:
        common = role_vars(lm, password, pg_dir / "backups")
        out, text = run_role(playbook_runner, role_task("deploy", dict(common, stateful_postgres_state="started")))
        assert out.returncode == 0, text[-3000:]
        port, volume = pg_task(lm)
        psql(port, password, "CREATE TABLE kept AS SELECT generate_series(1, 50) AS n")
        time.sleep(0.05)
        since = time.time()
        out, text = run_role(playbook_runner, role_task("remove", dict(
            common, stateful_postgres_state="absent", stateful_postgres_allow_data_loss=True,
            stateful_postgres_backup_dir=str(pg_dir / "a-file" / "backups"))))
        assert out.returncode != 0, text[-3000:]
        assert "Not a directory" in text and "Traceback" not in text and password not in text, text[-3000:]
        writes = writes_since(lm, since)
        lost = [f"{len(writes)} writes sent"] if writes else []
        if volume not in volumes(lm) or pg_task(lm)[1] != volume:
            lost.append("the app or its volume was removed")
        elif psql(pg_task(lm)[0], password, "SELECT count(*) FROM kept") != "50":
            lost.append("rows lost")
    record_property("lost", lost)
    assert not lost, lost


@pytest.mark.skipif(not PG_BIN, reason="PostgreSQL server binaries not installed")
def test_role_major_upgrade_refused_before_any_write_then_dump_restore_keeps_every_row(
        pg_dir, playbook_runner, record_property):
    record_property("case", "stateful_postgres role, postgres:15 -> postgres:16 on the volume: refused with no write; "
                            "stateful_postgres_major_upgrade=dump_restore keeps every row")
    password = "pg-" + secrets.token_hex(12)
    with LocalMarathon(pg_dir / "lm", time_scale=PG_TIME_SCALE) as lm:
        common = role_vars(lm, password, pg_dir / "backups")
        out, text = run_role(playbook_runner, role_task("deploy", dict(common, stateful_postgres_state="started")))
        assert out.returncode == 0, text[-3000:]
        port, volume = pg_task(lm)
        psql(port, password, "CREATE TABLE kept AS SELECT generate_series(1, 1000) AS n")
        time.sleep(0.05)
        since = time.time()
        out, text = run_role(playbook_runner, role_task("upgrade", dict(common, stateful_postgres_image="postgres:16")))
        assert out.returncode != 0 and "stateful_postgres_major_upgrade=dump_restore" in text, text[-3000:]
        lost = [f"refused upgrade: {len(writes_since(lm, since))} writes"] if writes_since(lm, since) else []
        out, text = run_role(playbook_runner, role_task("upgrade", dict(
            common, stateful_postgres_image="postgres:16", stateful_postgres_major_upgrade="dump_restore")))
        assert out.returncode == 0 and password not in text, text[-3000:]
        port, new_volume = pg_task(lm)
        if new_volume == volume:
            lost.append("the upgrade kept the old volume")
        count = psql(port, password, "SELECT count(*) FROM kept")
        if count != "1000":
            lost.append(f"{1000 - int(count)} rows lost in the upgrade")
        if len(list((pg_dir / "backups").glob("*.pgc"))) != 1:
            lost.append("the upgrade's backup was not kept")
    record_property("lost", lost)
    assert not lost, lost
