#include "api/embedded.h"
#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"
#include "engine/model/registry_layer.h"

namespace expertflow::api::handlers {
namespace {

using engine::ErrorCode;
using nlohmann::json;

json DefinitionSummary(const engine::Definition& d) {
  json states = json::array();
  for (const auto& s : d.states) {
    states.push_back({{"name", s.name}, {"stage", s.stage}, {"terminal", s.terminal}});
  }
  return {{"id", d.id},       {"version", d.version}, {"collection", d.collection},
          {"title", d.title}, {"source", d.source},   {"states", states}};
}

json OrgJson(const engine::Organization& o) {
  json j = {{"id", o.id},
            {"kind", o.kind},
            {"name", o.name},
            {"name_en", o.name_en},
            {"region_code", o.region_code},
            {"federal_district", o.federal_district}};
  if (!o.industry.empty()) j["industry"] = o.industry;
  if (!o.ugps.empty()) j["ugps"] = o.ugps;
  if (o.extra.is_object() && !o.extra.empty()) j["extra"] = o.extra;
  // Reference data is history (issue 15): which version this is. "embedded": as compiled in,
  // no change recorded; "log": the version of organizations/{id} in the log (its events).
  j["source"] = o.version == 0 ? "embedded" : "log";
  j["version"] = o.version;
  j["retired"] = o.retired;
  return j;
}

json GroupJson(const engine::Directory& d, const engine::Group& g) {
  json j = {{"id", g.id},
            {"name", g.name},
            {"name_en", g.name_en},
            {"members", g.members},
            {"organizations", engine::GroupMembers(d, g)},
            {"provisional", g.provisional},
            {"source", g.version == 0 ? "embedded" : "log"},
            {"version", g.version},
            {"retired", g.retired}};
  return j;
}

std::string_view OpenApiDocument() {
  for (const auto& f : EmbeddedFiles()) {
    if (f.name == "openapi.json") return f.data;
  }
  return "{}";
}

}  // namespace

void Me(Context& ctx, const Call& call, Respond respond) {
  const engine::Principal& p = call.principal;
  // `monitoring`: whether the monitoring views (stats, the whole event log) are the caller's, so
  // that a page can tell before it asks for them (the event feed itself is everyone's).
  respond(Json(200, {{"org", p.org},
                     {"role", p.role},
                     {"token_id", p.token_id},
                     {"monitoring", engine::SeesEverything(p)},
                     // The server's business time, by which deadlines pass (the manual clock of
                     // a demo or a test included): a page counts time left from it.
                     {"now", engine::FormatRfc3339(ctx.seq.clock().Now())}}));
}

void OpenApi(Context& ctx, const Call& call, Respond respond) {
  respond(JsonText(200, std::string(OpenApiDocument())));
}

void ListWorkflows(Context& ctx, const Call& call, Respond respond) {
  json items = json::array();
  for (const auto* d : ctx.seq.definitions().All()) items.push_back(DefinitionSummary(*d));
  respond(Json(200, {{"items", items}}));
}

void GetWorkflow(Context& ctx, const Call& call, Respond respond) {
  const auto& defs = ctx.seq.definitions();
  const std::string& id = call.segments[1];
  const engine::Definition* d = defs.Latest(id);
  if (auto v = call.target.query.find("version"); v != call.target.query.end()) {
    auto n = ParseCount(v->second);
    if (n && *n > UINT32_MAX) n.reset();  // a definition version is 32 bits: no wrap to 1
    if (!n) return respond(Problem(ErrorCode::kBadRequest, "version must be a whole number"));
    d = defs.Find(id, static_cast<std::uint32_t>(*n));
  }
  if (d == nullptr) return respond(Problem(ErrorCode::kNotFound, "no workflow " + id));
  respond(Json(200, d->document));
}

void ListOrganizations(Context& ctx, const Call& call, Respond respond) {
  std::string kind;
  if (auto it = call.target.query.find("type"); it != call.target.query.end()) kind = it->second;
  bool retired = false;
  if (auto it = call.target.query.find("include_retired"); it != call.target.query.end()) {
    if (it->second != "true" && it->second != "false")
      return respond(Problem(ErrorCode::kBadRequest, "include_retired is true or false"));
    retired = it->second == "true";
  }
  const engine::Directory& d = ctx.seq.directory();
  json items = json::array();
  for (const auto* o : d.Organizations(kind)) items.push_back(OrgJson(*o));
  if (retired) {
    // Retired ones are not listed as the registry stands; those asked for come after, by id.
    for (const auto& id : ctx.seq.RegistryIds(engine::kOrganizationsCollection)) {
      const auto* o = d.FindOrganization(id);
      if (o != nullptr && o->retired && (kind.empty() || o->kind == kind))
        items.push_back(OrgJson(*o));
    }
  }
  respond(Json(200, {{"items", items}}));
}

void ListGroups(Context& ctx, const Call& call, Respond respond) {
  const engine::Directory& d = ctx.seq.directory();
  json items = json::array();
  for (const auto* g : d.Groups()) items.push_back(GroupJson(d, *g));
  respond(Json(200, {{"items", items}}));
}

void GetGroup(Context& ctx, const Call& call, Respond respond) {
  const engine::Directory& d = ctx.seq.directory();
  const auto* g = d.FindGroup(call.segments[1]);
  if (g == nullptr) return respond(Problem(ErrorCode::kNotFound, "no group " + call.segments[1]));
  respond(Json(200, GroupJson(d, *g)));
}

void GetOrganization(Context& ctx, const Call& call, Respond respond) {
  const std::string& id = call.segments[1];
  const auto* o = ctx.seq.directory().FindOrganization(id);
  if (o == nullptr) return respond(Problem(ErrorCode::kNotFound, "no organisation " + id));
  respond(Json(200, OrgJson(*o)));
}

void ListRegions(Context& ctx, const Call& call, Respond respond) {
  json items = json::array();
  for (const auto& r : ctx.seq.directory().Regions()) {
    items.push_back({{"code", r.code},
                     {"name", r.name},
                     {"name_en", r.name_en},
                     {"federal_district", r.federal_district}});
  }
  respond(Json(200, {{"items", items}}));
}

}  // namespace expertflow::api::handlers
