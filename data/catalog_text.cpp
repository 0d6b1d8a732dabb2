#include "data/catalog_text.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <memory>

namespace scenery::data {
namespace fs = std::filesystem;

std::string read_text_file(const fs::path& file, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw DataError(fmt::format("missing {} '{}'", what, file.string()));
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!f) throw DataError(fmt::format("cannot open {} '{}'", what, file.string()));
  std::string text;
  const auto size = fs::file_size(file, ec);
  if (!ec) text.reserve(size);
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f.get())) > 0)
    text.append(buffer, n);
  if (std::ferror(f.get()))
    throw DataError(fmt::format("cannot read {} '{}'", what, file.string()));
  // Lists edited on Windows may start with a UTF-8 byte order mark.
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  return text;
}

bool LineReader::next(std::string_view& line) {
  if (pos_ >= text_.size()) return false;
  const char* begin = text_.data() + pos_;
  const void* nl = std::memchr(begin, '\n', text_.size() - pos_);
  size_t len = nl ? static_cast<const char*>(nl) - begin : text_.size() - pos_;
  pos_ += len + (nl ? 1 : 0);
  if (len > 0 && begin[len - 1] == '\r') --len;
  line = std::string_view(begin, len);
  ++line_no_;
  return true;
}

size_t count_lines(std::string_view text) {
  size_t n = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', end - p);
    ++n;
    if (!nl) break;
    p = static_cast<const char*>(nl) + 1;
  }
  return n;
}

std::string_view trim_view(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && blank(s.back()))
    s.remove_suffix(1);
  return s;
}

bool split_last_token(std::string_view line, std::string_view& head, std::string_view& tail) {
  line = trim_view(line);
  size_t i = line.size();
  while (i > 0 && line[i - 1] != ' ' && line[i - 1] != '\t')
    --i;
  if (i == 0) return false;
  tail = line.substr(i);
  head = trim_view(line.substr(0, i));
  return !head.empty();
}

bool parse_index(std::string_view s, int64_t& value) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  value = v;
  return true;
}

void throw_at(const fs::path& file, int64_t line, const std::string& message) {
  throw DataError(fmt::format("{}:{}: {}", file.string(), line, message));
}

std::string_view category_display_name(std::string_view path) {
  if (path.size() < 4 || path[0] != '/' || path[2] != '/') return {};
  return path.substr(3);
}

void require_file(const fs::path& base, std::string_view path, const fs::path& list_file,
                  int64_t line) {
  std::error_code ec;
  const fs::path p = base / fs::path(path);
  if (!fs::is_regular_file(p, ec)) {
    throw_at(list_file, line, fmt::format("listed file '{}' does not exist", p.string()));
  }
}

}  // namespace scenery::data

namespace scenery::data {
namespace fs = std::filesystem;

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp" ||
         ext == ".tif" || ext == ".tiff";
}

std::vector<std::string> add_class_folders(Catalog& catalog, const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw DataError(
        fmt::format("missing image folder '{}': expected <class>/<image> folders", dir.string()));
  }
  std::vector<std::string> classes;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory()) classes.push_back(e.path().filename().string());
  }
  // Bytewise order: the Places365 easyformat relies on it for the official indices.
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) {
    throw DataError(
        fmt::format("'{}' holds no class folder: expected <class>/<image>", dir.string()));
  }
  const fs::path base = catalog.root();
  std::vector<std::string> files;
  for (size_t label = 0; label < classes.size(); ++label) {
    files.clear();
    for (const auto& e : fs::recursive_directory_iterator(dir / classes[label])) {
      if (e.is_regular_file() && is_image_file(e.path())) {
        files.push_back(base.empty() ? e.path().string()
                                     : e.path().lexically_relative(base).string());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
      catalog.add(f, static_cast<int64_t>(label));
  }
  return classes;
}

}  // namespace scenery::data
