// A WAMP v2 client session (wamp.2.json) over WsClient: HELLO and WELCOME, one request at
// a time with growing request ids, then GOODBYE and the server's GOODBYE.
#pragma once

#include <cstdint>
#include <string>

#include "ctl/backend_session.h"
#include "ctl/ws_client.h"
#include "wamp/v2_client.h"

namespace wampd::ctl {

class Wamp2Session final : public BackendSession {
 public:
  Wamp2Session(WsClient::Clock::time_point deadline, std::string realm)
      : ws_(deadline), realm_(std::move(realm)) {}

  bool open(const std::string& url, const std::string& shownUrl, std::string& error) override;
  std::string describeWelcome() const override;

  /// PUBLISH with acknowledge: PUBLISHED is Accepted, ERROR is Refused.
  PublishOutcome publishAndClose(const std::string& topic, const Value& payload, CallReply& refusal,
                                 std::string& error) override;

  /// Waits for the RESULT (progressive ones are skipped) or ERROR.
  bool call(const std::string& procedure, const Array& args, CallReply& reply,
            std::string& error) override;

  /// GOODBYE, then the server's GOODBYE and its close.
  void close() override;

 private:
  // Reads until the answer to `request`; false when the session or connection ended first.
  bool awaitAnswer(core::wamp2::Type requestType, std::uint64_t request, CallReply& reply,
                   std::string& error);

  WsClient ws_;
  std::string realm_;
  core::wamp2::Welcome welcome_;
  std::uint64_t lastRequest_ = 0;
  // The server ended the session (ABORT, GOODBYE): no GOODBYE of ours is due.
  bool ended_ = false;
};

}  // namespace wampd::ctl
