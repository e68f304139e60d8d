// The answer to a call (or a refused publish), whichever WAMP version carried it.
#pragma once

#include <optional>
#include <string>

#include "wampd/value.h"

namespace wampd::ctl {

struct CallReply {
  bool isError = false;
  /// The result (v1: CALLRESULT's; v2: see wamp2_messages.h), or a v2 publication id.
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

}  // namespace wampd::ctl
