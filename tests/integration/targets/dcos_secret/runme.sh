#!/usr/bin/env bash
# dcos_secret against localmarathon as DC/OS Enterprise (--enterprise, --auth dcos): create, rerun
# (no write), check mode, update, delete, a missing permission, a sealed store, and a cluster
# without a secret store; the value in no output and no request log.
set -euo pipefail
# The secret scans below must see every module argument Ansible echoes back ("invocation"):
# ansible-core 2.21 adds them to results only when asked, older cores always.
export ANSIBLE_INJECT_INVOCATION=true

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dcos-secret.XXXXXX")
trap lm_work_cleanup EXIT
export WORK
printf %s 'second-S3cret-value' > "$WORK/second.txt"
cat > "$WORK/auth-config.json" <<'JSON'
{"users": {"ops": "ops-Pa55word", "reader": "reader-Pa55word"},
 "permissions": {"reader": {"dcos:secrets:default:/db/*": ["read"]}}}
JSON
lm_start --time-scale 20 --enterprise --auth dcos --auth-config "$WORK/auth-config.json"
ENTERPRISE_URL=$LM_URL
ENTERPRISE_DATA=$LM_DATA_DIR
lm_start --time-scale 20
export OSS_URL=$LM_URL LM_URL=$ENTERPRISE_URL LM_DATA_DIR=$ENTERPRISE_DATA
ansible-playbook -i inventory.yml test.yml -vvv --diff "$@" > "$WORK/output.txt" 2>&1 || {
    tail -n 80 "$WORK/output.txt"
    exit 1
}
# The value (and the changed one) appear in no output of the run at -vvv --diff, nor in the
# server's request log.
for value in 'first-S3cret-value' 'second-S3cret-value'; do
    if grep -q -- "$value" "$WORK/output.txt" "$ENTERPRISE_DATA/requests.jsonl"; then
        echo "a secret value leaked:" >&2
        grep -l -- "$value" "$WORK/output.txt" "$ENTERPRISE_DATA/requests.jsonl" >&2
        exit 1
    fi
done
grep -q '"value": "changed"' "$WORK/output.txt"  # the diff was printed
echo "dcos_secret: ok"
