#include "wamp/v2_client.h"

#include <doctest/doctest.h>

#include "common/json.h"

using namespace wampd;
namespace wamp2 = wampd::core::wamp2;

namespace {

// What wampd makes of a message wampctl sends: the server's own parser and shape check.
Array asServerSees(const std::string& text) {
  Array message;
  std::string error;
  REQUIRE_MESSAGE(wamp2::decode(text, wamp2::Serializer::Json, message, error), error);
  REQUIRE_MESSAGE(wamp2::validateFromClient(message, error), error);
  return message;
}

Value json(const char* text) {
  Value value;
  REQUIRE(core::json::parse(text, value));
  return value;
}

constexpr wamp2::Type kPublish = wamp2::Type::Publish;
constexpr wamp2::Type kCall = wamp2::Type::Call;

}  // namespace

TEST_CASE("encodeHello joins the realm as publisher and caller, offering no authentication") {
  Array hello = asServerSees(wamp2::encodeHello("realm1", "wampctl"));
  CHECK(hello[0] == Value(1));
  CHECK(hello[1] == Value("realm1"));
  const Value* roles = hello[2].find("roles");
  REQUIRE(roles);
  CHECK(roles->find("publisher"));
  CHECK(roles->find("caller"));
  const Value* agent = hello[2].find("agent");
  REQUIRE(agent);
  CHECK(*agent == Value("wampctl"));
  CHECK_FALSE(hello[2].find("authmethods"));
}

TEST_CASE("encodePublish asks for an acknowledgement and sends the payload as one argument") {
  Value payload = json(R"([{"username":"admin","tagname":"x"}])");
  Array publish = asServerSees(wamp2::encodePublish(7, "oro/data/update", payload));
  CHECK(Value(publish) ==
        Value(Array{16, 7, Object{{"acknowledge", true}}, "oro/data/update", Array{payload}}));
}

TEST_CASE("encodeCall sends the arguments as the argument list") {
  Array call = asServerSees(wamp2::encodeCall(3, "sample/sum", Array{2, 3}));
  CHECK(Value(call) == Value(Array{48, 3, Object{}, "sample/sum", Array{2, 3}}));
  Array bare = asServerSees(wamp2::encodeCall(4, "wampd.topics", {}));
  CHECK(Value(bare) == Value(Array{48, 4, Object{}, "wampd.topics", Array{}}));
}

TEST_CASE("encodeGoodbye closes the realm") {
  Array goodbye = asServerSees(wamp2::encodeGoodbye());
  CHECK(Value(goodbye) == Value(Array{6, Object{}, "wamp.close.close_realm"}));
}

TEST_CASE("decodeWelcome reads the session id and who the server took us for") {
  wamp2::Welcome welcome;
  std::string error;
  REQUIRE(wamp2::decodeWelcome(
      R"([2,9007199254740992,{"realm":"realm1","authid":"","authrole":"backend","roles":{}}])",
      welcome, error));
  CHECK(welcome.sessionId == 9007199254740992ULL);
  CHECK(welcome.realm == "realm1");
  CHECK(welcome.authrole == "backend");
}

TEST_CASE("decodeWelcome reports ABORT, CHALLENGE and anything else") {
  wamp2::Welcome welcome;
  std::string error;
  CHECK_FALSE(wamp2::decodeWelcome(
      R"([3,{"message":"no realm \"x\" on this server"},"wamp.error.no_such_realm"])", welcome,
      error));
  CHECK(error ==
        "the server aborted the session: wamp.error.no_such_realm: no realm \"x\" on this "
        "server");
  CHECK_FALSE(wamp2::decodeWelcome(R"([4,"ticket",{}])", welcome, error));
  CHECK(error.find("ticket") != std::string::npos);
  CHECK_FALSE(wamp2::decodeWelcome(R"([0,"123",1,"wampd"])", welcome, error));
  CHECK(error.find("WAMP v2 WELCOME") != std::string::npos);
  CHECK_FALSE(wamp2::decodeWelcome("[2,", welcome, error));
  CHECK(error.find("malformed") != std::string::npos);
}

TEST_CASE("readAnswer takes PUBLISHED for the publish it answers") {
  wamp2::CallReply reply;
  std::string error;
  CHECK(wamp2::readAnswer("[17,5,123]", kPublish, 4, reply, error) == wamp2::Reading::Unrelated);
  CHECK(wamp2::readAnswer("[17,5,123]", kCall, 5, reply, error) == wamp2::Reading::Unrelated);
  REQUIRE(wamp2::readAnswer("[17,5,123]", kPublish, 5, reply, error) == wamp2::Reading::Answered);
  CHECK_FALSE(reply.isError);
  CHECK(reply.result == Value(123));
}

TEST_CASE("readAnswer reads an ERROR: its URI, its arguments and keyword arguments") {
  wamp2::CallReply reply;
  std::string error;
  CHECK(wamp2::readAnswer(R"([8,48,5,{},"wamp.error.not_authorized",["no"]])", kPublish, 5, reply,
                          error) == wamp2::Reading::Unrelated);
  REQUIRE(wamp2::readAnswer(
              R"([8,16,5,{},"wamp.error.not_authorized",["Not allowed to publish to \"x\""]])",
              kPublish, 5, reply, error) == wamp2::Reading::Answered);
  CHECK(reply.isError);
  CHECK(reply.errorUri == "wamp.error.not_authorized");
  CHECK(reply.reason == "wamp.error.not_authorized");
  CHECK(reply.errorDesc == "Not allowed to publish to \"x\"");
  CHECK_FALSE(reply.errorDetails);

  REQUIRE(wamp2::readAnswer(R"([8,48,6,{},"app.error",[1,"two"],{"k":true}])", kCall, 6, reply,
                            error) == wamp2::Reading::Answered);
  CHECK(reply.errorDesc == R"([1,"two"])");
  REQUIRE(reply.errorDetails);
  CHECK(*reply.errorDetails == Value(Object{{"k", true}}));

  REQUIRE(wamp2::readAnswer(R"([8,48,7,{},"app.error"])", kCall, 7, reply, error) ==
          wamp2::Reading::Answered);
  CHECK(reply.errorUri == "app.error");
  CHECK(reply.errorDesc.empty());
}

TEST_CASE("readAnswer gives a RESULT's single argument, else its list, else args and kwargs") {
  wamp2::CallReply reply;
  std::string error;
  REQUIRE(wamp2::readAnswer("[50,2,{},[5]]", kCall, 2, reply, error) == wamp2::Reading::Answered);
  CHECK(reply.result == Value(5));
  REQUIRE(wamp2::readAnswer(R"([50,2,{},[[1],"x"]])", kCall, 2, reply, error) ==
          wamp2::Reading::Answered);
  CHECK(reply.result == Value(Array{Array{1}, "x"}));
  REQUIRE(wamp2::readAnswer("[50,2,{}]", kCall, 2, reply, error) == wamp2::Reading::Answered);
  CHECK(reply.result == Value(Array{}));
  REQUIRE(wamp2::readAnswer(R"([50,2,{},[1],{"a":2}])", kCall, 2, reply, error) ==
          wamp2::Reading::Answered);
  CHECK(reply.result == Value(Object{{"args", Array{1}}, {"kwargs", Object{{"a", 2}}}}));
}

TEST_CASE("readAnswer skips events, progressive results and other requests' answers") {
  wamp2::CallReply reply;
  std::string error;
  CHECK(wamp2::readAnswer(R"([36,1,2,{},["e"]])", kCall, 2, reply, error) ==
        wamp2::Reading::Unrelated);
  CHECK(wamp2::readAnswer(R"([50,2,{"progress":true},[1]])", kCall, 2, reply, error) ==
        wamp2::Reading::Unrelated);
  CHECK(wamp2::readAnswer("[50,3,{},[1]]", kCall, 2, reply, error) == wamp2::Reading::Unrelated);
}

TEST_CASE("readAnswer ends on ABORT, GOODBYE and malformed bytes") {
  wamp2::CallReply reply;
  std::string error;
  CHECK(wamp2::readAnswer(R"([3,{"message":"bad"},"wamp.error.protocol_violation"])", kCall, 1,
                          reply, error) == wamp2::Reading::Ended);
  CHECK(error == "the server aborted the session: wamp.error.protocol_violation: bad");
  CHECK(wamp2::readAnswer(R"([6,{},"wamp.close.system_shutdown"])", kCall, 1, reply, error) ==
        wamp2::Reading::Ended);
  CHECK(error == "the server ended the session: wamp.close.system_shutdown");
  CHECK(wamp2::readAnswer("{", kCall, 1, reply, error) == wamp2::Reading::Ended);
  CHECK(error.find("malformed") != std::string::npos);
}

TEST_CASE("endsSession recognises GOODBYE and ABORT only") {
  CHECK(wamp2::endsSession(R"([6,{},"wamp.close.goodbye_and_out"])"));
  CHECK(wamp2::endsSession(R"([3,{},"wamp.error.protocol_violation"])"));
  CHECK_FALSE(wamp2::endsSession(R"([36,1,2,{}])"));
  CHECK_FALSE(wamp2::endsSession("not json"));
}

TEST_CASE("a message type out of int's range answers nothing and ends nothing") {
  wamp2::CallReply reply;
  std::string error;
  // 2^32 + 17 (PUBLISHED), 2^32 + 50 (RESULT), 2^32 + 3 (ABORT), 2^32 + 6 (GOODBYE).
  CHECK(wamp2::readAnswer("[4294967313,5,123]", kPublish, 5, reply, error) ==
        wamp2::Reading::Unrelated);
  CHECK(wamp2::readAnswer("[4294967346,2,{},[5]]", kCall, 2, reply, error) ==
        wamp2::Reading::Unrelated);
  CHECK(wamp2::readAnswer(R"([4294967299,{},"wamp.error.protocol_violation"])", kCall, 2, reply,
                          error) == wamp2::Reading::Unrelated);
  CHECK_FALSE(wamp2::endsSession(R"([4294967302,{},"wamp.close.goodbye_and_out"])"));
  wamp2::Welcome welcome;
  CHECK_FALSE(wamp2::decodeWelcome(R"([4294967298,1,{}])", welcome, error));
  CHECK(error.find("WAMP v2 WELCOME") != std::string::npos);
}
