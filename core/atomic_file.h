// Writing a file so that readers see either the old or the new content, never
// a torn one: write a sibling temp file, flush it to disk, then rename over.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

namespace scenery {

// Writes `content` to `target` atomically. Throws IoError naming the file.
void write_file_atomic(const std::filesystem::path& target, std::string_view content);

// Calls `write(temp_path)` to produce the file, then fsyncs and renames it over
// `target`. If `write` throws or the disk fills, `target` is left untouched and
// the temp file is removed.
void replace_file_atomic(const std::filesystem::path& target,
                         const std::function<void(const std::filesystem::path&)>& write);

// Throws IoError unless `dir` exists (or can be created) and a file can be created in it.
void ensure_writable_directory(const std::filesystem::path& dir);

}  // namespace scenery
