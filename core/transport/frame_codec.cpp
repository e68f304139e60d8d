#include "transport/frame_codec.h"

#include <cstring>

#include "common/errors.h"
#include "common/utf8.h"

namespace wampd::core::ws {
namespace {

// The close code comes from the fault table; the reason sent is the specific one.
FrameEvent failure(Fault fault, const char* reason) {
  FrameEvent e;
  e.kind = FrameEvent::Kind::Failure;
  e.code = describe(fault).closeCode;
  e.reason = reason;
  return e;
}

void unmask(char* p, std::size_t n, const unsigned char key[4]) noexcept {
  std::uint32_t k32;
  std::memcpy(&k32, key, 4);
  const std::uint64_t k64 = (static_cast<std::uint64_t>(k32) << 32) | k32;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    w ^= k64;
    std::memcpy(p + i, &w, 8);
  }
  for (; i < n; ++i) p[i] ^= static_cast<char>(key[i & 3]);
}

}  // namespace

void appendFrameHeader(std::string& out, Opcode opcode, std::size_t length) {
  out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode)));
  if (length < 126) {
    out.push_back(static_cast<char>(length));
  } else if (length <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((length >> 8) & 0xFF));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(length) >> shift) & 0xFF));
  }
}

std::string encodeFrame(Opcode opcode, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  appendFrameHeader(out, opcode, payload.size());
  out.append(payload);
  return out;
}

std::string closePayload(std::uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, utf8PrefixLength(reason, 123)));
  return payload;
}

FrameEvent FrameReader::next(char* data, std::size_t size) {
  // The previous event's payload may live in message_; it is not needed any more.
  if (!inMessage_ && !message_.empty()) std::string().swap(message_);
  if (size < 2) return {};
  const auto b0 = static_cast<unsigned char>(data[0]);
  const auto b1 = static_cast<unsigned char>(data[1]);
  const bool fin = b0 & 0x80;
  const auto opcode = static_cast<Opcode>(b0 & 0x0F);
  if (b0 & 0x70) return failure(Fault::FramingError, "reserved bits set without an extension");
  if (!(b1 & 0x80)) return failure(Fault::FramingError, "client frames must be masked");
  const bool control = (b0 & 0x08) != 0;
  switch (opcode) {
    case Opcode::Continuation:
    case Opcode::Text:
    case Opcode::Binary:
    case Opcode::Close:
    case Opcode::Ping:
    case Opcode::Pong:
      break;
    default:
      return failure(Fault::FramingError, "unknown opcode");
  }

  std::uint64_t length = b1 & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    if (size < 4) return {};
    length = (static_cast<std::uint64_t>(static_cast<unsigned char>(data[2])) << 8) |
             static_cast<unsigned char>(data[3]);
    if (length < 126) return failure(Fault::FramingError, "length not minimally encoded");
    header = 4;
  } else if (length == 127) {
    if (size < 10) return {};
    length = 0;
    for (int i = 2; i < 10; ++i) length = (length << 8) | static_cast<unsigned char>(data[i]);
    if (length >> 63) return failure(Fault::FramingError, "frame length out of range");
    if (length <= 0xFFFF) return failure(Fault::FramingError, "length not minimally encoded");
    header = 10;
  }
  if (control) {
    if (!fin) return failure(Fault::FramingError, "fragmented control frame");
    if (length > 125) return failure(Fault::FramingError, "control frame over 125 bytes");
  } else {
    if (opcode == Opcode::Continuation && !inMessage_)
      return failure(Fault::FramingError, "continuation frame without a message");
    if (opcode != Opcode::Continuation && inMessage_)
      return failure(Fault::FramingError, "new message inside a fragmented one");
    const std::uint64_t total = (inMessage_ ? message_.size() : 0) + length;
    if (total > maxMessageSize_) return failure(Fault::MessageTooBig, "message too big");
  }
  // The size check comes before waiting for the payload: a peer announcing a huge frame is
  // refused at once instead of being buffered.
  if (size - header < 4 + length) return {};

  unsigned char key[4];
  std::memcpy(key, data + header, 4);
  char* payload = data + header + 4;
  const auto n = static_cast<std::size_t>(length);
  unmask(payload, n, key);

  FrameEvent e;
  e.consumed = header + 4 + n;
  const std::string_view bytes(payload, n);
  switch (opcode) {
    case Opcode::Ping:
      e.kind = FrameEvent::Kind::Ping;
      e.payload = bytes;
      return e;
    case Opcode::Pong:
      e.kind = FrameEvent::Kind::Pong;
      return e;
    case Opcode::Close: {
      if (n == 1) return failure(Fault::FramingError, "close frame with a 1-byte payload");
      e.kind = FrameEvent::Kind::Close;
      if (n == 0) {
        e.code = wireCode(CloseCode::NoStatus);
        return e;
      }
      e.code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                          static_cast<unsigned char>(payload[1]));
      if (!sendableCloseCode(e.code)) return failure(Fault::FramingError, "invalid close code");
      e.payload = bytes.substr(2);
      if (!isValidUtf8(e.payload)) return failure(Fault::InvalidUtf8, "close reason not UTF-8");
      return e;
    }
    default:
      break;
  }

  const bool binary = inMessage_ ? messageBinary_ : opcode == Opcode::Binary;
  if (!fin) {
    if (!inMessage_) {
      inMessage_ = true;
      messageBinary_ = binary;
      message_.clear();
      utf8_.reset();
    }
    if (!binary && !utf8_.feed(bytes)) return failure(Fault::InvalidUtf8, "text message not UTF-8");
    message_.append(bytes);
    e.kind = FrameEvent::Kind::Fragment;
    return e;
  }
  std::string_view whole = bytes;
  if (inMessage_) {
    inMessage_ = false;
    if (!binary && !(utf8_.feed(bytes) && utf8_.complete()))
      return failure(Fault::InvalidUtf8, "text message not UTF-8");
    message_.append(bytes);
    whole = message_;
  } else if (!binary && !isValidUtf8(whole)) {
    return failure(Fault::InvalidUtf8, "text message not UTF-8");
  }
  e.kind = FrameEvent::Kind::Message;
  e.binary = binary;
  e.payload = whole;
  return e;
}

}  // namespace wampd::core::ws
