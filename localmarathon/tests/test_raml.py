"""Tests of the RAML checker (support/raml.py): Marathon's own example bodies, planted errors, RAML features."""

from __future__ import annotations

import copy
import importlib.util
import json
import textwrap
from pathlib import Path

import pytest

from support.raml import (
    _Object,
    _Ref,
    check_body,
    check_response,
    load_library,
    response_type,
)
from support.reference import reference_dir

EXAMPLES = reference_dir() / "marathon-api" / "marathon-1.10.26" / "api" / "v2" / "examples"

# Example file -> the type its resource RAML (apps.raml, tasks.raml, ...) declares for it.
EXAMPLE_TYPES = {
    "app.json": "app.App",  # apps.raml: POST/PUT body and GET versions/{version}
    "app-check-http-example.json": "app.App",
    "app_patch.json": "app.App",
    "app_list.json": "app.AppList",  # apps.raml (commented there): GET /v2/apps/{id} listing
    "apps_create.json": "app.App[]",
    "apps_patch.json": "app.App[]",
    "app_task.json": "task.TaskSingle",
    "app_tasks.json": "task.TaskList",
    "tasks.json": "task.TaskList",
    "deployments.json": "deploymentInfo.DeploymentStepInfo[]",
    "deployment_steps.json": "deploymentSteps.DeploymentSteps",
    "deployments_result.json": "deploymentResult.DeploymentResult",
    "group.json": "group.GroupInfo",
    "info.json": "info.MarathonInfo",
    "pod.json": "pod.Pod",
    "queue.json": "queue.Queue",
}

# The examples are hand-written docs (SOURCES.md), not captured output; where they disagree with the
# 1.10 types the disagreement is listed here, so a checker regression shows up as a test failure.
KNOWN_DEVIATIONS = {
    # Pre-RAML era example that writes null for unset fields; the 1.10 writer omits them.
    "app_list.json": {
        "/apps(0)/acceptedResourceRoles: expected array, got null",
        "/apps(0)/args: expected array, got null",
        "/apps(0)/container: expected object Container, got null",
        "/apps(0)/user: expected string, got null",
    },
    # FixedPodScalingPolicy only has kind and instances.
    "pod.json": {"/scaling/maxInstances: undeclared property (type FixedPodScalingPolicy)"},
}


def _load(name):
    return json.loads((EXAMPLES / name).read_text())


def test_every_example_is_mapped():
    on_disk = {p.name for p in EXAMPLES.glob("*.json")}
    assert on_disk == set(EXAMPLE_TYPES)


@pytest.mark.parametrize("name", sorted(EXAMPLE_TYPES))
def test_examples_conform_except_known_deviations(name):
    problems = check_body(EXAMPLE_TYPES[name], _load(name))
    assert set(problems) == KNOWN_DEVIATIONS.get(name, set())


def _required_props(type_name):
    lib = load_library("1.10.26")
    node = lib.resolve_expr(type_name, None)
    assert isinstance(node, _Object)
    return [name for name, (required, _) in node.props.items() if required]


@pytest.mark.parametrize("name", sorted(n for n, t in EXAMPLE_TYPES.items() if not t.endswith("[]")))
def test_planted_errors_at_the_root_are_caught(name):
    body = _load(name)
    type_name = EXAMPLE_TYPES[name]
    baseline = set(check_body(type_name, body))

    invented = dict(body, zzInvented=1)
    assert set(check_body(type_name, invented)) - baseline == {"/zzInvented: undeclared property (type %s)" % type_name.split(".")[1]}

    for field in _required_props(type_name):
        if field in body:
            broken = {k: v for k, v in body.items() if k != field}
            new = set(check_body(type_name, broken)) - baseline
            assert any(p.startswith(f"/{field}: required property missing") for p in new), (field, new)

    # Replace every present property with a value of the wrong JSON type.
    for field, value in body.items():
        wrong = [] if not isinstance(value, list) else "not-a-list"
        if isinstance(value, str):
            wrong = 12345
        broken = dict(body, **{field: wrong})
        new = set(check_body(type_name, broken)) - baseline
        assert any(p.startswith(f"/{field}") for p in new), (field, wrong)


def test_nested_errors_have_marathon_paths():
    tasks = _load("tasks.json")
    tasks["tasks"][1]["state"] = "RUNNING"
    del tasks["tasks"][0]["host"]
    tasks["tasks"][0]["ports"] = [0]
    tasks["tasks"][1]["invented"] = True
    problems = check_body("TaskList", tasks)
    assert "/tasks(0)/host: required property missing (type Task)" in problems
    assert "/tasks(0)/ports(0): 0 is below minimum 1" in problems
    assert "/tasks(1)/invented: undeclared property (type Task)" in problems
    assert any(p.startswith('/tasks(1)/state: "RUNNING" not one of') for p in problems)
    assert len(problems) == 4


def test_deployments_list_planted_errors():
    deployments = _load("deployments.json")
    broken = copy.deepcopy(deployments)
    broken[0]["currentStep"] = "1"
    broken[0]["steps"][0]["actions"][0]["action"] = "Explode"
    del broken[0]["version"]
    problems = check_body("DeploymentStepInfo[]", broken)
    assert "/(0)/currentStep: expected integer, got string" in problems
    assert any(p.startswith('/(0)/steps(0)/actions(0)/action: "Explode" not one of') for p in problems)
    assert any(p.startswith("/(0)/version: required property missing") for p in problems)
    assert check_body("DeploymentStepInfo[]", {"not": "a list"}) == ["/: expected array, got object"]


def test_app_unions_patterns_and_maps():
    app = {"id": "/db", "env": {"A": "x", "S": {"secret": "pw"}, "N": 3}, "labels": {"a": "b", "c": 1},
           "unreachableStrategy": "disabled", "upgradeStrategy": {"maximumOverCapacity": 1.5}}
    problems = check_body("App", app)
    assert "/env/N: 3 matches none of EnvVarValue | EnvVarSecret" in problems
    assert "/labels/c: expected string, got number" in problems
    assert "/upgradeStrategy/maximumOverCapacity: 1.5 is above maximum 1.0" in problems
    assert not any("unreachableStrategy" in p for p in problems)
    assert any(p.startswith("/unreachableStrategy:") for p in check_body("App", {"id": "/db", "unreachableStrategy": "nope"}))
    assert any("does not match pattern" in p for p in check_body("App", {"id": "My App"}))
    assert check_body("App", {"id": "/db", "instances": 2 ** 40}) == ["/instances: 1099511627776 out of int32 range"]
    assert check_body("App", {"id": "/db", "version": "yesterday"}) == ['/version: "yesterday" is not a valid datetime']


def test_union_expressions_and_errors():
    assert check_body("task.TaskList | deploymentResult.DeploymentResult", _load("deployments_result.json")) == []
    assert check_body("task.TaskList | deploymentResult.DeploymentResult", _load("tasks.json")) == []
    assert check_body("Error", {"message": "App '/x' does not exist", "details": []}) == []
    with pytest.raises(ValueError, match="unknown RAML type 'NoSuchType'"):
        check_body("NoSuchType", {})
    with pytest.raises(ValueError, match="bad RAML type expression"):
        check_body("App |", {})
    with pytest.raises(ValueError, match="unknown RAML type"):
        check_body("nosuchalias.App", {})


def test_non_strict_allows_undeclared_fields():
    app = {"id": "/db", "zzInvented": 1}
    assert check_body("App", app, strict=False) == []
    assert check_body("App", app) == ["/zzInvented: undeclared property (type App)"]


def test_every_type_reference_in_1_10_resolves():
    lib = load_library("1.10.26")
    seen = set()

    def walk(node):
        if isinstance(node, _Ref):
            node = lib.resolve_ref(node)
        if id(node) in seen:
            return
        seen.add(id(node))
        for attr in ("props",):
            for _, ref in getattr(node, attr, {}).values():
                walk(ref)
        for _, ref in getattr(node, "patterns", []):
            walk(ref)
        if getattr(node, "items", None) is not None:
            walk(node.items)
        for option in getattr(node, "options", []):
            walk(option)

    count = 0
    for stem, types in lib.files.items():
        for name in types:
            walk(lib.named(stem, name))
            count += 1
    assert count > 150


def test_older_1_4_tree_loads_and_checks_its_example():
    examples_1_4 = reference_dir() / "marathon-api" / "marathon-1.4.13" / "api" / "v2" / "examples"
    if not examples_1_4.is_dir():
        pytest.skip("no 1.4.13 reference tree")
    lib = load_library("1.4.13")
    assert "lm" not in lib.files  # the 1.10 supplement needs types 1.4 does not have
    for stem, types in lib.files.items():
        for name in types:
            lib.named(stem, name)
    assert check_body("app.App", json.loads((examples_1_4 / "app_patch.json").read_text()), version="1.4.13") == []
    assert check_body("app.App", {"id": "/a", "zz": 1}, version="1.4.13") == ["/zz: undeclared property (type App)"]


# -- response types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, status, expected",
    [
        ("GET", "/v2/apps", 200, "app.AppList"),
        ("GET", "/v2/apps/db", 200, "lm.AppResponse"),
        ("GET", "/service/marathon/v2/apps//a/b/", 200, "lm.AppResponse"),
        ("GET", "/v2/apps/a/b/tasks", 200, "task.TaskList"),
        ("GET", "/v2/apps/db/versions", 200, "app.VersionList"),
        ("GET", "/v2/apps/db/versions/2026-01-01T00:00:00.000Z", 200, "app.App"),
        ("POST", "/v2/apps", 201, "app.AppInfo"),
        ("PUT", "/v2/apps/db?force=true", 200, "deploymentResult.DeploymentResult"),
        ("PATCH", "/v2/apps/db", 200, "deploymentResult.DeploymentResult"),
        ("DELETE", "/v2/apps/db", 200, "deploymentResult.DeploymentResult"),
        ("POST", "/v2/apps/db/restart", 200, "deploymentResult.DeploymentResult"),
        ("DELETE", "/v2/apps/db/tasks/db.instance-1._app.1", 200, "task.TaskSingle | deploymentResult.DeploymentResult"),
        ("POST", "/v2/tasks/delete", 200, "task.TaskList | deploymentResult.DeploymentResult"),
        ("GET", "/v2/tasks", 200, "task.TaskList"),
        ("GET", "/v2/deployments", 200, "deploymentInfo.DeploymentStepInfo[]"),
        ("DELETE", "/v2/deployments/5ed4c0c5", 200, "deploymentResult.DeploymentResult"),
        ("GET", "/v2/queue", 200, "queue.Queue"),
        ("GET", "/v2/info", 200, "info.MarathonInfo"),
        ("GET", "/v2/leader", 200, "info.LeaderInfo"),
        ("GET", "/ping", 200, "string"),
        ("GET", "/v2/leader", 404, "lm.MarathonError"),
        ("PUT", "/v2/apps/db", 409, "lm.MarathonError"),
        ("GET", "/v2/no/such/route", 500, "lm.MarathonError"),
        ("GET", "/v2/events", 200, None),
        ("DELETE", "/v2/queue/db/delay", 204, None),
    ],
)
def test_response_type(method, path, status, expected):
    assert response_type(method, path, status) == expected


def test_supplement_types_accept_marathon_errors_and_reject_others():
    ok = [
        {"message": "Object is not valid", "details": [{"path": "/id", "errors": ["error.pattern"]}]},
        {"message": "Invalid JSON", "details": "Unexpected character ('b' (code 98))"},
        {"message": "App '/x' does not exist", "details": []},
        {"message": "App is locked by one or more deployments. Override with the option '?force=true'.",
         "deployments": [{"id": "5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43"}]},
    ]
    for body in ok:
        assert check_response("POST", "/v2/apps", 422, body) == []
    assert check_response("GET", "/v2/apps/x", 404, {"details": []}) == ["/message: required property missing (type MarathonError)"]
    assert "/details(0)/errors: required property missing (type ValidationDetail)" in check_response(
        "POST", "/v2/apps", 422, {"message": "m", "details": [{"path": "/id"}]}
    )
    app = _load("app.json")
    assert check_response("GET", "/v2/apps/foo", 200, {"app": app}) == []
    assert check_response("GET", "/v2/apps/foo", 200, app)[0] == "/app: required property missing (type AppResponse)"


def test_check_response_flags_unknown_bodies():
    assert check_response("GET", "/v2/events", 200, None) == []
    assert check_response("GET", "/v2/events", 200, {"x": 1}) == ["GET /v2/events 200: no RAML type known for this response"]


# -- RAML features on a synthetic library ---------------------------------------------------------


SYNTHETIC = {
    "base.raml": """
        #%RAML 1.0 Library
        uses:
          pragma: pragma.raml
        types:
          Name:
            type: string
            pattern: ^[a-z]+$
            minLength: 2
            maxLength: 5
          Base:
            type: object
            (pragma.serializeOnly):
            properties:
              name: Name
              note?: string?
              count:
                type: integer
                format: int32
                minimum: 0
                required: false
          Strict:
            type: object
            additionalProperties: false
            properties:
              a: boolean
    """,
    "pragma.raml": """
        #%RAML 1.0 Library
        annotationTypes:
          serializeOnly:
            type: nil
    """,
    "things.raml": """
        #%RAML 1.0 Library
        uses:
          b: base.raml
        types:
          Kind:
            type: string
            enum: [square, circle]
          Shape:
            discriminator: kind
            properties:
              kind: Kind
          Square:
            type: Shape
            discriminatorValue: square
            properties:
              side: number
          Thing:
            type: b.Base
            properties:
              tags:
                type: array
                items: b.Name
                minItems: 1
                uniqueItems: true
              when: datetime
              shape?: Shape
              extra?: (b.Strict | string)[]
              /^x-/: integer
              open?:
                type: object
                additionalProperties: true
              nothing?: nil
              ratio?:
                type: number
                format: double
                maximum: 1
          Loop:
            properties:
              child?: Loop
              v: integer
    """,
}


@pytest.fixture()
def synthetic(tmp_path, monkeypatch):
    types = tmp_path / "marathon-api" / "marathon-9.9.9" / "api" / "v2" / "types"
    types.mkdir(parents=True)
    for name, text in SYNTHETIC.items():
        (types / name).write_text(textwrap.dedent(text).lstrip())
    monkeypatch.setenv("MARATHON_REFERENCE_DIR", str(tmp_path))
    assert reference_dir() == tmp_path
    return lambda type_name, body, **kw: check_body(type_name, body, version="9.9.9", **kw)


GOOD_THING = {"name": "abc", "tags": ["ab", "cd"], "when": "2026-01-02T03:04:05.678Z"}


def test_synthetic_good_body(synthetic):
    full = dict(GOOD_THING, note=None, count=3, shape={"kind": "square", "side": 2.5},
                extra=[{"a": True}, "text"], **{"x-one": 1}, open={"anything": [1]}, nothing=None, ratio=0.5)
    assert synthetic("Thing", GOOD_THING) == []
    assert synthetic("Thing", full) == []
    assert synthetic("Thing[]", [GOOD_THING, GOOD_THING]) == []
    assert synthetic("Loop", {"v": 1, "child": {"v": 2, "child": {"v": 3}}}) == []


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"name": "a"}, ["/name: shorter than minLength 2"]),
        ({"name": "abcdef"}, ["/name: longer than maxLength 5"]),
        ({"name": "ABC"}, ['/name: "ABC" does not match pattern ^[a-z]+$']),
        ({"count": -1}, ["/count: -1 is below minimum 0"]),
        ({"count": 1.0}, ["/count: expected an integer, got 1.0"]),
        ({"count": True}, ["/count: expected integer, got boolean"]),
        ({"note": 5}, ["/note: 5 matches none of string | nil", "/note: expected string, got number"]),
        ({"tags": []}, ["/tags: expected at least 1 items, got 0"]),
        ({"tags": ["ab", "ab"]}, ['/tags: items must be unique, "ab" repeats']),
        ({"tags": "ab"}, ["/tags: expected array, got string"]),
        ({"when": "2026-01-02"}, ['/when: "2026-01-02" is not a valid datetime']),
        ({"shape": {"kind": "square", "side": "2"}}, ["/shape/side: expected number, got string"]),
        ({"shape": {"kind": "square", "side": 1, "radius": 2}}, ["/shape/radius: undeclared property (type Square)"]),
        ({"shape": {"kind": "hexagon"}}, ['/shape/kind: "hexagon" not one of [\'square\', \'circle\']']),
        ({"x-two": "2"}, ["/x-two: expected integer, got string"]),
        ({"nothing": 0}, ["/nothing: expected null, got number"]),
        ({"ratio": 1.5}, ["/ratio: 1.5 is above maximum 1"]),
        ({"extra": [{"a": True, "b": 1}]}, [
            '/extra(0): {"a": true, "b": 1} matches none of b.Strict | string',
            "/extra(0)/b: undeclared property (type Strict)",
        ]),
        ({"y": 1}, ["/y: undeclared property (type Thing)"]),
    ],
)
def test_synthetic_planted_errors(synthetic, change, expected):
    assert synthetic("Thing", dict(GOOD_THING, **change)) == expected


def test_synthetic_missing_and_strictness(synthetic):
    body = {k: v for k, v in GOOD_THING.items() if k != "name"}
    assert synthetic("Thing", body) == ["/name: required property missing (type Thing)"]
    # additionalProperties: false wins even when not strict; undeclared fields pass otherwise.
    assert synthetic("Strict", {"a": True, "b": 1}, strict=False) == ["/b: undeclared property (type Strict)"]
    assert synthetic("Thing", dict(GOOD_THING, y=1), strict=False) == []
    assert synthetic("Loop", {"v": 1, "child": {"v": "2"}}) == ["/child/v: expected integer, got string"]
    assert synthetic("base.Base", "text") == ["/: expected object Base, got string"]
    with pytest.raises(ValueError, match="unknown RAML type 'Missing' \\(referenced from"):
        bad = Path(reference_dir()) / "marathon-api" / "marathon-9.9.9" / "api" / "v2" / "types" / "bad.raml"
        bad.write_text("#%RAML 1.0 Library\ntypes:\n  Bad:\n    properties:\n      m: Missing\n")
        load_library.cache_clear()
        synthetic("Bad", {"m": 1})


def test_missing_types_directory_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MARATHON_REFERENCE_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="RAML types directory not found"):
        check_body("App", {}, version="0.0.0")


def test_the_checker_is_test_support_not_part_of_the_package():
    # Only the tests use it: the localmarathon package that pyproject.toml builds must not carry it.
    assert importlib.util.find_spec("localmarathon.raml") is None
    assert Path(importlib.util.find_spec("support.raml").origin).parent == Path(__file__).parent / "support"
