#include "workflows/routing.h"

#include <algorithm>
#include <iterator>

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

Result<Participants> ProtocolAssignment(const RoutingInput& in) {
  const std::string assignee = PayloadString(in, "assignee");
  const std::string issuer = PayloadString(in, "issuer");
  if (in.directory.FindOrganization(assignee) == nullptr)
    return Invalid("assignee", "is not a known organisation");
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

}  // namespace

engine::RoutingTable BuiltinRouting() {
  return engine::RoutingTable{{"industry_proposal", IndustryProposal},
                              {"fgos_proposal", FgosProposal},
                              {"agreement", Agreement},
                              {"protocol_assignment", ProtocolAssignment},
                              {"protocol", Protocol}};
}

}  // namespace expertflow::workflows
