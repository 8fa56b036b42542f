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


def app_condition_met(app, wait_for, instances=None):
    """Whether the app counts say the wait is over.

    healthy: tasksHealthy and tasksRunning reach the instance count; without
    health checks healthy means running. running: tasksRunning reaches it. With
    0 instances both mean nothing runs or is staged any more.
    """
    if not isinstance(app, dict):
        return False
    want = app.get("instances", 0) if instances is None else instances
    running = app.get("tasksRunning", 0) or 0
    if want == 0:
        return running == 0 and (app.get("tasksStaged", 0) or 0) == 0
    if wait_for == "healthy" and app.get("healthChecks"):
        return (app.get("tasksHealthy", 0) or 0) >= want and running >= want
    return running >= want


class Waiter(object):
    """Follows deployments and app counts through a MarathonApi."""

    def __init__(self, client, timeout, sleep=None, clock=None):
        self.client = client
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        self.deadline = Deadline(timeout, self._clock)
        self.polls = 0

    def _pause(self, gen):
        delay = min(next(gen), max(0.0, self.deadline.remaining()))
        if delay > 0:
            self._sleep(delay)

    def _timeout_details(self, app_id, deployment=None, app=None, extra=None):
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

    def wait_deployment(self, deployment_id, app_id):
        """Until ``deployment_id`` is no longer in /v2/deployments."""
        if not deployment_id:
            return
        gen = intervals()
        last = None
        while True:
            self.polls += 1
            current = [d for d in self.client.get_deployments() if isinstance(d, dict) and d.get("id") == deployment_id]
            if not current:
                return
            last = current[0]
            if self.deadline.expired():
                app = self._safe_get_app(app_id)
                raise WaitTimeout(
                    "Timed out after %ss waiting for deployment %s of app '%s' to finish: %s; %s"
                    % (self._fmt(self.deadline.timeout), deployment_id, canonical_app_id(app_id), describe_deployment(last),
                       describe_tasks(app)),
                    self._timeout_details(app_id, last, app, {"deployment_id": deployment_id}),
                    app=app,
                )
            self._pause(gen)

    def wait_app(self, app_id, wait_for, instances=None, app=None):
        """Until the app reaches ``wait_for`` (healthy|running). Returns the last GET."""
        gen = intervals()
        while True:
            if app is None:
                self.polls += 1
                app = self.client.get_app(app_id)
            if app is None:
                raise MarathonError("App '%s' disappeared while waiting for it to be %s" % (canonical_app_id(app_id), wait_for))
            if app_condition_met(app, wait_for, instances):
                return app
            if self.deadline.expired():
                deps = [d for d in self._safe_deployments() if canonical_app_id(app_id) in (d.get("affectedApps") or [])]
                dep_text = ("; deployment %s: %s" % (deps[0].get("id"), describe_deployment(deps[0]))) if deps else ""
                raise WaitTimeout(
                    "Timed out after %ss waiting for app '%s' to be %s: %s%s"
                    % (self._fmt(self.deadline.timeout), canonical_app_id(app_id), wait_for, describe_tasks(app), dep_text),
                    self._timeout_details(app_id, deps[0] if deps else None, app),
                    app=app,
                )
            self._pause(gen)
            app = None

    def wait_absent(self, app_id):
        """Until GET /v2/apps/{id} answers 404."""
        gen = intervals()
        while True:
            self.polls += 1
            app = self.client.get_app(app_id)
            if app is None:
                return
            if self.deadline.expired():
                raise WaitTimeout(
                    "Timed out after %ss waiting for app '%s' to be removed: %s"
                    % (self._fmt(self.deadline.timeout), canonical_app_id(app_id), describe_tasks(app)),
                    self._timeout_details(app_id, None, app),
                    app=app,
                )
            self._pause(gen)

    def wait_unlocked(self, app_id, blocking_ids):
        """Until none of ``blocking_ids`` is running any more (a locked app)."""
        pending = set(i for i in blocking_ids if i)
        gen = intervals()
        while pending:
            self.polls += 1
            deps = dict((d.get("id"), d) for d in self.client.get_deployments() if isinstance(d, dict))
            pending = set(i for i in pending if i in deps)
            if not pending:
                return
            if self.deadline.expired():
                described = "; ".join("%s (%s)" % (i, describe_deployment(deps[i])) for i in sorted(pending))
                raise WaitTimeout(
                    "Timed out after %ss waiting for the deployments that lock app '%s': %s. "
                    "Use force=true to override them, or raise wait_timeout"
                    % (self._fmt(self.deadline.timeout), canonical_app_id(app_id), described),
                    self._timeout_details(app_id, extra={"blocking_deployments": sorted(pending)}),
                )
            self._pause(gen)

    def _safe_get_app(self, app_id):
        try:
            return self.client.get_app(app_id)
        except MarathonError:
            return None

    def _safe_deployments(self):
        try:
            return [d for d in self.client.get_deployments() if isinstance(d, dict)]
        except MarathonError:
            return []

    @staticmethod
    def _fmt(seconds):
        return ("%d" % seconds) if float(seconds).is_integer() else ("%.1f" % seconds)
