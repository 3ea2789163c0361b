#include "engine/decide/policy.h"

#include <algorithm>

#include "engine/model/payload.h"

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
  return std::binary_search(instance.concluded.begin(), instance.concluded.end(), p.org);
}

bool MayAct(const Definition& def, const InstanceState& instance, const CommandSpec& command,
            const Principal& p) {
  if (!Contains(command.roles, p.role)) return false;
  for (const auto& slot : command.by) {
    // "round": the round's own command; "round_pending": another command of the parties the
    // open round still awaits (an expert asking for more time), which does not count as acting.
    if (slot == "round" || slot == "round_pending") {
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

bool ScheduleAllows(const Definition& def, const InstanceState& instance,
                    const CommandSpec& command) {
  if (command.only_if_schedule.empty()) return true;
  auto dl = std::find_if(def.deadlines.begin(), def.deadlines.end(),
                         [&](const DeadlineSpec& d) { return d.name == command.only_if_schedule; });
  if (dl == def.deadlines.end()) return false;
  auto schedule = ParseSchedule(instance.fields.value(dl->field, nlohmann::json()), nullptr);
  return schedule && schedule->recurring == (dl->applies_to == "recurring");
}

std::vector<std::string> AllowedCommands(const Definition& def, const InstanceState& instance,
                                         const Principal& p) {
  std::vector<std::string> out;
  for (const auto& cmd : def.commands) {
    if (Contains(cmd.from, instance.state) && !Contains(out, cmd.name) &&
        ScheduleAllows(def, instance, cmd) && MayAct(def, instance, cmd, p)) {
      out.push_back(cmd.name);
    }
  }
  return out;
}

nlohmann::json Awaiting(const Definition& def, const InstanceState& instance) {
  std::vector<std::pair<std::string, std::vector<std::string>>> by_org;
  auto add = [&](const std::string& org, const std::string& command) {
    auto it =
        std::find_if(by_org.begin(), by_org.end(), [&](const auto& e) { return e.first == org; });
    if (it == by_org.end()) {
      by_org.push_back({org, {command}});
    } else if (!Contains(it->second, command)) {
      it->second.push_back(command);
    }
  };
  for (const auto& cmd : def.commands) {
    if (!Contains(cmd.from, instance.state)) continue;
    for (const auto& slot : cmd.by) {
      if (slot == "round" || slot == "round_pending") {
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

nlohmann::json InstanceView(const Definition& def, const InstanceState& s,
                            const Principal* viewer) {
  // The stored state, plus what follows from the definition and the viewer.
  nlohmann::json v = StateToJson(s);
  const StateSpec* st = def.FindState(s.state);
  v["stage"] = st ? st->stage : "";
  v["terminal"] = st ? st->terminal : false;
  v["awaiting"] = Awaiting(def, s);
  auto deadline = NextDeadline(s);
  v["deadline"] = deadline ? nlohmann::json(FormatRfc3339(*deadline)) : nlohmann::json();
  v["deadlines"] = std::move(v["timers"]);
  v.erase("timers");
  nlohmann::json overdue = nlohmann::json::array();
  for (const auto& [name, since] : v["overdue"].items())
    overdue.push_back({{"deadline", name}, {"since", since}});
  v["overdue"] = std::move(overdue);
  if (viewer != nullptr) v["allowed_commands"] = AllowedCommands(def, s, *viewer);
  return v;
}

}  // namespace expertflow::engine
