#!/usr/bin/env bash
# The stateful_postgres role's app template rendered with several variable sets, each
# checked field by field and submitted to a real localmarathon; the argument spec
# defaults equal defaults/main.yml; bad variables fail with the variable named.
set -euo pipefail

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

PY=${LM_PYTHON:-python}
TEST_PG_PASSWORD="tpl-$RANDOM$RANDOM-secret"
export TEST_PG_PASSWORD
LOG=$(mktemp "${TMPDIR:-/tmp}/stateful-postgres-template.XXXXXX")
trap 'rm -f "$LOG"; lm_stop_all' EXIT

echo "== argument_specs.yml defaults == defaults/main.yml"
"$PY" - <<'PY'
import json, os, subprocess, sys
import yaml

doc = json.loads(subprocess.check_output(
    ["ansible-doc", "-t", "role", "--json", "dcos.marathon.stateful_postgres"]))
entry_points = doc["dcos.marathon.stateful_postgres"]["entry_points"]
spec = entry_points["main"]["options"]
role_dir = None
for base in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep):
    candidate = os.path.join(base, "ansible_collections", "dcos", "marathon", "roles", "stateful_postgres")
    if base and os.path.isdir(candidate):
        role_dir = candidate
        break
if role_dir is None:
    sys.exit("the role was not found under ANSIBLE_COLLECTIONS_PATH")
with open(os.path.join(role_dir, "defaults", "main.yml")) as f:
    defaults = yaml.safe_load(f)
problems = []
for name in sorted(set(spec) | set(defaults)):
    if name not in spec:
        problems.append("%s is in defaults/main.yml but not in the argument spec" % name)
    elif name not in defaults:
        problems.append("%s is in the argument spec but not in defaults/main.yml" % name)
    elif spec[name].get("default") != defaults[name]:
        problems.append("%s: argument spec default %r != defaults/main.yml %r" % (name, spec[name].get("default"), defaults[name]))
    if not name.startswith("stateful_postgres_"):
        problems.append("%s does not start with stateful_postgres_" % name)
# The other entry points (backup, restore) take a part of main's variables, with the same defaults.
if sorted(entry_points) != ["backup", "main", "restore"]:
    problems.append("entry points: %s" % sorted(entry_points))
for entry, options in sorted(entry_points.items()):
    for name, option in sorted(options["options"].items()):
        if name not in defaults:
            problems.append("%s of entry point %s is not in defaults/main.yml" % (name, entry))
        elif option.get("default") != defaults[name]:
            problems.append("%s: entry point %s has default %r, defaults/main.yml %r" % (name, entry, option.get("default"), defaults[name]))
if problems:
    sys.exit("\n".join(problems))
print("%d variables, defaults equal (backup: %d, restore: %d)"
      % (len(spec), len(entry_points["backup"]["options"]), len(entry_points["restore"]["options"])))
PY

lm_start --time-scale 20

echo "== variable sets"
ansible-playbook -i inventory.yml test.yml "$@" >"$LOG" 2>&1 || { cat "$LOG"; exit 1; }
cat "$LOG"
if grep -q -F -- "$TEST_PG_PASSWORD" "$LOG"; then echo "FAILED: the password appears in the output" >&2; exit 1; fi

echo "== bad variables are refused, naming the variable"
# bad <expected text (extended regex)> <extra vars as JSON>
bad() {
    local rc=0
    ansible-playbook -i inventory.yml dcos.marathon.deploy -e '{"stateful_postgres_app_id": "/tpl/bad"}' -e "$2" >"$LOG" 2>&1 || rc=$?
    if ((rc == 0)); then cat "$LOG"; echo "FAILED: $2 was accepted" >&2; exit 1; fi
    if ! grep -q -E -- "$1" "$LOG"; then cat "$LOG"; echo "FAILED: the error for $2 does not mention '$1'" >&2; exit 1; fi
    echo "ok: $2 -> mentions $1"
}
writes_before=$(lm_writes)
bad stateful_postgres_volume_name '{"stateful_postgres_volume_name": "pg/data"}'
bad stateful_postgres_volume_name '{"stateful_postgres_volume_name": ".."}'
bad stateful_postgres_pgdata_subdir '{"stateful_postgres_pgdata_subdir": "../elsewhere"}'
bad stateful_postgres_pgdata_subdir '{"stateful_postgres_pgdata_subdir": "/var/lib/postgresql"}'
bad stateful_postgres_password '{"stateful_postgres_password": ""}'
bad "stateful_postgres_validate_certs must be true or false" '{"stateful_postgres_validate_certs": "maybe"}'
bad stateful_postgres_password_secret '{"stateful_postgres_password_secret": "/pg/pw"}'
bad stateful_postgres_password_secret '{"stateful_postgres_password": "", "stateful_postgres_password_secret": ""}'
bad stateful_postgres_instances '{"stateful_postgres_instances": "many"}'
# No replication: two instances would be two unrelated databases behind one address.
bad "stateful_postgres_instances is 2, but the role sets up no replication: each instance is a separate PostgreSQL server" \
    '{"stateful_postgres_instances": 2}'
bad stateful_postgres_state '{"state": "running"}'
bad stateful_postgres_network_mode '{"stateful_postgres_network_mode": "host"}'
bad stateful_postgres_network_name '{"stateful_postgres_network_name": "dcos"}'
bad stateful_postgres_mem '{"stateful_postgres_mem": 0}'
bad stateful_postgres_container_port '{"stateful_postgres_container_port": 70000}'
# The app id rules: the role's first module call (marathon_app_info) checks them before any request.
bad "definition.id '/Not_Valid' segment 'Not_Valid' is not valid" '{"stateful_postgres_app_id": "/Not_Valid"}'
# One check task reports every bad variable at once.
bad "stateful_postgres_volume_name .*; stateful_postgres_container_port " \
    '{"stateful_postgres_volume_name": "a/b", "stateful_postgres_container_port": 0}'
[[ $(lm_writes) == "$writes_before" ]] || { echo "FAILED: bad variables reached Marathon with a write" >&2; exit 1; }
if grep -q -F -- "$TEST_PG_PASSWORD" "$LOG"; then echo "FAILED: the password appears in the output" >&2; exit 1; fi

echo "== an app whose fixed host port another task holds is not placed, and the role fails"
HOST_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
deploy_app() {
    ansible-playbook -i inventory.yml dcos.marathon.deploy -e state=started \
        -e "{\"stateful_postgres_app_id\": \"$1\", \"stateful_postgres_host_port\": $HOST_PORT}" "${@:2}" >"$LOG" 2>&1
}
deploy_app /tpl/port-a || { cat "$LOG"; echo "FAILED: /tpl/port-a did not start" >&2; exit 1; }
rc=0
# Far from its wait_timeout, the role fails once every offer was declined for 2 s, naming the reason.
deploy_app /tpl/port-b -e stateful_postgres_wait_timeout=120 -e stateful_postgres_offer_decline_grace=2 || rc=$?
cat "$LOG"
((rc != 0)) || { echo "FAILED: the role succeeded with /tpl/port-b on a host port /tpl/port-a holds" >&2; exit 1; }
grep -q -E "^\[ERROR\].*'/tpl/port-b'" "$LOG" || { echo "FAILED: the failure does not name /tpl/port-b" >&2; exit 1; }
grep -q -E "cannot finish, stopped waiting: every offer was declined for [0-9.]+s: InsufficientPorts" "$LOG" ||
    { echo "FAILED: the role did not fail early naming InsufficientPorts" >&2; exit 1; }
"$PY" - "$LM_URL" "$HOST_PORT" <<'PY'
import json, sys, urllib.request
url, port = sys.argv[1], int(sys.argv[2])
def get(path):
    with urllib.request.urlopen(url + path, timeout=10) as r:
        return json.load(r)
held = [t for t in get("/v2/tasks")["tasks"] if port in t["ports"]]
assert [t["appId"] for t in held] == ["/tpl/port-a"], held
(entry,) = [e for e in get("/v2/queue")["queue"] if e["app"]["id"] == "/tpl/port-b"]
# Marathon's funnel lists every check; only the ports declined the offers.
reasons = [r["reason"] for r in entry["processedOffersSummary"].get("rejectSummaryLaunchAttempt", []) if r["declined"]]
assert reasons == ["InsufficientPorts"], entry["processedOffersSummary"]
print("port %d: held by /tpl/port-a only; /tpl/port-b waits for an offer (InsufficientPorts)" % port)
PY
if grep -q -F -- "$TEST_PG_PASSWORD" "$LOG"; then echo "FAILED: the password appears in the output" >&2; exit 1; fi

echo "== clean up"
for app in /tpl/defaults /tpl/custom /tpl/overlay /tpl/port-a /tpl/port-b; do
    ansible-playbook -i inventory.yml dcos.marathon.deploy -e "{\"stateful_postgres_app_id\": \"$app\"}" \
        -e state=absent -e allow_data_loss=true -e stateful_postgres_backup_before_remove=false >"$LOG" 2>&1 ||
        { cat "$LOG"; exit 1; }
done
echo "stateful_postgres template: all checks passed"
