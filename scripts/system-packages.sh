#!/usr/bin/env bash
# The system (Debian/Ubuntu) packages that `make test` or `make demo` needs, installed when
# missing. Run as root it installs them with apt-get; as another user it names the command to run
# and exits 1. Used by .ci/run (test) and scripts/demo.sh (demo).
#
# Usage: scripts/system-packages.sh test|demo
set -euo pipefail

purpose=${1:-}
case "$purpose" in
    test | demo) ;;
    *) echo "usage: $0 test|demo" >&2; exit 2 ;;
esac

missing=()
need() { # need <package> <check command...>
    local package=$1
    shift
    "$@" >/dev/null 2>&1 || missing+=("$package")
}

# A Python >= 3.11 with venv and ensurepip, the one the Makefile picks (python3.11, else python3).
python_ok() {
    local p
    for p in python3.11 python3; do
        "$p" -c 'import sys, ensurepip, venv; assert sys.version_info >= (3, 11)' 2>/dev/null && return 0
    done
    return 1
}
python_missing=0
python_ok || python_missing=1
need make command -v make
# The PostgreSQL server that localmarathon runs for postgres:* images; it also creates the
# unprivileged 'postgres' user the server runs as. The client (psql, pg_isready) comes with it, and
# pg_dump/pg_restore of the same major, which the role's backups run (community.postgresql.postgresql_db).
need postgresql compgen -G '/usr/lib/postgresql/*/bin/postgres'
need postgresql-client sh -c 'command -v psql && command -v pg_dump && command -v pg_restore'
if [[ "$purpose" == test ]]; then
    need git command -v git
    need shellcheck command -v shellcheck
    need openssh-client command -v ssh-keygen # ansible-test makes an SSH key pair
fi

# Debian 12 has python3.11; newer releases ship a newer python3 (which the Makefile takes).
((python_missing)) && missing+=(python3 python3-venv)
((${#missing[@]})) || exit 0
if ((EUID != 0)); then
    echo "make $purpose needs these system packages: ${missing[*]}" >&2
    echo "install them with:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "make $purpose needs these packages (Debian/Ubuntu names): ${missing[*]}; install them with your system's package manager" >&2
    exit 1
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
if ((python_missing)) && apt-cache show python3.11-venv >/dev/null 2>&1; then
    for i in "${!missing[@]}"; do
        case "${missing[i]}" in
            python3) missing[i]=python3.11 ;;
            python3-venv) missing[i]=python3.11-venv ;;
        esac
    done
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
