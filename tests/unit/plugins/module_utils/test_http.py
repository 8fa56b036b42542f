# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""HttpClient against a scripted HTTP server on 127.0.0.1 (real sockets, port 0).

Only the backoff sleep is replaced, so the tests do not wait.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._errors import (
    MarathonAuthError,
    MarathonConnectionError,
    MarathonError,
    MarathonParameterError,
)
from ansible_collections.dcos.marathon.plugins.module_utils._http import BACKOFF_CAP, AnswerLost, HttpClient
from ansible_collections.dcos.marathon.tests.unit.plugins.module_utils.scripted_http import (
    FakeModule,
    ScriptedServer,
    http_client as client_for,
)

jwt = pytest.importorskip("jwt")
rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")
hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
x509 = pytest.importorskip("cryptography.x509")


@pytest.fixture
def server():
    with ScriptedServer() as script:
        yield script


def get(client, path="/v2/apps/x"):
    return client.request("GET", path)


APP = {"app": {"id": "/postgres", "instances": 1}}


# ---- URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params,base,login",
    [
        ({"marathon_url": "http://m:8080"}, "http://m:8080", "http://m:8080"),
        ({"marathon_url": "http://m:8080/"}, "http://m:8080", "http://m:8080"),
        ({"marathon_url": "https://dcos.example.com", "dcos_acs_token": "t"},
         "https://dcos.example.com/service/marathon", "https://dcos.example.com"),
        ({"marathon_url": "https://dcos.example.com/service/marathon/", "dcos_username": "u", "dcos_password": "p"},
         "https://dcos.example.com/service/marathon", "https://dcos.example.com"),
        ({"marathon_url": "http://marathon.mesos:8080", "dcos_url": "https://dcos.example.com",
          "dcos_username": "u", "dcos_password": "p"}, "http://marathon.mesos:8080", "https://dcos.example.com"),
        ({"marathon_url": "https://dcos.example.com", "dcos_url": "https://dcos.example.com/"},
         "https://dcos.example.com/service/marathon", "https://dcos.example.com"),
    ],
)
def test_base_and_login_urls(params, base, login):
    c = HttpClient(FakeModule(**params))
    assert (c.base_url, c.login_base) == (base, login)


@pytest.mark.parametrize(
    "params,field",
    [
        ({"marathon_url": "marathon:8080"}, "marathon_url"),
        ({"marathon_url": "ftp://m"}, "marathon_url"),
        ({"marathon_url": "http://m", "dcos_url": "nope"}, "dcos_url"),
        ({"marathon_url": "http://m", "request_timeout": 0}, "request_timeout"),
        ({"marathon_url": "http://m", "retries": -1}, "retries"),
        ({"marathon_url": "http://m", "ca_path": "/nonexistent/ca.pem"}, "ca_path"),
        ({"marathon_url": "http://m", "client_key": "/nonexistent/k.pem"}, "client_key"),
        ({"marathon_url": "http://m", "client_cert": "/nonexistent/c.pem"}, "client_cert"),
        ({"marathon_url": "http://m", "dcos_password": "p"}, "dcos_username"),
    ],
)
def test_bad_connection_parameters_name_the_field(params, field):
    with pytest.raises(MarathonParameterError) as e:
        HttpClient(FakeModule(**params))
    assert field in str(e.value)


# ---- requests, one session, headers ---------------------------------------------------


def test_get_uses_one_request_and_json_headers(server):
    server.answers.append(("GET", "/v2/apps/postgres", (200, APP, {})))
    resp = get(client_for(server.url), "/v2/apps/postgres")
    assert (resp.status, resp.body) == (200, APP)
    assert len(server.seen) == 1
    assert server.seen[0]["headers"]["Accept"] == "application/json"
    assert "Authorization" not in server.seen[0]["headers"]


def test_token_header_and_dcos_path(server):
    server.answers.append(("GET", "/service/marathon/v2/apps/postgres", (200, APP, {})))
    c = client_for(server.url, dcos_acs_token="tok123")
    get(c, "/v2/apps/postgres")
    assert server.seen[0]["headers"]["Authorization"] == "token=tok123"
    assert server.seen[0]["path"] == "/service/marathon/v2/apps/postgres"


# ---- retries --------------------------------------------------------------------------


def test_get_retries_502_503_504_with_growing_backoff(server):
    for status in (502, 503, 504):
        server.answers.append(("GET", "/v2/apps/postgres", (status, "<html><body>busy</body></html>", {})))
    server.answers.append(("GET", "/v2/apps/postgres", (200, APP, {})))
    sleeps = []
    assert get(client_for(server.url, sleeps), "/v2/apps/postgres").body == APP
    assert len(server.seen) == 4
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2] <= BACKOFF_CAP * 1.1


def test_get_gives_up_after_retries(server):
    for _i in range(4):
        server.answers.append(("GET", "/v2/apps/x", (503, {"message": "Too many concurrent requests! Allowed: 1."}, {})))
    sleeps = []
    with pytest.raises(MarathonError) as e:
        get(client_for(server.url, sleeps, retries=3))
    assert e.value.status == 503 and len(server.seen) == 4 and len(sleeps) == 3
    assert "Too many concurrent requests" in str(e.value)


def test_no_retry_on_4xx_or_500(server):
    server.answers.append(("GET", "/v2/apps/x", (500, {"message": "boom"}, {})))
    with pytest.raises(MarathonError):
        get(client_for(server.url))
    assert len(server.seen) == 1


def test_connection_refused_is_retried_then_reported():
    # Bound but not listening: the port refuses connections, and nobody else can take it meanwhile.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sleeps = []
    c = client_for("http://127.0.0.1:%d" % port, sleeps, retries=2)
    try:
        with pytest.raises(MarathonConnectionError) as e:
            get(c, "/v2/apps/x")
    finally:
        sock.close()
    assert len(sleeps) == 2
    assert "could not connect" in str(e.value) and "after 3 attempt(s)" in str(e.value)
    assert "marathon_url" in str(e.value)


def test_read_timeout_says_timed_out_once():
    # A listening socket that never accepts: the request is sent and no answer ever comes.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        c = client_for("http://127.0.0.1:%d" % silent.getsockname()[1], retries=0, request_timeout=0.2)
        with pytest.raises(MarathonConnectionError) as e:
            get(c, "/v2/apps/x")
    finally:
        silent.close()
    msg = str(e.value)
    assert "failed after 1 attempt(s): timed out waiting 0.2s for an answer. " in msg, msg
    assert msg.count("timed out") == 1, msg


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_http_url_on_an_https_port_hints_https(tmp_path):
    cert, key = _self_signed(tmp_path)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        with pytest.raises(MarathonConnectionError) as e:
            get(client_for("http://127.0.0.1:%d" % httpd.server_address[1], retries=0))
    finally:
        httpd.shutdown()
        httpd.server_close()
    msg = str(e.value)
    assert "could not connect" in msg and "use https:// in marathon_url" in msg, msg


def test_https_url_on_a_plain_http_port_hints_http(server):
    with pytest.raises(MarathonConnectionError) as e:
        get(client_for(server.url.replace("http://", "https://"), retries=0))
    msg = str(e.value)
    assert "TLS error" in msg and "use http:// in marathon_url" in msg, msg
    assert server.seen == []


# ---- writes: a lost answer is the caller's to handle ---------------------------------------


@pytest.mark.parametrize("answer,in_flight,says", [
    (("drop", None, {}), False, "POST %s/v2/apps failed after 2 attempt(s): could not connect"),
    ((503, {"message": "busy"}, {}), False, "POST %s/v2/apps failed with HTTP 503: busy"),
    (("hang", None, {}), True, "POST %s/v2/apps failed after 2 attempt(s): timed out waiting 0.2s for an answer"),
], ids=["connection closed", "503", "read timeout"])
def test_a_write_whose_answer_is_lost_is_sent_once(server, answer, in_flight, says):
    server.answers.append(("POST", "/v2/apps", answer))
    sleeps = []
    with pytest.raises(AnswerLost) as e:
        client_for(server.url, sleeps, request_timeout=0.2).request("POST", "/v2/apps", json_body={"id": "/db"})
    assert len(server.seen) == 1 and sleeps == []
    assert e.value.in_flight is in_flight
    failure = e.value.failure(2)
    assert isinstance(failure, MarathonError) and str(failure).startswith(says % server.url), str(failure)


def test_delete_is_repeated_only_when_the_caller_says_it_is_idempotent(server):
    server.answers.append(("DELETE", "/v2/apps/db", (503, {"message": "busy"}, {})))
    server.answers.append(("DELETE", "/v2/apps/db", (200, {"deploymentId": "d"}, {})))
    assert client_for(server.url).request("DELETE", "/v2/apps/db").status == 200
    server.answers.append(("DELETE", "/v2/apps/db", (503, {"message": "busy"}, {})))
    with pytest.raises(AnswerLost):
        client_for(server.url).request("DELETE", "/v2/apps/db", idempotent=False)
    assert [s["method"] for s in server.seen] == ["DELETE"] * 3


# ---- errors ---------------------------------------------------------------------------


def test_422_message_lists_each_path(server):
    body = {"message": "Object is not valid", "details": [
        {"path": "/upgradeStrategy/maximumOverCapacity", "errors": ["got 1.0, expected 0.0"]},
        {"path": "/container/volumes(0)/containerPath", "errors": ["value must not contain \"/\""]}]}
    server.answers.append(("PUT", "/v2/apps/db", (422, body, {})))
    with pytest.raises(MarathonError) as e:
        client_for(server.url).request("PUT", "/v2/apps/db", json_body={"cmd": "x"})
    msg = str(e.value)
    assert "HTTP 422" in msg and "Object is not valid" in msg
    assert "/upgradeStrategy/maximumOverCapacity: got 1.0, expected 0.0" in msg
    assert "/container/volumes(0)/containerPath" in msg
    assert e.value.to_result()["body"] == body


def test_html_401_names_credential_kind_and_hides_body(server):
    page = "<html><head><title>Unauthorized</title></head><body>secret-ish page text</body></html>"
    server.answers.append(("GET", None, (401, page, {"Content-Type": "text/html", "WWW-Authenticate": "acsjwt"})))
    with pytest.raises(MarathonAuthError) as e:
        get(client_for(server.url, dcos_acs_token="expired-token"))
    msg = str(e.value)
    assert "secret-ish" not in msg and "expired-token" not in msg
    assert "dcos_acs_token" in msg and "acsjwt" in msg
    assert "body" not in e.value.to_result()


def test_401_without_credentials_says_what_to_set(server):
    server.answers.append(("GET", None, (401, "<html></html>", {"WWW-Authenticate": "acsjwt"})))
    with pytest.raises(MarathonAuthError) as e:
        get(client_for(server.url))
    assert "dcos_username/dcos_password" in str(e.value) and "no credentials" in str(e.value)


def test_403_names_the_user(server):
    server.answers.append(("POST", "/acs/api/v1/auth/login", (200, {"token": "t1"}, {})))
    server.answers.append(("GET", None, (403, "<html>forbidden</html>", {})))
    with pytest.raises(MarathonAuthError) as e:
        get(client_for(server.url, dcos_username="ops", dcos_password="pw"))
    assert "DC/OS user 'ops'" in str(e.value) and "permissions" in str(e.value)


# ---- logins ---------------------------------------------------------------------------


def test_password_login_once_and_relogin_once_on_401(server):
    server.answers.append(("POST", "/acs/api/v1/auth/login", (200, {"token": "tok-1"}, {})))
    server.answers.append(("GET", "/service/marathon/v2/apps/a", (200, APP, {})))
    server.answers.append(("GET", "/service/marathon/v2/apps/a", (401, "<html></html>", {})))
    server.answers.append(("POST", "/acs/api/v1/auth/login", (200, {"token": "tok-2"}, {})))
    server.answers.append(("GET", "/service/marathon/v2/apps/a", (200, APP, {})))
    module = FakeModule(marathon_url=server.url, dcos_username="ops", dcos_password="pw")
    c = HttpClient(module, sleep=lambda s: None)
    get(c, "/v2/apps/a")
    get(c, "/v2/apps/a")
    methods = [(s["method"], s["path"]) for s in server.seen]
    assert methods[0] == ("POST", "/acs/api/v1/auth/login")
    assert server.seen[0]["body"] == {"uid": "ops", "password": "pw"}
    assert server.seen[1]["headers"]["Authorization"] == "token=tok-1"
    assert server.seen[4]["headers"]["Authorization"] == "token=tok-2"
    assert len(server.seen) == 5
    assert {"tok-1", "tok-2"} <= module.no_log_values


def test_failed_login_is_readable(server):
    body = {"title": "Bad credentials", "description": "The password is wrong.", "code": "ERR_INVALID_CREDENTIALS"}
    server.answers.append(("POST", "/acs/api/v1/auth/login", (401, body, {})))
    with pytest.raises(MarathonAuthError) as e:
        get(client_for(server.url, dcos_username="ops", dcos_password="hunter2"))
    msg = str(e.value)
    assert "ERR_INVALID_CREDENTIALS" in msg and "DC/OS login as user 'ops'" in msg and "hunter2" not in msg
    assert "dcos_username/dcos_password" in msg


def _rsa_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return key.public_key(), pem


@pytest.mark.parametrize("as_file", [False, True])
def test_service_account_login_signs_rs256(server, tmp_path, as_file):
    public, pem = _rsa_pair()
    key_arg = pem
    if as_file:
        path = tmp_path / "sa.pem"
        path.write_text(pem)
        key_arg = str(path)
    server.answers.append(("POST", "/acs/api/v1/auth/login", (200, {"token": "sa-token"}, {})))
    server.answers.append(("GET", None, (200, APP, {})))
    module = FakeModule(marathon_url=server.url, dcos_service_account="deployer", dcos_private_key=key_arg)
    get(HttpClient(module))
    login = server.seen[0]["body"]
    assert login["uid"] == "deployer"
    claims = jwt.decode(login["token"], public, algorithms=["RS256"])
    assert claims["uid"] == "deployer" and claims["exp"] > time.time()
    assert login["token"] in module.no_log_values and "sa-token" in module.no_log_values


@pytest.mark.parametrize("key", ["/nonexistent/key.pem", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"])
def test_bad_private_key_names_the_field(server, key):
    with pytest.raises(MarathonParameterError) as e:
        get(client_for(server.url, dcos_service_account="sa", dcos_private_key=key))
    assert "dcos_private_key" in str(e.value) and "not a key" not in str(e.value)
    assert server.seen == []


# ---- credentials from the environment -------------------------------------------------


def test_env_token_is_sent_and_registered_as_secret(server, monkeypatch):
    monkeypatch.setenv("DCOS_ACS_TOKEN", "env-token-123")
    server.answers.append(("GET", None, (200, APP, {})))
    module = FakeModule(marathon_url=server.url + "/service/marathon")
    get(HttpClient(module))
    assert server.seen[0]["headers"]["Authorization"] == "token=env-token-123"
    assert "env-token-123" in module.no_log_values
