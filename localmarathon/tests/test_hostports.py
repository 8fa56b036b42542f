"""Task host ports are reserved machine-wide: two localmarathon servers (parallel test shards) never
hand out the same port, not even one a suspended resident instance keeps while nothing listens on it."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap

from conftest import Api, wait_for
from localmarathon import hostports
from localmarathon.hostports import HostPortAllocator
from localmarathon.testing import LocalMarathon

RESIDENT = {"id": "/store", "instances": 1, "cpus": 0.1, "mem": 32, "cmd": "sleep 100",
            "portDefinitions": [{"port": 0, "name": "db"}],
            "container": {"type": "MESOS", "volumes": [
                {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}}


def test_two_servers_never_allocate_the_same_random_port(monkeypatch):
    first, second = HostPortAllocator(), HostPortAllocator()
    try:
        (port,) = first.allocate([0])
        assert hostports.port_free(port)  # reserved, but no task listens on it yet (or any more)
        # The second server's random start lands on exactly that port.
        monkeypatch.setattr(random, "randint", lambda lo, hi: port)
        (other,) = second.allocate([0])
        assert other != port
        # Once the first server lets it go, it may be handed out again.
        first.release([port])
        (third,) = HostPortAllocator().allocate([0])
        assert third == port
    finally:
        for allocator in (first, second):
            allocator.reservations.release_all()


def test_suspended_resident_keeps_its_port_reserved_across_a_server_restart(tmp_path):
    with LocalMarathon(tmp_path / "lm", time_scale=20) as lm:
        api = Api(lm.url)
        assert api.post("/v2/apps", json=RESIDENT).status_code == 201
        (port,) = api.wait_running("/store")["tasks"][0]["ports"]
        r = api.put("/v2/apps/store", json={"instances": 0})
        api.wait_deployment(r.json()["deploymentId"])
        assert wait_for(lambda: hostports.port_free(port), 10, "the suspended task to close its port")
        mine = hostports.PortReservations()
        assert not mine.try_reserve(port), "a suspended resident instance's port is free for others"
        lm.restart()
        assert not mine.try_reserve(port), "the restarted server did not take its reservation back"
        api = Api(lm.url)
        r = api.put("/v2/apps/store", json={"instances": 1})
        api.wait_deployment(r.json()["deploymentId"])
        assert api.wait_running("/store")["tasks"][0]["ports"] == [port]
        assert api.delete("/v2/apps/store").status_code == 200
        assert wait_for(lambda: mine.try_reserve(port), 10, "the port to be released with the app")
        mine.release_all()


HOLDER = textwrap.dedent("""
    import sys
    from localmarathon import hostports
    port = hostports.reserve_free_port()
    print(port, flush=True)
    sys.stdin.read()
""")


def test_a_reservation_ends_with_its_holder_even_on_sigkill():
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        port = int(holder.stdout.readline())
        mine = hostports.PortReservations()
        assert not mine.try_reserve(port)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        assert mine.try_reserve(port)
        mine.release_all()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_reserve_free_port_holds_a_port_outside_the_ephemeral_range():
    port = hostports.reserve_free_port()
    try:
        assert 31000 <= port <= 32000
        assert not hostports.PortReservations().try_reserve(port)
    finally:
        port.release()
    again = hostports.PortReservations()
    assert again.try_reserve(port)
    again.release_all()
