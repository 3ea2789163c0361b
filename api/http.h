#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace expertflow::api {

// The HTTP exchange as the router sees it: plain values, no sockets, so routing and handlers are
// unit-tested without a server (STYLE.md, Boost.Beast examples). The server converts to and from
// Beast's messages.
struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, e.g. "/api/v1/proposals?state=expertise"
  std::map<std::string, std::string, std::less<>> headers;  // names in lower case
  std::string body;

  std::string_view Header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string_view() : std::string_view(it->second);
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The router answers through this, at once or later (a write answers when it is durable).
using Respond = std::function<void(HttpResponse)>;

}  // namespace expertflow::api
