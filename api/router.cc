#include "api/router.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <stack>

#include "api/embedded.h"
#include "api/problem.h"
#include "api/static_files.h"
#include "engine/hash.h"
#include "engine/policy.h"
#include "engine/protocols.h"
#include "engine/stage_stats.h"

namespace expertflow::api {
namespace {

using engine::ErrorCode;
using engine::Principal;
using nlohmann::json;

constexpr std::size_t kDefaultLimit = 50;
constexpr std::size_t kMaxLimit = 500;
constexpr std::size_t kMaxJsonDepth = 32;
constexpr std::size_t kMaxExport = 100000;

struct Target {
  std::string path;
  std::map<std::string, std::string, std::less<>> query;
  bool ok = true;
};

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

// Ids in paths: letters, digits and . _ - only, so no traversal, no control bytes, no slashes.
bool IsSafeId(std::string_view s) {
  if (s.empty() || s.size() > 100 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

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

// Parses a request body: a JSON object, no deeper than kMaxJsonDepth, with no key twice in one
// object (the last-one-wins reading of most parsers would let two readers disagree).
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
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
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

bool IsWrite(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

}  // namespace

class Router::Impl {
 public:
  Impl(engine::Sequencer& sequencer, engine::EventLog& log, TokenStore& tokens, Metrics& metrics,
       RouterOptions options)
      : seq_(sequencer),
        log_(log),
        tokens_(tokens),
        metrics_(metrics),
        options_(std::move(options)),
        static_files_(options_.static_files),
        stages_(sequencer.definitions(), sequencer.directory()) {
    // Stage statistics resume from their saved checkpoint; when there is none they replay the log
    // at the first query.
    (void)stages_.Load(log_);
    if (!options_.offload) options_.offload = [](std::function<void()> f) { f(); };
  }

  void Handle(HttpRequest req, Respond respond) {
    Target target = ParseTarget(req.target);
    if (!target.ok)
      return respond(Problem(ErrorCode::kBadRequest, "the request target is not valid"));
    const auto& path = target.path;
    if (path == "/healthz" && req.method == "GET") return respond(Json(200, {{"status", "ok"}}));
    if (path == "/readyz" && req.method == "GET") {
      if (!seq_.Running()) return respond(Problem(ErrorCode::kUnavailable, "not accepting writes"));
      return respond(Json(200, {{"status", "ready"}, {"head_seq", log_.GetHead().seq}}));
    }
    if (path == "/metrics" && req.method == "GET") {
      HttpResponse r;
      r.content_type = "text/plain; version=0.0.4";
      const std::uint64_t head = log_.GetHead().seq;
      // Instance views are served from the sequencer's states, never behind; their stored copies
      // follow from checkpoints (what a start after a crash would replay); stage statistics
      // follow the log and catch up when asked.
      const engine::SequencerStats stats = seq_.Stats();
      r.body = metrics_.Render(
          stats, head,
          {{"instance_views", 0},
           {"instance_views_stored", head - std::min(head, stats.views_checkpoint_seq)},
           {"stage_statistics", head - std::min(head, stages_.checkpoint())}});
      return respond(std::move(r));
    }
    if (!path.starts_with("/api/")) {
      // The page itself needs no token: it holds no data, and asks for one before any call.
      if (req.method == "GET" && !static_files_.empty())
        return respond(static_files_.Serve(path, req));
      return respond(Problem(ErrorCode::kNotFound, "no such route"));
    }
    if (!path.starts_with("/api/v1/"))
      return respond(Problem(ErrorCode::kNotFound, "no such route"));

    auto principal = Authenticate(req);
    if (!principal) return respond(Problem(principal.error()));
    if (principal->role == "auditor" && IsWrite(req.method)) {
      return respond(Problem(ErrorCode::kForbidden, "auditors never write"));
    }
    json body = json::object();
    if (req.method == "POST") {
      if (req.body.size() > options_.max_body_bytes) {
        return respond(Problem(ErrorCode::kPayloadTooLarge, "the body is larger than 1 MiB"));
      }
      std::string_view type = req.Header("content-type");
      auto semi = type.find(';');
      std::string media(type.substr(0, semi));
      std::transform(media.begin(), media.end(), media.begin(), ::tolower);
      while (!media.empty() && media.back() == ' ') media.pop_back();
      if (media != "application/json") {
        return respond(
            Problem(ErrorCode::kUnsupportedMediaType, "send the body as application/json"));
      }
      auto parsed = ParseBody(req.body);
      if (!parsed) return respond(Problem(parsed.error()));
      body = std::move(*parsed);
    }
    auto seg = Segments(std::string_view(path).substr(8));
    for (const auto& s : seg) {
      if (!IsSafeId(s) && s != "openapi.json")
        return respond(Problem(ErrorCode::kNotFound, "no such route"));
    }
    Dispatch(req, target, seg, *principal, std::move(body), std::move(respond));
  }

 private:
  engine::Result<Principal> Authenticate(const HttpRequest& req) {
    std::string_view auth = req.Header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), auth.begin(),
                    [](char a, char b) { return ::tolower(a) == ::tolower(b); })) {
      return engine::Fail(ErrorCode::kUnauthenticated, "send Authorization: Bearer <token>");
    }
    return tokens_.Authenticate(auth.substr(kBearer.size()));
  }

  bool IsCollection(std::string_view c) const {
    for (const auto* d : seq_.definitions().All()) {
      if (d->collection == c) return true;
    }
    return false;
  }

  void Dispatch(const HttpRequest& req, const Target& t, const std::vector<std::string>& seg,
                const Principal& p, json body, Respond respond) {
    const std::string& m = req.method;
    const std::size_t n = seg.size();
    auto not_found = [&] { respond(Problem(ErrorCode::kNotFound, "no such route")); };
    if (n == 0) return not_found();
    const std::string& head = seg[0];
    if (head == "me" && n == 1 && m == "GET") {
      return respond(Json(200, {{"org", p.org}, {"role", p.role}, {"token_id", p.token_id}}));
    }
    if (head == "openapi.json" && n == 1 && m == "GET")
      return respond(JsonText(200, std::string(OpenApiDocument())));
    if (head == "workflows" && m == "GET") return Workflows(seg, t, std::move(respond));
    if (head == "organizations" && m == "GET") return Organizations(seg, t, std::move(respond));
    if (head == "regions" && n == 1 && m == "GET") return Regions(std::move(respond));
    if (head == "tokens") return Tokens(req, seg, p, body, std::move(respond));
    if (head == "admin" && n == 2 && seg[1] == "clock" && m == "POST")
      return Clock(p, body, std::move(respond));
    if (head == "inbox" && n == 1 && m == "GET") return Inbox(t, p, std::move(respond));
    if (head == "events" && n == 1 && m == "GET") return GlobalEvents(t, p, std::move(respond));
    if (head == "events" && n == 2 && seg[1] == "stream" && m == "GET") {
      // The server streams this route itself; asked through the router (tests, a proxy that
      // buffers), it answers what is there now as one finite text/event-stream body.
      auto after = OpenEventStream(req);
      if (!after) return respond(Problem(after.error()));
      HttpResponse r;
      r.content_type = "text/event-stream";
      r.body = NextEventMessages(*after, kMaxLimit).first;
      return respond(std::move(r));
    }
    if (head == "audit" && n == 2 && m == "GET" && seg[1] == "export")
      return AuditExport(t, p, std::move(respond));
    if (head == "audit" && n == 2 && m == "GET" && seg[1] == "verify")
      return AuditVerify(p, std::move(respond));
    if (head == "stats" && n == 2 && m == "GET" && seg[1] == "stages")
      return StatsStages(t, p, std::move(respond));
    if (head == "stats" && n == 2 && m == "GET" && seg[1] == "discipline")
      return StatsDiscipline(t, p, std::move(respond));
    if (head == "protocols" && n == 1 && m == "POST")
      return CreateProtocol(req, p, body, std::move(respond));
    if (!IsCollection(head)) return not_found();
    if (n == 1 && m == "GET") return List(head, t, p, std::move(respond));
    if (n == 1 && m == "POST") return Create(req, head, p, body, std::move(respond));
    if (n == 2 && m == "GET") return GetInstance(head, seg[1], t, p, std::move(respond));
    if (n == 3 && seg[2] == "commands" && m == "POST")
      return Act(req, head, seg[1], p, body, std::move(respond));
    if (n == 3 && seg[2] == "events" && m == "GET")
      return InstanceEvents(head, seg[1], p, std::move(respond));
    if (n == 3 && seg[2] == "verify" && m == "GET")
      return InstanceVerify(head, seg[1], p, std::move(respond));
    return not_found();
  }

  // --- reference data -------------------------------------------------------------------

  static json DefinitionSummary(const engine::Definition& d) {
    json states = json::array();
    for (const auto& s : d.states) {
      states.push_back({{"name", s.name}, {"stage", s.stage}, {"terminal", s.terminal}});
    }
    return {{"id", d.id},       {"version", d.version}, {"collection", d.collection},
            {"title", d.title}, {"source", d.source},   {"states", states}};
  }

  void Workflows(const std::vector<std::string>& seg, const Target& t, Respond respond) {
    const auto& defs = seq_.definitions();
    if (seg.size() == 1) {
      json items = json::array();
      for (const auto* d : defs.All()) items.push_back(DefinitionSummary(*d));
      return respond(Json(200, {{"items", items}}));
    }
    if (seg.size() != 2) return respond(Problem(ErrorCode::kNotFound, "no such route"));
    const engine::Definition* d = defs.Latest(seg[1]);
    if (auto v = t.query.find("version"); v != t.query.end()) {
      auto n = ParseCount(v->second);
      if (!n) return respond(Problem(ErrorCode::kBadRequest, "version must be a whole number"));
      d = defs.Find(seg[1], static_cast<std::uint32_t>(*n));
    }
    if (d == nullptr) return respond(Problem(ErrorCode::kNotFound, "no workflow " + seg[1]));
    return respond(Json(200, d->document));
  }

  static json OrgJson(const engine::Organization& o) {
    json j = {{"id", o.id},
              {"kind", o.kind},
              {"name", o.name},
              {"name_en", o.name_en},
              {"region_code", o.region_code},
              {"federal_district", o.federal_district}};
    if (!o.industry.empty()) j["industry"] = o.industry;
    if (!o.ugps.empty()) j["ugps"] = o.ugps;
    if (o.extra.is_object() && !o.extra.empty()) j["extra"] = o.extra;
    return j;
  }

  void Organizations(const std::vector<std::string>& seg, const Target& t, Respond respond) {
    const auto& dir = seq_.directory();
    if (seg.size() == 1) {
      std::string kind;
      if (auto it = t.query.find("type"); it != t.query.end()) kind = it->second;
      json items = json::array();
      for (const auto* o : dir.Organizations(kind)) items.push_back(OrgJson(*o));
      return respond(Json(200, {{"items", items}}));
    }
    if (seg.size() != 2) return respond(Problem(ErrorCode::kNotFound, "no such route"));
    const auto* o = dir.FindOrganization(seg[1]);
    if (o == nullptr) return respond(Problem(ErrorCode::kNotFound, "no organisation " + seg[1]));
    return respond(Json(200, OrgJson(*o)));
  }

  void Regions(Respond respond) {
    json items = json::array();
    for (const auto& r : seq_.directory().Regions()) {
      items.push_back({{"code", r.code},
                       {"name", r.name},
                       {"name_en", r.name_en},
                       {"federal_district", r.federal_district}});
    }
    respond(Json(200, {{"items", items}}));
  }

  // --- tokens and the test clock ----------------------------------------------------------

  void Tokens(const HttpRequest& req, const std::vector<std::string>& seg, const Principal& p,
              const json& body, Respond respond) {
    if (p.role != "admin")
      return respond(Problem(ErrorCode::kForbidden, "tokens are managed by admins"));
    if (seg.size() == 1 && req.method == "POST") {
      for (const auto& [k, v] : body.items()) {
        if (k != "org" && k != "role" && k != "name") {
          return respond(Problem(engine::Error{
              ErrorCode::kValidationFailed,
              k + " is not a field",
              {{"errors", {{{"field", k}, {"message", "is not a field of this request"}}}}}}));
        }
      }
      if (!body.contains("org") || !body["org"].is_string() || !body.contains("role") ||
          !body["role"].is_string() || (body.contains("name") && !body["name"].is_string())) {
        return respond(Problem(engine::Error{
            ErrorCode::kValidationFailed,
            "org and role are required strings",
            {{"errors", {{{"field", "org"}, {"message", "org and role are required strings"}}}}}}));
      }
      auto issued = tokens_.Issue(body["org"].get<std::string>(), body["role"].get<std::string>(),
                                  body.value("name", ""), seq_.clock().Now());
      if (!issued) return respond(Problem(issued.error()));
      return respond(Json(201, {{"id", issued->record.id},
                                {"token", issued->token},
                                {"org", issued->record.org},
                                {"role", issued->record.role},
                                {"name", issued->record.name}}));
    }
    if (seg.size() == 1 && req.method == "GET") {
      auto list = tokens_.List();
      if (!list) return respond(Problem(list.error()));
      json items = json::array();
      for (const auto& r : *list) {
        items.push_back({{"id", r.id},
                         {"org", r.org},
                         {"role", r.role},
                         {"name", r.name},
                         {"created_at", r.created_at},
                         {"revoked", r.revoked}});
      }
      return respond(Json(200, {{"items", items}}));
    }
    if (seg.size() == 2 && req.method == "DELETE") {
      auto r = tokens_.Revoke(seg[1]);
      if (!r) return respond(Problem(r.error()));
      HttpResponse ok;
      ok.status = 204;
      ok.content_type.clear();
      return respond(std::move(ok));
    }
    respond(Problem(ErrorCode::kNotFound, "no such route"));
  }

  void Clock(const Principal& p, const json& body, Respond respond) {
    if (options_.manual_clock == nullptr)
      return respond(Problem(ErrorCode::kNotFound, "no such route"));
    if (p.role != "admin")
      return respond(Problem(ErrorCode::kForbidden, "the clock is moved by admins"));
    engine::ManualClock& clock = *options_.manual_clock;
    auto invalid = [&](std::string field, std::string message) {
      respond(Problem(engine::Error{ErrorCode::kValidationFailed,
                                    field + " " + message,
                                    {{"errors", {{{"field", field}, {"message", message}}}}}}));
    };
    if (body.size() != 1 || !(body.contains("advance") || body.contains("set"))) {
      return invalid("advance", "give exactly one of advance (P31D) or set (an RFC 3339 time)");
    }
    if (body.contains("advance")) {
      auto d = body["advance"].is_string()
                   ? engine::ParseIsoDuration(body["advance"].get<std::string>())
                   : std::nullopt;
      if (!d) return invalid("advance", "must be a duration like P31D or PT12H");
      clock.Advance(*d);
    } else {
      auto t = body["set"].is_string() ? engine::ParseRfc3339(body["set"].get<std::string>())
                                       : std::nullopt;
      if (!t) return invalid("set", "must be an RFC 3339 time");
      if (*t < clock.Now()) return invalid("set", "must not move time backwards");
      clock.Set(*t);
    }
    seq_.FireDueTimers([this, respond = std::move(respond)](engine::Result<std::uint64_t> fired) {
      if (!fired) return respond(Problem(fired.error()));
      respond(Json(200, {{"now", engine::FormatRfc3339(seq_.clock().Now())}, {"fired", *fired}}));
    });
  }

  // --- instances --------------------------------------------------------------------------

  const engine::Definition* DefinitionOf(const engine::InstanceState& s) const {
    return seq_.definitions().Find(s.workflow, s.workflow_version);
  }

  json View(const engine::InstanceState& s, const Principal& p) const {
    const engine::Definition* d = DefinitionOf(s);
    if (d == nullptr) return json::object();
    json v = engine::InstanceView(*d, s, &p);
    if (s.collection == "protocols") AddAssignmentStates(s, v);
    return v;
  }

  void AddAssignmentStates(const engine::InstanceState& s, json& v) const {
    json list = json::array();
    const json ids = s.fields.value("assignments", json::array());
    for (const auto& id : ids) {
      if (!id.is_string()) continue;
      auto a = seq_.Find("assignments", id.get<std::string>());
      if (!a) continue;
      list.push_back(
          {{"id", a->id},
           {"assignee", a->participants.count("assignee") ? a->participants.at("assignee") : ""},
           {"state", a->state}});
    }
    v["assignment_states"] = std::move(list);
  }

  void GetInstance(const std::string& c, const std::string& id, const Target& t, const Principal& p,
                   Respond respond) {
    auto s = seq_.Find(c, id);
    if (!s || !engine::CanSee(*s, p))
      return respond(Problem(ErrorCode::kNotFound, "no " + c + "/" + id));
    auto at_version = t.query.find("at_version");
    auto as_of = t.query.find("as_of");
    if (at_version != t.query.end() || as_of != t.query.end()) {
      if (at_version != t.query.end() && as_of != t.query.end()) {
        return respond(Problem(ErrorCode::kBadRequest, "give at_version or as_of, not both"));
      }
      std::uint64_t max_version = s->version;
      std::optional<engine::Timestamp> max_time;
      if (at_version != t.query.end()) {
        auto v = ParseCount(at_version->second);
        if (!v || *v == 0)
          return respond(Problem(ErrorCode::kBadRequest, "at_version must be a version >= 1"));
        if (*v > s->version)
          return respond(
              Problem(ErrorCode::kNotFound, "the instance has no version " + at_version->second));
        max_version = *v;
      } else {
        max_time = engine::ParseRfc3339(as_of->second);
        if (!max_time)
          return respond(Problem(ErrorCode::kBadRequest, "as_of must be an RFC 3339 time"));
      }
      auto past = StateAt(s->Stream(), max_version, max_time);
      if (!past) return respond(Problem(past.error()));
      if (past->version == 0)
        return respond(Problem(ErrorCode::kNotFound, "the instance did not exist then"));
      HttpResponse r = Json(200, View(*past, p));
      r.headers.emplace_back("ETag", "\"" + std::to_string(past->version) + "\"");
      return respond(std::move(r));
    }
    HttpResponse r = Json(200, View(*s, p));
    r.headers.emplace_back("ETag", "\"" + std::to_string(s->version) + "\"");
    respond(std::move(r));
  }

  // The instance as it stood: its own stream replayed through evolve, up to a version or a time.
  // The cost grows with the stream, not with the log.
  engine::Result<engine::InstanceState> StateAt(const std::string& stream,
                                                std::uint64_t max_version,
                                                std::optional<engine::Timestamp> max_time) {
    engine::InstanceState s;
    auto events = log_.ReadStream(stream, 1, max_version);
    if (!events) return std::unexpected(events.error());
    engine::RecordReader reader;
    for (const auto& e : *events) {
      auto view = reader.Read(e.record);
      if (!view) return std::unexpected(view.error());
      if (max_time && view->occurred_at > *max_time) break;
      engine::Evolve(s, view->occurred_at, view->data);
    }
    return s;
  }

  void InstanceEvents(const std::string& c, const std::string& id, const Principal& p,
                      Respond respond) {
    auto s = seq_.Find(c, id);
    if (!s || !engine::CanSee(*s, p))
      return respond(Problem(ErrorCode::kNotFound, "no " + c + "/" + id));
    auto events = log_.ReadStream(s->Stream(), 1, s->version);
    if (!events) return respond(Problem(events.error()));
    respond(JsonText(200, "{\"events\":" + EventsArray(*events) + "}"));
  }

  // GET /api/v1/{c}/{id}/verify: the chain where this instance's events sit. Each of its events
  // is recomputed from its stored record and the stored hash of the event before it in the one
  // log (which belongs to any instance), so a changed, removed or re-linked event of this
  // instance shows here without reading the whole log as /audit/verify does.
  void InstanceVerify(const std::string& c, const std::string& id, const Principal& p,
                      Respond respond) {
    auto s = seq_.Find(c, id);
    if (!s || !engine::CanSee(*s, p))
      return respond(Problem(ErrorCode::kNotFound, "no " + c + "/" + id));
    options_.offload(
        [this, stream = s->Stream(), version = s->version, respond = std::move(respond)] {
          auto events = log_.ReadStream(stream, 1, version);
          if (!events) return respond(Problem(events.error()));
          std::uint64_t checked = 0;
          for (const auto& e : *events) {
            auto v = engine::Verify(log_, e.seq, e.seq);
            if (!v) return respond(Problem(v.error()));
            if (!v->ok) {
              return respond(Json(200, {{"ok", false},
                                        {"checked", checked},
                                        {"first_bad_seq", v->first_bad_seq},
                                        {"reason", v->reason}}));
            }
            ++checked;
          }
          const std::uint64_t last = events->empty() ? 0 : events->back().seq;
          respond(Json(200, {{"ok", true}, {"checked", checked}, {"last_seq", last}}));
        });
  }

  void List(const std::string& c, const Target& t, const Principal& p, Respond respond) {
    std::size_t limit = kDefaultLimit;
    if (auto it = t.query.find("limit"); it != t.query.end()) {
      auto n = ParseCount(it->second);
      if (!n || *n == 0 || *n > kMaxLimit) {
        return respond(
            Problem(ErrorCode::kBadRequest, "limit must be 1 to " + std::to_string(kMaxLimit)));
      }
      limit = *n;
    }
    auto q = [&](const char* k) -> std::string {
      auto it = t.query.find(k);
      return it == t.query.end() ? "" : it->second;
    };
    for (const auto& [k, v] : t.query) {
      if (k != "limit" && k != "cursor" && k != "state" && k != "workflow" && k != "org" &&
          k != "awaiting") {
        return respond(Problem(ErrorCode::kBadRequest, "unknown query parameter " + k));
      }
    }
    const std::string state = q("state"), workflow = q("workflow"), org = q("org"),
                      awaiting = q("awaiting");
    // The cursor is the position of the last item given: "<created_at seconds>_<id>".
    std::optional<std::pair<std::int64_t, std::string>> after;
    if (std::string cursor = q("cursor"); !cursor.empty()) {
      auto us = cursor.find('_');
      std::int64_t secs = 0;
      auto [ptr, ec] =
          std::from_chars(cursor.data(), cursor.data() + (us == std::string::npos ? 0 : us), secs);
      if (us == std::string::npos || ec != std::errc() || ptr != cursor.data() + us) {
        return respond(Problem(ErrorCode::kBadRequest, "cursor is not one this server gave"));
      }
      after.emplace(secs, cursor.substr(us + 1));
    }
    std::vector<engine::InstanceState> items;
    seq_.ForEachInstance([&](const engine::InstanceState& s) {
      if (s.collection != c || !engine::CanSee(s, p)) return true;
      if (!state.empty() && s.state != state) return true;
      if (!workflow.empty() && s.workflow != workflow) return true;
      if (!org.empty() && std::none_of(s.participants.begin(), s.participants.end(),
                                       [&](const auto& e) { return e.second == org; })) {
        return true;
      }
      if (!awaiting.empty()) {
        const auto* d = DefinitionOf(s);
        if (d == nullptr) return true;
        bool waits = false;
        for (const auto& a : engine::Awaiting(*d, s)) waits = waits || a["org"] == awaiting;
        if (!waits) return true;
      }
      items.push_back(s);
      return true;
    });
    auto key = [](const engine::InstanceState& s) {
      return std::make_pair(static_cast<std::int64_t>(s.created_at.time_since_epoch().count()),
                            s.id);
    };
    std::sort(items.begin(), items.end(),
              [&](const auto& a, const auto& b) { return key(a) > key(b); });
    json out = json::array();
    std::optional<std::pair<std::int64_t, std::string>> last;
    bool more = false;
    for (const auto& s : items) {
      if (after && !(key(s) < *after)) continue;
      if (out.size() == limit) {
        more = true;
        break;
      }
      out.push_back(View(s, p));
      last = key(s);
    }
    json next = more ? json(std::to_string(last->first) + "_" + last->second) : json();
    respond(Json(200, {{"items", out}, {"next_cursor", next}}));
  }

  void Inbox(const Target& t, const Principal& p, Respond respond) {
    std::vector<engine::InstanceState> items;
    seq_.ForEachInstance([&](const engine::InstanceState& s) {
      const auto* d = DefinitionOf(s);
      if (d == nullptr) return true;
      if (!engine::AllowedCommands(*d, s, p).empty()) items.push_back(s);
      return true;
    });
    auto deadline = [](const engine::InstanceState& s) {
      auto d = engine::NextDeadline(s);
      return d ? d->time_since_epoch().count() : std::numeric_limits<std::int64_t>::max();
    };
    std::sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
      return std::make_pair(deadline(a), a.created_at) < std::make_pair(deadline(b), b.created_at);
    });
    std::size_t limit = kMaxLimit;
    if (auto it = t.query.find("limit"); it != t.query.end()) {
      auto n = ParseCount(it->second);
      if (!n || *n == 0 || *n > kMaxLimit)
        return respond(Problem(ErrorCode::kBadRequest, "limit must be 1 to 500"));
      limit = *n;
    }
    json out = json::array();
    for (const auto& s : items) {
      if (out.size() == limit) break;
      out.push_back(View(s, p));
    }
    respond(Json(200, {{"items", out}}));
  }

  // --- writes -----------------------------------------------------------------------------

  static std::optional<engine::Error> IdempotencyOf(const HttpRequest& req, const Principal& p,
                                                    engine::Submission& sub) {
    std::string_view key = req.Header("idempotency-key");
    if (key.empty()) return std::nullopt;
    if (key.size() > 200 ||
        !std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
      return engine::Error{ErrorCode::kBadRequest,
                           "Idempotency-Key must be 1 to 200 visible ASCII characters",
                           json::object()};
    }
    // Scoped to the principal: the same key from someone else is a different request.
    sub.idempotency_key = p.org + "|" + p.role + "|" + p.token_id + "|" + std::string(key);
    sub.request_digest =
        engine::ToHex(engine::Sha256(req.method + " " + req.target + "\n" + req.body));
    return std::nullopt;
  }

  void Create(const HttpRequest& req, const std::string& c, const Principal& p, const json& body,
              Respond respond) {
    for (const auto& [k, v] : body.items()) {
      if (k != "workflow" && k != "payload") {
        return respond(Problem(engine::Error{
            ErrorCode::kValidationFailed,
            k + " is not a field",
            {{"errors", {{{"field", k}, {"message", "is not a field of this request"}}}}}}));
      }
    }
    if ((body.contains("workflow") && !body["workflow"].is_string()) ||
        (body.contains("payload") && !body["payload"].is_object())) {
      return respond(Problem(
          engine::Error{ErrorCode::kValidationFailed,
                        "workflow is a string and payload an object",
                        {{"errors", {{{"field", "payload"}, {"message", "must be an object"}}}}}}));
    }
    engine::Submission sub;
    sub.command.kind = engine::Command::Kind::kCreate;
    sub.command.collection = c;
    sub.command.workflow = body.value("workflow", "");
    sub.command.name = "create";
    sub.command.payload = body.value("payload", json::object());
    sub.command.actor = p;
    const engine::Definition* def =
        sub.command.workflow.empty() ? nullptr : seq_.definitions().Latest(sub.command.workflow);
    if (def == nullptr && sub.command.workflow.empty()) {
      auto list = seq_.definitions().InCollection(c);
      if (list.size() == 1) def = list.front();
    }
    if (def != nullptr && def->document.contains("create_via")) {
      return respond(
          Problem(ErrorCode::kForbidden, def->id + " instances are created through POST /api/v1/" +
                                             def->document["create_via"].get<std::string>()));
    }
    if (auto e = IdempotencyOf(req, p, sub)) return respond(Problem(*e));
    seq_.Submit(std::move(sub),
                [this, p, respond = std::move(respond)](engine::Result<engine::CommandResult> r) {
                  if (!r) return respond(Problem(r.error()));
                  HttpResponse out = Json(201, View(r->instance, p));
                  out.headers.emplace_back(
                      "Location", "/api/v1/" + r->instance.collection + "/" + r->instance.id);
                  out.headers.emplace_back("ETag", "\"" + std::to_string(r->version) + "\"");
                  respond(std::move(out));
                });
  }

  void Act(const HttpRequest& req, const std::string& c, const std::string& id, const Principal& p,
           const json& body, Respond respond) {
    bool visible = false;
    seq_.Inspect(c, id, [&](const engine::InstanceState& s) { visible = engine::CanSee(s, p); });
    if (!visible) return respond(Problem(ErrorCode::kNotFound, "no " + c + "/" + id));
    std::vector<engine::FieldError> errors;
    for (const auto& [k, v] : body.items()) {
      if (k != "command" && k != "expected_version" && k != "payload")
        errors.push_back({k, "is not a field of this request"});
    }
    if (!body.contains("command") || !body["command"].is_string() ||
        body["command"].get<std::string>().empty()) {
      errors.push_back({"command", "is required (a command name)"});
    }
    if (body.contains("payload") && !body["payload"].is_object())
      errors.push_back({"payload", "must be an object"});
    std::optional<std::uint64_t> expected;
    if (body.contains("expected_version")) {
      if (!body["expected_version"].is_number_unsigned()) {
        errors.push_back({"expected_version", "must be a whole number"});
      } else {
        expected = body["expected_version"].get<std::uint64_t>();
      }
    }
    if (!errors.empty()) {
      json list = json::array();
      for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
      return respond(Problem(engine::Error{ErrorCode::kValidationFailed,
                                           errors[0].field + " " + errors[0].message,
                                           {{"errors", list}}}));
    }
    if (std::string_view if_match = req.Header("if-match"); !if_match.empty()) {
      std::string_view v = if_match;
      if (v.starts_with("W/")) v.remove_prefix(2);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      auto n = ParseCount(v);
      if (!n)
        return respond(Problem(ErrorCode::kBadRequest, "If-Match must be an ETag like \"3\""));
      if (expected && *expected != *n) {
        return respond(Problem(ErrorCode::kBadRequest, "If-Match and expected_version disagree"));
      }
      expected = *n;
    }
    engine::Submission sub;
    sub.command.kind = engine::Command::Kind::kAct;
    sub.command.collection = c;
    sub.command.instance_id = id;
    sub.command.name = body["command"].get<std::string>();
    sub.command.payload = body.value("payload", json::object());
    sub.command.expected_version = expected;
    sub.command.actor = p;
    if (auto e = IdempotencyOf(req, p, sub)) return respond(Problem(*e));
    seq_.Submit(std::move(sub), [respond =
                                     std::move(respond)](engine::Result<engine::CommandResult> r) {
      if (!r) return respond(Problem(r.error()));
      std::string body =
          "{\"id\":" + json(r->instance.id).dump() + ",\"version\":" + std::to_string(r->version) +
          ",\"state\":" + json(r->state).dump() + ",\"events\":" + EventsArray(r->events) + "}";
      HttpResponse out = JsonText(200, std::move(body));
      out.headers.emplace_back("ETag", "\"" + std::to_string(r->version) + "\"");
      respond(std::move(out));
    });
  }

  // POST /api/v1/protocols: the protocol and one assignment per decision and assignee, created
  // together or not at all (API.md, Protocols).
  void CreateProtocol(const HttpRequest& req, const Principal& p, const json& body,
                      Respond respond) {
    if (p.role != "ministry_official" && p.role != "irpo_staff") {
      return respond(
          Problem(ErrorCode::kForbidden, "protocols are registered by the ministry or IRPO"));
    }
    auto plan = engine::PlanProtocol(body, p, seq_.directory(), ids_);
    if (!plan) return respond(Problem(plan.error()));
    seq_.SubmitGroup(
        std::move(plan->group),
        [number = plan->number, protocol_id = plan->protocol_id,
         assignment_ids = plan->assignment_ids,
         respond = std::move(respond)](engine::Result<std::vector<engine::CommandResult>> r) {
          if (!r) return respond(Problem(r.error()));
          HttpResponse out =
              Json(201, {{"id", protocol_id}, {"number", number}, {"assignments", assignment_ids}});
          out.headers.emplace_back("Location", "/api/v1/protocols/" + protocol_id);
          respond(std::move(out));
        });
  }

  // --- monitoring -------------------------------------------------------------------------

  // from/to of a monitoring query; false (after answering) when one is not a time.
  bool Window(const Target& t, std::optional<engine::Timestamp>& from,
              std::optional<engine::Timestamp>& to, Respond& respond) {
    for (auto [key, out] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
      auto it = t.query.find(key);
      if (it == t.query.end()) continue;
      *out = engine::ParseDeadline(it->second);
      if (!*out) {
        respond(Problem(ErrorCode::kBadRequest,
                        std::string(key) + " must be a date or an RFC 3339 time"));
        return false;
      }
    }
    return true;
  }

  std::vector<engine::InstanceState> Instances(std::string_view collection) const {
    std::vector<engine::InstanceState> out;
    seq_.ForEachInstance([&](const engine::InstanceState& s) {
      if (s.collection == collection) out.push_back(s);
      return true;
    });
    return out;
  }

  void StatsStages(const Target& t, const Principal& p, Respond respond) {
    if (!engine::SeesEverything(p))
      return respond(
          Problem(ErrorCode::kForbidden, "monitoring is for irpo, ministry, auditors and admins"));
    engine::StageStatistics::Query q;
    q.workflow = t.query.count("workflow") ? t.query.at("workflow") : "industry_proposal";
    const engine::Definition* def = seq_.definitions().Latest(q.workflow);
    if (def == nullptr)
      return respond(Problem(ErrorCode::kBadRequest, "no workflow " + q.workflow));
    if (auto g = t.query.find("group_by"); g != t.query.end()) {
      if (g->second != "umc" && g->second != "industry" && g->second != "federal_district") {
        return respond(
            Problem(ErrorCode::kBadRequest, "group_by is umc, industry or federal_district"));
      }
      q.group_by = g->second;
    }
    if (!Window(t, q.from, q.to, respond)) return;
    options_.offload([this, q, collection = def->collection, respond = std::move(respond)] {
      if (auto r = stages_.CatchUp(log_); !r) return respond(Problem(r.error()));
      (void)stages_.Save(log_);  // best effort: a failed save only means a longer catch-up later
      respond(Json(200, stages_.Stages(q, Instances(collection))));
    });
  }

  void StatsDiscipline(const Target& t, const Principal& p, Respond respond) {
    if (!engine::SeesEverything(p))
      return respond(
          Problem(ErrorCode::kForbidden, "monitoring is for irpo, ministry, auditors and admins"));
    std::optional<engine::Timestamp> from, to;
    if (!Window(t, from, to, respond)) return;
    const std::string protocol = t.query.count("protocol") ? t.query.at("protocol") : "";
    respond(Json(200, engine::Discipline(Instances("assignments"), protocol, from, to)));
  }

  // --- the log ----------------------------------------------------------------------------

  void GlobalEvents(const Target& t, const Principal& p, Respond respond) {
    if (!engine::SeesEverything(p))
      return respond(Problem(ErrorCode::kForbidden,
                             "the whole log is for irpo, ministry, auditors and admins"));
    auto after =
        t.query.count("after") ? ParseCount(t.query.at("after")) : std::optional<std::size_t>(0);
    auto limit =
        t.query.count("limit") ? ParseCount(t.query.at("limit")) : std::optional<std::size_t>(100);
    if (!after || !limit || *limit == 0 || *limit > kMaxLimit) {
      return respond(Problem(ErrorCode::kBadRequest, "after must be a seq and limit 1 to 500"));
    }
    auto events = log_.ReadAll(*after + 1, *limit);
    if (!events) return respond(Problem(events.error()));
    respond(JsonText(200, "{\"events\":" + EventsArray(*events) +
                              ",\"head\":" + std::to_string(log_.GetHead().seq) + "}"));
  }

  void AuditExport(const Target& t, const Principal& p, Respond respond) {
    if (!engine::SeesEverything(p))
      return respond(
          Problem(ErrorCode::kForbidden, "the export is for irpo, ministry, auditors and admins"));
    auto after =
        t.query.count("after") ? ParseCount(t.query.at("after")) : std::optional<std::size_t>(0);
    auto limit = t.query.count("limit") ? ParseCount(t.query.at("limit"))
                                        : std::optional<std::size_t>(kMaxExport);
    if (!after || !limit || *limit == 0 || *limit > kMaxExport) {
      return respond(Problem(ErrorCode::kBadRequest, "after must be a seq and limit 1 to 100000"));
    }
    options_.offload([this, after = *after, limit = *limit, respond = std::move(respond)] {
      HttpResponse r;
      r.content_type = "application/x-ndjson";
      const std::uint64_t head = log_.GetHead().seq;
      auto ok =
          log_.ForEach(after + 1, std::min<std::uint64_t>(head, after + limit),
                       [&](std::uint64_t seq, const engine::Hash& hash, std::string_view record) {
                         r.body += "{\"seq\":" + std::to_string(seq) + ",\"hash\":\"" +
                                   engine::ToHex(hash) + "\",\"record\":";
                         engine::AppendJsonString(record, r.body);
                         r.body += "}\n";
                         return true;
                       });
      if (!ok) return respond(Problem(ok.error()));
      r.headers.emplace_back("X-Head-Seq", std::to_string(head));
      respond(std::move(r));
    });
  }

  void AuditVerify(const Principal& p, Respond respond) {
    if (!engine::SeesEverything(p))
      return respond(Problem(ErrorCode::kForbidden,
                             "verification is for irpo, ministry, auditors and admins"));
    options_.offload([this, respond = std::move(respond)] {
      auto v = engine::Verify(log_);
      if (!v) return respond(Problem(v.error()));
      if (v->ok) {
        return respond(Json(200, {{"ok", true},
                                  {"checked", v->checked},
                                  {"head_seq", v->head.seq},
                                  {"head_hash", engine::ToHex(v->head.hash)}}));
      }
      respond(Json(200, {{"ok", false},
                         {"checked", v->checked},
                         {"first_bad_seq", v->first_bad_seq},
                         {"reason", v->reason}}));
    });
  }

 public:
  static std::string_view OpenApiDocument();

  engine::Result<std::uint64_t> OpenEventStream(const HttpRequest& req) {
    Target t = ParseTarget(req.target);
    if (!t.ok) return engine::Fail(ErrorCode::kBadRequest, "the request target is not valid");
    auto p = Authenticate(req);
    if (!p) return std::unexpected(p.error());
    if (!engine::SeesEverything(*p)) {
      return engine::Fail(ErrorCode::kForbidden,
                          "the event stream is for irpo, ministry, auditors and admins");
    }
    std::string from = t.query.count("after") ? t.query.at("after") : "0";
    if (std::string_view last = req.Header("last-event-id"); !last.empty())
      from = std::string(last);
    auto after = ParseCount(from);
    if (!after)
      return engine::Fail(ErrorCode::kBadRequest, "after and Last-Event-ID must be a seq");
    return *after;
  }

  std::pair<std::string, std::uint64_t> NextEventMessages(std::uint64_t after, std::size_t max) {
    std::string out;
    std::uint64_t last = after;
    const std::uint64_t head = log_.GetHead().seq;
    if (head <= after) return {out, last};
    (void)log_.ForEach(
        after + 1, std::min<std::uint64_t>(head, after + max),
        [&](std::uint64_t seq, const engine::Hash& hash, std::string_view record) {
          auto type = engine::RecordType(record);
          out += "id: " + std::to_string(seq) + "\nevent: ";
          out += type;
          out += "\ndata: ";
          out += engine::EventJsonText(engine::StoredEvent{seq, hash, std::string(record)});
          out += "\n\n";
          last = seq;
          return true;
        });
    return {out, last};
  }

 private:
  engine::Sequencer& seq_;
  engine::EventLog& log_;
  TokenStore& tokens_;
  Metrics& metrics_;
  RouterOptions options_;
  StaticFiles static_files_;
  engine::RandomIdGenerator ids_;
  engine::StageStatistics stages_;
};

std::string_view Router::Impl::OpenApiDocument() {
  for (const auto& f : EmbeddedFiles()) {
    if (f.name == "openapi.json") return f.data;
  }
  return "{}";
}

Router::Router(engine::Sequencer& sequencer, engine::EventLog& log, TokenStore& tokens,
               Metrics& metrics, RouterOptions options)
    : impl_(std::make_unique<Impl>(sequencer, log, tokens, metrics, std::move(options))) {}

Router::~Router() = default;

void Router::Handle(HttpRequest request, Respond respond) {
  impl_->Handle(std::move(request), std::move(respond));
}

engine::Result<std::uint64_t> Router::OpenEventStream(const HttpRequest& request) {
  return impl_->OpenEventStream(request);
}

std::pair<std::string, std::uint64_t> Router::NextEventMessages(std::uint64_t after,
                                                                std::size_t max) {
  return impl_->NextEventMessages(after, max);
}

std::string Router::RouteOf(const HttpRequest& request) {
  Target t = ParseTarget(request.target);
  if (!t.path.starts_with("/api/v1/")) {
    if (t.path == "/healthz" || t.path == "/readyz" || t.path == "/metrics") return t.path;
    return "other";
  }
  auto seg = Segments(std::string_view(t.path).substr(8));
  static const std::set<std::string, std::less<>> kFixed = {
      "me",    "openapi.json", "workflows", "organizations", "regions",   "tokens",
      "admin", "inbox",        "events",    "audit",         "protocols", "stats"};
  std::string route = "/api/v1";
  for (std::size_t i = 0; i < seg.size() && i < 4; ++i) {
    if (i == 0)
      route += kFixed.contains(seg[0]) ? "/" + seg[0] : "/{c}";
    else if (i == 1 &&
             (seg[0] == "audit" || seg[0] == "admin" || seg[0] == "stats" || seg[1] == "stream"))
      route += "/" + seg[1];
    else if (i == 1)
      route += "/{id}";
    else
      route += "/" + (seg[i] == "commands" || seg[i] == "events" || seg[i] == "verify"
                          ? seg[i]
                          : std::string("{x}"));
  }
  return route;
}

}  // namespace expertflow::api
