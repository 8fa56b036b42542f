#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: marathon_app_info
short_description: Show Marathon apps, their status and the deployments in flight
version_added: 0.1.0
description:
  - Shows one Marathon app (O(app_id)), or all apps, optionally filtered by id prefix and labels.
  - For each app it returns the definition in the normalized form that M(dcos.marathon.marathon_app)
    compares with, the task counters, the deployments in flight that touch the app, the last task
    failure and, on request, the list of stored versions.
  - The normalized definition is made with the defaults of the cluster's Marathon version (1.4 to 1.11),
    as M(dcos.marathon.marathon_app) makes it; the version is O(marathon_version), or read once per cluster
    with C(GET /v2/info) when an app is found and returned as the C(marathon_versions) fact.
  - Read-only.
author:
  - dcos.marathon maintainers (@dcos-marathon)
options:
  app_id:
    description:
      - Id of one app, for example V(/postgres). RV(app) is V(null) and RV(apps) empty when Marathon answers that it does not exist.
      - Cannot be combined with O(id_prefix) or O(labels).
    type: str
  id_prefix:
    description:
      - Only apps whose id starts with this string, for example V(/prod/) for every app under the
        C(/prod) group. A missing leading slash is added.
    type: str
  labels:
    description:
      - Only apps that have all these labels with exactly these values.
    type: dict
  versions:
    description:
      - Also return the stored versions of each app (newest first), one extra request per app.
    type: bool
    default: false
  redact_env:
    description:
      - Replace the values of environment variables whose name looks secret (it contains C(PASS),
        C(PWD), C(SECRET), C(TOKEN), C(KEY), C(CREDENTIAL), C(PRIVATE) or C(AUTH)) with V(********) in
        RV(apps[].definition), so that a database password does not end up in logs. This is the same
        masking M(dcos.marathon.marathon_app) applies to its diff. References to Marathon secrets are kept.
      - The names recorded in the app's label C(DCOS_MARATHON_SECRET_ENV) (by O(dcos.marathon.marathon_app#module:secret_env))
        and the names in O(secret_env) are masked as well.
    type: bool
    default: true
  secret_env:
    description:
      - Names of more environment variables whose values are secrets, masked like the secret-looking names
        when O(redact_env=true), in addition to those recorded in the app's label C(DCOS_MARATHON_SECRET_ENV).
    type: list
    elements: str
    default: []
    version_added: 0.1.0
extends_documentation_fragment:
  - dcos.marathon.connection
  - dcos.marathon.attributes
  - dcos.marathon.attributes.INFO_MODULE
  - dcos.marathon.attributes.ACTIONGROUP_MARATHON
seealso:
  - module: dcos.marathon.marathon_app
  - module: dcos.marathon.marathon_task_info
"""

EXAMPLES = r"""
# The tutorial's "dcos marathon app show /postgres", with the deployment in flight.
- name: Show the PostgreSQL app
  dcos.marathon.marathon_app_info:
    marathon_url: http://127.0.0.1:8080
    app_id: /postgres
  register: postgres

- name: Tell whether it is deployed and how many tasks run
  ansible.builtin.debug:
    msg: >-
      {{ 'absent' if postgres.app is none else
         postgres.app.status.tasks_running ~ '/' ~ postgres.app.status.instances ~ ' running, ' ~
         (postgres.app.deployments | length) ~ ' deployment(s) in flight' }}

# "dcos marathon app version list /postgres"
- name: List the stored versions of the app
  dcos.marathon.marathon_app_info:
    marathon_url: http://127.0.0.1:8080
    app_id: /postgres
    versions: true
  register: postgres_versions

# Every stateful service of the team, on DC/OS.
- name: Find the apps under /prod that carry the team label
  dcos.marathon.marathon_app_info:
    marathon_url: https://dcos.example.com/service/marathon
    dcos_acs_token: "{{ vault_dcos_token }}"
    id_prefix: /prod/
    labels:
      team: data
  register: team_apps
"""

RETURN = r"""
marathon_version:
  description: The Marathon version the definitions were normalized with.
  returned: when known
  type: str
  sample: "1.10.26"
ansible_facts:
  description: Facts set for the next tasks, when the task read the version itself.
  returned: when the version was read with C(GET /v2/info)
  type: dict
  contains:
    marathon_versions:
      description: The version of each cluster, by O(marathon_url) (without a trailing slash).
      type: dict
      sample: {"https://dcos.example.com/service/marathon": "1.10.26"}
app:
  description: The app of O(app_id), as in RV(apps); V(null) when it does not exist.
  returned: when O(app_id) is set
  type: dict
  sample: null
apps:
  description: The apps found, sorted by id.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: App id.
      type: str
      sample: /postgres
    definition:
      description:
        - The app definition, normalized the way M(dcos.marathon.marathon_app) compares it (defaults
          filled in, status and read-only fields removed).
        - Secret-looking environment values, and those named in O(secret_env) or in the app's label
          C(DCOS_MARATHON_SECRET_ENV), are masked unless O(redact_env=false).
      type: dict
      sample: {"id": "/postgres", "instances": 1, "cpus": 1.0, "mem": 1024.0}
    version:
      description: Version (timestamp) of the app.
      type: str
      sample: "2024-08-19T10:21:04.223Z"
    version_info:
      description: When the app was last scaled and last changed.
      type: dict
      contains:
        last_scaling_at:
          description: Last change of the instance count (or restart).
          type: str
        last_config_change_at:
          description: Last change of the definition.
          type: str
    status:
      description: Instance and task counters as Marathon reports them.
      type: dict
      contains:
        instances:
          description: Number of instances asked for.
          type: int
          sample: 1
        tasks_staged:
          description: Tasks staged.
          type: int
          sample: 0
        tasks_running:
          description: Tasks running.
          type: int
          sample: 1
        tasks_healthy:
          description: Tasks whose health checks all pass.
          type: int
          sample: 1
        tasks_unhealthy:
          description: Tasks with a failing health check.
          type: int
          sample: 0
    deployments:
      description: Deployments in flight that touch this app.
      type: list
      elements: dict
      contains:
        id:
          description: Deployment id.
          type: str
        version:
          description: Version the deployment moves to.
          type: str
        current_step:
          description: Step running now (1-based; 0 before the first step starts).
          type: int
        total_steps:
          description: Number of steps.
          type: int
        current_actions:
          description: Actions of the current step, for example C(ScaleApplication).
          type: list
          elements: str
    last_task_failure:
      description: The last task failure Marathon remembers for the app, or V(null).
      type: dict
      contains:
        task_id:
          description: Task that failed.
          type: str
        state:
          description: Its final state.
          type: str
        message:
          description: Why it failed.
          type: str
        host:
          description: Agent host.
          type: str
        timestamp:
          description: When it failed.
          type: str
        version:
          description: App version of the task.
          type: str
    versions:
      description: Stored versions of the app, newest first.
      returned: when O(versions=true)
      type: list
      elements: str
      sample: ["2024-08-19T10:21:04.223Z"]
"""

from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import (
    mask_app,
    normalize_app_definition,
    secret_env_problems,
)
from ansible_collections.dcos.marathon.plugins.module_utils._errors import MarathonError
from ansible_collections.dcos.marathon.plugins.module_utils._module import MarathonModule
from ansible_collections.dcos.marathon.plugins.module_utils._versions import BASELINE


def has_labels(app, labels):
    live = app.get("labels") or {}
    return all(k in live and str(live[k]) == str(v) for k, v in labels.items())


def deployment_summary(dep):
    return {
        "id": dep.get("id"),
        "version": dep.get("version"),
        "current_step": dep.get("currentStep"),
        "total_steps": dep.get("totalSteps"),
        "current_actions": [a.get("action") for a in (dep.get("currentActions") or []) if isinstance(a, dict)],
    }


def failure_summary(failure):
    if not isinstance(failure, dict):
        return None
    return {
        "task_id": failure.get("taskId"),
        "state": failure.get("state"),
        "message": failure.get("message"),
        "host": failure.get("host"),
        "timestamp": failure.get("timestamp"),
        "version": failure.get("version"),
    }


def app_summary(app, deployments, redact_env, secret_env=(), version=BASELINE):
    app_id = app.get("id")
    info = app.get("versionInfo") or {}
    definition = normalize_app_definition(app, version)
    if redact_env:
        definition = mask_app(definition, secret_env)
    return {
        "id": app_id,
        "definition": definition,
        "version": app.get("version"),
        "version_info": {
            "last_scaling_at": info.get("lastScalingAt"),
            "last_config_change_at": info.get("lastConfigChangeAt"),
        },
        "status": {
            "instances": app.get("instances"),
            "tasks_staged": app.get("tasksStaged", 0),
            "tasks_running": app.get("tasksRunning", 0),
            "tasks_healthy": app.get("tasksHealthy", 0),
            "tasks_unhealthy": app.get("tasksUnhealthy", 0),
        },
        "deployments": [deployment_summary(d) for d in deployments if app_id in (d.get("affectedApps") or [])],
        "last_task_failure": failure_summary(app.get("lastTaskFailure")),
    }


def main():
    module = MarathonModule(
        argument_spec=dict(
            app_id=dict(type="str"),
            id_prefix=dict(type="str"),
            labels=dict(type="dict"),
            versions=dict(type="bool", default=False),
            redact_env=dict(type="bool", default=True),
            secret_env=dict(type="list", elements="str", default=[], no_log=False),
        ),
        mutually_exclusive=[("app_id", "id_prefix"), ("app_id", "labels")],
        supports_check_mode=True,
    )
    p = module.params
    app_id = module.app_id_param()
    prefix = p["id_prefix"]
    if prefix is not None and not prefix.startswith("/"):
        prefix = "/" + prefix
    problems = secret_env_problems(p["secret_env"])
    if problems:
        module.fail_json(msg="; ".join(problems))
    labels = p["labels"] or {}
    for key, value in labels.items():
        if isinstance(value, (dict, list)):
            module.fail_json(msg="labels.%s must be a string, got a %s" % (key, type(value).__name__))

    client = module.client
    try:
        if app_id is not None:
            one = client.get_app(app_id)
            raw = [one] if one is not None else []
        else:
            # Marathon's id filter is a substring match and its label selector has its own
            # escaping rules; both are applied here exactly instead.
            raw = client.list_apps(embed=["apps.lastTaskFailure"])
            raw = [a for a in raw if (prefix is None or a.get("id", "").startswith(prefix)) and has_labels(a, labels)]
        deployments = [d for d in client.get_deployments() if isinstance(d, dict)] if raw else []
        # The version decides the defaults of the normalized definition; read only when there is an app.
        version = module.marathon_version if raw else BASELINE
        apps = [app_summary(a, deployments, p["redact_env"], p["secret_env"], version)
                for a in sorted(raw, key=lambda a: a.get("id", ""))]
        if p["versions"]:
            for app in apps:
                app["versions"] = client.get_app_versions(app["id"])
    except MarathonError as e:
        module.fail_from_error(e)

    result = dict(changed=False, apps=apps)
    if app_id is not None:
        result["app"] = apps[0] if apps else None
    module.exit_json(**result)


if __name__ == "__main__":
    main()
