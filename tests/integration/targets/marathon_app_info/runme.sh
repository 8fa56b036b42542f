#!/usr/bin/env bash
# marathon_app_info against a real localmarathon: one app or a filtered list, the
# normalized definition (the one marathon_app compares with), counters, deployments
# in flight, the last task failure, versions, secret masking and bad input.
set -euo pipefail

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

lm_start --time-scale 20
ansible-playbook -i inventory.yml test.yml "$@"
