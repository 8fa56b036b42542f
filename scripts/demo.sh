#!/usr/bin/env bash
# The DC/OS "stateful services" tutorial, done with Ansible against a local
# Marathon (localmarathon): deploy PostgreSQL on a persistent volume, write a
# row, stop the service, see the suspended task keep its volume, start it
# again and read the row back. Run by `make demo`; exits non-zero as soon as
# a step does not hold.
#
# Environment: VENV (default .venv), DEMO_TIME_SCALE (default 10: health
# check intervals and grace periods run 10 times faster than on DC/OS),
# DEMO_DIR (localmarathon's data directory; default .demo in the checkout, or a
# directory under /var/tmp when the checkout is out of the postgres user's reach).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
PLAYBOOK="$VENV/bin/ansible-playbook"
ANSIBLE="$VENV/bin/ansible"
TIME_SCALE=${DEMO_TIME_SCALE:-10}
# PostgreSQL is healthy within seconds at this time scale: a task that cannot start fails the
# demo after this long, not after the role's production default of 600 s.
WAIT_TIMEOUT=${DEMO_WAIT_TIMEOUT:-180}
APP_ID=/postgres
# Run from the repository root, the localmarathon/ project directory would
# shadow the installed localmarathon package; keep the cwd off sys.path.
export PYTHONSAFEPATH=1
# The local inventory's demo password (inventories/local/group_vars/all.yml);
# psql gets it through the environment, it is never printed.
export POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-DC/OS_ROCKS}

step=0
step() {
    step=$((step + 1))
    printf '\n\033[1m== Step %d: %s\033[0m\n' "$step" "$*"
}
say() { printf '   %s\n' "$*"; }
fail() {
    printf '\n\033[31mDEMO FAILED at step %d: %s\033[0m\n' "$step" "$*" >&2
    exit 1
}
started_here=0
on_exit() {
    local status=$?
    ((status == 0)) && return
    printf '\nThe demo stopped with exit code %d (step %d).\n' "$status" "$step" >&2
    [[ -n "${DEMO_DIR:-}" && -f "$DEMO_DIR/localmarathon.log" ]] || return
    printf 'localmarathon log: %s\n' "$DEMO_DIR/localmarathon.log" >&2
    if ((started_here)); then
        # Leave nothing running behind a failed demo; its data stays for a look.
        "$PY" -m localmarathon.ctl down --data-dir "$DEMO_DIR" >/dev/null 2>&1 &&
            printf 'Stopped the localmarathon this demo started; its data is still in %s (rm -rf it when done).\n' "$DEMO_DIR" >&2 && return
    fi
    printf 'localmarathon is still running; stop it with: PYTHONSAFEPATH=1 %s -m localmarathon.ctl down --data-dir %s\n' "$PY" "$DEMO_DIR" >&2
}
trap on_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

for tool in "$PY" "$PLAYBOOK" "$ANSIBLE"; do
    [[ -x "$tool" ]] || fail "$tool is missing; run 'make venv' (make demo does it)"
done
command -v psql >/dev/null || fail "psql is not installed (Debian/Ubuntu: apt-get install postgresql-client)"
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null ||
    fail "no PostgreSQL server under /usr/lib/postgresql/*/bin (Debian/Ubuntu: apt-get install postgresql)"
"$PY" -c 'import localmarathon' 2>/dev/null || fail "localmarathon is not installed in $VENV; run 'make venv'"

# Run as root, localmarathon starts PostgreSQL as the unprivileged 'postgres' user, which must
# reach PGDATA on the volume inside the data directory. A checkout in a directory others cannot
# enter (root's own 0700 home) is out of its reach: keep the data under /var/tmp then, rather
# than change the permissions of the user's directories.
postgres_can_reach() { # <dir>: prints why not and fails when the 'postgres' user cannot reach dir
    "$PY" - "$1" <<'PY'
import os, pwd, sys
from pathlib import Path
from localmarathon import images
if os.geteuid() != 0:
    sys.exit(0)  # the server runs as this user
try:
    pw = pwd.getpwnam("postgres")
except KeyError:
    sys.exit("there is no 'postgres' OS user to run the server as (apt-get install postgresql creates it)")
try:
    images.ensure_reachable(Path(sys.argv[1]) / "probe", pw, None, "the data directory")
except images.LaunchError as err:
    sys.exit(str(err).replace("Failed to launch container: ", "").replace(sys.argv[1] + "/probe", sys.argv[1]))
PY
}
if [[ -z "${DEMO_DIR:-}" ]]; then
    DEMO_DIR=$REPO/.demo
    if ! why=$(postgres_can_reach "$DEMO_DIR" 2>&1); then
        DEMO_DIR=/var/tmp/dcos-marathon-demo-$(printf '%s' "$REPO" | cksum | cut -d' ' -f1)
        say "the checkout is out of the postgres user's reach ($why)"
        say "so localmarathon keeps its data in $DEMO_DIR"
    fi
fi
why=$(postgres_can_reach "$DEMO_DIR" 2>&1) ||
    fail "PostgreSQL could not run on $DEMO_DIR: $why. Set DEMO_DIR to a directory below a path every user can enter."

# The task list through dcos.marathon.marathon_task_info, as JSON on stdout.
# The minimal callback prints "host | STATUS => <result>".
task_info() {
    ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=ansible.builtin.minimal ANSIBLE_CALLBACK_RESULT_FORMAT=json \
        "$ANSIBLE" localmarathon -m dcos.marathon.marathon_task_info -a "app_id=$APP_ID" 2>/dev/null |
        "$PY" -c '
import json, sys
text = sys.stdin.read()
head, sep, body = text.partition(" => ")
if not sep:
    sys.exit("marathon_task_info printed no result: %s" % text[:500])
result = json.loads(body)
if "SUCCESS" not in head or result.get("failed"):
    sys.exit("marathon_task_info failed: %s" % result.get("msg"))
json.dump({"tasks": result["tasks"], "summary": result["summary"]}, sys.stdout)
'
}

# Print the list like `dcos marathon task list`, plus the volume.
print_tasks() {
    "$PY" -c '
import json, sys
info = json.loads(sys.argv[1])
rows = [("APP", "HEALTHY", "STARTED", "HOST:PORT", "STATE", "VOLUME (persistence id)", "ID")]
for t in info["tasks"]:
    hostport = t["host"] + (":" + ",".join(str(p) for p in t["ports"]) if t["ports"] else "")
    rows.append((t["app_id"], "---" if t["healthy"] is None else str(t["healthy"]), t["started_at"] or "N/A", hostport,
                 t["state"] + (" (suspended)" if t["suspended"] else ""),
                 ",".join(v["persistence_id"] for v in t["local_volumes"]) or "-", t["id"]))
widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
for r in rows:
    print("   " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
s = info["summary"]
print("   (%d running, %d healthy, %d suspended)" % (s["running"], s["healthy"], s["suspended"]))
' "$1"
}

# field <json> <python expression over the task list "t" and summary "s">
field() {
    "$PY" -c '
import json, sys
info = json.loads(sys.argv[1])
t, s = info["tasks"], info["summary"]
print(eval(sys.argv[2]))
' "$1" "$2"
}

psql_at() {
    local hostport=$1
    shift
    PGPASSWORD=$POSTGRES_PASSWORD PGCONNECT_TIMEOUT=5 psql "host=${hostport%:*} port=${hostport#*:} user=postgres dbname=postgres" \
        -X -q -v ON_ERROR_STOP=1 -At "$@"
}

step "Start a local Marathon (localmarathon) if none is running"
if [[ -f "$DEMO_DIR/localmarathon.url" ]] && "$PY" - "$(cat "$DEMO_DIR/localmarathon.url")" <<'PY' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1].rstrip("/") + "/ping", timeout=3) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
then
    say "localmarathon is already running at $(cat "$DEMO_DIR/localmarathon.url") (data in $DEMO_DIR/)"
else
    # Other users may pass through (the postgres user must, to its PGDATA) but not list it.
    mkdir -p "$DEMO_DIR" && chmod 0711 "$DEMO_DIR"
    started_here=1
    url=$("$PY" -m localmarathon.ctl up --data-dir "$DEMO_DIR" --port 0 --agents 1 --time-scale "$TIME_SCALE" | tail -n 1) ||
        fail "localmarathon did not start; see $DEMO_DIR/localmarathon.log"
    say "started localmarathon at $url (data in $DEMO_DIR/, time scale $TIME_SCALE)"
fi
MARATHON_URL=$(cat "$DEMO_DIR/localmarathon.url")
export MARATHON_URL

step "Deploy PostgreSQL with a persistent volume ($APP_ID)"
say "ansible-playbook playbooks/deploy.yml -e state=started"
say "(the tutorial's app: postgres image, 100 MiB local volume 'pgdata', PGDATA on it, TCP health check)"
"$PLAYBOOK" playbooks/deploy.yml -e stateful_postgres_wait_timeout="$WAIT_TIMEOUT" -e state=started || fail "deploy.yml did not deploy $APP_ID"

step "List the tasks (dcos marathon task list $APP_ID)"
info=$(task_info) || fail "could not list the tasks"
print_tasks "$info"
[[ $(field "$info" 's["running"] == 1 and s["healthy"] == 1 and len(t) == 1') == True ]] ||
    fail "expected exactly one running, healthy task"
volume=$(field "$info" 't[0]["local_volumes"][0]["persistence_id"]')
hostport=$(field "$info" 't[0]["host"] + ":" + str(t[0]["ports"][0])')
first_task=$(field "$info" 't[0]["id"]')
say "PostgreSQL listens on $hostport; its data is on volume $volume"

step "Write a row with psql"
marker="written at $(date -u +%Y-%m-%dT%H:%M:%SZ) by demo $$"
psql_at "$hostport" -c "CREATE TABLE IF NOT EXISTS tutorial (id serial PRIMARY KEY, note text NOT NULL)" ||
    fail "could not create the table"
row_id=$(psql_at "$hostport" -v note="$marker" <<'SQL'
INSERT INTO tutorial (note) VALUES (:'note') RETURNING id;
SQL
) || fail "could not insert the row"
[[ "$row_id" =~ ^[0-9]+$ ]] || fail "the insert returned '$row_id' instead of a row id"
say "INSERT INTO tutorial: row $row_id = '$marker'"

step "Stop the service (dcos marathon app stop $APP_ID): scale to 0, keep the volume"
say "ansible-playbook playbooks/deploy.yml -e state=stopped"
"$PLAYBOOK" playbooks/deploy.yml -e stateful_postgres_wait_timeout="$WAIT_TIMEOUT" -e state=stopped || fail "deploy.yml did not stop $APP_ID"

step "List the tasks again: the instance is suspended on the same volume"
info=$(task_info) || fail "could not list the tasks"
print_tasks "$info"
[[ $(field "$info" 'len(t) == 1 and t[0]["suspended"] and t[0]["started_at"] is None and s["running"] == 0') == True ]] ||
    fail "expected one suspended task with no start time and nothing running"
[[ $(field "$info" 't[0]["local_volumes"][0]["persistence_id"]') == "$volume" ]] ||
    fail "the suspended task does not hold volume $volume any more"
if PGCONNECT_TIMEOUT=2 pg_isready -q -h "${hostport%:*}" -p "${hostport#*:}"; then
    fail "PostgreSQL still answers on $hostport although the service is stopped"
fi
say "STARTED is N/A, the volume is still $volume, and nothing answers on $hostport any more"

step "Start the service again (dcos marathon app start $APP_ID)"
say "ansible-playbook playbooks/deploy.yml -e state=started"
"$PLAYBOOK" playbooks/deploy.yml -e stateful_postgres_wait_timeout="$WAIT_TIMEOUT" -e state=started || fail "deploy.yml did not start $APP_ID"
info=$(task_info) || fail "could not list the tasks"
print_tasks "$info"
[[ $(field "$info" 'len(t) == 1 and s["running"] == 1 and s["healthy"] == 1') == True ]] ||
    fail "expected one running, healthy task"
[[ $(field "$info" 't[0]["local_volumes"][0]["persistence_id"]') == "$volume" ]] ||
    fail "the new task does not run on volume $volume"
hostport=$(field "$info" 't[0]["host"] + ":" + str(t[0]["ports"][0])')
say "a new task ($(field "$info" 't[0]["id"]'), was $first_task) runs on the same volume $volume"

step "Read the row back"
got=$(psql_at "$hostport" -c "SELECT note FROM tutorial WHERE id = $row_id") || fail "could not read row $row_id"
[[ "$got" == "$marker" ]] || fail "row $row_id reads '$got', expected '$marker'"
say "row $row_id = '$got': the data survived the stop and the start"

printf '\n\033[1;32mThe demo completed: every step above was checked.\033[0m\n'
cat <<EOF

To clean up:
   MARATHON_URL=$MARATHON_URL $PLAYBOOK playbooks/deploy.yml -e state=absent -e allow_data_loss=true
   PYTHONSAFEPATH=1 $PY -m localmarathon.ctl down --data-dir $DEMO_DIR && rm -rf $DEMO_DIR
EOF
