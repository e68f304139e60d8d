// Plugin manifests: Symfony-style service definitions, parsed with yaml-cpp.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "plugins/plugin_host.h"

namespace wampd::core {
namespace {

SourceLocation locate(const std::string& file, const YAML::Mark& mark) {
  // An empty document has no marks; its only place is the start of the file.
  if (mark.is_null() || mark.line < 0) return {file, 1, 1};
  return {file, mark.line + 1, mark.column + 1};
}

[[noreturn]] void fail(const std::string& file, const YAML::Node& at, const std::string& what) {
  throw ConfigError(locate(file, at.Mark()), what);
}

std::string scalarKey(const std::string& file, const YAML::Node& key, const char* context) {
  if (!key.IsScalar()) fail(file, key, std::string(context) + " keys must be plain strings");
  return key.Scalar();
}

/// Rejects a key written twice in one map: yaml-cpp keeps both and lookups see the first.
void checkUnique(const std::string& file, std::set<std::string>& seen, const YAML::Node& key,
                 const std::string& name) {
  if (!seen.insert(name).second) fail(file, key, "duplicate key '" + name + "'");
}

Value toValue(const std::string& file, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return Value(node.Scalar());
    case YAML::NodeType::Sequence: {
      Array items;
      for (const auto& item : node) items.push_back(toValue(file, item));
      return Value(std::move(items));
    }
    case YAML::NodeType::Map: {
      Object members;
      std::set<std::string> seen;
      for (const auto& entry : node) {
        std::string key = scalarKey(file, entry.first, "map");
        checkUnique(file, seen, entry.first, key);
        members.set(std::move(key), toValue(file, entry.second));
      }
      return Value(std::move(members));
    }
    default:
      return Value();
  }
}

Parameters parseParameters(const std::string& file, const YAML::Node& node) {
  Parameters parameters;
  if (node.IsNull()) return parameters;
  if (!node.IsMap()) fail(file, node, "'parameters' must be a map of name: value");
  std::set<std::string> seen;
  for (const auto& entry : node) {
    std::string name = scalarKey(file, entry.first, "parameter");
    checkUnique(file, seen, entry.first, name);
    const YAML::Node& value = entry.second;
    if (value.IsNull()) {
      parameters[name] = "";
    } else if (value.IsScalar()) {
      parameters[name] = value.Scalar();
    } else {
      fail(file, value, "parameter '" + name + "' must be a scalar value");
    }
  }
  return parameters;
}

std::vector<std::string> parseTags(const std::string& file, const std::string& id,
                                   const YAML::Node& node) {
  std::vector<std::string> tags;
  if (node.IsNull()) return tags;
  if (!node.IsSequence()) fail(file, node, "service '" + id + "': 'tags' must be a list");
  for (const auto& tag : node) {
    if (tag.IsScalar()) {
      tags.push_back(tag.Scalar());
      continue;
    }
    // Other members of a tag map are Symfony tag attributes, which wampd has no use for.
    if (!tag.IsMap() || !tag["name"] || !tag["name"].IsScalar())
      fail(file, tag, "service '" + id + "': a tag must be a name or { name: NAME }");
    tags.push_back(tag["name"].Scalar());
  }
  return tags;
}

ManifestService parseService(const std::string& file, const YAML::Node& key,
                             const YAML::Node& body) {
  ManifestService service;
  service.id = scalarKey(file, key, "service id");
  service.where = locate(file, key.Mark());
  const std::string& id = service.id;
  if (!body.IsMap())
    fail(file, body.IsNull() ? key : body, "service '" + id + "' must be a map with a class");

  std::set<std::string> seen;
  for (const auto& entry : body) {
    std::string name = scalarKey(file, entry.first, "service");
    checkUnique(file, seen, entry.first, name);
    const YAML::Node& value = entry.second;
    if (name == "class") {
      if (!value.IsScalar() || value.Scalar().empty())
        fail(file, value, "service '" + id + "': 'class' must be a class name");
      service.className = value.Scalar();
    } else if (name == "arguments") {
      if (value.IsNull()) continue;
      if (!value.IsSequence())
        fail(file, value, "service '" + id + "': 'arguments' must be a list");
      for (const auto& argument : value) service.arguments.push_back(toValue(file, argument));
    } else if (name == "tags") {
      service.tags = parseTags(file, id, value);
    } else {
      fail(file, entry.first,
           "service '" + id + "': unknown key '" + name + "' (expected class, arguments, tags)");
    }
  }
  if (service.className.empty()) fail(file, key, "service '" + id + "' has no 'class'");

  const int kinds =
      service.hasTag(kTopicTag) + service.hasTag(kRpcTag) + service.hasTag(kUserProviderTag);
  if (kinds == 0)
    fail(file, key,
         "service '" + id + "' has none of the tags " + std::string(kTopicTag) + ", " +
             std::string(kRpcTag) + ", " + std::string(kUserProviderTag));
  if (kinds > 1)
    fail(file, key,
         "service '" + id + "' has more than one of the tags " + std::string(kTopicTag) + ", " +
             std::string(kRpcTag) + ", " + std::string(kUserProviderTag) +
             "; a class serves topics, procedures or users");
  return service;
}

YAML::Node parseFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path}, "cannot read plugin manifest");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return YAML::Load(text.str());
  } catch (const YAML::ParserException& e) {
    throw ConfigError(locate(path, e.mark), "YAML syntax error: " + e.msg);
  }
}

// ---- %parameter% substitution ----

bool isParameterName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') return false;
  return true;
}

class Substitution {
 public:
  Substitution(const ManifestService& service, const Parameters& parameters)
      : service_(service), parameters_(parameters) {}

  Value resolve(const Value& value, std::size_t index) const {
    if (value.isString()) return Value(resolveString(value.asString(), index));
    if (const Array* items = value.array()) {
      Array out;
      out.reserve(items->size());
      for (const Value& item : *items) out.push_back(resolve(item, index));
      return Value(std::move(out));
    }
    if (const Object* members = value.object()) {
      Object out;
      for (const auto& [key, member] : *members) out.set(key, resolve(member, index));
      return Value(std::move(out));
    }
    return value;
  }

 private:
  // Symfony's rule: `%%` is a literal %, `%name%` (no whitespace) a parameter, and any other
  // `%` stays as written, so "50% off" needs no escaping.
  std::string resolveString(std::string_view text, std::size_t index) const {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t percent = text.find('%', pos);
      if (percent == std::string_view::npos) {
        out.append(text.substr(pos));
        break;
      }
      out.append(text.substr(pos, percent - pos));
      if (percent + 1 < text.size() && text[percent + 1] == '%') {
        out.push_back('%');
        pos = percent + 2;
        continue;
      }
      std::size_t close = text.find('%', percent + 1);
      std::string_view name = close == std::string_view::npos
                                  ? std::string_view()
                                  : text.substr(percent + 1, close - percent - 1);
      if (!isParameterName(name)) {
        out.push_back('%');
        pos = percent + 1;
        continue;
      }
      auto found = parameters_.find(std::string(name));
      if (found == parameters_.end())
        throw ConfigError(service_.where, "service '" + service_.id + "': argument #" +
                                              std::to_string(index) + " uses unknown parameter '%" +
                                              std::string(name) + "%'");
      out.append(found->second);
      pos = close + 1;
    }
    return out;
  }

  const ManifestService& service_;
  const Parameters& parameters_;
};

}  // namespace

bool ManifestService::hasTag(std::string_view tag) const {
  for (const auto& t : tags)
    if (t == tag) return true;
  return false;
}

Manifest loadManifest(const std::string& path) {
  Manifest manifest;
  manifest.file = path;
  YAML::Node root = parseFile(path);
  if (!root.IsMap()) {
    if (root.IsNull()) fail(path, root, "plugin manifest has no 'services'");
    fail(path, root, "a plugin manifest must be a map with 'services'");
  }

  YAML::Node services;
  bool hasServices = false;
  std::set<std::string> seen;
  for (const auto& entry : root) {
    std::string key = scalarKey(path, entry.first, "manifest");
    checkUnique(path, seen, entry.first, key);
    if (key == "parameters") {
      manifest.defaults = parseParameters(path, entry.second);
    } else if (key == "services") {
      services = entry.second;
      hasServices = true;
      if (!services.IsMap() && !services.IsNull())
        fail(path, services, "'services' must be a map of service id: definition");
    } else {
      fail(path, entry.first, "unknown key '" + key + "' (expected parameters, services)");
    }
  }
  if (!hasServices) fail(path, root, "plugin manifest has no 'services'");

  std::set<std::string> ids;
  for (const auto& entry : services) {
    ManifestService service = parseService(path, entry.first, entry.second);
    if (!ids.insert(service.id).second)
      fail(path, entry.first, "service '" + service.id + "' is defined twice");
    manifest.services.push_back(std::move(service));
  }
  return manifest;
}

Arguments resolveArguments(const ManifestService& service, const Parameters& parameters) {
  Substitution substitution(service, parameters);
  std::vector<Value> values;
  values.reserve(service.arguments.size());
  for (std::size_t i = 0; i < service.arguments.size(); ++i)
    values.push_back(substitution.resolve(service.arguments[i], i));
  return Arguments(std::move(values));
}

}  // namespace wampd::core
