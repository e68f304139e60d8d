#include "transport/frame_codec.h"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace ws = wampd::core::ws;
using Kind = ws::FrameEvent::Kind;
using ws::FrameEvent;
using ws::FrameReader;

namespace doctest {
template <>
struct StringMaker<Kind> {
  static String convert(Kind kind) {
    switch (kind) {
      case Kind::NeedMore:
        return "NeedMore";
      case Kind::Fragment:
        return "Fragment";
      case Kind::Message:
        return "Message";
      case Kind::Ping:
        return "Ping";
      case Kind::Pong:
        return "Pong";
      case Kind::Close:
        return "Close";
      case Kind::Failure:
        return "Failure";
    }
    return "?";
  }
};
}  // namespace doctest

namespace {

// First bytes: FIN plus an opcode.
constexpr int kFin = 0x80;
constexpr int kText = 0x1, kBinary = 0x2, kCont = 0x0, kClose = 0x8, kPing = 0x9, kPong = 0xA;

// How a client frame's length is written: the shortest form, or forced to a longer one (only
// valid encodings use the shortest).
enum class Length { Shortest, Sixteen, SixtyFour };

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// A client frame: `first` is the whole first byte (FIN, RSV, opcode); the payload is masked with
// `key` unless `masked` is false.
std::string clientFrame(int first, std::string_view payload, Length form = Length::Shortest,
                        bool masked = true,
                        std::array<unsigned char, 4> key = {0x37, 0xFA, 0x21, 0x3D}) {
  std::string out;
  out.push_back(static_cast<char>(first));
  const int maskBit = masked ? 0x80 : 0;
  const std::uint64_t n = payload.size();
  if (form == Length::Shortest && n < 126) {
    out.push_back(static_cast<char>(maskBit | static_cast<int>(n)));
  } else if (form != Length::SixtyFour && n <= 0xFFFF) {
    out.push_back(static_cast<char>(maskBit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(maskBit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  }
  if (masked) out.append(reinterpret_cast<const char*>(key.data()), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(payload[i] ^ (masked ? key[i % 4] : 0)));
  return out;
}

// Only a frame header announcing `length` bytes (with the mask bit), nothing after it.
std::string headerOnly(int first, std::uint64_t length, Length form) {
  std::string out;
  out.push_back(static_cast<char>(first));
  if (form == Length::Shortest) {
    out.push_back(static_cast<char>(0x80 | length));
  } else if (form == Length::Sixteen) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(length >> shift));
  }
  return out;
}

FrameEvent next(FrameReader& reader, std::string& buffer) {
  return reader.next(buffer.data(), buffer.size());
}

// A payload whose bytes all differ from their neighbours, so an unmasking error shows.
std::string pattern(std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + (i * 7) % 26);
  return out;
}

void checkFailure(FrameReader& reader, std::string frame, std::uint16_t code) {
  const FrameEvent e = next(reader, frame);
  CHECK(e.kind == Kind::Failure);
  CHECK(e.code == code);
  CHECK(std::string_view(e.reason).size() > 0);
}

void checkFailure(std::string frame, std::uint16_t code, std::size_t maxMessageSize = 1 << 20) {
  FrameReader reader(maxMessageSize);
  checkFailure(reader, std::move(frame), code);
}

}  // namespace

TEST_CASE("the test's frame builder matches RFC 6455's example") {
  // Section 5.7: a single-frame masked text message containing "Hello".
  CHECK(clientFrame(kFin | kText, "Hello") ==
        bytes({0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58}));
}

TEST_CASE("single-frame messages are returned unmasked") {
  FrameReader reader(1 << 20);
  SUBCASE("text") {
    std::string frame = clientFrame(kFin | kText, "Hello");
    const FrameEvent e = next(reader, frame);
    CHECK(e.kind == Kind::Message);
    CHECK_FALSE(e.binary);
    CHECK(e.consumed == 11);
    CHECK(e.payload == "Hello");
  }
  SUBCASE("binary, with bytes that are not UTF-8") {
    const std::string payload = bytes({0x00, 0xFF, 0xC0, 0x80, 0xED, 0xA0, 0x80, 0x01});
    std::string frame = clientFrame(kFin | kBinary, payload);
    const FrameEvent e = next(reader, frame);
    CHECK(e.kind == Kind::Message);
    CHECK(e.binary);
    CHECK(e.consumed == 6 + payload.size());
    CHECK(e.payload == payload);
  }
  SUBCASE("empty") {
    std::string frame = clientFrame(kFin | kText, "");
    const FrameEvent e = next(reader, frame);
    CHECK(e.kind == Kind::Message);
    CHECK(e.consumed == 6);
    CHECK(e.payload.empty());
  }
  SUBCASE("every length around the eight-byte unmasking step") {
    for (std::size_t n = 0; n <= 40; ++n) {
      CAPTURE(n);
      const std::string payload = pattern(n);
      std::string frame =
          clientFrame(kFin | kBinary, payload, Length::Shortest, true, {0x01, 0x80, 0xFE, 0x7F});
      const FrameEvent e = next(reader, frame);
      CHECK(e.kind == Kind::Message);
      CHECK(e.payload == payload);
    }
  }
  SUBCASE("the payload is a view into the caller's buffer") {
    std::string frame = clientFrame(kFin | kText, "in place");
    const FrameEvent e = next(reader, frame);
    CHECK(e.payload.data() == frame.data() + 6);
  }
}

TEST_CASE("16-bit and 64-bit lengths") {
  FrameReader reader(1 << 20);
  for (std::size_t n : {126u, 127u, 1000u, 65535u}) {
    CAPTURE(n);
    const std::string payload = pattern(n);
    std::string frame = clientFrame(kFin | kText, payload);
    REQUIRE(frame.size() == 8 + n);
    CHECK(static_cast<unsigned char>(frame[1]) == (0x80 | 126));
    const FrameEvent e = next(reader, frame);
    CHECK(e.kind == Kind::Message);
    CHECK(e.consumed == 8 + n);
    CHECK(e.payload == payload);
  }
  for (std::size_t n : {65536u, 70001u}) {
    CAPTURE(n);
    const std::string payload = pattern(n);
    std::string frame = clientFrame(kFin | kBinary, payload);
    REQUIRE(frame.size() == 14 + n);
    CHECK(static_cast<unsigned char>(frame[1]) == (0x80 | 127));
    const FrameEvent e = next(reader, frame);
    CHECK(e.kind == Kind::Message);
    CHECK(e.binary);
    CHECK(e.consumed == 14 + n);
    CHECK(e.payload == payload);
  }
}

TEST_CASE("every truncated prefix of a frame needs more") {
  // 7-bit (header, mask, payload), 16-bit (partial extended length) and 64-bit lengths.
  for (std::size_t n : {0u, 5u, 125u, 126u, 300u, 65536u}) {
    CAPTURE(n);
    const std::string payload = pattern(n);
    std::string frame = clientFrame(kFin | kText, payload);
    const std::string original = frame;
    FrameReader reader(1 << 20);
    for (std::size_t prefix = 0; prefix < frame.size(); ++prefix) {
      const FrameEvent e = reader.next(frame.data(), prefix);
      if (e.kind != Kind::NeedMore || e.consumed != 0) {
        CAPTURE(prefix);
        FAIL("a truncated frame did not give NeedMore");
      }
    }
    // Nothing was unmasked or kept while waiting.
    CHECK(frame == original);
    CHECK(reader.assembling() == 0);
    const FrameEvent e = next(reader, frame);
    CHECK(e.kind == Kind::Message);
    CHECK(e.consumed == frame.size());
    CHECK(e.payload == payload);
  }
}

TEST_CASE("truncated control frames and fragments need more") {
  {
    FrameReader reader(1 << 20);
    std::string ping = clientFrame(kFin | kPing, "are you there");
    for (std::size_t prefix = 0; prefix < ping.size(); ++prefix) {
      CAPTURE(prefix);
      CHECK(reader.next(ping.data(), prefix).kind == Kind::NeedMore);
    }
    std::string close = clientFrame(kFin | kClose, bytes({0x03, 0xE8}) + "bye");
    for (std::size_t prefix = 0; prefix < close.size(); ++prefix) {
      CAPTURE(prefix);
      CHECK(reader.next(close.data(), prefix).kind == Kind::NeedMore);
    }
    std::string fragment = clientFrame(kText, "part");
    for (std::size_t prefix = 0; prefix < fragment.size(); ++prefix) {
      CAPTURE(prefix);
      CHECK(reader.next(fragment.data(), prefix).kind == Kind::NeedMore);
    }
  }
}

TEST_CASE("several frames in one buffer") {
  std::string buffer = clientFrame(kFin | kText, "abc") + clientFrame(kFin | kPing, "p") +
                       clientFrame(kFin | kBinary, pattern(200)) + clientFrame(kFin | kPong, "q") +
                       clientFrame(kFin | kText, "xy").substr(0, 4);
  FrameReader reader(1 << 20);
  std::size_t at = 0;
  auto read = [&] {
    const FrameEvent e = reader.next(buffer.data() + at, buffer.size() - at);
    at += e.consumed;
    return e;
  };
  FrameEvent e = read();
  CHECK(e.kind == Kind::Message);
  CHECK(e.consumed == 9);
  CHECK(e.payload == "abc");
  e = read();
  CHECK(e.kind == Kind::Ping);
  CHECK(e.consumed == 7);
  CHECK(e.payload == "p");
  e = read();
  CHECK(e.kind == Kind::Message);
  CHECK(e.binary);
  CHECK(e.consumed == 208);
  CHECK(e.payload == pattern(200));
  e = read();
  CHECK(e.kind == Kind::Pong);
  CHECK(e.consumed == 7);
  // The trailing partial frame.
  e = read();
  CHECK(e.kind == Kind::NeedMore);
  CHECK(e.consumed == 0);
  CHECK(at == buffer.size() - 4);
}

TEST_CASE("fragmented messages are assembled") {
  FrameReader reader(1 << 20);
  SUBCASE("text with a ping between fragments") {
    std::string f1 = clientFrame(kText, "Hel");
    FrameEvent e = next(reader, f1);
    CHECK(e.kind == Kind::Fragment);
    CHECK(e.consumed == f1.size());
    CHECK(reader.assembling() == 3);

    std::string f2 = clientFrame(kCont, "lo, ", Length::Shortest, true, {0xAA, 0x55, 0x00, 0xFF});
    e = next(reader, f2);
    CHECK(e.kind == Kind::Fragment);
    CHECK(e.consumed == f2.size());
    CHECK(reader.assembling() == 7);

    std::string ping = clientFrame(kFin | kPing, "ping!");
    e = next(reader, ping);
    CHECK(e.kind == Kind::Ping);
    CHECK(e.payload == "ping!");
    CHECK(reader.assembling() == 7);

    std::string f3 = clientFrame(kFin | kCont, "world");
    e = next(reader, f3);
    CHECK(e.kind == Kind::Message);
    CHECK_FALSE(e.binary);
    CHECK(e.consumed == f3.size());
    CHECK(e.payload == "Hello, world");

    // The reader is back to single frames.
    std::string after = clientFrame(kFin | kText, "next");
    e = next(reader, after);
    CHECK(e.kind == Kind::Message);
    CHECK(e.payload == "next");
    CHECK(reader.assembling() == 0);
  }
  SUBCASE("binary keeps the first frame's type; empty fragments count") {
    std::string f1 = clientFrame(kBinary, bytes({0xFF}));
    std::string f2 = clientFrame(kCont, "");
    std::string f3 = clientFrame(kFin | kCont, bytes({0xC0}));
    CHECK(next(reader, f1).kind == Kind::Fragment);
    CHECK(next(reader, f2).kind == Kind::Fragment);
    const FrameEvent e = next(reader, f3);
    CHECK(e.kind == Kind::Message);
    CHECK(e.binary);
    CHECK(e.payload == bytes({0xFF, 0xC0}));
  }
  SUBCASE("a character split across fragments") {
    std::string f1 = clientFrame(kText, "a" + bytes({0xF0, 0x9F}));
    std::string f2 = clientFrame(kCont, bytes({0x98}));
    std::string f3 = clientFrame(kFin | kCont, bytes({0x80}) + "z");
    CHECK(next(reader, f1).kind == Kind::Fragment);
    CHECK(next(reader, f2).kind == Kind::Fragment);
    const FrameEvent e = next(reader, f3);
    CHECK(e.kind == Kind::Message);
    CHECK(e.payload == "a" + bytes({0xF0, 0x9F, 0x98, 0x80}) + "z");
  }
  SUBCASE("fragments arriving in one buffer") {
    std::string buffer = clientFrame(kText, "one ") + clientFrame(kFin | kPong, "") +
                         clientFrame(kFin | kCont, "two");
    std::size_t at = 0;
    FrameEvent e = reader.next(buffer.data(), buffer.size());
    CHECK(e.kind == Kind::Fragment);
    at += e.consumed;
    e = reader.next(buffer.data() + at, buffer.size() - at);
    CHECK(e.kind == Kind::Pong);
    at += e.consumed;
    e = reader.next(buffer.data() + at, buffer.size() - at);
    CHECK(e.kind == Kind::Message);
    CHECK(e.payload == "one two");
    CHECK(at + e.consumed == buffer.size());
  }
}

TEST_CASE("protocol errors are 1002") {
  SUBCASE("an unmasked frame") {
    checkFailure(clientFrame(kFin | kText, "Hello", Length::Shortest, false), 1002);
    checkFailure(clientFrame(kFin | kPing, "", Length::Shortest, false), 1002);
  }
  SUBCASE("an RSV bit") {
    for (int rsv : {0x40, 0x20, 0x10, 0x70}) {
      CAPTURE(rsv);
      checkFailure(clientFrame(kFin | rsv | kText, "x"), 1002);
      checkFailure(clientFrame(kFin | rsv | kPing, ""), 1002);
    }
  }
  SUBCASE("an unknown opcode") {
    for (int opcode : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
      CAPTURE(opcode);
      checkFailure(clientFrame(kFin | opcode, "x"), 1002);
    }
  }
  SUBCASE("a continuation without a start") {
    checkFailure(clientFrame(kFin | kCont, "x"), 1002);
    checkFailure(clientFrame(kCont, "x"), 1002);
    // Nor after a message that was completed.
    FrameReader reader(1 << 20);
    std::string f1 = clientFrame(kText, "a");
    std::string f2 = clientFrame(kFin | kCont, "b");
    CHECK(next(reader, f1).kind == Kind::Fragment);
    CHECK(next(reader, f2).kind == Kind::Message);
    checkFailure(reader, clientFrame(kFin | kCont, "c"), 1002);
  }
  SUBCASE("a new message inside a fragmented one") {
    for (int first : {kFin | kText, kText, kFin | kBinary, kBinary}) {
      CAPTURE(first);
      FrameReader reader(1 << 20);
      std::string f1 = clientFrame(kText, "a");
      CHECK(next(reader, f1).kind == Kind::Fragment);
      checkFailure(reader, clientFrame(first, "b"), 1002);
    }
  }
  SUBCASE("a fragmented control frame") {
    checkFailure(clientFrame(kPing, "x"), 1002);
    checkFailure(clientFrame(kPong, "x"), 1002);
    checkFailure(clientFrame(kClose, bytes({0x03, 0xE8})), 1002);
  }
  SUBCASE("a control frame over 125 bytes") {
    checkFailure(clientFrame(kFin | kPing, pattern(126)), 1002);
    checkFailure(clientFrame(kFin | kPong, pattern(1000)), 1002);
    checkFailure(clientFrame(kFin | kClose, bytes({0x03, 0xE8}) + pattern(124)), 1002);
    // Refused from the header alone.
    checkFailure(headerOnly(kFin | kPing, 126, Length::Sixteen), 1002);
    // 125 is allowed.
    FrameReader reader(1 << 20);
    std::string ping = clientFrame(kFin | kPing, pattern(125));
    const FrameEvent e = next(reader, ping);
    CHECK(e.kind == Kind::Ping);
    CHECK(e.payload == pattern(125));
  }
  SUBCASE("lengths not minimally encoded") {
    checkFailure(clientFrame(kFin | kText, "", Length::Sixteen), 1002);
    checkFailure(clientFrame(kFin | kText, pattern(125), Length::Sixteen), 1002);
    checkFailure(clientFrame(kFin | kText, pattern(1), Length::SixtyFour), 1002);
    checkFailure(clientFrame(kFin | kText, pattern(125), Length::SixtyFour), 1002);
    checkFailure(clientFrame(kFin | kBinary, pattern(65535), Length::SixtyFour), 1002);
    // The header alone decides.
    checkFailure(headerOnly(kFin | kText, 100, Length::Sixteen), 1002);
    checkFailure(headerOnly(kFin | kText, 65535, Length::SixtyFour), 1002);
  }
  SUBCASE("a 64-bit length with the top bit set") {
    checkFailure(headerOnly(kFin | kBinary, 0x8000000000000000ULL, Length::SixtyFour), 1002);
    checkFailure(headerOnly(kFin | kBinary, ~0ULL, Length::SixtyFour), 1002);
  }
}

TEST_CASE("messages over maxMessageSize are 1009") {
  SUBCASE("from the header alone") {
    // Each buffer holds only the header: no mask, no payload.
    checkFailure(headerOnly(kFin | kText, 101, Length::Shortest), 1009, 100);
    checkFailure(headerOnly(kFin | kBinary, 1001, Length::Sixteen), 1009, 1000);
    checkFailure(headerOnly(kFin | kBinary, 1ULL << 40, Length::SixtyFour), 1009, 1000);
    checkFailure(headerOnly(kText, 70000, Length::SixtyFour), 1009, 65536);
  }
  SUBCASE("exactly the limit is allowed") {
    FrameReader reader(1000);
    std::string frame = clientFrame(kFin | kText, pattern(1000));
    const FrameEvent e = next(reader, frame);
    CHECK(e.kind == Kind::Message);
    CHECK(e.payload.size() == 1000);
  }
  SUBCASE("a fragmented message whose total goes over") {
    FrameReader reader(10);
    std::string f1 = clientFrame(kText, "123456");
    CHECK(next(reader, f1).kind == Kind::Fragment);
    std::string f2 = clientFrame(kCont, "7890");
    CHECK(next(reader, f2).kind == Kind::Fragment);
    CHECK(reader.assembling() == 10);
    checkFailure(reader, headerOnly(kFin | kCont, 1, Length::Shortest), 1009);
  }
  SUBCASE("a fragmented message reaching exactly the limit") {
    FrameReader reader(10);
    std::string f1 = clientFrame(kBinary, "123456");
    std::string f2 = clientFrame(kFin | kCont, "7890");
    CHECK(next(reader, f1).kind == Kind::Fragment);
    const FrameEvent e = next(reader, f2);
    CHECK(e.kind == Kind::Message);
    CHECK(e.payload == "1234567890");
  }
  SUBCASE("control frames do not count toward the limit") {
    FrameReader reader(4);
    std::string ping = clientFrame(kFin | kPing, "longer than four");
    CHECK(next(reader, ping).kind == Kind::Ping);
  }
}

TEST_CASE("text that is not UTF-8 is 1007") {
  SUBCASE("in a single frame") {
    checkFailure(clientFrame(kFin | kText, bytes({0xC0, 0x80})), 1007);
    checkFailure(clientFrame(kFin | kText, "abc" + bytes({0xED, 0xA0, 0x80})), 1007);
    checkFailure(clientFrame(kFin | kText, pattern(300) + bytes({0xFF})), 1007);
    checkFailure(clientFrame(kFin | kText, "ends in half a char" + bytes({0xE2, 0x82})), 1007);
  }
  SUBCASE("split across fragments") {
    FrameReader reader(1 << 20);
    std::string f1 = clientFrame(kText, "ok" + bytes({0xE2}));
    CHECK(next(reader, f1).kind == Kind::Fragment);
    std::string f2 = clientFrame(kCont, bytes({0x82}));
    CHECK(next(reader, f2).kind == Kind::Fragment);
    // The third byte should be a continuation byte.
    checkFailure(reader, clientFrame(kFin | kCont, "z"), 1007);
  }
  SUBCASE("truncated at the end of the last fragment") {
    FrameReader reader(1 << 20);
    std::string f1 = clientFrame(kText, "fine");
    CHECK(next(reader, f1).kind == Kind::Fragment);
    checkFailure(reader, clientFrame(kFin | kCont, bytes({0xF0, 0x9F, 0x98})), 1007);
  }
  SUBCASE("in the first fragment of an unfinished message: refused at once") {
    FrameReader reader(1 << 20);
    checkFailure(reader, clientFrame(kText, "ok" + bytes({0xFF})), 1007);
  }
  SUBCASE("in a middle fragment: refused before the final one") {
    FrameReader reader(1 << 20);
    std::string f1 = clientFrame(kText, pattern(200));
    CHECK(next(reader, f1).kind == Kind::Fragment);
    std::string f2 = clientFrame(kCont, "more" + bytes({0xE2, 0x82}));
    CHECK(next(reader, f2).kind == Kind::Fragment);
    // 0xC3 cannot continue the character f2 began; the final fragment is never needed.
    checkFailure(reader, clientFrame(kCont, bytes({0xC3}) + "rest"), 1007);
  }
  SUBCASE("overlong, surrogate and out-of-range forms are refused at the fragment of the byte") {
    // The lead byte arrives alone and is fine; the next fragment shows what it starts.
    for (const std::string& bad :
         {bytes({0xE0, 0x80}), bytes({0xED, 0xA0}), bytes({0xF4, 0x90}), bytes({0xF0, 0x8F})}) {
      FrameReader reader(1 << 20);
      std::string f1 = clientFrame(kText, "x" + bad.substr(0, 1));
      CHECK(next(reader, f1).kind == Kind::Fragment);
      checkFailure(reader, clientFrame(kCont, bad.substr(1)), 1007);
    }
  }
  SUBCASE("a character split at every point across fragments is accepted") {
    const std::string text = "caf" + bytes({0xC3, 0xA9}) + " " + bytes({0xF0, 0x9F, 0x98, 0x80});
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      CAPTURE(cut);
      FrameReader reader(1 << 20);
      std::string f1 = clientFrame(kText, text.substr(0, cut));
      CHECK(next(reader, f1).kind == Kind::Fragment);
      std::string f2 = clientFrame(kFin | kCont, text.substr(cut));
      const FrameEvent e = next(reader, f2);
      REQUIRE(e.kind == Kind::Message);
      CHECK(e.payload == text);
    }
  }
  SUBCASE("the next message is validated afresh after a fragmented one") {
    FrameReader reader(1 << 20);
    std::string f1 = clientFrame(kText, bytes({0xE2, 0x82}));
    CHECK(next(reader, f1).kind == Kind::Fragment);
    std::string f2 = clientFrame(kFin | kCont, bytes({0xAC}));
    CHECK(next(reader, f2).kind == Kind::Message);
    std::string f3 = clientFrame(kText, "fresh");
    CHECK(next(reader, f3).kind == Kind::Fragment);
    std::string f4 = clientFrame(kFin | kCont, "!");
    const FrameEvent e = next(reader, f4);
    CHECK(e.kind == Kind::Message);
    CHECK(e.payload == "fresh!");
  }
  SUBCASE("binary is not checked") {
    FrameReader reader(1 << 20);
    std::string f1 = clientFrame(kBinary, bytes({0xE2}));
    std::string f2 = clientFrame(kFin | kCont, "z");
    CHECK(next(reader, f1).kind == Kind::Fragment);
    const FrameEvent e = next(reader, f2);
    CHECK(e.kind == Kind::Message);
    CHECK(e.binary);
  }
}

TEST_CASE("close frames") {
  FrameReader reader(1 << 20);
  SUBCASE("empty: no status, code 1005") {
    std::string frame = clientFrame(kFin | kClose, "");
    const FrameEvent e = next(reader, frame);
    CHECK(e.kind == Kind::Close);
    CHECK(e.code == 1005);
    CHECK(e.payload.empty());
    CHECK(e.consumed == 6);
  }
  SUBCASE("a 1-byte payload") {
    checkFailure(clientFrame(kFin | kClose, bytes({0x03})), 1002);
    // Even when the byte after the frame would complete a valid code.
    checkFailure(clientFrame(kFin | kClose, bytes({0x03})) + bytes({0xE8, 0x81, 0x80}), 1002);
  }
  SUBCASE("codes an endpoint may not send") {
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
      CAPTURE(code);
      checkFailure(clientFrame(kFin | kClose, bytes({code >> 8, code & 0xFF})), 1002);
      checkFailure(clientFrame(kFin | kClose, bytes({code >> 8, code & 0xFF}) + "why"), 1002);
    }
  }
  SUBCASE("valid codes, with and without a reason") {
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4000, 4999}) {
      CAPTURE(code);
      std::string bare = clientFrame(kFin | kClose, bytes({code >> 8, code & 0xFF}));
      FrameEvent e = next(reader, bare);
      CHECK(e.kind == Kind::Close);
      CHECK(e.code == code);
      CHECK(e.payload.empty());
      CHECK(e.consumed == 8);

      const std::string reason = "going away " + bytes({0xE2, 0x82, 0xAC});
      std::string withReason = clientFrame(kFin | kClose, bytes({code >> 8, code & 0xFF}) + reason);
      e = next(reader, withReason);
      CHECK(e.kind == Kind::Close);
      CHECK(e.code == code);
      CHECK(e.payload == reason);
    }
  }
  SUBCASE("the longest reason") {
    std::string frame = clientFrame(kFin | kClose, bytes({0x03, 0xE8}) + pattern(123));
    const FrameEvent e = next(reader, frame);
    CHECK(e.kind == Kind::Close);
    CHECK(e.payload == pattern(123));
  }
  SUBCASE("a reason that is not UTF-8") {
    checkFailure(clientFrame(kFin | kClose, bytes({0x03, 0xE8, 0xC0, 0x80})), 1007);
    checkFailure(clientFrame(kFin | kClose, bytes({0x0F, 0xA0}) + "bye" + bytes({0xE2})), 1007);
  }
  SUBCASE("between fragments") {
    std::string f1 = clientFrame(kText, "half");
    CHECK(next(reader, f1).kind == Kind::Fragment);
    std::string close = clientFrame(kFin | kClose, bytes({0x03, 0xE9}));
    const FrameEvent e = next(reader, close);
    CHECK(e.kind == Kind::Close);
    CHECK(e.code == 1001);
  }
}

TEST_CASE("appendFrameHeader writes the shortest length form") {
  auto header = [](ws::Opcode opcode, std::size_t length) {
    std::string out = "pre";
    ws::appendFrameHeader(out, opcode, length);
    REQUIRE(out.substr(0, 3) == "pre");
    return out.substr(3);
  };
  CHECK(header(ws::Opcode::Text, 0) == bytes({0x81, 0x00}));
  CHECK(header(ws::Opcode::Text, 125) == bytes({0x81, 0x7D}));
  CHECK(header(ws::Opcode::Text, 126) == bytes({0x81, 0x7E, 0x00, 0x7E}));
  CHECK(header(ws::Opcode::Binary, 65535) == bytes({0x82, 0x7E, 0xFF, 0xFF}));
  CHECK(header(ws::Opcode::Binary, 65536) ==
        bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));
  CHECK(header(ws::Opcode::Binary, 0x0102030405ULL) ==
        bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05}));
  CHECK(header(ws::Opcode::Close, 2) == bytes({0x88, 0x02}));
  CHECK(header(ws::Opcode::Ping, 1) == bytes({0x89, 0x01}));
  CHECK(header(ws::Opcode::Pong, 0) == bytes({0x8A, 0x00}));
}

TEST_CASE("encodeFrame") {
  CHECK(ws::encodeFrame(ws::Opcode::Text, "Hello") == bytes({0x81, 0x05}) + "Hello");
  const std::string big = pattern(300);
  CHECK(ws::encodeFrame(ws::Opcode::Binary, big) == bytes({0x82, 0x7E, 0x01, 0x2C}) + big);
}

TEST_CASE("closePayload") {
  CHECK(ws::closePayload(1000, "") == bytes({0x03, 0xE8}));
  CHECK(ws::closePayload(1001, "bye") == bytes({0x03, 0xE9}) + "bye");
  CHECK(ws::closePayload(4999, "") == bytes({0x13, 0x87}));
  SUBCASE("the reason is cut to 123 bytes") {
    CHECK(ws::closePayload(1000, pattern(123)) == bytes({0x03, 0xE8}) + pattern(123));
    CHECK(ws::closePayload(1000, pattern(124)) == bytes({0x03, 0xE8}) + pattern(123));
    CHECK(ws::closePayload(1011, pattern(5000)) == bytes({0x03, 0xF3}) + pattern(123));
  }
  SUBCASE("without splitting a character") {
    const std::string euro = bytes({0xE2, 0x82, 0xAC});
    // A character ending exactly at 123 bytes stays.
    CHECK(ws::closePayload(1000, std::string(120, 'a') + euro + "b") ==
          bytes({0x03, 0xE8}) + std::string(120, 'a') + euro);
    // One the limit cuts is dropped whole, whichever byte it cuts at.
    for (std::size_t before : {121u, 122u}) {
      CAPTURE(before);
      CHECK(ws::closePayload(1000, std::string(before, 'a') + euro) ==
            bytes({0x03, 0xE8}) + std::string(before, 'a'));
    }
    const std::string emoji = bytes({0xF0, 0x9F, 0x98, 0x80});
    std::string many;
    for (int i = 0; i < 40; ++i) many += emoji;
    const std::string payload = ws::closePayload(1000, many);
    CHECK(payload.size() == 2 + 120);
    CHECK(payload.substr(2) == many.substr(0, 120));
  }
  SUBCASE("what it writes, the reader accepts") {
    const std::string reason = std::string(121, 'a') + bytes({0xC3, 0xA9, 0xC3, 0xA9});
    const std::string payload = ws::closePayload(3001, reason);
    FrameReader reader(1 << 20);
    std::string frame = clientFrame(kFin | kClose, payload);
    const FrameEvent e = next(reader, frame);
    CHECK(e.kind == Kind::Close);
    CHECK(e.code == 3001);
    CHECK(e.payload == std::string(121, 'a') + bytes({0xC3, 0xA9}));
  }
}
