// One publisher and many subscribers on one topic, and the phases that drive them: bursts
// with a window of in-flight events, one event at a time, or a fixed publication rate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "client.h"
#include "ledger.h"

namespace wampd::bench {

struct Phase {
  std::size_t eventSize = 64;
  /// Events in flight at most (1: one at a time); ignored when `rate` is set.
  std::size_t window = 1;
  /// Events per second, published on schedule whatever is in flight (open loop); 0: closed loop.
  double rate = 0;
  double warmupS = 0.5;
  double durationS = 2;
  /// How long to wait, after the measured time, for events still in flight.
  double drainS = 10;
  /// Called about every `tickS` seconds while the phase runs (e.g. to sample server memory).
  double tickS = 0;
  std::function<void(std::int64_t now)> onTick;
};

struct PhaseResult {
  std::uint64_t published = 0;   // during the whole phase
  std::uint64_t deliveries = 0;  // counted during the measured time
  double seconds = 0;
  double serverCpu = -1;         // fraction of one core, over the measured time
  double serverSystem = -1;      // the part of serverCpu spent in the kernel
  double clientBusy = 0;         // fraction of the measured time the client had work (see idleNs)
  std::uint64_t incomplete = 0;  // events still missing a delivery after the drain
  std::uint64_t strays = 0;
  std::size_t closed = 0;  // counted subscribers that the server closed during the phase
  Histogram latency;
  /// Latency of the subscribers on the publisher's server (0) and on other nodes (1).
  Histogram groupLatency[Ledger::kGroups];
  /// CPU of the processes given to FanoutRig::setOtherPids, fractions of one core, over the
  /// measured time (user + kernel).
  std::vector<double> otherCpu;
  double deliveriesPerSecond() const { return seconds > 0 ? deliveries / seconds : 0; }
};

class FanoutRig final : public MessageHandler {
 public:
  /// Connections [0, subscribers) of `client` subscribe; the one after them publishes.
  FanoutRig(Client& client, std::string topic, std::size_t subscribers, pid_t serverPid);
  ~FanoutRig() override;

  /// Subscribes everyone and publishes probes until every subscriber has received one (v1
  /// has no subscription acknowledgement). False with `why` on failure.
  bool subscribeAll(double timeoutS, std::string& why);

  /// Deliveries to a subscriber that is not counted are read and ignored: no window waits
  /// for them.
  void setCounted(std::size_t subscriber, bool counted);
  std::size_t countedOpen() const;
  /// Subscriber `subscriber` is on another node than the publisher: its latency is kept apart.
  void setGroup(std::size_t subscriber, int group) {
    group_[subscriber] = static_cast<std::uint8_t>(group);
  }
  /// More processes whose CPU is read over each phase's measured time (a cluster's other
  /// nodes and its Redis).
  void setOtherPids(std::vector<pid_t> pids) { otherPids_ = std::move(pids); }

  PhaseResult run(const Phase& phase);
  const std::string& publishError() const { return publishError_; }
  void setSpin(bool spin) { spin_ = spin; }

  void onMessage(Conn& conn, std::string_view message, std::int64_t readAt) override;
  void onClosed(Conn& conn) override;

 private:
  void publish(std::string_view eventJson);
  Conn& publisher() { return *client_.conns()[subscribers_]; }

  Client& client_;
  std::string topic_;
  std::size_t subscribers_;
  pid_t serverPid_;
  std::vector<bool> counted_;
  std::vector<std::uint8_t> group_;
  std::vector<pid_t> otherPids_;
  std::vector<std::uint32_t> eventsSeen_;
  std::size_t subscribersReached_ = 0;
  std::size_t subscribedAcks_ = 0;
  std::size_t countedClosed_ = 0;
  std::uint64_t requestId_ = 1;
  bool spin_ = true;
  std::string publishError_;
  std::string subscribeError_;
  Ledger ledger_;
};

}  // namespace wampd::bench
