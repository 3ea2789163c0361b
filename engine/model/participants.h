#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/intern.h"

namespace expertflow::engine {

// Participant slot -> organisation id, e.g. {"association": "assoc-05", "umc": "umc-05",
// "ftpo": "ftpo-nnovgorod"}, in the order of the slot names (as a std::map had them, so views
// and event data come out byte for byte as before). Both strings are interned (engine/core/
// intern.h): an entry is two pointers, where a map node with two strings took ~96 bytes and
// every instance repeated the same few slot names and organisations (issue 19).
class Participants {
  using Entry = std::pair<const std::string*, const std::string*>;

 public:
  using value_type = std::pair<const std::string&, const std::string&>;

  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Participants::value_type;
    using difference_type = std::ptrdiff_t;
    using reference = value_type;
    struct pointer {
      value_type pair;
      const value_type* operator->() const { return &pair; }
    };

    const_iterator() = default;
    explicit const_iterator(const Entry* at) : at_(at) {}
    reference operator*() const { return {*at_->first, *at_->second}; }
    pointer operator->() const { return pointer{**this}; }
    reference operator[](difference_type n) const { return *(*this + n); }
    const_iterator& operator++() { return ++at_, *this; }
    const_iterator operator++(int) { return const_iterator(at_++); }
    const_iterator& operator--() { return --at_, *this; }
    const_iterator operator--(int) { return const_iterator(at_--); }
    const_iterator& operator+=(difference_type n) { return at_ += n, *this; }
    const_iterator& operator-=(difference_type n) { return at_ -= n, *this; }
    friend const_iterator operator+(const_iterator i, difference_type n) { return i += n; }
    friend const_iterator operator+(difference_type n, const_iterator i) { return i += n; }
    friend const_iterator operator-(const_iterator i, difference_type n) { return i -= n; }
    friend difference_type operator-(const_iterator a, const_iterator b) { return a.at_ - b.at_; }
    friend auto operator<=>(const const_iterator&, const const_iterator&) = default;

   private:
    const Entry* at_ = nullptr;
  };
  using iterator = const_iterator;

  Participants() = default;
  Participants(std::initializer_list<std::pair<std::string_view, std::string_view>> slots) {
    for (const auto& [slot, org] : slots) Set(slot, org);
  }

  // Sets (or replaces) the organisation of a slot.
  void Set(std::string_view slot, std::string_view org) {
    auto it = LowerBound(slot);
    if (it != entries_.end() && *it->first == slot) {
      it->second = Intern(org);
    } else {
      entries_.insert(it, Entry{Intern(slot), Intern(org)});
    }
  }

  void Erase(std::string_view slot) {
    auto it = LowerBound(slot);
    if (it != entries_.end() && *it->first == slot) entries_.erase(it);
  }

  const_iterator find(std::string_view slot) const {
    auto it = LowerBound(slot);
    return it != entries_.end() && *it->first == slot ? Wrap(it) : end();
  }
  bool contains(std::string_view slot) const { return find(slot) != end(); }
  std::size_t count(std::string_view slot) const { return contains(slot) ? 1 : 0; }
  // The organisation of a slot; throws std::out_of_range when there is none, as map::at did.
  const std::string& at(std::string_view slot) const;
  // The organisation of a slot, or an empty string.
  const std::string& operator[](std::string_view slot) const;

  const_iterator begin() const { return Wrap(entries_.begin()); }
  const_iterator end() const { return Wrap(entries_.end()); }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // Interned strings compare by address.
  friend bool operator==(const Participants&, const Participants&) = default;

 private:
  std::vector<Entry>::iterator LowerBound(std::string_view slot) {
    return std::lower_bound(entries_.begin(), entries_.end(), slot,
                            [](const Entry& e, std::string_view s) { return *e.first < s; });
  }
  std::vector<Entry>::const_iterator LowerBound(std::string_view slot) const {
    return std::lower_bound(entries_.begin(), entries_.end(), slot,
                            [](const Entry& e, std::string_view s) { return *e.first < s; });
  }
  const_iterator Wrap(std::vector<Entry>::const_iterator it) const {
    return const_iterator(entries_.data() + (it - entries_.begin()));
  }

  std::vector<Entry> entries_;
};

inline const std::string& Participants::at(std::string_view slot) const {
  auto it = find(slot);
  if (it == end()) throw std::out_of_range("no participant " + std::string(slot));
  return it->second;
}

inline const std::string& Participants::operator[](std::string_view slot) const {
  static const std::string kNone;
  auto it = find(slot);
  return it == end() ? kNone : it->second;
}

}  // namespace expertflow::engine
