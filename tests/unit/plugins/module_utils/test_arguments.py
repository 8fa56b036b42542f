# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""The shared connection options: credentials from the environment."""

from __future__ import annotations

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._arguments import CREDENTIAL_ENV, credentials_from_env


@pytest.mark.parametrize(
    "params,environ,expected",
    [
        ({}, {"DCOS_ACS_TOKEN": "env-tok", "DCOS_USERNAME": "env-user", "DCOS_PASSWORD": "env-pw"},
         {"dcos_acs_token": "env-tok"}),
        ({}, {"DCOS_USERNAME": "env-user", "DCOS_PASSWORD": "env-pw"},
         {"dcos_username": "env-user", "dcos_password": "env-pw"}),
        ({}, {"DCOS_SERVICE_ACCOUNT": "sa", "DCOS_PRIVATE_KEY": "/k.pem"},
         {"dcos_service_account": "sa", "dcos_private_key": "/k.pem"}),
        ({"dcos_username": "ops", "dcos_password": "pw"}, {"DCOS_ACS_TOKEN": "env-tok"},
         {"dcos_username": "ops", "dcos_password": "pw"}),
        ({"dcos_acs_token": "task-tok"}, {"DCOS_USERNAME": "env-user", "DCOS_PASSWORD": "env-pw"},
         {"dcos_acs_token": "task-tok"}),
        ({}, {}, {}),
    ],
)
def test_credentials_from_env_never_mix_with_task_options(params, environ, expected):
    base = dict((name, None) for name, _env in CREDENTIAL_ENV)
    base.update(params)
    got = credentials_from_env(base, environ)
    assert dict((k, v) for k, v in got.items() if v) == expected
