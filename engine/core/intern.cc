#include "engine/core/intern.h"

#include <functional>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace expertflow::engine {
namespace {

struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

const std::string* Intern(std::string_view text) {
  // Each thread remembers what it has interned, so a replay or the sequencer's thread takes the
  // lock only for a string new to it (the set of strings is small; see intern.h).
  thread_local std::unordered_map<std::string_view, const std::string*> seen;
  if (auto hit = seen.find(text); hit != seen.end()) return hit->second;
  // Nodes of an unordered_set keep their address through rehashes.
  static std::mutex mu;
  static auto* pool = new std::unordered_set<std::string, Hash, std::equal_to<>>();  // never freed
  const std::string* interned = nullptr;
  {
    std::lock_guard lock(mu);
    auto it = pool->find(text);
    if (it == pool->end()) it = pool->emplace(text).first;
    interned = &*it;
  }
  seen.emplace(*interned, interned);  // keyed by the pool's copy, which outlives the thread
  return interned;
}

}  // namespace expertflow::engine
