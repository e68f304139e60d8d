// Routing files (core/routing) over arbitrary YAML text.
//
// The only way a routing file may be refused is a ConfigError naming the file and a line
// (no yaml-cpp or std::regex exception, no crash): anything else escaping the parser is a
// finding (libFuzzer reports an uncaught exception as a crash). Routes that load are added
// to a router, which must refuse only a duplicate name, and each route is asked to match
// its own channel text (placeholders then match themselves or not; either is fine), unless a
// requirement nests quantifiers (see nestsQuantifiers).
#include <algorithm>
#include <string>

#include "common/config_error.h"
#include "fuzz_check.h"
#include "routing/router.h"

namespace {

// True when a quantifier follows a quantifier or a group, as in `(\d+)+` or `\d+{0}+`:
// libstdc++'s std::regex backtracks exponentially over such nesting, so matching even a short
// URI can take minutes (found by this target; docs/FUZZING.md). The router now refuses such
// requirements at load (ambiguousRepetition); this broader test stays so that a pattern the
// load-time check lets through (a `?` after a group, say) cannot stall the short CI run.
bool nestsQuantifiers(const std::string& pattern) {
  bool afterQuantified = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;
      afterQuantified = false;
      continue;
    }
    const bool quantifier = c == '*' || c == '+' || c == '?' || c == '{';
    if (quantifier && afterQuantified) return true;
    if (c == '{') i = std::min(pattern.find('}', i), pattern.size());
    afterQuantified = quantifier || c == ')';
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wampd::core;
  const std::string text(wampd::fuzz::asText(data, size));
  std::vector<RouteSpec> specs;
  try {
    specs = parseRoutingFile(text, "routing.yml");
  } catch (const ConfigError& e) {
    FUZZ_CHECK(e.where().file == "routing.yml" && e.where().line > 0);
    return 0;
  }
  Router router;
  for (RouteSpec& spec : specs) {
    FUZZ_CHECK(spec.where.file == "routing.yml" && spec.where.line > 0);
    router.add(std::move(spec));  // names are unique within one file: must not throw
  }
  for (const auto& route : router.routes()) {
    bool nested = false;
    for (const auto& [name, requirement] : route->spec().requirements)
      nested = nested || nestsQuantifiers(requirement.pattern);
    if (nested) continue;
    wampd::Request request;
    (void)route->match(route->spec().channel, request);
  }
  return 0;
}
