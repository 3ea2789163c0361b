#include "api/reply.h"

namespace expertflow::api {

using nlohmann::json;

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse JsonText(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string EventsArray(const std::vector<engine::StoredEvent>& events) {
  std::string out = "[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i) out += ',';
    out += engine::EventJsonText(events[i]);
  }
  out += ']';
  return out;
}

std::string EventsArray(const std::vector<engine::AppendedEvent>& events) {
  std::vector<engine::StoredEvent> stored;
  stored.reserve(events.size());
  for (const auto& e : events) stored.push_back({e.seq, e.hash, e.record});
  return EventsArray(stored);
}

}  // namespace expertflow::api
