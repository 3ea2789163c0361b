#include "engine/core/intern.h"

#include <functional>
#include <mutex>
#include <unordered_set>

namespace expertflow::engine {
namespace {

struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

const std::string* Intern(std::string_view text) {
  // Nodes of an unordered_set keep their address through rehashes.
  static std::mutex mu;
  static auto* pool = new std::unordered_set<std::string, Hash, std::equal_to<>>();  // never freed
  std::lock_guard lock(mu);
  auto it = pool->find(text);
  if (it == pool->end()) it = pool->emplace(text).first;
  return &*it;
}

}  // namespace expertflow::engine
