#include "session/session.h"

namespace wampd::core {

void Session::fellBehind() noexcept {
  const FaultInfo& info = describe(Fault::SlowConsumer);
  closing_ = true;
  link_.abort(info.closeCode, info.reason);
}

void Session::closeWith(Fault fault) noexcept {
  const FaultInfo& info = describe(fault);
  closing_ = true;
  link_.close(info.closeCode, info.reason);
}

}  // namespace wampd::core
