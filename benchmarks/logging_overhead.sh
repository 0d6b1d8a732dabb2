#!/usr/bin/env bash
# What watching a run costs: scenery-train with every optimizer step recorded (log.every 1,
# the gradient norm, pictures at every validation) against recording off (log.record false).
# Same data, seed and options otherwise; the two alternate so machine drift hits both alike.
# Prints each run's training images/s (metrics.csv, the epochs' mean) and whole-command wall
# seconds (validation and its pictures included), then the medians and their ratio.
# Usage: benchmarks/logging_overhead.sh [build dir] [repeats] [epochs]
#   e.g. benchmarks/logging_overhead.sh build 5 2
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
repeats="${2:-5}"
epochs="${3:-2}"
tool="$build/train/scenery-train"
synth="$build/data/scenery-data"
for t in "$tool" "$synth"; do
  [[ -x "$t" ]] || { echo "build $t first" >&2; exit 2; }
done
data="${TMPDIR:-/tmp}/scenery-bench-logging"
if [[ ! -d "$data" ]]; then
  "$synth" synth --layout places365 --out "$data" --classes 8 --per-class 40 --size 128 >/dev/null
fi
common=(--data.dataset places365 --data.root "$data" --data.batch_size 16 --data.workers 1
  --data.image_size 96 --data.resize 112 --model.arch resnet18 --model.num_classes 8
  --train.epochs "$epochs" --train.lr 0.01 --train.threads 2 --train.clip_grad_norm 100)
on=(--log.every 1 --log.images true --log.examples 4)
off=(--log.record false)

one_run() {
  local label=$1
  shift
  local dir start end
  dir=$(mktemp -d)
  start=$(date +%s.%N)
  "$tool" "${common[@]}" --train.run_dir "$dir/run" "$@" >"$dir/out.log" 2>&1 ||
    { cat "$dir/out.log" >&2; exit 1; }
  end=$(date +%s.%N)
  # metrics.csv column 9 is images_per_s.
  awk -F, -v label="$label" -v wall="$(echo "$end - $start" | bc)" \
    'NR > 1 { sum += $9; n++ } END { printf "%s %.2f %.2f\n", label, sum / n, wall }' \
    "$dir/run/metrics.csv"
  rm -rf "$dir"
}

results=$(for _ in $(seq "$repeats"); do
  one_run on "${on[@]}"
  one_run off "${off[@]}"
done)
echo "run images_per_s wall_s"
echo "$results"
echo "$results" | /usr/bin/python3 -c '
import statistics, sys
rows = [line.split() for line in sys.stdin if line.strip()]
def median(kind, column):
    return statistics.median(float(r[column]) for r in rows if r[0] == kind)
for name, column in (("images/s", 1), ("wall s", 2)):
    on, off = median("on", column), median("off", column)
    print(f"median {name}: recording {on:.2f}, off {off:.2f}, ratio {on / off:.3f}")
'
