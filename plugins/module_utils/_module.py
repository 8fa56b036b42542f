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
from ansible_collections.dcos.marathon.plugins.module_utils._versions import (
    BASELINE,
    cache_key,
    parse_version,
    version_problem,
    version_text,
)


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
        self._version = None
        self._version_used = None
        self._version_learned = None
        if self.params.get("marathon_version"):
            # A pinned version is checked at once, whether the module needs it or not.
            self._resolve_version()

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
        self._module.exit_json(**self._with_version(result))

    def fail_json(self, msg, **result):
        self._module.fail_json(msg=msg, **self._with_version(result))

    def _with_version(self, result):
        """The version the task worked with and, when it read it itself, the fact that lets the
        next tasks on this cluster skip GET /v2/info (the action plugin passes it back)."""
        if self._version_used is not None:
            result.setdefault("marathon_version", self._version_used)
        if self._version_learned is not None:
            key = cache_key(self.params.get("marathon_url"))
            facts = dict(result.get("ansible_facts") or {})
            facts["marathon_versions"] = {key: self._version_learned}
            result["ansible_facts"] = facts
        return result

    # ---- the Marathon version --------------------------------------------------------

    @property
    def known_marathon_version(self):
        """The version when it costs no request (pinned, or cached by the action plugin), else None."""
        if self._version is None and self.params.get("marathon_version"):
            return self.marathon_version
        return self._version

    @property
    def marathon_version(self):
        """(major, minor, patch) of the cluster's Marathon: the marathon_version option (which
        the action plugin fills from the marathon_versions fact), else read once with GET /v2/info."""
        if self._version is None:
            self._version = self._resolve_version()
            self._version_used = version_text(self._version)
        return self._version

    def _resolve_version(self):
        pinned = self.params.get("marathon_version")
        if pinned:
            version = parse_version(pinned)
            if version is None:
                self._module.fail_json(msg="marathon_version '%s' is not a Marathon version such as 1.4.12 or 1.10"
                                       % pinned, changed=False)
            self._check_supported(version, "marathon_version '%s'" % pinned)
            return version
        try:
            info = self.client.get_info()
        except MarathonError as e:
            if e.status != 403:
                self.fail_from_error(e)
            # A DC/OS user may read apps without being allowed to read /v2/info.
            self.warn("Could not read the Marathon version (GET /v2/info answered 403); assuming Marathon %s. "
                      "Set marathon_version (for example with module_defaults) to the cluster's version"
                      % version_text(BASELINE))
            return BASELINE
        version = parse_version(info.get("version"))
        if version is None:
            self.warn("GET /v2/info reports version %r, which is not a Marathon version; assuming Marathon %s. "
                      "Set marathon_version to the cluster's version" % (info.get("version"), version_text(BASELINE)))
            return BASELINE
        self._check_supported(version, "The cluster's Marathon (GET /v2/info)")
        self._version_learned = str(info["version"])
        return version

    def _check_supported(self, version, source):
        problem = version_problem(version)
        if problem:
            self._module.fail_json(msg="%s: %s" % (source, problem), changed=False)

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
