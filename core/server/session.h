// One client session: its identity, its link, and the per-connection WAMP state.
#pragma once

#include <string>
#include <unordered_set>

#include "server/transport.h"
#include "wamp/v1_codec.h"
#include "wampd/connection.h"

namespace wampd::core {

class TopicState;

class Session final : public wampd::Connection {
 public:
  Session(SessionId id, Link& link, Identity identity)
      : id_(id), idText_(std::to_string(id)), link_(link), identity_(std::move(identity)) {}

  SessionId sessionId() const noexcept override { return id_; }
  const Identity& identity() const noexcept override { return identity_; }
  std::string_view remoteAddress() const noexcept override { return link_.remoteAddress(); }
  int wampVersion() const noexcept override { return 1; }

  /// The session id as WAMP v1 carries it.
  const std::string& idText() const noexcept { return idText_; }
  Link& link() noexcept { return link_; }

  /// Set once the server started closing this connection: later messages are dropped.
  bool closing = false;
  wamp1::PrefixMap prefixes;
  /// Topics this session is subscribed to (owned by the Broker).
  std::unordered_set<TopicState*> topics;

 private:
  SessionId id_;
  std::string idText_;
  Link& link_;
  Identity identity_;
};

}  // namespace wampd::core
