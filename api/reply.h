#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/http.h"
#include "api/request.h"
#include "engine/log/event_log.h"

namespace expertflow::api {

// A JSON answer; text that is not UTF-8 is replaced rather than refused, since it comes from data
// the log already holds.
HttpResponse Json(int status, const nlohmann::json& body);
// A JSON answer already written as text (events keep their stored bytes).
HttpResponse JsonText(int status, std::string body);

// Events as a JSON array, each as EventJsonText writes it.
std::string EventsArray(const std::vector<engine::StoredEvent>& events);
std::string EventsArray(const std::vector<engine::AppendedEvent>& events);

// The value of a `Link` header to the next page (RFC 8288): the request's path and query with
// `param` set to `value`, e.g. `</api/v1/proposals?cursor=17_p-2&limit=50>; rel="next"`.
std::string NextLink(const Target& t, std::string_view param, std::string_view value);

// A page's answer: `body` (a JSON object with `next_cursor`), and the Link header beside it
// when there is a next page.
HttpResponse Page(const Target& t, nlohmann::json body);

}  // namespace expertflow::api
