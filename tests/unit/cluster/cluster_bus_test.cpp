// The message a node sends on a topic's channel: everything another node needs to deliver
// the event as the origin did (filters, disclosure, the publisher's own arguments), bytes
// intact; and what no node wrote is refused. The globs pattern subscriptions take, and the
// cluster's session ids.
#include "cluster/cluster_bus.h"

#include <doctest/doctest.h>

#include "wamp/v2_codec.h"

namespace wampd::core::cluster {
namespace {

TEST_CASE("an event with every field survives the trip") {
  const Value payload(Object{{"n", Value(7)}, {"bytes", Value(std::string("\xff\xfe\x00x", 4))}});
  const SessionIds exclude{1, 2}, eligible{3, (SessionId{1} << 53)};
  const std::vector<std::string> eA{"alice"}, xA{"bob", "carol"}, eR{"user"}, xR{"anonymous"};
  const Array args{Value("a"), Value(1.5)};
  const Object kwargs{{"k", Value(true)}};
  ClusterEvent e;
  e.topic = "oro/data/update";
  e.payload = &payload;
  e.publication = 123456789;
  e.exclude = &exclude;
  e.eligible = &eligible;
  e.eligibleAuthid = &eA;
  e.excludeAuthid = &xA;
  e.eligibleAuthrole = &eR;
  e.excludeAuthrole = &xR;
  e.publisher = 99;
  e.publisherAuthid = "alice";
  e.publisherAuthrole = "user";
  e.args = &args;
  e.kwargs = &kwargs;

  const std::string bytes = encodeEvent(e, "node-a", 5);
  Broker::RemoteEvent got;
  std::string origin, error;
  std::uint64_t sequence = 0;
  REQUIRE_MESSAGE(decodeEvent(bytes, got, origin, sequence, error), error);
  CHECK(origin == "node-a");
  CHECK(sequence == 5);
  CHECK(got.topic == "oro/data/update");
  CHECK(got.publication == 123456789);
  CHECK(got.payload == payload);
  CHECK(got.exclude == exclude);
  CHECK(got.eligible == eligible);
  CHECK(got.options.eligibleAuthid == eA);
  CHECK(got.options.excludeAuthid == xA);
  CHECK(got.options.eligibleAuthrole == eR);
  CHECK(got.options.excludeAuthrole == xR);
  CHECK(got.publisher == 99);
  CHECK(got.publisherAuthid == "alice");
  CHECK(got.publisherAuthrole == "user");
  CHECK(got.hasArgs);
  CHECK(got.args == args);
  CHECK(got.hasKwargs);
  CHECK(got.kwargs == kwargs);
}

TEST_CASE("a v1 publication: no filters, no disclosure, no v2 arguments") {
  const Value payload("hello");
  ClusterEvent e;
  e.topic = "t";
  e.payload = &payload;
  e.publication = 1;
  Broker::RemoteEvent got;
  std::string origin, error;
  std::uint64_t sequence = 0;
  REQUIRE(decodeEvent(encodeEvent(e, "n", 1), got, origin, sequence, error));
  CHECK(got.payload == payload);
  CHECK(got.exclude.empty());
  CHECK(got.eligible.empty());
  CHECK(got.options.excludeAuthrole.empty());
  CHECK(got.publisher == 0);
  CHECK_FALSE(got.hasArgs);
  CHECK_FALSE(got.hasKwargs);
}

TEST_CASE("messages no node wrote are refused") {
  Broker::RemoteEvent got;
  std::string origin, error;
  std::uint64_t sequence = 0;
  CHECK_FALSE(decodeEvent("not msgpack at all", got, origin, sequence, error));
  CHECK_FALSE(error.empty());
  // Another format number.
  Array m(17);
  m[0] = Value(2);
  CHECK_FALSE(
      decodeEvent(wamp2::encode(m, wamp2::Serializer::MsgPack), got, origin, sequence, error));
  // Format 1 with a filter that is not a list of session ids.
  const Value payload(1);
  ClusterEvent e;
  e.topic = "t";
  e.payload = &payload;
  Array good;
  std::string decodeError;
  REQUIRE(wamp2::decode(encodeEvent(e, "n", 1), wamp2::Serializer::MsgPack, good, decodeError));
  good[6] = Value(Array{Value("x")});
  CHECK_FALSE(
      decodeEvent(wamp2::encode(good, wamp2::Serializer::MsgPack), got, origin, sequence, error));
  CHECK(error.find("filters") != std::string::npos);
}

TEST_CASE("a pattern's Redis glob: metacharacters escaped, a wildcard's empty components '*'") {
  CHECK(redisGlob("wampd:", "prefix", "com.app.") == "wampd:com.app.*");
  CHECK(redisGlob("wampd:", "prefix", "") == "wampd:*");
  // Redis's glob takes * ? [ ] and backslash as special; a topic's are literal.
  CHECK(redisGlob("wampd:", "prefix", "a*b?c[d]e\\f") == "wampd:a\\*b\\?c\\[d\\]e\\\\f*");
  CHECK(redisGlob("p[1]:", "prefix", "x") == "p\\[1\\]:x*");
  CHECK(redisGlob("wampd:", "wildcard", "com..update") == "wampd:com.*.update");
  CHECK(redisGlob("wampd:", "wildcard", ".a.") == "wampd:*.a.*");
  CHECK(redisGlob("wampd:", "wildcard", "") == "wampd:*");
  CHECK(redisGlob("wampd:", "wildcard", "a*..b") == "wampd:a\\*.*.b");
  CHECK(redisGlob("wampd:", "wildcard", "a.b") == "wampd:a.b");
}

TEST_CASE("session ids: the node number on top, random below, within WAMP's 2^53") {
  constexpr SessionId kMax = SessionId{1} << 53;
  const std::uint64_t all = ~std::uint64_t{0};
  CHECK(clusterSessionId(1, 0) == SessionId{1} << 37);
  CHECK(clusterSessionId(1, all) == (SessionId{2} << 37) - 1);
  CHECK(clusterSessionId(kMaxNodeNumber, all) == kMax - 1);
  CHECK(clusterSessionId(0, 0) == 1);  // unnumbered: never 0
  CHECK(clusterSessionId(0, all) == (SessionId{1} << 37) - 1);
  // Different numbers, whatever the random bits: different ids.
  for (std::uint64_t r : {std::uint64_t{0}, std::uint64_t{12345}, all})
    for (std::uint64_t q : {std::uint64_t{0}, std::uint64_t{12345}, all})
      CHECK(clusterSessionId(7, r) != clusterSessionId(8, q));
  CHECK((clusterSessionId(7, 12345) >> kSessionNodeShift) == 7);
}

}  // namespace
}  // namespace wampd::core::cluster
