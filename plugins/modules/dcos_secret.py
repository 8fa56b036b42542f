#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dcos_secret
short_description: Idempotent management of one secret in the DC/OS Enterprise secret store
version_added: 0.2.0
description:
  - Creates, updates or deletes one text secret in the DC/OS Enterprise secret store (C(/secrets/v1) at the
    cluster root), such as a database password that a Marathon app then references with C(secrets) instead
    of carrying it in its C(env).
  - Reads the secret first (C(GET /secrets/v1/secret/<store>/<path>)) and writes only when it is missing
    (C(PUT)), differs (C(PATCH)), or must go (C(DELETE)). A rerun with the same value sends no write.
  - The value is never shown; RV(diff) says only whether it is V(changed) or V(unchanged).
  - Changing a secret's value does not redeploy the apps that use it; they read it when their tasks start.
author:
  - dcos.marathon maintainers (@dcos-marathon)
options:
  path:
    description:
      - Path of the secret, without a leading C(/), for example V(postgres/password).
      - DC/OS lets an app read a secret only when the secret's folder is the app's id or one of its groups
        (V(postgres/password) for the app V(/postgres)), unless the path has no folder.
    type: str
    required: true
  store:
    description:
      - Secret store; DC/OS has only V(default).
    type: str
    default: default
  value:
    description:
      - The secret's value (text). Keep it in ansible-vault.
      - Required with O(state=present) unless O(src) is given.
    type: str
  src:
    description:
      - A UTF-8 text file whose whole content is the value (a trailing newline is kept), like
        C(dcos security secrets create --text-file).
    type: path
  state:
    description:
      - V(present) creates the secret or updates its value; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - dcos.marathon.connection
  - dcos.marathon.attributes
  - dcos.marathon.attributes.ACTIONGROUP_MARATHON
attributes:
  check_mode:
    support: full
    details:
      - Only the read is sent; C(changed) and RV(action) say what would be done.
  diff_mode:
    support: full
    details:
      - Before and after give the path and whether the secret exists; after says V(changed) or V(unchanged)
        for the value, never the value.
notes:
  - The secret store is reached at the root of O(dcos_url), else of O(marathon_url) (any C(/service/marathon)
    path removed).
  - The identity of the credentials needs C(dcos:secrets:<store>:/<path>) with C(read), and C(create),
    C(update) or C(delete) for the write. A missing permission, a sealed store, or a cluster without a secret
    store (open-source DC/OS, plain Marathon) fails the task with a message that says which.
  - Binary secrets (C(dcos security secrets create --file)) are not managed.
seealso:
  - module: dcos.marathon.marathon_app
  - name: DC/OS secrets
    description: Creating secrets and using them in Marathon apps.
    link: https://docs.d2iq.com/mesosphere/dcos/2.2/security/ent/secrets/
"""

EXAMPLES = r"""
- name: Keep the PostgreSQL password in the secret store
  dcos.marathon.dcos_secret:
    marathon_url: https://dcos.example.com/service/marathon
    dcos_username: admin
    dcos_password: "{{ vault_dcos_password }}"
    path: postgres/password
    value: "{{ vault_postgres_password }}"

- name: Reference it from the app instead of putting the password into env
  dcos.marathon.marathon_app:
    marathon_url: https://dcos.example.com/service/marathon
    dcos_username: admin
    dcos_password: "{{ vault_dcos_password }}"
    definition:
      id: /postgres
      container:
        type: MESOS
        docker: {image: "postgres:16"}
        volumes:
          - {containerPath: pgpass, secret: pgpass}
      env:
        POSTGRES_PASSWORD_FILE: /mnt/mesos/sandbox/pgpass
      secrets:
        pgpass: {source: postgres/password}

- name: Remove a secret
  dcos.marathon.dcos_secret:
    marathon_url: https://dcos.example.com/service/marathon
    dcos_acs_token: "{{ vault_dcos_token }}"
    path: old/password
    state: absent
"""

RETURN = r"""
path:
  description: The path of the secret.
  returned: always
  type: str
  sample: postgres/password
store:
  description: The secret store.
  returned: always
  type: str
  sample: default
action:
  description: What was done (or, in check mode, would be done).
  returned: success
  type: str
  choices: [create, update, delete, none]
  sample: update
diff:
  description: Whether the secret exists before and after, and whether its value changes; never the value.
  returned: when diff mode is on
  type: dict
  sample: {"before": {"path": "postgres/password", "state": "present"},
           "after": {"path": "postgres/password", "state": "present", "value": "changed"}}
"""

from ansible_collections.dcos.marathon.plugins.module_utils._module import MarathonModule
from ansible_collections.dcos.marathon.plugins.module_utils._secrets import run_secret_module


def main():
    module = MarathonModule(
        argument_spec=dict(
            path=dict(type="str", required=True, no_log=False),
            store=dict(type="str", default="default"),
            value=dict(type="str", no_log=True),
            src=dict(type="path"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
        mutually_exclusive=[("value", "src")],
        required_if=[("state", "present", ("value", "src"), True)],
    )
    run_secret_module(module)


if __name__ == "__main__":
    main()
