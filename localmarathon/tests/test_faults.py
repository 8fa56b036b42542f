"""Tests of localmarathon.faults: spec validation, counting, matching, callbacks, bodies."""

from __future__ import annotations

import json
import threading
import time
import types

import pytest

from localmarathon import faults
from localmarathon.faults import FaultInjector, status_response


@pytest.fixture()
def fi():
    return FaultInjector()


def test_status_fault_counts_down_and_disappears(fi):
    fi.add({"kind": "status", "status": 503, "count": 2})
    assert [f["remaining"] for f in fi.list()] == [2]
    hits = [fi.before_request("GET", "/v2/apps") for _ in range(3)]
    assert [h.label if h else None for h in hits] == ["status:503", "status:503", None]
    assert fi.list() == []


def test_status_fault_filters_by_method_and_path(fi):
    fi.add({"kind": "status", "status": 502, "count": 5, "method": "put", "path": "^/v2/apps/db"})
    assert fi.before_request("GET", "/v2/apps/db") is None
    assert fi.before_request("PUT", "/v2/apps/web") is None
    assert fi.before_request("PUT", "/v2/apps/db").status == 502
    assert fi.list()[0]["remaining"] == 4


def test_unfiltered_faults_spare_login_and_admin_paths(fi):
    fi.add({"kind": "drop", "count": 1})
    assert fi.before_request("POST", "/acs/api/v1/auth/login") is None
    assert fi.before_request("GET", "/_localmarathon/stats") is None
    assert fi.before_request("GET", "/service/marathon/v2/apps").kind == "drop"


def test_explicit_path_can_target_login(fi):
    fi.add({"kind": "status", "status": 500, "path": "^/acs/"})
    assert fi.before_request("POST", "/acs/api/v1/auth/login").status == 500


def test_first_added_matching_fault_wins(fi):
    fi.add({"kind": "delay", "seconds": 0.5, "count": 1})
    fi.add({"kind": "status", "status": 503, "count": 1})
    first = fi.before_request("GET", "/v2/info")
    assert first.kind == "delay" and first.seconds == 0.5 and first.label == "delay:0.5s"
    assert fi.before_request("GET", "/v2/info").kind == "status"


def test_502_is_jetty_leader_page():
    status, headers, body = status_response(502, "/v2/apps/x")
    assert status == 502
    assert headers["Content-Type"].startswith("text/html")
    text = body.decode("latin-1")
    assert "<title>Error 502 Could not determine the current leader</title>" in text
    assert "HTTP ERROR 502" in text and "Problem accessing /v2/apps/x." in text


def test_503_and_500_are_marathon_json():
    for code in (503, 500):
        status, headers, body = status_response(code, "/v2/apps")
        assert status == code
        assert headers["Content-Type"] == "application/json"
        data = json.loads(body)
        assert list(data) == ["message"] and data["message"]
        assert body.startswith(b'{"message":"')


def test_custom_message_and_504(fi):
    fault = fi.add({"kind": "status", "status": 503, "message": "Too many concurrent requests! Allowed: 1."})
    assert json.loads(fault.response("/v2/apps")[2]) == {"message": "Too many concurrent requests! Allowed: 1."}
    status, headers, body = status_response(504, "/v2/apps")
    assert status == 504 and headers["Content-Type"] == "text/html" and b"504 Gateway Time-out" in body


def test_path_is_escaped_in_html():
    body = status_response(502, "/v2/apps/<script>")[2]
    assert b"<script>" not in body and b"&lt;script&gt;" in body


@pytest.mark.parametrize(
    "spec, field",
    [
        ("nope", "JSON object"),
        ({}, "'kind'"),
        ({"kind": "explode"}, "'kind'"),
        ({"kind": "status"}, "'status'"),
        ({"kind": "status", "status": 404}, "'status'"),
        ({"kind": "status", "status": True}, "'status'"),
        ({"kind": "status", "status": 503, "count": 0}, "'count'"),
        ({"kind": "status", "status": 503, "count": 1.5}, "'count'"),
        ({"kind": "status", "status": 503, "count": "3"}, "'count'"),
        ({"kind": "status", "status": 503, "method": "FETCH"}, "'method'"),
        ({"kind": "status", "status": 503, "path": "(["}, "'path'"),
        ({"kind": "status", "status": 503, "path": 5}, "'path'"),
        ({"kind": "status", "status": 503, "message": 5}, "'message'"),
        ({"kind": "status", "status": 503, "seconds": 1}, "seconds"),
        ({"kind": "delay"}, "'seconds'"),
        ({"kind": "delay", "seconds": -1}, "'seconds'"),
        ({"kind": "delay", "seconds": "2"}, "'seconds'"),
        ({"kind": "drop", "count": -2}, "'count'"),
        ({"kind": "stall_deployment"}, "'app_id'"),
        ({"kind": "stall_deployment", "app_id": "/"}, "'app_id'"),
        ({"kind": "unhealthy", "app_id": 3}, "'app_id'"),
        ({"kind": "kill_task"}, "'task_id'"),
        ({"kind": "kill_task", "task_id": "t", "wipe": "yes"}, "'wipe'"),
        ({"kind": "leader_change", "duration": -1}, "'duration'"),
        ({"kind": "expire_tokens", "count": 1}, "count"),
    ],
)
def test_invalid_specs_name_the_field(fi, spec, field):
    with pytest.raises(ValueError) as err:
        fi.add(spec)
    assert field in str(err.value)
    assert fi.list() == []


def test_stall_and_unhealthy_queries_use_canonical_ids(fi):
    fi.add({"kind": "stall_deployment", "app_id": "db/primary/"})
    fi.add({"kind": "unhealthy", "app_id": "/web"})
    assert fi.deployment_stalled("/db/primary")
    assert not fi.deployment_stalled("/web")
    assert fi.app_unhealthy("web")
    assert not fi.app_unhealthy("/db/primary")
    # These never affect individual requests.
    assert fi.before_request("GET", "/v2/apps") is None
    listed = {f["kind"]: f for f in fi.list()}
    assert listed["stall_deployment"]["app_id"] == "/db/primary"
    assert fi.clear() == 2
    assert not fi.deployment_stalled("/db/primary") and not fi.app_unhealthy("/web")


def test_remove_single_fault(fi):
    a = fi.add({"kind": "unhealthy", "app_id": "/a"})
    fi.add({"kind": "unhealthy", "app_id": "/b"})
    assert fi.remove(a.id) is True
    assert fi.remove(a.id) is False
    assert [f["app_id"] for f in fi.list()] == ["/b"]


def test_one_shot_kinds_need_a_registered_callback(fi):
    with pytest.raises(ValueError, match="not available"):
        fi.add({"kind": "expire_tokens"})


def test_kill_task_and_expire_tokens_callbacks(fi):
    killed, expired = [], []
    fi.register_callback("kill_task", lambda f: killed.append((f.spec["task_id"], f.spec.get("wipe", False))))
    fi.register_callback("expire_tokens", lambda f: expired.append(f.id))
    fi.add({"kind": "kill_task", "task_id": "app.instance-1._app.1", "wipe": True})
    fi.add({"kind": "expire_tokens"})
    assert killed == [("app.instance-1._app.1", True)]
    assert len(expired) == 1
    assert fi.list() == []  # one-shot faults are not active afterwards


def test_kill_unknown_task_is_value_error(fi):
    def kill(fault):
        raise KeyError(fault.spec["task_id"])

    fi.register_callback("kill_task", kill)
    with pytest.raises(ValueError, match="'task_id': unknown task 'ghost'"):
        fi.add({"kind": "kill_task", "task_id": "ghost"})


def test_register_callback_rejects_other_kinds(fi):
    with pytest.raises(ValueError, match="callbacks exist only"):
        fi.register_callback("status", lambda f: None)


def test_leader_change_window(fi, monkeypatch):
    # The window's clock is the test's: a busy machine must not end it between two assertions.
    clock = [1000.0]
    monkeypatch.setattr(faults, "time", types.SimpleNamespace(monotonic=lambda: clock[0], time=time.time))
    seen_during_callback = []
    fi.register_callback("leader_change", lambda f: seen_during_callback.append(fi.leader_unknown()))
    fault = fi.add({"kind": "leader_change", "duration": 0.3})
    assert seen_during_callback == [True]
    hit = fi.before_request("GET", "/v2/leader")
    assert hit.kind == "leader_change" and hit.label == "leader_change"
    status, _, body = hit.response("/v2/leader")
    assert status == 502 and b"Could not determine the current leader" in body
    assert fi.before_request("POST", "/acs/api/v1/auth/login") is None
    assert 0 < fi.list()[0]["remaining_seconds"] <= 0.3
    # The window takes precedence over counted faults, which keep their counts.
    fi.add({"kind": "status", "status": 503, "count": 1})
    assert fi.before_request("GET", "/v2/apps").kind == "leader_change"
    clock[0] += 0.29
    assert fi.leader_unknown()
    clock[0] += 0.02
    assert not fi.leader_unknown()
    assert fi.before_request("GET", "/v2/apps").kind == "status"
    assert fi.before_request("GET", "/v2/apps") is None
    assert fi.list() == []
    assert fault.id == 1


def test_leader_change_callback_failure_closes_window(fi):
    def boom(fault):
        raise RuntimeError("no")

    fi.register_callback("leader_change", boom)
    with pytest.raises(RuntimeError):
        fi.add({"kind": "leader_change", "duration": 5})
    assert not fi.leader_unknown()


def test_on_change_listener_sees_add_and_remove(fi):
    events = []
    fi.on_change(lambda action, f: events.append((action, f.kind)))
    fi.add({"kind": "unhealthy", "app_id": "/a"})
    fi.add({"kind": "status", "status": 503})
    fi.before_request("GET", "/v2/apps")  # uses up the status fault
    fi.clear()
    assert events == [
        ("added", "unhealthy"),
        ("added", "status"),
        ("removed", "status"),
        ("removed", "unhealthy"),
    ]


def test_counts_are_exact_under_concurrency(fi):
    fi.add({"kind": "status", "status": 503, "count": 500})
    hits = []
    lock = threading.Lock()

    def worker():
        mine = 0
        for _ in range(100):
            if fi.before_request("GET", "/v2/apps") is not None:
                mine += 1
        with lock:
            hits.append(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(hits) == 500
    assert fi.list() == []


def test_list_is_json_serialisable(fi):
    fi.add({"kind": "status", "status": 503, "count": 3, "method": "GET", "path": "^/v2/apps"})
    fi.add({"kind": "delay", "seconds": 2})
    listed = json.loads(json.dumps(fi.list()))
    assert listed[0] == {
        "id": 1, "kind": "status", "status": 503, "count": 3, "method": "GET", "path": "^/v2/apps",
        "remaining": 3, "label": "status:503",
    }
    assert listed[1]["remaining"] == 1 and listed[1]["seconds"] == 2
