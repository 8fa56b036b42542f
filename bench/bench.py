#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Collection benchmarks on localmarathon: real ansible-playbook runs, real HTTP on 127.0.0.1.

Writes one JSON object (raw samples and medians) to --out. Sections:

  states       requests and writes per marathon_app task for each state (request log)
  wait         deployment finished (localmarathon's deployment_success event time) -> task returned
  overhead     no-change marathon_app vs ansible.builtin.uri GET of the same app vs ansible.builtin.ping
  scale_apps   no-change over 1, 10, 50 apps on one cluster (a loop)
  scale_clusters  no-change over 1, 5, 10 clusters (one host per cluster, forks = clusters)
  groups       no-change over 1, 10, 50 apps of one group: one marathon_group task against the
               marathon_app loop over the same apps (requests, GETs, task time, CPU)
  role_fanout  no-change rollout of the stateful_postgres role (real PostgreSQL) over 1 and 10
               clusters against an ansible.builtin.uri GET per cluster in the same run (CPU per cluster)
  alternative  rerunning our task vs PUT of the same JSON with ansible.builtin.uri: writes,
               deployments, task restarts per rerun
  role         the stateful_postgres role (real PostgreSQL) through a life cycle, one
               ansible-playbook run per step: module calls, requests, GETs, writes per step
  failfast     first signal that cannot recover (first TASK_FAILED, or the POST of an app no offer fits)
               -> marathon_app's failure, p50/p95, next to fail-fast off (waits the whole wait_timeout)

Task times come from bench/callback_plugins/bench_timing.py (controller-side start and end of
each task); requests are counted from each cluster's requests.jsonl inside those time windows.

  .venv/bin/python bench/bench.py --out OUT.json [--repeat 3] [--only states,wait] [--clusters 10]

bench/run.sh (make bench) runs it and turns its output into bench/results.* with bench/report.py.
"""

from __future__ import annotations

import argparse
import calendar
import concurrent.futures
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# The package from the checkout, also when the venv has no editable install of it.
sys.path.insert(0, str(REPO / "localmarathon"))

from localmarathon.images import allow_search  # noqa: E402
from localmarathon.testing import LocalMarathon, provenance  # noqa: E402

SECTIONS = ("states", "role", "wait", "overhead", "scale_apps", "scale_clusters", "alternative", "groups",
            "role_fanout", "failfast")


# ----------------------------------------------------------------------------------------- helpers

def median(values):
    return round(statistics.median(values), 4) if values else None


def pct(values, p):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return round(values[lo] + (values[hi] - values[lo]) * (k - lo), 4)


def marathon_epoch(ts: str) -> float:
    """'2026-11-25T18:30:01.123Z' -> epoch seconds (UTC)."""
    main, _, frac = ts.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(main, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))


def cmd_app(app_id, **extra):
    app = {"id": app_id, "cmd": "sleep 3600", "cpus": 0.01, "mem": 16, "instances": 1}
    app.update(extra)
    return app


def resident_app(app_id):
    """A cheap stand-in for the PostgreSQL app: one instance on a local persistent volume."""
    return cmd_app(
        app_id,
        container={"type": "MESOS", "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 16}}]},
        upgradeStrategy={"minimumHealthCapacity": 0, "maximumOverCapacity": 0},
        unreachableStrategy="disabled",
    )


class Cluster:
    """One localmarathon with an SSE recorder (every event, with its own timestamp)."""

    def __init__(self, data_dir: Path, time_scale: float = 1.0):
        self.lm = LocalMarathon(data_dir, time_scale=time_scale)
        self.events: list[dict] = []
        self._resp = None
        self._ready = threading.Event()

    def start(self):
        self.lm.start()
        self.url = self.lm.url
        self.session = requests.Session()
        self._resp = requests.get(self.url + "/v2/events", headers={"Accept": "text/event-stream"}, stream=True,
                                  timeout=(5, None))
        threading.Thread(target=self._read, daemon=True).start()
        self._ready.wait(5)
        return self

    def _read(self):
        try:
            for line in self._resp.iter_lines(chunk_size=1, decode_unicode=True):
                if line.startswith("event:"):
                    self._ready.set()
                if line.startswith("data: "):
                    data = json.loads(line[6:])
                    data["_arrived"] = time.time()
                    if isinstance(data.get("timestamp"), str):
                        data["_time"] = marathon_epoch(data["timestamp"])
                    self.events.append(data)
        except Exception:  # stream closed at shutdown
            pass

    def stop(self):
        if self._resp is not None:
            self._resp.close()
        self.lm.stop()

    def requests_between(self, start, end):
        return [r for r in self.lm.requests() if start <= r["time"] <= end]

    def events_between(self, start, end, kind=None):
        return [e for e in list(self.events) if start <= e.get("_time", 0) <= end
                and (kind is None or e.get("eventType") == kind)]

    def post_app(self, app):
        r = self.session.post(self.url + "/v2/apps", json=app, timeout=30)
        r.raise_for_status()

    def wait_running(self, app_ids, timeout=120):
        deadline = time.monotonic() + timeout
        pending = set(app_ids)
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError("apps not running: %s" % sorted(pending))
            apps = self.session.get(self.url + "/v2/apps", timeout=30).json()["apps"]
            pending = {a["id"] for a in apps if a["id"] in pending and a.get("tasksRunning", 0) < a["instances"]}
            if pending:
                time.sleep(0.1)
        # Let deployments leave /v2/deployments too.
        while self.session.get(self.url + "/v2/deployments", timeout=30).json():
            if time.monotonic() > deadline:
                raise RuntimeError("deployments still running")
            time.sleep(0.05)


class Runner:
    """Writes playbooks/inventories into a work dir and runs ansible-playbook with the timing callback."""

    def __init__(self, work: Path):
        self.work = work
        self.n = 0
        self.last_cpu = 0.0

    def inventory(self, clusters, name="inv"):
        hosts = {}
        for i, c in enumerate(clusters):
            hosts["lm%02d" % i] = {"marathon_url": c.url}
        inv = {"all": {"hosts": hosts, "vars": {"ansible_connection": "local",
                                                 "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}
        path = self.work / ("%s-%d.yml" % (name, len(clusters)))
        path.write_text(json.dumps(inv, indent=1))  # JSON is YAML
        return path

    def run(self, tasks, inventory, forks=1, play_vars=None, name="play", env_extra=None):
        """Run one play of ``tasks``; returns (wall seconds, timing dict)."""
        self.n += 1
        tag = "%03d-%s" % (self.n, name)
        play = [{"name": name, "hosts": "all", "gather_facts": False, "vars": play_vars or {}, "tasks": tasks}]
        pb = self.work / (tag + ".yml")
        pb.write_text(json.dumps(play, indent=1))
        timing = self.work / (tag + ".timing.json")
        env = dict(os.environ)
        env.update({
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_CALLBACK_PLUGINS": str(REPO / "bench" / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "bench_timing",
            "BENCH_TIMING_OUT": str(timing),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCAL_TEMP": str(self.work / "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(self.work / "ansible-tmp"),
        })
        env.update(env_extra or {})
        cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(forks), str(pb)]
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        with open(self.work / (tag + ".log"), "w") as log:
            proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
        wall = time.monotonic() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU of ansible-playbook, its forks and every module process (all reaped by now).
        self.last_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        if proc.returncode != 0:
            tail = (self.work / (tag + ".log")).read_text()[-4000:]
            raise RuntimeError("ansible-playbook %s failed (rc %d):\n%s" % (tag, proc.returncode, tail))
        return wall, json.loads(timing.read_text())


def app_task(name, definition=None, state="present", **extra):
    args = {"marathon_url": "{{ marathon_url }}", "state": state}
    if definition is not None:
        args["definition"] = definition
    args.update(extra)
    return {"name": name, "dcos.marathon.marathon_app": args}


def task_seconds(row):
    return row["end"] - row["start"]


# ----------------------------------------------------------------------------------------- sections

STATES = ("create", "no-change", "stopped", "stopped again", "started", "restarted", "absent", "absent again")


def bench_states(runner, cluster, repeat):
    """Each state's task in a full life cycle, ``repeat`` cycles in one play; requests per task
    window from the request log; also the wait latency samples of every task that deployed."""
    app = resident_app("/bench/states")
    args = {
        "create": ("present", {}), "no-change": ("present", {}), "stopped": ("stopped", {}),
        "stopped again": ("stopped", {}), "started": ("started", {}), "restarted": ("restarted", {}),
        "absent": ("absent", {"allow_data_loss": True}), "absent again": ("absent", {"allow_data_loss": True}),
    }
    tasks = []
    for cycle in range(repeat):
        for st in STATES:
            state, extra = args[st]
            tasks.append(app_task("c%d %s" % (cycle, st), app, state=state, **extra))
    inv = runner.inventory([cluster])
    _wall, timing = runner.run(tasks, inv, name="states")
    time.sleep(0.3)  # the last log lines
    log = cluster.lm.requests()
    per_state = {st: {"requests": [], "gets": [], "writes": [], "seconds": [], "changed": []} for st in STATES}
    samples = []
    for row in timing["tasks"]:
        st = row["task"].split(" ", 1)[1]
        window = [r for r in log if row["start"] <= r["time"] <= row["end"]]
        d = per_state[st]
        d["requests"].append(len(window))
        d["gets"].append(sum(1 for r in window if r["method"] == "GET"))
        d["writes"].append(sum(1 for r in window if r["write"]))
        d["seconds"].append(round(task_seconds(row), 4))
        d["changed"].append(bool(row.get("changed")))
        d.setdefault("methods", [])
        d["methods"].append(["%s %s" % (r["method"], r["path"]) for r in window])
        samples += wait_samples(cluster, row, "states " + st)
    summary = {}
    for st, d in per_state.items():
        summary[st] = {"requests": median(d["requests"]), "gets": median(d["gets"]), "writes": median(d["writes"]),
                       "seconds": median(d["seconds"]), "changed": all(d["changed"]) if d["changed"] else None,
                       "samples": {k: v for k, v in d.items()}}
    return {"app": app, "cycles": repeat, "per_state": summary}, samples


ROLE_STEPS = (
    ("create", "present"), ("no-change", "present"), ("stopped", "stopped"), ("stopped again", "stopped"),
    ("started", "started"), ("started again", "started"), ("present again", "present"),
)
# The steps that find the app as they want it: each must be one module call sending one GET.
ROLE_RERUNS = ("no-change", "stopped again", "started again", "present again")
ROLE_APP_ID = "/bench/postgres"
# Small and fast: a TCP health check every second (first check right away), so a start waits
# for PostgreSQL to accept connections rather than for the default 60 s interval.
ROLE_VARS = {
    "stateful_postgres_app_id": ROLE_APP_ID,
    "stateful_postgres_password": "bench-only-password",
    "stateful_postgres_cpus": 0.1,
    "stateful_postgres_mem": 128,
    "stateful_postgres_volume_size": 64,
    "stateful_postgres_health_interval": 1,
    "stateful_postgres_health_timeout": 1,
    "stateful_postgres_wait_timeout": 300,
}


def role_task(name, state, **extra):
    return {"name": name, "ansible.builtin.include_role": {"name": "dcos.marathon.stateful_postgres"},
            "vars": dict(ROLE_VARS, stateful_postgres_state=state, **extra)}


def bench_role(runner, cluster, repeat):
    """The stateful_postgres role through a life cycle on one cluster, one ansible-playbook run per
    step: the step's window is its run (nothing else talks to the cluster meanwhile), so every
    request the role sent is counted. Module calls are the collection's task results in the run."""
    # PostgreSQL runs as the unprivileged postgres user and must reach its volume below the work dir.
    allow_search(cluster.lm.data_dir)
    inv = runner.inventory([cluster], name="role")
    per_step = {step: {"module_calls": [], "requests": [], "gets": [], "writes": [], "seconds": [],
                       "playbook_s": [], "changed": [], "methods": [], "modules": []} for step, _ in ROLE_STEPS}
    for cycle in range(repeat):
        for step, state in ROLE_STEPS:
            wall, timing = runner.run([role_task(step, state)], inv, name="role-" + step.replace(" ", "-"))
            time.sleep(0.3)  # the last log lines
            window = cluster.requests_between(timing["play_start"], timing["play_end"])
            rows = [r for r in timing["tasks"] if r["outcome"] != "skipped"]
            calls = [r for r in rows if r["action"].startswith("dcos.marathon.")]
            d = per_step[step]
            d["module_calls"].append(len(calls))
            d["modules"].append([r["action"] for r in calls])
            d["requests"].append(len(window))
            d["gets"].append(sum(1 for r in window if r["method"] == "GET"))
            d["writes"].append(sum(1 for r in window if r["write"]))
            # The role's time: its first task started -> its last result (no ansible-playbook start-up).
            d["seconds"].append(round(max(r["end"] for r in rows) - min(r["start"] for r in rows), 4))
            d["playbook_s"].append(round(wall, 4))
            d["changed"].append(any(r.get("changed") for r in calls))
            d["methods"].append(["%s %s" % (r["method"], r["path"]) for r in window])
        # The next cycle creates the app again; removing it is not a measured step.
        if cycle + 1 < repeat:
            runner.run([role_task("remove", "absent", stateful_postgres_allow_data_loss=True,
                                  stateful_postgres_backup_before_remove=False)], inv, name="role-remove")
    summary = {}
    for step, d in per_step.items():
        summary[step] = {"state": dict(ROLE_STEPS)[step], "module_calls": median(d["module_calls"]),
                         "requests": median(d["requests"]), "gets": median(d["gets"]), "writes": median(d["writes"]),
                         "seconds": median(d["seconds"]), "playbook_s": median(d["playbook_s"]),
                         "changed": all(d["changed"]), "samples": d}
    return {"app_id": ROLE_APP_ID, "cycles": repeat, "steps": [step for step, _ in ROLE_STEPS], "reruns": list(ROLE_RERUNS),
            "vars": {k: v for k, v in ROLE_VARS.items() if k != "stateful_postgres_password"}, "per_step": summary}


def wait_samples(cluster, row, label):
    """deployment_success of the task's own deployment -> the controller had the task's result."""
    dep = row.get("deployment_id")
    if not dep:
        return []
    ev = [e for e in list(cluster.events) if e.get("eventType") == "deployment_success" and e.get("id") == dep]
    if not ev:
        return [{"label": label, "deployment_id": dep, "missing_event": True}]
    e = ev[0]
    sample = {"label": label, "deployment_id": dep, "event_time": e["_time"], "task_end": row["end"],
              "latency": round(row["end"] - e["_time"], 4), "task_seconds": round(task_seconds(row), 4),
              "module_duration": row.get("duration")}
    # The module's last request (logged when answered) splits the latency into noticing the end
    # and what follows it (module exit, Ansible handing the result to the controller).
    window = cluster.requests_between(row["start"], row["end"])
    if window:
        last = window[-1]["time"]
        sample["noticed"] = round(last - e["_time"], 4)
        sample["after_last_request"] = round(row["end"] - last, 4)
    return [sample]


def bench_wait(runner, cluster, repeat, state_samples):
    """More samples: config changes (a label) of a running cmd app, each a restart deployment."""
    base = cmd_app("/bench/wait")
    tasks = [app_task("create", base)]
    n = max(8, 4 * repeat)
    for i in range(n):
        tasks.append(app_task("w%02d" % i, dict(base, labels={"bench": str(i)})))
    inv = runner.inventory([cluster])
    _wall, timing = runner.run(tasks, inv, name="wait")
    samples = list(state_samples)
    for row in timing["tasks"]:
        samples += wait_samples(cluster, row, "label change" if row["task"].startswith("w") else "create")
    out = latency_summary(samples)
    out["samples"] = samples
    # Same label changes with Ansible's pipelining: no temporary module file to create and remove,
    # which shows how much of the latency is Ansible's own work after the module has its answer.
    tasks = [app_task("p%02d" % i, dict(base, labels={"bench": "p%d" % i})) for i in range(max(6, 2 * repeat))]
    _wall, timing = runner.run(tasks, inv, name="wait-pipelining", env_extra={"ANSIBLE_PIPELINING": "True"})
    piped = []
    for row in timing["tasks"]:
        piped += wait_samples(cluster, row, "label change, pipelining")
    out["pipelining"] = latency_summary(piped)
    out["pipelining"]["samples"] = piped
    return out


def latency_summary(samples):
    lat = [s["latency"] for s in samples if "latency" in s]
    noticed = [s["noticed"] for s in samples if "noticed" in s]
    after = [s["after_last_request"] for s in samples if "after_last_request" in s]
    return {
        "n": len(lat),
        "missing_events": sum(1 for s in samples if s.get("missing_event")),
        "p50": pct(lat, 0.5), "p95": pct(lat, 0.95), "max": round(max(lat), 4) if lat else None,
        "noticed_p50": pct(noticed, 0.5), "noticed_p95": pct(noticed, 0.95),
        "after_last_request_p50": pct(after, 0.5), "after_last_request_p95": pct(after, 0.95),
    }


def bench_overhead(runner, cluster, repeat):
    """Same play, interleaved: marathon_app (no change), uri GET of the same app, ping."""
    app = cmd_app("/bench/overhead")
    cluster.post_app(app)
    cluster.wait_running([app["id"]])
    rounds = max(10, 4 * repeat)
    tasks = []
    for i in range(rounds + 1):  # round 0 warms caches (plugin loading, first AnsiballZ builds)
        tasks.append(app_task("r%02d marathon_app" % i, app))
        tasks.append({"name": "r%02d uri" % i, "ansible.builtin.uri": {
            "url": "{{ marathon_url }}/v2/apps/bench/overhead", "method": "GET", "return_content": False}})
        tasks.append({"name": "r%02d ping" % i, "ansible.builtin.ping": {}})
    inv = runner.inventory([cluster])
    _wall, timing = runner.run(tasks, inv, name="overhead")
    time.sleep(0.3)
    log = cluster.lm.requests()
    out = {"rounds": rounds}
    for kind in ("marathon_app", "uri", "ping"):
        # Round 0: the first use of each module in the run (Ansible builds and caches its payload).
        first = [r for r in timing["tasks"] if r["task"] == "r00 " + kind]
        first_s = round(task_seconds(first[0]), 4) if first else None
        rows = [r for r in timing["tasks"] if r["task"].endswith(" " + kind) and not r["task"].startswith("r00")]
        secs = [task_seconds(r) for r in rows]
        reqs = [len([x for x in log if r["start"] <= x["time"] <= r["end"]]) for r in rows]
        writes = [len([x for x in log if r["start"] <= x["time"] <= r["end"] and x["write"]]) for r in rows]
        changed = [bool(r.get("changed")) for r in rows]
        out[kind] = {"median_s": median(secs), "p95_s": pct(secs, 0.95), "samples_s": [round(s, 4) for s in secs],
                     "requests": median(reqs), "writes": median(writes), "any_changed": any(changed),
                     "first_task_s": first_s}
        # Where the task's time goes around its one GET: before it is sent (Ansible, module process
        # start, imports, argument checks) and after it is answered (module exit, Ansible).
        before, after = [], []
        for r in rows:
            hits = [x for x in log if r["start"] <= x["time"] <= r["end"]]
            if hits:
                before.append(hits[0]["time"] - hits[0]["duration_ms"] / 1000.0 - r["start"])
                after.append(r["end"] - hits[-1]["time"])
        if before:
            out[kind]["before_request_s"] = median(before)
            out[kind]["after_request_s"] = median(after)
    # Ratio per round (same conditions), then the median of the ratios.
    by_round = {}
    for r in timing["tasks"]:
        rnd, kind = r["task"].split(" ", 1)
        if rnd != "r00":
            by_round.setdefault(rnd, {})[kind] = task_seconds(r)
    ratios_uri = [v["marathon_app"] / v["uri"] for v in by_round.values() if len(v) == 3]
    ratios_ping = [v["marathon_app"] / v["ping"] for v in by_round.values() if len(v) == 3]
    out["ratio_vs_uri"] = median(ratios_uri)
    out["ratio_vs_ping"] = median(ratios_ping)
    out["uri_vs_ping"] = median([v["uri"] / v["ping"] for v in by_round.values() if len(v) == 3])
    out["profile"] = profile_module_costs()
    return out


def profile_module_costs(runs=5):
    """Where a module's time goes, outside Ansible: interpreter start, and the imports each module
    needs (marathon_app: requests and the collection's module_utils; uri: Ansible's urls)."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "collections"))
    snippets = {
        "python_start": "pass",
        "ansible_basic": "import ansible.module_utils.basic",
        "uri_imports": "import ansible.module_utils.basic, ansible.module_utils.urls",
        "requests": "import requests",
        "marathon_app_imports": ("import ansible.module_utils.basic, requests; "
                                 "import ansible_collections.dcos.marathon.plugins.module_utils._module; "
                                 "import ansible_collections.dcos.marathon.plugins.module_utils._app_spec; "
                                 "import ansible_collections.dcos.marathon.plugins.module_utils._wait"),
    }
    out = {}
    for name, code in snippets.items():
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=env, cwd="/", check=True)
            times.append(time.perf_counter() - t0)
        out[name + "_s"] = median(times)
    return out


def bench_scale_apps(runner, cluster, repeat, counts=(1, 10, 50)):
    top = max(counts)
    apps = [cmd_app("/bench/scale/app%02d" % i) for i in range(top)]
    for a in apps:
        cluster.post_app(a)
    cluster.wait_running([a["id"] for a in apps])
    inv = runner.inventory([cluster])
    out = {}
    for n in counts:
        walls, task_s, reqs, writes, gets, cpus = [], [], [], [], [], []
        # The largest loop dominates the run time of make bench; one run fewer there.
        for _ in range(max(2, repeat - 1) if n == max(counts) and repeat > 2 else repeat):
            tasks = [{"name": "no-change %d apps" % n, "dcos.marathon.marathon_app": {
                "marathon_url": "{{ marathon_url }}", "definition": "{{ item }}"},
                "loop": "{{ bench_apps }}", "loop_control": {"label": "{{ item.id }}"}}]
            wall, timing = runner.run(tasks, inv, play_vars={"bench_apps": apps[:n]}, name="apps%d" % n)
            row = timing["tasks"][0]
            if row.get("items_changed"):
                raise RuntimeError("no-change loop over %d apps changed %d" % (n, row["items_changed"]))
            time.sleep(0.2)
            window = cluster.requests_between(row["start"], row["end"])
            walls.append(wall)
            cpus.append(runner.last_cpu)
            task_s.append(task_seconds(row))
            reqs.append(len(window))
            gets.append(sum(1 for r in window if r["method"] == "GET"))
            writes.append(sum(1 for r in window if r["write"]))
        out[str(n)] = {"playbook_s": median(walls), "task_s": median(task_s), "per_app_s": round(median(task_s) / n, 4),
                       "cpu_s": median(cpus),
                       "requests": median(reqs), "gets": median(gets), "writes": median(writes),
                       "samples_task_s": [round(x, 3) for x in task_s], "samples_playbook_s": [round(x, 3) for x in walls]}
    return out


def bench_scale_clusters(runner, clusters, repeat, counts=(1, 5, 10)):
    app = cmd_app("/bench/multi")
    for c in clusters:
        c.post_app(app)
    for c in clusters:
        c.wait_running([app["id"]])
    keys = ("walls", "spans", "reqs", "writes", "cpus", "spreads", "per_task")
    data = {n: {k: [] for k in keys} for n in counts}
    invs = {n: runner.inventory(clusters[:n], name="clusters") for n in counts}
    # The same per-host fan-out with Ansible's own modules: a uri GET of the app, and ping (no HTTP).
    uri_task = {"name": "uri GET", "ansible.builtin.uri": {"url": "{{ marathon_url }}/v2/apps/bench/multi",
                                                           "return_content": False}}
    ping_task = {"name": "ping", "ansible.builtin.ping": {}}
    ends = (counts[0], counts[-1])
    others = {(kind, n): {"walls": [], "cpus": []} for kind in ("uri", "ping", "pipelining") for n in ends}
    piped = {"ANSIBLE_PIPELINING": "True"}  # a remedy users can apply: no temporary module files per task
    # Short runs whose ratio moves with the machine's load: a few more of them, and the counts
    # interleaved so that each repetition measures 1, 5 and 10 clusters under the same load.
    for rep in range(max(repeat, 5)):
        # The comparisons get the usual number of runs; the goal's own figure gets more.
        for kind, task, env in ((("uri", uri_task, None), ("ping", ping_task, None),
                                 ("pipelining", app_task("no-change", app), piped)) if rep < repeat else ()):
            for n in ends:
                wall, _timing = runner.run([task], invs[n], forks=n, name="clusters%d-%s" % (n, kind), env_extra=env)
                others[(kind, n)]["walls"].append(wall)
                others[(kind, n)]["cpus"].append(runner.last_cpu)
        for n in counts:
            subset, d = clusters[:n], data[n]
            wall, timing = runner.run([app_task("no-change", app)], invs[n], forks=n, name="clusters%d" % n)
            rows = timing["tasks"]
            if any(r.get("changed") for r in rows):
                raise RuntimeError("no-change over %d clusters changed something" % n)
            start, end = min(r["start"] for r in rows), max(r["end"] for r in rows)
            time.sleep(0.2)
            window = [r for c in subset for r in c.requests_between(start, end)]
            d["walls"].append(wall)
            d["cpus"].append(runner.last_cpu)
            d["spans"].append(end - start)
            # The controller hands the hosts' tasks to its forks one after another.
            d["spreads"].append(max(r["start"] for r in rows) - start)
            d["per_task"].append(statistics.median(task_seconds(r) for r in rows))
            d["reqs"].append(len(window))
            d["writes"].append(sum(1 for r in window if r["write"]))
    out = {}
    for n in counts:
        d = data[n]
        out[str(n)] = {"playbook_s": median(d["walls"]), "task_span_s": median(d["spans"]), "requests": median(d["reqs"]),
                       "cpu_s": median(d["cpus"]), "cpu_bound_floor_s": round(median(d["cpus"]) / (os.cpu_count() or 1), 3),
                       "start_spread_s": median(d["spreads"]), "median_host_task_s": median(d["per_task"]),
                       "writes": median(d["writes"]), "forks": n,
                       "samples_playbook_s": [round(x, 3) for x in d["walls"]],
                       "samples_span_s": [round(x, 3) for x in d["spans"]]}
    first, last = data[counts[0]], data[counts[-1]]
    # Ratio of the medians (robust to a single fast or slow run); per-repetition ratios as samples.
    out["ratio_playbook"] = round(median(last["walls"]) / median(first["walls"]), 3)
    out["ratio_task_span"] = round(median(last["spans"]) / median(first["spans"]), 3)
    out["samples_ratio_playbook"] = [round(b / a, 3) for a, b in zip(first["walls"], last["walls"])]
    for kind in ("uri", "ping", "pipelining"):
        a, z = others[(kind, ends[0])], others[(kind, ends[1])]
        out[kind] = {"playbook_s": {str(ends[0]): median(a["walls"]), str(ends[1]): median(z["walls"])},
                     "cpu_s": {str(ends[0]): median(a["cpus"]), str(ends[1]): median(z["cpus"])},
                     "ratio_playbook": round(median(z["walls"]) / median(a["walls"]), 3)}
    return out


def bench_groups(runner, cluster, repeat, counts=(1, 10, 50)):
    """One group per size; each measured twice in the same way: one marathon_group task, and the
    marathon_app loop over the same apps. The window of a task is its run on the cluster."""
    groups = {}
    for n in counts:
        group_id = "/bench/group%d" % n
        apps = [cmd_app("app%02d" % i) for i in range(n)]
        r = cluster.session.post(cluster.url + "/v2/groups", json={"id": group_id, "apps": apps}, timeout=30)
        r.raise_for_status()
        groups[n] = (group_id, [dict(a, id="%s/%s" % (group_id, a["id"])) for a in apps])
    cluster.wait_running([a["id"] for _gid, apps in groups.values() for a in apps])
    inv = runner.inventory([cluster], name="groups")
    out = {}
    for n in counts:
        group_id, apps = groups[n]
        kinds = {
            "group": [{"name": "group %d" % n, "dcos.marathon.marathon_group": {
                "marathon_url": "{{ marathon_url }}", "group_id": group_id,
                "definition": {"apps": [dict(a, id=a["id"].rsplit("/", 1)[1]) for a in apps]}}}],
            "app_loop": [{"name": "app loop %d" % n, "dcos.marathon.marathon_app": {
                "marathon_url": "{{ marathon_url }}", "definition": "{{ item }}"},
                "loop": "{{ bench_apps }}", "loop_control": {"label": "{{ item.id }}"}}],
        }
        row_out = {}
        for kind, tasks in kinds.items():
            task_s, reqs, gets, writes, cpus = [], [], [], [], []
            for _ in range(repeat):
                _wall, timing = runner.run(tasks, inv, play_vars={"bench_apps": apps}, name="%s%d" % (kind, n))
                row = timing["tasks"][0]
                if row.get("changed") or row.get("items_changed"):
                    raise RuntimeError("no-change %s over %d apps changed something" % (kind, n))
                time.sleep(0.2)
                window = cluster.requests_between(row["start"], row["end"])
                task_s.append(task_seconds(row))
                cpus.append(runner.last_cpu)
                reqs.append(len(window))
                gets.append(sum(1 for r in window if r["method"] == "GET"))
                writes.append(sum(1 for r in window if r["write"]))
            row_out[kind] = {"task_s": median(task_s), "cpu_s": median(cpus), "requests": median(reqs),
                             "gets": median(gets), "writes": median(writes),
                             "samples_task_s": [round(x, 3) for x in task_s]}
        out[str(n)] = row_out
    first, last = out[str(counts[0])]["group"], out[str(counts[-1])]["group"]
    out["ratio_group_task"] = round(last["task_s"] / first["task_s"], 3)
    out["goal_ratio"] = 2.0
    return out


def bench_role_fanout(runner, clusters, repeat, counts=(1, 10)):
    """The stateful_postgres role's no-change rollout, one host per cluster (forks = clusters),
    against a uri GET of the same app per cluster: the uri fan-out is this machine's floor."""
    for c in clusters:
        allow_search(c.lm.data_dir)
    top = max(counts)
    invs = {n: runner.inventory(clusters[:n], name="fanout") for n in counts}
    runner.run([role_task("deploy", "present")], invs[top], forks=top, name="fanout-deploy")
    role = [role_task("no-change", "present")]
    uri = [{"name": "uri GET", "ansible.builtin.uri": {
        "url": "{{ marathon_url }}/v2/apps" + ROLE_APP_ID, "return_content": False}}]
    data = {(kind, n): {"walls": [], "cpus": [], "reqs": [], "writes": [], "calls": [], "tasks": []}
            for kind in ("role", "uri") for n in counts}
    for _ in range(max(repeat, 3)):
        for n in counts:
            for kind, tasks in (("role", role), ("uri", uri)):
                wall, timing = runner.run(tasks, invs[n], forks=n, name="fanout-%s%d" % (kind, n))
                rows = [r for r in timing["tasks"] if r["outcome"] != "skipped"]
                if kind == "role" and any(r.get("changed") for r in rows if r["action"].startswith("dcos.marathon.")):
                    raise RuntimeError("no-change role over %d clusters changed something" % n)
                time.sleep(0.2)
                window = [r for c in clusters[:n] for r in c.requests_between(timing["play_start"], timing["play_end"])]
                d = data[(kind, n)]
                d["walls"].append(wall)
                d["cpus"].append(runner.last_cpu)
                d["reqs"].append(len(window))
                d["writes"].append(sum(1 for r in window if r["write"]))
                d["calls"].append(sum(1 for r in rows if r["action"].startswith("dcos.marathon.")))
                d["tasks"].append(len(rows))
    out = {}
    for n in counts:
        row = {}
        for kind in ("role", "uri"):
            d = data[(kind, n)]
            row[kind] = {"playbook_s": median(d["walls"]), "cpu_s": median(d["cpus"]),
                         "cpu_s_per_cluster": round(median(d["cpus"]) / n, 3),
                         "requests_per_cluster": round(median(d["reqs"]) / n, 3), "writes": median(d["writes"]),
                         "module_calls_per_cluster": round(median(d["calls"]) / n, 3),
                         "tasks_per_cluster": round(median(d["tasks"]) / n, 3),
                         "samples_playbook_s": [round(x, 3) for x in d["walls"]]}
        row["ratio_role_to_uri"] = round(row["role"]["playbook_s"] / row["uri"]["playbook_s"], 3)
        row["ratio_role_to_uri_cpu"] = round(row["role"]["cpu_s"] / row["uri"]["cpu_s"], 3)
        out[str(n)] = row
    out["goal_ratio"] = 1.1
    return out


def bench_alternative(runner, cluster, repeat):
    """Reruns of an unchanged definition: ours vs PUT /v2/apps/{id} of the same JSON with uri."""
    app = cmd_app("/bench/alt", portDefinitions=[{"port": 0, "name": "http"}], env={"MODE": "bench"},
                  labels={"team": "bench"})
    inv = runner.inventory([cluster])
    runner.run([app_task("create", app)], inv, name="alt-create")
    cluster.wait_running([app["id"]])
    reruns = max(5, 2 * repeat)
    ours = [app_task("ours %d" % i, app) for i in range(reruns)]
    put = [{"name": "uri PUT %d" % i, "ansible.builtin.uri": {
        "url": "{{ marathon_url }}/v2/apps/bench/alt", "method": "PUT", "body_format": "json",
        "body": app, "status_code": [200, 201]}} for i in range(reruns)]
    out = {"reruns": reruns, "app": app}
    for name, tasks in (("ours", ours), ("uri_put", put)):
        before = task_ids(cluster, app["id"])
        _wall, timing = runner.run(tasks, inv, name="alt-" + name)
        rows = timing["tasks"]
        start, end = min(r["start"] for r in rows), max(r["end"] for r in rows)
        time.sleep(1.5)  # restarts a deployment causes happen after the request returns
        cluster.wait_running([app["id"]])
        settle = time.time()
        window = cluster.requests_between(start, end)  # not the benchmark's own reads after it
        deployments = cluster.events_between(start, settle, "deployment_success")
        kills = [e for e in cluster.events_between(start, settle, "status_update_event")
                 if e.get("appId") == app["id"] and e.get("taskStatus") in ("TASK_KILLED", "TASK_KILLING")]
        after = task_ids(cluster, app["id"])
        versions = cluster.session.get(cluster.url + "/v2/apps/bench/alt/versions", timeout=30).json()["versions"]
        out[name] = {
            "writes_per_rerun": round(sum(1 for r in window if r["write"]) / reruns, 3),
            "requests_per_rerun": round(len(window) / reruns, 3),
            "deployments_per_rerun": round(len(deployments) / reruns, 3),
            "task_restarts_per_rerun": round(len({e.get("taskId") for e in kills}) / reruns, 3),
            "task_ids_changed": before != after,
            "changed_reported": sum(1 for r in rows if r.get("changed")),
            "median_task_s": median([task_seconds(r) for r in rows]),
            "samples_task_s": [round(task_seconds(r), 3) for r in rows],
            "app_versions_after": len(versions),
        }
    return out


FAILFAST_OLD_TIMEOUT = 20    # wait_timeout of the old behaviour's runs (fail-fast off)
FAILFAST_OFFER_GRACE = 5     # offer_decline_grace of the declined-offers case


def first_failure_time(cluster, app_id):
    """Marathon's time of the app's first TASK_FAILED (the first signal that cannot recover)."""
    times = [e["_time"] for e in list(cluster.events) if e.get("eventType") == "status_update_event"
             and e.get("appId") == app_id and e.get("taskStatus") == "TASK_FAILED" and "_time" in e]
    return min(times) if times else None


def bench_failfast(runner, cluster, repeat):
    """From the first signal that cannot recover to marathon_app's failure: a command that exits (first
    TASK_FAILED) with the default fail_after_task_failures, an app needing more cpus than any agent has
    (its POST: every offer is declined from then on) with offer_decline_grace=5, and the old behaviour
    (both off) on the exiting command, which waits out a wait_timeout of 20 s."""
    inv = runner.inventory([cluster])
    n = max(5, 2 * repeat)
    cases = [("exits", "exits", {}, n),
             ("cpus", "cpus", {"offer_decline_grace": FAILFAST_OFFER_GRACE}, n),
             ("old", "exits", {"fail_after_task_failures": 0, "offer_decline_grace": 0,
                               "wait_timeout": FAILFAST_OLD_TIMEOUT}, 2)]
    out = {"old_wait_timeout": FAILFAST_OLD_TIMEOUT, "offer_decline_grace": FAILFAST_OFFER_GRACE}
    for label, kind, extra, runs in cases:
        samples = []
        for i in range(runs):
            app_id = "/bench/ff/%s-%d" % (label, i)
            app = cmd_app(app_id, cmd="exit 3") if kind == "exits" else cmd_app(app_id, cpus=100)
            task = app_task(label, app, **dict({"wait_timeout": 120}, **extra))
            task["ignore_errors"] = True
            _wall, timing = runner.run([task], inv, name="failfast-" + label)
            row = timing["tasks"][0]
            if kind == "exits":
                signal = first_failure_time(cluster, app_id)
            else:
                posts = [r["time"] for r in cluster.requests_between(row["start"], row["end"])
                         if r["method"] == "POST" and r["path"] == "/v2/apps"]
                signal = posts[0] if posts else None
            sample = {"app_id": app_id, "failed": row.get("outcome") == "failed", "msg": str(row.get("msg", ""))[:200],
                      "task_seconds": round(task_seconds(row), 3)}
            if signal is not None:
                sample["signal_to_failure"] = round(row["end"] - signal, 3)
            samples.append(sample)
            cluster.session.delete(cluster.url + "/v2/apps" + app_id, params={"force": "true"}, timeout=30)
        values = [x["signal_to_failure"] for x in samples if "signal_to_failure" in x]
        out[label] = {"n": len(values), "p50": pct(values, 0.5), "p95": pct(values, 0.95),
                      "all_failed": all(x["failed"] for x in samples), "samples": samples}
    return out


def task_ids(cluster, app_id):
    tasks = cluster.session.get(cluster.url + "/v2/apps%s/tasks" % app_id, timeout=30).json()["tasks"]
    return sorted(t["id"] for t in tasks)


# ----------------------------------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--repeat", type=int, default=3, help="runs per figure (medians)")
    p.add_argument("--only", default=",".join(SECTIONS))
    p.add_argument("--clusters", type=int, default=10)
    p.add_argument("--apps", default="1,10,50")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        p.error("unknown sections: %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(SECTIONS)))

    work = Path(tempfile.mkdtemp(prefix="dcos-bench."))
    result = {"repeat": args.repeat, "cpus": os.cpu_count(), "load_before": os.getloadavg(), "sections": {},
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "provenance": provenance(REPO)}
    clusters = []
    ok = False
    try:
        n_clusters = args.clusters if ("scale_clusters" in only or "role_fanout" in only) else 2
        dirs = [work / ("lm%02d" % i) for i in range(max(2, n_clusters))]
        # In this thread: localmarathon gets PR_SET_PDEATHSIG, which fires when the starting thread ends.
        for d in dirs:
            clusters.append(Cluster(d).start())
        runner = Runner(work)
        main_c, apps_c = clusters[0], clusters[1]
        state_samples = []
        timings = {}

        def section(name, fn):
            if name not in only:
                return
            t0 = time.monotonic()
            print("bench: %s ..." % name, file=sys.stderr, flush=True)
            result["sections"][name] = fn()
            timings[name] = round(time.monotonic() - t0, 1)
            print("bench: %s done in %.1fs" % (name, timings[name]), file=sys.stderr, flush=True)

        def states():
            out, samples = bench_states(runner, main_c, args.repeat)
            state_samples.extend(samples)
            return out

        section("states", states)
        section("role", lambda: bench_role(runner, main_c, args.repeat))
        section("wait", lambda: bench_wait(runner, main_c, args.repeat, state_samples))
        section("overhead", lambda: bench_overhead(runner, main_c, args.repeat))
        section("alternative", lambda: bench_alternative(runner, main_c, args.repeat))
        section("failfast", lambda: bench_failfast(runner, main_c, args.repeat))
        section("scale_apps", lambda: bench_scale_apps(runner, apps_c, args.repeat,
                                                       tuple(int(x) for x in args.apps.split(","))))
        section("scale_clusters", lambda: bench_scale_clusters(runner, clusters[:args.clusters], args.repeat,
                                                               tuple(sorted({x for x in (1, 5, 10) if x <= args.clusters}
                                                                            | {args.clusters}))))
        section("groups", lambda: bench_groups(runner, apps_c, args.repeat,
                                               tuple(int(x) for x in args.apps.split(","))))
        section("role_fanout", lambda: bench_role_fanout(runner, clusters[:args.clusters], args.repeat,
                                                         tuple(sorted({1, args.clusters}))))
        result["section_seconds"] = timings
        result["load_after"] = os.getloadavg()
        ok = True
    finally:
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda c: c.stop(), clusters))
        if args.keep or not ok:
            print("bench: work dir kept: %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
