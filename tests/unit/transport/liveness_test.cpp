// The dead-peer policy over tick counts: when a quiet connection is pinged, when an unanswered
// ping drops it, when a queue that does not move drops it, and that 0 disables each.
#include "transport/liveness.h"

#include <doctest/doctest.h>

namespace {

using namespace wampd::core::ws;
using Action = LivenessPolicy::Action;
using std::chrono::milliseconds;

LivenessPolicy policy(int ping, int pong, int write) {
  return LivenessPolicy(
      LivenessOptions{milliseconds(ping), milliseconds(pong), milliseconds(write)});
}

}  // namespace

TEST_CASE("the tick is a quarter of the shortest timeout, from 25 to 250 ms") {
  CHECK(policy(30000, 10000, 30000).tickPeriod() == milliseconds(250));
  CHECK(policy(300, 300, 0).tickPeriod() == milliseconds(75));
  CHECK(policy(40, 0, 0).tickPeriod() == milliseconds(25));
  CHECK(policy(0, 0, 0).tickPeriod() == milliseconds(250));
  CHECK_FALSE(policy(0, 0, 0).enabled());
  // Each connection is checked every quarter of the shortest timeout, at least every tick.
  CHECK(policy(30000, 10000, 30000).sweepTicks() == 10);
  CHECK(policy(300, 300, 0).sweepTicks() == 1);
  CHECK(policy(2000, 0, 0).sweepTicks() == 2);
  CHECK(policy(0, 0, 1000).enabled());
}

TEST_CASE("a quiet connection is pinged after the interval and dropped after the pong timeout") {
  const LivenessPolicy p = policy(1000, 1000, 0);  // tick 250 ms: 4 ticks each
  LivenessStamps s;
  s.received = s.moved = 10;
  CHECK(p.check(s, false, 13) == Action::None);
  REQUIRE(p.check(s, false, 14) == Action::Ping);
  s.pinged = 14;
  CHECK(p.check(s, false, 17) == Action::None);
  CHECK(p.check(s, false, 18) == Action::DropUnresponsive);
}

TEST_CASE("any input after the ping answers it, even in the ping's own tick") {
  const LivenessPolicy p = policy(1000, 1000, 0);
  LivenessStamps s;
  s.received = 10;
  s.pinged = 14;
  s.received = 14;  // a pong read in the tick the ping left in
  CHECK(p.check(s, false, 16) == Action::None);
  CHECK(s.pinged == 0);
  CHECK(p.check(s, false, 18) == Action::Ping);  // quiet again for an interval
}

TEST_CASE("a connection that talks is never pinged") {
  const LivenessPolicy p = policy(1000, 1000, 0);
  LivenessStamps s;
  for (std::uint32_t now = 1; now < 100; ++now) {
    s.received = now;
    CHECK(p.check(s, false, now) == Action::None);
  }
}

TEST_CASE("queued bytes that do not move drop the connection after the write timeout") {
  const LivenessPolicy p = policy(0, 0, 1000);
  LivenessStamps s;
  s.received = 1;
  s.moved = 10;
  CHECK(p.check(s, true, 13) == Action::None);
  CHECK(p.check(s, true, 14) == Action::DropWriteStalled);
  CHECK(p.check(s, false, 1000) == Action::None);  // nothing queued: nothing stalls
}

TEST_CASE("0 disables each") {
  LivenessStamps s;
  s.received = s.moved = 1;
  CHECK(policy(0, 500, 1000).check(s, false, 100000) == Action::None);
  CHECK(policy(1000, 500, 0).check(s, true, 3) == Action::None);
  // Pong timeout 0: pings go out each interval but nobody is dropped for silence.
  const LivenessPolicy p = policy(1000, 0, 0);
  REQUIRE(p.check(s, false, 5) == Action::Ping);
  s.pinged = 5;
  CHECK(p.check(s, false, 8) == Action::None);
  CHECK(p.check(s, false, 9) == Action::Ping);
}

TEST_CASE("the tick counter's wrap does not drop anyone") {
  const LivenessPolicy p = policy(1000, 1000, 1000);
  LivenessStamps s;
  s.received = s.moved = UINT32_MAX - 1;
  CHECK(p.check(s, true, 1) == Action::None);  // 3 ticks later, across the wrap
  CHECK(p.check(s, true, 2) == Action::DropWriteStalled);
}
