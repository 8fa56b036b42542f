#!/usr/bin/env bash
# Checks scripts/find-python.sh (how `make venv` picks its interpreter) on made-up machines: a PATH
# whose python3.12 is an unactivated pyenv shim and whose python3 is too old, a pyenv root with several
# versions (named by PYENV_ROOT or by pyenv itself), and a machine with no Python >= 3.12 at all. Run by scripts/test.sh lint.
# Usage: scripts/test_find_python.sh <a real Python >= 3.12>
set -uo pipefail

real=$(readlink -f "$1")
find_python="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/find-python.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

expect() { # expect <name> <wanted output> <PATH> <PYENV_ROOT>
    local got rc
    got=$(PATH="$3:/usr/bin:/bin" PYENV_ROOT="$4" HOME="$tmp/home" bash "$find_python")
    rc=$?
    if [[ "$got" != "$2" ]] || { [[ -n "$2" ]] && ((rc != 0)); } || { [[ -z "$2" ]] && ((rc == 0)); }; then
        echo "find-python.sh, $1: printed '$got' (exit $rc), expected '${2:-nothing, exit 1}'"
        failures=$((failures + 1))
    fi
}

# PATH: python3.12 is a pyenv shim of a version that is not activated, python3 is 3.11.
mkdir -p "$tmp/bin" "$tmp/home"
# (python3.13 too: it hides one the system may have in /usr/bin.)
for shim in python3.12 python3.13; do
    printf '#!/bin/sh\necho "pyenv: %s: command not found" >&2\nexit 127\n' "$shim" >"$tmp/bin/$shim"
done
# python3 answers as a Python 3.11 would (its own version and path) and works otherwise.
cat >"$tmp/bin/python3" <<END
#!/bin/sh
exec "$real" -c 'import sys; sys.version_info = (3, 11, 7, "final", 0); sys.executable = "$tmp/bin/python3"; exec(sys.argv[1])' "\$2"
END
chmod +x "$tmp/bin/python3.12" "$tmp/bin/python3.13" "$tmp/bin/python3"
# pyenv: 3.11 (too old) and two 3.12 releases, all links to elsewhere.
for version in 3.11.7 3.12.2 3.12.10; do
    mkdir -p "$tmp/pyenv/versions/$version/bin"
done
ln -s /bin/false "$tmp/pyenv/versions/3.11.7/bin/python3.11"
ln -s "$real" "$tmp/pyenv/versions/3.12.2/bin/python3.12"
ln -s "$real" "$tmp/pyenv/versions/3.12.10/bin/python3.12"
mkdir -p "$tmp/real-bin" && ln -s "$real" "$tmp/real-bin/python3.12"

# The shim and the old python3 are passed over; pyenv's version is taken, as its real binary.
expect "shim on PATH, pyenv has 3.12" "$real" "$tmp/bin" "$tmp/pyenv"
# A working python3.12 on PATH comes first, also resolved to the real binary.
expect "python3.12 on PATH" "$real" "$tmp/real-bin:$tmp/bin" "$tmp/pyenv"
# No PYENV_ROOT: the root that pyenv on PATH is installed in (<root>/bin/pyenv, a link into
# <root>/libexec as pyenv installs itself) is searched.
mkdir -p "$tmp/pyenv/bin" "$tmp/pyenv/libexec"
printf '#!/bin/sh\nexit 0\n' >"$tmp/pyenv/libexec/pyenv" && chmod +x "$tmp/pyenv/libexec/pyenv"
ln -s ../libexec/pyenv "$tmp/pyenv/bin/pyenv"
expect "no PYENV_ROOT, pyenv on PATH" "$real" "$tmp/bin:$tmp/pyenv/bin" ""
# Nothing >= 3.12: nothing printed, exit 1 (make venv then says what to install).
rm "$tmp/pyenv/versions/3.12.2/bin/python3.12" "$tmp/pyenv/versions/3.12.10/bin/python3.12"
expect "no Python >= 3.12" "" "$tmp/bin" "$tmp/pyenv"

((failures == 0)) && echo "find-python.sh: 4 cases passed"
((failures == 0))
