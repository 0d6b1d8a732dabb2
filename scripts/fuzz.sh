#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, -DSCENERY_FUZZ=ON, clang, ASan + UBSan) in their own
# folder and runs each for SECONDS on its corpus, printing one line per harness: executions,
# corpus size and the result. Exits non-zero on any finding (the crashing input is kept in
# build-fuzz/findings/<harness>/ for a regression test).
# Usage: scripts/fuzz.sh SECONDS [harness...]   (needs: scripts/install-deps.sh --fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [harness...]}
shift
out=build-fuzz
cxx=$(command -v clang++ || command -v clang++-14 || command -v clang++-19 || true)
[[ -n "$cxx" ]] || { echo "fuzz: no clang++: run scripts/install-deps.sh --fuzz" >&2; exit 2; }
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ ! -f $out/CMakeCache.txt ]]; then
  cmake -S . -B "$out" "${generator[@]}" -DSCENERY_FUZZ=ON -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$out" --parallel "${SCENERY_BUILD_JOBS:-$(nproc)}" >/dev/null

harnesses=("$@")
if [[ ${#harnesses[@]} -eq 0 ]]; then
  for f in "$out"/fuzz/fuzz_*; do harnesses+=("$(basename "$f" | sed 's/^fuzz_//')"); done
fi
"${PYTHON:-/usr/bin/python3}" fuzz/make_seeds.py "$out/corpus" "$out/seeds"
status=0
for h in "${harnesses[@]}"; do
  corpus=$out/corpus/$h
  findings=$out/findings/$h
  mkdir -p "$corpus" "$findings"
  dict=()
  [[ -f fuzz/dict/$h.dict ]] && dict=(-dict="fuzz/dict/$h.dict")
  log=$out/fuzz_$h.log
  set +e
  "$out/fuzz/fuzz_$h" "$corpus" "$out/seeds/$h" "${dict[@]}" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  size=$(find "$corpus" -type f | wc -l)
  if [[ $rc -eq 0 ]]; then
    result=ok
  else
    result="FINDING (exit $rc): $(grep -m1 -E 'ERROR|runtime error|Timeout|out-of-memory' "$log" || echo see "$log")"
    status=1
  fi
  printf 'fuzz_%-14s %12s executions  %6s inputs  %s\n' "$h" "${runs:-?}" "$size" "$result"
done
exit $status
