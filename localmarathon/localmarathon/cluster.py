"""The "cluster": the state one localmarathon server owns (apps and their versions, persisted with the
instances and deployments), the simulated agents, and the scheduler loop that drives instances
towards their goals.

Everything mutable lives behind one re-entrant lock (``Cluster.lock``). The work is split along
Marathon's own concepts: ``instances.InstanceTracker`` (instances, reservations, tasks, health),
``deployment_executor.DeploymentExecutor`` (deployments and their steps) and ``views`` (the JSON
clients read).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from . import events as ev
from .deployment_executor import DeploymentExecutor
from .instances import HOST, InstanceTracker, run_effects, safe_call
from .offers import DEFAULT_RESOURCES, AgentResources
from .state import StateStore
from .timestamps import VersionClock
from .util import new_uuid
from .versions import DEFAULT_VERSION, MarathonVersion

log = logging.getLogger(__name__)

MAX_VERSIONS = 50  # --zk_max_versions default


class Cluster:
    def __init__(self, data_dir, *, agents: int = 1, time_scale: float = 1.0, mesos_role: str = "slave_public",
                 bus: ev.EventBus | None = None, faults=None, marathon: MarathonVersion | None = None,
                 secrets=None, agent_resources: AgentResources | None = None):
        self.data_dir = Path(data_dir)
        # what every agent offers (offers.py matches instances against it)
        self.agent_resources = agent_resources or AgentResources.parse(DEFAULT_RESOURCES)
        self.time_scale = float(time_scale)
        self.mesos_role = mesos_role
        # the Marathon release whose readers, defaults and shapes this cluster reproduces
        self.marathon = marathon or MarathonVersion.parse(DEFAULT_VERSION)
        self.bus = bus or ev.EventBus()
        self.faults = faults
        # DC/OS Enterprise's secret store (secrets.SecretStore), None for open-source Marathon.
        self.secrets = secrets
        # Marathon's --enable_features: DC/OS Enterprise runs it with secrets (and the plugin that injects them).
        self.features = frozenset({"secrets"}) if secrets is not None else frozenset()
        self.store = StateStore(self.data_dir)
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.clock = VersionClock()
        self.framework_id = None
        self.n_agents = max(1, int(agents))
        self.apps: dict[str, dict] = {}        # id → {"app", "version", "versionInfo"}
        self.versions: dict[str, list] = {}    # id → [{"version", "app", "versionInfo"}], newest first
        # groups written through /v2/groups: id → {"dependencies", "version", "enforceRole"}; other
        # groups exist only as the prefixes of app ids
        self.groups: dict[str, dict] = {}
        self.group_versions: dict[str, list] = {}  # id → [{"version", "group"}], newest first
        self.agents: dict = {}
        self.tracker = InstanceTracker(self)
        self.executor = DeploymentExecutor(self)
        self.stopping = False
        self._changed = False
        self._thread = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def agent_ids(self) -> list[str]:
        return [f"{self.framework_id}-S{i}" for i in range(self.n_agents)]

    def start(self) -> None:
        from .agent import Agent
        for sub in ("sandboxes", "volumes"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
        data = self.store.load()
        if data:
            self._restore(data)
        else:
            self.framework_id = new_uuid() + "-0000"
        for agent_id in self.agent_ids:
            self.agents[agent_id] = Agent(self.data_dir, agent_id, hostname=HOST, time_scale=self.time_scale,
                                         secrets=self.secrets)
        self.save()
        self._thread = threading.Thread(target=self._loop, name="lm-scheduler", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 20.0) -> None:
        """Stop every task and persist; instances keep their goals so a restart relaunches them."""
        with self.lock:
            self.stopping = True
            self.cond.notify_all()
        self.tracker.stop_all_monitors()
        for agent in self.agents.values():
            safe_call(agent.shutdown, timeout=timeout)
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.lock:
            self.save(durable=True)
        self.tracker.host_ports.reservations.release_all()

    def wake(self) -> None:
        """Run the scheduler loop now (a fault changed what it should do)."""
        with self.lock:
            self.cond.notify_all()

    def admin_state(self) -> dict:
        """Instances and agents as the admin API shows them."""
        with self.lock:
            return {"instances": list(self.tracker.instances.values()), "agents": self.agent_ids}

    # ------------------------------------------------------------------ persistence

    def _restore(self, data: dict) -> None:
        self.framework_id = data["framework_id"]
        self.n_agents = max(self.n_agents, int(data.get("agents", 1)))
        self.apps = data.get("apps", {})
        self.versions = data.get("versions", {})
        self.groups = data.get("groups", {})
        self.group_versions = data.get("group_versions", {})
        self.tracker.restore(data)
        self.executor.restore(data)
        for rec in self.apps.values():
            self.clock.observe(rec["version"])
        if self.marathon.has_roles:
            # apps stored by a release before 1.9 have no role; 1.9's migration gives them --mesos_role.
            # Every other stored value (e.g. maxLaunchDelaySeconds 3600) survives the upgrade as it is.
            for rec in [*self.apps.values(), *(v for hist in self.versions.values() for v in hist)]:
                rec["app"].setdefault("role", self.mesos_role)
        self._changed = True

    def to_state(self) -> dict:
        return {"framework_id": self.framework_id, "agents": self.n_agents, "apps": self.apps,
                "versions": self.versions, "groups": self.groups, "group_versions": self.group_versions,
                **self.tracker.to_state(), **self.executor.to_state()}

    def save(self, durable: bool = False) -> None:
        self.store.save(self.to_state(), durable=durable)
        self._changed = False

    def mark_changed(self) -> None:
        """Something persisted changed: the loop saves it soon."""
        self._changed = True

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

    def record_version(self, app_id: str, app: dict, version: str, version_info: dict) -> None:
        rec = {"app": app, "version": version, "versionInfo": version_info}
        self.apps[app_id] = rec
        hist = [v for v in self.versions.get(app_id, []) if v["version"] != version]
        hist.insert(0, dict(rec))
        self.versions[app_id] = hist[:MAX_VERSIONS]

    def forget_app(self, app_id: str) -> None:
        self.apps.pop(app_id, None)
        self.versions.pop(app_id, None)

    # ------------------------------------------------------------------ the scheduler loop

    def _loop(self) -> None:
        last_save = 0.0
        while True:
            effects: list = []
            with self.lock:
                if self.stopping:
                    return
                try:
                    # Deployments first: they set the goals the instance pass then follows.
                    self.executor.advance_all_locked(effects)
                    self.tracker.tick_locked(self.executor.busy_apps(), effects)
                except Exception:
                    log.exception("scheduler tick failed")
                if self._changed and time.time() - last_save > 0.2:
                    try:
                        self.save()
                    except OSError:
                        log.exception("saving state failed")
                    last_save = time.time()
            run_effects(effects)
            with self.lock:
                if not self.stopping and not effects:
                    self.cond.wait(0.05)
