#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: marathon_task_info
short_description: List Marathon tasks, including suspended tasks of stateful apps
version_added: 0.1.0
description:
  - Lists the tasks of one Marathon app, or of all apps, the way C(dcos marathon task list) does
    (C(GET /v2/tasks), filtered by app id).
  - The task list of every Marathon from 1.4 to 1.11 is read the same way (missing arrays and V(null)
    timestamps of 1.4 and 1.5; a suspended task as C(TASK_STAGING) up to 1.7 and in its last terminal state
    from 1.8), so this module never needs the version and sends no C(GET /v2/info).
  - For an app with local persistent volumes, a stopped instance keeps its reservation and its
    volume. Marathon still lists its task, without a start time; this module reports it with
    RV(tasks[].suspended=true), RV(tasks[].started_at=null) and the same
    RV(tasks[].local_volumes[].persistence_id) it had while running.
  - Suspended means stopped by scaling the app down, nothing else. A reserved instance of a running app
    whose task failed and waits to be relaunched (a crash loop) looks the same in the task list, which
    does not show whether Marathon wants the instance to run; it is not suspended. So when a reserved
    instance has no running task, the app's instance count is read too (one more GET), and only the
    reserved instances beyond it are suspended.
  - Can wait until a number of tasks are running, healthy or suspended.
  - Read-only.
author:
  - dcos.marathon maintainers (@dcos-marathon)
options:
  app_id:
    description:
      - Id of the app whose tasks to list, for example V(/postgres) or V(postgres).
      - Matched exactly after the id is made canonical (leading slash, no empty segments).
      - When omitted, the tasks of all apps are listed.
      - A missing app gives an empty list, unless O(wait_for) is set, which then fails.
    type: str
  wait_for:
    description:
      - Wait until at least O(count) tasks are in this condition, polling every O(wait_sleep)
        seconds for up to O(wait_timeout) seconds.
      - V(running) counts tasks in state C(TASK_RUNNING).
      - V(healthy) counts running tasks whose health check results are all alive
        (RV(tasks[].healthy=true)); it needs O(app_id) of an app with health checks.
      - V(suspended) counts reserved instances the app was scaled down from, whose task is not running
        (RV(tasks[].suspended=true)). It fails at once for an app without persistent volumes.
      - Waiting also happens in check mode, as it only reads.
    type: str
    choices: [running, healthy, suspended]
  count:
    description:
      - How many tasks O(wait_for) waits for.
      - Defaults to the app's C(instances) for V(running) and V(healthy), and to the number of
        reserved instances (tasks with local volumes) beyond the app's C(instances) for V(suspended),
        which is at least 1 while the app wants instances, and 0 for an app scaled to 0 that has no
        reservation (created stopped); without O(app_id), to 1.
      - V(0) with V(running) or V(healthy) waits until no task runs or is staged any more.
    type: int
  wait_timeout:
    description:
      - Seconds to wait for O(wait_for) before failing.
    type: float
    default: 300
  wait_sleep:
    description:
      - Seconds between two polls while waiting.
    type: float
    default: 2
  fail_after_task_failures:
    description:
      - While waiting for tasks of O(app_id) to be V(running) or V(healthy), stop waiting and fail once this many
        tasks of the app's current version failed in a row (failed launches, exits, kills by a health check),
        without waiting out O(wait_timeout). A new task of that version that becomes healthy starts the count again;
        a slow start within the health check's grace period is no failure.
      - For it the app is read too, at most once a second while waiting. V(0) waits until O(wait_timeout).
    type: int
    default: 3
    version_added: 0.2.0
  offer_decline_grace:
    description:
      - While waiting for tasks of O(app_id) to be V(running) or V(healthy), stop waiting and fail once, for this
        many seconds, every offer made for the app's instances in the launch queue was declined (C(GET /v2/queue),
        read at most once a second while waiting), naming the reasons.
      - V(0) waits until O(wait_timeout), as does a Marathon whose queue has no C(processedOffersSummary).
    type: int
    default: 30
    version_added: 0.2.0
extends_documentation_fragment:
  - dcos.marathon.connection
  - dcos.marathon.attributes
  - dcos.marathon.attributes.INFO_MODULE
  - dcos.marathon.attributes.ACTIONGROUP_MARATHON
notes:
  - RV(tasks[].healthy) follows the HEALTHY column of C(dcos marathon task list) (all health check
    results alive), except that a task without any result yet (no health checks, not checked yet,
    or suspended) is V(null) where the CLI prints C(True). Marathon's C(tasksHealthy) and
    C(tasksUnhealthy) counters skip such tasks too.
seealso:
  - module: dcos.marathon.marathon_app
  - module: dcos.marathon.marathon_app_info
"""

EXAMPLES = r"""
# As in the DC/OS stateful services tutorial: list the PostgreSQL task,
# like "dcos marathon task list /postgres".
- name: Show the task of /postgres
  dcos.marathon.marathon_task_info:
    marathon_url: http://127.0.0.1:8080
    app_id: /postgres
  register: postgres_tasks

- name: Print where PostgreSQL runs and on which volume
  ansible.builtin.debug:
    msg: >-
      {{ item.id }} on {{ item.host }}:{{ item.ports | first | default('-') }},
      healthy={{ item.healthy }}, started={{ item.started_at | default('N/A', true) }},
      volume={{ item.local_volumes | map(attribute='persistence_id') | join(',') }}
  loop: "{{ postgres_tasks.tasks }}"

# After "dcos marathon app stop /postgres" (or dcos.marathon.marathon_app with state=stopped)
# the task is still listed, suspended on its reservation, with the same volume.
- name: Wait until the stopped PostgreSQL instance is suspended
  dcos.marathon.marathon_task_info:
    marathon_url: http://127.0.0.1:8080
    app_id: /postgres
    wait_for: suspended
    wait_timeout: 120
  register: stopped

- name: Wait for PostgreSQL to pass its health checks again after a start
  dcos.marathon.marathon_task_info:
    marathon_url: http://127.0.0.1:8080
    app_id: /postgres
    wait_for: healthy
    count: 1
    wait_timeout: 600

# On DC/OS, with the connection set once for the whole play.
- name: List every task of the cluster
  module_defaults:
    group/dcos.marathon.marathon:
      marathon_url: https://dcos.example.com/service/marathon
      dcos_username: admin
      dcos_password: "{{ vault_dcos_password }}"
  dcos.marathon.marathon_task_info:
  register: all_tasks
"""

RETURN = r"""
tasks:
  description: The tasks, sorted by app id and task id.
  returned: always
  type: list
  elements: dict
  contains:
    app_id:
      description: Id of the app the task belongs to.
      type: str
      sample: /postgres
    id:
      description: Task id.
      type: str
      sample: postgres.instance-3a0e1d2c-5f5e-11ef-9c1b-0242ac110002._app.1
    host:
      description: Host name of the agent.
      type: str
      sample: 10.0.1.23
    agent_id:
      description: Mesos agent id (C(slaveId)).
      type: str
      sample: 4783cf15-4fb1-4c75-90fe-44eeec5258a7-S1
    state:
      description:
        - Mesos task state. For a suspended task, the last state of its task (usually C(TASK_KILLED)
          on Marathon 1.8 and later).
      type: str
      sample: TASK_RUNNING
    healthy:
      description:
        - V(true) when all health check results are alive, V(false) when one is not, V(null) when
          there is no result (no health checks, not checked yet, or suspended).
      type: bool
      sample: true
    suspended:
      description: A reserved instance (it has local volumes) the app was scaled down from, with no running task.
      type: bool
      sample: false
    started_at:
      description: When the task reached C(TASK_RUNNING); V(null) for a suspended or not yet running task.
      type: str
      sample: "2024-08-19T10:21:07.112Z"
    staged_at:
      description: When the task was staged; V(null) for a suspended task.
      type: str
      sample: "2024-08-19T10:21:05.954Z"
    ports:
      description: Host ports of the task (empty for a suspended task).
      type: list
      elements: int
      sample: [31284]
    service_ports:
      description: Service ports of the app.
      type: list
      elements: int
      sample: [10000]
    ip_addresses:
      description: IP addresses of the task.
      type: list
      elements: str
      sample: [10.0.1.23]
    version:
      description: App version the task was launched with; V(null) for a suspended task.
      type: str
      sample: "2024-08-19T10:21:04.223Z"
    local_volumes:
      description: Persistent volumes of the instance; they outlive stops and restarts.
      type: list
      elements: dict
      contains:
        container_path:
          description: Volume name (C(containerPath)).
          type: str
          sample: pgdata
        persistence_id:
          description: Id of the volume; the same for the life of the reservation.
          type: str
          sample: postgres#pgdata#3a0e1d2b-5f5e-11ef-9c1b-0242ac110002
    health_check_results:
      description: Health check results, one per health check that reported.
      type: list
      elements: dict
      contains:
        alive:
          description: The last check passed.
          type: bool
        consecutive_failures:
          description: Failures since the last success.
          type: int
        first_success:
          description: Time of the first success.
          type: str
        last_success:
          description: Time of the last success.
          type: str
        last_failure:
          description: Time of the last failure.
          type: str
        last_failure_cause:
          description: Why the last check failed.
          type: str
        instance_id:
          description: Instance the result belongs to.
          type: str
summary:
  description: Counters over RV(tasks).
  returned: always
  type: dict
  contains:
    total:
      description: Number of tasks listed.
      type: int
      sample: 1
    running:
      description: Tasks in state C(TASK_RUNNING).
      type: int
      sample: 1
    staged:
      description: Tasks staged but not running yet.
      type: int
      sample: 0
    healthy:
      description: Running tasks whose health check results are all alive.
      type: int
      sample: 1
    unhealthy:
      description: Tasks with a failing health check result.
      type: int
      sample: 0
    suspended:
      description: Reserved instances the app was scaled down from, with no running task.
      type: int
      sample: 0
waited:
  description: Seconds spent waiting for O(wait_for); V(0) when not waiting.
  returned: always
  type: float
  sample: 4.2
diagnosis:
  description:
    - Why the app's tasks cannot come up (O(fail_after_task_failures), O(offer_decline_grace)), in the form of
      RV(dcos.marathon.marathon_app#module:diagnosis) (cause, reason, deployment id and current step, recent task
      failures with their messages, the health check's last failure cause, the queue's offer summary).
  returned: when the wait failed early for that reason
  type: dict
  sample:
    cause: offers_declined
    reason: "every offer was declined for 30s: InsufficientCpus (2 of 2 last offers)"
    app_id: /postgres
    deployment_id: 5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43
    current_step: 1
    task_failures: []
  version_added: 0.2.0
"""

from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import canonical_app_id, is_resident
from ansible_collections.dcos.marathon.plugins.module_utils._errors import MarathonError
from ansible_collections.dcos.marathon.plugins.module_utils._module import MarathonModule
from ansible_collections.dcos.marathon.plugins.module_utils._tasks import (
    filter_tasks,
    needs_instance_counts,
    summarize_counts,
    summarize_tasks,
)
from ansible_collections.dcos.marathon.plugins.module_utils._wait import (
    WAIT_CONDITIONS,
    DeploymentStuck,
    WaitTimeout,
    Waiter,
    condition_met,
)


def list_tasks(client, app_id, app=None):
    """/v2/tasks then filter, like the CLI: an unknown app is simply an empty list. ``app`` is the
    app just read, when the caller has it (it saves reading it again for its instance count)."""
    raw = filter_tasks(client.get_tasks(), app_id)
    tasks = summarize_tasks(raw, instance_counts(client, raw, app_id, app))
    return tasks, summarize_counts(tasks)


def instance_counts(client, raw_tasks, app_id, app=None):
    """{app id: instances}, read only when a reserved instance has no running task: whether it is
    suspended (stopped) or crash-looping depends on the app's instance count."""
    if not needs_instance_counts(raw_tasks):
        return {}
    if app_id is not None:
        app = app if app is not None else client.get_app(app_id)
        apps = [app] if app else []
    else:
        apps = client.list_apps()
    return dict((canonical_app_id(a["id"]), a.get("instances") or 0) for a in apps)


def count_to_wait_for(module, app, app_id, wait_for, count, tasks, counts):
    """The count to wait for (``app`` as just read); fails at once when the wait can never end."""
    if app_id is None:
        return 1 if count is None else count
    if app is None:
        module.fail_json(msg="App '%s' does not exist, so its tasks cannot become %s" % (app_id, wait_for),
                         tasks=tasks, summary=counts, waited=0.0)
    if wait_for == "healthy" and not app.get("healthChecks"):
        module.fail_json(msg="App '%s' has no health checks, so wait_for=healthy can never be met; "
                             "use wait_for=running" % app_id,
                         tasks=tasks, summary=counts, waited=0.0)
    if wait_for == "suspended" and not is_resident(app):
        module.fail_json(msg="App '%s' has no persistent volumes, so its tasks can never be suspended" % app_id,
                         tasks=tasks, summary=counts, waited=0.0)
    if count is not None:
        return count
    if wait_for == "suspended":
        # Only instances the app no longer wants can be suspended (stopped with their reservation).
        reserved = len([t for t in (app.get("tasks") or []) if t.get("localVolumes")])
        wanted = int(app.get("instances", 0) or 0)
        if reserved > wanted:
            return reserved - wanted
        # Scaled to 0 with nothing reserved (created stopped): nothing can run, nothing to wait for.
        # An app that still wants instances has none suspended until it is scaled down.
        return 0 if wanted == 0 else 1
    return int(app.get("instances", 1))


def main():
    module = MarathonModule(
        argument_spec=dict(
            app_id=dict(type="str"),
            wait_for=dict(type="str", choices=list(WAIT_CONDITIONS)),
            count=dict(type="int"),
            wait_timeout=dict(type="float", default=300),
            wait_sleep=dict(type="float", default=2),
            fail_after_task_failures=dict(type="int", default=3),
            offer_decline_grace=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    p = module.params
    app_id = module.app_id_param()
    for name in ("wait_timeout", "wait_sleep"):
        if p[name] is not None and p[name] < 0:
            module.fail_json(msg="%s must be 0 or more, got %s" % (name, p[name]))
    for name in ("fail_after_task_failures", "offer_decline_grace"):
        if p[name] < 0:
            module.fail_json(msg="%s must be 0 (off) or more, got %s" % (name, p[name]))
    if p["count"] is not None and p["count"] < 0:
        module.fail_json(msg="count must be 0 or more, got %s" % p["count"])
    if p["count"] is not None and p["wait_for"] is None:
        module.fail_json(msg="count is only used with wait_for; set wait_for too")

    client = module.client
    waited = 0.0
    try:
        # Waiting on one app needs the app itself: read it once, for the count and the first list.
        app = client.get_app(app_id) if app_id is not None and p["wait_for"] else None
        tasks, counts = list_tasks(client, app_id, app)
        if p["wait_for"]:
            wait_for = p["wait_for"]
            count = count_to_wait_for(module, app, app_id, wait_for, p["count"], tasks, counts)
            waiter = Waiter(client, p["wait_timeout"], first_interval=p["wait_sleep"], max_interval=p["wait_sleep"],
                            task_failures=p["fail_after_task_failures"], offer_grace=p["offer_decline_grace"])
            # Fail fast only while waiting for tasks of one app to come up.
            check = waiter.progress_check(app_id) if app_id and wait_for != "suspended" and count else None
            seen = {"last": (tasks, counts)}

            def progress(last):
                seen["last"] = last
                check.check()

            def timeout_message(last):
                return ("Timed out after %g s waiting for %d %s task(s)%s; last seen: %d running, %d healthy, "
                        "%d suspended of %d" % (p["wait_timeout"], count, wait_for, " of %s" % app_id if app_id else "",
                                                last["running"], last["healthy"], last["suspended"], last["total"]))

            try:
                tasks, counts = waiter.poll(lambda: list_tasks(client, app_id),
                                            lambda last: condition_met(last[1], wait_for, count),
                                            lambda last: WaitTimeout(timeout_message(last[1]),
                                                                     {"tasks": last[0], "summary": last[1]}),
                                            first=(tasks, counts), progress=progress if check else None)
            except DeploymentStuck as e:
                e.details.update(tasks=seen["last"][0], summary=seen["last"][1])
                raise
            finally:
                waited = round(waiter.deadline.elapsed(), 3)
    except WaitTimeout as e:
        module.fail_json(msg=str(e), waited=waited, **e.to_result())
    except MarathonError as e:
        module.fail_from_error(e)
    module.exit_json(changed=False, tasks=tasks, summary=counts, waited=waited)


if __name__ == "__main__":
    main()
