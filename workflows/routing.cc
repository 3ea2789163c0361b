#include "workflows/routing.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <iterator>
#include <optional>
#include <set>

#include "engine/core/time.h"
#include "engine/model/instance.h"
#include "engine/model/payload.h"
#include "engine/model/registry_layer.h"
#include "workflows/registry.h"

namespace expertflow::workflows {
namespace {

using engine::ErrorCode;
using engine::Participants;
using engine::Result;
using engine::RoutingInput;

std::unexpected<engine::Error> Invalid(const std::string& field, const std::string& message) {
  return engine::Fail(ErrorCode::kValidationFailed, field + " " + message,
                      {{"errors", {{{"field", field}, {"message", message}}}}});
}

std::string PayloadString(const RoutingInput& in, const char* field) {
  auto it = in.payload.find(field);
  return it != in.payload.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<Participants> IndustryProposal(const RoutingInput& in) {
  const engine::Organization* creator = in.directory.FindOrganization(in.creator_org);
  if (creator == nullptr || (creator->kind != "association" && creator->kind != "umc")) {
    return engine::Fail(ErrorCode::kForbidden,
                        "industry proposals are drafted by an industry association or its UMC");
  }
  // assoc-NN and umc-NN share the number of their industry (seed 001 annex).
  const std::string number = creator->id.substr(creator->id.find('-') + 1);
  const engine::Organization* umc = in.directory.FindOrganization("umc-" + number);
  if (umc == nullptr) return engine::Fail(ErrorCode::kForbidden, "no UMC for " + creator->id);
  const std::string_view ftpo = FtpoForDistrict(umc->federal_district);
  if (ftpo.empty()) return engine::Fail(ErrorCode::kInternal, umc->id + " has no federal district");
  return Participants{{"association", "assoc-" + number},
                      {"umc", umc->id},
                      {"ftpo", std::string(ftpo)},
                      {"irpo", "irpo"},
                      {"ministry", "ministry"}};
}

Result<Participants> FgosProposal(const RoutingInput& in) {
  const engine::Organization* creator = in.directory.FindOrganization(in.creator_org);
  if (creator == nullptr || creator->kind != "rumo") {
    return engine::Fail(ErrorCode::kForbidden,
                        "FGOS proposals are prepared by a RUMO (seed 000 §4.2a)");
  }
  const std::string ugps = PayloadString(in, "ugps");
  const engine::Organization* fumo = in.directory.FindOrganization("fumo-" + ugps);
  if (fumo == nullptr) return Invalid("ugps", "has no FUMO");
  return Participants{{"rumo", creator->id}, {"fumo", fumo->id}, {"ministry", "ministry"}};
}

// --- fgos_proposal v2 (seed 000 §4.2а, в, д; §5.1, §5.4) ------------------------------------

// The kinds of proposal (the creation's `kind`; a version 1 body has none: a draft standard).
std::string ProposalKind(const nlohmann::json* fields) {
  if (fields == nullptr) return "fgos";
  auto it = fields->find("kind");
  return it != fields->end() && it->is_string() ? it->get<std::string>() : "fgos";
}

// A RUMO prepares proposals and submits them to the FUMO of their УГПС (§4.2а, second bullet);
// a FUMO prepares its own, for its own group (§4.2а, first bullet; §4.2в: the list of professions
// and specialties is the FUMO's alone). The author is recorded; only a RUMO's proposal has a
// recipient, the FUMO it is submitted to, which alone may return it to the RUMO.
Result<Participants> FgosProposalV2(const RoutingInput& in) {
  const engine::Organization* creator = in.directory.FindOrganization(in.creator_org);
  if (creator == nullptr || (creator->kind != "rumo" && creator->kind != "fumo")) {
    return engine::Fail(ErrorCode::kForbidden,
                        "FGOS proposals are prepared by a RUMO or a FUMO (seed 000 §4.2а)");
  }
  const std::string ugps = PayloadString(in, "ugps");
  const std::string kind = ProposalKind(&in.payload);
  if (kind == "fgos" && PayloadString(in, "standard").empty())
    return Invalid("standard", "is required for a proposal on a draft standard (kind fgos)");
  if (creator->kind == "fumo") {
    std::string own = creator->ugps;
    if (own.empty() && creator->id.starts_with("fumo-")) own = creator->id.substr(5);
    if (own != ugps) return Invalid("ugps", "must be the FUMO's own group, " + own);
    return Participants{{"fumo", creator->id}, {"author", creator->id}, {"ministry", "ministry"}};
  }
  if (kind == "list")
    return Invalid("kind", "list: the list of professions and specialties is a FUMO's (§4.2в)");
  const engine::Organization* fumo = in.directory.FindOrganization("fumo-" + ugps);
  if (fumo == nullptr || fumo->retired) return Invalid("ugps", "has no FUMO");
  return Participants{{"rumo", creator->id},
                      {"fumo", fumo->id},
                      {"author", creator->id},
                      {"recipient", fumo->id},
                      {"ministry", "ministry"}};
}

// open_expertise: the RUMOs the FUMO invites. The RUMOs take part in the expertise of a draft
// standard or programme (§4.2а), so kinds fgos and pop name at least one; for an assessment kit
// (§5.4 «при необходимости») or the list, none is fine. A RUMO registered for a subject area is
// of the proposal's УГПС (§5.4 «согласно УГПС»); a region's general RUMO, with no УГПС recorded,
// may take part in any.
Result<Participants> FgosExpertise(const RoutingInput& in) {
  const std::string kind = ProposalKind(in.fields);
  std::string ugps;
  if (in.fields != nullptr) {
    if (auto it = in.fields->find("ugps"); it != in.fields->end() && it->is_string())
      ugps = it->get<std::string>();
  }
  auto experts = in.payload.find("experts");
  if (experts == in.payload.end() || !experts->is_array())
    return Invalid("experts", "must be a list of RUMOs");
  if (experts->empty() && (kind == "fgos" || kind == "pop"))
    return Invalid("experts",
                   "must name a RUMO: the RUMOs take part in the expertise of a draft standard "
                   "or programme (§4.2а)");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < experts->size(); ++i) {
    const std::string field = "experts[" + std::to_string(i) + "]";
    const auto& item = (*experts)[i];
    if (!item.is_string()) return Invalid(field, "must be an organisation id");
    const std::string id = item.get<std::string>();
    if (!seen.insert(id).second) return Invalid(field, "is listed twice");
    const engine::Organization* o = in.directory.FindOrganization(id);
    if (o == nullptr || o->kind != "rumo") return Invalid(field, "must be a RUMO");
    if (o->retired) return Invalid(field, "is a retired organisation");
    if (!o->ugps.empty() && o->ugps != ugps)
      return Invalid(field, "is a RUMO of the group " + o->ugps + ", not of " + ugps);
  }
  return Participants{};
}

Result<Participants> Agreement(const RoutingInput& in) {
  const std::string fumo = PayloadString(in, "fumo");
  const std::string rumo = PayloadString(in, "rumo");
  const engine::Organization* f = in.directory.FindOrganization(fumo);
  const engine::Organization* r = in.directory.FindOrganization(rumo);
  if (f == nullptr || f->kind != "fumo") return Invalid("fumo", "must be a FUMO");
  if (r == nullptr || r->kind != "rumo") return Invalid("rumo", "must be a RUMO");
  if (in.creator_org != fumo && in.creator_org != rumo) {
    return engine::Fail(ErrorCode::kForbidden, "an agreement is drafted by one of its parties");
  }
  return Participants{{"fumo", fumo}, {"rumo", rumo}};
}

// A date of the payload, or nothing.
std::optional<std::chrono::year_month_day> PayloadDate(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return engine::ParseDate(it->get<std::string>());
}

// --- industry_proposal v2 and its neighbours (seed 001 as written, issue 16) ------------------

// The industry number NN of an association (assoc-NN) or a UMC (umc-NN): the annex's row.
std::string IndustryNumber(const engine::Organization& org) {
  return org.id.substr(org.id.find('-') + 1);
}

// The association, the UMC and the FTPO of the creator's industry; the creator must be one of
// the kinds `kinds` names.
Result<Participants> IndustrySlots(const RoutingInput& in,
                                   std::initializer_list<std::string_view> kinds,
                                   const char* refusal) {
  const engine::Organization* creator = in.directory.FindOrganization(in.creator_org);
  if (creator == nullptr ||
      std::find(kinds.begin(), kinds.end(), std::string_view(creator->kind)) == kinds.end())
    return engine::Fail(ErrorCode::kForbidden, refusal);
  const std::string number = IndustryNumber(*creator);
  const engine::Organization* umc = in.directory.FindOrganization("umc-" + number);
  const engine::Organization* assoc = in.directory.FindOrganization("assoc-" + number);
  if (umc == nullptr || assoc == nullptr)
    return engine::Fail(ErrorCode::kForbidden, "no UMC and association for " + creator->id);
  // §6.5: the FTPO of the UMC's federal district.
  const std::string_view ftpo = FtpoForDistrict(umc->federal_district);
  if (ftpo.empty()) return engine::Fail(ErrorCode::kInternal, umc->id + " has no federal district");
  return Participants{{"association", assoc->id}, {"umc", umc->id}, {"ftpo", std::string(ftpo)}};
}

// §5.1: positions are the association's.
Result<Participants> IndustryPosition(const RoutingInput& in) {
  auto slots = IndustrySlots(in, {"association"},
                             "positions are formed by an industry association (seed 001 §5.1)");
  if (!slots) return slots;
  slots->Erase("ftpo");
  return slots;
}

// §5.2: the UMC forms the draft with the association; either may start it, and the one that does
// is its author until it is submitted. The positions it consolidates are named once each.
Result<Participants> IndustryProposalV2(const RoutingInput& in) {
  auto slots = IndustrySlots(in, {"association", "umc"},
                             "industry proposals are drafted by an industry association or its "
                             "UMC (seed 001 §5.1, §5.2)");
  if (!slots) return slots;
  if (auto it = in.payload.find("positions"); it != in.payload.end() && it->is_array()) {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < it->size(); ++i) {
      if ((*it)[i].is_string() && !seen.insert((*it)[i].get<std::string>()).second)
        return Invalid("positions[" + std::to_string(i) + "]", "is listed twice");
    }
  }
  slots->Set("author", in.creator_org);
  // The annex names a key employer for each industry: a business-community body of it (§1.3.3).
  const std::string employer = "business-key-" + (*slots)["umc"].substr(4);
  if (const engine::Organization* e = in.directory.FindOrganization(employer);
      e != nullptr && !e->retired)
    slots->Set("key_employer", employer);
  slots->Set("irpo", "irpo");
  slots->Set("ministry", "ministry");
  return slots;
}

// §6.4: the yearly plan of industry events at the FTPO, formed by the UMC with the association.
Result<Participants> IndustryEventsPlan(const RoutingInput& in) {
  return IndustrySlots(in, {"association", "umc"},
                       "the plan of industry events is formed by a UMC with its association "
                       "(seed 001 §6.4)");
}

std::vector<std::string> Strings(const nlohmann::json* j) {
  std::vector<std::string> out;
  if (j == nullptr || !j->is_array()) return out;
  for (const auto& x : *j) {
    if (x.is_string()) out.push_back(x.get<std::string>());
  }
  return out;
}

const nlohmann::json* Field(const RoutingInput& in, const char* key) {
  if (in.fields == nullptr) return nullptr;
  auto it = in.fields->find(key);
  return it == in.fields->end() ? nullptr : &*it;
}

// §5.3: the expertise is by the FUMOs of the proposal's УГПС (every one of them), IRPO and the
// business community of the industry (the key employer, and whom the UMC invites besides).
Result<Participants> IndustryExpertise(const RoutingInput& in) {
  const std::vector<std::string> groups = Strings(Field(in, "ugps"));
  if (groups.empty())
    return Invalid("experts.fumo",
                   "needs the proposal's УГПС: the FUMOs of its groups give the conclusion; add "
                   "them with update first");
  std::set<std::string> expected;
  for (const auto& g : groups) {
    if (const engine::Organization* f = in.directory.FindOrganization("fumo-" + g);
        f != nullptr && !f->retired)
      expected.insert(f->id);
  }
  const nlohmann::json& experts = in.payload.value("experts", nlohmann::json::object());
  const std::vector<std::string> fumo =
      Strings(experts.contains("fumo") ? &experts["fumo"] : nullptr);
  std::set<std::string> named;
  for (std::size_t i = 0; i < fumo.size(); ++i) {
    const std::string field = "experts.fumo[" + std::to_string(i) + "]";
    if (!named.insert(fumo[i]).second) return Invalid(field, "is listed twice");
    if (!expected.contains(fumo[i]))
      return Invalid(field, "is not the FUMO of one of the proposal's УГПС");
  }
  for (const auto& f : expected) {
    if (!named.contains(f)) return Invalid("experts.fumo", "must name " + f + " too");
  }
  const std::vector<std::string> business =
      Strings(experts.contains("business") ? &experts["business"] : nullptr);
  std::set<std::string> invited;
  for (std::size_t i = 0; i < business.size(); ++i) {
    const std::string field = "experts.business[" + std::to_string(i) + "]";
    if (!invited.insert(business[i]).second) return Invalid(field, "is listed twice");
    const engine::Organization* b = in.directory.FindOrganization(business[i]);
    if (b != nullptr && b->retired) return Invalid(field, "is a retired organisation");
  }
  const bool key_employer =
      in.instance != nullptr && in.instance->participants.contains("key_employer");
  if (!key_employer && business.empty())
    return Invalid("experts.business",
                   "needs a business-community body: the industry has no key employer on record "
                   "(seed 001 §5.3)");
  return Participants{};
}

// An expert asks for more time, or the UMC answers: the expert is one the open round still
// waits for.
Result<Participants> IndustryExtension(const RoutingInput& in) {
  if (in.command == "request_extension") return Participants{};
  const std::string expert = PayloadString(in, "expert");
  const bool pending =
      in.instance != nullptr && in.instance->round &&
      std::any_of(in.instance->round->parties.begin(), in.instance->round->parties.end(),
                  [&](const engine::Party& p) { return p.org == expert && !p.acted; });
  if (!pending) return Invalid("expert", "is not an expert whose conclusion is awaited");
  return Participants{};
}

// A draft the UMC authored is the UMC's: there is no association's draft to return it to.
Result<Participants> IndustryReturn(const RoutingInput& in) {
  if (in.instance != nullptr) {
    auto author = in.instance->participants.find("author");
    auto umc = in.instance->participants.find("umc");
    if (author != in.instance->participants.end() && umc != in.instance->participants.end() &&
        author->second == umc->second)
      return engine::Fail(ErrorCode::kInvalidTransition,
                          "the UMC drafted this proposal itself: there is no association's draft "
                          "to return it to");
  }
  return Participants{};
}

// §6.3: teacher training as planned courses and their results; the proposal is scaled when
// every planned course has its result.
Result<Participants> IndustryCourse(const RoutingInput& in) {
  const std::vector<std::string> planned = Strings(Field(in, "courses"));
  const std::vector<std::string> done = Strings(Field(in, "courses_completed"));
  auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  const std::string number = PayloadString(in, "number");
  if (in.command == "plan_course") {
    if (has(planned, number)) return Invalid("number", "names a course planned before");
    auto starts = PayloadDate(in.payload, "starts_on");
    auto ends = PayloadDate(in.payload, "ends_on");
    if (starts && ends && std::chrono::sys_days(*ends) < std::chrono::sys_days(*starts))
      return Invalid("ends_on", "is before starts_on");
    return Participants{};
  }
  if (in.command == "record_course_result") {
    if (!has(planned, number)) return Invalid("number", "names no planned course");
    if (has(done, number)) return Invalid("number", "names a course whose result is recorded");
    return Participants{};
  }
  // complete
  if (planned.empty())
    return engine::Fail(ErrorCode::kInvalidTransition,
                        "no course of teacher training is planned yet (seed 001 §6.3)");
  for (const auto& c : planned) {
    if (!has(done, c))
      return engine::Fail(ErrorCode::kInvalidTransition,
                          "course " + c + " has no result recorded yet");
  }
  return Participants{};
}

// --- agreement v2 (seed 000 annex 2) ------------------------------------------------------

// The agreement is of the FUMO's own УГПС (the title: «ФУМО СПО по УГПС ... с РУМО СПО»); a
// region may have several RUMOs, one per subject area, so the RUMO is not looked up by region.
Result<Participants> AgreementV2(const RoutingInput& in) {
  auto parties = Agreement(in);
  if (!parties) return parties;
  const engine::Organization* f = in.directory.FindOrganization(PayloadString(in, "fumo"));
  if (f != nullptr && !f->ugps.empty() && f->ugps != PayloadString(in, "ugps"))
    return Invalid("ugps", "must be the FUMO's own group, " + f->ugps);
  return parties;
}

// §3.3: a meeting of the working group is not before the agreement's date.
Result<Participants> AgreementMeeting(const RoutingInput& in) {
  auto meeting = PayloadDate(in.payload, "date");
  auto signed_on = in.fields ? PayloadDate(*in.fields, "date") : std::nullopt;
  if (meeting && signed_on && std::chrono::sys_days(*meeting) < std::chrono::sys_days(*signed_on))
    return Invalid("date", "is before the agreement's date");
  return Participants{};
}

// §5.2: supplementary agreements are numbered; a number names one of them only.
Result<Participants> AgreementAmendment(const RoutingInput& in) {
  const std::string number = PayloadString(in, "number");
  if (in.fields != nullptr) {
    if (auto it = in.fields->find("supplementary_agreements");
        it != in.fields->end() && it->is_array() &&
        std::find(it->begin(), it->end(), number) != it->end())
      return Invalid("number", "names a supplementary agreement proposed before");
  }
  return Participants{};
}

// §5.3: the written notice comes at least 30 calendar days before the termination date.
Result<Participants> AgreementTermination(const RoutingInput& in) {
  auto effective = PayloadDate(in.payload, "effective_date");
  auto notice = in.payload.contains("notice") && in.payload["notice"].is_object()
                    ? PayloadDate(in.payload["notice"], "date")
                    : std::nullopt;
  if (effective && notice &&
      std::chrono::sys_days(*effective) < std::chrono::sys_days(*notice) + std::chrono::days(30))
    return Invalid("effective_date",
                   "must be at least 30 calendar days after the notice's date (§5.3)");
  return Participants{};
}

Result<Participants> ProtocolAssignment(const RoutingInput& in) {
  const std::string assignee = PayloadString(in, "assignee");
  const std::string issuer = PayloadString(in, "issuer");
  const engine::Organization* who = in.directory.FindOrganization(assignee);
  if (who == nullptr) return Invalid("assignee", "is not a known organisation");
  if (who->retired) return Invalid("assignee", "is a retired organisation");
  if (issuer != "ministry" && issuer != "irpo")
    return Invalid("issuer", "must be ministry or irpo");
  // Who receives and accepts the report (seed 003: IRPO's centres, the Project Office, the State
  // University of Education; otherwise the issuer). The issuer and the ministry always may too.
  std::string addressee = PayloadString(in, "report_to");
  if (addressee.empty()) {
    addressee = issuer;
  } else {
    const engine::Organization* to = in.directory.FindOrganization(addressee);
    static constexpr std::string_view kReceivers[] = {"ministry", "irpo", "irpo_centre",
                                                      "project_office", "university"};
    if (to == nullptr ||
        std::find(std::begin(kReceivers), std::end(kReceivers), to->kind) == std::end(kReceivers)) {
      return Invalid("report_to",
                     "must be the ministry, IRPO or one of its centres, the Project Office or "
                     "the university");
    }
  }
  return Participants{{"assignee", assignee},
                      {"issuer", issuer},
                      {"ministry", "ministry"},
                      {"addressee", addressee}};
}

Result<Participants> Protocol(const RoutingInput& in) {
  if (in.creator_org != "ministry" && in.creator_org != "irpo") {
    return engine::Fail(ErrorCode::kForbidden, "protocols are registered by the ministry or IRPO");
  }
  return Participants{{"issuer", std::string(in.creator_org)}};
}

// --- Reference data (issue 15): organisations and groups as instances of the log -------------

// The service's administrators keep the registry (organization.v1.json, group.v1.json).
const Participants kKeeper = {{"keeper", "admin"}};

// The registry compiled into the binary: what `"embedded": true` must match.
const engine::Directory& Embedded(const engine::Directory& d) {
  if (const auto* layered = dynamic_cast<const engine::LayeredDirectory*>(&d))
    return layered->base();
  return d;
}

// Lower-case latin letters, digits, '.', '-' and '_', starting with a letter or digit: an id
// that sits in a URL path and a stream name as it is.
bool IsRegistryId(std::string_view id) {
  if (id.empty() || id.size() > 100 || id.front() == '.' || id.front() == '-') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
}

// The attributes an organisation's version holds, checked the same at registration and update.
Result<void> CheckAttributes(const RoutingInput& in, const std::string& kind) {
  if (auto it = in.payload.find("region_code"); it != in.payload.end() && it->is_string()) {
    if (!it->get<std::string>().empty() &&
        in.directory.FindRegion(it->get<std::string>()) == nullptr)
      return Invalid("region_code", "is not a region of the registry");
  }
  if (auto it = in.payload.find("ugps"); it != in.payload.end() && it->is_string()) {
    if (!it->get<std::string>().empty() && !engine::IsUgpsCode(it->get<std::string>()))
      return Invalid("ugps", "must be an enlarged group code like 09.00.00");
  }
  if ((kind == "roiv" || kind == "rumo") && PayloadString(in, "region_code").empty() &&
      in.command == "create")
    return Invalid("region_code", "is required for a region's body");
  if (kind == "fumo" && in.command == "create" &&
      PayloadString(in, "id") != "fumo-" + PayloadString(in, "ugps"))
    return Invalid("ugps", "must be the FUMO's own group: its id is fumo-<ugps>");
  return {};
}

Result<Participants> RegistryOrganization(const RoutingInput& in) {
  if (in.command != "create") {
    // An update: the kind stays as registered.
    std::string kind;
    if (in.fields != nullptr) {
      if (auto it = in.fields->find("kind"); it != in.fields->end() && it->is_string())
        kind = it->get<std::string>();
    }
    if (kind == "fumo" && in.payload.contains("ugps"))
      return Invalid("ugps", "names the FUMO itself and does not change");
    if (auto r = CheckAttributes(in, kind); !r) return std::unexpected(r.error());
    return kKeeper;
  }
  const std::string id = PayloadString(in, "id");
  const std::string kind = PayloadString(in, "kind");
  if (!IsRegistryId(id))
    return Invalid("id", "must be lower-case latin letters, digits, '.', '-' or '_'");
  if (in.payload.value("embedded", false)) {
    // The first version of an organisation of the compiled-in registry, recorded as it stood.
    const engine::Organization* e = Embedded(in.directory).FindOrganization(id);
    if (e == nullptr) return Invalid("embedded", "is true, and the embedded registry has no " + id);
    const bool same = e->kind == kind && e->name == PayloadString(in, "name") &&
                      e->name_en == PayloadString(in, "name_en") &&
                      e->region_code == PayloadString(in, "region_code") &&
                      e->industry == PayloadString(in, "industry") &&
                      e->ugps == PayloadString(in, "ugps");
    if (!same) return Invalid("embedded", "is true, and the record differs from the embedded one");
    return kKeeper;
  }
  if (in.directory.FindOrganization(id) != nullptr) return Invalid("id", "exists already");
  const std::string_view prefix = IdPrefixOfKind(kind);
  if (prefix.empty() || !id.starts_with(prefix) || (prefix.back() == '-' && id == prefix))
    return Invalid("id", "must start with \"" + std::string(prefix) + "\" for kind " + kind);
  if (auto r = CheckAttributes(in, kind); !r) return std::unexpected(r.error());
  return kKeeper;
}

// Whether group `from` holds group `target`, directly or through the groups it names.
bool HoldsGroup(const engine::Directory& d, const std::string& from, const std::string& target) {
  std::set<std::string> seen;
  std::function<bool(const std::string&)> walk = [&](const std::string& id) {
    if (id == target) return true;
    if (!seen.insert(id).second) return false;
    const engine::Group* g = d.FindGroup(id);
    if (g == nullptr) return false;
    for (const auto& m : g->members) {
      if (m.starts_with("group:") && walk(m.substr(6))) return true;
    }
    return false;
  };
  return walk(from);
}

// One member as a group may take it: a known organisation that is not retired, or another
// known group that does not hold this one.
Result<void> CheckMember(const RoutingInput& in, const std::string& group, const std::string& m,
                         const std::string& field) {
  if (m.starts_with("group:")) {
    const std::string inner = m.substr(6);
    if (inner == group) return Invalid(field, "is the group itself");
    const engine::Group* g = in.directory.FindGroup(inner);
    if (g == nullptr || g->retired) return Invalid(field, "is not a known group");
    if (HoldsGroup(in.directory, inner, group))
      return Invalid(field, "holds this group: the group would be inside itself");
    return {};
  }
  const engine::Organization* o = in.directory.FindOrganization(m);
  if (o == nullptr) return Invalid(field, "is not a known organisation");
  if (o->retired) return Invalid(field, "is a retired organisation");
  return {};
}

Result<Participants> RegistryGroup(const RoutingInput& in) {
  const std::string id = PayloadString(in, "id");
  if (!IsRegistryId(id))
    return Invalid("id", "must be lower-case latin letters, digits, '.', '-' or '_'");
  std::vector<std::string> members;
  if (auto it = in.payload.find("members"); it != in.payload.end() && it->is_array()) {
    for (const auto& m : *it) {
      if (m.is_string()) members.push_back(m.get<std::string>());
    }
  }
  if (in.payload.value("embedded", false)) {
    const engine::Group* e = Embedded(in.directory).FindGroup(id);
    if (e == nullptr) return Invalid("embedded", "is true, and the embedded registry has no " + id);
    if (e->name != PayloadString(in, "name") || e->name_en != PayloadString(in, "name_en") ||
        e->members != members || e->provisional != in.payload.value("provisional", false))
      return Invalid("embedded", "is true, and the record differs from the embedded one");
    return kKeeper;
  }
  if (in.directory.FindGroup(id) != nullptr) return Invalid("id", "exists already");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const std::string field = "members[" + std::to_string(i) + "]";
    if (!seen.insert(members[i]).second) return Invalid(field, "is listed twice");
    if (auto r = CheckMember(in, id, members[i], field); !r) return std::unexpected(r.error());
  }
  return kKeeper;
}

// add_member and remove_member of a group (its check).
Result<Participants> RegistryGroupMember(const RoutingInput& in) {
  const std::string member = PayloadString(in, "member");
  const std::string group(in.instance_id);
  bool listed = false;
  if (in.fields != nullptr) {
    if (auto it = in.fields->find("members"); it != in.fields->end() && it->is_array()) {
      listed = std::find(it->begin(), it->end(), member) != it->end();
    }
  }
  if (in.command == "remove_member") {
    if (!listed) return Invalid("member", "is not a member of " + group);
    return kKeeper;
  }
  if (listed) return Invalid("member", "is a member of " + group + " already");
  if (auto r = CheckMember(in, group, member, "member"); !r) return std::unexpected(r.error());
  return kKeeper;
}

}  // namespace

engine::RoutingTable BuiltinRouting() {
  return engine::RoutingTable{{"industry_proposal", IndustryProposal},
                              {"industry_proposal_v2", IndustryProposalV2},
                              {"industry_position", IndustryPosition},
                              {"industry_events_plan", IndustryEventsPlan},
                              {"industry_expertise", IndustryExpertise},
                              {"industry_extension", IndustryExtension},
                              {"industry_return", IndustryReturn},
                              {"industry_course", IndustryCourse},
                              {"fgos_proposal", FgosProposal},
                              {"fgos_proposal_v2", FgosProposalV2},
                              {"fgos_expertise", FgosExpertise},
                              {"agreement", Agreement},
                              {"agreement_v2", AgreementV2},
                              {"agreement_meeting", AgreementMeeting},
                              {"agreement_amendment", AgreementAmendment},
                              {"agreement_termination", AgreementTermination},
                              {"protocol_assignment", ProtocolAssignment},
                              {"protocol", Protocol},
                              {"registry_organization", RegistryOrganization},
                              {"registry_group", RegistryGroup},
                              {"registry_group_member", RegistryGroupMember}};
}

}  // namespace expertflow::workflows
