#include "routing/router.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using wampd::Request;
using wampd::core::ConfigError;
using wampd::core::kMaxUriLength;
using wampd::core::loadRouting;
using wampd::core::loadRoutingFile;
using wampd::core::Route;
using wampd::core::Router;
using wampd::core::RouteSpec;

namespace {

std::string fixture(const std::string& relative) {
  return std::string(WAMPD_SOURCE_DIR) + "/tests/unit/fixtures/routing/" + relative;
}

RouteSpec spec(std::string name, std::string channel) {
  RouteSpec s;
  s.name = std::move(name);
  s.channel = std::move(channel);
  s.callback = s.name + ".handler";
  s.where = {"test", 1, 1};
  return s;
}

RouteSpec emailEvent() {
  RouteSpec s = spec("oro_email.event", "oro/email_event/{user_id}/{organization_id}");
  s.requirements["user_id"] = {"\\d+", false, {}};
  s.requirements["organization_id"] = {"\\d+", true, {}};
  return s;
}

// The route name `uri` resolves to, or "" when no route matches.
std::string routeFor(const Router& router, const std::string& uri) {
  Request request;
  const Route* route = router.match(uri, request);
  return route ? route->name() : "";
}

// Loads `paths`, expecting a ConfigError; returns it so the caller can check where and what.
ConfigError loadError(const std::vector<std::string>& paths) {
  try {
    loadRouting(paths);
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError for " << paths.front());
  return ConfigError({}, "");
}

void checkError(const std::string& file, int line, int column, const std::string& fragment) {
  INFO("fixture: " << file);
  const ConfigError e = loadError({fixture(file)});
  CHECK(e.where().file == fixture(file));
  CHECK(e.where().line == line);
  CHECK(e.where().column == column);
  CHECK(e.detail().find(fragment) != std::string::npos);
  CHECK(std::string(e.what()).rfind(fixture(file) + ":" + std::to_string(line) + ":", 0) == 0);
}

}  // namespace

TEST_CASE("a placeholder matches one path segment and becomes an attribute") {
  Route route(spec("rpc", "sample/{method}"));
  Request request;
  REQUIRE(route.match("sample/square", request));
  CHECK(request.routeName == "rpc");
  CHECK(request.attributes.size() == 1);
  CHECK(request.attribute("method") == "square");
  CHECK(route.placeholders() == std::vector<std::string>{"method"});

  CHECK_FALSE(route.match("sample/a/b", request));
  CHECK_FALSE(route.match("sample/", request));
  CHECK_FALSE(route.match("other/square", request));
}

TEST_CASE("literal text is matched as text, not as a regular expression") {
  Route route(spec("dots", "a.b+c/{x}"));
  Request request;
  CHECK(route.match("a.b+c/1", request));
  CHECK_FALSE(route.match("aXbbc/1", request));
}

TEST_CASE("the whole URI must match") {
  Route route(spec("ping", "oro/ping"));
  Request request;
  CHECK(route.match("oro/ping", request));
  CHECK_FALSE(route.match("oro/ping/extra", request));
  CHECK_FALSE(route.match("xoro/ping", request));
  CHECK_FALSE(route.match("oro/pin", request));
}

TEST_CASE("requirements restrict placeholders and wildcard admits '*'") {
  Route route(emailEvent());
  Request request;
  REQUIRE(route.match("oro/email_event/5/1", request));
  CHECK(request.attribute("user_id") == "5");
  CHECK(request.attribute("organization_id") == "1");

  REQUIRE(route.match("oro/email_event/5/*", request));
  CHECK(request.attribute("organization_id") == "*");

  CHECK_FALSE(route.match("oro/email_event/x/1", request));
  CHECK_FALSE(route.match("oro/email_event/*/1", request));  // user_id has no wildcard
  CHECK_FALSE(route.match("oro/email_event/5/1/extra", request));
  CHECK_FALSE(route.match("oro/email_event/5/1x", request));
}

TEST_CASE("a requirement with its own capture groups keeps later attributes right") {
  RouteSpec s = spec("grouped", "grouped/{kind}/{id}");
  s.requirements["kind"] = {"(red|green)(-dark)?", false, {}};
  s.requirements["id"] = {"\\d+", true, {}};
  Route route(std::move(s));
  Request request;
  REQUIRE(route.match("grouped/green-dark/42", request));
  CHECK(request.attribute("kind") == "green-dark");
  CHECK(request.attribute("id") == "42");
  REQUIRE(route.match("grouped/red/*", request));
  CHECK(request.attribute("kind") == "red");
  CHECK(request.attribute("id") == "*");
  CHECK_FALSE(route.match("grouped/blue/1", request));
}

TEST_CASE("an alternation in a requirement stays inside its placeholder") {
  RouteSpec s = spec("alt", "alt/{x}/end");
  s.requirements["x"] = {"a|b", false, {}};
  Route route(std::move(s));
  Request request;
  CHECK(route.match("alt/a/end", request));
  CHECK(route.match("alt/b/end", request));
  CHECK_FALSE(route.match("a", request));
  CHECK_FALSE(route.match("alt/a", request));
}

TEST_CASE("defaults fill attributes the URI does not give") {
  RouteSpec s = spec("news", "news/{category}/{page}");
  s.defaults = {{"page", "1"}, {"format", "json"}};
  Route route(std::move(s));
  Request request;

  REQUIRE(route.match("news/sport/3", request));
  CHECK(request.attribute("page") == "3");
  CHECK(request.attribute("format") == "json");

  SUBCASE("a trailing placeholder with a default is optional with its separator") {
    REQUIRE(route.match("news/sport", request));
    CHECK(request.attribute("category") == "sport");
    CHECK(request.attribute("page") == "1");
    CHECK_FALSE(route.match("news/sport/", request));
    CHECK_FALSE(route.match("news", request));
  }
}

TEST_CASE("trailing optional placeholders nest: a later one needs the earlier one") {
  RouteSpec s = spec("opt", "opt/{a}/{b}");
  s.defaults = {{"a", "A"}, {"b", "B"}};
  Route route(std::move(s));
  Request request;
  REQUIRE(route.match("opt", request));
  CHECK(request.attribute("a") == "A");
  CHECK(request.attribute("b") == "B");
  REQUIRE(route.match("opt/x", request));
  CHECK(request.attribute("a") == "x");
  CHECK(request.attribute("b") == "B");
  REQUIRE(route.match("opt/x/y", request));
  CHECK(request.attribute("b") == "y");
}

TEST_CASE("a placeholder with a default followed by one without is required") {
  RouteSpec s = spec("mid", "mid/{a}/{b}");
  s.defaults = {{"a", "A"}};
  Route route(std::move(s));
  Request request;
  CHECK_FALSE(route.match("mid/x", request));
  CHECK(route.match("mid/x/y", request));
}

TEST_CASE("a failed match leaves the request alone") {
  Route route(spec("rpc", "sample/{method}"));
  Request request;
  request.routeName = "before";
  request.attributes["kept"] = "yes";
  CHECK_FALSE(route.match("nope", request));
  CHECK(request.routeName == "before");
  CHECK(request.attribute("kept") == "yes");
}

TEST_CASE("a URI longer than kMaxUriLength matches nothing, without exhausting the stack") {
  Route route(spec("rpc", "sample/{method}"));
  Request request;
  CHECK(route.match("sample/" + std::string(kMaxUriLength - 7, 'a'), request));
  CHECK_FALSE(route.match("sample/" + std::string(kMaxUriLength - 6, 'a'), request));
  CHECK_FALSE(route.match("sample/" + std::string(1 << 20, 'a'), request));
}

TEST_CASE("routes are tried in load order and the first match wins") {
  Router router;
  router.add(spec("specific", "user/{id}/profile"));
  router.add(spec("general", "user/{id}/{page}"));
  router.add(spec("late", "user/1/profile"));
  CHECK(routeFor(router, "user/1/profile") == "specific");
  CHECK(routeFor(router, "user/1/settings") == "general");
  CHECK(router.size() == 3);
}

TEST_CASE("no match returns nullptr") {
  Router router;
  router.add(emailEvent());
  Request request;
  CHECK(router.match("oro/ping", request) == nullptr);
  CHECK(Router().match("anything", request) == nullptr);
}

TEST_CASE("Router::add refuses a duplicate name, naming both locations") {
  Router router;
  RouteSpec first = spec("same", "a");
  first.where = {"one.yml", 3, 1};
  RouteSpec second = spec("same", "b");
  second.where = {"two.yml", 7, 1};
  router.add(first);
  try {
    router.add(second);
    FAIL("duplicate accepted");
  } catch (const ConfigError& e) {
    CHECK(e.where().str() == "two.yml:7:1");
    CHECK(e.detail().find("one.yml:3:1") != std::string::npos);
  }
  CHECK(router.size() == 1);
}

TEST_CASE("Route refuses bad channels and requirements built in code, at the route") {
  RouteSpec unknown = spec("r", "a/{x}");
  unknown.requirements["y"] = {"\\d+", false, {}};
  CHECK_THROWS_WITH_AS(Route{unknown},
                       doctest::Contains("test:1:1: route 'r': requirement for 'y'"), ConfigError);

  RouteSpec badRegex = spec("r", "a/{x}");
  badRegex.requirements["x"] = {"[", false, {"req.yml", 9, 5}};
  CHECK_THROWS_WITH_AS(Route{badRegex}, doctest::Contains("req.yml:9:5:"), ConfigError);

  CHECK_THROWS_WITH_AS(Route{spec("r", "a/{}")}, doctest::Contains("malformed placeholder"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(Route{spec("r", "a/{1x}")}, doctest::Contains("malformed placeholder"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(Route{spec("r", "a/x}")}, doctest::Contains("'}' without"), ConfigError);
  CHECK_THROWS_WITH_AS(Route{spec("r", "{a}/{a}")}, doctest::Contains("appears twice"),
                       ConfigError);
}

TEST_CASE("loadRoutingFile reads Oro's routing schema") {
  const std::vector<RouteSpec> specs = loadRoutingFile(fixture("oro.yml"));
  REQUIRE(specs.size() == 10);
  CHECK(specs[0].name == "oro_sync.ping");
  CHECK(specs[0].channel == "oro/ping");
  CHECK(specs[0].callback == "oro_sync.ping");
  CHECK(specs[0].where.str() == fixture("oro.yml") + ":2:1");

  const RouteSpec& email = specs[5];
  CHECK(email.name == "oro_email.event");
  CHECK(email.callback == "oro_email.event");
  CHECK(email.args.empty());
  CHECK(email.requirements.at("user_id").pattern == "\\d+");
  CHECK_FALSE(email.requirements.at("user_id").wildcard);
  CHECK(email.requirements.at("organization_id").wildcard);
  CHECK(email.requirements.at("organization_id").where.str() == fixture("oro.yml") + ":32:5");
  CHECK(email.channelWhere.str() == fixture("oro.yml") + ":28:12");
  CHECK(email.publishPolicy.empty());
}

TEST_CASE("loadRouting serves Oro's topics") {
  const Router router = loadRouting({fixture("oro.yml")});
  REQUIRE(router.size() == 10);
  CHECK(routeFor(router, "oro/ping") == "oro_sync.ping");
  CHECK(routeFor(router, "oro/maintenance") == "oro_sync.maintenance");
  CHECK(routeFor(router, "oro/data/update") == "oro_sync.data_update");
  CHECK(routeFor(router, "oro/email_event/5/1") == "oro_email.event");
  CHECK(routeFor(router, "oro/email_event/5/*") == "oro_email.event");
  CHECK(routeFor(router, "oro/email_event/x/1") == "");
  CHECK(routeFor(router, "oro/email_event/5/1/extra") == "");
  CHECK(routeFor(router, "oro/reminder_remind/7") == "oro_reminder.remind");
  CHECK(routeFor(router, "oro/reminder_remind/*") == "");
  CHECK(routeFor(router, "oro/imap_sync_fail/*") == "oro_imap.sync_fail");
  CHECK(routeFor(router, "oro/attribute_import/1/2") == "oro_entity_config.attribute_import");

  Request request;
  const Route* rpc = router.match("sample/square", request);
  REQUIRE(rpc != nullptr);
  CHECK(rpc->callback() == "sample.rpc");
  CHECK(request.attribute("method") == "square");
}

TEST_CASE("loadRoutingFile accepts the schema's aliases and optional parts") {
  const std::vector<RouteSpec> specs = loadRoutingFile(fixture("features.yml"));
  REQUIRE(specs.size() == 4);

  const RouteSpec& aliased = specs[0];
  CHECK(aliased.channel == "alias/{id}");
  CHECK(aliased.callback == "aliased.handler");
  CHECK(aliased.requirements.at("id").pattern == "[a-z]+");
  CHECK(aliased.publishPolicy == "backend");

  const RouteSpec& withArgs = specs[1];
  REQUIRE(withArgs.args.size() == 4);
  CHECK(withArgs.args[0] == wampd::Value("one"));
  CHECK(withArgs.args[1] == wampd::Value("2"));  // YAML scalars stay text
  CHECK(withArgs.args[2] == wampd::Value(wampd::Object{{"three", "3"}}));
  CHECK(withArgs.args[3] == wampd::Value(wampd::Array{"four"}));

  const Router router = loadRouting({fixture("features.yml")});
  Request request;
  REQUIRE(router.match("news/sport", request));
  CHECK(request.routeName == "paged");
  CHECK(request.attribute("page") == "1");
  CHECK(request.attribute("format") == "json");
  REQUIRE(router.match("grouped/red-dark/*", request));
  CHECK(request.attribute("id") == "*");
  CHECK(routeFor(router, "alias/abc") == "aliased");
  CHECK(routeFor(router, "alias/ABC") == "");
}

TEST_CASE("an empty routing file has no routes") {
  CHECK(loadRoutingFile(fixture("empty.yml")).empty());
  CHECK(loadRouting({fixture("empty.yml")}).size() == 0);
}

TEST_CASE("a directory's *.yml and *.yaml files load in file-name order") {
  const Router router = loadRouting({fixture("ordered")});
  REQUIRE(router.size() == 3);  // not notes.txt, .hidden.yml nor the nested.yml directory
  CHECK(router.routes()[0]->name() == "from_first");
  CHECK(router.routes()[1]->name() == "from_second");
  CHECK(router.routes()[2]->name() == "from_third");
  CHECK(routeFor(router, "ordered/12") == "from_first");
  CHECK(routeFor(router, "ordered/abc") == "from_second");
  CHECK(routeFor(router, "ordered/1/third") == "from_third");
}

TEST_CASE("files and directories load in the order given") {
  const Router router = loadRouting({fixture("oro.yml"), fixture("ordered")});
  CHECK(router.size() == 13);
  CHECK(router.routes()[0]->name() == "oro_sync.ping");
  CHECK(router.routes()[10]->name() == "from_first");
}

TEST_CASE("routing file errors name file, line and column") {
  SUBCASE("YAML syntax") {
    checkError("invalid/syntax.yml", 4, 1, "YAML syntax error");
  }
  SUBCASE("top level not a map") {
    checkError("invalid/not_a_map.yml", 1, 1, "a routing file is a map");
  }
  SUBCASE("route not a map") {
    checkError("invalid/route_not_a_map.yml", 4, 1, "route 'broken' must be a map");
  }
  SUBCASE("missing channel") {
    checkError("invalid/missing_channel.yml", 1, 1, "route 'no_channel' has no 'channel'");
  }
  SUBCASE("non-string channel") {
    checkError("invalid/channel_not_string.yml", 2, 12, "must be a string, found a list");
  }
  SUBCASE("missing callback") {
    checkError("invalid/missing_callback.yml", 1, 1, "route 'no_callback' has no handler");
  }
  SUBCASE("unknown key") {
    checkError("invalid/unknown_key.yml", 4, 3, "unknown key 'requirement'");
  }
  SUBCASE("requirement for a placeholder the channel lacks") {
    checkError("invalid/unknown_requirement.yml", 6, 5, "requirement for 'org_id'");
  }
  SUBCASE("invalid regex") {
    checkError("invalid/bad_regex.yml", 5, 5, "invalid regular expression '(\\d+'");
  }
  SUBCASE("malformed placeholder") {
    checkError("invalid/malformed_placeholder.yml", 2, 12, "malformed placeholder '{user-id}'");
  }
  SUBCASE("unclosed placeholder") {
    checkError("invalid/unclosed_placeholder.yml", 2, 12, "'{' without a matching '}'");
  }
  SUBCASE("a key written twice in a route names both") {
    checkError("invalid/duplicate_key.yml", 5, 3,
               "route 'twice': duplicate key 'publish' (first at " +
                   fixture("invalid/duplicate_key.yml") + ":4:3)");
  }
  SUBCASE("duplicate route name in one file names both") {
    checkError("invalid/duplicate_in_file.yml", 4, 1,
               "duplicate route name 'twice' (first defined at " +
                   fixture("invalid/duplicate_in_file.yml") + ":1:1)");
  }
}

TEST_CASE("a duplicate route name across files names both files") {
  const ConfigError e =
      loadError({fixture("invalid/duplicate_first.yml"), fixture("invalid/duplicate_second.yml")});
  CHECK(e.where().str() == fixture("invalid/duplicate_second.yml") + ":4:1");
  CHECK(e.detail().find("'shared.name'") != std::string::npos);
  CHECK(e.detail().find(fixture("invalid/duplicate_first.yml") + ":1:1") != std::string::npos);
}

TEST_CASE("a routing path that does not exist is an error naming it") {
  const ConfigError e = loadError({fixture("oro.yml"), fixture("missing.yml")});
  CHECK(e.where().file == fixture("missing.yml"));
  CHECK(e.where().line == 0);
  CHECK(e.detail().find("does not exist") != std::string::npos);

  const std::string expected = fixture("missing.yml") + ": no such file";
  CHECK_THROWS_WITH_AS(loadRoutingFile(fixture("missing.yml")), expected.c_str(), ConfigError);
}

// The fuzzers read routing files from text; errors name the file they are given.
TEST_CASE("a routing file parses from text as from a file") {
  const auto specs = wampd::core::parseRoutingFile(
      "r:\n  channel: 'a/{b}'\n  handler: { callback: c }\n", "text.yml");
  REQUIRE(specs.size() == 1);
  CHECK(specs[0].callback == "c");
  CHECK(specs[0].where.file == "text.yml");
  CHECK(specs[0].where.line == 1);
  try {
    wampd::core::parseRoutingFile("r:\n  channel: [\n", "broken.yml");
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.where().file == "broken.yml");
    CHECK(e.where().line > 0);
  }
}

// Found by tests/fuzz/routing (regressions/huge_repeat_count): libstdc++ reads `{n}` into a
// long without an overflow check.
TEST_CASE("a requirement's repetition count over 5 digits is refused") {
  RouteSpec spec;
  spec.name = "r";
  spec.channel = "a/{b}";
  spec.callback = "c";
  spec.requirements["b"].pattern = "\\d{45255555555555555555555}";
  CHECK_THROWS_WITH_AS(Route{spec}, doctest::Contains("repetition count"), ConfigError);
  spec.requirements["b"].pattern = "\\d{1,99}x\\{123456";
  CHECK_NOTHROW(Route{spec});
}

// Found by tests/fuzz/routing (regressions/nested_quantifiers_requirement): std::regex
// backtracks exponentially over these, on a topic any client may send.
TEST_CASE("a requirement repeating a repetition or an alternation is refused") {
  RouteSpec spec;
  spec.name = "r";
  spec.channel = "a/{b}";
  spec.callback = "c";
  for (const char* pattern : {"(\\d+)+", "(a|aa)*", "\\d+{2}", "(?:[a-z]+/)*", "((\\d+))+",
                              "\\d+{0}+{8}{4}", "(a+){2,}", "(x(a|b)y)+", "(a*)+?"}) {
    CAPTURE(pattern);
    spec.requirements["b"].pattern = pattern;
    CHECK_THROWS_WITH_AS(Route{spec}, doctest::Contains("exponential"), ConfigError);
  }
  for (const char* pattern :
       {"\\d+", "[^/]+", "(foo|bar)", "(\\d+)?", "\\d{1,3}", "[a-z]{2}(-[a-z]{2})?", "(ab)+",
        "(\\d{1})+", "[+*]+", "\\(+", "a|b+", "[]a]+", "\\d{1,99}x\\{123456"}) {
    CAPTURE(pattern);
    spec.requirements["b"].pattern = pattern;
    CHECK_NOTHROW(Route{spec});
  }
}
