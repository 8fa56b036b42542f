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
    redact_url,
    render_details,
    summarize_body,
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
