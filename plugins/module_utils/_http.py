# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""HTTP client for Marathon (plain or behind DC/OS Admin Router): base URL, DC/OS logins,
TLS, retries of requests that are safe to repeat, and HTTP errors turned into MarathonError.

Private module_utils: not a public API.

Base URL rule (also in the ``connection`` doc fragment):

* ``marathon_url`` with a path (for example ``https://dcos.example.com/service/marathon``)
  is used as given.
* ``marathon_url`` without a path is a *DC/OS cluster URL* (and ``/service/marathon`` is
  appended) when DC/OS credentials are given and ``dcos_url`` is unset or names the same
  host; otherwise it is a plain Marathon URL (``http://marathon.example.com:8080``).
* Logins go to ``dcos_url`` when given, else to the cluster root of ``marathon_url``.

A request that is not safe to repeat (a write) is sent once: when its answer is lost the
client raises AnswerLost and the caller, which knows what the write should change, decides
whether to look and send it again.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import traceback
import warnings
from urllib.parse import urlsplit, urlunsplit

from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.dcos.marathon.plugins.module_utils._arguments import SECRET_CREDENTIALS, credentials_from_env
from ansible_collections.dcos.marathon.plugins.module_utils._errors import (
    MarathonAuthError,
    MarathonConnectionError,
    MarathonParameterError,
    http_error,
    redact_url,
    scheme_mismatch_hint,
    wrong_url_hint,
)

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import InsecureRequestWarning
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None


def _import_jwt():
    """PyJWT (with cryptography), imported only for service-account logins: it costs
    tens of milliseconds, which every no-change task would pay otherwise."""
    try:
        import jwt
    except ImportError:
        return None
    return jwt


DCOS_MARATHON_PATH = "/service/marathon"
LOGIN_PATH = "/acs/api/v1/auth/login"
RETRY_STATUSES = frozenset((502, 503, 504))
# Backoff before retries: 0.5 s, 1 s, 2 s, ... capped (see pause_before_retry).
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
SERVICE_LOGIN_TOKEN_TTL = 300


class MarathonResponse:
    """One HTTP answer: status, decoded body (JSON, else text) and headers."""

    __slots__ = ("status", "body", "headers")

    def __init__(self, status, body, headers=None):
        self.status = status
        self.body = body
        self.headers = headers or {}

    @property
    def deployment_id(self):
        """Deployment id from the header, the body, or the embedded deployments."""
        dep = self.headers.get("Marathon-Deployment-Id") if self.headers else None
        if dep:
            return dep
        if isinstance(self.body, dict):
            if self.body.get("deploymentId"):
                return self.body["deploymentId"]
            deps = self.body.get("deployments")
            if isinstance(deps, list) and deps and isinstance(deps[0], dict):
                return deps[0].get("id")
        return None


class AnswerLost(Exception):
    """A request that is not safe to repeat got no usable answer (the connection failed, the
    answer timed out, or a proxy answered 502, 503 or 504), so whether Marathon applied it is
    unknown. Only the caller knows how to tell whether it did; it may send it again, or give up
    with ``failure(attempts)``."""

    def __init__(self, in_flight, failure):
        super().__init__("the answer to a write was lost")
        # True after a read timeout: Marathon got the request and may still apply it later.
        self.in_flight = in_flight
        self._failure = failure

    def failure(self, attempts):
        """The MarathonError that reports the lost answer after ``attempts`` sends."""
        return self._failure(attempts)


class HttpClient:
    """Talks HTTP to Marathon for one module run (one requests.Session, one token).

    ``module`` needs ``params`` and may offer ``no_log_values`` (a set, tokens are
    added so they are masked everywhere) and ``warn``.
    """

    def __init__(self, module, sleep=None):
        self.module = module
        self.params = credentials_from_env(module.params)
        for name in SECRET_CREDENTIALS:
            # Values from the environment are not known to Ansible's no_log machinery.
            self._remember_secret(self.params.get(name))
        self._sleep = sleep or time.sleep
        self.timeout = self._positive_float("request_timeout", 30.0)
        self.retries = self.params.get("retries")
        if self.retries is None:
            self.retries = 3
        if self.retries < 0:
            raise MarathonParameterError("retries must be 0 or more, got %s" % self.retries)
        self.base_url, self.login_base = self._resolve_urls()
        self.auth_kind = self._auth_kind()
        self._token = self.params.get("dcos_acs_token") or None
        self._logins = 0
        self.session = requests.Session()
        self._configure_tls()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "dcos.marathon-ansible"})
        # Retries are ours (method-aware); keep urllib3 from retrying behind our back.
        adapter = HTTPAdapter(max_retries=0, pool_connections=2, pool_maxsize=4)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    # ---- configuration ---------------------------------------------------------------

    def _positive_float(self, name, default):
        value = self.params.get(name)
        if value is None:
            return default
        if value <= 0:
            raise MarathonParameterError("%s must be greater than 0, got %s" % (name, value))
        return float(value)

    @staticmethod
    def _split(url, field):
        try:
            parts = urlsplit(url)
        except ValueError as e:
            raise MarathonParameterError("%s is not a valid URL: %s" % (field, to_native(e)))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MarathonParameterError(
                "%s must be an http:// or https:// URL with a host name, got '%s'" % (field, redact_url(url))
            )
        return parts

    def _resolve_urls(self):
        marathon_url = (self.params.get("marathon_url") or "").strip()
        if not marathon_url:
            raise MarathonParameterError("marathon_url is required (or set MARATHON_URL)")
        m = self._split(marathon_url, "marathon_url")
        dcos_url = (self.params.get("dcos_url") or "").strip() or None
        d = self._split(dcos_url, "dcos_url") if dcos_url else None
        has_creds = bool(
            self.params.get("dcos_acs_token") or self.params.get("dcos_username") or self.params.get("dcos_service_account")
        )
        path = m.path.rstrip("/")
        if path:
            base = urlunsplit((m.scheme, m.netloc, path, "", ""))
        elif (d is not None and d.netloc == m.netloc) or (d is None and has_creds):
            base = urlunsplit((m.scheme, m.netloc, DCOS_MARATHON_PATH, "", ""))
        else:
            base = urlunsplit((m.scheme, m.netloc, "", "", ""))
        if d is not None:
            login_base = urlunsplit((d.scheme, d.netloc, d.path.rstrip("/"), "", ""))
        else:
            root = path[: -len(DCOS_MARATHON_PATH)] if path.endswith(DCOS_MARATHON_PATH) else ""
            login_base = urlunsplit((m.scheme, m.netloc, root, "", ""))
        return base, login_base

    def _auth_kind(self):
        if self.params.get("dcos_acs_token"):
            return "token"
        if self.params.get("dcos_username"):
            if not self.params.get("dcos_password"):
                raise MarathonParameterError("dcos_password is required with dcos_username")
            return "password"
        if self.params.get("dcos_service_account"):
            if not self.params.get("dcos_private_key"):
                raise MarathonParameterError("dcos_private_key is required with dcos_service_account")
            if _import_jwt() is None:
                raise MarathonParameterError(
                    "the Python library 'PyJWT' (with 'cryptography') is required for dcos_service_account logins"
                )
            return "service_account"
        if self.params.get("dcos_password"):
            raise MarathonParameterError("dcos_username is required with dcos_password")
        if self.params.get("dcos_private_key"):
            raise MarathonParameterError("dcos_service_account is required with dcos_private_key")
        return "none"

    def describe_credentials(self):
        if self.auth_kind == "token":
            return "the DC/OS token from dcos_acs_token"
        if self.auth_kind == "password":
            return "a login as DC/OS user '%s' (dcos_username/dcos_password)" % self.params.get("dcos_username")
        if self.auth_kind == "service_account":
            return "a login as DC/OS service account '%s' (dcos_service_account/dcos_private_key)" % self.params.get(
                "dcos_service_account"
            )
        return "no credentials"

    def _configure_tls(self):
        if not self.params.get("validate_certs", True):
            self.session.verify = False
            warn = getattr(self.module, "warn", None)
            if callable(warn):
                warn("validate_certs=false: the TLS certificate of %s is not checked, so the connection (and any "
                     "credentials sent) can be intercepted; use ca_path instead" % redact_url(self.base_url))
            warnings.simplefilter("ignore", InsecureRequestWarning)
        elif self.params.get("ca_path"):
            ca = self.params["ca_path"]
            if not os.path.exists(ca):
                raise MarathonParameterError("ca_path '%s' does not exist" % ca)
            self.session.verify = ca
        cert, key = self.params.get("client_cert"), self.params.get("client_key")
        if key and not cert:
            raise MarathonParameterError("client_key needs client_cert")
        for name, value in (("client_cert", cert), ("client_key", key)):
            if value and not os.path.isfile(value):
                raise MarathonParameterError("%s '%s' is not a readable file" % (name, value))
        if cert:
            self.session.cert = (cert, key) if key else cert

    # ---- auth ------------------------------------------------------------------------

    def _remember_secret(self, value):
        # Anything Ansible prints later (results, -vvv invocation) is scrubbed of it.
        nlv = getattr(self.module, "no_log_values", None)
        if value and isinstance(nlv, set):
            nlv.add(value)

    def _private_key(self):
        raw = self.params.get("dcos_private_key") or ""
        if "-----BEGIN" in raw:
            return raw
        path = os.path.expanduser(raw)
        if not os.path.isfile(path):
            raise MarathonParameterError("dcos_private_key is neither PEM content nor a readable file")
        try:
            with open(path, "r") as f:
                content = f.read()
        except (IOError, OSError) as e:
            raise MarathonParameterError("dcos_private_key file cannot be read: %s" % e.strerror)
        if "-----BEGIN" not in content:
            raise MarathonParameterError("dcos_private_key file does not contain a PEM private key")
        return content

    def _login_body(self):
        if self.auth_kind == "password":
            return {"uid": self.params["dcos_username"], "password": self.params["dcos_password"]}
        uid = self.params["dcos_service_account"]
        claims = {"uid": uid, "exp": int(time.time()) + SERVICE_LOGIN_TOKEN_TTL}
        jwt = _import_jwt()
        try:
            signed = jwt.encode(claims, self._private_key(), algorithm="RS256")
        except MarathonParameterError:
            raise
        except Exception as e:  # PyJWT/cryptography raise several types for bad keys
            raise MarathonParameterError(
                "dcos_private_key could not be used to sign an RS256 login token (%s)" % type(e).__name__
            )
        signed = to_text(signed)
        self._remember_secret(signed)
        return {"uid": uid, "token": signed}

    def login(self):
        """Get a DC/OS token with the configured credentials (cached for this run)."""
        url = self.login_base + LOGIN_PATH
        body = self._login_body()
        self._logins += 1
        # Logging in changes nothing on the server, so it may be repeated.
        resp = self._transmit("POST", url, None, body, idempotent=True, auth=False)
        if resp.status != 200:
            err = http_error("POST", url, resp.status, resp.body, resp.headers.get("Content-Type"))
            raise MarathonAuthError(
                "DC/OS login as %s failed: %s" % (self._login_identity(), err.message),
                status=resp.status,
                body=resp.body if isinstance(resp.body, dict) else None,
                url=url,
                method="POST",
                hint=self._auth_hint(resp.status, login=True),
            )
        token = resp.body.get("token") if isinstance(resp.body, dict) else None
        if not token:
            raise MarathonAuthError("DC/OS login at %s returned no token" % redact_url(url), status=resp.status, url=url, method="POST")
        self._token = token
        self._remember_secret(token)
        return token

    def _login_identity(self):
        if self.auth_kind == "password":
            return "user '%s' (dcos_username/dcos_password)" % self.params.get("dcos_username")
        return "service account '%s' (dcos_service_account/dcos_private_key)" % self.params.get("dcos_service_account")

    def _auth_hint(self, status, login=False):
        kind = self.auth_kind
        if login:
            if kind == "password":
                return "Check dcos_username/dcos_password and dcos_url"
            return "Check that the service account exists, that dcos_private_key is its private key, and dcos_url"
        if status == 401:
            if kind == "none":
                return (
                    "The server requires DC/OS authentication: set dcos_acs_token, dcos_username/dcos_password "
                    "or dcos_service_account/dcos_private_key"
                )
            if kind == "token":
                return "Check that dcos_acs_token is valid and not expired (dcos config show core.dcos_acs_token)"
            return "The login succeeded but the token was refused; check the clock and the cluster's IAM"
        if status == 403:
            who = {
                "token": "the owner of dcos_acs_token",
                "password": "DC/OS user '%s'" % self.params.get("dcos_username"),
                "service_account": "DC/OS service account '%s'" % self.params.get("dcos_service_account"),
                "none": "anonymous requests",
            }[kind]
            return "Access denied for %s; check its permissions (dcos:service:marathon:marathon:services:/...)" % who
        return None

    # ---- transport -------------------------------------------------------------------

    def url(self, path):
        """The full URL of an API path (as shown in messages, without query)."""
        return self.base_url + path

    def pause_before_retry(self, attempt):
        """Sleep before retry number ``attempt + 1``: 0.5 s, 1 s, 2 s, ... capped, with a
        little jitter so parallel hosts spread out."""
        delay = min(BACKOFF_CAP, BACKOFF_BASE * (2**attempt))
        self._sleep(delay * (0.9 + 0.2 * random.random()))

    def _transmit(self, method, url, params, json_body, idempotent, auth=True):
        """Send, repeating an idempotent request after a lost answer. Returns a MarathonResponse
        for any other HTTP status; a lost answer to a request that is not idempotent raises
        AnswerLost at once."""
        attempt = 0
        while True:
            resp, error = self._exchange(method, url, params, json_body, auth)
            if error is None and resp.status not in RETRY_STATUSES:
                return resp
            if not idempotent:
                raise AnswerLost(
                    isinstance(error, requests.exceptions.ReadTimeout),
                    lambda attempts: self._lost_answer_error(method, url, params, attempts, resp, error),
                )
            if attempt >= self.retries:
                if error is None:
                    return resp  # reported like any other HTTP error answer
                raise self._lost_answer_error(method, url, params, attempt + 1, resp, error)
            self.pause_before_retry(attempt)
            attempt += 1

    def _exchange(self, method, url, params, json_body, auth):
        """One HTTP exchange: (MarathonResponse, None), or (None, error) when the connection
        failed or timed out. Other failures, such as TLS errors, do not heal and raise."""
        headers = {}
        if auth and self._token:
            headers["Authorization"] = "token=%s" % self._token
        if json_body is not None:
            headers["Content-Type"] = "application/json"
        try:
            r = self.session.request(
                method,
                url,
                params=params,
                data=json.dumps(json_body) if json_body is not None else None,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=method in ("GET", "HEAD"),
                # Per request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override session.verify,
                # which would silently ignore ca_path and validate_certs=false.
                verify=self.session.verify,
            )
        except requests.exceptions.SSLError as e:
            raise MarathonConnectionError(
                "%s %s failed: TLS error (%s)" % (method, redact_url(url), _short_exc(e)),
                url=url,
                method=method,
                hint=scheme_mismatch_hint(url, to_native(e), self._url_option(url))
                or "Check validate_certs, ca_path, client_cert and client_key",
            )
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
            return None, e
        except requests.exceptions.RequestException as e:
            raise MarathonConnectionError(
                "%s %s failed: %s" % (method, redact_url(url), _short_exc(e)), url=url, method=method
            )
        return MarathonResponse(r.status_code, _decode(r), r.headers), None

    def _lost_answer_error(self, method, url, params, attempts, resp, error):
        """The error for a request given up after ``attempts`` sends, the last one ending in
        ``error`` (no answer) or in ``resp`` (502, 503 or 504)."""
        if error is None:
            return self._status_error(method, url, params, resp)
        option = self._url_option(url)
        hint = "Check %s, that Marathon is running, and request_timeout" % option
        mismatch = scheme_mismatch_hint(url, to_native(error), option)
        return MarathonConnectionError(
            "%s %s failed after %d attempt(s): %s" % (method, redact_url(url), attempts, self._describe_failure(error)),
            url=url,
            method=method,
            hint="%s; %s" % (hint, mismatch[0].lower() + mismatch[1:]) if mismatch else hint,
        )

    def _describe_failure(self, error):
        """Why no answer came. Timeouts are told by request_timeout, not by urllib3's text,
        which says "timed out" once more."""
        if isinstance(error, requests.exceptions.ConnectTimeout):
            return "timed out connecting within %gs" % self.timeout
        if isinstance(error, requests.exceptions.Timeout):
            return "timed out waiting %gs for an answer" % self.timeout
        return "could not connect (%s)" % _short_exc(error)

    def _url_option(self, url):
        """The option a request URL came from, for hints: logins may go to dcos_url."""
        if self.params.get("dcos_url") and not url.startswith(self.base_url + "/"):
            return "dcos_url"
        return "marathon_url"

    def request(self, method, path, params=None, json_body=None, idempotent=None, cluster=False):
        """One Marathon API call; raises MarathonError for 4xx/5xx.

        ``idempotent`` defaults to True for GET/HEAD/DELETE (idempotent by id); such a request
        is repeated after a lost answer. For any other request a lost answer raises AnswerLost.
        ``cluster=True`` sends it to the cluster root (where logins go) instead of Marathon:
        DC/OS services beside Marathon, such as the secret store.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "DELETE")
        url = (self.login_base if cluster else self.base_url) + path
        if self.auth_kind in ("password", "service_account") and not self._token:
            self.login()
        resp = self._transmit(method, url, params, json_body, idempotent)
        if resp.status == 401 and self.auth_kind in ("password", "service_account") and self._logins < 2:
            # Token expired during the run: one fresh login, then the same request again.
            self._token = None
            self.login()
            resp = self._transmit(method, url, params, json_body, idempotent)
        if resp.status >= 400:
            raise self._status_error(method, url, params, resp, marathon=not cluster)
        return resp

    def _status_error(self, method, url, params, resp, marathon=True):
        """The MarathonError for an HTTP error answer, with a hint on credentials or the URL."""
        ctype = resp.headers.get("Content-Type") if resp.headers else None
        if resp.status in (401, 403):
            hint = self._auth_hint(resp.status)
            www = resp.headers.get("WWW-Authenticate") if resp.headers else None
            extra = "sent %s%s" % (self.describe_credentials(), (", server asks for '%s'" % www) if www else "")
            hint = "%s (%s)" % (hint, extra) if hint else extra
        else:
            hint = wrong_url_hint(resp.status, resp.body, self.params.get("marathon_url")) if marathon else None
        full_url = url
        if params:
            full_url = "%s?%s" % (url, "&".join("%s=%s" % (k, v) for k, v in _param_items(params)))
        return http_error(method, full_url, resp.status, resp.body, ctype, hint=hint)


def _param_items(params):
    return params.items() if isinstance(params, dict) else params


def _decode(r):
    text = r.text
    if not text:
        return None
    ctype = (r.headers.get("Content-Type") or "").lower()
    if "json" in ctype or text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _short_exc(e):
    text = to_native(e)
    # urllib3 wraps the socket error in pool/retry text; the errno part is what helps.
    match = re.search(r"\[SSL: [A-Z_]+\][^'\")]*", text) or re.search(r"\[Errno -?\d+\] [^'\")\]]+", text)
    if match:
        found = match.group(0).strip()
        return found + ")" * (found.count("(") - found.count(")"))
    if "timed out" in text.lower():
        return "timed out"
    if len(text) > 200:
        text = text[:200] + "..."
    return text
