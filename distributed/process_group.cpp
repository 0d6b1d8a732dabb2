#include "distributed/process_group.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <sstream>

#include "core/error.h"
#include "core/log.h"

namespace scenery::dist {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kHeartbeatPeriod = std::chrono::milliseconds(500);
// A rank whose counter did not move for this long is reported lost.
constexpr auto kDiagnoseWait = std::chrono::milliseconds(2500);

std::string heartbeat_key(int rank) {
  return fmt::format("scenery/heartbeat/{}", rank);
}

std::vector<uint8_t> to_bytes(const std::string& s) {
  return {s.begin(), s.end()};
}
std::string from_bytes(const std::vector<uint8_t>& b) {
  return {b.begin(), b.end()};
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

#if SCENERY_HAVE_GLOO
std::vector<std::shared_ptr<::gloo::transport::Device>> gloo_devices(const Launch& l) {
  std::vector<std::shared_ptr<::gloo::transport::Device>> devices;
  if (const char* ifnames = std::getenv("GLOO_SOCKET_IFNAME"); ifnames && *ifnames) {
    std::stringstream list(ifnames);
    std::string name;
    while (std::getline(list, name, ',')) {
      if (!name.empty()) devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
    }
  } else if (is_loopback(l.host)) {
    // Every rank is on this machine: no interface lookup, which can pick an
    // address the sandbox or container cannot route.
    devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return devices;
}
#endif

// One store connection: rank 0 serves tcp:// unless torchrun's agent does.
// Only the main connection of each rank counts towards FileStore's clean-up
// (it deletes the file when world_size counted instances have closed).
c10::intrusive_ptr<c10d::Store> connect_store(const Launch& l, bool server, bool counted = true) {
  c10::intrusive_ptr<c10d::Store> store;
  if (l.store == StoreKind::kFile) {
    store = c10::make_intrusive<c10d::FileStore>(l.file, counted ? l.world_size : -1);
  } else {
    c10d::TCPStoreOptions o;
    o.port = l.port;
    o.isServer = server;
    o.numWorkers = l.world_size;
    o.waitWorkers = false;
    o.timeout = l.timeout;
    o.multiTenant = true;
    store = open_tcp_store(l.host, o);
  }
  store->setTimeout(l.timeout);
  if (!l.key_prefix.empty()) store = c10::make_intrusive<c10d::PrefixStore>(l.key_prefix, store);
  return store;
}

// Runs `collective` on a buffer c10d accepts (contiguous, on `device`): the
// tensor itself when it already is one, else a copy whose result is copied back.
void in_place(torch::Tensor& tensor, torch::Device device,
              const std::function<void(std::vector<torch::Tensor>&)>& collective) {
  const bool copy = tensor.device() != device || !tensor.is_contiguous();
  std::vector<torch::Tensor> bufs{copy ? tensor.to(device).contiguous() : tensor};
  collective(bufs);
  if (copy) tensor.copy_(bufs[0]);
}

std::string first_line(const std::string& s) {
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

}  // namespace

ProcessGroup::ProcessGroup(Launch launch, Backend backend, torch::Device device)
    : launch_(std::move(launch)), backend_(backend), device_(device) {}

std::shared_ptr<ProcessGroup> ProcessGroup::create(const Launch& l, torch::Device device) {
  if (!l.distributed()) throw DistError("a process group needs a world size > 1");
  Backend backend = l.backend;
  if (backend == Backend::kAuto)
    backend = device.is_cuda() && nccl_available() ? Backend::kNccl : Backend::kGloo;
  if (backend == Backend::kNccl && !nccl_available()) {
    throw ConfigError(fmt::format(
        "dist.backend = nccl, but this LibTorch ({}) was built without NCCL; use dist.backend "
        "gloo",
        compat::torch_version()));
  }
  if (backend == Backend::kGloo && !gloo_available()) {
    throw ConfigError(fmt::format(
        "dist.backend = gloo, but this LibTorch ({}) came without Gloo's headers (a pip "
        "LibTorch ships none), so Scenery was built without Gloo: run on cuda with "
        "dist.backend nccl, or build against a LibTorch with Gloo (Debian's libtorch-dev)",
        compat::torch_version()));
  }
  if (backend == Backend::kNccl && !device.is_cuda()) {
    throw ConfigError("dist.backend = nccl needs train.device / eval.device cuda");
  }
  const torch::Device comm_device = backend == Backend::kNccl
                                        ? torch::Device(torch::kCUDA, device.index())
                                        : torch::Device(torch::kCPU);
  std::shared_ptr<ProcessGroup> group(new ProcessGroup(l, backend, comm_device));
  const std::string where =
      l.store == StoreKind::kFile
          ? fmt::format("file store {}", l.file)
          : fmt::format("master {}:{} (from {})", l.host, l.port, l.address_source);
  const auto seconds = std::chrono::duration<double>(l.timeout).count();
  try {
    const bool server = l.store == StoreKind::kTcp && l.rank == 0 && !l.agent_store;
    group->store_ = connect_store(l, server);
    // The heartbeat thread gets its own connection: a TCPStore client is one socket.
    group->start_heartbeat(connect_store(l, false, false));
  } catch (const std::exception& e) {
    throw DistError(fmt::format("rank {} of {}: could not reach the {} within {:g} s: {}", l.rank,
                                l.world_size, where, seconds, first_line(e.what())));
  }
  try {
    if (backend == Backend::kGloo) {
#if SCENERY_HAVE_GLOO
      group->group_ =
          make_gloo_group(group->store_, l.rank, l.world_size, gloo_devices(l), l.timeout);
#endif
    } else {
#ifdef USE_C10D_NCCL
      group->group_ = make_nccl_group(group->store_, l.rank, l.world_size, l.timeout);
#endif
    }
  } catch (const std::exception& e) {
    throw group->failure(
        fmt::format("forming the {} group at the {}", backend_name(backend), where), e.what());
  }
  log::debug("rank {} of {} (local rank {}, from {}): {} group at {}", l.rank, l.world_size,
             l.local_rank, l.rank_source, backend_name(backend), where);
  return group;
}

ProcessGroup::~ProcessGroup() {
  stop_ = true;
  if (heartbeat_.joinable()) heartbeat_.join();
}

void ProcessGroup::start_heartbeat(c10::intrusive_ptr<c10d::Store> store) {
  heartbeat_store_ = std::move(store);
  heartbeat_store_->set(heartbeat_key(rank()), to_bytes("0 0"));
  heartbeat_ = std::thread([this] {
    int64_t beat = 0;
    auto next = Clock::now();
    while (!stop_) {
      next += kHeartbeatPeriod;
      while (!stop_ && Clock::now() < next)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (stop_) break;
      try {
        heartbeat_store_->set(heartbeat_key(rank()),
                              to_bytes(fmt::format("{} {}", ++beat, sequence_.load())));
      } catch (const std::exception&) {
        return;  // the store is gone (its server exited): nothing left to tell
      }
    }
  });
}

std::string ProcessGroup::diagnose() {
  // Read every heartbeat twice, kDiagnoseWait apart, over a fresh connection
  // (the main one may be mid-request after a failure).
  const int w = world_size();
  std::vector<std::string> before(w), after(w);
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = connect_store(launch_, false, false);
    store->setTimeout(std::chrono::milliseconds(2000));
  } catch (const std::exception&) {
    return launch_.store == StoreKind::kTcp && !launch_.agent_store && rank() != 0
               ? "rank 0 is lost (it served the store, which no longer answers)"
               : "the store no longer answers";
  }
  const auto read_all = [&](std::vector<std::string>& out) {
    for (int r = 0; r < w; ++r) {
      try {
        out[r] = store->check({heartbeat_key(r)}) ? from_bytes(store->get(heartbeat_key(r))) : "";
      } catch (const std::exception&) {
        out[r] = "?";
      }
    }
  };
  read_all(before);
  std::this_thread::sleep_for(kDiagnoseWait);
  read_all(after);
  std::vector<int> never, lost, alive;
  std::vector<int64_t> seq(w, -1);
  for (int r = 0; r < w; ++r) {
    if (r == rank()) {
      alive.push_back(r);
      seq[r] = sequence_.load();
      continue;
    }
    if (after[r].empty()) {
      never.push_back(r);
    } else if (after[r] == before[r] || after[r] == "?") {
      lost.push_back(r);
    } else {
      alive.push_back(r);
      std::istringstream in(after[r]);
      int64_t beat = 0;
      in >> beat >> seq[r];
    }
  }
  std::vector<std::string> parts;
  if (!never.empty()) parts.push_back(fmt::format("rank {} never joined", fmt::join(never, ", ")));
  if (!lost.empty()) {
    parts.push_back(fmt::format("rank {} is lost (no heartbeat for {:g} s)", fmt::join(lost, ", "),
                                std::chrono::duration<double>(kDiagnoseWait).count()));
  }
  if (parts.empty()) {
    int64_t lowest = seq[rank()];
    for (int r : alive)
      lowest = std::min(lowest, seq[r]);
    std::vector<int> behind;
    for (int r : alive)
      if (seq[r] == lowest && lowest < seq[rank()]) behind.push_back(r);
    if (!behind.empty()) {
      parts.push_back(
          fmt::format("rank {} is alive but stuck before collective {} (this rank is at {})",
                      fmt::join(behind, ", "), lowest + 1, seq[rank()]));
    } else {
      parts.push_back("every rank is alive");
    }
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

DistError ProcessGroup::failure(const std::string& what, const std::string& cause) {
  const std::string diagnosis = diagnose();
  return DistError(fmt::format("rank {} of {}: {} failed: {}. ({})", rank(), world_size(), what,
                               diagnosis, first_line(cause)));
}

void ProcessGroup::run(const std::string& what, const std::function<void()>& collective) {
  ++sequence_;
  try {
    collective();
  } catch (const std::exception& e) {
    throw failure(fmt::format("{} (collective {})", what, sequence_.load()), e.what());
  }
}

void ProcessGroup::reduce(torch::Tensor& tensor, c10d::ReduceOp op, const char* what) {
  run(what, [&] {
    in_place(tensor, device_, [&](std::vector<torch::Tensor>& bufs) {
      c10d::AllreduceOptions o;
      o.reduceOp = op;
      group_->allreduce(bufs, o)->wait();
    });
  });
}

ProcessGroup::Pending ProcessGroup::all_reduce_sum_async(torch::Tensor& tensor) {
  if (tensor.device() != device_ || !tensor.is_contiguous()) {
    throw DistError("all_reduce_sum_async needs a contiguous tensor on " + device_.str());
  }
  Pending p;
  p.group_ = this;
  p.sequence_ = ++sequence_;
  try {
    std::vector<torch::Tensor> bufs{tensor};
    p.work_ = group_->allreduce(bufs);
  } catch (const std::exception& e) {
    throw failure(fmt::format("all_reduce(sum) (collective {})", p.sequence_), e.what());
  }
  return p;
}

void ProcessGroup::Pending::wait() {
  if (!work_) return;
  auto work = std::move(work_);
  try {
    work->wait();
  } catch (const std::exception& e) {
    throw group_->failure(fmt::format("all_reduce(sum) (collective {})", sequence_), e.what());
  }
}

void ProcessGroup::all_reduce_sum(torch::Tensor& tensor) {
  reduce(tensor, c10d::ReduceOp::SUM, "all_reduce(sum)");
}

void ProcessGroup::all_reduce_max(torch::Tensor& tensor) {
  reduce(tensor, c10d::ReduceOp::MAX, "all_reduce(max)");
}

void ProcessGroup::broadcast(std::vector<torch::Tensor>& tensors, int root) {
  run("broadcast", [&] {
    for (auto& t : tensors) {
      in_place(t, device_, [&](std::vector<torch::Tensor>& bufs) {
        c10d::BroadcastOptions o;
        o.rootRank = root;
        group_->broadcast(bufs, o)->wait();
      });
    }
  });
}

torch::Tensor ProcessGroup::all_gather(const torch::Tensor& tensor) {
  torch::Tensor out;
  run("all_gather", [&] {
    std::vector<torch::Tensor> input{tensor.to(device_).contiguous()};
    std::vector<std::vector<torch::Tensor>> output(1);
    for (int r = 0; r < world_size(); ++r)
      output[0].push_back(torch::empty_like(input[0]));
    group_->allgather(output, input)->wait();
    out = torch::stack(output[0]).to(tensor.device());
  });
  return out;
}

std::vector<std::string> ProcessGroup::all_gather_bytes(const std::string& bytes) {
  const auto lengths =
      all_gather(torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kInt64));
  const int64_t longest = lengths.max().item<int64_t>();
  auto padded = torch::zeros({std::max<int64_t>(1, longest)}, torch::kUInt8);
  std::memcpy(padded.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  const auto all = all_gather(padded).contiguous();
  std::vector<std::string> out;
  for (int r = 0; r < world_size(); ++r) {
    const auto* p = all[r].data_ptr<uint8_t>();
    out.emplace_back(reinterpret_cast<const char*>(p), lengths[r][0].item<int64_t>());
  }
  return out;
}

void ProcessGroup::barrier() {
  // An all-reduce rather than c10d's barrier: it has the same meaning and
  // follows the same timeout and failure path on every backend.
  auto one = torch::ones({1}, torch::kInt64);
  reduce(one, c10d::ReduceOp::SUM, "barrier");
}

}  // namespace scenery::dist
