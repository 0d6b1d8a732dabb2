#include "distributed/collectives.h"

namespace scenery::dist {

void sum_over_ranks(torch::Tensor& tensor, ProcessGroup* group) {
  if (group) group->all_reduce_sum(tensor);
}

int64_t sum_over_ranks(int64_t value, ProcessGroup* group) {
  if (!group) return value;
  auto t = torch::tensor({value}, torch::kInt64);
  group->all_reduce_sum(t);
  return t.item<int64_t>();
}

torch::Tensor gather_over_ranks(const torch::Tensor& tensor, ProcessGroup* group) {
  return group ? group->all_gather(tensor) : tensor.unsqueeze(0);
}

void broadcast_from_rank0(std::vector<torch::Tensor>& tensors, ProcessGroup* group) {
  if (group) group->broadcast(tensors);
}

std::vector<std::string> gather_bytes_over_ranks(const std::string& bytes, ProcessGroup* group) {
  return group ? group->all_gather_bytes(bytes) : std::vector<std::string>{bytes};
}

}  // namespace scenery::dist
