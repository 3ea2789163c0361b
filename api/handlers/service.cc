#include <algorithm>

#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"
#include "api/webhooks.h"

namespace expertflow::api::handlers {

void Healthz(Context& ctx, const Call& call, Respond respond) {
  respond(Json(200, {{"status", "ok"}}));
}

void Readyz(Context& ctx, const Call& call, Respond respond) {
  if (!ctx.seq.Running())
    return respond(Problem(engine::ErrorCode::kUnavailable, "not accepting writes"));
  // After a failed write the store refuses writes until it takes one again (a full disk that
  // frees up; within a second, without waiting for a write) or, after a failed sync, until the
  // server is restarted: a load balancer should send writes elsewhere meanwhile.
  if (auto why = ctx.log.WritesRefused())
    return respond(Problem(engine::ErrorCode::kUnavailable, "writes are refused: " + *why));
  respond(Json(200, {{"status", "ready"}, {"head_seq", ctx.log.GetHead().seq}}));
}

void MetricsText(Context& ctx, const Call& call, Respond respond) {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  ServerFigures f;
  f.head_seq = ctx.log.GetHead().seq;
  f.sequencer = ctx.seq.Stats();
  f.writes_refused = !ctx.seq.Running() || ctx.log.WritesRefused().has_value();
  // Instance views are served from the sequencer's states, never behind; their stored copies
  // follow from checkpoints (what a start after a crash would replay); stage statistics
  // follow the log and catch up when asked.
  const std::uint64_t head = f.head_seq;
  f.projection_lag = {
      {"instance_views", 0},
      {"instance_views_stored", head - std::min(head, f.sequencer.views_checkpoint_seq)},
      {"stage_statistics", head - std::min(head, ctx.stages.checkpoint())}};
  f.stages = ctx.seq.StageLoads();
  r.body = ctx.metrics.Render(f);
  if (ctx.options.webhooks != nullptr) r.body += ctx.options.webhooks->MetricsText();
  respond(std::move(r));
}

}  // namespace expertflow::api::handlers
