#include "api/handlers/stats.h"

#include <algorithm>
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
                                                                   : key};
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
    if (g->second != "umc" && g->second != "industry" && g->second != "federal_district") {
      return respond(
          Problem(ErrorCode::kBadRequest, "group_by is umc, industry or federal_district"));
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
            json stages = ctx.stages.Stages(q, Instances(ctx, collection));
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
