#!/usr/bin/env bash
# marathon_group against a real localmarathon over HTTP on 127.0.0.1: one GET per task, no write
# when every app matches, one PUT for the apps that differ, prune, the resident rules, states,
# check and diff mode, bad input.
set -euo pipefail

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

lm_start --time-scale 20
ansible-playbook -i inventory.yml test.yml "$@"
