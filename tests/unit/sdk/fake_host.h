// Test doubles for what the host implements: a Connection and a Topic that records what a
// handler broadcasts.
#pragma once

#include <wampd/connection.h>
#include <wampd/topic.h>

#include <string>
#include <string_view>
#include <vector>

namespace wampd::testing {

class FakeConnection final : public Connection {
 public:
  explicit FakeConnection(SessionId id = 1, Identity who = {}) : id_(id), identity_(who) {}

  SessionId sessionId() const noexcept override { return id_; }
  const Identity& identity() const noexcept override { return identity_; }
  std::string_view remoteAddress() const noexcept override { return "127.0.0.1"; }
  int wampVersion() const noexcept override { return 1; }

  /// An authenticated user with id `userId`.
  static FakeConnection user(SessionId id, std::int64_t userId) {
    Identity who;
    who.username = "user" + std::to_string(userId);
    who.userId = userId;
    who.anonymous = false;
    return FakeConnection(id, who);
  }

 private:
  SessionId id_;
  Identity identity_;
};

struct RecordedBroadcast {
  Value event;
  SessionIds exclude;
  SessionIds eligible;
};

class FakeTopic final : public Topic {
 public:
  explicit FakeTopic(std::string uri) : uri_(std::move(uri)) {}

  std::string_view uri() const noexcept override { return uri_; }
  std::size_t subscriberCount() const noexcept override { return subscribers.size(); }
  void forEachSubscriber(void (*visit)(const Connection&, void*),
                         void* context) const noexcept override {
    for (const Connection* c : subscribers) visit(*c, context);
  }
  void broadcast(const Value& event, const SessionIds& exclude,
                 const SessionIds& eligible) noexcept override {
    broadcasts.push_back({event, exclude, eligible});
  }

  std::vector<const Connection*> subscribers;
  std::vector<RecordedBroadcast> broadcasts;

 private:
  std::string uri_;
};

}  // namespace wampd::testing
