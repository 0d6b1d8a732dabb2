// The scenery::Error hierarchy. Library code throws these; only main() prints
// them and turns them into an exit code (see core/main_guard.h).
#pragma once

#include <stdexcept>
#include <string>

namespace scenery {

// Exit codes shared by every executable, so scripts can tell a typo in a
// command line from a failure hours into a run.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,
  kExitUsage = 2,        // bad command line, config file, key or value
  kExitInterrupted = 3,  // SIGINT/SIGTERM after a checkpoint was saved
};

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual int exit_code() const { return kExitFailure; }
};

// Anything the user wrote wrong: command line, config file, option values.
class ConfigError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitUsage; }
};

// Unknown subcommand, missing required argument, conflicting flags.
class UsageError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

// A dataset that does not match its documented layout, or a file that can not be read.
class DataError : public Error {
 public:
  using Error::Error;
};

// An unknown architecture, or a model asked to do something it can not.
class ModelError : public Error {
 public:
  using Error::Error;
};

// A checkpoint that can not be written, read, or does not fit the model.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

// A submission, ground-truth file or metric input that is malformed.
class EvalError : public Error {
 public:
  using Error::Error;
};

// A training run that can not start or continue (run dir, NaN loss, ...).
class TrainError : public Error {
 public:
  using Error::Error;
};

// A process group that can not form (bad launch environment, unreachable
// master) or that lost a rank mid-run; the message names ranks, host and port.
class DistError : public Error {
 public:
  using Error::Error;
};

// Filesystem failures: unreadable, unwritable, out of space.
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace scenery
