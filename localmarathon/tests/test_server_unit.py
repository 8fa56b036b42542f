"""Unit tests of single helper functions of the server side (no process, no HTTP)."""

from __future__ import annotations

import pytest

from localmarathon.deployments import Deployment, locked_error_body, merge_steps
from localmarathon.instances import _host_port_requests, parse_task_app
from localmarathon.server import _embeds, _label_selector, normalize_path
from localmarathon.errors import ApiError
from localmarathon.timestamps import format_timestamp, parse_timestamp, VersionClock
from localmarathon.util import parse_bool, safe_app_id


def test_format_and_parse_timestamps():
    assert format_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert format_timestamp(1.5) == "1970-01-01T00:00:01.500Z"
    assert parse_timestamp("2020-06-01T12:00:00.000Z") == parse_timestamp("2020-06-01T14:00:00+02:00")
    with pytest.raises(ValueError):
        parse_timestamp("2020-06-01T12:00:00")  # no offset


def test_version_clock_is_strictly_increasing():
    clock = VersionClock()
    versions = [clock.next() for _ in range(50)]
    assert versions == sorted(set(versions))


def test_parse_bool_like_jersey():
    assert parse_bool("True") and parse_bool("TRUE") and parse_bool("true")
    assert not parse_bool("yes") and not parse_bool("1") and not parse_bool(None)
    assert parse_bool(None, default=True)


def test_ids():
    assert safe_app_id("/prod/db") == "prod_db"
    assert parse_task_app("prod_db.instance-1234._app.3") == "/prod/db"
    assert parse_task_app("postgres.53ab8733-fd96-11e5-8e70-76a1c19f8c3d") == "/postgres"
    assert parse_task_app("nodots") is None
    assert normalize_path("//v2//apps//x/") == "/v2/apps/x"
    assert normalize_path("/v2/apps/%2Fa%2Fb") == "/v2/apps/a/b"


def test_merge_steps_orders_stop_start_rest():
    plans = [[[{"action": "StartApplication", "app": "/a"}], [{"action": "ScaleApplication", "app": "/a"}]],
             [[{"action": "StopApplication", "app": "/b"}]],
             [[{"action": "RestartApplication", "app": "/c"}]], []]
    assert merge_steps(plans) == [
        [{"action": "StopApplication", "app": "/b"}],
        [{"action": "StartApplication", "app": "/a"}],
        [{"action": "ScaleApplication", "app": "/a"}, {"action": "RestartApplication", "app": "/c"}]]
    assert merge_steps([[], []]) == []


def test_deployment_json_and_conflicts():
    d = Deployment.new("2020-01-01T00:00:00.000Z", [[{"action": "ScaleApplication", "app": "/a"}]], {})
    assert d.to_json()["currentStep"] == 0 and d.to_json()["currentActions"] == []
    d.current_step = 1
    assert d.to_json()["currentActions"] == [{"action": "ScaleApplication", "app": "/a", "readinessCheckResults": []}]
    assert d.conflicts_with({"/a", "/b"}) and not d.conflicts_with({"/b"})
    assert Deployment.from_state(d.to_state()).to_json() == d.to_json()
    body = locked_error_body([d])
    assert body["deployments"] == [{"id": d.id}] and "<DEPLOYMENT_ID>" in body["message"]


def test_label_selector():
    labels = {"tier": "db", "x": "1"}
    assert _label_selector("tier")(labels)
    assert _label_selector("tier==db,x")(labels)
    assert not _label_selector("tier!=db")(labels)
    assert _label_selector("tier in (web, db)")(labels)
    assert not _label_selector("tier notin (db)")(labels)
    assert not _label_selector("missing")(labels)
    with pytest.raises(ApiError) as err:
        _label_selector("tier ~= db")
    assert err.value.status == 422


def test_embeds():
    params = {"embed": ["apps.tasks", "app.lastTaskFailure", "group.apps.counts", "failures"]}
    assert _embeds(params) == {"tasks", "lastTaskFailure", "counts", "deployments"}


def test_host_port_requests():
    assert _host_port_requests({"portDefinitions": [{"port": 10000}, {"port": 10001}]}) == [0, 0]
    assert _host_port_requests({"portDefinitions": [{"port": 10000}], "requirePorts": True}) == [10000]
    bridge = {"networks": [{"mode": "container/bridge"}],
              "container": {"portMappings": [{"containerPort": 5432, "hostPort": 0}, {"containerPort": 80, "hostPort": 8080}]}}
    assert _host_port_requests(bridge) == [0, 8080]
    container = {"networks": [{"mode": "container", "name": "n"}],
                 "container": {"portMappings": [{"containerPort": 5432}]}}
    assert _host_port_requests(container) == []
