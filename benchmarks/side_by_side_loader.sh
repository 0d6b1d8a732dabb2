#!/usr/bin/env bash
# Scenery loader vs PyTorch DataLoader on the same JPEGs, same transforms, same
# worker count. Usage: benchmarks/side_by_side_loader.sh [build dir] [extra args]
#   e.g. benchmarks/side_by_side_loader.sh build-loader --workers 1 2 --mode train
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
shift || true
bench="$build/benchmarks/scenery-bench-data-pipeline"
[[ -x "$bench" ]] || { echo "build $bench first (cmake --build $build --target scenery-bench-data-pipeline)" >&2; exit 2; }
images="${SCENERY_BENCH_IMAGES:-${TMPDIR:-/tmp}/scenery-bench-places}"
# Debian's python has torch + torchvision; a python3 earlier on PATH may not.
exec /usr/bin/python3 "$here/side_by_side_loader.py" --bench "$bench" --images "$images" "$@"
