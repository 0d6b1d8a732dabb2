#!/usr/bin/env bash
# README command (b): install dependencies, build, and run the whole test suite.
# Ends by printing the wall time of each stage (scripts/ci-times.sh runs it on a clean clone).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/install-deps.sh
installed=$SECONDS
bash scripts/build.sh
built=$SECONDS
cd build
status=0
# One more test than cores: the data-parallel, torchrun and Python-parity tests spend much of
# their time waiting (on each other, on process start-up, on Gloo), measured at under one core
# busy on average for train/DataParallel, so a third slot fills the idle CPU.
ctest --output-on-failure --timeout 600 -j "${SCENERY_TEST_JOBS:-$(($(nproc) + 1))}" || status=$?
tested=$SECONDS
printf 'times: install %d s, build %d s, ctest %d s, total %d s\n' $((installed - start)) \
  $((built - installed)) $((tested - built)) $((tested - start))
exit "$status"
