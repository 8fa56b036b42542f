"""Instances and their reservations: launching and killing tasks on the agents, status updates and
terminal states, launch backoff, host ports and the health-check glue (Marathon's instance tracker
and launch queue).

Every method that names ``_locked`` or takes ``effects`` runs under the cluster lock; agent calls
(launch, kill) and health monitors are appended to ``effects`` and run once the lock is released, so
a slow agent never blocks the HTTP threads.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time

from . import events as ev
from .appdef.resident import is_resident, persistent_volumes
from .hostports import HostPortAllocator, NoMatchingOffer
from .offers import OfferStatistics, app_needs, decline_reasons
from .timestamps import format_timestamp
from .util import new_uuid, safe_app_id

log = logging.getLogger(__name__)

ACTIVE = {"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_UNREACHABLE"}
# States after which Marathon records a lastTaskFailure (TaskFailure.isFailure).
FAILURE_STATES = {"TASK_FAILED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_GONE", "TASK_UNKNOWN"}
OFFER_INTERVAL = 1.0  # seconds between two offers of an agent to an instance no offer matched
HOST = "127.0.0.1"


def is_active(task: dict | None) -> bool:
    return bool(task) and task.get("state") in ACTIVE


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


def run_effects(effects: list) -> None:
    for fn in effects:
        safe_call(fn)


def safe_call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception:
        log.exception("%s failed", getattr(fn, "__name__", fn))
        return None


class InstanceTracker:
    """The instances of every app, indexed by task, and what happens to their tasks."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.instances: dict[str, dict] = {}
        self.task_index: dict[str, str] = {}   # task id → instance id
        self.monitors: dict[str, list] = {}    # task id → health monitors
        self.backoff: dict[str, dict] = {}     # app id → {"failures": n, "until": epoch}
        self.last_failure: dict[str, dict] = {}
        self.queue_since: dict[str, str] = {}
        # Instances no offer matched: instance id -> time of the next offer; app id -> its offer statistics.
        self.next_offer_at: dict[str, float] = {}
        self.declined: dict[str, OfferStatistics] = {}
        self.host_ports = HostPortAllocator(cluster.agent_resources.ports)

    # ------------------------------------------------------------------ persistence

    def restore(self, data: dict) -> None:
        self.instances = data.get("instances", {})
        self.last_failure = data.get("last_failure", {})
        for inst in self.instances.values():
            task = inst.get("task")
            if task and task["state"] in ACTIVE:
                # The process died with the previous server (PDEATHSIG); Mesos would report it gone.
                task["state"] = "TASK_KILLED"
                task["killRequested"] = True
                inst["lastState"] = "TASK_KILLED"
            if inst.get("reservation"):
                for port in inst["reservation"].get("ports", []):
                    if not self.host_ports.restore(port):
                        log.warning("host port %s reserved by %s is held by another localmarathon", port, inst["id"])

    def to_state(self) -> dict:
        return {"instances": self.instances, "last_failure": self.last_failure}

    def stop_all_monitors(self) -> None:
        with self.cluster.lock:
            monitors = [m for ms in self.monitors.values() for m in ms]
            self.monitors.clear()
        for m in monitors:
            safe_call(m.stop)

    # ------------------------------------------------------------------ lookups

    def app_instances(self, app_id: str) -> list[dict]:
        return [i for i in self.instances.values() if i["appId"] == app_id]

    def find_by_task(self, task_id: str):
        inst_id = self.task_index.get(task_id)
        if inst_id is None:
            # Tasks of suspended resident instances and those before a restart are not indexed.
            for inst in self.instances.values():
                if inst.get("task") and inst["task"]["id"] == task_id:
                    return inst
            return None
        return self.instances.get(inst_id)

    def ready(self, inst: dict) -> bool:
        """Running and, if the app has health checks, healthy on all of them."""
        task = inst.get("task")
        if not task or task["state"] != "TASK_RUNNING" or task.get("killRequested"):
            return False
        app = self.cluster.app_definition(inst["appId"], inst["runVersion"]) or {}
        n = len(app.get("healthChecks") or [])
        if n == 0:
            return True
        health = inst.get("health") or []
        return len(health) >= n and all(h is not None and h.get("alive") for h in health[:n])

    # ------------------------------------------------------------------ API: kills

    def kill_instances(self, insts: list[dict], *, wipe: bool) -> list[dict]:
        """Kill without scaling: the goal stays Running (relaunch, same reservation) unless wipe,
        which decommissions and expunges the instance. Returns the tasks as they were shown."""
        from .views import task_json  # views reads instances through this module
        c = self.cluster
        effects = []
        shown = []
        with c.lock:
            for inst in insts:
                shown.append(task_json(c, inst))
                if wipe:
                    inst["goal"] = "Decommissioned"
                    inst["wiped"] = True
                self.kill_locked(inst, effects)
            c.mark_changed()
            c.cond.notify_all()
        run_effects(effects)
        if wipe:
            # wipe waits until the tasks are terminal
            deadline = time.time() + 30
            with c.lock:
                while time.time() < deadline and any(is_active(i.get("task")) for i in insts):
                    c.cond.wait(0.05)
        return shown

    def kill_task_fault(self, task_id: str, wipe: bool = False) -> None:
        """Fault kill_task: the task dies as if Mesos lost it; Marathon relaunches (or wipes)."""
        with self.cluster.lock:
            inst = self.find_by_task(task_id)
            if inst is None or not is_active(inst.get("task")):
                raise LookupError(task_id)
            agent = self.cluster.agents[inst["agentId"]]
            if wipe:
                inst["goal"] = "Decommissioned"
                inst["wiped"] = True
        # Not marked killRequested: to the scheduler this is an unexpected death (backoff applies).
        safe_call(agent.kill, task_id, 0)

    def reset_delay(self, app_id: str) -> bool:
        with self.cluster.lock:
            return self.backoff.pop(app_id, None) is not None

    # ------------------------------------------------------------------ the periodic pass

    def tick_locked(self, busy_apps: set, effects: list) -> None:
        """Move every instance towards its goal: launch, kill or expunge."""
        c = self.cluster
        now = time.time()
        # Keep the instance count outside deployments (Marathon's periodic scale check): wiped or
        # expunged instances are replaced.
        for app_id, rec in c.apps.items():
            if app_id not in busy_apps:
                self.top_up_locked(app_id, rec, effects)
        for inst in list(self.instances.values()):
            task = inst.get("task")
            goal = inst["goal"]
            if inst["appId"] not in c.apps and goal == "Running":
                inst["goal"] = goal = "Decommissioned"
            if goal == "Running":
                if not is_active(task):
                    b = self.backoff.get(inst["appId"])
                    if (b is None or b["until"] <= now) and self.next_offer_at.get(inst["id"], 0) <= now:
                        try:
                            self._launch_locked(inst, effects)
                        except OffersDeclined as exc:
                            self._decline_offers_locked(inst, exc.reasons, now)
                        except RuntimeError as exc:
                            log.error("cannot launch %s: %s", inst["id"], exc)
            elif is_active(task):
                self.kill_locked(inst, effects)
            elif goal == "Decommissioned":
                self._destroy_instance(inst)
        for app_id in set(self.queue_since) | set(self.declined):
            if not any(i["goal"] == "Running" and not is_active(i.get("task")) for i in self.app_instances(app_id)):
                # Every instance launched: the launch attempt and its offer statistics end.
                self.queue_since.pop(app_id, None)
                self.declined.pop(app_id, None)

    # ------------------------------------------------------------------ instance counts

    def scale_locked(self, app_id: str, kill_list, effects: list) -> None:
        """Stop instances beyond the target count (or exactly those of ``kill_list``), then top up."""
        rec = self.cluster.apps.get(app_id)
        if rec is None:
            return
        app, target = rec["app"], rec["app"].get("instances", 1)
        running = [i for i in self.app_instances(app_id) if i["goal"] == "Running"]
        to_stop = []
        if kill_list:
            to_stop = [i for i in running if i["id"] in kill_list]
        elif len(running) > target:
            # killSelection (default YOUNGEST_FIRST): not-yet-running instances go first.
            youngest = app.get("killSelection", "YOUNGEST_FIRST") == "YOUNGEST_FIRST"
            ordered = sorted(running, key=lambda i: (self.ready(i), -i["createdAt"] if youngest else i["createdAt"]))
            to_stop = ordered[: len(running) - target]
        for inst in to_stop:
            # Resident instances are only stopped, keeping reservation and volume.
            inst["goal"] = "Stopped" if inst.get("reservation") else "Decommissioned"
            self.kill_locked(inst, effects)
        self.top_up_locked(app_id, rec, effects, is_resident(app))

    def top_up_locked(self, app_id: str, rec: dict, effects: list, resident: bool | None = None) -> None:
        app, target = rec["app"], rec["app"].get("instances", 1)
        if resident is None:
            resident = is_resident(app)
        running = [i for i in self.app_instances(app_id) if i["goal"] == "Running"]
        missing = target - len(running)
        if missing <= 0:
            return
        if resident:
            # Stopped reserved instances are re-scheduled first (same instance, agent, volume).
            stopped = sorted((i for i in self.app_instances(app_id) if i["goal"] == "Stopped"),
                             key=lambda i: i["createdAt"])
            for inst in stopped[:missing]:
                inst["goal"] = "Running"
                inst["runVersion"] = rec["version"]
                missing -= 1
        for _ in range(missing):
            self.new_instance(app_id, app, rec["version"])
        self.cluster.mark_changed()

    def new_instance(self, app_id: str, app: dict, version: str) -> dict:
        c = self.cluster
        inst_id = f"{safe_app_id(app_id)}.instance-{new_uuid()}"
        inst = {"id": inst_id, "appId": app_id, "agentId": self._pick_agent(), "goal": "Running",
                "runVersion": version, "incarnation": 0, "createdAt": time.time(), "task": None,
                "lastState": None, "reservation": None, "health": []}
        if is_resident(app):
            vols = []
            for vol in persistent_volumes(app):
                uid = new_uuid()
                pid = f"{safe_app_id(app_id)}#{vol['containerPath']}#{uid}"
                (c.data_dir / "volumes" / pid).mkdir(parents=True, exist_ok=True)
                vols.append({"runSpecId": app_id, "containerPath": vol["containerPath"], "uuid": uid,
                             "persistenceId": pid})
            inst["reservation"] = {"volumes": vols, "ports": [], "role": app.get("role", c.mesos_role)}
        self.instances[inst_id] = inst
        self.queue_since.setdefault(app_id, format_timestamp(time.time()))
        return inst

    def _pick_agent(self) -> str:
        return self._agents_by_load()[0]

    def _agents_by_load(self) -> list:
        load = {a: 0 for a in self.cluster.agent_ids}
        for inst in self.instances.values():
            if inst["agentId"] in load and (inst.get("reservation") or is_active(inst.get("task"))):
                load[inst["agentId"]] += 1
        return sorted(load, key=lambda a: (load[a], a))

    def _destroy_instance(self, inst: dict) -> None:
        res = inst.get("reservation")
        if res:
            for vol in res["volumes"]:
                shutil.rmtree(self.cluster.data_dir / "volumes" / vol["persistenceId"], ignore_errors=True)
            self.host_ports.release(res.get("ports", []))
        task = inst.get("task")
        if task:
            self.task_index.pop(task["id"], None)
        self.instances.pop(inst["id"], None)
        self.next_offer_at.pop(inst["id"], None)
        self.cluster.mark_changed()

    # ------------------------------------------------------------------ launch and kill

    def _decline_offers_locked(self, inst: dict, reasons: dict, now: float) -> None:
        """Record the declined offers (agent id -> reasons); the next ones come after OFFER_INTERVAL (scaled)."""
        if inst["id"] not in self.next_offer_at:
            log.info("instance %s waits for an offer: %s", inst["id"],
                     "; ".join(f"{a}: {', '.join(r)}" for a, r in sorted(reasons.items())))
        self.next_offer_at[inst["id"]] = now + OFFER_INTERVAL / self.cluster.time_scale
        stats = self.declined.setdefault(inst["appId"], OfferStatistics())
        for agent_id, agent_reasons in sorted(reasons.items()):
            stats.declined(agent_id, agent_reasons, now)

    def _placed(self, inst: dict) -> bool:
        """A resident instance launched once holds its reservation on its agent."""
        return inst.get("reservation") is not None and inst.get("incarnation", 0) > 0

    def _agent_usage_locked(self, agent_id: str, exclude: dict) -> tuple[dict, list]:
        """Scalar resources the agent's tasks and reservations take, and the instances placed on it."""
        used = {"cpus": 0.0, "mem": 0.0, "disk": 0.0, "gpus": 0.0}
        placed = []
        for other in self.instances.values():
            if other is exclude or other["agentId"] != agent_id:
                continue
            task = other.get("task")
            if not (self._placed(other) or is_active(task)):
                continue
            version = task["version"] if is_active(task) and not self._placed(other) else other["runVersion"]
            for name, value in app_needs(self.cluster.app_definition(other["appId"], version) or {}).items():
                used[name] += value
            placed.append(other)
        return used, placed

    def _offer_reasons_locked(self, inst: dict, app: dict, agent_id: str, wanted_ports: list, own_ports: bool) -> list:
        """Why the agent's offer does not fit the instance (empty: it fits)."""
        c = self.cluster
        res = c.agent_resources
        used, placed = self._agent_usage_locked(agent_id, inst)
        free = {name: getattr(res, name) - used[name] for name in used}
        peers = [(HOST, res.attributes) for other in placed if other["appId"] == inst["appId"]]
        lo, hi = res.ports
        if own_ports:
            ports_ok = True  # resident: the host ports are part of its reservation
        else:
            # Fixed host ports are checked only against other tasks: tests pick any free port of this
            # machine, and every agent here shares it. Dynamic ones come from the agents' range.
            taken = self.host_ports.in_use
            dynamic = len([p for p in wanted_ports if not p])
            ports_ok = (all(p not in taken for p in wanted_ports if p)
                        and dynamic <= (hi - lo + 1) - len([p for p in taken if lo <= p <= hi]))
        return decline_reasons(app, free, res, HOST, app.get("role") or c.mesos_role, peers, ports_ok)

    def _choose_agent_locked(self, inst: dict, app: dict, wanted_ports: list, own_ports: bool) -> str:
        """The agent whose offer fits: a placed resident instance only fits its own agent, others
        take the one picked for them when it fits, else the least loaded one that fits. OffersDeclined
        when no offer fits."""
        candidates = [inst["agentId"]]
        if not self._placed(inst):
            candidates += [a for a in self._agents_by_load() if a != inst["agentId"]]
        declined = {}
        for agent_id in candidates:
            reasons = self._offer_reasons_locked(inst, app, agent_id, wanted_ports, own_ports)
            if not reasons:
                return agent_id
            declined[agent_id] = reasons
        raise OffersDeclined(declined)

    def _launch_locked(self, inst: dict, effects: list) -> None:
        from .agent import LaunchSpec
        c = self.cluster
        app = c.app_definition(inst["appId"], inst["runVersion"])
        res = inst.get("reservation")
        wanted = _host_port_requests(app)
        own_ports = bool(res) and len(res.get("ports", [])) == len(wanted)
        # Raises OffersDeclined before anything of the instance changed.
        agent_id = self._choose_agent_locked(inst, app, wanted, own_ports)
        if own_ports:
            ports = list(res["ports"])  # resident: the host ports are part of the reservation
        else:
            try:
                ports = self.host_ports.allocate(wanted)
            except NoMatchingOffer as exc:
                raise OffersDeclined({agent_id: [exc.reason]}) from None
            if res is not None:
                res["ports"] = list(ports)
        self.next_offer_at.pop(inst["id"], None)
        self.declined.setdefault(inst["appId"], OfferStatistics()).used(agent_id, time.time())
        inst["agentId"] = agent_id  # only resident instances stay on the agent of their reservation
        inst["incarnation"] += 1
        task_id = c.marathon.task_id(inst["id"], inst["incarnation"])
        volumes = {}
        if res:
            for vol in res["volumes"]:
                volumes[vol["containerPath"]] = c.data_dir / "volumes" / vol["persistenceId"]
        sandbox = c.data_dir / "sandboxes" / task_id
        now = time.time()
        old = inst.get("task")
        if old:
            self.task_index.pop(old["id"], None)
        inst["task"] = {"id": task_id, "state": "TASK_STAGING", "stagedAt": format_timestamp(now),
                        "version": inst["runVersion"], "ports": ports, "killRequested": False, "message": ""}
        inst["health"] = []
        inst["lastState"] = None
        self.task_index[task_id] = inst["id"]
        c.mark_changed()
        spec = LaunchSpec(task_id=task_id, instance_id=inst["id"], app=app, app_version=inst["runVersion"],
                          sandbox_dir=sandbox, volumes=volumes, host_ports=list(ports))
        agent = c.agents[inst["agentId"]]
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
        with self.cluster.lock:
            inst = self.instances.get(spec.instance_id)
            task = inst.get("task") if inst else None
            killed = bool(task and task["id"] == spec.task_id and task.get("killRequested"))
        if killed:
            safe_call(agent.kill, spec.task_id, None)

    def kill_locked(self, inst: dict, effects: list) -> None:
        task = inst.get("task")
        if not is_active(task) or task.get("killRequested"):
            return
        task["killRequested"] = True
        self._stop_monitors_locked(task["id"], effects)
        if task["state"] == "TASK_RUNNING":
            task["state"] = "TASK_KILLING"
            self._emit_status(inst, "TASK_KILLING")
        agent = self.cluster.agents.get(inst["agentId"])
        task_id = task["id"]
        if agent is not None:
            # grace None: the agent applies taskKillGracePeriodSeconds / time scale
            effects.append(lambda: safe_call(agent.kill, task_id, None))
        self.cluster.mark_changed()

    def _emit_status(self, inst: dict, state: str, message: str = "") -> None:
        task = inst["task"]
        publish = self.cluster.publish
        publish(ev.status_update(slave_id=inst["agentId"], task_id=task["id"], task_status=state,
                                 app_id=inst["appId"], host=HOST, ports=task.get("ports", []),
                                 version=task["version"], message=message or ""))
        try:
            publish(ev.instance_changed(instance_id=inst["id"], condition=state, run_spec_id=inst["appId"],
                                        agent_id=inst["agentId"], host=HOST, run_spec_version=task["version"]))
        except ValueError:
            pass

    # ------------------------------------------------------------------ status updates (agent threads)

    def _on_status(self, task_id: str, state: str, message: str | None = None, healthy: bool | None = None):
        c = self.cluster
        effects = []
        with c.lock:
            if c.stopping:
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
                task["startedAt"] = format_timestamp(now)
                task["startedEpoch"] = now
                self._start_monitors_locked(inst, effects)
            if state not in ACTIVE:
                self._terminal_locked(inst, state, message or "", now, effects)
            self._emit_status(inst, state, message or "")
            c.mark_changed()
            c.cond.notify_all()
        run_effects(effects)

    def _terminal_locked(self, inst: dict, state: str, message: str, now: float, effects: list) -> None:
        task = inst["task"]
        self._stop_monitors_locked(task["id"], effects)
        inst["lastState"] = state
        if not inst.get("reservation"):
            self.host_ports.release(task.get("ports", []))
        # A kill we asked for is not a failure, unless a failing health check was the reason.
        expected = task.get("killRequested") and state == "TASK_KILLED" and not task.get("unhealthyKill")
        if not expected or state in FAILURE_STATES:
            self.last_failure[inst["appId"]] = {
                "appId": inst["appId"], "host": HOST, "message": message or task.get("message", ""),
                "state": state, "taskId": task["id"], "timestamp": format_timestamp(now),
                "version": task["version"], "slaveId": inst["agentId"]}
            if not task.get("killRequested") and inst["goal"] == "Running":
                self._advance_backoff(inst["appId"], now)

    def _advance_backoff(self, app_id: str, now: float) -> None:
        # Launch backoff per backoffSeconds/backoffFactor/maxLaunchDelaySeconds, scaled (agent.launch_delay).
        from .agent import launch_delay
        app = self.cluster.app_definition(app_id) or {}
        failures = self.backoff.get(app_id, {}).get("failures", 0) + 1
        delay = launch_delay(app.get("backoffSeconds", 1), app.get("backoffFactor", 1.15),
                             app.get("maxLaunchDelaySeconds", 300), failures, self.cluster.time_scale)
        self.backoff[app_id] = {"failures": failures, "until": now + delay}

    # ------------------------------------------------------------------ health checks

    def _start_monitors_locked(self, inst: dict, effects: list) -> None:
        c = self.cluster
        app = c.app_definition(inst["appId"], inst["runVersion"]) or {}
        checks = app.get("healthChecks") or []
        if not checks:
            return
        inst["health"] = [None] * len(checks)
        task_id = inst["task"]["id"]
        agent = c.agents[inst["agentId"]]
        unhealthy = c.faults is not None and c.faults.app_unhealthy(inst["appId"])
        self.monitors[task_id] = []  # placeholder: results are accepted once monitors exist
        effects.append(lambda: self._create_monitors(task_id, agent, checks, unhealthy))

    def _create_monitors(self, task_id: str, agent, checks: list, unhealthy: bool) -> None:
        from .health import HealthMonitor
        info = agent.task_info(task_id)  # outside our lock: the agent has its own
        if info is None:
            return
        monitors = []
        for idx, check in enumerate(checks):
            mon = HealthMonitor(check, info, self.cluster.time_scale,
                                on_result=lambda r, i=idx: self._on_health(task_id, i, r),
                                on_kill_needed=lambda *_: self._on_health_kill(task_id))
            if unhealthy:
                safe_call(mon.force_unhealthy, True)
            monitors.append(mon)
        with self.cluster.lock:
            if task_id not in self.monitors:  # the task ended meanwhile
                start = False
            else:
                self.monitors[task_id] = monitors
                start = True
        if start:
            for mon in monitors:
                safe_call(mon.start)

    def _stop_monitors_locked(self, task_id: str, effects: list) -> None:
        for mon in self.monitors.pop(task_id, []):
            # stop() joins the checker thread; never make a status callback wait for it
            effects.append(lambda m=mon: threading.Thread(target=safe_call, args=(m.stop,), daemon=True).start())

    def _on_health(self, task_id: str, index: int, result: dict) -> None:
        c = self.cluster
        with c.lock:
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
                c.publish(ev.health_status_changed(app_id=inst["appId"], instance_id=inst["id"],
                                                   version=inst["task"]["version"], alive=bool(result.get("alive"))))
            if not result.get("alive") and result.get("consecutiveFailures", 0) > 0:
                app = c.app_definition(inst["appId"], inst["runVersion"]) or {}
                checks = app.get("healthChecks") or []
                if index < len(checks):
                    c.publish(ev.failed_health_check(app_id=inst["appId"], task_id=inst["id"],
                                                     health_check=checks[index]))
            after = _healthy(health)
            if before != after:
                c.publish(ev.instance_health_changed(instance_id=inst["id"], run_spec_id=inst["appId"],
                                                     run_spec_version=inst["task"]["version"], healthy=after))
            c.cond.notify_all()

    def _on_health_kill(self, task_id: str) -> None:
        effects = []
        with self.cluster.lock:
            inst = self.instances.get(self.task_index.get(task_id, ""))
            if inst is None or not is_active(inst.get("task")) or inst["task"]["id"] != task_id:
                return
            task = inst["task"]
            self.cluster.publish(ev.unhealthy_instance_kill(
                app_id=inst["appId"], task_id=task_id, instance_id=inst["id"], version=task["version"],
                reason="Health check failed", host=HOST, slave_id=inst["agentId"]))
            task["unhealthyKill"] = True
            task["message"] = "Killed by Marathon: health check failed"
            self.kill_locked(inst, effects)  # goal stays Running: it is relaunched
        run_effects(effects)

    def set_unhealthy(self, app_id: str, value: bool) -> None:
        with self.cluster.lock:
            mons = [m for inst in self.app_instances(app_id) if inst.get("task")
                    for m in self.monitors.get(inst["task"]["id"], [])]
        for m in mons:
            safe_call(m.force_unhealthy, value)


class OffersDeclined(RuntimeError):
    """No agent's offer fits an instance: agent id -> Marathon's NoOfferMatchReason values."""

    def __init__(self, reasons: dict):
        super().__init__("; ".join(f"{a}: {', '.join(r)}" for a, r in sorted(reasons.items())))
        self.reasons = reasons


def _healthy(health: list) -> bool | None:
    results = [h for h in health if h]
    if not results:
        return None
    return all(h.get("alive") for h in results)


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
