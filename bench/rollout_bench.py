#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Wall time of playbooks/rollout.yml on 1 cluster against N clusters (default 10) in one batch.

Each cluster is its own localmarathon (own port and data dir, tasks are real processes; the app
is the stateful_postgres role's PostgreSQL). Measured, for 1 cluster and for N clusters:

  deploy   first rollout of the app (no canary batch, batch size N, N forks)
  noop     the same rollout again (nothing to change)
  update   a label change with the default canary batch (1 cluster) and then the other N-1

Two profiles (--profile):

  marathon   the role's health-check settings (interval 60 s) at Marathon's own speed
             (time scale 1): waiting for healthy tasks dominates, as on a real cluster
  fast       time scale 10 and a 2 s health-check interval: the controller's own work per
             cluster dominates (about 1.5 CPU seconds of ansible-playbook per cluster)

Prints one JSON object with wall and CPU seconds (ansible-playbook and its workers and
modules); the goal is deploy(N) <= 1.5 x deploy(1).

  .venv/bin/python bench/rollout_bench.py [--clusters 10] [--profile marathon|fast|both] [--out FILE]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOAL_RATIO = 1.5


def start_cluster(python, data_dir, time_scale):
    # Run from the data dir: in the repo root the localmarathon/ project dir would shadow the package.
    out = subprocess.run(
        [python, "-m", "localmarathon.ctl", "up", "--data-dir", data_dir, "--port", "0", "--time-scale", str(time_scale)],
        cwd=data_dir, capture_output=True, text=True, timeout=90, check=False,
    )
    if out.returncode != 0:
        raise RuntimeError("localmarathon did not start in %s: %s %s" % (data_dir, out.stdout, out.stderr))
    return out.stdout.strip().splitlines()[-1]


def stop_cluster(python, data_dir):
    subprocess.run([python, "-m", "localmarathon.ctl", "down", "--data-dir", data_dir], cwd=data_dir,
                   capture_output=True, text=True, timeout=90, check=False)


PROFILES = {
    "marathon": {"time_scale": 1.0, "health": {}},
    "fast": {"time_scale": 10.0, "health": {"stateful_postgres_health_interval": 2, "stateful_postgres_health_timeout": 2}},
}


def write_inventory(path, urls, health):
    lines = [
        "all:",
        "  vars:",
        "    ansible_connection: local",
        '    ansible_python_interpreter: "{{ ansible_playbook_python }}"',
        '    stateful_postgres_password: "bench-only-password"',
        "    stateful_postgres_cpus: 0.1",
        "    stateful_postgres_mem: 128",
        "    stateful_postgres_volume_size: 100",
        "    stateful_postgres_wait_timeout: 600",
    ] + ["    %s: %s" % item for item in sorted(health.items())] + [
        "  children:",
        "    marathon_clusters:",
        "      hosts:",
    ]
    for i, url in enumerate(urls):
        lines.append("        c%02d:" % i)
        lines.append('          marathon_url: "%s"' % url)
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def run_rollout(inventory, forks, extra, log_path):
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = os.path.join(REPO, "ansible.cfg")
    env["ANSIBLE_CALLBACKS_ENABLED"] = "dcos.marathon.rollout_summary"
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), os.path.join(REPO, "playbooks", "rollout.yml"),
           "-i", inventory, "-f", str(forks)]
    cmd += ["-e", json.dumps(extra)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError("rollout failed (rc %d), see %s" % (proc.returncode, log_path))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(elapsed, 2), round(cpu, 2)


def summary_counts(path):
    with open(path) as handle:
        return json.load(handle)["counts"]


def measure(work, name, urls, health):
    n = len(urls)
    inventory = os.path.join(work, "%s.yml" % name)
    write_inventory(inventory, urls, health)
    out = {}
    common = {"rollout_batch_size": n}
    for phase, extra in (
        ("deploy", dict(common, rollout_canary_count=0)),
        ("noop", dict(common, rollout_canary_count=0)),
        ("update", dict(common, stateful_postgres_labels={"bench": "2"})),
    ):
        summary = os.path.join(work, "%s-%s.json" % (name, phase))
        extra = dict(extra, rollout_summary_json=summary)
        out[phase], out[phase + "_cpu"] = run_rollout(inventory, n, extra, os.path.join(work, "%s-%s.log" % (name, phase)))
        out[phase + "_statuses"] = dict((k, v) for k, v in summary_counts(summary).items() if v)
    return out


def run_profile(python, work, profile, clusters):
    settings = PROFILES[profile]
    work = os.path.join(work, profile)
    dirs = [os.path.join(work, "lm%02d" % i) for i in range(clusters + 1)]
    for d in dirs:
        os.makedirs(d)
    result = {"time_scale": settings["time_scale"], "health": settings["health"] or "role defaults"}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            urls = list(pool.map(lambda d: start_cluster(python, d, settings["time_scale"]), dirs))
        # Cluster 0 alone, clusters 1..N together: both start from an empty Marathon.
        result["one_cluster"] = measure(work, "one", urls[:1], settings["health"])
        result["n_clusters"] = measure(work, "many", urls[1:], settings["health"])
    finally:
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda d: stop_cluster(python, d), dirs))
    for phase in ("deploy", "noop", "update"):
        result["ratio_" + phase] = round(result["n_clusters"][phase] / result["one_cluster"][phase], 2)
    result["goal_met"] = result["ratio_deploy"] <= GOAL_RATIO
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--profile", choices=["marathon", "fast", "both"], default="both")
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, summaries)")
    args = parser.parse_args()
    if args.clusters < 2:
        parser.error("--clusters must be at least 2")

    work = tempfile.mkdtemp(prefix="rollout-bench.")
    # PostgreSQL runs as the unprivileged postgres user and must reach its volume below here.
    os.chmod(work, 0o755)
    result = {"clusters": args.clusters, "cpus": os.cpu_count(), "goal_ratio": GOAL_RATIO,
              "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    ok = False
    try:
        profiles = ["marathon", "fast"] if args.profile == "both" else [args.profile]
        for profile in profiles:
            result[profile] = run_profile(sys.executable, work, profile, args.clusters)
        # Flat keys for bench/report.py: the first profile run (Marathon's own speed by default).
        head = result[profiles[0]]
        result["headline_profile"] = profiles[0]
        result["one_cluster_s"] = head["one_cluster"]
        result["n_clusters_s"] = head["n_clusters"]
        for key in ("ratio_deploy", "ratio_noop", "ratio_update", "goal_met"):
            result[key] = head[key]
        ok = True
    finally:
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        if args.keep or not ok:
            result["work_dir"] = work
        else:
            shutil.rmtree(work, ignore_errors=True)
        text = json.dumps(result, indent=2, sort_keys=True)
        print(text)
        if args.out:
            with open(args.out, "w") as handle:
                handle.write(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
