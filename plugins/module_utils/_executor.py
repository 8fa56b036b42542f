# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The executor of marathon_app: reads the live app, asks the planner for a plan and
carries it out. It alone owns check mode, locks (wait, or force), sending, the landed-write
check (handed to the API layer as the plan's predicate) and waiting (one Waiter per task).

Private module_utils: not a public API.
"""

from __future__ import annotations

from ansible_collections.dcos.marathon.plugins.module_utils._api import deployment_ids
from ansible_collections.dcos.marathon.plugins.module_utils._app_request import AppRequest, Refusal
from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import canonical_app_id, mask_app, secret_values
from ansible_collections.dcos.marathon.plugins.module_utils._errors import MarathonError
from ansible_collections.dcos.marathon.plugins.module_utils._planner import (
    CREATE,
    DELETE,
    REFUSE,
    RESTART,
    ROLLBACK,
    Plan,
    RollbackTarget,
    plan_app,
)
from ansible_collections.dcos.marathon.plugins.module_utils._tasks import summarize_counts, summarize_tasks
from ansible_collections.dcos.marathon.plugins.module_utils._versions import assumed_from_app, uses_versioned_fields
from ansible_collections.dcos.marathon.plugins.module_utils._wait import WaitTimeout, Waiter, app_condition_met

# Plans made again after a lock cleared; more rounds mean someone keeps deploying the app.
MAX_LOCK_ROUNDS = 5


class _Locked(Exception):
    """The app is locked by deployments (seen in the GET, or a 409 to the write)."""

    def __init__(self, ids):
        super().__init__(", ".join(ids))
        self.ids = ids


class _AppAppeared(Exception):
    """A POST met an app of that id created since our GET (another run)."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


class PlanVersion(object):
    """The Marathon version plans are made for, shared by the app and group executors.

    The exact version costs a GET /v2/info unless pinned or cached. A definition with fields some
    version does not know needs it before any other request; otherwise the version the live app's
    shape shows is assumed, and a plan that writes or refuses is made again with the exact one. So a
    task that changes nothing stays one GET."""

    def __init__(self, module, request, needs_exact):
        self.module = module
        self.request = request
        self.exact = module.known_marathon_version
        if self.exact is None and needs_exact:
            self.exact = module.marathon_version
        if self.exact is not None:
            request.for_version(self.exact)

    def assume_from(self, live_app):
        """Without the exact version: the one the live app (None: none) shows."""
        if self.exact is None:
            self.request.for_version(assumed_from_app(live_app))

    def plan(self, decides, make_plan, *args):
        """make_plan(*args); made again with the exact version when decides(plan) (it writes or refuses)."""
        plan = make_plan(*args)
        if self.exact is None and decides(plan):
            self.exact = self.module.marathon_version
            self.request.for_version(self.exact)
            plan = make_plan(*args)
        return plan


def _writes_or_refuses(plan):
    return plan.writes or plan.action == REFUSE


class AppExecutor(object):
    def __init__(self, module):
        self.module = module
        self.request = None
        self._waiter = None
        self._warned = set()
        self.result = dict(changed=False, app=None, changes=[], deployment_id=None, version=None, tasks_running=0,
                           tasks_healthy=0, tasks=[], summary=summarize_counts([]))
        if module.diff:
            self.result["diff"] = {"before": {}, "after": {}}

    @property
    def api(self):
        return self.module.client

    @property
    def waiter(self):
        # One deadline for every wait of the task: locks, its deployment, the condition.
        if self._waiter is None:
            self._waiter = Waiter(self.api, self.request.wait_timeout,
                                  task_failures=self.request.fail_after_task_failures,
                                  offer_grace=self.request.offer_decline_grace)
        return self._waiter

    # ---- the run -----------------------------------------------------------------------

    def run(self):
        request = self.request = AppRequest(self.module.params, self.module.no_log_values)
        versions = PlanVersion(self.module, request, uses_versioned_fields(request.definition))
        if request.rollback_to is not None:
            self.result["rollback_to"] = request.rollback_to
        live = self._read_live()
        versions.assume_from(live)
        for _round in range(MAX_LOCK_ROUNDS):
            plan = versions.plan(_writes_or_refuses, plan_app, request, live, self._rollback_target(live))
            self._record(plan)
            try:
                self._execute(plan, live)
                return self.result
            except _Locked as locked:
                self.waiter.wait_unlocked(request.app_id, locked.ids)
                live = self._read_live()
            except _AppAppeared as appeared:
                live = self._read_live()
                if live is None:
                    raise appeared.error
        raise Refusal("App '%s' stayed locked by new deployments; nothing was changed. Try force=true"
                      % request.app_id)

    def _execute(self, plan, live):
        if plan.action == REFUSE:
            raise Refusal(plan.msg, **plan.extra)
        if not plan.writes:
            self._settle(live)
            return
        if self.module.check_mode:
            self._predict(plan, live)
            return
        if plan.action == DELETE:
            self._finish_app(None)
        self._send_plan(plan, live)
        self._follow(plan)
        if plan.restart:
            # A running app scaled by state=restarted: its tasks restart too, from the app as it is now.
            live = self.api.get_app(self.request.app_id) or live
            restart = Plan(RESTART, instances=plan.instances, app=live)
            self._send_plan(restart, live)
            self._follow(restart)

    def _read_live(self):
        # The API layer refuses a malformed reply: comparing against it could send a write nobody asked for.
        live = self.api.get_app(self.request.app_id)
        # A task that fails from here on still returns the app as last seen.
        self._finish_app(live)
        return live

    def _rollback_target(self, live):
        version = self.request.rollback_to
        if version is None or live is None:
            return None
        versions = self.api.get_app_versions(self.request.app_id)
        if version not in versions:
            return RollbackTarget(versions, None)
        definition = self.api.get_app_version(self.request.app_id, version)
        self._hide_secrets(definition)
        return RollbackTarget(versions, definition)

    # ---- result ------------------------------------------------------------------------

    def _record(self, plan):
        """changes, diff and warnings from the plan's one comparison."""
        if not self.result["changed"]:
            self.result["changes"] = list(plan.changes)
        if self.module.diff and plan.comparison is not None and not self.result["changed"]:
            self.result["diff"] = plan.comparison.diff(self.request.secret_env)
        for warning in plan.warnings:
            if warning not in self._warned:
                self._warned.add(warning)
                self.module.warn(warning)

    def _hide_secrets(self, app):
        self.module.no_log_values.update(secret_values(app or {}, self.request.secret_env))

    def _finish_app(self, app):
        self._hide_secrets(app)
        self.result["app"] = mask_app(app, self.request.secret_env) if app else None
        self.result["tasks_running"] = (app or {}).get("tasksRunning", 0) or 0
        self.result["tasks_healthy"] = (app or {}).get("tasksHealthy", 0) or 0
        tasks = [t for t in (app or {}).get("tasks") or [] if isinstance(t, dict)]
        if app:
            tasks = summarize_tasks(tasks, {canonical_app_id(app.get("id") or ""): app.get("instances", 0) or 0})
        self.result["tasks"] = tasks
        self.result["summary"] = summarize_counts(tasks)
        if app and app.get("version"):
            self.result["version"] = app["version"]

    def _predict(self, plan, live):
        """Check mode: say what the write would do, send nothing."""
        self.result["changed"] = True
        if plan.action == DELETE:
            self._finish_app(None)
        elif plan.comparison is not None and plan.comparison.desired is not None and plan.action != RESTART:
            self.result["app"] = plan.comparison.predicted_app(self.request.secret_env)
        if plan.action == RESTART or plan.restart:
            self.result["changes"] = sorted(set(self.result["changes"]) | {"tasks (restart)"})

    # ---- sending -----------------------------------------------------------------------

    def _send_plan(self, plan, live):
        request, api = self.request, self.api
        if not request.force and deployment_ids(live) and plan.action != CREATE:
            raise _Locked(deployment_ids(live))
        try:
            if plan.action == CREATE:
                resp = api.create_app(plan.body, force=request.force)
            elif plan.action == ROLLBACK:
                resp = api.rollback_app(request.app_id, plan.version, force=request.force, landed=plan.landed)
            elif plan.action == RESTART:
                resp = api.restart_app(request.app_id, force=request.force)
            elif plan.action == DELETE:
                resp = api.delete_app(request.app_id, force=request.force)
            else:
                resp = api.update_app(request.app_id, plan.body, force=request.force, partial=plan.partial,
                                      landed=plan.landed)
        except MarathonError as e:
            if e.status == 409 and plan.action == CREATE:
                # Created by someone else since our GET: read it and converge instead.
                raise _AppAppeared(e)
            if e.status == 409 and not request.force and e.deployment_ids:
                raise _Locked(e.deployment_ids)
            raise
        self.result["changed"] = True
        self.result["deployment_id"] = resp.deployment_id
        if isinstance(resp.body, dict) and resp.body.get("version"):
            self.result["version"] = resp.body["version"]

    # ---- waiting -----------------------------------------------------------------------

    def _wait_for(self, app_hint):
        if self.request.wait_for:
            return self.request.wait_for
        return "healthy" if (app_hint or {}).get("healthChecks") else "running"

    def _timed(self, wait):
        start = self.waiter.deadline.elapsed()
        outcome = wait()
        self.result["duration"] = round(self.waiter.deadline.elapsed() - start, 3)
        return outcome

    def _follow(self, plan):
        """Wait for the task's deployment, then for the condition; the result shows the app as last read."""
        app_id = self.request.app_id
        if not self.request.wait:
            if plan.action != DELETE:
                self._finish_app(self.api.get_app(app_id))
            return

        def wait():
            self.waiter.wait_deployment(self.result["deployment_id"], app_id)
            if plan.action == DELETE:
                return self.waiter.wait_absent(app_id)
            wait_for = self._wait_for(plan.app)
            if wait_for == "deployment":
                return self.api.get_app(app_id)
            return self.waiter.wait_app(app_id, wait_for, plan.instances)

        app = self._timed(wait)
        if plan.action != DELETE:
            self._finish_app(app)

    def _settle(self, live):
        """Nothing to write: still wait for this app's deployments in progress and for wait_for.

        A rerun after a run that timed out must not report a success it has not seen; when the
        condition already holds this costs no request beyond the first GET.
        """
        if live is None or not self.request.wait or self.module.check_mode:
            return
        pending = deployment_ids(live)
        wait_for = self._wait_for(live)
        if not pending and (wait_for == "deployment" or app_condition_met(live, wait_for)):
            return

        def wait():
            for deployment_id in pending:
                self.waiter.wait_deployment(deployment_id, self.request.app_id)
            if wait_for == "deployment":
                return self.api.get_app(self.request.app_id)
            return self.waiter.wait_app(self.request.app_id, wait_for, app=None if pending else live)

        self._finish_app(self._timed(wait))


def run_app_module(module):
    """marathon_app's one call: converge the app, then exit_json or fail_json."""
    executor = AppExecutor(module)
    try:
        result = executor.run()
    except Refusal as e:
        result = dict(executor.result)
        result.update(e.extra)
        module.fail_json(msg=e.msg, **result)
    except WaitTimeout as e:
        if e.app is not None:
            executor._finish_app(e.app)
        result = dict(executor.result)
        result.update(e.to_result())
        module.fail_json(msg=str(e), **result)
    except MarathonError as e:
        module.fail_from_error(e, **executor.result)
    module.exit_json(**result)
