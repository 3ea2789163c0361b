#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/http.h"
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

}  // namespace expertflow::api
