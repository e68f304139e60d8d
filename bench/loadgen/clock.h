// Monotonic nanoseconds: every time the load client takes.
#pragma once

#include <time.h>

#include <cstdint>

namespace wampd::bench {

inline std::int64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline std::int64_t secondsToNs(double s) {
  return static_cast<std::int64_t>(s * 1e9);
}

}  // namespace wampd::bench
