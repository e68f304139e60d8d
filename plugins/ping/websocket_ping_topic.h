// WebsocketPingTopic: Oro's keep-alive topic. While a topic has subscribers it broadcasts
// "Connection keep alive" every interval, so proxies and browsers keep idle sockets open.
#pragma once

#include <wampd/arguments.h>
#include <wampd/topic_handler.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace wampd::plugins::ping {

class WebsocketPingTopic : public TopicHandler {
 public:
  /// An interval beyond a year is surely a typo, and would overflow the host's timers.
  static constexpr std::int64_t kMaxIntervalSeconds = 365LL * 24 * 60 * 60;

  /// Arguments: [0] the handler name, [1] the interval in seconds (an integer >= 1).
  explicit WebsocketPingTopic(const Arguments& args);

  std::string getName() const override { return name_; }
  /// Publishes are ignored, as in Oro: the topic only ever carries the server's pings.
  Status onPublish(Connection&, Topic&, const Request&, const Value&, const SessionIds&,
                   const SessionIds&) override {
    return {};
  }
  std::vector<PeriodicTimer> periodicTimers() const override;
  void onTimer(Topic& topic, const PeriodicTimer& timer) override;

 private:
  std::string name_;
  std::chrono::seconds interval_;
};

}  // namespace wampd::plugins::ping
