// The broker over fake peers and in-process handlers: subscription, fan-out with one frame
// per wire format, exclusion and eligibility, slow subscribers, patterns, publish policy and
// the migration of live topics when a generation is swapped in.
#include "router/broker.h"

#include <doctest/doctest.h>

#include <asio/io_context.hpp>

#include "fake_peer.h"

namespace wampd::core {
namespace {

using testing::FakePeer;
using testing::GenerationBuilder;
using testing::HandlerLog;
using testing::hosted;
using testing::RecordingTopic;

struct BrokerFixture {
  asio::io_context io;
  HandlerLog log;
  std::shared_ptr<boundary::TopicEndpoint> handler = hosted<RecordingTopic>("news", log);
  Broker broker{io, BrokerLimits{}};

  BrokerFixture() {
    broker.setGeneration(GenerationBuilder()
                             .route("news", "news/{id}", "news")
                             .route("orphan", "orphan", "not.loaded")
                             .route("backend", "backend/only", "news", "backend")
                             .topic(handler)
                             .build());
  }
  Broker::Result publish(FakePeer& from, const std::string& uri, const Value& event,
                         const SessionIds& exclude = {}, const SessionIds& eligible = {},
                         const Broker::PublishOptions* options = nullptr) {
    return broker.publish(from, uri, event, exclude, eligible, options);
  }
};

TEST_CASE_FIXTURE(BrokerFixture, "a publication reaches every subscriber, framed once per format") {
  FakePeer a(1), b(2), c(3, {}, 2), publisher(4);
  CHECK(broker.subscribe(a, "news/1").outcome == Broker::Outcome::Done);
  CHECK(broker.subscribe(b, "news/1").outcome == Broker::Outcome::Done);
  CHECK(broker.subscribe(c, "news/1").outcome == Broker::Outcome::Done);
  CHECK(log.count("subscribe") == 3);

  const Broker::Result r = publish(publisher, "news/1", Value("hello"));
  CHECK(r.outcome == Broker::Outcome::Done);
  CHECK(r.id != 0);
  REQUIRE(a.received.size() == 1);
  REQUIRE(b.received.size() == 1);
  REQUIRE(c.received.size() == 1);
  CHECK(a.received[0].payload == Value("hello"));
  CHECK(a.received[0].topic == "news/1");
  CHECK(a.received[0].publication == r.id);
  // One frame per wire format: the first v1 subscriber made it, the second reused it.
  CHECK(a.received[0].madeFrame + b.received[0].madeFrame == 1);
  CHECK(c.received[0].madeFrame);
  CHECK(publisher.received.empty());
  CHECK(broker.counters().events == 1);
  CHECK(broker.counters().deliveries == 3);
}

TEST_CASE_FIXTURE(BrokerFixture, "exclude and eligible lists filter by session id") {
  FakePeer a(1), b(2), c(3);
  for (FakePeer* p : {&a, &b, &c}) broker.subscribe(*p, "news/1");
  publish(a, "news/1", Value(1), /*exclude=*/{1}, /*eligible=*/{});
  publish(a, "news/1", Value(2), /*exclude=*/{}, /*eligible=*/{3});
  CHECK(a.received.size() == 0);
  CHECK(b.received.size() == 1);
  CHECK(c.received.size() == 2);
}

TEST_CASE_FIXTURE(BrokerFixture, "large exclude lists filter exactly as small ones") {
  std::vector<std::unique_ptr<FakePeer>> peers;
  SessionIds exclude;
  for (SessionId id = 1; id <= 40; ++id) {
    peers.push_back(std::make_unique<FakePeer>(id));
    broker.subscribe(*peers.back(), "news/1");
    if (id % 2 == 0) exclude.push_back(id);
  }
  publish(*peers[0], "news/1", Value(1), exclude);
  for (const auto& p : peers) CHECK(p->received.size() == (p->sessionId() % 2 == 0 ? 0u : 1u));
}

TEST_CASE_FIXTURE(BrokerFixture, "duplicates, unsubscribe and disconnect tell the handler once") {
  FakePeer a(1);
  CHECK(broker.subscribe(a, "news/1").outcome == Broker::Outcome::Done);
  CHECK(broker.subscribe(a, "news/1").outcome == Broker::Outcome::Duplicate);
  CHECK(broker.subscribe(a, "news/2").outcome == Broker::Outcome::Done);
  CHECK(log.count("subscribe") == 2);
  CHECK(broker.unsubscribe(a, "news/1").outcome == Broker::Outcome::Done);
  CHECK(broker.unsubscribe(a, "news/1").outcome == Broker::Outcome::NotSubscribed);
  broker.disconnect(a);
  CHECK(log.count("unsubscribe") == 2);
  CHECK(a.topics.empty());
  CHECK(broker.subscribersByRoute().empty());
}

TEST_CASE_FIXTURE(BrokerFixture, "a refused subscription leaves no trace") {
  FakePeer a(1);
  log.refuse.push_back(1);
  const Broker::Result r = broker.subscribe(a, "news/1");
  CHECK(r.outcome == Broker::Outcome::Failed);
  CHECK(r.status.uri() == "wamp.error.not_authorized");
  CHECK(a.topics.empty());
  publish(a, "news/1", Value(1));
  CHECK(a.received.empty());
}

TEST_CASE_FIXTURE(BrokerFixture, "no route, and a route whose handler is not loaded") {
  FakePeer a(1);
  CHECK(broker.subscribe(a, "weather/1").outcome == Broker::Outcome::NoRoute);
  CHECK(broker.subscribe(a, "orphan").outcome == Broker::Outcome::NoHandler);
  CHECK(publish(a, "weather/1", Value(1)).outcome == Broker::Outcome::NoRoute);
  CHECK(log.calls.empty());
}

TEST_CASE_FIXTURE(BrokerFixture, "a backend-only route refuses other publishers") {
  FakePeer browser(1), backend(2, FakePeer::backend()), subscriber(3);
  broker.subscribe(subscriber, "backend/only");
  const Broker::Result refused = publish(browser, "backend/only", Value(1));
  CHECK(refused.outcome == Broker::Outcome::Failed);
  CHECK(refused.status.uri() == "wamp.error.not_authorized");
  CHECK(publish(backend, "backend/only", Value(2)).outcome == Broker::Outcome::Done);
  REQUIRE(subscriber.received.size() == 1);
  CHECK(subscriber.received[0].payload == Value(2));
}

TEST_CASE_FIXTURE(BrokerFixture, "a subscriber that fell behind is cut off, the others served") {
  FakePeer slow(1), fast(2);
  broker.subscribe(slow, "news/1");
  broker.subscribe(fast, "news/1");
  slow.queued = BrokerLimits{}.maxSendQueueBytes + 1;
  publish(fast, "news/1", Value(1), {}, {});
  CHECK(slow.cutOff == 1);
  CHECK(slow.received.empty());
  CHECK(fast.received.size() == 1);
  CHECK(broker.counters().slowSubscribersDisconnected == 1);
  // Once cut off it takes no events: no second cut-off either.
  publish(fast, "news/1", Value(2));
  CHECK(slow.cutOff == 1);
}

TEST_CASE_FIXTURE(BrokerFixture, "identity filters and publisher disclosure (WAMP v2 options)") {
  FakePeer alice(1, FakePeer::user("alice"), 2), bob(2, FakePeer::user("bob"), 2), anon(3);
  for (FakePeer* p : {&alice, &bob, &anon}) broker.subscribe(*p, "news/1");
  Broker::PublishOptions options;
  options.eligibleAuthrole = {"user"};
  options.excludeAuthid = {"bob"};
  options.discloseMe = true;
  FakePeer publisher(9, FakePeer::user("carol"), 2);
  publish(publisher, "news/1", Value(1), {}, {}, &options);
  REQUIRE(alice.received.size() == 1);
  CHECK(alice.received[0].publisher == 9);
  CHECK(bob.received.empty());
  CHECK(anon.received.empty());
}

TEST_CASE_FIXTURE(BrokerFixture, "pattern subscribers get matching topics' events") {
  FakePeer exact(1, {}, 2), prefix(2, {}, 2), wildcard(3, {}, 2), other(4, {}, 2);
  broker.subscribe(exact, "news/1");
  const Broker::Result p = broker.subscribePattern(prefix, "prefix", "news/");
  CHECK(p.outcome == Broker::Outcome::Done);
  CHECK(broker.subscribePattern(prefix, "prefix", "news/").outcome == Broker::Outcome::Duplicate);
  broker.subscribePattern(other, "prefix", "sport/");
  publish(exact, "news/1", Value(1));
  REQUIRE(prefix.received.size() == 1);
  CHECK(prefix.received[0].viaPattern);
  CHECK(prefix.received[0].subscription == p.id);
  CHECK(other.received.empty());
  CHECK(Broker::patternMatches("wildcard", "a..c", "a.b.c"));
  CHECK_FALSE(Broker::patternMatches("wildcard", "a..c", "a.b.d"));
  CHECK_FALSE(Broker::patternMatches("wildcard", "a..c", "a.b.c.d"));
  CHECK(broker.unsubscribeById(prefix, p.id).outcome == Broker::Outcome::Done);
  publish(exact, "news/1", Value(2));
  CHECK(prefix.received.size() == 1);
}

// The handler contract: every onSubscribe that said yes gets exactly one onUnSubscribe. Call
// once everyone has left; `refusals` are the onSubscribe calls that said no.
void checkBalanced(const HandlerLog& log, std::size_t refusals = 0) {
  CHECK(log.count("subscribe") == log.count("unsubscribe") + refusals);
}

TEST_CASE_FIXTURE(BrokerFixture, "a pattern subscriber is admitted to a topic once, told once") {
  FakePeer pattern(9, {}, 2), publisher(2);
  const Broker::Result p = broker.subscribePattern(pattern, "prefix", "news/");
  for (int i = 0; i < 3; ++i) publish(publisher, "news/1", Value(i));
  CHECK(log.count("subscribe 9 news/1") == 1);
  CHECK(log.count("unsubscribe") == 0);
  CHECK(pattern.received.size() == 3);
  // Pattern-only topics have no exact subscribers to count.
  CHECK(broker.subscribersByRoute().empty());

  CHECK(broker.unsubscribeById(pattern, p.id).outcome == Broker::Outcome::Done);
  CHECK(log.count("unsubscribe 9 news/1") == 1);
  publish(publisher, "news/1", Value(4));
  CHECK(pattern.received.size() == 3);
  CHECK(log.count("subscribe 9 news/1") == 1);
  checkBalanced(log);
}

TEST_CASE_FIXTURE(BrokerFixture,
                  "a pattern subscriber's disconnect tells once per admitted topic") {
  FakePeer pattern(9, {}, 2), exact(1), publisher(2);
  broker.subscribe(exact, "news/3");
  broker.subscribePattern(pattern, "prefix", "news/");
  CHECK(log.count("subscribe 9 news/3") == 1);
  publish(publisher, "news/1", Value(1));
  publish(publisher, "news/2", Value(2));
  publish(publisher, "news/1", Value(3));
  CHECK(log.count("subscribe 9") == 3);

  broker.disconnect(pattern);
  CHECK(log.count("unsubscribe 9 news/1") == 1);
  CHECK(log.count("unsubscribe 9 news/2") == 1);
  CHECK(log.count("unsubscribe 9 news/3") == 1);
  CHECK(pattern.patterns.empty());
  publish(publisher, "news/3", Value(4));
  CHECK(exact.received.size() == 1);
  broker.disconnect(exact);
  checkBalanced(log);
}

TEST_CASE_FIXTURE(BrokerFixture, "an exact subscriber leaving keeps a pattern admission") {
  FakePeer pattern(9, {}, 2), exact(1), publisher(2);
  broker.subscribe(exact, "news/1");
  broker.subscribePattern(pattern, "prefix", "news/");
  broker.unsubscribe(exact, "news/1");
  publish(publisher, "news/1", Value(1));
  CHECK(pattern.received.size() == 1);
  CHECK(log.count("subscribe 9 news/1") == 1);
  broker.disconnect(pattern);
  CHECK(log.count("unsubscribe 9 news/1") == 1);
  checkBalanced(log);
}

TEST_CASE_FIXTURE(BrokerFixture,
                  "a session with two matching patterns is told when the last goes") {
  FakePeer pattern(9, {}, 2), exact(1), publisher(2);
  broker.subscribe(exact, "news/1");
  const std::uint64_t wide = broker.subscribePattern(pattern, "prefix", "news/").id;
  const std::uint64_t narrow = broker.subscribePattern(pattern, "prefix", "news/1").id;
  publish(publisher, "news/1", Value(1));
  publish(publisher, "news/12", Value(2));
  CHECK(log.count("subscribe 9 news/1") == 2);  // news/1 and news/12
  CHECK(log.count("subscribe 9 news/12") == 1);
  CHECK(pattern.received.size() == 4);  // one event per matching subscription

  broker.unsubscribeById(pattern, wide);
  CHECK(log.count("unsubscribe 9") == 0);
  publish(publisher, "news/1", Value(3));
  CHECK(pattern.received.size() == 5);
  broker.unsubscribeById(pattern, narrow);
  CHECK(log.count("unsubscribe 9 news/1") == 2);  // news/1 and news/12
  CHECK(log.count("unsubscribe 9 news/12") == 1);
  broker.disconnect(exact);
  checkBalanced(log);
}

TEST_CASE_FIXTURE(BrokerFixture, "a refused pattern admission is not asked again nor told") {
  FakePeer pattern(9, {}, 2), publisher(2);
  log.refuse.push_back(9);
  const std::uint64_t id = broker.subscribePattern(pattern, "prefix", "news/").id;
  for (int i = 0; i < 3; ++i) publish(publisher, "news/1", Value(i));
  CHECK(log.count("subscribe 9 news/1") == 1);
  CHECK(pattern.received.empty());
  broker.unsubscribeById(pattern, id);
  CHECK(log.count("unsubscribe") == 0);
  checkBalanced(log, 1);
}

TEST_CASE_FIXTURE(BrokerFixture, "a swap carries pattern admissions over") {
  FakePeer pattern(9, {}, 2), exact(1), publisher(2);
  broker.subscribe(exact, "news/1");
  broker.subscribePattern(pattern, "prefix", "news/");
  publish(publisher, "news/2", Value(0));
  REQUIRE(pattern.received.size() == 1);

  SUBCASE("same handler: kept, nobody asked or told") {
    const std::size_t calls = log.calls.size();
    const Broker::Migration m = broker.setGeneration(
        GenerationBuilder().route("news", "news/{id}", "news").topic(handler).build(2));
    CHECK(m.kept == 2);
    CHECK(log.calls.size() == calls);
    publish(publisher, "news/2", Value(1));
    CHECK(pattern.received.size() == 2);
    broker.disconnect(pattern);
    broker.disconnect(exact);
    checkBalanced(log);
  }
  SUBCASE("another handler instance: the old one told, the new one asked") {
    HandlerLog next;
    const Broker::Migration m =
        broker.setGeneration(GenerationBuilder()
                                 .route("news", "news/{id}", "news")
                                 .topic(hosted<RecordingTopic>("news", next))
                                 .build(2));
    CHECK(m.moved == 2);
    CHECK(log.count("unsubscribe 9 news/1") == 1);
    CHECK(log.count("unsubscribe 9 news/2") == 1);
    checkBalanced(log);
    CHECK(next.count("subscribe 9 news/1") == 1);
    CHECK(next.count("subscribe 9 news/2") == 1);
    publish(publisher, "news/2", Value(1));
    CHECK(pattern.received.size() == 2);
    CHECK(next.count("subscribe 9") == 2);
    broker.disconnect(pattern);
    broker.disconnect(exact);
    checkBalanced(next);
  }
  SUBCASE("another handler instance that refuses: delivery stops") {
    HandlerLog next;
    next.refuse.push_back(9);
    broker.setGeneration(GenerationBuilder()
                             .route("news", "news/{id}", "news")
                             .topic(hosted<RecordingTopic>("news", next))
                             .build(2));
    CHECK(log.count("unsubscribe 9") == 2);
    publish(publisher, "news/2", Value(1));
    publish(publisher, "news/1", Value(2));
    CHECK(pattern.received.size() == 1);
    CHECK(next.count("subscribe 9") == 2);
    CHECK(exact.received.size() == 1);
    broker.disconnect(pattern);
    CHECK(next.count("unsubscribe 9") == 0);
    broker.disconnect(exact);
    checkBalanced(next, 2);
  }
  SUBCASE("route gone: the old handler told, the pattern subscription lives on") {
    const Broker::Migration m =
        broker.setGeneration(GenerationBuilder().route("x", "x", "news").topic(handler).build(2));
    CHECK(m.dropped == 2);
    CHECK(log.count("unsubscribe 9 news/1") == 1);
    CHECK(log.count("unsubscribe 9 news/2") == 1);
    CHECK(pattern.revoked.empty());
    CHECK(pattern.patterns.size() == 1);
    CHECK(publish(publisher, "news/2", Value(1)).outcome == Broker::Outcome::NoRoute);
    broker.disconnect(pattern);
    broker.disconnect(exact);
    checkBalanced(log);
  }
}

TEST_CASE_FIXTURE(BrokerFixture, "sessions that take no events are skipped") {
  FakePeer closing(1), open(2);
  broker.subscribe(closing, "news/1");
  broker.subscribe(open, "news/1");
  closing.open = false;
  publish(open, "news/1", Value(1));
  CHECK(closing.received.empty());
  CHECK(open.received.size() == 1);
  CHECK(broker.counters().deliveries == 1);
}

TEST_CASE_FIXTURE(BrokerFixture, "a swap keeps, moves or drops live topics") {
  FakePeer a(1), b(2);
  broker.subscribe(a, "news/1");
  broker.subscribe(b, "orphan");  // no handler: not subscribed
  const std::uint64_t subscription = broker.subscribe(b, "news/2").id;

  SUBCASE("same handler: kept, its subscribers untouched") {
    const Broker::Migration m = broker.setGeneration(
        GenerationBuilder().route("news", "news/{id}", "news").topic(handler).build(2));
    CHECK(m.kept == 2);
    CHECK(m.moved == 0);
    CHECK(m.dropped == 0);
    CHECK(log.count("unsubscribe") == 0);
  }
  SUBCASE("another handler instance: moved, it sees onSubscribe, a refusal revokes") {
    HandlerLog next;
    next.refuse.push_back(2);
    const Broker::Migration m =
        broker.setGeneration(GenerationBuilder()
                                 .route("news", "news/{id}", "news")
                                 .topic(hosted<RecordingTopic>("news", next))
                                 .build(2));
    CHECK(m.moved == 2);
    CHECK(log.count("unsubscribe") == 2);
    CHECK(next.count("subscribe") == 2);
    REQUIRE(b.revoked.size() == 1);
    CHECK(b.revoked[0].topic == "news/2");
    CHECK(b.revoked[0].subscription == subscription);
    CHECK(a.revoked.empty());
    publish(a, "news/2", Value(1));
    CHECK(b.received.empty());
  }
  SUBCASE("route gone: dropped and revoked with no_such_subscription") {
    const Broker::Migration m =
        broker.setGeneration(GenerationBuilder().route("x", "x", "news").topic(handler).build(2));
    CHECK(m.dropped == 2);
    REQUIRE(a.revoked.size() == 1);
    CHECK(a.revoked[0].uri == "wamp.error.no_such_subscription");
    CHECK(a.topics.empty());
    CHECK(broker.subscribersByRoute().empty());
  }
}

TEST_CASE_FIXTURE(BrokerFixture, "subscribers are counted per route and WAMP version") {
  FakePeer v1(1), v2(2, {}, 2);
  broker.subscribe(v1, "news/1");
  broker.subscribe(v2, "news/2");
  const auto counts = broker.subscribersByRoute();
  REQUIRE(counts.count("news") == 1);
  CHECK(counts.at("news").total == 2);
  CHECK(counts.at("news").v1 == 1);
  CHECK(counts.at("news").v2 == 1);
}

TEST_CASE("a session may hold only so many subscriptions") {
  asio::io_context io;
  HandlerLog log;
  BrokerLimits limits;
  limits.maxSubscriptionsPerSession = 2;
  Broker broker(io, limits);
  broker.setGeneration(GenerationBuilder()
                           .route("news", "news/{id}", "news")
                           .topic(hosted<RecordingTopic>("news", log))
                           .build());
  FakePeer a(1);
  CHECK(broker.subscribe(a, "news/1").outcome == Broker::Outcome::Done);
  CHECK(broker.subscribe(a, "news/2").outcome == Broker::Outcome::Done);
  CHECK(broker.subscribe(a, "news/3").outcome == Broker::Outcome::LimitReached);
  CHECK(broker.subscribePattern(a, "prefix", "news/").outcome == Broker::Outcome::LimitReached);
}

// What the broker tells a cluster, in order.
struct RecordingCluster final : ClusterPort {
  std::vector<std::string> calls;
  bool forward(const ClusterEvent&) noexcept override { return true; }
  void topicWanted(std::string_view topic) noexcept override {
    calls.push_back("topic+ " + std::string(topic));
  }
  void topicUnwanted(std::string_view topic) noexcept override {
    calls.push_back("topic- " + std::string(topic));
  }
  void whenReceiving(std::string_view, std::function<void()> ready) override { ready(); }
  void patternWanted(std::string_view match, std::string_view pattern) noexcept override {
    calls.push_back("pattern+ " + std::string(match) + " " + std::string(pattern));
  }
  void patternUnwanted(std::string_view match, std::string_view pattern) noexcept override {
    calls.push_back("pattern- " + std::string(match) + " " + std::string(pattern));
  }
  void whenReceivingPattern(std::string_view, std::string_view,
                            std::function<void()> ready) override {
    ready();
  }
};

Broker::RemoteEvent remoteEvent(const std::string& topic, int n) {
  Broker::RemoteEvent e;
  e.topic = topic;
  e.payload = Value(n);
  e.publication = 1000 + n;
  return e;
}

TEST_CASE_FIXTURE(BrokerFixture, "a cluster hears of each pattern once, while it has sessions") {
  RecordingCluster cluster;
  broker.setCluster(&cluster);
  FakePeer a(1, {}, 2), b(2, {}, 2);
  const Broker::Result p = broker.subscribePattern(a, "prefix", "news/");
  broker.subscribePattern(b, "prefix", "news/");
  const Broker::Result w = broker.subscribePattern(a, "wildcard", "news.");
  CHECK(cluster.calls ==
        std::vector<std::string>{"pattern+ prefix news/", "pattern+ wildcard news."});
  broker.unsubscribeById(a, p.id);
  CHECK(cluster.calls.size() == 2);
  broker.disconnect(b);
  broker.unsubscribeById(a, w.id);
  CHECK(cluster.calls ==
        std::vector<std::string>{"pattern+ prefix news/", "pattern+ wildcard news.",
                                 "pattern- prefix news/", "pattern- wildcard news."});
  broker.setCluster(nullptr);
}

TEST_CASE_FIXTURE(BrokerFixture,
                  "another node's event reaches pattern subscribers of a topic no one here has") {
  RecordingCluster cluster;
  broker.setCluster(&cluster);
  FakePeer prefix(1, {}, 2), both(2, {}, 2), wildcard(3, {}, 2);
  const Broker::Result p = broker.subscribePattern(prefix, "prefix", "news/");
  broker.subscribePattern(both, "prefix", "news/");
  broker.subscribe(both, "news/7");
  broker.subscribePattern(wildcard, "wildcard", "news/1");  // one component: news/1 only

  Broker::RemoteEvent first = remoteEvent("news/1", 1);
  broker.deliverRemote(first);
  // The handler admitted the pattern subscribers, as on a first local publication.
  CHECK(log.count("subscribe 1 news/1") == 1);
  REQUIRE(prefix.received.size() == 1);
  CHECK(prefix.received[0].viaPattern);
  CHECK(prefix.received[0].subscription == p.id);
  CHECK(prefix.received[0].publication == 1001);
  CHECK(wildcard.received.size() == 1);
  CHECK(both.received.size() == 1);

  // Exact and pattern subscription of one session: once per subscription, as standalone.
  Broker::RemoteEvent seventh = remoteEvent("news/7", 7);
  broker.deliverRemote(seventh);
  CHECK(both.received.size() == 3);
  CHECK(prefix.received.size() == 2);
  CHECK(wildcard.received.size() == 1);

  // A topic no pattern here matches precisely is dropped (a wider Redis glob brought it).
  Broker::RemoteEvent stray = remoteEvent("sport/1", 2);
  broker.deliverRemote(stray);
  CHECK(log.count("subscribe 1 sport/1") == 0);

  broker.disconnect(prefix);
  broker.disconnect(both);
  broker.disconnect(wildcard);
  checkBalanced(log);
  CHECK(broker.topicCount() == 0);
  broker.setCluster(nullptr);
}

TEST_CASE_FIXTURE(BrokerFixture,
                  "a cluster receives a topic's channel while the topic has exact subscribers") {
  RecordingCluster cluster;
  broker.setCluster(&cluster);
  FakePeer a(1, {}, 2), b(2, {}, 2);
  broker.subscribePattern(a, "prefix", "news/");
  broker.subscribe(b, "news/7");
  broker.subscribe(a, "news/7");
  // news/1 exists here only through the pattern: its events come through the glob.
  Broker::RemoteEvent first = remoteEvent("news/1", 1);
  broker.deliverRemote(first);
  CHECK(a.received.size() == 1);
  broker.unsubscribe(b, "news/7");
  CHECK(cluster.calls == std::vector<std::string>{"pattern+ prefix news/", "topic+ news/7"});
  broker.unsubscribe(a, "news/7");
  CHECK(cluster.calls ==
        std::vector<std::string>{"pattern+ prefix news/", "topic+ news/7", "topic- news/7"});
  broker.disconnect(a);
  CHECK(cluster.calls.back() == "pattern- prefix news/");
  CHECK(broker.topicCount() == 0);
  broker.setCluster(nullptr);
}

}  // namespace
}  // namespace wampd::core
