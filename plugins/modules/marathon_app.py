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
    GET (plus one login when a DC/OS user or service account is used). The exact Marathon version is read
    (C(GET /v2/info), once per cluster, see O(marathon_version)) only by a task that writes or refuses, or whose
    definition uses a field some version does not know; until then the comparison assumes the version the
    live app's shape shows.
  - Works with Marathon 1.4 to 1.11 (DC/OS 1.9 to 2.2, see the notes). The cluster's version decides the
    defaults the comparison fills (C(maxLaunchDelaySeconds) 3600 before 1.8, 300 from 1.8;
    C(unreachableStrategy) C({300, 600}) on 1.4.0 to 1.4.8 and 1.5.0, C({0, 0}) otherwise, V(disabled) for
    resident apps; no default port mapping for a bridge app on 1.4; C(ipProtocol) of C(MESOS_*) health checks
    from 1.6; C(acceptedResourceRoles) kept as 1.9 keeps them; C(resourceLimits) on 1.10 compared only when
    the live app shows it). C(delaySeconds) of C(HTTP), C(HTTPS) and C(TCP) health checks and C(ipProtocol)
    of the other checks are never compared, since Marathon does not store them.
  - When the definition does not set C(maxLaunchDelaySeconds) or C(unreachableStrategy), a live value that an
    older Marathon's default left stored (3600, or C({300, 600})) counts as unchanged, so the first run after
    a DC/OS upgrade does not restart the app.
  - A field the cluster's Marathon does not know yet (it would drop it, and the app would differ on every
    run) is refused before the app is read, naming the field and the first version that knows it
    (C(tty) 1.5, C(container.volumes[].persistent.profileName) 1.6, C(executorResources) 1.6.352, C(check) and
    C(container.linuxInfo) 1.8, C(container.linuxInfo.ipcInfo) and C(role) 1.9, C(resourceLimits) 1.10). So is a
    file-based secret (a volume with C(secret)) on Marathon 1.4, which knows secrets only as environment variables.
  - Both networking forms are read in every version (C(networks) with C(container.portMappings), or the
    Marathon 1.4 form C(container.docker.network) with C(container.docker.portMappings) and C(ipAddress)); a
    definition that mixes them is refused. Marathon 1.4 reads only the old form, so the new one is sent to it
    converted (one network, and bridge networking or port mappings only for C(DOCKER) containers); 1.5 and
    later are sent the form the definition uses.
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
  keep_instances:
    description:
      - With O(state=present) on an existing app, keep its live instance count instead of the definition's,
        so that bringing the definition up to date neither starts an app someone stopped nor scales one
        someone scaled. A warning says when the definition asks for another count.
      - O(instances) wins over it. A missing app is created with the definition's count.
    type: bool
    default: false
    version_added: 0.2.0
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
      - V(suspended) also waits until every reserved instance beyond the instance count is suspended (stopped
        with its reservation and volumes kept), and no more tasks than the instance count run or are staged. It
        is meant for O(state=stopped) on an app with persistent volumes.
      - The default is V(healthy) when the app has health checks, else V(running). With 0 instances V(healthy)
        and V(running) wait until no task runs or is staged.
    type: str
    choices: [deployment, healthy, running, suspended]
  fail_after_task_failures:
    description:
      - Stop waiting and fail once this many tasks of the version being deployed (the app's current version)
        failed in a row, without waiting out O(wait_timeout). Failed launches, tasks that exit and tasks killed
        because a health check failed count; tasks the deployment itself kills do not. A new task of that version
        that becomes healthy starts the count again.
      - A slow start is no failure, so a task that becomes healthy within its health check's grace period is never
        failed early.
      - The message names the last task failure's message and the health check's last failure cause; RV(diagnosis)
        holds them as data.
      - V(0) waits until O(wait_timeout). Not used with O(wait_for=suspended) or O(state=absent).
    type: int
    default: 3
    version_added: 0.2.0
  offer_decline_grace:
    description:
      - Stop waiting and fail once, for this many seconds, every offer made for the app's instances that wait in
        the launch queue was declined (C(processedOffersSummary) of C(GET /v2/queue)), for example for lack of cpus,
        memory, disk or ports, or for a role or a constraint no agent meets. The message names the reasons;
        RV(diagnosis) holds the queue's offer summary.
      - The queue is read at most once a second, and only while waiting.
      - V(0) waits until O(wait_timeout), as does a Marathon whose queue has no C(processedOffersSummary).
    type: int
    default: 30
    version_added: 0.2.0
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
  init_env:
    description:
      - Names of environment variables that the app reads only when it initializes its persistent volume, such
        as C(POSTGRES_PASSWORD) of the C(postgres) image. A new value would restart the app and still not be
        used, so a change to one of them on an existing app fails the task before any request, naming it.
      - Values that are secret references (mappings) are not compared.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  allow_init_env_change:
    description:
      - Send a changed value of an O(init_env) variable anyway, once the app itself uses it (for example
        after the password was changed inside the database).
    type: bool
    default: false
    version_added: 0.2.0
  fixed_image_major:
    description:
      - Refuse, before any write, a change of the major version named by the Docker image's tag (V(postgres:15)
        to V(postgres:16)) on an app with persistent volumes, for programs such as PostgreSQL that cannot start
        on data files another major version wrote.
      - The major is the tag's leading number, or its first two for versions below 10 (V(9.6)); a tag without
        a leading number (V(latest)) is not compared.
    type: bool
    default: false
    version_added: 0.2.0
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
  - A deployment that cannot finish fails the task early (O(fail_after_task_failures), O(offer_decline_grace)).
    Meanwhile the app is read at most once a second while the task waits for its deployment, and the queue at
    most once a second; a task that changes nothing still makes one GET.
  - After a connection error or an HTTP 502/503/504, a create or update is not sent again blindly; the app
    is read first and the request repeated only if the app is still absent or still differs.
  - The action plugin of this module passes the version cached in the C(marathon_versions) fact for
    O(marathon_url) as O(marathon_version), unless the task sets it.
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
marathon_version:
  description:
    - The Marathon version the task worked with (O(marathon_version), cached by an earlier task, or read with
      C(GET /v2/info)).
    - A task that finds nothing to change does not need the exact version, so without O(marathon_version) or a
      cached one it reads none and this is not returned.
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
  returned: when diff mode is on (C(--diff), or C(diff=true) on the task)
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
tasks:
  description:
    - The tasks of the app after the task, from the same read as RV(app), in the form of
      RV(dcos.marathon.marathon_task_info#module:tasks), suspended instances marked.
  returned: always
  type: list
  elements: dict
  sample:
    - app_id: /postgres
      id: postgres.5c2a3b4e-1d2f-11ef-9c5a-0242ac110002
      host: 10.0.1.12
      state: TASK_RUNNING
      healthy: true
      suspended: false
      ports: [31432]
  version_added: 0.2.0
summary:
  description: Counters over RV(tasks), as RV(dcos.marathon.marathon_task_info#module:summary) gives them.
  returned: always
  type: dict
  sample: {total: 1, running: 1, staged: 0, healthy: 1, unhealthy: 0, suspended: 0}
  version_added: 0.2.0
refused_init_env:
  description: The O(init_env) variables whose change was refused.
  returned: when the task failed for that reason
  type: list
  elements: str
  sample: [POSTGRES_PASSWORD]
  version_added: 0.2.0
refused_image_major:
  description: The image's live and desired major versions when O(fixed_image_major) refused the change.
  returned: when the task failed for that reason
  type: dict
  sample: {live: "15", desired: "16"}
  version_added: 0.2.0
duration:
  description: Seconds spent waiting.
  returned: when the task waited
  type: float
  sample: 2.351
diagnosis:
  description:
    - Why the deployment the task waited for cannot finish (O(fail_after_task_failures), O(offer_decline_grace)).
  returned: when the task failed early for that reason
  type: dict
  version_added: 0.2.0
  contains:
    cause:
      description: V(task_failures) or V(offers_declined).
      type: str
      sample: task_failures
    reason:
      description: The cause in words, as in the task's message.
      type: str
      sample: "3 tasks of version 2026-11-25T18:00:00.000Z failed in a row; the last, postgres.instance-1._app.3,
        TASK_FAILED: Command exited with status 1"
    app_id:
      description: The app.
      type: str
      sample: /postgres
    version:
      description: The app's version being deployed.
      type: str
      sample: "2026-11-25T18:00:00.000Z"
    deployment_id:
      description: The deployment of the app in progress, V(null) when there is none.
      type: str
      sample: 5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43
    current_step:
      description: C(currentStep) of that deployment.
      type: int
      sample: 1
    total_steps:
      description: C(totalSteps) of that deployment.
      type: int
      sample: 1
    current_actions:
      description: Its current actions, as C(action app).
      type: list
      elements: str
      sample: [StartApplication /postgres]
    task_failures:
      description: The recent task failures of the version being deployed, oldest first (at most 5).
      type: list
      elements: dict
      sample:
        - task_id: postgres.instance-1._app.3
          state: TASK_FAILED
          message: Command exited with status 1
          timestamp: "2026-11-25T18:00:05.000Z"
          version: "2026-11-25T18:00:00.000Z"
    health_check_failure:
      description: The last failure cause a health check of the app reported, V(null) when none was seen.
      type: str
      sample: "connection refused"
    offers:
      description: C(processedOffersSummary) of the app's queue entry, V(null) when the queue was not read or the app
        was not in it.
      type: dict
      sample:
        processedOffersCount: 4
        unusedOffersCount: 4
        rejectSummaryLastOffers:
          - {reason: InsufficientCpus, declined: 2, processed: 2}
    queue_count:
      description: C(count) of the queue entry, the instances waiting to launch.
      type: int
      sample: 1
"""

from ansible_collections.dcos.marathon.plugins.module_utils._executor import run_app_module
from ansible_collections.dcos.marathon.plugins.module_utils._module import MarathonModule


def main():
    argument_spec = dict(
        app_id=dict(type="str"),
        definition=dict(type="dict"),
        src=dict(type="path"),
        state=dict(type="str", default="present", choices=["present", "started", "stopped", "restarted", "absent"]),
        instances=dict(type="int"),
        keep_instances=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        wait_for=dict(type="str", choices=["deployment", "healthy", "running", "suspended"]),
        fail_after_task_failures=dict(type="int", default=3),
        offer_decline_grace=dict(type="int", default=30),
        force=dict(type="bool", default=False),
        allow_data_loss=dict(type="bool", default=False),
        partial=dict(type="bool", default=False),
        secret_env=dict(type="list", elements="str", default=[], no_log=False),
        init_env=dict(type="list", elements="str", default=[]),
        allow_init_env_change=dict(type="bool", default=False),
        fixed_image_major=dict(type="bool", default=False),
        rollback_to=dict(type="str"),
    )
    module = MarathonModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("definition", "src")],
        required_one_of=[("app_id", "definition", "src")],
    )
    run_app_module(module)


if __name__ == "__main__":
    main()
