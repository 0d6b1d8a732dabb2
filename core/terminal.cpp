#include "core/terminal.h"

#include <unistd.h>

#include <atomic>

namespace scenery::terminal {
namespace {
std::atomic<std::FILE*> g_status_stream{nullptr};
}

bool is_tty(std::FILE* stream) {
  return stream && ::isatty(::fileno(stream)) == 1;
}

void mark_status_line(std::FILE* stream) {
  g_status_stream = stream;
}

void clear_status_line(std::FILE* stream) {
  std::FILE* expected = stream;
  if (g_status_stream.compare_exchange_strong(expected, nullptr)) {
    std::fputs("\r\033[K", stream);
  }
}

}  // namespace scenery::terminal
