#include "websocket_ping_topic.h"

#include <stdexcept>

namespace wampd::plugins::ping {
namespace {

constexpr const char* kTimerName = "oro_ping";
constexpr const char* kKeepAliveMessage = "Connection keep alive";

std::chrono::seconds checkedInterval(std::int64_t seconds) {
  if (seconds < 1 || seconds > WebsocketPingTopic::kMaxIntervalSeconds)
    throw std::invalid_argument("argument #1 (ping interval) must be between 1 and " +
                                std::to_string(WebsocketPingTopic::kMaxIntervalSeconds) +
                                " seconds, not " + std::to_string(seconds));
  return std::chrono::seconds(seconds);
}

}  // namespace

WebsocketPingTopic::WebsocketPingTopic(const Arguments& args)
    : name_(args.string(0)), interval_(checkedInterval(args.integer(1))) {}

std::vector<PeriodicTimer> WebsocketPingTopic::periodicTimers() const {
  return {PeriodicTimer{kTimerName, interval_}};
}

void WebsocketPingTopic::onTimer(Topic& topic, const PeriodicTimer&) {
  topic.broadcast(Value(kKeepAliveMessage));
}

}  // namespace wampd::plugins::ping
