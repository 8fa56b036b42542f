"""Agent resources and offers: an instance is placed only where an agent's offer fits it (cpus, mem,
disk, ports, role, constraints); one that fits nowhere waits in /v2/queue with Marathon's
processedOffersSummary. Every answer is checked against the RAML types (conftest.Api)."""

from __future__ import annotations

import pytest

from conftest import TIME_SCALE, Api, wait_for
from localmarathon.offers import REASON_ORDER, AgentResources, OfferStatistics, constraint_fits
from localmarathon.testing import LocalMarathon


def _server(tmp_path, *args, agents=1):
    return LocalMarathon(tmp_path / "lm", agents=agents, time_scale=TIME_SCALE, extra_args=list(args))


def _app(app_id, **fields):
    app = {"id": app_id, "cmd": "sleep 100", "cpus": 0.1, "mem": 32, "instances": 1}
    app.update(fields)
    return app


def _queue_entry(api, app_id, reason):
    """The app's queue entry once the agents' last offers were declined for ``reason``."""
    for entry in api.get("/v2/queue").json()["queue"]:
        if entry["app"]["id"] != app_id:
            continue
        last = {r["reason"]: r for r in entry["processedOffersSummary"].get("rejectSummaryLastOffers", [])}
        if last.get(reason, {}).get("declined", 0) >= 1:
            return entry
    return None


def test_agent_resources_parse_with_defaults_and_name_a_bad_part():
    res = AgentResources.parse("cpus=2,ports=31000-31010", "rack:a; zone:z1")
    assert (res.cpus, res.mem, res.ports, res.role) == (2.0, 65536.0, (31000, 31010), "*")
    assert res.attributes == {"rack": "a", "zone": "z1"}
    for bad, named in (("cpus=lots", "cpus"), ("ports=9-1", "ports"), ("ram=1", "ram"), ("mem", "mem")):
        with pytest.raises(ValueError, match=named):
            AgentResources.parse(bad)


def test_offer_statistics_form_marathons_funnel():
    stats = OfferStatistics()
    stats.declined("S0", ["InsufficientMemory", "InsufficientCpus"], 1.0)
    stats.declined("S1", ["UnfulfilledConstraint"], 1.0)
    stats.declined("S0", ["InsufficientCpus"], 2.0)
    summary = stats.summary(str)
    attempt = {r["reason"]: (r["declined"], r["processed"]) for r in summary["rejectSummaryLaunchAttempt"]}
    last = {r["reason"]: (r["declined"], r["processed"]) for r in summary["rejectSummaryLastOffers"]}
    assert [r["reason"] for r in summary["rejectSummaryLaunchAttempt"]] == list(REASON_ORDER)
    # An offer counts for its first reason in Marathon's order: cpus before memory.
    assert attempt["UnfulfilledConstraint"] == (1, 3) and attempt["InsufficientCpus"] == (2, 2)
    assert attempt["InsufficientMemory"] == (0, 0)
    assert last["UnfulfilledConstraint"] == (1, 2) and last["InsufficientCpus"] == (1, 1)
    assert summary["processedOffersCount"] == summary["unusedOffersCount"] == 3
    assert stats.reasons() == ["UnfulfilledConstraint", "InsufficientCpus"]


@pytest.mark.parametrize("constraint, attributes, peers, fits", [
    (["hostname", "UNIQUE"], {}, [], True),
    (["hostname", "UNIQUE"], {}, [("127.0.0.1", {})], False),
    (["rack", "IS", "a"], {"rack": "a"}, [], True),
    (["rack", "IS", "a"], {"rack": "b"}, [], False),
    (["rack", "LIKE", "r[0-9]"], {}, [], False),
    (["rack", "UNLIKE", "a"], {}, [], True),
    (["rack", "CLUSTER", "a"], {"rack": "a"}, [], True),
    (["rack", "MAX_PER", "1"], {"rack": "a"}, [("h", {"rack": "a"})], False),
])
def test_constraints_are_evaluated_against_the_agent(constraint, attributes, peers, fits):
    peer_values = [(h, a) for h, a in peers]
    assert constraint_fits(constraint, "127.0.0.1", attributes, peer_values) is fits


def test_an_app_needing_more_cpus_than_any_agent_has_waits_in_the_queue(tmp_path):
    with _server(tmp_path, "--agent-resources", "cpus=2,mem=4096", agents=2) as lm:
        api = Api(lm)
        assert api.post("/v2/apps", json=_app("/big", cpus=4)).status_code == 201
        entry = wait_for(lambda: _queue_entry(api, "/big", "InsufficientCpus"), 20, "offers declined for cpus")
        summary = entry["processedOffersSummary"]
        last = {r["reason"]: r for r in summary["rejectSummaryLastOffers"]}
        # Both agents' last offers were declined for cpus, after passing role and constraints.
        assert last["InsufficientCpus"] == {"reason": "InsufficientCpus", "declined": 2, "processed": 2}
        assert summary["unusedOffersCount"] >= 2 and "lastUnusedOfferAt" in summary
        assert entry["count"] == 1 and entry["delay"]["overdue"] is True
        app = api.app("/big")
        assert app["tasksRunning"] == 0 and app["tasksStaged"] == 0 and app["deployments"]
        # An app that fits is placed next to it.
        api.post("/v2/apps", json=_app("/small", cpus=1))
        api.wait_running("/small")


def test_resident_reservations_take_resources_from_their_agent(tmp_path):
    volume = {"containerPath": "data", "mode": "RW", "persistent": {"size": 100}}
    with _server(tmp_path, "--agent-resources", "cpus=1,mem=1024,disk=150") as lm:
        api = Api(lm)
        first = _app("/db1", cpus=0.5, container={"type": "MESOS", "volumes": [volume]})
        api.post("/v2/apps", json=first)
        api.wait_running("/db1")
        # Suspended, /db1 keeps its reservation: 100 of 150 MB disk stay taken.
        api.wait_deployment(api.put("/v2/apps/db1", json={"instances": 0}).json()["deploymentId"])
        second = _app("/db2", cpus=0.5, container={"type": "MESOS", "volumes": [volume]})
        api.post("/v2/apps", json=second)
        entry = wait_for(lambda: _queue_entry(api, "/db2", "InsufficientDisk"), 20, "offers declined for disk")
        assert entry["app"]["id"] == "/db2"
        # Destroying /db1 frees its reservation and /db2 gets the disk.
        api.wait_deployment(api.delete("/v2/apps/db1").json()["deploymentId"])
        api.wait_running("/db2")


def test_a_constraint_no_agent_meets_and_a_role_no_agent_offers(tmp_path):
    with _server(tmp_path, "--agent-attributes", "rack:a", agents=2) as lm:
        api = Api(lm)
        api.post("/v2/apps", json=_app("/elsewhere", constraints=[["rack", "IS", "b"]]))
        api.post("/v2/apps", json=_app("/public", acceptedResourceRoles=["slave_public"]))
        api.post("/v2/apps", json=_app("/here", constraints=[["rack", "IS", "a"]]))
        wait_for(lambda: _queue_entry(api, "/elsewhere", "UnfulfilledConstraint"), 20, "declined for the constraint")
        wait_for(lambda: _queue_entry(api, "/public", "UnfulfilledRole"), 20, "declined for the role")
        api.wait_running("/here")


def test_a_port_range_too_small_declines_for_ports(tmp_path):
    with _server(tmp_path, "--agent-resources", "ports=31000-31001") as lm:
        api = Api(lm)
        ports = [{"port": 0}, {"port": 0}, {"port": 0}]
        api.post("/v2/apps", json=_app("/ports", portDefinitions=ports))
        wait_for(lambda: _queue_entry(api, "/ports", "InsufficientPorts"), 20, "declined for ports")
