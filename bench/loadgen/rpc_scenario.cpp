#include "clock.h"
#include "ledger.h"
#include "proc_stats.h"
#include "scenarios.h"

namespace wampd::bench {
namespace {

class Caller final : public MessageHandler {
 public:
  Caller(Client& client, const std::string& procedure) : client_(client), procedure_(procedure) {
    client_.setHandler(this);
  }
  ~Caller() override { client_.setHandler(nullptr); }

  void call(Conn& conn) {
    const std::uint64_t seq = ledger_.add(nowNs(), 1);
    client_.send(conn, callMessage(client_.target().wamp, procedure_, EventText::marker(seq), seq));
  }

  void onMessage(Conn& conn, std::string_view message, std::int64_t readAt) override {
    const Wamp wamp = client_.target().wamp;
    const Kind kind = classify(wamp, message);
    if (kind != Kind::CallResult) {
      if (error_.empty()) error_ = std::string(message.substr(0, 300));
      return;
    }
    std::uint64_t seq = 0;
    const bool found = wamp == Wamp::V1 ? findMarker(message, seq) : requestIdOf(message, seq);
    if (found) ledger_.deliver(seq, readAt);
    if (calling_) call(conn);
  }

  Ledger& ledger() { return ledger_; }
  const std::string& error() const { return error_; }
  bool calling_ = true;

 private:
  Client& client_;
  std::string procedure_;
  Ledger ledger_;
  std::string error_;
};

}  // namespace

int runRpc(const Common& common, const RpcOptions& o) {
  Client client(common.target);
  const OpenResult opened = client.open(o.connections, common.concurrency, common.openTimeoutS);
  if (opened.failed > 0) return failed(common, "rpc", "connections failed: " + opened.firstFailure);
  Caller caller(client, common.procedure);
  for (auto& conn : client.conns())
    for (std::size_t i = 0; i < o.window; ++i) caller.call(*conn);
  client.flush();

  const std::int64_t start = nowNs();
  const std::int64_t from = start + secondsToNs(common.warmupS);
  const std::int64_t to = from + secondsToNs(common.durationS);
  while (nowNs() < from && caller.error().empty()) {
    client.poll(common.spin ? 0 : 1'000'000);
    client.flush();
  }
  caller.ledger().start();
  const double server0 = cpuSeconds(common.serverPid);
  const std::int64_t idle0 = client.idleNs();
  const std::int64_t measuredFrom = nowNs();
  while (nowNs() < to && caller.error().empty()) {
    client.poll(common.spin ? 0 : 1'000'000);
    client.flush();
  }
  caller.ledger().stop();
  const std::int64_t measuredTo = nowNs();
  const double seconds = static_cast<double>(measuredTo - measuredFrom) / 1e9;
  const double serverCpu = (cpuSeconds(common.serverPid) - server0) / seconds;
  const double clientBusy = 1 - static_cast<double>(client.idleNs() - idle0) / 1e9 / seconds;
  caller.calling_ = false;
  if (!caller.error().empty()) return failed(common, "rpc", "call failed: " + caller.error());

  const Histogram& latency = caller.ledger().latency();
  resultLine(common, "rpc")
      .add("connections", static_cast<std::uint64_t>(o.connections))
      .add("window", static_cast<std::uint64_t>(o.window))
      .add("calls", caller.ledger().counted())
      .add("seconds", seconds)
      .add("calls_per_s", caller.ledger().counted() / seconds)
      .add("p50_us", latency.quantile(0.5) / 1e3)
      .add("p99_us", latency.quantile(0.99) / 1e3)
      .add("max_us", latency.max() / 1e3)
      .add("server_cpu", serverCpu)
      .add("client_busy", clientBusy)
      .print();
  return 0;
}

}  // namespace wampd::bench
