#include "server/dashboard.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "../scoped_env.h"

using wampd::core::Dashboard;
using wampd::core::dashboardContentType;
using wampd::core::dashboardFileName;
using wampd::core::defaultWwwDirectory;
using wampd::core::HttpRequest;
namespace fs = std::filesystem;

namespace {

HttpRequest get(std::string target, std::string method = "GET") {
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  return request;
}

struct TempDirectory {
  TempDirectory() {
    std::string pattern = (fs::temp_directory_path() / "wampd-dashboard-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDirectory() { fs::remove_all(path); }
  fs::path path;
};

}  // namespace

TEST_CASE("dashboardFileName: the page, plain names, nothing else") {
  CHECK(dashboardFileName("/dashboard") == "index.html");
  CHECK(dashboardFileName("/dashboard/") == "index.html");
  CHECK(dashboardFileName("/dashboard/app.js") == "app.js");
  CHECK(dashboardFileName("/dashboard/wamp2.js") == "wamp2.js");
  CHECK(dashboardFileName("/dashboard/a%2Djs.css") == "a-js.css");

  CHECK_FALSE(dashboardFileName("/dashboards"));
  CHECK_FALSE(dashboardFileName("/api/stats"));
  CHECK_FALSE(dashboardFileName("/dashboard/../wampd.yml"));
  CHECK_FALSE(dashboardFileName("/dashboard/.."));
  CHECK_FALSE(dashboardFileName("/dashboard/%2e%2e"));
  CHECK_FALSE(dashboardFileName("/dashboard/%2E%2E%2Fwampd.yml"));
  CHECK_FALSE(dashboardFileName("/dashboard/..%2fwampd.yml"));
  CHECK_FALSE(dashboardFileName("/dashboard/%2fetc%2fpasswd"));
  CHECK_FALSE(dashboardFileName("/dashboard//etc/passwd"));
  CHECK_FALSE(dashboardFileName("/dashboard/sub/file.js"));
  CHECK_FALSE(dashboardFileName("/dashboard/index.html%00.png"));
  CHECK_FALSE(dashboardFileName(std::string_view("/dashboard/index.html\0.png", 26)));
  CHECK_FALSE(dashboardFileName("/dashboard/.hidden"));
  CHECK_FALSE(dashboardFileName("/dashboard/a\\b"));
  CHECK_FALSE(dashboardFileName("/dashboard/%"));
  CHECK_FALSE(dashboardFileName("/dashboard/%2"));
  CHECK_FALSE(dashboardFileName("/dashboard/%zz"));
}

TEST_CASE("dashboardContentType by extension") {
  CHECK(dashboardContentType("index.html") == "text/html; charset=utf-8");
  CHECK(dashboardContentType("dashboard.js") == "text/javascript; charset=utf-8");
  CHECK(dashboardContentType("dashboard.css") == "text/css; charset=utf-8");
  CHECK(dashboardContentType("shot.png") == "image/png");
  CHECK(dashboardContentType("README") == "application/octet-stream");
  CHECK(dashboardContentType(".js") == "application/octet-stream");
}

TEST_CASE("Dashboard::serve reads files of its directory only") {
  TempDirectory root;
  fs::create_directory(root.path / "www");
  const Dashboard dashboard((root.path / "www").string());
  std::ofstream(root.path / "www" / "index.html") << "<p>page</p>";
  std::ofstream(root.path / "www" / "app.js") << "let x = 1;";
  std::ofstream(root.path / "secret.yml") << "auth: {secret: s}";

  auto response = dashboard.serve(get("/dashboard"), "/dashboard");
  CHECK(response.status == 200);
  CHECK(response.body == "<p>page</p>");
  CHECK(response.contentType == "text/html; charset=utf-8");
  response = dashboard.serve(get("/dashboard/app.js"), "/dashboard/app.js");
  CHECK(response.status == 200);
  CHECK(response.body == "let x = 1;");
  CHECK(response.contentType == "text/javascript; charset=utf-8");

  CHECK(dashboard.serve(get("/dashboard/missing.js"), "/dashboard/missing.js").status == 404);
  CHECK(dashboard.serve(get("/dashboard/../secret.yml"), "/dashboard/../secret.yml").status == 404);
  CHECK(dashboard.serve(get("", "POST"), "/dashboard").status == 405);

  SUBCASE("a symlink out of the directory is not followed") {
    fs::create_symlink(root.path / "secret.yml", root.path / "www" / "link.yml");
    response = dashboard.serve(get(""), "/dashboard/link.yml");
    CHECK(response.status == 404);
    CHECK(response.body.find("secret") == std::string::npos);
  }
  SUBCASE("a directory is not a file") {
    fs::create_directory(root.path / "www" / "sub");
    CHECK(dashboard.serve(get(""), "/dashboard/sub").status == 404);
  }
  SUBCASE("files over the size cap are refused, at the cap served") {
    std::ofstream(root.path / "www" / "big.js") << std::string(Dashboard::kMaxFileSize + 1, 'x');
    std::ofstream(root.path / "www" / "cap.js") << std::string(Dashboard::kMaxFileSize, 'x');
    CHECK(dashboard.serve(get(""), "/dashboard/big.js").status == 500);
    response = dashboard.serve(get(""), "/dashboard/cap.js");
    CHECK(response.status == 200);
    CHECK(response.body.size() == Dashboard::kMaxFileSize);
  }
}

TEST_CASE("defaultWwwDirectory: $WAMPD_WWW_DIR, else the source tree's for a build tree") {
  {
    wampd::test::ScopedEnv env("WAMPD_WWW_DIR", "/somewhere/www");
    CHECK(defaultWwwDirectory() == "/somewhere/www");
  }
  wampd::test::ScopedEnv env("WAMPD_WWW_DIR", nullptr);
  CHECK(defaultWwwDirectory() == WAMPD_SOURCE_DIR "/core/server/www");
  CHECK(fs::is_regular_file(fs::path(defaultWwwDirectory()) / "index.html"));
}
