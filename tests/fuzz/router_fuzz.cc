// libFuzzer target: raw bytes as an HTTP request, through api::Router::Handle on an in-memory log.
//
// Input: a request line "METHOD TARGET", header lines "name: value", an empty line, then the
// body; a missing part is empty. An authorization header whose value is "@admin", "@assoc",
// "@umc", "@irpo", "@auditor" or "@ministry" becomes that principal's real bearer token, so the
// fuzzer reaches past authentication. Every input gets a fresh world (log, sequencer, tokens,
// two proposals with ids 000000000001 and 000000000002), so a crash reproduces from its input
// alone. Besides the sanitizers, it checks what API.md promises of any answer: a status from the
// contract, and a problem+json body with a code for every error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "api/metrics.h"
#include "api/router.h"
#include "api/tokens.h"
#include "engine/log/memory_event_log.h"
#include "engine/runtime/sequencer.h"
#include "workflows/definitions.h"
#include "workflows/registry.h"
#include "workflows/routing.h"

namespace {

using namespace expertflow;

// 12 hex digits counting up: instance ids the fuzzer can guess, from the dictionary.
class CountingIds final : public engine::IdGenerator {
 public:
  std::string NewId() override {
    char buf[13];
    std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(++n_));
    return buf;
  }

 private:
  std::uint64_t n_ = 0;
};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "router_fuzz: %s\n", why.c_str());
  std::abort();
}

const engine::DefinitionSet& Definitions() {
  static const engine::DefinitionSet d = [] {
    auto r = workflows::BuiltinDefinitions();
    if (!r) Die("definitions: " + r.error().ToString());
    return std::move(*r);
  }();
  return d;
}

const engine::RoutingTable& Routing() {
  static const engine::RoutingTable r = workflows::BuiltinRouting();
  return r;
}

struct World {
  engine::MemoryEventLog log;
  engine::ManualClock clock{*engine::ParseRfc3339("2026-01-12T09:00:00Z")};
  CountingIds ids;
  engine::Sequencer sequencer{log, Definitions(), workflows::Builtin(), Routing(), clock, ids};
  api::TokenStore tokens{log, workflows::Builtin()};
  api::Metrics metrics;
  std::unique_ptr<api::Router> router;
  std::map<std::string, std::string, std::less<>> bearer;  // "@assoc" -> "Bearer <token>"

  World() {
    if (!sequencer.Start()) Die("sequencer did not start");
    api::RouterOptions options;
    options.manual_clock = &clock;
    router = std::make_unique<api::Router>(sequencer, log, tokens, metrics, options);
    const std::pair<const char*, std::pair<const char*, const char*>> principals[] = {
        {"@admin", {"admin", "admin"}},     {"@assoc", {"assoc-05", "association_member"}},
        {"@umc", {"umc-05", "umc_lead"}},   {"@irpo", {"irpo", "irpo_staff"}},
        {"@auditor", {"audit", "auditor"}}, {"@ministry", {"ministry", "ministry_official"}}};
    for (const auto& [alias, principal] : principals) {
      auto t = tokens.Issue(principal.first, principal.second, "fuzz", clock.Now());
      if (!t) Die("token: " + t.error().ToString());
      bearer[alias] = "Bearer " + t->token;
    }
    for (int i = 0; i < 2; ++i) {
      api::HttpRequest create;
      create.method = "POST";
      create.target = "/api/v1/proposals";
      create.headers["authorization"] = bearer["@assoc"];
      create.headers["content-type"] = "application/json";
      create.body =
          R"({"workflow":"industry_proposal","payload":{"title":"t","topic":"infrastructure","summary":"s"}})";
      if (Call(std::move(create)).status != 201) Die("seed proposal refused");
    }
  }
  ~World() { sequencer.Stop(); }

  api::HttpResponse Call(api::HttpRequest request) {
    std::promise<api::HttpResponse> promise;
    auto answer = promise.get_future();
    router->Handle(std::move(request),
                   [&promise](api::HttpResponse r) { promise.set_value(std::move(r)); });
    return answer.get();
  }
};

std::string_view NextLine(std::string_view& rest) {
  auto nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

api::HttpRequest Parse(std::string_view input, const World& world) {
  api::HttpRequest req;
  std::string_view rest = input;
  std::string_view line = NextLine(rest);
  auto sp = line.find(' ');
  req.method = std::string(line.substr(0, sp));
  req.target = sp == std::string_view::npos ? "" : std::string(line.substr(sp + 1));
  while (!rest.empty()) {
    line = NextLine(rest);
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    std::string name = Lower(line.substr(0, colon));
    if (auto it = world.bearer.find(value); name == "authorization" && it != world.bearer.end())
      req.headers[name] = it->second;
    else
      req.headers[name] = std::string(value);
  }
  req.body = std::string(rest);
  return req;
}

bool KnownStatus(int s) {
  switch (s) {
    case 200:
    case 201:
    case 204:
    case 304:
    case 400:
    case 401:
    case 403:
    case 404:
    case 405:
    case 409:
    case 412:
    case 413:
    case 415:
    case 422:
    case 428:
    case 431:
    case 503:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World world;
  api::HttpRequest req = Parse(std::string_view(reinterpret_cast<const char*>(data), size), world);
  api::HttpResponse r = world.Call(std::move(req));
  if (!KnownStatus(r.status)) Die("status " + std::to_string(r.status) + " is not in API.md");
  if (r.status >= 500 && r.status != 503) Die("server error: " + r.body);
  if (r.status >= 400) {
    if (r.content_type != "application/problem+json") Die("an error that is not problem+json");
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (!body.is_object() || !body.contains("code") || body.value("status", 0) != r.status)
      Die("a problem without code or status: " + r.body);
  }
  // A body made a piece at a time (the streamed export) is read to its end: every piece is
  // whole lines of JSON, and none fails while the token stands.
  for (int pieces = 0; r.pieces && pieces < 64; ++pieces) {
    auto piece = r.pieces();
    if (!piece) Die("a piece failed: " + piece.error().ToString());
    if (piece->empty()) break;
    if (piece->back() != '\n') Die("a piece that does not end a line");
  }
  // Whatever was asked, the log still verifies.
  auto verified = engine::Verify(world.log);
  if (!verified || !verified->ok) Die("the chain no longer verifies");
  return 0;
}
