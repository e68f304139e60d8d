#include "plugins/plugin_host.h"

#include <dlfcn.h>
#include <doctest/doctest.h>
#include <elf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <utility>

#include "../sdk/fake_host.h"
#include "wampd/abi.h"
#include "wampd/errors.h"

using namespace wampd;
using namespace wampd::core;
using wampd::testing::FakeConnection;
using wampd::testing::FakeTopic;
namespace fs = std::filesystem;

namespace {

const std::string kBundled = WAMPD_BUILD_PLUGIN_DIR;
const std::string kFixtures = WAMPD_FIXTURE_PLUGIN_DIR;

std::string fixtureDir(const std::string& name) {
  return kFixtures + "/" + name;
}
std::string fixtureFile(const std::string& name, const char* extension) {
  return fixtureDir(name) + "/fixture_" + name + extension;
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

Failure loadFailure(const std::vector<std::string>& dirs, const Parameters& params = {}) {
  return failureOf([&] { loadPlugins(dirs, params); });
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// An empty directory of its own for one test.
fs::path scratchDir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("wampd-plugin-host-test-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

/// `library` copied into `dir` as NAME.so, with `manifest` as NAME.yml.
void installCopy(const fs::path& dir, const std::string& name, const std::string& library,
                 const std::string& manifest) {
  fs::copy_file(library, dir / (name + ".so"));
  std::ofstream(dir / (name + ".yml")) << manifest;
}

// The host maps a private copy of each library ("<n>-NAME.so", unlinked once loaded), so
// the process's mappings are the place to look.
bool isLoaded(const std::string& library) {
  std::ifstream maps("/proc/self/maps");
  const std::string copy = "-" + fs::path(library).filename().string();
  for (std::string line; std::getline(maps, line);)
    if (line.find(copy) != std::string::npos) return true;
  return false;
}

Value call(const RpcHandlerEntry& rpc, const char* method, Array args, Status* status = nullptr) {
  FakeConnection caller(1);
  Request request;
  request.routeName = "sample.rpc";
  request.attributes["method"] = method;
  Value result;
  Status s = rpc.handler->hostCall(caller, request, args, result);
  if (status) *status = s;
  return result;
}

}  // namespace

TEST_CASE("the bundled plugins load with Oro's handler names") {
  PluginSet set = loadPlugins({kBundled}, {});
  // Other bundled plugins may join these two; the order is by file name.
  const std::vector<std::string>& libraries = set.libraries();
  CHECK(std::is_sorted(libraries.begin(), libraries.end()));
  CHECK(std::count(libraries.begin(), libraries.end(), kBundled + "/broadcast.so") == 1);
  CHECK(std::count(libraries.begin(), libraries.end(), kBundled + "/ping.so") == 1);
  for (const char* name :
       {"oro_sync.ping", "oro_sync.maintenance", "oro_sync.data_update",
        "oro_message_queue.message_queue_heartbeat", "oro_user.outdated_user_page"}) {
    CAPTURE(name);
    REQUIRE(set.topicHandler(name) != nullptr);
    CHECK(set.topicHandler(name)->description.name == name);
  }

  const TopicHandlerEntry* ping = set.topicHandler("oro_sync.ping");
  CHECK(ping->serviceId == "oro_sync.topic.websocket_ping");
  CHECK(ping->library == kBundled + "/ping.so");
  REQUIRE(ping->description.timers.size() == 1);
  CHECK(ping->description.timers[0].interval == std::chrono::seconds(50));
  CHECK(set.topicHandler("oro_sync.maintenance")->serviceId == "oro_sync.topic.maintenance");
  CHECK(set.topicHandler("no.such.handler") == nullptr);
  CHECK(set.rpcHandler("oro_sync.ping") == nullptr);
}

TEST_CASE("the ping topic broadcasts keep-alives on its timer and ignores publishes") {
  PluginSet set = loadPlugins({kBundled}, {});
  const TopicHandlerEntry* ping = set.topicHandler("oro_sync.ping");
  REQUIRE(ping != nullptr);
  FakeTopic topic("oro/ping");
  FakeConnection client(1);
  CHECK(ping->handler->hostPublish(client, topic, Request{}, Value("x"), {}, {}).isOk());
  CHECK(topic.broadcasts.empty());
  CHECK(ping->handler->hostTimer(topic, ping->description.timers[0]).isOk());
  REQUIRE(topic.broadcasts.size() == 1);
  CHECK(topic.broadcasts[0].event == Value("Connection keep alive"));
}

TEST_CASE("server parameters override manifest defaults") {
  PluginSet set = loadPlugins({kBundled}, {{"oro_sync.websocket_ping.interval", "1"}});
  CHECK(set.topicHandler("oro_sync.ping")->description.timers[0].interval ==
        std::chrono::seconds(1));
}

TEST_CASE("a bad ping interval is refused at the service, with the constructor's reason") {
  for (const char* interval : {"0", "-5", "fifty"}) {
    CAPTURE(interval);
    Failure f = loadFailure({kBundled}, {{"oro_sync.websocket_ping.interval", interval}});
    CHECK(f.where.file == kBundled + "/ping.yml");
    CHECK(f.where.line > 0);
    CHECK(contains(f.what, "service 'oro_sync.topic.websocket_ping'"));
    CHECK(contains(f.what, "ping.so"));
    CHECK(contains(f.what, "argument #1"));
  }
}

TEST_CASE("the broadcast plugin's topics broadcast what is published") {
  PluginSet set = loadPlugins({kBundled}, {});
  const TopicHandlerEntry* maintenance = set.topicHandler("oro_sync.maintenance");
  REQUIRE(maintenance != nullptr);
  FakeTopic topic("oro/maintenance");
  FakeConnection backend(1);
  Value event(Object{{"isOn", true}, {"userId", nullptr}});
  CHECK(maintenance->handler->hostPublish(backend, topic, Request{}, event, {}, {}).isOk());
  REQUIRE(topic.broadcasts.size() == 1);
  CHECK(topic.broadcasts[0].event == event);
}

TEST_CASE("the sample fixture serves RPC, a throwing topic and a ticking topic") {
  PluginSet set = loadPlugins({fixtureDir("sample")}, {});
  CHECK(set.libraries() == std::vector<std::string>{fixtureFile("sample", ".so")});

  const RpcHandlerEntry* rpc = set.rpcHandler("sample.rpc");
  REQUIRE(rpc != nullptr);
  CHECK(rpc->name == "sample.rpc");
  CHECK(rpc->serviceId == "sample.rpc_service");
  Status status;
  CHECK(call(*rpc, "sum", Array{1, 2, 3}) == Value(6));
  CHECK(call(*rpc, "sum", Array{1, 2.5}).asDouble() == doctest::Approx(3.5));
  CHECK(call(*rpc, "echo", Array{"a", 1}) == Value(Array{"a", 1}));
  call(*rpc, "sum", Array{"x"}, &status);
  CHECK(status.uri() == errors::kInvalidArgument);
  call(*rpc, "fail", Array{}, &status);
  CHECK(status.uri() == errors::kHandlerFailed);
  CHECK(status.message() == "sample failure");
  call(*rpc, "nope", Array{}, &status);
  CHECK(status.uri() == errors::kNoSuchProcedure);

  const TopicHandlerEntry* throwing = set.topicHandler("sample.throwing");
  REQUIRE(throwing != nullptr);
  FakeTopic topic("sample/throwing");
  FakeConnection client(1);
  status = throwing->handler->hostPublish(client, topic, Request{}, Value("boom"), {}, {});
  CHECK(status.uri() == errors::kHandlerFailed);
  CHECK(status.message() == "boom");
  CHECK(topic.broadcasts.empty());
  CHECK(throwing->handler->hostPublish(client, topic, Request{}, Value("fine"), {}, {}).isOk());
  REQUIRE(topic.broadcasts.size() == 1);
  CHECK(topic.broadcasts[0].event == Value("fine"));

  const TopicHandlerEntry* tick = set.topicHandler("sample.tick");
  REQUIRE(tick != nullptr);
  REQUIRE(tick->description.timers.size() == 1);
  CHECK(tick->description.timers[0].interval == std::chrono::milliseconds(200));
  FakeTopic tickTopic("sample/tick/1");
  CHECK(tick->handler->hostTimer(tickTopic, tick->description.timers[0]).isOk());
  CHECK(tick->handler->hostTimer(tickTopic, tick->description.timers[0]).isOk());
  REQUIRE(tickTopic.broadcasts.size() == 2);
  CHECK(tickTopic.broadcasts[0].event == Value(1));
  CHECK(tickTopic.broadcasts[1].event == Value(2));
}

TEST_CASE("the sample routing file is installed where integration tests look") {
  CHECK(fs::is_regular_file(kFixtures + "/sample-routing/routing.yml"));
  CHECK_FALSE(fs::exists(fixtureDir("sample") + "/routing.yml"));
}

TEST_CASE("a handler outlives its PluginSet and keeps its library loaded") {
  const std::string library = fixtureFile("sample", ".so");
  std::shared_ptr<boundary::RpcEndpoint> handler;
  {
    PluginSet set = loadPlugins({fixtureDir("sample")}, {});
    handler = set.rpcHandler("sample.rpc")->handler;
  }
  REQUIRE(isLoaded(library));
  RpcHandlerEntry entry{handler, "sample.rpc", "", library};
  CHECK(call(entry, "sum", Array{20, 22}) == Value(42));
  entry.handler.reset();
  handler.reset();
  CHECK_FALSE(isLoaded(library));
}

TEST_CASE("a library with another ABI version is refused before any of its code runs") {
  // Its registration function aborts, so reaching it would end this test run.
  Failure f = loadFailure({fixtureDir("wrong_abi")});
  CHECK(f.where.file == fixtureFile("wrong_abi", ".so"));
  CHECK(contains(f.what, fixtureFile("wrong_abi", ".so") + ": "));
  CHECK(contains(f.what, "ABI version 999"));
  CHECK(contains(f.what, "ABI version " WAMPD_ABI_VERSION ";"));
}

TEST_CASE("a library whose ABI version is an integer, as older SDKs wrote it, is refused") {
  Failure f = loadFailure({fixtureDir("integer_abi")});
  CHECK(f.where.file == fixtureFile("integer_abi", ".so"));
  CHECK(contains(f.what, fixtureFile("integer_abi", ".so") + ": plugin ABI version (not text"));
  CHECK(contains(f.what, "ABI version " WAMPD_ABI_VERSION ";"));
}

TEST_CASE("a library with another build signature is refused naming both") {
  Failure f = loadFailure({fixtureDir("wrong_signature")});
  CHECK(f.where.file == fixtureFile("wrong_signature", ".so"));
  CHECK(contains(f.what, "'othercc-1;libother;cplusplus-201703L'"));
  CHECK(contains(f.what, std::string("'") + WAMPD_BUILD_SIGNATURE + "'"));
}

TEST_CASE("a library built in another standard library mode is refused by its signature") {
  // Both build trees compile without these modes; the fixtures each turn one on.
  const std::string host = WAMPD_BUILD_SIGNATURE;
  REQUIRE(contains(host, ";glibcxx-assertions-0;glibcxx-debug-0;"));
  const std::pair<const char*, const char*> fixtures[] = {
      {"glibcxx_assertions", ";glibcxx-assertions-1;glibcxx-debug-0;"},
      {"glibcxx_debug", ";glibcxx-assertions-1;glibcxx-debug-1;"}};
  for (const auto& fixture : fixtures) {
    const std::string name = fixture.first, mode = fixture.second;
    CAPTURE(name);
    Failure f = loadFailure({fixtureDir(name)});
    CHECK(f.where.file == fixtureFile(name, ".so"));
    CHECK(contains(f.what, fixtureFile(name, ".so") + ": plugin build signature '"));
    CHECK(contains(f.what, mode));
    CHECK(contains(f.what, "'" + host + "'"));
  }
}

TEST_CASE("a shared library that is not a wampd plugin is refused") {
  Failure f = loadFailure({fixtureDir("no_symbols")});
  CHECK(f.where.file == fixtureFile("no_symbols", ".so"));
  CHECK(contains(f.what, "not a wampd plugin"));
  CHECK(contains(f.what, "wampd_plugin_abi_version"));
}

TEST_CASE("a service naming a class the library does not register is refused at its line") {
  Failure f = loadFailure({fixtureDir("missing_class")});
  CHECK(f.where.file == fixtureFile("missing_class", ".yml"));
  CHECK(f.where.line == 6);
  CHECK(contains(f.what, "service 'fixture.missing'"));
  CHECK(contains(
      f.what, "class 'MissingTopic' is not registered by " + fixtureFile("missing_class", ".so")));
  CHECK(contains(f.what, "(it registers: RealTopic)"));
}

TEST_CASE("two handlers with the same name are refused naming both services") {
  Failure f = loadFailure({fixtureDir("duplicate_name")});
  CHECK(f.where.file == fixtureFile("duplicate_name", ".yml"));
  CHECK(f.where.line == 6);
  CHECK(contains(f.what, "service 'fixture.second'"));
  CHECK(contains(f.what, "handler name 'fixture.same_name'"));
  CHECK(contains(f.what, "already served by service 'fixture.first'"));
  CHECK(contains(f.what, fixtureFile("duplicate_name", ".yml") + ":2:3"));
}

TEST_CASE("a manifest that is not valid YAML is refused with its line") {
  Failure f = loadFailure({fixtureDir("bad_manifest")});
  CHECK(f.where.file == fixtureFile("bad_manifest", ".yml"));
  CHECK(f.where.line > 0);
  CHECK(contains(f.what, "YAML syntax error"));
}

TEST_CASE("an unknown parameter is refused at the service") {
  Failure f = loadFailure({fixtureDir("unknown_parameter")});
  CHECK(f.what == fixtureFile("unknown_parameter", ".yml") +
                      ":2:3: service 'fixture.unknown_parameter': argument #0 uses unknown "
                      "parameter '%fixture.no_such_parameter%'");
  CHECK_NOTHROW(
      loadPlugins({fixtureDir("unknown_parameter")}, {{"fixture.no_such_parameter", "now.known"}}));
}

TEST_CASE("a constructor that throws is refused with its message") {
  Failure f = loadFailure({fixtureDir("throwing_constructor")});
  CHECK(f.where.file == fixtureFile("throwing_constructor", ".yml"));
  CHECK(f.where.line == 2);
  CHECK(contains(f.what, "constructing class 'ThrowingConstructorTopic' of " +
                             fixtureFile("throwing_constructor", ".so")));
  CHECK(contains(f.what, "fixture constructor failure"));
}

TEST_CASE("a registration function that throws is refused") {
  Failure f = loadFailure({fixtureDir("register_throws")});
  CHECK(f.where.file == fixtureFile("register_throws", ".so"));
  CHECK(contains(f.what, "plugin registration failed"));
}

TEST_CASE("a library without its manifest is refused") {
  Failure f = loadFailure({fixtureDir("no_manifest")});
  CHECK(f.what == fixtureFile("no_manifest", ".so") +
                      ": plugin library without its manifest fixture_no_manifest.yml beside it");
}

TEST_CASE("a manifest without its library is refused") {
  fs::path dir = scratchDir("lonely-manifest");
  std::ofstream(dir / "lonely.yml") << "services: {}\n";
  Failure f = loadFailure({dir.string()});
  CHECK(f.what == (dir / "lonely.yml").string() +
                      ": plugin manifest without its library lonely.so beside it");
}

TEST_CASE("a library cut short (still being copied) is refused, not mapped") {
  // Mapped as it is, its missing segments would kill the process (SIGBUS) on first access.
  const std::string whole = fixtureFile("sample", ".so");
  std::ifstream in(whole, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Where its loaded segments end: debug information after them may fill half the file.
  Elf64_Ehdr header;
  REQUIRE(bytes.size() > sizeof header);
  std::memcpy(&header, bytes.data(), sizeof header);
  std::size_t loadedEnd = 0;
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment;
    std::memcpy(&segment, bytes.data() + header.e_phoff + i * sizeof segment, sizeof segment);
    if (segment.p_type == PT_LOAD)
      loadedEnd = std::max<std::size_t>(loadedEnd, segment.p_offset + segment.p_filesz);
  }
  fs::path dir = scratchDir("truncated");
  std::ifstream manifest(fixtureFile("sample", ".yml"));
  std::ofstream(dir / "fixture_sample.yml") << manifest.rdbuf();
  for (const std::size_t length : {loadedEnd / 2, loadedEnd - 1, std::size_t{100}}) {
    CAPTURE(length);
    std::ofstream(dir / "fixture_sample.so", std::ios::binary | std::ios::trunc)
        << bytes.substr(0, length);
    Failure f = loadFailure({dir.string()});
    CHECK(f.where.file == (dir / "fixture_sample.so").string());
    CHECK(contains(f.what, "cannot load plugin library"));
  }
}

TEST_CASE("a directory that does not exist is refused") {
  std::string missing = (scratchDir("gone") / "not-here").string();
  Failure f = loadFailure({missing});
  CHECK(f.what == missing + ": plugin directory does not exist or is not a directory");
}

TEST_CASE("a file that is not a shared library is refused with the loader's reason") {
  fs::path dir = scratchDir("junk");
  std::ofstream(dir / "junk.so") << "not an ELF file";
  std::ofstream(dir / "junk.yml") << "services: {}\n";
  Failure f = loadFailure({dir.string()});
  CHECK(f.where.file == (dir / "junk.so").string());
  CHECK(contains(f.what, "cannot load plugin library"));
}

TEST_CASE("a handler name served by two libraries is refused naming both files") {
  fs::path dir = scratchDir("copy");
  std::ifstream original(kBundled + "/broadcast.yml");
  std::string manifest((std::istreambuf_iterator<char>(original)), {});
  installCopy(dir, "broadcast_copy", kBundled + "/broadcast.so", manifest);
  Failure f = loadFailure({kBundled, dir.string()});
  CHECK(f.where.file == (dir / "broadcast_copy.yml").string());
  CHECK(contains(f.what, (dir / "broadcast_copy.so").string()));
  CHECK(contains(f.what, kBundled + "/broadcast.so"));
  CHECK(contains(f.what, kBundled + "/broadcast.yml:"));
}

TEST_CASE("a service's tag must match the kind of class it names") {
  fs::path dir = scratchDir("kinds");
  installCopy(dir, "rpc_as_topic", fixtureFile("sample", ".so"),
              "services:\n  s:\n    class: SampleRpc\n    arguments: [x]\n"
              "    tags: [gos_web_socket.topic]\n");
  Failure f = loadFailure({dir.string()});
  CHECK(f.where.line == 2);
  CHECK(contains(f.what, "tagged gos_web_socket.topic but class 'SampleRpc'"));
  CHECK(contains(f.what, "is an RPC class"));

  fs::path other = scratchDir("kinds2");
  installCopy(other, "topic_as_rpc", fixtureFile("sample", ".so"),
              "services:\n  s:\n    class: ThrowingTopic\n    arguments: [x]\n"
              "    tags: [gos_web_socket.rpc]\n");
  f = loadFailure({other.string()});
  CHECK(contains(f.what, "is a topic class"));
}

TEST_CASE("directories load in the order given, files in name order") {
  PluginSet set = loadPlugins({fixtureDir("sample"), kBundled}, {});
  const std::vector<std::string>& libraries = set.libraries();
  REQUIRE(libraries.size() >= 3);
  CHECK(libraries[0] == fixtureFile("sample", ".so"));
  CHECK(std::is_sorted(libraries.begin() + 1, libraries.end()));
  CHECK(set.topicHandler("sample.tick") != nullptr);
  CHECK(set.topicHandler("oro_sync.ping") != nullptr);
  CHECK(set.rpcHandler("sample.rpc") != nullptr);
}
