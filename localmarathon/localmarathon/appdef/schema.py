"""Reading a request body as Marathon does: Jackson's JSON parser (400 answers), then the checks of
the Play-JSON readers generated from Marathon's RAML types (422 "Invalid JSON" with the errors per
JSON path).
"""

from __future__ import annotations

import json
import math
import re

from ..errors import ApiError


def _reject_constant(name):
    # Jackson refuses NaN/Infinity literals; Python would accept them.
    raise ValueError(f"Non-standard token '{name}': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow")


def parse_json_body(raw_bytes):
    """Parse a request body like Marathon's Jackson reader."""
    if raw_bytes is None:
        raw_bytes = b""
    if isinstance(raw_bytes, str):
        text = raw_bytes
    else:
        try:
            text = bytes(raw_bytes).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiError(400, {"message": "Invalid JSON", "details": f"Invalid UTF-8 middle byte: {exc.reason}"})
    if text.strip() == "":
        raise ApiError(400, {
            "message": "Please specify data in JSON format",
            "details": "No content to map due to end-of-input\n at [Source: (String)\"\"; line: 1, column: 0]",
        })
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        value = None
        depth = MAX_NESTING_DEPTH + 1
    except ValueError as exc:
        raise ApiError(400, {"message": "Invalid JSON", "details": str(exc)})
    else:
        depth = _nesting_depth(value)
    if depth > MAX_NESTING_DEPTH:
        # Jackson limits nesting too; the limit here keeps the recursive checks within Python's stack
        raise ApiError(400, {"message": "Invalid JSON", "details":
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
# volumes.raml AppVolume: union tried in this order; the last failure is reported.
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


def invalid_json(pairs):
    return ApiError(422, {"message": "Invalid JSON", "details": _grouped(pairs)})


def not_valid(pairs):
    return ApiError(422, {"message": "Object is not valid", "details": _grouped(pairs)})


def check_app_json(raw, update):
    if not isinstance(raw, dict):
        raise invalid_json([("/", "error.expected.jsobject")])
    errors = []
    _check(_APP_UPDATE if update else _APP, raw, "", errors)
    if errors:
        raise invalid_json(errors)


def volume_kind(volume):
    """Which AppVolume alternative a volume is: persistent, external, secret or host."""
    return _VOLUME_KINDS[_union_index(_APP_VOLUME, volume)]
