// Routing files (core/routing) over arbitrary YAML text.
//
// The only way a routing file may be refused is a ConfigError naming the file and a line
// (no yaml-cpp or std::regex exception, no crash): anything else escaping the parser is a
// finding (libFuzzer reports an uncaught exception as a crash). Routes that load are added
// to a router, which must refuse only a duplicate name, and each route is asked to match
// its own channel text (placeholders then match themselves or not; either is fine).
#include <string>

#include "common/config_error.h"
#include "fuzz_check.h"
#include "routing/router.h"

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
    wampd::Request request;
    (void)route->match(route->spec().channel, request);
  }
  return 0;
}
