#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "plugins/plugin_host.h"

using namespace wampd;
using namespace wampd::core;

namespace {

/// Writes `text` to a fresh file and returns its path.
std::string manifestFile(const std::string& text) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("wampd-manifest-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / ("m" + std::to_string(counter++) + ".yml");
  std::ofstream(path) << text;
  return path.string();
}

struct Failure {
  std::string what;
  SourceLocation where;
};

Failure failureOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return {e.what(), e.where()};
  }
  FAIL("no ConfigError thrown");
  return {};
}

Failure loadFailure(const std::string& text, std::string* path = nullptr) {
  std::string file = manifestFile(text);
  if (path) *path = file;
  return failureOf([&] { loadManifest(file); });
}

const char* kOroPing = R"(parameters:
  oro_sync.websocket_ping.interval: 50
services:
  oro_sync.topic.websocket_ping:
    class: WebsocketPingTopic
    arguments: ['oro_sync.ping', '%oro_sync.websocket_ping.interval%']
    tags: [{ name: gos_web_socket.topic }]
  sample.rpc:
    class: SampleRpc
    arguments: [a, 7, true, ~, [1, x], { k: v }]
    tags: [gos_web_socket.rpc, other.tag]
)";

}  // namespace

TEST_CASE("a manifest in Oro's shape parses into services, in file order") {
  std::string file = manifestFile(kOroPing);
  Manifest m = loadManifest(file);
  CHECK(m.file == file);
  REQUIRE(m.services.size() == 2);

  const ManifestService& ping = m.services[0];
  CHECK(ping.id == "oro_sync.topic.websocket_ping");
  CHECK(ping.className == "WebsocketPingTopic");
  REQUIRE(ping.arguments.size() == 2);
  CHECK(ping.arguments[0] == Value("oro_sync.ping"));
  CHECK(ping.arguments[1] == Value("%oro_sync.websocket_ping.interval%"));
  CHECK(ping.tags == std::vector<std::string>{"gos_web_socket.topic"});
  CHECK(ping.hasTag(kTopicTag));
  CHECK_FALSE(ping.hasTag(kRpcTag));
  CHECK(ping.where.file == file);
  CHECK(ping.where.line == 4);
  CHECK(ping.where.column == 3);

  const ManifestService& rpc = m.services[1];
  CHECK(rpc.hasTag(kRpcTag));
  CHECK(rpc.hasTag("other.tag"));
  CHECK(rpc.where.line == 8);
}

TEST_CASE("scalars become strings; lists and maps become arrays and objects") {
  Manifest m = loadManifest(manifestFile(kOroPing));
  const std::vector<Value>& args = m.services[1].arguments;
  REQUIRE(args.size() == 6);
  CHECK(args[0] == Value("a"));
  CHECK(args[1] == Value("7"));
  CHECK(args[2] == Value("true"));
  CHECK(args[3].isNull());
  CHECK(args[4] == Value(Array{Value("1"), Value("x")}));
  CHECK(args[5] == Value(Object{{"k", Value("v")}}));
}

TEST_CASE("the parameters section gives defaults") {
  Manifest m = loadManifest(manifestFile(kOroPing));
  CHECK(m.defaults == Parameters{{"oro_sync.websocket_ping.interval", "50"}});
}

TEST_CASE("a manifest without parameters, arguments or with an empty services map") {
  Manifest m = loadManifest(manifestFile(R"(services:
  a:
    class: A
    tags: [gos_web_socket.topic]
)"));
  CHECK(m.defaults.empty());
  REQUIRE(m.services.size() == 1);
  CHECK(m.services[0].arguments.empty());
  CHECK(loadManifest(manifestFile("services: {}\n")).services.empty());
}

TEST_CASE("manifest errors name file, line and column") {
  std::string file;

  SUBCASE("YAML syntax") {
    Failure f =
        loadFailure("services:\n  a:\n    class: A\n    arguments: ['x'\n    tags: []\n", &file);
    CHECK(f.where.file == file);
    CHECK(f.where.line > 0);
    CHECK(f.where.column > 0);
    CHECK(f.what.find(file + ":") == 0);
    CHECK(f.what.find("YAML syntax error") != std::string::npos);
  }
  SUBCASE("missing services") {
    Failure f = loadFailure("parameters: {}\n", &file);
    CHECK(f.what == file + ":1:1: plugin manifest has no 'services'");
  }
  SUBCASE("empty file") {
    Failure f = loadFailure("", &file);
    CHECK(f.what == file + ":1:1: plugin manifest has no 'services'");
  }
  SUBCASE("not a map") {
    Failure f = loadFailure("- a\n- b\n", &file);
    CHECK(f.what == file + ":1:1: a plugin manifest must be a map with 'services'");
  }
  SUBCASE("unknown top-level key") {
    Failure f = loadFailure("services: {}\nimports: []\n", &file);
    CHECK(f.what == file + ":2:1: unknown key 'imports' (expected parameters, services)");
  }
  SUBCASE("services not a map") {
    Failure f = loadFailure("services: [a]\n", &file);
    CHECK(f.what == file + ":1:11: 'services' must be a map of service id: definition");
  }
  SUBCASE("service not a map") {
    Failure f = loadFailure("services:\n  a: SomeClass\n", &file);
    CHECK(f.what == file + ":2:6: service 'a' must be a map with a class");
  }
  SUBCASE("service without a body") {
    Failure f = loadFailure("services:\n  a:\n", &file);
    CHECK(f.what == file + ":2:3: service 'a' must be a map with a class");
  }
  SUBCASE("missing class") {
    Failure f = loadFailure("services:\n  a:\n    tags: [gos_web_socket.topic]\n", &file);
    CHECK(f.what == file + ":2:3: service 'a' has no 'class'");
  }
  SUBCASE("unknown key") {
    Failure f = loadFailure(
        "services:\n  a:\n    class: A\n    public: true\n    tags: [gos_web_socket.topic]\n",
        &file);
    CHECK(f.what ==
          file + ":4:5: service 'a': unknown key 'public' (expected class, arguments, tags)");
  }
  SUBCASE("neither tag") {
    Failure f = loadFailure("services:\n  a:\n    class: A\n    tags: [{ name: other }]\n", &file);
    CHECK(f.what == file +
                        ":2:3: service 'a' has none of the tags gos_web_socket.topic, "
                        "gos_web_socket.rpc, wampd.user_provider");
  }
  SUBCASE("no tags at all") {
    Failure f = loadFailure("services:\n  a:\n    class: A\n", &file);
    CHECK(f.where.line == 2);
    CHECK(f.what.find("has none of the tags") != std::string::npos);
  }
  SUBCASE("both tags") {
    Failure f = loadFailure(
        "services:\n  a:\n    class: A\n    tags: [gos_web_socket.topic, gos_web_socket.rpc]\n",
        &file);
    CHECK(f.where.line == 2);
    CHECK(f.what.find("has more than one of the tags") != std::string::npos);
  }
  SUBCASE("a tag map without a name") {
    Failure f = loadFailure("services:\n  a:\n    class: A\n    tags: [{ priority: 1 }]\n", &file);
    CHECK(f.what == file + ":4:12: service 'a': a tag must be a name or { name: NAME }");
  }
  SUBCASE("arguments not a list") {
    Failure f = loadFailure(
        "services:\n  a:\n    class: A\n    arguments: x\n    tags: [gos_web_socket.topic]\n",
        &file);
    CHECK(f.what == file + ":4:16: service 'a': 'arguments' must be a list");
  }
  SUBCASE("a service defined twice") {
    Failure f = loadFailure(
        "services:\n  a:\n    class: A\n    tags: [gos_web_socket.topic]\n"
        "  a:\n    class: B\n    tags: [gos_web_socket.topic]\n",
        &file);
    CHECK(f.what == file + ":5:3: service 'a' is defined twice");
  }
  SUBCASE("a parameter that is not a scalar") {
    Failure f = loadFailure("parameters:\n  p: [1]\nservices: {}\n", &file);
    CHECK(f.what == file + ":2:6: parameter 'p' must be a scalar value");
  }
  SUBCASE("a file that cannot be read") {
    file = manifestFile("") + ".missing";
    Failure f = failureOf([&] { loadManifest(file); });
    CHECK(f.what == file + ": cannot read plugin manifest");
  }
}

TEST_CASE("resolveArguments substitutes %parameters%") {
  Manifest m = loadManifest(manifestFile(R"(services:
  s:
    class: A
    arguments:
      - '%interval%'
      - 'every %interval%s, %%literal%%'
      - '50% off, %not a parameter%'
      - ['%name%', { key: '%name%' }]
      - plain
      - ~
    tags: [gos_web_socket.topic]
)"));
  Arguments args = resolveArguments(m.services[0], {{"interval", "50"}, {"name", "ping"}});
  REQUIRE(args.size() == 6);
  CHECK(args.string(0) == "50");
  CHECK(args.integer(0) == 50);
  CHECK(args.string(1) == "every 50s, %literal%");
  CHECK(args.string(2) == "50% off, %not a parameter%");
  CHECK(args.at(3) == Value(Array{Value("ping"), Value(Object{{"key", Value("ping")}})}));
  CHECK(args.string(4) == "plain");
  CHECK(args.at(5).isNull());
}

TEST_CASE("an unknown %parameter% is an error at the service") {
  std::string file = manifestFile(R"(services:
  oro_sync.topic.websocket_ping:
    class: WebsocketPingTopic
    arguments: ['oro_sync.ping', 'x%oro_sync.websocket_ping.interval%']
    tags: [gos_web_socket.topic]
)");
  Manifest m = loadManifest(file);
  Failure f = failureOf([&] { resolveArguments(m.services[0], {}); });
  CHECK(f.what == file +
                      ":2:3: service 'oro_sync.topic.websocket_ping': argument #1 uses unknown "
                      "parameter '%oro_sync.websocket_ping.interval%'");
}

// The fuzzers read manifests from text; errors name the file they are given.
TEST_CASE("a manifest parses from text as from a file") {
  const Manifest m = parseManifest(
      "services:\n  a: { class: B, arguments: ['%p%'], tags: [gos_web_socket.topic] }\n", "m.yml");
  CHECK(m.file == "m.yml");
  REQUIRE(m.services.size() == 1);
  CHECK(m.services[0].className == "B");
  try {
    parseManifest("services: [\n", "broken.yml");
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.where().file == "broken.yml");
    CHECK(e.where().line > 0);
  }
}
