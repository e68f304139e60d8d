#include <doctest/doctest.h>
#include <wampd/value.h>

#include <cstdint>
#include <limits>
#include <string>

using wampd::Array;
using wampd::Object;
using wampd::Value;

TEST_CASE("a default Value is null") {
  Value v;
  CHECK(v.isNull());
  CHECK(v.type() == Value::Type::Null);
  CHECK(Value(nullptr).isNull());
  CHECK_FALSE(v.isNumber());
}

TEST_CASE("constructors pick the JSON type the argument means") {
  CHECK(Value(true).type() == Value::Type::Bool);
  CHECK(Value(5).type() == Value::Type::Int);
  CHECK(Value(5L).type() == Value::Type::Int);
  CHECK(Value(5LL).type() == Value::Type::Int);
  CHECK(Value(5u).type() == Value::Type::Int);
  CHECK(Value(2.5).type() == Value::Type::Double);
  // A string literal must not decay to bool.
  CHECK(Value("text").type() == Value::Type::String);
  CHECK(Value(std::string_view("sv")).asString() == "sv");
  CHECK(Value(std::string("s")).asString() == "s");
  CHECK(Value(Array{1, 2}).isArray());
  CHECK(Value(Object{{"k", 1}}).isObject());
}

TEST_CASE("unsigned values that fit int64 are stored as Int and compare equal to it") {
  CHECK(Value(static_cast<std::uint64_t>(7)).type() == Value::Type::Int);
  CHECK(Value(static_cast<std::uint64_t>(7)) == Value(7));
  std::uint64_t big = std::numeric_limits<std::uint64_t>::max();
  Value v(big);
  CHECK(v.type() == Value::Type::UInt);
  CHECK(v.isInteger());
  CHECK(v.asUInt() == big);
  CHECK(v.asInt(-1) == -1);
}

TEST_CASE("typed access returns the fallback for another type") {
  CHECK(Value(3).asInt() == 3);
  CHECK(Value("3").asInt(9) == 9);
  CHECK(Value(3).asString("none") == "none");
  CHECK(Value(true).asBool() == true);
  CHECK(Value(1).asBool(false) == false);
  CHECK(Value(-4).asUInt(11) == 11);
  CHECK(Value(4).asUInt() == 4);
  CHECK(Value(4).asDouble() == doctest::Approx(4.0));
  CHECK(Value(1.5).asDouble() == doctest::Approx(1.5));
  CHECK(Value(1.5).asInt(7) == 7);
  CHECK(Value("x").asDouble(0.25) == doctest::Approx(0.25));
}

TEST_CASE("number predicates") {
  CHECK(Value(1).isInteger());
  CHECK(Value(1).isNumber());
  CHECK_FALSE(Value(1.0).isInteger());
  CHECK(Value(1.0).isNumber());
  CHECK_FALSE(Value("1").isNumber());
}

TEST_CASE("objects keep insertion order and replace in place") {
  Object o;
  o.set("b", 1).set("a", 2).set("c", 3);
  o.set("a", 20);
  REQUIRE(o.size() == 3);
  std::string keys;
  for (const auto& [key, value] : o) keys += key;
  CHECK(keys == "bac");
  REQUIRE(o.find("a") != nullptr);
  CHECK(*o.find("a") == Value(20));
  CHECK(o.find("missing") == nullptr);
}

TEST_CASE("object equality depends on order, as the wire does") {
  CHECK(Object{{"a", 1}, {"b", 2}} == Object{{"a", 1}, {"b", 2}});
  CHECK(Object{{"a", 1}, {"b", 2}} != Object{{"b", 2}, {"a", 1}});
}

TEST_CASE("Value::find looks into objects only") {
  Value v(Object{{"isOn", true}, {"userId", nullptr}});
  REQUIRE(v.find("isOn") != nullptr);
  CHECK(v.find("isOn")->asBool());
  CHECK(v.find("userId")->isNull());
  CHECK(v.find("nope") == nullptr);
  CHECK(Value(Array{1}).find("isOn") == nullptr);
}

TEST_CASE("container access") {
  Value v(Array{1, "two", Array{3}});
  REQUIRE(v.array() != nullptr);
  CHECK(v.array()->size() == 3);
  CHECK(v.object() == nullptr);
  v.array()->push_back(4);
  CHECK(v.array()->back() == Value(4));
  CHECK(Value(1).array() == nullptr);
}

TEST_CASE("equality distinguishes types") {
  CHECK(Value(1) != Value(1.0));
  CHECK(Value(1) != Value("1"));
  CHECK(Value(Array{1, "a"}) == Value(Array{1, "a"}));
  CHECK(Value(Array{1, "a"}) != Value(Array{"a", 1}));
}
