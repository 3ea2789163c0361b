#include <algorithm>
#include <optional>

#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"
#include "engine/core/hash.h"
#include "engine/model/registry_layer.h"
#include "engine/runtime/consolidation.h"
#include "engine/runtime/protocols.h"

namespace expertflow::api::handlers {
namespace {

using engine::ErrorCode;
using engine::Principal;
using nlohmann::json;

// Reads the Idempotency-Key header into `sub`; the error when the key is not one.
std::optional<engine::Error> IdempotencyOf(const HttpRequest& req, const Principal& p,
                                           engine::Submission& sub) {
  std::string_view key = req.Header("idempotency-key");
  if (key.empty()) return std::nullopt;
  if (key.size() > 200 ||
      !std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return engine::Error{ErrorCode::kBadRequest,
                         "Idempotency-Key must be 1 to 200 visible ASCII characters",
                         json::object()};
  }
  // Scoped to the principal: the same key from someone else is a different request.
  sub.idempotency_key = p.org + "|" + p.role + "|" + p.token_id + "|" + std::string(key);
  sub.request_digest =
      engine::ToHex(engine::Sha256(req.method + " " + req.target + "\n" + req.body));
  return std::nullopt;
}

// The creation that records an organisation's or a group's embedded version, for the first
// command on one the log has no instance of; nothing for other collections and unknown ids.
std::optional<engine::Submission> AdoptionOf(const engine::Directory& embedded,
                                             const std::string& c, const std::string& id,
                                             const Principal& p) {
  json payload;
  std::string workflow;
  if (c == engine::kOrganizationsCollection) {
    const engine::Organization* o = embedded.FindOrganization(id);
    if (o == nullptr) return std::nullopt;
    workflow = "organization";
    payload = {{"id", o->id}, {"kind", o->kind}, {"name", o->name}, {"embedded", true}};
    for (auto [key, value] :
         {std::pair{"name_en", &o->name_en}, std::pair{"region_code", &o->region_code},
          std::pair{"industry", &o->industry}, std::pair{"ugps", &o->ugps}}) {
      if (!value->empty()) payload[key] = *value;
    }
  } else if (c == engine::kGroupsCollection) {
    const engine::Group* g = embedded.FindGroup(id);
    if (g == nullptr) return std::nullopt;
    workflow = "group";
    payload = {{"id", g->id}, {"name", g->name}, {"members", g->members}, {"embedded", true}};
    if (!g->name_en.empty()) payload["name_en"] = g->name_en;
    if (g->provisional) payload["provisional"] = true;
  } else {
    return std::nullopt;
  }
  engine::Submission sub;
  sub.command.kind = engine::Command::Kind::kCreate;
  sub.command.collection = c;
  sub.command.instance_id = id;
  sub.command.workflow = workflow;
  sub.command.name = "create";
  sub.command.payload = std::move(payload);
  sub.command.actor = p;
  return sub;
}

// A command a definition marks "via": recorded only as part of another request.
std::optional<std::string> OnlyVia(const engine::Definition& def, const std::string& name) {
  auto commands = def.document.find("commands");
  if (commands == def.document.end() || !commands->is_array()) return std::nullopt;
  for (const auto& c : *commands) {
    if (c.value("name", "") == name && c.contains("via") && c["via"].is_string())
      return c["via"].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

void CreateInstance(Context& ctx, const Call& call, Respond respond) {
  const HttpRequest& req = call.request;
  const std::string& c = call.segments[0];
  const Principal& p = call.principal;
  const json& body = call.body;
  for (const auto& [k, v] : body.items()) {
    if (k != "workflow" && k != "payload") {
      return respond(Problem(engine::Error{
          ErrorCode::kValidationFailed,
          k + " is not a field",
          {{"errors", {{{"field", k}, {"message", "is not a field of this request"}}}}}}));
    }
  }
  if ((body.contains("workflow") && !body["workflow"].is_string()) ||
      (body.contains("payload") && !body["payload"].is_object())) {
    return respond(Problem(
        engine::Error{ErrorCode::kValidationFailed,
                      "workflow is a string and payload an object",
                      {{"errors", {{{"field", "payload"}, {"message", "must be an object"}}}}}}));
  }
  engine::Submission sub;
  sub.command.kind = engine::Command::Kind::kCreate;
  sub.command.collection = c;
  sub.command.workflow = body.value("workflow", "");
  sub.command.name = "create";
  sub.command.payload = body.value("payload", json::object());
  sub.command.actor = p;
  const engine::Definition* def =
      sub.command.workflow.empty() ? nullptr : ctx.seq.definitions().Latest(sub.command.workflow);
  if (def == nullptr && sub.command.workflow.empty()) {
    auto list = ctx.seq.definitions().InCollection(c);
    if (list.size() == 1) def = list.front();
  }
  if (def != nullptr && def->document.contains("create_via")) {
    return respond(
        Problem(ErrorCode::kForbidden, def->id + " instances are created through POST /api/v1/" +
                                           def->document["create_via"].get<std::string>()));
  }
  if (auto e = IdempotencyOf(req, p, sub)) return respond(Problem(*e));
  // A proposal that consolidates positions is written with them, or not at all.
  auto group = engine::PlanConsolidation(ctx.seq, def, std::move(sub), ctx.ids);
  if (!group) return respond(Problem(group.error()));
  auto answer = [&ctx, p](Respond& respond, const engine::CommandResult& r) {
    HttpResponse out = Json(201, View(ctx, r.instance, p));
    out.headers.emplace_back("Location", "/api/v1/" + r.instance.collection + "/" + r.instance.id);
    out.headers.emplace_back("ETag", "\"" + std::to_string(r.version) + "\"");
    respond(std::move(out));
  };
  if (group->size() > 1) {
    return ctx.seq.SubmitGroup(std::move(*group),
                               [answer, respond = std::move(respond)](
                                   engine::Result<std::vector<engine::CommandResult>> r) mutable {
                                 if (!r) return respond(Problem(r.error()));
                                 answer(respond, r->front());  // the creation comes first
                               });
  }
  ctx.seq.Submit(std::move(group->front()), [answer, respond = std::move(respond)](
                                                engine::Result<engine::CommandResult> r) mutable {
    if (!r) return respond(Problem(r.error()));
    answer(respond, *r);
  });
}

void Act(Context& ctx, const Call& call, Respond respond) {
  const HttpRequest& req = call.request;
  const std::string& c = call.segments[0];
  const std::string& id = call.segments[1];
  const Principal& p = call.principal;
  const json& body = call.body;
  bool visible = false;
  const engine::Definition* def = nullptr;
  const bool exists = ctx.seq.Inspect(c, id, [&](const engine::InstanceState& s) {
    visible = engine::CanSee(s, p);
    def = ctx.seq.definitions().Find(s.workflow, s.workflow_version);
  });
  // The first change to an organisation or group of the compiled-in registry records its
  // embedded version first, in the same write.
  std::optional<engine::Submission> adopt;
  if (!exists) adopt = AdoptionOf(ctx.seq.embedded_directory(), c, id, p);
  if (!visible && !adopt) return respond(Problem(ErrorCode::kNotFound, "no " + c + "/" + id));
  std::vector<engine::FieldError> errors;
  for (const auto& [k, v] : body.items()) {
    if (k != "command" && k != "expected_version" && k != "payload")
      errors.push_back({k, "is not a field of this request"});
  }
  if (!body.contains("command") || !body["command"].is_string() ||
      body["command"].get<std::string>().empty()) {
    errors.push_back({"command", "is required (a command name)"});
  }
  if (body.contains("payload") && !body["payload"].is_object())
    errors.push_back({"payload", "must be an object"});
  std::optional<std::uint64_t> expected;
  if (body.contains("expected_version")) {
    if (!body["expected_version"].is_number_unsigned()) {
      errors.push_back({"expected_version", "must be a whole number"});
    } else {
      expected = body["expected_version"].get<std::uint64_t>();
    }
  }
  if (!errors.empty()) {
    json list = json::array();
    for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
    return respond(Problem(engine::Error{ErrorCode::kValidationFailed,
                                         errors[0].field + " " + errors[0].message,
                                         {{"errors", list}}}));
  }
  if (std::string_view if_match = req.Header("if-match"); !if_match.empty()) {
    std::string_view v = if_match;
    if (v.starts_with("W/")) v.remove_prefix(2);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    auto n = ParseCount(v);
    if (!n) return respond(Problem(ErrorCode::kBadRequest, "If-Match must be an ETag like \"3\""));
    if (expected && *expected != *n) {
      return respond(Problem(ErrorCode::kBadRequest, "If-Match and expected_version disagree"));
    }
    expected = *n;
  }
  if (def != nullptr) {
    if (auto via = OnlyVia(*def, body["command"].get<std::string>())) {
      return respond(Problem(ErrorCode::kForbidden,
                             body["command"].get<std::string>() +
                                 " is recorded by the request that does it: POST /api/v1/" + *via));
    }
  }
  engine::Submission sub;
  sub.command.kind = engine::Command::Kind::kAct;
  sub.command.collection = c;
  sub.command.instance_id = id;
  sub.command.name = body["command"].get<std::string>();
  sub.command.payload = body.value("payload", json::object());
  sub.command.expected_version = expected;
  sub.command.actor = p;
  auto answer = [](Respond& respond, const engine::CommandResult& r) {
    std::string body =
        "{\"id\":" + json(r.instance.id).dump() + ",\"version\":" + std::to_string(r.version) +
        ",\"state\":" + json(r.state).dump() + ",\"events\":" + EventsArray(r.events) + "}";
    HttpResponse out = JsonText(200, std::move(body));
    out.headers.emplace_back("ETag", "\"" + std::to_string(r.version) + "\"");
    respond(std::move(out));
  };
  if (adopt) {
    // The embedded version is version 0 to the client: the adopted one is 1.
    if (sub.command.expected_version == 0) sub.command.expected_version = 1;
    // The key goes with the change, not the adoption: its record names the change's events, and
    // a repeat (the instance exists by then) is answered from it as any command's is.
    if (auto e = IdempotencyOf(req, p, sub)) return respond(Problem(*e));
    std::vector<engine::Submission> group;
    group.push_back(std::move(*adopt));
    group.push_back(std::move(sub));
    return ctx.seq.SubmitGroup(std::move(group),
                               [answer, respond = std::move(respond)](
                                   engine::Result<std::vector<engine::CommandResult>> r) mutable {
                                 if (!r) return respond(Problem(r.error()));
                                 std::vector<engine::CommandResult> results = std::move(*r);
                                 if (results.size() != 2)
                                   return respond(Problem(ErrorCode::kInternal, "no result"));
                                 answer(respond, results.back());
                               });
  }
  if (auto e = IdempotencyOf(req, p, sub)) return respond(Problem(*e));
  ctx.seq.Submit(std::move(sub), [answer, respond = std::move(respond)](
                                     engine::Result<engine::CommandResult> r) mutable {
    if (!r) return respond(Problem(r.error()));
    answer(respond, *r);
  });
}

// POST /api/v1/protocols: the protocol and one assignment per decision and assignee, created
// together or not at all (API.md, Protocols).
void CreateProtocol(Context& ctx, const Call& call, Respond respond) {
  const Principal& p = call.principal;
  const json& body = call.body;
  if (p.role != "ministry_official" && p.role != "irpo_staff") {
    return respond(
        Problem(ErrorCode::kForbidden, "protocols are registered by the ministry or IRPO"));
  }
  auto plan = engine::PlanProtocol(body, p, ctx.seq.directory(), ctx.ids);
  if (!plan) return respond(Problem(plan.error()));
  // The key stands for the whole registration: a retry answers the protocol registered first.
  if (auto e = IdempotencyOf(call.request, p, plan->group.front())) return respond(Problem(*e));
  ctx.seq.SubmitGroup(
      std::move(plan->group),
      [respond = std::move(respond)](engine::Result<std::vector<engine::CommandResult>> r) {
        if (!r) return respond(Problem(r.error()));
        // The protocol comes first in its group and lists its assignments.
        const engine::InstanceState& protocol = r->front().instance;
        HttpResponse out =
            Json(201, {{"id", protocol.id},
                       {"number", protocol.fields.value("number", json())},
                       {"assignments", protocol.fields.value("assignments", json::array())}});
        out.headers.emplace_back("Location", "/api/v1/protocols/" + protocol.id);
        respond(std::move(out));
      });
}

}  // namespace expertflow::api::handlers
