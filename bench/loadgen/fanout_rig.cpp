#include "fanout_rig.h"

#include <algorithm>

#include "clock.h"
#include "proc_stats.h"

namespace wampd::bench {
namespace {

constexpr std::int64_t kProbeIntervalNs = 20'000'000;
constexpr std::int64_t kMaxPollNs = 1'000'000;
constexpr double kMaxWarmupS = 15;

}  // namespace

FanoutRig::FanoutRig(Client& client, std::string topic, std::size_t subscribers, pid_t serverPid)
    : client_(client),
      topic_(std::move(topic)),
      subscribers_(subscribers),
      serverPid_(serverPid),
      counted_(subscribers, true),
      group_(subscribers, 0),
      eventsSeen_(subscribers, 0) {
  client_.setHandler(this);
}

FanoutRig::~FanoutRig() {
  client_.setHandler(nullptr);
}

void FanoutRig::setCounted(std::size_t subscriber, bool counted) {
  counted_[subscriber] = counted;
}

std::size_t FanoutRig::countedOpen() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < subscribers_; ++i)
    if (counted_[i] && client_.conns()[i]->state == ConnState::Open) ++n;
  return n;
}

bool FanoutRig::subscribeAll(double timeoutS, std::string& why) {
  const Wamp wamp = client_.target().wamp;
  for (std::size_t i = 0; i < subscribers_; ++i)
    client_.send(*client_.conns()[i], subscribeMessage(wamp, topic_, requestId_++));
  client_.flush();
  const std::int64_t deadline = nowNs() + secondsToNs(timeoutS);
  if (wamp == Wamp::V2) {
    while (subscribedAcks_ < subscribers_ && subscribeError_.empty() && nowNs() < deadline)
      client_.poll(kMaxPollNs);
    if (!subscribeError_.empty()) {
      why = "SUBSCRIBE failed: " + subscribeError_;
      return false;
    }
  }
  ledger_.reset();
  EventText probe(EventText::kMinSize);
  std::int64_t nextProbe = 0;
  while (subscribersReached_ < subscribers_) {
    const std::int64_t now = nowNs();
    if (now > deadline || publisher().state != ConnState::Open || !publishError_.empty()) break;
    if (now >= nextProbe) {
      publish(probe.withSeq(ledger_.add(now, 0)));
      client_.flush();
      nextProbe = now + kProbeIntervalNs;
    }
    client_.poll(kMaxPollNs);
  }
  if (subscribersReached_ < subscribers_) {
    why = std::to_string(subscribers_ - subscribersReached_) + " of " +
          std::to_string(subscribers_) + " subscribers never received an event";
    if (!publishError_.empty()) why += "; publish refused: " + publishError_;
    if (publisher().state != ConnState::Open) why += "; publisher: " + publisher().failure;
    for (std::size_t i = 0; i < subscribers_; ++i) {
      const Conn& c = *client_.conns()[i];
      if (c.state != ConnState::Open) {
        why += "; subscriber: " + c.failure;
        break;
      }
    }
    return false;
  }
  // Let the last probes arrive before anything is measured.
  const std::int64_t settle = nowNs() + 2 * kProbeIntervalNs;
  while (nowNs() < settle) client_.poll(kMaxPollNs);
  return true;
}

void FanoutRig::publish(std::string_view eventJson) {
  client_.send(publisher(), publishMessage(client_.target().wamp, topic_, eventJson, requestId_++));
}

PhaseResult FanoutRig::run(const Phase& phase) {
  PhaseResult result;
  ledger_.reset();
  countedClosed_ = 0;
  const auto expected = static_cast<std::uint32_t>(countedOpen());
  EventText text(phase.eventSize);

  const std::int64_t start = nowNs();
  const std::int64_t measureFrom = start + secondsToNs(phase.warmupS);
  const std::int64_t warmupCap = start + secondsToNs(kMaxWarmupS);
  std::int64_t measureTo = 0;
  const std::int64_t tickNs = phase.tickS > 0 ? secondsToNs(phase.tickS) : 0;
  std::int64_t nextTick = start;
  std::int64_t drainUntil = 0;
  std::int64_t measuredFrom = 0, measuredTo = 0;
  CpuTimes serverCpu0;
  std::vector<double> otherCpu0(otherPids_.size(), -1);
  std::int64_t clientIdle0 = 0;
  bool publishing = true;
  std::uint64_t scheduled = 0;

  while (true) {
    const std::int64_t now = nowNs();
    // Measuring starts after the warm-up, and not before the first event has reached every
    // subscriber: with 10,000 subscribers a slow server takes seconds over one window.
    const bool steady = ledger_.published() > ledger_.inFlight() || now >= warmupCap;
    if (measuredFrom == 0 && now >= measureFrom && steady) {
      measuredFrom = now;
      serverCpu0 = cpuTimes(serverPid_);
      for (std::size_t i = 0; i < otherPids_.size(); ++i) otherCpu0[i] = cpuSeconds(otherPids_[i]);
      clientIdle0 = client_.idleNs();
      measureTo = now + secondsToNs(phase.durationS);
      ledger_.start();
    }
    if (measuredFrom != 0 && measuredTo == 0 && now >= measureTo) {
      ledger_.stop();
      measuredTo = now;
      const double wall = static_cast<double>(measuredTo - measuredFrom) / 1e9;
      const CpuTimes serverCpu1 = cpuTimes(serverPid_);
      if (serverCpu0.user >= 0 && serverCpu1.user >= 0) {
        result.serverSystem = (serverCpu1.system - serverCpu0.system) / wall;
        result.serverCpu = (serverCpu1.user - serverCpu0.user) / wall + result.serverSystem;
      }
      for (std::size_t i = 0; i < otherPids_.size(); ++i) {
        const double cpu1 = cpuSeconds(otherPids_[i]);
        result.otherCpu.push_back(cpu1 >= 0 && otherCpu0[i] >= 0 ? (cpu1 - otherCpu0[i]) / wall
                                                                 : -1);
      }
      result.clientBusy = 1 - static_cast<double>(client_.idleNs() - clientIdle0) / 1e9 / wall;
      publishing = false;
      drainUntil = now + secondsToNs(phase.drainS);
    }
    if (!publishing && (ledger_.inFlight() == 0 || now >= drainUntil)) break;
    if (countedClosed_ > 0 || publisher().state != ConnState::Open) break;
    if (tickNs > 0 && now >= nextTick && phase.onTick) {
      phase.onTick(now);
      nextTick = now + tickNs;
    }

    std::int64_t wait = kMaxPollNs;
    if (publishing) {
      if (phase.rate > 0) {
        const auto due =
            static_cast<std::uint64_t>(static_cast<double>(now - start) / 1e9 * phase.rate) + 1;
        while (scheduled < due) {
          ++scheduled;
          publish(text.withSeq(ledger_.add(now, expected)));
        }
        const auto nextDue =
            start + static_cast<std::int64_t>(static_cast<double>(scheduled) / phase.rate * 1e9);
        wait = std::min(wait, std::max<std::int64_t>(0, nextDue - now));
      } else {
        while (ledger_.inFlight() < phase.window) publish(text.withSeq(ledger_.add(now, expected)));
      }
      if (measuredFrom != 0) wait = std::min(wait, std::max<std::int64_t>(0, measureTo - now));
    }
    client_.flush();
    // The client spins while it expects deliveries: sleeping in epoll_wait and being woken
    // for each delivery would cost more than the server's write, and the client has a
    // core of its own.
    client_.poll(spin_ && (publishing || ledger_.inFlight() > 0) ? 0 : wait);
  }
  result.published = ledger_.published();
  result.deliveries = ledger_.counted();
  result.seconds =
      measuredTo > measuredFrom ? static_cast<double>(measuredTo - measuredFrom) / 1e9 : 0;
  result.incomplete = ledger_.inFlight();
  result.strays = ledger_.strays();
  result.closed = countedClosed_;
  result.latency = ledger_.latency();
  for (int g = 0; g < Ledger::kGroups; ++g) result.groupLatency[g] = ledger_.latency(g);
  return result;
}

void FanoutRig::onMessage(Conn& conn, std::string_view message, std::int64_t readAt) {
  const Kind kind = classify(client_.target().wamp, message);
  if (conn.index >= subscribers_) {
    if (kind == Kind::Error && publishError_.empty())
      publishError_ = std::string(message.substr(0, 300));
    return;
  }
  if (kind == Kind::Event) {
    if (eventsSeen_[conn.index]++ == 0) ++subscribersReached_;
    if (!counted_[conn.index]) return;
    std::uint64_t seq = 0;
    if (findMarker(message, seq)) ledger_.deliver(seq, readAt, group_[conn.index]);
    return;
  }
  if (kind == Kind::Subscribed) {
    ++subscribedAcks_;
  } else if (kind == Kind::Error && subscribeError_.empty()) {
    subscribeError_ = std::string(message.substr(0, 300));
  }
}

void FanoutRig::onClosed(Conn& conn) {
  if (conn.index < subscribers_ && counted_[conn.index]) ++countedClosed_;
}

}  // namespace wampd::bench
