"""Normalization of a request body to the canonical app, and the canonical output shape.

The pipeline (``normalize_app``): RAML reader checks, deprecated-API checks, migration of deprecated
fields (AppNormalization), merge onto the stored app for partial updates, defaults and canonical
shape, semantic validation.

Conventions of the canonical app: doubles (cpus, mem, disk, backoffFactor, upgradeStrategy
capacities, executorResources, numeric resourceLimits) are Python floats so ``json.dumps`` prints
``128.0``; empty omit-empty fields (cmd, args, user, env, constraints, dependencies, fetch,
healthChecks, readinessChecks, secrets, acceptedResourceRoles, container, ...) are absent;
``portDefinitions`` exists only for host networking and ``container.portMappings`` only for container
networking. Re-sending the canonical form is a fixed point except for one Marathon quirk: a health
check stored without ``portIndex`` gets ``portIndex: 0`` when the app (which then lists its default
port) is sent back.

Roles: ``mesos_role`` is Marathon's ``--mesos_role``. Real Marathon defaults to ``*``, under which
resident apps are refused ("Resident apps cannot have the role *"); DC/OS runs Marathon with
``slave_public``, so a server that wants resident apps to be valid by default passes
``mesos_role="slave_public"``.
"""

from __future__ import annotations

import copy
from urllib.parse import urlsplit

from ..errors import ApiError
from ..versions import DEFAULT_VERSION, MarathonVersion
from .ids import absolute_id, resolve_app_id
from .schema import check_app_json, not_valid, volume_kind
from .validation import valid_roles, validate_app, validate_old_api

MARATHON_1_10 = MarathonVersion.parse(DEFAULT_VERSION)


def _f(v):
    return float(v)


def _i(v):
    return int(v)


_DOCKER_NETWORK_MODES = {"BRIDGE": "container/bridge", "USER": "container", "HOST": "host"}
# --mesos_bridge_name default: an ipAddress naming it asks for bridge networking
MESOS_BRIDGE_NAME = "mesos-bridge"


def _strip_nulls(value):
    """Optional fields set to null read as absent (Play validateOpt), at every depth.

    Only called after the RAML check, which already refused nulls in required fields.
    """
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


class _NormalizationError(Exception):
    """Marathon's NormalizationException: answered as 422 {"message": ...}."""


def _network_translation(ip, docker_network, networks):
    """NetworkTranslation of AppNormalization: deprecated fields → networks."""
    if ip is not None and docker_network is not None and networks is None:
        if docker_network == "HOST":
            return [{"mode": "host"}]
        if docker_network == "USER":
            return [_drop_none({"mode": "container", "name": ip.get("networkName"), "labels": ip.get("labels")})]
        if docker_network == "BRIDGE":
            return [_drop_none({"mode": "container/bridge", "labels": ip.get("labels")})]
        raise _NormalizationError(f"unsupported docker network type {docker_network}")
    if ip is not None and docker_network is None and networks is None:
        if ip.get("networkName") == MESOS_BRIDGE_NAME:
            return [_drop_none({"mode": "container/bridge", "labels": ip.get("labels")})]
        return [_drop_none({"mode": "container", "name": ip.get("networkName"), "labels": ip.get("labels")})]
    if ip is None and docker_network is not None and networks is None:
        if docker_network in _DOCKER_NETWORK_MODES:
            return [{"mode": _DOCKER_NETWORK_MODES[docker_network]}]
        raise _NormalizationError(f"unsupported docker network type {docker_network}")
    if ip is None and docker_network is None:
        return networks
    raise _NormalizationError("cannot mix deprecated and canonical network APIs")


def _drop_none(d):
    return {k: v for k, v in d.items() if v is not None}


def _migrate_container(container, discovery):
    """migrateDockerPortMappings, migrateIpDiscovery and dropDockerNetworks."""
    container = dict(container)
    docker = container.get("docker")
    if docker is not None:
        docker = dict(docker)
        container["docker"] = docker
        dpm = docker.pop("portMappings", None)
        if dpm is not None:
            if container.get("portMappings") is not None and dpm:
                raise _NormalizationError("cannot specify both portMappings and docker.portMappings")
            if container.get("portMappings") is None:
                container["portMappings"] = dpm
    if discovery is not None and discovery.get("ports"):
        ctype = container.get("type") or "DOCKER"
        if ctype != "MESOS":
            raise _NormalizationError(f"ipAddress.discovery.ports do not apply for container type {ctype}")
        if container.get("portMappings") is not None:
            raise _NormalizationError("container.portMappings and ipAddress.discovery.ports must not both be set")
        # the old IP-per-container API had no host ports
        container["portMappings"] = [
            _drop_none({"containerPort": dp.get("number", 0), "labels": dp.get("labels"), "name": dp.get("name"),
                        "protocol": dp.get("protocol")})
            for dp in discovery["ports"]]
    if docker is not None:
        docker.pop("network", None)
    return container


def _health_checks_with_port_index(checks):
    """Add portIndex 0 to non-COMMAND checks that name no port (backwards compatibility)."""
    out = []
    for hc in checks:
        hc = dict(hc)
        if hc.get("protocol", "HTTP") != "COMMAND" and hc.get("port") is None and hc.get("portIndex") is None:
            hc["portIndex"] = 0
        out.append(hc)
    return out


def _readiness_with_default_codes(checks):
    return [dict(rc, httpStatusCodesForReady=rc.get("httpStatusCodesForReady") or [200]) for rc in checks]


def _is_archive(uri, marathon):
    text = uri
    if marathon.archive_suffix_on_uri_path:
        try:
            text = urlsplit(uri).path
        except ValueError:
            pass
    return text.endswith(marathon.uri_archive_suffixes)


def _fetch_from_uris(uris, fetch, marathon):
    if uris and not fetch:
        return [{"uri": u, "extract": _is_archive(u, marathon), "executable": False, "cache": False}
                for u in uris]
    if uris and fetch:
        raise _NormalizationError("cannot specify both uris and fetch fields")
    return fetch


def _has_non_host(networks):
    return any(n.get("mode", "container") != "host" for n in networks or [])


def _without_unread_fields(raw, marathon):
    """The body as this release's JSON readers see it: fields it does not know are never read
    (``role`` before 1.9, ``tty`` before 1.5, ...), nor, on 1.4, the 1.5 networking fields."""
    if not isinstance(raw, dict):
        return raw
    paths = list(marathon.unknown_fields())
    if marathon.old_networking_only:
        paths += ["networks", "container.portMappings"]
    if not paths:
        return raw
    body = copy.deepcopy(raw)
    for path in paths:
        if path == "persistent.profileName":
            volumes = (body.get("container") or {}).get("volumes") if isinstance(body.get("container"), dict) else None
            for v in volumes if isinstance(volumes, list) else []:
                if isinstance(v, dict) and isinstance(v.get("persistent"), dict):
                    v["persistent"].pop("profileName", None)
            continue
        *parents, leaf = path.split(".")
        node = body
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return body


def _migrate_full(app, marathon=MARATHON_1_10):
    """AppNormalization.forDeprecated for a full App. Returns a new dict."""
    app = copy.deepcopy(app)
    uris = app.pop("uris", None)
    fetch = _fetch_from_uris(uris, app.get("fetch"), marathon)
    if fetch is not None:
        app["fetch"] = fetch
    ip = app.pop("ipAddress", None)
    container = app.get("container")
    docker_network = ((container or {}).get("docker") or {}).get("network")
    networks = _network_translation(ip, docker_network, app.get("networks") or None) or []
    app["networks"] = networks
    non_host = _has_non_host(networks)

    raw_port_definitions = app.get("portDefinitions")
    ports = app.pop("ports", None)
    migrated = raw_port_definitions if raw_port_definitions is not None else (
        [{"port": p} for p in ports] if ports is not None else None)
    if non_host:
        app.pop("portDefinitions", None)
    else:
        app["portDefinitions"] = migrated if migrated is not None else [{"port": 0, "name": "default"}]

    if container is None and ip is not None:
        container = {"type": "MESOS"}  # ipAddress without a container implies an empty Mesos container
    if container is not None:
        # the order of these steps matters (it is Marathon's)
        container = _migrate_container(container, (ip or {}).get("discovery"))
        if not non_host:
            container.pop("portMappings", None)
        elif container.get("portMappings") is None:
            # 1.4 has no default mapping: a BRIDGE app without mappings has none
            container["portMappings"] = [{"containerPort": 0, "name": "default"}] \
                if marathon.default_bridge_port_mapping else []
        if non_host and migrated is not None:
            missing = len(migrated) - len(container["portMappings"])
            if missing > 0:
                container["portMappings"] = list(container["portMappings"]) + [{} for _ in range(missing)]
        app["container"] = container

    # For a full App the portIndex default applies only when the request itself listed port
    # definitions (not `ports`) or the container ends up with port mappings.
    if app.get("healthChecks") and (marathon.port_index_for_every_check or raw_port_definitions
                                    or (container is not None and container.get("portMappings") is not None)):
        app["healthChecks"] = _health_checks_with_port_index(app["healthChecks"])
    if app.get("readinessChecks"):
        app["readinessChecks"] = _readiness_with_default_codes(app["readinessChecks"])
    return app


def _migrate_update(update, marathon=MARATHON_1_10):
    """AppNormalization.forDeprecatedUpdates + forUpdates for an AppUpdate body."""
    update = copy.deepcopy(update)
    uris = update.pop("uris", None)
    fetch = _fetch_from_uris(uris, update.get("fetch"), marathon)
    if fetch is not None:
        update["fetch"] = fetch
    ip = update.pop("ipAddress", None)
    container = update.get("container")
    docker_network = ((container or {}).get("docker") or {}).get("network")
    networks = _network_translation(ip, docker_network, update.get("networks"))
    if networks is not None:
        update["networks"] = networks
    if container is None and ip is not None:
        container = {"type": "MESOS"}
    if container is not None:
        container = _migrate_container(container, (ip or {}).get("discovery"))
    ports = update.pop("ports", None)
    if update.get("portDefinitions") is None and ports is not None:
        update["portDefinitions"] = [{"port": p} for p in ports]
    # forUpdates: non-host networks without a container get the default Mesos container
    if container is None and networks is not None and _has_non_host(networks):
        container = {"type": "MESOS", "portMappings": [{"containerPort": 0, "name": "default"}]}
    if container is not None:
        update["container"] = container
    if update.get("healthChecks") is not None:
        update["healthChecks"] = _health_checks_with_port_index(update["healthChecks"])
    if update.get("readinessChecks") is not None:
        update["readinessChecks"] = _readiness_with_default_codes(update["readinessChecks"])
    return update


def _canon_labels(labels):
    return dict(labels or {})


def _canon_port_definition(pd):
    out = {"port": _i(pd.get("port", 0))}
    if pd.get("labels"):
        out["labels"] = dict(pd["labels"])
    if pd.get("name") is not None:
        out["name"] = pd["name"]
    out["protocol"] = pd.get("protocol") or "tcp"
    return out


def _canon_port_mapping(pm, bridge):
    out = {"containerPort": _i(pm.get("containerPort", 0))}
    if pm.get("hostPort") is not None:
        out["hostPort"] = _i(pm["hostPort"])
    elif bridge:
        out["hostPort"] = 0  # bridge mode defaults a missing hostPort to 0
    out["labels"] = dict(pm.get("labels") or {})
    if pm.get("name") is not None:
        out["name"] = pm["name"]
    out["protocol"] = pm.get("protocol") or "tcp"
    out["servicePort"] = _i(pm.get("servicePort", 0))
    if pm.get("networkNames"):
        out["networkNames"] = list(pm["networkNames"])
    return out


def _canon_volume(v):
    kind = volume_kind(v)
    if kind == "persistent":
        p = v["persistent"]
        vol_type = p.get("type") or ("mount" if p.get("profileName") is not None else "root")
        info = {"type": vol_type, "size": _i(p["size"])}
        if p.get("maxSize") is not None:
            info["maxSize"] = _i(p["maxSize"])
        if p.get("profileName") is not None:
            info["profileName"] = p["profileName"]
        info["constraints"] = [list(c) for c in p.get("constraints") or []]
        return {"containerPath": v["containerPath"], "persistent": info, "mode": v["mode"]}
    if kind == "external":
        e = v["external"]
        info = {}
        if e.get("size") is not None:
            info["size"] = _i(e["size"])
        for key in ("name", "provider"):
            if e.get(key) is not None:
                info[key] = e[key]
        if e.get("options"):
            info["options"] = dict(e["options"])
        info["shared"] = bool(e.get("shared", False))
        return {"containerPath": v["containerPath"], "external": info, "mode": v["mode"]}
    if kind == "secret":
        return {"containerPath": v["containerPath"], "secret": v["secret"]}
    return {"containerPath": v["containerPath"], "hostPath": v["hostPath"], "mode": v["mode"]}


def _canon_docker(d):
    out = {}
    if d.get("credential") is not None:
        out["credential"] = dict(d["credential"])
    if d.get("pullConfig") is not None:
        out["pullConfig"] = dict(d["pullConfig"])
    out["forcePullImage"] = bool(d.get("forcePullImage", False))
    out["image"] = d["image"]
    out["parameters"] = [{"key": p["key"], "value": p["value"]} for p in d.get("parameters") or []]
    out["privileged"] = bool(d.get("privileged", False))
    return out


def _canon_container(c, host, bridge):
    out = {"type": c.get("type") or "DOCKER"}
    if c.get("docker") is not None:
        out["docker"] = _canon_docker(c["docker"])
    if c.get("linuxInfo") is not None:
        out["linuxInfo"] = copy.deepcopy(c["linuxInfo"])
    out["volumes"] = [_canon_volume(v) for v in c.get("volumes") or []]
    if not host:
        out["portMappings"] = [_canon_port_mapping(pm, bridge) for pm in c.get("portMappings") or []]
    return out


_MARATHON_HC = ("HTTP", "HTTPS", "TCP")


def _canon_health_check(hc):
    """Per-protocol output of HealthCheckConversion."""
    protocol = "COMMAND" if hc.get("command") is not None else (hc.get("protocol") or "HTTP")
    out = {}
    if protocol == "COMMAND":
        out["command"] = {"value": (hc.get("command") or {}).get("value", "")}
    out["gracePeriodSeconds"] = _i(hc.get("gracePeriodSeconds", 300))
    if protocol in ("HTTP", "HTTPS"):
        out["ignoreHttp1xx"] = bool(hc.get("ignoreHttp1xx", False))
    out["intervalSeconds"] = _i(hc.get("intervalSeconds", 60))
    out["maxConsecutiveFailures"] = _i(hc.get("maxConsecutiveFailures", 3))
    if protocol in ("HTTP", "HTTPS", "MESOS_HTTP", "MESOS_HTTPS") and hc.get("path") is not None:
        out["path"] = hc["path"]
    if protocol != "COMMAND":
        if hc.get("port") is not None:
            out["port"] = _i(hc["port"])
        if hc.get("portIndex") is not None:
            out["portIndex"] = _i(hc["portIndex"])
    out["protocol"] = protocol
    out["ipProtocol"] = hc.get("ipProtocol") or "IPv4"
    out["timeoutSeconds"] = _i(hc.get("timeoutSeconds", 20))
    # Marathon-executed checks keep no delay of their own: the writer always shows the default
    out["delaySeconds"] = 15 if protocol in _MARATHON_HC else _i(hc.get("delaySeconds", 15))
    return out


def _canon_check(c):
    out = {}
    if c.get("http") is not None:
        h = c["http"]
        out["http"] = {k: h[k] for k in ("portIndex", "port", "path") if h.get(k) is not None}
        out["http"]["scheme"] = h.get("scheme") or "HTTP"
    if c.get("tcp") is not None:
        out["tcp"] = {k: c["tcp"][k] for k in ("portIndex", "port") if c["tcp"].get(k) is not None}
    if c.get("exec") is not None:
        out["exec"] = copy.deepcopy(c["exec"])
    out["intervalSeconds"] = _i(c.get("intervalSeconds", 60))
    out["timeoutSeconds"] = _i(c.get("timeoutSeconds", 20))
    out["delaySeconds"] = _i(c.get("delaySeconds", 15))
    return out


def _canon_readiness(rc):
    return {
        "name": rc.get("name") or "readinessCheck",
        "protocol": rc.get("protocol") or "HTTP",
        "path": rc.get("path") or "/",
        "portName": rc.get("portName") or "http-api",
        "intervalSeconds": _i(rc.get("intervalSeconds", 30)),
        "timeoutSeconds": _i(rc.get("timeoutSeconds", 10)),
        "httpStatusCodesForReady": [_i(x) for x in rc.get("httpStatusCodesForReady") or [200]],
        "preserveLastResponse": bool(rc.get("preserveLastResponse", False)),
    }


def _canon_fetch(f):
    out = {"uri": f["uri"], "extract": bool(f.get("extract", True)),
           "executable": bool(f.get("executable", False)), "cache": bool(f.get("cache", False))}
    if f.get("destPath") is not None:
        out["destPath"] = f["destPath"]
    return out


def _canon_network(n):
    out = {}
    if n.get("name") is not None:
        out["name"] = n["name"]
    out["mode"] = n.get("mode") or "container"
    if n.get("labels"):
        out["labels"] = dict(n["labels"])
    return out


def _canon_limit(v):
    return v if isinstance(v, str) else _f(v)


_OUTPUT_ORDER = (
    "id", "acceptedResourceRoles", "args", "backoffFactor", "backoffSeconds", "cmd", "constraints",
    "container", "cpus", "dependencies", "disk", "env", "executor", "executorResources", "fetch",
    "healthChecks", "check", "instances", "labels", "maxLaunchDelaySeconds", "mem", "gpus", "networks",
    "portDefinitions", "readinessChecks", "residency", "resourceLimits", "requirePorts", "secrets",
    "taskKillGracePeriodSeconds", "upgradeStrategy", "user", "version", "versionInfo", "killSelection",
    "unreachableStrategy", "tty", "role",
)


def _build_canonical(a, app_id, mesos_role, marathon=MARATHON_1_10):
    """Defaults and the canonical key order/omission rules; no validation."""
    networks = [_canon_network(n) for n in (a.get("networks") or [{"mode": "host"}])]
    host = any(n["mode"] == "host" for n in networks)
    bridge = any(n["mode"] == "container/bridge" for n in networks)
    container = a.get("container")
    if container is None and not host:
        # forPostValidation: container networking without a container gets a Mesos one
        container = {"type": "MESOS", "portMappings": [{"containerPort": 0, "name": "default"}]}
    canon_container = _canon_container(container, host, bridge) if container is not None else None
    resident = bool(canon_container and any("persistent" in v for v in canon_container["volumes"]))
    external = bool(canon_container and any("external" in v for v in canon_container["volumes"]))

    out = {"id": app_id}
    role = (a.get("role") or mesos_role) if marathon.has_roles else None
    if a.get("acceptedResourceRoles"):
        out["acceptedResourceRoles"] = list(dict.fromkeys(a["acceptedResourceRoles"]))
        if marathon.sanitizes_accepted_roles:
            # 1.9 keeps * and the app's role and silently replaces anything else
            kept = [r for r in out["acceptedResourceRoles"] if r in ("*", role)]
            out["acceptedResourceRoles"] = kept or ["*"]
    elif a.get("acceptedResourceRoles") == []:
        out["acceptedResourceRoles"] = []  # kept so validation can refuse it; never stored
    if a.get("args"):
        out["args"] = list(a["args"])
    out["backoffFactor"] = _f(a.get("backoffFactor", 1.15))
    out["backoffSeconds"] = _i(a.get("backoffSeconds", 1))
    if a.get("cmd") is not None:
        out["cmd"] = a["cmd"]
    if a.get("constraints"):
        seen = []
        for c in a["constraints"]:
            if list(c) not in seen:  # constraints are a set in the model
                seen.append(list(c))
        out["constraints"] = seen
    if canon_container is not None:
        out["container"] = canon_container
    out["cpus"] = _f(a.get("cpus", 1.0))
    if a.get("dependencies"):
        deps = []
        for d in a["dependencies"]:
            # /v2/apps canonicalizes dependencies against the root group, not the app's parent
            resolved = absolute_id(d)
            if resolved not in deps:
                deps.append(resolved)
        out["dependencies"] = deps
    out["disk"] = _f(a.get("disk", 0.0))
    if a.get("env"):
        out["env"] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in a["env"].items()}
    out["executor"] = a.get("executor") if a.get("executor") is not None else ""
    if a.get("executorResources") is not None:
        er = a["executorResources"]
        out["executorResources"] = {"cpus": _f(er.get("cpus", 0.1)), "mem": _f(er.get("mem", 32.0)),
                                    "disk": _f(er.get("disk", 10.0))}
    if a.get("fetch"):
        out["fetch"] = [_canon_fetch(f) for f in a["fetch"]]
    if a.get("healthChecks"):
        out["healthChecks"] = [_canon_health_check(hc) for hc in a["healthChecks"]]
    if a.get("check") is not None:
        out["check"] = _canon_check(a["check"])
    out["instances"] = _i(a.get("instances", 1))
    out["labels"] = _canon_labels(a.get("labels"))
    out["maxLaunchDelaySeconds"] = _i(a.get("maxLaunchDelaySeconds", marathon.default_max_launch_delay))
    out["mem"] = _f(a.get("mem", 128.0))
    out["gpus"] = _i(a.get("gpus", 0))
    out["networks"] = networks
    if host:  # the writer drops portDefinitions for container networking
        out["portDefinitions"] = [_canon_port_definition(pd) for pd in a.get("portDefinitions") or []]
    if a.get("readinessChecks"):
        out["readinessChecks"] = [_canon_readiness(rc) for rc in a["readinessChecks"]]
    if resident:
        r = a.get("residency") or {}
        out["residency"] = {
            "relaunchEscalationTimeoutSeconds": _i(r.get("relaunchEscalationTimeoutSeconds", 3600)),
            "taskLostBehavior": r.get("taskLostBehavior") or "WAIT_FOREVER",
        }
    if a.get("resourceLimits") is not None:
        rl = a["resourceLimits"]
        out["resourceLimits"] = {k: _canon_limit(rl[k]) for k in ("cpus", "mem") if rl.get(k) is not None}
    # requirePorts is forced false for non-host networking
    out["requirePorts"] = bool(a.get("requirePorts", False)) \
        if host or not marathon.require_ports_forced_off_host else False
    if a.get("secrets"):
        out["secrets"] = {k: {"source": v["source"]} for k, v in a["secrets"].items()}
    if a.get("taskKillGracePeriodSeconds") is not None:
        out["taskKillGracePeriodSeconds"] = _i(a["taskKillGracePeriodSeconds"])
    # resident (and external-volume) apps default to {0.5, 0}
    us_default = (0.0, 0.5) if (resident or external) else (1.0, 1.0)
    us = a.get("upgradeStrategy")
    if us is None:
        out["upgradeStrategy"] = {"maximumOverCapacity": us_default[0], "minimumHealthCapacity": us_default[1]}
    else:
        out["upgradeStrategy"] = {"maximumOverCapacity": _f(us["maximumOverCapacity"]),
                                  "minimumHealthCapacity": _f(us["minimumHealthCapacity"])}
    if a.get("user") is not None:
        out["user"] = a["user"]
    out["killSelection"] = a.get("killSelection") or "YOUNGEST_FIRST"
    un = a.get("unreachableStrategy")
    inactive_after, expunge_after = marathon.default_unreachable
    if un is None:
        out["unreachableStrategy"] = "disabled" if resident else {"inactiveAfterSeconds": inactive_after,
                                                                  "expungeAfterSeconds": expunge_after}
    elif isinstance(un, str):
        out["unreachableStrategy"] = un
    else:
        out["unreachableStrategy"] = {"inactiveAfterSeconds": _i(un.get("inactiveAfterSeconds", inactive_after)),
                                      "expungeAfterSeconds": _i(un.get("expungeAfterSeconds", expunge_after))}
    if a.get("tty") is not None:
        out["tty"] = bool(a["tty"])
    if role is not None:
        out["role"] = role
    return out


def normalize_app(raw, *, path_id=None, existing=None, partial=False, mesos_role="*",
                  enabled_features=frozenset(), marathon=MARATHON_1_10):
    """Run the normalization pipeline on a request body; return the canonical app.

    path_id: id from the URL (PUT/PATCH) — it wins over any id in the body,
        and the body is then read as an AppUpdate (no required id).
    existing: the stored canonical app (or None).
    partial: PUT partialUpdate=true / PATCH (merged onto ``existing``; a
        missing ``existing`` means the PUT creates the app from the body).
    mesos_role: Marathon's --mesos_role (role default and valid roles).
    enabled_features: Marathon's --enable_features (secrets, gpu_resources,
        external_volumes).
    marathon: the ``MarathonVersion`` whose readers, defaults and rules apply.
    """
    features = frozenset(enabled_features)
    raw = _without_unread_fields(raw, marathon)
    update_body = path_id is not None
    check_app_json(raw, update=update_body)
    body = _strip_nulls(raw)
    pairs = []
    merging = partial and existing is not None
    validate_old_api(body, pairs, update=merging)
    if pairs:
        raise not_valid(pairs)
    try:
        if merging:
            update = _migrate_update(body, marathon)
            source = _merge_update(existing, update)
            body_id = existing.get("id")
        else:
            source = _migrate_full(body, marathon)
            body_id = body.get("id")
    except _NormalizationError as exc:
        raise ApiError(422, {"message": str(exc)})
    source.pop("version", None)  # read-only; silently ignored

    app_id = resolve_app_id(body_id, path_id, pairs, reserved_endings=marathon.refuses_reserved_id_endings)
    if pairs:
        raise not_valid(pairs)
    # Only reachable through updates: a full App has these dropped during migration.
    networks = source.get("networks") or [{"mode": "host"}]
    if _has_non_host(networks) and source.get("portDefinitions"):
        pairs.append(("/", "portDefinitions are only allowed with host-networking"))
    if any(n.get("mode", "container") == "host" for n in networks) \
            and ((source.get("container") or {}).get("portMappings")):
        pairs.append(("/", "portMappings are not allowed with host-networking"))
    app = _build_canonical(source, app_id, mesos_role, marathon)
    if marathon.residency_is_stored and source.get("residency") is not None and "residency" not in app:
        pairs.append(("/", marathon.residency_without_volumes_message))
    validate_app(app, pairs, raw_cmd=source.get("cmd"), valid_roles=valid_roles(app_id, mesos_role, existing),
                  features=features, explicit_upgrade=source.get("upgradeStrategy") is not None,
                  marathon=marathon)
    if pairs:
        raise not_valid(pairs)
    return app


def _merge_update(existing, update):
    """appUpdateRamlReader: each top-level field of the update replaces the stored one."""
    merged = copy.deepcopy(existing)
    for key, value in update.items():
        if key in ("id", "version", "versionInfo"):
            continue
        merged[key] = copy.deepcopy(value)
    # Quirk: executorResources / resourceLimits are taken from the update only.
    for key in ("executorResources", "resourceLimits"):
        if key not in update:
            merged.pop(key, None)
    return merged


def app_for_output(app, version, version_info, marathon=MARATHON_1_10):
    """Canonical app + version fields as ``marathon`` writes them: 1.5+ in RAML property order
    (1.5 health checks without ipProtocol), 1.4 through its hand-written writer."""
    if marathon.legacy_app_writer:
        return _legacy_app_json(app, version, version_info)
    out = {}
    for key in _OUTPUT_ORDER:
        if key == "version":
            if version is not None:
                out["version"] = version
            continue
        if key == "versionInfo":
            if version_info is not None:
                out["versionInfo"] = dict(version_info)
            continue
        if key in app:
            out[key] = copy.deepcopy(app[key])
    if not marathon.health_check_ip_protocol:
        for hc in out.get("healthChecks") or []:
            hc.pop("ipProtocol", None)
    return out


# 1.4's AppDefWrites: keys in the order of the captured 1.4 app (CAP14 in the reference)
_LEGACY_HC_KEYS = ("command", "gracePeriodSeconds", "intervalSeconds", "timeoutSeconds", "maxConsecutiveFailures",
                   "portIndex", "port", "path", "protocol", "ignoreHttp1xx", "delaySeconds")


def _legacy_health_check(hc):
    out = {k: hc[k] for k in _LEGACY_HC_KEYS if k in hc}
    if hc["protocol"] in _MARATHON_HC:
        out.pop("delaySeconds", None)  # 1.4 keeps no delay for Marathon-executed checks
    return out


def _legacy_port_mapping(pm, bridge):
    out = {"containerPort": pm["containerPort"]}
    if "hostPort" in pm or bridge:
        out["hostPort"] = pm.get("hostPort", 0)
    out["servicePort"] = pm["servicePort"]
    out["protocol"] = pm["protocol"]
    if "name" in pm:
        out["name"] = pm["name"]
    out["labels"] = dict(pm.get("labels") or {})
    return out


def _legacy_port_definition(port, protocol, name, labels):
    out = {"port": port, "protocol": protocol}
    if name is not None:
        out["name"] = name
    out["labels"] = dict(labels or {})
    return out


def _legacy_volume(v):
    if "persistent" in v:
        p = v["persistent"]
        persistent = {"size": p["size"]}
        if "maxSize" in p:
            persistent["maxSize"] = p["maxSize"]
        persistent.update(type=p["type"], constraints=p["constraints"])
        return {"containerPath": v["containerPath"], "mode": v["mode"], "persistent": persistent}
    return copy.deepcopy(v)


def _legacy_container(app, network_mode):
    """ContainerWriter: DOCKER carries the old networking keys; MESOS has no privileged/parameters."""
    c = app["container"]
    out = {"type": c["type"], "volumes": [_legacy_volume(v) for v in c["volumes"]]}
    d = c.get("docker")
    if d is None:
        return out
    if c["type"] == "MESOS":
        out["docker"] = {"image": d["image"], "credential": d.get("credential"), "forcePullImage": d["forcePullImage"]}
        return out
    docker_network = {"container/bridge": "BRIDGE", "container": "USER"}.get(network_mode)
    bridge = network_mode == "container/bridge"
    mappings = [_legacy_port_mapping(pm, bridge) for pm in c.get("portMappings") or []] if docker_network else []
    out["docker"] = {"image": d["image"], "network": docker_network, "portMappings": mappings,
                     "privileged": d["privileged"], "parameters": d["parameters"],
                     "forcePullImage": d["forcePullImage"]}
    return out


def _legacy_app_json(app, version, version_info):
    """Marathon 1.4's AppDefWrites (reference section 2.1-2.10): unset options are null, empty
    collections are written, the old networking fields (``ipAddress``, ``container.docker.network``,
    ``container.docker.portMappings``), ``ports``/``uris``/``storeUrls``, and ``portDefinitions`` also
    for BRIDGE apps (the stored default zipped with the mappings' service ports)."""
    network = app["networks"][0]
    mode = network["mode"]
    named_network = mode == "container"
    fetch = copy.deepcopy(app.get("fetch") or [])
    out = {"id": app["id"], "cmd": app.get("cmd"), "args": app.get("args"), "user": app.get("user"),
           "env": copy.deepcopy(app.get("env") or {}), "instances": app["instances"], "cpus": app["cpus"],
           "mem": app["mem"], "disk": app["disk"], "gpus": app["gpus"], "executor": app["executor"],
           "constraints": copy.deepcopy(app.get("constraints") or []), "uris": [f["uri"] for f in fetch],
           "fetch": fetch, "storeUrls": [], "backoffSeconds": app["backoffSeconds"],
           "backoffFactor": app["backoffFactor"], "maxLaunchDelaySeconds": app["maxLaunchDelaySeconds"],
           "container": _legacy_container(app, mode) if "container" in app else None,
           "healthChecks": [_legacy_health_check(hc) for hc in app.get("healthChecks") or []],
           "readinessChecks": copy.deepcopy(app.get("readinessChecks") or []),
           "dependencies": list(app.get("dependencies") or []),
           "upgradeStrategy": {"minimumHealthCapacity": app["upgradeStrategy"]["minimumHealthCapacity"],
                               "maximumOverCapacity": app["upgradeStrategy"]["maximumOverCapacity"]},
           "labels": dict(app["labels"])}
    if app.get("acceptedResourceRoles"):
        out["acceptedResourceRoles"] = list(app["acceptedResourceRoles"])
    out["ipAddress"] = {"groups": [], "labels": dict(network.get("labels") or {}), "discovery": {"ports": []},
                        "networkName": network.get("name")} if named_network else None
    if version is not None:
        out["version"] = version
    out["residency"] = dict(app["residency"]) if "residency" in app else None
    out["secrets"] = copy.deepcopy(app.get("secrets") or {})
    out["taskKillGracePeriodSeconds"] = app.get("taskKillGracePeriodSeconds")
    out["unreachableStrategy"] = copy.deepcopy(app["unreachableStrategy"])
    out["killSelection"] = app["killSelection"]
    if not named_network:  # with an ipAddress, 1.4 writes none of ports/portDefinitions/requirePorts
        if mode == "host":
            definitions = [_legacy_port_definition(pd["port"], pd["protocol"], pd.get("name"), pd.get("labels"))
                           for pd in app.get("portDefinitions") or []]
        else:
            service_ports = [pm["servicePort"] for pm in (app.get("container") or {}).get("portMappings") or []]
            # the stored default [{port 0, name default}] zipped with the service ports of the mappings
            definitions = [_legacy_port_definition(port, "tcp", "default" if i == 0 else None, None)
                           for i, port in enumerate(service_ports or [0])]
        out["ports"] = [d["port"] for d in definitions]
        out["portDefinitions"] = definitions
        out["requirePorts"] = app["requirePorts"]
    if version_info is not None:
        out["versionInfo"] = dict(version_info)
    return out
