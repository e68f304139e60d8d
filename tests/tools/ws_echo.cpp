// wampd-ws-echo PORT: an echo server on wampd's own WebSocket transport, the testee for
// WebSocket conformance suites (Autobahn|Testsuite's fuzzingclient) and for the framing tests.
// Every text or binary message comes back as it came, up to 16 MiB; no subprotocol, no WAMP.
// Test-only: built with the tests into the build tree's bin/, never installed.
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>
#include <string>
#include <string_view>

#include "common/errors.h"
#include "transport/transport.h"

namespace {

using namespace wampd::core;

// Conformance suites send messages of up to 16 MiB (Autobahn's 9.x cases).
constexpr std::size_t kMaxMessageSize = 16 * 1024 * 1024;

class Echo final : public TransportListener {
 public:
  HandshakeAnswer onHandshake(const HandshakeRequest&) override {
    // Offered subprotocols are ignored: the answer names none, which RFC 6455 allows.
    return HandshakeAnswer{};
  }
  void onOpen(Link& link, std::uint64_t) override { links_.insert(&link); }
  void onAbandoned(std::uint64_t) override {}
  void onMessage(Link& link, std::string_view payload, bool binary) override {
    if (binary)
      link.sendBinary(std::string(payload));
    else
      link.sendText(std::string(payload));
  }
  void onClose(Link& link, std::uint16_t, std::string_view) override {
    links_.erase(&link);
    // The backstop timer is the last work keeping io.run() going once all have closed.
    if (deadline_ && links_.empty()) deadline_->cancel();
  }

  /// Closes every connection; `deadline` is cancelled when the last one has gone.
  void shutdown(asio::steady_timer& deadline) {
    const FaultInfo& info = describe(Fault::ServerShutdown);
    // close() never calls back (transport.h), so links_ does not change under the loop.
    for (Link* link : links_) link->close(info.closeCode, info.reason);
    if (links_.empty())
      deadline.cancel();
    else
      deadline_ = &deadline;
  }

 private:
  std::set<Link*> links_;
  asio::steady_timer* deadline_ = nullptr;
};

int run(std::uint16_t port) {
  asio::io_context io(ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  // Before the echo and the transport, which may use it until they are gone.
  asio::steady_timer deadline(io);
  Echo echo;
  TransportOptions options;
  options.port = port;
  options.maxMessageSize = kMaxMessageSize;
  options.serverHeader = "wampd-ws-echo";
  // The echo of a whole 16 MiB message is queued at once, beside what came before it.
  options.maxQueuedBytes = 4 * kMaxMessageSize;
  Transport transport(io, echo, options);

  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](const asio::error_code& ec, int) {
    if (ec) return;
    transport.stopListening();
    // The transport ends each connection within its close timeout; this is the backstop.
    deadline.expires_after(options.closeTimeout + std::chrono::seconds(1));
    deadline.async_wait([&](const asio::error_code& error) {
      if (!error) io.stop();
    });
    echo.shutdown(deadline);
  });
  transport.listen();
  std::printf("wampd-ws-echo listening on ws://%s:%u/\n", options.host.c_str(),
              static_cast<unsigned>(transport.boundPort()));
  std::fflush(stdout);
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  char* end = nullptr;
  const long port = argc == 2 ? std::strtol(argv[1], &end, 10) : -1;
  if (argc != 2 || *end != '\0' || port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: wampd-ws-echo PORT   (0: any free port, printed)\n");
    return 2;
  }
  try {
    return run(static_cast<std::uint16_t>(port));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wampd-ws-echo: %s\n", e.what());
    return 1;
  }
}
