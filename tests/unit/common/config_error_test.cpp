#include "common/config_error.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using wampd::core::ConfigError;
using wampd::core::SourceLocation;

TEST_CASE("SourceLocation::str gives as much of file:line:column as is known") {
  CHECK(SourceLocation{"routing.yml", 3, 5}.str() == "routing.yml:3:5");
  CHECK(SourceLocation{"routing.yml", 3, 0}.str() == "routing.yml:3");
  CHECK(SourceLocation{"routing.yml", 0, 0}.str() == "routing.yml");
  // A column without a line says nothing useful.
  CHECK(SourceLocation{"routing.yml", 0, 7}.str() == "routing.yml");
}

TEST_CASE("ConfigError's message is the location, then what is wrong") {
  const ConfigError e({"/etc/wampd/wampd.yml", 12, 3}, "unknown key 'prot' in 'server'");
  CHECK(std::string(e.what()) == "/etc/wampd/wampd.yml:12:3: unknown key 'prot' in 'server'");
  CHECK(e.detail() == "unknown key 'prot' in 'server'");
  CHECK(e.where().file == "/etc/wampd/wampd.yml");
  CHECK(e.where().line == 12);
  CHECK(e.where().column == 3);
}

TEST_CASE("ConfigError is a std::runtime_error, so generic handlers report it whole") {
  try {
    throw ConfigError({"plugins/ping.so"}, "ABI version 2, expected 1");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "plugins/ping.so: ABI version 2, expected 1");
  }
}

TEST_CASE("ConfigError copies keep location and detail") {
  const ConfigError original({"a.yml", 1, 2}, "bad");
  const ConfigError copy = original;
  CHECK(copy.where().str() == "a.yml:1:2");
  CHECK(copy.detail() == "bad");
  CHECK(std::string(copy.what()) == original.what());
}
