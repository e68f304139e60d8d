// The WebSocket frame reader (core/transport/frame_codec) over arbitrary client bytes.
//
// Input: byte 0 picks the message size limit, byte 1 seeds how the stream is cut into reads,
// the rest is the stream. The stream is read twice, whole and in those reads (the way a
// connection's buffer fills), and both must give the same events: how TCP splits the bytes
// must not change what a client's frames mean. Checked on every event: it consumes no more
// than it was given, a message respects the limit, text messages and close reasons are UTF-8,
// close codes are sendable, and a fragmented text message fails at the fragment with the bad
// byte (fail fast), judged by validPrefix() below, not by the reader's own validator.
#include <cstring>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/utf8.h"
#include "fuzz_check.h"
#include "transport/frame_codec.h"

namespace {

using wampd::core::isValidUtf8;
using wampd::core::ws::FrameEvent;
using wampd::core::ws::FrameReader;

struct Seen {
  FrameEvent::Kind kind;
  bool binary;
  std::uint16_t code;
  std::string payload;
  bool operator==(const Seen& o) const {
    return kind == o.kind && binary == o.binary && code == o.code && payload == o.payload;
  }
};

constexpr std::size_t kLimits[] = {0, 1, 125, 126, 1000, 65536};

// True when some ending makes `text` valid UTF-8: at most three more continuation bytes,
// tried from each range a lead byte may require (80..8F, 90..9F, A0..BF). Independent of
// Utf8Validator, the streaming validator under test.
bool validPrefix(std::string& text) {
  if (isValidUtf8(text)) return true;
  static const char kTails[] = {'\x80', '\x90', '\xA0'};
  for (char a : kTails) {
    text.push_back(a);
    bool ok = isValidUtf8(text);
    for (char b : kTails) {
      if (ok) break;
      text.push_back(b);
      ok = isValidUtf8(text);
      for (char c : kTails) {
        if (ok) break;
        text.push_back(c);
        ok = isValidUtf8(text);
        text.pop_back();
      }
      text.pop_back();
    }
    text.pop_back();
    if (ok) return true;
  }
  return false;
}

// The unmasked payload of the frame at the front of `frame` (the reader unmasks in place; the
// header has been validated by then).
std::string_view payloadOf(const std::string& frame) {
  std::uint64_t length = static_cast<unsigned char>(frame[1]) & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    length = (static_cast<unsigned>(static_cast<unsigned char>(frame[2])) << 8) |
             static_cast<unsigned char>(frame[3]);
    header = 4;
  } else if (length == 127) {
    length = 0;
    for (int i = 2; i < 10; ++i) length = (length << 8) | static_cast<unsigned char>(frame[i]);
    header = 10;
  }
  return std::string_view(frame).substr(header + 4, static_cast<std::size_t>(length));
}

// Reads `stream` arriving in pieces of `cuts` sizes (cycled; 0 = everything left), as a
// connection does: bytes accumulate until a frame is whole, consumed bytes leave the front.
std::vector<Seen> readAll(const std::string& stream, std::size_t limit,
                          const std::vector<std::size_t>& cuts) {
  FrameReader reader(limit);
  std::vector<Seen> seen;
  std::string buffer;
  std::size_t offset = 0;
  std::size_t cut = 0;
  bool inText = false;    // inside a fragmented text message
  std::string textSoFar;  // its fragments so far
  while (offset < stream.size()) {
    std::size_t piece = cuts.empty() ? 0 : cuts[cut++ % cuts.size()];
    if (piece == 0 || piece > stream.size() - offset) piece = stream.size() - offset;
    buffer.append(stream, offset, piece);
    offset += piece;
    for (;;) {
      const FrameEvent e = reader.next(buffer.data(), buffer.size());
      if (e.kind == FrameEvent::Kind::NeedMore) {
        FUZZ_CHECK(e.consumed == 0);
        break;
      }
      Seen s{e.kind, e.binary, e.code, std::string(e.payload)};
      if (e.kind == FrameEvent::Kind::Failure) {
        FUZZ_CHECK(e.code == 1002 || e.code == 1007 || e.code == 1009);
        FUZZ_CHECK(e.reason != nullptr && *e.reason != '\0');
        s.payload = e.reason;
        const unsigned opcode = static_cast<unsigned char>(buffer[0]) & 0x0F;
        if (e.code == 1007 && (opcode == 1 || (opcode == 0 && inText))) {
          // Fail fast: the fragments before were a valid start (checked when they came);
          // the text with this frame is not.
          std::string withThis =
              (opcode == 0 ? textSoFar : std::string()) + std::string(payloadOf(buffer));
          const bool fin = static_cast<unsigned char>(buffer[0]) & 0x80;
          FUZZ_CHECK(fin ? !isValidUtf8(withThis) : !validPrefix(withThis));
        }
        seen.push_back(std::move(s));
        return seen;  // the connection closes
      }
      FUZZ_CHECK(e.consumed > 0 && e.consumed <= buffer.size());
      if (e.kind == FrameEvent::Kind::Message) {
        FUZZ_CHECK(e.payload.size() <= limit);
        FUZZ_CHECK(e.binary || isValidUtf8(e.payload));
      }
      if (e.kind == FrameEvent::Kind::Ping) FUZZ_CHECK(e.payload.size() <= 125);
      if (e.kind == FrameEvent::Kind::Close) {
        FUZZ_CHECK(e.code == 1005 || (e.code >= 1000 && e.code < 5000));
        FUZZ_CHECK(isValidUtf8(e.payload));
        FUZZ_CHECK(e.payload.size() <= 123);
      }
      FUZZ_CHECK(reader.assembling() <= limit);
      if (e.kind == FrameEvent::Kind::Fragment) {
        const unsigned opcode = static_cast<unsigned char>(buffer[0]) & 0x0F;
        if (opcode != 0) {
          inText = opcode == 1;
          textSoFar.clear();
        }
        if (inText) {
          textSoFar.append(payloadOf(buffer));
          // A fragment that makes the text invalid must have failed.
          FUZZ_CHECK(validPrefix(textSoFar));
        }
      } else if (e.kind == FrameEvent::Kind::Message) {
        inText = false;
      }
      buffer.erase(0, e.consumed);
      seen.push_back(std::move(s));
      if (e.kind == FrameEvent::Kind::Close) return seen;
    }
  }
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t limit = kLimits[data[0] % (sizeof kLimits / sizeof kLimits[0])];
  // Piece sizes 1..16 from a small generator seeded by byte 1: short reads split headers,
  // masks, lengths and multi-byte characters at every position.
  std::vector<std::size_t> cuts;
  std::uint32_t state = data[1] * 2654435761u + 1;
  for (int i = 0; i < 7; ++i) {
    state = state * 1103515245u + 12345u;
    cuts.push_back(1 + (state >> 16) % 16);
  }
  const std::string stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  const std::vector<Seen> whole = readAll(stream, limit, {});
  const std::vector<Seen> pieces = readAll(stream, limit, cuts);
  FUZZ_CHECK(whole == pieces);
  return 0;
}
