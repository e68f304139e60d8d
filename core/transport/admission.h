// Who may open a connection: the server-wide and per-address connection limits and the
// per-address handshake rate (a token bucket), decided when a handshake request has been read
// so that a refusal is a proper HTTP answer (503, 429 with Retry-After).
//
// It lives in the transport because what it counts is the transport's: TCP connections and
// their source addresses, from accept to close, handshakes included; none of it is WAMP.
//
// The per-address table holds an entry while its address has a connection open, and after the
// last one closes only until its bucket has refilled (then a new entry would be the same):
// it is bounded by the open connections plus the addresses seen in the last few seconds.
//
// Constraint: I/O thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace wampd::core::ws {

struct AdmissionLimits {
  std::size_t maxConnections = 0;  // the whole server; 0: no limit of its own
  std::size_t maxPerAddress = 0;   // per source address; 0: none
  double handshakesPerSecond = 0;  // per source address, with a burst of one second's worth
                                   // (at least 1); 0: none
};

class Admission {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Verdict : std::uint8_t { Admitted, ServerFull, AddressFull, TooFast };

  void setLimits(const AdmissionLimits& limits) noexcept { limits_ = limits; }
  const AdmissionLimits& limits() const noexcept { return limits_; }

  /// A connection from `address` was accepted. Throws std::bad_alloc.
  void opened(const std::string& address);
  /// A connection opened() earlier has closed.
  void closed(const std::string& address, Clock::time_point now) noexcept;
  /// A handshake request from a connection opened() earlier; `open` is how many connections
  /// the server holds, this one included. With TooFast, `retryAfter` is when a token will be
  /// there, in whole seconds (at least 1).
  Verdict admit(const std::string& address, std::size_t open, Clock::time_point now,
                std::uint32_t& retryAfter) noexcept;
  /// Forgets the addresses with no connection whose bucket is full again.
  void forgetIdle(Clock::time_point now) noexcept;

  /// Addresses in the table (for tests: it must stay bounded).
  std::size_t addresses() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::uint32_t connections = 0;
    double tokens = -1;  // < 0: a full bucket that has not been drawn from
    Clock::time_point refilled;
  };
  /// Tokens in `entry`'s bucket at `now`.
  double tokens(const Entry& entry, Clock::time_point now) const noexcept;
  bool idle(const Entry& entry, Clock::time_point now) const noexcept;

  AdmissionLimits limits_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace wampd::core::ws
