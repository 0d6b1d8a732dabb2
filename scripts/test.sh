#!/usr/bin/env bash
# README command (b): install dependencies, build, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 -j "${SCENERY_TEST_JOBS:-2}"
