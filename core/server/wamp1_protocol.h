// WAMP v1 sessions: decodes each client message, drives the broker and dealer, and answers
// on the wire exactly as Ratchet/Gos do.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "server/broker.h"
#include "server/dealer.h"
#include "server/session.h"

namespace wampd::core {

/// Procedures the server itself answers (names under `wampd.`), before any route.
using BuiltinProcedure =
    std::function<bool(Session&, const std::string& uri, const Array& args, Value& result)>;

class Wamp1Protocol {
 public:
  Wamp1Protocol(Broker& broker, Dealer& dealer, BuiltinProcedure builtins)
      : broker_(broker), dealer_(dealer), builtins_(std::move(builtins)) {}

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

  Broker& broker_;
  Dealer& dealer_;
  BuiltinProcedure builtins_;
};

}  // namespace wampd::core
