"""localmarathon --marathon-version: each Marathon release DC/OS shipped (1.4 ... 1.11) reads, defaults,
writes and refuses apps and tasks the way the project's Marathon versions reference
(marathon-versions.md) says. Each server test starts a real server at that version."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from localmarathon.appdef.normalize import app_for_output, normalize_app
from localmarathon.errors import ApiError
from localmarathon.testing import Api, LocalMarathon
from localmarathon.versions import MarathonVersion

GOLDEN = Path(__file__).parent / "golden"
TIME_SCALE = 20.0
MINORS = ["1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11"]
# the bare minor's representative patch: the newest build a DC/OS release shipped (reference section 1)
REPORTED = {"1.4": "1.4.12", "1.5": "1.5.12", "1.6": "1.6.585", "1.7": "1.7.216", "1.8": "1.8.242",
            "1.9": "1.9.136", "1.10": "1.10.26", "1.11": "1.11.23"}


def _release(version: str) -> tuple:
    return MarathonVersion.parse(version).release


@contextmanager
def marathon(tmp_path, version):
    with LocalMarathon(tmp_path / f"lm-{version}", time_scale=TIME_SCALE, marathon_version=version) as lm:
        yield Api(lm)


def _created(api, body, app_id):
    r = api.post("/v2/apps", json=body)
    assert r.status_code == 201, r.text
    return api.app(app_id)


# ---------------------------------------------------------------------------------- /v2/info, options


@pytest.mark.parametrize("version", MINORS + ["1.4.5", "1.5.0"])
def test_info_reports_the_version(tmp_path, version):
    with marathon(tmp_path, version) as api:
        info = api.get("/v2/info").json()
    assert info["version"] == REPORTED.get(version, version)
    # 1.4 still lists event_subscriber (reference section 5)
    assert ("event_subscriber" in info) == (version.startswith("1.4"))
    assert list(info)[-1] == "http_config"


def test_unsupported_version_is_refused_with_the_choices(tmp_path):
    out = subprocess.run([sys.executable, "-m", "localmarathon", "--data-dir", str(tmp_path / "d"),
                          "--marathon-version", "1.3"], capture_output=True, text=True, timeout=30, cwd="/")
    assert out.returncode == 2
    assert "--marathon-version" in out.stderr and "1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 1.10, 1.11" in out.stderr


def test_ctl_up_passes_the_version(tmp_path):
    data = tmp_path / "ctl"
    up = subprocess.run([sys.executable, "-m", "localmarathon.ctl", "up", "--data-dir", str(data),
                         "--port", "0", "--marathon-version", "1.6"], capture_output=True, text=True, timeout=60)
    assert up.returncode == 0, up.stderr
    try:
        assert Api(up.stdout.strip()).get("/v2/info").json()["version"] == "1.6.585"
    finally:
        subprocess.run([sys.executable, "-m", "localmarathon.ctl", "down", "--data-dir", str(data)], timeout=60)


class TestFixtureOption:
    @pytest.fixture
    def localmarathon_marathon_version(self):
        return "1.8"

    def test_the_fixture_starts_that_version(self, lm):
        assert Api(lm).get("/v2/info").json()["version"] == "1.8.242"


# ---------------------------------------------------------------------------------- app output

HTTP_APP = {
    "id": "/web", "cmd": "sleep 1000", "instances": 0, "cpus": 0.1, "mem": 32,
    "healthChecks": [{"protocol": "HTTP", "path": "/", "delaySeconds": 5}],
    # fields that only some releases know
    "tty": True, "role": "slave_public", "executorResources": {"cpus": 0.1, "mem": 32, "disk": 10},
    "resourceLimits": {"cpus": 1, "mem": 64},
}


@pytest.mark.parametrize("version", MINORS)
def test_app_output(tmp_path, version):
    release = _release(version)
    with marathon(tmp_path, version) as api:
        app = _created(api, HTTP_APP, "/web")
    # maxLaunchDelaySeconds: 3600 before 1.8, 300 from 1.8 (section 2.6)
    assert app["maxLaunchDelaySeconds"] == (300 if release >= (1, 8) else 3600)
    assert app["unreachableStrategy"] == {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}
    # health checks (section 2.10): 1.4 writes no delaySeconds/ipProtocol for HTTP; 1.5+ echo 15;
    # ipProtocol from 1.6
    hc = app["healthChecks"][0]
    assert hc["protocol"] == "HTTP" and hc["path"] == "/"
    # 1.4 adds portIndex 0 whenever the app has ports; 1.5+ (as 1.10) only for a POST that listed them
    assert hc.get("portIndex") == (0 if release < (1, 5) else None)
    assert hc.get("delaySeconds") == (15 if release >= (1, 5) else None)
    assert hc.get("ipProtocol") == ("IPv4" if release >= (1, 6) else None)
    # fields a release does not know are not read, so never written (sections 2.7, 8.5)
    assert ("tty" in app) == (release >= (1, 5))
    assert ("executorResources" in app) == (release >= (1, 6, 352))
    assert ("role" in app) == (release >= (1, 9))
    assert ("resourceLimits" in app) == (release >= (1, 10))
    if release < (1, 5):  # the hand-written writer (section 2.1, 2.3, 2.9)
        assert app["args"] is None and app["user"] is None and app["container"] is None
        assert app["ipAddress"] is None and app["residency"] is None and app["taskKillGracePeriodSeconds"] is None
        assert app["env"] == {} and app["secrets"] == {} and app["constraints"] == []
        assert app["uris"] == [] and app["storeUrls"] == [] and app["dependencies"] == []
        assert app["readinessChecks"] == []
        assert app["portDefinitions"] == [{"port": app["ports"][0], "protocol": "tcp", "name": "default",
                                           "labels": {}}]
        assert "networks" not in app
    else:
        assert not {"ipAddress", "ports", "uris", "storeUrls", "env", "args", "residency"} & set(app)
        assert app["networks"] == [{"mode": "host"}]
        assert app["portDefinitions"] == [{"port": app["portDefinitions"][0]["port"], "name": "default",
                                           "protocol": "tcp"}]


@pytest.mark.parametrize("version, default", [
    ("1.4.2", (300, 600)), ("1.4.5", (300, 600)), ("1.4.8", (300, 600)), ("1.4.9", (0, 0)), ("1.4", (0, 0)),
    ("1.5.0", (300, 600)), ("1.5.1", (0, 0)), ("1.5", (0, 0)), ("1.6", (0, 0)), ("1.11", (0, 0)),
])
def test_unreachable_strategy_default_per_patch(tmp_path, version, default):
    """Section 2.5: {300,600} on 1.4.2-1.4.8 and 1.5.0, else {0,0}; a partial object gets the rest
    from the same defaults."""
    with marathon(tmp_path, version) as api:
        plain = _created(api, {"id": "/a", "cmd": "sleep 1", "instances": 0}, "/a")
        partial = _created(api, {"id": "/b", "cmd": "sleep 1", "instances": 0,
                                 "unreachableStrategy": {"inactiveAfterSeconds": 60}}, "/b")
    assert plain["unreachableStrategy"] == {"inactiveAfterSeconds": default[0], "expungeAfterSeconds": default[1]}
    assert partial["unreachableStrategy"] == {"inactiveAfterSeconds": 60, "expungeAfterSeconds": default[1]}


# ---------------------------------------------------------------------------------- networking

OLD_FORM = {"id": "/old", "cmd": "sleep 1000", "instances": 0, "cpus": 0.1, "mem": 32,
            "container": {"type": "DOCKER", "docker": {"image": "busybox", "network": "BRIDGE",
                                                        "portMappings": [{"containerPort": 80, "name": "http"}]}}}
NEW_FORM = {"id": "/new", "cmd": "sleep 1000", "instances": 0, "cpus": 0.1, "mem": 32,
            "networks": [{"mode": "container/bridge"}],
            "container": {"type": "DOCKER", "docker": {"image": "busybox"},
                          "portMappings": [{"containerPort": 80, "name": "http"}]}}


def test_1_4_reads_only_the_old_networking_fields(tmp_path):
    """Section 2.2: 1.4 never reads networks/container.portMappings (the new-form app becomes a
    host-network container without mappings) and writes the old keys."""
    with marathon(tmp_path, "1.4") as api:
        old = _created(api, OLD_FORM, "/old")
        new = _created(api, NEW_FORM, "/new")
        both = dict(OLD_FORM, id="/both", networks=[{"mode": "host"}])
        mixed = _created(api, both, "/both")
    mapping = old["container"]["docker"]["portMappings"]
    assert old["container"]["docker"]["network"] == "BRIDGE"
    assert mapping == [{"containerPort": 80, "hostPort": 0, "servicePort": mapping[0]["servicePort"],
                        "protocol": "tcp", "name": "http", "labels": {}}]
    assert old["ports"] == [mapping[0]["servicePort"]]
    assert old["portDefinitions"] == [{"port": mapping[0]["servicePort"], "protocol": "tcp", "name": "default",
                                       "labels": {}}]
    assert "portMappings" not in old["container"] and "networks" not in old
    assert new["container"]["docker"]["network"] is None
    assert new["container"]["docker"]["portMappings"] == []
    assert new["portDefinitions"][0]["name"] == "default"  # host networking: the default port definition
    assert mixed["container"]["docker"]["network"] == "BRIDGE"  # networks ignored, no 422


@pytest.mark.parametrize("version", MINORS[1:])
def test_1_5_and_later_read_both_forms_write_the_new_one_and_refuse_a_mix(tmp_path, version):
    with marathon(tmp_path, version) as api:
        old = _created(api, OLD_FORM, "/old")
        r = api.post("/v2/apps", json=dict(OLD_FORM, id="/both", networks=[{"mode": "container/bridge"}]))
    assert old["networks"] == [{"mode": "container/bridge"}]
    assert old["container"]["portMappings"][0]["containerPort"] == 80
    assert "network" not in old["container"]["docker"] and "ipAddress" not in old
    assert r.status_code == 422
    assert r.json()["details"] == [{"path": "/", "errors": ["must not specify both container.docker.network"
                                                            " and networks"]}]


# ---------------------------------------------------------------------------------- resident apps

RESIDENT = {"id": "/db", "cmd": "sleep 1000", "instances": 1, "cpus": 0.1, "mem": 32,
            "container": {"type": "DOCKER", "docker": {"image": "busybox"},
                          "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}}


@pytest.mark.parametrize("version", MINORS)
def test_task_output_running_and_stopped(tmp_path, version):
    """Section 3: 1.4/1.5's hand-written task writer, 1.6+ RAML tasks (arrays always), role from 1.9;
    the stopped resident task is TASK_STAGING without timestamps on <=1.7, terminal on 1.8+."""
    release = _release(version)
    with marathon(tmp_path, version) as api:
        r = api.post("/v2/apps", json=RESIDENT)
        assert r.status_code == 201, r.text
        running = api.wait_running("/db", timeout=30)["tasks"][0]
        r = api.put("/v2/apps/db", json={"instances": 0})
        api.wait_deployment(r.json()["deploymentId"])
        stopped_app = api.app("/db")
        stopped = api.get("/v2/apps/db/tasks").json()["tasks"][0]
        r = api.put("/v2/apps/db", json={"instances": 1})
        api.wait_deployment(r.json()["deploymentId"])
        relaunched = api.wait_running("/db", timeout=30)["tasks"][0]
        killed = api.delete(f"/v2/apps/db/tasks/{relaunched['id']}")
    # task ids (section 3): <app>.<uuid> (+ .<attempt> on a resident relaunch) before 1.8
    if release >= (1, 8):
        assert re.fullmatch(r"db\.instance-[0-9a-f-]{36}\._app\.1", running["id"])
        assert relaunched["id"] == running["id"][:-1] + "2"
    else:
        assert re.fullmatch(r"db\.[0-9a-f-]{36}", running["id"])
        assert relaunched["id"] == running["id"] + ".2"
    assert killed.status_code == 200 and killed.json()["task"]["id"] == relaunched["id"]
    assert running["state"] == "TASK_RUNNING" and running["startedAt"] and running["stagedAt"]
    assert running["localVolumes"][0]["containerPath"] == "data"
    assert ("role" in running) == (release >= (1, 9))
    if release < (1, 6):
        assert list(running) == ["id", "state", "startedAt", "stagedAt", "ports", "version", "ipAddresses",
                                 "localVolumes", "appId", "slaveId", "host"]
        assert list(stopped) == ["id", "state", "localVolumes", "appId", "slaveId", "host"]
    else:
        for key in ("healthCheckResults", "ipAddresses", "ports", "servicePorts"):
            assert isinstance(running[key], list) and isinstance(stopped[key], list)
        assert stopped["ports"] == []
    assert not {"startedAt", "stagedAt", "version"} & set(stopped)
    assert stopped["localVolumes"] == running["localVolumes"]
    assert stopped["state"] == ("TASK_STAGING" if release < (1, 8) else "TASK_KILLED")
    # the stored Mesos state stays terminal: the task counts as neither staged nor running
    assert stopped_app["tasksStaged"] == 0 and stopped_app["tasksRunning"] == 0


@pytest.mark.parametrize("version", MINORS + ["1.7.174"])
def test_resident_update_error_output(tmp_path, version):
    """Section 6: one object-level message before 1.7.174, one per field from 1.7.174."""
    with marathon(tmp_path, version) as api:
        _created(api, dict(RESIDENT, instances=0), "/db")
        r = api.put("/v2/apps/db", json={"cpus": 0.2, "mem": 64})
    assert r.status_code == 422
    body = r.json()
    assert body["message"] == "Object is not valid"
    if _release(version) < (1, 7, 174):
        assert body["details"] == [{"path": "/", "errors": ["Resident Tasks may not change resource requirements!"]}]
    else:
        msg = ("Services with persistent volumes configured may not change resource requirements. "
               "If you need to make this change, please create a new service.")
        assert body["details"] == [{"path": "/app(0)/cpus", "errors": [msg]}, {"path": "/app(0)/mem", "errors": [msg]}]


@pytest.mark.parametrize("version, message", [
    ("1.4", "AppDefinition must contain persistent volumes and define residency"),
    ("1.5", "App must contain persistent volumes and define residency"),
    ("1.6", None), ("1.10", None),
])
def test_residency_without_persistent_volumes(tmp_path, version, message):
    """Section 2.4/6: 1.4/1.5 store residency and refuse it without volumes; 1.6+ ignore it."""
    body = {"id": "/r", "cmd": "sleep 1", "instances": 0,
            "residency": {"relaunchEscalationTimeoutSeconds": 10, "taskLostBehavior": "WAIT_FOREVER"}}
    with marathon(tmp_path, version) as api:
        r = api.post("/v2/apps", json=body)
    if message is None:
        assert r.status_code == 201 and "residency" not in r.json()
    else:
        assert r.status_code == 422
        assert r.json()["details"] == [{"path": "/", "errors": [message]}]


def test_cap14_postgres_app_golden(tmp_path):
    """The captured 1.4 GET of a resident PostgreSQL app (golden/README.md): the same app created on
    1.4 reads back with the same keys, in the same order, and the same values except the per-run ones."""
    golden = json.loads((GOLDEN / "cap14_postgres_app.json").read_text())
    docker = golden["container"]["docker"]
    request = {
        "id": golden["id"], "env": golden["env"], "instances": 0, "cpus": 1, "mem": 512, "disk": 0,
        "container": {"type": "DOCKER",
                      "volumes": [{"containerPath": "pgdata", "mode": "RW", "persistent": {"size": 100}}],
                      "docker": {"image": docker["image"], "network": "BRIDGE", "forcePullImage": True,
                                 "portMappings": [{"containerPort": 5432, "hostPort": 0, "protocol": "tcp",
                                                   "name": "sql", "labels": docker["portMappings"][0]["labels"]}]}},
        "healthChecks": [{"gracePeriodSeconds": 300, "intervalSeconds": 30, "timeoutSeconds": 15,
                          "maxConsecutiveFailures": 4, "portIndex": 0, "protocol": "TCP"}],
        "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0},
        "taskKillGracePeriodSeconds": 300, "requirePorts": True,
    }
    with marathon(tmp_path, "1.4") as api:
        live = _created(api, request, golden["id"])
    app_keys = list(live)[:list(live).index("versionInfo") + 1]
    assert app_keys == list(golden)
    service_port = live["container"]["docker"]["portMappings"][0]["servicePort"]
    assert live["ports"] == [service_port] and live["portDefinitions"][0]["port"] == service_port
    golden_docker_mapping = dict(docker["portMappings"][0], servicePort=service_port)
    expected = dict(golden, instances=0, ports=[service_port],
                    portDefinitions=[dict(golden["portDefinitions"][0], port=service_port)])
    expected["container"] = dict(golden["container"], docker=dict(docker, portMappings=[golden_docker_mapping]))
    for key in app_keys:
        if key in ("version", "versionInfo"):
            continue
        assert live[key] == expected[key], key


# ---------------------------------------------------------------------------------- pure: fields read


@pytest.mark.parametrize("version, kept", [("1.5", False), ("1.6", True), ("1.10", True)])
def test_persistent_profile_name_is_read_from_1_6(version, kept):
    body = {"id": "/p", "cmd": "sleep 1", "container": {"type": "MESOS", "volumes": [
        {"containerPath": "data", "mode": "RW", "persistent": {"size": 10, "profileName": "fast"}}]}}
    marathon_version = MarathonVersion.parse(version)
    app = normalize_app(body, mesos_role="slave_public", marathon=marathon_version)
    out = app_for_output(app, None, None, marathon_version)
    assert ("profileName" in out["container"]["volumes"][0]["persistent"]) == kept


@pytest.mark.parametrize("version, kept", [("1.7", False), ("1.8", True)])
def test_check_and_linux_info_are_read_from_1_8(version, kept):
    body = {"id": "/c", "cmd": "sleep 1", "check": {"exec": {"command": {"shell": "true"}}},
            "container": {"type": "MESOS", "linuxInfo": {"seccomp": {"unconfined": True}}}}
    marathon_version = MarathonVersion.parse(version)
    out = app_for_output(normalize_app(body, marathon=marathon_version), None, None, marathon_version)
    assert ("check" in out) == kept and ("linuxInfo" in out["container"]) == kept


def test_upgrade_keeps_stored_defaults_and_gives_a_role(tmp_path):
    """Created on 1.6, read by 1.10 on the same data dir: the stored maxLaunchDelaySeconds 3600 stays
    (section 2.6) and the app gets the --mesos_role (1.9's migration)."""
    data = tmp_path / "upgrade"
    with LocalMarathon(data, time_scale=TIME_SCALE, marathon_version="1.6") as lm:
        before = _created(Api(lm), {"id": "/u", "cmd": "sleep 1", "instances": 0}, "/u")
    with LocalMarathon(data, time_scale=TIME_SCALE, marathon_version="1.10") as lm:
        after = Api(lm).app("/u")
    assert before["maxLaunchDelaySeconds"] == after["maxLaunchDelaySeconds"] == 3600
    assert "role" not in before and after["role"] == "slave_public"


@pytest.mark.parametrize("version, accepted", [("1.8", ["*", "public"]), ("1.9", ["*"])])
def test_accepted_resource_roles_before_1_10(version, accepted):
    """Section 2.7: 1.9 silently keeps only * and the app's role; 1.10 refuses others (the 1.10 suite
    covers that); before 1.9 apps have no role to compare with."""
    body = {"id": "/roles", "cmd": "sleep 1", "acceptedResourceRoles": ["*", "public"]}
    marathon_version = MarathonVersion.parse(version)
    app = normalize_app(body, mesos_role="slave_public", marathon=marathon_version)
    assert app["acceptedResourceRoles"] == accepted


# ---------------------------------------------------------------------------------- error answers


@pytest.mark.parametrize("version", MINORS)
def test_error_answers(tmp_path, version):
    """Mistyped JSON 400 before 1.6 (422 from 1.6), 404 details only from 1.9, unknown routes 404
    before 1.6 (500 from 1.6) (the 1.10 reference, sections 1 and 2)."""
    release = _release(version)
    with marathon(tmp_path, version) as api:
        typed = api.post("/v2/apps", json={"id": 5, "cmd": "sleep 1"})
        missing = api.get("/v2/apps/nothing")
        route = api.get("/v2/nothing")
    assert typed.status_code == (422 if release >= (1, 6) else 400)
    assert typed.json()["message"] == "Invalid JSON"
    assert typed.json()["details"] == [{"path": "/id", "errors": ["error.expected.jsstring"]}]
    assert missing.status_code == 404
    expected = {"message": "App '/nothing' does not exist"}
    assert missing.json() == (dict(expected, details=[]) if release >= (1, 9) else expected)
    if release >= (1, 6):
        assert (route.status_code, route.json()) == (500, {"message": "URI not found"})
    else:
        assert (route.status_code, route.json()) == (404, {"message": "URI not found: /v2/nothing"})


@pytest.mark.parametrize("version, status", [("1.6", 503), ("1.7", 502), ("1.10", 502)])
def test_no_leader_status(tmp_path, version, status):
    with marathon(tmp_path, version) as api:
        api.fault({"kind": "leader_change", "duration": 5})
        r = api.get("/v2/apps")
    assert r.status_code == status and "Could not determine the current leader" in r.text


@pytest.mark.parametrize("version, refused", [
    ("1.4", False), ("1.5.12", False), ("1.5.13", True), ("1.6.322", False), ("1.6", True),
    ("1.7.174", False), ("1.7", True), ("1.8", True), ("1.11", True),
])
def test_reserved_id_endings(version, refused):
    """Section 6: ids ending in restart/tasks/versions are refused from 1.5.13, 1.6.585, 1.7.189, 1.8."""
    marathon_version = MarathonVersion.parse(version)
    try:
        normalize_app({"id": "/db/tasks", "cmd": "sleep 1"}, mesos_role="slave_public", marathon=marathon_version)
    except ApiError as exc:
        assert refused and exc.status == 422
        assert "reserved keywords: restart, tasks, versions" in json.dumps(exc.body)
    else:
        assert not refused


@pytest.mark.parametrize("version, extracted", [
    ("1.5", {"a.tgz": True, "b.tar": False, "c.gz": False, "d.zip?x=1": False, "e.sh": False}),
    ("1.6", {"a.tgz": True, "b.tar": True, "c.gz": True, "d.zip?x=1": True, "e.sh": False}),
    ("1.10", {"a.tgz": True, "b.tar": True, "c.gz": True, "d.zip?x=1": True, "e.sh": False}),
])
def test_uris_archive_suffixes(version, extracted):
    """Section 2.9: <=1.5 match 7 suffixes on the whole string; 1.6+ 9 suffixes on the URI path."""
    marathon_version = MarathonVersion.parse(version)
    app = normalize_app({"id": "/u", "cmd": "sleep 1", "uris": [f"http://h/{name}" for name in extracted]},
                        mesos_role="slave_public", marathon=marathon_version)
    assert {f["uri"].rsplit("/", 1)[1]: f["extract"] for f in app["fetch"]} == extracted


HEALTHY_WEB = {"id": "/web", "instances": 1, "cpus": 0.1, "mem": 32,
               "container": {"type": "DOCKER", "docker": {"image": "nginx", "network": "BRIDGE",
                                                          "portMappings": [{"containerPort": 80}]}},
               "healthChecks": [{"protocol": "HTTP", "path": "/", "gracePeriodSeconds": 30, "intervalSeconds": 2}]}


@pytest.mark.parametrize("version", ["1.4", "1.6"])
def test_health_results_in_tasks(tmp_path, version):
    """Section 3: 1.4/1.5 write null for the health times that have not happened; 1.6+ omit them."""
    with marathon(tmp_path, version) as api:
        r = api.post("/v2/apps", json=HEALTHY_WEB)
        assert r.status_code == 201, r.text
        task = api.wait_running("/web", healthy=True, timeout=30)["tasks"][0]
    result = task["healthCheckResults"][0]
    assert result["alive"] is True and result["firstSuccess"] and result["lastSuccess"]
    if version == "1.4":
        assert result["lastFailure"] is None and result["lastFailureCause"] is None
        assert result["instanceId"].startswith("web.marathon-")
    else:
        assert "lastFailure" not in result and "lastFailureCause" not in result
        assert result["instanceId"].startswith("web.instance-")
