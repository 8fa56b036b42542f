#!/usr/bin/env bash
# The project's whole test gate (make test). Runs each step in order, stops at the
# first failing one and always ends with the line "N passed, N failed".
#
# Usage: scripts/test.sh [--keep-going] [step ...]
#   steps: copy sanity units matrix localmarathon integration reliability lint changelog docs molecule build ee
#   (default: all, in that order; "copy" is added whenever a step needs the tree copy).
# Environment: VENV (default <repo>/.venv), KEEP_TEST_TREE=1 keeps the temporary tree,
#   INTEGRATION_TARGETS="a b" runs only those integration targets.
# Steps are called indirectly ("step_$name"), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$REPO/.venv}
# Steps run in other directories, so the venv path must be absolute.
[[ "$VENV" == /* ]] || VENV="$PWD/$VENV"
ALL_STEPS=(copy sanity units matrix localmarathon integration reliability lint changelog docs molecule build ee)
# Copied into the collection tree is everything tracked (or new and not ignored)
# except these, which are the development tools around the collection.
COPY_EXCLUDES=(localmarathon bench .ci requirements scripts collections ansible.cfg Makefile)
# Nothing of these may end up in the built collection tarball.
TARBALL_FORBIDDEN='(^|/)(localmarathon|bench|\.ci|\.venv|\.git|requirements|scripts|collections|__pycache__|\.pytest_cache|\.hypothesis|\.ansible)(/|$)|^tests/output(/|$)|^tests/integration/inventory$|^Makefile$|^ansible\.cfg$|\.tar\.gz$|\.pyc$'

keep_going=0
selected=()
for arg in "$@"; do
    case "$arg" in
        --keep-going) keep_going=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *)
            if [[ " ${ALL_STEPS[*]} " != *" $arg "* ]]; then
                echo "scripts/test.sh: unknown step '$arg' (steps: ${ALL_STEPS[*]})" >&2
                echo "0 passed, 1 failed"
                exit 2
            fi
            selected+=("$arg") ;;
    esac
done
if ((${#selected[@]} == 0)); then
    selected=("${ALL_STEPS[@]}")
elif [[ " ${selected[*]} " != *" copy "* ]] && [[ " ${selected[*]} " =~ \ (sanity|units|matrix|integration|lint|changelog|docs|molecule|ee)\  ]]; then
    selected=(copy "${selected[@]}")
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "scripts/test.sh: no virtual environment at $VENV; run 'make venv' first (make test does it)." >&2
    echo "0 passed, 1 failed"
    exit 1
fi
export PATH="$VENV/bin:$PATH"
export PYTHONDONTWRITEBYTECODE=1
PYVER=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dcos-marathon-test.XXXXXX")
COLL="$WORK/ansible_collections/dcos/marathon"
cleanup() {
    [[ "${KEEP_TEST_TREE:-0}" == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }

# ---- steps -------------------------------------------------------------------

step_copy() {
    # ansible-test needs a real .../ansible_collections/dcos/marathon directory
    # (a symlinked tree is refused), so copy the collection files there.
    mkdir -p "$COLL"
    local list="$WORK/files.lst"
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard) |
        "$VENV/bin/python" -c '
import os, sys
excludes = sys.argv[1:]
seen = set()
for name in sys.stdin.buffer.read().split(b"\0"):
    path = name.decode()
    top = path.split("/", 1)[0]
    # ls-files lists tracked files that were deleted in the work tree; skip them.
    if not path or path in seen or top in excludes or not os.path.lexists(path):
        continue
    seen.add(path)
    sys.stdout.buffer.write(name + b"\0")
' "${COPY_EXCLUDES[@]}" >"$list" || return 1
    (cd "$REPO" && tar --null --no-recursion -T "$list" -cf -) | (cd "$COLL" && tar -xf -) || return 1
    say "copied $(tr -cd '\0' <"$list" | wc -c) files to $COLL"
}

step_sanity() {
    if ! command -v shellcheck >/dev/null 2>&1; then
        say "shellcheck is not installed; ansible-test would silently skip the shell checks."
        say "Install it (apt-get install shellcheck; .ci/run does this) and rerun."
        return 1
    fi
    install_pip_bootstrap || return 1
    (cd "$COLL" && ansible-test sanity --local --python "$PYVER" --color no)
}

step_units() {
    install_pip_bootstrap || return 1
    (cd "$COLL" && ansible-test units --local --python "$PYVER" --color no --num-workers 2)
}

# ---- version matrix ----------------------------------------------------------
# Every other step runs on the development venv, the newest ansible-core (requirements/dev.txt).
# This one runs the older cores, one small venv each under $VENV/matrix, built from
# requirements/matrix/core-2.NN.txt with the development venv's Python: units and a smaller
# sanity list on each (the full list runs on the newest, in step_sanity), and the life cycles of
# marathon_app and of the stateful_postgres role on the oldest (the integration step runs them on
# the newest). The oldest pinned core is what meta/runtime.yml's requires_ansible must state.
# pylint (about 35 s a core on a cold cache) and the file checks run on the newest only, to keep
# the gate within 20 minutes.
MATRIX_SANITY_TESTS=(ansible-doc compile import runtime-metadata validate-modules)
MATRIX_INTEGRATION_TARGETS=(marathon_app stateful_postgres_lifecycle)

# matrix_venv <pin file> [integration]: print the venv built from the pin file, (re)building it
# when it is missing or was built from other pins; "integration" also installs localmarathon
# (editable, as make venv does), which the integration targets start with the venv's python, and
# community.postgresql (the role's backups) as make venv unpacked it into the development venv.
matrix_venv() {
    local pins=$1 with=${2:-} venv python
    venv="$VENV/matrix/$(basename "$pins" .txt)"
    if ! [[ -x "$venv/bin/ansible-test" ]] || ! cmp -s "$pins" "$venv/.pins"; then
        python=$(readlink -f "$("$VENV/bin/python" -c 'import sys; print(sys._base_executable)')") || return 1
        say "building $venv from ${pins#"$REPO"/} with $python" >&2
        rm -rf "$venv"
        "$python" -m venv "$venv" >&2 &&
            "$venv/bin/python" -m pip install -qq --disable-pip-version-check "$(grep -E '^pip==' "$REPO/requirements/dev.txt")" >&2 &&
            "$venv/bin/python" -m pip install -qq --disable-pip-version-check -r "$pins" >&2 || return 1
        cp "$pins" "$venv/.pins"
    fi
    if [[ "$with" == integration ]]; then
        if ! (cd / && "$venv/bin/python" -c 'import localmarathon') 2>/dev/null; then
            "$venv/bin/python" -m pip install -qq --disable-pip-version-check --no-deps -e "$REPO/localmarathon" \
                --config-settings editable_mode=compat >&2 2>/dev/null || return 1
        fi
        local from to
        from="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections/community/postgresql"
        to="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections/community/postgresql"
        if ! cmp -s "$from/MANIFEST.json" "$to/MANIFEST.json"; then
            [[ -f "$from/MANIFEST.json" ]] || { say "community.postgresql is not in $VENV; run 'make venv'" >&2; return 1; }
            rm -rf "$to" && mkdir -p "$(dirname "$to")" && cp -R "$from" "$to" || return 1
        fi
    fi
    echo "$venv"
}

core_version() { "$1/bin/python" -c 'from ansible.release import __version__; print(__version__)'; }

step_matrix() {
    local pins=() pin venv core rc=0 lines=() oldest_venv tree int_pid int_rc=0 t0 sanity_rc units_rc name test_args=()
    for name in "${MATRIX_SANITY_TESTS[@]}"; do test_args+=(--test "$name"); done
    mapfile -t pins < <(find "$REPO/requirements/matrix" -name 'core-*.txt' 2>/dev/null | sort -V)
    if ((${#pins[@]} == 0)); then
        say "no ansible-core pins (requirements/matrix/core-2.NN.txt)"
        return 1
    fi
    # meta/runtime.yml claims exactly what is tested: from the oldest pinned core on.
    local oldest_minor claimed
    oldest_minor=$(basename "${pins[0]}" .txt | sed 's/^core-//')
    claimed=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["requires_ansible"])' "$COLL/meta/runtime.yml") || return 1
    if [[ "$claimed" != ">=$oldest_minor.0" ]]; then
        say "meta/runtime.yml says requires_ansible '$claimed', but the oldest ansible-core tested is $oldest_minor" \
            "(requirements/matrix/core-$oldest_minor.txt): make it '>=$oldest_minor.0'"
        return 1
    fi
    install_pip_bootstrap "$VENV" || return 1
    ensure_ansible_test_ssh_key || return 1
    oldest_venv=$(matrix_venv "${pins[0]}" integration) || { say "could not build the venv of ${pins[0]#"$REPO"/}"; return 1; }
    install_pip_bootstrap "$oldest_venv" || return 1
    say "newest ansible-core $(core_version "$VENV") is the development venv (steps sanity, units, integration);"
    say "older: $(for pin in "${pins[@]}"; do basename "$pin" .txt; done | sed 's/^core-//' | tr '\n' ' ')"
    # The integration targets mostly wait on deployments and health checks, so they run on their own
    # copy of the tree (ansible-test writes its inventory and output there) while the older
    # cores' sanity and units run.
    tree="$WORK/matrix-integration/ansible_collections/dcos/marathon"
    mkdir -p "$tree" && (cd "$COLL" && tar --exclude=./tests/output -cf - .) | (cd "$tree" && tar -xf -) || return 1
    t0=$(date +%s)
    (cd "$tree" && PATH="$oldest_venv/bin:$PATH" ansible-test integration --local --python "$PYVER" --color no \
        "${MATRIX_INTEGRATION_TARGETS[@]}") >"$WORK/matrix-integration.log" 2>&1 &
    int_pid=$!
    for pin in "${pins[@]}"; do
        if ! venv=$(matrix_venv "$pin") || ! install_pip_bootstrap "$venv"; then
            say "could not build the venv of ${pin#"$REPO"/}"
            rc=1
            continue
        fi
        core=$(core_version "$venv")
        local s0 s1 s2
        s0=$(date +%s)
        say "----- ansible-core $core: sanity (${MATRIX_SANITY_TESTS[*]}) -----"
        (cd "$COLL" && PATH="$venv/bin:$PATH" ansible-test sanity --local --python "$PYVER" --color no "${test_args[@]}")
        sanity_rc=$?
        s1=$(date +%s)
        say "----- ansible-core $core: units -----"
        (cd "$COLL" && PATH="$venv/bin:$PATH" ansible-test units --local --python "$PYVER" --color no --num-workers 2)
        units_rc=$?
        s2=$(date +%s)
        ((sanity_rc == 0 && units_rc == 0)) || rc=1
        lines+=("$(printf '%-9s sanity %-6s %4ss   units %-6s %4ss' "$core" \
            "$( ((sanity_rc)) && echo FAILED || echo passed)" $((s1 - s0)) "$( ((units_rc)) && echo FAILED || echo passed)" $((s2 - s1)))")
    done
    wait "$int_pid" || int_rc=1
    say "----- ansible-core $(core_version "$oldest_venv"): integration ${MATRIX_INTEGRATION_TARGETS[*]} -----"
    cat "$WORK/matrix-integration.log"
    # A target that ansible-test skipped (see step_integration) did not pass.
    for name in "${MATRIX_INTEGRATION_TARGETS[@]}"; do
        grep -q "^Running $name integration test" "$WORK/matrix-integration.log" || { say "$name did not run"; int_rc=1; }
    done
    ((int_rc == 0)) || rc=1
    lines+=("$(printf '%-9s integration %s %s, %ss (beside the rows above)' "$(core_version "$oldest_venv")" \
        "${MATRIX_INTEGRATION_TARGETS[*]}" "$( ((int_rc)) && echo FAILED || echo passed)" $(($(date +%s) - t0)))")
    say "matrix (older ansible-core; the newest, $(core_version "$VENV"), is the other steps):"
    printf '  %s\n' "${lines[@]}"
    return "$rc"
}

step_localmarathon() {
    if ! python -c 'import localmarathon' 2>/dev/null; then
        say "localmarathon is not installed in $VENV; run 'make venv' (it installs it with pip install -e)."
        return 1
    fi
    # pytest exits 5 when it collected nothing: a failure here like any other.
    (cd "$REPO/localmarathon" && python -m pytest tests -n 2 -q -p no:cacheprovider --durations=10)
}

step_integration() {
    install_pip_bootstrap || return 1
    ensure_ansible_test_ssh_key || return 1
    local targets
    targets=$(find "$COLL/tests/integration/targets" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort | while read -r dir; do
        grep -qsxE 'hidden|disabled|unsupported' "$dir/aliases" || basename "$dir"
    done)
    if [[ -n "${INTEGRATION_TARGETS:-}" ]]; then
        # A developer's subset (space-separated names); an unknown name is an error.
        local name kept=()
        for name in $INTEGRATION_TARGETS; do
            grep -qxF "$name" <<<"$targets" || { say "unknown integration target '$name' (targets: $(tr "\n" " " <<<"$targets"))"; return 1; }
            kept+=("$name")
        done
        targets=$(printf '%s\n' "${kept[@]}")
    fi
    if [[ -z "$targets" ]]; then
        say "no integration targets found under tests/integration/targets"
        return 1
    fi
    say "targets: $(echo "$targets" | tr '\n' ' ')"
    # The targets mostly wait on deployments and health checks, so they run in
    # INTEGRATION_SHARDS (default 2) ansible-test processes at once, each on its
    # own copy of the tree (ansible-test writes its inventory and output there).
    # Every target starts its own localmarathon on a free port and data dir.
    local shards=${INTEGRATION_SHARDS:-2} list=() shard pids=() rc=0 failed_shards=() name
    # Seconds each target takes alone on a 2-core machine (measured); the longest go first, each
    # to the shard with the least work so far, so the shards end about together. Unknown: 30.
    local -A weight=([marathon_versions]=140 [marathon_app]=105 [rollout]=70 [stateful_postgres_lifecycle]=60
        [stateful_postgres_backup]=85 [stateful_postgres_secret]=70 [marathon_group]=60 [postgres_pooler_group]=45
        [stateful_postgres_template]=40 [dcos_secret]=25 [marathon_task_info]=35 [marathon_app_auth]=30 [marathon_app_info]=20)
    mapfile -t list < <(for name in $targets; do echo "${weight[$name]:-30} $name"; done | sort -k1,1nr -k2 | cut -d' ' -f2)
    ((shards > ${#list[@]})) && shards=${#list[@]}
    ((shards >= 1)) || shards=1
    local -a load=() assigned=()
    for ((shard = 0; shard < shards; shard++)); do load[shard]=0; assigned[shard]=""; done
    for name in "${list[@]}"; do
        local lightest=0
        for ((shard = 1; shard < shards; shard++)); do ((load[shard] < load[lightest])) && lightest=$shard; done
        load[lightest]=$((load[lightest] + ${weight[$name]:-30}))
        assigned[lightest]+="$name "
    done
    for ((shard = 0; shard < shards; shard++)); do
        local tree="$COLL" mine=()
        if ((shard > 0)); then
            tree="$WORK/shard$shard/ansible_collections/dcos/marathon"
            mkdir -p "$tree" && (cd "$COLL" && tar --exclude=./tests/output -cf - .) | (cd "$tree" && tar -xf -) || return 1
        fi
        read -r -a mine <<<"${assigned[shard]}"
        say "shard $((shard + 1))/$shards: ${mine[*]}"
        (cd "$tree" && ansible-test integration --local --python "$PYVER" --color no "${mine[@]}") \
            >"$WORK/integration.$shard.log" 2>&1 &
        pids+=($!)
    done
    # The first shard's output is shown as it goes, the others' when they are done.
    tail -n +1 -f "$WORK/integration.0.log" --pid "${pids[0]}" &
    local tail_pid=$!
    for ((shard = 0; shard < shards; shard++)); do
        if ! wait "${pids[shard]}"; then
            rc=1
            failed_shards+=("$((shard + 1))")
        fi
    done
    wait "$tail_pid" 2>/dev/null
    for ((shard = 1; shard < shards; shard++)); do
        say "----- shard $((shard + 1))/$shards output -----"
        cat "$WORK/integration.$shard.log"
    done
    cat "$WORK"/integration.*.log >"$WORK/integration.log"
    if ((rc != 0)); then
        say "ansible-test integration failed in shard(s): ${failed_shards[*]}"
        return 1
    fi
    # ansible-test skips some targets with only a warning (aliases such as
    # destructive, unstable, needs/...); a target that did not run is a failure here.
    local target skipped=()
    for target in $targets; do
        grep -q "^Running $target integration test" "$WORK/integration.log" || skipped+=("$target")
    done
    if ((${#skipped[@]})); then
        say "ansible-test did not run these targets (see the warnings above): ${skipped[*]}"
        return 1
    fi
}

# ---- reliability (owned by the reliability suite, tests/reliability) ----------
# Faults, bad input, data safety, secrets and TLS against the real modules on
# localmarathon. Raw results go to tests/output/reliability/results.json;
# 'make reliability' also turns them into docs/reliability.md.
step_reliability() {
    if ! python -c 'import localmarathon' 2>/dev/null; then
        say "localmarathon is not installed in $VENV; run 'make venv' (it installs it with pip install -e)."
        return 1
    fi
    local results=${RELIABILITY_RESULTS:-$WORK/reliability-results.json}
    (cd "$REPO" && RELIABILITY_RESULTS="$results" python -m pytest tests/reliability -n 2 -q -p no:cacheprovider --durations=5) ||
        return 1
    # The committed report must list the cases the suite has now ('make reliability' remakes it).
    [[ "${RELIABILITY_CHECK_REPORT:-1}" == 1 ]] || return 0
    python "$REPO/scripts/reliability_report.py" --results "$results" --check-cases
}
# ---- end reliability ------------------------------------------------------------

step_lint() {
    # ansible-lint puts its cache, $ANSIBLE_HOME (~/.ansible), first on the collections path: a
    # dcos.marathon installed there once (an older release) would shadow this tree. It gets its own.
    (cd "$COLL" && ANSIBLE_HOME="$WORK/lint-ansible-home" ANSIBLE_COLLECTIONS_PATH="$WORK" \
        ansible-lint --profile production --offline --nocolor) || return 1
    # The shell scripts around the collection are not in the copy, so sanity does not see them.
    (cd "$REPO" && shellcheck -x .ci/run scripts/*.sh) || return 1
    # How make venv finds its Python >= 3.12 (on PATH, else pyenv's versions, never a shim).
    bash "$REPO/scripts/test_find_python.sh" "$("$VENV/bin/python" -c 'import sys; print(sys._base_executable)')" || return 1
    # Every vendored Marathon reference file has its source and license in tests/reference/SOURCES.md.
    python "$REPO/scripts/vendor_reference.py" --check || return 1
    # The committed reports say which commit and tool versions produced them.
    local report
    for report in docs/reliability.md bench/results.md; do
        grep -qE '^Produced by: commit [0-9a-f]{12}' "$REPO/$report" ||
            { say "$report does not say which commit produced it ('Produced by: commit ...'); make it again"; return 1; }
    done
}

step_changelog() {
    (cd "$COLL" && antsibull-changelog lint) || return 1
    # CHANGELOG.rst must be what changelogs/changelog.yaml generates.
    (cd "$COLL" && antsibull-changelog generate --output "$WORK/CHANGELOG.rst" --output-format rst) || return 1
    if ! diff -u "$COLL/CHANGELOG.rst" "$WORK/CHANGELOG.rst"; then
        say "CHANGELOG.rst is out of date: run 'antsibull-changelog generate' and commit it."
        return 1
    fi
    # Every commit since the last release that changes plugins/, roles/ or playbooks/ brings a fragment
    # (a 'trivial:' one for changes users cannot see); the tests of the tooling scripts run first.
    (cd "$REPO" && python -m pytest scripts/tests -q -p no:cacheprovider) || return 1
    python "$REPO/scripts/check_changelog_fragments.py" --repo "$REPO"
}

step_docs() {
    (cd "$COLL" && ANSIBLE_COLLECTIONS_PATH="$WORK" antsibull-docs lint-collection-docs --plugin-docs \
        --validate-collection-refs=all --disallow-unknown-collection-refs .) || return 1
    # The HTML docs site (make docs) from the tree copy, every Sphinx warning an error.
    DOCS_COLLECTIONS_PATH="$WORK" "$REPO/scripts/build_docs.sh" "$WORK/docsite"
}

step_molecule() {
    local scenarios
    scenarios=$(cd "$COLL" && ls extensions/molecule/*/molecule.yml 2>/dev/null)
    if [[ -z "$scenarios" ]]; then
        say "no molecule scenarios found under extensions/molecule"
        return 1
    fi
    say "scenarios: $(echo "$scenarios" | tr '\n' ' ')"
    # Molecule keeps scenario state under $XDG_CACHE_HOME/molecule/<project dir name>, the same
    # name ("marathon") for every copy: a state left by an earlier or concurrent run would be
    # taken for this one's. Each run gets its own, created from nothing.
    (cd "$COLL" && XDG_CACHE_HOME="$WORK/cache" ANSIBLE_COLLECTIONS_PATH="$WORK" ANSIBLE_FORCE_COLOR=0 molecule test --all)
}

step_build() {
    # Build from the checkout itself (venv, symlinks, caches and all), as a
    # maintainer would; galaxy.yml's build_ignore must keep the dev files out.
    local out="$WORK/build"
    mkdir -p "$out"
    (cd "$REPO" && ansible-galaxy collection build --force --output-path "$out" .) || return 1
    local tarball
    tarball=$(find "$out" -maxdepth 1 -name "dcos-marathon-*.tar.gz" | head -n1)
    if [[ -z "$tarball" ]]; then
        say "ansible-galaxy did not produce dcos-marathon-*.tar.gz"
        return 1
    fi
    local members bad missing=()
    members=$(tar -tzf "$tarball" | sed 's#^\./##; s#/$##')
    bad=$(grep -E "$TARBALL_FORBIDDEN" <<<"$members")
    if [[ -n "$bad" ]]; then
        say "the tarball contains development files (fix build_ignore in galaxy.yml):"
        say "$bad" | head -n 40
        return 1
    fi
    for required in MANIFEST.json FILES.json README.md LICENSE meta/runtime.yml CHANGELOG.rst \
        requirements.txt bindep.txt meta/execution-environment.yml; do
        grep -qxF "$required" <<<"$members" || missing+=("$required")
    done
    # Every shipped plugin file of the checkout must be in the tarball.
    while IFS= read -r plugin; do
        grep -qxF "$plugin" <<<"$members" || missing+=("$plugin")
    done < <(cd "$REPO" && git ls-files --cached --others --exclude-standard -- plugins roles playbooks meta |
        while IFS= read -r f; do [[ -e "$f" ]] && echo "$f"; done)
    if ((${#missing[@]})); then
        say "the tarball lacks files it must ship: ${missing[*]}"
        return 1
    fi
    say "$(basename "$tarball"): $(wc -l <<<"$members") entries, $(du -k "$tarball" | cut -f1) KiB, no development files"
}

# ---- execution environment -----------------------------------------------------
# AWX and Automation Platform run collections in execution environments that ansible-builder
# builds; it reads each installed collection's meta/execution-environment.yml (requirements.txt,
# bindep.txt). There is no container engine here, so this checks what the builder reads from the
# collection as built (installed from its tarball: only what ships counts) and the build context
# that `ansible-builder create` writes for tests/ee/execution-environment.yml (scripts/check_ee.py).
step_ee() {
    local ee="$WORK/ee" tarball
    mkdir -p "$ee/build" || return 1
    (cd "$REPO" && ansible-galaxy collection build --force --output-path "$ee/build" .) >/dev/null || return 1
    tarball=$(find "$ee/build" -maxdepth 1 -name "dcos-marathon-*.tar.gz" | head -n1)
    [[ -n "$tarball" ]] || { say "ansible-galaxy did not produce dcos-marathon-*.tar.gz"; return 1; }
    ansible-galaxy collection install --no-deps --force -p "$ee/collections" "$tarball" >/dev/null 2>&1 ||
        { say "could not install $tarball"; return 1; }
    bindep --file "$COLL/bindep.txt" --list_all newline >/dev/null || { say "bindep cannot read bindep.txt"; return 1; }
    # A failed introspection (a file the metadata names is missing) is reported by check_ee.py too.
    local rc=0
    ansible-builder introspect "$ee/collections" >"$ee/introspect.yml" 2>"$ee/introspect.err" || { tail -n 3 "$ee/introspect.err"; rc=1; }
    cat "$ee/introspect.yml"
    (cd "$COLL" && ansible-builder create -f tests/ee/execution-environment.yml --context "$ee/context" --output-filename Containerfile) ||
        return 1
    python "$REPO/scripts/check_ee.py" "$ee/collections/ansible_collections/dcos/marathon" "$ee/introspect.yml" \
        "$ee/context" "$COLL/galaxy.yml" || rc=1
    return "$rc"
}

# ansible-test bootstraps pip into each venv it makes with a script it would
# download from a host we cannot reach; put our offline stand-in in its cache.
# The version differs per ansible-core (23.1.2 for 2.16 and 2.17, 24.2 for 2.18 and 2.19, 25.2
# for 2.20 and 2.21): install_pip_bootstrap [venv] reads it from that venv's ansible-test.
install_pip_bootstrap() {
    local venv=${1:-$VENV} pip_version cache
    pip_version=$(grep -oE "pip='[0-9.]+'" "$("$venv/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" | head -n1 | tr -dc '0-9.')
    if [[ -z "$pip_version" ]]; then
        say "could not read the pip version ansible-test bootstraps (ansible_test/_internal/python_requirements.py)"
        return 1
    fi
    cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    if ! cmp -s "$REPO/scripts/ansible_test_bootstrap_get_pip.py" "$cache"; then
        # Copied under a temporary name and renamed: another gate on this machine may read it meanwhile.
        mkdir -p "$(dirname "$cache")" && cp "$REPO/scripts/ansible_test_bootstrap_get_pip.py" "$cache.$$" &&
            mv -f "$cache.$$" "$cache" || return 1
        say "installed the offline pip bootstrap at $cache"
    fi
}

# ansible-test makes its SSH key pair (~/.ansible/test/id_rsa) on first use, unlocked: two
# ansible-test processes started together on a HOME without one both run ssh-keygen, and the
# second stops at "Overwrite (y/n)?". Make it once, before anything runs in parallel, the way
# ansible-test does (PEM, RSA, no passphrase, "RSA PRIVATE KEY" headers for paramiko).
ensure_ansible_test_ssh_key() {
    local dir="$HOME/.ansible/test"
    mkdir -p "$dir" || return 1
    (
        flock 9 || exit 1
        [[ -f "$dir/id_rsa" && -f "$dir/id_rsa.pub" ]] && exit 0
        rm -f "$dir/id_rsa" "$dir/id_rsa.pub"
        ssh-keygen -m PEM -q -t rsa -N '' -f "$dir/id_rsa" </dev/null &&
            sed -i -E 's/(BEGIN|END) PRIVATE KEY/\1 RSA PRIVATE KEY/' "$dir/id_rsa" &&
            echo "created ansible-test's SSH key pair in $dir"
    ) 9>"$dir/.id_rsa.lock"
}

# ---- runner ------------------------------------------------------------------
# Everything runs from inside this function, which bash parses whole before
# running it: a script file that changes during a long run (an edit, a pull)
# cannot derail the run.
run_steps() {
    passed=0
    failed=0
    summary=()
    not_run=()
    stop=0
    for step in "${selected[@]}"; do
        if ((stop)); then
            not_run+=("$step")
            continue
        fi
        say ""
        say "===== [$((passed + failed + 1))/${#selected[@]}] $step ====="
        start=$(date +%s.%N)
        "step_$step"
        rc=$?
        secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
        if ((rc == 0)); then
            passed=$((passed + 1))
            status="passed"
        else
            failed=$((failed + 1))
            status="FAILED (exit $rc)"
            ((keep_going)) || stop=1
        fi
        say "===== $step $status in ${secs}s ====="
        summary+=("$(printf '%-14s %7ss  %s' "$step" "$secs" "$status")")
    done

    say ""
    [[ "${KEEP_TEST_TREE:-0}" == 1 ]] && say "Kept the test tree: $COLL"
    say "Summary:"
    printf '  %s\n' "${summary[@]}"
    if ((${#not_run[@]})); then
        say "  not run after the failure: ${not_run[*]}"
    fi
    say "$passed passed, $failed failed"
    ((failed == 0))
}

run_steps; exit $?
