#!/usr/bin/env bash
# Prints the real path of the Python interpreter the development venv is built from, or
# nothing (exit 1) when this machine has none. Used by the Makefile (PYTHON) and by
# scripts/system-packages.sh, so both agree on what counts as usable.
#
# ansible-core 2.21 needs Python >= 3.12. 3.12 comes first: it is the one Python that runs
# every ansible-core of the test matrix (2.16 to 2.21, scripts/test.sh matrix). Looked for:
#   1. python3.12, python3.13, python3 on PATH;
#   2. pyenv's installed versions, $PYENV_ROOT/versions/3.12.*, then 3.13.* (newest patch first;
#      without PYENV_ROOT the root pyenv on PATH is installed in, else ~/.pyenv),
#      which pyenv does not put on PATH unless they are activated.
# The result is the interpreter's own binary (sys.executable through readlink -f), never a
# pyenv shim or another symlink: a venv made from a link breaks once the link changes.
set -uo pipefail

MIN_MINOR=12

usable() { # usable <interpreter>: print its real path when it is a CPython >= 3.12 with venv and ensurepip
    local exe
    exe=$("$1" -c "import sys, venv, ensurepip; assert sys.version_info >= (3, $MIN_MINOR); print(sys.executable)" 2>/dev/null) &&
        [[ -n "$exe" ]] && readlink -f "$exe"
}

for candidate in python3.12 python3.13 python3; do
    command -v "$candidate" >/dev/null 2>&1 && usable "$candidate" && exit 0
done

# Without PYENV_ROOT (an environment may not export it), the root is where pyenv on PATH is
# installed (<root>/bin/pyenv -> <root>/libexec/pyenv; `pyenv root` would only say ~/.pyenv), else
# pyenv's default root.
pyenv_root=${PYENV_ROOT:-}
if [[ -z "$pyenv_root" ]] && pyenv_exe=$(command -v pyenv 2>/dev/null); then
    pyenv_root=$(cd "$(dirname "$(readlink -f "$pyenv_exe")")/.." 2>/dev/null && pwd)
fi
pyenv_root=${pyenv_root:-$HOME/.pyenv}
for minor in 12 13; do
    # Newest patch release first (3.12.10 before 3.12.9).
    while IFS= read -r dir; do
        [[ -x "$dir/bin/python3.$minor" ]] && usable "$dir/bin/python3.$minor" && exit 0
    done < <(compgen -G "$pyenv_root/versions/3.$minor.*" | sort -t. -k3,3nr)
done
exit 1
