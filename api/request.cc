#include "api/request.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace expertflow::api {
namespace {

using engine::ErrorCode;
using nlohmann::json;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

Target ParseTarget(std::string_view target) {
  Target t;
  auto q = target.find('?');
  auto path = PercentDecode(target.substr(0, q), false);
  if (!path) {
    t.ok = false;
    return t;
  }
  t.path = *path;
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value) {
      t.ok = false;
      return t;
    }
    if (!key->empty()) t.query[*key] = *value;
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return t;
}

std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    auto slash = path.find('/');
    if (slash != 0) out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool IsSafeId(std::string_view s) {
  if (s.empty() || s.size() > 100 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

engine::Result<json> ParseBody(std::string_view body) {
  std::size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      max_depth = std::max(max_depth, ++depth);
    else if ((c == '}' || c == ']') && depth > 0)
      --depth;
  }
  if (max_depth > kMaxJsonDepth) {
    return engine::Fail(ErrorCode::kMalformedJson,
                        "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  std::vector<std::set<std::string>> keys;
  bool duplicate = false;
  std::string duplicate_key;
  json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
          duplicate = true;
          duplicate_key = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  json j = json::parse(body, cb, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return engine::Fail(ErrorCode::kMalformedJson, "the body is not valid JSON (UTF-8)");
  if (duplicate)
    return engine::Fail(ErrorCode::kMalformedJson, "key \"" + duplicate_key + "\" appears twice");
  if (!j.is_object())
    return engine::Fail(ErrorCode::kMalformedJson, "the body must be a JSON object");
  return j;
}

std::optional<std::size_t> ParseCount(std::string_view s) {
  std::size_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || v > kMaxCount)
    return std::nullopt;
  return v;
}

std::optional<std::size_t> CountParam(const Target& t, std::string_view name, std::size_t fallback) {
  auto it = t.query.find(name);
  return it == t.query.end() ? std::optional<std::size_t>(fallback) : ParseCount(it->second);
}

bool IsWrite(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

engine::Result<engine::Principal> Authenticate(const TokenStore& tokens, const HttpRequest& req) {
  std::string_view auth = req.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), auth.begin(),
                  [](char a, char b) { return ::tolower(a) == ::tolower(b); })) {
    return engine::Fail(ErrorCode::kUnauthenticated, "send Authorization: Bearer <token>");
  }
  return tokens.Authenticate(auth.substr(kBearer.size()));
}

}  // namespace expertflow::api
