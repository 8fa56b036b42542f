"""Shared fixtures for the server-level tests: a real localmarathon process per test (port 0) and
an HTTP client that checks every JSON answer it receives against Marathon's RAML types."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests

from localmarathon.testing import LocalMarathon, wait_for
from support import raml
from support.reference import reference_dir as _reference_dir

REPO = Path(__file__).resolve().parents[2]
REFERENCE = _reference_dir()
TIME_SCALE = 20.0

# (method, path regex, status class) → RAML type of the answer body (R/v2/*.raml).
_TYPES = [
    ("GET", r"/v2/apps", 2, "app.AppList"),
    ("POST", r"/v2/apps", 2, "app.AppInfo"),
    ("GET", r"/v2/apps/.+/versions", 2, "app.VersionList"),
    ("GET", r"/v2/apps/.+/versions/[^/]+", 2, "app.App"),
    ("GET", r"/v2/apps/.+/tasks", 2, "task.TaskList"),
    ("DELETE", r"/v2/apps/.+/tasks", 2, "task.TaskList | deploymentResult.DeploymentResult"),
    ("DELETE", r"/v2/apps/.+/tasks/[^/]+", 2, "task.TaskSingle | deploymentResult.DeploymentResult"),
    ("POST", r"/v2/apps/.+/restart", 2, "deploymentResult.DeploymentResult"),
    ("PUT", r"/v2/apps(/.+)?", 2, "deploymentResult.DeploymentResult"),
    ("PATCH", r"/v2/apps(/.+)?", 2, "deploymentResult.DeploymentResult"),
    ("DELETE", r"/v2/apps/.+", 2, "deploymentResult.DeploymentResult"),
    ("GET", r"/v2/tasks", 2, "task.TaskList"),
    ("POST", r"/v2/tasks/delete", 2, "task.TaskList | deploymentResult.DeploymentResult"),
    ("GET", r"/v2/deployments", 2, "deploymentInfo.DeploymentStepInfo[]"),
    ("DELETE", r"/v2/deployments/[^/]+", 2, "deploymentResult.DeploymentResult"),
    ("GET", r"/v2/queue", 2, "queue.Queue"),
    ("GET", r"/v2/groups(/.+)?", 2, "group.GroupInfo"),
    ("GET", r"/v2/info", 2, "info.MarathonInfo"),
    ("GET", r"/v2/leader", 2, "info.LeaderInfo"),
]
CHECKED = []  # (method, path, type) of every body checked in this process


def raml_problems(method: str, path: str, status: int, body) -> list[str]:
    """RAML problems of one answer; [] if it conforms or no type applies."""
    path = re.sub(r"^/service/marathon", "", re.sub(r"/{2,}", "/", path)).rstrip("/") or "/"
    if status >= 400:
        if not isinstance(body, dict) or "message" not in body or "title" in body:
            return []
        if isinstance(body.get("details"), str):
            return []  # 400 "Invalid JSON": Marathon writes details as a string, the RAML says array
        # ErrorDetail in the RAML lacks "path" (Marathon sends it) and 409 adds "deployments".
        CHECKED.append((method, path, "error.Error"))
        return raml.check_body("error.Error", body, strict=False)
    if method == "GET" and re.fullmatch(r"/v2/apps/.+", path) and not re.search(r"/(tasks|versions)(/|$)", path):
        if isinstance(body, dict) and "app" in body:
            CHECKED.append((method, path, "app.AppInfo"))
            return [f"/app{p}" for p in raml.check_body("app.AppInfo", body["app"])]
        if isinstance(body, dict) and "*" in body:
            return [p for a in body["*"] for p in raml.check_body("app.AppInfo", a)]
    for m, pattern, klass, type_name in _TYPES:
        if m == method and status // 100 == klass and re.fullmatch(pattern, path):
            if body is None:
                return []
            CHECKED.append((method, path, type_name))
            return raml.check_body(type_name, body)
    return []


class Api:
    """requests.Session against one server; every JSON answer is checked against the RAML types."""

    def __init__(self, url: str, headers: dict | None = None, verify=True):
        self.url = url.rstrip("/")
        self.s = requests.Session()
        self.s.headers.update(headers or {})
        self.s.verify = verify

    def request(self, method: str, path: str, check: bool = True, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        kw.setdefault("verify", self.s.verify)  # REQUESTS_CA_BUNDLE would override Session.verify
        r = self.s.request(method, self.url + path, **kw)
        if check and r.headers.get("Content-Type", "").startswith("application/json") and r.content:
            problems = raml_problems(method, path.split("?")[0], r.status_code, r.json())
            assert not problems, f"{method} {path} → {r.status_code}: body does not match RAML: {problems}"
        return r

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

    # -- helpers -----------------------------------------------------------------------------

    def app(self, app_id: str) -> dict:
        r = self.get(f"/v2/apps{app_id}")
        assert r.status_code == 200, r.text
        return r.json()["app"]

    def deployments(self) -> list[dict]:
        return self.get("/v2/deployments").json()

    def wait_deployment(self, dep_id: str, timeout: float = 30) -> None:
        wait_for(lambda: all(d["id"] != dep_id for d in self.deployments()), timeout,
                 f"deployment {dep_id} to finish")

    def wait_running(self, app_id: str, n: int = 1, healthy: bool = False, timeout: float = 30) -> dict:
        def ok():
            a = self.app(app_id)
            good = a["tasksRunning"] == n and (not healthy or a["tasksHealthy"] == n)
            return a if good and not a["deployments"] else None
        return wait_for(ok, timeout, f"{app_id} to run {n} task(s)")


@pytest.fixture
def lm(tmp_path):
    with LocalMarathon(tmp_path / "lm", time_scale=TIME_SCALE) as server:
        yield server


@pytest.fixture
def api(lm) -> Api:
    return Api(lm.url)


@pytest.fixture
def reference_dir() -> Path:
    assert (REFERENCE / "marathon-api").is_dir(), f"the vendored Marathon reference files are missing: {REFERENCE}"
    return REFERENCE
