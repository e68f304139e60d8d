// Routing: topic and procedure URIs to routes, as Gos/Symfony route `websocket_routing.yml`.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_error.h"
#include "wampd/request.h"
#include "wampd/value.h"

namespace wampd::core {

struct RouteRequirement {
  /// A regular expression (ECMAScript) the placeholder's value must match whole.
  std::string pattern;
  /// `*` is also accepted as the value.
  bool wildcard = false;
  /// Where the requirement is written; empty for routes built in code (errors then name the
  /// route's location).
  SourceLocation where;
};

/// One entry of a routing file, as written.
struct RouteSpec {
  std::string name;
  /// `channel:` (or `pattern:`), e.g. "oro/email_event/{user_id}/{organization_id}".
  std::string channel;
  /// `handler.callback` (or top-level `callback:`): the handler's getName().
  std::string callback;
  /// `handler.args`, passed to nothing yet but kept for tools (wampctl topics).
  std::vector<Value> args;
  std::map<std::string, RouteRequirement> requirements;
  std::map<std::string, std::string> defaults;
  /// Who may publish (`publish:`); empty = the server default. Used by authorization.
  std::string publishPolicy;
  /// Where the route (its name) is written.
  SourceLocation where;
  /// Where `channel:` is written; empty = `where`.
  SourceLocation channelWhere;
};

/// URIs longer than this match no route. Constraint: libstdc++'s std::regex recurses once per
/// input character, so an unbounded client-supplied URI could exhaust the stack.
inline constexpr std::size_t kMaxUriLength = 1024;

/// A compiled route. Placeholders `{name}` default to `[^/]+`; the whole URI must match. As in
/// Symfony, trailing placeholders that have defaults are optional together with the separator
/// before them.
class Route {
 public:
  /// Throws ConfigError (at spec.where) for an invalid channel or requirement pattern.
  explicit Route(RouteSpec spec);

  const RouteSpec& spec() const noexcept { return spec_; }
  const std::string& name() const noexcept { return spec_.name; }
  const std::string& callback() const noexcept { return spec_.callback; }
  /// Placeholder names in channel order.
  const std::vector<std::string>& placeholders() const noexcept { return placeholders_; }

  /// When `uri` matches, fills `out` (route name, attributes incl. defaults) and returns true;
  /// leaves `out` alone otherwise.
  bool match(std::string_view uri, Request& out) const;

 private:
  RouteSpec spec_;
  std::regex regex_;
  std::vector<std::string> placeholders_;
  std::vector<std::size_t> groupOfPlaceholder_;  // capture group index per placeholder
};

/// Routes in load order; the first match wins.
class Router {
 public:
  /// Throws ConfigError for an invalid route or a duplicate route name.
  void add(RouteSpec spec);
  /// The first route matching `uri`, filling `out`; nullptr when none matches.
  const Route* match(std::string_view uri, Request& out) const;
  const std::vector<std::unique_ptr<Route>>& routes() const noexcept { return routes_; }
  std::size_t size() const noexcept { return routes_.size(); }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
};

/// True when two routes match the same URIs with the same attributes and name the same
/// handler and policy (where they are written does not count).
bool sameRoute(const RouteSpec& a, const RouteSpec& b);

/// Parses one Gos/Oro routing file. Throws ConfigError naming the file, line and problem.
std::vector<RouteSpec> loadRoutingFile(const std::string& path);
/// The same over text already read; errors name `file`.
std::vector<RouteSpec> parseRoutingFile(const std::string& text, const std::string& file);

/// Expands a list of routing files and directories (every *.yml / *.yaml inside, sorted by
/// name) into files, and loads them all into a Router in that order.
Router loadRouting(const std::vector<std::string>& filesOrDirectories);

}  // namespace wampd::core
