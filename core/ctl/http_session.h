// wampctl --http: the commands over wampd's HTTP API instead of a WAMP session. Publish and
// call take the same path in the server (route, handler, permissions) as over WAMP v1; the
// backend token travels as `Authorization: Bearer`.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "ctl/backend_session.h"

namespace wampd::ctl {

class HttpSession final : public BackendSession {
 public:
  HttpSession(WsClient::Clock::time_point deadline, std::string token)
      : deadline_(deadline), token_(std::move(token)) {}

  /// GET /health: the server is up and serving (200).
  bool open(const std::string& url, const std::string& shownUrl, std::string& error) override;
  std::string describeWelcome() const override { return health_; }
  /// POST /api/publish.
  PublishOutcome publishAndClose(const std::string& topic, const Value& payload, CallReply& refusal,
                                 std::string& error) override;
  /// wampd.topics and wampd.stats: GET /api/topics and /api/stats; others POST /api/call
  /// (plugin RPC handlers). wampd.reload is WAMP only.
  bool call(const std::string& procedure, const Array& args, CallReply& reply,
            std::string& error) override;
  void close() override {}

 private:
  /// One request; false when no answer came.
  bool exchange(const std::string& method, const std::string& path, const std::string& body,
                int& status, Value& answer, std::string& error);

  WsClient::Clock::time_point deadline_;
  std::string token_;
  std::string host_, shown_;
  std::uint16_t port_ = 0;
  std::string health_;
  std::string lastBody_;
};

}  // namespace wampd::ctl
