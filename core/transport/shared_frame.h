// A message framed once (header and payload in one buffer) and shared by every recipient.
#pragma once

#include <string>
#include <utility>

namespace wampd::core {

class SharedFrame {
 public:
  explicit SharedFrame(std::string bytes) noexcept : bytes_(std::move(bytes)) {}
  const std::string& bytes() const noexcept { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace wampd::core
