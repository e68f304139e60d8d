// A WAMP v1 client session over WsClient, doing what Oro's backend client does: connect
// offering "wamp", wait for WELCOME, send, then close and read the server's close reply.
#pragma once

#include <string>

#include "ctl/backend_session.h"
#include "ctl/ws_client.h"
#include "wamp/v1_client.h"
#include "wampd/value.h"

namespace wampd::ctl {

class WampSession final : public BackendSession {
 public:
  explicit WampSession(WsClient::Clock::time_point deadline) : ws_(deadline) {}

  bool open(const std::string& url, const std::string& shownUrl, std::string& error) override;
  std::string describeWelcome() const override;

  /// Publishes as Oro's backend does, then calls the server and waits for the answer: the
  /// server handles messages in order, so what arrives first is its verdict on the publish —
  /// a CALLERROR `[4, topic, ...]` (refused: not allowed, handler failed) or a close with
  /// any code but 1000 (1007 "Unable to find route" for an unrouted topic). Then closes
  /// with 1000 and waits for the server's close.
  PublishOutcome publishAndClose(const std::string& topic, const Value& payload, CallReply& refusal,
                                 std::string& error) override;

  /// Waits for the CALLRESULT or CALLERROR.
  bool call(const std::string& procedure, const Array& args, CallReply& reply,
            std::string& error) override;

  /// Closes with 1000.
  void close() override;

 private:
  WsClient ws_;
  core::wamp1::Welcome welcome_;
};

}  // namespace wampd::ctl
