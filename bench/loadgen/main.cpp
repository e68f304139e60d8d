// wampd-loadgen: the benchmark's load client. See docs/BENCHMARKS.md; scripts/bench runs it.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "scenarios.h"

using namespace wampd::bench;

namespace {

void addCommon(CLI::App& app, Common& c, std::string& wamp) {
  app.add_option("--host", c.target.host, "Server address (IPv4)");
  app.add_option("--port", c.target.port, "Server port")->required();
  app.add_option("--path", c.target.path, "Upgrade URL path");
  app.add_option("--wamp", wamp, "v1 (subprotocol wamp) or v2 (wamp.2.json)")
      ->check(CLI::IsMember({"v1", "v2"}));
  app.add_option("--realm", c.target.realm, "v2 realm");
  app.add_option("--label", c.label, "Server name in the results");
  app.add_option("--topic", c.topic, "Topic to publish and subscribe");
  app.add_option("--procedure", c.procedure, "Procedure for rpc");
  app.add_option("--server-pid", c.serverPid, "Server process for memory and CPU readings");
  app.add_option("--concurrency", c.concurrency, "Handshakes under way at once");
  app.add_option("--warmup", c.warmupS, "Seconds before measuring, in every phase");
  app.add_option("--duration", c.durationS, "Seconds measured, in every phase");
  app.add_flag("!--no-spin", c.spin, "Sleep in epoll_wait instead of busy-polling");
  app.add_flag("--tls", c.target.tls, "Speak TLS (wss), not verifying the certificate");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wampd-loadgen: fan-out, latency, RPC, memory and connection measurements"};
  app.require_subcommand(1);
  Common common;
  std::string wamp = "v1";

  auto* probe = app.add_subcommand("probe", "Does the server speak this protocol? (exit 3: no)");
  addCommon(*probe, common, wamp);

  FanoutOptions fanout;
  auto* fan =
      app.add_subcommand("fanout", "Deliveries/s and latency, one publisher to N subscribers");
  addCommon(*fan, common, wamp);
  fan->add_option("--subscribers", fanout.subscribers);
  fan->add_option("--sizes", fanout.sizes, "Event sizes in bytes (the JSON value)")->delimiter(',');
  fan->add_option("--window", fanout.window, "Events in flight in bursts");
  fan->add_option("--max-inflight-bytes", fanout.maxInFlightBytes);
  std::string modes = "burst,one";
  fan->add_option("--modes", modes, "burst, one, or both");
  fan->add_option("--latency-size", fanout.latencySize);
  fan->add_option("--latency-fractions", fanout.latencyFractions,
                  "Open-loop rates as fractions of the burst maximum")
      ->delimiter(',');
  fan->add_option("--latency-rates", fanout.latencyRates, "Open-loop rates in events/s")
      ->delimiter(',');
  fan->add_option("--remote-port", fanout.remotePort,
                  "Another node of the server's cluster: some subscribers connect there");
  fan->add_option("--remote-subscribers", fanout.remoteSubscribers,
                  "How many subscribers connect to --remote-port (latency reported apart)");
  fan->add_option("--other-pids", fanout.otherPids,
                  "More processes whose CPU each phase reports (other_cpu_N)")
      ->delimiter(',');

  SlowOptions slow;
  auto* slw = app.add_subcommand("slow", "Subscribers that stop reading");
  addCommon(*slw, common, wamp);
  slw->add_option("--subscribers", slow.subscribers);
  slw->add_option("--slow", slow.slow);
  slw->add_option("--size", slow.size);
  slw->add_option("--window", slow.window);
  slw->add_option("--stall", slow.stallS, "Seconds measured while the slow ones do not read");
  slw->add_option("--drain", slow.drainS, "Seconds to read the slow subscribers afterwards");

  RpcOptions rpc;
  auto* rp = app.add_subcommand("rpc", "Calls/s to a no-op procedure");
  addCommon(*rp, common, wamp);
  rp->add_option("--connections", rpc.connections);
  rp->add_option("--window", rpc.window, "Calls in flight per connection");

  IdleOptions idle;
  auto* idl = app.add_subcommand("idle", "Server memory over idle connections; set-up rate");
  addCommon(*idl, common, wamp);
  idl->add_option("--connections", idle.connections);
  idl->add_option("--hold", idle.holdS);

  CrowdOptions crowd;
  auto* crw = app.add_subcommand(
      "crowd", "Subscribers over several processes and source addresses, broadcast to all");
  addCommon(*crw, common, wamp);
  crw->add_option("--subscribers", crowd.subscribers);
  crw->add_option("--processes", crowd.processes, "Processes holding the subscribers");
  crw->add_option("--sources", crowd.sources, "Source addresses, one per process in turn")
      ->delimiter(',');
  crw->add_option("--size", crowd.size, "Event size in bytes (the JSON value)");
  crw->add_option("--window", crowd.window, "Events in flight");
  crw->add_option("--events", crowd.events,
                  "Publish exactly this many and check each reached everyone (0: timed)");
  crw->add_option("--settle", crowd.settleS, "Seconds after set-up before memory is read");
  crw->add_option("--ports", crowd.ports,
                  "Cluster nodes' ports: each subscriber process spreads its connections over them")
      ->delimiter(',');
  crw->add_option("--server-pids", crowd.serverPids, "The server process behind each of --ports")
      ->delimiter(',');
  crw->add_option("--subscribe-timeout", crowd.subscribeTimeoutS,
                  "Seconds for every subscriber to receive a first event");
  crw->add_option("--singles", crowd.singles,
                  "Events published one at a time first: time for each to reach everyone");

  CLI11_PARSE(app, argc, argv);
  common.target.wamp = wamp == "v2" ? Wamp::V2 : Wamp::V1;
  if (common.label.empty()) common.label = "server";
  fanout.burst = modes.find("burst") != std::string::npos;
  fanout.oneAtATime = modes.find("one") != std::string::npos;

  if (probe->parsed()) return runProbe(common);
  if (fan->parsed()) return runFanout(common, fanout);
  if (slw->parsed()) return runSlow(common, slow);
  if (rp->parsed()) return runRpc(common, rpc);
  if (idl->parsed()) return runIdle(common, idle);
  if (crw->parsed()) return runCrowd(common, crowd);
  return 1;
}
