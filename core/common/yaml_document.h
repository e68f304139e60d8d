// YAML files as every reader of configuration sees them (server config, routing files, plugin
// manifests, the users file): one way to load, to locate a node, and to refuse a key that is
// not a string, written twice (yaml-cpp keeps both and lookups see only the first) or not
// allowed. Every error is a ConfigError at "file:line:column".
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_error.h"
#include "wampd/value.h"

namespace wampd::core {

/// One entry of a map, in file order.
struct YamlEntry {
  std::string key;
  YAML::Node keyNode;  // where the key is written
  YAML::Node value;
};

/// How errors name a map: "<owner>: <problem> in <section>"; either part may be empty, as in
/// "service 'a': unknown key 'public'" or "duplicate key 'port' in 'server'".
struct YamlMapName {
  std::string owner;
  std::string section;
};

/// The message for a key written twice where that is a domain error with words of its own (a
/// route name, a service id); it is given the key and where it was first written.
using YamlDuplicateMessage =
    std::function<std::string(const std::string& key, const SourceLocation& first)>;

class YamlDocument {
 public:
  /// Reads and parses `path`. A file that is missing, a directory or unreadable is refused
  /// with `unreadable` when given, else with the reason ("no such file", "is a directory, not
  /// a file", "cannot read the file"); YAML that does not parse, with "YAML syntax error: ..."
  /// at the line and column of the error.
  static YamlDocument loadFile(const std::string& path, const std::string& unreadable = {});
  /// Parses `text`; errors name `file`.
  static YamlDocument parse(const std::string& text, std::string file);

  const std::string& file() const noexcept { return file_; }
  /// Null for an empty document.
  const YAML::Node& root() const noexcept { return root_; }

  /// Where `node` is written (1-based). Constraint: `node` must exist in the document (a
  /// failed lookup such as root["missing"] has no place and yaml-cpp throws).
  SourceLocation at(const YAML::Node& node) const;
  [[noreturn]] void fail(const YAML::Node& node, const std::string& what) const;

  /// The entries of `map` (null: none) in file order. Refuses, at the offending key, a key
  /// that is not a string, a key written twice (`duplicate` words it, else "duplicate key
  /// 'K' (first at file:line:column)"), and, when `allowed` is not empty, a key not in it
  /// ("unknown key 'K' (expected a, b)"). A `map` that is neither a map nor null is refused.
  std::vector<YamlEntry> entries(const YAML::Node& map, const YamlMapName& name = {},
                                 const std::vector<std::string_view>& allowed = {},
                                 const YamlDuplicateMessage& duplicate = {}) const;

  /// A scalar as written, possibly empty: "<what> must be a string, found ..." otherwise.
  std::string scalar(const YAML::Node& node, const std::string& what) const;
  /// A non-empty scalar: "<what> must be a non-empty string, found ..." otherwise.
  std::string nonEmpty(const YAML::Node& node, const std::string& what) const;
  /// true or false (also True, TRUE, False, FALSE, as YAML 1.2 and Symfony read them; not
  /// yes/no/on/off, which Symfony reads as strings).
  bool boolean(const YAML::Node& node, const std::string& what) const;
  /// A decimal integer within [min, max]: "<what> must be an integer[ from min to max], found
  /// '...'" otherwise.
  std::int64_t integer(const YAML::Node& node, const std::string& what,
                       std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  /// `node` as a Value: scalars as strings, null as null, lists as arrays, maps (checked as
  /// entries() does) as objects.
  Value value(const YAML::Node& node) const;

  /// "nothing", "'text'", "a list" or "a map": what a message says was found.
  static std::string describe(const YAML::Node& node);

 private:
  YamlDocument(std::string file, YAML::Node root) : file_(std::move(file)), root_(root) {}

  std::string file_;
  YAML::Node root_;
};

}  // namespace wampd::core
