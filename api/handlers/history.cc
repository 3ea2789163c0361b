#include <algorithm>
#include <map>
#include <optional>

#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"
#include "engine/decide/policy.h"
#include "engine/projections/attachment_refs.h"

namespace expertflow::api::handlers {

using engine::ErrorCode;
using engine::Principal;
using nlohmann::json;

void Offload(Context& ctx, Respond respond, std::function<void(Respond)> work) {
  auto shared = std::make_shared<Respond>(std::move(respond));
  if (ctx.options.offload([shared, work = std::move(work)] { work(std::move(*shared)); })) return;
  HttpResponse busy = Problem(ErrorCode::kUnavailable,
                              "too many verifications, exports and statistics are under way; "
                              "retry in a moment");
  busy.headers.emplace_back("Retry-After", "1");
  (*shared)(std::move(busy));
}

namespace {

// ?proofs=true: each event with its inclusion proof against the latest checkpoint, which the
// answer carries ("checkpoint", the signed note): whoever may see the instance can prove its
// history is in the log the witnesses cosigned. Each event carries its exact "record" (the
// leaf: LeafHash(record) is what the proof starts from). Events after the checkpoint have
// "inclusion": null until the next one.
HttpResponse WithInclusionProofs(const Context& ctx, const std::vector<engine::StoredEvent>& events,
                                 const std::string& next) {
  if (ctx.options.checkpoints == nullptr || ctx.log.Tree() == nullptr)
    return Problem(ErrorCode::kNotFound, "this server keeps no signed checkpoints");
  auto latest = ctx.options.checkpoints->Latest();
  if (!latest) return Problem(latest.error());
  json items = json::parse(EventsArray(events));
  const std::uint64_t size = *latest ? (*latest)->size : 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::uint64_t seq = events[i].seq;
    // The exact bytes of the leaf, so that the caller hashes them itself.
    items[i]["record"] = events[i].record;
    if (seq > size) {
      items[i]["inclusion"] = nullptr;
      continue;
    }
    auto proof = ctx.log.Tree()->Inclusion(seq - 1, size);
    if (!proof) return Problem(proof.error());
    json hashes = json::array();
    for (const engine::Hash& h : *proof) hashes.push_back(engine::ToHex(h));
    items[i]["inclusion"] = {{"tree_size", size}, {"leaf_index", seq - 1}, {"proof", hashes}};
  }
  json body = {{"events", std::move(items)},
               {"next_after", json::parse(next)},
               {"checkpoint", *latest ? json((*latest)->note) : json(nullptr)}};
  return Json(200, body);
}

}  // namespace

// GET /api/v1/{c}/{id}/events[?after=VERSION&limit=N]: the history, oldest first, a page of at
// most kMaxHistory events at a time, with `next_after` the version to go on after (null at the
// end). A page is what an I/O thread builds, however long the history grew.
void InstanceEvents(Context& ctx, const Call& call, Respond respond) {
  const std::string& c = call.segments[0];
  const std::string& id = call.segments[1];
  const Principal& p = call.principal;
  const Target& t = call.target;
  auto s = ctx.seq.Find(c, id);
  if (!s || !engine::CanSee(*s, p))
    return respond(Problem(ErrorCode::kNotFound, "no " + c + "/" + id));
  auto after = CountParam(t, "after", 0);
  auto limit = CountParam(t, "limit", kMaxHistory);
  if (!after || !limit || *limit == 0 || *limit > kMaxHistory) {
    return respond(Problem(ErrorCode::kBadRequest, "after must be a version and limit 1 to " +
                                                       std::to_string(kMaxHistory)));
  }
  const std::uint64_t to = std::min<std::uint64_t>(s->version, *after + *limit);
  std::vector<engine::StoredEvent> events;
  if (*after < to) {
    auto page = ctx.log.ReadStream(s->Stream(), *after + 1, to - *after);
    if (!page) return respond(Problem(page.error()));
    events = std::move(*page);
  }
  const std::string next = to < s->version ? std::to_string(to) : "null";
  if (auto proofs = t.query.find("proofs"); proofs != t.query.end() && proofs->second == "true")
    return respond(WithInclusionProofs(ctx, events, next));
  respond(JsonText(200, "{\"events\":" + EventsArray(events) + ",\"next_after\":" + next + "}"));
}

// GET /api/v1/{c}/{id}/verify: the chain where this instance's events sit. Each of its events
// is recomputed from its stored record and the stored hash of the event before it in the one
// log (which belongs to any instance), so a changed, removed or re-linked event of this
// instance shows here without reading the whole log as /audit/verify does.
void InstanceVerify(Context& ctx, const Call& call, Respond respond) {
  const std::string& c = call.segments[0];
  const std::string& id = call.segments[1];
  const Principal& p = call.principal;
  auto s = ctx.seq.Find(c, id);
  if (!s || !engine::CanSee(*s, p))
    return respond(Problem(ErrorCode::kNotFound, "no " + c + "/" + id));
  Offload(ctx, std::move(respond),
          [&ctx, stream = s->Stream(), version = s->version](Respond respond) {
            // A page of the stream at a time: memory does not grow with the history.
            std::uint64_t checked = 0, last = 0;
            for (std::uint64_t from = 1; from <= version; from += kMaxHistory) {
              auto events = ctx.log.ReadStream(
                  stream, from, std::min<std::uint64_t>(kMaxHistory, version - from + 1));
              if (!events) return respond(Problem(events.error()));
              for (const auto& e : *events) {
                auto v = engine::Verify(ctx.log, e.seq, e.seq);
                if (!v) return respond(Problem(v.error()));
                if (!v->ok) {
                  return respond(Json(200, {{"ok", false},
                                            {"checked", checked},
                                            {"first_bad_seq", v->first_bad_seq},
                                            {"reason", v->reason}}));
                }
                ++checked;
                last = e.seq;
              }
            }
            respond(Json(200, {{"ok", true}, {"checked", checked}, {"last_seq", last}}));
          });
}

namespace {

// Whether `p` may see the event `record`: everything for those who see the whole log; for the
// others, the events of the instances they may see now (engine::CanSee), nothing else (tokens,
// checkpoints). Visibility is the instance's as it stands, so a participant added later sees
// the instance's earlier events too, as GET /{c}/{id}/events shows them.
class FeedFilter {
 public:
  FeedFilter(const Context& ctx, const Principal& p)
      : ctx_(ctx), p_(p), everything_(engine::SeesEverything(p)) {}

  bool Sees(std::string_view record) {
    if (everything_) return true;
    auto view = reader_.Read(record);
    if (!view) return false;
    const std::string_view stream = view->stream;
    if (auto known = seen_.find(stream); known != seen_.end()) return known->second;
    const auto slash = stream.find('/');
    bool sees = false;
    if (slash != std::string_view::npos) {
      auto s = ctx_.seq.Find(stream.substr(0, slash), stream.substr(slash + 1));
      sees = s && engine::CanSee(*s, p_);
    }
    seen_.emplace(std::string(stream), sees);
    return sees;
  }

 private:
  const Context& ctx_;
  const Principal& p_;
  const bool everything_;
  engine::RecordReader reader_;
  std::map<std::string, bool, std::less<>> seen_;
};

}  // namespace

// GET /api/v1/events[?after=SEQ&limit=N]: the log after `after`, for everyone: those who see the
// whole log get every event, the others the events of the instances they may see (issue 20).
// `limit` bounds the events looked at, so a page may hold fewer, even none; `next_after` is the
// seq to go on after (the last looked at), `head` the log's head.
void GlobalEvents(Context& ctx, const Call& call, Respond respond) {
  const Target& t = call.target;
  const Principal& p = call.principal;
  auto after = CountParam(t, "after", 0);
  auto limit = CountParam(t, "limit", 100);
  if (!after || !limit || *limit == 0 || *limit > kMaxLimit) {
    return respond(Problem(ErrorCode::kBadRequest, "after must be a seq and limit 1 to 500"));
  }
  auto events = ctx.log.ReadAll(*after + 1, *limit);
  if (!events) return respond(Problem(events.error()));
  const std::uint64_t next = events->empty() ? *after : events->back().seq;
  FeedFilter filter(ctx, p);
  std::erase_if(*events, [&](const engine::StoredEvent& e) { return !filter.Sees(e.record); });
  const std::uint64_t head = ctx.log.GetHead().seq;
  HttpResponse r =
      JsonText(200, "{\"events\":" + EventsArray(*events) + ",\"head\":" + std::to_string(head) +
                        ",\"next_after\":" + std::to_string(next) + "}");
  if (next < head) r.headers.emplace_back("Link", NextLink(t, "after", std::to_string(next)));
  respond(std::move(r));
}

void EventStream(Context& ctx, const Call& call, Respond respond) {
  // The server streams this route itself; asked through the router (tests, a proxy that
  // buffers), it answers what is there now as one finite text/event-stream body.
  auto opened = OpenEventStream(ctx, call.request);
  if (!opened) return respond(Problem(opened.error()));
  HttpResponse r;
  r.content_type = "text/event-stream";
  r.body = NextEventMessages(ctx, opened->principal, opened->after, kMaxLimit).first;
  respond(std::move(r));
}

namespace {

// One line of the export: {"seq","hash","record"}, the record as the chain hashed it.
void AppendExportLine(std::uint64_t seq, const engine::Hash& hash, std::string_view record,
                      std::string& out) {
  out +=
      "{\"seq\":" + std::to_string(seq) + ",\"hash\":\"" + engine::ToHex(hash) + "\",\"record\":";
  engine::AppendJsonString(record, out);
  out += "}\n";
}

// Events in a piece of the streamed export: a few hundred KiB held per reader, however slow.
constexpr std::uint64_t kExportPiece = 512;

}  // namespace

// GET /api/v1/audit/export[?after=SEQ&limit=N]. With a limit, one page (at most kMaxExport
// events), built away from the I/O threads. Without one, the whole log after `after` up to the
// head as it stood when the request came (X-Head-Seq), streamed chunked a piece at a time: the
// events are immutable, so the pieces read later are the same export as a snapshot. The token is
// checked again before each piece, as the event stream does: a revoked token's export is cut off.
void AuditExport(Context& ctx, const Call& call, Respond respond) {
  const Target& t = call.target;
  const Principal& p = call.principal;
  if (!engine::SeesEverything(p))
    return respond(
        Problem(ErrorCode::kForbidden, "the export is for irpo, ministry, auditors and admins"));
  auto after = CountParam(t, "after", 0);
  const bool paged = t.query.contains("limit");
  auto limit = CountParam(t, "limit", kMaxExport);
  if (!after || !limit || *limit == 0 || *limit > kMaxExport) {
    return respond(Problem(ErrorCode::kBadRequest, "after must be a seq and limit 1 to 100000"));
  }
  const std::uint64_t head = ctx.log.GetHead().seq;
  if (!paged) {
    HttpResponse r;
    r.content_type = "application/x-ndjson";
    r.headers.emplace_back("X-Head-Seq", std::to_string(head));
    HttpRequest credentials;
    if (auto a = call.request.Header("authorization"); !a.empty())
      credentials.headers.emplace("authorization", std::string(a));
    r.pieces = [&ctx, credentials = std::move(credentials), next = *after + 1,
                head]() mutable -> engine::Result<std::string> {
      std::string piece;
      if (next > head) return piece;  // the end
      if (auto still = Authenticate(ctx.tokens, credentials); !still)
        return std::unexpected(still.error());
      const std::uint64_t last = std::min(head, next + kExportPiece - 1);
      auto ok = ctx.log.ForEachUncached(
          next, last, [&](std::uint64_t seq, const engine::Hash& hash, std::string_view record) {
            AppendExportLine(seq, hash, record, piece);
            return true;
          });
      if (!ok) return std::unexpected(ok.error());
      next = last + 1;
      return piece;
    };
    return respond(std::move(r));
  }
  Offload(ctx, std::move(respond), [&ctx, after = *after, limit = *limit, head](Respond respond) {
    HttpResponse r;
    r.content_type = "application/x-ndjson";
    auto ok =
        ctx.log.ForEach(after + 1, std::min<std::uint64_t>(head, after + limit),
                        [&](std::uint64_t seq, const engine::Hash& hash, std::string_view record) {
                          AppendExportLine(seq, hash, record, r.body);
                          return true;
                        });
    if (!ok) return respond(Problem(ok.error()));
    r.headers.emplace_back("X-Head-Seq", std::to_string(head));
    respond(std::move(r));
  });
}

void AuditVerify(Context& ctx, const Call& call, Respond respond) {
  const Principal& p = call.principal;
  if (!engine::SeesEverything(p))
    return respond(
        Problem(ErrorCode::kForbidden, "verification is for irpo, ministry, auditors and admins"));
  Offload(ctx, std::move(respond), [&ctx](Respond respond) {
    auto v = engine::Verify(ctx.log);
    if (!v) return respond(Problem(v.error()));
    // "tree": the Merkle tree and every signed checkpoint recomputed from the records
    // (docs/audit.md); `ok` is false when either the chain or the tree does not hold.
    json tree = nullptr;
    bool tree_ok = true;
    if (ctx.options.checkpoints != nullptr) {
      auto proofs = engine::VerifyProofs(
          ctx.log, engine::note::ParseVerifierKey(ctx.options.checkpoints->VerifierKey()).value());
      if (!proofs) return respond(Problem(proofs.error()));
      tree_ok = proofs->ok;
      tree = {
          {"ok", proofs->ok}, {"size", proofs->tree_size}, {"checkpoints", proofs->checkpoints}};
      if (!proofs->ok) tree["reason"] = proofs->reason;
    }
    // "attachments": every file the events reference, re-hashed (issue 18): one missing or
    // whose bytes hash to something else is named with the first event that references it.
    json attachments = nullptr;
    bool attachments_ok = true;
    if (ctx.options.attachments != nullptr) {
      if (auto r = ctx.attachment_refs.CatchUp(ctx.log); !r) return respond(Problem(r.error()));
      const engine::AttachmentCheck check =
          engine::CheckAttachments(ctx.attachment_refs, *ctx.options.attachments);
      attachments_ok = check.ok();
      json problems = json::array();
      for (const auto& p : check.problems)
        problems.push_back({{"sha256", p.sha256}, {"first_seq", p.first_seq}, {"what", p.what}});
      attachments = {{"ok", check.ok()}, {"checked", check.checked}, {"problems", problems}};
    }
    if (v->ok) {
      return respond(Json(200, {{"ok", tree_ok && attachments_ok},
                                {"checked", v->checked},
                                {"head_seq", v->head.seq},
                                {"head_hash", engine::ToHex(v->head.hash)},
                                {"tree", tree},
                                {"attachments", attachments}}));
    }
    respond(Json(200, {{"ok", false},
                       {"checked", v->checked},
                       {"first_bad_seq", v->first_bad_seq},
                       {"reason", v->reason},
                       {"tree", tree},
                       {"attachments", attachments}}));
  });
}

// The stream is open to every principal, filtered as GET /events is. Without `after` or
// Last-Event-ID it starts at the head: what happens from now on (issue 20).
engine::Result<EventStreamStart> OpenEventStream(Context& ctx, const HttpRequest& req) {
  Target t = ParseTarget(req.target);
  if (!t.ok) return engine::Fail(ErrorCode::kBadRequest, "the request target is not valid");
  auto p = Authenticate(ctx.tokens, req);
  if (!p) return std::unexpected(p.error());
  std::optional<std::string> from;
  if (auto a = t.query.find("after"); a != t.query.end()) from = a->second;
  if (std::string_view last = req.Header("last-event-id"); !last.empty()) from = std::string(last);
  if (!from) return EventStreamStart{ctx.log.GetHead().seq, std::move(*p)};
  auto after = ParseCount(*from);
  if (!after) return engine::Fail(ErrorCode::kBadRequest, "after and Last-Event-ID must be a seq");
  return EventStreamStart{*after, std::move(*p)};
}

std::pair<std::string, std::uint64_t> NextEventMessages(Context& ctx, const Principal& p,
                                                        std::uint64_t after, std::size_t max) {
  std::string out;
  std::uint64_t last = after;
  const std::uint64_t head = ctx.log.GetHead().seq;
  if (head <= after) return {out, last};
  FeedFilter filter(ctx, p);
  (void)ctx.log.ForEach(
      after + 1, std::min<std::uint64_t>(head, after + max),
      [&](std::uint64_t seq, const engine::Hash& hash, std::string_view record) {
        last = seq;
        if (!filter.Sees(record)) return true;
        auto type = engine::RecordType(record);
        out += "id: " + std::to_string(seq) + "\nevent: ";
        out += type;
        out += "\ndata: ";
        out += engine::EventJsonText(engine::StoredEvent{seq, hash, std::string(record)});
        out += "\n\n";
        return true;
      });
  return {out, last};
}

}  // namespace expertflow::api::handlers
