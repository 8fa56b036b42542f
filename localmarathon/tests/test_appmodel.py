"""App model: real app definitions, defaults, migrations and error answers."""

import copy
import json
import os
from pathlib import Path

import pytest

from localmarathon.appdef.ids import canonical_id
from localmarathon.appdef.normalize import app_for_output, normalize_app
from localmarathon.appdef.ports import assign_service_ports
from localmarathon.appdef.schema import parse_json_body
from localmarathon.errors import ApiError
from support.reference import reference_dir


# The Marathon reference files vendored in tests/reference (see its SOURCES.md).
REFERENCE = reference_dir() / "marathon-api"

# Definitions Marathon 1.10 accepts (DC/OS role; external volumes need their feature flag).
VALID_FILES = sorted(
    [p for p in (REFERENCE / "marathon-1.10.26" / "tests-system-apps").glob("*.json")]
    + [REFERENCE / "marathon-1.10.26" / "articles-examples" / "requests" / "app-simple.json"]
    + [p for p in (REFERENCE / "dcos-core-cli" / "tests-data" / "apps").glob("*.json")
       if p.name not in ("bad.json", "app_add_400.json", "update_zero_instance_sleep.json")]
    + [REFERENCE / "dcos-docs-site" / "2.2" / "tutorials" / "stateful-services" / "postgres.marathon.json",
       REFERENCE / "dcos-docs" / "1.10" / "tutorials" / "stateful-services" / "postgres.marathon.json"]
)

OPTS = {"mesos_role": "slave_public", "enabled_features": {"external_volumes"}}


def err(fn, *args, **kwargs):
    with pytest.raises(ApiError) as info:
        fn(*args, **kwargs)
    return info.value.status, info.value.body


def norm(raw, **kw):
    opts = dict(OPTS)
    opts.update(kw)
    return normalize_app(raw, **opts)


# ---------------------------------------------------------------------------
# Real definitions
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_definitions_normalize_to_a_fixed_point(path):
    app = norm(parse_json_body(path.read_bytes()))
    assert app["id"].startswith("/")
    again = norm(json.loads(json.dumps(app)))
    assert again == app
    assert list(again) == list(app)
    # after port assignment the output is still a fixed point (assigned ports kept)
    assigned = assign_service_ports(app, set())
    assert norm(json.loads(json.dumps(assigned))) == assigned


def test_real_definitions_are_all_found():
    assert len(VALID_FILES) >= 20


@pytest.mark.parametrize("name, status, body", [
    ("bad.json", 400, None),
    ("app_add_400.json", 422, {"message": "Invalid JSON", "details": [
        {"path": "/container/docker/network", "errors": ["error.unknown.enum.literal"]}]}),
])
def test_cli_error_fixtures(name, status, body):
    raw = (REFERENCE / "dcos-core-cli" / "tests-data" / "apps" / name).read_bytes()
    got_status, got_body = err(lambda: norm(parse_json_body(raw)))
    assert got_status == status
    if body is None:
        assert got_body["message"] == "Invalid JSON"
        assert isinstance(got_body["details"], str) and got_body["details"]
    else:
        assert got_body == body


def test_cli_update_fixture_is_a_valid_update_but_not_a_create():
    raw = parse_json_body((REFERENCE / "dcos-core-cli" / "tests-data" / "apps" / "update_zero_instance_sleep.json").read_bytes())
    status, body = err(norm, raw)
    assert status == 422 and body["details"][0]["path"] == "/id"
    existing = norm(parse_json_body((REFERENCE / "dcos-core-cli" / "tests-data" / "apps" / "zero_instance_sleep.json").read_bytes()))
    updated = norm(raw, path_id="/zero-instance-app", existing=existing, partial=True)
    assert (updated["cpus"], updated["mem"], updated["cmd"]) == (1.0, 20.0, "sleep 100")
    assert updated["labels"] == existing["labels"] and updated["instances"] == 0


def test_raml_example_app_is_refused_like_marathon():
    raw = parse_json_body((REFERENCE / "marathon-1.10.26" / "api" / "v2" / "examples" / "app.json").read_bytes())
    status, body = err(norm, raw)
    assert status == 422 and body["message"] == "Object is not valid"
    assert {"path": "/", "errors": ["cannot specify both an IP address and port"]} in body["details"]
    # without the deprecated ipAddress: cmd with args and an undeclared env secret are refused
    del raw["ipAddress"]
    status, body = err(norm, raw, enabled_features={"secrets"}, mesos_role="mesos_role")
    assert body["details"] == [
        {"path": "/", "errors": ["AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."]},
        {"path": "/env/PASSWORD", "errors": ["references an undefined secret"]}]
    del raw["args"]
    raw["env"]["PASSWORD"] = {"secret": "secret1"}
    app = norm(raw, enabled_features={"secrets"}, mesos_role="mesos_role")
    assert app["networks"] == [{"mode": "container/bridge"}]
    assert "portDefinitions" not in app
    assert app["container"]["portMappings"] == [{"containerPort": 80, "hostPort": 0, "labels": {"vip": "192.168.0.1:80"},
                                                 "name": "http", "protocol": "tcp", "servicePort": 10019}]
    assert app["fetch"][0] == {"uri": "https://foo.com/setup.py", "extract": True, "executable": False, "cache": False}
    assert app["env"]["PASSWORD"] == {"secret": "secret1"}
    assert app["secrets"] == {"secret1": {"source": "/db/password"}, "secret3": {"source": "/foo2"}}
    assert app["dependencies"] == ["/prod/group"]


def test_raml_example_bulk_create_definitions():
    apps = parse_json_body((REFERENCE / "marathon-1.10.26" / "api" / "v2" / "examples" / "apps_create.json").read_bytes())
    out = [norm(a) for a in apps]
    assert [a["id"] for a in out] == ["/test/sleep60", "/test/sleep120"]
    assert out[0]["dependencies"] == ["/test/sleep120", "/other/namespace/or/app"]
    assert out[0]["mem"] == 9.0 and isinstance(out[0]["mem"], float)


# ---------------------------------------------------------------------------
# §4.4 worked example and defaults
# ---------------------------------------------------------------------------

WORKED_REQUEST = {"id": "db", "cmd": "sleep 3600", "cpus": 0.5, "mem": 64, "instances": 1,
                  "container": {"type": "MESOS",
                                "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}}
WORKED_GET = (
    '{"id": "/db", "backoffFactor": 1.15, "backoffSeconds": 1, "cmd": "sleep 3600", '
    '"container": {"type": "MESOS", "volumes": [{"containerPath": "data", "persistent": '
    '{"type": "root", "size": 10, "constraints": []}, "mode": "RW"}]}, '
    '"cpus": 0.5, "disk": 0.0, "executor": "", "instances": 1, "labels": {}, '
    '"maxLaunchDelaySeconds": 300, "mem": 64.0, "gpus": 0, "networks": [{"mode": "host"}], '
    '"portDefinitions": [{"port": 10000, "name": "default", "protocol": "tcp"}], '
    '"residency": {"relaunchEscalationTimeoutSeconds": 3600, "taskLostBehavior": "WAIT_FOREVER"}, '
    '"requirePorts": false, "upgradeStrategy": {"maximumOverCapacity": 0.0, "minimumHealthCapacity": 0.5}, '
    '"version": "2020-06-01T12:00:00.000Z", "versionInfo": {"lastScalingAt": "2020-06-01T12:00:00.000Z", '
    '"lastConfigChangeAt": "2020-06-01T12:00:00.000Z"}, "killSelection": "YOUNGEST_FIRST", '
    '"unreachableStrategy": "disabled", "role": "slave_public"}'
)


def test_worked_example_exact_bytes():
    app = normalize_app(copy.deepcopy(WORKED_REQUEST), path_id=None, existing=None, partial=False,
                        mesos_role="slave_public")
    app = assign_service_ports(app, set(), None)
    ts = "2020-06-01T12:00:00.000Z"
    out = app_for_output(app, ts, {"lastScalingAt": ts, "lastConfigChangeAt": ts})
    assert json.dumps(out) == WORKED_GET


def test_worked_example_is_refused_with_default_mesos_role():
    status, body = err(normalize_app, copy.deepcopy(WORKED_REQUEST), path_id=None, existing=None, partial=False)
    assert (status, body) == (422, {"message": "Object is not valid", "details": [
        {"path": "/role", "errors": ["Resident apps cannot have the role *"]}]})


def test_defaults_of_a_minimal_app():
    app = normalize_app({"id": "/a", "cmd": "sleep 1"})
    assert json.dumps(app) == (
        '{"id": "/a", "backoffFactor": 1.15, "backoffSeconds": 1, "cmd": "sleep 1", "cpus": 1.0, "disk": 0.0, '
        '"executor": "", "instances": 1, "labels": {}, "maxLaunchDelaySeconds": 300, "mem": 128.0, "gpus": 0, '
        '"networks": [{"mode": "host"}], "portDefinitions": [{"port": 0, "name": "default", "protocol": "tcp"}], '
        '"requirePorts": false, "upgradeStrategy": {"maximumOverCapacity": 1.0, "minimumHealthCapacity": 1.0}, '
        '"killSelection": "YOUNGEST_FIRST", "unreachableStrategy": {"inactiveAfterSeconds": 0, '
        '"expungeAfterSeconds": 0}, "role": "*"}')


@pytest.mark.parametrize("raw, key, expected", [
    # doubles come back as floats
    ({"cpus": 1}, "cpus", 1.0),
    ({"mem": 20}, "mem", 20.0),
    ({"disk": 5}, "disk", 5.0),
    ({"backoffFactor": 2}, "backoffFactor", 2.0),
    ({"upgradeStrategy": {"minimumHealthCapacity": 0, "maximumOverCapacity": 0}}, "upgradeStrategy",
     {"maximumOverCapacity": 0.0, "minimumHealthCapacity": 0.0}),
    ({"upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.25}}, "upgradeStrategy",
     {"maximumOverCapacity": 0.25, "minimumHealthCapacity": 0.5}),
    # integral numbers in int fields are read as ints
    ({"instances": 2.0}, "instances", 2),
    # explicit [] means "no ports"
    ({"portDefinitions": []}, "portDefinitions", []),
    ({"ports": [0, 0]}, "portDefinitions", [{"port": 0, "protocol": "tcp"}, {"port": 0, "protocol": "tcp"}]),
    ({"ports": [8080]}, "portDefinitions", [{"port": 8080, "protocol": "tcp"}]),
    ({"portDefinitions": [{"port": 0, "name": "http", "labels": {"a": "b"}, "protocol": "udp"}]}, "portDefinitions",
     [{"port": 0, "labels": {"a": "b"}, "name": "http", "protocol": "udp"}]),
    ({"portDefinitions": [{"port": 0, "labels": {}}]}, "portDefinitions", [{"port": 0, "protocol": "tcp"}]),
    ({"uris": ["http://x/a.tgz", "http://x/b.sh"]}, "fetch",
     [{"uri": "http://x/a.tgz", "extract": True, "executable": False, "cache": False},
      {"uri": "http://x/b.sh", "extract": False, "executable": False, "cache": False}]),
    ({"fetch": [{"uri": "http://x/a"}]}, "fetch",
     [{"uri": "http://x/a", "extract": True, "executable": False, "cache": False}]),
    ({"fetch": [{"uri": "http://x/a", "destPath": "b", "cache": True}]}, "fetch",
     [{"uri": "http://x/a", "extract": True, "executable": False, "cache": True, "destPath": "b"}]),
    ({"labels": {"a": "1"}}, "labels", {"a": "1"}),
    ({"killSelection": "OLDEST_FIRST"}, "killSelection", "OLDEST_FIRST"),
    ({"unreachableStrategy": {"inactiveAfterSeconds": 10}}, "unreachableStrategy",
     {"inactiveAfterSeconds": 10, "expungeAfterSeconds": 0}),
    ({"unreachableStrategy": "disabled"}, "unreachableStrategy", "disabled"),
    ({"requirePorts": True}, "requirePorts", True),
    ({"constraints": [["hostname", "UNIQUE"], ["hostname", "UNIQUE"]]}, "constraints", [["hostname", "UNIQUE"]]),
    ({"executorResources": {"cpus": 1}}, "executorResources", {"cpus": 1.0, "mem": 32.0, "disk": 10.0}),
    ({"resourceLimits": {"cpus": "unlimited", "mem": 256}}, "resourceLimits", {"cpus": "unlimited", "mem": 256.0}),
    ({"taskKillGracePeriodSeconds": 5}, "taskKillGracePeriodSeconds", 5),
    ({"tty": False}, "tty", False),
    ({"user": "nobody"}, "user", "nobody"),
    ({"role": "*"}, "role", "*"),
    ({"acceptedResourceRoles": ["*", "*"]}, "acceptedResourceRoles", ["*"]),
    ({"env": {"A": "1", "B": ""}}, "env", {"A": "1", "B": ""}),
    ({"dependencies": ["b", "../c", "/d/e", "/b"], "id": "/g/a"}, "dependencies", ["/b", "/c", "/d/e"]),
    ({"check": {"http": {"portIndex": 0}}}, "check",
     {"http": {"portIndex": 0, "scheme": "HTTP"}, "intervalSeconds": 60, "timeoutSeconds": 20, "delaySeconds": 15}),
])
def test_defaults_and_number_types(raw, key, expected):
    body = {"id": "/a", "cmd": "sleep 1"}
    body.update(raw)
    app = normalize_app(body)
    assert app[key] == expected
    assert json.dumps(app[key]) == json.dumps(expected)
    assert normalize_app(json.loads(json.dumps(app))) == app


@pytest.mark.parametrize("key, value", [
    ("args", []), ("env", {}), ("constraints", []), ("dependencies", []), ("fetch", []), ("healthChecks", []),
    ("readinessChecks", []), ("secrets", {}), ("cmd", None), ("user", None), ("container", None),
    ("taskKillGracePeriodSeconds", None), ("tty", None), ("executorResources", None), ("resourceLimits", None),
    ("residency", {}), ("uris", []), ("ports", None), ("ipAddress", None), ("version", "2020-01-01T00:00:00.000Z"),
])
def test_empty_or_null_fields_are_omitted(key, value):
    app = normalize_app({"id": "/a", "args": ["x"], key: value} if key != "args" else {"id": "/a", "cmd": "xx", key: value})
    assert key not in app


# ---------------------------------------------------------------------------
# Migrations (§4.1 step 3) and networking
# ---------------------------------------------------------------------------

def test_docker_bridge_migration():
    app = normalize_app({"id": "/w", "container": {"type": "DOCKER", "docker": {
        "image": "nginx", "network": "BRIDGE",
        "portMappings": [{"containerPort": 80}, {"containerPort": 443, "hostPort": 8443, "name": "tls"}]}}})
    assert app["networks"] == [{"mode": "container/bridge"}]
    assert app["container"] == {"type": "DOCKER", "docker": {"forcePullImage": False, "image": "nginx",
                                                             "parameters": [], "privileged": False},
                                "volumes": [], "portMappings": [
        {"containerPort": 80, "hostPort": 0, "labels": {}, "protocol": "tcp", "servicePort": 0},
        {"containerPort": 443, "hostPort": 8443, "labels": {}, "name": "tls", "protocol": "tcp", "servicePort": 0}]}
    assert "portDefinitions" not in app


@pytest.mark.parametrize("docker_network, networks", [
    ("HOST", [{"mode": "host"}]),
    ("BRIDGE", [{"mode": "container/bridge"}]),
])
def test_docker_network_modes(docker_network, networks):
    app = normalize_app({"id": "/w", "container": {"docker": {"image": "x", "network": docker_network}}})
    assert app["networks"] == networks
    assert "network" not in app["container"]["docker"]


def test_user_network_with_ip_address():
    app = normalize_app({"id": "/w", "ipAddress": {"networkName": "dcos", "labels": {"a": "b"}},
                         "container": {"docker": {"image": "x", "network": "USER"}}})
    assert app["networks"] == [{"name": "dcos", "mode": "container", "labels": {"a": "b"}}]
    # USER: a missing hostPort stays absent in the default mapping
    assert app["container"]["portMappings"] == [
        {"containerPort": 0, "labels": {}, "name": "default", "protocol": "tcp", "servicePort": 0}]


def test_ip_address_discovery_ports_become_port_mappings():
    app = normalize_app({"id": "/w", "cmd": "sleep 1", "ipAddress": {
        "networkName": "net1", "discovery": {"ports": [{"number": 8080, "name": "http", "protocol": "tcp"}]}}})
    assert app["networks"] == [{"name": "net1", "mode": "container"}]
    assert app["container"]["type"] == "MESOS"
    assert app["container"]["portMappings"] == [
        {"containerPort": 8080, "labels": {}, "name": "http", "protocol": "tcp", "servicePort": 0}]


def test_container_network_without_container_gets_default_mapping():
    app = normalize_app({"id": "/w", "cmd": "sleep 1", "networks": [{"mode": "container/bridge"}]})
    assert app["container"] == {"type": "MESOS", "volumes": [], "portMappings": [
        {"containerPort": 0, "hostPort": 0, "labels": {}, "name": "default", "protocol": "tcp", "servicePort": 0}]}
    assert app["requirePorts"] is False


def test_explicit_empty_port_mappings_are_kept():
    app = normalize_app({"id": "/w", "cmd": "sleep 1", "networks": [{"mode": "container", "name": "n"}],
                         "container": {"type": "MESOS", "portMappings": []}, "requirePorts": True})
    assert app["container"]["portMappings"] == []
    assert app["requirePorts"] is False  # forced false off host networking


def test_host_networking_hides_port_mappings():
    app = normalize_app({"id": "/w", "cmd": "sleep 1", "container": {"type": "MESOS", "portMappings": []}})
    assert "portMappings" not in app["container"]
    assert app["portDefinitions"] == [{"port": 0, "name": "default", "protocol": "tcp"}]


@pytest.mark.parametrize("extra, expected_hc", [
    # full app without listed ports: no portIndex added (the one default port is used)
    ({}, {"gracePeriodSeconds": 300, "ignoreHttp1xx": False, "intervalSeconds": 60, "maxConsecutiveFailures": 3,
          "path": "/health", "protocol": "HTTP", "ipProtocol": "IPv4", "timeoutSeconds": 20, "delaySeconds": 15}),
    # listed port definitions: portIndex 0 added
    ({"portDefinitions": [{"port": 0}]},
     {"gracePeriodSeconds": 300, "ignoreHttp1xx": False, "intervalSeconds": 60, "maxConsecutiveFailures": 3,
      "path": "/health", "portIndex": 0, "protocol": "HTTP", "ipProtocol": "IPv4", "timeoutSeconds": 20,
      "delaySeconds": 15}),
    # deprecated `ports` do not count (Marathon looks at the request's portDefinitions)
    ({"ports": [0]},
     {"gracePeriodSeconds": 300, "ignoreHttp1xx": False, "intervalSeconds": 60, "maxConsecutiveFailures": 3,
      "path": "/health", "protocol": "HTTP", "ipProtocol": "IPv4", "timeoutSeconds": 20, "delaySeconds": 15}),
    # container networking: the container always has port mappings, so portIndex is added
    ({"networks": [{"mode": "container/bridge"}], "container": {"type": "MESOS"}},
     {"gracePeriodSeconds": 300, "ignoreHttp1xx": False, "intervalSeconds": 60, "maxConsecutiveFailures": 3,
      "path": "/health", "portIndex": 0, "protocol": "HTTP", "ipProtocol": "IPv4", "timeoutSeconds": 20,
      "delaySeconds": 15}),
])
def test_health_check_port_index_rule_for_full_apps(extra, expected_hc):
    body = {"id": "/h", "cmd": "serve", "healthChecks": [{"path": "/health"}]}
    body.update(extra)
    app = normalize_app(body)
    assert app["healthChecks"] == [expected_hc]
    assert json.dumps(app["healthChecks"][0]) == json.dumps(expected_hc)


def test_resending_get_output_adds_port_index_like_marathon():
    app = normalize_app({"id": "/h", "cmd": "serve", "healthChecks": [{"protocol": "TCP"}]})
    assert "portIndex" not in app["healthChecks"][0]
    again = normalize_app(json.loads(json.dumps(app)))
    assert again["healthChecks"][0]["portIndex"] == 0
    assert normalize_app(json.loads(json.dumps(again))) == again


@pytest.mark.parametrize("hc, expected", [
    ({"protocol": "HTTP", "path": "/x", "portIndex": 0},
     '{"gracePeriodSeconds": 300, "ignoreHttp1xx": false, "intervalSeconds": 60, "maxConsecutiveFailures": 3, '
     '"path": "/x", "portIndex": 0, "protocol": "HTTP", "ipProtocol": "IPv4", "timeoutSeconds": 20, "delaySeconds": 15}'),
    ({"protocol": "HTTPS", "portIndex": 0, "ignoreHttp1xx": True},
     '{"gracePeriodSeconds": 300, "ignoreHttp1xx": true, "intervalSeconds": 60, "maxConsecutiveFailures": 3, '
     '"portIndex": 0, "protocol": "HTTPS", "ipProtocol": "IPv4", "timeoutSeconds": 20, "delaySeconds": 15}'),
    ({"protocol": "TCP", "portIndex": 0, "ignoreHttp1xx": False, "path": "/ignored"},
     '{"gracePeriodSeconds": 300, "intervalSeconds": 60, "maxConsecutiveFailures": 3, '
     '"portIndex": 0, "protocol": "TCP", "ipProtocol": "IPv4", "timeoutSeconds": 20, "delaySeconds": 15}'),
    ({"protocol": "COMMAND", "command": {"value": "true"}, "portIndex": 0},
     '{"command": {"value": "true"}, "gracePeriodSeconds": 300, "intervalSeconds": 60, "maxConsecutiveFailures": 3, '
     '"protocol": "COMMAND", "ipProtocol": "IPv4", "timeoutSeconds": 20, "delaySeconds": 15}'),
    ({"protocol": "MESOS_HTTP", "path": "/", "port": 8080, "gracePeriodSeconds": 5},
     '{"gracePeriodSeconds": 5, "intervalSeconds": 60, "maxConsecutiveFailures": 3, "path": "/", "port": 8080, '
     '"protocol": "MESOS_HTTP", "ipProtocol": "IPv4", "timeoutSeconds": 20, "delaySeconds": 15}'),
    ({"protocol": "TCP", "portIndex": 0, "delaySeconds": 1, "timeoutSeconds": 5},
     '{"gracePeriodSeconds": 300, "intervalSeconds": 60, "maxConsecutiveFailures": 3, '
     '"portIndex": 0, "protocol": "TCP", "ipProtocol": "IPv4", "timeoutSeconds": 5, "delaySeconds": 15}'),
    ({"protocol": "MESOS_TCP", "portIndex": 0, "delaySeconds": 1},
     '{"gracePeriodSeconds": 300, "intervalSeconds": 60, "maxConsecutiveFailures": 3, "portIndex": 0, '
     '"protocol": "MESOS_TCP", "ipProtocol": "IPv4", "timeoutSeconds": 20, "delaySeconds": 1}'),
])
def test_health_check_output_per_protocol(hc, expected):
    app = normalize_app({"id": "/h", "cmd": "serve", "portDefinitions": [{"port": 0}], "healthChecks": [hc]})
    assert json.dumps(app["healthChecks"][0]) == expected


def test_resident_defaults_and_explicit_residency():
    app = norm({"id": "/r", "cmd": "xx", "residency": {"relaunchEscalationTimeoutSeconds": 10},
                "container": {"type": "MESOS", "volumes": [
                    {"containerPath": "d", "mode": "RW", "persistent": {"size": 1, "profileName": "fast"}}]}})
    assert app["residency"] == {"relaunchEscalationTimeoutSeconds": 10, "taskLostBehavior": "WAIT_FOREVER"}
    assert app["container"]["volumes"][0]["persistent"] == {"type": "mount", "size": 1, "profileName": "fast",
                                                            "constraints": []}
    assert app["unreachableStrategy"] == "disabled"
    assert app["upgradeStrategy"] == {"maximumOverCapacity": 0.0, "minimumHealthCapacity": 0.5}


def test_residency_without_volumes_is_dropped():
    app = normalize_app({"id": "/r", "cmd": "xx", "residency": {}})
    assert "residency" not in app


def test_external_volume_forces_resident_upgrade_default():
    app = norm({"id": "/e", "cmd": "xx", "container": {"type": "MESOS", "volumes": [
        {"containerPath": "v", "mode": "RW", "external": {"name": "vol", "provider": "dvdi"}}]}})
    assert app["upgradeStrategy"] == {"maximumOverCapacity": 0.0, "minimumHealthCapacity": 0.5}
    assert app["unreachableStrategy"] == {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}
    assert app["container"]["volumes"] == [
        {"containerPath": "v", "external": {"name": "vol", "provider": "dvdi", "shared": False}, "mode": "RW"}]


def test_volume_kinds_round_trip():
    vols = [{"containerPath": "/h", "hostPath": "/tmp", "mode": "RO"},
            {"containerPath": "p", "mode": "RW", "persistent": {"type": "mount", "size": 5, "maxSize": 10,
                                                                "constraints": [["path", "LIKE", "/mnt/.*"]]}}]
    app = norm({"id": "/v", "cmd": "xx", "container": {"type": "MESOS", "volumes": vols}})
    assert app["container"]["volumes"] == [
        {"containerPath": "/h", "hostPath": "/tmp", "mode": "RO"},
        {"containerPath": "p", "persistent": {"type": "mount", "size": 5, "maxSize": 10,
                                              "constraints": [["path", "LIKE", "/mnt/.*"]]}, "mode": "RW"}]


def test_readiness_check_defaults():
    app = normalize_app({"id": "/r", "cmd": "xx", "portDefinitions": [{"port": 0, "name": "http-api"}],
                         "readinessChecks": [{}]})
    assert app["readinessChecks"] == [{"name": "readinessCheck", "protocol": "HTTP", "path": "/",
                                       "portName": "http-api", "intervalSeconds": 30, "timeoutSeconds": 10,
                                       "httpStatusCodesForReady": [200], "preserveLastResponse": False}]


# ---------------------------------------------------------------------------
# Ids (§9)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, base, expected", [
    ("a", "/", "/a"),
    ("/a/b", "/", "/a/b"),
    ("//a//b/", "/", "/a/b"),
    ("b", "/g", "/g/b"),
    ("../c", "/g/h", "/g/c"),
    ("./x/./y", "/", "/x/y"),
    ("/a/b/..", "/", "/a"),
    ("a.b-c.d", "/", "/a.b-c.d"),
])
def test_canonical_id(raw, base, expected):
    assert canonical_id(raw, base) == expected


SEGMENT_MSG = ("must fully match regular expression "
               "'^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'")
RESERVED_MSG = "must not end with any of the following reserved keywords: restart, tasks, versions, ., .."


@pytest.mark.parametrize("raw, details", [
    ("My_App", [{"path": "/id", "errors": [SEGMENT_MSG]}]),
    ("/a/-b", [{"path": "/id", "errors": [SEGMENT_MSG]}]),
    ("/a/restart", [{"path": "/id", "errors": [RESERVED_MSG]}]),
    ("/a/tasks", [{"path": "/id", "errors": [RESERVED_MSG]}]),
    ("/versions", [{"path": "/id", "errors": [RESERVED_MSG]}]),
    ("/", [{"path": "/id", "errors": ["Path must contain at least one path element"]},
           {"path": "/", "errors": ["must not be root"]}]),
    ("/a/..", [{"path": "/id", "errors": ["Path must contain at least one path element"]},
               {"path": "/", "errors": ["must not be root"]}]),
])
def test_bad_path_ids(raw, details):
    assert err(canonical_id, raw) == (422, {"message": "Object is not valid", "details": details})
    # the id from the URL of a PUT is validated the same way
    assert err(normalize_app, {"cmd": "sleep 1"}, path_id=raw) == (
        422, {"message": "Object is not valid", "details": details})


# ---------------------------------------------------------------------------
# RAML-level errors (422 "Invalid JSON")
# ---------------------------------------------------------------------------

def invalid_json(*pairs):
    return (422, {"message": "Invalid JSON", "details": [{"path": p, "errors": e} for p, e in pairs]})


@pytest.mark.parametrize("raw, expected", [
    ({"id": "My App", "cmd": "xx"}, invalid_json(("/id", ["error.pattern"]))),
    ({"id": "", "cmd": "xx"}, invalid_json(("/id", ["error.minLength"]))),
    ({"id": 5, "cmd": "xx"}, invalid_json(("/id", ["error.expected.jsstring"]))),
    ({"cmd": "xx"}, invalid_json(("/id", ["'id' is undefined on object: {\"cmd\":\"xx\"}"]))),
    ({"id": "/a", "cmd": ""}, invalid_json(("/cmd", ["error.minLength"]))),
    ({"id": "/a", "cmd": ["ls"]}, invalid_json(("/cmd", ["error.expected.jsstring"]))),
    ({"id": "/a", "cmd": "xx", "cpus": "1"}, invalid_json(("/cpus", ["error.expected.jsnumber"]))),
    ({"id": "/a", "cmd": "xx", "cpus": 0}, invalid_json(("/cpus", ["error.min"]))),
    ({"id": "/a", "cmd": "xx", "mem": -3}, invalid_json(("/mem", ["error.min"]))),
    ({"id": "/a", "cmd": "xx", "instances": -1}, invalid_json(("/instances", ["error.min"]))),
    ({"id": "/a", "cmd": "xx", "instances": 1.5}, invalid_json(("/instances", ["error.expected.int"]))),
    ({"id": "/a", "cmd": "xx", "instances": 2 ** 31}, invalid_json(("/instances", ["error.expected.int"]))),
    ({"id": "/a", "cmd": "xx", "instances": True}, invalid_json(("/instances", ["error.expected.jsnumber"]))),
    ({"id": "/a", "cmd": "xx", "backoffFactor": 0.5}, invalid_json(("/backoffFactor", ["error.min"]))),
    ({"id": "/a", "cmd": "xx", "requirePorts": "yes"}, invalid_json(("/requirePorts", ["error.expected.jsboolean"]))),
    ({"id": "/a", "cmd": "xx", "args": "ls"}, invalid_json(("/args", ["error.expected.jsarray"]))),
    ({"id": "/a", "cmd": "xx", "labels": {"a": 1}}, invalid_json(("/labels/a", ["error.expected.jsstring"]))),
    ({"id": "/a", "cmd": "xx", "labels": []}, invalid_json(("/labels", ["error.expected.jsobject"]))),
    ({"id": "/a", "cmd": "xx", "env": {"A": 1}}, invalid_json(("/env/A", ["error.expected.jsobject"]))),
    ({"id": "/a", "cmd": "xx", "upgradeStrategy": {"minimumHealthCapacity": 1.2, "maximumOverCapacity": 0}},
     invalid_json(("/upgradeStrategy/minimumHealthCapacity", ["error.max"]))),
    ({"id": "/a", "cmd": "xx", "upgradeStrategy": {"maximumOverCapacity": -0.1, "minimumHealthCapacity": 0}},
     invalid_json(("/upgradeStrategy/maximumOverCapacity", ["error.min"]))),
    ({"id": "/a", "cmd": "xx", "upgradeStrategy": {"minimumHealthCapacity": 0.5}},
     invalid_json(("/upgradeStrategy/maximumOverCapacity",
                   ["'maximumOverCapacity' is undefined on object: {\"minimumHealthCapacity\":0.5}"]))),
    ({"id": "/a", "cmd": "xx", "killSelection": "RANDOM"}, invalid_json(("/killSelection", ["error.unknown.enum.literal"]))),
    ({"id": "/a", "cmd": "xx", "unreachableStrategy": "enabled"},
     invalid_json(("/unreachableStrategy", ["error.expected.jsobject"]))),
    ({"id": "/a", "cmd": "xx", "unreachableStrategy": {"expungeAfterSeconds": -1}},
     invalid_json(("/unreachableStrategy/expungeAfterSeconds", ["error.min"]))),
    ({"id": "/a", "cmd": "xx", "networks": [{"mode": "bridge"}]},
     invalid_json(("/networks(0)/mode", ["error.unknown.enum.literal"]))),
    ({"id": "/a", "cmd": "xx", "portDefinitions": [{"port": 70000}]},
     invalid_json(("/portDefinitions(0)/port", ["error.max"]))),
    ({"id": "/a", "cmd": "xx", "portDefinitions": [{"port": 0, "name": "Bad_Name"}]},
     invalid_json(("/portDefinitions(0)/name", ["error.pattern"]))),
    ({"id": "/a", "cmd": "xx", "portDefinitions": [{"protocol": "sctp"}]},
     invalid_json(("/portDefinitions(0)/protocol", ["error.unknown.enum.literal"]))),
    ({"id": "/a", "cmd": "xx", "constraints": [["hostname"]]}, invalid_json(("/constraints(0)", ["error.minLength"]))),
    ({"id": "/a", "cmd": "xx", "constraints": [["a", "b", "c", "d"]]}, invalid_json(("/constraints(0)", ["error.maxLength"]))),
    ({"id": "/a", "cmd": "xx", "healthChecks": [{"protocol": "UDP"}]},
     invalid_json(("/healthChecks(0)/protocol", ["error.unknown.enum.literal"]))),
    ({"id": "/a", "cmd": "xx", "healthChecks": [{"gracePeriodSeconds": -1}]},
     invalid_json(("/healthChecks(0)/gracePeriodSeconds", ["error.min"]))),
    ({"id": "/a", "cmd": "xx", "executor": "a//b"}, invalid_json(("/executor", ["error.pattern"]))),
    ({"id": "/a", "cmd": "xx", "role": ""}, invalid_json(("/role", ["error.minLength"]))),
    ({"id": "/a", "cmd": "xx", "fetch": [{}]}, invalid_json(("/fetch(0)/uri", ["'uri' is undefined on object: {}"]))),
    ({"id": "/a", "cmd": "xx", "dependencies": ["Bad"]}, invalid_json(("/dependencies(0)", ["error.pattern"]))),
    ({"id": "/a", "container": {"type": "DOCKER", "docker": {}}},
     invalid_json(("/container/docker/image", ["'image' is undefined on object: {}"]))),
    ({"id": "/a", "container": {"type": "DOCKER", "docker": {"image": ""}}},
     invalid_json(("/container/docker/image", ["error.minLength"]))),
    ({"id": "/a", "container": {"type": "RKT", "docker": {"image": "x"}}},
     invalid_json(("/container/type", ["error.unknown.enum.literal"]))),
    ({"id": "/a", "cmd": "xx", "container": {"type": "MESOS", "volumes": [
        {"containerPath": "data", "persistent": {"size": 10}}]}},
     invalid_json(
         ("/container/volumes(0)/hostPath",
          ["'hostPath' is undefined on object: {\"containerPath\":\"data\",\"persistent\":{\"size\":10}}"]),
         ("/container/volumes(0)/mode",
          ["'mode' is undefined on object: {\"containerPath\":\"data\",\"persistent\":{\"size\":10}}"]))),
    ({"id": "/a", "cmd": "xx", "container": {"type": "MESOS", "volumes": [
        {"containerPath": "data", "mode": "RW", "persistent": {"size": -1}}]}},
     invalid_json(
         ("/container/volumes(0)/hostPath",
          ["'hostPath' is undefined on object: {\"containerPath\":\"data\",\"mode\":\"RW\",\"persistent\":{\"size\":-1}}"]))),
    ({"id": "/a", "cmd": "xx", "container": {"type": "MESOS", "volumes": [
        {"containerPath": "d", "mode": "XX", "hostPath": "/x"}]}},
     invalid_json(("/container/volumes(0)/mode", ["error.unknown.enum.literal"]))),
    ({"id": "/a", "cmd": "xx", "cpus": "1", "mem": "2"},
     invalid_json(("/cpus", ["error.expected.jsnumber"]), ("/mem", ["error.expected.jsnumber"]))),
])
def test_raml_level_errors(raw, expected):
    assert err(normalize_app, raw) == expected


def test_non_object_body():
    assert err(normalize_app, [{"id": "/a"}]) == invalid_json(("/", ["error.expected.jsobject"]))


def test_unknown_fields_are_ignored():
    app = normalize_app({"id": "/a", "cmd": "xx", "foo": 1, "tasksRunning": 3, "deployments": [{"id": "x"}]})
    assert "foo" not in app and "tasksRunning" not in app and "deployments" not in app


# ---------------------------------------------------------------------------
# Semantic errors (422 "Object is not valid")
# ---------------------------------------------------------------------------

def not_valid(*pairs):
    return (422, {"message": "Object is not valid", "details": [{"path": p, "errors": e} for p, e in pairs]})


CMD_OR_CONTAINER = "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."
HC_PORT = "Health check port indices must address an element of the ports array or container port mappings."
PV = {"type": "MESOS", "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}


def resident(**extra):
    body = {"id": "/r", "cmd": "xx", "container": copy.deepcopy(PV)}
    body.update(extra)
    return body


def with_volume(vol):
    return {"id": "/r", "cmd": "xx", "container": {"type": "MESOS", "volumes": [vol]}}


@pytest.mark.parametrize("raw, kw, expected", [
    ({"id": "/a"}, {}, not_valid(("/", [CMD_OR_CONTAINER]))),
    ({"id": "/a", "cmd": "xx", "args": ["y"]}, {}, not_valid(("/", [CMD_OR_CONTAINER]))),
    ({"id": "/a", "container": {"type": "MESOS"}}, {}, not_valid(("/", [CMD_OR_CONTAINER]))),
    ({"id": "/a", "cmd": "xx", "args": ["y"], "container": {"docker": {"image": "i"}}}, {},
     not_valid(("/", [CMD_OR_CONTAINER]))),
    # Marathon checks `cmd.length > 1`, so a one-character command is refused
    ({"id": "/a", "cmd": "x"}, {}, not_valid(("/", ["must not be an empty string"]))),
    ({"id": "/a", "cmd": "xx", "healthChecks": [{"portIndex": 1}]}, {}, not_valid(("/healthChecks(0)", [HC_PORT]))),
    ({"id": "/a", "cmd": "xx", "portDefinitions": [], "healthChecks": [{"protocol": "TCP"}]}, {},
     not_valid(("/healthChecks(0)", [HC_PORT]))),
    ({"id": "/a", "cmd": "xx", "portDefinitions": [{}, {}], "healthChecks": [{"protocol": "HTTP", "portIndex": 2}]},
     {}, not_valid(("/healthChecks(0)", [HC_PORT]))),
    ({"id": "/a", "cmd": "xx", "healthChecks": [{"protocol": "MESOS_HTTP", "portIndex": 3}]}, {},
     not_valid(("/healthChecks(0)", [HC_PORT]))),
    ({"id": "/a", "cmd": "xx", "healthChecks": [{"protocol": "MESOS_TCP"}, {"protocol": "MESOS_HTTP"}]}, {},
     not_valid(("/", ["AppDefinition can contain at most one Mesos health check"]))),
    ({"id": "/a", "cmd": "xx", "healthChecks": [{"protocol": "HTTP", "ipProtocol": "IPv6"}]}, {},
     not_valid(("/healthChecks(0)", ["IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health checks"]))),
    ({"id": "/a", "cmd": "xx", "portDefinitions": [{"port": 80}, {"port": 80}]}, {},
     not_valid(("/portDefinitions", ["Ports must be unique."]))),
    ({"id": "/a", "cmd": "xx", "portDefinitions": [{"name": "a"}, {"name": "a"}]}, {},
     not_valid(("/portDefinitions", ["Port names must be unique."]))),
    ({"id": "/a", "cmd": "xx", "ports": [80, 80]}, {}, not_valid(("/", ["ports must be unique"]))),
    ({"id": "/a", "cmd": "xx", "ports": [80], "portDefinitions": [{"port": 81}]}, {},
     not_valid(("/", ["cannot specify both ports and port definitions"]))),
    ({"id": "/a", "cmd": "xx", "uris": ["http://a"], "fetch": [{"uri": "http://b"}]}, {},
     not_valid(("/uris", ["may not be set in conjunction with fetch"]))),
    ({"id": "/a", "cmd": "xx", "ipAddress": {"networkName": "n"}, "networks": [{"mode": "host"}]}, {},
     not_valid(("/", ["must not specify both networks and ipAddress"]))),
    ({"id": "/a", "networks": [{"mode": "host"}], "container": {"docker": {"image": "i", "network": "HOST"}}}, {},
     not_valid(("/", ["must not specify both container.docker.network and networks"]))),
    ({"id": "/a", "cmd": "xx", "networks": [{"mode": "container"}]}, {},
     not_valid(("/networks", ["Network name must be specified when container network is selected."]))),
    ({"id": "/a", "container": {"docker": {"image": "i", "network": "USER"}}}, {},
     not_valid(("/networks", ["Network name must be specified when container network is selected."]))),
    ({"id": "/a", "cmd": "xx", "networks": [{"mode": "host", "name": "n"}]}, {},
     not_valid(("/networks", ["Host networks may not have names or labels"]))),
    ({"id": "/a", "cmd": "xx", "networks": [{"mode": "container/bridge", "name": "n"}]}, {},
     not_valid(("/networks", ["Bridge networks may not have names"]))),
    ({"id": "/a", "cmd": "xx", "networks": [{"mode": "container", "name": "n"}, {"mode": "container", "name": "n"}]},
     {}, not_valid(("/networks", ["Duplicate networks are not allowed"]))),
    ({"id": "/a", "cmd": "xx", "networks": [{"mode": "host"}, {"mode": "container/bridge"}]}, {},
     not_valid(("/networks", ["May specify a single host network, single bridge network, or else 1-to-n container networks"]))),
    ({"id": "/a", "container": {"type": "DOCKER", "docker": {"image": "i"}},
      "networks": [{"mode": "container", "name": "a"}, {"mode": "container", "name": "b"}]}, {},
     not_valid(("/", ["may only specify a single container network when using the Docker container engine"]))),
    ({"id": "/a", "container": {"type": "DOCKER"}, "cmd": "xx"}, {}, not_valid(("/container/docker", ["not defined"]))),
    ({"id": "/a", "container": {"type": "MESOS", "docker": {"image": "i", "network": "BRIDGE"}}}, {},
     not_valid(("/container/docker/network", ["must be empty"]))),
    ({"id": "/a", "cmd": "xx", "gpus": 1}, {}, not_valid(("/", ["Feature gpu_resources is not enabled. Enable with --enable_features gpu_resources)"]))),
    ({"id": "/a", "cmd": "xx", "secrets": {"s": {"source": "x"}}}, {},
     not_valid(("/secrets", ["Feature secrets is not enabled. Enable with --enable_features secrets)"]))),
    ({"id": "/a", "cmd": "xx", "readinessChecks": [{"portName": "http"}]}, {},
     not_valid(("/readinessChecks(0)/portName", ["No port definition reference for portName http"]))),
    ({"id": "/a", "cmd": "xx", "portDefinitions": [{"name": "http-api"}],
      "readinessChecks": [{"intervalSeconds": 5, "timeoutSeconds": 5}]}, {},
     not_valid(("/readinessChecks(0)/timeoutSeconds", ["got 5, expected less than 5"]))),
    ({"id": "/a", "cmd": "xx", "acceptedResourceRoles": []}, {}, not_valid(("/acceptedResourceRoles", ["must not be empty"]))),
    ({"id": "/a", "cmd": "xx", "role": "other"}, {}, not_valid(("/role", ["got other, expected one of: [*]"]))),
    # nested apps may use the top-level group's name as role
    ({"id": "/dev/a", "cmd": "xx", "role": "prod"}, {}, not_valid(("/role", ["got prod, expected one of: [*, dev]"]))),
    ({"id": "/a", "cmd": "xx", "fetch": [{"uri": "http://h/a b.tgz"}]}, {},
     not_valid(("/fetch(0)/uri", ["URI has invalid syntax."]))),
    ({"id": "/a", "cmd": "xx", "uris": ["http://h/x", "http://h/%zz"]}, {},
     not_valid(("/fetch(1)/uri", ["URI has invalid syntax."]))),
    # constraints
    ({"id": "/a", "cmd": "xx", "constraints": [["hostname", "UNIQUE", "x"]]}, {},
     not_valid(("/constraints(0)", ["Value specified but not used"]))),
    ({"id": "/a", "cmd": "xx", "constraints": [["rack", "CLUSTER"]]}, {},
     not_valid(("/constraints(0)", ["Missing value"]))),
    ({"id": "/a", "cmd": "xx", "constraints": [["rack", "GROUP_BY", "two"]]}, {},
     not_valid(("/constraints(0)", ["Value was specified but is not a number"]))),
    ({"id": "/a", "cmd": "xx", "constraints": [["rack", "MAX_PER", "x"]]}, {},
     not_valid(("/constraints(0)", ["Value was not specified or is not a number"]))),
    ({"id": "/a", "cmd": "xx", "constraints": [["rack", "LIKE"]]}, {},
     not_valid(("/constraints(0)", ["A regular expression value must be provided"]))),
    ({"id": "/a", "cmd": "xx", "constraints": [["rack", "UNLIKE", "("]]}, {},
     not_valid(("/constraints(0)", ["'(' is not a valid regular expression"]))),
    ({"id": "/a", "cmd": "xx", "constraints": [["hostname", "UNIQUE"], ["rack", "NEAR", "x"]]}, {},
     not_valid(("/constraints(1)", [
         "Constraint operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER or UNLIKE"]))),
    ({"id": "/a", "cmd": "xx", "constraints": [["", ""]]}, {},
     not_valid(("/constraints(0)", ["Missing field and operator"]))),
    # §8.2 volumes
    (with_volume({"containerPath": "a/b", "mode": "RW", "persistent": {"size": 1}}), {"mesos_role": "slave_public"},
     not_valid(("/container/volumes(0)/containerPath", ['value must not contain "/"']))),
    (with_volume({"containerPath": "..", "mode": "RW", "persistent": {"size": 1}}), {"mesos_role": "slave_public"},
     not_valid(("/container/volumes(0)/containerPath", ["must not be one of (.,..)"]))),
    (with_volume({"containerPath": "d", "mode": "RO", "persistent": {"size": 1}}), {"mesos_role": "slave_public"},
     not_valid(("/container/volumes(0)/mode", ["got RO, expected RW"]))),
    (with_volume({"containerPath": "d", "mode": "RW", "persistent": {"size": 0}}), {"mesos_role": "slave_public"},
     not_valid(("/container/volumes(0)/persistent/size", ["got 0, expected more than 0"]))),
    (with_volume({"containerPath": "d", "mode": "RW", "persistent": {"size": 5, "maxSize": 10}}),
     {"mesos_role": "slave_public"}, not_valid(("/container/volumes(0)/persistent", ["Only mount volumes can have maxSize"]))),
    (with_volume({"containerPath": "d", "mode": "RW", "persistent": {"type": "mount", "size": 5, "maxSize": 5}}),
     {"mesos_role": "slave_public"}, not_valid(("/container/volumes(0)/persistent", ["Max size must be larger than size"]))),
    (with_volume({"containerPath": "d", "mode": "RW", "persistent": {"size": 5, "constraints": [["path", "LIKE", "x"]]}}),
     {"mesos_role": "slave_public"},
     not_valid(("/container/volumes(0)/persistent", ["Constraints on root volumes are not supported"]))),
    (with_volume({"containerPath": "d", "mode": "RW", "persistent": {"type": "path", "size": 5,
                                                                     "constraints": [["path", "UNIQUE", "x"]]}}),
     {"mesos_role": "slave_public"},
     not_valid(("/container/volumes(0)/persistent/constraints(0)", ["Operator must be one of LIKE, UNLIKE"]))),
    (with_volume({"containerPath": "d", "mode": "RW", "persistent": {"type": "path", "size": 5,
                                                                     "constraints": [["hostname", "LIKE", "x"]]}}),
     {"mesos_role": "slave_public"},
     not_valid(("/container/volumes(0)/persistent/constraints(0)", ["Unsupported constraint hostname,LIKE,x"]))),
    (with_volume({"containerPath": "d", "mode": "RW", "external": {"name": "v", "provider": "dvdi"}}), {},
     not_valid(("/container/volumes(0)", ["Feature external_volumes is not enabled. Enable with --enable_features external_volumes)"]))),
    # §8.3 resident app rules
    (resident(), {}, not_valid(("/role", ["Resident apps cannot have the role *"]))),
    (resident(upgradeStrategy={"maximumOverCapacity": 1, "minimumHealthCapacity": 0.5}), {"mesos_role": "slave_public"},
     not_valid(("/upgradeStrategy/maximumOverCapacity", ["got 1.0, expected 0.0"]))),
    (resident(upgradeStrategy={"maximumOverCapacity": 0.25, "minimumHealthCapacity": 1}), {"mesos_role": "slave_public"},
     not_valid(("/upgradeStrategy/maximumOverCapacity", ["got 0.25, expected 0.0"]))),
    (resident(unreachableStrategy={"inactiveAfterSeconds": 1}), {"mesos_role": "slave_public"},
     not_valid(("/", ["unreachableStrategy must be disabled for resident tasks"]))),
    (resident(acceptedResourceRoles=["slave_public"]), {"mesos_role": "slave_public"},
     not_valid(("/acceptedResourceRoles", ['A resident app must have `acceptedResourceRoles = ["*"]`.']))),
    (resident(labels={"MARATHON_SINGLE_INSTANCE_APP": "true"}, instances=2), {"mesos_role": "slave_public"},
     not_valid(("/", ["Single instance app may only have one instance"]))),
    ({"id": "/s", "cmd": "xx", "labels": {"MARATHON_SINGLE_INSTANCE_APP": "true"},
      "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 1}}, {},
     not_valid(("/upgradeStrategy/minimumHealthCapacity", ["got 0.5, expected 0.0"]),
               ("/upgradeStrategy/maximumOverCapacity", ["got 1.0, expected 0.0"]))),
    # several violations are grouped per path
    (resident(role="*", unreachableStrategy={"inactiveAfterSeconds": 1},
              upgradeStrategy={"maximumOverCapacity": 1, "minimumHealthCapacity": 1}), {},
     not_valid(("/role", ["Resident apps cannot have the role *"]),
               ("/upgradeStrategy/maximumOverCapacity", ["got 1.0, expected 0.0"]),
               ("/", ["unreachableStrategy must be disabled for resident tasks"]))),
])
def test_semantic_errors(raw, kw, expected):
    assert err(normalize_app, raw, **kw) == expected


@pytest.mark.parametrize("raw, kw", [
    (resident(acceptedResourceRoles=["*"]), {"mesos_role": "slave_public"}),
    (resident(labels={"MARATHON_SINGLE_INSTANCE_APP": "true"},
              upgradeStrategy={"minimumHealthCapacity": 0, "maximumOverCapacity": 0}), {"mesos_role": "slave_public"}),
    ({"id": "/dev/a", "cmd": "xx", "role": "dev"}, {}),
    ({"id": "/a", "cmd": "xx", "gpus": 1}, {"enabled_features": {"gpu_resources"}}),
    ({"id": "/a", "cmd": "xx", "secrets": {"s": {"source": "x"}}, "env": {"S": {"secret": "s"}}},
     {"enabled_features": {"secrets"}}),
    ({"id": "/a", "container": {"type": "DOCKER", "docker": {"image": "i"}}}, {}),
    ({"id": "/a", "args": ["ls"]}, {}),
    ({"id": "/a", "cmd": "xx", "healthChecks": [{"protocol": "HTTP", "port": 80}], "portDefinitions": []}, {}),
    ({"id": "/a", "cmd": "xx", "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"}}] * 2}, {}),
    ({"id": "/a", "cmd": "xx", "constraints": [["hostname", "UNIQUE"], ["rack", "GROUP_BY"], ["rack", "GROUP_BY", "3"],
                                               ["a", "CLUSTER", "b"], ["a", "LIKE", "r.*"], ["a", "UNLIKE", "x"],
                                               ["a", "MAX_PER", "2"], ["a", "IS", "b"]]}, {}),
])
def test_semantically_valid_edge_cases(raw, kw):
    app = normalize_app(raw, **kw)
    assert normalize_app(json.loads(json.dumps(app)), **kw) == app


# ---------------------------------------------------------------------------
# forDeprecated port and network rules
# ---------------------------------------------------------------------------

def test_port_definitions_on_container_network_pad_port_mappings():
    app = normalize_app({"id": "/p", "networks": [{"mode": "container/bridge"}],
                         "container": {"type": "DOCKER", "docker": {"image": "x"},
                                       "portMappings": [{"containerPort": 80}]},
                         "portDefinitions": [{"port": 0}, {"port": 0}, {"port": 0}]})
    assert "portDefinitions" not in app
    assert app["container"]["portMappings"] == [
        {"containerPort": 80, "hostPort": 0, "labels": {}, "protocol": "tcp", "servicePort": 0},
        {"containerPort": 0, "hostPort": 0, "labels": {}, "protocol": "tcp", "servicePort": 0},
        {"containerPort": 0, "hostPort": 0, "labels": {}, "protocol": "tcp", "servicePort": 0}]


def test_port_mappings_on_host_network_are_dropped_for_full_apps():
    app = normalize_app({"id": "/p", "container": {"type": "DOCKER", "docker": {"image": "x"},
                                                   "portMappings": [{"containerPort": 80}]}})
    assert "portMappings" not in app["container"]
    assert app["portDefinitions"] == [{"port": 0, "name": "default", "protocol": "tcp"}]


@pytest.mark.parametrize("ip, docker_network, networks", [
    ({"networkName": "mesos-bridge"}, None, [{"mode": "container/bridge"}]),
    ({"labels": {"a": "b"}}, "BRIDGE", [{"mode": "container/bridge", "labels": {"a": "b"}}]),
    ({"networkName": "x"}, "HOST", [{"mode": "host"}]),
    ({"networkName": "blue"}, "USER", [{"name": "blue", "mode": "container"}]),
])
def test_ip_address_translation(ip, docker_network, networks):
    docker = {"image": "i"}
    if docker_network:
        docker["network"] = docker_network
    app = normalize_app({"id": "/n", "ipAddress": ip, "container": {"type": "DOCKER", "docker": docker}})
    assert app["networks"] == networks


@pytest.mark.parametrize("raw, message", [
    ({"id": "/n", "container": {"docker": {"image": "i", "network": "NONE"}}}, "unsupported docker network type NONE"),
    ({"id": "/n", "container": {"docker": {"image": "i", "network": "BRIDGE", "portMappings": [{"containerPort": 1}]},
                                "portMappings": [{"containerPort": 2}]}},
     "cannot specify both portMappings and docker.portMappings"),
    ({"id": "/n", "cmd": "xx", "ipAddress": {"networkName": "n", "discovery": {"ports": [{"name": "a", "number": 1}]}},
      "container": {"type": "MESOS", "portMappings": []}},
     "container.portMappings and ipAddress.discovery.ports must not both be set"),
])
def test_normalization_exceptions(raw, message):
    assert err(normalize_app, raw) == (422, {"message": message})


# ---------------------------------------------------------------------------
# Apps embedded in the 1.10 RAML examples (GET outputs of older versions)
# ---------------------------------------------------------------------------

def _example(name):
    return parse_json_body((REFERENCE / "marathon-1.10.26" / "api" / "v2" / "examples" / name).read_bytes())


def _group_apps(group):
    yield from group.get("apps", [])
    for sub in group.get("groups", []):
        yield from _group_apps(sub)


def test_group_example_apps_and_check_example():
    apps = list(_group_apps(_example("group.json"))) + [_example("app-check-http-example.json")]
    assert len(apps) == 4
    out = {a["id"]: a for a in (norm(copy.deepcopy(raw)) for raw in apps)}
    for app in out.values():
        assert norm(json.loads(json.dumps(app))) == app
    registry = out["/tools/docker/registry"]
    assert registry["networks"] == [{"mode": "container/bridge"}]
    assert registry["container"]["portMappings"] == [
        {"containerPort": 5000, "hostPort": 0, "labels": {}, "protocol": "tcp", "servicePort": 5000}]
    assert out["/tools/oauth-server"]["portDefinitions"] == [{"port": 1980, "protocol": "tcp"}]
    assert out["/http-index-test"]["check"] == {"http": {"portIndex": 0, "path": "/", "scheme": "HTTP"},
                                                "intervalSeconds": 60, "timeoutSeconds": 20, "delaySeconds": 15}


def test_old_get_output_with_nulls():
    raw = _example("app_list.json")["apps"][0]
    # 1.10 refuses the UNIQUE constraint with an (empty) value that old versions stored
    assert err(norm, copy.deepcopy(raw)) == (422, {"message": "Object is not valid", "details": [
        {"path": "/constraints(0)", "errors": ["Value specified but not used"]}]})
    raw["constraints"] = [["hostname", "UNIQUE"]]
    app = norm(raw)
    assert "args" not in app and "user" not in app and "container" not in app
    assert app["portDefinitions"] == [{"port": 10013, "protocol": "tcp"}, {"port": 10015, "protocol": "tcp"}]
    assert app["fetch"] == [{"uri": "https://raw.github.com/mesosphere/marathon/master/README.md",
                             "extract": False, "executable": False, "cache": False}]
    assert app["maxLaunchDelaySeconds"] == 3600 and app["mem"] == 5.0
