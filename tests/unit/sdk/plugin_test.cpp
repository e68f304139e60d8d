#include <doctest/doctest.h>
#include <wampd/broadcast_topic.h>
#include <wampd/errors.h>
#include <wampd/plugin.h>
#include <wampd/secured_topic.h>

#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "fake_host.h"

using namespace wampd;
using wampd::testing::FakeConnection;
using wampd::testing::FakeTopic;

namespace {

/// Throws from every hook when its argument says so.
class ProbeTopic : public TopicHandler {
 public:
  explicit ProbeTopic(const Arguments& args) : mode_(args.string(0)) {
    if (mode_ == "throw-in-constructor") throw std::runtime_error("cannot construct");
    if (mode_ == "throw-int-in-constructor") throw 42;
  }

  std::string getName() const override {
    if (mode_ == "throw-in-name") throw std::runtime_error("no name");
    return "probe." + mode_;
  }
  Status onSubscribe(Connection& c, Topic&, const Request&) override {
    if (mode_ == "throw") throw std::runtime_error("subscribe failed");
    if (c.identity().anonymous) return Status::refused("anonymous");
    return {};
  }
  void onUnSubscribe(Connection&, Topic&, const Request&) override {
    if (mode_ == "throw") throw std::logic_error("unsubscribe failed");
    ++unsubscribes;
  }
  Status onPublish(Connection&, Topic& topic, const Request&, const Value& event,
                   const SessionIds& exclude, const SessionIds& eligible) override {
    if (mode_ == "throw") throw std::runtime_error("publish failed");
    if (mode_ == "throw-int") throw 7;
    topic.broadcast(event, exclude, eligible);
    return {};
  }
  std::vector<PeriodicTimer> periodicTimers() const override {
    return {PeriodicTimer{"beat", std::chrono::milliseconds(250)}};
  }
  void onTimer(Topic& topic, const PeriodicTimer& timer) override {
    if (mode_ == "throw") throw std::runtime_error("timer failed");
    topic.broadcast(Value(timer.name));
  }

  int unsubscribes = 0;

 private:
  std::string mode_;
};

class ProbeRpc : public RpcHandler {
 public:
  explicit ProbeRpc(const Arguments&) {}
  std::string getName() const override { return "probe.rpc"; }
  Status onCall(Connection&, const Request& request, const Array& args, Value& result) override {
    if (request.attribute("method") == "throw") throw std::runtime_error("call failed");
    result = Value(static_cast<std::int64_t>(args.size()));
    return {};
  }
};

// Whether T has any member named NAME, overloads included: with one, NAME is ambiguous between
// T and HostNames, and the specialization drops out.
struct HostNames {
  int hostDescribe, hostSubscribe, hostUnSubscribe, hostPublish, hostTimer, hostCall, hostLoadUser;
};
template <class T>
struct WithHostNames : T, HostNames {};
#define DEFINE_HAS_MEMBER(NAME)          \
  template <class T, class = void>       \
  struct Has_##NAME : std::true_type {}; \
  template <class T>                     \
  struct Has_##NAME<T, std::void_t<decltype(&WithHostNames<T>::NAME)>> : std::false_type {};
DEFINE_HAS_MEMBER(hostDescribe)
DEFINE_HAS_MEMBER(hostSubscribe)
DEFINE_HAS_MEMBER(hostUnSubscribe)
DEFINE_HAS_MEMBER(hostPublish)
DEFINE_HAS_MEMBER(hostTimer)
DEFINE_HAS_MEMBER(hostCall)
DEFINE_HAS_MEMBER(hostLoadUser)
#undef DEFINE_HAS_MEMBER

// The detector sees the host functions where they are...
static_assert(Has_hostSubscribe<boundary::TopicEndpoint>::value);
static_assert(Has_hostCall<boundary::RpcEndpoint>::value);
static_assert(Has_hostLoadUser<boundary::UserProviderEndpoint>::value);
// ...and an author, deriving the SDK's classes, has none to override.
static_assert(!Has_hostDescribe<TopicHandler>::value && !Has_hostSubscribe<TopicHandler>::value &&
              !Has_hostUnSubscribe<TopicHandler>::value && !Has_hostPublish<TopicHandler>::value &&
              !Has_hostTimer<TopicHandler>::value);
static_assert(!Has_hostDescribe<RpcHandler>::value && !Has_hostCall<RpcHandler>::value);
static_assert(!Has_hostLoadUser<UserProvider>::value);
static_assert(!Has_hostSubscribe<BroadcastTopic>::value && !Has_hostSubscribe<SecuredTopic>::value);
// Nothing can override what Hosted<T> implements, and the host cannot reach the author's
// hooks except through it.
static_assert(std::is_final_v<Hosted<ProbeTopic>> && std::is_final_v<Hosted<ProbeRpc>>);
static_assert(!std::is_convertible_v<Hosted<ProbeTopic>*, TopicHandler*>);
static_assert(!std::is_convertible_v<Hosted<ProbeRpc>*, RpcHandler*>);
static_assert(!std::is_base_of_v<boundary::TopicEndpoint, TopicHandler>);

Arguments mode(const char* m) {
  return Arguments({Value(m)});
}

/// Records what a plugin registers, as the host does.
class RecordingRegistry final : public Registry {
 public:
  void addTopicClass(const char* className, TopicFactory factory) noexcept override {
    topics[className] = factory;
  }
  void addRpcClass(const char* className, RpcFactory factory) noexcept override {
    rpcs[className] = factory;
  }
  void addUserProviderClass(const char* className, UserProviderFactory factory) noexcept override {
    users[className] = factory;
  }
  std::map<std::string, TopicFactory> topics;
  std::map<std::string, RpcFactory> rpcs;
  std::map<std::string, UserProviderFactory> users;
};

bool registrationThrows = false;

}  // namespace

WAMPD_PLUGIN(registry) {
  registry.topic<ProbeTopic>("ProbeTopic");
  registry.rpc<ProbeRpc>("ProbeRpc");
  if (registrationThrows) throw std::runtime_error("registration failed");
}

TEST_CASE("hostDescribe reports the name and the periodic timers") {
  Hosted<ProbeTopic> topic(mode("ok"));
  boundary::TopicHandlerDescription description;
  REQUIRE(topic.hostDescribe(description).isOk());
  CHECK(description.name == "probe.ok");
  REQUIRE(description.timers.size() == 1);
  CHECK(description.timers[0].name == "beat");
  CHECK(description.timers[0].interval == std::chrono::milliseconds(250));
}

TEST_CASE("hosted hooks pass results through") {
  Hosted<ProbeTopic> topic(mode("ok"));
  FakeTopic t("probe/1");
  Request request;
  FakeConnection anonymous(1);
  FakeConnection user = FakeConnection::user(2, 5);

  Status refused = topic.hostSubscribe(anonymous, t, request);
  CHECK(refused.uri() == errors::kNotAuthorized);
  CHECK(refused.message() == "anonymous");
  CHECK(topic.hostSubscribe(user, t, request).isOk());

  CHECK(topic.hostUnSubscribe(user, t, request).isOk());
  CHECK(topic.handler().unsubscribes == 1);

  CHECK(topic.hostPublish(user, t, request, Value("hi"), {3}, {4, 5}).isOk());
  CHECK(topic.hostTimer(t, PeriodicTimer{"beat", std::chrono::milliseconds(1)}).isOk());
  REQUIRE(t.broadcasts.size() == 2);
  CHECK(t.broadcasts[0].event == Value("hi"));
  CHECK(t.broadcasts[0].exclude == SessionIds{3});
  CHECK(t.broadcasts[0].eligible == SessionIds{4, 5});
  CHECK(t.broadcasts[1].event == Value("beat"));
}

TEST_CASE("Hosted<T> turns every exception into wampd.error.handler_failed") {
  Hosted<ProbeTopic> topic(mode("throw"));
  FakeTopic t("probe/1");
  Request request;
  FakeConnection user = FakeConnection::user(2, 5);

  Status s = topic.hostSubscribe(user, t, request);
  CHECK(s.uri() == errors::kHandlerFailed);
  CHECK(s.message() == "subscribe failed");
  s = topic.hostUnSubscribe(user, t, request);
  CHECK(s.uri() == errors::kHandlerFailed);
  CHECK(s.message() == "unsubscribe failed");
  s = topic.hostPublish(user, t, request, Value(1), {}, {});
  CHECK(s.uri() == errors::kHandlerFailed);
  CHECK(s.message() == "publish failed");
  s = topic.hostTimer(t, PeriodicTimer{"beat", std::chrono::milliseconds(1)});
  CHECK(s.uri() == errors::kHandlerFailed);
  CHECK(s.message() == "timer failed");
  CHECK(t.broadcasts.empty());

  Hosted<ProbeTopic> throwsInt(mode("throw-int"));
  s = throwsInt.hostPublish(user, t, request, Value(1), {}, {});
  CHECK(s.uri() == errors::kHandlerFailed);
  CHECK(s.message() == "unknown exception");

  Hosted<ProbeTopic> throwsInName(mode("throw-in-name"));
  boundary::TopicHandlerDescription description;
  s = throwsInName.hostDescribe(description);
  CHECK(s.uri() == errors::kHandlerFailed);
  CHECK(s.message() == "no name");
}

TEST_CASE("hosted RPC handlers") {
  Hosted<ProbeRpc> rpc(Arguments{});
  std::string name;
  REQUIRE(rpc.hostDescribe(name).isOk());
  CHECK(name == "probe.rpc");

  FakeConnection user = FakeConnection::user(2, 5);
  Request request;
  Value result;
  CHECK(rpc.hostCall(user, request, Array{1, 2, 3}, result).isOk());
  CHECK(result == Value(3));

  request.attributes["method"] = "throw";
  Status s = rpc.hostCall(user, request, Array{}, result);
  CHECK(s.uri() == errors::kHandlerFailed);
  CHECK(s.message() == "call failed");
}

TEST_CASE("factories return nullptr with the reason when a constructor throws") {
  std::string error;
  std::unique_ptr<boundary::TopicEndpoint> ok(detail::create<ProbeTopic>(mode("ok"), error));
  REQUIRE(ok != nullptr);
  CHECK(error.empty());
  boundary::TopicHandlerDescription description;
  REQUIRE(ok->hostDescribe(description).isOk());
  CHECK(description.name == "probe.ok");

  CHECK(detail::create<ProbeTopic>(mode("throw-in-constructor"), error) == nullptr);
  CHECK(error == "cannot construct");
  CHECK(detail::create<ProbeTopic>(mode("throw-int-in-constructor"), error) == nullptr);
  CHECK(error == "unknown exception");
  CHECK(detail::create<ProbeTopic>(Arguments{}, error) == nullptr);
  CHECK(error == "missing argument #0");
}

TEST_CASE("WAMPD_PLUGIN exports the ABI data and a registration function that never throws") {
  CHECK(std::strcmp(wampd_plugin_abi_version, WAMPD_ABI_VERSION) == 0);
  CHECK(std::strlen(WAMPD_ABI_VERSION) == 64);  // a sha256 in hex (abi_version.h)
  CHECK(std::strcmp(wampd_plugin_build_signature, WAMPD_BUILD_SIGNATURE) == 0);

  RecordingRegistry registry;
  registrationThrows = false;
  CHECK(wampd_plugin_register(&registry) == 0);
  REQUIRE(registry.topics.count("ProbeTopic") == 1);
  REQUIRE(registry.rpcs.count("ProbeRpc") == 1);

  std::string error;
  std::unique_ptr<boundary::TopicEndpoint> topic(
      registry.topics["ProbeTopic"](mode("made"), error));
  REQUIRE(topic != nullptr);
  boundary::TopicHandlerDescription description;
  CHECK(topic->hostDescribe(description).isOk());
  CHECK(description.name == "probe.made");
  std::unique_ptr<boundary::RpcEndpoint> rpc(registry.rpcs["ProbeRpc"](Arguments{}, error));
  REQUIRE(rpc != nullptr);
  std::string name;
  CHECK(rpc->hostDescribe(name).isOk());
  CHECK(name == "probe.rpc");

  RecordingRegistry second;
  registrationThrows = true;
  CHECK(wampd_plugin_register(&second) == 1);
  registrationThrows = false;
}
