// Builds a Value tree from a decoder's stream of events (values, keys, container starts and
// ends), as the JSON and msgpack decoders produce them. An explicit stack of open
// containers instead of recursion: hostile nesting costs a bounded vector, never the stack.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "wampd/value.h"

namespace wampd::core {

class ValueTreeBuilder {
 public:
  /// `maxDepth`: containers open at once beyond which open() refuses.
  ValueTreeBuilder(Value& root, int maxDepth) : root_(root), maxDepth_(maxDepth) {}

  /// The key of the next value placed into the innermost open object.
  void key(std::string k) { key_ = std::move(k); }
  void add(Value v) { place(std::move(v)); }
  /// Places an empty array or object and opens it; false when that is too deep.
  bool open(Value container) {
    if (static_cast<int>(stack_.size()) >= maxDepth_) return false;
    stack_.push_back(place(std::move(container)));
    return true;
  }
  void close() { stack_.pop_back(); }

 private:
  // Constraint: a pointer on stack_ stays valid because a container does not grow while
  // one of its children is open.
  Value* place(Value v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Value* top = stack_.back();
    if (Array* a = top->array()) {
      a->push_back(std::move(v));
      return &a->back();
    }
    Object* o = top->object();
    std::string k = std::move(key_);
    key_.clear();
    o->set(k, std::move(v));
    return o->find(k);
  }

  Value& root_;
  int maxDepth_;
  std::vector<Value*> stack_;
  std::string key_;
};

}  // namespace wampd::core
