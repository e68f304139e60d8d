#include "upgrade.h"

#include <openssl/evp.h>
#include <strings.h>

#include <cstdint>

namespace wampd::bench::baseline {
namespace {

std::string_view headerValue(std::string_view head, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    if (head.size() - pos > name.size() &&
        strncasecmp(head.data() + pos, name.data(), name.size()) == 0 &&
        head[pos + name.size()] == ':') {
      std::size_t start = pos + name.size() + 1;
      std::size_t end = head.find("\r\n", start);
      if (end == std::string_view::npos) end = head.size();
      while (start < end && head[start] == ' ') ++start;
      while (end > start && head[end - 1] == ' ') --end;
      return head.substr(start, end - start);
    }
  }
  return {};
}

std::string acceptKey(std::string_view key) {
  const std::string input = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha1(), nullptr);
  unsigned char encoded[64];
  const int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(length));
  return std::string(reinterpret_cast<char*>(encoded), static_cast<std::size_t>(n));
}

}  // namespace

std::string upgradeResponse(std::string_view head, std::string_view firstFrame) {
  const std::string_view key = headerValue(head, "Sec-WebSocket-Key");
  if (key.empty()) return {};
  std::string r =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      acceptKey(key) + "\r\n";
  const std::string_view protocols = headerValue(head, "Sec-WebSocket-Protocol");
  std::size_t start = 0;
  while (start < protocols.size()) {
    std::size_t end = protocols.find(',', start);
    if (end == std::string_view::npos) end = protocols.size();
    std::string_view p = protocols.substr(start, end - start);
    while (!p.empty() && p.front() == ' ') p.remove_prefix(1);
    while (!p.empty() && p.back() == ' ') p.remove_suffix(1);
    if (p == "wamp") {
      r += "Sec-WebSocket-Protocol: wamp\r\n";
      break;
    }
    start = end + 1;
  }
  r += "\r\n";
  r += firstFrame;
  return r;
}

std::string textFrameHeader(std::size_t length) {
  std::string h;
  h.push_back(static_cast<char>(0x81));
  if (length < 126) {
    h.push_back(static_cast<char>(length));
  } else if (length <= 0xFFFF) {
    h.push_back(static_cast<char>(126));
    h.push_back(static_cast<char>(length >> 8));
    h.push_back(static_cast<char>(length & 0xFF));
  } else {
    h.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      h.push_back(static_cast<char>((length >> shift) & 0xFF));
  }
  return h;
}

std::size_t readClientFrame(std::string_view data, ClientFrame& frame) {
  if (data.size() < 2) return 0;
  const auto b1 = static_cast<std::uint8_t>(data[1]);
  std::size_t header = 2;
  std::uint64_t length = b1 & 0x7F;
  if (length == 126) {
    if (data.size() < 4) return 0;
    length = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(data[2])) << 8) |
             static_cast<std::uint8_t>(data[3]);
    header = 4;
  } else if (length == 127) {
    if (data.size() < 10) return 0;
    length = 0;
    for (std::size_t i = 2; i < 10; ++i)
      length = (length << 8) | static_cast<std::uint8_t>(data[i]);
    header = 10;
  }
  const bool masked = (b1 & 0x80) != 0;
  const std::size_t maskAt = header;
  if (masked) header += 4;
  if (data.size() < header || data.size() - header < length) return 0;
  frame.opcode = static_cast<std::uint8_t>(data[0]) & 0x0F;
  frame.payload.assign(data.data() + header, static_cast<std::size_t>(length));
  if (masked)
    for (std::size_t i = 0; i < frame.payload.size(); ++i)
      frame.payload[i] ^= data[maskAt + (i & 3)];
  return header + static_cast<std::size_t>(length);
}

}  // namespace wampd::bench::baseline
