#include "api/webhooks.h"

#include <algorithm>
#include <array>

#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"

// Webhook subscriptions (docs/webhooks.md). The global admin manages those of every organisation;
// an organisation's lead manages its own organisation's.
namespace expertflow::api::handlers {
namespace {

using engine::ErrorCode;
using nlohmann::json;

// The roles that speak for their organisation: its head, chair or responsible official.
constexpr std::array<std::string_view, 7> kLeadRoles = {
    "umc_lead",          "fumo_chair", "rumo_chair",      "region_official",
    "ministry_official", "irpo_staff", "ftpo_coordinator"};

bool IsLead(std::string_view role) {
  return std::find(kLeadRoles.begin(), kLeadRoles.end(), role) != kLeadRoles.end();
}

bool MayManage(const engine::Principal& p, std::string_view org) {
  return p.role == "admin" || (IsLead(p.role) && p.org == org);
}

HttpResponse Invalid(const std::string& field, const std::string& message) {
  return Problem(engine::Error{ErrorCode::kValidationFailed,
                               field + " " + message,
                               {{"errors", {{{"field", field}, {"message", message}}}}}});
}

HttpResponse NoWebhook() { return Problem(ErrorCode::kNotFound, "no such webhook"); }

// A server that runs no webhooks (the router's tests) says so rather than "no such route".
HttpResponse NoWebhooks() { return Problem(ErrorCode::kNotFound, "this server runs no webhooks"); }

// The subscription a call names, when the caller may manage it; otherwise it does not exist.
std::optional<webhooks::Subscription> Named(Webhooks& hooks, const Call& call) {
  auto sub = hooks.Find(call.segments[1]);
  if (!sub || !MayManage(call.principal, sub->org)) return std::nullopt;
  return sub;
}

}  // namespace

void RegisterWebhook(Context& ctx, const Call& call, Respond respond) {
  Webhooks* hooks = ctx.options.webhooks;
  if (hooks == nullptr) return respond(NoWebhooks());
  const engine::Principal& p = call.principal;
  if (p.role != "admin" && !IsLead(p.role))
    return respond(Problem(ErrorCode::kForbidden,
                           "webhooks are registered by an admin or an organisation's lead"));
  const json& body = call.body;
  for (const auto& [k, v] : body.items()) {
    if (k != "url" && k != "kinds" && k != "deadline_days" && k != "org")
      return respond(Invalid(k, "is not a field of this request"));
  }
  if (!body.contains("url") || !body["url"].is_string())
    return respond(Invalid("url", "is required: an http:// URL"));
  if (!body.contains("kinds") || !body["kinds"].is_array() || body["kinds"].empty())
    return respond(Invalid("kinds",
                           "is required: a list of awaiting_you, deadline_soon, "
                           "overdue, state_changed"));
  std::vector<webhooks::Kind> kinds;
  for (const auto& k : body["kinds"]) {
    auto kind = k.is_string() ? webhooks::ParseKind(k.get<std::string>()) : std::nullopt;
    if (!kind)
      return respond(Invalid("kinds",
                             "holds one that is not awaiting_you, deadline_soon, overdue or "
                             "state_changed"));
    if (std::find(kinds.begin(), kinds.end(), *kind) != kinds.end())
      return respond(Invalid("kinds", "names one twice"));
    kinds.push_back(*kind);
  }
  std::uint32_t days = webhooks::kDefaultDeadlineDays;
  if (body.contains("deadline_days")) {
    const json& d = body["deadline_days"];
    if (!d.is_number_unsigned() || d.get<std::uint64_t>() < 1 ||
        d.get<std::uint64_t>() > webhooks::kMaxDeadlineDays)
      return respond(Invalid("deadline_days", "must be a whole number of days from 1 to 365"));
    days = static_cast<std::uint32_t>(d.get<std::uint64_t>());
  }
  std::string org = p.org;
  if (body.contains("org")) {
    if (!body["org"].is_string()) return respond(Invalid("org", "must be an organisation id"));
    org = body["org"].get<std::string>();
  } else if (p.role == "admin") {
    return respond(Invalid("org", "is required: the organisation the webhook serves"));
  }
  if (!MayManage(p, org))
    return respond(
        Problem(ErrorCode::kForbidden, "a lead registers webhooks for its own organisation only"));
  if (ctx.seq.directory().FindOrganization(org) == nullptr)
    return respond(Invalid("org", "is not a known organisation"));
  auto registered = hooks->Register(org, body["url"].get<std::string>(), std::move(kinds), days,
                                    p.token_id, ctx.seq.clock().Now());
  if (!registered) return respond(Problem(registered.error()));
  json out = webhooks::ToJson(registered->subscription);
  out["secret"] = registered->secret;
  HttpResponse r = Json(201, out);
  r.headers.emplace_back("Location", "/api/v1/webhooks/" + registered->subscription.id);
  respond(std::move(r));
}

void ListWebhooks(Context& ctx, const Call& call, Respond respond) {
  Webhooks* hooks = ctx.options.webhooks;
  if (hooks == nullptr) return respond(NoWebhooks());
  const engine::Principal& p = call.principal;
  if (p.role != "admin" && !IsLead(p.role))
    return respond(
        Problem(ErrorCode::kForbidden, "webhooks are read by an admin or an organisation's lead"));
  json items = json::array();
  for (const auto& sub : hooks->List()) {
    if (MayManage(p, sub.org)) items.push_back(webhooks::ToJson(sub));
  }
  respond(Json(200, {{"items", items}}));
}

void GetWebhook(Context& ctx, const Call& call, Respond respond) {
  Webhooks* hooks = ctx.options.webhooks;
  if (hooks == nullptr) return respond(NoWebhooks());
  auto sub = Named(*hooks, call);
  if (!sub) return respond(NoWebhook());
  json out = webhooks::ToJson(*sub);
  out["delivery"] = hooks->Status(sub->id);
  respond(Json(200, out));
}

void DeleteWebhook(Context& ctx, const Call& call, Respond respond) {
  Webhooks* hooks = ctx.options.webhooks;
  if (hooks == nullptr) return respond(NoWebhooks());
  auto sub = Named(*hooks, call);
  if (!sub) return respond(NoWebhook());
  if (auto r = hooks->Remove(sub->id); !r) return respond(Problem(r.error()));
  HttpResponse ok;
  ok.status = 204;
  ok.content_type.clear();
  respond(std::move(ok));
}

void WebhookDeliveries(Context& ctx, const Call& call, Respond respond) {
  Webhooks* hooks = ctx.options.webhooks;
  if (hooks == nullptr) return respond(NoWebhooks());
  auto sub = Named(*hooks, call);
  if (!sub) return respond(NoWebhook());
  auto limit = CountParam(call.target, "limit", kDefaultLimit);
  if (!limit || *limit == 0 || *limit > kMaxLimit)
    return respond(Problem(ErrorCode::kBadRequest, "limit must be 1 to 500"));
  auto items = hooks->Attempts(sub->id, *limit);
  if (!items) return respond(Problem(items.error()));
  respond(Json(200, {{"items", *items}, {"delivery", hooks->Status(sub->id)}}));
}

}  // namespace expertflow::api::handlers
