"""The app service: every read and write of apps, tasks, deployments and the launch queue that the
HTTP API offers, in one place.

The HTTP handlers parse the request (path, query, body), call one method here and turn its result or
ApiError into an answer. Each write runs the same pipeline: normalize the body, validate it, apply the
resident-app rules, assign service ports, then deploy.
"""

from __future__ import annotations

from . import events as ev
from . import views
from .appdef.ids import canonical_id
from .appdef.normalize import app_for_output, normalize_app
from .appdef.ports import assign_service_ports, service_ports
from .appdef.resident import validate_resident_update
from .appdef.validation import validate_version_body
from .cluster import Cluster
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

    def group(self, group_id: str, embed: set) -> dict:
        """The group tree implied by the app ids (groups are not stored of their own)."""
        c = self.cluster
        with c.lock:
            ids = sorted(c.apps)
            if group_id != "/" and not any(a.startswith(group_id + "/") for a in ids):
                raise _group_not_found(group_id)
            version = max((c.apps[a]["version"] for a in ids), default=None)

            def build(gid: str) -> dict:
                prefix = "/" if gid == "/" else gid + "/"
                below = [a[len(prefix):] for a in ids if a.startswith(prefix)]
                subgroups = sorted({prefix + rest.split("/")[0] for rest in below if "/" in rest})
                out = {"id": gid, "apps": [views.app_info(c, prefix + rest, embed) for rest in below if "/" not in rest],
                       "pods": [], "groups": [build(g) for g in subgroups], "dependencies": []}
                if version:
                    out["version"] = version
                out["enforceRole"] = False
                return out

            return build(group_id)

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


def _same_instant(a: str, b: str) -> bool:
    try:
        return abs(parse_timestamp(a) - parse_timestamp(b)) < 0.0005
    except ValueError:
        return False
