#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/model/instance.h"
#include "engine/model/workflow.h"

namespace expertflow::engine {

// Who is calling: an organisation and the one role its token carries (API.md).
struct Principal {
  std::string org;
  std::string role;
  std::string token_id;
};

// The system acting on its own (timers): API.md, Events.
Principal SystemPrincipal();

// Organisations that see every instance: irpo, ministry, and auditor or admin principals.
bool SeesEverything(const Principal& p);

// API.md: an instance is visible to the organisations among its participants (and the parties of
// its open round), and to those that see everything. For anyone else it does not exist.
bool CanSee(const InstanceState& instance, const Principal& p);

// The authorization rule of API.md for a command valid in the instance's state: the caller's
// role is among the command's roles AND the caller's organisation is the instance's participant
// in that role — a participant slot named in the command's "by" whose roles include it, or a
// party of the open round that has not acted yet.
bool MayAct(const Definition& def, const InstanceState& instance, const CommandSpec& command,
            const Principal& p);

// Whether a command limited to one kind of schedule ("only_if_schedule") applies to the
// instance's deadline as it stands.
bool ScheduleAllows(const Definition& def, const InstanceState& instance,
                    const CommandSpec& command);

// The command names `p` may send now, in definition order.
std::vector<std::string> AllowedCommands(const Definition& def, const InstanceState& instance,
                                         const Principal& p);

// Who is awaited: [{"org": ..., "commands": [...]}], organisations in order of first mention.
nlohmann::json Awaiting(const Definition& def, const InstanceState& instance);

// The nearest armed deadline, if any.
std::optional<Timestamp> NextDeadline(const InstanceState& instance);

// The instance view of API.md, for `viewer` (who gets `allowed_commands`).
nlohmann::json InstanceView(const Definition& def, const InstanceState& instance,
                            const Principal* viewer);

}  // namespace expertflow::engine
