// The HTTP upgrade request (core/transport/handshake) over arbitrary client bytes.
//
// Checked: the header block is found the same whatever arrived after it and not before its
// last byte; a parsed request carries a well-formed key, a resource without spaces or
// control characters, and no header value with a line break; a refusal has a known status;
// and both answers keep the client's text out of the status line and header block (no
// response splitting; no '[' or ']' there, which Oro's PHP client would take for WELCOME).
#include <string>

#include "fuzz_check.h"
#include "transport/handshake.h"

namespace {

using namespace wampd::core::ws;

bool hasControl(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7F) return true;
  }
  return false;
}

// The status line and headers of an HTTP response, which must be ours alone.
void checkResponseHead(const std::string& response) {
  const std::size_t end = response.find("\r\n\r\n");
  FUZZ_CHECK(end != std::string::npos);
  const std::string_view head = std::string_view(response).substr(0, end);
  FUZZ_CHECK(head.find('[') == std::string_view::npos);
  FUZZ_CHECK(head.find(']') == std::string_view::npos);
  std::size_t pos = 0;
  while (pos <= head.size()) {
    std::size_t eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = head.size();
    FUZZ_CHECK(!hasControl(head.substr(pos, eol - pos)));
    pos = eol + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = wampd::fuzz::asText(data, size);
  if (input.size() > kMaxHandshakeBytes) return 0;  // refused with 431 before parsing
  const std::optional<std::size_t> length = headerBlockLength(input);
  if (!length) return 0;
  FUZZ_CHECK(*length >= 4 && *length <= input.size());
  FUZZ_CHECK(input.substr(*length - 4, 4) == "\r\n\r\n");
  FUZZ_CHECK(!headerBlockLength(input.substr(0, *length - 1)));

  const std::string_view block = input.substr(0, *length);
  const ParsedRequest parsed = parseUpgradeRequest(block);
  if (parsed.request) {
    const UpgradeRequest& request = *parsed.request;
    FUZZ_CHECK(request.key.size() == 24);
    FUZZ_CHECK(!request.resource.empty());
    FUZZ_CHECK(request.resource.find(' ') == std::string::npos);
    FUZZ_CHECK(!hasControl(request.resource));
    FUZZ_CHECK(!hasControl(request.origin));
    for (const std::string& protocol : request.subprotocols) {
      FUZZ_CHECK(!protocol.empty());
      FUZZ_CHECK(!hasControl(protocol));
      FUZZ_CHECK(protocol.find(',') == std::string::npos);
    }
    const std::string accept = acceptToken(request.key);
    FUZZ_CHECK(accept.size() == 28);
    // The server answers with a subprotocol of its own list, never the client's text.
    checkResponseHead(switchingProtocolsResponse(request.key, "wamp", "wampd"));
  } else {
    const std::uint16_t status = parsed.error.status;
    FUZZ_CHECK(status == 400 || status == 405 || status == 426);
    FUZZ_CHECK(!parsed.error.reason.empty());
    checkResponseHead(refusalResponse(status, parsed.error.reason, "wampd"));
  }
  return 0;
}
