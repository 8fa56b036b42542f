"""Simulated Mesos agent: runs Marathon tasks as real local processes.

Interface (used by the scheduler):

* ``Agent(data_dir, agent_id, hostname="127.0.0.1", time_scale=1.0, secrets=None)``; ``secrets`` is
  DC/OS Enterprise's ``secrets.SecretStore``: its values go into the task as environment variables and
  sandbox files (``inject_secrets``); without it secret references add nothing, as on open-source Marathon.
* ``Agent.launch(spec: LaunchSpec, on_status) -> None`` returns at once. One worker thread per task
  calls ``on_status(task_id, state, message=None, healthy=None)`` in order:
  TASK_STAGING → TASK_STARTING → TASK_RUNNING → TASK_FINISHED | TASK_FAILED | TASK_KILLED
  (or TASK_STAGING → TASK_FAILED/TASK_KILLED when the container cannot start or is killed first).
  All callbacks of one task come from that task's worker thread, never concurrently; callbacks of
  different tasks may run concurrently. ``healthy`` is always None: health checks run in
  :mod:`localmarathon.health` and report through their own callback.
* ``Agent.kill(task_id, grace_seconds=None)``: asynchronous. Sends the stop signal (SIGTERM to the
  process group as the Mesos command executor does; the image's STOPSIGNAL to the main process for
  docker images, like ``docker stop``), SIGKILL to the group after the grace. ``grace_seconds`` is
  wall-clock seconds (not scaled again); None means the app's ``taskKillGracePeriodSeconds`` or Mesos'
  default of 3 s, divided by ``time_scale``.
* ``Agent.shutdown(timeout=10)`` kills every task (TASK_KILLED is still reported) and waits.

Extras: ``Agent.task_info(task_id)`` gives the dict :class:`localmarathon.health.HealthMonitor` wants;
``Agent.task_ids()``; ``build_task_env(spec, hostname)``; ``launch_delay(...)`` for the scheduler's
backoff; module constants ``TASK_*``.

No orphans: every task gets its own session/process group and PR_SET_PDEATHSIG(SIGKILL) (set after
any privilege drop, because a credential change clears it). PDEATHSIG only covers the direct child
and fires when the *thread* that forked it ends, so the worker thread lives as long as the task, and a
small watchdog process (own session, reading a pipe from this process) SIGKILLs every registered
process group when the pipe closes, i.e. when this process exits for any reason, even SIGKILL.
"""

from __future__ import annotations

import collections
import ctypes
import dataclasses
import logging
import os
import pwd
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from . import images
from . import secrets as secrets_mod

log = logging.getLogger("localmarathon.agent")

TASK_STAGING = "TASK_STAGING"
TASK_STARTING = "TASK_STARTING"
TASK_RUNNING = "TASK_RUNNING"
TASK_FINISHED = "TASK_FINISHED"
TASK_FAILED = "TASK_FAILED"
TASK_KILLED = "TASK_KILLED"
TERMINAL_STATES = frozenset({TASK_FINISHED, TASK_FAILED, TASK_KILLED})

# How many ended tasks task_info() still knows.
ENDED_TASKS_KEPT = 256
# Mesos' default kill grace period when the framework gives none.
DEFAULT_KILL_GRACE_SECONDS = 3.0

PR_SET_PDEATHSIG = 1

try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
    _prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    _prctl.restype = ctypes.c_int
except (OSError, AttributeError):  # not Linux: the watchdog still covers us
    _prctl = None

StatusCallback = Callable[..., None]


@dataclasses.dataclass
class LaunchSpec:
    """What the scheduler asks the agent to run."""

    task_id: str
    instance_id: str
    app: dict
    app_version: str
    sandbox_dir: Path
    volumes: dict = dataclasses.field(default_factory=dict)  # {containerPath: host Path}
    host_ports: list = dataclasses.field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Environment (Marathon's EnvironmentHelper / TaskBuilder, plus what Mesos adds)


def _scala_double(value) -> str:
    """Render a number as Scala's Double.toString does (1 → "1.0", 1e7 → "1.0E7")."""
    v = float(value)
    if v == 0:
        return "0.0"
    if 1e-3 <= abs(v) < 1e7:
        return repr(v)
    mantissa, exp = f"{v:.17e}".split("e")
    m = repr(float(mantissa))
    return f"{m}E{int(exp)}"


def _label_env(labels: dict) -> dict:
    # Marathon: keys escaped to [A-Z0-9_], too long keys/values dropped, list in MARATHON_APP_LABELS.
    prefix = "MARATHON_APP_LABEL_"
    max_len = 512
    out = {}
    names = []
    for key, value in (labels or {}).items():
        value = "" if value is None else str(value)
        if len(key) < max_len - len(prefix) and len(value) < max_len:
            name = re.sub(r"[^a-zA-Z0-9_]+", "_", key).upper()
            names.append(name)
            out[prefix + name] = value
    return {"MARATHON_APP_LABELS": " ".join(names), **out}


def port_layout(app: dict, host_ports: list) -> list[dict]:
    """One entry per declared port: {"declared", "effective", "name", "container_port"}.

    Host networking: portDefinitions, effective = the allocated host port. Container networks:
    portMappings; a mapping with a hostPort takes the next allocated host port (the scheduler
    allocates them in mapping order), one without uses its containerPort (user networks).
    """
    container = app.get("container") or {}
    mappings = container.get("portMappings")
    if mappings is None:
        mappings = (container.get("docker") or {}).get("portMappings")  # pre-1.5 layout
    networks = app.get("networks") or []
    container_net = any((n or {}).get("mode") in ("container", "container/bridge") for n in networks)
    ports = list(host_ports or [])
    out = []
    if mappings and (container_net or not app.get("portDefinitions")):
        i = 0
        for m in mappings:
            m = m or {}
            if m.get("hostPort") is not None:
                effective = ports[i] if i < len(ports) else None
                i += 1
            else:
                effective = m.get("containerPort") or None
            out.append({"declared": m.get("containerPort") or 0, "effective": effective,
                        "name": m.get("name"), "container_port": m.get("containerPort")})
    else:
        for i, d in enumerate(app.get("portDefinitions") or []):
            d = d or {}
            out.append({"declared": d.get("port") or 0, "effective": ports[i] if i < len(ports) else None,
                        "name": d.get("name"), "container_port": None})
        for p in ports[len(out):]:  # ports the scheduler allocated beyond the definitions
            out.append({"declared": 0, "effective": p, "name": None, "container_port": None})
    return out


def build_task_env(spec: LaunchSpec, hostname: str = "127.0.0.1") -> dict:
    """The variables Marathon and Mesos put into a task's environment (without the base env)."""
    app = spec.app
    env = {}
    env["MESOS_TASK_ID"] = spec.task_id
    env["MARATHON_APP_ID"] = app.get("id", "")
    env["MARATHON_APP_VERSION"] = spec.app_version
    image = images.app_image(app)
    if image:
        env["MARATHON_APP_DOCKER_IMAGE"] = image
    env["MARATHON_APP_RESOURCE_CPUS"] = _scala_double(app.get("cpus", 1))
    env["MARATHON_APP_RESOURCE_MEM"] = _scala_double(app.get("mem", 128))
    env["MARATHON_APP_RESOURCE_DISK"] = _scala_double(app.get("disk", 0))
    env["MARATHON_APP_RESOURCE_GPUS"] = str(int(app.get("gpus", 0) or 0))
    env.update(_label_env(app.get("labels") or {}))
    effective = []
    for index, p in enumerate(port_layout(app, spec.host_ports)):
        if p["effective"] is None:
            continue
        value = str(p["effective"])
        effective.append(value)
        env[f"PORT{index}"] = value
        if p["name"]:
            env[f"PORT_{str(p['name']).upper()}"] = value
        if p["declared"]:
            env[f"PORT_{p['declared']}"] = value
    if effective:
        env["PORT"] = effective[0]
    env["PORTS"] = ",".join(effective)
    env["HOST"] = hostname
    sandbox = str(spec.sandbox_dir)
    env["MESOS_SANDBOX"] = sandbox
    if not image:
        env["MESOS_DIRECTORY"] = sandbox  # the command executor's own variable
    for key, value in (app.get("env") or {}).items():
        # {"secret": "..."} references need a secret store; like a missing secret they add nothing.
        if isinstance(value, dict) or value is None:
            continue
        env[str(key)] = value if isinstance(value, str) else str(value)
    return env


def inject_secrets(app: dict, store, sandbox: Path, mounts: dict, written: list) -> dict:
    """What DC/OS Enterprise's secrets plugin gives a task: the environment variables that reference
    a secret, set to its value (returned), and each secret volume as a read-only file at its
    containerPath in the sandbox (paths appended to ``written``). A secret the app may not read (its
    folder is not the app id or one of its groups), a missing one, or a sealed store fails the
    launch; so does a file secret on the Docker containerizer, which supports only env secrets."""
    declared = app.get("secrets") or {}
    app_id = app.get("id", "")

    def value_of(name: str) -> str:
        source = (declared.get(name) or {}).get("source", "")
        if not secrets_mod.space_allows(app_id, source):
            raise images.LaunchError(f"Failed to launch container: app {app_id} may not read secret '{source}' "
                                     "(its path is outside the app's space)")
        value = store.value(source)
        if value is None:
            raise images.LaunchError(f"Failed to launch container: secret '{source}' is not in the secret store "
                                     "(or the store is sealed)")
        return value

    env = {}
    for key, ref in (app.get("env") or {}).items():
        if isinstance(ref, dict) and "secret" in ref:
            env[str(key)] = value_of(ref["secret"])
    container = app.get("container") or {}
    for vol in container.get("volumes") or []:
        if not isinstance(vol, dict) or "secret" not in vol:
            continue
        if container.get("type") == "DOCKER":
            raise images.LaunchError("Failed to launch container: file-based secrets need the Mesos containerizer "
                                     "(container type MESOS); the Docker containerizer supports secrets only as "
                                     "environment variables")
        value = value_of(vol["secret"])
        path = images.container_to_host(vol["containerPath"], sandbox, mounts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # a relaunch in the same sandbox finds the last one read-only
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
        written.append(path)
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
    return env


def _remove_files(paths: list) -> None:
    for path in paths:
        try:
            Path(path).unlink(missing_ok=True)
        except OSError:
            pass


def launch_delay(backoff_seconds: float, factor: float, max_delay: float, failures: int,
                 time_scale: float = 1.0) -> float:
    """Seconds to wait before the next launch after ``failures`` consecutive failed launches.

    Marathon's rate limiter: the first failure delays by backoffSeconds, every further one multiplies
    the delay by backoffFactor, capped at maxLaunchDelaySeconds; scaled by ``time_scale``.
    """
    if failures <= 0:
        return 0.0
    delay = float(backoff_seconds) * float(factor) ** (failures - 1)
    delay = min(delay, float(max_delay))
    return max(delay, 0.0) / (time_scale or 1.0)


# ---------------------------------------------------------------------------------------------
# Child process setup


def _preexec(user: tuple | None, parent_pid: int):
    """Build the function the child runs between fork and exec.

    It must stay tiny (the parent is multi-threaded): no imports, no lookups; the group list is
    resolved in the parent. The death signal is set last because setuid/setgid clear it.
    """
    prctl = _prctl

    def run():
        if user is not None:
            uid, gid, groups = user
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before the death signal was armed
            os._exit(137)

    return run


def user_ids(pw: pwd.struct_passwd) -> tuple[int, int, list[int]]:
    return pw.pw_uid, pw.pw_gid, os.getgrouplist(pw.pw_name, pw.pw_gid)


_WATCHDOG_CODE = r"""
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
groups = set()
for line in sys.stdin.buffer:
    line = line.strip()
    if line[:1] == b"+":
        groups.add(int(line[1:]))
    elif line[:1] == b"-":
        groups.discard(int(line[1:]))
for g in groups:
    try:
        os.killpg(g, signal.SIGKILL)
    except OSError:
        pass
"""


class _Watchdog:
    """Kills registered process groups as soon as the agent's process is gone (pipe EOF)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WATCHDOG_CODE],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # survives a SIGKILL of the agent's process group
        )

    def _send(self, line: str):
        with self._lock:
            if self._proc.stdin is None or self._proc.stdin.closed:
                return
            try:
                self._proc.stdin.write(line.encode() + b"\n")
                self._proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                log.warning("localmarathon agent watchdog is gone; orphan protection reduced to PDEATHSIG")

    def add(self, pgid: int):
        self._send(f"+{pgid}")

    def remove(self, pgid: int):
        self._send(f"-{pgid}")

    def close(self, timeout: float = 5.0):
        with self._lock:
            if self._proc.stdin is not None and not self._proc.stdin.closed:
                try:
                    self._proc.stdin.close()
                except OSError:
                    pass
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


# ---------------------------------------------------------------------------------------------
# Tasks


class _Task:
    def __init__(self, spec: LaunchSpec, on_status: StatusCallback):
        self.spec = spec
        self.on_status = on_status
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.pidfd: int | None = None
        self.pgid: int | None = None
        self.plan: images.ProcessPlan | None = None
        self.kill_requested = False
        self.kill_deadline: float | None = None
        self.kill_timer: threading.Timer | None = None
        self.exited = False
        self.done = threading.Event()
        self.thread: threading.Thread | None = None
        self.env: dict = {}
        self.state: str | None = None
        self.started_at: float | None = None  # epoch of TASK_RUNNING: health grace counts from it


class Agent:
    def __init__(self, data_dir, agent_id: str, hostname: str = "127.0.0.1", time_scale: float = 1.0,
                 secrets=None):
        self.data_dir = Path(data_dir)
        self.secrets = secrets
        self.agent_id = agent_id
        self.hostname = hostname
        self.time_scale = float(time_scale) if time_scale else 1.0
        self._tasks: dict[str, _Task] = {}
        self._ended: collections.OrderedDict[str, _Task] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._closed = False
        self._watchdog = _Watchdog()

    # -- public API ---------------------------------------------------------------------------

    def launch(self, spec: LaunchSpec, on_status: StatusCallback) -> None:
        task = _Task(spec, on_status)
        with self._lock:
            if self._closed:
                raise RuntimeError("agent is shut down; cannot launch " + spec.task_id)
            old = self._tasks.get(spec.task_id)
            if old is not None and not old.done.is_set():
                raise ValueError(f"task {spec.task_id} is already running on agent {self.agent_id}")
            self._tasks[spec.task_id] = task
        task.thread = threading.Thread(target=self._run, args=(task,), name=f"task {spec.task_id}",
                                       daemon=True)
        task.thread.start()

    def kill(self, task_id: str, grace_seconds: float | None = None) -> None:
        task = self._tasks.get(task_id)
        if task is None or task.done.is_set():
            return
        if grace_seconds is None:
            grace = self._default_grace(task)
        else:
            grace = max(0.0, float(grace_seconds))
        deadline = time.monotonic() + grace
        with task.lock:
            if task.exited:
                return
            if task.kill_deadline is not None and task.kill_deadline <= deadline:
                return  # an earlier (or equal) escalation is already scheduled
            first = task.kill_deadline is None
            task.kill_requested = True
            task.kill_deadline = deadline
            if task.kill_timer is not None:
                task.kill_timer.cancel()
            started = task.proc is not None
            timer = None
            if started:
                timer = threading.Timer(grace, self._escalate, (task,))
                timer.daemon = True
                task.kill_timer = timer
        if started:
            if first:
                self._send_stop(task)
            if grace <= 0:
                self._escalate(task)
            else:
                timer.start()

    def shutdown(self, timeout: float = 10) -> None:
        with self._lock:
            self._closed = True
            tasks = list(self._tasks.values())
        deadline = time.monotonic() + timeout
        for task in tasks:
            self.kill(task.spec.task_id, grace_seconds=min(self._default_grace(task), timeout / 2))
        for task in tasks:
            task.done.wait(max(0.0, deadline - time.monotonic()))
        for task in tasks:
            if not task.done.is_set():
                self._escalate(task)
                task.done.wait(2)
                if not task.done.is_set():
                    log.error("task %s did not exit after SIGKILL", task.spec.task_id)
        self._watchdog.close()

    def task_ids(self) -> list[str]:
        with self._lock:
            return [t for t, task in self._tasks.items() if not task.done.is_set()]

    def task_info(self, task_id: str) -> dict | None:
        """What a HealthMonitor needs for this task (None if unknown)."""
        with self._lock:
            task = self._tasks.get(task_id) or self._ended.get(task_id)
        if task is None:
            return None
        spec = task.spec
        layout = port_layout(spec.app, spec.host_ports)
        container_ports = {p["container_port"]: p["effective"] for p in layout
                           if p["container_port"] and p["effective"]}
        extra = task.plan.health_env if task.plan is not None else {}
        return {
            "task_id": spec.task_id,
            "instance_id": spec.instance_id,
            "host": self.hostname,
            "ports": [p["effective"] for p in layout if p["effective"] is not None],
            "container_ports": container_ports,
            "sandbox": str(spec.sandbox_dir),
            "env": {**(task.env or {}), **extra},
            "started_at": task.started_at,
        }

    # -- internals ------------------------------------------------------------------------------

    def _default_grace(self, task: _Task) -> float:
        configured = task.spec.app.get("taskKillGracePeriodSeconds")
        seconds = float(configured) if configured is not None else DEFAULT_KILL_GRACE_SECONDS
        grace = seconds / self.time_scale
        if task.plan is not None:
            grace = max(grace, task.plan.min_kill_grace)
        return grace

    def _status(self, task: _Task, state: str, message: str | None = None):
        task.state = state
        if state in TERMINAL_STATES and task.plan is not None:
            task.plan.run_cleanup()  # temp dirs and password files are gone before anyone hears "ended"
        try:
            task.on_status(task.spec.task_id, state, message=message, healthy=None)
        except Exception:  # a broken callback must not leave the process unsupervised
            log.exception("on_status callback failed for %s %s", task.spec.task_id, state)

    def _send_stop(self, task: _Task):
        plan = task.plan
        if plan is not None and not plan.stop_group:
            self._signal(task, plan.stop_signal, group=False)
        else:
            self._signal(task, plan.stop_signal if plan else signal.SIGTERM, group=True)

    def _signal(self, task: _Task, sig: int, group: bool):
        # Under the task lock and only before the worker reaps the main process: while it is (at
        # worst) a zombie its pid and process group id cannot be recycled.
        with task.lock:
            if task.exited or task.proc is None:
                return
            try:
                if group:
                    os.killpg(task.pgid, sig)
                elif task.pidfd is not None:
                    signal.pidfd_send_signal(task.pidfd, sig)
                else:
                    os.kill(task.proc.pid, sig)
            except ProcessLookupError:
                pass

    def _escalate(self, task: _Task):
        self._signal(task, signal.SIGKILL, group=True)

    def _run(self, task: _Task):
        spec = task.spec
        try:
            self._status(task, TASK_STAGING)
            try:
                plan = self._prepare(task)
            except images.LaunchError as err:
                self._status(task, TASK_FAILED, str(err))
                return
            except Exception as err:  # unexpected: still a clear terminal state
                log.exception("preparing task %s failed", spec.task_id)
                self._status(task, TASK_FAILED, f"Failed to launch container: {err}")
                return
            task.plan = plan
            if task.kill_requested:
                self._status(task, TASK_KILLED, "Task killed before it started")
                return
            self._status(task, TASK_STARTING)
            rc = self._execute(task, plan)
            if rc is None:
                return
            self._finish(task, plan, rc)
        finally:
            if task.plan is not None:
                task.plan.run_cleanup()
            task.done.set()
            with self._lock:
                if not self._closed and self._tasks.get(spec.task_id) is task:
                    # keep a bounded history only: crash-looping apps must not grow memory forever
                    del self._tasks[spec.task_id]
                    self._ended[spec.task_id] = task
                    while len(self._ended) > ENDED_TASKS_KEPT:
                        self._ended.popitem(last=False)

    def _prepare(self, task: _Task) -> images.ProcessPlan:
        spec = task.spec
        sandbox = Path(spec.sandbox_dir)
        sandbox.mkdir(parents=True, exist_ok=True)
        mounts = images.link_volumes(spec.app, sandbox, spec.volumes)
        env = build_task_env(spec, self.hostname)
        secret_files = []
        if self.secrets is not None:
            env.update(inject_secrets(spec.app, self.secrets, sandbox, mounts, secret_files))
        task.env = env
        ctx = images.TaskContext(
            task_id=spec.task_id, app=spec.app, sandbox=sandbox, env=env,
            ports=port_layout(spec.app, spec.host_ports), volumes=dict(spec.volumes),
            mounts=mounts, data_dir=self.data_dir,
        )
        try:
            plan = images.plan_for(ctx)
        except BaseException:
            _remove_files(secret_files)
            raise
        # Mesos keeps secret files in a tmpfs that goes with the task.
        plan.cleanup.append(lambda: _remove_files(secret_files))
        task.env = plan.env
        return plan

    def _execute(self, task: _Task, plan: images.ProcessPlan) -> int | None:
        spec = task.spec
        sandbox = Path(spec.sandbox_dir)
        ids = user_ids(plan.user) if plan.user is not None else None
        try:
            stdout = open(sandbox / "stdout", "ab")
            stderr = open(sandbox / "stderr", "ab")
        except OSError as err:
            self._status(task, TASK_FAILED, f"Failed to launch container: cannot open sandbox logs: {err}")
            return None
        failure = None  # reported outside the task lock: a callback may call kill()
        try:
            with task.lock:
                if task.kill_requested:
                    failure = (TASK_KILLED, "Task killed before it started")
                else:
                    try:
                        proc = subprocess.Popen(
                            plan.argv, cwd=str(plan.cwd), env=plan.env, stdin=subprocess.DEVNULL,
                            stdout=stdout, stderr=stderr, start_new_session=True,
                            preexec_fn=_preexec(ids, os.getpid()),
                        )
                    except OSError as err:
                        name = plan.argv[0] if plan.argv else "?"
                        failure = (TASK_FAILED, f"Failed to launch container: Failed to execute '{name}': "
                                                f"{err.strerror or err}")
                    else:
                        task.proc = proc
                        task.pgid = proc.pid  # session leader: pgid == pid
                        try:
                            task.pidfd = os.pidfd_open(proc.pid)
                        except (AttributeError, OSError):
                            task.pidfd = None
            if failure is None:
                self._watchdog.add(task.pgid)
        finally:
            stdout.close()
            stderr.close()
        if failure is not None:
            self._status(task, *failure)
            return None
        task.started_at = time.time()
        self._status(task, TASK_RUNNING)
        try:
            # Wait for the exit but leave the zombie: it pins the process group id, so killing the
            # leftovers below cannot hit a recycled group.
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            pass
        with task.lock:
            task.exited = True
            if task.kill_timer is not None:
                task.kill_timer.cancel()
        # Mesos destroys the whole container when its main process ends.
        try:
            os.killpg(task.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._watchdog.remove(task.pgid)
        rc = proc.wait()
        if task.pidfd is not None:
            os.close(task.pidfd)
            task.pidfd = None
        return rc

    def _finish(self, task: _Task, plan: images.ProcessPlan, rc: int):
        what = plan.exit_label
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
                desc = signal.strsignal(-rc) or name
            except ValueError:
                desc = f"signal {-rc}"
            message = f"{what} terminated with signal {desc}"
        else:
            message = f"{what} exited with status {rc}"
        if task.kill_requested:
            self._status(task, TASK_KILLED, message)
        elif rc == 0:
            self._status(task, TASK_FINISHED, message)
        else:
            self._status(task, TASK_FAILED, message)
