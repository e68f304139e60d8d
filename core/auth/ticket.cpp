#include "auth/ticket.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cctype>
#include <vector>

namespace wampd::core::auth {
namespace {

constexpr int kDigestIterations = 5000;

int digitsAt(std::string_view s, std::size_t pos, std::size_t count, bool& ok) {
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) {
      ok = false;
      return 0;
    }
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

}  // namespace

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool base64Decode(std::string_view text, std::string& bytes) {
  if (text.empty() || text.size() % 4 != 0) return false;
  for (char c : text)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '='))
      return false;
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return false;
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  if (text.size() >= 1 && text[text.size() - 1] == '=') --size;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  bytes = std::move(out);
  return true;
}

std::string urlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string queryParameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string() : urlDecode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

bool parseIso8601(std::string_view s, std::int64_t& epoch) {
  bool ok = true;
  std::tm tm{};
  tm.tm_year = digitsAt(s, 0, 4, ok) - 1900;
  tm.tm_mon = digitsAt(s, 5, 2, ok) - 1;
  tm.tm_mday = digitsAt(s, 8, 2, ok);
  tm.tm_hour = digitsAt(s, 11, 2, ok);
  tm.tm_min = digitsAt(s, 14, 2, ok);
  tm.tm_sec = digitsAt(s, 17, 2, ok);
  if (!ok || s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return false;
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return false;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    const std::size_t digits = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == digits) return false;  // a decimal point needs digits
  }
  std::int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int sign = s[i] == '-' ? -1 : 1;
    const int hours = digitsAt(s, i + 1, 2, ok);
    std::size_t m = i + 3;
    if (m < s.size() && s[m] == ':') ++m;
    const int minutes = digitsAt(s, m, 2, ok);
    if (!ok || hours > 23 || minutes > 59) return false;
    offset = sign * (hours * 3600 + minutes * 60);
    i = m + 2;
  } else {
    return false;  // date('c') always carries an offset; a bare local time is ambiguous
  }
  if (i != s.size()) return false;
  epoch = static_cast<std::int64_t>(timegm(&tm)) - offset;
  return true;
}

bool parseTicket(std::string_view encoded, Ticket& out, std::string& reason) {
  std::string decoded;
  if (encoded.size() > 4096 || !base64Decode(encoded, decoded)) {
    reason = "ticket is not base64";
    return false;
  }
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t semicolon = decoded.find(';', start);
    fields.push_back(decoded.substr(start, semicolon - start));
    if (semicolon == std::string::npos) break;
    start = semicolon + 1;
  }
  if (fields.size() != 4) {
    reason = "ticket does not have the four fields digest;username;nonce;created";
    return false;
  }
  out.digest = std::move(fields[0]);
  out.username = std::move(fields[1]);
  out.nonce = std::move(fields[2]);
  out.created = std::move(fields[3]);
  if (!parseIso8601(out.created, out.createdEpoch)) {
    reason = "ticket creation time is not ISO-8601";
    return false;
  }
  return true;
}

std::string ticketDigest(std::string_view nonce, std::string_view created,
                         std::string_view password, std::string_view secret) {
  std::string salted;
  salted.reserve(nonce.size() + created.size() + password.size() + secret.size() + 4);
  salted.append(nonce).append("|").append(created).append("|").append(password);
  if (!secret.empty()) salted.append("{").append(secret).append("}");

  unsigned char digest[SHA512_DIGEST_LENGTH];
  SHA512(reinterpret_cast<const unsigned char*>(salted.data()), salted.size(), digest);
  std::string buffer;
  buffer.reserve(sizeof digest + salted.size());
  for (int i = 1; i < kDigestIterations; ++i) {
    buffer.assign(reinterpret_cast<const char*>(digest), sizeof digest);
    buffer.append(salted);
    SHA512(reinterpret_cast<const unsigned char*>(buffer.data()), buffer.size(), digest);
  }
  OPENSSL_cleanse(buffer.data(), buffer.size());
  OPENSSL_cleanse(salted.data(), salted.size());
  return base64Encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string makeTicket(std::string_view username, std::string_view password,
                       std::string_view secret, std::time_t now) {
  unsigned char random[12];
  RAND_bytes(random, sizeof random);
  const std::string nonce =
      base64Encode(std::string_view(reinterpret_cast<const char*>(random), sizeof random));
  std::tm tm{};
  gmtime_r(&now, &tm);
  char created[32];
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  const std::string digest =
      ticketDigest(nonce, created, username.empty() ? secret : password, secret);
  return base64Encode(digest + ";" + std::string(username) + ";" + nonce + ";" + created);
}

bool equalConstantTime(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace wampd::core::auth
