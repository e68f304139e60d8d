// The benchmark's RPC handler: does nothing and answers null, so that a call measures the
// server's own cost (decode, route, dispatch, encode, write) and no handler work.
#include <wampd/plugin.h>

#include <string>

namespace wampd::bench {

class NoopRpc : public RpcHandler {
 public:
  /// Arguments: [0] the handler name.
  explicit NoopRpc(const Arguments& args) : name_(args.string(0)) {}

  std::string getName() const override { return name_; }

  Status onCall(Connection&, const Request&, const Array&, Value& result) override {
    result = Value();
    return {};
  }

 private:
  std::string name_;
};

WAMPD_PLUGIN(registry) {
  registry.rpc<NoopRpc>("NoopRpc");
}

}  // namespace wampd::bench
