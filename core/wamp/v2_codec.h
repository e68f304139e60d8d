// WAMP v2 on the wire: the two serializers (wamp.2.json as text frames, wamp.2.msgpack as
// binary frames) and the shape of every message type. Pure functions; no session state.
//
// A message is handled as the Array the wire carries ([type, fields...]); the protocol layer
// reads fields by position after validate() has checked their types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wampd/value.h"

namespace wampd::core::wamp2 {

enum class Type : int {
  Hello = 1,
  Welcome = 2,
  Abort = 3,
  Challenge = 4,
  Authenticate = 5,
  Goodbye = 6,
  Error = 8,
  Publish = 16,
  Published = 17,
  Subscribe = 32,
  Subscribed = 33,
  Unsubscribe = 34,
  Unsubscribed = 35,
  Event = 36,
  Call = 48,
  Cancel = 49,
  Result = 50,
  Register = 64,
  Registered = 65,
  Unregister = 66,
  Unregistered = 67,
  Invocation = 68,
  Interrupt = 69,
  Yield = 70,
};

enum class Serializer { Json, MsgPack };

/// The subprotocol names, in the order wampd prefers them.
inline constexpr const char* kJsonSubprotocol = "wamp.2.json";
inline constexpr const char* kMsgPackSubprotocol = "wamp.2.msgpack";

/// IDs are integers in [0, 2^53] (the spec's range, exact in JavaScript doubles).
inline constexpr std::uint64_t kMaxId = std::uint64_t{1} << 53;

/// Parses one frame. False with a reason for malformed bytes, nesting deeper than 64, or a
/// top level that is not an array. Integers stay integers; msgpack binary becomes a string.
/// Never throws.
bool decode(std::string_view bytes, Serializer serializer, Array& message, std::string& error);

/// Serializes a message (JSON: text; MsgPack: binary). Never throws for Values a decode or
/// a handler produced.
///
/// Bytes: Value has one string type, so a string that is not valid UTF-8 is taken for bytes.
/// It goes out as msgpack bin, and in JSON as the spec's "\0" + base64 string, which decode
/// turns back into bytes. Bytes that happen to be UTF-8 travel as text. NaN and infinities,
/// which JSON cannot carry, go to JSON peers as null.
std::string encode(const Array& message, Serializer serializer);
void encodeTo(const Array& message, Serializer serializer, std::string& out);

/// Checks a message a CLIENT sent: a known type a client may send (HELLO, AUTHENTICATE,
/// ABORT, GOODBYE, ERROR, PUBLISH, SUBSCRIBE, UNSUBSCRIBE, CALL, CANCEL, REGISTER,
/// UNREGISTER, YIELD), the right number of fields, and each field's type (ids integers in
/// [0, 2^53], URIs strings, Details/Options dicts, Arguments lists, ArgumentsKw dicts).
/// False with a reason naming the message and the field: a protocol violation.
bool validateFromClient(const Array& message, std::string& error);

/// The message type, or 0 when the first element is not an integer.
int typeOf(const Array& message) noexcept;
const char* typeName(int type) noexcept;

}  // namespace wampd::core::wamp2
