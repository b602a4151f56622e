#pragma once
// A map that holds at most `capacity` entries, dropping the least recently
// used one beyond that: for whatever the writer remembers per name that
// comes from message content (table schemas, staging tables, error-log
// tables), so that a stream of ever new names cannot grow memory without
// bound.

#include <cstddef>
#include <list>
#include <map>
#include <utility>
#include <vector>

namespace kafnus::postgis {

template <class Key, class Value>
class bounded_lru {
 public:
  explicit bounded_lru(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // The entry, marked as used now; nullptr when absent.
  Value* find(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }
  bool contains(const Key& key) const { return index_.count(key) != 0; }
  // The entry (key, value) the next put beyond the capacity pushes out (not
  // marked as used); nullptr when empty.
  const std::pair<Key, Value>* least_recent() const { return order_.empty() ? nullptr : &order_.back(); }

  // Inserts or replaces the entry (marked as used now); returns the keys it
  // pushed out, least recently used first (and their values in
  // `evicted_values` when given).
  std::vector<Key> put(const Key& key, Value value, std::vector<Value>* evicted_values = nullptr) {
    if (auto* v = find(key)) {
      *v = std::move(value);
      return {};
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    std::vector<Key> evicted;
    while (order_.size() > capacity_) {
      if (evicted_values != nullptr) evicted_values->push_back(std::move(order_.back().second));
      evicted.push_back(std::move(order_.back().first));
      index_.erase(evicted.back());
      order_.pop_back();
    }
    return evicted;
  }
  void erase(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
  }

  // Drops every entry for which `pred(key, value)` holds.
  template <class Pred>
  void erase_if(Pred pred) {
    for (auto it = order_.begin(); it != order_.end();) {
      if (pred(it->first, it->second)) {
        index_.erase(it->first);
        it = order_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void clear() {
    order_.clear();
    index_.clear();
  }
  std::size_t size() const { return order_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  using entry = std::pair<Key, Value>;
  std::size_t capacity_;
  std::list<entry> order_;  // most recently used first
  std::map<Key, typename std::list<entry>::iterator> index_;
};

}  // namespace kafnus::postgis
