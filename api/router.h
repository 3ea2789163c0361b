#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "api/http.h"
#include "api/metrics.h"
#include "api/tokens.h"
#include "engine/core/attachments.h"
#include "engine/core/clock.h"
#include "engine/core/embedded.h"
#include "engine/log/event_log.h"
#include "engine/runtime/checkpoints.h"
#include "engine/runtime/sequencer.h"

namespace expertflow::api {

// Where GET /api/v1/events/stream starts, and for whom.
struct EventStreamStart {
  std::uint64_t after = 0;
  engine::Principal principal;
};
class Webhooks;

struct RouterOptions {
  // Set when the server runs on a manual clock: enables POST /api/v1/admin/clock.
  engine::ManualClock* manual_clock = nullptr;
  // Runs slow read-only work (verify, export, statistics) away from the I/O threads, or answers
  // false (the work is not run) when too much of it is under way: the request gets 503 with
  // Retry-After. Inline when empty.
  std::function<bool(std::function<void()>)> offload;
  std::size_t max_body_bytes = 1 << 20;
  // The dashboard's files, served by GET at every path outside /api/ and the service routes
  // ("/" is index.html). None: those paths are 404 as before.
  std::span<const engine::EmbeddedFile> static_files;
  // The log's signed checkpoints (engine/runtime/checkpoints.h): /api/v1/log/... answers 404
  // without them.
  engine::Checkpoints* checkpoints = nullptr;
  // Makes an online backup (POST /api/v1/admin/backup) labelled `label` (may be empty) and
  // says what it holds: {"name", "path", "head_seq", "head_hash", "created_at"}. Unset: 404.
  std::function<engine::Result<nlohmann::json>(const std::string& label)> backup;
  // Webhook subscriptions and their delivery (api/webhooks.h): /api/v1/webhooks answers 404
  // without them.
  Webhooks* webhooks = nullptr;
  // Where attachments are kept (docs/attachments.md), and the largest taken (413 above):
  // /api/v1/attachments answers 404 without a store.
  engine::AttachmentStore* attachments = nullptr;
  std::uint64_t max_attachment_bytes = std::uint64_t{64} << 20;
};
class AttachmentSink;

// The REST API of API.md as a pure function of a request: it authenticates, authorises, checks
// the input, and hands commands to the sequencer; it knows nothing of sockets. A write answers
// through `respond` once the sequencer has made it durable, from the sequencer's thread.
class Router {
 public:
  Router(engine::Sequencer& sequencer, engine::EventLog& log, TokenStore& tokens, Metrics& metrics,
         RouterOptions options = {});
  ~Router();

  void Handle(HttpRequest request, Respond respond);

  // GET /api/v1/events/stream (Server-Sent Events) is served by the server itself, since it never
  // ends; the router decides who may open it and from where: the seq after which to start
  // (`after`, or `Last-Event-ID` when resuming; the head when neither is given) and who opened it,
  // or the refusal to answer with.
  engine::Result<EventStreamStart> OpenEventStream(const HttpRequest& request);
  // The next events `p` may see, formatted as SSE messages ("id", "event", "data"), and the last
  // seq looked at (`after` when there are none): events of instances `p` may not see are passed
  // over, so the seq can move on with no message.
  std::pair<std::string, std::uint64_t> NextEventMessages(const engine::Principal& p,
                                                          std::uint64_t after, std::size_t max);

  // POST /api/v1/attachments is streamed by the server into the store, not read whole first:
  // OpenUpload authenticates and decides from the request's head whether the body is taken at
  // all (api/attachments.h).
  engine::Result<std::unique_ptr<AttachmentSink>> OpenUpload(const HttpRequest& head);

  // The route template a request matched (for metrics and logs), e.g. "/api/v1/{c}/{id}".
  static std::string RouteOf(const HttpRequest& request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace expertflow::api
