# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""ProgressCheck: the fail-fast rule of a wait, over scripted app and queue reads and a fake clock
(no time passes). The real-process cases are in tests/reliability/test_failfast.py."""

from __future__ import annotations

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._errors import MarathonError
from ansible_collections.dcos.marathon.plugins.module_utils._wait import (
    DeploymentStuck,
    ProgressCheck,
    WaitTimeout,
    Waiter,
    declined_reasons,
)

V1 = "2026-01-01T00:00:00.000Z"
V2 = "2026-01-02T00:00:00.000Z"


class Clock(object):
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class Api(object):
    def __init__(self, apps=None, queue=None):
        self.apps = list(apps or [None])
        self.queue = list(queue or [None])
        self.calls = []

    def _next(self, items):
        return items.pop(0) if len(items) > 1 else items[0]

    def get_app(self, app_id):
        self.calls.append("app")
        found = self._next(self.apps)
        if isinstance(found, MarathonError):
            raise found  # pylint: disable=raising-bad-type
        return found

    def get_queue_item(self, app_id):
        self.calls.append("queue")
        item = self._next(self.queue)
        if isinstance(item, MarathonError):
            raise item  # pylint: disable=raising-bad-type
        return item

    def get_deployments(self):
        self.calls.append("deployments")
        return [{"id": "dep-1", "affectedApps": ["/db"], "currentStep": 1, "totalSteps": 1,
                 "currentActions": [{"action": "StartApplication", "app": "/db"}]}]


def app(version=V2, failure=None, tasks=(), instances=1):
    out = {"id": "/db", "instances": instances, "version": version, "tasksRunning": 0, "tasksHealthy": 0,
           "tasksStaged": 0, "tasks": list(tasks)}
    if failure:
        task_id, task_version = failure
        out["lastTaskFailure"] = {"taskId": task_id, "state": "TASK_FAILED", "version": task_version,
                                  "message": "Command exited with status 1", "timestamp": task_id}
    return out


def healthy_task(task_id, version=V2, alive=True, cause=None):
    result = {"alive": alive}
    if cause:
        result["lastFailureCause"] = cause
    return {"id": task_id, "version": version, "state": "TASK_RUNNING", "healthCheckResults": [result]}


def queue_item(declined, processed=2, used=None, overdue=True, reason="InsufficientCpus"):
    summary = {"processedOffersCount": 10, "unusedOffersCount": 10,
               "rejectSummaryLastOffers": [{"reason": "UnfulfilledRole", "declined": 0, "processed": processed},
                                           {"reason": reason, "declined": declined, "processed": processed}]}
    if used:
        summary["lastUsedOfferAt"] = used
    return {"count": 1, "delay": {"overdue": overdue, "timeLeftSeconds": 0}, "processedOffersSummary": summary}


def check(api, clock, failures=3, grace=30):
    return ProgressCheck(api, "db", failures, grace, clock=clock, interval=1.0)


def test_failures_of_the_version_being_deployed_in_a_row_fail_with_the_message_and_a_diagnosis():
    clock, api = Clock(), Api(queue=[None])
    progress = check(api, clock)
    progress.check(app(failure=("t1", V1)))  # an old version's failure does not count
    for task_id in ("t2", "t2", "t3"):       # the same failure seen twice counts once
        progress.check(app(failure=(task_id, V2)))
    with pytest.raises(DeploymentStuck) as raised:
        progress.check(app(failure=("t4", V2)))
    diagnosis = raised.value.details["diagnosis"]
    assert diagnosis["cause"] == "task_failures"
    assert [f["task_id"] for f in diagnosis["task_failures"]] == ["t2", "t3", "t4"]
    assert diagnosis["deployment_id"] == "dep-1" and diagnosis["current_step"] == 1
    assert diagnosis["current_actions"] == ["StartApplication /db"]
    assert "3 tasks of version %s failed in a row" % V2 in str(raised.value)
    assert "Command exited with status 1" in str(raised.value)
    assert isinstance(raised.value, WaitTimeout)  # callers handle it as any failed wait


def test_a_new_healthy_task_restarts_the_count_and_the_health_cause_is_named():
    clock, api = Clock(), Api(queue=[None])
    progress = check(api, clock, failures=2)
    progress.check(app(failure=("t1", V2), tasks=[healthy_task("t1", alive=False, cause="connection refused")]))
    progress.check(app(failure=("t1", V2), tasks=[healthy_task("t2")]))
    progress.check(app(failure=("t3", V2), tasks=[healthy_task("t2")]))  # t2 seen healthy before: no reset
    with pytest.raises(DeploymentStuck) as raised:
        progress.check(app(failure=("t4", V2), tasks=[healthy_task("t4", alive=False, cause="HTTP 500")]))
    assert "health check: HTTP 500" in str(raised.value)
    assert raised.value.details["diagnosis"]["health_check_failure"] == "HTTP 500"


def test_failures_of_an_earlier_deployed_version_are_not_counted_for_the_next():
    clock, api = Clock(), Api(queue=[None])
    progress = check(api, clock, failures=2)
    progress.check(app(version=V1, failure=("t1", V1)))
    progress.check(app(version=V2, failure=("t2", V2)))
    with pytest.raises(DeploymentStuck) as raised:
        progress.check(app(version=V2, failure=("t3", V2)))
    assert [f["task_id"] for f in raised.value.details["diagnosis"]["task_failures"]] == ["t2", "t3"]


def test_a_slow_start_is_never_failed():
    clock, api = Clock(), Api(queue=[None])
    progress = check(api, clock, failures=1, grace=5)
    for _step in range(100):
        clock.now += 1
        progress.check(app(tasks=[healthy_task("t1", alive=False, cause="connection refused")]))


def test_offers_declined_for_longer_than_the_grace_fail_with_the_reasons():
    clock, api = Clock(), Api(queue=[queue_item(declined=2)])
    progress = check(api, clock, grace=5)
    for _step in range(6):  # the queue is first read after one second
        progress.check(app())
        clock.now += 1
    with pytest.raises(DeploymentStuck) as raised:
        progress.check(app())
    assert "every offer was declined for 5s: InsufficientCpus (2 of 2 last offers)" in str(raised.value)
    diagnosis = raised.value.details["diagnosis"]
    assert diagnosis["cause"] == "offers_declined" and diagnosis["queue_count"] == 1
    assert diagnosis["offers"]["rejectSummaryLastOffers"][1]["reason"] == "InsufficientCpus"


@pytest.mark.parametrize("item", [
    queue_item(declined=1),                    # one agent's last offer was used
    queue_item(declined=2, overdue=False),     # backing off after failures, not waiting for offers
    {"count": 1, "delay": {"overdue": True}},  # a Marathon without processedOffersSummary
    None,                                      # nothing waits
    MarathonError("GET /v2/queue failed with HTTP 403"),  # hidden by an ACL or a proxy
])
def test_no_offer_failure_unless_every_last_offer_is_declined(item):
    clock, api = Clock(), Api(queue=[item])
    progress = check(api, clock, grace=5)
    for _step in range(20):
        progress.check(app())
        clock.now += 1


def test_an_offer_used_meanwhile_restarts_the_grace():
    items = [queue_item(declined=2, used="a")] * 4 + [queue_item(declined=2, used="b")] * 4
    clock, api = Clock(), Api(queue=items)
    progress = check(api, clock, grace=5)
    for _step in range(8):
        progress.check(app())
        clock.now += 1
    with pytest.raises(DeploymentStuck):
        for _step in range(6):
            progress.check(app())
            clock.now += 1


def test_zero_turns_both_checks_off_and_reads_nothing():
    clock, api = Clock(), Api(queue=[queue_item(declined=2)])
    progress = check(api, clock, failures=0, grace=0)
    for n in range(10):
        progress.check(app(failure=("t%d" % n, V2)))
        clock.now += 10
    assert api.calls == []
    assert Waiter(api, 10).progress_check("/db") is None


def test_reads_are_at_most_one_a_second_while_waiting_for_a_deployment():
    clock = Clock()
    api = Api(apps=[app()], queue=[None])
    progress = check(api, clock)
    progress.check()  # a deployment wait: the app is read by the check itself, not in the first second
    assert api.calls == []
    for _step in range(10):
        clock.now += 0.2
        progress.check()
    assert api.calls.count("app") == 2 and api.calls.count("queue") == 2


def test_a_failing_extra_read_does_not_fail_the_wait():
    clock = Clock()
    api = Api(apps=[MarathonError("GET /v2/apps/db failed with HTTP 503")], queue=[None])
    progress = check(api, clock)
    for _step in range(5):
        clock.now += 1
        progress.check()
    assert api.calls == ["app"] * 4


def test_an_app_scaled_to_zero_or_gone_is_not_checked():
    clock, api = Clock(), Api(apps=[None])
    progress = check(api, clock, failures=1)
    progress.check(app(instances=0, failure=("t1", V2)))
    clock.now += 2
    progress.check()
    assert api.calls == ["app"]


def test_the_waiter_fails_a_wait_app_early_and_not_a_suspended_wait():
    clock = Clock()
    failing = [app(failure=("t%d" % n, V2)) for n in range(5)]
    api = Api(apps=failing, queue=[None])
    waiter = Waiter(api, 600, sleep=clock.sleep, clock=clock, task_failures=3, offer_grace=30)
    with pytest.raises(DeploymentStuck):
        waiter.wait_app("/db", "running")
    assert clock.now - 100.0 < 5  # failed on the third failure, not at the 600 s timeout
    stopping = [dict(app(failure=("t%d" % n, V2)), tasksRunning=2) for n in range(5)]
    api = Api(apps=stopping, queue=[None])
    waiter = Waiter(api, 3, sleep=clock.sleep, clock=clock, task_failures=3, offer_grace=30)
    with pytest.raises(WaitTimeout) as raised:
        waiter.wait_app("/db", "suspended")
    assert not isinstance(raised.value, DeploymentStuck)


def test_declined_reasons_fall_back_to_the_launch_attempt():
    summary = {"rejectSummaryLaunchAttempt": [{"reason": "UnfulfilledConstraint", "declined": 4, "processed": 4}]}
    assert declined_reasons(summary) == "UnfulfilledConstraint (4 of 4 offers)"
    assert declined_reasons(None) == ""
