#!/usr/bin/env bash
# Configures and builds Scenery into build/ (Release, Ninja when available).
# Extra arguments go to cmake's configure step (e.g. -DCMAKE_PREFIX_PATH=...).
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif [ $# -gt 0 ]; then
  cmake -S . -B build "$@"
fi
jobs=${SCENERY_BUILD_JOBS:-$(nproc)}
cmake --build build --parallel "$jobs"
