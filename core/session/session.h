// One client session: its identity, its link, and the per-connection WAMP state.
#pragma once

#include <string>
#include <unordered_set>

#include "transport/transport.h"
#include "wamp/v1_codec.h"
#include "wamp/v2_codec.h"
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
  int wampVersion() const noexcept override { return version; }

  /// The session id as WAMP v1 carries it.
  const std::string& idText() const noexcept { return idText_; }
  Link& link() noexcept { return link_; }

  /// Set once the server started closing this connection: later messages are dropped.
  bool closing = false;
  /// 1 (subprotocol "wamp" or none) or 2 (wamp.2.json / wamp.2.msgpack).
  int version = 1;
  wamp2::Serializer serializer = wamp2::Serializer::Json;
  /// WAMP v2 session life: HELLO, then (CHALLENGE/AUTHENTICATE), then WELCOME.
  enum class Phase { AwaitingHello, Challenged, Established, Closed } phase = Phase::AwaitingHello;
  std::string realm;
  /// The last request id this client used (WAMP v2 session scope).
  std::uint64_t lastRequestId = 0;
  /// The client announced roles.subscriber.features.subscription_revocation.
  bool revocationSupported = false;
  /// The client announced roles.callee.features.call_canceling (it understands INTERRUPT).
  bool calleeCanceling = false;
  /// The handshake let this v2 session in only on condition that HELLO authenticates it
  /// (auth.allow_anonymous is off and no ticket came with the upgrade).
  bool mustAuthenticate = false;
  /// HELLO asked for ticket authentication with this authid (the username).
  std::string pendingAuthid;
  /// The identity authentication established; a ticket CHALLENGE may upgrade it.
  void setIdentity(Identity identity) { identity_ = std::move(identity); }
  /// WAMP v2 authid and authrole of this session.
  std::string authid() const { return identity_.anonymous ? idText_ : identity_.username; }
  std::string authrole() const {
    return identity_.backend ? "backend" : identity_.anonymous ? "anonymous" : "user";
  }
  /// Sends one WAMP v2 message in this session's serializer.
  void sendV2(const Array& message) {
    std::string bytes = wamp2::encode(message, serializer);
    if (serializer == wamp2::Serializer::Json)
      link_.sendText(std::move(bytes));
    else
      link_.sendBinary(std::move(bytes));
  }
  wamp1::PrefixMap prefixes;
  /// Topics this session is subscribed to (owned by the Broker).
  std::unordered_set<TopicState*> topics;
  /// WAMP v2 pattern (prefix/wildcard) subscriptions this session holds, by id.
  std::unordered_set<std::uint64_t> patterns;

 private:
  SessionId id_;
  std::string idText_;
  Link& link_;
  Identity identity_;
};

}  // namespace wampd::core
