#include "cluster/cluster_calls.h"

#include <spdlog/spdlog.h>

#include <tuple>

#include "common/errors.h"
#include "wamp/v2_codec.h"

namespace wampd::core::cluster {
namespace {

// 2: the call carries its timeout (1 had no timeout_ms).
constexpr std::int64_t kFormat = 2;
constexpr auto kTickEvery = std::chrono::seconds(1);
// A claim lives this long unless refreshed (each tick): a dead node's procedures free up
// within it.
constexpr const char* kClaimTtlMs = "3000";
// A call's owner node that never reported is taken for gone after this long (one that
// reported is gone when its report goes stale, ClusterBus's 3 s).
constexpr auto kUnknownNodeGrace = std::chrono::seconds(3);
constexpr auto kStopGrace = std::chrono::milliseconds(500);
// A message beyond this can never enter the command connection's buffer (RedisLink refuses
// a command past its 8 MiB; the rest is the PUBLISH's framing): such an answer becomes a
// small error instead, so its caller hears of it.
const std::size_t kMaxMessageBytes = RedisLink::Options{}.maxOutputBytes - 4096;
// Answers waiting for the command connection take at most this many bytes; past it a
// waiting answer is replaced by a small error.
constexpr std::size_t kMaxUnsentBytes = 8 * 1024 * 1024;

// KEYS: the procedures' keys; ARGV[1]: this node's id, ARGV[2]: the TTL. Each key free or
// this node's becomes (stays) this node's for the TTL; the answer, per key: 1, or the
// owner's id. Redis runs a script alone: two nodes racing for a key see one winner.
constexpr const char* kClaimScript =
    "local out = {} "
    "for i, k in ipairs(KEYS) do "
    "local v = redis.call('GET', k) "
    "if v == false or v == ARGV[1] then redis.call('SET', k, ARGV[1], 'PX', ARGV[2]) out[i] = 1 "
    "else out[i] = v end "
    "end "
    "return out";
// Deletes the keys still this node's (a lapsed and re-claimed key is another's).
constexpr const char* kReleaseScript =
    "for i, k in ipairs(KEYS) do "
    "if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end "
    "end "
    "return 0";
// KEYS[1]: the procedure's key; ARGV[1]: the node channels' prefix, ARGV[2]: the call. One
// round trip: the owner looked up and the call published on its channel; the answer is
// {0} (no owner) or {owner, receivers} (0 receivers: the owner node does not listen).
constexpr const char* kRouteScript =
    "local o = redis.call('GET', KEYS[1]) "
    "if o == false then return {0} end "
    "return {o, redis.call('PUBLISH', ARGV[1] .. o, ARGV[2])}";

// `answer` turned into an ERROR of the cluster's, small whatever the answer carried.
CallMessage answerFailed(const CallMessage& answer, const std::string& uri, std::string why) {
  CallMessage out;
  out.kind = CallMessage::Kind::Error;
  out.node = answer.node;
  out.call = answer.call;
  out.caller = answer.caller;
  out.uri = uri;
  out.hasArgs = true;
  out.args = Array{Value(std::move(why))};
  return out;
}

// A served call's RESULT or ERROR for the caller's node: `key` is (caller, call).
CallMessage answerMessage(CallMessage::Kind kind, const std::pair<SessionId, std::uint64_t>& key,
                          const Array& args, const Object* kwargs) {
  CallMessage out;
  out.kind = kind;
  out.caller = key.first;
  out.call = key.second;
  out.hasArgs = true;
  out.args = args;
  if (kwargs) {
    out.hasKwargs = true;
    out.kwargs = *kwargs;
  }
  return out;
}

}  // namespace

std::string encodeCallMessage(const CallMessage& c) {
  Array m;
  m.reserve(13);
  m.push_back(Value(kFormat));
  m.push_back(Value(static_cast<std::int64_t>(c.kind)));
  m.push_back(Value(c.node));
  m.push_back(Value(c.call));
  m.push_back(Value(c.caller));
  m.push_back(Value(c.uri));
  m.push_back(Value(c.progress));
  m.push_back(Value(c.discloseMe));
  m.push_back(Value(c.authid));
  m.push_back(Value(c.authrole));
  m.push_back(c.hasArgs ? Value(c.args) : Value());
  m.push_back(c.hasKwargs ? Value(c.kwargs) : Value());
  m.push_back(Value(c.timeoutMs));
  return wamp2::encode(m, wamp2::Serializer::MsgPack);
}

bool decodeCallMessage(std::string_view bytes, CallMessage& c, std::string& error) {
  Array m;
  if (!wamp2::decode(bytes, wamp2::Serializer::MsgPack, m, error)) return false;
  if (m.size() != 13 || !m[0].isInteger() || m[0].asInt() != kFormat || !m[1].isInteger() ||
      m[1].asInt() < 1 || m[1].asInt() > 4 || !m[2].isString() || !m[3].isInteger() ||
      !m[4].isInteger() || !m[5].isString() || !m[6].isBool() || !m[7].isBool() ||
      !m[8].isString() || !m[9].isString() || !(m[10].isNull() || m[10].isArray()) ||
      !(m[11].isNull() || m[11].isObject()) || !m[12].isInteger()) {
    error = "not a wampd cluster call message (format " + std::to_string(kFormat) + ")";
    return false;
  }
  c = CallMessage{};
  c.kind = static_cast<CallMessage::Kind>(m[1].asInt());
  c.node = std::string(m[2].asString());
  c.call = m[3].asUInt();
  c.caller = m[4].asUInt();
  c.uri = std::string(m[5].asString());
  c.progress = m[6].asBool();
  c.discloseMe = m[7].asBool();
  c.authid = std::string(m[8].asString());
  c.authrole = std::string(m[9].asString());
  c.timeoutMs = m[12].asUInt();
  if (Array* args = m[10].array()) {
    c.hasArgs = true;
    c.args = std::move(*args);
  }
  if (Object* kwargs = m[11].object()) {
    c.hasKwargs = true;
    c.kwargs = std::move(*kwargs);
  }
  return true;
}

ClusterCalls::ClusterCalls(asio::io_context& io, Settings settings, Dealer& dealer,
                           NodeState nodeState)
    : io_(io),
      settings_(std::move(settings)),
      dealer_(dealer),
      nodeState_(std::move(nodeState)),
      keyPrefix_(settings_.prefix + "@proc:"),
      channelPrefix_(settings_.prefix + "!node:"),
      channel_(channelPrefix_ + settings_.nodeId),
      tick_(io),
      closing_(io) {
  RedisLink::Options options;
  options.address = settings_.redis;
  options.name = "calls";
  commands_ = std::make_shared<RedisLink>(
      io, options,
      RedisLink::Handlers{[this] {
                            commandsWereUp_ = true;
                            flushUnsent();
                            refresh();
                          },
                          [this](const std::string& why) { onCommandsDown(why); },
                          [this](RedisReply& r) { onReply(r); }});
  options.name = "node channel";
  options.subscriber = true;
  subscriber_ = std::make_shared<RedisLink>(
      io, options,
      RedisLink::Handlers{[this] { onSubscriberUp(); },
                          [this](const std::string& why) { onSubscriberDown(why); },
                          [this](RedisReply& r) { onPush(r); }});
}

ClusterCalls::~ClusterCalls() {
  tick_.cancel();
  closing_.cancel();
  commands_->stop();
  subscriber_->stop();
}

void ClusterCalls::start() {
  commands_->start();
  subscriber_->start();
  tick();
}

void ClusterCalls::stop() {
  if (stopping_) return;
  tick_.cancel();
  // Callers elsewhere still hear of the calls this node served.
  lost("the node is shutting down");
  stopping_ = true;
  if (commands_->up() && !owned_.empty()) {
    std::vector<std::string> args{"EVAL", kReleaseScript, std::to_string(owned_.size())};
    for (const std::string& uri : owned_) args.push_back(keyOf(uri));
    args.push_back(settings_.nodeId);
    std::vector<std::string_view> views(args.begin(), args.end());
    command(views, [](RedisReply&) {});
  }
  owned_.clear();
  if (replies_.empty()) return closeLinks();
  // The releases go out before the connections close; Redis gets a moment to answer.
  closing_.expires_after(kStopGrace);
  closing_.async_wait([this](const asio::error_code& e) {
    if (!e) closeLinks();
  });
}

void ClusterCalls::closeLinks() {
  closed_ = true;
  closing_.cancel();
  commands_->stop();
  subscriber_->stop();
  auto replies = std::move(replies_);
  replies_.clear();
  RedisReply gone{RedisReply::Type::Error, "closed", 0, {}};
  for (auto& r : replies) r(gone);
}

bool ClusterCalls::command(const std::vector<std::string_view>& args, Reply then) {
  if (!commands_->send(formatCommand(args))) {
    RedisReply down{RedisReply::Type::Error, "the Redis connection is down or full", 0, {}};
    then(down);
    return false;
  }
  replies_.push_back(std::move(then));
  return true;
}

void ClusterCalls::onReply(RedisReply& reply) {
  if (replies_.empty()) return;
  Reply then = std::move(replies_.front());
  replies_.pop_front();
  then(reply);
  if (stopping_ && replies_.empty()) closeLinks();
}

void ClusterCalls::onCommandsDown(const std::string& why) {
  if (commandsWereUp_)
    spdlog::warn("cluster: node {}: Redis connection for calls lost ({})", settings_.nodeName, why);
  commandsWereUp_ = false;
  auto replies = std::move(replies_);
  replies_.clear();
  RedisReply down{RedisReply::Type::Error, "connection lost: " + why, 0, {}};
  for (auto& r : replies) r(down);
  lost("Redis connection lost");
}

void ClusterCalls::onSubscriberUp() {
  subWasUp_ = true;
  subscriber_->send(formatCommand({"SUBSCRIBE", channel_}));
}

void ClusterCalls::onSubscriberDown(const std::string& why) {
  if (subWasUp_)
    spdlog::warn("cluster: node {}: Redis connection of the node channel lost ({})",
                 settings_.nodeName, why);
  subWasUp_ = false;
  receiving_ = false;
  lost("Redis connection lost");
}

void ClusterCalls::lost(const std::string& why) {
  std::vector<std::uint64_t> waiting;
  std::vector<std::tuple<std::string, SessionId, std::uint64_t>> elsewhere;
  for (const auto& [id, p] : pending_) {
    waiting.push_back(id);
    if (!p.owner.empty()) elsewhere.emplace_back(p.owner, p.caller, id);
  }
  for (std::uint64_t id : waiting)
    fail(id, Fault::ClusterUnavailable, "the call's answer cannot come: " + why);
  pending_.clear();
  byRequest_.clear();
  // No one waits for these calls any more: their nodes stop them (now, or when this node
  // reaches Redis again) rather than serve them for no one.
  for (const auto& [owner, caller, id] : elsewhere) sendCancel(owner, caller, id, "killnowait");
  // Their answers could not leave: the callees stop, and each caller's node hears why once
  // this node reaches Redis again (if it still waits: it may have kept its connections).
  auto served = std::move(served_);
  served_.clear();
  for (const auto& [key, node] : served) {
    CallMessage out;
    out.kind = CallMessage::Kind::Error;
    out.caller = key.first;
    out.call = key.second;
    out.uri = uriOf(Fault::ClusterUnavailable);
    out.hasArgs = true;
    out.args = Array{Value("the callee's node lost Redis; the call was interrupted: " + why)};
    publish(node, out);
    dealer_.cancel(key.first, key.second, "killnowait", true);
  }
}

void ClusterCalls::onPush(RedisReply& reply) {
  if (!reply.isArray() || reply.elements.size() < 3) return;
  const std::string_view kind = reply.text(0);
  if (kind == "subscribe" && reply.text(1) == channel_) {
    receiving_ = true;
    spdlog::info("cluster: node {}: serving calls from other nodes on {}", settings_.nodeName,
                 channel_);
    refresh();  // after Redis trouble: this node's claims again
    return;
  }
  if (kind != "message") return;
  CallMessage message;
  std::string error;
  if (!decodeCallMessage(reply.elements[2].str, message, error)) {
    spdlog::warn("cluster: channel {}: {}", channel_, error);
    return;
  }
  onMessage(message);
}

void ClusterCalls::onMessage(CallMessage& m) {
  switch (m.kind) {
    case CallMessage::Kind::Call:
      return serve(m);
    case CallMessage::Kind::Cancel:
      dealer_.cancel(m.caller, m.call, m.uri, true);
      return;
    case CallMessage::Kind::Result:
    case CallMessage::Kind::Error:
      return answer(m.node, m);
  }
}

void ClusterCalls::serve(CallMessage& call) {
  if (stopping_) {
    // Its answer could not leave before the links close: the caller hears why now.
    CallMessage out;
    out.call = call.call;
    out.caller = call.caller;
    publish(call.node, answerFailed(out, uriOf(Fault::ClusterUnavailable),
                                    "the callee's node is shutting down"));
    return;
  }
  ++counters_.served;
  const auto key = std::make_pair(call.caller, call.call);
  served_[key] = call.node;
  CallOptions options;
  options.request = call.call;
  // The caller's timeout runs here too: the call ends even if no cancel arrives.
  options.timeoutMs = call.timeoutMs;
  options.receiveProgress = call.progress;
  options.discloseMe = call.discloseMe;
  options.kwargs = call.hasKwargs ? &call.kwargs : nullptr;
  const std::string node = call.node;
  // A call no longer in served_ was answered already (lost(), tick()): its callee's late
  // answers go nowhere.
  auto onResult = [this, node, key](const Array& args, const Object* kwargs, bool progress) {
    if (!served_.count(key)) return;
    if (!progress) served_.erase(key);
    CallMessage out = answerMessage(CallMessage::Kind::Result, key, args, kwargs);
    out.progress = progress;
    publish(node, out);
  };
  auto onError = [this, node, key](const std::string& uri, const Array& args,
                                   const Object* kwargs) {
    if (served_.erase(key) == 0) return;
    CallMessage out = answerMessage(CallMessage::Kind::Error, key, args, kwargs);
    out.uri = uri;
    publish(node, out);
  };
  dealer_.invokeLocal(CallerInfo{call.caller, call.authid, call.authrole}, call.uri,
                      call.hasArgs ? call.args : Array{}, options, std::move(onResult),
                      std::move(onError));
}

void ClusterCalls::publish(const std::string& node, const CallMessage& message) {
  // Until the links close (stop()'s grace included) answers still reach their callers.
  if (closed_) return;
  CallMessage stamped = message;
  stamped.node = settings_.nodeId;
  const bool answer =
      message.kind == CallMessage::Kind::Result || message.kind == CallMessage::Kind::Error;
  std::string bytes;
  try {
    bytes = encodeCallMessage(stamped);
  } catch (const std::exception& e) {
    spdlog::error("cluster: cannot encode a call's answer: {}", e.what());
    bytes = encodeCallMessage(
        answerFailed(stamped, uriOf(Fault::HandlerFailed), "the answer could not be encoded"));
  }
  if (answer && bytes.size() > kMaxMessageBytes) {
    spdlog::warn("cluster: node {}: an answer of {} bytes cannot cross nodes (at most {})",
                 settings_.nodeName, bytes.size(), kMaxMessageBytes);
    bytes = encodeCallMessage(answerFailed(stamped, uriOf(Fault::ClusterUnavailable),
                                           "the answer is too large to cross nodes (" +
                                               std::to_string(bytes.size()) + " bytes, at most " +
                                               std::to_string(kMaxMessageBytes) + ")"));
  }
  // Final answers and cancels must arrive: the caller's node (its own connections may be
  // fine) waits for the answer, the callee's node serves a call until canceled or its
  // timeout. Progressive results are at most once.
  const bool keep = !(message.kind == CallMessage::Kind::Result && message.progress);
  std::string channel = channelOf(node);
  flushUnsent();  // what waits goes first
  if (unsent_.empty() && commands_->up() &&
      command({"PUBLISH", channel, bytes}, [](RedisReply&) {}))
    return;
  if (!keep) return;
  if (unsent_.size() >= settings_.maxPending) {
    ++counters_.unsentDropped;
    return;
  }
  if (unsentBytes_ + bytes.size() > kMaxUnsentBytes) {
    // The caller still hears of its call, in a few bytes.
    if (!answer) {
      ++counters_.unsentDropped;
      return;
    }
    bytes = encodeCallMessage(
        answerFailed(stamped, uriOf(Fault::ClusterUnavailable),
                     "the callee's node could not forward the answer (Redis is slow or away)"));
  }
  unsentBytes_ += bytes.size();
  unsent_.emplace_back(std::move(channel), std::move(bytes));
}

void ClusterCalls::flushUnsent() {
  // In order, as far as the connection takes them; the rest waits for the next tick.
  while (!unsent_.empty() && commands_->up() && !closed_) {
    auto& [channel, bytes] = unsent_.front();
    if (!command({"PUBLISH", channel, bytes}, [](RedisReply&) {})) return;
    unsentBytes_ -= bytes.size();
    unsent_.pop_front();
  }
}

void ClusterCalls::answer(const std::string& node, CallMessage& m) {
  auto it = pending_.find(m.call);
  if (it == pending_.end() || it->second.caller != m.caller ||
      (!it->second.owner.empty() && it->second.owner != node)) {
    // Answered, timed out or failed here already (perhaps while the cancel could not leave):
    // a callee still making progress is told to stop. A final answer means it stopped.
    if (m.kind == CallMessage::Kind::Result && m.progress)
      sendCancel(node, m.caller, m.call, "killnowait");
    return;
  }
  Pending& p = it->second;
  const Object* kwargs = m.hasKwargs ? &m.kwargs : nullptr;
  if (m.kind == CallMessage::Kind::Result && m.progress) {
    if (!p.abandoned && p.progress) p.onResult(m.args, kwargs, true);
    return;
  }
  Pending done = std::move(p);
  pending_.erase(it);
  if (done.abandoned) return;
  byRequest_.erase({done.caller, done.request});
  if (m.kind == CallMessage::Kind::Result)
    done.onResult(m.args, kwargs, false);
  else
    done.onError(m.uri, m.args, kwargs);
}

void ClusterCalls::claim(const std::string& uri, bool shared, std::function<void(Status)> done) {
  if (!ready())
    return done(Status::error(uriOf(Fault::ClusterUnavailable),
                              "the cluster is unreachable: registrations wait for Redis"));
  const std::string key = keyOf(uri);
  command({"EVAL", kClaimScript, "1", key, settings_.nodeId, kClaimTtlMs}, [this, uri, shared,
                                                                            done = std::move(done)](
                                                                               RedisReply& r) {
    if (r.isArray() && r.elements.size() == 1 && r.elements[0].type == RedisReply::Type::Integer) {
      owned_.insert(uri);
      conflicted_.erase(uri);
      return done(Status());
    }
    if (r.isArray() && r.elements.size() == 1 && r.elements[0].type == RedisReply::Type::String) {
      const std::string& owner = r.elements[0].str;
      if (shared)
        return done(
            Status::error(uriOf(Fault::ClusterSharedRegistration),
                          "\"" + uri + "\" is registered on node " + owner +
                              "; a shared registration is served by callees of one node only"));
      return done(Status::error(uriOf(Fault::ProcedureAlreadyExists),
                                "\"" + uri + "\" is registered on node " + owner));
    }
    done(Status::error(uriOf(Fault::ClusterUnavailable),
                       "Redis did not confirm the registration: " +
                           (r.type == RedisReply::Type::Error ? r.str : "bad reply")));
  });
}

void ClusterCalls::release(const std::string& uri) noexcept {
  owned_.erase(uri);
  conflicted_.erase(uri);
  if (!commands_->up()) return;  // it lapses
  try {
    command({"EVAL", kReleaseScript, "1", keyOf(uri), settings_.nodeId}, [](RedisReply&) {});
  } catch (const std::exception& e) {
    spdlog::error("cluster: cannot release {}: {}", uri, e.what());
  }
}

void ClusterCalls::refresh() {
  // A node that cannot receive calls keeps no claim: its claims lapse and its callers get
  // errors rather than calls sent nowhere.
  if (!ready() || owned_.empty()) return;
  std::vector<std::string> uris(owned_.begin(), owned_.end());
  std::vector<std::string> args{"EVAL", kClaimScript, std::to_string(uris.size())};
  for (const std::string& uri : uris) args.push_back(keyOf(uri));
  args.push_back(settings_.nodeId);
  args.push_back(kClaimTtlMs);
  std::vector<std::string_view> views(args.begin(), args.end());
  command(views, [this, uris = std::move(uris)](RedisReply& r) {
    if (!r.isArray() || r.elements.size() != uris.size()) return;
    for (std::size_t i = 0; i < uris.size(); ++i) {
      if (!owned_.count(uris[i])) continue;  // released meanwhile
      if (r.elements[i].type == RedisReply::Type::Integer) {
        conflicted_.erase(uris[i]);
        continue;
      }
      // Another node claimed it while this one's claim had lapsed (Redis away or restarted
      // empty): that node's callers reach that node's callee, this node's callers this
      // node's; this node keeps serving and tries again each second.
      if (conflicted_.insert(uris[i]).second) {
        ++counters_.conflicts;
        spdlog::warn(
            "cluster: node {}: procedure {} is now registered on node {} as well; this "
            "node's callers keep reaching this node's callee",
            settings_.nodeName, uris[i], r.elements[i].str);
      }
    }
  });
}

void ClusterCalls::call(const CallerInfo& caller, const std::string& uri, const Array& args,
                        const CallOptions& options, ResultSink onResult, ErrorSink onError) {
  if (!ready()) {
    ++counters_.failed;
    return onError(
        uriOf(Fault::ClusterUnavailable),
        Array{Value("no callee for \"" + uri + "\" on this node, and the cluster is unreachable")},
        nullptr);
  }
  if (pending_.size() >= settings_.maxPending) {
    ++counters_.failed;
    ++counters_.refused;
    return onError(uriOf(Fault::ClusterUnavailable),
                   Array{Value("too many calls wait for other nodes (" +
                               std::to_string(settings_.maxPending) + ")")},
                   nullptr);
  }
  CallMessage m;
  m.kind = CallMessage::Kind::Call;
  m.node = settings_.nodeId;
  m.call = ++nextCall_;
  m.caller = caller.session;
  m.uri = uri;
  m.progress = options.receiveProgress;
  m.discloseMe = options.discloseMe;
  m.authid = caller.authid;
  m.authrole = caller.authrole;
  m.timeoutMs = options.timeoutMs;
  m.hasArgs = true;
  m.args = args;
  if (options.kwargs) {
    m.hasKwargs = true;
    m.kwargs = *options.kwargs;
  }
  std::string bytes;
  try {
    bytes = encodeCallMessage(m);
  } catch (const std::exception& e) {
    return onError(uriOf(Fault::InvalidArgument),
                   Array{Value(std::string("the call cannot be encoded: ") + e.what())}, nullptr);
  }
  const std::uint64_t id = m.call;
  Pending& p = pending_[id];
  p.caller = caller.session;
  p.request = options.request;
  p.progress = options.receiveProgress;
  p.onResult = std::move(onResult);
  p.onError = std::move(onError);
  p.started = std::chrono::steady_clock::now();
  if (options.request != 0) byRequest_[{caller.session, options.request}] = id;
  if (options.timeoutMs > 0) {
    // The timeout runs here, on the caller's node; the owner is told to cancel.
    p.timer = std::make_unique<asio::steady_timer>(io_);
    p.timer->expires_after(std::chrono::milliseconds(options.timeoutMs));
    p.timer->async_wait([this, id](const asio::error_code& e) {
      if (e) return;
      auto it = pending_.find(id);
      if (it == pending_.end() || it->second.abandoned) return;
      ErrorSink sink = std::move(it->second.onError);
      abandon(id, "killnowait");
      sink(uriOf(Fault::Timeout), Array{Value("the call timed out")}, nullptr);
    });
  }
  ++counters_.sent;
  command({"EVAL", kRouteScript, "1", keyOf(uri), channelPrefix_, bytes},
          [this, id](RedisReply& r) { routed(id, r); });
}

void ClusterCalls::routed(std::uint64_t id, RedisReply& r) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending& p = it->second;
  if (r.isArray() && r.elements.size() == 2 && r.elements[0].type == RedisReply::Type::String &&
      r.elements[1].type == RedisReply::Type::Integer) {
    const std::string owner = r.elements[0].str;
    if (r.elements[1].integer == 0)
      return fail(id, Fault::CalleeNodeGone,
                  "the procedure's node " + owner + " does not take calls (stopped or cut off)");
    if (p.abandoned) {
      const std::string mode = p.abandoned;
      const SessionId caller = p.caller;
      pending_.erase(it);
      if (mode != "skip") sendCancel(owner, caller, id, mode);
      return;
    }
    p.owner = owner;
    return;
  }
  if (r.isArray() && r.elements.size() == 1) {
    // No node serves it (the key is gone): what a standalone server answers.
    auto sink = std::move(p.onError);
    const bool answer = !p.abandoned;
    // An abandoned call's handle is gone already; a newer call may hold its request id.
    if (answer) byRequest_.erase({p.caller, p.request});
    pending_.erase(it);
    if (answer)
      sink(uriOf(Fault::NoSuchProcedure), Array{Value("no callee for the procedure")}, nullptr);
    return;
  }
  fail(id, Fault::ClusterUnavailable,
       "Redis did not route the call: " +
           (r.type == RedisReply::Type::Error ? r.str : std::string("bad reply")));
}

void ClusterCalls::fail(std::uint64_t id, Fault fault, const std::string& message) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending done = std::move(it->second);
  pending_.erase(it);
  if (done.abandoned) return;
  byRequest_.erase({done.caller, done.request});
  ++counters_.failed;
  done.onError(uriOf(fault), Array{Value(message)}, nullptr);
}

void ClusterCalls::abandon(std::uint64_t id, const char* mode) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending& p = it->second;
  byRequest_.erase({p.caller, p.request});
  if (p.timer) p.timer->cancel();
  if (p.owner.empty()) {
    // The call may be on its way already: the owner hears of it once Redis said who it is.
    p.abandoned = mode;
    p.onResult = nullptr;
    p.onError = nullptr;
    return;
  }
  if (std::string_view(mode) != "skip") sendCancel(p.owner, p.caller, id, mode);
  pending_.erase(it);
}

void ClusterCalls::sendCancel(const std::string& owner, SessionId caller, std::uint64_t call,
                              const std::string& mode) {
  CallMessage m;
  m.kind = CallMessage::Kind::Cancel;
  m.call = call;
  m.caller = caller;
  m.uri = mode;
  publish(owner, m);
}

bool ClusterCalls::cancel(SessionId caller, std::uint64_t request, const std::string& mode) {
  auto found = byRequest_.find({caller, request});
  if (found == byRequest_.end()) return false;
  const std::uint64_t id = found->second;
  Pending& p = pending_.at(id);
  if (mode == "kill" && !p.owner.empty()) {
    // The owner's dealer decides: its callee's answer, or canceled, comes back as usual.
    sendCancel(p.owner, caller, id, "kill");
    return true;
  }
  ErrorSink sink = std::move(p.onError);
  abandon(id, mode == "skip" ? "skip" : "killnowait");
  sink(uriOf(Fault::Canceled), Array{Value("the call was canceled")}, nullptr);
  return true;
}

void ClusterCalls::callerLeft(SessionId caller) noexcept {
  std::vector<std::uint64_t> made;
  for (const auto& [id, p] : pending_)
    if (p.caller == caller && !p.abandoned) made.push_back(id);
  for (std::uint64_t id : made) abandon(id, "killnowait");
}

void ClusterCalls::tick() {
  tick_.expires_after(kTickEvery);
  tick_.async_wait([this](const asio::error_code& e) {
    if (!e) tick();
  });
  flushUnsent();
  refresh();
  const auto now = std::chrono::steady_clock::now();
  // Each node asked about once a tick, however many calls wait on it.
  std::unordered_map<std::string, std::optional<bool>> states;
  auto stateOf = [&](const std::string& node) {
    auto [it, added] = states.try_emplace(node);
    if (added) it->second = nodeState_(node);
    return it->second;
  };
  std::vector<std::pair<std::uint64_t, std::string>> gone;
  for (const auto& [id, p] : pending_) {
    if (p.owner.empty()) continue;
    const std::optional<bool> alive = stateOf(p.owner);
    if (alive ? !*alive : now - p.started > kUnknownNodeGrace) gone.emplace_back(id, p.owner);
  }
  for (const auto& [id, owner] : gone)
    fail(id, Fault::CalleeNodeGone,
         "the callee's node " + owner + " stopped reporting; the call's outcome is unknown");
  // Calls served for a node that stopped reporting: no one waits for their answers.
  std::vector<std::pair<SessionId, std::uint64_t>> orphans;
  for (const auto& [key, node] : served_)
    if (std::optional<bool> alive = stateOf(node); alive && !*alive) orphans.push_back(key);
  // The caller's node may still wait (staleness is this node's view): the cancel's error
  // reaches it through the call's error sink, which removes the entry.
  for (const auto& [caller, call] : orphans) {
    dealer_.cancel(caller, call, "killnowait", true);
    served_.erase({caller, call});  // answered already: the dealer knew no such call
  }
}

}  // namespace wampd::core::cluster
