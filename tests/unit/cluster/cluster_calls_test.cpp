// The messages on a node channel (calls, cancels, results, errors across nodes): every field
// survives the trip, bytes intact, and what no node wrote is refused.
#include "cluster/cluster_calls.h"

#include <doctest/doctest.h>

#include "wamp/v2_codec.h"

namespace wampd::core::cluster {
namespace {

CallMessage roundTrip(const CallMessage& m) {
  CallMessage got;
  std::string error;
  REQUIRE_MESSAGE(decodeCallMessage(encodeCallMessage(m), got, error), error);
  return got;
}

TEST_CASE("a call with every field survives the trip") {
  CallMessage m;
  m.kind = CallMessage::Kind::Call;
  m.node = "0123456789abcdef";
  m.call = 42;
  m.caller = (SessionId{1} << 53) - 1;
  m.uri = "app.echo";
  m.progress = true;
  m.discloseMe = true;
  m.authid = "alice";
  m.authrole = "user";
  m.hasArgs = true;
  m.args = Array{Value(1), Value("two"), Value(std::string("\xff\x00\xfe", 3)), Value(2.5)};
  m.hasKwargs = true;
  m.kwargs = Object{{"k", Value(Array{Value(true), Value()})}};
  const CallMessage got = roundTrip(m);
  CHECK(got.kind == CallMessage::Kind::Call);
  CHECK(got.node == m.node);
  CHECK(got.call == 42);
  CHECK(got.caller == m.caller);
  CHECK(got.uri == "app.echo");
  CHECK(got.progress);
  CHECK(got.discloseMe);
  CHECK(got.authid == "alice");
  CHECK(got.authrole == "user");
  CHECK(got.hasArgs);
  CHECK(got.args == m.args);
  CHECK(got.hasKwargs);
  CHECK(got.kwargs == m.kwargs);
  CHECK(got.timeoutMs == 0);
  m.timeoutMs = 1500;  // the callee's node runs the caller's timeout too
  CHECK(roundTrip(m).timeoutMs == 1500);
}

TEST_CASE("results, errors and cancels keep their kind; absent arguments stay absent") {
  for (auto kind :
       {CallMessage::Kind::Cancel, CallMessage::Kind::Result, CallMessage::Kind::Error}) {
    CallMessage m;
    m.kind = kind;
    m.node = "n";
    m.call = 7;
    m.caller = 9;
    m.uri = kind == CallMessage::Kind::Cancel ? "killnowait" : "";
    const CallMessage got = roundTrip(m);
    CHECK(got.kind == kind);
    CHECK(got.uri == m.uri);
    CHECK_FALSE(got.progress);
    CHECK_FALSE(got.hasArgs);
    CHECK_FALSE(got.hasKwargs);
  }
  CallMessage progressive;
  progressive.kind = CallMessage::Kind::Result;
  progressive.progress = true;
  progressive.hasArgs = true;
  progressive.args = Array{Value(3)};
  const CallMessage got = roundTrip(progressive);
  CHECK(got.progress);
  CHECK(got.args == progressive.args);
}

TEST_CASE("messages no node wrote are refused") {
  CallMessage got;
  std::string error;
  CHECK_FALSE(decodeCallMessage("not msgpack at all", got, error));
  CHECK_FALSE(error.empty());

  CallMessage m;
  m.node = "n";
  Array good;
  REQUIRE(wamp2::decode(encodeCallMessage(m), wamp2::Serializer::MsgPack, good, error));
  auto refused = [&](Array changed) {
    std::string why;
    CallMessage out;
    return !decodeCallMessage(wamp2::encode(changed, wamp2::Serializer::MsgPack), out, why) &&
           !why.empty();
  };
  Array other = good;
  other[0] = Value(1);  // an older format (no timeout)
  CHECK(refused(other));
  Array kind = good;
  kind[1] = Value(5);  // no such kind
  CHECK(refused(kind));
  Array args = good;
  args[10] = Value("not a list");
  CHECK(refused(args));
  Array shorter(good.begin(), good.end() - 1);
  CHECK(refused(shorter));
  Array timeout = good;
  timeout[12] = Value("soon");
  CHECK(refused(timeout));
}

}  // namespace
}  // namespace wampd::core::cluster
