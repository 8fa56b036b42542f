"""DC/OS Enterprise's secret store (``--enterprise``): the Secrets API under ``/secrets/v1`` at the
cluster root, and the values Marathon's secrets plugin puts into a task.

The Secrets API (DC/OS ``api/secrets.yaml``, the same from DC/OS 1.10 to 2.2):

* ``GET /secret/default/{path}`` 200 ``{"value": ...}``, 404; ``?list=true`` 200 ``{"array": [keys]}``
  (relative to the folder, recursive; an unknown folder gives an empty list, not 404);
* ``PUT`` creates: 201, or 409 when it exists; ``PATCH`` updates: 204, or 404; ``DELETE``: 204, or 404;
* ``GET /store``, ``GET /store/default``, ``GET /seal-status/default``, ``PUT /seal/default``,
  ``PUT /unseal/default``, ``GET /ping``.

Paths have no leading ``/``; ``default`` is the only store. With ``--auth dcos`` each call needs the
permission of its action (GET read, PUT create, PATCH update, DELETE delete) on
``dcos:secrets:default:/<path>`` (``auth.Authenticator.allowed``); missing it answers 403.

While the store is sealed every secret call answers 503 (DC/OS documents only that values cannot be
read then; the store is Vault, which answers 503 when sealed).

Values are kept in DATA/secrets.json (mode 0600) so a restarted server still has them, as the
secret store outlives Marathon. A value never goes into a log line, an error message or an event.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

PREFIX = "/secrets/v1"
STORE = "default"
_JSON = {"Content-Type": "application/json"}
# GET read, PUT create, PATCH update, DELETE delete (the permission reference's action names).
ACTIONS = {"GET": "read", "PUT": "create", "PATCH": "update", "DELETE": "delete"}
MAX_VALUE_BYTES = 1024 * 1024 - 1024


def _error(status: int, code: str, description: str):
    body = {"code": code, "description": description}
    return status, dict(_JSON), json.dumps(body).encode()


def permission(path: str) -> str:
    """The ACL resource that guards one secret."""
    return f"dcos:secrets:{STORE}:/{path}"


def valid_path(path: str) -> bool:
    return bool(path) and not path.startswith("/") and not path.endswith("/") and "//" not in path \
        and all(part not in (".", "..") for part in path.split("/"))


class SecretStore:
    """The values, the seal, and the HTTP API over them; thread-safe."""

    def __init__(self, data_dir, authorizer=None):
        self.path = Path(data_dir) / "secrets.json"
        self._lock = threading.Lock()
        self._authorizer = authorizer  # (uid, resource, action) -> bool; None: everyone may
        self.sealed = False
        self._values: dict[str, str] = self._load()

    # -- persistence ---------------------------------------------------------------------------

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{self.path}: not a localmarathon secrets file")
        return data

    def _save(self) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".secrets.", suffix=".tmp", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(self._values, fh)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # -- what the agent asks ---------------------------------------------------------------------

    def value(self, path: str) -> str | None:
        """The value of a secret for a task (None: missing, or the store is sealed)."""
        with self._lock:
            if self.sealed:
                return None
            return self._values.get(path)

    def paths(self) -> list[str]:
        with self._lock:
            return sorted(self._values)

    # -- HTTP ------------------------------------------------------------------------------------

    def handle(self, method: str, sub: str, params: dict, body: bytes, uid: str | None):
        """One request below /secrets/v1: (status, headers, body bytes)."""
        if sub == "/ping" and method == "GET":
            return 200, {"Content-Type": "text/plain"}, b"pong"
        if sub == "/store" and method == "GET":
            return 200, dict(_JSON), json.dumps({"array": [self._backend()]}).encode()
        if sub == f"/store/{STORE}" and method == "GET":
            return 200, dict(_JSON), json.dumps(self._backend()).encode()
        if sub == f"/seal-status/{STORE}" and method == "GET":
            status = {"sealed": self.sealed, "threshold": 1, "shares": 1, "progress": 0}
            return 200, dict(_JSON), json.dumps(status).encode()
        if sub in (f"/seal/{STORE}", f"/unseal/{STORE}") and method == "PUT":
            if not self._may(uid, f"dcos:secrets:{STORE}:/", "full"):
                return self._forbidden(f"dcos:secrets:{STORE}:/", "full")
            with self._lock:
                self.sealed = sub.startswith("/seal/")
            return 200, dict(_JSON), json.dumps({"sealed": self.sealed}).encode()
        prefix = f"/secret/{STORE}"
        if sub == prefix or sub.startswith(prefix + "/"):
            return self._secret(method, sub[len(prefix) + 1:], params, body, uid)
        if sub.startswith("/secret/"):
            return _error(404, "ERR_STORE_NOT_FOUND", "Only the secret store 'default' exists")
        return _error(404, "ERR_NOT_FOUND", f"Unknown endpoint {PREFIX}{sub}")

    def _backend(self) -> dict:
        return {"name": STORE, "description": "DC/OS Default Secret Store (localmarathon)",
                "driver": "vault", "initialized": True, "sealed": self.sealed}

    def _may(self, uid, resource, action) -> bool:
        return self._authorizer is None or self._authorizer(uid, resource, action)

    @staticmethod
    def _forbidden(resource, action):
        return _error(403, "ERR_FORBIDDEN", f"Forbidden: the request needs {resource} {action}")

    def _secret(self, method, path, params, body, uid):
        listing = method == "GET" and str((params.get("list") or [""])[0]).lower() == "true"
        if listing:
            resource = f"dcos:secrets:list:{STORE}:/{path.strip('/')}"
            if not self._may(uid, resource, "read"):
                return self._forbidden(resource, "read")
        else:
            if method not in ACTIONS:
                return _error(405, "ERR_METHOD_NOT_ALLOWED", f"{method} is not allowed on a secret")
            if not valid_path(path):
                return _error(400, "ERR_INVALID_PATH",
                              "A secret path is one or more names separated by '/', without a leading or "
                              "trailing '/'")
            if not self._may(uid, permission(path), ACTIONS[method]):
                return self._forbidden(permission(path), ACTIONS[method])
        if self.sealed:
            return _error(503, "ERR_SEALED", f"The secret store '{STORE}' is sealed")
        if listing:
            folder = path.strip("/")
            with self._lock:
                keys = sorted(k[len(folder) + 1:] if folder else k for k in self._values
                              if not folder or k.startswith(folder + "/"))
            return 200, dict(_JSON), json.dumps({"array": keys}).encode()
        if method == "GET":
            with self._lock:
                value = self._values.get(path)
            if value is None:
                return _error(404, "ERR_SECRET_NOT_FOUND", f"Secret '{path}' not found")
            return 200, dict(_JSON), json.dumps({"value": value}).encode()
        if method == "DELETE":
            with self._lock:
                if self._values.pop(path, None) is None:
                    return _error(404, "ERR_SECRET_NOT_FOUND", f"Secret '{path}' not found")
                self._save()
            return 204, {}, b""
        value, problem = _read_value(body)
        if problem:
            return _error(400, "ERR_INVALID_DATA", problem)
        with self._lock:
            exists = path in self._values
            if method == "PUT" and exists:
                return _error(409, "ERR_SECRET_EXISTS", f"Secret '{path}' already exists")
            if method == "PATCH" and not exists:
                return _error(404, "ERR_SECRET_NOT_FOUND", f"Secret '{path}' not found")
            self._values[path] = value
            self._save()
        return (201 if method == "PUT" else 204), {}, b""


def _read_value(body: bytes):
    """(value, None) from a Secret body, or (None, problem); the problem never quotes the body."""
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return None, "The request body is not valid JSON"
    if not isinstance(data, dict):
        return None, "The request body must be a JSON object"
    unknown = set(data) - {"value", "author", "created", "description", "labels"}
    if unknown:
        return None, f"Unknown field(s) {sorted(unknown)} in the secret"
    value = data.get("value")
    if not isinstance(value, str):
        return None, "Field 'value' is required and must be a string"
    if len(value.encode()) > MAX_VALUE_BYTES:
        return None, "The secret is too large"
    return value, None


def space_allows(app_id: str, path: str) -> bool:
    """Whether an app may read a secret: the secret's folder is the app id or one of its groups
    (a secret without a folder is readable by every app)."""
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    if not folder:
        return True
    app_parts = [p for p in app_id.split("/") if p]
    folder_parts = folder.split("/")
    return app_parts[:len(folder_parts)] == folder_parts
