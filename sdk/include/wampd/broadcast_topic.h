// wampd::BroadcastTopic: a topic whose publications reach every subscriber (Oro's
// BroadcastTopic). Anyone routed to it may subscribe; who may publish is the route's policy.
#pragma once

#include <string>

#include "wampd/arguments.h"
#include "wampd/topic_handler.h"

namespace wampd {

class BroadcastTopic : public TopicHandler {
 public:
  /// Arguments: [0] the handler name.
  explicit BroadcastTopic(const Arguments& args) : name_(args.string(0)) {}

  std::string getName() const override { return name_; }

  Status onPublish(Connection&, Topic& topic, const Request&, const Value& event,
                   const SessionIds& exclude, const SessionIds& eligible) override {
    topic.broadcast(event, exclude, eligible);
    return {};
  }

 private:
  std::string name_;
};

}  // namespace wampd
