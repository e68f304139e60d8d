// The WAMP v1 messages wampctl sends and the replies it reads, as JSON text. Pure functions,
// no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ctl/call_reply.h"
#include "wampd/value.h"

namespace wampd::ctl::wamp {

/// `[7, topic, payload, [], []]`: exactly what Oro's backend client sends.
std::string publishMessage(std::string_view topic, const Value& payload);

/// `[2, callId, procedure, args...]`.
std::string callMessage(std::string_view callId, std::string_view procedure, const Array& args);

struct Welcome {
  std::string sessionId;
  std::string serverIdent;
};

/// Reads `[0, sessionId, 1, serverIdent]`; false with a reason for anything else (another
/// protocol version included).
bool parseWelcome(std::string_view text, Welcome& out, std::string& error);

using ctl::CallReply;

/// True when `text` is the CALLRESULT `[3, callId, result]` or the CALLERROR
/// `[4, callId, errorUri, desc(, details)]` answering `callId`; anything else (an EVENT, a
/// reply to another call, malformed text) is not the answer and leaves `out` alone. A
/// CALLERROR's `reason` is its details' "error" (wampd's error URI), else its errorUri.
bool parseCallReply(std::string_view text, std::string_view callId, CallReply& out);

}  // namespace wampd::ctl::wamp
