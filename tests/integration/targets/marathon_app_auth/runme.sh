#!/usr/bin/env bash
# marathon_app with DC/OS authentication and TLS against localmarathon (--auth dcos,
# HTTPS with a self-signed certificate): token, user and service-account logins,
# one re-login after the tokens expire, readable 401/403/login/TLS errors.
set -euo pipefail

# shellcheck source=../setup_localmarathon/localmarathon.sh
source ../setup_localmarathon/localmarathon.sh

PKI=$(mktemp -d "${TMPDIR:-/tmp}/marathon-app-auth.XXXXXX")
cleanup() {
    local status=$?
    lm_stop_all || status=1
    rm -rf "$PKI"
    exit "$status"
}
trap cleanup EXIT

"${LM_PYTHON:-python}" make_pki.py "$PKI"
lm_start --time-scale 20 --auth dcos --auth-config "$PKI/auth-config.json" \
    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key"
# lm_start installs its own EXIT trap; keep ours, which also removes the PKI.
trap cleanup EXIT
export PKI
ansible-playbook -i inventory.yml test.yml "$@"
