#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Turn the raw benchmark JSON into bench/results.json, bench/results.md and bench/results.png.

  .venv/bin/python bench/report.py --bench RAW/bench.json [--localmarathon RAW/lm-1.json ...]
      [--rollout RAW/rollout.json] [--runtime SECONDS] [--out-dir bench]

Every goal is judged here from the measured numbers; where one is missed the text says by how
much and what the measurements say about why.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "localmarathon"))

from localmarathon.testing import describe_provenance  # noqa: E402

GOAL_WAIT_P50 = 0.25
GOAL_OVERHEAD = 1.2
GOAL_CLUSTERS = 1.5
STATE_ORDER = ("create", "no-change", "stopped", "stopped again", "started", "restarted", "absent", "absent again")
ROLE_STEP_ORDER = ("create", "no-change", "stopped", "stopped again", "started", "started again", "present again")


def load(path):
    return json.loads(Path(path).read_text()) if path else None


def med(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 4) if values else None


def fmt(v, unit="", digits=3):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        v = round(v, digits)
        if v == int(v) and unit == "":
            v = int(v)
    return "%s%s" % (v, unit)


def mark(ok):
    return "met" if ok else "**missed**"


def merge_localmarathon(runs):
    """Medians over repeated runs of bench/localmarathon_bench.py."""
    if not runs:
        return None
    pg = [r.get("postgres") or {} for r in runs]
    out = {
        "runs": len(runs),
        "get_app_ms_p50": med([r["get_app_ms"]["p50"] for r in runs]),
        "get_app_ms_p95": med([r["get_app_ms"]["p95"] for r in runs]),
        "cmd_post_to_running_s": med([r["cmd_post_to_running_s"]["median"] for r in runs]),
        "cmd_post_to_running_max_s": max(r["cmd_post_to_running_s"]["max"] for r in runs),
        "pg_post_to_running_s": med([p.get("post_to_running_s") for p in pg]),
        "pg_post_to_accepting_s": med([p.get("post_to_accepting_s") for p in pg]),
        "pg_post_to_healthy_s": med([p.get("post_to_healthy_s") for p in pg]),
        "pg_health_interval_s": pg[0].get("health_interval_s"),
        "pg_time_scale": pg[0].get("time_scale"),
        "pg_within_goal": all(p.get("within_goal") for p in pg) if all("within_goal" in p for p in pg) else None,
        "pg_skipped": [p["skipped"] for p in pg if "skipped" in p],
        "raw": runs,
    }
    return out


def rollout_profiles(rollout):
    """[(name, {"one_cluster", "n_clusters", "ratio_*", "time_scale", "health"})] from bench/rollout_bench.py,
    which writes one block per profile (marathon, fast) or, in older output, one flat block."""
    if not rollout:
        return []
    named = [(k, rollout[k]) for k in ("marathon", "fast") if isinstance(rollout.get(k), dict) and "one_cluster" in rollout[k]]
    if named:
        return named
    if "one_cluster_s" in rollout:
        return [("default", {"one_cluster": rollout["one_cluster_s"], "n_clusters": rollout["n_clusters_s"],
                             "time_scale": rollout.get("time_scale"),
                             **{k: v for k, v in rollout.items() if k.startswith("ratio_")}})]
    return []


def role_steps(role):
    """[(step, figures)] of the role section in life-cycle order."""
    per_step = role["per_step"]
    order = role.get("steps") or ROLE_STEP_ORDER
    return [(step, per_step[step]) for step in order if step in per_step]


def role_reruns(role):
    """The role's reruns (steps that find the app as they want it), each with whether it was one module
    call that sent 1 GET, no write, and reported no change."""
    reruns = set(role.get("reruns") or ())
    return [(step, d, d["module_calls"] == 1 and d["gets"] == 1 and d["requests"] == 1 and d["writes"] == 0
             and not d["changed"])
            for step, d in role_steps(role) if step in reruns]


def judge(b, lm, rollout):
    """The goals, each with its measured value and verdict."""
    s = b["sections"]
    goals = []
    nc = (s.get("states") or {}).get("per_state", {}).get("no-change")
    if nc:
        ok = nc["gets"] == 1 and nc["requests"] == 1 and nc["writes"] == 0
        goals.append({"goal": "no-change task = 1 GET, 0 writes", "measured": "%s GET, %s requests, %s writes (median of %d)"
                      % (fmt(nc["gets"]), fmt(nc["requests"]), fmt(nc["writes"]), len(nc["samples"]["requests"])),
                      "met": ok})
    role = s.get("role")
    if role:
        reruns = role_reruns(role)
        goals.append({"goal": "stateful_postgres no-change rerun = 1 module call, 1 GET, 0 writes per cluster",
                      "measured": "%s (module calls / requests / GETs / writes; median of %d)" % (
                          "; ".join("%s %s / %s / %s / %s" % (step, fmt(d["module_calls"]), fmt(d["requests"]),
                                                             fmt(d["gets"]), fmt(d["writes"])) for step, d, _ in reruns)
                          or "no rerun measured", role["cycles"]),
                      "met": bool(reruns) and all(ok for _, _, ok in reruns)})
    mab = b.get("marathon_app_bench") or {}
    login = (mab.get("requests_per_nochange") or {}).get("dcos_user_login")
    if login:
        goals.append({"goal": "no-change task with a DC/OS user login = 1 login + 1 GET",
                      "measured": "%s requests, %s login per task (median of %s; bench/marathon_app_bench.py)"
                      % (fmt(login["median"]), fmt(login["logins_per_task"]), login["samples"]),
                      "met": login["median"] == 2 and login["logins_per_task"] == 1 and login["max"] == 2})
    w = s.get("wait")
    if w and w.get("p50") is not None:
        goals.append({"goal": "wait latency p50 <= %.2f s" % GOAL_WAIT_P50,
                      "measured": "p50 %.3f s, p95 %.3f s (n=%d)" % (w["p50"], w["p95"], w["n"]),
                      "met": w["p50"] <= GOAL_WAIT_P50})
    o = s.get("overhead")
    if o:
        goals.append({"goal": "no-change marathon_app <= %.1fx uri GET" % GOAL_OVERHEAD,
                      "measured": "%.2fx (%.3f s vs %.3f s)" % (o["ratio_vs_uri"], o["marathon_app"]["median_s"],
                                                               o["uri"]["median_s"]),
                      "met": o["ratio_vs_uri"] <= GOAL_OVERHEAD})
    c = s.get("scale_clusters")
    if c and "ratio_playbook" in c and "10" in c:
        goals.append({"goal": "10 clusters <= %.1fx one cluster (no-change playbook)" % GOAL_CLUSTERS,
                      "measured": "%.2fx (medians of %d interleaved runs: %.2f s vs %.2f s)"
                      % (c["ratio_playbook"], len(c.get("samples_ratio_playbook", [])) or 1, c["10"]["playbook_s"],
                         c["1"]["playbook_s"]),
                      "met": c["ratio_playbook"] <= GOAL_CLUSTERS})
    g = s.get("groups")
    if g and "ratio_group_task" in g:
        sizes = sorted(int(k) for k in g if k.isdigit())
        top = g[str(sizes[-1])]["group"]
        goals.append({"goal": "marathon_group, %d unchanged apps in one task <= %.1fx one app, 1 GET"
                      % (sizes[-1], g["goal_ratio"]),
                      "measured": "%.2fx (%.3f s vs %.3f s), %s GET, %s writes" % (
                          g["ratio_group_task"], top["task_s"], g[str(sizes[0])]["group"]["task_s"], fmt(top["gets"]),
                          fmt(top["writes"])),
                      "met": g["ratio_group_task"] <= g["goal_ratio"] and top["gets"] == 1 and top["writes"] == 0})
    f = s.get("role_fanout")
    if f:
        for n in sorted((k for k in f if k.isdigit()), key=int):
            row = f[n]
            goals.append({"goal": "stateful_postgres no-change rollout on %s cluster(s) <= %.1fx a uri GET per cluster"
                          % (n, f["goal_ratio"]),
                          "measured": "%.2fx (%.2f s vs %.2f s; CPU %.2f s vs %.2f s per cluster)" % (
                              row["ratio_role_to_uri"], row["role"]["playbook_s"], row["uri"]["playbook_s"],
                              row["role"]["cpu_s_per_cluster"], row["uri"]["cpu_s_per_cluster"]),
                          "met": row["ratio_role_to_uri"] <= f["goal_ratio"]})
    for name, prof in rollout_profiles(rollout):
        n = rollout.get("clusters")
        goals.append({"goal": "rollout.yml deploy on %s clusters <= %.1fx one cluster (PostgreSQL, %s profile)"
                      % (n, GOAL_CLUSTERS, name),
                      "measured": "%.2fx (%.1f s vs %.1f s)" % (prof["ratio_deploy"], prof["n_clusters"]["deploy"],
                                                               prof["one_cluster"]["deploy"]),
                      "met": prof["ratio_deploy"] <= GOAL_CLUSTERS})
    if lm:
        goals.append({"goal": "localmarathon GET /v2/apps/{id} p50 < 5 ms", "measured": "%s ms" % fmt(lm["get_app_ms_p50"]),
                      "met": lm["get_app_ms_p50"] is not None and lm["get_app_ms_p50"] < 5})
        goals.append({"goal": "localmarathon cmd app POST -> TASK_RUNNING < 0.5 s",
                      "measured": "%s s" % fmt(lm["cmd_post_to_running_s"]),
                      "met": lm["cmd_post_to_running_s"] is not None and lm["cmd_post_to_running_s"] < 0.5})
        if lm["pg_post_to_healthy_s"] is not None:
            goals.append({"goal": "localmarathon postgres POST -> healthy within PostgreSQL's start + one health interval",
                          "measured": "%s s (accepting after %s s, interval %s s)" % (
                              fmt(lm["pg_post_to_healthy_s"]), fmt(lm["pg_post_to_accepting_s"]), fmt(lm["pg_health_interval_s"])),
                          "met": bool(lm["pg_within_goal"])})
    return goals


def why_missed(b, lm, rollout):
    """Measured explanations for each missed goal (numbers from this run)."""
    s = b["sections"]
    cpus = b.get("cpus") or 1
    notes = []
    w = s.get("wait")
    if w and w.get("p50") is not None and w["p50"] > GOAL_WAIT_P50:
        notes.append(
            "**Wait latency** p50 %.3f s is %.3f s over the %.2f s goal. Split at the module's last request "
            "(logged by localmarathon when answered): the module noticed the finished deployment after p50 %.3f s "
            "(its poll interval grows 50 ms -> 200 ms), and the remaining p50 %.3f s passed between that last answer "
            "and the controller receiving the result (the module process exiting and Ansible handling the result, "
            "on a machine with load average %s on %d cores)."
            % (w["p50"], w["p50"] - GOAL_WAIT_P50, GOAL_WAIT_P50, w.get("noticed_p50") or 0, w.get("after_last_request_p50") or 0,
               "/".join("%.1f" % x for x in b.get("load_before", [])), cpus))
    o = s.get("overhead")
    if o and o["ratio_vs_uri"] > GOAL_OVERHEAD:
        prof = o.get("profile", {})
        notes.append(
            "**Overhead** %.2fx the uri GET is %.0f%% over the %.1fx goal. Both tasks send one GET; the difference "
            "is start-up: in a fresh interpreter the imports marathon_app needs take %.3f s against %.3f s for uri's "
            "(requests alone %.3f s, ansible.module_utils.basic %.3f s)."
            % (o["ratio_vs_uri"], (o["ratio_vs_uri"] / GOAL_OVERHEAD - 1) * 100, GOAL_OVERHEAD,
               prof.get("marathon_app_imports_s", 0), prof.get("uri_imports_s", 0), prof.get("requests_s", 0),
               prof.get("ansible_basic_s", 0)))
    c = s.get("scale_clusters")
    if c and c.get("ratio_playbook", 0) > GOAL_CLUSTERS and "10" in c:
        ten, one = c["10"], c["1"]
        text = ("**10 clusters** took %.2fx one cluster (medians %.2f s vs %.2f s), %.0f%% over the %.1fx goal. Not Marathon: "
                "the requests grow exactly with the clusters (%s vs %s GETs) and each is answered in milliseconds. "
                "The controller is the limit: "
                % (c["ratio_playbook"], ten["playbook_s"], one["playbook_s"], (c["ratio_playbook"] / GOAL_CLUSTERS - 1) * 100,
                   GOAL_CLUSTERS, fmt(ten["requests"]), fmt(one["requests"])))
        if ten.get("start_spread_s") is not None:
            text += ("ansible-playbook starts the ten hosts' tasks within %.2f s of each other, and then each host's "
                     "task takes %.2f s (median) instead of %.2f s alone: ten module processes compete for the cores. "
                     % (ten["start_spread_s"], ten.get("median_host_task_s") or 0, one.get("median_host_task_s") or 0))
        if ten.get("cpu_s") and one.get("cpu_s"):
            extra = (ten["cpu_s"] - one["cpu_s"]) / 9.0
            floor = ten["cpu_s"] / cpus / one["playbook_s"]
            text += ("Each further cluster costs %.2f CPU-seconds on the controller (a fork and a module process). The "
                     "10-cluster run needs %.2f CPU-seconds in all, at least %.2f s on %d cores: %.2fx the one-cluster "
                     "playbook from CPU alone%s. "
                     % (extra, ten["cpu_s"], ten["cpu_s"] / cpus, cpus, floor,
                        (", so on this machine 1.5x is out of reach (the CPU alone would fit in 1.5x with about %.1f free "
                         "cores)" % (ten["cpu_s"] / (GOAL_CLUSTERS * one["playbook_s"])))
                        if floor > GOAL_CLUSTERS else
                        (", which leaves little of the goal's margin for the processes competing for the cores"
                         if floor > 1.2 else "")))
        if c.get("uri") and c.get("ping") and "10" in c["uri"]["cpu_s"]:
            text += ("Ansible's own modules fan out the same way: a uri GET of the app on 10 clusters took %.2fx one "
                     "cluster and ping %.2fx (%.2f and %.2f CPU-seconds per extra cluster), so the cost is Ansible's "
                     "per-host task, not marathon_app's requests. "
                     % (c["uri"]["ratio_playbook"], c["ping"]["ratio_playbook"],
                        (c["uri"]["cpu_s"]["10"] - c["uri"]["cpu_s"]["1"]) / 9.0,
                        (c["ping"]["cpu_s"]["10"] - c["ping"]["cpu_s"]["1"]) / 9.0))
        pl = c.get("pipelining")
        if pl and "10" in pl["cpu_s"]:
            helps = pl["ratio_playbook"] < 0.85 * c["ratio_playbook"]
            text += ("With Ansible's pipelining (no temporary module files per task) the same fan-out took %.2fx "
                     "(%.2f CPU-seconds per extra cluster)%s. "
                     % (pl["ratio_playbook"], (pl["cpu_s"]["10"] - pl["cpu_s"]["1"]) / 9.0,
                        ", which helps" if helps else ": the temporary files are not where the time goes"))
        text += "Single repetitions gave %s." % ", ".join("%.2fx" % x for x in c.get("samples_ratio_playbook", []))
        if one.get("cpu_s") and one["cpu_s"] / one["playbook_s"] < 0.6:
            text += (" The one-cluster runs used %.2f CPU-seconds in %.2f s of wall time (%.0f%% of one core): other "
                     "work on the machine slowed the base of the ratio too, which makes the ratio look smaller than "
                     "the controller's own cost." % (one["cpu_s"], one["playbook_s"], 100 * one["cpu_s"] / one["playbook_s"]))
        notes.append(text)
    for name, prof in rollout_profiles(rollout):
        if prof["ratio_deploy"] <= GOAL_CLUSTERS:
            continue
        one, many = prof["one_cluster"], prof["n_clusters"]
        text = ("**rollout.yml on %s clusters (%s profile)** took %.2fx one cluster for the first deploy, %.0f%% over "
                "the goal." % (rollout.get("clusters"), name, prof["ratio_deploy"],
                               (prof["ratio_deploy"] / GOAL_CLUSTERS - 1) * 100))
        if one.get("deploy_cpu") and many.get("deploy_cpu"):
            text += (" The controller used %.1f CPU-seconds for %s clusters against %.1f for one (the role runs several "
                     "tasks per cluster, each a module process), at least %.1f s of wall time on %d cores, while the "
                     "one-cluster deploy took %.1f s; the PostgreSQL servers (initdb, start) share the same cores."
                     % (many["deploy_cpu"], rollout.get("clusters"), one["deploy_cpu"], many["deploy_cpu"] / cpus, cpus,
                        one["deploy"]))
        notes.append(text)
    nc = (s.get("states") or {}).get("per_state", {}).get("no-change")
    if nc and not (nc["gets"] == 1 and nc["requests"] == 1 and nc["writes"] == 0):
        notes.append("**No-change requests**: %s requests (%s writes) instead of 1 GET: %s"
                     % (nc["requests"], nc["writes"], nc["samples"]["methods"][0]))
    role = s.get("role")
    if role:
        for step, d, ok in role_reruns(role):
            if not ok:
                notes.append("**stateful_postgres %s** (a rerun that has nothing to change): %s module calls (%s) sent "
                             "%s requests (%s writes)%s instead of one call, 1 GET and no change: %s"
                             % (step, fmt(d["module_calls"]), ", ".join(short_module(m) for m in d["samples"]["modules"][0]),
                                fmt(d["requests"]), fmt(d["writes"]), " and reported a change" if d["changed"] else "",
                                compact_requests(d["samples"]["methods"][0])))
    f = s.get("role_fanout")
    for n in sorted((k for k in (f or {}) if k.isdigit()), key=int):
        row = f[n]
        if row["ratio_role_to_uri"] > f["goal_ratio"] and "tasks_per_cluster" in row["role"]:
            notes.append("The role's no-change rollout on %s cluster(s) took %.2fx the uri fan-out, %.0f%% over the %.1fx "
                         "goal, with the same requests (%s per cluster, one module call). The difference is Ansible's "
                         "per-task cost: the role runs %s tasks per cluster (checks, rendering, the module call, "
                         "showing the tasks) against uri's one, and costs %.2f CPU-seconds per cluster against %.2f."
                         % (n, row["ratio_role_to_uri"], 100 * (row["ratio_role_to_uri"] / f["goal_ratio"] - 1),
                            f["goal_ratio"], fmt(row["role"]["requests_per_cluster"]), fmt(row["role"]["tasks_per_cluster"]),
                            row["role"]["cpu_s_per_cluster"], row["uri"]["cpu_s_per_cluster"]))
    return notes


def short_module(action):
    return action.rsplit(".", 1)[-1]


def compact_requests(methods):
    """Consecutive repeats as one entry with a count: a wait's polls stay readable."""
    out = []
    for m in methods:
        if out and out[-1][0] == m:
            out[-1][1] += 1
        else:
            out.append([m, 1])
    return ", ".join(m if n == 1 else "%s x%d" % (m, n) for m, n in out) or "none"


def where_time_goes(b):
    """Measured splits that explain the figures, whether or not a goal is missed."""
    s = b["sections"]
    cpus = b.get("cpus") or 1
    out = []
    o = s.get("overhead")
    if o and o["marathon_app"].get("before_request_s") is not None and o["uri"].get("before_request_s") is not None:
        m, u, pg = o["marathon_app"], o["uri"], o["ping"]
        out.append(
            "A no-change task is Ansible's per-task cost plus one GET: ping (no HTTP at all) takes %.3f s; "
            "marathon_app sends its GET %.3f s after the task starts (uri: %.3f s) and the controller has the result "
            "%.3f s after the answer (uri: %.3f s). The GET itself takes milliseconds (section 7). The start-up "
            "difference is imports: %.3f s for marathon_app's (requests, the collection's module_utils) against %.3f s "
            "for uri's in a fresh interpreter."
            % (pg["median_s"], m["before_request_s"], u["before_request_s"], m["after_request_s"], u["after_request_s"],
               o["profile"].get("marathon_app_imports_s", 0), o["profile"].get("uri_imports_s", 0)))
    w = s.get("wait")
    if w and w.get("noticed_p50") is not None:
        text = ("Wait latency: the module sees the finished deployment after p50 %.3f s (its poll interval grows from "
                "50 ms to 200 ms); p50 %.3f s more pass between its last answer and the controller receiving the "
                "result (the module process exiting, Ansible removing the temporary module directory and handing the "
                "result to the controller)."
                % (w["noticed_p50"], w["after_last_request_p50"]))
        pl = w.get("pipelining")
        if pl and pl.get("p50") is not None:
            text += (" With pipelining (no temporary directory) that second part is p50 %.3f s and the whole "
                     "latency p50 %.3f s%s."
                     % (pl["after_last_request_p50"], pl["p50"],
                        ", so the temporary directory is not where that time goes"
                        if pl["after_last_request_p50"] >= 0.8 * w["after_last_request_p50"] else ""))
        out.append(text)
    c = s.get("scale_clusters")
    if c and "10" in c and c["1"].get("cpu_s") and c.get("ratio_playbook", 0) <= GOAL_CLUSTERS:
        ten, one = c["10"], c["1"]
        out.append(
            "Clusters: requests grow exactly with the clusters (%s vs %s) and each cluster answers in milliseconds, "
            "so more clusters cost controller CPU, not waiting: %.2f CPU-seconds for 10 clusters against %.2f for "
            "one (%.2f per extra cluster: a fork and a module process each). On %d cores the 10-cluster run cannot "
            "take less than %.2f s of the %.2f s it took; the rest is ansible-playbook's own start-up and play set-up, "
            "paid once, which is what keeps the ratio low."
            % (fmt(ten["requests"]), fmt(one["requests"]), ten["cpu_s"], one["cpu_s"], (ten["cpu_s"] - one["cpu_s"]) / 9.0,
               cpus, ten["cpu_bound_floor_s"], ten["playbook_s"]))
    sa = s.get("scale_apps")
    if sa and "1" in sa and sa["1"].get("cpu_s") and len([k for k in sa if k.isdigit()]) > 1:
        big = max((k for k in sa if k.isdigit()), key=int)
        out.append(
            "Apps: a loop runs one module process per app, one after the other, so %s apps cost %.2f CPU-seconds and "
            "%.2f s per app; the requests stay at one GET per app."
            % (big, sa[big]["cpu_s"], sa[big]["per_app_s"]))
    if b.get("load_before"):
        out.append("The machine was shared: load average %s on %d cores when the run started, so absolute times are "
                   "higher than on an idle machine; the ratios compare tasks measured side by side."
                   % ("/".join("%.1f" % x for x in b["load_before"]), cpus))
    return out


def first_use_note(s):
    o = s.get("overhead") or {}
    m, u = o.get("marathon_app") or {}, o.get("uri") or {}
    if m.get("first_task_s") is None or u.get("first_task_s") is None:
        return ""
    return (" (section 4's warm-up round: marathon_app %.3f s against %.3f s later, uri %.3f s against %.3f s)"
            % (m["first_task_s"], m["median_s"], u["first_task_s"], u["median_s"]))


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(out)


def markdown(b, lm, rollout, runtime, goals, notes):
    s = b["sections"]
    cpus = b.get("cpus")
    md = ["# Benchmarks", "",
          "Generated by `make bench` (bench/run.sh) on localmarathon: real `ansible-playbook` runs, real HTTP on "
          "127.0.0.1, tasks are real processes. Each figure is the median of %d runs unless stated; ratios compare "
          "tasks of the same run. Machine: %s CPU cores, load average %s before and %s after (other work shared "
          "the machine). Run started %s%s."
          % (b.get("repeat"), cpus, "/".join("%.1f" % x for x in b.get("load_before", [])),
             "/".join("%.1f" % x for x in b.get("load_after", [])), b.get("started"),
             ("; `make bench` took %.0f s" % runtime) if runtime else ""),
          "", "Produced by: %s." % describe_provenance(b.get("provenance") or {}),
          "", "## Goals", ""]
    md.append(table(["goal", "measured", "verdict"], [[g["goal"], g["measured"], mark(g["met"])] for g in goals]))
    if notes:
        md += ["", "### Missed goals: by how much and why", ""]
        md += ["- " + n for n in notes]

    where = where_time_goes(b)
    if where:
        md += ["", "### Where the time goes (this run)", ""] + ["- " + x for x in where]

    st = s.get("states")
    if st:
        md += ["", "## 1. Requests per marathon_app task, by state", "",
               "A resident `cmd` app (one instance on a local persistent volume, like the PostgreSQL app) through "
               "its whole life cycle, %d cycles in one play; requests counted from localmarathon's requests.jsonl "
               "between the task's start and its result." % st["cycles"], ""]
        rows = []
        for name in STATE_ORDER:
            d = st["per_state"].get(name)
            if not d:
                continue
            methods = d["samples"]["methods"][0] if d["samples"]["methods"] else []
            rows.append([name, fmt(d["requests"]), fmt(d["gets"]), fmt(d["writes"]), "yes" if d["changed"] else "no",
                         fmt(d["seconds"], " s"), ", ".join(methods)])
        md.append(table(["state", "requests", "GETs", "writes", "changed", "task time", "requests of the first cycle"], rows))

    role = s.get("role")
    if role:
        v = role.get("vars", {})
        md += ["", "## 2. Requests per cluster of the stateful_postgres role, by step", "",
               "The role `dcos.marathon.stateful_postgres` (real PostgreSQL, app %s: %s MB, a %s MB volume, TCP health "
               "check every %s s) through a life cycle on one localmarathon, one `ansible-playbook` run per step "
               "(`include_role` with the step's `stateful_postgres_state`), %d cycle(s). Module calls are the "
               "collection's task results in the run; requests are every request localmarathon logged during the "
               "run, which is all the role sent to the cluster. Role time: its first task started -> its last "
               "result; playbook wall includes ansible-playbook's start-up."
               % (role["app_id"], fmt(v.get("stateful_postgres_mem")), fmt(v.get("stateful_postgres_volume_size")),
                  fmt(v.get("stateful_postgres_health_interval")), role["cycles"]), ""]
        rows = []
        for step, d in role_steps(role):
            smp = d["samples"]
            rows.append([step, d["state"], fmt(d["module_calls"]), fmt(d["requests"]), fmt(d["gets"]), fmt(d["writes"]),
                         "yes" if d["changed"] else "no", fmt(d["seconds"], " s"), fmt(d["playbook_s"], " s"),
                         ", ".join(short_module(m) for m in smp["modules"][0]) if smp["modules"] else "",
                         compact_requests(smp["methods"][0]) if smp["methods"] else ""])
        md.append(table(["step", "state", "module calls", "requests", "GETs", "writes", "changed", "role time",
                         "playbook wall", "modules called", "requests of the first cycle"], rows))

    w = s.get("wait")
    if w:
        md += ["", "## 3. Wait latency", "",
               "From localmarathon finishing a deployment (the `timestamp` of its `deployment_success` event) to the "
               "controller receiving the task's result; every task of sections 1 and 3 that caused a deployment "
               "(%d samples: life cycle tasks and label changes of a running `cmd` app)." % w["n"], "",
               table(["", "p50", "p95", "max"], [
                   ["deployment finished -> task result (goal p50 <= %.2f s)" % GOAL_WAIT_P50, fmt(w["p50"], " s"),
                    fmt(w["p95"], " s"), fmt(w["max"], " s")],
                   ["deployment finished -> module's last request answered", fmt(w.get("noticed_p50"), " s"),
                    fmt(w.get("noticed_p95"), " s"), ""],
                   ["last request answered -> task result (module exit, Ansible)", fmt(w.get("after_last_request_p50"), " s"),
                    fmt(w.get("after_last_request_p95"), " s"), ""]])]
        pl = w.get("pipelining")
        if pl and pl.get("n"):
            md += ["", "The same label changes with `ANSIBLE_PIPELINING=True` (%d samples; the module is piped to the "
                   "interpreter instead of being written to a temporary directory that Ansible creates and removes "
                   "around each task):" % pl["n"], "",
                   table(["", "p50", "p95", "max"], [
                       ["deployment finished -> task result", fmt(pl["p50"], " s"), fmt(pl["p95"], " s"), fmt(pl["max"], " s")],
                       ["deployment finished -> module's last request answered", fmt(pl.get("noticed_p50"), " s"),
                        fmt(pl.get("noticed_p95"), " s"), ""],
                       ["last request answered -> task result", fmt(pl.get("after_last_request_p50"), " s"),
                        fmt(pl.get("after_last_request_p95"), " s"), ""]])]
        if w.get("missing_events"):
            md.append("\n%d deployments had no deployment_success event in the stream." % w["missing_events"])

    o = s.get("overhead")
    if o:
        md += ["", "## 4. Per-task overhead", "",
               "One play, %d interleaved rounds after a warm-up round: marathon_app with an unchanged definition, "
               "`ansible.builtin.uri` GET of the same app, `ansible.builtin.ping`. Time from the controller starting "
               "the task to receiving its result (callback bench/callback_plugins/bench_timing.py)." % o["rounds"], "",
               table(["task", "median", "p95", "requests", "writes", "start -> GET sent", "GET answered -> result"], [
                   [k, fmt(o[k]["median_s"], " s"), fmt(o[k]["p95_s"], " s"), fmt(o[k]["requests"]), fmt(o[k]["writes"]),
                    fmt(o[k].get("before_request_s"), " s"), fmt(o[k].get("after_request_s"), " s")]
                   for k in ("marathon_app", "uri", "ping")]),
               "",
               "Median of per-round ratios: marathon_app / uri = **%.2fx** (goal <= %.1fx); marathon_app / ping = %.2fx; "
               "uri / ping = %.2fx." % (o["ratio_vs_uri"], GOAL_OVERHEAD, o["ratio_vs_ping"], o["uri_vs_ping"])]
        prof = o.get("profile")
        if prof:
            md += ["", "Import cost in a fresh interpreter (median of 5; what each module process pays before its "
                   "first request): " + ", ".join("%s %s s" % (k[:-2].replace("_", " "), fmt(v)) for k, v in sorted(prof.items())) + "."]

    sa, sc = s.get("scale_apps"), s.get("scale_clusters")
    if sa or sc:
        md += ["", "## 5. Scale", ""]
    if sa:
        keys = sorted((k for k in sa if k.isdigit()), key=int)
        md += ["No-change deploy of N `cmd` apps on one cluster (one marathon_app task looping over the apps; "
               "runs per count: %s):" % ", ".join("%s: %d" % (k, len(sa[k]["samples_task_s"])) for k in keys), "",
               table(["apps", "task time", "per app", "playbook wall", "requests", "GETs", "writes", "CPU s"], [
                   [k, fmt(sa[k]["task_s"], " s"), fmt(sa[k]["per_app_s"], " s"), fmt(sa[k]["playbook_s"], " s"),
                    fmt(sa[k]["requests"]), fmt(sa[k]["gets"]), fmt(sa[k]["writes"]), fmt(sa[k].get("cpu_s"))] for k in keys])]
        if len(keys) > 1:
            a, y, z = sa[keys[0]], sa[keys[-2]], sa[keys[-1]]
            marginal = (z["task_s"] - y["task_s"]) / (int(keys[-1]) - int(keys[-2]))
            md += ["", "Requests grow by exactly one GET per app and writes stay 0. Time grows linearly: each further "
                   "app costs %.3f s (from %s to %s apps), one module process per app, one after the other; a "
                   "1-app loop takes %.3f s, as a module's first use in a playbook run carries one-off costs%s. "
                   "%sx the apps took %.1fx the time."
                   % (marginal, keys[-2], keys[-1], a["task_s"], first_use_note(s), int(keys[-1]) // int(keys[0]),
                      z["task_s"] / a["task_s"])]
    if sc:
        keys = sorted((k for k in sc if k.isdigit()), key=int)
        md += ["", "No-change deploy of one `cmd` app on each of N clusters (N localmarathon instances, one inventory "
               "host each, forks = N):", "",
               table(["clusters", "playbook wall", "task span (first start -> last result)", "last task started after",
                      "task per host", "requests", "writes", "CPU s", "CPU floor (CPU s / cores)"], [
                   [k, fmt(sc[k]["playbook_s"], " s"), fmt(sc[k]["task_span_s"], " s"), fmt(sc[k].get("start_spread_s"), " s"),
                    fmt(sc[k].get("median_host_task_s"), " s"), fmt(sc[k]["requests"]),
                    fmt(sc[k]["writes"]), fmt(sc[k].get("cpu_s")), fmt(sc[k].get("cpu_bound_floor_s"), " s")] for k in keys]),
               "", "Ratio %s clusters / 1 cluster (medians; the cluster counts run in turn in each repetition): "
               "playbook wall %.2fx (goal <= %.1fx; single repetitions gave %s), span of the tasks %.2fx."
               % (keys[-1], sc["ratio_playbook"], GOAL_CLUSTERS,
                  ", ".join("%.2fx" % x for x in sc.get("samples_ratio_playbook", [])) or "n/a", sc["ratio_task_span"])]
        if sc.get("uri") and sc.get("ping") and "10" in sc:
            md += ["", "The same fan-out with Ansible's own modules, same runs:", "",
                   table(["task on every cluster", "1 cluster", "10 clusters", "ratio", "CPU s (1 / 10)"], [
                       ["dcos.marathon.marathon_app (no change)", fmt(sc["1"]["playbook_s"], " s"), fmt(sc["10"]["playbook_s"], " s"),
                        fmt(sc["ratio_playbook"], "x"), "%s / %s" % (fmt(sc["1"].get("cpu_s")), fmt(sc["10"].get("cpu_s")))]] + [
                       [name, fmt(sc[k]["playbook_s"]["1"], " s"), fmt(sc[k]["playbook_s"]["10"], " s"),
                        fmt(sc[k]["ratio_playbook"], "x"), "%s / %s" % (fmt(sc[k]["cpu_s"]["1"]), fmt(sc[k]["cpu_s"]["10"]))]
                       for k, name in (("pipelining", "dcos.marathon.marathon_app (no change), ANSIBLE_PIPELINING=True"),
                                       ("uri", "ansible.builtin.uri GET of the app"), ("ping", "ansible.builtin.ping"))
                       if sc.get(k)])]
    for name, prof in rollout_profiles(rollout):
        md += ["", "playbooks/rollout.yml (bench/rollout_bench.py, %s profile: the stateful_postgres role, real "
               "PostgreSQL, time scale %s, health checks %s) on 1 cluster and on %s clusters in one batch, one run each:"
               % (name, prof.get("time_scale"), prof.get("health") or "role defaults", rollout.get("clusters")), "",
               table(["phase", "1 cluster", "%s clusters" % rollout.get("clusters"), "ratio", "CPU s (1 / %s)" % rollout.get("clusters")], [
                   [ph, fmt(prof["one_cluster"][ph], " s"), fmt(prof["n_clusters"][ph], " s"), fmt(prof.get("ratio_" + ph), "x"),
                    "%s / %s" % (fmt(prof["one_cluster"].get(ph + "_cpu")), fmt(prof["n_clusters"].get(ph + "_cpu")))]
                   for ph in ("deploy", "noop", "update")])]

    if not rollout_profiles(rollout) and (sa or sc):
        md += ["", "playbooks/rollout.yml itself (the stateful_postgres role with real PostgreSQL on 1 and 10 clusters) "
               "is not part of this run: `BENCH_ROLLOUT=1 make bench` adds bench/rollout_bench.py, which takes about "
               "ten minutes on 2 cores."]

    g = s.get("groups")
    if g:
        sizes = sorted((k for k in g if k.isdigit()), key=int)
        md += ["", "## 5a. Many apps: one marathon_group task against the marathon_app loop", "",
               "The same unchanged `cmd` apps of one group, converged by one marathon_group task or by a marathon_app "
               "task looping over them; requests are those localmarathon logged during the task.", "",
               table(["apps", "group: task s", "group: GETs / writes", "loop: task s", "loop: GETs / writes",
                      "group / loop CPU s"],
                     [[n, fmt(g[n]["group"]["task_s"]), "%s / %s" % (fmt(g[n]["group"]["gets"]), fmt(g[n]["group"]["writes"])),
                       fmt(g[n]["app_loop"]["task_s"]),
                       "%s / %s" % (fmt(g[n]["app_loop"]["gets"]), fmt(g[n]["app_loop"]["writes"])),
                       "%s / %s" % (fmt(g[n]["group"]["cpu_s"]), fmt(g[n]["app_loop"]["cpu_s"]))] for n in sizes])]
    f = s.get("role_fanout")
    if f:
        counts = sorted((k for k in f if k.isdigit()), key=int)
        md += ["", "## 5b. The role's no-change rollout against a uri GET per cluster", "",
               "One host per cluster, forks = clusters; the role (real PostgreSQL, deployed once before) against "
               "`ansible.builtin.uri` GET of the same app in the same run. CPU is ansible-playbook with its forks and "
               "module processes.", "",
               table(["clusters", "role s", "uri s", "ratio", "role CPU s / cluster", "uri CPU s / cluster",
                      "role module calls / requests per cluster"],
                     [[n, fmt(f[n]["role"]["playbook_s"]), fmt(f[n]["uri"]["playbook_s"]), fmt(f[n]["ratio_role_to_uri"]),
                       fmt(f[n]["role"]["cpu_s_per_cluster"]), fmt(f[n]["uri"]["cpu_s_per_cluster"]),
                       "%s / %s" % (fmt(f[n]["role"]["module_calls_per_cluster"]),
                                    fmt(f[n]["role"]["requests_per_cluster"]))] for n in counts])]

    alt = s.get("alternative")
    if alt:
        o_, u = alt["ours"], alt["uri_put"]
        md += ["", "## 6. The common alternative: PUT the app JSON with ansible.builtin.uri on every run", "",
               "%d reruns of an unchanged `cmd` app (port definition, env, labels) after it was created; per rerun:"
               % alt["reruns"], "",
               table(["", "dcos.marathon.marathon_app", "uri PUT /v2/apps/{id}"], [
                   ["writes", fmt(o_["writes_per_rerun"]), fmt(u["writes_per_rerun"])],
                   ["requests", fmt(o_["requests_per_rerun"]), fmt(u["requests_per_rerun"])],
                   ["deployments", fmt(o_["deployments_per_rerun"]), fmt(u["deployments_per_rerun"])],
                   ["task restarts", fmt(o_["task_restarts_per_rerun"]), fmt(u["task_restarts_per_rerun"])],
                   ["task ids changed over all reruns", "yes" if o_["task_ids_changed"] else "no",
                    "yes" if u["task_ids_changed"] else "no"],
                   ["reported changed", "%d of %d" % (o_["changed_reported"], alt["reruns"]),
                    "%d of %d" % (u["changed_reported"], alt["reruns"])],
                   ["median task time", fmt(o_["median_task_s"], " s"), fmt(u["median_task_s"], " s")]]),
               "",
               "Every rerun of the PUT is a write that starts a deployment (zero steps when the JSON is identical; "
               "while it runs the app is locked for other changes), and the uri task cannot say whether anything "
               "changed. marathon_app compares the normalized definitions first and sends nothing. %s"
               % ("Identical JSON restarted no task in this run." if not u["task_restarts_per_rerun"]
                  else "The PUT restarted %s tasks per rerun." % fmt(u["task_restarts_per_rerun"]))]

    mab = b.get("marathon_app_bench")
    if mab:
        rq = mab.get("requests_per_nochange", {})
        nv = mab.get("nochange_vs_uri", {})
        wl = mab.get("wait_latency", {})
        rows = []
        if rq.get("no_auth"):
            rows.append(["requests per no-change task, no auth", "%s (min %s, max %s, n=%s)" % (
                fmt(rq["no_auth"]["median"]), rq["no_auth"]["min"], rq["no_auth"]["max"], rq["no_auth"]["samples"])])
        if rq.get("dcos_user_login"):
            d = rq["dcos_user_login"]
            rows.append(["requests per no-change task, DC/OS user login (--auth dcos)", "%s (%s login; min %s, max %s, n=%s)" % (
                fmt(d["median"]), d["logins_per_task"], d["min"], d["max"], d["samples"])])
        if nv:
            rows.append(["no-change marathon_app vs uri GET (ratio of medians)", "%sx (%s s vs %s s, n=%s)" % (
                fmt(nv.get("ratio")), fmt(nv.get("marathon_app_median_s")), fmt(nv.get("uri_get_median_s")), nv.get("samples"))])
        if wl:
            rows.append(["wait latency, scale with wait_for=deployment: noticed / returned p50", "%s s / %s s (max %s s, n=%s)" % (
                fmt(wl.get("noticed_p50_s")), fmt(wl.get("returned_p50_s")), fmt(wl.get("returned_max_s")), wl.get("samples"))])
        md += ["", "### Cross-check: bench/marathon_app_bench.py", "",
               "An independent measurement written with the module (own playbooks and localmarathon at time scale 10, "
               "fewer samples), and the only one here with DC/OS authentication: with a user and password the module "
               "logs in once per task and then sends its GET. Its timing figures come from one playbook run each; "
               "on this shared machine such figures move between runs by more than the goals' margins, so the goals "
               "above are judged on sections 3 and 4, which have more samples.", "", table(["figure", "value"], rows)]

    if lm:
        md += ["", "## 7. localmarathon's own figures", "",
               "bench/localmarathon_bench.py, median of %d runs." % lm["runs"], "",
               table(["figure", "value", "goal"], [
                   ["GET /v2/apps/{id} p50 (p95)", "%s ms (%s ms)" % (fmt(lm["get_app_ms_p50"]), fmt(lm["get_app_ms_p95"])), "< 5 ms"],
                   ["cmd app POST -> TASK_RUNNING (time scale 1)", "%s s (max %s s)" % (
                       fmt(lm["cmd_post_to_running_s"]), fmt(lm["cmd_post_to_running_max_s"])), "< 0.5 s"],
                   ["postgres app POST -> TASK_RUNNING", fmt(lm["pg_post_to_running_s"], " s"), ""],
                   ["postgres app POST -> accepting TCP", fmt(lm["pg_post_to_accepting_s"], " s"), ""],
                   ["postgres app POST -> healthy (health interval %s s at time scale %s)" % (
                       fmt(lm["pg_health_interval_s"]), fmt(lm["pg_time_scale"])), fmt(lm["pg_post_to_healthy_s"], " s"),
                    "accepting + one interval"]])]
        if lm["pg_skipped"]:
            md.append("\nPostgreSQL figures skipped: %s" % lm["pg_skipped"][0])

    ff = s.get("failfast")
    if ff:
        old = ff.get("old") or {}
        md += ["", "## 8. Deployments that cannot finish: time to failure", "",
               "From the first signal that cannot recover to marathon_app's failure (the task's result on the "
               "controller): a `cmd` that exits (signal: its first `TASK_FAILED`; default "
               "`fail_after_task_failures` 3, Marathon's backoff 1 s x 1.15 between launches), and an app needing "
               "more cpus than any agent has (signal: its `POST`; every offer declined from then on; "
               "`offer_decline_grace` %s s). Before fail-fast (both off) the exiting command waits the whole "
               "`wait_timeout` (%s s here, 600 s by default)." % (fmt(ff.get("offer_decline_grace")),
                                                                  fmt(ff.get("old_wait_timeout"))), "",
               table(["case", "n", "p50", "p95", "all failed"], [
                   ["command exits, fail-fast", fmt(ff["exits"]["n"]), fmt(ff["exits"]["p50"], " s"),
                    fmt(ff["exits"]["p95"], " s"), "yes" if ff["exits"]["all_failed"] else "no"],
                   ["more cpus than any agent, fail-fast", fmt(ff["cpus"]["n"]), fmt(ff["cpus"]["p50"], " s"),
                    fmt(ff["cpus"]["p95"], " s"), "yes" if ff["cpus"]["all_failed"] else "no"],
                   ["command exits, fail-fast off: waits the whole timeout", fmt(old.get("n")),
                    fmt(old.get("p50"), " s"), fmt(old.get("p95"), " s"), "yes" if old.get("all_failed") else "no"]])]

    if b.get("section_seconds"):
        md += ["", "Section run times: " + ", ".join("%s %.0f s" % kv for kv in b["section_seconds"].items()) + "."]
    md += ["", "Raw samples: bench/results.json. Chart: bench/results.png.", ""]
    return "\n".join(md)


def chart(b, lm, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = b["sections"]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    fig.suptitle("dcos.marathon on localmarathon (%s cores; medians of %s runs)" % (b.get("cpus"), b.get("repeat")))

    ax = axes[0][0]
    st = s.get("states")
    if st:
        names = [n for n in STATE_ORDER if n in st["per_state"]]
        gets = [st["per_state"][n]["gets"] for n in names]
        writes = [st["per_state"][n]["writes"] for n in names]
        ax.bar(names, gets, label="GET")
        ax.bar(names, writes, bottom=gets, label="write")
        ax.set_ylabel("requests per task")
        ax.set_title("1. Requests per marathon_app task")
        ax.tick_params(axis="x", rotation=35)
        ax.legend()

    ax = axes[0][1]
    w = s.get("wait")
    if w:
        lat = sorted(x["latency"] for x in w["samples"] if "latency" in x)
        noticed = sorted(x["noticed"] for x in w["samples"] if "noticed" in x)
        if lat:
            ax.plot(lat, [(i + 1) / len(lat) for i in range(len(lat))], marker=".", label="to task result")
        if noticed:
            ax.plot(noticed, [(i + 1) / len(noticed) for i in range(len(noticed))], marker=".",
                    label="to module's last request")
        ax.axvline(GOAL_WAIT_P50, color="red", linestyle="--", label="goal p50 %.2f s" % GOAL_WAIT_P50)
        ax.set_xlabel("seconds after the deployment finished")
        ax.set_ylabel("fraction of deployments")
        ax.set_title("3. Wait latency (CDF)")
        ax.legend()

    ax = axes[1][0]
    o = s.get("overhead")
    alt = s.get("alternative")
    if o:
        kinds = ["marathon_app", "uri", "ping"]
        ax.bar(kinds, [o[k]["median_s"] for k in kinds], color=["C0", "C1", "C2"])
        ax.axhline(o["uri"]["median_s"] * GOAL_OVERHEAD, color="red", linestyle="--", label="goal: 1.2x uri")
        ax.set_ylabel("seconds per task (median)")
        title = "4. No-change task overhead (%.2fx uri)" % o["ratio_vs_uri"]
        if alt:
            title += "\n6. uri PUT rerun: %s writes, %s deployments; ours: %s, %s" % (
                fmt(alt["uri_put"]["writes_per_rerun"]), fmt(alt["uri_put"]["deployments_per_rerun"]),
                fmt(alt["ours"]["writes_per_rerun"]), fmt(alt["ours"]["deployments_per_rerun"]))
        ax.set_title(title, fontsize=10)
        ax.legend()

    ax = axes[1][1]
    sa, sc = s.get("scale_apps"), s.get("scale_clusters")
    # Growth relative to N=1 (same run), so that apps and clusters share one axis.
    for data, label, marker in ((sa, "N apps on 1 cluster", "o"), (sc, "N clusters, 1 app each (forks=N)", "s")):
        if not data:
            continue
        keys = sorted((k for k in data if k.isdigit()), key=int)
        base = data[keys[0]]["playbook_s"]
        xs = [int(k) for k in keys]
        ys = [data[k]["playbook_s"] / base for k in keys]
        ax.plot(xs, ys, marker=marker, label=label)
        for x, y, k in zip(xs, ys, keys):
            ax.annotate("%.1f s" % data[k]["playbook_s"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    if sc:
        for kind, marker in (("uri", "^"), ("ping", "v")):
            if sc.get(kind):
                pts = sorted(sc[kind]["playbook_s"].items(), key=lambda kv: int(kv[0]))
                base = pts[0][1]
                ax.plot([int(k) for k, _ in pts], [v / base for _, v in pts], marker=marker, linestyle=":",
                        label="N clusters, ansible.builtin.%s" % kind)
        ax.axhline(GOAL_CLUSTERS, color="red", linestyle="--", label="goal for 10 clusters: 1.5x")
    if sa or sc:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N")
        ax.set_ylabel("no-change playbook wall time / N=1")
        ax.set_title("5. Scale")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bench", required=True)
    p.add_argument("--localmarathon", nargs="*", default=[])
    p.add_argument("--rollout")
    p.add_argument("--marathon-app", help="output of bench/marathon_app_bench.py")
    p.add_argument("--runtime", type=float)
    p.add_argument("--out-dir", default=str(Path(__file__).resolve().parent))
    args = p.parse_args()
    b = load(args.bench)
    lm = merge_localmarathon([load(x) for x in args.localmarathon])
    rollout = load(args.rollout) if args.rollout and Path(args.rollout).exists() else None
    b["marathon_app_bench"] = load(args.marathon_app) if args.marathon_app and Path(args.marathon_app).exists() else None
    goals = judge(b, lm, rollout)
    notes = why_missed(b, lm, rollout)
    out = Path(args.out_dir)
    combined = {"goals": goals, "missed_notes": notes, "make_bench_seconds": args.runtime, "bench": b,
                "localmarathon": lm, "rollout": rollout}
    (out / "results.json").write_text(json.dumps(combined, indent=1, sort_keys=True) + "\n")
    (out / "results.md").write_text(markdown(b, lm, rollout, args.runtime, goals, notes))
    chart(b, lm, out / "results.png")
    for g in goals:
        print("%-70s %-45s %s" % (g["goal"], g["measured"], "met" if g["met"] else "MISSED"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
