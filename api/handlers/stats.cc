#include "api/handlers/stats.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"
#include "engine/decide/policy.h"
#include "engine/projections/discipline.h"

namespace expertflow::api::handlers {
namespace {

using engine::ErrorCode;
using nlohmann::json;

// from/to of a monitoring query; false (after answering) when one is not a time.
bool Window(const Target& t, std::optional<engine::Timestamp>& from,
            std::optional<engine::Timestamp>& to, Respond& respond) {
  for (auto [key, out] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    auto it = t.query.find(key);
    if (it == t.query.end()) continue;
    *out = engine::ParseDeadline(it->second);
    if (!*out) {
      respond(Problem(ErrorCode::kBadRequest,
                      std::string(key) + " must be a date or an RFC 3339 time"));
      return false;
    }
  }
  return true;
}

std::vector<engine::InstanceState> Instances(const Context& ctx, std::string_view collection) {
  std::vector<engine::InstanceState> out;
  ctx.seq.ForEachInstance([&](const engine::InstanceState& s) {
    if (s.collection == collection) out.push_back(s);
    return true;
  });
  return out;
}

// The stage names of the dashboard (web/site/i18n.js), for the Russian download.
const std::map<std::string, std::string, std::less<>>& StageNames() {
  static const std::map<std::string, std::string, std::less<>> kNames = {
      {"association", "Ассоциация"},
      {"umc", "УМЦ"},
      {"expertise", "Экспертиза"},
      {"approbation", "Апробация"},
      {"ministry", "Министерство"},
      {"dissemination", "Тиражирование"},
      {"scaled", "Тиражировано"},
      {"rejected", "Отклонено"},
      {"withdrawn", "Отозвано"},
      {"rumo", "РУМО"},
      {"fumo", "ФУМО"},
      {"accepted", "Принято"},
      {"declined", "Не поддержано"},
      {"in_progress", "Исполнение"},
      {"review", "Проверка отчёта"},
      {"done", "Исполнено"},
      {"cancelled", "Отменено"},
      {"signing", "Подписание"},
      {"active", "Действует"},
      {"amending", "Изменение"},
      {"terminating", "Расторжение"},
      {"terminated", "Расторгнуто"},
      {"abandoned", "Не заключено"},
      {"registered", "Зарегистрирован"}};
  return kNames;
}

const std::map<std::string, std::string, std::less<>>& DistrictNames() {
  static const std::map<std::string, std::string, std::less<>> kNames = {
      {"central", "Центральный"},
      {"northwestern", "Северо-Западный"},
      {"southern", "Южный"},
      {"north_caucasian", "Северо-Кавказский"},
      {"volga", "Приволжский"},
      {"ural", "Уральский"},
      {"siberian", "Сибирский"},
      {"far_eastern", "Дальневосточный"},
      {"reunited", "Воссоединённые регионы"}};
  return kNames;
}

std::string NameOr(const std::map<std::string, std::string, std::less<>>& names,
                   const std::string& code) {
  auto it = names.find(code);
  return it == names.end() ? code : it->second;
}

// A download of `sheet` as `format` ("csv" or "xlsx"), named `stem` and the format's extension.
HttpResponse Download(const Sheet& sheet, const std::string& format, const std::string& stem) {
  HttpResponse r;
  r.status = 200;
  if (format == "xlsx") {
    auto bytes = Xlsx(sheet);
    if (!bytes) return Problem(bytes.error());
    r.content_type = kXlsxContentType;
    r.body = std::move(*bytes);
  } else {
    r.content_type = "text/csv; charset=utf-8";
    r.body = Csv(sheet);
  }
  r.headers.push_back(
      {"Content-Disposition", "attachment; filename=\"" + stem + "." + format + "\""});
  return r;
}

// format= of a monitoring query: json (the default), csv or xlsx; false (after answering) else.
bool Format(const Target& t, std::string& format, Respond& respond) {
  auto it = t.query.find("format");
  format = it == t.query.end() ? "json" : it->second;
  if (format == "json" || format == "csv" || format == "xlsx") return true;
  respond(Problem(ErrorCode::kBadRequest, "format is json, csv or xlsx"));
  return false;
}

// The Moscow date of the Monday that starts the ISO week of `day`.
std::chrono::sys_days MondayOf(std::chrono::sys_days day) {
  const unsigned from_monday = (std::chrono::weekday(day).c_encoding() + 6) % 7;
  return day - std::chrono::days(from_monday);
}

std::string DateText(std::chrono::sys_days day) {
  const std::chrono::year_month_day d{day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

// "2026-W03", the ISO week that starts on `monday` (its year is its Thursday's).
std::string IsoWeekText(std::chrono::sys_days monday) {
  using namespace std::chrono;
  const sys_days thursday = monday + days(3);
  const year y = year_month_day{thursday}.year();
  const int week = static_cast<int>((thursday - sys_days{y / January / 1}).count() / 7) + 1;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%d-W%02d", static_cast<int>(y), week);
  return buf;
}

// The Monday of ISO week "2026-W03" (week 1 is the one that holds 4 January), as a date.
std::string WeekStart(const std::string& iso_week) {
  int year = 0, week = 0;
  if (std::sscanf(iso_week.c_str(), "%d-W%d", &year, &week) != 2) return "";
  using namespace std::chrono;
  const sys_days jan4{std::chrono::year(year) / January / 4};
  return DateText(MondayOf(jan4) + days(7 * (week - 1)));
}

// Stages whose every state is terminal: the outcomes, where nothing is in progress.
std::vector<std::string> OutcomeStages(const engine::Definition& def) {
  std::vector<std::string> out;
  for (const auto& s : def.states) {
    const bool all_terminal =
        std::all_of(def.states.begin(), def.states.end(),
                    [&](const engine::StateSpec& o) { return o.stage != s.stage || o.terminal; });
    if (all_terminal && std::find(out.begin(), out.end(), s.stage) == out.end())
      out.push_back(s.stage);
  }
  return out;
}

// What the stage statistics add to the projection's answer (api/README.md, Monitoring):
// - an outcome's stage is marked `terminal` and holds no work in progress (`wip` 0: what
//   entered it has finished, not stayed in work);
// - each week of throughput also as the date its Monday falls on (`week_start`, Moscow);
// - `finished`: how many instances reached an outcome in the window, per outcome and per week,
//   from the instances as they stand (an outcome is final, so the time they entered it is the
//   time they finished);
// - `overdue_as_of`: overdue counts what is overdue now, whatever the window;
// - a region's group its names (`name`, `name_en`).
void Extend(json& stages, const engine::Definition& def,
            const std::vector<engine::InstanceState>& instances,
            const engine::StageStatistics::Query& q, const engine::DefinitionSet& definitions,
            const engine::Directory& directory, engine::Timestamp now) {
  const std::vector<std::string> outcomes = OutcomeStages(def);
  auto is_outcome = [&](const std::string& stage) {
    return std::find(outcomes.begin(), outcomes.end(), stage) != outcomes.end();
  };
  for (json& s : stages["stages"]) {
    const bool terminal = is_outcome(s.value("stage", ""));
    s["terminal"] = terminal;
    auto amend = [&](json& figures) {
      if (terminal) figures["wip"] = 0;
      for (json& w : figures["throughput_per_week"])
        w["week_start"] = WeekStart(w.value("week", ""));
    };
    amend(s);
    if (!s.contains("groups")) continue;
    for (json& g : s["groups"]) {
      amend(g);
      if (q.group_by != "region") continue;
      if (const engine::Region* r = directory.FindRegion(g.value("group", ""))) {
        g["name"] = r->name;
        g["name_en"] = r->name_en;
      }
    }
  }
  std::map<std::string, std::uint64_t> by_outcome;
  std::map<std::chrono::sys_days, std::map<std::string, std::uint64_t>> by_week;
  std::uint64_t total = 0;
  for (const engine::InstanceState& inst : instances) {
    if (inst.workflow != q.workflow) continue;
    const engine::Definition* d = definitions.Find(inst.workflow, inst.workflow_version);
    const engine::StateSpec* st = d ? d->FindState(inst.state) : nullptr;
    if (st == nullptr || !st->terminal) continue;
    const engine::Timestamp at = inst.stage_entered_at;
    if ((q.from && at < *q.from) || (q.to && at >= *q.to)) continue;
    ++total;
    ++by_outcome[st->stage];
    ++by_week[MondayOf(std::chrono::sys_days{engine::MoscowDate(at)})][st->stage];
  }
  json weeks = json::array();
  for (const auto& [monday, outcomes_in_week] : by_week) {
    std::uint64_t n = 0;
    for (const auto& [stage, count] : outcomes_in_week) n += count;
    weeks.push_back({{"week", IsoWeekText(monday)},
                     {"week_start", DateText(monday)},
                     {"finished", n},
                     {"by_outcome", outcomes_in_week}});
  }
  stages["finished"] = {{"total", total}, {"by_outcome", by_outcome}, {"per_week", weeks}};
  stages["overdue_as_of"] = engine::FormatRfc3339(now);
}

}  // namespace

Sheet DisciplineSheet(const json& table) {
  static const std::pair<const char*, const char*> kKeys[] = {
      {"assignee", "Исполнитель (код)"},
      {"assignee_name", "Исполнитель"},
      {"protocol_number", "Протокол"},
      {"protocol_date", "Дата протокола"},
      {"decision_number", "Пункт"},
      {"decision", "Поручение"},
      {"assigned", "Поручений"},
      {"done_on_time", "Исполнено в срок"},
      {"done_late", "Исполнено с нарушением срока"},
      {"open", "На исполнении"},
      {"overdue", "Просрочено"},
      {"awaiting_review", "На рассмотрении"},
      {"cancelled", "Отменено"},
      {"periods_due", "Отчётных периодов наступило"},
      {"periods_missed", "Отчётных периодов пропущено"}};
  static const json kNoItems = json::array();
  const json& items = table.contains("items") ? table["items"] : kNoItems;
  // With no items to show which columns they hold, the figures' columns alone.
  const std::size_t first = items.empty() ? 6 : 0;
  std::vector<const char*> keys;
  Sheet sheet;
  sheet.name = "Дисциплина";
  for (std::size_t i = first; i < std::size(kKeys); ++i) {
    if (!items.empty() && !items[0].contains(kKeys[i].first)) continue;
    keys.push_back(kKeys[i].first);
    sheet.header.push_back(kKeys[i].second);
  }
  for (const auto& item : items) {
    auto& row = sheet.rows.emplace_back();
    for (const char* key : keys) row.push_back(item.value(key, json()));
  }
  return sheet;
}

Sheet StagesSheet(const json& stages) {
  const std::string group_by = stages.value("group_by", "");
  Sheet sheet;
  sheet.name = "Этапы";
  sheet.header = {"Этап (код)", "Этап"};
  if (!group_by.empty()) {
    sheet.header.push_back(group_by == "umc"        ? "УМЦ"
                           : group_by == "industry" ? "Отрасль"
                           : group_by == "region"   ? "Регион"
                                                    : "Федеральный округ");
  }
  for (const char* h : {"Вошло", "Вышло", "На этапе", "Просрочено", "Пребываний завершено",
                        "Время на этапе, ч: медиана", "Время на этапе, ч: 90-й процентиль",
                        "Время на этапе, ч: максимум"}) {
    sheet.header.push_back(h);
  }
  auto figures = [](const json& a, std::vector<json>& row) {
    const json& t = a["time_in_stage_hours"];
    for (const json& v : {a["entered"], a["exited"], a["wip"], a["overdue"], t["count"], t["p50"],
                          t["p90"], t["max"]}) {
      row.push_back(v);
    }
  };
  for (const auto& s : stages.value("stages", json::array())) {
    const std::string code = s["stage"];
    auto& row = sheet.rows.emplace_back(std::vector<json>{code, NameOr(StageNames(), code)});
    if (group_by.empty()) {
      figures(s, row);
      continue;
    }
    row.push_back("всего");
    figures(s, row);
    for (const auto& g : s.value("groups", json::array())) {
      const std::string key = g["group"];
      std::vector<json> group_row{code, NameOr(StageNames(), code),
                                  key == "none"                    ? "не указано"
                                  : group_by == "federal_district" ? NameOr(DistrictNames(), key)
                                                                   : g.value("name", key)};
      figures(g, group_row);
      sheet.rows.push_back(std::move(group_row));
    }
  }
  return sheet;
}

void StatsStages(Context& ctx, const Call& call, Respond respond) {
  const Target& t = call.target;
  const engine::Principal& p = call.principal;
  if (!engine::SeesEverything(p))
    return respond(
        Problem(ErrorCode::kForbidden, "monitoring is for irpo, ministry, auditors and admins"));
  engine::StageStatistics::Query q;
  q.workflow = t.query.count("workflow") ? t.query.at("workflow") : "industry_proposal";
  const engine::Definition* def = ctx.seq.definitions().Latest(q.workflow);
  if (def == nullptr) return respond(Problem(ErrorCode::kBadRequest, "no workflow " + q.workflow));
  if (auto g = t.query.find("group_by"); g != t.query.end()) {
    if (g->second != "umc" && g->second != "industry" && g->second != "region" &&
        g->second != "federal_district") {
      return respond(
          Problem(ErrorCode::kBadRequest, "group_by is umc, industry, region or federal_district"));
    }
    q.group_by = g->second;
  }
  if (!Window(t, q.from, q.to, respond)) return;
  std::string format;
  if (!Format(t, format, respond)) return;
  Offload(ctx, std::move(respond),
          [&ctx, q, format, collection = def->collection](Respond respond) {
            if (auto r = ctx.stages.CatchUp(ctx.log); !r) return respond(Problem(r.error()));
            // Best effort: a failed save only means a longer catch-up later.
            (void)ctx.stages.Save(ctx.log);
            const std::vector<engine::InstanceState> instances = Instances(ctx, collection);
            json stages = ctx.stages.Stages(q, instances);
            if (const engine::Definition* def = ctx.seq.definitions().Latest(q.workflow)) {
              Extend(stages, *def, instances, q, ctx.seq.definitions(), ctx.seq.directory(),
                     ctx.seq.clock().Now());
            }
            if (format != "json") {
              return respond(Download(StagesSheet(stages), format, "stages-" + q.workflow));
            }
            respond(Json(200, std::move(stages)));
          });
}

void StatsDiscipline(Context& ctx, const Call& call, Respond respond) {
  const Target& t = call.target;
  const engine::Principal& p = call.principal;
  if (!engine::SeesEverything(p))
    return respond(
        Problem(ErrorCode::kForbidden, "monitoring is for irpo, ministry, auditors and admins"));
  engine::DisciplineQuery q;
  if (!Window(t, q.from, q.to, respond)) return;
  auto param = [&](const char* key) {
    auto it = t.query.find(key);
    return it == t.query.end() ? std::string() : it->second;
  };
  q.protocol = param("protocol");
  q.assignee = param("assignee");
  q.decision = param("decision");
  if (std::string g = param("group_by"); !g.empty()) {
    if (g != "assignee" && g != "protocol" && g != "decision") {
      return respond(Problem(ErrorCode::kBadRequest, "group_by is assignee, protocol or decision"));
    }
    q.group_by = g;
  }
  if (std::string a = param("assignments"); !a.empty()) {
    if (a != "true" && a != "false") {
      return respond(Problem(ErrorCode::kBadRequest, "assignments is true or false"));
    }
    q.assignments = a == "true";
  }
  std::string format;
  if (!Format(t, format, respond)) return;
  // Classifying 100,000 assignments takes a fifth of a second, a workbook of them more: on the
  // pool for heavy reads, never on an I/O thread (benchmarks/README.md, BM_Discipline100k).
  Offload(ctx, std::move(respond), [&ctx, q, format](Respond respond) {
    json table = engine::Discipline(Instances(ctx, "assignments"), q, ctx.seq.directory(),
                                    ctx.seq.clock().Now());
    if (format != "json") return respond(Download(DisciplineSheet(table), format, "discipline"));
    respond(Json(200, std::move(table)));
  });
}

}  // namespace expertflow::api::handlers
