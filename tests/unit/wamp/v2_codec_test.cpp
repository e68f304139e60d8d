#include "wamp/v2_codec.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

using wampd::Array;
using wampd::Object;
using wampd::Value;
namespace wamp2 = wampd::core::wamp2;
using wamp2::Serializer;

namespace {

constexpr Serializer kBoth[] = {Serializer::Json, Serializer::MsgPack};

std::string nameOf(Serializer s) {
  return s == Serializer::Json ? "json" : "msgpack";
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

Array roundTrip(const Array& message, Serializer serializer) {
  Array back;
  std::string error;
  CHECK_MESSAGE(wamp2::decode(wamp2::encode(message, serializer), serializer, back, error), error);
  return back;
}

// Decodes `input` expecting failure; returns the reason.
std::string decodeError(const std::string& input, Serializer serializer) {
  Array message{Value("not reset")};
  std::string error;
  CHECK_FALSE(wamp2::decode(input, serializer, message, error));
  CHECK(message.empty());
  CHECK_FALSE(error.empty());
  return error;
}

// A msgpack value nested `depth` arrays deep: [[[...]]].
std::string msgpackNested(std::size_t depth) {
  std::string out(depth - 1, static_cast<char>(0x91));  // fixarray of one element
  out.push_back(static_cast<char>(0x90));               // the innermost, empty
  return out;
}

std::string validationError(const Array& message) {
  std::string error;
  CHECK_FALSE(wamp2::validateFromClient(message, error));
  CHECK_FALSE(error.empty());
  return error;
}

bool valid(const Array& message) {
  std::string error;
  const bool ok = wamp2::validateFromClient(message, error);
  INFO(error);
  return ok;
}

}  // namespace

TEST_CASE("every Value type survives both serializers") {
  const std::string binaryish("\x00\x01\xff\xfe", 4);
  const Array message{
      Value(16),
      Value(nullptr),
      Value(true),
      Value(false),
      Value(0),
      Value(-1),
      Value(-33),
      Value(127),
      Value(128),
      Value(255),
      Value(256),
      Value(65535),
      Value(65536),
      Value(-129),
      Value(-32769),
      Value(std::numeric_limits<std::int64_t>::max()),
      Value(std::numeric_limits<std::int64_t>::min()),
      Value(std::numeric_limits<std::uint64_t>::max()),
      Value(static_cast<unsigned long long>(INT64_MAX) + 1),
      Value(1.5),
      Value(-0.25),
      Value(1e300),
      Value(""),
      Value("héllo wörld ✓ 😀"),
      Value(std::string(40, 'a')),
      Value(std::string(300, 'b')),
      Value(std::string(70000, 'c')),
      Value("a/b\\c\"d\n"),
      Value(Array{}),
      Value(Object{}),
      Value(Array{Value(1), Value(Array{Value("x"), Value(Object{{"k", Value(Array{})}})})}),
      Value(Object{{"z", Value(1)}, {"a", Value(Object{{"nested", Value(true)}})}, {"", Value()}}),
  };
  for (Serializer s : kBoth) {
    INFO(nameOf(s));
    const Array back = roundTrip(message, s);
    REQUIRE(back.size() == message.size());
    for (std::size_t i = 0; i < message.size(); ++i) {
      INFO("element " << i);
      CHECK(back[i] == message[i]);
    }
  }
  // Bytes (strings that are not UTF-8) survive both, anywhere in a message.
  const Array withBytes{Value(binaryish), Value(Array{Value(binaryish)}),
                        Value(Object{{"b", Value(binaryish)}, {"t", Value("text")}})};
  for (Serializer s : kBoth) {
    INFO(nameOf(s));
    CHECK(roundTrip(withBytes, s) == withBytes);
  }
}

TEST_CASE("bytes go out as msgpack bin and as the spec's \\0-base64 JSON string") {
  CHECK(wamp2::encode(Array{Value(std::string("\x00\xff", 2))}, Serializer::MsgPack) ==
        bytes({0x91, 0xc4, 0x02, 0x00, 0xff}));
  CHECK(wamp2::encode(Array{Value("\xc3\xa9")}, Serializer::MsgPack) ==
        bytes({0x91, 0xa2, 0xc3, 0xa9}));
  struct Case {
    std::string bytes;
    std::string json;
  };
  const std::vector<Case> cases{
      {std::string("\x00\xff", 2), "[\"\\u0000AP8=\"]"},
      {"\xff", "[\"\\u0000\\/w==\"]"},  // base64's '/' escaped the PHP way
      {"\xfb\xef\xbe", "[\"\\u0000++++\"]"},
      {"\xc0\x80", "[\"\\u0000wIA=\"]"},              // overlong NUL
      {"\xed\xa0\x80", "[\"\\u00007aCA\"]"},          // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", "[\"\\u00009JCAgA==\"]"},  // beyond U+10FFFF
      {"a\xe2\x82", "[\"\\u0000YeKC\"]"},             // truncated sequence
  };
  for (const Case& c : cases) {
    INFO(c.json);
    CHECK(wamp2::encode(Array{Value(c.bytes)}, Serializer::Json) == c.json);
    Array back;
    std::string error;
    REQUIRE(wamp2::decode(c.json, Serializer::Json, back, error));
    CHECK(back == Array{Value(c.bytes)});
  }
  // Valid UTF-8 of every length stays a string.
  CHECK(wamp2::encode(Array{Value("\x7f\xc2\x80\xe0\xa0\x80\xf0\x9f\x98\x80")},
                      Serializer::MsgPack)[1] == static_cast<char>(0xaa));
}

TEST_CASE("non-finite doubles go to JSON peers as null and to msgpack peers as they are") {
  const Array message{Value(1), Value(std::nan("")), Value(Object{{"i", Value(-HUGE_VAL)}}),
                      Value(Array{Value(HUGE_VAL), Value(2.5)})};
  CHECK(wamp2::encode(message, Serializer::Json) == R"([1,null,{"i":null},[null,2.5]])");
  const Array back = roundTrip(message, Serializer::MsgPack);
  REQUIRE(back.size() == 4);
  CHECK(std::isnan(back[1].asDouble()));
  CHECK(back[2] == message[2]);
  CHECK(back[3] == message[3]);
}

TEST_CASE("a JSON string is bytes only when it is \\0 and padded base64") {
  Array back;
  std::string error;
  REQUIRE(wamp2::decode(R"([1,"\u0000","\u0000not base64!","\u0000QQ","\u0000QQ==",)"
                        R"("\u0000QUJD","\u0000Q=Q=","x\u0000QQ=="])",
                        Serializer::Json, back, error));
  CHECK(back == Array{Value(1), Value(""), Value(std::string("\0not base64!", 12)),
                      Value(std::string("\0QQ", 3)), Value("A"), Value("ABC"),
                      Value(std::string("\0Q=Q=", 5)), Value(std::string("x\0QQ==", 6))});
}

TEST_CASE("integers stay integers and keep their kind") {
  for (Serializer s : kBoth) {
    INFO(nameOf(s));
    const Array back = roundTrip(
        Array{Value(1), Value(static_cast<unsigned long long>(UINT64_MAX)), Value(2.0)}, s);
    REQUIRE(back.size() == 3);
    CHECK(back[0].type() == Value::Type::Int);
    CHECK(back[1].type() == Value::Type::UInt);
    CHECK(back[1].asUInt() == UINT64_MAX);
    CHECK(back[2].type() == Value::Type::Double);
  }
  const Array negativeZero = roundTrip(Array{Value(-0.0)}, Serializer::MsgPack);
  REQUIRE(negativeZero.size() == 1);
  CHECK(std::signbit(negativeZero[0].asDouble()));
}

TEST_CASE("msgpack bytes of a known message match the spec's smallest forms") {
  // [16, 1, {}, "com.x", [1, -1, 300, "é"], {"k": nil, "t": true}] with a double and a
  // large unsigned added as ArgumentsKw members.
  const Array message{
      Value(16),
      Value(1),
      Value(Object{}),
      Value("com.x"),
      Value(Array{Value(1), Value(-1), Value(300), Value(-200), Value("é")}),
      Value(Object{{"k", Value()}, {"t", Value(true)}, {"d", Value(0.5)}}),
  };
  const std::string expected = bytes({
      0x96,                                              // array of 6
      0x10,                                              // 16
      0x01,                                              // 1
      0x80,                                              // {}
      0xa5, 'c',  'o',  'm',  '.',  'x',                 // fixstr 5
      0x95,                                              // array of 5
      0x01, 0xff,                                        // 1, -1 (fixints)
      0xcd, 0x01, 0x2c,                                  // uint16 300
      0xd1, 0xff, 0x38,                                  // int16 -200
      0xa2, 0xc3, 0xa9,                                  // "é" in UTF-8
      0x83,                                              // map of 3
      0xa1, 'k',  0xc0,                                  // "k": nil
      0xa1, 't',  0xc3,                                  // "t": true
      0xa1, 'd',  0xcb, 0x3f, 0xe0, 0,   0, 0, 0, 0, 0,  // "d": float64 0.5
  });
  CHECK(wamp2::encode(message, Serializer::MsgPack) == expected);
}

TEST_CASE("msgpack encodes every length with the smallest header") {
  struct Case {
    std::size_t length;
    std::string header;
  };
  const std::vector<Case> strings{
      {31, bytes({0xbf})},
      {32, bytes({0xd9, 32})},
      {255, bytes({0xd9, 0xff})},
      {256, bytes({0xda, 0x01, 0x00})},
      {65536, bytes({0xdb, 0x00, 0x01, 0x00, 0x00})},
  };
  for (const Case& c : strings) {
    INFO("string of " << c.length);
    const std::string out =
        wamp2::encode(Array{Value(std::string(c.length, 'x'))}, Serializer::MsgPack);
    CHECK(out.substr(1, c.header.size()) == c.header);
    CHECK(out.size() == 1 + c.header.size() + c.length);
  }
  const std::vector<Case> arrays{
      {15, bytes({0x9f})},
      {16, bytes({0xdc, 0x00, 0x10})},
      {65536, bytes({0xdd, 0x00, 0x01, 0x00, 0x00})},
  };
  for (const Case& c : arrays) {
    INFO("array of " << c.length);
    CHECK(wamp2::encode(Array(c.length), Serializer::MsgPack).substr(0, c.header.size()) ==
          c.header);
  }
  Object big;
  for (int i = 0; i < 16; ++i) big.set(std::to_string(i), Value(i));
  CHECK(wamp2::encode(Array{Value(big)}, Serializer::MsgPack).substr(1, 3) ==
        bytes({0xde, 0x00, 0x10}));
  CHECK(wamp2::encode(Array{Value(INT64_MIN)}, Serializer::MsgPack) ==
        bytes({0x91, 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}));
  CHECK(wamp2::encode(Array{Value(UINT64_MAX)}, Serializer::MsgPack) ==
        bytes({0x91, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  // Doubles stay float64 even when integral, and -0.0 keeps its sign.
  CHECK(wamp2::encode(Array{Value(2.0)}, Serializer::MsgPack) ==
        bytes({0x91, 0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0}));
  CHECK(wamp2::encode(Array{Value(-0.0)}, Serializer::MsgPack) ==
        bytes({0x91, 0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0}));
  CHECK(wamp2::encode(Array{Value(70000)}, Serializer::MsgPack) ==
        bytes({0x91, 0xce, 0x00, 0x01, 0x11, 0x70}));
}

TEST_CASE("msgpack decoding maps wire types onto Values") {
  Array message;
  std::string error;
  // [float32 1.5, bin8 "ab", str8 "cd", int8 -5, uint8 200, int64 7, uint64 9]
  const std::string input =
      bytes({0x97, 0xca, 0x3f, 0xc0, 0x00, 0x00, 0xc4, 0x02, 'a', 'b', 0xd9, 0x02,
             'c',  'd',  0xd0, 0xfb, 0xcc, 0xc8, 0xd3, 0,    0,   0,   0,    0,
             0,    0,    7,    0xcf, 0,    0,    0,    0,    0,   0,   0,    9});
  REQUIRE_MESSAGE(wamp2::decode(input, Serializer::MsgPack, message, error), error);
  CHECK(message ==
        Array{Value(1.5), Value("ab"), Value("cd"), Value(-5), Value(200), Value(7), Value(9)});
  CHECK(message[0].type() == Value::Type::Double);
  CHECK(message[6].type() == Value::Type::Int);
}

TEST_CASE("JSON output is compact and escaped the PHP way") {
  CHECK(wamp2::encode(Array{Value(36), Value(5), Value(Object{}), Value(Array{Value("a/é")})},
                      Serializer::Json) == "[36,5,{},[\"a\\/\\u00e9\"]]");
  std::string out = "prefix";
  wamp2::encodeTo(Array{}, Serializer::Json, out);
  CHECK(out == "prefix[]");
  out = "p";
  wamp2::encodeTo(Array{Value(1)}, Serializer::MsgPack, out);
  CHECK(out == bytes({'p', 0x91, 0x01}));
}

TEST_CASE("decode accepts an array at the top level only") {
  CHECK(decodeError("{\"a\":1}", Serializer::Json).find("array") != std::string::npos);
  CHECK(decodeError("17", Serializer::Json).find("array") != std::string::npos);
  CHECK(decodeError(bytes({0x81, 0xa1, 'a', 0x01}), Serializer::MsgPack).find("array") !=
        std::string::npos);
  CHECK(decodeError(bytes({0x05}), Serializer::MsgPack).find("array") != std::string::npos);
  CHECK(decodeError("[1,", Serializer::Json).find("JSON") != std::string::npos);
  CHECK(decodeError("", Serializer::Json).find("JSON") != std::string::npos);
}

TEST_CASE("hostile msgpack is refused without a crash") {
  SUBCASE("empty and truncated input") {
    CHECK(decodeError("", Serializer::MsgPack).find("truncated") != std::string::npos);
    const std::string whole =
        wamp2::encode(Array{Value(16), Value(1), Value(Object{{"k", Value("v")}}),
                            Value("com.topic"), Value(Array{Value(1.5), Value(INT64_MIN)})},
                      Serializer::MsgPack);
    for (std::size_t n = 0; n < whole.size(); ++n) {
      INFO("first " << n << " bytes");
      decodeError(whole.substr(0, n), Serializer::MsgPack);
    }
  }
  SUBCASE("trailing bytes") {
    CHECK(decodeError(bytes({0x91, 0x01, 0x02}), Serializer::MsgPack).find("after") !=
          std::string::npos);
    CHECK(decodeError(bytes({0x90, 0x90}), Serializer::MsgPack).find("after") != std::string::npos);
  }
  SUBCASE("nesting") {
    Array message;
    std::string error;
    CHECK_MESSAGE(wamp2::decode(msgpackNested(64), Serializer::MsgPack, message, error), error);
    CHECK(decodeError(msgpackNested(65), Serializer::MsgPack).find("nesting") != std::string::npos);
    CHECK(decodeError(msgpackNested(100000), Serializer::MsgPack).find("nesting") !=
          std::string::npos);
    // Maps too: {"a": {"a": ...}} inside the top-level array.
    std::string maps(1, static_cast<char>(0x91));
    for (int i = 0; i < 100000; ++i) maps += bytes({0x81, 0xa1, 'a'});
    maps.push_back(static_cast<char>(0xc0));
    CHECK(decodeError(maps, Serializer::MsgPack).find("nesting") != std::string::npos);
    // An unterminated chain of headers alone.
    CHECK_FALSE(
        decodeError(std::string(100000, static_cast<char>(0x91)), Serializer::MsgPack).empty());
  }
  SUBCASE("JSON nesting") {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    CHECK(decodeError(deep, Serializer::Json).find("nesting") != std::string::npos);
  }
  SUBCASE("huge declared lengths with short data") {
    for (const std::string& input : {
             bytes({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}),        // array32 of 4G
             bytes({0x91, 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1}),  // map32 of 4G
             bytes({0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}),   // str32 of 4G
             bytes({0x91, 0xc6, 0xff, 0xff, 0xff, 0xff, 'a'}),   // bin32 of 4G
             bytes({0x91, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}),  // ext32 of 4G
             bytes({0x91, 0xda, 0xff, 0xff}),                    // str16 of 64K
         }) {
      INFO("input of " << input.size() << " bytes");
      decodeError(input, Serializer::MsgPack);
    }
    // Nested containers each declaring 4G items over a large body of real ones.
    std::string chain;
    for (int i = 0; i < 64; ++i) chain += bytes({0xdd, 0xff, 0xff, 0xff, 0xff});
    chain += std::string(1 << 20, static_cast<char>(0xc0));
    CHECK(decodeError(chain, Serializer::MsgPack).find("truncated") != std::string::npos);
  }
  SUBCASE("map keys must be strings") {
    for (const std::string& input : {
             bytes({0x91, 0x81, 0x01, 0x02}),                          // int key
             bytes({0x91, 0x81, 0xc0, 0x02}),                          // nil key
             bytes({0x91, 0x81, 0x90, 0x02}),                          // array key
             bytes({0x91, 0x81, 0x80, 0x02}),                          // map key
             bytes({0x91, 0x81, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0x02}),  // double key
             bytes({0x91, 0x82, 0xa1, 'a', 0x01, 0xc3, 0x02}),         // second key bool
         }) {
      CHECK(decodeError(input, Serializer::MsgPack).find("key") != std::string::npos);
    }
    Array message;
    std::string error;
    CHECK(wamp2::decode(bytes({0x91, 0x81, 0xc4, 0x01, 'b', 0x02}), Serializer::MsgPack, message,
                        error));
    CHECK(message == Array{Value(Object{{"b", Value(2)}})});
  }
  SUBCASE("ext types and the reserved byte") {
    CHECK(decodeError(bytes({0x91, 0xd4, 0x01, 0x00}), Serializer::MsgPack).find("ext") !=
          std::string::npos);
    CHECK(decodeError(bytes({0x91, 0xc1}), Serializer::MsgPack).find("invalid") !=
          std::string::npos);
  }
}

TEST_CASE("typeOf and typeName") {
  CHECK(wamp2::typeOf(Array{Value(48), Value(1)}) == 48);
  CHECK(wamp2::typeOf(Array{}) == 0);
  CHECK(wamp2::typeOf(Array{Value("48")}) == 0);
  CHECK(wamp2::typeOf(Array{Value(48.0)}) == 0);
  CHECK(wamp2::typeOf(Array{Value(INT64_MAX)}) == 0);
  CHECK(wamp2::typeOf(Array{Value(UINT64_MAX)}) == 0);
  // 2^32 + 48: an int-sized cast would make it CALL.
  CHECK(wamp2::typeOf(Array{Value(4294967344LL)}) == 0);
  const std::vector<std::pair<wamp2::Type, std::string>> names{
      {wamp2::Type::Hello, "HELLO"},
      {wamp2::Type::Welcome, "WELCOME"},
      {wamp2::Type::Abort, "ABORT"},
      {wamp2::Type::Challenge, "CHALLENGE"},
      {wamp2::Type::Authenticate, "AUTHENTICATE"},
      {wamp2::Type::Goodbye, "GOODBYE"},
      {wamp2::Type::Error, "ERROR"},
      {wamp2::Type::Publish, "PUBLISH"},
      {wamp2::Type::Published, "PUBLISHED"},
      {wamp2::Type::Subscribe, "SUBSCRIBE"},
      {wamp2::Type::Subscribed, "SUBSCRIBED"},
      {wamp2::Type::Unsubscribe, "UNSUBSCRIBE"},
      {wamp2::Type::Unsubscribed, "UNSUBSCRIBED"},
      {wamp2::Type::Event, "EVENT"},
      {wamp2::Type::Call, "CALL"},
      {wamp2::Type::Cancel, "CANCEL"},
      {wamp2::Type::Result, "RESULT"},
      {wamp2::Type::Register, "REGISTER"},
      {wamp2::Type::Registered, "REGISTERED"},
      {wamp2::Type::Unregister, "UNREGISTER"},
      {wamp2::Type::Unregistered, "UNREGISTERED"},
      {wamp2::Type::Invocation, "INVOCATION"},
      {wamp2::Type::Interrupt, "INTERRUPT"},
      {wamp2::Type::Yield, "YIELD"},
  };
  for (const auto& [type, name] : names) CHECK(wamp2::typeName(static_cast<int>(type)) == name);
  CHECK(std::string(wamp2::typeName(7)) == "UNKNOWN");
  CHECK(std::string(wamp2::typeName(0)) == "UNKNOWN");
}

namespace {

enum class Kind { Id, Integer, String, Uri, Dict, List };

struct Row {
  wamp2::Type type;
  std::vector<Kind> fields;  // every position after the type code, optional ones included
  std::size_t required;      // how many of `fields` are mandatory
};

const std::vector<Row>& clientRows() {
  using K = Kind;
  static const std::vector<Row> rows{
      {wamp2::Type::Hello, {K::Uri, K::Dict}, 2},
      {wamp2::Type::Authenticate, {K::String, K::Dict}, 2},
      {wamp2::Type::Abort, {K::Dict, K::Uri}, 2},
      {wamp2::Type::Goodbye, {K::Dict, K::Uri}, 2},
      {wamp2::Type::Error, {K::Integer, K::Id, K::Dict, K::Uri, K::List, K::Dict}, 4},
      {wamp2::Type::Publish, {K::Id, K::Dict, K::Uri, K::List, K::Dict}, 3},
      {wamp2::Type::Subscribe, {K::Id, K::Dict, K::Uri}, 3},
      {wamp2::Type::Unsubscribe, {K::Id, K::Id}, 2},
      {wamp2::Type::Call, {K::Id, K::Dict, K::Uri, K::List, K::Dict}, 3},
      {wamp2::Type::Cancel, {K::Id, K::Dict}, 2},
      {wamp2::Type::Register, {K::Id, K::Dict, K::Uri}, 3},
      {wamp2::Type::Unregister, {K::Id, K::Id}, 2},
      {wamp2::Type::Yield, {K::Id, K::Dict, K::List, K::Dict}, 2},
  };
  return rows;
}

Value sample(Kind kind) {
  switch (kind) {
    case Kind::Id:
      return Value(static_cast<unsigned long long>(wamp2::kMaxId));
    case Kind::Integer:
      return Value(68);
    case Kind::String:
      return Value("");
    case Kind::Uri:
      return Value("com.example.thing");
    case Kind::Dict:
      return Value(Object{{"k", Value(1)}});
    case Kind::List:
      return Value(Array{Value(1), Value("two")});
  }
  return Value();
}

// Values of every other kind, each of which must be refused in a position of `kind`.
std::vector<Value> wrongFor(Kind kind) {
  std::vector<Value> all{Value(),        Value(true),     Value(1.5),        Value("s"),
                         Value(Array{}), Value(Object{}), Value(UINT64_MAX), Value(7)};
  std::vector<Value> wrong;
  for (const Value& v : all) {
    const bool fits = (kind == Kind::Id && v.type() == Value::Type::Int) ||
                      (kind == Kind::Integer && v.isInteger()) ||
                      ((kind == Kind::String || kind == Kind::Uri) && v.isString()) ||
                      (kind == Kind::Dict && v.isObject()) || (kind == Kind::List && v.isArray());
    if (!fits) wrong.push_back(v);
  }
  if (kind == Kind::Id) {
    wrong.push_back(Value(-1));
    wrong.push_back(Value(static_cast<unsigned long long>(wamp2::kMaxId) + 1));
  }
  return wrong;
}

Array messageOf(const Row& row, std::size_t fieldCount) {
  Array m{Value(static_cast<int>(row.type))};
  for (std::size_t i = 0; i < fieldCount; ++i) m.push_back(sample(row.fields[i]));
  return m;
}

}  // namespace

TEST_CASE("every client message: minimal and maximal forms pass") {
  for (const Row& row : clientRows()) {
    INFO(wamp2::typeName(static_cast<int>(row.type)));
    for (std::size_t n = row.required; n <= row.fields.size(); ++n) {
      INFO(n << " fields");
      CHECK(valid(messageOf(row, n)));
    }
  }
  // Ids at both ends of their range.
  CHECK(valid(Array{Value(34), Value(0), Value(static_cast<unsigned long long>(wamp2::kMaxId))}));
  // A wildcard subscription's topic has empty components; its syntax is not judged here.
  CHECK(valid(
      Array{Value(32), Value(1), Value(Object{{"match", Value("wildcard")}}), Value("a..c")}));
}

TEST_CASE("every client message: wrong counts fail naming the type") {
  for (const Row& row : clientRows()) {
    const std::string name = wamp2::typeName(static_cast<int>(row.type));
    INFO(name);
    if (row.required > 0) {
      const std::string error = validationError(messageOf(row, row.required - 1));
      CHECK(error.find(name) != std::string::npos);
      CHECK(error.find("elements") != std::string::npos);
    }
    Array tooLong = messageOf(row, row.fields.size());
    tooLong.push_back(Value(Object{}));
    const std::string error = validationError(tooLong);
    CHECK(error.find(name) != std::string::npos);
    CHECK(error.find("elements") != std::string::npos);
  }
}

TEST_CASE("every client message: each wrong field type fails naming the type") {
  for (const Row& row : clientRows()) {
    const std::string name = wamp2::typeName(static_cast<int>(row.type));
    for (std::size_t position = 0; position < row.fields.size(); ++position) {
      for (const Value& wrong : wrongFor(row.fields[position])) {
        Array m = messageOf(row, row.fields.size());
        m[position + 1] = wrong;
        INFO(name << " position " << position + 1 << " holding " << static_cast<int>(wrong.type()));
        const std::string error = validationError(m);
        CHECK(error.find(name) != std::string::npos);
        CHECK(error.find("must be") != std::string::npos);
      }
    }
  }
}

TEST_CASE("error messages name the field") {
  CHECK(validationError(Array{Value(1), Value(5), Value(Object{})}).find("Realm") !=
        std::string::npos);
  CHECK(validationError(Array{Value(48), Value(1), Value(Object{}), Value("p"), Value(Object{})})
            .find("Arguments") != std::string::npos);
  CHECK(validationError(Array{Value(66), Value(1), Value(-3)}).find("Registration") !=
        std::string::npos);
}

TEST_CASE("server-only, unknown and malformed types fail") {
  for (wamp2::Type type : {wamp2::Type::Welcome, wamp2::Type::Challenge, wamp2::Type::Published,
                           wamp2::Type::Subscribed, wamp2::Type::Unsubscribed, wamp2::Type::Event,
                           wamp2::Type::Result, wamp2::Type::Registered, wamp2::Type::Unregistered,
                           wamp2::Type::Invocation, wamp2::Type::Interrupt}) {
    const std::string name = wamp2::typeName(static_cast<int>(type));
    INFO(name);
    // Shaped plausibly, so only the direction is wrong.
    const std::string error =
        validationError(Array{Value(static_cast<int>(type)), Value(1), Value(Object{})});
    CHECK(error.find(name) != std::string::npos);
    CHECK(error.find("routers") != std::string::npos);
  }
  CHECK(validationError(Array{Value(7), Value(Object{})}).find("unknown message type 7") !=
        std::string::npos);
  CHECK(validationError(Array{Value(-1)}).find("unknown") != std::string::npos);
  CHECK(validationError(Array{Value(UINT64_MAX)}).find("unknown") != std::string::npos);
  CHECK(validationError(Array{Value(INT64_MAX)}).find("unknown") != std::string::npos);
  CHECK(validationError(Array{Value(4294967312LL), Value(1), Value(Object{}), Value("t")})
            .find("unknown message type 4294967312") != std::string::npos);
  CHECK(validationError(Array{}).find("empty") != std::string::npos);
  CHECK(validationError(Array{Value("HELLO"), Value("realm"), Value(Object{})}).find("integer") !=
        std::string::npos);
  CHECK(validationError(Array{Value(1.0), Value("realm"), Value(Object{})}).find("integer") !=
        std::string::npos);
}

TEST_CASE("a decoded client message validates through both serializers") {
  for (Serializer s : kBoth) {
    INFO(nameOf(s));
    const Array hello{Value(1), Value("realm1"),
                      Value(Object{{"roles", Value(Object{{"subscriber", Value(Object{})}})}})};
    Array back;
    std::string error;
    REQUIRE(wamp2::decode(wamp2::encode(hello, s), s, back, error));
    CHECK(wamp2::validateFromClient(back, error));
    CHECK(wamp2::typeOf(back) == 1);
  }
}
