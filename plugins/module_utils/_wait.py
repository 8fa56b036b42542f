# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Waiting for Marathon deployments and app health.

Private module_utils: not a public API.

Polling is adaptive: the first poll comes after 50 ms and the interval grows
by half up to 200 ms, so a deployment that Marathon finishes is noticed within
about a quarter of a second while a long one costs at most five GETs a second.
All deadlines use the monotonic clock.
"""

from __future__ import annotations

import time

from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import canonical_app_id
from ansible_collections.dcos.marathon.plugins.module_utils._errors import MarathonError
from ansible_collections.dcos.marathon.plugins.module_utils._tasks import suspended_tasks

FIRST_INTERVAL = 0.05
MAX_INTERVAL = 0.2
GROWTH = 1.5


class WaitTimeout(MarathonError):
    """Raised when a wait runs out of time; ``details`` says what was last seen."""

    def __init__(self, message, details=None, app=None):
        super(WaitTimeout, self).__init__(message)
        self.details = details or {}
        # The app as last seen (GET /v2/apps/{id}), unmasked: callers mask it before returning it.
        self.app = app

    def to_result(self):
        result = dict(self.details)
        return result


class DeploymentStuck(WaitTimeout):
    """Raised when the deployment a wait follows cannot make progress (tasks keep failing, or every
    offer is declined); ``details["diagnosis"]`` says why, as data."""


class Deadline(object):
    def __init__(self, timeout, clock=None):
        self._clock = clock or time.monotonic
        self.start = self._clock()
        self.timeout = float(timeout)

    def remaining(self):
        return self.timeout - (self._clock() - self.start)

    def expired(self):
        return self.remaining() <= 0

    def elapsed(self):
        return self._clock() - self.start


def intervals(first=FIRST_INTERVAL, cap=MAX_INTERVAL, growth=GROWTH):
    """50 ms, 75 ms, 112 ms, ... capped at 200 ms."""
    value = first
    while True:
        yield value
        value = min(cap, value * growth)


def describe_deployment(dep):
    """'step 1/2, actions: ScaleApplication /db' for a /v2/deployments entry."""
    if not isinstance(dep, dict):
        return "unknown"
    actions = dep.get("currentActions") or []
    acts = ", ".join("%s %s" % (a.get("action", "?"), a.get("app", a.get("pod", ""))) for a in actions if isinstance(a, dict))
    text = "step %s/%s" % (dep.get("currentStep", "?"), dep.get("totalSteps", "?"))
    return "%s, current actions: %s" % (text, acts or "none yet")


def describe_tasks(app):
    """Task states and the last task failure of a GET /v2/apps/{id} app."""
    if not isinstance(app, dict):
        return "app not found"
    parts = []
    tasks = app.get("tasks") or []
    if tasks:
        states = []
        for t in tasks:
            if not isinstance(t, dict):
                continue
            results = [r for r in t.get("healthCheckResults") or [] if isinstance(r, dict)]
            health = ""
            if results:
                health = " healthy" if all(r.get("alive") for r in results) else " unhealthy"
                cause = [r.get("lastFailureCause") for r in results if r.get("lastFailureCause")]
                if cause and health == " unhealthy":
                    health += " (%s)" % cause[0]
            states.append("%s %s%s" % (t.get("id"), t.get("state", "no state"), health))
        parts.append("tasks: " + "; ".join(states))
    else:
        parts.append("no tasks")
    parts.append(
        "counts: %s running, %s healthy, %s staged of %s instances"
        % (app.get("tasksRunning", 0), app.get("tasksHealthy", 0), app.get("tasksStaged", 0), app.get("instances"))
    )
    ltf = app.get("lastTaskFailure")
    if isinstance(ltf, dict):
        parts.append(
            "last task failure: %s %s at %s: %s"
            % (ltf.get("taskId"), ltf.get("state"), ltf.get("timestamp"), ltf.get("message") or "(no message)")
        )
    return "; ".join(parts)


WAIT_CONDITIONS = ("running", "healthy", "suspended")


def condition_met(counts, wait_for, count):
    """The one rule of "the wait is over", over task counts (see app_counts and
    _tasks.summarize_counts).

    running / healthy: at least ``count`` tasks running / running and healthy; with a
    count of 0, nothing runs or is staged any more. suspended: at least ``count``
    reserved instances stopped with their reservation kept.
    """
    if wait_for not in WAIT_CONDITIONS:
        raise ValueError("wait_for must be one of %s, got %r" % (", ".join(WAIT_CONDITIONS), wait_for))
    if wait_for == "suspended":
        return counts["suspended"] >= count
    if count == 0:
        return counts["running"] == 0 and counts["staged"] == 0
    if wait_for == "healthy":
        return counts["healthy"] >= count and counts["running"] >= count
    return counts["running"] >= count


def app_counts(app):
    """Task counts of a GET /v2/apps/{id} app, in the shape of _tasks.summarize_counts:
    Marathon's own counters, and the suspended instances found in its tasks.

    Without health checks healthy means running. ``reserved`` counts the instances that
    hold a reservation (with or without a task).
    """
    tasks = [t for t in app.get("tasks") or [] if isinstance(t, dict)]
    running = app.get("tasksRunning", 0) or 0
    counts = {
        "total": len(tasks),
        "running": running,
        "staged": app.get("tasksStaged", 0) or 0,
        "healthy": (app.get("tasksHealthy", 0) or 0) if app.get("healthChecks") else running,
        "unhealthy": app.get("tasksUnhealthy", 0) or 0,
        "suspended": len(suspended_tasks(tasks, app.get("instances", 0) or 0)),
        "reserved": len([t for t in tasks if t.get("localVolumes")]),
    }
    return counts


def app_condition_met(app, wait_for, instances=None):
    """Whether the app reached ``wait_for`` for ``instances`` (default: its own count).

    suspended: every reserved instance beyond the count is suspended, and no more tasks
    than the count run or are staged.
    """
    if not isinstance(app, dict):
        return False
    want = app.get("instances", 0) if instances is None else instances
    counts = app_counts(app)
    if wait_for == "suspended":
        return (condition_met(counts, "suspended", max(0, counts["reserved"] - want))
                and counts["running"] + counts["staged"] <= want)
    return condition_met(counts, wait_for, want)


# Fail-fast defaults of marathon_app and marathon_task_info (0 turns either check off).
DEFAULT_TASK_FAILURES = 3
DEFAULT_OFFER_GRACE = 30
# Seconds between two extra reads of a progress check (the app during a deployment wait, the queue).
PROGRESS_INTERVAL = 1.0
# Task failures kept in a diagnosis.
DIAGNOSIS_FAILURES = 5
_UNREAD = object()


def _failure_summary(ltf, health_cause=None):
    out = {
        "task_id": ltf.get("taskId"),
        "state": ltf.get("state"),
        "message": ltf.get("message") or "",
        "timestamp": ltf.get("timestamp"),
        "version": ltf.get("version"),
    }
    if health_cause:
        out["health_check_failure"] = health_cause
    return out


def declined_reasons(summary):
    """'InsufficientCpus (2 of 2 offers)' from a processedOffersSummary: the reasons of the agents'
    last offers (rejectSummaryLastOffers), else of the whole launch attempt; most declines first."""
    if not isinstance(summary, dict):
        return ""
    for key, what in (("rejectSummaryLastOffers", "last offers"), ("rejectSummaryLaunchAttempt", "offers")):
        steps = [s for s in summary.get(key) or [] if isinstance(s, dict) and (s.get("declined") or 0) > 0]
        if steps:
            total = max((s.get("processed") or 0) for s in summary[key] if isinstance(s, dict))
            steps.sort(key=lambda s: -(s.get("declined") or 0))
            return ", ".join("%s (%s of %s %s)" % (s.get("reason"), s.get("declined"), total, what) for s in steps)
    return ""


class ProgressCheck(object):
    """Whether the deployment of one app can still finish, judged from what a wait reads.

    Stuck means: ``task_failures`` tasks of the version being deployed (the app's current version)
    failed in a row (failed launches, exits, kills by a health check), with no new task of that
    version becoming healthy in between; or every instance waiting in the launch queue had all its
    last offers declined for ``offer_grace`` seconds. 0 turns a check off. A task that starts slowly
    fails neither: it is neither a failure nor waiting for offers.

    It costs no request when the wait reads the app anyway; otherwise the app, and the queue
    (GET /v2/queue), are read at most once per PROGRESS_INTERVAL while waiting. A Marathon whose
    queue has no processedOffersSummary only gets the task failure check.
    """

    def __init__(self, api, app_id, task_failures=DEFAULT_TASK_FAILURES, offer_grace=DEFAULT_OFFER_GRACE,
                 clock=None, interval=PROGRESS_INTERVAL):
        self.api = api
        self.app_id = canonical_app_id(app_id)
        self.task_failures = int(task_failures or 0)
        self.offer_grace = float(offer_grace or 0)
        self._clock = clock or time.monotonic
        self.interval = interval
        self.failures = []          # failures of the version being deployed, oldest first
        self._version = None
        self.in_row = 0
        self._seen_failures = set()
        self._seen_healthy = set()
        self.health_causes = {}     # task id -> its health check's last failure cause
        self.last_health_cause = None
        self.queue_item = None
        self.declining_since = None
        self._last_used_offer = _UNREAD
        self._last_unused_count = None
        self._next_app_read = None
        self._next_queue_read = None
        self.queue_unreadable = False

    @property
    def enabled(self):
        return self.task_failures > 0 or self.offer_grace > 0

    def check(self, app=None, deployment=None):
        """After each read of a wait: ``app`` when the wait read it. Raises DeploymentStuck."""
        if not self.enabled:
            return
        now = self._clock()
        if self._next_app_read is None:
            # A deployment that finishes within the first interval costs no extra read.
            self._next_app_read = self._next_queue_read = now + self.interval
        if app is None:
            if now < self._next_app_read:
                return
            self._next_app_read = now + self.interval
            try:
                app = self.api.get_app(self.app_id)
            except MarathonError:
                return  # an extra read never fails the wait; the wait's own reads decide
        if not isinstance(app, dict) or not app.get("instances"):
            return  # gone, or scaled to 0: nothing is launched, nothing can fail to launch
        self.observe(app)
        if self.task_failures and self.in_row >= self.task_failures:
            raise self._stuck("task_failures", self._failures_reason(app), app, deployment)
        if self.offer_grace and not self.queue_unreadable:
            if now >= self._next_queue_read:
                self._next_queue_read = now + self.interval
                try:
                    item = self.api.get_queue_item(self.app_id)
                except MarathonError:
                    # A proxy or an ACL that hides /v2/queue: only the task failure check is left.
                    self.queue_unreadable = True
                    item = None
                self._observe_queue(item, now)
            if self.declining_since is not None and now - self.declining_since >= self.offer_grace:
                reason = "every offer was declined for %ss: %s" % (
                    _fmt(now - self.declining_since),
                    declined_reasons(self.queue_item.get("processedOffersSummary")) or "no reason given")
                raise self._stuck("offers_declined", reason, app, deployment)

    def observe(self, app):
        """Record the task failures and health check causes the app shows."""
        version = app.get("version")
        if version != self._version:
            # Another version is being deployed now (e.g. the restart after a scale): count its failures only.
            self._version = version
            self.in_row = 0
            self.failures = []
        for task in app.get("tasks") or []:
            if not isinstance(task, dict):
                continue
            results = [r for r in task.get("healthCheckResults") or [] if isinstance(r, dict)]
            causes = [r.get("lastFailureCause") for r in results if not r.get("alive") and r.get("lastFailureCause")]
            if causes:
                self.health_causes[task.get("id")] = causes[0]
                self.last_health_cause = causes[0]
            healthy = results and all(r.get("alive") for r in results)
            if healthy and task.get("version") == version and task.get("id") not in self._seen_healthy:
                # A new task of this version became healthy: the failures before it were not in a row.
                self._seen_healthy.add(task.get("id"))
                self.in_row = 0
        ltf = app.get("lastTaskFailure")
        if isinstance(ltf, dict) and version and ltf.get("version") == version:
            key = (ltf.get("taskId"), ltf.get("timestamp"))
            if key not in self._seen_failures:
                self._seen_failures.add(key)
                self.failures.append(_failure_summary(ltf, self.health_causes.get(ltf.get("taskId"))))
                self.failures = self.failures[-DIAGNOSIS_FAILURES:]
                self.in_row += 1

    def _observe_queue(self, item, now):
        self.queue_item = item if isinstance(item, dict) else None
        summary = (item or {}).get("processedOffersSummary")
        declining = False
        if isinstance(summary, dict) and (item.get("delay") or {}).get("overdue") is not False:
            used = summary.get("lastUsedOfferAt")
            steps = [s for s in summary.get("rejectSummaryLastOffers") or [] if isinstance(s, dict)]
            if steps:
                # The first step processed every agent's last offer; all of them were declined.
                processed = max((s.get("processed") or 0) for s in steps)
                declining = processed > 0 and sum((s.get("declined") or 0) for s in steps) >= processed
            else:
                # Older summaries: offers keep being declined and none was used.
                unused = summary.get("unusedOffersCount") or 0
                declining = (self._last_unused_count is not None and unused > self._last_unused_count)
                self._last_unused_count = unused
            if self._last_used_offer is not _UNREAD and used != self._last_used_offer:
                declining = False  # an offer was used since the last read: instances still launch
            self._last_used_offer = used
        else:
            self._last_unused_count = None
        if not declining:
            self.declining_since = None
        elif self.declining_since is None:
            self.declining_since = now

    def _failures_reason(self, app):
        last = self.failures[-1]
        reason = "%d tasks of version %s failed in a row; the last, %s, %s: %s" % (
            self.in_row, app.get("version"), last["task_id"], last["state"], last["message"] or "(no message)")
        cause = last.get("health_check_failure") or self.last_health_cause
        if cause:
            reason += "; health check: %s" % cause
        return reason

    def _stuck(self, cause, reason, app, deployment):
        if deployment is None:
            deps = [d for d in self._safe_deployments() if self.app_id in (d.get("affectedApps") or [])]
            deployment = deps[0] if deps else None
        diagnosis = {
            "cause": cause,
            "reason": reason,
            "app_id": self.app_id,
            "version": app.get("version"),
            "deployment_id": (deployment or {}).get("id"),
            "current_step": (deployment or {}).get("currentStep"),
            "total_steps": (deployment or {}).get("totalSteps"),
            "current_actions": ["%s %s" % (a.get("action"), a.get("app") or a.get("pod") or "")
                                for a in (deployment or {}).get("currentActions") or [] if isinstance(a, dict)],
            "task_failures": list(self.failures),
            "health_check_failure": self.last_health_cause,
            "offers": (self.queue_item or {}).get("processedOffersSummary"),
            "queue_count": (self.queue_item or {}).get("count"),
        }
        dep_text = ("; deployment %s: %s" % (deployment.get("id"), describe_deployment(deployment))) if deployment else ""
        details = {"diagnosis": diagnosis, "tasks_running": app.get("tasksRunning", 0),
                   "tasks_healthy": app.get("tasksHealthy", 0)}
        if diagnosis["deployment_id"]:
            details["deployment"] = deployment
        if app.get("lastTaskFailure"):
            details["last_task_failure"] = app["lastTaskFailure"]
        return DeploymentStuck("Deployment of app '%s' cannot finish, stopped waiting: %s%s"
                               % (self.app_id, reason, dep_text), details, app=app)

    def _safe_deployments(self):
        try:
            return [d for d in self.api.get_deployments() if isinstance(d, dict)]
        except MarathonError:
            return []


def _fmt(seconds):
    return ("%d" % seconds) if float(seconds).is_integer() else ("%.1f" % seconds)


class Waiter(object):
    """The one wait of the collection: polls a read until a condition holds or the deadline
    (shared by every wait of one task) passes. Follows deployments, app counts and task lists."""

    def __init__(self, api, timeout, sleep=None, clock=None, first_interval=FIRST_INTERVAL, max_interval=MAX_INTERVAL,
                 task_failures=0, offer_grace=0):
        self.api = api
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        self.deadline = Deadline(timeout, self._clock)
        self.first_interval = first_interval
        self.max_interval = max_interval
        self.polls = 0
        # Fail fast (ProgressCheck): one check per app, shared by every wait of the task.
        self.task_failures = task_failures
        self.offer_grace = offer_grace
        self._progress = {}

    def progress_check(self, app_id):
        """The ProgressCheck of the app's deployment, or None when fail-fast is off."""
        key = canonical_app_id(app_id)
        if key not in self._progress:
            check = ProgressCheck(self.api, key, self.task_failures, self.offer_grace, clock=self._clock)
            self._progress[key] = check if check.enabled else None
        return self._progress[key]

    def poll(self, read, done, timed_out, first=None, progress=None):
        """Call ``read()`` until ``done(value)``; returns that value. ``first`` is a value
        already read (it saves one request). At the deadline raises ``timed_out(last value)``.
        ``progress(value)``, called after each read that is not done yet, raises DeploymentStuck
        when the wait can never end."""
        gen = intervals(self.first_interval, self.max_interval)
        value = first
        have = first is not None
        while True:
            if not have:
                self.polls += 1
                value = read()
            have = False
            if done(value):
                return value
            if progress is not None:
                progress(value)
            if self.deadline.expired():
                raise timed_out(value)
            delay = min(next(gen), max(0.0, self.deadline.remaining()))
            if delay > 0:
                self._sleep(delay)

    def _timeout_details(self, deployment=None, app=None, extra=None):
        details = {"duration": round(self.deadline.elapsed(), 3)}
        if deployment is not None:
            details["deployment"] = deployment
        if app is not None:
            details["tasks_running"] = app.get("tasksRunning", 0)
            details["tasks_healthy"] = app.get("tasksHealthy", 0)
            if app.get("lastTaskFailure"):
                details["last_task_failure"] = app["lastTaskFailure"]
        if extra:
            details.update(extra)
        return details

    def _timeout_text(self):
        return "Timed out after %ss" % self._fmt(self.deadline.timeout)

    def wait_deployment(self, deployment_id, app_id):
        """Until ``deployment_id`` is no longer in /v2/deployments."""
        if not deployment_id:
            return

        def read():
            return [d for d in self.api.get_deployments() if isinstance(d, dict) and d.get("id") == deployment_id]

        def timed_out(current):
            app = self._safe_get_app(app_id)
            return WaitTimeout(
                "%s waiting for deployment %s of app '%s' to finish: %s; %s"
                % (self._timeout_text(), deployment_id, canonical_app_id(app_id), describe_deployment(current[0]),
                   describe_tasks(app)),
                self._timeout_details(current[0], app, {"deployment_id": deployment_id}),
                app=app,
            )

        check = self.progress_check(app_id)
        progress = (lambda current: check.check(deployment=current[0] if current else None)) if check else None
        self.poll(read, lambda current: not current, timed_out, progress=progress)

    def wait_app(self, app_id, wait_for, instances=None, app=None):
        """Until the app reaches ``wait_for`` (healthy|running|suspended). Returns the last GET."""

        def read():
            found = self.api.get_app(app_id)
            if found is None:
                raise MarathonError("App '%s' disappeared while waiting for it to be %s"
                                    % (canonical_app_id(app_id), wait_for))
            return found

        def timed_out(last):
            deps = [d for d in self._safe_deployments() if canonical_app_id(app_id) in (d.get("affectedApps") or [])]
            dep_text = ("; deployment %s: %s" % (deps[0].get("id"), describe_deployment(deps[0]))) if deps else ""
            return WaitTimeout(
                "%s waiting for app '%s' to be %s: %s%s"
                % (self._timeout_text(), canonical_app_id(app_id), wait_for, describe_tasks(last), dep_text),
                self._timeout_details(deps[0] if deps else None, last),
                app=last,
            )

        check = self.progress_check(app_id) if wait_for != "suspended" else None
        progress = (lambda found: check.check(app=found)) if check else None
        return self.poll(read, lambda found: app_condition_met(found, wait_for, instances), timed_out, first=app,
                         progress=progress)

    def wait_absent(self, app_id):
        """Until GET /v2/apps/{id} answers 404."""

        def timed_out(last):
            return WaitTimeout(
                "%s waiting for app '%s' to be removed: %s"
                % (self._timeout_text(), canonical_app_id(app_id), describe_tasks(last)),
                self._timeout_details(None, last),
                app=last,
            )

        self.poll(lambda: self.api.get_app(app_id), lambda found: found is None, timed_out)

    def wait_unlocked(self, app_id, blocking_ids):
        """Until none of ``blocking_ids`` is running any more (a locked app)."""
        pending = set(i for i in blocking_ids if i)
        if not pending:
            return

        def read():
            return dict((d.get("id"), d) for d in self.api.get_deployments() if isinstance(d, dict) and d.get("id") in pending)

        def timed_out(running):
            described = "; ".join("%s (%s)" % (i, describe_deployment(running[i])) for i in sorted(running))
            return WaitTimeout(
                "%s waiting for the deployments that lock app '%s': %s. Use force=true to override them, or raise "
                "wait_timeout" % (self._timeout_text(), canonical_app_id(app_id), described),
                self._timeout_details(extra={"blocking_deployments": sorted(running)}),
            )

        self.poll(read, lambda running: not running, timed_out)

    def _safe_get_app(self, app_id):
        try:
            return self.api.get_app(app_id)
        except MarathonError:
            return None

    def _safe_deployments(self):
        try:
            return [d for d in self.api.get_deployments() if isinstance(d, dict)]
        except MarathonError:
            return []

    @staticmethod
    def _fmt(seconds):
        return _fmt(seconds)
