"""DC/OS-style authentication in front of localmarathon (``--auth dcos``).

Emulates what a client sees on a DC/OS cluster: the IAM login endpoint
``POST /acs/api/v1/auth/login`` and Admin Router's token check in front of Marathon.

Interface used by the server:

* ``Authenticator(config, key_file=None)`` -- ``config`` is the ``--auth-config`` JSON
  ``{"users": {uid: password}, "service_accounts": {uid: PEM public key}, "token_ttl_seconds": 3600}``
  (every key optional; ``None`` means no accounts at all), plus ``"permissions": {uid: {resource: [actions]}}``
  for the DC/OS ACLs the secret store checks (``allowed``; accounts without an entry are superusers). Raises ``ValueError`` naming the bad field.
  Extra: ``key_file`` (a path) keeps the server's signing key across restarts, the way DC/OS IAM
  outlives a Marathon restart; without it a fresh RSA key is generated per process.
* ``login(body) -> (status, headers, body_bytes)`` -- ``body`` is the parsed JSON (or raw bytes/str,
  parsed here). ``{"uid","password"}`` or ``{"uid","token"}`` where ``token`` is an RS256 JWT signed
  with the service account's private key carrying ``uid`` and ``exp``. 200 ``{"token": <JWT>}``;
  401/400 IAM error JSON ``{"title","description","code"}``.
* ``check(headers) -> None | (status, headers, body_bytes)`` -- ``None`` when the request carries a
  valid token (``Authorization: token=<jwt>``, ``Authorization: Bearer <jwt>`` or the
  ``dcos-acs-auth-cookie`` cookie, as Admin Router accepts); otherwise Admin Router's 401 HTML page
  with ``WWW-Authenticate: acsjwt``. ``headers`` is a mapping or an ``http.client.HTTPMessage``.
* ``expire_all()`` -- every token issued so far stops working (fault ``expire_tokens``).
* Extras: ``issue_token(uid, ttl_seconds=None) -> str`` mints a token for a known account (for tests);
  ``forbidden() -> (403, headers, body)`` Admin Router's 403 page; ``providers() -> (200, headers, body)``
  for ``GET /acs/api/v1/auth/providers`` (public), which the DC/OS CLI reads after its
  ``HEAD /pkgpanda/active.buildinfo.full.json`` challenge (expects 401 + ``WWW-Authenticate``) to pick
  between the uid/password and the service-account login (dcos-cli ``pkg/login``).

Tokens, passwords and keys are never logged or put into error messages.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Mapping

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

log = logging.getLogger(__name__)

LOGIN_PATH = "/acs/api/v1/auth/login"
PROVIDERS_PATH = "/acs/api/v1/auth/providers"
DEFAULT_TTL_SECONDS = 3600
# A service-account login JWT is meant to be short lived (the CLIs use now+5 min); tokens with a
# far-future exp are still accepted, as IAM does.
_JSON = {"Content-Type": "application/json"}

# Admin Router answers rejected requests with nginx's HTML error pages (lib/auth/common.lua exit_401).
_HTML_401 = (
    "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n"
    "<body>\r\n<center><h1>401 Authorization Required</h1></center>\r\n"
    "<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"
)
_HTML_403 = (
    "<html>\r\n<head><title>403 Forbidden</title></head>\r\n"
    "<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n"
    "<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"
)


def _iam_error(status: int, title: str, description: str, code: str):
    body = {"title": title, "description": description, "code": code}
    return status, dict(_JSON), json.dumps(body).encode()


def _invalid_credentials():
    return _iam_error(
        401,
        "Unauthorized",
        "The login request was rejected: invalid credentials (unknown uid, wrong password or bad "
        "service login token).",
        "ERR_INVALID_CREDENTIALS",
    )


def _invalid_data(description: str):
    return _iam_error(400, "Bad Request", description, "ERR_INVALID_DATA")


class Authenticator:
    """Issues and checks DC/OS ACS tokens; thread-safe."""

    def __init__(self, config: dict | None, key_file: str | os.PathLike | None = None):
        config = {} if config is None else config
        if not isinstance(config, dict):
            raise ValueError("auth config: expected a JSON object with users, service_accounts, token_ttl_seconds")
        unknown = set(config) - {"users", "service_accounts", "token_ttl_seconds", "permissions"}
        if unknown:
            raise ValueError(f"auth config: unknown field(s) {sorted(unknown)}; allowed: users, service_accounts, "
                             "token_ttl_seconds, permissions")

        users = config.get("users") or {}
        if not isinstance(users, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in users.items()):
            raise ValueError("auth config field 'users': expected an object mapping uid to password (strings)")
        self._users = dict(users)

        accounts = config.get("service_accounts") or {}
        if not isinstance(accounts, dict):
            raise ValueError("auth config field 'service_accounts': expected an object mapping uid to a PEM public key")
        self._accounts = {}
        for uid, pem in accounts.items():
            if not isinstance(pem, str):
                raise ValueError(f"auth config field 'service_accounts.{uid}': expected a PEM public key string")
            try:
                key = serialization.load_pem_public_key(pem.encode())
            except ValueError:
                raise ValueError(f"auth config field 'service_accounts.{uid}': not a valid PEM public key") from None
            if not isinstance(key, rsa.RSAPublicKey):
                raise ValueError(f"auth config field 'service_accounts.{uid}': must be an RSA public key (RS256)")
            self._accounts[uid] = key

        ttl = config.get("token_ttl_seconds", DEFAULT_TTL_SECONDS)
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl <= 0:
            raise ValueError("auth config field 'token_ttl_seconds': expected a positive number of seconds")
        self.token_ttl_seconds = float(ttl)

        permissions = config.get("permissions") or {}
        if not isinstance(permissions, dict) or not all(
                isinstance(grants, dict) and all(isinstance(a, list) and all(isinstance(x, str) for x in a)
                                                 for a in grants.values())
                for grants in permissions.values()):
            raise ValueError("auth config field 'permissions': expected an object mapping uid to "
                             "{resource: [actions]}")
        self._permissions = {uid: dict(grants) for uid, grants in permissions.items()}

        self._lock = threading.Lock()
        self._key_file = Path(key_file) if key_file is not None else None
        self._key = self._load_or_create_key()

    # -- signing key -------------------------------------------------------------------------

    def _load_or_create_key(self) -> rsa.RSAPrivateKey:
        if self._key_file is not None and self._key_file.exists():
            try:
                key = serialization.load_pem_private_key(self._key_file.read_bytes(), password=None)
            except ValueError:
                raise ValueError(f"auth key file {self._key_file}: not a PEM private key") from None
            if isinstance(key, rsa.RSAPrivateKey):
                return key
            raise ValueError(f"auth key file {self._key_file}: not an RSA private key")
        return self._new_key()

    def _new_key(self) -> rsa.RSAPrivateKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if self._key_file is not None:
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            tmp = self._key_file.with_name(self._key_file.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            os.replace(tmp, self._key_file)
        return key

    def expire_all(self) -> None:
        """Invalidate every token issued so far by switching to a new signing key."""
        new_key = self._new_key()
        with self._lock:
            self._key = new_key
        log.info("auth: all issued tokens invalidated")

    # -- tokens ------------------------------------------------------------------------------

    def issue_token(self, uid: str, ttl_seconds: float | None = None) -> str:
        if uid not in self._users and uid not in self._accounts:
            raise ValueError(f"issue_token: unknown uid {uid!r}")
        ttl = self.token_ttl_seconds if ttl_seconds is None else ttl_seconds
        now = int(time.time())
        claims = {"uid": uid, "exp": now + int(ttl)}
        with self._lock:
            key = self._key
        return jwt.encode(claims, key, algorithm="RS256")

    def _verify(self, token: str) -> str | None:
        with self._lock:
            key = self._key
        try:
            claims = jwt.decode(
                token,
                key.public_key(),
                algorithms=["RS256"],
                options={"require": ["exp", "uid"]},
            )
        except jwt.PyJWTError:
            return None
        uid = claims.get("uid")
        # An account removed from the config cannot keep using old tokens.
        if not isinstance(uid, str) or (uid not in self._users and uid not in self._accounts):
            return None
        return uid

    # -- login -------------------------------------------------------------------------------

    def login(self, body: Any):
        if isinstance(body, (bytes, bytearray, str)):
            try:
                body = json.loads(body)
            except ValueError:
                return _invalid_data("Request body is not valid JSON.")
        if not isinstance(body, dict):
            return _invalid_data("Request body must be a JSON object with 'uid' and 'password' or 'token'.")
        uid = body.get("uid")
        if not isinstance(uid, str) or not uid:
            return _invalid_data("Field 'uid' is required and must be a non-empty string.")
        password = body.get("password")
        login_token = body.get("token")
        if password is not None and login_token is not None:
            return _invalid_data("Give either 'password' or 'token', not both.")
        if password is None and login_token is None:
            return _invalid_data("Field 'password' (user) or 'token' (service account) is required.")

        if password is not None:
            if not isinstance(password, str):
                return _invalid_data("Field 'password' must be a string.")
            expected = self._users.get(uid)
            # compare_digest on a dummy too, so unknown uids take the same time.
            ok = hmac.compare_digest(password.encode(), (expected or "\0").encode()) and expected is not None
            if not ok:
                log.info("auth: login rejected for uid %r (password)", uid)
                return _invalid_credentials()
        else:
            if not isinstance(login_token, str):
                return _invalid_data("Field 'token' must be a string (an RS256 JWT).")
            public_key = self._accounts.get(uid)
            if public_key is None or not self._service_login_ok(uid, login_token, public_key):
                log.info("auth: login rejected for uid %r (service account)", uid)
                return _invalid_credentials()

        token = self.issue_token(uid)
        log.info("auth: login ok for uid %r", uid)
        return 200, dict(_JSON), json.dumps({"token": token}).encode()

    @staticmethod
    def _service_login_ok(uid: str, token: str, public_key) -> bool:
        try:
            claims = jwt.decode(
                token,
                public_key,
                algorithms=["RS256"],
                options={"require": ["exp", "uid"]},
            )
        except jwt.PyJWTError:
            return False
        return claims.get("uid") == uid

    # -- request check -----------------------------------------------------------------------

    @staticmethod
    def _header(headers: Mapping[str, str] | Any, name: str) -> str | None:
        if headers is None:
            return None
        items = headers.items()
        lname = name.lower()
        for key, value in items:
            if isinstance(key, str) and key.lower() == lname:
                return value
        return None

    def _extract_token(self, headers) -> str | None:
        auth = self._header(headers, "Authorization")
        if auth:
            auth = auth.strip()
            if auth.startswith("token="):
                return auth[len("token="):].strip() or None
            scheme, _, rest = auth.partition(" ")
            if scheme.lower() == "bearer":
                return rest.strip() or None
            return None
        cookie = self._header(headers, "Cookie")
        if cookie:
            for part in cookie.split(";"):
                name, _, value = part.strip().partition("=")
                if name == "dcos-acs-auth-cookie" and value:
                    return value
        return None

    def check(self, headers):
        token = self._extract_token(headers)
        if token is not None and self._verify(token) is not None:
            return None
        return self.unauthorized()

    def authenticated_uid(self, headers) -> str | None:
        """The uid of a valid token in ``headers``, else None."""
        token = self._extract_token(headers)
        return None if token is None else self._verify(token)

    def allowed(self, uid: str | None, resource: str, action: str) -> bool:
        """Whether ``uid`` holds ``action`` on ``resource`` (DC/OS ACLs: ``full`` covers every action,
        ``dcos:superuser`` every resource, a resource ending in ``/*`` everything below it). An account
        without an entry in ``permissions`` is a superuser, as the bootstrap user of a cluster is."""
        if uid is None:
            return False
        grants = self._permissions.get(uid)
        if grants is None:
            return True
        for granted, actions in grants.items():
            if action not in actions and "full" not in actions:
                continue
            if granted == "dcos:superuser" or granted == resource:
                return True
            if granted.endswith("/*") and resource.startswith(granted[:-1]):
                return True
        return False

    @staticmethod
    def unauthorized():
        headers = {"Content-Type": "text/html", "WWW-Authenticate": "acsjwt"}
        return 401, headers, _HTML_401.encode()

    @staticmethod
    def providers():
        def provider(kind: str, method: str) -> dict:
            return {
                "authentication-type": kind,
                "client-method": method,
                "config": {"start_flow_url": LOGIN_PATH},
                "description": "Default DC/OS login provider",
            }

        body = {
            "dcos-users": provider("dcos-uid-password", "dcos-usercredential-post-receive-authtoken"),
            "dcos-services": provider("dcos-uid-servicekey", "dcos-servicecredential-post-receive-authtoken"),
        }
        return 200, dict(_JSON), json.dumps(body).encode()

    @staticmethod
    def forbidden():
        return 403, {"Content-Type": "text/html"}, _HTML_403.encode()
