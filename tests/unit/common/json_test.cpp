#include "common/json.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

using wampd::Array;
using wampd::Object;
using wampd::Value;
namespace json = wampd::core::json;

namespace {

Value parsed(const std::string& text) {
  Value v;
  std::string error;
  INFO("input: " << text);
  CHECK_MESSAGE(json::parse(text, v, &error), error);
  return v;
}

// Parses `text` expecting failure; returns the message.
std::string parseError(const std::string& text) {
  Value v = "not reset";
  std::string error;
  INFO("input: " << text);
  CHECK_FALSE(json::parse(text, v, &error));
  CHECK(v.isNull());
  CHECK_FALSE(error.empty());
  return error;
}

std::string nested(int depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

}  // namespace

TEST_CASE("every type round-trips, as PHP's json_encode writes it") {
  const char* texts[] = {
      "null",
      "true",
      "false",
      "0",
      "-1",
      "42",
      "9223372036854775807",
      "-9223372036854775808",
      "18446744073709551615",
      "1.5",
      "-0.25",
      "1.0",
      "\"\"",
      "\"text\"",
      "[]",
      "{}",
      "[1,\"two\",[3],{\"four\":4}]",
      "{\"z\":1,\"a\":{\"nested\":[null,true]},\"m\":\"x\"}",
  };
  for (const char* text : texts) {
    INFO("input: " << text);
    CHECK(json::serialize(parsed(text)) == text);
  }
}

TEST_CASE("values built in code serialize") {
  const Value event = Object{{"isOn", true}, {"userId", nullptr}};
  CHECK(json::serialize(event) == "{\"isOn\":true,\"userId\":null}");
  const Value list = Array{Object{{"username", "admin"}, {"tagname", "Oro_Entity_User"}}};
  CHECK(json::serialize(list) == "[{\"username\":\"admin\",\"tagname\":\"Oro_Entity_User\"}]");
}

TEST_CASE("serializeTo appends") {
  std::string out = "prefix:";
  json::serializeTo(Value(Array{1, "a/b"}), out);
  CHECK(out == "prefix:[1,\"a\\/b\"]");
}

TEST_CASE("integers stay integers") {
  SUBCASE("small and int64 limits are Int") {
    CHECK(parsed("5").type() == Value::Type::Int);
    CHECK(parsed("5").asInt() == 5);
    CHECK(parsed("-9223372036854775808").asInt() == std::numeric_limits<std::int64_t>::min());
    CHECK(parsed("9223372036854775807").asInt() == std::numeric_limits<std::int64_t>::max());
  }
  SUBCASE("above INT64_MAX is UInt, not a double") {
    const Value v = parsed("18446744073709551615");
    CHECK(v.type() == Value::Type::UInt);
    CHECK(v.asUInt() == std::numeric_limits<std::uint64_t>::max());
    CHECK(parsed("9223372036854775808").asUInt() == 9223372036854775808ull);
  }
  SUBCASE("a number with a fraction or exponent is a double") {
    CHECK(parsed("5.0").type() == Value::Type::Double);
    CHECK(parsed("5e0").type() == Value::Type::Double);
  }
  CHECK(json::serialize(Value(7)) == "7");
  CHECK(json::serialize(Value(std::numeric_limits<std::uint64_t>::max())) ==
        "18446744073709551615");
}

TEST_CASE("strings are escaped as PHP's json_encode escapes them") {
  CHECK(json::serialize(Value("oro/email_event/5/1")) == "\"oro\\/email_event\\/5\\/1\"");
  CHECK(json::serialize(Value("quote\" backslash\\")) == "\"quote\\\" backslash\\\\\"");
  CHECK(json::serialize(Value("\b\f\n\r\t")) == "\"\\b\\f\\n\\r\\t\"");
  CHECK(json::serialize(Value(std::string("\x01\x1f", 2))) == "\"\\u0001\\u001f\"");
  CHECK(json::serialize(Value("\x7f")) == "\"\x7f\"");
  SUBCASE("non-ASCII as \\uXXXX with lowercase hex, as PHP") {
    CHECK(json::serialize(Value("caf\xc3\xa9")) == "\"caf\\u00e9\"");           // é
    CHECK(json::serialize(Value("\xe2\x82\xac")) == "\"\\u20ac\"");             // €
    CHECK(json::serialize(Value("\xf0\x9f\x98\x80")) == "\"\\ud83d\\ude00\"");  // U+1F600
  }
  SUBCASE("escapes decode back to the same UTF-8") {
    CHECK(parsed("\"\\u00e9\\/\\ud83d\\ude00\"") == Value("\xc3\xa9/\xf0\x9f\x98\x80"));
  }
  SUBCASE("'/' outside strings is impossible, inside keys it is escaped too") {
    CHECK(json::serialize(Value(Object{{"a/b", "c"}})) == "{\"a\\/b\":\"c\"}");
  }
}

TEST_CASE("malformed input returns false with a message, never throws") {
  const char* texts[] = {
      "",    "   ",   "[",        "[1,",  "{\"a\"}",        "{\"a\":}",
      "nul", "[1] x", "'single'", "[1,]", "\"unterminated", "{1:2}",
  };
  for (const char* text : texts) CHECK_NOTHROW(parseError(text));
  CHECK(parseError("[1] x").find("offset") != std::string::npos);
}

TEST_CASE("invalid UTF-8 is malformed") {
  parseError("\"\xff\"");
  parseError("\"\xc3\"");
}

TEST_CASE("nesting deeper than kMaxDepth is refused without crashing") {
  CHECK(json::serialize(parsed(nested(json::kMaxDepth))) == nested(json::kMaxDepth));
  CHECK(parseError(nested(json::kMaxDepth + 1)).find("nesting") != std::string::npos);
  CHECK(parseError(std::string(1 << 20, '[')).find("nesting") != std::string::npos);
  std::string objects;
  for (int i = 0; i <= json::kMaxDepth; ++i) objects += "{\"k\":";
  objects += "1" + std::string(json::kMaxDepth + 1, '}');
  CHECK(parseError(objects).find("nesting") != std::string::npos);
}

TEST_CASE("a duplicate key keeps the last value, in the first one's place (as PHP)") {
  const Value v = parsed("{\"a\":1,\"b\":2,\"a\":{\"x\":[3]}}");
  REQUIRE(v.object() != nullptr);
  CHECK(v.object()->size() == 2);
  CHECK(*v.find("a") == Value(Object{{"x", Array{3}}}));
  CHECK(json::serialize(v) == "{\"a\":{\"x\":[3]},\"b\":2}");
}

TEST_CASE("parse works without an error string") {
  Value v;
  CHECK_FALSE(json::parse("[", v));
  CHECK(json::parse("[1]", v));
  CHECK(v == Value(Array{1}));
}

TEST_CASE("bytes are written in WAMP's JSON form for binary, and the output parses") {
  // A WAMP v2 msgpack publisher's bin argument, next to a UTF-8 string.
  const Value event(Array{Value(std::string("\xff\xfe\x00"
                                            "abc",
                                            6)),
                          Value("caf\xc3\xa9")});
  const std::string text = json::serialize(event);
  CHECK(text == R"(["\u0000\/\/4AYWJj","caf\u00e9"])");
  Value back;
  REQUIRE(json::parse(text, back));
  CHECK(back == Value(Array{Value(std::string("\0//4AYWJj", 9)), Value("caf\xc3\xa9")}));
  // Keys are text: a value's bytes never leak into them.
  CHECK(json::serialize(Value(Object{{"k", Value(std::string("\x80", 1))}})) ==
        R"({"k":"\u0000gA=="})");
}

// Found by tests/fuzz/wamp1 (regressions/lone_surrogate_escape): RapidJSON checks the bytes
// of a string but writes a \u escape of a lone surrogate as the three bytes of that surrogate,
// which are not UTF-8, so one client's text reached others as WAMP's form for binary.
TEST_CASE("an escaped lone surrogate is malformed, as invalid UTF-8 is") {
  CHECK(parseError("[\"oro/\\ude00\"]").find("surrogate") != std::string::npos);
  parseError("[\"\\udbff\"]");
  parseError("{\"\\udc00\": 1}");
  CHECK(parsed("[\"\\ud83d\\ude00\"]") == Value(Array{Value("\xF0\x9F\x98\x80")}));
}

// Found by tests/fuzz/wamp2_json (regressions/long_negative_integer, zero_with_big_exponent):
// numbers are read with correct rounding, so that what wampd writes back (the shortest form
// that reads back as the same double) is the number it read; "0e308" made RapidJSON's exact
// reader pass 0 to __builtin_clzll.
TEST_CASE("numbers are read exactly, and what is written reads back the same") {
  for (const char* text :
       {"-9223372015776627961167006192", "18446744073709551616", "0.30000000000000004",
        "1.7976931348623157e308", "5e-324", "123456789012345678901234567890e-10"}) {
    INFO(std::string(text));
    const Value v = parsed(text);
    REQUIRE(v.type() == Value::Type::Double);
    CHECK(v.asDouble() == std::strtod(text, nullptr));
    CHECK(parsed(json::serialize(v)) == v);
  }
}

TEST_CASE("a number too big for a double is malformed") {
  CHECK(parseError("[1e400]").find("too big") != std::string::npos);
  parseError("-1e309");
}
