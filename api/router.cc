#include "api/router.h"

#include <algorithm>

#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"
#include "api/request.h"
#include "api/routes.h"
#include "api/static_files.h"
#include "engine/projections/stage_stats.h"

namespace expertflow::api {

using engine::ErrorCode;
using nlohmann::json;

class Router::Impl {
 public:
  Impl(engine::Sequencer& sequencer, engine::EventLog& log, TokenStore& tokens, Metrics& metrics,
       RouterOptions options)
      : options_(std::move(options)),
        static_files_(options_.static_files),
        stages_(sequencer.definitions(), sequencer.directory()),
        ctx_{sequencer, log, tokens, metrics, options_, ids_, stages_} {
    // Stage statistics resume from their saved checkpoint; when there is none they replay the log
    // at the first query.
    (void)stages_.Load(log);
    if (!options_.offload) {
      options_.offload = [](std::function<void()> f) {
        f();
        return true;
      };
    }
  }

  void Handle(HttpRequest req, Respond respond) {
    Target target = ParseTarget(req.target);
    if (!target.ok)
      return respond(Problem(ErrorCode::kBadRequest, "the request target is not valid"));
    const auto& path = target.path;
    if (const Route* route = FindServiceRoute(req.method, path)) {
      const std::vector<std::string> segments = Segments(path);
      static const engine::Principal kNobody;
      static const json kNoBody = json::object();
      return route->handler(ctx_, {req, target, segments, kNobody, kNoBody}, std::move(respond));
    }
    if (!path.starts_with("/api/")) {
      // The page itself needs no token: it holds no data, and asks for one before any call.
      if (req.method == "GET" && !static_files_.empty())
        return respond(static_files_.Serve(path, req));
      return respond(Problem(ErrorCode::kNotFound, "no such route"));
    }
    if (!path.starts_with("/api/v1/"))
      return respond(Problem(ErrorCode::kNotFound, "no such route"));

    auto principal = Authenticate(ctx_.tokens, req);
    if (!principal) return respond(Problem(principal.error()));
    if (principal->role == "auditor" && IsWrite(req.method)) {
      return respond(Problem(ErrorCode::kForbidden, "auditors never write"));
    }
    json body = json::object();
    if (req.method == "POST") {
      if (req.body.size() > options_.max_body_bytes) {
        return respond(Problem(ErrorCode::kPayloadTooLarge, "the body is larger than 1 MiB"));
      }
      std::string_view type = req.Header("content-type");
      auto semi = type.find(';');
      std::string media(type.substr(0, semi));
      std::transform(media.begin(), media.end(), media.begin(), ::tolower);
      while (!media.empty() && media.back() == ' ') media.pop_back();
      if (media != "application/json") {
        return respond(
            Problem(ErrorCode::kUnsupportedMediaType, "send the body as application/json"));
      }
      auto parsed = ParseBody(req.body);
      if (!parsed) return respond(Problem(parsed.error()));
      body = std::move(*parsed);
    }
    auto seg = Segments(std::string_view(path).substr(8));
    for (const auto& s : seg) {
      if (!IsSafeId(s) && s != "openapi.json")
        return respond(Problem(ErrorCode::kNotFound, "no such route"));
    }
    Dispatch(req, target, seg, *principal, body, std::move(respond));
  }

  engine::Result<std::uint64_t> OpenEventStream(const HttpRequest& req) {
    return handlers::OpenEventStream(ctx_, req);
  }

  std::pair<std::string, std::uint64_t> NextEventMessages(std::uint64_t after, std::size_t max) {
    return handlers::NextEventMessages(ctx_, after, max);
  }

 private:
  bool IsCollection(std::string_view c) const {
    for (const auto* d : ctx_.seq.definitions().All()) {
      if (d->collection == c) return true;
    }
    return false;
  }

  void Dispatch(const HttpRequest& req, const Target& t, const std::vector<std::string>& seg,
                const engine::Principal& p, const json& body, Respond respond) {
    // Everything under /tokens is for admins, a path no route serves included: others learn
    // nothing of what is there.
    if (!seg.empty() && seg[0] == "tokens" && p.role != "admin")
      return respond(Problem(ErrorCode::kForbidden, "tokens are managed by admins"));
    const Route* route =
        FindApiRoute(req.method, seg, [this](std::string_view c) { return IsCollection(c); });
    if (route == nullptr) return respond(Problem(ErrorCode::kNotFound, "no such route"));
    route->handler(ctx_, {req, t, seg, p, body}, std::move(respond));
  }

  RouterOptions options_;
  StaticFiles static_files_;
  engine::RandomIdGenerator ids_;
  engine::StageStatistics stages_;
  handlers::Context ctx_;
};

Router::Router(engine::Sequencer& sequencer, engine::EventLog& log, TokenStore& tokens,
               Metrics& metrics, RouterOptions options)
    : impl_(std::make_unique<Impl>(sequencer, log, tokens, metrics, std::move(options))) {}

Router::~Router() = default;

void Router::Handle(HttpRequest request, Respond respond) {
  impl_->Handle(std::move(request), std::move(respond));
}

engine::Result<std::uint64_t> Router::OpenEventStream(const HttpRequest& request) {
  return impl_->OpenEventStream(request);
}

std::pair<std::string, std::uint64_t> Router::NextEventMessages(std::uint64_t after,
                                                                std::size_t max) {
  return impl_->NextEventMessages(after, max);
}

std::string Router::RouteOf(const HttpRequest& request) {
  return RouteTemplateOf(ParseTarget(request.target).path);
}

}  // namespace expertflow::api
