// Given/when/then tests of the FUMO–RUMO agreement, version 1 (WORKFLOWS.md): instances created on
// it keep running on it. Version 2 (seed 000 annex 2 as written) is in agreement_v2_test.cc.
#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

using std::chrono::days;

const Principal kFumo = P("fumo-09.00.00", "fumo_expert");
const Principal kRumo = P("rumo-52", "rumo_member");
const Principal kOtherRumo = P("rumo-74", "rumo_member");

json Draft() {
  return {{"fumo", "fumo-09.00.00"},
          {"rumo", "rumo-52"},
          {"ugps", "09.00.00"},
          {"city", "Нижний Новгород"}};
}

class Agreement : public ::testing::Test {
 protected:
  std::string Drafted() {
    auto r = world_.Create("agreements", "agreement", kFumo, Draft(), 1);
    EXPECT_TRUE(r) << r.error().ToString() << r.error().details.dump();
    return r ? r->instance.id : "";
  }
  std::string Active() {
    std::string id = Drafted();
    EXPECT_TRUE(world_.Act("agreements", id, "sign", kFumo));
    EXPECT_TRUE(world_.Act("agreements", id, "sign", kRumo));
    return id;
  }
  std::string StateOf(const std::string& id) { return world_.Get("agreements", id).state; }
  // "YYYY-MM-DD" of the Moscow day `n` days from now.
  std::string DaysAhead(int n) {
    return engine::FormatRfc3339(world_.clock().Now() + days(n)).substr(0, 10);
  }
  World world_;
};

TEST_F(Agreement, ShouldBeDraftedByOneOfItsParties) {
  auto r = world_.Create("agreements", "agreement", kRumo, Draft(), 1);
  ASSERT_ACCEPTED(r);
  EXPECT_EQ(r->instance.state, "draft");
  EXPECT_EQ(r->instance.participants.at("fumo"), "fumo-09.00.00");
  EXPECT_EQ(r->instance.participants.at("rumo"), "rumo-52");
  EXPECT_REJECTED(world_.Create("agreements", "agreement", kOtherRumo, Draft(), 1), kForbidden);
  json wrong_kind = Draft();
  wrong_kind["rumo"] = "roiv-52";
  EXPECT_REJECTED(world_.Create("agreements", "agreement", kFumo, wrong_kind, 1),
                  kValidationFailed);
}

TEST_F(Agreement, ShouldBecomeActiveOnlyWhenBothHaveSigned) {
  std::string id = Drafted();
  EXPECT_REJECTED(world_.Act("agreements", id, "sign", kOtherRumo), kForbidden);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "sign", kFumo));
  EXPECT_EQ(StateOf(id), "draft");
  EXPECT_REJECTED(world_.Act("agreements", id, "sign", kFumo), kInvalidTransition);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "sign", kRumo));
  EXPECT_EQ(StateOf(id), "active");
  EXPECT_EQ(world_.EventTypes("agreements", id).back(), "AgreementConcluded");
  // §3.3: a working-group meeting at least once a year.
  EXPECT_EQ(world_.Get("agreements", id).timers.at("meeting"), world_.clock().Now() + days(365));
}

TEST_F(Agreement, ShouldBeAbandonedByEitherPartyWhileADraft) {
  std::string id = Drafted();
  EXPECT_REJECTED(world_.Act("agreements", id, "abandon", kOtherRumo), kForbidden);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "abandon", kRumo));
  EXPECT_EQ(StateOf(id), "abandoned");
}

TEST_F(Agreement, ShouldAppendMeetingOverdueEachYearWithoutAMeeting) {
  std::string id = Active();
  EXPECT_EQ(world_.Advance(days(364)), 0u);
  EXPECT_EQ(world_.Advance(days(2)), 1u);
  EXPECT_EQ(world_.EventTypes("agreements", id).back(), "MeetingOverdue");
  EXPECT_TRUE(world_.Get("agreements", id).overdue.contains("meeting"));
  EXPECT_EQ(world_.Advance(days(365)), 1u) << "and again a year later";
  // A meeting restarts the year and clears the overdue mark.
  ASSERT_ACCEPTED(
      world_.Act("agreements", id, "record_meeting", kRumo,
                 {{"date", DaysAhead(0)}, {"minutes", "Протокол заседания рабочей группы"}}));
  auto s = world_.Get("agreements", id);
  EXPECT_FALSE(s.overdue.contains("meeting"));
  EXPECT_EQ(s.timers.at("meeting"), world_.clock().Now() + days(365));
  EXPECT_EQ(world_.Advance(days(300)), 0u);
}

TEST_F(Agreement, ShouldRecordAnnualReports) {
  std::string id = Active();
  EXPECT_REJECTED(world_.Act("agreements", id, "submit_annual_report", kFumo, {{"year", 1990}}),
                  kValidationFailed);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "submit_annual_report", kFumo, {{"year", 2026}}));
  EXPECT_EQ(StateOf(id), "active");
}

TEST_F(Agreement, ShouldAmendOnlyWithBothSignatures) {
  std::string id = Active();
  ASSERT_ACCEPTED(
      world_.Act("agreements", id, "propose_amendment", kRumo, {{"text", "Дополнить п. 2.1"}}));
  EXPECT_EQ(StateOf(id), "amending");
  EXPECT_EQ(world_.Get("agreements", id).participants.at("proposer"), "rumo-52");
  ASSERT_ACCEPTED(world_.Act("agreements", id, "sign", kRumo));
  EXPECT_EQ(StateOf(id), "amending");
  ASSERT_ACCEPTED(world_.Act("agreements", id, "sign", kFumo));
  EXPECT_EQ(StateOf(id), "active");
  EXPECT_EQ(world_.EventTypes("agreements", id).back(), "AmendmentConcluded");
}

TEST_F(Agreement, ShouldLetOnlyTheProposerWithdrawAnAmendment) {
  std::string id = Active();
  ASSERT_ACCEPTED(
      world_.Act("agreements", id, "propose_amendment", kFumo, {{"text", "Изменить срок"}}));
  EXPECT_REJECTED(world_.Act("agreements", id, "withdraw_amendment", kRumo), kForbidden);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "withdraw_amendment", kFumo));
  EXPECT_EQ(StateOf(id), "active");
}

TEST_F(Agreement, ShouldRefuseATerminationNoticeShorterThanThirtyDays) {
  // Annex 2 §5.3: notice no later than 30 calendar days before the termination date.
  std::string id = Active();
  auto r = world_.Act("agreements", id, "notify_termination", kRumo,
                      {{"effective_date", DaysAhead(29)}});
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(r.error().details["errors"][0]["field"], "effective_date");
  EXPECT_EQ(StateOf(id), "active");
  ASSERT_ACCEPTED(world_.Act("agreements", id, "notify_termination", kRumo,
                             {{"effective_date", DaysAhead(30)}}));
  EXPECT_EQ(StateOf(id), "terminating");
}

TEST_F(Agreement, ShouldTerminateOnTheEffectiveDate) {
  std::string id = Active();
  ASSERT_ACCEPTED(world_.Act("agreements", id, "notify_termination", kFumo,
                             {{"effective_date", DaysAhead(45)}}));
  EXPECT_EQ(world_.Advance(days(44)), 0u);
  EXPECT_EQ(world_.Advance(days(2)), 1u);
  auto s = world_.Get("agreements", id);
  EXPECT_EQ(s.state, "terminated");
  EXPECT_TRUE(s.timers.empty());
  EXPECT_EQ(world_.EventTypes("agreements", id).back(), "AgreementTerminated");
  EXPECT_EQ(world_.Advance(days(400)), 0u) << "no meeting deadline after termination";
}

TEST_F(Agreement, ShouldLetOnlyTheNotifierRevokeTheTermination) {
  std::string id = Active();
  ASSERT_ACCEPTED(world_.Act("agreements", id, "notify_termination", kFumo,
                             {{"effective_date", DaysAhead(40)}}));
  EXPECT_REJECTED(world_.Act("agreements", id, "revoke_termination", kRumo), kForbidden);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "revoke_termination", kFumo));
  auto s = world_.Get("agreements", id);
  EXPECT_EQ(s.state, "active");
  EXPECT_FALSE(s.timers.contains("termination"));
  EXPECT_EQ(world_.Advance(days(41)), 0u);
  EXPECT_EQ(world_.Replay("agreements", id), world_.Get("agreements", id));
}

}  // namespace
}  // namespace expertflow::testing
