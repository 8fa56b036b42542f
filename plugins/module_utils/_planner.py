# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The planner of marathon_app: the live app, the task's request (and, for a rollback, the
version to put back) in; one Plan out. Pure: no request, no check mode, no waiting; the
executor (_executor.py) carries the plan out.

Private module_utils: not a public API.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import (
    compare_apps,
    is_resident,
    normalize_app_definition,
    persistent_volumes,
)
from ansible_collections.dcos.marathon.plugins.module_utils._tasks import suspended_tasks

NOTHING = "nothing"
CREATE = "create"
UPDATE = "update"
SCALE = "scale"
RESTART = "restart"
ROLLBACK = "rollback"
DELETE = "delete"
REFUSE = "refuse"

WRITES = (CREATE, UPDATE, SCALE, RESTART, ROLLBACK, DELETE)


@dataclass
class Plan(object):
    """What one task does to one app.

    ``action`` is one of the constants above. ``body`` and ``partial`` are the PUT/POST of
    create/update/scale, ``version`` that of a rollback. ``restart`` asks for a restart after
    the write (a running app scaled by state=restarted). ``comparison`` is the task's one
    AppComparison; ``changes`` the top-level fields it found, or a whole-app change.
    ``instances`` is the count to wait for and ``app`` the definition that decides the
    default wait condition. A refusal carries ``msg`` and ``extra`` (more result fields).
    """

    action: str
    comparison: object = None
    changes: list = None
    body: dict = None
    partial: bool = False
    version: str = None
    restart: bool = False
    instances: int = None
    app: dict = None
    msg: str = None
    extra: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    def __post_init__(self):
        if self.changes is None:
            self.changes = list(self.comparison.changed_fields) if self.comparison else []

    @property
    def writes(self):
        return self.action in WRITES

    def landed(self, app):
        """Whether a live app read after a lost answer shows this plan's write."""
        if self.action == SCALE:
            return app.get("instances") == self.instances
        if self.action in (UPDATE, ROLLBACK):
            return self.comparison.matches(app)
        return False


class RollbackTarget(object):
    """What a rollback needs read first: the app's stored versions and the definition
    stored under the requested one (None when it could not be read)."""

    def __init__(self, versions, definition):
        self.versions = versions
        self.definition = definition


def refuse(msg, comparison=None, **extra):
    return Plan(REFUSE, comparison=comparison, changes=[], msg=msg, extra=extra)


def plan_app(request, live, rollback=None):
    """The Plan for ``request`` (an AppRequest) against ``live`` (GET /v2/apps/{id}, or None)."""
    if request.rollback_to is not None:
        return _plan_rollback(request, live, rollback)
    if request.state == "absent":
        return _plan_absent(request, live)
    if live is None:
        return _plan_create(request)
    if request.state == "restarted":
        return _plan_restarted(request, live)
    return _plan_converge(request, live, _target_count(request, live))


def _missing(request):
    return refuse("App '%s' does not exist, and state=%s can only create it from a definition; give definition or src"
                  % (request.app_id, request.state))


def _target_count(request, live):
    """The instance count the state asks for; None keeps the definition's (or the live one without one)."""
    if request.state == "stopped":
        return 0
    if request.state == "started":
        return _started_count(request, live)
    if request.instances is not None:
        return request.instances
    if request.keep_instances and live is not None:
        return live.get("instances", 0)
    return None


def _started_count(request, live):
    if request.instances is not None:
        return request.instances
    defn_count = request.definition.get("instances") if request.definition else None
    if live is not None and (live.get("instances") or 0) > 0:
        return defn_count if defn_count else live["instances"]
    suspended = len(suspended_tasks((live or {}).get("tasks") or [], (live or {}).get("instances", 0)))
    if suspended:
        return suspended
    return defn_count if defn_count else 1


def _plan_create(request):
    if request.definition is None:
        return _missing(request)
    count = _target_count(request, None)
    body = request.body(None, instances=count)
    desired = normalize_app_definition(body, request.version)
    return Plan(CREATE, comparison=compare_apps(desired, None, request.version), changes=["app (created)"], body=body,
                instances=body.get("instances", 1), app=body)


def _plan_converge(request, live, count):
    """present, stopped and started on an existing app."""
    warnings = _kept_count_warning(request, live)
    live_norm = normalize_app_definition(live, request.version)
    if request.definition is None:
        if count is None or live.get("instances", 1) == count:
            return Plan(NOTHING, comparison=compare_apps(live_norm, live_norm, request.version), app=live,
                        warnings=warnings)
        return _scale(request, live, live_norm, count)
    body = request.body(live, instances=count)
    comparison = compare_apps(request.normalized(body, live), live_norm, request.version, request.unset_fields)
    if not comparison.differs:
        return Plan(NOTHING, comparison=comparison, app=live, warnings=warnings)
    if comparison.resident_violations:
        return refuse(comparison.refusal_message(request.app_id), comparison, changes=comparison.resident_violations)
    changed_init_env = comparison.env_changes(request.init_env)
    if changed_init_env and not request.allow_init_env_change:
        return refuse(
            "App '%s': %s in env differs from the live app's, and init_env says the app reads it only when it "
            "initializes its persistent volume, so the new value would not be used. Nothing was sent. Change "
            "the value inside the app first, then run once with allow_init_env_change=true"
            % (request.app_id, ", ".join(changed_init_env)),
            comparison, refused_init_env=changed_init_env)
    major_change = comparison.image_major_change() if request.fixed_image_major and is_resident(live) else None
    if major_change:
        return refuse(
            "App '%s' has persistent volumes, and its image moves from major version %s to %s: the data files "
            "written by %s cannot be opened by %s, so the app would never start. Nothing was sent. Keep the image's "
            "major version, or move the data with a dump and restore onto a new volume"
            % (request.app_id, major_change[0], major_change[1], major_change[0], major_change[1]),
            comparison, refused_image_major={"live": major_change[0], "desired": major_change[1]})
    action = SCALE if comparison.changed_fields == ["instances"] else UPDATE
    return Plan(action, comparison=comparison, body=body, partial=request.partial,
                instances=comparison.desired.get("instances", 1), app=comparison.desired, warnings=warnings)


def _scale(request, live, live_norm, count):
    comparison = compare_apps(dict(live_norm, instances=count), live_norm, request.version)
    return Plan(SCALE, comparison=comparison, body={"instances": count}, partial=True, instances=count, app=live)


def _kept_count_warning(request, live):
    defn_count = request.definition.get("instances") if request.definition else None
    if not (request.state == "present" and request.keep_instances and request.instances is None):
        return []
    if defn_count is None or defn_count == live.get("instances", 0):
        return []
    return ["App '%s' has %s instance(s) and the definition asks for %s: keep_instances=true keeps the live count "
            "(state=present does not start a stopped app nor scale a running one); use state=started or "
            "restarted, or instances, to apply it" % (request.app_id, live.get("instances", 0), defn_count)]


def _plan_restarted(request, live):
    was_stopped = not live.get("instances")
    live_norm = normalize_app_definition(live, request.version)
    if request.definition is not None:
        # The definition's own comparison says the count it asks for (no second normalization).
        plan = _plan_converge(request, live, request.instances)
        target = plan.comparison.desired.get("instances", 1)
    else:
        target = request.instances if request.instances is not None else live.get("instances", 0)
        if target != live.get("instances"):
            plan = _scale(request, live, live_norm, target)
        else:
            plan = Plan(NOTHING, comparison=compare_apps(live_norm, live_norm, request.version))
    if not target:
        return refuse("App '%s' has 0 instances, so there is nothing to restart; use state=started to start it, or "
                      "give instances (or a definition) to start it with state=restarted" % request.app_id)
    if plan.action == REFUSE or plan.action == UPDATE or (plan.action == SCALE and was_stopped):
        # A config change replaced every task, and starting a stopped app launched new ones:
        # restarting them again would only roll fresh tasks (and a database) a second time.
        return plan
    if plan.action == SCALE:
        plan.restart = True
        return plan
    return Plan(RESTART, comparison=plan.comparison, instances=target, app=live)


def _plan_rollback(request, live, rollback):
    version = request.rollback_to
    if live is None:
        return refuse("App '%s' does not exist, so there is no version to roll back to; nothing was sent"
                      % request.app_id)
    if version not in rollback.versions:
        return refuse("rollback_to '%s' is not a stored version of app '%s'; nothing was sent. Newest versions: %s"
                      % (version, request.app_id, ", ".join(str(v) for v in rollback.versions[:5]) or "none"))
    if rollback.definition is None:
        return refuse("Version '%s' of app '%s' could not be read; nothing was sent" % (version, request.app_id))
    target = normalize_app_definition(rollback.definition, request.version)
    comparison = compare_apps(target, normalize_app_definition(live, request.version), request.version)
    if not comparison.differs:
        return Plan(NOTHING, comparison=comparison, app=live, version=version)
    if comparison.resident_violations:
        return refuse("rollback_to '%s': %s" % (version, comparison.refusal_message(request.app_id)), comparison,
                      changes=comparison.resident_violations)
    return Plan(ROLLBACK, comparison=comparison, version=version, instances=target.get("instances", 1), app=target)


def _plan_absent(request, live):
    if live is None:
        return Plan(NOTHING, comparison=compare_apps(None, None))
    if is_resident(live) and not request.allow_data_loss:
        paths = ", ".join(v.get("containerPath", "?") for v in persistent_volumes(live))
        return refuse(
            "App '%s' has persistent volumes (%s); removing it destroys them and the data on them. Nothing was "
            "sent. Set allow_data_loss=true to remove it anyway, or use state=stopped to stop it and keep the "
            "data" % (request.app_id, paths))
    return Plan(DELETE, comparison=compare_apps(None, normalize_app_definition(live, request.version), request.version),
                changes=["app (removed)"])
