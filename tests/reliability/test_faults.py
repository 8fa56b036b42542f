"""Category 1: faults injected by localmarathon while marathon_app works (issue 8, item 1).

Every fault is tried against every starting point of the module:

* ``present-create``  the app does not exist: one POST creates it (with a persistent volume);
* ``present-update``  the app runs: one PUT changes its environment (the task restarts on its volume);
* ``stopped``         the app runs: it is scaled to 0 (the instance is suspended, the volume stays);
* ``started``         the app is suspended: it is scaled back to 1 on the same volume;
* ``absent``          the app runs: it is removed (allow_data_loss=true).

For each case the outcome must be one of two: converged with exactly one effective write
(``write: true`` in requests.jsonl), or a clear failure that left the app as it was. In both,
no volume may be lost (same persistence ids, a marker file inside still readable) and there must
never be a second app or extra task.
"""

from __future__ import annotations

import time

import pytest

from localmarathon.testing import LOGIN_PATH, Api, LocalMarathon, wait_for

from conftest import TIME_SCALE, log_since, volumes, writes_since
from proxy import ResetAfterApplyProxy

APP = "/rel/db"
VARIANTS = ("present-create", "present-update", "stopped", "started", "absent")
WRITE_METHOD = {"present-create": "POST", "present-update": "PUT", "stopped": "PUT", "started": "PUT",
                "absent": "DELETE"}
MARKER = "marker.txt"
USER = ("ops", "ops-Pw-7f3a1c")


def definition(gen: str = "1", instances: int = 1, stubborn: bool = False) -> dict:
    defn = {
        "id": APP, "cmd": "sleep 100000", "cpus": 0.1, "mem": 32, "instances": instances,
        "env": {"GEN": gen},
        "container": {"type": "MESOS", "volumes": [
            {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]},
        "upgradeStrategy": {"minimumHealthCapacity": 0, "maximumOverCapacity": 0},
    }
    if stubborn:
        # Deployments that really get stuck inside a step: starting ones wait for a health check
        # (the "unhealthy" fault fails it), stopping ones for a task that ignores SIGTERM (until the
        # kill grace period, 100 s / time scale, ends).
        defn.update(
            cmd="trap '' TERM; while :; do sleep 1; done",
            taskKillGracePeriodSeconds=100,
            healthChecks=[{"protocol": "COMMAND", "command": {"value": "true"}, "gracePeriodSeconds": 300,
                           "intervalSeconds": 1, "timeoutSeconds": 1, "delaySeconds": 0,
                           "maxConsecutiveFailures": 0}],
        )
    return defn


class Case:
    """One starting point: sets the app up and knows what "converged" means."""

    def __init__(self, variant: str, lm: LocalMarathon, api: Api, stubborn: bool = False):
        self.variant, self.lm, self.api, self.stubborn = variant, lm, api, stubborn
        self.method = WRITE_METHOD[variant]
        self.before_app = None
        self.before_volumes = {}

    def prepare(self):
        api = self.api
        if self.variant != "present-create":
            r = api.request("POST", "/v2/apps", json=definition(stubborn=self.stubborn))
            assert r.status_code == 201, r.text
            api.wait_running(APP, 1)
            if self.variant == "started":
                r = api.request("PUT", "/v2/apps" + APP, params={"partialUpdate": "true"}, json={"instances": 0})
                assert r.status_code == 200, r.text
                api.wait_running(APP, 0)
            self.before_volumes = volumes(self.lm)
            assert len(self.before_volumes) == 1, self.before_volumes
            for pid, path in self.before_volumes.items():
                (path / MARKER).write_text(pid)
        self.before_app = api.app(APP)

    def module_args(self, url: str) -> dict:
        args = {"marathon_url": url, "wait_timeout": 30, "request_timeout": 5, "retries": 3}
        if self.variant == "present-create":
            args.update(definition=definition(stubborn=self.stubborn), state="present")
        elif self.variant == "present-update":
            args.update(definition=definition(gen="2", stubborn=self.stubborn), state="present")
        elif self.variant in ("stopped", "started"):
            args.update(app_id=APP, state=self.variant)
        else:
            args.update(app_id=APP, state="absent", allow_data_loss=True)
        return args

    @property
    def want_instances(self) -> int | None:
        return {"stopped": 0, "absent": None}.get(self.variant, 1)

    # ---- judging -------------------------------------------------------------------------

    def lost_volumes(self, applied: bool = True) -> list[str]:
        """Volumes that existed before and are gone or lost their marker (absent may remove them)."""
        if self.variant == "absent" and applied:
            return []
        lost = []
        now = volumes(self.lm)
        for pid, _path in self.before_volumes.items():
            if pid not in now:
                lost.append(f"volume {pid} is gone")
            elif not (now[pid] / MARKER).is_file() or (now[pid] / MARKER).read_text() != pid:
                lost.append(f"volume {pid} lost its data (marker file)")
        extra = set(now) - set(self.before_volumes)
        if self.before_volumes and extra:
            lost.append(f"new volumes {sorted(extra)}: the instance did not come back on its volume")
        if not self.before_volumes and len(now) != (1 if applied else 0):
            lost.append(f"{len(now)} volumes after {'creating one app' if applied else 'a failed create'}")
        return lost

    def duplicates(self) -> list[str]:
        apps = [a for a in self.api.apps() if a["id"] == APP]
        others = [a["id"] for a in self.api.apps() if a["id"] != APP]
        problems = [f"unexpected apps {others}"] if others else []
        if len(apps) > 1:
            problems.append(f"{len(apps)} apps with id {APP}")
        for app in apps:
            if len(app.get("tasks") or []) > 1 or app["tasksRunning"] > 1:
                problems.append(f"{len(app['tasks'])} tasks / {app['tasksRunning']} running for one instance")
        return problems

    def converged(self, since: float) -> list[str]:
        """Problems with a converged outcome (waits for the app to settle first)."""
        problems = []
        if self.variant == "absent":
            wait_for(lambda: self.api.app(APP) is None, 30, f"{APP} to be removed")
        else:
            app = self.api.wait_running(APP, self.want_instances)
            if app["instances"] != self.want_instances:
                problems.append(f"instances {app['instances']} != {self.want_instances}")
            want_gen = "2" if self.variant == "present-update" else "1"
            if app["env"].get("GEN") != want_gen:
                problems.append(f"env GEN {app['env'].get('GEN')!r} != {want_gen!r}")
        writes = writes_since(self.lm, since)
        if len(writes) != 1:
            problems.append(f"{len(writes)} effective writes, not 1: "
                            + ", ".join(f"{w['method']} {w['path']}?{w['query']}" for w in writes))
        return problems + self.duplicates() + self.lost_volumes()

    def unchanged(self, since: float) -> list[str]:
        """Problems with a failed outcome: nothing may have been written or changed."""
        problems = []
        writes = writes_since(self.lm, since)
        if writes:
            problems.append(f"{len(writes)} writes although the task failed")
        app = self.api.app(APP)
        if (app is None) != (self.before_app is None):
            problems.append(f"app {'appeared' if app else 'disappeared'} although the task failed")
        elif app is not None:
            for key in ("version", "instances", "env"):
                if app[key] != self.before_app[key]:
                    problems.append(f"{key} changed from {self.before_app[key]!r} to {app[key]!r}")
        return problems + self.duplicates() + self.lost_volumes(applied=False)


def judge(record_property, problems: list[str]):
    record_property("lost", problems)
    assert not problems, problems


@pytest.fixture
def case_of(lm, api):
    def make(variant, stubborn=False):
        case = Case(variant, lm, api, stubborn)
        case.prepare()
        return case
    return make


def cases(kinds, variants=VARIANTS):
    return [pytest.param(v, k, id=f"{v}-{k}") for k in kinds for v in variants]


# ---- faults answered before the module's requests are handled ----------------------------------

SHORT_BURSTS = {
    # Fewer failures than retries=3 allows; 503 on the write itself, 502 (leader gap page) on anything.
    "burst-503-write": lambda m: {"kind": "status", "status": 503, "count": 2, "method": m},
    "burst-502-any": lambda m: {"kind": "status", "status": 502, "count": 3},
    "drop-write": lambda m: {"kind": "drop", "count": 2, "method": m},
    "drop-any": lambda m: {"kind": "drop", "count": 2},
}


@pytest.mark.parametrize("variant,kind", cases(SHORT_BURSTS))
def test_transient_fault_converges(variant, kind, case_of, lm, api, module_runner, record_property):
    record_property("case", f"{variant}: {kind}")
    case = case_of(variant)
    api.fault(SHORT_BURSTS[kind](case.method))
    since = time.time()
    run = module_runner.run("marathon_app", case.module_args(lm.url))
    run.assert_clean()
    assert not run.failed, run.msg
    assert run.result["changed"] is True
    faulted = [r for r in log_since(lm, since) if r["fault"]]
    assert faulted, "the fault was not hit"
    judge(record_property, case.converged(since))


LONG_BURSTS = {
    # More failures than 1 + retries attempts: the task must fail and change nothing.
    "burst-503-write-long": (lambda m: {"kind": "status", "status": 503, "count": 50, "method": m}, "HTTP 503"),
    "burst-502-any-long": (lambda m: {"kind": "status", "status": 502, "count": 50}, "HTTP 502"),
    "drop-write-long": (lambda m: {"kind": "drop", "count": 50, "method": m}, "after 4 attempt(s)"),
}


@pytest.mark.parametrize("variant,kind", cases(LONG_BURSTS))
def test_persistent_fault_fails_cleanly(variant, kind, case_of, lm, api, module_runner, record_property):
    record_property("case", f"{variant}: {kind}")
    case = case_of(variant)
    spec, words = LONG_BURSTS[kind]
    api.fault(spec(case.method))
    since = time.time()
    run = module_runner.run("marathon_app", case.module_args(lm.url))
    run.assert_clean()
    assert run.failed, run.result
    assert words in run.msg, run.msg
    assert str(lm.port) in run.msg, "the message names the URL"
    api.clear_faults()
    judge(record_property, case.unchanged(since))


@pytest.mark.parametrize("variant,kind", cases(["reset-after-apply"]))
def test_answer_lost_after_write_applied(variant, kind, case_of, lm, api, module_runner, record_property):
    """The server applies the write and the connection is reset before the answer arrives: the
    module must look before it re-sends, so the write is not made twice."""
    record_property("case", f"{variant}: {kind}")
    case = case_of(variant)
    proxy = ResetAfterApplyProxy(lm.port, methods=(case.method,), count=1)
    try:
        since = time.time()
        run = module_runner.run("marathon_app", case.module_args(proxy.url))
    finally:
        proxy.close()
    run.assert_clean()
    assert proxy.lost, "the proxy lost no answer"
    assert not run.failed, run.msg
    judge(record_property, case.converged(since))


# ---- slow answers ------------------------------------------------------------------------------


@pytest.mark.parametrize("variant,kind", cases(["delay-read"]))
def test_slow_read_is_retried(variant, kind, case_of, lm, api, module_runner, record_property):
    record_property("case", f"{variant}: {kind}")
    case = case_of(variant)
    api.fault({"kind": "delay", "seconds": 2.5, "count": 1, "method": "GET"})
    args = dict(case.module_args(lm.url), request_timeout=1)
    since = time.time()
    run = module_runner.run("marathon_app", args)
    run.assert_clean()
    assert not run.failed, run.msg
    # The slow answer is logged when the server finally sends it, after the module moved on.
    wait_for(lambda: any((r["fault"] or "").startswith("delay") for r in log_since(lm, since)), 10, "the slow GET")
    judge(record_property, case.converged(since))


@pytest.mark.parametrize("variant,kind", cases(["delay-write"]))
def test_slow_write(variant, kind, case_of, lm, api, module_runner, record_property):
    """The write's answer takes longer than request_timeout (the server applies it late)."""
    record_property("case", f"{variant}: {kind}")
    case = case_of(variant)
    api.fault({"kind": "delay", "seconds": 2.5, "count": 1, "method": case.method})
    args = dict(case.module_args(lm.url), request_timeout=1)
    since = time.time()
    run = module_runner.run("marathon_app", args)
    run.assert_clean()
    # Let the late write land, and the deployment it started finish, before judging.
    wait_for(lambda: all(r["fault"] is None or r["status"] for r in log_since(lm, since))
             and any(r["fault"] for r in log_since(lm, since)), 10, "the delayed write to be answered")
    wait_for(lambda: not api.deployments(), 30, "the late write's deployment to finish")
    record_property("outcome", "clear failure" if run.failed else "converged")
    if run.failed:
        assert "timed out" in run.msg and "request_timeout" in run.msg, run.msg
        problems = case.duplicates() + case.lost_volumes()
        if len(writes_since(lm, since)) > 1:
            problems.append(f"{len(writes_since(lm, since))} effective writes")
        judge(record_property, problems)
    else:
        judge(record_property, case.converged(since))


# ---- faults while the module waits for its deployment ------------------------------------------


def run_with_midway(api, lm, module_runner, args, action):
    """Hold the deployment (stall), start the module, and once its write landed do ``action``;
    then let the deployment finish and return the finished run."""
    api.fault({"kind": "stall_deployment", "app_id": APP})
    since = time.time()
    run = module_runner.start("marathon_app", args)
    writes = wait_for(lambda: writes_since(lm, since), 30, "the module's write")
    wait_for(lambda: [r for r in log_since(lm, writes[0]["time"]) if r["method"] == "GET" and r["time"] > writes[0]["time"]],
             30, "the module to poll after its write")
    action()
    api.clear_faults()
    return since, run.wait()


@pytest.mark.parametrize("variant,kind", cases(["leader-change"]))
def test_leader_change_during_deployment(variant, kind, case_of, lm, api, module_runner, record_property):
    record_property("case", f"{variant}: {kind}")
    case = case_of(variant)

    def elect():
        elected = time.time()
        api.fault({"kind": "leader_change", "duration": 1.5})
        # The module polls every 0.2 s at most, so it meets the gap; wait until it did (rather than
        # for a fixed time) and until the gap is over.
        wait_for(lambda: [r for r in log_since(lm, elected) if r["fault"] == "leader_change"], 30,
                 "the module to meet the election gap")
        wait_for(lambda: all(f["kind"] != "leader_change"
                             for f in api.s.get(lm.url + "/_localmarathon/faults", timeout=10).json()["faults"]),
                 30, "the election gap to end")

    since, run = run_with_midway(api, lm, module_runner, case.module_args(lm.url), elect)
    run.assert_clean()
    assert not run.failed, run.msg
    gap = [r for r in log_since(lm, since) if r["fault"] == "leader_change"]
    assert gap and all(r["status"] == 502 for r in gap), "the module sent no request during the election gap"
    judge(record_property, case.converged(since))


@pytest.mark.parametrize("variant,kind", cases(["restart-localmarathon"]))
def test_marathon_restart_while_waiting(variant, kind, case_of, lm, api, module_runner, record_property):
    record_property("case", f"{variant}: {kind}")
    case = case_of(variant)
    args = dict(case.module_args(lm.url), retries=6)
    since, run = run_with_midway(api, lm, module_runner, args, lm.restart)
    run.assert_clean()
    assert not run.failed, run.msg
    judge(record_property, case.converged(since))


STUCK_ACTION = {"present-create": "step 2/2, current actions: ScaleApplication " + APP,
                "present-update": "step 1/1, current actions: RestartApplication " + APP,
                "started": "step 1/1, current actions: ScaleApplication " + APP,
                "stopped": "step 1/1, current actions: ScaleApplication " + APP,
                "absent": "step 1/1, current actions: StopApplication " + APP}


@pytest.mark.parametrize("variant,kind", cases(["stuck-deployment"]))
def test_stuck_deployment_times_out(variant, kind, case_of, lm, api, module_runner, record_property):
    record_property("case", f"{variant}: {kind}")
    case = case_of(variant, stubborn=True)
    api.fault({"kind": "unhealthy", "app_id": APP})
    args = dict(case.module_args(lm.url), wait_timeout=3)
    since = time.time()
    run = module_runner.run("marathon_app", args)
    run.assert_clean()
    assert run.failed, run.result
    assert "Timed out after 3s" in run.msg, run.msg
    # The message names the deployment's current step and its action on the app.
    assert STUCK_ACTION[variant] in run.msg, run.msg
    assert run.result.get("deployment_id"), run.result
    # The write itself was accepted once; once the cause is gone Marathon finishes it.
    api.clear_faults()
    judge(record_property, case.converged(since))


# ---- locks -------------------------------------------------------------------------------------


def block_app(api):
    """A deployment by someone else that holds the app (stalled until the faults are cleared)."""
    api.fault({"kind": "stall_deployment", "app_id": APP})
    before = len(api.lm.writes())
    r = api.request("PUT", "/v2/apps" + APP, params={"partialUpdate": "true"}, json={"labels": {"blocker": "1"}})
    assert r.status_code == 200, r.text
    # The server logs a request after answering it; the blocker must not count as the module's write.
    wait_for(lambda: len(api.lm.writes()) > before, 10, "the blocking write to be logged")
    time.sleep(0.01)
    return r.json()["deploymentId"]


@pytest.mark.parametrize("variant,kind", cases(["lock-wait"], VARIANTS[1:]))
def test_locked_app_waits_then_applies(variant, kind, case_of, lm, api, module_runner, record_property):
    record_property("case", f"{variant}: {kind}")
    case = case_of(variant)
    blocker = block_app(api)
    case.before_app = api.app(APP)
    since = time.time()
    run = module_runner.start("marathon_app", case.module_args(lm.url))
    # The module must be waiting (polling deployments) without writing.
    wait_for(lambda: sum(r["path"].endswith("/v2/deployments") for r in log_since(lm, since)) >= 3, 20,
             "the module to wait for the lock")
    assert not writes_since(lm, since), "the module wrote while the app was locked"
    api.clear_faults()
    run.wait()
    run.assert_clean()
    assert not run.failed, run.msg
    assert blocker not in {d["id"] for d in api.deployments()}
    judge(record_property, case.converged(since))


@pytest.mark.parametrize("variant,kind", cases(["lock-force"], VARIANTS[1:]))
def test_locked_app_force_overrides(variant, kind, case_of, lm, api, module_runner, record_property):
    record_property("case", f"{variant}: {kind}")
    case = case_of(variant)
    block_app(api)
    args = dict(case.module_args(lm.url), force=True)
    since = time.time()
    run = module_runner.start("marathon_app", args)
    wait_for(lambda: writes_since(lm, since), 20, "the forced write")
    api.clear_faults()
    run.wait()
    run.assert_clean()
    assert not run.failed, run.msg
    forced = writes_since(lm, since)
    assert all("force=true" in w["query"] for w in forced), forced
    judge(record_property, case.converged(since))


# ---- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize("variant,kind", cases(["token-expiry"]))
def test_token_expiry_relogin(variant, kind, tmp_path, module_runner, record_property):
    record_property("case", f"{variant}: {kind}")
    config = {"users": {USER[0]: USER[1]}, "token_ttl_seconds": 3600}
    with LocalMarathon(tmp_path / "lm-auth", auth="dcos", auth_config=config, time_scale=TIME_SCALE) as lm:
        api = Api(lm, user=USER)
        case = Case(variant, lm, api)
        case.prepare()
        args = dict(case.module_args(lm.url), dcos_username=USER[0], dcos_password=USER[1])
        since, run = run_with_midway(api, lm, module_runner, args, lambda: api.fault({"kind": "expire_tokens"}))
        # The test's own session token expired too.
        api.s.headers.pop("Authorization", None)
        run.assert_clean()
        assert not run.failed, run.msg
        log = log_since(lm, since)
        logins = [r for r in log if r["path"] == LOGIN_PATH]
        refused = [r for r in log if r["status"] == 401]
        assert len(refused) == 1, refused
        # One login at the start, exactly one after the token expired.
        assert len(logins) == 2, logins
        judge(record_property, case.converged(since))
