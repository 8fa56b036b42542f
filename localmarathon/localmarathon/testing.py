"""Test helpers (see README "Python fixture"): ``LocalMarathon`` starts a real localmarathon server
process, ``Api`` is an HTTP client for it, ``wait_for`` polls.

    with LocalMarathon(tmp_path, time_scale=10) as lm:
        api = Api(lm)
        api.post("/v2/apps", json={"id": "/sleeper", "cmd": "sleep 600"})
        api.wait_running("/sleeper")
        lm.requests()  # the request log, one dict per request
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from .procutil import alive, kill_leftovers, pdeathsig_preexec

READY_PREFIX = "localmarathon ready "
LOGIN_PATH = "/acs/api/v1/auth/login"  # DC/OS login (--auth dcos)


class LocalMarathonError(RuntimeError):
    pass


class LocalMarathon:
    def __init__(self, data_dir, agents: int = 1, auth: str = "none", auth_config=None, tls=None,
                 time_scale: float = 1.0, mesos_role: str | None = None, extra_args=(), startup_timeout: float = 30,
                 marathon_version: str | None = None):
        """``auth_config``: dict (written to DATA/auth-config.json) or a file path; ``tls``: (cert, key)
        paths or {"cert": ..., "key": ...}; ``mesos_role``: None keeps the server's default;
        ``marathon_version``: the Marathon release to reproduce ("1.4", "1.4.5", ...; None = 1.10)."""
        self.data_dir = Path(data_dir).absolute()
        self.agents = agents
        self.auth = auth
        self.auth_config = auth_config
        self.tls = tls
        self.time_scale = time_scale
        self.mesos_role = mesos_role
        self.marathon_version = marathon_version
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.url: str | None = None
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self._reader = None
        self._port_hold: socket.socket | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "localmarathon", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(self.data_dir), "--agents", str(self.agents), "--auth", self.auth,
               "--time-scale", repr(float(self.time_scale))]
        if self.auth_config is not None:
            path = self.auth_config
            if isinstance(path, dict):
                path = self.data_dir / "auth-config.json"
                path.write_text(json.dumps(self.auth_config))
            cmd += ["--auth-config", str(Path(path).absolute())]
        if self.tls:
            cert, key = (self.tls["cert"], self.tls["key"]) if isinstance(self.tls, dict) else self.tls
            cmd += ["--tls-cert", str(Path(cert).absolute()), "--tls-key", str(Path(key).absolute())]
        if self.mesos_role is not None:
            cmd += ["--mesos-role", self.mesos_role]
        if self.marathon_version is not None:
            cmd += ["--marathon-version", str(self.marathon_version)]
        return cmd + self.extra_args

    def _hold_port(self) -> None:
        """Keep the port ours from the first start to the last stop. A socket bound to it without
        listening, with SO_REUSEADDR as the server's own, lets the server listen there, while no other
        process's port-0 bind or outgoing connection can get the port, not even while the server is
        down between a stop and a start (a restart on the same port would fail otherwise)."""
        if self._port_hold is not None:
            return
        hold = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            hold.bind(("127.0.0.1", self.port))
        except OSError as err:
            hold.close()
            raise LocalMarathonError(f"cannot take port {self.port} for localmarathon: {err}") from None
        self._port_hold = hold
        self.port = hold.getsockname()[1]

    def _release_port(self) -> None:
        hold, self._port_hold = self._port_hold, None
        if hold is not None:
            hold.close()

    def start(self) -> "LocalMarathon":
        if self.proc is not None and self.proc.poll() is None:
            raise LocalMarathonError("already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._hold_port()
        log = open(self.data_dir / "localmarathon.log", "ab")
        try:
            self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                         start_new_session=True, preexec_fn=pdeathsig_preexec(signal.SIGTERM),
                                         cwd="/")  # a localmarathon/ dir in the cwd must not shadow the package
        finally:
            log.close()
        ready = threading.Event()
        lines = []

        def read():
            for raw in self.proc.stdout:
                line = raw.decode(errors="replace").strip()
                lines.append(line)
                if line.startswith(READY_PREFIX):
                    ready.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.data_dir / "localmarathon.log").read_text(errors="replace")[-3000:]
                raise LocalMarathonError(f"localmarathon did not start: {lines} {tail}")
        ready_line = next(line for line in lines if line.startswith(READY_PREFIX))
        self.url = ready_line[len(READY_PREFIX):].strip()
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def stop(self, timeout: float = 30, keep_port: bool = False) -> None:
        """SIGTERM (the server kills its tasks), SIGKILL after ``timeout``; then make sure no task
        process of this data dir is left. ``keep_port``: a later start() gets the same port."""
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    proc.wait(10)
            if proc.stdout:
                proc.stdout.close()
        kill_leftovers(self.data_dir)
        if not keep_port:
            self._release_port()

    def kill(self) -> None:
        """SIGKILL the server only (a crash); its tasks must die on their own (PDEATHSIG/watchdog).
        The port stays reserved for a start() on it."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, timeout: float = 30) -> "LocalMarathon":
        """Stop and start again on the same port with the same data dir."""
        self.stop(timeout, keep_port=True)
        return self.start()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def running(self) -> bool:
        return self.proc is not None and alive(self.proc.pid)

    def __enter__(self) -> "LocalMarathon":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- request log -------------------------------------------------------------------------------

    def requests(self, include_admin: bool = False) -> list[dict]:
        """Every logged request (requests.jsonl), admin ones only when asked."""
        path = self.data_dir / "requests.jsonl"
        if not path.exists():
            return []
        out = []
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                if include_admin or not rec.get("admin"):
                    out.append(rec)
        return out

    def writes(self) -> list[dict]:
        """The logged requests that changed state (``write: true``); ``len()`` gives the count."""
        return [r for r in self.requests() if r.get("write")]


def wait_for(fn, timeout: float = 30, what: str = "condition", interval: float = 0.05):
    """Poll ``fn`` until it returns something truthy and return that; a test failure naming
    ``what`` and the last value after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Api:
    """HTTP client of one localmarathon (or any Marathon base URL): a ``requests`` session for the
    Marathon API, logged in through the DC/OS login first when ``user`` is given, the admin and fault
    API, and waits. A suite that checks every answer (the localmarathon suite: RAML types) overrides
    ``check_answer``."""

    def __init__(self, server, headers: dict | None = None, user: tuple[str, str] | None = None, verify=True):
        """``server``: a ``LocalMarathon`` (its URL is read at each request) or a base URL, which may
        end in a path such as ``/service/marathon``; ``user``: (uid, password) to log in with."""
        import requests  # only the client needs it, not the server process

        self.lm = server if isinstance(server, LocalMarathon) else None
        self._url = None if self.lm is not None else str(server).rstrip("/")
        self.s = requests.Session()
        self.s.headers.update(headers or {})
        self.s.verify = verify
        self.user = user

    @property
    def url(self) -> str:
        return self.lm.url if self.lm is not None else self._url

    def _login(self) -> None:
        if self.user and "Authorization" not in self.s.headers:
            r = self.s.post(self.url + LOGIN_PATH, json={"uid": self.user[0], "password": self.user[1]}, timeout=10)
            r.raise_for_status()
            self.s.headers["Authorization"] = "token=" + r.json()["token"]

    def request(self, method: str, path: str, check: bool = True, **kw):
        """One request to ``url + path``; ``check=False`` skips ``check_answer`` for this one."""
        self._login()
        kw.setdefault("timeout", 30)
        kw.setdefault("verify", self.s.verify)  # REQUESTS_CA_BUNDLE would override Session.verify
        r = self.s.request(method, self.url + path, **kw)
        if check:
            self.check_answer(method, path, r)
        return r

    def check_answer(self, method: str, path: str, response) -> None:
        """Called with every answer of ``request``; asserts nothing here."""

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- Marathon API helpers ----------------------------------------------------------------------

    def app(self, app_id: str) -> dict | None:
        """The app of ``GET /v2/apps{app_id}``; None if there is none (404)."""
        r = self.get(f"/v2/apps{app_id}")
        if r.status_code == 404:
            return None
        assert r.status_code == 200, r.text
        return r.json()["app"]

    def apps(self) -> list[dict]:
        return self.get("/v2/apps").json()["apps"]

    def deployments(self) -> list[dict]:
        return self.get("/v2/deployments").json()

    def wait_deployment(self, dep_id: str, timeout: float = 30) -> None:
        wait_for(lambda: all(d["id"] != dep_id for d in self.deployments()), timeout,
                 f"deployment {dep_id} to finish")

    def wait_running(self, app_id: str, n: int = 1, healthy: bool = False, timeout: float = 30) -> dict:
        """Until the app has no deployment and runs ``n`` tasks (healthy ones when asked), none staged;
        returns the app."""
        def ok():
            a = self.app(app_id)
            if a is None or a["deployments"] or a["tasksStaged"]:
                return None
            return a if a["tasksRunning"] == n and (not healthy or a["tasksHealthy"] == n) else None
        return wait_for(ok, timeout, f"{app_id} to run {n} task(s) with no deployment")

    # -- admin and fault API (never needs a login, never affected by faults) -----------------------

    def fault(self, spec: dict) -> dict:
        """Install a fault (README "Admin and fault API"); returns the fault as the server took it."""
        r = self.s.post(self.url + "/_localmarathon/faults", json=spec, timeout=10)
        assert r.status_code == 201, r.text
        return r.json()

    def clear_faults(self) -> None:
        self.s.delete(self.url + "/_localmarathon/faults", timeout=10).raise_for_status()


__all__ = ["Api", "LOGIN_PATH", "LocalMarathon", "LocalMarathonError", "wait_for"]


def provenance(repo) -> dict:
    """What produced a report: the repository's commit (and whether the tree had changes on top of
    it) and the versions of the tools a run depends on. Values that cannot be read are None."""

    def run(*cmd) -> str | None:
        try:
            out = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    def version(module: str) -> str | None:
        from importlib import metadata

        try:
            return metadata.version(module)
        except metadata.PackageNotFoundError:
            return None

    status = run("git", "status", "--porcelain", "--untracked-files=no")
    servers = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    postgres = run(str(servers[-1]), "--version") if servers else None  # "postgres (PostgreSQL) 15.18 (...)"
    return {
        "commit": run("git", "rev-parse", "HEAD"),
        "uncommitted_changes": None if status is None else bool(status),
        "tools": {
            "python": sys.version.split()[0],
            "ansible-core": version("ansible-core"),
            "localmarathon": version("localmarathon"),
            "pytest": version("pytest"),
            "hypothesis": version("hypothesis"),
            "requests": version("requests"),
            "postgresql": postgres.split()[2] if postgres and len(postgres.split()) > 2 else None,
        },
    }


def describe_provenance(prov: dict) -> str:
    """One line for a report: 'commit 0123abc (with uncommitted changes); Python 3.11.7, ...'."""
    commit = (prov.get("commit") or "unknown")[:12]
    if prov.get("uncommitted_changes"):
        commit += " with uncommitted changes"
    tools = ", ".join(f"{name} {value}" for name, value in (prov.get("tools") or {}).items() if value)
    return f"commit {commit}; {tools}"
