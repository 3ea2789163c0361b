#include "engine/decide/decide.h"

#include <algorithm>

#include "engine/model/payload.h"

namespace expertflow::engine {
namespace {

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::unexpected<Error> ValidationFailed(const std::vector<FieldError>& errors) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
  std::string first = errors.front().field + " " + errors.front().message;
  return Fail(ErrorCode::kValidationFailed, "payload is invalid: " + first, {{"errors", list}});
}

std::unexpected<Error> InvalidTransition(const Definition& def, const InstanceState& s,
                                         const Principal& actor, std::string message) {
  return Fail(ErrorCode::kInvalidTransition, std::move(message),
              {{"state", s.state}, {"allowed_commands", AllowedCommands(def, s, actor)}});
}

// The due time of a deadline armed now: `after` from now, or a date field read from the command's
// payload first and the instance's fields second (a bare date is the end of that Moscow day).
std::optional<Timestamp> DueOf(const DeadlineSpec& dl, Timestamp now, const nlohmann::json& payload,
                               const Fields& fields) {
  if (dl.after) return now + *dl.after;
  const nlohmann::json* value = nullptr;
  nlohmann::json stored;
  if (auto it = payload.find(dl.field); it != payload.end()) {
    value = &*it;
  } else if (fields.contains(dl.field)) {
    stored = fields.Get(dl.field);
    value = &stored;
  }
  if (value == nullptr) return std::nullopt;
  if (dl.schedule) {
    auto schedule = ParseSchedule(*value, nullptr);
    if (!schedule) return std::nullopt;
    if ((dl.applies_to == "once" && schedule->recurring) ||
        (dl.applies_to == "recurring" && !schedule->recurring)) {
      return std::nullopt;
    }
    return NextDue(*schedule, now);
  }
  return value->is_string() ? ParseDeadline(value->get<std::string>()) : std::nullopt;
}

// Arms the deadlines whose running set the move from `from` to `to` enters, clears those it
// leaves, and re-arms those that `restarted_by` restarts (or extends: `armed` are the timers
// armed now). `from` is empty on creation.
void PlanTimers(const Definition& def, std::string_view from, std::string_view to,
                const std::string* restarted_by, Timestamp now, const nlohmann::json& payload,
                const Fields& fields, nlohmann::json& data,
                const std::map<std::string, Timestamp>* armed = nullptr) {
  nlohmann::json set = nlohmann::json::object();
  nlohmann::json clear = nlohmann::json::array();
  for (const DeadlineSpec& dl : def.deadlines) {
    const bool was_in = !from.empty() && Contains(dl.while_in, from);
    const bool is_in = Contains(dl.while_in, to);
    if (was_in && is_in && restarted_by != nullptr && Contains(dl.extend_on, *restarted_by)) {
      // An extension: later than the armed due time, never earlier, and not into the past.
      auto until = payload.find(dl.extend_to);
      if (until == payload.end() || !until->is_string()) continue;
      auto day_end = ParseDeadline(until->get<std::string>());
      if (!day_end || !(now < *day_end)) continue;
      std::optional<Timestamp> current;
      if (armed != nullptr) {
        if (auto it = armed->find(dl.name); it != armed->end()) current = it->second;
      }
      if (current && !(*current < *day_end)) continue;
      if (current) clear.push_back(dl.name);
      set[dl.name] = FormatRfc3339(*day_end);
      continue;
    }
    const bool restart =
        was_in && is_in && restarted_by != nullptr && Contains(dl.restart_on, *restarted_by);
    if (was_in && (!is_in || restart)) clear.push_back(dl.name);
    if (is_in && (!was_in || restart)) {
      auto due = DueOf(dl, now, payload, fields);
      if (restart && !dl.restart_from.empty()) {
        auto from_date = payload.find(dl.restart_from);
        if (from_date != payload.end() && from_date->is_string()) {
          if (auto day_end = ParseDeadline(from_date->get<std::string>()))
            due = *day_end + *dl.after;
        }
      }
      if (!due) continue;
      // Derived periods: a due instant already past at creation is not armed (a protocol entered
      // after its date); on a later entry (a report returned) a past one is, and fires at once.
      if (dl.derived_periods && from.empty() && !(now < *due)) continue;
      set[dl.name] = FormatRfc3339(*due);
      if (dl.schedule && !dl.derived_periods) {
        data["periods"]["add"] =
            nlohmann::json::array({{{"number", 1}, {"due", FormatRfc3339(*due)}}});
      }
    }
  }
  if (!clear.empty()) data["timers"]["clear"] = std::move(clear);
  if (!set.empty()) data["timers"]["set"] = std::move(set);
}

// The parties of a new round, each organisation once, in the order the sources give them.
nlohmann::json RoundParties(const Definition& def, const std::vector<PartySource>& sources,
                            const nlohmann::json& payload, const Participants& participants) {
  nlohmann::json parties = nlohmann::json::array();
  std::vector<std::string> seen;
  auto add = [&](const std::string& org, const std::string& role) {
    if (org.empty() || Contains(seen, org)) return;
    seen.push_back(org);
    parties.push_back({{"org", org}, {"role", role}});
  };
  for (const PartySource& src : sources) {
    if (!src.participant.empty()) {
      auto org = participants.find(src.participant);
      auto roles = def.participants.find(src.participant);
      if (org != participants.end() && roles != def.participants.end()) {
        add(org->second, src.role.empty() ? roles->second.front() : src.role);
      }
      continue;
    }
    const nlohmann::json::json_pointer ptr(src.payload_pointer);
    if (!payload.contains(ptr)) continue;
    const auto& list = payload.at(ptr);
    if (list.is_string()) add(list.get<std::string>(), src.role);
    if (list.is_array()) {
      for (const auto& org : list) {
        if (org.is_string()) add(org.get<std::string>(), src.role);
      }
    }
  }
  return parties;
}

// A decision of one event. (A braced list would copy the data: an initializer_list's elements
// are const.)
std::vector<DecidedEvent> One(std::string type, nlohmann::json data) {
  std::vector<DecidedEvent> out;
  out.push_back(DecidedEvent{std::move(type), std::move(data)});
  return out;
}

// Reports not returned whose judged instant falls in the period (begun, due]; a first period
// (no `begun`) takes every report up to its due instant.
std::uint32_t ReportsWithin(const Fields& fields, std::optional<Timestamp> begun,
                            Timestamp due) {
  const std::vector<Timestamp> times = CountedReportTimes(ReportsOf(fields));
  auto first = begun ? std::upper_bound(times.begin(), times.end(), *begun) : times.begin();
  return static_cast<std::uint32_t>(std::upper_bound(first, times.end(), due) - first);
}

std::string StreamOf(const Command& c) { return c.collection + "/" + c.instance_id; }

Result<std::vector<DecidedEvent>> DecideCreate(const Command& cmd, const DecideContext& ctx) {
  const Definition* def = nullptr;
  if (!cmd.workflow.empty()) {
    def = cmd.workflow_version == 0 ? ctx.definitions.Latest(cmd.workflow)
                                    : ctx.definitions.Find(cmd.workflow, cmd.workflow_version);
    if (def == nullptr || def->collection != cmd.collection) {
      return Fail(
          ErrorCode::kValidationFailed, "no workflow " + cmd.workflow + " in " + cmd.collection,
          {{"errors",
            {{{"field", "workflow"}, {"message", "is not a workflow of this collection"}}}}});
    }
  } else {
    auto list = ctx.definitions.InCollection(cmd.collection);
    if (list.empty()) return Fail(ErrorCode::kNotFound, "no collection " + cmd.collection);
    if (list.size() > 1) {
      return Fail(
          ErrorCode::kValidationFailed, cmd.collection + " holds several workflows: name one",
          {{"errors", {{{"field", "workflow"}, {"message", "is required in this collection"}}}}});
    }
    def = list.front();
  }
  const CommandSpec& spec = def->create;
  if (!Contains(spec.roles, cmd.actor.role)) {
    return Fail(ErrorCode::kForbidden, "role " + cmd.actor.role + " may not create " + def->id);
  }
  auto errors = ValidatePayload(spec.payload, cmd.payload, false, ctx.directory, ctx.now);
  if (!errors.empty()) return ValidationFailed(errors);
  auto route = ctx.routing.find(def->routing);
  if (route == ctx.routing.end()) {
    return Fail(ErrorCode::kInternal,
                "workflow " + def->id + " names unknown routing " + def->routing);
  }
  auto participants = route->second(RoutingInput{ctx.directory, cmd.actor.org, cmd.actor.role,
                                                 cmd.payload, cmd.instance_id, nullptr, "create"});
  if (!participants) return std::unexpected(participants.error());

  // The creator must stand in one of the slots `create.by` names, in a role of that slot.
  InstanceState probe;
  probe.participants = *participants;
  if (!MayAct(*def, probe, spec, cmd.actor)) {
    return Fail(ErrorCode::kForbidden,
                "organisation " + cmd.actor.org + " may not create this " + def->id);
  }

  nlohmann::json data;
  nlohmann::json participants_json = nlohmann::json::object();
  for (const auto& [slot, org] : *participants) participants_json[slot] = org;
  data["created"] = {{"id", cmd.instance_id},
                     {"collection", def->collection},
                     {"workflow", def->id},
                     {"workflow_version", def->version},
                     {"participants", participants_json},
                     {"by", cmd.actor.org}};
  data["payload"] = cmd.payload;
  if (spec.update_fields) data["update_fields"] = true;
  data["to"] = spec.to;
  if (!spec.opens_round.empty()) {
    data["round"] = {{"number", 1},
                     {"parties", RoundParties(*def, spec.opens_round, cmd.payload, *participants)}};
  }
  // At creation the payload is all there is: the instance has no fields yet.
  PlanTimers(*def, "", spec.to, nullptr, ctx.now, cmd.payload, Fields{}, data);
  if (data.contains("periods") && !data.contains("timers")) {
    return Fail(
        ErrorCode::kValidationFailed, "the deadline has no due instant",
        {{"errors", {{{"field", "deadline"}, {"message", "has no due instant before its end"}}}}});
  }
  for (const DeadlineSpec& dl : def->deadlines) {
    // A schedule whose first instant is already past `until` never runs: refuse it up front
    // (version 1; derived periods are counted from the reports, whenever they were entered).
    if (dl.schedule && !dl.derived_periods && Contains(dl.while_in, spec.to) &&
        !(data.contains("timers") && data["timers"]["set"].contains(dl.name))) {
      return Fail(
          ErrorCode::kValidationFailed, "the deadline has no due instant",
          {{"errors", {{{"field", dl.field}, {"message", "has no due instant after now"}}}}});
    }
  }
  return One(spec.event, std::move(data));
}

Result<std::vector<DecidedEvent>> DecideFire(const Definition& def, const InstanceState& s,
                                             const Command& cmd, const DecideContext& ctx) {
  auto spec = std::find_if(def.deadlines.begin(), def.deadlines.end(),
                           [&](const DeadlineSpec& d) { return d.name == cmd.timer; });
  auto armed = s.timers.find(cmd.timer);
  if (spec == def.deadlines.end() || armed == s.timers.end() || armed->second != cmd.timer_due) {
    return std::vector<DecidedEvent>{};  // stale: fired already, cleared or re-armed
  }
  if (!HasPassed(cmd.timer_due, ctx.now)) return std::vector<DecidedEvent>{};  // not yet
  const DeadlineSpec& dl = *spec;
  const std::string due = FormatRfc3339(cmd.timer_due);
  nlohmann::json data = {{"deadline", dl.name}, {"due", due}};

  if (dl.schedule && dl.derived_periods) {
    auto schedule = ParseSchedule(s.fields.value(dl.field, nlohmann::json()), nullptr);
    if (!schedule || !schedule->recurring) {
      data["timers"]["fired"] = {dl.name};
      data["overdue"] = dl.name;
      return One(dl.event, std::move(data));
    }
    // The period that ends now began after the due instant before it (or at the series' start).
    std::optional<Timestamp> begun = schedule->start;
    for (auto t = NextDue(*schedule, cmd.timer_due - std::chrono::days(32));
         t && *t < cmd.timer_due; t = NextDue(*schedule, *t)) {
      begun = *t;
    }
    const std::uint32_t reports = ReportsWithin(s.fields, begun, cmd.timer_due);
    const bool met = reports >= schedule->min_count;
    if (begun) data["period_start"] = FormatRfc3339(*begun);
    data["reports"] = reports;
    data["min_count"] = schedule->min_count;
    if (auto next = NextDue(*schedule, cmd.timer_due)) {
      data["timers"]["set"][dl.name] = FormatRfc3339(*next);
    } else {
      data["timers"]["fired"] = {dl.name};
    }
    if (!met) data["overdue"] = dl.name;
    return One(met ? dl.period_met_event : dl.period_event, std::move(data));
  }

  if (dl.schedule) {
    auto period = std::find_if(s.periods.begin(), s.periods.end(),
                               [&](const Period& p) { return p.due == cmd.timer_due; });
    auto schedule = ParseSchedule(s.fields.value(dl.field, nlohmann::json()), nullptr);
    std::string type = schedule && schedule->recurring ? dl.period_event : dl.event;
    if (period != s.periods.end()) {
      data["period"] = period->number;
      data["periods"]["missed"] = {period->number};
    }
    std::optional<Timestamp> next;
    if (schedule && schedule->recurring) next = NextDue(*schedule, cmd.timer_due);
    if (next) {
      std::uint32_t number = s.periods.empty() ? 1 : s.periods.back().number + 1;
      data["periods"]["add"] = {{{"number", number}, {"due", FormatRfc3339(*next)}}};
      data["timers"]["set"][dl.name] = FormatRfc3339(*next);
    } else {
      data["timers"]["fired"] = {dl.name};
    }
    data["overdue"] = dl.name;
    return One(type, std::move(data));
  }

  if (!dl.to.empty()) {
    data["to"] = dl.to;
    PlanTimers(def, s.state, dl.to, nullptr, ctx.now, nlohmann::json::object(), s.fields, data);
  } else if (dl.repeat) {
    data["timers"]["set"][dl.name] = FormatRfc3339(cmd.timer_due + *dl.after);
    data["overdue"] = dl.name;
  } else {
    data["timers"]["fired"] = {dl.name};
    data["overdue"] = dl.name;
  }
  // Who an open round still waits for, when its deadline passes: whose overdue it is.
  const StateSpec* st = def.FindState(s.state);
  if (s.round && st != nullptr && st->round && Contains(dl.while_in, s.state)) {
    nlohmann::json pending = nlohmann::json::array();
    for (const auto& p : s.round->parties) {
      if (!p.acted) pending.push_back(p.org);
    }
    data["pending"] = std::move(pending);
  }
  return One(dl.event, std::move(data));
}

// The command's spec in the instance's state, if the actor may run it there: its role may, it is
// the participant the command names, and in a round it has not acted yet.
Result<const CommandSpec*> MayRun(const Definition& def, const InstanceState& s,
                                  const Command& cmd) {
  const CommandSpec* spec = def.FindCommand(cmd.name, s.state);
  if (spec == nullptr) {
    bool known = false, role_ever_allowed = false;
    for (const auto& c : def.commands) {
      if (c.name != cmd.name) continue;
      known = true;
      role_ever_allowed = role_ever_allowed || Contains(c.roles, cmd.actor.role);
    }
    if (known && !role_ever_allowed) {
      return Fail(ErrorCode::kForbidden, "role " + cmd.actor.role + " may not " + cmd.name);
    }
    // A command the workflow does not have is a bad request whatever the state (issue 20): 422
    // naming the field, not the 409 of a command that is not valid now.
    if (!known) {
      return Fail(ErrorCode::kValidationFailed, def.id + " has no command " + cmd.name,
                  {{"errors",
                    {{{"field", "command"},
                      {"message", "is not a command of " + def.id + " version " +
                                      std::to_string(def.version)}}}}});
    }
    return InvalidTransition(def, s, cmd.actor,
                             known ? cmd.name + " is not valid in state " + s.state
                                   : def.id + " has no command " + cmd.name);
  }
  if (!Contains(spec->roles, cmd.actor.role)) {
    return Fail(ErrorCode::kForbidden, "role " + cmd.actor.role + " may not " + cmd.name);
  }
  if (!MayAct(def, s, *spec, cmd.actor)) {
    if (Contains(spec->by, "round") && s.round) {
      for (const auto& p : s.round->parties) {
        if (p.org == cmd.actor.org && p.role == cmd.actor.role && p.acted) {
          return InvalidTransition(
              def, s, cmd.actor,
              cmd.actor.org + " has already acted in round " + std::to_string(s.round->number));
        }
      }
    }
    return Fail(ErrorCode::kForbidden,
                "organisation " + cmd.actor.org + " is not the participant who may " + cmd.name);
  }
  return spec;
}

// Seed 003: a report answers the oldest period not yet accepted; it was on time when it was
// submitted (the instance entered this state) by that period's due time and the period had not
// been marked missed already. `next` becomes the state to wait in while periods remain.
void AnswerSchedule(const Definition& def, const InstanceState& s, const CommandSpec* spec,
                    nlohmann::json& data, std::string& next) {
  auto oldest =
      std::find_if(s.periods.begin(), s.periods.end(), [](const Period& p) { return !p.accepted; });
  bool more = false;
  if (oldest != s.periods.end()) {
    data["periods"]["accepted"] = {
        {"number", oldest->number},
        {"on_time", !oldest->missed && s.stage_entered_at <= oldest->due}};
    more = std::any_of(oldest + 1, s.periods.end(), [](const Period& p) { return !p.accepted; });
    const bool latest = oldest + 1 == s.periods.end();
    auto dl = std::find_if(def.deadlines.begin(), def.deadlines.end(),
                           [&](const DeadlineSpec& d) { return d.name == spec->answers_schedule; });
    auto schedule = ParseSchedule(s.fields.value(dl->field, nlohmann::json()), nullptr);
    if (latest && schedule && schedule->recurring) {
      // Accepted before its due time: the next period opens now and the timer moves to it.
      if (auto due = NextDue(*schedule, oldest->due)) {
        data["periods"]["add"] = {{{"number", oldest->number + 1}, {"due", FormatRfc3339(*due)}}};
        data["timers"]["set"][dl->name] = FormatRfc3339(*due);
        more = true;
      }
    }
  }
  if (more) next = spec->to_while_periods_remain;
}

// Protocol reports (protocol_assignment v2, seed 003 "исполнительская дисциплина"). A submitted
// report is recorded in `fields.reports` as {"n", "at" (recorded), "letter_date", "letter_number",
// "attachments" (how many), "status": "pending"}; accepting or returning it settles the pending
// one. The letter's date is what on-time is judged by (ReportJudgedAt): it may not be in the
// future nor before the protocol's date. Accepting a report against a one-time deadline records
// whether it was on time: judged by its due instant, however late the review came.
Result<void> RecordReport(const Definition& def, const InstanceState& s, const CommandSpec& spec,
                          const Command& cmd, const DecideContext& ctx, nlohmann::json& data) {
  const nlohmann::json reports = ReportsOf(s.fields);
  if (spec.report == "submitted") {
    nlohmann::json entry = {{"n", reports.size() + 1}, {"at", FormatRfc3339(ctx.now)}};
    if (auto letter = cmd.payload.find("letter"); letter != cmd.payload.end()) {
      const std::string date = letter->value("date", "");
      auto day = ParseDate(date);
      auto protocol_day = ParseDate(s.fields.value("protocol_date", ""));
      std::string problem;
      if (!day) {
        problem = "must be a date like 2024-11-29";
      } else if (*day > MoscowDate(ctx.now)) {
        problem = "is in the future";
      } else if (protocol_day && *day < *protocol_day) {
        problem = "is before the protocol's date";
      }
      if (!problem.empty()) {
        return Fail(ErrorCode::kValidationFailed, "letter.date " + problem,
                    {{"errors", {{{"field", "letter.date"}, {"message", problem}}}}});
      }
      entry["letter_date"] = date;
      if (letter->contains("number")) entry["letter_number"] = (*letter)["number"];
    }
    if (auto files = cmd.payload.find("attachments"); files != cmd.payload.end()) {
      entry["attachments"] = files->size();
    }
    data["report"] = {{"submitted", std::move(entry)}};
    return {};
  }
  nlohmann::json settle = {{"settled", spec.report}};
  if (spec.report == "accepted") {
    const nlohmann::json* pending = nullptr;
    for (const auto& r : reports) {
      if (r.value("status", "") == "pending") pending = &r;
    }
    for (const DeadlineSpec& dl : def.deadlines) {
      if (!dl.schedule || !dl.derived_periods || pending == nullptr) continue;
      auto schedule = ParseSchedule(s.fields.value(dl.field, nlohmann::json()), nullptr);
      if (schedule && !schedule->recurring) {
        settle["on_time"] = !HasPassed(schedule->due, ReportJudgedAt(*pending));
        break;
      }
    }
    if (!settle.contains("on_time") && !s.fields.contains("deadline")) settle["on_time"] = true;
  }
  data["report"] = std::move(settle);
  return {};
}

// A multi-party step closes when its join rule holds (counting `given`, the actor's verdict now);
// the outcome follows from the verdicts. Nothing while the round stays open.
std::optional<DecidedEvent> CloseRound(const Definition& def, const InstanceState& s,
                                       const RoundSpec& round, const Command& cmd,
                                       const std::string& given, const DecideContext& ctx) {
  std::vector<std::pair<std::string, std::string>> verdicts;
  std::size_t acted = 0;
  for (const auto& p : s.round->parties) {
    if (p.acted) {
      ++acted;
      verdicts.emplace_back(p.org, p.verdict);
    } else if (p.org == cmd.actor.org && p.role == cmd.actor.role) {
      ++acted;
      verdicts.emplace_back(p.org, given);
    }
  }
  const std::size_t n = s.round->parties.size();
  const bool closes = round.join == "all"   ? acted == n
                      : round.join == "any" ? acted >= 1
                                            : acted >= std::min<std::size_t>(round.k, n);
  if (closes) {
    std::string to;
    for (const auto& rule : round.outcomes) {
      if (rule.all_equal.empty() ||
          std::all_of(verdicts.begin(), verdicts.end(),
                      [&](const auto& v) { return v.second == rule.all_equal; })) {
        to = rule.to;
        break;
      }
    }
    nlohmann::json closed;
    closed["closed_round"] = s.round->number;
    closed["verdicts"] = nlohmann::json::object();
    for (const auto& [org, verdict] : verdicts) closed["verdicts"][org] = verdict;
    closed["outcome"] = to;
    if (to != s.state) {
      closed["to"] = to;
      PlanTimers(def, s.state, to, nullptr, ctx.now, nlohmann::json::object(), s.fields, closed);
    }
    return DecidedEvent{round.event, std::move(closed)};
  }
  return std::nullopt;
}

Result<std::vector<DecidedEvent>> DecideAct(const Definition& def, const InstanceState& s,
                                            const Command& cmd, const DecideContext& ctx) {
  auto may = MayRun(def, s, cmd);
  if (!may) return std::unexpected(std::move(may.error()));
  const CommandSpec* spec = *may;
  if (!ScheduleAllows(def, s, *spec)) {
    return InvalidTransition(def, s, cmd.actor,
                             cmd.name + " does not apply to this assignment's deadline");
  }
  auto errors = ValidatePayload(spec->payload, cmd.payload, spec->partial, ctx.directory, ctx.now);
  if (!errors.empty()) return ValidationFailed(errors);
  if (!spec->check.empty()) {
    auto check = ctx.routing.find(spec->check);
    if (check == ctx.routing.end()) {
      return Fail(ErrorCode::kInternal,
                  "workflow " + def.id + " names unknown check " + spec->check);
    }
    const nlohmann::json fields = s.fields.ToJson();
    auto judged = check->second(RoutingInput{
        ctx.directory,
        cmd.actor.org,
        cmd.actor.role,
        cmd.payload,
        s.id,
        &fields,
        spec->name,
        &s,
    });
    if (!judged) return std::unexpected(std::move(judged.error()));
  }

  std::vector<DecidedEvent> out;
  nlohmann::json data;
  data["payload"] = cmd.payload;
  if (!spec->list_field.empty()) {
    data["list"] = {{"field", spec->list_field},
                    {spec->list_op, cmd.payload.at(spec->list_item).get<std::string>()}};
  }
  if (spec->update_fields) data["update_fields"] = true;
  if (!spec->assigns.empty()) data["assign"] = {{spec->assigns, cmd.actor.org}};

  std::string next = spec->to;
  if (!spec->to_field.empty())
    next = spec->to_cases.at(cmd.payload.at(spec->to_field).get<std::string>());

  if (!spec->answers_schedule.empty()) AnswerSchedule(def, s, spec, data, next);
  if (!spec->while_armed_deadline.empty() && s.timers.contains(spec->while_armed_deadline)) {
    next = spec->to_while_armed;
  }
  if (!spec->report.empty()) {
    if (auto recorded = RecordReport(def, s, *spec, cmd, ctx, data); !recorded) {
      return std::unexpected(std::move(recorded.error()));
    }
  }

  if (!spec->vote_field.empty()) {
    data["vote"] = {{"org", cmd.actor.org},
                    {"verdict", cmd.payload.at(spec->vote_field).get<std::string>()}};
  } else if (Contains(spec->by, "round")) {
    data["vote"] = {{"org", cmd.actor.org}, {"verdict", ""}};
  }

  const bool moves = !next.empty() && next != s.state;
  if (!moves && def.max_commands_per_state > 0 &&
      s.version - s.state_entered_version >= def.max_commands_per_state) {
    return InvalidTransition(def, s, cmd.actor,
                             std::to_string(s.version - s.state_entered_version) +
                                 " events in state " + s.state + " reach the limit of " +
                                 std::to_string(def.max_commands_per_state) + " of " + def.id +
                                 ": only a command that moves it on is taken");
  }
  if (moves) {
    data["to"] = next;
    PlanTimers(def, s.state, next, nullptr, ctx.now, cmd.payload, s.fields, data);
  } else {
    PlanTimers(def, s.state, s.state, &spec->name, ctx.now, cmd.payload, s.fields, data, &s.timers);
  }
  if (!spec->opens_round.empty()) {
    data["round"] = {
        {"number", s.rounds + 1},
        {"parties", RoundParties(def, spec->opens_round, cmd.payload, s.participants)}};
  }
  out.push_back({spec->event, std::move(data)});

  const StateSpec* st = def.FindState(s.state);
  if (s.round && Contains(spec->by, "round") && !moves && st != nullptr && st->round) {
    if (auto closed = CloseRound(def, s, *st->round, cmd,
                                 out.front().data["vote"]["verdict"].get<std::string>(), ctx))
      out.push_back(std::move(*closed));
  }
  return out;
}

}  // namespace

Result<std::vector<DecidedEvent>> Decide(const InstanceState* current, const Command& command,
                                         const DecideContext& context) {
  if (command.kind == Command::Kind::kCreate) {
    if (current != nullptr) {
      // An instance named by its payload (an organisation, a group): the id is the client's,
      // and its second use is bad input on that field, not a race.
      const Definition* named =
          context.definitions.Find(current->workflow, current->workflow_version);
      if (named != nullptr && !named->id_from.empty()) {
        return Fail(ErrorCode::kValidationFailed, named->id_from + " exists already",
                    {{"errors", {{{"field", named->id_from}, {"message", "exists already"}}}}});
      }
      return Fail(ErrorCode::kVersionConflict, StreamOf(command) + " exists");
    }
    return DecideCreate(command, context);
  }
  if (current == nullptr) return Fail(ErrorCode::kNotFound, "no instance " + StreamOf(command));
  const Definition* def = context.definitions.Find(current->workflow, current->workflow_version);
  if (def == nullptr) {
    return Fail(ErrorCode::kInternal, "workflow " + current->workflow + " v" +
                                          std::to_string(current->workflow_version) +
                                          " is not loaded");
  }
  if (command.kind == Command::Kind::kFireTimer)
    return DecideFire(*def, *current, command, context);
  const StateSpec* state = def->FindState(current->state);
  if (state == nullptr) {
    // Only a store written by something other than this engine holds such a state (an import
    // refuses it, the live path never decides it): refuse, never dereference.
    return Fail(ErrorCode::kInternal, "the instance is in state " + current->state + ", which " +
                                          def->id + " v" + std::to_string(def->version) +
                                          " does not define");
  }
  if (state->terminal) {
    return InvalidTransition(*def, *current, command.actor,
                             "the instance is closed (state " + current->state + ")");
  }
  return DecideAct(*def, *current, command, context);
}

}  // namespace expertflow::engine
