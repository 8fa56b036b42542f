# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Exceptions and error-message rendering shared by the dcos.marathon modules.

Private module_utils: not a public API.
"""

from __future__ import annotations

import re

from urllib.parse import urlsplit, urlunsplit

# Bodies longer than this are cut in messages so a proxy error page cannot flood the output.
_MAX_TEXT = 300


def redact_url(url):
    """Drop user:password@ from a URL so it can be shown in messages."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = "%s:%s" % (host, parts.port)
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _is_html(text, content_type):
    if content_type and "html" in content_type.lower():
        return True
    if isinstance(text, str):
        head = text.lstrip()[:200].lower()
        return head.startswith("<!doctype html") or head.startswith("<html") or "<body" in head
    return False


def _short(text):
    text = re.sub(r"\s+", " ", str(text)).strip()
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + "..."
    return text


def render_details(details):
    """Render Marathon's ``details`` (a list of {path, errors} or a string) as text."""
    if details is None or details == [] or details == "":
        return ""
    if isinstance(details, str):
        return _short(details)
    parts = []
    if isinstance(details, list):
        for item in details:
            if isinstance(item, dict):
                path = item.get("path", "/")
                errors = item.get("errors")
                if isinstance(errors, list):
                    errors = ", ".join(str(e) for e in errors)
                parts.append("%s: %s" % (path, errors if errors not in (None, "") else "invalid"))
            else:
                parts.append(_short(item))
    elif isinstance(details, dict):
        parts.append(_short(details))
    return "; ".join(parts)


def summarize_body(status, body, content_type=None):
    """One readable sentence for an error response body.

    JSON bodies of Marathon ({message, details, deployments}) and of the DC/OS IAM
    ({title, description, code}) are rendered field by field; HTML pages (Admin Router
    401/403, Jetty 502 pages) are never dumped.
    """
    if isinstance(body, dict):
        parts = []
        if body.get("message"):
            parts.append(str(body["message"]).rstrip("."))
        if body.get("code") or body.get("title") or body.get("description"):
            # DC/OS IAM error shape
            iam = " ".join(str(body[k]) for k in ("code", "title") if body.get(k))
            if iam:
                parts.append(iam)
            if body.get("description"):
                parts.append(_short(body["description"]).rstrip("."))
        detail = render_details(body.get("details"))
        if detail:
            parts.append(detail)
        deployments = body.get("deployments")
        if isinstance(deployments, list) and deployments:
            ids = [d.get("id") if isinstance(d, dict) else str(d) for d in deployments]
            parts.append("blocking deployments: %s" % ", ".join(str(i) for i in ids))
        if not parts and isinstance(body.get("errors"), list):
            # pre-1.0 shape: {"errors": [{"error": "..."}]}
            parts.append("; ".join(_short(e.get("error", e)) if isinstance(e, dict) else _short(e) for e in body["errors"]))
        if parts:
            return ": ".join(parts[:1]) + ("; " + "; ".join(parts[1:]) if len(parts) > 1 else "")
        return _short(body)
    if body is None or body == "":
        return "empty response body"
    if _is_html(body, content_type):
        title = None
        if isinstance(body, str):
            match = re.search(r"<title>(.*?)</title>", body, re.I | re.S)
            if match:
                title = _short(match.group(1))
        return "HTML error page%s (body not shown)" % ((" titled '%s'" % title) if title else "")
    return _short(body)


class MarathonError(Exception):
    """Any failure talking to Marathon or DC/OS.

    ``str(err)`` is one readable line without secrets; ``to_result()`` gives the
    fields modules pass to ``fail_json``.
    """

    def __init__(self, message, status=None, body=None, url=None, method=None, hint=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.url = redact_url(url)
        self.method = method
        self.hint = hint

    def __str__(self):
        text = self.message
        if self.hint:
            text = "%s. %s" % (text.rstrip("."), self.hint)
        return text

    @property
    def deployment_ids(self):
        """Ids of blocking deployments from a 409 AppLocked body."""
        if isinstance(self.body, dict) and isinstance(self.body.get("deployments"), list):
            return [d.get("id") for d in self.body["deployments"] if isinstance(d, dict) and d.get("id")]
        return []

    def to_result(self):
        result = {}
        if self.status is not None:
            result["status"] = self.status
        if self.url:
            result["url"] = self.url
        if self.method:
            result["method"] = self.method
        # Only JSON bodies are returned; HTML pages are noise and can echo request data.
        if isinstance(self.body, (dict, list)):
            result["body"] = self.body
        return result


class MarathonConnectionError(MarathonError):
    """The server could not be reached or did not answer in time."""


class MarathonAuthError(MarathonError):
    """401/403, or a failed DC/OS login."""


class MarathonParameterError(MarathonError):
    """Bad module input found before any request was sent."""


# Marathon's own answer for an unknown app (GET app, tasks, versions; DELETE, restart): 404 with
# {"message": "App '/x' does not exist"} (1.9+ adds "details": []; versions add " in version V").
_APP_NOT_FOUND = re.compile(r"App '[^']*' does not exist")
# Marathon's other 404 messages: an unknown group, task, path, deployment, queue entry or no leader.
_GROUP_NOT_FOUND = re.compile(r"^Group '?/.*'? does not exist")
_MARATHON_404 = re.compile(r"^(App|Group|Task|Path|DeploymentPlan) .* does not exist|not found in tasks queue|^There is no leader")
MARATHON_URL_SHAPE = (
    "the root of the Marathon API, such as http://marathon.example.com:8080 or "
    "https://dcos.example.com/service/marathon, without /v2"
)


def is_app_not_found(err):
    """Whether ``err`` is Marathon's own 404 for an unknown app: the only answer that means
    "absent". A 404 from anything else, such as a proxy's HTML page for a mistyped
    marathon_url, is an error, or a wrong URL would look like an app that is gone."""
    if not isinstance(err, MarathonError) or err.status != 404 or not isinstance(err.body, dict):
        return False
    message = err.body.get("message")
    return isinstance(message, str) and _APP_NOT_FOUND.match(message) is not None


def is_group_not_found(err):
    """Whether ``err`` is Marathon's own 404 for an unknown group ("Group '/x' does not exist"),
    for the same reason as is_app_not_found: any other 404 is an error, not an absent group."""
    if not isinstance(err, MarathonError) or err.status != 404 or not isinstance(err.body, dict):
        return False
    message = err.body.get("message")
    return isinstance(message, str) and _GROUP_NOT_FOUND.match(message) is not None


def _message(body):
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else None


def marathon_url_hint(marathon_url):
    """What marathon_url should look like, naming the value given (without credentials)."""
    given = redact_url(marathon_url) or ""
    path = urlsplit(given).path.rstrip("/") if given else ""
    if path == "/v2" or path.endswith("/v2"):
        return "Remove the trailing /v2 from marathon_url '%s': it must be %s" % (given, MARATHON_URL_SHAPE)
    return "Check marathon_url '%s': it must be %s" % (given, MARATHON_URL_SHAPE)


def wrong_url_hint(status, body, marathon_url):
    """A hint when an HTTP error answer shows the request did not reach Marathon's API, else None.

    Marathon 1.6+ answers an unknown path with 500 {"message": "URI not found"} (1.5 and older:
    404 "URI not found: <path>"); any 404 other than Marathon's JSON "... does not exist" comes
    from something in front of it (Admin Router, a proxy, another web server)."""
    message = _message(body)
    if message is not None and message.startswith("URI not found"):
        return "Marathon does not know this path. " + marathon_url_hint(marathon_url)
    if status == 404 and (message is None or not _MARATHON_404.search(message)):
        return "This is not Marathon's answer for a missing app or task. " + marathon_url_hint(marathon_url)
    if status == 400 and isinstance(body, str) and "plain http request was sent to https port" in body.lower():
        # nginx (DC/OS Admin Router) answers plain HTTP on its TLS port this way.
        return "The server expects HTTPS: use https:// in marathon_url"
    return None


# How a failed exchange looks when the URL's scheme does not match the server: a TLS server
# resets or closes the connection on a plain HTTP request, or sends a TLS alert (record type
# 0x15) that http.client reports as a bad status line; a plain HTTP server answers a TLS
# handshake with text that OpenSSL reports as a wrong version number or record layer failure.
_TLS_SERVER_SIGNS = re.compile(r"reset by peer|RemoteDisconnected|closed connection without response|BadStatusLine")
_PLAIN_SERVER_SIGNS = re.compile(r"wrong.version.number|record.layer.failure|packet.length.too.long", re.I)


def scheme_mismatch_hint(url, error_text, option="marathon_url"):
    """A hint for a connection failure that looks like http:// sent to an HTTPS port (or the
    reverse), else None. ``option`` names the setting the URL came from."""
    if not url or not error_text:
        return None
    scheme = urlsplit(url).scheme
    if scheme == "http" and _TLS_SERVER_SIGNS.search(error_text):
        return "If that port serves HTTPS, use https:// in %s" % option
    if scheme == "https" and _PLAIN_SERVER_SIGNS.search(error_text):
        return "The server answered in plain HTTP, not TLS: use http:// in %s or the HTTPS port" % option
    return None


def http_error(method, url, status, body, content_type=None, reason=None, hint=None):
    """Build the MarathonError for an HTTP error response."""
    summary = summarize_body(status, body, content_type)
    label = "HTTP %s" % status
    if reason:
        label = "%s %s" % (label, reason)
    msg = "%s %s failed with %s: %s" % (method, redact_url(url), label, summary)
    cls = MarathonAuthError if status in (401, 403) else MarathonError
    return cls(msg, status=status, body=body, url=url, method=method, hint=hint)
