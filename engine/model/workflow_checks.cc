// The checks of a workflow definition across its sections: commands against states, slots and
// payload fields; rounds against their commands; deadlines against states and events; every
// state reachable and every open state with a way on. Steps of LoadDefinition.
#include <algorithm>
#include <deque>
#include <set>

#include "engine/model/workflow_loader_impl.h"

namespace expertflow::engine::loader {
namespace {

// True when `pointer` ("/experts/fumo") names a field the payload spec
// declares.
bool PointerInPayload(const std::vector<FieldSpec>& payload, std::string_view pointer) {
  if (!pointer.starts_with('/')) return false;
  pointer.remove_prefix(1);
  const std::vector<FieldSpec>* level = &payload;
  while (true) {
    auto slash = pointer.find('/');
    std::string_view part = pointer.substr(0, slash);
    auto it = std::find_if(level->begin(), level->end(),
                           [&](const FieldSpec& f) { return f.name == part; });
    if (it == level->end()) return false;
    if (slash == std::string_view::npos) return true;
    level = &it->properties;
    pointer.remove_prefix(slash + 1);
  }
}

void CheckCommand(Checker& c, const Definition& d, const CommandSpec& cmd, const std::string& where,
                  bool is_create) {
  if (!IsIdentifier(cmd.name)) c.Fail(where, "bad command name \"" + cmd.name + "\"");
  if (cmd.roles.empty()) c.Fail(where, "command \"" + cmd.name + "\" has no roles");
  for (const auto& r : cmd.roles) {
    if (!IsKnownRole(r)) c.Fail(where, "unknown role \"" + r + "\"");
  }
  if (cmd.by.empty()) c.Fail(where, "command \"" + cmd.name + "\" says nobody may act (\"by\")");
  for (const auto& b : cmd.by) {
    if (b == "round" || b == "round_pending") {
      if (is_create) c.Fail(where, "create cannot act in a round");
      continue;
    }
    auto slot = d.participants.find(b);
    if (slot == d.participants.end()) {
      c.Fail(where, "\"by\" names unknown participant \"" + b + "\"");
      continue;
    }
  }
  if (!IsEventName(cmd.event)) c.Fail(where, "bad event name \"" + cmd.event + "\"");
  if (is_create) {
    if (cmd.to.empty()) c.Fail(where, "create needs the initial state in \"to\"");
  } else if (cmd.from.empty()) {
    c.Fail(where, "command \"" + cmd.name + "\" is valid in no state (\"from\")");
  }
  for (const auto& s : cmd.from) {
    const StateSpec* st = d.FindState(s);
    if (st == nullptr) {
      c.Fail(where, "command \"" + cmd.name + "\" names unknown state \"" + s + "\"");
    } else if (st->terminal) {
      c.Fail(where, "command \"" + cmd.name + "\" acts in terminal state \"" + s + "\"");
    }
  }
  if (!cmd.to.empty() && d.FindState(cmd.to) == nullptr) {
    c.Fail(where, "command \"" + cmd.name + "\" leads to unknown state \"" + cmd.to + "\"");
  }
  if (!cmd.to_field.empty()) {
    if (!cmd.to.empty()) c.Fail(where, "a command has \"to\" or \"to_by\", not both");
    auto f = std::find_if(cmd.payload.begin(), cmd.payload.end(),
                          [&](const FieldSpec& f) { return f.name == cmd.to_field; });
    if (f == cmd.payload.end() || !f->required || f->enum_values.empty()) {
      c.Fail(where, "\"to_by\" field \"" + cmd.to_field + "\" must be a required enum field");
    } else {
      for (const auto& v : f->enum_values) {
        if (!cmd.to_cases.contains(v)) c.Fail(where, "\"to_by\" has no case for \"" + v + "\"");
      }
    }
    for (const auto& [v, s] : cmd.to_cases) {
      if (d.FindState(s) == nullptr)
        c.Fail(where, "\"to_by\" leads to unknown state \"" + s + "\"");
    }
  }
  if (!cmd.answers_schedule.empty()) {
    auto dl = std::find_if(d.deadlines.begin(), d.deadlines.end(),
                           [&](const DeadlineSpec& x) { return x.name == cmd.answers_schedule; });
    if (dl == d.deadlines.end() || !dl->schedule) {
      c.Fail(where, "\"answers_schedule\" names no schedule deadline");
    }
    if (cmd.to.empty() || d.FindState(cmd.to_while_periods_remain) == nullptr) {
      c.Fail(where,
             "\"answers_schedule\" needs \"to\" and a known "
             "\"while_periods_remain\"");
    }
  }
  if (!cmd.while_armed_deadline.empty()) {
    auto dl = std::find_if(d.deadlines.begin(), d.deadlines.end(), [&](const DeadlineSpec& x) {
      return x.name == cmd.while_armed_deadline;
    });
    if (dl == d.deadlines.end()) c.Fail(where, "\"while_armed\" names no deadline");
    if (cmd.to.empty() || d.FindState(cmd.to_while_armed) == nullptr) {
      c.Fail(where, "\"while_armed\" needs \"to\" and a known state to go to");
    }
  }
  if (!cmd.list_item.empty() &&
      std::none_of(cmd.payload.begin(), cmd.payload.end(), [&](const FieldSpec& f) {
        return f.name == cmd.list_item && f.required && f.type == "string";
      })) {
    c.Fail(where, "\"list\" item \"" + cmd.list_item + "\" is not a required string field");
  }
  if (!cmd.only_if_schedule.empty()) {
    auto dl = std::find_if(d.deadlines.begin(), d.deadlines.end(),
                           [&](const DeadlineSpec& x) { return x.name == cmd.only_if_schedule; });
    if (dl == d.deadlines.end() || !dl->schedule || dl->applies_to.empty()) {
      c.Fail(where, "\"only_if_schedule\" names no schedule deadline with \"applies_to\"");
    }
  }
  if (!cmd.vote_field.empty() &&
      std::none_of(cmd.payload.begin(), cmd.payload.end(),
                   [&](const FieldSpec& f) { return f.name == cmd.vote_field; })) {
    c.Fail(where, "vote field \"" + cmd.vote_field + "\" is not in the payload");
  }
  if (!cmd.assigns.empty() && !d.participants.contains(cmd.assigns)) {
    c.Fail(where, "\"assigns\" names unknown participant \"" + cmd.assigns + "\"");
  }
  for (const auto& src : cmd.opens_round) {
    if (!src.participant.empty() && !src.role.empty() && d.participants.contains(src.participant) &&
        !Contains(d.participants.at(src.participant), src.role)) {
      c.Fail(where,
             "round party role \"" + src.role + "\" is not a role of \"" + src.participant + "\"");
    }
    if (!src.participant.empty() && !d.participants.contains(src.participant)) {
      c.Fail(where, "round party names unknown participant \"" + src.participant + "\"");
    }
    if (!src.payload_pointer.empty() && !PointerInPayload(cmd.payload, src.payload_pointer)) {
      c.Fail(where, "round party pointer \"" + src.payload_pointer + "\" is not in the payload");
    }
    if (!src.role.empty() && !IsKnownRole(src.role)) {
      c.Fail(where, "unknown role \"" + src.role + "\"");
    }
  }
  const bool is_round_command = Contains(cmd.by, "round");
  for (const auto& s : cmd.from) {
    const StateSpec* st = d.FindState(s);
    if (st == nullptr) continue;
    if (Contains(cmd.by, "round_pending") && !st->round) {
      c.Fail(where, "command \"" + cmd.name + "\" is for the parties a round awaits, but state \"" +
                        s + "\" has no round");
    }
    if (is_round_command && (!st->round || st->round->command != cmd.name)) {
      c.Fail(where, "command \"" + cmd.name + "\" acts in a round, but state \"" + s +
                        "\" has no round for it");
    }
  }
  if (!cmd.to.empty()) {
    const StateSpec* target = d.FindState(cmd.to);
    bool enters = target != nullptr && (is_create || !Contains(cmd.from, cmd.to));
    if (enters && target->round && cmd.opens_round.empty()) {
      c.Fail(where, "command \"" + cmd.name + "\" enters state \"" + cmd.to +
                        "\", which has a round, without opening one");
    }
    if (!cmd.opens_round.empty() && (target == nullptr || !target->round)) {
      c.Fail(where, "command \"" + cmd.name + "\" opens a round in a state without one");
    }
  }
}

}  // namespace

// Each command refers to known states, slots and fields, and no name is defined
// twice in a state.
void CheckCommands(Checker& c, const Definition& d, const std::string& where) {
  CheckCommand(c, d, d.create, where + ".create", true);
  if (!d.id_from.empty() &&
      std::none_of(d.create.payload.begin(), d.create.payload.end(), [&](const FieldSpec& f) {
        return f.name == d.id_from && f.required && f.type == "string";
      })) {
    c.Fail(where, "\"id_from\" \"" + d.id_from + "\" is not a required string field of create");
  }
  for (std::size_t i = 0; i < d.commands.size(); ++i) {
    CheckCommand(c, d, d.commands[i], where + ".commands[" + std::to_string(i) + "]", false);
  }
  for (std::size_t i = 0; i < d.commands.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      for (const auto& s : d.commands[i].from) {
        if (d.commands[j].name == d.commands[i].name && Contains(d.commands[j].from, s)) {
          c.Fail(where,
                 "command \"" + d.commands[i].name + "\" is defined twice in state \"" + s + "\"");
        }
      }
    }
  }
}

// A round's command is a round command of its state; its outcomes lead to known
// states.
void CheckRounds(Checker& c, const Definition& d, const std::string& where) {
  for (const auto& s : d.states) {
    if (!s.round) continue;
    const std::string sw = where + ".states." + s.name + ".round";
    const CommandSpec* cmd = d.FindCommand(s.round->command, s.name);
    if (cmd == nullptr || !Contains(cmd->by, "round")) {
      c.Fail(sw, "round command \"" + s.round->command + "\" is not a round command of this state");
    }
    for (const auto& o : s.round->outcomes) {
      if (d.FindState(o.to) == nullptr)
        c.Fail(sw, "outcome leads to unknown state \"" + o.to + "\"");
      if (!o.all_equal.empty() && (cmd == nullptr || cmd->vote_field.empty())) {
        c.Fail(sw, "an outcome by verdicts needs a round command with a vote field");
      }
    }
  }
}

// Deadlines run in open states, aim at exactly one target and name known
// commands and events.
void CheckDeadlines(Checker& c, const Definition& d, const std::string& where) {
  std::set<std::string> deadline_names;
  for (const auto& dl : d.deadlines) {
    const std::string dw = where + ".deadlines." + dl.name;
    if (!deadline_names.insert(dl.name).second) c.Fail(dw, "deadline defined twice");
    if (dl.while_in.empty()) c.Fail(dw, "a deadline runs while in at least one state");
    for (const auto& s : dl.while_in) {
      const StateSpec* st = d.FindState(s);
      if (st == nullptr) c.Fail(dw, "unknown state \"" + s + "\"");
      if (st != nullptr && st->terminal)
        c.Fail(dw, "a deadline cannot run in terminal \"" + s + "\"");
    }
    if (dl.after.has_value() == !dl.field.empty()) {
      c.Fail(dw, "a deadline needs exactly one target: \"after\" or \"field\"");
    }
    if (dl.schedule && dl.field.empty()) c.Fail(dw, "a schedule is read from a \"field\"");
    if (dl.schedule && dl.period_event.empty()) c.Fail(dw, "a schedule needs \"period_event\"");
    if (dl.repeat && !dl.after) c.Fail(dw, "only an \"after\" deadline can repeat");
    if (!IsEventName(dl.event)) c.Fail(dw, "bad event name \"" + dl.event + "\"");
    if (!dl.period_event.empty() && !IsEventName(dl.period_event)) {
      c.Fail(dw, "bad event name \"" + dl.period_event + "\"");
    }
    if (!dl.period_met_event.empty() && !IsEventName(dl.period_met_event)) {
      c.Fail(dw, "bad event name \"" + dl.period_met_event + "\"");
    }
    if ((dl.derived_periods || !dl.applies_to.empty()) && !dl.schedule) {
      c.Fail(dw, "\"periods\" and \"applies_to\" belong to a schedule");
    }
    if (dl.derived_periods && dl.applies_to != "once" && dl.period_met_event.empty()) {
      c.Fail(dw, "a derived recurring schedule needs \"period_met_event\"");
    }
    if (!dl.to.empty()) {
      const StateSpec* target = d.FindState(dl.to);
      if (target == nullptr) c.Fail(dw, "leads to unknown state \"" + dl.to + "\"");
      if (target != nullptr && target->round) c.Fail(dw, "cannot enter a state with a round");
    }
    for (const auto& name : dl.restart_on) {
      if (std::none_of(d.commands.begin(), d.commands.end(),
                       [&](const CommandSpec& cmd) { return cmd.name == name; })) {
        c.Fail(dw, "restart_on names unknown command \"" + name + "\"");
      }
    }
    for (const auto& name : dl.extend_on) {
      if (std::none_of(d.commands.begin(), d.commands.end(),
                       [&](const CommandSpec& cmd) { return cmd.name == name; })) {
        c.Fail(dw, "extend_on names unknown command \"" + name + "\"");
      }
    }
  }
}

// Every state must be reachable from the initial one, and every open state must
// offer a way on.
void CheckReachable(Checker& c, const Definition& d, const std::string& where) {
  std::set<std::string> seen{d.create.to};
  std::deque<std::string> todo{d.create.to};
  while (!todo.empty()) {
    std::string s = todo.front();
    todo.pop_front();
    std::vector<std::string> next;
    for (const auto& cmd : d.commands) {
      if (!Contains(cmd.from, s)) continue;
      if (!cmd.to.empty()) next.push_back(cmd.to);
      for (const auto& [v, state] : cmd.to_cases) next.push_back(state);
      if (!cmd.to_while_periods_remain.empty()) next.push_back(cmd.to_while_periods_remain);
    }
    if (const StateSpec* st = d.FindState(s); st && st->round) {
      for (const auto& o : st->round->outcomes) next.push_back(o.to);
    }
    for (const auto& dl : d.deadlines) {
      if (Contains(dl.while_in, s) && !dl.to.empty()) next.push_back(dl.to);
    }
    for (auto& n : next) {
      if (seen.insert(n).second) todo.push_back(n);
    }
  }
  for (const auto& s : d.states) {
    if (!seen.contains(s.name)) c.Fail(where, "state \"" + s.name + "\" is unreachable");
    if (!s.terminal && d.CommandsIn(s.name).empty()) {
      c.Fail(where, "state \"" + s.name + "\" is not terminal but no command acts in it");
    }
  }
}

}  // namespace expertflow::engine::loader
