// The versioned boundary between the wampd host and a plugin library.
//
// The host reads two data symbols before it runs any plugin function:
//   wampd_plugin_abi_version      must equal the host's WAMPD_ABI_VERSION;
//   wampd_plugin_build_signature  must equal the host's WAMPD_BUILD_SIGNATURE.
// C++ types (std::string, std::vector, virtual tables) cross the boundary, so the plugin
// must be built by the same compiler family, standard library ABI and mode, and language
// standard as the host; the build signature captures exactly those facts, and a mismatch is
// refused with a message naming the file instead of crashing later.
//
// WAMPD_ABI_VERSION is not written by hand: abi_version.h derives it from the SDK headers,
// and a test fails until scripts/update-abi-version has recorded a header change.
#pragma once

// Any standard header will do: it defines the library macros the #ifs below test.
#include <cstdint>

#include "wampd/abi_version.h"

#define WAMPD_SDK_VERSION "0.1.0"

#define WAMPD_STRINGIFY_DETAIL(x) #x
#define WAMPD_STRINGIFY(x) WAMPD_STRINGIFY_DETAIL(x)

#if defined(__clang__)
#define WAMPD_COMPILER_ID "clang-" WAMPD_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define WAMPD_COMPILER_ID "gcc-" WAMPD_STRINGIFY(__GNUC__)
#else
#define WAMPD_COMPILER_ID "unknown-compiler"
#endif

// The library's modes change the standard types both sides share: _GLIBCXX_DEBUG swaps in
// containers of another layout, and the assertion modes compile other inline definitions of
// the same functions (an ODR violation across the boundary). _GLIBCXX_DEBUG implies
// _GLIBCXX_ASSERTIONS, so a debug build shows both.
#if defined(_GLIBCXX_ASSERTIONS)
#define WAMPD_GLIBCXX_ASSERTIONS_ID ";glibcxx-assertions-1"
#else
#define WAMPD_GLIBCXX_ASSERTIONS_ID ";glibcxx-assertions-0"
#endif
#if defined(_GLIBCXX_DEBUG)
#define WAMPD_GLIBCXX_DEBUG_ID ";glibcxx-debug-1"
#else
#define WAMPD_GLIBCXX_DEBUG_ID ";glibcxx-debug-0"
#endif
#if defined(_LIBCPP_ENABLE_ASSERTIONS)
#define WAMPD_LIBCPP_ASSERTIONS_ID ";libcxx-assertions-" WAMPD_STRINGIFY(_LIBCPP_ENABLE_ASSERTIONS)
#else
#define WAMPD_LIBCPP_ASSERTIONS_ID ";libcxx-assertions-none"
#endif
#if defined(_LIBCPP_DEBUG)
#define WAMPD_LIBCPP_DEBUG_ID ";libcxx-debug-" WAMPD_STRINGIFY(_LIBCPP_DEBUG)
#else
#define WAMPD_LIBCPP_DEBUG_ID ";libcxx-debug-none"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define WAMPD_STDLIB_ID                                         \
  "libstdc++-cxx11abi-" WAMPD_STRINGIFY(_GLIBCXX_USE_CXX11_ABI) \
      WAMPD_GLIBCXX_ASSERTIONS_ID WAMPD_GLIBCXX_DEBUG_ID
#elif defined(_LIBCPP_VERSION)
#define WAMPD_STDLIB_ID \
  "libc++-" WAMPD_STRINGIFY(_LIBCPP_ABI_VERSION) WAMPD_LIBCPP_ASSERTIONS_ID WAMPD_LIBCPP_DEBUG_ID
#else
#define WAMPD_STDLIB_ID "unknown-stdlib"
#endif

// Identifies everything a C++-typed boundary depends on besides the SDK headers themselves.
#define WAMPD_BUILD_SIGNATURE \
  WAMPD_COMPILER_ID ";" WAMPD_STDLIB_ID ";cplusplus-" WAMPD_STRINGIFY(__cplusplus)

#define WAMPD_EXPORT __attribute__((visibility("default")))

namespace wampd::abi {
// Names of the symbols a plugin library exports; the host looks them up by these names.
inline constexpr const char* kAbiVersionSymbol = "wampd_plugin_abi_version";
inline constexpr const char* kBuildSignatureSymbol = "wampd_plugin_build_signature";
inline constexpr const char* kRegisterSymbol = "wampd_plugin_register";
}  // namespace wampd::abi
