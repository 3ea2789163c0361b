// The statistics routes: stage flow and time in stage, executive discipline per assignee.
#include "api/handlers/stats.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/spreadsheet.h"
#include "tests/api/api_harness.h"

namespace expertflow::testing {
namespace {

// The names of a ZIP's members, read from its central directory (APPNOTE 4.3.12, 4.3.16): names
// are stored there uncompressed, whatever the members' compression. Empty when it is no ZIP.
std::vector<std::string> ZipNames(const std::string& zip) {
  auto u16 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(zip[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(zip[at + 1])) << 8;
  };
  auto u32 = [&](std::size_t at) { return u16(at) | u16(at + 2) << 16; };
  const std::size_t end = zip.rfind(std::string("PK\x05\x06", 4));
  if (end == std::string::npos || end + 22 > zip.size()) return {};
  std::vector<std::string> names;
  std::size_t at = u32(end + 16);
  for (std::uint32_t i = 0, n = u16(end + 10); i < n; ++i) {
    if (at + 46 > end || zip.compare(at, 4, std::string("PK\x01\x02", 4)) != 0) return {};
    const std::size_t name = u16(at + 28), extra = u16(at + 30), comment = u16(at + 32);
    names.push_back(zip.substr(at + 46, name));
    at += 46 + name + extra + comment;
  }
  return names;
}

json StatsDraft() {
  return {
      {"workflow", "industry_proposal"},
      {"payload",
       {{"title", "t"}, {"topic", "infrastructure"}, {"summary", "s"}, {"ugps", {"09.00.00"}}}}};
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
  auto csv = w.Get("/api/v1/stats/stages?workflow=industry_proposal&format=csv", irpo);
  ASSERT_EQ(csv.status, 200) << csv.text;
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(csv.headers["Content-Disposition"],
            "attachment; filename=\"stages-industry_proposal.csv\"");
  EXPECT_THAT(csv.text,
              ::testing::HasSubstr("\r\nassociation,Ассоциация,3,2,1,0,2,10.0,30.0,30.0\r\n"));
  auto xlsx =
      w.Get("/api/v1/stats/stages?workflow=industry_proposal&format=xlsx&group_by=umc", irpo);
  ASSERT_EQ(xlsx.status, 200) << xlsx.text;
  EXPECT_EQ(xlsx.content_type, api::kXlsxContentType);
  EXPECT_EQ(xlsx.headers["Content-Disposition"],
            "attachment; filename=\"stages-industry_proposal.xlsx\"");
  EXPECT_THAT(xlsx.text, ::testing::StartsWith(std::string("PK\x03\x04", 4)));
  EXPECT_THAT(ZipNames(xlsx.text), ::testing::Contains("xl/worksheets/sheet1.xml"));
  EXPECT_EQ(w.Get("/api/v1/stats/stages?format=pdf", irpo).status, 400);
  EXPECT_EQ(w.Get("/api/v1/stats/stages?workflow=industry_proposal", umc).status, 403);
  EXPECT_EQ(w.Get("/api/v1/stats/stages?group_by=colour", irpo).status, 400);
  // A window that ends before anything happened counts nothing.
  auto empty = w.Get("/api/v1/stats/stages?workflow=industry_proposal&to=2020-01-01", irpo);
  EXPECT_EQ(empty.body["stages"][0]["entered"], 0);
}

TEST(ApiStats, OutcomesHoldNoWorkAndFinishedCountsThemPerWeekOfDates) {
  ApiWorld w;
  auto assoc = w.Token("assoc-01", "association_member");
  auto irpo = w.Token("irpo", "irpo_staff");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = w.Post("/api/v1/proposals", assoc, StatsDraft());
    ASSERT_EQ(r.status, 201);
    ids.push_back(r.body["id"]);
  }
  auto act = [&](const std::string& id, const char* command) {
    return w.Post("/api/v1/proposals/" + id + "/commands", assoc, {{"command", command}}).status;
  };
  // given one withdrawn on Monday 12 January 2026, one the next week, one sent on to the UMC
  ASSERT_EQ(act(ids[0], "withdraw"), 200);
  w.clock().Advance(std::chrono::hours(24 * 8));
  ASSERT_EQ(act(ids[1], "withdraw"), 200);
  ASSERT_EQ(act(ids[2], "submit_to_umc"), 200);

  // when
  auto r = w.Get("/api/v1/stats/stages?workflow=industry_proposal", irpo);
  ASSERT_EQ(r.status, 200) << r.text;
  std::map<std::string, json> stages;
  for (const auto& s : r.body["stages"]) stages[s["stage"]] = s;

  // then an outcome is marked and holds nothing in progress; a working stage does
  EXPECT_EQ(stages["withdrawn"]["terminal"], true);
  EXPECT_EQ(stages["withdrawn"]["entered"], 2);
  EXPECT_EQ(stages["withdrawn"]["wip"], 0);
  EXPECT_EQ(stages["umc"]["terminal"], false);
  EXPECT_EQ(stages["umc"]["wip"], 1);
  // and the finished are counted per outcome and per week, each week named by its Monday
  EXPECT_EQ(r.body["finished"]["total"], 2);
  EXPECT_EQ(r.body["finished"]["by_outcome"], json({{"withdrawn", 2}}));
  EXPECT_EQ(r.body["finished"]["per_week"], json::parse(R"([
    {"week": "2026-W03", "week_start": "2026-01-12", "finished": 1, "by_outcome": {"withdrawn": 1}},
    {"week": "2026-W04", "week_start": "2026-01-19", "finished": 1, "by_outcome": {"withdrawn": 1}}
  ])"));
  EXPECT_EQ(stages["association"]["throughput_per_week"], json::parse(R"([
    {"week": "2026-W03", "week_start": "2026-01-12", "exited": 1},
    {"week": "2026-W04", "week_start": "2026-01-19", "exited": 2}])"));
  // and overdue says when it was counted: now, whatever the window
  EXPECT_EQ(r.body["overdue_as_of"], "2026-01-20T09:00:00Z");

  // a window counts the finished in it only
  auto late = w.Get(
      "/api/v1/stats/stages?workflow=industry_proposal&from=2026-01-19T00:00:00%2B03:00", irpo);
  ASSERT_EQ(late.status, 200) << late.text;
  EXPECT_EQ(late.body["finished"]["total"], 1);
  EXPECT_EQ(late.body["finished"]["per_week"].size(), 1u);
}

TEST(ApiStats, AssignmentsGroupByRegionAndFederalDistrict) {
  ApiWorld w;
  auto ministry = w.Token("ministry", "ministry_official");
  auto irpo = w.Token("irpo", "irpo_staff");
  json protocol = {{"number", "Д05-98/05пр"},
                   {"date", "2026-01-10"},
                   {"title", "Совещание"},
                   {"items",
                    {{{"title", "Пункт"},
                      {"decisions",
                       {{{"text", "Отчёт"},
                         {"assignees", {"roiv-52", "roiv-31"}},
                         {"deadline", {{"due", "2026-01-20"}}}}}}}}}};
  ASSERT_EQ(w.Post("/api/v1/protocols", ministry, protocol).status, 201);
  auto groups = [&](const std::string& by) {
    auto r = w.Get("/api/v1/stats/stages?workflow=protocol_assignment&group_by=" + by, irpo);
    EXPECT_EQ(r.status, 200) << r.text;
    std::map<std::string, json> out;
    for (const auto& s : r.body["stages"]) {
      if (s["stage"] != "in_progress") continue;
      for (const auto& g : s["groups"]) out[g["group"]] = g;
    }
    return out;
  };

  // a region's assignments are its own, named in both languages
  auto regions = groups("region");
  ASSERT_EQ(regions.size(), 2u);
  EXPECT_EQ(regions["52"]["wip"], 1);
  EXPECT_EQ(regions["52"]["name"], "Нижегородская область");
  EXPECT_EQ(regions["52"]["name_en"], "Nizhny Novgorod Oblast");
  EXPECT_EQ(regions["31"]["wip"], 1);
  // and each region's in its federal district
  auto districts = groups("federal_district");
  ASSERT_EQ(districts.size(), 2u);
  EXPECT_EQ(districts["volga"]["wip"], 1);
  EXPECT_EQ(districts["central"]["wip"], 1);
  // a regional body belongs to no industry
  auto industries = groups("industry");
  ASSERT_EQ(industries.size(), 1u);
  EXPECT_EQ(industries["none"]["wip"], 2);

  auto csv =
      w.Get("/api/v1/stats/stages?workflow=protocol_assignment&group_by=region&format=csv", irpo);
  ASSERT_EQ(csv.status, 200) << csv.text;
  EXPECT_THAT(csv.text, ::testing::HasSubstr(",Регион,"));
  EXPECT_THAT(csv.text,
              ::testing::HasSubstr("in_progress,Исполнение,Нижегородская область,1,0,1,"));
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

  auto by_decision = w.Get("/api/v1/stats/discipline?group_by=decision&assignments=true", ministry);
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
  EXPECT_EQ(csv.headers["Content-Disposition"], "attachment; filename=\"discipline.csv\"");

  auto xlsx = w.Get("/api/v1/stats/discipline?format=xlsx&group_by=decision", ministry);
  ASSERT_EQ(xlsx.status, 200) << xlsx.text;
  EXPECT_EQ(xlsx.content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  EXPECT_EQ(xlsx.headers["Content-Disposition"], "attachment; filename=\"discipline.xlsx\"");
  EXPECT_THAT(xlsx.text, ::testing::StartsWith(std::string("PK\x03\x04", 4)));
  EXPECT_THAT(ZipNames(xlsx.text), ::testing::Contains("xl/worksheets/sheet1.xml"));

  EXPECT_EQ(w.Get("/api/v1/stats/discipline?group_by=colour", ministry).status, 400);
  EXPECT_EQ(w.Get("/api/v1/stats/discipline?format=pdf", ministry).status, 400);
  EXPECT_EQ(w.Get("/api/v1/stats/discipline?assignments=yes", ministry).status, 400);
  EXPECT_EQ(w.Get("/api/v1/stats/discipline", region).status, 403);
}

TEST(ApiStats, DisciplineSheetHasTheRussianHeadersAndTheFiguresAsNumbers) {
  // given a table grouped by assignee, as engine::Discipline answers it
  json table = {{"group_by", "assignee"},
                {"items",
                 {{{"assignee", "roiv-31"},
                   {"assignee_name", "Белгородская область, \"ОИВ\""},
                   {"assigned", 2},
                   {"done_on_time", 0},
                   {"done_late", 1},
                   {"open", 1},
                   {"overdue", 1},
                   {"overdue_open", 1},
                   {"awaiting_review", 0},
                   {"cancelled", 0},
                   {"periods_due", 3},
                   {"periods_missed", 2}}}}};
  // when
  api::Sheet sheet = api::handlers::DisciplineSheet(table);
  // then
  EXPECT_EQ(sheet.header,
            (std::vector<std::string>{
                "Исполнитель (код)", "Исполнитель", "Поручений", "Исполнено в срок",
                "Исполнено с нарушением срока", "На исполнении", "Просрочено", "На рассмотрении",
                "Отменено", "Отчётных периодов наступило", "Отчётных периодов пропущено"}));
  ASSERT_EQ(sheet.rows.size(), 1u);
  EXPECT_EQ(
      json(sheet.rows[0]),
      json::parse(R"(["roiv-31", "Белгородская область, \"ОИВ\"", 2, 0, 1, 1, 1, 0, 0, 3, 2])"));
  EXPECT_EQ(api::Csv(sheet),
            "\xEF\xBB\xBF"
            "Исполнитель (код),Исполнитель,Поручений,Исполнено в срок,"
            "Исполнено с нарушением срока,На исполнении,Просрочено,На рассмотрении,Отменено,"
            "Отчётных периодов наступило,Отчётных периодов пропущено\r\n"
            "roiv-31,\"Белгородская область, \"\"ОИВ\"\"\",2,0,1,1,1,0,0,3,2\r\n");
  // and with no items, the figures' columns alone
  EXPECT_EQ(api::handlers::DisciplineSheet({{"items", json::array()}}).header.front(), "Поручений");
}

TEST(ApiStats, StagesSheetHasARowPerStageAndPerGroup) {
  // given the stage statistics of one stage grouped by federal district
  json hours = {{"count", 2}, {"p50", 10.0}, {"p90", 30.0}, {"max", 30.0}};
  json figures = {{"entered", 3},
                  {"exited", 2},
                  {"wip", 1},
                  {"overdue", 0},
                  {"time_in_stage_hours", hours},
                  {"throughput_per_week", json::array()}};
  json central = figures;
  central["group"] = "central";
  json none = figures;
  none["group"] = "none";
  json stage = figures;
  stage["stage"] = "association";
  stage["groups"] = {central, none};
  json stages = {
      {"workflow", "industry_proposal"}, {"group_by", "federal_district"}, {"stages", {stage}}};
  // when
  api::Sheet sheet = api::handlers::StagesSheet(stages);
  // then
  EXPECT_EQ(sheet.header,
            (std::vector<std::string>{
                "Этап (код)", "Этап", "Федеральный округ", "Вошло", "Вышло", "На этапе",
                "Просрочено", "Пребываний завершено", "Время на этапе, ч: медиана",
                "Время на этапе, ч: 90-й процентиль", "Время на этапе, ч: максимум"}));
  EXPECT_EQ(json(sheet.rows), json::parse(R"([
    ["association", "Ассоциация", "всего", 3, 2, 1, 0, 2, 10.0, 30.0, 30.0],
    ["association", "Ассоциация", "Центральный", 3, 2, 1, 0, 2, 10.0, 30.0, 30.0],
    ["association", "Ассоциация", "не указано", 3, 2, 1, 0, 2, 10.0, 30.0, 30.0]])"));
  EXPECT_THAT(api::Csv(sheet),
              ::testing::EndsWith("\r\nassociation,Ассоциация,Центральный,3,2,1,0,2,10.0,30.0,30.0"
                                  "\r\nassociation,Ассоциация,не указано,3,2,1,0,2,10.0,30.0,30.0"
                                  "\r\n"));
}

TEST(ApiStats, XlsxIsAWorkbookOfOneSheet) {
  api::Sheet sheet{
      .name = "Этапы", .header = {"Этап", "Вошло"}, .rows = {{"УМЦ", 3}, {nullptr, 2.5}}};
  auto xlsx = api::Xlsx(sheet);
  ASSERT_TRUE(xlsx) << xlsx.error().message;
  EXPECT_THAT(*xlsx, ::testing::StartsWith(std::string("PK\x03\x04", 4)));
  EXPECT_THAT(ZipNames(*xlsx), ::testing::IsSupersetOf({"[Content_Types].xml", "xl/workbook.xml",
                                                        "xl/worksheets/sheet1.xml",
                                                        "xl/sharedStrings.xml", "xl/styles.xml"}));
  api::Sheet bad;
  bad.name = "a/b";
  EXPECT_FALSE(api::Xlsx(bad)) << "a sheet name the format forbids is an error";
}

}  // namespace
}  // namespace expertflow::testing
