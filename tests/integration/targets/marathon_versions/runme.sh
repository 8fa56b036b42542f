#!/usr/bin/env bash
# The stateful life cycle on localmarathon speaking older and newer Marathons (MARATHON_TEST_VERSIONS,
# default 1.4 1.6 1.8 1.11; 1.10 is every other target's; 1.5, 1.7 and 1.9 get the two convergence
# checks only, MARATHON_TEST_QUICK_VERSIONS): the role's PostgreSQL is created with its
# port mapping (psql connects), a rerun makes 0 writes, stopped leaves it suspended, started brings it
# back on the same persistence id, absent is refused without allow_data_loss. The DC/OS 1.9 tutorial's
# own definition (old networking form) converges and a rerun makes 0 writes. Then an upgrade: an app
# created on 1.6 (maxLaunchDelaySeconds stored as 3600) is rerun after localmarathon restarts as 1.10
# on the same data dir, with 0 writes.
set -euo pipefail

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

PY=${LM_PYTHON:-python}
VERSIONS=${MARATHON_TEST_VERSIONS:-1.4 1.6 1.8 1.11}
# The other versions DC/OS shipped: both definitions converge and reruns make 0 writes.
QUICK_VERSIONS=${MARATHON_TEST_QUICK_VERSIONS:-1.5 1.7 1.9}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/marathon-versions-test.XXXXXX")
PASSWORD="pg-$RANDOM$RANDOM-versions"
TUTORIAL_PASSWORD="tut-$RANDOM$RANDOM-versions"
trap lm_work_cleanup EXIT

fail() { echo "FAILED ($VERSION): $*" >&2; exit 1; }
write_inventory() {
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
      stateful_postgres_health_interval: 2
      stateful_postgres_wait_timeout: 120
      # Removals here end a version's run, some on a stopped app; backups have their own target.
      stateful_postgres_backup_before_remove: false
INV
}
n=0
# run <expected rc> <playbook> [args]; output kept in $LAST_LOG
run() {
    local want=$1 rc=0
    shift
    n=$((n + 1))
    LAST_LOG="$WORK/run.$n.log"
    ansible-playbook -i "$WORK/inventory.yml" "$@" >"$LAST_LOG" 2>&1 || rc=$?
    if [[ "$want" == 0 && "$rc" != 0 ]] || [[ "$want" != 0 && "$rc" == 0 ]]; then
        cat "$LAST_LOG"
        fail "ansible-playbook $* exited with $rc"
    fi
}
deploy() { run "$1" dcos.marathon.deploy "${@:2}"; }
info() { run 0 info.yml -e "out=$WORK/info.json"; }
# q <python expression over t (tasks), s (summary), a (app view), raw (GET /v2/apps/postgres)>
q() {
    "$PY" - "$WORK/info.json" "$LM_URL" "$1" <<'PY'
import json, sys, urllib.request
d = json.load(open(sys.argv[1]))
t, s, a = d["tasks"], d["summary"], d["app"]
with urllib.request.urlopen(sys.argv[2] + "/v2/apps/postgres", timeout=10) as r:
    raw = json.load(r)["app"]
print(eval(sys.argv[3]))
PY
}
expect() { [[ $(q "$1") == True ]] || fail "$2 (info: $(cat "$WORK/info.json"))"; }
writes() { lm_writes "$LM_URL"; }
# get <path> <python expression over j (the JSON answer)>
get() {
    "$PY" - "$LM_URL$1" "$2" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    j = json.load(r)
print(eval(sys.argv[2]))
PY
}
psql_at() {
    PGPASSWORD=$PASSWORD PGCONNECT_TIMEOUT=5 psql "host=127.0.0.1 port=$1 user=postgres dbname=postgres" -X -q \
        -v ON_ERROR_STOP=1 -At "${@:2}"
}

for VERSION in $VERSIONS; do
    echo "===== Marathon $VERSION"
    lm_start --time-scale 10 --marathon-version "$VERSION"
    write_inventory
    reported=$(get /v2/info 'j["version"]')
    [[ "$reported" == "$VERSION"* ]] || fail "/v2/info reports $reported"

    echo "== create: the role's PostgreSQL, with its port mapping"
    deploy 0
    info
    expect 'len(t) == 1 and s["running"] == 1 and s["healthy"] == 1' "one running, healthy task"
    if [[ "$VERSION" == 1.4* ]]; then
        # 1.4 reads only the old networking form: the mapping must be there, under docker.
        expect 'raw["container"]["docker"]["network"] == "BRIDGE" and raw["container"]["docker"]["portMappings"][0]["containerPort"] == 5432' \
            "the live 1.4 app has no BRIDGE port mapping"
    else
        expect 'raw["networks"][0]["mode"] == "container/bridge" and raw["container"]["portMappings"][0]["containerPort"] == 5432' \
            "the live app has no bridge port mapping"
    fi
    PORT=$(q 't[0]["ports"][0]')
    VOLUME=$(q 't[0]["local_volumes"][0]["persistence_id"]')
    [[ $(psql_at "$PORT" -c "SELECT 40 + 2") == 42 ]] || fail "psql could not query PostgreSQL on port $PORT"

    echo "== rerun: 0 writes"
    before=$(writes)
    deploy 0
    [[ $(writes) == "$before" ]] || { cat "$LAST_LOG"; fail "a rerun wrote $(($(writes) - before)) time(s)"; }

    echo "== stopped: suspended on its reservation"
    deploy 0 -e state=stopped
    info
    expect 'len(t) == 1 and t[0]["suspended"] is True and s["running"] == 0' "one suspended task"
    before=$(writes)
    deploy 0 -e state=stopped
    [[ $(writes) == "$before" ]] || fail "a rerun of stopped wrote"

    echo "== started: the same volume"
    deploy 0 -e state=started
    info
    expect "len(t) == 1 and s['healthy'] == 1 and t[0]['local_volumes'][0]['persistence_id'] == '$VOLUME'" \
        "started on another volume"

    echo "== absent without allow_data_loss: refused, nothing sent"
    before=$(writes)
    deploy 2 -e state=absent
    grep -q "has persistent volumes" "$LAST_LOG" || fail "the refusal does not say why"
    [[ $(writes) == "$before" ]] || fail "a refused removal wrote"

    echo "== the 1.9 tutorial's definition converges; a rerun makes 0 writes"
    run 0 tutorial.yml -e state=present -e "tutorial_password=$TUTORIAL_PASSWORD" -e "out=$WORK/tutorial.json"
    before=$(writes)
    run 0 tutorial.yml -e state=present -e "tutorial_password=$TUTORIAL_PASSWORD" -e "out=$WORK/tutorial.json"
    [[ $(writes) == "$before" ]] || { cat "$LAST_LOG"; fail "a rerun of the 1.9 tutorial's definition wrote"; }
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if not r["changed"] else 1)' \
        "$WORK/tutorial.json" || fail "the rerun of the tutorial reported a change"
    run 0 tutorial.yml -e state=absent -e "tutorial_password=$TUTORIAL_PASSWORD" -e "out=$WORK/tutorial.json"
    deploy 0 -e state=absent -e allow_data_loss=true
    lm_stop
done

for VERSION in $QUICK_VERSIONS; do
    echo "===== Marathon $VERSION: both definitions converge, reruns make 0 writes"
    lm_start --time-scale 10 --marathon-version "$VERSION"
    write_inventory
    deploy 0 -e state=stopped
    before=$(writes)
    deploy 0 -e state=stopped
    [[ $(writes) == "$before" ]] || { cat "$LAST_LOG"; fail "a rerun of the role wrote"; }
    run 0 tutorial.yml -e state=present -e "tutorial_password=$TUTORIAL_PASSWORD" -e "out=$WORK/tutorial.json"
    before=$(writes)
    run 0 tutorial.yml -e state=present -e "tutorial_password=$TUTORIAL_PASSWORD" -e "out=$WORK/tutorial.json"
    [[ $(writes) == "$before" ]] || { cat "$LAST_LOG"; fail "a rerun of the 1.9 tutorial's definition wrote"; }
    lm_stop
done

VERSION="1.6 -> 1.10"
echo "===== upgrade: created on 1.6, rerun after a restart as 1.10"
lm_start --time-scale 10 --marathon-version 1.6
write_inventory
DATA_DIR=$LM_DATA_DIR
deploy 0 -e state=stopped
stored=$(get /v2/apps/postgres 'j["app"]["maxLaunchDelaySeconds"]')
[[ "$stored" == 3600 ]] || fail "1.6 stored maxLaunchDelaySeconds $stored, not its default 3600"
(cd / && "$PY" -m localmarathon.ctl down --data-dir "$DATA_DIR")
LM_URL=$(cd / && "$PY" -m localmarathon.ctl up --data-dir "$DATA_DIR" --port 0 --time-scale 10 --marathon-version 1.10 | tail -n 1)
export LM_URL
write_inventory
stored=$(get /v2/apps/postgres 'j["app"]["maxLaunchDelaySeconds"]')
[[ "$stored" == 3600 ]] || fail "the stored 3600 did not survive the upgrade ($stored)"
before=$(writes)
deploy 0 -e state=stopped
[[ $(writes) == "$before" ]] || { cat "$LAST_LOG"; fail "the first run after the upgrade wrote"; }
deploy 0 -e state=absent -e allow_data_loss=true

echo "marathon versions: all checks passed"
