#include "wamp_dialect.h"

#include <cstring>

namespace wampd::bench {
namespace {

constexpr std::size_t kSeqDigits = 12;

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::memcmp(s.data(), prefix.data(), prefix.size()) == 0;
}

std::string quoted(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q.push_back('"');
  q.append(s);
  q.push_back('"');
  return q;
}

void writeDigits(char* at, std::uint64_t value) {
  for (std::size_t i = kSeqDigits; i-- > 0;) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

bool readInteger(std::string_view s, std::size_t pos, std::uint64_t& value) {
  value = 0;
  std::size_t digits = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    value = value * 10 + static_cast<std::uint64_t>(s[pos++] - '0');
    ++digits;
  }
  return digits > 0;
}

}  // namespace

const char* subprotocolOf(Wamp wamp) {
  return wamp == Wamp::V1 ? "wamp" : "wamp.2.json";
}
const char* nameOf(Wamp wamp) {
  return wamp == Wamp::V1 ? "v1" : "v2";
}

std::string helloMessage(std::string_view realm) {
  return "[1," + quoted(realm) + ",{\"roles\":{\"publisher\":{},\"subscriber\":{},\"caller\":{}}}]";
}

std::string subscribeMessage(Wamp wamp, std::string_view topic, std::uint64_t requestId) {
  if (wamp == Wamp::V1) return "[5," + quoted(topic) + "]";
  return "[32," + std::to_string(requestId) + ",{}," + quoted(topic) + "]";
}

std::string publishMessage(Wamp wamp, std::string_view topic, std::string_view eventJson,
                           std::uint64_t requestId) {
  std::string m;
  m.reserve(eventJson.size() + topic.size() + 32);
  if (wamp == Wamp::V1) {
    // Oro's backend client always sends empty exclude and eligible lists.
    m.append("[7,").append(quoted(topic)).append(",").append(eventJson).append(",[],[]]");
  } else {
    m.append("[16,").append(std::to_string(requestId)).append(",{},").append(quoted(topic));
    m.append(",[").append(eventJson).append("]]");
  }
  return m;
}

std::string callMessage(Wamp wamp, std::string_view procedure, std::string_view marker,
                        std::uint64_t requestId) {
  if (wamp == Wamp::V1) return "[2," + std::string(marker) + "," + quoted(procedure) + "]";
  return "[48," + std::to_string(requestId) + ",{}," + quoted(procedure) + "]";
}

Kind classify(Wamp wamp, std::string_view m) {
  if (wamp == Wamp::V1) {
    if (startsWith(m, "[8,")) return Kind::Event;
    if (startsWith(m, "[3,")) return Kind::CallResult;
    if (startsWith(m, "[4,")) return Kind::Error;
    if (startsWith(m, "[0,")) return Kind::Welcome;
    return Kind::Other;
  }
  if (startsWith(m, "[36,")) return Kind::Event;
  if (startsWith(m, "[50,")) return Kind::CallResult;
  if (startsWith(m, "[33,")) return Kind::Subscribed;
  if (startsWith(m, "[8,")) return Kind::Error;
  if (startsWith(m, "[2,")) return Kind::Welcome;
  if (startsWith(m, "[3,")) return Kind::Abort;
  return Kind::Other;
}

bool findMarker(std::string_view m, std::uint64_t& seq) {
  const void* hash = std::memchr(m.data(), '#', m.size());
  if (!hash) return false;
  const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(hash) - m.data()) + 1;
  if (m.size() - at < kSeqDigits) return false;
  std::uint64_t value = 0;
  for (std::size_t i = at; i < at + kSeqDigits; ++i) {
    const char c = m[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  seq = value;
  return true;
}

bool requestIdOf(std::string_view m, std::uint64_t& id) {
  std::size_t comma = m.find(',');
  if (comma == std::string_view::npos) return false;
  if (startsWith(m, "[8,")) {
    comma = m.find(',', comma + 1);  // ERROR: [8, type, request, ...]
    if (comma == std::string_view::npos) return false;
  }
  return readInteger(m, comma + 1, id);
}

EventText::EventText(std::size_t size) {
  if (size < kMinSize) size = kMinSize;
  json_.assign(size, 'x');
  json_.front() = '"';
  json_.back() = '"';
  json_[1] = '#';
}

std::string_view EventText::withSeq(std::uint64_t seq) {
  writeDigits(&json_[2], seq);
  return json_;
}

std::string EventText::marker(std::uint64_t seq) {
  std::string m = "\"#";
  m.append(kSeqDigits, '0');
  m.push_back('"');
  writeDigits(&m[2], seq);
  return m;
}

}  // namespace wampd::bench
