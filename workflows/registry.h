#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.h"
#include "engine/model/directory.h"

namespace expertflow::workflows {

// The reference data compiled into the binary (registry/*.json): the 89 federal subjects and
// their federal districts, the 22 UMCs of seed 001's annex with their associations, the FUMO of
// every enlarged group, the ministry, IRPO, both FTPOs, business associations, and for every
// region its RUMO (`rumo-RR`) and regional education body (`roiv-RR`).
class BuiltinDirectory final : public engine::Directory {
 public:
  // Parses the embedded files; a defect in them is a build defect and aborts with a message.
  BuiltinDirectory();

  const engine::Organization* FindOrganization(std::string_view id) const override;
  std::vector<const engine::Organization*> Organizations(std::string_view kind) const override;
  const engine::Region* FindRegion(std::string_view code) const override;
  const std::vector<engine::Region>& Regions() const override;
  // The role of its kind (ActingRole below); a FUMO's and a RUMO's chair besides.
  bool MayHoldRole(const engine::Organization& org, std::string_view role) const override;
  // registry/groups.json; members given as {"kind": K} are every organisation of that kind.
  const engine::Group* FindGroup(std::string_view id) const override;
  std::vector<const engine::Group*> Groups() const override;

 private:
  void Insert(engine::Organization org);

  mutable std::mutex mu_;  // guards additions against readers
  std::vector<engine::Region> regions_;
  std::map<std::string, std::size_t, std::less<>> region_index_;
  std::deque<engine::Organization> orgs_;  // stable addresses
  std::map<std::string, const engine::Organization*, std::less<>> by_id_;
  std::vector<engine::Group> groups_;
};

// The process-wide directory.
BuiltinDirectory& Builtin();

// Seed 001 §6.5: the FTPO that serves a federal district ("" for an unknown district).
std::string_view FtpoForDistrict(std::string_view federal_district);

// The prefix an organisation id of `kind` starts with ("umc-", "college-"; "ministry" and "irpo"
// are whole ids); "" for an unknown kind.
std::string_view IdPrefixOfKind(std::string_view kind);

// The role an organisation's people act in, by its kind: umc -> umc_lead, association ->
// association_member, fumo -> fumo_expert, rumo -> rumo_member, roiv -> region_official, ftpo ->
// ftpo_coordinator, business -> business_expert, ministry -> ministry_official, irpo and
// irpo_centre -> irpo_staff, college -> college_staff, cluster -> cluster_staff, employer ->
// employer_representative, project_office -> project_office_staff, university ->
// university_staff.
std::string_view ActingRole(const engine::Organization& org);

}  // namespace expertflow::workflows
