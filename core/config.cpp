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

namespace {

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

// Options without a section exist only on the command line: named as typed there.
std::string shown_key(const std::string& key) {
  return key.find('.') == std::string::npos ? "--" + key : key;
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

Config& Config::section(const std::string& name, const std::string& title) {
  for (const auto& [known, known_title] : sections_) {
    if (known != name) continue;
    if (known_title != title) throw std::logic_error("section declared with two titles: " + name);
    return *this;
  }
  if (name.empty() || name.find_first_of(".[] \t") != std::string::npos)
    throw std::logic_error("invalid section name: " + name);
  sections_.emplace_back(name, title);
  return *this;
}

bool Config::knows_section(const std::string& name) const {
  return std::any_of(sections_.begin(), sections_.end(),
                     [&](const auto& s) { return s.first == name; });
}

po::options_description& Config::group(const std::string& section) {
  auto it = groups_.find(section);
  if (it == groups_.end()) {
    if (!knows_section(section)) this->section(section, "[" + section + "]");
    std::string title;
    for (const auto& [name, t] : sections_)
      if (name == section) title = t;
    it = groups_.emplace(section, po::options_description(title, 100, 50)).first;
  }
  return it->second;
}

std::vector<std::string> Config::section_names() const {
  std::vector<std::string> names;
  for (const auto& s : sections_)
    names.push_back(s.first);
  return names;
}

template <class T>
Config& Config::add_entry(const std::string& key, po::typed_value<T>* semantic,
                          const std::string& doc,
                          std::function<std::string(const boost::any&)> format,
                          std::string expected, std::function<bool(boost::any&)> accept) {
  if (entries_.count(key)) throw std::logic_error("option registered twice: " + key);
  std::string section;
  const auto dot = key.find('.');
  if (dot != std::string::npos) {
    section = key.substr(0, dot);
    group(section).add_options()(key.c_str(), semantic, doc.c_str());
  } else {
    general_.add_options()(key.c_str(), semantic, doc.c_str());
  }
  entries_[key] = Entry{section, doc, std::move(format), std::move(expected), std::move(accept)};
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

template <class T>
Config& Config::add(const std::string& key, const T& default_value, const std::string& doc,
                    Bounds bounds) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "bounds are for numbers");
  if (!bounds.contains(static_cast<double>(default_value)))
    throw std::logic_error("default outside the declared bounds: " + key);
  add<T>(key, default_value, doc);
  Entry& entry = entries_.at(key);
  entry.expected += " " + bounds.describe();
  entry.accept = [bounds](boost::any& v) {
    return bounds.contains(static_cast<double>(boost::any_cast<T>(v)));
  };
  return *this;
}

Config& Config::add_checked_string(const std::string& key, const std::string& default_value,
                                   const std::string& doc, std::string expected,
                                   std::function<bool(std::string&)> accept) {
  std::string checked_default = default_value;
  if (!accept(checked_default)) throw std::logic_error("default refused by its own rule: " + key);
  add<std::string>(key, checked_default, doc);
  Entry& entry = entries_.at(key);
  entry.expected = std::move(expected);
  entry.accept = [accept = std::move(accept)](boost::any& v) {
    std::string text = boost::any_cast<std::string>(v);
    if (!accept(text)) return false;
    v = text;  // canonical spelling
    return true;
  };
  return *this;
}

Config& Config::add_choice(const std::string& key, const std::string& default_value,
                           const std::vector<std::string>& choices, const std::string& doc) {
  return add_checked_string(key, default_value, doc, one_of(choices), [choices](std::string& v) {
    return std::find(choices.begin(), choices.end(), v) != choices.end();
  });
}

template <class T>
Config& Config::add_list(const std::string& key, const std::string& default_text,
                         const std::string& doc, const ListRule& rule) {
  return add_checked_string(key, default_text, doc, describe_list<T>(rule),
                            [key, rule](std::string& v) {
                              try {
                                parse_list<T>(key, v, rule);
                                return true;
                              } catch (const ConfigError&) {
                                return false;
                              }
                            });
}

Config& Config::add_tristate(const std::string& key, const std::string& doc) {
  return add_checked_string(
      key, "auto", doc, "auto, or a boolean (yes/no, true/false, 1/0, on/off)", [](std::string& v) {
        v = canonical_tristate(v);
        return !v.empty();
      });
}

template Config& Config::add_list<double>(const std::string&, const std::string&,
                                          const std::string&, const ListRule&);
template Config& Config::add_list<int>(const std::string&, const std::string&, const std::string&,
                                       const ListRule&);
template Config& Config::add_list<int64_t>(const std::string&, const std::string&,
                                           const std::string&, const ListRule&);
template Config& Config::add_list<std::string>(const std::string&, const std::string&,
                                               const std::string&, const ListRule&);
template Config& Config::add<int>(const std::string&, const int&, const std::string&, Bounds);
template Config& Config::add<int64_t>(const std::string&, const int64_t&, const std::string&,
                                      Bounds);
template Config& Config::add<double>(const std::string&, const double&, const std::string&, Bounds);
template Config& Config::add<bool>(const std::string&, const bool&, const std::string&);
template Config& Config::add<int>(const std::string&, const int&, const std::string&);
template Config& Config::add<int64_t>(const std::string&, const int64_t&, const std::string&);
template Config& Config::add<double>(const std::string&, const double&, const std::string&);
template Config& Config::add<std::string>(const std::string&, const std::string&,
                                          const std::string&);

po::options_description Config::all_options() const {
  po::options_description all;
  all.add(general_);
  for (const auto& section : sections_) {
    auto it = groups_.find(section.first);
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
  if (!section.empty() && !knows_section(section)) {
    msg += fmt::format("; valid sections: {}", fmt::join(section_names(), ", "));
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
    throw_invalid_value(where, shown_key(key), value, entry->second.expected);
  }
  if (entry->second.accept && !entry->second.accept(parsed))
    throw_invalid_value(where, shown_key(key), value, entry->second.expected);
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
      if (!knows_section(section) && !is_ignored(section)) {
        throw ConfigError(fmt::format("{}: unknown section [{}]; valid sections: {}", where,
                                      section, fmt::join(section_names(), ", ")));
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
                      where, name, fmt::join(section_names(), "] [")));
    }
    const std::string key = section + "." + name;
    if (auto it = seen_at.find(key); it != seen_at.end()) {
      throw ConfigError(
          fmt::format("{}: duplicate key '{}' (first set on line {})", where, key, it->second));
    }
    seen_at[key] = line_no;
    // An ignored section's keys are skipped, except those this tool registered itself.
    if (is_ignored(section) && !entries_.count(key)) continue;
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
    std::string name = e.get_option_name();
    name.erase(0, name.find_first_not_of('-'));
    invalid_command_line_value(name, args);
  } catch (const po::error& e) {
    throw ConfigError(fmt::format("command line: {}; see {} --help", e.what(), program_));
  }
  for (const auto& [key, value] : values_) {
    sources_[key] = value.defaulted() ? "default" : "command line";
  }
  check_command_line_values(args);
  if (values_.count("help")) return ParseOutcome::kPrintedHelp;
  if (values_.count("config")) read_file(values_["config"].as<std::string>());
  if (values_.count("dump-config")) return ParseOutcome::kDumpedConfig;
  return ParseOutcome::kRun;
}

void Config::check_command_line_values(const std::vector<std::string>& args) {
  for (auto& [key, value] : values_) {
    if (value.defaulted()) continue;
    auto entry = entries_.find(key);
    if (entry == entries_.end() || !entry->second.accept) continue;
    if (!entry->second.accept(value.value())) invalid_command_line_value(key, args);
  }
}

// Boost keeps the refused text to itself: it is found again in `args`
// (--key=VALUE or --key VALUE; the last one wins, as in Boost).
void Config::invalid_command_line_value(const std::string& key,
                                        const std::vector<std::string>& args) const {
  std::string value;
  const std::string flag = "--" + key;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind(flag + "=", 0) == 0) value = args[i].substr(flag.size() + 1);
    if (args[i] == flag && i + 1 < args.size()) value = args[i + 1];
  }
  auto entry = entries_.find(key);
  throw_invalid_value("command line", shown_key(key), value,
                      entry == entries_.end() ? "a valid value" : entry->second.expected);
}

bool Config::is_ignored(const std::string& section) const {
  return std::find(ignored_sections_.begin(), ignored_sections_.end(), section) !=
         ignored_sections_.end();
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

template <class T>
std::vector<T> Config::get_list(const std::string& key) const {
  return parse_list<T>(key, get<std::string>(key), ListRule::any_length());
}

Tristate Config::get_tristate(const std::string& key) const {
  const std::string v = canonical_tristate(get<std::string>(key));
  if (v == "yes") return Tristate::kYes;
  if (v == "no") return Tristate::kNo;
  if (v == "auto") return Tristate::kAuto;
  throw std::logic_error("not a tristate option: " + key);
}

template std::vector<double> Config::get_list<double>(const std::string&) const;
template std::vector<int> Config::get_list<int>(const std::string&) const;
template std::vector<int64_t> Config::get_list<int64_t>(const std::string&) const;
template std::vector<std::string> Config::get_list<std::string>(const std::string&) const;
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
  for (const auto& section : section_names()) {
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
  for (const auto& section : section_names()) {
    auto it = groups_.find(section);
    if (it != groups_.end()) out << "\n" << it->second;
  }
  out << "\nEvery [section] option can also be set in the --config file as `key = value` "
         "under its section.\n";
  return out.str();
}

}  // namespace scenery
