# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Comparison of desired definitions with what Marathon 1.10 returns on GET.

The desired definitions are the real files in the shared reference data; each
"live" form below is written by hand from the reference (marathon-api.md §4.2,
§4.4, §7, §8) the way GET /v2/apps/{id} shows that app once it runs.
"""

from __future__ import annotations

import copy
import json
import os

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import (
    compare_apps,
    SECRET_ENV_LABEL,
    SECRET_MASK,
    SECRET_MASK_CHANGED,
    app_id_problem,
    canonical_app_id,
    is_resident,
    label_secret_names,
    mask_app,
    normalize_app_definition,
    resident_refusal_message,
    secret_env_label_value,
    secret_env_problems,
    secret_values,
    unknown_field_problems,
    validate_definition,
)


# The comparison record, read the ways these tests need it.
def app_differs(desired, live):
    return compare_apps(desired, live).differs


def changed_fields(desired, live):
    return compare_apps(desired, live).changed_fields


def diff_app(desired, live, extra_names=()):
    return compare_apps(desired, live).diff(extra_names)


def resident_violations(desired, live):
    return compare_apps(desired, live).resident_violations


# The Marathon reference files vendored in tests/reference (see its SOURCES.md).
REFERENCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "reference")


def load(rel):
    with open(os.path.join(REFERENCE, "marathon-api", rel)) as f:
        return json.load(f)


TUTORIAL = "dcos-docs-site/2.2/tutorials/stateful-services/postgres.marathon.json"
APPS = "marathon-1.10.26/tests-system-apps/"

COMMON_LIVE = {
    "backoffFactor": 1.15,
    "backoffSeconds": 1,
    "executor": "",
    "labels": {},
    "maxLaunchDelaySeconds": 300,
    "gpus": 0,
    "requirePorts": False,
    "killSelection": "YOUNGEST_FIRST",
}
RESIDENCY = {"relaunchEscalationTimeoutSeconds": 3600, "taskLostBehavior": "WAIT_FOREVER"}


def with_status(app, running=1, healthy=0, role="slave_public"):
    """Add what GET adds: version, counts, deployments, tasks, role."""
    out = dict(COMMON_LIVE)
    out.update(app)
    out.setdefault("role", role)
    out.update(
        {
            "version": "2026-11-25T12:00:00.000Z",
            "versionInfo": {
                "lastScalingAt": "2026-11-25T12:00:00.000Z",
                "lastConfigChangeAt": "2026-11-25T12:00:00.000Z",
            },
            "tasksStaged": 0,
            "tasksRunning": running,
            "tasksHealthy": healthy,
            "tasksUnhealthy": 0,
            "deployments": [],
            "tasks": [
                {
                    "appId": app["id"],
                    "healthCheckResults": [],
                    "host": "127.0.0.1",
                    "id": app["id"].strip("/") + ".instance-5a1e0c1c-a3e4-11ea-8d8f-0242ac110002._app.1",
                    "ports": [31234],
                    "servicePorts": [],
                    "slaveId": "c5b4e7a2-S0",
                    "state": "TASK_RUNNING",
                }
            ],
        }
    )
    return out


LIVE = {
    TUTORIAL: with_status(
        {
            "id": "/postgres",
            "container": {
                "type": "DOCKER",
                "docker": {"forcePullImage": False, "image": "postgres:9.5", "parameters": [], "privileged": False},
                "volumes": [
                    {"containerPath": "pgdata", "persistent": {"type": "root", "size": 100, "constraints": []}, "mode": "RW"}
                ],
                "portMappings": [
                    {
                        "containerPort": 5432,
                        "hostPort": 0,
                        "labels": {"VIP_0": "5.4.3.2:5432"},
                        "protocol": "tcp",
                        "servicePort": 10000,
                    }
                ],
            },
            "cpus": 1.0,
            "disk": 0.0,
            "env": {"POSTGRES_PASSWORD": "DC/OS_ROCKS", "PGDATA": "/mnt/mesos/sandbox/pgdata"},
            "healthChecks": [
                {
                    "gracePeriodSeconds": 300,
                    "intervalSeconds": 60,
                    "maxConsecutiveFailures": 3,
                    "portIndex": 0,
                    "protocol": "TCP",
                    "ipProtocol": "IPv4",
                    "timeoutSeconds": 20,
                    "delaySeconds": 15,
                }
            ],
            "instances": 1,
            "mem": 1024.0,
            "networks": [{"mode": "container/bridge"}],
            "residency": RESIDENCY,
            "upgradeStrategy": {"maximumOverCapacity": 0.0, "minimumHealthCapacity": 0.0},
            "unreachableStrategy": "disabled",
        },
        healthy=1,
    ),
    APPS + "sleep-app.json": with_status(
        {
            "id": "/sleep",
            "cmd": "sleep 100000000",
            "cpus": 0.01,
            "disk": 0.0,
            "instances": 1,
            "mem": 32.0,
            "networks": [{"mode": "host"}],
            "portDefinitions": [{"port": 10001, "name": "default", "protocol": "tcp"}],
            "upgradeStrategy": {"maximumOverCapacity": 1.0, "minimumHealthCapacity": 1.0},
            "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0},
        },
        role="*",
    ),
    APPS + "docker-http-server.json": with_status(
        {
            "id": "/docker-http-server",
            "cmd": "python3 -m http.server 8080",
            "container": {
                "type": "DOCKER",
                "docker": {"forcePullImage": False, "image": "python:3.5-alpine", "parameters": [], "privileged": False},
                "volumes": [],
                "portMappings": [
                    {"containerPort": 8080, "hostPort": 0, "labels": {}, "protocol": "tcp", "servicePort": 10002}
                ],
            },
            "cpus": 0.5,
            "disk": 0.0,
            "instances": 1,
            "mem": 32.0,
            "networks": [{"mode": "container/bridge"}],
            "upgradeStrategy": {"maximumOverCapacity": 1.0, "minimumHealthCapacity": 1.0},
            "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0},
        }
    ),
    APPS + "readiness-and-health-app.json": with_status(
        {
            "id": "/readiness-and-health-app",
            "cmd": "/opt/mesosphere/bin/python -m http.server $PORT0",
            "cpus": 0.5,
            "disk": 0.0,
            "healthChecks": [
                {
                    "gracePeriodSeconds": 10,
                    "ignoreHttp1xx": False,
                    "intervalSeconds": 2,
                    "maxConsecutiveFailures": 0,
                    "path": "/",
                    "portIndex": 0,
                    "protocol": "HTTP",
                    "ipProtocol": "IPv4",
                    "timeoutSeconds": 2,
                    "delaySeconds": 15,
                }
            ],
            "instances": 1,
            "mem": 128.0,
            "networks": [{"mode": "host"}],
            "portDefinitions": [{"port": 10003, "name": "api", "protocol": "tcp"}],
            "readinessChecks": [
                {
                    "name": "readiness",
                    "protocol": "HTTP",
                    "path": "/",
                    "portName": "api",
                    "intervalSeconds": 2,
                    "timeoutSeconds": 1,
                    "httpStatusCodesForReady": [200],
                    "preserveLastResponse": False,
                }
            ],
            "upgradeStrategy": {"maximumOverCapacity": 0.0, "minimumHealthCapacity": 0.0},
            "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0},
        }
    ),
    APPS + "resident-docker-app.json": with_status(
        {
            "id": "/resident-docker-app",
            "container": {
                "type": "DOCKER",
                "docker": {"forcePullImage": False, "image": "nginx:alpine", "parameters": [], "privileged": False},
                "volumes": [
                    {"containerPath": "data", "persistent": {"type": "root", "size": 100, "constraints": []}, "mode": "RW"}
                ],
                "portMappings": [
                    {"containerPort": 0, "labels": {}, "name": "default", "protocol": "tcp", "servicePort": 10004}
                ],
            },
            "cpus": 0.1,
            "disk": 100.0,
            "healthChecks": [
                {
                    "gracePeriodSeconds": 240,
                    "ignoreHttp1xx": False,
                    "intervalSeconds": 10,
                    "maxConsecutiveFailures": 10,
                    "path": "/",
                    "port": 80,
                    "protocol": "HTTP",
                    "ipProtocol": "IPv4",
                    "timeoutSeconds": 10,
                    "delaySeconds": 15,
                }
            ],
            "instances": 1,
            "mem": 128.0,
            "networks": [{"name": "dcos", "mode": "container"}],
            "residency": RESIDENCY,
            "upgradeStrategy": {"maximumOverCapacity": 0.0, "minimumHealthCapacity": 0.5},
            "unreachableStrategy": "disabled",
        }
    ),
    APPS + "persistent-volume-app.json": with_status(
        {
            "id": "/persistent-volume-app",
            "acceptedResourceRoles": ["*"],
            "cmd": "env && echo 'hello' >> $MESOS_SANDBOX/data/foo && /opt/mesosphere/bin/python -m http.server $PORT_API",
            "container": {
                "type": "MESOS",
                "volumes": [
                    {"containerPath": "data", "persistent": {"type": "root", "size": 10, "constraints": []}, "mode": "RW"}
                ],
            },
            "cpus": 0.5,
            "disk": 0.0,
            "instances": 1,
            "mem": 32.0,
            "networks": [{"mode": "host"}],
            "portDefinitions": [{"port": 10005, "name": "api", "protocol": "tcp"}],
            "residency": RESIDENCY,
            "upgradeStrategy": {"maximumOverCapacity": 0.0, "minimumHealthCapacity": 0.5},
            "unreachableStrategy": "disabled",
        }
    ),
    APPS + "ipv6-healthcheck.json": with_status(
        {
            "id": "/test-ipv6",
            "cmd": "nc -kl -p 8080 -e sh -c $'sleep 1; echo -e \"HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nHi\"'",
            "container": {
                "type": "DOCKER",
                "docker": {"forcePullImage": False, "image": "alpine", "parameters": [], "privileged": False},
                "volumes": [],
                "portMappings": [
                    {"containerPort": 8080, "hostPort": 0, "labels": {}, "protocol": "tcp", "servicePort": 10006}
                ],
            },
            "cpus": 0.5,
            "disk": 0.0,
            "healthChecks": [
                {
                    "gracePeriodSeconds": 300,
                    "intervalSeconds": 60,
                    "maxConsecutiveFailures": 3,
                    "path": "/",
                    "portIndex": 0,
                    "protocol": "MESOS_HTTP",
                    "ipProtocol": "IPv6",
                    "timeoutSeconds": 20,
                    "delaySeconds": 15,
                }
            ],
            "instances": 1,
            "mem": 32.0,
            "networks": [{"name": "mesos-docker-ipv6-test", "mode": "container"}],
            "upgradeStrategy": {"maximumOverCapacity": 1.0, "minimumHealthCapacity": 1.0},
            "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0},
        }
    ),
    "marathon-1.10.26/articles-examples/requests/app-simple.json": with_status(
        {
            "id": "/simple",
            "cmd": "sleep 1000",
            "cpus": 0.1,
            "disk": 0.0,
            "instances": 2,
            "mem": 16.0,
            "networks": [{"mode": "host"}],
            "portDefinitions": [{"port": 10007, "name": "default", "protocol": "tcp"}],
            "upgradeStrategy": {"maximumOverCapacity": 1.0, "minimumHealthCapacity": 1.0},
            "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0},
        },
        role="*",
    ),
}


def norm(app):
    return normalize_app_definition(app)


@pytest.mark.parametrize("rel", sorted(LIVE))
def test_real_definition_matches_its_live_form(rel):
    desired = load(rel)
    assert validate_definition(desired) == []
    assert not app_differs(norm(desired), norm(LIVE[rel])), changed_fields(norm(desired), norm(LIVE[rel]))


# A change in any of these is a real difference, for every real definition.
CHANGES = [
    ("cpus", lambda d: d.__setitem__("cpus", 3)),
    ("instances", lambda d: d.__setitem__("instances", 5)),
    ("env", lambda d: d.setdefault("env", {}).__setitem__("NEW_VAR", "x")),
    ("labels", lambda d: d.setdefault("labels", {}).__setitem__("team", "db")),
    ("constraints", lambda d: d.__setitem__("constraints", [["hostname", "UNIQUE"]])),
    ("user", lambda d: d.__setitem__("user", "nobody")),
]


@pytest.mark.parametrize("rel", sorted(LIVE))
@pytest.mark.parametrize("field,change", CHANGES, ids=[c[0] for c in CHANGES])
def test_real_definition_change_is_detected(rel, field, change):
    desired = load(rel)
    change(desired)
    assert app_differs(norm(desired), norm(LIVE[rel]))
    assert changed_fields(norm(desired), norm(LIVE[rel])) == [field]


def test_live_form_is_stable_under_normalization():
    for live in LIVE.values():
        once = norm(live)
        assert norm(once) == once


def test_marathon_14_style_output_with_nulls_and_deprecated_echoes():
    # ≤1.4 wrote nulls, empty lists and the deprecated "ports"/"uris" echoes.
    live = dict(LIVE[APPS + "sleep-app.json"])
    live.pop("networks")
    live.update({"args": None, "container": None, "uris": [], "storeUrls": [], "ports": [10001], "ipAddress": None,
                 "residency": None, "secrets": {}, "env": {}, "constraints": [], "healthChecks": [],
                 "dependencies": [], "fetch": []})
    assert not app_differs(norm(load(APPS + "sleep-app.json")), norm(live))


# ---- the single rules -----------------------------------------------------------------


@pytest.mark.parametrize("desired_value,live_value", [(128, 128.0), (1, 1.0), (0.5, 0.5), (2048.0, 2048)])
def test_numbers_compare_numerically(desired_value, live_value):
    d = {"id": "/a", "cmd": "x", "mem": desired_value}
    lv = {"id": "/a", "cmd": "x", "mem": live_value}
    assert not app_differs(norm(d), norm(lv))


def test_numbers_that_differ_still_differ():
    assert app_differs(norm({"id": "/a", "cmd": "x", "mem": 128}), norm({"id": "/a", "cmd": "x", "mem": 128.5}))


def test_booleans_are_not_numbers():
    assert app_differs(
        norm({"id": "/a", "cmd": "x", "requirePorts": True}), norm({"id": "/a", "cmd": "x", "requirePorts": 1})
    )


@pytest.mark.parametrize("given", ["postgres", "/postgres", "postgres/", "//postgres", "/./postgres", "/x/../postgres"])
def test_id_forms(given):
    assert canonical_app_id(given) == "/postgres"
    assert not app_differs(norm({"id": given, "cmd": "x"}), norm({"id": "/postgres", "cmd": "x"}))


def test_nested_id_differs_from_top_level():
    assert app_differs(norm({"id": "prod/db", "cmd": "x"}), norm({"id": "/db", "cmd": "x"}))


def test_port_zero_matches_any_assigned_port():
    d = {"id": "/a", "cmd": "x", "portDefinitions": [{"port": 0, "name": "http"}, {"port": 0}]}
    lv = {"id": "/a", "cmd": "x", "portDefinitions": [{"port": 10000, "name": "http", "protocol": "tcp"},
                                                      {"port": 10001, "protocol": "tcp"}]}
    assert not app_differs(norm(d), norm(lv))


def test_explicit_port_must_match():
    d = {"id": "/a", "cmd": "x", "portDefinitions": [{"port": 10005}]}
    lv = {"id": "/a", "cmd": "x", "portDefinitions": [{"port": 10000, "protocol": "tcp"}]}
    assert app_differs(norm(d), norm(lv))


def test_extra_port_is_a_change():
    d = {"id": "/a", "cmd": "x", "portDefinitions": [{"port": 0}, {"port": 0}]}
    lv = {"id": "/a", "cmd": "x", "portDefinitions": [{"port": 10000, "protocol": "tcp"}]}
    assert changed_fields(norm(d), norm(lv)) == ["portDefinitions"]


def test_missing_port_definitions_mean_one_default_port_but_empty_means_none():
    lv = {"id": "/a", "cmd": "x", "portDefinitions": [{"port": 10000, "name": "default", "protocol": "tcp"}]}
    assert not app_differs(norm({"id": "/a", "cmd": "x"}), norm(lv))
    assert app_differs(norm({"id": "/a", "cmd": "x", "portDefinitions": []}), norm(lv))
    assert not app_differs(norm({"id": "/a", "cmd": "x", "portDefinitions": []}),
                           norm({"id": "/a", "cmd": "x", "portDefinitions": []}))


def test_service_port_zero_in_port_mappings():
    d = {"id": "/a", "networks": [{"mode": "container/bridge"}],
         "container": {"type": "DOCKER", "docker": {"image": "nginx"}, "portMappings": [{"containerPort": 80}]}}
    lv = {"id": "/a", "networks": [{"mode": "container/bridge"}],
          "container": {"type": "DOCKER", "docker": {"image": "nginx", "privileged": False},
                        "portMappings": [{"containerPort": 80, "hostPort": 0, "servicePort": 10010, "protocol": "tcp",
                                          "labels": {}}]}}
    assert not app_differs(norm(d), norm(lv))


@pytest.mark.parametrize("empty", [None, {}, []])
def test_missing_null_and_empty_are_equal(empty):
    for key in ("env", "labels", "constraints", "healthChecks", "fetch", "args", "dependencies", "secrets"):
        d = {"id": "/a", "cmd": "x"}
        lv = {"id": "/a", "cmd": "x", key: empty}
        assert not app_differs(norm(d), norm(lv)), key


@pytest.mark.parametrize(
    "field,default",
    [("instances", 1), ("cpus", 1.0), ("mem", 128.0), ("disk", 0), ("gpus", 0), ("executor", ""),
     ("backoffSeconds", 1), ("backoffFactor", 1.15), ("maxLaunchDelaySeconds", 300), ("requirePorts", False),
     ("killSelection", "YOUNGEST_FIRST"), ("networks", [{"mode": "host"}]),
     ("upgradeStrategy", {"minimumHealthCapacity": 1.0, "maximumOverCapacity": 1.0}),
     ("unreachableStrategy", {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0})],
)
def test_defaults_equal_missing(field, default):
    assert not app_differs(norm({"id": "/a", "cmd": "x"}), norm({"id": "/a", "cmd": "x", field: default}))


def test_resident_defaults():
    d = {"id": "/db", "cmd": "x", "container": {"type": "MESOS", "volumes": [
        {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}}
    n = norm(d)
    assert n["upgradeStrategy"] == {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0}
    assert n["unreachableStrategy"] == "disabled"
    assert n["container"]["volumes"][0]["persistent"] == {"size": 10, "type": "root"}
    assert is_resident(d)


def test_constraints_are_a_set():
    d = {"id": "/a", "cmd": "x", "constraints": [["rack", "GROUP_BY", "3"], ["hostname", "UNIQUE"]]}
    lv = {"id": "/a", "cmd": "x", "constraints": [["hostname", "UNIQUE"], ["rack", "GROUP_BY", "3"],
                                                  ["hostname", "UNIQUE"]]}
    assert not app_differs(norm(d), norm(lv))
    lv["constraints"].append(["zone", "LIKE", "a"])
    assert app_differs(norm(d), norm(lv))


def test_env_and_labels_are_maps():
    d = {"id": "/a", "cmd": "x", "env": {"A": "1", "B": "2"}, "labels": {"x": "y", "z": "w"}}
    lv = {"id": "/a", "cmd": "x", "env": {"B": "2", "A": "1"}, "labels": {"z": "w", "x": "y"}}
    assert not app_differs(norm(d), norm(lv))


def test_health_checks_are_a_set_and_get_defaults_per_protocol():
    d = {"id": "/a", "cmd": "x", "healthChecks": [
        {"protocol": "COMMAND", "command": {"value": "true"}},
        {"protocol": "TCP", "ignoreHttp1xx": False},
        {"path": "/health"},
    ]}
    lv = {"id": "/a", "cmd": "x", "healthChecks": [
        {"gracePeriodSeconds": 300, "ignoreHttp1xx": False, "intervalSeconds": 60, "maxConsecutiveFailures": 3,
         "path": "/health", "portIndex": 0, "protocol": "HTTP", "ipProtocol": "IPv4", "timeoutSeconds": 20,
         "delaySeconds": 15},
        {"command": {"value": "true"}, "gracePeriodSeconds": 300, "intervalSeconds": 60,
         "maxConsecutiveFailures": 3, "protocol": "COMMAND", "ipProtocol": "IPv4", "timeoutSeconds": 20,
         "delaySeconds": 15},
        {"gracePeriodSeconds": 300, "intervalSeconds": 60, "maxConsecutiveFailures": 3, "portIndex": 0,
         "protocol": "TCP", "ipProtocol": "IPv4", "timeoutSeconds": 20, "delaySeconds": 15},
    ]}
    assert not app_differs(norm(d), norm(lv))


def test_port_index_zero_only_implied_without_port():
    with_port = norm({"id": "/a", "cmd": "x", "healthChecks": [{"protocol": "HTTP", "port": 8080}]})
    assert "portIndex" not in with_port["healthChecks"][0]
    without = norm({"id": "/a", "cmd": "x", "healthChecks": [{"protocol": "MESOS_TCP"}]})
    assert without["healthChecks"][0]["portIndex"] == 0


def test_role_ignored_unless_set():
    lv = {"id": "/a", "cmd": "x", "role": "slave_public"}
    assert not app_differs(norm({"id": "/a", "cmd": "x"}), norm(lv))
    assert app_differs(norm({"id": "/a", "cmd": "x", "role": "other"}), norm(lv))
    assert not app_differs(norm({"id": "/a", "cmd": "x", "role": "slave_public"}), norm(lv))


def test_read_only_fields_never_compared():
    lv = {"id": "/a", "cmd": "x", "version": "v1", "versionInfo": {}, "tasksRunning": 3, "tasks": [{"id": "t"}],
          "deployments": [{"id": "d"}], "lastTaskFailure": {"message": "x"}, "tasksStats": {}, "residency": {}}
    assert not app_differs(norm({"id": "/a", "cmd": "x"}), norm(lv))


def test_deprecated_fields_are_migrated():
    d = {"id": "/a", "cmd": "x", "uris": ["https://example.com/app.tgz", "https://example.com/conf.json"],
         "ports": [0]}
    lv = {"id": "/a", "cmd": "x",
          "fetch": [{"uri": "https://example.com/app.tgz", "extract": True, "executable": False, "cache": False},
                    {"uri": "https://example.com/conf.json", "extract": False, "executable": False, "cache": False}],
          "portDefinitions": [{"port": 10000, "protocol": "tcp"}]}
    assert not app_differs(norm(d), norm(lv))


def test_docker_network_user_and_ip_address_become_networks():
    n = norm(load(APPS + "healthcheck-and-volume.json"))
    assert n["networks"] == [{"mode": "container", "name": "dcos"}]
    assert "ipAddress" not in n and "network" not in n["container"]["docker"]


def test_normalize_does_not_touch_its_input():
    desired = load(TUTORIAL)
    before = copy.deepcopy(desired)
    norm(desired)
    assert desired == before


# ---- resident rules -------------------------------------------------------------------


def pg_pair(**changes):
    desired = load(TUTORIAL)
    desired.update(changes)
    return norm(desired), norm(LIVE[TUTORIAL])


@pytest.mark.parametrize("field,value", [("cpus", 2), ("mem", 2048), ("disk", 10), ("gpus", 1)])
def test_resident_resource_changes_are_refused(field, value):
    d, lv = pg_pair(**{field: value})
    assert resident_violations(d, lv) == [field]


def test_resident_require_ports_change_is_refused_with_host_networking():
    rel = APPS + "persistent-volume-app.json"
    desired = load(rel)
    desired["requirePorts"] = True
    assert resident_violations(norm(desired), norm(LIVE[rel])) == ["requirePorts"]


def test_require_ports_is_forced_off_with_container_networking():
    # Marathon forces it false for bridge/container networks, so it is no change at all.
    d, lv = pg_pair(requirePorts=True)
    assert not app_differs(d, lv)


def test_resident_volume_changes_are_refused():
    desired = load(TUTORIAL)
    desired["container"]["volumes"][0]["persistent"]["size"] = 200
    assert resident_violations(norm(desired), norm(LIVE[TUTORIAL])) == ["container.volumes (persistent)"]
    desired["container"]["volumes"] = []
    assert "container.volumes (persistent)" in resident_violations(norm(desired), norm(LIVE[TUTORIAL]))


def test_resident_host_port_change_is_refused():
    desired = load(TUTORIAL)
    desired["container"]["portMappings"][0]["hostPort"] = 5432
    assert resident_violations(norm(desired), norm(LIVE[TUTORIAL])) == ["host ports"]


def test_resident_scale_env_and_health_changes_are_allowed():
    d, lv = pg_pair(instances=0, env={"POSTGRES_PASSWORD": "new", "PGDATA": "/mnt/mesos/sandbox/pgdata"})
    assert resident_violations(d, lv) == []
    assert set(changed_fields(d, lv)) == {"instances", "env"}


def test_non_resident_app_has_no_resident_rules():
    desired = load(APPS + "sleep-app.json")
    desired["cpus"] = 4
    assert resident_violations(norm(desired), norm(LIVE[APPS + "sleep-app.json"])) == []


def test_turning_an_app_resident_is_refused():
    desired = load(APPS + "sleep-app.json")
    volume = {"containerPath": "d", "mode": "RW", "persistent": {"size": 1}}
    desired["container"] = {"type": "MESOS", "volumes": [volume]}
    assert "container.volumes (persistent)" in resident_violations(norm(desired), norm(LIVE[APPS + "sleep-app.json"]))


def test_refusal_message_names_fields_values_and_way_out():
    d, lv = pg_pair(cpus=2, mem=2048)
    msg = resident_refusal_message("/postgres", resident_violations(d, lv), d, lv)
    assert "cpus (1 -> 2)" in msg and "mem (1024 -> 2048)" in msg
    assert "new app id" in msg and "allow_data_loss=true" in msg and "Nothing was sent" in msg


def test_volume_refusal_shows_old_and_new_sizes():
    desired = load(TUTORIAL)
    desired["container"]["volumes"][0]["persistent"]["size"] = 200
    d, lv = norm(desired), norm(LIVE[TUTORIAL])
    msg = resident_refusal_message("/postgres", resident_violations(d, lv), d, lv)
    assert "container.volumes (persistent) (pgdata: size 100 -> 200)" in msg
    desired["container"]["volumes"] = []
    d = norm(desired)
    assert "pgdata: removed" in resident_refusal_message("/postgres", resident_violations(d, lv), d, lv)


# ---- secrets --------------------------------------------------------------------------


def test_diff_masks_secret_env_values():
    d, lv = pg_pair(instances=0)
    diff = diff_app(d, lv)
    text = json.dumps(diff)
    assert "DC/OS_ROCKS" not in text
    assert diff["before"]["env"]["POSTGRES_PASSWORD"] == SECRET_MASK
    assert diff["after"]["env"]["POSTGRES_PASSWORD"] == SECRET_MASK
    assert diff["before"]["env"]["PGDATA"] == "/mnt/mesos/sandbox/pgdata"
    assert diff["before"]["instances"] == 1 and diff["after"]["instances"] == 0


def test_diff_shows_that_a_secret_changed_without_showing_it():
    d, lv = pg_pair(env={"POSTGRES_PASSWORD": "n3w-s3cret", "PGDATA": "/mnt/mesos/sandbox/pgdata"})
    diff = diff_app(d, lv)
    text = json.dumps(diff)
    assert "n3w-s3cret" not in text and "DC/OS_ROCKS" not in text
    assert diff["after"]["env"]["POSTGRES_PASSWORD"] == SECRET_MASK_CHANGED


@pytest.mark.parametrize("name", ["POSTGRES_PASSWORD", "DB_PASS", "AWS_SECRET_ACCESS_KEY", "API_TOKEN", "api_key",
                                  "MYSQL_PWD", "GIT_CREDENTIALS", "PRIVATE_KEY", "BASIC_AUTH"])
def test_secret_looking_names(name):
    app = {"env": {name: "v@lue", "PGDATA": "/data"}}
    assert mask_app(app)["env"] == {name: SECRET_MASK, "PGDATA": "/data"}
    assert secret_values(app) == {"v@lue"}


def test_extra_secret_names_and_secret_references():
    app = {"env": {"DSN": "postgres://u:p@h/db", "DB_PASSWORD": {"secret": "pgpass"}}}
    masked = mask_app(app, ["DSN"])
    assert masked["env"]["DSN"] == SECRET_MASK
    assert masked["env"]["DB_PASSWORD"] == {"secret": "pgpass"}  # a reference, not the secret itself
    assert mask_app(app)["env"]["DSN"] == "postgres://u:p@h/db"
    assert app["env"]["DSN"] == "postgres://u:p@h/db"  # input untouched


def test_names_recorded_in_the_label_are_masked():
    app = {"env": {"DSN": "postgres://u:p@h/db", "PGDATA": "/data"}, "labels": {SECRET_ENV_LABEL: " DSN ,,OTHER"}}
    assert label_secret_names(app) == ["DSN", "OTHER"]
    assert mask_app(app)["env"] == {"DSN": SECRET_MASK, "PGDATA": "/data"}
    assert secret_values(app) == {"postgres://u:p@h/db"}
    assert label_secret_names({"labels": {SECRET_ENV_LABEL: 1}}) == [] and label_secret_names(None) == []
    assert secret_env_label_value(["B", "A", "B"]) == "A,B"


def test_diff_masks_a_name_recorded_on_either_side():
    live = norm({"id": "/a", "cmd": "x", "env": {"DSN": "old-dsn"}, "labels": {SECRET_ENV_LABEL: "DSN"}})
    desired = norm({"id": "/a", "cmd": "x", "env": {"DSN": "new-dsn"}, "labels": {SECRET_ENV_LABEL: ""}})
    diff = diff_app(desired, live)
    assert "old-dsn" not in json.dumps(diff) and "new-dsn" not in json.dumps(diff)
    assert diff["after"]["env"]["DSN"] == SECRET_MASK_CHANGED


@pytest.mark.parametrize("names,expected", [
    (["DSN", "A_B"], []),
    (["A,B"], ["secret_env[0] must be an environment variable name"]),
    (["OK", " X"], ["secret_env[1] must be an environment variable name"]),
    ([""], ["secret_env[0]"]),
])
def test_secret_env_problems_name_the_entry(names, expected):
    problems = secret_env_problems(names)
    assert len(problems) == len(expected)
    for problem, want in zip(problems, expected):
        assert want in problem


def test_diff_of_create_and_delete():
    d = norm(load(TUTORIAL))
    created = diff_app(d, None)
    assert created["before"] == {} and created["after"]["env"]["POSTGRES_PASSWORD"] == SECRET_MASK
    removed = diff_app(None, d)
    assert removed["after"] == {} and removed["before"]["env"]["POSTGRES_PASSWORD"] == SECRET_MASK


# ---- input validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "defn,expected",
    [
        ({"id": "/a", "cpus": "lots"}, "definition.cpus must be a number"),
        ({"id": "/a", "mem": -1}, "definition.mem must be 0 or more"),
        ({"id": "/a", "instances": 1.5}, "definition.instances must be a whole number"),
        ({"id": "/a", "instances": True}, "definition.instances must be a whole number"),
        ({"id": "/a", "env": {"PORT": 5432}}, "definition.env.PORT must be a string"),
        ({"id": "/a", "env": ["A=1"]}, "definition.env must be a mapping"),
        ({"id": "/a", "labels": {"x": True}}, "definition.labels.x must be a string"),
        ({"id": "/a", "constraints": ["hostname:UNIQUE"]}, "definition.constraints[0] must be a list"),
        ({"id": "/a", "healthChecks": {"protocol": "TCP"}}, "definition.healthChecks must be a list"),
        ({"id": "/a", "healthChecks": ["TCP"]}, "definition.healthChecks[0] must be a mapping"),
        ({"id": "/a", "container": {"volumes": {"a": 1}}}, "definition.container.volumes must be a list"),
        ({"id": "/a", "container": "docker"}, "definition.container must be a mapping"),
        ({"id": "My App"}, "definition.id 'My App'"),
        ({"id": 5}, "definition.id must be a string"),
        (["not", "a", "mapping"], "definition must be a mapping"),
    ],
)
def test_validate_definition_names_the_field(defn, expected):
    problems = validate_definition(defn)
    assert problems and any(expected in p for p in problems), problems


def test_validate_string_hint_names_the_string_filter_and_hides_the_value():
    # ansible-core 2.19 renders a quoted "{{ port }}" as a number: quoting is no fix, | string is.
    problems = validate_definition({"id": "/a", "env": {"PORT": 5432, "DB_PASSWORD": 918273}, "labels": {"tier": 1}})
    assert len(problems) == 3, problems
    for problem in problems:
        assert "got int" in problem and "{{ port | string }}" in problem, problem
    assert not any("918273" in p for p in problems), problems


def test_validate_real_definitions_clean():
    for rel in list(LIVE) + [APPS + "healthcheck-and-volume.json", APPS + "external-volume-mesos-app.json"]:
        assert validate_definition(load(rel)) == [], rel


@pytest.mark.parametrize(
    "defn,expected",
    [
        ({"id": "/a", "lables": {"a": "b"}}, "definition.lables (did you mean labels?)"),
        ({"id": "/a", "instace": 2}, "definition.instace (did you mean instances?)"),
        ({"id": "/a", "Cpus": 1}, "definition.Cpus (did you mean cpus?)"),
        ({"id": "/a", "zzz": 1}, "definition.zzz."),
        ({"id": "/a", "healthChecks": [{"protocol": "TCP", "gracePeriod": 5}]},
         "definition.healthChecks[0].gracePeriod (did you mean gracePeriodSeconds?)"),
        ({"id": "/a", "container": {"type": "MESOS", "volumes": [{"containerPath": "d", "persistant": {"size": 1}}]}},
         "definition.container.volumes[0].persistant (did you mean persistent?)"),
        ({"id": "/a", "container": {"type": "MESOS", "volumes": [{"containerPath": "d", "persistent": {"sise": 1}}]}},
         "definition.container.volumes[0].persistent.sise (did you mean size?)"),
        ({"id": "/a", "container": {"type": "DOCKER", "docker": {"imag": "x"}}},
         "definition.container.docker.imag (did you mean image?)"),
        ({"id": "/a", "upgradeStrategy": {"minimumHealthCapacty": 0}},
         "definition.upgradeStrategy.minimumHealthCapacty (did you mean minimumHealthCapacity?)"),
        ({"id": "/a", "residency": {"taskLostBehaviour": "WAIT_FOREVER"}},
         "definition.residency.taskLostBehaviour (did you mean taskLostBehavior?)"),
        ({"id": "/a", "portDefinitions": [{"prot": 0}]}, "definition.portDefinitions[0].prot"),
    ],
)
def test_unknown_fields_are_named_with_the_likely_one(defn, expected):
    problems = validate_definition(defn)
    assert len(problems) == 1 and expected in problems[0] and "Marathon 1.10" in problems[0], problems


def test_read_only_fields_from_a_get_are_accepted():
    pasted = dict(LIVE[TUTORIAL], tasks=[{"id": "t", "state": "TASK_RUNNING"}], deployments=[{"id": "d"}],
                  version="2026-01-01T00:00:00.000Z", versionInfo={"lastConfigChangeAt": "x"},
                  lastTaskFailure={"taskId": "t"}, tasksStats={}, readinessCheckResults=[])
    assert unknown_field_problems(pasted) == []
    # Only at the top level: a health check has no version field.
    assert unknown_field_problems({"healthChecks": [{"version": "x"}]})


def test_free_form_maps_are_not_checked():
    assert unknown_field_problems({"env": {"ANY": "x"}, "labels": {"any": "x"}, "secrets": {"s": {"source": "a"}},
                                   "unreachableStrategy": "disabled"}) == []


@pytest.mark.parametrize("app_id,ok", [("/postgres", True), ("prod/db-1", True), ("a.b", True), ("My App", False),
                                       ("/", False), ("", False), ("/x/restart", False), ("/-a", False),
                                       ("/a_b", False)])
def test_app_id_problem(app_id, ok):
    assert (app_id_problem(app_id) is None) == ok


def test_explicit_empty_ports_survive_normalization():
    # Sending the normalized form again must not bring back the default port.
    once = norm({"id": "/a", "cmd": "x", "portDefinitions": []})
    assert once["portDefinitions"] == []
    assert norm(once) == once
    bridge = norm({"id": "/b", "networks": [{"mode": "container/bridge"}],
                   "container": {"type": "DOCKER", "docker": {"image": "nginx"}, "portMappings": []}})
    assert bridge["container"]["portMappings"] == [] and norm(bridge) == bridge
