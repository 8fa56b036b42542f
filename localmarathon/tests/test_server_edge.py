"""Server-level SSE events, DC/OS auth, TLS and fault injection over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from conftest import Api, wait_for
from localmarathon.testing import LocalMarathon


class EventReader:
    def __init__(self, url: str, query: str = "", headers: dict | None = None, verify=True):
        self.q: queue.Queue = queue.Queue()
        self.resp = requests.get(f"{url}/v2/events{query}", stream=True, timeout=30, verify=verify,
                                 headers={"Accept": "text/event-stream", **(headers or {})})
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        event = None
        try:
            for line in self.resp.iter_lines(chunk_size=1, decode_unicode=True):
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    self.q.put((event, json.loads(line[6:])))
        except Exception:  # closed by the test
            pass

    def until(self, pred, timeout=20):
        seen = []
        deadline = dt.datetime.now() + dt.timedelta(seconds=timeout)
        while dt.datetime.now() < deadline:
            try:
                item = self.q.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(item)
            if pred(*item):
                return seen
        raise AssertionError(f"event not seen; got {[e for e, _ in seen]}")

    def close(self):
        self.resp.close()


def test_events_stream_deployment_status_and_health(api, lm):
    r = api.get("/v2/events")
    assert r.status_code == 405  # without Accept: text/event-stream (R/v2/events.raml)
    everything = EventReader(lm.url)
    statuses = EventReader(lm.url, "?event_type=status_update_event&event_type=deployment_success")
    try:
        everything.until(lambda e, d: e == "event_stream_attached")
        r = api.post("/v2/apps", json={"id": "/ev", "cmd": "sleep 100", "instances": 1, "healthChecks": [
            {"protocol": "COMMAND", "command": {"value": "true"}, "gracePeriodSeconds": 10, "intervalSeconds": 1,
             "delaySeconds": 0}]})
        dep_id = r.headers["Marathon-Deployment-Id"]
        seen = everything.until(lambda e, d: e == "deployment_success" and d["id"] == dep_id)
        kinds = [e for e, _ in seen]
        for kind in ("api_post_event", "group_change_success", "deployment_info", "deployment_step_success",
                     "status_update_event", "instance_changed_event", "health_status_changed_event"):
            assert kind in kinds, kind
        assert kinds.index("deployment_info") < kinds.index("deployment_success")
        running = [d for e, d in seen if e == "status_update_event" and d["taskStatus"] == "TASK_RUNNING"]
        assert running and running[0]["appId"] == "/ev" and running[0]["host"] == "127.0.0.1"
        success = dict(seen)["deployment_success"] if False else [d for e, d in seen if e == "deployment_success"][0]
        assert success["plan"]["steps"][1] == {"actions": [{"action": "ScaleApplication", "app": "/ev"}]}
        only = statuses.until(lambda e, d: e == "deployment_success")
        assert {e for e, _ in only} <= {"status_update_event", "deployment_success"}
        r = api.delete("/v2/apps/ev")
        everything.until(lambda e, d: e == "app_terminated_event" and d["appId"] == "/ev")
    finally:
        everything.close()
        statuses.close()


def test_events_unhealthy_kill_and_409_failure(api, lm):
    reader = EventReader(lm.url, "?event_type=unhealthy_instance_kill_event&event_type=deployment_failed")
    try:
        requests.post(lm.url + "/_localmarathon/faults", json={"kind": "stall_deployment", "app_id": "/k"})
        api.post("/v2/apps", json={"id": "/k", "cmd": "sleep 100", "instances": 1, "healthChecks": [
            {"protocol": "COMMAND", "command": {"value": "false"}, "gracePeriodSeconds": 0, "intervalSeconds": 1,
             "maxConsecutiveFailures": 1, "delaySeconds": 0}]})
        assert api.put("/v2/apps/k", json={"instances": 2}).status_code == 409
        reader.until(lambda e, d: e == "deployment_failed")
        requests.delete(lm.url + "/_localmarathon/faults")
        seen = reader.until(lambda e, d: e == "unhealthy_instance_kill_event")
        kill = seen[-1][1]
        assert kill["appId"] == "/k" and kill["taskId"].startswith("k.instance-")
    finally:
        reader.close()


def test_dcos_auth(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    config = {"users": {"alice": "s3cret"}, "service_accounts": {"robot": pub}}
    with LocalMarathon(tmp_path / "lm", auth="dcos", auth_config=config, time_scale=20) as lm:
        r = requests.get(lm.url + "/v2/apps")
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "acsjwt"
        assert r.headers["Content-Type"].startswith("text/html") and "<html>" in r.text
        assert requests.get(lm.url + "/ping").status_code == 401
        assert requests.get(lm.url + "/service/marathon/v2/apps").status_code == 401
        assert requests.get(lm.url + "/_localmarathon/stats").status_code == 200  # admin: no auth
        bad = requests.post(lm.url + "/acs/api/v1/auth/login", json={"uid": "alice", "password": "nope"})
        assert bad.status_code == 401 and bad.json()["code"] == "ERR_INVALID_CREDENTIALS"
        r = requests.post(lm.url + "/acs/api/v1/auth/login", json={"uid": "alice", "password": "s3cret"})
        token = r.json()["token"]
        api = Api(lm.url, headers={"Authorization": f"token={token}"})
        assert api.get("/v2/apps").json() == {"apps": []}
        assert Api(lm.url, headers={"Authorization": f"Bearer {token}"}).get("/v2/info").status_code == 200
        import jwt
        import time
        login_jwt = jwt.encode({"uid": "robot", "exp": int(time.time()) + 300}, key, algorithm="RS256")
        r = requests.post(lm.url + "/acs/api/v1/auth/login", json={"uid": "robot", "token": login_jwt})
        assert r.status_code == 200 and r.json()["token"]
        assert requests.get(lm.url + "/v2/apps", headers={"Authorization": "token=forged.jwt.value"}).status_code == 401
        # the login is not a write; expiring tokens makes the old one fail
        assert not any(rec["path"].startswith("/acs") for rec in lm.writes())
        requests.post(lm.url + "/_localmarathon/faults", json={"kind": "expire_tokens"}).raise_for_status()
        assert api.get("/v2/apps").status_code == 401
        assert token not in (lm.data_dir / "requests.jsonl").read_text()


@pytest.fixture
def cert_pair(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    import ipaddress
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_only(tmp_path, cert_pair):
    with LocalMarathon(tmp_path / "lm", tls=cert_pair, time_scale=20) as lm:
        assert lm.url.startswith("https://127.0.0.1:")
        api = Api(lm.url, verify=str(cert_pair[0]))
        r = api.get("/v2/apps")
        assert r.status_code == 200 and r.headers["X-Marathon-Leader"] == lm.url
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(lm.url + "/v2/apps", timeout=5)  # not trusted without the CA
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(lm.url.replace("https", "http") + "/v2/apps", timeout=5)  # no plain HTTP
        assert api.get("/v2/info").json()["http_config"]["https_port"] == lm.port
        reader = EventReader(lm.url, verify=str(cert_pair[0]))
        reader.until(lambda e, d: e == "event_stream_attached")
        reader.close()


def test_faults(api, lm):
    admin = lm.url + "/_localmarathon/faults"
    r = requests.post(admin, json={"kind": "status", "status": 503, "count": 2, "method": "GET", "path": "^/v2/apps"})
    assert r.status_code == 201
    assert [api.get("/v2/apps").status_code for _ in range(3)] == [503, 503, 200]
    assert api.get("/v2/info").status_code == 200
    assert [r["fault"] for r in lm.requests()][:2] == ["status:503", "status:503"]
    requests.post(admin, json={"kind": "status", "status": 502, "count": 1}).raise_for_status()
    r = api.get("/v2/apps")
    assert r.status_code == 502 and "Could not determine the current leader" in r.text
    requests.post(admin, json={"kind": "drop", "count": 1}).raise_for_status()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(lm.url + "/v2/apps", timeout=5)
    assert requests.post(admin, json={"kind": "bogus"}).status_code == 422
    assert requests.post(admin, data=b"{").status_code == 400
    # kill_task: the task dies as if lost; Marathon relaunches the instance
    api.post("/v2/apps", json={"id": "/f", "cmd": "sleep 100", "instances": 1})
    task = api.wait_running("/f")["tasks"][0]["id"]
    assert requests.post(admin, json={"kind": "kill_task", "task_id": task}).status_code == 201
    wait_for(lambda: (a := api.app("/f"))["tasksRunning"] == 1 and a["tasks"][0]["id"] != task, 20, "relaunch")
    assert requests.post(admin, json={"kind": "kill_task", "task_id": "nope.instance-1._app.1"}).status_code == 422
    # unhealthy: the app's health checks fail while the fault is active
    api.post("/v2/apps", json={"id": "/u", "cmd": "sleep 100", "instances": 1, "healthChecks": [
        {"protocol": "COMMAND", "command": {"value": "true"}, "gracePeriodSeconds": 600, "intervalSeconds": 1,
         "maxConsecutiveFailures": 1000, "delaySeconds": 0}]})
    api.wait_running("/u", healthy=True)
    requests.post(admin, json={"kind": "unhealthy", "app_id": "/u"}).raise_for_status()
    wait_for(lambda: api.app("/u")["tasksUnhealthy"] == 1, 10, "unhealthy")
    assert requests.get(admin).json()["faults"][0]["kind"] == "unhealthy"
    requests.delete(admin).raise_for_status()
    wait_for(lambda: api.app("/u")["tasksHealthy"] == 1, 10, "healthy again")
    # leader change: a short election gap with Marathon's 502
    requests.post(admin, json={"kind": "leader_change", "duration": 1}).raise_for_status()
    assert api.get("/v2/apps").status_code == 502
    wait_for(lambda: api.get("/v2/apps", check=False).status_code == 200, 10, "new leader")
