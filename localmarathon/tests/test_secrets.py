"""DC/OS Enterprise (--enterprise): the Secrets API with the reference's paths, bodies and codes,
its permissions under --auth dcos, apps' secrets as env and file references per Marathon version,
the values injected into tasks, and no value in any answer, event or the request log. Without the
flag Marathon's own 422 refusal stays."""

from __future__ import annotations

import json
import secrets as pysecrets
import threading

import pytest
import requests

from conftest import Api, wait_for
from localmarathon import testing
from localmarathon.testing import LocalMarathon

S = "/secrets/v1/secret/default"
FEATURE_MSG = "Feature secrets is not enabled. Enable with --enable_features secrets)"


def enterprise(tmp_path, **kw):
    return LocalMarathon(tmp_path / "lm", time_scale=20.0, extra_args=["--enterprise"], **kw)


def test_secrets_api_codes_and_bodies(tmp_path):
    with enterprise(tmp_path) as lm:
        api = Api(lm)
        assert api.get(f"{S}/db/pw").status_code == 404
        r = api.put(f"{S}/db/pw", json={"value": "one"})
        assert r.status_code == 201 and r.content == b""
        assert api.put(f"{S}/db/pw", json={"value": "two"}).status_code == 409
        r = api.get(f"{S}/db/pw")
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
        assert r.json() == {"value": "one"}
        assert api.patch(f"{S}/db/pw", json={"value": "two"}).status_code == 204
        assert api.get(f"{S}/db/pw").json() == {"value": "two"}
        assert api.patch(f"{S}/db/other", json={"value": "x"}).status_code == 404
        assert api.put(f"{S}/db/sub/key", json={"value": "k"}).status_code == 201
        assert api.get(f"{S}/db?list=true").json() == {"array": ["pw", "sub/key"]}
        assert api.get(f"{S}/?list=true").json() == {"array": ["db/pw", "db/sub/key"]}
        assert api.get(f"{S}/nothing?list=true").json() == {"array": []}
        assert api.get(f"{S}/db").status_code == 404  # a folder is not a secret
        assert api.put(f"{S}/db/bad", json={"value": 1}).status_code == 400
        assert api.put(f"{S}/db/bad", data=b"not json").status_code == 400
        assert api.get("/secrets/v1/secret/other/db/pw").status_code == 404
        # sealed: nothing can be read or written, the seal status says why
        assert api.put("/secrets/v1/seal/default").status_code == 200
        assert api.get("/secrets/v1/seal-status/default").json()["sealed"] is True
        assert api.get(f"{S}/db/pw").status_code == 503
        assert api.patch(f"{S}/db/pw", json={"value": "three"}).status_code == 503
        assert api.put("/secrets/v1/unseal/default").status_code == 200
        assert api.delete(f"{S}/db/pw").status_code == 204
        assert api.delete(f"{S}/db/pw").status_code == 404
        # the store outlives a restart of the server, in a file only its owner reads
        lm.restart()
        assert api.get(f"{S}/db/sub/key").json() == {"value": "k"}
        assert oct((lm.data_dir / "secrets.json").stat().st_mode & 0o777) == "0o600"
        # the secret store is beside Marathon, not under it
        assert api.get(f"/service/marathon{S}/db/sub/key").status_code != 200


def test_secrets_permissions_with_dcos_auth(tmp_path):
    config = {"users": {"admin": "a-pw", "reader": "r-pw"},
              "permissions": {"reader": {"dcos:secrets:default:/app/*": ["read"],
                                         "dcos:secrets:default:/app/writable": ["update"]}}}
    with enterprise(tmp_path, auth="dcos", auth_config=config) as lm:
        anonymous = Api(lm)
        admin = Api(lm, user=("admin", "a-pw"))
        reader = Api(lm, user=("reader", "r-pw"))
        assert anonymous.get(f"{S}/app/pw").status_code == 401
        assert admin.put(f"{S}/app/pw", json={"value": "v"}).status_code == 201
        assert admin.put(f"{S}/app/writable", json={"value": "v"}).status_code == 201
        assert admin.put(f"{S}/other/pw", json={"value": "v"}).status_code == 201
        assert reader.get(f"{S}/app/pw").json() == {"value": "v"}
        r = reader.put(f"{S}/app/new", json={"value": "v"})
        assert r.status_code == 403 and "dcos:secrets:default:/app/new create" in r.json()["description"]
        assert reader.patch(f"{S}/app/pw", json={"value": "w"}).status_code == 403
        assert reader.patch(f"{S}/app/writable", json={"value": "w"}).status_code == 204
        assert reader.delete(f"{S}/app/pw").status_code == 403
        assert reader.get(f"{S}/other/pw").status_code == 403
        assert reader.put("/secrets/v1/seal/default").status_code == 403


def test_without_enterprise_secrets_are_refused(api, lm):
    assert api.get(f"{S}/db/pw").status_code >= 400  # no secret store: Marathon's unknown route
    r = api.post("/v2/apps", json={"id": "/s", "cmd": "sleep 1", "secrets": {"pw": {"source": "s/pw"}},
                                   "env": {"PW": {"secret": "pw"}}})
    assert r.status_code == 422
    errors = [e for d in r.json()["details"] for e in d["errors"]]
    assert FEATURE_MSG in errors
    assert api.get("/v2/info").json()["marathon_config"]["features"] == []


class EventLog:
    """Every event of the SSE stream, raw, until closed."""

    def __init__(self, url):
        self.lines = []
        self.resp = requests.get(url + "/v2/events", stream=True, timeout=30,
                                 headers={"Accept": "text/event-stream"})
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for line in self.resp.iter_lines(chunk_size=1, decode_unicode=True):
                self.lines.append(line)
        except Exception:  # closed by the test
            pass

    def close(self):
        self.resp.close()
        return "\n".join(self.lines)


def test_secrets_injected_as_env_and_file_and_never_served(tmp_path):
    value = "pw-" + pysecrets.token_urlsafe(16)
    with enterprise(tmp_path) as lm:
        api = Api(lm)
        assert api.get("/v2/info").json()["marathon_config"]["features"] == ["secrets"]
        events = EventLog(lm.url)
        assert api.put(f"{S}/svc/pw", json={"value": value}).status_code == 201
        app = {"id": "/svc/app", "cpus": 0.1, "mem": 32, "instances": 1,
               "cmd": 'printf "%s|%s" "$PW" "$(cat pwfile)" > seen; sleep 600',
               "container": {"type": "MESOS", "volumes": [{"containerPath": "pwfile", "secret": "pw"}]},
               "secrets": {"pw": {"source": "svc/pw"}}, "env": {"PW": {"secret": "pw"}, "PLAIN": "p"}}
        r = api.post("/v2/apps", json=app)
        assert r.status_code == 201, r.text
        api.wait_running("/svc/app")
        seen = wait_for(lambda: [p for p in (lm.data_dir / "sandboxes").rglob("seen") if p.stat().st_size],
                        timeout=20)
        assert seen[0].read_text() == f"{value}|{value}"
        # GET shows only the references, everywhere
        live = api.get("/v2/apps/svc/app").json()["app"]
        assert live["secrets"] == {"pw": {"source": "svc/pw"}}
        assert live["env"]["PW"] == {"secret": "pw"}
        assert {"containerPath": "pwfile", "secret": "pw"} in live["container"]["volumes"]
        answers = [api.get(p).text for p in ("/v2/apps", "/v2/apps/svc/app?embed=app.tasks", "/v2/tasks",
                                              "/v2/apps/svc/app/versions", "/v2/deployments", "/v2/queue",
                                              "/v2/groups?embed=group.apps", "/_localmarathon/state")]
        for version in api.get("/v2/apps/svc/app/versions").json()["versions"]:
            answers.append(api.get(f"/v2/apps/svc/app/versions/{version}").text)
        stream = events.close()
        assert "api_post_event" in stream
        log = (lm.data_dir / "requests.jsonl").read_text()
        for where, text in [("answers", "\n".join(answers)), ("events", stream), ("request log", log)]:
            assert value not in text, where


def test_secret_outside_the_app_space_or_missing_fails_the_launch(tmp_path):
    with enterprise(tmp_path) as lm:
        api = Api(lm)
        assert api.put(f"{S}/other/pw", json={"value": "v"}).status_code == 201
        for app_id, source in (("/mine/a", "other/pw"), ("/mine/b", "mine/missing")):
            r = api.post("/v2/apps", json={"id": app_id, "cmd": "sleep 600", "cpus": 0.1, "mem": 32,
                                           "secrets": {"pw": {"source": source}}, "env": {"PW": {"secret": "pw"}}})
            assert r.status_code == 201, r.text

        def failure(app_id):
            app = api.get("/v2/apps" + app_id).json()["app"]
            return (app.get("lastTaskFailure") or {}).get("message")

        assert "may not read secret 'other/pw'" in wait_for(lambda: failure("/mine/a"), timeout=20)
        assert "secret 'mine/missing' is not in the secret store" in wait_for(lambda: failure("/mine/b"), timeout=20)


@pytest.mark.parametrize("version", ["1.4", "1.5", "1.11"])
def test_file_secrets_need_marathon_1_5(tmp_path, version):
    with enterprise(tmp_path, marathon_version=version) as lm:
        api = testing.Api(lm)  # answers in that version's shape, not 1.10's RAML
        env_only = {"id": "/e", "cmd": "sleep 600", "secrets": {"pw": {"source": "pw"}},
                    "env": {"PW": {"secret": "pw"}}}
        assert api.post("/v2/apps", json=env_only).status_code == 201
        as_file = {"id": "/f", "cmd": "sleep 600", "secrets": {"pw": {"source": "pw"}},
                   "container": {"type": "MESOS", "volumes": [{"containerPath": "pw", "secret": "pw"}]}}
        r = api.post("/v2/apps", json=as_file)
        assert r.status_code == (422 if version == "1.4" else 201), r.text
