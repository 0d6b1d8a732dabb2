#!/usr/bin/env bash
# Data-parallel scenery-train (2 ranks x 1 thread) against 1 rank x 2 threads, against
# PyTorch's DistributedDataParallel (torchrun, Gloo), same data, global batch and threads, and
# against 2 independent 1-thread trainings (the ceiling without communication).
# Usage: benchmarks/side_by_side_ddp.sh [build dir] [arch] [size] [steps per epoch]
#   e.g. benchmarks/side_by_side_ddp.sh build resnet18 112 20
# Environment: SCENERY_BENCH_BATCH (per rank, default 16; a list such as "16 64 128" runs
# each in turn), SCENERY_BENCH_THREADS (of the single run, default 2),
# SCENERY_BENCH_WORKERS (per process, default 1), SCENERY_BENCH_BUCKET_MB (default 25),
# SCENERY_BENCH_REPEAT (rounds, default 1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
arch="${2:-resnet18}"
size="${3:-112}"
steps="${4:-20}"
tool="$build/train/scenery-train"
synth="$build/data/scenery-data"
for t in "$tool" "$synth"; do
  [[ -x "$t" ]] || { echo "build $t first" >&2; exit 2; }
done
classes=8
for batch in ${SCENERY_BENCH_BATCH:-16}; do
  per_class=$(( (steps * 2 * batch + classes - 1) / classes ))
  data="${TMPDIR:-/tmp}/scenery-sbs-ddp-$steps-$batch"
  if [[ ! -d "$data" ]]; then
    "$synth" synth --layout places365 --out "$data" --classes "$classes" \
      --per-class "$per_class" --size 256 >/dev/null
  fi
  /usr/bin/python3 "$here/side_by_side_ddp.py" --tool "$tool" --data "$data" --arch "$arch" \
    --classes "$classes" --size "$size" --batch "$batch" \
    --threads "${SCENERY_BENCH_THREADS:-2}" --workers "${SCENERY_BENCH_WORKERS:-1}" \
    --bucket-mb "${SCENERY_BENCH_BUCKET_MB:-25}" --repeat "${SCENERY_BENCH_REPEAT:-1}"
done
