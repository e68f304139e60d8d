// The answer a client gets to a call (or to a publish the router refused), whichever WAMP
// version carried it: wampctl's commands read one shape for v1 and v2.
#pragma once

#include <optional>
#include <string>

#include "wampd/value.h"

namespace wampd::core::wamp {

struct CallReply {
  bool isError = false;
  /// The result (v1: CALLRESULT's; v2: see v2_client.h), or a v2 publication id.
  Value result;
  /// The error URI on the wire: v1 puts the procedure (or topic) there, as Gos does.
  std::string errorUri;
  /// What the error says: v1 its description; v2 its single string argument, else the
  /// arguments as JSON.
  std::string errorDesc;
  /// v1: CALLERROR's details; v2: ERROR's keyword arguments.
  std::optional<Value> errorDetails;
  /// The URI naming the kind of error (wamp.error.not_authorized, wampd.error.reload_failed):
  /// v2's error URI; in v1, wampd puts it in the details as "error".
  std::string reason;
};

}  // namespace wampd::core::wamp
