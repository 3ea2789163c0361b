#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/http.h"
#include "api/metrics.h"
#include "api/tokens.h"
#include "engine/clock.h"
#include "engine/event_log.h"
#include "engine/sequencer.h"

namespace expertflow::api {

struct RouterOptions {
  // Set when the server runs on a manual clock: enables POST /api/v1/admin/clock.
  engine::ManualClock* manual_clock = nullptr;
  // Runs slow read-only work (verify, export) away from the I/O threads. Inline when empty.
  std::function<void(std::function<void()>)> offload;
  std::size_t max_body_bytes = 1 << 20;
};

// The REST API of API.md as a pure function of a request: it authenticates, authorises, checks
// the input, and hands commands to the sequencer; it knows nothing of sockets. A write answers
// through `respond` once the sequencer has made it durable, from the sequencer's thread.
class Router {
 public:
  Router(engine::Sequencer& sequencer, engine::EventLog& log, TokenStore& tokens,
         Metrics& metrics, RouterOptions options = {});
  ~Router();

  void Handle(HttpRequest request, Respond respond);

  // The route template a request matched (for metrics and logs), e.g. "/api/v1/{c}/{id}".
  static std::string RouteOf(const HttpRequest& request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace expertflow::api
