# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment(object):
    # Connection, authentication and TLS options shared by every module.
    DOCUMENTATION = r"""
options:
  marathon_url:
    description:
      - URL of Marathon, or of a DC/OS cluster.
      - A URL with a path (for example V(https://dcos.example.com/service/marathon)) is used as given.
      - A URL without a path is taken as a DC/OS cluster URL, and C(/service/marathon) is appended, when
        DC/OS credentials are given (O(dcos_acs_token), O(dcos_username) or O(dcos_service_account)) and
        O(dcos_url) is unset or names the same host. Otherwise it is a plain Marathon URL such as
        V(http://marathon.example.com:8080).
      - It is the root of the Marathon API, without C(/v2); the modules add C(/v2/...) themselves. An answer
        that shows the URL does not lead to Marathon (its C(URI not found) for an unknown path, a 404 page
        of a proxy) fails the task with a hint; only Marathon's own 404 for an app means that the app is absent.
      - If not set, the value of the E(MARATHON_URL) environment variable is used.
    type: str
    required: true
  dcos_url:
    description:
      - URL of the DC/OS cluster used for logins (C(<dcos_url>/acs/api/v1/auth/login)), when it differs
        from O(marathon_url).
      - Without it, logins go to the root of O(marathon_url) (any C(/service/marathon) path removed).
      - If not set, the value of the E(DCOS_URL) environment variable is used.
    type: str
  dcos_acs_token:
    description:
      - "A DC/OS authentication token, sent as C(Authorization: token=...)."
      - Mutually exclusive with O(dcos_username) and O(dcos_service_account).
      - E(DCOS_ACS_TOKEN) is used when the task sets no credential option (see the notes).
    type: str
  dcos_username:
    description:
      - DC/OS user to log in as, together with O(dcos_password). The token is obtained once per task
        and obtained again once if Marathon answers 401 during the task.
      - E(DCOS_USERNAME) is used when the task sets no credential option (see the notes).
    type: str
  dcos_password:
    description:
      - Password of O(dcos_username).
      - E(DCOS_PASSWORD) is used when the task sets no credential option (see the notes).
    type: str
  dcos_service_account:
    description:
      - DC/OS service account to log in as, together with O(dcos_private_key). A login token signed
        with RS256 by the account's private key (claims C(uid) and C(exp)) is exchanged for a DC/OS token.
      - E(DCOS_SERVICE_ACCOUNT) is used when the task sets no credential option (see the notes).
    type: str
  dcos_private_key:
    description:
      - Private key (RSA, PEM) of O(dcos_service_account), either the PEM text itself or the path of a
        file holding it, read where the module runs.
      - E(DCOS_PRIVATE_KEY) is used when the task sets no credential option (see the notes).
    type: str
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate.
      - If not set, the value of the E(MARATHON_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificates that sign the server's certificate (for example the DC/OS CA,
        C(<dcos_url>/ca/dcos-ca.crt)).
      - If not set, the value of the E(MARATHON_CA_PATH) environment variable is used.
    type: path
  client_cert:
    description:
      - PEM client certificate for mutual TLS (may also hold the key).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert), when it is a separate file.
    type: path
  request_timeout:
    description:
      - Seconds to wait for each HTTP response.
    type: float
    default: 30.0
  retries:
    description:
      - How many times a request is repeated after a connection error or an HTTP 502, 503 or 504, with
        exponential backoff (0.5 s, 1 s, 2 s, ... up to 8 s).
      - Only requests that are safe to repeat are repeated as such (GET, and DELETE of an app by id).
        After a failed create or update the app is read again first, and the request is sent again only
        if the app is still absent or still differs. A restart is never repeated.
    type: int
    default: 3
  marathon_version:
    description:
      - Version of the cluster's Marathon, for example V(1.4.12), V(1.6.585) or V(1.10.26); V(1.4) means the newest
        1.4 build that DC/OS shipped (see the table in the notes). It decides the defaults the app definitions are
        compared with, the fields the definition may use and, on 1.4, the networking form sent.
      - Leave it unset to have the version read once per cluster with C(GET /v2/info), by the first task that
        needs it (one that writes; a task that changes nothing does not need it). The module returns it as
        the fact C(marathon_versions) (a mapping of O(marathon_url) to version), and later tasks of the play on
        the same host and O(marathon_url) take it from there, so they send no C(GET /v2/info).
      - Set it (for example with C(module_defaults)) when the credentials may not read C(/v2/info), or to save
        that one request. A fact cache that outlives a Marathon upgrade keeps the old version, so clear it, or set
        this option, after upgrading.
    type: str
    version_added: 0.2.0
requirements:
  - requests
  - PyJWT and cryptography (only for O(dcos_service_account) logins)
notes:
  - Credentials come either from the task options or, when the task sets none of O(dcos_acs_token),
    O(dcos_username), O(dcos_password), O(dcos_service_account) and O(dcos_private_key), from the
    environment (E(DCOS_ACS_TOKEN), else E(DCOS_USERNAME) and E(DCOS_PASSWORD), else E(DCOS_SERVICE_ACCOUNT)
    and E(DCOS_PRIVATE_KEY)). Options given in the task are never mixed with the environment.
  - All connection options can be set once for a play with C(module_defaults) and the action group
    C(group/dcos.marathon.marathon).
  - "Supported Marathon versions and the DC/OS releases that shipped them (Marathon builds):
    1.4 - DC/OS 1.9 (1.4.2 to 1.4.12); 1.5 - DC/OS 1.10 (1.5.0 to 1.5.12); 1.6 - DC/OS 1.11 (1.6.322 to 1.6.585);
    1.7 - DC/OS 1.12 (1.7.174 to 1.7.216); 1.8 - DC/OS 1.13 (1.8.180 to 1.8.242); 1.9 - DC/OS 2.0 (1.9.100 to
    1.9.136); 1.10 - DC/OS 2.1 (1.10.17 to 1.10.36); 1.11 - DC/OS 2.2 (1.11.23, 1.11.24)."
"""
