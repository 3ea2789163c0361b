#include "engine/policy.h"

#include <algorithm>

namespace expertflow::engine {
namespace {

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

Principal SystemPrincipal() { return Principal{"system", "system", ""}; }

bool SeesEverything(const Principal& p) {
  return p.org == "irpo" || p.org == "ministry" || p.role == "auditor" || p.role == "admin";
}

bool CanSee(const InstanceState& instance, const Principal& p) {
  if (SeesEverything(p)) return true;
  for (const auto& [slot, org] : instance.participants) {
    if (org == p.org) return true;
  }
  if (instance.round) {
    for (const auto& party : instance.round->parties) {
      if (party.org == p.org) return true;
    }
  }
  return false;
}

bool MayAct(const Definition& def, const InstanceState& instance, const CommandSpec& command,
            const Principal& p) {
  if (!Contains(command.roles, p.role)) return false;
  for (const auto& slot : command.by) {
    if (slot == "round") {
      if (!instance.round) continue;
      for (const auto& party : instance.round->parties) {
        if (party.org == p.org && party.role == p.role && !party.acted) return true;
      }
      continue;
    }
    auto org = instance.participants.find(slot);
    auto roles = def.participants.find(slot);
    if (org != instance.participants.end() && org->second == p.org &&
        roles != def.participants.end() && Contains(roles->second, p.role)) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> AllowedCommands(const Definition& def, const InstanceState& instance,
                                         const Principal& p) {
  std::vector<std::string> out;
  for (const auto& cmd : def.commands) {
    if (Contains(cmd.from, instance.state) && !Contains(out, cmd.name) &&
        MayAct(def, instance, cmd, p)) {
      out.push_back(cmd.name);
    }
  }
  return out;
}

nlohmann::json Awaiting(const Definition& def, const InstanceState& instance) {
  std::vector<std::pair<std::string, std::vector<std::string>>> by_org;
  auto add = [&](const std::string& org, const std::string& command) {
    auto it = std::find_if(by_org.begin(), by_org.end(), [&](const auto& e) { return e.first == org; });
    if (it == by_org.end()) {
      by_org.push_back({org, {command}});
    } else if (!Contains(it->second, command)) {
      it->second.push_back(command);
    }
  };
  for (const auto& cmd : def.commands) {
    if (!Contains(cmd.from, instance.state)) continue;
    for (const auto& slot : cmd.by) {
      if (slot == "round") {
        if (!instance.round) continue;
        for (const auto& party : instance.round->parties) {
          if (!party.acted) add(party.org, cmd.name);
        }
      } else if (auto org = instance.participants.find(slot); org != instance.participants.end()) {
        add(org->second, cmd.name);
      }
    }
  }
  nlohmann::json out = nlohmann::json::array();
  for (auto& [org, commands] : by_org) out.push_back({{"org", org}, {"commands", commands}});
  return out;
}

std::optional<Timestamp> NextDeadline(const InstanceState& instance) {
  std::optional<Timestamp> best;
  for (const auto& [name, due] : instance.timers) {
    if (!best || due < *best) best = due;
  }
  return best;
}

nlohmann::json InstanceView(const Definition& def, const InstanceState& s, const Principal* viewer) {
  nlohmann::json v;
  v["id"] = s.id;
  v["collection"] = s.collection;
  v["workflow"] = s.workflow;
  v["workflow_version"] = s.workflow_version;
  v["state"] = s.state;
  const StateSpec* st = def.FindState(s.state);
  v["stage"] = st ? st->stage : "";
  v["terminal"] = st ? st->terminal : false;
  v["version"] = s.version;
  v["created_at"] = FormatRfc3339(s.created_at);
  v["updated_at"] = FormatRfc3339(s.updated_at);
  v["stage_entered_at"] = FormatRfc3339(s.stage_entered_at);
  v["created_by"] = s.created_by;
  v["participants"] = nlohmann::json::object();
  for (const auto& [slot, org] : s.participants) v["participants"][slot] = org;
  v["awaiting"] = Awaiting(def, s);
  auto deadline = NextDeadline(s);
  v["deadline"] = deadline ? nlohmann::json(FormatRfc3339(*deadline)) : nlohmann::json();
  v["deadlines"] = nlohmann::json::object();
  for (const auto& [name, due] : s.timers) v["deadlines"][name] = FormatRfc3339(due);
  v["overdue"] = nlohmann::json::array();
  for (const auto& [name, since] : s.overdue) v["overdue"].push_back({{"deadline", name}, {"since", FormatRfc3339(since)}});
  v["fields"] = s.fields;
  if (s.round) {
    nlohmann::json parties = nlohmann::json::array();
    for (const auto& p : s.round->parties) {
      nlohmann::json party = {{"org", p.org}, {"role", p.role}, {"acted", p.acted}};
      if (!p.verdict.empty()) party["verdict"] = p.verdict;
      parties.push_back(std::move(party));
    }
    v["round"] = {{"number", s.round->number}, {"parties", std::move(parties)}};
  }
  if (!s.periods.empty()) {
    v["periods"] = nlohmann::json::array();
    for (const auto& p : s.periods) {
      v["periods"].push_back({{"number", p.number}, {"due", FormatRfc3339(p.due)},
                              {"missed", p.missed}, {"accepted", p.accepted},
                              {"on_time", p.on_time}});
    }
  }
  if (viewer != nullptr) v["allowed_commands"] = AllowedCommands(def, s, *viewer);
  return v;
}

}  // namespace expertflow::engine
