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


class Waiter(object):
    """The one wait of the collection: polls a read until a condition holds or the deadline
    (shared by every wait of one task) passes. Follows deployments, app counts and task lists."""

    def __init__(self, api, timeout, sleep=None, clock=None, first_interval=FIRST_INTERVAL, max_interval=MAX_INTERVAL):
        self.api = api
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        self.deadline = Deadline(timeout, self._clock)
        self.first_interval = first_interval
        self.max_interval = max_interval
        self.polls = 0

    def poll(self, read, done, timed_out, first=None):
        """Call ``read()`` until ``done(value)``; returns that value. ``first`` is a value
        already read (it saves one request). At the deadline raises ``timed_out(last value)``."""
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

        self.poll(read, lambda current: not current, timed_out)

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

        return self.poll(read, lambda found: app_condition_met(found, wait_for, instances), timed_out, first=app)

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
        return ("%d" % seconds) if float(seconds).is_integer() else ("%.1f" % seconds)
