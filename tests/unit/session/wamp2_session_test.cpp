// Wamp2Session over a fake Link, with a real broker and dealer: session life (HELLO,
// WELCOME, ABORT, GOODBYE, shutdown), the broker role (SUBSCRIBE, PUBLISH, EVENT, options,
// revocation) and the dealer role (REGISTER, CALL, INVOCATION, YIELD, ERROR, CANCEL), in
// JSON, with one msgpack session.
#include "session/wamp2_session.h"

#include <doctest/doctest.h>

#include "fake_link.h"

namespace wampd::core {
namespace {

using testing::Client;
using testing::parsed;
using testing::Router;

struct V2 : Client<Wamp2Session> {
  V2(Router& r, SessionId id, wamp2::Serializer serializer = wamp2::Serializer::Json)
      : Client(r, id, serializer, /*mustAuthenticate=*/false) {}

  /// HELLO with `roles` (a JSON object, where clients announce features); the WELCOME taken.
  void join(
      const std::string& roles = R"({"subscriber":{},"publisher":{},"caller":{},"callee":{}})") {
    receive(R"([1,"realm1",{"roles":)" + roles + "}]");
    const Value welcome = link.only();
    REQUIRE(welcome.array());
    REQUIRE(welcome.array()->at(0) == Value(2));
  }
  /// The one message sent since the last take, as an array.
  Array next() {
    const Value v = link.only();
    REQUIRE(v.array());
    return *v.array();
  }
  std::uint64_t subscribe(std::uint64_t request, const std::string& topic,
                          const std::string& options = "{}") {
    receive("[32," + std::to_string(request) + "," + options + ",\"" + topic + "\"]");
    const Array m = next();
    REQUIRE(m.size() == 3);
    REQUIRE(m[0] == Value(33));
    CHECK(m[1].asUInt() == request);
    return m[2].asUInt();
  }
  std::uint64_t registerProcedure(std::uint64_t request, const std::string& procedure) {
    receive("[64," + std::to_string(request) + ",{},\"" + procedure + "\"]");
    const Array m = next();
    REQUIRE(m.size() == 3);
    REQUIRE(m[0] == Value(65));
    return m[2].asUInt();
  }
  void checkAborted(const std::string& reason, std::uint16_t closeCode) {
    const Array m = next();
    REQUIRE(m.size() == 3);
    CHECK(m[0] == Value(3));
    CHECK(m[2] == Value(reason));
    CHECK(link.closeCode() == closeCode);
    CHECK(link.closes.size() == 1);
  }
};

const std::string kCanceling = R"({"caller":{},"callee":{"features":{"call_canceling":true}}})";
const std::string kRevocation = R"({"subscriber":{"features":{"subscription_revocation":true}}})";

struct Wamp2Fixture : Router {
  V2 a{*this, 11};
  V2 b{*this, 22};
};

TEST_CASE_FIXTURE(Wamp2Fixture, "HELLO is answered with WELCOME and the router's roles") {
  a.receive(R"([1,"realm1",{"roles":{"subscriber":{}}}])");
  const Array m = a.next();
  REQUIRE(m.size() == 3);
  CHECK(m[0] == Value(2));
  CHECK(m[1].asUInt() == 11);
  const Value& details = m[2];
  CHECK(*details.find("realm") == Value("realm1"));
  CHECK(*details.find("authid") == Value("11"));
  CHECK(*details.find("authrole") == Value("anonymous"));
  CHECK(*details.find("authmethod") == Value("anonymous"));
  const Value* roles = details.find("roles");
  REQUIRE(roles);
  REQUIRE(roles->find("broker"));
  REQUIRE(roles->find("dealer"));
  CHECK(*roles->find("broker")->find("features")->find("subscription_revocation") == Value(true));
  CHECK(*roles->find("dealer")->find("features")->find("call_canceling") == Value(true));
  CHECK(a.link.closes.empty());
  CHECK(a.session->receivesEvents());
}

TEST_CASE_FIXTURE(Wamp2Fixture, "a message before HELLO is a protocol violation") {
  CHECK_FALSE(a.session->receivesEvents());
  a.receive(R"([32,1,{},"news/1"])");
  a.checkAborted("wamp.error.protocol_violation", 1002);
  CHECK(log.calls.empty());
  // Closing: the rest is ignored.
  a.receive(R"([1,"realm1",{}])");
  CHECK(a.link.sent.empty());
  CHECK(a.link.sentAfterClose == 0);
}

TEST_CASE_FIXTURE(Wamp2Fixture, "an unknown realm is refused") {
  a.receive(R"([1,"nowhere",{}])");
  a.checkAborted("wamp.error.no_such_realm", 1000);
}

TEST_CASE_FIXTURE(Wamp2Fixture, "malformed input and a binary frame on JSON are violations") {
  a.receive("[1,");
  a.checkAborted("wamp.error.protocol_violation", 1002);
  b.join();
  b.session->onMessage(R"([32,1,{},"news/1"])", true);
  b.checkAborted("wamp.error.protocol_violation", 1002);
}

TEST_CASE_FIXTURE(Wamp2Fixture, "a publication reaches the subscriber, acknowledged") {
  a.join();
  b.join();
  const std::uint64_t subscription = a.subscribe(1, "news/1");
  CHECK(subscription != 0);
  CHECK(log.calls == std::vector<std::string>{"subscribe 11 news/1"});

  b.receive(R"([16,1,{"acknowledge":true},"news/1",["hello"]])");
  const Array published = b.next();
  REQUIRE(published.size() == 3);
  CHECK(published[0] == Value(17));
  CHECK(published[1] == Value(1));
  const std::uint64_t publication = published[2].asUInt();
  CHECK(publication != 0);

  REQUIRE(a.link.sent.size() == 1);
  CHECK(a.link.sent[0].shared);
  CHECK_FALSE(a.link.sent[0].binary);
  const Array event = a.next();
  REQUIRE(event.size() == 5);
  CHECK(event[0] == Value(36));
  CHECK(event[1].asUInt() == subscription);
  CHECK(event[2].asUInt() == publication);
  CHECK(event[3] == parsed("{}"));
  CHECK(event[4] == parsed(R"(["hello"])"));

  // Without acknowledge the publisher hears nothing.
  b.receive(R"([16,2,{},"news/1",["again"]])");
  CHECK(b.link.sent.empty());
  CHECK(a.link.take().size() == 1);
}

TEST_CASE_FIXTURE(Wamp2Fixture, "the publisher is excluded unless it says exclude_me false") {
  a.join();
  const std::uint64_t subscription = a.subscribe(1, "news/1");
  a.receive(R"([16,2,{},"news/1",[1]])");
  CHECK(a.link.sent.empty());
  a.receive(R"([16,3,{"exclude_me":false},"news/1",[2]])");
  const Array event = a.next();
  CHECK(event[1].asUInt() == subscription);
  CHECK(event[4] == parsed("[2]"));
}

TEST_CASE_FIXTURE(Wamp2Fixture, "a publisher that discloses itself is named in the event") {
  a.join();
  b.join();
  a.subscribe(1, "news/1");
  b.receive(R"([16,1,{"disclose_me":true},"news/1",[1]])");
  const Array event = a.next();
  REQUIRE(event.size() == 5);
  CHECK(event[3] ==
        parsed(R"({"publisher":22,"publisher_authid":"22","publisher_authrole":"anonymous"})"));
}

TEST_CASE_FIXTURE(Wamp2Fixture, "publication errors are told only when acknowledged") {
  b.join();
  b.receive(R"([16,1,{},"weather/1",[1]])");
  CHECK(b.link.sent.empty());
  b.receive(R"([16,2,{"acknowledge":true},"weather/1",[1]])");
  const Array error = b.next();
  CHECK(error[0] == Value(8));
  CHECK(error[1] == Value(16));
  CHECK(error[2] == Value(2));
  CHECK(error[4] == Value("wamp.error.invalid_uri"));
  CHECK(b.link.closes.empty());
}

TEST_CASE_FIXTURE(Wamp2Fixture, "a pattern subscription's events name their topic") {
  a.join();
  b.join();
  const std::uint64_t subscription = a.subscribe(1, "news/", R"({"match":"prefix"})");
  b.receive(R"([16,1,{},"news/7",["x"]])");
  const Array event = a.next();
  REQUIRE(event.size() == 5);
  CHECK(event[1].asUInt() == subscription);
  CHECK(event[3] == parsed(R"({"topic":"news/7"})"));
  CHECK(event[4] == parsed(R"(["x"])"));
}

TEST_CASE_FIXTURE(Wamp2Fixture, "SUBSCRIBE to no route is an error; the session stays") {
  a.join();
  a.receive(R"([32,1,{},"weather/1"])");
  const Array error = a.next();
  CHECK(error[0] == Value(8));
  CHECK(error[1] == Value(32));
  CHECK(error[4] == Value("wamp.error.invalid_uri"));
  CHECK(a.link.closes.empty());
}

TEST_CASE_FIXTURE(Wamp2Fixture, "request ids that do not increase end the session") {
  a.join();
  a.subscribe(5, "news/1");
  a.receive(R"([32,5,{},"news/2"])");
  a.checkAborted("wamp.error.protocol_violation", 1002);
  CHECK(log.count("subscribe") == 1);

  b.join();
  b.subscribe(1, "news/1");
  b.receive(R"([32,0,{},"news/2"])");
  b.checkAborted("wamp.error.protocol_violation", 1002);
}

TEST_CASE_FIXTURE(Wamp2Fixture, "a call reaches the callee and its yield the caller") {
  a.join();
  b.join();
  const std::uint64_t registration = b.registerProcedure(1, "app.echo");
  a.receive(R"([48,1,{},"app.echo",["x",2],{"k":"v"}])");
  const Array invocation = b.next();
  REQUIRE(invocation.size() == 6);
  CHECK(invocation[0] == Value(68));
  CHECK(invocation[2].asUInt() == registration);
  CHECK(invocation[3] == parsed("{}"));
  CHECK(invocation[4] == parsed(R"(["x",2])"));
  CHECK(invocation[5] == parsed(R"({"k":"v"})"));
  CHECK(a.link.sent.empty());

  b.receive("[70," + std::to_string(invocation[1].asUInt()) + R"(,{},["back"]])");
  CHECK(a.next() == *parsed(R"([50,1,{},["back"]])").array());
  CHECK(b.link.sent.empty());
}

TEST_CASE_FIXTURE(Wamp2Fixture, "progressive results reach a caller that asked for them") {
  a.join();
  b.join();
  b.registerProcedure(1, "app.count");
  a.receive(R"([48,1,{"receive_progress":true},"app.count",[]])");
  const Array invocation = b.next();
  CHECK(invocation[3] == parsed(R"({"receive_progress":true})"));
  const std::string id = std::to_string(invocation[1].asUInt());
  b.receive("[70," + id + R"(,{"progress":true},[1]])");
  b.receive("[70," + id + R"(,{"progress":true},[2]])");
  b.receive("[70," + id + R"(,{},[3]])");
  const std::vector<Value> results = a.link.take();
  REQUIRE(results.size() == 3);
  CHECK(results[0] == parsed(R"([50,1,{"progress":true},[1]])"));
  CHECK(results[1] == parsed(R"([50,1,{"progress":true},[2]])"));
  CHECK(results[2] == parsed(R"([50,1,{},[3]])"));
}

TEST_CASE_FIXTURE(Wamp2Fixture, "the callee's ERROR reaches the caller") {
  a.join();
  b.join();
  b.registerProcedure(1, "app.echo");
  a.receive(R"([48,1,{},"app.echo",[]])");
  const Array invocation = b.next();
  b.receive("[8,68," + std::to_string(invocation[1].asUInt()) +
            R"(,{},"app.error.nope",["why"],{"k":1}])");
  CHECK(a.next() == *parsed(R"([8,48,1,{},"app.error.nope",["why"],{"k":1}])").array());
}

TEST_CASE_FIXTURE(Wamp2Fixture, "an ERROR for anything but INVOCATION is a violation") {
  b.join();
  b.receive(R"([8,48,1,{},"app.error.nope"])");
  b.checkAborted("wamp.error.protocol_violation", 1002);
}

TEST_CASE_FIXTURE(Wamp2Fixture, "a call to a plugin procedure, a builtin and nothing") {
  a.join();
  a.receive(R"([48,1,{},"calc/sum",[2,3]])");
  CHECK(a.next() == *parsed(R"([50,1,{},[5]])").array());
  a.receive(R"([48,2,{},"wampd.echo",["hi"]])");
  CHECK(a.next() == *parsed(R"([50,2,{},["hi"]])").array());
  // The host is asked first, whatever the procedure.
  CHECK(host.builtins == std::vector<std::string>{"11 calc/sum", "11 wampd.echo"});
  a.receive(R"([48,3,{},"calc/sum",["x"]])");
  const Array failed = a.next();
  CHECK(failed[0] == Value(8));
  CHECK(failed[4] == Value("wamp.error.invalid_argument"));
  a.receive(R"([48,4,{},"app.none",[]])");
  const Array none = a.next();
  CHECK(none[0] == Value(8));
  CHECK(none[2] == Value(4));
  CHECK(none[4] == Value("wamp.error.no_such_procedure"));
}

TEST_CASE_FIXTURE(Wamp2Fixture, "REGISTER of a procedure a plugin serves is refused") {
  b.join();
  b.receive(R"([64,1,{},"calc/sum"])");
  const Array error = b.next();
  CHECK(error[0] == Value(8));
  CHECK(error[1] == Value(64));
  CHECK(error[4] == Value("wamp.error.procedure_already_exists"));
}

TEST_CASE_FIXTURE(Wamp2Fixture, "CANCEL fails the call and interrupts a callee that can be") {
  a.join();
  b.join(kCanceling);
  b.registerProcedure(1, "app.slow");
  a.receive(R"([48,1,{},"app.slow",[]])");
  const Array invocation = b.next();
  a.receive(R"([49,1,{"mode":"killnowait"}])");
  const Array error = a.next();
  CHECK(error[0] == Value(8));
  CHECK(error[1] == Value(48));
  CHECK(error[2] == Value(1));
  CHECK(error[4] == Value("wamp.error.canceled"));
  const Array interrupt = b.next();
  REQUIRE(interrupt.size() == 3);
  CHECK(interrupt[0] == Value(69));
  CHECK(interrupt[1] == invocation[1]);
  CHECK(interrupt[2] == parsed(R"({"mode":"killnowait"})"));
}

TEST_CASE_FIXTURE(Wamp2Fixture, "CANCEL kill waits for the callee's answer") {
  a.join();
  b.join(kCanceling);
  b.registerProcedure(1, "app.slow");
  a.receive(R"([48,1,{},"app.slow",[]])");
  const std::string id = std::to_string(b.next()[1].asUInt());
  a.receive(R"([49,1,{"mode":"kill"}])");
  CHECK(b.next() == *parsed("[69," + id + R"(,{"mode":"kill"}])").array());
  CHECK(a.link.sent.empty());
  b.receive("[8,68," + id + R"(,{},"wamp.error.canceled"])");
  const Array error = a.next();
  CHECK(error[0] == Value(8));
  CHECK(error[2] == Value(1));
  CHECK(error[4] == Value("wamp.error.canceled"));
}

TEST_CASE_FIXTURE(Wamp2Fixture, "a YIELD from a session that was not invoked is ignored") {
  V2 c{*this, 33};
  a.join();
  b.join();
  c.join();
  b.registerProcedure(1, "app.echo");
  a.receive(R"([48,1,{},"app.echo",[]])");
  const std::string id = std::to_string(b.next()[1].asUInt());
  c.receive("[70," + id + R"(,{},["forged"]])");
  CHECK(a.link.sent.empty());
  b.receive("[70," + id + R"(,{},["real"]])");
  CHECK(a.next() == *parsed(R"([50,1,{},["real"]])").array());
}

TEST_CASE_FIXTURE(Wamp2Fixture, "UNSUBSCRIBE and UNREGISTER of unknown ids are errors") {
  a.join();
  const std::uint64_t subscription = a.subscribe(1, "news/1");
  a.receive("[34,2," + std::to_string(subscription) + "]");
  CHECK(a.next() == *parsed("[35,2]").array());
  CHECK(log.count("unsubscribe") == 1);
  a.receive("[34,3," + std::to_string(subscription) + "]");
  CHECK(a.next()[4] == Value("wamp.error.no_such_subscription"));

  const std::uint64_t registration = a.registerProcedure(4, "app.echo");
  a.receive("[66,5," + std::to_string(registration) + "]");
  CHECK(a.next() == *parsed("[67,5]").array());
  CHECK_FALSE(dealer.hasCallee("app.echo"));
  a.receive("[66,6," + std::to_string(registration) + "]");
  CHECK(a.next()[4] == Value("wamp.error.no_such_registration"));
  CHECK(a.link.closes.empty());
}

TEST_CASE_FIXTURE(Wamp2Fixture, "a callee that did not announce call canceling gets no INTERRUPT") {
  a.join();
  b.join();
  b.registerProcedure(1, "app.slow");
  a.receive(R"([48,1,{},"app.slow",[]])");
  b.next();
  a.receive(R"([49,1,{"mode":"kill"}])");
  CHECK(a.next()[4] == Value("wamp.error.canceled"));
  CHECK(b.link.sent.empty());
}

TEST_CASE_FIXTURE(Wamp2Fixture, "a callee that leaves fails its calls with canceled") {
  a.join();
  b.join();
  b.registerProcedure(1, "app.slow");
  a.receive(R"([48,1,{},"app.slow",[]])");
  b.leave();
  CHECK(a.next()[4] == Value("wamp.error.canceled"));
  CHECK_FALSE(dealer.hasCallee("app.slow"));
}

TEST_CASE_FIXTURE(Wamp2Fixture, "GOODBYE is answered and the connection closes with 1000") {
  a.join();
  a.receive(R"([6,{},"wamp.close.close_realm"])");
  CHECK(a.next() == *parsed(R"([6,{},"wamp.close.goodbye_and_out"])").array());
  CHECK(a.link.closeCode() == 1000);
  CHECK_FALSE(a.session->receivesEvents());
  a.receive(R"([32,1,{},"news/1"])");
  CHECK(a.link.sent.empty());
  CHECK(log.calls.empty());
}

TEST_CASE_FIXTURE(Wamp2Fixture, "a revoked subscription is told to a client that understands it") {
  a.join(kRevocation);
  b.join();
  const std::uint64_t subscription = a.subscribe(1, "news/1");
  b.subscribe(1, "news/1");
  broker.setGeneration(testing::GenerationBuilder().build(2));
  const Array revoked = a.next();
  REQUIRE(revoked.size() == 3);
  CHECK(revoked[0] == Value(35));
  CHECK(revoked[1] == Value(0));
  REQUIRE(revoked[2].find("subscription"));
  CHECK(revoked[2].find("subscription")->asUInt() == subscription);
  CHECK(revoked[2].find("reason"));
  CHECK(b.link.sent.empty());
  CHECK(a.link.closes.empty());
  CHECK(b.link.closes.empty());
}

TEST_CASE_FIXTURE(Wamp2Fixture, "shutdown closes with 1001 and no GOODBYE (clients come back)") {
  a.join();
  a.session->shutdown();
  CHECK(a.link.sent.empty());
  REQUIRE(a.link.closes.size() == 1);
  CHECK(a.link.closes[0].first == 1001);
  a.session->shutdown();
  CHECK(a.link.closes.size() == 1);
  CHECK(a.link.sent.empty());

  // Not yet established: the same.
  b.session->shutdown();
  CHECK(b.link.sent.empty());
  CHECK(b.link.closeCode() == 1001);
}

TEST_CASE_FIXTURE(Router, "anonymous HELLO offering ticket gets a CHALLENGE; a bad ticket ABORT") {
  V2 a{*this, 11};
  a.receive(R"([1,"realm1",{"authmethods":["ticket"],"authid":"alice"}])");
  CHECK(a.next() == *parsed(R"([4,"ticket",{}])").array());
  a.receive(R"([32,1,{},"news/1"])");
  a.checkAborted("wamp.error.protocol_violation", 1002);

  V2 b{*this, 22};
  b.receive(R"([1,"realm1",{"authmethods":["ticket"],"authid":"alice"}])");
  b.next();
  // The fake host's authenticator has no secret: every ticket is refused.
  b.receive(R"([5,"bm9wZQ==",{}])");
  b.checkAborted("wamp.error.authentication_failed", 1000);
}

TEST_CASE_FIXTURE(Router, "a msgpack session speaks binary frames") {
  V2 a{*this, 11, wamp2::Serializer::MsgPack};
  V2 b{*this, 22};
  const auto receive = [&a](const Array& m) {
    a.session->onMessage(wamp2::encode(m, wamp2::Serializer::MsgPack), true);
  };
  const auto sent = [&a] {
    REQUIRE(a.link.sent.size() == 1);
    CHECK(a.link.sent[0].binary);
    Array m;
    std::string why;
    REQUIRE_MESSAGE(wamp2::decode(a.link.sent[0].payload, wamp2::Serializer::MsgPack, m, why), why);
    a.link.sent.clear();
    return m;
  };
  receive(Array{Value(1), Value("realm1"), Value(Object{})});
  CHECK(sent()[0] == Value(2));
  receive(Array{Value(32), Value(1), Value(Object{}), Value("news/1")});
  const Array subscribed = sent();
  CHECK(subscribed[0] == Value(33));

  b.join();
  b.receive(R"([16,1,{},"news/1",["hi"]])");
  const Array event = sent();
  REQUIRE(event.size() == 5);
  CHECK(event[0] == Value(36));
  CHECK(event[1].asUInt() == subscribed[2].asUInt());
  CHECK(event[4] == Value(Array{Value("hi")}));

  // Text on a msgpack session is a violation.
  a.receive(R"([32,2,{},"news/2"])");
  CHECK(sent()[0] == Value(3));
  CHECK(a.link.closeCode() == 1002);
}

}  // namespace
}  // namespace wampd::core
