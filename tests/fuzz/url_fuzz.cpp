// The URL and query parsers: the upgrade request's resource as authentication reads it (the
// backend token in the last path segment, `?ticket=` in the query: core/auth), and wampctl's
// server URL (core/ctl/server_url).
//
// Input: byte 0 chooses what the rest is read as. Checked: a resource is judged without
// throwing, and a refusal's reason is safe to log and send; percent-encoding and decoding
// are inverses; a ws:// URL that parses has a scheme, host and port, and adding the backend
// token as its last path segment keeps host, port and query and parses again.
#include <memory>
#include <string>

#include "auth/authenticator.h"
#include "auth/ticket.h"
#include "ctl/server_url.h"
#include "fuzz_check.h"

namespace {

using namespace wampd::core;

constexpr const char* kToken = "Zm9vYmFy-token";

const auth::Authenticator& authenticator(bool allowAnonymous) {
  static const auto make = [](bool anonymous) {
    AuthConfig config;
    config.secret = "fuzz-secret";
    config.backendToken = kToken;
    config.allowAnonymous = anonymous;
    config.allowedOrigins = {"127.0.0.1", "https://example.com"};
    return std::make_unique<auth::Authenticator>(config, std::make_shared<auth::UserDirectory>(""));
  };
  static const auto open = make(true);
  static const auto closed = make(false);
  return allowAnonymous ? *open : *closed;
}

bool printableReason(const std::string& reason) {
  for (char c : reason)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
  return true;
}

void resource(std::string_view text, bool anonymous) {
  // 2026-12-06T07:00:00Z: tickets in the seeds are judged for age like any other.
  constexpr std::time_t kNow = 1796540400;
  const auth::Decision d = authenticator(anonymous).authenticate(
      text, "127.0.0.1", "203.0.113.7", kNow, /*ticketLater=*/!anonymous, /*deferDigest=*/true);
  if (!d.accept) {
    FUZZ_CHECK(!d.reason.empty() && printableReason(d.reason));
    FUZZ_CHECK(d.httpStatus >= 400 && d.httpStatus < 600);
  }
  const std::size_t question = text.find('?');
  if (question != std::string_view::npos)
    (void)auth::queryParameter(text.substr(question + 1), "ticket");
}

void serverUrl(std::string_view text) {
  const std::string decoded = auth::urlDecode(text);
  FUZZ_CHECK(decoded.size() <= text.size());
  FUZZ_CHECK(auth::urlDecode(wampd::ctl::percentEncode(text)) == text);

  wampd::ctl::WsUrl url;
  std::string error;
  if (!wampd::ctl::parseWsUrl(text, url, error)) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  FUZZ_CHECK(url.scheme == "ws" || url.scheme == "wss");
  FUZZ_CHECK(!url.host.empty() && url.port != 0);
  FUZZ_CHECK(url.path.empty() || url.path.front() == '/');
  const std::string withToken = wampd::ctl::withLastPathSegment(text, kToken);
  wampd::ctl::WsUrl again;
  FUZZ_CHECK(wampd::ctl::parseWsUrl(withToken, again, error));
  FUZZ_CHECK(again.scheme == url.scheme && again.host == url.host && again.port == url.port &&
             again.query == url.query);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text = wampd::fuzz::asText(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      resource(text, true);
      break;
    case 1:
      resource(text, false);
      break;
    default:
      serverUrl(text);
      break;
  }
  return 0;
}
