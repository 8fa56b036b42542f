#!/usr/bin/env bash
# The tutorial's life cycle with playbooks/deploy.yml on a real localmarathon and a real
# PostgreSQL: a row written before the stop is read after the start, the volume
# (persistence id) never changes, a rerun sends no write, removal is refused without
# allow_data_loss and with it backs the database up, then removes the app and its volume directory. A new password is
# refused while the data directory keeps the old one, and applied after ALTER ROLE; present
# warns when it keeps an instance count other than stateful_postgres_instances. No database
# password may appear in any output, even with -vvv.
set -euo pipefail

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

PY=${LM_PYTHON:-python}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stateful-postgres-test.XXXXXX")

lm_start --time-scale 10
trap lm_work_cleanup EXIT  # after lm_start, which sets its own trap

PASSWORD="pg-$RANDOM$RANDOM-it-secret"
cat > "$WORK/inventory.yml" <<INV
all:
  hosts:
    cluster:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
      marathon_url: "$LM_URL"
      stateful_postgres_password: "$PASSWORD"
      stateful_postgres_cpus: 0.2
      stateful_postgres_mem: 256
      stateful_postgres_health_interval: 10
      stateful_postgres_wait_timeout: 180
      stateful_postgres_backup_dir: "$WORK/backups"
INV

fail() { echo "FAILED: $*" >&2; exit 1; }
n=0
# deploy <expected rc> [ansible-playbook args]; output kept in $WORK/deploy.N.log
deploy() {
    local want=$1 rc=0
    shift
    n=$((n + 1))
    LAST_LOG="$WORK/deploy.$n.log"
    ansible-playbook dcos.marathon.deploy -i "$WORK/inventory.yml" "$@" >"$LAST_LOG" 2>&1 || rc=$?
    cat "$LAST_LOG"
    if [[ "$want" == 0 && "$rc" != 0 ]] || [[ "$want" != 0 && "$rc" == 0 ]]; then
        fail "deploy.yml $* exited with $rc"
    fi
}
info() {
    ansible-playbook info.yml -i "$WORK/inventory.yml" -e "out=$WORK/info.json" >"$WORK/info.log" 2>&1 ||
        { cat "$WORK/info.log"; fail "could not read /postgres"; }
}
# q <python expression over t (tasks), s (summary), a (app)>
q() {
    "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
t, s, a = d["tasks"], d["summary"], d["app"]
print(eval(sys.argv[2]))
' "$WORK/info.json" "$1"
}
expect() { [[ $(q "$1") == True ]] || fail "$2 (info: $(cat "$WORK/info.json"))"; }
psql_at() {
    PGPASSWORD=$PASSWORD PGCONNECT_TIMEOUT=5 psql "host=127.0.0.1 port=$1 user=postgres dbname=postgres" -X -q -v ON_ERROR_STOP=1 -At "${@:2}"
}
# log_has <text>: the last log contains text, also when the output wrapped it over lines
log_has() {
    local text
    # Unescaped: ansible-core before 2.19 prints a failed result's msg as JSON (\" for a quote).
    text=$(tr '\n' ' ' <"$LAST_LOG" | tr -s ' ' | sed 's/\\"/"/g')
    [[ "$text" == *"$1"* ]]
}
recap_changed() { grep -E "^cluster +: " "$LAST_LOG" | sed -E 's/.*changed=([0-9]+).*/\1/'; }

echo "== deploy"
deploy 0
info
expect 'len(t) == 1 and s["running"] == 1 and s["healthy"] == 1 and t[0]["healthy"] is True' "one running, healthy task"
expect 'a["status"]["instances"] == 1 and a["definition"]["env"]["POSTGRES_PASSWORD"] == "********"' "app_info view"
VOLUME=$(q 't[0]["local_volumes"][0]["persistence_id"]')
PORT=$(q 't[0]["ports"][0]')
[[ -d "$LM_DATA_DIR/volumes/$VOLUME" ]] || fail "volume directory $LM_DATA_DIR/volumes/$VOLUME is missing"
[[ -f "$LM_DATA_DIR/volumes/$VOLUME/data/PG_VERSION" ]] || fail "PGDATA is not in the volume"

echo "== write a row"
MARKER="row-$RANDOM-$RANDOM"
psql_at "$PORT" -c "CREATE TABLE tutorial (id serial PRIMARY KEY, note text NOT NULL)"
psql_at "$PORT" -c "INSERT INTO tutorial (note) VALUES ('$MARKER')"

echo "== rerun: one module call, one GET, no write"
before=$(lm_writes "$LM_URL")
logged=$(wc -l <"$LM_DATA_DIR/requests.jsonl")
deploy 0
after=$(lm_writes "$LM_URL")
[[ "$before" == "$after" ]] || fail "a rerun of deploy.yml made $((after - before)) write(s)"
# Every Marathon API request of the rerun (the admin API excluded), from localmarathon's request log.
sent=$(tail -n +"$((logged + 1))" "$LM_DATA_DIR/requests.jsonl" | "$PY" -c '
import json, sys
print("; ".join(r["method"] + " " + r["path"] for r in map(json.loads, sys.stdin) if not r["admin"]))')
[[ "$sent" == "GET /v2/apps/postgres" ]] || fail "a rerun of deploy.yml should send one GET, sent: $sent"
[[ $(recap_changed) == 0 ]] || fail "a rerun of deploy.yml reported changes"
if log_has "stateful_postgres_instances is"; then fail "a warning about the instance count on a rerun"; fi

echo "== stop in check mode: reported, not done"
before=$(lm_writes "$LM_URL")
deploy 0 --check -e state=stopped
[[ $(recap_changed) -ge 1 ]] || fail "check mode did not report the stop"
[[ $(lm_writes "$LM_URL") == "$before" ]] || fail "check mode wrote to Marathon"

echo "== stop"
deploy 0 -e state=stopped
info
expect 'len(t) == 1 and t[0]["suspended"] is True and t[0]["started_at"] is None and s["running"] == 0' "one suspended task"
expect 't[0]["healthy"] is None and t[0]["ports"] == [] and a["status"]["instances"] == 0' "suspended task details"
[[ $(q 't[0]["local_volumes"][0]["persistence_id"]') == "$VOLUME" ]] || fail "the stopped task lost volume $VOLUME"
if PGCONNECT_TIMEOUT=2 pg_isready -q -h 127.0.0.1 -p "$PORT"; then fail "PostgreSQL still answers after the stop"; fi

echo "== stopped again: no write; a plain rerun keeps it stopped"
before=$(lm_writes "$LM_URL")
deploy 0 -e state=stopped
deploy 0
[[ $(lm_writes "$LM_URL") == "$before" ]] || fail "rerunning on a stopped service wrote to Marathon"
log_has "/postgres' has 0 instance(s) and the definition asks for 1: keep_instances=true keeps the live count" ||
    fail "present on a stopped service does not warn that it keeps 0 instances"
log_has "use state=started or restarted" || fail "the instance count warning does not say how to apply it"
info
expect 's["running"] == 0 and s["suspended"] == 1' "present must not start a stopped service"

echo "== start"
deploy 0 -e state=started
info
expect 'len(t) == 1 and s["running"] == 1 and s["healthy"] == 1 and t[0]["id"].endswith("._app.2")' "one running task, second incarnation"
[[ $(q 't[0]["local_volumes"][0]["persistence_id"]') == "$VOLUME" ]] || fail "the started task is not on volume $VOLUME"
PORT=$(q 't[0]["ports"][0]')
got=$(psql_at "$PORT" -c "SELECT note FROM tutorial")
[[ "$got" == "$MARKER" ]] || fail "read '$got' after the start, expected '$MARKER'"

echo "== a new password is refused, running or stopped: the data directory keeps the old one"
OLD_PASSWORD=$PASSWORD
NEW_PASSWORD="pg-$RANDOM$RANDOM-rotated"
# In a vars file, so that only the role could print it.
printf 'stateful_postgres_password: "%s"\n' "$NEW_PASSWORD" > "$WORK/new-password.yml"
before=$(lm_writes "$LM_URL")
deploy 2 -vvv -e @"$WORK/new-password.yml"
log_has "stateful_postgres_password differs from the password /postgres was deployed with" ||
    fail "the refusal does not name stateful_postgres_password"
log_has "reads POSTGRES_PASSWORD only when it initializes an empty data directory" ||
    fail "the refusal does not say why"
log_has "ALTER ROLE \"postgres\" WITH PASSWORD" || fail "the refusal does not say how to rotate"
deploy 2 -vvv --check -e state=stopped -e @"$WORK/new-password.yml"
log_has "stateful_postgres_password differs" || fail "check mode did not refuse the new password"
[[ $(lm_writes "$LM_URL") == "$before" ]] || fail "a refused password change wrote to Marathon"
[[ $(psql_at "$PORT" -c "SELECT note FROM tutorial") == "$MARKER" ]] || fail "the old password no longer works"

echo "== rotate: ALTER ROLE in the server, then the variable"
psql_at "$PORT" -c "ALTER ROLE postgres WITH PASSWORD '$NEW_PASSWORD'"
PASSWORD=$NEW_PASSWORD
before=$(lm_writes "$LM_URL")
deploy 2 -e @"$WORK/new-password.yml"
log_has "stateful_postgres_password_rotated=true" || fail "the refusal does not name stateful_postgres_password_rotated"
[[ $(lm_writes "$LM_URL") == "$before" ]] || fail "a refused password change wrote to Marathon"
deploy 0 -e @"$WORK/new-password.yml" -e stateful_postgres_password_rotated=true
[[ $(recap_changed) -ge 1 ]] || fail "the new password was not deployed"
info
expect 's["running"] == 1 and s["healthy"] == 1' "one running, healthy task after the password change"
[[ $(q 't[0]["local_volumes"][0]["persistence_id"]') == "$VOLUME" ]] || fail "the task moved off volume $VOLUME"
PORT=$(q 't[0]["ports"][0]')
[[ $(psql_at "$PORT" -c "SELECT note FROM tutorial") == "$MARKER" ]] || fail "the new password does not work"
if PGPASSWORD=$OLD_PASSWORD PGCONNECT_TIMEOUT=5 psql "host=127.0.0.1 port=$PORT user=postgres dbname=postgres" \
    -X -q -At -c "SELECT 1" >/dev/null 2>&1; then fail "the old password still works"; fi
before=$(lm_writes "$LM_URL")
deploy 0 -e @"$WORK/new-password.yml"
[[ $(lm_writes "$LM_URL") == "$before" && $(recap_changed) == 0 ]] || fail "a rerun with the new password wrote"

echo "== absent without allow_data_loss: refused"
before=$(lm_writes "$LM_URL")
deploy 2 -e state=absent
grep -q "allow_data_loss" "$LAST_LOG" || fail "the refusal does not name allow_data_loss"
[[ $(lm_writes "$LM_URL") == "$before" ]] || fail "the refused removal wrote to Marathon"
info
expect 'a is not None and s["running"] == 1' "the app must still run"

echo "== absent with allow_data_loss: backed up first, then removed"
deploy 0 -e state=absent -e allow_data_loss=true -e @"$WORK/new-password.yml"
info
expect 'a is None and t == []' "the app must be gone"
backup=$(find "$WORK/backups" -name 'cluster_postgres_*.pgc' 2>/dev/null)
[[ $(wc -l <<<"$backup") == 1 && -s "$backup" ]] || fail "expected one backup of /postgres before the removal: $backup"
pg_restore --data-only --table=tutorial --file=- "$backup" | grep -qF "$MARKER" || fail "the backup lacks the tutorial row"
for _ in $(seq 1 50); do
    [[ -e "$LM_DATA_DIR/volumes/$VOLUME" ]] || break
    sleep 0.2
done
[[ ! -e "$LM_DATA_DIR/volumes/$VOLUME" ]] || fail "volume directory $LM_DATA_DIR/volumes/$VOLUME is still there"

echo "== absent again: nothing to do"
before=$(lm_writes "$LM_URL")
deploy 0 -e state=absent -e allow_data_loss=true -e @"$WORK/new-password.yml"
[[ $(lm_writes "$LM_URL") == "$before" ]] || fail "removing a missing app wrote to Marathon"

for secret in "$OLD_PASSWORD" "$NEW_PASSWORD"; do
    if grep -l -F -- "$secret" "$WORK"/*.log; then fail "a database password appears in the output above"; fi
done
echo "stateful_postgres life cycle: all checks passed"
