// Dead-peer detection without a timer per connection: one transport-wide tick advances a
// counter, each connection keeps three coarse stamps in that counter (12 bytes), and a sweep
// on each tick asks LivenessPolicy what to do with each connection.
//
// Time is counted in ticks of the transport's timer, not read from a clock: when the I/O thread
// stalls (a long reload, a swapped-out process), the count stalls with it, so bytes that sat
// unread in the kernel meanwhile never make a live peer look dead. A timeout thus lasts at
// least its configured time, and at most a quarter of the shortest timeout more (a tick more
// when that quarter is shorter than the 250 ms tick).
//
// Constraint: I/O thread only, like the rest of the transport.
#pragma once

#include <chrono>
#include <cstdint>

namespace wampd::core::ws {

struct LivenessOptions {
  /// A connection that has received nothing for this long is pinged. 0: never.
  std::chrono::milliseconds pingInterval{30000};
  /// A pinged connection that then receives nothing (any byte) for this long is dropped.
  /// 0: pings are sent but never awaited.
  std::chrono::milliseconds pongTimeout{10000};
  /// A connection with bytes queued that has written none for this long is dropped. 0: never.
  std::chrono::milliseconds writeTimeout{30000};
};

/// One connection's stamps, in ticks (LivenessClock::now()).
struct LivenessStamps {
  std::uint32_t received = 0;  // the last tick a byte arrived (or the connection opened)
  std::uint32_t pinged = 0;    // the tick our unanswered ping was queued; 0: none outstanding
  std::uint32_t moved = 0;     // the last tick a byte left, or the send queue stopped being empty
};

/// The transport's tick counter. Starts at 1: 0 is "never" in LivenessStamps::pinged.
class LivenessClock {
 public:
  std::uint32_t now() const noexcept { return now_; }
  void advance() noexcept { ++now_; }

 private:
  std::uint32_t now_ = 1;
};

class LivenessPolicy {
 public:
  enum class Action : std::uint8_t { None, Ping, DropUnresponsive, DropWriteStalled };

  LivenessPolicy() : LivenessPolicy(LivenessOptions{}) {}
  explicit LivenessPolicy(const LivenessOptions& options);

  /// How often the transport ticks: a quarter of the shortest timeout, at most 250 ms and at
  /// least 25 ms.
  std::chrono::milliseconds tickPeriod() const noexcept { return period_; }
  /// Ticks between two checks of the same connection: each tick checks that share of them,
  /// so that each is checked every quarter of the shortest timeout (every tick when that is
  /// 250 ms or less). With the defaults, 10: a tenth of the connections per tick.
  std::uint32_t sweepTicks() const noexcept { return sweepTicks_; }
  /// False when every timeout is 0: the transport need not tick.
  bool enabled() const noexcept { return pingTicks_ != 0 || writeTicks_ != 0; }

  /// What to do with a connection at tick `now`; `sendQueued`: it has bytes not yet written.
  /// Forgets a ping that has been answered (updates `stamps.pinged`).
  Action check(LivenessStamps& stamps, bool sendQueued, std::uint32_t now) const noexcept;

 private:
  std::chrono::milliseconds period_;
  std::uint32_t sweepTicks_ = 1;
  std::uint32_t pingTicks_ = 0, pongTicks_ = 0, writeTicks_ = 0;  // 0: disabled
};

/// Milliseconds since the kernel last sent new data on TCP socket `fd` (TCP_INFO's
/// last_data_sent); -1 when unknown (not TCP). A reader that reads slowly reopens its window
/// and the kernel sends on, though the kernel may not let the transport write for a long while
/// (it wakes writers only once a third of the send buffer is free, which can be megabytes); a
/// peer that reads nothing gets zero-window probes, which carry no new data.
std::int64_t millisecondsSinceDataSent(int fd) noexcept;

}  // namespace wampd::core::ws
