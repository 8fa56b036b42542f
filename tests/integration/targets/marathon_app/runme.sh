#!/usr/bin/env bash
# marathon_app against a real localmarathon over HTTP on 127.0.0.1: the tutorial's
# PostgreSQL life cycle, idempotence of real definitions (zero writes on a rerun),
# check and diff mode, data-safety refusals, locked deployments, wait timeouts,
# bad input, and that secrets never reach the output even with -vvv.
set -euo pipefail
# The secret scans below must see every module argument Ansible echoes back ("invocation"):
# ansible-core 2.21 adds them to results only when asked, older cores always.
export ANSIBLE_INJECT_INVOCATION=true

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

lm_start --time-scale 20
ansible-playbook -i inventory.yml test.yml "$@"

# The same secret-bearing tasks at -vvv: the password must not appear anywhere.
out=$(mktemp)
ansible-playbook -i inventory.yml secrets.yml -vvv >"$out" 2>&1 || { cat "$out"; rm -f "$out"; exit 1; }
if grep -q 'Sup3r-Secr3t-Pw' "$out"; then
    echo "FAIL: the secret value appears in the -vvv output:" >&2
    grep -n 'Sup3r-Secr3t-Pw' "$out" | head -5 >&2
    rm -f "$out"
    exit 1
fi
grep -q 'POSTGRES_PASSWORD' "$out" || { echo "FAIL: secrets.yml did not run its tasks" >&2; rm -f "$out"; exit 1; }
rm -f "$out"
echo "no secret in -vvv output"
