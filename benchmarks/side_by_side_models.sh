#!/usr/bin/env bash
# Same training step, same machine, same threads: Scenery (C++) vs PyTorch (Python).
# Prints ms/step for each and the ratio ours/python (target <= 1.0) of the fastest steps.
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
  # 5 single-step repetitions after a warm-up step on each side; the fastest
  # (least disturbed by other processes on a shared machine) and the median are printed.
  read -r ours ours_med < <("$bench" --benchmark_filter="^BM_TrainStep/${arch}${suffix}/" \
      --benchmark_min_time=0.001 --benchmark_repetitions=5 --benchmark_format=json |
    /usr/bin/python3 -c 'import json,sys
t=sorted(b["real_time"] for b in json.load(sys.stdin)["benchmarks"] if b.get("run_type")=="iteration")
print("%.1f %.1f" % (t[0], t[len(t)//2]))')
  read -r theirs theirs_med < <(/usr/bin/python3 "$here/side_by_side_models.py" --arch "$arch" \
      $pyflag --batch "$SCENERY_BENCH_BATCH" --size "$SCENERY_BENCH_SIZE" \
      --threads "$SCENERY_BENCH_THREADS" | awk '{print $2, $3}')
  ratio=$(/usr/bin/python3 -c "print(f'{$ours / $theirs:.3f}')")
  echo "$arch train step: fastest of 5: ours ${ours} ms, pytorch ${theirs} ms, ratio ours/pytorch" \
       "${ratio} (medians: ${ours_med} / ${theirs_med} ms)"
done
