// WAMP v1 from the client's side, as Oro's backend client speaks it: the messages a client
// sends and the server's answers it reads. Pure functions over text, like v1_codec.h (the
// server's side), whose types they share.
#pragma once

#include <string>
#include <string_view>

#include "wamp/call_reply.h"
#include "wamp/v1_codec.h"
#include "wampd/value.h"

namespace wampd::core::wamp1 {

/// `[7, topic, event, [], []]`: exactly what Oro's backend client sends (an empty eligible
/// list restricts nothing).
std::string encodePublish(std::string_view topic, const Value& event);

/// `[2, callId, procUri, args...]`.
std::string encodeCall(std::string_view callId, std::string_view procUri, const Array& args);

struct Welcome {
  std::string sessionId;
  /// Its JSON when the server sent something other than a string.
  std::string serverIdent;
};

/// Reads `[0, sessionId, 1, serverIdent]`; false with a reason for anything else (another
/// protocol version included).
bool decodeWelcome(std::string_view text, Welcome& out, std::string& error);

using wamp::CallReply;

/// True when `text` is the CALLRESULT `[3, callId, result]` or the CALLERROR
/// `[4, callId, errorUri, desc(, details)]` answering `callId`; anything else (an EVENT, a
/// reply to another call, malformed text) is not the answer and leaves `out` alone. A
/// CALLERROR's `reason` is its details' "error" (wampd's error URI), else its errorUri.
bool decodeCallReply(std::string_view text, std::string_view callId, CallReply& out);

}  // namespace wampd::core::wamp1
