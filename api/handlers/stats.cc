#include <algorithm>
#include <optional>

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

}  // namespace

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
  Offload(ctx, std::move(respond), [&ctx, q, collection = def->collection](Respond respond) {
    if (auto r = ctx.stages.CatchUp(ctx.log); !r) return respond(Problem(r.error()));
    // Best effort: a failed save only means a longer catch-up later.
    (void)ctx.stages.Save(ctx.log);
    respond(Json(200, ctx.stages.Stages(q, Instances(ctx, collection))));
  });
}

// The discipline table as CSV (RFC 4180, UTF-8 with a byte order mark so that a spreadsheet
// opens the Cyrillic right), with the Russian headers of IRPO's reports (seed 003 §II).
std::string DisciplineCsv(const json& table) {
  auto cell = [](const json& v) {
    std::string text = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) {
      if (c == '"') quoted += '"';
      quoted += c;
    }
    return quoted + "\"";
  };
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
  const json& items = table["items"];
  std::vector<std::pair<const char*, const char*>> columns;
  for (const auto& k : kKeys) {
    if (!items.empty() && items[0].contains(k.first)) columns.push_back(k);
  }
  if (items.empty()) columns.assign(std::begin(kKeys) + 6, std::end(kKeys));
  std::string out = "\xEF\xBB\xBF";
  for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + cell(columns[i].second);
  out += "\r\n";
  for (const auto& row : items) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      out += (i ? "," : "") + cell(row.value(columns[i].first, json()));
    }
    out += "\r\n";
  }
  return out;
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
  const std::string format = param("format");
  if (!format.empty() && format != "json" && format != "csv") {
    return respond(Problem(ErrorCode::kBadRequest, "format is json or csv"));
  }
  json table = engine::Discipline(Instances(ctx, "assignments"), q, ctx.seq.directory(),
                                  ctx.seq.clock().Now());
  if (format == "csv") {
    HttpResponse r;
    r.status = 200;
    r.content_type = "text/csv; charset=utf-8";
    r.headers.push_back({"Content-Disposition", "attachment; filename=\"discipline.csv\""});
    r.body = DisciplineCsv(table);
    return respond(std::move(r));
  }
  respond(Json(200, std::move(table)));
}

}  // namespace expertflow::api::handlers
