#include "reload/reloader.h"

#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <utility>

#include "../auth/temp_dir.h"
#include "reload/generation.h"
#include "router/broker.h"
#include "router/dealer.h"

using namespace wampd::core;

// The swap runs these on the I/O thread between two generations: none may throw.
static_assert(noexcept(std::declval<Broker&>().setGeneration(nullptr)));
static_assert(noexcept(std::declval<Dealer&>().setGeneration(nullptr)));

namespace {

const char* const kUsers = "users:\n  - { username: john, id: 5, password: 'h' }\n";
const char* const kBrokenUsers = "users:\n- { username: john, id: 5\n";

ServerConfig configWithUsers(const std::string& usersFile) {
  ServerConfig config;
  config.file = "wampd.yml";
  config.auth.usersFile = usersFile;
  return config;
}

// A config file naming `usersFile`, written in `dir`.
ConfigSource sourceWithUsers(const wampd::test::TempDir& dir, const std::string& usersFile) {
  return {dir.write("wampd.yml", "auth:\n  users_file: '" + usersFile + "'\n"), {}, {}, -1};
}

struct Outcome {
  int answers = 0;
  bool ok = false;
  std::string message;
};

// The loop has no work while the worker builds: it is run until the answer has come.
void runUntilAnswered(asio::io_context& io, const Outcome& outcome, int answers) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (outcome.answers < answers && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  REQUIRE(outcome.answers == answers);
}

}  // namespace

TEST_CASE("a generation reads the users file: a broken one fails the build, naming it") {
  wampd::test::TempDir dir;
  const std::string users = dir.write("users.yml", kBrokenUsers);
  try {
    buildGeneration(configWithUsers(users), 1);
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.where().file == users);
    CHECK(e.where().line == 3);
    CHECK(std::string(e.what()).rfind(users + ":3:", 0) == 0);
  }
  dir.write("users.yml", kUsers);
  std::filesystem::remove(users);
  CHECK_THROWS_AS(buildGeneration(configWithUsers(users), 1), ConfigError);
}

TEST_CASE("a generation's users and backend token") {
  wampd::test::TempDir dir;
  const std::string users = dir.write("users.yml", kUsers);
  const auto first = buildGeneration(configWithUsers(users), 1);
  REQUIRE(first->authenticator);
  CHECK(!first->authenticator->backendToken().empty());
  // wampctl's cookie holds the running token: the next generation keeps it.
  const auto second = buildGeneration(configWithUsers(users), 2, first.get());
  CHECK(second->authenticator->backendToken() == first->authenticator->backendToken());
  CHECK(second->authenticator.get() != first->authenticator.get());
}

TEST_CASE("a broken users file fails the reload and the swap is never asked") {
  wampd::test::TempDir dir;
  const std::string users = dir.write("users.yml", kBrokenUsers);
  asio::io_context io;
  int swaps = 0;
  Reloader reloader(io, sourceWithUsers(dir, users),
                    [&](std::shared_ptr<const Generation> next, const std::string&) {
                      ++swaps;
                      return "generation " + std::to_string(next->number);
                    });
  reloader.setCurrent(buildGeneration(configWithUsers(dir.write("good.yml", kUsers)), 1));
  Outcome outcome;
  const auto done = [&](bool ok, const std::string& message) {
    ++outcome.answers;
    outcome.ok = ok;
    outcome.message = message;
  };
  reloader.request("test", done);
  runUntilAnswered(io, outcome, 1);
  CHECK(swaps == 0);
  CHECK(!outcome.ok);
  CHECK_MESSAGE(
      outcome.message.find("generation 1 keeps serving: " + users + ":3:") != std::string::npos,
      outcome.message);

  dir.write("users.yml", kUsers);
  reloader.request("fixed", done);
  runUntilAnswered(io, outcome, 2);
  CHECK(swaps == 1);
  CHECK(outcome.ok);
  CHECK(outcome.message == "generation 2");
}

TEST_CASE("a build that finishes after stop() is dropped, not swapped in") {
  wampd::test::TempDir dir;
  const std::string users = dir.write("users.yml", kUsers);
  asio::io_context io;
  int swaps = 0;
  Reloader reloader(io, sourceWithUsers(dir, users),
                    [&](std::shared_ptr<const Generation>, const std::string&) {
                      ++swaps;
                      return std::string("swapped");
                    });
  Outcome outcome;
  reloader.request("test", [&](bool ok, const std::string& message) {
    ++outcome.answers;
    outcome.ok = ok;
    outcome.message = message;
  });
  // The debounce timer's handler starts the worker; shutdown begins while it builds.
  REQUIRE(io.run_one() == 1);
  reloader.stop();
  runUntilAnswered(io, outcome, 1);
  CHECK(swaps == 0);
  CHECK(!outcome.ok);
  CHECK(outcome.message == "the server is shutting down");
}
