// Builds a Value tree from a decoder's stream of events (values, keys, container starts and
// ends), as the JSON and msgpack decoders produce them. An explicit stack of open
// containers instead of recursion: hostile nesting costs a bounded vector, never the stack.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
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
    Value* placed = place(std::move(container));
    stack_.push_back({placed, nullptr});
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
    Open& top = stack_.back();
    if (Array* a = top.container->array()) {
      a->push_back(std::move(v));
      return &a->back();
    }
    Object* o = top.container->object();
    std::string k = std::move(key_);
    key_.clear();
    // Duplicate keys replace in place (last wins); small objects scan, large ones index, so
    // a hostile object with many keys costs linear time.
    if (!top.index && o->size() < kIndexFrom) {
      o->set(k, std::move(v));
      return o->find(k);
    }
    if (!top.index) {
      top.index = std::make_unique<std::unordered_map<std::string, std::size_t>>();
      std::size_t i = 0;
      for (const auto& entry : *o) top.index->emplace(entry.first, i++);
    }
    auto [it, fresh] = top.index->emplace(k, o->size());
    if (!fresh) return &(o->valueAt(it->second) = std::move(v));
    o->append(std::move(k), std::move(v));
    return &o->valueAt(o->size() - 1);
  }

  static constexpr std::size_t kIndexFrom = 16;

  struct Open {
    Value* container;
    std::unique_ptr<std::unordered_map<std::string, std::size_t>> index;
  };

  Value& root_;
  int maxDepth_;
  std::vector<Open> stack_;
  std::string key_;
};

}  // namespace wampd::core
