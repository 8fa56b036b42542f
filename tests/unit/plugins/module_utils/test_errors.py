# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Rendering of Marathon/DC-OS error bodies (reference §2) into one line."""

from __future__ import annotations

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._errors import (
    MarathonAuthError,
    MarathonError,
    http_error,
    is_app_not_found,
    is_group_not_found,
    redact_url,
    render_details,
    scheme_mismatch_hint,
    summarize_body,
    wrong_url_hint,
)


@pytest.mark.parametrize(
    "status,body,expected",
    [
        (400, {"message": "Invalid JSON", "details": "Unexpected character ('}' (code 125))"},
         "Invalid JSON; Unexpected character ('}' (code 125))"),
        (422, {"message": "Invalid JSON", "details": [{"path": "/id", "errors": ["error.pattern"]}]},
         "Invalid JSON; /id: error.pattern"),
        (422, {"message": "Object is not valid", "details": [
            {"path": "/", "errors": ["unreachableStrategy must be disabled for resident tasks"]},
            {"path": "/app(0)/cpus", "errors": ["a", "b"]}]},
         "Object is not valid; /: unreachableStrategy must be disabled for resident tasks; /app(0)/cpus: a, b"),
        (404, {"message": "App '/x' does not exist", "details": []}, "App '/x' does not exist"),
        (409, {"message": "App is locked by one or more deployments.", "deployments": [{"id": "d1"}, {"id": "d2"}]},
         "App is locked by one or more deployments; blocking deployments: d1, d2"),
        (401, {"title": "Invalid credentials", "description": "Wrong password.", "code": "ERR_INVALID_CREDENTIALS"},
         "ERR_INVALID_CREDENTIALS Invalid credentials; Wrong password"),
        (422, {"errors": [{"error": "old style"}]}, "old style"),
        (503, None, "empty response body"),
        (502, "Could not determine the current leader", "Could not determine the current leader"),
    ],
)
def test_summaries(status, body, expected):
    assert summarize_body(status, body) == expected


def test_html_bodies_are_never_dumped():
    page = "<!DOCTYPE html><html><head><title>401 Authorization Required</title></head><body>token=abc</body></html>"
    text = summarize_body(401, page, "text/html")
    assert text == "HTML error page titled '401 Authorization Required' (body not shown)"
    assert "token=abc" not in text


def test_long_bodies_are_cut():
    assert len(summarize_body(500, "x" * 5000, "text/plain")) < 320


def test_http_error_is_one_line_with_method_url_status():
    err = http_error("PUT", "https://admin:pw@dcos.example.com/service/marathon/v2/apps/db", 422,
                     {"message": "Object is not valid", "details": [{"path": "/cpus", "errors": ["got -1.0"]}]},
                     hint="Fix the definition")
    msg = str(err)
    assert "\n" not in msg
    assert msg.startswith("PUT https://dcos.example.com/service/marathon/v2/apps/db failed with HTTP 422")
    assert "pw" not in msg and "admin" not in msg
    assert msg.endswith("Fix the definition")
    assert err.to_result() == {"status": 422, "url": "https://dcos.example.com/service/marathon/v2/apps/db",
                               "method": "PUT", "body": err.body}


def test_auth_statuses_give_auth_errors():
    assert isinstance(http_error("GET", "http://h/v2/apps", 401, "<html/>"), MarathonAuthError)
    assert isinstance(http_error("GET", "http://h/v2/apps", 403, "<html/>"), MarathonAuthError)
    assert not isinstance(http_error("GET", "http://h/v2/apps", 404, {}), MarathonAuthError)


def test_html_body_not_returned_in_result():
    err = http_error("GET", "http://h/v2/apps", 502, "<html><body>proxy</body></html>", "text/html")
    assert "body" not in err.to_result()


def test_deployment_ids_from_409():
    err = http_error("PUT", "http://h/v2/apps/a", 409, {"message": "locked", "deployments": [{"id": "x"}]})
    assert err.deployment_ids == ["x"]
    assert MarathonError("m").deployment_ids == []


@pytest.mark.parametrize("url,expected", [
    ("http://u:p@h:8080/x", "http://h:8080/x"),
    ("https://h/x?y=1", "https://h/x?y=1"),
    (None, None),
])
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_render_details_odd_shapes():
    assert render_details([{"path": "/a"}, "free text"]) == "/a: invalid; free text"
    assert render_details(None) == ""


# ---- is the answer Marathon's "app absent", or a wrong marathon_url? ---------------------------

@pytest.mark.parametrize("status,body,absent", [
    (404, {"message": "App '/x' does not exist", "details": []}, True),   # 1.9+ resource helper
    (404, {"message": "App '/x' does not exist"}, True),                  # via exception, <= 1.8
    (404, {"message": "App '/x' does not exist in version 2015-02-11T09:31:21.245Z", "details": []}, True),
    (404, "<html><head><title>404 Not Found</title></head><body>nginx</body></html>", False),
    (404, "App '/x' does not exist", False),                              # not JSON: not Marathon's body
    (404, {"message": "URI not found: /v2/v2/apps/x"}, False),            # <= 1.5 unknown path
    (404, {"message": "Group '/g' does not exist", "details": []}, False),
    (404, {"error": "Not Found", "path": "/v2/apps/x"}, False),
    (404, None, False),
    (500, {"message": "URI not found"}, False),
    (410, {"message": "App '/x' does not exist"}, False),
])
def test_only_marathons_json_404_for_an_app_means_absent(status, body, absent):
    assert is_app_not_found(http_error("GET", "http://h/v2/apps/x", status, body)) is absent


@pytest.mark.parametrize("status,body,absent", [
    (404, {"message": "Group '/g' does not exist", "details": []}, True),
    (404, {"message": "Group '/g' does not exist"}, True),
    (404, "<html><head><title>404 Not Found</title></head><body>nginx</body></html>", False),
    (404, {"message": "URI not found: /v2/v2/groups/g"}, False),
    (404, {"message": "App '/g' does not exist"}, False),
    (500, {"message": "Group '/g' does not exist"}, False),
])
def test_only_marathons_json_404_for_a_group_means_absent(status, body, absent):
    assert is_group_not_found(http_error("GET", "http://h/v2/groups/g", status, body)) is absent


def test_non_marathon_errors_are_never_absent():
    assert is_app_not_found(ValueError("App '/x' does not exist")) is False
    assert is_app_not_found(MarathonError("App '/x' does not exist", status=404)) is False


@pytest.mark.parametrize("status,body", [
    (404, "<html><head><title>404 Not Found</title></head><body>openresty</body></html>"),
    (404, None),
    (404, "Not Found"),
    (404, {"timestamp": 1, "status": 404, "error": "Not Found", "message": "No message available"}),
    (500, {"message": "URI not found"}),                      # Marathon 1.6+ for an unknown path
    (404, {"message": "URI not found: /x/v2/apps/db"}),       # Marathon <= 1.5
])
def test_wrong_url_answers_get_a_marathon_url_hint(status, body):
    hint = wrong_url_hint(status, body, "http://marathon.example.com:8080/marathon")
    assert hint is not None
    assert "marathon_url 'http://marathon.example.com:8080/marathon'" in hint
    assert "http://marathon.example.com:8080" in hint and "https://dcos.example.com/service/marathon" in hint
    assert "without /v2" in hint


@pytest.mark.parametrize("status,body", [
    (404, {"message": "App '/x' does not exist", "details": []}),
    (404, {"message": "Task 'x.1' does not exist", "details": []}),
    (404, {"message": "Path '/x' does not exist"}),
    (404, {"message": "DeploymentPlan d1 does not exist", "details": []}),
    (404, {"message": "Application /x not found in tasks queue."}),
    (404, {"message": "There is no leader", "details": []}),
    (500, {"message": "java.lang.RuntimeException: boom"}),
    (422, {"message": "Object is not valid", "details": []}),
    (409, {"message": "App is locked by one or more deployments.", "deployments": [{"id": "d"}]}),
    (502, "<html><title>Bad Gateway</title></html>"),
])
def test_marathons_own_errors_get_no_url_hint(status, body):
    assert wrong_url_hint(status, body, "http://m:8080") is None


@pytest.mark.parametrize("url", ["http://m:8080/v2", "http://m:8080/v2/", "https://dcos.example.com/service/marathon/v2"])
def test_trailing_v2_is_named(url):
    hint = wrong_url_hint(500, {"message": "URI not found"}, url)
    assert hint.startswith("Marathon does not know this path. Remove the trailing /v2 from marathon_url '%s'" % url)


def test_url_hint_never_shows_credentials():
    hint = wrong_url_hint(404, None, "https://admin:s3cret@dcos.example.com/service/marathonx")
    assert "s3cret" not in hint and "admin" not in hint
    assert "'https://dcos.example.com/service/marathonx'" in hint


def test_plain_http_on_admin_routers_tls_port():
    page = "<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head></html>"
    assert wrong_url_hint(400, page, "http://dcos.example.com") == "The server expects HTTPS: use https:// in marathon_url"


@pytest.mark.parametrize("url,text,expected", [
    # A TLS server reading a plain HTTP request: reset, closed, or a TLS alert read as a status line.
    ("http://m:8443/v2/apps", "('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))",
     "If that port serves HTTPS, use https:// in marathon_url"),
    ("http://m:8443/v2/apps", "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))",
     "If that port serves HTTPS, use https:// in marathon_url"),
    ("http://m:8443/v2/apps", "('Connection aborted.', BadStatusLine('\\x15\\x03\\x03\\x00\\x02\\x02P'))",
     "If that port serves HTTPS, use https:// in marathon_url"),
    # A plain HTTP server answering a TLS handshake.
    ("https://m:8080/v2/apps", "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)",
     "The server answered in plain HTTP, not TLS: use http:// in marathon_url or the HTTPS port"),
    ("https://m:8080/v2/apps", "[SSL: RECORD_LAYER_FAILURE] record layer failure (_ssl.c:1000)",
     "The server answered in plain HTTP, not TLS: use http:// in marathon_url or the HTTPS port"),
    # Unrelated failures get no scheme hint.
    ("http://m:8080/v2/apps", "[Errno 111] Connection refused", None),
    ("https://m:8443/v2/apps", "('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))", None),
    ("https://m:8443/v2/apps", "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", None),
    ("http://m:8080/v2/apps", "", None),
])
def test_scheme_mismatch_hint(url, text, expected):
    assert scheme_mismatch_hint(url, text) == expected


def test_scheme_mismatch_hint_names_the_option():
    hint = scheme_mismatch_hint("http://dcos/acs/api/v1/auth/login", "Connection reset by peer", "dcos_url")
    assert hint == "If that port serves HTTPS, use https:// in dcos_url"
