#!/usr/bin/env bash
# Same training step, same machine, same threads: Scenery (C++) vs PyTorch (Python).
# Prints ms/step for each and the ratio ours/python (target <= 1.0).
#   benchmarks/side_by_side_models.sh [build dir] ; env: BATCH (16) SIZE (224) THREADS (nproc)
#   ARCHS ("resnet18 resnet50") CHANNELS_LAST (0|1)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
bench=$build/benchmarks/scenery-bench-models-step
export SCENERY_BENCH_BATCH=${BATCH:-16} SCENERY_BENCH_SIZE=${SIZE:-224}
export SCENERY_BENCH_THREADS=${THREADS:-$(nproc)}
suffix=""; pyflag=""
if [[ "${CHANNELS_LAST:-0}" == 1 ]]; then suffix="_channels_last"; pyflag="--channels-last"; fi
echo "batch $SCENERY_BENCH_BATCH, ${SCENERY_BENCH_SIZE}px, $SCENERY_BENCH_THREADS threads${suffix:+, channels-last}"
for arch in ${ARCHS:-resnet18 resnet50}; do
  # Median of 5 single-step repetitions after a warm-up step, as the Python side does.
  ours=$("$bench" --benchmark_filter="^BM_TrainStep/${arch}${suffix}/" --benchmark_min_time=0.001 \
           --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
           --benchmark_format=json | /usr/bin/python3 -c \
           'import json,sys; b=[b for b in json.load(sys.stdin)["benchmarks"] if b.get("aggregate_name")=="median"][0]; print("%.1f" % b["real_time"])')
  theirs=$(/usr/bin/python3 "$here/side_by_side_models.py" --arch "$arch" $pyflag \
             --batch "$SCENERY_BENCH_BATCH" --size "$SCENERY_BENCH_SIZE" \
             --threads "$SCENERY_BENCH_THREADS" | awk '{print $2}')
  ratio=$(/usr/bin/python3 -c "print(f'{$ours / $theirs:.3f}')")
  echo "$arch train step: ours ${ours} ms, pytorch ${theirs} ms, ratio ours/pytorch ${ratio}"
done
