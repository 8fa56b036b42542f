# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The DC/OS Enterprise secret store (``/secrets/v1`` at the cluster root), over the HTTP client,
and the one run of the dcos_secret module: read, compare, write only what differs.

Private module_utils: not a public API.

Codes of the Secrets API: GET 200 ``{"value": ...}`` or 404; PUT creates (201, 409 when it
exists); PATCH updates (204); DELETE 204 or 404; 403 without the permission
``dcos:secrets:<store>:/<path>`` of the action. A value is never put into a message, a result or
a diff: the module's value, the file's content and the value read are all no_log values.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.dcos.marathon.plugins.module_utils._errors import MarathonError
from ansible_collections.dcos.marathon.plugins.module_utils._http import AnswerLost

SECRETS_PREFIX = "/secrets/v1"
# The permission action each request needs (DC/OS permissions reference).
ACTIONS = {"GET": "read", "PUT": "create", "PATCH": "update", "DELETE": "delete"}


def secret_path_problem(path):
    """Why a secret path would be refused, or None. DC/OS secret paths have no leading '/'."""
    if not path:
        return "must not be empty"
    if path.startswith("/") or path.endswith("/"):
        return "must not start or end with '/' (secret paths, unlike app ids, have no leading slash)"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "must be names separated by single '/', without '.' or '..'"
    return None


class SecretStoreError(MarathonError):
    """A secret store answer the module cannot go on from, with the reason in plain words."""


class SecretStore:
    """One secret store of the cluster (DC/OS has only ``default``). ``http`` is the run's HttpClient."""

    def __init__(self, http, store="default"):
        self.http = http
        self.store = store

    def _path(self, path):
        # Literal '/' separators, as the DC/OS CLI sends them; each name quoted.
        return "%s/secret/%s/%s" % (SECRETS_PREFIX, quote(self.store, safe=""), quote(path, safe="/"))

    def read(self, path):
        """The value of the secret as text, or None when it does not exist."""
        try:
            resp = self.http.request("GET", self._path(path), cluster=True)
        except MarathonError as e:
            if e.status == 404:
                return None
            raise self.explain(e, path, "GET")
        body = resp.body
        if not isinstance(body, dict) or not isinstance(body.get("value"), str):
            raise SecretStoreError(
                "GET %s did not answer with a text secret ({\"value\": ...}); binary secrets are not managed by "
                "this module" % (self.http.login_base + self._path(path)), status=resp.status)
        return body["value"]

    def create(self, path, value):
        self._write("PUT", path, value)

    def update(self, path, value):
        self._write("PATCH", path, value)

    def delete(self, path):
        """Delete the secret; False when it was already gone."""
        try:
            self.http.request("DELETE", self._path(path), cluster=True)
        except MarathonError as e:
            if e.status == 404:
                return False
            raise self.explain(e, path, "DELETE")
        return True

    def _write(self, method, path, value):
        attempts = 0
        while True:
            attempts += 1
            try:
                self.http.request(method, self._path(path), json_body={"value": value}, cluster=True)
                return
            except AnswerLost as lost:
                # Whether it landed is told by the value now stored. After a read timeout the store
                # may still apply it, so it is not sent again; nor more often than retries allows.
                if self.read(path) == value:
                    return
                if lost.in_flight or attempts > self.http.retries:
                    raise lost.failure(attempts)
                self.http.pause_before_retry(attempts - 1)
            except MarathonError as e:
                if method == "PUT" and e.status == 409:
                    # Created by someone else since the read: update it instead.
                    method = "PATCH"
                    continue
                raise self.explain(e, path, method)

    def seal_status(self):
        """GET /seal-status/<store>: the status mapping, or None when no secret store answers."""
        try:
            resp = self.http.request("GET", "%s/seal-status/%s" % (SECRETS_PREFIX, quote(self.store, safe="")),
                                     cluster=True)
        except MarathonError:
            return None
        return resp.body if isinstance(resp.body, dict) and "sealed" in resp.body else None

    def explain(self, err, path, method):
        """The error of a refused request in plain words: a missing permission, a sealed store, or no
        secret store at all (open-source DC/OS or plain Marathon)."""
        where = "secret '%s' in store '%s'" % (path, self.store)
        if err.status == 403:
            return SecretStoreError(
                "Access denied to %s (%s answered 403): %s needs the permission dcos:secrets:%s:/%s %s"
                % (where, err.method, self.http.describe_credentials(), self.store, path, ACTIONS.get(method, "full")),
                status=403, url=err.url, method=err.method)
        if err.status == 401:
            return err
        status = self.seal_status()
        if status is None:
            return SecretStoreError(
                "No DC/OS secret store answers at %s%s (%s %s answered %s): dcos_secret needs DC/OS Enterprise, and "
                "dcos_url (or marathon_url) must lead to the cluster, not to Marathon alone"
                % (self.http.login_base, SECRETS_PREFIX, err.method, where, err.status),
                status=err.status, url=err.url, method=err.method)
        if status.get("sealed"):
            return SecretStoreError(
                "The secret store '%s' is sealed, so %s cannot be read or written (%s answered %s); unseal it "
                "(dcos security secrets unseal-store or PUT /secrets/v1/unseal/%s) and run again"
                % (self.store, where, err.method, err.status, self.store),
                status=err.status, url=err.url, method=err.method)
        return err


def read_value(module):
    """The wanted value from ``value`` or the text file ``src``; None for state=absent. The content
    becomes a no_log value before anything can print it."""
    params = module.params
    if params["src"] is None:
        return params["value"]
    src = params["src"]
    if not os.path.isfile(src):
        module.fail_json(msg="src '%s' is not a readable file" % src, changed=False)
    try:
        with open(src, "rb") as fh:
            raw = fh.read()
    except (IOError, OSError) as e:
        module.fail_json(msg="src '%s' cannot be read: %s" % (src, e.strerror), changed=False)
    try:
        value = raw.decode("utf-8")
    except UnicodeDecodeError:
        module.fail_json(msg="src '%s' is not UTF-8 text; this module stores text secrets only" % src, changed=False)
    if value:
        module.no_log_values.add(value)
    return value


def run_secret_module(module):
    """dcos_secret: read the secret once, then create, update or delete only when it differs."""
    params = module.params
    path, store, state = params["path"], params["store"], params["state"]
    problem = secret_path_problem(path)
    if problem:
        module.fail_json(msg="path '%s' %s" % (path, problem), changed=False)
    if not store or "/" in store:
        module.fail_json(msg="store '%s' must be a store name such as default" % store, changed=False)
    wanted = read_value(module) if state == "present" else None
    if state == "present" and not wanted:
        module.fail_json(msg="value (or the content of src) must not be empty for state=present", changed=False)

    secrets = SecretStore(module.client.http, store)
    result = {"changed": False, "path": path, "store": store}
    try:
        current = secrets.read(path)
        if current:
            module.no_log_values.add(current)
        if state == "present":
            action = "create" if current is None else ("update" if current != wanted else None)
        else:
            action = "delete" if current is not None else None
        result["changed"] = action is not None
        result["action"] = action or "none"
        if module.diff:
            result["diff"] = {
                "before": {"path": path, "state": "absent" if current is None else "present"},
                "after": {"path": path, "state": state},
            }
            if state == "present":
                result["diff"]["after"]["value"] = "changed" if action else "unchanged"
        if action and not module.check_mode:
            if action == "create":
                secrets.create(path, to_text(wanted))
            elif action == "update":
                secrets.update(path, to_text(wanted))
            else:
                secrets.delete(path)
    except MarathonError as e:
        module.fail_from_error(e, path=path, store=store)
    module.exit_json(**result)
