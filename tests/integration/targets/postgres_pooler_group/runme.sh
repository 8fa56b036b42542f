#!/usr/bin/env bash
# playbooks/postgres_pooler.yml on a real localmarathon with a real PostgreSQL: the database and
# its pgbouncer pooler are one group in which the pooler depends on the database. A client writes
# and reads a row through the pooler; the pooler's task starts only after the database's; a rerun
# sends one GET and no write; stopped keeps the data, started serves it again through the pooler.
set -euo pipefail
# The secret scans below must see every module argument Ansible echoes back ("invocation"):
# ansible-core 2.21 adds them to results only when asked, older cores always.
export ANSIBLE_INJECT_INVOCATION=true

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

PY=${LM_PYTHON:-python}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pg-pooler-test.XXXXXX")

lm_start --time-scale 10
trap lm_work_cleanup EXIT  # after lm_start, which sets its own trap

fail() { echo "FAILED: $*" >&2; exit 1; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
DB_PORT=$(free_port)
POOLER_PORT=$(free_port)
PASSWORD="pool-$RANDOM$RANDOM-secret"
cat > "$WORK/inventory.yml" <<INV
all:
  hosts:
    cluster:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
      marathon_url: "$LM_URL"
      pg_stack_password: "$PASSWORD"
      pg_stack_db_host: 127.0.0.1
      pg_stack_db_port: $DB_PORT
      pg_stack_pooler_port: $POOLER_PORT
      pg_stack_volume_size: 64
      pg_stack_wait_timeout: 180
INV

n=0
play() {
    n=$((n + 1))
    LAST_LOG="$WORK/play.$n.log"
    ansible-playbook dcos.marathon.postgres_pooler -i "$WORK/inventory.yml" "$@" >"$LAST_LOG" 2>&1 ||
        { cat "$LAST_LOG"; fail "postgres_pooler.yml $* failed"; }
    cat "$LAST_LOG"
    if grep -q "$PASSWORD" "$LAST_LOG"; then fail "the password appears in the output"; fi
}
via_pooler() {
    PGPASSWORD=$PASSWORD PGCONNECT_TIMEOUT=5 psql "host=127.0.0.1 port=$POOLER_PORT user=postgres dbname=postgres" \
        -X -q -v ON_ERROR_STOP=1 -At "$@"
}
app_field() {
    "$PY" -c '
import json, sys, urllib.request
app = json.load(urllib.request.urlopen(sys.argv[1] + "/v2/apps" + sys.argv[2]))["app"]
print(eval(sys.argv[3]))' "$LM_URL" "$1" "$2"
}

echo "== deploy"
play
via_pooler -c "CREATE TABLE notes (note text NOT NULL)"
via_pooler -c "INSERT INTO notes VALUES ('through the pooler')"
[[ $(via_pooler -c "SELECT current_setting('port')") == "$DB_PORT" ]] || fail "the pooler does not lead to the database"
db_started=$(app_field /pg-stack/db 'app["tasks"][0]["startedAt"]')
pooler_staged=$(app_field /pg-stack/pooler 'app["tasks"][0]["stagedAt"]')
[[ "$db_started" < "$pooler_staged" ]] || fail "the pooler was launched ($pooler_staged) before the database ran ($db_started)"

echo "== rerun (at -vvv, the password must not show): one GET, no write"
before=$(lm_writes "$LM_URL")
logged=$(wc -l <"$LM_DATA_DIR/requests.jsonl")
play -vvv
[[ $(lm_writes "$LM_URL") == "$before" ]] || fail "a rerun wrote to Marathon"
sent=$(tail -n +"$((logged + 1))" "$LM_DATA_DIR/requests.jsonl" | "$PY" -c '
import json, sys
print("; ".join(r["method"] + " " + r["path"] for r in map(json.loads, sys.stdin) if not r["admin"]))')
[[ "$sent" == "GET /v2/groups/pg-stack" ]] || fail "a rerun should send one GET, sent: $sent"
grep -q "changed=0" "$LAST_LOG" || fail "a rerun reported changes"

echo "== stop, start: the data comes back through the pooler"
play -e state=stopped
[[ $(app_field /pg-stack/db 'app["instances"]') == 0 ]] || fail "the database was not stopped"
play -e state=started
[[ $(via_pooler -c "SELECT note FROM notes") == "through the pooler" ]] || fail "the row did not survive the stop"

echo "== absent needs allow_data_loss"
if ansible-playbook dcos.marathon.postgres_pooler -i "$WORK/inventory.yml" -e state=absent >"$WORK/refused.log" 2>&1; then
    fail "removing the group without allow_data_loss succeeded"
fi
grep -q "allow_data_loss" "$WORK/refused.log" || fail "the refusal does not name allow_data_loss"
play -e state=absent -e allow_data_loss=true
[[ $("$PY" -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1] + "/v2/groups"))["groups"])' "$LM_URL") == "[]" ]] ||
    fail "the group is still there"
echo "postgres_pooler_group passed"
