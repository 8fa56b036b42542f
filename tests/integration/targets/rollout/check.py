# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Assertions and helpers for the rollout target (runme.sh), against real localmarathon servers.

  check.py writes DATA_DIR                      state-changing requests in DATA_DIR/requests.jsonl
  check.py first-write DATA_DIR                 epoch time of the first write (or "none")
  check.py app URL APP_ID FIELD                 print one field of GET /v2/apps/APP_ID (JSON)
  check.py fault URL JSON | clear-faults URL    admin fault API
  check.py clear-faults-when-reverted URL APP_ID LABEL VALUE TIMEOUT
      wait until the app carried LABEL=VALUE and then no longer does (it was rolled back),
      then clear the faults: the bad version is unhealthy, the one before it is not
  check.py summary JSON CLUSTER=STATUS[,version=...|healthy=H/N|rolled_back=yes] ...
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request


def fail(msg):
    sys.stderr.write("check.py: FAILED: %s\n" % msg)
    sys.exit(1)


def http(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, raw.decode("utf-8", "replace")


def requests_log(data_dir):
    out = []
    with open("%s/requests.jsonl" % data_dir) as handle:
        for line in handle:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def writes(data_dir):
    return [r for r in requests_log(data_dir) if r.get("write") and not r.get("admin")]


def get_app(url, app_id):
    status, body = http("GET", url.rstrip("/") + "/v2/apps/" + app_id.strip("/"))
    if status != 200:
        fail("GET app %s on %s: %s %s" % (app_id, url, status, body))
    return body["app"]


def cmd_writes(data_dir):
    print(len(writes(data_dir)))


def cmd_first_write(data_dir):
    w = writes(data_dir)
    print(min(r["time"] for r in w) if w else "none")


def cmd_app(url, app_id, field):
    value = get_app(url, app_id)
    for part in field.split("."):
        value = value[int(part)] if isinstance(value, list) else value.get(part)
    print(json.dumps(value, sort_keys=True))


def cmd_fault(url, spec):
    status, body = http("POST", url.rstrip("/") + "/_localmarathon/faults", json.loads(spec))
    if status not in (200, 201):
        fail("adding fault %s: %s %s" % (spec, status, body))


def cmd_clear_faults(url):
    status, body = http("DELETE", url.rstrip("/") + "/_localmarathon/faults")
    if status not in (200, 204):
        fail("clearing faults: %s %s" % (status, body))


def cmd_clear_faults_when_reverted(url, app_id, label, value, timeout):
    deadline = time.monotonic() + float(timeout)
    seen = False
    while time.monotonic() < deadline:
        try:
            labels = get_app(url, app_id).get("labels") or {}
        except SystemExit:
            labels = {}
        if labels.get(label) == value:
            seen = True
        elif seen:
            cmd_clear_faults(url)
            print("faults cleared after the rollback of %s" % app_id)
            return
        time.sleep(0.2)
    fail("no rollback of %s seen within %s s (label %s=%s seen: %s)" % (app_id, timeout, label, value, seen))


def cmd_summary(path, *expectations):
    with open(path) as handle:
        summary = json.load(handle)
    rows = dict((row["cluster"], row) for row in summary["clusters"])
    for exp in expectations:
        cluster, _eq, rest = exp.partition("=")
        parts = rest.split(",")
        row = rows.get(cluster)
        if row is None:
            fail("%s: no row for cluster %s (rows: %s)" % (path, cluster, sorted(rows)))
        if row["status"] != parts[0]:
            fail("%s: cluster %s is %r, expected %r (row: %s)" % (path, cluster, row["status"], parts[0], row))
        for part in parts[1:]:
            key, _eq, want = part.partition("=")
            got = row.get({"healthy": "healthy_instances"}.get(key, key))
            if key == "version" and want == "set":
                if not got:
                    fail("%s: cluster %s has no version (row: %s)" % (path, cluster, row))
            elif str(got) != want:
                fail("%s: cluster %s has %s=%r, expected %r" % (path, cluster, key, got, want))
        if not isinstance(row.get("duration_s"), (int, float)) and row["status"] != "not reached":
            fail("%s: cluster %s has no duration" % (path, cluster))
    if len(rows) != len(expectations):
        fail("%s: %d rows, expected %d" % (path, len(rows), len(expectations)))


COMMANDS = {
    "writes": cmd_writes,
    "first-write": cmd_first_write,
    "app": cmd_app,
    "fault": cmd_fault,
    "clear-faults": cmd_clear_faults,
    "clear-faults-when-reverted": cmd_clear_faults_when_reverted,
    "summary": cmd_summary,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
