"""Health checks of one task, run for real (RAML healthCheck.raml).

``HealthMonitor(check, task_info, time_scale=1.0, on_result=None, on_kill_needed=None)``:
``start()``, ``stop()``, ``force_unhealthy(bool)``, ``result()`` (the latest result dict or None).

* ``check``: one canonical app health check (``protocol`` default HTTP, ``gracePeriodSeconds`` 300,
  ``intervalSeconds`` 60, ``timeoutSeconds`` 20, ``maxConsecutiveFailures`` 3, ``delaySeconds`` 15,
  ``port``/``portIndex``, ``path``, ``ignoreHttp1xx``, ``command.value``). All durations are divided
  by ``time_scale``.
* ``task_info``: ``instance_id``, ``host``, ``ports`` (host ports in definition/mapping order),
  ``container_ports`` ({containerPort: host port}), ``sandbox``, ``env``; optional ``started_at``
  (epoch seconds the task reached TASK_RUNNING; default: when the monitor was created).
  ``Agent.task_info(task_id)`` builds it.
* ``on_result(result)`` gets Marathon's ``Health`` shape after every check that changes what
  Marathon stores: ``{"alive","consecutiveFailures","firstSuccess"?,"lastSuccess"?,"lastFailure"?,
  "lastFailureCause"?,"instanceId"}``, timestamps ``yyyy-MM-ddTHH:mm:ss.SSSZ``, missing ones omitted.
* ``on_kill_needed()`` is called once when the task must be killed.

Two families, as in Marathon 1.10:

* Marathon-executed HTTP, HTTPS, TCP: first check right away (``delaySeconds`` is only echoed),
  then every interval. A failure before the first success and inside the grace period is ignored,
  but an entry ``{"alive": false, "consecutiveFailures": 0, ...}`` is stored (so the task counts as
  unhealthy). Outside it, a failure when ``consecutiveFailures`` already reached
  ``maxConsecutiveFailures`` (> 0) asks for the kill; 0 never kills.
* Mesos-executed MESOS_HTTP, MESOS_HTTPS, MESOS_TCP and COMMAND: first check after ``delaySeconds``;
  failures inside the grace period (before a success) are not reported at all; the kill comes when the
  failure count reaches ``maxConsecutiveFailures`` (0: on the first counted failure).

HTTP(S): 200-399 healthy, 1xx ignored with ``ignoreHttp1xx``, HTTPS certificates are not verified
(Marathon does not either). COMMAND runs ``/bin/sh -c`` in the sandbox with the task environment;
exit 0 is healthy; it is killed (process group) at the timeout.
"""

from __future__ import annotations

import http
import http.client
import logging
import os
import select
import signal
import socket
import ssl
import subprocess
import threading
import time
from typing import Callable

from .timestamps import format_timestamp

log = logging.getLogger("localmarathon.health")

MARATHON_PROTOCOLS = {"HTTP", "HTTPS", "TCP"}
MESOS_PROTOCOLS = {"MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP", "COMMAND"}
FORCED_FAILURE_CAUSE = "localmarathon fault injection: health check forced to fail"
# Floors keep a 0 or heavily scaled setting from turning into a busy loop or a non-blocking socket.
MIN_INTERVAL = 0.05
MIN_TIMEOUT = 0.05


class _Health:
    """Marathon's Health record (core/health/Health.scala)."""

    def __init__(self, instance_id: str):
        self.instance_id = instance_id
        self.consecutive_failures = 0
        self.first_success: float | None = None
        self.last_success: float | None = None
        self.last_failure: float | None = None
        self.last_failure_cause: str | None = None

    def success(self, now: float):
        if self.first_success is None:
            self.first_success = now
        self.last_success = now
        self.consecutive_failures = 0

    def failure(self, now: float, cause: str):
        self.last_failure = now
        self.last_failure_cause = cause
        self.consecutive_failures += 1

    @property
    def alive(self) -> bool:
        return self.last_success is not None and self.last_success > (self.last_failure or 0.0)

    def to_dict(self) -> dict:
        out = {"alive": self.alive, "consecutiveFailures": self.consecutive_failures}
        if self.first_success is not None:
            out["firstSuccess"] = format_timestamp(self.first_success)
        if self.last_success is not None:
            out["lastSuccess"] = format_timestamp(self.last_success)
        if self.last_failure is not None:
            out["lastFailure"] = format_timestamp(self.last_failure)
        if self.last_failure_cause is not None:
            out["lastFailureCause"] = self.last_failure_cause
        out["instanceId"] = self.instance_id
        return out


def _num(check: dict, key: str, default: float) -> float:
    value = check.get(key)
    if value is None:
        return float(default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"health check field {key} must be a number, got {value!r}")
    return float(value)


class HealthMonitor:
    def __init__(self, check: dict, task_info: dict, time_scale: float = 1.0,
                 on_result: Callable[[dict], None] | None = None,
                 on_kill_needed: Callable[[], None] | None = None):
        self.check = dict(check or {})
        self.task_info = dict(task_info or {})
        self.time_scale = float(time_scale) if time_scale else 1.0
        self.on_result = on_result
        self.on_kill_needed = on_kill_needed
        self.protocol = str(self.check.get("protocol") or "HTTP").upper()
        if self.protocol not in MARATHON_PROTOCOLS | MESOS_PROTOCOLS:
            raise ValueError(f"health check protocol {self.protocol!r} is not one of "
                             f"{', '.join(sorted(MARATHON_PROTOCOLS | MESOS_PROTOCOLS))}")
        self.mesos = self.protocol in MESOS_PROTOCOLS
        scale = self.time_scale
        self.grace = _num(self.check, "gracePeriodSeconds", 300) / scale
        self.interval = max(_num(self.check, "intervalSeconds", 60) / scale, MIN_INTERVAL)
        self.timeout = max(_num(self.check, "timeoutSeconds", 20) / scale, MIN_TIMEOUT)
        self.delay = _num(self.check, "delaySeconds", 15) / scale if self.mesos else 0.0
        self.max_failures = int(_num(self.check, "maxConsecutiveFailures", 3))
        self.started_at = float(self.task_info.get("started_at") or time.time())
        self._health = _Health(str(self.task_info.get("instance_id") or self.task_info.get("task_id") or ""))
        self._stored = False
        self._forced = False
        self._kill_sent = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._command: subprocess.Popen | None = None

    # -- public -----------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"health {self.protocol} {self._health.instance_id}")
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            proc = self._command
        if proc is not None:
            _kill_group(proc)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def force_unhealthy(self, value: bool = True) -> None:
        self._forced = bool(value)

    def result(self) -> dict | None:
        with self._lock:
            return self._health.to_dict() if self._stored else None

    # -- loop ---------------------------------------------------------------------------------------

    def _loop(self):
        if self.delay and self._stop.wait(self.delay):
            return
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                outcome = self._probe()
            except Exception as err:  # a probe bug must not end health checking silently
                log.exception("health probe failed")
                outcome = (False, f"{type(err).__name__}: {err}")
            if self._stop.is_set():
                return
            if outcome is not None:
                self._handle(*outcome)
            self._stop.wait(max(0.0, began + self.interval - time.monotonic()))

    def _handle(self, ok: bool, cause: str | None):
        now = time.time()
        kill = False
        publish = True
        with self._lock:
            h = self._health
            in_grace = h.first_success is None and now < self.started_at + self.grace
            if ok:
                h.success(now)
            elif in_grace:
                # ignored; Marathon still stores the (empty) record, Mesos reports nothing.
                publish = not self.mesos
            elif self.mesos:
                h.failure(now, cause or "unhealthy")
                kill = h.consecutive_failures >= self.max_failures
            else:
                kill = self.max_failures > 0 and h.consecutive_failures >= self.max_failures
                h.failure(now, cause or "unhealthy")
            if publish:
                self._stored = True
            snapshot = h.to_dict()
            if kill and self._kill_sent:
                kill = False
            if kill:
                self._kill_sent = True
        if publish and self.on_result is not None and not self._stop.is_set():
            try:
                self.on_result(snapshot)
            except Exception:
                log.exception("health on_result callback failed")
        if kill and self.on_kill_needed is not None:
            try:
                self.on_kill_needed()
            except Exception:
                log.exception("health on_kill_needed callback failed")

    # -- probes -------------------------------------------------------------------------------------

    def _port(self) -> int:
        ports = list(self.task_info.get("ports") or [])
        if self.check.get("port") is not None:
            port = int(self.check["port"])
            if self.mesos:
                # Mesos runs its checks inside the container's network: a container port means its host port.
                mapped = (self.task_info.get("container_ports") or {})
                port = int(mapped.get(port, mapped.get(str(port), port)))
            return port
        index = int(self.check.get("portIndex") or 0)
        if index >= len(ports):
            raise LookupError(f"portIndex {index} is out of range: the task has {len(ports)} port(s)")
        return int(ports[index])

    def _probe(self):
        """(healthy, cause) or None when the result is ignored (HTTP 1xx with ignoreHttp1xx)."""
        if self._forced:
            return False, FORCED_FAILURE_CAUSE
        if self.protocol == "COMMAND":
            return self._probe_command()
        host = str(self.task_info.get("host") or "127.0.0.1")
        try:
            port = self._port()
        except (LookupError, ValueError) as err:
            return False, str(err)
        if self.protocol in ("TCP", "MESOS_TCP"):
            try:
                with socket.create_connection((host, port), timeout=self.timeout):
                    return True, None
            except socket.timeout:
                return False, f"Connection to {host}:{port} timed out after {self.timeout:g}s"
            except OSError as err:
                return False, f"Connection to {host}:{port} failed: {err.strerror or err}"
        return self._probe_http(host, port, tls=self.protocol.endswith("HTTPS"))

    def _probe_http(self, host: str, port: int, tls: bool):
        path = self.check.get("path") or "/"
        if not path.startswith("/"):
            path = "/" + path
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=ctx)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        try:
            conn.request("GET", path, headers={"User-Agent": "localmarathon-health-check"})
            resp = conn.getresponse()
            resp.read(65536)
            status = resp.status
        except socket.timeout:
            return False, f"GET {path} on {host}:{port} timed out after {self.timeout:g}s"
        except (OSError, http.client.HTTPException) as err:
            return False, f"GET {path} on {host}:{port} failed: {getattr(err, 'strerror', None) or err}"
        finally:
            conn.close()
        if 200 <= status < 400:
            return True, None
        if 100 <= status < 200 and self.check.get("ignoreHttp1xx") and not self.mesos:
            return None
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        return False, f"{status} {phrase}".strip()

    def _probe_command(self):
        from .agent import _preexec  # same death-signal/session setup as tasks

        value = ((self.check.get("command") or {}).get("value")) or ""
        if not value:
            return False, "COMMAND health check has no command.value"
        env = {**os.environ, **(self.task_info.get("env") or {})}
        sandbox = self.task_info.get("sandbox") or None
        try:
            proc = subprocess.Popen(["/bin/sh", "-c", value], cwd=sandbox, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=_preexec(None, os.getpid()))
        except OSError as err:
            return False, f"Failed to run health check command: {err}"
        with self._lock:
            self._command = proc
        watchdog = _watchdog()
        watchdog.add(proc.pid)
        try:
            exited = _wait_unreaped(proc, self.timeout)
            # The unreaped leader pins the process group id: killing leftovers is safe.
            _kill_group(proc)
            watchdog.remove(proc.pid)
            rc = proc.wait()
        finally:
            with self._lock:
                self._command = None
        if not exited:
            return False, f"Command timed out after {self.timeout:g}s"
        if rc == 0:
            return True, None
        if rc < 0:
            return False, f"Command terminated with signal {signal.strsignal(-rc) or -rc}"
        return False, f"Command exited with status {rc}"


_WATCHDOG = None
_WATCHDOG_LOCK = threading.Lock()


def _watchdog():
    """One per process: kills running check commands' process groups if this process dies."""
    global _WATCHDOG
    with _WATCHDOG_LOCK:
        if _WATCHDOG is None:
            from .agent import _Watchdog

            _WATCHDOG = _Watchdog()
        return _WATCHDOG


def _wait_unreaped(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait up to ``timeout`` for the process to exit without reaping it; True if it exited."""
    try:
        fd = os.pidfd_open(proc.pid)
    except OSError:  # kernels without pidfd: reaping wait (tiny pid-reuse window accepted)
        try:
            proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(int(timeout * 1000)))
    finally:
        os.close(fd)


def _kill_group(proc: subprocess.Popen):
    if proc.returncode is not None:
        return  # reaped: its group id may belong to someone else now
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
