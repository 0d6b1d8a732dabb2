// Shared by the evaluator tests: synthetic datasets in the real layouts, and the
// message of an expected EvalError.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "core/error.h"
#include "data/synth.h"

namespace scenery::eval {

inline void write_synth(const std::string& layout, const std::filesystem::path& out, int classes,
                        int per_class, int size) {
  data::SynthOptions synth;
  synth.layout = layout;
  synth.out = out;
  synth.classes = classes;
  synth.per_class = per_class;
  synth.size = size;
  data::write_synthetic_dataset(synth);
}

// What `f` throws as EvalError; a test failure if it throws nothing.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const EvalError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected EvalError";
  return "";
}

}  // namespace scenery::eval
