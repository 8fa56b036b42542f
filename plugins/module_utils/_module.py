# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""MarathonModule: AnsibleModule plus the shared connection options and client.

Private module_utils: not a public API.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.dcos.marathon.plugins.module_utils._api import MarathonApi
from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import app_id_problem, canonical_app_id
from ansible_collections.dcos.marathon.plugins.module_utils._arguments import (
    CONNECTION_MUTUALLY_EXCLUSIVE,
    CONNECTION_REQUIRED_TOGETHER,
    connection_argument_spec,
)
from ansible_collections.dcos.marathon.plugins.module_utils._errors import MarathonError
from ansible_collections.dcos.marathon.plugins.module_utils._http import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, HttpClient


class MarathonModule:
    """Wraps AnsibleModule (rather than subclassing) so the connection spec, the
    dependency check and error reporting are the same in every module."""

    def __init__(
        self,
        argument_spec=None,
        supports_check_mode=False,
        mutually_exclusive=None,
        required_together=None,
        required_one_of=None,
        required_if=None,
        required_by=None,
        **kwargs
    ):
        spec = connection_argument_spec()
        spec.update(argument_spec or {})
        # Only pass what is set: validate-modules checks the literal kwargs.
        for name, value in (("required_one_of", required_one_of), ("required_if", required_if),
                            ("required_by", required_by)):
            if value:
                kwargs[name] = value
        self._module = AnsibleModule(
            argument_spec=spec,
            supports_check_mode=supports_check_mode,
            mutually_exclusive=list(CONNECTION_MUTUALLY_EXCLUSIVE) + list(mutually_exclusive or []),
            required_together=list(CONNECTION_REQUIRED_TOGETHER) + list(required_together or []),
            **kwargs
        )
        if not HAS_REQUESTS:
            self._module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        self._client = None

    # ---- proxies ---------------------------------------------------------------------

    @property
    def params(self):
        return self._module.params

    @property
    def check_mode(self):
        return self._module.check_mode

    @property
    def diff(self):
        """Whether --diff (or diff: true) asked for before/after."""
        return self._module._diff

    @property
    def no_log_values(self):
        return self._module.no_log_values

    def warn(self, msg):
        self._module.warn(msg)

    def exit_json(self, **result):
        self._module.exit_json(**result)

    def fail_json(self, msg, **result):
        self._module.fail_json(msg=msg, **result)

    def app_id_param(self, name="app_id"):
        """The canonical form of the app id option ``name`` (None when unset); an id Marathon
        would refuse fails here, naming the option, before any request."""
        value = self._module.params.get(name)
        if value is None:
            return None
        why = app_id_problem(value)
        if why:
            self._module.fail_json(msg="%s '%s' %s" % (name, value, why), changed=False)
        return canonical_app_id(value)

    # ---- client and errors -----------------------------------------------------------

    @property
    def client(self):
        """The MarathonApi of this run, over its HttpClient (created on first use)."""
        if self._client is None:
            try:
                self._client = MarathonApi(HttpClient(self._module))
            except MarathonError as e:
                self.fail_from_error(e)
        return self._client

    def fail_from_error(self, err, **result):
        """fail_json with the readable message and status/url/method/body of ``err``."""
        fields = err.to_result() if isinstance(err, MarathonError) else {}
        for key, value in fields.items():
            result.setdefault(key, value)
        result.setdefault("changed", False)
        self._module.fail_json(msg=str(err), **result)
