#include "router/broker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/steady_timer.hpp>
#include <unordered_set>
#include <vector>

#include "auth/authenticator.h"
#include "common/errors.h"
#include "common/log_fields.h"
#include "wamp/v2_codec.h"

namespace wampd::core {

// A concrete topic URI with subscribers; what handlers see as wampd::Topic.
class TopicState final : public wampd::Topic, public std::enable_shared_from_this<TopicState> {
 public:
  TopicState(Broker& broker, std::string uri, Request request, const Route& route,
             const TopicHandlerEntry& entry, std::shared_ptr<const Generation> generation)
      : broker_(broker),
        uri_(std::move(uri)),
        request_(std::move(request)),
        route_(&route),
        entry_(&entry),
        generation_(std::move(generation)) {}

  ~TopicState() { stopTimers(); }

  std::string_view uri() const noexcept override { return uri_; }
  std::size_t subscriberCount() const noexcept override { return subscribers_.size(); }
  void forEachSubscriber(void (*visit)(const Connection&, void*),
                         void* context) const noexcept override {
    for (const Peer* s : subscribers_) visit(*s, context);
  }
  void broadcast(const Value& event, const SessionIds& exclude,
                 const SessionIds& eligible) noexcept override;
  /// What the publication that caused a broadcast adds to its event: the publisher's
  /// disclosure and its own arguments.
  void describePublication(Event& delivery, const Value& event) const;
  /// Hands `delivery` to the exact subscribers, then to the admitted pattern subscribers.
  void fanOut(Event& delivery, const SessionIds& exclude, const SessionIds& eligible,
              const Broker::PublishOptions* filters) noexcept;
  void broadcastToPatterns(const Event& exact, const SessionIds& exclude,
                           const SessionIds& eligible,
                           const Broker::PublishOptions* options) noexcept;
  void forwardToCluster(const Value& event, const SessionIds& exclude,
                        const SessionIds& eligible) noexcept;

  const Request& request() const noexcept { return request_; }
  /// Who may publish here: the route's `publish:`, else the server's default.
  const std::string& publishPolicy() const noexcept {
    const std::string& own = route_->spec().publishPolicy;
    return own.empty() ? generation_->config.auth.defaultPublish : own;
  }
  boundary::TopicEndpoint& handler() const noexcept { return *entry_->handler; }
  const boundary::TopicEndpoint* handlerIdentity() const noexcept { return entry_->handler.get(); }
  const Route* route() const noexcept { return route_; }
  const std::vector<Peer*>& subscribers() const noexcept { return subscribers_; }

  /// Serves this topic from another generation. With the same handler instance its timers
  /// run on; with another handler they restart with the new handler's timers.
  void rebind(const Route& route, const TopicHandlerEntry& entry, Request request,
              std::shared_ptr<const Generation> generation) {
    const bool sameHandler = entry.handler == entry_->handler;
    if (!sameHandler) stopTimers();
    route_ = &route;
    entry_ = &entry;
    request_ = std::move(request);
    generation_ = std::move(generation);
    if (!sameHandler && !subscribers_.empty()) startTimers();
  }
  bool contains(Peer& s) const { return index_.count(&s) != 0; }

  void add(Peer& s) {
    index_.emplace(&s, subscribers_.size());
    subscribers_.push_back(&s);
    if (subscribers_.size() == 1) startTimers();
  }
  void remove(Peer& s) {
    auto it = index_.find(&s);
    if (it == index_.end()) return;
    const std::size_t i = it->second;
    index_.erase(it);
    if (i + 1 != subscribers_.size()) {
      subscribers_[i] = subscribers_.back();
      index_[subscribers_[i]] = i;
    }
    subscribers_.pop_back();
    if (subscribers_.empty()) stopTimers();
  }

 private:
  void startTimers();
  void stopTimers() {
    for (auto& t : timers_) t->cancel();
    timers_.clear();
  }
  void arm(std::size_t i);

  Broker& broker_;
  std::string uri_;
  Request request_;
  const Route* route_;              // lives in generation_
  const TopicHandlerEntry* entry_;  // lives in generation_
  std::shared_ptr<const Generation> generation_;
  // A vector for fast fan-out, an index for O(1) membership and removal.
  std::vector<Peer*> subscribers_;

 public:
  /// The WAMP v2 subscription id of this topic (every exact subscriber shares it).
  std::uint64_t subscriptionId = 0;
  /// Set by Broker::publish while the handler runs: what broadcast() needs from the
  /// publication that caused it. Null for broadcasts from timers or onSubscribe.
  struct Publication {
    const Peer* publisher;
    std::uint64_t id;
    const Value* event;
    const Broker::PublishOptions* options;
    /// An event of it could not go to the other nodes.
    bool unforwarded = false;
  };
  Publication* publication = nullptr;
  /// Pattern subscribers the handler admitted (true) or refused (false). A verdict lasts
  /// while one of the session's patterns matches this topic: the handler is asked once, and
  /// an admission is told once (onUnSubscribe) when it ends.
  std::unordered_map<Peer*, bool> patternVerdicts;
  /// Verdicts keep a topic stored as exact subscribers do: forgotten, the next publication
  /// would ask the handler again.
  bool inUse() const noexcept { return !subscribers_.empty() || !patternVerdicts.empty(); }

 private:
  std::unordered_map<Peer*, std::size_t> index_;
  std::vector<std::unique_ptr<asio::steady_timer>> timers_;
};

namespace {

bool listed(const SessionIds& ids, SessionId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

namespace {

bool listedName(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Advanced-profile black- and whitelisting by authid and authrole.
bool passesIdentityFilters(const Broker::PublishOptions& o, const Peer& s) {
  if (o.eligibleAuthid.empty() && o.excludeAuthid.empty() && o.eligibleAuthrole.empty() &&
      o.excludeAuthrole.empty())
    return true;
  const std::string authid = s.authid(), authrole = s.authrole();
  if (!o.eligibleAuthid.empty() && !listedName(o.eligibleAuthid, authid)) return false;
  if (listedName(o.excludeAuthid, authid)) return false;
  if (!o.eligibleAuthrole.empty() && !listedName(o.eligibleAuthrole, authrole)) return false;
  return !listedName(o.excludeAuthrole, authrole);
}

}  // namespace

void TopicState::broadcast(const Value& event, const SessionIds& exclude,
                           const SessionIds& eligible) noexcept {
  ++broker_.counters_.events;
  // Only what a publication causes goes to the other nodes: timers and onSubscribe run on
  // every node for its own subscribers.
  if (publication && broker_.cluster_) forwardToCluster(event, exclude, eligible);
  if (subscribers_.empty() && broker_.patterns_.empty()) return;
  Event delivery{uri_, event};
  delivery.subscription = subscriptionId;
  delivery.publication = publication ? publication->id : broker_.newId();
  describePublication(delivery, event);
  fanOut(delivery, exclude, eligible, publication ? publication->options : nullptr);
}

void TopicState::forwardToCluster(const Value& event, const SessionIds& exclude,
                                  const SessionIds& eligible) noexcept {
  ClusterEvent out;
  out.topic = uri_;
  out.payload = &event;
  out.publication = publication->id;
  out.exclude = &exclude;
  out.eligible = &eligible;
  if (const Broker::PublishOptions* o = publication->options) {
    out.eligibleAuthid = &o->eligibleAuthid;
    out.excludeAuthid = &o->excludeAuthid;
    out.eligibleAuthrole = &o->eligibleAuthrole;
    out.excludeAuthrole = &o->excludeAuthrole;
    Event described{uri_, event};
    describePublication(described, event);
    if (described.publisher) {
      out.publisher = described.publisher->sessionId();
      out.publisherAuthid = std::move(described.publisherAuthid);
      out.publisherAuthrole = std::move(described.publisherAuthrole);
    }
    out.args = described.args;
    out.kwargs = described.kwargs;
  }
  if (broker_.cluster_->forward(out)) return;
  ++broker_.counters_.notForwarded;
  publication->unforwarded = true;
}

void TopicState::fanOut(Event& delivery, const SessionIds& exclude, const SessionIds& eligible,
                        const Broker::PublishOptions* filters) noexcept {
  // Large exclude/eligible lists get a hash set; the usual empty or tiny ones a scan.
  std::unordered_set<SessionId> excludeSet, eligibleSet;
  const bool hashed = exclude.size() + eligible.size() > 16;
  if (hashed) {
    excludeSet.insert(exclude.begin(), exclude.end());
    eligibleSet.insert(eligible.begin(), eligible.end());
  }
  const std::size_t limit = broker_.limits_.maxSendQueueBytes;
  for (Peer* s : subscribers_) {
    const SessionId id = s->sessionId();
    if (!exclude.empty() && (hashed ? excludeSet.count(id) != 0 : listed(exclude, id))) continue;
    if (!eligible.empty() && !(hashed ? eligibleSet.count(id) != 0 : listed(eligible, id)))
      continue;
    if (!s->receivesEvents()) continue;
    if (filters && !passesIdentityFilters(*filters, *s)) continue;
    if (s->queuedBytes() > limit) {
      const std::uint64_t count = ++broker_.counters_.slowSubscribersDisconnected;
      // About the subscriber, not the publisher whose message this is.
      const LogFields about{LogFields::number("session", id),
                            LogFields::text("remote", s->remoteAddress())};
      spdlog::warn(
          "session {} ({}): send queue over {} bytes, disconnecting ({} slow subscribers "
          "disconnected since start)",
          id, s->remoteAddress(), limit, count);
      s->fellBehind();
      continue;
    }
    if (!s->deliver(delivery)) {
      spdlog::error("topic {}: cannot encode event", uri_);
      return;
    }
    ++broker_.counters_.deliveries;
  }
  if (!broker_.patterns_.empty()) broadcastToPatterns(delivery, exclude, eligible, filters);
}

void TopicState::describePublication(Event& delivery, const Value& event) const {
  const Broker::PublishOptions* options = publication ? publication->options : nullptr;
  if (!options) return;
  if (options->discloseMe) {
    delivery.publisher = publication->publisher;
    delivery.publisherAuthid = publication->publisher->authid();
    delivery.publisherAuthrole = publication->publisher->authrole();
  }
  // A handler that passes the publisher's event on unchanged delivers the publisher's own
  // arguments; anything else arrives as the single argument.
  if (publication->event == &event && (options->args || options->kwargs)) {
    static const Array kNoArguments;
    delivery.args = options->args ? options->args : &kNoArguments;
    delivery.kwargs = options->kwargs;
  }
}

void TopicState::broadcastToPatterns(const Event& exact, const SessionIds& exclude,
                                     const SessionIds& eligible,
                                     const Broker::PublishOptions* options) noexcept {
  for (auto& [key, pattern] : broker_.patterns_) {
    if (!Broker::patternMatches(pattern.match, pattern.pattern, uri_)) continue;
    Event delivery{uri_, exact.payload};
    delivery.subscription = pattern.id;
    delivery.publication = exact.publication;
    delivery.viaPattern = true;
    delivery.publisher = exact.publisher;
    delivery.publisherAuthid = exact.publisherAuthid;
    delivery.publisherAuthrole = exact.publisherAuthrole;
    delivery.args = exact.args;
    delivery.kwargs = exact.kwargs;
    for (Peer* s : pattern.sessions) {
      auto verdict = patternVerdicts.find(s);
      if (verdict == patternVerdicts.end() || !verdict->second) continue;
      if (!s->receivesEvents()) continue;
      if (listed(exclude, s->sessionId())) continue;
      if (!eligible.empty() && !listed(eligible, s->sessionId())) continue;
      if (options && !passesIdentityFilters(*options, *s)) continue;
      if (s->queuedBytes() > broker_.limits_.maxSendQueueBytes) continue;
      if (!s->deliver(delivery)) {
        spdlog::error("topic {}: cannot encode event", uri_);
        return;
      }
      ++broker_.counters_.deliveries;
    }
  }
}

void TopicState::startTimers() {
  const auto& specs = entry_->description.timers;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    timers_.push_back(std::make_unique<asio::steady_timer>(broker_.io_));
    arm(i);
  }
}

void TopicState::arm(std::size_t i) {
  timers_[i]->expires_after(entry_->description.timers[i].interval);
  std::weak_ptr<TopicState> weak = weak_from_this();
  timers_[i]->async_wait([weak, i](const asio::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || i >= self->timers_.size()) return;
    Status status = self->entry_->handler->hostTimer(*self, self->entry_->description.timers[i]);
    if (!status)
      spdlog::error("topic {}: timer '{}' failed: {}", self->uri_,
                    self->entry_->description.timers[i].name, status.message());
    if (i < self->timers_.size()) self->arm(i);
  });
}

Broker::Broker(asio::io_context& io, BrokerLimits limits) : io_(io), limits_(limits) {}
Broker::~Broker() = default;

Broker::Migration Broker::setGeneration(std::shared_ptr<const Generation> generation) noexcept {
  Migration migration;
  const std::shared_ptr<const Generation> previous = std::move(generation_);
  generation_ = std::move(generation);
  std::vector<std::shared_ptr<TopicState>> live;
  live.reserve(topics_.size());
  for (const auto& entry : topics_) live.push_back(entry.second);

  // Routes before the first changed one cannot change which route a URI matches first, so
  // their topics keep their route without matching again (a swap stalls the I/O thread for
  // the topics of changed routes only).
  const auto& before = previous ? previous->router.routes() : generation_->router.routes();
  const auto& after = generation_->router.routes();
  std::size_t unchanged = 0;
  while (previous && unchanged < before.size() && unchanged < after.size() &&
         sameRoute(before[unchanged]->spec(), after[unchanged]->spec()))
    ++unchanged;
  std::unordered_map<const Route*, std::size_t> position;
  for (std::size_t i = 0; previous && i < unchanged; ++i) position[before[i].get()] = i;

  for (const auto& topic : live) {
    Request request;
    const Route* route = nullptr;
    if (auto kept = position.find(topic->route()); kept != position.end()) {
      route = after[kept->second].get();
      request = topic->request();
    } else {
      route = generation_->router.match(topic->uri(), request);
    }
    const TopicHandlerEntry* entry =
        route ? generation_->plugins.topicHandler(route->callback()) : nullptr;
    if (entry && entry->handler.get() == topic->handlerIdentity()) {
      topic->rebind(*route, *entry, std::move(request), generation_);
      ++migration.kept;
      continue;
    }
    const std::string uri(topic->uri());
    const std::vector<Peer*> subscribers = topic->subscribers();
    for (Peer* s : subscribers) {
      Status status = topic->handler().hostUnSubscribe(*s, *topic, topic->request());
      if (!status)
        spdlog::error("topic {}: onUnSubscribe failed during reload: {}", uri, status.message());
    }
    endPatternAdmissions(*topic);
    if (!entry) {
      // Pattern subscriptions live on (other topics may match): only their deliveries end.
      const Status gone = Status::error(uriOf(Fault::NoSuchSubscription),
                                        "Topic \"" + uri + "\" is no longer served");
      for (Peer* s : subscribers) {
        removeSubscriber(*topic, *s);
        s->subscriptionRevoked(uri, topic->subscriptionId, gone);
      }
      forget(*topic);
      ++migration.dropped;
      continue;
    }
    topic->rebind(*route, *entry, std::move(request), generation_);
    for (Peer* s : subscribers) {
      Status status = topic->handler().hostSubscribe(*s, *topic, topic->request());
      if (status) continue;
      removeSubscriber(*topic, *s);
      s->subscriptionRevoked(uri, topic->subscriptionId, status);
    }
    // Refusals above may have forgotten a topic the pattern subscribers keep.
    admitPatternSubscribers(*topic);
    if (topic->inUse()) store(topic);
    ++migration.moved;
  }
  return migration;
}

std::shared_ptr<TopicState> Broker::resolve(const std::string& uri, Result& result) {
  if (auto it = topics_.find(uri); it != topics_.end()) return it->second;
  Request request;
  const Route* route = generation_->router.match(uri, request);
  if (!route) {
    result.outcome = Outcome::NoRoute;
    return nullptr;
  }
  const TopicHandlerEntry* entry = generation_->plugins.topicHandler(route->callback());
  if (!entry) {
    spdlog::warn("topic {}: route '{}' names handler '{}', which is not loaded; ignored", uri,
                 route->name(), route->callback());
    result.outcome = Outcome::NoHandler;
    return nullptr;
  }
  auto topic =
      std::make_shared<TopicState>(*this, uri, std::move(request), *route, *entry, generation_);
  topic->subscriptionId = newId();
  if (!patterns_.empty()) admitPatternSubscribers(*topic);
  // Stored with its verdicts even when the caller goes no further (a refused publication,
  // a subscriber over its limit): every admission must reach its onUnSubscribe.
  if (topic->inUse()) store(topic);
  return topic;
}

bool Broker::patternMatches(const std::string& match, const std::string& pattern,
                            std::string_view uri) {
  if (match == "prefix") return uri.substr(0, pattern.size()) == pattern;
  // wildcard: components split by '.'; an empty pattern component matches any one component.
  std::size_t p = 0, u = 0;
  for (;;) {
    const std::size_t pe = pattern.find('.', p), ue = uri.find('.', u);
    const std::string_view pc =
        std::string_view(pattern).substr(p, pe == std::string::npos ? std::string::npos : pe - p);
    const std::string_view uc =
        uri.substr(u, ue == std::string_view::npos ? std::string_view::npos : ue - u);
    if (!pc.empty() && pc != uc) return false;
    if ((pe == std::string::npos) != (ue == std::string_view::npos)) return false;
    if (pe == std::string::npos) return true;
    p = pe + 1;
    u = ue + 1;
  }
}

void Broker::admitPatternSubscribers(TopicState& topic) {
  for (auto& [key, pattern] : patterns_) {
    if (!patternMatches(pattern.match, pattern.pattern, topic.uri())) continue;
    for (Peer* s : pattern.sessions) {
      if (topic.patternVerdicts.count(s)) continue;
      topic.patternVerdicts[s] = topic.handler().hostSubscribe(*s, topic, topic.request()).isOk();
    }
  }
}

void Broker::endPatternAdmissions(TopicState& topic) {
  const auto verdicts = std::move(topic.patternVerdicts);
  topic.patternVerdicts.clear();
  for (const auto& [session, admitted] : verdicts)
    if (admitted) tellUnSubscribed(topic, *session);
}

void Broker::endPatternAdmission(TopicState& topic, Peer& session) {
  auto verdict = topic.patternVerdicts.find(&session);
  if (verdict == topic.patternVerdicts.end()) return;
  const bool admitted = verdict->second;
  topic.patternVerdicts.erase(verdict);
  if (!topic.inUse()) forget(topic);
  if (admitted) tellUnSubscribed(topic, session);
}

void Broker::tellUnSubscribed(TopicState& topic, Peer& session) {
  Status status = topic.handler().hostUnSubscribe(session, topic, topic.request());
  if (!status)
    spdlog::error("topic {}: onUnSubscribe failed for session {}: {}", topic.uri(),
                  session.sessionId(), status.message());
}

bool Broker::matchesPatternOf(const Peer& session, std::string_view uri) const {
  for (std::uint64_t id : session.patterns) {
    auto it = patternsById_.find(id);
    if (it != patternsById_.end() && patternMatches(it->second->match, it->second->pattern, uri))
      return true;
  }
  return false;
}

Broker::Result Broker::subscribePattern(Peer& session, const std::string& match,
                                        const std::string& pattern) {
  if (session.topics.size() + session.patterns.size() >= limits_.maxSubscriptionsPerSession)
    return {Outcome::LimitReached, {}};
  auto [it, created] = patterns_.try_emplace({match, pattern});
  PatternSubscription& p = it->second;
  if (created) {
    p.id = newId();
    p.match = match;
    p.pattern = pattern;
    patternsById_[p.id] = &p;
    if (cluster_) cluster_->patternWanted(match, pattern);
  }
  if (!session.patterns.insert(p.id).second) return {Outcome::Duplicate, {}, p.id};
  p.sessions.push_back(&session);
  for (auto& [uri, topic] : topics_) {
    // One verdict per session and topic, however many of its patterns match.
    if (!patternMatches(match, pattern, uri) || topic->patternVerdicts.count(&session)) continue;
    topic->patternVerdicts[&session] =
        topic->handler().hostSubscribe(session, *topic, topic->request()).isOk();
  }
  return {Outcome::Done, {}, p.id};
}

void Broker::leavePattern(Peer& session, std::uint64_t id) {
  auto it = patternsById_.find(id);
  if (it == patternsById_.end()) return;
  PatternSubscription& p = *it->second;
  p.sessions.erase(std::remove(p.sessions.begin(), p.sessions.end(), &session), p.sessions.end());
  session.patterns.erase(id);
  // The session's admission to a topic ends with the last of its patterns matching it.
  std::vector<std::shared_ptr<TopicState>> ended;
  for (const auto& [uri, topic] : topics_)
    if (topic->patternVerdicts.count(&session) && patternMatches(p.match, p.pattern, uri) &&
        !matchesPatternOf(session, uri))
      ended.push_back(topic);
  if (p.sessions.empty()) {
    const auto key = std::make_pair(p.match, p.pattern);
    patternsById_.erase(it);
    patterns_.erase(key);
    if (cluster_) cluster_->patternUnwanted(key.first, key.second);
  }
  for (const auto& topic : ended) endPatternAdmission(*topic, session);
}

std::uint64_t Broker::newId() {
  return (random_() & (wamp2::kMaxId - 1)) + 1;
}

void Broker::store(const std::shared_ptr<TopicState>& topic) {
  if (!topics_.emplace(std::string(topic->uri()), topic).second) return;
  bySubscriptionId_[topic->subscriptionId] = topic.get();
}

void Broker::forget(TopicState& topic) {
  auto it = topics_.find(std::string(topic.uri()));
  if (it == topics_.end() || it->second.get() != &topic) return;
  bySubscriptionId_.erase(topic.subscriptionId);
  topics_.erase(it);
}

namespace {

// A publisher on another node, as a disclosing v2 EVENT names it.
class RemotePublisher final : public Connection {
 public:
  explicit RemotePublisher(SessionId id) : id_(id) {}
  SessionId sessionId() const noexcept override { return id_; }
  const Identity& identity() const noexcept override { return identity_; }
  std::string_view remoteAddress() const noexcept override { return {}; }
  int wampVersion() const noexcept override { return 2; }

 private:
  SessionId id_;
  Identity identity_;
};

}  // namespace

void Broker::deliverRemote(RemoteEvent& remote) noexcept {
  ++counters_.events;
  ++counters_.remoteEvents;
  std::shared_ptr<TopicState> topic;  // held: a slow subscriber's end may forget it
  if (auto it = topics_.find(remote.topic); it != topics_.end()) {
    topic = it->second;
  } else {
    // Only a pattern subscription brings a topic no one here subscribed to exactly (Redis's
    // glob is wider than a wildcard): the handler admits its pattern subscribers as it does
    // on the first local publication. Otherwise no one is here any more (an UNSUBSCRIBE on
    // its way).
    const bool matched = std::any_of(patterns_.begin(), patterns_.end(), [&](const auto& p) {
      return patternMatches(p.second.match, p.second.pattern, remote.topic);
    });
    if (!matched) return;
    Result ignored;
    topic = resolve(remote.topic, ignored);
    if (!topic) return;  // not served here (no route or handler)
  }
  Event delivery{topic->uri(), remote.payload};
  delivery.subscription = topic->subscriptionId;
  delivery.publication = remote.publication;
  const RemotePublisher publisher(remote.publisher);
  if (remote.publisher != 0) {
    delivery.publisher = &publisher;
    delivery.publisherAuthid = remote.publisherAuthid;
    delivery.publisherAuthrole = remote.publisherAuthrole;
  }
  if (remote.hasArgs || remote.hasKwargs) {
    delivery.args = &remote.args;
    delivery.kwargs = remote.hasKwargs ? &remote.kwargs : nullptr;
  }
  const PublishOptions& o = remote.options;
  const bool filtered = !o.eligibleAuthid.empty() || !o.excludeAuthid.empty() ||
                        !o.eligibleAuthrole.empty() || !o.excludeAuthrole.empty();
  topic->fanOut(delivery, remote.exclude, remote.eligible, filtered ? &o : nullptr);
}

Broker::Result Broker::subscribe(Peer& session, const std::string& uri) {
  Result result;
  auto topic = resolve(uri, result);
  if (!topic) return result;
  if (topic->contains(session)) return {Outcome::Duplicate, {}, topic->subscriptionId};
  if (session.topics.size() >= limits_.maxSubscriptionsPerSession)
    return {Outcome::LimitReached, {}};

  // As Ratchet does, the subscriber is in the topic while onSubscribe runs (a handler's
  // broadcast reaches it); a refusal takes it out again.
  store(topic);
  topic->add(session);
  session.topics.insert(topic.get());
  // The node receives a topic's channel while it has exact subscribers; a topic that only
  // patterns hold arrives through their globs (subscribing it too would double its traffic).
  if (cluster_ && topic->subscriberCount() == 1) cluster_->topicWanted(topic->uri());
  Status status = topic->handler().hostSubscribe(session, *topic, topic->request());
  if (!status) {
    removeSubscriber(*topic, session);
    return {Outcome::Failed, std::move(status)};
  }
  result.id = topic->subscriptionId;
  return result;
}

void Broker::removeSubscriber(TopicState& topic, Peer& session) {
  const bool member = topic.contains(session);
  topic.remove(session);
  session.topics.erase(&topic);
  if (cluster_ && member && topic.subscriberCount() == 0) cluster_->topicUnwanted(topic.uri());
  if (!topic.inUse()) forget(topic);
}

Broker::Result Broker::unsubscribeById(Peer& session, std::uint64_t subscriptionId) {
  if (session.patterns.count(subscriptionId)) {
    leavePattern(session, subscriptionId);
    return {};
  }
  auto it = bySubscriptionId_.find(subscriptionId);
  if (it == bySubscriptionId_.end() || !it->second->contains(session))
    return {Outcome::NotSubscribed, {}};
  return unsubscribe(session, std::string(it->second->uri()));
}

Broker::Result Broker::unsubscribe(Peer& session, const std::string& uri) {
  auto it = topics_.find(uri);
  if (it == topics_.end() || !it->second->contains(session)) return {Outcome::NotSubscribed, {}};
  std::shared_ptr<TopicState> topic = it->second;  // outlives its erasure from topics_
  removeSubscriber(*topic, session);
  Status status = topic->handler().hostUnSubscribe(session, *topic, topic->request());
  if (!status) return {Outcome::Failed, std::move(status)};
  return {};
}

Broker::Result Broker::publish(Peer& session, const std::string& uri, const Value& event,
                               const SessionIds& exclude, const SessionIds& eligible,
                               const PublishOptions* options) {
  const auto arrived = std::chrono::steady_clock::now();
  const std::uint64_t deliveriesBefore = counters_.deliveries;
  ++counters_.publications;
  Result result = publishUncounted(session, uri, event, exclude, eligible, options);
  // Delivered here but not to the other nodes is not a refusal (counted as notForwarded).
  if (result.outcome != Outcome::Done && result.status.uri() != uriOf(Fault::ClusterUnavailable))
    ++counters_.publicationsRefused;
  constexpr std::size_t kMaxUnwritten = 4096;
  if (counters_.deliveries != deliveriesBefore && unwritten_.size() < kMaxUnwritten) {
    try {
      unwritten_.push_back(arrived);
    } catch (const std::bad_alloc&) {
      // One observation less.
    }
  }
  return result;
}

void Broker::writesDone() noexcept {
  if (unwritten_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  for (const auto arrived : unwritten_)
    publishToWrite_.observe(std::chrono::duration<double>(now - arrived).count());
  unwritten_.clear();
}

std::size_t Broker::subscriptionCount() const noexcept {
  std::size_t count = 0;
  for (const auto& [uri, topic] : topics_) count += topic->subscribers().size();
  for (const auto& [key, pattern] : patterns_) count += pattern.sessions.size();
  return count;
}

Broker::Result Broker::publishUncounted(Peer& session, const std::string& uri, const Value& event,
                                        const SessionIds& exclude, const SessionIds& eligible,
                                        const PublishOptions* options) {
  Result result;
  auto topic = resolve(uri, result);
  if (!topic) return result;
  if (!auth::mayPublish(topic->publishPolicy(), session.identity())) {
    spdlog::warn(
        "topic {}: publish by session {} ({}) refused: route '{}' allows {} only", uri,
        session.sessionId(),
        session.identity().anonymous ? std::string("anonymous") : session.identity().username,
        topic->request().routeName, topic->publishPolicy());
    return {Outcome::Failed, Status::refused("Not allowed to publish to \"" + uri + "\"")};
  }
  TopicState::Publication publication{&session, newId(), &event, options};
  topic->publication = &publication;
  Status status =
      topic->handler().hostPublish(session, *topic, topic->request(), event, exclude, eligible);
  topic->publication = nullptr;
  result.id = publication.id;
  if (!status) return {Outcome::Failed, std::move(status)};
  if (publication.unforwarded)
    return {Outcome::Failed,
            Status::error(uriOf(Fault::ClusterUnavailable),
                          std::string(describe(Fault::ClusterUnavailable).reason)),
            publication.id};
  return result;
}

void Broker::disconnect(Peer& session) {
  while (!session.patterns.empty()) leavePattern(session, *session.patterns.begin());
  std::vector<std::shared_ptr<TopicState>> left;
  left.reserve(session.topics.size());
  for (TopicState* t : session.topics) left.push_back(t->shared_from_this());
  for (auto& topic : left) {
    removeSubscriber(*topic, session);
    Status status = topic->handler().hostUnSubscribe(session, *topic, topic->request());
    if (!status)
      spdlog::error("topic {}: onUnSubscribe failed for session {}: {}", topic->uri(),
                    session.sessionId(), status.message());
  }
}

std::map<std::string, Broker::RouteCounts> Broker::subscribersByRoute() const {
  std::map<std::string, RouteCounts> counts;
  for (const auto& [uri, topic] : topics_) {
    if (topic->subscribers().empty()) continue;  // pattern subscribers only
    RouteCounts& c = counts[topic->request().routeName];
    for (const Peer* s : topic->subscribers()) {
      ++c.total;
      ++(s->wampVersion() == 1 ? c.v1 : c.v2);
    }
  }
  return counts;
}

}  // namespace wampd::core
