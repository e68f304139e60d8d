// A topic handler that wraps every publication in a greeting for the room it was sent to.
#include <wampd/wampd.h>

namespace hello {

class GreetingTopic : public wampd::TopicHandler {
 public:
  // Manifest arguments: [0] the handler name routes call back, [1] the greeting.
  explicit GreetingTopic(const wampd::Arguments& args)
      : name_(args.string(0)), greeting_(args.string(1)) {}

  std::string getName() const override { return name_; }

  wampd::Status onPublish(wampd::Connection&, wampd::Topic& topic, const wampd::Request& request,
                          const wampd::Value& event, const wampd::SessionIds& exclude,
                          const wampd::SessionIds& eligible) override {
    wampd::Object greeting{{"greeting", greeting_},
                           {"room", std::string(request.attribute("room"))},
                           {"event", event}};
    topic.broadcast(greeting, exclude, eligible);
    return {};
  }

 private:
  std::string name_;
  std::string greeting_;
};

}  // namespace hello

WAMPD_PLUGIN(registry) { registry.topic<hello::GreetingTopic>("GreetingTopic"); }
