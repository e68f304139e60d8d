#include "clock.h"
#include "proc_stats.h"
#include "scenarios.h"

namespace wampd::bench {

int runIdle(const Common& common, const IdleOptions& o) {
  if (common.serverPid <= 0) return failed(common, "idle", "--server-pid is required");
  Client client(common.target);
  const std::int64_t rssBefore = residentKiB(common.serverPid);
  const OpenResult opened = client.open(o.connections, common.concurrency, common.openTimeoutS);
  const std::int64_t settleUntil = nowNs() + secondsToNs(o.settleS);
  while (nowNs() < settleUntil) client.poll(10'000'000);
  const std::int64_t rssHeld = residentKiB(common.serverPid);
  const std::int64_t holdUntil = nowNs() + secondsToNs(o.holdS);
  while (nowNs() < holdUntil) client.poll(10'000'000);
  const std::int64_t rssAfterHold = residentKiB(common.serverPid);
  const double perConnection =
      opened.opened > 0 ? static_cast<double>(rssHeld - rssBefore) / opened.opened : 0.0;

  resultLine(common, "idle")
      .add("connections", static_cast<std::uint64_t>(o.connections))
      .add("opened", static_cast<std::uint64_t>(opened.opened))
      .add("failed", static_cast<std::uint64_t>(opened.failed))
      .add("first_failure", opened.firstFailure)
      .add("still_open", static_cast<std::uint64_t>(client.openCount()))
      .add("setup_seconds", opened.seconds)
      .add("connections_per_s", opened.seconds > 0 ? opened.opened / opened.seconds : 0.0)
      .add("concurrency", static_cast<std::uint64_t>(common.concurrency))
      .add("rss_kib_before", rssBefore)
      .add("rss_kib_held", rssHeld)
      .add("rss_kib_after_hold", rssAfterHold)
      .add("kib_per_connection", perConnection)
      .print();
  return 0;
}

}  // namespace wampd::bench
