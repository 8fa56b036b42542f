# shellcheck shell=bash
# Shared by the runme.sh integration targets (aliases: needs/target/setup_localmarathon):
#   source ../setup_localmarathon/localmarathon.sh
#   lm_start [server args]   start a localmarathon on 127.0.0.1, free port, fresh data dir;
#                            exports LM_URL and LM_DATA_DIR; stopped when the script exits
#   lm_writes                print how many state-changing API requests it has served
#   lm_stop [data dir]       stop one now (default: the last started)
#   lm_stop_all              stop every one started here (the EXIT trap calls it; call it
#                            from your own EXIT trap if you replace this one)
# LM_PYTHON picks the interpreter (default: python, the one ansible-test provides).
# Sourcing it also exports MARATHON_REFERENCE_DIR: the Marathon reference files vendored in
# the collection's tests/reference, as ansible-test passes no environment of its own through.

LM_DATA_DIRS=()
declare -gA LM_PIDS=()

_lm_find_reference_dir() {
    # Walk up to the collection root: targets run in a copy under tests/output/ of the tree
    # ansible-test runs on, which is below that root.
    local dir
    dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
    while [[ "$dir" != / ]]; do
        if [[ -f "$dir/galaxy.yml" || -f "$dir/MANIFEST.json" ]] && [[ -d "$dir/tests/reference/marathon-api" ]]; then
            echo "$dir/tests/reference"
            return 0
        fi
        dir=$(dirname "$dir")
    done
    return 1
}

if [[ -z "${MARATHON_REFERENCE_DIR:-}" ]] && MARATHON_REFERENCE_DIR=$(_lm_find_reference_dir); then
    export MARATHON_REFERENCE_DIR
fi

lm_start() {
    local data_dir url
    data_dir=$(mktemp -d "${TMPDIR:-/tmp}/localmarathon.XXXXXX") || return 1
    # Run from / : "python -m" puts the current directory first on sys.path, and in
    # the repo root the localmarathon/ project dir would shadow the installed package.
    if ! url=$(cd / && "${LM_PYTHON:-python}" -m localmarathon.ctl up --data-dir "$data_dir" --port 0 "$@"); then
        echo "lm_start: localmarathon did not start; its log ($data_dir/localmarathon.log) ends with:" >&2
        tail -n 30 "$data_dir/localmarathon.log" >&2 2>/dev/null
        return 1
    fi
    LM_DATA_DIRS+=("$data_dir")
    LM_PIDS[$data_dir]=$(cat "$data_dir/localmarathon.pid" 2>/dev/null)
    LM_URL=$(printf '%s\n' "$url" | tail -n 1)
    LM_DATA_DIR=$data_dir
    export LM_URL LM_DATA_DIR
    # Stop the servers at exit, unless the test installed its own trap (lm_work_cleanup) already.
    [[ -n "$(trap -p EXIT)" ]] || trap lm_stop_all EXIT
    echo "localmarathon at $LM_URL (data: $LM_DATA_DIR)" >&2
}

lm_stop() {
    local data_dir=${1:-${LM_DATA_DIR:-}} pid
    [[ -n "$data_dir" ]] || return 0
    if [[ -d "$data_dir" ]]; then
        (cd / && "${LM_PYTHON:-python}" -m localmarathon.ctl down --data-dir "$data_dir")
        return
    fi
    # The data dir (and its pid file) was removed under us: stop the server by the
    # pid noted at start, if that process is still our localmarathon, so that
    # neither it nor its tasks outlive the test.
    pid=${LM_PIDS[$data_dir]:-}
    if [[ -n "$pid" ]] && grep -qa -- "$data_dir" "/proc/$pid/cmdline" 2>/dev/null; then
        echo "lm_stop: $data_dir is gone; stopping localmarathon pid $pid directly" >&2
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 300); do
            kill -0 "$pid" 2>/dev/null || return 1
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    fi
    return 1
}

lm_stop_all() {
    local status=$? data_dir
    for data_dir in "${LM_DATA_DIRS[@]}"; do
        lm_stop "$data_dir" || status=1
        if ((status == 0)); then
            rm -rf "$data_dir"
        elif [[ -d "$data_dir" ]]; then
            # Keep state, sandboxes and requests.jsonl to look at after a failure.
            echo "lm_stop_all: kept $data_dir for inspection" >&2
        fi
    done
    LM_DATA_DIRS=()
    return "$status"
}

lm_writes() {
    # The admin endpoint never needs auth. Its TLS certificate (with --tls-cert) is
    # the test's own self-signed one on 127.0.0.1, so it is not verified here.
    "${LM_PYTHON:-python}" - "${1:-$LM_URL}" <<'PY'
import json, ssl, sys, urllib.request
url = sys.argv[1].rstrip("/") + "/_localmarathon/stats"
context = ssl._create_unverified_context() if url.startswith("https:") else None
with urllib.request.urlopen(url, timeout=10, context=context) as response:
    print(json.load(response)["writes"])
PY
}

# lm_work_cleanup: the EXIT trap of a test with a work dir $WORK: stop every server started here,
# then remove $WORK when the test passed and keep it (saying where) when it failed.
lm_work_cleanup() {
    local status=$?
    lm_stop_all || status=1
    if ((status == 0)); then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
    exit "$status"
}
