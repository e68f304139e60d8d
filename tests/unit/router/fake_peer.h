// Test doubles for the router roles: a Peer and a Callee that record what the broker and
// the dealer hand them, in-process topic and RPC handlers, and a generation serving them.
#pragma once

#include <wampd/plugin.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "reload/generation.h"
#include "router/peer.h"
#include "transport/transport.h"

namespace wampd::core::testing {

struct Received {
  std::string topic;
  Value payload;
  std::uint64_t subscription = 0;
  std::uint64_t publication = 0;
  bool viaPattern = false;
  SessionId publisher = 0;
  bool madeFrame = false;  // this recipient framed the event; the others reused its frame
};

struct Revocation {
  std::string topic;
  std::uint64_t subscription = 0;
  std::string uri;
};

class FakePeer final : public Peer {
 public:
  explicit FakePeer(SessionId id, Identity who = {}, int version = 1)
      : id_(id), identity_(std::move(who)), version_(version) {}

  static Identity user(const std::string& name) {
    Identity who;
    who.username = name;
    who.anonymous = false;
    return who;
  }
  static Identity backend() {
    Identity who;
    who.backend = true;
    return who;
  }

  SessionId sessionId() const noexcept override { return id_; }
  const Identity& identity() const noexcept override { return identity_; }
  std::string_view remoteAddress() const noexcept override { return "127.0.0.1"; }
  int wampVersion() const noexcept override { return version_; }
  std::string authid() const override {
    return identity_.anonymous ? std::to_string(id_) : identity_.username;
  }
  std::string authrole() const override {
    return identity_.backend ? "backend" : identity_.anonymous ? "anonymous" : "user";
  }
  bool receivesEvents() const noexcept override { return open; }
  std::size_t queuedBytes() const noexcept override { return queued; }
  bool deliver(Event& event) noexcept override {
    SharedFramePtr& frame = event.frame(version_ == 1 ? 0 : 1);
    const bool made = !frame;
    if (made) frame = Transport::prepareText(event.topic);
    received.push_back({std::string(event.topic), event.payload, event.subscription,
                        event.publication, event.viaPattern,
                        event.publisher ? event.publisher->sessionId() : 0, made});
    return true;
  }
  void fellBehind() noexcept override {
    ++cutOff;
    open = false;
  }
  void subscriptionRevoked(const std::string& topic, std::uint64_t subscription,
                           const Status& why) noexcept override {
    revoked.push_back({topic, subscription, why.uri()});
  }

  bool open = true;
  std::size_t queued = 0;
  int cutOff = 0;
  std::vector<Received> received;
  std::vector<Revocation> revoked;

 private:
  SessionId id_;
  Identity identity_;
  int version_;
};

struct Invoked {
  std::uint64_t invocation = 0;
  std::uint64_t registration = 0;
  Object details;
  Array args;
  bool hasKwargs = false;
  Object kwargs;
};

/// A callee that records what the dealer asks of it, INTERRUPTs included (a session, not
/// the dealer, drops them for a callee that did not announce call canceling).
class FakeCallee final : public Callee {
 public:
  explicit FakeCallee(bool understands = true) : understands_(understands) {}
  void invoke(std::uint64_t invocation, std::uint64_t registration, Object details,
              const Array& args, const Object* kwargs) noexcept override {
    invoked.push_back({invocation, registration, std::move(details), args, kwargs != nullptr,
                       kwargs ? *kwargs : Object{}});
  }
  bool understandsInterrupt() const noexcept override { return understands_; }
  void interrupt(std::uint64_t invocation, const char* mode) noexcept override {
    interrupts.emplace_back(invocation, mode);
  }

  std::vector<Invoked> invoked;
  std::vector<std::pair<std::uint64_t, std::string>> interrupts;

 private:
  bool understands_;
};

/// What the in-process handlers were asked, in order: "subscribe 7 a/b", "publish 7 a/b".
struct HandlerLog {
  std::vector<std::string> calls;
  /// Session ids whose subscriptions the topic handler refuses.
  std::vector<SessionId> refuse;
  std::size_t count(const std::string& prefix) const {
    std::size_t n = 0;
    for (const auto& c : calls) n += c.rfind(prefix, 0) == 0;
    return n;
  }
};

/// Broadcasts every publication as it came, like Oro's BroadcastTopic, and records calls.
class RecordingTopic : public TopicHandler {
 public:
  RecordingTopic(std::string name, HandlerLog& log) : name_(std::move(name)), log_(log) {}
  std::string getName() const override { return name_; }
  Status onSubscribe(Connection& c, Topic& t, const Request&) override {
    log_.calls.push_back("subscribe " + std::to_string(c.sessionId()) + " " + std::string(t.uri()));
    for (SessionId refused : log_.refuse)
      if (refused == c.sessionId()) return Status::refused("not you");
    return {};
  }
  void onUnSubscribe(Connection& c, Topic& t, const Request&) override {
    log_.calls.push_back("unsubscribe " + std::to_string(c.sessionId()) + " " +
                         std::string(t.uri()));
  }
  Status onPublish(Connection& c, Topic& t, const Request&, const Value& event,
                   const SessionIds& exclude, const SessionIds& eligible) override {
    log_.calls.push_back("publish " + std::to_string(c.sessionId()) + " " + std::string(t.uri()));
    t.broadcast(event, exclude, eligible);
    return {};
  }

 private:
  std::string name_;
  HandlerLog& log_;
};

/// Answers `sum` with the sum of its integer arguments; refuses anything else.
class SumProcedure : public RpcHandler {
 public:
  explicit SumProcedure(std::string name) : name_(std::move(name)) {}
  std::string getName() const override { return name_; }
  Status onCall(Connection&, const Request&, const Array& args, Value& result) override {
    std::int64_t sum = 0;
    for (const Value& v : args) {
      if (!v.isInteger()) return Status::error("wamp.error.invalid_argument", "integers only");
      sum += v.asInt();
    }
    result = Value(sum);
    return {};
  }

 private:
  std::string name_;
};

/// Builds generations by hand: routes written in code, handlers made in this process.
class GenerationBuilder {
 public:
  GenerationBuilder& route(const std::string& name, const std::string& channel,
                           const std::string& callback, const std::string& publish = "") {
    RouteSpec spec;
    spec.name = name;
    spec.channel = channel;
    spec.callback = callback;
    spec.publishPolicy = publish;
    generation_->router.add(std::move(spec));
    return *this;
  }
  GenerationBuilder& topic(std::shared_ptr<boundary::TopicEndpoint> handler) {
    TopicHandlerEntry entry;
    entry.handler = std::move(handler);
    REQUIRE(entry.handler->hostDescribe(entry.description).isOk());
    REQUIRE(generation_->plugins.addInProcess(std::move(entry)));
    return *this;
  }
  GenerationBuilder& rpc(std::shared_ptr<boundary::RpcEndpoint> handler) {
    RpcHandlerEntry entry;
    entry.handler = std::move(handler);
    REQUIRE(entry.handler->hostDescribe(entry.name).isOk());
    REQUIRE(generation_->plugins.addInProcess(std::move(entry)));
    return *this;
  }
  std::shared_ptr<const Generation> build(std::uint64_t number = 1) {
    generation_->number = number;
    return std::move(generation_);
  }

 private:
  std::shared_ptr<Generation> generation_ = std::make_shared<Generation>();
};

template <class T, class... Args>
std::shared_ptr<Hosted<T>> hosted(Args&&... args) {
  return std::make_shared<Hosted<T>>(std::forward<Args>(args)...);
}

}  // namespace wampd::core::testing
