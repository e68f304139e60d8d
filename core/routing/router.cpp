#include "routing/router.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <utility>

namespace wampd::core {
namespace {

namespace fs = std::filesystem;

// ---- channel compilation ----

constexpr std::string_view kDefaultPlaceholderPattern = "[^/]+";
// Symfony's separators: the one before a trailing optional placeholder goes away with it.
constexpr std::string_view kSeparators = "/,;.:-_~+*=@|";

struct ChannelToken {
  bool placeholder = false;
  // Literal text, or the placeholder's name.
  std::string text;
  // For a placeholder: the separator character before it, taken out of the literal text.
  std::string separator;
};

bool isPlaceholderName(std::string_view name) {
  auto isAlpha = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  };
  auto isAlnum = [&](char c) { return isAlpha(c) || (c >= '0' && c <= '9'); };
  return !name.empty() && isAlpha(name.front()) && std::all_of(name.begin(), name.end(), isAlnum);
}

std::vector<ChannelToken> tokenize(const std::string& channel, const SourceLocation& where) {
  std::vector<ChannelToken> tokens;
  std::string literal;
  for (std::size_t i = 0; i < channel.size(); ++i) {
    const char c = channel[i];
    if (c == '}') throw ConfigError(where, "channel '" + channel + "': '}' without a matching '{'");
    if (c != '{') {
      literal.push_back(c);
      continue;
    }
    const std::size_t close = channel.find_first_of("{}", i + 1);
    if (close == std::string::npos || channel[close] != '}')
      throw ConfigError(where, "channel '" + channel + "': '{' without a matching '}'");
    std::string name = channel.substr(i + 1, close - i - 1);
    if (!isPlaceholderName(name))
      throw ConfigError(where, "channel '" + channel + "': malformed placeholder '{" + name +
                                   "}' (a name is [A-Za-z_][A-Za-z0-9_]*)");
    for (const ChannelToken& t : tokens)
      if (t.placeholder && t.text == name)
        throw ConfigError(where,
                          "channel '" + channel + "': placeholder '{" + name + "}' appears twice");
    ChannelToken token{true, std::move(name), {}};
    if (!literal.empty() && kSeparators.find(literal.back()) != std::string_view::npos) {
      token.separator = literal.substr(literal.size() - 1);
      literal.pop_back();
    }
    if (!literal.empty()) tokens.push_back({false, std::move(literal), {}});
    literal.clear();
    tokens.push_back(std::move(token));
    i = close;
  }
  if (!literal.empty()) tokens.push_back({false, std::move(literal), {}});
  return tokens;
}

std::string escapeRegex(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Number of capture groups in a user pattern; throws ConfigError when it is not a regex.
std::size_t captureGroups(const std::string& pattern, const std::string& placeholder,
                          const SourceLocation& where) {
  try {
    return std::regex(pattern, std::regex::ECMAScript).mark_count();
  } catch (const std::regex_error& e) {
    throw ConfigError(where, "requirement for '" + placeholder + "': invalid regular expression '" +
                                 pattern + "': " + e.what());
  }
}

const SourceLocation& orElse(const SourceLocation& preferred, const SourceLocation& fallback) {
  return preferred.file.empty() ? fallback : preferred;
}

// ---- routing files ----

SourceLocation locate(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

class RoutingFileReader {
 public:
  explicit RoutingFileReader(std::string file) : file_(std::move(file)) {}

  std::vector<RouteSpec> read() {
    const YAML::Node root = load();
    std::vector<RouteSpec> specs;
    if (root.IsNull()) return specs;
    if (!root.IsMap())
      fail(root, "a routing file is a map of route names to routes, found " + describe(root));
    for (const auto& entry : root) {
      const std::string name = scalar(entry.first, "a route name");
      for (const RouteSpec& earlier : specs)
        if (earlier.name == name)
          fail(entry.first, "duplicate route name '" + name + "' (first defined at " +
                                earlier.where.str() + ")");
      specs.push_back(route(name, entry.first, entry.second));
    }
    // Compiling reports bad channels and requirements now, not when the router is built.
    for (const RouteSpec& spec : specs) [[maybe_unused]] const Route compiled(spec);
    return specs;
  }

 private:
  YAML::Node load() const {
    std::error_code ec;
    if (!fs::exists(file_, ec)) throw ConfigError({file_}, "no such file");
    if (fs::is_directory(file_, ec)) throw ConfigError({file_}, "is a directory, not a file");
    try {
      return YAML::LoadFile(file_);
    } catch (const YAML::BadFile&) {
      throw ConfigError({file_}, "cannot read the file");
    } catch (const YAML::Exception& e) {
      throw ConfigError(locate(file_, e.mark), "YAML syntax error: " + e.msg);
    }
  }

  RouteSpec route(const std::string& name, const YAML::Node& key, const YAML::Node& body) const {
    if (!body.IsMap()) fail(key, "route '" + name + "' must be a map, found " + describe(body));
    RouteSpec spec;
    spec.name = name;
    spec.where = at(key);
    const YAML::Node* channel = nullptr;
    const YAML::Node* callback = nullptr;
    for (const auto& field : body) {
      const std::string k = scalar(field.first, "a route key");
      const YAML::Node& v = field.second;
      if (k == "channel" || k == "pattern") {
        if (channel) fail(field.first, "route '" + name + "': the channel is given twice");
        channel = &v;
        spec.channel = scalar(v, "route '" + name + "': '" + k + "'");
        spec.channelWhere = at(v);
      } else if (k == "handler") {
        if (callback) fail(field.first, "route '" + name + "': the handler is given twice");
        callback = &v;
        readHandler(name, v, spec);
      } else if (k == "callback") {
        if (callback) fail(field.first, "route '" + name + "': the handler is given twice");
        callback = &v;
        spec.callback = scalar(v, "route '" + name + "': 'callback'");
      } else if (k == "requirements") {
        readRequirements(name, v, spec);
      } else if (k == "defaults") {
        readDefaults(name, v, spec);
      } else if (k == "publish") {
        spec.publishPolicy = scalar(v, "route '" + name + "': 'publish'");
      } else {
        fail(field.first, "route '" + name + "': unknown key '" + k +
                              "' (expected channel, handler, requirements, defaults or publish)");
      }
    }
    if (!channel) fail(key, "route '" + name + "' has no 'channel'");
    if (spec.channel.empty()) fail(*channel, "route '" + name + "': the channel is empty");
    if (!callback) fail(key, "route '" + name + "' has no handler (handler: { callback: NAME })");
    if (spec.callback.empty()) fail(*callback, "route '" + name + "': the callback is empty");
    return spec;
  }

  void readHandler(const std::string& name, const YAML::Node& handler, RouteSpec& spec) const {
    if (!handler.IsMap())
      fail(handler, "route '" + name + "': 'handler' must be a map with a 'callback'");
    bool hasCallback = false;
    for (const auto& field : handler) {
      const std::string k = scalar(field.first, "a handler key");
      if (k == "callback") {
        hasCallback = true;
        spec.callback = scalar(field.second, "route '" + name + "': 'handler.callback'");
      } else if (k == "args") {
        if (field.second.IsNull()) continue;
        if (!field.second.IsSequence())
          fail(field.second, "route '" + name + "': 'handler.args' must be a list");
        for (const YAML::Node& arg : field.second) spec.args.push_back(toValue(arg));
      } else {
        fail(field.first,
             "route '" + name + "': unknown key 'handler." + k + "' (expected callback or args)");
      }
    }
    if (!hasCallback) fail(handler, "route '" + name + "': 'handler' has no 'callback'");
  }

  void readRequirements(const std::string& name, const YAML::Node& node, RouteSpec& spec) const {
    if (node.IsNull()) return;
    if (!node.IsMap()) fail(node, "route '" + name + "': 'requirements' must be a map");
    for (const auto& entry : node) {
      const std::string var = scalar(entry.first, "a placeholder name");
      const std::string context = "route '" + name + "': requirement '" + var + "'";
      RouteRequirement requirement;
      requirement.where = at(entry.first);
      const YAML::Node& v = entry.second;
      if (v.IsScalar()) {
        requirement.pattern = v.Scalar();
      } else if (v.IsMap()) {
        requirement.pattern = std::string(kDefaultPlaceholderPattern);
        for (const auto& field : v) {
          const std::string k = scalar(field.first, "a requirement key");
          if (k == "pattern")
            requirement.pattern = scalar(field.second, context + ": 'pattern'");
          else if (k == "wildcard")
            requirement.wildcard = boolean(field.second, context + ": 'wildcard'");
          else
            fail(field.first, context + ": unknown key '" + k + "' (expected pattern or wildcard)");
        }
      } else {
        fail(v, context + " must be a pattern or { pattern: REGEX, wildcard: BOOL }");
      }
      if (!spec.requirements.emplace(var, std::move(requirement)).second)
        fail(entry.first, context + " is given twice");
    }
  }

  void readDefaults(const std::string& name, const YAML::Node& node, RouteSpec& spec) const {
    if (node.IsNull()) return;
    if (!node.IsMap()) fail(node, "route '" + name + "': 'defaults' must be a map");
    for (const auto& entry : node) {
      const std::string var = scalar(entry.first, "a default's name");
      const std::string value =
          entry.second.IsNull()
              ? ""
              : scalar(entry.second, "route '" + name + "': default '" + var + "'");
      if (!spec.defaults.emplace(var, value).second)
        fail(entry.first, "route '" + name + "': default '" + var + "' is given twice");
    }
  }

  Value toValue(const YAML::Node& node) const {
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        return Value(node.Scalar());
      case YAML::NodeType::Sequence: {
        Array array;
        for (const YAML::Node& item : node) array.push_back(toValue(item));
        return Value(std::move(array));
      }
      case YAML::NodeType::Map: {
        Object object;
        for (const auto& entry : node)
          object.set(scalar(entry.first, "a key"), toValue(entry.second));
        return Value(std::move(object));
      }
      default:
        return Value();
    }
  }

  std::string scalar(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar()) fail(node, what + " must be a string, found " + describe(node));
    return node.Scalar();
  }

  bool boolean(const YAML::Node& node, const std::string& what) const {
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    fail(node, what + " must be true or false");
  }

  static std::string describe(const YAML::Node& node) {
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

  SourceLocation at(const YAML::Node& node) const { return locate(file_, node.Mark()); }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& what) const {
    throw ConfigError(at(node), what);
  }

  std::string file_;
};

bool isRoutingFileName(const fs::path& path) {
  const std::string name = path.filename().string();
  const std::string ext = path.extension().string();
  // Editors leave hidden files such as ".#name.yml" beside the one being edited.
  return !name.empty() && name.front() != '.' && (ext == ".yml" || ext == ".yaml");
}

std::vector<std::string> expandRoutingPaths(const std::vector<std::string>& filesOrDirectories) {
  std::vector<std::string> files;
  for (const std::string& entry : filesOrDirectories) {
    std::error_code ec;
    if (!fs::exists(entry, ec)) throw ConfigError({entry}, "routing path does not exist");
    if (!fs::is_directory(entry, ec)) {
      files.push_back(entry);
      continue;
    }
    std::vector<fs::path> inDirectory;
    for (const fs::directory_entry& file : fs::directory_iterator(entry, ec))
      if (file.is_regular_file(ec) && isRoutingFileName(file.path()))
        inDirectory.push_back(file.path());
    if (ec) throw ConfigError({entry}, "cannot list the directory: " + ec.message());
    std::sort(inDirectory.begin(), inDirectory.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
    for (const fs::path& file : inDirectory) files.push_back(file.string());
  }
  return files;
}

}  // namespace

Route::Route(RouteSpec spec) : spec_(std::move(spec)) {
  const SourceLocation& channelWhere = orElse(spec_.channelWhere, spec_.where);
  const std::vector<ChannelToken> tokens = tokenize(spec_.channel, channelWhere);

  for (const auto& [var, requirement] : spec_.requirements) {
    const bool known = std::any_of(tokens.begin(), tokens.end(), [&](const ChannelToken& t) {
      return t.placeholder && t.text == var;
    });
    if (!known)
      throw ConfigError(orElse(requirement.where, spec_.where),
                        "route '" + spec_.name + "': requirement for '" + var + "', but channel '" +
                            spec_.channel + "' has no placeholder {" + var + "}");
  }

  std::size_t firstOptional = tokens.size();
  for (std::size_t i = tokens.size(); i-- > 0;) {
    if (!tokens[i].placeholder || spec_.defaults.count(tokens[i].text) == 0) break;
    firstOptional = i;
  }

  std::string regex;
  std::size_t nextGroup = 1;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const ChannelToken& token = tokens[i];
    if (!token.placeholder) {
      regex += escapeRegex(token.text);
      continue;
    }
    std::string pattern(kDefaultPlaceholderPattern);
    std::size_t ownGroups = 0;
    if (auto it = spec_.requirements.find(token.text); it != spec_.requirements.end()) {
      pattern = it->second.pattern;
      ownGroups = captureGroups(pattern, token.text, orElse(it->second.where, spec_.where));
      if (it->second.wildcard) pattern += "|\\*";
    }
    placeholders_.push_back(token.text);
    groupOfPlaceholder_.push_back(nextGroup);
    nextGroup += 1 + ownGroups;

    const std::string piece = escapeRegex(token.separator) + "(" + pattern + ")";
    if (i < firstOptional) {
      regex += piece;
    } else if (i == 0) {
      // The whole channel is one optional placeholder: only its value may be left out.
      regex += piece + "?";
    } else {
      // Nested, as Symfony does: a later optional part is only there if an earlier one is.
      regex += "(?:" + piece;
    }
  }
  if (firstOptional < tokens.size()) {
    const std::size_t opened = tokens.size() - firstOptional - (firstOptional == 0 ? 1 : 0);
    for (std::size_t i = 0; i < opened; ++i) regex += ")?";
  }

  try {
    regex_ = std::regex(regex, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    throw ConfigError(channelWhere, "route '" + spec_.name + "': channel '" + spec_.channel +
                                        "' does not compile with its requirements: " + e.what());
  }
}

bool Route::match(std::string_view uri, Request& out) const {
  if (uri.size() > kMaxUriLength) return false;
  std::cmatch m;
  if (!std::regex_match(uri.data(), uri.data() + uri.size(), m, regex_)) return false;
  out.routeName = spec_.name;
  out.attributes.clear();
  for (std::size_t i = 0; i < placeholders_.size(); ++i) {
    const auto& group = m[groupOfPlaceholder_[i]];
    if (group.matched) out.attributes.emplace(placeholders_[i], group.str());
  }
  // emplace keeps what the URI gave.
  for (const auto& [name, value] : spec_.defaults) out.attributes.emplace(name, value);
  return true;
}

void Router::add(RouteSpec spec) {
  for (const auto& route : routes_)
    if (route->name() == spec.name)
      throw ConfigError(spec.where, "duplicate route name '" + spec.name + "' (first defined at " +
                                        route->spec().where.str() + ")");
  routes_.push_back(std::make_unique<Route>(std::move(spec)));
}

const Route* Router::match(std::string_view uri, Request& out) const {
  for (const auto& route : routes_)
    if (route->match(uri, out)) return route.get();
  return nullptr;
}

std::vector<RouteSpec> loadRoutingFile(const std::string& path) {
  return RoutingFileReader(path).read();
}

Router loadRouting(const std::vector<std::string>& filesOrDirectories) {
  Router router;
  for (const std::string& file : expandRoutingPaths(filesOrDirectories))
    for (RouteSpec& spec : loadRoutingFile(file)) router.add(std::move(spec));
  return router;
}

bool sameRoute(const RouteSpec& a, const RouteSpec& b) {
  if (a.name != b.name || a.channel != b.channel || a.callback != b.callback || a.args != b.args ||
      a.defaults != b.defaults || a.publishPolicy != b.publishPolicy ||
      a.requirements.size() != b.requirements.size())
    return false;
  for (const auto& [name, requirement] : a.requirements) {
    auto it = b.requirements.find(name);
    if (it == b.requirements.end() || it->second.pattern != requirement.pattern ||
        it->second.wildcard != requirement.wildcard)
      return false;
  }
  return true;
}

}  // namespace wampd::core
