"""Tests of localmarathon.auth: IAM login, Admin Router token check, token expiry."""

from __future__ import annotations

import http.server
import json
import threading
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from localmarathon.auth import LOGIN_PATH, Authenticator


def _rsa_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return key, pub


@pytest.fixture(scope="module")
def sa_keys():
    return _rsa_pair()


@pytest.fixture(scope="module")
def other_key():
    return _rsa_pair()[0]


@pytest.fixture()
def auth(sa_keys):
    return Authenticator(
        {
            "users": {"alice": "s3cret-pw"},
            "service_accounts": {"svc": sa_keys[1]},
            "token_ttl_seconds": 60,
        }
    )


def _login_ok(result):
    status, headers, body = result
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    data = json.loads(body)
    assert set(data) == {"token"}
    return data["token"]


def _service_login_token(key, uid="svc", exp_delta=300, alg="RS256"):
    return jwt.encode({"uid": uid, "exp": int(time.time()) + exp_delta}, key, algorithm=alg)


def test_password_login_returns_token_with_uid_and_exp(auth):
    token = _login_ok(auth.login({"uid": "alice", "password": "s3cret-pw"}))
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["uid"] == "alice"
    assert time.time() + 50 < claims["exp"] <= time.time() + 61
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert auth.check({"Authorization": f"token={token}"}) is None
    assert auth.check({"authorization": f"Bearer {token}"}) is None
    assert auth.check({"Cookie": f"a=b; dcos-acs-auth-cookie={token}"}) is None


def test_login_accepts_raw_json_bytes(auth):
    _login_ok(auth.login(b'{"uid": "alice", "password": "s3cret-pw"}'))


@pytest.mark.parametrize(
    "body",
    [
        {"uid": "alice", "password": "Xy-guess-77"},
        {"uid": "bob", "password": "s3cret-pw"},
        {"uid": "alice", "password": ""},
    ],
)
def test_bad_password_is_iam_401(auth, body):
    status, headers, raw = auth.login(body)
    assert status == 401
    assert headers["Content-Type"] == "application/json"
    data = json.loads(raw)
    assert set(data) == {"title", "description", "code"}
    assert data["code"] == "ERR_INVALID_CREDENTIALS"
    assert "s3cret" not in raw.decode() and "Xy-guess-77" not in raw.decode()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        [1, 2],
        {"password": "x"},
        {"uid": "alice"},
        {"uid": "alice", "password": "x", "token": "y"},
        {"uid": "alice", "password": 5},
        {"uid": 7, "password": "x"},
        {"uid": "svc", "token": {"a": 1}},
    ],
)
def test_malformed_login_is_400(auth, body):
    status, _, raw = auth.login(body)
    assert status == 400
    data = json.loads(raw)
    assert data["code"] == "ERR_INVALID_DATA"
    assert data["description"]


def test_service_account_login(auth, sa_keys):
    token = _login_ok(auth.login({"uid": "svc", "token": _service_login_token(sa_keys[0])}))
    assert jwt.decode(token, options={"verify_signature": False})["uid"] == "svc"
    assert auth.check({"Authorization": f"token={token}"}) is None


@pytest.mark.parametrize(
    "case",
    ["wrong_key", "uid_mismatch", "expired", "unknown_account", "hs256", "garbage", "no_exp"],
)
def test_service_account_login_rejections(auth, sa_keys, other_key, case):
    key = sa_keys[0]
    uid = "svc"
    if case == "wrong_key":
        login_jwt = _service_login_token(other_key)
    elif case == "uid_mismatch":
        login_jwt = _service_login_token(key, uid="alice")
    elif case == "expired":
        login_jwt = _service_login_token(key, exp_delta=-10)
    elif case == "unknown_account":
        login_jwt, uid = _service_login_token(key, uid="ghost"), "ghost"
    elif case == "hs256":
        # A token "signed" with the public key as an HMAC secret must not pass (alg confusion).
        login_jwt = _forge_hs256({"uid": "svc", "exp": int(time.time()) + 60}, sa_keys[1].encode())
    elif case == "garbage":
        login_jwt = "not.a.jwt"
    else:
        login_jwt = jwt.encode({"uid": "svc"}, key, algorithm="RS256")
    status, _, raw = auth.login({"uid": uid, "token": login_jwt})
    assert status == 401
    assert json.loads(raw)["code"] == "ERR_INVALID_CREDENTIALS"


def _forge_hs256(claims, secret: bytes) -> str:
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims).encode())
    sig = hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return f"{head}.{payload}.{b64(sig)}"


def _assert_admin_router_401(result):
    assert result is not None
    status, headers, body = result
    assert status == 401
    assert headers["Content-Type"] == "text/html"
    assert headers["WWW-Authenticate"] == "acsjwt"
    assert body.lstrip().startswith(b"<html>")
    assert b"401" in body


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "token="},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWxpY2U6czNjcmV0LXB3"},
        {"Authorization": "token=abc.def.ghi"},
        {"Cookie": "dcos-acs-auth-cookie="},
    ],
)
def test_missing_or_garbage_token_is_401_html(auth, headers):
    _assert_admin_router_401(auth.check(headers))


def test_forged_token_signed_by_other_key_is_rejected(auth, other_key):
    forged = jwt.encode({"uid": "alice", "exp": int(time.time()) + 60}, other_key, algorithm="RS256")
    _assert_admin_router_401(auth.check({"Authorization": f"token={forged}"}))


def test_tampered_claims_are_rejected(auth):
    token = auth.issue_token("alice")
    head, payload, sig = token.split(".")
    import base64

    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["uid"] = "svc"
    new_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    _assert_admin_router_401(auth.check({"Authorization": f"token={head}.{new_payload}.{sig}"}))


def test_expired_token_is_rejected(auth):
    token = auth.issue_token("alice", ttl_seconds=-1)
    _assert_admin_router_401(auth.check({"Authorization": f"token={token}"}))


def test_expire_all_invalidates_issued_tokens(auth):
    before = _login_ok(auth.login({"uid": "alice", "password": "s3cret-pw"}))
    assert auth.check({"Authorization": f"token={before}"}) is None
    auth.expire_all()
    _assert_admin_router_401(auth.check({"Authorization": f"token={before}"}))
    after = _login_ok(auth.login({"uid": "alice", "password": "s3cret-pw"}))
    assert auth.check({"Authorization": f"token={after}"}) is None


def test_key_file_keeps_tokens_valid_across_restart(tmp_path, sa_keys):
    config = {"users": {"alice": "pw"}}
    first = Authenticator(config, key_file=tmp_path / "key.pem")
    token = first.issue_token("alice")
    assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0
    second = Authenticator(config, key_file=tmp_path / "key.pem")
    assert second.check({"Authorization": f"token={token}"}) is None
    assert Authenticator(config).check({"Authorization": f"token={token}"}) is not None


def test_token_of_removed_user_is_rejected(tmp_path):
    first = Authenticator({"users": {"alice": "pw", "bob": "pw2"}}, key_file=tmp_path / "k.pem")
    token = first.issue_token("bob")
    second = Authenticator({"users": {"alice": "pw"}}, key_file=tmp_path / "k.pem")
    _assert_admin_router_401(second.check({"Authorization": f"token={token}"}))


@pytest.mark.parametrize(
    "config, field",
    [
        ([], "auth config"),
        ({"users": ["alice"]}, "users"),
        ({"users": {"alice": 5}}, "users"),
        ({"service_accounts": {"svc": "not a pem"}}, "service_accounts.svc"),
        ({"service_accounts": {"svc": 3}}, "service_accounts.svc"),
        ({"token_ttl_seconds": 0}, "token_ttl_seconds"),
        ({"token_ttl_seconds": "1h"}, "token_ttl_seconds"),
        ({"userz": {}}, "userz"),
    ],
)
def test_bad_config_names_the_field(config, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        Authenticator(config)


def test_non_rsa_service_account_key_is_rejected():
    pub = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(ValueError, match="RSA"):
        Authenticator({"service_accounts": {"svc": pub}})


def test_none_config_rejects_everyone():
    auth = Authenticator(None)
    assert auth.login({"uid": "root", "password": "root"})[0] == 401
    _assert_admin_router_401(auth.check({}))


def test_secrets_never_logged(auth, sa_keys, caplog):
    caplog.set_level("DEBUG")
    token = _login_ok(auth.login({"uid": "alice", "password": "s3cret-pw"}))
    auth.login({"uid": "alice", "password": "wrong-pw-123"})
    sa_jwt = _service_login_token(sa_keys[0])
    auth.login({"uid": "svc", "token": sa_jwt})
    auth.check({"Authorization": f"token={token}x"})
    text = caplog.text
    assert "alice" in text  # something was logged, so the check below means something
    for secret in ("s3cret-pw", "wrong-pw-123", token, sa_jwt):
        assert secret not in text


def test_over_real_http(auth):
    """Headers arrive as http.client.HTTPMessage in the stdlib server; the 401 reaches a client intact."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, status, headers, body):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._send(*auth.login(raw))

        def do_GET(self):
            denied = auth.check(self.headers)
            if denied:
                self._send(*denied)
            else:
                self._send(200, {"Content-Type": "application/json"}, b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        r = requests.get(base + "/v2/apps", timeout=5)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == "acsjwt"
        assert r.headers["Content-Type"] == "text/html"
        r = requests.post(base + LOGIN_PATH, json={"uid": "alice", "password": "s3cret-pw"}, timeout=5)
        assert r.status_code == 200
        token = r.json()["token"]
        r = requests.get(base + "/v2/apps", headers={"Authorization": f"token={token}"}, timeout=5)
        assert r.status_code == 200
    finally:
        server.shutdown()
        server.server_close()


def test_providers_and_forbidden_pages():
    status, headers, body = Authenticator.providers()
    assert status == 200 and headers["Content-Type"] == "application/json"
    providers = json.loads(body)
    kinds = {p["authentication-type"] for p in providers.values()}
    assert kinds == {"dcos-uid-password", "dcos-uid-servicekey"}
    assert all(p["config"]["start_flow_url"] == LOGIN_PATH for p in providers.values())
    status, headers, body = Authenticator.forbidden()
    assert status == 403 and headers["Content-Type"] == "text/html" and b"403 Forbidden" in body
