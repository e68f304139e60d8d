// One connection to wampd, in the WAMP version the command line asked for: v1 as Oro's
// backend speaks it (the default), or v2 over wamp.2.json. Commands see only this interface.
#pragma once

#include <memory>
#include <string>

#include "ctl/commands.h"
#include "ctl/ws_client.h"
#include "wamp/call_reply.h"
#include "wampd/value.h"

namespace wampd::ctl {

using core::wamp::CallReply;

/// How a publish ended.
enum class PublishOutcome {
  Accepted,  // v1: the server closed normally after taking it; v2: PUBLISHED
  Refused,   // the server answered with an error (not allowed, no route in v2, handler error)
  Failed,    // no verdict: connection lost, closed with an error code, deadline
};

class BackendSession {
 public:
  virtual ~BackendSession() = default;

  /// Connects and reads the server's WELCOME. Messages name the server `shownUrl` (see
  /// WsClient::connect).
  virtual bool open(const std::string& url, const std::string& shownUrl, std::string& error) = 0;

  /// What the WELCOME said, for `check`: "session 12, server wampd/0.1.0".
  virtual std::string describeWelcome() const = 0;

  /// Publishes `payload` to `topic`, waits for the server's verdict, then ends the session.
  /// Refused: `refusal` holds the server's error and `error` a one-line message about it.
  virtual PublishOutcome publishAndClose(const std::string& topic, const Value& payload,
                                         CallReply& refusal, std::string& error) = 0;

  /// Calls `procedure` and waits for its result or error; false only when no answer came
  /// (connection ended, deadline).
  virtual bool call(const std::string& procedure, const Array& args, CallReply& reply,
                    std::string& error) = 0;

  /// Ends the session and waits for the server's answer until the deadline; failures do
  /// not matter once the command has its answer.
  virtual void close() = 0;
};

/// A v1 or v2 session (options.v2, options.realm), or the HTTP API (options.http, which
/// sends `token` as a Bearer token), every step bounded by `deadline`.
std::unique_ptr<BackendSession> makeBackendSession(const GlobalOptions& options,
                                                   const std::string& token,
                                                   WsClient::Clock::time_point deadline);

}  // namespace wampd::ctl
