#!/usr/bin/env bash
# Backups of the role on a real localmarathon and a real PostgreSQL, with the collection's
# playbooks: rows are written, backed up (pg_dump custom format, manifest with size, sha256, server
# version and row counts) and found again after a removal with allow_data_loss and a restore;
# retention keeps the newest N; a backup that fails blocks the removal (no write sent); a restore
# into a non-empty database is refused unless forced; a PostgreSQL major change of the image is
# refused with no write, and with stateful_postgres_major_upgrade=dump_restore moves every row to
# a new volume and keeps the backup. No database password appears in any output, even with -vvv.
set -euo pipefail
# The secret scans below must see every module argument Ansible echoes back ("invocation"):
# ansible-core 2.21 adds them to results only when asked, older cores always.
export ANSIBLE_INJECT_INVOCATION=true

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

PY=${LM_PYTHON:-python}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stateful-postgres-backup-test.XXXXXX")

lm_start --time-scale 10
trap lm_work_cleanup EXIT  # after lm_start, which sets its own trap

PASSWORD="pg-$RANDOM$RANDOM-bk-secret"
BACKUPS="$WORK/backups"
cat > "$WORK/inventory.yml" <<INV
all:
  hosts:
    cluster:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
      marathon_url: "$LM_URL"
      stateful_postgres_password: "$PASSWORD"
      stateful_postgres_image: postgres:15
      stateful_postgres_cpus: 0.2
      stateful_postgres_mem: 256
      stateful_postgres_health_interval: 10
      stateful_postgres_wait_timeout: 180
      stateful_postgres_backup_dir: "$BACKUPS"
      stateful_postgres_backup_keep: 2
INV

fail() { echo "FAILED: $*" >&2; exit 1; }
n=0
# play <expected rc> <playbook> [ansible-playbook args]; output kept in $WORK/play.N.log
play() {
    local want=$1 playbook=$2 rc=0
    shift 2
    n=$((n + 1))
    LAST_LOG="$WORK/play.$n.log"
    ansible-playbook "dcos.marathon.$playbook" -i "$WORK/inventory.yml" "$@" >"$LAST_LOG" 2>&1 || rc=$?
    cat "$LAST_LOG"
    if [[ "$want" == 0 && "$rc" != 0 ]] || [[ "$want" != 0 && "$rc" == 0 ]]; then
        fail "$playbook.yml $* exited with $rc"
    fi
}
log_has() {
    local text
    text=$(tr '\n' ' ' <"$LAST_LOG" | tr -s ' ')
    [[ "$text" == *"$1"* ]]
}
recap_changed() { grep -E "^cluster +: " "$LAST_LOG" | sed -E 's/.*changed=([0-9]+).*/\1/'; }
# app <python expression over a (GET /v2/apps/postgres's app, None when missing)>
app() {
    "$PY" - "$LM_URL" "$1" <<'PY'
import json, sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/v2/apps/postgres?embed=app.tasks", timeout=10) as r:
        a = json.load(r)["app"]
except urllib.error.HTTPError as e:
    if e.code != 404:
        raise
    a = None
print(eval(sys.argv[2]))
PY
}
pg_port() { app 'a["tasks"][0]["ports"][0]'; }
psql_db() {
    PGPASSWORD=$PASSWORD PGCONNECT_TIMEOUT=5 psql "host=127.0.0.1 port=$(pg_port) user=postgres dbname=postgres" \
        -X -q -v ON_ERROR_STOP=1 -At "$@"
}
# What the rows are: counts and a digest of every row of both tables.
rows_digest() {
    psql_db -c "select (select count(*) from items) || ':' || (select count(*) from shop.orders) || ':' ||
                       md5((select string_agg(id || '=' || name, ',' order by id) from items) ||
                           (select string_agg(id || '=' || total::text, ',' order by id) from shop.orders))"
}
backups() { find "$BACKUPS" -maxdepth 1 -name "cluster_postgres_*.$1" -printf '%f\n' 2>/dev/null | sort; }
no_password_in_logs() {
    if grep -lF "$PASSWORD" "$WORK"/play.*.log; then fail "the database password appears in the output above"; fi
}

echo "== deploy postgres:15 and write rows"
play 0 deploy
psql_db -c "create table items (id int primary key, name text);
            insert into items select g, 'item-' || g from generate_series(1, 250) g;
            create schema shop; create table shop.orders (id int primary key, total numeric);
            insert into shop.orders select g, g * 1.5 from generate_series(1, 37) g;"
BEFORE=$(rows_digest)
[[ "$BEFORE" == 250:37:* ]] || fail "rows were not written: $BEFORE"
VOLUME=$(app 'a["tasks"][0]["localVolumes"][0]["persistenceId"]')

echo "== backup (with -vvv): custom format file and its manifest"
play 0 backup -vvv
[[ $(backups pgc | wc -l) == 1 && $(backups json | wc -l) == 1 ]] || fail "expected one backup and one manifest: $(ls "$BACKUPS")"
FIRST=$(backups pgc)
"$PY" - "$BACKUPS/$FIRST" <<'PY' || fail "the manifest does not describe the file"
import hashlib, json, os, sys
path = sys.argv[1]
m = json.load(open(path[:-len(".pgc")] + ".json"))
data = open(path, "rb").read()
assert data[:5] == b"PGDMP", "not pg_dump's custom format"
assert m["file"] == os.path.basename(path) and m["format"] == "custom", m
assert m["size"] == len(data) and m["sha256"] == hashlib.sha256(data).hexdigest(), m
assert m["row_counts"] == {"public.items": 250, "shop.orders": 37}, m["row_counts"]
assert m["row_counts_exact"] is True and m["server_version"].split(".")[0].isdigit(), m
assert m["cluster"] == "cluster" and m["app_id"] == "/postgres" and m["database"] == "postgres", m
assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
assert oct(os.stat(path).st_mode & 0o777) == "0o600" and oct(os.stat(path[:-4] + ".json").st_mode & 0o777) == "0o600"
PY
pg_restore --list "$BACKUPS/$FIRST" | grep -q "TABLE DATA shop orders" || fail "pg_restore cannot list $FIRST"

echo "== retention keeps the newest 2"
play 0 backup
play 0 backup
mapfile -t KEPT < <(backups pgc)
[[ ${#KEPT[@]} == 2 && $(backups json | wc -l) == 2 ]] || fail "expected 2 backups kept: $(ls "$BACKUPS")"
[[ " ${KEPT[*]} " != *" $FIRST "* && ! -e "$BACKUPS/${FIRST%.pgc}.json" ]] || fail "the oldest backup $FIRST was kept"
[[ "${KEPT[0]}" > "$FIRST" ]] || fail "kept backups are not the newest"

echo "== a backup that fails blocks the removal: nothing is removed, no write is sent"
touch "$WORK/not-a-directory"
WRITES=$(lm_writes)
play 2 deploy -e state=absent -e allow_data_loss=true -e stateful_postgres_backup_dir="$WORK/not-a-directory/backups"
[[ $(lm_writes) == "$WRITES" ]] || fail "a write was sent after the backup failed"
[[ $(app 'a is not None and a["instances"] == 1') == True ]] || fail "the app was removed although its backup failed"
[[ $(rows_digest) == "$BEFORE" ]] || fail "rows changed"

echo "== check mode of the removal: no backup, no write"
WRITES=$(lm_writes)
play 0 deploy --check -e state=absent -e allow_data_loss=true
[[ $(lm_writes) == "$WRITES" && $(backups pgc | wc -l) == 2 ]] || fail "check mode wrote or backed up"
[[ $(app 'a is not None') == True ]] || fail "check mode removed the app"

echo "== remove with allow_data_loss (with -vvv): backs up first"
OLDEST_KEPT=${KEPT[0]}
play 0 deploy -vvv -e state=absent -e allow_data_loss=true
[[ $(app 'a is None') == True ]] || fail "the app is still there"
mapfile -t KEPT < <(backups pgc)
[[ ${#KEPT[@]} == 2 && " ${KEPT[*]} " != *" $OLDEST_KEPT "* ]] || fail "no new backup before the removal: ${KEPT[*]}"
log_has "Back up (stateful_postgres_backup_before_remove) /postgres" || fail "the removal did not back up"

echo "== restore (with -vvv) onto a new app: the same rows"
play 0 restore -vvv
[[ $(app 'a["instances"] == 1 and a["tasks"][0]["localVolumes"][0]["persistenceId"]') != "$VOLUME" ]] ||
    fail "expected a new app on a new volume"
[[ $(rows_digest) == "$BEFORE" ]] || fail "restored rows differ: $(rows_digest) != $BEFORE"
log_has "2 tables and 287 rows restored into /postgres, as the manifest says" || fail "no row count check"

echo "== a second restore finds a non-empty database: refused, nothing changed; forced it replaces"
WRITES=$(lm_writes)
play 2 restore
log_has "is not empty" || fail "expected the non-empty refusal"
[[ $(lm_writes) == "$WRITES" ]] || fail "a refused restore sent a write"
psql_db -c "insert into items values (9999, 'after the backup')"
play 0 restore -e force=true
[[ $(rows_digest) == "$BEFORE" ]] || fail "a forced restore did not give the backup's rows"

echo "== a new PostgreSQL major on the volume is refused before any write"
WRITES=$(lm_writes)
play 2 deploy -e stateful_postgres_image=postgres:16
log_has "stateful_postgres_major_upgrade=dump_restore" || fail "expected the major upgrade refusal"
[[ $(lm_writes) == "$WRITES" ]] || fail "the refused major change sent a write"
[[ $(app 'a["container"]["docker"]["image"]') == postgres:15 ]] || fail "the image changed"

echo "== major upgrade by dump and restore (with -vvv): every row on a new volume, the backup kept"
VOLUME=$(app 'a["tasks"][0]["localVolumes"][0]["persistenceId"]')
play 0 deploy -vvv -e stateful_postgres_image=postgres:16 -e stateful_postgres_major_upgrade=dump_restore
[[ $(app 'a["container"]["docker"]["image"]') == postgres:16 ]] || fail "the image is not postgres:16"
[[ $(app 'a["tasks"][0]["localVolumes"][0]["persistenceId"]') != "$VOLUME" ]] || fail "expected a new volume"
[[ $(rows_digest) == "$BEFORE" ]] || fail "rows lost in the major upgrade"
NEWEST=$(backups pgc | tail -n 1)
"$PY" -c 'import json, sys; m = json.load(open(sys.argv[1])); assert m["image"] == "postgres:15", m' \
    "$BACKUPS/${NEWEST%.pgc}.json" || fail "the upgrade's backup was not kept"
WRITES=$(lm_writes)
play 0 deploy -e stateful_postgres_image=postgres:16 -e stateful_postgres_major_upgrade=dump_restore
[[ $(lm_writes) == "$WRITES" && $(recap_changed) == 0 ]] || fail "a rerun after the upgrade changed something"

no_password_in_logs
echo "stateful_postgres_backup: all checks passed"
