"""Semantic validation of the canonical app (Marathon's AppValidation and model validators), the
deprecated-API checks on the body as sent, and the rollback body check. Problems are collected as
(path, message) pairs and answered together as 422 "Object is not valid".
"""

from __future__ import annotations

import re

from .ids import id_violations, split_id
from .ports import port_list
from .resident import is_resident
from .schema import invalid_json, not_valid


def format_number(v):
    """Render a number like Scala's toString of the model type (Double → 1.0)."""
    if isinstance(v, float):
        return repr(v) if not v.is_integer() else f"{v:.1f}"
    return str(v)


def validate_old_api(app, pairs, update):
    """AppValidation.validateOldAppAPI / validateOldAppUpdateAPI, on the request as sent."""
    container = app.get("container")
    docker = (container or {}).get("docker")
    if container and docker:
        if docker.get("credential") is not None:
            pairs.append(("/container/docker/credential", "must be empty"))
        if container.get("type", "DOCKER") == "MESOS":
            for key in ("network", "parameters", "portMappings"):
                val = docker.get(key)
                if val is not None and val != []:
                    pairs.append((f"/container/docker/{key}", "must be empty"))
        pms = docker.get("portMappings") or []
        names = [pm.get("name") for pm in pms if pm.get("name") is not None]
        if len(names) != len(set(names)):
            pairs.append(("/container/docker/portMappings", "Port names must be unique."))
    ip = app.get("ipAddress")
    if ip is not None and container is not None and (container.get("type") or "DOCKER") == "DOCKER" \
            and ip.get("discovery") is not None:
        pairs.append(("/ipAddress", "ipAddress/discovery is not allowed for Docker containers"))
    if app.get("uris") and app.get("fetch"):
        pairs.append(("/uris", "may not be set in conjunction with fetch"))
    # an App needs non-empty networks here, an AppUpdate only a present field
    nets_given = app.get("networks") is not None if update else bool(app.get("networks"))
    if docker and docker.get("network") is not None and nets_given:
        pairs.append(("/", "must not specify both container.docker.network and networks"))
    if ip is not None and app.get("networks"):
        pairs.append(("/", "must not specify both networks and ipAddress"))
    ports = app.get("ports")
    if ports:
        fixed = [p for p in ports if p != 0]
        if len(fixed) != len(set(fixed)):
            pairs.append(("/", "ports must be unique"))
    if ip is not None and (app.get("ports") or app.get("portDefinitions")):
        pairs.append(("/", "cannot specify both an IP address and port"))
    if ports is not None and app.get("portDefinitions") is not None:
        if [pd.get("port", 0) for pd in app["portDefinitions"]] != list(ports):
            pairs.append(("/", "cannot specify both ports and port definitions"))


def _feature_msg(feature):
    # Marathon's text, including its stray parenthesis.
    return f"Feature {feature} is not enabled. Enable with --enable_features {feature})"


def _validate_volume(i, v, pairs):
    base = f"/container/volumes({i})"
    if "persistent" in v:
        cp = v["containerPath"]
        if cp in (".", ".."):
            pairs.append((f"{base}/containerPath", "must not be one of (.,..)"))
        if "/" in cp:
            pairs.append((f"{base}/containerPath", 'value must not contain "/"'))
        if v["mode"] != "RW":
            pairs.append((f"{base}/mode", f"got {v['mode']}, expected RW"))
        p = v["persistent"]
        if p["size"] <= 0:
            pairs.append((f"{base}/persistent/size", f"got {p['size']}, expected more than 0"))
        for j, c in enumerate(p["constraints"]):
            cpath = f"{base}/persistent/constraints({j})"
            if len(c) < 3 or c[0] != "path":
                pairs.append((cpath, f"Unsupported constraint {','.join(c)}"))
            elif c[1] not in ("UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"):
                pairs.append((cpath, f"unknown constraint operator {c[1]}"))
            elif c[1] not in ("LIKE", "UNLIKE"):
                pairs.append((cpath, "Operator must be one of LIKE, UNLIKE"))
            else:
                try:
                    re.compile(c[2])
                except re.error:
                    pairs.append((cpath, "Invalid regular expression"))
        if p.get("maxSize") is not None and p["type"] != "mount":
            pairs.append((f"{base}/persistent", "Only mount volumes can have maxSize"))
        if p["type"] == "root" and p["constraints"]:
            pairs.append((f"{base}/persistent", "Constraints on root volumes are not supported"))
        if p.get("maxSize") is not None and not p["maxSize"] > p["size"]:
            pairs.append((f"{base}/persistent", "Max size must be larger than size"))
        if p.get("profileName") == "":
            pairs.append((f"{base}/persistent/profileName", "must not be empty"))


_URI_BAD_CHARS = re.compile(r'[\s<>"{}|\\^`]|%(?![0-9A-Fa-f]{2})')


def _uri_syntax_ok(uri):
    """The characters java.net.URI refuses (spaces, <>"{}|\\^`, broken % escapes) and an empty scheme."""
    return not _URI_BAD_CHARS.search(uri) and not uri.startswith(":")


_ILLEGAL_OPERATOR = ("Constraint operator must be one of the following "
                     "UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER or UNLIKE")


def _is_int(text):
    try:
        int(text)
        return True
    except ValueError:
        return False


def _app_constraint_problem(c):
    field, op = c[0], c[1]
    value = c[2] if len(c) > 2 else None
    if field == "" and op == "":
        return "Missing field and operator"
    if op == "UNIQUE":
        return "Value specified but not used" if value is not None else None
    if op in ("CLUSTER", "IS"):
        return None if value is not None else "Missing value"
    if op == "GROUP_BY":
        return None if value is None or _is_int(value) else "Value was specified but is not a number"
    if op == "MAX_PER":
        return None if value is None or _is_int(value) else "Value was not specified or is not a number"
    if op in ("LIKE", "UNLIKE"):
        if value is None:
            return "A regular expression value must be provided"
        try:
            re.compile(value)
        except re.error:
            return f"'{value}' is not a valid regular expression"
        return None
    return _ILLEGAL_OPERATOR


def validate_app(app, pairs, *, raw_cmd, valid_roles, features, explicit_upgrade, marathon=None):
    """Canonical + model validation on the canonical app."""
    container = app.get("container")
    networks = app["networks"]

    # The id rules and "must not be root" are checked on the id by the caller.
    cmd = raw_cmd
    has_cmd = cmd is not None
    has_args = bool(app.get("args"))
    has_image = bool(container and container.get("docker") is not None)
    if not ((has_cmd != has_args) or (not (has_cmd and has_args) and has_image)):
        pairs.append(("/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."))
    if cmd is not None and not len(cmd) > 1:
        # Marathon's check is `length > 1`, so a one-character cmd is refused too.
        pairs.append(("/", "must not be an empty string"))

    # networks (NetworkValidation; localmarathon has no --default_network_name)
    modes = [n["mode"] for n in networks]
    if any(n["mode"] == "container" and not n.get("name") for n in networks):
        pairs.append(("/networks", "Network name must be specified when container network is selected."))
    if any(n["mode"] == "host" and (n.get("name") or n.get("labels")) for n in networks):
        pairs.append(("/networks", "Host networks may not have names or labels"))
    if any(n["mode"] == "container/bridge" and n.get("name") for n in networks):
        pairs.append(("/networks", "Bridge networks may not have names"))
    named = [n["name"] for n in networks if n.get("name")]
    if len(named) != len(set(named)) or sum(1 for n in networks if n["mode"] == "container" and not n.get("name")) > 1:
        pairs.append(("/networks", "Duplicate networks are not allowed"))
    counts = {m: modes.count(m) for m in ("host", "container/bridge", "container")}
    if not ((counts["host"] <= 1 and counts["container/bridge"] == 0 and counts["container"] == 0)
            or (counts["host"] == 0 and counts["container/bridge"] <= 1 and counts["container"] == 0)
            or (counts["host"] == 0 and counts["container/bridge"] == 0 and counts["container"] > 0)):
        pairs.append(("/networks", "May specify a single host network, single bridge network, or else 1-to-n container networks"))
    if container and container["type"] == "DOCKER" and modes.count("container") > 1:
        pairs.append(("/", "may only specify a single container network when using the Docker container engine"))

    # ports
    pds = app.get("portDefinitions")
    if pds:
        names = [pd["name"] for pd in pds if "name" in pd]
        if len(names) != len(set(names)):
            pairs.append(("/portDefinitions", "Port names must be unique."))
        fixed = [pd["port"] for pd in pds if pd["port"] != 0]
        if len(fixed) != len(set(fixed)):
            pairs.append(("/portDefinitions", "Ports must be unique."))
    if container:
        pms = container.get("portMappings") or []
        names = [pm["name"] for pm in pms if "name" in pm]
        if len(names) != len(set(names)):
            pairs.append(("/container/portMappings", "Port names must be unique."))
        net_names = [n["name"] for n in networks if n.get("name")]
        n_container = modes.count("container")
        for i, pm in enumerate(pms):
            for nn in pm.get("networkNames") or []:
                if nn not in net_names:
                    pairs.append((f"/container/portMappings({i})/networkNames", f"{nn} is not one of ({','.join(net_names)})"))
            if n_container > 1 and "hostPort" in pm and len(pm.get("networkNames") or []) != 1:
                pairs.append((f"/container/portMappings({i})",
                              "networkNames must be a single item list when hostPort is specified and more than 1 container network is defined"))

    # container
    if container:
        if container["type"] == "DOCKER" and container.get("docker") is None:
            pairs.append(("/container/docker", "not defined"))
        docker = container.get("docker")
        if docker is not None and docker.get("pullConfig") is not None:
            if container["type"] == "DOCKER":
                pairs.append(("/container/docker/pullConfig", "pullConfig is not supported with Docker containerizer"))
            elif "secrets" not in features:
                pairs.append(("/container/docker/pullConfig", _feature_msg("secrets")))
            elif docker["pullConfig"]["secret"] not in (app.get("secrets") or {}):
                pairs.append(("/container/docker/pullConfig", "pullConfig.secret must refer to an existing secret"))
        ext_names = [v["external"].get("name") for v in container["volumes"] if "external" in v
                     and not v["external"].get("shared")]
        ext_names = [n for n in ext_names if n is not None]
        if len(ext_names) != len(set(ext_names)):
            pairs.append(("/container/volumes", "Volume names must be unique"))
        for i, v in enumerate(container["volumes"]):
            if "persistent" in v:
                _validate_volume(i, v, pairs)
            elif "external" in v:
                if "external_volumes" not in features:
                    pairs.append((f"/container/volumes({i})", _feature_msg("external_volumes")))
                for key in ("name", "provider"):
                    if not v["external"].get(key):
                        pairs.append((f"/container/volumes({i})/external/{key}", "not defined"))
            elif "secret" in v:
                if marathon is not None and not marathon.secret_volumes:
                    # 1.4's volume reader knows no secret volume: without a mode it is an incomplete Docker volume.
                    pairs.append((f"/container/volumes({i})/mode", "error.path.missing"))
                elif "secrets" not in features:
                    pairs.append((f"/container/volumes({i})", _feature_msg("secrets")))
                elif v["secret"] not in (app.get("secrets") or {}):
                    pairs.append((f"/container/volumes({i})", "volume.secret must refer to an existing secret"))

    # secrets and env
    if app.get("secrets") and "secrets" not in features:
        pairs.append(("/secrets", _feature_msg("secrets")))
    for name, value in (app.get("env") or {}).items():
        if isinstance(value, dict):
            if "secrets" not in features:
                pairs.append((f"/env/{name}", _feature_msg("secrets")))
            elif value["secret"] not in (app.get("secrets") or {}):
                pairs.append((f"/env/{name}", "references an undefined secret"))

    # health checks
    indices = len(port_list(app))
    mesos_checks = 0
    for i, hc in enumerate(app.get("healthChecks") or []):
        protocol = hc["protocol"]
        # the model validation checks every check that uses a port, Mesos ones included
        if protocol != "COMMAND":
            idx = hc.get("portIndex")
            ok = (idx < indices) if idx is not None else (hc.get("port") is not None or indices == 1)
            if not ok:
                pairs.append((f"/healthChecks({i})",
                              "Health check port indices must address an element of the ports array or container port mappings."))
        if protocol.startswith("MESOS_"):
            mesos_checks += 1
        if hc["ipProtocol"] != "IPv4" and not (
                protocol.startswith("MESOS_") and container and container["type"] == "DOCKER"):
            pairs.append((f"/healthChecks({i})",
                          "IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health checks"))
    if mesos_checks > 1:
        pairs.append(("/", "AppDefinition can contain at most one Mesos health check"))

    # readiness checks
    rcs = app.get("readinessChecks") or []
    if len(rcs) > 1:
        pairs.append(("/readinessChecks", f"got {len(rcs)}, expected 1 or less"))
    port_names = {p["name"] for p in port_list(app) if "name" in p}
    for i, rc in enumerate(rcs):
        if rc["portName"] not in port_names:
            pairs.append((f"/readinessChecks({i})/portName", f"No port definition reference for portName {rc['portName']}"))
        if not rc["timeoutSeconds"] < rc["intervalSeconds"]:
            pairs.append((f"/readinessChecks({i})/timeoutSeconds",
                          f"got {rc['timeoutSeconds']}, expected less than {rc['intervalSeconds']}"))

    # constraints (SchedulingValidation.complyWithAppConstraintRules)
    for i, c in enumerate(app.get("constraints") or []):
        problem = _app_constraint_problem(c)
        if problem:
            pairs.append((f"/constraints({i})", problem))

    # gpus
    if app["gpus"] > 0:
        if container and container["type"] == "DOCKER":
            pairs.append(("/", "GPU resources only work with the Mesos containerizer"))
        if "gpu_resources" not in features:
            pairs.append(("/", _feature_msg("gpu_resources")))

    # accepted resource roles
    arr = app.get("acceptedResourceRoles")
    resident = is_resident(app)
    if arr is not None:
        if not arr:
            pairs.append(("/acceptedResourceRoles", "must not be empty"))
        for role in arr:
            if role in ("", ".", ".."):
                pairs.append(("/acceptedResourceRoles", f'A role name must not be "{role}".'))
            elif role.startswith("-"):
                pairs.append(("/acceptedResourceRoles", "A role name must not start with a '-'."))
            elif " " in role or "/" in role:
                ch = "space (\\x20)" if " " in role else "slash (\\x2f)"
                pairs.append(("/acceptedResourceRoles", f"A role name must not include a {ch} character."))
        if resident and set(arr) != {"*"}:
            pairs.append(("/acceptedResourceRoles", 'A resident app must have `acceptedResourceRoles = ["*"]`.'))
        bad = [r for r in arr if r not in ("*", app.get("role"))]
        if bad and not resident and (marathon is None or marathon.rejects_invalid_accepted_roles):
            pairs.append(("/acceptedResourceRoles",
                          f"acceptedResourceRoles can only contain * and {app['role']}"))

    # role (1.9+: before, apps have no role and these rules do not exist)
    if "role" in app and app["role"] not in valid_roles:
        pairs.append(("/role", f"got {app['role']}, expected one of: [{', '.join(sorted(valid_roles))}]"))
    if resident and app.get("role") == "*":
        pairs.append(("/role", "Resident apps cannot have the role *"))

    # resident rules; the upgradeStrategy rules only judge a strategy the request carried
    # (the resident default {0.5, 0} is valid anyway)
    us = app["upgradeStrategy"]
    if resident and explicit_upgrade and us["maximumOverCapacity"] != 0.0:
        pairs.append(("/upgradeStrategy/maximumOverCapacity", f"got {format_number(us['maximumOverCapacity'])}, expected 0.0"))
    if resident and app["unreachableStrategy"] != "disabled":
        pairs.append(("/", "unreachableStrategy must be disabled for resident tasks"))
    if (app.get("labels") or {}).get("MARATHON_SINGLE_INSTANCE_APP") == "true":
        if app["instances"] > 1:
            pairs.append(("/", "Single instance app may only have one instance"))
        if explicit_upgrade:
            for key in ("minimumHealthCapacity", "maximumOverCapacity"):
                if us[key] != 0.0:
                    pairs.append((f"/upgradeStrategy/{key}", f"got {format_number(us[key])}, expected 0.0"))

    # DC/OS migration API labels
    labels = app.get("labels") or {}
    if labels.get("DCOS_MIGRATION_API_VERSION"):
        if not (labels["DCOS_MIGRATION_API_VERSION"] == "v1" and labels.get("DCOS_PACKAGE_FRAMEWORK_NAME")
                and labels.get("DCOS_MIGRATION_API_PATH")):
            pairs.append(("/", "DCOS_PACKAGE_FRAMEWORK_NAME and DCOS_MIGRATION_API_PATH must be defined"
                               " when using DCOS_MIGRATION_API_VERSION"))

    # fetch URIs must parse as java.net.URI (ArtifactValidation)
    for i, f in enumerate(app.get("fetch") or []):
        if not _uri_syntax_ok(f["uri"]):
            pairs.append((f"/fetch({i})/uri", "URI has invalid syntax."))

    # dependencies
    for i, dep in enumerate(app.get("dependencies") or []):
        for p, msg in id_violations(dep, f"/dependencies({i})"):
            pairs.append((p, msg))


def valid_roles(app_id, mesos_role, existing):
    """RoleSettings.forService without enforced group roles."""
    segments = split_id(app_id)
    if len(segments) <= 1:
        return {mesos_role}
    roles = {mesos_role, segments[0]}
    if existing and existing.get("role"):
        roles.add(existing["role"])
    return roles


def validate_version_body(raw):
    """Rollback body check: returns the version or None; 422 if mixed with other fields."""
    if not isinstance(raw, dict) or raw.get("version") is None:
        return None
    others = [k for k, v in raw.items() if k not in ("id", "version") and v is not None]
    if others:
        raise not_valid([("/", "The 'version' field may only be combined with the 'id' field.")])
    if not isinstance(raw["version"], str):
        raise invalid_json([("/version", "error.expected.jsstring")])
    return raw["version"]
