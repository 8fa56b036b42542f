# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Comparable form of Marathon app definitions, diffs with secrets masked, and the
rules Marathon enforces on apps with persistent volumes ("resident" apps).

Private module_utils: not a public API. Pure functions, no I/O.

The same normalization is applied to the desired definition and to what GET
/v2/apps/{id} returns, so defaults are filled on both sides (those of the cluster's
Marathon version, see _versions.py; 1.10 when none is given) and "missing", null,
empty and default compare equal.
"""

from __future__ import annotations

import copy
import difflib
import json
import re

from ansible_collections.dcos.marathon.plugins.module_utils import _versions
from ansible_collections.dcos.marathon.plugins.module_utils._versions import BASELINE

SECRET_MASK = "********"
SECRET_MASK_CHANGED = "******** (changed)"

# Env var names whose values are treated as secrets in diffs and return values.
SECRET_ENV_PATTERN = re.compile(r"PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH", re.I)
# App label listing more secret env var names (comma-separated), written by marathon_app
# from its secret_env option so that every later read of the app masks them too.
SECRET_ENV_LABEL = "DCOS_MARATHON_SECRET_ENV"

# Status and derived fields: never compared, never sent back.
READ_ONLY_FIELDS = frozenset(
    (
        "version",
        "versionInfo",
        "tasksStaged",
        "tasksRunning",
        "tasksHealthy",
        "tasksUnhealthy",
        "deployments",
        "tasks",
        "lastTaskFailure",
        "readinessCheckResults",
        "taskStats",
        "tasksStats",
        "residency",
        "storeUrls",
    )
)

# Changes Marathon refuses on an existing app with persistent volumes (its resources are reserved).
RESIDENT_RESOURCE_FIELDS = ("cpus", "mem", "disk", "gpus", "requirePorts")

_SEGMENT_RE = re.compile(r"^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])$")
_RESERVED_LAST = ("restart", "tasks", "versions")
_HTTP_PROTOCOLS = ("HTTP", "HTTPS")
_NO_PORT_PROTOCOLS = ("COMMAND",)


# ---- ids ------------------------------------------------------------------------------


def canonical_app_id(app_id):
    """`postgres`, `/postgres/`, `//a//b` -> `/postgres`, `/a/b`; `.`/`..` resolved."""
    out = []
    for seg in str(app_id).split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    return "/" + "/".join(out)


def app_id_problem(app_id):
    """Why ``app_id`` is not a valid Marathon app id, or None."""
    if not isinstance(app_id, str) or not app_id.strip("/ "):
        return "must be a non-empty path such as '/postgres' or 'prod/db'"
    cid = canonical_app_id(app_id)
    if cid == "/":
        return "must not be the root group '/'"
    segments = cid.strip("/").split("/")
    for seg in segments:
        if not _SEGMENT_RE.match(seg):
            return (
                "segment '%s' is not valid: use lowercase letters, digits, '-' and '.', "
                "each part starting and ending with a letter or digit" % seg
            )
    if segments[-1] in _RESERVED_LAST:
        return "must not end with a reserved word (restart, tasks, versions)"
    return None


# ---- input validation -----------------------------------------------------------------


def _is_num(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Since ansible-core 2.19 a quoted "{{ port }}" keeps the type of its result (a number), so the
# hint names | string. The value itself is never shown: an environment value may be a secret.
_STRING_HINT = ("; quote a literal ('5432') and add | string to a template (\"{{ port | string }}\"): "
                "since ansible-core 2.19 a quoted \"{{ port }}\" is still a number")


def _type_name(value):
    return "null" if value is None else type(value).__name__


def validate_definition(defn, field="definition"):
    """Shape checks on a desired definition, before any request.

    Returns a list of messages naming the field (empty list = fine). Marathon
    validates the rest; these are the shapes this code relies on.
    """
    problems = []
    if not isinstance(defn, dict):
        return ["%s must be a mapping (the Marathon app JSON), got %s" % (field, type(defn).__name__)]

    def need(name, kinds, label):
        if name in defn and defn[name] is not None and not isinstance(defn[name], kinds):
            problems.append("%s.%s must be %s" % (field, name, label))
            return False
        return name in defn and defn[name] is not None

    if "id" in defn and defn["id"] is not None:
        if not isinstance(defn["id"], str):
            problems.append("%s.id must be a string" % field)
        else:
            why = app_id_problem(defn["id"])
            if why:
                problems.append("%s.id '%s' %s" % (field, defn["id"], why))
    for name in ("cpus", "mem", "disk", "gpus", "backoffSeconds", "backoffFactor", "maxLaunchDelaySeconds"):
        if name in defn and defn[name] is not None:
            if not _is_num(defn[name]):
                problems.append("%s.%s must be a number, got %r" % (field, name, defn[name]))
            elif defn[name] < 0:
                problems.append("%s.%s must be 0 or more, got %s" % (field, name, defn[name]))
    if "instances" in defn and defn["instances"] is not None:
        inst = defn["instances"]
        if not (_is_num(inst) and float(inst).is_integer() and inst >= 0):
            problems.append("%s.instances must be a whole number 0 or more, got %r" % (field, inst))
    for name in ("cmd", "user", "executor", "role", "killSelection"):
        need(name, str, "a string")
    need("args", list, "a list of strings")
    if need("env", dict, "a mapping of names to strings"):
        for key, value in defn["env"].items():
            if not (isinstance(value, str) or (isinstance(value, dict) and set(value) == {"secret"})):
                problems.append("%s.env.%s must be a string or {secret: <name>}, got %s%s"
                                % (field, key, _type_name(value), _STRING_HINT))
    if need("labels", dict, "a mapping of names to strings"):
        for key, value in defn["labels"].items():
            if not isinstance(value, str):
                problems.append("%s.labels.%s must be a string, got %s%s" % (field, key, _type_name(value), _STRING_HINT))
    if need("constraints", list, "a list of [field, operator, value] lists"):
        for i, c in enumerate(defn["constraints"]):
            if not (isinstance(c, list) and 2 <= len(c) <= 3 and all(isinstance(x, str) for x in c)):
                problems.append("%s.constraints[%d] must be a list like [\"hostname\", \"UNIQUE\"]" % (field, i))
    for name in ("healthChecks", "readinessChecks", "portDefinitions", "networks", "fetch", "uris", "ports",
                 "acceptedResourceRoles", "dependencies"):
        if need(name, list, "a list"):
            for i, item in enumerate(defn[name]):
                scalar = name in ("uris", "ports", "acceptedResourceRoles", "dependencies")
                if scalar and isinstance(item, (dict, list)):
                    problems.append("%s.%s[%d] must be a single value" % (field, name, i))
                elif not scalar and not isinstance(item, dict):
                    problems.append("%s.%s[%d] must be a mapping" % (field, name, i))
    if need("upgradeStrategy", dict, "a mapping"):
        for key in ("minimumHealthCapacity", "maximumOverCapacity"):
            value = defn["upgradeStrategy"].get(key)
            if value is not None and not _is_num(value):
                problems.append("%s.upgradeStrategy.%s must be a number" % (field, key))
    if "unreachableStrategy" in defn and defn["unreachableStrategy"] is not None:
        if not isinstance(defn["unreachableStrategy"], (dict, str)):
            problems.append("%s.unreachableStrategy must be a mapping or \"disabled\"" % field)
    if need("container", dict, "a mapping"):
        c = defn["container"]
        for name in ("volumes", "portMappings"):
            if name in c and c[name] is not None:
                if not isinstance(c[name], list) or not all(isinstance(v, dict) for v in c[name]):
                    problems.append("%s.container.%s must be a list of mappings" % (field, name))
        if c.get("docker") is not None:
            if not isinstance(c["docker"], dict):
                problems.append("%s.container.docker must be a mapping" % field)
            elif "portMappings" in c["docker"] and not isinstance(c["docker"]["portMappings"], list):
                problems.append("%s.container.docker.portMappings must be a list of mappings" % field)
        for i, vol in enumerate(c.get("volumes") or []):
            if isinstance(vol, dict) and vol.get("persistent") is not None and not isinstance(vol["persistent"], dict):
                problems.append("%s.container.volumes[%d].persistent must be a mapping" % (field, i))
    for name in ("secrets", "ipAddress", "residency"):
        need(name, dict, "a mapping")
    return problems + _versions.networking_problems(defn, field) + unknown_field_problems(defn, field)


# ---- known fields ---------------------------------------------------------------------

# The fields of an app definition in Marathon 1.10 (RAML api/v2/types/app.raml and the types it
# includes), per object type. A field maps to the type of its value when that is an object (or a
# list of such objects) whose fields are checked too, else to None (scalars, free-form maps such as
# env, labels and secrets, and unions of strings and objects).
_APP_TYPES_1_10 = {
    "App": {
        "id": None, "acceptedResourceRoles": None, "args": None, "backoffFactor": None, "backoffSeconds": None,
        "check": "AppCheck", "cmd": None, "constraints": None, "container": "Container", "cpus": None,
        "dependencies": None, "disk": None, "env": None, "executor": None,
        "executorResources": "ExecutorResources", "fetch": "Artifact", "gpus": None,
        "healthChecks": "AppHealthCheck", "instances": None, "ipAddress": "IpAddress", "killSelection": None,
        "labels": None, "maxLaunchDelaySeconds": None, "mem": None, "networks": "Network", "portDefinitions":
        "PortDefinition", "ports": None, "readinessChecks": "ReadinessCheck", "requirePorts": None,
        "residency": "AppResidency", "resourceLimits": "ResourceLimits", "role": None, "secrets": None,
        "taskKillGracePeriodSeconds": None, "tty": None, "unreachableStrategy": "UnreachableStrategy",
        "upgradeStrategy": "UpgradeStrategy", "uris": None, "user": None, "version": None, "versionInfo": None,
    },
    "AppCheck": {"http": None, "tcp": None, "exec": None, "intervalSeconds": None, "timeoutSeconds": None,
                 "delaySeconds": None},
    "AppHealthCheck": {
        "command": "AppCommandCheck", "gracePeriodSeconds": None, "ignoreHttp1xx": None, "intervalSeconds": None,
        "maxConsecutiveFailures": None, "path": None, "port": None, "portIndex": None, "protocol": None,
        "ipProtocol": None, "timeoutSeconds": None, "delaySeconds": None,
    },
    "AppCommandCheck": {"value": None},
    "AppResidency": {"relaunchEscalationTimeoutSeconds": None, "taskLostBehavior": None},
    "Artifact": {"uri": None, "extract": None, "executable": None, "cache": None, "destPath": None},
    "Container": {"type": None, "docker": "DockerContainer", "linuxInfo": "LinuxInfo", "volumes": "AppVolume",
                  "portMappings": "ContainerPortMapping"},
    "ContainerPortMapping": {"containerPort": None, "hostPort": None, "labels": None, "name": None,
                             "protocol": None, "servicePort": None, "networkNames": None},
    "DockerContainer": {"credential": "DockerCredentials", "pullConfig": "DockerPullConfig",
                        "forcePullImage": None, "image": None, "network": None, "parameters": "DockerParameter",
                        "portMappings": "ContainerPortMapping", "privileged": None},
    "DockerCredentials": {"principal": None, "secret": None},
    "DockerParameter": {"key": None, "value": None},
    "DockerPullConfig": {"secret": None},
    "ExecutorResources": {"cpus": None, "mem": None, "disk": None},
    "ExternalVolumeInfo": {"size": None, "name": None, "provider": None, "options": None, "shared": None},
    "IpAddress": {"discovery": None, "groups": None, "labels": None, "networkName": None},
    "LinuxInfo": {"seccomp": "Seccomp", "ipcInfo": "IPCInfo"},
    "IPCInfo": {"mode": None, "shmSize": None},
    "Seccomp": {"profileName": None, "unconfined": None},
    "Network": {"name": None, "mode": None, "labels": None},
    "PersistentVolumeInfo": {"type": None, "size": None, "maxSize": None, "profileName": None,
                             "constraints": None},
    "PortDefinition": {"port": None, "labels": None, "name": None, "protocol": None},
    "ReadinessCheck": {"name": None, "protocol": None, "path": None, "portName": None, "intervalSeconds": None,
                       "timeoutSeconds": None, "httpStatusCodesForReady": None, "preserveLastResponse": None},
    "ResourceLimits": {"cpus": None, "mem": None},
    "UnreachableStrategy": {"inactiveAfterSeconds": None, "expungeAfterSeconds": None},
    "UpgradeStrategy": {"maximumOverCapacity": None, "minimumHealthCapacity": None},
    # The union of AppPersistentVolume, AppExternalVolume, AppSecretVolume and AppHostVolume.
    "AppVolume": {"containerPath": None, "mode": None, "persistent": "PersistentVolumeInfo",
                  "external": "ExternalVolumeInfo", "secret": None, "hostPath": None},
}

# Known fields per Marathon version; a version picks its own table.
APP_TYPES_BY_VERSION = {"1.10": _APP_TYPES_1_10}
DEFAULT_MARATHON_VERSION = "1.10"


def _likely_field(name, known):
    for candidate in known:
        if candidate.lower() == str(name).lower():
            return candidate
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown_fields(value, type_name, path, types, found, top=False):
    if isinstance(value, list):
        for i, item in enumerate(value):
            _unknown_fields(item, type_name, "%s[%d]" % (path, i), types, found)
        return
    if not isinstance(value, dict):
        return
    known = types[type_name]
    for key, item in value.items():
        if key in known:
            if known[key] is not None:
                _unknown_fields(item, known[key], "%s.%s" % (path, key), types, found)
        elif not (top and key in READ_ONLY_FIELDS):
            # Read-only fields pasted from a GET are accepted and ignored, as Marathon does.
            likely = _likely_field(key, known)
            found.append("%s.%s%s" % (path, key, " (did you mean %s?)" % likely if likely else ""))


def unknown_field_problems(defn, field="definition", version=DEFAULT_MARATHON_VERSION):
    """A message naming the fields of ``defn`` that Marathon ``version`` does not know, or [].

    Marathon drops unknown fields silently, so a misspelled one would never match the live app
    and every run would send the definition again.
    """
    found = []
    _unknown_fields(defn, "App", field, APP_TYPES_BY_VERSION[version], found, top=True)
    if not found:
        return []
    return ["unknown field%s for a Marathon %s app: %s. Marathon drops unknown fields, so they would be sent "
            "again on every run; fix or remove them" % ("s" if len(found) > 1 else "", version, ", ".join(found))]


# ---- normalization --------------------------------------------------------------------


def _canon_numbers(value):
    """128 == 128.0: integral floats become ints, recursively."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return dict((k, _canon_numbers(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_canon_numbers(v) for v in value]
    return value


def _drop_empty(value):
    """Missing == null == empty: drop None, {} and [] recursively."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _drop_empty(v)
            if v is None or v == {} or v == []:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def _sort_key(value):
    return json.dumps(value, sort_keys=True)


def persistent_volumes(app):
    container = app.get("container") if isinstance(app, dict) else None
    if not isinstance(container, dict):
        return []
    vols = container.get("volumes") or []
    return [v for v in vols if isinstance(v, dict) and isinstance(v.get("persistent"), dict)]


def is_resident(app):
    """An app with local persistent volumes."""
    return bool(persistent_volumes(app))


def _has_external_volumes(app):
    container = app.get("container") if isinstance(app, dict) else None
    vols = (container or {}).get("volumes") or [] if isinstance(container, dict) else []
    return any(isinstance(v, dict) and isinstance(v.get("external"), dict) for v in vols)


def _migrate(a, version):
    """Deprecated fields (and Marathon 1.4's networking) -> their Marathon 1.10 form, as Marathon migrates them."""
    if "uris" in a:
        uris = a.pop("uris") or []
        if not a.get("fetch") and uris:
            a["fetch"] = [{"uri": u, "extract": _versions.archive_uri(version, u)} for u in uris]
    if "ports" in a:
        ports = a.pop("ports")
        if "portDefinitions" not in a and ports is not None:
            a["portDefinitions"] = [{"port": p} for p in ports]
    ip = a.pop("ipAddress", None)
    container = a.get("container")
    docker = container.get("docker") if isinstance(container, dict) else None
    if isinstance(docker, dict):
        net = docker.pop("network", None)
        if net and not a.get("networks"):
            if net == "BRIDGE":
                a["networks"] = [{"mode": "container/bridge"}]
            elif net == "USER":
                n = {"mode": "container"}
                if isinstance(ip, dict) and ip.get("networkName"):
                    n["name"] = ip["networkName"]
                a["networks"] = [n]
            elif net == "HOST":
                a["networks"] = [{"mode": "host"}]
        if "portMappings" in docker:
            pm = docker.pop("portMappings")
            if container.get("portMappings") is None and pm is not None:
                container["portMappings"] = pm
    if isinstance(ip, dict) and not a.get("networks"):
        n = {"mode": "container"}
        if ip.get("networkName"):
            n["name"] = ip["networkName"]
        a["networks"] = [n]


def _norm_health_check(hc, version):
    hc = dict(hc)
    # A check with a command is a COMMAND check whatever protocol says.
    proto = "COMMAND" if hc.get("command") is not None else (hc.get("protocol") or "HTTP")
    hc["protocol"] = proto
    for key, default in (
        ("gracePeriodSeconds", 300),
        ("intervalSeconds", 60),
        ("timeoutSeconds", 20),
        ("maxConsecutiveFailures", 3),
        ("delaySeconds", 15),
        ("ipProtocol", "IPv4"),
    ):
        if hc.get(key) is None:
            hc[key] = default
    if proto in _HTTP_PROTOCOLS:
        if hc.get("ignoreHttp1xx") is None:
            hc["ignoreHttp1xx"] = False
    else:
        # Only echoed for HTTP/HTTPS; on other protocols Marathon drops it.
        hc.pop("ignoreHttp1xx", None)
    if proto in ("TCP", "MESOS_TCP", "COMMAND"):
        hc.pop("path", None)
    if proto in _NO_PORT_PROTOCOLS:
        hc.pop("port", None)
        hc.pop("portIndex", None)
        if isinstance(hc.get("command"), str):
            hc["command"] = {"value": hc["command"]}
    elif hc.get("port") is None and hc.get("portIndex") is None:
        # Marathon implies portIndex 0 when neither is given.
        hc["portIndex"] = 0
    # Where Marathon does not store them it echoes fixed values (or nothing): never compared.
    keep_delay, keep_ip_protocol = _versions.health_check_keeps(version, proto)
    if not keep_delay:
        hc.pop("delaySeconds", None)
    if not keep_ip_protocol:
        hc.pop("ipProtocol", None)
    return hc


def _norm_readiness_check(rc):
    rc = dict(rc)
    for key, default in (
        ("name", "readinessCheck"),
        ("protocol", "HTTP"),
        ("path", "/"),
        ("portName", "http-api"),
        ("intervalSeconds", 30),
        ("timeoutSeconds", 10),
        ("httpStatusCodesForReady", [200]),
        ("preserveLastResponse", False),
    ):
        if rc.get(key) is None:
            rc[key] = default
    if isinstance(rc.get("httpStatusCodesForReady"), list):
        rc["httpStatusCodesForReady"] = sorted(set(rc["httpStatusCodesForReady"]), key=_sort_key)
    return rc


def _norm_volume(vol):
    vol = dict(vol)
    p = vol.get("persistent")
    if isinstance(p, dict):
        p = dict(p)
        if p.get("type") is None:
            p["type"] = "mount" if p.get("profileName") else "root"
        p.setdefault("constraints", [])
        vol["persistent"] = p
    return vol


def normalize_app_definition(app, version=BASELINE):
    """One comparable form of an app definition (desired, or as GET returns it).

    Read-only fields dropped, deprecated fields migrated, the defaults of Marathon
    ``version`` ((major, minor, patch), 1.10 by default) filled (resident variants for apps with persistent volumes), numbers made
    canonical (128 == 128.0), sets sorted (constraints, health checks,
    acceptedResourceRoles, dependencies), and empty values removed.
    Assigned service ports stay as they are; see ``comparison_views`` for
    ``port: 0``.
    """
    if not isinstance(app, dict):
        return {}
    a = _canon_numbers(copy.deepcopy(app))
    for key in READ_ONLY_FIELDS:
        a.pop(key, None)
    if a.get("id") is not None:
        a["id"] = canonical_app_id(a["id"])
    _migrate(a, version)
    resident = is_resident(a)

    networks = a.get("networks") or [{"mode": "host"}]
    networks = [dict(n, mode=n.get("mode") or "container") for n in networks if isinstance(n, dict)]
    a["networks"] = networks
    host_net = any(n["mode"] == "host" for n in networks)
    bridge = any(n["mode"] == "container/bridge" for n in networks)

    container = a.get("container")
    if container is None and not host_net:
        # Container networking without a container runs as a MESOS container.
        container = {"type": "MESOS"}
    if isinstance(container, dict):
        container = dict(container)
        container["type"] = container.get("type") or "DOCKER"
        container["volumes"] = [_norm_volume(v) for v in container.get("volumes") or []]
        docker = container.get("docker")
        if isinstance(docker, dict):
            docker = dict(docker)
            docker.setdefault("forcePullImage", False)
            docker.setdefault("privileged", False)
            docker.setdefault("parameters", [])
            for key in ("forcePullImage", "privileged"):
                if docker[key] is None:
                    docker[key] = False
            container["docker"] = docker
        a["container"] = container

    if host_net:
        if a.get("portDefinitions") is None:
            a["portDefinitions"] = [{"port": 0, "name": "default"}]
        pds = []
        for pd in a["portDefinitions"]:
            pd = dict(pd)
            pd["protocol"] = pd.get("protocol") or "tcp"
            if pd.get("port") is None:
                pd["port"] = 0
            pds.append(pd)
        a["portDefinitions"] = pds
        if isinstance(container, dict):
            # Marathon never echoes port mappings for host networking.
            container.pop("portMappings", None)
    else:
        a.pop("portDefinitions", None)
        a["requirePorts"] = False
        if isinstance(container, dict):
            pms = container.get("portMappings")
            if pms is None:
                pms = [{"containerPort": 0, "name": "default"}] if _versions.default_bridge_mapping(version) else []
            out = []
            for pm in pms:
                pm = dict(pm)
                for key, default in (("containerPort", 0), ("protocol", "tcp"), ("servicePort", 0)):
                    if pm.get(key) is None:
                        pm[key] = default
                if bridge and pm.get("hostPort") is None:
                    pm["hostPort"] = 0
                out.append(pm)
            container["portMappings"] = out

    for key, default in (
        ("instances", 1),
        ("cpus", 1),
        ("mem", 128),
        ("disk", 0),
        ("gpus", 0),
        ("executor", ""),
        ("backoffSeconds", 1),
        ("backoffFactor", 1.15),
        ("maxLaunchDelaySeconds", _versions.max_launch_delay_default(version)),
        ("requirePorts", False),
        ("killSelection", "YOUNGEST_FIRST"),
        ("tty", False),
    ):
        if a.get(key) is None:
            a[key] = default

    us = a.get("upgradeStrategy")
    if us is None:
        if resident or _has_external_volumes(a):
            us = {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0}
        else:
            us = {"minimumHealthCapacity": 1, "maximumOverCapacity": 1}
    else:
        us = dict(us)
        for key in ("minimumHealthCapacity", "maximumOverCapacity"):
            if us.get(key) is None:
                us[key] = 1
    a["upgradeStrategy"] = _canon_numbers(us)

    ur = a.get("unreachableStrategy")
    if ur is None:
        ur = "disabled" if resident else _versions.unreachable_default(version)
    elif isinstance(ur, dict):
        ur = dict(ur)
        for key, default in _versions.unreachable_default(version).items():
            if ur.get(key) is None:
                ur[key] = default
    a["unreachableStrategy"] = ur

    if a.get("fetch"):
        fetch = []
        for f in a["fetch"]:
            f = dict(f)
            for key, default in (("extract", True), ("executable", False), ("cache", False)):
                if f.get(key) is None:
                    f[key] = default
            fetch.append(f)
        a["fetch"] = fetch
    if a.get("healthChecks"):
        a["healthChecks"] = sorted((_norm_health_check(h, version) for h in a["healthChecks"]), key=_sort_key)
    if a.get("readinessChecks"):
        a["readinessChecks"] = [_norm_readiness_check(r) for r in a["readinessChecks"]]
    if a.get("constraints"):
        unique = dict((_sort_key(c), c) for c in a["constraints"])
        a["constraints"] = [unique[k] for k in sorted(unique)]
    if a.get("acceptedResourceRoles"):
        a["acceptedResourceRoles"] = sorted(set(a["acceptedResourceRoles"]))
    if a.get("dependencies"):
        a["dependencies"] = sorted(set(canonical_app_id(d) for d in a["dependencies"]))
    out = _drop_empty(a)
    # An explicit empty port list means "no ports", unlike a missing one (one default
    # port): keep it, so that the normalized form means the same when sent again.
    if host_net and a.get("portDefinitions") == []:
        out["portDefinitions"] = []
    if not host_net and isinstance(a.get("container"), dict) and a["container"].get("portMappings") == []:
        out.setdefault("container", {})["portMappings"] = []
    return out


# ---- comparison -----------------------------------------------------------------------


def _port_list(app):
    if "portDefinitions" in app:
        return [("portDefinitions", "port", pd) for pd in app.get("portDefinitions") or []]
    container = app.get("container") or {}
    return [("container.portMappings", "servicePort", pm) for pm in container.get("portMappings") or []]


def comparison_views(desired, live, version=BASELINE, unset_fields=()):
    """Copies of two normalized definitions made ready to compare.

    ``port: 0`` / ``servicePort: 0`` in ``desired`` means "any port": it takes the
    port Marathon assigned at the same index. ``role`` is compared only when
    ``desired`` sets it. A field of ``unset_fields`` (not set by the user) whose live
    value an older Marathon default left stored counts as unchanged, since stored
    values survive upgrades. Marathon 1.9 sanitizes acceptedResourceRoles silently;
    1.10 may lose resourceLimits after a reload.
    """
    d = copy.deepcopy(desired)
    lv = copy.deepcopy(live)
    if "role" not in d:
        lv.pop("role", None)
    for key, old_defaults in _versions.LEGACY_DEFAULTS.items():
        if key in unset_fields and key in lv and d.get(key) in old_defaults and lv[key] in old_defaults:
            d[key] = lv[key]
    if d.get("acceptedResourceRoles"):
        roles = _versions.sanitized_roles(version, d["acceptedResourceRoles"], d.get("role") or live.get("role"))
        d["acceptedResourceRoles"] = sorted(set(roles))
    if version[:2] == (1, 10) and "resourceLimits" not in lv:
        d.pop("resourceLimits", None)
    live_ports = _port_list(lv)
    for i, (where, key, entry) in enumerate(_port_list(d)):
        if entry.get(key, 0) == 0 and i < len(live_ports) and live_ports[i][0] == where:
            live_value = live_ports[i][2].get(key)
            if live_value is not None:
                entry[key] = live_value
    return d, lv


class AppComparison(object):
    """The one comparison of a task: a normalized desired definition against the normalized
    live app. Everything that depends on it (changed, the diff, check mode's predicted app,
    the resident rules, the landed-write check) reads this record instead of comparing again.

    ``desired`` is None when the app is to be removed, ``live`` when it does not exist.
    ``version`` is the cluster's Marathon version, ``unset_fields`` the fields with an old
    default (``_versions.LEGACY_DEFAULTS``) that the user's definition does not set.
    """

    def __init__(self, desired, live, version=BASELINE, unset_fields=()):
        self.desired = desired
        self.live = live
        self.version = version
        self.unset_fields = tuple(unset_fields)
        if desired is not None and live is not None:
            self.desired_view, self.live_view = comparison_views(desired, live, version, self.unset_fields)
            d, lv = self.desired_view, self.live_view
            # JSON text compares True and 1 as different, unlike Python's ==.
            self.changed_fields = sorted(k for k in set(d) | set(lv) if _sort_key(d.get(k)) != _sort_key(lv.get(k)))
            self.resident_violations = _resident_violations(d, lv) if self.changed_fields else []
        else:
            self.desired_view, self.live_view = desired, live
            self.changed_fields = []
            self.resident_violations = []

    @property
    def differs(self):
        """True when applying ``desired`` would change ``live`` (or create or remove the app)."""
        return bool(self.changed_fields) or (self.desired is None) != (self.live is None)

    def env_changes(self, names):
        """Those of ``names`` whose env value differs between two string values (a secret
        reference, a mapping, is not a value this side can compare)."""
        if self.desired is None or self.live is None:
            return []
        d_env, l_env = self.desired_view.get("env") or {}, self.live_view.get("env") or {}
        return sorted(n for n in set(names or ()) if isinstance(d_env.get(n), str) and isinstance(l_env.get(n), str)
                      and d_env[n] != l_env[n])

    def image_major_change(self):
        """(live major, desired major) when the Docker image's tag moves to another major version
        (C(postgres:15) to C(postgres:16)); None when it does not, or a tag names no version."""
        if self.desired is None or self.live is None:
            return None
        before, after = image_major(_docker_image(self.live)), image_major(_docker_image(self.desired))
        if before is None or after is None or before == after:
            return None
        return before, after

    def matches(self, app):
        """Whether a live app read later shows ``desired`` (the write landed)."""
        return not AppComparison(self.desired, normalize_app_definition(app, self.version), self.version,
                                 self.unset_fields).differs

    def diff(self, extra_names=()):
        """{"before": live, "after": desired}, secrets masked.

        A secret that changes shows as "******** (changed)" on the after side, so the
        diff never hides that a password changes and never shows it.
        """
        if self.desired is None or self.live is None:
            return {"before": mask_app(self.live, extra_names) if self.live is not None else {},
                    "after": mask_app(self.desired, extra_names) if self.desired is not None else {}}
        d, lv = self.desired_view, self.live_view
        # A name secret on either side stays masked on both (dropping it from the label
        # must not show the value in the same diff).
        names = _names(self.desired, extra_names) | _names(self.live, ())
        before = mask_app(lv, names)
        after = mask_app(d, names)
        if isinstance(after.get("env"), dict):
            live_env = lv.get("env") or {}
            for k, v in (d.get("env") or {}).items():
                if after["env"].get(k) == SECRET_MASK and live_env.get(k) is not None and live_env.get(k) != v:
                    after["env"][k] = SECRET_MASK_CHANGED
        return {"before": before, "after": after}

    def predicted_app(self, extra_names=()):
        """The app as it would be after the change (check mode), secrets masked."""
        return mask_app(self.desired_view, extra_names) if self.desired is not None else None

    def refusal_message(self, app_id):
        return resident_refusal_message(app_id, self.resident_violations, self.desired_view, self.live_view)


def _docker_image(app):
    image = ((app.get("container") or {}).get("docker") or {}).get("image")
    return image if isinstance(image, str) else ""


_IMAGE_TAG_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?")


def image_major(image):
    """The major version a Docker image's tag names: 'postgres:16.2-alpine' -> '16', 'postgres:9.6' -> '9.6'
    (before 10 a major had two numbers); None for a tag without a leading number (latest) or no tag."""
    name = (image or "").split("@", 1)[0]
    if name.rfind(":") <= name.rfind("/"):
        return None
    match = _IMAGE_TAG_VERSION.match(name[name.rfind(":") + 1:])
    if not match:
        return None
    major = int(match.group(1))
    return "%d.%s" % (major, match.group(2)) if major < 10 and match.group(2) is not None else str(major)


def compare_apps(desired, live, version=BASELINE, unset_fields=()):
    """An AppComparison of two normalized definitions (either may be None)."""
    return AppComparison(desired, live, version, unset_fields)


def _host_ports(app):
    if "portDefinitions" in app:
        return sorted(pd.get("port", 0) for pd in app.get("portDefinitions") or [])
    container = app.get("container") or {}
    return sorted(
        (pm.get("hostPort") for pm in container.get("portMappings") or [] if pm.get("hostPort") is not None)
    )


def _resident_violations(d, lv):
    """Fields Marathon refuses to change on an app with persistent volumes, between the
    comparison views ``d`` (desired) and ``lv`` (live). Empty when neither is resident."""
    if not (is_resident(lv) or is_resident(d)):
        return []
    fields = []
    if sorted(map(_sort_key, persistent_volumes(d))) != sorted(map(_sort_key, persistent_volumes(lv))):
        fields.append("container.volumes (persistent)")
    for key in RESIDENT_RESOURCE_FIELDS:
        if _sort_key(d.get(key)) != _sort_key(lv.get(key)):
            fields.append(key)
    if _host_ports(d) != _host_ports(lv):
        fields.append("host ports")
    return fields


def _volume_changes(desired, live):
    """'pgdata: size 100 -> 200' for each persistent volume that differs, by containerPath."""
    before = dict((v.get("containerPath"), v) for v in persistent_volumes(live))
    after = dict((v.get("containerPath"), v) for v in persistent_volumes(desired))
    out = []
    for path in sorted(set(before) | set(after), key=str):
        old, new = before.get(path), after.get(path)
        if old is None:
            out.append("%s: added" % path)
        elif new is None:
            out.append("%s: removed" % path)
        elif _sort_key(old) != _sort_key(new):
            old_p, new_p = old.get("persistent") or {}, new.get("persistent") or {}
            keys = sorted(k for k in set(old_p) | set(new_p) if _sort_key(old_p.get(k)) != _sort_key(new_p.get(k)))
            keys = ["%s %s -> %s" % (k, json.dumps(old_p.get(k)), json.dumps(new_p.get(k))) for k in keys]
            keys += ["%s %s -> %s" % (k, json.dumps(old.get(k)), json.dumps(new.get(k)))
                     for k in sorted(set(old) | set(new)) if k != "persistent" and old.get(k) != new.get(k)]
            out.append("%s: %s" % (path, ", ".join(keys)))
    return out


def resident_refusal_message(app_id, fields, desired=None, live=None):
    shown = []
    for f in fields:
        if desired is not None and live is not None and f in RESIDENT_RESOURCE_FIELDS:
            shown.append("%s (%s -> %s)" % (f, live.get(f), desired.get(f)))
        elif desired is not None and live is not None and f == "container.volumes (persistent)":
            shown.append("%s (%s)" % (f, "; ".join(_volume_changes(desired, live))))
        else:
            shown.append(f)
    return (
        "App '%s' has persistent volumes, and Marathon refuses to change %s on such an app "
        "(its tasks are pinned to reserved resources and volumes). Nothing was sent. Keep the current "
        "values, deploy the new definition under a new app id, or remove the app with state=absent and "
        "allow_data_loss=true (this destroys its volumes) and create it again." % (app_id, ", ".join(shown))
    )


# ---- secrets --------------------------------------------------------------------------


def is_secret_env(name, extra_names=()):
    return bool(SECRET_ENV_PATTERN.search(str(name))) or name in (extra_names or ())


def label_secret_names(app):
    """Env var names recorded as secret in the app's SECRET_ENV_LABEL label."""
    labels = app.get("labels") if isinstance(app, dict) else None
    value = labels.get(SECRET_ENV_LABEL) if isinstance(labels, dict) else None
    if not isinstance(value, str):
        return []
    return sorted(set(n.strip() for n in value.split(",") if n.strip()))


def secret_env_label_value(names):
    return ",".join(sorted(set(names)))


def secret_env_problems(names, field="secret_env"):
    """Messages naming the field for names that cannot be recorded in the label."""
    problems = []
    for i, name in enumerate(names or ()):
        if not isinstance(name, str) or not name.strip() or "," in name or name != name.strip():
            problems.append("%s[%d] must be an environment variable name (no commas, no spaces), got %r"
                            % (field, i, name))
    return problems


def _names(app, extra_names):
    # Names given to this task plus the names the app itself records as secret.
    return set(extra_names or ()) | set(label_secret_names(app))


def secret_values(app, extra_names=()):
    """Values of secret-looking env vars (to register as no_log values)."""
    env = app.get("env") if isinstance(app, dict) else None
    if not isinstance(env, dict):
        return set()
    names = _names(app, extra_names)
    return set(v for k, v in env.items() if isinstance(v, str) and v and is_secret_env(k, names))


def mask_app(app, extra_names=()):
    """Copy of ``app`` with the values of secret-looking env vars replaced (the names
    matching the heuristics, ``extra_names`` and those of the app's SECRET_ENV_LABEL)."""
    if not isinstance(app, dict) or not isinstance(app.get("env"), dict):
        return app
    names = _names(app, extra_names)
    out = dict(app)
    out["env"] = dict(
        (k, SECRET_MASK if isinstance(v, str) and is_secret_env(k, names) else v) for k, v in app["env"].items()
    )
    return out


def definition_for_request(defn):
    """The desired definition as sent to Marathon: read-only fields removed, id canonical."""
    out = dict((k, v) for k, v in defn.items() if k not in READ_ONLY_FIELDS or k == "residency")
    out.pop("residency", None)
    if out.get("id") is not None:
        out["id"] = canonical_app_id(out["id"])
    return out
