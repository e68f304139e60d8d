#include "wamp/v2_codec.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstring>
#include <exception>
#include <msgpack.hpp>
#include <vector>

#include "common/base64.h"
#include "common/json.h"
#include "common/utf8.h"
#include "common/value_tree_builder.h"

namespace wampd::core::wamp2 {
namespace {

// ---- binary payloads ----
// Value has one string type; bytes are the strings that are not UTF-8. On the wire msgpack
// carries them as bin (str must be UTF-8) and JSON, as the spec says, as a string of "\0"
// followed by their base64 (json::serializeTo writes that form).

bool isJsonBytesForm(std::string_view s) {
  return !s.empty() && s[0] == '\0';
}

bool containsJsonBytesForm(const Value& v) {
  if (v.isString()) return isJsonBytesForm(v.asString());
  if (const Array* a = v.array())
    return std::any_of(a->begin(), a->end(),
                       [](const Value& item) { return containsJsonBytesForm(item); });
  if (const Object* o = v.object())
    return std::any_of(o->begin(), o->end(), [](const Object::Entry& entry) {
      return containsJsonBytesForm(entry.second);
    });
  return false;
}

// Turns the JSON form of bytes back into bytes, in place. A "\0" string whose rest is not
// base64 stays a string.
void restoreBytes(Value& v) {
  if (v.isString()) {
    std::string bytes;
    if (isJsonBytesForm(v.asString()) && base64::decode(v.asString().substr(1), bytes))
      v = Value(std::move(bytes));
    return;
  }
  if (Array* a = v.array()) {
    for (Value& item : *a) restoreBytes(item);
    return;
  }
  Object* o = v.object();
  if (!o) return;
  // Object iterates read-only; the few members that change are reached by key.
  std::vector<std::string> keys;
  for (const auto& [key, item] : *o)
    if (containsJsonBytesForm(item)) keys.push_back(key);
  for (const std::string& key : keys) restoreBytes(*o->find(key));
}

// ---- wamp.2.msgpack: bytes -> Value ----

// msgpack's SAX-style visitor building a Value. The parser keeps its own heap stack, so
// hostile nesting never recurses; this visitor stops it at json::kMaxDepth so both
// serializers accept the same messages.
class MsgPackBuilder {
 public:
  MsgPackBuilder(Value& root, std::size_t inputSize)
      : tree_(root, json::kMaxDepth), reserveBudget_(inputSize) {}

  bool visit_nil() { return add(Value()); }
  bool visit_boolean(bool b) { return add(Value(b)); }
  // Value stores what fits int64 as Int and the rest as UInt.
  bool visit_positive_integer(std::uint64_t u) {
    return add(Value(static_cast<unsigned long long>(u)));
  }
  bool visit_negative_integer(std::int64_t i) { return add(Value(static_cast<long long>(i))); }
  bool visit_float32(float f) { return add(Value(static_cast<double>(f))); }
  bool visit_float64(double d) { return add(Value(d)); }
  bool visit_str(const char* s, std::uint32_t n) { return addString(s, n); }
  // WAMP carries binary as bytes in a string; the msgpack form is only a transport detail.
  bool visit_bin(const char* s, std::uint32_t n) { return addString(s, n); }
  // JavaScript msgpack encoders (wampy's) write `undefined` as fixext1 type 0, data 0: read
  // it as null, which WAMP reads as "option not given". Any other ext is not a WAMP value.
  bool visit_ext(const char* v, std::uint32_t size) {
    if (size == 2 && v[0] == 0 && v[1] == 0) return add(Value());
    return fail("msgpack ext types are not WAMP values");
  }

  bool start_array(std::uint32_t count) {
    Array a;
    // Declared counts are trusted only as far as the input could hold them (an item takes
    // at least a byte), summed over the whole message.
    const std::size_t granted = std::min<std::size_t>(count, reserveBudget_);
    reserveBudget_ -= granted;
    a.reserve(granted);
    return open(Value(std::move(a)));
  }
  bool start_array_item() { return true; }
  bool end_array_item() { return true; }
  bool end_array() { return close(); }

  bool start_map(std::uint32_t) { return open(Value(Object())); }
  bool start_map_key() {
    expectingKey_ = true;
    return true;
  }
  bool end_map_key() { return true; }
  bool start_map_value() { return true; }
  bool end_map_value() { return true; }
  bool end_map() { return close(); }

  void parse_error(std::size_t, std::size_t errorOffset) {
    error_ = "invalid msgpack byte at offset " + std::to_string(errorOffset);
  }
  void insufficient_bytes(std::size_t, std::size_t) { truncated_ = true; }
  bool referenced() const { return false; }
  void set_referenced(bool) {}

  const std::string& error() const { return error_; }
  bool truncated() const { return truncated_; }

 private:
  bool fail(std::string reason) {
    error_ = std::move(reason);
    return false;
  }
  bool keyMustBeString() {
    if (!expectingKey_) return true;
    return fail("a map key must be a string");
  }

  bool add(Value v) {
    if (!keyMustBeString()) return false;
    tree_.add(std::move(v));
    return true;
  }
  bool addString(const char* s, std::uint32_t n) {
    if (expectingKey_) {
      tree_.key(std::string(s, n));
      expectingKey_ = false;
      return true;
    }
    return add(Value(std::string(s, n)));
  }
  bool open(Value container) {
    if (!keyMustBeString()) return false;
    if (!tree_.open(std::move(container)))
      return fail("nesting deeper than " + std::to_string(json::kMaxDepth));
    return true;
  }
  bool close() {
    tree_.close();
    return true;
  }

  ValueTreeBuilder tree_;
  std::size_t reserveBudget_;
  bool expectingKey_ = false;
  bool truncated_ = false;
  std::string error_;
};

bool parseMsgPack(std::string_view bytes, Value& out, std::string& error) {
  MsgPackBuilder builder(out, bytes.size());
  std::size_t offset = 0;
  bool parsed = false;
  // The parser throws for one input (an ext32 length of 0xffffffff); a frame is a boundary
  // that must not unwind into the transport.
  try {
    parsed = msgpack::parse(bytes.data(), bytes.size(), offset, builder);
  } catch (const std::exception& e) {
    error = std::string("invalid msgpack: ") + e.what();
    return false;
  }
  if (!parsed) {
    if (!builder.error().empty())
      error = builder.error();
    else if (builder.truncated())
      error = "truncated msgpack";
    else
      error = "invalid msgpack";
    return false;
  }
  if (offset != bytes.size()) {
    error = std::to_string(bytes.size() - offset) + " bytes after the msgpack message";
    return false;
  }
  return true;
}

// ---- wamp.2.msgpack: Value -> bytes ----

struct AppendToString {
  std::string& out;
  void write(const char* data, std::size_t size) { out.append(data, size); }
};

using Packer = msgpack::packer<AppendToString>;

// The packer's pack_double writes integral doubles as integers (and -0.0 as 0), which would
// turn a handler's 2.0 into 2 on the wire: a double always goes out as float64.
void packFloat64(double d, std::string& out) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof bits);
  out.push_back(static_cast<char>(0xcb));
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(bits >> shift));
}

// msgpack lengths are 32-bit; a WebSocket message limit keeps every real payload far below.
std::uint32_t length32(std::size_t size) {
  return static_cast<std::uint32_t>(std::min<std::size_t>(size, UINT32_MAX));
}

// `out` is the string `packer` appends to; the packer writes through without buffering.
void pack(const Value& v, Packer& packer, std::string& out) {
  switch (v.type()) {
    case Value::Type::Null:
      packer.pack_nil();
      break;
    case Value::Type::Bool:
      if (v.asBool())
        packer.pack_true();
      else
        packer.pack_false();
      break;
    case Value::Type::Int:
      packer.pack_int64(v.asInt());  // the smallest form that holds the value
      break;
    case Value::Type::UInt:
      packer.pack_uint64(v.asUInt());
      break;
    case Value::Type::Double:
      packFloat64(v.asDouble(), out);
      break;
    case Value::Type::String: {
      std::string_view s = v.asString();
      const std::uint32_t n = length32(s.size());
      if (isValidUtf8(s)) {
        packer.pack_str(n);
        packer.pack_str_body(s.data(), n);
      } else {
        packer.pack_bin(n);
        packer.pack_bin_body(s.data(), n);
      }
      break;
    }
    case Value::Type::Array: {
      const Array& a = *v.array();
      const std::uint32_t n = length32(a.size());
      packer.pack_array(n);
      for (std::uint32_t i = 0; i < n; ++i) pack(a[i], packer, out);
      break;
    }
    case Value::Type::Object: {
      const Object& o = *v.object();
      const std::uint32_t n = length32(o.size());
      packer.pack_map(n);
      std::uint32_t written = 0;
      for (auto it = o.begin(); it != o.end() && written < n; ++it, ++written) {
        const std::uint32_t keySize = length32(it->first.size());
        packer.pack_str(keySize);
        packer.pack_str_body(it->first.data(), keySize);
        pack(it->second, packer, out);
      }
      break;
    }
  }
}

// ---- message shapes ----

enum class Kind {
  Id,       // integer in [0, 2^53]
  Integer,  // any integer
  String,
  Uri,  // a string; its syntax (and, for pattern subscriptions, empty parts) is the
        // protocol layer's to judge
  Dict,
  List,
};

struct Field {
  const char* name;
  Kind kind;
};

struct Shape {
  Type type;
  std::size_t minSize;  // elements including the type code
  std::size_t maxSize;
  std::array<Field, 6> fields;  // positions 1..maxSize-1
  const char* form;             // the spec's notation, quoted in errors
};

constexpr Shape kClientShapes[] = {
    {Type::Hello,
     3,
     3,
     {{{"Realm", Kind::Uri}, {"Details", Kind::Dict}}},
     "[HELLO, Realm|uri, Details|dict]"},
    {Type::Authenticate,
     3,
     3,
     {{{"Signature", Kind::String}, {"Extra", Kind::Dict}}},
     "[AUTHENTICATE, Signature|string, Extra|dict]"},
    {Type::Abort,
     3,
     3,
     {{{"Details", Kind::Dict}, {"Reason", Kind::Uri}}},
     "[ABORT, Details|dict, Reason|uri]"},
    {Type::Goodbye,
     3,
     3,
     {{{"Details", Kind::Dict}, {"Reason", Kind::Uri}}},
     "[GOODBYE, Details|dict, Reason|uri]"},
    {Type::Error,
     5,
     7,
     {{{"REQUEST.Type", Kind::Integer},
       {"REQUEST.Request", Kind::Id},
       {"Details", Kind::Dict},
       {"Error", Kind::Uri},
       {"Arguments", Kind::List},
       {"ArgumentsKw", Kind::Dict}}},
     "[ERROR, REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri, "
     "(Arguments|list, (ArgumentsKw|dict))]"},
    {Type::Publish,
     4,
     6,
     {{{"Request", Kind::Id},
       {"Options", Kind::Dict},
       {"Topic", Kind::Uri},
       {"Arguments", Kind::List},
       {"ArgumentsKw", Kind::Dict}}},
     "[PUBLISH, Request|id, Options|dict, Topic|uri, (Arguments|list, (ArgumentsKw|dict))]"},
    {Type::Subscribe,
     4,
     4,
     {{{"Request", Kind::Id}, {"Options", Kind::Dict}, {"Topic", Kind::Uri}}},
     "[SUBSCRIBE, Request|id, Options|dict, Topic|uri]"},
    {Type::Unsubscribe,
     3,
     3,
     {{{"Request", Kind::Id}, {"SUBSCRIBED.Subscription", Kind::Id}}},
     "[UNSUBSCRIBE, Request|id, SUBSCRIBED.Subscription|id]"},
    {Type::Call,
     4,
     6,
     {{{"Request", Kind::Id},
       {"Options", Kind::Dict},
       {"Procedure", Kind::Uri},
       {"Arguments", Kind::List},
       {"ArgumentsKw", Kind::Dict}}},
     "[CALL, Request|id, Options|dict, Procedure|uri, (Arguments|list, (ArgumentsKw|dict))]"},
    {Type::Cancel,
     3,
     3,
     {{{"CALL.Request", Kind::Id}, {"Options", Kind::Dict}}},
     "[CANCEL, CALL.Request|id, Options|dict]"},
    {Type::Register,
     4,
     4,
     {{{"Request", Kind::Id}, {"Options", Kind::Dict}, {"Procedure", Kind::Uri}}},
     "[REGISTER, Request|id, Options|dict, Procedure|uri]"},
    {Type::Unregister,
     3,
     3,
     {{{"Request", Kind::Id}, {"REGISTERED.Registration", Kind::Id}}},
     "[UNREGISTER, Request|id, REGISTERED.Registration|id]"},
    {Type::Yield,
     3,
     5,
     {{{"INVOCATION.Request", Kind::Id},
       {"Options", Kind::Dict},
       {"Arguments", Kind::List},
       {"ArgumentsKw", Kind::Dict}}},
     "[YIELD, INVOCATION.Request|id, Options|dict, (Arguments|list, (ArgumentsKw|dict))]"},
};

const Shape* clientShape(int type) {
  for (const Shape& shape : kClientShapes)
    if (static_cast<int>(shape.type) == type) return &shape;
  return nullptr;
}

bool hasKind(const Value& v, Kind kind) {
  switch (kind) {
    case Kind::Id:
      return v.type() == Value::Type::Int && v.asInt() >= 0 &&
             static_cast<std::uint64_t>(v.asInt()) <= kMaxId;
    case Kind::Integer:
      return v.isInteger();
    case Kind::String:
    case Kind::Uri:
      return v.isString();
    case Kind::Dict:
      return v.isObject();
    case Kind::List:
      return v.isArray();
  }
  return false;
}

const char* kindDescription(Kind kind) {
  switch (kind) {
    case Kind::Id:
      return "an id (an integer in [0, 2^53])";
    case Kind::Integer:
      return "an integer";
    case Kind::String:
      return "a string";
    case Kind::Uri:
      return "a URI string";
    case Kind::Dict:
      return "a dict";
    case Kind::List:
      return "a list";
  }
  return "?";
}

bool invalid(std::string& error, std::string reason) {
  error = std::move(reason);
  return false;
}

bool isKnownType(int type) {
  return std::string_view(typeName(type)) != "UNKNOWN";
}

}  // namespace

bool decode(std::string_view bytes, Serializer serializer, Array& message, std::string& error) {
  message.clear();
  Value root;
  bool parsed = false;
  if (serializer == Serializer::Json) {
    std::string reason;
    parsed = json::parse(bytes, root, &reason);
    if (parsed)
      restoreBytes(root);
    else
      error = "invalid JSON: " + reason;
  } else {
    parsed = parseMsgPack(bytes, root, error);
  }
  if (!parsed) return false;
  Array* a = root.array();
  if (!a) return invalid(error, "a WAMP message must be an array");
  message = std::move(*a);
  return true;
}

void encodeTo(const Array& message, Serializer serializer, std::string& out) {
  if (serializer == Serializer::Json) {
    out.push_back('[');
    for (std::size_t i = 0; i < message.size(); ++i) {
      if (i > 0) out.push_back(',');
      json::serializeTo(message[i], out);
    }
    out.push_back(']');
    return;
  }
  AppendToString sink{out};
  Packer packer(sink);
  const std::uint32_t n = length32(message.size());
  packer.pack_array(n);
  for (std::uint32_t i = 0; i < n; ++i) pack(message[i], packer, out);
}

std::string encode(const Array& message, Serializer serializer) {
  std::string out;
  encodeTo(message, serializer, out);
  return out;
}

bool validateFromClient(const Array& message, std::string& error) {
  if (message.empty()) return invalid(error, "an empty array is not a WAMP message");
  if (!message[0].isInteger()) return invalid(error, "the message type must be an integer");
  const int type = typeOf(message);
  const Shape* shape = clientShape(type);
  if (!shape) {
    if (isKnownType(type))
      return invalid(error, std::string(typeName(type)) + " is sent only by routers");
    return invalid(error, "unknown message type " + json::serialize(message[0]));
  }
  const char* name = typeName(type);
  if (message.size() < shape->minSize || message.size() > shape->maxSize)
    return invalid(error, std::string(name) + " has " + std::to_string(message.size()) +
                              " elements; it is " + shape->form);
  for (std::size_t i = 1; i < message.size(); ++i) {
    const Field& field = shape->fields[i - 1];
    if (!hasKind(message[i], field.kind))
      return invalid(error, std::string(name) + " " + field.name + " must be " +
                                kindDescription(field.kind) + "; it is " + shape->form);
  }
  return true;
}

int typeOf(const Array& message) noexcept {
  if (message.empty() || message[0].type() != Value::Type::Int) return 0;
  const std::int64_t type = message[0].asInt();
  // Out of int's range is no WAMP type; 0 is none either.
  if (type < INT_MIN || type > INT_MAX) return 0;
  return static_cast<int>(type);
}

const char* typeName(int type) noexcept {
  switch (static_cast<Type>(type)) {
    case Type::Hello:
      return "HELLO";
    case Type::Welcome:
      return "WELCOME";
    case Type::Abort:
      return "ABORT";
    case Type::Challenge:
      return "CHALLENGE";
    case Type::Authenticate:
      return "AUTHENTICATE";
    case Type::Goodbye:
      return "GOODBYE";
    case Type::Error:
      return "ERROR";
    case Type::Publish:
      return "PUBLISH";
    case Type::Published:
      return "PUBLISHED";
    case Type::Subscribe:
      return "SUBSCRIBE";
    case Type::Subscribed:
      return "SUBSCRIBED";
    case Type::Unsubscribe:
      return "UNSUBSCRIBE";
    case Type::Unsubscribed:
      return "UNSUBSCRIBED";
    case Type::Event:
      return "EVENT";
    case Type::Call:
      return "CALL";
    case Type::Cancel:
      return "CANCEL";
    case Type::Result:
      return "RESULT";
    case Type::Register:
      return "REGISTER";
    case Type::Registered:
      return "REGISTERED";
    case Type::Unregister:
      return "UNREGISTER";
    case Type::Unregistered:
      return "UNREGISTERED";
    case Type::Invocation:
      return "INVOCATION";
    case Type::Interrupt:
      return "INTERRUPT";
    case Type::Yield:
      return "YIELD";
  }
  return "UNKNOWN";
}

}  // namespace wampd::core::wamp2
