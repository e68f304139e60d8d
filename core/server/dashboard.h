// The dashboard's static files: GET /dashboard and /dashboard/NAME, read from the www
// directory (installed as share/wampd/www; the source tree's core/server/www before an
// installation). The page is public; the data it shows comes from the backend-only /api/*
// and a WAMP v2 session that proves itself with the backend token.
//
// Runs on the I/O thread: a file is read whole per request, so files are capped at
// kMaxFileSize and names are restricted to one flat directory.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "transport/transport.h"

namespace wampd::core {

/// $WAMPD_WWW_DIR when set; else share/wampd/www of the running executable's installation
/// prefix when it exists; else the source tree's core/server/www (a wampd run from the build
/// tree), as defaultConfigPath() finds the config.
std::string defaultWwwDirectory();

/// The file name a request path (no query) names under /dashboard: "index.html" for
/// /dashboard and /dashboard/, NAME for /dashboard/NAME after percent-decoding. Nothing
/// when the path is not the dashboard's or NAME is not a plain file name of [A-Za-z0-9._-]
/// that starts with a letter or digit (no "..", no slash, no NUL, no hidden files).
std::optional<std::string> dashboardFileName(std::string_view path);

/// The Content-Type for a file name's extension; application/octet-stream when unknown.
std::string_view dashboardContentType(std::string_view fileName);

class Dashboard {
 public:
  static constexpr std::size_t kMaxFileSize = 512 * 1024;

  explicit Dashboard(std::string root) : root_(std::move(root)) {}

  /// Whether `path` (no query) belongs to the dashboard: /dashboard and anything under
  /// /dashboard/.
  static bool owns(std::string_view path);
  /// The answer to a request whose path owns() claims: 200 with the file, 404 for names
  /// dashboardFileName refuses and missing files, 405 for methods other than GET and HEAD,
  /// 500 for a file over kMaxFileSize or unreadable (logged).
  HttpResponse serve(const HttpRequest& request, std::string_view path) const;

  const std::string& root() const noexcept { return root_; }

 private:
  std::string root_;
};

}  // namespace wampd::core
