#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/error.h"

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

// A body made a piece at a time, for answers too long to hold (the whole audit export): the
// server asks for the next piece only once the client has taken the last, so a slow reader holds
// one piece and no more. An empty piece ends the body. An error cuts the answer short: the
// connection closes without the body's end (no last chunk), which a client can tell from a
// complete answer; the status line has gone already and cannot say it.
using BodyPieces = std::function<engine::Result<std::string>()>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  BodyPieces pieces;  // when set, the body (sent chunked); `body` is not used
  // False when the ETag does not stand for the whole body (a protocol's view also shows its
  // assignments' states, which change without its version): never answered 304.
  bool revalidate = true;
};

// The router answers through this, at once or later (a write answers when it is durable).
using Respond = std::function<void(HttpResponse)>;

}  // namespace expertflow::api
