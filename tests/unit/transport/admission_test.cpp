// Admission: the connection limits, the per-address token bucket and its Retry-After, and a
// per-address table that forgets addresses once they are gone and their bucket is full.
#include "transport/admission.h"

#include <doctest/doctest.h>

#include <string>

namespace {

using namespace wampd::core::ws;
using Verdict = Admission::Verdict;
using namespace std::chrono_literals;

}  // namespace

TEST_CASE("no limits admit everyone") {
  Admission a;
  std::uint32_t retry = 0;
  for (int i = 0; i < 1000; ++i) {
    a.opened("10.0.0.1");
    CHECK(a.admit("10.0.0.1", i + 1, Admission::Clock::now(), retry) == Verdict::Admitted);
  }
}

TEST_CASE("the server-wide and per-address connection limits") {
  Admission a;
  a.setLimits({3, 2, 0});
  const auto now = Admission::Clock::now();
  std::uint32_t retry = 0;
  a.opened("a");
  CHECK(a.admit("a", 1, now, retry) == Verdict::Admitted);
  a.opened("a");
  CHECK(a.admit("a", 2, now, retry) == Verdict::Admitted);
  a.opened("a");
  CHECK(a.admit("a", 3, now, retry) == Verdict::AddressFull);
  a.opened("b");
  CHECK(a.admit("b", 4, now, retry) == Verdict::ServerFull);
  a.closed("b", now);
  a.closed("a", now);
  a.opened("b");
  CHECK(a.admit("b", 3, now, retry) == Verdict::Admitted);
}

TEST_CASE("the handshake rate: a burst of one second's worth, then Retry-After") {
  Admission a;
  a.setLimits({0, 0, 2});
  const auto t0 = Admission::Clock::now();
  std::uint32_t retry = 0;
  a.opened("a");
  CHECK(a.admit("a", 1, t0, retry) == Verdict::Admitted);
  CHECK(a.admit("a", 1, t0, retry) == Verdict::Admitted);
  CHECK(a.admit("a", 1, t0, retry) == Verdict::TooFast);
  CHECK(retry == 1);
  a.opened("b");
  CHECK(a.admit("b", 2, t0, retry) == Verdict::Admitted);          // another address has its own
  CHECK(a.admit("a", 1, t0 + 500ms, retry) == Verdict::Admitted);  // refilled one token
  CHECK(a.admit("a", 1, t0 + 500ms, retry) == Verdict::TooFast);

  Admission slow;
  slow.setLimits({0, 0, 0.1});
  slow.opened("a");
  CHECK(slow.admit("a", 1, t0, retry) == Verdict::Admitted);
  CHECK(slow.admit("a", 1, t0, retry) == Verdict::TooFast);
  CHECK(retry == 10);
}

TEST_CASE("addresses with no connection are forgotten once their bucket is full") {
  Admission a;
  a.setLimits({0, 0, 1});
  const auto t0 = Admission::Clock::now();
  std::uint32_t retry = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string address = "10.0.0." + std::to_string(i);
    a.opened(address);
    CHECK(a.admit(address, 1, t0, retry) == Verdict::Admitted);
    a.closed(address, t0);
  }
  // Their buckets are empty: a reconnect storm from one of them is still limited.
  CHECK(a.addresses() == 100);
  a.opened("10.0.0.7");
  CHECK(a.admit("10.0.0.7", 1, t0, retry) == Verdict::TooFast);
  a.closed("10.0.0.7", t0);
  a.forgetIdle(t0 + 2s);
  CHECK(a.addresses() == 0);

  Admission unlimited;  // no rate: an address is forgotten with its last connection
  unlimited.opened("x");
  unlimited.closed("x", t0);
  CHECK(unlimited.addresses() == 0);
}
