#include "cluster/cluster_bus.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <random>

#include "wamp/v2_codec.h"

namespace wampd::core::cluster {
namespace {

constexpr std::int64_t kFormat = 1;
constexpr auto kReportEvery = std::chrono::seconds(1);
constexpr auto kStaleAfter = std::chrono::seconds(3);
constexpr auto kForgetAfter = std::chrono::seconds(60);

Value idList(const SessionIds* ids) {
  Array out;
  if (ids)
    for (SessionId id : *ids) out.push_back(Value(id));
  return Value(std::move(out));
}

Value nameList(const std::vector<std::string>* names) {
  Array out;
  if (names)
    for (const std::string& n : *names) out.push_back(Value(n));
  return Value(std::move(out));
}

bool readIds(const Value& v, SessionIds& out) {
  const Array* a = v.array();
  if (!a) return false;
  for (const Value& id : *a) {
    if (!id.isInteger()) return false;
    out.push_back(id.asUInt());
  }
  return true;
}

bool readNames(const Value& v, std::vector<std::string>& out) {
  const Array* a = v.array();
  if (!a) return false;
  for (const Value& n : *a) {
    if (!n.isString()) return false;
    out.emplace_back(n.asString());
  }
  return true;
}

std::string randomNodeId() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> byte(0, 255);
  std::string out;
  char hex[3];
  for (int i = 0; i < 8; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", byte(device));
    out += hex;
  }
  return out;
}

// Redis's stringmatchlen: '\\' makes the next character literal.
void appendEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
}

}  // namespace

std::string redisGlob(std::string_view channelPrefix, std::string_view match,
                      std::string_view pattern) {
  std::string out;
  out.reserve(channelPrefix.size() + pattern.size() + 8);
  appendEscaped(out, channelPrefix);
  if (match == "prefix") {
    appendEscaped(out, pattern);
    out.push_back('*');
    return out;
  }
  // wildcard: an empty component matches any one component; "*" matches it and more.
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = pattern.find('.', start);
    const std::string_view component =
        pattern.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (component.empty())
      out.push_back('*');
    else
      appendEscaped(out, component);
    if (dot == std::string_view::npos) return out;
    out.push_back('.');
    start = dot + 1;
  }
}

SessionId clusterSessionId(std::uint32_t nodeNumber, std::uint64_t random) noexcept {
  constexpr std::uint64_t kLow = (std::uint64_t{1} << kSessionNodeShift) - 1;
  std::uint64_t low = random & kLow;
  if (nodeNumber == 0 && low == 0) low = 1;  // 0 is no WAMP id
  return (std::uint64_t{nodeNumber} << kSessionNodeShift) | low;
}

std::string encodeEvent(const ClusterEvent& e, const std::string& origin, std::uint64_t sequence) {
  Array m;
  m.reserve(16);
  m.push_back(Value(kFormat));
  m.push_back(Value(origin));
  m.push_back(Value(sequence));
  m.push_back(Value(e.topic));
  m.push_back(Value(e.publication));
  m.push_back(e.payload ? *e.payload : Value());
  m.push_back(idList(e.exclude));
  m.push_back(idList(e.eligible));
  m.push_back(nameList(e.eligibleAuthid));
  m.push_back(nameList(e.excludeAuthid));
  m.push_back(nameList(e.eligibleAuthrole));
  m.push_back(nameList(e.excludeAuthrole));
  m.push_back(Value(e.publisher));
  m.push_back(Value(e.publisherAuthid));
  m.push_back(Value(e.publisherAuthrole));
  m.push_back(e.args ? Value(*e.args) : Value());
  m.push_back(e.kwargs ? Value(*e.kwargs) : Value());
  return wamp2::encode(m, wamp2::Serializer::MsgPack);
}

bool decodeEvent(std::string_view bytes, Broker::RemoteEvent& e, std::string& origin,
                 std::uint64_t& sequence, std::string& error) {
  Array m;
  if (!wamp2::decode(bytes, wamp2::Serializer::MsgPack, m, error)) return false;
  if (m.size() != 17 || m[0].asInt() != kFormat || !m[1].isString() || !m[2].isInteger() ||
      !m[3].isString() || !m[4].isInteger() || !m[12].isInteger() || !m[13].isString() ||
      !m[14].isString() || !(m[15].isNull() || m[15].isArray()) ||
      !(m[16].isNull() || m[16].isObject())) {
    error = "not a wampd cluster event (format 1)";
    return false;
  }
  e = Broker::RemoteEvent{};
  origin = std::string(m[1].asString());
  sequence = m[2].asUInt();
  e.topic = std::string(m[3].asString());
  e.publication = m[4].asUInt();
  e.payload = std::move(m[5]);
  if (!readIds(m[6], e.exclude) || !readIds(m[7], e.eligible) ||
      !readNames(m[8], e.options.eligibleAuthid) || !readNames(m[9], e.options.excludeAuthid) ||
      !readNames(m[10], e.options.eligibleAuthrole) ||
      !readNames(m[11], e.options.excludeAuthrole)) {
    error = "malformed filters";
    return false;
  }
  e.publisher = m[12].asUInt();
  e.publisherAuthid = std::string(m[13].asString());
  e.publisherAuthrole = std::string(m[14].asString());
  if (Array* args = m[15].array()) {
    e.hasArgs = true;
    e.args = std::move(*args);
  }
  if (Object* kwargs = m[16].object()) {
    e.hasKwargs = true;
    e.kwargs = std::move(*kwargs);
  }
  return true;
}

ClusterBus::ClusterBus(asio::io_context& io, ClusterSettings settings, Broker& broker,
                       Report report)
    : io_(io),
      settings_(std::move(settings)),
      broker_(broker),
      report_(std::move(report)),
      nodeId_(randomNodeId()),
      name_(settings_.node.empty() ? nodeId_ : settings_.node),
      prefix_(settings_.prefix + ":"),
      nodesChannel_(settings_.prefix + "!nodes"),
      reportTimer_(io) {
  RedisLink::Options pubOptions;
  pubOptions.address = settings_.redis;
  pubOptions.name = "publish";
  pub_ = std::make_shared<RedisLink>(
      io, pubOptions,
      RedisLink::Handlers{
          [this] {
            spdlog::info("cluster: node {}: publishing through Redis at {}", name_,
                         settings_.redis.describe());
            pubWasUp_ = true;
            lastTrouble_.clear();
            if (nodeNumber_ == 0)
              numberAsked_ = pub_->send(formatCommand({"INCR", settings_.prefix + "!node-number"}));
          },
          [this](const std::string& why) {
            if (pubWasUp_)
              spdlog::warn(
                  "cluster: node {}: Redis publish connection lost ({}); events "
                  "reach this node's subscribers only until it is back",
                  name_, why);
            else
              cannotConnect(why);
            pubWasUp_ = false;
            numberAsked_ = false;
          },
          [this](RedisReply& r) {
            if (numberAsked_) {
              numberAsked_ = false;
              return takeNodeNumber(r);
            }
            if (r.type == RedisReply::Type::Error)
              spdlog::warn("cluster: Redis refused a command: {}", r.str);
          }});
  RedisLink::Options subOptions = pubOptions;
  subOptions.name = "subscribe";
  subOptions.subscriber = true;
  sub_ = std::make_shared<RedisLink>(
      io, subOptions,
      RedisLink::Handlers{[this] { onSubscriberUp(); },
                          [this](const std::string& why) { onSubscriberDown(why); },
                          [this](RedisReply& r) { onPush(r); }});
}

ClusterBus::~ClusterBus() {
  stop();
}

void ClusterBus::start() {
  spdlog::info("cluster: node {} (id {}), Redis {}, prefix '{}'", name_, nodeId_,
               settings_.redis.describe(), settings_.prefix);
  pub_->start();
  sub_->start();
  report();
}

void ClusterBus::stop() {
  reportTimer_.cancel();
  pub_->stop();
  sub_->stop();
  for (auto& [topic, channel] : channels_) ready(channel);
  for (auto& [glob, channel] : globs_) ready(channel);
}

bool ClusterBus::forward(const ClusterEvent& event) noexcept {
  if (!pub_->up()) {
    ++counters_.notForwarded;
    return false;
  }
  try {
    const std::string channel = channelOf(event.topic);
    const std::string message = encodeEvent(event, nodeId_, sequence_ + 1);
    if (!pub_->send(formatCommand({"PUBLISH", channel, message}))) {
      ++counters_.notForwarded;
      return false;
    }
  } catch (const std::exception& e) {
    spdlog::error("cluster: topic {}: cannot encode an event: {}", event.topic, e.what());
    ++counters_.notForwarded;
    return false;
  }
  ++sequence_;
  ++counters_.forwarded;
  return true;
}

void ClusterBus::topicWanted(std::string_view topic) noexcept {
  Channel& channel = channels_[std::string(topic)];
  channel.wanted = true;
  if (!sub_->up()) return;
  if (sub_->send(formatCommand({"SUBSCRIBE", channelOf(topic)})))
    ++channel.pending;
  else
    ready(channel);  // the buffer is full: the link is as good as down
}

void ClusterBus::topicUnwanted(std::string_view topic) noexcept {
  auto it = channels_.find(std::string(topic));
  if (it == channels_.end()) return;
  it->second.wanted = false;
  ready(it->second);
  if (sub_->up()) sub_->send(formatCommand({"UNSUBSCRIBE", channelOf(topic)}));
  if (it->second.pending == 0) channels_.erase(it);
}

void ClusterBus::whenReceiving(std::string_view topic, std::function<void()> done) {
  auto it = channels_.find(std::string(topic));
  if (!sub_->up() || it == channels_.end() || it->second.pending == 0) return done();
  it->second.waiters.push_back(std::move(done));
}

void ClusterBus::patternWanted(std::string_view match, std::string_view pattern) noexcept {
  const std::string glob = redisGlob(prefix_, match, pattern);
  Channel& channel = globs_[glob];
  channel.wanted = ++channel.users > 0;
  if (channel.users > 1 || !sub_->up()) return;
  if (sub_->send(formatCommand({"PSUBSCRIBE", glob})))
    ++channel.pending;
  else
    ready(channel);  // the buffer is full: the link is as good as down
}

void ClusterBus::patternUnwanted(std::string_view match, std::string_view pattern) noexcept {
  auto it = globs_.find(redisGlob(prefix_, match, pattern));
  if (it == globs_.end() || --it->second.users > 0) return;
  it->second.wanted = false;
  ready(it->second);
  if (sub_->up()) sub_->send(formatCommand({"PUNSUBSCRIBE", it->first}));
  if (it->second.pending == 0) globs_.erase(it);
}

void ClusterBus::whenReceivingPattern(std::string_view match, std::string_view pattern,
                                      std::function<void()> done) {
  auto it = globs_.find(redisGlob(prefix_, match, pattern));
  if (!sub_->up() || it == globs_.end() || it->second.pending == 0) return done();
  it->second.waiters.push_back(std::move(done));
}

void ClusterBus::ready(Channel& channel) {
  auto waiters = std::move(channel.waiters);
  channel.waiters.clear();
  for (auto& w : waiters) w();
}

void ClusterBus::onSubscriberUp() {
  spdlog::info("cluster: node {}: receiving through Redis at {} ({} topics)", name_,
               settings_.redis.describe(), channels_.size());
  subWasUp_ = true;
  lastTrouble_.clear();
  // Everything this node serves, again: the connection is new, Redis forgot the old one's.
  std::vector<std::string> args{"SUBSCRIBE", nodesChannel_};
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (!it->second.wanted) {
      it = channels_.erase(it);
      continue;
    }
    args.push_back(channelOf(it->first));
    it->second.pending = 1;
    ++it;
  }
  // The nodes' channel's own confirmation is not a topic's.
  std::vector<std::string_view> views(args.begin(), args.end());
  if (!sub_->send(formatCommand(views)))
    for (auto& [topic, channel] : channels_) channel.pending = 0;
  std::vector<std::string_view> globs{"PSUBSCRIBE"};
  for (auto it = globs_.begin(); it != globs_.end();) {
    if (!it->second.wanted) {
      it = globs_.erase(it);
      continue;
    }
    globs.push_back(it->first);
    it->second.pending = 1;
    ++it;
  }
  if (globs.size() > 1 && !sub_->send(formatCommand(globs)))
    for (auto& [glob, channel] : globs_) channel.pending = 0;
}

void ClusterBus::takeNodeNumber(const RedisReply& reply) {
  if (reply.type != RedisReply::Type::Integer || reply.integer < 1) {
    spdlog::warn("cluster: node {}: no node number from Redis ({}); session ids stay random", name_,
                 reply.type == RedisReply::Type::Error ? reply.str : "not a number");
    return;
  }
  nodeNumber_ = static_cast<std::uint32_t>((reply.integer - 1) % kMaxNodeNumber) + 1;
  spdlog::info("cluster: node {}: node number {} (new session ids are {} * 2^{} + random)", name_,
               nodeNumber_, nodeNumber_, kSessionNodeShift);
}

void ClusterBus::cannotConnect(const std::string& why) {
  // Once per reason, not once per retry (every 2 s at most) nor per connection.
  if (why == lastTrouble_) return;
  lastTrouble_ = why;
  // WRONGPASS, NOAUTH, "ERR AUTH ... without any password configured".
  const bool auth =
      why.find("AUTH") != std::string::npos || why.find("WRONGPASS") != std::string::npos;
  spdlog::error(
      "cluster: node {}: cannot use Redis at {}: {}{}; this node serves its own subscribers "
      "only and keeps retrying",
      name_, settings_.redis.describe(), why,
      auth ? " (check the password in cluster.redis or $WAMPD_REDIS_PASSWORD)" : "");
}

void ClusterBus::onSubscriberDown(const std::string& why) {
  if (subWasUp_)
    spdlog::warn(
        "cluster: node {}: Redis subscription connection lost ({}); other nodes' "
        "events do not reach this node until it is back",
        name_, why);
  else
    cannotConnect(why);
  subWasUp_ = false;
  for (auto* map : {&channels_, &globs_}) {
    for (auto it = map->begin(); it != map->end();) {
      it->second.pending = 0;
      ready(it->second);
      if (!it->second.wanted)
        it = map->erase(it);
      else
        ++it;
    }
  }
}

void ClusterBus::onPush(RedisReply& reply) {
  if (!reply.isArray() || reply.elements.size() < 3) {
    if (reply.type == RedisReply::Type::Error)
      spdlog::warn("cluster: Redis refused a subscription command: {}", reply.str);
    return;
  }
  const std::string_view kind = reply.text(0), channelName = reply.text(1);
  if (kind == "pmessage" && reply.elements.size() == 4) {
    const std::string_view channel = reply.text(2);
    // Redis sends a channel's subscribers a message before its pattern subscribers: when this
    // connection's SUBSCRIBE to the channel is confirmed and not taken back, the event came
    // already, and the copy is dropped before it is decoded (the sequence check is the
    // backstop for the moments in between).
    if (channel.size() > prefix_.size() && channel.substr(0, prefix_.size()) == prefix_) {
      auto it = channels_.find(std::string(channel.substr(prefix_.size())));
      if (it != channels_.end() && it->second.wanted && it->second.pending == 0) return;
    }
    return onEvent(channel, reply.elements[3].str, true);
  }
  if (kind == "message") {
    const std::string& payload = reply.elements[2].str;
    if (channelName == nodesChannel_) {
      Array m;
      std::string error;
      if (!wamp2::decode(payload, wamp2::Serializer::MsgPack, m, error) || m.size() != 3 ||
          !m[0].isString() || !m[1].isString())
        return;
      NodeReport& r = reports_[std::string(m[0].asString())];
      r.name = std::string(m[1].asString());
      r.at = std::chrono::steady_clock::now();
      r.figures = std::move(m[2]);
      return;
    }
    return onEvent(channelName, payload, false);
  }
  if (kind == "psubscribe") {
    auto it = globs_.find(std::string(channelName));
    if (it == globs_.end() || it->second.pending == 0) return;
    if (--it->second.pending == 0) {
      ready(it->second);
      if (!it->second.wanted) globs_.erase(it);
    }
    return;
  }
  if (kind == "subscribe" && channelName.size() > prefix_.size() &&
      channelName.substr(0, prefix_.size()) == prefix_) {
    auto it = channels_.find(std::string(channelName.substr(prefix_.size())));
    if (it == channels_.end() || it->second.pending == 0) return;
    if (--it->second.pending == 0) {
      ready(it->second);
      if (!it->second.wanted) channels_.erase(it);
    }
  }
}

void ClusterBus::onEvent(std::string_view channelName, const std::string& payload, bool viaGlob) {
  Broker::RemoteEvent event;
  std::string origin, error;
  std::uint64_t sequence = 0;
  if (!decodeEvent(payload, event, origin, sequence, error)) {
    ++counters_.malformed;
    spdlog::warn("cluster: channel {}: {}", channelName, error);
    return;
  }
  if (origin == nodeId_) return;  // delivered here when it was broadcast
  std::uint64_t& last = seen_[origin];
  if (sequence <= last) {
    // A glob's copy of a message this node took from the topic's channel (or from another
    // glob) is expected; anything else seen twice is counted.
    if (!viaGlob) ++counters_.duplicates;
    return;
  }
  last = sequence;
  ++counters_.received;
  broker_.deliverRemote(event);
}

void ClusterBus::report() {
  reportTimer_.expires_after(kReportEvery);
  reportTimer_.async_wait([this](const asio::error_code& e) {
    if (e) return;
    report();
  });
  const auto now = std::chrono::steady_clock::now();
  // Nodes gone for a minute are forgotten (each start of a node is a new id).
  for (auto it = reports_.begin(); it != reports_.end();) {
    if (now - it->second.at > kForgetAfter) {
      seen_.erase(it->first);
      it = reports_.erase(it);
    } else {
      ++it;
    }
  }
  Value figures = report_ ? report_() : Value(Object{});
  reports_[nodeId_] = NodeReport{name_, std::chrono::steady_clock::now(), figures};
  if (!pub_->up()) return;
  try {
    Array m{Value(nodeId_), Value(name_), std::move(figures)};
    pub_->send(
        formatCommand({"PUBLISH", nodesChannel_, wamp2::encode(m, wamp2::Serializer::MsgPack)}));
  } catch (const std::exception& e) {
    spdlog::error("cluster: cannot encode this node's report: {}", e.what());
  }
}

ClusterBus::Counters ClusterBus::counters() const noexcept {
  Counters c = counters_;
  c.redisWrites = pub_->counters().writes;
  c.redisReconnects = pub_->counters().disconnects + sub_->counters().disconnects;
  return c;
}

Value ClusterBus::nodes() const {
  const auto now = std::chrono::steady_clock::now();
  Array out;
  for (const auto& [id, r] : reports_) {
    const double age = std::chrono::duration<double>(now - r.at).count();
    out.push_back(Value(Object{{"node", Value(r.name)},
                               {"id", Value(id)},
                               {"self", Value(id == nodeId_)},
                               {"seconds_since_report", Value(age)},
                               {"stale", Value(now - r.at > kStaleAfter)},
                               {"stats", r.figures}}));
  }
  return Value(std::move(out));
}

}  // namespace wampd::core::cluster
