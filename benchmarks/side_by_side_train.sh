#!/usr/bin/env bash
# scenery-train vs the equivalent PyTorch training script (torchvision model +
# DataLoader, same transforms, data, batch, threads and workers).
# Usage: benchmarks/side_by_side_train.sh [build dir] [arch] [size] [iters]
#   arch: resnet18 (default), resnet50, sascene_resnet18
#   e.g. benchmarks/side_by_side_train.sh build resnet18 112 20
# Environment: SCENERY_BENCH_THREADS (default 2), SCENERY_BENCH_WORKERS (default 1),
# SCENERY_BENCH_BATCH (default 16), SCENERY_BENCH_REPEAT (alternating runs per side, medians
# compared; default 1), SCENERY_BENCH_PY_CHANNELS_LAST=1 (give the PyTorch
# side channels-last too; scenery-train uses it by default).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
arch="${2:-resnet18}"
size="${3:-112}"
iters="${4:-20}"
batch="${SCENERY_BENCH_BATCH:-16}"
tool="$build/train/scenery-train"
synth="$build/data/scenery-data"
for t in "$tool" "$synth"; do
  [[ -x "$t" ]] || { echo "build $t first" >&2; exit 2; }
done
classes=8
per_class=$(( (iters * batch + classes - 1) / classes ))
data="${TMPDIR:-/tmp}/scenery-sbs-train-$arch-$iters-$batch"
layout=places365
[[ "$arch" == sascene_* ]] && layout=ade20k
if [[ ! -d "$data" ]]; then
  "$synth" synth --layout "$layout" --out "$data" --classes "$classes" --per-class "$per_class" \
    --size 256 >/dev/null
fi
if [[ "$layout" == ade20k ]]; then
  classes=$(cut -d' ' -f2 "$data/sceneCategories.txt" | sort -u | wc -l)
  # Keep the training split a whole number of batches: both sides drop the rest.
fi
# Debian's python has torch + torchvision; a python3 earlier on PATH may not.
exec /usr/bin/python3 "$here/side_by_side_train.py" --tool "$tool" --data "$data" --arch "$arch" \
  --classes "$classes" --size "$size" --batch "$batch" --iters "$iters" \
  --threads "${SCENERY_BENCH_THREADS:-2}" --workers "${SCENERY_BENCH_WORKERS:-1}" \
  --repeat "${SCENERY_BENCH_REPEAT:-1}" ${SCENERY_BENCH_PY_CHANNELS_LAST:+--channels-last}
