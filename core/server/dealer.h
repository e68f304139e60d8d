// The dealer: procedure calls routed to the RPC handlers that routes name.
#pragma once

#include <memory>
#include <string>

#include "config/generation.h"
#include "server/session.h"
#include "wampd/status.h"

namespace wampd::core {

class Dealer {
 public:
  enum class Outcome { Done, NoRoute, NoHandler, Failed };
  struct Result {
    Outcome outcome = Outcome::Done;
    Status status;
    Value value;
  };

  void setGeneration(std::shared_ptr<const Generation> generation) {
    generation_ = std::move(generation);
  }
  Result call(Session& session, const std::string& uri, const Array& args);

 private:
  std::shared_ptr<const Generation> generation_;
};

}  // namespace wampd::core
