// The WAMP v2 messages wampctl sends (wamp.2.json) and the answers it reads. Pure functions,
// no I/O; the bytes go through core/wamp's codec, the one the server speaks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ctl/call_reply.h"
#include "wampd/value.h"

namespace wampd::ctl::wamp2 {

inline constexpr const char* kSubprotocol = "wamp.2.json";
inline constexpr const char* kDefaultRealm = "realm1";

/// `[HELLO, realm, {agent, roles: {publisher, caller}}]`: no authentication method is
/// offered; the backend proves itself by the token in the URL, a browser by its ticket.
std::string helloMessage(std::string_view realm);

/// `[PUBLISH, request, {acknowledge: true}, topic, [payload]]`: the payload is the single
/// argument, which is what a v1 subscriber or a handler receives as the event.
std::string publishMessage(std::uint64_t request, std::string_view topic, const Value& payload);

/// `[CALL, request, {}, procedure, args]`.
std::string callMessage(std::uint64_t request, std::string_view procedure, const Array& args);

/// `[GOODBYE, {}, "wamp.close.close_realm"]`.
std::string goodbyeMessage();

struct Welcome {
  std::uint64_t sessionId = 0;
  /// From WELCOME's details; empty when not given.
  std::string realm;
  std::string authid;
  std::string authrole;
};

/// Reads `[WELCOME, session, details]`. False with a reason for an ABORT (its reason URI
/// and message), a CHALLENGE (wampctl has no ticket to answer with) or anything else.
bool parseWelcome(std::string_view text, Welcome& out, std::string& error);

enum class Reading {
  Unrelated,  // an EVENT, a progressive RESULT, an answer to another request: keep waiting
  Answered,   // the PUBLISHED, RESULT or ERROR answering the request, now in `reply`
  Ended,      // ABORT, GOODBYE or malformed bytes: the session is over; `error` says why
};

/// What `text` means to a client waiting for the answer to its PUBLISH or CALL `request`
/// (`requestType`: 16 or 48).
/// - PUBLISHED: `reply.result` is the publication id.
/// - RESULT: `reply.result` is its one argument when it has exactly one and no keyword
///   arguments, else its argument list, or {"args": [...], "kwargs": {...}} when it has
///   keyword arguments.
/// - ERROR: `reply.errorUri` and `reply.reason` are its URI, `reply.errorDesc` its one
///   string argument, else its arguments as JSON; its keyword arguments are the details.
Reading readAnswer(std::string_view text, int requestType, std::uint64_t request, CallReply& reply,
                   std::string& error);

/// True for a GOODBYE (the answer to ours) and for an ABORT: either ends the session.
bool endsSession(std::string_view text);

}  // namespace wampd::ctl::wamp2
