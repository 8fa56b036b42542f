"""Concurrent random operations on a few apps (resident and not): no 5xx, no request stuck, and
after deleting everything the cluster settles with no task, volume or process left."""

from __future__ import annotations

import random
import threading

import requests

from conftest import wait_for
from localmarathon.procutil import processes_using
from localmarathon.testing import LocalMarathon

VOLUME = {"container": {"type": "MESOS", "volumes": [{"containerPath": "d", "mode": "RW", "persistent": {"size": 1}}]}}


def _op(s: requests.Session, url: str, rnd: random.Random) -> requests.Response:
    app = f"/s{rnd.randint(0, 4)}"
    op = rnd.choice(["post", "put", "get", "del", "restart", "tasks", "kill", "list", "deps"])
    if op == "post":
        body = {"id": app, "cmd": "sleep 30", "instances": rnd.randint(0, 3), "mem": 8,
                **(VOLUME if app in ("/s0", "/s1") else {})}
        return s.post(url + "/v2/apps", json=body)
    if op == "put":
        return s.put(url + f"/v2/apps{app}?force=true", json={"instances": rnd.randint(0, 3)})
    if op == "get":
        return s.get(url + f"/v2/apps{app}")
    if op == "del":
        return s.delete(url + f"/v2/apps{app}")
    if op == "restart":
        return s.post(url + f"/v2/apps{app}/restart?force=true")
    if op == "tasks":
        return s.get(url + "/v2/tasks")
    if op == "kill":
        return s.delete(url + f"/v2/apps{app}/tasks?wipe={rnd.choice(['true', 'false'])}")
    if op == "list":
        return s.get(url + "/v2/apps?embed=apps.tasks")
    return s.get(url + "/v2/deployments")


def test_concurrent_random_operations_settle(tmp_path):
    problems = []
    with LocalMarathon(tmp_path / "lm", agents=2, time_scale=50) as lm:
        def worker(seed):
            rnd = random.Random(seed)
            s = requests.Session()
            for _ in range(25):
                try:
                    r = _op(s, lm.url, rnd)
                except requests.RequestException as exc:
                    problems.append(repr(exc))
                    continue
                if r.status_code >= 500 or r.elapsed.total_seconds() > 10:
                    problems.append((r.request.method, r.request.url, r.status_code, r.elapsed, r.text[:200]))
        threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert problems == []
        for app in requests.get(lm.url + "/v2/apps").json()["apps"]:
            assert requests.delete(lm.url + f"/v2/apps{app['id']}?force=true").status_code == 200
        wait_for(lambda: not requests.get(lm.url + "/v2/deployments").json()
                 and not requests.get(lm.url + "/v2/tasks").json()["tasks"], 30, "everything to stop")
        wait_for(lambda: not list((lm.data_dir / "volumes").iterdir()), 10, "volumes to be destroyed")
        wait_for(lambda: not processes_using(lm.data_dir), 10, "task processes to exit")
