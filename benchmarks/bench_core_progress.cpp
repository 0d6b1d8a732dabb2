// The per-batch bookkeeping must cost nothing next to a training step.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "core/progress.h"

namespace {

void BM_ProgressAdvancePlain(benchmark::State& state) {
  scenery::Progress::Options o;
  o.out = std::tmpfile();
  o.tty = 0;
  o.plain_interval_s = 1e9;
  scenery::Progress p("bench", 0, o);
  for (auto _ : state)
    p.advance();
  state.SetItemsProcessed(state.iterations());
  p.finish();
  std::fclose(o.out);
}
BENCHMARK(BM_ProgressAdvancePlain);

}  // namespace
