#include "train/signals.h"

#include <atomic>
#include <csignal>

namespace scenery::train {
namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free,
              "the handler may only touch lock-free atomics");

void on_stop_signal(int sig) {
  if (g_signal.exchange(sig) != 0) {
    std::signal(sig, SIG_DFL);  // second signal: stop insisting, let it kill
    std::raise(sig);
  }
}

struct sigaction g_old_int, g_old_term;

}  // namespace

StopSignalGuard::StopSignalGuard() {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // blocking reads in the loader keep going
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

StopSignalGuard::~StopSignalGuard() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

bool stop_requested() {
  return g_signal.load() != 0;
}
int stop_signal() {
  return g_signal.load();
}
void reset_stop_request() {
  g_signal = 0;
}

}  // namespace scenery::train
