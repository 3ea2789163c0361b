#include "api/routes.h"

#include <algorithm>
#include <array>

namespace expertflow::api {
namespace {

constexpr std::string_view kApiPrefix = "/api/v1";

constexpr std::array kServiceRoutes = {
    Route{"GET", "/healthz", handlers::Healthz},
    Route{"GET", "/readyz", handlers::Readyz},
    Route{"GET", "/metrics", handlers::MetricsText},
    // The contract: a client reads it before it holds a token, and it holds no data.
    Route{"GET", "/api/v1/openapi.json", handlers::OpenApi},
};

constexpr std::array kApiRoutes = {
    Route{"GET", "/api/v1/me", handlers::Me},
    Route{"GET", "/api/v1/workflows", handlers::ListWorkflows},
    Route{"GET", "/api/v1/workflows/{id}", handlers::GetWorkflow},
    Route{"GET", "/api/v1/organizations", handlers::ListOrganizations},
    Route{"GET", "/api/v1/organizations/{id}", handlers::GetOrganization},
    Route{"GET", "/api/v1/regions", handlers::ListRegions},
    Route{"GET", "/api/v1/groups", handlers::ListGroups},
    Route{"GET", "/api/v1/groups/{id}", handlers::GetGroup},
    Route{"POST", "/api/v1/tokens", handlers::IssueToken},
    Route{"GET", "/api/v1/tokens", handlers::ListTokens},
    Route{"DELETE", "/api/v1/tokens/{id}", handlers::RevokeToken},
    Route{"POST", "/api/v1/admin/clock", handlers::MoveClock},
    Route{"POST", "/api/v1/admin/backup", handlers::MakeBackup},
    Route{"POST", "/api/v1/webhooks", handlers::RegisterWebhook},
    Route{"GET", "/api/v1/webhooks", handlers::ListWebhooks},
    Route{"GET", "/api/v1/webhooks/{id}", handlers::GetWebhook},
    Route{"DELETE", "/api/v1/webhooks/{id}", handlers::DeleteWebhook},
    Route{"GET", "/api/v1/webhooks/{id}/deliveries", handlers::WebhookDeliveries},
    // The body is the file: taken before the JSON body parsing (Router, Server).
    Route{"POST", "/api/v1/attachments", handlers::UploadAttachment},
    Route{"GET", "/api/v1/attachments/{id}", handlers::GetAttachment},
    Route{"GET", "/api/v1/inbox", handlers::Inbox},
    Route{"GET", "/api/v1/events", handlers::GlobalEvents},
    Route{"GET", "/api/v1/events/stream", handlers::EventStream},
    Route{"GET", "/api/v1/audit/export", handlers::AuditExport},
    Route{"GET", "/api/v1/audit/verify", handlers::AuditVerify},
    Route{"GET", "/api/v1/log/checkpoint", handlers::LogCheckpoint},
    Route{"GET", "/api/v1/log/checkpoints", handlers::LogCheckpoints},
    Route{"GET", "/api/v1/log/key", handlers::LogKey},
    Route{"GET", "/api/v1/log/proof/inclusion", handlers::LogInclusionProof},
    Route{"GET", "/api/v1/log/proof/consistency", handlers::LogConsistencyProof},
    Route{"POST", "/api/v1/log/cosignatures", handlers::PostCosignatures},
    Route{"GET", "/api/v1/log/tile/{*}", handlers::LogTile},
    Route{"GET", "/api/v1/stats/stages", handlers::StatsStages},
    Route{"GET", "/api/v1/stats/discipline", handlers::StatsDiscipline},
    Route{"POST", "/api/v1/protocols", handlers::CreateProtocol},
    Route{"GET", "/api/v1/{c}", handlers::ListInstances},
    Route{"POST", "/api/v1/{c}", handlers::CreateInstance},
    Route{"GET", "/api/v1/{c}/{id}", handlers::GetInstance},
    Route{"POST", "/api/v1/{c}/{id}/commands", handlers::Act},
    Route{"GET", "/api/v1/{c}/{id}/events", handlers::InstanceEvents},
    Route{"GET", "/api/v1/{c}/{id}/verify", handlers::InstanceVerify},
};

bool IsPlaceholder(std::string_view segment) { return segment.starts_with('{'); }

// The segments of each API route's template after /api/v1, split once.
const std::vector<std::string>& TemplateSegments(const Route& route) {
  static const auto* const kSplit = [] {
    auto* split = new std::array<std::vector<std::string>, kApiRoutes.size()>;
    for (std::size_t i = 0; i < kApiRoutes.size(); ++i)
      (*split)[i] = Segments(kApiRoutes[i].path.substr(kApiPrefix.size()));
    return split;
  }();
  return (*kSplit)[&route - kApiRoutes.data()];
}

bool Matches(const Route& route, std::string_view method, const std::vector<std::string>& segments,
             const std::function<bool(std::string_view)>& is_collection) {
  if (route.method != method) return false;
  const std::vector<std::string>& pattern = TemplateSegments(route);
  // "{*}" last: one or more segments (the tlog-tiles paths, whose depth varies).
  const bool rest = !pattern.empty() && pattern.back() == "{*}";
  if (rest ? segments.size() < pattern.size() : pattern.size() != segments.size()) return false;
  for (std::size_t i = 0; i < pattern.size() - (rest ? 1 : 0); ++i) {
    if (pattern[i] == "{c}") {
      if (!is_collection(segments[i])) return false;
    } else if (!IsPlaceholder(pattern[i]) && pattern[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::span<const Route> ServiceRoutes() { return kServiceRoutes; }
std::span<const Route> ApiRoutes() { return kApiRoutes; }

const Route* FindServiceRoute(std::string_view method, std::string_view path) {
  for (const Route& route : kServiceRoutes) {
    if (route.method == method && route.path == path) return &route;
  }
  return nullptr;
}

const Route* FindApiRoute(std::string_view method, const std::vector<std::string>& segments,
                          const std::function<bool(std::string_view)>& is_collection) {
  for (const Route& route : kApiRoutes) {
    if (Matches(route, method, segments, is_collection)) return &route;
  }
  return nullptr;
}

std::string ServiceMethodsOf(std::string_view path) {
  std::string allow;
  for (const Route& route : kServiceRoutes) {
    if (route.path == path) allow += (allow.empty() ? "" : ", ") + std::string(route.method);
  }
  return allow;
}

std::string RouteTemplateOf(std::string_view path) {
  for (const Route& route : kServiceRoutes) {
    if (route.path == path) return std::string(path);
  }
  if (!path.starts_with("/api/v1/")) return "other";
  const std::vector<std::string> segments = Segments(path.substr(kApiPrefix.size()));
  // Whether some route spells `segment` at place `i`, under the same first segment after the
  // first place (only a literal under {c} for a first segment no route spells).
  auto spelled = [&](std::size_t i, const std::string& segment, const std::string& first) {
    return std::any_of(kApiRoutes.begin(), kApiRoutes.end(), [&](const Route& route) {
      const std::vector<std::string>& pattern = TemplateSegments(route);
      if (pattern.size() <= i || pattern[i] != segment) return false;
      return i != 1 || pattern[0] == first;
    });
  };
  constexpr std::array<std::string_view, 3> kPlaceholders = {"{c}", "{id}", "{x}"};
  std::string route(kApiPrefix);
  std::string first = "{c}";
  for (std::size_t i = 0; i < segments.size() && i < 4; ++i) {
    const bool literal = spelled(i, segments[i], first);
    if (i == 0 && literal) first = segments[0];
    route += '/';
    route += literal ? std::string_view(segments[i]) : kPlaceholders[std::min<std::size_t>(i, 2)];
  }
  return route;
}

}  // namespace expertflow::api
