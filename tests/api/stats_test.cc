// The statistics routes: stage flow and time in stage, executive discipline per assignee.
#include <gmock/gmock.h>

#include <algorithm>
#include <map>

#include "tests/api/api_harness.h"

namespace expertflow::testing {
namespace {

json StatsDraft() {
  return {{"workflow", "industry_proposal"},
          {"payload", {{"title", "t"}, {"topic", "infrastructure"}, {"summary", "s"}}}};
}

TEST(ApiStats, StagesCountStaysAndTimeInStageExactly) {
  ApiWorld w;
  auto assoc = w.Token("assoc-01", "association_member");
  auto umc = w.Token("umc-01", "umc_lead");
  auto irpo = w.Token("irpo", "irpo_staff");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = w.Post("/api/v1/proposals", assoc, StatsDraft());
    ASSERT_EQ(r.status, 201);
    ids.push_back(r.body["id"]);
  }
  // Two leave drafting after 10 and 30 hours; one stays.
  w.clock().Advance(std::chrono::hours(10));
  ASSERT_EQ(
      w.Post("/api/v1/proposals/" + ids[0] + "/commands", assoc, {{"command", "submit_to_umc"}})
          .status,
      200);
  w.clock().Advance(std::chrono::hours(20));
  ASSERT_EQ(
      w.Post("/api/v1/proposals/" + ids[1] + "/commands", assoc, {{"command", "submit_to_umc"}})
          .status,
      200);
  ASSERT_EQ(w.Post("/api/v1/proposals/" + ids[1] + "/commands", umc,
                   {{"command", "send_to_expertise"},
                    {"payload", {{"experts", {{"fumo", {"fumo-09.00.00"}}}}}}})
                .status,
            200);
  ASSERT_EQ(w.Post("/api/v1/admin/clock", w.admin(), {{"advance", "P31D"}}).status, 200);

  auto r = w.Get("/api/v1/stats/stages?workflow=industry_proposal&group_by=umc", irpo);
  ASSERT_EQ(r.status, 200) << r.text;
  std::map<std::string, json> stages;
  for (const auto& s : r.body["stages"]) stages[s["stage"]] = s;
  EXPECT_EQ(stages["association"]["entered"], 3);
  EXPECT_EQ(stages["association"]["exited"], 2);
  EXPECT_EQ(stages["association"]["wip"], 1);
  EXPECT_EQ(stages["association"]["time_in_stage_hours"]["p50"], 10.0);
  EXPECT_EQ(stages["association"]["time_in_stage_hours"]["p90"], 30.0);
  EXPECT_EQ(stages["association"]["time_in_stage_hours"]["max"], 30.0);
  EXPECT_EQ(stages["umc"]["entered"], 2);
  EXPECT_EQ(stages["umc"]["exited"], 1);
  EXPECT_EQ(stages["expertise"]["wip"], 1);
  EXPECT_EQ(stages["expertise"]["overdue"], 1) << "30 days of expertise passed";
  EXPECT_EQ(stages["association"]["groups"][0]["group"], "umc-01");
  EXPECT_EQ(w.Get("/api/v1/stats/stages?workflow=industry_proposal", umc).status, 403);
  EXPECT_EQ(w.Get("/api/v1/stats/stages?group_by=colour", irpo).status, 400);
  // A window that ends before anything happened counts nothing.
  auto empty = w.Get("/api/v1/stats/stages?workflow=industry_proposal&to=2020-01-01", irpo);
  EXPECT_EQ(empty.body["stages"][0]["entered"], 0);
}

TEST(ApiStats, DisciplineCountsPerAssignee) {
  ApiWorld w;
  auto ministry = w.Token("ministry", "ministry_official");
  auto region = w.Token("roiv-52", "region_official");
  json protocol = {{"number", "Д05-98/05пр"},
                   {"date", "2026-01-10"},
                   {"title", "Совещание"},
                   {"items",
                    {{{"title", "Пункт"},
                      {"decisions",
                       {{{"text", "Отчёт"},
                         {"assignees", {"roiv-52", "roiv-31"}},
                         {"deadline", {{"due", "2026-01-20"}}}}}}}}}};
  auto created = w.Post("/api/v1/protocols", ministry, protocol);
  ASSERT_EQ(created.status, 201) << created.text;
  std::string mine;
  for (const auto& id : created.body["assignments"]) {
    auto a = w.Get("/api/v1/assignments/" + id.get<std::string>(), ministry);
    if (a.body["participants"]["assignee"] == "roiv-52") mine = id;
  }
  ASSERT_EQ(w.Post("/api/v1/assignments/" + mine + "/commands", region,
                   {{"command", "submit_report"}, {"payload", {{"text", "Готово"}}}})
                .status,
            200);
  ASSERT_EQ(
      w.Post("/api/v1/assignments/" + mine + "/commands", ministry, {{"command", "accept_report"}})
          .status,
      200);
  ASSERT_EQ(w.Post("/api/v1/admin/clock", w.admin(), {{"advance", "P10D"}}).status, 200);
  auto r = w.Get("/api/v1/stats/discipline?protocol=Д05-98/05пр", ministry);
  ASSERT_EQ(r.status, 200) << r.text;
  ASSERT_EQ(r.body["items"].size(), 2u);
  EXPECT_EQ(r.body["items"][0]["assignee"], "roiv-31") << "overdue first";
  EXPECT_EQ(r.body["items"][0]["overdue_open"], 1);
  EXPECT_EQ(r.body["items"][0]["periods_missed"], 1);
  EXPECT_EQ(r.body["items"][1]["assignee"], "roiv-52");
  EXPECT_EQ(r.body["items"][1]["done_on_time"], 1);

  auto by_decision =
      w.Get("/api/v1/stats/discipline?group_by=decision&assignments=true", ministry);
  ASSERT_EQ(by_decision.status, 200) << by_decision.text;
  ASSERT_EQ(by_decision.body["items"].size(), 1u);
  EXPECT_EQ(by_decision.body["items"][0]["assigned"], 2);
  EXPECT_EQ(by_decision.body["items"][0]["decision_number"], "1.1");
  EXPECT_EQ(by_decision.body["assignments"].size(), 2u);
  EXPECT_EQ(by_decision.body["totals"]["overdue"], 1);

  auto csv = w.Get("/api/v1/stats/discipline?format=csv", ministry);
  ASSERT_EQ(csv.status, 200);
  EXPECT_THAT(csv.text, ::testing::StartsWith("\xEF\xBB\xBF"));
  EXPECT_THAT(csv.text, ::testing::HasSubstr("Исполнено в срок"));
  EXPECT_THAT(csv.text, ::testing::HasSubstr("roiv-31,"));
  EXPECT_EQ(std::count(csv.text.begin(), csv.text.end(), '\n'), 3) << "a header and two rows";

  EXPECT_EQ(w.Get("/api/v1/stats/discipline?group_by=colour", ministry).status, 400);
  EXPECT_EQ(w.Get("/api/v1/stats/discipline?format=pdf", ministry).status, 400);
  EXPECT_EQ(w.Get("/api/v1/stats/discipline?assignments=yes", ministry).status, 400);
  EXPECT_EQ(w.Get("/api/v1/stats/discipline", region).status, 403);
}

}  // namespace
}  // namespace expertflow::testing
