#include <doctest/doctest.h>
#include <wampd/arguments.h>

#include <functional>
#include <stdexcept>
#include <string>

using wampd::Arguments;
using wampd::Value;

namespace {

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("empty arguments") {
  Arguments args;
  CHECK(args.size() == 0);
  CHECK(args.values().empty());
  CHECK(errorOf([&] { args.at(0); }) == "missing argument #0");
}

TEST_CASE("string() accepts strings and integers") {
  Arguments args({Value("oro_sync.ping"), Value(50)});
  CHECK(args.size() == 2);
  CHECK(args.string(0) == "oro_sync.ping");
  CHECK(args.string(1) == "50");
}

TEST_CASE("integer() converts whole decimal strings, as manifests deliver numbers") {
  Arguments args({Value("50"), Value("-3"), Value(7), Value("5s"), Value(""), Value(1.5),
                  Value("99999999999999999999")});
  CHECK(args.integer(0) == 50);
  CHECK(args.integer(1) == -3);
  CHECK(args.integer(2) == 7);
  CHECK(errorOf([&] { args.integer(3); }) == "argument #3 must be an integer");
  CHECK(errorOf([&] { args.integer(4); }) == "argument #4 must be an integer");
  CHECK(errorOf([&] { args.integer(5); }) == "argument #5 must be an integer");
  CHECK(errorOf([&] { args.integer(6); }) == "argument #6 must be an integer");
}

TEST_CASE("typed getters name the position of a missing or mistyped argument") {
  Arguments args({Value(wampd::Array{})});
  CHECK(errorOf([&] { args.string(0); }) == "argument #0 must be a string");
  CHECK(errorOf([&] { args.string(2); }) == "missing argument #2");
  CHECK(errorOf([&] { args.integer(1); }) == "missing argument #1");
}

TEST_CASE("at() gives nested values as they are") {
  Arguments args({Value(wampd::Array{Value("a"), Value("b")})});
  REQUIRE(args.at(0).isArray());
  CHECK(args.at(0).array()->size() == 2);
}
