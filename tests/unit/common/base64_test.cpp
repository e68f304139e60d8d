#include "common/base64.h"

#include <doctest/doctest.h>

#include <string>

namespace wampd::core {
namespace {

std::string encoded(std::string_view bytes) {
  std::string out;
  base64::append(bytes, out);
  return out;
}

TEST_CASE("RFC 4648 test vectors, both ways") {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, text] : vectors) {
    CAPTURE(plain);
    CHECK(encoded(plain) == text);
    std::string back;
    REQUIRE(base64::decode(text, back));
    CHECK(back == plain);
  }
}

TEST_CASE("every byte value survives a round trip") {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string back;
  REQUIRE(base64::decode(encoded(all), back));
  CHECK(back == all);
}

TEST_CASE("append appends") {
  std::string out = "x";
  base64::append("\xff\xfe", out);
  CHECK(out == "x//4=");
}

TEST_CASE("anything but padded base64 is refused") {
  std::string out;
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v!A==", "Zm 9v", "====", "Zg==Zg=="})
    CHECK_FALSE(base64::decode(bad, out));
}

}  // namespace
}  // namespace wampd::core
