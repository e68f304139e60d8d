#include "server/server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <set>

#include "auth/backend_cookie.h"
#include "common/errors.h"
#include "common/log_fields.h"
#include "common/metrics_text.h"
#include "session/wamp1_session.h"
#include "session/wamp2_session.h"
#include "wamp/v1_codec.h"
#include "wampd/abi_version.h"

namespace wampd::core {
namespace {

TransportLimits transportLimits(const ServerConfig& config) {
  TransportLimits limits;
  limits.pingInterval = config.pingInterval;
  limits.pongTimeout = config.pongTimeout;
  limits.writeTimeout = config.writeTimeout;
  limits.httpKeepAliveTimeout = config.httpKeepAliveTimeout;
  limits.maxConnections = config.maxConnections;
  limits.maxConnectionsPerAddress = config.maxConnectionsPerIp;
  limits.handshakesPerSecond = config.handshakeRatePerIp;
  return limits;
}

TransportOptions transportOptions(const ServerConfig& config) {
  TransportOptions o;
  o.host = config.host;
  o.port = config.port;
  for (const ListenConfig& listener : config.listeners())
    o.listeners.push_back({listener.host, listener.port, listener.tls});
  o.maxMessageSize = config.maxMessageSize;
  o.serverHeader = kServerIdent;
  o.limits = transportLimits(config);
  return o;
}

auth::VerifierLimits verifierLimits(const AuthConfig& auth) {
  auth::VerifierLimits limits;
  limits.threads = auth.verifierThreads;
  limits.maxQueued = auth.verifierQueue;
  limits.maxPerAddress = auth.verifierPerAddress;
  // For tests only: shows that the I/O thread serves on while verifications are pending.
  if (const char* delay = std::getenv("WAMPD_TEST_VERIFY_DELAY_MS"))
    limits.testDelay = std::chrono::milliseconds(std::atol(delay));
  return limits;
}

}  // namespace

// A ticketed handshake between its cheap checks (I/O thread) and its verdict. Built and read
// on the I/O thread; a verifier thread only carries it to asio::post.
struct Server::Verification {
  std::weak_ptr<PendingHandshake> handshake;
  std::string remoteAddress;
  std::string subprotocol;
  Identity identity;
  PendingSession pending;
  bool mustAuthenticate = false;
  std::string failure;
  auth::Verdict verdict = auth::Verdict::Cancelled;
};

Server::Server(asio::io_context& io, ConfigSource source,
               std::shared_ptr<const Generation> generation)
    : io_(io),
      generation_(std::move(generation)),
      authenticator_(generation_->authenticator),
      broker_(io, BrokerLimits{}),
      dealer_(io),
      transport_(io, *this, transportOptions(generation_->config)),
      random_(std::random_device{}()),
      verifier_(std::make_unique<auth::TicketVerifier>(verifierLimits(generation_->config.auth))),
      reloader_(io, std::move(source),
                [this](std::shared_ptr<const Generation> next, const std::string& trigger) {
                  return swap(std::move(next), trigger);
                }),
      watcher_(io, [this](const std::string& path) { reloader_.request("change of " + path); }) {
  broker_.setGeneration(generation_);
  if (const ClusterConfig& c = generation_->config.cluster; c.enabled) {
    cluster::ClusterSettings settings;
    std::string error;
    if (!cluster::parseRedisUrl(c.redis, settings.redis, error))  // checked when loaded
      throw std::runtime_error("cluster.redis: " + error);
    if (!c.password.empty()) settings.redis.password = c.password;
    settings.prefix = c.prefix;
    settings.node = c.node;
    cluster::ClusterCalls::Settings calls{settings.redis, settings.prefix, "", "",
                                          c.maxPendingCalls};
    cluster_ = std::make_unique<cluster::ClusterBus>(io, std::move(settings), broker_,
                                                     [this] { return nodeReport(); });
    broker_.setCluster(cluster_.get());
    calls.nodeId = cluster_->nodeId();
    calls.nodeName = cluster_->nodeName();
    calls_ = std::make_unique<cluster::ClusterCalls>(
        io, std::move(calls), dealer_, [this](const std::string& id) -> std::optional<bool> {
          const Value nodes = cluster_->nodes();
          for (const Value& node : *nodes.array())
            if (node.find("id")->asString() == id) return !node.find("stale")->asBool();
          return std::nullopt;
        });
    dealer_.setCluster(calls_.get());
  }
  dealer_.setGeneration(generation_);
  transport_.setTlsContext(generation_->tls);
  reloader_.setCurrent(generation_);
  reloader_.setBusyCheck([this] { return watcher_.busy(); });
}

void Server::start() {
  transport_.listen();
  if (cluster_) cluster_->start();
  if (calls_) calls_->start();
  cookie_ = auth::cookiePath(transport_.boundPort());
  writeCookie();
  watchFiles();
  spdlog::info("dashboard at /dashboard, files from {}", dashboard_.root());
}

void Server::writeCookie() {
  std::string error;
  if (auth::writeCookie(cookie_, authenticator_->backendToken(), error)) {
    struct stat written {};
    if (::stat(cookie_.c_str(), &written) == 0) cookieFile_ = {written.st_dev, written.st_ino};
    spdlog::info("backend token for wampctl written to {}", cookie_);
  } else {
    spdlog::warn("cannot write the backend cookie ({}); wampctl needs auth.secret or --token",
                 error);
  }
}

Server::~Server() {
  // Only the file this server wrote: a wampd that took the port beside this one while it
  // drained has written its own since (rename: another inode), and keeps serving.
  struct stat now {};
  if (!cookie_.empty() && ::stat(cookie_.c_str(), &now) == 0 &&
      std::pair(now.st_dev, now.st_ino) == cookieFile_)
    ::unlink(cookie_.c_str());
}

void Server::watchFiles() {
  const ServerConfig& config = generation_->config;
  std::vector<std::string> files{config.file}, directories = config.pluginDirectories;
  if (!config.auth.usersFile.empty()) files.push_back(config.auth.usersFile);
  std::error_code ec;
  for (const std::string& path : config.routing)
    (std::filesystem::is_directory(path, ec) ? directories : files).push_back(path);
  if (!watcher_.watch(files, directories))
    spdlog::warn("inotify is unavailable: reload with SIGHUP or `wampctl reload`");
}

std::string Server::swap(std::shared_ptr<const Generation> next,
                         const std::string& trigger) noexcept {
  const auto started = std::chrono::steady_clock::now();
  const std::shared_ptr<const Generation> previous = std::move(generation_);
  generation_ = next;
  authenticator_ = next->authenticator;
  const Broker::Migration migration = broker_.setGeneration(std::move(next));
  dealer_.setGeneration(generation_);
  // Timeouts from the next tick on, limits for the next handshakes.
  transport_.setLimits(transportLimits(generation_->config));
  // New TLS connections get the new certificate; open ones keep theirs. Without server.tls
  // TLS listeners (still open until a restart) keep the last one.
  if (generation_->tls) transport_.setTlsContext(generation_->tls);
  const auto stalled = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  // The new generation serves from here on, whatever happens to its report.
  try {
    return report(*previous, migration, stalled, trigger);
  } catch (const std::exception& e) {
    spdlog::error("reload ({}): generation {} serving; its report failed: {}", trigger,
                  generation_->number, e.what());
    return {};
  }
}

std::string Server::report(const Generation& previous, const Broker::Migration& migration,
                           std::chrono::microseconds stalled, const std::string& trigger) {
  const Generation* next = generation_.get();
  const ServerConfig& config = next->config;
  const LogFields about{LogFields::number("generation", next->number)};
  if (authenticator_->backendToken() != auth::readCookie(cookie_).value_or("")) writeCookie();
  watchFiles();
  for (const auto& warning : next->warnings) spdlog::warn("{}", warning);
  if (config.host != previous.config.host || config.port != previous.config.port ||
      config.maxMessageSize != previous.config.maxMessageSize)
    spdlog::warn(
        "reload: server.host, server.port and server.max_message_size take effect at restart");
  const auto listeners = config.listeners(), before = previous.config.listeners();
  if (listeners.size() != before.size() ||
      !std::equal(listeners.begin(), listeners.end(), before.begin(),
                  [](const ListenConfig& a, const ListenConfig& b) {
                    return a.host == b.host && a.port == b.port && a.tls == b.tls;
                  }))
    spdlog::warn("reload: server.listen takes effect at restart");
  if (next->tls && next->tls != previous.tls)
    spdlog::info("reload: new TLS connections use {}", next->tls->files().certificate);
  else if (!next->tls && previous.tls)
    spdlog::warn("reload: without server.tls, TLS listeners keep the previous certificate");

  std::set<std::string> channelsBefore, channelsAfter;
  for (const auto& route : previous.router.routes()) channelsBefore.insert(route->spec().channel);
  for (const auto& route : next->router.routes()) channelsAfter.insert(route->spec().channel);
  std::size_t added = 0, removed = 0;
  for (const auto& channel : channelsAfter) added += channelsBefore.count(channel) == 0;
  for (const auto& channel : channelsBefore) removed += channelsAfter.count(channel) == 0;
  const std::size_t loaded = next->plugins.loaded().size() - next->plugins.reusedCount();
  std::string line = "reload (" + trigger + "): generation " + std::to_string(next->number) +
                     " serving " + std::to_string(next->router.size()) + " routes (+" +
                     std::to_string(added) + " -" + std::to_string(removed) + "), plugins " +
                     std::to_string(loaded) + " loaded " +
                     std::to_string(next->plugins.reusedCount()) + " kept; topics " +
                     std::to_string(migration.kept) + " kept " + std::to_string(migration.moved) +
                     " moved " + std::to_string(migration.dropped) + " dropped; I/O stalled " +
                     std::to_string(stalled.count()) + " us";
  spdlog::info("{}", line);
  return line;
}

Session* Server::findSession(SessionId id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

SessionId Server::newSessionId() {
  // WAMP ids are in [1, 2^53] so that JavaScript clients hold them exactly.
  for (;;) {
    // In a cluster the node's number makes its ids disjoint from every other node's.
    SessionId id = cluster_ ? cluster::clusterSessionId(cluster_->nodeNumber(), random_())
                            : (random_() & ((SessionId{1} << 53) - 1)) + 1;
    if (!sessions_.count(id) && !pending_.count(id)) return id;
  }
}

HandshakeAnswer Server::onHandshake(const HandshakeRequest& request) {
  const LogFields about{LogFields::text("remote", request.remoteAddress)};
  HandshakeAnswer answer;
  if (shuttingDown_) {
    answer.accept = false;
    answer.httpStatus = 503;
    answer.reason = std::string(describe(Fault::ServerShutdown).reason);
    return refused(std::move(answer), "shutting_down");
  }
  // The first subprotocol in the client's order of preference that wampd speaks. WAMP v1 is
  // "wamp"; Oro's clients sometimes offer none, which Ratchet accepts as v1.
  PendingSession pending;
  if (!request.subprotocols.empty()) {
    for (const auto& p : request.subprotocols) {
      if (p == "wamp" || p == wamp2::kJsonSubprotocol || p == wamp2::kMsgPackSubprotocol) {
        answer.subprotocol = p;
        break;
      }
    }
    if (answer.subprotocol.empty()) {
      answer.accept = false;
      answer.httpStatus = 400;
      answer.reason =
          "Unsupported WebSocket subprotocol; this server speaks: wamp.2.json, wamp.2.msgpack, "
          "wamp";
      spdlog::info("refused handshake from {}: subprotocols offered were not supported",
                   request.remoteAddress);
      return refused(std::move(answer), "subprotocol");
    }
    if (answer.subprotocol != "wamp") {
      pending.version = 2;
      pending.serializer = answer.subprotocol == wamp2::kMsgPackSubprotocol
                               ? wamp2::Serializer::MsgPack
                               : wamp2::Serializer::Json;
    }
  }
  auth::Decision decision = authenticator_->authenticate(
      request.resource, request.origin, request.remoteAddress, std::time(nullptr),
      /*ticketLater=*/pending.version == 2, /*deferDigest=*/true);
  if (!decision.accept) {
    spdlog::warn("refused handshake from {}: {}", request.remoteAddress, decision.reason);
    answer.accept = false;
    answer.httpStatus = decision.httpStatus;
    answer.reason = decision.reason;
    return refused(std::move(answer), "authentication");
  }
  if (decision.digest)
    return verifyLater(request, std::move(decision), std::move(pending), answer.subprotocol);
  return admit(std::move(decision.identity), std::move(pending), decision.ticketRequired,
               answer.subprotocol, request.remoteAddress);
}

HandshakeAnswer Server::refused(HandshakeAnswer answer, const char* reason) {
  ++handshakesRefused_[reason];
  return answer;
}

HandshakeAnswer Server::admit(Identity identity, PendingSession pending, bool mustAuthenticate,
                              const std::string& subprotocol, const std::string& remoteAddress) {
  HandshakeAnswer answer;
  answer.subprotocol = subprotocol;
  const SessionId id = newSessionId();
  spdlog::debug("session {} from {}: {}{}", id, remoteAddress,
                identity.anonymous ? std::string("anonymous") : "user '" + identity.username + "'",
                identity.backend ? " (backend)" : "");
  pending.identity = std::move(identity);
  pending.mustAuthenticate = mustAuthenticate;
  if (pending.version == 1)
    answer.openingMessage = wamp1::encodeWelcome(std::to_string(id), kServerIdent);
  pending_.emplace(id, std::move(pending));
  answer.token = id;
  return answer;
}

HandshakeAnswer Server::verifyLater(const HandshakeRequest& request, auth::Decision decision,
                                    PendingSession pending, const std::string& subprotocol) {
  auto verification = std::make_shared<Verification>();
  verification->handshake = request.pending;
  verification->remoteAddress = request.remoteAddress;
  verification->subprotocol = subprotocol;
  verification->identity = std::move(decision.identity);
  verification->pending = std::move(pending);
  verification->mustAuthenticate = decision.ticketRequired;
  verification->failure = std::move(decision.digestFailure);
  // Runs on a verifier thread: it only carries the verdict back to the I/O thread.
  auto done = [this, alive = std::weak_ptr<const bool>(alive_),
               verification](auth::Verdict verdict) mutable {
    verification->verdict = verdict;
    asio::post(io_, [this, alive, verification = std::move(verification)] {
      if (alive.lock()) onVerdict(*verification);
    });
  };
  const auto admission =
      verifier_->submit(request.remoteAddress, std::move(*decision.digest), std::move(done));
  if (admission == auth::TicketVerifier::Admission::Queued) return HandshakeAnswer::later();

  HandshakeAnswer answer;
  answer.accept = false;
  answer.httpStatus = 503;
  if (admission == auth::TicketVerifier::Admission::AddressBusy) {
    answer.reason = "Too many ticket verifications pending from this address";
  } else {
    answer.reason = "Too many ticket verifications pending, try again later";
  }
  spdlog::warn("refused handshake from {}: {} ({} refused so far)", request.remoteAddress,
               admission == auth::TicketVerifier::Admission::AddressBusy
                   ? "too many ticket verifications pending from this address"
                   : "the ticket verification queue is full",
               verifier_->refused());
  return refused(std::move(answer), "verifier_busy");
}

void Server::onVerdict(Verification& verification) {
  const std::shared_ptr<PendingHandshake> handshake = verification.handshake.lock();
  if (!handshake) return;  // the client left or timed out meanwhile
  const LogFields about{LogFields::text("remote", verification.remoteAddress)};
  HandshakeAnswer answer;
  if (shuttingDown_ || verification.verdict == auth::Verdict::Cancelled) {
    answer.accept = false;
    answer.httpStatus = 503;
    answer.reason = "Server shutting down";
    answer = refused(std::move(answer), "shutting_down");
  } else if (verification.verdict == auth::Verdict::Invalid) {
    spdlog::warn("refused handshake from {}: {}", verification.remoteAddress, verification.failure);
    answer.accept = false;
    answer.httpStatus = 403;
    answer.reason = verification.failure;
    answer = refused(std::move(answer), "authentication");
  } else {
    answer =
        admit(std::move(verification.identity), std::move(verification.pending),
              verification.mustAuthenticate, verification.subprotocol, verification.remoteAddress);
  }
  if (!handshake->complete(answer) && answer.accept) pending_.erase(answer.token);
}

void Server::onOpen(Link& link, std::uint64_t token) {
  PendingSession pending;
  if (auto it = pending_.find(token); it != pending_.end()) {
    pending = std::move(it->second);
    pending_.erase(it);
  }
  const SessionServices services{broker_, dealer_, *this};
  std::unique_ptr<Session> session;
  if (pending.version == 1)
    session = std::make_unique<Wamp1Session>(token, link, std::move(pending.identity), services);
  else
    session = std::make_unique<Wamp2Session>(token, link, std::move(pending.identity), services,
                                             pending.serializer, pending.mustAuthenticate);
  link.context = session.get();
  ++handshakesAccepted_;
  const LogFields about{LogFields::number("session", session->sessionId()),
                        LogFields::text("remote", link.remoteAddress())};
  spdlog::debug("session {} opened from {}", session->idText(), link.remoteAddress());
  if (shuttingDown_) session->shutdown();
  sessions_.emplace(token, std::move(session));
}

void Server::onMessage(Link& link, std::string_view payload, bool binary) {
  auto* session = static_cast<Session*>(link.context);
  if (!session) return;
  // Whatever handling this message logs is about this session (log_format: json keys).
  const LogFields about{LogFields::number("session", session->sessionId()),
                        LogFields::text("remote", link.remoteAddress())};
  session->onMessage(payload, binary);
}

void Server::onClose(Link& link, std::uint16_t code, std::string_view reason) {
  auto* session = static_cast<Session*>(link.context);
  if (!session) return;
  const LogFields about{LogFields::number("session", session->sessionId()),
                        LogFields::text("remote", link.remoteAddress())};
  spdlog::debug("session {} closed ({} {})", session->idText(), code, reason);
  broker_.disconnect(*session);
  dealer_.disconnect(*session, session->asCallee());
  link.context = nullptr;
  sessions_.erase(session->sessionId());
  if (shuttingDown_ && sessions_.empty()) endDrain();
}

void Server::endDrain() noexcept {
  // The last session is gone: the port closes, and so does the I/O loop once the last
  // connections (HTTP answers, closing handshakes) are through.
  transport_.stopListening();
  if (shutdownDeadline_) shutdownDeadline_->cancel();
}

void Server::shutdown() {
  if (shuttingDown_) return;
  shuttingDown_ = true;
  spdlog::info("shutting down: ending {} sessions", sessions_.size());
  // The port stays open while sessions drain: /health answers 503 and handshakes are refused
  // 503, and a new wampd may bind the port beside this one (Transport::drain).
  transport_.drain();
  watcher_.stop();
  reloader_.stop();
  // The Redis connections' timers would keep the I/O loop alive.
  if (cluster_) cluster_->stop();
  // Every callee leaves before any connection ends: a caller waiting on one gets its error
  // while its own connection still carries it.
  for (auto& [id, session] : sessions_)
    if (Callee* callee = session->asCallee()) dealer_.withdraw(*callee);
  // After the withdrawals: the registrations' claims go before the Redis connections.
  if (calls_) calls_->stop();
  for (auto& [id, session] : sessions_) session->shutdown();
  if (sessions_.empty()) {
    endDrain();
    return;
  }
  shutdownDeadline_ =
      std::make_unique<asio::steady_timer>(io_, generation_->config.shutdownTimeout);
  shutdownDeadline_->async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    spdlog::warn("shutdown: {} connections did not close in time", sessions_.size());
    transport_.stopListening();
    io_.stop();
  });
}

bool Server::builtin(Session& session, const std::string& uri, const Array&, CallReply reply) {
  if (uri == "wampd.topics") {
    reply(Status(), topicsTable());
    return true;
  }
  if (uri == "wampd.stats") {
    reply(Status(), statistics());
    return true;
  }
  if (uri == "wampd.reload") {
    if (!session.identity().backend) {
      reply(Status::refused("Only the backend may reload the server"), Value());
      return true;
    }
    reloader_.request("wampctl reload by session " + session.idText(),
                      [reply = std::move(reply), this](bool ok, const std::string& message) {
                        if (ok)
                          reply(Status(), Object{{"generation", Value(generation_->number)},
                                                 {"status", Value(message)}});
                        else
                          reply(Status::error(uriOf(Fault::ReloadFailed), message), Value());
                      });
    return true;
  }
  return false;
}

Value Server::statistics() const {
  std::uint64_t v1 = 0, v2 = 0;
  for (const auto& [id, session] : sessions_) ++(session->wampVersion() == 1 ? v1 : v2);
  const Broker::Counters& c = broker_.counters();
  const TransportCounters& t = transport_.counters();
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
  Object stats{{"generation", Value(generation_->number)},
               {"uptime_seconds", Value(static_cast<std::int64_t>(uptime.count()))},
               {"sessions", Value(v1 + v2)},
               {"sessions_v1", Value(v1)},
               {"sessions_v2", Value(v2)},
               {"events", Value(c.events)},
               {"deliveries", Value(c.deliveries)},
               {"slow_subscribers_disconnected", Value(c.slowSubscribersDisconnected)},
               {"connections", Value(static_cast<std::uint64_t>(transport_.connections()))},
               {"dropped_unresponsive", Value(t.droppedUnresponsive)},
               {"dropped_write_stalled", Value(t.droppedWriteStalled)},
               {"refused_max_connections", Value(t.refusedMaxConnections)},
               {"refused_max_connections_per_ip", Value(t.refusedMaxConnectionsPerAddress)},
               {"refused_handshake_rate", Value(t.refusedHandshakeRate)},
               {"accept_failures", Value(t.acceptFailures)}};
  if (!cluster_) return stats;
  // The whole cluster: each node's last report, and totals over the nodes still reporting.
  const cluster::ClusterBus::Counters k = cluster_->counters();
  const cluster::ClusterCalls::Counters& rc = calls_->counters();
  Value nodes = cluster_->nodes();
  std::map<std::string, std::uint64_t> total;
  std::uint64_t reporting = 0;
  for (const Value& node : *nodes.array()) {
    if (node.find("stale")->asBool()) continue;
    ++reporting;
    if (const Object* figures = node.find("stats")->object())
      for (const auto& [key, value] : *figures)
        if (value.isInteger()) total[key] += value.asUInt();
  }
  Object totals{{"nodes", Value(reporting)}};
  for (const auto& [key, value] : total) totals.set(key, Value(value));
  stats.set("cluster", Value(Object{{"node", Value(cluster_->nodeName())},
                                    {"id", Value(cluster_->nodeId())},
                                    {"redis_connected", Value(cluster_->connected())},
                                    {"forwarded", Value(k.forwarded)},
                                    {"not_forwarded", Value(k.notForwarded)},
                                    {"received", Value(k.received)},
                                    {"redis_writes", Value(k.redisWrites)},
                                    {"redis_reconnects", Value(k.redisReconnects)},
                                    {"calls", Value(Object{
                                                  {"sent", Value(rc.sent)},
                                                  {"served", Value(rc.served)},
                                                  {"failed", Value(rc.failed)},
                                                  {"refused", Value(rc.refused)},
                                                  {"pending", Value(calls_->pending())},
                                                  {"registrations", Value(calls_->owned())},
                                                  {"registration_conflicts", Value(rc.conflicts)},
                                              })},
                                    {"total", Value(std::move(totals))},
                                    {"nodes", std::move(nodes)}}));
  return stats;
}

Value Server::nodeReport() const {
  std::uint64_t v1 = 0, v2 = 0;
  for (const auto& [id, session] : sessions_) ++(session->wampVersion() == 1 ? v1 : v2);
  const Broker::Counters& c = broker_.counters();
  Object subscribers;
  for (const auto& [route, counts] : broker_.subscribersByRoute())
    subscribers.set(route, Value(counts.total));
  return Object{{"sessions", Value(v1 + v2)},
                {"sessions_v1", Value(v1)},
                {"sessions_v2", Value(v2)},
                {"publications", Value(c.publications)},
                {"events", Value(c.events)},
                {"deliveries", Value(c.deliveries)},
                {"not_forwarded", Value(c.notForwarded)},
                {"subscribers_by_route", Value(std::move(subscribers))}};
}

std::string Server::metricsText() const {
  MetricsText m;
  m.gauge("wampd_build_info", "The running build: version and plugin ABI.", 1,
          {{"version", kServerVersion}, {"abi", WAMPD_ABI_VERSION}});
  const auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_);
  m.gauge("wampd_uptime_seconds", "Seconds since the server started.", uptime.count());

  std::map<std::string_view, std::uint64_t> byProtocol{
      {"v1", 0}, {"v2_json", 0}, {"v2_msgpack", 0}};
  for (const auto& [id, session] : sessions_) ++byProtocol[session->protocol()];
  for (const auto& [protocol, count] : byProtocol)
    m.gauge("wampd_connections", "Open WAMP sessions by wire protocol.", static_cast<double>(count),
            {{"protocol", protocol}});
  m.gauge("wampd_sessions", "Open WAMP sessions.", static_cast<double>(sessions_.size()));
  const TransportCounters& t = transport_.counters();
  m.counter("wampd_connections_accepted_total", "TCP connections accepted.",
            static_cast<double>(t.connectionsAccepted));
  m.counter("wampd_handshakes_total", "WebSocket handshakes by result.",
            static_cast<double>(handshakesAccepted_), {{"result", "accepted"}});
  const std::pair<const char*, std::uint64_t> limits[] = {
      {"max_connections", t.refusedMaxConnections},
      {"max_connections_per_ip", t.refusedMaxConnectionsPerAddress},
      {"handshake_rate", t.refusedHandshakeRate}};
  for (const auto& [reason, count] : limits)
    m.counter("wampd_handshakes_refused_total", "Handshakes the server refused, by reason.",
              static_cast<double>(count), {{"reason", reason}});
  for (const auto& [reason, count] : handshakesRefused_)
    m.counter("wampd_handshakes_refused_total", "Handshakes the server refused, by reason.",
              static_cast<double>(count), {{"reason", reason}});
  m.gauge("wampd_connections_open", "TCP connections held, handshakes and closing ones included.",
          static_cast<double>(transport_.connections()));
  m.counter("wampd_connections_dropped_total",
            "Connections dropped with no close frame, by reason (their clients come back).",
            static_cast<double>(t.droppedUnresponsive), {{"reason", "unresponsive"}});
  m.counter("wampd_connections_dropped_total",
            "Connections dropped with no close frame, by reason (their clients come back).",
            static_cast<double>(t.droppedWriteStalled), {{"reason", "write_stalled"}});
  m.counter("wampd_accept_failures_total", "accept() failures (EMFILE, ENFILE, ...).",
            static_cast<double>(t.acceptFailures));
  m.counter("wampd_http_requests_total", "Plain HTTP requests (health, metrics, others).",
            static_cast<double>(t.httpRequests));

  const Broker::Counters& b = broker_.counters();
  m.gauge("wampd_topics", "Topics with subscribers or pattern verdicts.",
          static_cast<double>(broker_.topicCount()));
  m.gauge("wampd_subscriptions", "Subscriptions, exact and pattern.",
          static_cast<double>(broker_.subscriptionCount()));
  m.counter("wampd_publications_total", "Publications received (WAMP v1, v2, wampctl).",
            static_cast<double>(b.publications));
  m.counter("wampd_publications_refused_total",
            "Publications with no route or handler, or that the route or handler refused.",
            static_cast<double>(b.publicationsRefused));
  m.counter("wampd_events_total", "Events topic handlers broadcast.",
            static_cast<double>(b.events));
  m.counter("wampd_deliveries_total", "EVENT messages queued for subscribers.",
            static_cast<double>(b.deliveries));
  m.counter("wampd_bytes_sent_total", "Bytes written to client sockets.",
            static_cast<double>(t.bytesSent));
  m.counter("wampd_slow_subscribers_dropped_total",
            "Subscribers disconnected because their send queue grew too long.",
            static_cast<double>(b.slowSubscribersDisconnected));
  if (cluster_) {
    const cluster::ClusterBus::Counters k = cluster_->counters();
    m.gauge("wampd_cluster_redis_connected", "Both Redis connections are up (cluster mode).",
            cluster_->connected() ? 1 : 0);
    m.counter("wampd_cluster_events_forwarded_total", "Events sent to the other nodes.",
              static_cast<double>(k.forwarded));
    m.counter("wampd_cluster_events_not_forwarded_total",
              "Events the other nodes missed: Redis away or its buffer full.",
              static_cast<double>(k.notForwarded));
    m.counter("wampd_cluster_events_received_total", "Events from other nodes.",
              static_cast<double>(k.received));
    m.counter("wampd_cluster_redis_writes_total", "Writes on the Redis publish connection.",
              static_cast<double>(k.redisWrites));
    m.counter("wampd_cluster_redis_reconnects_total", "Redis connections lost and redone.",
              static_cast<double>(k.redisReconnects));
    const cluster::ClusterCalls::Counters& rc = calls_->counters();
    const std::pair<const char*, std::uint64_t> remote[] = {
        {"sent", rc.sent}, {"served", rc.served}, {"failed", rc.failed}, {"refused", rc.refused}};
    for (const auto& [kind, count] : remote)
      m.counter("wampd_cluster_calls_total",
                "Calls across nodes: sent to an owner node, served for another node, failed "
                "with a cluster error (refused: too many waiting).",
                static_cast<double>(count), {{"kind", kind}});
  }
  m.histogram("wampd_publish_to_write_seconds",
              "From a publication's arrival to the end of the write pass that sent its events.",
              broker_.publishToWrite());

  const Dealer::Counters& d = dealer_.counters();
  const std::pair<const char*, std::uint64_t> calls[] = {{"result", d.results},
                                                         {"error", d.errors},
                                                         {"no_such_procedure", d.noSuchProcedure},
                                                         {"timeout", d.timeouts},
                                                         {"canceled", d.canceled}};
  for (const auto& [outcome, count] : calls)
    m.counter("wampd_rpc_calls_total", "RPC calls by outcome.", static_cast<double>(count),
              {{"outcome", outcome}});

  const Reloader::Counters& r = reloader_.counters();
  m.counter("wampd_reloads_total", "Reloads by result.", static_cast<double>(r.succeeded),
            {{"result", "succeeded"}});
  m.counter("wampd_reloads_total", "Reloads by result.", static_cast<double>(r.failed),
            {{"result", "failed"}});
  m.gauge("wampd_generation", "The serving generation (1 at start, one more per reload).",
          static_cast<double>(generation_->number));
  m.gauge("wampd_plugins_loaded", "Plugin libraries the serving generation has loaded.",
          static_cast<double>(generation_->plugins.loaded().size()));
  return m.text();
}

Value Server::topicsTable() const {
  const auto counts = broker_.subscribersByRoute();
  // Cluster mode: each route's subscribers over the nodes still reporting.
  std::map<std::string, std::uint64_t> clusterCounts;
  if (cluster_) {
    const Value nodes = cluster_->nodes();
    for (const Value& node : *nodes.array()) {
      if (node.find("stale")->asBool()) continue;
      const Value* byRoute = node.find("stats")->find("subscribers_by_route");
      if (const Object* routes = byRoute ? byRoute->object() : nullptr)
        for (const auto& [route, count] : *routes) clusterCounts[route] += count.asUInt();
    }
  }
  Array routes;
  for (const auto& route : generation_->router.routes()) {
    const std::string& callback = route->callback();
    const bool loaded =
        generation_->plugins.topicHandler(callback) || generation_->plugins.rpcHandler(callback);
    auto it = counts.find(route->name());
    const Broker::RouteCounts c = it == counts.end() ? Broker::RouteCounts{} : it->second;
    Object row{{"name", Value(route->name())},  {"channel", Value(route->spec().channel)},
               {"callback", Value(callback)},   {"handler_loaded", Value(loaded)},
               {"subscribers", Value(c.total)}, {"subscribers_v1", Value(c.v1)},
               {"subscribers_v2", Value(c.v2)}, {"generation", Value(generation_->number)}};
    if (cluster_) {
      auto total = clusterCounts.find(route->name());
      row.set("subscribers_cluster", Value(total == clusterCounts.end() ? 0 : total->second));
    }
    routes.push_back(Value(std::move(row)));
  }
  return Value(std::move(routes));
}

}  // namespace wampd::core
