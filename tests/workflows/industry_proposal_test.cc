// Given/when/then tests of the industry proposal, version 1 (seed 001 §5–6 as WORKFLOWS.md
// summarised them). Version 2 is in industry_proposal_v2_test.cc; these pin version 1, which
// instances created on it keep to their end.
#include <gmock/gmock.h>

#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

using std::chrono::days;
using ::testing::ElementsAre;

const Principal kAssoc = P("assoc-01", "association_member");  // nuclear industry, Ozersk (Ural)
const Principal kUmc = P("umc-01", "umc_lead");
const Principal kOtherUmc = P("umc-12", "umc_lead");
const Principal kFumo09 = P("fumo-09.00.00", "fumo_expert");
const Principal kFumo14 = P("fumo-14.00.00", "fumo_expert");
const Principal kBusiness = P("business-rspp", "business_expert");
const Principal kIrpo = P("irpo", "irpo_staff");
const Principal kFtpo = P("ftpo-nnovgorod", "ftpo_coordinator");
const Principal kWrongFtpo = P("ftpo-kaluga", "ftpo_coordinator");
const Principal kMinistry = P("ministry", "ministry_official");

json Draft() {
  return {{"title", "Единый отраслевой подход к подготовке операторов"},
          {"topic", "unified_training_approach"},
          {"summary", "Консолидированная позиция ассоциации"},
          {"ugps", {"14.00.00"}}};
}

json Experts() {
  return {
      {"experts", {{"fumo", {"fumo-14.00.00", "fumo-09.00.00"}}, {"business", {"business-rspp"}}}}};
}

class IndustryProposal : public ::testing::Test {
 protected:
  // Given a proposal created by the association, returns its id.
  std::string Created() {
    auto r = world_.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? r->instance.id : "";
  }
  std::string InUmcReview() {
    std::string id = Created();
    EXPECT_TRUE(world_.Act("proposals", id, "submit_to_umc", kAssoc));
    return id;
  }
  std::string InExpertise() {
    std::string id = InUmcReview();
    auto r = world_.Act("proposals", id, "send_to_expertise", kUmc, Experts());
    EXPECT_TRUE(r) << r.error().ToString() << r.error().details.dump();
    return id;
  }
  void ConcludeAll(const std::string& id, const std::string& verdict) {
    for (const auto& p : {kFumo14, kFumo09, kBusiness, kIrpo}) {
      auto r = world_.Act("proposals", id, "submit_conclusion", p, {{"verdict", verdict}});
      ASSERT_ACCEPTED(r);
    }
  }
  std::string InApprobation() {
    std::string id = InExpertise();
    ConcludeAll(id, "approve");
    return id;
  }
  std::string InMinistryReview() {
    std::string id = InApprobation();
    EXPECT_TRUE(world_.Act("proposals", id, "record_approbation", kFtpo,
                           {{"outcome", "successful"}, {"report", "Апробация прошла"}}));
    return id;
  }
  std::string InDissemination() {
    std::string id = InMinistryReview();
    EXPECT_TRUE(world_.Act("proposals", id, "approve", kMinistry));
    return id;
  }
  std::string StateOf(const std::string& id) { return world_.Get("proposals", id).state; }

  World world_;
};

TEST_F(IndustryProposal, ShouldDeriveParticipantsFromTheCreatorsIndustry) {
  // when
  auto r = world_.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
  // then: §6.5 — the Ozersk college is in the Ural district, served by the Nizhny Novgorod FTPO.
  ASSERT_ACCEPTED(r);
  EXPECT_EQ(r->instance.state, "drafting");
  EXPECT_EQ(r->instance.version, 1u);
  EXPECT_EQ(r->instance.participants.at("association"), "assoc-01");
  EXPECT_EQ(r->instance.participants.at("umc"), "umc-01");
  EXPECT_EQ(r->instance.participants.at("ftpo"), "ftpo-nnovgorod");
  EXPECT_EQ(r->instance.fields["topic"], "unified_training_approach");
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(engine::DecodeRecord(r->events[0].record)->type, "ProposalDrafted");
}

TEST_F(IndustryProposal, ShouldLetAUmcLeadCreateForItsOwnIndustry) {
  auto r = world_.Create("proposals", "industry_proposal", P("umc-12", "umc_lead"), Draft(), 1);
  ASSERT_ACCEPTED(r);
  EXPECT_EQ(r->instance.participants.at("association"), "assoc-12");
  EXPECT_EQ(r->instance.participants.at("ftpo"), "ftpo-kaluga");  // St Petersburg, North-West
}

TEST_F(IndustryProposal, ShouldRejectCreationByARoleThatMayNotCreate) {
  EXPECT_REJECTED(world_.Create("proposals", "industry_proposal", kFumo09, Draft(), 1), kForbidden);
  EXPECT_REJECTED(
      world_.Create("proposals", "industry_proposal", P("assoc-01", "umc_lead"), Draft(), 1),
      kForbidden);
  EXPECT_EQ(world_.log().GetHead().seq, 0u) << "a refusal appends nothing";
}

TEST_F(IndustryProposal, ShouldRejectCreationWithMissingOrWrongFields) {
  json missing = Draft();
  missing.erase("summary");
  auto r = world_.Create("proposals", "industry_proposal", kAssoc, missing, 1);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(r.error().details["errors"][0]["field"], "summary");

  json bad_topic = Draft();
  bad_topic["topic"] = "astrology";
  EXPECT_REJECTED(world_.Create("proposals", "industry_proposal", kAssoc, bad_topic, 1),
                  kValidationFailed);

  json wrong_type = Draft();
  wrong_type["title"] = 42;
  EXPECT_REJECTED(world_.Create("proposals", "industry_proposal", kAssoc, wrong_type, 1),
                  kValidationFailed);

  json unknown = Draft();
  unknown["titel"] = "typo";
  r = world_.Create("proposals", "industry_proposal", kAssoc, unknown, 1);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(r.error().details["errors"][0]["field"], "titel");

  json bad_ugps = Draft();
  bad_ugps["ugps"] = {"99.00.00"};
  EXPECT_REJECTED(world_.Create("proposals", "industry_proposal", kAssoc, bad_ugps, 1),
                  kValidationFailed);
  EXPECT_EQ(world_.log().GetHead().seq, 0u);
}

TEST_F(IndustryProposal, ShouldUpdateFieldsWhileDraftingByAssociationOrUmc) {
  std::string id = Created();
  ASSERT_ACCEPTED(world_.Act("proposals", id, "update", kAssoc, {{"title", "Новое название"}}));
  ASSERT_ACCEPTED(world_.Act("proposals", id, "update", kUmc, {{"summary", "Уточнено"}}));
  auto s = world_.Get("proposals", id);
  EXPECT_EQ(s.fields["title"], "Новое название");
  EXPECT_EQ(s.fields["summary"], "Уточнено");
  EXPECT_EQ(s.fields["topic"], "unified_training_approach");
  EXPECT_EQ(s.state, "drafting");
  EXPECT_EQ(s.version, 3u);
}

TEST_F(IndustryProposal, ShouldRejectAnUpdateFromAnotherOrganisation) {
  std::string id = Created();
  EXPECT_REJECTED(world_.Act("proposals", id, "update", kOtherUmc, {{"title", "x"}}), kForbidden);
  EXPECT_REJECTED(
      world_.Act("proposals", id, "update", P("assoc-12", "association_member"), {{"title", "x"}}),
      kForbidden);
}

TEST_F(IndustryProposal, ShouldSubmitToUmcOnlyByTheAssociation) {
  std::string id = Created();
  EXPECT_REJECTED(world_.Act("proposals", id, "submit_to_umc", kUmc), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_to_umc", kAssoc));
  EXPECT_EQ(StateOf(id), "umc_review");
}

TEST_F(IndustryProposal, ShouldLetOnlyTheUmcUpdateInUmcReview) {
  std::string id = InUmcReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "update", kAssoc, {{"title", "x"}}), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "update", kUmc, {{"title", "Сводная версия"}}));
  EXPECT_EQ(StateOf(id), "umc_review");
}

TEST_F(IndustryProposal, ShouldReturnToTheAssociationWithAComment) {
  std::string id = InUmcReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "return_to_association", kUmc), kValidationFailed);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "return_to_association", kUmc,
                             {{"comment", "Доработать раздел 2"}}));
  EXPECT_EQ(StateOf(id), "drafting");
}

TEST_F(IndustryProposal, ShouldWithdrawFromDraftingOrUmcReview) {
  std::string a = Created();
  ASSERT_ACCEPTED(world_.Act("proposals", a, "withdraw", kAssoc));
  EXPECT_EQ(StateOf(a), "withdrawn");
  std::string b = InUmcReview();
  EXPECT_REJECTED(world_.Act("proposals", b, "withdraw", kAssoc), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", b, "withdraw", kUmc));
  EXPECT_EQ(StateOf(b), "withdrawn");
  // A terminal state takes no command.
  auto r = world_.Act("proposals", b, "update", kUmc, {{"title", "x"}});
  EXPECT_REJECTED(r, kInvalidTransition);
  EXPECT_EQ(r.error().details["state"], "withdrawn");
}

TEST_F(IndustryProposal, ShouldSendToExpertiseWithIrpoAlwaysAmongTheExperts) {
  std::string id = InUmcReview();
  auto r = world_.Act("proposals", id, "send_to_expertise", kUmc, Experts());
  ASSERT_ACCEPTED(r);
  auto s = world_.Get("proposals", id);
  EXPECT_EQ(s.state, "expertise");
  ASSERT_TRUE(s.round);
  EXPECT_EQ(s.round->number, 1u);
  std::vector<std::string> orgs;
  for (const auto& p : s.round->parties) orgs.push_back(p.org + ":" + p.role);
  EXPECT_THAT(orgs, ElementsAre("fumo-14.00.00:fumo_expert", "fumo-09.00.00:fumo_expert",
                                "business-rspp:business_expert", "irpo:irpo_staff"));
  // §5.3 expertise runs 30 days.
  EXPECT_EQ(s.timers.at("expertise"), world_.clock().Now() + days(30));
}

TEST_F(IndustryProposal, ShouldRejectExpertiseWithoutAFumoOrWithUnknownExperts) {
  std::string id = InUmcReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "send_to_expertise", kUmc,
                             {{"experts", {{"fumo", json::array()}}}}),
                  kValidationFailed);
  EXPECT_REJECTED(world_.Act("proposals", id, "send_to_expertise", kUmc,
                             {{"experts", {{"fumo", {"fumo-77.00.00"}}}}}),
                  kValidationFailed);
  EXPECT_REJECTED(
      world_.Act("proposals", id, "send_to_expertise", kUmc, {{"experts", {{"fumo", {"umc-05"}}}}}),
      kValidationFailed);
  EXPECT_REJECTED(world_.Act("proposals", id, "send_to_expertise", kUmc,
                             {{"experts", {{"fumo", {"fumo-09.00.00", "fumo-09.00.00"}}}}}),
                  kValidationFailed);
  EXPECT_EQ(StateOf(id), "umc_review");
}

TEST_F(IndustryProposal, ShouldRejectConclusionFromUninvitedExpert) {
  std::string id = InExpertise();
  EXPECT_REJECTED(world_.Act("proposals", id, "submit_conclusion",
                             P("fumo-15.00.00", "fumo_expert"), {{"verdict", "approve"}}),
                  kForbidden);
  // A party acting in a role it was not invited in is refused too.
  EXPECT_REJECTED(world_.Act("proposals", id, "submit_conclusion",
                             P("fumo-09.00.00", "business_expert"), {{"verdict", "approve"}}),
                  kForbidden);
}

TEST_F(IndustryProposal, ShouldAcceptOneConclusionPerExpertPerRound) {
  std::string id = InExpertise();
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kIrpo, {{"verdict", "approve"}}));
  auto again = world_.Act("proposals", id, "submit_conclusion", kIrpo, {{"verdict", "reject"}});
  EXPECT_REJECTED(again, kInvalidTransition);
  EXPECT_EQ(StateOf(id), "expertise");
}

TEST_F(IndustryProposal, ShouldMoveToApprobationWhenEveryExpertApproves) {
  std::string id = InExpertise();
  ConcludeAll(id, "approve");
  auto s = world_.Get("proposals", id);
  EXPECT_EQ(s.state, "approbation");
  EXPECT_FALSE(s.round);
  EXPECT_FALSE(s.timers.contains("expertise")) << "leaving expertise clears its deadline";
  auto types = world_.EventTypes("proposals", id);
  EXPECT_EQ(types.back(), "ExpertiseCompleted");
}

TEST_F(IndustryProposal, ShouldReturnToUmcWhenAnyExpertAsksForRevision) {
  std::string id = InExpertise();
  for (const auto& [p, v] : std::vector<std::pair<Principal, std::string>>{
           {kFumo14, "approve"}, {kFumo09, "revise"}, {kBusiness, "approve"}}) {
    ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_conclusion", p, {{"verdict", v}}));
    EXPECT_EQ(StateOf(id), "expertise") << "waits for every expert";
  }
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kIrpo, {{"verdict", "approve"}}));
  EXPECT_EQ(StateOf(id), "umc_review");
}

TEST_F(IndustryProposal, ShouldStartANewRoundWhenSentToExpertiseAgain) {
  std::string id = InExpertise();
  ConcludeAll(id, "reject");
  ASSERT_EQ(StateOf(id), "umc_review");
  ASSERT_ACCEPTED(world_.Act("proposals", id, "send_to_expertise", kUmc,
                             {{"experts", {{"fumo", {"fumo-09.00.00"}}}}}));
  auto s = world_.Get("proposals", id);
  ASSERT_TRUE(s.round);
  EXPECT_EQ(s.round->number, 2u);
  EXPECT_EQ(s.round->parties.size(), 2u);  // fumo-09 and irpo
  // The earlier round stays in the history.
  auto types = world_.EventTypes("proposals", id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "ConclusionSubmitted"), 4);
}

TEST_F(IndustryProposal, ShouldLetAnInvitedExpertKeepSightOfWhatItConcludedOn) {
  std::string id = InApprobation();
  auto s = world_.Get("proposals", id);
  EXPECT_FALSE(s.round) << "the round is closed";
  for (const auto& expert : {kFumo14, kFumo09, kBusiness})
    EXPECT_TRUE(engine::CanSee(s, expert)) << expert.org;
  EXPECT_FALSE(engine::CanSee(s, P("fumo-23.00.00", "fumo_expert"))) << "never invited";
  EXPECT_EQ(world_.Replay("proposals", id), s) << "the same from the log alone";
}

TEST_F(IndustryProposal, ShouldMarkExpertiseOverdueAfterThirtyDaysOnce) {
  std::string id = InExpertise();
  EXPECT_EQ(world_.Advance(days(29)), 0u);
  EXPECT_EQ(world_.Advance(days(2)), 1u);
  auto s = world_.Get("proposals", id);
  EXPECT_EQ(s.state, "expertise") << "the instance stays";
  EXPECT_TRUE(s.overdue.contains("expertise"));
  EXPECT_EQ(world_.EventTypes("proposals", id).back(), "ExpertiseOverdue");
  EXPECT_EQ(world_.Advance(days(30)), 0u) << "fires once";
  ConcludeAll(id, "approve");
  EXPECT_FALSE(world_.Get("proposals", id).overdue.contains("expertise"));
}

TEST_F(IndustryProposal, ShouldNotFireExpertiseDeadlineAfterLeavingExpertise) {
  std::string id = InApprobation();
  EXPECT_EQ(world_.Advance(days(40)), 0u);
  EXPECT_EQ(StateOf(id), "approbation");
}

TEST_F(IndustryProposal, ShouldRecordApprobationByTheDistrictsFtpoOnly) {
  std::string id = InApprobation();
  EXPECT_REJECTED(world_.Act("proposals", id, "record_approbation", kWrongFtpo,
                             {{"outcome", "successful"}, {"report", "r"}}),
                  kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "record_approbation", kFtpo,
                             {{"outcome", "maybe"}, {"report", "r"}}),
                  kValidationFailed);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "record_approbation", kFtpo,
                             {{"outcome", "unsuccessful"}, {"report", "Не подтвердилось"}}));
  EXPECT_EQ(StateOf(id), "umc_review");
}

TEST_F(IndustryProposal, ShouldGoToTheMinistryAfterSuccessfulApprobation) {
  std::string id = InMinistryReview();
  EXPECT_EQ(StateOf(id), "ministry_review");
}

TEST_F(IndustryProposal, ShouldLetOnlyTheMinistryDecide) {
  std::string id = InMinistryReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "approve", kUmc), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "approve", P("umc-01", "ministry_official")),
                  kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "approve", kMinistry));
  EXPECT_EQ(StateOf(id), "dissemination");
}

TEST_F(IndustryProposal, ShouldReturnForRevisionOrRejectWithAComment) {
  std::string a = InMinistryReview();
  EXPECT_REJECTED(world_.Act("proposals", a, "return_for_revision", kMinistry), kValidationFailed);
  ASSERT_ACCEPTED(
      world_.Act("proposals", a, "return_for_revision", kMinistry, {{"comment", "Уточнить"}}));
  EXPECT_EQ(StateOf(a), "umc_review");
  std::string b = InMinistryReview();
  ASSERT_ACCEPTED(
      world_.Act("proposals", b, "reject", kMinistry, {{"comment", "Нецелесообразно"}}));
  EXPECT_EQ(StateOf(b), "rejected");
}

TEST_F(IndustryProposal, ShouldRecordTrainingAndCompleteScaling) {
  std::string id = InDissemination();
  EXPECT_REJECTED(world_.Act("proposals", id, "record_training", kFtpo,
                             {{"programme", "ДПП"}, {"teachers_trained", -1}}),
                  kValidationFailed);
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "record_training", kFtpo,
                 {{"programme", "ДПП повышения квалификации"}, {"teachers_trained", 120}}));
  EXPECT_EQ(StateOf(id), "dissemination");
  EXPECT_REJECTED(world_.Act("proposals", id, "complete", kWrongFtpo), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "complete", kFtpo));
  EXPECT_EQ(StateOf(id), "scaled");
}

TEST_F(IndustryProposal, ShouldRefuseACommandInTheWrongStateNamingWhatIsAllowed) {
  std::string id = Created();
  auto r = world_.Act("proposals", id, "send_to_expertise", kUmc, Experts());
  EXPECT_REJECTED(r, kInvalidTransition);
  EXPECT_EQ(r.error().details["state"], "drafting");
  EXPECT_EQ(r.error().details["allowed_commands"], json({"update", "withdraw"}));
  auto unknown = world_.Act("proposals", id, "teleport", kUmc);
  EXPECT_REJECTED(unknown, kValidationFailed);
}

TEST_F(IndustryProposal, ShouldRefuseAStaleExpectedVersion) {
  std::string id = Created();
  auto r = world_.Act("proposals", id, "update", kAssoc, {{"title", "x"}}, 5);
  EXPECT_REJECTED(r, kVersionConflict);
  EXPECT_EQ(r.error().details["current_version"], 1);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "update", kAssoc, {{"title", "x"}}, 1));
}

TEST_F(IndustryProposal, ShouldReplayToExactlyTheLiveState) {
  std::string id = InDissemination();
  EXPECT_EQ(world_.Replay("proposals", id), world_.Get("proposals", id));
}

}  // namespace
}  // namespace expertflow::testing
