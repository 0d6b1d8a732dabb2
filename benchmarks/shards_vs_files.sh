#!/usr/bin/env bash
# What reading WebDataset shards costs against the per-file layout of the same JPEGs:
# `scenery-data bench` (the training pipeline: decode, RandomResizedCrop, flip, collate) on
# both, at 1 and 2 threads, alternating so machine drift hits both alike; then the open()
# calls one epoch of each makes (strace -f -c, when strace is installed).
# Usage: benchmarks/shards_vs_files.sh [build dir] [repeats] [batches]
#   e.g. benchmarks/shards_vs_files.sh build 3 40
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
repeats="${2:-3}"
batches="${3:-40}"
tool="$build/data/scenery-data"
[[ -x "$tool" ]] || { echo "build $tool first" >&2; exit 2; }
data="${TMPDIR:-/tmp}/scenery-bench-shards"
if [[ ! -d "$data/files" ]]; then
  "$tool" synth --layout places365 --out "$data/files" --classes 16 --per-class 64 \
    --size 256 >/dev/null
fi
if [[ ! -f "$data/shards/_info.json" ]]; then
  "$tool" pack --data.dataset places365 --data.root "$data/files" --out "$data/shards" \
    --shard-mb 8 --log-level warn >/dev/null
fi
files=(--data.dataset places365 --data.root "$data/files")
shards=(--data.dataset webdataset --data.root "$data/shards")
common=(--data.batch_size 32 --data.image_size 224 --batches "$batches" --log-level warn)

rate() {  # images/s of one bench run at $1 threads
  local threads=$1; shift
  "$tool" bench "$@" "${common[@]}" --threads "$threads" | awk '$1 ~ /^[0-9]+$/ { print $3 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for threads in 1 2; do
  f=() s=()
  for ((i = 0; i < repeats; i++)); do
    f+=("$(rate "$threads" "${files[@]}")")
    s+=("$(rate "$threads" "${shards[@]}")")
  done
  mf=$(printf '%s\n' "${f[@]}" | median)
  ms=$(printf '%s\n' "${s[@]}" | median)
  echo "threads $threads: files ${f[*]} img/s (median $mf); shards ${s[*]} img/s (median $ms);" \
    "shards/files $(awk -v a="$ms" -v b="$mf" 'BEGIN { printf "%.2f", a / b }')"
done

if command -v strace >/dev/null; then
  images=$(find "$data/files/data_256" -name '*.jpg' | wc -l)
  nshards=$(find "$data/shards" -name 'train-*.tar' | wc -l)
  opens() {  # successful openat calls of reading one epoch (the bench's 'check' pass decodes every sample once)
    strace -f -qq -e trace=openat -e status=successful "$tool" check "$@" --log-level warn 2>&1 >/dev/null |
      grep -c -E '\.(jpg|tar)"' || true
  }
  echo "open() of image data in one epoch over $images images: files $(opens "${files[@]}")," \
    "shards $(opens "${shards[@]}") ($nshards shards)"
fi
