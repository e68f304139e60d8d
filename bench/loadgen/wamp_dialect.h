// The few WAMP messages the load client sends and recognises, in v1 ("wamp") and
// v2 JSON ("wamp.2.json"). Recognition looks at a message's first bytes only: the client
// must read millions of events a second on one core.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wampd::bench {

enum class Wamp { V1, V2 };

const char* subprotocolOf(Wamp wamp);
const char* nameOf(Wamp wamp);

/// v2 HELLO announcing the publisher, subscriber and caller roles.
std::string helloMessage(std::string_view realm);
std::string subscribeMessage(Wamp wamp, std::string_view topic, std::uint64_t requestId);
/// `eventJson` is one JSON value; v2 carries it as the single positional argument.
std::string publishMessage(Wamp wamp, std::string_view topic, std::string_view eventJson,
                           std::uint64_t requestId);
/// A call without arguments. v1 carries `marker` (see EventText) as its call id; v2 uses
/// `requestId`.
std::string callMessage(Wamp wamp, std::string_view procedure, std::string_view marker,
                        std::uint64_t requestId);

enum class Kind {
  Welcome,
  Abort,  // v2 ABORT
  Event,
  CallResult,  // v1 CALLRESULT, v2 RESULT
  Error,       // v1 CALLERROR, v2 ERROR
  Subscribed,  // v2 only
  Other,
};
Kind classify(Wamp wamp, std::string_view message);

/// The sequence number in a `#` + 12-digit marker (see EventText), the first `#` in the
/// message. False when there is none.
bool findMarker(std::string_view message, std::uint64_t& seq);
/// v2: the request id of a RESULT, SUBSCRIBED or ERROR (its second element for RESULT and
/// SUBSCRIBED, third for ERROR).
bool requestIdOf(std::string_view message, std::uint64_t& id);

/// A JSON string of exactly `size` bytes (quotes included) that starts with a marker
/// carrying a sequence number; the rest is padding.
class EventText {
 public:
  static constexpr std::size_t kMinSize = 16;
  explicit EventText(std::size_t size);
  /// Writes `seq` into the marker and returns the JSON text.
  std::string_view withSeq(std::uint64_t seq);
  /// The bare marker for `seq`, as a quoted JSON string.
  static std::string marker(std::uint64_t seq);

 private:
  std::string json_;
};

}  // namespace wampd::bench
