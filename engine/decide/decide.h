#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/decide/policy.h"
#include "engine/model/directory.h"
#include "engine/model/instance.h"
#include "engine/model/workflow.h"

namespace expertflow::engine {

// A request to change one instance: create it, act on it, or (the system) fire one of its timers.
struct Command {
  enum class Kind { kCreate, kAct, kFireTimer };
  Kind kind = Kind::kAct;
  std::string collection;   // "proposals"
  std::string instance_id;  // for kCreate: the id the new instance gets
  std::string workflow;     // kCreate: may be empty where the collection has one workflow
  // kCreate: the definition version to create on; 0 for the newest. An import pins the version
  // the recorded creation names.
  std::uint32_t workflow_version = 0;
  std::string name;         // the command's wire name; "create" for kCreate
  nlohmann::json payload = nlohmann::json::object();
  std::optional<std::uint64_t> expected_version;
  Principal actor;
  std::string timer;  // kFireTimer: the deadline's name and the due time it was armed for
  Timestamp timer_due{};
};

// What decide sees besides the instance: the time, the definitions and the reference data.
struct DecideContext {
  Timestamp now{};
  const DefinitionSet& definitions;
  const Directory& directory;
  const RoutingTable& routing;
};

// An event decided but not yet in the log. `data` carries the event's business content
// ("payload") and its effects on the instance, which `Evolve` applies:
//   "created": {id, collection, workflow, workflow_version, participants, by}
//   "update_fields": true, the payload merges into fields  "to": the next state
//   "assign": {slot: org}                                 "round": {number, parties} opened
//   "vote": {org, verdict}                                "closed_round": number
//   "timers": {"set": {name: due}, "clear": [..], "fired": [..]}
//   "overdue": deadline name                              "periods": {add, missed, accepted}
struct DecidedEvent {
  std::string type;
  nlohmann::json data;
};

// The pure decision (Zeebe's processors): reads the instance, never changes it. A rejection is a
// value with a code of API.md; nothing follows from it. `current` is null for kCreate. A timer
// that no longer matches the instance decides no events (it fired already or was re-armed).
Result<std::vector<DecidedEvent>> Decide(const InstanceState* current, const Command& command,
                                         const DecideContext& context);

}  // namespace expertflow::engine
