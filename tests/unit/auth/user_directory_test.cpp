#include "auth/user_directory.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "temp_dir.h"
#include "wampd/plugin.h"

using namespace wampd;
using namespace wampd::core;
using namespace wampd::core::auth;
namespace fs = std::filesystem;

namespace {

const char* const kTwoUsers = R"(users:
  - username: alice
    id: 5
    password: 'alice-hash'
    roles: [ROLE_USER, ROLE_ADMINISTRATOR]
    organizations: [1, 2]
  - { username: bob, id: 6, password: 'bob-hash' }
)";

// The error loading `content` gives, as "file:line:column: what".
std::string loadError(const test::TempDir& dir, const std::string& content) {
  const std::string file = dir.write("users.yml", content);
  try {
    loadUsersFile(file);
  } catch (const ConfigError& e) {
    CHECK(e.where().file == file);
    return e.what();
  }
  FAIL("no ConfigError for:\n" << content);
  return {};
}

void checkError(const test::TempDir& dir, const std::string& content, const std::string& location,
                const std::string& what) {
  INFO(content);
  const std::string error = loadError(dir, content);
  CHECK_MESSAGE(error.rfind(dir.file("users.yml") + location + ": ", 0) == 0, error);
  CHECK_MESSAGE(error.find(what) != std::string::npos, error);
}

// Rewrites `file` so that its change is seen whatever the clock's granularity.
void rewrite(const test::TempDir& dir, const std::string& name, const std::string& content) {
  const fs::path file = dir.file(name);
  std::error_code ec;
  const auto before = fs::last_write_time(file, ec);
  dir.write(name, content);
  if (!ec) fs::last_write_time(file, before + std::chrono::seconds(2));
}

bool knows(UserDirectory& users, const std::string& name, User* out = nullptr) {
  User user;
  const bool found = users.find(name, user);
  if (found && out) *out = user;
  return found;
}

// A plugin-style provider answering from a map; counts its lookups.
class MapProvider : public UserProvider {
 public:
  MapProvider(std::map<std::string, std::int64_t> ids, int* lookups)
      : ids_(std::move(ids)), lookups_(lookups) {}

  bool loadUserByUsername(std::string_view username, User& out) override {
    ++*lookups_;
    auto it = ids_.find(std::string(username));
    if (it == ids_.end()) return false;
    out = User{};
    out.username = it->first;
    out.id = it->second;
    out.password = "provider-hash";
    return true;
  }

 private:
  std::map<std::string, std::int64_t> ids_;
  int* lookups_;
};

class ThrowingProvider : public UserProvider {
 public:
  bool loadUserByUsername(std::string_view, User&) override {
    throw std::runtime_error("directory unreachable");
  }
};

}  // namespace

TEST_CASE("loadUsersFile reads every field") {
  test::TempDir dir;
  const UserMap users = loadUsersFile(dir.write("users.yml", kTwoUsers));
  REQUIRE(users.size() == 2);
  const User& alice = users.at("alice");
  CHECK(alice.username == "alice");
  CHECK(alice.id == 5);
  CHECK(alice.password == "alice-hash");
  CHECK(alice.roles == std::vector<std::string>{"ROLE_USER", "ROLE_ADMINISTRATOR"});
  CHECK(alice.organizations == std::vector<std::int64_t>{1, 2});
  const User& bob = users.at("bob");
  CHECK(bob.id == 6);
  CHECK(bob.roles.empty());
  CHECK(bob.organizations.empty());
}

TEST_CASE("an empty users file, or an empty list, has no users") {
  test::TempDir dir;
  CHECK(loadUsersFile(dir.write("users.yml", "")).empty());
  CHECK(loadUsersFile(dir.write("users.yml", "# nobody yet\n")).empty());
  CHECK(loadUsersFile(dir.write("users.yml", "users: []\n")).empty());
}

TEST_CASE("loadUsersFile errors name file, line and column") {
  test::TempDir dir;
  checkError(dir, "users:\n  - { username: a, id: 1\n", ":3:1", "YAML syntax error");
  checkError(dir, "- alice\n", ":1:1", "a map with a 'users' list");
  checkError(dir, "people: []\n", ":1:1", "a map with a 'users' list");
  checkError(dir, "users: 3\n", ":1:1", "a map with a 'users' list");
  checkError(dir, "users:\n  - alice\n", ":2:5", "each user must be a map");
  checkError(dir, "users:\n  - username: a\n    id: 1\n    pasword: x\n", ":4:5",
             "unknown or malformed key 'pasword'");
  checkError(dir, "users:\n  - username: a\n    id: 1\n    roles: ROLE_USER\n", ":4:5",
             "unknown or malformed key 'roles'");
  checkError(dir, "users:\n  - username: a\n    id: five\n", ":3:9", "id must be an integer");
  checkError(dir, "users:\n  - { username: a, id: 1, organizations: [1, x] }\n", ":2:46",
             "an organization id must be an integer");
  checkError(dir, "users:\n  - { id: 1 }\n", ":2:5", "needs a non-empty username");
  checkError(dir, "users:\n  - { username: a, id: 0 }\n", ":2:5", "user 'a' needs an id > 0");
  checkError(dir, "users:\n  - { username: a }\n", ":2:5", "user 'a' needs an id > 0");
  checkError(dir, "users:\n  - { username: a, id: 1 }\n  - { username: a, id: 2 }\n", ":3:5",
             "user 'a' is listed twice");
  checkError(dir, "users:\n  - { username: a, id: 1, id: 2 }\n", ":2:27",
             "duplicate key 'id' (first at " + dir.file("users.yml") + ":2:20)");
  checkError(dir, "users: []\nuser: []\n", ":2:1", "unknown key 'user' (expected users)");
  checkError(dir, "users:\n  - { username: a, id: 1, roles: [[x]] }\n", ":2:35",
             "a role must be a non-empty string, found a list");
}

TEST_CASE("a users file error never quotes a password") {
  test::TempDir dir;
  const std::string error =
      loadError(dir, "users:\n  - { username: a, id: x, password: 'the-stored-hash' }\n");
  CHECK(error.find("the-stored-hash") == std::string::npos);
}

TEST_CASE("a missing users file is an error naming it") {
  test::TempDir dir;
  const std::string missing = dir.file("nowhere.yml");
  CHECK_THROWS_WITH_AS(loadUsersFile(missing), (missing + ": cannot read the users file").c_str(),
                       ConfigError);
  CHECK_THROWS_AS(UserDirectory{missing}, ConfigError);
}

TEST_CASE("UserDirectory finds the users of its file") {
  test::TempDir dir;
  UserDirectory users(dir.write("users.yml", kTwoUsers));
  User alice;
  REQUIRE(knows(users, "alice", &alice));
  CHECK(alice.id == 5);
  CHECK(alice.password == "alice-hash");
  CHECK(knows(users, "bob"));
  CHECK_FALSE(knows(users, "carol"));
  CHECK_FALSE(knows(users, ""));
  CHECK_FALSE(knows(users, "Alice"));
}

TEST_CASE("UserDirectory without a file knows nobody") {
  UserDirectory users("");
  CHECK_FALSE(knows(users, "alice"));
}

TEST_CASE("UserDirectory re-reads its file when it changes") {
  test::TempDir dir;
  UserDirectory users(dir.write("users.yml", kTwoUsers));
  REQUIRE(knows(users, "alice"));

  rewrite(dir, "users.yml", "users:\n  - { username: carol, id: 7, password: c }\n");
  CHECK(knows(users, "carol"));
  CHECK_FALSE(knows(users, "alice"));
  CHECK_FALSE(knows(users, "bob"));

  rewrite(dir, "users.yml", "users:\n  - { username: carol, id: 8, password: c }\n");
  User carol;
  REQUIRE(knows(users, "carol", &carol));
  CHECK(carol.id == 8);
}

TEST_CASE("a broken users file keeps the previous users until it is fixed") {
  test::TempDir dir;
  UserDirectory users(dir.write("users.yml", kTwoUsers));
  REQUIRE(knows(users, "alice"));

  rewrite(dir, "users.yml", "users:\n  - { username: carol, id: 7\n");
  CHECK(knows(users, "alice"));
  CHECK(knows(users, "bob"));
  CHECK_FALSE(knows(users, "carol"));

  rewrite(dir, "users.yml", "users:\n  - { username: carol, id: 7, password: c }\n");
  CHECK(knows(users, "carol"));
  CHECK_FALSE(knows(users, "alice"));
}

TEST_CASE("a deleted users file keeps the previous users until it comes back") {
  test::TempDir dir;
  const std::string file = dir.write("users.yml", kTwoUsers);
  UserDirectory users(file);
  REQUIRE(knows(users, "alice"));
  fs::remove(file);
  CHECK(knows(users, "alice"));
  dir.write("users.yml", "users:\n  - { username: dave, id: 9, password: d }\n");
  CHECK(knows(users, "dave"));
  CHECK_FALSE(knows(users, "alice"));
}

TEST_CASE("providers are asked in order, before the users file") {
  test::TempDir dir;
  UserDirectory users(dir.write("users.yml", kTwoUsers));
  int firstLookups = 0;
  int secondLookups = 0;
  users.addProvider(std::make_shared<Hosted<MapProvider>>(
      std::map<std::string, std::int64_t>{{"alice", 100}}, &firstLookups));
  users.addProvider(std::make_shared<Hosted<MapProvider>>(
      std::map<std::string, std::int64_t>{{"alice", 200}, {"erin", 201}}, &secondLookups));

  User user;
  REQUIRE(knows(users, "alice", &user));
  CHECK(user.id == 100);  // the first provider wins over the second and over the file
  CHECK(user.password == "provider-hash");
  CHECK(firstLookups == 1);
  CHECK(secondLookups == 0);

  REQUIRE(knows(users, "erin", &user));
  CHECK(user.id == 201);
  CHECK(firstLookups == 2);
  CHECK(secondLookups == 1);

  REQUIRE(knows(users, "bob", &user));  // neither provider: the file
  CHECK(user.id == 6);
  CHECK(user.password == "bob-hash");

  CHECK_FALSE(knows(users, "nobody"));
  CHECK(firstLookups == 4);
  CHECK(secondLookups == 3);
}

TEST_CASE("a failing provider is skipped, not fatal") {
  test::TempDir dir;
  UserDirectory users(dir.write("users.yml", kTwoUsers));
  int lookups = 0;
  users.addProvider(std::make_shared<Hosted<ThrowingProvider>>());
  users.addProvider(std::make_shared<Hosted<MapProvider>>(
      std::map<std::string, std::int64_t>{{"erin", 201}}, &lookups));
  User user;
  REQUIRE(knows(users, "erin", &user));
  CHECK(user.id == 201);
  REQUIRE(knows(users, "alice", &user));
  CHECK(user.id == 5);
}

// The fuzzers read users files from text; errors name the file they are given.
TEST_CASE("a users file parses from text as from a file") {
  const auto users = wampd::core::auth::parseUsersFile(
      "users:\n  - { username: john, id: 5, roles: [ROLE_USER] }\n", "u.yml");
  REQUIRE(users.count("john") == 1);
  CHECK(users.at("john").id == 5);
  try {
    wampd::core::auth::parseUsersFile("users:\n  - { username: john, id: 0 }\n", "broken.yml");
    FAIL("no ConfigError");
  } catch (const wampd::core::ConfigError& e) {
    CHECK(e.where().file == "broken.yml");
    CHECK(e.where().line == 2);
  }
}
