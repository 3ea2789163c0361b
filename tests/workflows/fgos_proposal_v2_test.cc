// Given/when/then tests of the FGOS proposal, version 2: seed 000 §4.2 as written. A RUMO
// prepares proposals and submits them to the FUMO of their УГПС; a FUMO prepares its own, for its
// own group, and sends them to its expertise directly (§4.2а); the list of professions and
// specialties is the FUMO's alone (§4.2в); exemplary programmes (§4.2а) and the assessment kits
// of the demonstration exam (§4.2д, §5.1, §5.4) go the same way. The FUMO organises the expertise
// and concludes in it beside the RUMOs it invites; the RUMOs take part (§4.2а), in a kit's
// expertise when needed (§5.4).
#include <algorithm>
#include <set>

#include "engine/decide/policy.h"
#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

using std::chrono::days;

const Principal kRumo = P("rumo-52", "rumo_member");
const Principal kRumo74 = P("rumo-74", "rumo_member");
const Principal kRumo66 = P("rumo-66", "rumo_member");
const Principal kFumo = P("fumo-09.00.00", "fumo_expert");
const Principal kOtherFumo = P("fumo-15.00.00", "fumo_expert");
const Principal kMinistry = P("ministry", "ministry_official");
const Principal kAdmin = P("admin", "admin");

// A version 1 body: still a valid request, a proposal on a draft standard.
json Draft() {
  return {{"title", "Предложения к проекту ФГОС"},
          {"ugps", "09.00.00"},
          {"standard", "ФГОС СПО 09.02.07 Информационные системы и программирование"},
          {"summary", "Дополнить перечень профессиональных модулей"}};
}

json Draft(const std::string& kind) {
  json d = Draft();
  d["kind"] = kind;
  if (kind != "fgos") d.erase("standard");
  return d;
}

json Experts(std::initializer_list<const char*> ids) {
  json list = json::array();
  for (const char* id : ids) list.push_back(id);
  return {{"experts", list}};
}

// The round's parties as (organisation, role).
using Parties = std::vector<std::pair<std::string, std::string>>;
Parties PartiesOf(const InstanceState& s) {
  Parties out;
  if (s.round) {
    for (const auto& p : s.round->parties) out.emplace_back(p.org, p.role);
  }
  return out;
}

std::string FieldOf(const Result<CommandResult>& r) {
  if (r || !r.error().details.contains("errors")) return "";
  return r.error().details["errors"][0].value("field", "");
}

class FgosProposalV2 : public ::testing::Test {
 protected:
  std::string Create(const Principal& by, const json& body) {
    auto r = world_.Create("proposals", "fgos_proposal", by, body);
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    if (!r) return "";
    EXPECT_EQ(r->instance.workflow_version, 2u) << "a new proposal is on version 2";
    return r->instance.id;
  }
  // A RUMO's draft (author rumo-52, received by fumo-09.00.00).
  std::string RumoDraft(const std::string& kind = "fgos") { return Create(kRumo, Draft(kind)); }
  // The FUMO's own draft.
  std::string FumoDraft(const std::string& kind = "fgos") { return Create(kFumo, Draft(kind)); }
  std::string InFumoReview() {
    std::string id = RumoDraft();
    EXPECT_TRUE(world_.Act("proposals", id, "submit_to_fumo", kRumo));
    return id;
  }
  std::string InExpertise(std::string id = "") {
    if (id.empty()) id = InFumoReview();
    auto r = world_.Act("proposals", id, "open_expertise", kFumo, Experts({"rumo-74"}));
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    return id;
  }
  // After a completed round: the FUMO decides.
  std::string InExpertiseReview(std::string id = "") {
    id = InExpertise(id);
    EXPECT_TRUE(
        world_.Act("proposals", id, "submit_conclusion", kRumo74, {{"verdict", "approve"}}));
    EXPECT_TRUE(world_.Act("proposals", id, "submit_conclusion", kFumo, {{"verdict", "approve"}}));
    EXPECT_EQ(StateOf(id), "expertise_review");
    return id;
  }
  std::string InMinistryReview() {
    std::string id = InExpertiseReview();
    EXPECT_TRUE(world_.Act("proposals", id, "send_to_ministry", kFumo));
    return id;
  }
  // Registers a RUMO over the registry (a subject area's RUMO when `ugps` is given).
  Principal RegisterRumo(const std::string& id, const std::string& ugps) {
    json body = {{"id", id}, {"kind", "rumo"}, {"name", "РУМО " + id}, {"region_code", "52"}};
    if (!ugps.empty()) body["ugps"] = ugps;
    auto r = world_.Create("organizations", "organization", kAdmin, body);
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    return P(id, "rumo_member");
  }
  std::string StateOf(const std::string& id) { return world_.Get("proposals", id).state; }
  std::string StageOf(const std::string& id) {
    const auto s = world_.Get("proposals", id);
    return world_.definitions().Find(s.workflow, s.workflow_version)->FindState(s.state)->stage;
  }
  std::vector<std::string> Allowed(const std::string& id, const Principal& p) {
    const auto s = world_.Get("proposals", id);
    return engine::AllowedCommands(*world_.definitions().Find(s.workflow, s.workflow_version), s,
                                   p);
  }
  World world_;
};

// --- create --------------------------------------------------------------------------------

TEST_F(FgosProposalV2, ShouldRouteARumosProposalToTheFumoOfItsGroup) {
  // given a version 1 body from a RUMO
  auto r = world_.Create("proposals", "fgos_proposal", kRumo, Draft());
  // then it is a version 2 draft of the RUMO, received by the FUMO of the group
  ASSERT_ACCEPTED(r);
  EXPECT_EQ(r->instance.workflow_version, 2u);
  EXPECT_EQ(r->instance.state, "drafting");
  EXPECT_EQ(r->instance.participants, (engine::Participants{{"rumo", "rumo-52"},
                                                            {"fumo", "fumo-09.00.00"},
                                                            {"author", "rumo-52"},
                                                            {"recipient", "fumo-09.00.00"},
                                                            {"ministry", "ministry"}}));
  EXPECT_EQ(world_.EventTypes("proposals", r->instance.id),
            std::vector<std::string>{"FgosProposalDrafted"});
  EXPECT_EQ(StageOf(r->instance.id), "rumo");
}

TEST_F(FgosProposalV2, ShouldLetAFumoDraftItsOwnProposalForItsOwnGroup) {
  // when the FUMO of 09.00.00 drafts a proposal of its group
  auto r = world_.Create("proposals", "fgos_proposal", kFumo, Draft("fgos"));
  // then it is the author, with no RUMO and no recipient
  ASSERT_ACCEPTED(r);
  EXPECT_EQ(r->instance.participants,
            (engine::Participants{
                {"fumo", "fumo-09.00.00"}, {"author", "fumo-09.00.00"}, {"ministry", "ministry"}}));
  EXPECT_EQ(r->instance.fields["kind"], "fgos");
  // and another group's proposal is not its to draft (422 on ugps)
  json other = Draft();
  other["ugps"] = "15.00.00";
  auto refused = world_.Create("proposals", "fgos_proposal", kFumo, other);
  EXPECT_REJECTED(refused, kValidationFailed);
  EXPECT_EQ(FieldOf(refused), "ugps");
  EXPECT_REJECTED(world_.Create("proposals", "fgos_proposal", kOtherFumo, Draft()),
                  kValidationFailed);
}

TEST_F(FgosProposalV2, ShouldLeaveTheListOfProfessionsToTheFumo) {
  // a RUMO may not propose changes to the list (§4.2в): 422 on kind
  auto refused = world_.Create("proposals", "fgos_proposal", kRumo, Draft("list"));
  EXPECT_REJECTED(refused, kValidationFailed);
  EXPECT_EQ(FieldOf(refused), "kind");
  // the FUMO may, with no standard named
  std::string id = FumoDraft("list");
  EXPECT_EQ(world_.Get("proposals", id).fields["kind"], "list");
  EXPECT_FALSE(world_.Get("proposals", id).fields.contains("standard"));
}

TEST_F(FgosProposalV2, ShouldTakeProgrammesAndAssessmentKitsFromARumoOrTheFumo) {
  for (const char* kind : {"pop", "kod"}) {
    std::string by_rumo = RumoDraft(kind);
    std::string by_fumo = FumoDraft(kind);
    EXPECT_EQ(world_.Get("proposals", by_rumo).fields["kind"], kind);
    EXPECT_EQ(world_.Get("proposals", by_fumo).fields["kind"], kind);
  }
}

TEST_F(FgosProposalV2, ShouldRefuseABadPayloadNamingTheField) {
  json bad_kind = Draft();
  bad_kind["kind"] = "law";
  auto r = world_.Create("proposals", "fgos_proposal", kRumo, bad_kind);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "kind");
  // a draft standard names its standard; the other kinds need not
  json no_standard = Draft();
  no_standard.erase("standard");
  r = world_.Create("proposals", "fgos_proposal", kRumo, no_standard);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "standard");
  json bad_group = Draft();
  bad_group["ugps"] = "9.00";
  r = world_.Create("proposals", "fgos_proposal", kRumo, bad_group);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "ugps");
  json unknown = Draft();
  unknown["author"] = "rumo-74";
  r = world_.Create("proposals", "fgos_proposal", kRumo, unknown);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "author");
  json no_title = Draft();
  no_title.erase("title");
  r = world_.Create("proposals", "fgos_proposal", kRumo, no_title);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "title");
}

TEST_F(FgosProposalV2, ShouldRefuseCreationByAnyoneButARumoOrAFumo) {
  for (const Principal& p : {kMinistry, P("irpo", "irpo_staff"), P("umc-01", "umc_lead"),
                             P("roiv-52", "region_official"), P("fumo-09.00.00", "fumo_chair"),
                             P("rumo-52", "rumo_chair"),
                             // a role its organisation does not hold
                             P("rumo-52", "fumo_expert"), P("fumo-09.00.00", "rumo_member"),
                             P("umc-01", "rumo_member")}) {
    EXPECT_REJECTED(world_.Create("proposals", "fgos_proposal", p, Draft()), kForbidden);
  }
}

// --- drafting ------------------------------------------------------------------------------

TEST_F(FgosProposalV2, ShouldLetOnlyTheAuthorUpdateADraft) {
  std::string id = RumoDraft();
  // the FUMO does not edit a RUMO's draft before it is submitted
  EXPECT_REJECTED(world_.Act("proposals", id, "update", kFumo, {{"summary", "x"}}), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "update", kRumo74, {{"summary", "x"}}), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "update", kRumo, {{"summary", "Новая редакция"}}));
  EXPECT_EQ(world_.Get("proposals", id).fields["summary"], "Новая редакция");
  // the group (its FUMO was routed from it) and the kind (judged at creation) stay
  auto r = world_.Act("proposals", id, "update", kRumo, {{"ugps", "15.00.00"}});
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "ugps");
  r = world_.Act("proposals", id, "update", kRumo, {{"kind", "list"}});
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "kind");
  r = world_.Act("proposals", id, "update", kRumo, {{"title", ""}});
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "title");
  // the FUMO updates its own draft
  std::string own = FumoDraft();
  ASSERT_ACCEPTED(world_.Act("proposals", own, "update", kFumo, {{"title", "Проект ФУМО"}}));
  EXPECT_REJECTED(world_.Act("proposals", own, "update", kOtherFumo, {{"title", "x"}}), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", own, "update", kRumo, {{"title", "x"}}), kForbidden);
}

TEST_F(FgosProposalV2, ShouldLetOnlyTheAuthorWithdrawADraft) {
  std::string id = RumoDraft();
  EXPECT_REJECTED(world_.Act("proposals", id, "withdraw", kFumo), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "withdraw", kRumo74), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "withdraw", kRumo, {{"comment", "Не актуально"}}));
  EXPECT_EQ(StateOf(id), "withdrawn");
  EXPECT_REJECTED(world_.Act("proposals", id, "update", kRumo, {{"summary", "x"}}),
                  kInvalidTransition);
  std::string own = FumoDraft();
  ASSERT_ACCEPTED(world_.Act("proposals", own, "withdraw", kFumo));
  EXPECT_EQ(StateOf(own), "withdrawn");
}

TEST_F(FgosProposalV2, ShouldSubmitARumosDraftToTheFumo) {
  std::string id = RumoDraft();
  EXPECT_REJECTED(world_.Act("proposals", id, "submit_to_fumo", kRumo74), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "submit_to_fumo", kFumo), kForbidden);
  auto bad = world_.Act("proposals", id, "submit_to_fumo", kRumo, {{"comment", 5}});
  EXPECT_REJECTED(bad, kValidationFailed);
  EXPECT_EQ(FieldOf(bad), "comment");
  ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_to_fumo", kRumo));
  EXPECT_EQ(StateOf(id), "fumo_review");
  EXPECT_EQ(StageOf(id), "fumo");
  // once submitted, the RUMO no longer edits it, nor submits it again
  EXPECT_REJECTED(world_.Act("proposals", id, "update", kRumo, {{"summary", "x"}}),
                  kInvalidTransition);
  EXPECT_REJECTED(world_.Act("proposals", id, "submit_to_fumo", kRumo), kInvalidTransition);
}

TEST_F(FgosProposalV2, ShouldSendAFumosOwnDraftStraightToItsExpertise) {
  std::string own = FumoDraft();
  // a FUMO's draft is not submitted to a FUMO
  EXPECT_REJECTED(world_.Act("proposals", own, "submit_to_fumo", kFumo), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", own, "open_expertise", kOtherFumo, Experts({"rumo-74"})),
                  kForbidden);
  ASSERT_ACCEPTED(
      world_.Act("proposals", own, "open_expertise", kFumo, Experts({"rumo-74", "rumo-66"})));
  const auto s = world_.Get("proposals", own);
  EXPECT_EQ(s.state, "expertise");
  ASSERT_TRUE(s.round.has_value());
  EXPECT_EQ(PartiesOf(s), (Parties{{"fumo-09.00.00", "fumo_expert"},
                                   {"rumo-74", "rumo_member"},
                                   {"rumo-66", "rumo_member"}}));
  EXPECT_EQ(world_.EventTypes("proposals", own).back(), "FgosExpertiseOpened");
  // and a RUMO's draft does not go to expertise before the RUMO submits it
  std::string id = RumoDraft();
  EXPECT_REJECTED(world_.Act("proposals", id, "open_expertise", kFumo, Experts({"rumo-74"})),
                  kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "open_expertise", kRumo, Experts({"rumo-74"})),
                  kForbidden);
}

TEST_F(FgosProposalV2, ShouldNotSendADraftToTheMinistryWithoutAnExpertise) {
  std::string own = FumoDraft();
  EXPECT_REJECTED(world_.Act("proposals", own, "send_to_ministry", kFumo), kInvalidTransition);
  std::string id = InFumoReview();
  auto r = world_.Act("proposals", id, "send_to_ministry", kFumo);
  EXPECT_REJECTED(r, kInvalidTransition);
  EXPECT_EQ(r.error().details["allowed_commands"],
            (json{"open_expertise", "return_to_rumo", "decline"}));
}

// --- fumo_review ---------------------------------------------------------------------------

TEST_F(FgosProposalV2, ShouldReturnARumosProposalToItsRumoWithAComment) {
  std::string id = InFumoReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "return_to_rumo", kOtherFumo, {{"comment", "x"}}),
                  kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "return_to_rumo", kRumo, {{"comment", "x"}}),
                  kForbidden);
  auto r = world_.Act("proposals", id, "return_to_rumo", kFumo);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "comment");
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "return_to_rumo", kFumo, {{"comment", "Доработать"}}));
  EXPECT_EQ(StateOf(id), "drafting");
  // the RUMO edits it again and submits it again
  ASSERT_ACCEPTED(world_.Act("proposals", id, "update", kRumo, {{"summary", "Доработано"}}));
  ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_to_fumo", kRumo));
  EXPECT_EQ(StateOf(id), "fumo_review");
}

TEST_F(FgosProposalV2, ShouldOpenAnExpertiseWithTheInvitedRumosAndTheFumo) {
  std::string id = InFumoReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "open_expertise", kOtherFumo, Experts({"rumo-74"})),
                  kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "open_expertise", kRumo, Experts({"rumo-74"})),
                  kForbidden);
  auto missing = world_.Act("proposals", id, "open_expertise", kFumo);
  EXPECT_REJECTED(missing, kValidationFailed);
  EXPECT_EQ(FieldOf(missing), "experts");
  ASSERT_ACCEPTED(world_.Act("proposals", id, "open_expertise", kFumo, Experts({"rumo-74"})));
  const auto s = world_.Get("proposals", id);
  EXPECT_EQ(s.state, "expertise");
  EXPECT_EQ(StageOf(id), "expertise");
  ASSERT_TRUE(s.round.has_value());
  EXPECT_EQ(s.round->number, 1u);
  EXPECT_EQ(PartiesOf(s), (Parties{{"fumo-09.00.00", "fumo_expert"}, {"rumo-74", "rumo_member"}}));
  EXPECT_EQ(s.timers.at("expertise"), world_.clock().Now() + days(30));
}

TEST_F(FgosProposalV2, ShouldDeclineWithAComment) {
  std::string id = InFumoReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "decline", kOtherFumo, {{"comment", "x"}}),
                  kForbidden);
  auto r = world_.Act("proposals", id, "decline", kFumo, {{"comment", ""}});
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "comment");
  ASSERT_ACCEPTED(world_.Act("proposals", id, "decline", kFumo, {{"comment", "Не относится"}}));
  EXPECT_EQ(StateOf(id), "declined");
  // and after an expertise
  std::string after = InExpertiseReview();
  ASSERT_ACCEPTED(world_.Act("proposals", after, "decline", kFumo, {{"comment", "Отклонено"}}));
  EXPECT_EQ(StateOf(after), "declined");
}

// --- the expertise check (fgos_expertise) --------------------------------------------------

TEST_F(FgosProposalV2, ShouldNeedTheRumosInTheExpertiseOfAStandardOrAProgramme) {
  for (const char* kind : {"fgos", "pop"}) {
    std::string id = FumoDraft(kind);
    auto r = world_.Act("proposals", id, "open_expertise", kFumo, {{"experts", json::array()}});
    EXPECT_REJECTED(r, kValidationFailed);
    EXPECT_EQ(FieldOf(r), "experts") << kind;
    EXPECT_EQ(StateOf(id), "drafting");
  }
}

TEST_F(FgosProposalV2, ShouldLetTheFumoAloneReviewAKitOrTheList) {
  // §5.4: RUMO experts for a kit "при необходимости"; none for the list
  for (const char* kind : {"kod", "list"}) {
    std::string id = FumoDraft(kind);
    ASSERT_ACCEPTED(
        world_.Act("proposals", id, "open_expertise", kFumo, {{"experts", json::array()}}));
    const auto s = world_.Get("proposals", id);
    ASSERT_TRUE(s.round.has_value());
    EXPECT_EQ(PartiesOf(s), (Parties{{"fumo-09.00.00", "fumo_expert"}}));
    ASSERT_ACCEPTED(
        world_.Act("proposals", id, "submit_conclusion", kFumo, {{"verdict", "approve"}}));
    EXPECT_EQ(StateOf(id), "expertise_review") << kind;
  }
  // a RUMO's kit, with a RUMO expert of its group
  std::string kit = RumoDraft("kod");
  ASSERT_ACCEPTED(world_.Act("proposals", kit, "submit_to_fumo", kRumo));
  ASSERT_ACCEPTED(world_.Act("proposals", kit, "open_expertise", kFumo, Experts({"rumo-74"})));
}

TEST_F(FgosProposalV2, ShouldTakeRumosOfTheProposalsGroupOrGeneralOnes) {
  const Principal it = RegisterRumo("rumo-52-it", "09.00.00");
  RegisterRumo("rumo-52-energy", "13.00.00");
  std::string id = InFumoReview();
  // a RUMO registered for another УГПС is refused, naming its place in the list
  auto r = world_.Act("proposals", id, "open_expertise", kFumo,
                      Experts({"rumo-74", "rumo-52-it", "rumo-52-energy"}));
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "experts[2]");
  EXPECT_EQ(StateOf(id), "fumo_review");
  // the group's own RUMO and a region's general one are taken
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "open_expertise", kFumo, Experts({"rumo-74", "rumo-52-it"})));
  ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_conclusion", it, {{"verdict", "revise"}}));
}

TEST_F(FgosProposalV2, ShouldRefuseARetiredListedTwiceOrNonRumoExpert) {
  RegisterRumo("rumo-52-old", "");
  ASSERT_ACCEPTED(world_.Act("organizations", "rumo-52-old", "retire", kAdmin,
                             {{"basis", "Приказ о ликвидации"}}));
  std::string id = InFumoReview();
  auto retired =
      world_.Act("proposals", id, "open_expertise", kFumo, Experts({"rumo-74", "rumo-52-old"}));
  EXPECT_REJECTED(retired, kValidationFailed);
  EXPECT_EQ(FieldOf(retired), "experts[1]");
  auto twice = world_.Act("proposals", id, "open_expertise", kFumo,
                          Experts({"rumo-74", "rumo-66", "rumo-74"}));
  EXPECT_REJECTED(twice, kValidationFailed);
  EXPECT_EQ(FieldOf(twice), "experts[2]");
  auto fumo = world_.Act("proposals", id, "open_expertise", kFumo, Experts({"fumo-15.00.00"}));
  EXPECT_REJECTED(fumo, kValidationFailed);
  EXPECT_EQ(FieldOf(fumo), "experts[0]");
  auto unknown = world_.Act("proposals", id, "open_expertise", kFumo, Experts({"rumo-999"}));
  EXPECT_REJECTED(unknown, kValidationFailed);
  EXPECT_EQ(FieldOf(unknown), "experts[0]");
  json too_many = json::array();
  for (int i = 0; i < 90; ++i) too_many.push_back("rumo-74");
  auto many = world_.Act("proposals", id, "open_expertise", kFumo, {{"experts", too_many}});
  EXPECT_REJECTED(many, kValidationFailed);
  EXPECT_EQ(FieldOf(many), "experts");
  EXPECT_EQ(StateOf(id), "fumo_review");
}

// --- expertise -----------------------------------------------------------------------------

TEST_F(FgosProposalV2, ShouldCloseTheRoundOnlyWithTheFumosOwnConclusion) {
  std::string id = InFumoReview();
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "open_expertise", kFumo, Experts({"rumo-74", "rumo-66"})));
  // the author, not invited, does not conclude; nor does another FUMO
  EXPECT_REJECTED(world_.Act("proposals", id, "submit_conclusion", kRumo, {{"verdict", "approve"}}),
                  kForbidden);
  EXPECT_REJECTED(
      world_.Act("proposals", id, "submit_conclusion", kOtherFumo, {{"verdict", "approve"}}),
      kForbidden);
  auto bad = world_.Act("proposals", id, "submit_conclusion", kRumo74, {{"verdict", "maybe"}});
  EXPECT_REJECTED(bad, kValidationFailed);
  EXPECT_EQ(FieldOf(bad), "verdict");
  ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_conclusion", kRumo74,
                             {{"verdict", "approve"}, {"comment", "Поддерживаем"}}));
  EXPECT_REJECTED(
      world_.Act("proposals", id, "submit_conclusion", kRumo74, {{"verdict", "reject"}}),
      kInvalidTransition);
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kRumo66, {{"verdict", "revise"}}));
  // every RUMO has concluded: the round waits for the FUMO's own conclusion
  EXPECT_EQ(StateOf(id), "expertise");
  EXPECT_EQ(Allowed(id, kFumo),
            (std::vector<std::string>{"submit_conclusion", "recall_expertise"}));
  ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_conclusion", kFumo, {{"verdict", "revise"}}));
  EXPECT_EQ(StateOf(id), "expertise_review");
  EXPECT_EQ(StageOf(id), "fumo");
  EXPECT_EQ(world_.EventTypes("proposals", id).back(), "ExpertiseCompleted");
  const auto s = world_.Get("proposals", id);
  EXPECT_FALSE(s.round.has_value());
  EXPECT_TRUE(s.timers.empty());
  // the experts keep sight of what they concluded on
  EXPECT_EQ(s.concluded, (std::vector<std::string>{"fumo-09.00.00", "rumo-66", "rumo-74"}));
}

TEST_F(FgosProposalV2, ShouldLetTheFumoRecallAnExpertiseAnExpertNeverAnswers) {
  std::string id = InFumoReview();
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "open_expertise", kFumo, Experts({"rumo-74", "rumo-66"})));
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kRumo74, {{"verdict", "approve"}}));
  EXPECT_REJECTED(world_.Act("proposals", id, "recall_expertise", kRumo74, {{"comment", "x"}}),
                  kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "recall_expertise", kOtherFumo, {{"comment", "x"}}),
                  kForbidden);
  auto r = world_.Act("proposals", id, "recall_expertise", kFumo);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "comment");
  ASSERT_ACCEPTED(world_.Act("proposals", id, "recall_expertise", kFumo,
                             {{"comment", "РУМО 66 не ответило в срок"}}));
  auto s = world_.Get("proposals", id);
  EXPECT_EQ(s.state, "fumo_review");
  EXPECT_FALSE(s.round.has_value());
  EXPECT_TRUE(s.timers.empty());
  // an abandoned round is no expertise: the FUMO opens another before the ministry
  EXPECT_REJECTED(world_.Act("proposals", id, "send_to_ministry", kFumo), kInvalidTransition);
  EXPECT_REJECTED(
      world_.Act("proposals", id, "submit_conclusion", kRumo66, {{"verdict", "approve"}}),
      kInvalidTransition);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "open_expertise", kFumo, Experts({"rumo-74"})));
  EXPECT_EQ(world_.Get("proposals", id).round->number, 2u);
}

TEST_F(FgosProposalV2, ShouldMarkTheExpertiseOverdueAfterThirtyDays) {
  std::string id = InExpertise();
  EXPECT_EQ(world_.Advance(days(29)), 0u);
  EXPECT_EQ(world_.Advance(days(1)), 0u) << "due at thirty days, passed after them";
  EXPECT_EQ(world_.Advance(std::chrono::seconds(1)), 1u);
  const auto s = world_.Get("proposals", id);
  EXPECT_EQ(s.state, "expertise");
  EXPECT_TRUE(s.overdue.contains("expertise"));
  EXPECT_EQ(world_.EventTypes("proposals", id).back(), "ExpertiseOverdue");
  // the round goes on, and closes as ever
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kRumo74, {{"verdict", "approve"}}));
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kFumo, {{"verdict", "approve"}}));
  EXPECT_EQ(StateOf(id), "expertise_review");
}

// --- expertise_review ----------------------------------------------------------------------

TEST_F(FgosProposalV2, ShouldSendToTheMinistryAfterAnExpertise) {
  std::string id = InExpertiseReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "send_to_ministry", kOtherFumo), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "send_to_ministry", kRumo), kForbidden);
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "send_to_ministry", kFumo, {{"comment", "Направляем"}}));
  EXPECT_EQ(StateOf(id), "ministry_review");
  EXPECT_EQ(StageOf(id), "ministry");
  // the FUMO's own proposal, too
  std::string own = FumoDraft();
  ASSERT_ACCEPTED(world_.Act("proposals", own, "open_expertise", kFumo, Experts({"rumo-74"})));
  ASSERT_ACCEPTED(
      world_.Act("proposals", own, "submit_conclusion", kRumo74, {{"verdict", "approve"}}));
  ASSERT_ACCEPTED(
      world_.Act("proposals", own, "submit_conclusion", kFumo, {{"verdict", "approve"}}));
  ASSERT_ACCEPTED(world_.Act("proposals", own, "send_to_ministry", kFumo));
  EXPECT_EQ(StateOf(own), "ministry_review");
}

TEST_F(FgosProposalV2, ShouldOpenAnotherRoundAfterAnExpertise) {
  std::string id = InExpertiseReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "open_expertise", kRumo74, Experts({"rumo-66"})),
                  kForbidden);
  auto r = world_.Act("proposals", id, "open_expertise", kFumo, {{"experts", json::array()}});
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "experts");
  ASSERT_ACCEPTED(world_.Act("proposals", id, "open_expertise", kFumo, Experts({"rumo-66"})));
  const auto s = world_.Get("proposals", id);
  EXPECT_EQ(s.state, "expertise");
  EXPECT_EQ(s.round->number, 2u);
  EXPECT_EQ(PartiesOf(s), (Parties{{"fumo-09.00.00", "fumo_expert"}, {"rumo-66", "rumo_member"}}));
  // the expert of the first round is not a party of the second
  EXPECT_REJECTED(
      world_.Act("proposals", id, "submit_conclusion", kRumo74, {{"verdict", "approve"}}),
      kForbidden);
}

TEST_F(FgosProposalV2, ShouldReturnToTheRumoOnlyARumosProposal) {
  // a RUMO's proposal goes back to its RUMO after the expertise
  std::string id = InExpertiseReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "return_to_rumo", kOtherFumo, {{"comment", "x"}}),
                  kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "return_to_rumo", kFumo,
                             {{"comment", "Учесть заключения экспертизы"}}));
  EXPECT_EQ(StateOf(id), "drafting");
  ASSERT_ACCEPTED(world_.Act("proposals", id, "update", kRumo, {{"summary", "Учтено"}}));
  // the FUMO's own proposal has no RUMO to return to
  std::string own = InExpertiseReview(FumoDraft());
  EXPECT_REJECTED(world_.Act("proposals", own, "return_to_rumo", kFumo, {{"comment", "x"}}),
                  kForbidden);
  const std::vector<std::string> allowed = Allowed(own, kFumo);
  EXPECT_EQ(std::count(allowed.begin(), allowed.end(), "return_to_rumo"), 0);
  EXPECT_EQ(StateOf(own), "expertise_review");
}

TEST_F(FgosProposalV2, ShouldLetTheFumoTakeItsOwnProposalBackToDrafting) {
  std::string own = InExpertiseReview(FumoDraft());
  EXPECT_REJECTED(world_.Act("proposals", own, "return_to_drafting", kOtherFumo), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", own, "return_to_drafting", kRumo74), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", own, "return_to_drafting", kFumo,
                             {{"comment", "Учесть заключения РУМО"}}));
  EXPECT_EQ(StateOf(own), "drafting");
  EXPECT_EQ(world_.EventTypes("proposals", own).back(), "FgosProposalReturnedToDrafting");
  // it revises the draft, and the revision goes through an expertise again
  ASSERT_ACCEPTED(world_.Act("proposals", own, "update", kFumo, {{"summary", "Новая редакция"}}));
  EXPECT_REJECTED(world_.Act("proposals", own, "send_to_ministry", kFumo), kInvalidTransition);
  ASSERT_ACCEPTED(world_.Act("proposals", own, "open_expertise", kFumo, Experts({"rumo-74"})));
  // from fumo_review (after a recall) as well
  ASSERT_ACCEPTED(
      world_.Act("proposals", own, "recall_expertise", kFumo, {{"comment", "Новая редакция"}}));
  ASSERT_ACCEPTED(world_.Act("proposals", own, "return_to_drafting", kFumo));
  EXPECT_EQ(StateOf(own), "drafting");
  // a RUMO's proposal is the RUMO's to revise: the FUMO returns it, not takes it back
  std::string id = InExpertiseReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "return_to_drafting", kFumo), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "return_to_drafting", kRumo), kForbidden);
}

// --- ministry_review -----------------------------------------------------------------------

TEST_F(FgosProposalV2, ShouldBeAcceptedReturnedOrRejectedByTheMinistry) {
  std::string a = InMinistryReview();
  EXPECT_REJECTED(world_.Act("proposals", a, "approve", kFumo), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", a, "approve", kRumo), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", a, "approve", P("umc-01", "ministry_official")),
                  kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", a, "approve", kMinistry));
  EXPECT_EQ(StateOf(a), "accepted");
  EXPECT_EQ(StageOf(a), "accepted");
  EXPECT_REJECTED(world_.Act("proposals", a, "reject", kMinistry, {{"comment", "x"}}),
                  kInvalidTransition);

  // returned for revision: the FUMO decides again, its expertise standing
  std::string b = InMinistryReview();
  auto r = world_.Act("proposals", b, "return_for_revision", kMinistry);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "comment");
  EXPECT_REJECTED(
      world_.Act("proposals", b, "return_for_revision", kFumo, {{"comment", "Уточнить"}}),
      kForbidden);
  ASSERT_ACCEPTED(
      world_.Act("proposals", b, "return_for_revision", kMinistry, {{"comment", "Уточнить"}}));
  EXPECT_EQ(StateOf(b), "expertise_review");
  ASSERT_ACCEPTED(world_.Act("proposals", b, "send_to_ministry", kFumo, {{"comment", "Уточнено"}}));
  EXPECT_EQ(StateOf(b), "ministry_review");

  std::string c = InMinistryReview();
  EXPECT_REJECTED(world_.Act("proposals", c, "reject", kFumo, {{"comment", "x"}}), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", c, "reject", kMinistry, {{"comment", "Отклонено"}}));
  EXPECT_EQ(StateOf(c), "rejected");
  EXPECT_EQ(world_.Replay("proposals", c), world_.Get("proposals", c));
  EXPECT_EQ(world_.EventTypes("proposals", c),
            (std::vector<std::string>{"FgosProposalDrafted", "FgosProposalSubmittedToFumo",
                                      "FgosExpertiseOpened", "ConclusionSubmitted",
                                      "ConclusionSubmitted", "ExpertiseCompleted",
                                      "FgosProposalSentToMinistry", "FgosProposalRejected"}));
}

// --- versions side by side -----------------------------------------------------------------

TEST_F(FgosProposalV2, ShouldKeepVersion1InstancesOnVersion1) {
  auto old = world_.Create("proposals", "fgos_proposal", kRumo, Draft(), 1);
  ASSERT_ACCEPTED(old);
  const std::string v1 = old->instance.id;
  const std::string v2 = InFumoReview();
  ASSERT_ACCEPTED(world_.Act("proposals", v1, "submit_to_fumo", kRumo));
  // version 1: the RUMOs alone conclude, and the proposal goes back to fumo_review
  ASSERT_ACCEPTED(world_.Act("proposals", v1, "open_expertise", kFumo, Experts({"rumo-74"})));
  ASSERT_ACCEPTED(
      world_.Act("proposals", v1, "submit_conclusion", kRumo74, {{"verdict", "approve"}}));
  EXPECT_EQ(StateOf(v1), "fumo_review");
  EXPECT_REJECTED(world_.Act("proposals", v1, "recall_expertise", kFumo, {{"comment", "x"}}),
                  kValidationFailed);
  ASSERT_ACCEPTED(world_.Act("proposals", v1, "send_to_ministry", kFumo));
  // version 2 beside it
  EXPECT_REJECTED(world_.Act("proposals", v2, "send_to_ministry", kFumo), kInvalidTransition);
  EXPECT_EQ(world_.Get("proposals", v1).workflow_version, 1u);
  EXPECT_EQ(world_.Get("proposals", v2).workflow_version, 2u);
  // a version 1 FUMO cannot draft; version 2 names the author
  EXPECT_REJECTED(world_.Create("proposals", "fgos_proposal", kFumo, Draft(), 1), kForbidden);
}

TEST_F(FgosProposalV2, ShouldMapEveryStateToAStageOfVersion1) {
  const engine::Definition* v1 = world_.definitions().Find("fgos_proposal", 1);
  const engine::Definition* v2 = world_.definitions().Find("fgos_proposal", 2);
  ASSERT_NE(v1, nullptr);
  ASSERT_NE(v2, nullptr);
  std::set<std::string> stages_v1;
  for (const auto& s : v1->states) stages_v1.insert(s.stage);
  for (const auto& s : v2->states) {
    EXPECT_TRUE(stages_v1.contains(s.stage)) << s.name << " has stage " << s.stage;
    if (const engine::StateSpec* same = v1->FindState(s.name)) {
      EXPECT_EQ(same->stage, s.stage);
    }
  }
  EXPECT_EQ(v2->FindState("expertise_review")->stage, "fumo");
}

}  // namespace
}  // namespace expertflow::testing
