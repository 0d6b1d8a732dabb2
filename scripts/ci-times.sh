#!/usr/bin/env bash
# What CI costs: clones the committed HEAD into a fresh folder (no build/ reused) and runs
# .ci/run there, which prints the wall time of install, build and ctest; then lists the
# ten slowest tests. Usage: scripts/ci-times.sh [WORK_DIR]   (default: a new /tmp folder)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/scenery-ci-times.XXXXXX)}
git clone -q "$src" "$work/scenery"
cd "$work/scenery"
echo "ci-times: $(git log --oneline -1) in $work/scenery (log: $work/ci.log)"
status=0
CI=true bash .ci/run > "$work/ci.log" 2>&1 || status=$?
grep '^times:' "$work/ci.log" || echo "ci-times: no times line; see $work/ci.log"
echo "slowest tests:"
grep -E '^ *[0-9]+/[0-9]+ Test +#' "$work/ci.log" | sed -E 's/ +\.+ */ /' |
  awk '{print $(NF-1), $0}' | sort -rn | head -10 | cut -d' ' -f2-
echo "ci-times: .ci/run exited $status"
exit "$status"
