// Plugin manifests (core/plugins/manifest) over arbitrary YAML text, and the `%parameter%`
// substitution in their arguments.
//
// A manifest is refused only with a ConfigError naming the file and a line; one that loads
// has its services' arguments resolved against its own `parameters:` (as the host does when
// the server sets none), which may refuse an unknown parameter the same way and nothing else.
#include <string>

#include "common/config_error.h"
#include "fuzz_check.h"
#include "plugins/plugin_host.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wampd::core;
  const std::string text(wampd::fuzz::asText(data, size));
  Manifest manifest;
  try {
    manifest = parseManifest(text, "plugin.yml");
  } catch (const ConfigError& e) {
    FUZZ_CHECK(e.where().file == "plugin.yml" && e.where().line > 0);
    return 0;
  }
  for (const ManifestService& service : manifest.services) {
    FUZZ_CHECK(!service.className.empty());
    try {
      (void)resolveArguments(service, manifest.defaults);
    } catch (const ConfigError& e) {
      FUZZ_CHECK(e.where().file == "plugin.yml" && e.where().line > 0);
    }
  }
  return 0;
}
