#include "core/config.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace scenery {
namespace po = boost::program_options;
namespace fs = std::filesystem;

const std::vector<std::string>& config_sections() {
  static const std::vector<std::string> sections = {"data",    "model", "train", "eval", "dist",
                                                    "inspect", "cam",   "units", "rf",   "minimal"};
  return sections;
}

namespace {

const std::map<std::string, std::string>& section_titles() {
  static const std::map<std::string, std::string> titles = {
      {"data", "[data] datasets, decoding and loading"},
      {"model", "[model] architecture and weights"},
      {"train", "[train] optimisation and run directory"},
      {"eval", "[eval] evaluation protocol and outputs"},
      {"dist", "[dist] distributed training"},
      {"inspect", "[inspect] looking inside a trained model (scenery-inspect)"},
      {"cam", "[cam] class activation maps"},
      {"units", "[units] unit dissection and segmentation"},
      {"rf", "[rf] receptive fields by occlusion"},
      {"minimal", "[minimal] minimal images"},
  };
  return titles;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// A value is quoted in dumps when reading it back unquoted would change it.
bool needs_quotes(const std::string& s) {
  return s.empty() || s != trim(s) || s.find('#') != std::string::npos ||
         s.find(';') != std::string::npos || s.front() == '"';
}

std::string quote_if_needed(const std::string& s) {
  return needs_quotes(s) ? "\"" + s + "\"" : s;
}

// Strips an inline comment (" # ..." or " ; ...") unless the value is quoted.
std::string strip_value(const std::string& raw) {
  std::string v = trim(raw);
  if (v.size() >= 2 && v.front() == '"') {
    const auto close = v.find('"', 1);
    if (close != std::string::npos) {
      const std::string rest = trim(v.substr(close + 1));
      if (rest.empty() || rest.front() == '#' || rest.front() == ';') return v.substr(1, close - 1);
    }
  }
  for (size_t i = 1; i < v.size(); ++i) {
    if ((v[i] == '#' || v[i] == ';') && (v[i - 1] == ' ' || v[i - 1] == '\t')) {
      return trim(v.substr(0, i));
    }
  }
  return v;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

template <class T>
std::string type_description();
template <>
std::string type_description<bool>() {
  return "a boolean (true/false, yes/no, 1/0, on/off)";
}
template <>
std::string type_description<int>() {
  return "an integer";
}
template <>
std::string type_description<int64_t>() {
  return "an integer";
}
template <>
std::string type_description<double>() {
  return "a number";
}
template <>
std::string type_description<std::string>() {
  return "a string";
}

template <class T>
std::string format_value(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return v;
  } else {
    return fmt::format("{}", v);  // shortest text that reads back to the same double
  }
}

}  // namespace

Config::Config(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)), general_("General options") {
  general_.add_options()("help,h", "print this help, grouped by section, and exit")(
      "config,c", po::value<std::string>()->value_name("FILE"),
      "INI configuration file; command-line options override it")(
      "dump-config", "print the resolved configuration as INI and exit");
}

po::options_description& Config::group(const std::string& section) {
  auto it = groups_.find(section);
  if (it == groups_.end()) {
    const auto& titles = section_titles();
    it = groups_.emplace(section, po::options_description(titles.at(section), 100, 50)).first;
  }
  return it->second;
}

template <class T>
Config& Config::add_entry(const std::string& key, po::typed_value<T>* semantic,
                          const std::string& doc,
                          std::function<std::string(const boost::any&)> format,
                          std::string expected) {
  if (entries_.count(key)) throw std::logic_error("option registered twice: " + key);
  std::string section;
  const auto dot = key.find('.');
  if (dot != std::string::npos) {
    section = key.substr(0, dot);
    const auto& sections = config_sections();
    if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
      throw std::logic_error("option in unknown section: " + key);
    }
    group(section).add_options()(key.c_str(), semantic, doc.c_str());
  } else {
    general_.add_options()(key.c_str(), semantic, doc.c_str());
  }
  entries_[key] = Entry{section, doc, std::move(format), std::move(expected)};
  order_.push_back(key);
  return *this;
}

template <class T>
Config& Config::add(const std::string& key, const T& default_value, const std::string& doc) {
  auto* semantic =
      po::value<T>()->default_value(default_value, quote_if_needed(format_value(default_value)));
  if constexpr (std::is_same_v<T, bool>) semantic->implicit_value(true, "true");
  if constexpr (std::is_same_v<T, std::string>) semantic->value_name("STR");
  if constexpr (std::is_same_v<T, int> || std::is_same_v<T, int64_t>) semantic->value_name("INT");
  if constexpr (std::is_same_v<T, double>) semantic->value_name("NUM");
  return add_entry<T>(
      key, semantic, doc, [](const boost::any& v) { return format_value(boost::any_cast<T>(v)); },
      type_description<T>());
}

template Config& Config::add<bool>(const std::string&, const bool&, const std::string&);
template Config& Config::add<int>(const std::string&, const int&, const std::string&);
template Config& Config::add<int64_t>(const std::string&, const int64_t&, const std::string&);
template Config& Config::add<double>(const std::string&, const double&, const std::string&);
template Config& Config::add<std::string>(const std::string&, const std::string&,
                                          const std::string&);

po::options_description Config::all_options() const {
  po::options_description all;
  all.add(general_);
  for (const auto& section : config_sections()) {
    auto it = groups_.find(section);
    if (it != groups_.end()) all.add(it->second);
  }
  return all;
}

void Config::unknown_key(const std::string& key, const std::string& where) const {
  const auto dot = key.find('.');
  const std::string section = dot == std::string::npos ? "" : key.substr(0, dot);
  std::vector<std::string> same_section;
  std::string closest;
  size_t best = std::string::npos;
  for (const auto& [name, entry] : entries_) {
    if (entry.section != section) continue;
    same_section.push_back(name);
    const size_t d = edit_distance(name, key);
    if (d < best) best = d, closest = name;
  }
  std::string msg = fmt::format("{}: unknown option '{}'", where, key);
  if (best != std::string::npos && best <= std::max<size_t>(2, key.size() / 4)) {
    msg += fmt::format(" (did you mean '{}'?)", closest);
  }
  if (!section.empty() && groups_.count(section) == 0 &&
      std::find(config_sections().begin(), config_sections().end(), section) ==
          config_sections().end()) {
    msg += fmt::format("; valid sections: {}", fmt::join(config_sections(), ", "));
  } else if (!same_section.empty()) {
    msg += fmt::format("; valid {}: {}",
                       section.empty() ? "options without a section" : "keys in [" + section + "]",
                       fmt::join(same_section, ", "));
  } else {
    msg += fmt::format("; {} takes no options in [{}]", program_, section);
  }
  throw ConfigError(msg);
}

void Config::store_value(const std::string& key, const std::string& value,
                         const std::string& where) {
  const auto* option = all_options().find_nothrow(key, false);
  auto entry = entries_.find(key);
  if (!option || entry == entries_.end()) unknown_key(key, where);
  boost::any parsed;
  try {
    option->semantic()->parse(parsed, {value}, false);
  } catch (const po::error&) {
    throw ConfigError(fmt::format("{}: invalid value '{}' for {}: expected {}", where, value, key,
                                  entry->second.expected));
  }
  auto& raw = static_cast<std::map<std::string, po::variable_value>&>(values_);
  raw[key] = po::variable_value(parsed, false);
  sources_[key] = where;
}

void Config::read_file(const fs::path& file) {
  std::ifstream in(file);
  if (!fs::exists(file)) {
    throw ConfigError(fmt::format("config file '{}' does not exist", file.string()));
  }
  if (!in) throw ConfigError(fmt::format("config file '{}' cannot be read", file.string()));

  std::string section;
  std::map<std::string, int> seen_at;  // key -> line, to reject duplicates
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = fmt::format("{}:{}", file.string(), line_no);
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[') {
      if (text.back() != ']') {
        throw ConfigError(
            fmt::format("{}: malformed section header '{}': expected '[name]'", where, text));
      }
      section = trim(text.substr(1, text.size() - 2));
      const auto& sections = config_sections();
      if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
        throw ConfigError(fmt::format("{}: unknown section [{}]; valid sections: {}", where,
                                      section, fmt::join(sections, ", ")));
      }
      continue;
    }
    const auto eq = text.find('=');
    if (eq == std::string::npos) {
      throw ConfigError(fmt::format("{}: expected 'key = value', got '{}'", where, text));
    }
    const std::string name = trim(text.substr(0, eq));
    if (name.empty()) throw ConfigError(fmt::format("{}: missing key before '='", where));
    if (section.empty()) {
      throw ConfigError(
          fmt::format("{}: key '{}' appears before any section header; put it "
                      "under one of [{}]",
                      where, name, fmt::join(config_sections(), "] [")));
    }
    const std::string key = section + "." + name;
    if (auto it = seen_at.find(key); it != seen_at.end()) {
      throw ConfigError(
          fmt::format("{}: duplicate key '{}' (first set on line {})", where, key, it->second));
    }
    seen_at[key] = line_no;
    if (std::find(ignored_sections_.begin(), ignored_sections_.end(), section) !=
        ignored_sections_.end())
      continue;
    if (!entries_.count(key)) unknown_key(key, where);
    // The command line wins: only defaulted values are replaced by the file.
    if (values_.count(key) && !values_[key].defaulted()) continue;
    store_value(key, strip_value(text.substr(eq + 1)), where);
  }
}

ParseOutcome Config::parse(int argc, const char* const argv[]) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return parse(args);
}

ParseOutcome Config::parse(const std::vector<std::string>& args) {
  values_.clear();
  sources_.clear();
  const po::options_description all = all_options();
  try {
    po::store(po::command_line_parser(args).options(all).run(), values_);
  } catch (const po::unknown_option& e) {
    std::string name = e.get_option_name();
    name.erase(0, name.find_first_not_of('-'));
    unknown_key(name, "command line");
  } catch (const po::invalid_option_value& e) {
    throw ConfigError(fmt::format("command line: {}", e.what()));
  } catch (const po::error& e) {
    throw ConfigError(fmt::format("command line: {}; see {} --help", e.what(), program_));
  }
  for (const auto& [key, value] : values_) {
    sources_[key] = value.defaulted() ? "default" : "command line";
  }
  if (values_.count("help")) return ParseOutcome::kPrintedHelp;
  if (values_.count("config")) read_file(values_["config"].as<std::string>());
  if (values_.count("dump-config")) return ParseOutcome::kDumpedConfig;
  return ParseOutcome::kRun;
}

bool Config::has(const std::string& key) const {
  return values_.count(key) > 0;
}

template <class T>
T Config::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    if (!entries_.count(key)) throw std::logic_error("option not registered: " + key);
    throw ConfigError(fmt::format("option '{}' was not set", key));
  }
  try {
    return it->second.as<T>();
  } catch (const boost::bad_any_cast&) {
    throw std::logic_error("option read with the wrong type: " + key);
  }
}

template bool Config::get<bool>(const std::string&) const;
template int Config::get<int>(const std::string&) const;
template int64_t Config::get<int64_t>(const std::string&) const;
template double Config::get<double>(const std::string&) const;
template std::string Config::get<std::string>(const std::string&) const;

std::string Config::source(const std::string& key) const {
  auto it = sources_.find(key);
  return it == sources_.end() ? "unset" : it->second;
}

std::string Config::dump() const {
  std::string out =
      fmt::format("# Resolved configuration of {}; read it back with --config\n", program_);
  for (const auto& section : config_sections()) {
    bool header = false;
    for (const auto& key : order_) {
      const Entry& entry = entries_.at(key);
      if (entry.section != section) continue;
      if (!header) {
        out += fmt::format("\n[{}]\n", section);
        header = true;
      }
      auto it = values_.find(key);
      if (it == values_.end()) continue;
      out += fmt::format("# {} ({})\n{} = {}\n", entry.doc, source(key),
                         key.substr(section.size() + 1),
                         quote_if_needed(entry.format(it->second.value())));
    }
  }
  return out;
}

fs::path Config::write_resolved(const fs::path& dir) const {
  ensure_writable_directory(dir);
  const fs::path target = dir / "config.cfg";
  write_file_atomic(target, dump());
  return target;
}

std::string Config::help() const {
  std::ostringstream out;
  out << program_ << " — " << summary_ << "\n\n" << general_;
  for (const auto& section : config_sections()) {
    auto it = groups_.find(section);
    if (it != groups_.end()) out << "\n" << it->second;
  }
  out << "\nEvery [section] option can also be set in the --config file as `key = value` "
         "under its section.\n";
  return out.str();
}

}  // namespace scenery
