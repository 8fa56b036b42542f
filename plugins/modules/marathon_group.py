#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: marathon_group
short_description: Converge one Marathon group (its apps, nested groups and dependencies) in one request
version_added: 0.2.0
description:
  - Converges one Marathon group, the unit Marathon deploys a stack in (a database, its pooler and its
    exporter). One C(GET /v2/groups/{id}) reads every app below the group, and at most one
    C(PUT /v2/groups/{id}) changes them in one deployment, whose steps Marathon orders by C(dependencies)
    (apps that others depend on start first).
  - Each app is compared with the live one exactly as M(dcos.marathon.marathon_app) compares them (one
    normalized form per Marathon version). When every app matches, nothing is sent and the task is one GET.
  - Otherwise the write carries the new definition of each app that differs; every other app is sent as
    Marathon shows it, so its part of the deployment is empty and its version does not move.
  - The resident-app rules of M(dcos.marathon.marathon_app) are checked for every app before any write. A
    change Marathon refuses on an app with persistent volumes fails the task, naming the app and the fields,
    and nothing is sent.
  - With O(wait=true) the module waits for the deployment and then for every app of the group to be running
    (healthy, for apps with health checks; suspended, for stopped apps with persistent volumes).
author:
  - dcos.marathon maintainers (@dcos-marathon)
options:
  group_id:
    description:
      - Id of the group, for example V(/stack) or V(prod/db). A missing leading slash is added. Not the root group.
    type: str
    required: true
  definition:
    description:
      - The group definition (the JSON of C(PUT /v2/groups/{id})) as a mapping, with C(apps), nested C(groups)
        and C(dependencies). Ids inside it may be relative to the group they are in; C(id) may be left out.
      - Apps are complete definitions, as in O(dcos.marathon.marathon_app#module:definition).
    type: dict
  src:
    description:
      - Path to a JSON or YAML file with the group definition, instead of O(definition).
    type: path
  state:
    description:
      - V(present) makes the group match the definition.
      - V(stopped) scales every app of the definition (every app of the group, without one) to 0 instances;
        apps with persistent volumes keep their data and are suspended.
      - V(started) starts them again with the definition's instance count, or, without one, the count they had
        (for stopped resident apps, the number of suspended instances).
      - V(absent) removes the group and every app below it (C(DELETE /v2/groups/{id})); when any of them has
        persistent volumes, only with O(allow_data_loss=true).
    type: str
    default: present
    choices: [present, stopped, started, absent]
  prune:
    description:
      - Remove live apps (and nested groups) of the group that the definition does not list. Without it they
        are kept as they are.
      - Apps with persistent volumes are removed only with O(allow_data_loss=true).
    type: bool
    default: false
  allow_data_loss:
    description:
      - Allow removing apps with persistent volumes (O(state=absent), O(prune=true)), which destroys the volumes.
    type: bool
    default: false
  force:
    description:
      - Send the write even when apps of the group are locked by deployments in progress (C(?force=true)),
        cancelling them. Without it, the module waits for those deployments and plans again.
    type: bool
    default: false
  wait:
    description:
      - Wait for the deployment and for every app of the group to reach its state.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for locks, the deployment and the apps, together.
    type: int
    default: 600
extends_documentation_fragment:
  - dcos.marathon.connection
  - dcos.marathon.attributes
  - dcos.marathon.attributes.ACTIONGROUP_MARATHON
attributes:
  check_mode:
    support: full
    details:
      - Nothing is sent except the GET; C(changed), RV(changes), RV(apps) and RV(diff) say what would change.
  diff_mode:
    support: full
    details:
      - Before and after are the normalized definitions of the apps that change, by app id, secret values masked.
notes:
  - A group update replaces the app list of each group it names, so the write always carries the whole tree
    below O(group_id).
  - The action plugin of this module passes the version cached in the C(marathon_versions) fact for
    O(marathon_url) as O(marathon_version), unless the task sets it.
seealso:
  - module: dcos.marathon.marathon_app
  - name: Marathon groups API
    description: The groups endpoints of Marathon 1.10.
    link: https://mesosphere.github.io/marathon/api-console/index.html
"""

EXAMPLES = r"""
- name: PostgreSQL and its pooler as one group; the pooler starts once the database runs
  dcos.marathon.marathon_group:
    marathon_url: http://marathon.example.com:8080
    group_id: /pg
    definition:
      apps:
        - id: db
          cpus: 1
          mem: 1024
          instances: 1
          container:
            type: DOCKER
            docker: {image: "postgres:15"}
            volumes:
              - {containerPath: pgdata, mode: RW, persistent: {size: 1024}}
        - id: pooler
          cpus: 0.2
          mem: 128
          instances: 1
          dependencies: [db]
          container:
            type: DOCKER
            docker: {image: "edoburu/pgbouncer:1.21"}

- name: Stop every app of the group, keeping the database's data
  dcos.marathon.marathon_group:
    marathon_url: http://marathon.example.com:8080
    group_id: /pg
    state: stopped

- name: Remove the group, volumes included
  dcos.marathon.marathon_group:
    marathon_url: http://marathon.example.com:8080
    group_id: /pg
    state: absent
    allow_data_loss: true
"""

RETURN = r"""
marathon_version:
  description:
    - The Marathon version the task worked with. A task that finds nothing to change does not need it, so
      without O(marathon_version) or a cached one it reads none and this is not returned.
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
      sample: {"http://marathon.example.com:8080": "1.10.26"}
group_id:
  description: The canonical id of the group.
  returned: always
  type: str
  sample: /pg
apps:
  description: One entry per app of the group (listed in the definition, or live), as last read.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The app id.
      type: str
    action:
      description: What the task did to the app, V(nothing), V(create), V(update), V(scale) or V(delete).
      type: str
    changed:
      description: Whether the app changed (in check mode, would change).
      type: bool
    changes:
      description: The top-level fields that differ, or C(app (created)), C(app (removed)).
      type: list
      elements: str
    version:
      description: The app's version after the task.
      type: str
    instances:
      description: The app's instance count after the task.
      type: int
    tasks_running:
      description: C(tasksRunning) of the app.
      type: int
    tasks_healthy:
      description: C(tasksHealthy) of the app.
      type: int
    healthy:
      description:
        - Whether the app reached its state, running (healthy, with health checks) with its instance count, or
          stopped (suspended, with persistent volumes).
      type: bool
  sample:
    - {id: /pg/db, action: nothing, changed: false, changes: [], version: "2026-01-01T00:00:00.000Z", instances: 1,
       tasks_running: 1, tasks_healthy: 1, healthy: true}
changes:
  description: The changed fields, by app id (and C(dependencies) by group id), of the apps that change.
  returned: always
  type: dict
  sample: {/pg/pooler: [cmd]}
deployment_id:
  description: The id of the deployment the write started.
  returned: always
  type: str
  sample: 5ed4c0c5-9ff8-4a6f-a838-6b8de8f1c1b1
version:
  description: The root group version of the write.
  returned: always
  type: str
  sample: "2026-01-01T00:00:00.000Z"
diff:
  description:
    - Normalized definitions of the apps that change, by app id, secret environment values masked.
  returned: when diff mode is on (C(--diff), or C(diff=true) on the task)
  type: dict
  contains:
    before:
      description: The live apps before the task, by app id.
      type: dict
      returned: always
    after:
      description: The apps after the task, by app id.
      type: dict
      returned: always
duration:
  description: Seconds spent waiting.
  returned: when the task waited
  type: float
  sample: 2.351
"""

from ansible_collections.dcos.marathon.plugins.module_utils._group import run_group_module
from ansible_collections.dcos.marathon.plugins.module_utils._module import MarathonModule


def main():
    argument_spec = dict(
        group_id=dict(type="str", required=True),
        definition=dict(type="dict"),
        src=dict(type="path"),
        state=dict(type="str", default="present", choices=["present", "stopped", "started", "absent"]),
        prune=dict(type="bool", default=False),
        allow_data_loss=dict(type="bool", default=False),
        force=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )
    module = MarathonModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("definition", "src")],
    )
    run_group_module(module)


if __name__ == "__main__":
    main()
