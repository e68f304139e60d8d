// The WAMP v1 decoder (core/wamp/v1_codec) over arbitrary text frames.
//
// Decode, encode, decode again, equal: a PUBLISH or CALL a client sent, written back out the
// way wampctl writes one (core/wamp/v1_client), decodes to the same topic and event, or the
// same call. What the server sends from a decoded message (EVENT, CALLRESULT, CALLERROR) is
// JSON that parses back to the values it was given; a PREFIX expands its CURIEs.
#include <string>
#include <variant>

#include "common/json.h"
#include "fuzz_check.h"
#include "wamp/v1_client.h"
#include "wamp/v1_codec.h"

namespace {

using namespace wampd;
using namespace wampd::core;

// The array a server message parses back to; checks it is one with `size` elements.
Array reparsed(const std::string& text, std::size_t size) {
  Value v;
  std::string error;
  FUZZ_CHECK(json::parse(text, v, &error));
  FUZZ_CHECK(v.isArray() && v.array()->size() == size);
  return *v.array();
}

void check(const wamp1::Prefix& m) {
  wamp1::PrefixMap prefixes{{m.prefix, m.uri}};
  if (m.prefix.find(':') == std::string::npos)
    FUZZ_CHECK(wamp1::expandCurie(m.prefix + ":rest", prefixes) == m.uri + "rest");
  FUZZ_CHECK(wamp1::expandCurie("no-colon", prefixes) == "no-colon");
}

void check(const wamp1::Call& m) {
  const Value args{m.args};
  const Array result = reparsed(wamp1::encodeCallResult(m.callId, args), 3);
  FUZZ_CHECK(result[1] == m.callId && result[2] == args);
  const Array error =
      reparsed(wamp1::encodeCallError(m.callId, m.procUri, "desc", Value(Object{})), 5);
  FUZZ_CHECK(error[1] == m.callId && error[2] == Value(m.procUri));
  if (!m.callId.isString()) return;
  wamp1::Message again;
  wamp1::DecodeError decodeError;
  FUZZ_CHECK(
      wamp1::decode(wamp1::encodeCall(m.callId.asString(), m.procUri, m.args), again, decodeError));
  const auto* call = std::get_if<wamp1::Call>(&again);
  FUZZ_CHECK(call && call->callId == m.callId && call->procUri == m.procUri &&
             call->args == m.args);
}

void check(const wamp1::Subscribe&) {}
void check(const wamp1::Unsubscribe&) {}

void check(const wamp1::Publish& m) {
  const Array event = reparsed(wamp1::encodeEvent(m.topic, m.event), 3);
  FUZZ_CHECK(event[1] == Value(m.topic) && event[2] == m.event);
  wamp1::Message again;
  wamp1::DecodeError decodeError;
  FUZZ_CHECK(wamp1::decode(wamp1::encodePublish(m.topic, m.event), again, decodeError));
  const auto* publish = std::get_if<wamp1::Publish>(&again);
  FUZZ_CHECK(publish && publish->topic == m.topic && publish->event == m.event);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wamp1::Message message;
  wamp1::DecodeError error;
  if (!wamp1::decode(wampd::fuzz::asText(data, size), message, error)) {
    FUZZ_CHECK(!error.detail.empty());
    return 0;
  }
  std::visit([](const auto& m) { check(m); }, message);
  return 0;
}
