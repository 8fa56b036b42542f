"""Category 2: bad input and malformed replies (issue 8, item 2).

Property tests (hypothesis) generate invalid marathon_app arguments and app definitions; each
example runs the real module in its own process against localmarathon and must end in fail_json
with a message naming the field, without a traceback and without any write. Malformed replies
come from a raw-socket server (rawhttp.py): the module must fail clearly and send no write.
"""

from __future__ import annotations

import copy
from collections import Counter
import json
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localmarathon.testing import LocalMarathon, wait_for

from conftest import TIME_SCALE, writes_since
from rawhttp import RawHttpServer

APP_ID = "/bad/web"
BASE_DEF = {"id": APP_ID, "cmd": "sleep 100000", "cpus": 0.1, "mem": 32, "instances": 1}
# Each example is a module process (~0.3 s); the counts below keep the category near a minute.
SETTINGS = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

BOOL_WORDS = {"yes", "no", "on", "off", "true", "false", "y", "n", "t", "f", "1", "0", "1.0", "0.0"}


@pytest.fixture(scope="module")
def bad_lm(tmp_path_factory):
    with LocalMarathon(tmp_path_factory.mktemp("bad") / "lm", time_scale=TIME_SCALE) as lm:
        yield lm


def case(expect, args=None, defn=None, kind=None):
    """``expect``: text the failure message must contain; ``kind``: the label counted in the report."""
    return {"expect": expect, "args": args or {}, "defn": defn or {}, "kind": kind or expect}


# ---- strategies ----------------------------------------------------------------------------------

non_numbers = st.one_of(st.text(max_size=6), st.booleans(), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=1), st.just([]))
negatives = st.one_of(st.integers(min_value=-10**9, max_value=-1),
                      st.floats(min_value=-1e9, max_value=-1e-6, allow_nan=False, allow_infinity=False))
non_strings = st.one_of(st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2),
                        st.floats(allow_nan=False, allow_infinity=False))
words = st.from_regex(r"\A[a-z]{3,9}\Z")
bad_ids = st.from_regex(r"\A/?[a-z0-9]{0,4}[A-Z_ !@#$%^&*()+=~,;:]+[a-z0-9]{0,4}\Z")
bad_urls = st.one_of(st.just(""), words, st.from_regex(r"\A(ftp|file|gopher|ws)://[a-z]{1,8}\Z"),
                     st.sampled_from(["http://", "https://", "http:///v2", "://127.0.0.1"]))
env_keys = st.from_regex(r"\A[A-Z][A-Z0-9_]{0,8}\Z")

# The all-lowercase fields of a Marathon 1.10 app (and the read-only ones a GET shows).
LOWERCASE_APP_FIELDS = {"args", "check", "cmd", "container", "cpus", "dependencies", "deployments", "disk", "env",
                        "executor", "fetch", "gpus", "instances", "labels", "mem", "networks", "ports", "residency",
                        "role", "secrets", "tasks", "tty", "uris", "user", "version"}
NUMERIC_FIELDS = ["cpus", "mem", "disk", "gpus", "backoffSeconds", "backoffFactor", "maxLaunchDelaySeconds"]
STRING_FIELDS = ["cmd", "user", "executor", "role", "killSelection"]

# One property per argument rule, so that every rule gets examples (a single one_of spreads them unevenly).
ARG_CASES = {
    "state": words.filter(lambda w: w not in ("present", "started", "stopped", "restarted", "absent")).map(
        lambda w: case("state", {"state": w})),
    "instances < 0": negatives.filter(lambda v: isinstance(v, int)).map(lambda v: case("instances", {"instances": v})),
    "instances with stopped/absent": st.tuples(st.integers(0, 5), st.sampled_from(["stopped", "absent"])).map(
        lambda t: case("instances", {"instances": t[0], "state": t[1]})),
    "wait_timeout": st.integers(max_value=0, min_value=-10**6).map(lambda v: case("wait_timeout", {"wait_timeout": v})),
    "request_timeout": st.floats(max_value=0, min_value=-1e6, allow_nan=False).map(
        lambda v: case("request_timeout", {"request_timeout": v})),
    "retries": st.integers(max_value=-1, min_value=-10**6).map(lambda v: case("retries", {"retries": v})),
    "marathon_url": bad_urls.map(lambda u: case("marathon_url", {"marathon_url": u})),
    "app_id": bad_ids.map(lambda i: case("app_id", {"app_id": i})),
    # A valid app_id naming another app than definition.id: both fields are named.
    "app_id vs definition.id": st.from_regex(r"\A[a-z][a-z0-9-]{0,8}[a-z0-9]\Z").map(
        lambda seg: case("definition.id", {"app_id": "/other/" + seg}, kind="app_id vs definition.id")),
    "booleans": words.filter(lambda w: w not in BOOL_WORDS).flatmap(
        lambda w: st.sampled_from(["wait", "force", "allow_data_loss", "partial", "validate_certs"]).map(
            lambda name: case(name, {name: w}))),
    "wait_for": words.filter(lambda w: w not in ("deployment", "healthy", "running")).map(
        lambda w: case("wait_for", {"wait_for": w})),
    "unsupported parameter": words.map(lambda w: case(w + "_x", {w + "_x": 1})),
    "dcos_username without password": words.map(lambda w: case("dcos_password", {"dcos_username": w})),
    "service account without key": words.map(lambda w: case("dcos_private_key", {"dcos_service_account": w})),
    "src missing": st.sampled_from(["/nonexistent/app.json", "relative/missing.yml"]).map(lambda p: case("src", {"src": p})),
    "definition with src": st.just(case("definition", {"src": "/x.json"})),
    "definition not a mapping": st.one_of(st.lists(st.integers(), max_size=2), st.integers()).map(
        lambda v: case("definition", {"definition": v})),
}

DEF_CASES = {
    "numbers": st.tuples(st.sampled_from(NUMERIC_FIELDS), st.one_of(non_numbers, negatives)).map(
        lambda t: case("definition." + t[0], defn={t[0]: t[1]})),
    "instances": st.one_of(negatives, st.floats(0.1, 0.9), non_numbers).map(
        lambda v: case("definition.instances", defn={"instances": v})),
    "strings": st.tuples(st.sampled_from(STRING_FIELDS), non_strings).map(
        lambda t: case("definition." + t[0], defn={t[0]: t[1]})),
    "args": st.one_of(st.text(max_size=5), st.integers(),
                      st.dictionaries(st.text(max_size=2), st.text(max_size=2), max_size=1)).map(
        lambda v: case("definition.args", defn={"args": v})),
    "env values": st.tuples(env_keys, non_strings).map(
        lambda t: case("definition.env." + t[0], defn={"env": {"OK": "1", t[0]: t[1]}}, kind="definition.env.<name>")),
    "id": bad_ids.map(lambda i: case("definition.id", defn={"id": i})),
    # Marathon drops unknown fields, so they are refused by name (a misspelling would write on every run).
    "unknown field": words.filter(lambda w: w not in LOWERCASE_APP_FIELDS).map(
        lambda w: case("definition." + w, defn={w: "x"}, kind="definition.<unknown field>")),
    "unknown health check field": words.filter(lambda w: w not in ("command", "path", "port", "protocol")).map(
        lambda w: case("definition.healthChecks[0]." + w, defn={"healthChecks": [{"protocol": "TCP", w: 1}]},
                       kind="definition.healthChecks[0].<unknown field>")),
}
ARG_EXAMPLES = 4
DEF_EXAMPLES = 8


def module_args(url, c, tmp_path):
    args = {"marathon_url": url, "definition": copy.deepcopy(BASE_DEF), "wait_timeout": 30, "retries": 0}
    args["definition"].update(c["defn"])
    args.update(c["args"])
    if "src" in c["args"] and "definition" not in c["args"] and c["expect"] == "src":
        args.pop("definition")
    return args


def check_refused(run, expect, lm, since):
    run.assert_clean()
    assert run.failed, f"accepted invalid input for {expect}: {run.result}"
    assert expect in run.msg, f"message does not name {expect!r}: {run.msg}"
    assert writes_since(lm, since) == [], "a write was sent for invalid input"


@pytest.mark.parametrize("rule", list(ARG_CASES))
def test_invalid_arguments_are_refused(rule, bad_lm, module_runner, tmp_path, record_property):
    record_property("case", f"hypothesis: invalid argument, {rule}")
    seen = []

    @settings(SETTINGS, max_examples=ARG_EXAMPLES)
    @given(c=ARG_CASES[rule])
    def check(c):
        since = time.time()
        run = module_runner.run("marathon_app", module_args(bad_lm.url, c, tmp_path))
        check_refused(run, c["expect"], bad_lm, since)
        seen.append(c["kind"])

    check()
    record_property("examples", len(seen))
    record_property("fields", dict(sorted(Counter(seen).items())))
    record_property("lost", [])


@pytest.mark.parametrize("rule", list(DEF_CASES))
def test_invalid_definitions_are_refused(rule, bad_lm, module_runner, tmp_path, record_property):
    record_property("case", f"hypothesis: invalid definition, {rule}")
    seen = []

    @settings(SETTINGS, max_examples=DEF_EXAMPLES)
    @given(c=DEF_CASES[rule], via_src=st.booleans())
    def check(c, via_src):
        since = time.time()
        args = module_args(bad_lm.url, c, tmp_path)
        expect = c["expect"]
        if via_src:
            # The same definition from a file: the message names src instead of definition.
            path = tmp_path / "app.json"
            path.write_text(json.dumps(args.pop("definition")))
            args["src"] = str(path)
            expect = expect.replace("definition", "src", 1)
        run = module_runner.run("marathon_app", args)
        check_refused(run, expect, bad_lm, since)
        seen.append(c["kind"] + (" (src)" if via_src else ""))

    check()
    record_property("examples", len(seen))
    record_property("fields", dict(sorted(Counter(seen).items())))
    record_property("lost", [])


# Definitions Marathon refuses (the module may find some first): the message names the field and
# nothing is created.
SERVER_REFUSED = [
    ({"container": {"type": "BOGUS"}}, "container"),
    ({"upgradeStrategy": {"minimumHealthCapacity": 2, "maximumOverCapacity": 1}}, "minimumHealthCapacity"),
    ({"constraints": [["hostname"]]}, "constraints"),
    ({"healthChecks": [{"protocol": "TCP", "portIndex": 5}]}, "healthChecks"),
    ({"cmd": None, "args": None, "container": None}, "cmd"),
]


@pytest.mark.parametrize("defn,field", SERVER_REFUSED, ids=[pair[1] for pair in SERVER_REFUSED])
def test_definitions_marathon_refuses(defn, field, bad_lm, module_runner, tmp_path, record_property):
    record_property("case", f"Marathon refuses the definition ({field})")
    since = time.time()
    args = module_args(bad_lm.url, case(field, defn=defn), tmp_path)
    run = module_runner.run("marathon_app", args)
    check_refused(run, field, bad_lm, since)
    record_property("lost", [])


# ---- malformed replies ---------------------------------------------------------------------------

HTML_401 = ("<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n<center><h1>401 "
            "Authorization Required</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n")


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """BASE_DEF as a real localmarathon shows it once it runs: with it the module has nothing to change."""
    with LocalMarathon(tmp_path_factory.mktemp("live") / "lm", time_scale=TIME_SCALE) as lm:
        assert requests.post(lm.url + "/v2/apps", json=BASE_DEF, timeout=10).status_code == 201
        wait_for(lambda: requests.get(lm.url + "/v2/apps" + APP_ID, timeout=10).json()["app"]["tasksRunning"] == 1,
                 20, "the app to run")
        return requests.get(lm.url + "/v2/apps" + APP_ID, timeout=10).json()["app"]


MALFORMED = {
    "non-JSON text": (200, "text/plain", "pong", "unexpected body"),
    "HTML 401 from Admin Router": (401, "text/html", HTML_401, "HTTP 401"),
    "HTML 200 page": (200, "text/html", "<html><body>Welcome to nginx</body></html>", "unexpected body"),
    "empty body": (200, "application/json", "", "unexpected body"),
    "truncated JSON": (200, "application/json", json.dumps({"app": BASE_DEF})[:60], "unexpected body"),
    "JSON list": (200, "application/json", "[]", "unexpected body"),
    "app is a list": (200, "application/json", '{"app": []}', "unexpected body"),
    "app is a string": (200, "application/json", '{"app": "x"}', "unexpected body"),
    "binary garbage": (200, "application/octet-stream", b"\x00\xff\xfe\x89PNG\r\n", "unexpected body"),
    "HTML 500": (500, "text/html", "<html><title>Oops</title></html>", "HTTP 500"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_reply_fails_clearly(name, module_runner, record_property):
    record_property("case", f"malformed reply: {name}")
    status, ctype, body, words = MALFORMED[name]
    server = RawHttpServer()
    try:
        server.answer("GET", status, body, ctype, {"WWW-Authenticate": "acsjwt"} if status == 401 else None)
        run = module_runner.run("marathon_app", {"marathon_url": server.url, "definition": BASE_DEF, "retries": 0})
    finally:
        server.close()
    run.assert_clean()
    assert run.failed, run.result
    assert words in run.msg and "/v2/apps/bad/web" in run.msg, run.msg
    # HTML pages are summarized, never dumped.
    assert "<html" not in run.msg.lower() and "<body" not in run.msg.lower(), run.msg
    assert server.writes() == [], server.seen
    record_property("lost", [])


WRONG_TYPES = {
    "instances": ["three", None, -1, 1.5, {}],
    "cpus": ["a lot", [], None],
    "env": [[], "PGDATA=/x", 5],
    "tasks": ["none", {"id": 1}, [1, "x"]],
    "deployments": ["none", {}, [5]],
    "container": ["docker", [], {"volumes": "pgdata"}, {"volumes": [5]}],
    "healthChecks": ["tcp", {}, [None]],
    "id": [5, None, "/some/other"],
}
WRONG_TYPE_CASES = [(k, v) for k, vs in WRONG_TYPES.items() for v in vs]


@pytest.mark.parametrize("key,value", WRONG_TYPE_CASES, ids=[f"{k}={json.dumps(v)}" for k, v in WRONG_TYPE_CASES])
def test_wrong_types_in_reply(key, value, live_app, module_runner, record_property):
    """The live app answers with a field of the wrong type: fail clearly, no write."""
    record_property("case", f"reply field {key} = {json.dumps(value)}")
    server = RawHttpServer()
    try:
        # Unchanged, the reply is the definition itself: the module would change nothing.
        server.answer("GET", 200, json.dumps({"app": live_app}))
        ok = module_runner.run("marathon_app", {"marathon_url": server.url, "definition": BASE_DEF, "retries": 0})
        assert ok.result["changed"] is False and not ok.failed, ok.result
        server.answer("GET", 200, json.dumps({"app": dict(live_app, **{key: value})}))
        run = module_runner.run("marathon_app", {"marathon_url": server.url, "definition": BASE_DEF, "retries": 0})
    finally:
        server.close()
    run.assert_clean()
    assert run.failed, f"the module accepted a reply with {key}={value!r}: {run.result.get('changes')}"
    assert key in run.msg, run.msg
    assert server.writes() == [], server.seen
    record_property("lost", [])


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
junk_bodies = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
    json_values.filter(lambda v: not (isinstance(v, dict) and "app" in v)).map(lambda v: json.dumps(v).encode()),
)


def test_junk_replies(module_runner, record_property):
    record_property("case", "hypothesis: arbitrary bodies and content types for GET /v2/apps/{id}")
    seen = []
    server = RawHttpServer()

    @settings(SETTINGS, max_examples=30)
    @given(body=junk_bodies, status=st.sampled_from([200, 400, 401, 403, 422, 500]),
           ctype=st.sampled_from(["application/json", "text/html", "text/plain", None]))
    def check(body, status, ctype):
        server.seen.clear()
        server.answer("GET", status, body, ctype)
        run = module_runner.run("marathon_app", {"marathon_url": server.url, "definition": BASE_DEF, "retries": 0})
        run.assert_clean()
        assert run.failed, run.result
        assert "/v2/apps/bad/web" in run.msg, run.msg
        assert server.writes() == [], server.seen
        seen.append(status)

    try:
        check()
    finally:
        server.close()
    record_property("examples", len(seen))
    record_property("lost", [])


# ---- a marathon_url that does not lead to Marathon -----------------------------------------------

HTML_404 = ("<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1>"
            "</center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n")
# Each module that reads an app; "absent" must not take a 404 page for a removed app.
READERS = {
    "marathon_app absent": ("marathon_app", {"app_id": APP_ID, "state": "absent", "allow_data_loss": True}),
    "marathon_app present": ("marathon_app", {"definition": BASE_DEF}),
    "marathon_app_info": ("marathon_app_info", {"app_id": APP_ID}),
    "marathon_task_info": ("marathon_task_info", {"app_id": APP_ID}),
}


def check_wrong_url(run, url, expect):
    run.assert_clean()
    assert run.failed, f"a wrong marathon_url passed as ok: {run.result}"
    assert expect in run.msg, run.msg
    assert f"marathon_url '{url}'" in run.msg and "https://dcos.example.com/service/marathon" in run.msg, run.msg
    assert "<html" not in run.msg.lower(), run.msg


@pytest.mark.parametrize("reader", list(READERS))
def test_html_404_page_is_not_an_absent_app(reader, module_runner, record_property):
    """A mistyped DC/OS path (Admin Router answers 404 with an HTML page) must fail, not read as "absent"."""
    record_property("case", f"HTML 404 page for a mistyped marathon_url: {reader}")
    name, args = READERS[reader]
    server = RawHttpServer()
    url = server.url + "/service/marathonx"
    try:
        server.answer("GET", 404, HTML_404, "text/html")
        run = module_runner.run(name, dict(args, marathon_url=url, retries=0))
    finally:
        server.close()
    check_wrong_url(run, url, "HTTP 404: HTML error page titled '404 Not Found'")
    assert server.writes() == [], server.seen
    # The first read already fails: no retry, no second read.
    assert len(server.seen) == 1, server.seen
    record_property("lost", [])


@pytest.mark.parametrize("suffix", ["/v2", "/service/marathonx"])
@pytest.mark.parametrize("reader", list(READERS))
def test_unknown_path_names_marathon_url(reader, suffix, bad_lm, module_runner, record_property):
    """Marathon answers an unknown path (a trailing /v2, a typo) with 500 "URI not found"."""
    record_property("case", f"marathon_url ending in {suffix}: {reader}")
    name, args = READERS[reader]
    url = bad_lm.url + suffix
    since = time.time()
    run = module_runner.run(name, dict(args, marathon_url=url, retries=0))
    check_wrong_url(run, url, "HTTP 500: URI not found")
    if suffix == "/v2":
        assert "Remove the trailing /v2 from marathon_url" in run.msg, run.msg
    assert writes_since(bad_lm, since) == []
    record_property("lost", [])
