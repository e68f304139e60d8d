// WAMP v1 sessions: decodes each client message, drives the broker and dealer, and answers
// on the wire exactly as Ratchet/Gos do.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "router/broker.h"
#include "router/dealer.h"
#include "session/session.h"

namespace wampd::core {

/// Answers one call, now or later: a result, or a non-ok Status for an error.
using CallReply = std::function<void(const Status& status, const Value& result)>;
/// Procedures the server itself answers (names under `wampd.`), before any route. Returns
/// false when `uri` is not one of them; otherwise `reply` is called exactly once.
using BuiltinProcedure =
    std::function<bool(Session&, const std::string& uri, const Array& args, CallReply reply)>;
/// The live session with this id, or nullptr (for answers that arrive after a disconnect).
using SessionLookup = std::function<Session*(SessionId)>;

class Wamp1Protocol {
 public:
  Wamp1Protocol(Broker& broker, Dealer& dealer, BuiltinProcedure builtins, SessionLookup sessions)
      : broker_(broker),
        dealer_(dealer),
        builtins_(std::move(builtins)),
        sessions_(std::move(sessions)) {}

  /// Tells a v1 client its subscription ended without its asking (reload), in the
  /// CALLERROR shape Gos uses for topic errors.
  void revoked(Session& s, const std::string& topic, const Status& why);

  void onMessage(Session& session, std::string_view payload, bool binary);

  /// Per-connection bounds: a client may not grow the server without limit.
  static constexpr std::size_t kMaxPrefixes = 256;
  static constexpr std::size_t kMaxUriLength = 2048;

 private:
  void prefix(Session& s, wamp1::Prefix& m);
  void call(Session& s, wamp1::Call& m);
  void subscribe(Session& s, wamp1::Subscribe& m);
  void unsubscribe(Session& s, wamp1::Unsubscribe& m);
  void publish(Session& s, wamp1::Publish& m);

  /// Answers a broker outcome: closes on a missing route, sends Gos's CALLERROR-shaped
  /// error for a failed handler, ignores the rest.
  void answerTopic(Session& s, const std::string& topic, const Broker::Result& result,
                   const char* event);
  void closeWith(Session& s, Fault fault, const std::string& detail);
  void answerCall(Session& s, const Value& callId, const std::string& uri, const Array& args,
                  const Status& status, const Value& result, bool fromHandler);

  Broker& broker_;
  Dealer& dealer_;
  BuiltinProcedure builtins_;
  SessionLookup sessions_;
};

}  // namespace wampd::core
