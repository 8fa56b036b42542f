"""Ports of an app definition: host ports, the ports health checks address by index, and the
service ports Marathon assigns from its local port range."""

from __future__ import annotations

import copy

from ..errors import ApiError


LOCAL_PORT_MIN = 10000
LOCAL_PORT_MAX = 20000


def is_host_networking(app):
    nets = app.get("networks") or [{"mode": "host"}]
    return any(n.get("mode") == "host" for n in nets)


def port_list(app):
    """Ports addressed by portIndex: portMappings if non-empty, else portDefinitions."""
    container = app.get("container") or {}
    mappings = container.get("portMappings")
    if mappings:
        return mappings
    return app.get("portDefinitions") or []


def host_ports(app):
    """AppDefinition.hostPorts: the port numbers of host networking (service ports, as assigned),
    else each port mapping's hostPort (None when absent)."""
    if is_host_networking(app):
        return [pd.get("port", 0) for pd in app.get("portDefinitions") or []]
    return [pm.get("hostPort") for pm in (app.get("container") or {}).get("portMappings") or []]


def resident_host_port_set(old_app, new_app):
    """The set Marathon compares (hostPorts.flatten.toSet), with the new app's unassigned
    service ports (0) resolved the way assign_service_ports would resolve them."""
    new_ports = host_ports(new_app)
    if not is_host_networking(new_app):
        return {p for p in new_ports if p is not None}
    # old zeros (an app whose ports were never assigned) pair with new zeros
    fixed = {p for p in new_ports if p}
    reuse = [p for p in host_ports(old_app) if p not in fixed] if is_host_networking(old_app) else []
    out = set()
    for i, port in enumerate(new_ports):
        if port:
            out.add(port)
        elif reuse:
            out.add(reuse.pop(0))  # the order assign_service_ports uses
        else:
            out.add(-1 - i)  # a fresh port: certainly not one the old app had
    return out


def service_ports(app):
    """The app's service ports (0 = not assigned)."""
    ports = [p.get("port", 0) for p in app.get("portDefinitions") or []]
    ports += [m.get("servicePort", 0) for m in (app.get("container") or {}).get("portMappings") or []]
    return [p for p in ports if p]


def _service_port_slots(app):
    """(list, key) pairs whose 0 values are dynamic service ports."""
    container = app.get("container") or {}
    if container.get("portMappings") and not is_host_networking(app):
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
                raise ApiError(500, {
                    "message": f"All service ports in the range [{LOCAL_PORT_MIN}, {LOCAL_PORT_MAX}] are already in use"})
            port = candidate
        slot[key] = port
        taken.add(port)
    return app
