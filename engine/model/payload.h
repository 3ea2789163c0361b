#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/time.h"
#include "engine/model/directory.h"
#include "engine/model/workflow.h"

namespace expertflow::engine {

// Checks a command payload against its field specs: required fields, types, enums, length and
// count bounds, organisation references, dates; unknown fields are refused too, so a typo never
// passes silently. `partial` makes every field optional (an update). Returns every problem found.
std::vector<FieldError> ValidatePayload(const std::vector<FieldSpec>& spec,
                                        const nlohmann::json& payload, bool partial,
                                        const Directory& directory, Timestamp now);

// A protocol deadline as a payload gives it (API.md, Protocols): one due time, or a recurring
// series ("every week on monday at 12:00 until 2024-12-28", "every day at 18:00").
struct ScheduleSpec {
  bool recurring = false;
  Timestamp due{};  // one-time
  bool weekly = false;
  std::chrono::weekday weekday{};
  Duration time_of_day{};
  std::optional<Timestamp> until;
};

// Parses a "deadline" field; nullopt with `error` set when it is not one.
std::optional<ScheduleSpec> ParseSchedule(const nlohmann::json& value, std::string* error);

// The first due instant of a schedule strictly after `after`, if it is not past `until`.
std::optional<Timestamp> NextDue(const ScheduleSpec& schedule, Timestamp after);

}  // namespace expertflow::engine
