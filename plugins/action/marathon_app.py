# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin of marathon_app, marathon_app_info and marathon_task_info: the Marathon
version of a cluster is read once per play and host, not once per task.

A module that had to read the version itself (GET /v2/info) returns it as the fact
``marathon_versions`` ({<marathon_url>: <version>}). Modules cannot read facts; this plugin
can: when the task does not set marathon_version, it passes the version cached for the task's
marathon_url, so the module sends no GET /v2/info. New entries are merged into the fact, so
several clusters per host keep theirs.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

FACT = "marathon_versions"


def cached_versions(task_vars):
    """The marathon_versions fact of the host ({} when there is none)."""
    facts = (task_vars or {}).get("ansible_facts") or {}
    cache = facts.get(FACT)
    if cache is None:
        cache = (task_vars or {}).get(FACT)
    return dict(cache) if isinstance(cache, dict) else {}


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp

        args = dict(self._task.args)
        cache = cached_versions(task_vars)
        url = args.get("marathon_url")
        key = str(url).rstrip("/") if url else None
        if not args.get("marathon_version") and key in cache and cache[key]:
            args["marathon_version"] = str(cache[key])

        wrap_async = self._task.async_val and not self._connection.has_native_async
        module_result = self._execute_module(module_args=args, task_vars=task_vars, wrap_async=wrap_async)
        learned = (module_result.get("ansible_facts") or {}).get(FACT)
        if isinstance(learned, dict) and learned:
            # The module knows only its own cluster; keep the others the host has cached.
            module_result["ansible_facts"] = dict(module_result["ansible_facts"], **{FACT: dict(cache, **learned)})
        result = merge_hash(result, module_result)

        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
