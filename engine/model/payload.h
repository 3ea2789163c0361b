#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/time.h"
#include "engine/model/directory.h"
#include "engine/model/workflow.h"
#include "engine/model/fields.h"

namespace expertflow::engine {

// An enlarged group code as the current list writes it: "09.00.00".
bool IsUgpsCode(const std::string& s);

// Checks a command payload against its field specs: required fields, types, enums, length and
// count bounds, organisation references, dates; unknown fields are refused too, so a typo never
// passes silently. `partial` makes every field optional (an update). Returns every problem found.
std::vector<FieldError> ValidatePayload(const std::vector<FieldSpec>& spec,
                                        const nlohmann::json& payload, bool partial,
                                        const Directory& directory, Timestamp now);

// A protocol deadline as a payload gives it (API.md, Protocols; seeds 002 and 003):
//   {"due": "2024-12-28"}                     the end of that Moscow day (seed 002: "до 28
//   декабря")
//   {"due": "2023-07-07", "time": "12:00"}    a date and a Moscow time (seed 003 IV.2.4:
//                                             "не позднее 12:00 (МСК) 07 июля 2023 г.")
//   {"due": "2023-08-20T06:00:00Z"}           an RFC 3339 instant
//   {"recurring": {"every": "week"|"day"|"month", "weekday": "monday" (week; default sunday),
//                  "day": 1..31 (month; a shorter month uses its last day), "time": "HH:MM"
//                  (default: the end of the day), "start": DATE, "until": DATE,
//                  "min_count": N (reports in each period, default 1: seed 003 IV.2.2
//                  "не менее 3 х в неделю")}}
// A recurring schedule's periods begin at the start of its `start` day (the protocol's date when
// the protocol does not name one); the last due instant is the last one not after `until`.
struct ScheduleSpec {
  enum class Every { kDay, kWeek, kMonth };
  bool recurring = false;
  Timestamp due{};  // one-time
  Every every = Every::kWeek;
  bool weekly = false;  // every == kWeek
  std::chrono::weekday weekday = std::chrono::Sunday;
  unsigned day_of_month = 1;
  Duration time_of_day = kEndOfDay;
  std::optional<Timestamp> start;  // 00:00 Moscow of the start date
  std::optional<Timestamp> until;  // the end of the until date (Moscow)
  unsigned min_count = 1;
};

// Parses a "deadline" field; nullopt with `error` set when it is not one.
std::optional<ScheduleSpec> ParseSchedule(const nlohmann::json& value, std::string* error);

// The first due instant of a schedule strictly after `after` (and, recurring, not before its
// start), if it is not past `until`.
std::optional<Timestamp> NextDue(const ScheduleSpec& schedule, Timestamp after);

// The instant a protocol report (an entry of fields.reports, decide.cc RecordReport) is judged
// on time by: when it was recorded, or — for a report entered after the fact — the end of the
// Moscow day its letter is dated, whichever is earlier. A letter dated on the due day of a noon
// deadline and entered that morning is on time; entered a week later it counts as sent by the end
// of its day.
Timestamp ReportJudgedAt(const nlohmann::json& report);

// The instance's recorded reports (`fields.reports`), or an empty list.
nlohmann::json ReportsOf(const Fields& fields);

// The judged instants of the reports that count — every one not returned — in order: what a
// period of a recurring deadline is met by (decide.cc when its timer fires, discipline.cc).
std::vector<Timestamp> CountedReportTimes(const nlohmann::json& reports);

// The due instants of a recurring schedule from its first period through `through` (inclusive),
// at most `cap` of them (a daily schedule over decades is bounded by the caller).
std::vector<Timestamp> DueInstants(const ScheduleSpec& schedule, Timestamp through,
                                   std::size_t cap);

}  // namespace expertflow::engine
