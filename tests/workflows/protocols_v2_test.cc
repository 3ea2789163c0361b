// Protocols as they are written (issue 15; seeds 002 and 003): the real protocols registered
// decision by decision, and the on-time rules of protocol_assignment v2 at their boundaries with
// the discipline table they produce (engine/projections/discipline.h, docs/discipline.md).
#include <gmock/gmock.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "engine/projections/discipline.h"
#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::seconds;

const Principal kMinistry = P("ministry", "ministry_official");
const Principal kIrpo = P("irpo", "irpo_staff");
const Principal kRegion = P("roiv-52", "region_official");

engine::Timestamp At(const char* text) { return *engine::ParseRfc3339(text); }

json Fixture(const std::string& name) {
  std::ifstream in(std::string(EXPERTFLOW_SOURCE_DIR) + "/tests/fixtures/protocols/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

std::vector<InstanceState> Assignments(World& w) {
  std::vector<InstanceState> out;
  w.sequencer().ForEachInstance([&](const InstanceState& s) {
    if (s.collection == "assignments") out.push_back(s);
    return true;
  });
  return out;
}

json Table(World& w, engine::DisciplineQuery q = {}) {
  return engine::Discipline(Assignments(w), q, workflows::Builtin(), w.clock().Now());
}

// A refused registration: nothing planned, the code given.
#define EXPECT_REFUSED(result, code_name)                                     \
  do {                                                                        \
    const auto& plan_ = (result);                                             \
    ASSERT_FALSE(plan_.has_value());                                          \
    EXPECT_EQ(plan_.error().code, ::expertflow::engine::ErrorCode::code_name) \
        << plan_.error().ToString();                                          \
  } while (0)

// ---- the seeds as written ------------------------------------------------------------------

struct SeedCase {
  const char* file;
  const char* registered_at;
  std::size_t assignments;
  std::size_t decisions;  // distinct decision numbers that assign work
};

class SeedProtocols : public ::testing::TestWithParam<SeedCase> {};

// tests/fixtures/protocols/README.md explains the counts: seed 002 makes 89 x 17 + 23 + 14 =
// 1550 assignments (17 decisions to every regional body or a group of all 89 today, III.1 to the
// 23 regions it names — Чувашская Республика is named twice — and VIII.1 to 14); seed 003 makes
// 89 x 28 + 1 = 2493 (28 decisions to the regions of Professionalitet 2023, VIII.2.7 to the
// employers as one collective assignee). Note decisions and parents of sub-decisions make none.
TEST_P(SeedProtocols, ShouldRegisterEveryDecisionAsWritten) {
  const SeedCase& c = GetParam();
  World w(nullptr, nullptr, At(c.registered_at));
  const json body = Fixture(c.file);
  auto plan = w.RegisterProtocol(body, kMinistry);
  ASSERT_TRUE(plan) << plan.error().ToString() << plan.error().details.dump();
  EXPECT_EQ(plan->assignment_ids.size(), c.assignments);
  // Nothing but the registration is appended, even when every deadline is long past: a protocol
  // entered after its date appends no flood of misses.
  EXPECT_EQ(w.log().GetHead().seq, c.assignments + 1);
  EXPECT_EQ(*w.sequencer().FireDueTimers(), 0u);
  EXPECT_EQ(w.log().GetHead().seq, c.assignments + 1);

  std::map<std::string, std::set<std::string>> by_decision;
  for (const auto& a : Assignments(w)) {
    EXPECT_EQ(a.workflow_version, 2u);
    EXPECT_EQ(a.fields["protocol_number"], body["number"]);
    EXPECT_EQ(a.fields["protocol_date"], body["date"]);
    by_decision[a.fields["decision_number"].get<std::string>()].insert(
        a.participants.at("assignee"));
    EXPECT_TRUE(a.participants.contains("addressee"));
  }
  EXPECT_EQ(by_decision.size(), c.decisions);
  const auto protocol = w.Get("protocols", plan->protocol_id);
  EXPECT_EQ(protocol.workflow_version, 2u);
  EXPECT_EQ(protocol.fields["items"], body["items"]) << "the protocol keeps its text as sent";
}

INSTANTIATE_TEST_SUITE_P(
    AtTheirDateAndToday, SeedProtocols,
    ::testing::Values(SeedCase{"seed002.json", "2024-10-23T12:00:00Z", 1550, 19},
                      SeedCase{"seed002.json", "2026-11-23T09:00:00Z", 1550, 19},
                      SeedCase{"seed003.json", "2023-06-20T12:00:00Z", 2493, 29},
                      SeedCase{"seed003.json", "2026-11-23T09:00:00Z", 2493, 29}),
    [](const auto& info) {
      return std::string(info.param.file).substr(0, 7) +
             (std::string(info.param.registered_at).starts_with("2026") ? "Today" : "AtItsDate");
    });

std::set<std::string> AssigneesOf(World& w, const std::string& decision) {
  std::set<std::string> out;
  for (const auto& a : Assignments(w)) {
    if (a.fields["decision_number"] == decision) out.insert(a.participants.at("assignee"));
  }
  return out;
}

const InstanceState* First(const std::vector<InstanceState>& all, const std::string& decision) {
  for (const auto& a : all) {
    if (a.fields["decision_number"] == decision) return &a;
  }
  return nullptr;
}

TEST(SeedProtocols, Seed002HoldsItsAssigneesDeadlinesAndLetter) {
  World w(nullptr, nullptr, At("2024-11-05T09:00:00Z"));
  const json body = Fixture("seed002.json");
  auto plan = w.RegisterProtocol(body, kMinistry);
  ASSERT_TRUE(plan) << plan.error().details.dump();
  EXPECT_EQ(AssigneesOf(w, "III.1").size(), 23u);
  EXPECT_TRUE(AssigneesOf(w, "III.1").contains("roiv-21")) << "Чувашская Республика, once";
  EXPECT_EQ(AssigneesOf(w, "VIII.1").size(), 14u);
  EXPECT_TRUE(AssigneesOf(w, "VIII.1").contains("roiv-93")) << "Донецкая Народная Республика";
  EXPECT_EQ(AssigneesOf(w, "III.2").size(), 89u) << "regions with a ЦОПП (provisional: all)";
  const auto all = Assignments(w);
  // V.2: "Срок — до 2 декабря 2024г." — the end of that day in Moscow.
  EXPECT_EQ(engine::FormatRfc3339(First(all, "V.2")->timers.at("due")), "2024-12-02T20:59:59Z");
  EXPECT_FALSE(First(all, "V.1")->fields.contains("deadline")) << "no term of its own";
  EXPECT_TRUE(First(all, "V.1")->timers.empty());
  EXPECT_EQ(First(all, "I.1")->fields["jointly"], "совместно с работодателями");
  EXPECT_EQ(First(all, "I.1")->participants.at("addressee"), "ministry");
  const auto protocol = w.Get("protocols", plan->protocol_id);
  EXPECT_EQ(protocol.fields["letter"]["number"], "05-4017");
  EXPECT_EQ(protocol.fields["groups"].size(), 2u) << "all:roiv and group:copp-regions";
  for (const auto& g : protocol.fields["groups"]) EXPECT_EQ(g["members"].size(), 89u);
}

TEST(SeedProtocols, Seed003HoldsItsRecurringDeadlinesAndAddressees) {
  World w(nullptr, nullptr, At("2023-06-20T12:00:00Z"));  // Tuesday, the protocol's day
  auto plan = w.RegisterProtocol(Fixture("seed003.json"), kMinistry);
  ASSERT_TRUE(plan) << plan.error().details.dump();
  const auto all = Assignments(w);
  // II.2.1 "по понедельникам", to the Project Office's curator: the first Monday after the date.
  const auto* mondays = First(all, "II.2.1");
  EXPECT_EQ(mondays->participants.at("addressee"), "project-office");
  EXPECT_EQ(engine::FormatRfc3339(mondays->timers.at("period")), "2023-06-26T20:59:59Z");
  EXPECT_EQ(mondays->fields["deadline"]["recurring"]["start"], "2023-06-20");
  // III.2.2 "до 12:00 (МСК) четверга": Thursday 22 June, 09:00Z.
  EXPECT_EQ(engine::FormatRfc3339(First(all, "III.2.2")->timers.at("period")),
            "2023-06-22T09:00:00Z");
  // IV.2.1 "не позднее 9:00 (МСК) 20 августа 2023 г.".
  EXPECT_EQ(engine::FormatRfc3339(First(all, "IV.2.1")->timers.at("due")), "2023-08-20T06:00:00Z");
  EXPECT_EQ(First(all, "IV.2.2")->fields["deadline"]["recurring"]["min_count"], 3);
  EXPECT_EQ(First(all, "VI.2.1")->participants.at("addressee"), "irpo-crst");
  EXPECT_EQ(First(all, "IX.2.1.2")->participants.at("addressee"), "gup");
  EXPECT_EQ(AssigneesOf(w, "VIII.2.7"), (std::set<std::string>{"employers-professionalitet-2023"}));
  EXPECT_FALSE(First(all, "II.2.2")->fields.contains("deadline")) << "«в установленные сроки»";
  EXPECT_EQ(First(all, "II.1"), nullptr) << "taking note assigns nothing";
}

// ---- the on-time rules at their boundaries -----------------------------------------------

json Protocol(const std::string& date, json decisions) {
  return {{"number", "Д05-1/05пр"},
          {"date", date},
          {"title", "Совещание"},
          {"items", {{{"number", "I"}, {"title", "Пункт"}, {"decisions", std::move(decisions)}}}}};
}

json Decision(const std::string& number, json deadline, json assignees = {"roiv-52"}) {
  json d = {{"number", number}, {"text", "Представить информацию"}, {"assignees", assignees}};
  if (!deadline.is_null()) d["deadline"] = std::move(deadline);
  return d;
}

class OnTime : public ::testing::Test {
 protected:
  // The world starts on Monday 2026-01-12 09:00Z (12:00 Moscow).
  std::vector<std::string> Register(json decisions, const std::string& date = "2026-01-12") {
    auto plan = w_.RegisterProtocol(Protocol(date, std::move(decisions)), kMinistry);
    EXPECT_TRUE(plan) << (plan ? "" : plan.error().details.dump());
    std::vector<std::string> ids;
    if (plan) {
      for (const auto& id : plan->assignment_ids) ids.push_back(id);
    }
    return ids;
  }
  void Report(const std::string& id, json extra = json::object(), const Principal& by = kRegion) {
    json payload = {{"text", "Исполнено"}};
    if (extra.is_object()) payload.update(extra);
    ASSERT_ACCEPTED(w_.Act("assignments", id, "submit_report", by, payload));
  }
  void Accept(const std::string& id, const Principal& by = kMinistry) {
    ASSERT_ACCEPTED(w_.Act("assignments", id, "accept_report", by));
  }
  std::string Status(const std::string& id) {
    return engine::Classify(w_.Get("assignments", id), w_.clock().Now()).status;
  }
  World w_;
};

TEST_F(OnTime, TheLastSecondOfTheDueDayIsInTimeAndTheNextIsLate) {
  auto ids = Register({Decision("I.1", {{"due", "2026-01-30"}}, {"roiv-52", "roiv-31"})});
  const std::string in_time = ids[0], late = ids[1];
  w_.clock().Set(At("2026-01-30T20:59:59Z"));
  EXPECT_EQ(*w_.sequencer().FireDueTimers(), 0u);
  Report(in_time);
  EXPECT_EQ(w_.Advance(seconds(1)), 1u) << "21:00:00Z: the one without a report is missed";
  Report(late, {}, P("roiv-31", "region_official"));
  w_.Advance(days(5));
  Accept(in_time);  // accepted six days after the due date: still on time
  Accept(late);
  EXPECT_EQ(Status(in_time), "done_on_time");
  EXPECT_EQ(Status(late), "done_late");
  EXPECT_THAT(w_.EventTypes("assignments", in_time),
              ::testing::ElementsAre("AssignmentIssued", "ReportSubmitted", "ReportAccepted"));
  EXPECT_THAT(w_.EventTypes("assignments", late), ::testing::Contains("DeadlineMissed"));
  const json table = Table(w_);
  EXPECT_EQ(table["totals"]["done_on_time"], 1);
  EXPECT_EQ(table["totals"]["done_late"], 1);
}

TEST_F(OnTime, AReportAwaitingReviewStopsTheClock) {
  auto ids = Register({Decision("I.1", {{"due", "2026-01-20"}})});
  Report(ids[0]);
  EXPECT_EQ(w_.Advance(days(30)), 0u) << "no deadline runs while the report is reviewed";
  EXPECT_EQ(Status(ids[0]), "open");
  EXPECT_TRUE(engine::Classify(w_.Get("assignments", ids[0]), w_.clock().Now()).awaiting_review);
  Accept(ids[0]);
  EXPECT_EQ(Status(ids[0]), "done_on_time");
}

TEST_F(OnTime, AReportReturnedAndSentAgainAfterTheDueDateIsLate) {
  auto ids = Register({Decision("I.1", {{"due", "2026-01-20"}})});
  Report(ids[0]);
  w_.Advance(days(10));  // 22 January: past the due date
  ASSERT_ACCEPTED(
      w_.Act("assignments", ids[0], "return_report", kMinistry, {{"comment", "Нет формы"}}));
  EXPECT_EQ(*w_.sequencer().FireDueTimers(), 1u) << "back in work after its due date: missed";
  EXPECT_EQ(Status(ids[0]), "overdue");
  Report(ids[0]);
  Accept(ids[0]);
  EXPECT_EQ(Status(ids[0]), "done_late");
  const auto s = w_.Get("assignments", ids[0]);
  ASSERT_EQ(s.fields["reports"].size(), 2u);
  EXPECT_EQ(s.fields["reports"][0]["status"], "returned");
  EXPECT_EQ(s.fields["reports"][1]["status"], "accepted");
  EXPECT_EQ(s.fields["reports"][1]["on_time"], false);
  EXPECT_EQ(w_.Replay("assignments", ids[0]), s) << "replay gives the same reports";
}

TEST_F(OnTime, AWeeklyDeadlineWithAMinimumCountMissesAWeekWithTooFewReports) {
  // Seed 003 IV.2.2: "не менее 3 х в неделю" — weeks end on Sunday (end of day).
  auto ids = Register({Decision("I.1", {{"recurring", {{"every", "week"}, {"min_count", 3}}}})});
  const std::string id = ids[0];
  EXPECT_EQ(engine::FormatRfc3339(w_.Get("assignments", id).timers.at("period")),
            "2026-01-18T20:59:59Z");
  for (int i = 0; i < 3; ++i) {
    Report(id);
    Accept(id);
    EXPECT_EQ(w_.Get("assignments", id).state, "assigned") << "the series goes on";
  }
  w_.Advance(days(7));  // Monday 19th: week 1 closed with 3 reports
  for (int i = 0; i < 2; ++i) {
    Report(id);
    Accept(id);
  }
  w_.Advance(days(7));  // Monday 26th: week 2 closed with 2
  EXPECT_THAT(w_.EventTypes("assignments", id),
              ::testing::IsSupersetOf({"PeriodMet", "PeriodMissed"}));
  auto d = engine::Classify(w_.Get("assignments", id), w_.clock().Now());
  EXPECT_EQ(d.periods_due, 2u);
  EXPECT_EQ(d.periods_missed, 1u);
  EXPECT_EQ(d.status, "overdue") << "the last closed week was missed";
}

TEST_F(OnTime, AnOpenEndedSeriesIsEndedByTheMinistry) {
  auto ids = Register({Decision("I.1", {{"recurring", {{"every", "week"}, {"weekday", "monday"}}}}),
                       Decision("I.2", {{"due", "2026-02-01"}})});
  w_.Advance(days(14));  // two Mondays without a report
  auto d = engine::Classify(w_.Get("assignments", ids[0]), w_.clock().Now());
  EXPECT_EQ(d.periods_missed, 2u);
  EXPECT_EQ(d.status, "overdue");
  EXPECT_REJECTED(w_.Act("assignments", ids[0], "end_schedule", kRegion, {{"comment", "c"}}),
                  kForbidden);
  ASSERT_ACCEPTED(w_.Act("assignments", ids[0], "end_schedule", kMinistry,
                         {{"comment", "Мониторинг завершён"}}));
  EXPECT_EQ(w_.Get("assignments", ids[0]).state, "done");
  EXPECT_TRUE(w_.Get("assignments", ids[0]).timers.empty());
  w_.Advance(days(14));
  d = engine::Classify(w_.Get("assignments", ids[0]), w_.clock().Now());
  EXPECT_EQ(d.periods_missed, 2u) << "no periods after it was ended";
  EXPECT_EQ(d.status, "done_late");
  // a one-time deadline is cancelled, not ended
  EXPECT_REJECTED(w_.Act("assignments", ids[1], "end_schedule", kMinistry, {{"comment", "c"}}),
                  kInvalidTransition);
}

TEST_F(OnTime, APastProtocolTakesBackdatedReports) {
  // Entered in January 2026: a protocol of 3 March 2025 with a one-time and a weekly deadline.
  auto ids = Register(
      {Decision("I.1", {{"due", "2025-03-14"}}),
       Decision("I.2", {{"recurring",
                         {{"every", "week"}, {"weekday", "friday"}, {"until", "2025-03-21"}}}}),
       Decision("I.3", json())},
      "2025-03-03");
  EXPECT_TRUE(w_.Get("assignments", ids[0]).timers.empty()) << "its due date passed long ago";
  EXPECT_TRUE(w_.Get("assignments", ids[1]).timers.empty()) << "its series ended long ago";
  // a letter from tomorrow
  EXPECT_REJECTED(w_.Act("assignments", ids[0], "submit_report", kRegion,
                         {{"text", "t"}, {"letter", {{"number", "1"}, {"date", "2026-01-13"}}}}),
                  kValidationFailed);
  // a letter from before the protocol
  EXPECT_REJECTED(w_.Act("assignments", ids[0], "submit_report", kRegion,
                         {{"text", "t"}, {"letter", {{"number", "1"}, {"date", "2025-03-02"}}}}),
                  kValidationFailed);
  Report(ids[0], {{"letter", {{"number", "01-12/345"}, {"date", "2025-03-14"}}}});
  Accept(ids[0]);
  EXPECT_EQ(Status(ids[0]), "done_on_time") << "judged by its letter's date";
  // Weekly on Fridays from Monday 3 March to 21 March: three weeks; a letter in the first only.
  Report(ids[1], {{"letter", {{"number", "01-12/300"}, {"date", "2025-03-05"}}}});
  Accept(ids[1]);
  auto d = engine::Classify(w_.Get("assignments", ids[1]), w_.clock().Now());
  EXPECT_EQ(d.periods_due, 3u);
  EXPECT_EQ(d.periods_missed, 2u);
  EXPECT_EQ(d.status, "done_late") << "a series that has ended is done";
  EXPECT_EQ(Status(ids[2]), "open") << "no deadline: never overdue";
  w_.Advance(days(400));
  EXPECT_EQ(Status(ids[2]), "open");
  EXPECT_EQ(w_.log().GetHead().seq, 4u + 4u) << "registration and two reports; no misses appended";
}

TEST_F(OnTime, TheAddresseeAcceptsAndOtherCentresMayNot) {
  json d = Decision("I.1", {{"due", "2026-02-01"}});
  d["report_to"] = "irpo-crst";
  auto ids = Register({d});
  Report(ids[0]);
  EXPECT_REJECTED(w_.Act("assignments", ids[0], "accept_report", P("irpo-cur", "irpo_staff")),
                  kForbidden);
  Accept(ids[0], P("irpo-crst", "irpo_staff"));
  EXPECT_EQ(Status(ids[0]), "done_on_time");
  // A report addressed to a region is refused up front.
  d["report_to"] = "roiv-31";
  EXPECT_REFUSED(w_.RegisterProtocol(Protocol("2026-01-12", {d}), kMinistry), kValidationFailed);
}

TEST_F(OnTime, EveryKindOfAssigneeHasARoleThatReports) {
  auto ids = Register({Decision("I.1", {{"due", "2026-02-01"}},
                                {"umc-05", "employers-professionalitet-2023", "gup", "irpo"})});
  ASSERT_EQ(ids.size(), 4u);
  for (const auto& id : ids) {
    const std::string org = w_.Get("assignments", id).participants.at("assignee");
    const engine::Organization* o = workflows::Builtin().FindOrganization(org);
    Report(id, {}, P(org, std::string(workflows::ActingRole(*o))));
  }
}

TEST_F(OnTime, NotesAndMalformedDecisionsAreRefusedOrRecorded) {
  json note = {{"number", "I.1"}, {"text", "Принять к сведению."}, {"note", true}};
  auto ids = Register({note, Decision("I.2", json())});
  EXPECT_EQ(ids.size(), 1u) << "the note assigns nothing";
  json bad = note;
  bad["assignees"] = {"roiv-52"};
  EXPECT_REFUSED(w_.RegisterProtocol(Protocol("2026-01-12", {bad}), kMinistry), kValidationFailed);
  EXPECT_REFUSED(
      w_.RegisterProtocol(Protocol("2026-01-12", {Decision("I.1", json(), {"group:nobody"})}),
                          kMinistry),
      kValidationFailed);
  // Members of the wrong type are named, not thrown over.
  json typed = Decision("I.1", json());
  typed["number"] = 5;
  typed["note"] = "yes";
  EXPECT_REFUSED(w_.RegisterProtocol(Protocol("2026-01-12", {typed}), kMinistry),
                 kValidationFailed);
  json item_typed = Protocol("2026-01-12", {Decision("I.1", json())});
  item_typed["items"][0]["number"] = json::array();
  EXPECT_REFUSED(w_.RegisterProtocol(item_typed, kMinistry), kValidationFailed);
  // A monthly deadline names its day.
  EXPECT_REFUSED(
      w_.RegisterProtocol(
          Protocol("2026-01-12", {Decision("I.1", {{"recurring", {{"every", "month"}}}})}),
          kMinistry),
      kValidationFailed);
}

TEST_F(OnTime, TheTableGroupsByProtocolAndDecision) {
  auto ids = Register({Decision("I.1", {{"due", "2026-01-20"}}, {"roiv-52", "roiv-31"}),
                       Decision("I.2", json(), {"roiv-52"})});
  Report(ids[0]);
  Accept(ids[0]);
  w_.Advance(days(10));
  engine::DisciplineQuery q;
  q.group_by = "decision";
  q.assignments = true;
  const json table = Table(w_, q);
  ASSERT_EQ(table["items"].size(), 2u);
  EXPECT_EQ(table["items"][0]["decision_number"], "I.1");
  EXPECT_EQ(table["items"][0]["assigned"], 2);
  EXPECT_EQ(table["items"][0]["done_on_time"], 1);
  EXPECT_EQ(table["items"][0]["overdue"], 1);
  EXPECT_EQ(table["items"][1]["open"], 1);
  EXPECT_EQ(table["assignments"].size(), 3u);
  q = {};
  q.assignee = "roiv-31";
  EXPECT_EQ(Table(w_, q)["totals"]["assigned"], 1);
}

}  // namespace
}  // namespace expertflow::testing
