#include "wamp/v1_codec.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using namespace wampd;
using namespace wampd::core;

namespace {

wamp1::Message decoded(const char* text) {
  wamp1::Message m;
  wamp1::DecodeError error;
  REQUIRE_MESSAGE(wamp1::decode(text, m, error), error.detail);
  return m;
}

wamp1::DecodeError refused(const char* text) {
  wamp1::Message m;
  wamp1::DecodeError error;
  CHECK_FALSE(wamp1::decode(text, m, error));
  CHECK_FALSE(error.detail.empty());
  return error;
}

}  // namespace

TEST_CASE("every message a client sends decodes") {
  auto prefix = std::get<wamp1::Prefix>(decoded(R"([1,"calc","http://example.com/simple/calc#"])"));
  CHECK(prefix.prefix == "calc");
  CHECK(prefix.uri == "http://example.com/simple/calc#");

  auto call = std::get<wamp1::Call>(decoded(R"([2,"c1","sample/sum",2,3])"));
  CHECK(call.callId == Value("c1"));
  CHECK(call.procUri == "sample/sum");
  CHECK(call.args == Array{Value(2), Value(3)});
  CHECK(std::get<wamp1::Call>(decoded(R"([2,7,"p"])")).args.empty());

  CHECK(std::get<wamp1::Subscribe>(decoded(R"([5,"oro/ping"])")).topic == "oro/ping");
  CHECK(std::get<wamp1::Unsubscribe>(decoded(R"([6,"oro/ping"])")).topic == "oro/ping");

  auto bare = std::get<wamp1::Publish>(decoded(R"([7,"t",{"a":1}])"));
  CHECK(bare.event == Value(Object{{"a", Value(1)}}));
  CHECK(bare.exclude.isNull());
  CHECK(bare.eligible.isNull());
  auto oro = std::get<wamp1::Publish>(decoded(R"([7,"t","x",[],[]])"));
  CHECK(oro.exclude == Value(Array{}));
  CHECK(oro.eligible == Value(Array{}));
  CHECK(std::get<wamp1::Publish>(decoded(R"([7,"t","x",true])")).exclude == Value(true));
}

TEST_CASE("malformed messages are refused as malformed") {
  for (const char* text :
       {"", "{", "{}", "[]", "\"x\"", "[\"5\",\"t\"]", "[5]", "[5,42]", "[5,\"t\",1]", "[6]",
        "[1,\"p\"]", "[1,\"p\",2]", "[2,\"c\"]", "[2,{},\"p\"]", "[7,\"t\"]", "[7,1,2]",
        "[7,\"t\",1,[],{}]", "[7,\"t\",1,[],[],1]"}) {
    CAPTURE(text);
    CHECK(refused(text).fault == Fault::MalformedMessage);
  }
}

TEST_CASE("server-only and unknown types are refused as such") {
  for (const char* text : {"[0,\"s\",1,\"x\"]", "[3,\"c\",1]", "[4,\"c\",\"u\",\"d\"]",
                           "[8,\"t\",1]", "[99]", "[-1]"}) {
    CAPTURE(text);
    CHECK(refused(text).fault == Fault::UnknownMessageType);
  }
}

// The type is an int-sized enum: a wider integer must not wrap onto a known type.
TEST_CASE("message types outside 0..8 are unknown however they are written") {
  for (const char* text :
       {"[4294967303,\"t\",\"x\"]", "[4294967301,\"t\"]", "[-4294967289,\"t\",\"x\"]",
        "[9223372036854775807,\"t\"]", "[-9223372036854775808,\"t\"]",
        "[18446744073709551615,\"t\"]", "[18446744073709551607,\"t\",\"x\"]", "[-1,\"t\"]",
        "[9,\"t\"]", "[2147483648,\"t\"]"}) {
    const std::string shown = text;
    CAPTURE(shown);
    const wamp1::DecodeError error = refused(text);
    CHECK(error.fault == Fault::UnknownMessageType);
    // The detail names the type the client sent, not what it would wrap to.
    const std::string sent(text + 1, std::string_view(text).find(',') - 1);
    CHECK_MESSAGE(error.detail.find(sent) != std::string::npos, error.detail);
  }
}

TEST_CASE("a message type that is not an integer is malformed") {
  for (const char* text : {"[7.5,\"t\",\"x\"]", "[7.0,\"t\",\"x\"]", "[5e0,\"t\"]", "[1e300,\"t\"]",
                           "[true,\"t\"]", "[null,\"t\"]", "[[7],\"t\"]"}) {
    const std::string shown = text;
    CAPTURE(shown);
    CHECK(refused(text).fault == Fault::MalformedMessage);
  }
}

TEST_CASE("CURIEs expand as the WAMP v1 spec says; unknown prefixes leave the URI") {
  const wamp1::PrefixMap prefixes{{"calc", "http://example.com/simple/calc#"}, {"oro", "oro/"}};
  CHECK(wamp1::expandCurie("calc:square", prefixes) == "http://example.com/simple/calc#square");
  CHECK(wamp1::expandCurie("oro:maintenance", prefixes) == "oro/maintenance");
  CHECK(wamp1::expandCurie("other:x", prefixes) == "other:x");
  CHECK(wamp1::expandCurie("oro/ping", prefixes) == "oro/ping");
  CHECK(wamp1::expandCurie("http://example.com/x", prefixes) == "http://example.com/x");
}

TEST_CASE("what the server sends is byte for byte what Ratchet sends") {
  CHECK(wamp1::encodeWelcome("123", "wampd/0.1.0") == R"([0,"123",1,"wampd\/0.1.0"])");
  CHECK(wamp1::encodeEvent("oro/maintenance",
                           Value(Object{{"isOn", Value(true)}, {"userId", Value()}})) ==
        R"([8,"oro\/maintenance",{"isOn":true,"userId":null}])");
  CHECK(wamp1::encodeCallResult(Value("c1"), Value(5)) == R"([3,"c1",5])");
  CHECK(wamp1::encodeCallError(Value("c1"), "sample/fail", "boom", Value()) ==
        R"([4,"c1","sample\/fail","boom"])");
  CHECK(wamp1::encodeCallError(Value("c1"), "t", "boom", Value(Object{{"code", Value(500)}})) ==
        R"([4,"c1","t","boom",{"code":500}])");
}
