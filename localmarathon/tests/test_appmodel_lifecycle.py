"""App model: body parsing, timestamps, updates, resident rules, ports, plans and versions."""

import copy
import json

import pytest

from localmarathon.appdef.normalize import app_for_output, normalize_app
from localmarathon.appdef.ports import LOCAL_PORT_MAX, LOCAL_PORT_MIN, assign_service_ports, host_ports
from localmarathon.appdef.resident import is_resident, persistent_volumes, validate_resident_update
from localmarathon.appdef.schema import parse_json_body
from localmarathon.appdef.validation import validate_version_body
from localmarathon.deployments import compute_plan_steps, is_config_change, next_version_info
from localmarathon.errors import ApiError
from localmarathon.timestamps import format_timestamp, parse_api_timestamp


def err(fn, *args, **kwargs):
    with pytest.raises(ApiError) as info:
        fn(*args, **kwargs)
    return info.value.status, info.value.body


def not_valid(*pairs):
    return (422, {"message": "Object is not valid", "details": [{"path": p, "errors": e} for p, e in pairs]})


# ---------------------------------------------------------------------------
# parse_json_body (§2)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"", b"   \n", None, ""])
def test_empty_body(raw):
    status, body = err(parse_json_body, raw)
    assert status == 400
    assert body["message"] == "Please specify data in JSON format"
    assert body["details"].startswith("No content to map due to end-of-input")


@pytest.mark.parametrize("raw", [b"{", b"{'id': 1}", b"[1,]", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe"])
def test_malformed_body(raw):
    status, body = err(parse_json_body, raw)
    assert status == 400 and body["message"] == "Invalid JSON"
    assert isinstance(body["details"], str) and body["details"]


@pytest.mark.parametrize("raw, fragment", [
    (b'{"cpus": 1e400}', "out of range"),
    (b"[" * 5000 + b"]" * 5000, "nesting depth"),
    (b'{"a":' * 300 + b"1" + b"}" * 300, "nesting depth"),
])
def test_body_limits(raw, fragment):
    status, body = err(parse_json_body, raw)
    assert status == 400 and body["message"] == "Invalid JSON" and fragment in body["details"]


def test_nesting_within_limit_is_accepted():
    assert parse_json_body(b"[" * 50 + b"]" * 50) is not None


@pytest.mark.parametrize("raw, expected", [
    (b'{"id": "/a"}', {"id": "/a"}),
    (b'[1, 2.5, "x"]', [1, 2.5, "x"]),
    ('{"\u00e9": true}'.encode(), {"\u00e9": True}),
    (b"7", 7),
])
def test_well_formed_body(raw, expected):
    assert parse_json_body(raw) == expected


# ---------------------------------------------------------------------------
# Timestamps (§1)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("epoch, text", [
    (0, "1970-01-01T00:00:00.000Z"),
    (1591012800.0, "2020-06-01T12:00:00.000Z"),
    (1591012800.1239, "2020-06-01T12:00:00.123Z"),
    (1591012800.9999, "2020-06-01T12:00:00.999Z"),
    (1423646481.245, "2015-02-11T09:21:21.245Z"),
])
def test_marathon_timestamp(epoch, text):
    assert format_timestamp(epoch) == text


@pytest.mark.parametrize("text, canonical", [
    ("2020-06-01T12:00:00.000Z", "2020-06-01T12:00:00.000Z"),
    ("2020-06-01T12:00:00Z", "2020-06-01T12:00:00.000Z"),
    ("2020-06-01T14:00:00.5+02:00", "2020-06-01T12:00:00.500Z"),
    ("2020-06-01T07:30:00.123456-0430", "2020-06-01T12:00:00.123Z"),
])
def test_parse_timestamp_round_trip(text, canonical):
    assert format_timestamp(parse_api_timestamp(text)) == canonical


@pytest.mark.parametrize("text", ["yesterday", "2020-06-01", "2020-13-01T00:00:00Z", "2020-06-01T12:00:00", 5])
def test_parse_timestamp_refuses(text):
    assert err(parse_api_timestamp, text) == (422, {
        "message": f"Invalid timestamp provided '{text}'. Expecting ISO-8601 datetime string."})


# ---------------------------------------------------------------------------
# Rollback bodies (§3.1.4)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ({"version": "2020-06-01T12:00:00.000Z"}, "2020-06-01T12:00:00.000Z"),
    ({"id": "/a", "version": "2020-06-01T12:00:00.000Z"}, "2020-06-01T12:00:00.000Z"),
    ({"instances": 2}, None),
    ({"version": None, "cmd": "x"}, None),
])
def test_version_body(raw, expected):
    assert validate_version_body(raw) == expected


def test_version_with_other_fields():
    assert err(validate_version_body, {"version": "2020-06-01T12:00:00.000Z", "instances": 1}) == not_valid(
        ("/", ["The 'version' field may only be combined with the 'id' field."]))


# ---------------------------------------------------------------------------
# Updates: partialUpdate=true merge and full replacement (§3.1.4)
# ---------------------------------------------------------------------------

BASE = normalize_app({"id": "/svc", "cmd": "serve", "instances": 2, "labels": {"a": "1"}, "env": {"X": "1"},
                      "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"}}],
                      "executorResources": {"cpus": 0.5}, "resourceLimits": {"mem": "unlimited"},
                      "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 1}})


def update(body, existing=BASE, **kw):
    return normalize_app(body, path_id="/svc", existing=copy.deepcopy(existing), partial=True, **kw)


def test_scale_only_update_keeps_everything_else():
    new = update({"instances": 5})
    assert new["instances"] == 5
    assert {k: v for k, v in new.items() if k not in ("instances", "executorResources", "resourceLimits")} == \
        {k: v for k, v in BASE.items() if k not in ("instances", "executorResources", "resourceLimits")}


def test_nested_objects_are_replaced_not_merged():
    new = update({"labels": {"b": "2"}, "env": {}, "upgradeStrategy": {"maximumOverCapacity": 0, "minimumHealthCapacity": 1}})
    assert new["labels"] == {"b": "2"}
    assert "env" not in new
    assert new["upgradeStrategy"] == {"maximumOverCapacity": 0.0, "minimumHealthCapacity": 1.0}
    # an update carrying half a strategy is refused by the reader, not merged
    status, body = err(update, {"upgradeStrategy": {"maximumOverCapacity": 0}})
    assert status == 422 and body["details"][0]["path"] == "/upgradeStrategy/minimumHealthCapacity"


def test_executor_resources_and_limits_come_from_the_update_only():
    new = update({"instances": 1})
    assert "executorResources" not in new and "resourceLimits" not in new
    new = update({"executorResources": {"mem": 64}})
    assert new["executorResources"] == {"cpus": 0.1, "mem": 64.0, "disk": 10.0}


def test_update_cannot_remove_cmd_but_can_replace_it():
    assert update({"cmd": None})["cmd"] == "serve"
    assert update({"cmd": "other"})["cmd"] == "other"


def test_update_health_checks_always_get_port_index_stored_ones_stay():
    stored = normalize_app({"id": "/svc", "cmd": "serve", "healthChecks": [{"protocol": "TCP"}]})
    assert "portIndex" not in stored["healthChecks"][0]
    assert "portIndex" not in update({"instances": 3}, existing=stored)["healthChecks"][0]
    new = update({"healthChecks": [{"protocol": "HTTP", "path": "/"}]}, existing=stored)
    assert new["healthChecks"][0]["portIndex"] == 0


def test_update_id_in_body_is_ignored():
    assert update({"id": "/other", "instances": 1})["id"] == "/svc"


def test_update_uses_deprecated_fields():
    new = update({"ports": [0, 0], "uris": ["http://h/x.zip"]})
    assert new["portDefinitions"] == [{"port": 0, "protocol": "tcp"}, {"port": 0, "protocol": "tcp"}]
    assert new["fetch"] == [{"uri": "http://h/x.zip", "extract": True, "executable": False, "cache": False}]


def test_update_switching_to_bridge_keeps_stored_port_definitions_and_fails():
    assert err(update, {"networks": [{"mode": "container/bridge"}]}) == not_valid(
        ("/", ["portDefinitions are only allowed with host-networking"]))
    new = update({"networks": [{"mode": "container/bridge"}], "portDefinitions": []})
    assert new["container"]["portMappings"] == [
        {"containerPort": 0, "hostPort": 0, "labels": {}, "name": "default", "protocol": "tcp", "servicePort": 0}]
    assert "portDefinitions" not in new


def test_update_switching_bridge_to_host_keeps_stored_mappings_and_fails():
    bridged = normalize_app({"id": "/svc", "cmd": "serve", "networks": [{"mode": "container/bridge"}]})
    assert err(update, {"networks": [{"mode": "host"}]}, existing=bridged) == not_valid(
        ("/", ["portMappings are not allowed with host-networking"]))
    new = update({"networks": [{"mode": "host"}], "container": {"type": "MESOS"}}, existing=bridged)
    # stored apps never had portDefinitions; an update does not add the default one
    assert new["portDefinitions"] == [] and new["networks"] == [{"mode": "host"}]


def test_update_type_errors_use_update_rules():
    status, body = err(update, {"instances": "two"})
    assert (status, body) == (422, {"message": "Invalid JSON", "details": [
        {"path": "/instances", "errors": ["error.expected.jsnumber"]}]})


def test_put_without_existing_app_creates_from_body():
    new = normalize_app({"cmd": "serve"}, path_id="/fresh", existing=None, partial=True)
    assert new["id"] == "/fresh" and new["instances"] == 1


def test_full_replacement_resets_to_defaults():
    new = normalize_app({"cmd": "serve"}, path_id="/svc", existing=copy.deepcopy(BASE), partial=False)
    assert new == normalize_app({"id": "/svc", "cmd": "serve"})
    assert new["labels"] == {} and new["instances"] == 1


def test_nested_app_may_keep_an_existing_role():
    stored = normalize_app({"id": "/team/app", "cmd": "serve", "role": "team"})
    moved = dict(stored, role="legacy")
    kept = normalize_app({"instances": 3}, path_id="/team/app", existing=moved, partial=True)
    assert kept["role"] == "legacy" and kept["instances"] == 3
    status, body = err(normalize_app, {"id": "/team/app", "cmd": "serve", "role": "legacy"})
    assert body["details"] == [{"path": "/role", "errors": ["got legacy, expected one of: [*, team]"]}]


# ---------------------------------------------------------------------------
# Resident apps (§8.3)
# ---------------------------------------------------------------------------

def resident_app(**extra):
    body = {"id": "/db", "cmd": "run", "cpus": 0.5, "mem": 64, "instances": 1,
            "container": {"type": "MESOS", "volumes": [
                {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}}
    body.update(extra)
    return normalize_app(body, mesos_role="slave_public")


RES_MSG = ("Services with persistent volumes configured may not change resource requirements. "
           "If you need to make this change, please create a new service.")
HOST_MSG = ("Services with persistent volumes configured may not change host ports. "
            "If you need to make this change, please create a new service.")


def test_resident_helpers():
    app = resident_app()
    assert is_resident(app)
    assert persistent_volumes(app) == [{"containerPath": "data", "persistent": {
        "type": "root", "size": 10, "constraints": []}, "mode": "RW"}]
    plain = normalize_app({"id": "/p", "cmd": "xx"})
    assert not is_resident(plain) and persistent_volumes(plain) == []
    assert host_ports(plain) == [0]
    assert host_ports(assign_service_ports(plain, set())) == [10000]
    bridged = normalize_app({"id": "/p", "container": {"docker": {"image": "i", "network": "BRIDGE", "portMappings": [
        {"containerPort": 1, "hostPort": 31000}, {"containerPort": 2}]}}})
    assert host_ports(bridged) == [31000, 0]
    user_net = normalize_app({"id": "/p", "cmd": "xx", "networks": [{"mode": "container", "name": "n"}]})
    assert host_ports(user_net) == [None]


@pytest.mark.parametrize("changes, expected", [
    ({"cpus": 1}, not_valid(("/app(0)/cpus", [RES_MSG]))),
    ({"mem": 65}, not_valid(("/app(0)/mem", [RES_MSG]))),
    ({"disk": 1}, not_valid(("/app(0)/disk", [RES_MSG]))),
    ({"cpus": 1, "mem": 1}, not_valid(("/app(0)/cpus", [RES_MSG]), ("/app(0)/mem", [RES_MSG]))),
    ({"requirePorts": True}, not_valid(("/app(0)/requirePorts", [RES_MSG]))),
    ({"portDefinitions": [{"port": 0}, {"port": 0}]}, not_valid(("/app(0)/hostPorts", [HOST_MSG]))),
    ({"container": {"type": "MESOS", "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 20}}]}},
     not_valid(("/", ["Persistent volumes can not be changed!"]))),
    ({"container": {"type": "MESOS", "volumes": [{"containerPath": "other", "mode": "RW", "persistent": {"size": 10}}]}},
     not_valid(("/", ["Persistent volumes can not be changed!"]))),
    ({"container": {"type": "MESOS", "volumes": [
        {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}},
        {"containerPath": "more", "mode": "RW", "persistent": {"size": 10}}]}},
     not_valid(("/", ["Persistent volumes can not be changed!"]))),
])
def test_resident_update_refusals(changes, expected):
    old = resident_app()
    new = normalize_app(changes, path_id="/db", existing=copy.deepcopy(old), partial=True, mesos_role="slave_public")
    assert err(validate_resident_update, old, new) == expected


def test_resident_host_ports_compare_assigned_ports():
    old = assign_service_ports(resident_app(), set())
    assert old["portDefinitions"][0]["port"] == 10000
    # re-sending port 0 reuses the assigned port, before and after assignment
    same = normalize_app({"portDefinitions": [{"port": 0, "name": "db"}]}, path_id="/db", existing=copy.deepcopy(old),
                         partial=True, mesos_role="slave_public")
    assert validate_resident_update(old, same) is None
    assert validate_resident_update(old, assign_service_ports(same, set(), old)) is None
    moved = normalize_app({"portDefinitions": [{"port": 10500}]}, path_id="/db", existing=copy.deepcopy(old),
                          partial=True, mesos_role="slave_public")
    assert err(validate_resident_update, old, moved) == not_valid(("/app(0)/hostPorts", [HOST_MSG]))
    # bridge networking compares the set of host ports: one more dynamic mapping is no change
    bridged = resident_app(networks=[{"mode": "container/bridge"}],
                           container={"type": "DOCKER", "docker": {"image": "postgres"}, "volumes": [
                               {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}],
                               "portMappings": [{"containerPort": 5432}]})
    more = copy.deepcopy(bridged)
    more["container"]["portMappings"].append(dict(more["container"]["portMappings"][0], containerPort=9187))
    assert validate_resident_update(bridged, more) is None
    fixed = copy.deepcopy(bridged)
    fixed["container"]["portMappings"][0]["hostPort"] = 31500
    assert err(validate_resident_update, bridged, fixed) == not_valid(("/app(0)/hostPorts", [HOST_MSG]))


@pytest.mark.parametrize("changes", [
    {"instances": 0}, {"cmd": "other"}, {"labels": {"x": "y"}}, {"env": {"A": "b"}},
    {"upgradeStrategy": {"minimumHealthCapacity": 0, "maximumOverCapacity": 0}},
    {"portDefinitions": [{"port": 0, "name": "pg"}]},
    {"healthChecks": [{"protocol": "TCP"}]},
])
def test_resident_update_allowed_changes(changes):
    old = resident_app()
    new = normalize_app(changes, path_id="/db", existing=copy.deepcopy(old), partial=True, mesos_role="slave_public")
    assert validate_resident_update(old, new) is None


def test_resident_role_change_needs_force():
    old = resident_app()
    new = dict(old, role="other")
    status, body = err(validate_resident_update, old, new)
    assert status == 422 and body["details"][0]["path"] == "/role"
    message = body["details"][0]["errors"][0]
    assert message.startswith("It is not possible to change the role for existing reservations.")
    assert message.endswith("retry your request with ?force=true")
    assert validate_resident_update(old, new, force=True) is None


def test_turning_an_app_resident_or_back_is_refused():
    plain = normalize_app({"id": "/db", "cmd": "run"}, mesos_role="slave_public")
    res = resident_app(cpus=1, mem=128)
    for old, new in ((plain, res), (res, plain)):
        assert err(validate_resident_update, old, new) == not_valid(("/", ["Persistent volumes can not be changed!"]))
    assert validate_resident_update(plain, dict(plain, cpus=4.0)) is None
    # the resource rules apply as well when one side is resident
    assert err(validate_resident_update, plain, resident_app(cpus=2, mem=128)) == not_valid(
        ("/", ["Persistent volumes can not be changed!"]), ("/app(0)/cpus", [RES_MSG]))
    assert validate_resident_update(None, res) is None
    # a plain app in another role turning resident also meets the role rule
    other_role = normalize_app({"id": "/db", "cmd": "run"})
    status, body = err(validate_resident_update, other_role, res)
    assert [d["path"] for d in body["details"]] == ["/", "/role"]
    assert [d["path"] for d in err(validate_resident_update, other_role, res, force=True)[1]["details"]] == ["/"]


# ---------------------------------------------------------------------------
# Service ports (§4.1 step 8)
# ---------------------------------------------------------------------------

def test_service_ports_from_range_skipping_used():
    app = normalize_app({"id": "/a", "cmd": "xx", "portDefinitions": [{"port": 0}, {"port": 0}, {"port": 10005}]})
    out = assign_service_ports(app, {10000, 10002})
    assert [pd["port"] for pd in out["portDefinitions"]] == [10001, 10003, 10005]
    assert [pd["port"] for pd in app["portDefinitions"]] == [0, 0, 10005]  # input untouched


def test_service_ports_reuse_previous_assignment():
    app = normalize_app({"id": "/a", "cmd": "xx", "portDefinitions": [{"port": 0}, {"port": 0}]})
    previous = assign_service_ports(app, {10000, 10001, 10002})
    assert [pd["port"] for pd in previous["portDefinitions"]] == [10003, 10004]
    again = assign_service_ports(app, {10000}, previous)
    assert [pd["port"] for pd in again["portDefinitions"]] == [10003, 10004]
    # a previous port taken by someone else meanwhile is not reused
    moved = assign_service_ports(app, {10003}, previous)
    assert [pd["port"] for pd in moved["portDefinitions"]] == [10004, 10000]


def test_service_ports_for_port_mappings():
    app = normalize_app({"id": "/a", "container": {"docker": {"image": "x", "network": "BRIDGE", "portMappings": [
        {"containerPort": 80}, {"containerPort": 81, "servicePort": 12000}]}}})
    out = assign_service_ports(app, set())
    assert [pm["servicePort"] for pm in out["container"]["portMappings"]] == [10000, 12000]
    assert [pm["hostPort"] for pm in out["container"]["portMappings"]] == [0, 0]


def test_service_ports_exhausted():
    app = normalize_app({"id": "/a", "cmd": "xx"})
    used = set(range(LOCAL_PORT_MIN, LOCAL_PORT_MAX + 1))
    status, body = err(assign_service_ports, app, used)
    assert status == 500 and "10000" in body["message"]
    out = assign_service_ports(app, used - {LOCAL_PORT_MAX})
    assert out["portDefinitions"][0]["port"] == LOCAL_PORT_MAX


# ---------------------------------------------------------------------------
# Plans (§5.1) and versions (§5.2)
# ---------------------------------------------------------------------------

APP = normalize_app({"id": "/a", "cmd": "sleep 10", "instances": 1})


def with_(app=APP, **changes):
    out = copy.deepcopy(app)
    out.update(changes)
    return out


@pytest.mark.parametrize("old, new, restart, steps", [
    (None, APP, False, [[{"action": "StartApplication", "app": "/a"}], [{"action": "ScaleApplication", "app": "/a"}]]),
    (None, with_(instances=0), False,
     [[{"action": "StartApplication", "app": "/a"}], [{"action": "ScaleApplication", "app": "/a"}]]),
    (APP, None, False, [[{"action": "StopApplication", "app": "/a"}]]),
    (APP, with_(instances=3), False, [[{"action": "ScaleApplication", "app": "/a"}]]),
    (APP, with_(instances=0), False, [[{"action": "ScaleApplication", "app": "/a"}]]),
    (APP, with_(cmd="sleep 20"), False, [[{"action": "RestartApplication", "app": "/a"}]]),
    (APP, with_(cmd="sleep 20", instances=4), False, [[{"action": "RestartApplication", "app": "/a"}]]),
    (APP, with_(labels={"x": "1"}), False, [[{"action": "RestartApplication", "app": "/a"}]]),
    (APP, copy.deepcopy(APP), True, [[{"action": "RestartApplication", "app": "/a"}]]),
    (APP, copy.deepcopy(APP), False, []),
    (None, None, False, []),
])
def test_plan_steps(old, new, restart, steps):
    assert compute_plan_steps(old, new, restart=restart) == steps


@pytest.mark.parametrize("changes, changed", [
    ({"instances": 7}, False),
    ({}, False),
    ({"cmd": "other"}, True),
    ({"cpus": 2.0}, True),
    ({"env": {"A": "1"}}, True),
    ({"labels": {"a": "b"}}, True),
    ({"upgradeStrategy": {"maximumOverCapacity": 0.0, "minimumHealthCapacity": 1.0}}, True),
    ({"role": "x"}, True),
    ({"killSelection": "OLDEST_FIRST"}, True),
    ({"residency": {"relaunchEscalationTimeoutSeconds": 1}}, False),
    ({"version": "2020-01-01T00:00:00.000Z"}, False),
])
def test_is_config_change(changes, changed):
    assert is_config_change(APP, with_(**changes)) is changed


def test_constraint_order_is_not_a_change():
    a = normalize_app({"id": "/a", "cmd": "xx", "constraints": [["a", "UNIQUE"], ["b", "UNIQUE"]]})
    b = normalize_app({"id": "/a", "cmd": "xx", "constraints": [["b", "UNIQUE"], ["a", "UNIQUE"]]})
    assert not is_config_change(a, b)


T0, T1 = "2020-06-01T12:00:00.000Z", "2020-06-01T13:00:00.000Z"
INFO0 = {"lastScalingAt": T0, "lastConfigChangeAt": T0}


@pytest.mark.parametrize("old, new, restart, expected", [
    (None, APP, False, (T1, {"lastScalingAt": T1, "lastConfigChangeAt": T1})),
    (APP, with_(cmd="x2"), False, (T1, {"lastScalingAt": T1, "lastConfigChangeAt": T1})),
    (APP, with_(instances=2), False, (T1, {"lastScalingAt": T1, "lastConfigChangeAt": T0})),
    (APP, copy.deepcopy(APP), True, (T1, {"lastScalingAt": T1, "lastConfigChangeAt": T0})),
    (APP, copy.deepcopy(APP), False, (T0, INFO0)),
])
def test_next_version_info(old, new, restart, expected):
    assert next_version_info(old, new, parse_api_timestamp(T1), restart=restart,
                             old_version=T0, old_version_info=INFO0) == expected


def test_next_version_info_reads_stored_fields():
    stored = app_for_output(APP, T0, INFO0)
    assert next_version_info(stored, with_(instances=3), T1) == (T1, {"lastScalingAt": T1, "lastConfigChangeAt": T0})


# ---------------------------------------------------------------------------
# Output (§4.2)
# ---------------------------------------------------------------------------

def test_output_inserts_version_fields_in_raml_order():
    app = normalize_app({"id": "/a", "cmd": "xx", "user": "u", "tty": True, "role": "*"})
    out = app_for_output(app, T0, INFO0)
    keys = list(out)
    assert keys.index("user") < keys.index("version") < keys.index("versionInfo") < keys.index("killSelection")
    assert keys[-2:] == ["tty", "role"]
    assert "version" not in app  # not mutated


def test_output_without_version_info_for_new_apps():
    out = app_for_output(APP, T0, None)
    assert out["version"] == T0 and "versionInfo" not in out
    assert json.loads(json.dumps(out)) == out
