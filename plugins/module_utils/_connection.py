# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""HTTP client for Marathon (plain or behind DC/OS Admin Router).

Private module_utils: not a public API.

Base URL rule (also in the ``connection`` doc fragment):

* ``marathon_url`` with a path (for example ``https://dcos.example.com/service/marathon``)
  is used as given.
* ``marathon_url`` without a path is a *DC/OS cluster URL* (and ``/service/marathon`` is
  appended) when DC/OS credentials are given and ``dcos_url`` is unset or names the same
  host; otherwise it is a plain Marathon URL (``http://marathon.example.com:8080``).
* Logins go to ``dcos_url`` when given, else to the cluster root of ``marathon_url``.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import traceback

from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import canonical_app_id as _spec_canonical_app_id
from ansible_collections.dcos.marathon.plugins.module_utils._arguments import SECRET_CREDENTIALS, credentials_from_env
from ansible_collections.dcos.marathon.plugins.module_utils._errors import (
    MarathonAuthError,
    MarathonConnectionError,
    MarathonError,
    MarathonParameterError,
    http_error,
    is_app_not_found,
    marathon_url_hint,
    redact_url,
    scheme_mismatch_hint,
    wrong_url_hint,
)

try:
    import requests
    from requests.adapters import HTTPAdapter
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


try:
    from urllib.parse import quote, urlsplit, urlunsplit
except ImportError:  # pragma: no cover
    quote = urlsplit = urlunsplit = None


DCOS_MARATHON_PATH = "/service/marathon"
LOGIN_PATH = "/acs/api/v1/auth/login"
RETRY_STATUSES = frozenset((502, 503, 504))
# Backoff: 0.5 s, 1 s, 2 s, ... capped, with a little jitter so parallel hosts spread out.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
SERVICE_LOGIN_TOKEN_TTL = 300


class MarathonResponse(object):
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


def canonical_app_id(app_id):
    """The app-spec canonical id, refusing non-strings before they reach a URL."""
    if not isinstance(app_id, str):
        raise MarathonParameterError("app id must be a string, got %s" % type(app_id).__name__)
    return _spec_canonical_app_id(app_id)


def app_path(app_id, suffix=""):
    """URL path for an app id, each segment quoted."""
    cid = canonical_app_id(app_id)
    return "/v2/apps/" + quote(cid.lstrip("/"), safe="/") + suffix


class MarathonClient(object):
    """Talks to Marathon for one module run (one requests.Session, one token).

    ``module`` needs ``params`` and may offer ``no_log_values`` (a set, tokens are
    added so they are masked everywhere) and ``warn``.
    """

    def __init__(self, module, session=None, sleep=None, clock=None):
        if not HAS_REQUESTS:
            raise MarathonParameterError("the Python library 'requests' is required")
        self.module = module
        self.params = credentials_from_env(module.params)
        for name in SECRET_CREDENTIALS:
            # Values from the environment are not known to Ansible's no_log machinery.
            self._remember_secret(self.params.get(name))
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
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
        self.request_count = 0
        self.session = session if session is not None else requests.Session()
        self._configure_tls()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "dcos.marathon-ansible"})
        if session is None:
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
            try:
                from urllib3.exceptions import InsecureRequestWarning
                import warnings

                warnings.simplefilter("ignore", InsecureRequestWarning)
            except ImportError:  # pragma: no cover
                pass
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
        resp = self._send("POST", url, None, body, safe=True, auth=False)
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

    def _backoff(self, attempt):
        delay = min(BACKOFF_CAP, BACKOFF_BASE * (2**attempt))
        return delay * (0.9 + 0.2 * random.random())

    def _send(self, method, url, params, json_body, safe, auth=True, before_retry=None):
        """Send with retries. Returns a MarathonResponse for any HTTP status."""
        attempt = 0
        # Set once a write was sent and its answer timed out: Marathon may still apply it, so
        # from then on we only re-read (a re-sent write landing after the late one is a second deployment).
        in_flight = False
        while True:
            if in_flight:
                if attempt >= self.retries:
                    raise MarathonConnectionError(
                        "%s %s timed out after %gs and the change did not show up in %d re-read(s); it was not "
                        "sent again because Marathon may still apply it" % (method, redact_url(url), self.timeout, attempt),
                        url=url,
                        method=method,
                        hint="Look at the app and its deployments before running again; raise request_timeout "
                        "if Marathon is slow",
                    )
                self._sleep(self._backoff(attempt))
                attempt += 1
                replacement = before_retry()
                if replacement is not None:
                    return replacement
                continue
            headers = {}
            if auth and self._token:
                headers["Authorization"] = "token=%s" % self._token
            if json_body is not None:
                headers["Content-Type"] = "application/json"
            error = None
            resp = None
            try:
                self.request_count += 1
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
                resp = MarathonResponse(r.status_code, _decode(r), r.headers)
            except requests.exceptions.SSLError as e:
                # TLS problems do not heal by retrying.
                raise MarathonConnectionError(
                    "%s %s failed: TLS error (%s)" % (method, redact_url(url), _short_exc(e)),
                    url=url,
                    method=method,
                    hint=scheme_mismatch_hint(url, to_native(e), self._url_option(url))
                    or "Check validate_certs, ca_path, client_cert and client_key",
                )
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
                error = e
            except requests.exceptions.RequestException as e:
                raise MarathonConnectionError(
                    "%s %s failed: %s" % (method, redact_url(url), _short_exc(e)), url=url, method=method
                )
            transient = error is not None or resp.status in RETRY_STATUSES
            if not transient:
                return resp
            if attempt >= self.retries or (not safe and before_retry is None):
                if error is not None:
                    option = self._url_option(url)
                    hint = "Check %s, that Marathon is running, and request_timeout" % option
                    mismatch = scheme_mismatch_hint(url, to_native(error), option)
                    raise MarathonConnectionError(
                        "%s %s failed after %d attempt(s): %s"
                        % (method, redact_url(url), attempt + 1, self._describe_failure(error)),
                        url=url,
                        method=method,
                        hint="%s; %s" % (hint, mismatch[0].lower() + mismatch[1:]) if mismatch else hint,
                    )
                return resp
            self._sleep(self._backoff(attempt))
            attempt += 1
            if not safe:
                # A write may have landed although we saw no answer: look before re-sending.
                replacement = before_retry()
                if replacement is not None:
                    return replacement
                in_flight = isinstance(error, requests.exceptions.ReadTimeout)

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

    def request(self, method, path, params=None, json_body=None, safe_to_retry=None, before_retry=None):
        """One Marathon API call; raises MarathonError for 4xx/5xx.

        ``safe_to_retry`` defaults to True for GET/HEAD/DELETE (idempotent by id).
        For other methods pass ``before_retry``: called after a transient failure, it
        returns a MarathonResponse to use instead of re-sending, or None to re-send.
        """
        method = method.upper()
        if safe_to_retry is None:
            safe_to_retry = method in ("GET", "HEAD", "DELETE")
        url = self.base_url + path
        if self.auth_kind in ("password", "service_account") and not self._token:
            self.login()
        resp = self._send(method, url, params, json_body, safe_to_retry, before_retry=before_retry)
        if resp.status == 401 and self.auth_kind in ("password", "service_account") and self._logins < 2:
            # Token expired during the run: one fresh login, then the same request again.
            self._token = None
            self.login()
            resp = self._send(method, url, params, json_body, safe_to_retry, before_retry=before_retry)
        if resp.status >= 400:
            ctype = resp.headers.get("Content-Type") if resp.headers else None
            if resp.status in (401, 403):
                hint = self._auth_hint(resp.status)
                www = resp.headers.get("WWW-Authenticate") if resp.headers else None
                extra = "sent %s%s" % (self.describe_credentials(), (", server asks for '%s'" % www) if www else "")
                hint = "%s (%s)" % (hint, extra) if hint else extra
            else:
                hint = wrong_url_hint(resp.status, resp.body, self.params.get("marathon_url"))
            full_url = url
            if params:
                full_url = "%s?%s" % (url, "&".join("%s=%s" % (k, v) for k, v in _param_items(params)))
            raise http_error(method, full_url, resp.status, resp.body, ctype, hint=hint)
        return resp

    # ---- convenience -----------------------------------------------------------------

    def get_app(self, app_id, embed=None):
        """The app as GET /v2/apps/{id} shows it (tasks, counts, deployments,
        lastTaskFailure embedded), or None when it does not exist."""
        params = [("embed", e) for e in embed] if embed else None
        try:
            resp = self.request("GET", app_path(app_id), params=params)
        except MarathonError as e:
            if is_app_not_found(e):
                return None
            raise
        return self._body_field(app_path(app_id), resp, "app", dict)

    def list_apps(self, id_prefix=None, labels=None, embed=None):
        params = []
        if id_prefix:
            params.append(("id", id_prefix))
        if labels:
            if isinstance(labels, dict):
                selector = ",".join("%s==%s" % (k, v) if v not in (None, "") else str(k) for k, v in sorted(labels.items()))
            else:
                selector = str(labels)
            params.append(("label", selector))
        for e in embed or ():
            params.append(("embed", e))
        resp = self.request("GET", "/v2/apps", params=params or None)
        return self._body_field("/v2/apps", resp, "apps", list)

    def get_tasks(self, app_id=None):
        path = app_path(app_id, "/tasks") if app_id else "/v2/tasks"
        try:
            resp = self.request("GET", path)
        except MarathonError as e:
            if app_id and is_app_not_found(e):
                return []
            raise
        return self._body_field(path, resp, "tasks", list)

    def get_deployments(self):
        resp = self.request("GET", "/v2/deployments")
        return self._body_field("/v2/deployments", resp, None, list)

    def get_app_versions(self, app_id):
        try:
            resp = self.request("GET", app_path(app_id, "/versions"))
        except MarathonError as e:
            if is_app_not_found(e):
                return []
            raise
        return self._body_field(app_path(app_id, "/versions"), resp, "versions", list)

    def get_app_version(self, app_id, version):
        """The bare app definition stored as ``version`` (GET /v2/apps/{id}/versions/{v}), or None."""
        try:
            resp = self.request("GET", app_path(app_id, "/versions/" + quote(str(version), safe=":.-")))
        except MarathonError as e:
            if is_app_not_found(e):
                return None
            raise
        if isinstance(resp.body, dict):
            return resp.body
        raise MarathonError("GET %s returned an unexpected body (not an app)"
                            % redact_url(self.base_url + app_path(app_id, "/versions/" + str(version))))

    def get_queue(self):
        resp = self.request("GET", "/v2/queue")
        return self._body_field("/v2/queue", resp, "queue", list)

    def _body_field(self, path, resp, key, kind):
        """``resp.body[key]`` (the body itself when ``key`` is None) when it has the JSON type
        Marathon sends. Anything else, such as a web page answered with 200, means marathon_url
        does not lead to Marathon; reading it as "no apps" or "no tasks" would hide that."""
        if key is None:
            value = resp.body
        else:
            value = resp.body.get(key) if isinstance(resp.body, dict) else None
        if isinstance(value, kind):
            return value
        url = self.base_url + path
        shape = "list" if kind is list else "object"
        expected = ("not a JSON %s" % shape) if key is None else ("no '%s' %s" % (key, shape))
        raise MarathonError(
            "GET %s returned an unexpected body (%s)" % (redact_url(url), expected),
            url=url,
            method="GET",
            hint=marathon_url_hint(self.params.get("marathon_url")),
        )

    # ---- writes ----------------------------------------------------------------------

    def create_app(self, definition, force=False):
        """POST /v2/apps. After a transient failure the app is re-read and the POST
        is only sent again when the app is still absent."""
        app_id = definition.get("id")

        def reread():
            live = self.get_app(app_id)
            if live is None:
                return None
            return MarathonResponse(201, live, {})

        return self.request(
            "POST", "/v2/apps", params=_force(force), json_body=definition, safe_to_retry=False, before_retry=reread
        )

    def update_app(self, app_id, definition, force=False, partial=False, matches=None):
        """PUT /v2/apps/{id}. A PUT is repeatable in effect but each one makes a new
        deployment; after a transient failure we re-read and re-send only when the
        live app does not yet match (``matches(live) -> bool``)."""
        params = [("partialUpdate", "true" if partial else "false")] + _force(force)
        return self.request("PUT", app_path(app_id), params=params, json_body=definition, safe_to_retry=False,
                            before_retry=self._landed_check(app_id, matches))

    def rollback_app(self, app_id, version, force=False, matches=None):
        """PUT /v2/apps/{id} with {"version": V}: Marathon installs the stored definition
        under a new version. partialUpdate stays at its default (true): with false Marathon
        ignores the version field. Re-sent after a transient failure only when the live app
        does not yet match (``matches(live) -> bool``)."""
        return self.request("PUT", app_path(app_id), params=[("force", "true" if force else "false")],
                            json_body={"version": version}, safe_to_retry=False,
                            before_retry=self._landed_check(app_id, matches))

    def _landed_check(self, app_id, matches):
        """A ``before_retry`` hook for a PUT whose answer was lost: when the live app already
        matches (``matches(live) -> bool``) the write landed, so answer as Marathon would have
        instead of sending it again."""

        def reread():
            if matches is None:
                return None
            live = self.get_app(app_id)
            if live is not None and matches(live):
                return MarathonResponse(200, {"deploymentId": _first_deployment(live), "version": live.get("version")}, {})
            return None

        return reread

    def restart_app(self, app_id, force=False):
        # Never repeated: a second restart would roll the tasks twice.
        return self.request("POST", app_path(app_id, "/restart"), params=_force(force), json_body={}, safe_to_retry=False)

    def delete_app(self, app_id, force=False):
        """DELETE /v2/apps/{id}. After a transient failure the app is re-read: a lost answer
        to a DELETE that landed would otherwise turn the re-sent one into a 404."""

        def reread():
            if self.get_app(app_id) is None:
                return MarathonResponse(200, {}, {})
            return None

        # DELETE's server default is force=true; always say what we mean.
        return self.request("DELETE", app_path(app_id), params=[("force", "true" if force else "false")],
                            safe_to_retry=False, before_retry=reread)


def _type_name(value):
    return "null" if value is None else type(value).__name__


def live_app_problems(app, app_id):
    """Fields of a GET /v2/apps/{id} app whose JSON type Marathon never sends (a broken proxy or server)."""
    problems = []
    if not isinstance(app.get("id"), str) or canonical_app_id(app["id"]) != canonical_app_id(app_id):
        problems.append("id %s is not the requested '%s'" % (json.dumps(app.get("id")), canonical_app_id(app_id)))
    inst = app.get("instances")
    if isinstance(inst, bool) or not isinstance(inst, int) or inst < 0:
        problems.append("instances must be a whole number 0 or more, got %s" % _type_name(inst))
    for name in ("cpus", "mem", "disk", "gpus"):
        value = app.get(name)
        if name in app and (isinstance(value, bool) or not isinstance(value, (int, float))):
            problems.append("%s must be a number, got %s" % (name, _type_name(value)))
    for name in ("env", "labels"):
        if name in app and not isinstance(app[name], dict):
            problems.append("%s must be an object, got %s" % (name, _type_name(app[name])))
    for name in ("tasks", "deployments", "healthChecks", "constraints", "portDefinitions", "networks"):
        if name in app and not isinstance(app[name], list):
            problems.append("%s must be a list, got %s" % (name, _type_name(app[name])))
    for name in ("tasks", "deployments", "healthChecks", "portDefinitions", "networks"):
        items = app.get(name)
        if isinstance(items, list) and not all(isinstance(i, dict) for i in items):
            problems.append("%s must be a list of objects" % name)
    container = app.get("container")
    if container is not None:
        if not isinstance(container, dict):
            problems.append("container must be an object, got %s" % _type_name(container))
        elif container.get("volumes") is not None and (
            not isinstance(container["volumes"], list) or not all(isinstance(v, dict) for v in container["volumes"])
        ):
            problems.append("container.volumes must be a list of objects")
    return problems


def _force(force):
    return [("force", "true")] if force else []


def _first_deployment(app):
    deps = app.get("deployments") if isinstance(app, dict) else None
    if isinstance(deps, list) and deps and isinstance(deps[0], dict):
        return deps[0].get("id")
    return None


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
