#include "auth/user_directory.h"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

namespace wampd::core::auth {
namespace {

namespace fs = std::filesystem;

SourceLocation at(const std::string& file, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? SourceLocation{file, 0, 0}
                        : SourceLocation{file, mark.line + 1, mark.column + 1};
}

std::int64_t integer(const std::string& file, const YAML::Node& node, const char* what) {
  try {
    return node.as<std::int64_t>();
  } catch (const YAML::Exception&) {
    throw ConfigError(at(file, node), std::string(what) + " must be an integer");
  }
}

std::int64_t stampOf(const std::string& file) {
  std::error_code ec;
  const auto time = fs::last_write_time(file, ec);
  if (ec) return -1;
  const auto size = fs::file_size(file, ec);
  return static_cast<std::int64_t>(time.time_since_epoch().count()) ^
         static_cast<std::int64_t>(size << 1);
}

}  // namespace

UserMap loadUsersFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError({path}, "cannot read the users file");
  } catch (const YAML::Exception& e) {
    throw ConfigError(
        {path, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1},
        "YAML syntax error: " + e.msg);
  }
  UserMap users;
  if (root.IsNull()) return users;
  const YAML::Node list = root.IsMap() ? root["users"] : YAML::Node();
  if (!list || !list.IsSequence())
    throw ConfigError(at(path, root), "a users file is a map with a 'users' list");
  for (const YAML::Node& entry : list) {
    if (!entry.IsMap()) throw ConfigError(at(path, entry), "each user must be a map");
    User user;
    for (const auto& kv : entry) {
      const std::string key = kv.first.as<std::string>("");
      const YAML::Node& v = kv.second;
      if (key == "username" && v.IsScalar()) {
        user.username = v.Scalar();
      } else if (key == "id") {
        user.id = integer(path, v, "id");
      } else if (key == "password" && v.IsScalar()) {
        user.password = v.Scalar();
      } else if (key == "roles" && v.IsSequence()) {
        for (const YAML::Node& r : v) user.roles.push_back(r.as<std::string>(""));
      } else if (key == "organizations" && v.IsSequence()) {
        for (const YAML::Node& o : v)
          user.organizations.push_back(integer(path, o, "an organization id"));
      } else {
        throw ConfigError(at(path, kv.first),
                          "unknown or malformed key '" + key +
                              "' (expected username, id, password, roles, organizations)");
      }
    }
    if (user.username.empty())
      throw ConfigError(at(path, entry), "a user needs a non-empty username");
    if (user.id <= 0)
      throw ConfigError(at(path, entry), "user '" + user.username + "' needs an id > 0");
    if (users.count(user.username))
      throw ConfigError(at(path, entry), "user '" + user.username + "' is listed twice");
    users.emplace(user.username, std::move(user));
  }
  return users;
}

UserDirectory::UserDirectory(std::string usersFile) : file_(std::move(usersFile)) {
  if (file_.empty()) return;
  loadedStamp_ = stampOf(file_);
  users_ = loadUsersFile(file_);
}

void UserDirectory::reloadIfChanged() {
  if (file_.empty()) return;
  const std::int64_t stamp = stampOf(file_);
  if (stamp == loadedStamp_) return;
  loadedStamp_ = stamp;
  try {
    users_ = loadUsersFile(file_);
    spdlog::info("users file {} reloaded: {} users", file_, users_.size());
  } catch (const ConfigError& e) {
    spdlog::error("users file not reloaded, the previous users stay: {}", e.what());
  }
}

bool UserDirectory::find(std::string_view username, User& out) {
  for (const auto& provider : providers_) {
    bool found = false;
    Status status = provider->hostLoadUser(username, out, found);
    if (!status) {
      spdlog::error("user provider failed looking up a user: {}", status.message());
      continue;
    }
    if (found) return true;
  }
  reloadIfChanged();
  auto it = users_.find(username);
  if (it == users_.end()) return false;
  out = it->second;
  return true;
}

}  // namespace wampd::core::auth
