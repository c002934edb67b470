#!/usr/bin/env bash
# The local sweep executor's speed-up: the same sweep with --workers 1 and --workers 2, each from
# an empty cache and runs folder, the store off. Measure on an idle machine: the load average is
# printed before and after each sweep. Besides the wall time, each line gives the jobs' summed
# seconds (their ratio between the two sweeps is the slow-down of two jobs sharing the machine)
# and the longest job (what no number of workers can shorten).
# Each sweep's status file (with every job's start and finish) is kept as
# $L2O_BENCH_OUT/sweep-workers-N.json (default: the system's temporary folder).
# Usage: scripts/bench-sweep.sh [spec] [scale] [seeds]   (default: fig1 at quick scale, seeds 0..2)
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-experiments/paper/fig1.yaml}
scale=${2:-quick}
seeds=${3:-0..2}
load() { cut -d' ' -f1-3 /proc/loadavg; }
for w in 1 2; do
  d=$(mktemp -d)
  before=$(load)
  start=$(date +%s.%N)
  L2O_STORE=off node packages/cli/bin/run.js sweep "$spec" --scale "$scale" --seeds "$seeds" --workers "$w" \
    --runs-dir "$d/runs" --reports-dir "$d/sweeps" --cache-dir "$d/cache" -q >"$d/out.txt" 2>&1 || true
  end=$(date +%s.%N)
  jobs=$(node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const done = s.jobs.filter((j) => j.state === "completed" && !j.result?.skipped);
    const sum = done.reduce((a, j) => a + (j.seconds ?? 0), 0);
    const longest = done.reduce((a, j) => (j.seconds > a.seconds ? j : a), { seconds: 0 });
    console.log(`${done.length} jobs summing ${sum.toFixed(1)} s, longest ${longest.seconds.toFixed(1)} s (${longest.kind} ${longest.label ?? ""} seed ${longest.seed})`);
  ' "$(ls -d "$d"/sweeps/*/status.json | head -1)")
  echo "workers $w: $(echo "$end - $start" | bc) s; ${jobs}; load before ${before}, after $(load); $(tail -1 "$d/out.txt")"
  cp "$(ls -d "$d"/sweeps/*/status.json | head -1)" "${L2O_BENCH_OUT:-${TMPDIR:-/tmp}}/sweep-workers-$w.json"
  rm -rf "$d"
done
