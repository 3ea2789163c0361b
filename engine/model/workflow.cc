#include "engine/model/workflow.h"

#include <algorithm>

namespace expertflow::engine {
namespace {

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

const StateSpec* Definition::FindState(std::string_view name) const {
  for (const auto& s : states) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const CommandSpec* Definition::FindCommand(std::string_view name, std::string_view state) const {
  for (const auto& c : commands) {
    if (c.name == name && Contains(c.from, state)) return &c;
  }
  return nullptr;
}

std::vector<std::string> Definition::CommandsIn(std::string_view state) const {
  std::vector<std::string> out;
  for (const auto& c : commands) {
    if (Contains(c.from, state) && !Contains(out, c.name)) out.push_back(c.name);
  }
  return out;
}

Result<void> DefinitionSet::Add(Definition definition) {
  auto key = std::make_pair(definition.id, definition.version);
  if (by_id_.contains(key)) {
    return Fail(ErrorCode::kValidationFailed, "workflow " + definition.id + " v" +
                                                  std::to_string(definition.version) +
                                                  " is loaded twice");
  }
  for (const auto& [k, d] : by_id_) {
    if (k.first == definition.id && d->collection != definition.collection) {
      return Fail(ErrorCode::kValidationFailed,
                  "workflow " + definition.id + " changes its collection between versions");
    }
  }
  by_id_.emplace(std::move(key), std::make_shared<const Definition>(std::move(definition)));
  return {};
}

const Definition* DefinitionSet::Find(std::string_view id, std::uint32_t version) const {
  auto it = by_id_.find(std::make_pair(std::string(id), version));
  return it == by_id_.end() ? nullptr : it->second.get();
}

const Definition* DefinitionSet::Latest(std::string_view id) const {
  const Definition* best = nullptr;
  for (const auto& [k, d] : by_id_) {
    if (k.first == id) best = d.get();  // map order: versions ascending
  }
  return best;
}

std::vector<const Definition*> DefinitionSet::InCollection(std::string_view collection) const {
  std::vector<const Definition*> out;
  for (const auto& [k, d] : by_id_) {
    if (d->collection != collection) continue;
    if (!out.empty() && out.back()->id == d->id) {
      out.back() = d.get();
    } else {
      out.push_back(d.get());
    }
  }
  return out;
}

std::vector<const Definition*> DefinitionSet::All() const {
  std::vector<const Definition*> out;
  for (const auto& [k, d] : by_id_) out.push_back(d.get());
  return out;
}

}  // namespace expertflow::engine
