// A WAMP v1 client session over WsClient, doing what Oro's backend client does: connect
// offering "wamp", wait for WELCOME, send, then close and read the server's close reply.
#pragma once

#include <string>

#include "ctl/wamp_messages.h"
#include "ctl/ws_client.h"
#include "wampd/value.h"

namespace wampd::ctl {

/// How a publish ended.
enum class PublishOutcome {
  Accepted,  // the server closed normally after taking it
  Refused,   // the server answered with a CALLERROR for the topic (not allowed, handler error)
  Failed,    // no verdict: connection lost, closed with an error code, deadline
};

class WampSession {
 public:
  explicit WampSession(WsClient::Clock::time_point deadline) : ws_(deadline) {}

  /// Connects and reads WELCOME. Messages name the server `shownUrl` (see WsClient::connect).
  bool open(const std::string& url, const std::string& shownUrl, std::string& error);
  const wamp::Welcome& welcome() const { return welcome_; }

  /// Publishes as Oro's backend does, then calls the server and waits for the answer: the
  /// server handles messages in order, so what arrives first is its verdict on the publish —
  /// a CALLERROR `[4, topic, ...]` (refused: not allowed, handler failed) or a close with
  /// any code but 1000 (1007 "Unable to find route" for an unrouted topic). Then closes
  /// with 1000 and waits for the server's close.
  PublishOutcome publishAndClose(const std::string& topic, const Value& payload,
                                 wamp::CallReply& refusal, std::string& error);

  /// Calls `procedure` and waits for its CALLRESULT or CALLERROR; false only when no
  /// answer came (connection ended, deadline).
  bool call(const std::string& procedure, const Array& args, wamp::CallReply& reply,
            std::string& error);

  /// Closes with 1000, waiting for the reply until the deadline; failures do not matter
  /// once the command has its answer.
  void close();

 private:
  std::string describePeerClose() const;

  WsClient ws_;
  wamp::Welcome welcome_;
};

}  // namespace wampd::ctl
