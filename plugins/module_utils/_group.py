# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""marathon_group: one Marathon group (its apps, nested groups and dependencies) converged with one
read and at most one write.

``GroupRequest`` checks the task's options and flattens the definition into absolute app ids;
``plan_group`` (pure) compares every app once with marathon_app's comparison (``_app_spec``) and
builds the one ``PUT /v2/groups/{id}`` body; ``GroupExecutor`` owns check mode, locks, sending
and waiting, as ``_executor.AppExecutor`` does for one app.

Private module_utils: not a public API.
"""

from __future__ import annotations

import copy
import posixpath
from dataclasses import dataclass, field

from ansible_collections.dcos.marathon.plugins.module_utils._api import deployment_ids, group_apps
from ansible_collections.dcos.marathon.plugins.module_utils._app_request import Refusal, load_definition_file
from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import (
    app_id_problem,
    canonical_app_id,
    compare_apps,
    definition_for_request,
    is_resident,
    normalize_app_definition,
    persistent_volumes,
    secret_values,
    validate_definition,
)
from ansible_collections.dcos.marathon.plugins.module_utils._errors import MarathonError
from ansible_collections.dcos.marathon.plugins.module_utils._executor import MAX_LOCK_ROUNDS, PlanVersion
from ansible_collections.dcos.marathon.plugins.module_utils._planner import CREATE, DELETE, NOTHING, SCALE, UPDATE
from ansible_collections.dcos.marathon.plugins.module_utils._tasks import suspended_tasks
from ansible_collections.dcos.marathon.plugins.module_utils._versions import (
    BASELINE,
    LEGACY_DEFAULTS,
    old_networking,
    to_old_networking,
    unknown_in_version,
    uses_versioned_fields,
)
from ansible_collections.dcos.marathon.plugins.module_utils._wait import WaitTimeout, Waiter, app_condition_met

# Keys of a group definition (GroupUpdate in Marathon's RAML) this module sends.
GROUP_KEYS = ("id", "apps", "groups", "dependencies", "enforceRole")
APP_WRITES = (CREATE, UPDATE, SCALE, DELETE)


def _child_id(raw, parent):
    """An id inside a group definition: relative ids resolve against the group, as Marathon does."""
    if raw.startswith("/"):
        return canonical_app_id(raw)
    return canonical_app_id(posixpath.join(parent, raw))


def _is_below(child, parent):
    return child.startswith(parent.rstrip("/") + "/")


def _parent(app_id):
    return posixpath.dirname(app_id) or "/"


class GroupRequest(object):
    """The checked options of one marathon_group task; the definition flattened into ``apps``
    (absolute app id -> definition) and ``groups`` (group id -> dependencies, None when not given)."""

    def __init__(self, params, no_log_values):
        self.state = params["state"]
        self.prune = params["prune"]
        self.allow_data_loss = params["allow_data_loss"]
        self.force = params["force"]
        self.wait = params["wait"]
        self.wait_timeout = params["wait_timeout"]
        self.version = BASELINE
        problem = app_id_problem(params["group_id"])
        if problem:
            raise Refusal("group_id '%s' %s" % (params["group_id"], problem))
        self.group_id = canonical_app_id(params["group_id"])
        if params["src"]:
            definition, self.source_field = load_definition_file(params["src"]), "src"
        else:
            definition, self.source_field = copy.deepcopy(params["definition"]), "definition"
        self.definition = definition
        self.apps = {}
        self.fields = {}
        self.groups = {}
        if definition is not None:
            if not isinstance(definition, dict):
                raise Refusal("%s must be a mapping (a group definition), got %s"
                              % (self.source_field, type(definition).__name__))
            given = definition.get("id")
            if given is not None and (not isinstance(given, str) or canonical_app_id(given) != self.group_id):
                raise Refusal("group_id '%s' and %s.id '%s' name different groups; give the same in both, or leave "
                              "id out" % (self.group_id, self.source_field, given))
            self._flatten(definition, self.group_id, self.source_field)
            for app in self.apps.values():
                # Before anything can be printed: secret env values are masked everywhere.
                no_log_values.update(secret_values(app))
        if self.wait_timeout <= 0:
            raise Refusal("wait_timeout must be greater than 0, got %d" % self.wait_timeout)
        if definition is None and self.state == "present":
            raise Refusal("state=present needs definition or src")
        if definition is None and self.prune:
            raise Refusal("prune=true needs definition or src: it removes the apps the definition does not list")

    def _flatten(self, node, group_id, where):
        unknown = sorted(k for k in node if k not in GROUP_KEYS)
        if unknown:
            raise Refusal("%s has unsupported key(s) %s; a group definition has %s"
                          % (where, ", ".join(unknown), ", ".join(GROUP_KEYS)))
        deps = node.get("dependencies")
        if deps is not None:
            if not isinstance(deps, list) or not all(isinstance(d, str) and d.strip("/") for d in deps):
                raise Refusal("%s.dependencies must be a list of app or group ids" % where)
            deps = sorted(set(_child_id(d, group_id) for d in deps))
        self.groups[group_id] = deps
        for key in ("apps", "groups"):
            if node.get(key) is not None and not isinstance(node[key], list):
                raise Refusal("%s.%s must be a list" % (where, key))
        for i, app in enumerate(node.get("apps") or []):
            app_where = "%s.apps[%d]" % (where, i)
            if not isinstance(app, dict) or not isinstance(app.get("id"), str):
                raise Refusal("%s.id is required: each app of a group needs its id" % app_where)
            problem = app_id_problem(app["id"])
            app_id = _child_id(app["id"], group_id)
            if problem or not _is_below(app_id, group_id):
                raise Refusal("%s.id '%s' %s" % (app_where, app["id"], problem or "is not inside group '%s'; use an id "
                                                 "relative to the group" % group_id))
            if app_id in self.apps:
                raise Refusal("%s.id '%s' names the same app as %s" % (app_where, app_id, self.fields[app_id]))
            problems = validate_definition(app, app_where)
            if problems:
                raise Refusal("; ".join(problems))
            app = dict(app, id=app_id)
            if isinstance(app.get("dependencies"), list):
                app["dependencies"] = [_child_id(d, group_id) if isinstance(d, str) else d for d in app["dependencies"]]
            self.apps[app_id] = app
            self.fields[app_id] = app_where
        for i, sub in enumerate(node.get("groups") or []):
            sub_where = "%s.groups[%d]" % (where, i)
            if not isinstance(sub, dict) or not isinstance(sub.get("id"), str):
                raise Refusal("%s.id is required: each nested group needs its id" % sub_where)
            sub_id = _child_id(sub["id"], group_id)
            problem = app_id_problem(sub["id"])
            if problem or not _is_below(sub_id, group_id):
                raise Refusal("%s.id '%s' %s" % (sub_where, sub["id"], problem or "is not inside group '%s'; use an "
                                                 "id relative to the group" % group_id))
            self._flatten(sub, sub_id, sub_where)

    @property
    def uses_versioned_fields(self):
        return any(uses_versioned_fields(a) for a in self.apps.values())

    def for_version(self, version):
        """Check every app against Marathon ``version`` (as marathon_app does), before any write."""
        self.version = version
        for app_id, app in self.apps.items():
            problems = unknown_in_version(app, version, self.fields[app_id])
            if not problems and old_networking(version):
                problem = to_old_networking(definition_for_request(app), self.fields[app_id])[1]
                problems = [problem] if problem else []
            if problems:
                raise Refusal("; ".join(problems))

    def body(self, app_id, instances=None):
        """The request body of one app: read-only fields dropped, the instance count applied."""
        body = definition_for_request(self.apps[app_id])
        if instances is not None:
            body["instances"] = instances
        if old_networking(self.version):
            body = to_old_networking(body, self.fields[app_id])[0]
        return body

    def unset_fields(self, app_id):
        return tuple(k for k in LEGACY_DEFAULTS if self.apps[app_id].get(k) is None)


@dataclass
class AppStep(object):
    """What the group write does to one app."""

    app_id: str
    action: str
    comparison: object = None
    changes: list = field(default_factory=list)
    body: dict = None
    instances: int = None
    live: dict = None

    @property
    def writes(self):
        return self.action in APP_WRITES


@dataclass
class GroupPlan(object):
    """One task's plan: a step per app, the group write (PUT body, or the DELETE of state=absent)
    and the groups whose dependencies change. A refusal carries ``msg``."""

    steps: dict
    body: dict = None
    delete: bool = False
    dependency_changes: list = field(default_factory=list)
    dependencies: dict = field(default_factory=dict)
    msg: str = None

    @property
    def writes(self):
        return self.msg is None and (self.delete or bool(self.dependency_changes)
                                     or any(s.writes for s in self.steps.values()))

    def landed(self, group):
        """Whether a group read after a lost answer shows this plan's write."""
        live = group_apps(group)
        live_groups = _live_groups(group)
        if any(live_groups.get(g) != self.dependencies[g] for g in self.dependency_changes):
            return False
        for step in self.steps.values():
            found = live.get(step.app_id)
            if step.action == DELETE and found is not None:
                return False
            if step.action in (CREATE, UPDATE, SCALE) and (found is None or not step.comparison.matches(found)):
                return False
        return True


def _live_groups(group):
    """Group id -> dependencies of every group of a GET /v2/groups/{id} tree."""
    out = {}
    stack = [group] if isinstance(group, dict) else []
    while stack:
        node = stack.pop()
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            out[canonical_app_id(node["id"])] = sorted(canonical_app_id(d) for d in node.get("dependencies") or []
                                                       if isinstance(d, str))
            stack.extend(node.get("groups") or [])
    return out


def _target_count(request, app_id, live):
    """The instance count the state asks for; None keeps the definition's."""
    defn_count = request.apps[app_id].get("instances") if app_id in request.apps else None
    if request.state == "stopped":
        return 0
    if request.state == "started":
        if defn_count:
            return defn_count
        if live is not None and (live.get("instances") or 0) > 0:
            return live["instances"]
        suspended = len(suspended_tasks((live or {}).get("tasks") or [], (live or {}).get("instances", 0)))
        return suspended or 1
    return None


def _live_body(live, instances=None):
    """A live app as a request body: what Marathon has, so its part of the group write changes nothing."""
    body = definition_for_request(live)
    # Marathon 1.4 echoes the deprecated forms beside the new ones, and refuses a body with both.
    for old, new in (("ports", "portDefinitions"), ("uris", "fetch")):
        if new in body:
            body.pop(old, None)
    if instances is not None:
        body["instances"] = instances
    return body


def plan_group(request, live_group):
    """The GroupPlan for ``request`` against ``live_group`` (GET /v2/groups/{id}, or None). Pure."""
    version = request.version
    live_apps = group_apps(live_group) if live_group else {}
    steps, refusals = {}, []
    if request.state == "absent":
        if live_group is None:
            return GroupPlan(steps={})
        resident = sorted(a for a, app in live_apps.items() if is_resident(app))
        for app_id, app in sorted(live_apps.items()):
            steps[app_id] = AppStep(app_id, DELETE, compare_apps(None, normalize_app_definition(app, version), version),
                                    ["app (removed)"], live=app)
        if resident and not request.allow_data_loss:
            return _refused(steps, "Group '%s' holds app(s) with persistent volumes (%s); removing the group destroys "
                            "them and the data on them. Nothing was sent. Set allow_data_loss=true to remove it anyway, "
                            "or use state=stopped to stop its apps and keep the data"
                            % (request.group_id, _volume_list(live_apps, resident)))
        return GroupPlan(steps=steps, delete=True)
    desired_ids = list(request.apps) if request.definition is not None else sorted(live_apps)
    for app_id in desired_ids:
        live = live_apps.get(app_id)
        count = _target_count(request, app_id, live)
        if app_id not in request.apps:
            # stopped/started without a definition: only the instance count of the live app changes.
            step = _scale_step(app_id, live, count, version)
        elif live is None:
            body = request.body(app_id, count)
            step = AppStep(app_id, CREATE, compare_apps(normalize_app_definition(body, version), None, version),
                           ["app (created)"], body, body.get("instances", 1))
        else:
            body = request.body(app_id, count)
            comparison = compare_apps(normalize_app_definition(body, version), normalize_app_definition(live, version),
                                      version, request.unset_fields(app_id))
            step = AppStep(app_id, NOTHING, comparison, list(comparison.changed_fields), live=live,
                           instances=comparison.desired.get("instances", 1))
            if comparison.resident_violations:
                refusals.append(comparison.refusal_message(app_id))
            elif comparison.changed_fields == ["instances"]:
                step.action, step.body = SCALE, _live_body(live, step.instances)
            elif comparison.differs:
                step.action, step.body = UPDATE, body
        steps[app_id] = step
    unlisted = sorted(a for a in live_apps if a not in steps)
    for app_id in unlisted:
        live = live_apps[app_id]
        if request.prune:
            steps[app_id] = AppStep(app_id, DELETE, compare_apps(None, normalize_app_definition(live, version), version),
                                    ["app (removed)"], live=live)
        else:
            steps[app_id] = AppStep(app_id, NOTHING, live=live, instances=live.get("instances", 0))
    pruned_resident = sorted(a for a in unlisted if request.prune and is_resident(live_apps[a]))
    if pruned_resident and not request.allow_data_loss:
        refusals.append("prune=true would remove app(s) with persistent volumes (%s), destroying them and the data on "
                        "them. Set allow_data_loss=true to remove them anyway, or list them in the definition"
                        % _volume_list(live_apps, pruned_resident))
    if refusals:
        return _refused(steps, "Group '%s': %s" % (request.group_id, "; ".join(refusals)))
    live_groups = _live_groups(live_group)
    dependency_changes = sorted(g for g, deps in request.groups.items()
                                if deps is not None and deps != live_groups.get(g, []))
    plan = GroupPlan(steps=steps, dependency_changes=dependency_changes,
                     dependencies=dict((g, request.groups[g]) for g in dependency_changes))
    if plan.writes:
        plan.body = _group_body(request, steps, live_groups)
    return plan


def _scale_step(app_id, live, count, version):
    live_norm = normalize_app_definition(live, version)
    if count is None or live.get("instances", 1) == count:
        return AppStep(app_id, NOTHING, compare_apps(live_norm, live_norm, version), live=live,
                       instances=live.get("instances", 1))
    comparison = compare_apps(dict(live_norm, instances=count), live_norm, version)
    return AppStep(app_id, SCALE, comparison, ["instances"], _live_body(live, count), count, live)


def _refused(steps, msg):
    return GroupPlan(steps=steps, msg=msg)


def _volume_list(live_apps, app_ids):
    return ", ".join("%s: %s" % (a, ", ".join(v.get("containerPath", "?") for v in persistent_volumes(live_apps[a])))
                     for a in app_ids)


def _group_body(request, steps, live_groups):
    """The PUT /v2/groups/{id} body: the whole tree, since a group update replaces the app list of
    each group it names. Apps that change carry their new definition; the others are sent as
    Marathon shows them, so their part of the deployment is empty and their version does not move."""
    apps_by_group = {}
    for step in steps.values():
        if step.action == DELETE:
            continue
        body = step.body if step.action in (CREATE, UPDATE, SCALE) else _live_body(step.live)
        apps_by_group.setdefault(_parent(step.app_id), []).append(body)
    group_ids = set(request.groups) | set(apps_by_group)
    if not request.prune:
        group_ids |= set(g for g in live_groups if g == request.group_id or _is_below(g, request.group_id))
    for gid in list(group_ids):
        while gid != request.group_id and _is_below(gid, request.group_id):
            gid = _parent(gid)
            group_ids.add(gid)

    def node(gid):
        deps = request.groups.get(gid)
        out = {"id": gid, "dependencies": deps if deps is not None else live_groups.get(gid, []),
               "apps": sorted(apps_by_group.get(gid, []), key=lambda a: a["id"])}
        out["groups"] = [node(g) for g in sorted(group_ids) if _parent(g) == gid and g != gid]
        return out

    return node(request.group_id)


def _writes_or_refuses(plan):
    return plan.writes or bool(plan.msg)


class _Locked(Exception):
    def __init__(self, ids):
        super().__init__(", ".join(ids))
        self.ids = ids


class GroupExecutor(object):
    def __init__(self, module):
        self.module = module
        self.request = None
        self._waiter = None
        self.result = dict(changed=False, group_id=None, apps=[], changes={}, deployment_id=None, version=None)
        if module.diff:
            self.result["diff"] = {"before": {}, "after": {}}

    @property
    def api(self):
        return self.module.client

    @property
    def waiter(self):
        if self._waiter is None:
            self._waiter = Waiter(self.api, self.request.wait_timeout)
        return self._waiter

    def run(self):
        request = self.request = GroupRequest(self.module.params, self.module.no_log_values)
        self.result["group_id"] = request.group_id
        versions = PlanVersion(self.module, request, request.uses_versioned_fields)
        live = self.api.get_group(request.group_id)
        versions.assume_from(next(iter(group_apps(live).values()), None) if live else None)
        for _round in range(MAX_LOCK_ROUNDS):
            plan = versions.plan(_writes_or_refuses, plan_group, request, live)
            self._record(plan)
            try:
                self._execute(plan, live)
                return self.result
            except _Locked as locked:
                self.waiter.wait_unlocked(request.group_id, locked.ids)
                live = self.api.get_group(request.group_id)
        raise Refusal("Group '%s' stayed locked by new deployments; nothing was changed. Try force=true"
                      % request.group_id)

    # ---- result ------------------------------------------------------------------------

    def _record(self, plan):
        self.result["changes"] = dict((a, list(s.changes)) for a, s in sorted(plan.steps.items()) if s.writes)
        for gid in plan.dependency_changes:
            self.result["changes"].setdefault(gid, []).append("dependencies")
        if self.module.diff:
            before, after = {}, {}
            for app_id, step in sorted(plan.steps.items()):
                if step.writes and step.comparison is not None:
                    d = step.comparison.diff()
                    before[app_id], after[app_id] = d["before"], d["after"]
            self.result["diff"] = {"before": before, "after": after}
        self._show_apps(plan, None)

    def _show_apps(self, plan, group):
        """One entry per app: what the task did to it and its state as last read."""
        apps = group_apps(group) if group is not None else {}
        entries = []
        for app_id, step in sorted(plan.steps.items()):
            app = apps.get(app_id, step.live if group is None else None)
            if step.action == DELETE and group is not None:
                app = None
            entry = dict(id=app_id, action=step.action, changed=step.writes and self.result["changed"],
                         changes=list(step.changes) if step.writes else [])
            entry["version"] = (app or {}).get("version")
            entry["instances"] = (app or {}).get("instances", 0) if app else 0
            entry["tasks_running"] = (app or {}).get("tasksRunning", 0) or 0
            entry["tasks_healthy"] = (app or {}).get("tasksHealthy", 0) or 0
            entry["healthy"] = bool(app) and app_condition_met(app, _condition(app), _want(step, app))
            entries.append(entry)
        self.result["apps"] = entries

    # ---- carrying the plan out -----------------------------------------------------------

    def _execute(self, plan, live):
        if plan.msg:
            raise Refusal(plan.msg)
        if not plan.writes:
            self._settle(plan, live)
            return
        if self.module.check_mode:
            self.result["changed"] = True
            for entry in self.result["apps"]:
                entry["changed"] = entry["action"] in APP_WRITES
            return
        request = self.request
        locked = [i for s in plan.steps.values() if s.writes and s.live for i in deployment_ids(s.live)]
        if locked and not request.force:
            raise _Locked(sorted(set(locked)))
        try:
            if plan.delete:
                resp = self.api.delete_group(request.group_id, force=request.force)
            else:
                resp = self.api.update_group(request.group_id, plan.body, force=request.force, landed=plan.landed)
        except MarathonError as e:
            if e.status == 409 and not request.force and e.deployment_ids:
                raise _Locked(e.deployment_ids)
            raise
        self.result["changed"] = True
        self.result["deployment_id"] = resp.deployment_id
        if isinstance(resp.body, dict) and resp.body.get("version"):
            self.result["version"] = resp.body["version"]
        removed = {"id": request.group_id, "apps": []}  # what the apps of a removed group show
        if not request.wait:
            self._show_apps(plan, removed if plan.delete else self.api.get_group(request.group_id))
            return
        start = self.waiter.deadline.elapsed()
        self.waiter.wait_deployment(self.result["deployment_id"], request.group_id)
        group = removed if plan.delete else self._wait_apps(plan, None)
        self.result["duration"] = round(self.waiter.deadline.elapsed() - start, 3)
        self._show_apps(plan, group)

    def _settle(self, plan, live):
        """Nothing to write: still wait for deployments in progress and for every app's condition.
        When they hold already, the one GET was all."""
        if live is None or not self.request.wait or self.module.check_mode:
            if live is not None:
                self._show_apps(plan, live)
            return
        pending = sorted(set(i for app in group_apps(live).values() for i in deployment_ids(app)))
        if not pending and _all_met(plan, live):
            self._show_apps(plan, live)
            return
        start = self.waiter.deadline.elapsed()
        for deployment_id in pending:
            self.waiter.wait_deployment(deployment_id, self.request.group_id)
        group = self._wait_apps(plan, None if pending else live)
        self.result["duration"] = round(self.waiter.deadline.elapsed() - start, 3)
        self._show_apps(plan, group)

    def _wait_apps(self, plan, first):
        group_id = self.request.group_id

        def read():
            found = self.api.get_group(group_id)
            if found is None:
                raise MarathonError("Group '%s' disappeared while waiting for its apps" % group_id)
            return found

        def timed_out(last):
            waiting = _unmet(plan, last)
            return WaitTimeout("Timed out after %ss waiting for the apps of group '%s': %s"
                               % (self.request.wait_timeout, group_id, "; ".join(waiting)),
                               {"waiting_for": waiting})

        return self.waiter.poll(read, lambda group: _all_met(plan, group), timed_out, first=first)


def _condition(app):
    if is_resident(app) and not app.get("instances"):
        return "suspended"
    return "healthy" if app.get("healthChecks") else "running"


def _want(step, app):
    return step.instances if step.instances is not None else app.get("instances", 0)


def _unmet(plan, group):
    apps = group_apps(group)
    out = []
    for app_id, step in sorted(plan.steps.items()):
        if step.action == DELETE:
            if app_id in apps:
                out.append("%s still exists" % app_id)
            continue
        app = apps.get(app_id)
        if app is None:
            out.append("%s does not exist" % app_id)
        elif deployment_ids(app) or not app_condition_met(app, _condition(app), _want(step, app)):
            out.append("%s not yet %s (%s of %s running, %s healthy)"
                       % (app_id, _condition(app), app.get("tasksRunning", 0), _want(step, app),
                          app.get("tasksHealthy", 0)))
    return out


def _all_met(plan, group):
    return not _unmet(plan, group)


def run_group_module(module):
    """marathon_group's one call: converge the group, then exit_json or fail_json."""
    executor = GroupExecutor(module)
    try:
        result = executor.run()
    except Refusal as e:
        result = dict(executor.result)
        result.update(e.extra)
        module.fail_json(msg=e.msg, **result)
    except WaitTimeout as e:
        result = dict(executor.result)
        result.update(e.to_result())
        module.fail_json(msg=str(e), **result)
    except MarathonError as e:
        module.fail_from_error(e, **executor.result)
    module.exit_json(**result)
