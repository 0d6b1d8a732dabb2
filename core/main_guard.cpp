#include "core/main_guard.h"

#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <new>

#include "core/error.h"

namespace scenery {

int run_main(const std::string& program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    fmt::print(stderr, "{}: error: {}\n", program, e.what());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "{}: error: out of memory\n", program);
    return kExitFailure;
  } catch (const std::exception& e) {
    // LibTorch (c10::Error), OpenCV (cv::Exception) and the standard library land here;
    // their first line is the useful part, the rest is a C++ backtrace.
    std::string what = e.what();
    const auto newline = what.find('\n');
    if (newline != std::string::npos) what.resize(newline);
    fmt::print(stderr, "{}: error: {}\n", program, what);
    return kExitFailure;
  }
}

}  // namespace scenery
