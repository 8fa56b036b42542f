# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The Marathon v2 API calls the modules make, over the HTTP client.

Private module_utils: not a public API.

Reads return the part of the reply the caller uses, after one check of its shape
(``reply_problem``): a reply Marathon never sends, such as a web page answered with 200,
fails with the URL and what is wrong instead of passing for "no apps" or a changed app.
Writes are sent once; after a lost answer ``_landed_reply`` reads the app to tell whether the
write took effect before it is sent again.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import canonical_app_id
from ansible_collections.dcos.marathon.plugins.module_utils._errors import (
    MarathonConnectionError,
    MarathonError,
    MarathonParameterError,
    is_app_not_found,
    is_group_not_found,
    marathon_url_hint,
    redact_url,
)
from ansible_collections.dcos.marathon.plugins.module_utils._http import AnswerLost, MarathonResponse


def group_path(group_id):
    """URL path of a group id, each segment quoted."""
    if not isinstance(group_id, str):
        raise MarathonParameterError("group id must be a string, got %s" % type(group_id).__name__)
    return "/v2/groups/" + quote(canonical_app_id(group_id).lstrip("/"), safe="/")


# What a group read embeds: every app of the tree with counts, tasks and deployments, in one request.
GROUP_EMBEDS = ("group.groups", "group.apps", "group.apps.counts", "group.apps.tasks", "group.apps.deployments")


def app_path(app_id, suffix=""):
    """URL path for an app id, each segment quoted. A non-string id is refused here, before it
    reaches a URL."""
    if not isinstance(app_id, str):
        raise MarathonParameterError("app id must be a string, got %s" % type(app_id).__name__)
    return "/v2/apps/" + quote(canonical_app_id(app_id).lstrip("/"), safe="/") + suffix


class MarathonApi:
    """The Marathon API for one module run. ``http`` is the run's HttpClient."""

    def __init__(self, http):
        self.http = http

    # ---- reads -----------------------------------------------------------------------

    def get_app(self, app_id):
        """The app as GET /v2/apps/{id} shows it (tasks, counts, deployments,
        lastTaskFailure embedded), or None when it does not exist."""
        path = app_path(app_id)
        try:
            return self._read(path, "app", app_id=app_id)
        except MarathonError as e:
            if is_app_not_found(e):
                return None
            raise

    def list_apps(self, embed=None):
        """All apps (GET /v2/apps), with the ``embed`` values asked for."""
        return self._read("/v2/apps", "apps", params=[("embed", e) for e in embed or ()] or None)

    def get_tasks(self):
        """All tasks of all apps (GET /v2/tasks)."""
        return self._read("/v2/tasks", "tasks")

    def get_info(self):
        """GET /v2/info: the leader's name, version and configuration."""
        return self._read("/v2/info", "info")

    def get_deployments(self):
        return self._read("/v2/deployments", "deployments")

    def get_queue_item(self, app_id):
        """The launch queue entry of the app (GET /v2/queue): instances waiting for an offer, their
        launch delay and processedOffersSummary; None when nothing of the app waits."""
        for item in self._read("/v2/queue", "queue"):
            app = item.get("app") if isinstance(item, dict) else None
            if isinstance(app, dict) and canonical_app_id(str(app.get("id") or "")) == canonical_app_id(app_id):
                return item
        return None

    def get_app_versions(self, app_id):
        """The version timestamps of the app, newest first ([] when the app does not exist)."""
        try:
            return self._read(app_path(app_id, "/versions"), "versions")
        except MarathonError as e:
            if is_app_not_found(e):
                return []
            raise

    def get_app_version(self, app_id, version):
        """The bare app definition stored as ``version`` (GET /v2/apps/{id}/versions/{v}), or None."""
        try:
            return self._read(app_path(app_id, "/versions/" + quote(str(version), safe=":.-")), "version")
        except MarathonError as e:
            if is_app_not_found(e):
                return None
            raise

    def get_group(self, group_id):
        """The group with every app below it (GET /v2/groups/{id}, GROUP_EMBEDS), or None when it
        does not exist."""
        try:
            return self._read(group_path(group_id), "group", params=[("embed", e) for e in GROUP_EMBEDS],
                              app_id=group_id)
        except MarathonError as e:
            if is_group_not_found(e):
                return None
            raise

    def _read(self, path, kind, params=None, app_id=None):
        """GET ``path`` and return the part of the reply the caller uses, once its shape is checked."""
        body = self.http.request("GET", path, params=params).body
        value, problem, foreign = reply_problem(kind, body, app_id)
        if problem is None:
            return value
        url = self.http.url(path)
        # A body of the wrong type altogether means marathon_url leads to something else.
        raise MarathonError(
            "GET %s returned %s" % (redact_url(url), problem),
            url=url,
            method="GET",
            hint=marathon_url_hint(self.http.params.get("marathon_url")) if foreign else None,
        )

    # ---- writes ----------------------------------------------------------------------

    def create_app(self, body, force=False):
        """POST /v2/apps. After a lost answer the app is read again and the POST sent again only
        while it is absent."""
        return self._write("create", body.get("id"), "POST", "/v2/apps", _force(force), body)

    def update_app(self, app_id, body, force=False, partial=False, landed=None):
        """PUT /v2/apps/{id}. A PUT is repeatable in effect but each one makes a new deployment;
        after a lost answer it is sent again only when ``landed(live app) -> bool`` says the
        change is not visible yet (without ``landed`` it is sent again without looking)."""
        params = [("partialUpdate", "true" if partial else "false")] + _force(force)
        return self._write("update", app_id, "PUT", app_path(app_id), params, body, landed)

    def rollback_app(self, app_id, version, force=False, landed=None):
        """PUT /v2/apps/{id} with {"version": V}: Marathon installs the stored definition under a
        new version. partialUpdate stays at its default (true): with false Marathon ignores the
        version field. After a lost answer, as update_app."""
        return self._write("update", app_id, "PUT", app_path(app_id), [("force", "true" if force else "false")],
                           {"version": version}, landed)

    def restart_app(self, app_id, force=False):
        """POST /v2/apps/{id}/restart, never sent twice: a second restart would roll the tasks twice."""
        return self._write("restart", app_id, "POST", app_path(app_id, "/restart"), _force(force), {})

    def delete_app(self, app_id, force=False):
        """DELETE /v2/apps/{id}. After a lost answer the app is read again: a DELETE that landed
        and were sent again would fail with 404."""
        # DELETE's server default is force=true; always say what we mean.
        return self._write("delete", app_id, "DELETE", app_path(app_id), [("force", "true" if force else "false")])

    def update_group(self, group_id, body, force=False, landed=None):
        """PUT /v2/groups/{id}: the group update as one deployment (Marathon creates a missing group).
        After a lost answer it is sent again only when ``landed(live group) -> bool`` says the
        change is not visible yet."""
        return self._write("update_group", group_id, "PUT", group_path(group_id), _force(force), body, landed)

    def delete_group(self, group_id, force=False):
        """DELETE /v2/groups/{id}: the group and every app below it. After a lost answer the group
        is read again: a DELETE that landed and were sent again would fail with 404."""
        return self._write("delete_group", group_id, "DELETE", group_path(group_id), _force(force))

    def _write(self, kind, app_id, method, path, params, body=None, landed=None):
        """Send a write; after a lost answer (connection error, 502-504 or read timeout) wait, read
        the app (_landed_reply) and send the write again only when it did not land, up to
        ``retries`` times. After a read timeout Marathon may still apply the write, so from then
        on the app is only read again: a second write landing after the late one would be a
        second deployment."""
        attempt = 0
        while True:
            try:
                return self.http.request(method, path, params=params, json_body=body, idempotent=False)
            except AnswerLost as lost:
                if kind == "restart" or attempt >= self.http.retries:
                    raise lost.failure(attempt + 1)
                in_flight = lost.in_flight
            while True:
                self.http.pause_before_retry(attempt)
                attempt += 1
                reply = self._landed_reply(kind, app_id, landed)
                if reply is not None:
                    return reply
                if not in_flight:
                    break
                if attempt >= self.http.retries:
                    url = self.http.url(path)
                    raise MarathonConnectionError(
                        "%s %s timed out after %gs and the change did not show up in %d re-read(s); it was not "
                        "sent again because Marathon may still apply it" % (method, redact_url(url), self.http.timeout,
                                                                            attempt),
                        url=url,
                        method=method,
                        hint="Look at the app and its deployments before running again; raise request_timeout "
                        "if Marathon is slow",
                    )

    def _landed_reply(self, kind, app_id, landed):
        """Whether a write whose answer was lost took effect, read from the live app: the answer
        Marathon would have given when it did, else None. A create landed when the app exists,
        an update or rollback when ``landed(live)``, a delete when the app is gone."""
        if kind in ("update", "update_group") and landed is None:
            return None
        live = self.get_group(app_id) if kind.endswith("_group") else self.get_app(app_id)
        if kind == "create":
            return MarathonResponse(201, live, {}) if live is not None else None
        if kind in ("delete", "delete_group"):
            return MarathonResponse(200, {}, {}) if live is None else None
        if live is not None and landed(live):
            deployment = _first_deployment(live) if kind == "update" else _group_deployment(live)
            return MarathonResponse(200, {"deploymentId": deployment, "version": live.get("version")}, {})
        return None


# ---- reply shapes ----------------------------------------------------------------------

# What each read returns: the field of the reply (None: the whole body) and its JSON type.
_REPLY_PARTS = {
    "app": ("app", dict),
    "apps": ("apps", list),
    "tasks": ("tasks", list),
    "deployments": (None, list),
    "queue": ("queue", list),
    "versions": ("versions", list),
    "version": (None, dict),
    "info": (None, dict),
    "group": (None, dict),
}


def reply_problem(kind, body, app_id=None):
    """Check a GET reply of ``kind`` (a key of _REPLY_PARTS). Returns (value, problem, foreign):
    the part the caller uses, what is wrong with the reply (None when nothing is) and whether
    the body is not the JSON Marathon sends at all."""
    key, json_type = _REPLY_PARTS[kind]
    if key is None:
        value = body
    else:
        value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, json_type):
        shape = "list" if json_type is list else "object"
        expected = ("not a JSON %s" % shape) if key is None else ("no '%s' %s" % (key, shape))
        return None, "an unexpected body (%s)" % expected, True
    if kind == "group":
        problems = []
        for key, app in group_apps(value).items():
            problems.extend(["an app without a string id"] if key.startswith("?") else live_app_problems(app, key))
        if not isinstance(value.get("id"), str) or canonical_app_id(value["id"]) != canonical_app_id(app_id):
            problems.insert(0, "id %s is not the requested '%s'" % (json.dumps(value.get("id")), canonical_app_id(app_id)))
        if problems:
            return value, "a malformed group (%s)" % "; ".join(problems[:5]), False
    if kind == "app":
        problems = live_app_problems(value, app_id)
        if problems:
            return value, "a malformed app (%s)" % "; ".join(problems), False
    elif kind in ("apps", "tasks"):
        # Each item is read by its id (an app) or appId (a task).
        field = "id" if kind == "apps" else "appId"
        bad = [i for i in value if not isinstance(i, dict) or not isinstance(i.get(field), str)]
        if bad:
            return value, "%d malformed %s(s) (not an object with a string %s), for example %.200r" % (
                len(bad), kind[:-1], field, bad[0]), False
    return value, None, False


def live_app_problems(app, app_id):
    """Fields of a GET /v2/apps/{id} app whose JSON type Marathon never sends (a broken proxy or server).
    Comparing against such an app could send a write nobody asked for."""
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


def _type_name(value):
    return "null" if value is None else type(value).__name__


def _force(force):
    return [("force", "true")] if force else []


def deployment_ids(app):
    """The ids of the deployments an app (as GET /v2/apps or /v2/groups shows it) is locked by."""
    return [d.get("id") for d in (app or {}).get("deployments") or [] if isinstance(d, dict) and d.get("id")]


def group_apps(group):
    """Every app of a GET /v2/groups/{id} tree, by id (nested groups included). Items that are not
    apps with a string id are kept under a placeholder key so the shape check reports them."""
    out = {}
    stack = [group]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        for i, app in enumerate(node.get("apps") or []):
            key = app.get("id") if isinstance(app, dict) and isinstance(app.get("id"), str) else "?%d" % len(out)
            out[canonical_app_id(key) if not key.startswith("?") else key] = app if isinstance(app, dict) else {}
        stack.extend(node.get("groups") or [])
    return out


def _group_deployment(group):
    for app in group_apps(group).values():
        found = _first_deployment(app)
        if found:
            return found
    return None


def _first_deployment(app):
    deps = app.get("deployments") if isinstance(app, dict) else None
    if isinstance(deps, list) and deps and isinstance(deps[0], dict):
        return deps[0].get("id")
    return None
