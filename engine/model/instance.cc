#include "engine/model/instance.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

#include "engine/log/event.h"

namespace expertflow::engine {
namespace {

using simdjson::dom::element;

Timestamp TimeOf(const nlohmann::json& j) {
  if (j.is_string()) {
    if (auto t = ParseRfc3339(j.get<std::string>())) return *t;
  }
  return Timestamp{};
}

Timestamp TimeOf(element e) {
  std::string_view text;
  if (e.get(text) == simdjson::SUCCESS) {
    if (auto t = ParseRfc3339(text)) return *t;
  }
  return Timestamp{};
}

std::string StringOf(element e, const char* key) {
  std::string_view text;
  return e[key].get(text) == simdjson::SUCCESS ? std::string(text) : std::string();
}

std::uint32_t NumberOf(element e, const char* key) {
  std::uint64_t n = 0;
  return e[key].get(n) == simdjson::SUCCESS ? static_cast<std::uint32_t>(n) : 0;
}

bool BoolOf(element e, const char* key) {
  bool b = false;
  return e[key].get(b) == simdjson::SUCCESS && b;
}

// The same value as nlohmann's parser would have built from the text (non-negative integers
// unsigned, the last of duplicate keys kept), so that the stored fields do not depend on which
// parser read an event.
nlohmann::json ToJson(element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      nlohmann::json out = nlohmann::json::array();
      const simdjson::dom::array items = e.get_array().value_unsafe();
      for (element item : items) out.push_back(ToJson(item));
      return out;
    }
    case simdjson::dom::element_type::OBJECT: {
      nlohmann::json out = nlohmann::json::object();
      const simdjson::dom::object fields = e.get_object().value_unsafe();
      for (auto field : fields) out[std::string(field.key)] = ToJson(field.value);
      return out;
    }
    case simdjson::dom::element_type::INT64: {
      const std::int64_t v = e.get_int64().value_unsafe();
      return v >= 0 ? nlohmann::json(static_cast<std::uint64_t>(v)) : nlohmann::json(v);
    }
    case simdjson::dom::element_type::UINT64:
      return e.get_uint64().value_unsafe();
    case simdjson::dom::element_type::DOUBLE:
      return e.get_double().value_unsafe();
    case simdjson::dom::element_type::STRING:
      return std::string(e.get_string().value_unsafe());
    case simdjson::dom::element_type::BOOL:
      return e.get_bool().value_unsafe();
    case simdjson::dom::element_type::NULL_VALUE:
      return nullptr;
  }
  return nullptr;
}

// The canonical text of a value (what AppendJson writes of ToJson(e)), written straight from the
// parsed event data where that is plain: strings, integers, booleans, null and arrays of them.
// Objects (sorted by name, the last of duplicate names kept) and floating-point numbers (nlohmann
// writes their shortest form) go through nlohmann.
void AppendCanonical(element e, std::string& out) {
  char digits[24];
  switch (e.type()) {
    case simdjson::dom::element_type::STRING:
      AppendJsonString(e.get_string().value_unsafe(), out);
      return;
    case simdjson::dom::element_type::INT64: {
      auto end = std::to_chars(digits, digits + sizeof digits, e.get_int64().value_unsafe()).ptr;
      out.append(digits, end);
      return;
    }
    case simdjson::dom::element_type::UINT64: {
      auto end = std::to_chars(digits, digits + sizeof digits, e.get_uint64().value_unsafe()).ptr;
      out.append(digits, end);
      return;
    }
    case simdjson::dom::element_type::BOOL:
      out += e.get_bool().value_unsafe() ? "true" : "false";
      return;
    case simdjson::dom::element_type::NULL_VALUE:
      out += "null";
      return;
    case simdjson::dom::element_type::ARRAY: {
      out.push_back('[');
      bool first = true;
      // A named array: the range of a for over the temporary result would dangle.
      const simdjson::dom::array items = e.get_array().value_unsafe();
      for (element item : items) {
        if (!first) out.push_back(',');
        first = false;
        AppendCanonical(item, out);
      }
      out.push_back(']');
      return;
    }
    case simdjson::dom::element_type::OBJECT:
    case simdjson::dom::element_type::DOUBLE:
      AppendJson(ToJson(e), out);
      return;
  }
}

Period* FindPeriod(InstanceState& s, std::uint32_t number) {
  for (auto& p : s.periods) {
    if (p.number == number) return &p;
  }
  return nullptr;
}

// The members of event data that evolve reads, found in one pass over the object.
struct Effects {
  std::optional<element> created, payload, assign, vote, to, round, timers, overdue, periods,
      report, list;
  bool update_fields = false;
};

Effects EffectsOf(simdjson::dom::object data) {
  Effects f;
  for (auto field : data) {
    const std::string_view k = field.key;
    if (k == "created")
      f.created = field.value;
    else if (k == "payload")
      f.payload = field.value;
    else if (k == "update_fields")
      f.update_fields = field.value.is_bool() && field.value.get_bool().value_unsafe();
    else if (k == "assign")
      f.assign = field.value;
    else if (k == "vote")
      f.vote = field.value;
    else if (k == "to")
      f.to = field.value;
    else if (k == "round")
      f.round = field.value;
    else if (k == "timers")
      f.timers = field.value;
    else if (k == "overdue")
      f.overdue = field.value;
    else if (k == "periods")
      f.periods = field.value;
    else if (k == "report")
      f.report = field.value;
    else if (k == "list")
      f.list = field.value;
  }
  return f;
}

void Apply(InstanceState& s, Timestamp at, const Effects& f) {
  if (f.created && f.created->is_object()) {
    const element c = *f.created;
    s.id = StringOf(c, "id");
    s.collection = StringOf(c, "collection");
    s.workflow = StringOf(c, "workflow");
    s.workflow_version = NumberOf(c, "workflow_version");
    s.created_by = StringOf(c, "by");
    s.created_at = at;
    s.stage_entered_at = at;
    simdjson::dom::object participants;
    if (c["participants"].get(participants) == simdjson::SUCCESS) {
      for (auto field : participants) {
        std::string_view org;
        if (field.value.get(org) == simdjson::SUCCESS) s.participants.Set(field.key, org);
      }
    }
  }
  if (simdjson::dom::object payload;
      f.update_fields && f.payload && f.payload->get(payload) == simdjson::SUCCESS) {
    for (auto field : payload) {
      std::string text;
      AppendCanonical(field.value, text);
      s.fields.SetText(field.key, std::move(text));
    }
  }
  if (simdjson::dom::object assign; f.assign && f.assign->get(assign) == simdjson::SUCCESS) {
    for (auto field : assign) {
      std::string_view org;
      if (field.value.get(org) == simdjson::SUCCESS) s.participants.Set(field.key, org);
    }
  }
  if (f.vote && f.vote->is_object() && s.round) {
    const std::string org = StringOf(*f.vote, "org");
    for (auto& p : s.round->parties) {
      if (p.org == org && !p.acted) {
        p.acted = true;
        p.verdict = StringOf(*f.vote, "verdict");
        auto at_org = std::lower_bound(s.concluded.begin(), s.concluded.end(), org);
        if (at_org == s.concluded.end() || *at_org != org) s.concluded.insert(at_org, org);
        break;
      }
    }
  }
  if (std::string_view to; f.to && f.to->get(to) == simdjson::SUCCESS) {
    if (to != s.state) {
      s.stage_entered_at = at;
      s.state_entered_version = s.version;
    }
    s.state = to;
    s.round.reset();  // a round lives only in the state that opened it
  }
  if (simdjson::dom::array parties;
      f.round && f.round->is_object() && (*f.round)["parties"].get(parties) == simdjson::SUCCESS) {
    Round r;
    r.number = NumberOf(*f.round, "number");
    for (element p : parties) {
      r.parties.push_back(Party{StringOf(p, "org"), StringOf(p, "role"), false, ""});
    }
    s.rounds = r.number;
    s.round = std::move(r);
  }
  if (f.timers && f.timers->is_object()) {
    const element t = *f.timers;
    if (simdjson::dom::array clear; t["clear"].get(clear) == simdjson::SUCCESS) {
      for (element name : clear) {
        std::string_view n;
        if (name.get(n) != simdjson::SUCCESS) continue;
        const std::string key(n);
        s.timers.erase(key);
        s.overdue.erase(key);
      }
    }
    if (simdjson::dom::array fired; t["fired"].get(fired) == simdjson::SUCCESS) {
      for (element name : fired) {
        std::string_view n;
        if (name.get(n) != simdjson::SUCCESS) continue;
        s.timers.erase(std::string(n));
      }
    }
    if (simdjson::dom::object set; t["set"].get(set) == simdjson::SUCCESS) {
      for (auto field : set) s.timers[std::string(field.key)] = TimeOf(field.value);
    }
  }
  if (std::string_view name; f.overdue && f.overdue->get(name) == simdjson::SUCCESS) {
    s.overdue.emplace(std::string(name), at);
  }
  if (f.report && f.report->is_object()) {
    // Protocol reports (decide.cc, RecordReport): a submitted one is appended pending; a settled
    // one marks the latest pending entry.
    nlohmann::json reports = s.fields.Get("reports");
    if (!reports.is_array()) reports = nlohmann::json::array();
    if (element added; (*f.report)["submitted"].get(added) == simdjson::SUCCESS) {
      nlohmann::json entry = ToJson(added);
      entry["status"] = "pending";
      reports.push_back(std::move(entry));
    }
    if (std::string_view settled; (*f.report)["settled"].get(settled) == simdjson::SUCCESS) {
      for (auto it = reports.rbegin(); it != reports.rend(); ++it) {
        if (it->is_object() && it->value("status", "") == "pending") {
          (*it)["status"] = settled;
          if (bool on_time; (*f.report)["on_time"].get(on_time) == simdjson::SUCCESS) {
            (*it)["on_time"] = on_time;
          }
          break;
        }
      }
    }
    s.fields.Set("reports", reports);
  }
  if (f.list && f.list->is_object()) {
    // {"field": F, "add"|"remove": item}: a set of strings in fields.F, in the order added (a
    // group's members, issue 15).
    std::string_view name, item;
    if ((*f.list)["field"].get(name) == simdjson::SUCCESS) {
      nlohmann::json list = s.fields.Get(name);
      if (!list.is_array()) list = nlohmann::json::array();
      auto find = [&](std::string_view v) {
        return std::find_if(list.begin(), list.end(), [&](const nlohmann::json& x) {
          return x.is_string() && x.get_ref<const std::string&>() == v;
        });
      };
      if ((*f.list)["add"].get(item) == simdjson::SUCCESS && find(item) == list.end())
        list.push_back(std::string(item));
      if ((*f.list)["remove"].get(item) == simdjson::SUCCESS) {
        if (auto it = find(item); it != list.end()) list.erase(it);
      }
      s.fields.Set(name, list);
    }
  }
  if (f.periods && f.periods->is_object()) {
    const element p = *f.periods;
    if (simdjson::dom::array missed; p["missed"].get(missed) == simdjson::SUCCESS) {
      for (element n : missed) {
        std::uint64_t number = 0;
        if (n.get(number) != simdjson::SUCCESS) continue;
        if (Period* period = FindPeriod(s, static_cast<std::uint32_t>(number)))
          period->missed = true;
      }
    }
    if (element acc; p["accepted"].get(acc) == simdjson::SUCCESS && acc.is_object()) {
      if (Period* period = FindPeriod(s, NumberOf(acc, "number"))) {
        period->accepted = true;
        period->on_time = BoolOf(acc, "on_time");
      }
    }
    if (simdjson::dom::array add; p["add"].get(add) == simdjson::SUCCESS) {
      for (element item : add) {
        element due;
        s.periods.push_back(
            Period{NumberOf(item, "number"),
                   item["due"].get(due) == simdjson::SUCCESS ? TimeOf(due) : Timestamp{}, false,
                   false, false});
      }
    }
  }
}

}  // namespace

void Evolve(InstanceState& s, Timestamp at, std::string_view data) {
  ++s.version;
  s.updated_at = at;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(data.data(), data.size()).get(object) != simdjson::SUCCESS) {
    // simdjson refuses integers beyond 64 bits, which nlohmann reads as doubles: read such data
    // the way it was written, then evolve from that.
    auto j = nlohmann::json::parse(data, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    const std::string normalised = j.dump();
    if (parser.parse(normalised).get(object) != simdjson::SUCCESS) return;
    Apply(s, at, EffectsOf(object));
    return;
  }
  Apply(s, at, EffectsOf(object));
}

Result<void> EvolveRecord(InstanceState& state, std::string_view record) {
  thread_local RecordReader reader;
  auto view = reader.Read(record);
  if (!view) return std::unexpected(view.error());
  Evolve(state, view->occurred_at, view->data);
  return {};
}

nlohmann::json StateToJson(const InstanceState& s) {
  nlohmann::json j;
  j["id"] = s.id;
  j["collection"] = s.collection;
  j["concluded"] = s.concluded;
  j["workflow"] = s.workflow;
  j["workflow_version"] = s.workflow_version;
  j["state"] = s.state;
  j["version"] = s.version;
  j["created_at"] = FormatRfc3339(s.created_at);
  j["updated_at"] = FormatRfc3339(s.updated_at);
  j["stage_entered_at"] = FormatRfc3339(s.stage_entered_at);
  j["state_entered_version"] = s.state_entered_version;
  j["created_by"] = s.created_by;
  j["participants"] = nlohmann::json::object();
  for (const auto& [k, v] : s.participants) j["participants"][k] = v;
  j["fields"] = s.fields.ToJson();
  if (s.round) {
    nlohmann::json parties = nlohmann::json::array();
    for (const auto& p : s.round->parties) {
      parties.push_back(
          {{"org", p.org}, {"role", p.role}, {"acted", p.acted}, {"verdict", p.verdict}});
    }
    j["round"] = {{"number", s.round->number}, {"parties", parties}};
  }
  j["rounds"] = s.rounds;
  j["timers"] = nlohmann::json::object();
  for (const auto& [k, v] : s.timers) j["timers"][k] = FormatRfc3339(v);
  j["overdue"] = nlohmann::json::object();
  for (const auto& [k, v] : s.overdue) j["overdue"][k] = FormatRfc3339(v);
  j["periods"] = nlohmann::json::array();
  for (const auto& p : s.periods) {
    j["periods"].push_back({{"number", p.number},
                            {"due", FormatRfc3339(p.due)},
                            {"missed", p.missed},
                            {"accepted", p.accepted},
                            {"on_time", p.on_time}});
  }
  return j;
}

std::string StateToText(const InstanceState& s) {
  std::string out;
  out.reserve(1024);
  auto key = [&](std::string_view name) {
    out += '"';
    out += name;
    out += "\":";
  };
  auto text = [&](std::string_view name, std::string_view value) {
    key(name);
    AppendJsonString(value, out);
    out += ',';
  };
  auto number = [&](std::string_view name, std::uint64_t value) {
    key(name);
    out += std::to_string(value);
    out += ',';
  };
  auto flag = [&](std::string_view name, bool value) {
    key(name);
    out += value ? "true," : "false,";
  };
  auto close = [&](char c) {
    if (out.back() == ',') out.pop_back();
    out += c;
  };
  auto times = [&](std::string_view name, const std::map<std::string, Timestamp>& m) {
    key(name);
    out += '{';
    for (const auto& [k, v] : m) text(k, FormatRfc3339(v));
    close('}');
    out += ',';
  };
  out += '{';
  text("collection", s.collection);
  key("concluded");
  out += '[';
  for (const auto& org : s.concluded) {
    AppendJsonString(org, out);
    out += ',';
  }
  close(']');
  out += ',';
  text("created_at", FormatRfc3339(s.created_at));
  text("created_by", s.created_by);
  key("fields");
  s.fields.AppendTo(out);
  out += ',';
  text("id", s.id);
  times("overdue", s.overdue);
  key("participants");
  out += '{';
  for (const auto& [k, v] : s.participants) text(k, v);
  close('}');
  out += ',';
  key("periods");
  out += '[';
  for (const auto& p : s.periods) {
    out += '{';
    flag("accepted", p.accepted);
    text("due", FormatRfc3339(p.due));
    flag("missed", p.missed);
    number("number", p.number);
    flag("on_time", p.on_time);
    close('}');
    out += ',';
  }
  close(']');
  out += ',';
  if (s.round) {
    key("round");
    out += '{';
    number("number", s.round->number);
    key("parties");
    out += '[';
    for (const auto& p : s.round->parties) {
      out += '{';
      flag("acted", p.acted);
      text("org", p.org);
      text("role", p.role);
      text("verdict", p.verdict);
      close('}');
      out += ',';
    }
    close(']');
    out += "},";
  }
  number("rounds", s.rounds);
  text("stage_entered_at", FormatRfc3339(s.stage_entered_at));
  text("state", s.state);
  number("state_entered_version", s.state_entered_version);
  times("timers", s.timers);
  text("updated_at", FormatRfc3339(s.updated_at));
  number("version", s.version);
  text("workflow", s.workflow);
  number("workflow_version", s.workflow_version);
  close('}');
  return out;
}

Result<InstanceState> StateFromJson(const nlohmann::json& j) {
  try {
    InstanceState s;
    s.id = j.at("id").get<std::string>();
    s.collection = j.at("collection").get<std::string>();
    s.workflow = j.at("workflow").get<std::string>();
    s.workflow_version = j.at("workflow_version").get<std::uint32_t>();
    s.state = j.at("state").get<std::string>();
    s.version = j.at("version").get<std::uint64_t>();
    s.created_at = TimeOf(j.at("created_at"));
    s.updated_at = TimeOf(j.at("updated_at"));
    s.stage_entered_at = TimeOf(j.at("stage_entered_at"));
    s.created_by = j.at("created_by").get<std::string>();
    for (const auto& [k, v] : j.at("participants").items())
      s.participants.Set(k, v.get<std::string>());
    s.fields = Fields::FromJson(j.at("fields"));
    if (auto it = j.find("round"); it != j.end()) {
      Round r;
      r.number = it->at("number").get<std::uint32_t>();
      for (const auto& p : it->at("parties")) {
        r.parties.push_back(Party{p.at("org").get<std::string>(), p.at("role").get<std::string>(),
                                  p.at("acted").get<bool>(), p.at("verdict").get<std::string>()});
      }
      s.round = std::move(r);
    }
    s.rounds = j.at("rounds").get<std::uint32_t>();
    s.concluded = j.value("concluded", std::vector<std::string>{});
    s.state_entered_version = j.value("state_entered_version", std::uint64_t{0});
    for (const auto& [k, v] : j.at("timers").items()) s.timers[k] = TimeOf(v);
    for (const auto& [k, v] : j.at("overdue").items()) s.overdue[k] = TimeOf(v);
    for (const auto& p : j.at("periods")) {
      s.periods.push_back(Period{p.at("number").get<std::uint32_t>(), TimeOf(p.at("due")),
                                 p.at("missed").get<bool>(), p.at("accepted").get<bool>(),
                                 p.at("on_time").get<bool>()});
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kCorruption,
                std::string("stored instance state is invalid: ") + e.what());
  }
}

}  // namespace expertflow::engine
