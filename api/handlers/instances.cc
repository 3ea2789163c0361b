#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <optional>
#include <tuple>

#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"
#include "engine/decide/policy.h"

namespace expertflow::api::handlers {
namespace {

using engine::ErrorCode;
using engine::Principal;
using nlohmann::json;

const engine::Definition* DefinitionOf(const Context& ctx, const engine::InstanceState& s) {
  return ctx.seq.definitions().Find(s.workflow, s.workflow_version);
}

// A protocol shows the state of each of its assignments.
void AddAssignmentStates(const Context& ctx, const engine::InstanceState& s, json& v) {
  json list = json::array();
  const json ids = s.fields.value("assignments", json::array());
  for (const auto& id : ids) {
    if (!id.is_string()) continue;
    auto a = ctx.seq.Find("assignments", id.get<std::string>());
    if (!a) continue;
    list.push_back(
        {{"id", a->id},
         {"assignee", a->participants.count("assignee") ? a->participants.at("assignee") : ""},
         {"state", a->state}});
  }
  v["assignment_states"] = std::move(list);
}

// The instance as it stood: its own stream replayed through evolve, up to a version or a time.
// The cost grows with the stream, not with the log.
engine::Result<engine::InstanceState> StateAt(const Context& ctx, const std::string& stream,
                                              std::uint64_t max_version,
                                              std::optional<engine::Timestamp> max_time) {
  engine::InstanceState s;
  auto events = ctx.log.ReadStream(stream, 1, max_version);
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

}  // namespace

json View(const Context& ctx, const engine::InstanceState& s, const Principal& p) {
  const engine::Definition* d = DefinitionOf(ctx, s);
  if (d == nullptr) return json::object();
  json v = engine::InstanceView(*d, s, &p);
  if (s.collection == "protocols") AddAssignmentStates(ctx, s, v);
  return v;
}

void GetInstance(Context& ctx, const Call& call, Respond respond) {
  const std::string& c = call.segments[0];
  const std::string& id = call.segments[1];
  const Target& t = call.target;
  const Principal& p = call.principal;
  auto s = ctx.seq.Find(c, id);
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
    auto past = StateAt(ctx, s->Stream(), max_version, max_time);
    if (!past) return respond(Problem(past.error()));
    if (past->version == 0)
      return respond(Problem(ErrorCode::kNotFound, "the instance did not exist then"));
    HttpResponse r = Json(200, View(ctx, *past, p));
    r.headers.emplace_back("ETag", "\"" + std::to_string(past->version) + "\"");
    r.revalidate = past->collection != "protocols";
    return respond(std::move(r));
  }
  HttpResponse r = Json(200, View(ctx, *s, p));
  r.headers.emplace_back("ETag", "\"" + std::to_string(s->version) + "\"");
  // The version does not cover the assignments' states a protocol's view shows.
  r.revalidate = s->collection != "protocols";
  respond(std::move(r));
}

namespace {

// Text folded for a search by title: ASCII and Cyrillic letters to lower case, Ё and ё to е (a
// title is written with either), every other byte as it is.
std::string Folded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    if (c < 0x80) {
      out += static_cast<char>(std::tolower(c));
    } else if ((c == 0xd0 && next == 0x81) || (c == 0xd1 && next == 0x91)) {
      out += "\xd0\xb5";  // Ё, ё -> е
      ++i;
    } else if (c == 0xd0 && next >= 0x90 && next <= 0x9f) {
      out += static_cast<char>(0xd0);
      out += static_cast<char>(next + 0x20);  // А..П -> а..п
      ++i;
    } else if (c == 0xd0 && next >= 0xa0 && next <= 0xaf) {
      out += static_cast<char>(0xd1);
      out += static_cast<char>(next - 0x20);  // Р..Я -> р..я
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// What names an instance, as the page shows it: a proposal's or a protocol's title, an
// assignment's decision, else a number or a name.
std::string NameOf(const engine::InstanceState& s) {
  for (const char* k : {"title", "decision", "text", "number", "name"}) {
    if (const std::string* text = s.fields.Text(k); text != nullptr && text->starts_with('"'))
      return s.fields.value(k, "");
  }
  return s.id;
}

}  // namespace

void ListInstances(Context& ctx, const Call& call, Respond respond) {
  const std::string& c = call.segments[0];
  const Target& t = call.target;
  const Principal& p = call.principal;
  const auto n = CountParam(t, "limit", kDefaultLimit);
  if (!n || *n == 0 || *n > kMaxLimit) {
    return respond(
        Problem(ErrorCode::kBadRequest, "limit must be 1 to " + std::to_string(kMaxLimit)));
  }
  const std::size_t limit = *n;
  auto q = [&](const char* k) -> std::string {
    auto it = t.query.find(k);
    return it == t.query.end() ? "" : it->second;
  };
  for (const auto& [k, v] : t.query) {
    if (k != "limit" && k != "cursor" && k != "state" && k != "workflow" && k != "org" &&
        k != "awaiting" && k != "q") {
      return respond(Problem(ErrorCode::kBadRequest, "unknown query parameter " + k));
    }
  }
  const std::string state = q("state"), workflow = q("workflow"), org = q("org"),
                    awaiting = q("awaiting");
  // q: words of the title (or of what names the instance), in any case, ё as е (issue 18).
  const std::string search = Folded(q("q"));
  if (search.size() > 200)
    return respond(Problem(ErrorCode::kBadRequest, "q is at most 200 bytes"));
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
  ctx.seq.ForEachInstance([&](const engine::InstanceState& s) {
    if (s.collection != c || !engine::CanSee(s, p)) return true;
    if (!state.empty() && s.state != state) return true;
    if (!workflow.empty() && s.workflow != workflow) return true;
    if (!org.empty() && std::none_of(s.participants.begin(), s.participants.end(),
                                     [&](const auto& e) { return e.second == org; })) {
      return true;
    }
    if (!search.empty() && Folded(NameOf(s)).find(search) == std::string::npos) return true;
    if (!awaiting.empty()) {
      const auto* d = DefinitionOf(ctx, s);
      if (d == nullptr) return true;
      bool waits = false;
      for (const auto& a : engine::Awaiting(*d, s)) waits = waits || a["org"] == awaiting;
      if (!waits) return true;
    }
    items.push_back(s);
    return true;
  });
  auto key = [](const engine::InstanceState& s) {
    return std::make_pair(static_cast<std::int64_t>(s.created_at.time_since_epoch().count()), s.id);
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
    out.push_back(View(ctx, s, p));
    last = key(s);
  }
  json next = more ? json(std::to_string(last->first) + "_" + last->second) : json();
  respond(Page(t, {{"items", out}, {"next_cursor", next}}));
}

// GET /api/v1/inbox[?limit=N&cursor=C]: what the caller may act on now, the nearest deadline
// first (none last), then the oldest. It pages as the lists do (issue 20): `next_cursor` and a
// Link header when there is more. The default limit stays the maximum, 500, as before paging.
// The cursor is the position of the last item given: "<deadline>_<created_at>_<collection>/<id>",
// deadline and creation as counts of the clock's ticks.
void Inbox(Context& ctx, const Call& call, Respond respond) {
  const Target& t = call.target;
  const Principal& p = call.principal;
  for (const auto& [k, v] : t.query) {
    if (k != "limit" && k != "cursor")
      return respond(Problem(ErrorCode::kBadRequest, "unknown query parameter " + k));
  }
  const auto n = CountParam(t, "limit", kMaxLimit);
  if (!n || *n == 0 || *n > kMaxLimit)
    return respond(Problem(ErrorCode::kBadRequest, "limit must be 1 to 500"));
  using Key = std::tuple<std::int64_t, std::int64_t, std::string>;
  const auto key = [](const engine::InstanceState& s) {
    auto d = engine::NextDeadline(s);
    return Key{d ? d->time_since_epoch().count() : std::numeric_limits<std::int64_t>::max(),
               s.created_at.time_since_epoch().count(), s.Stream()};
  };
  std::optional<Key> after;
  if (auto c = t.query.find("cursor"); c != t.query.end()) {
    const std::string& cursor = c->second;
    const auto first = cursor.find('_');
    const auto second = first == std::string::npos ? first : cursor.find('_', first + 1);
    std::int64_t deadline = 0, created = 0;
    const auto number = [&](std::size_t from, std::size_t to, std::int64_t& v) {
      auto [ptr, ec] = std::from_chars(cursor.data() + from, cursor.data() + to, v);
      return ec == std::errc() && ptr == cursor.data() + to;
    };
    if (second == std::string::npos || !number(0, first, deadline) ||
        !number(first + 1, second, created) || cursor.find('/', second + 1) == std::string::npos) {
      return respond(Problem(ErrorCode::kBadRequest, "cursor is not one this server gave"));
    }
    after.emplace(deadline, created, cursor.substr(second + 1));
  }
  std::vector<std::pair<Key, engine::InstanceState>> items;
  ctx.seq.ForEachInstance([&](const engine::InstanceState& s) {
    const auto* d = DefinitionOf(ctx, s);
    if (d == nullptr) return true;
    if (engine::AllowedCommands(*d, s, p).empty()) return true;
    Key k = key(s);
    if (after && !(*after < k)) return true;
    items.emplace_back(std::move(k), s);
    return true;
  });
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::size_t limit = *n;
  json out = json::array();
  json next;
  for (const auto& [k, s] : items) {
    if (out.size() == limit) {
      const auto& [deadline, created, stream] = items[limit - 1].first;
      next = std::to_string(deadline) + "_" + std::to_string(created) + "_" + stream;
      break;
    }
    out.push_back(View(ctx, s, p));
  }
  respond(Page(t, {{"items", out}, {"next_cursor", next}}));
}

}  // namespace expertflow::api::handlers
