#!/usr/bin/env bash
# The local sweep executor's speed-up: the same sweep with --workers 1 and --workers 2, each from
# an empty cache and runs folder, the store off. Measure on an idle machine.
# Usage: scripts/bench-sweep.sh [spec] [scale] [seeds]   (default: fig1 at quick scale, seeds 0..2)
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-experiments/paper/fig1.yaml}
scale=${2:-quick}
seeds=${3:-0..2}
for w in 1 2; do
  d=$(mktemp -d)
  start=$(date +%s.%N)
  L2O_STORE=off node packages/cli/bin/run.js sweep "$spec" --scale "$scale" --seeds "$seeds" --workers "$w" \
    --runs-dir "$d/runs" --reports-dir "$d/sweeps" --cache-dir "$d/cache" -q >"$d/out.txt" 2>&1 || true
  end=$(date +%s.%N)
  echo "workers $w: $(echo "$end - $start" | bc) s; $(tail -1 "$d/out.txt")"
  rm -rf "$d"
done
