#include "transport/admission.h"

#include <algorithm>
#include <cmath>

namespace wampd::core::ws {
namespace {

double capacity(double rate) noexcept {
  return std::max(1.0, rate);
}

}  // namespace

void Admission::opened(const std::string& address) {
  ++entries_[address].connections;
}

void Admission::closed(const std::string& address, Clock::time_point now) noexcept {
  const auto it = entries_.find(address);
  if (it == entries_.end()) return;
  if (it->second.connections > 0) --it->second.connections;
  if (idle(it->second, now)) entries_.erase(it);
}

double Admission::tokens(const Entry& entry, Clock::time_point now) const noexcept {
  const double full = capacity(limits_.handshakesPerSecond);
  if (entry.tokens < 0 || limits_.handshakesPerSecond <= 0) return full;
  const double elapsed = std::chrono::duration<double>(now - entry.refilled).count();
  return std::min(full, entry.tokens + elapsed * limits_.handshakesPerSecond);
}

bool Admission::idle(const Entry& entry, Clock::time_point now) const noexcept {
  return entry.connections == 0 && tokens(entry, now) >= capacity(limits_.handshakesPerSecond);
}

Admission::Verdict Admission::admit(const std::string& address, std::size_t open,
                                    Clock::time_point now, std::uint32_t& retryAfter) noexcept {
  if (limits_.maxConnections != 0 && open > limits_.maxConnections) return Verdict::ServerFull;
  const auto it = entries_.find(address);
  if (it == entries_.end()) return Verdict::Admitted;  // not opened(): out of memory then
  Entry& entry = it->second;
  if (limits_.maxPerAddress != 0 && entry.connections > limits_.maxPerAddress)
    return Verdict::AddressFull;
  if (limits_.handshakesPerSecond <= 0) return Verdict::Admitted;
  const double available = tokens(entry, now);
  entry.refilled = now;
  if (available >= 1) {
    entry.tokens = available - 1;
    return Verdict::Admitted;
  }
  entry.tokens = available;
  retryAfter = static_cast<std::uint32_t>(
      std::max(1.0, std::ceil((1 - available) / limits_.handshakesPerSecond)));
  return Verdict::TooFast;
}

void Admission::forgetIdle(Clock::time_point now) noexcept {
  for (auto it = entries_.begin(); it != entries_.end();)
    it = idle(it->second, now) ? entries_.erase(it) : std::next(it);
}

}  // namespace wampd::core::ws
