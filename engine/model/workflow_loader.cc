// LoadDefinition: a workflow definition read section by section (header, participants, states,
// commands, deadlines), then checked across sections (workflow_checks.cc) and for reachability.
// The first problem found is the refusal, named by its path in the document.
#include <algorithm>

#include "engine/model/workflow_loader_impl.h"

namespace expertflow::engine {
namespace loader {
namespace {

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
  if (spec.contains("not_in_future")) {
    if (f.type != "date") c.Fail(where, "\"not_in_future\" applies to dates only");
    f.not_in_future = c.Bool(spec, "not_in_future", where);
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
  if (auto it = obj.find("while_armed"); it != obj.end()) {
    cmd.while_armed_deadline = it->is_object() ? c.String(*it, "deadline", where, true) : "";
    cmd.to_while_armed = it->is_object() ? c.String(*it, "to", where, true) : "";
    if (!it->is_object()) c.Fail(where, "\"while_armed\" must be an object");
  }
  cmd.check = c.String(obj, "check", where, false);
  if (auto it = obj.find("list"); it != obj.end()) {
    cmd.list_field = it->is_object() ? c.String(*it, "field", where + ".list", true) : "";
    cmd.list_op = it->is_object() ? c.String(*it, "op", where + ".list", true) : "";
    cmd.list_item = it->is_object() ? c.String(*it, "item", where + ".list", true) : "";
    if (!it->is_object() || (cmd.list_op != "add" && cmd.list_op != "remove")) {
      c.Fail(where, "\"list\" must be {\"field\", \"op\": \"add\"|\"remove\", \"item\"}");
    }
  }
  cmd.report = c.String(obj, "report", where, false);
  cmd.only_if_schedule = c.String(obj, "only_if_schedule", where, false);
  if (!cmd.report.empty() && cmd.report != "submitted" && cmd.report != "accepted" &&
      cmd.report != "returned") {
    c.Fail(where, "\"report\" must be \"submitted\", \"accepted\" or \"returned\"");
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
  d.id_from = c.String(doc, "id_from", where, false);
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
        if (!IsKnownRole(r)) c.Fail(where + ".participants." + slot, "unknown role \"" + r + "\"");
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

DeadlineSpec ParseDeadline(Checker& c, const Doc& spec, const std::string& dw,
                           const Doc& parameters) {
  DeadlineSpec dl;
  dl.name = c.String(spec, "name", dw, true);
  dl.while_in = c.Strings(spec, "while_in", dw);
  std::string after = c.String(spec, "after", dw, false);
  dl.after_parameter = c.String(spec, "after_parameter", dw, false);
  if (!dl.after_parameter.empty()) {
    if (!after.empty()) c.Fail(dw, "\"after\" and \"after_parameter\" exclude each other");
    auto p = parameters.find(dl.after_parameter);
    if (p == parameters.end() || !p->is_object() || !p->contains("value") ||
        !(*p)["value"].is_string()) {
      c.Fail(dw, "\"after_parameter\" names no parameter \"" + dl.after_parameter + "\"");
    } else {
      after = (*p)["value"].get<std::string>();
    }
  }
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
  dl.restart_from = c.String(spec, "restart_from", dw, false);
  if (!dl.restart_from.empty() && (!dl.after || dl.restart_on.empty()))
    c.Fail(dw, "\"restart_from\" needs \"after\" and \"restart_on\"");
  dl.extend_on = c.Strings(spec, "extend_on", dw);
  dl.extend_to = c.String(spec, "extend_to", dw, false);
  if (dl.extend_on.empty() != dl.extend_to.empty())
    c.Fail(dw, "\"extend_on\" and \"extend_to\" go together");
  dl.applies_to = c.String(spec, "applies_to", dw, false);
  if (!dl.applies_to.empty() && dl.applies_to != "once" && dl.applies_to != "recurring") {
    c.Fail(dw, "\"applies_to\" must be \"once\" or \"recurring\"");
  }
  const std::string periods = c.String(spec, "periods", dw, false);
  if (!periods.empty() && periods != "derived") c.Fail(dw, "\"periods\" can only be \"derived\"");
  dl.derived_periods = periods == "derived";
  dl.period_met_event = c.String(spec, "period_met_event", dw, false);
  return dl;
}

void ParseDeadlines(Checker& c, const Doc& doc, const std::string& where, Definition& d) {
  if (auto it = doc.find("parameters"); it != doc.end()) {
    if (!it->is_object()) c.Fail(where, "\"parameters\" must be an object");
    for (auto p = it->begin(); it->is_object() && p != it->end(); ++p) {
      const std::string pw = where + ".parameters." + p.key();
      if (!p->is_object() || !p->contains("value") || !p->contains("source") ||
          !(*p)["source"].is_string() || (*p)["source"].get<std::string>().empty()) {
        c.Fail(pw, "a parameter is {\"value\", \"source\"}: its value and where it comes from");
      }
    }
    if (it->is_object()) d.parameters = nlohmann::json::parse(it->dump());
  }
  static const Doc kNone = Doc::object();
  auto given = doc.find("parameters");
  const Doc& parameters = given != doc.end() && given->is_object() ? *given : kNone;
  if (auto it = doc.find("deadlines"); it != doc.end()) {
    if (!it->is_array()) c.Fail(where, "\"deadlines\" must be a list");
    for (std::size_t i = 0; it->is_array() && i < it->size(); ++i) {
      const std::string dw = where + ".deadlines[" + std::to_string(i) + "]";
      const Doc& spec = (*it)[i];
      if (!spec.is_object()) {
        c.Fail(dw, "a deadline must be an object");
        continue;
      }
      d.deadlines.push_back(ParseDeadline(c, spec, dw, parameters));
    }
  }
}

}  // namespace
}  // namespace loader

Result<Definition> LoadDefinition(std::string_view json_text) {
  using namespace loader;
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
