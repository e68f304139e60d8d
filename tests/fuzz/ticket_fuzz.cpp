// Oro tickets (core/auth/ticket) over arbitrary `?ticket=` values, already URL-decoded.
//
// A ticket that parses is written back (base64 of its four fields) and parses to the same
// fields and time; base64 that decodes encodes back to text that decodes the same; a time
// that parses is a real one. The digest (5,000 sha512 rounds) is not computed: it reads no
// client text beyond what the parser has checked, and would cost ~1 ms a run.
#include <string>

#include "auth/ticket.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wampd::core::auth;
  const std::string_view input = wampd::fuzz::asText(data, size);

  std::string bytes;
  if (base64Decode(input, bytes)) {
    std::string again;
    FUZZ_CHECK(base64Decode(base64Encode(bytes), again) && again == bytes);
  }

  std::int64_t epoch = 0;
  if (parseIso8601(input, epoch)) {
    // Four-digit years: from 0000 to 9999, with offsets of at most a day.
    FUZZ_CHECK(epoch >= -62167219200 - 86400 && epoch <= 253402300799 + 86400);
  }

  Ticket ticket;
  std::string reason;
  if (!parseTicket(input, ticket, reason)) {
    FUZZ_CHECK(!reason.empty());
    return 0;
  }
  for (const std::string* field : {&ticket.digest, &ticket.username, &ticket.nonce})
    FUZZ_CHECK(field->find(';') == std::string::npos);
  Ticket again;
  FUZZ_CHECK(parseTicket(base64Encode(ticket.digest + ";" + ticket.username + ";" + ticket.nonce +
                                      ";" + ticket.created),
                         again, reason));
  FUZZ_CHECK(again.digest == ticket.digest && again.username == ticket.username &&
             again.nonce == ticket.nonce && again.created == ticket.created &&
             again.createdEpoch == ticket.createdEpoch);
  return 0;
}
