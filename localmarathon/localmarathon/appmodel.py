"""Marathon 1.10 app model: parsing, normalization, validation and output.

Pure functions, no I/O. Section marks (§n) name sections of the project's Marathon API notes;
the rule each states is pinned by a test in localmarathon/tests.

Public interface
----------------
``MarathonApiError(status, body)``
    Raised for every client error; ``.status`` is the HTTP status and ``.body``
    the JSON body exactly as Marathon sends it.
``parse_json_body(raw_bytes) -> object``
    400 "Invalid JSON" / "Please specify data in JSON format" (§2).
``normalize_app(raw, *, path_id, existing, partial, mesos_role="*", enabled_features=frozenset()) -> dict``
    The §4.1 pipeline. Returns the canonical app exactly as GET shows its
    definition part (key order and omission rules of §4.2), without
    ``version``/``versionInfo`` and with unassigned service ports still 0.
    ``existing`` is the stored canonical app (needed for partial updates and
    for the role rules of nested apps).
``validate_version_body(raw) -> str | None``
    For PUT bodies: returns the version of a rollback body
    (``{"version": ...}`` optionally with ``id``), ``None`` for a normal body,
    raises 422 when ``version`` is combined with other fields (§3.1.4).
``validate_resident_update(old_app, new_app, force=False) -> None``
    §8.3 changes refused on an existing resident app (``/app(0)/cpus`` paths);
    works on ``new_app`` before or after ``assign_service_ports``.
``assign_service_ports(app, used_ports, previous=None) -> dict``
    §4.1 step 8: replaces 0 service ports from [10000, 20000], reusing the
    previous version's ports first. Returns a new dict.
``is_resident(app)``, ``persistent_volumes(app)``, ``host_ports(app)``
``canonical_id(raw_id, base="/") -> str`` (§9; raises 422 for bad ids).
``app_for_output(app, version, version_info) -> dict`` inserts ``version`` and
``versionInfo`` at their RAML position (``versionInfo`` omitted when None).
``marathon_timestamp(epoch) -> str`` / ``parse_timestamp(text) -> float`` (§1).
``MAX_NESTING_DEPTH``, ``LOCAL_PORT_MIN``/``LOCAL_PORT_MAX``, ``ID_SEGMENT_PATTERN``.

Conventions of the canonical app: doubles (cpus, mem, disk, backoffFactor,
upgradeStrategy capacities, executorResources, numeric resourceLimits) are
Python floats so ``json.dumps`` prints ``128.0``; empty omit-empty fields
(cmd, args, user, env, constraints, dependencies, fetch, healthChecks,
readinessChecks, secrets, acceptedResourceRoles, container, ...) are absent;
``portDefinitions`` exists only for host networking and
``container.portMappings`` only for container networking. Re-sending the
canonical form is a fixed point except for one Marathon quirk: a health check
stored without ``portIndex`` gets ``portIndex: 0`` when the app (which then
lists its default port) is sent back (§4.1, §4.3).

Role handling (§4.1 step 4, §8.3): ``mesos_role`` is Marathon's
``--mesos_role``. Real Marathon defaults to ``*``, under which resident apps
are refused ("Resident apps cannot have the role *"); DC/OS runs Marathon with
``slave_public``, so a server that wants resident apps to be valid by default
should pass ``mesos_role="slave_public"``.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import math
import re

__all__ = [
    "MarathonApiError",
    "parse_json_body",
    "normalize_app",
    "validate_version_body",
    "validate_resident_update",
    "assign_service_ports",
    "is_resident",
    "persistent_volumes",
    "host_ports",
    "canonical_id",
    "app_for_output",
    "marathon_timestamp",
    "parse_timestamp",
    "LOCAL_PORT_MIN",
    "LOCAL_PORT_MAX",
]

LOCAL_PORT_MIN = 10000
LOCAL_PORT_MAX = 20000


class MarathonApiError(Exception):
    """An error answer: ``status`` and the JSON ``body`` Marathon would send."""

    def __init__(self, status, body):
        self.status = int(status)
        self.body = body
        super().__init__(f"{self.status} {json.dumps(body, separators=(',', ':'))}")


# ---------------------------------------------------------------------------
# JSON parsing (§2)
# ---------------------------------------------------------------------------

def _reject_constant(name):
    # Jackson refuses NaN/Infinity literals; Python would accept them.
    raise ValueError(f"Non-standard token '{name}': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow")


def parse_json_body(raw_bytes):
    """Parse a request body like Marathon's Jackson reader (§2)."""
    if raw_bytes is None:
        raw_bytes = b""
    if isinstance(raw_bytes, str):
        text = raw_bytes
    else:
        try:
            text = bytes(raw_bytes).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MarathonApiError(400, {"message": "Invalid JSON", "details": f"Invalid UTF-8 middle byte: {exc.reason}"})
    if text.strip() == "":
        raise MarathonApiError(400, {
            "message": "Please specify data in JSON format",
            "details": "No content to map due to end-of-input\n at [Source: (String)\"\"; line: 1, column: 0]",
        })
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        value = None
        depth = MAX_NESTING_DEPTH + 1
    except ValueError as exc:
        raise MarathonApiError(400, {"message": "Invalid JSON", "details": str(exc)})
    else:
        depth = _nesting_depth(value)
    if depth > MAX_NESTING_DEPTH:
        # Jackson limits nesting too; the limit here keeps the recursive checks within Python's stack
        raise MarathonApiError(400, {"message": "Invalid JSON", "details":
                                     f"Document nesting depth exceeds the maximum allowed ({MAX_NESTING_DEPTH})"})
    return value


MAX_NESTING_DEPTH = 200


def _finite_float(text):
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"Numeric value ({text}) out of range of double")
    return value


def _nesting_depth(value):
    depth, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            depth = max(depth, level)
            if level > MAX_NESTING_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return depth


# ---------------------------------------------------------------------------
# Timestamps (§1)
# ---------------------------------------------------------------------------

def marathon_timestamp(epoch):
    """Render epoch seconds as ``yyyy-MM-ddTHH:mm:ss.SSSZ`` (UTC, 3 digits)."""
    ms = int(math.floor(float(epoch) * 1000.0 + 1e-6))
    moment = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


_TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$")


def parse_timestamp(text):
    """Parse an ISO-8601 timestamp with offset into epoch seconds (ms precision).

    Raises 422 with Marathon's IllegalArgumentException text for anything else (§1).
    """
    m = _TS_RE.match(text) if isinstance(text, str) else None
    if not m:
        raise MarathonApiError(422, {
            "message": f"Invalid timestamp provided '{text}'. Expecting ISO-8601 datetime string."})
    year, month, day, hour, minute, second, frac, zone = m.groups()
    try:
        if zone == "Z":
            tz = _dt.timezone.utc
        else:
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            tz = _dt.timezone(sign * _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        moment = _dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=tz)
    except ValueError:
        raise MarathonApiError(422, {
            "message": f"Invalid timestamp provided '{text}'. Expecting ISO-8601 datetime string."})
    millis = int((frac or "0").ljust(3, "0")[:3])
    return moment.timestamp() + millis / 1000.0


# ---------------------------------------------------------------------------
# RAML-level checks (§4.1 step 1): Play JSON reader errors, 422 "Invalid JSON"
# ---------------------------------------------------------------------------

class _T:
    """A RAML type node used for the Play-style reader checks."""

    def __init__(self, kind, **kw):
        self.kind = kind
        self.kw = kw


def _str(**kw):
    return _T("string", **kw)


def _int(**kw):
    return _T("int", **kw)


def _long(**kw):
    return _T("long", **kw)


def _num(**kw):
    return _T("number", **kw)


def _bool():
    return _T("bool")


def _arr(items, **kw):
    return _T("array", items=items, **kw)


def _obj(*props):
    # props: (name, type, required)
    return _T("object", props=props)


def _map(values):
    return _T("map", values=values)


def _union(*alts):
    return _T("union", alts=alts)


# stringTypes.raml
_PATH_ID_RAML = r"^(\/?((\.\.)|(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9]))?($|\/))+$"
_LEGACY_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_NAME = _str(pattern=_LEGACY_NAME, minLength=1, maxLength=63)
_NETWORK_NAME = _str(pattern=r"^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$", minLength=1, maxLength=63)
_PATH_ID = _str(pattern=_PATH_ID_RAML, minLength=1)
_ANY_PORT = _int(minimum=0, maximum=65535)
_NET_PROTOCOL = _str(enum=("tcp", "udp", "udp,tcp"))
_KV_LABELS = _map(_str())
_URI = _str(minLength=1, maxLength=1024)
_PATH = _str(minLength=1, maxLength=1024)

_PORT_DEFINITION = _obj(
    ("port", _ANY_PORT, False),
    ("labels", _KV_LABELS, False),
    ("name", _str(pattern=_LEGACY_NAME, minLength=1), False),
    ("protocol", _NET_PROTOCOL, False),
)
_PORT_MAPPING = _obj(
    ("containerPort", _ANY_PORT, False),
    ("hostPort", _ANY_PORT, False),
    ("labels", _KV_LABELS, False),
    ("name", _str(pattern=_LEGACY_NAME, minLength=1), False),
    ("protocol", _NET_PROTOCOL, False),
    ("servicePort", _ANY_PORT, False),
    ("networkNames", _arr(_NAME), False),
)
_DOCKER = _obj(
    ("credential", _obj(("principal", _str(), True), ("secret", _str(), False)), False),
    ("pullConfig", _obj(("secret", _str(minLength=1), True)), False),
    ("forcePullImage", _bool(), False),
    ("image", _str(minLength=1), True),
    ("network", _str(enum=("BRIDGE", "HOST", "NONE", "USER")), False),
    ("parameters", _arr(_obj(("key", _str(minLength=1), True), ("value", _str(), True))), False),
    ("portMappings", _arr(_PORT_MAPPING), False),
    ("privileged", _bool(), False),
)
_LINUX_INFO = _obj(
    ("seccomp", _obj(("profileName", _str(), False), ("unconfined", _bool(), False)), False),
    ("ipcInfo", _obj(("mode", _str(enum=("PRIVATE", "SHARE_PARENT")), True),
                     ("shmSize", _int(), False)), False),
)
_VOLUME_CONSTRAINT = _arr(_str(), minItems=2, maxItems=3)
_READ_MODE = _str(enum=("RO", "RW"))
_PERSISTENT_INFO = _obj(
    ("type", _str(enum=("root", "path", "mount")), False),
    ("size", _long(minimum=0), True),
    ("maxSize", _long(minimum=0), False),
    ("profileName", _str(), False),
    ("constraints", _arr(_VOLUME_CONSTRAINT), False),
)
_EXTERNAL_INFO = _obj(
    ("size", _long(minimum=0), False),
    ("name", _str(), False),
    ("provider", _str(), False),
    ("options", _KV_LABELS, False),
    ("shared", _bool(), False),
)
# volumes.raml AppVolume: union tried in this order; the last failure is reported (§8.2).
_VOLUME_KINDS = ("persistent", "external", "secret", "host")
_APP_VOLUME = _union(
    _obj(("containerPath", _str(minLength=1), True), ("persistent", _PERSISTENT_INFO, True), ("mode", _READ_MODE, True)),
    _obj(("containerPath", _str(minLength=1), True), ("external", _EXTERNAL_INFO, True), ("mode", _READ_MODE, True)),
    _obj(("containerPath", _str(minLength=1), True), ("secret", _str(minLength=1), True)),
    _obj(("containerPath", _str(minLength=1), True), ("hostPath", _str(minLength=1), True), ("mode", _READ_MODE, True)),
)
_CONTAINER = _obj(
    ("type", _str(enum=("MESOS", "DOCKER")), False),
    ("docker", _DOCKER, False),
    ("linuxInfo", _LINUX_INFO, False),
    ("volumes", _arr(_APP_VOLUME), False),
    ("portMappings", _arr(_PORT_MAPPING), False),
)
_HEALTH_CHECK = _obj(
    ("command", _obj(("value", _str(), True)), False),
    ("gracePeriodSeconds", _int(minimum=0), False),
    ("ignoreHttp1xx", _bool(), False),
    ("intervalSeconds", _int(minimum=0), False),
    ("maxConsecutiveFailures", _int(minimum=0), False),
    ("path", _str(), False),
    ("port", _ANY_PORT, False),
    ("portIndex", _ANY_PORT, False),
    ("protocol", _str(enum=("HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_TCP", "MESOS_HTTP", "MESOS_HTTPS")), False),
    ("ipProtocol", _str(enum=("IPv4", "IPv6")), False),
    ("timeoutSeconds", _int(), False),
    ("delaySeconds", _int(minimum=0), False),
)
_MESOS_COMMAND = _union(
    _obj(("shell", _str(minLength=1), True)),
    _obj(("argv", _arr(_str(), minItems=1), True)),
)
_APP_CHECK = _obj(
    ("http", _obj(("portIndex", _ANY_PORT, False), ("port", _ANY_PORT, False), ("path", _PATH, False),
                  ("scheme", _str(enum=("HTTP", "HTTPS")), False)), False),
    ("tcp", _obj(("portIndex", _ANY_PORT, False), ("port", _ANY_PORT, False)), False),
    ("exec", _obj(("command", _MESOS_COMMAND, True)), False),
    ("intervalSeconds", _int(minimum=0), False),
    ("timeoutSeconds", _int(minimum=0), False),
    ("delaySeconds", _int(minimum=0), False),
)
_READINESS_CHECK = _obj(
    ("name", _str(minLength=1), False),
    ("protocol", _str(enum=("HTTP", "HTTPS")), False),
    ("path", _str(minLength=1, maxLength=1024), False),
    ("portName", _str(pattern=_LEGACY_NAME, minLength=1), False),
    ("intervalSeconds", _int(minimum=0), False),
    ("timeoutSeconds", _int(minimum=1), False),
    ("httpStatusCodesForReady", _arr(_int(minimum=100, maximum=999), minItems=1), False),
    ("preserveLastResponse", _bool(), False),
)
_NETWORK = _obj(
    ("name", _NETWORK_NAME, False),
    ("mode", _str(enum=("container", "container/bridge", "host")), False),
    ("labels", _KV_LABELS, False),
)
_IP_ADDRESS = _obj(
    ("discovery", _obj(("ports", _arr(_obj(
        ("number", _ANY_PORT, False),
        ("name", _str(pattern=_LEGACY_NAME, minLength=1), True),
        ("protocol", _NET_PROTOCOL, False),
        ("labels", _KV_LABELS, False),
    )), False)), False),
    ("groups", _arr(_str()), False),
    ("labels", _KV_LABELS, False),
    ("networkName", _str(minLength=1), False),
)
_RESOURCE_LIMIT = _union(_str(enum=("unlimited",)), _num())
_APP_FIELDS = (
    ("id", _PATH_ID, True),
    ("acceptedResourceRoles", _arr(_str()), False),
    ("args", _arr(_str()), False),
    ("backoffFactor", _num(minimum=1.0), False),
    ("backoffSeconds", _int(minimum=0), False),
    ("cmd", _str(minLength=1), False),
    ("constraints", _arr(_arr(_str(), minItems=2, maxItems=3)), False),
    ("container", _CONTAINER, False),
    ("cpus", _num(minimum=0.001), False),
    ("dependencies", _arr(_PATH_ID), False),
    ("disk", _num(minimum=0), False),
    ("env", _map(_union(_str(), _obj(("secret", _str(), True)))), False),
    ("executor", _str(pattern=r"^(//cmd)|(/?[^/]+(/[^/]+)*)|$"), False),
    ("executorResources", _obj(("cpus", _num(minimum=0.1), False), ("mem", _num(minimum=32), False),
                               ("disk", _num(minimum=10.0), False)), False),
    ("fetch", _arr(_obj(("uri", _URI, True), ("extract", _bool(), False), ("executable", _bool(), False),
                        ("cache", _bool(), False), ("destPath", _PATH, False))), False),
    ("healthChecks", _arr(_HEALTH_CHECK), False),
    ("check", _APP_CHECK, False),
    ("instances", _int(minimum=0), False),
    ("labels", _KV_LABELS, False),
    ("maxLaunchDelaySeconds", _int(minimum=0), False),
    ("mem", _num(minimum=0), False),
    ("gpus", _int(minimum=0), False),
    ("ipAddress", _IP_ADDRESS, False),
    ("networks", _arr(_NETWORK), False),
    ("ports", _arr(_ANY_PORT), False),
    ("portDefinitions", _arr(_PORT_DEFINITION), False),
    ("readinessChecks", _arr(_READINESS_CHECK), False),
    ("residency", _obj(("relaunchEscalationTimeoutSeconds", _long(minimum=0), False),
                       ("taskLostBehavior", _str(enum=("WAIT_FOREVER", "RELAUNCH_AFTER_TIMEOUT")), False)), False),
    ("resourceLimits", _obj(("cpus", _RESOURCE_LIMIT, False), ("mem", _RESOURCE_LIMIT, False)), False),
    ("requirePorts", _bool(), False),
    ("secrets", _map(_obj(("source", _str(minLength=1), True))), False),
    ("taskKillGracePeriodSeconds", _int(minimum=0), False),
    # both capacities are required properties of the RAML UpgradeStrategy type
    ("upgradeStrategy", _obj(("maximumOverCapacity", _num(minimum=0.0, maximum=1.0), True),
                             ("minimumHealthCapacity", _num(minimum=0.0, maximum=1.0), True)), False),
    ("uris", _arr(_URI), False),
    ("user", _str(), False),
    ("version", _str(), False),
    ("killSelection", _str(enum=("YOUNGEST_FIRST", "OLDEST_FIRST")), False),
    ("unreachableStrategy", _union(
        _str(enum=("disabled",)),
        _obj(("inactiveAfterSeconds", _long(minimum=0), False), ("expungeAfterSeconds", _long(minimum=0), False))), False),
    ("tty", _bool(), False),
    ("role", _str(minLength=1), False),
)
_APP = _obj(*_APP_FIELDS)
# The AppUpdate type (PUT/PATCH bodies) has the same fields, all optional.
_APP_UPDATE = _obj(*((n, t, False) for n, t, _ in _APP_FIELDS))

_INT32 = (-(2 ** 31), 2 ** 31 - 1)
_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check(t, value, path, errors):
    """Append (path, error) pairs the generated Play readers would produce."""
    k = t.kind
    kw = t.kw
    if k == "string":
        if not isinstance(value, str):
            errors.append((path, "error.expected.jsstring"))
            return
        if "enum" in kw and value not in kw["enum"]:
            errors.append((path, "error.unknown.enum.literal"))
            return
        if "minLength" in kw and len(value) < kw["minLength"]:
            errors.append((path, "error.minLength"))
        if "maxLength" in kw and len(value) > kw["maxLength"]:
            errors.append((path, "error.maxLength"))
        if "pattern" in kw and not re.fullmatch(kw["pattern"], value):
            errors.append((path, "error.pattern"))
        return
    if k in ("int", "long"):
        if not _is_number(value):
            errors.append((path, "error.expected.jsnumber"))
            return
        lo, hi = _INT32 if k == "int" else _INT64
        if isinstance(value, float) and (not value.is_integer()) or not (lo <= value <= hi):
            errors.append((path, "error.expected.int" if k == "int" else "error.expected.long"))
            return
        _check_range(kw, value, path, errors)
        return
    if k == "number":
        if not _is_number(value):
            errors.append((path, "error.expected.jsnumber"))
            return
        _check_range(kw, value, path, errors)
        return
    if k == "bool":
        if not isinstance(value, bool):
            errors.append((path, "error.expected.jsboolean"))
        return
    if k == "array":
        if not isinstance(value, list):
            errors.append((path, "error.expected.jsarray"))
            return
        for i, item in enumerate(value):
            _check(kw["items"], item, f"{path}({i})", errors)
        if "minItems" in kw and len(value) < kw["minItems"]:
            errors.append((path, "error.minLength"))
        if "maxItems" in kw and len(value) > kw["maxItems"]:
            errors.append((path, "error.maxLength"))
        return
    if k == "map":
        if not isinstance(value, dict):
            errors.append((path, "error.expected.jsobject"))
            return
        for key, item in value.items():
            _check(kw["values"], item, f"{path}/{key}", errors)
        return
    if k == "object":
        if not isinstance(value, dict):
            errors.append((path, "error.expected.jsobject"))
            return
        for name, sub, required in kw["props"]:
            if name not in value:
                if required:
                    # Play: (json \ "name").validate on an undefined lookup.
                    errors.append((f"{path}/{name}", f"'{name}' is undefined on object: {_compact(value)}"))
                continue
            if value[name] is None and not required:
                continue  # validateOpt: null reads as absent
            _check(sub, value[name], f"{path}/{name}", errors)
        return
    if k == "union":
        last = []
        for alt in kw["alts"]:
            last = []
            _check(alt, value, path, last)
            if not last:
                return
        errors.extend(last)  # Play's orElse keeps the last alternative's errors
        return
    raise AssertionError(f"unknown RAML node {k}")


def _check_range(kw, value, path, errors):
    if "minimum" in kw and value < kw["minimum"]:
        errors.append((path, "error.min"))
    if "maximum" in kw and value > kw["maximum"]:
        errors.append((path, "error.max"))


def _union_index(t, value):
    for i, alt in enumerate(t.kw["alts"]):
        errs = []
        _check(alt, value, "", errs)
        if not errs:
            return i
    return None


def _grouped(pairs):
    details = []
    index = {}
    for path, err in pairs:
        path = path or "/"
        if path not in index:
            index[path] = {"path": path, "errors": []}
            details.append(index[path])
        if err not in index[path]["errors"]:
            index[path]["errors"].append(err)
    return details


def _invalid_json(pairs):
    return MarathonApiError(422, {"message": "Invalid JSON", "details": _grouped(pairs)})


def _not_valid(pairs):
    return MarathonApiError(422, {"message": "Object is not valid", "details": _grouped(pairs)})


# ---------------------------------------------------------------------------
# Ids (§9)
# ---------------------------------------------------------------------------

ID_SEGMENT_PATTERN = r"^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|(\.|\.\.)$"
_ID_SEGMENT_RE = re.compile(ID_SEGMENT_PATTERN)
_RESERVED_ENDINGS = ("restart", "tasks", "versions", ".", "..")
_RESERVED_MSG = "must not end with any of the following reserved keywords: restart, tasks, versions, ., .."


def _split_id(raw_id):
    return [s for s in raw_id.split("/") if s != ""]


def _resolve(segments, base_segments):
    out = list(base_segments)
    for seg in segments:
        if seg == ".":
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    return out


def _id_violations(raw_id, path="/id"):
    """Semantic id checks of §9 on the id as written (before . / .. are resolved)."""
    problems = []
    segments = _split_id(raw_id)
    for seg in segments:
        # Java's String.matches: the whole segment must match the alternation.
        if not _ID_SEGMENT_RE.fullmatch(seg):
            problems.append((path, f"must fully match regular expression '{ID_SEGMENT_PATTERN}'"))
            break
    if segments and segments[-1] in _RESERVED_ENDINGS[:3]:
        problems.append((path, _RESERVED_MSG))
    return problems


def canonical_id(raw_id, base="/"):
    """Absolute, canonical form of an app id (§9): '/a/b', relative ids resolved against base.

    Raises 422 "Object is not valid" for ids Marathon refuses (bad segment,
    reserved ending, root).
    """
    if not isinstance(raw_id, str):
        raise _not_valid([("/id", "error.expected.jsstring")])
    problems = _id_violations(raw_id)
    base_segments = [] if raw_id.startswith("/") else _split_id(base)
    segments = _resolve(_split_id(raw_id), base_segments)
    if not segments:
        problems.append(("/id", "Path must contain at least one path element"))
        problems.append(("/", "must not be root"))
    if problems:
        raise _not_valid(problems)
    return "/" + "/".join(segments)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

def _f(v):
    return float(v)


def _i(v):
    return int(v)


def _fmt_num(v):
    """Render a number like Scala's toString of the model type (Double → 1.0)."""
    if isinstance(v, float):
        return repr(v) if not v.is_integer() else f"{v:.1f}"
    return str(v)


_ARCHIVE_SUFFIXES = (".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip")

_DOCKER_NETWORK_MODES = {"BRIDGE": "container/bridge", "USER": "container", "HOST": "host"}
# --mesos_bridge_name default: an ipAddress naming it asks for bridge networking
MESOS_BRIDGE_NAME = "mesos-bridge"


def is_resident(app):
    """1.6+: an app is resident iff it has a persistent volume (§8.1)."""
    return bool(persistent_volumes(app))


def persistent_volumes(app):
    container = app.get("container") or {}
    return [v for v in (container.get("volumes") or []) if isinstance(v, dict) and v.get("persistent") is not None]


def _is_host_networking(app):
    nets = app.get("networks") or [{"mode": "host"}]
    return any(n.get("mode") == "host" for n in nets)


def _port_list(app):
    """Ports addressed by portIndex: portMappings if non-empty, else portDefinitions."""
    container = app.get("container") or {}
    mappings = container.get("portMappings")
    if mappings:
        return mappings
    return app.get("portDefinitions") or []


def host_ports(app):
    """AppDefinition.hostPorts: the port numbers of host networking (service ports, as assigned),
    else each port mapping's hostPort (None when absent)."""
    if _is_host_networking(app):
        return [pd.get("port", 0) for pd in app.get("portDefinitions") or []]
    return [pm.get("hostPort") for pm in (app.get("container") or {}).get("portMappings") or []]


def _resident_host_port_set(old_app, new_app):
    """The set Marathon compares (hostPorts.flatten.toSet), with the new app's unassigned
    service ports (0) resolved the way assign_service_ports would resolve them."""
    new_ports = host_ports(new_app)
    if not _is_host_networking(new_app):
        return {p for p in new_ports if p is not None}
    # old zeros (an app whose ports were never assigned) pair with new zeros
    fixed = {p for p in new_ports if p}
    reuse = [p for p in host_ports(old_app) if p not in fixed] if _is_host_networking(old_app) else []
    out = set()
    for i, port in enumerate(new_ports):
        if port:
            out.add(port)
        elif reuse:
            out.add(reuse.pop(0))  # the order assign_service_ports uses
        else:
            out.add(-1 - i)  # a fresh port: certainly not one the old app had
    return out


# ---------------------------------------------------------------------------
# Normalization (§4.1) and canonical output shapes (§4.2)
# ---------------------------------------------------------------------------

def _strip_nulls(value):
    """Optional fields set to null read as absent (Play validateOpt), at every depth.

    Only called after the RAML check, which already refused nulls in required fields.
    """
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def _validate_old_api(app, pairs, update):
    """AppValidation.validateOldAppAPI / validateOldAppUpdateAPI (§4.1 step 2), on the request as sent."""
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


class _NormalizationError(Exception):
    """Marathon's NormalizationException: answered as 422 {"message": ...}."""


def _network_translation(ip, docker_network, networks):
    """NetworkTranslation of AppNormalization (§4.1 step 3): deprecated fields → networks."""
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
    """Add portIndex 0 to non-COMMAND checks that name no port (backwards compatibility, §4.1)."""
    out = []
    for hc in checks:
        hc = dict(hc)
        if hc.get("protocol", "HTTP") != "COMMAND" and hc.get("port") is None and hc.get("portIndex") is None:
            hc["portIndex"] = 0
        out.append(hc)
    return out


def _readiness_with_default_codes(checks):
    return [dict(rc, httpStatusCodesForReady=rc.get("httpStatusCodesForReady") or [200]) for rc in checks]


def _fetch_from_uris(uris, fetch):
    if uris and not fetch:
        return [{"uri": u, "extract": u.endswith(_ARCHIVE_SUFFIXES), "executable": False, "cache": False}
                for u in uris]
    if uris and fetch:
        raise _NormalizationError("cannot specify both uris and fetch fields")
    return fetch


def _has_non_host(networks):
    return any(n.get("mode", "container") != "host" for n in networks or [])


def _migrate_full(app):
    """AppNormalization.forDeprecated for a full App (§4.1 step 3). Returns a new dict."""
    app = copy.deepcopy(app)
    uris = app.pop("uris", None)
    fetch = _fetch_from_uris(uris, app.get("fetch"))
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
            container["portMappings"] = [{"containerPort": 0, "name": "default"}]
        if non_host and migrated is not None:
            missing = len(migrated) - len(container["portMappings"])
            if missing > 0:
                container["portMappings"] = list(container["portMappings"]) + [{} for _ in range(missing)]
        app["container"] = container

    # For a full App the portIndex default applies only when the request itself listed port
    # definitions (not `ports`) or the container ends up with port mappings.
    if app.get("healthChecks") and (raw_port_definitions or (container is not None
                                                            and container.get("portMappings") is not None)):
        app["healthChecks"] = _health_checks_with_port_index(app["healthChecks"])
    if app.get("readinessChecks"):
        app["readinessChecks"] = _readiness_with_default_codes(app["readinessChecks"])
    return app


def _migrate_update(update):
    """AppNormalization.forDeprecatedUpdates + forUpdates for an AppUpdate body."""
    update = copy.deepcopy(update)
    uris = update.pop("uris", None)
    fetch = _fetch_from_uris(uris, update.get("fetch"))
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
        out["hostPort"] = 0  # §4.1: bridge mode defaults a missing hostPort to 0
    out["labels"] = dict(pm.get("labels") or {})
    if pm.get("name") is not None:
        out["name"] = pm["name"]
    out["protocol"] = pm.get("protocol") or "tcp"
    out["servicePort"] = _i(pm.get("servicePort", 0))
    if pm.get("networkNames"):
        out["networkNames"] = list(pm["networkNames"])
    return out


def _canon_volume(v):
    kind_index = _union_index(_APP_VOLUME, v)
    kind = _VOLUME_KINDS[kind_index]
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
    """Per-protocol output of HealthCheckConversion (§7)."""
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


# ---------------------------------------------------------------------------
# Semantic validation (§4.1 steps 5 and 7)
# ---------------------------------------------------------------------------

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


def _validate_app(app, pairs, *, raw_cmd, valid_roles, features, explicit_upgrade):
    """Canonical + model validation on the canonical app (§2, §4.1, §7, §8, §9)."""
    container = app.get("container")
    networks = app["networks"]

    # §9 and "must not be root" are checked on the id by the caller.
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
                if "secrets" not in features:
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

    # health checks (§7)
    indices = len(_port_list(app))
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
    port_names = {p["name"] for p in _port_list(app) if "name" in p}
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
        bad = [r for r in arr if r not in ("*", app["role"])]
        if bad and not resident:
            pairs.append(("/acceptedResourceRoles",
                          f"acceptedResourceRoles can only contain * and {app['role']}"))

    # role (§4.1 step 4, §8.3)
    if app["role"] not in valid_roles:
        pairs.append(("/role", f"got {app['role']}, expected one of: [{', '.join(sorted(valid_roles))}]"))
    if resident and app["role"] == "*":
        pairs.append(("/role", "Resident apps cannot have the role *"))

    # resident rules (§8.3); the upgradeStrategy rules only judge a strategy the request carried
    # (the resident default {0.5, 0} is valid anyway)
    us = app["upgradeStrategy"]
    if resident and explicit_upgrade and us["maximumOverCapacity"] != 0.0:
        pairs.append(("/upgradeStrategy/maximumOverCapacity", f"got {_fmt_num(us['maximumOverCapacity'])}, expected 0.0"))
    if resident and app["unreachableStrategy"] != "disabled":
        pairs.append(("/", "unreachableStrategy must be disabled for resident tasks"))
    if (app.get("labels") or {}).get("MARATHON_SINGLE_INSTANCE_APP") == "true":
        if app["instances"] > 1:
            pairs.append(("/", "Single instance app may only have one instance"))
        if explicit_upgrade:
            for key in ("minimumHealthCapacity", "maximumOverCapacity"):
                if us[key] != 0.0:
                    pairs.append((f"/upgradeStrategy/{key}", f"got {_fmt_num(us[key])}, expected 0.0"))

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
        for p, msg in _id_violations(dep, f"/dependencies({i})"):
            pairs.append((p, msg))


_OUTPUT_ORDER = (
    "id", "acceptedResourceRoles", "args", "backoffFactor", "backoffSeconds", "cmd", "constraints",
    "container", "cpus", "dependencies", "disk", "env", "executor", "executorResources", "fetch",
    "healthChecks", "check", "instances", "labels", "maxLaunchDelaySeconds", "mem", "gpus", "networks",
    "portDefinitions", "readinessChecks", "residency", "resourceLimits", "requirePorts", "secrets",
    "taskKillGracePeriodSeconds", "upgradeStrategy", "user", "version", "versionInfo", "killSelection",
    "unreachableStrategy", "tty", "role",
)


def _build_canonical(a, app_id, mesos_role):
    """Defaults (§4.2) and the canonical key order/omission rules; no validation."""
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
    if a.get("acceptedResourceRoles"):
        out["acceptedResourceRoles"] = list(dict.fromkeys(a["acceptedResourceRoles"]))
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
            resolved = "/" + "/".join(_resolve(_split_id(d), []))
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
    out["maxLaunchDelaySeconds"] = _i(a.get("maxLaunchDelaySeconds", 300))
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
    # §4.1 step 5: requirePorts is forced false for non-host networking
    out["requirePorts"] = bool(a.get("requirePorts", False)) if host else False
    if a.get("secrets"):
        out["secrets"] = {k: {"source": v["source"]} for k, v in a["secrets"].items()}
    if a.get("taskKillGracePeriodSeconds") is not None:
        out["taskKillGracePeriodSeconds"] = _i(a["taskKillGracePeriodSeconds"])
    # §4.1 step 6: resident (and external-volume) apps default to {0.5, 0}
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
    if un is None:
        out["unreachableStrategy"] = "disabled" if resident else {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}
    elif isinstance(un, str):
        out["unreachableStrategy"] = un
    else:
        out["unreachableStrategy"] = {"inactiveAfterSeconds": _i(un.get("inactiveAfterSeconds", 0)),
                                      "expungeAfterSeconds": _i(un.get("expungeAfterSeconds", 0))}
    if a.get("tty") is not None:
        out["tty"] = bool(a["tty"])
    out["role"] = a.get("role") or mesos_role
    return out


def _valid_roles(app_id, mesos_role, existing):
    """RoleSettings.forService without enforced group roles (§4.1 step 4)."""
    segments = _split_id(app_id)
    if len(segments) <= 1:
        return {mesos_role}
    roles = {mesos_role, segments[0]}
    if existing and existing.get("role"):
        roles.add(existing["role"])
    return roles


def _raml_check(raw, update):
    if not isinstance(raw, dict):
        raise _invalid_json([("/", "error.expected.jsobject")])
    errors = []
    _check(_APP_UPDATE if update else _APP, raw, "", errors)
    if errors:
        raise _invalid_json(errors)


def _resolve_app_id(body_id, path_id, pairs):
    raw = path_id if path_id is not None else body_id
    problems = _id_violations(raw)
    pairs.extend(problems)
    segments = _resolve(_split_id(raw), [])
    if not segments:
        pairs.append(("/id", "Path must contain at least one path element"))
        pairs.append(("/", "must not be root"))
        return "/"
    return "/" + "/".join(segments)


def normalize_app(raw, *, path_id=None, existing=None, partial=False, mesos_role="*",
                  enabled_features=frozenset()):
    """Run the §4.1 pipeline on a request body; return the canonical app.

    path_id: id from the URL (PUT/PATCH) — it wins over any id in the body,
        and the body is then read as an AppUpdate (no required id).
    existing: the stored canonical app (or None).
    partial: PUT partialUpdate=true / PATCH (merged onto ``existing``; a
        missing ``existing`` means the PUT creates the app from the body).
    mesos_role: Marathon's --mesos_role (role default and valid roles).
    enabled_features: Marathon's --enable_features (secrets, gpu_resources,
        external_volumes).
    """
    features = frozenset(enabled_features)
    update_body = path_id is not None
    _raml_check(raw, update=update_body)
    body = _strip_nulls(raw)
    pairs = []
    merging = partial and existing is not None
    _validate_old_api(body, pairs, update=merging)
    if pairs:
        raise _not_valid(pairs)
    try:
        if merging:
            update = _migrate_update(body)
            source = _merge_update(existing, update)
            body_id = existing.get("id")
        else:
            source = _migrate_full(body)
            body_id = body.get("id")
    except _NormalizationError as exc:
        raise MarathonApiError(422, {"message": str(exc)})
    source.pop("version", None)  # read-only; silently ignored (§3.1.4)

    app_id = _resolve_app_id(body_id, path_id, pairs)
    if pairs:
        raise _not_valid(pairs)
    # Only reachable through updates: a full App has these dropped during migration.
    networks = source.get("networks") or [{"mode": "host"}]
    if _has_non_host(networks) and source.get("portDefinitions"):
        pairs.append(("/", "portDefinitions are only allowed with host-networking"))
    if any(n.get("mode", "container") == "host" for n in networks) \
            and ((source.get("container") or {}).get("portMappings")):
        pairs.append(("/", "portMappings are not allowed with host-networking"))
    app = _build_canonical(source, app_id, mesos_role)
    _validate_app(app, pairs, raw_cmd=source.get("cmd"), valid_roles=_valid_roles(app_id, mesos_role, existing),
                  features=features, explicit_upgrade=source.get("upgradeStrategy") is not None)
    if pairs:
        raise _not_valid(pairs)
    return app


def _merge_update(existing, update):
    """appUpdateRamlReader: each top-level field of the update replaces the stored one (§3.1.4)."""
    merged = copy.deepcopy(existing)
    for key, value in update.items():
        if key in ("id", "version", "versionInfo"):
            continue
        merged[key] = copy.deepcopy(value)
    # Quirk (§3.1.4): executorResources / resourceLimits are taken from the update only.
    for key in ("executorResources", "resourceLimits"):
        if key not in update:
            merged.pop(key, None)
    return merged


def validate_version_body(raw):
    """Rollback body check (§3.1.4): returns the version or None; 422 if mixed with other fields."""
    if not isinstance(raw, dict) or raw.get("version") is None:
        return None
    others = [k for k, v in raw.items() if k not in ("id", "version") and v is not None]
    if others:
        raise _not_valid([("/", "The 'version' field may only be combined with the 'id' field.")])
    if not isinstance(raw["version"], str):
        raise _invalid_json([("/version", "error.expected.jsstring")])
    return raw["version"]


# ---------------------------------------------------------------------------
# Resident update rules (§8.3)
# ---------------------------------------------------------------------------

_RESOURCE_MSG = ("Services with persistent volumes configured may not change resource requirements. "
                 "If you need to make this change, please create a new service.")
_HOST_PORTS_MSG = ("Services with persistent volumes configured may not change host ports. "
                   "If you need to make this change, please create a new service.")


def _role_change_msg(old_role, new_role):
    return ("It is not possible to change the role for existing reservations. If you proceed with this change, "
            f"all existing instances will continue to run under the previous role, \"{old_role}\". Only new "
            f"instances will be allocated with the new role, \"{new_role}\". In order to continue, retry your "
            "request with ?force=true")


def _volume_key(v):
    return json.dumps(v, sort_keys=True)


def validate_resident_update(old_app, new_app, force=False):
    """Refuse the §8.3 changes of an existing resident app (deployment-plan validation)."""
    if old_app is None or new_app is None:
        return
    if not (is_resident(old_app) or is_resident(new_app)):
        return
    pairs = []
    old_vols = {_volume_key(v) for v in persistent_volumes(old_app)}
    new_vols = {_volume_key(v) for v in persistent_volumes(new_app)}
    if old_vols != new_vols or len(persistent_volumes(old_app)) != len(persistent_volumes(new_app)):
        pairs.append(("/", "Persistent volumes can not be changed!"))
    # residentUpdateIsValid runs when either side is resident, so the resource rules apply too.
    for key, default in (("cpus", 1.0), ("mem", 128.0), ("disk", 0.0), ("gpus", 0), ("requirePorts", False)):
        if old_app.get(key, default) != new_app.get(key, default):
            pairs.append((f"/app(0)/{key}", _RESOURCE_MSG))
    if {p for p in host_ports(old_app) if p is not None} != _resident_host_port_set(old_app, new_app):
        pairs.append(("/app(0)/hostPorts", _HOST_PORTS_MSG))
    # 1.9+: reservations keep their role, so a role change must be acknowledged with force
    old_role, new_role = old_app.get("role"), new_app.get("role")
    if is_resident(new_app) and old_role is not None and new_role is not None \
            and old_role != new_role and not force:
        pairs.append(("/role", _role_change_msg(old_role, new_role)))
    if pairs:
        raise _not_valid(pairs)


# ---------------------------------------------------------------------------
# Service ports (§4.1 step 8)
# ---------------------------------------------------------------------------

def service_ports(app):
    """The app's service ports (0 = not assigned)."""
    ports = [p.get("port", 0) for p in app.get("portDefinitions") or []]
    ports += [m.get("servicePort", 0) for m in (app.get("container") or {}).get("portMappings") or []]
    return [p for p in ports if p]


def _service_port_slots(app):
    """(list, key) pairs whose 0 values are dynamic service ports."""
    container = app.get("container") or {}
    if container.get("portMappings") and not _is_host_networking(app):
        return container["portMappings"], "servicePort"
    return app.get("portDefinitions") or [], "port"


def assign_service_ports(app, used_ports, previous=None):
    """Replace 0 service ports with free ports from [10000, 20000], reusing ``previous``'s first."""
    app = copy.deepcopy(app)
    slots, key = _service_port_slots(app)
    taken = set(used_ports or ()) | {s.get(key, 0) for s in slots if s.get(key, 0)}
    reuse = []
    if previous is not None:
        prev_slots, prev_key = _service_port_slots(previous)
        reuse = [s.get(prev_key, 0) for s in prev_slots if s.get(prev_key, 0)]
        reuse = [p for p in reuse if p not in taken]
    candidate = LOCAL_PORT_MIN
    for slot in slots:
        if slot.get(key, 0) != 0:
            continue
        if reuse:
            port = reuse.pop(0)
        else:
            while candidate <= LOCAL_PORT_MAX and candidate in taken:
                candidate += 1
            if candidate > LOCAL_PORT_MAX:
                raise MarathonApiError(500, {
                    "message": f"All service ports in the range [{LOCAL_PORT_MIN}, {LOCAL_PORT_MAX}] are already in use"})
            port = candidate
        slot[key] = port
        taken.add(port)
    return app


# ---------------------------------------------------------------------------
# Output (§4.2)
# ---------------------------------------------------------------------------

def app_for_output(app, version, version_info):
    """Canonical app + version fields, keys in RAML property order (§4.4)."""
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
    return out
