"""Malformed input never crashes the server: random JSON bodies and paths get a 4xx/2xx answer with
a JSON message, never a 500 from an exception, and the server keeps serving."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TIME_SCALE
from localmarathon.testing import LocalMarathon

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20)
APP_KEYS = ["cmd", "args", "instances", "cpus", "mem", "container", "portDefinitions", "healthChecks",
            "upgradeStrategy", "env", "labels", "networks", "constraints", "backoffSeconds", "version",
            "residency", "unreachableStrategy", "role", "fetch", "secrets"]
APP_BODY = st.fixed_dictionaries({"id": st.sampled_from(["/fz", "fz", "/FZ", "/a//b", "/x/../y", "", 5])},
                                 optional={k: JSON for k in APP_KEYS})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with LocalMarathon(tmp_path_factory.mktemp("fuzz") / "lm", time_scale=TIME_SCALE) as lm:
        yield lm


def _ok(r: requests.Response) -> None:
    assert r.status_code != 500 or r.json() == {"message": "URI not found"}, (r.status_code, r.text)
    if r.content and r.headers.get("Content-Type", "").startswith("application/json"):
        body = r.json()
        if r.status_code >= 400:
            assert isinstance(body.get("message"), str)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=APP_BODY, method=st.sampled_from(["POST", "PUT", "PATCH"]),
       query=st.sampled_from(["", "?force=true", "?partialUpdate=false", "?force=yes&partialUpdate=FALSE"]))
def test_random_app_bodies(server, body, method, query):
    path = "/v2/apps" if method == "POST" else "/v2/apps/fz"
    r = requests.request(method, server.url + path + query, data=json.dumps(body),
                         headers={"Content-Type": "application/json"}, timeout=30)
    _ok(r)
    if r.status_code < 300:
        # clean up whatever was created so the next example starts from scratch
        requests.delete(server.url + "/v2/apps/fz?force=true", timeout=30)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(segments=st.lists(st.text(alphabet="abc/._-*%~ ", max_size=6), max_size=5),
       method=st.sampled_from(["GET", "DELETE", "POST", "PUT"]), body=JSON)
def test_random_paths(server, segments, method, body):
    path = "/v2/apps/" + "/".join(segments)
    r = requests.request(method, server.url + path, data=json.dumps(body), timeout=30)
    _ok(r)
    assert requests.get(server.url + "/ping", timeout=30).text == "pong"
