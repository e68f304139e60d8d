#include "routing/router.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "common/yaml_document.h"

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

// Whether a repetition count `{n}` / `{n,m}` has more than 5 digits. Constraint: libstdc++'s
// regex compiler reads the count into a long without checking for overflow (undefined
// behaviour; found by tests/fuzz/routing), so such counts never reach it.
bool hugeRepeatCount(const std::string& pattern) {
  bool inBraces = false;
  std::size_t digits = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (inBraces && c >= '0' && c <= '9') {
      if (++digits > 5) return true;
      continue;
    }
    if (inBraces && c == ',') {
      digits = 0;
      continue;
    }
    inBraces = c == '{';
    digits = 0;
    if (c == '\\') ++i;
  }
  return false;
}

// Whether `pattern` repeats something that can itself match in more than one way: a repeated
// group holding a repetition or an alternation (`(\d+)+`, `(a|aa)*`), or a repetition of a
// repetition (`\d+{2}`). Constraint: std::regex backtracks, and on such a pattern a short
// topic from any client can keep the I/O thread busy for minutes (found by tests/fuzz/routing),
// so these are refused when the routing file is loaded. Conservative: a few harmless patterns
// are refused too; none of Oro's or Gos's requirements is among them.
bool ambiguousRepetition(const std::string& pattern) {
  struct Group {
    bool ambiguous = false;  // holds a repetition or an alternation
  };
  std::vector<Group> groups;
  bool lastAmbiguous = false;  // the last atom: a group that holds one, or a repetition
  bool lastWasRepeat = false;
  auto repeatFollows = [&](std::size_t i, std::size_t& end) {
    // A quantifier at i that may repeat more than once; end: its last character.
    const char c = pattern[i];
    end = i;
    if (c == '*' || c == '+') return true;
    if (c != '{') return false;
    const std::size_t close = pattern.find('}', i);
    if (close == std::string::npos) return false;
    end = close;
    const std::string body = pattern.substr(i + 1, close - i - 1);
    const std::size_t comma = body.find(',');
    if (comma == std::string::npos) return body.size() > 1 || (body != "0" && body != "1");
    const std::string max = body.substr(comma + 1);
    return max.empty() || max.size() > 1 || (max != "0" && max != "1");
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    std::size_t end = i;
    if (repeatFollows(i, end)) {
      if (lastAmbiguous || lastWasRepeat) return true;
      if (!groups.empty()) groups.back().ambiguous = true;
      lastWasRepeat = true;
      lastAmbiguous = false;
      i = end;
      if (i + 1 < pattern.size() && pattern[i + 1] == '?') ++i;  // lazy
      continue;
    }
    lastWasRepeat = false;
    lastAmbiguous = false;
    if (c == '\\') {
      ++i;
    } else if (c == '[') {
      // A class is one atom; `]` right after `[` or `[^` is a member.
      std::size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '^') ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;
      for (; j < pattern.size() && pattern[j] != ']'; ++j)
        if (pattern[j] == '\\') ++j;
      i = j;
    } else if (c == '(') {
      groups.push_back({});
      if (i + 2 < pattern.size() && pattern[i + 1] == '?') i += 2;  // (?: (?= (?!
    } else if (c == ')') {
      if (groups.empty()) continue;  // std::regex refuses it later
      lastAmbiguous = groups.back().ambiguous;
      groups.pop_back();
      if (lastAmbiguous && !groups.empty()) groups.back().ambiguous = true;
    } else if (c == '|') {
      if (!groups.empty()) groups.back().ambiguous = true;
    }
  }
  return false;
}

// Number of capture groups in a user pattern; throws ConfigError when it is not a regex.
std::size_t captureGroups(const std::string& pattern, const std::string& placeholder,
                          const SourceLocation& where) {
  if (hugeRepeatCount(pattern))
    throw ConfigError(where, "requirement for '" + placeholder + "': repetition count over " +
                                 "5 digits in '" + pattern + "'");
  if (ambiguousRepetition(pattern))
    throw ConfigError(where, "requirement for '" + placeholder + "': '" + pattern +
                                 "' repeats a repetition or an alternation, which makes matching "
                                 "take exponential time; write it without the nesting, e.g. "
                                 "'\\d+' for '(\\d+)+'");
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

class RoutingFileReader {
 public:
  explicit RoutingFileReader(YamlDocument doc) : doc_(std::move(doc)) {}

  std::vector<RouteSpec> read() const {
    const YAML::Node& root = doc_.root();
    std::vector<RouteSpec> specs;
    if (root.IsNull()) return specs;
    if (!root.IsMap())
      fail(root, "a routing file is a map of route names to routes, found " + describe(root));
    // Worded as Router::add words a name defined in two files.
    const auto duplicateName = [](const std::string& name, const SourceLocation& first) {
      return "duplicate route name '" + name + "' (first defined at " + first.str() + ")";
    };
    for (const YamlEntry& entry : doc_.entries(root, {}, {}, duplicateName))
      specs.push_back(route(entry.key, entry.keyNode, entry.value));
    // Compiling reports bad channels and requirements now, not when the router is built.
    for (const RouteSpec& spec : specs) [[maybe_unused]] const Route compiled(spec);
    return specs;
  }

 private:
  RouteSpec route(const std::string& name, const YAML::Node& key, const YAML::Node& body) const {
    if (!body.IsMap()) fail(key, "route '" + name + "' must be a map, found " + describe(body));
    RouteSpec spec;
    spec.name = name;
    spec.where = at(key);
    const std::string owner = "route '" + name + "'";
    const YAML::Node* channel = nullptr;
    const YAML::Node* callback = nullptr;
    const std::vector<YamlEntry> fields = doc_.entries(
        body, {owner, ""},
        {"channel", "pattern", "handler", "callback", "requirements", "defaults", "publish"});
    for (const YamlEntry& field : fields) {
      const std::string& k = field.key;
      const YAML::Node& v = field.value;
      if (k == "channel" || k == "pattern") {
        if (channel) fail(field.keyNode, owner + ": the channel is given twice");
        channel = &v;
        spec.channel = scalar(v, owner + ": '" + k + "'");
        spec.channelWhere = at(v);
      } else if (k == "handler" || k == "callback") {
        if (callback) fail(field.keyNode, owner + ": the handler is given twice");
        callback = &v;
        if (k == "handler")
          readHandler(name, v, spec);
        else
          spec.callback = scalar(v, owner + ": 'callback'");
      } else if (k == "requirements") {
        readRequirements(name, v, spec);
      } else if (k == "defaults") {
        readDefaults(name, v, spec);
      } else {
        spec.publishPolicy = scalar(v, owner + ": 'publish'");
      }
    }
    if (!channel) fail(key, owner + " has no 'channel'");
    if (spec.channel.empty()) fail(*channel, owner + ": the channel is empty");
    if (!callback) fail(key, owner + " has no handler (handler: { callback: NAME })");
    if (spec.callback.empty()) fail(*callback, owner + ": the callback is empty");
    return spec;
  }

  void readHandler(const std::string& name, const YAML::Node& handler, RouteSpec& spec) const {
    const std::string owner = "route '" + name + "'";
    if (!handler.IsMap()) fail(handler, owner + ": 'handler' must be a map with a 'callback'");
    bool hasCallback = false;
    for (const YamlEntry& field :
         doc_.entries(handler, {owner, "'handler'"}, {"callback", "args"})) {
      if (field.key == "callback") {
        hasCallback = true;
        spec.callback = scalar(field.value, owner + ": 'handler.callback'");
      } else if (!field.value.IsNull()) {
        if (!field.value.IsSequence()) fail(field.value, owner + ": 'handler.args' must be a list");
        for (const YAML::Node& arg : field.value) spec.args.push_back(doc_.value(arg));
      }
    }
    if (!hasCallback) fail(handler, owner + ": 'handler' has no 'callback'");
  }

  void readRequirements(const std::string& name, const YAML::Node& node, RouteSpec& spec) const {
    const std::string owner = "route '" + name + "'";
    if (!node.IsNull() && !node.IsMap()) fail(node, owner + ": 'requirements' must be a map");
    for (const YamlEntry& entry : doc_.entries(node, {owner, "'requirements'"})) {
      const std::string context = owner + ": requirement '" + entry.key + "'";
      RouteRequirement requirement;
      requirement.where = at(entry.keyNode);
      const YAML::Node& v = entry.value;
      if (v.IsScalar()) {
        requirement.pattern = v.Scalar();
      } else if (v.IsMap()) {
        requirement.pattern = std::string(kDefaultPlaceholderPattern);
        for (const YamlEntry& field : doc_.entries(v, {context, ""}, {"pattern", "wildcard"})) {
          if (field.key == "pattern")
            requirement.pattern = scalar(field.value, context + ": 'pattern'");
          else
            requirement.wildcard = doc_.boolean(field.value, context + ": 'wildcard'");
        }
      } else {
        fail(v, context + " must be a pattern or { pattern: REGEX, wildcard: BOOL }");
      }
      spec.requirements.emplace(entry.key, std::move(requirement));
    }
  }

  void readDefaults(const std::string& name, const YAML::Node& node, RouteSpec& spec) const {
    const std::string owner = "route '" + name + "'";
    if (!node.IsNull() && !node.IsMap()) fail(node, owner + ": 'defaults' must be a map");
    for (const YamlEntry& entry : doc_.entries(node, {owner, "'defaults'"}))
      spec.defaults.emplace(
          entry.key,
          entry.value.IsNull() ? "" : scalar(entry.value, owner + ": default '" + entry.key + "'"));
  }

  std::string scalar(const YAML::Node& node, const std::string& what) const {
    return doc_.scalar(node, what);
  }

  static std::string describe(const YAML::Node& node) { return YamlDocument::describe(node); }

  SourceLocation at(const YAML::Node& node) const { return doc_.at(node); }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& what) const {
    doc_.fail(node, what);
  }

  YamlDocument doc_;
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
    // C++17 lambdas cannot capture a structured binding (clang refuses; GCC allows it).
    const bool known = std::any_of(
        tokens.begin(), tokens.end(),
        [&name = var](const ChannelToken& t) { return t.placeholder && t.text == name; });
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
  return RoutingFileReader(YamlDocument::loadFile(path)).read();
}

std::vector<RouteSpec> parseRoutingFile(const std::string& text, const std::string& file) {
  return RoutingFileReader(YamlDocument::parse(text, file)).read();
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
