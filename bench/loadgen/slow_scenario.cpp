#include <algorithm>

#include "clock.h"
#include "fanout_rig.h"
#include "proc_stats.h"
#include "scenarios.h"

namespace wampd::bench {
namespace {

// The smallest receive buffer Linux grants: the slow subscriber's kernel takes in little.
constexpr int kSlowReceiveBuffer = 4096;

struct MemorySamples {
  std::int64_t first = -1, max = -1, last = -1;
  void take(pid_t pid) {
    const std::int64_t kib = residentKiB(pid);
    if (kib < 0) return;
    if (first < 0) first = kib;
    max = std::max(max, kib);
    last = kib;
  }
};

}  // namespace

int runSlow(const Common& common, const SlowOptions& o) {
  Client client(common.target);
  OpenResult opened = client.open(o.subscribers, common.concurrency, common.openTimeoutS);
  const OpenResult slowOpened =
      client.open(o.slow, common.concurrency, common.openTimeoutS, kSlowReceiveBuffer);
  const OpenResult publisherOpened = client.open(1, 1, common.openTimeoutS);
  if (opened.failed + slowOpened.failed + publisherOpened.failed > 0)
    return failed(common, "slow", "connections failed");
  const std::size_t all = o.subscribers + o.slow;
  FanoutRig rig(client, common.topic, all, common.serverPid);
  rig.setSpin(common.spin);
  std::string why;
  if (!rig.subscribeAll(60, why)) return failed(common, "slow", why);
  for (std::size_t i = o.subscribers; i < all; ++i) rig.setCounted(i, false);

  Phase phase;
  phase.eventSize = o.size;
  phase.window = o.window;
  phase.warmupS = common.warmupS;
  // Both phases last as long: other load on the machine weighs on them alike.
  phase.durationS = o.stallS;
  phase.tickS = o.sampleS;

  MemorySamples before;
  phase.onTick = [&](std::int64_t) { before.take(common.serverPid); };
  const PhaseResult reading = rig.run(phase);

  for (std::size_t i = o.subscribers; i < all; ++i) client.pauseReading(*client.conns()[i]);
  MemorySamples during;
  phase.onTick = [&](std::int64_t) { during.take(common.serverPid); };
  const PhaseResult stalled = rig.run(phase);
  during.take(common.serverPid);

  // Read what the server queued for the slow subscribers, to see how it dealt with them.
  std::uint64_t slowBytes0 = 0;
  for (std::size_t i = o.subscribers; i < all; ++i) {
    slowBytes0 += client.conns()[i]->bytesRead;
    client.resumeReading(*client.conns()[i]);
  }
  const std::int64_t until = nowNs() + secondsToNs(o.drainS);
  auto slowOpen = [&] {
    std::size_t n = 0;
    for (std::size_t i = o.subscribers; i < all; ++i)
      if (client.conns()[i]->state != ConnState::Closed) ++n;
    return n;
  };
  while (slowOpen() > 0 && nowNs() < until) client.poll(5'000'000);
  std::uint64_t slowBytes = 0;
  int closeCode = 0;
  std::string closeReason;
  for (std::size_t i = o.subscribers; i < all; ++i) {
    const Conn& c = *client.conns()[i];
    slowBytes += c.bytesRead;
    if (c.closeCode != 0) closeCode = c.closeCode;
    if (closeReason.empty()) closeReason = c.failure;
  }
  during.take(common.serverPid);

  const double a = reading.deliveriesPerSecond(), b = stalled.deliveriesPerSecond();
  resultLine(common, "slow")
      .add("subscribers", static_cast<std::uint64_t>(o.subscribers))
      .add("slow", static_cast<std::uint64_t>(o.slow))
      .add("size", static_cast<std::uint64_t>(o.size))
      .add("window", static_cast<std::uint64_t>(o.window))
      .add("stall_seconds", stalled.seconds)
      .add("deliveries_per_s_all_reading", a)
      .add("deliveries_per_s_with_slow", b)
      .add("change", a > 0 ? (b - a) / a : 0.0)
      .add("p99_us_all_reading", reading.latency.quantile(0.99) / 1e3)
      .add("p99_us_with_slow", stalled.latency.quantile(0.99) / 1e3)
      .add("server_cpu_all_reading", reading.serverCpu)
      .add("server_cpu_with_slow", stalled.serverCpu)
      .add("rss_kib_all_reading", before.max)
      .add("rss_kib_with_slow_first", during.first)
      .add("rss_kib_with_slow_max", during.max)
      .add("rss_kib_after", during.last)
      .add("slow_bytes_read_before_pause", slowBytes0)
      .add("slow_bytes_read_total", slowBytes)
      .add("slow_still_open", static_cast<std::uint64_t>(slowOpen()))
      .add("slow_close_code", closeCode)
      .add("slow_close", closeReason)
      .add("closed_others", static_cast<std::uint64_t>(reading.closed + stalled.closed))
      .print();
  return 0;
}

}  // namespace wampd::bench
