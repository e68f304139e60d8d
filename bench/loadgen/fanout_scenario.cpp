#include <algorithm>

#include "fanout_rig.h"
#include "proc_stats.h"
#include "scenarios.h"

namespace wampd::bench {
namespace {

// Bytes of a WebSocket EVENT frame around the event itself (header, type, topic).
constexpr std::size_t kFrameOverhead = 40;

void printSetup(const Common& common, const OpenResult& opened, std::size_t wanted) {
  resultLine(common, "setup")
      .add("connections", static_cast<std::uint64_t>(wanted))
      .add("opened", static_cast<std::uint64_t>(opened.opened))
      .add("failed", static_cast<std::uint64_t>(opened.failed))
      .add("seconds", opened.seconds)
      .add("connections_per_s", opened.seconds > 0 ? opened.opened / opened.seconds : 0.0)
      .print();
}

void printPhase(const Common& common, const FanoutOptions& o, const char* mode, const Phase& phase,
                const PhaseResult& r, const std::string& rateBasis = "") {
  const double dps = r.deliveriesPerSecond();
  ResultLine line = resultLine(common, "fanout");
  line.add("subscribers", static_cast<std::uint64_t>(o.subscribers))
      .add("size", static_cast<std::uint64_t>(phase.eventSize))
      .add("mode", mode)
      .add("rate_basis", rateBasis)
      .add("window", static_cast<std::uint64_t>(phase.rate > 0 ? 0 : phase.window))
      .add("offered_events_per_s", phase.rate)
      .add("published", r.published)
      .add("deliveries", r.deliveries)
      .add("seconds", r.seconds)
      .add("deliveries_per_s", dps)
      .add("events_per_s", dps / static_cast<double>(o.subscribers))
      .add("p50_us", r.latency.quantile(0.5) / 1e3)
      .add("p99_us", r.latency.quantile(0.99) / 1e3)
      .add("max_us", r.latency.max() / 1e3)
      .add("latency_samples", r.latency.count())
      .add("server_cpu", r.serverCpu)
      .add("server_sys_cpu", r.serverSystem)
      .add("client_busy", r.clientBusy)
      .add("incomplete", r.incomplete)
      .add("strays", r.strays)
      .add("closed", static_cast<std::uint64_t>(r.closed))
      .add("server_rss_kib", residentKiB(common.serverPid));
  if (o.remoteSubscribers > 0) {
    const Histogram& local = r.groupLatency[0];
    const Histogram& remote = r.groupLatency[1];
    line.add("remote_subscribers", static_cast<std::uint64_t>(o.remoteSubscribers))
        .add("local_p50_us", local.quantile(0.5) / 1e3)
        .add("local_p99_us", local.quantile(0.99) / 1e3)
        .add("local_max_us", local.max() / 1e3)
        .add("remote_p50_us", remote.quantile(0.5) / 1e3)
        .add("remote_p99_us", remote.quantile(0.99) / 1e3)
        .add("remote_max_us", remote.max() / 1e3);
  }
  for (std::size_t i = 0; i < r.otherCpu.size(); ++i)
    line.add("other_cpu_" + std::to_string(i), r.otherCpu[i]);
  line.print();
}

}  // namespace

int runProbe(const Common& common) {
  Client client(common.target);
  const OpenResult opened = client.open(2, 2, 5);
  if (opened.failed > 0) {
    resultLine(common, "probe").add("supported", false).add("reason", opened.firstFailure).print();
    return kExitUnsupported;
  }
  FanoutRig rig(client, common.topic, 1, common.serverPid);
  std::string why;
  if (!rig.subscribeAll(5, why)) {
    resultLine(common, "probe").add("supported", false).add("reason", why).print();
    return kExitUnsupported;
  }
  resultLine(common, "probe").add("supported", true).print();
  return 0;
}

int runFanout(const Common& common, const FanoutOptions& o) {
  Client client(common.target);
  // Subscribers on the publisher's server, then those on the other node, then the publisher.
  const std::size_t remote = o.remotePort > 0 ? std::min(o.remoteSubscribers, o.subscribers) : 0;
  OpenResult opened = client.open(o.subscribers - remote, common.concurrency, common.openTimeoutS);
  if (remote > 0) {
    client.setPort(o.remotePort);
    const OpenResult more = client.open(remote, common.concurrency, common.openTimeoutS);
    client.setPort(common.target.port);
    const OpenResult publisher = client.open(1, 1, common.openTimeoutS);
    for (const OpenResult* r : {&more, &publisher}) {
      opened.opened += r->opened;
      opened.failed += r->failed;
      opened.seconds += r->seconds;
      if (opened.firstFailure.empty()) opened.firstFailure = r->firstFailure;
    }
  } else {
    const OpenResult publisher = client.open(1, 1, common.openTimeoutS);
    opened.opened += publisher.opened;
    opened.failed += publisher.failed;
    if (opened.firstFailure.empty()) opened.firstFailure = publisher.firstFailure;
  }
  printSetup(common, opened, o.subscribers + 1);
  if (opened.failed > 0)
    return failed(common, "fanout", "connections failed: " + opened.firstFailure);
  FanoutRig rig(client, common.topic, o.subscribers, common.serverPid);
  rig.setSpin(common.spin);
  for (std::size_t i = o.subscribers - remote; i < o.subscribers; ++i) rig.setGroup(i, 1);
  rig.setOtherPids(std::vector<pid_t>(o.otherPids.begin(), o.otherPids.end()));
  std::string why;
  if (!rig.subscribeAll(60, why)) return failed(common, "fanout", why);

  auto phaseFor = [&](std::size_t size) {
    Phase p;
    p.eventSize = size;
    p.warmupS = common.warmupS;
    p.durationS = common.durationS;
    return p;
  };
  auto check = [&](const PhaseResult& r) {
    if (r.closed > 0) return std::to_string(r.closed) + " subscribers were closed by the server";
    if (!rig.publishError().empty()) return "publish refused: " + rig.publishError();
    return std::string();
  };

  double burstEventsPerS = 0;
  for (std::size_t size : o.sizes) {
    if (o.burst) {
      Phase p = phaseFor(size);
      const std::size_t perWindow = o.subscribers * (size + kFrameOverhead);
      p.window = std::clamp<std::size_t>(o.maxInFlightBytes / perWindow, 1, o.window);
      const PhaseResult r = rig.run(p);
      printPhase(common, o, "burst", p, r);
      if (auto problem = check(r); !problem.empty()) return failed(common, "fanout", problem);
      if (size == o.latencySize) burstEventsPerS = r.deliveriesPerSecond() / o.subscribers;
    }
    if (o.oneAtATime) {
      Phase p = phaseFor(size);
      p.window = 1;
      const PhaseResult r = rig.run(p);
      printPhase(common, o, "one", p, r);
      if (auto problem = check(r); !problem.empty()) return failed(common, "fanout", problem);
    }
  }
  // Each rate with what it is: a fraction of this server's own maximum, or given.
  std::vector<std::pair<double, std::string>> rates;
  for (double f : o.latencyFractions)
    if (burstEventsPerS > 0) rates.emplace_back(f * burstEventsPerS, "own:" + std::to_string(f));
  for (double rate : o.latencyRates) rates.emplace_back(rate, "given");
  for (const auto& [rate, basis] : rates) {
    Phase p = phaseFor(o.latencySize);
    p.rate = rate;
    const PhaseResult r = rig.run(p);
    printPhase(common, o, "rate", p, r, basis);
    if (auto problem = check(r); !problem.empty()) return failed(common, "fanout", problem);
  }
  return 0;
}

}  // namespace wampd::bench
