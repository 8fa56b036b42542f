"""Deployment plans: which steps of actions a change needs, the version it gets, the plan's progress,
its JSON and the conflict rules between plans.

The deployment executor (deployment_executor.DeploymentExecutor) runs the actions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .timestamps import format_timestamp
from .util import new_uuid

# ---------------------------------------------------------------------- plans

_UPGRADE_FIELDS = (
    "cmd", "args", "user", "env", "cpus", "mem", "disk", "gpus", "executorResources", "executor",
    "constraints", "fetch", "portDefinitions", "requirePorts", "backoffSeconds", "backoffFactor",
    "maxLaunchDelaySeconds", "container", "healthChecks", "check", "taskKillGracePeriodSeconds",
    "dependencies", "upgradeStrategy", "labels", "acceptedResourceRoles", "networks", "readinessChecks",
    "secrets", "unreachableStrategy", "killSelection", "tty", "role", "resourceLimits",
)
_EMPTY_DEFAULTS = {"args": [], "env": {}, "constraints": [], "fetch": [], "healthChecks": [], "dependencies": [],
                   "labels": {}, "acceptedResourceRoles": [], "readinessChecks": [], "secrets": {}}


def _field_value(app, key):
    value = app.get(key, _EMPTY_DEFAULTS.get(key))
    if key == "constraints":
        return sorted(json.dumps(c) for c in value or [])  # a set in the model
    if key in ("acceptedResourceRoles", "dependencies"):
        return sorted(value or [])
    return value


def is_config_change(old_app, new_app):
    """True when any runtime field differs (AppDefinition.isUpgrade)."""
    return any(_field_value(old_app, k) != _field_value(new_app, k) for k in _UPGRADE_FIELDS)


def compute_plan_steps(old_app, new_app, restart=False):
    """Deployment steps for one app; empty steps are dropped."""
    if old_app is None and new_app is None:
        return []
    if new_app is None:
        return [[{"action": "StopApplication", "app": old_app["id"]}]]
    app_id = new_app["id"]
    if old_app is None:
        return [[{"action": "StartApplication", "app": app_id}], [{"action": "ScaleApplication", "app": app_id}]]
    if restart or is_config_change(old_app, new_app):
        return [[{"action": "RestartApplication", "app": app_id}]]
    if old_app.get("instances", 1) != new_app.get("instances", 1):
        return [[{"action": "ScaleApplication", "app": app_id}]]
    return []


def next_version_info(old_app, new_app, now, restart=False, old_version=None, old_version_info=None):
    """(version, versionInfo) after a change. ``now`` is epoch seconds or a timestamp string.

    The old version data come from ``old_version``/``old_version_info`` or, when
    not given, from ``old_app["version"]``/``old_app["versionInfo"]``.
    """
    ts = now if isinstance(now, str) else format_timestamp(now)
    if old_app is None:
        return ts, {"lastScalingAt": ts, "lastConfigChangeAt": ts}
    if old_version is None:
        old_version = old_app.get("version")
    if old_version_info is None:
        old_version_info = old_app.get("versionInfo") or {}
    if is_config_change(old_app, new_app):
        return ts, {"lastScalingAt": ts, "lastConfigChangeAt": ts}
    if restart or old_app.get("instances", 1) != new_app.get("instances", 1):
        return ts, {"lastScalingAt": ts,
                    "lastConfigChangeAt": old_version_info.get("lastConfigChangeAt", old_version or ts)}
    return old_version, dict(old_version_info)


def merge_steps(per_app_steps: list[list[list[dict]]], levels: dict | None = None) -> list[list[dict]]:
    """Combine the plans of several apps into one plan the way DeploymentPlan.apply orders them:
    all StopApplication actions, then all StartApplication, then the rest in dependency order
    (``levels``: app id -> length of its longest dependency path; apps on one level share a step);
    empty steps dropped."""
    stops, starts, rest = [], [], {}
    levels = levels or {}
    for steps in per_app_steps:
        for step in steps:
            for action in step:
                kind = action["action"]
                if kind == "StopApplication":
                    stops.append(dict(action))
                elif kind == "StartApplication":
                    starts.append(dict(action))
                else:
                    rest.setdefault(levels.get(action["app"], 0), []).append(dict(action))
    return [s for s in (stops, starts, *(rest[level] for level in sorted(rest))) if s]


def dependency_levels(apps: dict, groups: dict) -> dict:
    """App id -> the length of its longest dependency path (DeploymentPlan.runSpecsGroupedByLongestPath).

    ``apps``: app id -> definition; ``groups``: group id -> its ``dependencies``. An app depends on its
    own ``dependencies`` and on those of every group it sits in; a dependency on a group means every
    app below it. Raises ValueError on a cycle."""
    def below(target: str) -> list[str]:
        return [a for a in apps if a == target or a.startswith(target.rstrip("/") + "/")]

    def direct(app_id: str) -> set[str]:
        deps = list(apps[app_id].get("dependencies") or [])
        for gid, group_deps in groups.items():
            if gid == "/" or app_id.startswith(gid + "/"):
                deps.extend(group_deps or [])
        return {d for dep in deps for d in below(dep) if d != app_id}

    levels: dict = {}
    visiting: set = set()

    def level(app_id: str) -> int:
        if app_id in levels:
            return levels[app_id]
        if app_id in visiting:
            raise ValueError(app_id)
        visiting.add(app_id)
        levels[app_id] = max((level(d) + 1 for d in direct(app_id)), default=0)
        visiting.discard(app_id)
        return levels[app_id]

    for app_id in apps:
        level(app_id)
    return levels


@dataclass
class Deployment:
    id: str
    version: str
    steps: list[list[dict]]
    # app id → app record (definition + version info) before this deployment; None = did not exist.
    original: dict = field(default_factory=dict)
    # app id → instance ids chosen by kill-and-scale (DELETE .../tasks?scale=true).
    kill_lists: dict = field(default_factory=dict)
    current_step: int = 0  # 1-based while a step runs, 0 before the first starts
    action_state: dict = field(default_factory=dict)  # app id → per-action progress of the current step
    started_at: float = 0.0

    @classmethod
    def new(cls, version: str, steps: list[list[dict]], original: dict, kill_lists: dict | None = None):
        return cls(id=new_uuid(), version=version, steps=steps, original=original, kill_lists=kill_lists or {})

    @property
    def affected_apps(self) -> list[str]:
        seen = []
        for step in self.steps:
            for action in step:
                if action["app"] not in seen:
                    seen.append(action["app"])
        return seen

    @property
    def total_steps(self) -> int:
        return len(self.steps)

    def current_actions(self) -> list[dict]:
        if self.current_step == 0 or self.current_step > len(self.steps):
            return []
        return self.steps[self.current_step - 1]

    def conflicts_with(self, apps: set[str]) -> bool:
        # plans conflict when the run-spec ids of their actions intersect; zero-step plans never do.
        return bool(apps & set(self.affected_apps))

    def plan_json(self) -> dict:
        """The light plan shape of deployment events."""
        return {
            "id": self.id,
            "steps": [{"actions": [dict(a) for a in step]} for step in self.steps],
            "version": self.version,
        }

    def to_json(self) -> dict:
        """GET /v2/deployments item."""
        return {
            "id": self.id,
            "version": self.version,
            "affectedApps": self.affected_apps,
            "affectedPods": [],
            "steps": [{"actions": [dict(a) for a in step]} for step in self.steps],
            "currentActions": [dict(a, readinessCheckResults=[]) for a in self.current_actions()],
            "currentStep": self.current_step,
            "totalSteps": self.total_steps,
        }

    def to_state(self) -> dict:
        return {
            "id": self.id, "version": self.version, "steps": self.steps, "original": self.original,
            "kill_lists": self.kill_lists, "current_step": self.current_step,
            "action_state": self.action_state,
        }

    @classmethod
    def from_state(cls, data: dict) -> "Deployment":
        return cls(
            id=data["id"], version=data["version"], steps=data["steps"], original=data.get("original", {}),
            kill_lists=data.get("kill_lists", {}), current_step=data.get("current_step", 0),
            action_state=data.get("action_state", {}),
        )


def locked_error_body(conflicts: list[Deployment]) -> dict:
    """409 AppLocked body, same text and shape in every Marathon version; the message really
    contains the literal placeholder <DEPLOYMENT_ID> (AppLockedException)."""
    return {
        "message": "App is locked by one or more deployments. Override with the option '?force=true'. "
                   "View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
        "deployments": [{"id": d.id} for d in conflicts],
    }
