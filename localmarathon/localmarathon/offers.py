"""Agent resources and offer matching (Mesos offers, Marathon's offer matcher).

Every agent offers its resources (``--agent-resources cpus=..,mem=..,disk=..,ports=A-B[,gpus=..][,role=..]``)
minus what its tasks use and what resident instances have reserved on it. An instance that needs a
launch is matched against the offer of every agent; an offer that does not fit is declined with
Marathon's NoOfferMatchReason values, and the launch queue shows them in ``processedOffersSummary``.

Marathon checks an offer in a fixed order (``OfferMatchStatistics``) and the summaries form a funnel:
``processed`` is the number of offers that reached a step, ``declined`` those the step declined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Marathon 1.10's funnel order of NoOfferMatchReason (rejectSummary* lists every step, 0 included).
REASON_ORDER = ("UnfulfilledRole", "UnfulfilledConstraint", "NoCorrespondingReservationFound", "AgentMaintenance",
                "InsufficientCpus", "InsufficientMemory", "InsufficientDisk", "InsufficientGpus", "InsufficientPorts",
                "DeclinedScarceResources")

# Defaults of a typical DC/OS private agent (m5.4xlarge class), large enough for every test and the demo.
DEFAULT_RESOURCES = "cpus=16,mem=65536,disk=409600,ports=31000-32000"
EPSILON = 1e-9


@dataclass
class AgentResources:
    """What one agent offers in total."""

    cpus: float = 16.0
    mem: float = 65536.0
    disk: float = 409600.0
    gpus: float = 0.0
    ports: tuple = (31000, 32000)
    role: str = "*"
    attributes: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None, attributes: str | None = None) -> "AgentResources":
        """``cpus=4,mem=8192,disk=100000,ports=31000-31100`` (any subset; the rest keep the defaults),
        attributes ``rack:a;zone:z1``. ValueError names the bad part."""
        out = cls()
        for part in filter(None, (p.strip() for p in (text or "").split(","))):
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep:
                raise ValueError(f"--agent-resources: expected name=value, got {part!r}")
            if name in ("cpus", "mem", "disk", "gpus"):
                try:
                    number = float(value)
                except ValueError:
                    raise ValueError(f"--agent-resources: {name} must be a number, got {value!r}") from None
                if number < 0:
                    raise ValueError(f"--agent-resources: {name} must be >= 0, got {value!r}")
                setattr(out, name, number)
            elif name == "ports":
                m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", value)
                if not m or not 0 < int(m.group(1)) <= int(m.group(2)) < 65536:
                    raise ValueError(f"--agent-resources: ports must be a range A-B, got {value!r}")
                out.ports = (int(m.group(1)), int(m.group(2)))
            elif name == "role":
                out.role = value.strip() or "*"
            else:
                raise ValueError(f"--agent-resources: unknown resource {name!r} (cpus, mem, disk, gpus, ports, role)")
        for part in filter(None, (p.strip() for p in (attributes or "").split(";"))):
            name, sep, value = part.partition(":")
            if not sep or not name.strip():
                raise ValueError(f"--agent-attributes: expected name:value, got {part!r}")
            out.attributes[name.strip()] = value.strip()
        return out


def app_needs(app: dict) -> dict:
    """Scalar resources an instance of ``app`` takes: disk includes its persistent volumes."""
    disk = float(app.get("disk", 0) or 0)
    for vol in (app.get("container") or {}).get("volumes") or []:
        if isinstance(vol, dict) and isinstance(vol.get("persistent"), dict):
            disk += float(vol["persistent"].get("size", 0) or 0)
    return {"cpus": float(app.get("cpus", 1) or 0), "mem": float(app.get("mem", 128) or 0), "disk": disk,
            "gpus": float(app.get("gpus", 0) or 0)}


def accepted_roles(app: dict, mesos_role: str) -> set:
    """Roles whose resources the app may use: acceptedResourceRoles, else unreserved and its own role."""
    role = app.get("role") or mesos_role
    given = [r for r in app.get("acceptedResourceRoles") or [] if isinstance(r, str)]
    return set(given) if given else {"*", role}


def role_fits(app: dict, agent_role: str, mesos_role: str) -> bool:
    role = app.get("role") or mesos_role
    return agent_role in accepted_roles(app, mesos_role) and agent_role in ("*", role)


def constraint_fits(constraint, hostname: str, attributes: dict, placed: list) -> bool:
    """One ``[field, operator, value?]`` constraint against an agent; ``placed`` holds the
    (hostname, attributes) of the app's other placed instances."""
    if not isinstance(constraint, (list, tuple)) or len(constraint) < 2:
        return True
    fld, op = str(constraint[0]), str(constraint[1]).upper()
    value = str(constraint[2]) if len(constraint) > 2 and constraint[2] is not None else None

    def field_of(host, attrs):
        if fld in ("hostname", "@hostname"):
            return host
        return attrs.get(fld)

    mine = field_of(hostname, attributes)
    others = [field_of(h, a) for h, a in placed]
    if op == "UNLIKE":
        return mine is None or value is None or not re.fullmatch(value, mine)
    if mine is None:
        return False
    if op == "UNIQUE":
        return mine not in others
    if op == "LIKE":
        return value is not None and re.fullmatch(value, mine) is not None
    if op == "IS":
        return mine == value
    if op == "CLUSTER":
        if value:
            return mine == value
        return all(o == mine for o in others)
    if op == "MAX_PER":
        try:
            limit = int(value or 0)
        except ValueError:
            return True
        return others.count(mine) < limit
    # GROUP_BY spreads instances over values; with every value eligible any agent fits.
    return True


def decline_reasons(app: dict, free: dict, agent: AgentResources, hostname: str, mesos_role: str, placed: list,
                    ports_ok: bool) -> list:
    """Why this agent's offer does not fit one instance of ``app`` (Marathon's reasons, in funnel
    order); empty when it fits. ``free`` holds the agent's unused scalar resources."""
    reasons = []
    if not role_fits(app, agent.role, mesos_role):
        reasons.append("UnfulfilledRole")
    if not all(constraint_fits(c, hostname, agent.attributes, placed) for c in app.get("constraints") or []):
        reasons.append("UnfulfilledConstraint")
    needs = app_needs(app)
    for name, reason in (("cpus", "InsufficientCpus"), ("mem", "InsufficientMemory"), ("disk", "InsufficientDisk"),
                         ("gpus", "InsufficientGpus")):
        if needs[name] > free[name] + EPSILON:
            reasons.append(reason)
    if not ports_ok:
        reasons.append("InsufficientPorts")
    return reasons


class OfferStatistics:
    """One app's processed offers since its launch attempt began (the queue's processedOffersSummary)."""

    def __init__(self):
        self.processed = 0
        self.unused = 0
        self.last_unused_at = None
        self.last_used_at = None
        self.attempt: dict[str, int] = {}          # first reason -> offers declined for it
        self.last_by_agent: dict[str, str] = {}    # agent -> first reason of its last offer ("" = used)

    def reasons(self) -> list:
        """The reasons of the agents' last declined offers, most declines first."""
        last = [r for r in self.last_by_agent.values() if r]
        return sorted(set(last), key=lambda r: (-last.count(r), REASON_ORDER.index(r)))

    def used(self, agent_id: str, now: float) -> None:
        self.processed += 1
        self.last_used_at = now
        self.last_by_agent[agent_id] = ""

    def declined(self, agent_id: str, reasons: list, now: float) -> None:
        first = min(reasons, key=REASON_ORDER.index)
        self.processed += 1
        self.unused += 1
        self.last_unused_at = now
        self.attempt[first] = self.attempt.get(first, 0) + 1
        self.last_by_agent[agent_id] = first

    @staticmethod
    def funnel(first_reasons: list, total: int) -> list:
        out, left = [], total
        for reason in REASON_ORDER:
            n = first_reasons.count(reason)
            out.append({"reason": reason, "declined": n, "processed": left})
            left -= n
        return out

    def summary(self, fmt) -> dict:
        out = {"processedOffersCount": self.processed, "unusedOffersCount": self.unused}
        if self.last_unused_at is not None:
            out["lastUnusedOfferAt"] = fmt(self.last_unused_at)
        if self.last_used_at is not None:
            out["lastUsedOfferAt"] = fmt(self.last_used_at)
        last = list(self.last_by_agent.values())
        out["rejectSummaryLastOffers"] = self.funnel(last, len(last))
        attempt = [r for r, n in self.attempt.items() for _ in range(n)]  # used offers pass every step
        out["rejectSummaryLaunchAttempt"] = self.funnel(attempt, self.processed)
        return out
