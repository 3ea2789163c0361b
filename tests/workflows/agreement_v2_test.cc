// Given/when/then tests of the FUMO–RUMO agreement, version 2: seed 000 annex 2 as written
// (issue 16). Each party acts through its chair to sign, amend and terminate (preamble, «в лице
// председателя»); the УГПС is the FUMO's own; the working group meets at least once a year and
// agrees amendments at its meetings (§3.3); supplementary agreements are numbered (§5.2); the
// written notice comes 30 calendar days before the termination date (§5.3).
#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

using std::chrono::days;

const Principal kFumo = P("fumo-09.00.00", "fumo_expert");
const Principal kFumoChair = P("fumo-09.00.00", "fumo_chair");
const Principal kRumo = P("rumo-52", "rumo_member");
const Principal kRumoChair = P("rumo-52", "rumo_chair");
const Principal kOtherChair = P("rumo-74", "rumo_chair");

class AgreementV2 : public ::testing::Test {
 protected:
  // "YYYY-MM-DD" of the Moscow day `n` days from now (negative: before).
  std::string DaysAhead(int n) {
    return engine::FormatRfc3339(world_.clock().Now() + days(n)).substr(0, 10);
  }
  json Draft() {
    return {{"fumo", "fumo-09.00.00"},
            {"rumo", "rumo-52"},
            {"ugps", "09.00.00"},
            {"city", "Нижний Новгород"},
            {"date", DaysAhead(0)},
            {"base_college", "ГБПОУ «Нижегородский радиотехнический колледж»"}};
  }
  std::string Drafted() {
    auto r = world_.Create("agreements", "agreement", kFumo, Draft());
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    if (r) {
      EXPECT_EQ(r->instance.workflow_version, 2u) << "a new agreement is on version 2";
    }
    return r ? r->instance.id : "";
  }
  std::string Active() {
    std::string id = Drafted();
    EXPECT_TRUE(world_.Act("agreements", id, "sign", kFumoChair));
    EXPECT_TRUE(world_.Act("agreements", id, "sign", kRumoChair));
    return id;
  }
  json Notice(const std::string& date) {
    return {{"date", date},
            {"number", "исх-12"},
            {"attachment", {{"name", "уведомление.pdf"}, {"uri", "https://example.org/n.pdf"}}}};
  }
  std::string StateOf(const std::string& id) { return world_.Get("agreements", id).state; }
  World world_;
};

TEST_F(AgreementV2, ShouldBeOfTheFumosOwnGroupAndDraftedByAParty) {
  json wrong_group = Draft();
  wrong_group["ugps"] = "15.00.00";
  auto r = world_.Create("agreements", "agreement", kFumo, wrong_group);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(r.error().details["errors"][0]["field"], "ugps");
  EXPECT_REJECTED(world_.Create("agreements", "agreement", kOtherChair, Draft()), kForbidden);
  // A version 1 body (no date) is still taken.
  json v1_body = Draft();
  v1_body.erase("date");
  v1_body.erase("base_college");
  ASSERT_ACCEPTED(world_.Create("agreements", "agreement", kRumoChair, v1_body));
}

TEST_F(AgreementV2, ShouldBeSignedByBothChairsOnly) {
  std::string id = Drafted();
  EXPECT_REJECTED(world_.Act("agreements", id, "sign", kFumo), kForbidden);
  EXPECT_REJECTED(world_.Act("agreements", id, "sign", kRumo), kForbidden);
  EXPECT_REJECTED(world_.Act("agreements", id, "sign", kOtherChair), kForbidden);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "sign", kFumoChair));
  EXPECT_EQ(StateOf(id), "draft");
  ASSERT_ACCEPTED(world_.Act("agreements", id, "sign", kRumoChair));
  EXPECT_EQ(StateOf(id), "active");
  EXPECT_EQ(world_.EventTypes("agreements", id).back(), "AgreementConcluded");
  EXPECT_EQ(world_.Get("agreements", id).timers.at("meeting"), world_.clock().Now() + days(365));
}

TEST_F(AgreementV2, ShouldBeAbandonedByEitherPartyWhileADraft) {
  std::string id = Drafted();
  EXPECT_REJECTED(world_.Act("agreements", id, "abandon", kOtherChair), kForbidden);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "abandon", kRumo));
  EXPECT_EQ(StateOf(id), "abandoned");
}

TEST_F(AgreementV2, ShouldCountTheNextMeetingFromTheMeetingsDate) {
  std::string id = Active();
  world_.Advance(days(100));
  // Not in the future, not before the agreement.
  auto future = world_.Act("agreements", id, "record_meeting", kRumo,
                           {{"date", DaysAhead(1)}, {"minutes", "Протокол"}});
  EXPECT_REJECTED(future, kValidationFailed);
  EXPECT_EQ(future.error().details["errors"][0]["field"], "date");
  auto before = world_.Act("agreements", id, "record_meeting", kRumo,
                           {{"date", DaysAhead(-101)}, {"minutes", "Протокол"}});
  EXPECT_REJECTED(before, kValidationFailed);
  EXPECT_EQ(before.error().details["errors"][0]["field"], "date");
  // A meeting held ten days ago, recorded today: the next is due a year from its day.
  const std::string held = DaysAhead(-10);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "record_meeting", kRumo,
                             {{"date", held}, {"minutes", "Протокол заседания рабочей группы"}}));
  EXPECT_EQ(world_.Get("agreements", id).timers.at("meeting"),
            *engine::ParseDeadline(held) + days(365));
}

TEST_F(AgreementV2, ShouldRecordMeetingsAndReportsWhileAnAmendmentIsOpen) {
  std::string id = Active();
  ASSERT_ACCEPTED(world_.Act("agreements", id, "propose_amendment", kFumo,
                             {{"number", "1"}, {"text", "Дополнить п. 2.1"}}));
  EXPECT_EQ(StateOf(id), "amending");
  ASSERT_ACCEPTED(world_.Act("agreements", id, "record_meeting", kRumo,
                             {{"date", DaysAhead(0)}, {"minutes", "Обсудили дополнение № 1"}}));
  ASSERT_ACCEPTED(world_.Act("agreements", id, "submit_annual_report", kFumo, {{"year", 2026}}));
  EXPECT_EQ(StateOf(id), "amending");
}

TEST_F(AgreementV2, ShouldNumberSupplementaryAgreementsAndHaveBothChairsSignThem) {
  std::string id = Active();
  ASSERT_ACCEPTED(world_.Act("agreements", id, "propose_amendment", kRumo,
                             {{"number", "1"}, {"text", "Дополнить п. 2.1"}}));
  EXPECT_REJECTED(world_.Act("agreements", id, "sign", kRumo), kForbidden);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "sign", kRumoChair));
  ASSERT_ACCEPTED(world_.Act("agreements", id, "sign", kFumoChair));
  EXPECT_EQ(StateOf(id), "active");
  EXPECT_EQ(world_.EventTypes("agreements", id).back(), "SupplementaryAgreementConcluded");
  auto again = world_.Act("agreements", id, "propose_amendment", kFumo,
                          {{"number", "1"}, {"text", "Другое"}});
  EXPECT_REJECTED(again, kValidationFailed);
  EXPECT_EQ(again.error().details["errors"][0]["field"], "number");
  ASSERT_ACCEPTED(world_.Act("agreements", id, "propose_amendment", kFumo,
                             {{"number", "2"}, {"text", "Изменить срок"}}));
  EXPECT_EQ(world_.Get("agreements", id).fields["supplementary_agreements"],
            json::array({"1", "2"}));
}

TEST_F(AgreementV2, ShouldLetOnlyTheProposerWithdrawAnAmendment) {
  std::string id = Active();
  ASSERT_ACCEPTED(world_.Act("agreements", id, "propose_amendment", kFumo,
                             {{"number", "1"}, {"text", "Изменить срок"}}));
  EXPECT_REJECTED(world_.Act("agreements", id, "withdraw_amendment", kRumoChair), kForbidden);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "withdraw_amendment", kFumoChair));
  EXPECT_EQ(StateOf(id), "active");
}

TEST_F(AgreementV2, ShouldTakeAWrittenNoticeThirtyDaysAheadFromAChair) {
  std::string id = Active();
  EXPECT_REJECTED(world_.Act("agreements", id, "notify_termination", kRumo,
                             {{"effective_date", DaysAhead(40)}, {"notice", Notice(DaysAhead(0))}}),
                  kForbidden);
  struct Case {
    json payload;
    std::string field;
  };
  json no_document = Notice(DaysAhead(0));
  no_document.erase("attachment");
  for (const Case& c :
       {Case{{{"effective_date", DaysAhead(29)}, {"notice", Notice(DaysAhead(0))}},
             "effective_date"},
        // A notice dated five days ago: thirty days from its date, not from today.
        Case{{{"effective_date", DaysAhead(24)}, {"notice", Notice(DaysAhead(-5))}},
             "effective_date"},
        Case{{{"effective_date", DaysAhead(60)}, {"notice", Notice(DaysAhead(1))}}, "notice.date"},
        Case{{{"effective_date", DaysAhead(60)}, {"notice", no_document}}, "notice.attachment"},
        Case{{{"effective_date", DaysAhead(60)}}, "notice"}}) {
    auto r = world_.Act("agreements", id, "notify_termination", kRumoChair, c.payload);
    EXPECT_REJECTED(r, kValidationFailed);
    if (!r) {
      EXPECT_EQ(r.error().details["errors"][0]["field"], c.field) << c.payload.dump();
    }
  }
  EXPECT_EQ(StateOf(id), "active");
  ASSERT_ACCEPTED(
      world_.Act("agreements", id, "notify_termination", kRumoChair,
                 {{"effective_date", DaysAhead(25)}, {"notice", Notice(DaysAhead(-5))}}));
  EXPECT_EQ(StateOf(id), "terminating");
  EXPECT_EQ(world_.Get("agreements", id).fields["notice"]["number"], "исх-12");
  EXPECT_EQ(world_.Advance(days(26)), 1u);
  EXPECT_EQ(StateOf(id), "terminated");
  EXPECT_EQ(world_.EventTypes("agreements", id).back(), "AgreementTerminated");
}

TEST_F(AgreementV2, ShouldLetOnlyTheNotifyingChairRevokeTheTermination) {
  std::string id = Active();
  ASSERT_ACCEPTED(
      world_.Act("agreements", id, "notify_termination", kFumoChair,
                 {{"effective_date", DaysAhead(40)}, {"notice", Notice(DaysAhead(0))}}));
  EXPECT_REJECTED(world_.Act("agreements", id, "revoke_termination", kRumoChair), kForbidden);
  EXPECT_REJECTED(world_.Act("agreements", id, "revoke_termination", kFumo), kForbidden);
  ASSERT_ACCEPTED(world_.Act("agreements", id, "revoke_termination", kFumoChair));
  EXPECT_EQ(StateOf(id), "active");
  EXPECT_EQ(world_.Advance(days(41)), 0u);
  EXPECT_EQ(world_.Replay("agreements", id), world_.Get("agreements", id));
}

TEST_F(AgreementV2, AVersionOneAgreementRunsOnVersionOneBesideThem) {
  auto v1 = world_.Create("agreements", "agreement", kFumo,
                          {{"fumo", "fumo-09.00.00"},
                           {"rumo", "rumo-52"},
                           {"ugps", "09.00.00"},
                           {"city", "Нижний Новгород"}},
                          1);
  ASSERT_ACCEPTED(v1);
  const std::string old_id = v1->instance.id;
  const std::string new_id = Drafted();
  // Version 1: the members sign; version 2: the chairs.
  ASSERT_ACCEPTED(world_.Act("agreements", old_id, "sign", kFumo));
  ASSERT_ACCEPTED(world_.Act("agreements", old_id, "sign", kRumo));
  EXPECT_EQ(StateOf(old_id), "active");
  EXPECT_REJECTED(world_.Act("agreements", new_id, "sign", kFumo), kForbidden);
  EXPECT_EQ(world_.Get("agreements", old_id).workflow_version, 1u);
  ASSERT_ACCEPTED(world_.Act("agreements", old_id, "notify_termination", kRumo,
                             {{"effective_date", DaysAhead(30)}}));
  EXPECT_EQ(world_.Advance(days(31)), 1u);
  EXPECT_EQ(StateOf(old_id), "terminated");
}

}  // namespace
}  // namespace expertflow::testing
