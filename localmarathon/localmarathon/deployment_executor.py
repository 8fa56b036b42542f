"""Deployment execution: starting a deployment for a change of the root group, running its steps one
after the other (the actions of a step together), cancelling and reverting it.

Runs under the cluster lock; instance work (launch, kill, scale) goes through the instance tracker,
whose agent calls are collected as ``effects``.
"""

from __future__ import annotations

import math
import time

from . import events as ev
from .appdef.resident import is_resident
from .deployments import (Deployment, compute_plan_steps, dependency_levels, locked_error_body, merge_steps,
                          next_version_info)
from .instances import is_active
from .errors import ApiError


class DeploymentExecutor:
    def __init__(self, cluster):
        self.cluster = cluster
        self.deployments: dict[str, Deployment] = {}

    # ------------------------------------------------------------------ persistence

    def restore(self, data: dict) -> None:
        self.deployments = {d["id"]: Deployment.from_state(d) for d in data.get("deployments", [])}

    def to_state(self) -> dict:
        return {"deployments": [d.to_state() for d in self.deployments.values()]}

    # ------------------------------------------------------------------ starting and stopping

    def prepare_change(self, old_rec: dict | None, new_app: dict | None, *, restart: bool = False,
                       version: str | None = None):
        """Plan steps + the new record for one app (None = delete); the record is the old one
        unchanged when nothing changes (the app's version does not move)."""
        old_app = old_rec["app"] if old_rec else None
        steps = compute_plan_steps(old_app, new_app, restart=restart) if (old_app or new_app) else []
        if new_app is None:
            return steps, None
        version = version or self.cluster.clock.next()
        if old_rec is None:
            new_version, info = next_version_info(None, new_app, version)
        else:
            new_version, info = next_version_info(old_app, new_app, version, restart=restart,
                                                  old_version=old_rec["version"],
                                                  old_version_info=old_rec["versionInfo"])
        if new_version != version:
            return steps, dict(old_rec)
        return steps, {"app": new_app, "version": version, "versionInfo": info}

    def deploy(self, changes: dict, *, force: bool, kill_lists: dict | None = None, restart_ids=(),
               version: str | None = None, groups: dict | None = None) -> Deployment:
        """Apply ``changes`` ({app id: new definition or None}) to the root group and start one deployment.
        ``groups``: the group records ({group id: {"dependencies", "version", ...}}) the change leaves,
        None = unchanged. Steps follow the dependencies of the resulting root group.

        Raises ApiError 409 when a running deployment touches an affected app and ``force`` is false,
        422 when the dependencies form a cycle."""
        c = self.cluster
        tracker = c.tracker
        version = version or c.clock.next()
        per_app, original = [], {}
        prepared = {}
        for app_id, new_app in changes.items():
            old_rec = c.apps.get(app_id)
            steps, new_rec = self.prepare_change(old_rec, new_app, restart=app_id in restart_ids, version=version)
            if kill_lists and app_id in kill_lists and not steps:
                steps = [[{"action": "ScaleApplication", "app": app_id}]]
            per_app.append(steps)
            original[app_id] = old_rec
            prepared[app_id] = new_rec
        target_apps = {a: r["app"] for a, r in c.apps.items()}
        target_apps.update({a: r["app"] for a, r in prepared.items() if r is not None})
        for app_id in [a for a, r in prepared.items() if r is None]:
            target_apps.pop(app_id, None)
        target_groups = c.groups if groups is None else groups
        try:
            levels = dependency_levels(target_apps, {g: r.get("dependencies") for g, r in target_groups.items()})
        except ValueError:
            raise ApiError(422, {"message": "Object is not valid", "details": [
                {"path": "/", "errors": ["Dependency graph has cyclic dependencies."]}]}) from None
        steps = merge_steps(per_app, levels)
        dep = Deployment.new(version, steps, original, kill_lists)
        affected = set(dep.affected_apps)
        conflicts = [d for d in self.deployments.values() if d.conflicts_with(affected)] if steps else []
        if conflicts and not force:
            c.publish(ev.group_change_failed("/", version, "App is locked by one or more deployments."))
            c.publish(ev.deployment_failed(dep.plan_json(), "App is locked by one or more deployments."))
            raise ApiError(409, locked_error_body(conflicts))
        for other in conflicts:
            self._cancel(other, "The upgrade has been cancelled")
        for app_id, new_rec in prepared.items():
            if new_rec is None:
                c.forget_app(app_id)
                tracker.declined.pop(app_id, None)
            elif new_rec["version"] == version:
                if c.apps.get(app_id, {}).get("app") != new_rec["app"] or app_id in restart_ids:
                    tracker.backoff.pop(app_id, None)  # a new config starts without launch delay
                    tracker.declined.pop(app_id, None)  # and a new launch attempt
                c.record_version(app_id, new_rec["app"], version, new_rec["versionInfo"])
        if groups is not None:
            c.groups = groups
        c.publish(ev.group_change_success("/", version))
        self.deployments[dep.id] = dep
        dep.started_at = time.time()
        if not steps:
            # Zero-step plan: accepted and finished at once.
            del self.deployments[dep.id]
            c.publish(ev.deployment_success(dep.plan_json()))
        c.save()
        c.cond.notify_all()
        return dep

    def _cancel(self, dep: Deployment, reason: str) -> None:
        self.deployments.pop(dep.id, None)
        self.cluster.publish(ev.deployment_failed(dep.plan_json(), reason))
        self.cluster.mark_changed()

    def _running(self, dep_id: str) -> Deployment:
        dep = self.deployments.get(dep_id)
        if dep is None:
            raise ApiError(404, {"message": f"DeploymentPlan {dep_id} does not exist", "details": []})
        return dep

    def cancel_deployment(self, dep_id: str) -> None:
        """DELETE /v2/deployments/{id}?force=true: stop it where it is."""
        with self.cluster.lock:
            self._cancel(self._running(dep_id), "The upgrade has been cancelled")
            self.cluster.save()

    def rollback_deployment(self, dep_id: str) -> Deployment:
        """DELETE /v2/deployments/{id} without force: cancel it and deploy the revert."""
        with self.cluster.lock:
            dep = self._running(dep_id)
            self._cancel(dep, "The upgrade has been cancelled")
            changes = {}
            for app_id, old_rec in dep.original.items():
                changes[app_id] = None if old_rec is None else old_rec["app"]
            return self.deploy(changes, force=True)

    # ------------------------------------------------------------------ running the steps

    def busy_apps(self) -> set:
        return {a for d in self.deployments.values() for a in d.affected_apps}

    def advance_all_locked(self, effects: list) -> None:
        for dep in list(self.deployments.values()):
            self._advance(dep, effects)

    def _advance(self, dep: Deployment, effects: list) -> None:
        c = self.cluster
        # Fault stall_deployment: the plan runs as usual but its last step never completes, like a
        # real deployment stuck waiting for instances that never become ready.
        stalled = c.faults is not None and any(c.faults.deployment_stalled(a) for a in dep.affected_apps)
        plan = dep.plan_json()
        if dep.current_step == 0:
            self._begin_step(dep, 1, plan, effects)
        # Steps whose actions are already satisfied (StartApplication, scaling to 0...) complete in
        # the same tick, so a deployment is not visible longer than its work takes.
        while True:
            done = True
            for action in dep.current_actions():
                state = dep.action_state.setdefault(action["app"], {})
                if not self._action_done(dep, action, state, effects):
                    done = False
            if not done or (stalled and dep.current_step >= dep.total_steps):
                return
            c.publish(ev.deployment_step_success(plan, dep.current_step))
            if dep.current_step >= dep.total_steps:
                break
            self._begin_step(dep, dep.current_step + 1, plan, effects)
        self.deployments.pop(dep.id, None)
        for action in [a for s in dep.steps for a in s]:
            if action["action"] == "StopApplication":
                c.publish(ev.app_terminated(action["app"]))
        c.publish(ev.deployment_success(plan))
        c.mark_changed()
        c.cond.notify_all()

    def _begin_step(self, dep: Deployment, number: int, plan: dict, effects: list) -> None:
        dep.current_step = number
        dep.action_state = {}
        for action in dep.current_actions():
            dep.action_state[action["app"]] = self._start_action(dep, action, effects)
        self.cluster.publish(ev.deployment_info(plan, number))
        self.cluster.mark_changed()

    def _start_action(self, dep: Deployment, action: dict, effects: list) -> dict:
        tracker = self.cluster.tracker
        kind, app_id = action["action"], action["app"]
        state: dict = {}
        if kind == "StopApplication":
            for inst in tracker.app_instances(app_id):
                inst["goal"] = "Decommissioned"
                tracker.kill_locked(inst, effects)
        elif kind == "ScaleApplication":
            tracker.scale_locked(app_id, dep.kill_lists.get(app_id), effects)
        elif kind == "RestartApplication":
            rec = self.cluster.apps.get(app_id)
            state["old"] = [i["id"] for i in tracker.app_instances(app_id)
                            if i["goal"] == "Running" and rec and i["runVersion"] != rec["version"]]
        return state

    def _action_done(self, dep: Deployment, action: dict, state: dict, effects: list) -> bool:
        tracker = self.cluster.tracker
        kind, app_id = action["action"], action["app"]
        if kind == "StartApplication":
            return True
        if kind == "StopApplication":
            return not tracker.app_instances(app_id)
        rec = self.cluster.apps.get(app_id)
        if rec is None:
            return True
        if kind == "RestartApplication":
            return self._restart_step_locked(app_id, rec, state, effects)
        # ScaleApplication
        insts = tracker.app_instances(app_id)
        running = [i for i in insts if i["goal"] == "Running"]
        if len(running) < rec["app"].get("instances", 1):
            tracker.top_up_locked(app_id, rec, effects)
            return False
        others_quiet = all(not is_active(i.get("task")) for i in insts if i["goal"] != "Running")
        return others_quiet and all(tracker.ready(i) for i in running)

    def _restart_step_locked(self, app_id: str, rec: dict, state: dict, effects: list) -> bool:
        """Rolling replacement under upgradeStrategy (TaskReplaceActor): at least
        ceil(instances*minimumHealthCapacity) ready, at most floor(instances*(1+maximumOverCapacity)) total."""
        tracker = self.cluster.tracker
        ready = tracker.ready
        app, version = rec["app"], rec["version"]
        n = app.get("instances", 1)
        strategy = app.get("upgradeStrategy") or {}
        mhc = float(strategy.get("minimumHealthCapacity", 1.0))
        moc = float(strategy.get("maximumOverCapacity", 1.0))
        min_healthy = math.ceil(n * mhc)
        max_capacity = math.floor(n * (1 + moc))
        insts = {i["id"]: i for i in tracker.app_instances(app_id)}
        old = [insts[i] for i in state.get("old", []) if i in insts and insts[i]["goal"] == "Running"
               and insts[i]["runVersion"] != version]
        new = [i for i in insts.values() if i["goal"] == "Running" and i["runVersion"] == version]
        new_ready = sum(1 for i in new if ready(i))
        old_ready = [i for i in old if ready(i)]
        resident = any(i.get("reservation") for i in insts.values()) or is_resident(app)

        # Old instances beyond the target count just go away (scale down inside a restart).
        excess = len(old) + len(new) - n
        if excess > 0:
            for inst in sorted(old, key=ready)[:excess]:
                inst["goal"] = "Stopped" if inst.get("reservation") else "Decommissioned"
                tracker.kill_locked(inst, effects)
                old.remove(inst)
                if inst in old_ready:
                    old_ready.remove(inst)
        # Old instances that are not ready do not count towards capacity: replace them right away.
        can_kill = [i for i in old if i not in old_ready]
        budget = new_ready + len(old_ready) - min_healthy
        ready_sorted = list(old_ready)
        while budget > 0 and ready_sorted:
            can_kill.append(ready_sorted.pop())
            budget -= 1
        in_flight = len(new) - new_ready
        if resident and not can_kill and old_ready and in_flight == 0:
            # No room over capacity and min healthy == instances: replace one at a time.
            can_kill.append(old_ready[0])
        for inst in can_kill:
            if inst.get("reservation"):
                # Resident: relaunch on the same reservation with the new version.
                inst["runVersion"] = version
                tracker.kill_locked(inst, effects)
            else:
                inst["goal"] = "Decommissioned"
                tracker.kill_locked(inst, effects)
            if inst in old:
                old.remove(inst)
        if not resident:
            total = len(old) + len(new)
            room = max(max_capacity, n if not old else 0) - total
            if room <= 0 and len(new) == 0 and old and min_healthy >= max_capacity:
                room = 1  # TaskReplaceActor launches one over capacity when min healthy == max capacity
            while room > 0 and len(new) < n:
                new.append(tracker.new_instance(app_id, app, version))
                room -= 1
        else:
            missing = n - len(old) - len(new)
            if missing > 0:
                tracker.top_up_locked(app_id, rec, effects, True)
                new = [i for i in tracker.app_instances(app_id)
                       if i["goal"] == "Running" and i["runVersion"] == version]
        self.cluster.mark_changed()
        done = not old and len(new) >= n and all(ready(i) for i in new)
        quiet = all(not is_active(i.get("task")) for i in tracker.app_instances(app_id) if i["goal"] != "Running")
        return done and quiet
