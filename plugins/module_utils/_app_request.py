# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What one marathon_app task asks for: its options checked, the definition loaded and
validated, the app id decided. No request is sent here; every problem is a Refusal that
names the option.

Private module_utils: not a public API.
"""

from __future__ import annotations

import copy
import json
import os

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import (
    SECRET_ENV_LABEL,
    app_id_problem,
    canonical_app_id,
    definition_for_request,
    label_secret_names,
    normalize_app_definition,
    secret_env_label_value,
    secret_env_problems,
    secret_values,
    validate_definition,
)
from ansible_collections.dcos.marathon.plugins.module_utils._wait import DEFAULT_OFFER_GRACE, DEFAULT_TASK_FAILURES
from ansible_collections.dcos.marathon.plugins.module_utils._versions import (
    BASELINE,
    LEGACY_DEFAULTS,
    old_networking,
    to_old_networking,
    unknown_in_version,
)

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False


class Refusal(Exception):
    """The task cannot go on; ``msg`` says why, ``extra`` goes into the result. Nothing was sent."""

    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


def load_definition_file(path):
    """The app definition in ``path``, JSON or YAML whatever the file is named."""
    # The module's working directory decides a relative path; show where it looked.
    resolved = os.path.abspath(path)
    shown = "'%s'" % path if resolved == path else "'%s' (resolved to '%s')" % (path, resolved)
    if not os.path.isfile(resolved):
        raise Refusal("src %s is not a readable file" % shown)
    try:
        with open(resolved, "r") as f:
            text = f.read()
    except OSError as e:
        raise Refusal("src %s cannot be read: %s" % (shown, to_native(e.strerror)))
    try:
        return json.loads(text)
    except ValueError as json_error:
        if not HAS_YAML:
            raise Refusal("src %s is not valid JSON: %s (YAML is accepted too, but PyYAML is not installed)"
                          % (shown, to_native(json_error)))
        json_problem = to_native(json_error)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise Refusal("src %s is not valid JSON (%s) nor valid YAML (%s); either format is accepted, "
                      "whatever the file name" % (shown, json_problem, to_native(e).splitlines()[0]))


class AppRequest(object):
    """The checked options of one marathon_app task."""

    def __init__(self, params, no_log_values):
        self.state = params["state"]
        self.instances = params["instances"]
        self.keep_instances = params.get("keep_instances", False)
        self.partial = params["partial"]
        self.force = params["force"]
        self.allow_data_loss = params["allow_data_loss"]
        self.rollback_to = params["rollback_to"]
        self.wait = params["wait"]
        self.wait_timeout = params["wait_timeout"]
        self.wait_for = params["wait_for"]
        self.fail_after_task_failures = params.get("fail_after_task_failures", DEFAULT_TASK_FAILURES)
        self.offer_decline_grace = params.get("offer_decline_grace", DEFAULT_OFFER_GRACE)
        self.secret_env = list(params.get("secret_env") or [])
        self.init_env = list(params.get("init_env") or [])
        self.allow_init_env_change = params.get("allow_init_env_change", False)
        self.fixed_image_major = params.get("fixed_image_major", False)
        self.definition, self.source_field = self._definition(params)
        # The cluster's Marathon version; set with for_version once known (before any request
        # when it is cached or pinned).
        self.version = BASELINE
        # Fields with an old default that the user leaves to Marathon (see AppComparison).
        self.unset_fields = tuple(k for k in LEGACY_DEFAULTS if (self.definition or {}).get(k) is None)
        if self.definition:
            # Before anything can be printed: secret env values are masked everywhere.
            no_log_values.update(secret_values(self.definition, self.secret_env))
        self.app_id = self._app_id(params["app_id"])
        self._check_options(params)

    @staticmethod
    def _definition(params):
        if params["src"]:
            defn, field = load_definition_file(params["src"]), "src"
        else:
            defn, field = copy.deepcopy(params["definition"]), "definition"
        if defn is not None:
            problems = validate_definition(defn, field)
            if problems:
                raise Refusal("; ".join(problems))
        return defn, field

    def for_version(self, version):
        """Check the definition against Marathon ``version``: a field that version does not know,
        or a networking form it cannot read, is refused here, before the app is read."""
        self.version = version
        if not self.definition:
            return
        problems = unknown_in_version(self.definition, version, self.source_field)
        if not problems and old_networking(version):
            problem = to_old_networking(definition_for_request(self.definition), self.source_field)[1]
            problems = [problem] if problem else []
        if problems:
            raise Refusal("; ".join(problems))

    def _app_id(self, given):
        body_id = self.definition.get("id") if self.definition else None
        if given is not None:
            why = app_id_problem(given)
            if why:
                raise Refusal("app_id '%s' %s" % (given, why))
            if body_id is not None and canonical_app_id(body_id) != canonical_app_id(given):
                raise Refusal("app_id '%s' and %s.id '%s' name different apps; give one, or the same in both"
                              % (given, self.source_field, body_id))
            return canonical_app_id(given)
        if body_id is None:
            raise Refusal("app_id is required when %s has no id" % self.source_field
                          if self.definition is not None else "app_id is required")
        return canonical_app_id(body_id)

    def _check_options(self, params):
        for field, names in (("secret_env", self.secret_env), ("init_env", self.init_env)):
            problems = secret_env_problems(names, field)
            if problems:
                raise Refusal("; ".join(problems))
        if self.instances is not None:
            if self.instances < 0:
                raise Refusal("instances must be 0 or more, got %d" % self.instances)
            if self.state in ("stopped", "absent"):
                raise Refusal("instances cannot be used with state=%s" % self.state)
        if self.wait_timeout <= 0:
            raise Refusal("wait_timeout must be greater than 0, got %d" % self.wait_timeout)
        for name in ("fail_after_task_failures", "offer_decline_grace"):
            if getattr(self, name) < 0:
                raise Refusal("%s must be 0 (off) or more, got %d" % (name, getattr(self, name)))
        if self.partial and self.definition is None:
            raise Refusal("partial=true needs definition or src")
        if self.wait_for == "suspended" and self.state not in ("stopped", "present"):
            raise Refusal("wait_for=suspended needs state=stopped or state=present, got state=%s" % self.state)
        if self.rollback_to is not None:
            if not self.rollback_to.strip():
                raise Refusal("rollback_to must be a version timestamp of the app, got an empty string")
            given = (("definition", params["definition"] is not None), ("src", bool(params["src"])),
                     ("instances", self.instances is not None), ("partial", self.partial))
            clashes = [name for name, is_given in given if is_given]
            if clashes:
                raise Refusal("rollback_to cannot be combined with %s: the version decides the whole definition"
                              % ", ".join(clashes))
            if self.state != "present":
                raise Refusal("rollback_to needs state=present, got state=%s" % self.state)

    def body(self, live, instances=None):
        """The request body for the definition: read-only fields dropped, the id set, the
        instance count applied, and the secret env names recorded in the app's label."""
        body = definition_for_request(self.definition)
        body["id"] = self.app_id
        if instances is not None:
            body["instances"] = instances
        self._record_secret_names(body, live)
        if old_networking(self.version):
            # Marathon 1.4 ignores networks and container.portMappings; for_version checked it converts.
            body = to_old_networking(body, self.source_field)[0]
        return body

    def _record_secret_names(self, body, live):
        """Names stay recorded once given (a later task without secret_env keeps them);
        a definition that sets the label itself decides alone."""
        if SECRET_ENV_LABEL in (self.definition.get("labels") or {}):
            return
        names = set(self.secret_env) | set(label_secret_names(live))
        if not names:
            return
        value = secret_env_label_value(names)
        if self.partial and live is not None and "labels" not in body:
            # A partial update without labels keeps the live ones; send them only to add names.
            live_labels = live.get("labels") or {}
            if live_labels.get(SECRET_ENV_LABEL) == value:
                return
            body["labels"] = dict(live_labels)
        else:
            body["labels"] = dict(body.get("labels") or {})
        body["labels"][SECRET_ENV_LABEL] = value

    def normalized(self, body, live):
        """The normalized definition the app has once ``body`` is applied to ``live``."""
        if self.partial and live is not None:
            merged = dict(live)
            merged.update(body)
            return normalize_app_definition(merged, self.version)
        return normalize_app_definition(body, self.version)
