// WAMP v1 as Ratchet speaks it: decoding what clients send, encoding what the server sends.
// Pure functions over text; no I/O, no session state.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "common/errors.h"
#include "wampd/value.h"

namespace wampd::core::wamp1 {

enum class Type : int {
  Welcome = 0,
  Prefix = 1,
  Call = 2,
  CallResult = 3,
  CallError = 4,
  Subscribe = 5,
  Unsubscribe = 6,
  Publish = 7,
  Event = 8,
};

/// WELCOME's protocol version.
inline constexpr int kProtocolVersion = 1;

struct Prefix {
  std::string prefix;
  std::string uri;
};
struct Call {
  Value callId;  // a string per the spec; echoed back exactly as received
  std::string procUri;
  Array args;
};
struct Subscribe {
  std::string topic;
};
struct Unsubscribe {
  std::string topic;
};
struct Publish {
  std::string topic;
  Value event;
  Value exclude;   // absent: null; `true`/`false`, or an array of session ids
  Value eligible;  // absent: null; else an array of session ids
};

using Message = std::variant<Prefix, Call, Subscribe, Unsubscribe, Publish>;

struct DecodeError {
  Fault fault = Fault::MalformedMessage;
  std::string detail;
};

/// The type `code` names; false for anything but an integer from 0 to 8 (a wider integer
/// must not wrap onto a known type).
bool toType(const Value& code, Type& type) noexcept;

/// Decodes one message a client sent. False (with `error`) for malformed JSON, a non-array,
/// wrong field types or counts, and unknown or server-only types.
bool decode(std::string_view text, Message& out, DecodeError& error);

/// Prefixes a connection declared with PREFIX.
using PrefixMap = std::map<std::string, std::string, std::less<>>;

/// Expands a CURIE `prefix:rest` into the prefix's URI followed by `rest`; a URI whose
/// prefix is unknown is returned as it is.
std::string expandCurie(std::string_view uri, const PrefixMap& prefixes);

std::string encodeWelcome(std::string_view sessionId, std::string_view serverIdent);
std::string encodeCallResult(const Value& callId, const Value& result);
/// `details` null: the 4-element form.
std::string encodeCallError(const Value& callId, std::string_view errorUri, std::string_view desc,
                            const Value& details);
std::string encodeEvent(std::string_view topic, const Value& event);

}  // namespace wampd::core::wamp1
