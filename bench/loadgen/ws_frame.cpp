#include "ws_frame.h"

namespace wampd::bench {

void appendClientFrame(std::string& out, Opcode opcode, std::string_view payload,
                       std::uint32_t mask) {
  const std::size_t n = payload.size();
  out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode)));
  if (n < 126) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((n >> shift) & 0xFF));
  }
  const char key[4] = {static_cast<char>(mask >> 24), static_cast<char>(mask >> 16),
                       static_cast<char>(mask >> 8), static_cast<char>(mask)};
  out.append(key, 4);
  const std::size_t start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < n; ++i) out[start + i] ^= key[i & 3];
}

std::size_t parseServerFrame(std::string_view data, ServerFrame& frame) {
  if (data.size() < 2) return kIncompleteFrame;
  const auto b0 = static_cast<std::uint8_t>(data[0]);
  const auto b1 = static_cast<std::uint8_t>(data[1]);
  if (b1 & 0x80) return kBadFrame;
  std::size_t header = 2;
  std::uint64_t length = b1 & 0x7F;
  if (length == 126) {
    if (data.size() < 4) return kIncompleteFrame;
    length = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(data[2])) << 8) |
             static_cast<std::uint8_t>(data[3]);
    header = 4;
  } else if (length == 127) {
    if (data.size() < 10) return kIncompleteFrame;
    length = 0;
    for (std::size_t i = 2; i < 10; ++i)
      length = (length << 8) | static_cast<std::uint8_t>(data[i]);
    header = 10;
  }
  if (data.size() - header < length) return kIncompleteFrame;
  frame.fin = (b0 & 0x80) != 0;
  frame.opcode = static_cast<Opcode>(b0 & 0x0F);
  frame.payload = data.substr(header, static_cast<std::size_t>(length));
  return header + static_cast<std::size_t>(length);
}

}  // namespace wampd::bench
