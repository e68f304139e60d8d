// Plugin manifests: Symfony-style service definitions, parsed with yaml-cpp.
#include "common/yaml_document.h"
#include "plugins/plugin_host.h"

namespace wampd::core {
namespace {

Parameters parseParameters(const YamlDocument& doc, const YAML::Node& node) {
  Parameters parameters;
  if (!node.IsNull() && !node.IsMap()) doc.fail(node, "'parameters' must be a map of name: value");
  for (const YamlEntry& entry : doc.entries(node, {"", "'parameters'"})) {
    if (entry.value.IsNull()) {
      parameters[entry.key] = "";
    } else if (entry.value.IsScalar()) {
      parameters[entry.key] = entry.value.Scalar();
    } else {
      doc.fail(entry.value, "parameter '" + entry.key + "' must be a scalar value");
    }
  }
  return parameters;
}

std::vector<std::string> parseTags(const YamlDocument& doc, const std::string& id,
                                   const YAML::Node& node) {
  std::vector<std::string> tags;
  if (node.IsNull()) return tags;
  if (!node.IsSequence()) doc.fail(node, "service '" + id + "': 'tags' must be a list");
  for (const auto& tag : node) {
    if (tag.IsScalar()) {
      tags.push_back(tag.Scalar());
      continue;
    }
    // Other members of a tag map are Symfony tag attributes, which wampd has no use for.
    if (!tag.IsMap() || !tag["name"] || !tag["name"].IsScalar())
      doc.fail(tag, "service '" + id + "': a tag must be a name or { name: NAME }");
    tags.push_back(tag["name"].Scalar());
  }
  return tags;
}

ManifestService parseService(const YamlDocument& doc, const YamlEntry& definition) {
  ManifestService service;
  service.id = definition.key;
  service.where = doc.at(definition.keyNode);
  const std::string& id = service.id;
  const YAML::Node& body = definition.value;
  if (!body.IsMap())
    doc.fail(body.IsNull() ? definition.keyNode : body,
             "service '" + id + "' must be a map with a class");

  for (const YamlEntry& entry :
       doc.entries(body, {"service '" + id + "'", ""}, {"class", "arguments", "tags"})) {
    const YAML::Node& value = entry.value;
    if (entry.key == "class") {
      if (!value.IsScalar() || value.Scalar().empty())
        doc.fail(value, "service '" + id + "': 'class' must be a class name");
      service.className = value.Scalar();
    } else if (entry.key == "arguments") {
      if (value.IsNull()) continue;
      if (!value.IsSequence()) doc.fail(value, "service '" + id + "': 'arguments' must be a list");
      for (const auto& argument : value) service.arguments.push_back(doc.value(argument));
    } else {
      service.tags = parseTags(doc, id, value);
    }
  }
  if (service.className.empty())
    doc.fail(definition.keyNode, "service '" + id + "' has no 'class'");

  const int kinds =
      service.hasTag(kTopicTag) + service.hasTag(kRpcTag) + service.hasTag(kUserProviderTag);
  if (kinds == 0)
    doc.fail(definition.keyNode, "service '" + id + "' has none of the tags " +
                                     std::string(kTopicTag) + ", " + std::string(kRpcTag) + ", " +
                                     std::string(kUserProviderTag));
  if (kinds > 1)
    doc.fail(definition.keyNode, "service '" + id + "' has more than one of the tags " +
                                     std::string(kTopicTag) + ", " + std::string(kRpcTag) + ", " +
                                     std::string(kUserProviderTag) +
                                     "; a class serves topics, procedures or users");
  return service;
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

namespace {

Manifest readManifest(const YamlDocument& doc) {
  Manifest manifest;
  manifest.file = doc.file();
  const YAML::Node& root = doc.root();
  if (!root.IsMap()) {
    if (root.IsNull()) doc.fail(root, "plugin manifest has no 'services'");
    doc.fail(root, "a plugin manifest must be a map with 'services'");
  }

  YAML::Node services;
  bool hasServices = false;
  for (const YamlEntry& entry : doc.entries(root, {}, {"parameters", "services"})) {
    if (entry.key == "parameters") {
      manifest.defaults = parseParameters(doc, entry.value);
    } else {
      services = entry.value;
      hasServices = true;
      if (!services.IsMap() && !services.IsNull())
        doc.fail(services, "'services' must be a map of service id: definition");
    }
  }
  if (!hasServices) doc.fail(root, "plugin manifest has no 'services'");

  const auto definedTwice = [](const std::string& id, const SourceLocation&) {
    return "service '" + id + "' is defined twice";
  };
  for (const YamlEntry& entry : doc.entries(services, {}, {}, definedTwice))
    manifest.services.push_back(parseService(doc, entry));
  return manifest;
}

}  // namespace

Manifest loadManifest(const std::string& path) {
  return readManifest(YamlDocument::loadFile(path, "cannot read plugin manifest"));
}

Manifest parseManifest(const std::string& text, const std::string& file) {
  return readManifest(YamlDocument::parse(text, file));
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
