#include "scenarios.h"

namespace wampd::bench {

ResultLine resultLine(const Common& common, const char* scenario) {
  ResultLine line(scenario);
  line.add("label", common.label).add("wamp", nameOf(common.target.wamp));
  return line;
}

int failed(const Common& common, const char* scenario, const std::string& why) {
  resultLine(common, scenario).add("status", "failed").add("reason", why).print();
  return kExitFailed;
}

}  // namespace wampd::bench
