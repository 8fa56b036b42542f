#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""marathon_app benchmark on localmarathon (real ansible-playbook, real HTTP on 127.0.0.1).

Prints one JSON object:

  requests_per_nochange       requests localmarathon logged during each no-change marathon_app task
                              (no auth; and with a DC/OS user login, where one login is expected)
  nochange_vs_uri             median wall time of a no-change marathon_app task and of an
                              ansible.builtin.uri GET of the same app, same playbook run, and the ratio
  wait_latency                deployment finished (localmarathon's deployment_success event, read
                              from /v2/events as it happens) -> the module's first poll that no longer
                              sees it ("noticed") and -> the task's result reaching the controller
                              ("returned"); p50 and max in seconds. module_last_request is the module's
                              final GET of the app, about when the module process exits; the rest
                              of "returned" is ansible-playbook's own per-task overhead

Task times come from bench/callback_plugins/bench_timing.py.

  .venv/bin/python bench/marathon_app_bench.py [--rounds 20] [--waits 10]
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from localmarathon.testing import LocalMarathon

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def collections_path(tmp):
    """A real ansible_collections/dcos/marathon path pointing at this checkout."""
    root = Path(tmp) / "collections"
    (root / "ansible_collections" / "dcos").mkdir(parents=True)
    (root / "ansible_collections" / "dcos" / "marathon").symlink_to(REPO)
    return root


def run_playbook(tmp, name, text, extra_env=None):
    pb = Path(tmp) / ("%s.yml" % name)
    pb.write_text(text)
    inv = Path(tmp) / "inventory.yml"
    inv.write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n"
    )
    timing = Path(tmp) / ("%s.timing.json" % name)
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path_cache[tmp]),
            "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "bench_timing",
            "BENCH_TIMING_OUT": str(timing),
            "ANSIBLE_NOCOLOR": "1",
        }
    )
    env.update(extra_env or {})
    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    proc = subprocess.run([ansible_playbook, "-i", str(inv), str(pb)], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
        raise SystemExit("playbook %s failed" % name)
    data = json.loads(timing.read_text())
    return data["tasks"] if isinstance(data, dict) and "tasks" in data else data


collections_path_cache = {}


def requests_between(lm, start, end):
    return [r for r in lm.requests() if start <= r["time"] <= end and not r.get("admin")]


def marathon_time(text):
    """'2026-11-25T18:26:44.916Z' -> epoch seconds."""
    if not text:
        return None
    base, _dot, frac = text.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))


def median(values):
    return round(statistics.median(values), 4) if values else None


class DeploymentEvents(threading.Thread):
    """Records when each deployment_success arrives on /v2/events."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.finished = {}
        self.ready = threading.Event()

    def run(self):
        with requests.get(self.url + "/v2/events", params={"event_type": "deployment_success"},
                          headers={"Accept": "text/event-stream"}, stream=True, timeout=(5, None)) as r:
            self.ready.set()
            event = None
            for line in r.iter_lines(chunk_size=1, decode_unicode=True):
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "deployment_success":
                    payload = json.loads(line.split(":", 1)[1])
                    # localmarathon's own time of the finish (ms precision), not our receive time.
                    self.finished[payload.get("id")] = marathon_time(payload.get("timestamp")) or time.time()


def bench_nochange(tmp, lm, rounds, auth_vars=""):
    app = {"id": "/bench", "cmd": "exec sleep 3600", "cpus": 0.1, "mem": 32, "instances": 1}
    tasks = []
    for i in range(rounds):
        tasks.append(
            "    - name: nochange %d\n      dcos.marathon.marathon_app:\n        definition: \"{{ app }}\"\n" % i
        )
        tasks.append(
            "    - name: uri %d\n      ansible.builtin.uri:\n        url: \"{{ url }}/v2/apps/bench\"\n%s" % (i, auth_vars)
        )
    text = (
        "- hosts: localhost\n  gather_facts: false\n"
        "  module_defaults:\n    dcos.marathon.marathon_app:\n      marathon_url: \"{{ url }}\"\n%s"
        "  vars:\n    url: %s\n    app: %s\n  tasks:\n"
        "    - name: setup\n      dcos.marathon.marathon_app:\n        definition: \"{{ app }}\"\n"
        % (AUTH_DEFAULTS if auth_vars else "", json.dumps(lm.url), json.dumps(app))
    ) + "".join(tasks)
    rows = run_playbook(tmp, "nochange%s" % ("_auth" if auth_vars else ""), text)
    nochange = [r for r in rows if r["task"].startswith("nochange")]
    uri = [r for r in rows if r["task"].startswith("uri")]
    assert all(not r.get("changed") for r in nochange), "a no-change task reported a change"
    counts = [len(requests_between(lm, r["start"], r["end"])) for r in nochange]
    return nochange, uri, counts


AUTH_DEFAULTS = "      dcos_username: bench\n      dcos_password: bench-pw\n"


def bench_wait(tmp, lm, waits):
    events = DeploymentEvents(lm.url)
    events.start()
    events.ready.wait(10)
    time.sleep(0.2)
    tasks = []
    for i in range(waits):
        tasks.append(
            "    - name: scale %d\n      dcos.marathon.marathon_app:\n        app_id: /waiter\n"
            "        instances: %d\n        wait_for: deployment\n" % (i, 2 if i % 2 == 0 else 1)
        )
    text = (
        "- hosts: localhost\n  gather_facts: false\n"
        "  module_defaults:\n    dcos.marathon.marathon_app:\n      marathon_url: %s\n"
        "  tasks:\n    - name: setup\n      dcos.marathon.marathon_app:\n"
        "        definition: {id: /waiter, cmd: exec sleep 3600, cpus: 0.1, mem: 32, instances: 1}\n"
        % json.dumps(lm.url)
    ) + "".join(tasks)
    rows = [r for r in run_playbook(tmp, "wait", text) if r["task"].startswith("scale")]
    time.sleep(0.5)
    noticed, last_request, returned = [], [], []
    log = lm.requests()
    for r in rows:
        dep = r.get("deployment_id")
        finished = events.finished.get(dep)
        if not dep or finished is None:
            continue
        polls = [q["time"] for q in log if q["path"] == "/v2/deployments" and q["time"] >= finished
                 and q["time"] <= r["end"]]
        if polls:
            noticed.append(min(polls) - finished)
        own = [q["time"] for q in log if r["start"] <= q["time"] <= r["end"] and not q.get("admin")]
        if own:
            # The module's last request (the final GET of the app) is about when it exits.
            last_request.append(max(own) - finished)
        returned.append(r["end"] - finished)
    return noticed, last_request, returned, len(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="no-change tasks (and as many uri GETs)")
    parser.add_argument("--waits", type=int, default=10, help="scale tasks whose wait is timed")
    parser.add_argument("--pipelining", action="store_true",
                        help="run the playbooks with ANSIBLE_PIPELINING=1 (no remote temp dir per task)")
    args = parser.parse_args()
    if args.pipelining:
        os.environ["ANSIBLE_PIPELINING"] = "1"
    out = {"pipelining": args.pipelining}
    with tempfile.TemporaryDirectory(prefix="marathon-app-bench.") as tmp:
        collections_path_cache[tmp] = collections_path(tmp)
        with LocalMarathon(Path(tmp) / "lm", time_scale=10) as lm:
            nochange, uri, counts = bench_nochange(tmp, lm, args.rounds)
            t_mod = [r["end"] - r["start"] for r in nochange]
            t_uri = [r["end"] - r["start"] for r in uri]
            out["requests_per_nochange"] = {"no_auth": {"min": min(counts), "max": max(counts),
                                                        "median": median(counts), "samples": len(counts)}}
            out["nochange_vs_uri"] = {
                "marathon_app_median_s": median(t_mod),
                "uri_get_median_s": median(t_uri),
                "ratio": round(statistics.median(t_mod) / statistics.median(t_uri), 3),
                "samples": len(t_mod),
            }
            noticed, last_request, returned, n = bench_wait(tmp, lm, args.waits)
            out["wait_latency"] = {
                "noticed_p50_s": median(noticed),
                "noticed_max_s": round(max(noticed), 4) if noticed else None,
                "module_last_request_p50_s": median(last_request),
                "returned_p50_s": median(returned),
                "returned_max_s": round(max(returned), 4) if returned else None,
                "samples": len(returned),
                "tasks": n,
            }
        with LocalMarathon(Path(tmp) / "lm-auth", time_scale=10, auth="dcos",
                           auth_config={"users": {"bench": "bench-pw"}, "token_ttl_seconds": 3600}) as lm:
            auth = "        headers:\n          Authorization: \"token={{ token }}\"\n"
            # The uri tasks need a token of their own; log in once for them.
            token = requests.post(lm.url + "/acs/api/v1/auth/login", json={"uid": "bench", "password": "bench-pw"},
                                  timeout=10).json()["token"]
            os.environ["BENCH_TOKEN"] = token
            global AUTH_DEFAULTS
            nochange, uri, counts = bench_nochange(
                tmp, lm, max(5, args.rounds // 4),
                auth_vars=auth.replace("{{ token }}", "{{ lookup('ansible.builtin.env', 'BENCH_TOKEN') }}"))
            logins = [sum(1 for q in requests_between(lm, r["start"], r["end"]) if q["path"].endswith("/auth/login"))
                      for r in nochange]
            out["requests_per_nochange"]["dcos_user_login"] = {
                "min": min(counts), "max": max(counts), "median": median(counts), "logins_per_task": max(logins),
                "samples": len(counts)}
    print(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
