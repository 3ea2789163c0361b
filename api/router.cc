#include "api/router.h"

#include <algorithm>

#include "api/attachments.h"
#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"
#include "api/request.h"
#include "api/routes.h"
#include "api/static_files.h"
#include "engine/core/hash.h"
#include "engine/projections/attachment_refs.h"
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
        ctx_{sequencer, log, tokens, metrics, options_, ids_, stages_, attachment_refs_} {
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
    if (std::string allow = ServiceMethodsOf(path); !allow.empty())
      return respond(MethodNotAllowed(req.method, std::move(allow)));
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
    // An attachment's body is the file itself, of any type and up to its own limit.
    if (req.method == "POST" && path == "/api/v1/attachments") {
      static const json kNoBody = json::object();
      const std::vector<std::string> segments = {"attachments"};
      return handlers::UploadAttachment(ctx_, {req, target, segments, *principal, kNoBody},
                                        std::move(respond));
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
      if (!IsSafeId(s)) return respond(Problem(ErrorCode::kNotFound, "no such route"));
    }
    Dispatch(req, target, seg, *principal, body, std::move(respond));
  }

  engine::Result<EventStreamStart> OpenEventStream(const HttpRequest& req) {
    return handlers::OpenEventStream(ctx_, req);
  }

  engine::Result<std::unique_ptr<AttachmentSink>> OpenUpload(const HttpRequest& req) {
    auto principal = Authenticate(ctx_.tokens, req);
    if (!principal) return std::unexpected(principal.error());
    return AttachmentSink::Open(ctx_, req, *principal);
  }

  std::pair<std::string, std::uint64_t> NextEventMessages(const engine::Principal& p,
                                                          std::uint64_t after, std::size_t max) {
    return handlers::NextEventMessages(ctx_, p, after, max);
  }

 private:
  // A path that routes serve with other methods: 405 with the methods it takes (RFC 9110
  // §15.5.6), not 404.
  static HttpResponse MethodNotAllowed(const std::string& method, std::string allow) {
    HttpResponse r = Problem(ErrorCode::kMethodNotAllowed,
                             method + " is not a method of this path; it takes " + allow);
    r.headers.emplace_back("Allow", std::move(allow));
    return r;
  }

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
    const auto is_collection = [this](std::string_view c) { return IsCollection(c); };
    const Route* route = FindApiRoute(req.method, seg, is_collection);
    if (route == nullptr) {
      std::string allow;
      for (std::string_view m : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
        if (FindApiRoute(m, seg, is_collection) != nullptr)
          allow += (allow.empty() ? "" : ", ") + std::string(m);
      }
      if (allow.empty()) return respond(Problem(ErrorCode::kNotFound, "no such route"));
      return respond(MethodNotAllowed(req.method, std::move(allow)));
    }
    if (req.method == "GET") {
      respond = [respond = std::move(respond),
                 if_none_match = std::string(req.Header("if-none-match"))](HttpResponse r) {
        respond(Conditional(std::move(r), if_none_match));
      };
    }
    route->handler(ctx_, {req, t, seg, p, body}, std::move(respond));
  }

  // Conditional GET (RFC 9110 §13.1.2, issue 20): every JSON answer of a GET carries an ETag (an
  // instance its version, as If-Match uses it; any other a digest of the body), and one the
  // client already has (If-None-Match) is answered 304 with no body. Streamed answers (the
  // export) are not.
  static HttpResponse Conditional(HttpResponse r, std::string_view if_none_match) {
    if (r.status != 200 || r.pieces || r.content_type != "application/json") return r;
    auto tag = std::find_if(r.headers.begin(), r.headers.end(),
                            [](const auto& h) { return h.first == "ETag"; });
    std::string etag;
    if (tag != r.headers.end()) {
      etag = tag->second;
    } else {
      etag = "\"" + engine::ToHex(engine::Sha256(r.body)).substr(0, 32) + "\"";
      r.headers.emplace_back("ETag", etag);
    }
    if (if_none_match.empty() || !r.revalidate) return r;
    // The weak comparison of §8.8.3.2: a W/ prefix is ignored.
    bool match = false;
    for (std::size_t from = 0; from <= if_none_match.size() && !match;) {
      auto comma = if_none_match.find(',', from);
      if (comma == std::string_view::npos) comma = if_none_match.size();
      std::string_view one = if_none_match.substr(from, comma - from);
      while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
      while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
      if (one.starts_with("W/")) one.remove_prefix(2);
      match = one == "*" || one == etag;
      from = comma + 1;
    }
    if (!match) return r;
    HttpResponse not_modified;
    not_modified.status = 304;
    not_modified.content_type.clear();
    for (auto& h : r.headers) {
      if (h.first == "ETag" || h.first == "Cache-Control") not_modified.headers.push_back(h);
    }
    return not_modified;
  }

  RouterOptions options_;
  StaticFiles static_files_;
  engine::RandomIdGenerator ids_;
  engine::StageStatistics stages_;
  engine::AttachmentRefs attachment_refs_;
  handlers::Context ctx_;
};

Router::Router(engine::Sequencer& sequencer, engine::EventLog& log, TokenStore& tokens,
               Metrics& metrics, RouterOptions options)
    : impl_(std::make_unique<Impl>(sequencer, log, tokens, metrics, std::move(options))) {}

Router::~Router() = default;

void Router::Handle(HttpRequest request, Respond respond) {
  impl_->Handle(std::move(request), std::move(respond));
}

engine::Result<EventStreamStart> Router::OpenEventStream(const HttpRequest& request) {
  return impl_->OpenEventStream(request);
}

std::pair<std::string, std::uint64_t> Router::NextEventMessages(const engine::Principal& p,
                                                                std::uint64_t after,
                                                                std::size_t max) {
  return impl_->NextEventMessages(p, after, max);
}

engine::Result<std::unique_ptr<AttachmentSink>> Router::OpenUpload(const HttpRequest& head) {
  return impl_->OpenUpload(head);
}

std::string Router::RouteOf(const HttpRequest& request) {
  return RouteTemplateOf(ParseTarget(request.target).path);
}

}  // namespace expertflow::api
