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
# One test per core: a third slot on 2 cores made every test slower than it filled idle time
# (clean clone of e649257: ctest 899 s at -j3; 797 s at -j2 the commit before).
ctest --output-on-failure --timeout 600 -j "${SCENERY_TEST_JOBS:-$(nproc)}" || status=$?
tested=$SECONDS
printf 'times: install %d s, build %d s, ctest %d s, total %d s\n' $((installed - start)) \
  $((built - installed)) $((tested - built)) $((tested - start))
exit "$status"
