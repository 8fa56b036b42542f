"""App model properties: any input gives a canonical app or a Marathon error, never a crash."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localmarathon.appdef.normalize import app_for_output, normalize_app
from localmarathon.appdef.ports import assign_service_ports
from localmarathon.appdef.resident import validate_resident_update
from localmarathon.deployments import compute_plan_steps, is_config_change
from localmarathon.errors import ApiError

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# generating nested JSON is the slow part; fewer examples keep the suite quick
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(-2, 2, allow_nan=False),
                         st.sampled_from(["", "x", "/a", "RW", "host", "HTTP", "tcp", "disabled", "*", "data"]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(
        ["id", "mode", "port", "size", "containerPath", "persistent", "type", "docker", "image", "name",
         "protocol", "portIndex", "value", "volumes", "portMappings", "containerPort"]), inner, max_size=4)),
    max_leaves=8)

FIELDS = ["id", "cmd", "args", "cpus", "mem", "disk", "instances", "container", "networks", "portDefinitions",
          "ports", "healthChecks", "labels", "env", "upgradeStrategy", "unreachableStrategy", "constraints",
          "acceptedResourceRoles", "role", "fetch", "uris", "ipAddress", "residency", "readinessChecks",
          "dependencies", "requirePorts", "executorResources", "resourceLimits", "check", "secrets"]


def assert_marathon_error(exc):
    assert exc.status in (400, 422, 500)
    assert isinstance(exc.body["message"], str) and exc.body["message"]
    details = exc.body.get("details")
    if isinstance(details, list):
        assert details
        for d in details:
            assert d["path"].startswith("/") and d["errors"] and all(isinstance(e, str) for e in d["errors"])
    json.dumps(exc.body)


def _without_default_port_index(app):
    out = json.loads(json.dumps(app))
    for hc in out.get("healthChecks", []):
        if hc.get("portIndex") == 0 and "port" not in hc:
            del hc["portIndex"]
    return out


def check_canonical(app, **kw):
    again = normalize_app(json.loads(json.dumps(app)), **kw)
    # Marathon quirk (§4.1): a check stored without portIndex gets portIndex 0 when the GET
    # output (which lists the default port) is sent back; everything else is unchanged.
    assert _without_default_port_index(again) == _without_default_port_index(app)
    assert list(again) == list(app)
    # from then on the canonical form is a fixed point
    assert normalize_app(json.loads(json.dumps(again)), **kw) == again
    assigned = assign_service_ports(again, set())
    assert normalize_app(json.loads(json.dumps(assigned)), **kw) == assigned
    assert compute_plan_steps(again, json.loads(json.dumps(again))) == []
    json.dumps(app_for_output(app, "2020-01-01T00:00:00.000Z", None))


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))
def test_arbitrary_bodies_never_crash(body):
    body.setdefault("id", "/fuzz")
    try:
        app = normalize_app(body, mesos_role="slave_public")
    except ApiError as exc:
        assert_marathon_error(exc)
        return
    check_canonical(app, mesos_role="slave_public")


ports = st.integers(0, 3).map(lambda n: [{"port": 0} for _ in range(n)])
health = st.sampled_from([{"protocol": "TCP"}, {"protocol": "HTTP", "path": "/"}, {"protocol": "MESOS_TCP"},
                          {"protocol": "COMMAND", "command": {"value": "true"}}, {"protocol": "HTTP", "port": 80}])
volume = st.sampled_from([
    {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}},
    {"containerPath": "/h", "hostPath": "/tmp", "mode": "RO"},
    {"containerPath": "pg", "mode": "RW", "persistent": {"type": "mount", "size": 5, "maxSize": 9}},
])
networks = st.sampled_from([None, [{"mode": "host"}], [{"mode": "container/bridge"}],
                            [{"mode": "container", "name": "dcos"}]])
containers = st.one_of(st.none(), st.builds(
    lambda kind, vols, pms: {k: v for k, v in (
        ("type", kind), ("docker", {"image": "postgres:15"} if kind == "DOCKER" else None),
        ("volumes", vols), ("portMappings", pms)) if v is not None},
    st.sampled_from(["DOCKER", "MESOS"]), st.lists(volume, max_size=2, unique_by=lambda v: v["containerPath"]),
    st.one_of(st.none(), st.lists(st.builds(lambda p: {"containerPort": p}, st.integers(0, 9000)), max_size=2))))


@FAST
@given(cmd=st.sampled_from(["sleep 100", None]), instances=st.integers(0, 3), port_defs=st.one_of(st.none(), ports),
       checks=st.lists(health, max_size=2), nets=networks, container=containers,
       cpus=st.sampled_from([0.1, 1, 2.5]), mem=st.sampled_from([32, 128.0]))
def test_plausible_apps_are_canonical_or_refused(cmd, instances, port_defs, checks, nets, container, cpus, mem):
    body = {"id": "/prop/app", "instances": instances, "cpus": cpus, "mem": mem}
    for key, value in (("cmd", cmd), ("portDefinitions", port_defs), ("healthChecks", checks or None),
                       ("networks", nets), ("container", container)):
        if value is not None:
            body[key] = value
    try:
        app = normalize_app(body, mesos_role="slave_public")
    except ApiError as exc:
        assert_marathon_error(exc)
        return
    check_canonical(app, mesos_role="slave_public")
    assert isinstance(app["cpus"], float) and isinstance(app["mem"], float)
    # a scale-only partial update keeps everything else and is not a config change
    scaled = normalize_app({"instances": instances + 1}, path_id="/prop/app", existing=app, partial=True,
                           mesos_role="slave_public")
    assert not is_config_change(app, scaled)
    assert compute_plan_steps(app, scaled) == [[{"action": "ScaleApplication", "app": "/prop/app"}]]
    validate_resident_update(app, scaled)


RICH = {
    "id": "/rich", "cmd": "serve", "cpus": 0.5, "mem": 64, "instances": 2, "labels": {"a": "b"}, "env": {"E": "1"},
    "networks": [{"mode": "container/bridge"}],
    "container": {"type": "DOCKER", "docker": {"image": "postgres:15", "parameters": [{"key": "k", "value": "v"}]},
                  "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 10}},
                              {"containerPath": "/h", "hostPath": "/tmp", "mode": "RO"}],
                  "portMappings": [{"containerPort": 5432, "hostPort": 0, "name": "pg", "labels": {"l": "v"}}]},
    "healthChecks": [{"protocol": "TCP", "portIndex": 0, "gracePeriodSeconds": 5},
                     {"protocol": "COMMAND", "command": {"value": "true"}}],
    "readinessChecks": [{"portName": "pg", "intervalSeconds": 30, "timeoutSeconds": 5}],
    "upgradeStrategy": {"minimumHealthCapacity": 0, "maximumOverCapacity": 0},
    "constraints": [["hostname", "UNIQUE"]], "fetch": [{"uri": "http://h/x.tgz"}],
    "unreachableStrategy": "disabled", "residency": {"taskLostBehavior": "WAIT_FOREVER"},
    "executorResources": {"cpus": 0.2}, "resourceLimits": {"mem": "unlimited"}, "check": {"tcp": {"portIndex": 0}},
}


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


RICH_PATHS = [p for p in _paths(RICH) if p]


def _replace(value, path, new):
    if len(path) == 1:
        value[path[0]] = new
        return
    _replace(value[path[0]], path[1:], new)


@FAST
@given(st.lists(st.tuples(st.sampled_from(RICH_PATHS), json_scalars), min_size=1, max_size=3))
def test_mutated_rich_app_never_crashes(mutations):
    body = json.loads(json.dumps(RICH))
    for path, new in mutations:
        try:
            _replace(body, path, new)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this branch
    for partial in (False, True):
        try:
            if partial:
                existing = normalize_app(json.loads(json.dumps(RICH)), mesos_role="slave_public")
                app = normalize_app(body, path_id="/rich", existing=existing, partial=True, mesos_role="slave_public")
                validate_resident_update(existing, app)
            else:
                app = normalize_app(body, mesos_role="slave_public")
        except ApiError as exc:
            assert_marathon_error(exc)
            continue
        check_canonical(app, mesos_role="slave_public")


def test_rich_app_is_valid():
    app = normalize_app(json.loads(json.dumps(RICH)), mesos_role="slave_public")
    check_canonical(app, mesos_role="slave_public")
    assert app["residency"] == {"relaunchEscalationTimeoutSeconds": 3600, "taskLostBehavior": "WAIT_FOREVER"}
