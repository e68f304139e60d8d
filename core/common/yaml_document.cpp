#include "common/yaml_document.h"

#include <charconv>
#include <filesystem>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace wampd::core {
namespace {

std::string prefix(const YamlMapName& name) {
  return name.owner.empty() ? std::string() : name.owner + ": ";
}

std::string in(const YamlMapName& name) {
  return name.section.empty() ? std::string() : " in " + name.section;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

[[noreturn]] void refuse(const std::string& path, const std::string& unreadable,
                         const char* reason) {
  throw ConfigError({path}, unreadable.empty() ? reason : unreadable);
}

ConfigError syntaxError(const std::string& file, const YAML::Exception& e) {
  SourceLocation where{file};
  if (!e.mark.is_null()) where = {file, e.mark.line + 1, e.mark.column + 1};
  return ConfigError(where, "YAML syntax error: " + e.msg);
}

}  // namespace

YamlDocument YamlDocument::loadFile(const std::string& path, const std::string& unreadable) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) refuse(path, unreadable, "no such file");
  if (fs::is_directory(path, ec)) refuse(path, unreadable, "is a directory, not a file");
  try {
    return YamlDocument(path, YAML::LoadFile(path));
  } catch (const YAML::BadFile&) {
    refuse(path, unreadable, "cannot read the file");
  } catch (const YAML::Exception& e) {
    throw syntaxError(path, e);
  }
}

YamlDocument YamlDocument::parse(const std::string& text, std::string file) {
  try {
    return YamlDocument(file, YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw syntaxError(file, e);
  }
}

SourceLocation YamlDocument::at(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  // Only an empty document's root has no mark; the start of the file is its only place.
  if (mark.is_null() || mark.line < 0) return {file_, 1, 1};
  return {file_, mark.line + 1, mark.column + 1};
}

void YamlDocument::fail(const YAML::Node& node, const std::string& what) const {
  throw ConfigError(at(node), what);
}

std::vector<YamlEntry> YamlDocument::entries(const YAML::Node& map, const YamlMapName& name,
                                             const std::vector<std::string_view>& allowed,
                                             const YamlDuplicateMessage& duplicate) const {
  std::vector<YamlEntry> out;
  if (map.IsNull()) return out;
  if (!map.IsMap())
    fail(map, prefix(name) +
                  (name.section.empty() ? std::string("a map was expected")
                                        : name.section + " must be a map") +
                  ", found " + describe(map));
  out.reserve(map.size());
  // An index rather than a scan: a hostile map with many keys costs linear time.
  std::unordered_map<std::string, std::size_t> seen;
  for (const auto& entry : map) {
    if (!entry.first.IsScalar())
      fail(entry.first,
           prefix(name) + "a key" + in(name) + " must be a string, found " + describe(entry.first));
    const std::string& key = entry.first.Scalar();
    if (auto [it, fresh] = seen.emplace(key, out.size()); !fresh) {
      const SourceLocation first = at(out[it->second].keyNode);
      fail(entry.first, duplicate ? duplicate(key, first)
                                  : prefix(name) + "duplicate key '" + key + "'" + in(name) +
                                        " (first at " + first.str() + ")");
    }
    bool known = allowed.empty();
    for (std::string_view a : allowed) known = known || a == key;
    if (!known)
      fail(entry.first, prefix(name) + "unknown key '" + key + "'" + in(name) + " (expected " +
                            join(allowed) + ")");
    out.push_back({key, entry.first, entry.second});
  }
  return out;
}

std::string YamlDocument::scalar(const YAML::Node& node, const std::string& what) const {
  if (!node.IsScalar()) fail(node, what + " must be a string, found " + describe(node));
  return node.Scalar();
}

std::string YamlDocument::nonEmpty(const YAML::Node& node, const std::string& what) const {
  if (!node.IsScalar() || node.Scalar().empty())
    fail(node, what + " must be a non-empty string, found " + describe(node));
  return node.Scalar();
}

bool YamlDocument::boolean(const YAML::Node& node, const std::string& what) const {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  fail(node, what + " must be true or false, found " + describe(node));
}

std::int64_t YamlDocument::integer(const YAML::Node& node, const std::string& what,
                                   std::int64_t min, std::int64_t max) const {
  std::string expected = what + " must be an integer";
  if (min != std::numeric_limits<std::int64_t>::min() ||
      max != std::numeric_limits<std::int64_t>::max())
    expected += " from " + std::to_string(min) + " to " + std::to_string(max);
  if (!node.IsScalar()) fail(node, expected + ", found " + describe(node));
  const std::string& text = node.Scalar();
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    fail(node, expected + ", found '" + text + "'");
  return value;
}

Value YamlDocument::value(const YAML::Node& node) const {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return Value(node.Scalar());
    case YAML::NodeType::Sequence: {
      Array items;
      items.reserve(node.size());
      for (const YAML::Node& item : node) items.push_back(value(item));
      return Value(std::move(items));
    }
    case YAML::NodeType::Map: {
      Object members;
      for (YamlEntry& entry : entries(node))
        members.append(std::move(entry.key), value(entry.value));
      return Value(std::move(members));
    }
    default:
      return Value();
  }
}

std::string YamlDocument::describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "an undefined node";
  }
}

}  // namespace wampd::core
