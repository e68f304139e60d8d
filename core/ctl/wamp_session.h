// A WAMP v1 client session over WsClient, doing what Oro's backend client does: connect
// offering "wamp", wait for WELCOME, send, then close and read the server's close reply.
#pragma once

#include <string>

#include "ctl/wamp_messages.h"
#include "ctl/ws_client.h"
#include "wampd/value.h"

namespace wampd::ctl {

class WampSession {
 public:
  explicit WampSession(WsClient::Clock::time_point deadline) : ws_(deadline) {}

  /// Connects and reads WELCOME.
  bool open(const std::string& url, std::string& error);
  const wamp::Welcome& welcome() const { return welcome_; }

  /// Publishes as Oro's backend does, then closes with 1000 and waits for the server's
  /// close. The server handles messages in order, so a close with any code but 1000 (1007
  /// "Unable to find route" for an unrouted topic) is its verdict on this publish.
  bool publishAndClose(const std::string& topic, const Value& payload, std::string& error);

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
