// wampd::RpcHandler: the class a plugin derives to serve remote procedure calls, the C++
// twin of Gos's RpcInterface.
#pragma once

#include <string>

#include "wampd/connection.h"
#include "wampd/request.h"
#include "wampd/status.h"
#include "wampd/value.h"

namespace wampd {

/// Serves the procedures of every route whose `handler.callback` equals getName(). For a
/// route like `sample/{method}`, `request.attribute("method")` names the method called.
class RpcHandler {
 public:
  virtual ~RpcHandler() = default;

  virtual std::string getName() const = 0;
  /// Handles one call with positional `args`. On success set `result` and return ok; a
  /// non-ok Status becomes the caller's CALLERROR/ERROR.
  virtual Status onCall(Connection& connection, const Request& request, const Array& args,
                        Value& result) = 0;
};

}  // namespace wampd
