#include "ctl/wamp2_session.h"

#include "common/errors.h"
#include "wamp/v2_client.h"

namespace wampd::ctl {
namespace {

namespace wamp2 = core::wamp2;

constexpr std::uint16_t kNormalClosure = core::wireCode(core::CloseCode::Normal);
constexpr const char* kAgent = "wampctl";

}  // namespace

bool Wamp2Session::open(const std::string& url, const std::string& shownUrl, std::string& error) {
  if (!ws_.connect(url, shownUrl, wamp2::kJsonSubprotocol, error) ||
      !ws_.send(wamp2::encodeHello(realm_, kAgent), error))
    return false;
  std::string text;
  if (!ws_.receive(text, error)) {
    error = "no WELCOME from " + shownUrl + ": " + error + ws_.describePeerClose();
    return false;
  }
  if (wamp2::decodeWelcome(text, welcome_, error)) return true;
  ended_ = true;
  return false;
}

std::string Wamp2Session::describeWelcome() const {
  std::string text = "session " + std::to_string(welcome_.sessionId);
  if (!welcome_.realm.empty()) text += ", realm " + welcome_.realm;
  if (!welcome_.authid.empty()) text += ", authid " + welcome_.authid;
  if (!welcome_.authrole.empty()) text += ", authrole " + welcome_.authrole;
  return text;
}

PublishOutcome Wamp2Session::publishAndClose(const std::string& topic, const Value& payload,
                                             CallReply& refusal, std::string& error) {
  const std::uint64_t request = ++lastRequest_;
  CallReply reply;
  if (!ws_.send(wamp2::encodePublish(request, topic, payload), error) ||
      !awaitAnswer(wamp2::Type::Publish, request, reply, error)) {
    error = "publish to '" + topic + "' not confirmed: " + error;
    close();
    return PublishOutcome::Failed;
  }
  close();
  if (!reply.isError) return PublishOutcome::Accepted;
  refusal = std::move(reply);
  error = "the server refused the publish to '" + topic + "': " + refusal.errorUri;
  if (!refusal.errorDesc.empty()) error += ": " + refusal.errorDesc;
  return PublishOutcome::Refused;
}

bool Wamp2Session::call(const std::string& procedure, const Array& args, CallReply& reply,
                        std::string& error) {
  const std::uint64_t request = ++lastRequest_;
  if (ws_.send(wamp2::encodeCall(request, procedure, args), error) &&
      awaitAnswer(wamp2::Type::Call, request, reply, error))
    return true;
  error = "no answer to the call of '" + procedure + "': " + error;
  return false;
}

bool Wamp2Session::awaitAnswer(wamp2::Type requestType, std::uint64_t request, CallReply& reply,
                               std::string& error) {
  std::string text;
  while (ws_.receive(text, error)) {
    switch (wamp2::readAnswer(text, requestType, request, reply, error)) {
      case wamp2::Reading::Answered:
        return true;
      case wamp2::Reading::Ended:
        ended_ = true;
        return false;
      case wamp2::Reading::Unrelated:
        break;
    }
  }
  error += ws_.describePeerClose();
  return false;
}

void Wamp2Session::close() {
  std::string ignored;
  if (!ended_ && ws_.send(wamp2::encodeGoodbye(), ignored)) {
    std::string text;
    while (ws_.receive(text, ignored))
      if (wamp2::endsSession(text)) break;
  }
  ended_ = true;
  ws_.close(kNormalClosure, ignored);
}

}  // namespace wampd::ctl
