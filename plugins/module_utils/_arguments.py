# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Connection options shared by every module (documented by the ``connection`` doc fragment).

Private module_utils: not a public API.
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import env_fallback


def connection_argument_spec():
    """Argument spec shared by every module of the collection."""
    return dict(
        marathon_url=dict(type="str", required=True, fallback=(env_fallback, ["MARATHON_URL"])),
        dcos_url=dict(type="str", fallback=(env_fallback, ["DCOS_URL"])),
        # Credentials have no env fallback here: the environment is read by the client,
        # only when the task sets none of them (see credentials_from_env).
        dcos_acs_token=dict(type="str", no_log=True),
        dcos_username=dict(type="str"),
        dcos_password=dict(type="str", no_log=True),
        dcos_service_account=dict(type="str"),
        dcos_private_key=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["MARATHON_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["MARATHON_CA_PATH"])),
        client_cert=dict(type="path"),
        client_key=dict(type="path", no_log=False),
        request_timeout=dict(type="float", default=30.0),
        retries=dict(type="int", default=3),
        marathon_version=dict(type="str"),
    )


CONNECTION_MUTUALLY_EXCLUSIVE = [
    ("dcos_acs_token", "dcos_username"),
    ("dcos_acs_token", "dcos_service_account"),
    ("dcos_username", "dcos_service_account"),
]
CONNECTION_REQUIRED_TOGETHER = [
    ("dcos_username", "dcos_password"),
    ("dcos_service_account", "dcos_private_key"),
]

CREDENTIAL_ENV = (
    ("dcos_acs_token", "DCOS_ACS_TOKEN"),
    ("dcos_username", "DCOS_USERNAME"),
    ("dcos_password", "DCOS_PASSWORD"),
    ("dcos_service_account", "DCOS_SERVICE_ACCOUNT"),
    ("dcos_private_key", "DCOS_PRIVATE_KEY"),
)
SECRET_CREDENTIALS = ("dcos_acs_token", "dcos_password", "dcos_private_key")


def credentials_from_env(params, environ=None):
    """Credentials of the task, or else of the environment (one kind only).

    Explicit options always win, so a DCOS_ACS_TOKEN left in the environment never
    clashes with dcos_username given in a task. From the environment, a token is
    preferred to a user login, and a user login to a service account.
    """
    environ = os.environ if environ is None else environ
    out = dict(params)
    if any(params.get(name) for name, _env in CREDENTIAL_ENV):
        return out
    found = dict((name, environ.get(env)) for name, env in CREDENTIAL_ENV if environ.get(env))
    if found.get("dcos_acs_token"):
        out["dcos_acs_token"] = found["dcos_acs_token"]
    elif found.get("dcos_username"):
        out["dcos_username"] = found["dcos_username"]
        out["dcos_password"] = found.get("dcos_password")
    elif found.get("dcos_service_account"):
        out["dcos_service_account"] = found["dcos_service_account"]
        out["dcos_private_key"] = found.get("dcos_private_key")
    return out
