// The users file (core/auth/user_directory) over arbitrary YAML text.
//
// Refused only with a ConfigError naming the file and a line; the users that load have a
// name, an id above 0 and no empty role.
#include <string>

#include "auth/user_directory.h"
#include "common/config_error.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wampd::core;
  const std::string text(wampd::fuzz::asText(data, size));
  auth::UserMap users;
  try {
    users = auth::parseUsersFile(text, "users.yml");
  } catch (const ConfigError& e) {
    FUZZ_CHECK(e.where().file == "users.yml" && e.where().line > 0);
    return 0;
  }
  for (const auto& [name, user] : users) {
    FUZZ_CHECK(!name.empty() && name == user.username);
    FUZZ_CHECK(user.id > 0);
    for (const std::string& role : user.roles) FUZZ_CHECK(!role.empty());
  }
  return 0;
}
