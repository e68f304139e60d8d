#include "server/dealer.h"

#include <spdlog/spdlog.h>

namespace wampd::core {

Dealer::Result Dealer::call(Session& session, const std::string& uri, const Array& args) {
  Result result;
  Request request;
  const Route* route = generation_->router.match(uri, request);
  if (!route) {
    result.outcome = Outcome::NoRoute;
    return result;
  }
  const RpcHandlerEntry* entry = generation_->plugins.rpcHandler(route->callback());
  if (!entry) {
    spdlog::warn("procedure {}: route '{}' names RPC handler '{}', which is not loaded", uri,
                 route->name(), route->callback());
    result.outcome = Outcome::NoHandler;
    return result;
  }
  // The generation (and so the handler) stays alive for the call even if a reload swaps it.
  std::shared_ptr<const Generation> pinned = generation_;
  result.status = entry->handler->hostCall(session, request, args, result.value);
  if (!result.status) result.outcome = Outcome::Failed;
  return result;
}

}  // namespace wampd::core
