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

# A Python >= 3.12 with venv and ensurepip: the one the Makefile picks, found the same way
# (scripts/find-python.sh: on PATH or among pyenv's versions). An explicit PYTHON=... wins.
python_ok() {
    if [[ -n "${PYTHON:-}" ]]; then
        "$PYTHON" -c 'import sys, ensurepip, venv; assert sys.version_info >= (3, 12)' 2>/dev/null
    else
        bash "$(dirname "${BASH_SOURCE[0]}")/find-python.sh" >/dev/null
    fi
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

# Debian 13 and Ubuntu 24.04 ship python3 >= 3.12 (which the Makefile takes); some releases have
# python3.12 or python3.13 beside an older python3. Debian 12 has only 3.11: there the packages
# cannot help, and pyenv (or another build of 3.12) must provide it.
if ((python_missing)); then
    missing+=(python3 python3-venv)
fi
((${#missing[@]})) || exit 0
python_help="make $purpose needs Python 3.12 or newer with venv (ansible-core 2.21 needs it); none was found on PATH (python3.12, python3.13, python3) or in ${PYENV_ROOT:-$HOME/.pyenv}/versions. Install one, e.g. 'pyenv install 3.12', or name it: make $purpose PYTHON=/path/to/python3.12"
if ((EUID != 0)); then
    echo "make $purpose needs these system packages: ${missing[*]}" >&2
    echo "install them with:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    ((python_missing)) && echo "(python3 must be 3.12 or newer; where it is older: $python_help)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "make $purpose needs these packages (Debian/Ubuntu names): ${missing[*]}; install them with your system's package manager" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
if ((python_missing)); then
    python_package=""
    # The first of python3.12, python3.13 (with its -venv) or python3 whose version is >= 3.12.
    for candidate in python3.12 python3.13 python3; do
        version=$(apt-cache policy "$candidate" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
        [[ -n "$version" && "$version" != "(none)" ]] || continue
        if [[ "$candidate" == python3 ]]; then
            # python3's package version is the Python version (3.13.5-1, 3.11.2-1+b1).
            dpkg --compare-versions "$version" ge 3.12 || continue
        fi
        python_package=$candidate
        break
    done
    if [[ -z "$python_package" ]]; then
        echo "$python_help" >&2
        exit 1
    fi
    for i in "${!missing[@]}"; do
        case "${missing[i]}" in
            python3) missing[i]=$python_package ;;
            python3-venv) missing[i]=$python_package-venv ;;
        esac
    done
fi
echo "installing system packages: ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
