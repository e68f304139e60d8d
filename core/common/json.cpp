#include "common/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "common/base64.h"
#include "common/utf8.h"
#include "common/value_tree_builder.h"

namespace wampd::core::json {
namespace {

// RapidJSON's SAX events into a Value tree.
class Builder {
 public:
  explicit Builder(Value& root) : tree_(root, kMaxDepth) {}

  bool Null() { return add(Value()); }
  bool Bool(bool b) { return add(Value(b)); }
  bool Int(int i) { return add(Value(i)); }
  bool Uint(unsigned u) { return add(Value(u)); }
  bool Int64(int64_t i) { return add(Value(static_cast<long long>(i))); }
  bool Uint64(uint64_t u) { return add(Value(static_cast<unsigned long long>(u))); }
  bool Double(double d) { return add(Value(d)); }
  // Numbers arrive as text (kParseNumbersAsStringsFlag) and are read here with
  // std::from_chars: exactly (the nearest double), so that the shortest form the writer gives
  // reads back as the same value. RapidJSON's own reader is up to an ulp off by default, and
  // its full-precision mode passes 0 to __builtin_clzll for "0e308" (undefined behaviour).
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    const char* end = s + n;
    if (std::find_if(s, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == end) {
      if (*s == '-') {
        long long i = 0;
        if (std::from_chars(s, end, i).ec == std::errc()) return add(Value(i));
      } else {
        unsigned long long u = 0;
        if (std::from_chars(s, end, u).ec == std::errc()) return add(Value(u));
      }
      // Wider than 64 bits: a double, as RapidJSON reads one.
    }
    double d = 0;
    const std::errc ec = std::from_chars(s, end, d).ec;
    if (ec == std::errc()) return add(Value(d));
    // Out of range: too small is zero (as JSON readers take it), too big is refused.
    if (std::fabs(std::strtod(std::string(s, n).c_str(), nullptr)) < 1.0)
      return add(Value(*s == '-' ? -0.0 : 0.0));
    numberTooBig_ = true;
    return false;
  }
  // RapidJSON validates a string's bytes but writes a \u escape of a lone surrogate as that
  // surrogate's three bytes, which are not UTF-8: refused here, as invalid bytes are.
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (!utf8(s, n)) return false;
    return add(Value(std::string(s, n)));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (!utf8(s, n)) return false;
    tree_.key(std::string(s, n));
    return true;
  }
  bool StartObject() { return open(Value(Object())); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(Value(Array())); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  bool tooDeep() const { return tooDeep_; }
  bool loneSurrogate() const { return loneSurrogate_; }
  bool numberTooBig() const { return numberTooBig_; }

 private:
  bool utf8(const char* s, rapidjson::SizeType n) {
    loneSurrogate_ = !isValidUtf8(std::string_view(s, n));
    return !loneSurrogate_;
  }
  bool add(Value v) {
    tree_.add(std::move(v));
    return true;
  }
  bool open(Value container) {
    tooDeep_ = !tree_.open(std::move(container));
    return !tooDeep_;
  }
  bool close() {
    tree_.close();
    return true;
  }

  ValueTreeBuilder tree_;
  bool tooDeep_ = false;
  bool loneSurrogate_ = false;
  bool numberTooBig_ = false;
};

template <class Writer>
void write(const Value& v, Writer& w) {
  switch (v.type()) {
    case Value::Type::Null:
      w.Null();
      break;
    case Value::Type::Bool:
      w.Bool(v.asBool());
      break;
    case Value::Type::Int:
      w.Int64(v.asInt());
      break;
    case Value::Type::UInt:
      w.Uint64(v.asUInt());
      break;
    case Value::Type::Double:
      // JSON has no NaN or infinity; PHP's json_encode refuses them, we write null.
      if (std::isfinite(v.asDouble()))
        w.Double(v.asDouble());
      else
        w.Null();
      break;
    case Value::Type::String: {
      std::string_view s = v.asString();
      if (isValidUtf8(s)) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
        break;
      }
      // Bytes (a WAMP v2 msgpack bin, or any string that is not UTF-8) have no JSON form of
      // their own; WAMP's is "\0" and their base64, for v1 and v2 readers alike.
      std::string text(1, '\0');
      base64::append(s, text);
      w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
      break;
    }
    case Value::Type::Array:
      w.StartArray();
      for (const Value& item : *v.array()) write(item, w);
      w.EndArray();
      break;
    case Value::Type::Object:
      w.StartObject();
      for (const auto& [key, item] : *v.object()) {
        w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
        write(item, w);
      }
      w.EndObject();
      break;
  }
}

// Appends into a std::string without an intermediate buffer.
struct StringSink {
  using Ch = char;
  std::string& out;
  void Put(char c) { out.push_back(c); }
  void Flush() {}
};
// RapidJSON's writer finds these by argument-dependent lookup.
inline void PutUnsafe(StringSink& sink, char c) {
  sink.Put(c);
}
inline void PutReserve(StringSink& sink, std::size_t count) {
  sink.out.reserve(sink.out.size() + count);
}

// RapidJSON's escapes made PHP's: json_encode writes `/` as `\/` and \u escapes in
// lowercase hex. Outside strings JSON has no '/' or '\\', so one pass over the text is exact.
void phpEscapes(std::string& out, std::size_t start) {
  std::size_t slashes = 0;
  for (std::size_t i = start; i < out.size(); ++i) {
    if (out[i] == '/') {
      ++slashes;
    } else if (out[i] == '\\') {
      if (out[i + 1] == 'u')
        for (std::size_t k = i + 2; k < i + 6; ++k)
          out[k] = static_cast<char>(std::tolower(out[k]));
      ++i;  // skip the escaped character, so "\\u" is not read as an escape
    }
  }
  if (slashes == 0) return;
  std::string escaped;
  escaped.reserve(out.size() - start + slashes);
  for (std::size_t i = start; i < out.size(); ++i) {
    if (out[i] == '/') escaped.push_back('\\');
    escaped.push_back(out[i]);
  }
  out.replace(start, std::string::npos, escaped);
}

}  // namespace

bool parse(std::string_view text, Value& out, std::string* error) {
  out = Value();
  Builder builder(out);
  rapidjson::Reader reader;
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
  // Numbers as text: Builder::RawNumber reads them (it says why).
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag |
                              rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult result = reader.Parse<kFlags>(is, builder);
  if (result) return true;
  if (error) {
    if (builder.tooDeep())
      *error = "nesting deeper than " + std::to_string(kMaxDepth);
    else if (builder.numberTooBig())
      *error = "number too big for a double before offset " + std::to_string(result.Offset());
    else if (builder.loneSurrogate())
      *error = "a string escapes a lone surrogate (not UTF-8) before offset " +
               std::to_string(result.Offset());
    else
      *error = std::string(rapidjson::GetParseError_En(result.Code())) + " at offset " +
               std::to_string(result.Offset());
  }
  out = Value();
  return false;
}

void serializeTo(const Value& value, std::string& out) {
  const std::size_t start = out.size();
  StringSink sink{out};
  rapidjson::Writer<StringSink, rapidjson::UTF8<>, rapidjson::ASCII<>> writer(sink);
  write(value, writer);
  phpEscapes(out, start);
}

std::string serialize(const Value& value) {
  std::string out;
  serializeTo(value, out);
  return out;
}

}  // namespace wampd::core::json
