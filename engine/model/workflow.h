#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/time.h"

namespace expertflow::engine {

// A workflow definition is data (DESIGN.md, "Workflow definitions are data"): one JSON file per
// workflow version, loaded and checked here, interpreted by decide/evolve. The file format is
// documented in workflows/README.md; this header is its in-memory form.

// One payload field and the checks it gets (types, enums, length and count bounds).
struct FieldSpec {
  std::string name;
  // "string", "text" (long string), "integer", "boolean", "date" ("2024-12-28"), "datetime"
  // (RFC 3339), "org" (an organisation id, optionally of `org_kind`), "ugps" ("09.00.00"),
  // "array", "object", "deadline" (a protocol deadline: {"due"} or {"recurring"}).
  std::string type;
  bool required = false;
  std::vector<std::string> enum_values;
  std::size_t min_length = 0;
  std::size_t max_length = 0;  // 0: the type's default bound
  std::size_t min_items = 0;
  std::size_t max_items = 0;   // 0: the type's default bound
  std::string org_kind;        // for "org": the kind the organisation must be
  bool not_in_future = false;  // for "date": not after today (Moscow)
  int min_days_ahead = -1;     // for "date": at least this many calendar days after the command
  std::optional<long long> minimum;  // for "integer"
  std::optional<long long> maximum;
  std::vector<FieldSpec> items;       // for "array": exactly one element, the item's spec
  std::vector<FieldSpec> properties;  // for "object"
};

// Where the parties of a multi-party step come from: organisation ids listed in the payload at a
// JSON pointer (each acting in `role`), or an instance participant.
struct PartySource {
  std::string payload_pointer;  // e.g. "/experts/fumo"
  std::string role;             // with payload_pointer; with a participant: one of its roles
  std::string participant;      // or: a participant slot, e.g. "irpo" (in its first role)
};

struct CommandSpec {
  std::string name;               // wire name, imperative: "send_to_expertise"
  std::vector<std::string> from;  // states it is valid in (empty for create)
  std::vector<std::string> roles;
  // Who may act, besides the role: participant slots ("umc"), or "round" for the parties of the
  // open multi-party step who have not acted yet in it.
  std::vector<std::string> by;
  std::string to;  // next state; empty: stays (or the round decides)
  // The next state chosen by a payload value: {"field": "outcome", "cases": {"successful": ...}}.
  std::string to_field;
  std::map<std::string, std::string> to_cases;
  // For a command that answers a period of a schedule deadline (protocol reports): the deadline's
  // name, and the state to go to while periods remain (`to` is the state once all are answered).
  std::string answers_schedule;
  std::string to_while_periods_remain;
  // "while_armed": {"deadline": D, "to": S}: while deadline D is armed (a recurring schedule still
  // runs) the command goes to S instead of `to` (protocol_assignment v2: an accepted report of a
  // weekly deadline waits for the next period; of a one-time deadline it is done).
  std::string while_armed_deadline;
  std::string to_while_armed;
  // "report": "submitted" | "accepted" | "returned": the command records a report on the
  // instance's list `fields.reports` (protocol_assignment v2), or settles the pending one. See
  // decide.cc, RecordReport, for what an entry holds.
  std::string report;
  // "only_if_schedule": D: the command is valid only when the field of schedule deadline D holds
  // a schedule of the kind D applies to (end_schedule: a recurring one).
  std::string only_if_schedule;
  std::string event;  // the event it appends, past tense
  // "check": a routing function of the table that judges the command against the reference data
  // as decided (RoutingInput's act form): reference data commands (issue 15).
  std::string check;
  // "list": {"field": F, "op": "add"|"remove", "item": P}: the payload's string P is added to or
  // removed from the instance's list `fields.F` (a group's members).
  std::string list_field;
  std::string list_op;
  std::string list_item;
  std::vector<FieldSpec> payload;
  bool update_fields = false;  // merges the payload into the instance's fields
  bool partial = false;        // payload fields are all optional (an update)
  std::vector<PartySource> opens_round;
  std::string vote_field;  // for a round command: the payload field holding the verdict
  std::string assigns;     // records the actor's organisation in this participant slot
};

// How a multi-party step closes: all parties / any one / k of n have acted; then the first rule
// whose condition holds gives the next state (an empty `all_equal` always holds).
struct OutcomeRule {
  std::string all_equal;
  std::string to;
};

struct RoundSpec {
  std::string command;       // the command parties act with
  std::string join = "all";  // "all", "any", or "k_of_n"
  std::uint32_t k = 0;
  std::vector<OutcomeRule> outcomes;
  std::string event;  // appended when the step closes
};

struct StateSpec {
  std::string name;
  std::string stage;
  bool terminal = false;
  std::optional<RoundSpec> round;
};

// A deadline runs while the instance is in one of `while_in`: armed on entering that set (or on
// creation), cleared on leaving it. When it passes, the system appends `event` and, with `to`,
// moves the instance. The due time is `after` the arming, or a date taken from payload `field`;
// a "schedule" field (protocol deadlines) may be one date or a recurring series of periods.
struct DeadlineSpec {
  std::string name;
  std::vector<std::string> while_in;
  std::optional<Duration> after;
  std::string field;
  bool schedule = false;
  std::string event;         // appended when it passes
  std::string period_event;  // schedules: appended for each period that passes unanswered
  std::string to;            // optional: the state it moves the instance to
  bool repeat = false;       // re-armed `after` later each time it passes
  std::vector<std::string> restart_on;  // commands that re-arm it from their own time
  // "restart_from": F: a restarting command re-arms it `after` the end of the Moscow day its
  // payload date F names, not its own time (agreement v2: the yearly meeting counts from the
  // meeting's date, seed 000 annex 2 §3.3).
  std::string restart_from;
  // "extend_on": [C], "extend_to": F: command C (one that stays in the state) moves the armed
  // deadline to the end of the Moscow day its payload date F names, when that is later than the
  // due time armed (never earlier); a deadline that has passed already is armed again for that
  // day. An expert's extension granted by the UMC (industry_proposal v2, issue 16).
  std::vector<std::string> extend_on;
  std::string extend_to;
  // "after_parameter": P: `after` is the value of the definition's parameter P (a norm whose
  // value and source the definition states, not a term of the regulations).
  std::string after_parameter;
  // Schedules: "once" or "recurring" arms it only for a schedule of that kind ("" for both).
  std::string applies_to;
  // Schedules, "periods": "derived" (protocol_assignment v2): no period list in the events; a
  // period is met or missed by the reports recorded in `fields.reports` (discipline.h), and the
  // timer only tells it live. A due instant already past when the instance is created is not
  // armed (a protocol registered after its date appends no flood of misses), and the series is
  // not refused when it has no instant left.
  bool derived_periods = false;
  std::string period_met_event;  // derived recurring: appended for a period that was met
};

struct Definition {
  std::string id;  // "industry_proposal"
  std::uint32_t version = 1;
  std::string collection;  // "proposals"
  nlohmann::json title = nlohmann::json::object();
  std::string source;   // the seed sections it encodes
  std::string routing;  // the named routing function that fills the participants
  // "id_from": P: a new instance's id is the creation payload's string P, not a generated one
  // (an organisation's or a group's id, issue 15); a second creation with it is a 422 on P.
  std::string id_from;
  std::map<std::string, std::vector<std::string>> participants;  // slot -> roles acting in it
  CommandSpec create;  // name "create"; `to` is the initial state
  std::vector<StateSpec> states;
  std::vector<CommandSpec> commands;
  std::vector<DeadlineSpec> deadlines;
  // "limits": {"commands_per_state": N}: at most N events in one state before a command that
  // stays in it is refused (commands that move on still go). 0: no limit. A draft updated
  // 120,000 times is abuse, not work, and its history costs every reader.
  std::uint32_t max_commands_per_state = 0;
  // "parameters": {P: {"value": V, "source": S, "note": N}}: named values the definition uses
  // (a deadline's `after_parameter`), each with where it comes from: an IRPO working norm is
  // not a regulation, and the definition says which it is (issue 16).
  nlohmann::json parameters = nlohmann::json::object();
  nlohmann::json document;  // the definition as loaded, for GET /workflows/{id}

  const StateSpec* FindState(std::string_view name) const;
  // The command valid in `state` under that name (a name may have one spec per state).
  const CommandSpec* FindCommand(std::string_view name, std::string_view state) const;
  // Command names valid in `state`, in definition order, without duplicates.
  std::vector<std::string> CommandsIn(std::string_view state) const;
};

// Parses and checks a definition; refuses a bad one with a message naming what is wrong
// (kValidationFailed).
Result<Definition> LoadDefinition(std::string_view json_text);

// All loaded definitions, by id and version.
class DefinitionSet {
 public:
  // Refuses a second definition with the same id and version, or a collection clash.
  Result<void> Add(Definition definition);
  const Definition* Find(std::string_view id, std::uint32_t version) const;
  const Definition* Latest(std::string_view id) const;
  // The workflows whose instances live in `collection`, latest versions only.
  std::vector<const Definition*> InCollection(std::string_view collection) const;
  std::vector<const Definition*> All() const;  // every version

 private:
  std::map<std::pair<std::string, std::uint32_t>, std::shared_ptr<const Definition>, std::less<>>
      by_id_;
};

}  // namespace expertflow::engine
