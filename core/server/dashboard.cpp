#include "server/dashboard.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace wampd::core {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "/dashboard";

int hexDigit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool plainNameCharacter(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

HttpResponse plain(std::uint16_t status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

}  // namespace

std::string defaultWwwDirectory() {
  if (const char* env = std::getenv("WAMPD_WWW_DIR"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed =
        (exe.parent_path() / WAMPD_INSTALLED_WWW_RELATIVE).lexically_normal();
    if (fs::is_directory(installed, ec)) return installed.string();
  }
  return WAMPD_SOURCE_WWW;
}

bool Dashboard::owns(std::string_view path) {
  return path.substr(0, kPrefix.size()) == kPrefix &&
         (path.size() == kPrefix.size() || path[kPrefix.size()] == '/');
}

std::optional<std::string> dashboardFileName(std::string_view path) {
  if (!Dashboard::owns(path)) return std::nullopt;
  std::string_view rest = path.substr(kPrefix.size());
  if (rest.empty() || rest == "/") return "index.html";
  rest.remove_prefix(1);
  std::string name;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    char c = rest[i];
    if (c == '%') {
      // Decoded before checking, so %2e%2e and %2f are held to the same rules as ".." and "/".
      if (i + 2 >= rest.size()) return std::nullopt;
      const int high = hexDigit(rest[i + 1]), low = hexDigit(rest[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (!plainNameCharacter(c)) return std::nullopt;
    name += c;
  }
  // No hidden files, and so no "." or "..".
  if (name.empty() || name.front() == '.' || name.front() == '-') return std::nullopt;
  return name;
}

std::string_view dashboardContentType(std::string_view fileName) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  }};
  for (const auto& [extension, type] : kTypes)
    if (fileName.size() > extension.size() &&
        fileName.substr(fileName.size() - extension.size()) == extension)
      return type;
  return "application/octet-stream";
}

HttpResponse Dashboard::serve(const HttpRequest& request, std::string_view path) const {
  if (request.method != "GET" && request.method != "HEAD")
    return plain(405, "the dashboard answers GET and HEAD\n");
  const std::optional<std::string> name = dashboardFileName(path);
  if (!name) return plain(404, "no such dashboard file\n");
  const std::string file = root_ + "/" + *name;
  // O_NOFOLLOW: a symlink dropped into the directory does not lead out of it.
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno != ENOENT) spdlog::warn("dashboard: cannot open {}: {}", file, std::strerror(errno));
    return plain(404, "no such dashboard file\n");
  }
  struct stat info {};
  HttpResponse response;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    response = plain(404, "no such dashboard file\n");
  } else if (static_cast<std::size_t>(info.st_size) > kMaxFileSize) {
    spdlog::warn("dashboard: {} is over the {} byte limit; not served", file, kMaxFileSize);
    response = plain(500, "the file is too large to serve\n");
  } else {
    response.contentType = std::string(dashboardContentType(*name));
    response.body.resize(static_cast<std::size_t>(info.st_size));
    std::size_t done = 0;
    while (done < response.body.size()) {
      const ssize_t n = ::read(fd, response.body.data() + done, response.body.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    // A file that shrank while read is served as far as it went.
    response.body.resize(done);
  }
  ::close(fd);
  return response;
}

}  // namespace wampd::core
