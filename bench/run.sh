#!/usr/bin/env bash
# make bench: run every benchmark on localmarathon and write bench/results.{md,json,png}.
#
# Settings (environment):
#   BENCH_REPEAT=3        runs per figure (each figure is the median)
#   BENCH_LM_RUNS=3       runs of bench/localmarathon_bench.py (medians)
#   BENCH_APP=1           0 skips bench/marathon_app_bench.py (cross-check, DC/OS login)
#   BENCH_ROLLOUT=0       1 also runs bench/rollout_bench.py (rollout.yml, 1 and 10 PostgreSQL clusters;
#                         many minutes on 2 cores), BENCH_ROLLOUT_PROFILE=both|marathon|fast
#   BENCH_ONLY=...        comma-separated sections of bench/bench.py (default: all)
#   BENCH_OUT_DIR=bench   where results.* go
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
cd "$repo"

if [ -n "${VENV:-}" ]; then py="$VENV/bin/python"; elif [ -x .venv/bin/python ]; then py=.venv/bin/python; else py=$(command -v python3); fi
case $py in /*) ;; *) py="$repo/$py" ;; esac
repeat=${BENCH_REPEAT:-3}
lm_runs=${BENCH_LM_RUNS:-3}
out_dir=${BENCH_OUT_DIR:-$here}
began=$(date +%s)

raw=$(mktemp -d "${TMPDIR:-/tmp}/dcos-bench-raw.XXXXXX")
# PostgreSQL tasks run as the unprivileged postgres user and must reach their data dirs below TMPDIR.
chmod 755 "$raw"
trap 'rm -rf "$raw"' EXIT

echo "bench: collection benchmarks (bench/bench.py, repeat $repeat)"
"$py" bench/bench.py --out "$raw/bench.json" --repeat "$repeat" ${BENCH_ONLY:+--only "$BENCH_ONLY"}

lm_files=()
if [ -f bench/localmarathon_bench.py ] && [ "$lm_runs" -gt 0 ]; then
    for i in $(seq 1 "$lm_runs"); do
        echo "bench: localmarathon figures (bench/localmarathon_bench.py, run $i of $lm_runs)"
        "$py" bench/localmarathon_bench.py > "$raw/lm-$i.json"
        lm_files+=("$raw/lm-$i.json")
    done
fi

app_args=()
if [ "${BENCH_APP:-1}" = 1 ] && [ -f bench/marathon_app_bench.py ]; then
    echo "bench: marathon_app cross-check and DC/OS login (bench/marathon_app_bench.py)"
    # From the raw dir: in the repo root the localmarathon/ project dir would shadow the package.
    (cd "$raw" && "$py" "$repo/bench/marathon_app_bench.py" --rounds 10 --waits 6) > "$raw/marathon_app.json"
    app_args=(--marathon-app "$raw/marathon_app.json")
fi

rollout_args=()
if [ "${BENCH_ROLLOUT:-0}" = 1 ] && [ -f bench/rollout_bench.py ]; then
    echo "bench: rollout.yml on 1 and 10 clusters (bench/rollout_bench.py)"
    "$py" bench/rollout_bench.py --clusters 10 --profile "${BENCH_ROLLOUT_PROFILE:-both}" --out "$raw/rollout.json" > /dev/null
    rollout_args=(--rollout "$raw/rollout.json")
fi

runtime=$(( $(date +%s) - began ))
mkdir -p "$out_dir"
"$py" bench/report.py --bench "$raw/bench.json" ${lm_files[@]+--localmarathon "${lm_files[@]}"} \
    ${app_args[@]+"${app_args[@]}"} ${rollout_args[@]+"${rollout_args[@]}"} --runtime "$runtime" --out-dir "$out_dir"
echo "bench: wrote $out_dir/results.md, results.json, results.png in ${runtime}s"
