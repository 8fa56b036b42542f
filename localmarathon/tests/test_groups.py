"""Groups (R/v2/groups.raml): GET with embeds, POST, PUT, DELETE, versions and rollback, scaleBy,
force, and deployment steps ordered by dependencies. Every answer is checked against the RAML."""

from __future__ import annotations

import requests

from conftest import wait_for

STACK = {"id": "/stack", "apps": [
    {"id": "db", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 1},
    {"id": "pool", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 1, "dependencies": ["/stack/db"]},
]}


def _deploy(api, method, path, body, status=200):
    r = api.request(method, path, json=body, check=False)
    assert r.status_code == status, r.text
    api.wait_deployment(r.json()["deploymentId"])
    return r


def _versions(api, *app_ids):
    return {a: api.app(a)["version"] for a in app_ids}


def test_post_starts_apps_in_dependency_order(api, lm):
    api.fault({"kind": "stall_deployment", "app_id": "/stack/pool"})
    r = api.post("/v2/groups", json=STACK)
    assert r.status_code == 201 and r.headers["Location"].endswith("/v2/groups/stack")
    assert r.headers["Marathon-Deployment-Id"] == r.json()["deploymentId"]
    (dep,) = api.deployments()
    assert dep["steps"] == [
        {"actions": [{"action": "StartApplication", "app": "/stack/db"},
                     {"action": "StartApplication", "app": "/stack/pool"}]},
        {"actions": [{"action": "ScaleApplication", "app": "/stack/db"}]},
        {"actions": [{"action": "ScaleApplication", "app": "/stack/pool"}]}]
    # the pool is launched only once the database runs
    pool = wait_for(lambda: (a := api.app("/stack/pool"))["tasksRunning"] == 1 and a, 20, "pool running")
    db = api.app("/stack/db")
    assert db["tasks"][0]["startedAt"] <= pool["tasks"][0]["stagedAt"]
    api.clear_faults()
    api.wait_deployment(dep["id"])
    again = api.post("/v2/groups", json=STACK, check=False)
    assert again.status_code == 409
    assert again.json() == {"message": "Group /stack is already created. Use PUT to change this group."}


def test_group_dependencies_order_the_steps(api):
    api.fault({"kind": "stall_deployment", "app_id": "/web/front"})
    api.post("/v2/groups", json={"id": "/", "groups": [
        {"id": "data", "apps": [{"id": "db", "cmd": "sleep 1000", "instances": 1}]},
        {"id": "web", "dependencies": ["/data"], "apps": [{"id": "front", "cmd": "sleep 1000", "instances": 1}]}]})
    (dep,) = api.deployments()
    assert [s["actions"] for s in dep["steps"]][1:] == [[{"action": "ScaleApplication", "app": "/data/db"}],
                                                        [{"action": "ScaleApplication", "app": "/web/front"}]]
    assert api.get("/v2/groups/web").json()["dependencies"] == ["/data"]
    api.clear_faults()


def test_get_embeds(api):
    _deploy(api, "POST", "/v2/groups", {"id": "/top", "apps": [{"id": "a", "cmd": "sleep 1000", "instances": 1}],
                                         "groups": [{"id": "sub", "apps": [{"id": "b", "cmd": "sleep 1000"}]}]}, 201)
    api.wait_running("/top/a")
    default = api.get("/v2/groups/top").json()
    assert [a["id"] for a in default["apps"]] == ["/top/a"] and default["groups"][0]["id"] == "/top/sub"
    assert default["groups"][0]["apps"][0]["id"] == "/top/sub/b" and "tasks" not in default["apps"][0]
    apps_only = api.get("/v2/groups/top?embed=group.apps").json()
    assert "groups" not in apps_only and [a["id"] for a in apps_only["apps"]] == ["/top/a"]
    groups_only = api.get("/v2/groups/top?embed=group.groups").json()
    assert "apps" not in groups_only and groups_only["groups"][0]["id"] == "/top/sub"
    with_tasks = api.get("/v2/groups/top?embed=group.apps&embed=group.apps.tasks&embed=group.apps.counts").json()
    (app,) = with_tasks["apps"]
    assert app["tasksRunning"] == 1 and app["tasks"][0]["appId"] == "/top/a"


def test_put_changes_only_the_apps_that_differ(api):
    _deploy(api, "POST", "/v2/groups", STACK, 201)
    before = _versions(api, "/stack/db", "/stack/pool")
    # the same definition: a zero-step deployment, no app version moves
    r = api.put("/v2/groups/stack", json=STACK)
    assert r.status_code == 200 and not api.deployments()
    assert _versions(api, "/stack/db", "/stack/pool") == before
    changed = {"id": "/stack", "apps": [STACK["apps"][0], dict(STACK["apps"][1], cmd="sleep 1001")]}
    _deploy(api, "PUT", "/v2/groups/stack", changed)
    after = _versions(api, "/stack/db", "/stack/pool")
    assert after["/stack/db"] == before["/stack/db"] and after["/stack/pool"] > before["/stack/pool"]
    assert api.app("/stack/pool")["cmd"] == "sleep 1001"
    # an app left out of "apps" is removed; without "apps" the apps stay
    _deploy(api, "PUT", "/v2/groups/stack", {"id": "/stack", "apps": [STACK["apps"][0]]})
    assert api.app("/stack/pool") is None and api.app("/stack/db") is not None
    _deploy(api, "PUT", "/v2/groups/stack", {"id": "/stack", "dependencies": []})
    assert api.app("/stack/db")["version"] == before["/stack/db"]


def test_versions_and_rollback(api):
    first = _deploy(api, "POST", "/v2/groups", STACK, 201).json()["version"]
    changed = {"id": "/stack", "apps": [dict(STACK["apps"][0], cmd="sleep 1002")]}
    second = _deploy(api, "PUT", "/v2/groups/stack", changed).json()["version"]
    versions = api.get("/v2/groups/stack/versions").json()
    assert versions == [second, first]
    old = api.get(f"/v2/groups/stack/versions/{first}").json()
    assert old["version"] == first and [a["id"] for a in old["apps"]] == ["/stack/db", "/stack/pool"]
    assert api.get("/v2/groups/stack/versions/2000-01-01T00:00:00.000Z", check=False).status_code == 404
    _deploy(api, "PUT", "/v2/groups/stack", {"version": first})
    assert api.app("/stack/db")["cmd"] == "sleep 1000" and api.app("/stack/pool") is not None


def test_scale_by_factor(api):
    _deploy(api, "POST", "/v2/groups", {"id": "/s", "apps": [
        {"id": "a", "cmd": "sleep 1000", "instances": 1}, {"id": "b", "cmd": "sleep 1000", "instances": 3}]}, 201)
    _deploy(api, "PUT", "/v2/groups/s", {"scaleBy": 1.5})
    assert api.app("/s/a")["instances"] == 2 and api.app("/s/b")["instances"] == 5
    bad = api.put("/v2/groups/s", json={"scaleBy": -1}, check=False)
    assert bad.status_code == 422 and bad.json()["details"][0]["path"] == "/scaleBy"


def test_delete_removes_every_app_below(api):
    _deploy(api, "POST", "/v2/groups", STACK, 201)
    _deploy(api, "DELETE", "/v2/groups/stack", None)
    assert api.app("/stack/db") is None and api.app("/stack/pool") is None
    assert api.get("/v2/groups/stack", check=False).json() == {"message": "Group '/stack' does not exist",
                                                                "details": []}
    assert api.delete("/v2/groups/stack", check=False).status_code == 404


def test_locked_apps_need_force(api):
    _deploy(api, "POST", "/v2/groups", STACK, 201)
    api.fault({"kind": "stall_deployment", "app_id": "/stack/db"})
    api.put("/v2/apps/stack/db", json={"instances": 2})
    changed = {"id": "/stack", "apps": [dict(STACK["apps"][0], cmd="sleep 1003"), STACK["apps"][1]]}
    locked = api.put("/v2/groups/stack", json=changed, check=False)
    assert locked.status_code == 409 and locked.json()["deployments"]
    forced = api.put("/v2/groups/stack?force=true", json=changed, check=False)
    assert forced.status_code == 200
    api.clear_faults()
    api.wait_deployment(forced.json()["deploymentId"])
    assert api.app("/stack/db")["cmd"] == "sleep 1003"


def test_bad_bodies_name_the_field_and_change_nothing(api):
    outside = api.post("/v2/groups", json={"id": "/g", "apps": [{"id": "/other/x", "cmd": "sleep 1"}]}, check=False)
    assert outside.status_code == 422
    assert outside.json()["details"] == [{"path": "/apps(0)/id", "errors": [
        "identifier /other/x is not child of /g. Hint: use relative paths."]}]
    bad_field = api.post("/v2/groups", json={"id": "/g", "apps": [
        {"id": "ok", "cmd": "sleep 1"}, {"id": "x", "cmd": "sleep 1", "cpus": -1}]}, check=False)
    assert bad_field.status_code == 422
    assert all(d["path"].startswith("/apps(1)/") for d in bad_field.json()["details"])
    cycle = api.post("/v2/groups", json={"id": "/g", "apps": [
        {"id": "a", "cmd": "sleep 1", "dependencies": ["b"]},
        {"id": "b", "cmd": "sleep 1", "dependencies": ["a"]}]}, check=False)
    assert cycle.status_code == 422
    assert cycle.json()["details"][0]["errors"] == ["Dependency graph has cyclic dependencies."]
    assert api.apps() == [] and api.get("/v2/groups/g", check=False).status_code == 404


def test_resident_rules_apply_to_each_app(api):
    volume = {"type": "MESOS", "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}
    group = {"id": "/r", "apps": [{"id": "db", "cmd": "sleep 1000", "instances": 1, "container": volume}]}
    _deploy(api, "POST", "/v2/groups", group, 201)
    bigger = {"type": "MESOS", "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 20}}]}
    refused = api.put("/v2/groups/r", json={"id": "/r", "apps": [dict(group["apps"][0], container=bigger)]},
                      check=False)
    assert refused.status_code == 422, refused.text
    assert all(d["path"].startswith("/apps(0)") for d in refused.json()["details"])
    assert api.app("/r/db")["container"]["volumes"][0]["persistent"]["size"] == 10


def test_groups_survive_a_restart(api, lm):
    _deploy(api, "POST", "/v2/groups", {"id": "/k", "dependencies": [], "apps": [
        {"id": "a", "cmd": "sleep 1000", "instances": 0}], "groups": [{"id": "empty"}]}, 201)
    versions = api.get("/v2/groups/k/versions").json()
    lm.restart()
    assert wait_for(lambda: requests.get(lm.url + "/ping").ok, 10, "restart")
    assert api.get("/v2/groups/k").json()["groups"][0]["id"] == "/k/empty"
    assert api.get("/v2/groups/k/versions").json() == versions
    # a "groups" list without the nested group removes it
    _deploy(api, "PUT", "/v2/groups/k", {"id": "/k", "groups": []})
    assert api.get("/v2/groups/k").json()["groups"] == []
    assert api.get("/v2/groups/k/empty", check=False).status_code == 404
