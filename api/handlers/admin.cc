#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"

// Only admins reach the token handlers: the router refuses everyone else anything under /tokens.
namespace expertflow::api::handlers {

using engine::ErrorCode;
using nlohmann::json;

void IssueToken(Context& ctx, const Call& call, Respond respond) {
  const json& body = call.body;
  for (const auto& [k, v] : body.items()) {
    if (k != "org" && k != "role" && k != "name") {
      return respond(Problem(engine::Error{
          ErrorCode::kValidationFailed,
          k + " is not a field",
          {{"errors", {{{"field", k}, {"message", "is not a field of this request"}}}}}}));
    }
  }
  if (!body.contains("org") || !body["org"].is_string() || !body.contains("role") ||
      !body["role"].is_string() || (body.contains("name") && !body["name"].is_string())) {
    return respond(Problem(engine::Error{
        ErrorCode::kValidationFailed,
        "org and role are required strings",
        {{"errors", {{{"field", "org"}, {"message", "org and role are required strings"}}}}}}));
  }
  auto issued = ctx.tokens.Issue(body["org"].get<std::string>(), body["role"].get<std::string>(),
                                 body.value("name", ""), ctx.seq.clock().Now());
  if (!issued) return respond(Problem(issued.error()));
  respond(Json(201, {{"id", issued->record.id},
                     {"token", issued->token},
                     {"org", issued->record.org},
                     {"role", issued->record.role},
                     {"name", issued->record.name}}));
}

void ListTokens(Context& ctx, const Call& call, Respond respond) {
  auto list = ctx.tokens.List();
  if (!list) return respond(Problem(list.error()));
  json items = json::array();
  for (const auto& r : *list) {
    items.push_back({{"id", r.id},
                     {"org", r.org},
                     {"role", r.role},
                     {"name", r.name},
                     {"created_at", r.created_at},
                     {"revoked", r.revoked}});
  }
  respond(Json(200, {{"items", items}}));
}

void RevokeToken(Context& ctx, const Call& call, Respond respond) {
  auto r = ctx.tokens.Revoke(call.segments[1]);
  if (!r) return respond(Problem(r.error()));
  HttpResponse ok;
  ok.status = 204;
  ok.content_type.clear();
  respond(std::move(ok));
}

void MoveClock(Context& ctx, const Call& call, Respond respond) {
  if (ctx.options.manual_clock == nullptr)
    return respond(Problem(ErrorCode::kNotFound, "no such route"));
  if (call.principal.role != "admin")
    return respond(Problem(ErrorCode::kForbidden, "the clock is moved by admins"));
  engine::ManualClock& clock = *ctx.options.manual_clock;
  const json& body = call.body;
  auto invalid = [&](std::string field, std::string message) {
    respond(Problem(engine::Error{ErrorCode::kValidationFailed,
                                  field + " " + message,
                                  {{"errors", {{{"field", field}, {"message", message}}}}}}));
  };
  if (body.size() != 1 || !(body.contains("advance") || body.contains("set"))) {
    return invalid("advance", "give exactly one of advance (P31D) or set (an RFC 3339 time)");
  }
  if (body.contains("advance")) {
    auto d = body["advance"].is_string()
                 ? engine::ParseIsoDuration(body["advance"].get<std::string>())
                 : std::nullopt;
    if (!d) return invalid("advance", "must be a duration like P31D or PT12H");
    if (*d > engine::kLastRecordableTime - clock.Now())
      return invalid("advance", "would pass 9999-12-31T23:59:59Z, which no record can hold");
    clock.Advance(*d);
  } else {
    auto t = body["set"].is_string() ? engine::ParseRfc3339(body["set"].get<std::string>())
                                     : std::nullopt;
    if (!t) return invalid("set", "must be an RFC 3339 time");
    if (*t < clock.Now()) return invalid("set", "must not move time backwards");
    if (*t > engine::kLastRecordableTime)
      return invalid("set", "must not pass 9999-12-31T23:59:59Z, which no record can hold");
    clock.Set(*t);
  }
  ctx.seq.FireDueTimers([&ctx, respond = std::move(respond)](engine::Result<std::uint64_t> fired) {
    if (!fired) return respond(Problem(fired.error()));
    respond(Json(200, {{"now", engine::FormatRfc3339(ctx.seq.clock().Now())}, {"fired", *fired}}));
  });
}

// POST /api/v1/admin/backup {"label"?}: a consistent copy of the running store (issue 20), made
// by the server (a RocksDB checkpoint: hard links where it can, so it is quick and small) in its
// backup folder, with the log's signing key. Tokens are in the store, so they are in the copy.
// Admins only; one at a time; away from the I/O threads (it flushes the memtables).
void MakeBackup(Context& ctx, const Call& call, Respond respond) {
  // A server without a store on disk (the in-memory log of the tests) has nothing to copy.
  if (!ctx.options.backup)
    return respond(Problem(ErrorCode::kNotFound, "this server keeps no store to back up"));
  if (call.principal.role != "admin")
    return respond(Problem(ErrorCode::kForbidden, "backups are made by admins"));
  const auto invalid = [&](const std::string& field, const std::string& message) {
    respond(Problem(engine::Error{ErrorCode::kValidationFailed,
                                  field + " " + message,
                                  {{"errors", {{{"field", field}, {"message", message}}}}}}));
  };
  std::string label;
  for (const auto& [k, v] : call.body.items()) {
    if (k != "label") return invalid(k, "is not a field of a backup request");
    if (!v.is_string() || v.get<std::string>().size() > 64 || !IsSafeId(v.get<std::string>()))
      return invalid("label", "must be 1 to 64 letters, digits, '.', '_' or '-'");
    label = v.get<std::string>();
  }
  Offload(ctx, std::move(respond), [&ctx, label](Respond respond) {
    auto made = ctx.options.backup(label);
    if (!made) return respond(Problem(made.error()));
    respond(Json(201, *made));
  });
}

}  // namespace expertflow::api::handlers
