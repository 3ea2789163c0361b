#include "engine/instance.h"

namespace expertflow::engine {
namespace {

Timestamp TimeOf(const nlohmann::json& j) {
  if (j.is_string()) {
    if (auto t = ParseRfc3339(j.get<std::string>())) return *t;
  }
  return Timestamp{};
}

Period* FindPeriod(InstanceState& s, std::uint32_t number) {
  for (auto& p : s.periods) {
    if (p.number == number) return &p;
  }
  return nullptr;
}

}  // namespace

void Evolve(InstanceState& s, std::string_view type, Timestamp at, const nlohmann::json& data) {
  ++s.version;
  s.updated_at = at;
  if (auto it = data.find("created"); it != data.end()) {
    const auto& c = *it;
    s.id = c.value("id", "");
    s.collection = c.value("collection", "");
    s.workflow = c.value("workflow", "");
    s.workflow_version = c.value("workflow_version", 0u);
    s.created_by = c.value("by", "");
    s.created_at = at;
    s.stage_entered_at = at;
    for (const auto& [slot, org] : c.at("participants").items()) {
      s.participants[slot] = org.get<std::string>();
    }
  }
  if (data.value("update_fields", false)) {
    if (auto it = data.find("payload"); it != data.end() && it->is_object()) {
      for (const auto& [k, v] : it->items()) s.fields[k] = v;
    }
  }
  if (auto it = data.find("assign"); it != data.end() && it->is_object()) {
    for (const auto& [slot, org] : it->items()) s.participants[slot] = org.get<std::string>();
  }
  if (auto it = data.find("vote"); it != data.end() && s.round) {
    const std::string org = it->value("org", "");
    for (auto& p : s.round->parties) {
      if (p.org == org && !p.acted) {
        p.acted = true;
        p.verdict = it->value("verdict", "");
        break;
      }
    }
  }
  if (auto it = data.find("to"); it != data.end()) {
    std::string to = it->get<std::string>();
    if (to != s.state) s.stage_entered_at = at;
    s.state = std::move(to);
    s.round.reset();  // a round lives only in the state that opened it
  }
  if (auto it = data.find("round"); it != data.end() && it->contains("parties")) {
    Round r;
    r.number = it->value("number", 0u);
    for (const auto& p : it->at("parties")) {
      r.parties.push_back(Party{p.value("org", ""), p.value("role", ""), false, ""});
    }
    s.rounds = r.number;
    s.round = std::move(r);
  }
  if (auto it = data.find("timers"); it != data.end()) {
    if (auto clear = it->find("clear"); clear != it->end()) {
      for (const auto& name : *clear) {
        s.timers.erase(name.get<std::string>());
        s.overdue.erase(name.get<std::string>());
      }
    }
    if (auto fired = it->find("fired"); fired != it->end()) {
      for (const auto& name : *fired) s.timers.erase(name.get<std::string>());
    }
    if (auto set = it->find("set"); set != it->end()) {
      for (const auto& [name, due] : set->items()) s.timers[name] = TimeOf(due);
    }
  }
  if (auto it = data.find("overdue"); it != data.end() && it->is_string()) {
    s.overdue.emplace(it->get<std::string>(), at);
  }
  if (auto it = data.find("periods"); it != data.end()) {
    if (auto missed = it->find("missed"); missed != it->end()) {
      for (const auto& n : *missed) {
        if (Period* p = FindPeriod(s, n.get<std::uint32_t>())) p->missed = true;
      }
    }
    if (auto acc = it->find("accepted"); acc != it->end()) {
      if (Period* p = FindPeriod(s, acc->value("number", 0u))) {
        p->accepted = true;
        p->on_time = acc->value("on_time", false);
      }
    }
    if (auto add = it->find("add"); add != it->end()) {
      for (const auto& p : *add) {
        s.periods.push_back(
            Period{p.value("number", 0u), TimeOf(p.at("due")), false, false, false});
      }
    }
  }
  (void)type;
}

nlohmann::json StateToJson(const InstanceState& s) {
  nlohmann::json j;
  j["id"] = s.id;
  j["collection"] = s.collection;
  j["workflow"] = s.workflow;
  j["workflow_version"] = s.workflow_version;
  j["state"] = s.state;
  j["version"] = s.version;
  j["created_at"] = FormatRfc3339(s.created_at);
  j["updated_at"] = FormatRfc3339(s.updated_at);
  j["stage_entered_at"] = FormatRfc3339(s.stage_entered_at);
  j["created_by"] = s.created_by;
  j["participants"] = nlohmann::json::object();
  for (const auto& [k, v] : s.participants) j["participants"][k] = v;
  j["fields"] = s.fields;
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
      s.participants[k] = v.get<std::string>();
    s.fields = j.at("fields");
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
