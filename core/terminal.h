// The little shared knowledge about the terminal that logging and progress bars
// need so their output interleaves cleanly.
#pragma once

#include <cstdio>

namespace scenery::terminal {

// True when `stream` is an interactive terminal (not a pipe, file or CI log).
bool is_tty(std::FILE* stream);

// Called by the progress bar after drawing a status line with '\r'.
void mark_status_line(std::FILE* stream);
// Erases a status line drawn on `stream`, if any, so the next text starts clean.
void clear_status_line(std::FILE* stream);

}  // namespace scenery::terminal
