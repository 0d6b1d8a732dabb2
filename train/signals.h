// SIGINT/SIGTERM during training: the handler only raises a flag; the trainer
// finishes the current optimizer step, saves last.ckpt with the batch position
// and returns "interrupted" (scenery-train exits with kExitInterrupted = 3).
// A second signal restores the default action, so a stuck run can still be
// killed with another Ctrl-C.
#pragma once

namespace scenery::train {

// Installs the handlers for its lifetime and restores the previous ones after.
class StopSignalGuard {
 public:
  StopSignalGuard();
  ~StopSignalGuard();
  StopSignalGuard(const StopSignalGuard&) = delete;
  StopSignalGuard& operator=(const StopSignalGuard&) = delete;
};

bool stop_requested();
// The signal number that asked to stop (0: none).
int stop_signal();
void reset_stop_request();

}  // namespace scenery::train
