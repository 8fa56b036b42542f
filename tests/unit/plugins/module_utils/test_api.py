# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""MarathonApi over a real HttpClient against a scripted HTTP server on 127.0.0.1 (real
sockets, port 0): which requests each call sends, the check of every reply's shape, and
what a write does after its answer was lost.

Only the backoff sleep is replaced, so the tests do not wait.
"""

from __future__ import annotations

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._api import MarathonApi, app_path
from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import canonical_app_id
from ansible_collections.dcos.marathon.plugins.module_utils._errors import (
    MarathonConnectionError,
    MarathonError,
    MarathonParameterError,
)
from ansible_collections.dcos.marathon.tests.unit.plugins.module_utils.scripted_http import ScriptedServer, http_client


@pytest.fixture
def server():
    with ScriptedServer() as script:
        yield script


def client_for(url, sleeps=None, **params):
    return MarathonApi(http_client(url, sleeps, **params))


APP = {"app": {"id": "/postgres", "instances": 1}}
ABSENT = (404, {"message": "App '/db' does not exist", "details": []}, {})


def test_app_paths():
    assert app_path("postgres") == "/v2/apps/postgres"
    assert app_path("/prod//db/") == "/v2/apps/prod/db"
    assert app_path("/a/b", "/restart") == "/v2/apps/a/b/restart"
    assert canonical_app_id("a/./b/../c") == "/a/c"
    with pytest.raises(MarathonParameterError) as e:
        app_path(5)
    assert "app id must be a string, got int" in str(e.value)


# ---- GET, one session, headers --------------------------------------------------------


def test_get_app_uses_one_request_and_json_headers(server):
    server.answers.append(("GET", "/v2/apps/postgres", (200, APP, {})))
    c = client_for(server.url)
    assert c.get_app("postgres") == APP["app"]
    assert len(server.seen) == 1
    assert server.seen[0]["headers"]["Accept"] == "application/json"
    assert "Authorization" not in server.seen[0]["headers"]


def test_get_app_404_is_none(server):
    server.answers.append(("GET", "/v2/apps/x", (404, {"message": "App '/x' does not exist", "details": []}, {})))
    assert client_for(server.url).get_app("x") is None


HTML_404 = "<html><head><title>404 Not Found</title></head><body><center>openresty</center></body></html>"


@pytest.mark.parametrize("read", [
    lambda c: c.get_app("x"),
    lambda c: c.get_app_versions("x"),
    lambda c: c.get_app_version("x", "2015-02-11T09:31:21.245Z"),
], ids=["get_app", "get_app_versions", "get_app_version"])
def test_html_404_from_a_mistyped_url_is_an_error_not_absent(server, read):
    server.add("GET", "/service/marathonx/", 404, HTML_404, sticky=True)
    with pytest.raises(MarathonError) as e:
        read(client_for(server.url + "/service/marathonx"))
    msg = str(e.value)
    assert e.value.status == 404 and "HTML error page titled '404 Not Found'" in msg, msg
    assert "Check marathon_url '%s/service/marathonx'" % server.url in msg, msg
    assert "https://dcos.example.com/service/marathon" in msg and "<html" not in msg, msg
    assert len(server.seen) == 1


@pytest.mark.parametrize("url_path", ["/v2", "/v2/"])
def test_trailing_v2_gets_a_hint_naming_marathon_url(server, url_path):
    # Marathon 1.6+ answers an unknown path (here /v2/v2/apps/x) with 500 "URI not found".
    server.add("GET", "/v2/v2/apps/x", 500, {"message": "URI not found"})
    with pytest.raises(MarathonError) as e:
        client_for(server.url + url_path).get_app("x")
    msg = str(e.value)
    assert msg.startswith("GET %s/v2/v2/apps/x failed with HTTP 500: URI not found. " % server.url), msg
    assert "Remove the trailing /v2 from marathon_url '%s%s'" % (server.url, url_path) in msg, msg
    assert "http://marathon.example.com:8080" in msg, msg


@pytest.mark.parametrize("read,path", [
    (lambda c: c.list_apps(), "/v2/apps"),
    (lambda c: c.get_tasks(), "/v2/tasks"),
    (lambda c: c.get_deployments(), "/v2/deployments"),
    (lambda c: c.get_app("x"), "/v2/apps/x"),
], ids=["list_apps", "tasks", "deployments", "app"])
def test_a_web_page_answered_with_200_is_not_an_empty_list(server, read, path):
    server.add("GET", path, 200, "<html><body>Welcome to nginx</body></html>")
    with pytest.raises(MarathonError) as e:
        read(client_for(server.url))
    msg = str(e.value)
    assert msg.startswith("GET %s%s returned an unexpected body" % (server.url, path)), msg
    assert "Check marathon_url" in msg, msg


# ---- reply shapes ---------------------------------------------------------------------


@pytest.mark.parametrize("read,path,reply,says", [
    (lambda c: c.get_app("x"), "/v2/apps/x", {"app": {"id": "/x", "instances": "3", "env": []}},
     "returned a malformed app (instances must be a whole number 0 or more, got str; env must be an object, got list)"),
    (lambda c: c.get_app("x"), "/v2/apps/x", {"app": {"id": "/y", "instances": 1}},
     "returned a malformed app (id \"/y\" is not the requested '/x')"),
    (lambda c: c.list_apps(), "/v2/apps", {"apps": [{"id": "/a"}, "not an app"]},
     "returned 1 malformed app(s) (not an object with a string id), for example 'not an app'"),
    (lambda c: c.get_tasks(), "/v2/tasks", {"tasks": [42, {"appId": None, "id": "x"}]},
     "returned 2 malformed task(s) (not an object with a string appId), for example 42"),
    (lambda c: c.get_app_versions("x"), "/v2/apps/x/versions", {"versions": "v1"},
     "returned an unexpected body (no 'versions' list)"),
    (lambda c: c.get_app_version("x", "v1"), "/v2/apps/x/versions/v1", ["v1"],
     "returned an unexpected body (not a JSON object)"),
], ids=["app fields", "app id", "apps", "tasks", "versions", "version"])
def test_every_read_checks_the_shape_of_the_reply(server, read, path, reply, says):
    server.add("GET", path, 200, reply)
    with pytest.raises(MarathonError) as e:
        read(client_for(server.url))
    assert str(e.value).startswith("GET %s%s %s" % (server.url, path, says)), str(e.value)
    assert (e.value.url, e.value.method) == (server.url + path, "GET")


def test_list_apps_asks_for_what_is_embedded(server):
    server.add("GET", "/v2/apps", 200, {"apps": [{"id": "/a"}]})
    assert client_for(server.url).list_apps(embed=["apps.lastTaskFailure"]) == [{"id": "/a"}]
    assert server.seen[0]["path"] == "/v2/apps?embed=apps.lastTaskFailure"


# ---- writes after a lost answer -------------------------------------------------------------


def test_create_after_lost_answer_rereads_and_does_not_resend_when_present(server):
    server.answers.append(("POST", "/v2/apps", ("drop", None, {})))
    server.answers.append(("GET", "/v2/apps/db", (200, {"app": {"id": "/db", "instances": 1, "deployments": [{"id": "dep-1"}]}}, {})))
    resp = client_for(server.url).create_app({"id": "/db", "cmd": "x"})
    assert [s["method"] for s in server.seen] == ["POST", "GET"]
    assert resp.deployment_id == "dep-1"


def test_create_after_503_resends_when_still_absent(server):
    server.answers.append(("POST", "/v2/apps", (503, {"message": "busy"}, {})))
    server.answers.append(("GET", "/v2/apps/db", (404, {"message": "App '/db' does not exist"}, {})))
    server.answers.append(("POST", "/v2/apps", (201, {"id": "/db"}, {"Marathon-Deployment-Id": "dep-2"})))
    resp = client_for(server.url).create_app({"id": "/db", "cmd": "x"})
    assert [s["method"] for s in server.seen] == ["POST", "GET", "POST"]
    assert resp.deployment_id == "dep-2"


def test_update_after_503_rereads_and_skips_when_applied(server):
    server.answers.append(("PUT", "/v2/apps/db", (503, {"message": "busy"}, {})))
    applied = {"app": {"id": "/db", "instances": 0, "deployments": [{"id": "dep-3"}]}}
    server.answers.append(("GET", "/v2/apps/db", (200, applied, {})))
    client = client_for(server.url)
    resp = client.update_app("/db", {"instances": 0}, partial=True, landed=lambda live: live["instances"] == 0)
    assert [s["method"] for s in server.seen] == ["PUT", "GET"]
    assert resp.deployment_id == "dep-3"
    assert "partialUpdate=true" in server.seen[0]["path"]


def test_restart_is_never_repeated(server):
    server.answers.append(("POST", "/v2/apps/db/restart", (503, {"message": "busy"}, {})))
    with pytest.raises(MarathonError):
        client_for(server.url).restart_app("/db")
    assert len(server.seen) == 1


def test_delete_sends_force_explicitly(server):
    server.answers.append(("DELETE", "/v2/apps/db", (200, {"deploymentId": "d", "version": "v"}, {})))
    server.answers.append(("DELETE", "/v2/apps/db", (200, {"deploymentId": "d", "version": "v"}, {})))
    c = client_for(server.url)
    c.delete_app("/db")
    c.delete_app("/db", force=True)
    assert server.seen[0]["path"].endswith("force=false") and server.seen[1]["path"].endswith("force=true")


def test_create_gives_up_after_retries_with_the_transport_error(server):
    for _i in range(2):
        server.add("POST", "/v2/apps", "drop")
        server.add("GET", "/v2/apps/db", *ABSENT)
    sleeps = []
    with pytest.raises(MarathonConnectionError) as e:
        client_for(server.url, sleeps, retries=1).create_app({"id": "/db", "cmd": "x"})
    assert [s["method"] for s in server.seen] == ["POST", "GET", "POST"] and len(sleeps) == 1
    assert "POST %s/v2/apps failed after 2 attempt(s): could not connect" % server.url in str(e.value)


def test_update_resent_when_the_reread_shows_it_did_not_land(server):
    server.add("PUT", "/v2/apps/db", "drop")
    server.add("GET", "/v2/apps/db", 200, {"app": {"id": "/db", "instances": 1}})
    server.add("PUT", "/v2/apps/db", 200, {"deploymentId": "dep-4", "version": "v2"})
    resp = client_for(server.url).update_app("/db", {"instances": 0}, landed=lambda live: live["instances"] == 0)
    assert [s["method"] for s in server.seen] == ["PUT", "GET", "PUT"]
    assert resp.deployment_id == "dep-4"


def test_update_after_a_read_timeout_is_only_read_again_never_resent(server):
    server.add("PUT", "/v2/apps/db", "hang")
    server.add("GET", "/v2/apps/db", 200, {"app": {"id": "/db", "instances": 1}}, sticky=True)
    sleeps = []
    with pytest.raises(MarathonConnectionError) as e:
        client_for(server.url, sleeps, request_timeout=0.2, retries=3).update_app(
            "/db", {"instances": 0}, landed=lambda live: live["instances"] == 0)
    assert [s["method"] for s in server.seen] == ["PUT", "GET", "GET", "GET"] and len(sleeps) == 3
    msg = str(e.value)
    assert msg.startswith("PUT %s/v2/apps/db timed out after 0.2s and the change did not show up in 3 re-read(s); "
                          "it was not sent again because Marathon may still apply it" % server.url), msg
    assert "Look at the app and its deployments" in msg, msg


def test_rollback_after_a_read_timeout_answers_from_the_app_once_it_landed(server):
    server.add("PUT", "/v2/apps/db", "hang")
    server.add("GET", "/v2/apps/db", 200, {"app": {"id": "/db", "instances": 1, "version": "v1"}})
    landed = {"id": "/db", "instances": 1, "version": "v3", "deployments": [{"id": "dep-5"}]}
    server.add("GET", "/v2/apps/db", 200, {"app": landed})
    resp = client_for(server.url, request_timeout=0.2).rollback_app("/db", "v2", landed=lambda live: live["version"] == "v3")
    assert [s["method"] for s in server.seen] == ["PUT", "GET", "GET"]
    assert server.seen[0]["body"] == {"version": "v2"} and server.seen[0]["path"].endswith("force=false")
    assert (resp.deployment_id, resp.body["version"]) == ("dep-5", "v3")


def test_delete_after_lost_answer_is_done_when_the_app_is_gone(server):
    server.add("DELETE", "/v2/apps/db", 503, {"message": "busy"})
    server.add("GET", "/v2/apps/db", *ABSENT)
    resp = client_for(server.url).delete_app("/db")
    assert [s["method"] for s in server.seen] == ["DELETE", "GET"] and resp.status == 200
