"""Resident apps (apps with persistent volumes): which apps are resident, and the changes an
existing resident app refuses because its reservations cannot follow them."""

from __future__ import annotations

import json

from .ports import host_ports, resident_host_port_set
from .schema import not_valid


def is_resident(app):
    """1.6+: an app is resident iff it has a persistent volume."""
    return bool(persistent_volumes(app))


def persistent_volumes(app):
    container = app.get("container") or {}
    return [v for v in (container.get("volumes") or []) if isinstance(v, dict) and v.get("persistent") is not None]


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


_OBJECT_LEVEL_MSG = "Resident Tasks may not change resource requirements!"


def validate_resident_update(old_app, new_app, force=False, marathon=None):
    """Refuse the changes an existing resident app cannot follow (deployment-plan validation).
    Before 1.7.174 resource and host-port changes share one object-level message."""
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
    if {p for p in host_ports(old_app) if p is not None} != resident_host_port_set(old_app, new_app):
        pairs.append(("/app(0)/hostPorts", _HOST_PORTS_MSG))
    # 1.9+: reservations keep their role, so a role change must be acknowledged with force
    old_role, new_role = old_app.get("role"), new_app.get("role")
    if is_resident(new_app) and old_role is not None and new_role is not None \
            and old_role != new_role and not force:
        pairs.append(("/role", _role_change_msg(old_role, new_role)))
    if marathon is not None and not marathon.resident_update_per_field_messages:
        per_field = [p for p in pairs if p[1] in (_RESOURCE_MSG, _HOST_PORTS_MSG)]
        pairs = [p for p in pairs if p not in per_field] + ([("/", _OBJECT_LEVEL_MSG)] if per_field else [])
    if pairs:
        raise not_valid(pairs)
