// Value equality for round trips: as Value::operator==, except that a NaN equals a NaN of
// the same bits (msgpack carries NaN, and NaN != NaN would fail every round trip of one).
#pragma once

#include <cstring>

#include "wampd/value.h"

namespace wampd::fuzz {

inline bool sameValue(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::Double: {
      const double x = a.asDouble(), y = b.asDouble();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    case Value::Type::Array: {
      const Array& x = *a.array();
      const Array& y = *b.array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!sameValue(x[i], y[i])) return false;
      return true;
    }
    case Value::Type::Object: {
      const Object& x = *a.object();
      const Object& y = *b.object();
      if (x.size() != y.size()) return false;
      for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j)
        if (i->first != j->first || !sameValue(i->second, j->second)) return false;
      return true;
    }
    default:
      return a == b;
  }
}

}  // namespace wampd::fuzz
