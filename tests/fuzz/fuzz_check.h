// What every fuzz target shares: its libFuzzer entry point and a check that stops on a broken
// invariant. The same target source builds two ways (tests/fuzz/CMakeLists.txt): with clang's
// libFuzzer (scripts/fuzz) and, with any compiler, with replay_main.cpp over the kept inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace wampd::fuzz {

// abort() rather than an exception: libFuzzer saves the input of a deadly signal, and a
// parser's own exceptions must not be confused with a failed check.
[[noreturn]] inline void failCheck(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
  std::abort();
}

inline std::string_view asText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace wampd::fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::wampd::fuzz::failCheck(__FILE__, __LINE__, #cond))
