#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/model/directory.h"
#include "engine/model/instance.h"

namespace expertflow::engine {

// Reference data is history (issue 15): organisations and named groups are instances of the
// workflows `organization` and `group` (workflows/organization.v1.json, group.v1.json), in these
// collections, their id the organisation's or the group's own. The registry compiled into the
// binary is their first version; an instance in the log stands over it from its creation on.
inline constexpr std::string_view kOrganizationsCollection = "organizations";
inline constexpr std::string_view kGroupsCollection = "groups";

// True for a stream of reference data ("organizations/college-77-1", "groups/roiv").
bool IsRegistryStream(std::string_view stream);

// The log's versions of reference data, as Organization and Group values: each instance
// version is turned into one once and kept for the life of this object, so that a pointer a
// reader was given stays valid however the registry changes after (the registry changes a few
// times a month; its versions are few). Also keeps which of them are durable, for readers
// outside the sequencer, and which ids the sequencer has decided creations of. Thread-safe.
class RegistryVersions {
 public:
  explicit RegistryVersions(const Directory& base) : base_(base) {}

  // The value of one version of an instance of kOrganizationsCollection / kGroupsCollection.
  const Organization* OrganizationOf(const InstanceState& s);
  const Group* GroupOf(const InstanceState& s);

  // The state `s` of a registry stream is durable: readers see it from now on.
  void Publish(const InstanceState& s);
  const Organization* DurableOrganization(std::string_view id) const;
  const Group* DurableGroup(std::string_view id) const;

  // Ids of a collection: those durable, or those decided (created in a batch not yet durable
  // too; a creation rolled back stays named, and finds no instance). Sorted.
  std::vector<std::string> DurableIds(std::string_view collection) const;
  std::vector<std::string> DecidedIds(std::string_view collection) const;
  void NoteDecided(std::string_view collection, std::string_view id);

 private:
  // One converted value with the state it was made from. A version is not enough to name a
  // state: a refused group or a failed write undoes states, and the same version may then be
  // decided with other content; a lookup compares the content and adds a value when it differs.
  template <typename T>
  struct Entry {
    std::string state;
    Fields fields;
    std::unique_ptr<T> value;
  };
  template <typename T>
  using Versions = std::map<std::pair<std::string, std::uint64_t>, std::vector<Entry<T>>>;

  const Directory& base_;
  mutable std::mutex mu_;
  Versions<Organization> orgs_;
  Versions<Group> groups_;
  std::map<std::string, const Organization*, std::less<>> durable_orgs_;
  std::map<std::string, const Group*, std::less<>> durable_groups_;
  std::set<std::string, std::less<>> decided_orgs_, decided_groups_;
};

// The registry as it stands at one point: the embedded one with the log's versions over it.
// `find` answers the log's version of a registry stream ("organizations/ID") or null, `ids` the
// ids the log may have in a collection; both are called with no lock held by this class.
class LayeredDirectory final : public Directory {
 public:
  struct Source {
    std::function<const Organization*(std::string_view id)> organization;
    std::function<const Group*(std::string_view id)> group;
    std::function<std::vector<std::string>(std::string_view collection)> ids;
  };
  LayeredDirectory(const Directory& base, Source source)
      : base_(base), source_(std::move(source)) {}

  // Retired organisations are found (history names them) but not listed.
  const Organization* FindOrganization(std::string_view id) const override;
  std::vector<const Organization*> Organizations(std::string_view kind) const override;
  const Region* FindRegion(std::string_view code) const override { return base_.FindRegion(code); }
  const std::vector<Region>& Regions() const override { return base_.Regions(); }
  // A retired organisation holds no role: no token is issued for it.
  bool MayHoldRole(const Organization& org, std::string_view role) const override {
    return !org.retired && base_.MayHoldRole(org, role);
  }
  const Group* FindGroup(std::string_view id) const override;
  std::vector<const Group*> Groups() const override;

  const Directory& base() const { return base_; }

 private:
  const Directory& base_;
  Source source_;
};

// The organisation ids a group stands for now: its members, and the members of the groups it
// names ("group:ID"), in order, each once; retired organisations are left out.
std::vector<std::string> GroupMembers(const Directory& directory, const Group& group);

}  // namespace expertflow::engine
