// Collectives that are the identity for a single process (no group), so that
// training, validation and scenery-eval each have one code path whether they
// run alone or as one rank of many.
//
//   sum_over_ranks(t, group)      t summed over the ranks, in place
//   gather_over_ranks(t, group)   every rank's t stacked [W, ...]; alone [1, ...]
//   broadcast_from_rank0(ts, group)
//   gather_bytes_over_ranks(s, group)
//   merge_meter(meter, group)     a meter's integer state summed over the ranks
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "distributed/process_group.h"

namespace scenery::dist {

void sum_over_ranks(torch::Tensor& tensor, ProcessGroup* group);
int64_t sum_over_ranks(int64_t value, ProcessGroup* group);
torch::Tensor gather_over_ranks(const torch::Tensor& tensor, ProcessGroup* group);
void broadcast_from_rank0(std::vector<torch::Tensor>& tensors, ProcessGroup* group);
std::vector<std::string> gather_bytes_over_ranks(const std::string& bytes, ProcessGroup* group);

// Meter: state() (an integer tensor of counts), reset(), merge_state(state).
// Counts are summed before any division, so the merged meter is bitwise the
// one a single process would have accumulated over every rank's samples.
template <class Meter>
void merge_meter(Meter& meter, ProcessGroup* group) {
  if (!group) return;
  auto state = meter.state();
  group->all_reduce_sum(state);
  meter.reset();
  meter.merge_state(state);
}

}  // namespace scenery::dist
