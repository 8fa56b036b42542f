"""The app service: every read and write of apps, tasks, deployments and the launch queue that the
HTTP API offers, in one place.

The HTTP handlers parse the request (path, query, body), call one method here and turn its result or
ApiError into an answer. Each write runs the same pipeline: normalize the body, validate it, apply the
resident-app rules, assign service ports, then deploy.
"""

from __future__ import annotations

import math

from . import events as ev
from . import views
from .appdef.ids import canonical_id
from .appdef.normalize import app_for_output, normalize_app
from .appdef.ports import assign_service_ports, service_ports
from .appdef.resident import validate_resident_update
from .appdef.validation import validate_version_body
from .cluster import MAX_VERSIONS, Cluster
from .deployments import Deployment
from .instances import is_active, parse_task_app
from .errors import ApiError, not_found_app
from .timestamps import parse_api_timestamp, parse_timestamp


class AppService:
    def __init__(self, cluster: Cluster, *, mesos_role: str):
        self.cluster = cluster
        self.tracker = cluster.tracker
        self.executor = cluster.executor
        self.mesos_role = mesos_role

    # ------------------------------------------------------------------ reads

    @property
    def framework_id(self) -> str | None:
        return self.cluster.framework_id

    def list_apps(self, embed: set, *, id_filter: str = "", cmd_filter: str = "", match_labels=None) -> list:
        c = self.cluster
        with c.lock:
            out = []
            for app_id in sorted(c.apps):
                app = c.apps[app_id]["app"]
                if id_filter and id_filter not in app_id.lower():
                    continue
                if cmd_filter and cmd_filter not in (app.get("cmd") or "").lower():
                    continue
                if match_labels and not match_labels(app.get("labels") or {}):
                    continue
                out.append(views.app_info(c, app_id, embed))
            return out

    def app(self, app_id: str, embed: set) -> dict:
        c = self.cluster
        with c.lock:
            if app_id not in c.apps:
                raise not_found_app(app_id)
            # GET /v2/apps/{id} always shows counts, tasks, lastTaskFailure and deployments
            return views.app_info(c, app_id, embed, tasks_default=True)

    def group_apps(self, group_id: str, embed: set) -> list:
        c = self.cluster
        prefix = "/" if group_id == "/" else group_id + "/"
        with c.lock:
            ids = [a for a in sorted(c.apps) if a.startswith(prefix)]
            if not ids and group_id != "/":
                raise _group_not_found(group_id)
            return [views.app_info(c, a, embed, tasks_default=True) for a in ids]

    def group(self, group_id: str, embed: set, *, with_apps: bool = True, with_groups: bool = True) -> dict:
        """GET /v2/groups[/{id}]: the groups written through /v2/groups and those implied by app ids."""
        c = self.cluster
        with c.lock:
            if not self._group_exists(group_id):
                raise _group_not_found(group_id)
            return self._group_json(group_id, lambda app_id: views.app_info(c, app_id, embed),
                                    with_apps=with_apps, with_groups=with_groups)

    def _group_exists(self, group_id: str) -> bool:
        c = self.cluster
        return group_id == "/" or group_id in c.groups or any(g.startswith(group_id + "/") for g in c.groups) \
            or any(a.startswith(group_id + "/") for a in c.apps)

    def _child_groups(self, group_id: str) -> list[str]:
        prefix = "/" if group_id == "/" else group_id + "/"
        c = self.cluster
        below = [i[len(prefix):] for i in [*c.apps, *c.groups] if i.startswith(prefix)]
        return sorted({prefix + rest.split("/")[0] for rest in below if "/" in rest}
                      | {prefix + rest for rest in below if rest and "/" not in rest and prefix + rest in c.groups})

    def _direct_apps(self, group_id: str) -> list[str]:
        prefix = "/" if group_id == "/" else group_id + "/"
        return [a for a in sorted(self.cluster.apps) if a.startswith(prefix) and "/" not in a[len(prefix):]]

    def _group_json(self, group_id: str, app_json, *, with_apps: bool = True, with_groups: bool = True) -> dict:
        c = self.cluster
        prefix = "/" if group_id == "/" else group_id + "/"
        record = c.groups.get(group_id, {})
        out = {"id": group_id}
        if with_apps:
            out["apps"] = [app_json(a) for a in self._direct_apps(group_id)]
            out["pods"] = []
        if with_groups:
            out["groups"] = [self._group_json(g, app_json, with_apps=with_apps) for g in self._child_groups(group_id)]
        out["dependencies"] = list(record.get("dependencies", []))
        version = max([c.apps[a]["version"] for a in c.apps if a.startswith(prefix)]
                      + [r["version"] for g, r in c.groups.items() if g == group_id or g.startswith(prefix)],
                      default=None)
        if version:
            out["version"] = version
        out["enforceRole"] = bool(record.get("enforceRole", False))
        return out

    def group_versions(self, group_id: str) -> list[str]:
        c = self.cluster
        with c.lock:
            if not self._group_exists(group_id):
                raise _group_not_found(group_id)
            return [v["version"] for v in c.group_versions.get(group_id, [])]

    def group_version(self, group_id: str, version: str) -> dict:
        c = self.cluster
        with c.lock:
            for v in c.group_versions.get(group_id, []):
                if v["version"] == version or _same_instant(v["version"], version):
                    return v["group"]
        raise ApiError(404, {"message": f"Group {group_id} not found in version {version}", "details": []})

    # ------------------------------------------------------------------ group writes

    def update_group(self, raw_id: str, raw, *, force: bool, create: bool) -> tuple[Deployment, str]:
        """POST /v2/groups (``create``) and PUT /v2/groups/{id}: the group update applied to the root
        group as one deployment. A body with ``version`` rolls the group back; with ``scaleBy`` (and no
        version) it scales every app below the group. Returns the deployment and the group's id."""
        if not isinstance(raw, dict):
            raise ApiError(422, {"message": "Invalid JSON", "details": [
                {"path": "", "errors": ["error.expected.jsobject"]}]})
        c = self.cluster
        with c.lock:
            if create:
                if not isinstance(raw.get("id"), str):
                    raise ApiError(422, {"message": "Invalid JSON", "details": [
                        {"path": "/id", "errors": ["error.path.missing"]}]})
                group_id = _canonical_group_id(raw["id"], raw_id, "/id")
                if self._group_exists(group_id) and group_id != "/":
                    raise ApiError(409, {"message": f"Group {group_id} is already created. "
                                                    "Use PUT to change this group."})
            else:
                group_id = raw_id
            if raw.get("version") is not None:
                snapshot = self.group_version(group_id, str(raw["version"]))
                return self._apply_group(group_id, _snapshot_as_update(snapshot), force=force), group_id
            if raw.get("scaleBy") is not None:
                return self._scale_group(group_id, raw["scaleBy"], force=force), group_id
            return self._apply_group(group_id, raw, force=force), group_id

    def delete_group(self, group_id: str, *, force: bool) -> Deployment:
        """DELETE /v2/groups/{id}: the group, its groups and every app below it go in one deployment."""
        c = self.cluster
        with c.lock:
            if not self._group_exists(group_id):
                raise _group_not_found(group_id)
            prefix = "/" if group_id == "/" else group_id + "/"
            changes = {a: None for a in c.apps if a.startswith(prefix)}
            groups = {g: r for g, r in c.groups.items() if g != group_id and not g.startswith(prefix)}
            dep = self.executor.deploy(changes, force=force, groups=groups)
            self._record_group_versions(group_id, dep.version, deleted=True)
            return dep

    def _scale_group(self, group_id: str, factor, *, force: bool) -> Deployment:
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor < 0:
            raise ApiError(422, {"message": "Object is not valid", "details": [
                {"path": "/scaleBy", "errors": ["error.min: 0.0"]}]})
        c = self.cluster
        if not self._group_exists(group_id):
            raise _group_not_found(group_id)
        prefix = "/" if group_id == "/" else group_id + "/"
        changes = {}
        for app_id in [a for a in c.apps if a.startswith(prefix)]:
            app = dict(c.apps[app_id]["app"])
            app["instances"] = math.ceil(app.get("instances", 1) * factor)
            changes[app_id] = app
        dep = self.executor.deploy(changes, force=force)
        self._record_group_versions(group_id, dep.version)
        return dep

    def _apply_group(self, group_id: str, update: dict, *, force: bool) -> Deployment:
        """Flatten the update into the apps and groups it leaves below ``group_id`` and deploy the
        difference; each app goes through the one write pipeline (``_prepared_definition``)."""
        c = self.cluster
        target_apps: dict = {}   # app id -> (raw definition, error path prefix) for apps the update names
        kept_apps: set = set()   # app ids the update leaves as they are
        target_groups: dict = {}
        self._flatten_update(group_id, update, "", target_apps, kept_apps, target_groups)
        prefix = "/" if group_id == "/" else group_id + "/"
        changes: dict = {}
        for app_id in [a for a in c.apps if a.startswith(prefix)]:
            if app_id not in target_apps and app_id not in kept_apps:
                changes[app_id] = None
        for app_id, (raw_app, path) in target_apps.items():
            if app_id in target_groups:
                raise ApiError(422, {"message": "Object is not valid", "details": [
                    {"path": "/", "errors": ["Groups and Applications may not have the same identifier."]}]})
            ports_of_batch = {p for a in changes.values() if a for p in service_ports(a)}
            try:
                changes[app_id] = self._prepared_definition(raw_app, app_id, c.apps.get(app_id), partial=False,
                                                            force=force, also_used=ports_of_batch,
                                                            check_group_clash=False)
            except ApiError as exc:
                raise _prefixed(exc, path) from None
        # groups below this one that the update no longer lists go, as their apps do
        groups = {g: r for g, r in c.groups.items() if g != group_id and not g.startswith(prefix)}
        for gid, record in target_groups.items():
            old = c.groups.get(gid, {})
            if old.get("dependencies") != record["dependencies"] or gid not in c.groups:
                record = dict(record, version=None)
            else:
                record = dict(record, version=old.get("version"))
            groups[gid] = record
        version = c.clock.next()
        for record in groups.values():
            if record.get("version") is None:
                record["version"] = version
        dep = self.executor.deploy(changes, force=force, version=version, groups=groups)
        self._record_group_versions(group_id, dep.version)
        return dep

    def _flatten_update(self, group_id: str, update: dict, path: str, target_apps: dict, kept_apps: set,
                        target_groups: dict) -> None:
        c = self.cluster
        deps = update.get("dependencies")
        if deps is None:
            deps = c.groups.get(group_id, {}).get("dependencies", [])
        elif not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise ApiError(422, {"message": "Invalid JSON", "details": [
                {"path": f"{path}/dependencies", "errors": ["error.expected.jsarray"]}]})
        target_groups[group_id] = {"dependencies": [canonical_id(d, group_id) for d in deps],
                                   "enforceRole": bool(update.get("enforceRole",
                                                                  c.groups.get(group_id, {}).get("enforceRole")))}
        apps = update.get("apps")
        if apps is None:
            kept_apps.update(self._direct_apps(group_id))
        else:
            for i, app in enumerate(apps if isinstance(apps, list) else [apps]):
                where = f"{path}/apps({i})"
                if not isinstance(app, dict) or not isinstance(app.get("id"), str):
                    raise ApiError(422, {"message": "Invalid JSON", "details": [
                        {"path": f"{where}/id", "errors": ["error.path.missing"]}]})
                app_id = _child_id(app["id"], group_id, f"{where}/id")
                app = dict(app, id=app_id)
                if isinstance(app.get("dependencies"), list):
                    # inside a group, dependencies are relative to the group (unlike /v2/apps)
                    app["dependencies"] = [_canonical_group_id(d, group_id, f"{where}/dependencies/id")
                                           if isinstance(d, str) else d for d in app["dependencies"]]
                target_apps[app_id] = (app, where)
        groups = update.get("groups")
        if groups is None:
            prefix = "/" if group_id == "/" else group_id + "/"
            kept_apps.update(a for a in c.apps if a.startswith(prefix) and "/" in a[len(prefix):])
            for g, record in c.groups.items():
                if g.startswith(prefix):
                    target_groups[g] = {k: v for k, v in record.items() if k != "version"}
            return
        for i, sub in enumerate(groups if isinstance(groups, list) else [groups]):
            where = f"{path}/groups({i})"
            if not isinstance(sub, dict) or not isinstance(sub.get("id"), str):
                raise ApiError(422, {"message": "Invalid JSON", "details": [
                    {"path": f"{where}/id", "errors": ["error.path.missing"]}]})
            self._flatten_update(_child_id(sub["id"], group_id, f"{where}/id"), sub, where, target_apps,
                                 kept_apps, target_groups)

    def _record_group_versions(self, group_id: str, version: str, *, deleted: bool = False) -> None:
        """The written group and each group above it get a version entry: what GET .../versions/{v}
        shows and what a rollback to it deploys again."""
        c = self.cluster
        segments = [s for s in group_id.split("/") if s]
        chain = ["/"] + ["/" + "/".join(segments[:n]) for n in range(1, len(segments) + 1)]
        for gid in chain:
            if deleted and gid == group_id:
                c.group_versions.pop(gid, None)
                continue
            snapshot = self._group_json(gid, lambda a: app_for_output(c.apps[a]["app"], c.apps[a]["version"],
                                                                       c.apps[a]["versionInfo"], c.marathon))
            snapshot["version"] = version
            history = [v for v in c.group_versions.get(gid, []) if v["version"] != version]
            history.insert(0, {"version": version, "group": snapshot})
            c.group_versions[gid] = history[:MAX_VERSIONS]

    def versions(self, app_id: str) -> list[str]:
        c = self.cluster
        with c.lock:
            if app_id not in c.apps:
                raise not_found_app(app_id)
            # newest first: the DC/OS CLI treats index 0 as the newest
            return [v["version"] for v in c.versions.get(app_id, [])]

    def version(self, app_id: str, version: str) -> dict:
        c = self.cluster
        with c.lock:
            if app_id not in c.apps:
                raise not_found_app(app_id)
            parse_api_timestamp(version)
            for v in c.versions.get(app_id, []):
                if v["version"] == version or _same_instant(v["version"], version):
                    return app_for_output(v["app"], v["version"], v["versionInfo"], c.marathon)
        raise ApiError(404, {"message": f"App '{app_id}' does not exist in version {version}", "details": []})

    def app_tasks(self, app_id: str) -> list:
        c = self.cluster
        with c.lock:
            if app_id not in c.apps:
                raise not_found_app(app_id)
            return views.app_tasks(c, app_id)

    def group_tasks(self, group_id: str) -> list:
        c = self.cluster
        prefix = group_id.rstrip("/") + "/"
        with c.lock:
            ids = [a for a in sorted(c.apps) if a.startswith(prefix) or group_id == "/"]
            if not ids:
                raise _group_not_found(group_id)
            return [t for a in ids for t in views.app_tasks(c, a)]

    def all_tasks(self, states: set) -> list:
        """Every visible task, with servicePorts filled; ``states`` (empty = all) filters by state."""
        c = self.cluster
        out = []
        with c.lock:
            for app_id in sorted(c.apps):
                for task in views.app_tasks(c, app_id, service_ports(c.apps[app_id]["app"])):
                    if not states or task["state"] in states:
                        out.append(task)
        return out

    def deployments(self) -> list:
        with self.cluster.lock:
            return [d.to_json() for d in self.executor.deployments.values()]

    def queue(self) -> list:
        with self.cluster.lock:
            return views.queue_json(self.cluster)

    def reset_delay(self, app_id: str) -> None:
        c = self.cluster
        with c.lock:
            waiting = [q for q in views.queue_json(c) if q["app"]["id"] == app_id]
        if not waiting:
            raise ApiError(404, {"message": f"Application {app_id} not found in tasks queue."})
        self.tracker.reset_delay(app_id)

    # ------------------------------------------------------------------ app writes

    def create(self, raw, *, force: bool, client_ip: str) -> tuple[dict, Deployment]:
        """POST /v2/apps: returns the created app as POST shows it, and its deployment."""
        c = self.cluster
        with c.lock:
            app = self._prepared_definition(raw, None, None, partial=False, force=force)
            app_id = app["id"]
            dep = self.executor.deploy({app_id: app}, force=force)
            c.publish(ev.api_post(client_ip=client_ip, uri="/v2/apps", app_definition=app))
            rec = c.apps[app_id]
            # the canonical app with zero counts and its deployment; no versionInfo, no tasks
            out = app_for_output(rec["app"], rec["version"], None, c.marathon)
            out.update({"tasksStaged": 0, "tasksRunning": 0, "tasksHealthy": 0, "tasksUnhealthy": 0,
                        "deployments": [{"id": dep.id}]})
        return out, dep

    def update(self, raw_id: str, raw, *, force: bool, partial: bool, patch: bool,
               client_ip: str) -> tuple[Deployment, bool]:
        """PUT/PATCH /v2/apps/{id}, including the rollback body {"version": ...}.
        Returns the deployment and whether the app was created."""
        app_id = canonical_id(raw_id)
        c = self.cluster
        with c.lock:
            rec = c.apps.get(app_id)
            if patch and rec is None:
                raise not_found_app(app_id, details=False)
            if partial and rec is not None and isinstance(raw, dict):
                version = validate_version_body(raw)
                if version is not None:
                    return self._rollback_to(app_id, rec, version, force), False
            app = self._prepared_definition(raw, app_id, rec, partial=partial, force=force)
            dep = self.executor.deploy({app_id: app}, force=force)
            c.publish(ev.api_post(client_ip=client_ip, uri=f"/v2/apps{app_id}", app_definition=app))
        return dep, rec is None

    def update_many(self, raw, *, force: bool, partial: bool, patch: bool) -> Deployment:
        """PUT/PATCH /v2/apps with a list: one deployment for all of them."""
        if not isinstance(raw, list):
            raise ApiError(422, {"message": "Invalid JSON", "details": [
                {"path": "", "errors": ["error.expected.jsarray"]}]})
        c = self.cluster
        with c.lock:
            changes = {}
            for item in raw:
                if not isinstance(item, dict) or not item.get("id"):
                    raise ApiError(422, {"message": "requirement failed: App Update must have app id set"})
                app_id = canonical_id(item["id"])
                rec = c.apps.get(app_id)
                if patch and rec is None:
                    raise not_found_app(app_id, details=False)
                ports_of_batch = {p for a in changes.values() for p in service_ports(a)}
                # a list update has never refused a new app whose id clashes with a group
                changes[app_id] = self._prepared_definition(item, app_id, rec, partial=partial, force=force,
                                                            also_used=ports_of_batch, check_group_clash=False)
            return self.executor.deploy(changes, force=force)

    def delete(self, app_id: str, *, force: bool) -> Deployment:
        c = self.cluster
        with c.lock:
            if app_id not in c.apps:
                raise not_found_app(app_id, details=False)
            return self.executor.deploy({app_id: None}, force=force)

    def restart(self, app_id: str, *, force: bool) -> Deployment:
        c = self.cluster
        with c.lock:
            rec = c.apps.get(app_id)
            if rec is None:
                raise not_found_app(app_id, details=False)
            return self.executor.deploy({app_id: rec["app"]}, force=force, restart_ids={app_id})

    def report_rejected_change(self, message: str) -> None:
        """A refused app write is announced on the event bus as a failed root-group change."""
        c = self.cluster
        c.publish(ev.group_change_failed("/", c.clock.next(), message))

    def _prepared_definition(self, raw, app_id: str | None, rec: dict | None, *, partial: bool, force: bool,
                             also_used: set = frozenset(), check_group_clash: bool = True) -> dict:
        """The write pipeline up to the deployment: normalize and validate the body, refuse an id that
        is taken, apply the resident-app rules, assign service ports. ``app_id`` None = POST (the id
        comes from the body); ``rec`` is the stored record of the app, if any."""
        existing = rec["app"] if rec else None
        app = normalize_app(raw, path_id=app_id, existing=existing, partial=partial and rec is not None,
                               mesos_role=self.mesos_role, marathon=self.cluster.marathon,
                               enabled_features=self.cluster.features)
        if rec is None:
            if app["id"] in self.cluster.apps:
                raise ApiError(409, {"message": f"An app with id [{app['id']}] already exists."})
            if check_group_clash:
                self._refuse_group_clash(app["id"])
        else:
            validate_resident_update(existing, app, force=force, marathon=self.cluster.marathon)
        used = self._used_service_ports(exclude=app["id"]) | set(also_used)
        return assign_service_ports(app, used, existing)

    def _rollback_to(self, app_id: str, rec: dict, version: str, force: bool) -> Deployment:
        """The stored definition of ``version`` is deployed again, under a new version."""
        target = None
        for v in self.cluster.versions.get(app_id, []):
            if v["version"] == version:
                target = v["app"]
        if target is None:
            parse_api_timestamp(version)
            raise not_found_app(app_id, details=False)
        validate_resident_update(rec["app"], target, force=force, marathon=self.cluster.marathon)
        return self.executor.deploy({app_id: dict(target)}, force=force)

    def _refuse_group_clash(self, app_id: str) -> None:
        # An app id may not equal an existing group id (a prefix of another app) or sit below an app.
        for other in self.cluster.apps:
            if other.startswith(app_id + "/") or app_id.startswith(other + "/"):
                raise ApiError(422, {"message": "Object is not valid", "details": [
                    {"path": "/", "errors": ["Groups and Applications may not have the same identifier."]}]})

    def _used_service_ports(self, exclude: str | None = None) -> set[int]:
        used = set()
        for app_id, rec in self.cluster.apps.items():
            if app_id != exclude:
                used.update(service_ports(rec["app"]))
        return used

    # ------------------------------------------------------------------ deployments

    def cancel_deployment(self, dep_id: str) -> None:
        self.executor.cancel_deployment(dep_id)

    def rollback_deployment(self, dep_id: str) -> Deployment:
        return self.executor.rollback_deployment(dep_id)

    # ------------------------------------------------------------------ killing tasks

    def kill_app_tasks(self, app_id: str, *, host: str | None, scale: bool, wipe: bool,
                       force: bool) -> Deployment | list:
        """DELETE /v2/apps/{id}/tasks: the killed tasks, or with scale the deployment."""
        c = self.cluster
        with c.lock:
            if app_id not in c.apps:
                raise not_found_app(app_id)
            # wipe also reaches suspended resident instances: it is how their reservations are freed
            insts = [i for i in self.tracker.app_instances(app_id) if is_active(i.get("task"))
                     or (wipe and i.get("reservation") and i["goal"] != "Decommissioned")]
            if host and host != "*":
                insts = [i for i in insts if host == "127.0.0.1"]
            if scale and not wipe and not self.tracker.app_instances(app_id):
                raise ApiError(404, {"message": f"Path '{app_id}' does not exist"})
        return self._kill({app_id: insts}, scale=scale, wipe=wipe, force=force)

    def kill_task(self, app_id: str, task_id: str, *, scale: bool, wipe: bool, force: bool) -> Deployment | dict:
        """DELETE /v2/apps/{id}/tasks/{taskId}: the killed task, or with scale the deployment."""
        c = self.cluster
        with c.lock:
            if app_id not in c.apps:
                raise not_found_app(app_id)
            inst = self.tracker.find_by_task(task_id)
            if inst is None or inst["appId"] != app_id:
                raise ApiError(404, {"message": f"Task '{task_id}' does not exist", "details": []})
        result = self._kill({app_id: [inst]}, scale=scale, wipe=wipe, force=force)
        return result if isinstance(result, Deployment) else result[0]

    def kill_tasks_by_id(self, task_ids: list, *, scale: bool, wipe: bool, force: bool) -> Deployment | list:
        """POST /v2/tasks/delete: well-formed but unknown ids are skipped."""
        c = self.cluster
        by_app: dict = {}
        with c.lock:
            for tid in task_ids:
                if parse_task_app(tid) is None:
                    raise ApiError(400, {"message": f"Invalid task id '{tid}'."})
                inst = self.tracker.find_by_task(tid)
                if inst is not None:
                    by_app.setdefault(inst["appId"], []).append(inst)
        return self._kill(by_app, scale=scale, wipe=wipe, force=force)

    def _kill(self, by_app: dict, *, scale: bool, wipe: bool, force: bool) -> Deployment | list:
        if scale and wipe:
            raise ApiError(400, {"message": "You cannot use scale and wipe at the same time."})
        c = self.cluster
        if scale:
            with c.lock:
                return self._kill_and_scale({a: v for a, v in by_app.items() if a in c.apps}, force)
        return self.tracker.kill_instances([i for v in by_app.values() for i in v], wipe=wipe)

    def _kill_and_scale(self, by_app: dict, force: bool) -> Deployment:
        """scale=true: lower instances by the active instances killed and deploy a ScaleApplication
        whose kill list is exactly those."""
        changes, kill_lists = {}, {}
        for app_id, insts in by_app.items():
            rec = self.cluster.apps[app_id]
            active = [i for i in insts if i["goal"] == "Running" and is_active(i.get("task"))
                      and not i["task"].get("killRequested")]
            new = dict(rec["app"])
            new["instances"] = max(0, new.get("instances", 1) - len(active))
            changes[app_id] = new
            kill_lists[app_id] = [i["id"] for i in active]
        return self.executor.deploy(changes, force=force, kill_lists=kill_lists)


def _group_not_found(group_id: str) -> ApiError:
    return ApiError(404, {"message": f"Group '{group_id}' does not exist", "details": []})


_READ_ONLY_APP_FIELDS = ("version", "versionInfo", "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy",
                         "deployments", "tasks", "lastTaskFailure", "readinessCheckResults", "taskStats",
                         "tasksStats", "residency")


def _snapshot_as_update(snapshot: dict) -> dict:
    """A stored group version as the group update that deploys it again."""
    return {"id": snapshot["id"], "dependencies": snapshot.get("dependencies", []),
            "apps": [{k: v for k, v in a.items() if k not in _READ_ONLY_APP_FIELDS} for a in snapshot.get("apps", [])],
            "groups": [_snapshot_as_update(g) for g in snapshot.get("groups", [])]}


def _canonical_group_id(raw_id: str, base: str, path: str) -> str:
    if raw_id.strip("/") == "" and base == "/":
        return "/"
    try:
        return canonical_id(raw_id, base)
    except ApiError as exc:
        raise _prefixed(exc, path[:-len("/id")]) from None


def _child_id(raw_id: str, group_id: str, path: str) -> str:
    """An id inside a group definition: relative ids resolve against the group, absolute ones must
    lie below it."""
    child = _canonical_group_id(raw_id, group_id, path)
    if not child.startswith("/" if group_id == "/" else group_id + "/"):
        raise ApiError(422, {"message": "Object is not valid", "details": [
            {"path": path, "errors": [f"identifier {child} is not child of {group_id}. Hint: use relative paths."]}]})
    return child


def _prefixed(exc: ApiError, prefix: str) -> ApiError:
    """An error about one app of a group body, its paths moved below the app's place in the body."""
    body = exc.body
    if prefix and isinstance(body, dict) and isinstance(body.get("details"), list):
        body = dict(body, details=[dict(d, path=prefix + (d.get("path") or "")) if isinstance(d, dict) else d
                                   for d in body["details"]])
    return ApiError(exc.status, body, exc.headers)


def _same_instant(a: str, b: str) -> bool:
    try:
        return abs(parse_timestamp(a) - parse_timestamp(b)) < 0.0005
    except ValueError:
        return False
