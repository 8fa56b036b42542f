#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: marathon_app
short_description: Idempotent, data-safe management of one Marathon app
version_added: 0.1.0
description:
  - Creates, updates, scales, stops, starts, restarts and removes one app on Marathon (plain, or on DC/OS).
  - The desired definition and the live app are compared in one normalized form (Marathon's defaults filled,
    read-only fields dropped, C(128) equal to C(128.0), C(postgres) equal to C(/postgres), missing equal to
    empty, constraints and health checks compared as sets, a port V(0) matching any assigned port, C(role)
    compared only when set). When they match, nothing is sent; a task that changes nothing sends exactly one
    GET (plus one login when a DC/OS user or service account is used).
  - Apps with local persistent volumes (resident apps, such as a PostgreSQL database) are protected. Removing
    one needs O(allow_data_loss=true). A change Marathon refuses on such an app (its persistent volumes,
    C(cpus), C(mem), C(disk), C(gpus), host ports, C(requirePorts)) is found before any request is sent and
    the task fails naming the fields and the way out.
  - When the app is locked by a deployment in progress, the module waits for that deployment (up to
    O(wait_timeout), also with O(wait=false)) and then applies the change, unless O(force=true).
author:
  - dcos.marathon maintainers (@dcos-marathon)
options:
  app_id:
    description:
      - Id of the app, for example V(/postgres) or V(prod/db). A missing leading slash is added.
      - Taken from C(id) of O(definition) or O(src) when not given. When both are given they must be the same.
    type: str
  definition:
    description:
      - The Marathon app definition (the JSON of C(POST /v2/apps)) as a mapping.
      - With O(partial=false) it is the complete desired definition; fields left out get Marathon's defaults.
      - Environment variable values and label values must be strings.
      - A field Marathon 1.10 does not know, at the top level or inside C(container), C(healthChecks),
        C(portDefinitions), C(upgradeStrategy) and the other nested objects, fails the task before any request,
        naming it and the field it most likely meant (Marathon would drop it, so it would be sent again on every
        run). The read-only fields a GET shows (C(version), C(versionInfo), C(tasks), C(deployments),
        C(lastTaskFailure), ...) are accepted and ignored.
    type: dict
  src:
    description:
      - Path of a JSON or YAML file with the app definition, instead of O(definition). Either format is
        accepted whatever the file is named.
      - The file is read by the module, that is on the host the task runs on (usually the controller, with
        C(connection=local)). A relative path is resolved against the module's working directory; with
        C(ansible-playbook) and C(connection=local) that is the directory of the playbook, not that of a role
        or of an included task file. An absolute path, for example V({{ playbook_dir }}/files/web.json), says
        so explicitly. When the file is not found, the message shows the path that was tried.
    type: path
  state:
    description:
      - V(present) creates the app or updates it to match the definition. Without a definition it only checks
        that the app exists (and applies O(instances)).
      - V(stopped) scales the app to 0 instances. Resident instances keep their reservations and volumes.
      - V(started) scales a stopped app up again. Without O(instances) it brings back as many instances as are
        suspended (stopped resident instances, which reuse their volumes), else the count of the definition,
        else 1. An app that already runs keeps its count.
      - V(restarted) restarts all tasks (C(POST /v2/apps/{id}/restart)); it reports a change every time. A
        definition that changes more than C(instances) already replaces every task, so no restart follows it.
        On a stopped app (0 instances), O(instances) or a definition (whose C(instances) defaults to 1) starts it
        with one write whose tasks are new, and no restart follows; without either it fails before any write.
      - V(absent) removes the app. An app with persistent volumes is only removed with O(allow_data_loss=true).
      - V(stopped), V(started) and V(restarted) create a missing app first when a definition is given, and fail
        otherwise. A new app is not restarted again.
    type: str
    choices: [present, started, stopped, restarted, absent]
    default: present
  instances:
    description:
      - Number of instances, overriding C(instances) of the definition.
      - Not allowed with O(state=stopped) or O(state=absent).
    type: int
  wait:
    description:
      - Wait for the deployment the task caused to finish, then for the condition in O(wait_for).
      - When nothing needs to be written, still wait for the deployments of the app in progress and for the
        condition in O(wait_for), and fail at O(wait_timeout) saying what was seen, so that a rerun after a
        timed-out run does not report success while the app is not there yet. When the condition already holds
        this costs no request beyond the first GET.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait in total, for deployments that lock the app, for the task's own deployment and for
        the condition in O(wait_for).
    type: int
    default: 600
  wait_for:
    description:
      - V(deployment) waits until the deployment leaves C(/v2/deployments).
      - V(healthy) also waits until C(tasksHealthy) and C(tasksRunning) reach the instance count.
      - V(running) also waits until C(tasksRunning) reaches the instance count.
      - The default is V(healthy) when the app has health checks, else V(running).
    type: str
    choices: [deployment, healthy, running]
  force:
    description:
      - Send the change with C(force=true), cancelling deployments that lock the app instead of waiting for them.
        This may leave a mix of old and new tasks.
    type: bool
    default: false
  allow_data_loss:
    description:
      - Allow O(state=absent) on an app with persistent volumes. Its volumes, and the data on them, are destroyed.
    type: bool
    default: false
  partial:
    description:
      - V(false) replaces the whole definition (C(PUT ?partialUpdate=false)); fields left out are reset to defaults.
      - V(true) changes only the top-level fields given in the definition (C(PUT ?partialUpdate=true)); each given
        field replaces the live one as a whole. A missing app is created from the given fields.
    type: bool
    default: false
  secret_env:
    description:
      - Names of environment variables whose values are secrets, in addition to every name containing C(PASS),
        C(PWD), C(SECRET), C(TOKEN), C(KEY), C(CREDENTIAL), C(PRIVATE) or C(AUTH) (any case).
      - Their values are shown as V(********) in RV(app) and RV(diff), and never appear in output or logs;
        a changed secret shows as V(******** (changed\)) in RV(diff).
      - When the task sends a definition (O(definition) or O(src)), the names are also recorded in the app's
        label C(DCOS_MARATHON_SECRET_ENV) (comma-separated, sorted), so that every later task of this collection
        on the app masks them too, also one by O(app_id) only and M(dcos.marathon.marathon_app_info). Recorded
        names stay (a later definition without O(secret_env) keeps the label as it is), so a rerun changes
        nothing. To drop a name, set the label yourself in the definition's C(labels); it is then used as given.
      - Names must not contain commas or spaces. Without any name, no label is added.
    type: list
    elements: str
    default: []
  rollback_to:
    description:
      - Roll the app back to one of its stored versions, a timestamp from RV(dcos.marathon.marathon_app_info#module:apps[].versions)
        (M(dcos.marathon.marathon_app_info) with O(dcos.marathon.marathon_app_info#module:versions=true)), for example the
        RV(version) recorded before a change.
      - Marathon puts back the definition stored under that version (including its instance count) as a new version
        (a C(PUT /v2/apps/{id}) whose body names the version); O(force) cancels a deployment that still holds the app.
      - Nothing is sent when the live definition already equals that version's (normalized), so a rerun changes
        nothing. A version the app does not have, or one whose definition differs from the live one in what Marathon
        refuses to change on an app with persistent volumes, fails the task before any write.
      - Needs O(app_id) and O(state=present); cannot be combined with O(definition), O(src), O(instances) or
        O(partial=true).
    type: str
    version_added: 0.1.0
extends_documentation_fragment:
  - dcos.marathon.connection
  - dcos.marathon.attributes
  - dcos.marathon.attributes.ACTIONGROUP_MARATHON
attributes:
  check_mode:
    support: full
    details:
      - Nothing is sent except GET requests; C(changed), RV(changes) and RV(diff) say what would change.
  diff_mode:
    support: full
    details:
      - Before and after are the normalized definitions, with secret values masked.
notes:
  - Marathon creates a deployment (and a new app version) for every C(PUT), even one that changes nothing,
    so the module decides on the client side whether anything differs and only then sends a request.
  - Waiting polls C(/v2/deployments) for the deployment the task caused, the first time after 50 ms and then
    at most every 200 ms, so a finished deployment is noticed within a quarter of a second; then it polls the
    app until the counts of O(wait_for) are reached. On timeout the task fails with the deployment's current
    step and actions, the task states and the last task failure.
  - After a connection error or an HTTP 502/503/504, a create or update is not sent again blindly; the app
    is read first and the request repeated only if the app is still absent or still differs.
seealso:
  - module: dcos.marathon.marathon_app_info
  - module: dcos.marathon.marathon_task_info
  - name: Marathon REST API
    description: The apps endpoints of Marathon 1.10.
    link: https://mesosphere.github.io/marathon/api-console/index.html
"""

EXAMPLES = r"""
# The DC/OS stateful-services tutorial, step by step.
- name: Add PostgreSQL with a persistent volume (dcos marathon app add postgres.marathon.json)
  dcos.marathon.marathon_app:
    marathon_url: https://dcos.example.com
    dcos_acs_token: "{{ lookup('ansible.builtin.env', 'DCOS_ACS_TOKEN') }}"
    ca_path: /etc/ssl/dcos-ca.crt
    definition:
      id: /postgres
      cpus: 1
      mem: 1024
      instances: 1
      networks:
        - mode: container/bridge
      container:
        type: DOCKER
        volumes:
          - containerPath: pgdata
            mode: RW
            persistent:
              size: 100
        docker:
          image: postgres:9.5
        portMappings:
          - containerPort: 5432
            hostPort: 0
            protocol: tcp
            labels:
              VIP_0: 5.4.3.2:5432
      env:
        POSTGRES_PASSWORD: "{{ postgres_password }}"
        PGDATA: /mnt/mesos/sandbox/pgdata
      healthChecks:
        - protocol: TCP
          portIndex: 0
          gracePeriodSeconds: 300
          intervalSeconds: 60
          timeoutSeconds: 20
          maxConsecutiveFailures: 3
      upgradeStrategy:
        maximumOverCapacity: 0
        minimumHealthCapacity: 0

- name: Stop it; the reservation and the volume stay (dcos marathon app stop /postgres)
  dcos.marathon.marathon_app:
    marathon_url: https://dcos.example.com
    app_id: /postgres
    state: stopped

- name: Start it again on the same volume (dcos marathon app start /postgres)
  dcos.marathon.marathon_app:
    marathon_url: https://dcos.example.com
    app_id: /postgres
    state: started

- name: Remove it, destroying its volume (dcos marathon app remove /postgres)
  dcos.marathon.marathon_app:
    marathon_url: https://dcos.example.com
    app_id: /postgres
    state: absent
    allow_data_loss: true

- name: Find the versions of the app
  dcos.marathon.marathon_app_info:
    marathon_url: https://dcos.example.com
    app_id: /postgres
    versions: true
  register: postgres_info

- name: Roll back to the version before the newest one (dcos marathon app version list, then update --version)
  dcos.marathon.marathon_app:
    marathon_url: https://dcos.example.com
    app_id: /postgres
    rollback_to: "{{ postgres_info.app.versions[1] }}"
    force: true

# Connection options once per play, with a DC/OS service account.
- name: Deploy with a service account
  module_defaults:
    group/dcos.marathon.marathon:
      marathon_url: https://dcos.example.com
      dcos_service_account: ansible-deployer
      dcos_private_key: /etc/ansible/dcos/ansible-deployer.pem
      ca_path: /etc/ssl/dcos-ca.crt
  block:
    - name: Deploy the web app from a file, without waiting for health
      dcos.marathon.marathon_app:
        src: "{{ playbook_dir }}/files/web.json"
        wait_for: deployment

    - name: Roll the web tasks
      dcos.marathon.marathon_app:
        app_id: /web
        state: restarted

# A plain Marathon (no DC/OS): no credentials, no /service/marathon.
- name: Scale to three instances, changing nothing else
  dcos.marathon.marathon_app:
    marathon_url: http://marathon.example.com:8080
    app_id: /web
    definition:
      instances: 3
    partial: true

# Marathon reached directly, logins at the DC/OS cluster.
- name: Update from a YAML file with a user login
  dcos.marathon.marathon_app:
    marathon_url: http://marathon.mesos:8080
    dcos_url: https://dcos.example.com
    dcos_username: ops
    dcos_password: "{{ dcos_password }}"
    src: "{{ playbook_dir }}/files/web.yml"
    secret_env: [DATABASE_URL]

- name: Show what an update would change, without sending it
  dcos.marathon.marathon_app:
    marathon_url: "{{ marathon_url }}"
    dcos_username: ops
    dcos_password: "{{ dcos_password }}"
    src: "{{ playbook_dir }}/files/web.json"
  check_mode: true
  diff: true
  register: plan

- name: Self-signed test cluster, cancel a stuck deployment
  dcos.marathon.marathon_app:
    marathon_url: https://127.0.0.1:8443
    validate_certs: false
    src: "{{ playbook_dir }}/files/web.json"
    force: true
"""

RETURN = r"""
app:
  description:
    - The app as C(GET /v2/apps/{id}) shows it after the change (with C(tasks), counts and C(deployments)),
      secret environment values masked.
    - In check mode, the normalized definition the app would have. V(null) when the app does not exist (any more).
  returned: always
  type: dict
  sample:
    id: /postgres
    instances: 1
    cpus: 1.0
    mem: 1024.0
    env:
      POSTGRES_PASSWORD: "********"
      PGDATA: /mnt/mesos/sandbox/pgdata
    tasksRunning: 1
    tasksHealthy: 1
    version: "2026-11-25T18:00:00.000Z"
changes:
  description:
    - Top-level fields of the definition that differ (were changed, or would be in check mode).
    - V(app (created\)) or V(app (removed\)) when the whole app is created or removed, and V(tasks (restart\))
      for a restart in check mode.
  returned: always
  type: list
  elements: str
  sample: [instances]
diff:
  description:
    - Normalized definitions before and after, secret environment values masked. V({}) for a missing app.
  returned: always
  type: dict
  contains:
    before:
      description: The live app before the task.
      type: dict
      returned: always
    after:
      description: The app after the task.
      type: dict
      returned: always
rollback_to:
  description: The version whose definition was put back (or would be, in check mode, or already was live).
  returned: when O(rollback_to) is set
  type: str
  sample: "2026-11-25T17:00:00.000Z"
deployment_id:
  description: Id of the deployment the task caused; V(null) when nothing was sent.
  returned: always
  type: str
  sample: 5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43
version:
  description: Version of the app after the task (the deployment's version when the app was removed).
  returned: always
  type: str
  sample: "2026-11-25T18:00:00.000Z"
tasks_running:
  description: C(tasksRunning) of the app after the task.
  returned: always
  type: int
  sample: 1
tasks_healthy:
  description: C(tasksHealthy) of the app after the task (0 for an app without health checks).
  returned: always
  type: int
  sample: 1
duration:
  description: Seconds spent waiting.
  returned: when the task waited
  type: float
  sample: 2.351
"""

import copy
import json
import os

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import (
    app_differs,
    app_id_problem,
    canonical_app_id,
    changed_fields,
    comparison_views,
    definition_for_request,
    diff_app,
    is_resident,
    label_secret_names,
    mask_app,
    normalize_app_definition,
    persistent_volumes,
    resident_refusal_message,
    resident_violations,
    SECRET_ENV_LABEL,
    secret_env_label_value,
    secret_env_problems,
    secret_values,
    validate_definition,
)
from ansible_collections.dcos.marathon.plugins.module_utils._errors import MarathonError
from ansible_collections.dcos.marathon.plugins.module_utils._module import MarathonModule
from ansible_collections.dcos.marathon.plugins.module_utils._tasks import suspended_tasks
from ansible_collections.dcos.marathon.plugins.module_utils._wait import WaitTimeout, Waiter, app_condition_met

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False

# Re-reads after a lock cleared; more rounds mean someone keeps deploying the app.
MAX_LOCK_ROUNDS = 5


class _Locked(Exception):
    def __init__(self, ids):
        super(_Locked, self).__init__(", ".join(ids))
        self.ids = ids


class _AppAppeared(Exception):
    """The POST of a new app met an app of that id created meanwhile (another run)."""

    def __init__(self, error):
        super(_AppAppeared, self).__init__(str(error))
        self.error = error


class _Fail(Exception):
    def __init__(self, msg, **extra):
        super(_Fail, self).__init__(msg)
        self.msg = msg
        self.extra = extra


class AppRunner(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.secret_env = list(self.p.get("secret_env") or [])
        self.defn = None
        self.app_id = None
        self.waiter = None
        self.result = dict(
            changed=False, app=None, changes=[], diff={"before": {}, "after": {}}, deployment_id=None,
            version=None, tasks_running=0, tasks_healthy=0,
        )

    # ---- input -----------------------------------------------------------------------

    def _load_src(self, path):
        # The module's working directory decides a relative path; show where it looked.
        resolved = os.path.abspath(path)
        shown = "'%s'" % path if resolved == path else "'%s' (resolved to '%s')" % (path, resolved)
        if not os.path.isfile(resolved):
            raise _Fail("src %s is not a readable file" % shown)
        try:
            with open(resolved, "r") as f:
                text = f.read()
        except (IOError, OSError) as e:
            raise _Fail("src %s cannot be read: %s" % (shown, to_native(e.strerror)))
        try:
            return json.loads(text)
        except ValueError as json_error:
            if not HAS_YAML:
                raise _Fail("src %s is not valid JSON: %s (YAML is accepted too, but PyYAML is not installed)"
                            % (shown, to_native(json_error)))
            json_problem = to_native(json_error)
        # JSON or YAML whatever the file is named.
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise _Fail("src %s is not valid JSON (%s) nor valid YAML (%s); either format is accepted, "
                        "whatever the file name" % (shown, json_problem, to_native(e).splitlines()[0]))

    def validate_input(self):
        p = self.p
        problems = secret_env_problems(self.secret_env)
        if problems:
            raise _Fail("; ".join(problems))
        if p["src"]:
            self.defn = self._load_src(p["src"])
            field = "src"
        else:
            self.defn = copy.deepcopy(p["definition"]) if p["definition"] is not None else None
            field = "definition"
        if self.defn is not None:
            problems = validate_definition(self.defn, field)
            if problems:
                raise _Fail("; ".join(problems))
            # Before anything can be printed: secret env values are masked everywhere.
            for value in secret_values(self.defn, self.secret_env):
                self.module.no_log_values.add(value)
        app_id = p["app_id"]
        body_id = self.defn.get("id") if self.defn else None
        if app_id is not None:
            why = app_id_problem(app_id)
            if why:
                raise _Fail("app_id '%s' %s" % (app_id, why))
            if body_id is not None and canonical_app_id(body_id) != canonical_app_id(app_id):
                raise _Fail(
                    "app_id '%s' and %s.id '%s' name different apps; give one, or the same in both"
                    % (app_id, field, body_id)
                )
        elif body_id is None:
            raise _Fail("app_id is required when %s has no id" % field if self.defn is not None else "app_id is required")
        self.app_id = canonical_app_id(app_id if app_id is not None else body_id)
        if p["instances"] is not None:
            if p["instances"] < 0:
                raise _Fail("instances must be 0 or more, got %d" % p["instances"])
            if p["state"] in ("stopped", "absent"):
                raise _Fail("instances cannot be used with state=%s" % p["state"])
        if p["wait_timeout"] <= 0:
            raise _Fail("wait_timeout must be greater than 0, got %d" % p["wait_timeout"])
        if p["partial"] and self.defn is None:
            raise _Fail("partial=true needs definition or src")
        if p["rollback_to"] is not None:
            self._validate_rollback()

    def _validate_rollback(self):
        p = self.p
        if not p["rollback_to"].strip():
            raise _Fail("rollback_to must be a version timestamp of the app, got an empty string")
        given = (("definition", p["definition"] is not None), ("src", bool(p["src"])),
                 ("instances", p["instances"] is not None), ("partial", p["partial"]))
        clashes = [name for name, is_given in given if is_given]
        if clashes:
            raise _Fail("rollback_to cannot be combined with %s: the version decides the whole definition"
                        % ", ".join(clashes))
        if p["state"] != "present":
            raise _Fail("rollback_to needs state=present, got state=%s" % p["state"])

    # ---- helpers ---------------------------------------------------------------------

    @property
    def client(self):
        return self.module.client

    def _get_waiter(self):
        if self.waiter is None:
            self.waiter = Waiter(self.client, self.p["wait_timeout"])
        return self.waiter

    def _desired_body(self, live, instances=None):
        body = definition_for_request(self.defn)
        body["id"] = self.app_id
        if instances is not None:
            body["instances"] = instances
        elif self.p["instances"] is not None:
            body["instances"] = self.p["instances"]
        self._record_secret_names(body, live)
        return body

    def _record_secret_names(self, body, live):
        """Put the secret env names in the app's label, so later reads mask them too.

        Names stay recorded once given (a later task without secret_env keeps them);
        a definition that sets the label itself decides alone.
        """
        if SECRET_ENV_LABEL in (self.defn.get("labels") or {}):
            return
        names = set(self.secret_env) | set(label_secret_names(live))
        if not names:
            return
        value = secret_env_label_value(names)
        if self.p["partial"] and live is not None and "labels" not in body:
            # A partial update without labels keeps the live ones; send them only to add names.
            live_labels = live.get("labels") or {}
            if live_labels.get(SECRET_ENV_LABEL) == value:
                return
            body["labels"] = dict(live_labels)
        else:
            body["labels"] = dict(body.get("labels") or {})
        body["labels"][SECRET_ENV_LABEL] = value

    def _desired_norm(self, body, live):
        if self.p["partial"] and live is not None:
            merged = dict((k, v) for k, v in live.items())
            merged.update(body)
            return normalize_app_definition(merged)
        return normalize_app_definition(body)

    def _remember_live_secrets(self, live):
        for value in secret_values(live or {}, self.secret_env):
            self.module.no_log_values.add(value)

    def _ensure_unlocked(self, live):
        if self.p["force"] or not live:
            return
        ids = [d.get("id") for d in live.get("deployments") or [] if isinstance(d, dict) and d.get("id")]
        if ids:
            raise _Locked(ids)

    def _send(self, live, send):
        self._ensure_unlocked(live)
        try:
            resp = send()
        except MarathonError as e:
            if e.status == 409 and not self.p["force"] and e.deployment_ids:
                raise _Locked(e.deployment_ids)
            raise
        self.result["changed"] = True
        self.result["deployment_id"] = resp.deployment_id
        if isinstance(resp.body, dict) and resp.body.get("version"):
            self.result["version"] = resp.body["version"]
        return resp

    def _set_diff(self, desired_norm, live_norm):
        self.result["diff"] = diff_app(desired_norm, live_norm, self.secret_env)
        if desired_norm is not None and live_norm is not None:
            self.result["changes"] = changed_fields(desired_norm, live_norm)

    def _finish_app(self, app):
        self.result["app"] = mask_app(app, self.secret_env) if app else None
        self.result["tasks_running"] = (app or {}).get("tasksRunning", 0) or 0
        self.result["tasks_healthy"] = (app or {}).get("tasksHealthy", 0) or 0
        if app:
            self._remember_live_secrets(app)
            if app.get("version"):
                self.result["version"] = app["version"]

    def _check_mode_app(self, desired_norm, live_norm):
        if desired_norm is None:
            return None
        view, _live = comparison_views(desired_norm, live_norm or {})
        return mask_app(view, self.secret_env)

    def _wait_for(self, app_hint):
        if self.p["wait_for"]:
            return self.p["wait_for"]
        return "healthy" if (app_hint or {}).get("healthChecks") else "running"

    def _follow(self, instances, app_hint):
        """Wait for the task's deployment and the app's condition; sets the result app."""
        dep = self.result["deployment_id"]
        if not self.p["wait"]:
            self._finish_app(self.client.get_app(self.app_id))
            return
        waiter = self._get_waiter()
        start = waiter.deadline.elapsed()
        waiter.wait_deployment(dep, self.app_id)
        wait_for = self._wait_for(app_hint)
        if wait_for == "deployment":
            app = self.client.get_app(self.app_id)
        else:
            app = waiter.wait_app(self.app_id, wait_for, instances)
        self.result["duration"] = round(waiter.deadline.elapsed() - start, 3)
        self._finish_app(app)

    def _settle(self, live):
        """Nothing to write: still wait for this app's deployments in progress and for O(wait_for).

        A rerun after a run that timed out must not report a success it has not seen; when the
        condition already holds this costs no request beyond the first GET.
        """
        if live is None or not self.p["wait"] or self.module.check_mode:
            self._finish_app(live)
            return
        deployment_ids = [d.get("id") for d in live.get("deployments") or [] if isinstance(d, dict) and d.get("id")]
        wait_for = self._wait_for(live)
        if not deployment_ids and (wait_for == "deployment" or app_condition_met(live, wait_for)):
            self._finish_app(live)
            return
        waiter = self._get_waiter()
        start = waiter.deadline.elapsed()
        for deployment_id in deployment_ids:
            waiter.wait_deployment(deployment_id, self.app_id)
        if wait_for == "deployment":
            app = self.client.get_app(self.app_id)
        else:
            app = waiter.wait_app(self.app_id, wait_for, app=None if deployment_ids else live)
        self.result["duration"] = round(waiter.deadline.elapsed() - start, 3)
        self._finish_app(app)

    # ---- actions ---------------------------------------------------------------------

    def create(self, body):
        desired_norm = normalize_app_definition(body)
        self._set_diff(desired_norm, None)
        self.result["changes"] = ["app (created)"]
        if self.module.check_mode:
            self.result["changed"] = True
            self.result["app"] = mask_app(desired_norm, self.secret_env)
            return
        try:
            self._send(None, lambda: self.client.create_app(body, force=self.p["force"]))
        except MarathonError as e:
            if e.status == 409:
                # Created by someone else since our GET: read it and converge instead.
                raise _AppAppeared(e)
            raise
        self._follow(body.get("instances", 1), body)

    def converge(self, live, body):
        """Make the live app match ``body``; returns the kind of change made."""
        desired_norm = self._desired_norm(body, live)
        live_norm = normalize_app_definition(live)
        if not app_differs(desired_norm, live_norm):
            self._set_diff(desired_norm, live_norm)
            return None
        violations = resident_violations(desired_norm, live_norm)
        if violations:
            d, lv = comparison_views(desired_norm, live_norm)
            raise _Fail(resident_refusal_message(self.app_id, violations, d, lv), changes=violations)
        self._set_diff(desired_norm, live_norm)
        kind = "scale" if self.result["changes"] == ["instances"] else "config"
        if self.module.check_mode:
            self.result["changed"] = True
            self.result["app"] = self._check_mode_app(desired_norm, live_norm)
            return kind

        def matches(now):
            return not app_differs(desired_norm, normalize_app_definition(now))

        partial = self.p["partial"]
        self._send(
            live,
            lambda: self.client.update_app(self.app_id, body, force=self.p["force"], partial=partial, landed=matches),
        )
        self._follow(desired_norm.get("instances", 1), desired_norm)
        return kind

    def scale(self, live, count):
        live_norm = normalize_app_definition(live)
        desired_norm = dict(live_norm, instances=count)
        self._set_diff(desired_norm, live_norm)
        if live.get("instances", 1) == count:
            return False
        if self.module.check_mode:
            self.result["changed"] = True
            self.result["app"] = self._check_mode_app(desired_norm, live_norm)
            return True

        def matches(now):
            return now.get("instances") == count

        self._send(
            live,
            lambda: self.client.update_app(self.app_id, {"instances": count}, force=self.p["force"], partial=True,
                                           landed=matches),
        )
        self._follow(count, live)
        return True

    def _started_count(self, live):
        p = self.p
        if p["instances"] is not None:
            return p["instances"]
        defn_count = self.defn.get("instances") if self.defn else None
        if live is not None and (live.get("instances") or 0) > 0:
            return defn_count if defn_count else live["instances"]
        suspended = len(suspended_tasks((live or {}).get("tasks") or [], (live or {}).get("instances", 0)))
        if suspended:
            return suspended
        return defn_count if defn_count else 1

    def _missing(self, state):
        raise _Fail(
            "App '%s' does not exist, and state=%s can only create it from a definition; give definition or src"
            % (self.app_id, state)
        )

    # ---- states ----------------------------------------------------------------------

    def run_state(self, live):
        state = self.p["state"]
        self._remember_live_secrets(live)
        if self.p["rollback_to"] is not None:
            return self.rollback(live)
        if state == "absent":
            return self.absent(live)
        if state == "present":
            if live is None:
                if self.defn is None:
                    self._missing(state)
                return self.create(self._desired_body(live))
            if self.defn is None:
                if self.p["instances"] is not None:
                    self.scale(live, self.p["instances"])
                else:
                    self._set_diff(normalize_app_definition(live), normalize_app_definition(live))
            else:
                self.converge(live, self._desired_body(live))
        elif state == "stopped":
            if live is None:
                if self.defn is None:
                    self._missing(state)
                return self.create(self._desired_body(live, instances=0))
            if self.defn is None:
                self.scale(live, 0)
            else:
                self.converge(live, self._desired_body(live, instances=0))
        elif state == "started":
            count = self._started_count(live)
            if live is None:
                if self.defn is None:
                    self._missing(state)
                return self.create(self._desired_body(live, instances=count))
            if self.defn is None:
                self.scale(live, count)
            else:
                self.converge(live, self._desired_body(live, instances=count))
        elif state == "restarted":
            return self.restarted(live)
        if not self.result["changed"]:
            self._settle(live)

    def restarted(self, live):
        if live is None:
            if self.defn is None:
                self._missing("restarted")
            return self.create(self._desired_body(live))
        body = self._desired_body(live) if self.defn is not None else None
        if body is not None:
            target = self._desired_norm(body, live).get("instances", 1)
        elif self.p["instances"] is not None:
            target = self.p["instances"]
        else:
            target = live.get("instances", 0)
        if not target:
            raise _Fail(
                "App '%s' has 0 instances, so there is nothing to restart; use state=started to start it, or give "
                "instances (or a definition) to start it with state=restarted" % self.app_id
            )
        was_stopped = not live.get("instances")
        kind = None
        if body is not None:
            kind = self.converge(live, body)
        elif target != live.get("instances"):
            kind = "scale" if self.scale(live, target) else None
        else:
            live_norm = normalize_app_definition(live)
            self._set_diff(live_norm, live_norm)
        if kind == "config" or (kind == "scale" and was_stopped):
            # A config change replaced every task, and starting a stopped app launched new ones:
            # restarting them again would only roll fresh tasks (and a database) a second time.
            return
        if kind is not None and not self.module.check_mode:
            live = self.client.get_app(self.app_id) or live
        if self.module.check_mode:
            self.result["changed"] = True
            self.result["app"] = self.result["app"] or mask_app(live, self.secret_env)
            self.result["changes"] = sorted(set(self.result["changes"]) | {"tasks (restart)"})
            return
        self._send(live, lambda: self.client.restart_app(self.app_id, force=self.p["force"]))
        self._follow(target, live)

    def rollback(self, live):
        version = self.p["rollback_to"]
        self.result["rollback_to"] = version
        if live is None:
            raise _Fail("App '%s' does not exist, so there is no version to roll back to; nothing was sent"
                        % self.app_id)
        versions = self.client.get_app_versions(self.app_id)
        if version not in versions:
            raise _Fail(
                "rollback_to '%s' is not a stored version of app '%s'; nothing was sent. Newest versions: %s"
                % (version, self.app_id, ", ".join(str(v) for v in versions[:5]) or "none")
            )
        target = self.client.get_app_version(self.app_id, version)
        if target is None:
            raise _Fail("Version '%s' of app '%s' could not be read; nothing was sent" % (version, self.app_id))
        self._remember_live_secrets(target)
        target_norm = normalize_app_definition(target)
        live_norm = normalize_app_definition(live)
        if not app_differs(target_norm, live_norm):
            self._set_diff(target_norm, live_norm)
            self._settle(live)
            return
        violations = resident_violations(target_norm, live_norm)
        if violations:
            d, lv = comparison_views(target_norm, live_norm)
            raise _Fail("rollback_to '%s': %s" % (version, resident_refusal_message(self.app_id, violations, d, lv)),
                        changes=violations)
        self._set_diff(target_norm, live_norm)
        if self.module.check_mode:
            self.result["changed"] = True
            self.result["app"] = self._check_mode_app(target_norm, live_norm)
            return

        def matches(now):
            return not app_differs(target_norm, normalize_app_definition(now))

        self._send(live, lambda: self.client.rollback_app(self.app_id, version, force=self.p["force"],
                                                          landed=matches))
        self._follow(target_norm.get("instances", 1), target_norm)

    def absent(self, live):
        if live is None:
            return
        live_norm = normalize_app_definition(live)
        if is_resident(live) and not self.p["allow_data_loss"]:
            paths = ", ".join(v.get("containerPath", "?") for v in persistent_volumes(live))
            raise _Fail(
                "App '%s' has persistent volumes (%s); removing it destroys them and the data on them. Nothing was "
                "sent. Set allow_data_loss=true to remove it anyway, or use state=stopped to stop it and keep the "
                "data" % (self.app_id, paths)
            )
        self._set_diff(None, live_norm)
        self.result["changes"] = ["app (removed)"]
        self._finish_app(None)
        if self.module.check_mode:
            self.result["changed"] = True
            return
        self._send(live, lambda: self.client.delete_app(self.app_id, force=self.p["force"]))
        if self.p["wait"]:
            waiter = self._get_waiter()
            start = waiter.deadline.elapsed()
            waiter.wait_deployment(self.result["deployment_id"], self.app_id)
            waiter.wait_absent(self.app_id)
            self.result["duration"] = round(waiter.deadline.elapsed() - start, 3)

    def _read_live(self):
        live = self.client.get_app(self.app_id)
        # A task that fails from here on still returns the app as last seen.
        self._finish_app(live)
        return live

    def run(self):
        self.validate_input()
        live = self._read_live()
        for _round in range(MAX_LOCK_ROUNDS):
            try:
                self.run_state(live)
                return self.result
            except _Locked as locked:
                self._get_waiter().wait_unlocked(self.app_id, locked.ids)
                live = self._read_live()
            except _AppAppeared as appeared:
                live = self._read_live()
                if live is None:
                    raise appeared.error
        raise _Fail("App '%s' stayed locked by new deployments; nothing was changed. Try force=true" % self.app_id)


def main():
    argument_spec = dict(
        app_id=dict(type="str"),
        definition=dict(type="dict"),
        src=dict(type="path"),
        state=dict(type="str", default="present", choices=["present", "started", "stopped", "restarted", "absent"]),
        instances=dict(type="int"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        wait_for=dict(type="str", choices=["deployment", "healthy", "running"]),
        force=dict(type="bool", default=False),
        allow_data_loss=dict(type="bool", default=False),
        partial=dict(type="bool", default=False),
        secret_env=dict(type="list", elements="str", default=[], no_log=False),
        rollback_to=dict(type="str"),
    )
    module = MarathonModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("definition", "src")],
        required_one_of=[("app_id", "definition", "src")],
    )
    runner = AppRunner(module)
    try:
        result = runner.run()
    except _Fail as e:
        result = dict(runner.result)
        result.update(e.extra)
        module.fail_json(msg=e.msg, **result)
    except _Locked as e:
        module.fail_json(msg="App '%s' is locked by deployments %s" % (runner.app_id, ", ".join(e.ids)), **runner.result)
    except WaitTimeout as e:
        if e.app is not None:
            runner._finish_app(e.app)
        result = dict(runner.result)
        result.update(e.to_result())
        module.fail_json(msg=str(e), **result)
    except MarathonError as e:
        module.fail_from_error(e, **runner.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
