#!/usr/bin/env bash
# playbooks/rollout.yml across three real localmarathon servers (own ports and data dirs):
#   1. first rollout: the canary goes first and is healthy before the others are touched,
#      per-cluster overrides apply, every cluster converges;
#   2. rerun: no write on any cluster;
#   3. the canary's new version fails its health checks: the rollout stops, the other
#      clusters see no write, the canary is rolled back to its previous definition;
#   4. batches of one cluster without rollback: the second cluster fails, the third sees no write;
#   5. state=stopped on every cluster.
# The rollout_summary callback's JSON is checked after every run; the database password
# must never appear in the output.
set -euo pipefail

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

PY=${LM_PYTHON:-python}
HERE=$(pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rollout-test.XXXXXX")
trap lm_work_cleanup EXIT

check() { "$PY" "$HERE/check.py" "$@"; }

declare -A URL DIR
for cluster in canary eu us; do
    lm_start --time-scale 10
    trap lm_work_cleanup EXIT  # lm_start installs its own trap
    URL[$cluster]=$LM_URL
    DIR[$cluster]=$LM_DATA_DIR
done

PASSWORD="rollout-$RANDOM-$RANDOM-secret"
# The canary is not the first host of the inventory: the canary group decides.
cat > "$WORK/inventory.yml" <<EOF
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    stateful_postgres_password: "$PASSWORD"
    stateful_postgres_cpus: 0.1
    stateful_postgres_mem: 128
    stateful_postgres_volume_size: 100
    stateful_postgres_health_interval: 2
    stateful_postgres_health_timeout: 2
    stateful_postgres_wait_timeout: 180
  children:
    marathon_clusters:
      hosts:
        eu:
          marathon_url: "${URL[eu]}"
          stateful_postgres_volume_size: 200
        canary:
          marathon_url: "${URL[canary]}"
        us:
          marathon_url: "${URL[us]}"
          stateful_postgres_instances: 2
          stateful_postgres_independent_instances: true
    canary:
      hosts:
        canary: {}
EOF

export ANSIBLE_CALLBACKS_ENABLED=dcos.marathon.rollout_summary
rollout() {
    local name=$1
    shift
    local rc=0
    ansible-playbook dcos.marathon.rollout -i "$WORK/inventory.yml" -f 5 \
        -e rollout_summary_json="$WORK/$name.json" -e rollout_summary_markdown="$WORK/$name.md" \
        "$@" > "$WORK/$name.log" 2>&1 || rc=$?
    cat "$WORK/$name.log"
    if grep -qF "$PASSWORD" "$WORK/$name.log" "$WORK/$name.json" "$WORK/$name.md"; then
        echo "FAILED: the database password shows in the output of run $name" >&2
        exit 1
    fi
    grep -q "ROLLOUT SUMMARY" "$WORK/$name.log" || { echo "FAILED: no summary table in run $name" >&2; exit 1; }
    return "$rc"
}

writes_all() { echo "$(check writes "${DIR[canary]}") $(check writes "${DIR[eu]}") $(check writes "${DIR[us]}")"; }

echo "=== 1. first rollout"
rollout first
check summary "$WORK/first.json" canary=changed,healthy=1/1,version=set eu=changed,healthy=1/1 us=changed,healthy=2/2
[[ $(check app "${URL[us]}" /postgres instances) == 2 ]]
[[ $(check app "${URL[eu]}" /postgres container.volumes.0.persistent.size) == 200 ]]
[[ $(check app "${URL[canary]}" /postgres container.volumes.0.persistent.size) == 100 ]]
# The canary was healthy before the first write to any other cluster.
canary_healthy=$(check app "${URL[canary]}" /postgres tasks.0.healthCheckResults.0.firstSuccess | tr -d '"')
"$PY" - "$canary_healthy" "$(check first-write "${DIR[eu]}")" "$(check first-write "${DIR[us]}")" <<'PY'
import datetime, sys
healthy = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
for first in sys.argv[2:]:
    assert float(first) > healthy, ("a later cluster was written before the canary was healthy", healthy, first)
print("canary healthy at %.2f, others first written at %s" % (healthy, ", ".join(sys.argv[2:])))
PY
grep -q '^| canary | changed |' "$WORK/first.md"

echo "=== 2. rerun: no write anywhere"
before=$(writes_all)
rollout rerun
after=$(writes_all)
[[ "$before" == "$after" ]] || { echo "FAILED: rerun wrote: before $before, after $after" >&2; exit 1; }
check summary "$WORK/rerun.json" canary=unchanged,healthy=1/1 eu=unchanged,healthy=1/1 us=unchanged,healthy=2/2

echo "=== 3. the canary's new version is unhealthy: stop, roll back, leave the others alone"
version_before=$(check app "${URL[canary]}" /postgres version)
eu_writes=$(check writes "${DIR[eu]}")
us_writes=$(check writes "${DIR[us]}")
check fault "${URL[canary]}" '{"kind": "unhealthy", "app_id": "/postgres"}'
check clear-faults-when-reverted "${URL[canary]}" /postgres release 2 300 > "$WORK/watch.log" 2>&1 &
watcher=$!
rc=0
rollout broken -e '{"stateful_postgres_labels": {"release": "2"}}' -e stateful_postgres_wait_timeout=15 \
    -e rollout_rollback=true -e rollout_rollback_timeout=180 || rc=$?
wait "$watcher" || { cat "$WORK/watch.log"; echo "FAILED: the rollback was not seen" >&2; exit 1; }
((rc != 0)) || { echo "FAILED: the broken rollout exited 0" >&2; exit 1; }
[[ $(check writes "${DIR[eu]}") == "$eu_writes" ]] || { echo "FAILED: eu was written to" >&2; exit 1; }
[[ $(check writes "${DIR[us]}") == "$us_writes" ]] || { echo "FAILED: us was written to" >&2; exit 1; }
[[ $(check app "${URL[canary]}" /postgres labels) == "{}" ]] || { echo "FAILED: canary not rolled back" >&2; exit 1; }
[[ $(check app "${URL[canary]}" /postgres version) != "$version_before" ]]
[[ $(check app "${URL[canary]}" /postgres tasksHealthy) == 1 ]]
check summary "$WORK/broken.json" canary=failed,rolled_back=yes,healthy=1/1 eu="not reached" us="not reached"
grep -q "Rolled back to the definition of version" "$WORK/broken.log"

echo "=== 4. batches of one, no rollback: the second cluster fails, the third is not touched"
check fault "${URL[eu]}" '{"kind": "unhealthy", "app_id": "/postgres"}'
us_writes=$(check writes "${DIR[us]}")
rc=0
rollout second -e '{"stateful_postgres_labels": {"release": "3"}}' -e stateful_postgres_wait_timeout=10 \
    -e rollout_batch_size=1 || rc=$?
((rc != 0)) || { echo "FAILED: the rollout with a failing cluster exited 0" >&2; exit 1; }
[[ $(check writes "${DIR[us]}") == "$us_writes" ]] || { echo "FAILED: us was written to" >&2; exit 1; }
[[ $(check app "${URL[canary]}" /postgres labels.release) == '"3"' ]]
[[ $(check app "${URL[eu]}" /postgres labels.release) == '"3"' ]]  # not rolled back
check summary "$WORK/second.json" canary=changed,healthy=1/1 eu=failed,rolled_back=no us="not reached"
grep -q "Not rolled back (rollout_rollback=false)" "$WORK/second.log"
# The new version on eu becomes healthy once the fault is gone.
check clear-faults "${URL[eu]}"

echo "=== 5. state=stopped everywhere"
rollout stopped -e state=stopped
check summary "$WORK/stopped.json" canary=changed,healthy=0/0 eu=changed,healthy=0/0 us=changed,healthy=0/0
for cluster in canary eu us; do
    [[ $(check app "${URL[$cluster]}" /postgres instances) == 0 ]]
done
echo "rollout: all checks passed"
