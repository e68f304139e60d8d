#include "auth/backend_cookie.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace wampd::core::auth {

std::string cookiePath(std::uint16_t port) {
  std::string dir = "/tmp";
  if (const char* d = std::getenv("WAMPD_RUNTIME_DIR"); d && *d)
    dir = d;
  else if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x)
    dir = x;
  return dir + "/wampd-" + std::to_string(port) + ".token";
}

std::vector<std::string> cookieCandidates(std::uint16_t port) {
  std::vector<std::string> paths{cookiePath(port)};
  const char* named = std::getenv("WAMPD_RUNTIME_DIR");
  std::string service = "/run/wampd/wampd-" + std::to_string(port) + ".token";
  if (!(named && *named) && paths.front() != service) paths.push_back(std::move(service));
  return paths;
}

bool writeCookie(const std::string& path, const std::string& token, std::string& error) {
  // A private temporary file renamed over the target: rename replaces a planted symlink
  // instead of following it, and readers never see half a token.
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = temporary + ": " + std::strerror(errno);
    return false;
  }
  const std::string content = token + "\n";
  const bool written =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    error = path + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

std::optional<std::string> readCookie(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token) || token.empty()) return std::nullopt;
  return token;
}

std::string randomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no entropy: nothing is safe
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : bytes) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 0xF]);
  }
  return hex;
}

}  // namespace wampd::core::auth
