#!/usr/bin/env bash
# The role on DC/OS Enterprise (localmarathon --enterprise) with stateful_postgres_password_secret:
# the vaulted password is written to the secret store with dcos_secret and the app only references
# it (a sandbox file read through POSTGRES_PASSWORD_FILE; on Marathon 1.4 an env secret). psql
# connects with it; the password is in no deploy output (-vvv --diff), no answer of the live app,
# of any of its versions, of the task and deployment lists, no event of the stream, and not in the
# request log. A rerun sends no write; a changed vault password updates the secret only (PostgreSQL
# keeps the password it was initialized with). On open-source Marathon, the documented path: the
# initial password is in the app, and after ALTER ROLE it no longer connects while reruns write nothing.
set -euo pipefail

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

PY=${LM_PYTHON:-python}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stateful-postgres-secret.XXXXXX")
chmod 755 "$WORK"
EVENTS_PID=
stop_events() { if [[ -n "$EVENTS_PID" ]]; then kill "$EVENTS_PID" 2>/dev/null || true; wait "$EVENTS_PID" 2>/dev/null || true; EVENTS_PID=; fi; }
# lm_work_cleanup reads the exit status from $?, so hand it on past stop_events.
cleanup() {
    local status=$?
    stop_events
    (exit "$status")
    lm_work_cleanup
}

lm_start --time-scale 10 --enterprise
trap cleanup EXIT  # after lm_start, which sets its own trap

fail() { echo "FAILED: $*" >&2; exit 1; }
PASSWORD="pg-$RANDOM$RANDOM-vaulted"
NEW_PASSWORD="pg-$RANDOM$RANDOM-rotated"

# inventory <file> <url> <extra host vars>: the password comes from a vars file, as from a vault
inventory() {
    cat > "$1" <<INV
all:
  hosts:
    cluster:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
      marathon_url: "$2"
      stateful_postgres_password_secret: postgres/password
      stateful_postgres_cpus: 0.2
      stateful_postgres_mem: 256
      stateful_postgres_health_interval: 10
      stateful_postgres_wait_timeout: 180
$3
INV
}
vault() { printf '{"stateful_postgres_password": "%s"}\n' "$1" > "$WORK/vault.json"; }
n=0
deploy() {
    local inv=$1 rc=0
    shift
    n=$((n + 1))
    LAST_LOG="$WORK/deploy.$n.log"
    ansible-playbook dcos.marathon.deploy -i "$inv" -e "@$WORK/vault.json" -vvv --diff "$@" >"$LAST_LOG" 2>&1 || rc=$?
    ((rc == 0)) || { tail -n 60 "$LAST_LOG"; fail "deploy.yml exited with $rc"; }
}
api() { curl -sf "$URL$1"; }
# get_json <path> <python expression over d>
get_json() { api "$1" | "$PY" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"; }
# secret_value: the value the store holds (never printed; compared by the caller)
secret_value() { api /secrets/v1/secret/default/postgres/password | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["value"])'; }
psql_with() { PGPASSWORD=$1 PGCONNECT_TIMEOUT=5 psql "host=127.0.0.1 port=$2 user=postgres dbname=postgres" -X -q -At -c "SELECT 'connected'"; }
# nowhere <value> <what>: the value in no output, no Marathon answer, no event, no request log line
nowhere() {
    local value=$1 file
    api /v2/apps/postgres > "$WORK/app.json"
    api "/v2/apps?embed=apps.tasks&embed=apps.deployments&embed=apps.lastTaskFailure" > "$WORK/apps.json"
    api /v2/tasks > "$WORK/tasks.json"
    api /v2/deployments > "$WORK/deployments.json"
    api /v2/groups?embed=group.apps > "$WORK/groups.json"
    : > "$WORK/versions.json"
    for version in $(get_json /v2/apps/postgres/versions '" ".join(d["versions"])'); do
        api "/v2/apps/postgres/versions/$version" >> "$WORK/versions.json"
    done
    [[ -s "$WORK/versions.json" ]] || fail "no app version was read"
    for file in "$WORK"/deploy.*.log "$WORK/app.json" "$WORK/apps.json" "$WORK/tasks.json" "$WORK/deployments.json" \
        "$WORK/groups.json" "$WORK/versions.json" "$WORK/events.txt" "$DATA/requests.jsonl"; do
        if grep -q -F -- "$value" "$file"; then fail "the $2 is in $(basename "$file")"; fi
    done
}

echo "== deploy on Marathon 1.10 (file secret)"
URL=$LM_URL DATA=$LM_DATA_DIR
curl -sN -H 'Accept: text/event-stream' "$URL/v2/events" > "$WORK/events.txt" &
EVENTS_PID=$!
inventory "$WORK/inventory.yml" "$URL" "      stateful_postgres_password_secret_as: file"
vault "$PASSWORD"
deploy "$WORK/inventory.yml"
grep -q "Keep the password in the secret store for /postgres" "$LAST_LOG" || fail "the role did not write the secret"
[[ $(secret_value) == "$PASSWORD" ]] || fail "the secret store does not hold the vaulted password"
[[ $(get_json /v2/apps/postgres 'd["app"]["env"].get("POSTGRES_PASSWORD_FILE")') == /mnt/mesos/sandbox/postgres_password ]] ||
    fail "the app does not read the password from the secret file"
[[ $(get_json /v2/apps/postgres 'd["app"]["secrets"]') == "{'postgres_password': {'source': 'postgres/password'}}" ]] ||
    fail "the app does not reference the secret"
[[ $(get_json /v2/apps/postgres '"POSTGRES_PASSWORD" in d["app"]["env"]') == False ]] || fail "POSTGRES_PASSWORD is in env"
PORT=$(get_json /v2/apps/postgres 'd["app"]["tasks"][0]["ports"][0]')
[[ $(psql_with "$PASSWORD" "$PORT") == connected ]] || fail "psql cannot connect with the password"

echo "== rerun: no write"
writes=$(lm_writes "$URL")
deploy "$WORK/inventory.yml"
[[ $(lm_writes "$URL") == "$writes" ]] || fail "a rerun with nothing to change wrote"

echo "== a changed vault password updates the secret, nothing else"
versions=$(get_json /v2/apps/postgres/versions 'len(d["versions"])')
vault "$NEW_PASSWORD"
deploy "$WORK/inventory.yml"
[[ $(lm_writes "$URL") == $((writes + 1)) ]] || fail "more than the secret's PATCH was written"
[[ $(secret_value) == "$NEW_PASSWORD" ]] || fail "the secret was not updated"
[[ $(get_json /v2/apps/postgres/versions 'len(d["versions"])') == "$versions" ]] || fail "the app was redeployed"
[[ $(psql_with "$PASSWORD" "$PORT") == connected ]] || fail "PostgreSQL should keep its initial password"
stop_events
grep -q "event: deployment_success" "$WORK/events.txt" || fail "the event stream was not captured"
nowhere "$PASSWORD" "password"
nowhere "$NEW_PASSWORD" "changed password"

echo "== Marathon 1.4: the secret as POSTGRES_PASSWORD (env), no file secrets there"
lm_start --time-scale 10 --enterprise --marathon-version 1.4
URL=$LM_URL DATA=$LM_DATA_DIR
curl -sN -H 'Accept: text/event-stream' "$URL/v2/events" > "$WORK/events.txt" &
EVENTS_PID=$!
inventory "$WORK/inventory14.yml" "$URL" ""
vault "$PASSWORD"
rm -f "$WORK"/deploy.*.log
deploy "$WORK/inventory14.yml"
[[ $(get_json /v2/apps/postgres 'd["app"]["env"]["POSTGRES_PASSWORD"]') == "{'secret': 'postgres_password'}" ]] ||
    fail "the 1.4 app does not reference the secret in env"
PORT=$(get_json /v2/apps/postgres 'd["app"]["tasks"][0]["ports"][0]')
[[ $(psql_with "$PASSWORD" "$PORT") == connected ]] || fail "psql cannot connect on Marathon 1.4"
stop_events
nowhere "$PASSWORD" "password (Marathon 1.4)"
echo "== a file secret on Marathon 1.4 is refused before any write (pinned: by the role; read: by marathon_app)"
rc=0
ansible-playbook dcos.marathon.deploy -i "$WORK/inventory14.yml" -e "@$WORK/vault.json" \
    -e stateful_postgres_password_secret_as=file -e stateful_postgres_marathon_version=1.4 >"$WORK/refused.log" 2>&1 || rc=$?
if ((rc == 0)) || ! grep -q "stateful_postgres_password_secret_as=file needs Marathon 1.5" "$WORK/refused.log"; then
    cat "$WORK/refused.log"
    fail "a file secret on Marathon 1.4 was not refused"
fi
# Not pinned: marathon_app reads the version first and refuses the secret volume before any write.
writes=$(lm_writes "$URL")
rc=0
ansible-playbook dcos.marathon.deploy -i "$WORK/inventory14.yml" -e "@$WORK/vault.json" \
    -e stateful_postgres_password_secret_as=file >"$WORK/refused.log" 2>&1 || rc=$?
if ((rc == 0)) || ! grep -q "is a file-based secret, which needs Marathon 1.5.0 or newer" "$WORK/refused.log"; then
    cat "$WORK/refused.log"
    fail "a file secret on a Marathon 1.4 cluster was not refused by marathon_app"
fi
[[ $(lm_writes "$URL") == "$writes" ]] || fail "the refused file secret wrote"
echo "== open-source Marathon: the initial password is visible in the app; after ALTER ROLE it is useless"
lm_start --time-scale 10
URL=$LM_URL DATA=$LM_DATA_DIR
inventory "$WORK/inventory-oss.yml" "$URL" ""
sed -i '/stateful_postgres_password_secret/d' "$WORK/inventory-oss.yml"
vault "$PASSWORD"
deploy "$WORK/inventory-oss.yml"
api /v2/apps/postgres | "$PY" -c 'import json, sys; assert json.load(sys.stdin)["app"]["env"]["POSTGRES_PASSWORD"] == sys.argv[1]' "$PASSWORD" ||
    fail "open-source Marathon should carry the initial password in env (as the role documents)"
PORT=$(get_json /v2/apps/postgres 'd["app"]["tasks"][0]["ports"][0]')
PGPASSWORD=$PASSWORD psql "host=127.0.0.1 port=$PORT user=postgres dbname=postgres" -X -q -At \
    -c "ALTER ROLE postgres WITH PASSWORD '$NEW_PASSWORD'" >/dev/null
writes=$(lm_writes "$URL")
deploy "$WORK/inventory-oss.yml"  # the vault keeps the initial password: nothing to change
[[ $(lm_writes "$URL") == "$writes" ]] || fail "keeping the initial password wrote"
[[ $(psql_with "$NEW_PASSWORD" "$PORT") == connected ]] || fail "the new password does not connect"
if psql_with "$PASSWORD" "$PORT" >/dev/null 2>&1; then fail "the password Marathon shows still connects"; fi
echo "stateful_postgres_secret: ok"
