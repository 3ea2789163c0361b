// The authorization matrix: every role (with its own and other organisations) against every
// command of every workflow in every state the command is valid in. The expected cells are
// transcribed from WORKFLOWS.md and API.md ("the caller's role is among the command's roles AND
// the caller's organisation is the instance's participant in that role"), not computed from the
// definitions; a command the definitions add without a row here fails the test.
#include <set>

#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

using std::chrono::days;

// Every principal tried: for each role, the organisations that hold it in the instances below
// and some that do not.
const std::vector<Principal> kPrincipals = {
    P("assoc-01", "association_member"),
    P("assoc-12", "association_member"),
    P("umc-01", "umc_lead"),
    P("umc-12", "umc_lead"),
    P("fumo-14.00.00", "fumo_expert"),
    P("fumo-09.00.00", "fumo_expert"),
    P("fumo-15.00.00", "fumo_expert"),
    P("rumo-52", "rumo_member"),
    P("rumo-74", "rumo_member"),
    P("rumo-77", "rumo_member"),
    P("fumo-09.00.00", "fumo_chair"),
    P("rumo-52", "rumo_chair"),
    P("irpo", "irpo_staff"),
    P("business-rspp", "business_expert"),
    P("business-opora", "business_expert"),
    P("business-key-01", "business_expert"),
    P("ftpo-nnovgorod", "ftpo_coordinator"),
    P("ftpo-kaluga", "ftpo_coordinator"),
    P("ministry", "ministry_official"),
    P("umc-01", "ministry_official"),
    P("roiv-52", "region_official"),
    P("roiv-31", "region_official"),
    P("irpo-crst", "irpo_staff"),
    P("irpo-cur", "irpo_staff"),
    P("project-office", "project_office_staff"),
    P("gup", "university_staff"),
    P("employers-professionalitet-2023", "employer_representative"),
    P("audit", "auditor"),
    P("admin", "admin")};

std::string Key(const Principal& p) { return p.role + "@" + p.org; }

struct Row {
  std::string workflow, state, command;
  std::set<std::string> allowed;  // role@org
  std::uint32_t version = 0;      // 0: the newest
  // How the instance was made, where a version has several ways: "fumo" for an FGOS proposal a
  // FUMO drafted itself (version 2); "" for the usual one.
  std::string variant = "";
};

const std::set<std::string> kFgosFumo = {"fumo_expert@fumo-09.00.00"};
const std::set<std::string> kFgosExperts = {"fumo_expert@fumo-09.00.00", "rumo_member@rumo-74"};
const std::set<std::string> kMinistry = {"ministry_official@ministry"};

// Agreement v2 (seed 000 annex 2): each party acts through its chair to sign and terminate.
// Industry v2 expertise: the FUMO of the proposal's УГПС, IRPO, the key employer, an invitee.
const std::set<std::string> kIndustryExperts = {"fumo_expert@fumo-14.00.00", "irpo_staff@irpo",
                                                "business_expert@business-key-01",
                                                "business_expert@business-rspp"};
const std::set<std::string> kAgreementChairs = {"fumo_chair@fumo-09.00.00", "rumo_chair@rumo-52"};
const std::set<std::string> kAgreementAll = {"fumo_expert@fumo-09.00.00", "rumo_member@rumo-52",
                                             "fumo_chair@fumo-09.00.00", "rumo_chair@rumo-52"};

// WORKFLOWS.md, with the participants the drivers below create:
// industry — assoc-01/umc-01 (Ural: ftpo-nnovgorod), experts fumo-14.00.00 and business-rspp;
// fgos — rumo-52, fumo-09.00.00, expert rumo-74 (version 2: a RUMO's proposal, received by
// fumo-09.00.00, or the FUMO's own, "fumo"; the FUMO concludes in its expertise beside the
// RUMO); assignment (version 2, a weekly deadline) —
// issuer ministry, assignee roiv-52, its report addressed to IRPO's centre irpo-crst;
// agreement — fumo-09.00.00 and rumo-52, amendment and notice by fumo-09.00.00.
const std::vector<Row> kMatrix = {
    // Version 2 (new instances); version 1 keeps its own tests (industry_proposal_test.cc).
    {"industry_proposal", "drafting", "update", {"association_member@assoc-01"}},
    {"industry_proposal", "drafting", "submit_to_umc", {"association_member@assoc-01"}},
    {"industry_proposal", "drafting", "withdraw", {"association_member@assoc-01"}},
    {"industry_proposal", "drafting", "send_to_expertise", {}},  // the UMC's own drafts only
    {"industry_proposal", "umc_review", "update", {"umc_lead@umc-01"}},
    {"industry_proposal", "umc_review", "return_to_association", {"umc_lead@umc-01"}},
    {"industry_proposal", "umc_review", "send_to_expertise", {"umc_lead@umc-01"}},
    {"industry_proposal", "umc_review", "withdraw", {"umc_lead@umc-01"}},
    {"industry_proposal", "expertise", "submit_conclusion", kIndustryExperts},
    {"industry_proposal", "expertise", "request_extension", kIndustryExperts},
    {"industry_proposal", "expertise", "grant_extension", {"umc_lead@umc-01"}},
    {"industry_proposal", "expertise", "refuse_extension", {"umc_lead@umc-01"}},
    {"industry_proposal", "expertise", "recall_from_expertise", {"umc_lead@umc-01"}},
    {"industry_proposal", "umc_decision", "update", {"umc_lead@umc-01"}},
    {"industry_proposal", "umc_decision", "return_to_association", {"umc_lead@umc-01"}},
    {"industry_proposal", "umc_decision", "send_to_expertise", {"umc_lead@umc-01"}},
    {"industry_proposal", "umc_decision", "withdraw", {"umc_lead@umc-01"}},
    {"industry_proposal", "umc_decision", "start_approbation", {"umc_lead@umc-01"}},
    {"industry_proposal",
     "approbation",
     "record_approbation",
     {"umc_lead@umc-01", "ftpo_coordinator@ftpo-nnovgorod"}},
    {"industry_proposal", "ministry_review", "approve", {"ministry_official@ministry"}},
    {"industry_proposal", "ministry_review", "return_for_revision", {"ministry_official@ministry"}},
    {"industry_proposal", "ministry_review", "reject", {"ministry_official@ministry"}},
    {"industry_proposal", "dissemination", "plan_course", {"ftpo_coordinator@ftpo-nnovgorod"}},
    {"industry_proposal",
     "dissemination",
     "record_course_result",
     {"ftpo_coordinator@ftpo-nnovgorod"}},
    {"industry_proposal", "dissemination", "complete", {"ftpo_coordinator@ftpo-nnovgorod"}},
    // Industry version 1: its instances run on beside version 2 ones.
    {"industry_proposal",
     "drafting",
     "update",
     {"association_member@assoc-01", "umc_lead@umc-01"},
     1},
    {"industry_proposal", "drafting", "submit_to_umc", {"association_member@assoc-01"}, 1},
    {"industry_proposal",
     "drafting",
     "withdraw",
     {"association_member@assoc-01", "umc_lead@umc-01"},
     1},
    {"industry_proposal", "umc_review", "update", {"umc_lead@umc-01"}, 1},
    {"industry_proposal", "umc_review", "return_to_association", {"umc_lead@umc-01"}, 1},
    {"industry_proposal", "umc_review", "send_to_expertise", {"umc_lead@umc-01"}, 1},
    {"industry_proposal", "umc_review", "withdraw", {"umc_lead@umc-01"}, 1},
    {"industry_proposal",
     "expertise",
     "submit_conclusion",
     {"fumo_expert@fumo-14.00.00", "business_expert@business-rspp", "irpo_staff@irpo"},
     1},
    {"industry_proposal",
     "approbation",
     "record_approbation",
     {"ftpo_coordinator@ftpo-nnovgorod"},
     1},
    {"industry_proposal", "ministry_review", "approve", kMinistry, 1},
    {"industry_proposal", "ministry_review", "return_for_revision", kMinistry, 1},
    {"industry_proposal", "ministry_review", "reject", kMinistry, 1},
    {"industry_proposal",
     "dissemination",
     "record_training",
     {"ftpo_coordinator@ftpo-nnovgorod"},
     1},
    {"industry_proposal", "dissemination", "complete", {"ftpo_coordinator@ftpo-nnovgorod"}, 1},
    {"industry_position", "drafting", "update", {"association_member@assoc-01"}},
    {"industry_position", "drafting", "send_to_umc", {"association_member@assoc-01"}},
    {"industry_position", "drafting", "withdraw", {"association_member@assoc-01"}},
    {"industry_position", "submitted", "withdraw", {"association_member@assoc-01"}},
    {"industry_position", "submitted", "return_to_association", {"umc_lead@umc-01"}},
    {"industry_position", "submitted", "decline", {"umc_lead@umc-01"}},
    // Through POST /api/v1/proposals only (the API refuses it alone); the engine's rule is this.
    {"industry_position",
     "submitted",
     "consolidate",
     {"umc_lead@umc-01", "association_member@assoc-01"}},
    {"industry_events_plan",
     "drafting",
     "update",
     {"umc_lead@umc-01", "association_member@assoc-01"}},
    {"industry_events_plan", "drafting", "submit_for_agreement", {"umc_lead@umc-01"}},
    {"industry_events_plan", "drafting", "abandon", {"umc_lead@umc-01"}},
    {"industry_events_plan",
     "agreeing",
     "agree",
     {"umc_lead@umc-01", "association_member@assoc-01", "ftpo_coordinator@ftpo-nnovgorod"}},
    {"industry_events_plan",
     "in_effect",
     "record_event",
     {"umc_lead@umc-01", "ftpo_coordinator@ftpo-nnovgorod"}},
    {"industry_events_plan", "in_effect", "amend", {"umc_lead@umc-01"}},
    {"industry_events_plan", "in_effect", "close", {"umc_lead@umc-01"}},
    // Version 1 instances run on beside version 2 ones.
    {"fgos_proposal", "drafting", "update", {"rumo_member@rumo-52"}, 1},
    {"fgos_proposal", "drafting", "withdraw", {"rumo_member@rumo-52"}, 1},
    {"fgos_proposal", "drafting", "submit_to_fumo", {"rumo_member@rumo-52"}, 1},
    {"fgos_proposal", "fumo_review", "return_to_rumo", kFgosFumo, 1},
    {"fgos_proposal", "fumo_review", "open_expertise", kFgosFumo, 1},
    {"fgos_proposal", "fumo_review", "send_to_ministry", kFgosFumo, 1},
    {"fgos_proposal", "fumo_review", "decline", kFgosFumo, 1},
    {"fgos_proposal", "expertise", "submit_conclusion", {"rumo_member@rumo-74"}, 1},
    {"fgos_proposal", "ministry_review", "approve", kMinistry, 1},
    {"fgos_proposal", "ministry_review", "return_for_revision", kMinistry, 1},
    {"fgos_proposal", "ministry_review", "reject", kMinistry, 1},
    // Version 2, a RUMO's proposal: only the author edits its draft; the FUMO that received it
    // returns it; the FUMO concludes in the expertise it opens.
    {"fgos_proposal", "drafting", "update", {"rumo_member@rumo-52"}, 2},
    {"fgos_proposal", "drafting", "withdraw", {"rumo_member@rumo-52"}, 2},
    {"fgos_proposal", "drafting", "submit_to_fumo", {"rumo_member@rumo-52"}, 2},
    {"fgos_proposal", "drafting", "open_expertise", {}, 2},
    {"fgos_proposal", "fumo_review", "return_to_rumo", kFgosFumo, 2},
    {"fgos_proposal", "fumo_review", "return_to_drafting", {}, 2},
    {"fgos_proposal", "fumo_review", "open_expertise", kFgosFumo, 2},
    {"fgos_proposal", "fumo_review", "decline", kFgosFumo, 2},
    {"fgos_proposal", "expertise", "submit_conclusion", kFgosExperts, 2},
    {"fgos_proposal", "expertise", "recall_expertise", kFgosFumo, 2},
    {"fgos_proposal", "expertise_review", "send_to_ministry", kFgosFumo, 2},
    {"fgos_proposal", "expertise_review", "open_expertise", kFgosFumo, 2},
    {"fgos_proposal", "expertise_review", "return_to_rumo", kFgosFumo, 2},
    {"fgos_proposal", "expertise_review", "return_to_drafting", {}, 2},
    {"fgos_proposal", "expertise_review", "decline", kFgosFumo, 2},
    {"fgos_proposal", "ministry_review", "approve", kMinistry, 2},
    {"fgos_proposal", "ministry_review", "return_for_revision", kMinistry, 2},
    {"fgos_proposal", "ministry_review", "reject", kMinistry, 2},
    // Version 2, the FUMO's own proposal: it drafts, sends it to its expertise itself, and takes
    // it back to drafting; there is no RUMO to submit or return it.
    {"fgos_proposal", "drafting", "update", kFgosFumo, 2, "fumo"},
    {"fgos_proposal", "drafting", "withdraw", kFgosFumo, 2, "fumo"},
    {"fgos_proposal", "drafting", "submit_to_fumo", {}, 2, "fumo"},
    {"fgos_proposal", "drafting", "open_expertise", kFgosFumo, 2, "fumo"},
    {"fgos_proposal", "fumo_review", "return_to_rumo", {}, 2, "fumo"},
    {"fgos_proposal", "fumo_review", "return_to_drafting", kFgosFumo, 2, "fumo"},
    {"fgos_proposal", "fumo_review", "open_expertise", kFgosFumo, 2, "fumo"},
    {"fgos_proposal", "fumo_review", "decline", kFgosFumo, 2, "fumo"},
    {"fgos_proposal", "expertise", "submit_conclusion", kFgosExperts, 2, "fumo"},
    {"fgos_proposal", "expertise", "recall_expertise", kFgosFumo, 2, "fumo"},
    {"fgos_proposal", "expertise_review", "send_to_ministry", kFgosFumo, 2, "fumo"},
    {"fgos_proposal", "expertise_review", "open_expertise", kFgosFumo, 2, "fumo"},
    {"fgos_proposal", "expertise_review", "return_to_rumo", {}, 2, "fumo"},
    {"fgos_proposal", "expertise_review", "return_to_drafting", kFgosFumo, 2, "fumo"},
    {"fgos_proposal", "expertise_review", "decline", kFgosFumo, 2, "fumo"},
    {"fgos_proposal", "ministry_review", "approve", kMinistry, 2, "fumo"},
    {"fgos_proposal", "ministry_review", "return_for_revision", kMinistry, 2, "fumo"},
    {"fgos_proposal", "ministry_review", "reject", kMinistry, 2, "fumo"},
    {"protocol_assignment", "assigned", "submit_report", {"region_official@roiv-52"}},
    {"protocol_assignment", "assigned", "cancel", {"ministry_official@ministry"}},
    {"protocol_assignment",
     "reported",
     "accept_report",
     {"ministry_official@ministry", "irpo_staff@irpo-crst"}},
    {"protocol_assignment",
     "reported",
     "return_report",
     {"ministry_official@ministry", "irpo_staff@irpo-crst"}},
    {"protocol_assignment", "assigned", "end_schedule", {"ministry_official@ministry"}},
    {"protocol_assignment", "reported", "end_schedule", {"ministry_official@ministry"}},
    {"protocol_assignment", "reported", "cancel", {"ministry_official@ministry"}},
    // Version 2 (new instances); version 1 keeps its own tests (agreement_test.cc).
    {"agreement", "draft", "sign", kAgreementChairs},
    {"agreement", "draft", "abandon", kAgreementAll},
    {"agreement", "active", "record_meeting", kAgreementAll},
    {"agreement", "amending", "record_meeting", kAgreementAll},
    {"agreement", "terminating", "record_meeting", kAgreementAll},
    {"agreement", "active", "submit_annual_report", kAgreementAll},
    {"agreement", "amending", "submit_annual_report", kAgreementAll},
    {"agreement", "active", "propose_amendment", kAgreementAll},
    {"agreement", "active", "notify_termination", kAgreementChairs},
    {"agreement", "amending", "sign", kAgreementChairs},
    {"agreement",
     "amending",
     "withdraw_amendment",
     {"fumo_expert@fumo-09.00.00", "fumo_chair@fumo-09.00.00"}},
    {"agreement", "terminating", "revoke_termination", {"fumo_chair@fumo-09.00.00"}},
    // Reference data (issue 15): the service's administrators keep the registry.
    {"organization", "active", "rename", {"admin@admin"}},
    {"organization", "active", "update", {"admin@admin"}},
    {"organization", "active", "retire", {"admin@admin"}},
    {"group", "active", "rename", {"admin@admin"}},
    {"group", "active", "add_member", {"admin@admin"}},
    {"group", "active", "remove_member", {"admin@admin"}},
    {"group", "active", "retire", {"admin@admin"}},
};

json ValidPayload(const std::string& command, World& w, const std::string& workflow = "") {
  if (workflow == "organization" && command == "update") return {{"region_code", "50"}};
  if (workflow == "industry_events_plan" && command == "update") return {{"year", 2027}};
  if (command == "rename") return {{"name", "Новое имя"}};
  if (command == "retire") return {{"basis", "приказ"}};
  if (command == "add_member") return {{"member", "roiv-52"}};
  if (command == "remove_member") return {{"member", "roiv-31"}};
  const std::string today = engine::FormatRfc3339(w.clock().Now()).substr(0, 10);
  const std::string later = engine::FormatRfc3339(w.clock().Now() + days(40)).substr(0, 10);
  static const std::map<std::string, json> kPayloads = {
      {"update", {{"summary", "s"}}},
      {"return_to_association", {{"comment", "c"}}},
      {"send_to_expertise",
       {{"experts", {{"fumo", {"fumo-14.00.00"}}, {"business", {"business-rspp"}}}}}},
      {"submit_conclusion", {{"verdict", "approve"}}},
      {"record_approbation", {{"outcome", "successful"}, {"report", "r"}}},
      {"return_for_revision", {{"comment", "c"}}},
      {"reject", {{"comment", "c"}}},
      {"record_training", {{"programme", "p"}, {"teachers_trained", 1}}},
      {"return_to_rumo", {{"comment", "c"}}},
      {"recall_expertise", {{"comment", "c"}}},
      {"open_expertise", {{"experts", {"rumo-74"}}}},
      {"decline", {{"comment", "c"}}},
      {"submit_report", {{"text", "t"}}},
      {"return_report", {{"comment", "c"}}},
      {"cancel", {{"comment", "c"}}},
      {"end_schedule", {{"comment", "c"}}},
      {"submit_annual_report", {{"year", 2026}}},
      {"recall_from_expertise", {{"comment", "c"}}},
      {"start_approbation", {{"plan", "p"}}},
      {"consolidate", {{"proposal", "p1"}}},
      {"agree", {{"verdict", "agree"}}},
      {"abandon", {{"comment", "c"}}},
      {"amend", {{"comment", "c"}}},
      {"close", {{"summary", "s"}}},
      {"propose_amendment", {{"text", "t"}, {"number", "1"}}}};
  if (command == "record_meeting") return {{"date", today}, {"minutes", "m"}};
  if (command == "request_extension") return {{"until", later}, {"reason", "r"}};
  if (command == "grant_extension") return {{"expert", "irpo"}, {"until", later}};
  if (command == "refuse_extension") return {{"expert", "irpo"}, {"comment", "c"}};
  if (command == "plan_course")
    return {{"number", "3"},
            {"programme", "p"},
            {"starts_on", today},
            {"ends_on", later},
            {"places", 10}};
  if (command == "record_course_result") return {{"number", "2"}, {"teachers_trained", 1}};
  if (command == "record_event") return {{"title", "t"}, {"held_on", today}};
  if (command == "notify_termination")
    return {{"effective_date", later},
            {"notice", {{"date", today}, {"attachment", {{"name", "notice.pdf"}, {"uri", "u"}}}}}};
  auto it = kPayloads.find(command);
  return it == kPayloads.end() ? json::object() : it->second;
}

// Creates an instance and drives it, as its rightful actors, into `state`.
std::pair<std::string, std::string> Drive(World& w, const std::string& workflow,
                                          const std::string& state, std::uint32_t version = 0,
                                          const std::string& variant = "",
                                          const std::string& command = "") {
  auto act = [&](const std::string& c, const std::string& id, const std::string& cmd,
                 const Principal& p) {
    auto r = w.Act(c, id, cmd, p, ValidPayload(cmd, w));
    EXPECT_TRUE(r) << workflow << " driving " << cmd << ": " << r.error().ToString();
  };
  if (workflow == "industry_proposal" && version == 1) {
    const Principal assoc = P("assoc-01", "association_member"), umc = P("umc-01", "umc_lead"),
                    ftpo = P("ftpo-nnovgorod", "ftpo_coordinator");
    auto r = w.Create("proposals", workflow, assoc,
                      {{"title", "t"}, {"topic", "infrastructure"}, {"summary", "s"}}, 1);
    const std::string id = r->instance.id;
    const std::vector<std::string> path = {"drafting",    "umc_review",      "expertise",
                                           "approbation", "ministry_review", "dissemination"};
    for (std::size_t i = 0; path[i] != state; ++i) {
      if (path[i] == "drafting") act("proposals", id, "submit_to_umc", assoc);
      if (path[i] == "umc_review") act("proposals", id, "send_to_expertise", umc);
      if (path[i] == "expertise") {
        for (const auto& p : {P("fumo-14.00.00", "fumo_expert"),
                              P("business-rspp", "business_expert"), P("irpo", "irpo_staff")}) {
          act("proposals", id, "submit_conclusion", p);
        }
      }
      if (path[i] == "approbation") act("proposals", id, "record_approbation", ftpo);
      if (path[i] == "ministry_review")
        act("proposals", id, "approve", P("ministry", "ministry_official"));
    }
    return {"proposals", id};
  }
  if (workflow == "industry_proposal") {
    const Principal assoc = P("assoc-01", "association_member"), umc = P("umc-01", "umc_lead"),
                    ftpo = P("ftpo-nnovgorod", "ftpo_coordinator");
    auto r = w.Create(
        "proposals", workflow, assoc,
        {{"title", "t"}, {"topic", "infrastructure"}, {"summary", "s"}, {"ugps", {"14.00.00"}}});
    const std::string id = r->instance.id;
    const std::vector<std::string> path = {"drafting",     "umc_review",  "expertise",
                                           "umc_decision", "approbation", "ministry_review",
                                           "dissemination"};
    for (std::size_t i = 0; path[i] != state; ++i) {
      if (path[i] == "drafting") act("proposals", id, "submit_to_umc", assoc);
      if (path[i] == "umc_review") act("proposals", id, "send_to_expertise", umc);
      if (path[i] == "expertise") {
        for (const auto& p :
             {P("fumo-14.00.00", "fumo_expert"), P("irpo", "irpo_staff"),
              P("business-key-01", "business_expert"), P("business-rspp", "business_expert")}) {
          act("proposals", id, "submit_conclusion", p);
        }
      }
      if (path[i] == "umc_decision") act("proposals", id, "start_approbation", umc);
      if (path[i] == "approbation") {
        act("proposals", id, "record_approbation", umc);
        act("proposals", id, "record_approbation", ftpo);
      }
      if (path[i] == "ministry_review")
        act("proposals", id, "approve", P("ministry", "ministry_official"));
    }
    if (state == "dissemination") {
      // Courses 1 and 2 planned, 1 done; `complete` finds 2 done as well.
      const std::string today = engine::FormatRfc3339(w.clock().Now()).substr(0, 10);
      for (const char* n : {"1", "2"}) {
        EXPECT_TRUE(w.Act("proposals", id, "plan_course", ftpo,
                          {{"number", n},
                           {"programme", "p"},
                           {"starts_on", today},
                           {"ends_on", today},
                           {"places", 5}}));
      }
      for (const char* n : {"1", "2"}) {
        if (std::string(n) == "2" && command != "complete") break;
        EXPECT_TRUE(w.Act("proposals", id, "record_course_result", ftpo,
                          {{"number", n}, {"teachers_trained", 5}}));
      }
    }
    return {"proposals", id};
  }
  if (workflow == "industry_position") {
    const Principal assoc = P("assoc-01", "association_member");
    auto r = w.Create("positions", workflow, assoc,
                      {{"title", "t"}, {"topic", "infrastructure"}, {"summary", "s"}});
    const std::string id = r->instance.id;
    if (state == "submitted") act("positions", id, "send_to_umc", assoc);
    return {"positions", id};
  }
  if (workflow == "industry_events_plan") {
    const Principal umc = P("umc-01", "umc_lead");
    auto r = w.Create("event_plans", workflow, umc,
                      {{"year", 2027}, {"events", {{{"title", "t"}, {"month", 3}}}}});
    const std::string id = r->instance.id;
    if (state != "drafting") act("event_plans", id, "submit_for_agreement", umc);
    if (state == "in_effect") {
      for (const auto& p :
           {umc, P("assoc-01", "association_member"), P("ftpo-nnovgorod", "ftpo_coordinator")}) {
        act("event_plans", id, "agree", p);
      }
    }
    return {"event_plans", id};
  }
  if (workflow == "fgos_proposal" && version == 1) {
    auto r =
        w.Create("proposals", workflow, P("rumo-52", "rumo_member"),
                 {{"title", "t"}, {"ugps", "09.00.00"}, {"standard", "s"}, {"summary", "s"}}, 1);
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    const std::string id = r->instance.id;
    if (state != "drafting") act("proposals", id, "submit_to_fumo", P("rumo-52", "rumo_member"));
    if (state == "expertise")
      act("proposals", id, "open_expertise", P("fumo-09.00.00", "fumo_expert"));
    if (state == "ministry_review")
      act("proposals", id, "send_to_ministry", P("fumo-09.00.00", "fumo_expert"));
    return {"proposals", id};
  }
  if (workflow == "fgos_proposal") {
    const Principal fumo = P("fumo-09.00.00", "fumo_expert");
    const Principal rumo = P("rumo-52", "rumo_member");
    const bool own = variant == "fumo";
    auto r = w.Create("proposals", workflow, own ? fumo : rumo,
                      {{"title", "t"}, {"ugps", "09.00.00"}, {"standard", "s"}, {"summary", "s"}});
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    const std::string id = r->instance.id;
    if (state == "drafting") return {"proposals", id};
    if (!own) act("proposals", id, "submit_to_fumo", rumo);
    if (state == "fumo_review" && !own) return {"proposals", id};
    act("proposals", id, "open_expertise", fumo);
    if (state == "fumo_review") act("proposals", id, "recall_expertise", fumo);
    if (state == "fumo_review" || state == "expertise") return {"proposals", id};
    act("proposals", id, "submit_conclusion", P("rumo-74", "rumo_member"));
    act("proposals", id, "submit_conclusion", fumo);
    if (state == "ministry_review") act("proposals", id, "send_to_ministry", fumo);
    return {"proposals", id};
  }
  static int registered = 0;
  if (workflow == "organization") {
    const std::string id = "college-77-m" + std::to_string(++registered);
    auto r =
        w.Create("organizations", workflow, P("admin", "admin"),
                 {{"id", id}, {"kind", "college"}, {"name", "Колледж"}, {"region_code", "77"}});
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    return {"organizations", id};
  }
  if (workflow == "group") {
    const std::string id = "matrix-" + std::to_string(++registered);
    auto r = w.Create("groups", workflow, P("admin", "admin"),
                      {{"id", id}, {"name", "Группа"}, {"members", {"roiv-31"}}});
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    return {"groups", id};
  }
  if (workflow == "protocol_assignment") {
    auto r = w.Create("assignments", workflow, P("ministry", "ministry_official"),
                      {{"protocol", "p"},
                       {"protocol_number", "№1"},
                       {"decision", "d"},
                       {"assignee", "roiv-52"},
                       {"issuer", "ministry"},
                       {"report_to", "irpo-crst"},
                       {"deadline", {{"recurring", {{"every", "week"}}}}}});
    const std::string id = r->instance.id;
    if (state == "reported")
      act("assignments", id, "submit_report", P("roiv-52", "region_official"));
    return {"assignments", id};
  }
  const std::string today = engine::FormatRfc3339(w.clock().Now()).substr(0, 10);
  auto r = w.Create("agreements", workflow, P("fumo-09.00.00", "fumo_expert"),
                    {{"fumo", "fumo-09.00.00"},
                     {"rumo", "rumo-52"},
                     {"ugps", "09.00.00"},
                     {"city", "Нижний Новгород"},
                     {"date", today}});
  const std::string id = r->instance.id;
  if (state != "draft") {
    act("agreements", id, "sign", P("fumo-09.00.00", "fumo_chair"));
    act("agreements", id, "sign", P("rumo-52", "rumo_chair"));
  }
  if (state == "amending")
    act("agreements", id, "propose_amendment", P("fumo-09.00.00", "fumo_expert"));
  if (state == "terminating")
    act("agreements", id, "notify_termination", P("fumo-09.00.00", "fumo_chair"));
  return {"agreements", id};
}

TEST(AuthorizationMatrix, ExactlyTheAllowedCellsSucceed) {
  World world;
  std::size_t cells = 0, allowed = 0;
  for (const Row& row : kMatrix) {
    for (const Principal& p : kPrincipals) {
      auto [collection, id] =
          Drive(world, row.workflow, row.state, row.version, row.variant, row.command);
      ASSERT_EQ(world.Get(collection, id).state, row.state) << row.workflow;
      if (row.version != 0) {
        ASSERT_EQ(world.Get(collection, id).workflow_version, row.version);
      }
      auto r =
          world.Act(collection, id, row.command, p, ValidPayload(row.command, world, row.workflow));
      const bool expected = row.allowed.contains(Key(p));
      ++cells;
      if (expected) {
        ++allowed;
        EXPECT_TRUE(r) << row.workflow << " v" << row.version << row.variant << "/" << row.state
                       << "/" << row.command << " by " << Key(p)
                       << " must succeed: " << (r ? "" : r.error().ToString());
      } else {
        EXPECT_FALSE(r) << row.workflow << " v" << row.version << row.variant << "/" << row.state
                        << "/" << row.command << " by " << Key(p) << " must be refused";
        if (!r) {
          EXPECT_EQ(r.error().code, ErrorCode::kForbidden)
              << row.workflow << " v" << row.version << row.variant << "/" << row.command << " by "
              << Key(p) << ": " << r.error().ToString();
        }
      }
    }
  }
  EXPECT_EQ(cells, kMatrix.size() * kPrincipals.size());
  EXPECT_GT(allowed, kMatrix.size());
}

// Every command of the newest version of each workflow, and of every version rows pin, has a row
// of its version; an older version no row pins (agreement version 1, tested in agreement_test.cc)
// has a row of any version for each of its commands.
TEST(AuthorizationMatrix, CoversEveryCommandOfEveryWorkflow) {
  World world;
  std::set<std::tuple<std::string, std::uint32_t, std::string, std::string>> rows;
  std::set<std::tuple<std::string, std::string, std::string>> any_version;
  std::set<std::pair<std::string, std::uint32_t>> pinned;
  for (const Row& r : kMatrix) {
    const std::uint32_t v =
        r.version != 0 ? r.version : world.definitions().Latest(r.workflow)->version;
    rows.insert({r.workflow, v, r.state, r.command});
    any_version.insert({r.workflow, r.state, r.command});
    pinned.insert({r.workflow, v});
  }
  for (const auto* def : world.definitions().All()) {
    const bool exact = pinned.contains({def->id, def->version});
    for (const auto& cmd : def->commands) {
      for (const auto& state : cmd.from) {
        EXPECT_TRUE(exact ? rows.contains({def->id, def->version, state, cmd.name})
                          : any_version.contains({def->id, state, cmd.name}))
            << def->id << " v" << def->version << "/" << state << "/" << cmd.name
            << " has no row in the matrix";
      }
    }
    EXPECT_TRUE(exact || def->commands.empty() || def != world.definitions().Latest(def->id))
        << "the newest " << def->id << " has no rows";
  }
}

TEST(AuthorizationMatrix, CreationIsAllowedToTheRightRolesOnly) {
  World world;
  const std::map<std::string, std::pair<std::string, json>> creations = {
      {"industry_proposal",
       {"proposals", {{"title", "t"}, {"topic", "infrastructure"}, {"summary", "s"}}}},
      {"fgos_proposal",
       {"proposals", {{"title", "t"}, {"ugps", "09.00.00"}, {"standard", "s"}, {"summary", "s"}}}},
      {"fgos_proposal@1",
       {"proposals", {{"title", "t"}, {"ugps", "09.00.00"}, {"standard", "s"}, {"summary", "s"}}}},
      {"protocol_assignment",
       {"assignments",
        {{"protocol", "p"},
         {"protocol_number", "№1"},
         {"decision", "d"},
         {"assignee", "roiv-52"},
         {"issuer", "ministry"},
         {"deadline", {{"due", "2026-12-31"}}}}}},
      {"agreement",
       {"agreements",
        {{"fumo", "fumo-09.00.00"},
         {"rumo", "rumo-52"},
         {"ugps", "09.00.00"},
         {"city", "c"},
         {"date", "2026-01-12"}}}},
      {"organization",
       {"organizations",
        {{"id", "college-52-created"}, {"kind", "college"}, {"name", "К"}, {"region_code", "52"}}}},
      {"group", {"groups", {{"id", "created"}, {"name", "Г"}, {"members", {"roiv-52"}}}}},
      {"industry_position",
       {"positions", {{"title", "t"}, {"topic", "infrastructure"}, {"summary", "s"}}}},
      {"industry_events_plan",
       {"event_plans", {{"year", 2027}, {"events", {{{"title", "t"}, {"month", 3}}}}}}}};
  const std::map<std::string, std::set<std::string>> allowed = {
      {"industry_proposal",
       {"association_member@assoc-01", "association_member@assoc-12", "umc_lead@umc-01",
        "umc_lead@umc-12"}},
      // Version 2: a RUMO, or the FUMO of the proposal's own group (seed 000 §4.2а).
      {"fgos_proposal",
       {"rumo_member@rumo-52", "rumo_member@rumo-74", "rumo_member@rumo-77",
        "fumo_expert@fumo-09.00.00"}},
      {"fgos_proposal@1", {"rumo_member@rumo-52", "rumo_member@rumo-74", "rumo_member@rumo-77"}},
      {"protocol_assignment", {"ministry_official@ministry"}},  // issuer ministry in the payload
      {"agreement", kAgreementAll},
      {"organization", {"admin@admin"}},
      {"group", {"admin@admin"}},
      {"industry_position", {"association_member@assoc-01", "association_member@assoc-12"}},
      {"industry_events_plan",
       {"association_member@assoc-01", "association_member@assoc-12", "umc_lead@umc-01",
        "umc_lead@umc-12"}}};
  // Who may create the workflow, but not with this payload: another group's FUMO (422 on ugps).
  const std::map<std::string, std::set<std::string>> wrong_group = {
      {"fgos_proposal", {"fumo_expert@fumo-14.00.00", "fumo_expert@fumo-15.00.00"}}};
  for (const auto& [label, spec] : creations) {
    // "<workflow>@<version>" pins a version; the newest otherwise.
    const std::string workflow = label.substr(0, label.find('@'));
    const std::uint32_t version =
        label.find('@') == std::string::npos ? 0 : std::stoul(label.substr(label.find('@') + 1));
    for (const Principal& p : kPrincipals) {
      auto r = world.Create(spec.first, workflow, p, spec.second, version);
      const bool expected = allowed.at(label).contains(Key(p));
      EXPECT_EQ(r.has_value(), expected)
          << "create " << label << " by " << Key(p) << ": " << (r ? "" : r.error().ToString());
      if (!r) {
        const bool bad_group =
            wrong_group.contains(label) && wrong_group.at(label).contains(Key(p));
        EXPECT_EQ(r.error().code, bad_group ? ErrorCode::kValidationFailed : ErrorCode::kForbidden)
            << label << " by " << Key(p) << ": " << r.error().ToString();
      }
    }
  }
}

}  // namespace
}  // namespace expertflow::testing
