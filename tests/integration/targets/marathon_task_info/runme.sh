#!/usr/bin/env bash
# marathon_task_info against a real localmarathon: task fields and counters, the
# suspended view of a stopped resident app (same volume before and after), health
# results true/false/null, waiting (success, timeout, impossible waits) and bad input.
set -euo pipefail

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

lm_start --time-scale 20
ansible-playbook -i inventory.yml test.yml "$@"

# Malformed replies (as from a broken proxy) give a message, never a traceback.
coproc BAD { exec "${LM_PYTHON:-python}" bad_server.py; }
trap 'kill "$BAD_PID" 2>/dev/null; lm_stop_all' EXIT
read -r bad_url <&"${BAD[0]}"
ansible-playbook -i inventory.yml bad.yml -e "bad_url=$bad_url" "$@"
