#include "common/utf8.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

using wampd::core::isValidUtf8;
using wampd::core::utf8PrefixLength;
using wampd::core::Utf8Validator;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// One character of each encoded length: U+0041, U+00E9, U+20AC, U+1F600.
const std::string kOne = "A";
const std::string kTwo = bytes({0xC3, 0xA9});
const std::string kThree = bytes({0xE2, 0x82, 0xAC});
const std::string kFour = bytes({0xF0, 0x9F, 0x98, 0x80});

// Feeds `chunks` in order: the index of the first chunk refused, or -1 when none is. `complete`
// is what the validator says after the last chunk.
int firstRefused(const std::vector<std::string>& chunks, bool* complete = nullptr) {
  Utf8Validator validator;
  int refused = -1;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (!validator.feed(chunks[i]) && refused < 0) refused = static_cast<int>(i);
  }
  if (complete) *complete = validator.complete();
  return refused;
}

// The invalid sequences of the single-buffer tests below, each refused at the byte given.
struct Bad {
  std::string text;
  std::size_t badByte;
};
const std::vector<Bad> kBad = {
    {bytes({0xC0, 0x80}), 0},              // overlong lead
    {bytes({0xE0, 0x9F, 0xBF}), 1},        // overlong U+07FF in three
    {bytes({0xF0, 0x8F, 0xBF, 0xBF}), 1},  // overlong U+FFFF in four
    {bytes({0xED, 0xA0, 0x80}), 1},        // U+D800
    {bytes({0xED, 0xBF, 0xBF}), 1},        // U+DFFF
    {bytes({0xF4, 0x90, 0x80, 0x80}), 1},  // U+110000
    {bytes({0xF5, 0x80, 0x80, 0x80}), 0},
    {bytes({0xFF}), 0},
    {bytes({0x80}), 0},                    // lone continuation
    {bytes({0xE2, 0x82, 0x41}), 2},        // cut short by ASCII
    {bytes({0xF0, 0x9F, 0x98, 0xC3}), 3},  // cut short by a lead byte
};

}  // namespace

TEST_CASE("valid sequences of every length") {
  CHECK(isValidUtf8(""));
  CHECK(isValidUtf8("hello, world"));
  CHECK(isValidUtf8(std::string(1, '\0')));
  CHECK(isValidUtf8(bytes({0x7F})));
  CHECK(isValidUtf8(kTwo));
  CHECK(isValidUtf8(kThree));
  CHECK(isValidUtf8(kFour));
  CHECK(isValidUtf8(kOne + kTwo + kThree + kFour + kOne));
  // The boundaries of each length.
  CHECK(isValidUtf8(bytes({0xC2, 0x80})));              // U+0080
  CHECK(isValidUtf8(bytes({0xDF, 0xBF})));              // U+07FF
  CHECK(isValidUtf8(bytes({0xE0, 0xA0, 0x80})));        // U+0800
  CHECK(isValidUtf8(bytes({0xED, 0x9F, 0xBF})));        // U+D7FF, just below the surrogates
  CHECK(isValidUtf8(bytes({0xEE, 0x80, 0x80})));        // U+E000, just above them
  CHECK(isValidUtf8(bytes({0xEF, 0xBF, 0xBF})));        // U+FFFF
  CHECK(isValidUtf8(bytes({0xF0, 0x90, 0x80, 0x80})));  // U+10000
  CHECK(isValidUtf8(bytes({0xF4, 0x8F, 0xBF, 0xBF})));  // U+10FFFF
}

TEST_CASE("ASCII runs through the eight-byte fast path") {
  for (std::size_t length : {7u, 8u, 9u, 15u, 16u, 17u, 64u, 1000u}) {
    CAPTURE(length);
    const std::string run(length, 'x');
    CHECK(isValidUtf8(run));
    // Multibyte characters before, inside and after a run.
    CHECK(isValidUtf8(kThree + run + kFour + run + kTwo));
    CHECK(isValidUtf8(run + kFour));
  }
}

TEST_CASE("a bad byte anywhere in a long ASCII run is found") {
  const std::string run(40, 'a');
  for (int bad : {0x80, 0xBF, 0xC0, 0xFF, 0xF5}) {
    for (std::size_t offset = 0; offset < run.size(); ++offset) {
      CAPTURE(bad);
      CAPTURE(offset);
      std::string text = run;
      text[offset] = static_cast<char>(bad);
      CHECK_FALSE(isValidUtf8(text));
    }
  }
  // A valid character at every offset keeps the run valid (the fast path resumes after it).
  for (std::size_t offset = 0; offset <= run.size(); ++offset) {
    CAPTURE(offset);
    std::string text = run;
    text.insert(offset, kFour);
    CHECK(isValidUtf8(text));
  }
}

TEST_CASE("overlong forms are refused") {
  CHECK_FALSE(isValidUtf8(bytes({0xC0, 0x80})));              // U+0000 in two bytes
  CHECK_FALSE(isValidUtf8(bytes({0xC1, 0xBF})));              // U+007F in two bytes
  CHECK_FALSE(isValidUtf8(bytes({0xE0, 0x80, 0x80})));        // U+0000 in three
  CHECK_FALSE(isValidUtf8(bytes({0xE0, 0x9F, 0xBF})));        // U+07FF in three
  CHECK_FALSE(isValidUtf8(bytes({0xF0, 0x80, 0x80, 0x80})));  // U+0000 in four
  CHECK_FALSE(isValidUtf8(bytes({0xF0, 0x8F, 0xBF, 0xBF})));  // U+FFFF in four
  CHECK_FALSE(isValidUtf8("abc" + bytes({0xC0, 0xAF}) + "def"));
}

TEST_CASE("surrogates are refused") {
  CHECK_FALSE(isValidUtf8(bytes({0xED, 0xA0, 0x80})));  // U+D800
  CHECK_FALSE(isValidUtf8(bytes({0xED, 0xBF, 0xBF})));  // U+DFFF
  // A CESU-8 style pair for U+1F600.
  CHECK_FALSE(isValidUtf8(bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})));
}

TEST_CASE("code points above U+10FFFF are refused") {
  CHECK_FALSE(isValidUtf8(bytes({0xF4, 0x90, 0x80, 0x80})));  // U+110000
  CHECK_FALSE(isValidUtf8(bytes({0xF5, 0x80, 0x80, 0x80})));
  CHECK_FALSE(isValidUtf8(bytes({0xF7, 0xBF, 0xBF, 0xBF})));
  CHECK_FALSE(isValidUtf8(bytes({0xF8, 0x88, 0x80, 0x80, 0x80})));  // old five-byte form
  CHECK_FALSE(isValidUtf8(bytes({0xFE})));
  CHECK_FALSE(isValidUtf8(bytes({0xFF})));
}

TEST_CASE("sequences truncated at the end are refused") {
  for (const std::string& character : {kTwo, kThree, kFour}) {
    for (std::size_t cut = 1; cut < character.size(); ++cut) {
      CAPTURE(character.size());
      CAPTURE(cut);
      CHECK_FALSE(isValidUtf8(character.substr(0, cut)));
      CHECK_FALSE(isValidUtf8(std::string(20, 'a') + character.substr(0, cut)));
      // Cut short in the middle of the text: the next byte is not a continuation.
      CHECK_FALSE(isValidUtf8(character.substr(0, cut) + "a"));
      CHECK_FALSE(isValidUtf8(character.substr(0, cut) + kTwo));
    }
  }
}

TEST_CASE("a view cut inside a character is refused though the bytes after it would complete it") {
  for (const std::string& character : {kTwo, kThree, kFour}) {
    const std::string text = std::string(9, 'a') + character + "zz";
    for (std::size_t cut = 1; cut < character.size(); ++cut) {
      CAPTURE(character.size());
      CAPTURE(cut);
      CHECK_FALSE(isValidUtf8(std::string_view(text.data(), 9 + cut)));
      CHECK_FALSE(isValidUtf8(std::string_view(character.data(), cut)));
    }
    CHECK(isValidUtf8(std::string_view(text.data(), 9 + character.size())));
  }
}

TEST_CASE("lone continuation bytes are refused") {
  CHECK_FALSE(isValidUtf8(bytes({0x80})));
  CHECK_FALSE(isValidUtf8(bytes({0xBF})));
  CHECK_FALSE(isValidUtf8("a" + bytes({0x80}) + "b"));
  // One continuation byte too many after a complete character.
  CHECK_FALSE(isValidUtf8(kTwo + bytes({0xA9})));
  CHECK_FALSE(isValidUtf8(kFour + bytes({0x80})));
}

TEST_CASE("utf8PrefixLength never splits a character") {
  SUBCASE("text that fits is whole") {
    CHECK(utf8PrefixLength("", 0) == 0);
    CHECK(utf8PrefixLength("abc", 3) == 3);
    CHECK(utf8PrefixLength("abc", 10) == 3);
    CHECK(utf8PrefixLength(kFour, 4) == 4);
  }
  SUBCASE("ASCII is cut at the limit") {
    CHECK(utf8PrefixLength("abcdef", 0) == 0);
    CHECK(utf8PrefixLength("abcdef", 4) == 4);
  }
  SUBCASE("a limit inside a character cuts before it") {
    const std::string text = "ab" + kFour + "cd";  // the character is bytes 2..5
    CHECK(utf8PrefixLength(text, 2) == 2);
    CHECK(utf8PrefixLength(text, 3) == 2);
    CHECK(utf8PrefixLength(text, 4) == 2);
    CHECK(utf8PrefixLength(text, 5) == 2);
    CHECK(utf8PrefixLength(text, 6) == 6);
    CHECK(utf8PrefixLength(text, 7) == 7);
    CHECK(utf8PrefixLength(kTwo + kThree, 1) == 0);
    CHECK(utf8PrefixLength(kTwo + kThree, 2) == 2);
    CHECK(utf8PrefixLength(kTwo + kThree, 4) == 2);
  }
  SUBCASE("every limit over mixed text gives a valid prefix") {
    std::string text;
    for (int i = 0; i < 10; ++i) text += kOne + kTwo + kThree + kFour;
    for (std::size_t limit = 0; limit <= text.size() + 1; ++limit) {
      CAPTURE(limit);
      const std::size_t n = utf8PrefixLength(text, limit);
      CHECK(n <= limit);
      CHECK(n + 3 >= std::min(limit, text.size()));  // it drops at most a partial character
      CHECK(isValidUtf8(text.substr(0, n)));
      CHECK(isValidUtf8(text.substr(n)));
    }
  }
}

TEST_CASE("Utf8Validator accepts a character split at every point across chunks") {
  for (const std::string& character : {kTwo, kThree, kFour}) {
    const std::string text = "ab" + character + "cd";
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      CAPTURE(character.size());
      CAPTURE(cut);
      bool complete = false;
      CHECK(firstRefused({text.substr(0, cut), text.substr(cut)}, &complete) == -1);
      CHECK(complete);
    }
    // One byte per chunk, with empty chunks between.
    Utf8Validator validator;
    for (char c : text) {
      CHECK(validator.feed(std::string(1, c)));
      CHECK(validator.feed(""));
    }
    CHECK(validator.complete());
  }
}

TEST_CASE("Utf8Validator is incomplete while a character is unfinished") {
  for (const std::string& character : {kTwo, kThree, kFour}) {
    for (std::size_t cut = 1; cut < character.size(); ++cut) {
      CAPTURE(character.size());
      CAPTURE(cut);
      Utf8Validator validator;
      CHECK(validator.feed(std::string(20, 'a') + character.substr(0, cut)));
      CHECK_FALSE(validator.complete());
      CHECK(validator.feed(character.substr(cut)));
      CHECK(validator.complete());
    }
  }
  Utf8Validator empty;
  CHECK(empty.complete());
}

TEST_CASE("Utf8Validator refuses the chunk holding the first bad byte, wherever it is split") {
  for (const Bad& bad : kBad) {
    const std::string text = "ok " + bad.text + " more";
    const std::size_t badAt = 3 + bad.badByte;
    CHECK_FALSE(isValidUtf8(text));
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      CAPTURE(text);
      CAPTURE(cut);
      CHECK(firstRefused({text.substr(0, cut), text.substr(cut)}) == (badAt < cut ? 0 : 1));
    }
    // Three chunks with the bad byte alone in the middle one: the first is fine, the middle
    // one is refused without waiting for the rest.
    CHECK(firstRefused({text.substr(0, badAt), text.substr(badAt, 1), text.substr(badAt + 1)}) ==
          1);
  }
}

TEST_CASE("Utf8Validator stays failed until reset") {
  Utf8Validator validator;
  CHECK_FALSE(validator.feed(bytes({0xFF})));
  CHECK_FALSE(validator.feed("fine"));
  CHECK_FALSE(validator.complete());
  validator.reset();
  CHECK(validator.feed("fine" + kFour));
  CHECK(validator.complete());
}
