// The load client's measurements. Each prints its results as JSON lines (see ResultLine)
// and returns the process exit code: 0, 2 when the run failed, 3 when the server does not
// speak the requested protocol.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "client.h"
#include "result_line.h"

namespace wampd::bench {

struct Common {
  Target target;
  std::string label;  // names the server in every result line
  std::string topic = "oro/data/update";
  std::string procedure = "bench/noop";
  pid_t serverPid = 0;            // for memory and CPU readings; 0: none
  std::size_t concurrency = 200;  // handshakes under way at once
  double openTimeoutS = 60;
  double warmupS = 0.5;
  double durationS = 2;
  /// Busy-poll while deliveries are expected instead of sleeping in epoll_wait.
  bool spin = true;
};

inline constexpr int kExitFailed = 2;
inline constexpr int kExitUnsupported = 3;

/// A result line already carrying the server's label and the protocol.
ResultLine resultLine(const Common& common, const char* scenario);
/// Prints an error line for `scenario` and returns kExitFailed.
int failed(const Common& common, const char* scenario, const std::string& why);

/// Opens a publisher and a subscriber and passes one event: does the server speak this
/// protocol? Exit kExitUnsupported when not.
int runProbe(const Common& common);

struct FanoutOptions {
  std::size_t subscribers = 1000;
  std::vector<std::size_t> sizes{64, 1024};
  bool burst = true;
  bool oneAtATime = true;
  std::size_t window = 32;
  /// Caps the window so that subscribers x window x frame stays under this many bytes.
  std::size_t maxInFlightBytes = 64u << 20;
  std::size_t latencySize = 64;
  /// Open-loop rates as fractions of the burst's measured events/s at latencySize.
  std::vector<double> latencyFractions;
  /// Open-loop rates in events/s (e.g. another server's, for latency at equal load).
  std::vector<double> latencyRates;
  /// A cluster: this many of the subscribers connect to another node at `remotePort` (the
  /// publisher stays on Common's port); their latency is reported apart.
  std::size_t remoteSubscribers = 0;
  int remotePort = 0;
  /// Processes whose CPU is reported over each phase too (other nodes, Redis).
  std::vector<int> otherPids;
};
int runFanout(const Common& common, const FanoutOptions& options);

struct SlowOptions {
  std::size_t subscribers = 100;
  std::size_t slow = 1;
  std::size_t size = 1024;
  std::size_t window = 32;
  /// Seconds measured with everyone reading, then as long with the slow subscribers not
  /// reading: long enough for their queues to reach the server's limit.
  double stallS = 10;
  double sampleS = 0.25;
  double drainS = 5;
};
/// Subscribers that stop reading: the others' deliveries/s before and after, the server's
/// memory meanwhile, and how the server dealt with the slow ones.
int runSlow(const Common& common, const SlowOptions& options);

struct RpcOptions {
  std::size_t connections = 1;
  std::size_t window = 1;
};
int runRpc(const Common& common, const RpcOptions& options);

struct IdleOptions {
  std::size_t connections = 10000;
  double settleS = 1;
  double holdS = 2;
};
/// Server memory over idle connections, and the rate at which they were opened.
int runIdle(const Common& common, const IdleOptions& options);

struct CrowdOptions {
  std::size_t subscribers = 19000;
  /// Processes holding the subscribers (forked); each needs a descriptor per connection.
  std::size_t processes = 4;
  /// Source addresses, one per process in turn; none: the kernel's choice.
  std::vector<std::string> sources;
  std::size_t size = 64;
  std::size_t window = 32;
  std::size_t maxInFlightBytes = 64u << 20;
  /// Publish exactly this many events and check each reached everyone; 0: publish for
  /// Common::durationS after the warm-up and report the rate.
  std::uint64_t events = 0;
  double settleS = 1;
  double subscribeTimeoutS = 120;
  double drainS = 30;
  /// A cluster: each subscriber process spreads its connections evenly over these ports (at
  /// most 16); the publisher stays on Common's port. Empty: everyone on Common's port.
  std::vector<int> ports;
  /// The server process behind each of `ports` (memory per connection per node, CPU); when
  /// given, Common::serverPid is ignored.
  std::vector<int> serverPids;
  /// Before the broadcast, this many events one at a time: the time each takes to reach
  /// every subscriber.
  std::size_t singles = 0;
};
/// Subscribers spread over several processes and source addresses, one publisher: set-up
/// rate, server and kernel memory per connection, deliveries/s broadcasting to all, and
/// whether every event reached every subscriber exactly once.
int runCrowd(const Common& common, const CrowdOptions& options);

}  // namespace wampd::bench
