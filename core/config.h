// Sectioned configuration: INI files in configs/ with sections [data] [model]
// [train] [eval] [dist] ..., each key `k` in section `s` being the option `s.k`.
// Precedence: command line > config file > registered default.
//
// The schema: each library declares its own sections (section()) and options
// (add*) next to the code that reads them; what a value must be (bounds,
// choices, list items, auto/yes/no) is declared with the option
// (core/option_rules.h) and checked here, wherever the value comes from, with
// one message shape.
//
// Why our own INI reader in front of Boost.Program_options: Boost reports an
// unknown or malformed key without its line number, and users edit these files
// by hand; every error here names file:line, the key and what was expected.
#pragma once

#include <boost/program_options.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/option_rules.h"

namespace scenery {

// What parse() decided the program should do next.
enum class ParseOutcome {
  kRun,          // options resolved: go on
  kPrintedHelp,  // --help was printed: exit 0
  kDumpedConfig  // --dump-config was printed: exit 0
};

class Config {
 public:
  // `program` appears in help and errors; `summary` is the one-line description.
  Config(std::string program, std::string summary);

  // Declares a section and its --help title; sections appear in --help and
  // dumps in the order declared. An option of an undeclared section declares
  // it with a plain title.
  Config& section(const std::string& name, const std::string& title);

  // Registers a sectioned option `section.name` (or an unsectioned command-line
  // option when the key has no dot). Supported T: bool, int, int64_t, double,
  // std::string. Numbers may carry bounds.
  template <class T>
  Config& add(const std::string& key, const T& default_value, const std::string& doc);
  template <class T>
  Config& add(const std::string& key, const T& default_value, const std::string& doc,
              Bounds bounds);
  // A string that must be one of `choices`.
  Config& add_choice(const std::string& key, const std::string& default_value,
                     const std::vector<std::string>& choices, const std::string& doc);
  // A comma list of T (double, int, int64_t, std::string) under `rule`, read
  // with get_list<T>; the default is written as the user would write it.
  template <class T>
  Config& add_list(const std::string& key, const std::string& default_text, const std::string& doc,
                   const ListRule& rule = {});
  // auto / yes / no (any boolean spelling), read with get_tristate.
  Config& add_tristate(const std::string& key, const std::string& doc);

  // Parses the command line (argv without the program name and subcommand).
  // Throws ConfigError on any unknown key, malformed value or unreadable file.
  ParseOutcome parse(const std::vector<std::string>& args);
  ParseOutcome parse(int argc, const char* const argv[]);

  bool has(const std::string& key) const;
  template <class T>
  T get(const std::string& key) const;
  template <class T>
  std::vector<T> get_list(const std::string& key) const;
  Tristate get_tristate(const std::string& key) const;

  // Where a value came from: "default", "command line" or "FILE:LINE".
  std::string source(const std::string& key) const;

  // The resolved configuration as an INI text that parse() reads back to the
  // same values (used by --dump-config and written into every run directory).
  std::string dump() const;
  // Writes dump() to `dir`/config.cfg atomically.
  std::filesystem::path write_resolved(const std::filesystem::path& dir) const;

  std::string help() const;
  const std::string& program() const { return program_; }

  // Keys of these sections in a --config file are skipped, not refused: a
  // tool that reads one section of a full recipe (scenery-data bench reads
  // [data] of a training config) accepts the recipe unchanged. Keys of those
  // sections that this tool registers itself are still read.
  void ignore_file_sections(std::vector<std::string> sections) {
    ignored_sections_ = std::move(sections);
  }

 private:
  struct Entry {
    std::string section;  // empty for command-line-only options
    std::string doc;
    std::function<std::string(const boost::any&)> format;
    std::string expected;  // what a value must be, as told to a user who wrote a bad one
    // Checks (and may rewrite to its canonical text) a value the type accepted;
    // empty = every value of the type.
    std::function<bool(boost::any&)> accept;
  };

  template <class T>
  Config& add_entry(const std::string& key, boost::program_options::typed_value<T>* semantic,
                    const std::string& doc, std::function<std::string(const boost::any&)> fmt,
                    std::string expected, std::function<bool(boost::any&)> accept = {});
  Config& add_checked_string(const std::string& key, const std::string& default_value,
                             const std::string& doc, std::string expected,
                             std::function<bool(std::string&)> accept);
  boost::program_options::options_description& group(const std::string& section);
  boost::program_options::options_description all_options() const;
  bool knows_section(const std::string& section) const;
  bool is_ignored(const std::string& section) const;
  std::vector<std::string> section_names() const;
  void read_file(const std::filesystem::path& file);
  void store_value(const std::string& key, const std::string& value, const std::string& where);
  void check_command_line_values(const std::vector<std::string>& args);
  [[noreturn]] void invalid_command_line_value(const std::string& key,
                                               const std::vector<std::string>& args) const;
  [[noreturn]] void unknown_key(const std::string& key, const std::string& where) const;
  std::vector<std::string> ignored_sections_;

  std::string program_;
  std::string summary_;
  boost::program_options::options_description general_;
  std::vector<std::pair<std::string, std::string>> sections_;  // (name, title), declared order
  std::map<std::string, boost::program_options::options_description> groups_;
  std::map<std::string, Entry> entries_;  // by full key, in sorted order
  std::vector<std::string> order_;        // registration order for dumps
  boost::program_options::variables_map values_;
  std::map<std::string, std::string> sources_;
};

}  // namespace scenery
