// The fault table: one row per fault, codes and URIs that make sense on the wire, URIs that
// lead back to their fault, and no close code or error URI spelled outside the table.
#include "common/errors.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "wampd/errors.h"

namespace wampd::core {
namespace {

constexpr auto kLastFault = Fault::ClusterSharedRegistration;

std::vector<Fault> allFaults() {
  std::vector<Fault> faults;
  for (int i = 0; i <= static_cast<int>(kLastFault); ++i) faults.push_back(static_cast<Fault>(i));
  return faults;
}

TEST_CASE("every fault has a reason, and a close code a server may send or none") {
  for (Fault f : allFaults()) {
    const FaultInfo& info = describe(f);
    CAPTURE(static_cast<int>(f));
    CHECK(!info.reason.empty());
    if (info.closeCode != 0) CHECK(sendableCloseCode(info.closeCode));
    // A fault is either answered (a v2 URI or a v1 code) or ends the connection.
    CHECK((info.closeCode != 0 || !info.uri.empty()));
  }
}

TEST_CASE("each URI names one fault and leads back to it") {
  std::set<std::string_view> seen;
  for (Fault f : allFaults()) {
    const std::string_view uri = describe(f).uri;
    if (uri.empty()) continue;
    CAPTURE(uri);
    CHECK(seen.insert(uri).second);
    CHECK(faultForUri(uri) == f);
    CHECK(std::string(uriOf(f)) == uri);
  }
  CHECK(faultForUri("com.example.unknown") == Fault::HandlerFailed);
  CHECK(faultForUri("") == Fault::HandlerFailed);
}

TEST_CASE("the SDK's URIs are the table's") {
  CHECK(faultForUri(errors::kNotAuthorized) == Fault::NotAuthorized);
  CHECK(faultForUri(errors::kInvalidArgument) == Fault::InvalidArgument);
  CHECK(faultForUri(errors::kNoSuchProcedure) == Fault::NoSuchProcedure);
  CHECK(faultForUri(errors::kRuntimeError) == Fault::RuntimeError);
  CHECK(faultForUri(errors::kHandlerFailed) == Fault::HandlerFailed);
}

TEST_CASE("what Oro's clients see is Gos's") {
  CHECK(describe(Fault::NoRoute).closeCode == 1007);
  CHECK(describe(Fault::NoRoute).reason == "Unable to find route");
  CHECK(describe(Fault::MalformedMessage).closeCode == 1007);
  CHECK(describe(Fault::HandlerFailed).detailsCode == 500);
  CHECK(describe(Fault::NotAuthorized).detailsCode == 403);
  CHECK(describe(Fault::NoSuchProcedure).detailsCode == 404);
  CHECK(describe(Fault::ServerShutdown).uri == "wamp.close.system_shutdown");
  CHECK(describe(Fault::ProtocolViolation).closeCode == 1002);
}

TEST_CASE("the server wants back the clients it drops for its own reasons, not for theirs") {
  CHECK(describe(Fault::ServerShutdown).comesBack);
  CHECK(describe(Fault::SlowConsumer).comesBack);
  CHECK(describe(Fault::PeerUnresponsive).comesBack);
  CHECK(describe(Fault::WriteStalled).comesBack);
  for (Fault f : {Fault::ProtocolViolation, Fault::NoRoute, Fault::MalformedMessage,
                  Fault::SessionEnded, Fault::AuthenticationFailed, Fault::LimitExceeded})
    CHECK_FALSE(describe(f).comesBack);
}

TEST_CASE("close codes a peer may send (RFC 6455 7.4)") {
  for (std::uint16_t c :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999})
    CHECK(sendableCloseCode(c));
  for (std::uint16_t c : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000})
    CHECK_FALSE(sendableCloseCode(c));
}

// Code, not comments: a `//` comment is cut off before matching.
std::vector<std::string> strays(const std::filesystem::path& root, const std::regex& pattern,
                                const std::set<std::string>& allowed) {
  std::vector<std::string> found;
  for (const char* dir : {"core", "sdk", "plugins"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root / dir)) {
      const auto ext = entry.path().extension();
      if (ext != ".h" && ext != ".cpp") continue;
      const std::string relative = std::filesystem::relative(entry.path(), root).string();
      if (allowed.count(relative)) continue;
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        if (auto comment = line.find("//"); comment != std::string::npos) line.erase(comment);
        if (std::regex_search(line, pattern))
          found.push_back(relative + ":" + std::to_string(n) + ": " + line);
      }
    }
  }
  return found;
}

TEST_CASE("no error URI or close code is spelled outside the table") {
  const std::filesystem::path root = WAMPD_SOURCE_DIR;
  const std::set<std::string> table{"core/common/errors.h", "core/common/errors.cpp",
                                    "sdk/include/wampd/errors.h"};
  const auto uris = strays(root, std::regex(R"("wampd?\.(error|close)\.)"), table);
  const auto codes = strays(root, std::regex(R"(\b(100[0-9]|101[0-5])\b)"), table);
  for (const auto& s : uris) MESSAGE("error URI outside the table: ", s);
  for (const auto& s : codes) MESSAGE("close code outside the table: ", s);
  CHECK(uris.empty());
  CHECK(codes.empty());
}

}  // namespace
}  // namespace wampd::core
