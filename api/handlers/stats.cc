#include <algorithm>
#include <optional>

#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"
#include "engine/decide/policy.h"

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

void StatsDiscipline(Context& ctx, const Call& call, Respond respond) {
  const Target& t = call.target;
  const engine::Principal& p = call.principal;
  if (!engine::SeesEverything(p))
    return respond(
        Problem(ErrorCode::kForbidden, "monitoring is for irpo, ministry, auditors and admins"));
  std::optional<engine::Timestamp> from, to;
  if (!Window(t, from, to, respond)) return;
  const std::string protocol = t.query.count("protocol") ? t.query.at("protocol") : "";
  respond(Json(200, engine::Discipline(Instances(ctx, "assignments"), protocol, from, to)));
}

}  // namespace expertflow::api::handlers
