// RFC 6455 framing on the server's side: reading masked client frames (fragmentation, control
// frames, size limit, UTF-8) and writing unmasked server frame headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/utf8.h"

namespace wampd::core::ws {

enum class Opcode : std::uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

/// Appends the header of a final, unmasked frame carrying `length` payload bytes.
void appendFrameHeader(std::string& out, Opcode opcode, std::size_t length);

/// A whole frame: header and payload.
std::string encodeFrame(Opcode opcode, std::string_view payload);

/// The payload of a close frame: the code, then as much of `reason` as fits in a control frame
/// (123 bytes) without splitting a UTF-8 character.
std::string closePayload(std::uint16_t code, std::string_view reason);

/// What the reader found at the front of its input.
struct FrameEvent {
  enum class Kind {
    NeedMore,  // no complete frame yet: keep the bytes and read more
    Fragment,  // a frame that completes nothing (a non-final fragment): keep going
    Message,   // payload and binary are set
    Ping,      // payload is set
    Pong,
    Close,    // code and payload (the reason) are set; code 1005 when the frame had none
    Failure,  // code and reason say why; the connection must be closed with that code
  };
  Kind kind = Kind::NeedMore;
  std::size_t consumed = 0;  // bytes of input this event used
  bool binary = false;
  std::uint16_t code = 0;
  std::string_view payload;  // valid until the next call or until the input changes
  const char* reason = "";
};

/// Reads client frames one at a time from a caller-owned buffer, unmasking in place. Fragmented
/// messages are assembled here; a message in a single frame is returned in place, uncopied.
/// Each fragment of a text message is validated as it arrives: invalid UTF-8 fails the fragment
/// that carries it, before the message completes.
class FrameReader {
 public:
  explicit FrameReader(std::size_t maxMessageSize) : maxMessageSize_(maxMessageSize) {}

  FrameEvent next(char* data, std::size_t size);

  /// Bytes of a fragmented message held between frames.
  std::size_t assembling() const noexcept { return message_.size(); }

 private:
  std::size_t maxMessageSize_;
  std::string message_;  // fragments so far
  bool inMessage_ = false;
  bool messageBinary_ = false;
  Utf8Validator utf8_;  // over a fragmented text message's fragments so far
};

}  // namespace wampd::core::ws
