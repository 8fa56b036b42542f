"""HTTP front end of localmarathon: Marathon's REST API (§1–§3, §5, §6, §10, §11), the DC/OS layout
under /service/marathon, the DC/OS login, the admin API and the request log.

stdlib only: a ThreadingHTTPServer (one thread per connection, HTTP/1.1 keep-alive), optionally
wrapped in TLS. Every request is answered; an unexpected exception becomes Marathon's 500 body.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from . import MARATHON_VERSION, __version__
from . import events as ev
from .faults import FaultInjector
from .scheduler import Cluster, _service_ports, is_active, parse_task_app
from .util import ApiError, not_found_app, parse_bool, parse_ts

log = logging.getLogger("localmarathon")

ADMIN = "/_localmarathon"
DCOS_PREFIX = "/service/marathon"
LOGIN_PATH = "/acs/api/v1/auth/login"
MAX_BODY = 16 * 1024 * 1024
JSON_TYPE = "application/json"
# Headers Marathon's filters add to every answer of the leader (§1).
COMMON_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
}
EMBED_PREFIXES = ("group.apps.", "apps.", "app.")


def _appmodel():
    from . import appmodel
    return appmodel


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, body=None, headers: dict | None = None):
        self.status = status
        self.headers = dict(headers or {})
        if body is None:
            self.body = b""
        elif isinstance(body, (bytes, bytearray)):
            self.body = bytes(body)
        else:
            self.body = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            self.headers.setdefault("Content-Type", JSON_TYPE)


class Drop(Exception):
    """Close the connection without an answer (fault "drop")."""


class Stream(Exception):
    """The request became an SSE stream, already answered by the handler."""


def json_error(status: int, message: str, details=None) -> Response:
    body = {"message": message}
    if details is not None:
        body["details"] = details
    return Response(status, body)


def deployment_result(dep, status: int = 200) -> Response:
    # §5.3 + the Marathon-Deployment-Id header (§1)
    return Response(status, {"deploymentId": dep.id, "version": dep.version},
                    {"Marathon-Deployment-Id": dep.id})


def normalize_path(path: str) -> str:
    """Collapse `//` (clients that join base URL and path carelessly) and percent-decoding."""
    path = re.sub(r"/{2,}", "/", unquote(path))
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path or "/"


class LocalMarathon:
    """Everything one server process serves (the handler delegates here)."""

    def __init__(self, *, data_dir, agents=1, auth="none", auth_config=None, time_scale=1.0,
                 mesos_role="slave_public", tls=False):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.time_scale = float(time_scale)
        self.mesos_role = mesos_role
        self.tls = tls
        self.bus = ev.EventBus()
        self.faults = FaultInjector()
        self.auth = None
        if auth == "dcos":
            from .auth import Authenticator
            self.auth = Authenticator(auth_config, key_file=self.data_dir / "auth-signing-key.pem")
        self.cluster = Cluster(self.data_dir, agents=agents, time_scale=self.time_scale, mesos_role=mesos_role,
                               bus=self.bus, faults=self.faults)
        self.base_url = ""
        self.started_at = time.time()
        self._log_lock = threading.Lock()
        self._log = open(self.data_dir / "requests.jsonl", "a", buffering=1, encoding="utf-8")
        self.stats = {"requests": 0, "writes": 0}
        self.stopping = threading.Event()
        self.faults.register_callback("kill_task", self._fault_kill_task)
        self.faults.register_callback("leader_change", self._fault_leader_change)
        self.faults.register_callback("expire_tokens", self._fault_expire_tokens)
        self.faults.on_change(self._fault_changed)

    # ------------------------------------------------------------------ faults

    def _fault_kill_task(self, fault):
        self.cluster.kill_task_fault(fault.spec["task_id"], bool(fault.spec.get("wipe", False)))

    def _fault_leader_change(self, fault):
        with self.cluster.lock:
            self.cluster.leader_epoch += 1

    def _fault_expire_tokens(self, fault):
        if self.auth is not None:
            self.auth.expire_all()

    def _fault_changed(self, action, fault):
        if fault.kind == "unhealthy":
            still = self.faults.app_unhealthy(fault.app_id)
            self.cluster.set_unhealthy(fault.app_id, still)
        if fault.kind == "stall_deployment":
            with self.cluster.lock:
                self.cluster.cond.notify_all()

    # ------------------------------------------------------------------ request log

    def log_request(self, *, method, path, query, status, started, admin, fault, write):
        rec = {"time": round(time.time(), 6), "method": method, "path": path, "query": query,
               "status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 3),
               "write": bool(write), "admin": bool(admin), "fault": fault}
        line = json.dumps(rec, separators=(",", ":")) + "\n"
        with self._log_lock:
            if not admin:
                self.stats["requests"] += 1
                if write:
                    self.stats["writes"] += 1
            try:
                self._log.write(line)
            except ValueError:  # closed during shutdown
                pass

    def close(self):
        with self._log_lock:
            self._log.close()

    # ------------------------------------------------------------------ headers

    @property
    def leader(self) -> str:
        return self.base_url.split("://", 1)[-1]

    def marathon_headers(self) -> dict:
        h = dict(COMMON_HEADERS)
        h["X-Marathon-Leader"] = self.base_url
        return h

    # ------------------------------------------------------------------ dispatch

    def handle(self, handler, method: str, raw_path: str, query: str, body: bytes) -> tuple[Response, str | None, bool]:
        """Returns (response, fault label, is_admin)."""
        path = normalize_path(raw_path)
        if path == ADMIN or path.startswith(ADMIN + "/"):
            return self.admin(method, path[len(ADMIN):] or "/", body), None, True
        fault = self.faults.before_request(method, path)
        label = fault.label if fault else None
        if fault is not None:
            if fault.kind in ("status", "leader_change"):
                status, headers, fbody = fault.response(path)
                return Response(status, fbody, headers), label, False
            if fault.kind == "drop":
                raise Drop(label)
            if fault.kind == "delay":
                time.sleep(fault.seconds)
        if path == LOGIN_PATH and self.auth is not None:
            if method != "POST":
                return json_error(405, "HTTP 405 Method Not Allowed"), label, False
            status, headers, rbody = self.auth.login(body)
            return Response(status, rbody, headers), label, False
        if path == DCOS_PREFIX or path.startswith(DCOS_PREFIX + "/"):
            path = path[len(DCOS_PREFIX):] or "/"
        if self.auth is not None:
            denied = self.auth.check(handler.headers)
            if denied is not None:
                status, headers, rbody = denied
                return Response(status, rbody, headers), label, False
        params = parse_qs(query, keep_blank_values=True)
        try:
            resp = self.route(handler, method, path, params, body)
        except Stream:
            raise
        except Drop:
            raise
        except Exception as exc:  # MarathonApiError (appmodel) and ApiError share .status/.body
            if hasattr(exc, "status") and hasattr(exc, "body"):
                resp = Response(exc.status, exc.body, getattr(exc, "headers", None))
                if exc.status == 422 and method in ("POST", "PUT", "PATCH") and path.startswith("/v2/apps"):
                    # §5.5: a rejected root-group update is announced on the event bus
                    self.cluster.publish(ev.group_change_failed("/", self.cluster.clock.next(),
                                                                str(exc.body.get("message", ""))))
            else:
                log.error("internal error on %s %s:\n%s", method, path, traceback.format_exc())
                resp = json_error(500, f"{type(exc).__name__}: {exc}")
        for k, v in self.marathon_headers().items():
            resp.headers.setdefault(k, v)
        return resp, label, False

    # ------------------------------------------------------------------ admin API

    def admin(self, method: str, sub: str, body: bytes) -> Response:
        if sub == "/stats" and method == "GET":
            with self._log_lock:
                return Response(200, dict(self.stats))
        if sub == "/faults":
            if method == "GET":
                return Response(200, {"faults": self.faults.list()})
            if method == "DELETE":
                return Response(200, {"cleared": self.faults.clear()})
            if method == "POST":
                try:
                    spec = json.loads(body or b"null")
                except ValueError:
                    return Response(400, {"message": "fault spec must be a JSON object"})
                try:
                    fault = self.faults.add(spec)
                except ValueError as exc:
                    return Response(422, {"message": str(exc)})
                return Response(201, fault.to_dict())
            return Response(405, {"message": "use GET, POST or DELETE"})
        if sub == "/state" and method == "GET":
            with self.cluster.lock:
                return Response(200, {"instances": list(self.cluster.instances.values()),
                                      "agents": self.cluster.agent_ids})
        return Response(404, {"message": f"unknown admin path {ADMIN}{sub}"})

    # ------------------------------------------------------------------ Marathon routes

    def route(self, handler, method: str, path: str, params: dict, body: bytes) -> Response:
        if method == "HEAD":
            method = "GET"  # Jersey answers HEAD for every GET resource (the body is not sent)
        if path == "/ping":
            return self.ping(handler) if method in ("GET", "HEAD") else _not_allowed()
        if path in ("/v2/apps", "/v2/apps/"):
            if method == "GET":
                return self.list_apps(params)
            if method == "POST":
                return self.create_app(handler, params, body)
            if method in ("PUT", "PATCH"):
                return self.update_many(handler, params, body, patch=method == "PATCH")
            return _not_allowed()
        if path.startswith("/v2/apps/"):
            return self.app_routes(handler, method, path[len("/v2/apps"):], params, body)
        if path == "/v2/tasks":
            return self.all_tasks(params) if method == "GET" else _not_allowed()
        if path == "/v2/tasks/delete":
            return self.delete_tasks(params, body) if method == "POST" else _not_allowed()
        if path == "/v2/deployments":
            if method != "GET":
                return _not_allowed()
            with self.cluster.lock:
                return Response(200, [d.to_json() for d in self.cluster.deployments.values()])
        if path.startswith("/v2/deployments/"):
            dep_id = path[len("/v2/deployments/"):]
            if method != "DELETE":
                return _not_allowed()
            if parse_bool(_one(params, "force")):
                self.cluster.cancel_deployment(dep_id)
                return Response(202, None)
            return deployment_result(self.cluster.rollback_deployment(dep_id))
        if path == "/v2/queue":
            if method != "GET":
                return _not_allowed()
            with self.cluster.lock:
                return Response(200, {"queue": self.cluster.queue_json()})
        m = re.fullmatch(r"/v2/queue/(.+)/delay", path)
        if m:
            if method != "DELETE":
                return _not_allowed()
            app_id = _raw_id(m.group(1))
            with self.cluster.lock:
                waiting = [q for q in self.cluster.queue_json() if q["app"]["id"] == app_id]
            if not waiting:
                return json_error(404, f"Application {app_id} not found in tasks queue.")
            self.cluster.reset_delay(app_id)
            return Response(204, None)
        if path == "/v2/groups" or path.startswith("/v2/groups/"):
            if method != "GET":
                return json_error(405, "HTTP 405 Method Not Allowed")  # groups are read-only here
            return self.groups(_raw_id(path[len("/v2/groups"):]), params)
        if path == "/v2/info":
            return self.info() if method == "GET" else _not_allowed()
        if path == "/v2/leader":
            if method == "GET":
                return Response(200, {"leader": self.leader})
            if method == "DELETE":
                # Abdication: a short election gap follows, as with a real leader change (§11).
                threading.Timer(0.5 / self.time_scale, self._abdicate).start()
                return Response(200, {"message": "Leadership abdicated", "details": []})
            return _not_allowed()
        if path == "/v2/events":
            if method != "GET":
                return _not_allowed()
            return self.events(handler, params)
        # §1: Jersey's NotFoundException is mapped to a 500 in 1.6+.
        return json_error(500, "URI not found")

    def _abdicate(self):
        try:
            self.faults.add({"kind": "leader_change", "duration": 0.5 / self.time_scale})
        except ValueError:
            pass

    # ------------------------------------------------------------------ simple resources

    def ping(self, handler) -> Response:
        # §11: content negotiation — text/plain "pong" for */* and text/*, JSON "pong" for JSON.
        accept = (handler.headers.get("Accept") or "*/*").lower()
        kinds = [a.split(";")[0].strip() for a in accept.split(",")]
        if any(k in ("*/*", "text/*", "text/plain", "") for k in kinds):
            return Response(200, b"pong", {"Content-Type": "text/plain"})
        if any(k in ("application/json", "application/*") for k in kinds):
            return Response(200, b'"pong"', {"Content-Type": JSON_TYPE})
        return Response(204, None)

    def info(self) -> Response:
        c = self.cluster
        port = int(self.base_url.rsplit(":", 1)[-1]) if self.base_url else 0
        return Response(200, {
            "name": "marathon", "version": MARATHON_VERSION, "buildref": f"localmarathon-{__version__}",
            "elected": True, "leader": self.leader, "frameworkId": c.framework_id,
            "marathon_config": {
                "checkpoint": True, "executor": "//cmd", "failover_timeout": 604800,
                "features": [], "framework_name": "marathon", "ha": True, "hostname": "127.0.0.1",
                "local_port_max": 20000, "local_port_min": 10000, "master": "local",
                "mesos_leader_ui_url": "", "mesos_role": self.mesos_role, "mesos_user": "root",
                "task_lost_expunge_initial_delay": 300000, "task_lost_expunge_interval": 30000,
                "task_reservation_timeout": 20000, "webui_url": self.base_url,
            },
            "zookeeper_config": {"zk": "zk://localhost:2181/marathon", "zk_compression": True,
                                 "zk_compression_threshold": 65536, "zk_connection_timeout": 10000,
                                 "zk_max_node_size": 1024000, "zk_max_versions": 50,
                                 "zk_session_timeout": 10000, "zk_timeout": 10000},
            "http_config": {"http_port": 0 if self.tls else port, "https_port": port if self.tls else 8443},
        })

    # ------------------------------------------------------------------ groups (read-only)

    def groups(self, group_id: str, params: dict) -> Response:
        """GET /v2/groups[/{id}]: the group tree implied by the app ids (R/v2/groups.raml)."""
        embed = _embeds(params)
        c = self.cluster
        with c.lock:
            ids = sorted(c.apps)
            if group_id != "/" and not any(a.startswith(group_id + "/") for a in ids):
                raise ApiError(404, {"message": f"Group '{group_id}' does not exist", "details": []})
            version = max((c.apps[a]["version"] for a in ids), default=None)

            def build(gid: str) -> dict:
                prefix = "/" if gid == "/" else gid + "/"
                below = [a[len(prefix):] for a in ids if a.startswith(prefix)]
                subgroups = sorted({prefix + rest.split("/")[0] for rest in below if "/" in rest})
                out = {"id": gid, "apps": [c.app_info(prefix + rest, embed) for rest in below if "/" not in rest],
                       "pods": [], "groups": [build(g) for g in subgroups], "dependencies": []}
                if version:
                    out["version"] = version
                out["enforceRole"] = False
                return out

            return Response(200, build(group_id))

    # ------------------------------------------------------------------ apps

    def list_apps(self, params: dict) -> Response:
        embed = _embeds(params)
        id_filter = (_one(params, "id") or "").lower()
        cmd_filter = (_one(params, "cmd") or "").lower()
        selector = _one(params, "label")
        match_labels = _label_selector(selector) if selector else None
        with self.cluster.lock:
            apps = []
            for app_id in sorted(self.cluster.apps):
                app = self.cluster.apps[app_id]["app"]
                if id_filter and id_filter not in app_id.lower():
                    continue
                if cmd_filter and cmd_filter not in (app.get("cmd") or "").lower():
                    continue
                if match_labels and not match_labels(app.get("labels") or {}):
                    continue
                apps.append(self.cluster.app_info(app_id, embed))
        return Response(200, {"apps": apps})

    def _read_json(self, body: bytes):
        return _appmodel().parse_json_body(body)

    def create_app(self, handler, params: dict, body: bytes) -> Response:
        am = _appmodel()
        raw = self._read_json(body)
        force = parse_bool(_one(params, "force"))
        app = am.normalize_app(raw, path_id=None, existing=None, partial=False, mesos_role=self.mesos_role)
        app_id = app["id"]
        c = self.cluster
        with c.lock:
            if app_id in c.apps:
                raise ApiError(409, {"message": f"An app with id [{app_id}] already exists."})
            c._check_group_clash(app_id)
            app = am.assign_service_ports(app, c._used_service_ports(), None)
            dep = c.deploy({app_id: app}, force=force)
            c.publish(ev.api_post(client_ip=handler.client_address[0], uri="/v2/apps", app_definition=app))
            rec = c.apps[app_id]
            # §3.1.3: canonical app + zero counts + the deployment; no versionInfo, no tasks.
            out = am.app_for_output(rec["app"], rec["version"], None)
            out.update({"tasksStaged": 0, "tasksRunning": 0, "tasksHealthy": 0, "tasksUnhealthy": 0,
                        "deployments": [{"id": dep.id}]})
        host = handler.headers.get("Host") or self.leader
        scheme = "https" if self.tls else "http"
        return Response(201, out, {"Location": f"{scheme}://{host}{app_id}", "Marathon-Deployment-Id": dep.id})

    def app_routes(self, handler, method: str, rest: str, params: dict, body: bytes) -> Response:
        m = re.fullmatch(r"(.*)/tasks/([^/]+)", rest)
        if m:
            if method != "DELETE":
                return _not_allowed()
            return self.kill_one_task(_raw_id(m.group(1)), m.group(2), params)
        m = re.fullmatch(r"(.*)/tasks", rest)
        if m:
            app_id = _raw_id(m.group(1))
            if app_id.endswith("/*"):
                return self.group_tasks(app_id[:-2], method)
            if method == "GET":
                return self.app_tasks(app_id)
            if method == "DELETE":
                return self.kill_app_tasks(app_id, params)
            return _not_allowed()
        m = re.fullmatch(r"(.*)/versions/([^/]+)", rest)
        if m:
            return self.app_version(_raw_id(m.group(1)), m.group(2)) if method == "GET" else _not_allowed()
        m = re.fullmatch(r"(.*)/versions", rest)
        if m:
            return self.app_versions(_raw_id(m.group(1))) if method == "GET" else _not_allowed()
        m = re.fullmatch(r"(.*)/restart", rest)
        if m and method == "POST":
            return self.restart_app(_raw_id(m.group(1)), params)
        if rest.endswith("/*") and method == "GET":
            return self.group_apps(_raw_id(rest[:-2]), params)
        # Lookups do not validate the id (an invalid one simply does not exist); writes do.
        if method == "GET":
            return self.show_app(_raw_id(rest), params)
        if method in ("PUT", "PATCH"):
            return self.update_app(handler, rest, params, body, patch=method == "PATCH")
        if method == "DELETE":
            # §3.1.7: DELETE .../restart deletes the app whose id ends in "restart".
            return self.delete_app(_raw_id(rest), params)
        return _not_allowed()

    def show_app(self, app_id: str, params: dict) -> Response:
        embed = _embeds(params)
        with self.cluster.lock:
            if app_id not in self.cluster.apps:
                raise not_found_app(app_id)
            # §3.1.2: always counts, tasks, lastTaskFailure and deployments
            return Response(200, {"app": self.cluster.app_info(app_id, embed, tasks_default=True)})

    def group_apps(self, group_id: str, params: dict) -> Response:
        embed = _embeds(params)
        prefix = "/" if group_id == "/" else group_id + "/"
        with self.cluster.lock:
            ids = [a for a in sorted(self.cluster.apps) if a.startswith(prefix)]
            if not ids and group_id != "/":
                raise ApiError(404, {"message": f"Group '{group_id}' does not exist", "details": []})
            return Response(200, {"*": [self.cluster.app_info(a, embed, tasks_default=True) for a in ids]})

    def update_app(self, handler, raw_id: str, params: dict, body: bytes, *, patch: bool) -> Response:
        am = _appmodel()
        app_id = am.canonical_id(raw_id)
        raw = self._read_json(body)
        force = parse_bool(_one(params, "force"))
        partial = True if patch else parse_bool(_one(params, "partialUpdate"), default=True)
        c = self.cluster
        with c.lock:
            rec = c.apps.get(app_id)
            if patch and rec is None:
                raise not_found_app(app_id, details=False)
            if partial and rec is not None and isinstance(raw, dict):
                version = am.validate_version_body(raw)
                if version is not None:
                    return self._rollback(app_id, rec, version, force)
            new = am.normalize_app(raw, path_id=app_id, existing=rec["app"] if rec else None,
                                   partial=partial and rec is not None, mesos_role=self.mesos_role)
            if rec is None:
                c._check_group_clash(app_id)
            else:
                am.validate_resident_update(rec["app"], new, force=force)
            new = am.assign_service_ports(new, c._used_service_ports(exclude=app_id), rec["app"] if rec else None)
            dep = c.deploy({app_id: new}, force=force)
            c.publish(ev.api_post(client_ip=handler.client_address[0], uri=f"/v2/apps{app_id}", app_definition=new))
        return deployment_result(dep, 200 if rec is not None else 201)

    def _rollback(self, app_id: str, rec: dict, version: str, force: bool) -> Response:
        c = self.cluster
        target = None
        for v in c.versions.get(app_id, []):
            if v["version"] == version:
                target = v["app"]
        if target is None:
            _check_ts(version)
            raise not_found_app(app_id, details=False)
        _appmodel().validate_resident_update(rec["app"], target, force=force)
        # §5.2: the old definition is installed under a new version.
        return deployment_result(c.deploy({app_id: dict(target)}, force=force))

    def update_many(self, handler, params: dict, body: bytes, *, patch: bool) -> Response:
        am = _appmodel()
        raw = self._read_json(body)
        if not isinstance(raw, list):
            raise ApiError(422, {"message": "Invalid JSON", "details": [
                {"path": "", "errors": ["error.expected.jsarray"]}]})
        force = parse_bool(_one(params, "force"))
        partial = True if patch else parse_bool(_one(params, "partialUpdate"), default=True)
        c = self.cluster
        with c.lock:
            changes = {}
            for item in raw:
                if not isinstance(item, dict) or not item.get("id"):
                    raise ApiError(422, {"message": "requirement failed: App Update must have app id set"})
                app_id = am.canonical_id(item["id"])
                rec = c.apps.get(app_id)
                if patch and rec is None:
                    raise not_found_app(app_id, details=False)
                new = am.normalize_app(item, path_id=app_id, existing=rec["app"] if rec else None,
                                       partial=partial and rec is not None, mesos_role=self.mesos_role)
                if rec is not None:
                    am.validate_resident_update(rec["app"], new, force=force)
                used = c._used_service_ports(exclude=app_id) | {
                    p for a in changes.values() for p in _ports_of(a)}
                changes[app_id] = am.assign_service_ports(new, used, rec["app"] if rec else None)
            dep = c.deploy(changes, force=force)
        return deployment_result(dep)

    def delete_app(self, app_id: str, params: dict) -> Response:
        # §3.1.7: force defaults to true for DELETE.
        force = parse_bool(_one(params, "force"), default=True)
        c = self.cluster
        with c.lock:
            if app_id not in c.apps:
                raise not_found_app(app_id, details=False)
            dep = c.deploy({app_id: None}, force=force)
        return deployment_result(dep)

    def restart_app(self, app_id: str, params: dict) -> Response:
        force = parse_bool(_one(params, "force"))
        c = self.cluster
        with c.lock:
            rec = c.apps.get(app_id)
            if rec is None:
                raise not_found_app(app_id, details=False)
            dep = c.deploy({app_id: rec["app"]}, force=force, restart_ids={app_id})
        return deployment_result(dep)

    def app_versions(self, app_id: str) -> Response:
        with self.cluster.lock:
            if app_id not in self.cluster.apps:
                raise not_found_app(app_id)
            # newest first: the DC/OS CLI treats index 0 as the newest (§3.1.8)
            return Response(200, {"versions": [v["version"] for v in self.cluster.versions.get(app_id, [])]})

    def app_version(self, app_id: str, version: str) -> Response:
        am = _appmodel()
        with self.cluster.lock:
            if app_id not in self.cluster.apps:
                raise not_found_app(app_id)
            _check_ts(version)
            for v in self.cluster.versions.get(app_id, []):
                if v["version"] == version or _same_instant(v["version"], version):
                    return Response(200, am.app_for_output(v["app"], v["version"], v["versionInfo"]))
        raise ApiError(404, {"message": f"App '{app_id}' does not exist in version {version}", "details": []})

    # ------------------------------------------------------------------ tasks

    def app_tasks(self, app_id: str) -> Response:
        c = self.cluster
        with c.lock:
            if app_id not in c.apps:
                raise not_found_app(app_id)
            return Response(200, {"tasks": [c.task_json(i) for i in c.visible_instances(app_id)]})

    def group_tasks(self, group_id: str, method: str) -> Response:
        if method != "GET":
            return _not_allowed()
        c = self.cluster
        prefix = group_id.rstrip("/") + "/"
        with c.lock:
            ids = [a for a in sorted(c.apps) if a.startswith(prefix) or group_id == "/"]
            if not ids:
                raise ApiError(404, {"message": f"Group '{group_id}' does not exist", "details": []})
            return Response(200, {"tasks": [c.task_json(i) for a in ids for i in c.visible_instances(a)]})

    def all_tasks(self, params: dict) -> Response:
        wanted = set()
        for key in ("status", "status[]"):
            for v in params.get(key, []):
                if v.lower() == "running":
                    wanted.add("TASK_RUNNING")
                elif v.lower() == "staging":
                    wanted.add("TASK_STAGING")
        c = self.cluster
        out = []
        with c.lock:
            for app_id in sorted(c.apps):
                sports = _service_ports(c.apps[app_id]["app"])
                for inst in c.visible_instances(app_id):
                    t = c.task_json(inst, sports)
                    if wanted and t["state"] not in wanted:
                        continue
                    out.append(t)
        return Response(200, {"tasks": out})

    def _kill(self, app_id: str, insts: list, params: dict) -> Response:
        scale = parse_bool(_one(params, "scale"))
        wipe = parse_bool(_one(params, "wipe"))
        force = parse_bool(_one(params, "force"))
        if scale and wipe:
            raise ApiError(400, {"message": "You cannot use scale and wipe at the same time."})
        c = self.cluster
        if scale:
            with c.lock:
                return deployment_result(self._kill_and_scale({app_id: insts}, force))
        return Response(200, {"tasks": c.kill_instances(insts, wipe=wipe)})

    def _kill_and_scale(self, by_app: dict, force: bool):
        """scale=true: lower instances by the active instances killed and deploy a ScaleApplication
        whose kill list is exactly those (§3.2)."""
        c = self.cluster
        changes, kill_lists = {}, {}
        for app_id, insts in by_app.items():
            rec = c.apps[app_id]
            active = [i for i in insts if i["goal"] == "Running" and is_active(i.get("task"))
                      and not i["task"].get("killRequested")]
            new = dict(rec["app"])
            new["instances"] = max(0, new.get("instances", 1) - len(active))
            changes[app_id] = new
            kill_lists[app_id] = [i["id"] for i in active]
        return c.deploy(changes, force=force, kill_lists=kill_lists)

    def kill_app_tasks(self, app_id: str, params: dict) -> Response:
        c = self.cluster
        host = _one(params, "host")
        with c.lock:
            if app_id not in c.apps:
                raise not_found_app(app_id)
            # wipe also reaches suspended resident instances: it is how their reservations are freed
            wipe = parse_bool(_one(params, "wipe"))
            insts = [i for i in c.app_instances(app_id) if is_active(i.get("task"))
                     or (wipe and i.get("reservation") and i["goal"] != "Decommissioned")]
            if host and host != "*":
                insts = [i for i in insts if host == "127.0.0.1"] if host else insts
            if parse_bool(_one(params, "scale")) and not parse_bool(_one(params, "wipe")) and not c.app_instances(app_id):
                raise ApiError(404, {"message": f"Path '{app_id}' does not exist"})
        return self._kill(app_id, insts, params)

    def kill_one_task(self, app_id: str, task_id: str, params: dict) -> Response:
        c = self.cluster
        with c.lock:
            if app_id not in c.apps:
                raise not_found_app(app_id)
            inst = c.find_instance_by_task(task_id)
            if inst is None or inst["appId"] != app_id:
                raise ApiError(404, {"message": f"Task '{task_id}' does not exist", "details": []})
        resp = self._kill(app_id, [inst], params)
        if resp.status == 200 and "Marathon-Deployment-Id" not in resp.headers:
            tasks = json.loads(resp.body)["tasks"]
            return Response(200, {"task": tasks[0]})
        return resp

    def delete_tasks(self, params: dict, body: bytes) -> Response:
        raw = self._read_json(body)
        ids = raw.get("ids") if isinstance(raw, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(422, {"message": "Invalid JSON", "details": [
                {"path": "/ids", "errors": ["error.path.missing" if not isinstance(raw, dict) or "ids" not in raw
                                            else "error.expected.jsarray"]}]})
        c = self.cluster
        by_app: dict = {}
        with c.lock:
            for tid in ids:
                if parse_task_app(tid) is None:
                    raise ApiError(400, {"message": f"Invalid task id '{tid}'."})
                inst = c.find_instance_by_task(tid)
                if inst is None:
                    continue  # well-formed but unknown ids are skipped (§3.2)
                by_app.setdefault(inst["appId"], []).append(inst)
        scale = parse_bool(_one(params, "scale"))
        wipe = parse_bool(_one(params, "wipe"))
        if scale and wipe:
            raise ApiError(400, {"message": "You cannot use scale and wipe at the same time."})
        if scale:
            with c.lock:
                by_app = {a: v for a, v in by_app.items() if a in c.apps}
                return deployment_result(self._kill_and_scale(by_app, parse_bool(_one(params, "force"))))
        insts = [i for v in by_app.values() for i in v]
        return Response(200, {"tasks": c.kill_instances(insts, wipe=wipe)})

    # ------------------------------------------------------------------ events (SSE)

    def events(self, handler, params: dict) -> Response:
        accept = (handler.headers.get("Accept") or "").lower()
        if "text/event-stream" not in accept:
            status, headers, body = ev.not_acceptable_response("/v2/events")
            return Response(status, body, headers)
        types = set(params.get("event_type", [])) or None
        handler.stream_events(self, types)
        raise Stream()


# ---------------------------------------------------------------------- query helpers


def _not_allowed() -> Response:
    return json_error(405, "HTTP 405 Method Not Allowed")


def _one(params: dict, key: str):
    values = params.get(key)
    return values[-1] if values else None


def _raw_id(rest: str) -> str:
    return "/" + "/".join(p for p in rest.split("/") if p)


def _ports_of(app: dict) -> list[int]:
    return _service_ports(app)


def _check_ts(version: str) -> None:
    try:
        parse_ts(version)
    except ValueError:
        raise ApiError(422, {"message": f"Invalid timestamp provided '{version}'. "
                                        "Expecting ISO-8601 datetime string."}) from None


def _same_instant(a: str, b: str) -> bool:
    try:
        return abs(parse_ts(a) - parse_ts(b)) < 0.0005
    except ValueError:
        return False


def _embeds(params: dict) -> set[str]:
    out = set()
    for value in params.get("embed", []):
        for part in value.split(","):
            part = part.strip()
            for prefix in EMBED_PREFIXES:
                if part.startswith(prefix):
                    part = part[len(prefix):]
                    break
            if part == "failures":
                out.update({"tasks", "lastTaskFailure", "deployments"})
            elif part:
                out.add(part)
    return out


_SELECTOR_TERM = re.compile(
    r"^\s*([^\s!=,()]+)\s*(?:(==|!=)\s*([^\s,()]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$")


def _label_selector(text: str):
    """Marathon's label selector (§3.1.1): k, k==v, k!=v, k in (a,b), k notin (a,b); comma = AND."""
    terms, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    preds = []
    for term in terms:
        m = _SELECTOR_TERM.match(term)
        if not m:
            raise ApiError(422, {"message": f"Can not parse label selector {text}"})
        key, op, val, setop, values = m.groups()
        vals = {v.strip() for v in (values or "").split(",")}
        if op == "==":
            preds.append(lambda lab, k=key, v=val: lab.get(k) == v)
        elif op == "!=":
            preds.append(lambda lab, k=key, v=val: lab.get(k) != v)
        elif setop == "in":
            preds.append(lambda lab, k=key, vs=vals: lab.get(k) in vs)
        elif setop == "notin":
            preds.append(lambda lab, k=key, vs=vals: lab.get(k) not in vs)
        else:
            preds.append(lambda lab, k=key: k in lab)
    return lambda labels: all(p(labels) for p in preds)


# ---------------------------------------------------------------------- HTTP plumbing


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "localmarathon/" + __version__

    def version_string(self):
        return self.server_version
    timeout = 300  # idle keep-alive connections do not hold a thread forever

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):  # the request log is requests.jsonl
        pass

    def send_error(self, code, message=None, explain=None):
        # Requests the stdlib rejects before routing (bad request line, headers) are logged too.
        started = time.perf_counter()
        super().send_error(code, message, explain)
        split = urlsplit(getattr(self, "path", "") or "")
        self.server.lm.log_request(method=getattr(self, "command", None) or "-", path=split.path or "-",
                                   query=split.query, status=code, started=started, admin=False, fault=None,
                                   write=False)

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _serve(self):
        lm: LocalMarathon = self.server.lm
        started = time.perf_counter()
        method = self.command
        split = urlsplit(self.path)
        raw_path, query = split.path or "/", split.query
        fault = None
        admin = False
        try:
            try:
                body = self._read_body()
            except (ValueError, OSError):
                self.close_connection = True
                resp = Response(400, {"message": "Invalid request body"})
            else:
                resp, fault, admin = lm.handle(self, method, raw_path, query, body)
        except Drop as drop:
            self.close_connection = True
            lm.log_request(method=method, path=raw_path, query=query, status=0, started=started,
                           admin=False, fault=str(drop), write=False)
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        except Stream:
            lm.log_request(method=method, path=raw_path, query=query, status=200, started=started,
                           admin=False, fault=None, write=False)
            return
        except Exception:
            log.error("unhandled error:\n%s", traceback.format_exc())
            resp = json_error(500, "Internal server error")
        write = (method in ("POST", "PUT", "PATCH", "DELETE") and 200 <= resp.status < 300 and not admin
                 and normalize_path(raw_path) != LOGIN_PATH)
        # Logged before the answer goes out: a client that reads requests.jsonl or
        # /_localmarathon/stats right after its response must find its request there.
        lm.log_request(method=method, path=raw_path, query=query, status=resp.status, started=started,
                       admin=admin, fault=fault, write=write)
        try:
            self._send(resp, head=method == "HEAD")
        except OSError:
            self.close_connection = True

    def _send(self, resp: Response, head: bool = False):
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        # Headers and body in one write: two small writes would meet the client's delayed ACK
        # (Nagle) and cost ~40 ms per request.
        self._headers_buffer.append(b"\r\n")
        if not head and resp.body:
            self._headers_buffer.append(resp.body)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []
        self.wfile.flush()

    def stream_events(self, lm: LocalMarathon, types):
        sub = lm.bus.attach(self.client_address[0], types)
        self.close_connection = True
        try:
            self.send_response(200)
            self.send_header("Content-Type", ev.SSE_CONTENT_TYPE)
            for k, v in lm.marathon_headers().items():
                self.send_header(k, v)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            while not lm.stopping.is_set():
                try:
                    event = sub.get(timeout=1.0)
                except ev.SubscriptionClosed:
                    break
                self.wfile.write(ev.SSE_HEARTBEAT if event is None else ev.sse_frame(event))
                self.wfile.flush()
        except OSError:
            pass
        finally:
            sub.close()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, lm: LocalMarathon, ssl_context=None):
        self.lm = lm
        self.ssl_context = ssl_context
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_context is not None:
            # Handshake lazily in the connection's own thread, so a slow client cannot stall accept().
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError, socket.timeout)):
            return
        log.error("connection error from %s:\n%s", client_address, traceback.format_exc())


def serve(args) -> int:
    """Run until SIGTERM/SIGINT; prints the ready line once requests are accepted."""
    if args.host != "127.0.0.1" and args.host != "localhost":
        print(f"localmarathon: --host must be 127.0.0.1 (got {args.host})", file=sys.stderr)
        return 2
    auth_config = None
    if args.auth_config:
        try:
            auth_config = json.loads(Path(args.auth_config).read_text())
        except (OSError, ValueError) as exc:
            print(f"localmarathon: --auth-config {args.auth_config}: {exc}", file=sys.stderr)
            return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        print("localmarathon: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    ctx = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            ctx.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as exc:
            print(f"localmarathon: cannot load TLS certificate/key: {exc}", file=sys.stderr)
            return 2
    if args.time_scale <= 0:
        print("localmarathon: --time-scale must be > 0", file=sys.stderr)
        return 2
    try:
        lm = LocalMarathon(data_dir=args.data_dir, agents=args.agents, auth=args.auth, auth_config=auth_config,
                           time_scale=args.time_scale, mesos_role=args.mesos_role, tls=ctx is not None)
    except ValueError as exc:
        print(f"localmarathon: {exc}", file=sys.stderr)
        return 2
    server = Server(("127.0.0.1", args.port), lm, ctx)
    port = server.server_address[1]
    lm.base_url = f"{'https' if ctx else 'http'}://127.0.0.1:{port}"
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    lm.cluster.start()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    print(f"localmarathon ready {lm.base_url}", flush=True)
    log.info("localmarathon %s serving %s (data %s, %d agent(s), time scale %g)", __version__, lm.base_url,
             args.data_dir, args.agents, args.time_scale)
    while not stop.wait(0.5):
        pass
    log.info("stopping: killing every task")
    lm.stopping.set()
    server.shutdown()
    server.server_close()
    lm.cluster.shutdown()
    lm.close()
    log.info("stopped")
    return 0

