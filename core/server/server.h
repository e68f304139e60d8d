// The server, the composition root: owns the transport, the sessions, the broker and the
// dealer, authentication and the reload cycle, and serves one generation of routes and
// plugins at a time; reloads swap in the next one whole.
//
// Threading: everything here runs on the one I/O thread, plugins and handlers included, except
// the reload worker (core/reload) and the ticket verifier's threads (auth/ticket_verifier.h),
// which see only copies of plain data and hand their results back with asio::post.
#pragma once

#include <sys/types.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>

#include "auth/authenticator.h"
#include "auth/ticket_verifier.h"
#include "cluster/cluster_bus.h"
#include "cluster/cluster_calls.h"
#include "reload/file_watcher.h"
#include "reload/generation.h"
#include "reload/reloader.h"
#include "router/broker.h"
#include "router/dealer.h"
#include "server/dashboard.h"
#include "session/session.h"
#include "transport/transport.h"

namespace wampd::core {

inline constexpr const char* kServerVersion = "0.1.0";
inline constexpr const char* kServerIdent = "wampd/0.1.0";

class Server final : private TransportListener, private SessionHost {
 public:
  Server(asio::io_context& io, ConfigSource source, std::shared_ptr<const Generation> generation);
  ~Server();

  /// Binds and accepts. Throws std::runtime_error when the address cannot be bound.
  void start();
  std::uint16_t port() const { return transport_.boundPort(); }
  /// Starts the drain: fails the calls whose callee is leaving, ends every session so that its
  /// client comes back (Session::shutdown), and lets the I/O loop end once all have closed or
  /// when server.shutdown_timeout is up. Meanwhile the port stays open: /health says 503
  /// draining, handshakes are refused with 503, and a new wampd may bind beside this one.
  void shutdown();
  /// Rebuilds routes and plugins from the config (see Reloader); SIGHUP calls this.
  void reload(const std::string& trigger) { reloader_.request(trigger); }

 private:
  /// The drain is over (no session left): closes the port.
  void endDrain() noexcept;
  struct PendingSession;
  struct Verification;
  HandshakeAnswer onHandshake(const HandshakeRequest& request) override;
  /// GET /health, GET /metrics, /api/* and /dashboard (http_api.cpp); other requests get the
  /// WebSocket answer (426).
  std::optional<HttpResponse> onHttpRequest(const HttpRequest& request) override;
  HttpResponse apiRequest(const HttpRequest& request, std::string_view path);
  void onWritten() noexcept override { broker_.writesDone(); }
  /// Counts a refused handshake under `reason` (a metrics label) and returns `answer`.
  HandshakeAnswer refused(HandshakeAnswer answer, const char* reason);
  /// The accepted half of onHandshake: promises a session id and, for v1, its WELCOME.
  HandshakeAnswer admit(Identity identity, PendingSession pending, bool mustAuthenticate,
                        const std::string& subprotocol, const std::string& remoteAddress);
  /// Queues a ticket's digest on the verifier; the handshake completes in onVerdict.
  HandshakeAnswer verifyLater(const HandshakeRequest& request, auth::Decision decision,
                              PendingSession pending, const std::string& subprotocol);
  void onVerdict(Verification& verification);
  void onOpen(Link& link, std::uint64_t token) override;
  void onAbandoned(std::uint64_t token) override { pending_.erase(token); }
  void onMessage(Link& link, std::string_view payload, bool binary) override;
  void onClose(Link& link, std::uint16_t code, std::string_view reason) override;

  bool builtin(Session& session, const std::string& uri, const Array& args,
               CallReply reply) override;
  Session* findSession(SessionId id) override;
  const auth::Authenticator& authenticator() const override { return *authenticator_; }
  const std::vector<std::string>& realms() const override { return generation_->config.realms; }

  Value topicsTable() const;
  /// The Prometheus exposition /metrics answers.
  std::string metricsText() const;
  Value statistics() const;
  /// What this node reports to the others each second (cluster mode).
  Value nodeReport() const;
  SessionId newSessionId();
  /// Swaps `next` in on the I/O thread and returns the reload's status line. Everything that
  /// can fail (files, users, plugins) was done while building `next`: a swap that threw would
  /// leave the I/O loop with half a generation in place.
  std::string swap(std::shared_ptr<const Generation> next, const std::string& trigger) noexcept;
  /// The swap's side effects that may fail (cookie, watches, the status line).
  std::string report(const Generation& previous, const Broker::Migration& migration,
                     std::chrono::microseconds stalled, const std::string& trigger);
  void watchFiles();
  void writeCookie();

  asio::io_context& io_;
  std::shared_ptr<const Generation> generation_;
  std::shared_ptr<const auth::Authenticator> authenticator_;  // the generation's
  Broker broker_;
  // Cluster mode (config cluster:), else null. Destroyed after the sessions, which leave
  // their topics through it, and before the broker it delivers to.
  std::unique_ptr<cluster::ClusterBus> cluster_;
  Dealer dealer_;
  // RPC across nodes (cluster mode), else null. Destroyed before the dealer that holds it.
  std::unique_ptr<cluster::ClusterCalls> calls_;
  Transport transport_;
  std::unordered_map<SessionId, std::unique_ptr<Session>> sessions_;
  // Handshakes accepted whose connection is not open yet: session ids already promised in
  // the WELCOME that left with the 101.
  struct PendingSession {
    Identity identity;
    int version = 1;
    wamp2::Serializer serializer = wamp2::Serializer::Json;
    bool mustAuthenticate = false;
  };
  std::unordered_map<SessionId, PendingSession> pending_;
  std::mt19937_64 random_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  bool shuttingDown_ = false;
  std::uint64_t handshakesAccepted_ = 0;
  std::map<std::string, std::uint64_t> handshakesRefused_;  // by reason
  std::string cookie_;  // the backend cookie this server wrote; removed when it stops
  std::pair<dev_t, ino_t> cookieFile_{};  // the file it wrote (another may replace it)
  std::unique_ptr<asio::steady_timer> shutdownDeadline_;
  // Verdicts posted after the server is gone find this expired and do nothing.
  std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
  // auth.verifier_* are read at start (a reload does not resize the pool).
  std::unique_ptr<auth::TicketVerifier> verifier_;
  Reloader reloader_;
  FileWatcher watcher_;
  Dashboard dashboard_{defaultWwwDirectory()};
};

}  // namespace wampd::core
