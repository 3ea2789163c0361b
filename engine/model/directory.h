#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.h"
#include "engine/model/participants.h"

namespace expertflow::engine {

// The roles of API.md, "Authentication and who may do what": the one list the definition loader
// checks commands against and the token issuer checks tokens against.
// witness: an outside party that cosigns the log's checkpoints (docs/audit.md).
// fumo_chair and rumo_chair: the chair a party acts through ("в лице председателя", seed 000
// annex 2) to sign, amend and terminate an agreement (agreement v2).
// The five before them report on protocol assignments for the kinds of organisation seeds 002 and
// 003 assign work to (issue 15): colleges, clusters, employers, the Project Office, the university.
inline constexpr std::array<std::string_view, 19> kRoles = {"association_member",
                                                            "umc_lead",
                                                            "fumo_expert",
                                                            "rumo_member",
                                                            "irpo_staff",
                                                            "business_expert",
                                                            "ftpo_coordinator",
                                                            "ministry_official",
                                                            "region_official",
                                                            "auditor",
                                                            "witness",
                                                            "admin",
                                                            "college_staff",
                                                            "cluster_staff",
                                                            "employer_representative",
                                                            "project_office_staff",
                                                            "university_staff",
                                                            "fumo_chair",
                                                            "rumo_chair"};

inline bool IsKnownRole(std::string_view role) {
  return std::find(kRoles.begin(), kRoles.end(), role) != kRoles.end();
}

// A subject of the Russian Federation with its federal district (DOMAIN.md; seed 001 §6.5).
struct Region {
  std::string code;  // two-digit code as the tax service uses it: "77", "52", "93"
  std::string name;  // Russian name
  std::string name_en;
  std::string federal_district;  // "central", "northwestern", "southern", "north_caucasian",
                                 // "volga", "ural", "siberian", "far_eastern", "reunited"
};

// An organisation that takes part in workflows.
struct Organization {
  std::string id;    // "umc-05", "assoc-05", "fumo-09.00.00", "rumo-52", "roiv-52", "ftpo-kaluga"
  std::string kind;  // "umc", "association", "fumo", "rumo", "roiv", "ftpo", "business",
                     // "ministry", "irpo", "irpo_centre", "project_office", "university",
                     // "college", "cluster", "employer"
  std::string name;  // Russian name
  std::string name_en;
  std::string region_code;       // where it sits (a UMC: the region of its lead college)
  std::string federal_district;  // of that region
  std::string industry;          // UMC and association: the industry key they share
  std::string ugps;              // FUMO: the enlarged group code "09.00.00"
  nlohmann::json extra = nlohmann::json::object();  // the rest of the reference data
  // Reference data is history (issue 15): 0 for the embedded registry's version, else the
  // version of the organisation's stream in the log ("organizations/{id}") that gave this one.
  std::uint64_t version = 0;
  bool retired = false;  // retired by the ministry: named in history, given no new work
};

// A named group of organisations a protocol may address as one ("all regional bodies", "regions
// with a ЦОПП", "participants of Professionalitet in 2023"). A protocol records the members the
// group had when it was registered.
struct Group {
  std::string id;  // "copp-regions"; a protocol names it "group:copp-regions"
  std::string name;
  std::string name_en;
  std::vector<std::string> members;  // organisation ids, in registry order
  bool provisional = false;          // the seeds do not list the members: the registry's guess
  std::uint64_t version = 0;         // as Organization::version, of "groups/{id}"
  bool retired = false;
};

// Reference data the engine consults: who exists, of what kind, where. Read-only.
class Directory {
 public:
  virtual ~Directory() = default;
  virtual const Organization* FindOrganization(std::string_view id) const = 0;
  // Organisations of one kind ("" for all), in registry order.
  virtual std::vector<const Organization*> Organizations(std::string_view kind) const = 0;
  virtual const Region* FindRegion(std::string_view code) const = 0;
  virtual const std::vector<Region>& Regions() const = 0;
  // Whether people of `org` may act in `role` (a UMC's people as umc_lead, a region's body as
  // region_official, ...). Tokens are issued only for such pairs: a principal whose role its
  // organisation cannot hold would borrow another kind's rights (an IRPO token as a region's).
  virtual bool MayHoldRole(const Organization& org, std::string_view role) const = 0;
  virtual const Group* FindGroup(std::string_view /*id*/) const { return nullptr; }
  virtual std::vector<const Group*> Groups() const { return {}; }
};

// What a routing function is given: the creator and the creation payload. A definition's
// command may also name a routing function as its `check` (reference data, issue 15): it is then
// given the acting principal, the command's payload, and the instance it acts on (its id, its
// fields and its state), and its participants are ignored: only a refusal counts.
struct InstanceState;

struct RoutingInput {
  const Directory& directory;
  std::string_view creator_org;
  std::string_view creator_role;
  const nlohmann::json& payload;
  std::string_view instance_id = {};
  const nlohmann::json* fields = nullptr;   // null at creation
  std::string_view command = {};            // "create" at creation
  const InstanceState* instance = nullptr;  // a check's instance as it stands; null at creation
};

// Routing that needs reference data is a named C++ function the definition refers to
// (DESIGN.md). It fails with kValidationFailed (field errors in details) or kForbidden.
using RoutingFunction = std::function<Result<Participants>(const RoutingInput&)>;
using RoutingTable = std::map<std::string, RoutingFunction, std::less<>>;

}  // namespace expertflow::engine
