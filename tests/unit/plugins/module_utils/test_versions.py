# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""What differs between Marathon 1.4 and 1.11, table-driven per version: version parsing, the
live shapes each version writes (normalized, they equal the normalized desired definition),
old defaults left stored by an upgrade, fields a version does not know, and the 1.4 request body.

The live shapes are written by hand from the Marathon versions reference (marathon-versions.md:
§2.12 the captured 1.4 GET "CAP14", §2.2-2.10 the output of each version).
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._app_request import AppRequest, Refusal
from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import (
    compare_apps,
    normalize_app_definition,
    validate_definition,
)
from ansible_collections.dcos.marathon.plugins.module_utils._planner import NOTHING, UPDATE, plan_app
from ansible_collections.dcos.marathon.plugins.module_utils._versions import (
    BASELINE,
    LEGACY_DEFAULTS,
    archive_uri,
    parse_version,
    to_old_networking,
    unknown_in_version,
    uses_versioned_fields,
    version_problem,
)

# One build per family the reference tells apart (§7), plus the newest of 1.4 and 1.5.
VERSIONS = ["1.4.5", "1.4.9", "1.4.12", "1.5.0", "1.5.12", "1.6.585", "1.7.216", "1.8.242", "1.9.136", "1.10.26",
            "1.11.24"]

RESIDENCY = {"relaunchEscalationTimeoutSeconds": 3600, "taskLostBehavior": "WAIT_FOREVER"}

# The DC/OS 1.9 tutorial's definition (dcos-docs 1.9 tutorials/stateful-services): the old
# networking form, docker.network BRIDGE with docker.portMappings.
TUTORIAL_1_9 = {
    "id": "/postgres",
    "cpus": 1,
    "mem": 1024,
    "instances": 1,
    "container": {
        "type": "DOCKER",
        "volumes": [{"containerPath": "pgdata", "mode": "RW", "persistent": {"size": 100}}],
        "docker": {
            "image": "postgres:9.5",
            "network": "BRIDGE",
            "portMappings": [{"containerPort": 5432, "hostPort": 0, "protocol": "tcp",
                              "labels": {"VIP_0": "5.4.3.2:5432"}}],
        },
    },
    "env": {"POSTGRES_PASSWORD": "DC/OS_ROCKS", "PGDATA": "/mnt/mesos/sandbox/pgdata"},
    "healthChecks": [{"protocol": "TCP", "portIndex": 0, "gracePeriodSeconds": 300, "intervalSeconds": 60,
                      "timeoutSeconds": 20, "maxConsecutiveFailures": 3, "ignoreHttp1xx": False}],
    "upgradeStrategy": {"maximumOverCapacity": 0, "minimumHealthCapacity": 0},
}

# roles/stateful_postgres/templates/app.json.j2 rendered with the role's defaults (and a password).
ROLE_DEFINITION = {
    "id": "/postgres",
    "instances": 1,
    "cpus": 1.0,
    "mem": 1024.0,
    "networks": [{"mode": "container/bridge"}],
    "container": {
        "type": "DOCKER",
        "docker": {"image": "postgres:16"},
        "volumes": [{"containerPath": "pgdata", "mode": "RW", "persistent": {"type": "root", "size": 100}}],
        "portMappings": [{"name": "postgres", "containerPort": 5432, "hostPort": 0, "protocol": "tcp", "labels": {}}],
    },
    "env": {"PGDATA": "/mnt/mesos/sandbox/pgdata/data", "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "pw"},
    "healthChecks": [{"protocol": "TCP", "portIndex": 0, "gracePeriodSeconds": 300, "intervalSeconds": 60,
                      "timeoutSeconds": 20, "maxConsecutiveFailures": 3}],
    "upgradeStrategy": {"minimumHealthCapacity": 0, "maximumOverCapacity": 0},
    "constraints": [],
    "labels": {},
}

DEFINITIONS = {"tutorial 1.9": TUTORIAL_1_9, "role": ROLE_DEFINITION}


def _parts(defn):
    """The definition's own values, whichever networking form it uses."""
    container = defn["container"]
    mappings = container.get("portMappings") or container["docker"].get("portMappings")
    return container, mappings


def live_shape(defn, version_text):
    """GET /v2/apps/{id} of the resident bridge app ``defn`` as Marathon ``version_text`` writes it."""
    version = parse_version(version_text)
    container, mappings = _parts(defn)
    volumes = [{"containerPath": v["containerPath"], "mode": "RW",
                "persistent": {"size": v["persistent"]["size"], "type": "root", "constraints": []}}
               for v in container["volumes"]]
    live_mappings = []
    for i, pm in enumerate(mappings):
        out = {"containerPort": pm["containerPort"], "hostPort": 0, "servicePort": 10102 + i, "protocol": "tcp",
               "labels": pm.get("labels") or {}}
        if pm.get("name"):
            out["name"] = pm["name"]
        live_mappings.append(out)
    checks = []
    for hc in defn["healthChecks"]:
        check = {k: hc[k] for k in ("gracePeriodSeconds", "intervalSeconds", "timeoutSeconds",
                                    "maxConsecutiveFailures", "portIndex", "protocol")}
        if version >= (1, 5, 0):
            check["delaySeconds"] = 15  # echoed, whatever was sent (§2.10)
        if version >= (1, 6, 0):
            check["ipProtocol"] = "IPv4"
        checks.append(check)
    status = {"version": "2026-11-25T12:00:00.000Z", "versionInfo": {"lastScalingAt": "2026-11-25T12:00:00.000Z",
              "lastConfigChangeAt": "2026-11-25T12:00:00.000Z"}, "tasksStaged": 0, "tasksRunning": 1,
              "tasksHealthy": 1, "tasksUnhealthy": 0, "deployments": [], "tasks": []}
    delay = 3600 if version < (1, 8, 0) else 300
    if version < (1, 5, 0):
        # The hand-written 1.4 writer: nulls, old networking, ports/portDefinitions/uris/storeUrls (CAP14).
        app = {
            "id": defn["id"], "cmd": None, "args": None, "user": None, "env": dict(defn["env"]),
            "instances": defn["instances"], "cpus": defn["cpus"], "mem": defn["mem"], "disk": 0, "gpus": 0,
            "executor": "", "constraints": [], "uris": [], "fetch": [], "storeUrls": [], "backoffSeconds": 1,
            "backoffFactor": 1.15, "maxLaunchDelaySeconds": delay,
            "container": {"type": "DOCKER", "volumes": volumes,
                          "docker": {"image": container["docker"]["image"], "network": "BRIDGE",
                                     "portMappings": live_mappings, "privileged": False, "parameters": [],
                                     "forcePullImage": False}},
            "healthChecks": checks, "readinessChecks": [], "dependencies": [],
            "upgradeStrategy": dict(defn["upgradeStrategy"]), "labels": {}, "ipAddress": None,
            "residency": RESIDENCY, "secrets": {}, "taskKillGracePeriodSeconds": None,
            "unreachableStrategy": "disabled", "killSelection": "YOUNGEST_FIRST",
            "ports": [pm["servicePort"] for pm in live_mappings],
            "portDefinitions": [{"port": pm["servicePort"], "protocol": "tcp", "name": "default", "labels": {}}
                                for pm in live_mappings],
            # 1.4 stores what was sent; the user's app may have been created with true (CAP14).
            "requirePorts": True,
        }
    else:
        app = {
            "id": defn["id"], "backoffFactor": 1.15, "backoffSeconds": 1,
            "container": {"type": "DOCKER", "docker": {"forcePullImage": False, "image": container["docker"]["image"],
                                                       "parameters": [], "privileged": False},
                          "volumes": volumes, "portMappings": live_mappings},
            "cpus": defn["cpus"], "disk": 0, "env": dict(defn["env"]), "executor": "", "instances": defn["instances"],
            "labels": {}, "maxLaunchDelaySeconds": delay, "mem": defn["mem"], "gpus": 0,
            "networks": [{"mode": "container/bridge"}], "requirePorts": False,
            "upgradeStrategy": dict(defn["upgradeStrategy"]), "killSelection": "YOUNGEST_FIRST",
            "unreachableStrategy": "disabled", "residency": RESIDENCY, "healthChecks": checks,
        }
        if version >= (1, 9, 0):
            app["role"] = "slave_public"
    app.update(status)
    return app


def plan_for(defn, live, version_text, **params):
    base = dict(app_id=None, definition=copy.deepcopy(defn), src=None, state="present", instances=None,
                keep_instances=False, partial=False, force=False, allow_data_loss=False, rollback_to=None,
                wait=True, wait_timeout=600, wait_for=None, secret_env=[], init_env=[], allow_init_env_change=False)
    base.update(params)
    request = AppRequest(base, set())
    request.for_version(parse_version(version_text))
    return plan_app(request, live)


# ---- version parsing (§5, §8 item 1) ---------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("1.4.12", (1, 4, 12)),
    ("1.10.26", (1, 10, 26)),
    ("1.5.0-SNAPSHOT", (1, 5, 0)),
    ("1.5.0-snapshot1", (1, 5, 0)),
    ("1.6.585-3e0898228", (1, 6, 585)),
    ("v1.8.242", (1, 8, 242)),
    (" 1.11.24 ", (1, 11, 24)),
    ("1.4", (1, 4, 12)),
    ("1.9", (1, 9, 136)),
    ("1.11", (1, 11, 24)),
    ("latest", None),
    ("", None),
    (None, None),
    ("1", None),
])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


def test_versions_older_than_1_4_are_not_supported():
    assert "older than 1.4" in version_problem((1, 3, 14))
    assert version_problem((1, 4, 2)) is None and version_problem((1, 11, 24)) is None


# ---- live shapes of every version equal the desired definition ------------------------


@pytest.mark.parametrize("version_text", VERSIONS)
@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_live_shape_of_each_version_is_no_change(name, version_text):
    defn = DEFINITIONS[name]
    live = live_shape(defn, version_text)
    plan = plan_for(defn, live, version_text)
    assert plan.action == NOTHING, plan.comparison.changed_fields
    assert plan.comparison.changed_fields == []


@pytest.mark.parametrize("version_text", ["1.4.5", "1.4.12", "1.5.0", "1.6.585", "1.7.216"])
def test_the_1_10_defaults_see_a_change_on_older_versions(version_text):
    """Why the version matters: with 1.10's defaults the 1-hour backoff of <= 1.7 is a change."""
    live = live_shape(ROLE_DEFINITION, version_text)
    comparison = compare_apps(normalize_app_definition(ROLE_DEFINITION), normalize_app_definition(live))
    assert "maxLaunchDelaySeconds" in comparison.changed_fields


@pytest.mark.parametrize("version_text", VERSIONS)
def test_normalized_live_is_the_same_in_every_version(version_text):
    """Both networking forms, nulls and echoes end in one form."""
    version = parse_version(version_text)
    norm = normalize_app_definition(live_shape(ROLE_DEFINITION, version_text), version)
    norm.pop("role", None)
    norm.pop("maxLaunchDelaySeconds")
    assert norm["networks"] == [{"mode": "container/bridge"}]
    assert norm["container"]["portMappings"] == [{"containerPort": 5432, "hostPort": 0, "servicePort": 10102,
                                                  "protocol": "tcp", "name": "postgres"}]
    assert "docker" in norm["container"] and "network" not in norm["container"]["docker"]
    assert norm["requirePorts"] is False and "portDefinitions" not in norm
    assert norm["healthChecks"] == [{"gracePeriodSeconds": 300, "intervalSeconds": 60, "timeoutSeconds": 20,
                                     "maxConsecutiveFailures": 3, "portIndex": 0, "protocol": "TCP"}]
    baseline = normalize_app_definition(live_shape(ROLE_DEFINITION, "1.10.26"))
    baseline.pop("role")
    baseline.pop("maxLaunchDelaySeconds")
    assert norm == baseline


def test_the_captured_1_4_app():
    """CAP14 (§2.12): a real 1.4 GET of a resident PostgreSQL app, against the definition behind it."""
    captured = {
        "id": "/gestalt-framework-tasks/data-0", "cmd": None, "args": None, "user": None,
        "env": {"POSTGRES_USER": "gestaltdev", "PGDATA": "/mnt/mesos/sandbox/pgdata"}, "instances": 1, "cpus": 1,
        "mem": 512, "disk": 0, "gpus": 0, "executor": "", "constraints": [], "uris": [], "fetch": [], "storeUrls": [],
        "backoffSeconds": 1, "backoffFactor": 1.15, "maxLaunchDelaySeconds": 3600,
        "container": {"type": "DOCKER", "volumes": [{"containerPath": "pgdata", "mode": "RW",
                                                     "persistent": {"size": 100, "type": "root", "constraints": []}}],
                      "docker": {"image": "galacticfog/postgres_repl:release-1.2.0", "network": "BRIDGE",
                                 "portMappings": [{"containerPort": 5432, "hostPort": 0, "servicePort": 10102,
                                                   "protocol": "tcp", "name": "sql",
                                                   "labels": {"VIP_0": "/gestalt-framework-tasks-data:5432"}}],
                                 "privileged": False, "parameters": [], "forcePullImage": True}},
        "healthChecks": [{"gracePeriodSeconds": 300, "intervalSeconds": 30, "timeoutSeconds": 15,
                          "maxConsecutiveFailures": 4, "portIndex": 0, "protocol": "TCP"}],
        "readinessChecks": [], "dependencies": [],
        "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0},
        "labels": {}, "ipAddress": None, "version": "2017-08-07T19:07:45.581Z", "residency": RESIDENCY,
        "secrets": {}, "taskKillGracePeriodSeconds": 300, "unreachableStrategy": "disabled",
        "killSelection": "YOUNGEST_FIRST", "ports": [10102],
        "portDefinitions": [{"port": 10102, "protocol": "tcp", "name": "default", "labels": {}}], "requirePorts": True,
        "tasksStaged": 0, "tasksRunning": 1, "tasksHealthy": 1, "tasksUnhealthy": 0, "deployments": [], "tasks": [],
    }
    desired = {
        "id": "/gestalt-framework-tasks/data-0", "cpus": 1, "mem": 512, "instances": 1,
        "env": {"POSTGRES_USER": "gestaltdev", "PGDATA": "/mnt/mesos/sandbox/pgdata"},
        "container": {"type": "DOCKER", "volumes": [{"containerPath": "pgdata", "mode": "RW",
                                                     "persistent": {"size": 100}}],
                      "docker": {"image": "galacticfog/postgres_repl:release-1.2.0", "network": "BRIDGE",
                                 "forcePullImage": True,
                                 "portMappings": [{"containerPort": 5432, "name": "sql", "protocol": "tcp",
                                                   "labels": {"VIP_0": "/gestalt-framework-tasks-data:5432"}}]}},
        "healthChecks": [{"protocol": "TCP", "gracePeriodSeconds": 300, "intervalSeconds": 30, "timeoutSeconds": 15,
                          "maxConsecutiveFailures": 4}],
        "taskKillGracePeriodSeconds": 300,
    }
    for version_text in ("1.4.5", "1.4.12"):
        assert plan_for(desired, captured, version_text).action == NOTHING
    # The 1.10 defaults alone (backoff 300) find a change on every run.
    assert compare_apps(normalize_app_definition(desired), normalize_app_definition(captured)).changed_fields == [
        "maxLaunchDelaySeconds"]


# ---- defaults per version (§8 items 2-4) -----------------------------------------------

WEB = {"id": "/web", "cmd": "exec sleep 3600", "cpus": 0.1, "mem": 32}


@pytest.mark.parametrize("version_text,delay,unreachable", [
    ("1.4.5", 3600, {"inactiveAfterSeconds": 300, "expungeAfterSeconds": 600}),
    ("1.4.9", 3600, {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}),
    ("1.5.0", 3600, {"inactiveAfterSeconds": 300, "expungeAfterSeconds": 600}),
    ("1.5.12", 3600, {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}),
    ("1.6.585", 3600, {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}),
    ("1.7.216", 3600, {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}),
    ("1.8.242", 300, {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}),
    ("1.9.136", 300, {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}),
    ("1.10.26", 300, {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}),
    ("1.11.24", 300, {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}),
])
def test_defaults_per_version(version_text, delay, unreachable):
    norm = normalize_app_definition(WEB, parse_version(version_text))
    assert norm["maxLaunchDelaySeconds"] == delay
    assert norm["unreachableStrategy"] == unreachable
    # A partial object is completed with the same version's defaults.
    partial = normalize_app_definition(dict(WEB, unreachableStrategy={"inactiveAfterSeconds": 60}),
                                       parse_version(version_text))
    assert partial["unreachableStrategy"] == dict(unreachable, inactiveAfterSeconds=60)


@pytest.mark.parametrize("version_text", VERSIONS)
@pytest.mark.parametrize("protocol,kept", [
    ("HTTP", ()), ("HTTPS", ()), ("TCP", ()), ("COMMAND", ("delaySeconds",)),
    ("MESOS_HTTP", ("delaySeconds", "ipProtocol")), ("MESOS_TCP", ("delaySeconds", "ipProtocol")),
])
def test_health_check_delay_and_ip_protocol(version_text, protocol, kept):
    version = parse_version(version_text)
    check = {"protocol": protocol, "delaySeconds": 30, "ipProtocol": "IPv6"}
    if protocol == "COMMAND":
        check["command"] = {"value": "true"}
    norm = normalize_app_definition(dict(WEB, healthChecks=[check]), version)["healthChecks"][0]
    expected = set(kept) if version >= (1, 6, 0) else set(kept) - {"ipProtocol"}
    assert set(norm) & {"delaySeconds", "ipProtocol"} == expected


def test_1_4_has_no_default_port_mapping_for_bridge():
    bridge = {"id": "/b", "networks": [{"mode": "container/bridge"}],
              "container": {"type": "DOCKER", "docker": {"image": "nginx"}}}
    assert normalize_app_definition(bridge, (1, 4, 12))["container"]["portMappings"] == []
    assert normalize_app_definition(bridge, (1, 5, 12))["container"]["portMappings"] == [
        {"containerPort": 0, "name": "default", "protocol": "tcp", "servicePort": 0, "hostPort": 0}]


@pytest.mark.parametrize("version_text,uri,extract", [
    ("1.4.12", "https://x/a.tar.gz", True),
    ("1.4.12", "https://x/a.TGZ", False),
    ("1.5.12", "https://x/a.tar", False),
    ("1.6.585", "https://x/a.tar", True),
    ("1.10.26", "https://x/a.gz", True),
    ("1.10.26", "https://x/a.zip?token=1", True),
    ("1.4.12", "https://x/a.zip?token=1", False),
])
def test_uris_extract_per_version(version_text, uri, extract):
    assert archive_uri(parse_version(version_text), uri) is extract
    norm = normalize_app_definition(dict(WEB, uris=[uri]), parse_version(version_text))
    assert norm["fetch"][0].get("extract", False) is extract


def test_accepted_resource_roles_as_1_9_sanitizes_them():
    desired = dict(WEB, acceptedResourceRoles=["slave_public", "other"])
    live = dict(WEB, acceptedResourceRoles=["slave_public"], role="slave_public", instances=1)
    version = (1, 9, 136)
    comparison = compare_apps(normalize_app_definition(desired, version), normalize_app_definition(live, version),
                              version)
    assert comparison.changed_fields == []
    assert compare_apps(normalize_app_definition(desired), normalize_app_definition(live)).changed_fields == [
        "acceptedResourceRoles"]


def test_resource_limits_on_1_10_compared_only_when_live_has_them():
    desired = dict(WEB, resourceLimits={"cpus": 1, "mem": 64})
    live = dict(WEB)
    assert compare_apps(normalize_app_definition(desired, (1, 10, 26)), normalize_app_definition(live, (1, 10, 26)),
                        (1, 10, 26)).changed_fields == []
    assert compare_apps(normalize_app_definition(desired, (1, 11, 24)), normalize_app_definition(live, (1, 11, 24)),
                        (1, 11, 24)).changed_fields == ["resourceLimits"]


# ---- old defaults left stored by an upgrade ---------------------------------------------


@pytest.mark.parametrize("version_text", ["1.8.242", "1.9.136", "1.10.26", "1.11.24"])
def test_stored_1_hour_backoff_is_no_change_when_unset(version_text):
    live = live_shape(ROLE_DEFINITION, version_text)
    live["maxLaunchDelaySeconds"] = 3600  # created on <= 1.7, then upgraded
    assert plan_for(ROLE_DEFINITION, live, version_text).action == NOTHING
    # Asked for explicitly, the value is compared.
    plan = plan_for(dict(ROLE_DEFINITION, maxLaunchDelaySeconds=300), live, version_text)
    assert plan.action == UPDATE and plan.comparison.changed_fields == ["maxLaunchDelaySeconds"]
    # A value no default ever had is a change too.
    live["maxLaunchDelaySeconds"] = 1200
    assert plan_for(ROLE_DEFINITION, live, version_text).comparison.changed_fields == ["maxLaunchDelaySeconds"]


@pytest.mark.parametrize("version_text", ["1.4.9", "1.5.12", "1.6.585", "1.10.26", "1.11.24"])
def test_stored_old_unreachable_default_is_no_change_when_unset(version_text):
    version = parse_version(version_text)
    live = dict(WEB, instances=1, maxLaunchDelaySeconds=3600 if version < (1, 8, 0) else 300,
                unreachableStrategy={"inactiveAfterSeconds": 300, "expungeAfterSeconds": 600})
    assert plan_for(WEB, live, version_text).action == NOTHING
    explicit = dict(WEB, unreachableStrategy={"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0})
    assert plan_for(explicit, live, version_text).comparison.changed_fields == ["unreachableStrategy"]


def test_legacy_defaults_are_the_two_fields_of_the_reference():
    assert sorted(LEGACY_DEFAULTS) == ["maxLaunchDelaySeconds", "unreachableStrategy"]


# ---- fields a version does not know (§8 item 5) ----------------------------------------

PERSISTENT = {"type": "DOCKER", "docker": {"image": "x"},
              "volumes": [{"containerPath": "d", "mode": "RW", "persistent": {"size": 1, "profileName": "fast"}}]}


@pytest.mark.parametrize("extra,older,first", [
    ({"role": "dev"}, "1.8.242", "1.9.0"),
    ({"tty": True}, "1.4.12", "1.5.0"),
    ({"executorResources": {"cpus": 0.2}}, "1.6.322", "1.6.352"),
    ({"container": PERSISTENT}, "1.5.12", "1.6.0"),
    ({"check": {"exec": {"command": {"shell": "true"}}}}, "1.7.216", "1.8.0"),
    ({"container": {"type": "MESOS", "linuxInfo": {"seccomp": {"unconfined": True}}}}, "1.7.216", "1.8.0"),
    ({"resourceLimits": {"cpus": 2}}, "1.9.136", "1.10.0"),
])
def test_fields_a_version_does_not_know_are_refused(extra, older, first):
    defn = dict(WEB, **extra)
    problems = unknown_in_version(defn, parse_version(older))
    assert len(problems) == 1
    assert "needs Marathon %s or newer" % first in problems[0] and "runs Marathon %s" % older in problems[0]
    assert unknown_in_version(defn, parse_version(first)) == []
    with pytest.raises(Refusal) as refused:
        plan_for(defn, None, older)
    assert "definition." in refused.value.msg and first in refused.value.msg


def test_file_secrets_need_marathon_1_5():
    defn = dict(WEB, secrets={"pw": {"source": "web/pw"}},
                container={"type": "MESOS", "volumes": [{"containerPath": "pw", "secret": "pw"}]})
    assert uses_versioned_fields(defn)
    problems = unknown_in_version(defn, parse_version("1.4.12"))
    assert problems == ["definition.container.volumes[0] is a file-based secret, which needs Marathon 1.5.0 or newer; "
                        "this cluster runs Marathon 1.4.12, which knows secrets only as environment variables "
                        "(env: {NAME: {secret: <name>}})"]
    assert unknown_in_version(defn, parse_version("1.5.0")) == []
    env_only = dict(WEB, secrets={"pw": {"source": "web/pw"}}, env={"PW": {"secret": "pw"}})
    assert not uses_versioned_fields(env_only) and unknown_in_version(env_only, parse_version("1.4.12")) == []
    with pytest.raises(Refusal):
        plan_for(defn, None, "1.4.12")


# ---- the request body for Marathon 1.4 (§8 item 7) --------------------------------------


def body_for(defn, version_text):
    base = dict(app_id=None, definition=copy.deepcopy(defn), src=None, state="present", instances=None,
                keep_instances=False, partial=False, force=False, allow_data_loss=False, rollback_to=None,
                wait=True, wait_timeout=600, wait_for=None, secret_env=[], init_env=[], allow_init_env_change=False)
    request = AppRequest(base, set())
    request.for_version(parse_version(version_text))
    return request.body(None, instances=1)


def test_1_4_is_sent_the_old_networking_form():
    body = body_for(ROLE_DEFINITION, "1.4.12")
    assert "networks" not in body and "portMappings" not in body["container"]
    assert body["container"]["docker"] == {"image": "postgres:16", "network": "BRIDGE", "portMappings": [
        {"name": "postgres", "containerPort": 5432, "hostPort": 0, "protocol": "tcp", "labels": {}}]}
    # What 1.4 would then show is what the module compares with: no change.
    live = live_shape(ROLE_DEFINITION, "1.4.12")
    assert plan_for(ROLE_DEFINITION, live, "1.4.12").action == NOTHING


@pytest.mark.parametrize("version_text", ["1.5.0", "1.8.242", "1.10.26", "1.11.24"])
def test_1_5_and_later_are_never_sent_both_forms(version_text):
    new_form = body_for(ROLE_DEFINITION, version_text)
    assert new_form["networks"] == [{"mode": "container/bridge"}] and "network" not in new_form["container"]["docker"]
    old_form = body_for(TUTORIAL_1_9, version_text)
    assert "networks" not in old_form and "portMappings" not in old_form["container"]
    assert old_form["container"]["docker"]["network"] == "BRIDGE"


def test_the_1_9_tutorial_is_sent_to_1_4_as_written():
    assert body_for(TUTORIAL_1_9, "1.4.12")["container"] == dict(TUTORIAL_1_9["container"])


@pytest.mark.parametrize("networks,container,expected", [
    ([{"mode": "host"}], {"type": "DOCKER", "docker": {"image": "x"}},
     {"container": {"type": "DOCKER", "docker": {"image": "x", "network": "HOST"}}}),
    ([{"mode": "host"}], None, {}),
    ([{"mode": "container", "name": "dcos"}], {"type": "DOCKER", "docker": {"image": "x"},
                                               "portMappings": [{"containerPort": 80}]},
     {"container": {"type": "DOCKER", "docker": {"image": "x", "network": "USER",
                                                 "portMappings": [{"containerPort": 80}]}},
      "ipAddress": {"networkName": "dcos"}}),
    ([{"mode": "container", "name": "dcos", "labels": {"a": "b"}}], {"type": "MESOS"},
     {"container": {"type": "MESOS"}, "ipAddress": {"networkName": "dcos", "labels": {"a": "b"}}}),
])
def test_to_old_networking(networks, container, expected):
    body = {"id": "/a", "networks": networks}
    if container is not None:
        body["container"] = container
    out, problem = to_old_networking(body)
    assert problem is None
    assert out == dict(expected, id="/a")


@pytest.mark.parametrize("networks,container,fragment", [
    ([{"mode": "container/bridge"}], {"type": "MESOS"}, "bridge networking only for DOCKER"),
    ([{"mode": "container", "name": "n"}], {"type": "MESOS", "portMappings": [{"containerPort": 80}]},
     "port mappings only for DOCKER"),
    ([{"mode": "container", "name": "a"}, {"mode": "container", "name": "b"}], None, "one network per app"),
])
def test_what_1_4_cannot_express_is_refused_before_any_request(networks, container, fragment):
    defn = {"id": "/a", "cmd": "sleep 1", "networks": networks}
    if container is not None:
        defn["container"] = container
    with pytest.raises(Refusal) as refused:
        plan_for(defn, None, "1.4.12")
    assert "definition.networks" in refused.value.msg and fragment in refused.value.msg
    plan_for(defn, None, "1.5.12")  # the new form is fine from 1.5 on


def test_mixed_networking_forms_are_refused():
    defn = copy.deepcopy(ROLE_DEFINITION)
    defn["container"]["docker"]["network"] = "BRIDGE"
    problems = validate_definition(defn)
    assert problems and "definition.container.docker.network and definition.networks" in problems[0]
    assert validate_definition(ROLE_DEFINITION) == [] and validate_definition(TUTORIAL_1_9) == []


def test_baseline_is_1_10():
    assert BASELINE[:2] == (1, 10)
