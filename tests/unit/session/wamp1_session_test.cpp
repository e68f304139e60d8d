// Wamp1Session over a fake Link, with a real broker and dealer: what a Ratchet/Gos client
// sees on the wire for PREFIX, CALL, SUBSCRIBE, UNSUBSCRIBE and PUBLISH, the close codes
// for bad input, and the end of a session. WELCOME is the server's job, not the session's.
#include "session/wamp1_session.h"

#include <doctest/doctest.h>

#include "fake_link.h"

namespace wampd::core {
namespace {

using testing::Client;
using testing::FakeCallee;
using testing::parsed;
using testing::Router;

using V1 = Client<Wamp1Session>;

struct Wamp1Fixture : Router {
  V1 a{*this, 11};
  V1 b{*this, 22};
};

TEST_CASE_FIXTURE(Wamp1Fixture, "CURIEs expand through prefixes; an event reaches the subscriber") {
  a.receive(R"([1,"n","news/"])");
  a.receive(R"([5,"n:1"])");
  CHECK(a.link.sent.empty());  // PREFIX and SUBSCRIBE are not acknowledged
  CHECK(log.calls == std::vector<std::string>{"subscribe 11 news/1"});

  b.receive(R"([1,"pfx","news/"])");
  b.receive(R"([7,"pfx:1",{"x":1}])");
  REQUIRE(a.link.sent.size() == 1);
  CHECK_FALSE(a.link.sent[0].binary);
  CHECK(a.link.sent[0].shared);
  CHECK(a.link.only() == parsed(R"([8,"news/1",{"x":1}])"));
  CHECK(b.link.sent.empty());

  // An unknown prefix leaves the URI as it is.
  a.receive(R"([6,"nope:1"])");
  CHECK(log.count("unsubscribe") == 0);
  a.receive(R"([6,"n:1"])");
  CHECK(log.count("unsubscribe") == 1);
  b.receive(R"([7,"news/1","again"])");
  CHECK(a.link.sent.empty());
}

TEST_CASE_FIXTURE(Wamp1Fixture, "a duplicate subscription is ignored") {
  a.receive(R"([5,"news/1"])");
  a.receive(R"([5,"news/1"])");
  CHECK(log.count("subscribe") == 1);
  b.receive(R"([7,"news/1",1])");
  CHECK(a.link.take().size() == 1);
  CHECK(a.link.closes.empty());
}

TEST_CASE_FIXTURE(Wamp1Fixture, "a topic no route matches closes with 1007") {
  a.receive(R"([5,"weather/1"])");
  REQUIRE(a.link.closes.size() == 1);
  CHECK(a.link.closes[0].first == 1007);
  CHECK(a.link.closes[0].second == "Unable to find route");
  CHECK(a.link.sent.empty());
}

TEST_CASE_FIXTURE(Wamp1Fixture, "a publication to a route without handler is ignored") {
  a.receive(R"([7,"orphan","x"])");
  a.receive(R"([5,"orphan"])");
  CHECK(a.link.closes.empty());
  CHECK(a.link.sent.empty());
}

TEST_CASE("bad input closes with 1007") {
  const char* const inputs[] = {
      R"([5,"news/1")",     // malformed JSON
      R"({"type":5})",      // not an array
      R"("hello")",         // not an array
      R"([8,"news/1",1])",  // EVENT: only a server sends it
      R"([0,"1",1,"x"])",   // WELCOME: only a server sends it
      R"([3,"c",1])",       // CALLRESULT: only a server sends it
      R"([99,"x"])",        // unknown type
      R"([5,7])",           // wrong field type
  };
  for (const char* input : inputs) {
    CAPTURE(input);
    Router router;
    V1 a{router, 11};
    a.receive(input);
    CHECK(a.link.closeCode() == 1007);
    CHECK(a.link.sent.empty());
    CHECK(router.log.calls.empty());
  }
}

TEST_CASE_FIXTURE(Wamp1Fixture, "a binary frame closes with 1007") {
  a.session->onMessage(R"([5,"news/1"])", true);
  CHECK(a.link.closeCode() == 1007);
  CHECK(log.calls.empty());
}

TEST_CASE_FIXTURE(Wamp1Fixture, "prefixes are bounded in number and length (1008)") {
  for (std::size_t i = 0; i < Wamp1Session::kMaxPrefixes; ++i)
    a.receive("[1,\"p" + std::to_string(i) + "\",\"news/\"]");
  // Redefining one that exists takes no new slot.
  a.receive(R"([1,"p0","other/"])");
  CHECK(a.link.closes.empty());
  a.receive(R"([1,"one_too_many","news/"])");
  CHECK(a.link.closeCode() == 1008);

  b.receive("[1,\"long\",\"" + std::string(Wamp1Session::kMaxUriLength + 1, 'x') + "\"]");
  CHECK(b.link.closeCode() == 1008);
}

TEST_CASE_FIXTURE(Wamp1Fixture, "a refused subscription gets Gos's CALLERROR shape") {
  log.refuse.push_back(11);
  a.receive(R"([5,"news/1"])");
  CHECK(a.link.only() == parsed(R"([4,"news/1","news/1","not you",)"
                                R"({"code":403,"topic":"news/1","event":"onSubscribe"}])"));
  CHECK(a.link.closes.empty());
  b.receive(R"([7,"news/1",1])");
  CHECK(a.link.sent.empty());
}

TEST_CASE_FIXTURE(Wamp1Fixture, "CALL to a plugin procedure") {
  a.receive(R"([2,"c1","calc/sum",2,3])");
  CHECK(a.link.only() == parsed(R"([3,"c1",5])"));

  a.receive(R"([1,"calc","calc/"])");
  a.receive(R"([2,"c2","calc:sum",4])");
  CHECK(a.link.only() == parsed(R"([3,"c2",4])"));

  // The handler's refusal: its URI in the details, the procedure as error URI.
  a.receive(R"([2,"c3","calc/sum","x"])");
  CHECK(
      a.link.only() ==
      parsed(
          R"([4,"c3","calc/sum","integers only",)"
          R"({"code":400,"rpc":"calc/sum","params":["x"],"error":"wamp.error.invalid_argument"}])"));
  CHECK(a.link.closes.empty());
}

TEST_CASE_FIXTURE(Wamp1Fixture, "CALL to a procedure nobody serves") {
  a.receive(R"([2,"c1","calc/none",1])");
  CHECK(a.link.only() == parsed(R"([4,"c1","calc/none","No route matches procedure \"calc/none\"",)"
                                R"({"code":404,"rpc":"calc/none","params":[1]}])"));
  a.receive(R"([2,"c2","orphan"])");
  CHECK(a.link.only() ==
        parsed(R"([4,"c2","orphan","A RPC handler for \"orphan\" has not been registered",)"
               R"({"code":404,"rpc":"orphan","params":[]}])"));
  CHECK(a.link.closes.empty());
}

TEST_CASE_FIXTURE(Wamp1Fixture, "CALL to a builtin the host serves, now or later") {
  a.receive(R"([2,"c1","wampd.echo","hi"])");
  CHECK(a.link.only() == parsed(R"([3,"c1","hi"])"));
  CHECK(host.builtins == std::vector<std::string>{"11 wampd.echo"});

  a.receive(R"([2,"c2","wampd.later"])");
  CHECK(a.link.sent.empty());
  REQUIRE(host.later);
  host.later(Status(), Value("late"));
  CHECK(a.link.only() == parsed(R"([3,"c2","late"])"));

  // The answer finds the session gone and goes nowhere.
  b.receive(R"([2,"c3","wampd.later"])");
  b.leave();
  host.later(Status(), Value("too late"));
}

TEST_CASE_FIXTURE(Wamp1Fixture, "CALL to a WAMP v2 callee gets its final result only") {
  FakeCallee callee;
  REQUIRE(dealer.registerProcedure(callee, "app.echo", "single").status.isOk());
  a.receive(R"([2,"c1","app.echo",1,2])");
  REQUIRE(callee.invoked.size() == 1);
  CHECK(callee.invoked[0].args == Array{Value(1), Value(2)});
  const Array part{Value("part")}, last{Value("last")};
  dealer.yield(callee, callee.invoked[0].invocation, true, &part, nullptr);
  CHECK(a.link.sent.empty());
  dealer.yield(callee, callee.invoked[0].invocation, false, &last, nullptr);
  CHECK(a.link.only() == parsed(R"([3,"c1","last"])"));

  a.receive(R"([2,"c2","app.echo"])");
  REQUIRE(callee.invoked.size() == 2);
  const Array why{Value("no way")};
  dealer.calleeError(callee, callee.invoked[1].invocation, "app.error.nope", &why, nullptr);
  const Value error = a.link.only();
  CHECK(error.array()->at(0) == Value(4));
  CHECK(error.array()->at(1) == Value("c2"));
  CHECK(error.array()->at(3) == Value("no way"));
}

TEST_CASE_FIXTURE(Wamp1Fixture, "exclude true excludes the publisher") {
  a.receive(R"([5,"news/1"])");
  b.receive(R"([5,"news/1"])");
  a.receive(R"([7,"news/1","e",true])");
  CHECK(a.link.sent.empty());
  CHECK(b.link.take().size() == 1);
  // false, and Oro's backend shape with empty lists, exclude no one.
  a.receive(R"([7,"news/1","e",false])");
  a.receive(R"([7,"news/1","e",[],[]])");
  CHECK(a.link.take().size() == 2);
  CHECK(b.link.take().size() == 2);
}

TEST_CASE_FIXTURE(Wamp1Fixture, "exclude and eligible lists name sessions by id strings") {
  V1 c{*this, 33};
  for (V1* s : {&a, &b, &c}) s->receive(R"([5,"news/1"])");
  a.receive(R"([7,"news/1","e",["22","33"]])");
  CHECK(a.link.take().size() == 1);
  CHECK(b.link.sent.empty());
  CHECK(c.link.sent.empty());
  a.receive(R"([7,"news/1","e",[],["22"]])");
  CHECK(a.link.sent.empty());
  CHECK(b.link.take().size() == 1);
  CHECK(c.link.sent.empty());
  // An eligible list naming no session reaches no one, as Ratchet's does; only an empty
  // one means "no restriction".
  a.receive(R"([7,"news/1","e",[],["22x"]])");
  CHECK(a.link.sent.empty());
  CHECK(b.link.sent.empty());
  CHECK(c.link.sent.empty());
}

TEST_CASE_FIXTURE(Wamp1Fixture, "a reload that drops the route revokes with event \"reload\"") {
  a.receive(R"([5,"news/1"])");
  broker.setGeneration(testing::GenerationBuilder().build(2));
  const Value revoked = a.link.only();
  REQUIRE(revoked.array());
  const Array& m = *revoked.array();
  REQUIRE(m.size() == 5);
  CHECK(m[0] == Value(4));
  CHECK(m[1] == Value("news/1"));
  CHECK(m[2] == Value("news/1"));
  CHECK(m[4] == parsed(R"({"code":410,"topic":"news/1","event":"reload"})"));
  CHECK(a.link.closes.empty());
}

TEST_CASE_FIXTURE(Wamp1Fixture,
                  "shutdown hangs up with no close frame (Oro pages come back); later messages "
                  "are ignored") {
  a.receive(R"([5,"news/1"])");
  a.session->shutdown();
  REQUIRE(a.link.hangUps.size() == 1);
  CHECK_FALSE(a.link.hangUps[0]);  // what is queued still goes out
  CHECK(a.link.closes.empty());
  CHECK(a.link.aborts.empty());
  CHECK_FALSE(a.session->receivesEvents());
  a.session->shutdown();
  CHECK(a.link.hangUps.size() == 1);

  a.receive(R"([5,"news/2"])");
  a.receive(R"([2,"c1","calc/sum",1])");
  a.receive("not json");
  CHECK(log.count("subscribe") == 1);
  CHECK(a.link.sent.empty());
  CHECK(a.link.closes.empty());
  CHECK(a.link.hangUps.size() == 1);
  a.session->subscriptionRevoked("news/1", 1,
                                 Status::error("wamp.error.no_such_subscription", "x"));
  CHECK(a.link.sent.empty());
}

}  // namespace
}  // namespace wampd::core
