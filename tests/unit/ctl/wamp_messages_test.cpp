#include "ctl/wamp_messages.h"

#include <doctest/doctest.h>

using namespace wampd;
using namespace wampd::ctl::wamp;

TEST_CASE("publishMessage is what Oro's backend sends") {
  Value payload(Array{Value(Object{{"username", "admin"}, {"tagname", "x"}})});
  CHECK(publishMessage("oro/data/update", payload) ==
        R"([7,"oro\/data\/update",[{"username":"admin","tagname":"x"}],[],[]])");
}

TEST_CASE("callMessage appends the arguments after the procedure") {
  CHECK(callMessage("c1", "sample/sum", Array{2, 3}) == R"([2,"c1","sample\/sum",2,3])");
  CHECK(callMessage("c2", "wampd.topics", {}) == R"([2,"c2","wampd.topics"])");
}

TEST_CASE("parseWelcome reads session id and server ident") {
  Welcome welcome;
  std::string error;
  REQUIRE(parseWelcome(R"([0,"123",1,"wampd\/0.1.0"])", welcome, error));
  CHECK(welcome.sessionId == "123");
  CHECK(welcome.serverIdent == "wampd/0.1.0");
}

TEST_CASE("parseWelcome refuses anything but a v1 WELCOME") {
  Welcome welcome;
  std::string error;
  CHECK_FALSE(parseWelcome("not json", welcome, error));
  CHECK(error.find("malformed JSON") != std::string::npos);
  CHECK_FALSE(parseWelcome(R"([8,"topic",{}])", welcome, error));
  CHECK(error.find("WELCOME") != std::string::npos);
  CHECK_FALSE(parseWelcome(R"([0,123,1,"x"])", welcome, error));
  CHECK_FALSE(parseWelcome(R"([0,"1",2,"x"])", welcome, error));
  CHECK(error.find("version 2") != std::string::npos);
}

TEST_CASE("parseCallReply matches the call id") {
  CallReply reply;
  CHECK_FALSE(parseCallReply(R"([3,"other",5])", "mine", reply));
  CHECK_FALSE(parseCallReply(R"([8,"mine",5])", "mine", reply));
  CHECK_FALSE(parseCallReply("[3,", "mine", reply));
  REQUIRE(parseCallReply(R"([3,"mine",{"a":[1]}])", "mine", reply));
  CHECK_FALSE(reply.isError);
  CHECK(reply.result == Value(Object{{"a", Array{1}}}));
}

TEST_CASE("parseCallReply reads a CALLERROR with and without details") {
  CallReply reply;
  REQUIRE(parseCallReply(R"([4,"c","http:\/\/x#err","it broke"])", "c", reply));
  CHECK(reply.isError);
  CHECK(reply.errorUri == "http://x#err");
  CHECK(reply.errorDesc == "it broke");
  CHECK_FALSE(reply.errorDetails.has_value());

  CHECK(reply.reason == "http://x#err");

  REQUIRE(parseCallReply(R"([4,"c","u","d",{"code":500}])", "c", reply));
  REQUIRE(reply.errorDetails.has_value());
  CHECK(*reply.errorDetails == Value(Object{{"code", 500}}));
  CHECK(reply.reason == "u");
}

TEST_CASE("parseCallReply takes wampd's error URI from the details as the reason") {
  CallReply reply;
  REQUIRE(parseCallReply(
      R"([4,"c","wampd.reload","reload failed",{"code":500,"error":"wampd.error.reload_failed"}])",
      "c", reply));
  CHECK(reply.errorUri == "wampd.reload");
  CHECK(reply.reason == "wampd.error.reload_failed");
}
