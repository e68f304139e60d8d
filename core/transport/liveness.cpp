#include "transport/liveness.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>

namespace wampd::core::ws {
namespace {

constexpr std::chrono::milliseconds kMaxPeriod{250};
constexpr std::chrono::milliseconds kMinPeriod{25};

// Whole ticks, rounded up, so that no timeout fires early; 0 stays 0 (disabled).
std::uint32_t ticks(std::chrono::milliseconds timeout, std::chrono::milliseconds period) {
  if (timeout.count() <= 0) return 0;
  const auto n = (timeout.count() + period.count() - 1) / period.count();
  return static_cast<std::uint32_t>(std::min<std::int64_t>(n, UINT32_MAX / 2));
}

}  // namespace

LivenessPolicy::LivenessPolicy(const LivenessOptions& options) {
  std::chrono::milliseconds shortest = std::chrono::milliseconds::max();
  for (auto t : {options.pingInterval, options.pongTimeout, options.writeTimeout})
    if (t.count() > 0) shortest = std::min(shortest, t);
  if (shortest == std::chrono::milliseconds::max()) shortest = kMaxPeriod * 4;  // none: idle
  period_ = std::clamp(shortest / 4, kMinPeriod, kMaxPeriod);
  // A walk over every connection costs ~0.2 us each (a cache miss): at 19,000 connections and
  // 250 ms that was 1.5% of the I/O thread and a 4 ms pause per tick, for a precision the
  // default timeouts do not need.
  sweepTicks_ = static_cast<std::uint32_t>(std::max<std::int64_t>(1, (shortest / 4) / period_));
  pingTicks_ = ticks(options.pingInterval, period_);
  // Pings are what a pong answers: without them there is nothing to wait for.
  pongTicks_ = pingTicks_ != 0 ? ticks(options.pongTimeout, period_) : 0;
  writeTicks_ = ticks(options.writeTimeout, period_);
}

LivenessPolicy::Action LivenessPolicy::check(LivenessStamps& stamps, bool sendQueued,
                                             std::uint32_t now) const noexcept {
  // Unsigned differences: right across the counter's wrap (after 34 years at 250 ms).
  if (writeTicks_ != 0 && sendQueued && now - stamps.moved >= writeTicks_)
    return Action::DropWriteStalled;
  if (pingTicks_ == 0) return Action::None;
  if (stamps.pinged != 0) {
    // A ping is queued only after a whole interval without input, so input stamped in the
    // ping's own tick arrived after it.
    if (stamps.received - stamps.pinged < UINT32_MAX / 2) {
      stamps.pinged = 0;  // answered (a pong or anything else)
    } else if (pongTicks_ != 0) {
      return now - stamps.pinged >= pongTicks_ ? Action::DropUnresponsive : Action::None;
    } else if (now - stamps.pinged < pingTicks_) {
      return Action::None;  // not awaited; pinged again an interval later
    } else {
      return Action::Ping;
    }
  }
  return now - stamps.received >= pingTicks_ ? Action::Ping : Action::None;
}

std::int64_t millisecondsSinceDataSent(int fd) noexcept {
  tcp_info info{};
  socklen_t size = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0 ||
      size < offsetof(tcp_info, tcpi_last_data_sent) + sizeof info.tcpi_last_data_sent)
    return -1;
  return info.tcpi_last_data_sent;
}

}  // namespace wampd::core::ws
