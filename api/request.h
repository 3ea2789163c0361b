#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "api/tokens.h"
#include "engine/core/error.h"

namespace expertflow::api {

// Limits of what a request may ask for (API.md, Pagination and Audit).
inline constexpr std::size_t kDefaultLimit = 50;
inline constexpr std::size_t kMaxLimit = 500;
inline constexpr std::size_t kMaxJsonDepth = 32;
inline constexpr std::size_t kMaxExport = 100000;
// Events of one instance's history a page (and a step of its verification).
inline constexpr std::size_t kMaxHistory = 1000;

// A request target, percent-decoded: the path, and the query's last value for each name.
struct Target {
  std::string path;
  std::map<std::string, std::string, std::less<>> query;
  bool ok = true;  // false when a %-escape is broken
};

Target ParseTarget(std::string_view target);

// The non-empty segments of a path ("/a//b/" is {"a", "b"}).
std::vector<std::string> Segments(std::string_view path);

// Ids in paths: letters, digits and . _ - only, so no traversal, no control bytes, no slashes.
bool IsSafeId(std::string_view s);

// Parses a request body: a JSON object, no deeper than kMaxJsonDepth, with no key twice in one
// object (the last-one-wins reading of most parsers would let two readers disagree).
engine::Result<nlohmann::json> ParseBody(std::string_view body);

// The largest number a query takes (a seq, a version, a limit): 2^53 - 1, what every JSON reader
// holds exactly. Larger ones are refused, not wrapped (after=2^64-1 would read from seq 1).
inline constexpr std::size_t kMaxCount = (std::size_t{1} << 53) - 1;

// A whole decimal number from 0 to kMaxCount, and nothing else.
std::optional<std::size_t> ParseCount(std::string_view s);

// The query parameter `name` as a count, `fallback` when it is absent, nothing when it is not one.
std::optional<std::size_t> CountParam(const Target& t, std::string_view name, std::size_t fallback);

bool IsWrite(std::string_view method);

// The principal of an "Authorization: Bearer <token>" header.
engine::Result<engine::Principal> Authenticate(const TokenStore& tokens, const HttpRequest& req);

}  // namespace expertflow::api
