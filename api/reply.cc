#include "api/reply.h"

#include <cctype>

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

namespace {

// Percent-encodes all but RFC 3986's unreserved characters (and `/` in a path).
void AppendEncoded(std::string_view s, std::string& out, bool path = false) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (path && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

}  // namespace

std::string NextLink(const Target& t, std::string_view param, std::string_view value) {
  // The query's names in order (it is a sorted map), `param` set to `value` among them: the same
  // request asked twice gives the same link, whether or not it already carried `param`.
  auto query = t.query;
  query.insert_or_assign(std::string(param), std::string(value));
  std::string out = "<";
  AppendEncoded(t.path, out, true);
  char sep = '?';
  for (const auto& [k, v] : query) {
    out += sep;
    sep = '&';
    AppendEncoded(k, out);
    out += '=';
    AppendEncoded(v, out);
  }
  out += ">; rel=\"next\"";
  return out;
}

HttpResponse Page(const Target& t, json body) {
  const auto next = body.find("next_cursor");
  std::string link;
  if (next != body.end() && next->is_string())
    link = NextLink(t, "cursor", next->get<std::string>());
  HttpResponse r = Json(200, body);
  if (!link.empty()) r.headers.emplace_back("Link", std::move(link));
  return r;
}

}  // namespace expertflow::api
