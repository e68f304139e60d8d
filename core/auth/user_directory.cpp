#include "auth/user_directory.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "common/yaml_document.h"

namespace wampd::core::auth {
namespace {

namespace fs = std::filesystem;

std::int64_t stampOf(const std::string& file) {
  std::error_code ec;
  const auto time = fs::last_write_time(file, ec);
  if (ec) return -1;
  const auto size = fs::file_size(file, ec);
  return static_cast<std::int64_t>(time.time_since_epoch().count()) ^
         static_cast<std::int64_t>(size << 1);
}

}  // namespace

namespace {

UserMap readUsers(const YamlDocument& doc) {
  const YAML::Node& root = doc.root();
  UserMap users;
  if (root.IsNull()) return users;
  if (!root.IsMap() || !root["users"] || !root["users"].IsSequence())
    doc.fail(root, "a users file is a map with a 'users' list");
  // Refuses any other key: a misspelt section beside 'users' would otherwise go unnoticed.
  doc.entries(root, {}, {"users"});
  for (const YAML::Node& entry : root["users"]) {
    if (!entry.IsMap()) doc.fail(entry, "each user must be a map");
    User user;
    for (const YamlEntry& field : doc.entries(entry)) {
      const std::string& key = field.key;
      const YAML::Node& v = field.value;
      if (key == "username" && v.IsScalar()) {
        user.username = v.Scalar();
      } else if (key == "id") {
        user.id = doc.integer(v, "id");
      } else if (key == "password" && v.IsScalar()) {
        user.password = v.Scalar();
      } else if (key == "roles" && v.IsSequence()) {
        for (const YAML::Node& r : v) user.roles.push_back(doc.nonEmpty(r, "a role"));
      } else if (key == "organizations" && v.IsSequence()) {
        for (const YAML::Node& o : v)
          user.organizations.push_back(doc.integer(o, "an organization id"));
      } else {
        doc.fail(field.keyNode, "unknown or malformed key '" + key +
                                    "' (expected username, id, password, roles, organizations)");
      }
    }
    if (user.username.empty()) doc.fail(entry, "a user needs a non-empty username");
    if (user.id <= 0) doc.fail(entry, "user '" + user.username + "' needs an id > 0");
    if (users.count(user.username)) doc.fail(entry, "user '" + user.username + "' is listed twice");
    users.emplace(user.username, std::move(user));
  }
  return users;
}

}  // namespace

UserMap loadUsersFile(const std::string& path) {
  return readUsers(YamlDocument::loadFile(path, "cannot read the users file"));
}

UserMap parseUsersFile(const std::string& text, const std::string& file) {
  return readUsers(YamlDocument::parse(text, file));
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
