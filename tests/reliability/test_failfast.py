"""Category 6: deployments that cannot finish (issue 14).

Real processes: each case runs marathon_app (or marathon_task_info) as Ansible runs it against its
own localmarathon, with a wait_timeout far beyond what the case needs. A deployment that cannot
finish must fail early (the fail-fast message, not "Timed out") naming its cause, with the diagnosis
as data; a slow but healthy start and a rolling restart of a healthy app must succeed even with
fail_after_task_failures=1.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from localmarathon.testing import LocalMarathon

from conftest import REPO, TIME_SCALE

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
TUTORIAL = REPO / "tests/reference/marathon-api/dcos-docs-site/2.2/tutorials/stateful-services/postgres.marathon.json"
WAIT_TIMEOUT = 300
STUCK = "cannot finish, stopped waiting"
# A health check with a grace period longer than any case: the tasks of a case exit before it runs.
PATIENT_CHECK = {"protocol": "COMMAND", "command": {"value": "true"}, "gracePeriodSeconds": 3600,
                 "intervalSeconds": 60, "timeoutSeconds": 20, "maxConsecutiveFailures": 3}


def _app(app_id, **fields):
    app = {"id": app_id, "cmd": "sleep 100000", "cpus": 0.1, "mem": 32, "instances": 1}
    app.update(fields)
    return app


def _deploy(module_runner, lm, definition, **extra):
    args = {"marathon_url": lm.url, "definition": definition, "wait_timeout": WAIT_TIMEOUT}
    args.update(extra)
    run = module_runner.run("marathon_app", args)
    run.assert_clean()
    return run


def _assert_stuck(run, cause, record_property, *named):
    """Failed early with the fail-fast message naming ``named``, and the diagnosis as data."""
    assert run.failed, run.result
    assert STUCK in run.msg and "Timed out" not in run.msg, run.msg
    for text in named:
        assert text in run.msg, (text, run.msg)
    diagnosis = run.result["diagnosis"]
    assert diagnosis["cause"] == cause, diagnosis
    assert diagnosis["reason"] in run.msg
    record_property("seconds_to_failure", round(run.seconds, 1))
    record_property("message", run.msg[:200])
    return diagnosis


@pytest.fixture
def pg_dir():
    # PostgreSQL runs as the unprivileged postgres user, which must reach PGDATA; pytest's
    # tmp_path sits below a 0700 directory.
    path = Path(tempfile.mkdtemp(prefix="rel-ff-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_command_that_exits(lm, module_runner, record_property):
    record_property("case", "a command that exits: fails on the third failure, naming the exit status")
    # The health check (never reached: the task exits first) keeps the deployment unfinished; without
    # one a task counts as started while it runs, and a poll landing in that moment would succeed.
    run = _deploy(module_runner, lm, _app("/ff/exits", cmd="echo starting; exit 3", healthChecks=[PATIENT_CHECK]))
    diagnosis = _assert_stuck(run, "task_failures", record_property, "3 tasks of version", "exited with status 3")
    failures = diagnosis["task_failures"]
    assert len(failures) == 3 and all(f["state"] == "TASK_FAILED" for f in failures), failures
    assert all(f["message"] == "Command exited with status 3" for f in failures), failures
    assert all(f["version"] == diagnosis["version"] for f in failures)
    assert diagnosis["deployment_id"] == run.result["deployment_id"] and diagnosis["current_step"] >= 1


def test_a_command_that_exits_waits_the_timeout_with_zero(lm, module_runner, record_property):
    record_property("case", "fail_after_task_failures=0 keeps the old behaviour: it waits out wait_timeout")
    run = _deploy(module_runner, lm, _app("/ff/zero", cmd="exit 3", healthChecks=[PATIENT_CHECK]),
                  wait_timeout=3, fail_after_task_failures=0)
    assert run.failed and run.msg.startswith("Timed out after 3s"), run.msg
    assert "diagnosis" not in run.result


@pytest.mark.skipif(not PG_BIN, reason="PostgreSQL server binaries not installed")
def test_a_postgresql_data_directory_the_server_cannot_use(pg_dir, module_runner, record_property):
    record_property("case", "PostgreSQL on a data directory it cannot use (PG_VERSION but no cluster)")
    broken = pg_dir / "broken"
    broken.mkdir()
    (broken / "PG_VERSION").write_text(Path(PG_BIN[-1]).parent.name + "\n")
    definition = _app("/ff/pg", cpus=0.2, mem=256, env={"POSTGRES_PASSWORD": "secret-pw-1"},
                      container={"type": "DOCKER", "docker": {"image": "postgres"},
                                 "volumes": [{"containerPath": "/var/lib/postgresql/data", "hostPath": str(broken),
                                              "mode": "RW"}]})
    del definition["cmd"]
    with LocalMarathon(pg_dir / "lm", time_scale=TIME_SCALE) as lm:
        run = _deploy(module_runner, lm, definition)
        diagnosis = _assert_stuck(run, "task_failures", record_property, "Container exited with status")
    assert all(f["state"] == "TASK_FAILED" for f in diagnosis["task_failures"])
    assert "secret-pw-1" not in run.stdout


def test_a_health_check_that_always_fails(lm, module_runner, record_property):
    record_property("case", "a health check that always fails: tasks killed by it, its cause named")
    check = {"protocol": "COMMAND", "command": {"value": "echo 'no database here' >&2; exit 1"},
             "gracePeriodSeconds": 20, "intervalSeconds": 10, "timeoutSeconds": 5, "maxConsecutiveFailures": 2}
    run = _deploy(module_runner, lm, _app("/ff/unhealthy", healthChecks=[check]))
    diagnosis = _assert_stuck(run, "task_failures", record_property, "health check: ")
    assert diagnosis["health_check_failure"], diagnosis
    assert diagnosis["health_check_failure"] in run.msg


def test_an_app_needing_more_cpus_than_any_agent_has(tmp_path, module_runner, record_property):
    record_property("case", "an app needing more cpus than any agent has: offers declined, InsufficientCpus")
    with LocalMarathon(tmp_path / "lm", agents=2, time_scale=TIME_SCALE,
                       extra_args=["--agent-resources", "cpus=4,mem=8192"]) as lm:
        run = _deploy(module_runner, lm, _app("/ff/big", cpus=6), offer_decline_grace=3)
        diagnosis = _assert_stuck(run, "offers_declined", record_property, "every offer was declined",
                                  "InsufficientCpus (2 of 2 last offers)")
        last = {s["reason"]: s for s in diagnosis["offers"]["rejectSummaryLastOffers"]}
        assert last["InsufficientCpus"]["declined"] == 2 and diagnosis["queue_count"] == 1
        assert diagnosis["task_failures"] == [] and diagnosis["deployment_id"] == run.result["deployment_id"]

        # marathon_task_info's wait fails the same way.
        waited = module_runner.run("marathon_task_info", {"marathon_url": lm.url, "app_id": "/ff/big",
                                                          "wait_for": "running", "wait_sleep": 0.2,
                                                          "offer_decline_grace": 2})
        waited.assert_clean()
        assert waited.failed and STUCK in waited.msg and "InsufficientCpus" in waited.msg, waited.result
        assert waited.result["diagnosis"]["cause"] == "offers_declined"
        assert waited.result["summary"]["running"] == 0


def test_a_constraint_no_agent_meets(tmp_path, module_runner, record_property):
    record_property("case", "a constraint no agent meets: offers declined, UnfulfilledConstraint")
    with LocalMarathon(tmp_path / "lm", agents=2, time_scale=TIME_SCALE,
                       extra_args=["--agent-attributes", "rack:a"]) as lm:
        run = _deploy(module_runner, lm, _app("/ff/placed", constraints=[["rack", "IS", "b"]]), offer_decline_grace=3)
        _assert_stuck(run, "offers_declined", record_property, "UnfulfilledConstraint (2 of 2 last offers)")


@pytest.mark.skipif(not PG_BIN, reason="PostgreSQL server binaries not installed")
def test_a_postgresql_start_longer_than_one_health_interval_is_not_failed(pg_dir, module_runner, record_property):
    record_property("case", "counter-case: PostgreSQL starting longer than one health interval, within its grace")
    # The tutorial's app, its TCP check every 10 s instead of 60 s: at time scale 60 the interval is 1/6 s and
    # the grace 5 s; initdb and the first start take several intervals, so the first checks fail within the grace.
    definition = json.loads(TUTORIAL.read_text())
    definition.update(id="/ff/slowpg", cpus=0.2, mem=256)
    definition["env"]["POSTGRES_PASSWORD"] = "secret-pw-2"
    definition["healthChecks"][0]["intervalSeconds"] = 10
    with LocalMarathon(pg_dir / "lm", time_scale=60.0) as lm:
        run = _deploy(module_runner, lm, definition, fail_after_task_failures=1, wait_for="healthy")
        assert not run.failed, run.msg
        assert run.result["tasks_healthy"] == 1 and "lastTaskFailure" not in run.result["app"]
        record_property("seconds_to_healthy", round(run.seconds, 1))


def test_a_rolling_restart_of_a_healthy_app_is_not_failed(lm, module_runner, record_property):
    record_property("case", "counter-case: a rolling restart of a healthy app (old tasks killed by the deployment)")
    check = {"protocol": "COMMAND", "command": {"value": "true"}, "gracePeriodSeconds": 20, "intervalSeconds": 10,
             "maxConsecutiveFailures": 1}
    app = _app("/ff/rolling", instances=2, healthChecks=[check],
               upgradeStrategy={"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0})
    first = _deploy(module_runner, lm, app, fail_after_task_failures=1)
    assert not first.failed and first.result["tasks_healthy"] == 2, first.msg
    run = module_runner.run("marathon_app", {"marathon_url": lm.url, "app_id": "/ff/rolling", "state": "restarted",
                                             "wait_timeout": WAIT_TIMEOUT, "fail_after_task_failures": 1})
    run.assert_clean()
    assert not run.failed and run.result["changed"], run.msg
    old = {t["id"] for t in first.result["app"]["tasks"]}
    new = {t["id"] for t in run.result["app"]["tasks"]}
    assert len(new) == 2 and not old & new and run.result["tasks_healthy"] == 2


def test_a_no_change_rerun_is_still_one_get(lm, module_runner, record_property):
    record_property("case", "a no-change rerun with fail-fast on: exactly one GET, no write")
    app = _app("/ff/steady")
    assert not _deploy(module_runner, lm, app).failed
    before = len(lm.requests())
    rerun = _deploy(module_runner, lm, app)
    assert not rerun.failed and not rerun.result["changed"]
    requests = lm.requests()[before:]
    assert [(r["method"], r["path"]) for r in requests] == [("GET", "/v2/apps/ff/steady")], requests


def test_the_rollout_summary_row_of_a_failed_cluster_shows_the_cause(tmp_path, playbook_runner, record_property):
    record_property("case", "ansible-playbook with the rollout_summary callback: the failed row shows the cause")
    summary = tmp_path / "summary.json"
    with LocalMarathon(tmp_path / "lm", time_scale=TIME_SCALE, extra_args=["--agent-resources", "cpus=2"]) as lm:
        plays = [{"hosts": "localhost", "gather_facts": False, "tasks": [{
            "name": "Deploy an app no agent has the cpus for",
            "dcos.marathon.marathon_app": {"marathon_url": lm.url, "definition": _app("/ff/rollout", cpus=3),
                                           "wait_timeout": WAIT_TIMEOUT, "offer_decline_grace": 2}}]}]
        done = playbook_runner.run(plays, extra_env={"ANSIBLE_CALLBACKS_ENABLED": "dcos.marathon.rollout_summary",
                                                     "DCOS_MARATHON_ROLLOUT_SUMMARY_JSON": str(summary)})
    assert done.returncode != 0, done.stdout[-2000:]
    (row,) = json.loads(summary.read_text())["clusters"]
    assert row["status"] == "failed" and row["app_id"] == "/ff/rollout", row
    assert row["cause"].startswith("every offer was declined for") and "InsufficientCpus" in row["cause"], row
    assert "localhost: cause: every offer was declined" in done.stdout
