// Given/when/then tests of protocol assignments as version 1 decides them (seeds 002 and 003 as
// WORKFLOWS.md summarised them). Instances created on version 1 keep running on it; version 2,
// the protocols as written, is tested in protocols_v2_test.cc.
#include <gmock/gmock.h>

#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::seconds;

const Principal kMinistry = P("ministry", "ministry_official");
const Principal kIrpo = P("irpo", "irpo_staff");
const Principal kRegion = P("roiv-52", "region_official");
const Principal kOtherRegion = P("roiv-31", "region_official");

json Assignment(json deadline, std::string issuer = "ministry") {
  return {{"protocol", "prot-1"},
          {"protocol_number", "Д05-98/05пр"},
          {"item", "О реализации федерального проекта «Профессионалитет»"},
          {"decision", "Представить информацию о ходе работ"},
          {"assignee", "roiv-52"},
          {"issuer", issuer},
          {"deadline", std::move(deadline)}};
}

class ProtocolAssignment : public ::testing::Test {
 protected:
  // The world starts on Monday 2026-01-12 09:00Z (12:00 Moscow).
  std::string Issue(json deadline, const Principal& by = kMinistry,
                    std::string issuer = "ministry") {
    auto r = world_.Create("assignments", "protocol_assignment", by,
                           Assignment(std::move(deadline), std::move(issuer)), 1);
    EXPECT_TRUE(r) << r.error().ToString() << r.error().details.dump();
    return r ? r->instance.id : "";
  }
  void Report(const std::string& id) {
    auto r = world_.Act("assignments", id, "submit_report", kRegion, {{"text", "Исполнено"}});
    ASSERT_ACCEPTED(r);
  }
  void Accept(const std::string& id) {
    auto r = world_.Act("assignments", id, "accept_report", kMinistry);
    ASSERT_ACCEPTED(r);
  }
  engine::InstanceState Get(const std::string& id) { return world_.Get("assignments", id); }
  World world_;
};

TEST_F(ProtocolAssignment, ShouldTakeABareDateAsTheEndOfThatDayInMoscow) {
  std::string id = Issue({{"due", "2026-01-30"}});
  auto s = Get(id);
  EXPECT_EQ(s.state, "assigned");
  EXPECT_EQ(s.participants.at("assignee"), "roiv-52");
  EXPECT_EQ(s.participants.at("issuer"), "ministry");
  EXPECT_EQ(engine::FormatRfc3339(s.timers.at("due")), "2026-01-30T20:59:59Z");
  ASSERT_EQ(s.periods.size(), 1u);
}

// The due day ends at the end of its last second: a report at 23:59:59 Moscow is in time, and
// the deadline is missed from 00:00:00 on.
TEST_F(ProtocolAssignment, ShouldCountTheLastSecondOfTheDueDayAsInTime) {
  std::string in_time = Issue({{"due", "2026-01-30"}});
  std::string late = Issue({{"due", "2026-01-30"}});
  world_.clock().Set(*engine::ParseRfc3339("2026-01-30T20:59:59Z"));
  EXPECT_EQ(*world_.sequencer().FireDueTimers(), 0u) << "nothing has passed at 20:59:59Z";
  Report(in_time);
  Accept(in_time);
  EXPECT_EQ(world_.Advance(seconds(1)), 1u) << "21:00:00Z: the other one is missed";
  Report(late);
  Accept(late);
  EXPECT_TRUE(Get(in_time).periods[0].on_time);
  EXPECT_FALSE(Get(in_time).periods[0].missed);
  EXPECT_FALSE(Get(late).periods[0].on_time);
  EXPECT_TRUE(Get(late).periods[0].missed);
}

TEST_F(ProtocolAssignment, ShouldBeIssuedByTheMinistryOrIrpoOnly) {
  EXPECT_REJECTED(world_.Create("assignments", "protocol_assignment", kRegion,
                                Assignment({{"due", "2026-01-30"}}), 1),
                  kForbidden);
  // An IRPO official may not issue in the ministry's name.
  EXPECT_REJECTED(world_.Create("assignments", "protocol_assignment", kIrpo,
                                Assignment({{"due", "2026-01-30"}}), 1),
                  kForbidden);
  std::string id = Issue({{"due", "2026-01-30"}}, kIrpo, "irpo");
  EXPECT_EQ(Get(id).participants.at("issuer"), "irpo");
}

TEST_F(ProtocolAssignment, ShouldRefuseAMalformedDeadline) {
  for (json bad :
       {json{{"due", "28.12.2024"}}, json{{"recurring", {{"every", "month"}}}},
        json{{"recurring", {{"every", "week"}, {"weekday", "someday"}}}},
        json{{"recurring", {{"every", "day"}, {"time", "25:00"}}}},
        json{{"due", "2026-01-30"}, {"recurring", {{"every", "day"}, {"time", "18:00"}}}}}) {
    SCOPED_TRACE(bad.dump());
    EXPECT_REJECTED(
        world_.Create("assignments", "protocol_assignment", kMinistry, Assignment(bad), 1),
        kValidationFailed);
  }
  // A series whose end is before its first instant never runs.
  EXPECT_REJECTED(
      world_.Create("assignments", "protocol_assignment", kMinistry,
                    Assignment({{"recurring",
                                 {{"every", "day"}, {"time", "18:00"}, {"until", "2026-01-01"}}}}),
                    1),
      kValidationFailed);
}

TEST_F(ProtocolAssignment, ShouldBeReportedByTheAssigneeOnly) {
  std::string id = Issue({{"due", "2026-01-30"}});
  EXPECT_REJECTED(world_.Act("assignments", id, "submit_report", kOtherRegion, {{"text", "x"}}),
                  kForbidden);
  EXPECT_REJECTED(world_.Act("assignments", id, "submit_report", kRegion), kValidationFailed);
  Report(id);
  EXPECT_EQ(Get(id).state, "reported");
}

TEST_F(ProtocolAssignment, ShouldBeDoneOnTimeWhenTheReportIsAccepted) {
  std::string id = Issue({{"due", "2026-01-30"}});
  Report(id);
  EXPECT_REJECTED(world_.Act("assignments", id, "accept_report", kRegion), kForbidden);
  Accept(id);
  auto s = Get(id);
  EXPECT_EQ(s.state, "done");
  EXPECT_TRUE(s.periods[0].accepted);
  EXPECT_TRUE(s.periods[0].on_time);
  EXPECT_TRUE(s.timers.empty());
  EXPECT_EQ(world_.Advance(days(30)), 0u);
}

TEST_F(ProtocolAssignment, ShouldGoBackToAssignedWhenTheReportIsReturned) {
  std::string id = Issue({{"due", "2026-01-30"}});
  Report(id);
  EXPECT_REJECTED(world_.Act("assignments", id, "return_report", kMinistry), kValidationFailed);
  ASSERT_ACCEPTED(
      world_.Act("assignments", id, "return_report", kMinistry, {{"comment", "Неполно"}}));
  EXPECT_EQ(Get(id).state, "assigned");
}

TEST_F(ProtocolAssignment, ShouldAppendDeadlineMissedWhenTheDatePassesBeforeDone) {
  std::string id = Issue({{"due", "2026-01-30"}});
  EXPECT_EQ(world_.Advance(days(18)), 0u);  // 2026-01-30 09:00Z: still that day in Moscow
  EXPECT_EQ(world_.Advance(hours(12)), 1u);
  auto s = Get(id);
  EXPECT_EQ(world_.EventTypes("assignments", id).back(), "DeadlineMissed");
  EXPECT_EQ(s.state, "assigned");
  EXPECT_TRUE(s.periods[0].missed);
  EXPECT_TRUE(s.overdue.contains("due"));
  // A late report still closes it, late.
  Report(id);
  Accept(id);
  s = Get(id);
  EXPECT_EQ(s.state, "done");
  EXPECT_FALSE(s.periods[0].on_time);
}

TEST_F(ProtocolAssignment, ShouldCountEachMissedWeeklyPeriodOnce) {
  // Seed 002: weekly reports by Monday 12:00 Moscow until 2026-02-08 (Sunday).
  std::string id = Issue(
      {{"recurring",
        {{"every", "week"}, {"weekday", "monday"}, {"time", "12:00"}, {"until", "2026-02-08"}}}});
  auto s = Get(id);
  // Created exactly at Monday 12:00 Moscow: the first period is the next Monday.
  EXPECT_EQ(engine::FormatRfc3339(s.timers.at("due")), "2026-01-19T09:00:00Z");
  EXPECT_EQ(world_.Advance(days(7)), 0u) << "12:00:00 itself is still in time";
  EXPECT_EQ(world_.Advance(seconds(1)), 1u);  // 01-19 missed
  EXPECT_EQ(world_.Advance(days(14)), 2u);    // 01-26 and 02-02 missed; 02-09 is past until
  auto types = world_.EventTypes("assignments", id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "PeriodMissed"), 3);
  s = Get(id);
  EXPECT_EQ(s.periods.size(), 3u);
  EXPECT_TRUE(s.timers.empty());
  EXPECT_EQ(world_.Advance(days(14)), 0u);
  // Reports answer the oldest open period first; the last acceptance closes the assignment.
  for (int i = 0; i < 3; ++i) {
    Report(id);
    Accept(id);
  }
  s = Get(id);
  EXPECT_EQ(s.state, "done");
  EXPECT_TRUE(std::all_of(s.periods.begin(), s.periods.end(),
                          [](const engine::Period& p) { return p.accepted && !p.on_time; }));
}

TEST_F(ProtocolAssignment, ShouldOpenTheNextPeriodWhenAReportIsAcceptedEarly) {
  std::string id =
      Issue({{"recurring", {{"every", "day"}, {"time", "18:00"}, {"until", "2026-01-14"}}}});
  auto s = Get(id);
  EXPECT_EQ(engine::FormatRfc3339(s.timers.at("due")), "2026-01-12T15:00:00Z");
  Report(id);
  Accept(id);
  s = Get(id);
  EXPECT_EQ(s.state, "assigned") << "more periods follow";
  EXPECT_TRUE(s.periods[0].on_time);
  EXPECT_EQ(engine::FormatRfc3339(s.timers.at("due")), "2026-01-13T15:00:00Z");
  EXPECT_EQ(world_.Advance(days(1)), 0u);     // 01-13 10:00Z: nothing due yet
  EXPECT_EQ(world_.Advance(hours(6)), 0u);    // 01-13 15:00:00Z: the due second itself
  EXPECT_EQ(world_.Advance(seconds(1)), 1u);  // 15:00:01Z: period 2 missed
  Report(id);
  Accept(id);  // answers period 2 (late)
  EXPECT_EQ(Get(id).state, "assigned");
  Report(id);
  Accept(id);  // answers period 3, the last
  s = Get(id);
  EXPECT_EQ(s.state, "done");
  EXPECT_EQ(s.periods.size(), 3u);
  EXPECT_FALSE(s.periods[1].on_time);
  EXPECT_TRUE(s.periods[2].on_time);
}

TEST_F(ProtocolAssignment, ShouldBeCancelledByTheMinistryOnly) {
  std::string id = Issue({{"due", "2026-01-30"}});
  EXPECT_REJECTED(world_.Act("assignments", id, "cancel", kIrpo, {{"comment", "x"}}), kForbidden);
  ASSERT_ACCEPTED(
      world_.Act("assignments", id, "cancel", kMinistry, {{"comment", "Снято с контроля"}}));
  auto s = Get(id);
  EXPECT_EQ(s.state, "cancelled");
  EXPECT_TRUE(s.timers.empty());
  EXPECT_EQ(world_.Advance(days(30)), 0u);
  EXPECT_EQ(world_.Replay("assignments", id), s);
}

}  // namespace
}  // namespace expertflow::testing
