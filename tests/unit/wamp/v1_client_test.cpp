#include "wamp/v1_client.h"

#include <doctest/doctest.h>

using namespace wampd;
using namespace wampd::core::wamp1;

TEST_CASE("encodePublish is what Oro's backend sends") {
  Value payload(Array{Value(Object{{"username", "admin"}, {"tagname", "x"}})});
  CHECK(encodePublish("oro/data/update", payload) ==
        R"([7,"oro\/data\/update",[{"username":"admin","tagname":"x"}],[],[]])");
}

TEST_CASE("encodeCall appends the arguments after the procedure") {
  CHECK(encodeCall("c1", "sample/sum", Array{2, 3}) == R"([2,"c1","sample\/sum",2,3])");
  CHECK(encodeCall("c2", "wampd.topics", {}) == R"([2,"c2","wampd.topics"])");
}

TEST_CASE("decodeWelcome reads session id and server ident") {
  Welcome welcome;
  std::string error;
  REQUIRE(decodeWelcome(R"([0,"123",1,"wampd\/0.1.0"])", welcome, error));
  CHECK(welcome.sessionId == "123");
  CHECK(welcome.serverIdent == "wampd/0.1.0");
}

TEST_CASE("decodeWelcome refuses anything but a v1 WELCOME") {
  Welcome welcome;
  std::string error;
  CHECK_FALSE(decodeWelcome("not json", welcome, error));
  CHECK(error.find("malformed JSON") != std::string::npos);
  CHECK_FALSE(decodeWelcome(R"([8,"topic",{}])", welcome, error));
  CHECK(error.find("WELCOME") != std::string::npos);
  CHECK_FALSE(decodeWelcome(R"([0,123,1,"x"])", welcome, error));
  CHECK_FALSE(decodeWelcome(R"([0,"1",2,"x"])", welcome, error));
  CHECK(error.find("version 2") != std::string::npos);
}

TEST_CASE("decodeCallReply matches the call id") {
  CallReply reply;
  CHECK_FALSE(decodeCallReply(R"([3,"other",5])", "mine", reply));
  CHECK_FALSE(decodeCallReply(R"([8,"mine",5])", "mine", reply));
  CHECK_FALSE(decodeCallReply("[3,", "mine", reply));
  REQUIRE(decodeCallReply(R"([3,"mine",{"a":[1]}])", "mine", reply));
  CHECK_FALSE(reply.isError);
  CHECK(reply.result == Value(Object{{"a", Array{1}}}));
}

TEST_CASE("decodeCallReply reads a CALLERROR with and without details") {
  CallReply reply;
  REQUIRE(decodeCallReply(R"([4,"c","http:\/\/x#err","it broke"])", "c", reply));
  CHECK(reply.isError);
  CHECK(reply.errorUri == "http://x#err");
  CHECK(reply.errorDesc == "it broke");
  CHECK_FALSE(reply.errorDetails.has_value());

  CHECK(reply.reason == "http://x#err");

  REQUIRE(decodeCallReply(R"([4,"c","u","d",{"code":500}])", "c", reply));
  REQUIRE(reply.errorDetails.has_value());
  CHECK(*reply.errorDetails == Value(Object{{"code", 500}}));
  CHECK(reply.reason == "u");
}

TEST_CASE("decodeCallReply takes wampd's error URI from the details as the reason") {
  CallReply reply;
  REQUIRE(decodeCallReply(
      R"([4,"c","wampd.reload","reload failed",{"code":500,"error":"wampd.error.reload_failed"}])",
      "c", reply));
  CHECK(reply.errorUri == "wampd.reload");
  CHECK(reply.reason == "wampd.error.reload_failed");
}

TEST_CASE("a message type out of v1's range is neither WELCOME nor an answer") {
  Welcome welcome;
  std::string error;
  // 2^64 - 1 and 2^32: unsigned or wider than int, they must not wrap onto WELCOME (0).
  CHECK_FALSE(decodeWelcome(R"([18446744073709551615,"1",1,"x"])", welcome, error));
  CHECK(error.find("WAMP v1 WELCOME") != std::string::npos);
  CHECK_FALSE(decodeWelcome(R"([4294967296,"1",1,"x"])", welcome, error));
  CHECK_FALSE(decodeWelcome(R"([0.0,"1",1,"x"])", welcome, error));
  CallReply reply;
  CHECK_FALSE(decodeCallReply(R"([4294967299,"mine",5])", "mine", reply));
  CHECK_FALSE(decodeCallReply(R"([18446744073709551620,"mine","u","d"])", "mine", reply));
  CHECK_FALSE(decodeCallReply(R"([3.0,"mine",5])", "mine", reply));
}
