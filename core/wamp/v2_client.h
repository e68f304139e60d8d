// WAMP v2 from the client's side, over wamp.2.json (wampctl speaks nothing else): the
// messages a publisher and caller sends and the router's answers it reads. Pure functions,
// no I/O; the bytes go through v2_codec.h, the codec the server speaks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wamp/call_reply.h"
#include "wamp/v2_codec.h"
#include "wampd/value.h"

namespace wampd::core::wamp2 {

/// `[HELLO, realm, {agent, roles: {publisher, caller}}]`: no authentication method is
/// offered; the backend proves itself by the token in the URL, a browser by its ticket.
std::string encodeHello(std::string_view realm, std::string_view agent);

/// `[PUBLISH, request, {acknowledge: true}, topic, [payload]]`: the payload is the single
/// argument, which is what a v1 subscriber or a handler receives as the event.
std::string encodePublish(std::uint64_t request, std::string_view topic, const Value& payload);

/// `[CALL, request, {}, procedure, args]`.
std::string encodeCall(std::uint64_t request, std::string_view procedure, const Array& args);

/// `[GOODBYE, {}, "wamp.close.close_realm"]`.
std::string encodeGoodbye();

struct Welcome {
  std::uint64_t sessionId = 0;
  /// From WELCOME's details; empty when not given.
  std::string realm;
  std::string authid;
  std::string authrole;
};

/// Reads `[WELCOME, session, details]`. False with a reason for an ABORT (its reason URI
/// and message), a CHALLENGE (no ticket to answer with) or anything else.
bool decodeWelcome(std::string_view text, Welcome& out, std::string& error);

using wamp::CallReply;

enum class Reading {
  Unrelated,  // an EVENT, a progressive RESULT, an answer to another request: keep waiting
  Answered,   // the PUBLISHED, RESULT or ERROR answering the request, now in `reply`
  Ended,      // ABORT, GOODBYE or malformed bytes: the session is over; `error` says why
};

/// What `text` means to a client waiting for the answer to its PUBLISH or CALL `request`
/// (`requestType`: Type::Publish or Type::Call).
/// - PUBLISHED: `reply.result` is the publication id.
/// - RESULT: `reply.result` is its one argument when it has exactly one and no keyword
///   arguments, else its argument list, or {"args": [...], "kwargs": {...}} when it has
///   keyword arguments.
/// - ERROR: `reply.errorUri` and `reply.reason` are its URI, `reply.errorDesc` its one
///   string argument, else its arguments as JSON; its keyword arguments are the details.
Reading readAnswer(std::string_view text, Type requestType, std::uint64_t request, CallReply& reply,
                   std::string& error);

/// True for a GOODBYE (the answer to ours) and for an ABORT: either ends the session.
bool endsSession(std::string_view text);

}  // namespace wampd::core::wamp2
