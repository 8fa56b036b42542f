"""The "cluster": apps, versions, instances, reservations and deployments, and the loop that drives
instances towards their goals by launching and killing real processes on simulated agents.

Everything mutable lives behind one re-entrant lock (``Cluster.lock``). Agent calls (launch/kill) and
health monitors are started *after* the lock is released (collected as "effects"), so a slow agent
never blocks the HTTP threads.
"""

from __future__ import annotations

import logging
import math
import shutil
import threading
import time
from pathlib import Path

from . import events as ev
from . import hostports
from .deployments import Deployment, locked_error_body, merge_steps
from .state import StateStore
from .util import ApiError, VersionClock, format_ts, new_uuid, safe_app_id

log = logging.getLogger(__name__)

ACTIVE = {"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_UNREACHABLE"}
# States after which Marathon records a lastTaskFailure (TaskFailure.isFailure).
FAILURE_STATES = {"TASK_FAILED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_GONE", "TASK_UNKNOWN"}
HOST_PORT_RANGE = (31000, 32000)
OFFER_INTERVAL = 1.0  # seconds between two offers of an agent to an instance no offer matched
MAX_VERSIONS = 50  # --zk_max_versions default (§3.1.8)
HOST = "127.0.0.1"


def _appmodel():
    from . import appmodel  # LM-MODEL's module; imported lazily so this one loads without it
    return appmodel


class NoMatchingOffer(RuntimeError):
    """No agent offers what an instance needs; it waits in the launch queue, as with Mesos."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason  # Marathon's NoOfferMatchReason, e.g. InsufficientPorts


def is_active(task: dict | None) -> bool:
    return bool(task) and task.get("state") in ACTIVE


class Cluster:
    def __init__(self, data_dir, *, agents: int = 1, time_scale: float = 1.0, mesos_role: str = "slave_public",
                 bus: ev.EventBus | None = None, faults=None):
        self.data_dir = Path(data_dir)
        self.time_scale = float(time_scale)
        self.mesos_role = mesos_role
        self.bus = bus or ev.EventBus()
        self.faults = faults
        self.store = StateStore(self.data_dir)
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.clock = VersionClock()
        self.framework_id = None
        self.n_agents = max(1, int(agents))
        self.apps: dict[str, dict] = {}        # id → {"app", "version", "versionInfo"}
        self.versions: dict[str, list] = {}    # id → [{"version", "app", "versionInfo"}], newest first
        self.instances: dict[str, dict] = {}
        self.deployments: dict[str, Deployment] = {}
        self.backoff: dict[str, dict] = {}     # app id → {"failures": n, "until": epoch}
        self.last_failure: dict[str, dict] = {}
        self.queue_since: dict[str, str] = {}
        self.task_index: dict[str, str] = {}   # task id → instance id
        self.monitors: dict[str, list] = {}    # task id → health monitors
        self.agents: dict = {}
        self.used_host_ports: set[int] = set()
        # Instances no offer matched: instance id -> time of the next offer, app id -> declined-offer summary.
        self.next_offer_at: dict[str, float] = {}
        self.declined: dict[str, dict] = {}
        # Held across processes, so that other localmarathon servers on this machine skip them.
        self.port_reservations = hostports.PortReservations()
        self._dirty = False
        self._stopping = False
        self._thread = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def agent_ids(self) -> list[str]:
        return [f"{self.framework_id}-S{i}" for i in range(self.n_agents)]

    def start(self) -> None:
        from .agent import Agent  # LM-AGENT's module
        for sub in ("sandboxes", "volumes"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
        data = self.store.load()
        if data:
            self._restore(data)
        else:
            self.framework_id = new_uuid() + "-0000"
        for agent_id in self.agent_ids:
            self.agents[agent_id] = Agent(self.data_dir, agent_id, hostname=HOST, time_scale=self.time_scale)
        self._save()
        self._thread = threading.Thread(target=self._loop, name="lm-scheduler", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 20.0) -> None:
        """Stop every task and persist; instances keep their goals so a restart relaunches them."""
        with self.lock:
            self._stopping = True
            self.cond.notify_all()
            monitors = [m for ms in self.monitors.values() for m in ms]
            self.monitors.clear()
        for m in monitors:
            _safe(m.stop)
        for agent in self.agents.values():
            _safe(agent.shutdown, timeout=timeout)
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.lock:
            self._save(durable=True)
        self.port_reservations.release_all()

    def _restore(self, data: dict) -> None:
        self.framework_id = data["framework_id"]
        self.n_agents = max(self.n_agents, int(data.get("agents", 1)))
        self.apps = data.get("apps", {})
        self.versions = data.get("versions", {})
        self.instances = data.get("instances", {})
        self.last_failure = data.get("last_failure", {})
        self.deployments = {d["id"]: Deployment.from_state(d) for d in data.get("deployments", [])}
        for rec in self.apps.values():
            self.clock.observe(rec["version"])
        for inst in self.instances.values():
            task = inst.get("task")
            if task and task["state"] in ACTIVE:
                # The process died with the previous server (PDEATHSIG); Mesos would report it gone.
                task["state"] = "TASK_KILLED"
                task["killRequested"] = True
                inst["lastState"] = "TASK_KILLED"
            if inst.get("reservation"):
                for port in inst["reservation"].get("ports", []):
                    self.used_host_ports.add(port)
                    if not self.port_reservations.try_reserve(port):
                        log.warning("host port %s reserved by %s is held by another localmarathon", port, inst["id"])
        self._dirty = True

    def to_state(self) -> dict:
        return {
            "framework_id": self.framework_id,
            "agents": self.n_agents,
            "apps": self.apps,
            "versions": self.versions,
            "instances": self.instances,
            "deployments": [d.to_state() for d in self.deployments.values()],
            "last_failure": self.last_failure,
        }

    def _save(self, durable: bool = False) -> None:
        self.store.save(self.to_state(), durable=durable)
        self._dirty = False

    def wake(self) -> None:
        """Run the scheduler loop now (a fault changed what it should do)."""
        with self.lock:
            self.cond.notify_all()

    def admin_state(self) -> dict:
        """Instances and agents as the admin API shows them."""
        with self.lock:
            return {"instances": list(self.instances.values()), "agents": self.agent_ids}

    # ------------------------------------------------------------------ events

    def publish(self, payload: dict) -> None:
        try:
            self.bus.publish(payload["eventType"], payload)
        except Exception:  # an event must never break the scheduler
            log.exception("event publish failed")

    # ------------------------------------------------------------------ app records

    def app_definition(self, app_id: str, version: str | None = None) -> dict | None:
        rec = self.apps.get(app_id)
        if rec is None:
            return None
        if version is None or version == rec["version"]:
            return rec["app"]
        for v in self.versions.get(app_id, []):
            if v["version"] == version:
                return v["app"]
        return rec["app"]

    def _used_service_ports(self, exclude: str | None = None) -> set[int]:
        used = set()
        for app_id, rec in self.apps.items():
            if app_id == exclude:
                continue
            used.update(_service_ports(rec["app"]))
        return used

    def _check_group_clash(self, app_id: str) -> None:
        # §9: an app id may not equal an existing group id (a prefix of another app) or sit below an app.
        for other in self.apps:
            if other.startswith(app_id + "/") or app_id.startswith(other + "/"):
                raise ApiError(422, {"message": "Object is not valid", "details": [
                    {"path": "/", "errors": ["Groups and Applications may not have the same identifier."]}]})

    def _record_version(self, app_id: str, app: dict, version: str, version_info: dict) -> None:
        rec = {"app": app, "version": version, "versionInfo": version_info}
        self.apps[app_id] = rec
        hist = [v for v in self.versions.get(app_id, []) if v["version"] != version]
        hist.insert(0, dict(rec))
        self.versions[app_id] = hist[:MAX_VERSIONS]

    # ------------------------------------------------------------------ API: changes

    def prepare_change(self, old_rec: dict | None, new_app: dict | None, *, restart: bool = False,
                       version: str | None = None):
        """Plan steps + the new record for one app (None = delete); the record is the old one
        unchanged when nothing changes (§4.3 step 6: the app's version does not move)."""
        am = _appmodel()
        old_app = old_rec["app"] if old_rec else None
        steps = am.compute_plan_steps(old_app, new_app, restart=restart) if (old_app or new_app) else []
        if new_app is None:
            return steps, None
        version = version or self.clock.next()
        if old_rec is None:
            new_version, info = am.next_version_info(None, new_app, version)
        else:
            new_version, info = am.next_version_info(old_app, new_app, version, restart=restart,
                                                      old_version=old_rec["version"],
                                                      old_version_info=old_rec["versionInfo"])
        if new_version != version:
            return steps, dict(old_rec)
        return steps, {"app": new_app, "version": version, "versionInfo": info}

    def deploy(self, changes: dict, *, force: bool, kill_lists: dict | None = None, restart_ids=(),
               version: str | None = None) -> Deployment:
        """Apply ``changes`` ({app id: new record or None}) to the root group and start one deployment.

        Raises ApiError 409 when a running deployment touches an affected app and ``force`` is false."""
        version = version or self.clock.next()
        per_app, original = [], {}
        prepared = {}
        for app_id, new_app in changes.items():
            old_rec = self.apps.get(app_id)
            steps, new_rec = self.prepare_change(old_rec, new_app, restart=app_id in restart_ids, version=version)
            if kill_lists and app_id in kill_lists and not steps:
                steps = [[{"action": "ScaleApplication", "app": app_id}]]
            per_app.append(steps)
            original[app_id] = old_rec
            prepared[app_id] = new_rec
        steps = merge_steps(per_app)
        dep = Deployment.new(version, steps, original, kill_lists)
        affected = set(dep.affected_apps)
        conflicts = [d for d in self.deployments.values() if d.conflicts_with(affected)] if steps else []
        if conflicts and not force:
            self.publish(ev.group_change_failed("/", version, "App is locked by one or more deployments."))
            self.publish(ev.deployment_failed(dep.plan_json(), "App is locked by one or more deployments."))
            raise ApiError(409, locked_error_body(conflicts))
        for other in conflicts:
            self._cancel(other, "The upgrade has been cancelled")
        for app_id, new_rec in prepared.items():
            if new_rec is None:
                self.apps.pop(app_id, None)
                self.versions.pop(app_id, None)
                self.declined.pop(app_id, None)
            elif new_rec["version"] == version:
                if self.apps.get(app_id, {}).get("app") != new_rec["app"] or app_id in restart_ids:
                    self.backoff.pop(app_id, None)  # a new config starts without launch delay
                self._record_version(app_id, new_rec["app"], version, new_rec["versionInfo"])
        self.publish(ev.group_change_success("/", version))
        self.deployments[dep.id] = dep
        dep.started_at = time.time()
        if not steps:
            # Zero-step plan: accepted and finished at once (§4.3 step 6).
            del self.deployments[dep.id]
            self.publish(ev.deployment_success(dep.plan_json()))
        self._save()
        self.cond.notify_all()
        return dep

    def _cancel(self, dep: Deployment, reason: str) -> None:
        self.deployments.pop(dep.id, None)
        self.publish(ev.deployment_failed(dep.plan_json(), reason))
        self._dirty = True

    def cancel_deployment(self, dep_id: str) -> None:
        with self.lock:
            dep = self.deployments.get(dep_id)
            if dep is None:
                raise ApiError(404, {"message": f"DeploymentPlan {dep_id} does not exist", "details": []})
            self._cancel(dep, "The upgrade has been cancelled")
            self._save()

    def rollback_deployment(self, dep_id: str) -> Deployment:
        """DELETE /v2/deployments/{id} without force: cancel it and deploy the revert (§5.5)."""
        with self.lock:
            dep = self.deployments.get(dep_id)
            if dep is None:
                raise ApiError(404, {"message": f"DeploymentPlan {dep_id} does not exist", "details": []})
            self._cancel(dep, "The upgrade has been cancelled")
            changes = {}
            for app_id, old_rec in dep.original.items():
                changes[app_id] = None if old_rec is None else old_rec["app"]
            return self.deploy(changes, force=True)

    # ------------------------------------------------------------------ API: tasks

    def find_instance_by_task(self, task_id: str):
        inst_id = self.task_index.get(task_id)
        if inst_id is None:
            # Tasks of suspended resident instances and those before a restart are not indexed.
            for inst in self.instances.values():
                if inst.get("task") and inst["task"]["id"] == task_id:
                    return inst
            return None
        return self.instances.get(inst_id)

    def kill_instances(self, insts: list[dict], *, wipe: bool) -> list[dict]:
        """Kill without scaling (§3.2): the goal stays Running (relaunch, same reservation) unless
        wipe, which decommissions and expunges the instance."""
        effects = []
        shown = []
        with self.lock:
            for inst in insts:
                shown.append(self.task_json(inst))
                if wipe:
                    inst["goal"] = "Decommissioned"
                    inst["wiped"] = True
                self._kill_locked(inst, effects)
            self._dirty = True
            self.cond.notify_all()
        self._run(effects)
        if wipe:
            # wipe waits until the tasks are terminal (§3.2)
            deadline = time.time() + 30
            with self.lock:
                while time.time() < deadline and any(is_active(i.get("task")) for i in insts):
                    self.cond.wait(0.05)
        return shown

    def kill_task_fault(self, task_id: str, wipe: bool = False) -> None:
        """Fault kill_task: the task dies as if Mesos lost it; Marathon relaunches (or wipes)."""
        with self.lock:
            inst = self.find_instance_by_task(task_id)
            if inst is None or not is_active(inst.get("task")):
                raise LookupError(task_id)
            agent = self.agents[inst["agentId"]]
            if wipe:
                inst["goal"] = "Decommissioned"
                inst["wiped"] = True
        # Not marked killRequested: to the scheduler this is an unexpected death (backoff applies).
        _safe(agent.kill, task_id, 0)

    # ------------------------------------------------------------------ instance helpers

    def app_instances(self, app_id: str) -> list[dict]:
        return [i for i in self.instances.values() if i["appId"] == app_id]

    def _new_instance(self, app_id: str, app: dict, version: str) -> dict:
        am = _appmodel()
        inst_id = f"{safe_app_id(app_id)}.instance-{new_uuid()}"
        inst = {"id": inst_id, "appId": app_id, "agentId": self._pick_agent(), "goal": "Running",
                "runVersion": version, "incarnation": 0, "createdAt": time.time(), "task": None,
                "lastState": None, "reservation": None, "health": []}
        if am.is_resident(app):
            vols = []
            for vol in am.persistent_volumes(app):
                uid = new_uuid()
                pid = f"{safe_app_id(app_id)}#{vol['containerPath']}#{uid}"
                (self.data_dir / "volumes" / pid).mkdir(parents=True, exist_ok=True)
                vols.append({"runSpecId": app_id, "containerPath": vol["containerPath"], "uuid": uid,
                             "persistenceId": pid})
            inst["reservation"] = {"volumes": vols, "ports": [], "role": app.get("role", self.mesos_role)}
        self.instances[inst_id] = inst
        self.queue_since.setdefault(app_id, format_ts(time.time()))
        return inst

    def _pick_agent(self) -> str:
        load = {a: 0 for a in self.agent_ids}
        for inst in self.instances.values():
            if inst["agentId"] in load and (inst.get("reservation") or is_active(inst.get("task"))):
                load[inst["agentId"]] += 1
        return min(load, key=lambda a: (load[a], a))

    def _destroy_instance(self, inst: dict) -> None:
        res = inst.get("reservation")
        if res:
            for vol in res["volumes"]:
                shutil.rmtree(self.data_dir / "volumes" / vol["persistenceId"], ignore_errors=True)
            self._release_host_ports(res.get("ports", []))
        task = inst.get("task")
        if task:
            self.task_index.pop(task["id"], None)
        self.instances.pop(inst["id"], None)
        self.next_offer_at.pop(inst["id"], None)
        self._dirty = True

    def _decline_offer_locked(self, inst: dict, exc: NoMatchingOffer, now: float) -> None:
        """Record one unmatched offer; the next one comes after OFFER_INTERVAL (scaled)."""
        if inst["id"] not in self.next_offer_at:
            log.info("instance %s waits for an offer: %s", inst["id"], exc)
        self.next_offer_at[inst["id"]] = now + OFFER_INTERVAL / self.time_scale
        summary = self.declined.setdefault(inst["appId"], {"count": 0, "reasons": {}})
        summary["count"] += 1
        summary["at"] = now
        summary["reasons"][exc.reason] = summary["reasons"].get(exc.reason, 0) + 1

    def _allocate_ports(self, wanted: list[int]) -> list[int]:
        # Mesos offers a port only while no task holds it; the agents here share one host's ports.
        # Fixed ports are checked first, so an unmatched offer leaves no random port reserved.
        fixed = [want for want in wanted if want]
        for i, want in enumerate(fixed):
            if want in self.used_host_ports or want in fixed[:i]:
                raise NoMatchingOffer("InsufficientPorts", f"host port {want} is held by another task")
        out = []
        for want in wanted:
            if want:
                out.append(want)
                continue
            # Reserved machine-wide before it is checked free: another server's task may own it.
            port = hostports.pick_free_port(self.port_reservations, HOST_PORT_RANGE,
                                            skip=self.used_host_ports | set(out))
            if port is None:
                raise RuntimeError("no free host port in 31000-32000")
            out.append(port)
        self.used_host_ports.update(p for p in out)
        return out

    def _release_host_ports(self, ports) -> None:
        self.used_host_ports.difference_update(ports)
        for port in ports:
            self.port_reservations.release(port)

    def _launch_locked(self, inst: dict, effects: list) -> None:
        from .agent import LaunchSpec
        app = self.app_definition(inst["appId"], inst["runVersion"])
        res = inst.get("reservation")
        wanted = _host_port_requests(app)
        if res and len(res.get("ports", [])) == len(wanted):
            ports = list(res["ports"])  # resident: the host ports are part of the reservation
        else:
            ports = self._allocate_ports(wanted)  # may raise before anything of the instance changed
            if res is not None:
                res["ports"] = list(ports)
        self.next_offer_at.pop(inst["id"], None)
        self.declined.pop(inst["appId"], None)  # a new launch attempt starts a new summary
        inst["incarnation"] += 1
        task_id = f"{inst['id']}._app.{inst['incarnation']}"
        if res is None and inst.get("task") is not None:
            inst["agentId"] = self._pick_agent()  # only resident instances are pinned to an agent
        volumes = {}
        if res:
            for vol in res["volumes"]:
                volumes[vol["containerPath"]] = self.data_dir / "volumes" / vol["persistenceId"]
        sandbox = self.data_dir / "sandboxes" / task_id
        now = time.time()
        old = inst.get("task")
        if old:
            self.task_index.pop(old["id"], None)
        inst["task"] = {"id": task_id, "state": "TASK_STAGING", "stagedAt": format_ts(now),
                        "version": inst["runVersion"], "ports": ports, "killRequested": False, "message": ""}
        inst["health"] = []
        inst["lastState"] = None
        self.task_index[task_id] = inst["id"]
        self._dirty = True
        spec = LaunchSpec(task_id=task_id, instance_id=inst["id"], app=app, app_version=inst["runVersion"],
                          sandbox_dir=sandbox, volumes=volumes, host_ports=list(ports))
        agent = self.agents[inst["agentId"]]
        self._emit_status(inst, "TASK_STAGING")
        effects.append(lambda: self._do_launch(agent, spec))

    def _do_launch(self, agent, spec) -> None:
        try:
            agent.launch(spec, self._on_status)
        except Exception as exc:  # the agent could not even start it: a failed task, not a crash
            log.exception("launch of %s failed", spec.task_id)
            self._on_status(spec.task_id, "TASK_FAILED", f"Failed to launch container: {exc}")
            return
        # A kill requested between planning this launch and handing it to the agent reached an agent
        # that did not know the task yet: repeat it now.
        with self.lock:
            inst = self.instances.get(spec.instance_id)
            task = inst.get("task") if inst else None
            killed = bool(task and task["id"] == spec.task_id and task.get("killRequested"))
        if killed:
            _safe(agent.kill, spec.task_id, None)

    def _kill_locked(self, inst: dict, effects: list) -> None:
        task = inst.get("task")
        if not is_active(task) or task.get("killRequested"):
            return
        task["killRequested"] = True
        self._stop_monitors_locked(task["id"], effects)
        if task["state"] == "TASK_RUNNING":
            task["state"] = "TASK_KILLING"
            self._emit_status(inst, "TASK_KILLING")
        agent = self.agents.get(inst["agentId"])
        task_id = task["id"]
        if agent is not None:
            # grace None: the agent applies taskKillGracePeriodSeconds / time scale
            effects.append(lambda: _safe(agent.kill, task_id, None))
        self._dirty = True

    def _run(self, effects: list) -> None:
        for fn in effects:
            _safe(fn)

    def _emit_status(self, inst: dict, state: str, message: str = "") -> None:
        task = inst["task"]
        self.publish(ev.status_update(slave_id=inst["agentId"], task_id=task["id"], task_status=state,
                                      app_id=inst["appId"], host=HOST, ports=task.get("ports", []),
                                      version=task["version"], message=message or ""))
        try:
            self.publish(ev.instance_changed(instance_id=inst["id"], condition=state, run_spec_id=inst["appId"],
                                             agent_id=inst["agentId"], host=HOST,
                                             run_spec_version=task["version"]))
        except ValueError:
            pass

    # ------------------------------------------------------------------ status updates (agent threads)

    def _on_status(self, task_id: str, state: str, message: str | None = None, healthy: bool | None = None):
        effects = []
        with self.lock:
            if self._stopping:
                return
            inst = self.instances.get(self.task_index.get(task_id, ""))
            if inst is None or not inst.get("task") or inst["task"]["id"] != task_id:
                return
            task = inst["task"]
            if task["state"] not in ACTIVE:
                return
            if task.get("killRequested") and state in ("TASK_STARTING", "TASK_RUNNING"):
                return  # a late start report must not undo a requested kill
            task["state"] = state
            if message:
                task["message"] = message
            now = time.time()
            if state == "TASK_RUNNING" and "startedAt" not in task:
                task["startedAt"] = format_ts(now)
                task["startedEpoch"] = now
                self._start_monitors_locked(inst, effects)
            if state not in ACTIVE:
                self._terminal_locked(inst, state, message or "", now, effects)
            self._emit_status(inst, state, message or "")
            self._dirty = True
            self.cond.notify_all()
        self._run(effects)

    def _terminal_locked(self, inst: dict, state: str, message: str, now: float, effects: list) -> None:
        task = inst["task"]
        self._stop_monitors_locked(task["id"], effects)
        inst["lastState"] = state
        if not inst.get("reservation"):
            self._release_host_ports(task.get("ports", []))
        # A kill we asked for is not a failure, unless a failing health check was the reason.
        expected = task.get("killRequested") and state == "TASK_KILLED" and not task.get("unhealthyKill")
        if not expected or state in FAILURE_STATES:
            self.last_failure[inst["appId"]] = {
                "appId": inst["appId"], "host": HOST, "message": message or task.get("message", ""),
                "state": state, "taskId": task["id"], "timestamp": format_ts(now),
                "version": task["version"], "slaveId": inst["agentId"]}
            if not task.get("killRequested") and inst["goal"] == "Running":
                self._advance_backoff(inst["appId"], now)

    def _advance_backoff(self, app_id: str, now: float) -> None:
        # Launch backoff per backoffSeconds/backoffFactor/maxLaunchDelaySeconds, scaled (agent.launch_delay).
        from .agent import launch_delay
        app = self.app_definition(app_id) or {}
        failures = self.backoff.get(app_id, {}).get("failures", 0) + 1
        delay = launch_delay(app.get("backoffSeconds", 1), app.get("backoffFactor", 1.15),
                             app.get("maxLaunchDelaySeconds", 300), failures, self.time_scale)
        self.backoff[app_id] = {"failures": failures, "until": now + delay}

    def reset_delay(self, app_id: str) -> bool:
        with self.lock:
            return self.backoff.pop(app_id, None) is not None

    # ------------------------------------------------------------------ health

    def _start_monitors_locked(self, inst: dict, effects: list) -> None:
        app = self.app_definition(inst["appId"], inst["runVersion"]) or {}
        checks = app.get("healthChecks") or []
        if not checks:
            return
        inst["health"] = [None] * len(checks)
        task_id = inst["task"]["id"]
        agent = self.agents[inst["agentId"]]
        unhealthy = self.faults is not None and self.faults.app_unhealthy(inst["appId"])
        self.monitors[task_id] = []  # placeholder: results are accepted once monitors exist
        effects.append(lambda: self._create_monitors(task_id, agent, checks, unhealthy))

    def _create_monitors(self, task_id: str, agent, checks: list, unhealthy: bool) -> None:
        from .health import HealthMonitor  # LM-AGENT's module
        info = agent.task_info(task_id)  # outside our lock: the agent has its own
        if info is None:
            return
        monitors = []
        for idx, check in enumerate(checks):
            mon = HealthMonitor(check, info, self.time_scale,
                                on_result=lambda r, i=idx: self._on_health(task_id, i, r),
                                on_kill_needed=lambda *_: self._on_health_kill(task_id))
            if unhealthy:
                _safe(mon.force_unhealthy, True)
            monitors.append(mon)
        with self.lock:
            if task_id not in self.monitors:  # the task ended meanwhile
                start = False
            else:
                self.monitors[task_id] = monitors
                start = True
        if start:
            for mon in monitors:
                _safe(mon.start)

    def _stop_monitors_locked(self, task_id: str, effects: list) -> None:
        for mon in self.monitors.pop(task_id, []):
            # stop() joins the checker thread; never make a status callback wait for it
            effects.append(lambda m=mon: threading.Thread(target=_safe, args=(m.stop,), daemon=True).start())

    def _on_health(self, task_id: str, index: int, result: dict) -> None:
        with self.lock:
            inst = self.instances.get(self.task_index.get(task_id, ""))
            if inst is None or task_id not in self.monitors or inst["task"]["id"] != task_id:
                return
            health = inst.setdefault("health", [])
            while len(health) <= index:
                health.append(None)
            before = _healthy(health)
            prev = health[index]
            health[index] = dict(result)
            # Marathon's initial Health is not alive, so the first success is a flip, a first failure not.
            if bool((prev or {}).get("alive")) != bool(result.get("alive")):
                self.publish(ev.health_status_changed(app_id=inst["appId"], instance_id=inst["id"],
                                                      version=inst["task"]["version"],
                                                      alive=bool(result.get("alive"))))
            if not result.get("alive") and result.get("consecutiveFailures", 0) > 0:
                app = self.app_definition(inst["appId"], inst["runVersion"]) or {}
                checks = app.get("healthChecks") or []
                if index < len(checks):
                    self.publish(ev.failed_health_check(app_id=inst["appId"], task_id=inst["id"],
                                                        health_check=checks[index]))
            after = _healthy(health)
            if before != after:
                self.publish(ev.instance_health_changed(instance_id=inst["id"], run_spec_id=inst["appId"],
                                                        run_spec_version=inst["task"]["version"], healthy=after))
            self.cond.notify_all()

    def _on_health_kill(self, task_id: str) -> None:
        effects = []
        with self.lock:
            inst = self.instances.get(self.task_index.get(task_id, ""))
            if inst is None or not is_active(inst.get("task")) or inst["task"]["id"] != task_id:
                return
            task = inst["task"]
            self.publish(ev.unhealthy_instance_kill(
                app_id=inst["appId"], task_id=task_id, instance_id=inst["id"], version=task["version"],
                reason="Health check failed", host=HOST, slave_id=inst["agentId"]))
            task["unhealthyKill"] = True
            task["message"] = "Killed by Marathon: health check failed"
            self._kill_locked(inst, effects)  # goal stays Running: it is relaunched
        self._run(effects)

    def set_unhealthy(self, app_id: str, value: bool) -> None:
        with self.lock:
            mons = [m for inst in self.app_instances(app_id) if inst.get("task")
                    for m in self.monitors.get(inst["task"]["id"], [])]
        for m in mons:
            _safe(m.force_unhealthy, value)

    # ------------------------------------------------------------------ readiness of instances

    def _ready(self, inst: dict) -> bool:
        """Running and, if the app has health checks, healthy on all of them."""
        task = inst.get("task")
        if not task or task["state"] != "TASK_RUNNING" or task.get("killRequested"):
            return False
        app = self.app_definition(inst["appId"], inst["runVersion"]) or {}
        n = len(app.get("healthChecks") or [])
        if n == 0:
            return True
        health = inst.get("health") or []
        return len(health) >= n and all(h is not None and h.get("alive") for h in health[:n])

    # ------------------------------------------------------------------ deployment actions

    def _start_action(self, dep: Deployment, action: dict, effects: list) -> dict:
        kind, app_id = action["action"], action["app"]
        state: dict = {}
        if kind == "StopApplication":
            for inst in self.app_instances(app_id):
                inst["goal"] = "Decommissioned"
                self._kill_locked(inst, effects)
        elif kind == "ScaleApplication":
            self._scale_locked(app_id, dep.kill_lists.get(app_id), effects)
        elif kind == "RestartApplication":
            rec = self.apps.get(app_id)
            state["old"] = [i["id"] for i in self.app_instances(app_id)
                            if i["goal"] == "Running" and rec and i["runVersion"] != rec["version"]]
        return state

    def _scale_locked(self, app_id: str, kill_list, effects: list) -> None:
        rec = self.apps.get(app_id)
        if rec is None:
            return
        app, target = rec["app"], rec["app"].get("instances", 1)
        am = _appmodel()
        resident = am.is_resident(app)
        running = [i for i in self.app_instances(app_id) if i["goal"] == "Running"]
        to_stop = []
        if kill_list:
            to_stop = [i for i in running if i["id"] in kill_list]
        elif len(running) > target:
            # killSelection (§4.2 default YOUNGEST_FIRST): not-yet-running instances go first.
            youngest = app.get("killSelection", "YOUNGEST_FIRST") == "YOUNGEST_FIRST"
            ordered = sorted(running, key=lambda i: (self._ready(i), -i["createdAt"] if youngest else i["createdAt"]))
            to_stop = ordered[: len(running) - target]
        for inst in to_stop:
            # §8.4: resident instances are only stopped, keeping reservation and volume.
            inst["goal"] = "Stopped" if inst.get("reservation") else "Decommissioned"
            self._kill_locked(inst, effects)
        self._top_up_locked(app_id, rec, effects, resident)

    def _top_up_locked(self, app_id: str, rec: dict, effects: list, resident: bool | None = None) -> None:
        app, target = rec["app"], rec["app"].get("instances", 1)
        if resident is None:
            resident = _appmodel().is_resident(app)
        running = [i for i in self.app_instances(app_id) if i["goal"] == "Running"]
        missing = target - len(running)
        if missing <= 0:
            return
        if resident:
            # §8.4: stopped reserved instances are re-scheduled first (same instance, agent, volume).
            stopped = sorted((i for i in self.app_instances(app_id) if i["goal"] == "Stopped"),
                             key=lambda i: i["createdAt"])
            for inst in stopped[:missing]:
                inst["goal"] = "Running"
                inst["runVersion"] = rec["version"]
                missing -= 1
        for _ in range(missing):
            self._new_instance(app_id, app, rec["version"])
        self._dirty = True

    def _action_done(self, dep: Deployment, action: dict, state: dict, effects: list) -> bool:
        kind, app_id = action["action"], action["app"]
        if kind == "StartApplication":
            return True
        if kind == "StopApplication":
            return not self.app_instances(app_id)
        rec = self.apps.get(app_id)
        if rec is None:
            return True
        if kind == "RestartApplication":
            return self._restart_step_locked(app_id, rec, state, effects)
        # ScaleApplication
        insts = self.app_instances(app_id)
        running = [i for i in insts if i["goal"] == "Running"]
        if len(running) < rec["app"].get("instances", 1):
            self._top_up_locked(app_id, rec, effects)
            return False
        others_quiet = all(not is_active(i.get("task")) for i in insts if i["goal"] != "Running")
        return others_quiet and all(self._ready(i) for i in running)

    def _restart_step_locked(self, app_id: str, rec: dict, state: dict, effects: list) -> bool:
        """Rolling replacement under upgradeStrategy (TaskReplaceActor): at least
        ceil(instances*minimumHealthCapacity) ready, at most floor(instances*(1+maximumOverCapacity)) total."""
        app, version = rec["app"], rec["version"]
        n = app.get("instances", 1)
        strategy = app.get("upgradeStrategy") or {}
        mhc = float(strategy.get("minimumHealthCapacity", 1.0))
        moc = float(strategy.get("maximumOverCapacity", 1.0))
        min_healthy = math.ceil(n * mhc)
        max_capacity = math.floor(n * (1 + moc))
        insts = {i["id"]: i for i in self.app_instances(app_id)}
        old = [insts[i] for i in state.get("old", []) if i in insts and insts[i]["goal"] == "Running"
               and insts[i]["runVersion"] != version]
        new = [i for i in insts.values() if i["goal"] == "Running" and i["runVersion"] == version]
        new_ready = sum(1 for i in new if self._ready(i))
        old_ready = [i for i in old if self._ready(i)]
        resident = any(i.get("reservation") for i in insts.values()) or _appmodel().is_resident(app)

        # Old instances beyond the target count just go away (scale down inside a restart).
        excess = len(old) + len(new) - n
        if excess > 0:
            for inst in sorted(old, key=lambda i: self._ready(i))[:excess]:
                inst["goal"] = "Stopped" if inst.get("reservation") else "Decommissioned"
                self._kill_locked(inst, effects)
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
                # Resident: relaunch on the same reservation with the new version (§8.4).
                inst["runVersion"] = version
                self._kill_locked(inst, effects)
            else:
                inst["goal"] = "Decommissioned"
                self._kill_locked(inst, effects)
            if inst in old:
                old.remove(inst)
        if not resident:
            total = len(old) + len(new)
            room = max(max_capacity, n if not old else 0) - total
            if room <= 0 and len(new) == 0 and old and min_healthy >= max_capacity:
                room = 1  # TaskReplaceActor launches one over capacity when min healthy == max capacity
            while room > 0 and len(new) < n:
                new.append(self._new_instance(app_id, app, version))
                room -= 1
        else:
            missing = n - len(old) - len(new)
            if missing > 0:
                self._top_up_locked(app_id, rec, effects, True)
                new = [i for i in self.app_instances(app_id) if i["goal"] == "Running" and i["runVersion"] == version]
        self._dirty = True
        done = not old and len(new) >= n and all(self._ready(i) for i in new)
        quiet = all(not is_active(i.get("task")) for i in self.app_instances(app_id) if i["goal"] != "Running")
        return done and quiet

    # ------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        last_save = 0.0
        while True:
            effects: list = []
            with self.lock:
                if self._stopping:
                    return
                try:
                    self._tick_locked(effects)
                except Exception:
                    log.exception("scheduler tick failed")
                if self._dirty and time.time() - last_save > 0.2:
                    try:
                        self._save()
                    except OSError:
                        log.exception("saving state failed")
                    last_save = time.time()
            self._run(effects)
            with self.lock:
                if not self._stopping and not effects:
                    self.cond.wait(0.05)

    def _tick_locked(self, effects: list) -> None:
        now = time.time()
        # Deployments first: they set goals.
        for dep in list(self.deployments.values()):
            self._advance_deployment(dep, effects)
        busy = {a for d in self.deployments.values() for a in d.affected_apps}
        # Keep the instance count outside deployments (Marathon's periodic scale check): wiped or
        # expunged instances are replaced.
        for app_id, rec in self.apps.items():
            if app_id not in busy:
                self._top_up_locked(app_id, rec, effects)
        for inst in list(self.instances.values()):
            task = inst.get("task")
            goal = inst["goal"]
            if inst["appId"] not in self.apps and goal == "Running":
                inst["goal"] = goal = "Decommissioned"
            if goal == "Running":
                if not is_active(task):
                    b = self.backoff.get(inst["appId"])
                    if (b is None or b["until"] <= now) and self.next_offer_at.get(inst["id"], 0) <= now:
                        try:
                            self._launch_locked(inst, effects)
                        except NoMatchingOffer as exc:
                            self._decline_offer_locked(inst, exc, now)
                        except RuntimeError as exc:
                            log.error("cannot launch %s: %s", inst["id"], exc)
            elif is_active(task):
                self._kill_locked(inst, effects)
            elif goal == "Decommissioned":
                self._destroy_instance(inst)
        for app_id in list(self.queue_since):
            if not any(i["goal"] == "Running" and not is_active(i.get("task")) for i in self.app_instances(app_id)):
                self.queue_since.pop(app_id, None)

    def _advance_deployment(self, dep: Deployment, effects: list) -> None:
        # Fault stall_deployment: the plan runs as usual but its last step never completes, like a
        # real deployment stuck waiting for instances that never become ready.
        stalled = self.faults is not None and any(self.faults.deployment_stalled(a) for a in dep.affected_apps)
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
            self.publish(ev.deployment_step_success(plan, dep.current_step))
            if dep.current_step >= dep.total_steps:
                break
            self._begin_step(dep, dep.current_step + 1, plan, effects)
        self.deployments.pop(dep.id, None)
        for action in [a for s in dep.steps for a in s]:
            if action["action"] == "StopApplication":
                self.publish(ev.app_terminated(action["app"]))
        self.publish(ev.deployment_success(plan))
        self._dirty = True
        self.cond.notify_all()

    def _begin_step(self, dep: Deployment, number: int, plan: dict, effects: list) -> None:
        dep.current_step = number
        dep.action_state = {}
        for action in dep.current_actions():
            dep.action_state[action["app"]] = self._start_action(dep, action, effects)
        self.publish(ev.deployment_info(plan, number))
        self._dirty = True

    # ------------------------------------------------------------------ read models

    def task_json(self, inst: dict, service_ports: list | None = None) -> dict:
        """Task object (§6.1); a task that is not active is shown the 1.8–1.10 way of §8.5."""
        task = inst.get("task") or {}
        app = self.app_definition(inst["appId"], inst["runVersion"]) or {}
        role = (inst.get("reservation") or {}).get("role") or app.get("role", self.mesos_role)
        active = is_active(task)
        out = {"appId": inst["appId"],
               "healthCheckResults": [dict(h) for h in (inst.get("health") or []) if h] if active else [],
               "host": HOST, "id": task.get("id", f"{inst['id']}._app.{inst['incarnation']}"),
               "ipAddresses": [{"ipAddress": HOST, "protocol": "IPv4"}],
               "ports": list(task.get("ports", [])) if active else [],
               "servicePorts": list(service_ports or []),
               "slaveId": inst["agentId"],
               "state": task.get("state") if active else (inst.get("lastState") or task.get("state", "TASK_KILLED"))}
        if active:
            out["stagedAt"] = task["stagedAt"]
            if task.get("startedAt"):
                out["startedAt"] = task["startedAt"]
            out["version"] = task["version"]
        out["localVolumes"] = [dict(v) for v in (inst.get("reservation") or {}).get("volumes", [])]
        out["role"] = role
        return out

    def visible_instances(self, app_id: str) -> list[dict]:
        """Instances listed in task lists: active tasks, plus resident instances with a reservation
        whose task ended (suspended, §8.5)."""
        out = []
        for inst in self.app_instances(app_id):
            task = inst.get("task")
            if is_active(task) or (inst.get("reservation") and task):
                out.append(inst)
        return sorted(out, key=lambda i: i["createdAt"])

    def counts(self, app_id: str) -> dict:
        # §6.4: staged/running by Mesos state; healthy/unhealthy by health results; others nowhere.
        staged = running = healthy = unhealthy = 0
        for inst in self.app_instances(app_id):
            task = inst.get("task")
            if not is_active(task):
                continue
            if task["state"] == "TASK_RUNNING":
                running += 1
            elif task["state"] == "TASK_STAGING":
                staged += 1
            results = [h for h in (inst.get("health") or []) if h]
            if results and all(h.get("alive") for h in results):
                healthy += 1
            elif any(not h.get("alive") for h in results):
                unhealthy += 1
        return {"tasksStaged": staged, "tasksRunning": running, "tasksHealthy": healthy,
                "tasksUnhealthy": unhealthy}

    def app_deployments(self, app_id: str) -> list[dict]:
        return [{"id": d.id} for d in self.deployments.values() if app_id in d.affected_apps]

    def app_info(self, app_id: str, embed: set[str], *, tasks_default: bool = False) -> dict:
        am = _appmodel()
        rec = self.apps[app_id]
        out = am.app_for_output(rec["app"], rec["version"], rec["versionInfo"])
        out.update(self.counts(app_id))
        out["deployments"] = self.app_deployments(app_id)
        if "readiness" in embed:
            out["readinessCheckResults"] = []
        if tasks_default or "tasks" in embed:
            out["tasks"] = [self.task_json(i) for i in self.visible_instances(app_id)]
        if (tasks_default or "lastTaskFailure" in embed) and app_id in self.last_failure:
            out["lastTaskFailure"] = dict(self.last_failure[app_id])
        return out

    def queue_json(self) -> list[dict]:
        am = _appmodel()
        now = time.time()
        out = []
        for app_id, rec in self.apps.items():
            waiting = [i for i in self.app_instances(app_id)
                       if i["goal"] == "Running" and not is_active(i.get("task"))]
            if not waiting:
                continue
            b = self.backoff.get(app_id)
            left = max(0.0, (b["until"] - now) * self.time_scale) if b else 0.0
            declined = self.declined.get(app_id)
            offers = {"processedOffersCount": 0, "unusedOffersCount": 0}
            if declined:
                offers = {"processedOffersCount": declined["count"], "unusedOffersCount": declined["count"],
                          "lastUnusedOfferAt": format_ts(declined["at"]),
                          "rejectSummaryLaunchAttempt": [
                              {"reason": reason, "declined": n, "processed": declined["count"]}
                              for reason, n in sorted(declined["reasons"].items())]}
            out.append({"count": len(waiting), "role": rec["app"].get("role", self.mesos_role),
                        "delay": {"timeLeftSeconds": int(math.ceil(left)), "overdue": left <= 0},
                        "since": self.queue_since.get(app_id, format_ts(now)),
                        "processedOffersSummary": offers,
                        "app": am.app_for_output(rec["app"], rec["version"], rec["versionInfo"])})
        return out


# ---------------------------------------------------------------------- helpers


def _safe(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception:
        log.exception("%s failed", getattr(fn, "__name__", fn))
        return None


def _healthy(health: list) -> bool | None:
    results = [h for h in health if h]
    if not results:
        return None
    return all(h.get("alive") for h in results)


def _service_ports(app: dict) -> list[int]:
    ports = [p.get("port", 0) for p in app.get("portDefinitions") or []]
    ports += [m.get("servicePort", 0) for m in (app.get("container") or {}).get("portMappings") or []]
    return [p for p in ports if p]


def _network_mode(app: dict) -> str:
    nets = app.get("networks") or [{"mode": "host"}]
    return nets[0].get("mode", "host")


def _host_port_requests(app: dict) -> list[int]:
    """Host ports a task needs: 0 = any free one, else that exact port."""
    mode = _network_mode(app)
    if mode == "host":
        defs = app.get("portDefinitions") or []
        if app.get("requirePorts"):
            return [d.get("port", 0) for d in defs]
        return [0 for _ in defs]
    out = []
    for m in (app.get("container") or {}).get("portMappings") or []:
        if "hostPort" in m:
            out.append(m["hostPort"] or 0)
    return out


def parse_task_app(task_id: str) -> str | None:
    """App id embedded in a task id (`prod_db.instance-<uuid>._app.1` → `/prod/db`); None if unparsable."""
    if "." not in task_id:
        return None
    for marker in (".instance-", ".marathon-"):
        if marker in task_id:
            return "/" + task_id.split(marker, 1)[0].replace("_", "/")
    head, _, tail = task_id.partition(".")
    if head and tail:
        return "/" + head.replace("_", "/")
    return None


