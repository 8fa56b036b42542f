"""HTTP front end of localmarathon: Marathon's REST API, the DC/OS layout
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

from . import __version__
from . import events as ev
from .faults import FaultInjector
from .offers import AgentResources
from .appdef.schema import parse_json_body
from .apps import AppService
from .deployments import Deployment
from .cluster import Cluster
from .errors import ApiError
from .util import parse_bool
from .versions import MarathonVersion

log = logging.getLogger("localmarathon")

ADMIN = "/_localmarathon"
DCOS_PREFIX = "/service/marathon"
LOGIN_PATH = "/acs/api/v1/auth/login"
SECRETS_PREFIX = "/secrets/v1"
MAX_BODY = 16 * 1024 * 1024
JSON_TYPE = "application/json"
# Headers Marathon's filters add to every answer of the leader.
COMMON_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
}
EMBED_PREFIXES = ("group.apps.", "apps.", "app.")


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
    # the deploymentResult body and the Marathon-Deployment-Id header
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
                 mesos_role="slave_public", tls=False, marathon_version=None, enterprise=False,
                 agent_resources=None):
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
        self.marathon = MarathonVersion.parse(marathon_version)
        # DC/OS Enterprise: the secret store at the cluster root, and Marathon with its secrets plugin.
        self.secrets = None
        if enterprise:
            from .secrets import SecretStore
            self.secrets = SecretStore(self.data_dir, self.auth.allowed if self.auth is not None else None)
        self.cluster = Cluster(self.data_dir, agents=agents, time_scale=self.time_scale, mesos_role=mesos_role,
                               marathon=self.marathon, agent_resources=agent_resources,
                               bus=self.bus, faults=self.faults, secrets=self.secrets)
        self.apps = AppService(self.cluster, mesos_role=mesos_role)
        self.base_url = ""
        self.started_at = time.time()
        self._log_lock = threading.Lock()
        self._log = open(self.data_dir / "requests.jsonl", "a", buffering=1, encoding="utf-8")
        self.stats = {"requests": 0, "writes": 0}
        self.stopping = threading.Event()
        self.faults.register_callback("kill_task", self._fault_kill_task)
        # A new leader reads the same state (ZooKeeper's, here state.json): the election gap the
        # fault opens is all a leader change does.
        self.faults.register_callback("leader_change", lambda fault: None)
        self.faults.register_callback("expire_tokens", self._fault_expire_tokens)
        self.faults.on_change(self._fault_changed)

    # ------------------------------------------------------------------ faults

    def _fault_kill_task(self, fault):
        self.cluster.tracker.kill_task_fault(fault.spec["task_id"], bool(fault.spec.get("wipe", False)))

    def _fault_expire_tokens(self, fault):
        if self.auth is not None:
            self.auth.expire_all()

    def _fault_changed(self, action, fault):
        if fault.kind == "unhealthy":
            still = self.faults.app_unhealthy(fault.app_id)
            self.cluster.tracker.set_unhealthy(fault.app_id, still)
        if fault.kind == "stall_deployment":
            self.cluster.wake()

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
                status, headers, fbody = fault.response(path, self.marathon.no_leader_status)
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
        # The secret store is a cluster service beside Marathon (Admin Router's /secrets/v1), not under it.
        secrets_sub = path[len(SECRETS_PREFIX):] if path.startswith(SECRETS_PREFIX + "/") else None
        if path == DCOS_PREFIX or path.startswith(DCOS_PREFIX + "/"):
            path = path[len(DCOS_PREFIX):] or "/"
        if self.auth is not None:
            denied = self.auth.check(handler.headers)
            if denied is not None:
                status, headers, rbody = denied
                return Response(status, rbody, headers), label, False
        if secrets_sub is not None and self.secrets is not None:
            uid = self.auth.authenticated_uid(handler.headers) if self.auth is not None else None
            status, headers, rbody = self.secrets.handle(
                method, secrets_sub, parse_qs(query, keep_blank_values=True), body, uid)
            return Response(status, rbody, headers), label, False
        params = parse_qs(query, keep_blank_values=True)
        try:
            resp = self.route(handler, method, path, params, body)
        except Stream:
            raise
        except Drop:
            raise
        except ApiError as exc:
            resp = self._error_response(exc)
            if exc.status == 422 and method in ("POST", "PUT", "PATCH") and path.startswith("/v2/apps"):
                self.apps.report_rejected_change(str(exc.body.get("message", "")))
        except Exception as exc:
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
            return Response(200, self.cluster.admin_state())
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
            return Response(200, self.apps.deployments())
        if path.startswith("/v2/deployments/"):
            dep_id = path[len("/v2/deployments/"):]
            if method != "DELETE":
                return _not_allowed()
            if parse_bool(_one(params, "force")):
                self.apps.cancel_deployment(dep_id)
                return Response(202, None)
            return deployment_result(self.apps.rollback_deployment(dep_id))
        if path == "/v2/queue":
            if method != "GET":
                return _not_allowed()
            return Response(200, {"queue": self.apps.queue()})
        m = re.fullmatch(r"/v2/queue/(.+)/delay", path)
        if m:
            if method != "DELETE":
                return _not_allowed()
            self.apps.reset_delay(_raw_id(m.group(1)))
            return Response(204, None)
        if path == "/v2/groups" or path.startswith("/v2/groups/"):
            return self.groups(handler, method, path[len("/v2/groups"):], params, body)
        if path == "/v2/info":
            return self.info() if method == "GET" else _not_allowed()
        if path == "/v2/leader":
            if method == "GET":
                return Response(200, {"leader": self.leader})
            if method == "DELETE":
                # Abdication: a short election gap follows, as with a real leader change.
                threading.Timer(0.5 / self.time_scale, self._abdicate).start()
                return Response(200, {"message": "Leadership abdicated", "details": []})
            return _not_allowed()
        if path == "/v2/events":
            if method != "GET":
                return _not_allowed()
            return self.events(handler, params)
        # Jersey's NotFoundException is mapped to a 500 in 1.6+.
        if self.marathon.unknown_route_is_404:
            return json_error(404, f"URI not found: {path}")
        return json_error(500, "URI not found")

    def _error_response(self, exc: ApiError) -> Response:
        """An API error as this Marathon version answers it: before 1.6 mistyped JSON is a 400, before
        1.9 a 404 carries no ``details``."""
        status, body = exc.status, exc.body
        if isinstance(body, dict):
            if status == 422 and body.get("message") == "Invalid JSON":
                status = self.marathon.invalid_json_status
            if status == 404 and body.get("details") == [] and not self.marathon.not_found_has_details:
                body = {k: v for k, v in body.items() if k != "details"}
        return Response(status, body, exc.headers)

    def _abdicate(self):
        try:
            self.faults.add({"kind": "leader_change", "duration": 0.5 / self.time_scale})
        except ValueError:
            pass

    # ------------------------------------------------------------------ simple resources

    def ping(self, handler) -> Response:
        # content negotiation — text/plain "pong" for */* and text/*, JSON "pong" for JSON.
        accept = (handler.headers.get("Accept") or "*/*").lower()
        kinds = [a.split(";")[0].strip() for a in accept.split(",")]
        if any(k in ("*/*", "text/*", "text/plain", "") for k in kinds):
            return Response(200, b"pong", {"Content-Type": "text/plain"})
        if any(k in ("application/json", "application/*") for k in kinds):
            return Response(200, b'"pong"', {"Content-Type": JSON_TYPE})
        return Response(204, None)

    def info(self) -> Response:
        port = int(self.base_url.rsplit(":", 1)[-1]) if self.base_url else 0
        body = {
            "name": "marathon", "version": self.marathon.reported, "buildref": f"localmarathon-{__version__}",
            "elected": True, "leader": self.leader, "frameworkId": self.apps.framework_id,
            "marathon_config": {
                "checkpoint": True, "executor": "//cmd", "failover_timeout": 604800,
                "features": sorted(self.cluster.features), "framework_name": "marathon", "ha": True, "hostname": "127.0.0.1",
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
        }
        if self.marathon.info_has_event_subscriber:
            # 1.4 still lists the (removed in 1.5) HTTP callback subscribers; none are configured here
            body = {**{k: v for k, v in body.items() if k != "http_config"}, "event_subscriber": None,
                    "http_config": body["http_config"]}
        return Response(200, body)

    # ------------------------------------------------------------------ groups

    def groups(self, handler, method: str, rest: str, params: dict, body: bytes) -> Response:
        """/v2/groups[/{id}] (R/v2/groups.raml): GET with embeds, POST, PUT (update, rollback with
        ``version``, ``scaleBy``), DELETE, and GET .../versions[/{version}]."""
        m = re.fullmatch(r"(.*)/versions/([^/]+)", rest)
        if m:
            if method != "GET":
                return _not_allowed()
            return Response(200, self.apps.group_version(_raw_id(m.group(1)), m.group(2)))
        m = re.fullmatch(r"(.*)/versions", rest)
        if m:
            if method != "GET":
                return _not_allowed()
            return Response(200, self.apps.group_versions(_raw_id(m.group(1))))
        group_id = _raw_id(rest)
        force = parse_bool(_one(params, "force"))
        if method == "GET":
            with_apps, with_groups, embed = _group_embeds(params)
            return Response(200, self.apps.group(group_id, embed, with_apps=with_apps, with_groups=with_groups))
        if method == "POST":
            dep, created_id = self.apps.update_group(group_id, parse_json_body(body), force=force, create=True)
            host = handler.headers.get("Host") or self.leader
            scheme = "https" if self.tls else "http"
            resp = deployment_result(dep, 201)
            resp.headers["Location"] = f"{scheme}://{host}/v2/groups{created_id}"
            return resp
        if method == "PUT":
            dep, _ = self.apps.update_group(group_id, parse_json_body(body), force=force, create=False)
            return deployment_result(dep)
        if method == "DELETE":
            return deployment_result(self.apps.delete_group(group_id, force=force))
        return _not_allowed()

    def list_apps(self, params: dict) -> Response:
        selector = _one(params, "label")
        apps = self.apps.list_apps(_embeds(params), id_filter=(_one(params, "id") or "").lower(),
                                   cmd_filter=(_one(params, "cmd") or "").lower(),
                                   match_labels=_label_selector(selector) if selector else None)
        return Response(200, {"apps": apps})

    def create_app(self, handler, params: dict, body: bytes) -> Response:
        out, dep = self.apps.create(parse_json_body(body), force=parse_bool(_one(params, "force")),
                                    client_ip=handler.client_address[0])
        host = handler.headers.get("Host") or self.leader
        scheme = "https" if self.tls else "http"
        return Response(201, out, {"Location": f"{scheme}://{host}{out['id']}", "Marathon-Deployment-Id": dep.id})

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
                if method != "GET":
                    return _not_allowed()
                return Response(200, {"tasks": self.apps.group_tasks(app_id[:-2])})
            if method == "GET":
                return Response(200, {"tasks": self.apps.app_tasks(app_id)})
            if method == "DELETE":
                return self.kill_app_tasks(app_id, params)
            return _not_allowed()
        m = re.fullmatch(r"(.*)/versions/([^/]+)", rest)
        if m:
            if method != "GET":
                return _not_allowed()
            return Response(200, self.apps.version(_raw_id(m.group(1)), m.group(2)))
        m = re.fullmatch(r"(.*)/versions", rest)
        if m:
            if method != "GET":
                return _not_allowed()
            return Response(200, {"versions": self.apps.versions(_raw_id(m.group(1)))})
        m = re.fullmatch(r"(.*)/restart", rest)
        if m and method == "POST":
            return deployment_result(self.apps.restart(_raw_id(m.group(1)), force=parse_bool(_one(params, "force"))))
        if rest.endswith("/*") and method == "GET":
            return Response(200, {"*": self.apps.group_apps(_raw_id(rest[:-2]), _embeds(params))})
        # Lookups do not validate the id (an invalid one simply does not exist); writes do.
        if method == "GET":
            return Response(200, {"app": self.apps.app(_raw_id(rest), _embeds(params))})
        if method in ("PUT", "PATCH"):
            return self.update_app(handler, rest, params, body, patch=method == "PATCH")
        if method == "DELETE":
            # DELETE .../restart deletes the app whose id ends in "restart"; force defaults to true.
            return deployment_result(self.apps.delete(_raw_id(rest),
                                                      force=parse_bool(_one(params, "force"), default=True)))
        return _not_allowed()

    def update_app(self, handler, raw_id: str, params: dict, body: bytes, *, patch: bool) -> Response:
        dep, created = self.apps.update(raw_id, parse_json_body(body), force=parse_bool(_one(params, "force")),
                                        partial=_partial(params, patch), patch=patch,
                                        client_ip=handler.client_address[0])
        return deployment_result(dep, 201 if created else 200)

    def update_many(self, handler, params: dict, body: bytes, *, patch: bool) -> Response:
        return deployment_result(self.apps.update_many(parse_json_body(body), force=parse_bool(_one(params, "force")),
                                                       partial=_partial(params, patch), patch=patch))

    # ------------------------------------------------------------------ tasks

    def all_tasks(self, params: dict) -> Response:
        wanted = set()
        for key in ("status", "status[]"):
            for v in params.get(key, []):
                if v.lower() == "running":
                    wanted.add("TASK_RUNNING")
                elif v.lower() == "staging":
                    wanted.add("TASK_STAGING")
        return Response(200, {"tasks": self.apps.all_tasks(wanted)})

    def kill_app_tasks(self, app_id: str, params: dict) -> Response:
        result = self.apps.kill_app_tasks(app_id, host=_one(params, "host"), **_kill_options(params))
        return _kill_result(result, {"tasks": result})

    def kill_one_task(self, app_id: str, task_id: str, params: dict) -> Response:
        result = self.apps.kill_task(app_id, task_id, **_kill_options(params))
        return _kill_result(result, {"task": result})

    def delete_tasks(self, params: dict, body: bytes) -> Response:
        raw = parse_json_body(body)
        ids = raw.get("ids") if isinstance(raw, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(422, {"message": "Invalid JSON", "details": [
                {"path": "/ids", "errors": ["error.path.missing" if not isinstance(raw, dict) or "ids" not in raw
                                            else "error.expected.jsarray"]}]})
        result = self.apps.kill_tasks_by_id(ids, **_kill_options(params))
        return _kill_result(result, {"tasks": result})

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


def _partial(params: dict, patch: bool) -> bool:
    # PATCH always merges; PUT merges unless partialUpdate=false
    return True if patch else parse_bool(_one(params, "partialUpdate"), default=True)


def _kill_options(params: dict) -> dict:
    return {key: parse_bool(_one(params, key)) for key in ("scale", "wipe", "force")}


def _kill_result(result, body: dict) -> Response:
    """A kill with scale=true answers with its deployment, otherwise with the killed task(s)."""
    if isinstance(result, Deployment):
        return deployment_result(result)
    return Response(200, body)


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


def _group_embeds(params: dict) -> tuple[bool, bool, set[str]]:
    """GET /v2/groups embeds: (apps, child groups, app embeds). Without any, group.groups and
    group.apps; an app embed (group.apps.tasks, ...) brings the apps along."""
    values = [p.strip() for v in params.get("embed", []) for p in v.split(",") if p.strip()]
    if not values:
        return True, True, set()
    app_embeds = _embeds({"embed": [v for v in values if v.startswith("group.apps.")]})
    return "group.apps" in values or bool(app_embeds), "group.groups" in values, app_embeds


_SELECTOR_TERM = re.compile(
    r"^\s*([^\s!=,()]+)\s*(?:(==|!=)\s*([^\s,()]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$")


def _label_selector(text: str):
    """Marathon's label selector: k, k==v, k!=v, k in (a,b), k notin (a,b); comma = AND."""
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
        resources = AgentResources.parse(args.agent_resources, args.agent_attributes)
        lm = LocalMarathon(data_dir=args.data_dir, agents=args.agents, auth=args.auth, auth_config=auth_config,
                           time_scale=args.time_scale, mesos_role=args.mesos_role, tls=ctx is not None,
                           marathon_version=args.marathon_version, enterprise=args.enterprise,
                           agent_resources=resources)
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
    log.info("localmarathon %s serving %s as Marathon %s (data %s, %d agent(s), time scale %g)", __version__,
             lm.base_url, lm.marathon.reported, args.data_dir, args.agents, args.time_scale)
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

