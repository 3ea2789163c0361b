#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/handlers/handlers.h"

namespace expertflow::api {

// One endpoint: a method, a path template and the handler that serves it. In a template `{c}`
// stands for a collection of instances (a segment no other route spells out) and `{id}` for any
// id.
struct Route {
  std::string_view method;
  std::string_view path;
  handlers::Handler handler;
};

// The service routes (probes, metrics, the OpenAPI document): no token, matched on the exact
// path.
std::span<const Route> ServiceRoutes();
// The endpoints of API.md under /api/v1, tried in this order: the first match serves.
std::span<const Route> ApiRoutes();

const Route* FindServiceRoute(std::string_view method, std::string_view path);
// The methods the service routes serve `path` with ("GET"), empty when none does.
std::string ServiceMethodsOf(std::string_view path);
// `segments` are the path's after /api/v1/; `is_collection` says which names `{c}` matches.
const Route* FindApiRoute(std::string_view method, const std::vector<std::string>& segments,
                          const std::function<bool(std::string_view)>& is_collection);

// The template a path falls under, for metrics and logs: a segment the routes spell out at its
// place stays, any other becomes {c}, {id} or {x}, so no id a client chose reaches a label.
std::string RouteTemplateOf(std::string_view path);

}  // namespace expertflow::api
