// LoadDefinition: a workflow definition read section by section (header, participants, states,
// commands, deadlines), then checked across sections and for reachability. The first problem
// found is the refusal, named by its path in the document.
#include <algorithm>
#include <deque>
#include <set>

#include "engine/model/workflow.h"

namespace expertflow::engine {
namespace {

using Doc = nlohmann::ordered_json;

// The roles of API.md, "Authentication and who may do what".
const std::set<std::string, std::less<>> kRoles = {"association_member",
                                                   "umc_lead",
                                                   "fumo_expert",
                                                   "rumo_member",
                                                   "irpo_staff",
                                                   "business_expert",
                                                   "ftpo_coordinator",
                                                   "ministry_official",
                                                   "region_official",
                                                   "auditor",
                                                   "admin"};

const std::set<std::string, std::less<>> kFieldTypes = {"string", "text",     "integer", "boolean",
                                                        "date",   "datetime", "org",     "ugps",
                                                        "array",  "object",   "deadline"};

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsEventName(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'A' && s[0] <= 'Z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

// Collects the first problem with a path, so a refusal names exactly what is
// wrong.
class Checker {
 public:
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  void Fail(std::string where, std::string what) {
    if (error_.empty()) error_ = where + ": " + what;
  }

  std::string String(const Doc& obj, std::string_view key, std::string_view where, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) Fail(std::string(where), "missing \"" + std::string(key) + "\"");
      return {};
    }
    if (!it->is_string()) {
      Fail(std::string(where), "\"" + std::string(key) + "\" must be a string");
      return {};
    }
    return it->get<std::string>();
  }

  std::vector<std::string> Strings(const Doc& obj, std::string_view key, std::string_view where) {
    std::vector<std::string> out;
    auto it = obj.find(key);
    if (it == obj.end()) return out;
    if (!it->is_array()) {
      Fail(std::string(where), "\"" + std::string(key) + "\" must be a list of strings");
      return out;
    }
    for (const auto& v : *it) {
      if (!v.is_string()) {
        Fail(std::string(where), "\"" + std::string(key) + "\" must be a list of strings");
        return out;
      }
      out.push_back(v.get<std::string>());
    }
    return out;
  }

  bool Bool(const Doc& obj, std::string_view key, std::string_view where) {
    auto it = obj.find(key);
    if (it == obj.end()) return false;
    if (!it->is_boolean()) {
      Fail(std::string(where), "\"" + std::string(key) + "\" must be true or false");
      return false;
    }
    return it->get<bool>();
  }

  std::size_t Count(const Doc& obj, std::string_view key, std::string_view where) {
    auto it = obj.find(key);
    if (it == obj.end()) return 0;
    if (!it->is_number_unsigned()) {
      Fail(std::string(where), "\"" + std::string(key) + "\" must be a whole number >= 0");
      return 0;
    }
    return it->get<std::size_t>();
  }

 private:
  std::string error_;
};

FieldSpec ParseField(Checker& c, const std::string& name, const Doc& spec,
                     const std::string& where) {
  FieldSpec f;
  f.name = name;
  if (!spec.is_object()) {
    c.Fail(where, "a field spec must be an object");
    return f;
  }
  f.type = c.String(spec, "type", where, true);
  if (!f.type.empty() && !kFieldTypes.contains(f.type)) {
    c.Fail(where, "unknown field type \"" + f.type + "\"");
  }
  f.required = c.Bool(spec, "required", where);
  f.enum_values = c.Strings(spec, "enum", where);
  f.min_length = c.Count(spec, "min_length", where);
  f.max_length = c.Count(spec, "max_length", where);
  f.min_items = c.Count(spec, "min_items", where);
  f.max_items = c.Count(spec, "max_items", where);
  f.org_kind = c.String(spec, "org_kind", where, false);
  for (const char* bound : {"minimum", "maximum"}) {
    if (auto it = spec.find(bound); it != spec.end()) {
      if (f.type != "integer" || !it->is_number_integer()) {
        c.Fail(where, std::string("\"") + bound + "\" is a whole number, for integers only");
      } else {
        (bound[1] == 'i' ? f.minimum : f.maximum) = it->get<long long>();
      }
    }
  }
  if (spec.contains("min_days_ahead")) {
    if (f.type != "date") c.Fail(where, "\"min_days_ahead\" applies to dates only");
    f.min_days_ahead = static_cast<int>(c.Count(spec, "min_days_ahead", where));
  }
  if (f.max_length && f.min_length > f.max_length) c.Fail(where, "min_length > max_length");
  if (f.max_items && f.min_items > f.max_items) c.Fail(where, "min_items > max_items");
  if (!f.enum_values.empty() && f.type != "string") c.Fail(where, "\"enum\" applies to strings");
  if (f.type == "array") {
    auto it = spec.find("items");
    if (it == spec.end()) {
      c.Fail(where, "an array field needs \"items\"");
    } else {
      f.items.push_back(ParseField(c, name + "[]", *it, where + ".items"));
    }
  }
  if (f.type == "object") {
    auto it = spec.find("properties");
    if (it == spec.end() || !it->is_object()) {
      c.Fail(where, "an object field needs \"properties\"");
    } else {
      for (const auto& [k, v] : it->items()) {
        f.properties.push_back(ParseField(c, k, v, where + "." + k));
      }
    }
  }
  return f;
}

std::vector<FieldSpec> ParsePayload(Checker& c, const Doc& obj, const std::string& where) {
  std::vector<FieldSpec> out;
  auto it = obj.find("payload");
  if (it == obj.end()) return out;
  if (!it->is_object()) {
    c.Fail(where, "\"payload\" must be an object of field specs");
    return out;
  }
  for (const auto& [k, v] : it->items()) {
    if (!IsIdentifier(k)) c.Fail(where + ".payload", "bad field name \"" + k + "\"");
    out.push_back(ParseField(c, k, v, where + ".payload." + k));
  }
  return out;
}

CommandSpec ParseCommand(Checker& c, const Doc& obj, const std::string& where,
                         const CommandSpec* create) {
  CommandSpec cmd;
  if (!obj.is_object()) {
    c.Fail(where, "a command must be an object");
    return cmd;
  }
  cmd.name = c.String(obj, "name", where, true);
  cmd.from = c.Strings(obj, "from", where);
  cmd.roles = c.Strings(obj, "roles", where);
  cmd.by = c.Strings(obj, "by", where);
  cmd.to = c.String(obj, "to", where, false);
  cmd.event = c.String(obj, "event", where, true);
  cmd.payload = ParsePayload(c, obj, where);
  // "payload_from": "create" reuses the creation payload, every field optional
  // (an update).
  if (std::string from = c.String(obj, "payload_from", where, false); !from.empty()) {
    if (from != "create" || create == nullptr || !cmd.payload.empty()) {
      c.Fail(where, "\"payload_from\" can only be \"create\", instead of \"payload\"");
    } else {
      cmd.payload = create->payload;
    }
  }
  if (auto it = obj.find("to_by"); it != obj.end()) {
    cmd.to_field = it->is_object() ? c.String(*it, "field", where + ".to_by", true) : "";
    if (auto cases = it->find("cases");
        it->is_object() && cases != it->end() && cases->is_object() && !cases->empty()) {
      for (const auto& [value, state] : cases->items()) {
        if (!state.is_string())
          c.Fail(where + ".to_by", "a case names a state");
        else
          cmd.to_cases[value] = state.get<std::string>();
      }
    } else {
      c.Fail(where + ".to_by", "\"to_by\" needs a \"field\" and \"cases\"");
    }
  }
  if (auto it = obj.find("answers_schedule"); it != obj.end()) {
    cmd.answers_schedule = it->is_object() ? c.String(*it, "deadline", where, true) : "";
    cmd.to_while_periods_remain =
        it->is_object() ? c.String(*it, "while_periods_remain", where, true) : "";
    if (!it->is_object()) c.Fail(where, "\"answers_schedule\" must be an object");
  }
  cmd.update_fields = c.Bool(obj, "update_fields", where);
  cmd.partial = c.Bool(obj, "partial", where);
  cmd.vote_field = c.String(obj, "vote_field", where, false);
  cmd.assigns = c.String(obj, "assigns", where, false);
  if (auto it = obj.find("opens_round"); it != obj.end()) {
    if (!it->is_array() || it->empty()) {
      c.Fail(where, "\"opens_round\" must be a non-empty list of party sources");
    } else {
      for (const auto& src : *it) {
        PartySource p;
        if (src.is_object()) {
          p.payload_pointer = c.String(src, "payload", where + ".opens_round", false);
          p.role = c.String(src, "role", where + ".opens_round", false);
          p.participant = c.String(src, "participant", where + ".opens_round", false);
        }
        if (p.payload_pointer.empty() == p.participant.empty()) {
          c.Fail(where + ".opens_round", "a party source names a payload pointer or a participant");
        }
        if (!p.payload_pointer.empty() && p.role.empty()) {
          c.Fail(where + ".opens_round", "parties from the payload need a \"role\"");
        }
        cmd.opens_round.push_back(std::move(p));
      }
    }
  }
  return cmd;
}

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
    if (!kRoles.contains(r)) c.Fail(where, "unknown role \"" + r + "\"");
  }
  if (cmd.by.empty()) c.Fail(where, "command \"" + cmd.name + "\" says nobody may act (\"by\")");
  for (const auto& b : cmd.by) {
    if (b == "round") {
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
  if (!cmd.vote_field.empty() &&
      std::none_of(cmd.payload.begin(), cmd.payload.end(),
                   [&](const FieldSpec& f) { return f.name == cmd.vote_field; })) {
    c.Fail(where, "vote field \"" + cmd.vote_field + "\" is not in the payload");
  }
  if (!cmd.assigns.empty() && !d.participants.contains(cmd.assigns)) {
    c.Fail(where, "\"assigns\" names unknown participant \"" + cmd.assigns + "\"");
  }
  for (const auto& src : cmd.opens_round) {
    if (!src.participant.empty() && !d.participants.contains(src.participant)) {
      c.Fail(where, "round party names unknown participant \"" + src.participant + "\"");
    }
    if (!src.payload_pointer.empty() && !PointerInPayload(cmd.payload, src.payload_pointer)) {
      c.Fail(where, "round party pointer \"" + src.payload_pointer + "\" is not in the payload");
    }
    if (!src.role.empty() && !kRoles.contains(src.role)) {
      c.Fail(where, "unknown role \"" + src.role + "\"");
    }
  }
  const bool is_round_command = Contains(cmd.by, "round");
  for (const auto& s : cmd.from) {
    const StateSpec* st = d.FindState(s);
    if (st == nullptr) continue;
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

// The definition's own members: id, version, collection, source, routing, title and limits.
void ParseHeader(Checker& c, const Doc& doc, const std::string& where, Definition& d) {
  if (auto it = doc.find("version"); it == doc.end() || !it->is_number_unsigned() ||
                                     it->get<std::uint64_t>() == 0 ||
                                     it->get<std::uint64_t>() > 1000000) {
    c.Fail(where, "\"version\" must be a whole number >= 1");
  } else {
    d.version = it->get<std::uint32_t>();
  }
  d.collection = c.String(doc, "collection", where, true);
  if (!d.collection.empty() && !IsIdentifier(d.collection)) {
    c.Fail(where, "bad collection name \"" + d.collection + "\"");
  }
  d.source = c.String(doc, "source", where, false);
  d.routing = c.String(doc, "routing", where, true);
  if (auto it = doc.find("title"); it != doc.end()) d.title = nlohmann::json::parse(it->dump());
  if (auto it = doc.find("limits"); it != doc.end()) {
    auto n = it->is_object() ? it->find("commands_per_state") : it->end();
    if (!it->is_object() || it->size() != 1 || n == it->end() || !n->is_number_unsigned() ||
        n->get<std::uint64_t>() == 0 || n->get<std::uint64_t>() > 1000000) {
      c.Fail(where, "\"limits\" must be {\"commands_per_state\": N} with N from 1 to 1000000");
    } else {
      d.max_commands_per_state = n->get<std::uint32_t>();
    }
  }
}

// The participant slots and the roles that may fill each.
void ParseParticipants(Checker& c, const Doc& doc, const std::string& where, Definition& d) {
  if (auto it = doc.find("participants"); it == doc.end() || !it->is_object() || it->empty()) {
    c.Fail(where, "\"participants\" must name at least one participant slot");
  } else {
    for (const auto& [slot, roles] : it->items()) {
      std::vector<std::string> list;
      if (roles.is_array()) {
        for (const auto& r : roles) {
          if (r.is_string()) list.push_back(r.get<std::string>());
        }
      }
      if (list.empty() || list.size() != roles.size()) {
        c.Fail(where + ".participants." + slot, "a slot lists the roles acting in it");
      }
      for (const auto& r : list) {
        if (!kRoles.contains(r))
          c.Fail(where + ".participants." + slot, "unknown role \"" + r + "\"");
      }
      d.participants[slot] = std::move(list);
    }
  }
}

// A multi-party step of a state: its round command, join rule, event and
// outcomes.
RoundSpec ParseRound(Checker& c, const Doc& spec, const std::string& sw) {
  RoundSpec round;
  round.command = c.String(spec, "command", sw, true);
  round.join = c.String(spec, "join", sw, false);
  if (round.join.empty()) round.join = "all";
  if (round.join != "all" && round.join != "any" && round.join != "k_of_n") {
    c.Fail(sw, "join must be \"all\", \"any\" or \"k_of_n\"");
  }
  round.k = static_cast<std::uint32_t>(c.Count(spec, "k", sw));
  if (round.join == "k_of_n" && round.k == 0) c.Fail(sw, "k_of_n needs k >= 1");
  round.event = c.String(spec, "event", sw, true);
  if (!round.event.empty() && !IsEventName(round.event)) {
    c.Fail(sw, "bad event name \"" + round.event + "\"");
  }
  if (auto o = spec.find("outcomes"); o == spec.end() || !o->is_array() || o->empty()) {
    c.Fail(sw, "a round needs \"outcomes\"");
  } else {
    for (const auto& rule : *o) {
      OutcomeRule out;
      out.all_equal = c.String(rule, "all_equal", sw + ".outcomes", false);
      out.to = c.String(rule, "to", sw + ".outcomes", true);
      round.outcomes.push_back(std::move(out));
    }
    if (!round.outcomes.back().all_equal.empty()) {
      c.Fail(sw, "the last outcome must have no condition (the fallback)");
    }
  }
  return round;
}

void ParseStates(Checker& c, const Doc& doc, const std::string& where, Definition& d) {
  if (auto it = doc.find("states"); it == doc.end() || !it->is_object() || it->empty()) {
    c.Fail(where, "\"states\" must list at least one state");
  } else {
    for (const auto& [name, spec] : it->items()) {
      StateSpec s;
      s.name = name;
      const std::string sw = where + ".states." + name;
      if (!IsIdentifier(name)) c.Fail(sw, "bad state name");
      if (!spec.is_object()) {
        c.Fail(sw, "a state must be an object");
        continue;
      }
      s.stage = c.String(spec, "stage", sw, true);
      s.terminal = c.Bool(spec, "terminal", sw);
      if (auto r = spec.find("round"); r != spec.end()) s.round = ParseRound(c, *r, sw + ".round");
      if (s.terminal && s.round) c.Fail(sw, "a terminal state cannot hold a round");
      d.states.push_back(std::move(s));
    }
  }
}

// The create command and the others (each checked against the states later).
void ParseCommands(Checker& c, const Doc& doc, const std::string& where, Definition& d) {
  if (auto it = doc.find("create"); it == doc.end() || !it->is_object()) {
    c.Fail(where, "missing \"create\"");
  } else {
    Doc create = *it;
    if (!create.contains("name")) create["name"] = "create";
    d.create = ParseCommand(c, create, where + ".create", nullptr);
  }
  if (auto it = doc.find("commands"); it == doc.end() || !it->is_array()) {
    c.Fail(where, "\"commands\" must be a list");
  } else {
    for (std::size_t i = 0; i < it->size(); ++i) {
      d.commands.push_back(
          ParseCommand(c, (*it)[i], where + ".commands[" + std::to_string(i) + "]", &d.create));
    }
  }
}

DeadlineSpec ParseDeadline(Checker& c, const Doc& spec, const std::string& dw) {
  DeadlineSpec dl;
  dl.name = c.String(spec, "name", dw, true);
  dl.while_in = c.Strings(spec, "while_in", dw);
  std::string after = c.String(spec, "after", dw, false);
  if (!after.empty()) {
    dl.after = ParseIsoDuration(after);
    if (!dl.after) c.Fail(dw, "\"after\" is not a duration like P30D: \"" + after + "\"");
  }
  dl.field = c.String(spec, "field", dw, false);
  dl.schedule = c.Bool(spec, "schedule", dw);
  dl.event = c.String(spec, "event", dw, true);
  dl.period_event = c.String(spec, "period_event", dw, false);
  dl.to = c.String(spec, "to", dw, false);
  dl.repeat = c.Bool(spec, "repeat", dw);
  dl.restart_on = c.Strings(spec, "restart_on", dw);
  return dl;
}

void ParseDeadlines(Checker& c, const Doc& doc, const std::string& where, Definition& d) {
  if (auto it = doc.find("deadlines"); it != doc.end()) {
    if (!it->is_array()) c.Fail(where, "\"deadlines\" must be a list");
    for (std::size_t i = 0; it->is_array() && i < it->size(); ++i) {
      const std::string dw = where + ".deadlines[" + std::to_string(i) + "]";
      const Doc& spec = (*it)[i];
      if (!spec.is_object()) {
        c.Fail(dw, "a deadline must be an object");
        continue;
      }
      d.deadlines.push_back(ParseDeadline(c, spec, dw));
    }
  }
}

// Each command refers to known states, slots and fields, and no name is defined
// twice in a state.
void CheckCommands(Checker& c, const Definition& d, const std::string& where) {
  CheckCommand(c, d, d.create, where + ".create", true);
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

}  // namespace

Result<Definition> LoadDefinition(std::string_view json_text) {
  Doc doc = Doc::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Fail(ErrorCode::kValidationFailed, "definition is not a JSON object");
  }
  Checker c;
  Definition d;
  d.id = c.String(doc, "workflow", "definition", true);
  if (!d.id.empty() && !IsIdentifier(d.id))
    c.Fail("definition", "bad workflow id \"" + d.id + "\"");
  const std::string where = d.id.empty() ? "definition" : d.id;
  ParseHeader(c, doc, where, d);
  ParseParticipants(c, doc, where, d);
  ParseStates(c, doc, where, d);
  ParseCommands(c, doc, where, d);
  ParseDeadlines(c, doc, where, d);
  if (!c.ok()) return Fail(ErrorCode::kValidationFailed, c.error());

  // Cross-references, now that every part is parsed.
  CheckCommands(c, d, where);
  CheckRounds(c, d, where);
  CheckDeadlines(c, d, where);
  if (!c.ok()) return Fail(ErrorCode::kValidationFailed, c.error());

  CheckReachable(c, d, where);
  if (!c.ok()) return Fail(ErrorCode::kValidationFailed, c.error());
  d.document = nlohmann::json::parse(doc.dump());
  return d;
}

}  // namespace expertflow::engine
