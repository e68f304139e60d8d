// The crowd: as many idle WAMP subscribers as one server process may hold, and one publisher
// broadcasting small events to all of them.
//
// Runs in several processes: the subscribers are spread over forked children, each under
// its own open-file limit and connecting from its own source address, because one process
// may hold only RLIMIT_NOFILE descriptors (20,000 here, not raisable) and one source address
// only as many connections to the server as there are ephemeral ports. The parent publishes
// and measures. Parent and children share one anonymous mapping (below); nothing else
// passes between them. Every process is single-threaded.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>

#include "clock.h"
#include "proc_stats.h"
#include "scenarios.h"

namespace wampd::bench {
namespace {

// Bytes of a WebSocket EVENT frame around the event itself (header, type, topic).
constexpr std::size_t kFrameOverhead = 40;
constexpr std::size_t kMaxShards = 64;
constexpr std::size_t kMaxPorts = 16;
// Delivery counts by sequence number modulo kRing; the window stays far below it, so a
// slot is reused only after its event reached everyone.
constexpr std::size_t kRing = 4096;
constexpr std::int64_t kProbeIntervalNs = 50'000'000;
constexpr std::int64_t kChildPollNs = 1'000'000;
// The parent wakes this often to refill the window; at 19,000 subscribers one event takes
// milliseconds to reach everyone, and waking more often takes the core from the children.
constexpr std::int64_t kParentPollNs = 500'000;
constexpr std::int64_t kTcpMemSampleNs = 50'000'000;

enum Stage : int { kOpening, kSubscribing, kStopping };

struct ShardReport {
  std::atomic<int> opened{0};  // 1 when the numbers below are written
  std::atomic<int> done{0};    // 1 when the final numbers are written
  std::uint64_t connections = 0;
  std::uint64_t open = 0;
  std::uint64_t openOnPort[kMaxPorts] = {};  // a cluster: how many of `open` on each node
  std::uint64_t failed = 0;
  double seconds = 0;
  char firstFailure[200] = {};
  std::uint64_t closed = 0;    // open subscribers the server closed afterwards
  std::uint64_t complete = 0;  // subscribers that received every counted event exactly once
  std::uint64_t wrong = 0;     // subscribers that missed or duplicated some
  char closeReason[200] = {};
};

struct Shared {
  std::atomic<int> stage{kOpening};
  /// Events from this sequence number on are counted; 0 until the probes are over.
  std::atomic<std::uint64_t> firstCounted{0};
  /// How many counted events the parent published (written before kStopping).
  std::atomic<std::uint64_t> publishedCounted{0};
  std::atomic<std::uint64_t> reached{0};    // subscribers that received any event
  std::atomic<std::uint64_t> delivered{0};  // deliveries of counted events
  std::atomic<std::uint32_t> ring[kRing] = {};
  ShardReport shards[kMaxShards];
};

void copyText(char* to, std::size_t size, const std::string& from) {
  const std::size_t n = std::min(size - 1, from.size());
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

class Shard final : public MessageHandler {
 public:
  Shard(Shared& shared, ShardReport& report, Client& client)
      : shared_(shared), report_(report), client_(client) {
    client_.setHandler(this);
  }
  ~Shard() override { client_.setHandler(nullptr); }

  void run(const Common& common, std::size_t count, std::size_t concurrency,
           const std::vector<int>& ports) {
    // A cluster: this process's connections spread evenly over the nodes, so that every
    // node gets its share whatever the number of processes.
    OpenResult opened;
    if (ports.empty()) {
      opened = client_.open(count, concurrency, common.openTimeoutS);
    } else {
      for (std::size_t j = 0; j < ports.size() && j < kMaxPorts; ++j) {
        client_.setPort(ports[j]);
        const std::size_t share = count / ports.size() + (j < count % ports.size() ? 1 : 0);
        const OpenResult part = client_.open(share, concurrency, common.openTimeoutS);
        opened.opened += part.opened;
        opened.failed += part.failed;
        opened.seconds += part.seconds;
        if (opened.firstFailure.empty()) opened.firstFailure = part.firstFailure;
        report_.openOnPort[j] = part.opened;
      }
    }
    report_.connections = count;
    report_.open = opened.opened;
    report_.failed = opened.failed;
    report_.seconds = opened.seconds;
    copyText(report_.firstFailure, sizeof report_.firstFailure, opened.firstFailure);
    seen_.assign(client_.conns().size(), 0);
    counted_.assign(client_.conns().size(), 0);
    report_.opened.store(1);

    while (shared_.stage.load() == kOpening) client_.poll(10 * kChildPollNs);
    for (auto& conn : client_.conns())
      if (conn->state == ConnState::Open)
        client_.send(*conn, subscribeMessage(client_.target().wamp, common.topic, ++requestId_));
    client_.flush();
    while (shared_.stage.load() != kStopping) {
      client_.poll(kChildPollNs);
      if (pending_ > 0) {
        shared_.delivered.fetch_add(pending_);
        pending_ = 0;
      }
    }
    // The parent stops once every counted event reached everyone, or gave up waiting.
    const std::uint64_t published = shared_.publishedCounted.load();
    for (std::size_t i = 0; i < counted_.size(); ++i) {
      if (client_.conns()[i]->state != ConnState::Open) continue;
      ++(counted_[i] == published ? report_.complete : report_.wrong);
    }
    report_.closed = closed_;
    report_.done.store(1);
  }

  void onMessage(Conn& conn, std::string_view message, std::int64_t) override {
    if (classify(client_.target().wamp, message) != Kind::Event) return;
    if (!seen_[conn.index]) {
      seen_[conn.index] = 1;
      shared_.reached.fetch_add(1);
    }
    std::uint64_t seq = 0;
    const std::uint64_t first = shared_.firstCounted.load(std::memory_order_relaxed);
    if (first == 0 || !findMarker(message, seq) || seq < first) return;
    ++counted_[conn.index];
    shared_.ring[seq % kRing].fetch_add(1, std::memory_order_relaxed);
    ++pending_;
  }

  void onClosed(Conn& conn) override {
    if (closed_++ == 0) copyText(report_.closeReason, sizeof report_.closeReason, conn.failure);
  }

 private:
  Shared& shared_;
  ShardReport& report_;
  Client& client_;
  std::vector<std::uint8_t> seen_;
  std::vector<std::uint64_t> counted_;
  std::uint64_t pending_ = 0;
  std::uint64_t requestId_ = 0;
  std::uint64_t closed_ = 0;
};

}  // namespace

int runCrowd(const Common& common, const CrowdOptions& o) {
  const std::size_t shards = std::max<std::size_t>(1, std::min(o.processes, kMaxShards));
  if (o.subscribers < shards) return failed(common, "crowd", "fewer subscribers than processes");
  void* memory =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return failed(common, "crowd", "mmap failed");
  Shared& shared = *new (memory) Shared;

  // The servers: one, or a cluster's nodes (each behind one of o.ports).
  std::vector<pid_t> servers;
  for (int pid : o.serverPids) servers.push_back(pid);
  if (servers.empty()) servers.push_back(common.serverPid);
  auto rssOf = [&] {
    std::vector<std::int64_t> rss;
    for (pid_t pid : servers) rss.push_back(residentKiB(pid));
    return rss;
  };
  auto cpuOf = [&] {
    CpuTimes sum{0, 0};
    for (pid_t pid : servers) {
      const CpuTimes t = cpuTimes(pid);
      if (t.user < 0) return CpuTimes{};
      sum.user += t.user;
      sum.system += t.system;
    }
    return sum;
  };
  const std::vector<std::int64_t> rssNodesBefore = rssOf();
  const std::int64_t rssBefore = rssNodesBefore[0];
  const std::int64_t tcpMemBefore = tcpMemPages();
  const std::int64_t slabBefore = slabKiB();
  const std::int64_t start = nowNs();
  std::vector<pid_t> children;
  for (std::size_t i = 0; i < shards; ++i) {
    const std::size_t count = o.subscribers / shards + (i < o.subscribers % shards ? 1 : 0);
    const pid_t pid = fork();
    if (pid < 0) return failed(common, "crowd", std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      Target target = common.target;
      if (!o.sources.empty()) target.source = o.sources[i % o.sources.size()];

      Client client(target);
      Shard shard(shared, shared.shards[i], client);
      shard.run(common, count, std::max<std::size_t>(1, common.concurrency / shards), o.ports);
      std::fflush(nullptr);
      _exit(0);
    }
    children.push_back(pid);
  }

  auto stopChildren = [&] {
    shared.stage.store(kStopping);
    for (pid_t pid : children) waitpid(pid, nullptr, 0);
  };
  for (std::size_t i = 0; i < shards; ++i)
    while (shared.shards[i].opened.load() == 0) usleep(1000);
  const double setupSeconds = static_cast<double>(nowNs() - start) / 1e9;
  std::uint64_t open = 0, failedCount = 0;
  std::string firstFailure;
  for (std::size_t i = 0; i < shards; ++i) {
    open += shared.shards[i].open;
    failedCount += shared.shards[i].failed;
    if (firstFailure.empty()) firstFailure = shared.shards[i].firstFailure;
  }
  // Let the server finish whatever the last handshakes left it to do before reading memory.
  usleep(static_cast<useconds_t>(o.settleS * 1e6));
  const std::vector<std::int64_t> rssNodesHeld = rssOf();
  // The first server's connections: all of them, or in a cluster its share (memory per
  // connection is per process).
  std::uint64_t open0 = open;
  if (!o.ports.empty()) {
    open0 = 0;
    for (std::size_t i = 0; i < shards; ++i) open0 += shared.shards[i].openOnPort[0];
  }
  const std::int64_t rssHeld = rssNodesHeld[0];
  const std::int64_t tcpMemHeld = tcpMemPages();
  const std::int64_t slabHeld = slabKiB();

  ResultLine line = resultLine(common, "crowd");
  line.add("subscribers", static_cast<std::uint64_t>(o.subscribers))
      .add("processes", static_cast<std::uint64_t>(shards))
      .add("sources", static_cast<std::uint64_t>(o.sources.size()))
      .add("opened", open)
      .add("failed", failedCount)
      .add("first_failure", firstFailure)
      .add("setup_seconds", setupSeconds)
      .add("connections_per_s", setupSeconds > 0 ? static_cast<double>(open) / setupSeconds : 0.0)
      .add("concurrency", static_cast<std::uint64_t>(common.concurrency))
      .add("rss_kib_before", rssBefore)
      .add("rss_kib_held", rssHeld)
      .add("kib_per_connection",
           open0 > 0 ? static_cast<double>(rssHeld - rssBefore) / static_cast<double>(open0) : 0.0)
      .add("tcp_mem_pages_before", tcpMemBefore)
      .add("tcp_mem_pages_held", tcpMemHeld)
      .add("slab_kib_before", slabBefore)
      .add("slab_kib_held", slabHeld);
  if (!o.ports.empty()) {
    // Per node: its connections and what they cost it.
    for (std::size_t n = 0; n < o.ports.size(); ++n) {
      std::uint64_t held = 0;
      for (std::size_t i = 0; i < shards && n < kMaxPorts; ++i)
        held += shared.shards[i].openOnPort[n];
      const std::string k = "_" + std::to_string(n);
      line.add("node_port" + k, static_cast<std::int64_t>(o.ports[n]))
          .add("node_connections" + k, held);
      if (n < servers.size()) {
        line.add("node_rss_kib_before" + k, rssNodesBefore[n])
            .add("node_rss_kib_held" + k, rssNodesHeld[n])
            .add("node_kib_per_connection" + k,
                 held > 0 ? static_cast<double>(rssNodesHeld[n] - rssNodesBefore[n]) /
                                static_cast<double>(held)
                          : 0.0);
      }
    }
  }
  if (failedCount > 0) {
    stopChildren();
    line.add("status", "failed").add("reason", "connections failed: " + firstFailure).print();
    return kExitFailed;
  }

  // The publisher connects from the default source (127.0.0.1, the backend the server trusts).
  Client client(common.target);
  if (client.open(1, 1, common.openTimeoutS).opened != 1) {
    stopChildren();
    line.add("status", "failed").add("reason", "the publisher could not connect").print();
    return kExitFailed;
  }
  Conn& publisher = *client.conns()[0];
  std::uint64_t seq = 0;
  std::string why;
  auto publish = [&](EventText& text) {
    ++seq;
    shared.ring[seq % kRing].store(0);
    client.send(publisher,
                publishMessage(common.target.wamp, common.topic, text.withSeq(seq), seq));
  };

  // Subscribe: v1 has no acknowledgement, so probes go out until every subscriber got one.
  shared.stage.store(kSubscribing);
  const std::int64_t subscribeStart = nowNs();
  const std::int64_t subscribeDeadline = subscribeStart + secondsToNs(o.subscribeTimeoutS);
  EventText probe(EventText::kMinSize);
  std::int64_t nextProbe = 0;
  while (shared.reached.load() < open && publisher.state == ConnState::Open) {
    const std::int64_t now = nowNs();
    if (now > subscribeDeadline) break;
    if (now >= nextProbe) {
      publish(probe);
      client.flush();
      nextProbe = now + kProbeIntervalNs;
    }
    client.poll(1'000'000);
  }
  const double subscribeSeconds = static_cast<double>(nowNs() - subscribeStart) / 1e9;
  if (shared.reached.load() < open) {
    why = std::to_string(open - shared.reached.load()) + " of " + std::to_string(open) +
          " subscribers never received an event";
    if (publisher.state != ConnState::Open) why += "; publisher: " + publisher.failure;
  }
  // Probes still on their way must not be counted: they carry sequence numbers below this.
  const std::int64_t settle = nowNs() + 2 * kProbeIntervalNs;
  while (nowNs() < settle) client.poll(1'000'000);
  const std::int64_t rssSubscribed = residentKiB(servers[0]);
  line.add("subscribe_seconds", subscribeSeconds)
      .add("rss_kib_subscribed", rssSubscribed)
      .add("kib_per_subscriber",
           open0 > 0 ? static_cast<double>(rssSubscribed - rssBefore) / static_cast<double>(open0)
                     : 0.0);
  if (!why.empty()) {
    stopChildren();
    line.add("status", "failed").add("reason", why).print();
    return kExitFailed;
  }

  // Broadcast: a window of events in flight, each in flight until every subscriber has it.
  const std::size_t perWindow = open * (o.size + kFrameOverhead);
  const std::size_t window =
      std::clamp<std::size_t>(o.maxInFlightBytes / perWindow, 1, std::min(o.window, kRing / 2));
  const auto expected = static_cast<std::uint32_t>(open);
  EventText text(std::max(o.size, EventText::kMinSize));
  shared.firstCounted.store(seq + 1);
  std::uint64_t published = 0;
  // One at a time: from the write of the PUBLISH to the last subscriber's read of the event
  // (as the parent sees the shared count, waking every 0.5 ms: waking more often takes CPU
  // from the children and the nodes, which share the machine's cores).
  std::vector<double> singleMs;
  const std::int64_t singlesBegin = nowNs();
  for (std::size_t k = 0; k < o.singles && publisher.state == ConnState::Open; ++k) {
    publish(text);
    ++published;
    const std::int64_t sent = nowNs();
    client.flush();
    const std::int64_t giveUp = sent + secondsToNs(o.drainS);
    while (shared.ring[seq % kRing].load() < expected && nowNs() < giveUp)
      client.poll(kParentPollNs);
    if (shared.ring[seq % kRing].load() < expected) break;
    singleMs.push_back(static_cast<double>(nowNs() - sent) / 1e6);
  }
  if (!singleMs.empty()) {
    std::vector<double> sorted = singleMs;
    std::sort(sorted.begin(), sorted.end());
    line.add("singles", static_cast<std::uint64_t>(sorted.size()))
        .add("single_to_all_ms_min", sorted.front())
        .add("single_to_all_ms_p50", sorted[sorted.size() / 2])
        .add("single_to_all_ms_max", sorted.back());
  }
  const std::uint64_t firstCounted = seq + 1;
  std::uint64_t oldest = firstCounted;  // the oldest event not yet everywhere
  const std::int64_t begin = nowNs();
  const std::int64_t measureFrom = begin + secondsToNs(common.warmupS);
  std::int64_t measureTo = 0, measuredFrom = 0, measuredTo = 0;
  std::uint64_t delivered0 = 0, delivered1 = 0;
  // Socket buffers come and go with each burst: the most seen over the measured time.
  std::int64_t tcpMemBusy = -1;
  std::int64_t nextTcpMemSample = 0;
  CpuTimes cpu0, cpu1;
  bool publishing = true;
  std::int64_t drainUntil = 0;
  while (true) {
    const std::int64_t now = nowNs();
    while (oldest <= seq && shared.ring[oldest % kRing].load() >= expected) ++oldest;
    const std::uint64_t inFlight = seq + 1 - oldest;
    if (o.events == 0) {
      if (measuredFrom == 0 && now >= measureFrom && oldest > firstCounted) {
        measuredFrom = now;
        measureTo = now + secondsToNs(common.durationS);
        delivered0 = shared.delivered.load();
        cpu0 = cpuOf();
      }
      if (measuredFrom != 0 && measuredTo == 0 && now >= measureTo) {
        measuredTo = now;
        delivered1 = shared.delivered.load();
        cpu1 = cpuOf();
        publishing = false;
      }
      if (measuredFrom != 0 && measuredTo == 0 && now >= nextTcpMemSample) {
        tcpMemBusy = std::max(tcpMemBusy, tcpMemPages());
        nextTcpMemSample = now + kTcpMemSampleNs;
      }
    } else if (publishing && published >= o.events) {
      publishing = false;
    }
    if (!publishing && drainUntil == 0) drainUntil = now + secondsToNs(o.drainS);
    if (!publishing && (inFlight == 0 || now >= drainUntil)) break;
    if (publisher.state != ConnState::Open) break;
    if (publishing) {
      while (seq + 1 - oldest < window && (o.events == 0 || published < o.events)) {
        publish(text);
        ++published;
      }
    }
    client.flush();
    client.poll(kParentPollNs);
  }
  const std::int64_t end = nowNs();
  if (o.events > 0) {
    // Every counted event, the single ones included.
    measuredFrom = singlesBegin;
    measuredTo = end;
    delivered1 = shared.delivered.load();
  }
  const std::uint64_t incomplete = seq + 1 - oldest;
  shared.publishedCounted.store(published);
  shared.stage.store(kStopping);
  std::uint64_t closed = 0, complete = 0, wrong = 0;
  std::string closeReason;
  for (std::size_t i = 0; i < shards; ++i) {
    waitpid(children[i], nullptr, 0);
    const ShardReport& r = shared.shards[i];
    closed += r.closed;
    complete += r.complete;
    wrong += r.wrong;
    if (closeReason.empty()) closeReason = r.closeReason;
  }
  const double seconds = static_cast<double>(measuredTo - measuredFrom) / 1e9;
  const double deliveriesPerS =
      seconds > 0 ? static_cast<double>(delivered1 - delivered0) / seconds : 0.0;
  double serverCpu = -1, serverSys = -1;
  if (cpu0.user >= 0 && cpu1.user >= 0 && seconds > 0) {
    serverSys = (cpu1.system - cpu0.system) / seconds;
    serverCpu = (cpu1.user - cpu0.user) / seconds + serverSys;
  }
  const bool allDelivered = incomplete == 0 && closed == 0 && wrong == 0 && complete == open &&
                            publisher.state == ConnState::Open;
  line.add("size", static_cast<std::uint64_t>(o.size))
      .add("window", static_cast<std::uint64_t>(window))
      .add("published", published)
      .add("deliveries", delivered1 - delivered0)
      .add("seconds", seconds)
      .add("deliveries_per_s", deliveriesPerS)
      .add("events_per_s", deliveriesPerS / static_cast<double>(open))
      .add("server_cpu", serverCpu)
      .add("server_sys_cpu", serverSys)
      .add("tcp_mem_pages_broadcasting_max", tcpMemBusy)
      .add("server_rss_kib_after", residentKiB(servers[0]))
      .add("incomplete", incomplete)
      .add("closed", closed)
      .add("close_reason", closeReason)
      .add("complete_subscribers", complete)
      .add("wrong_subscribers", wrong)
      .add("all_delivered", allDelivered)
      .add("status", allDelivered ? "ok" : "failed")
      .print();
  munmap(memory, sizeof(Shared));
  return allDelivered ? 0 : kExitFailed;
}

}  // namespace wampd::bench
