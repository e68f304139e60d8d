// The server side of a WebSocket upgrade, as much as the baseline broadcasters need.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wampd::bench::baseline {

/// Parses a complete request head (through the blank line) and returns the 101 response,
/// selecting subprotocol `wamp` when offered, followed by `firstFrame`. Empty when `head`
/// is no WebSocket upgrade.
std::string upgradeResponse(std::string_view head, std::string_view firstFrame);

/// RFC 6455 header of an unmasked, final text frame of `length` bytes.
std::string textFrameHeader(std::size_t length);

struct ClientFrame {
  unsigned opcode = 0;
  std::string payload;  // unmasked
};
/// Reads one masked client frame at the start of `data`: the bytes it spans, 0 when more
/// are needed.
std::size_t readClientFrame(std::string_view data, ClientFrame& frame);

}  // namespace wampd::bench::baseline
