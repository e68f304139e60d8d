// The load client's own WebSocket framing (RFC 6455): masked frames out, unmasked frames in.
// Only what a measuring client needs: no fragmentation on send, no extensions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wampd::bench {

enum class Opcode : std::uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

/// Appends one final client frame, masked with `mask` as clients must.
void appendClientFrame(std::string& out, Opcode opcode, std::string_view payload,
                       std::uint32_t mask);

struct ServerFrame {
  Opcode opcode = Opcode::Text;
  bool fin = true;
  std::string_view payload;
};

inline constexpr std::size_t kIncompleteFrame = 0;
inline constexpr std::size_t kBadFrame = static_cast<std::size_t>(-1);

/// Reads the frame at the start of `data`. Returns the bytes it spans, kIncompleteFrame when
/// more bytes are needed, or kBadFrame when a server sent a masked frame.
std::size_t parseServerFrame(std::string_view data, ServerFrame& frame);

}  // namespace wampd::bench
