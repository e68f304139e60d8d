#include "session/session.h"

namespace wampd::core {

void Session::fellBehind() noexcept {
  // Its backlog is what the client cannot take: freed at once, not written first.
  closeWith(Fault::SlowConsumer, /*discardQueued=*/true);
}

void Session::closeWith(Fault fault, bool discardQueued) noexcept {
  const FaultInfo& info = describe(fault);
  closing_ = true;
  if (info.comesBack && wampVersion() == 1)
    link_.hangUp(discardQueued);
  else if (discardQueued)
    link_.abort(info.closeCode, info.reason);
  else
    link_.close(info.closeCode, info.reason);
}

}  // namespace wampd::core
