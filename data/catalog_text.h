// Small helpers shared by the catalog readers: reading a list file whole and
// walking it line by line without iostreams, and building the file:line error
// messages every reader throws.
//
// Why hand-written: Places365 train is 1.8 M lines; std::getline + operator>>
// costs several seconds, a memchr walk over one buffer well under one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "data/catalog.h"

namespace scenery::data {

// The whole content of a text file. Throws DataError("missing <what> 'FILE'")
// when it does not exist, naming `what` (e.g. "list file", "category file").
std::string read_text_file(const std::filesystem::path& file, const std::string& what);

// Iterates the lines of a buffer: handles a missing trailing newline and CRLF;
// yields empty lines too (readers decide whether they are allowed).
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}
  // Sets `line` to the next line (without '\n' or '\r') and returns true, or
  // returns false at the end.
  bool next(std::string_view& line);
  // 1-based number of the line last returned by next().
  int64_t line_number() const { return line_no_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_no_ = 0;
};

// Number of lines next() will return (for reserving).
size_t count_lines(std::string_view text);

std::string_view trim_view(std::string_view s);

// Splits "PATH LABEL" at the last run of blanks: PATH may contain spaces.
// Returns false when there is no blank.
bool split_last_token(std::string_view line, std::string_view& head, std::string_view& tail);

// Parses a non-negative decimal integer that spans the whole view.
bool parse_index(std::string_view s, int64_t& value);

// "FILE:LINE: MESSAGE" as a DataError.
[[noreturn]] void throw_at(const std::filesystem::path& file, int64_t line,
                           const std::string& message);

// Category path "/a/apartment_building/outdoor" -> display name
// "apartment_building/outdoor" (the leading "/x/" letter folder dropped).
// Returns an empty view when the path does not have that shape.
std::string_view category_display_name(std::string_view path);

// Throws DataError naming `file:line` unless `path` (relative to `base`) exists.
void require_file(const std::filesystem::path& base, std::string_view path,
                  const std::filesystem::path& list_file, int64_t line);

}  // namespace scenery::data

namespace scenery::data {

// Image file extensions the folder readers pick up (lower-cased compare).
bool is_image_file(const std::filesystem::path& p);

// Fills `catalog` from dir/<class>/**/<image>, one label per sorted class
// folder name, files in sorted order within each class; returns the folder
// names. Paths are stored relative to the catalog root. Throws DataError when
// `dir` is missing or holds no class folder.
std::vector<std::string> add_class_folders(Catalog& catalog, const std::filesystem::path& dir);

}  // namespace scenery::data
