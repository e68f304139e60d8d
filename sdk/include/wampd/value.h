// wampd::Value: the payload type that crosses the plugin boundary.
//
// It holds what a WAMP message can carry (JSON's types, with integers kept apart from
// doubles) and nothing of the codec that produced it, so a handler never depends on the
// wire format or on which WAMP version its peers speak. Objects keep insertion order, so an
// event a handler builds goes out with its keys in the order it wrote them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

// Two false positives of g++ 12 that would break plugins built with -Werror:
// -Wshadow takes Value::Type's scoped enumerators Array and Object for redeclarations of
// wampd::Array and wampd::Object; -Wmaybe-uninitialized (at -O2) reports std::variant's move
// constructor as reading uninitialized members wherever a Value is moved, e.g. in
// Array::push_back(Value(4)). The pragmas also cover code inlined through this header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace wampd {

class Value;

/// A JSON array.
using Array = std::vector<Value>;

/// A JSON object; keys keep the order in which they were inserted.
class Object {
 public:
  using Entry = std::pair<std::string, Value>;

  Object() = default;
  Object(std::initializer_list<Entry> entries);

  /// The value under `key`, or nullptr.
  const Value* find(std::string_view key) const noexcept;
  Value* find(std::string_view key) noexcept;
  /// Sets `key` to `value`, replacing an existing entry in place.
  Object& set(std::string key, Value value);
  /// Appends an entry without looking for `key` first; the caller knows it is new
  /// (decoders that index keys themselves, so large objects cost O(n), not O(n^2)).
  void append(std::string key, Value value);
  /// The value of the i-th entry, in insertion order.
  Value& valueAt(std::size_t i);

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  auto begin() const noexcept { return entries_.begin(); }
  auto end() const noexcept { return entries_.end(); }

  bool operator==(const Object& other) const;
  bool operator!=(const Object& other) const { return !(*this == other); }

 private:
  std::vector<Entry> entries_;
};

/// A dynamically typed value: null, bool, integer, double, string, array or object.
class Value {
 public:
  enum class Type { Null, Bool, Int, UInt, Double, String, Array, Object };

  Value() noexcept = default;
  Value(std::nullptr_t) noexcept {}
  Value(bool b) noexcept : data_(b) {}
  Value(int i) noexcept : data_(std::int64_t{i}) {}
  Value(long i) noexcept : data_(std::int64_t{i}) {}
  Value(long long i) noexcept : data_(std::int64_t{i}) {}
  Value(unsigned u) noexcept : data_(std::int64_t{u}) {}
  /// Unsigned values that fit int64 are stored as Int, so equal numbers compare equal.
  Value(unsigned long u) noexcept { setUnsigned(u); }
  Value(unsigned long long u) noexcept { setUnsigned(u); }
  Value(double d) noexcept : data_(d) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(std::string_view s) : data_(std::string(s)) {}
  Value(std::string s) noexcept : data_(std::move(s)) {}
  Value(wampd::Array a) noexcept : data_(std::move(a)) {}
  Value(wampd::Object o) noexcept : data_(std::move(o)) {}

  Type type() const noexcept { return static_cast<Type>(data_.index()); }
  bool isNull() const noexcept { return type() == Type::Null; }
  bool isBool() const noexcept { return type() == Type::Bool; }
  /// True for Int and UInt.
  bool isInteger() const noexcept { return type() == Type::Int || type() == Type::UInt; }
  /// True for Int, UInt and Double.
  bool isNumber() const noexcept { return isInteger() || type() == Type::Double; }
  bool isString() const noexcept { return type() == Type::String; }
  bool isArray() const noexcept { return type() == Type::Array; }
  bool isObject() const noexcept { return type() == Type::Object; }

  /// Typed access; each returns `fallback` when the value has another type.
  bool asBool(bool fallback = false) const noexcept;
  std::int64_t asInt(std::int64_t fallback = 0) const noexcept;
  std::uint64_t asUInt(std::uint64_t fallback = 0) const noexcept;
  double asDouble(double fallback = 0.0) const noexcept;
  std::string_view asString(std::string_view fallback = {}) const noexcept;

  /// Container access; nullptr when the value is not of that type.
  const wampd::Array* array() const noexcept { return std::get_if<wampd::Array>(&data_); }
  wampd::Array* array() noexcept { return std::get_if<wampd::Array>(&data_); }
  const wampd::Object* object() const noexcept { return std::get_if<wampd::Object>(&data_); }
  wampd::Object* object() noexcept { return std::get_if<wampd::Object>(&data_); }

  /// Member lookup on an object; nullptr when absent or when this is not an object.
  const Value* find(std::string_view key) const noexcept;

  bool operator==(const Value& other) const { return data_ == other.data_; }
  bool operator!=(const Value& other) const { return !(*this == other); }

 private:
  void setUnsigned(unsigned long long u) noexcept {
    if (u <= static_cast<unsigned long long>(INT64_MAX))
      data_ = static_cast<std::int64_t>(u);
    else
      data_ = static_cast<std::uint64_t>(u);
  }

  // Order matches Type.
  std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double, std::string, wampd::Array,
               wampd::Object>
      data_;
};

// ---- inline definitions (the SDK is header-only) ----

inline Object::Object(std::initializer_list<Entry> entries) {
  for (const auto& e : entries) set(e.first, e.second);
}

inline const Value* Object::find(std::string_view key) const noexcept {
  for (const auto& e : entries_)
    if (e.first == key) return &e.second;
  return nullptr;
}

inline Value* Object::find(std::string_view key) noexcept {
  for (auto& e : entries_)
    if (e.first == key) return &e.second;
  return nullptr;
}

inline Object& Object::set(std::string key, Value value) {
  if (Value* existing = find(key))
    *existing = std::move(value);
  else
    entries_.emplace_back(std::move(key), std::move(value));
  return *this;
}

inline void Object::append(std::string key, Value value) {
  entries_.emplace_back(std::move(key), std::move(value));
}

inline Value& Object::valueAt(std::size_t i) {
  return entries_[i].second;
}

inline bool Object::operator==(const Object& other) const {
  return entries_ == other.entries_;
}

inline bool Value::asBool(bool fallback) const noexcept {
  const bool* b = std::get_if<bool>(&data_);
  return b ? *b : fallback;
}

inline std::int64_t Value::asInt(std::int64_t fallback) const noexcept {
  if (const auto* i = std::get_if<std::int64_t>(&data_)) return *i;
  return fallback;
}

inline std::uint64_t Value::asUInt(std::uint64_t fallback) const noexcept {
  if (const auto* u = std::get_if<std::uint64_t>(&data_)) return *u;
  if (const auto* i = std::get_if<std::int64_t>(&data_))
    return *i >= 0 ? static_cast<std::uint64_t>(*i) : fallback;
  return fallback;
}

inline double Value::asDouble(double fallback) const noexcept {
  if (const auto* d = std::get_if<double>(&data_)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&data_)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&data_)) return static_cast<double>(*u);
  return fallback;
}

inline std::string_view Value::asString(std::string_view fallback) const noexcept {
  const auto* s = std::get_if<std::string>(&data_);
  return s ? std::string_view(*s) : fallback;
}

inline const Value* Value::find(std::string_view key) const noexcept {
  const wampd::Object* o = object();
  return o ? o->find(key) : nullptr;
}

}  // namespace wampd

#pragma GCC diagnostic pop
