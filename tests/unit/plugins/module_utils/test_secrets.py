# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""SecretStore over a real HttpClient against a scripted HTTP server on 127.0.0.1: the cluster
root, the codes of the Secrets API, and the messages for a missing permission, a sealed store and
a cluster without a secret store. The value never appears in a message."""

from __future__ import annotations

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._errors import MarathonError
from ansible_collections.dcos.marathon.plugins.module_utils._secrets import SecretStore, secret_path_problem
from ansible_collections.dcos.marathon.tests.unit.plugins.module_utils.scripted_http import ScriptedServer, http_client

SECRET = "/secrets/v1/secret/default/pg/password"
VALUE = "s3cr3t-value"


@pytest.fixture
def server():
    with ScriptedServer() as script:
        yield script


def store_for(server, **params):
    # A DC/OS URL: Marathon under /service/marathon, the secret store at the root.
    return SecretStore(http_client(server.url + "/service/marathon", retries=0, **params))


def test_paths_without_leading_slash():
    assert secret_path_problem("pg/password") is None
    assert "leading slash" in secret_path_problem("/pg/password")
    assert secret_path_problem("pg//password") and secret_path_problem("pg/../x") and secret_path_problem("")


def test_read_goes_to_the_cluster_root_and_404_is_absent(server):
    server.add("GET", SECRET, 404, {"code": "ERR_SECRET_NOT_FOUND"})
    server.add("GET", SECRET, 200, {"value": VALUE})
    store = store_for(server)
    assert store.read("pg/password") is None
    assert store.read("pg/password") == VALUE
    assert [s["path"] for s in server.seen] == [SECRET, SECRET]


def test_create_that_finds_the_secret_created_meanwhile_updates_it(server):
    server.add("PUT", SECRET, 409, {"code": "ERR_SECRET_EXISTS"})
    server.add("PATCH", SECRET, 204)
    store_for(server).create("pg/password", VALUE)
    assert [s["method"] for s in server.seen] == ["PUT", "PATCH"]
    assert server.seen[1]["body"] == {"value": VALUE}


def test_a_missing_permission_names_it(server):
    server.add("PATCH", SECRET, 403, {"code": "ERR_FORBIDDEN"})
    with pytest.raises(MarathonError) as e:
        store_for(server, dcos_acs_token="tok").update("pg/password", VALUE)
    text = str(e.value)
    assert "Access denied to secret 'pg/password'" in text
    assert "dcos:secrets:default:/pg/password update" in text
    assert VALUE not in text


def test_a_sealed_store_says_so(server):
    server.add("GET", SECRET, 503, {"code": "ERR_SEALED"})
    sealed = {"sealed": True, "threshold": 1, "shares": 1, "progress": 0}
    server.add("GET", "/secrets/v1/seal-status/default", 200, sealed)
    with pytest.raises(MarathonError) as e:
        store_for(server).read("pg/password")
    assert "The secret store 'default' is sealed" in str(e.value)
    assert "unseal" in str(e.value)


def test_no_secret_store_means_no_dcos_enterprise(server):
    server.add("PUT", SECRET, 404, {"message": "URI not found"}, sticky=False)
    server.add("GET", "/secrets/v1/seal-status/default", 404, None)
    with pytest.raises(MarathonError) as e:
        store_for(server).create("pg/password", VALUE)
    assert "No DC/OS secret store answers" in str(e.value) and "DC/OS Enterprise" in str(e.value)
