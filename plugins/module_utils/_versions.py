# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What differs between the Marathon versions DC/OS shipped (1.4 to 1.11): the one place
that knows it. The normalizer (_app_spec.py) and the request body builder (_app_request.py)
ask here; nothing else compares version numbers.

Private module_utils: not a public API. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_VERSION_RE = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?")

# The newest build DC/OS shipped of each minor version: what "1.4" means when a user pins it.
NEWEST_SHIPPED = {
    (1, 4): (1, 4, 12), (1, 5): (1, 5, 12), (1, 6): (1, 6, 585), (1, 7): (1, 7, 216),
    (1, 8): (1, 8, 242), (1, 9): (1, 9, 136), (1, 10): (1, 10, 26), (1, 11): (1, 11, 24),
}
OLDEST_SUPPORTED = (1, 4, 0)
# What is assumed when the version cannot be read (GET /v2/info refused): the baseline.
BASELINE = (1, 10, 26)

# Fields of an app definition that older versions do not know (they drop them silently, so
# they would differ on every run): (field, first version that knows it).
FIELDS_SINCE = (
    ("tty", (1, 5, 0)),
    ("persistent.profileName", (1, 6, 0)),
    ("executorResources", (1, 6, 352)),
    ("check", (1, 8, 0)),
    ("container.linuxInfo", (1, 8, 0)),
    ("container.linuxInfo.ipcInfo", (1, 9, 0)),
    ("role", (1, 9, 0)),
    ("resourceLimits", (1, 10, 0)),
)

# File-based secrets (a volume {"containerPath", "secret"}) came with Marathon 1.5; 1.4 refuses such
# a volume, it knows secrets only as environment variables.
SECRET_VOLUMES_SINCE = (1, 5, 0)

UNREACHABLE_OLD_DEFAULT = {"inactiveAfterSeconds": 300, "expungeAfterSeconds": 600}
UNREACHABLE_DEFAULT = {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}
MAX_LAUNCH_DELAY_OLD_DEFAULT = 3600
MAX_LAUNCH_DELAY_DEFAULT = 300

# Values an older default left stored on an app; stored values survive upgrades, so when the
# user does not set the field, one of these on the live app is no change.
LEGACY_DEFAULTS = {
    "maxLaunchDelaySeconds": (MAX_LAUNCH_DELAY_OLD_DEFAULT, MAX_LAUNCH_DELAY_DEFAULT),
    "unreachableStrategy": (UNREACHABLE_OLD_DEFAULT, UNREACHABLE_DEFAULT),
}

_MARATHON_CHECKS = ("HTTP", "HTTPS", "TCP")
_MESOS_CHECKS = ("MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP")


def version_text(version):
    return "%d.%d.%d" % tuple(version)


def parse_version(text):
    """(major, minor, patch) of a /v2/info version such as "1.4.12", "1.5.0-SNAPSHOT" or
    "1.10.26-abc123", or of a pinned "1.4" (the newest build DC/OS shipped of 1.4). None when
    ``text`` is not a version."""
    match = _VERSION_RE.match(str(text)) if text is not None else None
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    if match.group(3) is None:
        return NEWEST_SHIPPED.get((major, minor), (major, minor, 0))
    return (major, minor, int(match.group(3)))


def version_problem(version):
    """Why the collection cannot work with Marathon ``version``, or None."""
    if version < OLDEST_SUPPORTED:
        return "Marathon %s is older than 1.4, the oldest version this collection supports" % version_text(version)
    return None


def cache_key(marathon_url):
    """The key of a cluster in the marathon_versions fact: its URL as given, without a trailing slash."""
    return str(marathon_url).rstrip("/") if marathon_url else None


# ---- defaults per version ------------------------------------------------------------


def max_launch_delay_default(version):
    """1 hour up to 1.7, 5 minutes from 1.8.180 (Marathon commit "Alter default backoff", #6686)."""
    return MAX_LAUNCH_DELAY_OLD_DEFAULT if version < (1, 8, 0) else MAX_LAUNCH_DELAY_DEFAULT


def unreachable_default(version):
    """The default unreachableStrategy of a non-resident app: {300,600} on 1.4.0-1.4.8 and 1.5.0."""
    if (1, 4, 0) <= version < (1, 4, 9) or version == (1, 5, 0):
        return dict(UNREACHABLE_OLD_DEFAULT)
    return dict(UNREACHABLE_DEFAULT)


def old_networking(version):
    """Marathon 1.4 reads only container.docker.network/portMappings and ipAddress (it ignores
    networks and container.portMappings) and writes only them."""
    return version < (1, 5, 0)


def default_bridge_mapping(version):
    """Whether a bridge app without port mappings gets one default mapping (not on 1.4)."""
    return not old_networking(version)


def health_check_keeps(version, protocol):
    """Which of delaySeconds and ipProtocol Marathon stores (and so compares) for a health
    check of ``protocol``. HTTP/HTTPS/TCP checks store neither (1.5+ echoes a fixed
    delaySeconds 15, 1.6+ a fixed ipProtocol IPv4); ipProtocol exists from 1.6, for MESOS_* only."""
    keep_delay = protocol not in _MARATHON_CHECKS
    keep_ip = protocol in _MESOS_CHECKS and version >= (1, 6, 0)
    return keep_delay, keep_ip


def archive_uri(version, uri):
    """Whether Marathon fetches ``uri`` (from the deprecated ``uris``) with extract=true."""
    if version < (1, 6, 0):
        # 1.4/1.5: the whole string, case-sensitive.
        return str(uri).endswith((".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip"))
    path = urlsplit(str(uri)).path
    return path.endswith((".tar", ".tar.gz", ".tar.bz2", ".tar.xz", ".gz", ".tgz", ".tbz2", ".txz", ".zip"))


def sanitized_roles(version, roles, app_role):
    """acceptedResourceRoles as Marathon 1.9 stores them: it silently keeps only "*" and the
    app's role (["*"] when none is left); other versions store what is sent or refuse it."""
    if version[:2] != (1, 9) or not roles:
        return roles
    kept = [r for r in roles if r == "*" or (app_role is not None and r == app_role)]
    return kept or ["*"]


# ---- fields a version does not know ---------------------------------------------------


def _present(defn, field):
    """Whether the definition sets ``field`` (persistent.* is looked for in every volume)."""
    if field.startswith("persistent."):
        volumes = ((defn.get("container") or {}) if isinstance(defn.get("container"), dict) else {}).get("volumes")
        return any(isinstance(v, dict) and isinstance(v.get("persistent"), dict)
                   and v["persistent"].get(field.split(".", 1)[1]) is not None for v in volumes or [])
    value = defn
    for part in field.split("."):
        if not isinstance(value, dict) or value.get(part) is None:
            return False
        value = value[part]
    return True


# Keys only Marathon 1.4's hand-written JSON writer sends (1.5+ generate JSON from RAML).
_WRITER_1_4_KEYS = ("storeUrls", "ipAddress", "ports", "uris")


def assumed_from_app(app):
    """The version to plan with before the exact one is known: 1.4 when ``app`` has the shape only
    Marathon 1.4 writes, else the baseline. Good enough to find that nothing differs (old defaults
    left stored count as unchanged on every version); a plan that writes or refuses is made again
    with the version GET /v2/info reports."""
    if isinstance(app, dict) and any(k in app for k in _WRITER_1_4_KEYS):
        return NEWEST_SHIPPED[(1, 4)]
    return BASELINE


def _secret_volumes(defn):
    """Indexes of the volumes of ``defn`` that are file-based secrets."""
    container = defn.get("container") if isinstance(defn.get("container"), dict) else {}
    return [i for i, v in enumerate(container.get("volumes") or []) if isinstance(v, dict) and "secret" in v]


def uses_versioned_fields(defn):
    """Whether ``defn`` sets a field some supported version does not know (so the exact
    version must be known before any request)."""
    return isinstance(defn, dict) and (any(_present(defn, name) for name, _since in FIELDS_SINCE)
                                       or bool(_secret_volumes(defn)))


def unknown_in_version(defn, version, field="definition"):
    """Messages naming the fields of ``defn`` that Marathon ``version`` does not know yet."""
    if not isinstance(defn, dict):
        return []
    problems = []
    for name, since in FIELDS_SINCE:
        if version < since and _present(defn, name):
            shown = "container.volumes[].%s" % name if name.startswith("persistent.") else name
            problems.append("%s.%s needs Marathon %s or newer, and this cluster runs Marathon %s, which drops it "
                            "silently (it would differ on every run); remove it"
                            % (field, shown, version_text(since), version_text(version)))
    if version < SECRET_VOLUMES_SINCE:
        for i in _secret_volumes(defn):
            problems.append("%s.container.volumes[%d] is a file-based secret, which needs Marathon %s or newer; this "
                            "cluster runs Marathon %s, which knows secrets only as environment variables "
                            "(env: {NAME: {secret: <name>}})"
                            % (field, i, version_text(SECRET_VOLUMES_SINCE), version_text(version)))
    return problems


# ---- requests to Marathon 1.4 ---------------------------------------------------------


def networking_problems(defn, field="definition"):
    """Mixed networking forms (Marathon 1.5+ refuses them with 422), in any version."""
    if not isinstance(defn, dict):
        return []
    container = defn.get("container") if isinstance(defn.get("container"), dict) else {}
    docker = container.get("docker") if isinstance(container.get("docker"), dict) else {}
    old = [name for name, given in (("container.docker.network", docker.get("network") is not None),
                                    ("container.docker.portMappings", docker.get("portMappings") is not None),
                                    ("ipAddress", defn.get("ipAddress") is not None)) if given]
    new = [name for name, given in (("networks", bool(defn.get("networks"))),
                                    ("container.portMappings", container.get("portMappings") is not None)) if given]
    if old and new:
        return ["%s.%s and %s.%s are the old and the new networking form; give one (Marathon 1.5 and newer "
                "refuse both, 1.4 reads only the old one)" % (field, old[0], field, new[0])]
    return []


def to_old_networking(body, field="definition"):
    """``body`` in the networking form Marathon 1.4 reads: networks -> container.docker.network
    (and ipAddress for a named network), container.portMappings -> container.docker.portMappings.
    Returns (body, problem); the problem names the field when 1.4 cannot express the definition."""
    networks = body.get("networks")
    if not networks:
        return body, None
    if len(networks) != 1 or not isinstance(networks[0], dict):
        return body, "%s.networks: Marathon 1.4 supports one network per app, got %d" % (field, len(networks))
    network = networks[0]
    mode = network.get("mode") or "container"
    out = dict(body)
    out.pop("networks")
    container = dict(out.get("container") or {})
    mappings = container.pop("portMappings", None)
    docker_type = (container.get("type") or "DOCKER") == "DOCKER" and isinstance(container.get("docker"), dict)
    if mode == "host":
        if docker_type:
            container["docker"] = dict(container["docker"], network="HOST")
    elif not docker_type:
        if mode == "container/bridge" or mappings:
            return body, ("%s.networks: Marathon 1.4 supports %s only for DOCKER containers (it answers \"Mesos "
                          "Containerizer does not support %s\")"
                          % (field, "bridge networking" if mode == "container/bridge" else "port mappings",
                             "network" if mode == "container/bridge" else "portMappings"))
    else:
        docker = dict(container["docker"], network="BRIDGE" if mode == "container/bridge" else "USER")
        if mappings is not None:
            docker["portMappings"] = mappings
        container["docker"] = docker
    if mode == "container":
        ip = {"networkName": network["name"]} if network.get("name") else {}
        if network.get("labels"):
            ip["labels"] = network["labels"]
        out["ipAddress"] = ip
    if container:
        out["container"] = container
    return out, None
