#include "engine/model/registry_layer.h"

#include <algorithm>

namespace expertflow::engine {
namespace {

std::string Text(const Fields& fields, const char* key) { return fields.value(key, ""); }

template <typename T>
std::vector<std::string> Keys(const T& set) {
  return std::vector<std::string>(set.begin(), set.end());
}

}  // namespace

bool IsRegistryStream(std::string_view stream) {
  auto slash = stream.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view collection = stream.substr(0, slash);
  return collection == kOrganizationsCollection || collection == kGroupsCollection;
}

// The entry made from `s`, or a new empty one to fill.
template <typename E>
static auto& SlotFor(std::vector<E>& entries, const InstanceState& s) {
  for (auto& e : entries) {
    if (e.state == s.state && e.fields == s.fields) return e.value;
  }
  entries.push_back({s.state, s.fields, nullptr});
  return entries.back().value;
}

const Organization* RegistryVersions::OrganizationOf(const InstanceState& s) {
  std::lock_guard lock(mu_);
  auto& slot = SlotFor(orgs_[{s.id, s.version}], s);
  if (!slot) {
    auto o = std::make_unique<Organization>();
    o->id = s.id;
    o->kind = Text(s.fields, "kind");
    o->name = Text(s.fields, "name");
    o->name_en = Text(s.fields, "name_en");
    o->region_code = Text(s.fields, "region_code");
    if (const Region* r = base_.FindRegion(o->region_code))
      o->federal_district = r->federal_district;
    o->industry = Text(s.fields, "industry");
    o->ugps = Text(s.fields, "ugps");
    // What the API does not edit (a UMC's industry name, lead college, key employer) stays as
    // the embedded registry has it.
    if (const Organization* e = base_.FindOrganization(s.id)) o->extra = e->extra;
    o->version = s.version;
    o->retired = s.state == "retired";
    slot = std::move(o);
  }
  return slot.get();
}

const Group* RegistryVersions::GroupOf(const InstanceState& s) {
  std::lock_guard lock(mu_);
  auto& slot = SlotFor(groups_[{s.id, s.version}], s);
  if (!slot) {
    auto g = std::make_unique<Group>();
    g->id = s.id;
    g->name = Text(s.fields, "name");
    g->name_en = Text(s.fields, "name_en");
    if (const nlohmann::json members = s.fields.Get("members"); members.is_array()) {
      for (const auto& m : members) {
        if (m.is_string()) g->members.push_back(m.get<std::string>());
      }
    }
    if (const nlohmann::json provisional = s.fields.Get("provisional"); provisional.is_boolean())
      g->provisional = provisional.get<bool>();
    g->version = s.version;
    g->retired = s.state == "retired";
    slot = std::move(g);
  }
  return slot.get();
}

void RegistryVersions::Publish(const InstanceState& s) {
  if (s.collection == kOrganizationsCollection) {
    const Organization* o = OrganizationOf(s);
    std::lock_guard lock(mu_);
    durable_orgs_[s.id] = o;
    decided_orgs_.insert(s.id);
  } else if (s.collection == kGroupsCollection) {
    const Group* g = GroupOf(s);
    std::lock_guard lock(mu_);
    durable_groups_[s.id] = g;
    decided_groups_.insert(s.id);
  }
}

const Organization* RegistryVersions::DurableOrganization(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = durable_orgs_.find(id);
  return it == durable_orgs_.end() ? nullptr : it->second;
}

const Group* RegistryVersions::DurableGroup(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = durable_groups_.find(id);
  return it == durable_groups_.end() ? nullptr : it->second;
}

std::vector<std::string> RegistryVersions::DurableIds(std::string_view collection) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  if (collection == kOrganizationsCollection) {
    for (const auto& [id, o] : durable_orgs_) out.push_back(id);
  } else if (collection == kGroupsCollection) {
    for (const auto& [id, g] : durable_groups_) out.push_back(id);
  }
  return out;
}

std::vector<std::string> RegistryVersions::DecidedIds(std::string_view collection) const {
  std::lock_guard lock(mu_);
  if (collection == kOrganizationsCollection) return Keys(decided_orgs_);
  if (collection == kGroupsCollection) return Keys(decided_groups_);
  return {};
}

void RegistryVersions::NoteDecided(std::string_view collection, std::string_view id) {
  std::lock_guard lock(mu_);
  if (collection == kOrganizationsCollection) decided_orgs_.emplace(id);
  if (collection == kGroupsCollection) decided_groups_.emplace(id);
}

const Organization* LayeredDirectory::FindOrganization(std::string_view id) const {
  if (const Organization* o = source_.organization(id)) return o;
  return base_.FindOrganization(id);
}

std::vector<const Organization*> LayeredDirectory::Organizations(std::string_view kind) const {
  const std::vector<std::string> logged = source_.ids(kOrganizationsCollection);
  if (logged.empty()) return base_.Organizations(kind);
  // The embedded registry's order, each replaced by its version in the log; then those the log
  // registered, by id. A version may have changed kind, so every one is looked at.
  std::vector<const Organization*> out;
  for (const Organization* o : base_.Organizations("")) {
    if (std::binary_search(logged.begin(), logged.end(), o->id)) {
      if (const Organization* v = source_.organization(o->id)) o = v;
    }
    if (!o->retired && (kind.empty() || o->kind == kind)) out.push_back(o);
  }
  for (const std::string& id : logged) {
    if (base_.FindOrganization(id) != nullptr) continue;
    const Organization* o = source_.organization(id);
    if (o != nullptr && !o->retired && (kind.empty() || o->kind == kind)) out.push_back(o);
  }
  return out;
}

const Group* LayeredDirectory::FindGroup(std::string_view id) const {
  if (const Group* g = source_.group(id)) return g;
  return base_.FindGroup(id);
}

std::vector<const Group*> LayeredDirectory::Groups() const {
  const std::vector<std::string> logged = source_.ids(kGroupsCollection);
  std::vector<const Group*> out;
  for (const Group* g : base_.Groups()) {
    if (const Group* v = source_.group(g->id)) g = v;
    if (!g->retired) out.push_back(g);
  }
  for (const std::string& id : logged) {
    if (base_.FindGroup(id) != nullptr) continue;
    const Group* g = source_.group(id);
    if (g != nullptr && !g->retired) out.push_back(g);
  }
  return out;
}

std::vector<std::string> GroupMembers(const Directory& directory, const Group& group) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::set<std::string> visiting{group.id};
  std::function<void(const Group&)> walk = [&](const Group& g) {
    for (const std::string& m : g.members) {
      if (m.starts_with("group:")) {
        const std::string id = m.substr(6);
        const Group* inner = directory.FindGroup(id);
        // A cycle is refused when a member is added; a store that holds one anyway stops here.
        if (inner == nullptr || inner->retired || !visiting.insert(id).second) continue;
        walk(*inner);
        visiting.erase(id);
        continue;
      }
      const Organization* o = directory.FindOrganization(m);
      if (o == nullptr || o->retired) continue;
      if (seen.insert(m).second) out.push_back(m);
    }
  };
  walk(group);
  return out;
}

}  // namespace expertflow::engine
