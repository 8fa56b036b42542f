"""Fixtures of the server-level tests: a real localmarathon process per test (port 0; ``lm`` from
localmarathon.pytest_plugin) and an HTTP client that checks every JSON answer it receives against
Marathon's RAML types."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localmarathon import testing
from localmarathon.testing import wait_for
from support import raml
from support.reference import reference_dir as _reference_dir

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
    ("GET", r"/v2/groups(/.+)?/versions", 2, None),  # a bare list of timestamps: checked by the tests
    ("GET", r"/v2/groups(/.+)?/versions/[^/]+", 2, "group.GroupInfo"),
    ("GET", r"/v2/groups(/.+)?", 2, "group.GroupInfo"),
    ("POST", r"/v2/groups(/.+)?", 2, "deploymentResult.DeploymentResult"),
    ("PUT", r"/v2/groups(/.+)?", 2, "deploymentResult.DeploymentResult"),
    ("DELETE", r"/v2/groups(/.+)?", 2, "deploymentResult.DeploymentResult"),
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
            if body is None or type_name is None:
                return []
            CHECKED.append((method, path, type_name))
            return raml.check_body(type_name, body)
    return []


class Api(testing.Api):
    """The shared client (localmarathon.testing.Api); every JSON answer is checked against the RAML types."""

    def check_answer(self, method: str, path: str, response) -> None:
        if response.headers.get("Content-Type", "").startswith("application/json") and response.content:
            problems = raml_problems(method, path.split("?")[0], response.status_code, response.json())
            assert not problems, f"{method} {path} → {response.status_code}: body does not match RAML: {problems}"


# The lm and api fixtures come from localmarathon.pytest_plugin; this suite runs the server faster
# and checks every answer.
@pytest.fixture
def localmarathon_time_scale() -> float:
    return TIME_SCALE


@pytest.fixture
def api(lm) -> Api:
    return Api(lm)


@pytest.fixture
def reference_dir() -> Path:
    assert (REFERENCE / "marathon-api").is_dir(), f"the vendored Marathon reference files are missing: {REFERENCE}"
    return REFERENCE
